/*
 * test_meter.c: the meter arithmetic of src/core (unwrap, interpolation, periods, median,
 * day and reading anomalies, largest remainder), each case against numbers worked out by hand
 * in the comment beside it, and generated series checked against slow recounts: unwrapping
 * recovers the true consumption through random rollovers, periods add up to the span they
 * cover, medians agree with a sort, shares add up to the total within a cent of exact.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lm_meter.h"
#include "tap.h"

#define SEC_US INT64_C(1000000)
#define MIN_US (60 * SEC_US)
#define HOUR_US (60 * MIN_US)
#define DAY_US (24 * HOUR_US)

static uint32_t seed = 20270201u;

/* a small LCG, so every run generates the same cases */
static uint32_t
next_rand(void)
{
	seed = seed * 1103515245u + 12345u;
	return (seed >> 8) & 0xffffff;
}

/* ---------------------------------------------------------------- unwrap */

static void
unwrap_plain(void)
{
	/* 0.000 -> 1.500 -> 1.500 -> 4.250: steps 1.500, 0, 2.750 */
	LmReading	r[] = {{0, 0}, {HOUR_US, 1500}, {2 * HOUR_US, 1500}, {3 * HOUR_US, 4250}};
	int64_t		cum[4];
	uint8_t		kinds[4];

	ok(lm_meter_unwrap(r, 4, 5, cum, kinds), "plain readings unwrap");
	/* cum = 0, 0 + 1.500, 1.500 + 0, 1.500 + 2.750 = 4.250 */
	ok(cum[0] == 0 && cum[1] == 1500 && cum[2] == 1500 && cum[3] == 4250,
	   "plain steps: cumulative 0, 1.500, 1.500, 4.250");
	ok(kinds[0] == LM_STEP_NORMAL && kinds[1] == LM_STEP_NORMAL && kinds[2] == LM_STEP_NORMAL &&
	   kinds[3] == LM_STEP_NORMAL, "plain steps (and a zero step) are NORMAL");

	/* not starting at zero: 12,000.000 -> 12,450.500 is 450.500 */
	{
		LmReading	s[] = {{0, 12000000}, {DAY_US, 12450500}};

		ok(lm_meter_unwrap(s, 2, 5, cum, kinds) && cum[0] == 0 && cum[1] == 450500,
		   "12,000.000 -> 12,450.500: cum[0] = 0, cum[1] = 450.500");
	}
	ok(lm_meter_unwrap(r, 0, 5, cum, kinds), "an empty series unwraps (nothing to do)");
}

static void
unwrap_rollover(void)
{
	int64_t		cum[3];
	uint8_t		kinds[3];

	{
		/* 5 digits: range 100,000.000 = 100,000,000; F = 100,000,000 - 99,990,000 + 15,000 = 25,000 */
		LmReading	r[] = {{0, 99990000}, {DAY_US, 15000}};

		ok(lm_meter_unwrap(r, 2, 5, cum, kinds) && cum[1] == 25000 && kinds[1] == LM_STEP_ROLLOVER,
		   "5 digits: 99,990.000 -> 15.000 is a rollover of 25.000 forward");
	}
	{
		/* rollover then more: 99,990 -> 15 (+25.000) -> 40.000 (+25.000) = 50.000 */
		LmReading	r[] = {{0, 99990000}, {DAY_US, 15000}, {2 * DAY_US, 40000}};

		ok(lm_meter_unwrap(r, 3, 5, cum, kinds) && cum[2] == 50000 && kinds[2] == LM_STEP_NORMAL,
		   "after a rollover the count carries on: 25.000 + 25.000 = 50.000");
	}
	{
		/* F = 100,000,000 - 60,000,001 + 10,000,000 = 49,999,999; x 2 = 99,999,998 < range */
		LmReading	r[] = {{0, 60000001}, {DAY_US, 10000000}};

		ok(lm_meter_unwrap(r, 2, 5, cum, kinds) && kinds[1] == LM_STEP_ROLLOVER && cum[1] == 49999999,
		   "forward distance just under half the range (49,999.999 of 100,000): rollover");
	}
	{
		/* F = 100,000,000 - 60,000,000 + 10,000,000 = 50,000,000; x 2 = range, not less */
		LmReading	r[] = {{0, 60000000}, {DAY_US, 10000000}};

		ok(lm_meter_unwrap(r, 2, 5, cum, kinds) && kinds[1] == LM_STEP_NEGATIVE && cum[1] == -50000000,
		   "forward distance exactly half the range: negative step -50,000.000");
	}
	{
		/* 1 digit: range 10.000 = 10,000; 9.800 -> 0.300: F = 10,000 - 9,800 + 300 = 500 */
		LmReading	r[] = {{0, 9800}, {DAY_US, 300}};

		ok(lm_meter_unwrap(r, 2, 1, cum, kinds) && kinds[1] == LM_STEP_ROLLOVER && cum[1] == 500,
		   "1 digit: 9.800 -> 0.300 is 0.500 forward");
	}
	{
		/* 15 digits: range 10^18; (10^18 - 1,000) -> 2,000: F = 1,000 + 2,000 = 3,000 */
		LmReading	r[] = {{0, INT64_C(1000000000000000000) - 1000}, {DAY_US, 2000}};

		ok(lm_meter_unwrap(r, 2, 15, cum, kinds) && kinds[1] == LM_STEP_ROLLOVER && cum[1] == 3000,
		   "15 digits: 999,999,999,999,999.000 -> 2.000 is 3.000 forward");
	}
}

static void
unwrap_negative(void)
{
	int64_t		cum[3];
	uint8_t		kinds[3];

	{
		/* F = 100,000,000 - 50,000,000 + 10,000,000 = 60,000,000 > half: a decrease of 40,000.000 */
		LmReading	r[] = {{0, 50000000}, {DAY_US, 10000000}, {2 * DAY_US, 10001000}};

		ok(lm_meter_unwrap(r, 3, 5, cum, kinds) && kinds[1] == LM_STEP_NEGATIVE && cum[1] == -40000000,
		   "50,000.000 -> 10,000.000 on 5 digits is not a rollover: -40,000.000");
		/* -40,000,000 + 1,000 = -39,999,000 */
		ok(cum[2] == -39999000 && kinds[2] == LM_STEP_NORMAL,
		   "the negative step is counted as it is, and the next step adds to it");
	}
	{
		/* digits 0: 99,990.000 -> 15.000 = 15,000 - 99,990,000 = -99,975,000 */
		LmReading	r[] = {{0, 99990000}, {DAY_US, 15000}};

		ok(lm_meter_unwrap(r, 2, 0, cum, kinds) && kinds[1] == LM_STEP_NEGATIVE && cum[1] == -99975000,
		   "digits 0 never rolls over: 99,990.000 -> 15.000 is -99,975.000");
	}
	{
		/* a small dip on a 5-digit register: 500.000 -> 499.000: F = 99,999.000, far above half */
		LmReading	r[] = {{0, 500000}, {DAY_US, 499000}};

		ok(lm_meter_unwrap(r, 2, 5, cum, kinds) && kinds[1] == LM_STEP_NEGATIVE && cum[1] == -1000,
		   "a small decrease (500.000 -> 499.000) is negative -1.000, not a near-full rollover");
	}
	{
		/* 3 digits (range 1,000.000) but a value beyond it: 5,000.000 -> 100.000 drops more than the range */
		LmReading	r[] = {{0, 5000000}, {DAY_US, 100000}};

		ok(lm_meter_unwrap(r, 2, 3, cum, kinds) && kinds[1] == LM_STEP_NEGATIVE && cum[1] == -4900000,
		   "a drop larger than the whole range is never a rollover: -4,900.000");
	}
}

