-- Spatial occupancy: unit footprints are valid polygons inside their floor's plan and never on
-- another unit's floor space (LM022); every unit has a status and a colour on any day, with the
-- reason; occupancy per floor and kind adds up, worked by hand below.
BEGIN;
SELECT plan(46);
SET LOCAL TimeZone = 'Asia/Shanghai';
SET LOCAL leasemgr.timezone = 'Asia/Shanghai';

SELECT th.park('ST') AS p \gset
SELECT id AS b FROM leasemgr.building WHERE park_id = :p \gset
CREATE FUNCTION pg_temp.status(p_day date, p_code text) RETURNS text LANGUAGE sql AS $$
  SELECT status || ' ' || colour FROM leasemgr.unit_status_as_of(p_day) WHERE unit_code = p_code
$$;

-- ---- floor plans and footprints ----------------------------------------------------------------

-- Floor 1 is 80 m x 10 m; its units are 10 m x 10 m side by side (ST-1 at x 0..10, ST-2 at 10..20, ...).
INSERT INTO leasemgr.floor_plan (building_id, floor, name, outline) VALUES (:b, 1, '1F', ST_MakeEnvelope(0, 0, 80, 10, 0));
SELECT is((SELECT park_id FROM leasemgr.floor_plan WHERE building_id = :b), :'p'::bigint, 'a floor plan takes its park from the building');
INSERT INTO leasemgr.unit (park_id, building_id, floor, code, kind, area_m2, footprint)
SELECT :p, :b, 1, 'ST-' || i, CASE WHEN i = 8 THEN 'shop' ELSE 'office' END, 100, ST_MakeEnvelope(10 * (i - 1), 0, 10 * i, 10, 0)
  FROM generate_series(1, 8) i;
SELECT is((SELECT count(*)::int FROM leasemgr.unit WHERE park_id = :p), 8, 'units that share a wall are drawn side by side');

SELECT th.refuses(format($$INSERT INTO leasemgr.unit (park_id, building_id, floor, code, kind, area_m2, footprint)
                          VALUES (%s, %s, 1, 'ST-X', 'office', 50, ST_MakeEnvelope(15, 0, 20, 10, 0))$$, :p, :b),
  'LM022', 'unit ST-X overlaps unit ST-2 on floor 1 of building B',
  'The two footprints share 50.00 m²; units may share a wall, not floor space.',
  'Correct the drawing of ST-X or of ST-2.', 'a unit on another unit''s floor space is refused');
SELECT th.refuses(format($$INSERT INTO leasemgr.unit (park_id, building_id, floor, code, kind, area_m2, footprint)
                          VALUES (%s, %s, 1, 'ST-X', 'office', 100, ST_MakeEnvelope(75, 0, 85, 10, 0))$$, :p, :b),
  'LM022', 'unit ST-X lies partly outside floor 1 of building B',
  '50.00 m² of its 100.00 m² are outside the floor''s outline.',
  'Draw the unit inside the floor plan (leasemgr.floor_plan.outline), in the same floor-plan metres.',
  'a unit partly outside its floor is refused, with the area outside');
SELECT th.refuses(format($$INSERT INTO leasemgr.unit (park_id, building_id, floor, code, kind, area_m2, footprint)
                          VALUES (%s, %s, 1, 'ST-X', 'office', 100, 'POLYGON((80 0, 90 10, 90 0, 80 10, 80 0))'::geometry)$$, :p, :b),
  'LM022', 'the footprint of unit ST-X is not a valid polygon', 'PostGIS says: Self-intersection[85 5].',
  'Fix the drawing: every ring closed, no self-intersection, holes inside the shell (ST_MakeValid shows a repaired one).',
  'a self-intersecting footprint is refused, with PostGIS''s reason');
SELECT th.refuses(format($$INSERT INTO leasemgr.unit (park_id, building_id, floor, code, kind, area_m2, footprint)
                          VALUES (%s, %s, 1, 'ST-X', 'office', 100, ST_GeomFromText('POLYGON EMPTY', 0))$$, :p, :b),
  'LM022', 'the footprint of unit ST-X has no area', 'It is POLYGON EMPTY.',
  'Draw the unit as a polygon of its floor area, in metres.', 'an empty footprint is refused');
