/*
 * test_schedule.c: calendar, billing periods, escalation segments and proration fractions
 * of src/core, each against numbers worked out by hand in the comment beside it.
 */
#include <stdlib.h>

#include "lm_calendar.h"
#include "lm_schedule.h"
#include "tap.h"

#define D(y, m, d) lm_date(y, m, d)

static LmChargeSchedule
monthly(LmDate from, LmDate to)
{
	LmChargeSchedule s = {0};

	s.from = from;
	s.to = to;
	s.cycle_months = 1;
	s.due_day = 5;
	return s;
}

static void
calendar(void)
{
	int			y,
				m,
				d;
	LmDate		x;
	int			roundtrip_ok = 1;

	ok(D(2000, 1, 1) == 0, "2000-01-01 is day 0, as PostgreSQL's DateADT");
	ok(D(1999, 12, 31) == -1 && D(2000, 3, 1) == 60, "1999-12-31 is -1; 2000-03-01 is 60 (2000 is leap)");
	/* 2026-11-23: 26 years of days since 2000 = 9497 (6 leap days 2000..2024 = 7: 2000, 04, 08, 12, 16, 20, 24) */
	ok(D(2026, 1, 1) == 26 * 365 + 7, "2026-01-01 is day 9497");
	for (x = D(1899, 12, 1); x < D(2101, 2, 1); x++)
	{
		lm_ymd(x, &y, &m, &d);
		if (D(y, m, d) != x || d < 1 || d > lm_days_in_month(y, m))
			roundtrip_ok = 0;
	}
	ok(roundtrip_ok, "every day 1899..2101 converts to (y, m, d) and back");
	ok(lm_days_in_month(2028, 2) == 29 && lm_days_in_month(2027, 2) == 28 &&
	   lm_days_in_month(2100, 2) == 28 && lm_days_in_month(2000, 2) == 29,
	   "February: 29 in 2028 and 2000, 28 in 2027 and 2100");
	ok(lm_add_months(D(2027, 1, 31), 1) == D(2027, 2, 28), "Jan 31 + 1 month = Feb 28 (2027)");
	ok(lm_add_months(D(2028, 1, 31), 1) == D(2028, 2, 29), "Jan 31 + 1 month = Feb 29 (2028)");
	ok(lm_add_months(D(2027, 3, 31), -1) == D(2027, 2, 28), "Mar 31 - 1 month = Feb 28");
	ok(lm_add_months(D(2027, 11, 15), 3) == D(2028, 2, 15), "Nov 15 + 3 months crosses the year");
	ok(lm_month_end(D(2028, 2, 10)) == D(2028, 2, 29) && lm_month_start(D(2028, 2, 10)) == D(2028, 2, 1),
	   "month start and end");
}

static void
periods(void)
{
	LmChargeSchedule s = monthly(D(2027, 3, 15), D(2028, 3, 14));
	LmPeriod	p;

	s.cycle_months = 3;
	/* Mar 2027 .. Mar 2028 is 12 months apart: 12 / 3 + 1 = 5 quarterly periods. */
	ok(lm_period_count(&s) == 5, "a lease 2027-03-15..2028-03-14 billed quarterly has 5 periods");
	p = lm_period(&s, 0);
	ok(p.start == D(2027, 3, 15) && p.end == D(2027, 5, 31), "period 0 is 03-15..05-31 (calendar aligned)");
	ok(p.bill_month == D(2027, 3, 1) && p.due_on == D(2027, 3, 5), "in advance: billed in March, due 03-05");
	p = lm_period(&s, 3);
	ok(p.start == D(2027, 12, 1) && p.end == D(2028, 2, 29), "period 3 is 12-01..02-29 (2028 is leap)");
	p = lm_period(&s, 4);
	ok(p.start == D(2028, 3, 1) && p.end == D(2028, 3, 14), "the last period stops at the end of the lease");
	s.arrears = true;
	s.due_day = 31;
	p = lm_period(&s, 3);
	/* arrears: the month after 2028-02-29 is March; due day 31 exists in March */
	ok(p.bill_month == D(2028, 3, 1) && p.due_on == D(2028, 3, 31), "in arrears: billed in March, due 03-31");
	p = lm_period(&s, 2);
	/* Sep..Nov billed in December; due day 31 -> 12-31 */
	ok(p.bill_month == D(2027, 12, 1), "Sep..Nov in arrears is billed in December");
	ok(lm_due_date(D(2027, 2, 1), 31) == D(2027, 2, 28), "due day 31 in February 2027 is the 28th");
	ok(lm_period_of(&s, D(2027, 7, 4)) == 1 && lm_period_of(&s, D(2030, 1, 1)) == 4 &&
	   lm_period_of(&s, D(2020, 1, 1)) == 0, "the period of a day, clamped to the schedule");
	s.from = D(2027, 3, 15);
	s.to = D(2027, 3, 14);
	ok(lm_period_count(&s) == 0, "no periods when the charge ends before it starts");
}

