/*
 * contract_terms.c
 *     Rows that belong to a contract: its charges, free-rent periods and turnover reports.
 *     They take their park from the contract, stay within its lease, and (charges and free
 *     rent, which are terms) change only while the contract is a draft.
 *
 * The lookup of the contract is shared with contract_unit.c. It locks the contract FOR SHARE,
 * so a submit running at the same moment waits for the term change and then sees it.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/rangetypes.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/typcache.h"

#include "leasemgr.h"
#include "billing.h"
#include "lm_calendar.h"
#include "lm_contract_states.h"

PG_FUNCTION_INFO_V1(contract_term_before_write);

LmContractFacts
lm_lookup_contract(Datum contract_id)
{
	static SPIPlanPtr plan = NULL;
	LmContractFacts f = {0};
	HeapTuple	t;
	TupleDesc	d;
	bool		isnull;
	char	   *state;

	if (plan == NULL)
	{
		Oid			argtypes[1] = {INT8OID};

		plan = lm_keep_plan("SELECT state, park_id, lease_range, is_live, code, start_date, end_date "
							"FROM leasemgr.contract WHERE id OPERATOR(pg_catalog.=) $1 FOR SHARE",
							1, argtypes);
	}
	if (SPI_execute_plan(plan, &contract_id, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "contract query failed");
	if (SPI_processed == 0)
		return f;

	t = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	f.found = true;
	f.code = SPI_getvalue(t, d, 5);
	state = SPI_getvalue(t, d, 1);
	if (state == NULL || lm_state_from_name(state) < 0)
		elog(ERROR, "contract %s has an unknown state", f.code);
	f.state = lm_state_from_name(state);
	f.park_id = DatumGetInt64(SPI_getbinval(t, d, 2, &isnull));
	f.lease_range = SPI_datumTransfer(SPI_getbinval(t, d, 3, &isnull), false, -1);
	f.is_live = DatumGetBool(SPI_getbinval(t, d, 4, &isnull));
	f.start_date = DatumGetDateADT(SPI_getbinval(t, d, 6, &isnull));
	f.end_date = DatumGetDateADT(SPI_getbinval(t, d, 7, &isnull));
	return f;
}

/*
 * May the terms of this contract change now? In draft, by anyone with the rights; in
 * amending, only while leasemgr.amendment_approve applies that contract's amendment
 * (lm_amendment_applying, set by C code only): there is no other path to a live lease's terms.
 */
bool
lm_terms_editable(const LmContractFacts *f, Datum contract_id)
{
	return f->state == LM_CS_DRAFT ||
		(f->state == LM_CS_AMENDING && lm_amendment_applying == DatumGetInt64(contract_id));
}

void
lm_refuse_term_change(const LmContractFacts *f, const char *terms, const char *editable,
					  const char *what)
{
	if (lm_state_is_final((LmContractState) f->state))
		ereport(ERROR,
				(errcode(ERRCODE_LM_READ_ONLY),
				 errmsg("contract %s is %s and can no longer change", f->code,
						lm_state_name((LmContractState) f->state)),
				 errdetail("Cannot %s.", what),
				 errhint("Closed and cancelled contracts are kept exactly as they ended.")));
	ereport(ERROR,
			(errcode(ERRCODE_LM_TERMS_LOCKED),
			 errmsg("the %s of contract %s are locked", terms, f->code),
			 errdetail("Contract %s is %s; %s change only while the contract is a draft (cannot %s).",
					   f->code, lm_state_name((LmContractState) f->state), editable, what),
			 errhint("Change a live contract through an amendment (leasemgr.amendment_open); a contract under review can be rejected back to draft first.")));
}

void
lm_row_not_found(const char *what, Datum id)
{
	ereport(ERROR,
			(errcode(ERRCODE_LM_NOT_FOUND),
			 errmsg("%s %lld does not exist", what, (long long) DatumGetInt64(id)),
			 errhint("Check the id; rows of parks you have not been granted are not visible to you.")));
}

void
lm_check_park_of_contract(const LmRow *row, int park_att, const LmContractFacts *f)
{
	if (!lm_row_null(row, park_att) &&
		DatumGetInt64(lm_row_datum(row, park_att)) != f->park_id)
		ereport(ERROR,
				(errcode(ERRCODE_LM_PARK_MISMATCH),
				 errmsg("park_id %s does not match the park of contract %s",
						lm_row_text(row, park_att), f->code),
				 errdetail("Contract %s belongs to park %lld.", f->code, (long long) f->park_id),
				 errhint("Leave park_id empty: it is taken from the contract.")));
}

