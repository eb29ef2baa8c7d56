/*
 * lm_schedule.h
 *     The calendar of a charge, without PostgreSQL and without money: its billing periods,
 *     the segments a period is cut into where the rate steps, the days of each month that are
 *     charged (free rent taken out), and the exact fraction of a month each segment is worth
 *     under the charge's proration convention. src/billing.c multiplies these fractions by
 *     the rate with PostgreSQL numeric and rounds once.
 */
#ifndef LM_SCHEDULE_H
#define LM_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

#include "lm_calendar.h"

typedef enum LmProration
{
	LM_PRORATE_ACTUAL_DAYS = 0,	/* charged days / days in that month */
	LM_PRORATE_THIRTY_360,		/* every month has 30 days */
	LM_PRORATE_ANNUAL_365		/* 12 x charged days / 365 */
} LmProration;

/* Days from lo to hi, both inclusive. */
typedef struct LmRange
{
	LmDate		lo;
	LmDate		hi;
} LmRange;

typedef struct LmChargeSchedule
{
	LmDate		from;			/* first day charged */
	LmDate		to;				/* last day charged (a termination already applied) */
	int			cycle_months;	/* 1, 3, 6, 12 */
	bool		arrears;		/* billed the month after the period, else the month it starts */
	int			due_day;		/* 1..31 */
	LmProration proration;
	int			every_months;	/* escalation interval; 0 for none */
	LmDate		anchor;			/* steps at anchor + k x every_months, k >= 1 */
	const LmRange *free;		/* free days of this charge's kind: sorted, disjoint */
	int			nfree;
} LmChargeSchedule;

typedef struct LmPeriod
{
	int			index;			/* 0 for the period containing from */
	LmDate		start;
	LmDate		end;
	LmDate		bill_month;		/* first day of the month it is billed in */
	LmDate		due_on;			/* due_day of the billing month, clamped to its end */
} LmPeriod;

/* A calendar month of a segment and how much of it is charged. */
typedef struct LmMonthPart
{
	LmDate		month;			/* first day */
	int			days;			/* days of the month inside the segment */
	int			charged;		/* of those, days not free */
	bool		full;			/* every day of the month is charged: one monthly amount */
	int			counted;		/* partial month: numerator of the fraction ... */
	int			basis;			/* ... and its denominator (days in month, 30, or 365) */
	int			times;			/* annual_365: the fraction is counted x 12 / 365 */
} LmMonthPart;

#define LM_MAX_SEGMENT_MONTHS 12
#define LM_MAX_SEGMENTS 13
#define LM_MAX_SEGMENT_FREE 8

typedef struct LmSegment
{
	LmDate		start;
	LmDate		end;
	int			step;			/* escalation steps in force (0 before the first) */
	LmDate		step_from;		/* date that step took effect */
	int			charged_days;	/* days of the segment not free */
	int64_t		months_num;		/* months charged, exactly: months_num / months_den */
	int64_t		months_den;
	int			nmonths;
	LmMonthPart months[LM_MAX_SEGMENT_MONTHS];
	int			nfree;			/* free days inside the segment, for the explanation */
	LmRange		free[LM_MAX_SEGMENT_FREE];
	bool		more_free;		/* more free ranges than listed */
} LmSegment;

/* The number of periods of the schedule (0 when from > to). */
extern int	lm_period_count(const LmChargeSchedule *s);

/* Period k, 0 <= k < lm_period_count(s). */
extern LmPeriod lm_period(const LmChargeSchedule *s, int k);

/* The index of the period containing day d (clamped into 0 .. count - 1). */
extern int	lm_period_of(const LmChargeSchedule *s, LmDate d);

/* The day escalation step k (>= 1) takes effect. */
extern LmDate lm_step_date(const LmChargeSchedule *s, int k);

/* The step in force on day d: 0 before the first step or without escalation. */
extern int	lm_step_at(const LmChargeSchedule *s, LmDate d);

/* Cut a period into segments at escalation steps; returns how many (<= LM_MAX_SEGMENTS). */
extern int	lm_segments(const LmChargeSchedule *s, const LmPeriod *p, LmSegment *out);

/* The day the billing month's due day falls on. */
extern LmDate lm_due_date(LmDate bill_month, int due_day);

#endif							/* LM_SCHEDULE_H */
