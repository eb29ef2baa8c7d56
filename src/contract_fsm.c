/*
 * contract_fsm.c
 *     The contract state machine, enforced for every writer.
 *
 * contract_before_write (BEFORE INSERT/UPDATE/DELETE ON contract) applies the transition
 * table of core/lm_contract_states.c, the guards, the term lock and the stamps, so a direct
 * UPDATE of contract.state meets exactly the rules contract_transition() does.
 * contract_after_transition (AFTER, only when the state changed) appends the timeline row.
 * contract_unit_before_write keeps units in the contract's park, locks them after
 * submission, and explains a double booking before the exclusion constraint would.
 *
 * Every query here is schema-qualified down to its operators: triggers run under the
 * caller's search_path and must not be steerable by it.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/rangetypes.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "leasemgr.h"
#include "lm_contract_states.h"

PG_FUNCTION_INFO_V1(contract_before_write);
PG_FUNCTION_INFO_V1(contract_after_transition);
PG_FUNCTION_INFO_V1(contract_unit_before_write);
PG_FUNCTION_INFO_V1(contract_transition);
PG_FUNCTION_INFO_V1(contract_state_machine);
PG_FUNCTION_INFO_V1(contract_state_is_live);

/*
 * The note contract_transition() passes to the timeline row its UPDATE produces. Set just
 * around that UPDATE, cleared on every exit path.
 */
static int64 pending_note_contract = 0;
static const char *pending_note = NULL;

/* Columns of leasemgr.contract, looked up by name once per trigger call. */
typedef struct ContractCols
{
	int			id,
				park_id,
				code,
				tenant_id,
				state,
				start_date,
				end_date,
				terminated_on,
				document_sha256,
				signed_at,
				renews_contract_id,
				created_by,
				created_at,
				submitted_by,
				submitted_at,
				approved_by,
				approved_at,
				state_since;
} ContractCols;

static void
contract_cols(Relation rel, ContractCols *c)
{
	c->id = lm_attnum(rel, "id");
	c->park_id = lm_attnum(rel, "park_id");
	c->code = lm_attnum(rel, "code");
	c->tenant_id = lm_attnum(rel, "tenant_id");
	c->state = lm_attnum(rel, "state");
	c->start_date = lm_attnum(rel, "start_date");
	c->end_date = lm_attnum(rel, "end_date");
	c->terminated_on = lm_attnum(rel, "terminated_on");
	c->document_sha256 = lm_attnum(rel, "document_sha256");
	c->signed_at = lm_attnum(rel, "signed_at");
	c->renews_contract_id = lm_attnum(rel, "renews_contract_id");
	c->created_by = lm_attnum(rel, "created_by");
	c->created_at = lm_attnum(rel, "created_at");
	c->submitted_by = lm_attnum(rel, "submitted_by");
	c->submitted_at = lm_attnum(rel, "submitted_at");
	c->approved_by = lm_attnum(rel, "approved_by");
	c->approved_at = lm_attnum(rel, "approved_at");
	c->state_since = lm_attnum(rel, "state_since");
}

/* Column replacements collected while checking, applied once with heap_modify_tuple_by_cols. */
typedef struct TupleEdits
{
	MemoryContext cxt;			/* where the modified tuple is built: outlives SPI */
	int			n;
	int			cols[16];
	Datum		values[16];
	bool		nulls[16];
} TupleEdits;

static void
edit_set(TupleEdits *e, int attnum, Datum value, bool isnull)
{
	Assert(e->n < (int) lengthof(e->cols));
	e->cols[e->n] = attnum;
	e->values[e->n] = value;
	e->nulls[e->n] = isnull;
	e->n++;
}

static HeapTuple
edits_apply(HeapTuple tuple, TupleDesc desc, TupleEdits *e)
{
	MemoryContext old;
	HeapTuple	result;

	if (e->n == 0)
		return tuple;
	old = MemoryContextSwitchTo(e->cxt);
	result = heap_modify_tuple_by_cols(tuple, desc, e->n, e->cols, e->values, e->nulls);
	MemoryContextSwitchTo(old);
	return result;
}

static bool
col_is_null(HeapTuple t, TupleDesc desc, int attnum)
{
	return heap_attisnull(t, attnum, desc);
}

static Datum
col_datum(HeapTuple t, TupleDesc desc, int attnum, bool *isnull)
{
	return heap_getattr(t, attnum, desc, isnull);
}

static bool
col_changed(HeapTuple oldt, HeapTuple newt, TupleDesc desc, int attnum)
{
	Form_pg_attribute att = TupleDescAttr(desc, attnum - 1);
	bool		oldnull,
				newnull;
	Datum		o = heap_getattr(oldt, attnum, desc, &oldnull);
	Datum		n = heap_getattr(newt, attnum, desc, &newnull);

	if (oldnull || newnull)
		return oldnull != newnull;
	return !datum_image_eq(o, n, att->attbyval, att->attlen);
}