/* ---- the trigger ---------------------------------------------------------------- */

typedef enum TermTable
{
	TT_CHARGE,
	TT_FREE_RENT,
	TT_TURNOVER
} TermTable;

/* Columns of all three tables; a table lacks some (attnum 0). */
enum
{
	T_ID, T_PARK_ID, T_CONTRACT_ID,
	/* charge */
	T_BASIS, T_KIND, T_RATE, T_BREAKPOINT, T_VALID_FROM, T_VALID_TO, T_CYCLE, T_ESCALATION,
	T_ANCHOR, T_CPI_SERIES, T_CPI_BASE, T_CPI_LAG, T_BILLED,
	T_TIERS, T_TIER_RATES, T_TOU_REGISTERS, T_TOU_RATES,
	T_AREA, T_CONTINUES, T_AMENDMENT,
	/* free_rent_period */
	T_DAYS,
	/* turnover_report */
	T_MONTH,
	T__COUNT
};
static const char *const term_colnames[T__COUNT] = {
	"id", "park_id", "contract_id",
	"basis", "kind", "rate", "breakpoint", "valid_from", "valid_to", "cycle_months", "escalation",
	"escalation_anchor", "cpi_series", "cpi_base_month", "cpi_lag_months", "billed",
	"tiers", "tier_rates", "tou_registers", "tou_rates",
	"area_m2", "continues_charge_id", "amendment_id",
	"days", "month"
};

typedef struct TermCache
{
	LmStatementCache base;
	TermTable	table;
	int			att[T__COUNT];
} TermCache;

static TermCache *
term_cache(FunctionCallInfo fcinfo, Relation rel)
{
	bool		fresh;
	TermCache  *cache = lm_statement_cache(fcinfo, rel, sizeof(TermCache), &fresh);
	const char *name = RelationGetRelationName(rel);
	int			first,
				last,
				i;

	if (!fresh)
		return cache;
	if (strcmp(name, "charge") == 0)
		cache->table = TT_CHARGE, first = T_BASIS, last = T_AMENDMENT;
	else if (strcmp(name, "free_rent_period") == 0)
		cache->table = TT_FREE_RENT, first = last = T_DAYS;
	else if (strcmp(name, "turnover_report") == 0)
		cache->table = TT_TURNOVER, first = last = T_MONTH;
	else
		elog(ERROR, "contract_term_before_write does not apply to table %s", name);
	for (i = 0; i < T__COUNT; i++)
		cache->att[i] = (i <= T_CONTRACT_ID || (i >= first && i <= last))
			? lm_attnum(rel, term_colnames[i]) : 0;
	return cache;
}

static const char *
table_terms(TermTable t)
{
	return t == TT_CHARGE ? "charges" : t == TT_FREE_RENT ? "free-rent periods" : "turnover reports";
}

/* One row of the table, for "cannot add a charge" (a closed contract's detail says only that). */
static const char *
table_term(TermTable t)
{
	return t == TT_CHARGE ? "charge" : t == TT_FREE_RENT ? "free-rent period" : "turnover report";
}

/* Dates a term must lie in: the agreed lease, start_date through end_date. */
static void
check_within_lease(const LmContractFacts *f, DateADT from, DateADT to, const char *what)
{
	if (from < f->start_date || to > f->end_date)
		ereport(ERROR,
				(errcode(ERRCODE_LM_INVALID_LEASE_DATES),
				 errmsg("%s %s..%s is outside the lease of contract %s", what,
						lm_date_text(from), lm_date_text(to), f->code),
				 errdetail("Contract %s runs from %s to %s inclusive.", f->code,
						   lm_date_text(f->start_date), lm_date_text(f->end_date)),
				 errhint("Give dates within the lease.")));
}

static void
refuse_charge(const char *msg, const char *detail, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_LM_INVALID_CHARGE),
			 errmsg("%s", msg), errdetail("%s", detail), errhint("%s", hint)));
}

/* The index value of one month must exist (LM013). */
static void
check_price_index(Datum series, DateADT month, const char *why)
{
	if (lm_price_index(TextDatumGetCString(series), month) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_LM_PRICE_INDEX_MISSING),
				 errmsg("price index %s has no value for %s", TextDatumGetCString(series),
						lm_date_text(month)),
				 errdetail("%s", why),
				 errhint("Load the month into leasemgr.price_index (series, month, value) first.")));
}

