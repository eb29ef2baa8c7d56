/*
 * bill.c
 *     The guards of the money ledgers: issued bill lines, payments and allocations never
 *     change, and a bill's totals are never written by hand.
 *
 * A bill's amount is the sum of its lines and its paid the sum of the payments allocated to
 * it; the triggers in sql/64_bills.sql keep them so. This file refuses every other change,
 * for every writer: corrections are new adjustment lines, never edits.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/numeric.h"
#include "utils/rel.h"

#include "leasemgr.h"

PG_FUNCTION_INFO_V1(ledger_guard);
PG_FUNCTION_INFO_V1(bill_before_write);
PG_FUNCTION_INFO_V1(bill_line_before_insert);
PG_FUNCTION_INFO_V1(bill_line_totals);

bool		lm_bill_run_writing = false;

/*
 * BEFORE UPDATE OR DELETE FOR EACH ROW, or BEFORE TRUNCATE FOR EACH STATEMENT, on a ledger.
 */
Datum
ledger_guard(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	const char *op;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("ledger_guard: not called by trigger manager")));
	op = TRIGGER_FIRED_BY_TRUNCATE(td->tg_event) ? "TRUNCATE"
		: TRIGGER_FIRED_BY_DELETE(td->tg_event) ? "DELETE"
		: TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? "UPDATE" : "INSERT";
	ereport(ERROR,
			(errcode(ERRCODE_LM_APPEND_ONLY),
			 errmsg("leasemgr.%s is a ledger: %s is not allowed",
					RelationGetRelationName(td->tg_relation), op),
			 errdetail("Issued bill lines, payments and their allocations are kept exactly as recorded, for every role."),
			 errhint("Correct a bill with an adjustment line; a payment recorded in error is reversed by a new entry, not deleted.")));
	PG_RETURN_NULL();
}

enum
{
	B_ID, B_PARK_ID, B_CONTRACT_ID, B_PERIOD, B_ISSUED_ON, B_DUE_ON, B_AMOUNT, B_PAID,
	B_VOIDED_AT, B_VOID_REASON, B_ISSUED_BY, B__COUNT
};
static const char *const bill_colnames[B__COUNT] = {
	"id", "park_id", "contract_id", "period", "issued_on", "due_on", "amount", "paid",
	"voided_at", "void_reason", "issued_by"
};

typedef struct BillCache
{
	LmStatementCache base;
	int			att[B__COUNT];
} BillCache;

static bool
numeric_is_zero(Datum n)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, n,
											 DirectFunctionCall1(int4_numeric, Int32GetDatum(0)))) == 0;
}

/* The sum the column must equal: of the bill's lines, or of its allocations. */
static void
check_total(const LmRow *row, int id_att, int att, const char *column, const char *sql)
{
	Datum		id = lm_row_datum(row, id_att);
	Datum		total;
	bool		isnull;
	Oid			argtype = INT8OID;

	/* Not read-only: a new snapshot sees the lines or allocations committed meanwhile. */
	if (SPI_execute_with_args(sql, 1, &argtype, &id, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "bill total query failed");
	total = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, lm_row_datum(row, att), total)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_LM_APPEND_ONLY),
				 errmsg("bill.%s is a total and cannot be set to %s", column, lm_row_text(row, att)),
				 errdetail("The %s of bill %s add up to %s.",
						   strcmp(column, "amount") == 0 ? "lines" : "payment allocations",
						   lm_row_text(row, id_att),
						   DatumGetCString(DirectFunctionCall1(numeric_out, total))),
				 errhint("Add an adjustment line or record a payment; the totals follow.")));
}

/*
 * BEFORE INSERT OR UPDATE OR DELETE ON leasemgr.bill FOR EACH ROW.
 */
