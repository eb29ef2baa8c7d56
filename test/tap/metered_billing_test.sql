-- Consumption and metered charges: rollover, replacement, CT multiplier, interpolation at a
-- month boundary, flat, tiered and time-of-use prices, and a month without readings held with
-- a work order until it is read. Every figure is worked out by hand in the comment beside it.
BEGIN;
SELECT plan(36);
SET LOCAL TimeZone = 'Asia/Shanghai';
SET LOCAL leasemgr.timezone = 'Asia/Shanghai';

SELECT th.park('MB') AS park \gset
SELECT th.unit(:park, 'MB-01', 120) AS u1 \gset
SELECT th.unit(:park, 'MB-02', 80) AS u2 \gset
SELECT th.unit(:park, 'MB-03', 50) AS u3 \gset

-- ---- consumption of one meter ------------------------------------------------------------
-- 5 digits: the register wraps at 100,000.000. CT 200/5: multiplier 40.
INSERT INTO leasemgr.meter (park_id, code, unit_id, kind, digits, multiplier, installed_at)
VALUES (:park, 'E-01', :u1, 'electricity', 5, 40, '2026-01-01 00:00+08') RETURNING id AS m1 \gset
SELECT leasemgr.record_reading(:m1, '2026-02-28 23:50+08', 99990, 'iot');
SELECT leasemgr.record_reading(:m1, '2026-03-01 00:05+08', 99999, 'iot');
SELECT leasemgr.record_reading(:m1, '2026-03-15 00:00+08', 5.5, 'iot');
SELECT leasemgr.record_reading(:m1, '2026-04-01 00:00+08', 100, 'iot');

-- At 03-01 00:00, 10 of the 15 minutes between 99,990 and 99,999: 99,990 + 9 x 10/15 = 99,996.000.
-- To 100.000 on 04-01 through the rollover: 100,000 - 99,996 + 100 = 104.000; x 40 = 4,160.000 kWh.
SELECT is((leasemgr.meter_consumption(:m1, '2026-03-01 00:00+08', '2026-04-01 00:00+08')).quantity, 4160.000,
          'March: interpolated at the month boundary, across a rollover, times the CT ratio = 4,160.000');
SELECT is((leasemgr.meter_consumption(:m1, '2026-03-01 00:00+08', '2026-04-01 00:00+08')).explain,
  'E-01 99,996.000 (interpolated at 2026-03-01 00:00 between readings at 2026-02-28 23:50 and 2026-03-01 00:05) -> 100.000 (read 2026-04-01 00:00) = 104.000, rolled over at 100,000.000 x 40 = 4,160.000',
  'the explain text names the readings, the interpolation, the rollover and the multiplier');
-- February's last 10 minutes: 99,990 + 9 x 10/15 - 99,990 = 6.000; x 40 = 240.000. With March: 4,400.000
-- = (100,100 - 99,990) x 40 = 110 x 40, the readings exactly: nothing lost or counted twice at the boundary.
SELECT is((leasemgr.meter_consumption(:m1, '2026-02-28 23:50+08', '2026-03-01 00:00+08')).quantity, 240.000,
          'the other side of the boundary: 6.000 x 40 = 240.000');
SELECT is((leasemgr.meter_consumption(:m1, '2026-02-28 23:50+08', '2026-04-01 00:00+08')).quantity, 4400.000,
          'both sides add up to the readings: (100 + 100,000 - 99,990) x 40 = 4,400.000');
SELECT is((leasemgr.meter_consumption(:m1, '2026-03-01 00:00+08', '2026-04-02 00:00+08')).quantity, NULL,
          'no reading after the end yet: unknown, not guessed');
SELECT is((leasemgr.meter_consumption(:m1, '2026-03-01 00:00+08', '2026-04-02 00:00+08')).explain,
  'E-01: no reading at or after 2026-04-02 00:00 yet (last 2026-04-01 00:00)', '... and the explain text says what is missing');
