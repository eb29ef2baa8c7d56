-- Each role sees and changes only the rows of the parks granted to it, through tables,
-- views and functions; errors never reveal another park's rows; admins see everything.
BEGIN;
SELECT plan(51);

-- Two parks with a bit of everything, made by the owner.
SELECT th.park('RA') AS pa \gset
SELECT th.park('RB') AS pb \gset
SELECT th.contract_in(:pa, 'active', 'RA-1') AS ca \gset
SELECT th.contract_in(:pb, 'active', 'RB-1') AS cb \gset
SELECT th.draft(:pa, 'RA-DRAFT', '{}', '2027-01-01', '2027-12-31') AS da \gset
SELECT id AS ub FROM leasemgr.unit WHERE park_id = :pb LIMIT 1 \gset
SELECT id_number AS tb_uscc FROM leasemgr.tenant WHERE park_id = :pb LIMIT 1 \gset

CREATE ROLE lm_t_bi_a LOGIN IN ROLE leasemgr_reader;
CREATE ROLE lm_t_op_a LOGIN IN ROLE leasemgr_operator;
CREATE ROLE lm_t_fin_a LOGIN IN ROLE leasemgr_finance;
CREATE ROLE lm_t_group_b NOLOGIN;
CREATE ROLE lm_t_op_b LOGIN IN ROLE leasemgr_operator, lm_t_group_b;
CREATE ROLE lm_t_admin LOGIN IN ROLE leasemgr_admin;
CREATE ROLE lm_t_nobody LOGIN;
SELECT leasemgr.grant_park('lm_t_bi_a', :pa);
SELECT leasemgr.grant_park('lm_t_op_a', :pa);
SELECT leasemgr.grant_park('lm_t_fin_a', :pa);
SELECT leasemgr.grant_park('lm_t_group_b', :pb);
SELECT lives_ok(format('SELECT leasemgr.grant_park(''lm_t_bi_a'', %s)', :pa), 'granting twice is harmless');

-- A BI reader of park A.
SET ROLE lm_t_bi_a;
SELECT is(leasemgr.visible_parks(), ARRAY[:pa]::bigint[], 'the reader''s parks');
SELECT ok(NOT leasemgr.sees_all_parks(), 'a reader does not see all parks');
CREATE FUNCTION pg_temp.rows_per_park(pa bigint, pb bigint) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  t text;
  na bigint;
  nb bigint;
BEGIN
  FOREACH t IN ARRAY '{building,unit,tenant,contract,contract_unit,contract_event,charge}'::text[] LOOP
    EXECUTE format('SELECT count(*) FILTER (WHERE park_id = %s), count(*) FILTER (WHERE park_id <> %s) FROM leasemgr.%I', pa, pa, t)
      INTO na, nb;
    RETURN NEXT ok(na > 0 AND nb = 0, format('%s: %s rows of park A, none of another park', t, na));
  END LOOP;
END
$$;
SELECT * FROM pg_temp.rows_per_park(:pa, :pb);
SELECT results_eq('SELECT code FROM leasemgr.park', $$VALUES ('RA')$$, 'park: only park A');
SELECT results_eq('SELECT DISTINCT park_code FROM leasemgr.contract_overview', $$VALUES ('RA')$$,
  'the contract_overview view: only park A');
SELECT is_empty(format('SELECT * FROM leasemgr.contract WHERE id = %s', :cb), 'park B''s contract by id: nothing');
SELECT is_empty(format('SELECT * FROM leasemgr.contract_timeline(%s)', :cb), 'park B''s timeline: nothing');
SELECT isnt_empty(format('SELECT * FROM leasemgr.contract_timeline(%s)', :ca), 'park A''s timeline is there');
SELECT throws_ok('SELECT * FROM leasemgr.audit_log', '42501', NULL, 'a reader cannot read the audit log');
SELECT throws_ok('SELECT * FROM leasemgr.park_grant', '42501', NULL, 'a reader cannot read the park grants');
SELECT throws_ok(format('INSERT INTO leasemgr.building (park_id, code, name) VALUES (%s, ''X'', ''X'')', :pa),
  '42501', NULL, 'a reader cannot write');
