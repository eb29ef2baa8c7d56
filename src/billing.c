/*
 * billing.c
 *     The billing engine: what a contract's charges come to, period by period, with the
 *     calculation in words; leasemgr.compute_charges, which shows it without writing; and
 *     leasemgr.rent_in_force, the fixed rent in force on a day, for the rent roll.
 *
 * The calendar (periods, escalation steps, free days, proration fractions) comes from the
 * pure-C core (src/core/lm_schedule.c). Here the fractions meet the money: every factor is
 * multiplied exactly with numeric, as a numerator and a denominator, and lm_money_round
 * (money.c) rounds the line once. The bill run (bill_run.c) uses the same lm_charge_lines.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "leasemgr.h"
#include "billing.h"
#include "lm_calendar.h"
#include "lm_schedule.h"
#include "meter.h"

PG_FUNCTION_INFO_V1(compute_charges);
PG_FUNCTION_INFO_V1(charge_periods);
PG_FUNCTION_INFO_V1(rent_in_force);

static const char *const kind_names[] = {
	"rent", "property_fee", "service", "parking", "ac", "utility", "turnover", "other"
};

static int
kind_bit(const char *kind)
{
	int			i;

	for (i = 0; i < (int) lengthof(kind_names); i++)
		if (strcmp(kind, kind_names[i]) == 0)
			return 1 << i;
	elog(ERROR, "unknown charge kind \"%s\"", kind);
	return 0;
}

/* ---- reading terms ---------------------------------------------------------------- */

static Numeric
get_numeric(const LmRow *row, int col)
{
	return lm_row_null(row, col) ? NULL : DatumGetNumericCopy(lm_row_datum(row, col));
}

static DateADT
get_date(const LmRow *row, int col, bool *isnull)
{
	*isnull = lm_row_null(row, col);
	return *isnull ? 0 : DatumGetDateADT(lm_row_datum(row, col));
}

static int32
get_int(const LmRow *row, int col, int32 dflt)
{
	return lm_row_null(row, col) ? dflt : DatumGetInt32(lm_row_datum(row, col));
}

/* A text column as a C string, NULL for NULL: what SPI_getvalue gives for text. */
static char *
get_text(const LmRow *row, int col)
{
	return lm_row_null(row, col) ? NULL : TextDatumGetCString(lm_row_datum(row, col));
}

/* A numeric[] column (NULL: none), its elements copied out. */
static int
get_numerics(const LmRow *row, int col, Numeric **out)
{
	Datum	   *elems;
	int			n,
				i;

	*out = NULL;
	if (lm_row_null(row, col))
		return 0;
	deconstruct_array(DatumGetArrayTypeP(lm_row_datum(row, col)), NUMERICOID, -1, false, TYPALIGN_INT,
					  &elems, NULL, &n);
	*out = palloc(sizeof(Numeric) * Max(n, 1));
	for (i = 0; i < n; i++)
		(*out)[i] = DatumGetNumericCopy(elems[i]);
	return n;
}

static int
get_texts(const LmRow *row, int col, char ***out)
{
	Datum	   *elems;
	int			n,
				i;

	*out = NULL;
	if (lm_row_null(row, col))
		return 0;
	deconstruct_array(DatumGetArrayTypeP(lm_row_datum(row, col)), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, NULL, &n);
	*out = palloc(sizeof(char *) * Max(n, 1));
	for (i = 0; i < n; i++)
		(*out)[i] = TextDatumGetCString(elems[i]);
	return n;
}

void
lm_read_contract(LmContractTerms *c, const LmRow *row, int first)
{
	bool		isnull;

	c->id = DatumGetInt64(lm_row_datum(row, first));
	c->park_id = DatumGetInt64(lm_row_datum(row, first + 1));
	c->code = get_text(row, first + 2);
	c->start_date = get_date(row, first + 3, &isnull);
	c->end_date = get_date(row, first + 4, &isnull);
	c->last_day = get_date(row, first + 5, &isnull);
	c->area = get_numeric(row, first + 6);
	c->ncharges = 0;
	c->charges = NULL;
	c->nfree = 0;
	c->free = NULL;
}

void
lm_read_charge(LmCharge *ch, const LmRow *row, int first)
{
	bool		isnull;
	char	   *s;

	memset(ch, 0, sizeof(*ch));
	ch->id = DatumGetInt64(lm_row_datum(row, first));
	ch->kind = get_text(row, first + 1);
	ch->kind_bit = kind_bit(ch->kind);
	s = get_text(row, first + 2);
	ch->basis = strcmp(s, "per_m2_month") == 0 ? LM_BASIS_PER_M2_MONTH
		: strcmp(s, "fixed_month") == 0 ? LM_BASIS_FIXED_MONTH
		: strcmp(s, "per_m2_day") == 0 ? LM_BASIS_PER_M2_DAY
		: strcmp(s, "metered") == 0 ? LM_BASIS_METERED : LM_BASIS_TURNOVER_PCT;
	ch->rate = get_numeric(row, first + 3);
	ch->breakpoint = get_numeric(row, first + 4);
	ch->valid_from = get_date(row, first + 5, &isnull);
	ch->valid_to = get_date(row, first + 6, &isnull);
	ch->cycle_months = get_int(row, first + 7, 1);
	ch->arrears = strcmp(get_text(row, first + 8), "arrears") == 0;
	ch->due_day = get_int(row, first + 9, 5);
	s = get_text(row, first + 10);
	ch->proration = strcmp(s, "thirty_360") == 0 ? LM_PRORATE_THIRTY_360
		: strcmp(s, "annual_365") == 0 ? LM_PRORATE_ANNUAL_365 : LM_PRORATE_ACTUAL_DAYS;
	s = get_text(row, first + 11);
	ch->escalation = strcmp(s, "pct") == 0 ? LM_ESC_PCT
		: strcmp(s, "amount") == 0 ? LM_ESC_AMOUNT
		: strcmp(s, "cpi") == 0 ? LM_ESC_CPI : LM_ESC_NONE;
	ch->every_months = get_int(row, first + 12, 0);
	ch->anchor = get_date(row, first + 13, &isnull);
	if (isnull)
		ch->anchor = ch->valid_from;
	ch->escalation_pct = get_numeric(row, first + 14);
	ch->escalation_amount = get_numeric(row, first + 15);
	ch->cpi_series = get_text(row, first + 16);
	ch->cpi_base_month = get_date(row, first + 17, &isnull);
	ch->cpi_lag_months = get_int(row, first + 18, 0);
	ch->cpi_cap_pct = get_numeric(row, first + 19);
	ch->cpi_floor_pct = get_numeric(row, first + 20);
	if (ch->escalation == LM_ESC_NONE)
		ch->every_months = 0;
	ch->meter_kind = get_text(row, first + 21);
	ch->ntiers = get_numerics(row, first + 22, &ch->tiers);
	(void) get_numerics(row, first + 23, &ch->tier_rates);
	ch->ntou = get_texts(row, first + 24, &ch->tou_registers);
	(void) get_numerics(row, first + 25, &ch->tou_rates);
	ch->area = get_numeric(row, first + 26);
}

