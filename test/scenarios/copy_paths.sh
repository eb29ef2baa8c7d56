#!/usr/bin/env bash
# COPY is a way to write rows too. Only the table owner, acting as itself and copying into
# the very table (pg_restore), loads contracts in any state without the rules and the audit;
# every other COPY meets the same state machine and leaves the same audit rows as an INSERT.
# (PostgreSQL refuses COPY FROM into a table with row-level security to ordinary roles, so
# the other COPY writers are roles with BYPASSRLS.)
. "$(dirname "$0")/tap-lib.bash"
plan 10

db=lm_copy
fresh_db $db
q -d $db -c "SET client_min_messages = warning" -c "CREATE EXTENSION leasemgr CASCADE"
q -d $db >/dev/null <<'SQL'
INSERT INTO leasemgr.region (code, name) VALUES ('R', 'Region');
INSERT INTO leasemgr.park (region_id, code, name) SELECT id, 'P', 'Park' FROM leasemgr.region;
INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
SELECT id, 'company', 'Acme', 'uscc', '91350100M000100Y43' FROM leasemgr.park;
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lm_copy_op') THEN
    CREATE ROLE lm_copy_op LOGIN IN ROLE leasemgr_operator;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lm_copy_bulk') THEN
    CREATE ROLE lm_copy_bulk LOGIN BYPASSRLS IN ROLE leasemgr_operator;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lm_copy_admin') THEN
    CREATE ROLE lm_copy_admin LOGIN IN ROLE leasemgr_admin;
  END IF;
END $$;
SELECT leasemgr.grant_park('lm_copy_op', (SELECT id FROM leasemgr.park));
SQL
park=$(q -d $db -c "SELECT id FROM leasemgr.park")
tenant=$(q -d $db -c "SELECT id FROM leasemgr.tenant")
audit_count() { q -d $db -c "SELECT count(*) FROM leasemgr.audit_log WHERE $1"; }

copy_contract() {  # ROLE CODE STATE [SQL before the COPY]
  psql -X -q -d $db -U "$1" -v ON_ERROR_STOP=1 2>&1 <<SQL
${4:-}
COPY leasemgr.contract (park_id, code, tenant_id, state, start_date, end_date) FROM STDIN;
$park	$2	$tenant	$3	2025-01-01	2025-12-31
\.
SQL
}

out=$(copy_contract lm_copy_op C-OP-DRAFT draft || true)
case "$out" in *"COPY FROM not supported with row-level security"*) ok 0 "an operator cannot COPY into leasemgr tables at all" ;;
  *) ok 1 "an operator cannot COPY into leasemgr tables at all"; echo "$out" | diag ;; esac

out=$(copy_contract lm_copy_bulk C-BULK-ACTIVE active || true)
case "$out" in *"must be created as a draft"*) ok 0 "a BYPASSRLS role's COPY of an active contract is refused" ;;
  *) ok 1 "a BYPASSRLS role's COPY of an active contract is refused"; echo "$out" | diag ;; esac

out=$(copy_contract lm_copy_bulk C-BULK-DRAFT draft || true)
is "$out" "" "a BYPASSRLS role's COPY of a draft goes through"
is "$(audit_count "table_name = 'contract' AND new_values->>'code' = 'C-BULK-DRAFT' AND db_user = 'lm_copy_bulk'")" "1" \
  "... and is audited like an INSERT"
is "$(q -d $db -c "SELECT count(*) FROM leasemgr.contract_event e JOIN leasemgr.contract c ON c.id = e.contract_id WHERE c.code = 'C-BULK-DRAFT'")" "1" \
  "... and is on the timeline"

out=$(copy_contract postgres C-ROLE-ACTIVE active "SET ROLE lm_copy_bulk;" || true)
case "$out" in *"must be created as a draft"*) ok 0 "the owner after SET ROLE meets the rules" ;;
  *) ok 1 "the owner after SET ROLE meets the rules"; echo "$out" | diag ;; esac

# COPY TO wrapping a SECURITY DEFINER function (owned by the table owner) is no restore.
psql -X -q -d $db -U lm_copy_admin -v ON_ERROR_STOP=1 -c \
  "COPY (SELECT leasemgr.grant_park('lm_copy_admin', $park)) TO STDOUT" >/dev/null
is "$(audit_count "table_name = 'park_grant' AND new_values->>'role' = 'lm_copy_admin'")" "1" \
  "a grant made inside COPY (SELECT definer_function()) TO is audited"

# The restore path: the owner, as itself, copying into the table.
out=$(psql -X -q -d $db -v ON_ERROR_STOP=1 2>&1 <<SQL || true
COPY leasemgr.contract (park_id, code, tenant_id, state, start_date, end_date, created_by, created_at, state_since) FROM STDIN;
$park	C-RESTORED	$tenant	active	2025-01-01	2025-12-31	someone	2024-12-01 10:00+08	2025-01-01 09:00+08
\.
SQL
)
is "$out" "" "the owner's COPY of an active contract is accepted (the pg_restore path)"
is "$(audit_count "table_name = 'contract' AND new_values->>'code' = 'C-RESTORED'")" "0" \
  "... and not audited again (the restored log holds its history)"
out=$(psql -X -q -d $db -U lm_copy_op -c "INSERT INTO leasemgr.audit_log (at, xact_id, table_name, action, actor, db_user, db_role) VALUES (now(), 1, 'x', 'INSERT', 'forger', 'x', 'x')" 2>&1 || true)
case "$out" in *"permission denied"*) ok 0 "an operator cannot insert into the audit log" ;;
  *) ok 1 "an operator cannot insert into the audit log"; echo "$out" | diag ;; esac

q -d postgres -c "DROP DATABASE $db"
finish
