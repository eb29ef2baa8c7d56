-- Shared-cost allocation (the fee mapping matrix): each method with its remainder cents, the
-- unmetered remainder of a parent meter, vacancy to the landlord, the freeze of an open
-- anomaly, the tenant's statement without other tenants, and the shares billed once.
-- Every figure is worked out by hand beside its assertion.
BEGIN;
SELECT plan(44);
SET LOCAL TimeZone = 'Asia/Shanghai';
SET LOCAL leasemgr.timezone = 'Asia/Shanghai';

SELECT th.park('AL') AS park \gset
SELECT id AS bldg FROM leasemgr.building WHERE park_id = :park \gset
SELECT th.unit(:park, 'A1', 100) AS a1 \gset
SELECT th.unit(:park, 'A2', 50) AS a2 \gset
-- A3 stays vacant all March.
SELECT th.unit(:park, 'A3', 50) AS a3 \gset
SELECT th.draft(:park, 'AL-C1', ARRAY[:a1], '2026-01-01', '2026-12-31') AS c1 \gset
SELECT th.draft(:park, 'AL-C2', ARRAY[:a2], '2026-01-01', '2026-12-31') AS c2 \gset
SELECT th.walk(:c1, 'active'), th.walk(:c2, 'active');

-- The central AC: a main meter and a sub-meter per unit.
INSERT INTO leasemgr.meter (park_id, code, kind, digits, installed_at)
VALUES (:park, 'AC-MAIN', 'ac', 8, '2026-01-01 00:00+08') RETURNING id AS main \gset
INSERT INTO leasemgr.meter (park_id, code, unit_id, parent_id, kind, digits, installed_at)
VALUES (:park, 'AC-1', :a1, :main, 'ac', 8, '2026-01-01 00:00+08'),
       (:park, 'AC-2', :a2, :main, 'ac', 8, '2026-01-01 00:00+08'),
       (:park, 'AC-3', :a3, :main, 'ac', 8, '2026-01-01 00:00+08');
-- March: main 1,000 kWh; AC-1 500, AC-2 300, AC-3 100: measured 900, unmetered 100.
SELECT leasemgr.record_reading(m.id, '2026-03-01 00:00+08', 0, 'iot'),
       leasemgr.record_reading(m.id, '2026-04-01 00:00+08', v, 'iot')
  FROM (VALUES ('AC-MAIN', 1000), ('AC-1', 500), ('AC-2', 300), ('AC-3', 100)) x(code, v)
  JOIN leasemgr.meter m ON m.code = x.code AND m.park_id = :park;

INSERT INTO leasemgr.allocation_rule (park_id, name, pool_meter_id, rate, fee_kind, method, scope,
                                      scope_building_id, scope_floor, remainder_method, valid_from)
VALUES (:park, 'Central AC', :main, 0.7000, 'ac', 'by_submeter', 'floor', :bldg, 1, 'by_area', '2026-01-01')
RETURNING id AS r_ac \gset
INSERT INTO leasemgr.allocation_rule (park_id, name, pool_amount, fee_kind, method, valid_from)
VALUES (:park, 'Common areas', 100.01, 'property_fee', 'by_area', '2026-01-01') RETURNING id AS r_area \gset
INSERT INTO leasemgr.allocation_rule (park_id, name, pool_amount, fee_kind, method, valid_from)
VALUES (:park, 'Lift', 90.00, 'service', 'fixed_share', '2026-01-01') RETURNING id AS r_fixed \gset
INSERT INTO leasemgr.allocation_fixed_share (park_id, rule_id, contract_id, percent)
VALUES (:park, :r_fixed, :c1, 60), (:park, :r_fixed, :c2, 30);
INSERT INTO leasemgr.allocation_rule (park_id, name, pool_amount, fee_kind, method, valid_from)
VALUES (:park, 'Canteen', 10.00, 'service', 'by_headcount', '2026-01-01') RETURNING id AS r_heads \gset
INSERT INTO leasemgr.allocation_rule (park_id, name, pool_amount, fee_kind, method, valid_from)
VALUES (:park, 'Fresh air', 20.00, 'utility', 'by_equipment_power', '2026-01-01') RETURNING id AS r_kw \gset
INSERT INTO leasemgr.unit_allocation_basis (unit_id, park_id, power_kw, headcount)
VALUES (:a1, :park, 7.5, 3), (:a2, :park, 2.5, 0), (:a3, :park, NULL, 2);