void
lm_read_free_rent(LmFreeRent *f, const LmRow *row, int first)
{
	bool		isnull;
	Datum	   *elems;
	int			n,
				i;

	f->lo = get_date(row, first, &isnull);
	f->hi = get_date(row, first + 1, &isnull);
	f->kind_bits = 0;
	deconstruct_array(DatumGetArrayTypeP(lm_row_datum(row, first + 2)), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, NULL, &n);
	for (i = 0; i < n; i++)
		f->kind_bits |= kind_bit(TextDatumGetCString(elems[i]));
}

/* ---- escalation ------------------------------------------------------------------- */

static Numeric
parse_num(const char *s)
{
	return DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(s),
											   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
}

/* A numeric as text without trailing zeros: 1.0500 -> 1.05. */
static char *
num_text_trim(Numeric n)
{
	return DatumGetCString(DirectFunctionCall1(numeric_out,
											   DirectFunctionCall1(numeric_trim_scale, NumericGetDatum(n))));
}

static char *
num_text(Numeric n)
{
	return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(n)));
}

static char *
month_text(DateADT month)
{
	int			y,
				m,
				d;

	lm_ymd(month, &y, &m, &d);
	return psprintf("%04d-%02d", y, m);
}

Numeric
lm_price_index(const char *series, DateADT month)
{
	static SPIPlanPtr plan = NULL;
	MemoryContext cxt = CurrentMemoryContext;
	Datum		args[2];
	bool		isnull;
	Numeric		value = NULL;

	if (plan == NULL)
	{
		Oid			argtypes[2] = {TEXTOID, DATEOID};

		plan = lm_keep_plan("SELECT value FROM leasemgr.price_index WHERE series OPERATOR(pg_catalog.=) $1 "
							"AND month OPERATOR(pg_catalog.=) $2", 2, argtypes);
	}
	args[0] = CStringGetTextDatum(series);
	args[1] = DateADTGetDatum(month);
	if (SPI_execute_plan(plan, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "price index query failed");
	/* SPI returns in its procedure context, which lives as long as a whole bill run. */
	MemoryContextSwitchTo(cxt);
	if (SPI_processed > 0)
		value = DatumGetNumericCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return value;
}

/*
 * The index of a month a CPI step needs. A missing month is an error naming it, or with
 * missing_ok NULL: the step cannot be computed yet (the index is published later).
 */
static Numeric
price_index(LmCharge *ch, DateADT month, int step, bool missing_ok)
{
	Numeric		value = lm_price_index(ch->cpi_series, month);

	if (value == NULL && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_LM_PRICE_INDEX_MISSING),
				 errmsg("price index %s has no value for %s", ch->cpi_series, month_text(month)),
				 errdetail("Charge %lld escalates by CPI; its step %d needs the index of %s.",
						   (long long) ch->id, step, month_text(month)),
				 errhint("Load the month into leasemgr.price_index (series, month, value).")));
	return value;
}

/* a/b < c/d for positive denominators */
static bool
frac_less(Numeric a, Numeric b, Numeric c, Numeric d)
{
	return lm_num_cmp(lm_num_mul(a, d), lm_num_mul(c, b)) < 0;
}

/* 1 + pct / 100, exactly (pct has 4 decimals, so this has 6). */
static Numeric
one_plus_pct(Numeric pct)
{
	return lm_num_add(lm_num(1), lm_num_mul(pct, parse_num("0.01")));
}

/*
 * The rate of each step up to k, computed once per charge. Step 0 is the contract rate.
 * A CPI step whose index month is not loaded yet has num NULL and says so in text when
 * missing_ok, and is an error (LM013) otherwise; so are the steps after it.
 *   pct     rate x (1 + p/100)^k: an exact decimal
 *   amount  rate + k x step: an exact decimal, which must stay above zero
 *   cpi     rate x I(step month - lag) / I(base month), the change from the previous step
 *           held within [floor, cap] percent when they are set: an exact fraction
 */
