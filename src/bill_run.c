/*
 * bill_run.c
 *     leasemgr.bill_run: bill every billable contract for the periods due by a month,
 *     exactly once, however many runs there are and whenever they run.
 *
 * Exactly once is held by the unique index bill_line_charge_once (charge_id, period_start).
 * Runs over the same park take turns (a transaction-level advisory lock per park, taken in
 * park order), and each reads the last billed period of every charge after its turn comes,
 * so the second of two runs at the same moment waits for the first and then finds nothing
 * left to bill; its inserts are plain, and a line billed twice would fail on the index. A run
 * also bills what earlier runs could not (a missed month, a late turnover report, a price
 * index loaded late): each charge resumes after its last billed period, on a new bill.
 *
 * The contracts are read through two cursors ordered by contract (charges with their
 * contract; free-rent periods) and billed in batches: a batch is computed in memory, then
 * written with one INSERT of bills and one of lines (arrays unnested), so memory stays flat
 * and the statements are few, whatever the number of contracts.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "leasemgr.h"
#include "billing.h"
#include "lm_calendar.h"
#include "lm_schedule.h"
#include "meter.h"

PG_FUNCTION_INFO_V1(bill_run);

#define BATCH_CONTRACTS 1000
#define FETCH_ROWS 2000

/* Bills and lines of one batch, column by column (they are sent as arrays). */
typedef struct Batch
{
	int			nbills;
	int			maxbills;
	Datum	   *bill_park;
	Datum	   *bill_contract;
	Datum	   *bill_due;
	Datum	   *bill_amount;
	Numeric		total;			/* of the batch's bills */
	int			nlines;
	int			maxlines;
	Datum	   *line_park;
	Datum	   *line_contract;
	Datum	   *line_charge;
	Datum	   *line_kind;
	Datum	   *line_start;
	Datum	   *line_end;
	Datum	   *line_amount;
	Datum	   *line_explain;
	Datum	   *line_type;
	Datum	   *line_estimated;
	Datum	   *line_trues_up;	/* 0: none */
	Datum	   *line_share;		/* 0: none */
} Batch;

/*
 * A line the run adds besides the charges' periods: the true-up of an estimated metered line
 * (estimated_line set), or a share of a shared cost (share set). Loaded once per run, in
 * contract order, and billed when the run reaches the contract.
 */
typedef struct Extra
{
	int64		contract_id;
	int64		estimated_line;
	int64		share;
	int64		charge_id;		/* 0: none */
	char	   *kind;
	DateADT		start;
	DateADT		end;
	Numeric		amount;			/* the estimate (true-up) or the share */
	char	   *explain;		/* the share's */
} Extra;

typedef struct Run
{
	DateADT		period;			/* the billing month (first day) */
	DateADT		issued_on;
	Datum		park;			/* NULL: every visible park */
	bool		park_null;
	Datum		actor;
	MemoryContext run_cxt;		/* the call's: results */
	MemoryContext batch_cxt;	/* reset after every batch */
	MemoryContext contract_cxt; /* reset after every contract */
	/* where each charge's last billed period is looked up (last_billed) */
	Relation	line_rel;
	Relation	line_index;		/* bill_line_charge_once (charge_id, period_start) */
	int			line_period_start;	/* attribute number in bill_line */
	IndexScanDesc line_scan;	/* one scan, restarted for each charge */
	TupleTableSlot *line_slot;
	Batch		b;
	Extra	   *extras;			/* run memory, by contract */
	int			nextras;
	int			next_extra;
	/* the contract being billed */
	Numeric		contract_total;
	int			contract_lines;
	int			contract_held;
	int			contract_due_day;
	/* results */
	int			bills_created;
	int			lines_created;
	int			skipped_already_billed;
	int			held;
	Numeric		amount;
} Run;

static void
batch_reset(Batch *b)
{
	memset(b, 0, sizeof(*b));
}

static Datum *
grow(Datum *a, int n, int newmax)
{
	return a == NULL ? palloc(sizeof(Datum) * newmax) : repalloc(a, sizeof(Datum) * newmax);
}

static bool
run_keep_going(void *arg, const LmPeriod *p)
{
	return p->bill_month <= ((Run *) arg)->period;
}

/*
 * A metered period held for readings: a work order per meter not read, for engineering to
 * read it. Raised once: an open order for the meter and month makes this a no-op, so every
 * run that finds the month still unread leaves one order, not one per run.
 */
static void
raise_reading_work_orders(LmContractTerms *c, const LmLine *line)
{
	static SPIPlanPtr plan = NULL;
	Datum		args[5];
	ArrayType  *meters;
	int			i;
	Datum	   *ids = palloc(sizeof(Datum) * line->nmissing);
	MemoryContext cxt = CurrentMemoryContext;

	if (plan == NULL)
	{
		Oid			argtypes[5] = {INT8OID, INT8OID, DATEOID, TIMESTAMPTZOID, INT8ARRAYOID};

		plan = lm_keep_plan("INSERT INTO leasemgr.work_order (park_id, kind, meter_id, contract_id, month, subject) "
							"SELECT $1, 'reading_missing', m.id, $2, $3, pg_catalog.format("
							"'Read meter %s (%s%s) at or after %s: contract %s cannot be billed for %s until it is read', "
							"m.code, m.kind, COALESCE(' of unit ' OPERATOR(pg_catalog.||) u.code, ''), "
							"pg_catalog.to_char($4 AT TIME ZONE pg_catalog.current_setting('leasemgr.timezone'), 'YYYY-MM-DD HH24:MI'), "
							"c.code, pg_catalog.to_char($3, 'YYYY-MM')) "
							"FROM leasemgr.meter m JOIN leasemgr.contract c ON c.id OPERATOR(pg_catalog.=) $2 "
							"LEFT JOIN leasemgr.unit u ON u.id OPERATOR(pg_catalog.=) m.unit_id "
							"WHERE m.id OPERATOR(pg_catalog.=) ANY ($5) "
							"ON CONFLICT (meter_id, month) WHERE kind OPERATOR(pg_catalog.=) 'reading_missing' "
							"AND state OPERATOR(pg_catalog.=) 'open' DO NOTHING", 5, argtypes);
	}
	for (i = 0; i < line->nmissing; i++)
		ids[i] = Int64GetDatum(line->missing[i]);
	meters = construct_array(ids, line->nmissing, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	args[0] = Int64GetDatum(c->park_id);
	args[1] = Int64GetDatum(c->id);
	args[2] = DateADTGetDatum(lm_month_start(line->start));
	args[3] = TimestampTzGetDatum(lm_local_midnight(line->end + 1));
	args[4] = PointerGetDatum(meters);
	if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "work order insert failed");
	MemoryContextSwitchTo(cxt);		/* SPI returns in its procedure context */
}