-- ---- bad rules and bad shares -------------------------------------------------------------------
SELECT th.refuses(format($$INSERT INTO leasemgr.allocation_rule (park_id, name, pool_meter_id, rate, pool_amount,
    fee_kind, method, valid_from) VALUES (%s, 'Two pools', %s, 1, 5, 'ac', 'by_area', '2026-01-01')$$, :park, :main),
  'LM018', 'invalid allocation rule "Two pools"',
  'A rule has one pool: a shared meter (pool_meter_id with a rate) or a fixed amount (pool_amount), not both and not neither.',
  'See docs/metering.md, "Shared-cost allocation": one pool, a method, a scope.', 'a rule with two pools');
SELECT throws_ok(format($$INSERT INTO leasemgr.allocation_rule (park_id, name, pool_meter_id, rate, fee_kind, method,
    valid_from) SELECT %s, 'Leaf', id, 1, 'ac', 'by_submeter', '2026-01-01' FROM leasemgr.meter WHERE code = 'AC-1'$$, :park),
  'LM018', 'invalid allocation rule "Leaf"', 'a by_submeter rule on a meter without sub-meters');
SELECT throws_ok(format($$SELECT * FROM leasemgr.allocate(%s, '2026-03-01')$$, :park),
  'LM018', 'the fixed shares of allocation rule "Lift" do not add up to 100%', 'fixed shares adding up to 90% are refused');
SELECT is((SELECT count(*)::int FROM leasemgr.allocation_share), 0, '... and nothing is written');
UPDATE leasemgr.allocation_fixed_share SET percent = 40 WHERE contract_id = :c2;
SELECT throws_ok(format($$SELECT * FROM leasemgr.allocate(%s, '2026-12-01')$$, :park),
  'LM011', 'cannot allocate 2026-12 yet', 'a month not over yet cannot be allocated');

-- ---- an open anomaly on a tenant's sub-meter: its fallback estimate, trued up later -----------
INSERT INTO leasemgr.anomaly (park_id, meter_id, register, kind, during, observed, baseline, ratio)
SELECT :park, id, 'total', 'spike', tstzrange('2026-03-10 00:00+08', '2026-03-11 00:00+08'), 60, 15, 4.00
  FROM leasemgr.meter WHERE code = 'AC-1' RETURNING id AS spike \gset
CREATE TEMP TABLE est AS SELECT * FROM leasemgr.allocate(:park, '2026-03-01');
SELECT is((SELECT array_agg(DISTINCT state) FROM est WHERE rule_id = :r_ac), '{estimated}',
          'an open spike on a tenant''s sub-meter: the AC split counts it at its estimate');
-- C1's AC estimate: the floor's other leased AC unit, A2, used 300 kWh on 50 m2 (A3 is vacant);
-- C1 has no earlier month with real figures: ratio 1. 300 / 50 x 100 m2 x 1.0000 = 600.000 kWh.
-- Measured 600 + 300 + 100 = 1,000 of 1,000: 700.00 by 600:300:100 = 420.00, 210.00, 70.00;
-- nothing unmeasured, so the remainder is 0.00 for everyone.
SELECT results_eq(format($$SELECT contract_id, amount FROM est WHERE rule_id = %s AND part = 'pool' ORDER BY contract_id NULLS LAST$$, :r_ac),
  format($$VALUES (%s::bigint, 420.00::numeric), (%s, 210.00), (NULL, 70.00)$$, :c1, :c2),
  'estimated split: 700.00 x 600/1,000 = 420.00, x 300/1,000 = 210.00, the vacant unit''s 70.00');
SELECT is((SELECT sum(amount) FROM est WHERE rule_id = :r_ac AND part = 'remainder'), 0.00, '... and nothing unmeasured to split');
SELECT matches((SELECT explain FROM est WHERE rule_id = :r_ac AND part = 'pool' AND contract_id = :c1),
  format('; estimated \(anomaly %s \(spike on AC-1, open\)\): fallback estimate: floor average of 1 leased unit on B floor 1 300\.000 / 50\.00 m2 x 100\.00 m2 x tenant ratio 1\.0000 \(no whole month of its lease with real figures in the year before\) = 600\.000: 600 kWh of 1000 kWh among 3 parties', :spike),
  'the share says which sub-meter was estimated, why and how');
