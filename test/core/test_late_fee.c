/*
 * test_late_fee.c: the late-fee day count of src/core (which days accrue, on how much unpaid
 * principal), each case against numbers worked out by hand in the comment beside it, and a
 * day-by-day recount of many generated cases.
 */
#include <stdint.h>
#include <stdlib.h>

#include "lm_calendar.h"
#include "lm_late_fee.h"
#include "tap.h"

#define D(y, m, d) lm_date(y, m, d)
#define MAXSEG 64

/* sum over the segments of unpaid cents x days: the base the daily rate multiplies */
static int64_t
cent_days(const LmAccrual *seg, int n)
{
	int64_t		sum = 0;
	int			i;

	for (i = 0; i < n; i++)
		sum += seg[i].unpaid_cents * seg[i].days;
	return sum;
}

static int
accrual(LmDate due, int32_t grace, LmDate as_of, int64_t principal, const LmPaidPart *paid,
		int npaid, LmAccrual *out)
{
	return lm_late_fee_accrual(due, grace, as_of, principal, paid, npaid, out);
}

static void
issue_example(void)
{
	/* 10,000.00 due 2026-03-05, no grace; 4,000 paid 03-15, the rest 03-25. */
	LmPaidPart	paid[] = {{D(2026, 3, 15), 400000}, {D(2026, 3, 25), 600000}};
	LmAccrual	seg[MAXSEG];
	int			n = accrual(D(2026, 3, 5), 0, D(2026, 3, 25), 1000000, paid, 2, seg);

	/* 03-06..03-14 = 9 days on 10,000.00; 03-15..03-24 = 10 days on 6,000.00 */
	ok(n == 2, "the issue's example has two segments");
	ok(seg[0].from == D(2026, 3, 6) && seg[0].to == D(2026, 3, 14) && seg[0].days == 9 &&
	   seg[0].unpaid_cents == 1000000, "03-06..03-14: 9 days on 10,000.00");
	ok(seg[1].from == D(2026, 3, 15) && seg[1].to == D(2026, 3, 24) && seg[1].days == 10 &&
	   seg[1].unpaid_cents == 600000, "03-15..03-24: 10 days on 6,000.00");
	/* 9 x 1,000,000 + 10 x 600,000 = 15,000,000 cent-days; x 0.05% = 7,500 cents = 75.00 */
	ok(cent_days(seg, n) == 15000000 && cent_days(seg, n) * 5 / 10000 == 7500,
	   "15,000,000 cent-days x 0.05%% = 75.00");

	/* Asked later, nothing more: the rest was paid on 03-25. */
	n = accrual(D(2026, 3, 5), 0, D(2026, 4, 30), 1000000, paid, 2, seg);
	ok(n == 2 && cent_days(seg, n) == 15000000, "after the last payment the count stops growing");

	/* Asked on 03-15 (the day of the first payment): 9 days on 10,000.00 = 45.00 */
	n = accrual(D(2026, 3, 5), 0, D(2026, 3, 15), 1000000, paid, 2, seg);
	ok(n == 1 && seg[0].days == 9 && cent_days(seg, n) == 9000000,
	   "as of 03-15: 03-06..03-14 only (a payment on as_of stops accrual that day)");
}

static void
window(void)
{
	LmAccrual	seg[MAXSEG];
	int			n;

	/* unpaid, as of 03-07: only 03-06 accrues */
	n = accrual(D(2026, 3, 5), 0, D(2026, 3, 7), 500000, NULL, 0, seg);
	ok(n == 1 && seg[0].from == D(2026, 3, 6) && seg[0].days == 1, "as of due + 2: one day (due + 1)");
	n = accrual(D(2026, 3, 5), 0, D(2026, 3, 6), 500000, NULL, 0, seg);
	ok(n == 0, "as of the day after the due day: nothing yet");
	n = accrual(D(2026, 3, 5), 0, D(2026, 3, 5), 500000, NULL, 0, seg);
	ok(n == 0, "as of the due day: nothing");
	n = accrual(D(2026, 3, 5), 0, D(2026, 2, 1), 500000, NULL, 0, seg);
	ok(n == 0, "as of a day before the due day: nothing");
	/* 2028 is leap: 02-28, 02-29, 03-01 */
	n = accrual(D(2028, 2, 27), 0, D(2028, 3, 2), 100, NULL, 0, seg);
	ok(n == 1 && seg[0].days == 3, "02-28..03-01 in 2028 is 3 days (leap day counted)");
	/* 2026-12-20..2027-01-09: 12 days in December + 9 in January = 21 */
	n = accrual(D(2026, 12, 19), 0, D(2027, 1, 10), 100, NULL, 0, seg);
	ok(n == 1 && seg[0].days == 21, "across the year end: 21 days");
}