static void
unwrap_refused(void)
{
	int64_t		cum[3];
	uint8_t		kinds[3];
	LmReading	same_t[] = {{0, 0}, {HOUR_US, 10}, {HOUR_US, 20}};
	LmReading	back_t[] = {{HOUR_US, 0}, {0, 10}};
	LmReading	neg_v[] = {{0, 0}, {HOUR_US, -1}};
	LmReading	neg_first[] = {{0, -5}, {HOUR_US, 10}};
	LmReading	fine[] = {{0, 0}, {HOUR_US, 10}};

	/* 15 digits: 0 -> 9e18 (+9e18), then 9e18 -> 8.4e18: drop 6e17, F = 1e18 - 6e17 = 4e17 < 5e17:
	 * a rollover, cum 9e18 + 4e17 = 9.4e18 > INT64_MAX (9.22e18) */
	LmReading	big[] = {{0, 0}, {HOUR_US, INT64_C(9000000000000000000)},
	{2 * HOUR_US, INT64_C(8400000000000000000)}};

	ok(!lm_meter_unwrap(same_t, 3, 5, cum, kinds), "two readings at one moment are refused");
	ok(!lm_meter_unwrap(back_t, 2, 5, cum, kinds), "readings out of time order are refused");
	ok(!lm_meter_unwrap(neg_v, 2, 5, cum, kinds), "a negative value is refused");
	ok(!lm_meter_unwrap(neg_first, 2, 5, cum, kinds), "a negative first value is refused");
	ok(!lm_meter_unwrap(fine, 2, 16, cum, kinds) && !lm_meter_unwrap(fine, 2, -1, cum, kinds),
	   "digits outside 0..15 are refused");
	ok(lm_meter_unwrap(fine, 2, 15, cum, kinds) && cum[1] == 10, "digits 15 is accepted");
	ok(!lm_meter_unwrap(big, 3, 15, cum, kinds), "a cumulative beyond int64 is refused");
}

/* -------------------------------------------------------------------- at */

static void
at_interpolation(void)
{
	/* midnight of some 1 February, 23:50 the evening before and 00:05 after */
	int64_t		midnight = 400 * DAY_US;
	LmReading	r[] = {{midnight - 10 * MIN_US, 100000}, {midnight + 5 * MIN_US, 103000}};
	int64_t		cum[2];
	uint8_t		kinds[2];
	int64_t		out = -1;
	int			lo = -2;

	lm_meter_unwrap(r, 2, 5, cum, kinds);
	/* 3.000 over 15 minutes, 10 of them before midnight: 3.000 x 10 / 15 = 2.000 */
	ok(lm_meter_at(r, cum, 2, midnight, &out, &lo) == LM_AT_INTERPOLATED && lo == 0,
	   "00:00 between 23:50 and 00:05 is interpolated from reading 0");
	/* register: 100.000 + 2.000 = 102.000 */
	ok(out == 2000 && r[0].v + out == 102000,
	   "at midnight 100.000 + 3.000 x 10/15 = 102.000 on the register");
	/* 23:55: 3.000 x 5/15 = 1.000 */
	ok(lm_meter_at(r, cum, 2, midnight - 5 * MIN_US, &out, &lo) == LM_AT_INTERPOLATED && out == 1000,
	   "at 23:55 3.000 x 5/15 = 1.000");
}

static void
at_rounding(void)
{
	int64_t		out;
	int			lo;

	{
		/* 0.001 over 2 us: at 1 us 0.0005 -> half away from zero = 0.001 */
		LmReading	r[] = {{0, 0}, {2, 1}};
		int64_t		cum[] = {0, 1};

		ok(lm_meter_at(r, cum, 2, 1, &out, &lo) == LM_AT_INTERPOLATED && out == 1,
		   "0.001 x 1/2 = 0.0005 rounds up to 0.001 (half away from zero)");
	}
	{
		/* 0.001 over 3 us: 1/3 = 0.00033 -> 0; 2/3 = 0.00067 -> 0.001 */
		LmReading	r[] = {{0, 0}, {3, 1}};
		int64_t		cum[] = {0, 1};

		ok(lm_meter_at(r, cum, 2, 1, &out, &lo) == LM_AT_INTERPOLATED && out == 0,
		   "0.001 x 1/3 rounds down to 0.000");
		ok(lm_meter_at(r, cum, 2, 2, &out, &lo) == LM_AT_INTERPOLATED && out == 1,
		   "0.001 x 2/3 rounds up to 0.001");
	}
	{
		/* a negative step -0.001 over 2 us: at 1 us -0.0005 -> -0.001 (away from zero, not half-up's 0) */
		LmReading	r[] = {{0, 1}, {2, 0}};
		int64_t		cum[2];
		uint8_t		kinds[2];

		lm_meter_unwrap(r, 2, 0, cum, kinds);
		ok(cum[1] == -1 && lm_meter_at(r, cum, 2, 1, &out, &lo) == LM_AT_INTERPOLATED && out == -1,
		   "-0.001 x 1/2 = -0.0005 rounds away from zero to -0.001");
	}
	{
		/*
		 * 800,000,000,000.000 (8e17 thousandths) over 4e13 us, at 1e13 us: 8e17 x 1e13 = 8e30
		 * (past 64 bits) / 4e13 = 2e17 exactly
		 */
		LmReading	r[] = {{0, 0}, {INT64_C(40000000000000), INT64_C(800000000000000000)}};
		int64_t		cum[] = {0, INT64_C(800000000000000000)};

		ok(lm_meter_at(r, cum, 2, INT64_C(10000000000000), &out, &lo) == LM_AT_INTERPOLATED &&
		   out == INT64_C(200000000000000000),
		   "a product past 64 bits: 8e17 x 1e13 / 4e13 = 2e17");
	}
	{
		/*
		 * extreme moments: the whole int64 time axis (2^64 - 1 us), cum 0 -> 2^63 - 1; at -1 us,
		 * 2^63 - 1 us in: (2^63 - 1)^2 / (2^64 - 1) = 4,611,686,018,427,387,903.25 -> ...903
		 */
		LmReading	r[] = {{INT64_MIN, 0}, {INT64_MAX, 1}};
		int64_t		cum[] = {0, INT64_MAX};

		ok(lm_meter_at(r, cum, 2, -1, &out, &lo) == LM_AT_INTERPOLATED &&
		   out == INT64_C(4611686018427387903),
		   "the whole time axis and the whole cumulative range neither overflow nor lose the rounding");
	}
}

static void
at_exact_and_outside(void)
{
	LmReading	r[] = {{1000, 0}, {2000, 5000}, {4000, 9000}};
	int64_t		cum[] = {0, 5000, 9000};
	int64_t		out = -1;
	int			lo = -2;

	ok(lm_meter_at(r, cum, 3, 2000, &out, &lo) == LM_AT_EXACT && lo == 1 && out == 5000,
	   "a reading at t: EXACT, its index and its cumulative");
	ok(lm_meter_at(r, cum, 3, 1000, &out, &lo) == LM_AT_EXACT && lo == 0 && out == 0,
	   "the first reading is EXACT (index 0)");
	ok(lm_meter_at(r, cum, 3, 4000, &out, &lo) == LM_AT_EXACT && lo == 2 && out == 9000,
	   "the last reading is EXACT (index 2)");
	/* 3000 is halfway between 2000 and 4000: 5,000 + 4,000 / 2 = 7,000 */
	ok(lm_meter_at(r, cum, 3, 3000, &out, &lo) == LM_AT_INTERPOLATED && lo == 1 && out == 7000,
	   "between readings 1 and 2: lo = 1, 5.000 + 4.000 x 1/2 = 7.000");
	ok(lm_meter_at(r, cum, 3, 999, &out, &lo) == LM_AT_OUTSIDE && lo == -1,
	   "before the first reading: OUTSIDE");
	ok(lm_meter_at(r, cum, 3, 4001, &out, &lo) == LM_AT_OUTSIDE && lo == -1,
	   "after the last reading: OUTSIDE");
	ok(lm_meter_at(r, cum, 0, 2000, &out, &lo) == LM_AT_OUTSIDE, "no readings: OUTSIDE");
	ok(lm_meter_at(r, cum, 1, 1000, &out, NULL) == LM_AT_EXACT && out == 0,
	   "a single reading is EXACT at its moment (lo may be NULL)");
}