static LmContractState
state_of(HeapTuple t, TupleDesc desc, int attnum, const char *code)
{
	char	   *name = SPI_getvalue(t, desc, attnum);
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
col_date(HeapTuple t, TupleDesc desc, int attnum)
{
	bool		isnull;
	Datum		d = heap_getattr(t, attnum, desc, &isnull);

	return isnull ? DATEVAL_NOEND : DatumGetDateADT(d);
}

/* Dates in messages are ISO 8601 whatever the session's DateStyle: 2026-03-15. */
static char *
date_text(DateADT d)
{
	int			y,
				m,
				day;

	if (DATE_NOT_FINITE(d))
		return pstrdup(DATE_IS_NOBEGIN(d) ? "-infinity" : "infinity");
	j2date(d + POSTGRES_EPOCH_JDATE, &y, &m, &day);
	return psprintf("%04d-%02d-%02d", y, m, day);
}

/* Column text for messages: "(none)" for NULL, dates in ISO form. */
static char *
col_text(HeapTuple t, TupleDesc desc, int attnum)
{
	char	   *v;

	if (col_is_null(t, desc, attnum))
		return pstrdup("(none)");
	if (TupleDescAttr(desc, attnum - 1)->atttypid == DATEOID)
		return date_text(col_date(t, desc, attnum));
	v = SPI_getvalue(t, desc, attnum);
	return v ? v : pstrdup("(none)");
}


static void
check_lease_dates(HeapTuple t, TupleDesc desc, ContractCols *c, const char *code)
{
	DateADT		start = col_date(t, desc, c->start_date);
	DateADT		end = col_date(t, desc, c->end_date);

	if (end < start)
		ereport(ERROR,
				(errcode(ERRCODE_LM_INVALID_LEASE_DATES),
				 errmsg("lease of contract %s ends before it starts", code),
				 errdetail("start_date is %s and end_date is %s; both days are part of the lease.",
						   date_text(start), date_text(end)),
				 errhint("A one-day lease has start_date = end_date.")));
}

/* Lower-case a document hash and insist on 64 hex digits (the CHECK constraint agrees). */
static void
normalize_document_hash(HeapTuple t, TupleDesc desc, ContractCols *c, TupleEdits *e,
						const char *code)
{
	char	   *h = SPI_getvalue(t, desc, c->document_sha256);
	char	   *p;
	bool		changed = false;

	if (h == NULL)
		return;
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
				 errmsg("document_sha256 of contract %s is not a SHA-256 digest", code),
				 errdetail("A SHA-256 digest is 64 hexadecimal characters; the value given has %d characters.",
						   (int) strlen(h)),
				 errhint("Store the hex digest of the signed file, e.g. the output of sha256sum.")));
	if (changed)
		edit_set(e, c->document_sha256, CStringGetTextDatum(h), false);
}

static void
refuse_stamp(const char *column, const char *code)
{
	ereport(ERROR,
			(errcode(ERRCODE_LM_TERMS_LOCKED),
			 errmsg("column %s of contract %s is set by the state machine", column, code),
			 errdetail("%s records who moved the contract and when; it is never written by hand.",
					   column),
			 errhint("Use leasemgr.contract_transition(); the timeline keeps every past value.")));
}

static bool
contract_has_units(Datum contract_id)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {INT8OID};
	Datum		args[1];

	if (plan == NULL)
	{
		plan = SPI_prepare("SELECT 1 FROM leasemgr.contract_unit "
						   "WHERE contract_id OPERATOR(pg_catalog.=) $1 LIMIT 1",
						   1, argtypes);
		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "could not prepare contract unit query: %s",
				 SPI_result_code_string(SPI_result));
	}
	args[0] = contract_id;
	if (SPI_execute_plan(plan, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "contract unit query failed");
	return SPI_processed > 0;
}

/*
 * Guards of one transition, and the stamps it leaves. newt is the row as written; edits
 * collect the columns the trigger sets.
 */
