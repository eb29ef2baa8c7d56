/*
 * leasemgr.h
 *     Shared declarations of the leasemgr extension: our SQLSTATEs, settings, and the
 *     helpers every domain file uses (who is acting, where our relations are, how log rows
 *     are appended).
 *
 * Include after postgres.h.
 */
#ifndef LEASEMGR_H
#define LEASEMGR_H

#include "access/htup.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "utils/date.h"
#include "utils/elog.h"
#include "utils/rel.h"

/*
 * SQLSTATEs, class LM. docs/errors.md lists them with when each is raised; keep the two in
 * step. Applications branch on these codes, so a code never changes meaning.
 */
#define ERRCODE_LM_INVALID_TRANSITION		MAKE_SQLSTATE('L','M','0','0','1')
#define ERRCODE_LM_GUARD_FAILED				MAKE_SQLSTATE('L','M','0','0','2')
#define ERRCODE_LM_FOUR_EYES				MAKE_SQLSTATE('L','M','0','0','3')
#define ERRCODE_LM_TERMS_LOCKED				MAKE_SQLSTATE('L','M','0','0','4')
#define ERRCODE_LM_READ_ONLY				MAKE_SQLSTATE('L','M','0','0','5')
#define ERRCODE_LM_UNIT_DOUBLE_BOOKED		MAKE_SQLSTATE('L','M','0','0','6')
#define ERRCODE_LM_PARK_MISMATCH			MAKE_SQLSTATE('L','M','0','0','7')
#define ERRCODE_LM_INVALID_IDENTITY			MAKE_SQLSTATE('L','M','0','0','8')
#define ERRCODE_LM_NOT_FOUND				MAKE_SQLSTATE('L','M','0','0','9')
#define ERRCODE_LM_APPEND_ONLY				MAKE_SQLSTATE('L','M','0','1','0')
#define ERRCODE_LM_INVALID_ARGUMENT			MAKE_SQLSTATE('L','M','0','1','1')
#define ERRCODE_LM_INVALID_LEASE_DATES		MAKE_SQLSTATE('L','M','0','1','2')
#define ERRCODE_LM_PRICE_INDEX_MISSING		MAKE_SQLSTATE('L','M','0','1','3')
#define ERRCODE_LM_PAYMENT_CONFLICT			MAKE_SQLSTATE('L','M','0','1','4')
#define ERRCODE_LM_INVALID_CHARGE			MAKE_SQLSTATE('L','M','0','1','5')
#define ERRCODE_LM_INVALID_READING			MAKE_SQLSTATE('L','M','0','1','6')
#define ERRCODE_LM_INVALID_METER			MAKE_SQLSTATE('L','M','0','1','7')
#define ERRCODE_LM_CREDIT_WARNING			MAKE_SQLSTATE('L','M','0','1','9')
#define ERRCODE_LM_INVALID_AMENDMENT		MAKE_SQLSTATE('L','M','0','2','0')

#define LM_SCHEMA "leasemgr"

/* leasemgr.actor: the person an application acts for (set per transaction). */
extern char *lm_actor;

/* The acting person: leasemgr.actor when set, else the session user's name. */
extern const char *lm_current_actor(void);

/* leasemgr.timezone: the zone of the operator's business day. */
extern char *lm_timezone;

/* Today in leasemgr.timezone (at the start of the transaction). */
extern DateADT lm_business_date(void);

/* A moment as the clock and calendar of leasemgr.timezone show it, and its day there. */
struct pg_tm;
extern void lm_local_tm(TimestampTz t, struct pg_tm *tm, fsec_t *fsec);
extern DateADT lm_local_date(TimestampTz t);

/* OID of leasemgr.<relname>; errors when the extension's relation is missing. */
extern Oid	lm_relid(const char *relname);

/*
 * Appends rows to a leasemgr log table (audit_log, contract_event) without going through
 * the executor's permission checks or row triggers: the logs take no INSERT privilege from
 * anybody, so only this code path writes them. Indexes are maintained; the caller's first
 * column is the id, taken from the table's identity sequence; the caller names its columns,
 * which are found in the table by name. Initialise once per statement.
 */
typedef struct LmAppender
{
	Oid			relid;
	Oid			seqid;
	int			ncols;			/* the caller's columns ... */
	int		   *attnums;		/* ... and where they are in the table */
	TupleTableSlot *slot;		/* a virtual slot of the table's row type */
	int			nindexes;
	Oid		   *indexes;
	struct IndexInfo **index_info;
	bool		needs_estate;	/* an expression or partial index */
	MemoryContext row_cxt;		/* reset after every row */
} LmAppender;

/*
 * colnames and coltypes: the caller's columns and the types of the Datums it writes (a column
 * retyped by a DBA is an error, not a misread Datum). cxt: memory living as long as the
 * appender, e.g. the trigger's fn_mcxt.
 */
extern void lm_appender_init(LmAppender *a, const char *relname, const char *const *colnames,
							 const Oid *coltypes, int ncols, MemoryContext cxt);
/* values[0] is set to the next id. */
extern void lm_append(LmAppender *a, Datum *values, bool *nulls);

/*
 * True while the table's owner, acting as itself, loads rows into this table with COPY FROM:
 * the pg_restore path. Such rows keep the stamps they carry and are not audited again (the
 * restored logs hold their history); every other writer goes through the rules.
 */
extern bool lm_is_owner_copy(Relation rel);

/* Trigger protocol checks shared by our C triggers. */
extern void lm_check_trigger(FunctionCallInfo fcinfo, const char *funcname,
							 bool row_level, bool before);

/* Attribute number of a column by name; errors when it is missing. */
extern int	lm_attnum(Relation rel, const char *colname);

