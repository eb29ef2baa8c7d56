/*
 * lm_late_fee.h
 *     The day count of a late fee, without PostgreSQL and without rates: over which days the
 *     principal of a bill accrues, and how much of it was unpaid on each of those days.
 *     src/late_fee.c multiplies the result by the daily rate with PostgreSQL numeric, caps it
 *     and rounds once.
 *
 * Accrual runs on the days due_on + grace_days + 1 through as_of - 1, both inclusive. A
 * principal allocation that counts from day D (its effective_on) stops accrual on its amount
 * from D on, so late_fee(bill, as_of) is the fee owed if the rest is paid on as_of.
 */
#ifndef LM_LATE_FEE_H
#define LM_LATE_FEE_H

#include <stdint.h>

#include "lm_calendar.h"

/* Principal paid: cents that count from day `on`. */
typedef struct LmPaidPart
{
	LmDate		on;
	int64_t		cents;
} LmPaidPart;

/* Days lo..hi, both inclusive. */
typedef struct LmDateRange
{
	LmDate		lo;
	LmDate		hi;
} LmDateRange;

/* Days from..to (inclusive, `days` of them) on which `unpaid_cents` accrued. */
typedef struct LmAccrual
{
	LmDate		from;
	LmDate		to;
	int64_t		days;
	int64_t		unpaid_cents;
} LmAccrual;

/*
 * The accrual segments of a bill's principal, oldest first, written to out (room for
 * npaid + 1). paid: the principal allocations, sorted by day (several on one day allowed).
 * Segments with nothing unpaid are left out, so a bill paid in full within the grace days
 * has none; a principal of zero or less accrues nothing, and allocations beyond the principal
 * leave nothing unpaid (never a negative amount). Returns the number of segments, or -1 when paid is not sorted by day or holds
 * a negative amount.
 */
extern int	lm_late_fee_accrual(LmDate due_on, int32_t grace_days, LmDate as_of,
								int64_t principal_cents, const LmPaidPart *paid, int npaid,
								LmAccrual *out);

/*
 * The days of from..to (inclusive) outside every range of frozen (days an amendment froze
 * the contract: no late fee accrues on them). Ranges are inclusive, in any order, may
 * overlap. 0 when from > to.
 */
extern int64_t lm_days_not_frozen(LmDate from, LmDate to, const LmDateRange *frozen, int nfrozen);

#endif							/* LM_LATE_FEE_H */