SELECT th.refuses(format($$INSERT INTO leasemgr.unit (park_id, building_id, floor, code, kind, area_m2, footprint)
                          VALUES (%s, %s, 2, 'ST-201', 'office', 100, ST_MakeEnvelope(0, 0, 10, 10, 0))$$, :p, :b),
  'LM022', 'floor 2 of building B has no floor plan', 'Unit ST-201 is drawn on a floor that is not.',
  'Draw the floor first: INSERT INTO leasemgr.floor_plan (building_id, floor, outline).', 'a footprint on a floor never drawn is refused');
SELECT is((th.error_of(format($$UPDATE leasemgr.unit SET footprint = ST_MakeEnvelope(5, 0, 15, 10, 0) WHERE code = 'ST-1' AND park_id = %s$$, :p))).code,
  'LM022', 'moving a unit onto its neighbour is refused');
SELECT is((th.error_of(format($$UPDATE leasemgr.unit SET floor = 2 WHERE code = 'ST-1' AND park_id = %s$$, :p))).code,
  'LM022', 'so is moving it to a floor without a plan');
SELECT th.refuses(format($$UPDATE leasemgr.floor_plan SET outline = ST_MakeEnvelope(0, 0, 75, 10, 0) WHERE building_id = %s$$, :b),
  'LM022', 'the outline of floor 1 of building B leaves units outside', 'Outside it: ST-8 (50.00 m² outside).',
  'Draw the floor around all its units, or correct their footprints first.', 'a floor plan does not shrink from under its units');
SELECT th.refuses(format($$DELETE FROM leasemgr.floor_plan WHERE building_id = %s$$, :b),
  'LM022', 'floor 1 of building B has units drawn on it', 'Drawn on it: ST-1, ST-2, ST-3, ST-4, ST-5, ST-6, ST-7, ST-8.',
  'Remove or move their footprints first (UPDATE leasemgr.unit SET footprint = ...).', 'nor is it removed');
SELECT th.refuses(format($$INSERT INTO leasemgr.floor_plan (building_id, floor, outline) VALUES (%s, 3, 'POLYGON((0 0, 10 10, 10 0, 0 10, 0 0))'::geometry)$$, :b),
  'LM022', 'the outline of floor 3 of building B is not a usable polygon', 'PostGIS says: Self-intersection[5 5].',
  'Draw the floor as one valid polygon with an area, in floor-plan metres.', 'an invalid floor outline is refused');
SELECT lives_ok(format($$UPDATE leasemgr.unit SET list_rent = 95 WHERE park_id = %s$$, :p),
  'other changes of a unit do not check its footprint again');
INSERT INTO leasemgr.floor_plan (building_id, floor, outline) VALUES (:b, 5, ST_MakeEnvelope(0, 0, 20, 10, 0));
SELECT lives_ok(format($$INSERT INTO leasemgr.unit (park_id, building_id, floor, code, kind, area_m2, footprint)
                          VALUES (%s, %s, 5, 'ST-501', 'office', 100, ST_MakeEnvelope(0, 0, 10, 10, 0)),
                                 (%s, %s, 5, 'ST-502', 'office', 100, ST_MakeEnvelope(9.9999999, 0, 20, 10, 0))$$, :p, :b, :p, :b),
  'a drawing''s rounding at a shared wall (0.001 m2) is not an overlap');
DELETE FROM leasemgr.unit WHERE code IN ('ST-501', 'ST-502') AND park_id = :p;
DELETE FROM leasemgr.floor_plan WHERE building_id = :b AND floor = 5;

-- ---- statuses and colours ---------------------------------------------------------------------

-- Market levels: offices 90.0000, shops 100.0000 per m2 and month. Every lease below is at
-- 80.0000 per m2 (th.draft).
INSERT INTO leasemgr.market_rent (park_id, kind, valid_from, rent_per_m2)
VALUES (:p, 'office', '2025-01-01', 90), (:p, 'shop', '2025-01-01', 100);
CREATE FUNCTION pg_temp.unit(p_code text) RETURNS bigint LANGUAGE sql AS $$
  SELECT id FROM leasemgr.unit WHERE code = p_code
