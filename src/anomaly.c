/*
 * anomaly.c
 *     leasemgr.detect_anomalies: every register of every meter of a park over some days,
 *     against the park's thresholds; what it finds goes to leasemgr.anomaly once.
 *
 * One scan of the readings of the window (and of the baseline days before it), in the order
 * they lie in the table: IoT imports write them in time order, meter after meter, so an
 * ORDER BY meter would sort millions of rows, or read them through the index in a random
 * order. Each reading is appended to its register's series instead (a hash table), and each
 * series is sorted on its own, usually already in order. Then per series: unwrap, daily
 * consumption between local midnights, and the statistics of src/core/lm_meter.c. Memory is
 * 16 bytes a reading of the window, held until its series is done.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "leasemgr.h"
#include "meter.h"
#include "lm_meter.h"

PG_FUNCTION_INFO_V1(detect_anomalies);

#define FETCH_ROWS 10000
#define REGISTER_LEN 24			/* registers are at most 16 characters (meter.registers CHECK) */

enum
{
	K_SPIKE, K_NEGATIVE, K_STUCK, K_GAP, K_LAG, K_BOUNDS, K__COUNT
};
static const char *const kind_names[K__COUNT] = {"spike", "negative", "stuck", "gap", "lag", "bounds"};

typedef struct Meter
{
	int64		id;
	int64		unit_id;		/* 0: a shared meter */
	int			digits;
	int64		multiplier;
	int64		max_daily;		/* thousandths, 0: none */
	int64		spike_x100;		/* an allocation rule's spike ratio x 100 for its pool's meters; 0: the park's */
} Meter;

typedef struct UnitDays
{
	int64		unit_id;
	bool	   *leased;			/* one flag per day of the window */
} UnitDays;

typedef struct SeriesKey
{
	int64		meter_id;
	char		reg[REGISTER_LEN];
} SeriesKey;

typedef struct Series
{
	SeriesKey	key;
	int			n;
	int			cap;
	LmReading  *r;
	bool		sorted;
	/* late readings (lag): the first and last read_at, the longest lag */
	int			nlate;
	int64		late_from;
	int64		late_to;
	int64		late_max;
} Series;

/* Anomalies found, column by column, inserted at the end with one statement. */
typedef struct Found
{
	int			n;
	int			cap;
	int		   *kind;
	int64	   *meter;
	char	  **reg;
	int64	   *from;
	int64	   *to;
	int64	   *observed;		/* thousandths (gap: microseconds; lag: microseconds) */
	int64	   *baseline;		/* idem; 0: none */
	int			detected[K__COUNT];
	MemoryContext cxt;
} Found;

typedef struct SinkArg
{
	Found	   *found;
	const Series *series;
} SinkArg;

static void
found_add(Found *f, int kind, int64 meter, const char *reg, int64 from, int64 to, int64 observed, int64 baseline)
{
	MemoryContext old = MemoryContextSwitchTo(f->cxt);

	if (f->n == f->cap)
	{
		int			cap = Max(64, f->cap * 2);

		f->kind = f->cap ? repalloc(f->kind, sizeof(int) * cap) : palloc(sizeof(int) * cap);
		f->meter = f->cap ? repalloc(f->meter, sizeof(int64) * cap) : palloc(sizeof(int64) * cap);
		f->reg = f->cap ? repalloc(f->reg, sizeof(char *) * cap) : palloc(sizeof(char *) * cap);
		f->from = f->cap ? repalloc(f->from, sizeof(int64) * cap) : palloc(sizeof(int64) * cap);
		f->to = f->cap ? repalloc(f->to, sizeof(int64) * cap) : palloc(sizeof(int64) * cap);
		f->observed = f->cap ? repalloc(f->observed, sizeof(int64) * cap) : palloc(sizeof(int64) * cap);
		f->baseline = f->cap ? repalloc(f->baseline, sizeof(int64) * cap) : palloc(sizeof(int64) * cap);
		f->cap = cap;
	}
	f->kind[f->n] = kind;
	f->meter[f->n] = meter;
	f->reg[f->n] = pstrdup(reg);
	f->from[f->n] = from;
	f->to[f->n] = to;
	f->observed[f->n] = observed;
	f->baseline[f->n] = baseline;
	f->n++;
	f->detected[kind]++;
	MemoryContextSwitchTo(old);
}

