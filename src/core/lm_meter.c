/*
 * lm_meter.c
 *     Consumption from a register's readings, the anomaly statistics over it, and the
 *     largest-remainder split of a shared cost (docs/metering.md).
 *
 * A register's readings become a cumulative series once (lm_meter_unwrap); every later
 * question (a moment, a period, a day) is a difference of that series, so adjacent periods
 * add up to the readings exactly and nothing is rounded twice. Products that could leave
 * 64 bits (a quantity times a duration, a total times a weight) are taken in 128 bits.
 */
#include <stddef.h>

#include "lm_meter.h"

/* gcc/clang extension; __extension__ keeps -Wpedantic quiet about it. */
__extension__ typedef __int128 lm_int128;
__extension__ typedef unsigned __int128 lm_uint128;

/* *sum = a + b, or false when that leaves int64. */
static bool
add_checked(int64_t a, int64_t b, int64_t *sum)
{
	if ((b > 0 && a > INT64_MAX - b) || (b < 0 && a < INT64_MIN - b))
		return false;
	*sum = a + b;
	return true;
}

/* b - a for a < b, as a duration; clamped to INT64_MAX (it cannot be reached by real data). */
static int64_t
duration(int64_t a, int64_t b)
{
	uint64_t	d = (uint64_t) b - (uint64_t) a;

	return d > (uint64_t) INT64_MAX ? INT64_MAX : (int64_t) d;
}

bool
lm_meter_unwrap(const LmReading *r, int n, int digits, int64_t *cum, uint8_t *kinds)
{
	int64_t		range = 0;		/* 10^digits units, in thousandths; 0: never rolls over */
	int			i;

	if (n < 0 || digits < 0 || digits > 15)
		return false;
	if (n == 0)
		return true;
	if (digits > 0)
	{
		range = LM_QTY_SCALE;
		for (i = 0; i < digits; i++)
			range *= 10;		/* at most 10^18: fits */
	}
	if (r[0].v < 0)
		return false;
	cum[0] = 0;
	kinds[0] = LM_STEP_NORMAL;
	for (i = 1; i < n; i++)
	{
		int64_t		a = r[i - 1].v;
		int64_t		b = r[i].v;
		int64_t		step;

		if (b < 0 || r[i].t <= r[i - 1].t)
			return false;
		if (b >= a)
		{
			step = b - a;
			kinds[i] = LM_STEP_NORMAL;
		}
		else if (range > 0 && a - b < range && (range - (a - b)) * 2 < range)
		{
			/*
			 * Forward through zero is shorter than half the dial: the register wrapped.
			 * F = range - a + b = range - (a - b), with 0 < F < range / 2.
			 */
			step = range - (a - b);
			kinds[i] = LM_STEP_ROLLOVER;
		}
		else
		{
			/* Counted as it is, so a bad reading shows up instead of being hidden. */
			step = b - a;
			kinds[i] = LM_STEP_NEGATIVE;
		}
		if (!add_checked(cum[i - 1], step, &cum[i]))
			return false;
	}
	return true;
}

/* The index of the last reading at or before t; needs r[0].t <= t. */
static int
last_at_or_before(const LmReading *r, int n, int64_t t)
{
	int			lo = 0;
	int			hi = n - 1;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo + 1) / 2;

		if (r[mid].t <= t)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/*
 * The cumulative at t for r[j].t < t < r[j + 1].t, rounded half away from zero. Done on
 * magnitudes in unsigned 128 bits: |cum difference| < 2^64 and the elapsed time < 2^64, so
 * the product cannot overflow whatever the inputs, and the result lies between cum[j] and
 * cum[j + 1].
 */
static int64_t
interpolate(const LmReading *r, const int64_t *cum, int j, int64_t t)
{
	int64_t		c0 = cum[j];
	int64_t		c1 = cum[j + 1];
	bool		down = c1 < c0;
	uint64_t	mag = down ? (uint64_t) c0 - (uint64_t) c1 : (uint64_t) c1 - (uint64_t) c0;
	lm_uint128	span = (uint64_t) r[j + 1].t - (uint64_t) r[j].t;
	lm_uint128	part = (lm_uint128) mag * ((uint64_t) t - (uint64_t) r[j].t);
	lm_uint128	q = part / span;
	lm_uint128	rem = part % span;

	if (rem >= span - rem)		/* 2 x rem >= span: half or more rounds away from zero */
		q++;
	/* q <= mag, so the result is in range; the conversion back is modulo 2^64. */
	return down ? (int64_t) ((uint64_t) c0 - (uint64_t) q)
		: (int64_t) ((uint64_t) c0 + (uint64_t) q);
}

