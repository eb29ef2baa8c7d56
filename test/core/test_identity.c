/*
 * test_identity.c: the USCC and resident identity number checks of src/core.
 *
 * Besides known numbers, two properties: every single-character mistake in a valid number
 * is caught (the weights are coprime with the modulus), and no input, however long or odd,
 * makes the checkers read outside it (AddressSanitizer watches every run).
 */
#include <stdlib.h>
#include <string.h>

#include "lm_identity.h"
#include "tap.h"

static LmIdResult
uscc(const char *s)
{
	return lm_check_uscc(s, strlen(s), NULL, NULL);
}

static LmIdResult
cn_id(const char *s)
{
	return lm_check_cn_id(s, strlen(s), NULL, NULL);
}

static void
known_uscc(void)
{
	int			pos = 0;
	char		expected = 0;

	ok(uscc("91350100M000100Y43") == LM_ID_OK, "valid USCC 91350100M000100Y43");
	ok(uscc("91110108551385082Q") == LM_ID_OK, "valid USCC 91110108551385082Q");
	ok(uscc("91350100m000100y43") == LM_ID_OK, "lower case accepted");
	ok(uscc("91350100M000100Y44") == LM_ID_BAD_CHECK, "wrong check character");
	ok(lm_check_uscc("91350100M000100Y44", 18, NULL, &expected) == LM_ID_BAD_CHECK &&
	   expected == '3', "expected check character reported ('3')");
	ok(uscc("91350100M000100Y4") == LM_ID_BAD_LENGTH, "17 characters");
	ok(uscc("91350100M000100Y433") == LM_ID_BAD_LENGTH, "19 characters");
	ok(uscc("") == LM_ID_BAD_LENGTH, "empty");
	ok(lm_check_uscc("91350100I000100Y43", 18, &pos, NULL) == LM_ID_BAD_CHAR && pos == 9,
	   "I is not a USCC character (position 9)");
	ok(uscc("91350100O000100Y43") == LM_ID_BAD_CHAR, "O is not a USCC character");
	ok(uscc("91350100S000100Y43") == LM_ID_BAD_CHAR, "S is not a USCC character");
	ok(uscc("91350100V000100Y43") == LM_ID_BAD_CHAR, "V is not a USCC character");
	ok(uscc("91350100Z000100Y43") == LM_ID_BAD_CHAR, "Z is not a USCC character");
	ok(lm_check_uscc("913A0100M000100Y43", 18, &pos, NULL) == LM_ID_BAD_CHAR && pos == 4,
	   "administrative division (positions 3-8) must be digits");
	ok(uscc("91350100M000100Y4\xc3") == LM_ID_NOT_ASCII, "non-ASCII byte");
	ok(uscc("9135 100M000100Y43") == LM_ID_BAD_CHAR, "space inside");
}

static void
known_cn_id(void)
{
	int			y,
				m,
				d;

	ok(cn_id("11010519491231002X") == LM_ID_OK, "valid ID 11010519491231002X");
	ok(cn_id("11010519491231002x") == LM_ID_OK, "final x is case-insensitive");
	ok(cn_id("320583199003071239") == LM_ID_OK, "valid ID with digit check");
	ok(cn_id("440306200002290017") == LM_ID_OK, "born 2000-02-29 (leap year)");
	ok(cn_id("110105190002290011") == LM_ID_BAD_DATE, "1900-02-29 is not a date (1900 is not leap)");
	ok(cn_id("110105194902310027") == LM_ID_BAD_DATE, "1949-02-31 is not a date");
	ok(cn_id("110105194913310027") == LM_ID_BAD_DATE, "month 13");
	ok(cn_id("110105194912000027") == LM_ID_BAD_DATE, "day 0");
	ok(cn_id("110105189912310027") == LM_ID_BAD_DATE, "born 1899");
	ok(cn_id("110105194912310021") == LM_ID_BAD_CHECK, "wrong check digit");
	ok(cn_id("110105491231002") == LM_ID_BAD_LENGTH, "old 15-digit number");
	ok(cn_id("1101051949123100XX") == LM_ID_BAD_CHAR, "X only in the last position");
	ok(cn_id("11010519491231002Y") == LM_ID_BAD_CHAR, "last character digit or X");
	lm_cn_id_birth_date("11010519491231002X", &y, &m, &d);
	ok(y == 1949 && m == 12 && d == 31, "birth date 1949-12-31 extracted");
}

/* How many one-character substitutions of a valid number the checker accepts (should be 0). */
static int
substitutions_accepted(const char *valid, const char *alphabet,
					   LmIdResult (*check) (const char *), int *tried)
{
	char		buf[19];
	int			accepted = 0;
	int			i;
	const char *c;

	*tried = 0;
	for (i = 0; i < 18; i++)
	{
		for (c = alphabet; *c; c++)
		{
			if (*c == valid[i])
				continue;
			memcpy(buf, valid, 19);
			buf[i] = *c;
			(*tried)++;
			if (check(buf) == LM_ID_OK)
				accepted++;
		}
	}
	return accepted;
}

/* Every substitution of one character by another allowed one must be rejected. */
static void
single_substitutions(void)
{
	int			tried;

	ok(substitutions_accepted("91110108551385082Q", "0123456789ABCDEFGHJKLMNPQRTUWXY", uscc, &tried) == 0,
	   "all %d single-character USCC substitutions rejected", tried);
	ok(substitutions_accepted("320583199003071239", "0123456789X", cn_id, &tried) == 0,
	   "all %d single-character ID substitutions rejected", tried);
}

/* xorshift32: a fixed sequence, so a failure is reproducible. */
static unsigned int
next_random(unsigned int *state)
{
	unsigned int x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

/* Random lengths and bytes, each in its own exactly-sized allocation for ASan. */
static void
random_inputs(void)
{
	unsigned int seed = 20261123;
	int			i,
				accepted = 0;

	for (i = 0; i < 200000; i++)
	{
		size_t		len = (size_t) ((int) (next_random(&seed) >> 1) % 40);
		char	   *s = malloc(len ? len : 1);
		size_t		j;

		for (j = 0; j < len; j++)
		{
			/* Mostly plausible characters, sometimes any byte. */
			int			r = (int) (next_random(&seed) >> 1);

			s[j] = (r % 8 == 0) ? (char) (r >> 8) : "0123456789ABXYxyz"[(r >> 4) % 17];
		}
		if (lm_check_uscc(s, len, NULL, NULL) == LM_ID_OK)
			accepted++;
		if (lm_check_cn_id(s, len, NULL, NULL) == LM_ID_OK)
			accepted++;
		free(s);
	}
	ok(1, "200000 random inputs checked without a fault (%d happened to be valid)", accepted);
}

int
main(void)
{
	known_uscc();
	known_cn_id();
	single_substitutions();
	random_inputs();
	return done_testing();
}
