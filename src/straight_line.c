/*
 * straight_line.c
 *     leasemgr.straight_line_schedule: a lessor's straight-line rental income for the fixed
 *     rent of an operating lease (IFRS 16 / ASC 842), month by month, beside what is billed.
 *
 * The billed side is what the billing engine (billing.c) computes for the contract's fixed
 * rent charges over the whole lease: rent kind, basis per_m2_month, fixed_month or
 * per_m2_day, escalation none, pct or amount. CPI-indexed and turnover rent are variable
 * lease payments: they are recognised when they arise, so they are left out. Each line
 * counts in the calendar month its period starts (a quarterly line in the quarter's first
 * month), so no line is ever split and rounded again.
 *
 * The straight-line side spreads the total T of those lines evenly over the days of the
 * lease (N days): up to the end of month m, T x (lease days up to then) / N. That cumulative
 * amount is rounded once per month with lm_money_round (money.c), and each month's
 * straight-line income is the difference of two cumulative amounts. The months therefore
 * add up to T exactly, and the deferred balance (cumulative straight-line minus cumulative
 * billed: accrued rent receivable when positive) ends at 0.00 in the last month.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "leasemgr.h"
#include "billing.h"
#include "lm_calendar.h"
#include "lm_schedule.h"

PG_FUNCTION_INFO_V1(straight_line_schedule);

/* What each calendar month of the lease is billed, summed line by line. */
typedef struct Months
{
	int			first;			/* lm_month_index of the lease's first month */
	int			n;
	Numeric    *billed;
	MemoryContext cxt;			/* where the monthly totals live */
} Months;

static bool
all_periods(void *arg, const LmPeriod *p)
{
	return true;
}

static bool
add_line(void *arg, LmContractTerms *c, const LmLine *line)
{
	Months	   *ms = arg;
	int			i = lm_month_index(line->start) - ms->first;

	/* Fixed rent always has an amount; only turnover waits for its sales report. */
	if (line->amount != NULL && i >= 0 && i < ms->n)
	{
		/* In our memory: a price-index lookup may have left SPI's context current. */
		MemoryContext old = MemoryContextSwitchTo(ms->cxt);

		ms->billed[i] = lm_num_add(ms->billed[i], line->amount);
		MemoryContextSwitchTo(old);
	}
	return true;
}

/* 0.00: a month without rent shows two decimals like every other amount. */
static Numeric
zero_cents(void)
{
	return DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum("0.00"),
											   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
}

/* Fixed rent: the rent kind with a fixed schedule (no turnover share, no CPI index). */
static bool
is_straight_lined(const LmCharge *ch)
{
	return strcmp(ch->kind, "rent") == 0 && ch->basis != LM_BASIS_TURNOVER_PCT
		&& ch->escalation != LM_ESC_CPI;
}

/*
 * straight_line_schedule(contract_id bigint)
 *   RETURNS TABLE(month date, billed numeric, straight_line numeric, deferred_balance numeric)
 */
Datum
straight_line_schedule(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		contract_id = PG_GETARG_INT64(0);
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext work;
	LmContractTerms c;
	Months		ms;
	Numeric		total;
	Numeric		lease_days;
	Numeric		cum_sl;
	Numeric		cum_billed;
	int			cum_days;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	/* The terms, the lines and their explanations; the tuplestore copies the rows. */
	work = AllocSetContextCreate(caller, "straight_line_schedule", ALLOCSET_DEFAULT_SIZES);

	SPI_connect();
	MemoryContextSwitchTo(work);
	if (!lm_load_contract(contract_id, &c))
	{
		SPI_finish();
		lm_row_not_found("contract", Int64GetDatum(contract_id));
	}
	/* SPI calls return in SPI's procedure context, which SPI_finish frees: come back. */
	MemoryContextSwitchTo(work);
	ms.cxt = work;
	ms.first = lm_month_index(c.start_date);
	ms.n = lm_month_index(c.last_day) - ms.first + 1;
	ms.billed = palloc(sizeof(Numeric) * ms.n);
	for (i = 0; i < ms.n; i++)
		ms.billed[i] = zero_cents();
	for (i = 0; i < c.ncharges; i++)
	{
		LmChargeSchedule s;

		if (!is_straight_lined(&c.charges[i]))
			continue;
		lm_charge_schedule(&c, &c.charges[i], &s);
		lm_charge_lines(&c, &c.charges[i], &s, 0, all_periods, add_line, &ms);
		MemoryContextSwitchTo(work);
	}
	/* SPI_finish returns to the caller's memory; the rest is arithmetic, in ours. */
	SPI_finish();
	MemoryContextSwitchTo(work);

	total = zero_cents();
	for (i = 0; i < ms.n; i++)
		total = lm_num_add(total, ms.billed[i]);
	lease_days = lm_num(c.last_day - c.start_date + 1);

	cum_sl = zero_cents();
	cum_billed = zero_cents();
	cum_days = 0;
	for (i = 0; i < ms.n; i++)
	{
		DateADT		month = lm_month_from_index(ms.first + i);
		DateADT		lo = Max(month, c.start_date);
		DateADT		hi = Min(lm_month_end(month), c.last_day);
		Numeric		upto;
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		cum_days += hi - lo + 1;
		/* T x days so far / N, rounded once: the last month comes to T itself. */
		upto = lm_money_round(lm_num_mul(total, lm_num(cum_days)), lease_days);
		cum_billed = lm_num_add(cum_billed, ms.billed[i]);
		values[0] = DateADTGetDatum(month);
		values[1] = NumericGetDatum(ms.billed[i]);
		values[2] = NumericGetDatum(lm_num_sub(upto, cum_sl));
		values[3] = NumericGetDatum(lm_num_sub(upto, cum_billed));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		cum_sl = upto;
	}
	MemoryContextSwitchTo(caller);
	MemoryContextDelete(work);
	return (Datum) 0;
}
