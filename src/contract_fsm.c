/*
 * contract_fsm.c
 *     The contract state machine, enforced for every writer.
 *
 * contract_before_write (BEFORE INSERT/UPDATE/DELETE ON contract) applies the transition
 * table of core/lm_contract_states.c, the guards, the term lock and the stamps, so a direct
 * UPDATE of contract.state meets exactly the rules contract_transition() does.
 * contract_after_transition (AFTER, only when the state changed) appends the timeline row.
 *
 * Every query here is schema-qualified down to its operators: triggers run under the
 * caller's search_path and must not be steerable by it.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "leasemgr.h"
#include "lm_contract_states.h"
#include "outbox.h"

PG_FUNCTION_INFO_V1(contract_before_write);
PG_FUNCTION_INFO_V1(contract_after_transition);
PG_FUNCTION_INFO_V1(contract_transition);
PG_FUNCTION_INFO_V1(contract_state_machine);
PG_FUNCTION_INFO_V1(contract_state_is_live);

/*
 * The note contract_transition() passes to the timeline row its UPDATE produces. Set just
 * around that UPDATE, restored on every exit path.
 */
static int64 pending_note_contract = 0;
static const char *pending_note = NULL;

/* Columns of leasemgr.contract, resolved once per statement. */
enum
{
	C_ID, C_PARK_ID, C_CODE, C_TENANT_ID, C_STATE, C_START_DATE, C_END_DATE, C_TERMINATED_ON,
	C_DOCUMENT_SHA256, C_SIGNED_AT, C_RENEWS_CONTRACT_ID, C_CREATED_BY, C_CREATED_AT,
	C_SUBMITTED_BY, C_SUBMITTED_AT, C_APPROVED_BY, C_APPROVED_AT, C_STATE_SINCE,
	C__REQUIRED,
	/* Columns added after 0.1.0: 0 in att[] while the database is still on 0.1.0. */
	C_DEPOSIT_AMOUNT = C__REQUIRED, C__COUNT
};
static const char *const contract_colnames[C__COUNT] = {
	"id", "park_id", "code", "tenant_id", "state", "start_date", "end_date", "terminated_on",
	"document_sha256", "signed_at", "renews_contract_id", "created_by", "created_at",
	"submitted_by", "submitted_at", "approved_by", "approved_at", "state_since",
	"deposit_amount"
};

/* What only the state machine writes; a hand-written value is refused. */
static const int stamp_cols[] = {C_CREATED_BY, C_CREATED_AT, C_SUBMITTED_BY, C_SUBMITTED_AT,
C_APPROVED_BY, C_APPROVED_AT, C_STATE_SINCE};

/* The terms: editable in draft only. (Units are terms too: see contract_unit.c.) */
static const int term_cols[] = {C_CODE, C_TENANT_ID, C_START_DATE, C_END_DATE,
C_RENEWS_CONTRACT_ID, C_DEPOSIT_AMOUNT};

typedef struct ContractCache
{
	LmStatementCache base;
	int			att[C__COUNT];
	Oid			unit_key_index; /* contract_unit (contract_id, ...) for "has units" */
	Oid			charge_index;	/* charge (contract_id) for "has charges" */
} ContractCache;

/* One row being checked: the rows before and after, and what the trigger changes. */
typedef struct Check
{
	Relation	rel;
	const int  *att;
	ContractCache *cache;
	LmRow		old;			/* UPDATE and DELETE */
	LmRow		new;			/* INSERT and UPDATE */
	LmEdits		edits;
	char	   *code;			/* for messages, computed on first use */
	bool		spi;			/* connected to SPI */
} Check;

static ContractCache *
contract_cache(FunctionCallInfo fcinfo, Relation rel)
{
	bool		fresh;
	ContractCache *cache = lm_statement_cache(fcinfo, rel, sizeof(ContractCache), &fresh);

	if (fresh)
	{
		int			i;

		lm_resolve_columns(rel, contract_colnames, C__REQUIRED, cache->att);
		/* The library may run against the previous version's schema until UPDATE. */
		for (i = C__REQUIRED; i < C__COUNT; i++)
			cache->att[i] = Max(SPI_fnumber(RelationGetDescr(rel), contract_colnames[i]), 0);
	}
	return cache;
}

/* The contract's code, for messages. */
static const char *
code_of(Check *k)
{
	if (k->code == NULL)
		k->code = lm_row_text(k->new.tuple ? &k->new : &k->old, k->att[C_CODE]);
	return k->code;
}

static LmContractState
state_of(const LmRow *row, int attnum, const char *code)
{
	char	   *name = row->nulls[attnum - 1] ? NULL : TextDatumGetCString(lm_row_datum(row, attnum));
	int			s = name ? lm_state_from_name(name) : -1;

	if (s < 0)
		ereport(ERROR,
				(errcode(ERRCODE_LM_INVALID_TRANSITION),
				 errmsg("unknown contract state \"%s\"", name ? name : "(null)"),
				 errdetail("Contract %s names a state the state machine does not have.", code),
				 errhint("See SELECT * FROM leasemgr.contract_state_machine() for the states.")));
	return (LmContractState) s;
}

static DateADT
row_date(const LmRow *row, int attnum)
{
	return lm_row_null(row, attnum) ? DATEVAL_NOEND : DatumGetDateADT(lm_row_datum(row, attnum));
}

static void
check_lease_dates(Check *k)
{
	DateADT		start = row_date(&k->new, k->att[C_START_DATE]);
	DateADT		end = row_date(&k->new, k->att[C_END_DATE]);

	if (end < start)
		ereport(ERROR,
				(errcode(ERRCODE_LM_INVALID_LEASE_DATES),
				 errmsg("lease of contract %s ends before it starts", code_of(k)),
				 errdetail("start_date is %s and end_date is %s; both days are part of the lease.",
						   lm_date_text(start), lm_date_text(end)),
				 errhint("A one-day lease has start_date = end_date.")));
}

