-- Every row change of a business table is in the audit log, in the same transaction, with
-- the person, the login, the role, the program and the changed columns; nobody can change
-- or forge the log.
BEGIN;
SELECT plan(51);

SET LOCAL application_name = 'audit-test-app';
SET LOCAL leasemgr.actor = 'chen.jing@example.com';
SELECT coalesce(max(id), 0) AS before FROM leasemgr.audit_log \gset
SELECT th.park('AU') AS park \gset

INSERT INTO leasemgr.unit (park_id, building_id, floor, code, kind, area_m2, list_rent)
SELECT :park, id, 2, 'AU-201', 'office', 88.50, 95 FROM leasemgr.building WHERE park_id = :park
RETURNING id AS unit \gset

SELECT results_eq(format($$SELECT table_name, row_id, action, park_id, old_values IS NULL,
                                  new_values->>'code', (new_values->>'area_m2')::numeric, jsonb_typeof(new_values->'area_m2')
                             FROM leasemgr.audit_log WHERE id > %s AND table_name = 'unit'$$, :before),
  format($$VALUES ('unit', %s::bigint, 'INSERT', %s::bigint, true, 'AU-201', 88.50, 'number')$$, :unit, :park),
  'an INSERT is logged with every column, numbers as JSON numbers');
SELECT results_eq(format($$SELECT actor, db_user, db_role, application_name, client_addr IS NOT DISTINCT FROM inet_client_addr()
                             FROM leasemgr.audit_log WHERE id > %s AND table_name = 'unit'$$, :before),
  $$VALUES ('chen.jing@example.com', (session_user::text COLLATE "default"), (current_user::text COLLATE "default"), 'audit-test-app', true)$$,
  'it records the person, the login, the role, the program and the address');
SELECT ok((SELECT xact_id = txid_current() AND at >= now() FROM leasemgr.audit_log WHERE id > :before AND table_name = 'unit'),
  'it records the transaction and the time');

UPDATE leasemgr.unit SET list_rent = 99.5, kind = 'shop' WHERE id = :unit;
SELECT results_eq(format($$SELECT action, old_values, new_values FROM leasemgr.audit_log
                            WHERE id > %s AND table_name = 'unit' AND action = 'UPDATE'$$, :before),
  $$VALUES ('UPDATE', '{"kind": "office", "list_rent": 95.0000}'::jsonb, '{"kind": "shop", "list_rent": 99.5000}'::jsonb)$$,
  'an UPDATE logs the changed columns only, before and after');

UPDATE leasemgr.unit SET list_rent = 99.5 WHERE id = :unit;
SELECT is((SELECT count(*) FROM leasemgr.audit_log WHERE id > :before AND table_name = 'unit' AND action = 'UPDATE'),
  1::bigint, 'an UPDATE that changes nothing leaves no row');

SET LOCAL ROLE leasemgr_admin;
UPDATE leasemgr.unit SET floor = 3 WHERE id = :unit;
RESET ROLE;
SELECT results_eq(format($$SELECT db_user, db_role FROM leasemgr.audit_log
                            WHERE id > %s AND table_name = 'unit' AND action = 'UPDATE' AND new_values ? 'floor'$$, :before),
  $$VALUES ((session_user::text COLLATE "default"), 'leasemgr_admin')$$, 'after SET ROLE the role differs from the login');

DELETE FROM leasemgr.unit WHERE id = :unit;
SELECT results_eq(format($$SELECT action, old_values->>'code', new_values IS NULL FROM leasemgr.audit_log
                            WHERE id > %s AND table_name = 'unit' AND action = 'DELETE'$$, :before),
  $$VALUES ('DELETE', 'AU-201', true)$$, 'a DELETE logs the row as it was');

-- Every business table is audited, with its park.
CREATE FUNCTION pg_temp.audited_tables(before bigint) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY '{region,park,building,unit,tenant,contract,contract_unit,charge}'::text[] LOOP
    RETURN NEXT ok(EXISTS (SELECT FROM leasemgr.audit_log a WHERE a.id > before AND a.table_name = t),
                   format('%s changes are audited', t));
  END LOOP;
