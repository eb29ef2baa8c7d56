/*
 * amendment.c
 *     The one door to a live lease's terms: leasemgr.amendment_approve.
 *
 * From submission on, the term triggers (contract_fsm.c, contract_terms.c, contract_unit.c)
 * refuse every change to a contract's terms, whoever writes. An approved amendment is the
 * exception, and this file is the only code that opens it: amendment_approve marks the
 * contract whose amendment it applies (lm_amendment_applying) for exactly as long as the
 * SQL body, leasemgr.amendment_apply, runs, and the term triggers let that contract's terms
 * change while it is amending. Calling amendment_apply directly gets the term lock's refusal
 * on its first write; nothing in SQL can set the mark.
 *
 * The checks (the amendment is open, the approver is not the requester, the changes still
 * fit) and the writes are SQL, in sql/92_amendments.sql. A unit added or handed back is a
 * unit.availability event in the outbox, written here.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "leasemgr.h"
#include "outbox.h"

PG_FUNCTION_INFO_V1(amendment_approve);
PG_FUNCTION_INFO_V1(amendment_applying);

int64		lm_amendment_applying = 0;

/*
 * The units an approved amendment added (taken from their first day) or handed back
 * (available from the day after their last, unless another live lease holds them then): one
 * unit.availability event each, as a transition of the whole lease writes.
 */
static void
emit_unit_events(Datum amendment_id)
{
	Oid			argtypes[1] = {INT8OID};
	MemoryContext cxt = CurrentMemoryContext;
	LmAppender	outbox;
	int64		last = 0;
	uint64		i;

	if (SPI_execute_with_args("SELECT c.park_id, cu.unit_id, pg_catalog.jsonb_build_object("
							  "'unit_id', cu.unit_id, 'unit', u.code, "
							  "'available', cu.held_to IS NOT NULL AND NOT EXISTS (SELECT FROM leasemgr.contract_unit o "
							  "  WHERE o.unit_id OPERATOR(pg_catalog.=) cu.unit_id AND o.is_live "
							  "  AND o.contract_id OPERATOR(pg_catalog.<>) c.id "
							  "  AND pg_catalog.upper(o.held_range) OPERATOR(pg_catalog.>) (cu.held_to OPERATOR(pg_catalog.+) 1)), "
							  "'from', COALESCE(cu.held_to OPERATOR(pg_catalog.+) 1, cu.held_from), "
							  "'amendment_id', a.id, 'contract_id', c.id, 'contract', c.code, 'state', c.state, "
							  "'held_from', COALESCE(cu.held_from, c.start_date), 'held_to', COALESCE(cu.held_to, c.end_date), "
							  "'lease_start', c.start_date, 'lease_end', c.end_date) "
							  "FROM leasemgr.amendment a JOIN leasemgr.contract c ON c.id OPERATOR(pg_catalog.=) a.contract_id "
							  "JOIN leasemgr.contract_unit cu ON cu.contract_id OPERATOR(pg_catalog.=) c.id "
							  "JOIN leasemgr.unit u ON u.id OPERATOR(pg_catalog.=) cu.unit_id "
							  "WHERE a.id OPERATOR(pg_catalog.=) $1 AND cu.unit_id OPERATOR(pg_catalog.=) ANY ("
							  "  SELECT (x OPERATOR(pg_catalog.->>) 'unit_id')::pg_catalog.int8 FROM pg_catalog.jsonb_array_elements("
							  "    COALESCE(a.changes OPERATOR(pg_catalog.->) 'add_units', '[]') OPERATOR(pg_catalog.||) "
							  "    COALESCE(a.changes OPERATOR(pg_catalog.->) 'remove_units', '[]')) x) "
							  "ORDER BY cu.unit_id",
							  1, argtypes, &amendment_id, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "unit events query failed");
	MemoryContextSwitchTo(cxt);
	if (SPI_processed == 0 || !lm_outbox_init(&outbox, CurrentMemoryContext))
		return;
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		bool		isnull;

		last = lm_outbox_emit(&outbox, SPI_getbinval(t, d, 1, &isnull), "unit.availability",
							  DatumGetInt64(SPI_getbinval(t, d, 2, &isnull)), SPI_getbinval(t, d, 3, &isnull));
	}
	lm_outbox_notify(last);
}

/*
 * amendment_approve(amendment_id bigint, note text DEFAULT NULL) RETURNS integer
 *   The version number the previous terms were kept under.
 */
Datum
amendment_approve(PG_FUNCTION_ARGS)
{
	Datum		args[2];
	char		nulls[2] = {' ', PG_ARGISNULL(1) ? 'n' : ' '};
	Oid			argtypes[2] = {INT8OID, TEXTOID};
	int64		contract_id;
	int32		version = 0;
	bool		isnull;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_LM_INVALID_AMENDMENT),
				 errmsg("amendment_approve needs an amendment id"),
				 errdetail("amendment_id is NULL."),
				 errhint("Pass the id leasemgr.amendment_open returned.")));
	if (lm_amendment_applying != 0)
		ereport(ERROR,
				(errcode(ERRCODE_LM_INVALID_AMENDMENT),
				 errmsg("an amendment is already being applied"),
				 errdetail("amendment_approve was called while the amendment of contract " INT64_FORMAT " is applied, from inside that approval.",
						   lm_amendment_applying),
				 errhint("Approve amendments one at a time.")));
	args[0] = PG_GETARG_DATUM(0);
	args[1] = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);

	SPI_connect();
	/* The contract of an amendment never changes: no lock is needed to learn it. */
	if (SPI_execute_with_args("SELECT a.contract_id FROM leasemgr.amendment a WHERE a.id OPERATOR(pg_catalog.=) $1",
							  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "amendment query failed");
	if (SPI_processed == 0)
		lm_row_not_found("amendment", args[0]);
	contract_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

	lm_amendment_applying = contract_id;
	PG_TRY();
	{
		if (SPI_execute_with_args("SELECT leasemgr.amendment_apply($1, $2)", 2, argtypes, args, nulls,
								  false, 1) != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "amendment_apply failed");
		version = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		emit_unit_events(args[0]);
	}
	PG_FINALLY();
	{
		lm_amendment_applying = 0;
	}
	PG_END_TRY();
	SPI_finish();
	PG_RETURN_INT32(version);
}

/*
 * amendment_applying() RETURNS bigint
 *   The contract whose amendment is being applied in this session, or NULL: what the SQL
 *   triggers of amendment rows check before they let an amendment become approved.
 */
Datum
amendment_applying(PG_FUNCTION_ARGS)
{
	if (lm_amendment_applying == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(lm_amendment_applying);
}
