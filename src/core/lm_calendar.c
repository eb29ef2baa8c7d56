/*
 * lm_calendar.c
 *     Proleptic Gregorian dates as day numbers (days since 2000-01-01).
 *
 * The conversion is the well-known days-from-civil algorithm over 400-year eras: exact for
 * every date PostgreSQL accepts, no tables, no floating point.
 */
#include "lm_calendar.h"

/* Days from 0000-03-01 to 2000-01-01 in the era arithmetic below. */
#define LM_EPOCH_SHIFT 730425

LmDate
lm_date(int year, int month, int day)
{
	int			y = year - (month <= 2);
	int			era = (y >= 0 ? y : y - 399) / 400;
	int			yoe = y - era * 400;
	int			doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
	int			doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return (LmDate) (era * 146097 + doe - LM_EPOCH_SHIFT);
}

void
lm_ymd(LmDate d, int *year, int *month, int *day)
{
	int			z = d + LM_EPOCH_SHIFT;
	int			era = (z >= 0 ? z : z - 146096) / 146097;
	int			doe = z - era * 146097;
	int			yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int			doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int			mp = (5 * doy + 2) / 153;
	int			m = mp < 10 ? mp + 3 : mp - 9;

	*day = doy - (153 * mp + 2) / 5 + 1;
	*month = m;
	*year = yoe + era * 400 + (m <= 2);
}

int
lm_is_leap_year(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int
lm_days_in_month(int year, int month)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return month == 2 && lm_is_leap_year(year) ? 29 : days[month - 1];
}

int
lm_month_index(LmDate d)
{
	int			y,
				m,
				day;

	lm_ymd(d, &y, &m, &day);
	return y * 12 + m - 1;
}

LmDate
lm_month_from_index(int index)
{
	int			y = index >= 0 ? index / 12 : -((11 - index) / 12);

	return lm_date(y, index - y * 12 + 1, 1);
}

LmDate
lm_month_start(LmDate d)
{
	return lm_month_from_index(lm_month_index(d));
}

LmDate
lm_month_end(LmDate d)
{
	return lm_month_from_index(lm_month_index(d) + 1) - 1;
}

LmDate
lm_add_months(LmDate d, int n)
{
	int			y,
				m,
				day,
				dim;
	int			index;

	lm_ymd(d, &y, &m, &day);
	index = y * 12 + m - 1 + n;
	y = index >= 0 ? index / 12 : -((11 - index) / 12);
	m = index - y * 12 + 1;
	dim = lm_days_in_month(y, m);
	return lm_date(y, m, day < dim ? day : dim);
}