END
$$;
SELECT th.contract_in(:park, 'active', 'AU-C') AS contract \gset
SELECT * FROM pg_temp.audited_tables(:before);
SELECT is((SELECT count(*) FROM leasemgr.audit_log
            WHERE id > :before AND table_name <> 'region' AND park_id IS DISTINCT FROM :park), 0::bigint,
  'every row is logged with its park');
SELECT results_eq(format($$SELECT new_values->>'state' FROM leasemgr.audit_log
                            WHERE table_name = 'contract' AND row_id = %s AND action = 'UPDATE' AND new_values ? 'state' ORDER BY id$$, :contract),
  $$VALUES ('pending_approval'), ('approved'), ('signed'), ('active')$$, 'each transition of the contract is in the log');

-- The log is part of the transaction: a rolled-back change leaves no trace either.
SAVEPOINT s;
UPDATE leasemgr.building SET name = 'Renamed' WHERE park_id = :park;
ROLLBACK TO SAVEPOINT s;
SELECT is((SELECT count(*) FROM leasemgr.audit_log WHERE id > :before AND new_values->>'name' = 'Renamed'),
  0::bigint, 'a rolled-back change is not in the log');

-- Append-only, for the owner too.
SELECT throws_ok('UPDATE leasemgr.audit_log SET actor = ''someone else''', 'LM010',
  'leasemgr.audit_log is append-only', 'the owner cannot update the audit log');
SELECT throws_ok('DELETE FROM leasemgr.audit_log', 'LM010', NULL, 'the owner cannot delete from the audit log');
SELECT throws_ok('TRUNCATE leasemgr.audit_log', 'LM010', NULL, 'the owner cannot truncate the audit log');
SELECT throws_ok('UPDATE leasemgr.contract_event SET note = ''rewritten''', 'LM010', NULL,
  'the owner cannot rewrite the timeline');
SELECT throws_ok('DELETE FROM leasemgr.contract_event', 'LM010', NULL, 'the owner cannot delete the timeline');
SELECT throws_ok('TRUNCATE leasemgr.contract_event', 'LM010', NULL, 'the owner cannot truncate the timeline');
SELECT isnt((th.error_of('DELETE FROM leasemgr.audit_log')).hint, NULL, 'the refusal has a hint');
SELECT throws_ok($$INSERT INTO leasemgr.audit_log (at, xact_id, table_name, action, actor, db_user, db_role)
                   VALUES (now(), 1, 'contract', 'UPDATE', 'forger', 'x', 'x')$$,
  'LM010', 'leasemgr.audit_log is written only by leasemgr', 'the owner cannot forge an audit row with INSERT');
SELECT throws_ok(format($$INSERT INTO leasemgr.contract_event (park_id, contract_id, at, actor, event, to_state)
                          VALUES (%s, 1, now(), 'forger', 'approve', 'approved')$$, :park),
  'LM010', NULL, 'the owner cannot forge a timeline row with INSERT');

-- TRUNCATE would remove audited rows without an audit record: refused on every audited table.
CREATE FUNCTION pg_temp.no_truncate() RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY '{region,park,building,unit,tenant,contract,contract_unit,park_grant,
                        charge,free_rent_period,turnover_report,price_index}'::text[] LOOP
    RETURN NEXT throws_ok(format('TRUNCATE leasemgr.%I CASCADE', t), 'LM010',
                          format('leasemgr.%s cannot be truncated', t), format('the owner cannot truncate %s', t));
  END LOOP;
END
$$;
SET LOCAL client_min_messages = warning;  -- CASCADE names every referencing table
SELECT * FROM pg_temp.no_truncate();
RESET client_min_messages;

