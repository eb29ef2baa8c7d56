/*
 * outbox.c
 *     The event outbox's writers (docs/automation.md): every contract created or moved
 *     (contract.state), every unit whose contract moved into or out of the states that hold
 *     it (unit.availability), every bill issued (bill.issued), written to
 *     leasemgr.event_outbox in the transaction of the change, with NOTIFY leasemgr_events.
 *
 * The events are appended the way the audit log and the contract timeline are (lm_append):
 * without the executor's privilege checks, so that nobody holds INSERT on the outbox and an
 * outside system can trust every event to report a change that happened. A restore (the
 * owner's COPY of dumped rows) writes no events: the outbox comes back from the dump.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "access/xact.h"

#include "leasemgr.h"
#include "outbox.h"

PG_FUNCTION_INFO_V1(outbox_bills);
PG_FUNCTION_INFO_V1(outbox_alerts);
PG_FUNCTION_INFO_V1(outbox_sms);

#define OUTBOX_CHANNEL "leasemgr_events"

static const char *const outbox_colnames[] = {"id", "park_id", "topic", "subject_id", "payload", "created_at", "claims"};
static const Oid outbox_types[lengthof(outbox_colnames)] = {INT8OID, INT8OID, TEXTOID, INT8OID, JSONBOID, TIMESTAMPTZOID,
INT4OID};

bool
lm_outbox_init(LmAppender *a, MemoryContext cxt)
{
	/* a database still on 0.1.0 has no outbox yet: nothing to write until it is updated */
	if (!OidIsValid(get_relname_relid("event_outbox", get_namespace_oid(LM_SCHEMA, false))))
		return false;
	lm_appender_init(a, "event_outbox", outbox_colnames, outbox_types, lengthof(outbox_colnames), cxt);
	return true;
}

int64
lm_outbox_emit(LmAppender *a, Datum park_id, const char *topic, int64 subject_id, Datum payload)
{
	Datum		values[lengthof(outbox_colnames)];
	bool		nulls[lengthof(outbox_colnames)] = {false, false, false, false, false, false, false};

	values[1] = park_id;
	values[2] = CStringGetTextDatum(topic);
	values[3] = Int64GetDatum(subject_id);
	values[4] = payload;
	values[5] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	values[6] = Int32GetDatum(0);
	lm_append(a, values, nulls);
	return DatumGetInt64(values[0]);
}

void
lm_outbox_notify(int64 last_id)
{
	/* the newest event of the statement; notifications are delivered at commit */
	Async_Notify(OUTBOX_CHANNEL, psprintf(INT64_FORMAT, last_id));
}

void
lm_json_text(StringInfo js, const char *key, const char *value)
{
	appendStringInfoString(js, js->len > 1 ? ", " : "");
	escape_json(js, key);
	appendStringInfoString(js, ": ");
	if (value == NULL)
		appendStringInfoString(js, "null");
	else
		escape_json(js, value);
}

void
lm_json_raw(StringInfo js, const char *key, const char *value)
{
	appendStringInfoString(js, js->len > 1 ? ", " : "");
	escape_json(js, key);
	appendStringInfo(js, ": %s", value == NULL ? "null" : value);
}

Datum
lm_json_finish(StringInfo js)
{
	appendStringInfoChar(js, '}');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(js->data));
}

typedef struct RowsCache
{
	LmStatementCache base;
	bool		have_outbox;
	LmAppender	outbox;
} RowsCache;

/*
 * The events of an AFTER INSERT ... FOR EACH STATEMENT trigger with a NEW TABLE: sql reads
 * the transition table (as the caller: it sees the rows it just wrote) and returns park_id,
 * subject id and payload per event, in order; each is appended to the outbox. read_only false
 * when sql also reads the table, and must see what row triggers wrote after the insert.
 */
