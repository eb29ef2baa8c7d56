/*
 * allocation.c
 *     largest_remainder(): the one place a shared cost is cut into cents. leasemgr.allocate()
 *     (sql/88_allocation.sql) computes each party's basis and calls this to split the pool so
 *     the shares add up to it exactly; the arithmetic is the core's lm_largest_remainder.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/numeric.h"

#include "leasemgr.h"
#include "lm_meter.h"

PG_FUNCTION_INFO_V1(largest_remainder);

#define WEIGHT_SCALE 10000		/* weights are taken to 4 decimals */

/* v x scale as an exact int64, or false (more decimals than the scale, or too large). */
static bool
scaled_int64(Numeric v, int64 scale, int64 *out)
{
	Numeric		scaled = lm_num_mul(v, lm_num(scale));
	Numeric		whole = DatumGetNumeric(DirectFunctionCall2(numeric_trunc, NumericGetDatum(scaled), Int32GetDatum(0)));
	Numeric		limit = lm_num(PG_INT64_MAX / 4);

	if (numeric_is_nan(v) || numeric_is_inf(v) || lm_num_cmp(scaled, whole) != 0 ||
		lm_num_cmp(whole, limit) > 0 || lm_num_cmp(lm_num_sub(lm_num(0), whole), limit) > 0)
		return false;
	*out = DatumGetInt64(DirectFunctionCall1(numeric_int8, NumericGetDatum(whole)));
	return true;
}

/*
 * largest_remainder(total numeric, weights numeric[]) RETURNS numeric[]
 *
 * total (CNY, at most 2 decimals) split in proportion to weights (>= 0, at most 4 decimals,
 * not all 0): each share floored to the cent, the cents left one each to the largest
 * remainders, ties to the earlier weight. The shares add up to total exactly.
 */
Datum
largest_remainder(PG_FUNCTION_ARGS)
{
	Numeric		total = PG_GETARG_NUMERIC(0);
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(1);
	Datum	   *elems;
	bool	   *nulls;
	int			n,
				i;
	int64		cents;
	int64	   *weights;
	int64	   *shares;
	Datum	   *out;

	if (!scaled_int64(total, 100, &cents))
		ereport(ERROR,
				(errcode(ERRCODE_LM_INVALID_ARGUMENT),
				 errmsg("cannot split %s into cents", DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(total)))),
				 errdetail("A pool to split is an amount in CNY with at most 2 decimals."),
				 errhint("Round the pool to the cent first, once.")));
	deconstruct_array(arr, NUMERICOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	weights = palloc(sizeof(int64) * Max(n, 1));
	shares = palloc(sizeof(int64) * Max(n, 1));
	for (i = 0; i < n; i++)
		if (nulls[i] || !scaled_int64(DatumGetNumeric(elems[i]), WEIGHT_SCALE, &weights[i]) || weights[i] < 0)
			ereport(ERROR,
					(errcode(ERRCODE_LM_INVALID_ARGUMENT),
					 errmsg("weight %d cannot split a pool", i + 1),
					 errdetail("Weights are numbers of 0 or more with at most 4 decimals."),
					 errhint("Pass each party's basis (kWh, m2 x days, kW x days, heads x days, percent).")));
	if (!lm_largest_remainder(cents, weights, n, shares))
		ereport(ERROR,
				(errcode(ERRCODE_LM_INVALID_ARGUMENT),
				 errmsg("nothing to split %s by", DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(total)))),
				 errdetail("The weights are empty or add up to 0."),
				 errhint("A pool is split among parties with a basis above 0.")));
	out = palloc(sizeof(Datum) * Max(n, 1));
	for (i = 0; i < n; i++)
		out[i] = NumericGetDatum(int64_div_fast_to_numeric(shares[i], 2));
	PG_RETURN_ARRAYTYPE_P(construct_array(out, n, NUMERICOID, -1, false, TYPALIGN_INT));
}