/* ---- row.c: reading and editing rows in triggers -------------------------------- */

/*
 * Per-statement cache of a trigger, kept in fn_extra: a trigger's FmgrInfo lives as long as
 * the statement's executor state, so anything resolved here (column numbers, OIDs) is
 * resolved once per statement, never across DDL. Caches start with this header.
 */
typedef struct LmStatementCache
{
	Oid			relid;			/* the table the trigger fires on */
} LmStatementCache;

/*
 * The cache of this trigger call (size bytes, zeroed on creation). *fresh is true when it
 * was just created and its fields must be filled in.
 */
extern void *lm_statement_cache(FunctionCallInfo fcinfo, Relation rel, Size size, bool *fresh);
extern void lm_resolve_columns(Relation rel, const char *const *names, int n, int *attnums);

/* A row deformed once: values[attnum - 1], nulls[attnum - 1]. */
typedef struct LmRow
{
	HeapTuple	tuple;
	TupleDesc	desc;
	Datum	   *values;
	bool	   *nulls;
} LmRow;

extern void lm_row_init(LmRow *row, HeapTuple tuple, TupleDesc desc);
/* OLD and NEW of a row trigger, deformed; the one its event lacks is left as it was. */
struct TriggerData;
extern void lm_trigger_rows(struct TriggerData *td, LmRow *old, LmRow *new);
extern bool lm_row_changed(const LmRow *a, const LmRow *b, int attnum);
/* A column as text for messages: "(none)" for NULL, dates as YYYY-MM-DD. */
extern char *lm_row_text(const LmRow *row, int attnum);
extern char *lm_date_text(DateADT d);

static inline bool
lm_row_null(const LmRow *row, int attnum)
{
	return row->nulls[attnum - 1];
}

static inline Datum
lm_row_datum(const LmRow *row, int attnum)
{
	return row->values[attnum - 1];
}

/* Column changes a BEFORE trigger collects, applied once in cxt (which must outlive SPI). */
typedef struct LmEdits
{
	MemoryContext cxt;
	int			n;
	int			cols[16];
	Datum		values[16];
	bool		nulls[16];
} LmEdits;

extern void lm_edit(LmEdits *e, int attnum, Datum value, bool isnull);
extern HeapTuple lm_edits_apply(LmEdits *e, HeapTuple tuple, TupleDesc desc);

/* SPI only when a row needs a query: connect on first use, finish if connected. */
extern void lm_spi_connect(bool *connected);
extern void lm_spi_finish(bool *connected);
/* A prepared, kept plan; errors if the query does not prepare. */
extern SPIPlanPtr lm_keep_plan(const char *sql, int nargs, Oid *argtypes);

/* ---- contract_terms.c: rows that belong to a contract ------------------------- */

/* A contract as a row that refers to it sees it (looked up FOR SHARE). */
typedef struct LmContractFacts
{
	bool		found;
	int			state;			/* LmContractState */
	int64		park_id;
	Datum		lease_range;
	bool		is_live;
	char	   *code;
	DateADT		start_date;
	DateADT		end_date;		/* the agreed end, not a termination date */
} LmContractFacts;

/*
 * Look the contract up, locked FOR SHARE: a concurrent submit of that contract waits for
 * the row change (and sees it) instead of racing past it. Runs inside SPI.
 */
extern LmContractFacts lm_lookup_contract(Datum contract_id);

/*
 * The contract whose approved amendment leasemgr.amendment_approve is applying in this
 * backend, 0 when none (amendment.c). Only C code sets it, around the apply.
 */
extern int64 lm_amendment_applying;

/* May the contract's terms change now: a draft, or the amendment being applied to it. */
extern bool lm_terms_editable(const LmContractFacts *f, Datum contract_id);

/*
 * Refuse a change to a contract's terms: LM005 for a closed or cancelled contract, LM004
 * otherwise. terms names them ("units", "charges"), editable what may change in draft.
 */
extern void lm_refuse_term_change(const LmContractFacts *f, const char *terms,
								  const char *editable, const char *what) pg_attribute_noreturn();

/* LM009 for a row that does not exist or is not visible. */
extern void lm_row_not_found(const char *what, Datum id) pg_attribute_noreturn();

/* LM007 when a row names a park other than its contract's. */
extern void lm_check_park_of_contract(const LmRow *row, int park_att, const LmContractFacts *f);

/* ---- money.c: exact arithmetic on numeric, and the one rounding function ---------- */
struct NumericData;
extern struct NumericData *lm_num(int64 v);
extern struct NumericData *lm_num_mul(struct NumericData *a, struct NumericData *b);
extern struct NumericData *lm_num_add(struct NumericData *a, struct NumericData *b);
extern struct NumericData *lm_num_sub(struct NumericData *a, struct NumericData *b);
extern int	lm_num_cmp(struct NumericData *a, struct NumericData *b);
/* num / den (den > 0) rounded half-up (away from zero) to the cent. The only rounding of money. */
extern struct NumericData *lm_money_round(struct NumericData *num, struct NumericData *den);
/* 5,529.68: thousands separated, two decimals, for explanations. */
extern char *lm_money_text(struct NumericData *amount);

/*
 * credit_warning.c: LM019 when the tenant of a contract being submitted is under a credit
 * warning (an open one, or the drift rule holding today). Runs inside SPI.
 */
extern void lm_check_tenant_credit(Relation contract_rel, Datum tenant_id, const char *contract_code);

/* bill.c: true while leasemgr.bill_run writes bills with their totals. */
extern bool lm_bill_run_writing;

#endif							/* LEASEMGR_H */