$$;
SELECT th.draft(:p, 'L1', ARRAY[pg_temp.unit('ST-1')], '2026-01-01', '2027-12-31') AS l1 \gset
SELECT th.draft(:p, 'L2', ARRAY[pg_temp.unit('ST-2')], '2026-01-01', '2026-08-31') AS l2 \gset
SELECT th.draft(:p, 'L3', ARRAY[pg_temp.unit('ST-3'), pg_temp.unit('ST-4')], '2026-01-01', '2027-12-31') AS l3 \gset
SELECT th.draft(:p, 'L6', ARRAY[pg_temp.unit('ST-6')], '2025-01-01', '2025-12-31') AS l6 \gset
SELECT th.draft(:p, 'L7', ARRAY[pg_temp.unit('ST-7')], '2027-01-01', '2027-12-31') AS l7 \gset
SELECT th.draft(:p, 'L8', ARRAY[pg_temp.unit('ST-8')], '2026-01-01', '2027-12-31') AS l8 \gset
SELECT th.walk(:l1, 'active'), th.walk(:l2, 'active'), th.walk(:l3, 'active'), th.walk(:l6, 'expired'),
       th.walk(:l7, 'signed'), th.walk(:l8, 'active');
-- L3 hands ST-3 back after 2026-06-30.
SELECT set_config('leasemgr.actor', 'alice', true);
SELECT leasemgr.amendment_open(:l3, format('{"remove_units": [{"unit_id": %s, "last_day": "2026-06-30"}]}', pg_temp.unit('ST-3'))::jsonb,
                               'SA-1: ST-3 back') AS a3 \gset
SELECT set_config('leasemgr.actor', 'bob', true);
SELECT leasemgr.amendment_approve(:a3);

SELECT results_eq($$SELECT unit_code, status, colour, contract_code, lease_end, vacant_since, days_vacant
                      FROM leasemgr.unit_status_as_of('2026-06-15') WHERE park_id = (SELECT id FROM leasemgr.park WHERE code = 'ST')$$,
  $$VALUES ('ST-1', 'leased', 'green', 'L1', '2027-12-31'::date, NULL::date, NULL::int),
           ('ST-2', 'expiring', 'yellow', 'L2', '2026-08-31', NULL, NULL),
           ('ST-3', 'expiring', 'yellow', 'L3', '2026-06-30', NULL, NULL),
           ('ST-4', 'leased', 'green', 'L3', '2027-12-31', NULL, NULL),
           ('ST-5', 'vacant', 'red', NULL, NULL, NULL, NULL),
           ('ST-6', 'moving_out', 'red', 'L6', '2025-12-31', NULL, NULL),
           ('ST-7', 'reserved', 'green', 'L7', NULL, NULL, NULL),
           ('ST-8', 'leased', 'red', 'L8', '2027-12-31', NULL, NULL)$$,
  'as of 2026-06-15: every status, the lease, its end and the colour');
SELECT results_eq($$SELECT unit_code, reason FROM leasemgr.unit_status_as_of('2026-06-15')
                     WHERE park_id = (SELECT id FROM leasemgr.park WHERE code = 'ST') AND unit_code IN ('ST-2', 'ST-5', 'ST-6', 'ST-7', 'ST-8')$$,
  $$VALUES ('ST-2', 'lease ends on 2026-08-31, in 77 days, not renewed (yellow within 90 days)'),
           ('ST-5', 'never leased (red: vacant over 30 days)'),
           ('ST-6', 'lease ended on 2025-12-31, 166 days ago, move-out not closed (red: over 30 days)'),
           ('ST-7', 'taken from 2027-01-01'),
           ('ST-8', 'rent 80.00/m² is 20.0% below the market 100.00/m² (red over 15%)')$$,
  'each colour says why, with its threshold');
-- ST-1: (90 - 80) / 90 = 11.1% below: not red. ST-8: (100 - 80) / 100 = 20.0%: red.
SELECT results_eq($$SELECT unit_code, rent_per_m2, market_rent_per_m2, below_market_pct FROM leasemgr.unit_status_as_of('2026-06-15')
                     WHERE unit_code IN ('ST-1', 'ST-8') AND park_id = (SELECT id FROM leasemgr.park WHERE code = 'ST')$$,
  $$VALUES ('ST-1', 80.0000::numeric, 90.0000::numeric, 11.1::numeric), ('ST-8', 80.0000, 100.0000, 20.0)$$,
  'rent against market: 11.1% and 20.0% below');
