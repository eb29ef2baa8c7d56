/*
 * late_fee.c
 *     late_fee(bill_id, as_of): the late fee (滞纳金) a bill has accrued, day by day on the
 *     principal still unpaid, under the contract's late-fee policy or the park's default.
 *
 * The day count is the pure-C core's (src/core/lm_late_fee.c): segments of days, each with
 * the principal unpaid on them, in cents. Here they meet the policy exactly:
 *
 *     fee = sum(unpaid cents x days) x daily_rate_pct / 100 / 100 (cents to CNY)
 *     cap = principal cents x cap_pct / 100 / 100
 *
 * Both are numerators over the same denominator 10,000, so the cap is applied to exact
 * values and the result is rounded once, by lm_money_round, like every amount we compute.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/numeric.h"

#include "leasemgr.h"
#include "lm_late_fee.h"

PG_FUNCTION_INFO_V1(late_fee);

/* Percent of a rate, and cents of a yuan: the fee's numerator is over 100 x 100. */
#define LM_PCT_CENTS_DEN 10000

typedef struct BillFacts
{
	Datum		contract_id;
	Datum		park_id;
	DateADT		due_on;
	bool		voided;
	int64		principal_cents;
} BillFacts;

typedef struct Policy
{
	Numeric		daily_rate_pct;
	int32		grace_days;
	Numeric		cap_pct;		/* NULL: no cap */
} Policy;

