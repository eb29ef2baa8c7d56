/*
 * reading_check.c
 *     The statement trigger of meter_reading: every reading an INSERT or a COPY wrote, checked
 *     against its meter in one pass over the transition table, with each meter looked up once.
 *
 * An IoT import writes millions of readings of a few thousand meters; a per-row trigger, or
 * a join in SQL over the transition table, would cost more than the import itself. The first
 * reading that breaks a rule is handed to leasemgr.reading_refusal, which record_reading uses
 * too, so both paths refuse with the same words.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "leasemgr.h"

PG_FUNCTION_INFO_V1(meter_reading_check);

/* A meter as the rules need it; visible = false when it does not exist for this role. */
typedef struct MeterRules
{
	int64		id;
	bool		visible;
	int64		park_id;
	TimestampTz installed;
	bool		removed_set;
	TimestampTz removed;
	int			nregs;
	char	  **regs;
	int		   *reglens;
	Datum		range;			/* numeric 10^digits: the register shows less */
} MeterRules;

enum
{
	A_PARK, A_METER, A_REGISTER, A_READ_AT, A_RECORDED_BY, A_RECORDED_AT, A_VALUE, A__COUNT
};
static const char *const colnames[A__COUNT] = {
	"park_id", "meter_id", "register", "read_at", "recorded_by", "recorded_at", "value"
};

static void
load_meter(MeterRules *m, MemoryContext cxt)
{
	static SPIPlanPtr plan = NULL;
	Datum		arg = Int64GetDatum(m->id);
	HeapTuple	t;
	TupleDesc	d;
	bool		isnull;
	Datum	   *elems;
	int			i;

	if (plan == NULL)
	{
		Oid			argtypes[1] = {INT8OID};

		plan = lm_keep_plan("SELECT m.park_id, m.installed_at, m.removed_at, m.registers, "
							"10::pg_catalog.numeric OPERATOR(pg_catalog.^) m.digits FROM leasemgr.meter m "
							"WHERE m.id OPERATOR(pg_catalog.=) $1", 1, argtypes);
	}
	if (SPI_execute_plan(plan, &arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "meter query failed");
	MemoryContextSwitchTo(cxt);
	m->visible = SPI_processed > 0;
	if (m->visible)
	{
		t = SPI_tuptable->vals[0];
		d = SPI_tuptable->tupdesc;
		m->park_id = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
		m->installed = DatumGetTimestampTz(SPI_getbinval(t, d, 2, &isnull));
		m->removed = DatumGetTimestampTz(SPI_getbinval(t, d, 3, &isnull));
		m->removed_set = !isnull;
		deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(t, d, 4, &isnull)), TEXTOID, -1, false, TYPALIGN_INT,
						  &elems, NULL, &m->nregs);
		m->range = datumCopy(SPI_getbinval(t, d, 5, &isnull), false, -1);
		m->regs = palloc(sizeof(char *) * m->nregs);
		m->reglens = palloc(sizeof(int) * m->nregs);
		for (i = 0; i < m->nregs; i++)
		{
			m->regs[i] = TextDatumGetCString(elems[i]);
			m->reglens[i] = strlen(m->regs[i]);
		}
	}
	SPI_freetuptable(SPI_tuptable);
}

static bool
text_is(Datum d, const char *s, int len)
{
	text	   *t = DatumGetTextPP(d);

	return VARSIZE_ANY_EXHDR(t) == (Size) len && memcmp(VARDATA_ANY(t), s, len) == 0;
}

/* The error of a reading that breaks a rule, in the words of leasemgr.reading_refusal. */
static void
refuse(TupleTableSlot *slot, Oid rowtype, int64 meter_id)
{
	Datum		row = ExecFetchSlotHeapTupleDatum(slot);

	SPI_execute_with_args("SELECT leasemgr.reading_refusal($1, (SELECT m FROM leasemgr.meter m "
						  "WHERE m.id OPERATOR(pg_catalog.=) ($1).meter_id))",
						  1, &rowtype, &row, NULL, false, 1);
	elog(ERROR, "a reading of meter %lld breaks a meter rule", (long long) meter_id);
}

Datum
meter_reading_check(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel;
	TupleDesc	desc;
	TupleTableSlot *slot;
	int			att[A__COUNT];
	int			maxatt = 0;
	HASHCTL		ctl = {0};
	HTAB	   *meters;
	MemoryContext cxt = CurrentMemoryContext;
	bool		connected = false;
	bool		owner;
	TimestampTz now = GetCurrentStatementStartTimestamp();
	TimestampTz latest = now + 5 * USECS_PER_MINUTE;
	const char *actor;
	int			actor_len;
	MeterRules *last = NULL;
	int			i;

	lm_check_trigger(fcinfo, "meter_reading_check", false, false);
	if (td->tg_newtable == NULL)
		elog(ERROR, "meter_reading_check needs the transition table of new rows");
	rel = td->tg_relation;
	desc = RelationGetDescr(rel);
	for (i = 0; i < A__COUNT; i++)
	{
		att[i] = lm_attnum(rel, colnames[i]);
		maxatt = Max(maxatt, att[i]);
	}
	/* The owner (a restore, a migration) brings readings with their original stamps. */
	owner = has_privs_of_role(GetUserId(), rel->rd_rel->relowner);
	actor = lm_current_actor();
	actor_len = strlen(actor);

	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(MeterRules);
	ctl.hcxt = cxt;
	meters = hash_create("leasemgr reading meters", 256, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	lm_spi_connect(&connected);
	MemoryContextSwitchTo(cxt);

	slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	tuplestore_rescan(td->tg_newtable);
	while (tuplestore_gettupleslot(td->tg_newtable, true, false, slot))
	{
		Datum	   *v;
		int64		meter_id;
		TimestampTz read_at;
		MeterRules *m;
		bool		ok;

		slot_getsomeattrs(slot, maxatt);
		v = slot->tts_values;
		meter_id = DatumGetInt64(v[att[A_METER] - 1]);
		if (last != NULL && last->id == meter_id)
			m = last;
		else
		{
			bool		found;

			m = hash_search(meters, &meter_id, HASH_ENTER, &found);
			if (!found)
				load_meter(m, cxt);
			last = m;
		}
		read_at = DatumGetTimestampTz(v[att[A_READ_AT] - 1]);
		ok = m->visible && DatumGetInt64(v[att[A_PARK] - 1]) == m->park_id &&
			read_at >= m->installed && (!m->removed_set || read_at <= m->removed) && read_at <= latest;
		if (ok)
			ok = DatumGetBool(DirectFunctionCall2(numeric_lt, v[att[A_VALUE] - 1], m->range));
		if (ok)
		{
			Datum		reg = v[att[A_REGISTER] - 1];

			ok = false;
			for (i = 0; i < m->nregs && !ok; i++)
				ok = text_is(reg, m->regs[i], m->reglens[i]);
		}
		if (ok && !owner)
			ok = DatumGetTimestampTz(v[att[A_RECORDED_AT] - 1]) == now &&
				text_is(v[att[A_RECORDED_BY] - 1], actor, actor_len);
		if (!ok)
			refuse(slot, desc->tdtypeid, meter_id);
	}
	ExecDropSingleTupleTableSlot(slot);
	lm_spi_finish(&connected);
	return PointerGetDatum(NULL);
}
