/*
 * estimate.c
 *     The fallback estimate of a tenant's metered consumption (docs/metering.md "Fallback
 *     estimate"): what the bill uses when the tenant's own readings cannot be billed, because
 *     they are missing (and the park's policy says estimate) or an anomaly makes them doubtful.
 *
 *     estimate = the floor's average use per m2 in the days (the leased units of the same
 *                floors with real figures: their consumption / their area)
 *              x the tenant's metered area
 *              x the tenant's own ratio to that average: the median of its last 3 months
 *                with real figures within a year (1.0000 without any)
 *
 * The arithmetic is the core's (lm_fallback_estimate, lm_floor_ratio): integers, rounded once
 * to the thousandth. This file finds the units and their figures and says how, in words.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "leasemgr.h"
#include "lm_calendar.h"
#include "meter.h"
#include "lm_meter.h"

PG_FUNCTION_INFO_V1(estimated_consumption);

#define RATIO_MONTHS 3			/* the tenant's ratio: the median of this many months */
#define RATIO_LOOKBACK 12		/* looked for within this many months before */
#define RATIO_ONE 10000			/* ratios are in ten-thousandths */

/* The floor's figures over some days: the leased units of the tenant's floors with real ones. */
typedef struct FloorFigures
{
	int			nunits;
	int64		area;			/* hundredths of m2 */
	int64		total;			/* thousandths: total registers, or the sum of the charge's */
	int64	   *reg_qty;		/* per time-of-use register */
} FloorFigures;

static char *
fixed_text(int64 v, int scale)
{
	return DatumGetCString(DirectFunctionCall1(numeric_out,
											   NumericGetDatum(int64_div_fast_to_numeric(v, scale))));
}

/* The contract's metered area (hundredths of m2) and its floors in words; 0 when none. */
static int64
contract_area(int64 contract_id, const char *kind, TimestampTz from, TimestampTz to, StringInfo floors)
{
	static SPIPlanPtr plan = NULL;
	MemoryContext cxt = CurrentMemoryContext;
	Datum		args[4];
	int64		area = 0;
	uint64		i;

	if (plan == NULL)
	{
		Oid			types[4] = {INT8OID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID};

		plan = lm_keep_plan("SELECT (cu.billable_area_m2 OPERATOR(pg_catalog.*) 100)::pg_catalog.int8, "
							"b.code OPERATOR(pg_catalog.||) ' floor ' OPERATOR(pg_catalog.||) u.floor "
							"FROM leasemgr.contract_unit cu JOIN leasemgr.unit u ON u.id OPERATOR(pg_catalog.=) cu.unit_id "
							"JOIN leasemgr.building b ON b.id OPERATOR(pg_catalog.=) u.building_id "
							"WHERE cu.contract_id OPERATOR(pg_catalog.=) $1 AND EXISTS (SELECT FROM leasemgr.meter m "
							"  WHERE m.unit_id OPERATOR(pg_catalog.=) u.id AND m.kind OPERATOR(pg_catalog.=) $2 "
							"  AND m.installed_at OPERATOR(pg_catalog.<) $4 "
							"  AND (m.removed_at IS NULL OR m.removed_at OPERATOR(pg_catalog.>) $3)) "
							"ORDER BY b.code, u.floor, u.id", 4, types);
	}
	args[0] = Int64GetDatum(contract_id);
	args[1] = CStringGetTextDatum(kind);
	args[2] = TimestampTzGetDatum(from);
	args[3] = TimestampTzGetDatum(to);
	if (SPI_execute_plan(plan, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "contract unit query failed");
	MemoryContextSwitchTo(cxt);
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		char	   *floor = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);

		area += DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		/* floors in order, each once */
		if (i == 0 || strcmp(floor, SPI_getvalue(SPI_tuptable->vals[i - 1], SPI_tuptable->tupdesc, 2)) != 0)
			appendStringInfo(floors, "%s%s", i > 0 ? ", " : "", floor);
	}
	SPI_freetuptable(SPI_tuptable);
	return area;
}

/*
 * The floor's figures over from..to: the other units of the contract's floors, leased in those
 * days and metered, whose consumption is real (read around the days, no negative step, no
 * anomaly open or confirmed).
 */
