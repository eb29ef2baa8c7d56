/*
 * contract_unit.c
 *     The units of a contract: kept in the contract's park, locked after submission, and
 *     never double booked.
 *
 * park_id, lease_range and is_live of a contract_unit row are copies of its contract's,
 * filled in here on insert and kept equal afterwards by the cascading foreign key
 * contract_unit_contract_fk. held_from and held_to cut the lease to the days an amendment
 * added or handed back the unit; only an amendment's application writes them. The
 * exclusion constraint contract_unit_no_double_booking holds the rule "a unit is never in two
 * live contracts for the same day" on held_range (the lease cut to those days), also between
 * concurrent transactions; this trigger only explains a refusal before the constraint
 * would, naming the contract in the way.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rangetypes.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/typcache.h"

#include "leasemgr.h"
#include "lm_contract_states.h"

PG_FUNCTION_INFO_V1(contract_unit_before_write);

enum
{
	U_ID, U_PARK_ID, U_CONTRACT_ID, U_UNIT_ID, U_AREA, U_RANGE, U_LIVE,
	U__REQUIRED,
	/* Columns added after 0.1.0: 0 in att[] while the database is still on 0.1.0. */
	U_HELD_FROM = U__REQUIRED, U_HELD_TO, U_HELD_RANGE, U__COUNT
};
static const char *const unit_colnames[U__COUNT] = {
	"id", "park_id", "contract_id", "unit_id", "billable_area_m2", "lease_range", "is_live",
	"held_from", "held_to", "held_range"
};

typedef struct UnitCache
{
	LmStatementCache base;
	int			att[U__COUNT];
	Oid			booking_index;	/* the exclusion constraint's GiST index */
} UnitCache;

/* Is the column there (0.2.0 on), and set? */
static bool
held_set(const LmRow *row, const int *att, int col)
{
	return att[col] > 0 && !lm_row_null(row, att[col]);
}

/* Did the column change? (Never, on a 0.1.0 schema without it.) */
static bool
held_changed(const LmRow *old, const LmRow *new, const int *att, int col)
{
	return att[col] > 0 && lm_row_changed(old, new, att[col]);
}

/*
 * The days the row holds its unit: the lease cut to held_from..held_to, as the generated
 * column held_range will be (a BEFORE trigger sees it not computed yet).
 */
static Datum
held_range(const LmRow *row, const int *att)
{
	TypeCacheEntry *typcache;
	RangeBound	lower = {.infinite = !held_set(row, att, U_HELD_FROM), .inclusive = true, .lower = true};
	RangeBound	upper = {.infinite = !held_set(row, att, U_HELD_TO), .inclusive = true, .lower = false};
	RangeType  *lease = DatumGetRangeTypeP(lm_row_datum(row, att[U_RANGE]));

	if (lower.infinite && upper.infinite)
		return lm_row_datum(row, att[U_RANGE]);
	typcache = lookup_type_cache(DATERANGEOID, TYPECACHE_RANGE_INFO);
	lower.val = lower.infinite ? (Datum) 0 : lm_row_datum(row, att[U_HELD_FROM]);
	upper.val = upper.infinite ? (Datum) 0 : lm_row_datum(row, att[U_HELD_TO]);
	return RangeTypePGetDatum(range_intersect_internal(typcache, lease,
													   make_range(typcache, &lower, &upper, false)));
}

/*
 * Is the unit held by another live contract on one of the days? A direct probe of the
 * exclusion constraint's own index (unit_id =, held_range &&; partial on is_live), so a
 * submission that finds its units free costs no query.
 */