/* Lower-case a document hash and insist on 64 hex digits (the CHECK constraint agrees). */
static void
normalize_document_hash(Check *k)
{
	int			attnum = k->att[C_DOCUMENT_SHA256];
	char	   *h;
	char	   *p;
	bool		changed = false;

	if (lm_row_null(&k->new, attnum))
		return;
	h = TextDatumGetCString(lm_row_datum(&k->new, attnum));
	for (p = h; *p; p++)
	{
		if (*p >= 'A' && *p <= 'F')
		{
			*p = (char) (*p - 'A' + 'a');
			changed = true;
		}
		else if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			break;
	}
	if (*p != '\0' || p - h != 64)
		ereport(ERROR,
				(errcode(ERRCODE_LM_INVALID_ARGUMENT),
				 errmsg("document_sha256 of contract %s is not a SHA-256 digest", code_of(k)),
				 errdetail("A SHA-256 digest is 64 hexadecimal characters; the value given has %d characters.",
						   (int) strlen(h)),
				 errhint("Store the hex digest of the signed file, e.g. the output of sha256sum.")));
	if (changed)
		lm_edit(&k->edits, attnum, CStringGetTextDatum(h), false);
}

static void
refuse_stamp(Check *k, int col)
{
	ereport(ERROR,
			(errcode(ERRCODE_LM_TERMS_LOCKED),
			 errmsg("column %s of contract %s is set by the state machine",
					contract_colnames[col], code_of(k)),
			 errdetail("%s records who moved the contract and when; it is never written by hand.",
					   contract_colnames[col]),
			 errhint("Use leasemgr.contract_transition(); the timeline keeps every past value.")));
}

/*
 * Does the contract have a row in a table that refers to it (a unit, a charge)? A direct
 * probe of the table's index on contract_id: this runs for every submitted contract, and an
 * SPI query per row would cost ten times as much.
 *
 * It reads the latest committed data, not the statement's snapshot: the UPDATE may have
 * waited for a transaction that removed the last unit or charge (they lock their contract
 * FOR SHARE), and now that we hold the row none can come or go until we commit.
 */
static bool
contract_has_rows(Check *k, Datum contract_id, const char *relname, const char *indexname,
				  Oid *index_cache, bool missing_ok)
{
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	Snapshot	snapshot;
	bool		found;

	if (!OidIsValid(*index_cache))
		*index_cache = get_relname_relid(indexname, RelationGetNamespace(k->rel));
	/*
	 * A table of a later schema version (charges came with 0.2.0): until ALTER EXTENSION
	 * UPDATE has run, the rule that needs it does not apply yet.
	 */
	if (!OidIsValid(*index_cache) && missing_ok)
		return true;
	if (!OidIsValid(*index_cache))
		elog(ERROR, "index leasemgr.%s is missing", indexname);

	rel = table_open(lm_relid(relname), AccessShareLock);
	/* systable_beginscan maps heap attribute numbers to the index's columns. */
	ScanKeyInit(&key, lm_attnum(rel, "contract_id"), BTEqualStrategyNumber, F_INT8EQ, contract_id);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = systable_beginscan(rel, *index_cache, true, snapshot, 1, &key);
	found = HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, NoLock);
	return found;
}

/*
 * A draft's new lease dates must still hold its charges and free-rent periods: they are
 * checked against the lease when they are written, and would otherwise be left outside it
 * (and billed outside it) when the lease is shortened afterwards. Reads the latest committed
 * rows: a term written while this UPDATE waited for the contract row (terms lock it FOR
 * SHARE) counts too. A schema from before charges has none to check.
 */
static void
check_terms_within_lease(Check *k)
{
	static SPIPlanPtr plan = NULL;
	Datum		args[3];
	HeapTuple	t;
	TupleDesc	d;
	bool		isnull;
	const char *what;

	if (!OidIsValid(get_relname_relid("charge", RelationGetNamespace(k->rel))))
		return;
	lm_spi_connect(&k->spi);
	if (plan == NULL)
	{
		Oid			argtypes[3] = {INT8OID, DATEOID, DATEOID};

		plan = lm_keep_plan("SELECT what, id, first_day, last_day FROM ("
							" SELECT 'charge'::pg_catalog.text AS what, id, valid_from AS first_day, valid_to AS last_day"
							" FROM leasemgr.charge WHERE contract_id OPERATOR(pg_catalog.=) $1"
							" UNION ALL"
							" SELECT 'free-rent period', id, pg_catalog.lower(days),"
							" pg_catalog.upper(days) OPERATOR(pg_catalog.-) 1"
							" FROM leasemgr.free_rent_period WHERE contract_id OPERATOR(pg_catalog.=) $1) t "
							"WHERE first_day OPERATOR(pg_catalog.<) $2 OR last_day OPERATOR(pg_catalog.>) $3 "
							"ORDER BY what, id LIMIT 1", 3, argtypes);
	}
	args[0] = lm_row_datum(&k->new, k->att[C_ID]);
	args[1] = DateADTGetDatum(row_date(&k->new, k->att[C_START_DATE]));
	args[2] = DateADTGetDatum(row_date(&k->new, k->att[C_END_DATE]));
	if (SPI_execute_snapshot(plan, args, NULL, GetLatestSnapshot(), InvalidSnapshot,
							 false, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "term dates query failed");
	if (SPI_processed == 0)
		return;
	t = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	what = SPI_getvalue(t, d, 1);
	ereport(ERROR,
			(errcode(ERRCODE_LM_INVALID_LEASE_DATES),
			 errmsg("%s %s of contract %s would be outside its lease", what, SPI_getvalue(t, d, 2),
					code_of(k)),
			 errdetail("The %s runs from %s to %s; the lease would run from %s to %s inclusive.", what,
					   lm_date_text(DatumGetDateADT(SPI_getbinval(t, d, 3, &isnull))),
					   lm_date_text(DatumGetDateADT(SPI_getbinval(t, d, 4, &isnull))),
					   lm_row_text(&k->new, k->att[C_START_DATE]), lm_row_text(&k->new, k->att[C_END_DATE])),
			 errhint("Change the dates of the charges and free-rent periods first, or delete them and add them again for the new lease.")));
}

/*
 * renews_contract_id must name a contract of the same park. Checked here rather than by a
 * self-referencing foreign key (which makes pg_dump warn about circular keys on every dump);
 * the referenced row is locked FOR KEY SHARE, as a foreign key would, so it cannot be
 * deleted while this row is being written.
 */
static void
check_renewed_contract(Check *k)
{
	static SPIPlanPtr plan = NULL;
	Datum		renews = lm_row_datum(&k->new, k->att[C_RENEWS_CONTRACT_ID]);
	bool		isnull;
	int64		park;

	if (lm_row_null(&k->new, k->att[C_RENEWS_CONTRACT_ID]))
		return;
	lm_spi_connect(&k->spi);
	if (plan == NULL)
	{
		Oid			argtypes[1] = {INT8OID};

		plan = lm_keep_plan("SELECT park_id FROM leasemgr.contract "
							"WHERE id OPERATOR(pg_catalog.=) $1 FOR KEY SHARE", 1, argtypes);
	}
	/* The latest committed row, locked: it cannot be deleted before we commit. */
	if (SPI_execute_snapshot(plan, &renews, NULL, GetLatestSnapshot(), InvalidSnapshot,
							 false, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "renewal query failed");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_LM_NOT_FOUND),
				 errmsg("contract %lld renewed by contract %s does not exist",
						(long long) DatumGetInt64(renews), code_of(k)),
				 errhint("Check renews_contract_id; contracts of parks you have not been granted are not visible to you.")));
	park = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (park != DatumGetInt64(lm_row_datum(&k->new, k->att[C_PARK_ID])))
		ereport(ERROR,
				(errcode(ERRCODE_LM_PARK_MISMATCH),
				 errmsg("contract %s cannot renew a contract of another park", code_of(k)),
				 errdetail("Contract %lld belongs to park %lld.", (long long) DatumGetInt64(renews),
						   (long long) park),
				 errhint("A renewal is a contract of the same park.")));
}

