/*
 * row.c
 *     How our triggers read and edit rows: column numbers resolved once per statement,
 *     tuples deformed once per row, changes collected and applied in one step.
 *
 * A bulk UPDATE of 100,000 contracts calls each trigger 100,000 times; looking columns up by
 * name or fetching them one by one with heap_getattr (quadratic in the column count for rows
 * with NULLs) would cost more than the rules themselves.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "commands/trigger.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/datetime.h"
#include "utils/datum.h"
#include "utils/date.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "leasemgr.h"

void *
lm_statement_cache(FunctionCallInfo fcinfo, Relation rel, Size size, bool *fresh)
{
	LmStatementCache *cache = (LmStatementCache *) fcinfo->flinfo->fn_extra;

	*fresh = false;
	if (cache == NULL || cache->relid != RelationGetRelid(rel))
	{
		cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, size);
		cache->relid = RelationGetRelid(rel);
		fcinfo->flinfo->fn_extra = cache;
		*fresh = true;
	}
	return cache;
}

void
lm_resolve_columns(Relation rel, const char *const *names, int n, int *attnums)
{
	int			i;

	for (i = 0; i < n; i++)
		attnums[i] = lm_attnum(rel, names[i]);
}

void
lm_row_init(LmRow *row, HeapTuple tuple, TupleDesc desc)
{
	row->tuple = tuple;
	row->desc = desc;
	row->values = palloc(sizeof(Datum) * desc->natts);
	row->nulls = palloc(sizeof(bool) * desc->natts);
	heap_deform_tuple(tuple, desc, row->values, row->nulls);
}

void
lm_trigger_rows(TriggerData *td, LmRow *old, LmRow *new)
{
	TupleDesc	desc = RelationGetDescr(td->tg_relation);

	if (!TRIGGER_FIRED_BY_INSERT(td->tg_event))
		lm_row_init(old, td->tg_trigtuple, desc);
	if (!TRIGGER_FIRED_BY_DELETE(td->tg_event))
		lm_row_init(new, TRIGGER_FIRED_BY_INSERT(td->tg_event) ? td->tg_trigtuple : td->tg_newtuple, desc);
}

bool
lm_row_changed(const LmRow *a, const LmRow *b, int attnum)
{
	Form_pg_attribute att = TupleDescAttr(a->desc, attnum - 1);
	int			i = attnum - 1;

	if (a->nulls[i] || b->nulls[i])
		return a->nulls[i] != b->nulls[i];
	return !datum_image_eq(a->values[i], b->values[i], att->attbyval, att->attlen);
}

char *
lm_date_text(DateADT d)
{
	int			y,
				m,
				day;

	if (DATE_NOT_FINITE(d))
		return pstrdup(DATE_IS_NOBEGIN(d) ? "-infinity" : "infinity");
	j2date(d + POSTGRES_EPOCH_JDATE, &y, &m, &day);
	return psprintf("%04d-%02d-%02d", y, m, day);
}

/* Dates in ISO form whatever DateStyle says, since messages are read across parks. */
char *
lm_row_text(const LmRow *row, int attnum)
{
	Oid			typid = TupleDescAttr(row->desc, attnum - 1)->atttypid;
	Oid			outfunc;
	bool		isvarlena;

	if (row->nulls[attnum - 1])
		return pstrdup("(none)");
	if (typid == DATEOID)
		return lm_date_text(DatumGetDateADT(row->values[attnum - 1]));
	getTypeOutputInfo(typid, &outfunc, &isvarlena);
	return OidOutputFunctionCall(outfunc, row->values[attnum - 1]);
}

void
lm_edit(LmEdits *e, int attnum, Datum value, bool isnull)
{
	if (e->n >= (int) lengthof(e->cols))
		elog(ERROR, "too many column edits in one row");
	e->cols[e->n] = attnum;
	e->values[e->n] = value;
	e->nulls[e->n] = isnull;
	e->n++;
}

HeapTuple
lm_edits_apply(LmEdits *e, HeapTuple tuple, TupleDesc desc)
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

void
lm_spi_connect(bool *connected)
{
	if (*connected)
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	*connected = true;
}

void
lm_spi_finish(bool *connected)
{
	if (*connected)
		SPI_finish();
	*connected = false;
}

SPIPlanPtr
lm_keep_plan(const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

	if (plan == NULL || SPI_keepplan(plan) != 0)
		elog(ERROR, "could not prepare \"%s\": %s", sql, SPI_result_code_string(SPI_result));
	return plan;
}