-- The log keeps working through what a DBA may do to it: an added (and dropped) column, a
-- partial and an expression index, which must hold every row they should.
ALTER TABLE leasemgr.audit_log ADD COLUMN reviewed_by text;
CREATE INDEX audit_log_t_partial ON leasemgr.audit_log (row_id) WHERE table_name = 'building';
CREATE INDEX audit_log_t_expr ON leasemgr.audit_log (lower(actor));
SELECT lives_ok(format('UPDATE leasemgr.building SET name = ''With DBA index'' WHERE park_id = %s', :park),
  'audited writes go on with an added column, a partial and an expression index');
SELECT lives_ok($$SELECT bt_index_check('leasemgr.audit_log_t_partial', true)$$, '... and the partial index holds every row it should');
SELECT lives_ok($$SELECT bt_index_check('leasemgr.audit_log_t_expr', true)$$, '... and so does the expression index');
ALTER TABLE leasemgr.audit_log DROP COLUMN reviewed_by;
SELECT lives_ok(format('UPDATE leasemgr.building SET name = ''Column dropped'' WHERE park_id = %s', :park),
  'audited writes go on after the column is dropped again');
ALTER TABLE leasemgr.audit_log ADD COLUMN must_fill text NOT NULL DEFAULT 'x';
SELECT throws_ok(format('UPDATE leasemgr.building SET name = ''Not null'' WHERE park_id = %s', :park),
  '55000', 'column leasemgr.audit_log.must_fill needs a value leasemgr does not write',
  'a NOT NULL column the log cannot fill is a clear error, not a silent NULL');
ALTER TABLE leasemgr.audit_log DROP COLUMN must_fill;
ALTER TABLE leasemgr.audit_log ADD COLUMN with_default text DEFAULT 'x';
SELECT throws_ok(format('UPDATE leasemgr.building SET name = ''Default'' WHERE park_id = %s', :park),
  '55000', NULL, 'so is a column with a default the log would not evaluate');
ALTER TABLE leasemgr.audit_log DROP COLUMN with_default;
ALTER TABLE leasemgr.audit_log ALTER COLUMN xact_id TYPE numeric;
SELECT throws_ok(format('UPDATE leasemgr.building SET name = ''Retyped'' WHERE park_id = %s', :park),
  '55000', 'column leasemgr.audit_log.xact_id has type numeric; leasemgr writes bigint',
  'a retyped log column is a clear error, not a misread value');
ALTER TABLE leasemgr.audit_log ALTER COLUMN xact_id TYPE bigint;
DROP INDEX leasemgr.audit_log_t_partial, leasemgr.audit_log_t_expr;

-- Nobody can forge an entry: no role has INSERT on the logs, not even the admin.
CREATE ROLE lm_t_audit_admin IN ROLE leasemgr_admin;
SET ROLE lm_t_audit_admin;
SELECT throws_ok($$INSERT INTO leasemgr.audit_log (at, xact_id, table_name, action, actor, db_user, db_role)
                   VALUES (now(), 1, 'contract', 'UPDATE', 'forger', 'x', 'x')$$,
  '42501', NULL, 'an admin cannot insert into the audit log');
SELECT throws_ok(format($$INSERT INTO leasemgr.contract_event (park_id, contract_id, at, actor, event, to_state)
                          VALUES (%s, %s, now(), 'forger', 'approve', 'approved')$$, :park, :contract),
  '42501', NULL, 'an admin cannot insert into the timeline');
SELECT lives_ok(format('UPDATE leasemgr.unit SET list_rent = 1 WHERE park_id = %s', :park),
  'yet the admin''s own changes are logged (the trigger needs no privilege on the log)');
RESET ROLE;
SELECT ok(EXISTS (SELECT FROM leasemgr.audit_log WHERE id > :before AND db_role = 'lm_t_audit_admin'),
  '... as the log shows');
SELECT is((SELECT count(*) FROM information_schema.role_table_grants
            WHERE table_schema = 'leasemgr' AND table_name IN ('audit_log', 'contract_event')
              AND privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE') AND grantee <> 'postgres'),
  0::bigint, 'no role but the owner holds a write privilege on the logs');

SELECT * FROM finish();
ROLLBACK;