LmAtKind
lm_meter_at(const LmReading *r, const int64_t *cum, int n, int64_t t, int64_t *out, int *lo)
{
	int			j;

	if (n <= 0 || t < r[0].t || t > r[n - 1].t)
	{
		*out = 0;
		if (lo)
			*lo = -1;
		return LM_AT_OUTSIDE;
	}
	j = last_at_or_before(r, n, t);
	if (lo)
		*lo = j;
	if (r[j].t == t)
	{
		*out = cum[j];
		return LM_AT_EXACT;
	}
	*out = interpolate(r, cum, j, t);
	return LM_AT_INTERPOLATED;
}

bool
lm_meter_periods(const LmReading *r, const int64_t *cum, int n, const int64_t *bounds,
				 int nperiods, int64_t multiplier, int64_t *use, bool *known)
{
	int			j = 0;			/* last reading at or before the current bound */
	int64_t		prev = 0;		/* the cumulative at the previous bound ... */
	bool		prev_in = false;	/* ... when that bound was inside the readings */
	int			d;

	if (n < 0 || nperiods < 0 || multiplier < 1)
		return false;
	for (d = 0; d <= nperiods; d++)
	{
		int64_t		b = bounds[d];
		int64_t		c = 0;
		bool		in;

		if (d > 0 && b < bounds[d - 1])
			return false;
		in = n > 0 && b >= r[0].t && b <= r[n - 1].t;
		if (in)
		{
			/* The bounds ascend, so the cursor only moves forward: O(n + nperiods). */
			while (j + 1 < n && r[j + 1].t <= b)
				j++;
			c = r[j].t == b ? cum[j] : interpolate(r, cum, j, b);
		}
		if (d > 0)
		{
			if (prev_in && in)
			{
				/* |c - prev| < 2^64 and multiplier < 2^63: the product fits 128 bits. */
				lm_int128	u = ((lm_int128) c - prev) * multiplier;

				if (u > INT64_MAX || u < INT64_MIN)
					return false;
				use[d - 1] = (int64_t) u;
				known[d - 1] = true;
			}
			else
			{
				use[d - 1] = 0;
				known[d - 1] = false;
			}
		}
		prev = c;
		prev_in = in;
	}
	return true;
}

static void
swap64(int64_t *a, int64_t *b)
{
	int64_t		t = *a;

	*a = *b;
	*b = t;
}

static int64_t
median_of_three(int64_t a, int64_t b, int64_t c)
{
	if (a > b)
		swap64(&a, &b);
	if (b > c)
		swap64(&b, &c);
	return a > b ? a : b;
}

/*
 * Rearrange v so that v[k] is the k-th smallest, nothing after it smaller and nothing before
 * it larger (Hoare's FIND). The partition swaps elements equal to the pivot too, so a window
 * of identical days (zeros, a flat baseline) splits in halves instead of going quadratic.
 */
static void
select_kth(int64_t *v, int n, int k)
{
	int			lo = 0;
	int			hi = n - 1;

	while (lo < hi)
	{
		int64_t		pivot = median_of_three(v[lo], v[lo + (hi - lo) / 2], v[hi]);
		int			i = lo;
		int			j = hi;

		do
		{
			while (v[i] < pivot)
				i++;
			while (pivot < v[j])
				j--;
			if (i <= j)
			{
				swap64(&v[i], &v[j]);
				i++;
				j--;
			}
		} while (i <= j);
		/* now v[lo..j] <= pivot <= v[i..hi], and v[j+1..i-1] == pivot */
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return;
	}
}

int64_t
lm_median(int64_t *vals, int n)
{
	int			k;
	int64_t		upper;
	lm_int128	sum;
	int			i;

	if (n < 1)
		return 0;
	if (n % 2 == 1)
	{
		select_kth(vals, n, n / 2);
		return vals[n / 2];
	}
	/* Even: the lower middle by selection, the upper middle is the least of what follows. */
	k = n / 2 - 1;
	select_kth(vals, n, k);
	upper = vals[k + 1];
	for (i = k + 2; i < n; i++)
		if (vals[i] < upper)
			upper = vals[i];
	sum = (lm_int128) vals[k] + upper;
	/* The mean, half away from zero; it lies between the two, so it fits. */
	return (int64_t) (sum >= 0 ? (sum + 1) / 2 : -((-sum + 1) / 2));
}

/*
 * The median of the known use of days [d - bdays, d - 1] (from day 0 on) into *median, when
 * at least `need` of them are known; buf has room for bdays values.
 */
static bool
baseline_before(int d, int bdays, int need, const int64_t *use, const bool *known,
				int64_t *buf, int64_t *median)
{
	int			from = d - bdays < 0 ? 0 : d - bdays;
	int			m = 0;
	int			i;

	for (i = from; i < d; i++)
		if (known[i])
			buf[m++] = use[i];
	if (m < need)
		return false;
	*median = lm_median(buf, m);
	return true;
}