static void
proration(void)
{
	LmChargeSchedule s = monthly(D(2027, 3, 15), D(2028, 12, 31));
	LmPeriod	p = lm_period(&s, 0);
	LmSegment	seg[LM_MAX_SEGMENTS];
	int			n;

	/* actual_days: March 15..31 is 17 of 31 days */
	n = lm_segments(&s, &p, seg);
	ok(n == 1 && seg[0].months_num == 17 && seg[0].months_den == 31 && seg[0].charged_days == 17,
	   "actual_days: 03-15..03-31 is 17/31 of a month");
	/* thirty_360: March 15..31 counts 15..30 = 16 days of 30 = 8/15 */
	s.proration = LM_PRORATE_THIRTY_360;
	n = lm_segments(&s, &p, seg);
	ok(seg[0].months_num == 8 && seg[0].months_den == 15 && seg[0].months[0].counted == 16,
	   "thirty_360: 03-15..03-31 is 16/30 of a month (the 31st does not count)");
	/* annual_365: 17 days x 12 / 365 = 204/365 */
	s.proration = LM_PRORATE_ANNUAL_365;
	n = lm_segments(&s, &p, seg);
	ok(seg[0].months_num == 204 && seg[0].months_den == 365, "annual_365: 17 x 12 / 365 = 204/365");
	/* a full month is one monthly amount in every convention */
	p = lm_period(&s, 1);
	n = lm_segments(&s, &p, seg);
	ok(n == 1 && seg[0].months_num == 1 && seg[0].months_den == 1, "annual_365: a full April is 1 month");

	/* February, leap and not: 2028-02-15..29 is 15/29; 30/360 counts 15..30 = 16/30 */
	s = monthly(D(2028, 2, 15), D(2028, 12, 31));
	p = lm_period(&s, 0);
	lm_segments(&s, &p, seg);
	ok(seg[0].months_num == 15 && seg[0].months_den == 29, "actual_days: 2028-02-15..29 is 15/29 (leap year)");
	s.proration = LM_PRORATE_THIRTY_360;
	lm_segments(&s, &p, seg);
	ok(seg[0].months[0].counted == 16 && seg[0].months_num == 8 && seg[0].months_den == 15,
	   "thirty_360: 2028-02-15..29 counts as 16/30 (the last day of February counts to the 30th)");
	s = monthly(D(2027, 2, 15), D(2027, 12, 31));
	s.proration = LM_PRORATE_THIRTY_360;
	p = lm_period(&s, 0);
	lm_segments(&s, &p, seg);
	ok(seg[0].months[0].counted == 16, "thirty_360: 2027-02-15..28 counts as 16/30 too");
	/* a lease that starts on the last day of a month: the 31st alone counts as day 30, 1/30 */
	s = monthly(D(2027, 1, 31), D(2027, 12, 31));
	s.proration = LM_PRORATE_THIRTY_360;
	p = lm_period(&s, 0);
	lm_segments(&s, &p, seg);
	ok(seg[0].months[0].counted == 1 && seg[0].months_num == 1 && seg[0].months_den == 30,
	   "thirty_360: 2027-01-31 alone is 1/30 of a month (the 31st counts as the 30th)");
	/* 01-30..31: days 30 and 31 are both day 30, 1/30 */
	s = monthly(D(2027, 1, 30), D(2027, 12, 31));
	s.proration = LM_PRORATE_THIRTY_360;
	p = lm_period(&s, 0);
	lm_segments(&s, &p, seg);
	ok(seg[0].months[0].counted == 1, "thirty_360: 2027-01-30..31 is 1/30 too");
	/* 2027-02-28 alone (not a leap year) counts for days 28, 29 and 30: 3/30 = 1/10 */
	s = monthly(D(2027, 2, 28), D(2027, 12, 31));
	s.proration = LM_PRORATE_THIRTY_360;
	p = lm_period(&s, 0);
	lm_segments(&s, &p, seg);
	ok(seg[0].months[0].counted == 3 && seg[0].months_num == 1 && seg[0].months_den == 10,
	   "thirty_360: 2027-02-28 alone counts to the 30th, 3/30");
	/*
	 * A yearly step on the 31st cuts January 2028 into 01-01..30 (30/30) and 01-31, which
	 * counts as day 30, charged already: 0/30. The month is one month, not 31/30.
	 */
	s = monthly(D(2027, 1, 31), D(2029, 12, 31));
	s.proration = LM_PRORATE_THIRTY_360;
	s.every_months = 12;
	s.anchor = D(2027, 1, 31);
	p = lm_period(&s, 12);
	n = lm_segments(&s, &p, seg);
	ok(n == 2 && seg[0].months_num == 1 && seg[0].months_den == 1 && seg[1].months[0].counted == 0 &&
	   seg[1].months_num == 0,
	   "thirty_360: a month cut at a step on the 31st is 30/30 + 0/30, one month");
	/* a lease ending mid-month: 2027-12-01..12-10 */
	s = monthly(D(2027, 1, 1), D(2027, 12, 10));
	p = lm_period(&s, 11);
	lm_segments(&s, &p, seg);
	ok(seg[0].start == D(2027, 12, 1) && seg[0].end == D(2027, 12, 10) &&
	   seg[0].months_num == 10 && seg[0].months_den == 31, "the last month 12-01..12-10 is 10/31");
}

