/*
 * identity.c
 *     SQL face of the identity checks: valid_uscc(), valid_cn_id() and the tenant trigger
 *     that normalises identity numbers and refuses bad ones with a precise reason.
 *
 * The arithmetic lives in core/lm_identity.c. Resident identity numbers are personal data,
 * so messages about them never repeat the whole number.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/rel.h"

#include "leasemgr.h"
#include "lm_identity.h"

PG_FUNCTION_INFO_V1(valid_uscc);
PG_FUNCTION_INFO_V1(valid_cn_id);
PG_FUNCTION_INFO_V1(tenant_before_write);

Datum
valid_uscc(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);

	PG_RETURN_BOOL(lm_check_uscc(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), NULL, NULL) == LM_ID_OK);
}

Datum
valid_cn_id(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);

	PG_RETURN_BOOL(lm_check_cn_id(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), NULL, NULL) == LM_ID_OK);
}

/* Upper-case ASCII letters and drop white space: how people paste numbers from documents. */
static char *
normalize_id(const char *in)
{
	char	   *out = palloc(strlen(in) + 1);
	char	   *o = out;

	for (; *in; in++)
	{
		if (*in == ' ' || *in == '\t' || *in == '\n' || *in == '\r')
			continue;
		*o++ = (*in >= 'a' && *in <= 'z') ? (char) (*in - 'a' + 'A') : *in;
	}
	*o = '\0';
	return out;
}

/* "110105********002X": enough to find the record, not enough to copy the person. */
static char *
mask_cn_id(const char *id)
{
	size_t		len = strlen(id);
	char	   *m = pstrdup(id);
	size_t		i;

	for (i = 6; i + 4 < len; i++)
		m[i] = '*';
	return m;
}

static void
report_bad_uscc(const char *id, LmIdResult r, int pos)
{
	const char *detail;

	switch (r)
	{
		case LM_ID_NOT_ASCII:
			detail = psprintf("USCC \"%s\" contains a character that is not an ASCII letter or digit.", id);
			break;
		case LM_ID_BAD_LENGTH:
			detail = psprintf("A USCC has 18 characters; \"%s\" has %d.", id,
							  pg_mbstrlen(id));
			break;
		case LM_ID_BAD_CHAR:
			detail = psprintf("Character %d of \"%s\" is '%c', which is not allowed there: USCC characters are 0-9 and A-Y without I, O, S, V and Z, and characters 3 to 8 (the administrative division) are digits.",
							  pos, id, id[pos - 1]);
			break;
		default:
			detail = psprintf("The check character '%c' of \"%s\" does not match its first 17 characters (GB 32100-2015).",
							  id[17], id);
			break;
	}
	ereport(ERROR,
			(errcode(ERRCODE_LM_INVALID_IDENTITY),
			 errmsg("invalid unified social credit code"),
			 errdetail_internal("%s", detail),
			 errhint("Copy the 18-character code from the business licence (营业执照) again; a single mistyped character changes the check character.")));
}

static void
report_bad_cn_id(const char *id, LmIdResult r, int pos)
{
	char	   *masked = mask_cn_id(id);
	const char *detail;

	switch (r)
	{
		case LM_ID_NOT_ASCII:
			detail = "The resident identity number contains a character that is not an ASCII digit or X.";
			break;
		case LM_ID_BAD_LENGTH:
			detail = psprintf("A resident identity number has 18 characters; this one has %d.",
							  pg_mbstrlen(id));
			break;
		case LM_ID_BAD_CHAR:
			detail = psprintf("Character %d of %s is not allowed: the first 17 characters are digits and the last is a digit or X.",
							  pos, masked);
			break;
		case LM_ID_BAD_DATE:
			detail = psprintf("The birth date %.8s (characters 7 to 14) of %s is not a real calendar date from 1900 on.",
							  id + 6, masked);
			break;
		default:
			detail = psprintf("The check character of %s does not match its first 17 digits (GB 11643-1999).",
							  masked);
			break;
	}
	ereport(ERROR,
			(errcode(ERRCODE_LM_INVALID_IDENTITY),
			 errmsg("invalid resident identity number"),
			 errdetail_internal("%s", detail),
			 errhint("Check the number against the identity card. Old 15-digit numbers are not accepted; passports and travel permits use their own id_type.")));
}

/* A cn_id's birth date after today is a typo or a fake, whatever its check digit says. */
static void
check_birth_not_future(const char *id)
{
	int			y,
				m,
				d;
	DateADT		birth;

	lm_cn_id_birth_date(id, &y, &m, &d);
	birth = date2j(y, m, d) - POSTGRES_EPOCH_JDATE;
	if (birth > lm_business_date())
		ereport(ERROR,
				(errcode(ERRCODE_LM_INVALID_IDENTITY),
				 errmsg("invalid resident identity number"),
				 errdetail("The birth date %04d-%02d-%02d of %s is in the future.",
						   y, m, d, mask_cn_id(id)),
				 errhint("Check the number against the identity card.")));
}