SELECT lives_ok(format($$SELECT * FROM leasemgr.bill_run('2026-04-01', %s)$$, :park), 'the April run bills March''s shares, the estimated ones too');
SELECT leasemgr.decide_anomaly(:spike, 'dismissed', 'real: a server room test');

CREATE TEMP TABLE res AS SELECT * FROM leasemgr.allocate(:park, '2026-03-01');

-- ---- the true-up: by_submeter with the remainder split by area, real this time ------------------
-- Pool 1,000 kWh x 0.7000 = 700.00. Measured 900 of 1,000: largest remainder of 700.00 by 900:100
-- = 630.00 and 70.00. 630.00 by sub-meter 500:300:100 = 350.00, 210.00 and the vacant A3's 70.00.
-- The unmetered 70.00 by area x days on floor 1: C1 100 x 31 = 3,100, C2 50 x 31 = 1,550, vacant
-- A3 50 x 31 = 1,550: 35.00, 17.50, 17.50. Real: C1 385.00, C2 227.50, landlord 87.50.
-- True-ups: C1 385.00 - 420.00 = -35.00, C2 227.50 - 210.00 = 17.50, landlord 87.50 - 70.00 = 17.50.
SELECT results_eq(format($$SELECT contract_id, amount FROM res WHERE rule_id = %s AND state = 'trued_up' ORDER BY contract_id NULLS LAST$$, :r_ac),
  format($$VALUES (%s::bigint, -35.00::numeric), (%s, 17.50), (NULL, 17.50)$$, :c1, :c2),
  'dismissed: each party''s real share minus its billed estimate: -35.00, 17.50, 17.50');
SELECT is((SELECT sum(amount) FROM res WHERE rule_id = :r_ac), 700.00, 'the AC shares with their true-ups still add up to the pool: 700.00');
SELECT matches((SELECT explain FROM res WHERE rule_id = :r_ac AND state = 'trued_up' AND contract_id = :c1),
  '630\.00 x 500 / 900 = 350\.00 .* \| .*70\.00 x 3100 / 6200 = 35\.00 .*; real 385\.00 - billed 420\.00 = -35\.00$',
  'the true-up shows the real split and the difference');
SELECT is((SELECT count(*)::int FROM leasemgr.allocate(:park, '2026-03-01') WHERE state = 'trued_up'), 0, 'a billed estimate is trued up once');

-- ---- by_area with a remainder cent ----------------------------------------------------------------
-- 100.01 by 3,100 : 1,550 : 1,550 = 50.005, 25.0025, 25.0025: floors 50.00 + 25.00 + 25.00 = 100.00;
-- the cent left goes to the largest remainder (0.5 cent, C1): 50.01, 25.00, 25.00.
SELECT results_eq(format($$SELECT contract_id, amount FROM res WHERE rule_id = %s ORDER BY contract_id NULLS LAST$$, :r_area),
  format($$VALUES (%s::bigint, 50.01::numeric), (%s, 25.00), (NULL, 25.00)$$, :c1, :c2),
  'by area: 100.01 split 50.01 / 25.00 / 25.00 (landlord), the cent to the largest remainder');
-- ---- fixed_share, by_headcount, by_equipment_power ------------------------------------------------
SELECT results_eq(format($$SELECT contract_id, amount FROM res WHERE rule_id = %s ORDER BY contract_id NULLS LAST$$, :r_fixed),
  format($$VALUES (%s::bigint, 54.00::numeric), (%s, 36.00)$$, :c1, :c2), 'fixed shares: 90.00 x 60% = 54.00, x 40% = 36.00');
-- Heads x days: C1 3 x 31 = 93, C2 0, vacant A3 2 x 31 = 62: 10.00 x 93/155 = 6.00, landlord 4.00.
SELECT results_eq(format($$SELECT contract_id, amount FROM res WHERE rule_id = %s ORDER BY contract_id NULLS LAST$$, :r_heads),
  format($$VALUES (%s::bigint, 6.00::numeric), (%s, 0.00), (NULL, 4.00)$$, :c1, :c2),
  'by headcount: 6.00, 0.00, and the vacant unit''s declared heads to the landlord: 4.00');
-- kW x days: 7.5 x 31 and 2.5 x 31: 20.00 x 3/4 = 15.00, x 1/4 = 5.00; A3 declares no power.
SELECT results_eq(format($$SELECT contract_id, amount FROM res WHERE rule_id = %s ORDER BY contract_id NULLS LAST$$, :r_kw),
  format($$VALUES (%s::bigint, 15.00::numeric), (%s, 5.00)$$, :c1, :c2), 'by equipment power: 15.00 and 5.00');

