#!/usr/bin/env bash
# pg_dump and pg_restore keep everything: every row of every table (leases, charges,
# timeline, audit log, park grants, price indexes), every constraint, trigger and policy, and
# the sequences, so new rows after a restore never collide with restored ones. A restore adds
# nothing to the audit log.
. "$(dirname "$0")/tap-lib.bash"
plan 10

src=lm_dump_src
dst=lm_dump_dst
fresh_db $src
q -d $src -c "SET client_min_messages = warning" -c "CREATE EXTENSION leasemgr CASCADE"
q -d $src -f "$top/test/fixtures/sample_park.sql" >/dev/null
q -d $src <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lm_dump_reader') THEN
    CREATE ROLE lm_dump_reader IN ROLE leasemgr_reader;
  END IF;
END $$;
SELECT leasemgr.grant_park('lm_dump_reader', (SELECT id FROM leasemgr.park WHERE code = 'SZ-ZH'));
SQL

pg_dump -Fc -d $src -f "$tmp/src.dump"
q -d postgres -c "DROP DATABASE IF EXISTS $dst" -c "CREATE DATABASE $dst"
if pg_restore --exit-on-error -d $dst "$tmp/src.dump" 2>"$tmp/restore.err"; then
  ok 0 "pg_restore of a database with leasemgr data succeeds"
else
  ok 1 "pg_restore of a database with leasemgr data succeeds"
  diag <"$tmp/restore.err"
fi

# Rows: count and a checksum of every row of every table, in the order of their text (not
# every table has an id: price_index is keyed by series and month).
fingerprint() {
  q -d "$1" <<'SQL'
SELECT string_agg(format('%s %s', t, r), E'\n' ORDER BY t)
  FROM (SELECT c.relname AS t,
               (xpath('/row/r/text()',
                      query_to_xml(format('SELECT count(*) || '':'' || md5(coalesce(string_agg(x::text, ''|'' ORDER BY x::text), '''')) AS r FROM leasemgr.%I x', c.relname),
                                   false, true, '')))[1]::text AS r
          FROM pg_class c WHERE c.relnamespace = 'leasemgr'::regnamespace AND c.relkind = 'r') s;
SQL
}
fingerprint $src >"$tmp/rows.src"
fingerprint $dst >"$tmp/rows.dst"
if diff "$tmp/rows.src" "$tmp/rows.dst" >"$tmp/rows.diff"; then
  ok 0 "every row of every table is back ($(wc -l <"$tmp/rows.src") tables)"
else
  ok 1 "every row of every table is back"; diag <"$tmp/rows.diff"
fi
contracts=$(q -d $dst -c "SELECT count(*) FROM leasemgr.contract")
audit=$(q -d $dst -c "SELECT count(*) FROM leasemgr.audit_log")
ok $([ "$contracts" -gt 250 ] && [ "$audit" -gt 1000 ] && echo 0 || echo 1) \
  "the restored database holds the sample ($contracts contracts, $audit audit rows)"

catalog() {
  q -d "$1" <<'SQL'
SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
  FROM pg_constraint WHERE connamespace = 'leasemgr'::regnamespace
UNION ALL
SELECT 'trigger ' || tgrelid::regclass || ' ' || pg_get_triggerdef(oid)
  FROM pg_trigger WHERE tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'leasemgr'::regnamespace)
   AND NOT tgisinternal
UNION ALL
SELECT 'policy ' || tablename || ' ' || policyname || ' ' || qual FROM pg_policies WHERE schemaname = 'leasemgr'
UNION ALL
SELECT 'index ' || indexrelid::regclass || ' ' || pg_get_indexdef(indexrelid)
  FROM pg_index WHERE indrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'leasemgr'::regnamespace)
ORDER BY 1;
SQL
}
catalog $src >"$tmp/cat.src"
catalog $dst >"$tmp/cat.dst"
if diff "$tmp/cat.src" "$tmp/cat.dst" >"$tmp/cat.diff"; then
  ok 0 "every constraint, trigger, policy and index is back ($(wc -l <"$tmp/cat.src") objects)"
else
  ok 1 "every constraint, trigger, policy and index is back"; diag <"$tmp/cat.diff"
fi

seqs() {
  q -d "$1" -c "SELECT string_agg(sequencename || '=' || coalesce(last_value, 0), ' ' ORDER BY sequencename)
                  FROM pg_sequences WHERE schemaname = 'leasemgr'"
}
is "$(seqs $dst)" "$(seqs $src)" "every sequence continues where it was"

grants=$(q -d $dst -c "SELECT count(*) FROM leasemgr.park_grant WHERE role = 'lm_dump_reader' AND role_oid = 'lm_dump_reader'::regrole")
is "$grants" "1" "park grants are back, bound to the role of that name"

# The restored database works: the rules hold and new rows do not collide.
out=$(q -d $dst 2>&1 <<'SQL' || true
SET leasemgr.actor = 'after.restore';
WITH c AS (SELECT id FROM leasemgr.contract WHERE state = 'pending_approval' ORDER BY id LIMIT 1)
SELECT leasemgr.contract_transition(id, 'approve') FROM c;
SQL
)
is "$out" "approved" "a restored contract moves on through the state machine"
out=$(q -d $dst 2>&1 <<'SQL' || true
SET leasemgr.actor = 'after.restore';
INSERT INTO leasemgr.contract (park_id, code, tenant_id, start_date, end_date)
SELECT c.park_id, 'AFTER-RESTORE', c.tenant_id, c.start_date, c.end_date
  FROM leasemgr.contract c WHERE c.state = 'active' ORDER BY c.id LIMIT 1;
INSERT INTO leasemgr.contract_unit (contract_id, unit_id)
SELECT n.id, cu.unit_id FROM leasemgr.contract n,
       (SELECT cu.unit_id FROM leasemgr.contract_unit cu JOIN leasemgr.contract c ON c.id = cu.contract_id
         WHERE c.state = 'active' ORDER BY c.id LIMIT 1) cu
 WHERE n.code = 'AFTER-RESTORE';
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate)
SELECT id, 'rent', 'per_m2_month', 80 FROM leasemgr.contract WHERE code = 'AFTER-RESTORE';
SELECT leasemgr.contract_transition(id, 'submit') FROM leasemgr.contract WHERE code = 'AFTER-RESTORE';
SQL
)
case "$out" in
  *"is already leased"*) ok 0 "double booking is still refused after the restore" ;;
  *) ok 1 "double booking is still refused after the restore"; echo "$out" | diag ;;
esac
max_before=$(q -d $src -c "SELECT max(id) FROM leasemgr.audit_log")
min_new=$(q -d $dst -c "SELECT min(id) FROM leasemgr.audit_log WHERE actor = 'after.restore'")
ok $([ "$min_new" -gt "$max_before" ] && echo 0 || echo 1) \
  "new audit rows continue after the restored ones ($min_new > $max_before)"
restore_rows=$(q -d $dst -c "SELECT count(*) FROM leasemgr.audit_log WHERE id > $max_before AND actor <> 'after.restore'")
is "$restore_rows" "0" "the restore itself wrote nothing to the audit log"

q -d postgres -c "DROP DATABASE $src" -c "DROP DATABASE $dst"
finish