Datum
bill_before_write(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel;
	BillCache  *cache;
	bool		fresh;
	LmRow		old = {0};
	LmRow		new = {0};
	const int  *att;
	bool		spi = false;
	int			i;

	lm_check_trigger(fcinfo, "bill_before_write", true, true);
	rel = td->tg_relation;
	cache = lm_statement_cache(fcinfo, rel, sizeof(BillCache), &fresh);
	if (fresh)
		lm_resolve_columns(rel, bill_colnames, B__COUNT, cache->att);
	att = cache->att;

	if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_LM_APPEND_ONLY),
				 errmsg("bills are never deleted"),
				 errdetail("Bill %lld was issued and stays on record.",
						   (long long) DatumGetInt64(heap_getattr(td->tg_trigtuple, att[B_ID],
																  RelationGetDescr(rel), &fresh))),
				 errhint("Correct it with an adjustment line.")));

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
	{
		if (lm_is_owner_copy(rel) || lm_bill_run_writing)
			return PointerGetDatum(td->tg_trigtuple);
		lm_row_init(&new, td->tg_trigtuple, RelationGetDescr(rel));
		if (!lm_row_null(&new, att[B_AMOUNT]) && !numeric_is_zero(lm_row_datum(&new, att[B_AMOUNT])))
			ereport(ERROR,
					(errcode(ERRCODE_LM_APPEND_ONLY),
					 errmsg("a new bill starts with amount 0, not %s", lm_row_text(&new, att[B_AMOUNT])),
					 errdetail("A bill's amount is the sum of its lines."),
					 errhint("Insert the bill, then its lines: the amount follows. leasemgr.bill_run does both.")));
		if (!lm_row_null(&new, att[B_PAID]) && !numeric_is_zero(lm_row_datum(&new, att[B_PAID])))
			ereport(ERROR,
					(errcode(ERRCODE_LM_APPEND_ONLY),
					 errmsg("a new bill starts unpaid"),
					 errdetail("A bill's paid is the sum of the payments allocated to it."),
					 errhint("Record payments with leasemgr.record_payment.")));
		return PointerGetDatum(td->tg_trigtuple);
	}

	lm_row_init(&old, td->tg_trigtuple, RelationGetDescr(rel));
	lm_row_init(&new, td->tg_newtuple, RelationGetDescr(rel));
	for (i = 0; i < B__COUNT; i++)
	{
		if (i == B_AMOUNT || i == B_PAID || !lm_row_changed(&old, &new, att[i]))
			continue;
		/* Voiding an unpaid bill: once, with a reason (the CHECK bill_void_reason). */
		if ((i == B_VOIDED_AT || i == B_VOID_REASON) && lm_row_null(&old, att[B_VOIDED_AT]))
			continue;
		ereport(ERROR,
				(errcode(ERRCODE_LM_APPEND_ONLY),
				 errmsg("bill.%s cannot change once the bill is issued", bill_colnames[i]),
				 errdetail("Bill %s: %s was %s.", lm_row_text(&old, att[B_ID]), bill_colnames[i],
						   lm_row_text(&old, att[i])),
				 errhint("Bills are corrected by adjustment lines, never edited.")));
	}
	if (lm_row_changed(&old, &new, att[B_AMOUNT]))
	{
		lm_spi_connect(&spi);
		check_total(&new, att[B_ID], att[B_AMOUNT], "amount",
					"SELECT COALESCE(pg_catalog.sum(amount), 0) FROM leasemgr.bill_line "
					"WHERE bill_id OPERATOR(pg_catalog.=) $1");
	}
	if (lm_row_changed(&old, &new, att[B_PAID]))
	{
		lm_spi_connect(&spi);
		check_total(&new, att[B_ID], att[B_PAID], "paid",
					"SELECT COALESCE(pg_catalog.sum(amount), 0) FROM leasemgr.payment_allocation "
					"WHERE bill_id OPERATOR(pg_catalog.=) $1");
	}
	lm_spi_finish(&spi);
	return PointerGetDatum(td->tg_newtuple);
}