static LmStepRate *
step_rate(LmCharge *ch, int k, MemoryContext cxt, bool missing_ok)
{
	MemoryContext old;
	int			j;

	if (k < ch->nsteps)
		return &ch->steps[k];
	old = MemoryContextSwitchTo(cxt);
	ch->steps = ch->steps == NULL ? palloc0(sizeof(LmStepRate) * (k + 1))
		: repalloc(ch->steps, sizeof(LmStepRate) * (k + 1));
	for (j = ch->nsteps; j <= k; j++)
	{
		LmStepRate *r = &ch->steps[j];
		LmStepRate *prev = j > 0 ? &ch->steps[j - 1] : NULL;

		r->den = lm_num(1);
		r->text = "";
		r->rate_text = num_text(ch->rate);
		if (j == 0)
		{
			r->num = ch->rate;
			continue;
		}
		switch (ch->escalation)
		{
			case LM_ESC_NONE:
				elog(ERROR, "charge %lld has no escalation steps", (long long) ch->id);
				break;
			case LM_ESC_PCT:
				/* factor_j = factor_(j-1) x (1 + p/100), an exact decimal */
				r->factor = j == 1 ? one_plus_pct(ch->escalation_pct)
					: lm_num_mul(prev->factor, one_plus_pct(ch->escalation_pct));
				r->num = lm_num_mul(ch->rate, r->factor);
				r->text = psprintf(" x %s", num_text_trim(r->factor));
				break;
			case LM_ESC_AMOUNT:
				r->num = lm_num_add(ch->rate, lm_num_mul(lm_num(j), ch->escalation_amount));
				r->rate_text = psprintf("(%s %s %d x %s)", num_text(ch->rate),
										lm_num_cmp(ch->escalation_amount, lm_num(0)) < 0 ? "-" : "+", j,
										num_text(DatumGetNumeric(DirectFunctionCall1(numeric_abs,
																					 NumericGetDatum(ch->escalation_amount)))));
				if (lm_num_cmp(r->num, lm_num(0)) <= 0)
					ereport(ERROR,
							(errcode(ERRCODE_LM_INVALID_CHARGE),
							 errmsg("charge %lld escalates to a rate of %s at step %d", (long long) ch->id,
									num_text(r->num), j),
							 errdetail("%s = %s; a rate must stay above zero.", r->rate_text, num_text(r->num)),
							 errhint("Shorten the charge (valid_to) or change its escalation while the contract is a draft.")));
				break;
			case LM_ESC_CPI:
				{
					DateADT		step_month = lm_add_months(lm_month_start(lm_add_months(ch->anchor, j * ch->every_months)),
														   -ch->cpi_lag_months);
					Numeric		base;
					Numeric		index;
					Numeric		num;
					Numeric		den;
					const char *held = NULL;
					Numeric		bound_pct = NULL;

					if (prev->num == NULL)
					{
						/* missing_ok: an earlier step is not known yet, nor is this one */
						r->num = NULL;
						r->text = prev->text;
						break;
					}
					base = price_index(ch, ch->cpi_base_month, j, missing_ok);
					index = price_index(ch, step_month, j, missing_ok);
					if (base == NULL || index == NULL)
					{
						r->num = NULL;
						r->text = psprintf("CPI step %d needs %s %s, not loaded yet", j, ch->cpi_series,
										   month_text(base == NULL ? ch->cpi_base_month : step_month));
						break;
					}
					num = lm_num_mul(ch->rate, index);
					den = base;

					if (ch->cpi_cap_pct != NULL)
					{
						Numeric		hnum = lm_num_mul(prev->num, one_plus_pct(ch->cpi_cap_pct));

						if (frac_less(hnum, prev->den, num, den))
						{
							num = hnum;
							den = prev->den;
							held = "cap";
							bound_pct = ch->cpi_cap_pct;
						}
					}
					if (held == NULL && ch->cpi_floor_pct != NULL)
					{
						Numeric		lnum = lm_num_mul(prev->num, one_plus_pct(ch->cpi_floor_pct));

						if (frac_less(num, den, lnum, prev->den))
						{
							num = lnum;
							den = prev->den;
							held = "floor";
							bound_pct = ch->cpi_floor_pct;
						}
					}
					r->num = num;
					r->den = den;
					if (held == NULL)
						r->text = psprintf(" x %s/%s (%s %s / %s)", num_text(index), num_text(base),
										   ch->cpi_series, month_text(step_month),
										   month_text(ch->cpi_base_month));
					else
						r->text = psprintf("%s x %s (%s %s / %s = %s/%s, change held at the %s%s%% %s)",
										   prev->text, num_text_trim(one_plus_pct(bound_pct)),
										   ch->cpi_series, month_text(step_month),
										   month_text(ch->cpi_base_month), num_text(index), num_text(base),
										   lm_num_cmp(bound_pct, lm_num(0)) < 0 ? "" : "+",
										   num_text(bound_pct), held);
					break;
				}
		}
	}
	ch->nsteps = k + 1;
	MemoryContextSwitchTo(old);
	return &ch->steps[k];
}

/* ---- lines ------------------------------------------------------------------------ */

void
lm_charge_schedule(LmContractTerms *c, LmCharge *ch, LmChargeSchedule *s)
{
	LmRange    *free_days;
	int			i;

	memset(s, 0, sizeof(*s));
	s->from = Max(ch->valid_from, c->start_date);
	s->to = Min(ch->valid_to, c->last_day);
	s->cycle_months = ch->cycle_months;
	s->arrears = ch->arrears;
	s->due_day = ch->due_day;
	s->proration = ch->proration;
	s->every_months = ch->escalation == LM_ESC_NONE ? 0 : ch->every_months;
	s->anchor = ch->anchor;
	free_days = palloc(sizeof(LmRange) * Max(c->nfree, 1));
	/* consumption is paid for: free rent never applies to a metered charge */
	for (i = 0; i < c->nfree && ch->basis != LM_BASIS_METERED; i++)
		if (c->free[i].kind_bits & ch->kind_bit)
		{
			free_days[s->nfree].lo = c->free[i].lo;
			free_days[s->nfree].hi = c->free[i].hi;
			s->nfree++;
		}
	s->free = free_days;
}

