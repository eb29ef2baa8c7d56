/*
 * credit_warning.c
 *     Tenant credit warnings: the guard of leasemgr.tenant_credit_warning, and the check the
 *     contract state machine makes when a contract is submitted (LM019).
 *
 * A warning is raised open (refresh_credit_warnings, sql/86_tenant_health.sql) and cleared
 * once, with a reason, by an admin (clear_credit_warning). The trigger makes that hold for
 * any writer: nothing else about a warning changes and warnings are never deleted, because
 * a cleared warning is what keeps its periods from blocking the tenant again; a warning
 * written already cleared, or deleted, would move that line. Who raised and who cleared it,
 * and when, are stamps.
 *
 * The rule itself (which periods, which drifts) is SQL, credit_warning_periods(); the submit
 * check asks it, so the guard and the view can never disagree.
 */
#include "postgres.h"

#include <ctype.h>

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "leasemgr.h"

PG_FUNCTION_INFO_V1(tenant_credit_warning_before_write);

enum
{
	W_ID, W_PARK_ID, W_TENANT_ID, W_FIRST_PERIOD, W_FIRST_DRIFT_DAYS, W_SECOND_PERIOD,
	W_SECOND_DRIFT_DAYS, W_MEASURED_ON, W_RAISED_AT, W_RAISED_BY,
	W__RAISED,					/* the columns above are what the warning was raised for */
	W_CLEARED_AT = W__RAISED, W_CLEARED_BY, W_CLEAR_REASON, W__COUNT
};
static const char *const warning_colnames[W__COUNT] = {
	"id", "park_id", "tenant_id", "first_period", "first_drift_days", "second_period",
	"second_drift_days", "measured_on", "raised_at", "raised_by", "cleared_at", "cleared_by",
	"clear_reason"
};

typedef struct WarningCache
{
	LmStatementCache base;
	int			att[W__COUNT];
} WarningCache;

static bool
is_blank(const char *s)
{
	for (; *s; s++)
	{
		if (!isspace((unsigned char) *s))
			return false;
	}
	return true;
}

static void
refuse_clearing_without_reason(const LmRow *row, const int *att)
{
	ereport(ERROR,
			(errcode(ERRCODE_LM_INVALID_ARGUMENT),
			 errmsg("a credit warning is cleared with a reason"),
			 errdetail("Credit warning %s: clear_reason is empty; cleared_at and cleared_by are stamped when it is written.",
					   lm_row_text(row, att[W_ID])),
			 errhint("Use leasemgr.clear_credit_warning(tenant_id, reason).")));
}

/*
 * BEFORE INSERT OR UPDATE OR DELETE ON leasemgr.tenant_credit_warning FOR EACH ROW.
 */
Datum
tenant_credit_warning_before_write(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel;
	WarningCache *cache;
	bool		fresh;
	const int  *att;
	LmRow		old = {0};
	LmRow		new = {0};
	LmEdits		edits = {.cxt = CurrentMemoryContext};
	Datum		now = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	int			i;

	lm_check_trigger(fcinfo, "tenant_credit_warning_before_write", true, true);
	rel = td->tg_relation;
	cache = lm_statement_cache(fcinfo, rel, sizeof(WarningCache), &fresh);
	if (fresh)
		lm_resolve_columns(rel, warning_colnames, W__COUNT, cache->att);
	att = cache->att;

	if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
	{
		lm_row_init(&old, td->tg_trigtuple, RelationGetDescr(rel));
		ereport(ERROR,
				(errcode(ERRCODE_LM_APPEND_ONLY),
				 errmsg("credit warnings are never deleted"),
				 errdetail("Credit warning %s of tenant %s, for billing periods %s and %s, stays on record, open or cleared.",
						   lm_row_text(&old, att[W_ID]), lm_row_text(&old, att[W_TENANT_ID]),
						   lm_row_text(&old, att[W_FIRST_PERIOD]), lm_row_text(&old, att[W_SECOND_PERIOD])),
				 errhint("Clear an open warning with leasemgr.clear_credit_warning(tenant_id, reason).")));
	}

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
	{
		/* pg_restore brings warnings back as they were, cleared ones included. */
		if (lm_is_owner_copy(rel))
			return PointerGetDatum(td->tg_trigtuple);
		lm_row_init(&new, td->tg_trigtuple, RelationGetDescr(rel));
		for (i = W__RAISED; i < W__COUNT; i++)
		{
			if (!lm_row_null(&new, att[i]))
				ereport(ERROR,
						(errcode(ERRCODE_LM_APPEND_ONLY),
						 errmsg("a credit warning is raised open"),
						 errdetail("%s is set on a new warning; a warning written already cleared would keep its periods from ever raising one.",
								   warning_colnames[i]),
						 errhint("Insert it without cleared_at, cleared_by and clear_reason; an admin clears it with leasemgr.clear_credit_warning(tenant_id, reason).")));
		}
		lm_edit(&edits, att[W_RAISED_AT], now, false);
		lm_edit(&edits, att[W_RAISED_BY], CStringGetTextDatum(lm_current_actor()), false);
		return PointerGetDatum(lm_edits_apply(&edits, new.tuple, new.desc));
	}

	lm_row_init(&old, td->tg_trigtuple, RelationGetDescr(rel));
	lm_row_init(&new, td->tg_newtuple, RelationGetDescr(rel));
	for (i = 0; i < W__RAISED; i++)
	{
		if (lm_row_changed(&old, &new, att[i]))
			ereport(ERROR,
					(errcode(ERRCODE_LM_APPEND_ONLY),
					 errmsg("credit warning %s cannot change its %s", lm_row_text(&old, att[W_ID]),
							warning_colnames[i]),
					 errdetail("%s was %s; a warning keeps what it was raised for.", warning_colnames[i],
							   lm_row_text(&old, att[i])),
					 errhint("Clear the warning with leasemgr.clear_credit_warning(tenant_id, reason); new late periods raise a new one.")));
	}

	if (!lm_row_null(&old, att[W_CLEAR_REASON]))
	{
		for (i = W__RAISED; i < W__COUNT; i++)
		{
			if (lm_row_changed(&old, &new, att[i]))
				ereport(ERROR,
						(errcode(ERRCODE_LM_APPEND_ONLY),
						 errmsg("credit warning %s is already cleared", lm_row_text(&old, att[W_ID])),
						 errdetail("%s cleared it at %s: %s", lm_row_text(&old, att[W_CLEARED_BY]),
								   lm_row_text(&old, att[W_CLEARED_AT]), lm_row_text(&old, att[W_CLEAR_REASON])),
						 errhint("A cleared warning stays as it was cleared; new late periods raise a new one.")));
		}
		return PointerGetDatum(td->tg_newtuple);
	}

	/* An open warning: writing a reason clears it, and only that. */
	if (lm_row_null(&new, att[W_CLEAR_REASON]))
	{
		if (lm_row_changed(&old, &new, att[W_CLEARED_AT]) || lm_row_changed(&old, &new, att[W_CLEARED_BY]))
			refuse_clearing_without_reason(&old, att);
		return PointerGetDatum(td->tg_newtuple);
	}
	if (is_blank(TextDatumGetCString(lm_row_datum(&new, att[W_CLEAR_REASON]))))
		refuse_clearing_without_reason(&old, att);
	lm_edit(&edits, att[W_CLEARED_AT], now, false);
	lm_edit(&edits, att[W_CLEARED_BY], CStringGetTextDatum(lm_current_actor()), false);
	return PointerGetDatum(lm_edits_apply(&edits, new.tuple, new.desc));
}

