-- One unit is never in two live contracts with overlapping dates (inclusive dates), and a
-- contract leases only units of its own park. The trigger explains; the exclusion
-- constraint enforces (test/specs/double_booking_race.spec covers the concurrent case).
BEGIN;
SELECT plan(30);

SELECT th.park('DB') AS park \gset
SELECT th.park('DB2') AS park2 \gset
SELECT th.unit(:park, 'DB-101', 120) AS u \gset

-- Drafts hold nothing: two offers for the same unit and dates may coexist.
SELECT th.draft(:park, 'DB-A', ARRAY[:u]::bigint[], '2025-01-01', '2025-12-31') AS a \gset
SELECT th.draft(:park, 'DB-B', ARRAY[:u]::bigint[], '2025-07-01', '2026-06-30') AS b \gset
SELECT is((SELECT count(*) FROM leasemgr.contract_unit WHERE unit_id = :u), 2::bigint,
  'two drafts may offer the same unit for overlapping dates');
SELECT is(th.fire(:a, 'submit'), 'pending_approval', 'the first offer is submitted');
SELECT throws_ok(format('SELECT th.fire(%s, ''submit'')', :b), 'LM006',
  'unit DB-101 is already leased for part of 2025-07-01..2026-06-30', 'the overlapping offer is refused at submission');
SELECT is((th.error_of(format('SELECT th.fire(%s, ''submit'')', :b))).detail,
  'Contract DB-A (pending_approval) holds unit DB-101 from 2025-01-01 to 2025-12-31.',
  'the detail names the contract in the way and its dates');
SELECT isnt((th.error_of(format('SELECT th.fire(%s, ''submit'')', :b))).hint, NULL, '... with a hint');
SELECT is((SELECT state FROM leasemgr.contract WHERE id = :b), 'draft', 'the refused offer stays a draft');

-- Inclusive dates: ending 2025-12-31 and starting 2026-01-01 do not overlap; sharing one day does.
SELECT th.draft(:park, 'DB-NEXT', ARRAY[:u]::bigint[], '2026-01-01', '2026-12-31') AS nxt \gset
SELECT is(th.fire(:nxt, 'submit'), 'pending_approval', 'a lease starting the day after the other ends is fine');
SELECT th.draft(:park, 'DB-ONEDAY', ARRAY[:u]::bigint[], '2025-12-31', '2025-12-31') AS oneday \gset
SELECT throws_ok(format('SELECT th.fire(%s, ''submit'')', :oneday), 'LM006', NULL,
  'a lease sharing a single day (the last day of the other) is refused');

-- Every live state holds the unit; leaving the live states frees it.
CREATE FUNCTION pg_temp.holds(park bigint) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  st text;
  u bigint;
  c bigint;
  other bigint;
  n bigint;
BEGIN
  FOREACH st IN ARRAY '{pending_approval,approved,signed,active,expired,terminated,moving_out,closed,cancelled,draft}'::text[] LOOP
    n := nextval('th.n');
    u := th.unit(park, 'DBH-' || n);
    c := th.draft(park, 'DBH-C-' || n, ARRAY[u], '2024-01-01', '2024-12-31');
    PERFORM th.walk(c, st);
    -- th.walk terminates on the start date, so the rival starts after it.
    other := th.draft(park, 'DBH-O-' || n, ARRAY[u], '2024-01-02', '2024-03-31');
    IF st IN ('closed', 'cancelled', 'draft') THEN
      RETURN NEXT lives_ok(format('SELECT th.fire(%s, ''submit'')', other), format('a %s contract does not hold its unit', st));
    ELSIF st = 'terminated' THEN
      RETURN NEXT lives_ok(format('SELECT th.fire(%s, ''submit'')', other),
                           'a terminated contract frees its unit after the termination date');
    ELSE
      RETURN NEXT throws_ok(format('SELECT th.fire(%s, ''submit'')', other), 'LM006', NULL,
                            format('a %s contract holds its unit', st));
    END IF;
  END LOOP;