#define NLONG 10001

static void
at_long_series(void)
{
	static LmReading r[NLONG];
	static int64_t cum[NLONG];
	int			bad = 0;
	int			i;

	/* reading i at i x 1000 us with cumulative i x 7 */
	for (i = 0; i < NLONG; i++)
	{
		r[i].t = (int64_t) i * 1000;
		r[i].v = (int64_t) i * 7;
		cum[i] = (int64_t) i * 7;
	}
	for (i = 0; i < NLONG; i++)
	{
		int64_t		out;
		int			lo;

		if (lm_meter_at(r, cum, NLONG, r[i].t, &out, &lo) != LM_AT_EXACT || lo != i || out != cum[i])
			bad++;
		/* halfway to the next: i x 7 + 3.5 -> i x 7 + 4 */
		if (i + 1 < NLONG &&
			(lm_meter_at(r, cum, NLONG, r[i].t + 500, &out, &lo) != LM_AT_INTERPOLATED ||
			 lo != i || out != cum[i] + 4))
			bad++;
	}
	ok(bad == 0, "10,001 readings: every exact hit and every midpoint found (%d wrong)", bad);
}

/* --------------------------------------------------------------- periods */

static void
periods_hand(void)
{
	/* readings at noon of days 0..3: 0.000, 10.000, 30.000, 31.000; bounds at midnights 0..4 */
	LmReading	r[] = {{12 * HOUR_US, 0}, {36 * HOUR_US, 10000}, {60 * HOUR_US, 30000},
	{84 * HOUR_US, 31000}};
	int64_t		bounds[] = {0, DAY_US, 2 * DAY_US, 3 * DAY_US, 4 * DAY_US};
	int64_t		cum[4];
	uint8_t		kinds[4];
	int64_t		use[4];
	bool		known[4];

	lm_meter_unwrap(r, 4, 5, cum, kinds);
	ok(lm_meter_periods(r, cum, 4, bounds, 4, 1, use, known), "periods over four readings");
	/* day 0 starts at 00:00, before the first reading (12:00): unknown */
	ok(!known[0] && use[0] == 0, "day 0 starts before the first reading: unknown, 0");
	/* at 24h: 0 + 10.000 x 12/24 = 5.000; at 48h: 10.000 + 20.000 x 12/24 = 20.000 -> 15.000 */
	ok(known[1] && use[1] == 15000, "day 1: 20.000 - 5.000 = 15.000");
	/* at 72h: 30.000 + 1.000 x 12/24 = 30.500 -> 30.500 - 20.000 = 10.500 */
	ok(known[2] && use[2] == 10500, "day 2: 30.500 - 20.000 = 10.500");
	ok(!known[3] && use[3] == 0, "day 3 ends after the last reading: unknown, 0");
	/* 15.000 + 10.500 = 25.500 = 30.500 - 5.000 */
	ok(use[1] + use[2] == 25500, "the known days add up to the cumulative across them: 25.500");

	/* CT 40: 15.000 x 40 = 600.000; 10.500 x 40 = 420.000 */
	ok(lm_meter_periods(r, cum, 4, bounds, 4, 40, use, known) && use[1] == 600000 && use[2] == 420000,
	   "multiplier 40: 600.000 and 420.000");
	ok(!lm_meter_periods(r, cum, 4, bounds, 4, 0, use, known), "multiplier 0 is refused");

	{
		/* a month boundary between 23:50 (100.000) and 00:05 (103.000): 102.000 at 00:00 */
		int64_t		m = 31 * DAY_US;
		LmReading	s[] = {{0, 40000}, {m - 10 * MIN_US, 100000}, {m + 5 * MIN_US, 103000},
		{59 * DAY_US, 130000}};
		int64_t		b[] = {0, m, 59 * DAY_US};
		int64_t		c[4];

		lm_meter_unwrap(s, 4, 5, c, kinds);
		/* January: 102.000 - 40.000 = 62.000; February: 130.000 - 102.000 = 28.000 */
		ok(lm_meter_periods(s, c, 4, b, 2, 1, use, known) && known[0] && known[1] &&
		   use[0] == 62000 && use[1] == 28000,
		   "two months split at the interpolated midnight: 62.000 + 28.000 = 90.000");
	}
	{
		int64_t		eq[] = {DAY_US, DAY_US, 2 * DAY_US};

		/* [24h, 24h) is empty: 0, known; [24h, 48h) is 15.000 as above */
		ok(lm_meter_periods(r, cum, 4, eq, 2, 1, use, known) && known[0] && use[0] == 0 &&
		   known[1] && use[1] == 15000, "an empty period (equal bounds) is known and 0");
	}
	{
		int64_t		down[] = {2 * DAY_US, DAY_US};

		ok(!lm_meter_periods(r, cum, 4, down, 1, 1, use, known), "decreasing bounds are refused");
	}
	{
		/* no readings: every period unknown */
		ok(lm_meter_periods(r, cum, 0, bounds, 4, 1, use, known) && !known[0] && !known[1] &&
		   !known[2] && !known[3] && use[1] == 0, "no readings: every period unknown");
	}
	{
		/* 1e17 thousandths x 1,000 = 1e20 > INT64_MAX */
		LmReading	s[] = {{0, 0}, {DAY_US, INT64_C(100000000000000000)}};
		int64_t		c[2];
		int64_t		b[] = {0, DAY_US};

		lm_meter_unwrap(s, 2, 0, c, kinds);
		ok(!lm_meter_periods(s, c, 2, b, 1, 1000, use, known), "a use beyond int64 is refused");
		ok(lm_meter_periods(s, c, 2, b, 1, 1, use, known) && use[0] == INT64_C(100000000000000000),
		   "the same use with multiplier 1 fits");
	}
}

#define GEN_N 300
#define GEN_P 200

/*
 * Generated registers with random digits, true consumption that sometimes wraps the dial, a
 * few negative glitches when digits is 0, and random bounds (some before and after the
 * readings): unwrap recovers the true cumulative, each period equals lm_meter_at at its
 * bounds, and the known periods add up to the cumulative across them.
 */