-- ---- the tenant's statement -----------------------------------------------------------------------
SELECT is((SELECT count(*)::int FROM leasemgr.allocation_statement(:c1, '2026-03-15')), 7,
          'C1''s statement: seven shares (AC pool, remainder and true-up, common areas, lift, canteen, fresh air)');
SELECT is((SELECT your_basis || '/' || basis_total || ' ' || basis_unit || ' ' || parties FROM leasemgr.allocation_statement(:c1, '2026-03-01')
            WHERE rule_name = 'Common areas'), '3100.0000/6200.0000 m2 x days 3',
          '... with its basis, everyone''s total and the number of parties');
SELECT ok(NOT EXISTS (SELECT FROM leasemgr.allocation_statement(:c1, '2026-03-01') s
                       WHERE s.explain ~ 'AL-C2|A2 |Tenant'),
          '... and no other tenant''s contract, unit or name');

-- ---- billed once, then final -------------------------------------------------------------------------
-- C1: 420.00 + 0.00 + 50.01 + 54.00 + 6.00 + 15.00 billed at the estimate, then the true-up -35.00:
-- 510.01, its real shares 350.00 + 35.00 + 50.01 + 54.00 + 6.00 + 15.00.
SELECT lives_ok(format($$SELECT * FROM leasemgr.bill_run('2026-04-01', %s)$$, :park), 'the next run bills the true-ups');
SELECT is((SELECT sum(amount) FROM leasemgr.bill_line WHERE contract_id = :c1 AND line_type = 'allocation'), 510.01,
          'C1''s allocation lines add up to its real shares: 510.01');
SELECT is((SELECT kind FROM leasemgr.bill_line l JOIN leasemgr.allocation_share s ON s.id = l.allocation_share_id
            WHERE s.rule_id = :r_ac AND s.contract_id = :c1 AND s.part = 'pool'), 'ac', '... as lines of the rule''s fee kind');
SELECT is((SELECT count(*)::int FROM leasemgr.bill_line WHERE line_type = 'allocation' AND contract_id IS NULL), 0,
          'the landlord''s shares are never billed');
SELECT lives_ok(format($$SELECT * FROM leasemgr.bill_run('2026-04-01', %s)$$, :park), 'a third run ...');
SELECT is((SELECT count(*)::int FROM leasemgr.bill_line WHERE line_type = 'allocation'), 14,
          '... bills no share twice (6 + 6 shares, 2 true-ups)');
SELECT is((SELECT count(*)::int FROM leasemgr.allocate(:park, '2026-03-01') WHERE state = 'billed'), 19,
          'allocating a billed month again changes nothing: every share shows as billed');
SELECT throws_ok(format($$DELETE FROM leasemgr.allocation_share WHERE contract_id = %s$$, :c1), 'LM010', NULL,
                 'a billed share cannot be deleted');

-- ---- held: the pool itself in doubt ------------------------------------------------------------------
SELECT matches((SELECT explain FROM leasemgr.allocate(:park, '2026-04-01') WHERE rule_id = :r_ac),
  '^Central AC 2026-04 held: readings missing on the pool meter: AC-MAIN: no reading at or after 2026-05-01 00:00',
  'April''s AC split waits for the pool meter''s reading: nothing is estimated for the pool');
INSERT INTO leasemgr.anomaly (park_id, meter_id, register, kind, during, observed, baseline, ratio)
VALUES (:park, :main, 'total', 'negative', tstzrange('2026-04-02 00:00+08', '2026-04-03 00:00+08'), -5, NULL, NULL)
RETURNING id AS neg \gset
SELECT is((SELECT state || ': ' || explain FROM leasemgr.allocate(:park, '2026-04-01') WHERE rule_id = :r_ac),
  format('held: Central AC 2026-04 held: anomaly %s (negative on AC-MAIN) open on the pool meter: split once engineering decides (leasemgr.decide_anomaly)', :neg),
  'an open anomaly on the pool meter holds the split');