/* A draft that another contract renews stays: deleting it would cut the renewal chain. */
static void
check_not_renewed(Check *k)
{
	static SPIPlanPtr plan = NULL;
	Datum		id = lm_row_datum(&k->old, k->att[C_ID]);

	lm_spi_connect(&k->spi);
	if (plan == NULL)
	{
		Oid			argtypes[1] = {INT8OID};

		plan = lm_keep_plan("SELECT code FROM leasemgr.contract "
							"WHERE renews_contract_id OPERATOR(pg_catalog.=) $1 LIMIT 1", 1, argtypes);
	}
	/*
	 * Latest committed data: a renewal naming this draft may have committed while this DELETE
	 * waited for the row (the renewal locked it FOR KEY SHARE).
	 */
	if (SPI_execute_snapshot(plan, &id, NULL, GetLatestSnapshot(), InvalidSnapshot,
							 false, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "renewal query failed");
	if (SPI_processed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("contract %s cannot be deleted: contract %s renews it", code_of(k),
						SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1)),
				 errhint("Clear renews_contract_id of the renewal first, or cancel this contract instead.")));
}

/* Is an amendment of the contract open (leasemgr.amendment, state open)? */
static bool
has_open_amendment(Check *k, Datum contract_id)
{
	static SPIPlanPtr plan = NULL;

	lm_spi_connect(&k->spi);
	if (plan == NULL)
	{
		Oid			argtypes[1] = {INT8OID};

		plan = lm_keep_plan("SELECT FROM leasemgr.amendment a WHERE a.contract_id OPERATOR(pg_catalog.=) $1 "
							"AND a.state OPERATOR(pg_catalog.=) 'open'", 1, argtypes);
	}
	if (SPI_execute_plan(plan, &contract_id, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "amendment query failed");
	return SPI_processed > 0;
}

/*
 * A rule kept in SQL: leasemgr.<fn>(contract_id) returns what is missing, in words, or NULL.
 * A database still on 0.1.0 (the library updated, the extension not yet) has no such
 * function, and no such rule: NULL.
 */
static char *
sql_blockers(Check *k, const char *fn, Datum contract_id)
{
	Oid			argtypes[1] = {INT8OID};
	List	   *names = list_make2(makeString(LM_SCHEMA), makeString(pstrdup(fn)));
	char	   *result = NULL;
	bool		isnull;
	Datum		d;

	if (!OidIsValid(LookupFuncName(names, 1, argtypes, true)))
		return NULL;
	lm_spi_connect(&k->spi);
	/* fn is one of the constant names in this file, never input */
	if (SPI_execute_with_args(psprintf("SELECT leasemgr.%s($1)", fn), 1, argtypes, &contract_id, NULL, false, 1) != SPI_OK_SELECT
		|| SPI_processed != 1)
		elog(ERROR, "%s failed", fn);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
		result = TextDatumGetCString(d);
	return result;
}

/* Guards of one transition, and the stamps it leaves. */
static void
apply_transition(Check *k, LmContractEvent ev)
{
	const int  *att = k->att;
	Datum		now = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	const char *actor = lm_current_actor();
	DateADT		today = lm_business_date();

	switch (ev)
	{
		case LM_CE_SUBMIT:
			if (!contract_has_rows(k, lm_row_datum(&k->new, att[C_ID]), "contract_unit",
								   "contract_unit_key", &k->cache->unit_key_index, false))
				ereport(ERROR,
						(errcode(ERRCODE_LM_GUARD_FAILED),
						 errmsg("contract %s cannot be submitted without a unit", code_of(k)),
						 errdetail("A lease leases something: leasemgr.contract_unit has no row for this contract."),
						 errhint("Add the units with INSERT INTO leasemgr.contract_unit (contract_id, unit_id) while the contract is a draft.")));
			if (!contract_has_rows(k, lm_row_datum(&k->new, att[C_ID]), "charge",
								   "charge_contract_idx", &k->cache->charge_index, true))
				ereport(ERROR,
						(errcode(ERRCODE_LM_GUARD_FAILED),
						 errmsg("contract %s cannot be submitted without a charge", code_of(k)),
						 errdetail("Nothing would ever be billed: leasemgr.charge has no row for this contract."),
						 errhint("Add the rent and fees with INSERT INTO leasemgr.charge (contract_id, kind, basis, rate) while the contract is a draft.")));
			{
				/* A tenant under a credit warning takes no new contract (LM019). */
				const char *code = code_of(k);

				char	   *held;

				lm_spi_connect(&k->spi);
				lm_check_tenant_credit(k->rel, lm_row_datum(&k->new, att[C_TENANT_ID]), code);
				/* A unit held for someone else (leasemgr.reserve_units) is not promised twice. */
				held = sql_blockers(k, "reservation_blockers", lm_row_datum(&k->new, att[C_ID]));
				if (held != NULL)
					ereport(ERROR,
							(errcode(ERRCODE_LM_UNIT_DOUBLE_BOOKED),
							 errmsg("contract %s cannot be submitted: a unit of it is reserved", code),
							 errdetail("%s.", held),
							 errhint("Wait for the hold to end or have it released (leasemgr.release_units); a hold for a tenant lets that tenant's lease through.")));
			}
			lm_edit(&k->edits, att[C_SUBMITTED_BY], CStringGetTextDatum(actor), false);
			lm_edit(&k->edits, att[C_SUBMITTED_AT], now, false);
			lm_edit(&k->edits, att[C_APPROVED_BY], (Datum) 0, true);
			lm_edit(&k->edits, att[C_APPROVED_AT], (Datum) 0, true);
			break;

		case LM_CE_REJECT:
			lm_edit(&k->edits, att[C_SUBMITTED_BY], (Datum) 0, true);
			lm_edit(&k->edits, att[C_SUBMITTED_AT], (Datum) 0, true);
			break;

		case LM_CE_APPROVE:
			if (!lm_row_null(&k->old, att[C_SUBMITTED_BY]) &&
				strcmp(TextDatumGetCString(lm_row_datum(&k->old, att[C_SUBMITTED_BY])), actor) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_LM_FOUR_EYES),
						 errmsg("contract %s must be approved by someone other than its submitter", code_of(k)),
						 errdetail("%s submitted it and is now trying to approve it.", actor),
						 errhint("Ask a second person to approve; applications set leasemgr.actor to the person acting.")));
			lm_edit(&k->edits, att[C_APPROVED_BY], CStringGetTextDatum(actor), false);
			lm_edit(&k->edits, att[C_APPROVED_AT], now, false);
			break;

		case LM_CE_SIGN:
			if (lm_row_null(&k->new, att[C_DOCUMENT_SHA256]))
				ereport(ERROR,
						(errcode(ERRCODE_LM_GUARD_FAILED),
						 errmsg("contract %s cannot be signed without its document", code_of(k)),
						 errdetail("document_sha256 is empty: nothing records which file was signed."),
						 errhint("Set document_sha256 to the SHA-256 of the signed file in the same UPDATE or before signing.")));
			if (lm_row_null(&k->new, att[C_SIGNED_AT]))
				lm_edit(&k->edits, att[C_SIGNED_AT], now, false);
			else if (DatumGetTimestampTz(lm_row_datum(&k->new, att[C_SIGNED_AT])) > GetCurrentTimestamp())
				ereport(ERROR,
						(errcode(ERRCODE_LM_GUARD_FAILED),
						 errmsg("contract %s cannot be signed in the future", code_of(k)),
						 errdetail("signed_at is %s.", lm_row_text(&k->new, att[C_SIGNED_AT])),
						 errhint("Leave signed_at empty to record the time of the sign transition.")));
			else if (!lm_row_null(&k->old, att[C_APPROVED_AT]) &&
					 DatumGetTimestampTz(lm_row_datum(&k->new, att[C_SIGNED_AT])) <
					 DatumGetTimestampTz(lm_row_datum(&k->old, att[C_APPROVED_AT])))
				ereport(ERROR,
						(errcode(ERRCODE_LM_GUARD_FAILED),
						 errmsg("contract %s cannot be signed before it was approved", code_of(k)),
						 errdetail("signed_at is %s; the contract was approved at %s.",
								   lm_row_text(&k->new, att[C_SIGNED_AT]),
								   lm_row_text(&k->old, att[C_APPROVED_AT])),
						 errhint("A contract is signed after its approval; leave signed_at empty to record now.")));
			break;

		case LM_CE_ACTIVATE:
			if (today < row_date(&k->new, att[C_START_DATE]))
				ereport(ERROR,
						(errcode(ERRCODE_LM_GUARD_FAILED),
						 errmsg("contract %s cannot be activated before its start date", code_of(k)),
						 errdetail("The lease starts on %s; today is %s (%s).",
								   lm_row_text(&k->new, att[C_START_DATE]), lm_date_text(today), lm_timezone),
						 errhint("Activate it on or after the start date; the daily job does so automatically.")));
			break;

		case LM_CE_EXPIRE:
			if (today <= row_date(&k->new, att[C_END_DATE]))
				ereport(ERROR,
						(errcode(ERRCODE_LM_GUARD_FAILED),
						 errmsg("contract %s cannot expire before its end date has passed", code_of(k)),
						 errdetail("The lease ends on %s (inclusive); today is %s (%s).",
								   lm_row_text(&k->new, att[C_END_DATE]), lm_date_text(today), lm_timezone),
						 errhint("To end it early, use the terminate event with a termination date.")));
			break;

		case LM_CE_TERMINATE:
			{
				DateADT		t = row_date(&k->new, att[C_TERMINATED_ON]);

				if (lm_row_null(&k->new, att[C_TERMINATED_ON]) ||
					t < row_date(&k->new, att[C_START_DATE]) ||
					t > row_date(&k->new, att[C_END_DATE]))
					ereport(ERROR,
							(errcode(ERRCODE_LM_GUARD_FAILED),
							 errmsg("contract %s needs a termination date within its lease", code_of(k)),
							 errdetail("terminated_on is %s; the lease runs from %s to %s.",
									   lm_row_text(&k->new, att[C_TERMINATED_ON]),
									   lm_row_text(&k->new, att[C_START_DATE]),
									   lm_row_text(&k->new, att[C_END_DATE])),
							 errhint("Pass the last day of the lease as effective_date: leasemgr.contract_transition(id, 'terminate', note, date).")));
			}
			break;

		case LM_CE_AMEND:
		case LM_CE_RESUME:
			{
				bool		open = has_open_amendment(k, lm_row_datum(&k->old, att[C_ID]));

				if (ev == LM_CE_AMEND && !open)
					ereport(ERROR,
							(errcode(ERRCODE_LM_GUARD_FAILED),
							 errmsg("contract %s cannot be frozen without an open amendment", code_of(k)),
							 errdetail("The amending state means an amendment is waiting for its decision; contract %s has none open.",
									   code_of(k)),
							 errhint("Open one with leasemgr.amendment_open(contract_id, changes, reason): it freezes the contract.")));
				if (ev == LM_CE_RESUME && open)
					ereport(ERROR,
							(errcode(ERRCODE_LM_GUARD_FAILED),
							 errmsg("contract %s stays frozen while its amendment is open", code_of(k)),
							 errdetail("An amendment of contract %s is waiting for its decision.", code_of(k)),
							 errhint("Decide it: leasemgr.amendment_approve or leasemgr.amendment_withdraw lifts the freeze.")));
			}
			break;

		case LM_CE_START_MOVE_OUT:
		case LM_CE_CLOSE:
		case LM_CE_RENEWED:
			{
				/* what is still missing, in words, from the rule's SQL function (95_move_out.sql) */
				const char *fn = ev == LM_CE_START_MOVE_OUT ? "move_out_blockers"
					: ev == LM_CE_CLOSE ? "close_blockers" : "renewal_close_blockers";
				char	   *missing = sql_blockers(k, fn, lm_row_datum(&k->old, att[C_ID]));

				if (missing != NULL)
					ereport(ERROR,
							(errcode(ERRCODE_LM_GUARD_FAILED),
							 errmsg("contract %s cannot %s yet", code_of(k),
									ev == LM_CE_START_MOVE_OUT ? "start its move-out"
									: ev == LM_CE_CLOSE ? "be closed" : "be closed for its renewal"),
							 errdetail("Missing: %s.", missing),
							 errhint("%s", ev == LM_CE_START_MOVE_OUT
									 ? "Record the final readings (leasemgr.record_reading, source photo or iot), then start the move-out."
									 : ev == LM_CE_CLOSE
									 ? "Run the bill run for the last month, collect or deduct what is unpaid (leasemgr.deposit_deduct), refund the rest of the deposit, then close."
									 : "A lease closes for its renewal when the renewal activates; otherwise move out.")));
			}
			break;

		case LM_CE_CANCEL:
		case LM_CE__COUNT:
			break;
	}
	lm_edit(&k->edits, att[C_STATE_SINCE], now, false);
}

