/*
 * money.c
 *     Exact money arithmetic on PostgreSQL numeric, and the one rounding function.
 *
 * Every amount the extension computes (bill lines, late fees) is an exact fraction
 * num / den of numerics until lm_money_round turns it into cents: half-up, that is half a
 * cent and more rounds away from zero. Nothing else in the extension rounds money.
 * numeric multiplication and addition are exact (the result carries all digits), and the
 * division below is an integer division with remainder, so no digit is lost on the way.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/numeric.h"

#include "leasemgr.h"

Numeric
lm_num(int64 v)
{
	return int64_to_numeric(v);
}

Numeric
lm_num_mul(Numeric a, Numeric b)
{
	return numeric_mul_opt_error(a, b, NULL);
}

Numeric
lm_num_add(Numeric a, Numeric b)
{
	return numeric_add_opt_error(a, b, NULL);
}

Numeric
lm_num_sub(Numeric a, Numeric b)
{
	return numeric_sub_opt_error(a, b, NULL);
}

int
lm_num_cmp(Numeric a, Numeric b)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(a), NumericGetDatum(b)));
}

/*
 * num / den rounded half-up to the cent, as numeric(16,2)-compatible scale 2. den > 0.
 * |num| x 100 = q x den + r with 0 <= r < den; the cents are q, plus one when 2r >= den,
 * with the sign of num.
 */
Numeric
lm_money_round(Numeric num, Numeric den)
{
	Numeric		zero = lm_num(0);
	bool		negative = lm_num_cmp(num, zero) < 0;
	Numeric		scaled = lm_num_mul(negative ? lm_num_sub(zero, num) : num, lm_num(100));
	Numeric		q;
	Numeric		r;

	if (lm_num_cmp(den, zero) <= 0)
		elog(ERROR, "lm_money_round: denominator must be positive");
	q = DatumGetNumeric(DirectFunctionCall2(numeric_div_trunc, NumericGetDatum(scaled),
											NumericGetDatum(den)));
	r = lm_num_sub(scaled, lm_num_mul(q, den));
	if (lm_num_cmp(lm_num_add(r, r), den) >= 0)
		q = lm_num_add(q, lm_num(1));
	if (negative)
		q = lm_num_sub(zero, q);
	/* cents -> CNY with exactly two decimals */
	return DatumGetNumeric(DirectFunctionCall2(numeric_round,
											   NumericGetDatum(numeric_div_opt_error(q, lm_num(100), NULL)),
											   Int32GetDatum(2)));
}

/* An amount as a tenant reads it: 5,529.68 (thousands separated, two decimals). */
char *
lm_money_text(Numeric amount)
{
	char	   *plain = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(
		DatumGetNumeric(DirectFunctionCall2(numeric_round, NumericGetDatum(amount), Int32GetDatum(2))))));
	const char *digits = plain[0] == '-' ? plain + 1 : plain;
	const char *dot = strchr(digits, '.');
	int			intlen = dot ? (int) (dot - digits) : (int) strlen(digits);
	StringInfoData out;
	int			i;

	initStringInfo(&out);
	if (plain[0] == '-')
		appendStringInfoChar(&out, '-');
	for (i = 0; i < intlen; i++)
	{
		if (i > 0 && (intlen - i) % 3 == 0)
			appendStringInfoChar(&out, ',');
		appendStringInfoChar(&out, digits[i]);
	}
	appendStringInfoString(&out, dot ? dot : ".00");
	return out.data;
}