static void
emit(LmAnomalySink sink, void *arg, LmAnomalyKind kind, int64_t from_t, int64_t to_t,
	 int64_t observed, int64_t baseline)
{
	LmAnomaly	a;

	a.kind = kind;
	a.from_t = from_t;
	a.to_t = to_t;
	a.observed = observed;
	a.baseline = baseline;
	sink(arg, &a);
}

void
lm_detect_days(const LmDetectParams *p, const int64_t *bounds, int ndays, const int64_t *use,
			   const bool *known, const bool *occupied, LmAnomalySink sink, void *arg)
{
	int64_t		buf[LM_MAX_BASELINE_DAYS];	/* the median window, reused every day */
	int			bdays = p->baseline_days;
	int			need = p->min_baseline_days > 1 ? p->min_baseline_days : 1;
	bool		spikes = p->spike_num > 0 && p->spike_den > 0;
	int			run = -1;		/* first day of the current zero run, or -1 */
	int			d;

	if (bdays < 0)
		bdays = 0;
	if (bdays > LM_MAX_BASELINE_DAYS)
		bdays = LM_MAX_BASELINE_DAYS;

	/* d == ndays closes a run still going on the last day. */
	for (d = 0; d <= ndays; d++)
	{
		bool		zero = d < ndays && known[d] && use[d] == 0 &&
			(occupied == NULL || occupied[d]);
		int64_t		median;

		if (zero)
		{
			if (run < 0)
				run = d;
			continue;
		}
		if (run >= 0)
		{
			int			last = d - 1;

			/*
			 * The whole run is one anomaly, reported when it ends; the first day only
			 * limits which runs are new, not where a run starts.
			 */
			if (p->stuck_days >= 1 && last - run + 1 >= p->stuck_days && last >= p->first_day)
			{
				if (!baseline_before(run, bdays, need, use, known, buf, &median))
					median = 0;
				emit(sink, arg, LM_ANOM_STUCK, bounds[run], bounds[last + 1], 0, median);
			}
			run = -1;
		}
		if (d == ndays || d < p->first_day || !known[d])
			continue;

		/* Nothing at or below zero exceeds a positive baseline: skip the median then. */
		if (spikes && use[d] > 0 &&
			baseline_before(d, bdays, need, use, known, buf, &median) && median > 0 &&
			(lm_int128) use[d] * p->spike_den > (lm_int128) median * p->spike_num)
			emit(sink, arg, LM_ANOM_SPIKE, bounds[d], bounds[d + 1], use[d], median);
		if (p->max_daily > 0 && use[d] > p->max_daily)
			emit(sink, arg, LM_ANOM_BOUNDS, bounds[d], bounds[d + 1], use[d], p->max_daily);
	}
}

void
lm_detect_readings(const LmDetectParams *p, const LmReading *r, const uint8_t *kinds, int n,
				   int64_t window_from, int64_t window_to, LmAnomalySink sink, void *arg)
{
	bool		gaps = p->gap_us > 0;
	int			i;

	if (window_to <= window_from)
		return;
	for (i = 1; i < n; i++)
	{
		int64_t		t0 = r[i - 1].t;
		int64_t		t1 = r[i].t;

		if (kinds[i] == LM_STEP_NEGATIVE && t1 >= window_from && t1 < window_to)
			emit(sink, arg, LM_ANOM_NEGATIVE, t0, t1, r[i].v - r[i - 1].v, 0);
		/* A gap ending at window_from or starting at window_to belongs to a neighbour. */
		if (gaps && t0 < window_to && t1 > window_from && duration(t0, t1) >= p->gap_us)
			emit(sink, arg, LM_ANOM_GAP, t0, t1, duration(t0, t1), p->gap_us);
	}
	if (!gaps)
		return;
	if (n <= 0)
	{
		if (duration(window_from, window_to) >= p->gap_us)
			emit(sink, arg, LM_ANOM_GAP, window_from, window_to,
				 duration(window_from, window_to), p->gap_us);
	}
	else if (r[n - 1].t < window_to && duration(r[n - 1].t, window_to) >= p->gap_us)
		emit(sink, arg, LM_ANOM_GAP, r[n - 1].t, window_to,
			 duration(r[n - 1].t, window_to), p->gap_us);
}

/* How many weights leave a remainder of at least x: rem_i = |total| x w_i mod W. */
static int
count_rem_at_least(lm_int128 mag, const int64_t *weights, int n, lm_int128 sum_w, lm_int128 x)
{
	int			c = 0;
	int			i;

	for (i = 0; i < n; i++)
		if (mag * weights[i] % sum_w >= x)
			c++;
	return c;
}