-- Interpolation rounds half away from zero to the thousandth: 1/3 of 0.001 is 0.000, 2/3 is 0.001.
INSERT INTO leasemgr.meter (park_id, code, kind, digits, installed_at)
VALUES (:park, 'W-R', 'water', 6, '2026-01-01 00:00+08') RETURNING id AS wr \gset
SELECT leasemgr.record_reading(:wr, '2026-03-01 00:00+08', 10, 'manual');
SELECT leasemgr.record_reading(:wr, '2026-03-01 00:03+08', 10.001, 'manual');
SELECT is((leasemgr.meter_consumption(:wr, '2026-03-01 00:00+08', '2026-03-01 00:01+08')).quantity, 0.000, '0.001 x 1/3 = 0.000');
SELECT is((leasemgr.meter_consumption(:wr, '2026-03-01 00:00+08', '2026-03-01 00:02+08')).quantity, 0.001, '0.001 x 2/3 = 0.001');
-- A void reading is skipped: without the 00:03 reading there is nothing after 00:02.
UPDATE leasemgr.meter_reading SET voided_at = now(), void_reason = 'test' WHERE meter_id = :wr AND value = 10.001;
SELECT is((leasemgr.meter_consumption(:wr, '2026-03-01 00:00+08', '2026-03-01 00:02+08')).quantity, NULL, 'void readings do not count');
-- A decrease that is not a rollover (half the range or more backwards) is kept, negative.
SELECT leasemgr.record_reading(:wr, '2026-03-02 00:00+08', 50, 'manual');
SELECT leasemgr.record_reading(:wr, '2026-03-03 00:00+08', 40, 'manual');
-- 10 -> 50 -> 40: +40, then -10 (backwards 10 of a 1,000,000 range is no rollover) = 30.000
SELECT is((leasemgr.meter_consumption(:wr, '2026-03-01 00:00+08', '2026-03-03 00:00+08')).quantity, 30.000,
          'a step backwards is counted as it is, not as a rollover');
SELECT matches((leasemgr.meter_consumption(:wr, '2026-03-01 00:00+08', '2026-03-03 00:00+08')).explain,
               'with 1 negative step$', '... and said');
SELECT th.refuses(format($$SELECT leasemgr.meter_consumption(%s, '2026-03-03', '2026-03-01')$$, :wr),
  'LM011', 'consumption is measured between two moments in order',
  'from_ts is 2026-03-03 00:00 and to_ts is 2026-03-01 00:00.', 'Pass finite moments with from_ts before to_ts.',
  'moments out of order');
SELECT th.refuses($$SELECT leasemgr.meter_consumption(-1, '2026-03-01', '2026-03-03')$$,
  'LM009', 'meter -1 does not exist', '', 'Check the id; rows of parks you have not been granted are not visible to you.',
  'an unknown meter');

-- ---- metered charges -------------------------------------------------------------------------
-- Unit 1: electricity, tiered per month: first 200 kWh at 0.6000, next 200 at 0.8000, the rest at 1.0000.
SELECT th.draft(:park, 'MB-C1', ARRAY[:u1], '2026-03-01', '2027-02-28') AS c1 \gset
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, meter_kind, billed, tiers, tier_rates)
VALUES (:c1, 'utility', 'metered', 0.6000, 'electricity', 'arrears', '{200,400}', '{0.8000,1.0000}') RETURNING id AS ch1 \gset
SELECT th.walk(:c1, 'active');
-- March: 4,160.000 kWh: 200 x 0.6 + 200 x 0.8 + 3,760 x 1.0 = 120 + 160 + 3,760 = 4,040.00
SELECT is((SELECT amount FROM leasemgr.compute_charges(:c1, '2026-03-01', '2026-03-31') WHERE charge_id = :ch1), 4040.00,
          'tiered: 200 x 0.6000 + 200 x 0.8000 + 3,760 x 1.0000 = 4,040.00');
SELECT matches((SELECT explain FROM leasemgr.compute_charges(:c1, '2026-03-01', '2026-03-31') WHERE charge_id = :ch1),
  '; 4,160.000 kWh in blocks: 200.000 x 0.6000 \+ 200.000 x 0.8000 \+ 3,760.000 x 1.0000 = 4,040.00$', '... explained block by block');

