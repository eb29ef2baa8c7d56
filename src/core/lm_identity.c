/*
 * lm_identity.c
 *     Check characters of the unified social credit code (GB 32100-2015) and of the
 *     resident identity number (GB 11643-1999, ISO 7064 MOD 11-2).
 *
 * Both numbers are 18 characters whose last character is computed from the first 17, so a
 * typo is caught at entry instead of surfacing later as a tenant nobody can invoice.
 */
#include "lm_identity.h"

#include <stdbool.h>

#define ID_LEN 18

/* GB 32100-2015 character set, in value order: I, O, S, V and Z are never used. */
static const char uscc_charset[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
static const int uscc_weights[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};

/* GB 11643-1999: weights are 2^(17-i) mod 11; the sum mod 11 indexes the check table. */
static const int cn_id_weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
static const char cn_id_check[11] = {'1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'};

static char
upper_ascii(char c)
{
	if (c >= 'a' && c <= 'z')
		return (char) (c - ('a' - 'A'));
	return c;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Value of a USCC character (0..30), or -1 when the character is not in the set. */
static int
uscc_value(char c)
{
	int			i;

	c = upper_ascii(c);
	for (i = 0; uscc_charset[i] != '\0'; i++)
	{
		if (uscc_charset[i] == c)
			return i;
	}
	return -1;
}

/*
 * Length is counted in bytes, so any multibyte character is reported as such first: an
 * 18-byte string with a two-byte character is not "17 characters long" to the caller.
 */
static LmIdResult
check_shape(const char *s, size_t len)
{
	size_t		i;

	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c < 0x20 || c > 0x7e)
			return LM_ID_NOT_ASCII;
	}
	return len == ID_LEN ? LM_ID_OK : LM_ID_BAD_LENGTH;
}

LmIdResult
lm_check_uscc(const char *s, size_t len, int *position, char *expected)
{
	LmIdResult	shape = check_shape(s, len);
	int			sum = 0;
	int			i;
	int			check;

	if (shape != LM_ID_OK)
		return shape;

	for (i = 0; i < ID_LEN; i++)
	{
		int			v = uscc_value(s[i]);

		/* Positions 3-8 are the administrative division code: digits only. */
		if (v < 0 || (i >= 2 && i <= 7 && !is_digit(s[i])))
		{
			if (position)
				*position = i + 1;
			return LM_ID_BAD_CHAR;
		}
		if (i < 17)
			sum += v * uscc_weights[i];
	}

	check = (31 - sum % 31) % 31;
	if (expected)
		*expected = uscc_charset[check];
	if (uscc_value(s[17]) != check)
		return LM_ID_BAD_CHECK;
	return LM_ID_OK;
}

static bool
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
digits_value(const char *s, int n)
{
	int			v = 0;
	int			i;

	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

void
lm_cn_id_birth_date(const char *s, int *year, int *month, int *day)
{
	*year = digits_value(s + 6, 4);
	*month = digits_value(s + 10, 2);
	*day = digits_value(s + 12, 2);
}

LmIdResult
lm_check_cn_id(const char *s, size_t len, int *position, char *expected)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	LmIdResult	shape = check_shape(s, len);
	int			sum = 0;
	int			i;
	int			y,
				m,
				d;
	char		want;

	if (shape != LM_ID_OK)
		return shape;

	for (i = 0; i < 17; i++)
	{
		if (!is_digit(s[i]))
		{
			if (position)
				*position = i + 1;
			return LM_ID_BAD_CHAR;
		}
		sum += (s[i] - '0') * cn_id_weights[i];
	}
	if (!is_digit(s[17]) && upper_ascii(s[17]) != 'X')
	{
		if (position)
			*position = 18;
		return LM_ID_BAD_CHAR;
	}

	/* Positions 7-14 are the birth date YYYYMMDD; 1900 is the standard's practical floor. */
	lm_cn_id_birth_date(s, &y, &m, &d);
	if (y < 1900 || m < 1 || m > 12 || d < 1 ||
		d > mdays[m - 1] + ((m == 2 && is_leap(y)) ? 1 : 0))
		return LM_ID_BAD_DATE;

	want = cn_id_check[sum % 11];
	if (expected)
		*expected = want;
	if (upper_ascii(s[17]) != want)
		return LM_ID_BAD_CHECK;
	return LM_ID_OK;
}
