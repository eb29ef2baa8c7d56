-- Anomaly detection: each kind on a drawn series whose answer is worked out by hand, the
-- park's thresholds, idempotent detection, work orders, and engineering's decision.
BEGIN;
SELECT plan(34);
SET LOCAL TimeZone = 'Asia/Shanghai';
SET LOCAL leasemgr.timezone = 'Asia/Shanghai';

SELECT th.park('AN') AS park \gset
-- A leased unit (contract 2024-01-01..2024-12-31, active) and a vacant one.
SELECT th.contract_in(:park, 'active', 'AN-C') AS c \gset
SELECT unit_id AS leased FROM leasemgr.contract_unit WHERE contract_id = :c \gset
SELECT th.unit(:park, 'AN-VACANT') AS vacant \gset

-- Daily readings at local midnight from 2024-01-01; use(d) is the consumption of day d.
CREATE FUNCTION pg_temp.meter(p_park bigint, p_code text, p_unit bigint, p_uses numeric[],
                              p_max numeric DEFAULT NULL) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  m bigint;
BEGIN
  INSERT INTO leasemgr.meter (park_id, code, unit_id, kind, digits, max_daily, installed_at)
  VALUES (p_park, p_code, p_unit, 'electricity', 6, p_max, '2023-12-31 00:00+08') RETURNING id INTO m;
  -- recorded a minute after it was read (the owner may load a history's stamps)
  INSERT INTO leasemgr.meter_reading (park_id, meter_id, read_at, recorded_at, value, source)
  SELECT p_park, m, '2024-01-01 00:00+08'::timestamptz + (i - 1) * interval '1 day',
         '2024-01-01 00:01+08'::timestamptz + (i - 1) * interval '1 day',
         1000 + coalesce((SELECT sum(u) FROM unnest(p_uses[1:i - 1]) u), 0), 'iot'
    FROM generate_series(1, cardinality(p_uses) + 1) i;
  RETURN m;
END
$$;
SELECT leasemgr.meter_reading_partitions('2024-01-01', '2024-03-01');

-- Spike: 35 days of 10.000, then day 36 (2024-02-05) at 31.000 and day 37 at 30.000.
-- Baseline on 02-05: the median of the 28 days before = 10.000; 31 > 3 x 10 is a spike (ratio 3.10);
-- 30 is not (strictly above). Day 38 is 10 again.
SELECT pg_temp.meter(:park, 'SPIKE', :leased, array_fill(10::numeric, ARRAY[35]) || ARRAY[31, 30, 10]::numeric[]) AS spike \gset
-- Negative: 10.000 a day from 1,000.000, then on 02-04 the register goes back 5.000 (of a 1,000,000 range: no rollover).
SELECT pg_temp.meter(:park, 'NEG', NULL, array_fill(10::numeric, ARRAY[34]) || ARRAY[-5, 10, 10, 10]::numeric[]) AS neg \gset
-- Stuck: the leased unit's second meter reads the same value from 02-01 for 7 days.
SELECT pg_temp.meter(:park, 'STUCK', :leased, array_fill(10::numeric, ARRAY[31]) || array_fill(0::numeric, ARRAY[7])) AS stuck \gset
-- The same on the vacant unit: nobody uses it, so zero is right.
SELECT pg_temp.meter(:park, 'IDLE', :vacant, array_fill(10::numeric, ARRAY[31]) || array_fill(0::numeric, ARRAY[7])) AS idle \gset
-- Bounds: 40.000 a day, a day (02-06) of 60.000 on a meter that cannot measure more than 50 a day;
-- 60 < 3 x 40, so no spike.
SELECT pg_temp.meter(:park, 'BOUND', NULL, array_fill(40::numeric, ARRAY[36]) || ARRAY[60, 40]::numeric[], 50) AS bound \gset
-- Gap: readings to 02-02 00:00 and again from 02-06 00:00: four days without a reading.
SELECT pg_temp.meter(:park, 'GAP', NULL, array_fill(10::numeric, ARRAY[38])) AS gap \gset
SET LOCAL session_replication_role = replica;     -- remove the hole's readings under the rules' back
DELETE FROM leasemgr.meter_reading WHERE meter_id = :gap AND read_at > '2024-02-02 00:00+08' AND read_at < '2024-02-06 00:00+08';
RESET session_replication_role;
-- Lag: a meter whose readings of 02-03 and 02-04 reached the database 8 days late.
SELECT pg_temp.meter(:park, 'LATE', NULL, array_fill(10::numeric, ARRAY[38])) AS late \gset
SET LOCAL session_replication_role = replica;
UPDATE leasemgr.meter_reading SET recorded_at = read_at + interval '8 days'
 WHERE meter_id = :late AND read_at IN ('2024-02-03 00:00+08', '2024-02-04 00:00+08');
RESET session_replication_role;

-- Detect over 2024-02-01 .. 2024-02-07 (the baseline days before are read too).
SELECT results_eq($$SELECT kind, detected, opened FROM leasemgr.detect_anomalies(
                     (SELECT id FROM leasemgr.park WHERE code = 'AN'), '2024-02-01 00:00+08', '2024-02-08 00:00+08') ORDER BY kind$$,
  $$VALUES ('bounds', 1, 1), ('gap', 1, 1), ('lag', 1, 1), ('negative', 1, 1), ('spike', 1, 1), ('stuck', 1, 1)$$,
  'one anomaly of each kind, all new');

SELECT is((SELECT ARRAY[observed, baseline, ratio] FROM leasemgr.anomaly WHERE meter_id = :spike),
          ARRAY[31.000, 10.000, 3.10], 'spike: 31.000 against a median of 10.000 = 3.10 x');
SELECT is((SELECT during FROM leasemgr.anomaly WHERE meter_id = :spike),
          tstzrange('2024-02-05 00:00+08', '2024-02-06 00:00+08'), '... on the day of 2024-02-05, not 02-06 (30 is not above 3 x 10)');
SELECT is((SELECT ARRAY[observed, baseline] FROM leasemgr.anomaly WHERE meter_id = :neg),
          ARRAY[-5.000, NULL], 'negative: the register went back 5.000');
SELECT is((SELECT during FROM leasemgr.anomaly WHERE meter_id = :neg),
          tstzrange('2024-02-04 00:00+08', '2024-02-05 00:00:00.000001+08'), '... between the readings of 02-04 and 02-05');
SELECT is((SELECT ARRAY[observed, baseline] FROM leasemgr.anomaly WHERE meter_id = :stuck),
          ARRAY[0.000, 10.000], 'stuck: 0 a day where the median before was 10.000');
SELECT is((SELECT during FROM leasemgr.anomaly WHERE meter_id = :stuck),
          tstzrange('2024-02-01 00:00+08', '2024-02-08 00:00+08'), '... for the 7 days of 02-01 to 02-07');
SELECT is((SELECT count(*) FROM leasemgr.anomaly WHERE meter_id = :idle), 0::bigint,
          'the same zeros on a vacant unit are no anomaly');
SELECT is((SELECT ARRAY[observed, baseline, ratio] FROM leasemgr.anomaly WHERE meter_id = :bound),
          ARRAY[60.000, 50.000, 1.20], 'bounds: 60.000 on a meter that measures at most 50.000 a day (1.20 x)');
SELECT is((SELECT ARRAY[observed, baseline] FROM leasemgr.anomaly WHERE meter_id = :gap),
          ARRAY[4.000, 3.000], 'gap: 4 days without a reading, the threshold is 3');
SELECT is((SELECT during FROM leasemgr.anomaly WHERE meter_id = :gap),
          tstzrange('2024-02-02 00:00+08', '2024-02-06 00:00:00.000001+08'), '... from the last reading before to the first after');
SELECT is((SELECT ARRAY[observed, baseline] FROM leasemgr.anomaly WHERE meter_id = :late),
          ARRAY[8.000, 7.000], 'lag: readings recorded 8 days after they were read, the threshold is 7');
SELECT is((SELECT during FROM leasemgr.anomaly WHERE meter_id = :late),
          tstzrange('2024-02-03 00:00+08', '2024-02-04 00:00:00.000001+08'), '... the late readings of 02-03 and 02-04');

-- Work orders: for what holds bills (spike, negative, bounds), one each.
SELECT is((SELECT array_agg(a.kind ORDER BY a.kind) FROM leasemgr.work_order w JOIN leasemgr.anomaly a ON a.id = w.anomaly_id
            WHERE w.kind = 'anomaly' AND w.state = 'open'), ARRAY['bounds', 'negative', 'spike'],
          'spike, negative and bounds anomalies open a work order');
SELECT is((SELECT subject FROM leasemgr.work_order w JOIN leasemgr.anomaly a ON a.id = w.anomaly_id WHERE a.meter_id = :spike),
          'Inspect meter SPIKE: spike anomaly from 2024-02-05 00:00:00+08 to 2024-02-06 00:00:00+08', '... saying what to inspect');

-- Idempotent.
SELECT results_eq($$SELECT sum(detected)::int, sum(opened)::int FROM leasemgr.detect_anomalies(
                     (SELECT id FROM leasemgr.park WHERE code = 'AN'), '2024-02-01 00:00+08', '2024-02-08 00:00+08')$$,
  $$VALUES (6, 0)$$, 'detecting again finds the same six and writes nothing');
SELECT is((SELECT count(*) FROM leasemgr.anomaly), 6::bigint, '... six rows');
SELECT is((SELECT count(*) FROM leasemgr.work_order WHERE kind = 'anomaly'), 3::bigint, '... three work orders');

-- The park's thresholds: at 3.5 x the spike is no longer one.
INSERT INTO leasemgr.metering_policy (park_id, spike_ratio) VALUES (:park, 3.50);
SET LOCAL session_replication_role = replica;
DELETE FROM leasemgr.work_order; DELETE FROM leasemgr.anomaly;
RESET session_replication_role;
SELECT is((SELECT detected FROM leasemgr.detect_anomalies(:park, '2024-02-01 00:00+08', '2024-02-08 00:00+08') WHERE kind = 'spike'),
          0, 'with the park''s spike ratio at 3.50, 31 against 10 is no spike');
UPDATE leasemgr.metering_policy SET spike_ratio = 3.00, gap_days = 5 WHERE park_id = :park;
SELECT is((SELECT detected FROM leasemgr.detect_anomalies(:park, '2024-02-01 00:00+08', '2024-02-08 00:00+08') WHERE kind = 'gap'),
          0, 'with gap_days at 5, four days without a reading is no gap');

-- Engineering decides.
SELECT id AS spike_anomaly FROM leasemgr.anomaly WHERE meter_id = :spike \gset
SELECT is(leasemgr.decide_anomaly(:spike_anomaly, 'dismissed', 'tenant ran a kiln that day'), 'dismissed', 'an anomaly is dismissed');
SELECT is((SELECT state FROM leasemgr.work_order WHERE anomaly_id = :spike_anomaly), 'done', '... closing its work order');
SELECT is((SELECT decided_by FROM leasemgr.anomaly WHERE id = :spike_anomaly), current_user::text, '... by whom');
SELECT th.refuses(format($$SELECT leasemgr.decide_anomaly(%s, 'confirmed')$$, :spike_anomaly),
  'LM011', format('anomaly %s was already dismissed', :spike_anomaly),
  format('%s decided it at %s.', current_user, (SELECT decided_at FROM leasemgr.anomaly WHERE id = :spike_anomaly)),
  'A decision is final; record what changed in a note on the work order.', 'a decision is made once');
SELECT th.refuses(format($$SELECT leasemgr.decide_anomaly(%s, 'ignore')$$, :spike_anomaly),
  'LM011', '"ignore" is not a decision on an anomaly',
  'An anomaly is confirmed (the readings or the meter are wrong) or dismissed (the consumption is real).',
  'Pass ''confirmed'' or ''dismissed''.', 'confirmed or dismissed, nothing else');
SELECT th.refuses(format($$UPDATE leasemgr.anomaly SET state = 'open' WHERE id = %s$$, :spike_anomaly),
  'LM010', format('anomaly %s can only be decided, once', :spike_anomaly),
  format('It is dismissed (decided by %s).', current_user),
  'Use leasemgr.decide_anomaly(anomaly_id, ''confirmed'' or ''dismissed'', note) on an open anomaly; what was found stays as found.',
  'a decided anomaly cannot be reopened by hand');
SELECT is((th.error_of(format($$INSERT INTO leasemgr.anomaly (park_id, meter_id, register, kind, during, observed, state, decided_at, decided_by)
                                 VALUES (%s, %s, 'total', 'spike', tstzrange('2024-03-01', '2024-03-02'), 1, 'dismissed', now(), 'x')$$,
                                :park, :spike))).code, 'LM010', 'an anomaly cannot be recorded already dismissed (to keep detection out)');
SELECT is((th.error_of(format($$DELETE FROM leasemgr.anomaly WHERE id = %s$$, :spike_anomaly))).code, 'LM010', 'nor deleted');
SELECT is((SELECT count(*) FROM leasemgr.audit_log WHERE table_name = 'anomaly' AND action = 'UPDATE'
            AND row_id = :spike_anomaly), 1::bigint, 'the decision is in the audit trail');
SELECT th.refuses(format($$SELECT * FROM leasemgr.detect_anomalies(%s, '2024-02-08', '2024-02-01')$$, :park),
  'LM011', 'anomalies are detected over a window of moments in order, at most ten years long',
  'from_ts is 2024-02-08 00:00:00+08 and to_ts is 2024-02-01 00:00:00+08.',
  'Pass the first and the last moment to look at, e.g. the last day or week.', 'a window out of order');

-- An open spike holds the metered line of the month it falls in; dismissed, the real figure is billed.
SELECT th.unit(:park, 'AN-M') AS munit \gset
SELECT th.draft(:park, 'AN-M', ARRAY[:munit], '2024-01-01', '2024-12-31') AS cm \gset
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, meter_kind, billed)
VALUES (:cm, 'utility', 'metered', 1.0000, 'electricity', 'arrears') RETURNING id AS mch \gset
SELECT th.walk(:cm, 'active');
-- Jan 1 .. Feb 4 at 10, Feb 5 at 31, Feb 6 .. Feb 29 at 10: readings to 2024-03-01 00:00.
SELECT pg_temp.meter(:park, 'MSPIKE', :munit, array_fill(10::numeric, ARRAY[35]) || ARRAY[31]::numeric[]
                                              || array_fill(10::numeric, ARRAY[24])) AS mspike \gset