-- ---- a tenant moving in mid-month: the sub-meter split at the lease's first midnight ------------
-- May: C3 leases A3 from 05-16. AC-3 read 100 on 05-01, 160 on 05-16, 250 on 06-01: C3's 16 days
-- 90 kWh, the 15 vacant days 60 (the landlord's). AC-1 400, AC-2 300; main 1,000: measured 850,
-- unmeasured 150. 700.00 by 850:150 = 595.00 and 105.00; 595.00 by 400:300:90:60 =
-- 280.00, 210.00, 63.00 and 42.00.
SELECT th.draft(:park, 'AL-C3', ARRAY[:a3], '2026-05-16', '2026-12-31') AS c3 \gset
SELECT th.walk(:c3, 'active');
SELECT count(leasemgr.record_reading(m.id, x.at::timestamptz, x.v, 'iot'))
  FROM (VALUES ('AC-MAIN', '2026-05-01 00:00+08', 1000), ('AC-MAIN', '2026-06-01 00:00+08', 2000),
               ('AC-1', '2026-05-01 00:00+08', 500), ('AC-1', '2026-06-01 00:00+08', 900),
               ('AC-2', '2026-05-01 00:00+08', 300), ('AC-2', '2026-06-01 00:00+08', 600),
               ('AC-3', '2026-05-01 00:00+08', 100), ('AC-3', '2026-05-16 00:00+08', 160), ('AC-3', '2026-06-01 00:00+08', 250)) x(code, at, v)
  JOIN leasemgr.meter m ON m.code = x.code AND m.park_id = :park;
CREATE TEMP TABLE may AS SELECT * FROM leasemgr.allocate(:park, '2026-05-01') WHERE rule_id = :r_ac AND part = 'pool';
SELECT results_eq($$SELECT contract_id, amount FROM may ORDER BY contract_id NULLS LAST$$,
  format($$VALUES (%s::bigint, 280.00::numeric), (%s, 210.00), (%s, 63.00), (NULL, 42.00)$$, :c1, :c2, :c3),
  'a move-in on 05-16: C3 carries its 16 days (90 kWh: 63.00), the landlord the 15 vacant days (60 kWh: 42.00)');
SELECT matches((SELECT explain FROM may WHERE contract_id = :c3), 'sub-meter AC-3 90 \(16 days\): 90 kWh of 850 kWh among 4 parties',
               '... and says so');

-- ---- a pool meter that went back: held ----------------------------------------------------------------
SELECT leasemgr.record_reading(:main, '2026-06-15 00:00+08', 1900, 'iot'), leasemgr.record_reading(:main, '2026-07-01 00:00+08', 2500, 'iot');
SELECT matches((SELECT explain FROM leasemgr.allocate(:park, '2026-06-01') WHERE rule_id = :r_ac),
  'held: the pool meter went back without a rollover', 'a pool meter that went back holds the split: tenants are not credited a wrong reading');

-- ---- the rules of the shares hold for every writer ------------------------------------------------------
SELECT throws_ok(format($$INSERT INTO leasemgr.allocation_share (park_id, rule_id, month, contract_id, part, basis, basis_total,
    basis_unit, parties, pool_amount, amount, explain) VALUES (%s, %s, '2026-03-01', %s, 'pool', 1, 1, 'x', 1, 1, 1, 'by hand')$$,
    :park, :r_area, :c2), 'LM010', format('the shares of allocation rule %s for 2026-03 cannot be changed that way', :r_area),
  'no share is added by hand to a billed month');
SELECT throws_ok(format($$INSERT INTO leasemgr.allocation_share (park_id, rule_id, month, contract_id, part, basis, basis_total,
    basis_unit, parties, pool_amount, amount, explain) VALUES (%s, %s, '2026-05-01', %s, 'true_up', 1, 1, 'x', 1, 1, 1, 'by hand')$$,
    :park, :r_area, :c2), 'LM010', NULL, 'no true-up of a month that was not billed');
SELECT throws_ok(format($$DELETE FROM leasemgr.allocation_share WHERE rule_id = %s AND month = '2026-03-01' AND contract_id IS NULL$$, :r_area),
  'LM010', NULL, 'an unbilled share of a billed month (the landlord''s) is not deleted either');
SELECT throws_ok(format($$UPDATE leasemgr.allocation_rule SET pool_amount = 200 WHERE id = %s$$, :r_area),
  'LM018', 'invalid allocation rule "Common areas"', 'a rule billed on its terms keeps them');
SELECT th.refuses(format($$UPDATE leasemgr.allocation_rule SET valid_to = '2026-03-15' WHERE id = %s$$, :r_area),
  'LM018', 'invalid allocation rule "Common areas"',
  'Its shares have been billed on these terms; a change would rewrite billed months. It is billed up to 2026-03: it can end on 2026-03-31 at the earliest.',
  'End the rule with valid_to and add a new rule from the next month.', 'a billed rule cannot end before its last billed month');
UPDATE leasemgr.allocation_rule SET valid_to = '2026-12-31' WHERE id = :r_area;
SELECT is((SELECT valid_to FROM leasemgr.allocation_rule WHERE id = :r_area), '2026-12-31'::date, '... it can be ended');

-- ---- a rule's spike ratio overrides the park's for its pool's meters -------------------------------
-- AC-4, a sub-meter of the pool used in January and February only: 10 kWh a day, 31 on 02-05.
-- 31 / 10 = 3.1: a spike at the park's 3.00, none at the rule's 4.00.
INSERT INTO leasemgr.meter (park_id, code, parent_id, kind, digits, installed_at)
VALUES (:park, 'AC-4', :main, 'ac', 8, '2026-01-01 00:00+08') RETURNING id AS ac4 \gset
SELECT count(leasemgr.record_reading(:ac4, '2026-01-01 00:00+08'::timestamptz + i * interval '1 day',
                                     10 * i + CASE WHEN i >= 36 THEN 21 ELSE 0 END, 'iot'))
  FROM generate_series(0, 36) i;
UPDATE leasemgr.allocation_rule SET spike_ratio = 4.00 WHERE id = :r_ac;
SELECT is((SELECT opened FROM leasemgr.detect_anomalies(:park, '2026-02-01 00:00+08', '2026-02-07 00:00+08') WHERE kind = 'spike'),
          0, 'with the rule''s spike ratio 4.00, 3.1 times the baseline is no spike');
UPDATE leasemgr.allocation_rule SET spike_ratio = NULL WHERE id = :r_ac;
SELECT is((SELECT opened FROM leasemgr.detect_anomalies(:park, '2026-02-01 00:00+08', '2026-02-07 00:00+08') WHERE kind = 'spike'),
          1, 'with the park''s 3.00 it is');
-- A rule of the same pool from 2027 with a ratio of 4.00 is not in force in February 2026.
INSERT INTO leasemgr.allocation_rule (park_id, name, pool_meter_id, rate, fee_kind, method, spike_ratio, valid_from)
VALUES (:park, 'Central AC 2027', :main, 0.8000, 'ac', 'by_submeter', 4.00, '2027-01-01');
SELECT is((SELECT detected FROM leasemgr.detect_anomalies(:park, '2026-02-01 00:00+08', '2026-02-07 00:00+08') WHERE kind = 'spike'),
          1, 'a rule''s spike ratio applies only to the days it is in force');

-- ---- a tenant billed for its own AC meter is not split its sub-meter too --------------------------------
-- A4 with AC-5 under the central AC; its lease C6 bills its AC meters by a metered charge.
SELECT th.unit(:park, 'A4', 40) AS a4 \gset
INSERT INTO leasemgr.meter (park_id, code, unit_id, parent_id, kind, digits, installed_at)
VALUES (:park, 'AC-5', :a4, :main, 'ac', 8, '2026-01-01 00:00+08') RETURNING id AS ac5 \gset
SELECT leasemgr.record_reading(:ac5, '2026-05-01 00:00+08', 0, 'iot'), leasemgr.record_reading(:ac5, '2026-06-01 00:00+08', 50, 'iot');
SELECT th.draft(:park, 'AL-C6', ARRAY[:a4], '2026-05-01', '2026-12-31') AS c6 \gset
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, meter_kind, billed)
VALUES (:c6, 'ac', 'metered', 0.9000, 'ac', 'arrears') RETURNING id AS ch6 \gset
SELECT th.walk(:c6, 'active');
SELECT is((SELECT explain FROM leasemgr.allocate(:park, '2026-05-01') WHERE rule_id = :r_ac),
  format('Central AC 2026-05 held: contract AL-C6 is billed for its ac meters by its own metered charge %s, and this rule splits its sub-meter AC-5 50: it would pay twice; end the charge or take the sub-meter out of the pool', :ch6),
  'a sub-meter already billed to its tenant by a metered charge holds the split instead of billing it twice');

SELECT * FROM finish();
ROLLBACK;