-- Unit 2: a meter replaced mid-month (final reading 2,000 at 03-20 10:00; the new meter starts at 0).
INSERT INTO leasemgr.meter (park_id, code, unit_id, kind, digits, installed_at, removed_at)
VALUES (:park, 'E-02', :u2, 'electricity', 6, '2026-01-01 00:00+08', '2026-03-20 10:00+08') RETURNING id AS m2 \gset
SELECT leasemgr.record_reading(:m2, '2026-03-01 00:00+08', 1500, 'iot');
SELECT leasemgr.record_reading(:m2, '2026-03-20 10:00+08', 2000, 'photo', photo_sha256 => repeat('0', 64));
INSERT INTO leasemgr.meter (park_id, code, unit_id, kind, digits, replaces_id, installed_at)
VALUES (:park, 'E-02b', :u2, 'electricity', 6, :m2, '2026-03-20 10:30+08') RETURNING id AS m2b \gset
SELECT leasemgr.record_reading(:m2b, '2026-03-20 10:30+08', 0, 'photo', photo_sha256 => repeat('1', 64));
SELECT leasemgr.record_reading(:m2b, '2026-04-01 00:00+08', 300, 'iot');
SELECT th.draft(:park, 'MB-C2', ARRAY[:u2], '2026-03-01', '2027-02-28') AS c2 \gset
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, meter_kind, billed)
VALUES (:c2, 'utility', 'metered', 0.8500, 'electricity', 'arrears') RETURNING id AS ch2 \gset
SELECT th.walk(:c2, 'active');
-- Old meter 1,500 -> 2,000 (final) = 500; new meter 0 (first) -> 300 = 300; 800 kWh x 0.85 = 680.00
SELECT is((SELECT amount FROM leasemgr.compute_charges(:c2, '2026-03-01', '2026-03-31') WHERE charge_id = :ch2), 680.00,
          'replacement: (2,000 - 1,500) + (300 - 0) = 800 kWh x 0.8500 = 680.00');
-- April: the old meter was removed in March; only the new one counts (no reading after April yet: held).
SELECT matches((leasemgr.meter_consumption(:m2, '2026-04-01 00:00+08', '2026-05-01 00:00+08')).explain,
  'removed, final reading 2026-03-20 10:00 before the days: 0.000$', 'a meter removed before the days measured nothing in them');
SELECT is((SELECT explain FROM leasemgr.compute_charges(:c2, '2026-03-01', '2026-03-31') WHERE charge_id = :ch2),
  'electricity 2026-03-01..2026-03-31: E-02 1,500.000 (read 2026-03-01 00:00) -> 2,000.000 (final reading 2026-03-20 10:00) = 500.000; E-02b 0.000 (first reading 2026-03-20 10:30) -> 300.000 (read 2026-04-01 00:00) = 300.000; 800.000 kWh x 0.8500 CNY/kWh = 680.00',
  '... both meters in the explain text');

-- Unit 3: time-of-use electricity, peak 1.2000, valley 0.4000.
INSERT INTO leasemgr.meter (park_id, code, unit_id, kind, digits, registers, installed_at)
VALUES (:park, 'E-03', :u3, 'electricity', 6, '{total,peak,valley}', '2026-01-01 00:00+08') RETURNING id AS m3 \gset
SELECT leasemgr.record_reading(:m3, '2026-03-01 00:00+08', 100, 'iot', 'peak'),
       leasemgr.record_reading(:m3, '2026-03-01 00:00+08', 50, 'iot', 'valley'),
       leasemgr.record_reading(:m3, '2026-04-01 00:00+08', 350.5, 'iot', 'peak'),
       leasemgr.record_reading(:m3, '2026-04-01 00:00+08', 150, 'iot', 'valley');