static void
apply_transition(LmContractEvent ev, HeapTuple oldt, HeapTuple newt, TupleDesc desc,
				 ContractCols *c, TupleEdits *e, const char *code)
{
	Datum		now = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	const char *actor = lm_current_actor();
	DateADT		today = GetSQLCurrentDate();
	bool		isnull;

	switch (ev)
	{
		case LM_CE_SUBMIT:
			if (!contract_has_units(col_datum(newt, desc, c->id, &isnull)))
				ereport(ERROR,
						(errcode(ERRCODE_LM_GUARD_FAILED),
						 errmsg("contract %s cannot be submitted without a unit", code),
						 errdetail("A lease leases something: leasemgr.contract_unit has no row for this contract."),
						 errhint("Add the units with INSERT INTO leasemgr.contract_unit (contract_id, unit_id) while the contract is a draft.")));
			edit_set(e, c->submitted_by, CStringGetTextDatum(actor), false);
			edit_set(e, c->submitted_at, now, false);
			edit_set(e, c->approved_by, (Datum) 0, true);
			edit_set(e, c->approved_at, (Datum) 0, true);
			break;

		case LM_CE_REJECT:
			edit_set(e, c->submitted_by, (Datum) 0, true);
			edit_set(e, c->submitted_at, (Datum) 0, true);
			break;

		case LM_CE_APPROVE:
			{
				char	   *submitter = SPI_getvalue(oldt, desc, c->submitted_by);

				if (submitter != NULL && strcmp(submitter, actor) == 0)
					ereport(ERROR,
							(errcode(ERRCODE_LM_FOUR_EYES),
							 errmsg("contract %s must be approved by someone other than its submitter", code),
							 errdetail("%s submitted it and is now trying to approve it.", actor),
							 errhint("Ask a second person to approve; applications set leasemgr.actor to the person acting.")));
				edit_set(e, c->approved_by, CStringGetTextDatum(actor), false);
				edit_set(e, c->approved_at, now, false);
			}
			break;

		case LM_CE_SIGN:
			if (col_is_null(newt, desc, c->document_sha256))
				ereport(ERROR,
						(errcode(ERRCODE_LM_GUARD_FAILED),
						 errmsg("contract %s cannot be signed without its document", code),
						 errdetail("document_sha256 is empty: nothing records which file was signed."),
						 errhint("Set document_sha256 to the SHA-256 of the signed file in the same UPDATE or before signing.")));
			if (col_is_null(newt, desc, c->signed_at))
				edit_set(e, c->signed_at, now, false);
			else if (DatumGetTimestampTz(col_datum(newt, desc, c->signed_at, &isnull)) >
					 GetCurrentTimestamp())
				ereport(ERROR,
						(errcode(ERRCODE_LM_GUARD_FAILED),
						 errmsg("contract %s cannot be signed in the future", code),
						 errdetail("signed_at is %s.", col_text(newt, desc, c->signed_at)),
						 errhint("Leave signed_at empty to record the time of the sign transition.")));
			break;

		case LM_CE_ACTIVATE:
			if (today < col_date(newt, desc, c->start_date))
				ereport(ERROR,
						(errcode(ERRCODE_LM_GUARD_FAILED),
						 errmsg("contract %s cannot be activated before its start date", code),
						 errdetail("The lease starts on %s; today is %s.",
								   col_text(newt, desc, c->start_date), date_text(today)),
						 errhint("Activate it on or after the start date; the daily job does so automatically.")));
			break;

		case LM_CE_EXPIRE:
			if (today <= col_date(newt, desc, c->end_date))
				ereport(ERROR,
						(errcode(ERRCODE_LM_GUARD_FAILED),
						 errmsg("contract %s cannot expire before its end date has passed", code),
						 errdetail("The lease ends on %s (inclusive); today is %s.",
								   col_text(newt, desc, c->end_date), date_text(today)),
						 errhint("To end it early, use the terminate event with a termination date.")));
			break;

		case LM_CE_TERMINATE:
			{
				DateADT		t = col_date(newt, desc, c->terminated_on);

				if (col_is_null(newt, desc, c->terminated_on) ||
					t < col_date(newt, desc, c->start_date) ||
					t > col_date(newt, desc, c->end_date))
					ereport(ERROR,
							(errcode(ERRCODE_LM_GUARD_FAILED),
							 errmsg("contract %s needs a termination date within its lease", code),
							 errdetail("terminated_on is %s; the lease runs from %s to %s.",
									   col_text(newt, desc, c->terminated_on),
									   col_text(newt, desc, c->start_date),
									   col_text(newt, desc, c->end_date)),
							 errhint("Pass the last day of the lease as effective_date: leasemgr.contract_transition(id, 'terminate', note, date).")));
			}
			break;

		case LM_CE_START_MOVE_OUT:
		case LM_CE_CLOSE:
		case LM_CE_CANCEL:
		case LM_CE__COUNT:
			break;
	}
	edit_set(e, c->state_since, now, false);
}

/*
 * renews_contract_id must name a contract of the same park. Checked here rather than by a
 * self-referencing foreign key (which makes pg_dump warn about circular keys on every dump);
 * the referenced row is locked FOR KEY SHARE, as a foreign key would, so it cannot be
 * deleted while this row is being written.
 */
static void
check_renewed_contract(HeapTuple t, TupleDesc desc, ContractCols *c, const char *code)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {INT8OID};
	bool		isnull;
	Datum		renews = heap_getattr(t, c->renews_contract_id, desc, &isnull);
	Datum		park;

	if (isnull)
		return;
	if (plan == NULL)
	{
		plan = SPI_prepare("SELECT park_id FROM leasemgr.contract "
						   "WHERE id OPERATOR(pg_catalog.=) $1 FOR KEY SHARE", 1, argtypes);
		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "could not prepare renewal query: %s", SPI_result_code_string(SPI_result));
	}
	if (SPI_execute_plan(plan, &renews, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "renewal query failed");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_LM_NOT_FOUND),
				 errmsg("contract %lld renewed by contract %s does not exist",
						(long long) DatumGetInt64(renews), code),
				 errhint("Check renews_contract_id; contracts of parks you have not been granted are not visible to you.")));
	park = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (DatumGetInt64(park) != DatumGetInt64(heap_getattr(t, c->park_id, desc, &isnull)))
		ereport(ERROR,
				(errcode(ERRCODE_LM_PARK_MISMATCH),
				 errmsg("contract %s cannot renew a contract of another park", code),
				 errdetail("Contract %lld belongs to park %lld.", (long long) DatumGetInt64(renews),
						   (long long) DatumGetInt64(park)),
				 errhint("A renewal is a contract of the same park.")));
}