END
$$;
SELECT * FROM pg_temp.holds(:park);

-- The constraint itself, for a writer without triggers (the owner, replica mode).
SELECT th.draft(:park, 'DB-RAW', '{}', '2025-01-01', '2025-12-31') AS raw \gset
SET LOCAL session_replication_role = replica;
SELECT throws_ok(format(
  $$INSERT INTO leasemgr.contract_unit (park_id, contract_id, unit_id, billable_area_m2, lease_range, is_live)
    SELECT park_id, %s, %s, 10, lease_range, true FROM leasemgr.contract WHERE id = %s$$, :raw, :u, :a),
  '23P01', NULL, 'without triggers the exclusion constraint still refuses a double booking');
RESET session_replication_role;

-- The copies of the contract on a unit row cannot be written by hand.
SELECT throws_ok(format('UPDATE leasemgr.contract_unit SET lease_range = NULL WHERE contract_id = %s', :a),
  '23502', NULL, 'a NULL lease_range is refused (and does not crash the server)');
SELECT throws_ok(format('UPDATE leasemgr.contract_unit SET is_live = NULL WHERE contract_id = %s', :a),
  '23502', NULL, 'a NULL is_live is refused');
SELECT throws_ok(format('UPDATE leasemgr.contract_unit SET lease_range = ''[2030-01-01,2030-12-31]'' WHERE contract_id = %s', :a),
  '23503', NULL, 'a lease_range other than the contract''s is refused by the foreign key');
SELECT throws_ok(format('UPDATE leasemgr.contract_unit SET is_live = false WHERE contract_id = %s', :a),
  '23503', NULL, 'releasing a unit by flipping is_live is refused by the foreign key');

-- Park consistency.
SELECT th.unit(:park2, 'DB2-201') AS foreign_unit \gset
SELECT th.draft(:park, 'DB-X', '{}', '2027-01-01', '2027-12-31') AS x \gset
SELECT throws_ok(format('INSERT INTO leasemgr.contract_unit (contract_id, unit_id) VALUES (%s, %s)', :x, :foreign_unit),
  'LM007', 'unit DB2-201 is not in the park of contract DB-X', 'a unit of another park cannot be leased');
SELECT throws_ok(format('INSERT INTO leasemgr.contract_unit (contract_id, unit_id, park_id) VALUES (%s, %s, %s)', :x, :u, :park2),
  'LM007', NULL, 'a contract unit cannot claim another park');
SELECT throws_ok(format('INSERT INTO leasemgr.contract_unit (contract_id, unit_id) VALUES (%s, -5)', :x),
  'LM009', 'unit -5 does not exist', 'an unknown unit is LM009');
SELECT throws_ok(format('INSERT INTO leasemgr.contract_unit (contract_id, unit_id) VALUES (-7, %s)', :u),
  'LM009', 'contract -7 does not exist', 'an unknown contract is LM009');
SELECT throws_ok(format(
  $$INSERT INTO leasemgr.contract (park_id, code, tenant_id, start_date, end_date)
    VALUES (%s, 'DB-T', th.tenant(%s, 8001), '2027-01-01', '2027-12-31')$$, :park, :park2),
  '23503', NULL, 'a tenant of another park cannot sign (foreign key on tenant and park)');

-- Areas.
SELECT results_eq(format('SELECT billable_area_m2, park_id FROM leasemgr.contract_unit WHERE contract_id = %s', :a),
  format('VALUES (120.00::numeric(12,2), %s::bigint)', :park), 'the billable area defaults to the unit''s area; park_id comes from the contract');
SELECT throws_ok(format('INSERT INTO leasemgr.contract_unit (contract_id, unit_id, billable_area_m2) VALUES (%s, %s, 0)', :x, th.unit(:park, 'DB-Z')),
  '23514', NULL, 'a billable area of zero is refused');

SELECT * FROM finish();
ROLLBACK;
