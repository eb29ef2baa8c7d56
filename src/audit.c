/*
 * audit.c
 *     The audit trail: who changed which row, when, from where, and what changed.
 *
 * audit_row (AFTER INSERT/UPDATE/DELETE FOR EACH ROW on every business table) appends one
 * row to leasemgr.audit_log with the changed columns as JSON. append_only_guard keeps the
 * logs append-only for every role, the owner included.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/partition.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/inet.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "leasemgr.h"

PG_FUNCTION_INFO_V1(audit_row);
PG_FUNCTION_INFO_V1(append_only_guard);
PG_FUNCTION_INFO_V1(truncate_guard);

/* Columns of leasemgr.audit_log, in table order. */
enum
{
	AL_ID, AL_AT, AL_XACT_ID, AL_PARK_ID, AL_TABLE_NAME, AL_ROW_ID, AL_ACTION,
	AL_OLD_VALUES, AL_NEW_VALUES, AL_ACTOR, AL_DB_USER, AL_DB_ROLE, AL_CLIENT_ADDR,
	AL_APPLICATION_NAME, AL__COUNT
};

static const char *const audit_log_columns[AL__COUNT] = {
	"id", "at", "xact_id", "park_id", "table_name", "row_id", "action",
	"old_values", "new_values", "actor", "db_user", "db_role", "client_addr",
	"application_name"
};
static const Oid audit_log_types[AL__COUNT] = {
	INT8OID, TIMESTAMPTZOID, INT8OID, INT8OID, TEXTOID, INT8OID, TEXTOID,
	JSONBOID, JSONBOID, TEXTOID, TEXTOID, TEXTOID, INETOID,
	TEXTOID
};

/* Numbers stay numbers, dates ISO 8601 whatever DateStyle says, the rest as text. */
static void
push_datum(JsonbParseState **state, Datum value, bool isnull, Oid typid)
{
	JsonbValue	v;

	if (isnull)
	{
		v.type = jbvNull;
		pushJsonbValue(state, WJB_VALUE, &v);
		return;
	}
	switch (typid)
	{
		case INT2OID:
			v.type = jbvNumeric;
			v.val.numeric = DatumGetNumeric(DirectFunctionCall1(int2_numeric, value));
			break;
		case INT4OID:
			v.type = jbvNumeric;
			v.val.numeric = DatumGetNumeric(DirectFunctionCall1(int4_numeric, value));
			break;
		case INT8OID:
			v.type = jbvNumeric;
			v.val.numeric = DatumGetNumeric(DirectFunctionCall1(int8_numeric, value));
			break;
		case NUMERICOID:
			v.type = jbvNumeric;
			v.val.numeric = DatumGetNumeric(value);
			break;
		case BOOLOID:
			v.type = jbvBool;
			v.val.boolean = DatumGetBool(value);
			break;
		case DATEOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			{
				char		buf[MAXDATELEN + 1];

				JsonEncodeDateTime(buf, value, typid, NULL);
				v.type = jbvString;
				v.val.string.val = pstrdup(buf);
				v.val.string.len = strlen(buf);
			}
			break;
		default:
			{
				Oid			outfunc;
				bool		isvarlena;
				char	   *s;

				getTypeOutputInfo(typid, &outfunc, &isvarlena);
				s = OidOutputFunctionCall(outfunc, value);
				v.type = jbvString;
				v.val.string.val = s;
				v.val.string.len = strlen(s);
			}
			break;
	}
	pushJsonbValue(state, WJB_VALUE, &v);
}

static void
push_key(JsonbParseState **state, const char *name)
{
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.val = (char *) name;
	k.val.string.len = strlen(name);
	pushJsonbValue(state, WJB_KEY, &k);
}

/*
 * The columns of a row as a JSON object; with `other` given, only the columns whose value
 * differs from it (an UPDATE's diff). Generated columns are derived, so they are left out.
 * *any reports whether at least one column was written.
 */