static HeapTuple
contract_before_insert(Check *k)
{
	const int  *att = k->att;
	Datum		now = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	LmContractState state = state_of(&k->new, att[C_STATE], code_of(k));
	static const int unset_on_insert[] = {C_SUBMITTED_BY, C_SUBMITTED_AT, C_APPROVED_BY,
	C_APPROVED_AT, C_SIGNED_AT, C_TERMINATED_ON};
	int			i;

	check_lease_dates(k);
	normalize_document_hash(k);

	/* pg_restore and supervised migrations load finished contracts as they were. */
	if (lm_is_owner_copy(k->rel))
		return lm_edits_apply(&k->edits, k->new.tuple, k->new.desc);

	if (state != LM_CS_DRAFT)
		ereport(ERROR,
				(errcode(ERRCODE_LM_INVALID_TRANSITION),
				 errmsg("contract %s must be created as a draft", code_of(k)),
				 errdetail("The row was inserted in state \"%s\"; every contract starts as a draft and reaches other states through the state machine.",
						   lm_state_name(state)),
				 errhint("Insert it with state 'draft' and use leasemgr.contract_transition().")));
	for (i = 0; i < (int) lengthof(unset_on_insert); i++)
	{
		if (!lm_row_null(&k->new, att[unset_on_insert[i]]))
			refuse_stamp(k, unset_on_insert[i]);
	}
	check_renewed_contract(k);

	lm_edit(&k->edits, att[C_CREATED_BY], CStringGetTextDatum(lm_current_actor()), false);
	lm_edit(&k->edits, att[C_CREATED_AT], now, false);
	lm_edit(&k->edits, att[C_STATE_SINCE], now, false);
	return lm_edits_apply(&k->edits, k->new.tuple, k->new.desc);
}