SELECT throws_ok(format('SELECT leasemgr.contract_transition(%s, ''expire'')', :ca), '42501', NULL,
  'a reader cannot move contracts');
RESET ROLE;

-- An operator of park A.
SET ROLE lm_t_op_a;
SELECT lives_ok(format('INSERT INTO leasemgr.building (park_id, code, name) VALUES (%s, ''OPA'', ''New'')', :pa),
  'the operator writes in park A');
SELECT throws_ok(format('INSERT INTO leasemgr.building (park_id, code, name) VALUES (%s, ''OPB'', ''Sneaky'')', :pb),
  '42501', NULL, 'the operator cannot write into park B');
SELECT throws_ok(format('UPDATE leasemgr.building SET park_id = %s WHERE park_id = %s', :pb, :pa),
  '42501', NULL, 'nor move a row into park B');
SELECT is_empty(format('UPDATE leasemgr.unit SET list_rent = 1 WHERE park_id = %s RETURNING id', :pb),
  'updating park B''s units touches nothing');
SELECT is_empty(format('DELETE FROM leasemgr.contract WHERE id = %s RETURNING id', :cb),
  'deleting park B''s contract touches nothing');
SELECT throws_ok(format('SELECT leasemgr.contract_transition(%s, ''expire'')', :cb), 'LM009',
  format('contract %s does not exist', :cb), 'park B''s contract does not exist for the operator');
SELECT throws_ok(format('INSERT INTO leasemgr.contract_unit (contract_id, unit_id) VALUES (%s, %s)', :da, :ub),
  'LM009', format('unit %s does not exist', :ub), 'park B''s unit does not exist for the operator either');
SELECT lives_ok(format($$INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
                         VALUES (%s, 'company', 'Same company', 'uscc', %L)$$, :pa, :'tb_uscc'),
  'a tenant already in park B can be entered in park A: uniqueness does not reach across parks');
SELECT lives_ok(format($$INSERT INTO leasemgr.contract (park_id, code, tenant_id, start_date, end_date)
                         SELECT %s, 'RB-1', id, '2027-01-01', '2027-12-31' FROM leasemgr.tenant WHERE park_id = %s LIMIT 1$$, :pa, :pa),
  'park B''s contract code can be reused in park A');
SELECT throws_ok('SELECT leasemgr.grant_park(''lm_t_op_a'', 1)', '42501', NULL, 'an operator cannot grant parks');
SELECT throws_ok('SELECT * FROM leasemgr.audit_log', '42501', NULL, 'an operator cannot read the audit log');
RESET ROLE;

-- Finance of park A reads the audit log of park A only.
SET ROLE lm_t_fin_a;
SELECT ok((SELECT count(*) > 0 AND count(*) = count(*) FILTER (WHERE park_id = :pa) FROM leasemgr.audit_log),
  'finance reads the audit log of its park, and nothing else');
RESET ROLE;

-- Park B through a group role.
SET ROLE lm_t_op_b;
SELECT is(leasemgr.visible_parks(), ARRAY[:pb]::bigint[], 'a member of a granted group role sees the group''s park');
SELECT results_eq('SELECT DISTINCT park_id FROM leasemgr.contract', format('VALUES (%s::bigint)', :pb),
  '... and its contracts only');
RESET ROLE;

-- An admin sees every park and manages grants.
SET ROLE lm_t_admin;
SELECT ok(leasemgr.sees_all_parks(), 'an admin sees all parks');
SELECT ok((SELECT count(DISTINCT park_id) >= 2 FROM leasemgr.contract), 'an admin reads every park''s contracts');
SELECT lives_ok(format('SELECT leasemgr.revoke_park(''lm_t_bi_a'', %s)', :pa), 'an admin revokes a park');
SELECT throws_ok(format('SELECT leasemgr.grant_park(''lm_t_no_such_role'', %s)', :pa), 'LM009',
  'role lm_t_no_such_role does not exist', 'granting to an unknown role is LM009');