static bool
unit_booked_elsewhere(Relation rel, UnitCache *cache, Datum unit_id, Datum days,
					  Datum contract_id)
{
	const int  *att = cache->att;
	ScanKeyData keys[2];
	SysScanDesc scan;
	HeapTuple	tuple;
	bool		booked = false;

	if (!OidIsValid(cache->booking_index))
		cache->booking_index = get_relname_relid("contract_unit_no_double_booking",
												 RelationGetNamespace(rel));
	if (!OidIsValid(cache->booking_index))
		elog(ERROR, "index leasemgr.contract_unit_no_double_booking is missing");

	/*
	 * Heap attribute numbers: systable_beginscan maps them to the index's columns. On a 0.1.0
	 * schema the index is on lease_range.
	 */
	ScanKeyInit(&keys[0], att[U_UNIT_ID], BTEqualStrategyNumber, F_INT8EQ, unit_id);
	ScanKeyInit(&keys[1], att[U_HELD_RANGE] > 0 ? att[U_HELD_RANGE] : att[U_RANGE], RANGESTRAT_OVERLAPS,
				F_RANGE_OVERLAPS, days);
	scan = systable_beginscan(rel, cache->booking_index, true, GetActiveSnapshot(), 2, keys);
	while (!booked && HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		other = heap_getattr(tuple, att[U_CONTRACT_ID], RelationGetDescr(rel), &isnull);

		booked = DatumGetInt64(other) != DatumGetInt64(contract_id);
	}
	systable_endscan(scan);
	return booked;
}

/*
 * Names the live contract that already holds the unit on one of the days. held: the schema
 * has held_range (0.2.0 on); a 0.1.0 schema books units for the whole lease.
 */