static HeapTuple
contract_before_update(Check *k)
{
	const int  *att = k->att;
	LmContractState from = state_of(&k->old, att[C_STATE], code_of(k));
	LmContractState to = state_of(&k->new, att[C_STATE], code_of(k));
	int			ev = -1;
	int			i;

	if (lm_state_is_final(from))
		ereport(ERROR,
				(errcode(ERRCODE_LM_READ_ONLY),
				 errmsg("contract %s is %s and can no longer change", code_of(k), lm_state_name(from)),
				 errdetail("Closed and cancelled contracts are kept exactly as they ended."),
				 errhint("Create a new contract (leasemgr.renew for a renewal) instead.")));

	/*
	 * The identity column refuses an explicit id, but SET id = DEFAULT draws a new one: that
	 * would cut the contract off its timeline, its audit history and its renewals.
	 */
	if (lm_row_changed(&k->old, &k->new, att[C_ID]))
		ereport(ERROR,
				(errcode(ERRCODE_LM_TERMS_LOCKED),
				 errmsg("the id of contract %s never changes", code_of(k)),
				 errdetail("Contract %s has id %s; its timeline, audit trail and renewals refer to it.",
						   code_of(k), lm_row_text(&k->old, att[C_ID])),
				 errhint("Create a new contract instead.")));
	if (lm_row_changed(&k->old, &k->new, att[C_PARK_ID]))
		ereport(ERROR,
				(errcode(ERRCODE_LM_PARK_MISMATCH),
				 errmsg("contract %s cannot move to another park", code_of(k)),
				 errdetail("It belongs to park %s.", lm_row_text(&k->old, att[C_PARK_ID])),
				 errhint("Cancel it and create the contract in the other park.")));
	for (i = 0; i < (int) lengthof(stamp_cols); i++)
	{
		if (lm_row_changed(&k->old, &k->new, att[stamp_cols[i]]))
			refuse_stamp(k, stamp_cols[i]);
	}

	if (from != to)
	{
		char		allowed[256];

		ev = lm_event_between(from, to);
		if (ev < 0)
			ereport(ERROR,
					(errcode(ERRCODE_LM_INVALID_TRANSITION),
					 errmsg("contract %s cannot go from %s to %s", code_of(k),
							lm_state_name(from), lm_state_name(to)),
					 errdetail("Contract %s is %s; the events allowed from %s are: %s.",
							   code_of(k), lm_state_name(from), lm_state_name(from),
							   lm_allowed_events(from, allowed, sizeof(allowed))),
					 errhint("See SELECT * FROM leasemgr.contract_state_machine().")));
	}

	/*
	 * What was submitted is what gets approved: terms move only in draft, or by the
	 * amendment leasemgr.amendment_approve is applying to this contract.
	 */
	if (from != LM_CS_DRAFT &&
		!(from == LM_CS_AMENDING && to == LM_CS_AMENDING &&
		  lm_amendment_applying == DatumGetInt64(lm_row_datum(&k->old, att[C_ID]))))
	{
		for (i = 0; i < (int) lengthof(term_cols); i++)
		{
			int			attnum = att[term_cols[i]];

			if (attnum > 0 && lm_row_changed(&k->old, &k->new, attnum))
				ereport(ERROR,
						(errcode(ERRCODE_LM_TERMS_LOCKED),
						 errmsg("the terms of contract %s are locked", code_of(k)),
						 errdetail("Contract %s is %s; %s can change only while the contract is a draft (was %s, would be %s).",
								   code_of(k), lm_state_name(from), contract_colnames[term_cols[i]],
								   lm_row_text(&k->old, attnum), lm_row_text(&k->new, attnum)),
						 errhint("Change a live contract through an amendment (leasemgr.amendment_open); a contract under review can be rejected back to draft first.")));
		}
	}
	if (lm_row_changed(&k->old, &k->new, att[C_DOCUMENT_SHA256]))
	{
		if (from >= LM_CS_SIGNED)
			ereport(ERROR,
					(errcode(ERRCODE_LM_TERMS_LOCKED),
					 errmsg("the signed document of contract %s cannot be replaced", code_of(k)),
					 errdetail("Contract %s was signed with the document whose SHA-256 is %s.",
							   code_of(k), lm_row_text(&k->old, att[C_DOCUMENT_SHA256])),
					 errhint("A changed document is an amendment to the contract.")));
		normalize_document_hash(k);
	}
	if (lm_row_changed(&k->old, &k->new, att[C_SIGNED_AT]) && ev != LM_CE_SIGN)
		refuse_stamp(k, C_SIGNED_AT);
	if (lm_row_changed(&k->old, &k->new, att[C_TERMINATED_ON]) && ev != LM_CE_TERMINATE)
		refuse_stamp(k, C_TERMINATED_ON);

	if (lm_row_changed(&k->old, &k->new, att[C_START_DATE]) ||
		lm_row_changed(&k->old, &k->new, att[C_END_DATE]))
	{
		check_lease_dates(k);
		check_terms_within_lease(k);
	}
	if (lm_row_changed(&k->old, &k->new, att[C_RENEWS_CONTRACT_ID]))
		check_renewed_contract(k);

	if (ev >= 0)
		apply_transition(k, (LmContractEvent) ev);
	return lm_edits_apply(&k->edits, k->new.tuple, k->new.desc);
}

