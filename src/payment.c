/*
 * payment.c
 *     The guard of leasemgr.payment: money received is recorded once and kept exactly as
 *     recorded. Only its unallocated balance moves, and only to what its allocations leave.
 *
 * record_payment() and apply_credit() (sql/66_payments.sql) do the work; this trigger makes
 * the same rules hold for any writer: a direct INSERT takes its park from the contract and
 * starts fully unallocated, an UPDATE may only bring unallocated to amount minus the sum of
 * the payment's allocations (what the allocation trigger does), and nothing is deleted.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "leasemgr.h"

PG_FUNCTION_INFO_V1(payment_before_write);

enum
{
	P_ID, P_PARK_ID, P_CONTRACT_ID, P_AMOUNT, P_PAID_ON, P_CHANNEL, P_REFERENCE, P_UNALLOCATED,
	P_RECORDED_BY, P_RECORDED_AT, P__COUNT
};
static const char *const payment_colnames[P__COUNT] = {
	"id", "park_id", "contract_id", "amount", "paid_on", "channel", "reference", "unallocated",
	"recorded_by", "recorded_at"
};

typedef struct PaymentCache
{
	LmStatementCache base;
	int			att[P__COUNT];
} PaymentCache;

/* The contract a new payment is for, as the caller may see it (row-level security). */
static LmContractFacts
contract_of(Datum contract_id)
{
	static SPIPlanPtr plan = NULL;
	LmContractFacts f = {0};
	bool		isnull;

	if (plan == NULL)
	{
		Oid			types[1] = {INT8OID};

		/* No row lock: payments never change the contract, and finance may not lock it. */
		plan = lm_keep_plan("SELECT park_id, code FROM leasemgr.contract WHERE id OPERATOR(pg_catalog.=) $1",
							1, types);
	}
	if (SPI_execute_plan(plan, &contract_id, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "contract query failed");
	if (SPI_processed == 0)
		return f;
	f.found = true;
	f.park_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	f.code = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	return f;
}

/* unallocated may only become amount minus the sum of the payment's allocations. */
static void
check_unallocated(const LmRow *row, const int *att)
{
	static SPIPlanPtr plan = NULL;
	Datum		id = lm_row_datum(row, att[P_ID]);
	Datum		allocated;
	Numeric		balance;
	bool		isnull;

	if (plan == NULL)
	{
		Oid			types[1] = {INT8OID};

		plan = lm_keep_plan("SELECT COALESCE(pg_catalog.sum(amount), 0) FROM leasemgr.payment_allocation "
							"WHERE payment_id OPERATOR(pg_catalog.=) $1", 1, types);
	}
	if (SPI_execute_plan(plan, &id, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "payment allocation query failed");
	allocated = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	balance = lm_num_sub(DatumGetNumeric(lm_row_datum(row, att[P_AMOUNT])), DatumGetNumeric(allocated));
	if (lm_row_null(row, att[P_UNALLOCATED]) ||
		lm_num_cmp(DatumGetNumeric(lm_row_datum(row, att[P_UNALLOCATED])), balance) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_LM_APPEND_ONLY),
				 errmsg("payment.unallocated is a balance and cannot be set to %s",
						lm_row_text(row, att[P_UNALLOCATED])),
				 errdetail("Payment %s of %s has %s allocated to bills, which leaves %s.",
						   lm_row_text(row, att[P_ID]),
						   lm_money_text(DatumGetNumeric(lm_row_datum(row, att[P_AMOUNT]))),
						   lm_money_text(DatumGetNumeric(allocated)), lm_money_text(balance)),
				 errhint("Allocate credit with leasemgr.apply_credit(contract_id); the balance follows.")));
}

/*
 * BEFORE INSERT OR UPDATE OR DELETE ON leasemgr.payment FOR EACH ROW.
 */