SELECT is(pg_temp.status('2026-05-01', 'ST-2'), 'leased green', 'ST-2 on 2026-05-01: its end is 122 days away, more than 90');
SELECT is(pg_temp.status('2026-06-01', 'ST-2'), 'leased green', '... on 2026-06-01, 91 days before: not yet');
SELECT is(pg_temp.status('2026-06-02', 'ST-2'), 'expiring yellow', '... on 2026-06-02, 90 days before: within 90 days');
SELECT is(pg_temp.status('2026-07-20', 'ST-3'), 'vacant yellow', 'ST-3, handed back after 06-30, on 07-20: vacant 20 days, yellow');
SELECT results_eq($$SELECT vacant_since, days_vacant, reason FROM leasemgr.unit_status_as_of('2026-07-31')
                     WHERE unit_code = 'ST-3' AND park_id = (SELECT id FROM leasemgr.park WHERE code = 'ST')$$,
  $$VALUES ('2026-07-01'::date, 31, 'vacant 31 days since 2026-07-01 (red: over 30 days)')$$,
  '... on 07-31: vacant since 07-01, 31 days');
SELECT is(pg_temp.status('2026-07-31', 'ST-3'), 'vacant red', '... which is over 30: red');
SELECT is(pg_temp.status('2026-07-30', 'ST-3'), 'vacant yellow', '... and 30 days is not');
SELECT is(pg_temp.status('2025-06-15', 'ST-6'), 'leased green', 'ST-6 on a day of its lease: leased');
SELECT is((SELECT status || ' ' || colour || ': ' || reason FROM leasemgr.unit_status_as_of('2027-02-01') WHERE unit_code = 'ST-7' AND park_id = :p),
  'reserved green: taken from 2027-01-01 by a lease not activated yet', 'ST-7 once its lease should have started, still only signed: promised, not vacant');
SELECT is(pg_temp.status('2026-01-30', 'ST-6'), 'moving_out yellow', 'ST-6 30 days after its end, not closed: moving out, yellow');
SELECT is(pg_temp.status('2026-01-31', 'ST-6'), 'moving_out red', '... 31 days after: red');
SELECT is(pg_temp.status('2026-06-15', 'ST-4'), 'leased green', 'ST-4 stays with L3 after ST-3 is handed back');
SELECT is((SELECT reason FROM leasemgr.unit_status_as_of('2026-06-15') WHERE unit_code = 'ST-3' AND park_id = :p),
  'handed back after 2026-06-30, in 15 days (yellow within 90 days)', 'a unit handed back by an amendment says so');
-- A lease without a rent charge in force: the rent of the day is not known, so not green.
SELECT th.park('SU') AS pu \gset
SELECT th.draft(:pu, 'SU-1', ARRAY[th.unit(:pu, 'SU-101')], '2026-01-01', '2027-12-31', NULL, false) AS su \gset
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate) VALUES (:su, 'property_fee', 'per_m2_month', 12);
SELECT th.walk(:su, 'active');
SELECT is((SELECT status || ' ' || colour || ': ' || reason FROM leasemgr.unit_status_as_of('2026-06-15', :pu)),
  'leased yellow: leased to 2027-12-31; the rent of the day is not known (a CPI index not loaded, or no rent charge)',
  'a rent not known is yellow, and says why');

-- A renewal signed: ST-2 is no longer expiring.
SELECT leasemgr.renew(:l2, '2027-08-31') AS r2 \gset
SELECT th.walk(:r2, 'signed');
SELECT is(pg_temp.status('2026-06-15', 'ST-2'), 'leased green', 'a renewal signed from the next day: ST-2 is not expiring');
SELECT is(pg_temp.status('2026-09-30', 'ST-2'), 'moving_out yellow', 'after L2''s end, with the renewal signed but not activated, L2 is not closed: moving out');