/* Sales of a turnover month, or NULL when not reported yet. */
static Numeric
turnover_sales(LmContractTerms *c, DateADT month)
{
	static SPIPlanPtr plan = NULL;
	MemoryContext cxt = CurrentMemoryContext;
	Datum		args[2];
	bool		isnull;
	Numeric		sales;

	if (plan == NULL)
	{
		Oid			argtypes[2] = {INT8OID, DATEOID};

		plan = lm_keep_plan("SELECT sales FROM leasemgr.turnover_report WHERE contract_id OPERATOR(pg_catalog.=) $1 "
							"AND month OPERATOR(pg_catalog.=) $2", 2, argtypes);
	}
	args[0] = Int64GetDatum(c->id);
	args[1] = DateADTGetDatum(month);
	if (SPI_execute_plan(plan, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "turnover query failed");
	MemoryContextSwitchTo(cxt);
	sales = SPI_processed == 0 ? NULL
		: DatumGetNumericCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return sales;
}

/*
 * "x 17/31 days", "x 1 month", "x 3 months", "x (17/31 + 2) months", "x 17 days x 12/365":
 * the months a segment is worth, as the tenant can recount them.
 */
static void
append_months(StringInfo out, const LmSegment *seg)
{
	int			full = 0;
	int			parts = 0;
	int			i;
	StringInfoData terms;

	initStringInfo(&terms);
	for (i = 0; i < seg->nmonths; i++)
	{
		const LmMonthPart *mp = &seg->months[i];

		if (mp->full)
		{
			full++;
			continue;
		}
		if (parts++ > 0)
			appendStringInfoString(&terms, " + ");
		if (mp->times != 1)
			appendStringInfo(&terms, "%d x %d/%d", mp->counted, mp->times, mp->basis);
		else
			appendStringInfo(&terms, "%d/%d", mp->counted, mp->basis);
	}
	if (parts == 0)
		appendStringInfo(out, " x %d month%s", full, full == 1 ? "" : "s");
	else if (parts == 1 && full == 0)
	{
		const LmMonthPart *mp = &seg->months[0];

		if (mp->times != 1)
			appendStringInfo(out, " x %d days x %d/%d", mp->counted, mp->times, mp->basis);
		else
			appendStringInfo(out, " x %s days", terms.data);
	}
	else if (full > 0)
		appendStringInfo(out, " x (%s + %d) months", terms.data, full);
	else
		appendStringInfo(out, " x (%s) months", terms.data);
}

static void
append_free(StringInfo out, const LmSegment *seg)
{
	int			i;

	for (i = 0; i < seg->nfree; i++)
		appendStringInfo(out, "%s%s..%s", i == 0 ? "; free rent " : ", ",
						 lm_date_text(seg->free[i].lo), lm_date_text(seg->free[i].hi));
	if (seg->more_free)
		appendStringInfoString(out, " and more");
	if (seg->nfree > 0)
		appendStringInfoString(out, " not charged");
}

static const char *
step_note(const LmCharge *ch, const LmSegment *seg)
{
	if (seg->step == 0)
		return "";
	return psprintf(" (%s step %d from %s)", ch->escalation == LM_ESC_CPI ? "CPI" : "escalation",
					seg->step, lm_date_text(seg->step_from));
}

/* The unit a meter kind measures in. */
static const char *
kind_unit(const char *kind)
{
	return strcmp(kind, "water") == 0 || strcmp(kind, "gas") == 0 ? "m3"
		: strcmp(kind, "heat") == 0 ? "GJ" : "kWh";
}

static Numeric
qty_num(int64 thousandths)
{
	return int64_div_fast_to_numeric(thousandths, 3);
}

/*
 * Price a metered quantity (real or estimated) the charge's way: flat, in blocks or by
 * register. The calculation goes to ex; the amount is rounded once.
 */
static Numeric
price_usage(LmCharge *ch, const LmUsage *u, StringInfo ex)
{
	const char *unit = kind_unit(ch->meter_kind);
	Numeric		num = lm_num(0);
	int			k;

	if (ch->ntou > 0)
	{
		appendStringInfoString(ex, "; ");
		for (k = 0; k < ch->ntou; k++)
		{
			num = lm_num_add(num, lm_num_mul(qty_num(u->reg_qty[k]), ch->tou_rates[k]));
			appendStringInfo(ex, "%s%s %s %s x %s", k > 0 ? " + " : "", ch->tou_registers[k],
							 lm_qty_text(u->reg_qty[k]), unit, num_text(ch->tou_rates[k]));
		}
	}
	else if (ch->ntiers > 0)
	{
		Numeric		total = qty_num(u->total);
		Numeric		lower = lm_num(0);

		appendStringInfo(ex, "; %s %s in blocks: ", lm_qty_text(u->total), unit);
		for (k = 0; k <= ch->ntiers && lm_num_cmp(total, lower) > 0; k++)
		{
			Numeric		upper = k < ch->ntiers ? ch->tiers[k] : NULL;
			Numeric		rate = k == 0 ? ch->rate : ch->tier_rates[k - 1];
			Numeric		block = upper != NULL && lm_num_cmp(total, upper) > 0 ? lm_num_sub(upper, lower)
				: lm_num_sub(total, lower);

			num = lm_num_add(num, lm_num_mul(block, rate));
			appendStringInfo(ex, "%s%s x %s", k > 0 ? " + " : "",
							 lm_qty_text(DatumGetInt64(DirectFunctionCall1(numeric_int8, NumericGetDatum(lm_num_mul(block, lm_num(1000)))))),
							 num_text(rate));
			if (upper == NULL)
				break;
			lower = upper;
		}
		if (k == 0)
			appendStringInfoString(ex, "none");
	}
	else
	{
		num = lm_num_mul(qty_num(u->total), ch->rate);
		appendStringInfo(ex, "; %s %s x %s CNY/%s", lm_qty_text(u->total), unit, num_text(ch->rate), unit);
	}
	num = lm_money_round(num, lm_num(1));
	appendStringInfo(ex, " = %s", lm_money_text(num));
	return num;
}

/* The park's policy for months without readings: estimate them (true) or hold them. */
static bool
park_estimates_missing(int64 park_id)
{
	static SPIPlanPtr plan = NULL;
	MemoryContext cxt = CurrentMemoryContext;
	Datum		arg = Int64GetDatum(park_id);
	bool		isnull;
	bool		result;

	if (plan == NULL)
	{
		Oid			type = INT8OID;

		plan = lm_keep_plan("SELECT p.estimate_missing FROM leasemgr.metering_policy_of($1) p", 1, &type);
	}
	if (SPI_execute_plan(plan, &arg, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "metering policy query failed");
	MemoryContextSwitchTo(cxt);		/* SPI returns in its procedure context */
	result = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return !isnull && result;
}

/*
 * A metered segment: the month's consumption of the contract's meters of the charge's kind,
 * priced flat, in blocks or by register.
 *
 * The readings are billed as they are only when they cover the days, with no step backwards
 * and no doubtful anomaly. Otherwise:
 *  - readings missing: held (no amount) until they are read, or, when the park's policy says
 *    estimate, billed at the fallback estimate; either way the bill run asks for the readings;
 *  - an open spike, negative or bounds anomaly: billed at the estimate, trued up when it is
 *    dismissed; a confirmed one: billed at the estimate, which is final;
 *  - a negative step not yet recorded as an anomaly: held, for a person to look at;
 *  - no estimate possible (no other leased unit of the floor with real figures): held, except
 *    under a confirmed anomaly alone: billed from the readings as corrected.
 */
static void
metered_line(LmContractTerms *c, LmCharge *ch, const LmSegment *seg, LmLine *line)
{
	LmUsage		u;
	LmUsage		est;
	StringInfoData ex;
	StringInfoData why;

	lm_metered_usage(c->id, ch->meter_kind, seg->start, seg->end, ch->ntou, ch->tou_registers, &u);
	initStringInfo(&ex);
	initStringInfo(&why);
	appendStringInfo(&ex, "%s %s..%s: ", ch->meter_kind, lm_date_text(seg->start), lm_date_text(seg->end));
	if (u.nmeters == 0)
	{
		/* nothing measured the days: 0.00, said so, and the later months go on */
		line->amount = lm_num(0);
		appendStringInfo(&ex, "no %s meter on the contract's units in these days: nothing measured = 0.00",
						 ch->meter_kind);
		line->explain = ex.data;
		return;
	}
	if (!u.complete)
	{
		line->nmissing = u.nmissing;
		line->missing = u.missing;
		if (!park_estimates_missing(c->park_id))
		{
			appendStringInfo(&ex, "readings missing: %s; billed once the meters are read", u.explain.data);
			line->explain = ex.data;
			return;
		}
		appendStringInfo(&why, "readings missing: %s; a true-up follows once the meters are read", u.explain.data);
	}
	else if (u.nanomalies > 0 || u.nconfirmed > 0)
		appendStringInfo(&why, "%s; %s: %s", u.explain.data, u.anomalies.data,
						 u.nanomalies > 0 ? "the readings wait for engineering (leasemgr.decide_anomaly): "
						 "a true-up follows if the anomaly is dismissed"
						 : "the readings were confirmed wrong: the estimate is final");
	else if (u.negatives > 0)
	{
		appendStringInfo(&ex, "%s; a reading went back without a rollover: billed once the wrong reading is voided or the meter's replacement is recorded",
						 u.explain.data);
		line->explain = ex.data;
		return;
	}
	else
	{
		appendStringInfoString(&ex, u.explain.data);
		line->amount = price_usage(ch, &u, &ex);
		line->explain = ex.data;
		return;
	}

	/* the fallback */
	if (!lm_estimate_usage(c->id, (Datum) 0, ch->meter_kind, seg->start, seg->end, ch->ntou, ch->tou_registers, &est))
	{
		if (u.complete && u.nanomalies == 0 && u.negatives == 0)
		{
			/*
			 * Confirmed and nothing to estimate from: confirming meant the wrong readings were
			 * voided or corrected, so the readings as they stand now are billed, said so. Holding
			 * would hold every later month for good.
			 */
			appendStringInfo(&ex, "%s; not estimated (%s): billed from the readings as corrected", why.data,
							 est.explain.data);
			line->amount = price_usage(ch, &u, &ex);
			line->explain = ex.data;
			return;
		}
		appendStringInfo(&ex, "%s; not estimated (%s): billed once the real figure is known", why.data, est.explain.data);
		line->explain = ex.data;
		return;
	}
	appendStringInfo(&ex, "estimated: %s; %s", why.data, est.explain.data);
	line->amount = price_usage(ch, &est, &ex);
	line->estimated = true;
	line->explain = ex.data;
}

bool
lm_metered_true_up(LmContractTerms *c, LmCharge *ch, DateADT start, DateADT end, Numeric *amount, char **explain)
{
	LmUsage		u;
	StringInfoData ex;

	lm_metered_usage(c->id, ch->meter_kind, start, end, ch->ntou, ch->tou_registers, &u);
	if (!u.complete || u.negatives > 0 || u.nanomalies > 0 || u.nconfirmed > 0)
		return false;
	initStringInfo(&ex);
	appendStringInfoString(&ex, u.explain.data);
	*amount = price_usage(ch, &u, &ex);
	*explain = ex.data;
	return true;
}

/* One segment: its amount, exact until the single rounding, and its explanation. */
static void
segment_line(LmContractTerms *c, LmCharge *ch, const LmPeriod *p, const LmSegment *seg,
			 MemoryContext terms_cxt, LmLine *line)
{
	LmStepRate *r = step_rate(ch, seg->step, terms_cxt, true);
	/* an amendment that changed the area from a day pinned this charge's part to its area */
	Numeric		area = ch->area ? ch->area : c->area;
	Numeric		num;
	Numeric		den = r->den;
	StringInfoData ex;

	initStringInfo(&ex);
	line->charge = ch;
	line->start = seg->start;
	line->end = seg->end;
	line->bill_month = p->bill_month;
	line->due_on = p->due_on;
	line->amount = NULL;
	line->estimated = false;
	line->nmissing = 0;
	line->missing = NULL;
	if (ch->basis == LM_BASIS_METERED)
	{
		metered_line(c, ch, seg, line);
		return;
	}
	if (r->num == NULL)
	{
		line->explain = psprintf("%s: billed once leasemgr.price_index has the month", r->text);
		return;
	}

	switch (ch->basis)
	{
		case LM_BASIS_PER_M2_MONTH:
			num = lm_num_mul(lm_num_mul(r->num, area), lm_num(seg->months_num));
			den = lm_num_mul(den, lm_num(seg->months_den));
			appendStringInfo(&ex, "%s m2 x %s CNY/m2/month%s%s", num_text(area), r->rate_text, r->text,
							 step_note(ch, seg));
			append_months(&ex, seg);
			break;
		case LM_BASIS_FIXED_MONTH:
			num = lm_num_mul(r->num, lm_num(seg->months_num));
			den = lm_num_mul(den, lm_num(seg->months_den));
			appendStringInfo(&ex, "%s CNY/month%s%s", r->rate_text, r->text, step_note(ch, seg));
			append_months(&ex, seg);
			break;
		case LM_BASIS_PER_M2_DAY:
			num = lm_num_mul(lm_num_mul(r->num, area), lm_num(seg->charged_days));
			appendStringInfo(&ex, "%s m2 x %s CNY/m2/day%s%s x %d days", num_text(area), r->rate_text,
							 r->text, step_note(ch, seg), seg->charged_days);
			break;
		case LM_BASIS_TURNOVER_PCT:
		default:
			{
				DateADT		month = lm_month_start(seg->start);
				Numeric		sales = turnover_sales(c, month);
				Numeric		over;
				bool		partial = seg->months_num != seg->months_den;

				if (sales == NULL)
				{
					line->explain = psprintf("turnover %s: sales not reported yet; billed once leasemgr.turnover_report has the month",
											 month_text(month));
					return;
				}
				over = lm_num_sub(sales, ch->breakpoint);
				if (lm_num_cmp(over, lm_num(0)) < 0)
					over = lm_num(0);
				num = lm_num_mul(lm_num_mul(r->num, over), lm_num(seg->months_num));
				den = lm_num_mul(lm_num_mul(den, lm_num(100)), lm_num(seg->months_den));
				appendStringInfo(&ex, "%s%% x max(0, %s sales %s - %s breakpoint)", num_text(ch->rate),
								 lm_money_text(sales), month_text(month), lm_money_text(ch->breakpoint));
				if (partial)
					append_months(&ex, seg);
				break;
			}
	}
	line->amount = lm_money_round(num, den);
	appendStringInfo(&ex, " = %s", lm_money_text(line->amount));
	append_free(&ex, seg);
	line->explain = ex.data;
}

void
lm_charge_lines(LmContractTerms *c, LmCharge *ch, LmChargeSchedule *s, int from_period,
				LmPeriodFilter keep_going, LmLineSink emit, void *arg)
{
	int			n = lm_period_count(s);
	int			k;
	LmSegment	segs[LM_MAX_SEGMENTS];
	LmLine		lines[LM_MAX_SEGMENTS];

	for (k = from_period; k < n; k++)
	{
		LmPeriod	p = lm_period(s, k);
		int			nseg,
					i;
		bool		held = false;

		if (!keep_going(arg, &p))
			return;
		nseg = lm_segments(s, &p, segs);
		/* all of the period's segments first: one that cannot be computed holds them all */
		for (i = 0; i < nseg; i++)
		{
			segment_line(c, ch, &p, &segs[i], CurrentMemoryContext, &lines[i]);
			held = held || lines[i].amount == NULL;
		}
		for (i = 0; i < nseg; i++)
		{
			lines[i].period_held = held;
			if (!emit(arg, c, &lines[i]))
				return;
		}
	}
}

/* ---- compute_charges ---------------------------------------------------------------- */

typedef struct ComputeState
{
	DateADT		from;
	DateADT		to;
	bool		periods;		/* charge_periods: each line with its billing period */
	LmPeriod	period;			/* the period whose lines are being emitted */
	Tuplestorestate *store;
	TupleDesc	desc;
} ComputeState;

static bool
compute_keep_going(void *arg, const LmPeriod *p)
{
	ComputeState *st = arg;

	st->period = *p;
	return p->start <= st->to;
}

static bool
compute_emit(void *arg, LmContractTerms *c, const LmLine *line)
{
	ComputeState *st = arg;
	Datum		values[8];
	bool		nulls[8] = {false, false, false, false, false, false, false, false};
	int			n = 0;

	if (line->end < st->from || line->start > st->to)
		return true;
	values[n++] = Int64GetDatum(line->charge->id);
	values[n++] = CStringGetTextDatum(line->charge->kind);
	if (st->periods)
	{
		values[n++] = DateADTGetDatum(st->period.start);
		values[n++] = DateADTGetDatum(st->period.end);
	}
	values[n++] = DateADTGetDatum(line->start);
	values[n++] = DateADTGetDatum(line->end);
	values[n] = line->amount ? NumericGetDatum(line->amount) : (Datum) 0;
	nulls[n++] = line->amount == NULL;
	values[n] = CStringGetTextDatum(line->explain);
	tuplestore_putvalues(st->store, st->desc, values, nulls);
	return true;
}

/* Load one contract's terms with its charges and free rent (row-level security applies). */
bool
lm_load_contract(int64 contract_id, LmContractTerms *c)
{
	static SPIPlanPtr contract_plan = NULL;
	static SPIPlanPtr charge_plan = NULL;
	static SPIPlanPtr free_plan = NULL;
	Oid			argtypes[1] = {INT8OID};
	Datum		arg = Int64GetDatum(contract_id);
	LmRow		row;
	uint64		i;

	if (contract_plan == NULL)
	{
		contract_plan = lm_keep_plan("SELECT " LM_CONTRACT_COLUMNS " FROM leasemgr.contract c "
									 "WHERE c.id OPERATOR(pg_catalog.=) $1", 1, argtypes);
		charge_plan = lm_keep_plan("SELECT " LM_CHARGE_COLUMNS " FROM leasemgr.charge ch "
								   "WHERE ch.contract_id OPERATOR(pg_catalog.=) $1 ORDER BY ch.id", 1, argtypes);
		free_plan = lm_keep_plan("SELECT pg_catalog.lower(f.days), pg_catalog.upper(f.days) OPERATOR(pg_catalog.-) 1, f.kinds "
								 "FROM leasemgr.free_rent_period f WHERE f.contract_id OPERATOR(pg_catalog.=) $1 "
								 "ORDER BY pg_catalog.lower(f.days)", 1, argtypes);
	}
	if (SPI_execute_plan(contract_plan, &arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "contract query failed");
	if (SPI_processed == 0)
		return false;
	lm_row_init(&row, SPI_tuptable->vals[0], SPI_tuptable->tupdesc);
	lm_read_contract(c, &row, 1);

	if (SPI_execute_plan(charge_plan, &arg, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "charge query failed");
	c->ncharges = (int) SPI_processed;
	c->charges = palloc0(sizeof(LmCharge) * Max(c->ncharges, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		lm_row_init(&row, SPI_tuptable->vals[i], SPI_tuptable->tupdesc);
		lm_read_charge(&c->charges[i], &row, 1);
	}

	if (SPI_execute_plan(free_plan, &arg, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "free rent query failed");
	c->nfree = (int) SPI_processed;
	c->free = palloc0(sizeof(LmFreeRent) * Max(c->nfree, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		lm_row_init(&row, SPI_tuptable->vals[i], SPI_tuptable->tupdesc);
		lm_read_free_rent(&c->free[i], &row, 1);
	}
	return true;
}

/*
 * compute_charges(contract_id bigint, from_date date, to_date date)
 *   RETURNS TABLE(charge_id bigint, kind text, period_start date, period_end date,
 *                 amount numeric, explain text)
 */
static Datum compute_lines(FunctionCallInfo fcinfo, bool periods);

Datum
compute_charges(PG_FUNCTION_ARGS)
{
	return compute_lines(fcinfo, false);
}

/*
 * charge_periods(contract_id bigint, from_date date, to_date date)
 *   RETURNS TABLE(charge_id bigint, kind text, period_first date, period_last date,
 *                 period_start date, period_end date, amount numeric, explain text)
 *
 * The lines of compute_charges with the billing period each belongs to, for the charges
 * that do not depend on readings (metered charges are left out): leasemgr.rebill compares
 * what the terms come to now with what was billed, period by period.
 */
Datum
charge_periods(PG_FUNCTION_ARGS)
{
	return compute_lines(fcinfo, true);
}

static Datum
compute_lines(FunctionCallInfo fcinfo, bool periods)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		contract_id = PG_GETARG_INT64(0);
	ComputeState st;
	LmContractTerms c;
	MemoryContext per_query;
	MemoryContext old;
	int			i;

	st.periods = periods;
	st.from = PG_GETARG_DATEADT(1);
	st.to = PG_GETARG_DATEADT(2);
	if (DATE_NOT_FINITE(st.from) || DATE_NOT_FINITE(st.to) || st.to < st.from)
		ereport(ERROR,
				(errcode(ERRCODE_LM_INVALID_ARGUMENT),
				 errmsg("invalid date range %s..%s", lm_date_text(st.from), lm_date_text(st.to)),
				 errdetail("from_date and to_date are the first and last day to show, inclusive."),
				 errhint("Give finite dates with from_date <= to_date.")));

	InitMaterializedSRF(fcinfo, 0);
	st.store = rsinfo->setResult;
	st.desc = rsinfo->setDesc;
	per_query = rsinfo->econtext->ecxt_per_query_memory;

	SPI_connect();
	old = MemoryContextSwitchTo(per_query);
	if (!lm_load_contract(contract_id, &c))
	{
		MemoryContextSwitchTo(old);
		SPI_finish();
		lm_row_not_found("contract", Int64GetDatum(contract_id));
	}
	for (i = 0; i < c.ncharges; i++)
	{
		LmChargeSchedule s;
		LmCharge   *ch = &c.charges[i];

		if (periods && ch->basis == LM_BASIS_METERED)
			continue;
		lm_charge_schedule(&c, ch, &s);
		lm_charge_lines(&c, ch, &s, lm_period_of(&s, st.from), compute_keep_going, compute_emit, &st);
	}
	MemoryContextSwitchTo(old);
	SPI_finish();
	return (Datum) 0;
}

/* ---- rent_in_force ------------------------------------------------------------------ */

/* Is the charge fixed rent: rent kind, not a share of turnover? */
static bool
is_fixed_rent(const LmCharge *ch)
{
	return strcmp(ch->kind, "rent") == 0 && ch->basis != LM_BASIS_TURNOVER_PCT;
}

/*
 * The first escalation step of the charge after as_of that takes effect while the charge
 * runs (after its first day, by its last), or DATEVAL_NOEND.
 */
static DateADT
next_step_after(const LmChargeSchedule *s, DateADT as_of)
{
	int			k;
	DateADT		d;

	if (s->every_months <= 0)
		return DATEVAL_NOEND;
	k = lm_step_at(s, as_of) + 1;
	d = lm_step_date(s, k);
	/* An anchor before the charge starts: steps before its first day change nothing. */
	while (d <= s->from && d <= s->to)
		d = lm_step_date(s, ++k);
	return d > s->from && d <= s->to ? d : DATEVAL_NOEND;
}

/*
 * rent_in_force(contract_id bigint, as_of date)
 *   RETURNS TABLE(unit_id bigint, billable_area_m2 numeric, monthly_rent numeric,
 *                 rent_per_m2 numeric, next_escalation_on date)
 *
 * The contract's fixed rent in force on as_of, as one monthly amount, split across its
 * units by billable area. The monthly amount of every rent charge in force is exact
 * (rate of the escalation step in force x area, per month; per_m2_day x the days of as_of's
 * month), a fraction num / den when CPI steps divide by an index. The units' shares are
 * rounded cumulatively, in unit id order: unit i gets round(F x A(1..i) / A) - round(F x
 * A(1..i-1) / A), so each share is rounded once and the shares add up to round(F) exactly.
 * Free rent is not deducted: this is the contractual rent, rent_start_date says when it is
 * first charged. One call per contract: the rent roll calls it LATERAL.
 */
Datum
rent_in_force(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr unit_plan = NULL;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		contract_id = PG_GETARG_INT64(0);
	DateADT		as_of = PG_GETARG_DATEADT(1);
	Datum		arg = Int64GetDatum(contract_id);
	MemoryContext work;
	MemoryContext old;
	LmContractTerms c;
	Numeric		num = lm_num(0);
	Numeric		den = lm_num(1);
	Numeric		cum_area;
	Numeric		done;
	Numeric		per_m2 = NULL;
	bool		in_force = false;
	bool		unknown = false;
	DateADT		next = DATEVAL_NOEND;
	int			y,
				m,
				d;
	uint64		i;
	uint64		nunits;
	Datum	   *unit_ids;
	Numeric    *unit_areas;

	if (DATE_NOT_FINITE(as_of))
		ereport(ERROR,
				(errcode(ERRCODE_LM_INVALID_ARGUMENT),
				 errmsg("rent_in_force needs a finite date"),
				 errhint("Give the day to report on, e.g. leasemgr.business_date().")));
	InitMaterializedSRF(fcinfo, 0);
	/* Terms, step rates and shares of this one contract; the tuplestore copies the rows. */
	work = AllocSetContextCreate(CurrentMemoryContext, "rent_in_force", ALLOCSET_DEFAULT_SIZES);

	SPI_connect();
	old = MemoryContextSwitchTo(work);
	if (!lm_load_contract(contract_id, &c))
	{
		MemoryContextSwitchTo(old);
		SPI_finish();
		lm_row_not_found("contract", arg);
	}
	/*
	 * The units held on as_of, with the billable area each had that day: an amendment that
	 * changed an area from a later day left the earlier area in leasemgr.unit_area_change.
	 */
	if (unit_plan == NULL)
	{
		Oid			argtypes[2] = {INT8OID, DATEOID};

		unit_plan = lm_keep_plan("SELECT cu.unit_id, COALESCE((SELECT h.area_before FROM leasemgr.unit_area_change h "
								 "  WHERE h.contract_id OPERATOR(pg_catalog.=) cu.contract_id "
								 "    AND h.unit_id OPERATOR(pg_catalog.=) cu.unit_id "
								 "    AND h.effective_from OPERATOR(pg_catalog.>) $2 AND h.superseded_by IS NULL "
								 "  ORDER BY h.effective_from LIMIT 1), cu.billable_area_m2) "
								 "FROM leasemgr.contract_unit cu "
								 "WHERE cu.contract_id OPERATOR(pg_catalog.=) $1 AND cu.held_range OPERATOR(pg_catalog.@>) $2 "
								 "ORDER BY cu.unit_id", 2, argtypes);
	}
	{
		Datum		uargs[2] = {arg, DateADTGetDatum(as_of)};

		if (SPI_execute_plan(unit_plan, uargs, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "contract unit query failed");
	}
	nunits = SPI_processed;
	unit_ids = palloc(sizeof(Datum) * Max(nunits, 1));
	unit_areas = palloc(sizeof(Numeric) * Max(nunits, 1));
	c.area = lm_num(0);
	for (i = 0; i < nunits; i++)
	{
		bool		isnull;

		unit_ids[i] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
		unit_areas[i] = DatumGetNumericCopy(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
		c.area = lm_num_add(c.area, unit_areas[i]);
	}

	lm_ymd(as_of, &y, &m, &d);
	for (i = 0; i < (uint64) c.ncharges; i++)
	{
		LmCharge   *ch = &c.charges[i];
		LmChargeSchedule s;
		LmStepRate *r;
		Numeric		term;
		Numeric		area;

		if (!is_fixed_rent(ch))
			continue;
		lm_charge_schedule(&c, ch, &s);
		next = Min(next, next_step_after(&s, as_of));
		if (as_of < s.from || as_of > s.to)
			continue;
		r = step_rate(ch, lm_step_at(&s, as_of), work, true);
		if (r->num == NULL)
		{
			/* a CPI step whose index month is not loaded yet: the rent is not known */
			unknown = true;
			continue;
		}
		area = ch->area ? ch->area : c.area;
		switch (ch->basis)
		{
			case LM_BASIS_PER_M2_MONTH:
				term = lm_num_mul(r->num, area);
				break;
			case LM_BASIS_FIXED_MONTH:
				term = r->num;
				break;
			default:			/* per_m2_day: the full month containing as_of */
				term = lm_num_mul(lm_num_mul(r->num, area), lm_num(lm_days_in_month(y, m)));
				break;
		}
		/* num/den + term/r.den, exactly */
		num = lm_num_add(lm_num_mul(num, r->den), lm_num_mul(term, den));
		den = lm_num_mul(den, r->den);
		in_force = true;
	}
	if (in_force && !unknown && lm_num_cmp(c.area, lm_num(0)) > 0)
		per_m2 = lm_money_round(num, lm_num_mul(den, c.area));

	cum_area = lm_num(0);
	done = lm_num(0);
	for (i = 0; i < nunits; i++)
	{
		Datum		values[5];
		bool		nulls[5] = {false, false, true, true, true};

		values[0] = unit_ids[i];
		values[1] = NumericGetDatum(unit_areas[i]);
		if (per_m2 != NULL)
		{
			Numeric		upto;

			cum_area = lm_num_add(cum_area, unit_areas[i]);
			upto = lm_money_round(lm_num_mul(num, cum_area), lm_num_mul(den, c.area));
			values[2] = NumericGetDatum(lm_num_sub(upto, done));
			done = upto;
			values[3] = NumericGetDatum(per_m2);
			nulls[2] = nulls[3] = false;
		}
		if (next != DATEVAL_NOEND)
		{
			values[4] = DateADTGetDatum(next);
			nulls[4] = false;
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	MemoryContextSwitchTo(old);
	SPI_finish();
	MemoryContextDelete(work);
	return (Datum) 0;
}
