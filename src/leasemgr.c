/*
 * leasemgr.c
 *     Module entry point and the infrastructure the domain files share: the settings
 *     (leasemgr.actor, leasemgr.timezone), relation lookup, the restore-path test, and the
 *     append path of the log tables.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
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
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"
#include "tcop/pquery.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "leasemgr.h"
#include "meter.h"

PG_MODULE_MAGIC;

char	   *lm_actor = NULL;
char	   *lm_timezone = NULL;

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

static bool
check_timezone(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || pg_tzset(*newval) == NULL)
	{
		GUC_check_errdetail("\"%s\" is not a time zone PostgreSQL knows (see pg_timezone_names).",
							*newval ? *newval : "");
		return false;
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

	/*
	 * The business day is the operator's, not the session's: a client could otherwise move
	 * "today" by a day with SET TimeZone and activate or expire a lease early.
	 */
	DefineCustomStringVariable("leasemgr.timezone",
							   "Time zone of the operator's business day.",
							   "Date guards (activation, expiry, termination defaults, birth dates) "
							   "compare against today in this zone, whatever the session's TimeZone.",
							   &lm_timezone,
							   "Asia/Shanghai",
							   PGC_SUSET,
							   0,
							   check_timezone, NULL, NULL);

	MarkGUCPrefixReserved("leasemgr");
}

const char *
lm_current_actor(void)
{
	if (lm_actor != NULL && lm_actor[0] != '\0')
		return lm_actor;
	return GetUserNameFromId(GetSessionUserId(), false);
}

void
lm_local_tm(TimestampTz t, struct pg_tm *tm, fsec_t *fsec)
{
	pg_tz	   *tz = pg_tzset(lm_timezone);
	int			tzoff;

	if (tz == NULL || timestamp2tm(t, &tzoff, tm, fsec, NULL, tz) != 0)
		elog(ERROR, "could not compute the time in time zone \"%s\"", lm_timezone);
}

DateADT
lm_local_date(TimestampTz t)
{
	struct pg_tm tm;
	fsec_t		fsec;

	lm_local_tm(t, &tm, &fsec);
	return date2j(tm.tm_year, tm.tm_mon, tm.tm_mday) - POSTGRES_EPOCH_JDATE;
}

DateADT
lm_business_date(void)
{
	return lm_local_date(GetCurrentTransactionStartTimestamp());
}

PG_FUNCTION_INFO_V1(business_date);

/* business_date() RETURNS date: today in leasemgr.timezone. */
Datum
business_date(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATEADT(lm_business_date());
}

PG_FUNCTION_INFO_V1(local_date);

/*
 * local_date(t timestamptz) RETURNS date: the day a moment falls on in leasemgr.timezone. For
 * SQL that needs the operator's days: calling it loads the library, so the setting exists.
 */
Datum
local_date(PG_FUNCTION_ARGS)
{
	TimestampTz t = PG_GETARG_TIMESTAMPTZ(0);

	if (TIMESTAMP_NOT_FINITE(t))
		ereport(ERROR,
				(errcode(ERRCODE_LM_INVALID_ARGUMENT),
				 errmsg("local_date needs a finite moment"),
				 errhint("Pass a timestamp with time zone that is not infinity.")));
	PG_RETURN_DATEADT(lm_local_date(t));
}

PG_FUNCTION_INFO_V1(local_midnight);