SELECT is((SELECT opened FROM leasemgr.detect_anomalies(:park, '2024-02-01 00:00+08', '2024-02-08 00:00+08') WHERE kind = 'spike'),
          1, 'the tenant''s meter has a spike on 02-05');
SELECT id AS mspike_anomaly FROM leasemgr.anomaly WHERE meter_id = :mspike \gset
SELECT is((SELECT amount FROM leasemgr.compute_charges(:cm, '2024-02-01', '2024-02-29') WHERE charge_id = :mch), NULL,
          'February''s electricity is held while the spike is open');
SELECT matches((SELECT explain FROM leasemgr.compute_charges(:cm, '2024-02-01', '2024-02-29') WHERE charge_id = :mch),
  format('= 311.000; anomaly %s \(spike on MSPIKE from 2024-02-05 00:00, open\): the readings wait for engineering \(leasemgr.decide_anomaly\)', :mspike_anomaly),
  '... naming the anomaly');
SELECT leasemgr.decide_anomaly(:mspike_anomaly, 'dismissed', 'real: a trial run of new equipment');
-- February: 4 x 10 + 31 + 24 x 10 = 311 kWh x 1.0000 = 311.00
SELECT is((SELECT amount FROM leasemgr.compute_charges(:cm, '2024-02-01', '2024-02-29') WHERE charge_id = :mch), 311.00,
          'dismissed: the real figure, 4 x 10 + 31 + 24 x 10 = 311 kWh x 1.0000 = 311.00');

SELECT * FROM finish();
ROLLBACK;