/* Companies are identified by their USCC, and only companies have one. */
static void
check_kind_matches_document(const char *kind, const char *id_type)
{
	bool		is_company,
				is_uscc;

	if (kind == NULL || id_type == NULL)
		return;
	is_company = strcmp(kind, "company") == 0;
	is_uscc = strcmp(id_type, "uscc") == 0;
	if (is_company && !is_uscc)
		ereport(ERROR,
				(errcode(ERRCODE_LM_INVALID_IDENTITY),
				 errmsg("a company tenant is identified by its unified social credit code"),
				 errdetail("The tenant is a company but id_type is \"%s\".", id_type),
				 errhint("Use id_type 'uscc' with the 18-character code of the business licence.")));
	if (!is_company && is_uscc)
		ereport(ERROR,
				(errcode(ERRCODE_LM_INVALID_IDENTITY),
				 errmsg("a unified social credit code identifies a company, not a person"),
				 errdetail("The tenant is a %s but id_type is \"uscc\".", kind),
				 errhint("Use kind 'company', or the person's own document (cn_id, passport, permit).")));
}

enum
{
	T_ID, T_PARK_ID, T_KIND, T_ID_TYPE, T_ID_NUMBER, T__COUNT
};
static const char *const tenant_colnames[T__COUNT] = {"id", "park_id", "kind", "id_type", "id_number"};

typedef struct TenantCache
{
	LmStatementCache base;
	int			att[T__COUNT];
} TenantCache;

/*
 * BEFORE INSERT OR UPDATE ON leasemgr.tenant: normalise and check the identity number,
 * and keep a tenant in its park. The CHECK constraints repeat the validity test for writers
 * that bypass triggers; this trigger exists to say exactly what is wrong.
 */
Datum
tenant_before_write(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel;
	TupleDesc	desc;
	HeapTuple	tuple;
	bool		isnull;
	int			att_type,
				att_number,
				att_park;
	char	   *id_type;
	char	   *raw;
	char	   *norm;
	LmIdResult	r;
	int			pos = 0;
	TenantCache *cache;
	bool		fresh;

	lm_check_trigger(fcinfo, "tenant_before_write", true, true);
	rel = td->tg_relation;
	desc = RelationGetDescr(rel);
	tuple = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;

	cache = lm_statement_cache(fcinfo, rel, sizeof(TenantCache), &fresh);
	if (fresh)
		lm_resolve_columns(rel, tenant_colnames, T__COUNT, cache->att);
	att_type = cache->att[T_ID_TYPE];
	att_number = cache->att[T_ID_NUMBER];
	att_park = cache->att[T_PARK_ID];

	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
	{
		Datum		oldp = heap_getattr(td->tg_trigtuple, att_park, desc, &isnull);
		Datum		newp = heap_getattr(tuple, att_park, desc, &isnull);

		if (DatumGetInt64(oldp) != DatumGetInt64(newp))
			ereport(ERROR,
					(errcode(ERRCODE_LM_PARK_MISMATCH),
					 errmsg("a tenant cannot move to another park"),
					 errdetail("Tenant %s belongs to park %lld.",
							   SPI_getvalue(td->tg_trigtuple, desc, cache->att[T_ID]),
							   (long long) DatumGetInt64(oldp)),
					 errhint("Create the tenant in the other park; contracts refer to a tenant of their own park.")));
	}

	id_type = SPI_getvalue(tuple, desc, att_type);
	raw = SPI_getvalue(tuple, desc, att_number);
	check_kind_matches_document(SPI_getvalue(tuple, desc, cache->att[T_KIND]), id_type);
	if (id_type == NULL || raw == NULL ||
		(strcmp(id_type, "uscc") != 0 && strcmp(id_type, "cn_id") != 0))
		return PointerGetDatum(tuple);

	norm = normalize_id(raw);
	if (strcmp(id_type, "uscc") == 0)
	{
		r = lm_check_uscc(norm, strlen(norm), &pos, NULL);
		if (r != LM_ID_OK)
			report_bad_uscc(norm, r, pos);
	}
	else
	{
		r = lm_check_cn_id(norm, strlen(norm), &pos, NULL);
		if (r != LM_ID_OK)
			report_bad_cn_id(norm, r, pos);
		check_birth_not_future(norm);
	}

	if (strcmp(norm, raw) != 0)
	{
		Datum		value = CStringGetTextDatum(norm);
		bool		null = false;

		tuple = heap_modify_tuple_by_cols(tuple, desc, 1, &att_number, &value, &null);
	}
	return PointerGetDatum(tuple);
}