/* A draft that another contract renews stays: deleting it would cut the renewal chain. */
static void
check_not_renewed(HeapTuple t, TupleDesc desc, ContractCols *c, const char *code)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {INT8OID};
	bool		isnull;
	Datum		id = heap_getattr(t, c->id, desc, &isnull);

	if (plan == NULL)
	{
		plan = SPI_prepare("SELECT code FROM leasemgr.contract "
						   "WHERE renews_contract_id OPERATOR(pg_catalog.=) $1 LIMIT 1", 1, argtypes);
		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "could not prepare renewal query: %s", SPI_result_code_string(SPI_result));
	}
	if (SPI_execute_plan(plan, &id, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "renewal query failed");
	if (SPI_processed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("contract %s cannot be deleted: contract %s renews it", code,
						SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1)),
				 errhint("Clear renews_contract_id of the renewal first, or cancel this contract instead.")));
}

static HeapTuple
contract_before_insert(TriggerData *td, ContractCols *c, MemoryContext cxt)
{
	Relation	rel = td->tg_relation;
	TupleDesc	desc = RelationGetDescr(rel);
	HeapTuple	newt = td->tg_trigtuple;
	char	   *code = col_text(newt, desc, c->code);
	TupleEdits	e = {.cxt = cxt};
	Datum		now = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	LmContractState state = state_of(newt, desc, c->state, code);
	static const char *const stamps[] = {"submitted_by", "submitted_at", "approved_by",
	"approved_at", "signed_at", "terminated_on"};
	int			i;

	check_lease_dates(newt, desc, c, code);
	normalize_document_hash(newt, desc, c, &e, code);

	/* pg_restore and supervised migrations load finished contracts as they were. */
	if (lm_is_owner_copy(rel))
		return edits_apply(newt, desc, &e);

	check_renewed_contract(newt, desc, c, code);

	if (state != LM_CS_DRAFT)
		ereport(ERROR,
				(errcode(ERRCODE_LM_INVALID_TRANSITION),
				 errmsg("contract %s must be created as a draft", code),
				 errdetail("The row was inserted in state \"%s\"; every contract starts as a draft and reaches other states through the state machine.",
						   lm_state_name(state)),
				 errhint("Insert it with state 'draft' and use leasemgr.contract_transition().")));
	for (i = 0; i < (int) lengthof(stamps); i++)
	{
		if (!col_is_null(newt, desc, lm_attnum(rel, stamps[i])))
			refuse_stamp(stamps[i], code);
	}

	edit_set(&e, c->created_by, CStringGetTextDatum(lm_current_actor()), false);
	edit_set(&e, c->created_at, now, false);
	edit_set(&e, c->state_since, now, false);
	return edits_apply(newt, desc, &e);
}