/*
 * BEFORE INSERT ON leasemgr.bill_line FOR EACH ROW.
 *
 * A charge line says "this period of this charge is billed" for good (the unique index
 * bill_line_charge_once): only the bill run, which computed it, writes one. Lines added by
 * hand (adjustments, late fees) must belong to a valid bill of their contract.
 */
Datum
bill_line_before_insert(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel;
	LmRow		row = {0};
	bool		spi = false;
	Datum		args[3];
	Oid			types[3] = {INT8OID, INT8OID, INT8OID};
	int			bill_att,
				contract_att,
				charge_att,
				type_att;

	lm_check_trigger(fcinfo, "bill_line_before_insert", true, true);
	rel = td->tg_relation;
	if (lm_bill_run_writing || lm_is_owner_copy(rel))
		return PointerGetDatum(td->tg_trigtuple);
	lm_row_init(&row, td->tg_trigtuple, RelationGetDescr(rel));
	bill_att = lm_attnum(rel, "bill_id");
	contract_att = lm_attnum(rel, "contract_id");
	charge_att = lm_attnum(rel, "charge_id");
	type_att = lm_attnum(rel, "line_type");
	if (lm_row_null(&row, type_att) ||
		strcmp(TextDatumGetCString(lm_row_datum(&row, type_att)), "charge") == 0 ||
		strcmp(TextDatumGetCString(lm_row_datum(&row, type_att)), "allocation") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_LM_APPEND_ONLY),
				 errmsg("charge and allocation lines are written by the bill run only"),
				 errdetail("A charge line marks its charge's period as billed for good, an allocation line a share of a shared cost."),
				 errhint("Run leasemgr.bill_run for the month; correct a bill with line_type 'adjustment'.")));
	if (!lm_row_null(&row, lm_attnum(rel, "trues_up")))
		ereport(ERROR,
				(errcode(ERRCODE_LM_APPEND_ONLY),
				 errmsg("true-up lines are written by the bill run only"),
				 errdetail("A true-up settles an estimated line once, when the real figure is known."),
				 errhint("Let leasemgr.bill_run true up the estimate; add a plain adjustment line (trues_up NULL) for any other correction.")));
	if (lm_row_null(&row, bill_att) || lm_row_null(&row, contract_att))
		return PointerGetDatum(td->tg_trigtuple);	/* NOT NULL says no */
	if (!lm_row_null(&row, lm_attnum(rel, "amendment_id")))
	{
		/* A re-bill line: only for an approved amendment of its contract being re-billed. */
		Datum		ra[2] = {lm_row_datum(&row, lm_attnum(rel, "amendment_id")), lm_row_datum(&row, contract_att)};
		Oid			rt[2] = {INT8OID, INT8OID};

		lm_spi_connect(&spi);
		if (SPI_execute_with_args("SELECT FROM leasemgr.amendment a WHERE a.id OPERATOR(pg_catalog.=) $1 "
								  "AND a.contract_id OPERATOR(pg_catalog.=) $2 AND a.state OPERATOR(pg_catalog.=) 'approved' "
								  "AND a.rebilled_at IS NULL", 2, rt, ra, NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "amendment query failed");
		if (SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_LM_APPEND_ONLY),
					 errmsg("re-bill lines are written by leasemgr.rebill"),
					 errdetail("Amendment %s is not an approved amendment of contract %s waiting to be re-billed.",
							   lm_row_text(&row, lm_attnum(rel, "amendment_id")), lm_row_text(&row, contract_att)),
					 errhint("Leave amendment_id empty on a correction of your own; leasemgr.rebill re-bills amendments.")));
	}

	args[0] = lm_row_datum(&row, bill_att);
	args[1] = lm_row_datum(&row, contract_att);
	args[2] = lm_row_null(&row, charge_att) ? (Datum) 0 : lm_row_datum(&row, charge_att);
	lm_spi_connect(&spi);
	if (SPI_execute_with_args("SELECT b.voided_at IS NULL, "
							  "       b.contract_id OPERATOR(pg_catalog.=) $2, "
							  "       $3 IS NULL OR EXISTS (SELECT FROM leasemgr.charge c "
							  "                              WHERE c.id OPERATOR(pg_catalog.=) $3 "
							  "                                AND c.contract_id OPERATOR(pg_catalog.=) $2) "
							  "FROM leasemgr.bill b WHERE b.id OPERATOR(pg_catalog.=) $1",
							  3, types, args, lm_row_null(&row, charge_att) ? "  n" : "   ",
							  false, 1) != SPI_OK_SELECT)
		elog(ERROR, "bill query failed");
	if (SPI_processed == 0)
		lm_row_not_found("bill", args[0]);
	{
		bool		isnull;
		HeapTuple	t = SPI_tuptable->vals[0];
		TupleDesc	d = SPI_tuptable->tupdesc;

		if (!DatumGetBool(SPI_getbinval(t, d, 1, &isnull)))
			ereport(ERROR,
					(errcode(ERRCODE_LM_APPEND_ONLY),
					 errmsg("bill %lld is void", (long long) DatumGetInt64(args[0])),
					 errhint("Add the line to a valid bill of the contract.")));
		if (!DatumGetBool(SPI_getbinval(t, d, 2, &isnull)) || !DatumGetBool(SPI_getbinval(t, d, 3, &isnull)))
			ereport(ERROR,
					(errcode(ERRCODE_LM_PARK_MISMATCH),
					 errmsg("a line of bill %lld must be for the bill's contract", (long long) DatumGetInt64(args[0])),
					 errdetail("The line names contract %lld%s.", (long long) DatumGetInt64(args[1]),
							   lm_row_null(&row, charge_att) ? "" : " and a charge"),
					 errhint("Use the bill of the line's contract, and a charge of that contract.")));
	}
	lm_spi_finish(&spi);
	return PointerGetDatum(td->tg_trigtuple);
}