static Jsonb *
columns_json(const LmRow *row, const LmRow *other, bool *any)
{
	TupleDesc	desc = row->desc;
	JsonbParseState *state = NULL;
	JsonbValue *res;
	int			i;

	*any = false;
	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || att->attgenerated)
			continue;
		if (other != NULL && !lm_row_changed(row, other, i + 1))
			continue;
		push_key(&state, NameStr(att->attname));
		push_datum(&state, row->values[i], row->nulls[i], att->atttypid);
		*any = true;
	}
	res = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(res);
}

typedef struct AuditCache
{
	LmStatementCache base;
	int			id_att;			/* 0: the table has no id column */
	int			park_att;		/* 0: the table has no park column */
	Datum		table_name;
	LmAppender	log;
} AuditCache;

static AuditCache *
audit_cache(FunctionCallInfo fcinfo, TriggerData *td)
{
	Relation	rel = td->tg_relation;
	bool		fresh;
	AuditCache *cache = lm_statement_cache(fcinfo, rel, sizeof(AuditCache), &fresh);

	if (fresh)
	{
		const char *park_col = td->tg_trigger->tgnargs > 0 ? td->tg_trigger->tgargs[0] : "park_id";
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		cache->id_att = Max(SPI_fnumber(RelationGetDescr(rel), "id"), 0);
		cache->park_att = Max(SPI_fnumber(RelationGetDescr(rel), park_col), 0);
		/* a partition's rows are logged under the table people query (meter_reading) */
		if (rel->rd_rel->relispartition)
			cache->table_name = CStringGetTextDatum(get_rel_name(llast_oid(get_partition_ancestors(RelationGetRelid(rel)))));
		else
			cache->table_name = CStringGetTextDatum(RelationGetRelationName(rel));
		MemoryContextSwitchTo(old);
		lm_appender_init(&cache->log, "audit_log", audit_log_columns, audit_log_types, AL__COUNT,
						 fcinfo->flinfo->fn_mcxt);
	}
	return cache;
}

/*
 * AFTER INSERT OR UPDATE OR DELETE ... FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row().
 * The optional trigger argument names the column holding the park (default park_id; the
 * park table passes id; tables above parks pass '-' and log NULL).
 */
Datum
audit_row(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel;
	AuditCache *cache;
	LmRow		row;
	LmRow		old;
	const char *action;
	Datum		values[AL__COUNT];
	bool		nulls[AL__COUNT] = {0};
	bool		any;
	const char *appname;

	lm_check_trigger(fcinfo, "audit_row", true, false);
	rel = td->tg_relation;

	/* pg_restore brings the original audit rows back; do not log the reload. */
	if (TRIGGER_FIRED_BY_INSERT(td->tg_event) && lm_is_owner_copy(rel))
		return PointerGetDatum(NULL);
	cache = audit_cache(fcinfo, td);

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
	{
		lm_row_init(&row, td->tg_trigtuple, RelationGetDescr(rel));
		action = "INSERT";
		nulls[AL_OLD_VALUES] = true;
		values[AL_NEW_VALUES] = JsonbPGetDatum(columns_json(&row, NULL, &any));
	}
	else if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
	{
		lm_row_init(&old, td->tg_trigtuple, RelationGetDescr(rel));
		lm_row_init(&row, td->tg_newtuple, RelationGetDescr(rel));
		action = "UPDATE";
		values[AL_NEW_VALUES] = JsonbPGetDatum(columns_json(&row, &old, &any));
		/* An UPDATE that changed nothing leaves nothing to trace. */
		if (!any)
			return PointerGetDatum(NULL);
		values[AL_OLD_VALUES] = JsonbPGetDatum(columns_json(&old, &row, &any));
	}
	else
	{
		lm_row_init(&row, td->tg_trigtuple, RelationGetDescr(rel));
		action = "DELETE";
		values[AL_OLD_VALUES] = JsonbPGetDatum(columns_json(&row, NULL, &any));
		nulls[AL_NEW_VALUES] = true;
	}

	values[AL_AT] = TimestampTzGetDatum(GetCurrentTimestamp());
	values[AL_XACT_ID] = Int64GetDatum((int64) U64FromFullTransactionId(GetTopFullTransactionId()));
	if (cache->park_att > 0)
	{
		values[AL_PARK_ID] = lm_row_datum(&row, cache->park_att);
		nulls[AL_PARK_ID] = lm_row_null(&row, cache->park_att);
	}
	else
		nulls[AL_PARK_ID] = true;
	values[AL_TABLE_NAME] = cache->table_name;
	if (cache->id_att > 0)
	{
		values[AL_ROW_ID] = lm_row_datum(&row, cache->id_att);
		nulls[AL_ROW_ID] = lm_row_null(&row, cache->id_att);
	}
	else
		nulls[AL_ROW_ID] = true;
	values[AL_ACTION] = CStringGetTextDatum(action);
	values[AL_ACTOR] = CStringGetTextDatum(lm_current_actor());
	values[AL_DB_USER] = CStringGetTextDatum(GetUserNameFromId(GetSessionUserId(), false));
	values[AL_DB_ROLE] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));

	/* inet_client_addr() is NULL for unix sockets and background workers, and so is ours. */
	{
		LOCAL_FCINFO(addr_fcinfo, 0);

		InitFunctionCallInfoData(*addr_fcinfo, NULL, 0, InvalidOid, NULL, NULL);
		values[AL_CLIENT_ADDR] = inet_client_addr(addr_fcinfo);
		nulls[AL_CLIENT_ADDR] = addr_fcinfo->isnull;
	}
	appname = GetConfigOption("application_name", true, false);
	if (appname != NULL && appname[0] != '\0')
		values[AL_APPLICATION_NAME] = CStringGetTextDatum(appname);
	else
		nulls[AL_APPLICATION_NAME] = true;

	lm_append(&cache->log, values, nulls);
	return PointerGetDatum(NULL);
}

