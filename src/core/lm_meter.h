/*
 * lm_meter.h
 *     Meter arithmetic without PostgreSQL: a register's readings unwrapped into cumulative
 *     consumption (rollover told from a negative step), the cumulative interpolated at any
 *     moment, consumption per period, the anomaly statistics of docs/metering.md (spike,
 *     bounds, stuck, negative, gap) and the largest-remainder split of a shared cost.
 *     src/meter.c reads the readings, converts numeric to thousandths and back, and writes
 *     what these functions find.
 *
 * Everything is an integer: quantities in thousandths of a unit (LM_QTY_SCALE), moments in
 * microseconds, money in cents. The one rounding rule is half away from zero, used by the
 * interpolation and the median; intermediate products are taken in 128 bits.
 */
#ifndef LM_METER_H
#define LM_METER_H

#include <stdbool.h>
#include <stdint.h>

#define LM_QTY_SCALE 1000		/* quantities are integers in thousandths of a unit */

/* The most days a baseline window may hold; lm_detect_days clamps baseline_days to this. */
#define LM_MAX_BASELINE_DAYS 366

/*
 * One reading of one register. t: a moment in microseconds (any epoch); v: the register as
 * displayed, in thousandths, >= 0.
 */
typedef struct LmReading
{
	int64_t		t;
	int64_t		v;
} LmReading;

typedef enum LmStepKind
{
	LM_STEP_NORMAL = 0,
	LM_STEP_ROLLOVER = 1,
	LM_STEP_NEGATIVE = 2
} LmStepKind;

/*
 * Unwrap a register's readings (strictly increasing t) into a cumulative consumption series:
 * cum[0] = 0, cum[i] = cum[i-1] + step(i). step = v[i] - v[i-1] when >= 0 (NORMAL). When
 * v[i] < v[i-1]: if digits > 0 and the forward distance F = 10^digits * 1000 - v[i-1] + v[i]
 * is less than half the range (F * 2 < range), step = F (ROLLOVER); otherwise step =
 * v[i] - v[i-1], negative (NEGATIVE). kinds[0] = NORMAL.
 * digits: 0 = never rolls over, else 1..15. A drop of a whole range or more (only possible
 * when a value exceeds what the register can display) is never a rollover: it is NEGATIVE.
 * n == 0 is an empty series (true, nothing written). Returns false (outputs unspecified)
 * when t is not strictly increasing, a v is negative, digits is outside 0..15, n < 0, or on
 * int64 overflow of the cumulative.
 */
extern bool lm_meter_unwrap(const LmReading *r, int n, int digits, int64_t *cum, uint8_t *kinds);

typedef enum LmAtKind
{
	LM_AT_OUTSIDE = 0,
	LM_AT_EXACT = 1,
	LM_AT_INTERPOLATED = 2
} LmAtKind;

/*
 * The cumulative at moment t: EXACT when a reading is at t (*lo = its index); INTERPOLATED
 * when r[*lo].t < t < r[*lo + 1].t: cum[lo] + (cum[lo+1] - cum[lo]) * (t - t_lo) / (t_hi - t_lo),
 * rounded half away from zero to the thousandth; OUTSIDE when t < r[0].t or t > r[n-1].t or
 * n <= 0 (then *out = 0 and *lo = -1). Binary search: O(log n). lo may be NULL.
 */
extern LmAtKind lm_meter_at(const LmReading *r, const int64_t *cum, int n, int64_t t,
							int64_t *out, int *lo);

/*
 * Consumption per period: bounds[0..nperiods] ascending moments (equal neighbours allowed: an
 * empty period); period d is [bounds[d], bounds[d+1]); use[d] = (cum at bounds[d+1] - cum at
 * bounds[d]) * multiplier, known[d] = both moments inside the readings (not OUTSIDE);
 * use[d] = 0 when unknown. Adjacent periods share their bound, so the known uses of a run of
 * periods add up to the cumulative across the run exactly. One forward walk:
 * O(n + nperiods). Returns false (outputs unspecified) on overflow, when the bounds decrease,
 * multiplier < 1, or n or nperiods is negative.
 */
extern bool lm_meter_periods(const LmReading *r, const int64_t *cum, int n, const int64_t *bounds,
							 int nperiods, int64_t multiplier, int64_t *use, bool *known);

/*
 * Median of vals[0..n-1] (n >= 1), rearranging vals: for even n the mean of the two middle
 * values rounded half away from zero. Quickselect, O(n) expected. Returns 0 when n < 1.
 */
extern int64_t lm_median(int64_t *vals, int n);

typedef enum LmAnomalyKind
{
	LM_ANOM_SPIKE,
	LM_ANOM_NEGATIVE,
	LM_ANOM_STUCK,
	LM_ANOM_GAP,
	LM_ANOM_BOUNDS
} LmAnomalyKind;

typedef struct LmAnomaly
{
	LmAnomalyKind kind;
	int64_t		from_t,			/* the window: [from_t, to_t) for day kinds, */
				to_t;			/* [t_prev, t] for reading kinds */
	int64_t		observed;		/* thousandths of a unit (gap: microseconds) */
	int64_t		baseline;		/* thousandths (gap: the threshold in microseconds); 0 = none */
} LmAnomaly;

typedef void (*LmAnomalySink) (void *arg, const LmAnomaly *a);