static void
explain_double_booking(Datum unit_id, Datum days, Datum contract_id, bool held)
{
	static SPIPlanPtr plans[2] = {NULL, NULL};
	SPIPlanPtr	plan;
	Datum		args[3];

	if (plans[held] == NULL)
	{
		Oid			argtypes[3] = {INT8OID, DATERANGEOID, INT8OID};
		const char *days_col = held ? "cu.held_range" : "cu.lease_range";

		plans[held] = lm_keep_plan(psprintf("SELECT u.code, c.code, c.state, "
											"       pg_catalog.to_char(pg_catalog.lower(%s), 'YYYY-MM-DD'), "
											"       pg_catalog.to_char(pg_catalog.upper(%s) OPERATOR(pg_catalog.-) 1, 'YYYY-MM-DD'), "
											"       pg_catalog.to_char(pg_catalog.lower($2), 'YYYY-MM-DD'), "
											"       pg_catalog.to_char(pg_catalog.upper($2) OPERATOR(pg_catalog.-) 1, 'YYYY-MM-DD') "
											"FROM leasemgr.contract_unit cu "
											"JOIN leasemgr.contract c ON c.id OPERATOR(pg_catalog.=) cu.contract_id "
											"JOIN leasemgr.unit u ON u.id OPERATOR(pg_catalog.=) cu.unit_id "
											"WHERE cu.unit_id OPERATOR(pg_catalog.=) $1 AND cu.is_live "
											"  AND %s OPERATOR(pg_catalog.&&) $2 "
											"  AND cu.contract_id OPERATOR(pg_catalog.<>) $3 LIMIT 1",
											days_col, days_col, days_col),
								   3, argtypes);
	}
	plan = plans[held];
	args[0] = unit_id;
	args[1] = days;
	args[2] = contract_id;
	if (SPI_execute_plan(plan, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "double-booking query failed");
	if (SPI_processed > 0)
	{
		HeapTuple	t = SPI_tuptable->vals[0];
		TupleDesc	d = SPI_tuptable->tupdesc;

		ereport(ERROR,
				(errcode(ERRCODE_LM_UNIT_DOUBLE_BOOKED),
				 errmsg("unit %s is already leased for part of %s..%s",
						SPI_getvalue(t, d, 1), SPI_getvalue(t, d, 6), SPI_getvalue(t, d, 7)),
				 errdetail("Contract %s (%s) holds unit %s from %s to %s.",
						   SPI_getvalue(t, d, 2), SPI_getvalue(t, d, 3), SPI_getvalue(t, d, 1),
						   SPI_getvalue(t, d, 4), SPI_getvalue(t, d, 5)),
				 errhint("Choose dates outside that lease or another unit; a unit is never in two live contracts at once.")));
	}
}

/*
 * The unit must exist for the writer (row-level security applies) and be in the contract's
 * park. Returns its area, the default billable area.
 */
static Datum
check_unit_of_contract(Datum unit_id, LmContractFacts *f)
{
	static SPIPlanPtr plan = NULL;
	HeapTuple	t;
	TupleDesc	d;
	bool		isnull;
	int64		unit_park;

	if (plan == NULL)
	{
		Oid			argtypes[1] = {INT8OID};

		plan = lm_keep_plan("SELECT park_id, area_m2, code FROM leasemgr.unit "
							"WHERE id OPERATOR(pg_catalog.=) $1", 1, argtypes);
	}
	if (SPI_execute_plan(plan, &unit_id, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "unit query failed");
	if (SPI_processed == 0)
		lm_row_not_found("unit", unit_id);
	t = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	unit_park = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
	if (unit_park != f->park_id)
		ereport(ERROR,
				(errcode(ERRCODE_LM_PARK_MISMATCH),
				 errmsg("unit %s is not in the park of contract %s", SPI_getvalue(t, d, 3), f->code),
				 errdetail("The unit belongs to park %lld, the contract to park %lld.",
						   (long long) unit_park, (long long) f->park_id),
				 errhint("A contract leases units of its own park only.")));
	return SPI_datumTransfer(SPI_getbinval(t, d, 2, &isnull), false, -1);
}

/*
 * BEFORE INSERT OR UPDATE OR DELETE ON leasemgr.contract_unit FOR EACH ROW.
 */
Datum
contract_unit_before_write(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel;
	UnitCache  *cache;
	const int  *att;
	bool		fresh;
	LmRow		old = {0};
	LmRow		new = {0};
	LmEdits		edits = {.cxt = CurrentMemoryContext};
	bool		spi = false;
	bool		is_insert;
	bool		is_delete;
	LmContractFacts f;
	HeapTuple	result;

	lm_check_trigger(fcinfo, "contract_unit_before_write", true, true);
	rel = td->tg_relation;
	cache = lm_statement_cache(fcinfo, rel, sizeof(UnitCache), &fresh);
	if (fresh)
	{
		int			i;

		lm_resolve_columns(rel, unit_colnames, U__REQUIRED, cache->att);
		/* The library may run against the previous version's schema until UPDATE. */
		for (i = U__REQUIRED; i < U__COUNT; i++)
			cache->att[i] = Max(SPI_fnumber(RelationGetDescr(rel), unit_colnames[i]), 0);
	}
	att = cache->att;

	is_insert = TRIGGER_FIRED_BY_INSERT(td->tg_event);
	is_delete = TRIGGER_FIRED_BY_DELETE(td->tg_event);

	/* pg_restore and supervised migrations load rows as they were. */
	if (is_insert && lm_is_owner_copy(rel))
		return PointerGetDatum(td->tg_trigtuple);

	lm_trigger_rows(td, &old, &new);

	if (is_delete)
	{
		lm_spi_connect(&spi);
		f = lm_lookup_contract(lm_row_datum(&old, att[U_CONTRACT_ID]));
		/* Not found: the draft contract itself is being deleted and cascades here. */
		if (f.found && !lm_terms_editable(&f, lm_row_datum(&old, att[U_CONTRACT_ID])))
			lm_refuse_term_change(&f, "units", "units and billable areas", "remove a unit");
		result = old.tuple;
	}
	else if (!is_insert &&
			 !lm_row_changed(&old, &new, att[U_ID]) &&
			 !lm_row_changed(&old, &new, att[U_CONTRACT_ID]) &&
			 !lm_row_changed(&old, &new, att[U_UNIT_ID]) &&
			 !lm_row_changed(&old, &new, att[U_PARK_ID]) &&
			 !lm_row_changed(&old, &new, att[U_AREA]) &&
			 !held_changed(&old, &new, att, U_HELD_FROM) &&
			 !held_changed(&old, &new, att, U_HELD_TO))
	{
		/*
		 * Only the copies of the contract changed: the cascade of a transition. Becoming live
		 * (submit) or moving the end (terminate, an amendment) must find the unit free on the
		 * days this row holds it (a unit handed back earlier does not follow the end). A
		 * direct write of the copies is left to the constraints: NOT NULL refuses NULLs
		 * (checked after this trigger, so never probe with one), and the foreign key refuses
		 * any value that is not the contract's.
		 */
		if (!lm_row_null(&new, att[U_LIVE]) && !lm_row_null(&new, att[U_RANGE]) &&
			!lm_row_null(&old, att[U_LIVE]) &&
			DatumGetBool(lm_row_datum(&new, att[U_LIVE])) &&
			(!DatumGetBool(lm_row_datum(&old, att[U_LIVE])) ||
			 lm_row_changed(&old, &new, att[U_RANGE])) &&
			unit_booked_elsewhere(rel, cache, lm_row_datum(&new, att[U_UNIT_ID]), held_range(&new, att),
								  lm_row_datum(&new, att[U_CONTRACT_ID])))
		{
			lm_spi_connect(&spi);
			explain_double_booking(lm_row_datum(&new, att[U_UNIT_ID]), held_range(&new, att),
								   lm_row_datum(&new, att[U_CONTRACT_ID]), att[U_HELD_RANGE] > 0);
		}
		result = new.tuple;
	}
	else
	{
		Datum		contract_id = lm_row_datum(&new, att[U_CONTRACT_ID]);
		Datum		area;

		if (!is_insert && (lm_row_changed(&old, &new, att[U_CONTRACT_ID]) ||
						   lm_row_changed(&old, &new, att[U_ID])))
			ereport(ERROR,
					(errcode(ERRCODE_LM_TERMS_LOCKED),
					 errmsg("a contract unit row cannot move to another contract"),
					 errdetail("Row %s belongs to contract %s.",
							   lm_row_text(&old, att[U_ID]), lm_row_text(&old, att[U_CONTRACT_ID])),
					 errhint("Delete it from the draft and insert a row for the other contract.")));

		lm_spi_connect(&spi);
		f = lm_lookup_contract(contract_id);
		if (!f.found)
			lm_row_not_found("contract", contract_id);
		if (!lm_terms_editable(&f, contract_id))
			lm_refuse_term_change(&f, "units", "units and billable areas",
								  is_insert ? "add a unit" : "change a unit or its billable area");
		lm_check_park_of_contract(&new, att[U_PARK_ID], &f);
		/* The days a unit is held are what an approved amendment added or handed back. */
		if (lm_amendment_applying != DatumGetInt64(contract_id) &&
			(is_insert ? held_set(&new, att, U_HELD_FROM) || held_set(&new, att, U_HELD_TO)
			 : held_changed(&old, &new, att, U_HELD_FROM) || held_changed(&old, &new, att, U_HELD_TO)))
			ereport(ERROR,
					(errcode(ERRCODE_LM_TERMS_LOCKED),
					 errmsg("the days contract %s holds a unit are written by amendments only", f.code),
					 errdetail("held_from and held_to record a unit added or handed back during the lease; they would be %s and %s.",
							   held_set(&new, att, U_HELD_FROM) ? lm_row_text(&new, att[U_HELD_FROM]) : "empty",
							   held_set(&new, att, U_HELD_TO) ? lm_row_text(&new, att[U_HELD_TO]) : "empty"),
					 errhint("Leave them empty: a draft leases its units for the whole lease. Add or hand back a unit of a live lease with leasemgr.amendment_open (add_units, remove_units).")));

		area = check_unit_of_contract(lm_row_datum(&new, att[U_UNIT_ID]), &f);
		lm_edit(&edits, att[U_PARK_ID], Int64GetDatum(f.park_id), false);
		lm_edit(&edits, att[U_RANGE], f.lease_range, false);
		lm_edit(&edits, att[U_LIVE], BoolGetDatum(f.is_live), false);
		if (lm_row_null(&new, att[U_AREA]))
			lm_edit(&edits, att[U_AREA], area, false);
		result = lm_edits_apply(&edits, new.tuple, new.desc);
	}

	lm_spi_finish(&spi);
	return PointerGetDatum(result);
}
