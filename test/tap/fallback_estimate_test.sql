-- The fallback estimate and its true-up: a month whose readings are missing (under a park
-- policy that says estimate) or doubtful (an open anomaly) is billed at the floor's average use
-- per m2 x the tenant's area x the tenant's own ratio to that average, marked estimated; the
-- first bill run that can compute the real figure adds the difference as an adjustment, once.
-- Every figure is worked out by hand beside its assertion.
BEGIN;
SELECT plan(30);
SET LOCAL TimeZone = 'Asia/Shanghai';
SET LOCAL leasemgr.timezone = 'Asia/Shanghai';

SELECT th.park('FE') AS park \gset
-- One floor: U1 100 m2, U2 100 m2, U3 200 m2 (th.unit puts them on floor 1 of building B).
SELECT th.unit(:park, 'FE-1', 100) AS u1 \gset
SELECT th.unit(:park, 'FE-2', 100) AS u2 \gset
SELECT th.unit(:park, 'FE-3', 200) AS u3 \gset
INSERT INTO leasemgr.metering_policy (park_id, estimate_missing) VALUES (:park, true);

CREATE TEMP TABLE fe (n int, contract bigint, charge bigint, meter bigint);
DO $$
DECLARE
  v_park bigint := (SELECT id FROM leasemgr.park WHERE code = 'FE');
  v_unit bigint;
  c bigint;
  ch bigint;
  m bigint;
  n int;
BEGIN
  FOR n IN 1 .. 3 LOOP
    v_unit := (SELECT id FROM leasemgr.unit WHERE code = 'FE-' || n);
    c := th.draft(v_park, 'FE-C' || n, ARRAY[v_unit], '2026-01-01', '2026-12-31', NULL, false);
    INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, meter_kind, billed)
    VALUES (c, 'utility', 'metered', 1.0000, 'electricity', 'arrears') RETURNING id INTO ch;
    PERFORM th.walk(c, 'active');
    INSERT INTO leasemgr.meter (park_id, code, unit_id, kind, digits, installed_at)
    VALUES (v_park, 'FE-E' || n, v_unit, 'electricity', 8, '2025-12-31 00:00+08') RETURNING id INTO m;
    INSERT INTO fe VALUES (n, c, ch, m);
  END LOOP;
END
$$;
SELECT contract AS c1, charge AS ch1, meter AS m1 FROM fe WHERE n = 1 \gset
SELECT contract AS c2, charge AS ch2, meter AS m2 FROM fe WHERE n = 2 \gset
SELECT contract AS c3, charge AS ch3, meter AS m3 FROM fe WHERE n = 3 \gset

-- Readings at local midnight on the first of each month (cumulative kWh):
--   U1: 0, 1,100 (Jan), 2,300 (Feb 1,200), 04-01 missing for now, 05-01 later
--   U2: 0, 1,000, 2,000, 3,000, 4,000 (1,000 a month)
--   U3: 0, 2,000, 4,000, 6,000, 8,000 (2,000 a month)
SELECT leasemgr.record_reading(:m1, d::timestamptz, v, 'iot')
  FROM (VALUES ('2026-01-01 00:00+08', 0), ('2026-02-01 00:00+08', 1100), ('2026-03-01 00:00+08', 2300)) r(d, v);
SELECT leasemgr.record_reading(:m2, d::timestamptz, v, 'iot')
  FROM (VALUES ('2026-01-01 00:00+08', 0), ('2026-02-01 00:00+08', 1000), ('2026-03-01 00:00+08', 2000),
               ('2026-04-01 00:00+08', 3000), ('2026-05-01 00:00+08', 4000)) r(d, v);
SELECT leasemgr.record_reading(:m3, d::timestamptz, v, 'iot')
  FROM (VALUES ('2026-01-01 00:00+08', 0), ('2026-02-01 00:00+08', 2000), ('2026-03-01 00:00+08', 4000),
               ('2026-04-01 00:00+08', 6000), ('2026-05-01 00:00+08', 8000)) r(d, v);

-- ---- readings missing, the park estimates --------------------------------------------------
-- March for C1: floor average from U2 and U3 = (1,000 + 2,000) / (100 + 200) m2 = 10 kWh/m2;
-- C1's ratio to it: Jan 1,100 / (10 x 100) = 1.1000, Feb 1,200 / (3,000 / 300 x 100) = 1.2000;
-- median of the two = 1.1500. Estimate 10 x 100 x 1.15 = 1,150.000 kWh x 1.0000 = 1,150.00.
SELECT is((SELECT amount FROM leasemgr.compute_charges(:c1, '2026-03-01', '2026-03-31') WHERE charge_id = :ch1), 1150.00,
          'missing readings under estimate_missing: 3,000 kWh / 300 m2 x 100 m2 x ratio 1.1500 = 1,150.00');