/* The bill as row-level security lets the caller see it; false when it does not. */
static bool
read_bill(Datum bill_id, BillFacts *b)
{
	static SPIPlanPtr plan = NULL;
	HeapTuple	t;
	TupleDesc	d;
	bool		isnull;

	if (plan == NULL)
	{
		Oid			types[1] = {INT8OID};

		/* principal: the charge and adjustment lines; late-fee lines never accrue a fee */
		plan = lm_keep_plan("SELECT b.contract_id, b.park_id, b.due_on, b.voided_at IS NOT NULL, "
							"(SELECT COALESCE(pg_catalog.sum(l.amount), 0) OPERATOR(pg_catalog.*) 100 "
							"   FROM leasemgr.bill_line l "
							"  WHERE l.bill_id OPERATOR(pg_catalog.=) b.id "
							"    AND l.line_type OPERATOR(pg_catalog.<>) 'late_fee')::pg_catalog.int8 "
							"FROM leasemgr.bill b WHERE b.id OPERATOR(pg_catalog.=) $1",
							1, types);
	}
	if (SPI_execute_plan(plan, &bill_id, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "bill query failed");
	if (SPI_processed == 0)
		return false;
	t = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	b->contract_id = SPI_getbinval(t, d, 1, &isnull);
	b->park_id = SPI_getbinval(t, d, 2, &isnull);
	b->due_on = DatumGetDateADT(SPI_getbinval(t, d, 3, &isnull));
	b->voided = DatumGetBool(SPI_getbinval(t, d, 4, &isnull));
	b->principal_cents = DatumGetInt64(SPI_getbinval(t, d, 5, &isnull));
	return true;
}

/* The contract's own policy, else the park's default; false when neither exists. */
static bool
read_policy(const BillFacts *b, Policy *p)
{
	static SPIPlanPtr plan = NULL;
	Datum		args[2] = {b->contract_id, b->park_id};
	HeapTuple	t;
	TupleDesc	d;
	bool		isnull;
	Datum		cap;

	if (plan == NULL)
	{
		Oid			types[2] = {INT8OID, INT8OID};

		plan = lm_keep_plan("SELECT daily_rate_pct, grace_days, cap_pct FROM leasemgr.late_fee_policy "
							"WHERE park_id OPERATOR(pg_catalog.=) $2 "
							"AND (contract_id OPERATOR(pg_catalog.=) $1 OR contract_id IS NULL) "
							"ORDER BY contract_id IS NULL LIMIT 1",
							2, types);
	}
	if (SPI_execute_plan(plan, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "late fee policy query failed");
	if (SPI_processed == 0)
		return false;
	t = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	p->daily_rate_pct = DatumGetNumeric(SPI_getbinval(t, d, 1, &isnull));
	p->grace_days = DatumGetInt32(SPI_getbinval(t, d, 2, &isnull));
	cap = SPI_getbinval(t, d, 3, &isnull);
	p->cap_pct = isnull ? NULL : DatumGetNumeric(cap);
	return true;
}

/* The bill's principal allocations in cents, by the day they count from. */
static LmPaidPart *
read_principal_paid(Datum bill_id, int *n)
{
	static SPIPlanPtr plan = NULL;
	LmPaidPart *paid;
	uint64		i;

	if (plan == NULL)
	{
		Oid			types[1] = {INT8OID};

		plan = lm_keep_plan("SELECT effective_on, (amount OPERATOR(pg_catalog.*) 100)::pg_catalog.int8 "
							"FROM leasemgr.payment_allocation "
							"WHERE bill_id OPERATOR(pg_catalog.=) $1 AND part OPERATOR(pg_catalog.=) 'principal' "
							"ORDER BY effective_on",
							1, types);
	}
	if (SPI_execute_plan(plan, &bill_id, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "payment allocation query failed");
	if (SPI_processed > (uint64) (INT_MAX - 1))
		elog(ERROR, "too many payment allocations for one bill");
	*n = (int) SPI_processed;
	/* one more than allocations: the core writes up to n + 1 segments into this size too */
	paid = palloc(sizeof(LmPaidPart) * (SPI_processed + 1));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		bool		isnull;

		paid[i].on = DatumGetDateADT(SPI_getbinval(t, SPI_tuptable->tupdesc, 1, &isnull));
		paid[i].cents = DatumGetInt64(SPI_getbinval(t, SPI_tuptable->tupdesc, 2, &isnull));
	}
	return paid;
}

/*
 * The days amendments froze the bill's contract, as business days: from the day one was
 * opened to the day before it was decided (through as_of while it is open). No late fee
 * accrues on them: dunning pauses while the terms are being changed.
 */
static LmDateRange *
read_frozen_days(Datum contract_id, DateADT as_of, int *n)
{
	static SPIPlanPtr plan = NULL;
	Datum		args[2] = {contract_id, CStringGetTextDatum(lm_timezone)};
	LmDateRange *frozen;
	uint64		i;

	if (plan == NULL)
	{
		Oid			types[2] = {INT8OID, TEXTOID};

		plan = lm_keep_plan("SELECT pg_catalog.timezone($2, a.requested_at)::pg_catalog.date, "
							"pg_catalog.timezone($2, a.decided_at)::pg_catalog.date "
							"FROM leasemgr.amendment a WHERE a.contract_id OPERATOR(pg_catalog.=) $1",
							2, types);
	}
	if (SPI_execute_plan(plan, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "amendment query failed");
	*n = (int) Min(SPI_processed, (uint64) INT_MAX);
	frozen = palloc(sizeof(LmDateRange) * Max(*n, 1));
	for (i = 0; i < (uint64) *n; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		bool		isnull;
		Datum		decided;

		frozen[i].lo = DatumGetDateADT(SPI_getbinval(t, SPI_tuptable->tupdesc, 1, &isnull));
		decided = SPI_getbinval(t, SPI_tuptable->tupdesc, 2, &isnull);
		frozen[i].hi = isnull ? as_of : DatumGetDateADT(decided) - 1;
	}
	return frozen;
}

/*
 * late_fee(bill_id bigint, as_of date) RETURNS numeric, STABLE STRICT: the fee owed on
 * as_of if the rest of the principal is paid that day. 0.00 for a void bill and for a
 * contract and park without a policy, and for a bill whose principal is zero or less.
 */
Datum
late_fee(PG_FUNCTION_ARGS)
{
	Datum		bill_id = PG_GETARG_DATUM(0);
	DateADT		as_of = PG_GETARG_DATEADT(1);
	bool		spi = false;
	BillFacts	b;
	Policy		p;
	LmPaidPart *paid;
	LmAccrual  *seg;
	LmDateRange *frozen;
	int			nfrozen;
	int			npaid;
	int			nseg;
	int			i;
	Numeric		num;
	Numeric		den = lm_num(LM_PCT_CENTS_DEN);
	Datum		result;

	if (DATE_NOT_FINITE(as_of))
		ereport(ERROR,
				(errcode(ERRCODE_LM_INVALID_ARGUMENT),
				 errmsg("as_of must be a calendar day, not %s", lm_date_text(as_of)),
				 errdetail("A late fee is counted in days up to the day before as_of."),
				 errhint("Pass the day the rest would be paid, e.g. leasemgr.business_date().")));

	lm_spi_connect(&spi);
	if (!read_bill(bill_id, &b))
		lm_row_not_found("bill", bill_id);

	num = lm_num(0);
	if (!b.voided && b.principal_cents > 0 && !DATE_NOT_FINITE(b.due_on) && read_policy(&b, &p))
	{
		paid = read_principal_paid(bill_id, &npaid);
		seg = palloc(sizeof(LmAccrual) * (npaid + 1));
		nseg = lm_late_fee_accrual(b.due_on, p.grace_days, as_of, b.principal_cents, paid, npaid, seg);
		if (nseg < 0)
			elog(ERROR, "late fee of bill %lld: allocations out of order",
				 (long long) DatumGetInt64(bill_id));
		frozen = read_frozen_days(b.contract_id, as_of, &nfrozen);
		for (i = 0; i < nseg; i++)
			num = lm_num_add(num, lm_num_mul(lm_num(seg[i].unpaid_cents),
											 lm_num(lm_days_not_frozen(seg[i].from, seg[i].to, frozen, nfrozen))));
		num = lm_num_mul(num, p.daily_rate_pct);
		if (p.cap_pct != NULL)
		{
			Numeric		cap = lm_num_mul(lm_num(b.principal_cents), p.cap_pct);

			if (lm_num_cmp(num, cap) > 0)
				num = cap;
		}
	}
	/* Rounded once, here; the cap above compares exact values. */
	result = SPI_datumTransfer(NumericGetDatum(lm_money_round(num, den)), false, -1);
	lm_spi_finish(&spi);
	PG_RETURN_DATUM(result);
}