/* The numbers of a numeric[] column (no NULL elements), or -1 for NULL elements. */
static int
numeric_array(Datum d, Datum **elems)
{
	ArrayType  *a = DatumGetArrayTypeP(d);
	bool	   *nulls;
	int			n,
				i;

	deconstruct_array(a, NUMERICOID, -1, false, TYPALIGN_INT, elems, &nulls, &n);
	for (i = 0; i < n; i++)
		if (nulls[i])
			return -1;
	return n;
}

static bool
numeric_positive(Datum n)
{
	return DatumGetBool(DirectFunctionCall2(numeric_gt, n, DirectFunctionCall1(int4_numeric, Int32GetDatum(0))));
}

/* Block and time-of-use prices of a metered charge: ascending positive break points, positive rates. */
static void
check_metered_prices(const LmRow *new, const int *att)
{
	Datum	   *v;
	int			n,
				i;

	if (!lm_row_null(new, att[T_TIERS]))
	{
		n = numeric_array(lm_row_datum(new, att[T_TIERS]), &v);
		for (i = 0; i < n; i++)
			if (!numeric_positive(v[i]) ||
				(i > 0 && !DatumGetBool(DirectFunctionCall2(numeric_gt, v[i], v[i - 1]))))
				break;
		if (n < 0 || i < n)
			refuse_charge(psprintf("tiers %s are not ascending break points", lm_row_text(new, att[T_TIERS])),
						  "Break points are the month's consumption at which the next block's price starts: more than 0, each above the one before.",
						  "Pass them in ascending order, e.g. '{200,400}', with one price per break point in tier_rates.");
	}
	if (!lm_row_null(new, att[T_TIER_RATES]) || !lm_row_null(new, att[T_TOU_RATES]))
	{
		int			col = lm_row_null(new, att[T_TIER_RATES]) ? T_TOU_RATES : T_TIER_RATES;

		n = numeric_array(lm_row_datum(new, att[col]), &v);
		for (i = 0; i < n; i++)
			if (!numeric_positive(v[i]))
				break;
		if (n < 0 || i < n)
			refuse_charge(psprintf("%s %s must all be greater than zero", term_colnames[col], lm_row_text(new, att[col])),
						  "Each is a price in CNY per unit consumed.",
						  "A block or register that costs nothing is left out of the price.");
	}
	if (!lm_row_null(new, att[T_TOU_REGISTERS]))
	{
		Datum	   *regs;
		bool	   *nulls;
		int			j;

		deconstruct_array(DatumGetArrayTypeP(lm_row_datum(new, att[T_TOU_REGISTERS])), TEXTOID, -1, false,
						  TYPALIGN_INT, &regs, &nulls, &n);
		for (i = 0; i < n; i++)
		{
			bool		dup = false;

			for (j = 0; j < i && !nulls[i]; j++)
				dup = dup || (!nulls[j] && strcmp(TextDatumGetCString(regs[i]), TextDatumGetCString(regs[j])) == 0);
			if (nulls[i] || dup)
				refuse_charge(psprintf("tou_registers %s must name each register once",
									   lm_row_text(new, att[T_TOU_REGISTERS])),
							  "Each register of a time-of-use price has one price.",
							  "Pass distinct register names, e.g. '{peak,flat,valley}', with their prices in tou_rates.");
		}
	}
}

/* Defaults and checks of a charge row; the table's CHECK constraints back them up. */
/*
 * area_m2, continues_charge_id and amendment_id record what an approved amendment did to a
 * charge: only its application writes them (in draft too), so no continuation is forged.
 */
static void
check_amendment_columns(const LmRow *old, const LmRow *new, const int *att, const LmContractFacts *f,
						Datum contract_id)
{
	static const int cols[] = {T_AREA, T_CONTINUES, T_AMENDMENT};
	int			i;

	if (lm_amendment_applying == DatumGetInt64(contract_id))
		return;
	for (i = 0; i < (int) lengthof(cols); i++)
	{
		int			attnum = att[cols[i]];

		if (old == NULL ? !lm_row_null(new, attnum) : lm_row_changed(old, new, attnum))
			ereport(ERROR,
					(errcode(ERRCODE_LM_TERMS_LOCKED),
					 errmsg("charge.%s of contract %s is written by amendments only", term_colnames[cols[i]], f->code),
					 errdetail("It records what an approved amendment did to the charge (a pinned area, a continuation); it was %s and would be %s.",
							   old == NULL ? "empty" : lm_row_text(old, attnum), lm_row_text(new, attnum)),
					 errhint("Leave it empty; change a live contract through leasemgr.amendment_open.")));
	}
}

