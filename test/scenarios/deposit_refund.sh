#!/usr/bin/env bash
# A deposit refund is released only with the tenant's one-time code and a second finance
# person. The code is checked only by a transaction after the one that entered it, so every
# step here is its own transaction, as at a front desk: whoever rolls back learns nothing, a
# brute force inside one transaction gets one try, and every wrong code counts.
. "$(dirname "$0")/tap-lib.bash"
plan 17

db=lm_deposit
fresh_db $db
q -d $db -c "SET client_min_messages = warning" -c "CREATE EXTENSION leasemgr CASCADE"
q -d $db -c "CREATE SCHEMA th" -v fx_schema=th -f "$top/test/fixtures/sms_gateway_test_key.sql" -f "$top/test/fixtures/check_characters.sql" >/dev/null
q -d $db >/dev/null <<'SQL'
INSERT INTO leasemgr.region (code, name) VALUES ('R', 'Region');
INSERT INTO leasemgr.park (region_id, code, name) SELECT id, 'P', 'Park' FROM leasemgr.region;
INSERT INTO leasemgr.building (park_id, code, name) SELECT id, 'B', 'Building' FROM leasemgr.park;
INSERT INTO leasemgr.unit (park_id, building_id, floor, code, kind, area_m2) SELECT park_id, id, 1, 'U-1', 'office', 100 FROM leasemgr.building;
INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number, phone)
SELECT id, 'company', 'Acme', 'uscc', '91350100M000100Y43', '13800000001' FROM leasemgr.park;
INSERT INTO leasemgr.contract (park_id, code, tenant_id, start_date, end_date) SELECT park_id, 'C-1', id, '2024-01-01', '2024-12-31' FROM leasemgr.tenant;
INSERT INTO leasemgr.contract_unit (contract_id, unit_id) SELECT c.id, u.id FROM leasemgr.contract c, leasemgr.unit u;
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate) SELECT id, 'rent', 'fixed_month', 1000 FROM leasemgr.contract;
SET leasemgr.actor = 'submitter';
SELECT leasemgr.contract_transition(id, 'submit') FROM leasemgr.contract;
SET leasemgr.actor = 'approver';
SELECT leasemgr.contract_transition(id, 'approve') FROM leasemgr.contract;
UPDATE leasemgr.contract SET document_sha256 = repeat('ab', 32);
SELECT leasemgr.contract_transition(id, 'sign'), leasemgr.contract_transition(id, 'activate'),
       leasemgr.contract_transition(id, 'expire') FROM leasemgr.contract;