/* A line of the contract being billed: into the batch (batch memory). */
static void
batch_line(Run *r, LmContractTerms *c, int64 charge_id, const char *kind, const char *type, DateADT start,
		   DateADT end, Numeric amount, const char *explain, bool estimated, int64 trues_up, int64 share,
		   int due_day)
{
	Batch	   *b = &r->b;
	MemoryContext old = MemoryContextSwitchTo(r->batch_cxt);

	if (b->nlines == b->maxlines)
	{
		int			m = Max(64, b->maxlines * 2);

		b->line_park = grow(b->line_park, b->nlines, m);
		b->line_contract = grow(b->line_contract, b->nlines, m);
		b->line_charge = grow(b->line_charge, b->nlines, m);
		b->line_kind = grow(b->line_kind, b->nlines, m);
		b->line_start = grow(b->line_start, b->nlines, m);
		b->line_end = grow(b->line_end, b->nlines, m);
		b->line_amount = grow(b->line_amount, b->nlines, m);
		b->line_explain = grow(b->line_explain, b->nlines, m);
		b->line_type = grow(b->line_type, b->nlines, m);
		b->line_estimated = grow(b->line_estimated, b->nlines, m);
		b->line_trues_up = grow(b->line_trues_up, b->nlines, m);
		b->line_share = grow(b->line_share, b->nlines, m);
		b->maxlines = m;
	}
	b->line_park[b->nlines] = Int64GetDatum(c->park_id);
	b->line_contract[b->nlines] = Int64GetDatum(c->id);
	b->line_charge[b->nlines] = Int64GetDatum(charge_id);
	b->line_kind[b->nlines] = CStringGetTextDatum(kind);
	b->line_start[b->nlines] = DateADTGetDatum(start);
	b->line_end[b->nlines] = DateADTGetDatum(end);
	b->line_amount[b->nlines] = NumericGetDatum(DatumGetNumericCopy(NumericGetDatum(amount)));
	b->line_explain[b->nlines] = CStringGetTextDatum(explain);
	b->line_type[b->nlines] = CStringGetTextDatum(type);
	b->line_estimated[b->nlines] = BoolGetDatum(estimated);
	b->line_trues_up[b->nlines] = Int64GetDatum(trues_up);
	b->line_share[b->nlines] = Int64GetDatum(share);
	b->nlines++;
	MemoryContextSwitchTo(old);

	r->contract_total = lm_num_add(r->contract_total, amount);
	r->contract_lines++;
	r->contract_due_day = Min(r->contract_due_day, due_day);
}

/* A charge period's line: into the batch, unless its period is held. */
static bool
run_emit(void *arg, LmContractTerms *c, const LmLine *line)
{
	Run		   *r = arg;

	/* readings missing: asked for, whether the period is held or estimated meanwhile */
	if (line->nmissing > 0)
		raise_reading_work_orders(c, line);

	/*
	 * A turnover month not reported yet, a CPI step whose index month is not loaded yet:
	 * the period and the periods after it wait for a later run. The whole period, also its
	 * segments before a held one (a month cut at an escalation step): the next run resumes
	 * after the last billed period's start and would never bill the held part.
	 */
	if (line->period_held)
	{
		r->held++;
		r->contract_held++;
		return false;
	}
	batch_line(r, c, line->charge->id, line->charge->kind, "charge", line->start, line->end, line->amount,
			   line->explain, line->estimated, 0, 0, line->charge->due_day);
	return true;
}

/*
 * The true-up of an estimated metered line, once its real figure can be computed: an
 * adjustment line of the difference, pointing at the estimated line. Nothing while the real
 * figure is still unknown, or never will be (a confirmed anomaly: the estimate is final).
 */
static void
true_up(Run *r, LmContractTerms *c, const Extra *e)
{
	LmCharge   *ch = NULL;
	Numeric		real;
	char	   *how;
	Numeric		diff;
	int			i;

	for (i = 0; i < c->ncharges; i++)
		if (c->charges[i].id == e->charge_id)
			ch = &c->charges[i];
	if (ch == NULL || !lm_metered_true_up(c, ch, e->start, e->end, &real, &how))
		return;
	diff = lm_num_sub(real, e->amount);
	batch_line(r, c, ch->id, ch->kind, "adjustment", e->start, e->end, diff,
			   psprintf("true-up of estimated line %lld (%s %s..%s billed %s): real figure %s; %s - %s = %s",
						(long long) e->estimated_line, ch->meter_kind, lm_date_text(e->start), lm_date_text(e->end),
						lm_money_text(e->amount), how, lm_money_text(real), lm_money_text(e->amount),
						lm_money_text(diff)),
			   false, e->estimated_line, 0, ch->due_day);
}