static void
check_charge(LmRow *new, const int *att, const LmContractFacts *f, LmEdits *edits)
{
	DateADT		from,
				to;
	char	   *basis = TextDatumGetCString(lm_row_datum(new, att[T_BASIS]));
	char	   *escalation = lm_row_null(new, att[T_ESCALATION]) ? "none"
		: TextDatumGetCString(lm_row_datum(new, att[T_ESCALATION]));
	bool		turnover = strcmp(basis, "turnover_pct") == 0;
	bool		metered = strcmp(basis, "metered") == 0;

	if (!lm_row_null(new, att[T_RATE]) &&
		DatumGetBool(DirectFunctionCall2(numeric_le, lm_row_datum(new, att[T_RATE]),
										 DirectFunctionCall1(int4_numeric, Int32GetDatum(0)))))
		refuse_charge(psprintf("the rate of a charge must be greater than zero, not %s",
							   lm_row_text(new, att[T_RATE])),
					  "A charge bills rate x its basis; a rate of zero or less bills nothing or pays the tenant.",
					  "Days that cost nothing are a free-rent period (leasemgr.free_rent_period); a credit is an adjustment.");
	if (!lm_row_null(new, att[T_CYCLE]))
	{
		int			cycle = DatumGetInt32(lm_row_datum(new, att[T_CYCLE]));

		if (cycle != 1 && cycle != 3 && cycle != 6 && cycle != 12)
			refuse_charge(psprintf("a billing cycle of %d months is not supported", cycle),
						  "Charges are billed monthly, quarterly, half-yearly or yearly.",
						  "Set cycle_months to 1, 3, 6 or 12.");
	}
	if (turnover && !lm_row_null(new, att[T_BILLED]) &&
		strcmp(TextDatumGetCString(lm_row_datum(new, att[T_BILLED])), "arrears") != 0)
		refuse_charge("turnover rent is billed in arrears",
					  "A month's turnover rent is known only once the month's sales are reported.",
					  "Set billed = 'arrears' on a turnover_pct charge.");
	if (metered && !lm_row_null(new, att[T_BILLED]) &&
		strcmp(TextDatumGetCString(lm_row_datum(new, att[T_BILLED])), "arrears") != 0)
		refuse_charge("a metered charge is billed in arrears",
					  "A month's consumption is known only once the meters have been read after it.",
					  "Set billed = 'arrears' on a metered charge.");
	if (metered && !lm_row_null(new, att[T_CYCLE]) && DatumGetInt32(lm_row_datum(new, att[T_CYCLE])) != 1)
		refuse_charge("a metered charge is billed monthly",
					  "Meters are read and their consumption priced month by month; block prices are per month.",
					  "Set cycle_months = 1 on a metered charge.");
	if (metered && strcmp(TextDatumGetCString(lm_row_datum(new, att[T_KIND])), "utility") != 0 &&
		strcmp(TextDatumGetCString(lm_row_datum(new, att[T_KIND])), "ac") != 0 &&
		strcmp(TextDatumGetCString(lm_row_datum(new, att[T_KIND])), "other") != 0)
		refuse_charge(psprintf("a metered charge cannot be of kind %s", TextDatumGetCString(lm_row_datum(new, att[T_KIND]))),
					  "Metered charges bill consumption: utilities, air conditioning or other.",
					  "Use kind 'utility', 'ac' or 'other' for a metered charge.");
	if (metered && strcmp(escalation, "none") != 0)
		refuse_charge("a metered charge does not escalate",
					  "Its price is a price per unit consumed, set by the tariff in force.",
					  "Set escalation = 'none'; a new tariff is a change of the charge's rates by amendment.");
	if (metered)
		check_metered_prices(new, att);
	if (turnover && lm_row_null(new, att[T_BREAKPOINT]))
		lm_edit(edits, att[T_BREAKPOINT], DirectFunctionCall1(int4_numeric, Int32GetDatum(0)), false);

	from = lm_row_null(new, att[T_VALID_FROM]) ? f->start_date
		: DatumGetDateADT(lm_row_datum(new, att[T_VALID_FROM]));
	to = lm_row_null(new, att[T_VALID_TO]) ? f->end_date
		: DatumGetDateADT(lm_row_datum(new, att[T_VALID_TO]));
	if (to < from)
		refuse_charge(psprintf("a charge cannot end (%s) before it starts (%s)", lm_date_text(to),
							   lm_date_text(from)),
					  "valid_from and valid_to are the first and last day charged, inclusive.",
					  "Leave them empty to charge the whole lease.");
	check_within_lease(f, from, to, "charge period");
	lm_edit(edits, att[T_VALID_FROM], DateADTGetDatum(from), false);
	lm_edit(edits, att[T_VALID_TO], DateADTGetDatum(to), false);

	if (strcmp(escalation, "none") != 0)
	{
		DateADT		anchor = lm_row_null(new, att[T_ANCHOR]) ? from
			: DatumGetDateADT(lm_row_datum(new, att[T_ANCHOR]));

		lm_edit(edits, att[T_ANCHOR], DateADTGetDatum(anchor), false);
		if (strcmp(escalation, "cpi") == 0 && !lm_row_null(new, att[T_CPI_SERIES]))
		{
			int			lag = lm_row_null(new, att[T_CPI_LAG]) ? 0
				: DatumGetInt32(lm_row_datum(new, att[T_CPI_LAG]));
			DateADT		base = lm_row_null(new, att[T_CPI_BASE])
				? lm_add_months(lm_month_start(anchor), -lag)
				: DatumGetDateADT(lm_row_datum(new, att[T_CPI_BASE]));

			lm_edit(edits, att[T_CPI_BASE], DateADTGetDatum(base), false);
			check_price_index(lm_row_datum(new, att[T_CPI_SERIES]), base,
							  "CPI escalation divides by the index of the base month, so it must be known when the charge is entered.");
		}
	}
}