bool
lm_largest_remainder(int64_t total_cents, const int64_t *weights, int n, int64_t *shares)
{
	lm_int128	mag = total_cents < 0 ? -(lm_int128) total_cents : (lm_int128) total_cents;
	lm_int128	sum_w = 0;
	lm_int128	given = 0;
	int			left;
	int			i;

	if (n < 1)
		return false;
	for (i = 0; i < n; i++)
	{
		if (weights[i] < 0)
			return false;
		sum_w += weights[i];	/* n x 2^63 < 2^94: no overflow */
	}
	if (sum_w == 0)
		return false;

	/* mag <= 2^63 and w < 2^63: the product is below 2^126; each floor is at most mag. */
	for (i = 0; i < n; i++)
	{
		lm_int128	s = mag * weights[i] / sum_w;

		shares[i] = (int64_t) s;	/* a share of INT64_MIN's magnitude fixed below */
		given += s;
	}
	left = (int) (mag - given); /* the remainders sum to left x W, each < W: left < n */

	/*
	 * Bisect for T (lo), the left-th largest remainder: the most x with at least `left`
	 * remainders >= x. Remainders above T each get a cent; the rest go to remainders equal
	 * to T, lowest index first. The remainders sum to left x W, so T >= 1 and a zero weight
	 * never gets a cent. No scratch array: each probe recomputes them.
	 */
	if (left > 0)
	{
		lm_int128	lo = 0;
		lm_int128	hi = sum_w - 1;

		while (lo < hi)
		{
			lm_int128	mid = lo + (hi - lo + 1) / 2;

			if (count_rem_at_least(mag, weights, n, sum_w, mid) >= left)
				lo = mid;
			else
				hi = mid - 1;
		}
		left -= count_rem_at_least(mag, weights, n, sum_w, lo + 1);
		for (i = 0; i < n; i++)
		{
			lm_int128	rem = mag * weights[i] % sum_w;

			if (rem > lo || (rem == lo && left > 0))
			{
				if (rem == lo)
					left--;
				shares[i] = (int64_t) ((uint64_t) shares[i] + 1);
			}
		}
	}
	if (total_cents < 0)
		for (i = 0; i < n; i++)
			shares[i] = (int64_t) (0 - (uint64_t) shares[i]);	/* 2^63 -> INT64_MIN */
	return true;
}

/* num / den for num >= 0, den > 0, rounded half away from zero; false beyond int64. */
static bool
div_half_away(lm_uint128 num, lm_uint128 den, int64_t *out)
{
	lm_uint128	q = num / den;

	if ((num % den) * 2 >= den)
		q++;
	if (q > (lm_uint128) INT64_MAX)
		return false;
	*out = (int64_t) q;
	return true;
}

/*
 * Bounds that keep the products below 2^128: a quantity below 2^52 thousandths (4.5 x 10^12
 * units), areas and ratios below 2^36 (6.9 x 10^8 m2, a ratio of 6.9 x 10^6). Real figures
 * stay far below; beyond them there is no estimate.
 */
#define LM_QTY_MAX ((int64_t) 1 << 52)
#define LM_FACTOR_MAX ((int64_t) 1 << 36)

bool
lm_fallback_estimate(int64_t floor_qty, int64_t floor_area, int64_t area, int64_t ratio, int64_t *est)
{
	/* floor_qty x area x ratio < 2^52 x 2^36 x 2^36 = 2^124 */
	if (floor_qty < 0 || floor_area <= 0 || area <= 0 || ratio < 0 ||
		floor_qty > LM_QTY_MAX || floor_area > LM_FACTOR_MAX || area > LM_FACTOR_MAX || ratio > LM_FACTOR_MAX)
		return false;
	return div_half_away((lm_uint128) floor_qty * (uint64_t) area * (uint64_t) ratio,
						 (lm_uint128) floor_area * 10000, est);
}

bool
lm_floor_ratio(int64_t real, int64_t floor_qty, int64_t floor_area, int64_t area, int64_t *ratio)
{
	/* real x floor_area x 10^4 < 2^52 x 2^36 x 2^14; floor_qty x area < 2^52 x 2^36 */
	if (real < 0 || floor_qty <= 0 || floor_area <= 0 || area <= 0 ||
		real > LM_QTY_MAX || floor_qty > LM_QTY_MAX || floor_area > LM_FACTOR_MAX || area > LM_FACTOR_MAX)
		return false;
	return div_half_away((lm_uint128) real * (uint64_t) floor_area * 10000,
						 (lm_uint128) floor_qty * (uint64_t) area, ratio);
}