-- The park's own thresholds.
INSERT INTO leasemgr.occupancy_policy (park_id, vacant_red_days, below_market_red_pct, expiring_days) VALUES (:p, 60, 25, 30);
SELECT is(pg_temp.status('2026-07-31', 'ST-3'), 'vacant yellow', 'with red after 60 days, 31 days vacant is yellow');
SELECT is(pg_temp.status('2026-06-15', 'ST-8'), 'leased green', 'with red over 25% below, 20.0% is green');
SELECT is((SELECT reason FROM leasemgr.unit_status_as_of('2026-07-31') WHERE unit_code = 'ST-3' AND park_id = :p),
  'vacant 31 days since 2026-07-01 (red: over 60 days)', 'the reason names the park''s threshold');
SELECT is(pg_temp.status('2026-06-15', 'ST-3'), 'expiring yellow', 'ST-3 ends in 15 days, within 30');
SELECT is(pg_temp.status('2026-05-01', 'ST-3'), 'leased green', '... on 05-01, 60 days before, not yet');
DELETE FROM leasemgr.occupancy_policy WHERE park_id = :p;

-- Market levels change over time: the level in force that day.
INSERT INTO leasemgr.market_rent (park_id, kind, valid_from, rent_per_m2) VALUES (:p, 'office', '2026-07-01', 100);
SELECT is((SELECT market_rent_per_m2 || ' ' || below_market_pct || ' ' || colour FROM leasemgr.unit_status_as_of('2026-07-01') WHERE unit_code = 'ST-1' AND park_id = :p),
  '100.0000 20.0 red', 'from 07-01 the office level is 100: ST-1 at 80 is 20.0% below, red');
SELECT is((SELECT market_rent_per_m2::text FROM leasemgr.unit_status_as_of('2026-06-30') WHERE unit_code = 'ST-1' AND park_id = :p),
  '90.0000', '... the day before, 90');
DELETE FROM leasemgr.market_rent WHERE park_id = :p AND valid_from = '2026-07-01';

SELECT ok((SELECT ST_Equals(footprint, ST_MakeEnvelope(0, 0, 10, 10, 0)) FROM leasemgr.unit_status_as_of('2026-06-15') WHERE unit_code = 'ST-1' AND park_id = :p),
  'the footprint is a column of the status, for GIS tools');
SELECT is((SELECT count(*)::int FROM leasemgr.unit_status WHERE park_id = :p), 8, 'the view leasemgr.unit_status is the status today');

-- ---- occupancy ----------------------------------------------------------------------------------

-- As of 2026-06-15, offices (7 units, 700 m2): leased ST-1 and ST-4, expiring ST-2 and ST-3 =
-- 400 m2; the rest, 300 m2: ST-5 vacant, ST-6 moving out, ST-7 reserved. 400 / 700 = 0.5714.
-- Rent: ST-1..ST-4 at 80.0000. WALT over the leases in force: ST-1 and ST-4 to 2027-12-31 =
-- 565 days (200 left in 2026 + 365), ST-2 to 08-31 = 78, ST-3 to 06-30 = 16: 100 x (565 + 78 +
-- 16 + 565) / 400 m2 = 306 days / 365 = 0.84 years. The shop: ST-8 leased, 565 / 365 = 1.55.
SELECT results_eq(format($$SELECT kind, units, area_m2, leased_area_m2, occupancy_rate, vacant_area_m2, avg_rent_per_m2, walt_years
                          FROM leasemgr.occupancy_as_of('2026-06-15') WHERE park_id = %s$$, :p),
  $$VALUES ('office', 7, 700.00::numeric, 400.00::numeric, 0.5714::numeric, 300.00::numeric, 80.0000::numeric, 0.84::numeric),
           ('shop', 1, 100.00, 100.00, 1.0000, 0, 80.0000, 1.55)$$,
  'occupancy by kind: 400 of 700 m2 of offices leased (0.5714), WALT 0.84 years; the shop let, 1.55 years');
SELECT is((SELECT count(*)::int FROM leasemgr.occupancy WHERE park_id = :p), 2, 'the view leasemgr.occupancy is today''s');

-- ---- row-level security -------------------------------------------------------------------------

SET LOCAL ROLE leasemgr_reader;
SELECT is((SELECT count(*)::int FROM leasemgr.unit_status_as_of('2026-06-15')), 0,
  'a reader granted no park sees no unit status');
SELECT is((SELECT count(*)::int FROM leasemgr.occupancy_as_of('2026-06-15')), 0, '... and no occupancy');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