static void
sink(void *arg, const LmAnomaly *a)
{
	SinkArg    *s = arg;
	int			kind = a->kind == LM_ANOM_SPIKE ? K_SPIKE
		: a->kind == LM_ANOM_NEGATIVE ? K_NEGATIVE
		: a->kind == LM_ANOM_STUCK ? K_STUCK
		: a->kind == LM_ANOM_GAP ? K_GAP : K_BOUNDS;
	/* a reading kind's window [t_prev, t] becomes [t_prev, t + 1 microsecond) */
	int64		to = (kind == K_NEGATIVE || kind == K_GAP) ? a->to_t + 1 : a->to_t;

	found_add(s->found, kind, s->series->key.meter_id, s->series->key.reg, a->from_t, to, a->observed, a->baseline);
}

static int
reading_cmp(const void *a, const void *b)
{
	int64		ta = ((const LmReading *) a)->t;
	int64		tb = ((const LmReading *) b)->t;

	return ta < tb ? -1 : ta > tb ? 1 : 0;
}

/* The park's meters, by id (sorted), and the thresholds. */
static Meter *
load_meters(int64 park_id, DateADT first_day, DateADT last_day, int *n)
{
	MemoryContext cxt = CurrentMemoryContext;
	Datum		args[3] = {Int64GetDatum(park_id), DateADTGetDatum(first_day), DateADTGetDatum(last_day)};
	Oid			argtypes[3] = {INT8OID, DATEOID, DATEOID};
	Meter	   *m;
	uint64		i;

	if (SPI_execute_with_args("SELECT m.id, COALESCE(m.unit_id, 0), m.digits, m.multiplier, "
							  "COALESCE((m.max_daily OPERATOR(pg_catalog.*) 1000)::pg_catalog.int8, 0), "
							  "COALESCE((SELECT (pg_catalog.min(r.spike_ratio) OPERATOR(pg_catalog.*) 100)::pg_catalog.int8 "
							  "          FROM leasemgr.allocation_rule r WHERE (r.pool_meter_id OPERATOR(pg_catalog.=) m.id "
							  "             OR r.pool_meter_id OPERATOR(pg_catalog.=) m.parent_id) "
							  /* the rules in force during the days looked at */
							  "            AND r.valid_from OPERATOR(pg_catalog.<=) $3 "
							  "            AND (r.valid_to IS NULL OR r.valid_to OPERATOR(pg_catalog.>=) $2)), 0) "
							  "FROM leasemgr.meter m WHERE m.park_id OPERATOR(pg_catalog.=) $1 ORDER BY m.id",
							  3, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "meter query failed");
	MemoryContextSwitchTo(cxt);
	m = palloc(sizeof(Meter) * Max(SPI_processed, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		bool		isnull;

		m[i].id = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
		m[i].unit_id = DatumGetInt64(SPI_getbinval(t, d, 2, &isnull));
		m[i].digits = DatumGetInt32(SPI_getbinval(t, d, 3, &isnull));
		m[i].multiplier = DatumGetInt32(SPI_getbinval(t, d, 4, &isnull));
		m[i].max_daily = DatumGetInt64(SPI_getbinval(t, d, 5, &isnull));
		m[i].spike_x100 = DatumGetInt64(SPI_getbinval(t, d, 6, &isnull));
	}
	*n = (int) SPI_processed;
	SPI_freetuptable(SPI_tuptable);
	return m;
}

static Meter *
find_meter(Meter *m, int n, int64 id)
{
	int			lo = 0,
				hi = n - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (m[mid].id == id)
			return &m[mid];
		if (m[mid].id < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

/*
 * The days of each unit of the park that were leased (a lease in force: active, amending,
 * or ended since), as a flag per day of the window; NULL for a unit never leased in it.
 */
static HTAB *
load_occupancy(int64 park_id, DateADT first, int ndays)
{
	HASHCTL		ctl = {0};
	HTAB	   *units;
	Datum		args[3];
	Oid			argtypes[3] = {INT8OID, DATEOID, DATEOID};
	MemoryContext cxt = CurrentMemoryContext;
	uint64		i;

	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(UnitDays);
	ctl.hcxt = cxt;
	units = hash_create("leasemgr occupancy", 256, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	args[0] = Int64GetDatum(park_id);
	args[1] = DateADTGetDatum(first);
	args[2] = DateADTGetDatum(first + ndays - 1);
	if (SPI_execute_with_args("SELECT cu.unit_id, GREATEST(pg_catalog.lower(cu.held_range), $2), "
							  "LEAST(pg_catalog.upper(cu.held_range) OPERATOR(pg_catalog.-) 1, $3) "
							  "FROM leasemgr.contract c JOIN leasemgr.contract_unit cu ON cu.contract_id OPERATOR(pg_catalog.=) c.id "
							  "WHERE c.park_id OPERATOR(pg_catalog.=) $1 "
							  "AND c.state OPERATOR(pg_catalog.=) ANY ('{active,amending,expired,terminated,moving_out,closed}') "
							  "AND cu.held_range OPERATOR(pg_catalog.&&) pg_catalog.daterange($2, $3, '[]')",
							  3, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "occupancy query failed");
	MemoryContextSwitchTo(cxt);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		bool		isnull,
					found;
		int64		unit = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
		DateADT		lo = DatumGetDateADT(SPI_getbinval(t, d, 2, &isnull));
		DateADT		hi = DatumGetDateADT(SPI_getbinval(t, d, 3, &isnull));
		UnitDays   *u = hash_search(units, &unit, HASH_ENTER, &found);
		DateADT		day;

		if (!found)
			u->leased = palloc0(sizeof(bool) * ndays);
		for (day = lo; day <= hi; day++)
			u->leased[day - first] = true;
	}
	SPI_freetuptable(SPI_tuptable);
	return units;
}

/* Read every non-void reading of the park's meters from..to into its series. */
static HTAB *
load_series(int64 park_id, TimestampTz from, TimestampTz to, int64 lag_us, TimestampTz window_from,
			TimestampTz window_to, MemoryContext series_cxt)
{
	HASHCTL		ctl = {0};
	HTAB	   *all;
	Portal		portal;
	Datum		args[3];
	Oid			argtypes[3] = {INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	SPIPlanPtr	plan;
	Series	   *last = NULL;

	ctl.keysize = sizeof(SeriesKey);
	ctl.entrysize = sizeof(Series);
	ctl.hcxt = series_cxt;
	all = hash_create("leasemgr series", 1024, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	plan = SPI_prepare("SELECT r.meter_id, r.register, r.read_at, (r.value OPERATOR(pg_catalog.*) 1000)::pg_catalog.int8, "
					   "r.recorded_at FROM leasemgr.meter_reading r "
					   "WHERE r.park_id OPERATOR(pg_catalog.=) $1 AND r.voided_at IS NULL "
					   "AND r.read_at OPERATOR(pg_catalog.>=) $2 AND r.read_at OPERATOR(pg_catalog.<=) $3",
					   3, argtypes);
	if (plan == NULL)
		elog(ERROR, "reading query failed: %s", SPI_result_code_string(SPI_result));
	args[0] = Int64GetDatum(park_id);
	args[1] = TimestampTzGetDatum(from);
	args[2] = TimestampTzGetDatum(to);
	portal = SPI_cursor_open(NULL, plan, args, NULL, true);
	for (;;)
	{
		uint64		i;

		SPI_cursor_fetch(portal, true, FETCH_ROWS);
		if (SPI_processed == 0)
			break;
		for (i = 0; i < SPI_processed; i++)
		{
			HeapTuple	t = SPI_tuptable->vals[i];
			TupleDesc	d = SPI_tuptable->tupdesc;
			bool		isnull,
						found;
			SeriesKey	key;
			Series	   *s;
			text	   *reg;
			int64		read_at,
						lag;

			memset(&key, 0, sizeof(key));
			key.meter_id = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
			reg = DatumGetTextPP(SPI_getbinval(t, d, 2, &isnull));
			memcpy(key.reg, VARDATA_ANY(reg), Min(VARSIZE_ANY_EXHDR(reg), REGISTER_LEN - 1));
			/* consecutive rows of one series (a meter's backfill) skip the hash lookup */
			if (last != NULL && memcmp(&last->key, &key, sizeof(key)) == 0)
				s = last;
			else
			{
				s = hash_search(all, &key, HASH_ENTER, &found);
				if (!found)
				{
					s->n = s->cap = s->nlate = 0;
					s->r = NULL;
					s->sorted = true;
					s->late_max = 0;
				}
				last = s;
			}
			if (s->n == s->cap)
			{
				s->cap = Max(256, s->cap * 2);
				s->r = s->r == NULL ? MemoryContextAllocHuge(series_cxt, sizeof(LmReading) * s->cap)
					: repalloc_huge(s->r, sizeof(LmReading) * s->cap);
			}
			read_at = DatumGetTimestampTz(SPI_getbinval(t, d, 3, &isnull));
			s->r[s->n].t = read_at;
			s->r[s->n].v = DatumGetInt64(SPI_getbinval(t, d, 4, &isnull));
			if (s->n > 0 && s->r[s->n - 1].t > read_at)
				s->sorted = false;
			s->n++;
			lag = DatumGetTimestampTz(SPI_getbinval(t, d, 5, &isnull)) - read_at;
			if (lag >= lag_us && read_at >= window_from && read_at < window_to)
			{
				s->late_from = s->nlate == 0 ? read_at : Min(s->late_from, read_at);
				s->late_to = s->nlate == 0 ? read_at : Max(s->late_to, read_at);
				s->late_max = Max(s->late_max, lag);
				s->nlate++;
			}
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	SPI_freeplan(plan);
	return all;
}

/* Write what was found (once: ON CONFLICT), open work orders for the new ones that hold bills. */
static void
write_found(Found *f, int64 park_id, int *opened)
{
	Datum	   *cols[8];
	Oid			types[8] = {TEXTARRAYOID, INT8ARRAYOID, TEXTARRAYOID, TIMESTAMPTZARRAYOID, TIMESTAMPTZARRAYOID,
	NUMERICARRAYOID, NUMERICARRAYOID, INT8OID};
	Datum		args[8];
	bool	   *bnulls = palloc0(sizeof(bool) * Max(f->n, 1));
	int			i,
				c;
	int			dims[1];
	int			lbs[1] = {1};
	uint64		k;

	if (f->n == 0)
		return;
	for (c = 0; c < 7; c++)
		cols[c] = palloc(sizeof(Datum) * f->n);
	for (i = 0; i < f->n; i++)
	{
		bool		in_days = f->kind[i] == K_GAP || f->kind[i] == K_LAG;

		cols[0][i] = CStringGetTextDatum(kind_names[f->kind[i]]);
		cols[1][i] = Int64GetDatum(f->meter[i]);
		cols[2][i] = CStringGetTextDatum(f->reg[i]);
		cols[3][i] = TimestampTzGetDatum(f->from[i]);
		cols[4][i] = TimestampTzGetDatum(f->to[i]);
		/* gap and lag are durations: shown in days, 3 decimals */
		cols[5][i] = NumericGetDatum(in_days ? int64_div_fast_to_numeric(f->observed[i] / (USECS_PER_DAY / 1000), 3)
									 : int64_div_fast_to_numeric(f->observed[i], 3));
		cols[6][i] = NumericGetDatum(in_days ? int64_div_fast_to_numeric(f->baseline[i] / (USECS_PER_DAY / 1000), 3)
									 : int64_div_fast_to_numeric(f->baseline[i], 3));
	}
	dims[0] = f->n;
	args[0] = PointerGetDatum(construct_md_array(cols[0], NULL, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
	args[1] = PointerGetDatum(construct_md_array(cols[1], NULL, 1, dims, lbs, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[2] = PointerGetDatum(construct_md_array(cols[2], NULL, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
	args[3] = PointerGetDatum(construct_md_array(cols[3], NULL, 1, dims, lbs, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[4] = PointerGetDatum(construct_md_array(cols[4], NULL, 1, dims, lbs, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[5] = PointerGetDatum(construct_md_array(cols[5], NULL, 1, dims, lbs, NUMERICOID, -1, false, TYPALIGN_INT));
	args[6] = PointerGetDatum(construct_md_array(cols[6], bnulls, 1, dims, lbs, NUMERICOID, -1, false, TYPALIGN_INT));
	args[7] = Int64GetDatum(park_id);
	if (SPI_execute_with_args(
							  "WITH found AS (SELECT * FROM ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::bigint[]), "
							  "  pg_catalog.unnest($3::text[]), pg_catalog.unnest($4::timestamptz[]), pg_catalog.unnest($5::timestamptz[]), "
							  "  pg_catalog.unnest($6::numeric[]), pg_catalog.unnest($7::numeric[])) "
							  "  AS f(kind, meter_id, register, lo, hi, observed, baseline)), "
							  "new AS (INSERT INTO leasemgr.anomaly (park_id, meter_id, register, kind, during, observed, baseline, ratio) "
							  "  SELECT $8, f.meter_id, f.register, f.kind, pg_catalog.tstzrange(f.lo, f.hi, '[)'), f.observed, "
							  "         NULLIF(f.baseline, 0), "
							  "         pg_catalog.round(f.observed OPERATOR(pg_catalog./) NULLIF(f.baseline, 0), 2) FROM found f "
							  "  ON CONFLICT ON CONSTRAINT anomaly_once DO NOTHING RETURNING id, kind, meter_id, register, during), "
							  "orders AS (INSERT INTO leasemgr.work_order (park_id, kind, meter_id, anomaly_id, subject) "
							  "  SELECT $8, 'anomaly', n.meter_id, n.id, pg_catalog.format('Inspect meter %s%s: %s anomaly from %s to %s', "
							  "         m.code, CASE WHEN n.register OPERATOR(pg_catalog.=) 'total' THEN '' ELSE ' ' OPERATOR(pg_catalog.||) n.register END, "
							  "         n.kind, pg_catalog.lower(n.during), pg_catalog.upper(n.during)) "
							  "    FROM new n JOIN leasemgr.meter m ON m.id OPERATOR(pg_catalog.=) n.meter_id "
							  "   WHERE n.kind OPERATOR(pg_catalog.=) ANY ('{spike,negative,bounds}')) "
							  "SELECT kind FROM new",
							  8, types, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "anomaly insert failed");
	for (k = 0; k < SPI_processed; k++)
	{
		char	   *kind = SPI_getvalue(SPI_tuptable->vals[k], SPI_tuptable->tupdesc, 1);

		for (c = 0; c < K__COUNT; c++)
			if (strcmp(kind, kind_names[c]) == 0)
				opened[c]++;
	}
	SPI_freetuptable(SPI_tuptable);
}

Datum
detect_anomalies(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		park_id = PG_GETARG_INT64(0);
	TimestampTz from_ts = PG_GETARG_TIMESTAMPTZ(1);
	TimestampTz to_ts = PG_GETARG_TIMESTAMPTZ(2);
	MemoryContext series_cxt;
	MemoryContext meter_cxt;
	MemoryContext old;
	HTAB	   *series;
	HTAB	   *occupancy;
	HASH_SEQ_STATUS seq;
	Series	   *s;
	Meter	   *meters;
	int			nmeters;
	LmDetectParams p = {0};
	DateADT		first_day,
				last_day;
	int			ndays,
				i;
	int64	   *bounds;
	int64	   *use;
	bool	   *known;
	bool	   *all_days;
	bool	   *no_days;
	MemoryContext fn_cxt = CurrentMemoryContext;
	int64		lag_us;
	int64		park_spike_num = 0;
	Found		found = {0};
	int			opened[K__COUNT] = {0};
	bool		connected = false;
	Datum		arg = Int64GetDatum(park_id);
	Oid			argtype = INT8OID;
	bool		isnull;

	InitMaterializedSRF(fcinfo, 0);
	if (TIMESTAMP_NOT_FINITE(from_ts) || TIMESTAMP_NOT_FINITE(to_ts) || to_ts <= from_ts ||
		to_ts - from_ts > (int64) 3660 * USECS_PER_DAY)
	{
		/* timestamptz_to_str writes a static buffer */
		char	   *from_text = pstrdup(timestamptz_to_str(from_ts));
		char	   *to_text = pstrdup(timestamptz_to_str(to_ts));

		ereport(ERROR,
				(errcode(ERRCODE_LM_INVALID_ARGUMENT),
				 errmsg("anomalies are detected over a window of moments in order, at most ten years long"),
				 errdetail("from_ts is %s and to_ts is %s.", from_text, to_text),
				 errhint("Pass the first and the last moment to look at, e.g. the last day or week.")));
	}

	lm_spi_connect(&connected);
	MemoryContextSwitchTo(fn_cxt);
	old = fn_cxt;
	found.cxt = fn_cxt;
	/* the park's policy (it must be visible: row-level security decides) */
	if (SPI_execute_with_args("SELECT p.spike_ratio::text, p.baseline_days, p.min_baseline_days, p.stuck_days, "
							  "p.gap_days, p.lag_days FROM leasemgr.park k, LATERAL leasemgr.metering_policy_of(k.id) p "
							  "WHERE k.id OPERATOR(pg_catalog.=) $1", 1, &argtype, &arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "policy query failed");
	MemoryContextSwitchTo(old);
	if (SPI_processed == 0)
		lm_row_not_found("park", arg);
	{
		HeapTuple	t = SPI_tuptable->vals[0];
		TupleDesc	d = SPI_tuptable->tupdesc;
		char	   *ratio = SPI_getvalue(t, d, 1);	/* numeric(6,2) as text: "3.00" */
		char	   *dot = strchr(ratio, '.');

		/* spike_ratio x 100 / 100, exact: 3.00 -> 300/100 */
		p.spike_num = strtoll(ratio, NULL, 10) * 100 + (dot != NULL ? strtoll(dot + 1, NULL, 10) : 0);
		p.spike_den = 100;
		park_spike_num = p.spike_num;
		p.baseline_days = DatumGetInt32(SPI_getbinval(t, d, 2, &isnull));
		p.min_baseline_days = DatumGetInt32(SPI_getbinval(t, d, 3, &isnull));
		p.stuck_days = DatumGetInt32(SPI_getbinval(t, d, 4, &isnull));
		p.gap_us = DatumGetInt32(SPI_getbinval(t, d, 5, &isnull)) * USECS_PER_DAY;
		lag_us = DatumGetInt32(SPI_getbinval(t, d, 6, &isnull)) * USECS_PER_DAY;
	}
	SPI_freetuptable(SPI_tuptable);

	/* whole local days covering the window, and the baseline days before them */
	first_day = lm_local_date(from_ts);
	last_day = lm_local_date(to_ts - 1);
	p.first_day = p.baseline_days;
	ndays = p.baseline_days + (last_day - first_day + 1);
	bounds = palloc(sizeof(int64) * (ndays + 1));
	for (i = 0; i <= ndays; i++)
		bounds[i] = lm_local_midnight(first_day - p.baseline_days + i);
	use = palloc(sizeof(int64) * ndays);
	known = palloc(sizeof(bool) * ndays);
	all_days = palloc(sizeof(bool) * ndays);
	for (i = 0; i < ndays; i++)
		all_days[i] = true;
	no_days = palloc0(sizeof(bool) * ndays);

	meters = load_meters(park_id, first_day, last_day, &nmeters);
	occupancy = load_occupancy(park_id, first_day - p.baseline_days, ndays);
	series_cxt = AllocSetContextCreate(CurrentMemoryContext, "leasemgr series", ALLOCSET_DEFAULT_SIZES);
	meter_cxt = AllocSetContextCreate(CurrentMemoryContext, "leasemgr meter", ALLOCSET_DEFAULT_SIZES);
	/* a day earlier and later than the days: the readings around their first and last midnight */
	series = load_series(park_id, bounds[0] - USECS_PER_DAY, bounds[ndays] + USECS_PER_DAY, lag_us,
						 bounds[p.first_day], bounds[ndays], series_cxt);
	MemoryContextSwitchTo(old);

	hash_seq_init(&seq, series);
	while ((s = hash_seq_search(&seq)) != NULL)
	{
		Meter	   *m = find_meter(meters, nmeters, s->key.meter_id);
		int64	   *cum;
		uint8	   *kinds;
		bool	   *occupied = all_days;
		SinkArg		sa = {&found, s};

		CHECK_FOR_INTERRUPTS();
		if (m == NULL)
			continue;			/* not of this park's meters as visible: never happens */
		MemoryContextSwitchTo(meter_cxt);
		if (!s->sorted)
			qsort(s->r, s->n, sizeof(LmReading), reading_cmp);
		cum = palloc(sizeof(int64) * s->n);
		kinds = palloc(s->n);
		if (!lm_meter_unwrap(s->r, s->n, m->digits, cum, kinds))
			elog(ERROR, "readings of meter %lld cannot be unwrapped", (long long) m->id);
		if (!lm_meter_periods(s->r, cum, s->n, bounds, ndays, m->multiplier, use, known))
			elog(ERROR, "consumption of meter %lld out of range", (long long) m->id);
		if (m->unit_id != 0)
		{
			UnitDays   *u = hash_search(occupancy, &m->unit_id, HASH_FIND, NULL);

			/* a unit never leased in the window is never stuck; a shared meter always counts */
			occupied = u != NULL ? u->leased : no_days;
		}
		p.max_daily = m->max_daily;
		p.spike_num = m->spike_x100 > 0 ? m->spike_x100 : park_spike_num;
		MemoryContextSwitchTo(old);
		lm_detect_days(&p, bounds, ndays, use, known, occupied, sink, &sa);
		lm_detect_readings(&p, s->r, kinds, s->n, bounds[p.first_day], bounds[ndays], sink, &sa);
		if (s->nlate > 0)
			found_add(&found, K_LAG, m->id, s->key.reg, s->late_from, s->late_to + 1, s->late_max, lag_us);
		MemoryContextReset(meter_cxt);
	}
	MemoryContextDelete(series_cxt);

	write_found(&found, park_id, opened);
	lm_spi_finish(&connected);

	for (i = 0; i < K__COUNT; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = CStringGetTextDatum(kind_names[i]);
		values[1] = Int32GetDatum(found.detected[i]);
		values[2] = Int32GetDatum(opened[i]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