/* local_midnight(d date) RETURNS timestamptz: the moment day d starts in leasemgr.timezone. */
Datum
local_midnight(PG_FUNCTION_ARGS)
{
	DateADT		d = PG_GETARG_DATEADT(0);

	if (DATE_NOT_FINITE(d))
		ereport(ERROR,
				(errcode(ERRCODE_LM_INVALID_ARGUMENT),
				 errmsg("local_midnight needs a finite day"),
				 errhint("Pass a date that is not infinity.")));
	PG_RETURN_TIMESTAMPTZ(lm_local_midnight(d));
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
lm_appender_init(LmAppender *a, const char *relname, const char *const *colnames,
				 const Oid *coltypes, int ncols, MemoryContext cxt)
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
	 * The lock is kept to the end of the transaction (as for any table a statement writes):
	 * a CREATE INDEX CONCURRENTLY then waits for us before its index becomes one we must
	 * maintain, so the index list below stays right for the whole statement.
	 */
	rel = table_open(a->relid, RowExclusiveLock);
	desc = RelationGetDescr(rel);

	/*
	 * Columns by name, so a DBA may add a nullable column to a log (or drop one they added)
	 * without breaking every audited write. A NOT NULL column leasemgr does not fill is an
	 * error here, since these inserts bypass constraint checks.
	 */
	a->ncols = ncols;
	a->attnums = palloc(sizeof(int) * ncols);
	for (i = 0; i < ncols; i++)
	{
		Form_pg_attribute att;

		a->attnums[i] = lm_attnum(rel, colnames[i]);
		att = TupleDescAttr(desc, a->attnums[i] - 1);
		if (att->atttypid != coltypes[i])
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("column %s.%s.%s has type %s; leasemgr writes %s",
							LM_SCHEMA, relname, colnames[i], format_type_be(att->atttypid),
							format_type_be(coltypes[i])),
					 errhint("Restore the column's type: ALTER TABLE %s.%s ALTER COLUMN %s TYPE %s.",
							 LM_SCHEMA, relname, colnames[i], format_type_be(coltypes[i]))));
	}
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		bool		ours = false;
		int			j;

		for (j = 0; j < ncols && !ours; j++)
			ours = a->attnums[j] == i + 1;
		if (ours || att->attisdropped)
			continue;
		/* These inserts bypass the executor: an added column gets NULL, nothing else. */
		if (att->attnotnull || att->atthasdef || att->attgenerated)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("column %s.%s.%s needs a value leasemgr does not write",
							LM_SCHEMA, relname, NameStr(att->attname)),
					 errdetail("The column is NOT NULL, has a default or is generated; leasemgr's log rows leave columns it does not know NULL."),
					 errhint("Make the added column a plain nullable column, or drop it.")));
	}
	a->slot = MakeSingleTupleTableSlot(CreateTupleDescCopy(desc), &TTSOpsVirtual);

	/* What each index needs, worked out once per statement. */
	indexes = RelationGetIndexList(rel);
	a->nindexes = list_length(indexes);
	a->indexes = palloc(sizeof(Oid) * Max(a->nindexes, 1));
	a->index_info = palloc(sizeof(IndexInfo *) * Max(a->nindexes, 1));
	a->needs_estate = false;
	i = 0;
	foreach(lc, indexes)
	{
		Relation	irel = index_open(lfirst_oid(lc), RowExclusiveLock);
		IndexInfo  *info = BuildIndexInfo(irel);

		if (info->ii_ExclusionOps != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("exclusion constraints on %s.%s are not supported", LM_SCHEMA, relname),
					 errhint("Drop the exclusion constraint %s.", RelationGetRelationName(irel))));
		if (info->ii_Expressions != NIL || info->ii_Predicate != NIL)
			a->needs_estate = true;
		a->indexes[i] = lfirst_oid(lc);
		a->index_info[i] = info;
		index_close(irel, NoLock);
		i++;
	}
	table_close(rel, NoLock);

	/* Whatever index access methods allocate for one row is freed after that row. */
	a->row_cxt = AllocSetContextCreate(cxt, "leasemgr log append", ALLOCSET_SMALL_SIZES);
	MemoryContextSwitchTo(old);
}