static HeapTuple
contract_before_update(TriggerData *td, ContractCols *c, MemoryContext cxt)
{
	Relation	rel = td->tg_relation;
	TupleDesc	desc = RelationGetDescr(rel);
	HeapTuple	oldt = td->tg_trigtuple;
	HeapTuple	newt = td->tg_newtuple;
	char	   *code = col_text(oldt, desc, c->code);
	LmContractState from = state_of(oldt, desc, c->state, code);
	LmContractState to = state_of(newt, desc, c->state, code);
	int			ev = -1;
	TupleEdits	e = {.cxt = cxt};
	static const char *const terms[] = {"code", "tenant_id", "start_date", "end_date",
	"renews_contract_id"};
	int			i;

	if (lm_state_is_final(from))
		ereport(ERROR,
				(errcode(ERRCODE_LM_READ_ONLY),
				 errmsg("contract %s is %s and can no longer change", code, lm_state_name(from)),
				 errdetail("Closed and cancelled contracts are kept exactly as they ended."),
				 errhint("Create a new contract (leasemgr.renew for a renewal) instead.")));

	if (col_changed(oldt, newt, desc, c->id))
		refuse_stamp("id", code);
	if (col_changed(oldt, newt, desc, c->park_id))
		ereport(ERROR,
				(errcode(ERRCODE_LM_PARK_MISMATCH),
				 errmsg("contract %s cannot move to another park", code),
				 errdetail("It belongs to park %s.", col_text(oldt, desc, c->park_id)),
				 errhint("Cancel it and create the contract in the other park.")));
	if (col_changed(oldt, newt, desc, c->created_by))
		refuse_stamp("created_by", code);
	if (col_changed(oldt, newt, desc, c->created_at))
		refuse_stamp("created_at", code);
	if (col_changed(oldt, newt, desc, c->submitted_by))
		refuse_stamp("submitted_by", code);
	if (col_changed(oldt, newt, desc, c->submitted_at))
		refuse_stamp("submitted_at", code);
	if (col_changed(oldt, newt, desc, c->approved_by))
		refuse_stamp("approved_by", code);
	if (col_changed(oldt, newt, desc, c->approved_at))
		refuse_stamp("approved_at", code);
	if (col_changed(oldt, newt, desc, c->state_since))
		refuse_stamp("state_since", code);

	if (from != to)
	{
		char		allowed[256];

		ev = lm_event_between(from, to);
		if (ev < 0)
			ereport(ERROR,
					(errcode(ERRCODE_LM_INVALID_TRANSITION),
					 errmsg("contract %s cannot go from %s to %s", code,
							lm_state_name(from), lm_state_name(to)),
					 errdetail("Contract %s is %s; the events allowed from %s are: %s.",
							   code, lm_state_name(from), lm_state_name(from),
							   lm_allowed_events(from, allowed, sizeof(allowed))),
					 errhint("See SELECT * FROM leasemgr.contract_state_machine().")));
	}

	/* What was submitted is what gets approved: terms move only in draft. */
	if (from != LM_CS_DRAFT)
	{
		for (i = 0; i < (int) lengthof(terms); i++)
		{
			if (col_changed(oldt, newt, desc, lm_attnum(rel, terms[i])))
				ereport(ERROR,
						(errcode(ERRCODE_LM_TERMS_LOCKED),
						 errmsg("the terms of contract %s are locked", code),
						 errdetail("Contract %s is %s; %s can change only while the contract is a draft (was %s, would be %s).",
								   code, lm_state_name(from), terms[i],
								   col_text(oldt, desc, lm_attnum(rel, terms[i])),
								   col_text(newt, desc, lm_attnum(rel, terms[i]))),
						 errhint("Change a live contract through an amendment (leasemgr.amendment_open); a contract under review can be rejected back to draft first.")));
		}
	}
	if (col_changed(oldt, newt, desc, c->document_sha256))
	{
		if (from >= LM_CS_SIGNED)
			ereport(ERROR,
					(errcode(ERRCODE_LM_TERMS_LOCKED),
					 errmsg("the signed document of contract %s cannot be replaced", code),
					 errdetail("Contract %s was signed with the document whose SHA-256 is %s.",
							   code, col_text(oldt, desc, c->document_sha256)),
					 errhint("A changed document is an amendment to the contract.")));
		normalize_document_hash(newt, desc, c, &e, code);
	}
	if (col_changed(oldt, newt, desc, c->signed_at) && ev != LM_CE_SIGN)
		refuse_stamp("signed_at", code);
	if (col_changed(oldt, newt, desc, c->terminated_on) && ev != LM_CE_TERMINATE)
		refuse_stamp("terminated_on", code);

	check_lease_dates(newt, desc, c, code);
	if (col_changed(oldt, newt, desc, c->renews_contract_id))
		check_renewed_contract(newt, desc, c, code);

	if (ev >= 0)
		apply_transition((LmContractEvent) ev, oldt, newt, desc, c, &e, code);
	return edits_apply(newt, desc, &e);
}

/*
 * BEFORE INSERT OR UPDATE OR DELETE ON leasemgr.contract FOR EACH ROW.
 */
Datum
contract_before_write(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	ContractCols c;
	HeapTuple	result;

	MemoryContext cxt = CurrentMemoryContext;

	lm_check_trigger(fcinfo, "contract_before_write", true, true);
	contract_cols(td->tg_relation, &c);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
		result = contract_before_insert(td, &c, cxt);
	else if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		result = contract_before_update(td, &c, cxt);
	else
	{
		TupleDesc	desc = RelationGetDescr(td->tg_relation);
		char	   *code = col_text(td->tg_trigtuple, desc, c.code);
		LmContractState s = state_of(td->tg_trigtuple, desc, c.state, code);

		if (s != LM_CS_DRAFT)
			ereport(ERROR,
					(errcode(ERRCODE_LM_READ_ONLY),
					 errmsg("contract %s cannot be deleted", code),
					 errdetail("Contract %s is %s; only drafts are deleted, every other contract stays on record.",
							   code, lm_state_name(s)),
					 errhint("Cancel it with leasemgr.contract_transition(id, 'cancel') while it is not yet active.")));
		check_not_renewed(td->tg_trigtuple, desc, &c, code);
		result = td->tg_trigtuple;
	}

	/* The modified tuple was built in cxt, so it survives SPI_finish. */
	SPI_finish();
	return PointerGetDatum(result);
}

static const char *const contract_event_columns[] = {
	"id", "park_id", "contract_id", "at", "actor", "event", "from_state", "to_state", "note",
	"effective_date"
};