static HeapTuple
contract_before_delete(Check *k)
{
	LmContractState s = state_of(&k->old, k->att[C_STATE], code_of(k));

	if (s != LM_CS_DRAFT)
		ereport(ERROR,
				(errcode(ERRCODE_LM_READ_ONLY),
				 errmsg("contract %s cannot be deleted", code_of(k)),
				 errdetail("Contract %s is %s; only drafts are deleted, every other contract stays on record.",
						   code_of(k), lm_state_name(s)),
				 errhint("Cancel it with leasemgr.contract_transition(id, 'cancel') while it is not yet active.")));
	check_not_renewed(k);
	return k->old.tuple;
}

/*
 * BEFORE INSERT OR UPDATE OR DELETE ON leasemgr.contract FOR EACH ROW.
 */
Datum
contract_before_write(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Check		k = {0};
	HeapTuple	result;

	lm_check_trigger(fcinfo, "contract_before_write", true, true);
	k.rel = td->tg_relation;
	k.cache = contract_cache(fcinfo, k.rel);
	k.att = k.cache->att;
	/* Modified tuples are built here, in the trigger's context: they must outlive SPI. */
	k.edits.cxt = CurrentMemoryContext;

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
	{
		lm_row_init(&k.new, td->tg_trigtuple, RelationGetDescr(k.rel));
		result = contract_before_insert(&k);
	}
	else if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
	{
		lm_row_init(&k.old, td->tg_trigtuple, RelationGetDescr(k.rel));
		lm_row_init(&k.new, td->tg_newtuple, RelationGetDescr(k.rel));
		result = contract_before_update(&k);
	}
	else
	{
		lm_row_init(&k.old, td->tg_trigtuple, RelationGetDescr(k.rel));
		result = contract_before_delete(&k);
	}

	lm_spi_finish(&k.spi);
	return PointerGetDatum(result);
}

static const char *const contract_event_colnames[] = {
	"id", "park_id", "contract_id", "at", "actor", "event", "from_state", "to_state", "note",
	"effective_date"
};
static const Oid contract_event_types[lengthof(contract_event_colnames)] = {
	INT8OID, INT8OID, INT8OID, TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	DATEOID
};

typedef struct EventCache
{
	LmStatementCache base;
	int			att[C__COUNT];
	LmAppender	log;
	bool		have_outbox;
	LmAppender	outbox;
} EventCache;

/*
 * The events of one transition for outside systems: the contract's new state, and, when it
 * moved into or out of the states that hold its units, each unit's availability.
 */