SELECT matches((SELECT explain FROM leasemgr.compute_charges(:c1, '2026-03-01', '2026-03-31') WHERE charge_id = :ch1),
  '^electricity 2026-03-01\.\.2026-03-31: estimated: readings missing: .*; fallback estimate: floor average of 2 leased units on B floor 1 3,000\.000 / 300\.00 m2 x 100\.00 m2 x tenant ratio 1\.1500 \(median of 2026-02 1\.2000, 2026-01 1\.1000\) = 1,150\.000; 1,150\.000 kWh x 1\.0000 CNY/kWh = 1,150\.00$',
  'the explain text says estimated, why, and every figure of the estimate');

SELECT is(bills_created, 3, 'the April run bills the three contracts') FROM leasemgr.bill_run('2026-04-01', :park);
SELECT is((SELECT amount FROM leasemgr.bill_line WHERE charge_id = :ch1 AND period_start = '2026-03-01'), 1150.00,
          'C1''s March line is billed at the estimate');
SELECT ok((SELECT estimated FROM leasemgr.bill_line WHERE charge_id = :ch1 AND period_start = '2026-03-01'),
          '... marked estimated');
SELECT ok(NOT (SELECT estimated FROM leasemgr.bill_line WHERE charge_id = :ch2 AND period_start = '2026-03-01'),
          'C2''s March, read, is not');
SELECT is((SELECT count(*)::int FROM leasemgr.work_order WHERE meter_id = :m1 AND kind = 'reading_missing' AND state = 'open'), 1,
          'the missing reading is asked for with a work order, although the month is billed');
SELECT is((SELECT bills_created FROM leasemgr.bill_run('2026-04-01', :park)), 0,
          'while the reading is still missing, another run trues up nothing');

-- The reading arrives: March was 3,300 - 2,300 = 1,000 kWh. True-up 1,000.00 - 1,150.00 = -150.00.
SELECT leasemgr.record_reading(:m1, '2026-04-01 00:00+08', 3300, 'photo', 'total', repeat('ab', 32));
SELECT is(amount, -150.00, 'the next run trues up: real 1,000.00 - estimated 1,150.00 = -150.00')
  FROM leasemgr.bill_run('2026-04-01', :park);
SELECT is((SELECT line_type || ' ' || amount FROM leasemgr.bill_line
            WHERE trues_up = (SELECT id FROM leasemgr.bill_line WHERE charge_id = :ch1 AND period_start = '2026-03-01' AND line_type = 'charge')),
          'adjustment -150.00', 'an adjustment line pointing at the estimated line');
SELECT matches((SELECT explain FROM leasemgr.bill_line WHERE trues_up IS NOT NULL AND contract_id = :c1),
  '^true-up of estimated line [0-9]+ \(electricity 2026-03-01\.\.2026-03-31 billed 1,150\.00\): real figure FE-E1 2,300\.000 \(read 2026-03-01 00:00\) -> 3,300\.000 \(read 2026-04-01 00:00\) = 1,000\.000; 1,000\.000 kWh x 1\.0000 CNY/kWh = 1,000\.00; 1,000\.00 - 1,150\.00 = -150\.00$',
  'the true-up explains the real figure and the difference');
SELECT is((SELECT bills_created FROM leasemgr.bill_run('2026-04-01', :park)), 0, 'an estimate is trued up once');
SELECT is((SELECT sum(amount) FROM leasemgr.bill_line WHERE charge_id = :ch1 AND period_start = '2026-03-01'), 1000.00,
          'March for C1 now adds up to the real 1,000.00');

-- ---- an open anomaly: billed at the estimate, the real figure once it is dismissed ---------
SELECT leasemgr.record_reading(:m1, '2026-05-01 00:00+08', 4400, 'iot');
INSERT INTO leasemgr.anomaly (park_id, meter_id, register, kind, during, observed, baseline, ratio)
VALUES (:park, :m2, 'total', 'spike', tstzrange('2026-04-10 00:00+08', '2026-04-11 00:00+08'), 400, 33, 12.12)
RETURNING id AS spike \gset
-- April for C2: peers U1 1,100 and U3 2,000: 3,100 kWh / 300 m2. C2's ratios:
--   Mar 1,000 / ((1,000 + 2,000) / 300 x 100) = 1.0000
--   Feb 1,000 / ((1,200 + 2,000) / 300 x 100) = 1,000 / 1,066.667 = 0.9375
--   Jan 1,000 / ((1,100 + 2,000) / 300 x 100) = 1,000 / 1,033.333 = 0.96774 -> 0.9677
-- median 0.9677; estimate 3,100 / 300 x 100 x 0.9677 = 999.95667 -> 999.957 kWh -> 999.96 CNY
SELECT is((SELECT amount FROM leasemgr.compute_charges(:c2, '2026-04-01', '2026-04-30') WHERE charge_id = :ch2), 999.96,
          'an open spike: 3,100 / 300 m2 x 100 m2 x ratio 0.9677 = 999.957 kWh = 999.96');
