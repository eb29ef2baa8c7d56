/*
 * lm_schedule.c
 *     Billing periods, escalation segments and proration fractions of one charge.
 *
 * Periods are calendar aligned: a charge billed every c months has periods of c calendar
 * months counted from the month of its first day, the first and last cut at its first and
 * last day. Fractions are exact integers; nothing here rounds.
 */
#include "lm_schedule.h"

static int64_t
gcd64(int64_t a, int64_t b)
{
	while (b != 0)
	{
		int64_t		t = a % b;

		a = b;
		b = t;
	}
	return a < 0 ? -a : a;
}

/* a/b + c/d, reduced. Denominators stay small (at most 28 x 29 x 30 x 31 x 365). */
static void
frac_add(int64_t *num, int64_t *den, int64_t c, int64_t d)
{
	int64_t		n = *num * d + c * *den;
	int64_t		m = *den * d;
	int64_t		g = gcd64(n, m);

	if (g == 0)
		g = 1;
	*num = n / g;
	*den = m / g;
}

static LmDate
min_date(LmDate a, LmDate b)
{
	return a < b ? a : b;
}

static LmDate
max_date(LmDate a, LmDate b)
{
	return a > b ? a : b;
}

int
lm_period_count(const LmChargeSchedule *s)
{
	if (s->from > s->to)
		return 0;
	return (lm_month_index(s->to) - lm_month_index(s->from)) / s->cycle_months + 1;
}

LmDate
lm_due_date(LmDate bill_month, int due_day)
{
	int			y,
				m,
				d;
	int			dim;

	lm_ymd(bill_month, &y, &m, &d);
	dim = lm_days_in_month(y, m);
	return lm_date(y, m, due_day < dim ? due_day : dim);
}

LmPeriod
lm_period(const LmChargeSchedule *s, int k)
{
	LmPeriod	p;
	int			first = lm_month_index(s->from) + k * s->cycle_months;

	p.index = k;
	p.start = max_date(lm_month_from_index(first), s->from);
	p.end = min_date(lm_month_from_index(first + s->cycle_months) - 1, s->to);
	p.bill_month = s->arrears ? lm_month_from_index(lm_month_index(p.end) + 1)
		: lm_month_start(p.start);
	p.due_on = lm_due_date(p.bill_month, s->due_day);
	return p;
}

int
lm_period_of(const LmChargeSchedule *s, LmDate d)
{
	int			n = lm_period_count(s);
	int			k;

	if (n == 0 || d <= s->from)
		return 0;
	k = (lm_month_index(d) - lm_month_index(s->from)) / s->cycle_months;
	return k < n ? k : n - 1;
}

LmDate
lm_step_date(const LmChargeSchedule *s, int k)
{
	return lm_add_months(s->anchor, k * s->every_months);
}

int
lm_step_at(const LmChargeSchedule *s, LmDate d)
{
	int			k;

	if (s->every_months <= 0 || d < lm_step_date(s, 1))
		return 0;
	/* A first guess from the months elapsed, then exact against month-end clamping. */
	k = (lm_month_index(d) - lm_month_index(s->anchor)) / s->every_months;
	if (k < 1)
		k = 1;
	while (lm_step_date(s, k + 1) <= d)
		k++;
	while (k > 0 && lm_step_date(s, k) > d)
		k--;
	return k;
}

/* Free days of the schedule between lo and hi inclusive. */
static int
free_days_between(const LmChargeSchedule *s, LmDate lo, LmDate hi)
{
	int			total = 0;
	int			i;

	for (i = 0; i < s->nfree; i++)
	{
		LmDate		a = max_date(s->free[i].lo, lo);
		LmDate		b = min_date(s->free[i].hi, hi);

		if (a <= b)
			total += b - a + 1;
	}
	return total;
}

/* Is day d charged (inside the schedule and not free)? */
static bool
charged_day(const LmChargeSchedule *s, LmDate d)
{
	return d >= s->from && d <= s->to && free_days_between(s, d, d) == 0;
}

