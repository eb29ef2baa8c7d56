-- Expansion search and short holds: on a drawn floor whose answer is worked out by hand,
-- find_contiguous_space offers groups of free units that share walls, best first (fewest
-- units, least excess area, closest to the tenant); across floors only stacked units; a hold
-- (reserve_units) keeps two agents from promising the same unit and keeps other leases out.
BEGIN;
SELECT plan(29);
SET LOCAL TimeZone = 'Asia/Shanghai';
SET LOCAL leasemgr.timezone = 'Asia/Shanghai';

SELECT th.park('CS') AS p \gset
SELECT id AS b FROM leasemgr.building WHERE park_id = :p \gset
-- Floor 1, 55 m x 18 m: a south row C-101..C-105 (y 0..8) and a north row C-106..C-110
-- (y 10..18) across a 2 m corridor. Units are 10 m wide (80 m2), the last of each row 15 m
-- (120 m2). Floor 2 has one unit, C-201, stacked on C-101.
INSERT INTO leasemgr.floor_plan (building_id, floor, outline)
VALUES (:b, 1, ST_MakeEnvelope(0, 0, 55, 18, 0)), (:b, 2, ST_MakeEnvelope(0, 0, 55, 18, 0));
INSERT INTO leasemgr.unit (park_id, building_id, floor, code, kind, area_m2, footprint)
SELECT :p, :b, 1, 'C-1' || lpad((r * 5 + i)::text, 2, '0'), 'office', CASE WHEN i = 5 THEN 120 ELSE 80 END,
       ST_MakeEnvelope(10 * (i - 1), r * 10, CASE WHEN i = 5 THEN 55 ELSE 10 * i END, r * 10 + 8, 0)
  FROM generate_series(0, 1) r, generate_series(1, 5) i;
