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

#define LM_SCHEMA "leasemgr"

/* leasemgr.actor: the person an application acts for (set per transaction). */
extern char *lm_actor;

/* The acting person: leasemgr.actor when set, else the session user's name. */
extern const char *lm_current_actor(void);

/* OID of leasemgr.<relname>; errors when the extension's relation is missing. */
extern Oid	lm_relid(const char *relname);

/*
 * Appends one row to a leasemgr log table (audit_log, contract_event) without going through
 * the executor's permission checks or row triggers: the logs take no INSERT privilege from
 * anybody, so only this code path writes them. Indexes are maintained. colnames are the
 * table's columns in order, as the caller fills values and nulls.
 */
extern void lm_append_row(Oid relid, const char *const *colnames, int ncols,
						  Datum *values, bool *nulls);

/* Next value of a leasemgr sequence, without a USAGE check on it. */
extern int64 lm_nextval(const char *seqname);

/*
 * True while the table's owner loads rows with COPY: the pg_restore (and supervised
 * migration) path. Such rows keep the stamps they carry and are not audited again; every
 * other writer goes through the rules.
 */
extern bool lm_is_owner_copy(Relation rel);

/* Trigger protocol checks shared by our C triggers. */
extern void lm_check_trigger(FunctionCallInfo fcinfo, const char *funcname,
							 bool row_level, bool before);

/* Attribute number of a column by name; errors when it is missing. */
extern int	lm_attnum(Relation rel, const char *colname);

#endif							/* LEASEMGR_H */
