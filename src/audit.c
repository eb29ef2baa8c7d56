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
 * The columns of `tuple` as a JSON object; with `other` given, only the columns whose value
 * differs from it (an UPDATE's diff). Generated columns are derived, so they are left out.
 * *any reports whether at least one column was written.
 */
static Jsonb *
columns_json(TupleDesc desc, HeapTuple tuple, HeapTuple other, bool *any)
{
	JsonbParseState *state = NULL;
	JsonbValue *res;
	int			i;

	*any = false;
	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		bool		isnull;
		Datum		value;

		if (att->attisdropped || att->attgenerated)
			continue;
		value = heap_getattr(tuple, i + 1, desc, &isnull);
		if (other != NULL)
		{
			bool		other_null;
			Datum		other_value = heap_getattr(other, i + 1, desc, &other_null);

			if (isnull && other_null)
				continue;
			if (!isnull && !other_null &&
				datum_image_eq(value, other_value, att->attbyval, att->attlen))
				continue;
		}
		push_key(&state, NameStr(att->attname));
		push_datum(&state, value, isnull, att->atttypid);
		*any = true;
	}
	res = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(res);
}

static Datum
int8_column(Relation rel, HeapTuple tuple, const char *colname, bool *isnull)
{
	int			attnum = SPI_fnumber(RelationGetDescr(rel), colname);

	if (attnum <= 0)
	{
		*isnull = true;
		return (Datum) 0;
	}
	return heap_getattr(tuple, attnum, RelationGetDescr(rel), isnull);
}

/*
 * AFTER INSERT OR UPDATE OR DELETE ... FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row().
 * The optional trigger argument names the column holding the park (default park_id; the
 * park table passes id; tables above parks have none and log NULL).
 */
Datum
audit_row(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel;
	TupleDesc	desc;
	HeapTuple	row;
	const char *park_col = "park_id";
	const char *action;
	Datum		values[AL__COUNT];
	bool		nulls[AL__COUNT] = {0};
	bool		any;
	const char *appname;

	lm_check_trigger(fcinfo, "audit_row", true, false);
	rel = td->tg_relation;
	desc = RelationGetDescr(rel);
	if (td->tg_trigger->tgnargs > 0)
		park_col = td->tg_trigger->tgargs[0];

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
	{
		/* pg_restore brings the original audit rows back; do not log the reload. */
		if (lm_is_owner_copy(rel))
			return PointerGetDatum(NULL);
		row = td->tg_trigtuple;
		action = "INSERT";
		nulls[AL_OLD_VALUES] = true;
		values[AL_NEW_VALUES] = JsonbPGetDatum(columns_json(desc, row, NULL, &any));
	}
	else if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
	{
		row = td->tg_newtuple;
		action = "UPDATE";
		values[AL_NEW_VALUES] = JsonbPGetDatum(columns_json(desc, row, td->tg_trigtuple, &any));
		/* An UPDATE that changed nothing leaves nothing to trace. */
		if (!any)
			return PointerGetDatum(NULL);
		values[AL_OLD_VALUES] = JsonbPGetDatum(columns_json(desc, td->tg_trigtuple, row, &any));
	}
	else
	{
		row = td->tg_trigtuple;
		action = "DELETE";
		values[AL_OLD_VALUES] = JsonbPGetDatum(columns_json(desc, row, NULL, &any));
		nulls[AL_NEW_VALUES] = true;
	}

	values[AL_ID] = Int64GetDatum(lm_nextval("audit_log_id_seq"));
	values[AL_AT] = TimestampTzGetDatum(GetCurrentTimestamp());
	values[AL_XACT_ID] = Int64GetDatum((int64) U64FromFullTransactionId(GetTopFullTransactionId()));
	values[AL_PARK_ID] = int8_column(rel, row, park_col, &nulls[AL_PARK_ID]);
	values[AL_TABLE_NAME] = CStringGetTextDatum(RelationGetRelationName(rel));
	values[AL_ROW_ID] = int8_column(rel, row, "id", &nulls[AL_ROW_ID]);
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

	lm_append_row(lm_relid("audit_log"), audit_log_columns, AL__COUNT, values, nulls);
	return PointerGetDatum(NULL);
}

/*
 * BEFORE UPDATE OR DELETE FOR EACH ROW and BEFORE TRUNCATE FOR EACH STATEMENT on the logs.
 * Privileges already keep ordinary roles out; this keeps the owner out too.
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

	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		what = "updated";
	else if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
		what = "deleted";
	else if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
		what = "truncated";
	else
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"append_only_guard\" must be fired for UPDATE, DELETE or TRUNCATE")));

	ereport(ERROR,
			(errcode(ERRCODE_LM_APPEND_ONLY),
			 errmsg("%s.%s is append-only", LM_SCHEMA, RelationGetRelationName(td->tg_relation)),
			 errdetail("Its rows are the record of what happened and cannot be %s, not even by the owner.",
					   what),
			 errhint("Record a correction as a new change; the log keeps both.")));
	PG_RETURN_NULL();
}