static void
periods_generated(void)
{
	int			bad_unwrap = 0;
	int			bad_sum = 0;
	int			bad_each = 0;
	int			bad_round = 0;
	int			rollovers = 0;
	int			negatives = 0;
	int			unknown = 0;
	int			k;

	for (k = 0; k < 400; k++)
	{
		LmReading	r[GEN_N];
		int64_t		truth[GEN_N];
		int64_t		cum[GEN_N];
		uint8_t		kinds[GEN_N];
		int64_t		bounds[GEN_P + 1];
		int64_t		use[GEN_P];
		bool		known[GEN_P];
		int			digits = (int) (next_rand() % 7);	/* 0 (no rollover) .. 6 */
		int64_t		range = 1000;
		int64_t		mult = 1 + (int64_t) (next_rand() % 80);
		int64_t		unit = k % 2 ? MIN_US : 1;	/* odd: minutes apart; even: microseconds */
		int			n = 1 + (int) (next_rand() % GEN_N);
		int			np = 1 + (int) (next_rand() % GEN_P);
		int64_t		sum = 0;
		int64_t		first_c = 0;
		int64_t		last_c = 0;
		bool		any = false;
		int			i;

		for (i = 0; i < digits; i++)
			range *= 10;
		r[0].t = (int64_t) (next_rand() % 1000) * MIN_US;
		r[0].v = digits > 0 ? (int64_t) next_rand() % range : (int64_t) next_rand();
		truth[0] = 0;
		for (i = 1; i < n; i++)
		{
			/* a step below half the dial (when there is one), so a wrap is a rollover */
			int64_t		maxstep = digits > 0 && (range - 1) / 2 < 16000000 ? (range - 1) / 2 : 16000000;
			int64_t		step = digits > 0 ? (int64_t) next_rand() % maxstep : (int64_t) (next_rand() % 50000);

			r[i].t = r[i - 1].t + 1 + (int64_t) (next_rand() % 600) * unit + (int64_t) (next_rand() % 1000);
			if (digits == 0 && next_rand() % 20 == 0 && r[i - 1].v >= 500)
				step = -(int64_t) (next_rand() % 500);	/* a glitch: a decrease */
			truth[i] = truth[i - 1] + step;
			r[i].v = digits > 0 ? (r[i - 1].v + step) % range : r[i - 1].v + step;
		}
		if (!lm_meter_unwrap(r, n, digits, cum, kinds))
		{
			bad_unwrap++;
			continue;
		}
		for (i = 0; i < n; i++)
			if (cum[i] != truth[i])
			{
				bad_unwrap++;
				break;
			}
		for (i = 1; i < n; i++)
		{
			rollovers += kinds[i] == LM_STEP_ROLLOVER;
			negatives += kinds[i] == LM_STEP_NEGATIVE;
		}

		/* bounds from up to 60 units before the first reading to about as far past the last */
		bounds[0] = r[0].t - 60 * unit + (int64_t) (next_rand() % 120) * unit;
		for (i = 1; i <= np; i++)
			bounds[i] = bounds[i - 1] + (int64_t) (next_rand() % 3) *
				((r[n - 1].t - r[0].t + 120 * unit) / np + 1) + (int64_t) (next_rand() % 3);
		if (!lm_meter_periods(r, cum, n, bounds, np, mult, use, known))
		{
			bad_sum++;
			continue;
		}
		for (i = 0; i <= np; i++)
		{
			int64_t		c;

			if (lm_meter_at(r, cum, n, bounds[i], &c, NULL) == LM_AT_OUTSIDE)
				continue;
			if (!any)
				first_c = c;
			last_c = c;
			any = true;
		}
		for (i = 0; i < np; i++)
		{
			int64_t		c0;
			int64_t		c1;
			bool		in = lm_meter_at(r, cum, n, bounds[i], &c0, NULL) != LM_AT_OUTSIDE &&
				lm_meter_at(r, cum, n, bounds[i + 1], &c1, NULL) != LM_AT_OUTSIDE;

			if (known[i] != in || (in && use[i] != (c1 - c0) * mult) || (!in && use[i] != 0))
				bad_each++;
			if (known[i])
				sum += use[i];
			else
				unknown++;
		}
		if (sum != (last_c - first_c) * mult)
			bad_sum++;

		/* each interpolated value within half a thousandth of the exact line */
		for (i = 0; i + 1 < n; i++)
		{
			int64_t		t = r[i].t + (r[i + 1].t - r[i].t) / 3;
			int64_t		c;
			double		exact;

			if (t == r[i].t)
				continue;
			lm_meter_at(r, cum, n, t, &c, NULL);
			exact = (double) cum[i] + (double) (cum[i + 1] - cum[i]) * (double) (t - r[i].t) /
				(double) (r[i + 1].t - r[i].t);
			if ((double) c - exact > 0.5 + 1e-6 || exact - (double) c > 0.5 + 1e-6)
				bad_round++;
		}
	}
	ok(bad_unwrap == 0, "400 generated registers with rollovers: unwrap recovers the true consumption (%d wrong)",
	   bad_unwrap);
	ok(bad_each == 0, "each generated period is the difference of lm_meter_at at its bounds x multiplier (%d wrong)",
	   bad_each);
	ok(bad_sum == 0, "the known periods add up to (cum at the last bound - cum at the first) x multiplier (%d wrong)",
	   bad_sum);
	ok(bad_round == 0, "interpolated values are within 0.0005 of the exact line (%d wrong)", bad_round);
	ok(rollovers > 100 && negatives > 100 && unknown > 100,
	   "the generated registers do roll over (%d), step back (%d) and have periods outside (%d)",
	   rollovers, negatives, unknown);
}

/* ---------------------------------------------------------------- median */

static int
cmp64(const void *a, const void *b)
{
	int64_t		x = *(const int64_t *) a;
	int64_t		y = *(const int64_t *) b;

	return (x > y) - (x < y);
}

static void
median_hand(void)
{
	int64_t		odd[] = {5, 1, 3};
	int64_t		even[] = {4, 1, 3, 2};
	int64_t		neg_even[] = {-4, -1, -3, -2};
	int64_t		same[] = {7, 7, 7, 7, 7};
	int64_t		zeros[] = {0, 5, 0, 0};
	int64_t		dups[] = {9, 2, 3, 2, 1, 2};
	int64_t		one[] = {42};
	int64_t		two[] = {10, 13};
	int64_t		top[] = {INT64_MAX, INT64_MAX - 1};
	int64_t		bottom[] = {INT64_MIN + 1, INT64_MIN};

	ok(lm_median(odd, 3) == 3, "median of 5, 1, 3 is 3");
	/* 1 2 3 4: (2 + 3) / 2 = 2.5 -> 3 */
	ok(lm_median(even, 4) == 3, "median of 4, 1, 3, 2 is (2 + 3) / 2 = 2.5 -> 3");
	/* -4 -3 -2 -1: (-3 + -2) / 2 = -2.5 -> -3 (away from zero) */
	ok(lm_median(neg_even, 4) == -3, "median of -4, -1, -3, -2 is -2.5 -> -3");
	ok(lm_median(same, 5) == 7, "median of five 7s is 7");
	/* 0 0 0 5: (0 + 0) / 2 = 0 */
	ok(lm_median(zeros, 4) == 0, "median of 0, 5, 0, 0 is 0");
	/* 1 2 2 2 3 9: (2 + 2) / 2 = 2 */
	ok(lm_median(dups, 6) == 2, "median of 9, 2, 3, 2, 1, 2 is 2");
	ok(lm_median(one, 1) == 42, "median of one value is that value");
	ok(lm_median(one, 0) == 0, "median of no values is 0 (documented), without reading vals");
	/* (10 + 13) / 2 = 11.5 -> 12 */
	ok(lm_median(two, 2) == 12, "median of 10 and 13 is 11.5 -> 12");
	/* (2^63 - 1 + 2^63 - 2) / 2 = 2^63 - 1.5 -> 2^63 - 1: the sum would overflow 64 bits */
	ok(lm_median(top, 2) == INT64_MAX, "median of the two largest int64 values does not overflow");
	ok(lm_median(bottom, 2) == INT64_MIN, "median of the two smallest int64 values does not overflow");
}

static void
median_generated(void)
{
	int			bad = 0;
	int			k;

	for (k = 0; k < 20000; k++)
	{
		int64_t		v[120];
		int64_t		sorted[120];
		int64_t		want;
		int64_t		got;
		int			shape = (int) (next_rand() % 5);
		int			n = 1 + (int) (next_rand() % (shape == 0 ? 12 : 120));
		uint32_t	spread = shape == 0 ? 5 : shape == 1 ? 3 : 100000;
		int			i;

		/* 0: short with duplicates, 1: long with duplicates, 2: wide, 3: sorted, 4: reversed */
		for (i = 0; i < n; i++)
		{
			v[i] = (int64_t) (next_rand() % spread) - (int64_t) (spread / 2);
			if (shape == 3)
				v[i] = i;
			if (shape == 4)
				v[i] = n - i;
		}
		memcpy(sorted, v, sizeof(int64_t) * (size_t) n);
		qsort(sorted, (size_t) n, sizeof(int64_t), cmp64);
		if (n % 2 == 1)
			want = sorted[n / 2];
		else
		{
			int64_t		s = sorted[n / 2 - 1] + sorted[n / 2];

			want = s >= 0 ? (s + 1) / 2 : -((-s + 1) / 2);
		}
		got = lm_median(v, n);
		qsort(v, (size_t) n, sizeof(int64_t), cmp64);
		if (got != want || memcmp(v, sorted, sizeof(int64_t) * (size_t) n) != 0)
			bad++;
	}
	ok(bad == 0, "20,000 generated arrays (duplicates, sorted, reversed): median agrees with a sort and "
	   "only rearranges (%d wrong)", bad);
}

/* ------------------------------------------------------------- anomalies */

