/*
 * leasemgr.c
 *     Module entry point and the infrastructure the domain files share: the leasemgr.actor
 *     setting, relation lookup, and the append path of the log tables.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/genam.h"
#include "access/tableam.h"
#include "catalog/index.h"
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

PG_FUNCTION_INFO_V1(current_actor);

/* current_actor() RETURNS text: what the audit trail records as the person. */
Datum
current_actor(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(lm_current_actor()));
}

void
lm_appender_init(LmAppender *a, const char *relname, const char *const *colnames, int ncols,
				 MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	Relation	rel;
	TupleDesc	desc;
	List	   *indexes;
	ListCell   *lc;
	int			i;

	a->relid = lm_relid(relname);
	a->seqid = lm_relid(psprintf("%s_id_seq", relname));

	/*
	 * The caller fills rows by position; make sure the table is the one it was written for,
	 * so a changed table definition is an error instead of a row with columns swapped.
	 */
	rel = table_open(a->relid, AccessShareLock);
	desc = RelationGetDescr(rel);
	if (desc->natts != ncols)
		elog(ERROR, "%s has %d columns, the C code writes %d", relname, desc->natts, ncols);
	for (i = 0; i < ncols; i++)
	{
		if (strcmp(NameStr(TupleDescAttr(desc, i)->attname), colnames[i]) != 0)
			elog(ERROR, "column %d of %s is \"%s\", the C code writes \"%s\"", i + 1, relname,
				 NameStr(TupleDescAttr(desc, i)->attname), colnames[i]);
	}
	a->slot = MakeSingleTupleTableSlot(CreateTupleDescCopy(desc), &TTSOpsVirtual);

	/*
	 * What each index needs, worked out once per statement. The logs' indexes are plain
	 * column indexes; anything else would need an executor state per row.
	 */
	indexes = RelationGetIndexList(rel);
	a->nindexes = list_length(indexes);
	a->indexes = palloc(sizeof(Oid) * Max(a->nindexes, 1));
	a->index_info = palloc(sizeof(IndexInfo *) * Max(a->nindexes, 1));
	i = 0;
	foreach(lc, indexes)
	{
		Relation	irel = index_open(lfirst_oid(lc), AccessShareLock);
		IndexInfo  *info = BuildIndexInfo(irel);

		if (info->ii_Expressions != NIL || info->ii_Predicate != NIL || info->ii_ExclusionOps)
			elog(ERROR, "index %s of %s is not a plain column index", RelationGetRelationName(irel),
				 relname);
		a->indexes[i] = lfirst_oid(lc);
		a->index_info[i] = info;
		index_close(irel, AccessShareLock);
		i++;
	}
	table_close(rel, AccessShareLock);
	MemoryContextSwitchTo(old);
}

/*
 * Relations are opened and closed for every row, not held for the statement: a held
 * relcache reference would have to be released on every path out of the statement,
 * subtransaction aborts included, and the opens are cheap (the lock is already ours).
 */
void
lm_append(LmAppender *a, Datum *values, bool *nulls)
{
	Relation	rel = table_open(a->relid, RowExclusiveLock);
	TupleTableSlot *slot = a->slot;
	int			i;

	values[0] = Int64GetDatum(nextval_internal(a->seqid, false));
	nulls[0] = false;

	ExecClearTuple(slot);
	memcpy(slot->tts_values, values, sizeof(Datum) * slot->tts_tupleDescriptor->natts);
	memcpy(slot->tts_isnull, nulls, sizeof(bool) * slot->tts_tupleDescriptor->natts);
	ExecStoreVirtualTuple(slot);
	simple_table_tuple_insert(rel, slot);

	for (i = 0; i < a->nindexes; i++)
	{
		Relation	irel = index_open(a->indexes[i], RowExclusiveLock);
		IndexInfo  *info = a->index_info[i];
		Datum		ivalues[INDEX_MAX_KEYS];
		bool		inulls[INDEX_MAX_KEYS];

		/* Access methods may cache state tied to this open of the index (BRIN does). */
		info->ii_AmCache = NULL;
		FormIndexDatum(info, slot, NULL, ivalues, inulls);
		index_insert(irel, ivalues, inulls, &slot->tts_tid, rel,
					 irel->rd_index->indisunique ? UNIQUE_CHECK_YES : UNIQUE_CHECK_NO,
					 false, info);
		index_close(irel, NoLock);
	}
	ExecClearTuple(slot);
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
