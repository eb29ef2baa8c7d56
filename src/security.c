/*
 * security.c
 *     Park scope: which parks the current role may see.
 *
 * Row-level security policies on every park-scoped table call these once per query (as
 * initplans). They read leasemgr.park_grant directly, not through SQL, so no role needs a
 * privilege on the grant table to learn its own parks, and none can read anyone else's.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "leasemgr.h"

PG_FUNCTION_INFO_V1(visible_parks);
PG_FUNCTION_INFO_V1(session_sees_park);
PG_FUNCTION_INFO_V1(sees_all_parks);

static int
cmp_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/*
 * visible_parks() RETURNS bigint[]: the parks granted to any role whose privileges the
 * current role has (membership with inheritance), sorted and without duplicates.
 */
static Datum parks_of(Oid user);

Datum
visible_parks(PG_FUNCTION_ARGS)
{
	return parks_of(GetUserId());
}

/*
 * session_sees_park(park_id bigint) RETURNS boolean: does the role the session acts as see the
 * park (admin, superuser, or a grant)? For SECURITY DEFINER functions, in which the current
 * role is the owner's and row-level security does not apply. The outer user is the login, or
 * the role it SET ROLE to; a SECURITY DEFINER function does not change it.
 */
Datum
session_sees_park(PG_FUNCTION_ARGS)
{
	Oid			session = GetOuterUserId();
	Oid			admin = get_role_oid("leasemgr_admin", true);
	ArrayType  *parks;
	Datum	   *elems;
	int			n,
				i;

	if (superuser_arg(session) || (OidIsValid(admin) && has_privs_of_role(session, admin)))
		PG_RETURN_BOOL(true);
	parks = DatumGetArrayTypeP(parks_of(session));
	deconstruct_array(parks, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, NULL, &n);
	for (i = 0; i < n; i++)
		if (DatumGetInt64(elems[i]) == PG_GETARG_INT64(0))
			PG_RETURN_BOOL(true);
	PG_RETURN_BOOL(false);
}

/* The parks granted to a role or to any role whose privileges it has, sorted, as bigint[]. */
static Datum
parks_of(Oid user)
{
	Relation	rel = table_open(lm_relid("park_grant"), AccessShareLock);
	int			att_role = lm_attnum(rel, "role");
	int			att_role_oid = lm_attnum(rel, "role_oid");
	int			att_park = lm_attnum(rel, "park_id");
	Snapshot	snapshot = ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot();
	TableScanDesc scan = table_beginscan(rel, snapshot, 0, NULL);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	int			n = 0,
				cap = 16,
				i,
				kept = 0;
	int64	   *parks = palloc(sizeof(int64) * cap);
	Datum	   *elems;

	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		Datum		name = slot_getattr(slot, att_role, &isnull);
		Datum		role = slot_getattr(slot, att_role_oid, &isnull);

		/*
		 * The grant counts while the role it was written for still exists under that name:
		 * a dropped role's grant does not pass to a new role of the same name.
		 */
		if (isnull || get_role_oid(NameStr(*DatumGetName(name)), true) != DatumGetObjectId(role) ||
			!has_privs_of_role(user, DatumGetObjectId(role)))
			continue;
		if (n == cap)
		{
			cap *= 2;
			parks = repalloc(parks, sizeof(int64) * cap);
		}
		parks[n++] = DatumGetInt64(slot_getattr(slot, att_park, &isnull));
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	table_close(rel, NoLock);

	qsort(parks, n, sizeof(int64), cmp_int64);
	elems = palloc(sizeof(Datum) * (n > 0 ? n : 1));
	for (i = 0; i < n; i++)
	{
		if (kept > 0 && parks[i] == parks[i - 1])
			continue;
		elems[kept++] = Int64GetDatum(parks[i]);
	}
	return PointerGetDatum(construct_array(elems, kept, INT8OID, sizeof(int64),
										   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/* sees_all_parks() RETURNS boolean: members of leasemgr_admin (and superusers) see every park. */
Datum
sees_all_parks(PG_FUNCTION_ARGS)
{
	Oid			admin = get_role_oid("leasemgr_admin", true);

	PG_RETURN_BOOL(superuser() || (OidIsValid(admin) && has_privs_of_role(GetUserId(), admin)));
}
