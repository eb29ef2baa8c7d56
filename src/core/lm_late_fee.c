/*
 * lm_late_fee.c
 *     Which days a bill's unpaid principal accrues a late fee, and how much was unpaid on each.
 *
 * The unpaid principal is a step function of the day: it starts at the principal and drops
 * by each allocation on its effective day. Accrual is that function summed over the days
 * due_on + grace_days + 1 .. as_of - 1; the segments are its steps inside that window.
 * Day arithmetic is done in 64 bits, so no grace period or date makes it overflow.
 */
#include "lm_late_fee.h"

/* unpaid less a payment, never below zero (and never overflowing). */
static int64_t
less(int64_t unpaid, int64_t cents)
{
	return cents >= unpaid ? 0 : unpaid - cents;
}

int
lm_late_fee_accrual(LmDate due_on, int32_t grace_days, LmDate as_of, int64_t principal_cents,
					const LmPaidPart *paid, int npaid, LmAccrual *out)
{
	int64_t		first = (int64_t) due_on + grace_days + 1;	/* first day that accrues */
	int64_t		last = (int64_t) as_of - 1; /* last day that accrues */
	int64_t		unpaid = principal_cents > 0 ? principal_cents : 0;
	int64_t		day;
	int			n = 0;
	int			i;

	for (i = 0; i < npaid; i++)
		if (paid[i].cents < 0 || (i > 0 && paid[i].on < paid[i - 1].on))
			return -1;

	/* What was paid before accrual starts never accrues. */
	for (i = 0; i < npaid && paid[i].on <= first; i++)
		unpaid = less(unpaid, paid[i].cents);

	day = first;
	while (day <= last)
	{
		/* The segment runs until the day before the next payment, or to the last day. */
		int64_t		end = (i < npaid && paid[i].on <= last) ? (int64_t) paid[i].on - 1 : last;

		if (unpaid > 0 && end >= day)
		{
			out[n].from = (LmDate) day;
			out[n].to = (LmDate) end;
			out[n].days = end - day + 1;
			out[n].unpaid_cents = unpaid;
			n++;
		}
		if (end == last)
			break;
		/* Every payment of that day stops accrual on its part from that day on. */
		day = paid[i].on;
		while (i < npaid && paid[i].on == day)
			unpaid = less(unpaid, paid[i++].cents);
	}
	return n;
}

int64_t
lm_days_not_frozen(LmDate from, LmDate to, const LmDateRange *frozen, int nfrozen)
{
	int64_t		days;
	LmDate		d;

	if (from > to)
		return 0;
	days = (int64_t) to - from + 1;

	/*
	 * Walk the frozen days in order, each counted once however the ranges overlap: d is the
	 * first day not yet looked at. n is small (a contract's amendments), so n^2 is fine.
	 */
	d = from;
	for (;;)
	{
		int			i;
		int			best = -1;

		/* the range holding d, else the first that starts after d */
		for (i = 0; i < nfrozen; i++)
		{
			if (frozen[i].hi < d || frozen[i].lo > to || frozen[i].lo > frozen[i].hi)
				continue;
			if (best < 0 || (frozen[i].lo <= d ? d : frozen[i].lo) < (frozen[best].lo <= d ? d : frozen[best].lo) ||
				((frozen[i].lo <= d ? d : frozen[i].lo) == (frozen[best].lo <= d ? d : frozen[best].lo) &&
				 frozen[i].hi > frozen[best].hi))
				best = i;
		}
		if (best < 0)
			break;
		{
			LmDate		lo = frozen[best].lo <= d ? d : frozen[best].lo;
			LmDate		hi = frozen[best].hi < to ? frozen[best].hi : to;

			days -= (int64_t) hi - lo + 1;
			if (hi >= to)
				break;
			d = hi + 1;
		}
	}
	return days;
}