/*
 * Has a turnover month been billed already? Then its report is part of a bill.
 *
 * A bill run of the park in progress may be billing the month from the report as it was:
 * wait for it (its lock), then look with the latest snapshot, which shows its lines once it
 * has committed, whatever this transaction's isolation level. The run after this change
 * waits for this transaction in turn, and reads the report as changed.
 */
static bool
turnover_month_billed(Datum contract_id, Datum month, int64 park_id)
{
	static SPIPlanPtr plan = NULL;
	Datum		args[2] = {contract_id, month};

	if (plan == NULL)
	{
		Oid			argtypes[2] = {INT8OID, DATEOID};

		plan = lm_keep_plan("SELECT FROM leasemgr.bill_line l JOIN leasemgr.charge c ON c.id OPERATOR(pg_catalog.=) l.charge_id "
							"WHERE c.contract_id OPERATOR(pg_catalog.=) $1 AND c.basis OPERATOR(pg_catalog.=) 'turnover_pct' "
							"AND l.line_type OPERATOR(pg_catalog.=) 'charge' "
							"AND l.period_start OPERATOR(pg_catalog.>=) $2 "
							"AND l.period_start OPERATOR(pg_catalog.<) ($2 OPERATOR(pg_catalog.+) '1 month'::pg_catalog.interval)",
							2, argtypes);
	}
	(void) lm_lock_bill_runs(park_id);
	if (SPI_execute_snapshot(plan, args, NULL, GetLatestSnapshot(), InvalidSnapshot, true, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "turnover query failed");
	return SPI_processed > 0;
}

static void
check_turnover_report(const LmRow *row, const int *att, const LmContractFacts *f, bool changing)
{
	Datum		month = lm_row_datum(row, att[T_MONTH]);

	if (!lm_row_null(row, att[T_MONTH]) &&
		turnover_month_billed(lm_row_datum(row, att[T_CONTRACT_ID]), month, f->park_id))
		ereport(ERROR,
				(errcode(ERRCODE_LM_TERMS_LOCKED),
				 errmsg("the turnover of %s for contract %s is billed already",
						lm_date_text(DatumGetDateADT(month)), f->code),
				 errdetail("Cannot %s a sales report that a bill line was computed from.",
						   changing ? "change" : "remove"),
				 errhint("Correct the bill with an adjustment line instead.")));
}

/*
 * BEFORE INSERT OR UPDATE OR DELETE ON charge, free_rent_period, turnover_report FOR EACH ROW.
 */
Datum
contract_term_before_write(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel;
	TermCache  *cache;
	const int  *att;
	LmRow		old = {0};
	LmRow		new = {0};
	LmEdits		edits = {.cxt = CurrentMemoryContext};
	bool		spi = false;
	bool		is_insert,
				is_delete;
	LmContractFacts f;
	HeapTuple	result;
	const char *terms;

	lm_check_trigger(fcinfo, "contract_term_before_write", true, true);
	rel = td->tg_relation;
	cache = term_cache(fcinfo, rel);
	att = cache->att;
	terms = table_terms(cache->table);
	is_insert = TRIGGER_FIRED_BY_INSERT(td->tg_event);
	is_delete = TRIGGER_FIRED_BY_DELETE(td->tg_event);

	if (is_insert && lm_is_owner_copy(rel))
		return PointerGetDatum(td->tg_trigtuple);
	lm_trigger_rows(td, &old, &new);

	lm_spi_connect(&spi);
	if (is_delete)
	{
		f = lm_lookup_contract(lm_row_datum(&old, att[T_CONTRACT_ID]));
		/* Not found: the draft contract itself is being deleted and cascades here. */
		if (f.found)
		{
			if (cache->table == TT_TURNOVER)
			{
				if (lm_state_is_final((LmContractState) f.state))
					lm_refuse_term_change(&f, terms, "reports", "remove a turnover report");
				check_turnover_report(&old, att, &f, false);
			}
			else if (!lm_terms_editable(&f, lm_row_datum(&old, att[T_CONTRACT_ID])))
				lm_refuse_term_change(&f, terms, terms,
									  psprintf("remove a %s", table_term(cache->table)));
		}
		result = old.tuple;
	}
	else
	{
		Datum		contract_id = lm_row_datum(&new, att[T_CONTRACT_ID]);

		if (!is_insert && (lm_row_changed(&old, &new, att[T_CONTRACT_ID]) ||
						   lm_row_changed(&old, &new, att[T_ID])))
			ereport(ERROR,
					(errcode(ERRCODE_LM_TERMS_LOCKED),
					 errmsg("a row of leasemgr.%s cannot move to another contract or id",
							RelationGetRelationName(rel)),
					 errdetail("Row %s belongs to contract %s.",
							   lm_row_text(&old, att[T_ID]), lm_row_text(&old, att[T_CONTRACT_ID])),
					 errhint("Delete it and insert a row for the other contract.")));
		if (lm_row_null(&new, att[T_CONTRACT_ID]))
			ereport(ERROR,
					(errcode(ERRCODE_LM_INVALID_ARGUMENT),
					 errmsg("a row of leasemgr.%s needs a contract_id", RelationGetRelationName(rel)),
					 errhint("Name the contract it belongs to.")));
		f = lm_lookup_contract(contract_id);
		if (!f.found)
			lm_row_not_found("contract", contract_id);

		if (cache->table == TT_TURNOVER)
		{
			if (lm_state_is_final((LmContractState) f.state))
				lm_refuse_term_change(&f, terms, "reports", "report turnover");
			if (!is_insert)
				check_turnover_report(&old, att, &f, true);
			if (!lm_row_null(&new, att[T_MONTH]))
			{
				DateADT		m = DatumGetDateADT(lm_row_datum(&new, att[T_MONTH]));

				/* The month must share at least a day with the lease. */
				if (lm_add_months(m, 1) - 1 < f.start_date || m > f.end_date)
					check_within_lease(&f, m, lm_add_months(m, 1) - 1, "turnover month");
			}
		}
		else
		{
			if (!lm_terms_editable(&f, contract_id))
				lm_refuse_term_change(&f, terms, terms,
									  psprintf("%s a %s", is_insert ? "add" : "change",
											   table_term(cache->table)));
			if (cache->table == TT_CHARGE)
			{
				check_amendment_columns(is_insert ? NULL : &old, &new, att, &f, contract_id);
				check_charge(&new, att, &f, &edits);
			}
			else if (!lm_row_null(&new, att[T_DAYS]))
			{
				RangeType  *days = DatumGetRangeTypeP(lm_row_datum(&new, att[T_DAYS]));
				TypeCacheEntry *tc = lookup_type_cache(RangeTypeGetOid(days), TYPECACHE_RANGE_INFO);
				RangeBound	lo,
							hi;
				bool		empty;

				range_deserialize(tc, days, &lo, &hi, &empty);
				if (!empty && !lo.infinite && !hi.infinite)
					check_within_lease(&f, DatumGetDateADT(lo.val),
									   DatumGetDateADT(hi.val) - (hi.inclusive ? 0 : 1),
									   "free-rent period");
			}
		}
		lm_check_park_of_contract(&new, att[T_PARK_ID], &f);
		lm_edit(&edits, att[T_PARK_ID], Int64GetDatum(f.park_id), false);
		result = lm_edits_apply(&edits, new.tuple, new.desc);
	}
	lm_spi_finish(&spi);
	return PointerGetDatum(result);
}