void
lm_append(LmAppender *a, Datum *values, bool *nulls)
{
	Relation	rel = table_open(a->relid, RowExclusiveLock);
	TupleTableSlot *slot = a->slot;
	EState	   *estate = NULL;
	ExprContext *econtext = NULL;
	MemoryContext old;
	int			i;

	values[0] = Int64GetDatum(nextval_internal(a->seqid, false));
	nulls[0] = false;

	ExecClearTuple(slot);
	for (i = 0; i < slot->tts_tupleDescriptor->natts; i++)
		slot->tts_isnull[i] = true;
	for (i = 0; i < a->ncols; i++)
	{
		slot->tts_values[a->attnums[i] - 1] = values[i];
		slot->tts_isnull[a->attnums[i] - 1] = nulls[i];
	}
	ExecStoreVirtualTuple(slot);
	simple_table_tuple_insert(rel, slot);

	old = MemoryContextSwitchTo(a->row_cxt);
	if (a->needs_estate)
	{
		/* Expression and partial indexes (a DBA may add them) evaluate in an executor state. */
		estate = CreateExecutorState();
		econtext = GetPerTupleExprContext(estate);
		econtext->ecxt_scantuple = slot;
	}
	for (i = 0; i < a->nindexes; i++)
	{
		IndexInfo  *info = a->index_info[i];
		Relation	irel;
		Datum		ivalues[INDEX_MAX_KEYS];
		bool		inulls[INDEX_MAX_KEYS];

		/* Being built concurrently: its builder will add this row itself. */
		if (!info->ii_ReadyForInserts)
			continue;

		/* State from an earlier row belongs to an earlier open of the index or estate. */
		info->ii_AmCache = NULL;
		info->ii_Context = a->row_cxt;
		info->ii_ExpressionsState = NIL;
		info->ii_PredicateState = NULL;
		if (info->ii_Predicate != NIL)
		{
			info->ii_PredicateState = ExecPrepareQual(info->ii_Predicate, estate);
			if (!ExecQual(info->ii_PredicateState, econtext))
				continue;
		}

		irel = index_open(a->indexes[i], RowExclusiveLock);
		FormIndexDatum(info, slot, estate, ivalues, inulls);
		index_insert(irel, ivalues, inulls, &slot->tts_tid, rel,
					 irel->rd_index->indisunique ? UNIQUE_CHECK_YES : UNIQUE_CHECK_NO,
					 false, info);
		index_close(irel, NoLock);
	}
	if (estate != NULL)
		FreeExecutorState(estate);
	MemoryContextSwitchTo(old);
	MemoryContextReset(a->row_cxt);

	ExecClearTuple(slot);
	table_close(rel, NoLock);
}

/*
 * owner_copy(regclass) RETURNS boolean: lm_is_owner_copy for the triggers written in plpgsql,
 * so that pg_restore (the owner's COPY into the table) loads their rows as they were dumped.
 * A predicate on the running statement, not a switch: nobody can make it true but the owner
 * running COPY FROM into that very table.
 */
PG_FUNCTION_INFO_V1(owner_copy);

Datum
owner_copy(PG_FUNCTION_ARGS)
{
	Relation	rel = table_open(PG_GETARG_OID(0), AccessShareLock);
	bool		result = lm_is_owner_copy(rel);

	table_close(rel, AccessShareLock);
	PG_RETURN_BOOL(result);
}

bool
lm_is_owner_copy(Relation rel)
{
	PlannedStmt *pstmt;
	CopyStmt   *copy;

	/*
	 * The owner acting as itself: not after SET ROLE, not inside a SECURITY DEFINER function
	 * (a definer function owned by the owner would otherwise hand its callers this path),
	 * not in a security-restricted operation.
	 */
	if (InSecurityRestrictedOperation() || InLocalUserIdChange() ||
		GetUserId() != GetSessionUserId() ||
		!pg_class_ownercheck(RelationGetRelid(rel), GetUserId()))
		return false;

	/* ...running COPY ... FROM into this very table as the statement of the portal. */
	if (ActivePortal == NULL || ActivePortal->commandTag != CMDTAG_COPY ||
		list_length(ActivePortal->stmts) != 1)
		return false;
	pstmt = linitial_node(PlannedStmt, ActivePortal->stmts);
	if (pstmt->commandType != CMD_UTILITY || !IsA(pstmt->utilityStmt, CopyStmt))
		return false;
	copy = (CopyStmt *) pstmt->utilityStmt;
	if (!copy->is_from || copy->relation == NULL)
		return false;
	return RangeVarGetRelid(copy->relation, NoLock, true) == RelationGetRelid(rel);
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