/* The run's extra lines of contract c: true-ups and shares of shared costs. */
static void
bill_extras(Run *r, LmContractTerms *c)
{
	while (r->next_extra < r->nextras && r->extras[r->next_extra].contract_id < c->id)
		r->next_extra++;
	for (; r->next_extra < r->nextras && r->extras[r->next_extra].contract_id == c->id; r->next_extra++)
	{
		Extra	   *e = &r->extras[r->next_extra];

		if (e->estimated_line != 0)
			true_up(r, c, e);
		else
			batch_line(r, c, 0, e->kind, "allocation", e->start, e->end, e->amount, e->explain, false, 0,
					   e->share, 31);
	}
}

/* Bill one contract's due periods into the batch. */
static void
bill_contract(Run *r, LmContractTerms *c)
{
	bool		billed_before = false;
	int			i;

	r->contract_total = lm_num(0);
	r->contract_lines = 0;
	r->contract_held = 0;
	r->contract_due_day = 31;
	for (i = 0; i < c->ncharges; i++)
	{
		LmCharge   *ch = &c->charges[i];
		LmChargeSchedule s;
		int			from = 0;

		lm_charge_schedule(c, ch, &s);
		if (ch->has_last_billed)
		{
			billed_before = true;
			from = lm_period_of(&s, ch->last_billed) + 1;
		}
		lm_charge_lines(c, ch, &s, from, run_keep_going, run_emit, r);
	}
	bill_extras(r, c);
	if (r->contract_lines == 0)
	{
		/* nothing left to bill up to the month, or only periods held (counted as such) */
		if (billed_before && r->contract_held == 0)
			r->skipped_already_billed++;
		return;
	}
	{
		Batch	   *b = &r->b;
		MemoryContext old = MemoryContextSwitchTo(r->batch_cxt);
		DateADT		due = Max(lm_due_date(r->period, r->contract_due_day), r->issued_on);

		if (b->nbills == b->maxbills)
		{
			int			m = Max(64, b->maxbills * 2);

			b->bill_park = grow(b->bill_park, b->nbills, m);
			b->bill_contract = grow(b->bill_contract, b->nbills, m);
			b->bill_due = grow(b->bill_due, b->nbills, m);
			b->bill_amount = grow(b->bill_amount, b->nbills, m);
			b->maxbills = m;
		}
		b->bill_park[b->nbills] = Int64GetDatum(c->park_id);
		b->bill_contract[b->nbills] = Int64GetDatum(c->id);
		b->bill_due[b->nbills] = DateADTGetDatum(due);
		b->bill_amount[b->nbills] = NumericGetDatum(DatumGetNumericCopy(NumericGetDatum(r->contract_total)));
		b->total = lm_num_add(b->total == NULL ? lm_num(0) : b->total, r->contract_total);
		b->nbills++;
		MemoryContextSwitchTo(old);
	}
}

static Datum
array_of(Datum *values, int n, Oid type)
{
	int16		len;
	bool		byval;
	char		align;

	get_typlenbyvalalign(type, &len, &byval, &align);
	return PointerGetDatum(construct_array(values, n, type, len, byval, align));
}

/*
 * The bill run's own writes: bills inserted with the totals of the lines it is about to add
 * (so writing the lines rewrites no bill), and charge lines. The triggers let only this path
 * do either.
 */
static void
insert_as_bill_run(SPIPlanPtr plan, Datum *args, int expect)
{
	lm_bill_run_writing = true;
	PG_TRY();
	{
		if (SPI_execute_plan(plan, args, NULL, false, 0) != expect)
			elog(ERROR, "bill run insert failed");
	}
	PG_FINALLY();
	{
		lm_bill_run_writing = false;
	}
	PG_END_TRY();
}

/*
 * Write the batch: one INSERT of its bills, one of its lines.
 *
 * Plain inserts: the run holds its parks' lock and read the last billed periods after taking
 * it, so no line it writes exists yet. Should one exist all the same, the unique index
 * bill_line_charge_once refuses it and the run fails: a period is never billed twice.
 */