#define MAXANOM 64
#define MAXDAYS 900

typedef struct Found
{
	int			n;
	LmAnomaly	a[MAXANOM];
} Found;

static void
collect(void *arg, const LmAnomaly *a)
{
	Found	   *f = (Found *) arg;

	if (f->n < MAXANOM)
		f->a[f->n] = *a;
	f->n++;
}

static LmDetectParams
defaults(void)
{
	LmDetectParams p;

	p.spike_num = 3;
	p.spike_den = 1;
	p.baseline_days = 28;
	p.min_baseline_days = 7;
	p.stuck_days = 7;
	p.gap_us = 3 * DAY_US;
	p.max_daily = 0;
	p.first_day = 0;
	return p;
}

static int64_t day_bounds[MAXDAYS + 1];
static int64_t day_use[MAXDAYS];
static bool day_known[MAXDAYS];
static bool day_occupied[MAXDAYS];

/* days 0..ndays-1 all known and occupied, each with use v */
static void
fill_days(int ndays, int64_t v)
{
	int			d;

	for (d = 0; d <= ndays; d++)
		day_bounds[d] = (int64_t) d * DAY_US;
	for (d = 0; d < ndays; d++)
	{
		day_use[d] = v;
		day_known[d] = true;
		day_occupied[d] = true;
	}
}

static Found
detect_days(const LmDetectParams *p, int ndays, bool with_occupied)
{
	Found		f;

	f.n = 0;
	lm_detect_days(p, day_bounds, ndays, day_use, day_known, with_occupied ? day_occupied : NULL,
				   collect, &f);
	return f;
}

static void
spikes(void)
{
	LmDetectParams p = defaults();
	Found		f;

	/* 28 days of 10.000, then day 28 with 31.000: 31,000 x 1 > 10,000 x 3 = 30,000 */
	fill_days(29, 10000);
	day_use[28] = 31000;
	p.first_day = 28;
	f = detect_days(&p, 29, true);
	ok(f.n == 1 && f.a[0].kind == LM_ANOM_SPIKE && f.a[0].observed == 31000 && f.a[0].baseline == 10000 &&
	   f.a[0].from_t == 28 * DAY_US && f.a[0].to_t == 29 * DAY_US,
	   "31.000 over a baseline of 10.000 at 3/1: a spike on day 28, [day 28, day 29)");

	/* 30,000 x 1 > 30,000 is false: strictly above */
	day_use[28] = 30000;
	f = detect_days(&p, 29, true);
	ok(f.n == 0, "exactly 3 x the baseline (30.000) is not a spike");

	/* 25/10: 25,001 x 10 = 250,010 > 10,000 x 25 = 250,000; 25,000 x 10 = 250,000 is not */
	p.spike_num = 25;
	p.spike_den = 10;
	day_use[28] = 25001;
	f = detect_days(&p, 29, true);
	ok(f.n == 1 && f.a[0].kind == LM_ANOM_SPIKE, "25.001 over 10.000 at 25/10: a spike");
	day_use[28] = 25000;
	f = detect_days(&p, 29, true);
	ok(f.n == 0, "25.000 over 10.000 at 25/10: not a spike");

	/* a spike before first_day is history: day 20 with 50.000, first_day 28, nothing reported */
	p = defaults();
	fill_days(29, 10000);
	day_use[20] = 50000;
	p.first_day = 28;
	f = detect_days(&p, 29, true);
	ok(f.n == 0, "a spike before first_day is not reported");
	p.first_day = 0;
	f = detect_days(&p, 29, true);
	/* day 20: window days 0..19, 20 known, median 10,000; 50,000 > 30,000 */
	ok(f.n == 1 && f.a[0].from_t == 20 * DAY_US, "the same spike with first_day 0 is reported (day 20)");

	/* the window is clipped at day 0: day 10 has days 0..9 (10 known >= 7) */
	fill_days(11, 10000);
	day_use[10] = 40000;
	f = detect_days(&p, 11, true);
	ok(f.n == 1 && f.a[0].kind == LM_ANOM_SPIKE && f.a[0].from_t == 10 * DAY_US && f.a[0].baseline == 10000,
	   "day 10 with days 0..9 as its baseline (window clipped at 0): a spike");
}

static void
spike_not_masked(void)
{
	LmDetectParams p = defaults();
	Found		f;

	/*
	 * Days 0..27 10.000, day 28 200.000 (spike), days 29..34 10.000, day 35 35.000.
	 * Day 35's window is days 7..34: 27 x 10.000 and one 200.000, median 10.000, and
	 * 35,000 > 30,000: a second spike. (A mean would be (27 x 10,000 + 200,000) / 28 =
	 * 16,785.7, x 3 = 50,357 > 35,000: masked.)
	 */
	fill_days(36, 10000);
	day_use[28] = 200000;
	day_use[35] = 35000;
	p.first_day = 28;
	f = detect_days(&p, 36, true);
	ok(f.n == 2 && f.a[0].kind == LM_ANOM_SPIKE && f.a[0].from_t == 28 * DAY_US &&
	   f.a[1].kind == LM_ANOM_SPIKE && f.a[1].from_t == 35 * DAY_US && f.a[1].observed == 35000 &&
	   f.a[1].baseline == 10000,
	   "an earlier spike (200.000) stays in the window and does not mask a second one (35.000)");
}

static void
min_baseline(void)
{
	LmDetectParams p = defaults();
	Found		f;
	int			d;

	/* days 0..27 of 10.000 but only 6 known, day 28 100.000: 6 < 7, no baseline, no spike */
	fill_days(29, 10000);
	for (d = 0; d < 28; d++)
		day_known[d] = d < 6;
	day_use[28] = 100000;
	p.first_day = 28;
	f = detect_days(&p, 29, false);
	ok(f.n == 0, "6 known baseline days of the 7 needed: no spike");
	day_known[6] = true;
	f = detect_days(&p, 29, false);
	ok(f.n == 1 && f.a[0].kind == LM_ANOM_SPIKE && f.a[0].baseline == 10000, "7 known baseline days: a spike");

	/* the unknown days' use does not count: unknown days hold 999.000, known 10.000 */
	for (d = 7; d < 28; d++)
		day_use[d] = 999000;
	f = detect_days(&p, 29, false);
	ok(f.n == 1 && f.a[0].baseline == 10000, "unknown days stay out of the baseline");

	/* an unknown day is never a spike itself */
	day_known[28] = false;
	f = detect_days(&p, 29, false);
	ok(f.n == 0, "an unknown day is not a spike");

	/* min_baseline_days 0 still needs one known day: day 0 has none, day 1 has day 0 (10.000) */
	fill_days(2, 40000);
	day_use[0] = 10000;
	p.min_baseline_days = 0;
	p.first_day = 0;
	f = detect_days(&p, 2, true);
	ok(f.n == 1 && f.a[0].kind == LM_ANOM_SPIKE && f.a[0].from_t == DAY_US && f.a[0].baseline == 10000,
	   "min_baseline_days 0: no baseline without a known day, a spike over a single day");
	p = defaults();
	p.first_day = 28;

	/* a baseline of 0 (28 days of zero, unoccupied so not stuck): no spike for 5.000 */
	fill_days(29, 0);
	for (d = 0; d < 29; d++)
		day_occupied[d] = false;
	day_use[28] = 5000;
	f = detect_days(&p, 29, true);
	ok(f.n == 0, "a median of zero is no baseline: no spike");
}

