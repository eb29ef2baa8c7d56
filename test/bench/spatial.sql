-- Benchmark: spatial occupancy on a portfolio of 100,000 units in 200 buildings.
--
--   test/bench/run.sh spatial [-v rounds=5]
--
-- Not timed, the set-up: 10 parks of 20 buildings; each building has 10 floors of 50 units
-- (10 m x 8 m, two rows along a corridor, every footprint through the footprint rules), and
-- building 1 of park 1 has a floor 11 of 200 units (four rows of 50). About 60% of the units
-- are leased (one lease per unit, through the state machine), with market levels per park.
-- Timed, :rounds times each, the median reported:
--   unit_status  leasemgr.unit_status_as_of(today, park): one park's 10,000 units
--   floor_svg    leasemgr.floor_plan_svg(building, floor): one floor of 50 units
--   contiguous   leasemgr.find_contiguous_space on the 200-unit floor (300 m2, near a unit)
-- and the plans, which show the index scans that keep one park's cost to its own units.
\set ON_ERROR_STOP on
\if :{?rounds}
\else
  \set rounds 5
\endif
SET client_min_messages = warning;
SET leasemgr.actor = 'bench.agent';
\timing off

INSERT INTO leasemgr.region (code, name) VALUES ('R', 'Region');
INSERT INTO leasemgr.park (region_id, code, name) SELECT r.id, 'P' || p, 'Park ' || p FROM leasemgr.region r, generate_series(1, 10) p;
INSERT INTO leasemgr.building (park_id, code, name)
SELECT p.id, 'B' || b, 'Building ' || b FROM leasemgr.park p, generate_series(1, 20) b;
INSERT INTO leasemgr.floor_plan (building_id, floor, outline)
SELECT b.id, f, ST_MakeEnvelope(0, 0, 250, 20, 0) FROM leasemgr.building b, generate_series(1, 10) f;
INSERT INTO leasemgr.floor_plan (building_id, floor, outline)
SELECT b.id, 11, ST_MakeEnvelope(0, 0, 500, 40, 0) FROM leasemgr.building b WHERE b.id = (SELECT min(id) FROM leasemgr.building);
INSERT INTO leasemgr.unit (park_id, building_id, floor, code, kind, area_m2, footprint)
SELECT b.park_id, b.id, f, b.code || '-' || f || '-' || (side * 25 + i), 'office', 80,
       ST_MakeEnvelope(10 * (i - 1), side * 12, 10 * i, side * 12 + 8, 0)
  FROM leasemgr.building b, generate_series(1, 10) f, generate_series(0, 1) side, generate_series(1, 25) i;
INSERT INTO leasemgr.unit (park_id, building_id, floor, code, kind, area_m2, footprint)
SELECT b.park_id, b.id, 11, b.code || '-11-' || (r * 50 + i), 'office', 80,
       ST_MakeEnvelope(10 * (i - 1), r * 10, 10 * i, r * 10 + 8, 0)
  FROM leasemgr.building b, generate_series(0, 3) r, generate_series(1, 50) i
 WHERE b.id = (SELECT min(id) FROM leasemgr.building);
INSERT INTO leasemgr.market_rent (park_id, kind, valid_from, rent_per_m2) SELECT id, 'office', '2020-01-01', 90 FROM leasemgr.park;
INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
SELECT id, 'company', 'Bench tenant', 'uscc', '91350100M000100Y43' FROM leasemgr.park;
-- 60% of the units leased (not on the 200-unit floor, left free for the search), one lease each
INSERT INTO leasemgr.contract (park_id, code, tenant_id, start_date, end_date, document_sha256)
SELECT u.park_id, 'L-' || u.id, t.id, leasemgr.business_date() - (u.id % 700)::int,
       leasemgr.business_date() + 30 + (u.id % 1000)::int, repeat('ab', 32)
  FROM leasemgr.unit u JOIN leasemgr.tenant t ON t.park_id = u.park_id
 WHERE u.id % 5 < 3 AND u.floor <> 11;
INSERT INTO leasemgr.contract_unit (contract_id, unit_id)
SELECT c.id, substr(c.code, 3)::bigint FROM leasemgr.contract c;
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate)
SELECT c.id, 'rent', 'per_m2_month', 70 + (c.id % 30) FROM leasemgr.contract c;
UPDATE leasemgr.contract SET state = 'pending_approval';
SET leasemgr.actor = 'bench.manager';
UPDATE leasemgr.contract SET state = 'approved';
UPDATE leasemgr.contract SET state = 'signed';
UPDATE leasemgr.contract SET state = 'active';
ANALYZE;
SELECT count(*) AS units, count(*) FILTER (WHERE EXISTS (SELECT FROM leasemgr.contract_unit cu WHERE cu.unit_id = u.id)) AS leased,
       count(DISTINCT building_id) AS buildings
  FROM leasemgr.unit u;

CREATE TEMP TABLE timing (part text, round int, ms numeric);
CREATE FUNCTION pg_temp.time_it(p_part text, p_round int, p_sql text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  t0 timestamptz := clock_timestamp();
  n bigint;
BEGIN
  EXECUTE p_sql INTO n;
  INSERT INTO timing VALUES (p_part, p_round, round(extract(epoch FROM clock_timestamp() - t0)::numeric * 1000, 1));
END
$$;
SELECT min(id) AS park1 FROM leasemgr.park \gset
SELECT min(id) AS building1 FROM leasemgr.building \gset
SELECT id AS near FROM leasemgr.unit WHERE building_id = :building1 AND floor = 11 ORDER BY id OFFSET 120 LIMIT 1 \gset
SELECT pg_temp.time_it('unit_status (one park, 10,000 units)', r,
         format('SELECT count(*) FROM leasemgr.unit_status_as_of(leasemgr.business_date(), %s)', :park1)),
       pg_temp.time_it('floor_plan_svg (one floor, 50 units)', r,
         format('SELECT length(leasemgr.floor_plan_svg(%s, 3))', :building1)),
       pg_temp.time_it('find_contiguous_space (200-unit floor, 300 m2)', r,
         format('SELECT count(*) FROM leasemgr.find_contiguous_space(%s, 300, 11, %s)', :building1, :near))
  FROM generate_series(1, :rounds) r;

\echo
\echo 'Milliseconds per call, each round and the median'
SELECT part, string_agg(ms::text, ' / ' ORDER BY round) AS rounds_ms,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY ms) AS median_ms
  FROM timing GROUP BY part ORDER BY part;
SELECT count(*) AS options, min(total_area) AS best_total FROM leasemgr.find_contiguous_space(:building1, 300, 11, :near);

\echo
\echo 'The plan of one park''s status (the function is inlined: the park reaches the unit scans)'
EXPLAIN (COSTS OFF) SELECT count(*) FROM leasemgr.unit_status_as_of(leasemgr.business_date(), :park1);