static void
grace(void)
{
	LmAccrual	seg[MAXSEG];
	LmPaidPart	in_grace[] = {{D(2026, 4, 10), 500000}};
	LmPaidPart	after_grace[] = {{D(2026, 4, 11), 500000}};
	LmPaidPart	split[] = {{D(2026, 4, 8), 200000}, {D(2026, 4, 20), 300000}};
	int			n;

	/* 5,000.00 due 04-05, 5 grace days: accrual would start 04-11 */
	n = accrual(D(2026, 4, 5), 5, D(2026, 5, 31), 500000, in_grace, 1, seg);
	ok(n == 0, "paid in full on the last grace day (04-10): no fee");
	n = accrual(D(2026, 4, 5), 5, D(2026, 5, 31), 500000, after_grace, 1, seg);
	ok(n == 0, "paid in full on 04-11, the first day that would accrue: no fee");
	/* 2,000 paid 04-08 within the grace, 3,000 on 04-20: 04-11..04-19 = 9 days on 3,000.00 */
	n = accrual(D(2026, 4, 5), 5, D(2026, 5, 31), 500000, split, 2, seg);
	ok(n == 1 && seg[0].from == D(2026, 4, 11) && seg[0].to == D(2026, 4, 19) && seg[0].days == 9 &&
	   seg[0].unpaid_cents == 300000, "a partial payment within the grace: 9 days on the rest");
	/* unpaid, as of 04-20: 04-11..04-19 = 9 days on 5,000.00 */
	n = accrual(D(2026, 4, 5), 5, D(2026, 4, 20), 500000, NULL, 0, seg);
	ok(n == 1 && seg[0].days == 9 && seg[0].unpaid_cents == 500000, "grace postpones the start");
	n = accrual(D(2026, 4, 5), INT32_MAX, D(2026, 4, 20), 500000, NULL, 0, seg);
	ok(n == 0, "an enormous grace period: nothing, and no overflow");
}

