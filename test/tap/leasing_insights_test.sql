-- Leasing insights: a renewal's suggested rent is the median of comparable leases (same
-- building and kind, signed in the last 12 months), shown with how many and which; units let
-- below the park's average for their kind every month of a span are flagged. Worked by hand.
BEGIN;
SELECT plan(10);
SET LOCAL TimeZone = 'Asia/Shanghai';
SET LOCAL leasemgr.timezone = 'Asia/Shanghai';

SELECT th.park('LI') AS p \gset
SELECT id AS b FROM leasemgr.building WHERE park_id = :p \gset
INSERT INTO leasemgr.building (park_id, code, name) VALUES (:p, 'B2', 'Another building') RETURNING id AS b2 \gset
CREATE FUNCTION pg_temp.lease(p_code text, p_units bigint[], p_start date, p_end date, p_rate numeric) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  c bigint := th.draft((SELECT id FROM leasemgr.park WHERE code = 'LI'), p_code, p_units, p_start, p_end);
BEGIN
  UPDATE leasemgr.charge SET rate = p_rate WHERE contract_id = c;
  PERFORM th.walk(c, 'active');
  RETURN c;
END
$$;
SELECT leasemgr.business_date() AS today \gset
-- I-1's lease (80.0000 per m2) ends in 60 days. I-2 and I-3, of the same building and kind,
-- were let this month at 90.0000 and 100.0000; I-6 (another building) at 200 and the shop I-7
-- at 300 are not comparable.
SELECT pg_temp.lease('L1', ARRAY[th.unit(:p, 'I-1')], '2026-01-01', :'today'::date + 60, 80) AS l1 \gset
SELECT pg_temp.lease('L2', ARRAY[th.unit(:p, 'I-2')], :'today'::date - 10, :'today'::date + 700, 90) AS l2 \gset
SELECT pg_temp.lease('L3', ARRAY[th.unit(:p, 'I-3')], :'today'::date - 10, :'today'::date + 700, 100) AS l3 \gset
INSERT INTO leasemgr.unit (park_id, building_id, floor, code, kind, area_m2) VALUES (:p, :b2, 1, 'I-6', 'office', 100) RETURNING id AS u6 \gset
INSERT INTO leasemgr.unit (park_id, building_id, floor, code, kind, area_m2) VALUES (:p, :b, 1, 'I-7', 'shop', 100) RETURNING id AS u7 \gset
SELECT pg_temp.lease('L6', ARRAY[:u6]::bigint[], :'today'::date - 10, :'today'::date + 700, 200) AS l6 \gset
SELECT pg_temp.lease('L7', ARRAY[:u7]::bigint[], :'today'::date - 10, :'today'::date + 700, 300) AS l7 \gset

-- Median of 90 and 100 = 95.0000; against 80.0000 now: (95 - 80) / 80 = 18.75% -> 18.8.
SELECT results_eq(format($$SELECT contract_code, unit_code, days_left, current_rent_per_m2, suggested_rent_per_m2, change_pct,
                                 comparables, comparable_contracts, tenant_health
                            FROM leasemgr.renewal_suggestions_as_of(%L) WHERE park_id = %s$$, :'today', :p),
  $$VALUES ('L1', 'I-1', 60, 80.0000::numeric, 95.0000::numeric, 18.8::numeric, 2, 'L2, L3', 'healthy')$$,
  'L1 ends in 60 days: 95.0000 suggested, the median of L2 and L3 (same building and kind), +18.8%');
SELECT is((SELECT count(*)::int FROM leasemgr.renewal_suggestions_as_of(:'today'::date - 40) WHERE park_id = :p), 0,
  '100 days before its end, L1 is not listed yet (90 days)');
SELECT is((SELECT suggested_rent_per_m2 FROM leasemgr.renewal_suggestions_as_of(:'today'::date - 20) WHERE park_id = :p), NULL::numeric,
  '20 days ago L2 and L3 were not signed yet: no comparable, no suggestion');
SELECT leasemgr.renew(:l1, :'today'::date + 425);
SELECT is((SELECT count(*)::int FROM leasemgr.renewal_suggestions_as_of(:'today') WHERE park_id = :p), 0,
  'once a renewal is drafted, the lease is no longer listed');
SELECT is((SELECT count(*)::int FROM leasemgr.renewal_suggestions WHERE park_id = :p), 0, 'the view is today''s');

-- ---- asset improvement flags --------------------------------------------------------------------
-- Over the 3 months 2026-04-01, 05-01, 06-01 (as of 2026-06-15), offices in force: I-1 at 80
-- (L1), I-4 at 120, and from 05-01 I-5 at 100. The park's average each day: (80 + 120) / 2 =
-- 100 in April, (80 + 120 + 100) / 3 = 100 in May and June (100 m2 each). I-1 is below all
-- three months: 20.0% below 100. I-5 equals it; I-4 is above. L6 (200) and L7 (300) start later.
SELECT pg_temp.lease('L4', ARRAY[th.unit(:p, 'I-4')], '2026-01-01', '2027-12-31', 120) AS l4 \gset
SELECT pg_temp.lease('L5', ARRAY[th.unit(:p, 'I-5')], '2026-05-01', '2027-12-31', 100) AS l5 \gset
SELECT results_eq(format($$SELECT unit_code, months_below, rent_per_m2, park_average_per_m2, gap_pct
                            FROM leasemgr.asset_improvement_flags_as_of('2026-06-15', 3) WHERE park_id = %s$$, :p),
  $$VALUES ('I-1', 3, 80.0000::numeric, 100.0000::numeric, 20.0::numeric)$$,
  'I-1, below the park''s average every month of three, is flagged: 20.0% below');
SELECT is((SELECT months_below FROM leasemgr.asset_improvement_flags_as_of('2026-06-15', 6) WHERE park_id = :p), 6,
  'over six months (from 2026-01-01, I-1 and I-4 alone until May: average 100), I-1 is below every one');
SELECT is((SELECT count(*)::int FROM leasemgr.asset_improvement_flags_as_of('2026-06-15', 7) WHERE park_id = :p), 0,
  'over seven, I-1 was not let on 2025-12-01: not flagged');
SELECT is((SELECT count(*)::int FROM leasemgr.asset_improvement_flags_as_of('2026-06-15') WHERE park_id = :p), 0,
  'over 24 months, I-1 was not let before 2026-01: not flagged');
SELECT is((SELECT count(*)::int FROM leasemgr.asset_improvement_flags WHERE park_id = :p), 0, 'the view is today''s (24 months)');

SELECT * FROM finish();
ROLLBACK;