/*
 * AFTER INSERT, and AFTER UPDATE WHEN the state changed, ON leasemgr.contract: one row in
 * the append-only contract_event log, in the same transaction as the change.
 */
Datum
contract_after_transition(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel;
	TupleDesc	desc;
	HeapTuple	newt;
	ContractCols c;
	Oid			relid;
	Datum		values[10];
	bool		nulls[10] = {0};
	bool		isnull;
	int64		contract_id;
	const char *event;

	lm_check_trigger(fcinfo, "contract_after_transition", true, false);
	rel = td->tg_relation;
	desc = RelationGetDescr(rel);
	contract_cols(rel, &c);

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
	{
		/* A restored contract brings its restored timeline along. */
		if (lm_is_owner_copy(rel))
			return PointerGetDatum(NULL);
		newt = td->tg_trigtuple;
		event = "create";
		nulls[6] = true;
	}
	else
	{
		char	   *code = col_text(td->tg_trigtuple, desc, c.code);
		LmContractState from = state_of(td->tg_trigtuple, desc, c.state, code);

		newt = td->tg_newtuple;
		event = lm_event_name((LmContractEvent)
							  lm_event_between(from, state_of(newt, desc, c.state, code)));
		values[6] = CStringGetTextDatum(lm_state_name(from));
	}

	contract_id = DatumGetInt64(col_datum(newt, desc, c.id, &isnull));
	relid = lm_relid("contract_event");

	values[0] = Int64GetDatum(lm_nextval("contract_event_id_seq"));
	values[1] = col_datum(newt, desc, c.park_id, &isnull);
	values[2] = Int64GetDatum(contract_id);
	values[3] = TimestampTzGetDatum(GetCurrentTimestamp());
	values[4] = CStringGetTextDatum(lm_current_actor());
	values[5] = CStringGetTextDatum(event);
	values[7] = col_datum(newt, desc, c.state, &isnull);
	if (pending_note != NULL && pending_note_contract == contract_id)
		values[8] = CStringGetTextDatum(pending_note);
	else
		nulls[8] = true;
	if (strcmp(event, "terminate") == 0)
		values[9] = col_datum(newt, desc, c.terminated_on, &nulls[9]);
	else
		nulls[9] = true;

	lm_append_row(relid, contract_event_columns, lengthof(contract_event_columns), values, nulls);
	return PointerGetDatum(NULL);
}

/* ---- contract_unit ---------------------------------------------------------------- */

typedef struct ContractFacts
{
	bool		found;
	LmContractState state;
	int64		park_id;
	Datum		lease_range;
	bool		is_live;
	char	   *code;
} ContractFacts;

/*
 * The contract a unit row belongs to, locked FOR SHARE so a concurrent submit waits for this
 * unit change (and sees it) instead of racing past it. Runs inside SPI.
 */
static ContractFacts
lookup_contract(Datum contract_id)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {INT8OID};
	ContractFacts f = {0};
	bool		isnull;

	if (plan == NULL)
	{
		plan = SPI_prepare("SELECT state, park_id, lease_range, is_live, code "
						   "FROM leasemgr.contract WHERE id OPERATOR(pg_catalog.=) $1 FOR SHARE",
						   1, argtypes);
		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "could not prepare contract query: %s",
				 SPI_result_code_string(SPI_result));
	}
	if (SPI_execute_plan(plan, &contract_id, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "contract query failed");
	if (SPI_processed == 0)
		return f;

	f.found = true;
	f.code = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 5);
	f.state = state_of(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, f.code);
	f.park_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	f.lease_range = SPI_datumTransfer(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull),
									  false, -1);
	f.is_live = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4, &isnull));
	return f;
}

static void
refuse_unit_change(ContractFacts *f, const char *what)
{
	if (lm_state_is_final(f->state))
		ereport(ERROR,
				(errcode(ERRCODE_LM_READ_ONLY),
				 errmsg("contract %s is %s and can no longer change", f->code,
						lm_state_name(f->state)),
				 errdetail("Cannot %s.", what),
				 errhint("Closed and cancelled contracts are kept exactly as they ended.")));
	ereport(ERROR,
			(errcode(ERRCODE_LM_TERMS_LOCKED),
			 errmsg("the units of contract %s are locked", f->code),
			 errdetail("Contract %s is %s; units and billable areas change only while the contract is a draft (cannot %s).",
					   f->code, lm_state_name(f->state), what),
			 errhint("Change a live contract through an amendment (leasemgr.amendment_open); a contract under review can be rejected back to draft first.")));
}

/*
 * Clear message for a double booking. The exclusion constraint is what makes the rule hold
 * under concurrency; this check only names the contract in the way.
 */