SELECT th.draft(:park, 'MB-C3', ARRAY[:u3], '2026-03-01', '2027-02-28') AS c3 \gset
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, meter_kind, billed, tou_registers, tou_rates)
VALUES (:c3, 'utility', 'metered', 1, 'electricity', 'arrears', '{peak,valley}', '{1.2000,0.4000}') RETURNING id AS ch3 \gset
SELECT th.walk(:c3, 'active');
-- peak 250.5 x 1.2 = 300.60; valley 100 x 0.4 = 40.00; 340.60
SELECT is((SELECT amount FROM leasemgr.compute_charges(:c3, '2026-03-01', '2026-03-31') WHERE charge_id = :ch3), 340.60,
          'time of use: peak 250.5 x 1.2000 + valley 100 x 0.4000 = 300.60 + 40.00 = 340.60');
SELECT matches((SELECT explain FROM leasemgr.compute_charges(:c3, '2026-03-01', '2026-03-31') WHERE charge_id = :ch3),
  '; peak 250.500 kWh x 1.2000 \+ valley 100.000 kWh x 0.4000 = 340.60$', '... register by register');

-- ---- the bill run: in arrears, held without readings, one work order ---------------------------
SELECT is((SELECT charges_held FROM leasemgr.bill_run('2026-04-01', :park)), 0, 'April''s run bills March: nothing held');
SELECT is((SELECT amount FROM leasemgr.bill_line WHERE charge_id = :ch1), 4040.00, 'March''s electricity of unit 1 is on the April bill');
SELECT is((SELECT count(*) FROM leasemgr.bill_line WHERE charge_id IN (:ch1, :ch2, :ch3)), 3::bigint, 'one line per metered charge');
-- May's run wants April; no reading after April 30 on any meter.
SELECT is((SELECT charges_held FROM leasemgr.bill_run('2026-05-01', :park)), 3, 'May''s run: the three metered charges are held');
SELECT is((SELECT count(*) FROM leasemgr.bill_line WHERE charge_id IN (:ch1, :ch2, :ch3)), 3::bigint, '... nothing billed from nothing');
SELECT is((SELECT subject FROM leasemgr.work_order WHERE meter_id = :m1 AND kind = 'reading_missing' AND state = 'open'),
  'Read meter E-01 (electricity of unit MB-01) at or after 2026-05-01 00:00: contract MB-C1 cannot be billed for 2026-04 until it is read',
  'a work order asks engineering to read the meter');
SELECT is((SELECT count(*) FROM leasemgr.work_order WHERE kind = 'reading_missing' AND month = '2026-04-01'), 3::bigint,
          'one work order per meter not read');
SELECT leasemgr.bill_run('2026-05-01', :park);
SELECT is((SELECT count(*) FROM leasemgr.work_order WHERE kind = 'reading_missing'), 3::bigint, 'running again raises no second order');
-- The reading arrives: the next run bills April. 100 -> 130 = 30 x 40 = 1,200 kWh: 120 + 160 + 800 = 1,080.00
SELECT leasemgr.record_reading(:m1, '2026-05-01 00:00+08', 130, 'iot');
SELECT is((SELECT lines_created FROM leasemgr.bill_run('2026-05-01', :park)), 1, 'once read, the held month is billed');
SELECT is((SELECT amount FROM leasemgr.bill_line WHERE charge_id = :ch1 AND period_start = '2026-04-01'), 1080.00,
          'April: 1,200 kWh = 200 x 0.6 + 200 x 0.8 + 800 x 1.0 = 1,080.00');

-- ---- the terms of a metered charge --------------------------------------------------------------
SELECT th.draft(:park, 'MB-C4', ARRAY[:u1], '2027-03-01', '2028-02-28') AS c4 \gset
SELECT th.refuses(format($$INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, meter_kind) VALUES (%s, 'utility', 'metered', 1, 'water')$$, :c4),
  'LM015', 'a metered charge is billed in arrears', 'A month''s consumption is known only once the meters have been read after it.',
  'Set billed = ''arrears'' on a metered charge.', 'metered charges are billed in arrears');