SELECT matches((SELECT explain FROM leasemgr.compute_charges(:c2, '2026-04-01', '2026-04-30') WHERE charge_id = :ch2),
  format('estimated: FE-E2 .* = 1,000\.000; anomaly %s \(spike on FE-E2 from 2026-04-10 00:00, open\): the readings wait for engineering \(leasemgr\.decide_anomaly\): a true-up follows if the anomaly is dismissed; fallback estimate: .* tenant ratio 0\.9677 \(median of 2026-03 1\.0000, 2026-02 0\.9375, 2026-01 0\.9677\) = 999\.957; ', :spike),
  '... explained with the anomaly and the ratios');
SELECT is(bills_created, 3, 'the May run bills April for the three contracts') FROM leasemgr.bill_run('2026-05-01', :park);
SELECT is((SELECT amount || ' ' || estimated FROM leasemgr.bill_line WHERE charge_id = :ch2 AND period_start = '2026-04-01' AND line_type = 'charge'),
          '999.96 true', 'C2''s April is billed at the estimate, marked estimated');
SELECT is((SELECT bills_created FROM leasemgr.bill_run('2026-05-01', :park)), 0, 'while the spike is open, no true-up');
SELECT leasemgr.decide_anomaly(:spike, 'dismissed', 'a heat wave: the use was real');
-- Dismissed: the real 1,000.000 kWh = 1,000.00; true-up 1,000.00 - 999.96 = 0.04.
SELECT is(amount, 0.04, 'dismissing the spike releases the real figure: 1,000.00 - 999.96 = 0.04')
  FROM leasemgr.bill_run('2026-05-01', :park);

-- ---- a confirmed anomaly: the estimate is final --------------------------------------------
INSERT INTO leasemgr.anomaly (park_id, meter_id, register, kind, during, observed, baseline, ratio)
VALUES (:park, :m3, 'total', 'bounds', tstzrange('2026-03-05 00:00+08', '2026-03-06 00:00+08'), 900, 500, 1.80)
RETURNING id AS bounds \gset
SELECT leasemgr.decide_anomaly(:bounds, 'confirmed', 'the sensor doubled its pulses');
SELECT matches((SELECT explain FROM leasemgr.compute_charges(:c3, '2026-03-01', '2026-03-31') WHERE charge_id = :ch3),
  'confirmed\): the readings were confirmed wrong: the estimate is final; fallback estimate', 'a confirmed anomaly bills the estimate, final');

-- ---- nothing to estimate from: held ---------------------------------------------------------
-- U2 alone on its floor would have no peers; with U1 and U3 both doubtful in some month there is none either.
UPDATE leasemgr.metering_policy SET estimate_missing = false WHERE park_id = :park;
SELECT is((SELECT amount FROM leasemgr.compute_charges(:c1, '2026-05-01', '2026-05-31') WHERE charge_id = :ch1), NULL,
          'without estimate_missing, a month without readings is held');

-- ---- true-ups and estimated lines are the bill run's alone ----------------------------------
SELECT th.refuses(format($$INSERT INTO leasemgr.bill_line (park_id, bill_id, contract_id, charge_id, kind, period_start,
    period_end, amount, explain, line_type, trues_up)
  SELECT park_id, bill_id, contract_id, charge_id, kind, period_start, period_end, 1, 'x', 'adjustment', id
    FROM leasemgr.bill_line WHERE charge_id = %s AND period_start = '2026-04-01'$$, :ch2),
  'LM010', 'true-up lines are written by the bill run only', 'A true-up settles an estimated line once, when the real figure is known.',
  'Let leasemgr.bill_run true up the estimate; add a plain adjustment line (trues_up NULL) for any other correction.',
  'a true-up written by hand is refused');