typedef struct LmDetectParams
{
	int64_t		spike_num,		/* the spike ratio as a fraction, e.g. 3/1 or 25/10 (> 0) */
				spike_den;
	int			baseline_days;	/* e.g. 28; at most LM_MAX_BASELINE_DAYS (clamped) */
	int			min_baseline_days;	/* e.g. 7 */
	int			stuck_days;		/* e.g. 7; < 1: no stuck detection */
	int64_t		gap_us;			/* e.g. 3 days in microseconds; <= 0: no gap detection */
	int64_t		max_daily;		/* thousandths (after multiplier); 0 = no bound */
	int			first_day;		/* days before this index are history (baseline) only */
} LmDetectParams;

/*
 * Day anomalies over use/known from lm_meter_periods (bounds[0..ndays]); occupied[d] says the
 * unit was leased that day (NULL: treat every day as occupied). Reported only for days >= first_day:
 *  - SPIKE on known day d: baseline = median of the known use[] in days [d - baseline_days, d - 1]
 *    (clipped at 0) when at least min_baseline_days (and at least one) of them are known and
 *    the median > 0; spike when use[d] * spike_den > baseline * spike_num (strictly above).
 *    Window [bounds[d], bounds[d+1]), observed use[d], baseline the median. Earlier spikes
 *    stay in the window: the median is what makes it robust. No spikes unless num and den > 0.
 *  - BOUNDS on known day d when max_daily > 0 and use[d] > max_daily: observed use[d],
 *    baseline max_daily.
 *  - STUCK: a maximal run of consecutive known, occupied days with use == 0 of length >= stuck_days,
 *    reported once for the whole run (window from the run's first day start to its last day end) when
 *    the run's last day >= first_day; observed 0, baseline = the median of the known use of the
 *    baseline_days days before the run (0 when fewer than min_baseline_days known). A run is
 *    broken by an unknown day, a non-zero day or an unoccupied day; a run still going on the
 *    last day ends there.
 * Emitted in day order: a stuck run when it ends (its days are zero, so no spike or bounds
 * falls inside it), then a day's SPIKE before its BOUNDS. baseline_days is clamped to
 * 0..LM_MAX_BASELINE_DAYS so the median window lives on the stack.
 */
extern void lm_detect_days(const LmDetectParams *p, const int64_t *bounds, int ndays,
						   const int64_t *use, const bool *known, const bool *occupied,
						   LmAnomalySink sink, void *arg);

/*
 * Reading anomalies within [window_from, window_to):
 *  - NEGATIVE for each i >= 1 with kinds[i] == LM_STEP_NEGATIVE and window_from <= r[i].t < window_to:
 *    window [r[i-1].t, r[i].t], observed = r[i].v - r[i-1].v (negative), baseline 0.
 *  - GAP for each i >= 1 with r[i].t - r[i-1].t >= gap_us whose interval overlaps the window
 *    (r[i-1].t < window_to and r[i].t > window_from): window [r[i-1].t, r[i].t], observed =
 *    the duration, baseline = gap_us; and an open gap at the end when window_to - r[n-1].t >=
 *    gap_us (window [r[n-1].t, window_to]); with n == 0 one gap over the whole window when
 *    window_to - window_from >= gap_us.
 * Emitted in time order; for one interval the NEGATIVE before the GAP. An empty window
 * (window_to <= window_from) reports nothing; gap_us <= 0 reports no gaps.
 */
extern void lm_detect_readings(const LmDetectParams *p, const LmReading *r, const uint8_t *kinds,
							   int n, int64_t window_from, int64_t window_to,
							   LmAnomalySink sink, void *arg);

/*
 * Largest remainder: shares of total_cents in proportion to weights[0..n-1] (each >= 0, any
 * fixed scale, sum > 0). Each share is floor(|total| * w / W); the cents left (fewer than n)
 * go one each to the largest remainders, ties to the lower index; for a negative total,
 * compute on |total| and negate every share. Shares add up to total exactly and each is
 * within one cent of the exact proportion. No allocation: the remainder threshold is found
 * by bisection, O(n log W). Returns false when n < 1, a weight is negative or the weights
 * sum to 0 (|total| x w and the sum are taken in 128 bits, so nothing else overflows).
 */
extern bool lm_largest_remainder(int64_t total_cents, const int64_t *weights, int n,
								 int64_t *shares);

/*
 * The fallback estimate of docs/metering.md: a tenant's consumption when its own readings
 * cannot be billed, from the floor's units that have real figures.
 *   floor_qty   their consumption (thousandths), >= 0
 *   floor_area  their area (hundredths of m2), > 0
 *   area        the tenant's metered area (hundredths of m2), > 0
 *   ratio       the tenant's own ratio to the floor average (ten-thousandths), >= 0
 * *est = floor_qty / floor_area x area x ratio / 10000, rounded half away from zero to the
 * thousandth, once. Returns false on an argument out of range or a result beyond int64.
 */
extern bool lm_fallback_estimate(int64_t floor_qty, int64_t floor_area, int64_t area,
								 int64_t ratio, int64_t *est);

/*
 * A tenant's ratio to its floor in a month with real figures: real / (floor_qty / floor_area x
 * area), in ten-thousandths, rounded half away from zero (1.0000 = 10000). Same units as
 * above; returns false when floor_qty or area is 0, an argument is negative or the ratio
 * does not fit.
 */
extern bool lm_floor_ratio(int64_t real, int64_t floor_qty, int64_t floor_area, int64_t area,
						   int64_t *ratio);

#endif							/* LM_METER_H */