INSERT INTO leasemgr.unit (park_id, building_id, floor, code, kind, area_m2, footprint)
VALUES (:p, :b, 2, 'C-201', 'office', 80, ST_MakeEnvelope(0, 0, 10, 8, 0));
CREATE FUNCTION pg_temp.u(p_code text) RETURNS bigint LANGUAGE sql AS $$ SELECT id FROM leasemgr.unit WHERE code = p_code $$;
CREATE FUNCTION pg_temp.codes(p_ids bigint[]) RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(u.code, ',' ORDER BY u.code) FROM leasemgr.unit u WHERE u.id = ANY (p_ids)
$$;
-- C-102 (the growing tenant's) and C-107 are leased.
SELECT th.draft(:p, 'CS-1', ARRAY[pg_temp.u('C-102')], '2026-01-01', '2028-12-31') AS t1 \gset
SELECT th.draft(:p, 'CS-2', ARRAY[pg_temp.u('C-107')], '2026-01-01', '2028-12-31') AS t2 \gset
SELECT th.walk(:t1, 'active'), th.walk(:t2, 'active');

-- 150 m2 next to C-102, on floor 1. Two 80 m2 units make 160 (10 beyond); a pair with a 120
-- m2 unit makes 200 (50 beyond). Free groups of two: C-103+C-104 (160, touching C-102:
-- 0 m), C-108+C-109 (160; C-108 is across the corridor from C-102's corner: 2 m), C-104+C-105
-- (200, 10 m), C-109+C-110 (200, sqrt(10^2 + 2^2) = 10.2 m). C-101 and C-106 touch no free unit.
SELECT results_eq(format($$SELECT option, pg_temp.codes(unit_ids), total_area, floors FROM leasemgr.find_contiguous_space(%s, 150, 1, %s)$$,
                         :b, pg_temp.u('C-102')),
  $$VALUES (1, 'C-103,C-104', 160.00::numeric, '{1}'::int[]), (2, 'C-108,C-109', 160.00, '{1}'),
           (3, 'C-104,C-105', 200.00, '{1}'), (4, 'C-109,C-110', 200.00, '{1}')$$,
  'the groups that reach 150 m2, fewest units, least excess, then nearest to C-102 first');
-- 250 m2: three units each side: 80 + 80 + 120 = 280.
SELECT results_eq(format($$SELECT option, pg_temp.codes(unit_ids), total_area FROM leasemgr.find_contiguous_space(%s, 250, 1, %s)$$,
                         :b, pg_temp.u('C-102')),
  $$VALUES (1, 'C-103,C-104,C-105', 280.00::numeric), (2, 'C-108,C-109,C-110', 280.00)$$,
  '250 m2 takes three units: the row next door first');
SELECT is((SELECT count(*)::int FROM leasemgr.find_contiguous_space(:b, 1000, 1)), 0, 'more than any group of touching units: no option');
SELECT results_eq(format($$SELECT pg_temp.codes(unit_ids) FROM leasemgr.find_contiguous_space(%s, 100, 1) WHERE option <= 2$$, :b),
  $$VALUES ('C-105'), ('C-110')$$, 'one unit when one is enough: the two 120 m2 units');
-- Across floors: C-201 is stacked on C-101, so with floor NULL the pair C-101+C-201 (160 m2,
-- floors 1 and 2, C-101 touching C-102) comes first; the tie with C-103+C-104 goes by unit id.
SELECT results_eq(format($$SELECT option, pg_temp.codes(unit_ids), floors FROM leasemgr.find_contiguous_space(%s, 150, NULL, %s) WHERE option <= 2$$,
                         :b, pg_temp.u('C-102')),
  $$VALUES (1, 'C-101,C-201', '{1,2}'::int[]), (2, 'C-103,C-104', '{1}')$$,
  'with floor NULL, units stacked across floors make a group');
SELECT ok(NOT EXISTS (SELECT FROM leasemgr.find_contiguous_space(:b, 150, 1) WHERE 2 = ANY (floors)),
  'with a floor given, only that floor');
SELECT th.refuses(format($$SELECT * FROM leasemgr.find_contiguous_space(%s, 0)$$, :b),
  'LM011', 'find_contiguous_space needs the area wanted', 'min_area_m2 is 0.', 'Give the area in m², above 0.', 'an area of 0 is refused');
SELECT is((th.error_of('SELECT * FROM leasemgr.find_contiguous_space(-1, 100)')).code, 'LM009', 'an unknown building is refused');

-- ---- holds -------------------------------------------------------------------------------------

SELECT set_config('leasemgr.actor', 'alice', true);
SELECT leasemgr.reserve_units(ARRAY[pg_temp.u('C-103')], now() + interval '2 days', 'viewing with Acme on Friday') AS h1 \gset
SELECT is(cardinality(:'h1'::bigint[]), 1, 'a hold is made');
SELECT is((SELECT status || ' ' || colour || ' ' || left(reason, 10) FROM leasemgr.unit_status WHERE unit_id = pg_temp.u('C-103')),
  'reserved green held until', 'the unit held shows as reserved');
SELECT results_eq(format($$SELECT pg_temp.codes(unit_ids) FROM leasemgr.find_contiguous_space(%s, 150, 1, %s)$$, :b, pg_temp.u('C-102')),
  $$VALUES ('C-108,C-109'), ('C-104,C-105'), ('C-109,C-110')$$, 'a held unit is not offered');
SELECT set_config('leasemgr.actor', 'bob', true);
SELECT is((th.error_of(format($$SELECT leasemgr.reserve_units(ARRAY[%s], now() + interval '1 day', 'another prospect')$$, pg_temp.u('C-103')))).message,
  'unit C-103 is already reserved', 'a second agent cannot hold the same unit');
SELECT is((th.error_of(format($$INSERT INTO leasemgr.unit_reservation (park_id, unit_id, held, note)
                                VALUES (%s, %s, tstzrange(now(), now() + interval '1 hour'), 'direct')$$, :p, pg_temp.u('C-103')))).code,
  '23P01', 'nor by writing the table directly: the exclusion constraint');
SELECT th.draft(:p, 'CS-3', ARRAY[pg_temp.u('C-103')], '2027-01-01', '2027-12-31') AS t3 \gset
SELECT th.refuses(format($$SELECT leasemgr.contract_transition(%s, 'submit')$$, :t3),
  'LM006', 'contract CS-3 cannot be submitted: a unit of it is reserved',
  format('unit C-103 is held until %s by alice.', (SELECT upper(held) FROM leasemgr.unit_reservation WHERE id = (:'h1'::bigint[])[1])),
  'Wait for the hold to end or have it released (leasemgr.release_units); a hold for a tenant lets that tenant''s lease through.',
  'another agent''s lease of a held unit is not submitted');
SELECT set_config('leasemgr.actor', 'alice', true);
SELECT is(leasemgr.contract_transition(:t3, 'submit'), 'pending_approval', 'the agent who holds it submits her lease of it');
SELECT th.fire(:t3, 'reject', 'th.approver');

-- A hold for a tenant lets that tenant's lease through, whoever submits it.
SELECT th.tenant(:p, 900) AS acme \gset
SELECT leasemgr.reserve_units(ARRAY[pg_temp.u('C-104')], now() + interval '1 day', 'Acme expands', :acme) AS h2 \gset
SELECT th.draft(:p, 'CS-4', ARRAY[pg_temp.u('C-104')], '2027-01-01', '2027-12-31') AS t4 \gset
SELECT is((th.error_of(format($$SELECT leasemgr.contract_transition(%s, 'submit')$$, :t4))).code, 'LM006',
  'a lease of another tenant is refused, even by the agent who made the hold');
SELECT th.draft(:p, 'CS-5', ARRAY[pg_temp.u('C-104')], '2027-01-01', '2027-12-31', :acme) AS t5 \gset
SELECT set_config('leasemgr.actor', 'bob', true);
SELECT is(leasemgr.contract_transition(:t5, 'submit'), 'pending_approval', 'Acme''s lease goes through, whoever submits it');
SELECT th.fire(:t5, 'reject', 'th.approver');

-- Released early, the hold lets anyone through; it stays on record.
SELECT is(leasemgr.release_units(:'h1'::bigint[]), 1, 'a hold is released early');
SELECT is(leasemgr.release_units(:'h1'::bigint[]), 0, '... once');
SELECT is((SELECT released_by FROM leasemgr.unit_reservation WHERE id = (:'h1'::bigint[])[1]), 'bob', '... stamped with who released it');
SELECT is(leasemgr.contract_transition(:t3, 'submit'), 'pending_approval', 'then any lease of the unit is submitted');

SELECT th.refuses(format($$SELECT leasemgr.reserve_units(ARRAY[%s], now() + interval '1 day', 'x')$$, pg_temp.u('C-102')),
  'LM006', 'unit C-102 is not free to reserve', 'Contract CS-1 holds it from 2026-01-01 to 2028-12-31.',
  'Reserve vacant units (leasemgr.unit_status, leasemgr.find_contiguous_space).', 'a leased unit is not held');
SELECT is((th.error_of(format($$SELECT leasemgr.reserve_units(ARRAY[%s], now() + interval '31 days', 'x')$$, pg_temp.u('C-105')))).message,
  'a hold ends after now and within 30 days', 'a hold is short: 30 days at most');
SELECT is((th.error_of(format($$SELECT leasemgr.reserve_units(ARRAY[%s], now() + interval '1 day', '')$$, pg_temp.u('C-105')))).code,
  'LM011', 'a hold says why');
SELECT is((th.error_of(format($$INSERT INTO leasemgr.unit_reservation (unit_id, held, note)
                                VALUES (%s, tstzrange(now(), now() + interval '60 days'), 'direct, long')$$, pg_temp.u('C-105')))).message,
  'a hold ends after now and within 30 days', 'a hold written directly is as short');
SELECT is((th.error_of(format($$INSERT INTO leasemgr.unit_reservation (unit_id, held, note)
                                VALUES (%s, tstzrange(now(), now() + interval '1 day'), 'direct, leased')$$, pg_temp.u('C-102')))).code,
  'LM006', '... and not over a lease either');
SELECT is((th.error_of(format($$SELECT leasemgr.reserve_units(ARRAY[%s], now() - interval '1 day', 'late')$$, pg_temp.u('C-105')))).message,
  'a hold ends after now and within 30 days', 'a hold ending in the past is refused');
SELECT is((th.error_of(format('DELETE FROM leasemgr.unit_reservation WHERE id = %s', (:'h2'::bigint[])[1]))).code, 'LM010',
  'holds are never deleted');
SELECT is((th.error_of(format($$UPDATE leasemgr.unit_reservation SET held = tstzrange(now(), now() + interval '20 days') WHERE id = %s$$,
                              (:'h2'::bigint[])[1]))).code, 'LM010', 'nor lengthened');

SELECT * FROM finish();
ROLLBACK;
