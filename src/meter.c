/*
 * meter.c
 *     Consumption: a meter register's readings between two moments, unwrapped (rollover),
 *     interpolated at the moments, multiplied, and explained; summed over a contract's meters
 *     of one kind for billing. The arithmetic is src/core/lm_meter.c; this file reads the
 *     readings (converted to thousandths by the query) and writes numeric and words.
 *
 * A meter's series runs from its first reading to its last: a meter installed during the
 * days counts from its first (install) reading, a meter removed during them up to its last
 * (final) reading. Otherwise the days need a reading at or before their first moment and
 * one at or after their last; without them the consumption is unknown, never guessed here.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "leasemgr.h"
#include "meter.h"
#include "lm_meter.h"

PG_FUNCTION_INFO_V1(meter_consumption);

typedef struct MeterInfo
{
	int64		id;
	char	   *code;
	int64		multiplier;
	int			digits;
	TimestampTz installed;
	bool		removed_set;
	TimestampTz removed;
	int			nregs;
	char	  **regs;
} MeterInfo;

/* The meter columns every lookup reads, in this order. */
#define METER_COLUMNS "m.id, m.code, m.multiplier, m.digits, m.installed_at, m.removed_at, m.registers"

TimestampTz
lm_local_midnight(DateADT d)
{
	pg_tz	   *tz = pg_tzset(lm_timezone);
	struct pg_tm tm = {0};
	int			tzoff;
	TimestampTz result;

	if (tz == NULL)
		elog(ERROR, "unknown time zone \"%s\"", lm_timezone);
	j2date(d + POSTGRES_EPOCH_JDATE, &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
	tzoff = DetermineTimeZoneOffset(&tm, tz);
	if (tm2timestamp(&tm, 0, &tzoff, &result) != 0)
		elog(ERROR, "date out of range for a timestamp");
	return result;
}

/* "2026-03-01 00:00" in leasemgr.timezone. */
static char *
moment_text(TimestampTz t)
{
	struct pg_tm tm;
	fsec_t		fsec;

	lm_local_tm(t, &tm, &fsec);
	if (tm.tm_sec != 0 || fsec != 0)
		return psprintf("%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour,
						tm.tm_min, tm.tm_sec);
	return psprintf("%04d-%02d-%02d %02d:%02d", tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min);
}

char *
lm_qty_text(int64 q)
{
	StringInfoData s;
	char		digits[32];
	uint64		whole = (uint64) (q < 0 ? -(q / LM_QTY_SCALE) : q / LM_QTY_SCALE);
	int			frac = (int) (q < 0 ? -(q % LM_QTY_SCALE) : q % LM_QTY_SCALE);
	int			len,
				i;

	snprintf(digits, sizeof(digits), UINT64_FORMAT, whole);
	len = strlen(digits);
	initStringInfo(&s);
	if (q < 0)
		appendStringInfoChar(&s, '-');
	for (i = 0; i < len; i++)
	{
		if (i > 0 && (len - i) % 3 == 0)
			appendStringInfoChar(&s, ',');
		appendStringInfoChar(&s, digits[i]);
	}
	appendStringInfo(&s, ".%03d", frac);
	return s.data;
}

/* A register's consumption times the meter's multiplier, or a clear error beyond int64. */
static int64
mul_qty(const MeterInfo *m, int64 q)
{
	int64		r;

	if (pg_mul_s64_overflow(q, m->multiplier, &r))
		ereport(ERROR,
				(errcode(ERRCODE_LM_INVALID_METER),
				 errmsg("consumption of meter %s is out of range", m->code),
				 errdetail("%s x multiplier %lld does not fit in a quantity.", lm_qty_text(q), (long long) m->multiplier),
				 errhint("Check the meter's multiplier and its readings: a wrong reading is voided.")));
	return r;
}

static void
read_meter(HeapTuple t, TupleDesc d, int first, MeterInfo *m)
{
	bool		isnull;
	Datum		regs;
	Datum	   *elems;
	int			i;

	m->id = DatumGetInt64(SPI_getbinval(t, d, first, &isnull));
	m->code = SPI_getvalue(t, d, first + 1);
	m->multiplier = DatumGetInt32(SPI_getbinval(t, d, first + 2, &isnull));
	m->digits = DatumGetInt32(SPI_getbinval(t, d, first + 3, &isnull));
	m->installed = DatumGetTimestampTz(SPI_getbinval(t, d, first + 4, &isnull));
	m->removed = DatumGetTimestampTz(SPI_getbinval(t, d, first + 5, &isnull));
	m->removed_set = !isnull;
	regs = SPI_getbinval(t, d, first + 6, &isnull);
	deconstruct_array(DatumGetArrayTypeP(regs), TEXTOID, -1, false, TYPALIGN_INT, &elems, NULL, &m->nregs);
	m->regs = palloc(sizeof(char *) * m->nregs);
	for (i = 0; i < m->nregs; i++)
		m->regs[i] = TextDatumGetCString(elems[i]);
}

static bool
has_register(const MeterInfo *m, const char *reg)
{
	int			i;

	for (i = 0; i < m->nregs; i++)
		if (strcmp(m->regs[i], reg) == 0)
			return true;
	return false;
}

/*
 * The non-void readings of a register that the days from..to need: the last at or before
 * from, every one between, the first at or after to. In the caller's memory.
 */
static int
load_readings(const MeterInfo *m, const char *reg, TimestampTz from, TimestampTz to, LmReading **out)
{
	static SPIPlanPtr plan = NULL;
	MemoryContext cxt = CurrentMemoryContext;
	Datum		args[4];
	LmReading  *r;
	uint64		i;

	if (plan == NULL)
	{
		Oid			argtypes[4] = {INT8OID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID};

#define READINGS_OF "SELECT read_at, value FROM leasemgr.meter_reading WHERE meter_id OPERATOR(pg_catalog.=) $1 " \
	"AND register OPERATOR(pg_catalog.=) $2 AND voided_at IS NULL "
		plan = lm_keep_plan("SELECT s.read_at, (s.value OPERATOR(pg_catalog.*) 1000)::pg_catalog.int8 FROM ("
							"(" READINGS_OF "AND read_at OPERATOR(pg_catalog.<=) $3 ORDER BY read_at DESC LIMIT 1) "
							"UNION ALL (" READINGS_OF "AND read_at OPERATOR(pg_catalog.>) $3 AND read_at OPERATOR(pg_catalog.<) $4) "
							"UNION ALL (" READINGS_OF "AND read_at OPERATOR(pg_catalog.>=) $4 ORDER BY read_at LIMIT 1)"
							") s ORDER BY s.read_at", 4, argtypes);
#undef READINGS_OF
	}
	args[0] = Int64GetDatum(m->id);
	args[1] = CStringGetTextDatum(reg);
	args[2] = TimestampTzGetDatum(from);
	args[3] = TimestampTzGetDatum(to);
	if (SPI_execute_plan(plan, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "reading query failed");
	MemoryContextSwitchTo(cxt);
	r = palloc(sizeof(LmReading) * Max(SPI_processed, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		r[i].t = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		r[i].v = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
	}
	*out = r;
	i = SPI_processed;
	SPI_freetuptable(SPI_tuptable);
	return (int) i;
}

/* 10^digits in thousandths: where the register rolls over to zero. */
static int64
register_range(const MeterInfo *m)
{
	int64		range = LM_QTY_SCALE;
	int			i;

	for (i = 0; i < m->digits; i++)
		range *= 10;
	return range;
}

/* The register as displayed at a bound: the reading's value, or the interpolated one. */
static int64
shown_value(const MeterInfo *m, const LmReading *r, const int64 *cum, int lo, int64 at)
{
	return (r[lo].v + (at - cum[lo])) % register_range(m);
}

/* "(read 2026-03-01 00:00)", "(interpolated at ... between readings at ... and ...)". */
static void
append_bound(StringInfo ex, LmAtKind kind, const LmReading *r, int lo, TimestampTz t, const char *which)
{
	if (which != NULL)
		appendStringInfo(ex, " (%s %s)", which, moment_text(r[lo].t));
	else if (kind == LM_AT_EXACT)
		appendStringInfo(ex, " (read %s)", moment_text(t));
	else
		appendStringInfo(ex, " (interpolated at %s between readings at %s and %s)", moment_text(t),
						 moment_text(r[lo].t), moment_text(r[lo + 1].t));
}

/*
 * One meter register over [from, to): its consumption (thousandths after the multiplier) and
 * a clause of explanation. false when the readings do not cover the moments (the clause
 * says which is missing).
 */
static bool
register_use(const MeterInfo *m, const char *reg, TimestampTz from, TimestampTz to, StringInfo ex,
			 int64 *qty, int *negatives)
{
	LmReading  *r;
	int			n = load_readings(m, reg, from, to, &r);
	int64	   *cum = palloc(sizeof(int64) * Max(n, 1));
	uint8	   *kinds = palloc(Max(n, 1));
	bool		from_first = m->installed > from;
	bool		to_last = m->removed_set && m->removed < to;
	TimestampTz lo_t = from,
				hi_t = to;
	int64		lo_v,
				hi_v;
	int			lo_i,
				hi_i,
				rollovers = 0,
				negs = 0,
				i;
	LmAtKind	lo_k,
				hi_k;

	appendStringInfo(ex, "%s%s%s", m->code, strcmp(reg, "total") == 0 ? "" : " ", strcmp(reg, "total") == 0 ? "" : reg);
	/*
	 * The query returns the last reading at or before from when there is one, so a first
	 * reading after from is the meter's first reading: its series starts there (an install
	 * reading taken a little after installed_at), and nothing was measured before it.
	 */
	if (n > 0 && r[0].t > from)
		from_first = true;
	if (n == 0 || (from_first && r[0].t >= to))
	{
		appendStringInfo(ex, ": no reading from %s to %s yet", moment_text(from), moment_text(to));
		return false;
	}
	if (to_last && r[n - 1].t <= r[0].t)
	{
		/* removed, its final reading at or before the days began: it measured nothing in them */
		appendStringInfo(ex, " removed, final reading %s before the days: 0.000", moment_text(r[n - 1].t));
		*qty = 0;
		return true;
	}
	if (!to_last && r[n - 1].t < to)
	{
		appendStringInfo(ex, ": no reading at or after %s yet (last %s)", moment_text(to), moment_text(r[n - 1].t));
		return false;
	}
	if (!lm_meter_unwrap(r, n, m->digits, cum, kinds))
		elog(ERROR, "readings of meter %s are out of order", m->code);
	if (from_first)
		lo_t = r[0].t;
	if (to_last)
		hi_t = r[n - 1].t;
	lo_k = lm_meter_at(r, cum, n, lo_t, &lo_v, &lo_i);
	hi_k = lm_meter_at(r, cum, n, hi_t, &hi_v, &hi_i);
	if (lo_k == LM_AT_OUTSIDE || hi_k == LM_AT_OUTSIDE)
		elog(ERROR, "meter %s: a bound is outside its readings", m->code);
	for (i = 1; i < n; i++)
		if (r[i].t > lo_t && r[i - 1].t < hi_t)
		{
			rollovers += kinds[i] == LM_STEP_ROLLOVER;
			negs += kinds[i] == LM_STEP_NEGATIVE;
		}

	appendStringInfo(ex, " %s", lm_qty_text(shown_value(m, r, cum, lo_i, lo_v)));
	append_bound(ex, lo_k, r, lo_i, lo_t, from_first ? "first reading" : NULL);
	appendStringInfo(ex, " -> %s", lm_qty_text(shown_value(m, r, cum, hi_i, hi_v)));
	append_bound(ex, hi_k, r, hi_i, hi_t, to_last ? "final reading" : NULL);
	appendStringInfo(ex, " = %s", lm_qty_text(hi_v - lo_v));
	if (rollovers > 0)
		appendStringInfo(ex, ", rolled over at %s", lm_qty_text(register_range(m)));
	if (negs > 0)
		appendStringInfo(ex, ", with %d negative step%s", negs, negs == 1 ? "" : "s");
	*qty = mul_qty(m, hi_v - lo_v);
	if (m->multiplier != 1)
		appendStringInfo(ex, " x %lld = %s", (long long) m->multiplier, lm_qty_text(*qty));
	*negatives += negs;
	return true;
}

/*
 * The meters a contract's (or a unit's, by_unit) consumption of a kind is measured by, over
 * [$3, $4): "FROM ... WHERE ..." over leasemgr.meter m, for queries whose $1 is the contract
 * or unit and $2 the kind. A contract's meters are those of the units it holds on some of
 * the days (contract_unit cu: an amendment may add or hand back a unit during the lease). A
 * sub-meter whose parent measures the same units, on every day its own unit is held, is
 * inside the parent: left out, so the units' use is counted once, by the parent.
 */
#define HELD_MIDNIGHT(bound) \
	"pg_catalog." bound "(cu.held_range)::pg_catalog.timestamp AT TIME ZONE pg_catalog.current_setting('leasemgr.timezone')"

static char *
measured_meters(bool by_unit)
{
	return psprintf("FROM leasemgr.meter m %s "
					"AND m.kind OPERATOR(pg_catalog.=) $2 "
					"AND m.installed_at OPERATOR(pg_catalog.<) $4 "
					"AND (m.removed_at IS NULL OR m.removed_at OPERATOR(pg_catalog.>) $3) "
					"AND NOT EXISTS (SELECT FROM leasemgr.meter p WHERE p.id OPERATOR(pg_catalog.=) m.parent_id "
					"  AND p.installed_at OPERATOR(pg_catalog.<) $4 "
					"  AND (p.removed_at IS NULL OR p.removed_at OPERATOR(pg_catalog.>) $3) AND %s)",
					by_unit ? "WHERE m.unit_id OPERATOR(pg_catalog.=) $1"
					: "JOIN leasemgr.contract_unit cu ON cu.unit_id OPERATOR(pg_catalog.=) m.unit_id "
					"WHERE cu.contract_id OPERATOR(pg_catalog.=) $1 "
					"AND " HELD_MIDNIGHT("upper") " OPERATOR(pg_catalog.>) $3 "
					"AND " HELD_MIDNIGHT("lower") " OPERATOR(pg_catalog.<) $4",
					by_unit ? "p.unit_id OPERATOR(pg_catalog.=) $1"
					: "p.unit_id OPERATOR(pg_catalog.=) ANY (SELECT cu2.unit_id FROM leasemgr.contract_unit cu2 "
					"WHERE cu2.contract_id OPERATOR(pg_catalog.=) $1 "
					"AND cu2.held_range OPERATOR(pg_catalog.@>) cu.held_range)");
}

/*
 * The moments a meter of the contract counts between: [$3, $4) cut to the days its unit is
 * held. A unit's own meter counts the whole window.
 */
static const char *
held_window(bool by_unit)
{
	return by_unit ? "$3, $4"
		: "GREATEST($3, " HELD_MIDNIGHT("lower") "), LEAST($4, " HELD_MIDNIGHT("upper") ")";
}

/*
 * The anomalies that make the days' readings doubtful: a spike, a step backwards or a day
 * beyond the meter's bound on one of the meters measured. Open ones wait for engineering;
 * confirmed ones say the readings were wrong. Either way the readings are not billed as they
 * are: the line is estimated (billing.c).
 */
static void
doubtful_anomalies(bool by_unit, int64 id, const char *kind, TimestampTz from, TimestampTz to, LmUsage *u)
{
	static SPIPlanPtr plans[2] = {NULL, NULL};
	MemoryContext cxt = CurrentMemoryContext;
	Datum		args[4];
	uint64		i;

	initStringInfo(&u->anomalies);
	if (plans[by_unit] == NULL)
	{
		Oid			argtypes[4] = {INT8OID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID};

		plans[by_unit] = lm_keep_plan(psprintf(
							"SELECT a.id, a.kind, m.code, pg_catalog.lower(a.during), a.state FROM leasemgr.anomaly a "
							"JOIN (SELECT m.id, m.code, pg_catalog.tstzrange(%s) AS counted %s) m "
							"  ON m.id OPERATOR(pg_catalog.=) a.meter_id "
							"WHERE a.state OPERATOR(pg_catalog.<>) 'dismissed' "
							"AND a.kind OPERATOR(pg_catalog.=) ANY ('{spike,negative,bounds}') "
							"AND a.during OPERATOR(pg_catalog.&&) m.counted ORDER BY a.id",
							held_window(by_unit), measured_meters(by_unit)),
							4, argtypes);
	}
	args[0] = Int64GetDatum(id);
	args[1] = CStringGetTextDatum(kind);
	args[2] = TimestampTzGetDatum(from);
	args[3] = TimestampTzGetDatum(to);
	if (SPI_execute_plan(plans[by_unit], args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "anomaly query failed");
	MemoryContextSwitchTo(cxt);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		bool		isnull;
		bool		open = strcmp(SPI_getvalue(t, d, 5), "open") == 0;

		appendStringInfo(&u->anomalies, "%sanomaly %s (%s on %s from %s, %s)", i > 0 ? ", " : "",
						 SPI_getvalue(t, d, 1), SPI_getvalue(t, d, 2), SPI_getvalue(t, d, 3),
						 moment_text(DatumGetTimestampTz(SPI_getbinval(t, d, 4, &isnull))),
						 open ? "open" : "confirmed");
		if (open)
			u->nanomalies++;
		else
			u->nconfirmed++;
	}
	SPI_freetuptable(SPI_tuptable);
}

/* The consumption of the meters of a contract's units, or of one unit. */
static void
metered_usage(bool by_unit, int64 id, const char *kind, DateADT from, DateADT to, int ntou, char **tou_regs,
			  LmUsage *u)
{
	static SPIPlanPtr plans[2] = {NULL, NULL};
	MemoryContext cxt = CurrentMemoryContext;
	TimestampTz from_t = lm_local_midnight(from);
	TimestampTz to_t = lm_local_midnight(to + 1);
	Datum		args[4];
	MeterInfo  *meters;
	TimestampTz *counted;		/* per meter: the moments it counts between */
	int			i,
				k;

	memset(u, 0, sizeof(*u));
	initStringInfo(&u->explain);
	u->nregs = ntou;
	u->reg_qty = palloc0(sizeof(int64) * Max(ntou, 1));
	if (plans[by_unit] == NULL)
	{
		Oid			argtypes[4] = {INT8OID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID};

		plans[by_unit] = lm_keep_plan(psprintf("SELECT %s, " METER_COLUMNS " %s ORDER BY m.code, m.id",
											   held_window(by_unit), measured_meters(by_unit)),
									  4, argtypes);
	}
	args[0] = Int64GetDatum(id);
	args[1] = CStringGetTextDatum(kind);
	args[2] = TimestampTzGetDatum(from_t);
	args[3] = TimestampTzGetDatum(to_t);
	if (SPI_execute_plan(plans[by_unit], args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "meter query failed");
	MemoryContextSwitchTo(cxt);
	u->nmeters = (int) SPI_processed;
	meters = palloc(sizeof(MeterInfo) * Max(u->nmeters, 1));
	counted = palloc(sizeof(TimestampTz) * 2 * Max(u->nmeters, 1));
	for (i = 0; i < u->nmeters; i++)
	{
		bool		isnull;

		counted[2 * i] = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		counted[2 * i + 1] = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
		read_meter(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3, &meters[i]);
	}
	SPI_freetuptable(SPI_tuptable);
	u->missing = palloc(sizeof(int64) * Max(u->nmeters, 1));

	for (i = 0; i < u->nmeters; i++)
	{
		MeterInfo  *m = &meters[i];
		TimestampTz from_t = counted[2 * i];
		TimestampTz to_t = counted[2 * i + 1];
		bool		ok = true;
		int64		q;

		if (ntou > 0)
		{
			for (k = 0; k < ntou; k++)
			{
				if (u->explain.len > 0)
					appendStringInfoString(&u->explain, "; ");
				if (!has_register(m, tou_regs[k]))
				{
					appendStringInfo(&u->explain, "%s has no register %s", m->code, tou_regs[k]);
					ok = false;
				}
				else if (register_use(m, tou_regs[k], from_t, to_t, &u->explain, &q, &u->negatives))
					u->reg_qty[k] += q;
				else
					ok = false;
			}
		}
		else
		{
			bool		one = has_register(m, "total");

			for (k = 0; k < m->nregs; k++)
			{
				if (one && strcmp(m->regs[k], "total") != 0)
					continue;
				if (u->explain.len > 0)
					appendStringInfoString(&u->explain, one ? "; " : " + ");
				if (register_use(m, m->regs[k], from_t, to_t, &u->explain, &q, &u->negatives))
					u->total += q;
				else
					ok = false;
			}
		}
		if (!ok)
			u->missing[u->nmissing++] = m->id;
	}
	u->complete = u->nmeters > 0 && u->nmissing == 0;
	doubtful_anomalies(by_unit, id, kind, from_t, to_t, u);
}

void
lm_metered_usage(int64 contract_id, const char *kind, DateADT from, DateADT to, int ntou, char **tou_regs,
				 LmUsage *u)
{
	metered_usage(false, contract_id, kind, from, to, ntou, tou_regs, u);
}

void
lm_unit_usage(int64 unit_id, const char *kind, DateADT from, DateADT to, int ntou, char **tou_regs,
			  LmUsage *u)
{
	metered_usage(true, unit_id, kind, from, to, ntou, tou_regs, u);
}

/*
 * meter_consumption(meter_id, from_ts, to_ts, register) -> (quantity, explain): what one
 * register of one meter measured between two moments, quantity NULL when its readings do
 * not cover them.
 */
Datum
meter_consumption(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	int64		meter_id = PG_GETARG_INT64(0);
	TimestampTz from = PG_GETARG_TIMESTAMPTZ(1);
	TimestampTz to = PG_GETARG_TIMESTAMPTZ(2);
	char	   *reg = text_to_cstring(PG_GETARG_TEXT_PP(3));
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	MeterInfo	m;
	StringInfoData ex;
	int64		q = 0;
	int			negatives = 0;
	bool		connected = false;
	MemoryContext cxt = CurrentMemoryContext;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "meter_consumption must return a row");
	if (TIMESTAMP_NOT_FINITE(from) || TIMESTAMP_NOT_FINITE(to) || to <= from)
		ereport(ERROR,
				(errcode(ERRCODE_LM_INVALID_ARGUMENT),
				 errmsg("consumption is measured between two moments in order"),
				 errdetail("from_ts is %s and to_ts is %s.", moment_text(from), moment_text(to)),
				 errhint("Pass finite moments with from_ts before to_ts.")));
	lm_spi_connect(&connected);
	if (plan == NULL)
	{
		Oid			argtypes[1] = {INT8OID};

		plan = lm_keep_plan("SELECT " METER_COLUMNS " FROM leasemgr.meter m WHERE m.id OPERATOR(pg_catalog.=) $1",
							1, argtypes);
	}
	values[0] = Int64GetDatum(meter_id);
	if (SPI_execute_plan(plan, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "meter query failed");
	MemoryContextSwitchTo(cxt);
	if (SPI_processed == 0)
		lm_row_not_found("meter", Int64GetDatum(meter_id));
	read_meter(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &m);
	if (!has_register(&m, reg))
		ereport(ERROR,
				(errcode(ERRCODE_LM_INVALID_READING),
				 errmsg("meter %s has no register \"%s\"", m.code, reg),
				 errhint("Pass one of the meter's registers (default total).")));
	initStringInfo(&ex);
	if (register_use(&m, reg, from, to, &ex, &q, &negatives))
		values[0] = NumericGetDatum(int64_div_fast_to_numeric(q, 3));
	else
		nulls[0] = true;
	values[1] = CStringGetTextDatum(ex.data);
	values[2] = Int32GetDatum(negatives);
	lm_spi_finish(&connected);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