/*
 * BEFORE INSERT OR UPDATE OR DELETE FOR EACH ROW and BEFORE TRUNCATE FOR EACH STATEMENT on
 * the logs. Privileges already keep ordinary roles out; this keeps the owner out too. Rows
 * are written by leasemgr's C triggers, which do not go through INSERT (and so not through
 * this trigger); the only INSERT allowed is the owner's COPY FROM of pg_restore.
 */
Datum
append_only_guard(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	const char *what;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"append_only_guard\" was not called by trigger manager")));
	if (!TRIGGER_FIRED_BEFORE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"append_only_guard\" must be fired BEFORE")));

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
	{
		if (lm_is_owner_copy(td->tg_relation))
			return PointerGetDatum(td->tg_trigtuple);
		ereport(ERROR,
				(errcode(ERRCODE_LM_APPEND_ONLY),
				 errmsg("%s.%s is written only by leasemgr", LM_SCHEMA,
						RelationGetRelationName(td->tg_relation)),
				 errdetail("Its rows record changes made through the audited tables; an inserted row would record something that did not happen."),
				 errhint("Make the change itself; its triggers write the log.")));
	}
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		what = "updated";
	else if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
		what = "deleted";
	else if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
		what = "truncated";
	else
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"append_only_guard\" must be fired for INSERT, UPDATE, DELETE or TRUNCATE")));

	ereport(ERROR,
			(errcode(ERRCODE_LM_APPEND_ONLY),
			 errmsg("%s.%s is append-only", LM_SCHEMA, RelationGetRelationName(td->tg_relation)),
			 errdetail("Its rows are the record of what happened and cannot be %s, not even by the owner.",
					   what),
			 errhint("Record a correction as a new change; the log keeps both.")));
	PG_RETURN_NULL();
}

/*
 * BEFORE TRUNCATE FOR EACH STATEMENT on every audited table. TRUNCATE removes rows without
 * firing row triggers: neither the state machine nor the audit trail would see them go.
 */
Datum
truncate_guard(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BY_TRUNCATE(td->tg_event) ||
		!TRIGGER_FIRED_BEFORE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"truncate_guard\" must be fired BEFORE TRUNCATE")));

	ereport(ERROR,
			(errcode(ERRCODE_LM_APPEND_ONLY),
			 errmsg("%s.%s cannot be truncated", LM_SCHEMA, RelationGetRelationName(td->tg_relation)),
			 errdetail("TRUNCATE removes rows without the row triggers, so neither the rules nor the audit trail would see them go."),
			 errhint("Remove rows with DELETE: the rules and the audit trail apply to it.")));
	PG_RETURN_NULL();
}