/*
 * One month of a segment. A month whose every day is charged is one monthly amount, in
 * every convention. Otherwise:
 *   actual_days  charged / days in the month
 *   thirty_360   charged days counted on a 30-day month, by day number: a charged 31st
 *                counts as the 30th (so it adds nothing when the 30th is charged too, even
 *                in another segment of the month, and one day when the 30th is not, as for
 *                a lease that starts on the 31st),
 *                and a charged last day of February counts for the days up to the 30th
 *   annual_365   charged x 12 / 365
 */
static void
month_part(const LmChargeSchedule *s, LmDate lo, LmDate hi, LmMonthPart *mp)
{
	int			y,
				m,
				d;
	int			dim;
	LmDate		month_end;

	lm_ymd(lo, &y, &m, &d);
	dim = lm_days_in_month(y, m);
	month_end = lm_date(y, m, dim);
	mp->month = lm_date(y, m, 1);
	mp->days = hi - lo + 1;
	mp->charged = mp->days - free_days_between(s, lo, hi);
	mp->full = mp->charged == dim;
	mp->times = 1;
	mp->counted = mp->charged;
	mp->basis = dim;
	if (mp->full)
		return;
	switch (s->proration)
	{
		case LM_PRORATE_ACTUAL_DAYS:
			break;
		case LM_PRORATE_THIRTY_360:
			mp->basis = 30;
			if (dim == 31 && hi == month_end && charged_day(s, month_end) &&
				charged_day(s, month_end - 1))
				mp->counted--;
			else if (m == 2 && hi == month_end && charged_day(s, month_end))
				mp->counted += 30 - dim;
			break;
		case LM_PRORATE_ANNUAL_365:
			mp->basis = 365;
			mp->times = 12;
			break;
	}
}

static void
fill_segment(const LmChargeSchedule *s, LmDate lo, LmDate hi, LmSegment *seg)
{
	LmDate		d;
	int			i;

	seg->start = lo;
	seg->end = hi;
	seg->step = lm_step_at(s, lo);
	seg->step_from = seg->step > 0 ? lm_step_date(s, seg->step) : s->from;
	seg->charged_days = 0;
	seg->months_num = 0;
	seg->months_den = 1;
	seg->nmonths = 0;
	for (d = lo; d <= hi && seg->nmonths < LM_MAX_SEGMENT_MONTHS;)
	{
		LmDate		e = min_date(lm_month_end(d), hi);
		LmMonthPart *mp = &seg->months[seg->nmonths++];

		month_part(s, d, e, mp);
		seg->charged_days += mp->charged;
		if (mp->full)
			frac_add(&seg->months_num, &seg->months_den, 1, 1);
		else if (mp->counted > 0)
			frac_add(&seg->months_num, &seg->months_den, (int64_t) mp->counted * mp->times, mp->basis);
		d = e + 1;
	}
	seg->nfree = 0;
	seg->more_free = false;
	for (i = 0; i < s->nfree; i++)
	{
		LmDate		a = max_date(s->free[i].lo, lo);
		LmDate		b = min_date(s->free[i].hi, hi);

		if (a > b)
			continue;
		if (seg->nfree == LM_MAX_SEGMENT_FREE)
		{
			seg->more_free = true;
			break;
		}
		seg->free[seg->nfree].lo = a;
		seg->free[seg->nfree].hi = b;
		seg->nfree++;
	}
}

int
lm_segments(const LmChargeSchedule *s, const LmPeriod *p, LmSegment *out)
{
	int			n = 0;
	LmDate		lo = p->start;

	while (lo <= p->end && n < LM_MAX_SEGMENTS)
	{
		LmDate		hi = p->end;

		if (s->every_months > 0)
		{
			LmDate		next = lm_step_date(s, lm_step_at(s, lo) + 1);

			if (next <= hi)
				hi = next - 1;
		}
		fill_segment(s, lo, hi, &out[n++]);
		lo = hi + 1;
	}
	return n;
}
