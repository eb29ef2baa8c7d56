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
#include "utils/array.h"
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

/* The states of a contract whose lease occupies its units (history included). */
#define OCCUPYING_STATES "'{active,amending,expired,terminated,moving_out,closed}'"

/*
 * The units estimated: the contract's units with a meter of the kind in service, all of them
 * or those in units (an int8[]; 0: all), with their billable area (hundredths of m2) summed
 * into *area and their floors in words. Returns how many, their ids in *ids.
 */
static int
scope_units(int64 contract_id, Datum units, const char *kind, TimestampTz from, TimestampTz to,
			int64 **ids, int64 *area, StringInfo floors)
{
	static SPIPlanPtr plan = NULL;
	MemoryContext cxt = CurrentMemoryContext;
	Datum		args[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	uint64		i;
	int			n;

	if (plan == NULL)
	{
		Oid			types[5] = {INT8OID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT8ARRAYOID};

		plan = lm_keep_plan("SELECT u.id, (cu.billable_area_m2 OPERATOR(pg_catalog.*) 100)::pg_catalog.int8, "
							"b.code OPERATOR(pg_catalog.||) ' floor ' OPERATOR(pg_catalog.||) u.floor "
							"FROM leasemgr.contract_unit cu JOIN leasemgr.unit u ON u.id OPERATOR(pg_catalog.=) cu.unit_id "
							"JOIN leasemgr.building b ON b.id OPERATOR(pg_catalog.=) u.building_id "
							"WHERE cu.contract_id OPERATOR(pg_catalog.=) $1 "
							/* units held for some of the days, at their area */
							"AND pg_catalog.upper(cu.held_range)::pg_catalog.timestamp AT TIME ZONE "
							"    pg_catalog.current_setting('leasemgr.timezone') OPERATOR(pg_catalog.>) $3 "
							"AND pg_catalog.lower(cu.held_range)::pg_catalog.timestamp AT TIME ZONE "
							"    pg_catalog.current_setting('leasemgr.timezone') OPERATOR(pg_catalog.<) $4 "
							"AND ($5 IS NULL OR cu.unit_id OPERATOR(pg_catalog.=) ANY ($5)) "
							"AND EXISTS (SELECT FROM leasemgr.meter m "
							"  WHERE m.unit_id OPERATOR(pg_catalog.=) u.id AND m.kind OPERATOR(pg_catalog.=) $2 "
							"  AND m.installed_at OPERATOR(pg_catalog.<) $4 "
							"  AND (m.removed_at IS NULL OR m.removed_at OPERATOR(pg_catalog.>) $3)) "
							"ORDER BY b.code, u.floor, u.id", 5, types);
	}
	args[0] = Int64GetDatum(contract_id);
	args[1] = CStringGetTextDatum(kind);
	args[2] = TimestampTzGetDatum(from);
	args[3] = TimestampTzGetDatum(to);
	args[4] = units;
	nulls[4] = units == (Datum) 0 ? 'n' : ' ';
	if (SPI_execute_plan(plan, args, nulls, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "contract unit query failed");
	MemoryContextSwitchTo(cxt);
	n = (int) SPI_processed;
	*ids = palloc(sizeof(int64) * Max(n, 1));
	*area = 0;
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		char	   *floor = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3);

		(*ids)[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		*area += DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
		/* floors in order, each once */
		if (i == 0 || strcmp(floor, SPI_getvalue(SPI_tuptable->vals[i - 1], SPI_tuptable->tupdesc, 3)) != 0)
			appendStringInfo(floors, "%s%s", i > 0 ? ", " : "", floor);
	}
	SPI_freetuptable(SPI_tuptable);
	return n;
}

/* The real use of units over from..to, or false when one of them has no real figure. */
static bool
units_real_use(const int64 *ids, int n, const char *kind, DateADT from, DateADT to, int ntou, char **tou_regs,
			   int64 *total, int64 *reg_qty)
{
	int			i,
				k;

	*total = 0;
	for (k = 0; k < ntou; k++)
		reg_qty[k] = 0;
	for (i = 0; i < n; i++)
	{
		LmUsage		u;

		lm_unit_usage(ids[i], kind, from, to, ntou, tou_regs, &u);
		if (!u.complete || u.negatives > 0 || u.nanomalies > 0 || u.nconfirmed > 0)
			return false;
		*total += u.total;
		for (k = 0; k < ntou; k++)
		{
			reg_qty[k] += u.reg_qty[k];
			*total += u.reg_qty[k];
		}
	}
	return true;
}

/*
 * The floor's figures over from..to: the other units of the contract's floors, leased in those
 * days and metered, whose consumption is real (read around the days, no negative step, no
 * anomaly open or confirmed).
 */
static void
floor_figures(int64 contract_id, Datum units, const char *kind, DateADT from, DateADT to, int ntou,
			  char **tou_regs, FloorFigures *f)
{
	static SPIPlanPtr plan = NULL;
	MemoryContext cxt = CurrentMemoryContext;
	Datum		args[7];
	int64	   *peers;
	int64	   *areas;
	int			n,
				i,
				k;

	memset(f, 0, sizeof(*f));
	f->reg_qty = palloc0(sizeof(int64) * Max(ntou, 1));
	if (plan == NULL)
	{
		Oid			types[7] = {INT8OID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, DATEOID, DATEOID, INT8ARRAYOID};

		plan = lm_keep_plan("SELECT u.id, (u.area_m2 OPERATOR(pg_catalog.*) 100)::pg_catalog.int8 FROM leasemgr.unit u "
							"WHERE EXISTS (SELECT FROM leasemgr.unit o WHERE o.id OPERATOR(pg_catalog.=) ANY ($7) "
							"  AND o.building_id OPERATOR(pg_catalog.=) u.building_id AND o.floor OPERATOR(pg_catalog.=) u.floor) "
							"AND NOT EXISTS (SELECT FROM leasemgr.contract_unit cu WHERE cu.contract_id OPERATOR(pg_catalog.=) $1 "
							"  AND cu.unit_id OPERATOR(pg_catalog.=) u.id) "
							"AND EXISTS (SELECT FROM leasemgr.contract_unit cu JOIN leasemgr.contract c "
							"  ON c.id OPERATOR(pg_catalog.=) cu.contract_id AND c.state OPERATOR(pg_catalog.=) ANY (" OCCUPYING_STATES ") "
							"  WHERE cu.unit_id OPERATOR(pg_catalog.=) u.id "
							"  AND cu.held_range OPERATOR(pg_catalog.&&) pg_catalog.daterange($5, $6, '[]')) "
							"AND EXISTS (SELECT FROM leasemgr.meter m WHERE m.unit_id OPERATOR(pg_catalog.=) u.id "
							"  AND m.kind OPERATOR(pg_catalog.=) $2 AND m.installed_at OPERATOR(pg_catalog.<) $4 "
							"  AND (m.removed_at IS NULL OR m.removed_at OPERATOR(pg_catalog.>) $3)) "
							"ORDER BY u.id", 7, types);
	}
	args[0] = Int64GetDatum(contract_id);
	args[1] = CStringGetTextDatum(kind);
	args[2] = TimestampTzGetDatum(lm_local_midnight(from));
	args[3] = TimestampTzGetDatum(lm_local_midnight(to + 1));
	args[4] = DateADTGetDatum(from);
	args[5] = DateADTGetDatum(to);
	args[6] = units;
	if (SPI_execute_plan(plan, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "floor unit query failed");
	MemoryContextSwitchTo(cxt);
	n = (int) SPI_processed;
	peers = palloc(sizeof(int64) * Max(n, 1));
	areas = palloc(sizeof(int64) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		bool		isnull;

		peers[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		areas[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
	}
	SPI_freetuptable(SPI_tuptable);

	for (i = 0; i < n; i++)
	{
		int64		total;
		int64	   *reg_qty = palloc(sizeof(int64) * Max(ntou, 1));

		if (!units_real_use(&peers[i], 1, kind, from, to, ntou, tou_regs, &total, reg_qty))
			continue;
		f->nunits++;
		f->area += areas[i];
		f->total += total;
		for (k = 0; k < ntou; k++)
			f->reg_qty[k] += reg_qty[k];
	}
}

/* The contract's lease: first day and the day after the last; false when not visible. */
static bool
contract_lease(int64 contract_id, DateADT *first, DateADT *after)
{
	static SPIPlanPtr plan = NULL;
	MemoryContext cxt = CurrentMemoryContext;
	Datum		arg = Int64GetDatum(contract_id);
	bool		isnull;
	bool		found;

	if (plan == NULL)
	{
		Oid			type = INT8OID;

		plan = lm_keep_plan("SELECT pg_catalog.lower(c.lease_range), pg_catalog.upper(c.lease_range) "
							"FROM leasemgr.contract c WHERE c.id OPERATOR(pg_catalog.=) $1", 1, &type);
	}
	if (SPI_execute_plan(plan, &arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "contract query failed");
	MemoryContextSwitchTo(cxt);
	found = SPI_processed == 1;
	if (found)
	{
		*first = DatumGetDateADT(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		*after = DatumGetDateADT(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	}
	SPI_freetuptable(SPI_tuptable);
	return found;
}

/*
 * The tenant's ratio to its floors: the median over its last RATIO_MONTHS whole months of its
 * lease with real figures (looked for within RATIO_LOOKBACK months before from), in
 * ten-thousandths; RATIO_ONE without any. A month before the lease started is another
 * occupant's, or nobody's. The months and their ratios go to ex.
 */
static int64
tenant_ratio(int64 contract_id, Datum units, const int64 *ids, int nids, const char *kind, DateADT from,
			 int64 area, int ntou, char **tou_regs, StringInfo ex)
{
	int64		ratios[RATIO_MONTHS];
	int			n = 0;
	int			back;
	StringInfoData months;
	int64		median;
	DateADT		lease_first = 0;
	DateADT		lease_after = 0;
	int64	   *reg_qty = palloc(sizeof(int64) * Max(ntou, 1));

	initStringInfo(&months);
	if (!contract_lease(contract_id, &lease_first, &lease_after))
		lease_after = lease_first;	/* no month inside */
	for (back = 1; back <= RATIO_LOOKBACK && n < RATIO_MONTHS; back++)
	{
		DateADT		m = lm_add_months(lm_month_start(from), -back);
		DateADT		m_end = lm_add_months(m, 1) - 1;
		FloorFigures f;
		int64		real;

		if (m < lease_first || m_end >= lease_after)
			continue;
		if (!units_real_use(ids, nids, kind, m, m_end, ntou, tou_regs, &real, reg_qty))
			continue;
		floor_figures(contract_id, units, kind, m, m_end, ntou, tou_regs, &f);
		if (f.nunits == 0 || !lm_floor_ratio(real, f.total, f.area, area, &ratios[n]))
			continue;
		appendStringInfo(&months, "%s%s %s", n > 0 ? ", " : "", pnstrdup(lm_date_text(m), 7),
						 fixed_text(ratios[n], 4));
		n++;
	}
	if (n == 0)
	{
		appendStringInfoString(ex, "tenant ratio 1.0000 (no whole month of its lease with real figures in the year before)");
		return RATIO_ONE;
	}
	median = lm_median(ratios, n);
	appendStringInfo(ex, "tenant ratio %s (median of %s)", fixed_text(median, 4), months.data);
	return median;
}

bool
lm_estimate_usage(int64 contract_id, Datum units, const char *kind, DateADT from, DateADT to, int ntou,
				  char **tou_regs, LmUsage *est)
{
	StringInfoData floors;
	StringInfoData ratio_ex;
	FloorFigures f;
	int64	   *ids;
	int			nids;
	Datum	   *id_datums;
	Datum		scope;
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
	nids = scope_units(contract_id, units, kind, lm_local_midnight(from), lm_local_midnight(to + 1), &ids, &area, &floors);
	if (nids == 0 || area <= 0)
	{
		appendStringInfoString(&est->explain, "no metered unit to estimate for");
		return false;
	}
	id_datums = palloc(sizeof(Datum) * nids);
	for (k = 0; k < nids; k++)
		id_datums[k] = Int64GetDatum(ids[k]);
	scope = PointerGetDatum(construct_array(id_datums, nids, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	floor_figures(contract_id, scope, kind, from, to, ntou, tou_regs, &f);
	if (f.nunits == 0 || f.area <= 0)
	{
		appendStringInfo(&est->explain, "no other leased unit on %s has real %s figures for these days to estimate from",
						 floors.data, kind);
		return false;
	}
	initStringInfo(&ratio_ex);
	ratio = tenant_ratio(contract_id, scope, ids, nids, kind, from, area, ntou, tou_regs, &ratio_ex);

	appendStringInfo(&est->explain, "fallback estimate: floor average of %d leased unit%s on %s ",
					 f.nunits, f.nunits == 1 ? "" : "s", floors.data);
	if (ntou > 0)
	{
		for (k = 0; k < ntou; k++)
		{
			if (!lm_fallback_estimate(f.reg_qty[k], f.area, area, ratio, &q))
				goto out_of_range;
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
			goto out_of_range;
		est->total = q;
		appendStringInfo(&est->explain, "%s / %s m2 x %s m2 x %s = %s",
						 lm_qty_text(f.total), lm_money_text(int64_div_fast_to_numeric(f.area, 2)),
						 lm_money_text(int64_div_fast_to_numeric(area, 2)), ratio_ex.data, lm_qty_text(q));
	}
	est->complete = true;
	est->nmeters = 1;
	return true;

out_of_range:
	/* figures no meter could produce: said so, and the line waits for a person */
	resetStringInfo(&est->explain);
	appendStringInfo(&est->explain, "the floor's figures (%s over %s m2, %s) are out of range for an estimate",
					 lm_qty_text(f.total), lm_money_text(int64_div_fast_to_numeric(f.area, 2)), ratio_ex.data);
	return false;
}

/*
 * estimated_consumption(contract_id bigint, kind text, from_day date, to_day date,
 *                       unit_ids bigint[] DEFAULT NULL, OUT quantity numeric, OUT explain text)
 *
 * The fallback estimate of a contract's consumption of a kind over whole days, for
 * leasemgr.allocate (a sub-meter's figure under an anomaly). quantity is NULL when there is
 * nothing to estimate from; the explain text says why.
 */
Datum
estimated_consumption(PG_FUNCTION_ARGS)
{
	int64		contract_id;
	char	   *kind;
	DateADT		from;
	DateADT		to;
	TupleDesc	desc;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	LmUsage		est;
	bool		connected = false;
	MemoryContext cxt = CurrentMemoryContext;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "estimated_consumption must return a row");
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		PG_RETURN_NULL();
	contract_id = PG_GETARG_INT64(0);
	kind = text_to_cstring(PG_GETARG_TEXT_PP(1));
	from = PG_GETARG_DATEADT(2);
	to = PG_GETARG_DATEADT(3);
	if (DATE_NOT_FINITE(from) || DATE_NOT_FINITE(to) || to < from)
		ereport(ERROR,
				(errcode(ERRCODE_LM_INVALID_ARGUMENT),
				 errmsg("an estimate is made for days in order"),
				 errdetail("from_day is %s and to_day is %s.", lm_date_text(from), lm_date_text(to)),
				 errhint("Pass finite days with from_day on or before to_day.")));
	lm_spi_connect(&connected);
	MemoryContextSwitchTo(cxt);
	if (strcmp(kind, "electricity") != 0 && strcmp(kind, "water") != 0 && strcmp(kind, "ac") != 0 &&
		strcmp(kind, "gas") != 0 && strcmp(kind, "heat") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_LM_INVALID_ARGUMENT),
				 errmsg("unknown meter kind \"%s\"", kind),
				 errdetail("The kinds are electricity, water, ac, gas and heat."),
				 errhint("Kinds are lower case.")));
	if (lm_estimate_usage(contract_id, PG_ARGISNULL(4) ? (Datum) 0 : PG_GETARG_DATUM(4), kind, from, to, 0, NULL, &est))
		values[0] = NumericGetDatum(int64_div_fast_to_numeric(est.total, 3));
	else
		nulls[0] = true;
	values[1] = CStringGetTextDatum(est.explain.data);
	lm_spi_finish(&connected);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