Datum
payment_before_write(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel;
	PaymentCache *cache;
	bool		fresh;
	const int  *att;
	LmRow		old = {0};
	LmRow		new = {0};
	LmEdits		edits = {.cxt = CurrentMemoryContext};
	bool		spi = false;
	HeapTuple	result;
	int			i;

	lm_check_trigger(fcinfo, "payment_before_write", true, true);
	rel = td->tg_relation;
	cache = lm_statement_cache(fcinfo, rel, sizeof(PaymentCache), &fresh);
	if (fresh)
		lm_resolve_columns(rel, payment_colnames, P__COUNT, cache->att);
	att = cache->att;

	if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
	{
		lm_row_init(&old, td->tg_trigtuple, RelationGetDescr(rel));
		ereport(ERROR,
				(errcode(ERRCODE_LM_APPEND_ONLY),
				 errmsg("payments are never deleted"),
				 errdetail("Payment %s of %s (%s reference %s) was received and stays on record.",
						   lm_row_text(&old, att[P_ID]),
						   lm_money_text(DatumGetNumeric(lm_row_datum(&old, att[P_AMOUNT]))),
						   lm_row_text(&old, att[P_CHANNEL]), lm_row_text(&old, att[P_REFERENCE])),
				 errhint("A payment recorded in error is reversed by a new entry, not deleted.")));
	}

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
	{
		if (lm_is_owner_copy(rel))
			return PointerGetDatum(td->tg_trigtuple);
		lm_row_init(&new, td->tg_trigtuple, RelationGetDescr(rel));
		if (!lm_row_null(&new, att[P_CONTRACT_ID]))
		{
			Datum		contract_id = lm_row_datum(&new, att[P_CONTRACT_ID]);
			LmContractFacts f;

			lm_spi_connect(&spi);
			f = contract_of(contract_id);
			if (!f.found)
				lm_row_not_found("contract", contract_id);
			lm_check_park_of_contract(&new, att[P_PARK_ID], &f);
			lm_edit(&edits, att[P_PARK_ID], Int64GetDatum(f.park_id), false);
		}
		/* A new payment is all credit until it is allocated. */
		if (!lm_row_null(&new, att[P_UNALLOCATED]) && !lm_row_null(&new, att[P_AMOUNT]) &&
			lm_num_cmp(DatumGetNumeric(lm_row_datum(&new, att[P_UNALLOCATED])),
					   DatumGetNumeric(lm_row_datum(&new, att[P_AMOUNT]))) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_LM_APPEND_ONLY),
					 errmsg("a new payment starts fully unallocated"),
					 errdetail("unallocated is %s but the payment is %s; allocations are recorded after the payment.",
							   lm_row_text(&new, att[P_UNALLOCATED]), lm_row_text(&new, att[P_AMOUNT])),
					 errhint("Leave unallocated out, or record the payment with leasemgr.record_payment.")));
		lm_edit(&edits, att[P_UNALLOCATED], lm_row_datum(&new, att[P_AMOUNT]),
				lm_row_null(&new, att[P_AMOUNT]));
		/* Who recorded it and when are stamps, not input. */
		lm_edit(&edits, att[P_RECORDED_BY], CStringGetTextDatum(lm_current_actor()), false);
		lm_edit(&edits, att[P_RECORDED_AT], TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()), false);
		result = lm_edits_apply(&edits, new.tuple, new.desc);
		lm_spi_finish(&spi);
		return PointerGetDatum(result);
	}

	lm_row_init(&old, td->tg_trigtuple, RelationGetDescr(rel));
	lm_row_init(&new, td->tg_newtuple, RelationGetDescr(rel));
	for (i = 0; i < P__COUNT; i++)
	{
		if (i == P_UNALLOCATED || !lm_row_changed(&old, &new, att[i]))
			continue;
		ereport(ERROR,
				(errcode(ERRCODE_LM_APPEND_ONLY),
				 errmsg("payment.%s cannot change once the payment is recorded", payment_colnames[i]),
				 errdetail("Payment %s: %s was %s.", lm_row_text(&old, att[P_ID]), payment_colnames[i],
						   lm_row_text(&old, att[i])),
				 errhint("A payment recorded in error is reversed by a new entry, not edited.")));
	}
	if (lm_row_changed(&old, &new, att[P_UNALLOCATED]))
	{
		lm_spi_connect(&spi);
		check_unallocated(&new, att);
		lm_spi_finish(&spi);
	}
	return PointerGetDatum(td->tg_newtuple);
}