static void
check_unit_free(Datum unit_id, Datum lease_range, Datum contract_id)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[3] = {INT8OID, DATERANGEOID, INT8OID};
	Datum		args[3];

	if (plan == NULL)
	{
		plan = SPI_prepare("SELECT u.code, c.code, c.state, "
						   "       pg_catalog.to_char(pg_catalog.lower(cu.lease_range), 'YYYY-MM-DD'), "
						   "       pg_catalog.to_char(pg_catalog.upper(cu.lease_range) OPERATOR(pg_catalog.-) 1, 'YYYY-MM-DD'), "
						   "       pg_catalog.to_char(pg_catalog.lower($2), 'YYYY-MM-DD'), "
						   "       pg_catalog.to_char(pg_catalog.upper($2) OPERATOR(pg_catalog.-) 1, 'YYYY-MM-DD') "
						   "FROM leasemgr.contract_unit cu "
						   "JOIN leasemgr.contract c ON c.id OPERATOR(pg_catalog.=) cu.contract_id "
						   "JOIN leasemgr.unit u ON u.id OPERATOR(pg_catalog.=) cu.unit_id "
						   "WHERE cu.unit_id OPERATOR(pg_catalog.=) $1 AND cu.is_live "
						   "  AND cu.lease_range OPERATOR(pg_catalog.&&) $2 "
						   "  AND cu.contract_id OPERATOR(pg_catalog.<>) $3 LIMIT 1",
						   3, argtypes);
		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "could not prepare double-booking query: %s",
				 SPI_result_code_string(SPI_result));
	}
	args[0] = unit_id;
	args[1] = lease_range;
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

/* Park and area of a unit, as the caller sees it (row-level security applies). */
static bool
lookup_unit(Datum unit_id, int64 *park_id, Datum *area, char **code)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {INT8OID};
	bool		isnull;

	if (plan == NULL)
	{
		plan = SPI_prepare("SELECT park_id, area_m2, code FROM leasemgr.unit "
						   "WHERE id OPERATOR(pg_catalog.=) $1",
						   1, argtypes);
		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "could not prepare unit query: %s",
				 SPI_result_code_string(SPI_result));
	}
	if (SPI_execute_plan(plan, &unit_id, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "unit query failed");
	if (SPI_processed == 0)
		return false;
	*park_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	*area = SPI_datumTransfer(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull),
							  false, -1);
	*code = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
	return true;
}

static void
not_found(const char *what, Datum id)
{
	ereport(ERROR,
			(errcode(ERRCODE_LM_NOT_FOUND),
			 errmsg("%s %lld does not exist", what, (long long) DatumGetInt64(id)),
			 errhint("Check the id; rows of parks you have not been granted are not visible to you.")));
}

/* The unit must exist for the caller and be in the contract's park. */
static Datum
check_unit_of_contract(Datum unit_id, ContractFacts *f)
{
	int64		unit_park;
	Datum		area;
	char	   *unit_code;

	if (!lookup_unit(unit_id, &unit_park, &area, &unit_code))
		not_found("unit", unit_id);
	if (unit_park != f->park_id)
		ereport(ERROR,
				(errcode(ERRCODE_LM_PARK_MISMATCH),
				 errmsg("unit %s is not in the park of contract %s", unit_code, f->code),
				 errdetail("The unit belongs to park %lld, the contract to park %lld.",
						   (long long) unit_park, (long long) f->park_id),
				 errhint("A contract leases units of its own park only.")));
	return area;
}

/*
 * BEFORE INSERT OR UPDATE OR DELETE ON leasemgr.contract_unit FOR EACH ROW.
 *
 * park_id, lease_range and is_live are copies of the contract's, filled in here and kept
 * equal afterwards by the cascading foreign key; a cascade that makes the row live (submit)
 * or moves its end (terminate) passes the double-booking check.
 */