static void
bounds_check(void)
{
	LmDetectParams p = defaults();
	Found		f;

	/* max_daily 50.000: day 30 with 60.000 is above it; it is also > 3 x 10.000 */
	fill_days(31, 10000);
	p.max_daily = 50000;
	p.first_day = 28;
	day_use[29] = 50000;		/* exactly the bound: not above it, but a spike (> 30.000) */
	day_use[30] = 60000;
	f = detect_days(&p, 31, true);
	ok(f.n == 3 && f.a[0].kind == LM_ANOM_SPIKE && f.a[0].from_t == 29 * DAY_US &&
	   f.a[1].kind == LM_ANOM_SPIKE && f.a[1].from_t == 30 * DAY_US &&
	   f.a[2].kind == LM_ANOM_BOUNDS && f.a[2].from_t == 30 * DAY_US,
	   "day 29 at the bound: spike only; day 30 above it: spike then bounds");
	ok(f.n == 3 && f.a[2].observed == 60000 && f.a[2].baseline == 50000 && f.a[2].to_t == 31 * DAY_US,
	   "bounds: observed 60.000, baseline the bound 50.000");

	/* no history at all (first days), so no spike, but the bound still holds */
	fill_days(3, 10000);
	day_use[1] = 70000;
	p.first_day = 0;
	f = detect_days(&p, 3, true);
	ok(f.n == 1 && f.a[0].kind == LM_ANOM_BOUNDS && f.a[0].from_t == DAY_US,
	   "bounds needs no baseline: 70.000 > 50.000 on day 1");
	p.max_daily = 0;
	f = detect_days(&p, 3, true);
	ok(f.n == 0, "max_daily 0: no bound");
}

static void
stuck(void)
{
	LmDetectParams p = defaults();
	Found		f;
	int			d;

	/* days 0..19 10.000, days 20..26 zero (exactly 7), days 27..29 10.000 */
	fill_days(30, 10000);
	for (d = 20; d < 27; d++)
		day_use[d] = 0;
	f = detect_days(&p, 30, true);
	/* baseline: days 0..19 (window 20 - 28 clipped at 0), all 10.000: median 10.000 */
	ok(f.n == 1 && f.a[0].kind == LM_ANOM_STUCK && f.a[0].from_t == 20 * DAY_US &&
	   f.a[0].to_t == 27 * DAY_US && f.a[0].observed == 0 && f.a[0].baseline == 10000,
	   "7 zero days (exactly stuck_days): one stuck anomaly over [day 20, day 27), baseline 10.000");

	day_use[26] = 10000;		/* now 6 zero days */
	f = detect_days(&p, 30, true);
	ok(f.n == 0, "6 zero days: not stuck");

	/* 10 zero days 20..29, day 25 unoccupied: runs of 5 and 4, nothing */
	for (d = 20; d < 30; d++)
		day_use[d] = 0;
	day_occupied[25] = false;
	f = detect_days(&p, 30, true);
	ok(f.n == 0, "a run broken by an unoccupied day: two short runs, not stuck");
	/* the same without occupancy (NULL: every day occupied): one run of 10 to the end */
	f = detect_days(&p, 30, false);
	ok(f.n == 1 && f.a[0].from_t == 20 * DAY_US && f.a[0].to_t == 30 * DAY_US,
	   "occupied NULL: the 10-day run to the last day is stuck, reported once");

	/* day 27 unoccupied instead: days 20..26 (7) stuck, 28..29 not */
	day_occupied[25] = true;
	day_occupied[27] = false;
	f = detect_days(&p, 30, true);
	ok(f.n == 1 && f.a[0].from_t == 20 * DAY_US && f.a[0].to_t == 27 * DAY_US,
	   "a run of 7 ended by an unoccupied day is stuck; the 2 after it are not");

	/* broken by an unknown day instead */
	day_occupied[27] = true;
	day_known[24] = false;
	f = detect_days(&p, 30, true);
	ok(f.n == 0, "a run broken by an unknown day (runs of 4 and 5): not stuck");
	day_known[24] = true;

	/* across first_day: run 20..29, first_day 25: reported whole, from day 20 */
	p.first_day = 25;
	f = detect_days(&p, 30, true);
	ok(f.n == 1 && f.a[0].kind == LM_ANOM_STUCK && f.a[0].from_t == 20 * DAY_US && f.a[0].to_t == 30 * DAY_US,
	   "a run across first_day is reported whole, from its first day");

	/* entirely before first_day: run 20..26, first_day 28 */
	day_use[27] = 10000;
	p.first_day = 28;
	f = detect_days(&p, 30, true);
	ok(f.n == 0, "a run ending before first_day is history");

	/* zero days on an unoccupied unit are not stuck */
	fill_days(30, 0);
	for (d = 0; d < 30; d++)
		day_occupied[d] = false;
	p.first_day = 0;
	f = detect_days(&p, 30, true);
	ok(f.n == 0, "30 zero days on a vacant unit: not stuck");

	/* from day 0: no days before the run, baseline 0 */
	f = detect_days(&p, 30, false);
	ok(f.n == 1 && f.a[0].from_t == 0 && f.a[0].baseline == 0,
	   "a run from day 0 has no baseline days: baseline 0");

	/* 5 days of 10.000 then a run: 5 < 7 known before it, baseline 0 */
	for (d = 0; d < 5; d++)
		day_use[d] = 10000;
	f = detect_days(&p, 30, false);
	ok(f.n == 1 && f.a[0].from_t == 5 * DAY_US && f.a[0].baseline == 0,
	   "fewer than min_baseline_days known before the run: baseline 0");

	/*
	 * a long run: days 0..19 10.000, 20..39 zero. Its baseline is the 28 days before it
	 * (0..19 clipped: 10.000), not the 28 before its end (12..39: 8 x 10.000, 20 x 0: 0).
	 */
	fill_days(40, 10000);
	for (d = 20; d < 40; d++)
		day_use[d] = 0;
	f = detect_days(&p, 40, true);
	ok(f.n == 1 && f.a[0].from_t == 20 * DAY_US && f.a[0].to_t == 40 * DAY_US && f.a[0].baseline == 10000,
	   "a 20-day run: one anomaly, baseline from the days before the run (10.000)");

	/* stuck then a spike the day after: emitted in day order, stuck first */
	fill_days(40, 10000);
	for (d = 28; d < 35; d++)
		day_use[d] = 0;
	/* day 35: window 7..34 = 21 x 10.000 and 7 x 0: median 10.000; 100.000 > 30.000 */
	day_use[35] = 100000;
	p.first_day = 28;
	f = detect_days(&p, 40, true);
	ok(f.n == 2 && f.a[0].kind == LM_ANOM_STUCK && f.a[0].from_t == 28 * DAY_US &&
	   f.a[1].kind == LM_ANOM_SPIKE && f.a[1].from_t == 35 * DAY_US && f.a[1].baseline == 10000,
	   "a stuck run then a spike: reported in day order");
}

static void
baseline_clamp(void)
{
	LmDetectParams p = defaults();
	Found		f;
	int			d;

	/*
	 * baseline_days 1000 is clamped to 366. Days 0..399 100.000, 400..798 10.000, day 799
	 * 31.000. Clamped, the window is days 433..798: all 10.000, 31,000 > 30,000 is a spike.
	 * Unclamped it would be days 0..798, 400 x 100.000 and 399 x 10.000: median 100.000.
	 */
	fill_days(800, 10000);
	for (d = 0; d < 400; d++)
		day_use[d] = 100000;
	day_use[799] = 31000;
	p.baseline_days = 1000;
	p.first_day = 799;
	f = detect_days(&p, 800, true);
	ok(f.n == 1 && f.a[0].kind == LM_ANOM_SPIKE && f.a[0].baseline == 10000,
	   "baseline_days above 366 is clamped to 366 days");
}

static Found
detect_readings(const LmReading *r, int n, int digits, int64_t from, int64_t to)
{
	LmDetectParams p = defaults();
	int64_t		cum[32];
	uint8_t		kinds[32];
	Found		f;

	f.n = 0;
	if (n > 0)
		lm_meter_unwrap(r, n, digits, cum, kinds);
	lm_detect_readings(&p, r, kinds, n, from, to, collect, &f);
	return f;
}