static void
emit_transition(EventCache *cache, const LmRow *row, const char *event, const char *from, Datum *values,
				bool *nulls)
{
	const int  *att = cache->att;
	int64		contract_id = DatumGetInt64(values[2]);
	const char *to = TextDatumGetCString(values[7]);
	StringInfoData js;
	int64		last;

	initStringInfo(&js);
	appendStringInfoChar(&js, '{');
	lm_json_raw(&js, "contract_id", psprintf(INT64_FORMAT, contract_id));
	lm_json_text(&js, "contract", lm_row_text(row, att[C_CODE]));
	lm_json_raw(&js, "tenant_id", lm_row_text(row, att[C_TENANT_ID]));
	lm_json_text(&js, "event", event);
	lm_json_text(&js, "from_state", from);
	lm_json_text(&js, "to_state", to);
	lm_json_text(&js, "effective_date", nulls[9] ? NULL : lm_date_text(DatumGetDateADT(values[9])));
	lm_json_text(&js, "actor", TextDatumGetCString(values[4]));
	{
		char		at[MAXDATELEN + 1];
		int			utc = 0;

		/* ISO 8601 in UTC, whatever the session's TimeZone and DateStyle */
		lm_json_text(&js, "at", JsonEncodeDateTime(at, values[3], TIMESTAMPTZOID, &utc));
	}
	lm_json_text(&js, "lease_start", lm_date_text(row_date(row, att[C_START_DATE])));
	lm_json_text(&js, "lease_end", lm_date_text(row_date(row, att[C_END_DATE])));
	last = lm_outbox_emit(&cache->outbox, values[1], "contract.state", contract_id, lm_json_finish(&js));

	if (from != NULL && lm_state_is_live((LmContractState) lm_state_from_name(from)) != lm_state_is_live((LmContractState) lm_state_from_name(to)))
	{
		static SPIPlanPtr units_plan = NULL;
		static SPIPlanPtr code_plan = NULL;
		MemoryContext cxt = CurrentMemoryContext;
		bool		spi = false;
		Datum		arg = Int64GetDatum(contract_id);
		Oid			type = INT8OID;
		int64	   *units;
		int			nunits;
		int			i;

		/*
		 * Two single-table lookups, each on an index whatever the statistics were when the
		 * plan was kept (a kept join of the two, planned while they were small, scanned them
		 * whole on every later call: 2 ms a row in a bulk submit).
		 */
		lm_spi_connect(&spi);
		if (units_plan == NULL)
		{
			Oid			code_types[3] = {INT8OID, INT8OID, DATEOID};

			units_plan = lm_keep_plan("SELECT cu.unit_id FROM leasemgr.contract_unit cu "
									  "WHERE cu.contract_id OPERATOR(pg_catalog.=) $1 ORDER BY cu.unit_id", 1, &type);
			/* the unit is free when no other live lease holds it from today on (a renewal may) */
			code_plan = lm_keep_plan("SELECT u.code, NOT EXISTS (SELECT FROM leasemgr.contract_unit o "
									 "  WHERE o.unit_id OPERATOR(pg_catalog.=) u.id AND o.is_live "
									 "  AND o.contract_id OPERATOR(pg_catalog.<>) $2 "
									 "  AND pg_catalog.upper(o.held_range) OPERATOR(pg_catalog.>) $3) "
									 "FROM leasemgr.unit u WHERE u.id OPERATOR(pg_catalog.=) $1", 3, code_types);
		}
		if (SPI_execute_plan(units_plan, &arg, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "contract unit query failed");
		MemoryContextSwitchTo(cxt);
		nunits = (int) SPI_processed;
		units = palloc(sizeof(int64) * Max(nunits, 1));
		for (i = 0; i < nunits; i++)
		{
			bool		isnull;

			units[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		}
		SPI_freetuptable(SPI_tuptable);
		for (i = 0; i < nunits; i++)
		{
			int64		unit_id = units[i];
			Datum		uargs[3] = {Int64GetDatum(unit_id), Int64GetDatum(contract_id), DateADTGetDatum(lm_business_date())};
			bool		isnull;
			bool		free;

			if (SPI_execute_plan(code_plan, uargs, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
				elog(ERROR, "unit query failed");
			MemoryContextSwitchTo(cxt);
			free = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
			resetStringInfo(&js);
			appendStringInfoChar(&js, '{');
			lm_json_raw(&js, "unit_id", psprintf(INT64_FORMAT, unit_id));
			lm_json_text(&js, "unit", SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
			SPI_freetuptable(SPI_tuptable);
			lm_json_raw(&js, "available",
						!lm_state_is_live((LmContractState) lm_state_from_name(to)) && free ? "true" : "false");
			lm_json_raw(&js, "contract_id", psprintf(INT64_FORMAT, contract_id));
			lm_json_text(&js, "contract", lm_row_text(row, att[C_CODE]));
			lm_json_text(&js, "state", to);
			lm_json_text(&js, "lease_start", lm_date_text(row_date(row, att[C_START_DATE])));
			lm_json_text(&js, "lease_end", lm_date_text(row_date(row, att[C_END_DATE])));
			last = lm_outbox_emit(&cache->outbox, values[1], "unit.availability", unit_id, lm_json_finish(&js));
		}
		lm_spi_finish(&spi);
	}
	lm_outbox_notify(last);
}

/*
 * AFTER INSERT, and AFTER UPDATE WHEN the state changed, ON leasemgr.contract: one row in
 * the append-only contract_event log, in the same transaction as the change.
 */
Datum
contract_after_transition(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel;
	EventCache *cache;
	bool		fresh;
	LmRow		row;
	Datum		values[lengthof(contract_event_colnames)];
	bool		nulls[lengthof(contract_event_colnames)] = {0};
	int64		contract_id;
	const char *event;
	const char *from_name = NULL;

	lm_check_trigger(fcinfo, "contract_after_transition", true, false);
	rel = td->tg_relation;
	cache = lm_statement_cache(fcinfo, rel, sizeof(EventCache), &fresh);
	if (fresh)
	{
		lm_resolve_columns(rel, contract_colnames, C__REQUIRED, cache->att);
		lm_appender_init(&cache->log, "contract_event", contract_event_colnames,
						 contract_event_types, lengthof(contract_event_colnames),
						 fcinfo->flinfo->fn_mcxt);
		cache->have_outbox = lm_outbox_init(&cache->outbox, fcinfo->flinfo->fn_mcxt);
	}

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
	{
		/* A restored contract brings its restored timeline along. */
		if (lm_is_owner_copy(rel))
			return PointerGetDatum(NULL);
		lm_row_init(&row, td->tg_trigtuple, RelationGetDescr(rel));
		event = "create";
		nulls[6] = true;
	}
	else
	{
		LmRow		old;
		LmContractState from;

		lm_row_init(&old, td->tg_trigtuple, RelationGetDescr(rel));
		lm_row_init(&row, td->tg_newtuple, RelationGetDescr(rel));
		from = state_of(&old, cache->att[C_STATE], "?");
		event = lm_event_name((LmContractEvent)
							  lm_event_between(from, state_of(&row, cache->att[C_STATE], "?")));
		from_name = lm_state_name(from);
		values[6] = CStringGetTextDatum(from_name);
	}

	contract_id = DatumGetInt64(lm_row_datum(&row, cache->att[C_ID]));
	values[1] = lm_row_datum(&row, cache->att[C_PARK_ID]);
	values[2] = Int64GetDatum(contract_id);
	values[3] = TimestampTzGetDatum(GetCurrentTimestamp());
	values[4] = CStringGetTextDatum(lm_current_actor());
	values[5] = CStringGetTextDatum(event);
	values[7] = lm_row_datum(&row, cache->att[C_STATE]);
	if (pending_note != NULL && pending_note_contract == contract_id)
		values[8] = CStringGetTextDatum(pending_note);
	else
		nulls[8] = true;
	if (strcmp(event, "terminate") == 0)
	{
		values[9] = lm_row_datum(&row, cache->att[C_TERMINATED_ON]);
		nulls[9] = lm_row_null(&row, cache->att[C_TERMINATED_ON]);
	}
	else
		nulls[9] = true;

	lm_append(&cache->log, values, nulls);
	if (cache->have_outbox)
		emit_transition(cache, &row, event, from_name, values, nulls);
	return PointerGetDatum(NULL);
}

static void
contract_not_found(Datum id)
{
	ereport(ERROR,
			(errcode(ERRCODE_LM_NOT_FOUND),
			 errmsg("contract %lld does not exist", (long long) DatumGetInt64(id)),
			 errhint("Check the id; rows of parks you have not been granted are not visible to you.")));
}

/*
 * contract_transition(contract_id bigint, event text, note text, effective_date date)
 *     RETURNS text
 *
 * Looks the event up in the state machine and issues the UPDATE; the trigger does the rest
 * (guards, stamps, timeline), exactly as for a hand-written UPDATE.
 */
Datum
contract_transition(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr lock_plan = NULL;
	static SPIPlanPtr move_plan = NULL;
	static SPIPlanPtr terminate_plan = NULL;
	Datum		contract_id;
	char	   *event_name;
	int			ev;
	int			next;
	LmContractState cur;
	char	   *code;
	char	   *name;
	const char *state_name;
	bool		has_date = !PG_ARGISNULL(3);
	Datum		args[3];
	int64		saved_contract = pending_note_contract;
	const char *saved_note = pending_note;
	char		allowed[256];
	bool		spi = false;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_LM_INVALID_ARGUMENT),
				 errmsg("contract_id and event are required"),
				 errhint("Call leasemgr.contract_transition(contract_id, event [, note [, effective_date]]).")));
	contract_id = PG_GETARG_DATUM(0);
	event_name = text_to_cstring(PG_GETARG_TEXT_PP(1));

	ev = lm_event_from_name(event_name);
	if (ev < 0)
	{
		StringInfoData known;
		int			i;

		initStringInfo(&known);
		for (i = 0; i < LM_CE__COUNT; i++)
			appendStringInfo(&known, "%s%s", i ? ", " : "", lm_event_name((LmContractEvent) i));
		ereport(ERROR,
				(errcode(ERRCODE_LM_INVALID_TRANSITION),
				 errmsg("unknown contract event \"%s\"", event_name),
				 errdetail("The events are: %s.", known.data),
				 errhint("Event names are lower case, e.g. 'submit'.")));
	}

	lm_spi_connect(&spi);
	if (terminate_plan == NULL)
	{
		/* Prepared together, published last: a failure leaves none of them half-set. */
		Oid			types[3] = {INT8OID, TEXTOID, DATEOID};
		SPIPlanPtr	lock = lm_keep_plan("SELECT state, code FROM leasemgr.contract "
										"WHERE id OPERATOR(pg_catalog.=) $1 FOR UPDATE", 1, types);
		SPIPlanPtr	move = lm_keep_plan("UPDATE leasemgr.contract SET state = $2 "
										"WHERE id OPERATOR(pg_catalog.=) $1", 2, types);
		SPIPlanPtr	terminate = lm_keep_plan("UPDATE leasemgr.contract SET state = $2, terminated_on = $3 "
											 "WHERE id OPERATOR(pg_catalog.=) $1", 3, types);

		lock_plan = lock;
		move_plan = move;
		terminate_plan = terminate;
	}

	if (SPI_execute_plan(lock_plan, &contract_id, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "contract lookup failed");
	if (SPI_processed == 0)
		contract_not_found(contract_id);

	code = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	name = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	if (name == NULL || lm_state_from_name(name) < 0)
		elog(ERROR, "contract %s has an unknown state", code);
	cur = (LmContractState) lm_state_from_name(name);
	next = lm_next_state(cur, (LmContractEvent) ev);
	if (next < 0)
		ereport(ERROR,
				(errcode(ERRCODE_LM_INVALID_TRANSITION),
				 errmsg("contract %s cannot %s", code, event_name),
				 errdetail("Contract %s is %s; the events allowed from %s are: %s.",
						   code, lm_state_name(cur), lm_state_name(cur),
						   lm_allowed_events(cur, allowed, sizeof(allowed))),
				 errhint("See SELECT * FROM leasemgr.contract_state_machine().")));
	if (has_date && ev != LM_CE_TERMINATE)
		ereport(ERROR,
				(errcode(ERRCODE_LM_INVALID_ARGUMENT),
				 errmsg("effective_date applies only to the terminate event"),
				 errdetail("Event %s takes effect when it is recorded.", event_name),
				 errhint("Pass NULL as effective_date.")));

	/* A static string: it outlives SPI_finish, unlike anything palloc'd since SPI_connect. */
	state_name = lm_state_name((LmContractState) next);
	args[0] = contract_id;
	args[1] = CStringGetTextDatum(state_name);
	args[2] = has_date ? PG_GETARG_DATUM(3) : DateADTGetDatum(lm_business_date());

	PG_TRY();
	{
		pending_note_contract = DatumGetInt64(contract_id);
		pending_note = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
		if (SPI_execute_plan(ev == LM_CE_TERMINATE ? terminate_plan : move_plan,
							 args, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "contract update failed");
	}
	PG_FINALLY();
	{
		pending_note_contract = saved_contract;
		pending_note = saved_note;
	}
	PG_END_TRY();

	lm_spi_finish(&spi);
	PG_RETURN_TEXT_P(cstring_to_text(state_name));
}

/*
 * contract_state_machine() RETURNS TABLE(from_state, event, to_state, guard): the table the
 * trigger enforces, for people and documentation.
 */
Datum
contract_state_machine(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < lm_transition_count; i++)
	{
		Datum		values[4];
		bool		nulls[4] = {0};

		values[0] = CStringGetTextDatum(lm_state_name(lm_transitions[i].from));
		values[1] = CStringGetTextDatum(lm_event_name(lm_transitions[i].event));
		values[2] = CStringGetTextDatum(lm_state_name(lm_transitions[i].to));
		values[3] = CStringGetTextDatum(lm_transitions[i].guard);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * contract_state_is_live(state text) RETURNS boolean: the generated column contract.is_live
 * uses the same definition as the trigger.
 */
Datum
contract_state_is_live(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int			s = lm_state_from_name(name);

	if (s < 0)
		ereport(ERROR,
				(errcode(ERRCODE_LM_INVALID_TRANSITION),
				 errmsg("unknown contract state \"%s\"", name),
				 errhint("See SELECT * FROM leasemgr.contract_state_machine() for the states.")));
	PG_RETURN_BOOL(lm_state_is_live((LmContractState) s));
}