SELECT throws_ok(format($$INSERT INTO leasemgr.bill_line (park_id, bill_id, contract_id, kind, period_start,
    period_end, amount, explain, line_type, estimated)
  SELECT park_id, bill_id, contract_id, kind, period_start, period_end, 1, 'x', 'adjustment', true
    FROM leasemgr.bill_line WHERE charge_id = %s AND period_start = '2026-04-01'$$, :ch2),
  '23514', NULL, 'only a charge line can be estimated');
SELECT is((SELECT count(*)::int FROM leasemgr.bill_line WHERE trues_up IS NOT NULL), 2, 'two estimates, two true-ups, nothing else');

-- ---- the ratio comes from the tenant's own lease ------------------------------------------------------
-- U4 was read in January and February while vacant (1,500 kWh a month: a previous occupant's
-- habits); C4 leases it from March. Its March estimate must not take those months as its own.
SELECT th.unit(:park, 'FE-4', 100) AS u4 \gset
INSERT INTO leasemgr.meter (park_id, code, unit_id, kind, digits, installed_at)
VALUES (:park, 'FE-E4', :u4, 'electricity', 8, '2025-12-31 00:00+08') RETURNING id AS m4 \gset
SELECT count(leasemgr.record_reading(:m4, d::timestamptz, v, 'iot'))
  FROM (VALUES ('2026-01-01 00:00+08', 0), ('2026-02-01 00:00+08', 1500), ('2026-03-01 00:00+08', 3000)) r(d, v);
SELECT th.draft(:park, 'FE-C4', ARRAY[:u4], '2026-03-01', '2026-12-31', NULL, false) AS c4 \gset
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, meter_kind, billed)
VALUES (:c4, 'utility', 'metered', 1.0000, 'electricity', 'arrears') RETURNING id AS ch4 \gset
UPDATE leasemgr.metering_policy SET estimate_missing = true WHERE park_id = :park;
-- March: U1 1,000 and U2 1,000 real (U3's March is under the confirmed bounds anomaly above):
-- 2,000 kWh / 200 m2 x 100 m2 x 1.0000 = 1,000.000. With U4's own Jan and Feb (1,500 against a
-- floor of 10 kWh/m2) the ratio would have been 1.5000 and the estimate 1,500.000.
SELECT matches((SELECT explain FROM leasemgr.compute_charges(:c4, '2026-03-01', '2026-03-31') WHERE charge_id = :ch4),
  'floor average of 2 leased units on B floor 1 2,000\.000 / 200\.00 m2 x 100\.00 m2 x tenant ratio 1\.0000 \(no whole month of its lease with real figures in the year before\) = 1,000\.000; ',
  'a new tenant''s ratio is 1: the months before its lease are not its own');

-- ---- nothing to estimate from -----------------------------------------------------------------------------
-- U5 alone on floor 2: no peer. An open spike holds its month; a confirmed one bills the readings
-- as corrected (confirming meant the wrong readings were voided), so later months are not held for good.
INSERT INTO leasemgr.unit (park_id, building_id, floor, code, kind, area_m2)
SELECT :park, id, 2, 'FE-5', 'office', 80 FROM leasemgr.building WHERE park_id = :park RETURNING id AS u5 \gset
INSERT INTO leasemgr.meter (park_id, code, unit_id, kind, digits, installed_at)
VALUES (:park, 'FE-E5', :u5, 'electricity', 8, '2025-12-31 00:00+08') RETURNING id AS m5 \gset
SELECT count(leasemgr.record_reading(:m5, d::timestamptz, v, 'iot'))
  FROM (VALUES ('2026-03-01 00:00+08', 0), ('2026-04-01 00:00+08', 800)) r(d, v);
SELECT th.draft(:park, 'FE-C5', ARRAY[:u5], '2026-03-01', '2026-12-31', NULL, false) AS c5 \gset
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, meter_kind, billed)
VALUES (:c5, 'utility', 'metered', 1.0000, 'electricity', 'arrears') RETURNING id AS ch5 \gset
INSERT INTO leasemgr.anomaly (park_id, meter_id, register, kind, during, observed, baseline, ratio)
VALUES (:park, :m5, 'total', 'spike', tstzrange('2026-03-09 00:00+08', '2026-03-10 00:00+08'), 90, 25, 3.60)
RETURNING id AS spike5 \gset
SELECT is((SELECT amount FROM leasemgr.compute_charges(:c5, '2026-03-01', '2026-03-31') WHERE charge_id = :ch5), NULL,
          'an open spike with nothing to estimate from: held until engineering decides');