SELECT throws_ok('SELECT leasemgr.grant_park(''lm_t_bi_a'', -1)', 'LM009', 'park -1 does not exist',
  'granting an unknown park is LM009');
SELECT throws_ok('SELECT leasemgr.revoke_park(''lm_t_no_such_role'', 1)', 'LM009', NULL,
  'revoking from an unknown role that holds nothing is LM009');
RESET ROLE;
SET ROLE lm_t_bi_a;
SELECT is_empty('SELECT * FROM leasemgr.contract', 'after the revoke the reader sees no contract');
RESET ROLE;

-- A grant belongs to the role it was written for: dropped and re-created under the same name,
-- or renamed, the role does not keep (or pass on) the park. Revoking works by name.
CREATE ROLE lm_t_temp LOGIN IN ROLE leasemgr_reader;
SELECT leasemgr.grant_park('lm_t_temp', :pa);
DROP ROLE lm_t_temp;
CREATE ROLE lm_t_temp LOGIN IN ROLE leasemgr_reader;
SET ROLE lm_t_temp;
SELECT is_empty('SELECT * FROM leasemgr.contract', 'a new role with a dropped role''s name does not inherit its park');
RESET ROLE;
CREATE ROLE lm_t_renamed LOGIN IN ROLE leasemgr_reader;
SELECT leasemgr.grant_park('lm_t_renamed', :pa);
ALTER ROLE lm_t_renamed RENAME TO lm_t_renamed2;
SET ROLE lm_t_renamed2;
SELECT is_empty('SELECT * FROM leasemgr.contract', 'a renamed role''s grant goes idle (grant it again under the new name)');
RESET ROLE;
SELECT lives_ok(format('SELECT leasemgr.revoke_park(''lm_t_temp'', %s)', :pa), 'a stale grant is revoked by name');
SELECT is((SELECT count(*) FROM leasemgr.park_grant WHERE role = 'lm_t_temp'), 0::bigint, '... which removes it');

-- A login with no leasemgr role gets nothing at all.
SET ROLE lm_t_nobody;
SELECT throws_ok('SELECT * FROM leasemgr.contract', '42501', NULL, 'no privilege on tables');
SELECT throws_ok('SELECT * FROM leasemgr.contract_overview', '42501', NULL, 'no privilege on views');
SELECT throws_ok('SELECT leasemgr.visible_parks()', '42501', NULL, 'no privilege on functions');
RESET ROLE;

-- Grants are audited.
SELECT is((SELECT count(*) FROM leasemgr.audit_log WHERE table_name = 'park_grant' AND action = 'INSERT'
             AND new_values->>'role' = 'lm_t_group_b'), 1::bigint, 'a park grant is audited');
SELECT is((SELECT count(*) FROM leasemgr.audit_log WHERE table_name = 'park_grant' AND action = 'DELETE'
             AND old_values->>'role' = 'lm_t_bi_a'), 1::bigint, 'a revoke is audited');

-- The policies are on every park-scoped table, and evaluate their functions once per query.
SELECT is(ARRAY(SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname = 'leasemgr' AND c.relkind = 'r' AND NOT c.relrowsecurity ORDER BY 1),
  ARRAY['approval_policy', 'park_grant', 'price_index', 'region', 'sms_gateway_key'],
  'row-level security is on for every table but region (above parks), park_grant (admins only), price_index and approval_policy (headquarters'' rule library, by region) and sms_gateway_key (one public key)');
SELECT ok((SELECT bool_and(qual LIKE '%SELECT leasemgr.sees_all_parks()%' AND qual LIKE '%SELECT leasemgr.visible_parks()%')
             FROM pg_policies WHERE schemaname = 'leasemgr'),
  'every policy calls the scope functions as initplans (once per query)');

SELECT * FROM finish();
ROLLBACK;