Datum
contract_unit_before_write(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel;
	TupleDesc	desc;
	HeapTuple	oldt = NULL;
	HeapTuple	newt = NULL;
	int			a_contract,
				a_unit,
				a_park,
				a_area,
				a_range,
				a_live,
				a_id;
	bool		isnull;
	ContractFacts f;
	TupleEdits	e = {.cxt = CurrentMemoryContext};
	HeapTuple	result;

	lm_check_trigger(fcinfo, "contract_unit_before_write", true, true);
	rel = td->tg_relation;
	desc = RelationGetDescr(rel);
	a_id = lm_attnum(rel, "id");
	a_contract = lm_attnum(rel, "contract_id");
	a_unit = lm_attnum(rel, "unit_id");
	a_park = lm_attnum(rel, "park_id");
	a_area = lm_attnum(rel, "billable_area_m2");
	a_range = lm_attnum(rel, "lease_range");
	a_live = lm_attnum(rel, "is_live");

	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
	{
		oldt = td->tg_trigtuple;
		newt = td->tg_newtuple;
	}
	else if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
		newt = td->tg_trigtuple;
	else
		oldt = td->tg_trigtuple;

	if (newt != NULL && TRIGGER_FIRED_BY_INSERT(td->tg_event) && lm_is_owner_copy(rel))
		return PointerGetDatum(newt);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event) &&
		!col_changed(oldt, newt, desc, a_id) &&
		!col_changed(oldt, newt, desc, a_contract) &&
		!col_changed(oldt, newt, desc, a_unit) &&
		!col_changed(oldt, newt, desc, a_park) &&
		!col_changed(oldt, newt, desc, a_area))
	{
		/* Only the copies of the contract changed: the cascade from contract. */
		bool		live = DatumGetBool(heap_getattr(newt, a_live, desc, &isnull));

		if (live && (!DatumGetBool(heap_getattr(oldt, a_live, desc, &isnull)) ||
					 col_changed(oldt, newt, desc, a_range)))
			check_unit_free(heap_getattr(newt, a_unit, desc, &isnull),
							heap_getattr(newt, a_range, desc, &isnull),
							heap_getattr(newt, a_contract, desc, &isnull));
		result = newt;
	}
	else if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
	{
		f = lookup_contract(heap_getattr(oldt, a_contract, desc, &isnull));
		/* Not found: the draft contract itself is being deleted and cascades here. */
		if (f.found && f.state != LM_CS_DRAFT)
			refuse_unit_change(&f, "remove a unit");
		result = oldt;
	}
	else
	{
		Datum		contract_id = heap_getattr(newt, a_contract, desc, &isnull);
		Datum		area;

		if (oldt != NULL && (col_changed(oldt, newt, desc, a_contract) ||
							 col_changed(oldt, newt, desc, a_id)))
			ereport(ERROR,
					(errcode(ERRCODE_LM_TERMS_LOCKED),
					 errmsg("a contract unit row cannot move to another contract"),
					 errdetail("Row %s belongs to contract %s.",
							   col_text(oldt, desc, a_id), col_text(oldt, desc, a_contract)),
					 errhint("Delete it from the draft and insert a row for the other contract.")));

		f = lookup_contract(contract_id);
		if (!f.found)
			not_found("contract", contract_id);
		if (f.state != LM_CS_DRAFT)
			refuse_unit_change(&f, oldt ? "change a unit or its billable area" : "add a unit");
		if (!col_is_null(newt, desc, a_park) &&
			DatumGetInt64(heap_getattr(newt, a_park, desc, &isnull)) != f.park_id)
			ereport(ERROR,
					(errcode(ERRCODE_LM_PARK_MISMATCH),
					 errmsg("park_id %s does not match the park of contract %s",
							col_text(newt, desc, a_park), f.code),
					 errdetail("Contract %s belongs to park %lld.", f.code, (long long) f.park_id),
					 errhint("Leave park_id empty: it is taken from the contract.")));

		area = check_unit_of_contract(heap_getattr(newt, a_unit, desc, &isnull), &f);
		edit_set(&e, a_park, Int64GetDatum(f.park_id), false);
		edit_set(&e, a_range, f.lease_range, false);
		edit_set(&e, a_live, BoolGetDatum(f.is_live), false);
		if (col_is_null(newt, desc, a_area))
			edit_set(&e, a_area, area, false);
		result = edits_apply(newt, desc, &e);
	}

	SPI_finish();
	return PointerGetDatum(result);
}

/* ---- SQL-callable API -------------------------------------------------------------- */

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
	char	   *state_name;
	bool		has_date = !PG_ARGISNULL(3);
	Datum		args[3];
	int64		saved_contract = pending_note_contract;
	const char *saved_note = pending_note;
	char		allowed[256];

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

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	if (lock_plan == NULL)
	{
		Oid			t1[1] = {INT8OID};
		Oid			t2[2] = {INT8OID, TEXTOID};
		Oid			t3[3] = {INT8OID, TEXTOID, DATEOID};

		lock_plan = SPI_prepare("SELECT state, code FROM leasemgr.contract "
								"WHERE id OPERATOR(pg_catalog.=) $1 FOR UPDATE", 1, t1);
		move_plan = SPI_prepare("UPDATE leasemgr.contract SET state = $2 "
								"WHERE id OPERATOR(pg_catalog.=) $1", 2, t2);
		terminate_plan = SPI_prepare("UPDATE leasemgr.contract SET state = $2, terminated_on = $3 "
									 "WHERE id OPERATOR(pg_catalog.=) $1", 3, t3);
		if (lock_plan == NULL || move_plan == NULL || terminate_plan == NULL ||
			SPI_keepplan(lock_plan) || SPI_keepplan(move_plan) || SPI_keepplan(terminate_plan))
			elog(ERROR, "could not prepare contract_transition queries");
	}

	if (SPI_execute_plan(lock_plan, &contract_id, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "contract lookup failed");
	if (SPI_processed == 0)
		not_found("contract", contract_id);

	code = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	cur = state_of(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, code);
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

	state_name = pstrdup(lm_state_name((LmContractState) next));
	args[0] = contract_id;
	args[1] = CStringGetTextDatum(state_name);
	args[2] = has_date ? PG_GETARG_DATUM(3) : DateADTGetDatum(GetSQLCurrentDate());

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

	SPI_finish();
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