SELECT leasemgr.decide_anomaly(:spike5, 'confirmed', 'sensor glitch, reading corrected');
-- 800.000 kWh x 1.0000 = 800.00
SELECT is((SELECT amount FROM leasemgr.compute_charges(:c5, '2026-03-01', '2026-03-31') WHERE charge_id = :ch5), 800.00,
          'confirmed, nothing to estimate from: the readings as corrected, 800.00');
SELECT matches((SELECT explain FROM leasemgr.compute_charges(:c5, '2026-03-01', '2026-03-31') WHERE charge_id = :ch5),
  'not estimated \(no other leased unit on B floor 2 has real electricity figures for these days to estimate from\): billed from the readings as corrected',
  '... and says so');

-- ---- time of use: each register estimated from the floor's same register -------------------------
-- Floor 3: U6 (C6, time-of-use prices) and U7 (C7), 100 m2 each. March: U7 read peak 600,
-- valley 400; U6 peak 900 under an open spike. U6's estimate, ratio 1 (no earlier month):
-- peak 600 / 100 m2 x 100 m2 = 600.000, valley 400.000; 600 x 1.2000 + 400 x 0.4000 = 880.00.
INSERT INTO leasemgr.unit (park_id, building_id, floor, code, kind, area_m2)
SELECT :park, id, 3, x.code, 'office', 100 FROM leasemgr.building, (VALUES ('FE-6'), ('FE-7')) x(code) WHERE park_id = :park;
SELECT id AS u6 FROM leasemgr.unit WHERE code = 'FE-6' \gset
SELECT id AS u7 FROM leasemgr.unit WHERE code = 'FE-7' \gset
INSERT INTO leasemgr.meter (park_id, code, unit_id, kind, digits, registers, installed_at)
VALUES (:park, 'FE-E6', :u6, 'electricity', 8, '{peak,valley}', '2025-12-31 00:00+08'),
       (:park, 'FE-E7', :u7, 'electricity', 8, '{peak,valley}', '2025-12-31 00:00+08');
SELECT count(leasemgr.record_reading(m.id, x.at::timestamptz, x.v, 'iot', x.reg))
  FROM (VALUES ('FE-E6', '2026-03-01 00:00+08', 0, 'peak'), ('FE-E6', '2026-04-01 00:00+08', 900, 'peak'),
               ('FE-E6', '2026-03-01 00:00+08', 0, 'valley'), ('FE-E6', '2026-04-01 00:00+08', 100, 'valley'),
               ('FE-E7', '2026-03-01 00:00+08', 0, 'peak'), ('FE-E7', '2026-04-01 00:00+08', 600, 'peak'),
               ('FE-E7', '2026-03-01 00:00+08', 0, 'valley'), ('FE-E7', '2026-04-01 00:00+08', 400, 'valley')) x(code, at, v, reg)
  JOIN leasemgr.meter m ON m.code = x.code;
SELECT th.draft(:park, 'FE-C6', ARRAY[:u6], '2026-03-01', '2026-12-31', NULL, false) AS c6 \gset
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, meter_kind, billed, tou_registers, tou_rates)
VALUES (:c6, 'utility', 'metered', 1, 'electricity', 'arrears', '{peak,valley}', '{1.2000,0.4000}') RETURNING id AS ch6 \gset
SELECT th.walk(th.draft(:park, 'FE-C7', ARRAY[:u7], '2026-03-01', '2026-12-31'), 'active');
INSERT INTO leasemgr.anomaly (park_id, meter_id, register, kind, during, observed, baseline, ratio)
SELECT :park, id, 'peak', 'spike', tstzrange('2026-03-20 00:00+08', '2026-03-21 00:00+08'), 300, 20, 15.00
  FROM leasemgr.meter WHERE code = 'FE-E6';
SELECT is((SELECT amount FROM leasemgr.compute_charges(:c6, '2026-03-01', '2026-03-31') WHERE charge_id = :ch6), 880.00,
          'time of use under a spike: peak 600 x 1.2000 + valley 400 x 0.4000 = 880.00, each register from the floor''s');
SELECT matches((SELECT explain FROM leasemgr.compute_charges(:c6, '2026-03-01', '2026-03-31') WHERE charge_id = :ch6),
  'fallback estimate: floor average of 1 leased unit on B floor 3 peak 600\.000 / 100\.00 m2, valley 400\.000 / 100\.00 m2, each x 100\.00 m2 x tenant ratio 1\.0000 .*: peak 600\.000, valley 400\.000; peak 600\.000 kWh x 1\.2000 \+ valley 400\.000 kWh x 0\.4000 = 880\.00$',
  '... explained register by register');

SELECT * FROM finish();
ROLLBACK;