static void
emit_rows(FunctionCallInfo fcinfo, const char *funcname, const char *topic, bool read_only, const char *sql)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	MemoryContext cxt = CurrentMemoryContext;
	RowsCache  *cache;
	bool		fresh;
	bool		spi = false;
	int64		last = 0;
	uint64		i;

	lm_check_trigger(fcinfo, funcname, false, false);
	if (!TRIGGER_FIRED_BY_INSERT(td->tg_event) || td->tg_newtable == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s must be fired AFTER INSERT with a NEW TABLE", funcname)));
	if (lm_is_owner_copy(td->tg_relation))
		return;					/* a restore: the outbox comes back from the dump */
	cache = lm_statement_cache(fcinfo, td->tg_relation, sizeof(RowsCache), &fresh);
	if (fresh)
		cache->have_outbox = lm_outbox_init(&cache->outbox, fcinfo->flinfo->fn_mcxt);
	if (!cache->have_outbox)
		return;

	lm_spi_connect(&spi);
	if (SPI_register_trigger_data(td) != SPI_OK_TD_REGISTER)
		elog(ERROR, "transition tables could not be registered");
	if (SPI_execute(sql, read_only, 0) != SPI_OK_SELECT)
		elog(ERROR, "%s: events query failed", funcname);
	MemoryContextSwitchTo(cxt);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		bool		isnull;

		last = lm_outbox_emit(&cache->outbox, SPI_getbinval(t, d, 1, &isnull), topic,
							  DatumGetInt64(SPI_getbinval(t, d, 2, &isnull)), SPI_getbinval(t, d, 3, &isnull));
	}
	SPI_freetuptable(SPI_tuptable);
	lm_spi_finish(&spi);
	if (last != 0)
		lm_outbox_notify(last);
}

/*
 * AFTER INSERT ON leasemgr.bill REFERENCING NEW TABLE AS new_bills FOR EACH STATEMENT: a
 * bill.issued event per bill, in id order.
 */
Datum
outbox_bills(PG_FUNCTION_ARGS)
{
	emit_rows(fcinfo, "outbox_bills", "bill.issued", true,
			  "SELECT b.park_id, b.id, pg_catalog.jsonb_build_object('bill_id', b.id, 'contract_id', b.contract_id, "
			  "'contract', c.code, 'tenant_id', c.tenant_id, 'period', b.period, 'issued_on', b.issued_on, "
			  "'due_on', b.due_on, 'amount', b.amount) "
			  "FROM new_bills b JOIN leasemgr.contract c ON c.id OPERATOR(pg_catalog.=) b.contract_id "
			  "ORDER BY b.id");
	return PointerGetDatum(NULL);
}

/*
 * AFTER INSERT ON leasemgr.alert REFERENCING NEW TABLE AS new_alerts FOR EACH STATEMENT: an
 * alert event per alert raised.
 */
Datum
outbox_alerts(PG_FUNCTION_ARGS)
{
	emit_rows(fcinfo, "outbox_alerts", "alert", true,
			  "SELECT a.park_id, a.id, pg_catalog.jsonb_build_object('alert_id', a.id, 'kind', a.kind, "
			  "'subject_id', a.subject_id, 'contract_id', a.contract_id, 'subject', a.subject, 'due_on', a.due_on) "
			  "FROM new_alerts a ORDER BY a.id");
	return PointerGetDatum(NULL);
}

/*
 * AFTER INSERT ON leasemgr.deposit_refund REFERENCING NEW TABLE AS new_refunds FOR EACH
 * STATEMENT: an sms event per refund requested, to the tenant's phone. The code travels as
 * the refund row holds it, encrypted to the SMS gateway's key (code_sms): only the gateway
 * reads it. It is read from the table, not the transition table: the row trigger after the
 * insert wrote it.
 */
Datum
outbox_sms(PG_FUNCTION_ARGS)
{
	/* not read-only: the statement's snapshot would not see what the row trigger wrote */
	emit_rows(fcinfo, "outbox_sms", "sms", false,
			  "SELECT r.park_id, r.id, pg_catalog.jsonb_build_object('purpose', 'deposit_refund_code', "
			  "'refund_id', r.id, 'contract_id', r.contract_id, 'contract', c.code, 'tenant_id', t.id, "
			  "'to', t.phone, 'amount', r.amount, 'expires_at', r.code_expires_at, "
			  "'code_pgp', live.code_sms, "
			  "'text', 'Your deposit refund of ' OPERATOR(pg_catalog.||) r.amount::pg_catalog.text "
			  "OPERATOR(pg_catalog.||) ' CNY for lease ' OPERATOR(pg_catalog.||) c.code "
			  "OPERATOR(pg_catalog.||) ': confirmation code {code}, valid 24 hours. Give it only to the park''s staff.') "
			  "FROM new_refunds r JOIN leasemgr.contract c ON c.id OPERATOR(pg_catalog.=) r.contract_id "
			  "JOIN leasemgr.deposit_refund live ON live.id OPERATOR(pg_catalog.=) r.id "
			  "JOIN leasemgr.tenant t ON t.id OPERATOR(pg_catalog.=) c.tenant_id ORDER BY r.id");
	return PointerGetDatum(NULL);
}