static void
escalation_and_free_rent(void)
{
	LmChargeSchedule s = monthly(D(2026, 1, 1), D(2028, 12, 31));
	LmRange		free_days[2] = {{D(2026, 1, 1), D(2026, 2, 14)}, {D(2027, 3, 1), D(2027, 3, 14)}};
	LmSegment	seg[LM_MAX_SEGMENTS];
	LmPeriod	p;
	int			n;

	s.cycle_months = 3;
	s.every_months = 12;
	s.anchor = D(2026, 1, 1);
	s.free = free_days;
	s.nfree = 2;
	ok(lm_step_at(&s, D(2026, 12, 31)) == 0 && lm_step_at(&s, D(2027, 1, 1)) == 1 &&
	   lm_step_at(&s, D(2028, 6, 1)) == 2, "steps take effect on 2027-01-01 and 2028-01-01");

	/* Quarter 1 of 2026: January and 1..14 February free: Feb has 14 of 28 days charged,
	 * March is full: 14/28 + 1 = 3/2 months. */
	p = lm_period(&s, 0);
	n = lm_segments(&s, &p, seg);
	ok(n == 1 && seg[0].months_num == 3 && seg[0].months_den == 2 && seg[0].charged_days == 14 + 31,
	   "free rent Jan 1 .. Feb 14: the first quarter is 0 + 14/28 + 1 = 3/2 months, 45 days");
	ok(seg[0].nfree == 1 && seg[0].free[0].lo == D(2026, 1, 1) && seg[0].free[0].hi == D(2026, 2, 14),
	   "the free days are listed for the explanation");

	/* A cycle that is not aligned with the step: start in November, quarterly -> Nov..Jan. */
	s.from = D(2026, 11, 1);
	s.free = NULL;
	s.nfree = 0;
	p = lm_period(&s, 0);
	n = lm_segments(&s, &p, seg);
	ok(n == 2 && seg[0].end == D(2026, 12, 31) && seg[0].step == 0 && seg[0].months_num == 2 &&
	   seg[1].start == D(2027, 1, 1) && seg[1].step == 1 && seg[1].step_from == D(2027, 1, 1) &&
	   seg[1].months_num == 1, "a quarter Nov..Jan is cut at the step: Nov-Dec at step 0 (2 months), Jan at step 1 (1 month)");

	/* mid-lease free rent 2027-03-01..14 inside a monthly period: 17/31 */
	s = monthly(D(2026, 1, 1), D(2028, 12, 31));
	s.free = free_days;
	s.nfree = 2;
	p = lm_period(&s, 14);
	lm_segments(&s, &p, seg);
	ok(p.start == D(2027, 3, 1) && seg[0].months_num == 17 && seg[0].months_den == 31,
	   "free rent 03-01..03-14 leaves 17/31 of March");
	p = lm_period(&s, 0);
	lm_segments(&s, &p, seg);
	ok(seg[0].months_num == 0 && seg[0].charged_days == 0, "a month entirely free is worth 0 months");

	/* month-end anchor: steps on Feb 28, Mar 31 (each from the anchor, never drifting) */
	s.every_months = 1;
	s.anchor = D(2027, 1, 31);
	ok(lm_step_date(&s, 1) == D(2027, 2, 28) && lm_step_date(&s, 2) == D(2027, 3, 31) &&
	   lm_step_at(&s, D(2027, 3, 30)) == 1 && lm_step_at(&s, D(2027, 3, 31)) == 2,
	   "a month-end anchor steps on Feb 28 and then Mar 31");
}

int
main(void)
{
	calendar();
	periods();
	proration();
	escalation_and_free_rent();
	return done_testing();
}