static void
flush_batch(Run *r)
{
	static SPIPlanPtr bill_plan = NULL;
	static SPIPlanPtr line_plan = NULL;
	static SPIPlanPtr credit_plan = NULL;
	Batch	   *b = &r->b;
	Datum	   *line_bill;
	Datum		args[13];
	int			i;
	int			k;
	Numeric		total;
	MemoryContext old;

	if (b->nbills == 0)
		return;
	if (bill_plan == NULL)
	{
		Oid			bill_types[7] = {INT8ARRAYOID, INT8ARRAYOID, DATEOID, DATEOID, TEXTOID, DATEARRAYOID, NUMERICARRAYOID};
		Oid			line_types[13] = {INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, TEXTARRAYOID,
			DATEARRAYOID, DATEARRAYOID, NUMERICARRAYOID, TEXTARRAYOID, TEXTARRAYOID, BOOLARRAYOID,
		INT8ARRAYOID, INT8ARRAYOID};
		Oid			credit_types[1] = {INT8ARRAYOID};

		/* RETURNING follows the order of the arrays (checked below): the order of the contracts. */
		bill_plan = lm_keep_plan("INSERT INTO leasemgr.bill (park_id, contract_id, period, issued_on, due_on, amount, issued_by) "
								 "SELECT u.p, u.c, $3, $4, u.d, u.a, $5 "
								 "FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($6), "
								 "pg_catalog.unnest($7)) AS u(p, c, d, a) RETURNING contract_id, id",
								 7, bill_types);
		line_plan = lm_keep_plan("INSERT INTO leasemgr.bill_line (park_id, bill_id, contract_id, charge_id, kind, "
								 "period_start, period_end, amount, explain, line_type, estimated, trues_up, allocation_share_id) "
								 "SELECT u.p, u.b, u.c, CASE WHEN u.ch OPERATOR(pg_catalog.=) 0 THEN NULL ELSE u.ch END, "
								 "u.k, u.s, u.e, u.a, u.x, u.t, u.est, "
								 "CASE WHEN u.tu OPERATOR(pg_catalog.=) 0 THEN NULL ELSE u.tu END, "
								 "CASE WHEN u.sh OPERATOR(pg_catalog.=) 0 THEN NULL ELSE u.sh END "
								 "FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3), "
								 "pg_catalog.unnest($4), pg_catalog.unnest($5), pg_catalog.unnest($6), pg_catalog.unnest($7), "
								 "pg_catalog.unnest($8), pg_catalog.unnest($9), pg_catalog.unnest($10), pg_catalog.unnest($11), "
								 "pg_catalog.unnest($12), pg_catalog.unnest($13)) AS u(p, b, c, ch, k, s, e, a, x, t, est, tu, sh)",
								 13, line_types);
		/* Tenant credit (payments not yet allocated) pays the new bills at once. */
		credit_plan = lm_keep_plan("SELECT leasemgr.apply_credit(p.contract_id) FROM "
								   "(SELECT DISTINCT p.contract_id FROM leasemgr.payment p "
								   " WHERE p.unallocated OPERATOR(pg_catalog.>) 0 "
								   " AND p.contract_id OPERATOR(pg_catalog.=) ANY ($1)) p",
								   1, credit_types);
	}

	old = MemoryContextSwitchTo(r->batch_cxt);
	args[0] = array_of(b->bill_park, b->nbills, INT8OID);
	args[1] = array_of(b->bill_contract, b->nbills, INT8OID);
	args[2] = DateADTGetDatum(r->period);
	args[3] = DateADTGetDatum(r->issued_on);
	args[4] = r->actor;
	args[5] = array_of(b->bill_due, b->nbills, DATEOID);
	args[6] = array_of(b->bill_amount, b->nbills, NUMERICOID);
	insert_as_bill_run(bill_plan, args, SPI_OK_INSERT_RETURNING);
	/* SPI returns in its procedure context, which lives as long as the run: come back. */
	MemoryContextSwitchTo(r->batch_cxt);
	if (SPI_processed != (uint64) b->nbills)
		elog(ERROR, "bill run inserted " UINT64_FORMAT " bills of %d", SPI_processed, b->nbills);

	/* Lines come contract by contract, in the order of the bills: walk both. */
	line_bill = palloc(sizeof(Datum) * b->nlines);
	for (i = 0, k = 0; i < b->nlines; i++)
	{
		bool		isnull;

		while (k < b->nbills && DatumGetInt64(b->bill_contract[k]) != DatumGetInt64(b->line_contract[i]))
			k++;
		if (k == b->nbills)
			elog(ERROR, "no bill for contract %lld", (long long) DatumGetInt64(b->line_contract[i]));
		if (DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[k], SPI_tuptable->tupdesc, 1, &isnull)) !=
			DatumGetInt64(b->bill_contract[k]))
			elog(ERROR, "bill run: bills returned out of order");
		line_bill[i] = SPI_getbinval(SPI_tuptable->vals[k], SPI_tuptable->tupdesc, 2, &isnull);
	}
	SPI_freetuptable(SPI_tuptable);
	args[0] = array_of(b->line_park, b->nlines, INT8OID);
	args[1] = array_of(line_bill, b->nlines, INT8OID);
	args[2] = array_of(b->line_contract, b->nlines, INT8OID);
	args[3] = array_of(b->line_charge, b->nlines, INT8OID);
	args[4] = array_of(b->line_kind, b->nlines, TEXTOID);
	args[5] = array_of(b->line_start, b->nlines, DATEOID);
	args[6] = array_of(b->line_end, b->nlines, DATEOID);
	args[7] = array_of(b->line_amount, b->nlines, NUMERICOID);
	args[8] = array_of(b->line_explain, b->nlines, TEXTOID);
	args[9] = array_of(b->line_type, b->nlines, TEXTOID);
	args[10] = array_of(b->line_estimated, b->nlines, BOOLOID);
	args[11] = array_of(b->line_trues_up, b->nlines, INT8OID);
	args[12] = array_of(b->line_share, b->nlines, INT8OID);
	insert_as_bill_run(line_plan, args, SPI_OK_INSERT);
	MemoryContextSwitchTo(r->batch_cxt);
	if (SPI_processed != (uint64) b->nlines)
		elog(ERROR, "bill run inserted " UINT64_FORMAT " lines of %d", SPI_processed, b->nlines);
	r->bills_created += b->nbills;
	r->lines_created += b->nlines;

	/* The run's total lives in the run's memory: one addition per batch, not per line. */
	MemoryContextSwitchTo(r->run_cxt);
	total = lm_num_add(r->amount, b->total);
	pfree(r->amount);
	r->amount = total;
	MemoryContextSwitchTo(r->batch_cxt);
	{
		Datum		cargs[1] = {array_of(b->bill_contract, b->nbills, INT8OID)};

		if (SPI_execute_plan(credit_plan, cargs, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "credit allocation failed");
		SPI_freetuptable(SPI_tuptable);
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(r->batch_cxt);
	batch_reset(b);
}

/* Contracts a run bills: live and started by the end of the month, lease not long over. */
#define RUN_CONTRACTS_SCOPE \
	"($1::pg_catalog.int8 IS NULL OR c.park_id OPERATOR(pg_catalog.=) $1) " \
	"AND pg_catalog.lower(c.lease_range) OPERATOR(pg_catalog.<) ($2 OPERATOR(pg_catalog.+) '1 month'::pg_catalog.interval) " \
	"AND (c.state OPERATOR(pg_catalog.=) ANY ('{active,amending}'::pg_catalog.text[]) " \
	"     OR pg_catalog.upper(c.lease_range) OPERATOR(pg_catalog.>) ($2 OPERATOR(pg_catalog.-) '13 months'::pg_catalog.interval)) "
#define RUN_CONTRACTS_WHERE \
	"c.state OPERATOR(pg_catalog.=) ANY ('{active,expired,terminated,moving_out}'::pg_catalog.text[]) " \
	"AND " RUN_CONTRACTS_SCOPE

static Portal
open_cursor(const char *name, const char *sql, SPIPlanPtr *plan, Datum *args, const char *nulls)
{
	if (*plan == NULL)
	{
		Oid			types[2] = {INT8OID, DATEOID};

		*plan = lm_keep_plan(sql, 2, types);
	}
	return SPI_cursor_open(name, *plan, args, nulls, true);
}

/* Reading the two cursors, contract by contract. */
typedef struct Reader
{
	Portal		charges;
	Portal		frees;
	SPITupleTable *ftab;		/* free-rent rows fetched and not yet consumed */
	uint64		fpos;
	LmContractTerms c;			/* the contract being read (contract memory) */
	bool		have_contract;
	int			maxcharges;
	int			contracts_in_batch;
} Reader;

/* The free-rent periods of the contract being read: the rows of its id, in order. */
static void
read_free_rent(Reader *rd)
{
	MemoryContext cxt = CurrentMemoryContext;
	int			max = 4;
	bool		isnull;

	rd->c.free = palloc(sizeof(LmFreeRent) * max);
	rd->c.nfree = 0;
	for (;;)
	{
		int64		fid;

		if (rd->ftab == NULL || rd->fpos >= rd->ftab->numvals)
		{
			if (rd->ftab != NULL)
				SPI_freetuptable(rd->ftab);
			SPI_cursor_fetch(rd->frees, true, FETCH_ROWS);
			/* The fetch returns in SPI's procedure context: back to the contract's. */
			MemoryContextSwitchTo(cxt);
			rd->ftab = SPI_tuptable;
			rd->fpos = 0;
			if (SPI_processed == 0)
				return;
		}
		fid = DatumGetInt64(SPI_getbinval(rd->ftab->vals[rd->fpos], rd->ftab->tupdesc, 1, &isnull));
		if (fid > rd->c.id)
			return;
		if (fid == rd->c.id)
		{
			LmRow		row;

			if (rd->c.nfree == max)
			{
				max *= 2;
				rd->c.free = repalloc(rd->c.free, sizeof(LmFreeRent) * max);
			}
			lm_row_init(&row, rd->ftab->vals[rd->fpos], rd->ftab->tupdesc);
			lm_read_free_rent(&rd->c.free[rd->c.nfree++], &row, 2);
		}
		rd->fpos++;
	}
}

/* The contract read so far is complete: bill it, and write the batch when it is full. */
static void
finish_contract(Run *r, Reader *rd)
{
	MemoryContext old = MemoryContextSwitchTo(r->contract_cxt);

	read_free_rent(rd);
	bill_contract(r, &rd->c);
	MemoryContextSwitchTo(old);
	MemoryContextReset(r->contract_cxt);
	rd->have_contract = false;
	if (++rd->contracts_in_batch >= BATCH_CONTRACTS)
	{
		flush_batch(r);
		rd->contracts_in_batch = 0;
	}
}

/*
 * The run's extra lines, in contract order: estimated metered lines not trued up yet (of
 * bills not voided), to try again; and shares of shared costs of months before the billing
 * month not billed yet. Few rows: the partial indexes bill_line_estimated and
 * bill_line_share_once find them.
 */
static void
load_extras(Run *r, Datum *args, const char *nulls)
{
	static SPIPlanPtr plan = NULL;
	MemoryContext old;
	uint64		i;

	if (plan == NULL)
	{
		Oid			types[2] = {INT8OID, DATEOID};

		plan = lm_keep_plan("SELECT l.contract_id, l.id, 0::pg_catalog.int8, l.charge_id, l.kind, l.period_start, "
							"l.period_end, l.amount, NULL::pg_catalog.text "
							"FROM leasemgr.bill_line l JOIN leasemgr.contract c ON c.id OPERATOR(pg_catalog.=) l.contract_id "
							"JOIN leasemgr.bill b ON b.id OPERATOR(pg_catalog.=) l.bill_id "
							"WHERE l.estimated AND b.voided_at IS NULL AND " RUN_CONTRACTS_WHERE
							"AND NOT EXISTS (SELECT FROM leasemgr.bill_line t WHERE t.trues_up OPERATOR(pg_catalog.=) l.id) "
							/* an estimate made final by a confirmed anomaly is not looked at again */
							"AND NOT EXISTS (SELECT FROM leasemgr.charge ch JOIN leasemgr.meter m "
							"  ON m.kind OPERATOR(pg_catalog.=) ch.meter_kind "
							"  JOIN leasemgr.contract_unit cu ON cu.unit_id OPERATOR(pg_catalog.=) m.unit_id "
							"   AND cu.contract_id OPERATOR(pg_catalog.=) l.contract_id "
							/* the days of the line on which the lease held the meter's unit */
							"  CROSS JOIN LATERAL (SELECT cu.held_range OPERATOR(pg_catalog.*) "
							"    pg_catalog.daterange(l.period_start, l.period_end, '[]') AS d) h "
							"  JOIN leasemgr.anomaly a ON a.meter_id OPERATOR(pg_catalog.=) m.id "
							"  WHERE ch.id OPERATOR(pg_catalog.=) l.charge_id AND a.state OPERATOR(pg_catalog.=) 'confirmed' "
							"  AND a.kind OPERATOR(pg_catalog.=) ANY ('{spike,negative,bounds}') "
							"  AND a.during OPERATOR(pg_catalog.&&) CASE WHEN pg_catalog.isempty(h.d) THEN 'empty'::pg_catalog.tstzrange "
							"    ELSE pg_catalog.tstzrange("
							"      pg_catalog.lower(h.d)::pg_catalog.timestamp AT TIME ZONE pg_catalog.current_setting('leasemgr.timezone'), "
							"      pg_catalog.upper(h.d)::pg_catalog.timestamp AT TIME ZONE pg_catalog.current_setting('leasemgr.timezone')) END) "
							"UNION ALL "
							"SELECT s.contract_id, 0, s.id, 0, ar.fee_kind, s.month, "
							"(s.month OPERATOR(pg_catalog.+) '1 month'::pg_catalog.interval)::pg_catalog.date OPERATOR(pg_catalog.-) 1, "
							"s.amount, s.explain "
							"FROM leasemgr.allocation_share s JOIN leasemgr.contract c ON c.id OPERATOR(pg_catalog.=) s.contract_id "
							"JOIN leasemgr.allocation_rule ar ON ar.id OPERATOR(pg_catalog.=) s.rule_id "
							"WHERE s.month OPERATOR(pg_catalog.<) $2 AND " RUN_CONTRACTS_WHERE
							"AND NOT EXISTS (SELECT FROM leasemgr.bill_line t WHERE t.allocation_share_id OPERATOR(pg_catalog.=) s.id) "
							"ORDER BY 1, 2, 3", 2, types);
	}
	if (SPI_execute_plan(plan, args, nulls, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "extra lines query failed");
	old = MemoryContextSwitchTo(r->run_cxt);
	r->nextras = (int) SPI_processed;
	r->extras = palloc(sizeof(Extra) * Max(r->nextras, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		Extra	   *e = &r->extras[i];
		bool		isnull;

		e->contract_id = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
		e->estimated_line = DatumGetInt64(SPI_getbinval(t, d, 2, &isnull));
		e->share = DatumGetInt64(SPI_getbinval(t, d, 3, &isnull));
		e->charge_id = DatumGetInt64(SPI_getbinval(t, d, 4, &isnull));
		e->kind = SPI_getvalue(t, d, 5);
		e->start = DatumGetDateADT(SPI_getbinval(t, d, 6, &isnull));
		e->end = DatumGetDateADT(SPI_getbinval(t, d, 7, &isnull));
		e->amount = DatumGetNumericCopy(SPI_getbinval(t, d, 8, &isnull));
		e->explain = SPI_getvalue(t, d, 9);
	}
	SPI_freetuptable(SPI_tuptable);
	MemoryContextSwitchTo(old);
}

/* Opened once per run, for last_billed; the snapshot is the statement's. */
static void
open_line_index(Run *r)
{
	Oid			index;

	r->line_rel = table_open(lm_relid("bill_line"), AccessShareLock);
	index = get_relname_relid("bill_line_charge_once", RelationGetNamespace(r->line_rel));
	if (!OidIsValid(index))
		elog(ERROR, "index leasemgr.bill_line_charge_once is missing");
	r->line_index = index_open(index, AccessShareLock);
	r->line_period_start = lm_attnum(r->line_rel, "period_start");
	if (IndexRelationGetNumberOfKeyAttributes(r->line_index) != 2 ||
		r->line_index->rd_index->indkey.values[0] != lm_attnum(r->line_rel, "charge_id") ||
		r->line_index->rd_index->indkey.values[1] != r->line_period_start)
		elog(ERROR, "index leasemgr.bill_line_charge_once is not on (charge_id, period_start)");
	r->line_scan = index_beginscan(r->line_rel, r->line_index, GetActiveSnapshot(), 1, 0);
	r->line_slot = table_slot_create(r->line_rel, NULL);
}

static void
close_line_index(Run *r)
{
	ExecDropSingleTupleTableSlot(r->line_slot);
	index_endscan(r->line_scan);
	index_close(r->line_index, NoLock);
	table_close(r->line_rel, NoLock);
}

/*
 * The start of a charge's last billed period, max(period_start) of its charge lines, if it
 * has any: its last entry in the unique index bill_line_charge_once, under the snapshot the
 * charges cursor reads with (the statement's, as the cursor is read-only).
 *
 * This was a subquery of the charges cursor. The cursor's plan is made before the run writes
 * its first line, and for a bill_line analyzed while empty the planner takes a sequential
 * scan for that subquery, which the run then repeated for every charge over the lines it
 * kept adding: quadratic (a first run over 100,000 contracts did not end in 20 minutes).
 * No row-level security applies here, and none is needed: a charge's lines carry the
 * charge's park (their foreign key includes park_id), and the charge itself was visible.
 */
static bool
last_billed(Run *r, int64 charge_id, DateADT *start)
{
	ScanKeyData key;
	bool		found;
	MemoryContext old;

	/*
	 * In the run's memory, which outlives the scan: the index access method allocates scan
	 * state as it goes (a B-tree, the list of dead entries it met, once there are some),
	 * and frees it in index_endscan. The contract's memory, current here, is reset after
	 * every contract.
	 */
	old = MemoryContextSwitchTo(r->run_cxt);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(charge_id));
	index_rescan(r->line_scan, &key, 1, NULL, 0);
	found = index_getnext_slot(r->line_scan, BackwardScanDirection, r->line_slot);
	MemoryContextSwitchTo(old);
	if (found)
	{
		bool		isnull;

		*start = DatumGetDateADT(slot_getattr(r->line_slot, r->line_period_start, &isnull));
		ExecClearTuple(r->line_slot);
	}
	return found;
}

/* One row of the charges cursor: a charge, with its contract's columns first. */
static void
read_charge_row(Run *r, Reader *rd, HeapTuple t, TupleDesc d)
{
	MemoryContext old = MemoryContextSwitchTo(r->contract_cxt);
	LmCharge   *ch;
	LmRow		row;

	lm_row_init(&row, t, d);
	if (!rd->have_contract)
	{
		lm_read_contract(&rd->c, &row, 1);
		rd->have_contract = true;
		rd->maxcharges = 4;
		rd->c.charges = palloc(sizeof(LmCharge) * rd->maxcharges);
	}
	if (rd->c.ncharges == rd->maxcharges)
	{
		rd->maxcharges *= 2;
		rd->c.charges = repalloc(rd->c.charges, sizeof(LmCharge) * rd->maxcharges);
	}
	ch = &rd->c.charges[rd->c.ncharges++];
	lm_read_charge(ch, &row, LM_CONTRACT_NCOLUMNS + 1);
	ch->has_last_billed = last_billed(r, ch->id, &ch->last_billed);
	MemoryContextSwitchTo(old);
}

/*
 * The bill runs of a park take turns on this lock, a transaction-level advisory lock (the
 * one pg_advisory_xact_lock(key1, key2) takes: key1 hashtext('leasemgr.bill_run'), key2 the
 * park id). A change to data a run reads and bills for good (a turnover report) takes it
 * too, to wait for a run in progress; such a change to reports of several parks in one
 * transaction can deadlock with a run over those parks, and PostgreSQL's deadlock detector
 * then cancels one of the two (SQLSTATE 40P01, to retry). Returns whether the lock was
 * newly taken.
 */
bool
lm_lock_bill_runs(int64 park_id)
{
	LOCKTAG		tag;
	static int32 key1 = 0;
	static bool have_key1 = false;

	if (!have_key1)
	{
		key1 = DatumGetInt32(DirectFunctionCall1Coll(hashtext, DEFAULT_COLLATION_OID,
													 CStringGetTextDatum("leasemgr.bill_run")));
		have_key1 = true;
	}

	/* as pg_advisory_xact_lock(int4, int4) does (lockfuncs.c, SET_LOCKTAG_INT32) */
	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, (uint32) key1, (uint32) (int32) (park_id % PG_INT32_MAX), 2);
	/* true when newly taken, false when this transaction held it already */
	return LockAcquire(&tag, ExclusiveLock, false, false) == LOCKACQUIRE_OK;
}

/*
 * bill_run(period_month date, park_id bigint DEFAULT NULL)
 *   RETURNS TABLE(bills_created int, lines_created int, skipped_frozen int,
 *                 skipped_already_billed int, amount numeric)
 */
Datum
bill_run(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr charges_plan = NULL;
	static SPIPlanPtr free_plan = NULL;
	static SPIPlanPtr frozen_plan = NULL;
	static SPIPlanPtr rebill_plan = NULL;
	static SPIPlanPtr park_plan = NULL;
	static SPIPlanPtr lock_plan = NULL;
	bool		pushed = false;
	TupleDesc	desc;
	Run			r = {0};
	Reader		rd = {0};
	Datum		args[2];
	char		nulls[2] = {' ', ' '};
	int			skipped_frozen;
	bool		isnull;
	Datum		result[6];
	bool		result_nulls[6] = {false, false, false, false, false, false};

	if (PG_ARGISNULL(0) || DATE_NOT_FINITE(PG_GETARG_DATEADT(0)))
		ereport(ERROR,
				(errcode(ERRCODE_LM_INVALID_ARGUMENT),
				 errmsg("bill_run needs the billing month as a finite date"),
				 errhint("Give any day of the month to bill, e.g. leasemgr.bill_run('2027-03-01'), optionally with a park id.")));
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "bill_run must return a row");
	r.period = lm_month_start(PG_GETARG_DATEADT(0));
	r.issued_on = lm_business_date();
	/* Lines are never taken back: a mistyped year would bill years ahead, for good. */
	if (r.period > lm_add_months(lm_month_start(r.issued_on), 12))
		ereport(ERROR,
				(errcode(ERRCODE_LM_INVALID_ARGUMENT),
				 errmsg("cannot bill %s yet", lm_date_text(r.period)),
				 errdetail("Today is %s; a bill run reaches at most twelve months ahead, to %s.",
						   lm_date_text(r.issued_on), lm_date_text(lm_add_months(lm_month_start(r.issued_on), 12))),
				 errhint("Check the month (a mistyped year?): issued lines are never taken back.")));
	/*
	 * The run must see what a run it waited for has billed: a transaction snapshot taken
	 * before the wait would not, and the run would collide with those lines.
	 */
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_LM_INVALID_ARGUMENT),
				 errmsg("bill_run must run at READ COMMITTED"),
				 errdetail("This transaction is %s: its snapshot would not show what a bill run it waits for has billed.",
						   IsolationIsSerializable() ? "SERIALIZABLE" : "REPEATABLE READ"),
				 errhint("Run leasemgr.bill_run in a READ COMMITTED transaction (the default), e.g. from pg_cron.")));
	r.park_null = PG_ARGISNULL(1);
	r.park = r.park_null ? (Datum) 0 : PG_GETARG_DATUM(1);
	r.actor = CStringGetTextDatum(lm_current_actor());
	r.run_cxt = CurrentMemoryContext;
	r.amount = lm_num(0);
	r.batch_cxt = AllocSetContextCreate(r.run_cxt, "bill_run batch", ALLOCSET_DEFAULT_SIZES);
	r.contract_cxt = AllocSetContextCreate(r.run_cxt, "bill_run contract", ALLOCSET_DEFAULT_SIZES);

	SPI_connect();
	args[0] = r.park;
	args[1] = DateADTGetDatum(r.period);
	nulls[0] = r.park_null ? 'n' : ' ';

	if (!r.park_null)
	{
		Oid			t = INT8OID;

		if (park_plan == NULL)
			park_plan = lm_keep_plan("SELECT FROM leasemgr.park WHERE id OPERATOR(pg_catalog.=) $1", 1, &t);
		if (SPI_execute_plan(park_plan, args, NULL, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "park query failed");
		if (SPI_processed == 0)
			lm_row_not_found("park", r.park);
	}

	/*
	 * One run per park at a time: a second run waits here for the first to end, then reads
	 * what it billed (the snapshot below is taken after the wait) and bills nothing twice.
	 * Runs lock their parks in id order, so two runs cannot deadlock each other. The parks
	 * are listed again under the new snapshot: a park that became visible during the wait
	 * (created, or granted to the caller) is locked too, before anything is read.
	 */
	if (lock_plan == NULL)
	{
		Oid			types[1] = {INT8OID};

		lock_plan = lm_keep_plan("SELECT p.id FROM leasemgr.park p "
								 "WHERE $1::pg_catalog.int8 IS NULL OR p.id OPERATOR(pg_catalog.=) $1 "
								 "ORDER BY p.id", 1, types);
	}
	for (;;)
	{
		bool		all_locked = true;
		uint64		i;

		if (SPI_execute_plan(lock_plan, args, nulls, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "park query failed");
		for (i = 0; i < SPI_processed; i++)
			if (lm_lock_bill_runs(DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull))))
				all_locked = false;
		SPI_freetuptable(SPI_tuptable);
		if (pushed && all_locked)
			break;
		if (pushed)
			PopActiveSnapshot();
		/* This transaction's own earlier writes (an earlier run in the same statement) count. */
		CommandCounterIncrement();
		PushActiveSnapshot(GetTransactionSnapshot());
		pushed = true;
	}

	/*
	 * Approved amendments first: leasemgr.rebill issues the adjustments of the periods they
	 * changed that were already billed (adjustment lines only: what the run reads below, its
	 * charge lines, is unchanged). Under the park locks just taken, which rebill takes again.
	 */
	if (rebill_plan == NULL)
	{
		Oid			types[1] = {INT8OID};

		rebill_plan = lm_keep_plan("SELECT leasemgr.rebill(x.contract_id) FROM ("
								   "SELECT DISTINCT a.contract_id FROM leasemgr.amendment a "
								   "JOIN leasemgr.contract c ON c.id OPERATOR(pg_catalog.=) a.contract_id "
								   "WHERE a.state OPERATOR(pg_catalog.=) 'approved' AND a.rebilled_at IS NULL "
								   "AND c.state OPERATOR(pg_catalog.<>) 'amending' "
								   "AND ($1::pg_catalog.int8 IS NULL OR a.park_id OPERATOR(pg_catalog.=) $1)) x "
								   "ORDER BY x.contract_id", 1, types);
	}
	if (SPI_execute_plan(rebill_plan, args, nulls, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "rebill failed");
	SPI_freetuptable(SPI_tuptable);

	if (frozen_plan == NULL)
	{
		Oid			types[2] = {INT8OID, DATEOID};

		frozen_plan = lm_keep_plan("SELECT pg_catalog.count(*)::integer FROM leasemgr.contract c "
								   "WHERE c.state OPERATOR(pg_catalog.=) 'amending' AND " RUN_CONTRACTS_SCOPE, 2, types);
	}
	if (SPI_execute_plan(frozen_plan, args, nulls, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "frozen contract query failed");
	skipped_frozen = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

	load_extras(&r, args, nulls);

	/*
	 * The contract's columns, its billable area among them, come from a subquery that the
	 * planner keeps apart (OFFSET 0), so the area is summed once per contract, not once per
	 * charge row of the join.
	 */
	rd.charges = open_cursor("leasemgr_bill_run_charges",
							 "SELECT c.*, " LM_CHARGE_COLUMNS " "
							 "FROM (SELECT " LM_CONTRACT_COLUMNS " FROM leasemgr.contract c "
							 "      WHERE " RUN_CONTRACTS_WHERE "OFFSET 0) c "
							 "JOIN leasemgr.charge ch ON ch.contract_id OPERATOR(pg_catalog.=) c.id "
							 "ORDER BY c.id, ch.id",
							 &charges_plan, args, nulls);
	open_line_index(&r);
	rd.frees = open_cursor("leasemgr_bill_run_free_rent",
						   "SELECT f.contract_id, pg_catalog.lower(f.days), "
						   "pg_catalog.upper(f.days) OPERATOR(pg_catalog.-) 1, f.kinds "
						   "FROM leasemgr.free_rent_period f JOIN leasemgr.contract c ON c.id OPERATOR(pg_catalog.=) f.contract_id "
						   "WHERE " RUN_CONTRACTS_WHERE "ORDER BY f.contract_id, pg_catalog.lower(f.days)",
						   &free_plan, args, nulls);

	for (;;)
	{
		SPITupleTable *ctab;
		uint64		n,
					i;

		SPI_cursor_fetch(rd.charges, true, FETCH_ROWS);
		ctab = SPI_tuptable;
		n = SPI_processed;
		for (i = 0; i < n; i++)
		{
			int64		id = DatumGetInt64(SPI_getbinval(ctab->vals[i], ctab->tupdesc, 1, &isnull));

			if (rd.have_contract && id != rd.c.id)
				finish_contract(&r, &rd);
			read_charge_row(&r, &rd, ctab->vals[i], ctab->tupdesc);
		}
		SPI_freetuptable(ctab);
		if (n == 0)
			break;
	}
	if (rd.have_contract)
		finish_contract(&r, &rd);
	flush_batch(&r);
	SPI_cursor_close(rd.charges);
	SPI_cursor_close(rd.frees);
	close_line_index(&r);
	PopActiveSnapshot();
	SPI_finish();

	MemoryContextDelete(r.batch_cxt);
	MemoryContextDelete(r.contract_cxt);
	result[0] = Int32GetDatum(r.bills_created);
	result[1] = Int32GetDatum(r.lines_created);
	result[2] = Int32GetDatum(skipped_frozen);
	result[3] = Int32GetDatum(r.skipped_already_billed);
	result[4] = NumericGetDatum(r.amount);
	result[5] = Int32GetDatum(r.held);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), result, result_nulls)));
}