static void
reading_anomalies(void)
{
	Found		f;

	{
		/* daily readings, 0 digits; a decrease on day 2 (-2.000) and on day 12 (outside) */
		LmReading	r[] = {{0, 10000}, {DAY_US, 11000}, {2 * DAY_US, 9000}, {3 * DAY_US, 9500},
		{12 * DAY_US, 9400}};

		/* window [day 0, day 10): day 12's decrease is outside; 3 -> 12 is a 9-day gap overlapping */
		f = detect_readings(r, 5, 0, 0, 10 * DAY_US);
		ok(f.n == 2 && f.a[0].kind == LM_ANOM_NEGATIVE && f.a[0].from_t == DAY_US &&
		   f.a[0].to_t == 2 * DAY_US && f.a[0].observed == -2000 && f.a[0].baseline == 0,
		   "negative: 11.000 -> 9.000 is -2.000 over [day 1, day 2]");
		ok(f.n == 2 && f.a[1].kind == LM_ANOM_GAP && f.a[1].from_t == 3 * DAY_US &&
		   f.a[1].to_t == 12 * DAY_US && f.a[1].observed == 9 * DAY_US && f.a[1].baseline == 3 * DAY_US,
		   "gap: day 3 to day 12 is 9 days >= 3, overlapping the window; the decrease at day 12 is outside");

		/* window [day 10, day 20): the decrease at day 12 and the same gap, then an open gap 12 -> 20 */
		f = detect_readings(r, 5, 0, 10 * DAY_US, 20 * DAY_US);
		ok(f.n == 3 && f.a[0].kind == LM_ANOM_NEGATIVE && f.a[0].to_t == 12 * DAY_US &&
		   f.a[0].observed == -100 && f.a[1].kind == LM_ANOM_GAP && f.a[1].from_t == 3 * DAY_US,
		   "for one interval the negative (-0.100 at day 12) comes before its gap (day 3 -> 12)");
		ok(f.n == 3 && f.a[2].kind == LM_ANOM_GAP && f.a[2].from_t == 12 * DAY_US && f.a[2].to_t == 20 * DAY_US &&
		   f.a[2].observed == 8 * DAY_US, "an open gap at the end: day 12 to the window's end, 8 days");

		/* window [day 0, day 12): the decrease at day 12 is at window_to, outside */
		f = detect_readings(r, 5, 0, 0, 12 * DAY_US);
		ok(f.n == 2 && f.a[0].kind == LM_ANOM_NEGATIVE && f.a[0].to_t == 2 * DAY_US &&
		   f.a[1].kind == LM_ANOM_GAP && f.a[1].to_t == 12 * DAY_US,
		   "a decrease read at window_to belongs to the next window");
		/* window [day 12, day 20): the decrease at day 12 is in; the gap 3 -> 12 ends at window_from */
		f = detect_readings(r, 5, 0, 12 * DAY_US, 20 * DAY_US);
		ok(f.n == 2 && f.a[0].kind == LM_ANOM_NEGATIVE && f.a[0].to_t == 12 * DAY_US &&
		   f.a[1].kind == LM_ANOM_GAP && f.a[1].from_t == 12 * DAY_US,
		   "a decrease read at window_from is in the window");
	}
	{
		/* a rollover is not negative: 5 digits, 99,999.000 -> 1.000 */
		LmReading	r[] = {{0, 99999000}, {DAY_US, 1000}};

		f = detect_readings(r, 2, 5, 0, 2 * DAY_US);
		ok(f.n == 0, "a rollover is not reported as negative");
	}
	{
		/* gaps of exactly 3 days (reported) and 3 days - 1 us (not); window ends at the last reading */
		LmReading	r[] = {{0, 0}, {3 * DAY_US, 10}, {6 * DAY_US - 1, 20}};

		f = detect_readings(r, 3, 5, 0, 6 * DAY_US - 1);
		ok(f.n == 1 && f.a[0].kind == LM_ANOM_GAP && f.a[0].from_t == 0 && f.a[0].to_t == 3 * DAY_US,
		   "a gap of exactly gap_days is reported, one a microsecond shorter is not");
		/* window [3 days, ...): the gap [0, 3 days] ends where it starts: the previous window's */
		f = detect_readings(r, 3, 5, 3 * DAY_US, 6 * DAY_US - 1);
		ok(f.n == 0, "a gap ending at window_from is not this window's");
		/* window [2 days, ...): the gap crosses window_from */
		f = detect_readings(r, 3, 5, 2 * DAY_US, 6 * DAY_US - 1);
		ok(f.n == 1 && f.a[0].from_t == 0, "a gap crossing window_from is reported");
		/* open gap: last reading at 6d - 1us, window_to 9d - 1us: exactly 3 days */
		f = detect_readings(r, 3, 5, 3 * DAY_US, 9 * DAY_US - 1);
		ok(f.n == 1 && f.a[0].from_t == 6 * DAY_US - 1 && f.a[0].to_t == 9 * DAY_US - 1 &&
		   f.a[0].observed == 3 * DAY_US, "an open gap of exactly 3 days at the end is reported");
		f = detect_readings(r, 3, 5, 3 * DAY_US, 9 * DAY_US - 2);
		ok(f.n == 0, "an open gap a microsecond short of 3 days is not");
	}
	{
		/* no readings: one gap over the whole window, when it is long enough */
		f = detect_readings(NULL, 0, 5, 10 * DAY_US, 17 * DAY_US);
		ok(f.n == 1 && f.a[0].kind == LM_ANOM_GAP && f.a[0].from_t == 10 * DAY_US &&
		   f.a[0].to_t == 17 * DAY_US && f.a[0].observed == 7 * DAY_US && f.a[0].baseline == 3 * DAY_US,
		   "no readings: a 7-day gap over the whole window");
		f = detect_readings(NULL, 0, 5, 10 * DAY_US, 12 * DAY_US);
		ok(f.n == 0, "no readings in a 2-day window: no gap");
	}
}

/* -------------------------------------------------------- largest remainder */

static void
remainder_hand(void)
{
	int64_t		s[4];

	{
		int64_t		w[] = {1, 1, 1};

		/* 10,000 cents / 3 = 3,333 r 1 each; 1 cent left, tie -> index 0 */
		ok(lm_largest_remainder(10000, w, 3, s) && s[0] == 3334 && s[1] == 3333 && s[2] == 3333,
		   "100.00 split 1:1:1 is 33.34, 33.33, 33.33");
	}
	{
		int64_t		w[] = {250, 250, 250, 250};

		/* 10,002 / 4 = 2,500.5: floors 2,500, 2 cents left, all tied -> indexes 0 and 1 */
		ok(lm_largest_remainder(10002, w, 4, s) && s[0] == 2501 && s[1] == 2501 && s[2] == 2500 &&
		   s[3] == 2500, "100.02 split four ways: the 2 cents left go to the two lowest indexes");
	}
	{
		int64_t		w[] = {1, 2, 4};

		/*
		 * 100 x 1/7 = 14.29, x 2/7 = 28.57, x 4/7 = 57.14: floors 14 + 28 + 57 = 99; remainders
		 * 100 mod 7 = 2, 200 mod 7 = 4, 400 mod 7 = 1: the cent goes to index 1
		 */
		ok(lm_largest_remainder(100, w, 3, s) && s[0] == 14 && s[1] == 29 && s[2] == 57,
		   "1.00 split 1:2:4 is 0.14, 0.29, 0.57 (the largest remainder, not the lowest index)");
	}
	{
		int64_t		w[] = {1, 1, 1};

		/* on |-10,000|: 3,334, 3,333, 3,333, negated */
		ok(lm_largest_remainder(-10000, w, 3, s) && s[0] == -3334 && s[1] == -3333 && s[2] == -3333,
		   "-100.00 split 1:1:1 is -33.34, -33.33, -33.33");
	}
	{
		int64_t		w[] = {0, 1, 0, 1};

		/* 101 / 2 = 50 r 1 for the two weighted; the cent to index 1; zero weights get 0 */
		ok(lm_largest_remainder(101, w, 4, s) && s[0] == 0 && s[1] == 51 && s[2] == 0 && s[3] == 50,
		   "zero weights get nothing: 1.01 over 0:1:0:1 is 0, 0.51, 0, 0.50");
	}
	{
		int64_t		w[] = {3, 5};

		ok(lm_largest_remainder(0, w, 2, s) && s[0] == 0 && s[1] == 0, "a total of 0: every share 0");
	}
	{
		int64_t		w[] = {INT64_MAX, INT64_MAX};

		/* (2^63 - 1) / 2 = 4,611,686,018,427,387,903.5: floors ...903, the cent to index 0 */
		ok(lm_largest_remainder(INT64_MAX, w, 2, s) && s[0] == INT64_C(4611686018427387904) &&
		   s[1] == INT64_C(4611686018427387903), "INT64_MAX over two INT64_MAX weights: no overflow");
	}
	{
		int64_t		w[] = {7};

		ok(lm_largest_remainder(INT64_MIN, w, 1, s) && s[0] == INT64_MIN,
		   "INT64_MIN to a single weight is INT64_MIN (its magnitude fits no int64)");
	}
	{
		int64_t		neg[] = {1, -1};
		int64_t		zero[] = {0, 0};

		ok(!lm_largest_remainder(100, neg, 2, s), "a negative weight is refused");
		ok(!lm_largest_remainder(100, zero, 2, s), "weights summing to 0 are refused");
		ok(!lm_largest_remainder(100, zero, 0, s), "no weights (n = 0) is refused");
	}
}

