/*
 * lm_calendar.h
 *     Dates for the billing engine, without PostgreSQL: days since 2000-01-01 (the same
 *     numbers as PostgreSQL's DateADT), calendar months, and adding months the way leases do.
 */
#ifndef LM_CALENDAR_H
#define LM_CALENDAR_H

#include <stdint.h>

typedef int32_t LmDate;			/* days since 2000-01-01 */

extern LmDate lm_date(int year, int month, int day);
extern void lm_ymd(LmDate d, int *year, int *month, int *day);
extern int	lm_is_leap_year(int year);
extern int	lm_days_in_month(int year, int month);

/* Months counted from year 0: year * 12 + month - 1. */
extern int	lm_month_index(LmDate d);
extern LmDate lm_month_from_index(int index);

extern LmDate lm_month_start(LmDate d);
extern LmDate lm_month_end(LmDate d);

/* The same day n months later (or earlier), clamped to the end of a shorter month. */
extern LmDate lm_add_months(LmDate d, int n);

#endif							/* LM_CALENDAR_H */