INSERT INTO leasemgr.sms_gateway_key (public_key) VALUES (th.sms_public_key());
SET leasemgr.actor = 'fin.a';
SELECT leasemgr.deposit_receive(id, 3000.00, '2024-01-01', 'B-1') FROM leasemgr.contract;
SQL
as_() { echo "SET leasemgr.actor = '$1';"; }
refund=$(q -d $db -c "SET leasemgr.actor = 'fin.a'" -c "SELECT leasemgr.deposit_refund_request(id, 3000.00, 'ICBC 1') FROM leasemgr.contract")
# the SMS gateway reads the code with its private key
code=$(q -d $db -c "SELECT pgp_pub_decrypt(dearmor(payload ->> 'code_pgp'), dearmor(th.sms_secret_key())) FROM leasemgr.event_outbox WHERE topic = 'sms' AND subject_id = $refund")
wrong=$(printf '%06d' $(( (10#$code + 1) % 1000000 )))

# A brute force inside one transaction: every try after the first is refused, none is checked.
got=$(q -d $db -c "DO \$\$ DECLARE n int := 0; r record; BEGIN
  FOR i IN 0..999 LOOP
    CONTINUE WHEN lpad(i::text, 6, '0') = '$code';  -- every try wrong
    SELECT * INTO r FROM leasemgr.deposit_refund_confirm($refund, lpad(i::text, 6, '0'));
    n := n + r.recorded::int;
  END LOOP;
  RAISE NOTICE 'recorded %', n;
END \$\$" 2>&1 | sed -n 's/.*recorded \([0-9]*\).*/\1/p')
is "$got" "1" "a thousand codes in one transaction: one is recorded, the rest wait for it to be checked"
is "$(q -d $db -c "SELECT state || ' ' || tries_left FROM leasemgr.deposit_refund_check($refund)")" "requested 4" \
   "checked by the next transaction: the code recorded was wrong, 4 tries left"

# Entered and rolled back: nothing learned, nothing recorded.
q -d $db -c "BEGIN" -c "SELECT leasemgr.deposit_refund_confirm($refund, '$code')" -c "ROLLBACK" >/dev/null
is "$(q -d $db -c "SELECT state FROM leasemgr.deposit_refund WHERE id = $refund")" "requested" "a code entered in a transaction rolled back is not recorded"
# Entered and committed, then checked in a transaction rolled back: the code still waits, and
# no other code is taken until its check commits.
q -d $db -c "SELECT leasemgr.deposit_refund_confirm($refund, '$wrong')" >/dev/null
is "$(q -d $db -c "BEGIN" -c "SELECT state || ' ' || tries_left FROM leasemgr.deposit_refund_check($refund)" -c "ROLLBACK")" "requested 3" \
   "a wrong code is checked by the next transaction: 3 tries left"
is "$(q -d $db -c "SELECT state || ' ' || tries_left FROM leasemgr.deposit_refund_check($refund)")" "requested 3" \
   "that transaction rolled back, the code still waits and is counted by the next: every wrong code counts"

# Three more wrong codes lock it.
for i in 1 2 3; do q -d $db -c "SELECT leasemgr.deposit_refund_confirm($refund, '$wrong')" >/dev/null; q -d $db -c "SELECT leasemgr.deposit_refund_check($refund)" >/dev/null; done
is "$(q -d $db -c "SELECT state || ' ' || tries_left FROM leasemgr.deposit_refund_check($refund)")" "locked 0" "the fifth wrong code locks the refund"
is "$(q -d $db -c "SELECT recorded FROM leasemgr.deposit_refund_confirm($refund, '$code')")" "f" "a locked refund takes no code, not even the right one"
is "$(q -d $db -c "SELECT state FROM leasemgr.approval_task WHERE subject_kind = 'deposit_refund' AND subject_id = $refund")" "cancelled" \
   "the lock cancels the refund's approval task"

# A new request, a new code; the right one confirms it.
refund2=$(q -d $db -c "SET leasemgr.actor = 'fin.a'" -c "SELECT leasemgr.deposit_refund_cancel($refund, 'locked')" \
            -c "SELECT leasemgr.deposit_refund_request(id, 3000.00, 'ICBC 1') FROM leasemgr.contract" | tail -1)
code2=$(q -d $db -c "SELECT pgp_pub_decrypt(dearmor(payload ->> 'code_pgp'), dearmor(th.sms_secret_key())) FROM leasemgr.event_outbox WHERE topic = 'sms' AND subject_id = $refund2")
q -d $db -c "SET leasemgr.actor = 'front.desk'" -c "SELECT leasemgr.deposit_refund_confirm($refund2, '$code2')" >/dev/null
is "$(q -d $db -c "SELECT state || ' ' || tries_left FROM leasemgr.deposit_refund_check($refund2)")" "confirmed 5" "the tenant's code confirms the refund"
is "$(q -d $db -c "SELECT confirmed_by FROM leasemgr.deposit_refund WHERE id = $refund2")" "front.desk" "stamped with who entered the code"

# Release: not by the requester; by a second person, into the ledger.
err=$(q -d $db -c "SET leasemgr.actor = 'fin.a'" -c "SELECT leasemgr.deposit_refund_release($refund2)" 2>&1 || true)
case "$err" in *"must be released by someone other than its requester"*) ok 0 "the requester cannot release it";; *) ok 1 "the requester cannot release it"; echo "$err" | diag;; esac
q -d $db -c "SET leasemgr.actor = 'fin.b'" -c "SELECT leasemgr.deposit_refund_release($refund2)" >/dev/null
is "$(q -d $db -c "SELECT kind || ' ' || amount FROM leasemgr.deposit_txn WHERE refund_id = $refund2")" "refunded 3000.00" \
   "a second finance person releases it: the refund is in the ledger"
is "$(q -d $db -c "SELECT leasemgr.deposit_balance(id) FROM leasemgr.contract")" "0.00" "the deposit is settled"
is "$(q -d $db -c "SELECT outcome FROM leasemgr.approval_task WHERE subject_kind = 'deposit_refund' AND subject_id = $refund2")" "released" \
   "the release closes its approval task"

# At REPEATABLE READ a deposit writer would not see another's movement: refused.
err=$(q -d $db -c "BEGIN ISOLATION LEVEL REPEATABLE READ" -c "SELECT leasemgr.deposit_receive(id, 1.00, '2024-01-01', 'RR') FROM leasemgr.contract" 2>&1 || true)
case "$err" in *"deposits move at READ COMMITTED"*) ok 0 "deposits move only at READ COMMITTED";; *) ok 1 "deposits move only at READ COMMITTED"; echo "$err" | diag;; esac

# Ten wrong codes for one deposit: the next refund waits for an admin. A second lease, two
# refunds locked in turn; then finance (a login of its own, granted the park) is refused.
c2=$(q -d $db -c "SET leasemgr.actor = 'setup'" -c "
  INSERT INTO leasemgr.unit (park_id, building_id, floor, code, kind, area_m2) SELECT park_id, id, 1, 'U-2', 'office', 100 FROM leasemgr.building;
  INSERT INTO leasemgr.contract (park_id, code, tenant_id, start_date, end_date) SELECT park_id, 'C-2', id, '2024-01-01', '2024-12-31' FROM leasemgr.tenant RETURNING id" | tail -1)
q -d $db >/dev/null <<SQL
INSERT INTO leasemgr.contract_unit (contract_id, unit_id) SELECT $c2, id FROM leasemgr.unit WHERE code = 'U-2';
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate) VALUES ($c2, 'rent', 'fixed_month', 1000);
SET leasemgr.actor = 'submitter';
SELECT leasemgr.contract_transition($c2, 'submit');
SET leasemgr.actor = 'approver';
SELECT leasemgr.contract_transition($c2, 'approve');
UPDATE leasemgr.contract SET document_sha256 = repeat('cd', 32) WHERE id = $c2;
SELECT leasemgr.contract_transition($c2, 'sign'), leasemgr.contract_transition($c2, 'activate'), leasemgr.contract_transition($c2, 'expire');
SELECT leasemgr.deposit_receive($c2, 2000.00, '2024-01-01', 'B-2');
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lm_dep_fin') THEN CREATE ROLE lm_dep_fin LOGIN IN ROLE leasemgr_finance; END IF;
END \$\$;
SELECT leasemgr.grant_park('lm_dep_fin', park_id) FROM leasemgr.contract WHERE id = $c2;
SQL
for round in 1 2; do
  r=$(q -d $db -c "SET leasemgr.actor = 'fin.a'" -c "SELECT leasemgr.deposit_refund_request($c2, 2000.00, 'ICBC 2')" | tail -1)
  for i in 1 2 3 4 5; do
    q -d $db -c "SELECT leasemgr.deposit_refund_confirm($r, 'x$i')" >/dev/null
    q -d $db -c "SELECT leasemgr.deposit_refund_check($r)" >/dev/null
  done
  q -d $db -c "SELECT leasemgr.deposit_refund_cancel($r, 'locked')" >/dev/null
done
err=$(psql -X -q -At -v ON_ERROR_STOP=1 -U lm_dep_fin -d $db -c "SET leasemgr.actor = 'fin.c'" \
        -c "SELECT leasemgr.deposit_refund_request($c2, 2000.00, 'ICBC 2')" 2>&1 || true)
case "$err" in *"ten wrong codes were entered for the deposit of contract C-2"*) ok 0 "after ten wrong codes, finance cannot request another refund";;
  *) ok 1 "after ten wrong codes, finance cannot request another refund"; echo "$err" | diag;; esac
is "$(q -d $db -c "SELECT leasemgr.deposit_refund_request($c2, 2000.00, 'ICBC 2') > 0")" "t" "an admin can, once the tenant's phone is checked"

q -d postgres -c "DROP DATABASE $db" -c "DROP ROLE IF EXISTS lm_dep_fin"
finish