/* The reference: sort indexes by remainder descending, index ascending, give the cents left. */
static int64_t ref_mag;
static int64_t ref_sum;
static const int64_t *ref_w;

static int
cmp_rem(const void *a, const void *b)
{
	int			i = *(const int *) a;
	int			j = *(const int *) b;
	int64_t		ri = ref_mag * ref_w[i] % ref_sum;
	int64_t		rj = ref_mag * ref_w[j] % ref_sum;

	if (ri != rj)
		return ri > rj ? -1 : 1;
	return i - j;
}

static void
remainder_generated(void)
{
	int			bad_sum = 0;
	int			bad_cent = 0;
	int			bad_ref = 0;
	int			k;

	for (k = 0; k < 5000; k++)
	{
		int64_t		w[40];
		int64_t		s[40];
		int64_t		ref[40];
		int			order[40];
		int			n = 1 + (int) (next_rand() % 40);
		int64_t		total = (int64_t) (next_rand() % 2000000) - 1000000;
		int64_t		sum = 0;
		int64_t		mag = total < 0 ? -total : total;
		int64_t		given = 0;
		int64_t		check = 0;
		int			i;

		for (i = 0; i < n; i++)
		{
			w[i] = next_rand() % 4 == 0 ? 0 : (int64_t) (next_rand() % 50000);
			if (next_rand() % 8 == 0 && i > 0)
				w[i] = w[i - 1];	/* ties */
			sum += w[i];
		}
		if (sum == 0)
		{
			w[0] = 1;
			sum = 1;
		}
		if (!lm_largest_remainder(total, w, n, s))
		{
			bad_sum++;
			continue;
		}
		for (i = 0; i < n; i++)
		{
			/* exact share = total x w / W: |share x W - total x w| < W (all within 2^63 here) */
			int64_t		diff = s[i] * sum - total * w[i];

			check += s[i];
			if (diff <= -sum || diff >= sum)
				bad_cent++;
		}
		if (check != total)
			bad_sum++;

		ref_mag = mag;
		ref_sum = sum;
		ref_w = w;
		for (i = 0; i < n; i++)
		{
			ref[i] = mag * w[i] / sum;
			given += ref[i];
			order[i] = i;
		}
		qsort(order, (size_t) n, sizeof(int), cmp_rem);
		for (i = 0; i < mag - given; i++)
			ref[order[i]]++;
		for (i = 0; i < n; i++)
			if ((total < 0 ? -ref[i] : ref[i]) != s[i])
			{
				bad_ref++;
				break;
			}
	}
	ok(bad_sum == 0, "5,000 generated splits: shares add up to the total (%d wrong)", bad_sum);
	ok(bad_cent == 0, "each share is within one cent of the exact proportion (%d wrong)", bad_cent);
	ok(bad_ref == 0, "each split agrees with a sort by remainder, ties to the lower index (%d wrong)", bad_ref);
}

static void
fallback_estimate(void)
{
	int64_t		e = -1,
				r = -1;

	/*
	 * Floor: 4,500.000 kWh over 450.00 m2 = 10 kWh/m2; tenant 120.00 m2 at ratio 1.1500:
	 * 10 x 120 x 1.15 = 1,380.000 kWh
	 */
	ok(lm_fallback_estimate(4500000, 45000, 12000, 11500, &e) && e == 1380000,
	   "4,500 kWh / 450 m2 x 120 m2 x 1.1500 = 1,380.000 kWh (got %lld)", (long long) e);
	/* 1,000.000 / 300.00 m2 x 100.00 m2 x 1.0000 = 333.3333... -> 333.333 */
	ok(lm_fallback_estimate(1000000, 30000, 10000, 10000, &e) && e == 333333,
	   "1,000 kWh / 300 m2 x 100 m2 = 333.333 kWh (rounded down at .3)");
	/* 2,000.000 / 300 x 100 = 666.6666... -> 666.667 */
	ok(lm_fallback_estimate(2000000, 30000, 10000, 10000, &e) && e == 666667,
	   "2,000 kWh / 300 m2 x 100 m2 = 666.667 kWh (rounded up at .6)");
	/* 0.001 x 1/2 = 0.0005 -> half away from zero: 0.001 */
	ok(lm_fallback_estimate(1, 200, 100, 10000, &e) && e == 1, "0.0005 rounds half away to 0.001");
	ok(!lm_fallback_estimate(1000, 0, 100, 10000, &e), "no floor area: no estimate");
	ok(!lm_fallback_estimate(1000, 100, 100, -1, &e), "a negative ratio is refused");
	ok(lm_fallback_estimate(0, 100, 100, 10000, &e) && e == 0, "a floor that used nothing estimates 0");
	/* at the bounds the product stays in 128 bits; one past them there is no estimate */
	ok(lm_fallback_estimate((int64_t) 1 << 52, 1, (int64_t) 1 << 36, (int64_t) 1 << 36, &e) == false,
	   "a result beyond int64 is refused, not wrapped");
	ok(!lm_fallback_estimate(((int64_t) 1 << 52) + 1, 100, 100, 10000, &e) &&
	   !lm_fallback_estimate(1000, 100, ((int64_t) 1 << 36) + 1, 10000, &e) &&
	   !lm_fallback_estimate(1000, 100, 100, ((int64_t) 1 << 36) + 1, &e),
	   "quantities, areas and ratios beyond their bounds are refused");

	/*
	 * Month with real figures: tenant 1,100.000 kWh on 100.00 m2; floor 3,000.000 kWh over
	 * 300.00 m2 = 10 kWh/m2, so 1,000 expected: ratio 1.1000
	 */
	ok(lm_floor_ratio(1100000, 3000000, 30000, 10000, &r) && r == 11000, "1,100 / (3,000 / 300 x 100) = 1.1000");
	/* 1,000 / (3,000 / 300 x 70) = 1,000 / 700 = 1.428571... -> 1.4286 */
	ok(lm_floor_ratio(1000000, 3000000, 30000, 7000, &r) && r == 14286, "1,000 / 700 = 1.4286");
	ok(!lm_floor_ratio(1000, 0, 100, 100, &r), "a floor that used nothing gives no ratio");
	ok(lm_floor_ratio(0, 1000, 100, 100, &r) && r == 0, "a tenant that used nothing has ratio 0");
}

int
main(void)
{
	unwrap_plain();
	unwrap_rollover();
	unwrap_negative();
	unwrap_refused();
	at_interpolation();
	at_rounding();
	at_exact_and_outside();
	at_long_series();
	periods_hand();
	periods_generated();
	median_hand();
	median_generated();
	spikes();
	spike_not_masked();
	min_baseline();
	bounds_check();
	stuck();
	baseline_clamp();
	reading_anomalies();
	remainder_hand();
	remainder_generated();
	fallback_estimate();
	return done_testing();
}