/*
 * AFTER INSERT ON leasemgr.bill_line FOR EACH STATEMENT, with the new lines as new_lines.
 *
 * bill.amount is the sum of the bill's lines, for every writer: after lines are added by
 * hand (adjustments, late fees), their bills are brought to their totals. The bill run is
 * the exception that needs no work: it inserts each bill with the total of the lines it then
 * adds to it, and only to bills it has just created, so nothing would change.
 */
Datum
bill_line_totals(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	bool		spi = false;

	lm_check_trigger(fcinfo, "bill_line_totals", false, false);
	if (lm_bill_run_writing)
		return PointerGetDatum(NULL);
	lm_spi_connect(&spi);
	if (SPI_register_trigger_data(td) != SPI_OK_TD_REGISTER)
		elog(ERROR, "bill_line_totals: transition table not registered");

	/*
	 * Lock the bills first, in id order: two transactions adding lines to one bill take
	 * turns, and the second sums the lines the first committed (the UPDATE is a new statement
	 * with a new snapshot).
	 */
	if (SPI_execute("SELECT FROM leasemgr.bill b "
					"WHERE b.id OPERATOR(pg_catalog.=) ANY (SELECT n.bill_id FROM new_lines n) "
					"ORDER BY b.id FOR NO KEY UPDATE",
					false, 0) != SPI_OK_SELECT)
		elog(ERROR, "bill lock failed");
	if (SPI_execute("UPDATE leasemgr.bill b SET amount = t.total "
					"FROM (SELECT l.bill_id, pg_catalog.sum(l.amount) AS total FROM leasemgr.bill_line l "
					"      WHERE l.bill_id OPERATOR(pg_catalog.=) ANY (SELECT n.bill_id FROM new_lines n) "
					"      GROUP BY l.bill_id) t "
					"WHERE b.id OPERATOR(pg_catalog.=) t.bill_id AND b.amount OPERATOR(pg_catalog.<>) t.total",
					false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "bill total update failed");
	lm_spi_finish(&spi);
	return PointerGetDatum(NULL);
}