static void
payments(void)
{
	LmAccrual	seg[MAXSEG];
	LmPaidPart	on_due[] = {{D(2026, 6, 5), 500000}};
	LmPaidPart	part_on_due[] = {{D(2026, 6, 5), 100000}};
	LmPaidPart	prepaid[] = {{D(2026, 5, 20), 500000}};
	LmPaidPart	three[] = {{D(2026, 6, 10), 300000}, {D(2026, 6, 20), 300000}, {D(2026, 7, 5), 600000}};
	LmPaidPart	same_day[] = {{D(2026, 6, 10), 100000}, {D(2026, 6, 10), 200000}, {D(2026, 6, 10), 50000}};
	LmPaidPart	late[] = {{D(2026, 7, 1), 500000}};
	LmPaidPart	over[] = {{D(2026, 6, 8), 400000}, {D(2026, 6, 9), 400000}};
	int			n;

	n = accrual(D(2026, 6, 5), 0, D(2026, 7, 31), 500000, on_due, 1, seg);
	ok(n == 0, "paid in full on the due day: nothing");
	n = accrual(D(2026, 6, 5), 0, D(2026, 7, 31), 500000, prepaid, 1, seg);
	ok(n == 0, "paid before the due day: nothing");
	/* 1,000 of 5,000 on the due day; as of 06-11: 06-06..06-10 = 5 days on 4,000.00 */
	n = accrual(D(2026, 6, 5), 0, D(2026, 6, 11), 500000, part_on_due, 1, seg);
	ok(n == 1 && seg[0].days == 5 && seg[0].unpaid_cents == 400000, "part paid on the due day: the rest accrues");

	/*
	 * 12,000.00 due 06-05; 3,000 on 06-10, 3,000 on 06-20, 6,000 on 07-05:
	 * 06-06..06-09 4 days on 12,000; 06-10..06-19 10 days on 9,000; 06-20..07-04 15 days on 6,000
	 * = 4 x 1,200,000 + 10 x 900,000 + 15 x 600,000 = 4,800,000 + 9,000,000 + 9,000,000 = 22,800,000
	 */
	n = accrual(D(2026, 6, 5), 0, D(2026, 8, 1), 1200000, three, 3, seg);
	ok(n == 3 && seg[0].days == 4 && seg[1].days == 10 && seg[2].days == 15 &&
	   seg[2].from == D(2026, 6, 20) && seg[2].to == D(2026, 7, 4),
	   "three partial payments: 4, 10 and 15 days");
	ok(cent_days(seg, n) == 22800000, "three partial payments: 22,800,000 cent-days (114.00 at 0.05%%)");

	/* three payments on 06-10 act as one: 06-06..06-09 on 5,000; 06-10.. on 1,500 */
	n = accrual(D(2026, 6, 5), 0, D(2026, 6, 15), 500000, same_day, 3, seg);
	ok(n == 2 && seg[0].days == 4 && seg[1].from == D(2026, 6, 10) && seg[1].days == 5 &&
	   seg[1].unpaid_cents == 150000, "payments on one day are one step");

	/* a payment after as_of does not count yet: 06-06..06-19 = 14 days on 5,000 */
	n = accrual(D(2026, 6, 5), 0, D(2026, 6, 20), 500000, late, 1, seg);
	ok(n == 1 && seg[0].days == 14 && seg[0].unpaid_cents == 500000, "a later payment is not seen before its day");

	/* 4,000 + 4,000 on a 5,000 bill: 06-06..06-07 on 5,000, 06-08 on 1,000, then nothing */
	n = accrual(D(2026, 6, 5), 0, D(2026, 6, 30), 500000, over, 2, seg);
	ok(n == 2 && seg[1].days == 1 && seg[1].unpaid_cents == 100000, "more than the principal paid: never negative");

	n = accrual(D(2026, 6, 5), 0, D(2026, 6, 30), 0, NULL, 0, seg);
	ok(n == 0, "a principal of zero accrues nothing");
	n = accrual(D(2026, 6, 5), 0, D(2026, 6, 30), -50000, NULL, 0, seg);
	ok(n == 0, "a negative principal (a credit note) accrues nothing");
}

static void
bad_input(void)
{
	LmAccrual	seg[MAXSEG];
	LmPaidPart	unsorted[] = {{D(2026, 6, 20), 100}, {D(2026, 6, 10), 100}};
	LmPaidPart	negative[] = {{D(2026, 6, 10), -100}};

	ok(accrual(D(2026, 6, 5), 0, D(2026, 7, 1), 500000, unsorted, 2, seg) == -1,
	   "allocations out of order are refused (-1)");
	ok(accrual(D(2026, 6, 5), 0, D(2026, 7, 1), 500000, negative, 1, seg) == -1,
	   "a negative allocation is refused (-1)");
}

/* The unpaid principal on one day, counted the slow way. */
static int64_t
unpaid_on(LmDate day, int64_t principal, const LmPaidPart *paid, int npaid)
{
	int64_t		unpaid = principal > 0 ? principal : 0;
	int			i;

	for (i = 0; i < npaid; i++)
		if (paid[i].on <= day)
			unpaid = paid[i].cents >= unpaid ? 0 : unpaid - paid[i].cents;
	return unpaid;
}

