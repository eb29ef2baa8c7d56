/*
 * leasemgr.c
 *     Module entry point and the infrastructure the domain files share: the leasemgr.actor
 *     setting, relation lookup, and the append path of the log tables.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "tcop/pquery.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

#include "leasemgr.h"

PG_MODULE_MAGIC;

char	   *lm_actor = NULL;

void		_PG_init(void);

/*
 * The actor names a person, not a role: an e-mail, an employee number. Keep it printable
 * and short enough to read in an audit report.
 */
static bool
check_actor(char **newval, void **extra, GucSource source)
{
	const unsigned char *p;

	if (*newval == NULL)
		return true;
	if (strlen(*newval) > 200)
	{
		GUC_check_errdetail("leasemgr.actor is limited to 200 bytes.");
		return false;
	}
	for (p = (const unsigned char *) *newval; *p; p++)
	{
		if (*p < 0x20 || *p == 0x7f)
		{
			GUC_check_errdetail("leasemgr.actor must not contain control characters.");
			return false;
		}
	}
	return true;
}

void
_PG_init(void)
{
	/*
	 * PGC_SUSET: the actor decides who may approve what (four-eyes), so only superusers and
	 * the roles a DBA grants it to (GRANT SET ON PARAMETER leasemgr.actor TO app_login) may
	 * assert it. Everyone else acts as their own login.
	 */
	DefineCustomStringVariable("leasemgr.actor",
							   "The person the application acts for in this session or transaction.",
							   "Recorded in the audit trail and used by the four-eyes rule. "
							   "Empty means the session user.",
							   &lm_actor,
							   "",
							   PGC_SUSET,
							   0,
							   check_actor, NULL, NULL);

	MarkGUCPrefixReserved("leasemgr");
}

const char *
lm_current_actor(void)
{
	if (lm_actor != NULL && lm_actor[0] != '\0')
		return lm_actor;
	return GetUserNameFromId(GetSessionUserId(), false);
}

Oid
lm_relid(const char *relname)
{
	Oid			nsp = get_namespace_oid(LM_SCHEMA, false);
	Oid			relid = get_relname_relid(relname, nsp);

	if (!OidIsValid(relid))
		elog(ERROR, "relation \"%s.%s\" is missing: is the leasemgr extension installed?",
			 LM_SCHEMA, relname);
	return relid;
}

int64
lm_nextval(const char *seqname)
{
	return nextval_internal(lm_relid(seqname), false);
}

PG_FUNCTION_INFO_V1(current_actor);

/* current_actor() RETURNS text: what the audit trail records as the person. */
Datum
current_actor(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(lm_current_actor()));
}

/*
 * The C code fills log rows by position; make sure the table it writes is the one it was
 * written for (checked once per relation and backend), so a changed table definition is an
 * error instead of a row with columns swapped.
 */
static void
check_log_columns(Relation rel, const char *const *colnames, int ncols)
{
	static Oid	checked[8];
	static int	nchecked = 0;
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;

	for (i = 0; i < nchecked; i++)
	{
		if (checked[i] == RelationGetRelid(rel))
			return;
	}
	if (desc->natts != ncols)
		elog(ERROR, "%s has %d columns, the C code writes %d",
			 RelationGetRelationName(rel), desc->natts, ncols);
	for (i = 0; i < ncols; i++)
	{
		if (strcmp(NameStr(TupleDescAttr(desc, i)->attname), colnames[i]) != 0)
			elog(ERROR, "column %d of %s is \"%s\", the C code writes \"%s\"", i + 1,
				 RelationGetRelationName(rel), NameStr(TupleDescAttr(desc, i)->attname),
				 colnames[i]);
	}
	if (nchecked < (int) lengthof(checked))
		checked[nchecked++] = RelationGetRelid(rel);
}

void
lm_append_row(Oid relid, const char *const *colnames, int ncols, Datum *values, bool *nulls)
{
	Relation	rel = table_open(relid, RowExclusiveLock);
	ResultRelInfo *rri = makeNode(ResultRelInfo);
	EState	   *estate = CreateExecutorState();
	TupleTableSlot *slot;

	check_log_columns(rel, colnames, ncols);
	InitResultRelInfo(rri, rel, 1, NULL, 0);
	ExecOpenIndices(rri, false);

	slot = ExecInitExtraTupleSlot(estate, RelationGetDescr(rel), &TTSOpsVirtual);
	ExecClearTuple(slot);
	memcpy(slot->tts_values, values, sizeof(Datum) * RelationGetDescr(rel)->natts);
	memcpy(slot->tts_isnull, nulls, sizeof(bool) * RelationGetDescr(rel)->natts);
	ExecStoreVirtualTuple(slot);

	simple_table_tuple_insert(rel, slot);
	if (rri->ri_NumIndices > 0)
		list_free(ExecInsertIndexTuples(rri, slot, estate, false, false, NULL, NIL));

	ExecCloseIndices(rri);
	ExecResetTupleTable(estate->es_tupleTable, false);
	FreeExecutorState(estate);
	table_close(rel, NoLock);
}

bool
lm_is_owner_copy(Relation rel)
{
	return ActivePortal != NULL &&
		ActivePortal->commandTag == CMDTAG_COPY &&
		pg_class_ownercheck(RelationGetRelid(rel), GetUserId());
}

void
lm_check_trigger(FunctionCallInfo fcinfo, const char *funcname, bool row_level, bool before)
{
	TriggerData *td = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" was not called by trigger manager", funcname)));
	if (row_level != (bool) TRIGGER_FIRED_FOR_ROW(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" must be fired %s", funcname,
						row_level ? "for each row" : "for each statement")));
	if (before != (bool) TRIGGER_FIRED_BEFORE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" must be fired %s", funcname,
						before ? "BEFORE" : "AFTER")));
}

int
lm_attnum(Relation rel, const char *colname)
{
	int			attnum = SPI_fnumber(RelationGetDescr(rel), colname);

	if (attnum <= 0)
		elog(ERROR, "column \"%s\" is missing from \"%s\"", colname,
			 RelationGetRelationName(rel));
	return attnum;
}