void
lm_check_tenant_credit(Relation contract_rel, Datum tenant_id, const char *contract_code)
{
	static SPIPlanPtr plan = NULL;
	Datum		args[2];
	HeapTuple	t;
	TupleDesc	d;
	char	   *warning;

	/* The library may run against a schema from before credit warnings until UPDATE. */
	if (!OidIsValid(get_relname_relid("tenant_credit_warning", RelationGetNamespace(contract_rel))))
		return;
	if (plan == NULL)
	{
		Oid			types[2] = {INT8OID, DATEOID};

		/* The open warning if there is one, else the rule as it holds today. */
		plan = lm_keep_plan("SELECT t.name, x.id, pg_catalog.to_char(x.first_period, 'YYYY-MM'), x.first_drift_days,"
							" pg_catalog.to_char(x.second_period, 'YYYY-MM'), x.second_drift_days"
							" FROM leasemgr.tenant t CROSS JOIN LATERAL ("
							"  SELECT w.id, w.first_period, w.first_drift_days, w.second_period, w.second_drift_days"
							"    FROM leasemgr.tenant_credit_warning w"
							"   WHERE w.tenant_id OPERATOR(pg_catalog.=) t.id AND w.cleared_at IS NULL"
							"  UNION ALL"
							"  SELECT NULL, b.first_period, b.first_drift_days, b.second_period, b.second_drift_days"
							"    FROM leasemgr.credit_warning_periods(t.id, $2) b"
							/*
							 * A late period needs a bill due before today: without one the rule
							 * cannot hold, and the measure (a planned SQL function) is skipped.
							 * A new tenant's submit then costs an index probe, not a plan.
							 */
							"   WHERE EXISTS (SELECT FROM leasemgr.contract c2 JOIN leasemgr.bill bl"
							"                   ON bl.contract_id OPERATOR(pg_catalog.=) c2.id"
							"                  WHERE c2.tenant_id OPERATOR(pg_catalog.=) t.id AND bl.voided_at IS NULL"
							"                    AND bl.due_on OPERATOR(pg_catalog.<) $2)) x"
							" WHERE t.id OPERATOR(pg_catalog.=) $1"
							" ORDER BY x.id IS NULL LIMIT 1", 2, types);
	}
	args[0] = tenant_id;
	args[1] = DateADTGetDatum(lm_business_date());
	if (SPI_execute_plan(plan, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "credit warning query failed");
	if (SPI_processed == 0)
		return;

	t = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	warning = SPI_getvalue(t, d, 2);
	ereport(ERROR,
			(errcode(ERRCODE_LM_CREDIT_WARNING),
			 errmsg("contract %s cannot be submitted: tenant \"%s\" is under a credit warning",
					contract_code, SPI_getvalue(t, d, 1)),
			 warning ?
			 errdetail("Credit warning %s was raised for payment-date drift of %s days in billing period %s and %s days in %s: more than 2.5 days late in two consecutive periods.",
					   warning, SPI_getvalue(t, d, 4), SPI_getvalue(t, d, 3), SPI_getvalue(t, d, 6),
					   SPI_getvalue(t, d, 5)) :
			 errdetail("Payment-date drift was %s days in billing period %s and %s days in %s: more than 2.5 days late in two consecutive periods.",
					   SPI_getvalue(t, d, 4), SPI_getvalue(t, d, 3), SPI_getvalue(t, d, 6),
					   SPI_getvalue(t, d, 5)),
			 errhint("A member of leasemgr_admin who has reviewed the tenant clears the warning with SELECT leasemgr.clear_credit_warning(%lld, 'reason'); the contract can then be submitted.",
					 (long long) DatumGetInt64(tenant_id))));
}