static void
recount(void)
{
	uint32_t	seed = 12345;
	int			bad = 0;
	int			k;

	for (k = 0; k < 20000; k++)
	{
		LmPaidPart	paid[12];
		LmAccrual	seg[13];
		LmDate		due = D(2026, 1, 1) + (LmDate) (seed % 60);
		int32_t		grace;
		LmDate		as_of;
		int64_t		principal;
		int			npaid;
		int			i;
		int			n;
		int64_t		slow = 0;
		LmDate		day;

#define NEXT() (seed = seed * 1103515245u + 12345u, (seed >> 8) & 0xffff)
		grace = (int32_t) (NEXT() % 8);
		as_of = due + (LmDate) (NEXT() % 90) - 10;
		principal = (int64_t) (NEXT() % 100000) - 1000;
		npaid = (int) (NEXT() % 12);
		for (i = 0; i < npaid; i++)
		{
			paid[i].on = (i == 0 ? due - 5 : paid[i - 1].on) + (LmDate) (NEXT() % 9);
			paid[i].cents = (int64_t) (NEXT() % 30000);
		}
		n = accrual(due, grace, as_of, principal, paid, npaid, seg);
		for (day = due + grace + 1; day <= as_of - 1; day++)
			slow += unpaid_on(day, principal, paid, npaid);
		if (n < 0 || n > npaid + 1 || cent_days(seg, n) != slow)
			bad++;
		for (i = 0; i < n; i++)
			if (seg[i].days != seg[i].to - seg[i].from + 1 || seg[i].unpaid_cents <= 0 ||
				(i > 0 && seg[i].from <= seg[i - 1].to))
				bad++;
	}
	ok(bad == 0, "20,000 generated cases agree with a day-by-day recount (%d disagree)", bad);
}

/* Days an amendment froze the contract accrue nothing. */
static void
frozen_days(void)
{
	LmDateRange one[] = {{D(2026, 3, 10), D(2026, 3, 19)}};
	LmDateRange messy[] = {{D(2026, 3, 15), D(2026, 3, 25)}, {D(2026, 3, 1), D(2026, 3, 4)},
	{D(2026, 3, 10), D(2026, 3, 16)}, {D(2026, 3, 20), D(2026, 3, 18)}};
	int			bad = 0;
	int			k;

	/* 03-06..03-24 is 19 days; 03-10..03-19 frozen (10 days) leaves 9 */
	ok(lm_days_not_frozen(D(2026, 3, 6), D(2026, 3, 24), one, 1) == 9, "10 frozen days of 19 leave 9");
	ok(lm_days_not_frozen(D(2026, 3, 6), D(2026, 3, 24), one, 0) == 19, "no freeze: every day");
	ok(lm_days_not_frozen(D(2026, 3, 12), D(2026, 3, 14), one, 1) == 0, "a stretch inside the freeze: none");
	ok(lm_days_not_frozen(D(2026, 3, 24), D(2026, 3, 6), one, 1) == 0, "from after to: none");
	/*
	 * 03-01..03-31 (31 days) minus 03-01..03-04 (4) and the overlapping 03-10..03-16 and
	 * 03-15..03-25 (16 days, counted once); the empty range 03-20..03-18 counts nothing: 11
	 */
	ok(lm_days_not_frozen(D(2026, 3, 1), D(2026, 3, 31), messy, 4) == 11,
	   "overlapping ranges in any order count each frozen day once: 11");

	/* against a day-by-day count over generated stretches */
	for (k = 0; k < 2000; k++)
	{
		LmDate		from = D(2026, 3, 1) + (k * 7) % 40;
		LmDate		to = from + (k * 13) % 50 - 5;
		int64_t		expect = 0;
		LmDate		d;

		for (d = from; d <= to; d++)
		{
			int			i,
						frozen = 0;

			for (i = 0; i < 4; i++)
				frozen |= d >= messy[i].lo && d <= messy[i].hi;
			expect += !frozen;
		}
		bad += lm_days_not_frozen(from, to, messy, 4) != expect;
	}
	ok(bad == 0, "2,000 generated stretches agree with a day-by-day count (%d disagree)", bad);
}

int
main(void)
{
	issue_example();
	frozen_days();
	window();
	grace();
	payments();
	bad_input();
	recount();
	return done_testing();
}