SELECT th.refuses(format($$INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, meter_kind, billed, tiers, tier_rates)
                           VALUES (%s, 'utility', 'metered', 1, 'water', 'arrears', '{400,200}', '{2,3}')$$, :c4),
  'LM015', 'tiers {400.000,200.000} are not ascending break points',
  'Break points are the month''s consumption at which the next block''s price starts: more than 0, each above the one before.',
  'Pass them in ascending order, e.g. ''{200,400}'', with one price per break point in tier_rates.', 'tiers ascend');
SELECT th.refuses(format($$INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, meter_kind, billed) VALUES (%s, 'rent', 'metered', 1, 'water', 'arrears')$$, :c4),
  'LM015', 'a metered charge cannot be of kind rent', 'Metered charges bill consumption: utilities, air conditioning or other.',
  'Use kind ''utility'', ''ac'' or ''other'' for a metered charge.', 'rent is not metered');

-- ---- a main meter and its sub-meter on the same unit: counted once -----------------------------
-- MB-05's main meter read 0 -> 1,000; a sub-meter behind it (a production line) 0 -> 300. The
-- unit used 1,000 kWh, not 1,300: 1,000 x 1.0000 = 1,000.00.
SELECT th.unit(:park, 'MB-05', 60) AS u5 \gset
INSERT INTO leasemgr.meter (park_id, code, unit_id, kind, digits, installed_at)
VALUES (:park, 'E-05', :u5, 'electricity', 6, '2026-01-01 00:00+08') RETURNING id AS m5 \gset
INSERT INTO leasemgr.meter (park_id, code, unit_id, parent_id, kind, digits, installed_at)
VALUES (:park, 'E-05-L1', :u5, :m5, 'electricity', 6, '2026-01-01 00:00+08') RETURNING id AS m5s \gset
SELECT leasemgr.record_reading(:m5, '2026-03-01 00:00+08', 0, 'iot'), leasemgr.record_reading(:m5, '2026-04-01 00:00+08', 1000, 'iot'),
       leasemgr.record_reading(:m5s, '2026-03-01 00:00+08', 0, 'iot'), leasemgr.record_reading(:m5s, '2026-04-01 00:00+08', 300, 'iot');
SELECT th.draft(:park, 'MB-C5', ARRAY[:u5], '2026-03-01', '2027-02-28') AS c5 \gset
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, meter_kind, billed)
VALUES (:c5, 'utility', 'metered', 1.0000, 'electricity', 'arrears') RETURNING id AS ch5 \gset
SELECT is((SELECT amount FROM leasemgr.compute_charges(:c5, '2026-03-01', '2026-03-31') WHERE charge_id = :ch5), 1000.00,
          'a sub-meter behind the unit''s own main meter is not counted twice: 1,000.00, not 1,300.00');

-- ---- a consumption beyond what a quantity holds: a clear error ------------------------------------
-- 999,999,999,999.000 x 1,000,000 does not fit in 64 bits of thousandths.
INSERT INTO leasemgr.meter (park_id, code, kind, digits, multiplier, installed_at)
VALUES (:park, 'E-HUGE', 'electricity', 12, 1000000, '2026-01-01 00:00+08') RETURNING id AS mh \gset
SELECT leasemgr.record_reading(:mh, '2026-03-01 00:00+08', 0, 'iot'), leasemgr.record_reading(:mh, '2026-03-02 00:00+08', 999999999999, 'iot');
SELECT th.refuses(format($$SELECT leasemgr.meter_consumption(%s, '2026-03-01 00:00+08', '2026-03-02 00:00+08')$$, :mh),
  'LM017', 'consumption of meter E-HUGE is out of range',
  '999,999,999,999.000 x multiplier 1000000 does not fit in a quantity.',
  'Check the meter''s multiplier and its readings: a wrong reading is voided.', 'an overflowing consumption');
SELECT is((SELECT count(*)::int FROM leasemgr.meter WHERE code = 'E-HUGE'), 1, '... and the meter is still there to correct');

SELECT * FROM finish();
ROLLBACK;