static void
floor_figures(int64 contract_id, const char *kind, DateADT from, DateADT to, int ntou, char **tou_regs,
			  FloorFigures *f)
{
	static SPIPlanPtr plan = NULL;
	MemoryContext cxt = CurrentMemoryContext;
	Datum		args[6];
	int64	   *units;
	int64	   *areas;
	int			n,
				i,
				k;

	memset(f, 0, sizeof(*f));
	f->reg_qty = palloc0(sizeof(int64) * Max(ntou, 1));
	if (plan == NULL)
	{
		Oid			types[6] = {INT8OID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, DATEOID, DATEOID};

		plan = lm_keep_plan("SELECT u.id, (u.area_m2 OPERATOR(pg_catalog.*) 100)::pg_catalog.int8 FROM leasemgr.unit u "
							"WHERE EXISTS (SELECT FROM leasemgr.contract_unit cu JOIN leasemgr.unit o "
							"  ON o.id OPERATOR(pg_catalog.=) cu.unit_id WHERE cu.contract_id OPERATOR(pg_catalog.=) $1 "
							"  AND o.building_id OPERATOR(pg_catalog.=) u.building_id AND o.floor OPERATOR(pg_catalog.=) u.floor) "
							"AND NOT EXISTS (SELECT FROM leasemgr.contract_unit cu WHERE cu.contract_id OPERATOR(pg_catalog.=) $1 "
							"  AND cu.unit_id OPERATOR(pg_catalog.=) u.id) "
							"AND EXISTS (SELECT FROM leasemgr.contract_unit cu WHERE cu.unit_id OPERATOR(pg_catalog.=) u.id "
							"  AND cu.is_live AND cu.lease_range OPERATOR(pg_catalog.&&) pg_catalog.daterange($5, $6, '[]')) "
							"AND EXISTS (SELECT FROM leasemgr.meter m WHERE m.unit_id OPERATOR(pg_catalog.=) u.id "
							"  AND m.kind OPERATOR(pg_catalog.=) $2 AND m.installed_at OPERATOR(pg_catalog.<) $4 "
							"  AND (m.removed_at IS NULL OR m.removed_at OPERATOR(pg_catalog.>) $3)) "
							"ORDER BY u.id", 6, types);
	}
	args[0] = Int64GetDatum(contract_id);
	args[1] = CStringGetTextDatum(kind);
	args[2] = TimestampTzGetDatum(lm_local_midnight(from));
	args[3] = TimestampTzGetDatum(lm_local_midnight(to + 1));
	args[4] = DateADTGetDatum(from);
	args[5] = DateADTGetDatum(to);
	if (SPI_execute_plan(plan, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "floor unit query failed");
	MemoryContextSwitchTo(cxt);
	n = (int) SPI_processed;
	units = palloc(sizeof(int64) * Max(n, 1));
	areas = palloc(sizeof(int64) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		bool		isnull;

		units[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		areas[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
	}
	SPI_freetuptable(SPI_tuptable);

	for (i = 0; i < n; i++)
	{
		LmUsage		u;

		lm_unit_usage(units[i], kind, from, to, ntou, tou_regs, &u);
		if (!u.complete || u.negatives > 0 || u.nanomalies > 0 || u.nconfirmed > 0)
			continue;
		f->nunits++;
		f->area += areas[i];
		f->total += u.total;
		for (k = 0; k < ntou; k++)
		{
			f->reg_qty[k] += u.reg_qty[k];
			f->total += u.reg_qty[k];
		}
	}
}

/*
 * The tenant's ratio to its floors: the median over its last RATIO_MONTHS whole months with
 * real figures (looked for within RATIO_LOOKBACK months before from), in ten-thousandths;
 * RATIO_ONE without any. The months and their ratios go to ex.
 */
static int64
tenant_ratio(int64 contract_id, const char *kind, DateADT from, int64 area, int ntou, char **tou_regs,
			 StringInfo ex)
{
	int64		ratios[RATIO_MONTHS];
	int			n = 0;
	int			back;
	StringInfoData months;
	int64		median;

	initStringInfo(&months);
	for (back = 1; back <= RATIO_LOOKBACK && n < RATIO_MONTHS; back++)
	{
		DateADT		m = lm_add_months(lm_month_start(from), -back);
		DateADT		m_end = lm_add_months(m, 1) - 1;
		LmUsage		u;
		FloorFigures f;
		int64		real;
		int			k;

		lm_metered_usage(contract_id, kind, m, m_end, ntou, tou_regs, &u);
		if (!u.complete || u.negatives > 0 || u.nanomalies > 0 || u.nconfirmed > 0)
			continue;
		real = u.total;
		for (k = 0; k < ntou; k++)
			real += u.reg_qty[k];
		floor_figures(contract_id, kind, m, m_end, ntou, tou_regs, &f);
		if (f.nunits == 0 || !lm_floor_ratio(real, f.total, f.area, area, &ratios[n]))
			continue;
		appendStringInfo(&months, "%s%s %s", n > 0 ? ", " : "",
						 pnstrdup(lm_date_text(m), 7),
						 fixed_text(ratios[n], 4));
		n++;
	}
	if (n == 0)
	{
		appendStringInfoString(ex, "tenant ratio 1.0000 (no month with real figures in the year before)");
		return RATIO_ONE;
	}
	median = lm_median(ratios, n);
	appendStringInfo(ex, "tenant ratio %s (median of %s)", fixed_text(median, 4), months.data);
	return median;
}

bool
lm_estimate_usage(int64 contract_id, const char *kind, DateADT from, DateADT to, int ntou, char **tou_regs,
				  LmUsage *est)
{
	StringInfoData floors;
	StringInfoData ratio_ex;
	FloorFigures f;
	int64		area;
	int64		ratio;
	int64		q;
	int			k;

	memset(est, 0, sizeof(*est));
	initStringInfo(&est->explain);
	initStringInfo(&est->anomalies);
	est->nregs = ntou;
	est->reg_qty = palloc0(sizeof(int64) * Max(ntou, 1));
	initStringInfo(&floors);
	area = contract_area(contract_id, kind, lm_local_midnight(from), lm_local_midnight(to + 1), &floors);
	if (area <= 0)
	{
		appendStringInfoString(&est->explain, "no metered unit to estimate for");
		return false;
	}
	floor_figures(contract_id, kind, from, to, ntou, tou_regs, &f);
	if (f.nunits == 0 || f.area <= 0)
	{
		appendStringInfo(&est->explain, "no other leased unit on %s has real %s figures for these days to estimate from",
						 floors.data, kind);
		return false;
	}
	initStringInfo(&ratio_ex);
	ratio = tenant_ratio(contract_id, kind, from, area, ntou, tou_regs, &ratio_ex);

	appendStringInfo(&est->explain, "fallback estimate: floor average of %d leased unit%s on %s ",
					 f.nunits, f.nunits == 1 ? "" : "s", floors.data);
	if (ntou > 0)
	{
		for (k = 0; k < ntou; k++)
		{
			if (!lm_fallback_estimate(f.reg_qty[k], f.area, area, ratio, &q))
				elog(ERROR, "fallback estimate out of range");
			est->reg_qty[k] = q;
			appendStringInfo(&est->explain, "%s%s %s / %s m2", k > 0 ? ", " : "", tou_regs[k],
							 lm_qty_text(f.reg_qty[k]), lm_money_text(int64_div_fast_to_numeric(f.area, 2)));
		}
		appendStringInfo(&est->explain, ", each x %s m2 x %s: ",
						 lm_money_text(int64_div_fast_to_numeric(area, 2)), ratio_ex.data);
		for (k = 0; k < ntou; k++)
			appendStringInfo(&est->explain, "%s%s %s", k > 0 ? ", " : "", tou_regs[k], lm_qty_text(est->reg_qty[k]));
	}
	else
	{
		if (!lm_fallback_estimate(f.total, f.area, area, ratio, &q))
			elog(ERROR, "fallback estimate out of range");
		est->total = q;
		appendStringInfo(&est->explain, "%s / %s m2 x %s m2 x %s = %s",
						 lm_qty_text(f.total), lm_money_text(int64_div_fast_to_numeric(f.area, 2)),
						 lm_money_text(int64_div_fast_to_numeric(area, 2)), ratio_ex.data, lm_qty_text(q));
	}
	est->complete = true;
	est->nmeters = 1;
	return true;
}

/*
 * estimated_consumption(contract_id bigint, kind text, from_day date, to_day date,
 *                       OUT quantity numeric, OUT explain text)
 *
 * The fallback estimate of a contract's consumption of a kind over whole days, for
 * leasemgr.allocate (a sub-meter's figure under an anomaly). quantity is NULL when there is
 * nothing to estimate from; the explain text says why.
 */
Datum
estimated_consumption(PG_FUNCTION_ARGS)
{
	int64		contract_id = PG_GETARG_INT64(0);
	char	   *kind = text_to_cstring(PG_GETARG_TEXT_PP(1));
	DateADT		from = PG_GETARG_DATEADT(2);
	DateADT		to = PG_GETARG_DATEADT(3);
	TupleDesc	desc;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	LmUsage		est;
	bool		connected = false;
	MemoryContext cxt = CurrentMemoryContext;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "estimated_consumption must return a row");
	if (DATE_NOT_FINITE(from) || DATE_NOT_FINITE(to) || to < from)
		ereport(ERROR,
				(errcode(ERRCODE_LM_INVALID_ARGUMENT),
				 errmsg("an estimate is made for days in order"),
				 errdetail("from_day is %s and to_day is %s.", lm_date_text(from), lm_date_text(to)),
				 errhint("Pass finite days with from_day on or before to_day.")));
	lm_spi_connect(&connected);
	MemoryContextSwitchTo(cxt);
	if (lm_estimate_usage(contract_id, kind, from, to, 0, NULL, &est))
		values[0] = NumericGetDatum(int64_div_fast_to_numeric(est.total, 3));
	else
		nulls[0] = true;
	values[1] = CStringGetTextDatum(est.explain.data);
	lm_spi_finish(&connected);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
