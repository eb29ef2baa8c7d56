-- Meters and readings: the rules of a meter, record_reading's refusals (each with its
-- SQLSTATE and words, and nothing written), idempotent retries, the bulk path checked once
-- per statement, voiding, and the monthly partitions.
BEGIN;
SELECT plan(59);
SET LOCAL TimeZone = 'Asia/Shanghai';

SELECT th.park('MR') AS park \gset
SELECT th.park('MR-OTHER') AS other_park \gset
SELECT th.unit(:park, 'MR-0301') AS u1 \gset
SELECT th.unit(:park, 'MR-0302') AS u2 \gset
-- Partitions are made ahead by an admin or a job; June is left out on purpose (below).
SELECT leasemgr.meter_reading_partitions('2026-01-01', '2026-05-01');
INSERT INTO leasemgr.meter (park_id, code, unit_id, kind, digits, multiplier, installed_at)
VALUES (:park, 'E-0301', :u1, 'electricity', 5, 40, '2026-01-01 00:00+08') RETURNING id AS m1 \gset
INSERT INTO leasemgr.meter (park_id, code, unit_id, kind, digits, registers, installed_at)
VALUES (:park, 'E-0302', :u2, 'electricity', 6, '{total,peak,valley}', '2026-01-01 00:00+08') RETURNING id AS m2 \gset
INSERT INTO leasemgr.meter (park_id, code, kind, digits, installed_at)
VALUES (:park, 'W-MAIN', 'water', 6, '2026-01-01 00:00+08') RETURNING id AS wmain \gset

-- ---- recording ---------------------------------------------------------------------------
SELECT leasemgr.record_reading(:m1, '2026-03-01 00:00+08', 1200.5, 'manual') AS r1 \gset
SELECT is((SELECT value FROM leasemgr.meter_reading WHERE id = :r1), 1200.500, 'a reading is recorded as given');
SELECT is(leasemgr.record_reading(:m1, '2026-03-01 00:00+08', 1200.500, 'manual'), :r1::bigint,
          'the same reading again returns the first id');
SELECT is((SELECT count(*) FROM leasemgr.meter_reading WHERE meter_id = :m1), 1::bigint, '... and records nothing');
SELECT th.refuses(format($$SELECT leasemgr.record_reading(%s, '2026-03-01 00:00+08', 1201, 'iot')$$, :m1),
  'LM016', 'meter E-0301 register total already has a reading at 2026-03-01 00:00:00+08',
  format('Reading %s says 1200.500 (manual, recorded by %s at %s); this call says 1201.', :r1, current_user,
         (SELECT recorded_at FROM leasemgr.meter_reading WHERE id = :r1)),
  'A meter shows one value at a moment. If the first reading is wrong, void it and record the right value at another moment (e.g. one second later).',
  'another value at the same moment is refused, naming the first reading');
SELECT is((SELECT recorded_by FROM leasemgr.meter_reading WHERE id = :r1), current_user::text, 'who recorded it is kept');
SELECT is((SELECT tableoid::regclass::text FROM leasemgr.meter_reading WHERE id = :r1), 'leasemgr.meter_reading_y2026m02',
          'a reading lands in its UTC month''s partition (2026-03-01 00:00+08 is February 28 16:00 UTC)');
SELECT lives_ok(format($$SELECT leasemgr.record_reading(%s, '2026-03-02 00:00+08', 10.000, 'photo', 'peak', '%s', 'handset-7')$$,
                       :m2, repeat('ab', 32)), 'a photo reading of a time-of-use register, with its photo hash');

-- ---- refusals: each changes nothing ---------------------------------------------------------
CREATE TEMP TABLE before_refusals AS SELECT count(*) AS n FROM leasemgr.meter_reading;
SELECT th.refuses($$SELECT leasemgr.record_reading(-1, '2026-03-01 00:00+08', 1, 'iot')$$,
  'LM009', 'meter -1 does not exist', '',
  'Check the id; meters of parks you have not been granted are not visible to you.', 'an unknown meter');
SELECT th.refuses(format($$SELECT leasemgr.record_reading(%s, '2026-03-05 00:00+08', 1300, 'photo')$$, :m1),
  'LM016', 'a photo reading needs the photo''s SHA-256',
  format('Meter %s at 2026-03-05 00:00:00+08 was recorded with source photo and no photo_sha256.', :m1),
  'Pass photo_sha256, the SHA-256 of the image (64 hex digits), or record it as manual.', 'a photo reading without a photo hash');
SELECT th.refuses(format($$SELECT leasemgr.record_reading(%s, '2026-03-05 00:00+08', 1300, 'photo', 'total', 'abc')$$, :m1),
  'LM016', '"abc" is not a SHA-256', 'A SHA-256 is 64 lower-case hexadecimal digits.',
  'Pass the hex digest of the photo, e.g. from sha256sum.', 'a photo hash that is not one');
SELECT is((th.error_of(format($$SELECT leasemgr.record_reading(%s, now() + interval '1 day', 1300, 'iot')$$, :m1))).code,
  'LM016', 'a reading in the future is refused');
SELECT is((th.error_of(format($$SELECT leasemgr.record_reading(%s, now() + interval '1 day', 1300, 'iot')$$, :m1))).message,
  format('a reading of meter E-0301 cannot be read at %s, in the future', now() + interval '1 day'), '... saying when');
SELECT lives_ok(format($$SELECT leasemgr.record_reading(%s, statement_timestamp() + interval '4 minutes', 1300, 'iot')$$, :m2),
  'a device clock up to 5 minutes ahead is tolerated');
DELETE FROM before_refusals; INSERT INTO before_refusals SELECT count(*) FROM leasemgr.meter_reading;
SELECT th.refuses(format($$SELECT leasemgr.record_reading(%s, '2026-03-05 00:00+08', -0.001, 'manual')$$, :m1),
  'LM016', '-0.001 is not a meter reading',
  'A reading is the register''s cumulative value as displayed: 0 or more, below 10^12, at most 3 decimals.',
  'Pass the value the meter shows; a meter that went back is a new meter or an anomaly, never a negative reading.',
  'a negative value');
SELECT is((th.error_of(format($$SELECT leasemgr.record_reading(%s, '2026-03-05 00:00+08', 'NaN', 'manual')$$, :m1))).code,
  'LM016', 'NaN is not a reading');
SELECT is((th.error_of(format($$SELECT leasemgr.record_reading(%s, '2026-03-05 00:00+08', 1.0005, 'manual')$$, :m1))).code,
  'LM016', 'a fourth decimal is refused, not rounded');
SELECT is((th.error_of(format($$SELECT leasemgr.record_reading(%s, '2026-03-05 00:00+08', '12a', 'manual')$$, :m1))).code,
  '22P02', 'a non-numeric value never reaches the table (numeric input syntax)');
SELECT th.refuses(format($$SELECT leasemgr.record_reading(%s, '2026-03-05 00:00+08', 1, 'guess')$$, :m1),
  'LM016', 'unknown reading source "guess"', 'The sources are: iot, photo, manual, estimated.',
  'Source names are lower case.', 'an unknown source');
SELECT th.refuses(format($$SELECT leasemgr.record_reading(%s, '2026-03-05 00:00+08', 1, 'iot', 'flat')$$, :m2),
  'LM016', 'meter E-0302 has no register "flat"', 'Its registers are: total, peak, valley.',
  'Pass one of the meter''s registers (default total).', 'an unknown register');
SELECT th.refuses(format($$SELECT leasemgr.record_reading(%s, '2025-12-31 23:59+08', 1, 'iot')$$, :m1),
  'LM016', 'meter E-0301 was not installed yet at 2025-12-31 23:59:00+08', 'It was installed at 2026-01-01 00:00:00+08.',
  'Check the reading''s time and the meter: a reading before the installation belongs to the meter it replaced.',
  'a reading before the installation');
SELECT th.refuses(format($$SELECT leasemgr.record_reading(%s, NULL, 1, 'iot')$$, :m1),
  'LM011', 'record_reading needs a meter, a moment, a value, a source and a register', 'NULL was passed for read_at.',
  'Pass every argument; register defaults to total.', 'a missing argument');
SELECT th.refuses(format($$SELECT leasemgr.record_reading(%s, '2026-03-05 00:00+08', 100000, 'manual')$$, :m1),
  'LM016', 'meter E-0301 cannot show 100000.000', 'Its register has 5 digits before the decimal point: it shows less than 100000.',
  'Check the reading (a digit too many?) and the meter''s digits.', 'a value the register cannot show');
SELECT throws_ok(format($$INSERT INTO leasemgr.meter_reading (park_id, meter_id, read_at, value, source)
                          VALUES (%s, %s, '2026-03-05 00:00+08', 'NaN', 'iot')$$, :park, :m1),
  '23514', NULL, 'NaN cannot come in through the bulk path either');

-- ---- replacement -----------------------------------------------------------------------------
SELECT leasemgr.record_reading(:m1, '2026-04-10 09:00+08', 1500, 'photo', photo_sha256 => repeat('cd', 32)) AS final \gset
SELECT th.refuses(format($$UPDATE leasemgr.meter SET removed_at = '2026-04-10 08:59+08' WHERE id = %s$$, :m1),
  'LM017', 'meter E-0301 cannot be removed at 2026-04-10 08:59:00+08, before its last reading',
  'Its last reading was read at 2026-04-10 09:00:00+08.',
  'The final reading is taken when the meter comes off: remove it at or after that reading.', 'removal before the final reading');
SELECT th.refuses(format($$INSERT INTO leasemgr.meter (park_id, code, unit_id, kind, digits, replaces_id, installed_at)
                           VALUES (%s, 'E-0301b', %s, 'electricity', 6, %s, '2026-04-10 09:30+08')$$, :park, :u1, :m1),
  'LM017', 'meter E-0301b cannot replace E-0301 before E-0301 is removed',
  'E-0301b is installed at 2026-04-10 09:30:00+08; E-0301 is still in service.',
  'Take the final reading of the old meter, set its removed_at, then install the new one at or after that moment.',
  'a replacement while the old meter is in service');
UPDATE leasemgr.meter SET removed_at = '2026-04-10 09:10+08' WHERE id = :m1;
SELECT th.refuses(format($$INSERT INTO leasemgr.meter (park_id, code, unit_id, kind, digits, replaces_id, installed_at)
                           VALUES (%s, 'E-0301b', %s, 'electricity', 6, %s, '2026-04-10 09:30+08')$$, :park, :u2, :m1),
  'LM017', 'meter E-0301b cannot replace E-0301',
  format('E-0301 is a electricity meter of unit %s; E-0301b is a electricity meter of unit %s.', :u1, :u2),
  'A replacement measures what the old meter measured: same kind, same unit.', 'a replacement on another unit');
INSERT INTO leasemgr.meter (park_id, code, unit_id, kind, digits, replaces_id, installed_at)
VALUES (:park, 'E-0301b', :u1, 'electricity', 6, :m1, '2026-04-10 09:30+08') RETURNING id AS m1b \gset
SELECT th.refuses(format($$SELECT leasemgr.record_reading(%s, '2026-04-11 00:00+08', 1510, 'iot')$$, :m1),
  'LM016', 'meter E-0301 was removed at 2026-04-10 09:10:00+08, before this reading at 2026-04-11 00:00:00+08',
  'It was replaced by meter E-0301b.', 'Record the reading on the meter in service at that moment.',
  'a reading on a removed meter names its replacement');
SELECT lives_ok(format($$SELECT leasemgr.record_reading(%s, '2026-04-10 09:30+08', 0, 'photo', photo_sha256 => '%s')$$,
                       :m1b, repeat('ef', 32)), 'the new meter starts with its install reading');

-- ---- the rules of a meter ----------------------------------------------------------------------
SELECT th.refuses(format($$DELETE FROM leasemgr.meter WHERE id = %s$$, :m1),
  'LM017', 'meter E-0301 has readings and cannot be deleted', 'Its last reading was read at 2026-04-10 09:00:00+08.',
  'Set removed_at to take it out of service; readings are kept for the bills they explain.', 'a meter with readings is never deleted');
SELECT th.refuses(format($$UPDATE leasemgr.meter SET multiplier = 80 WHERE id = %s$$, :m1b),
  'LM017', 'meter E-0301b has readings: its unit, kind, registers, multiplier, digits and installation time are fixed',
  'Its readings (the last read at 2026-04-10 09:30:00+08) were taken with the meter as it is.',
  'When a meter is replaced or reconfigured, set removed_at on this one and add a new meter with replaces_id pointing at it.',
  'the multiplier of a meter with readings cannot change');
SELECT lives_ok(format($$UPDATE leasemgr.meter SET multiplier = 80 WHERE id = %s$$, :wmain),
  'a meter without readings can still be corrected');
SELECT th.refuses(format($$INSERT INTO leasemgr.meter (park_id, code, kind, digits, parent_id, installed_at)
                           VALUES (%s, 'E-SUB', 'electricity', 6, %s, '2026-01-01')$$, :park, :wmain),
  'LM017', 'meter E-SUB (electricity) cannot be a sub-meter of W-MAIN (water)', '',
  'A sub-meter measures part of what its parent measures: same kind.', 'a sub-meter of another kind');
INSERT INTO leasemgr.meter (park_id, code, kind, digits, parent_id, installed_at)
VALUES (:park, 'W-SUB', 'water', 6, :wmain, '2026-01-01') RETURNING id AS wsub \gset
SELECT th.refuses(format($$UPDATE leasemgr.meter SET parent_id = %s WHERE id = %s$$, :wsub, :wmain),
  'LM017', 'meter W-MAIN cannot be a sub-meter of W-SUB: W-SUB is downstream of W-MAIN', '',
  'Sub-metering is a tree: a meter cannot be upstream of itself.', 'no cycles of sub-meters');
SELECT th.refuses(format($$UPDATE leasemgr.meter SET park_id = %s WHERE id = %s$$, :other_park, :wsub),
  'LM007', 'meter W-SUB cannot move to another park', '', 'Install a new meter in the other park.',
  'a meter stays in its park');
SELECT throws_ok(format($$INSERT INTO leasemgr.meter (park_id, code, kind, digits, installed_at) VALUES (%s, 'X', 'electricity', 13, now())$$, :park),
  '23514', NULL, 'digits beyond 12 are refused by a constraint');

-- ---- the bulk path: checked once per statement ---------------------------------------------------
SELECT lives_ok(format($$INSERT INTO leasemgr.meter_reading (park_id, meter_id, read_at, value, source)
                         SELECT %s, %s, '2026-04-10 09:30+08'::timestamptz + g * interval '15 minutes', g * 0.25, 'iot'
                           FROM generate_series(1, 500) g$$, :park, :m1b),
  'a batch of 500 IoT readings goes in with one statement');
SELECT is((SELECT count(*) FROM leasemgr.meter_reading WHERE meter_id = :m1b), 501::bigint, '... all of them');
SELECT th.refuses(format($$INSERT INTO leasemgr.meter_reading (park_id, meter_id, read_at, value, source)
                           SELECT %s, %s, '2026-05-10 00:00+08'::timestamptz + g * interval '15 minutes', 200 + g, 'iot'
                             FROM generate_series(1, 100) g
                           UNION ALL SELECT %s, %s, '2026-05-09 00:00+08', 1, 'iot'$$, :park, :m1b, :park, :m1),
  'LM016', 'meter E-0301 was removed at 2026-04-10 09:10:00+08, before this reading at 2026-05-09 00:00:00+08',
  'It was replaced by meter E-0301b.', 'Record the reading on the meter in service at that moment.',
  'one bad row in a batch fails the batch with the meter rule''s words');
SELECT th.refuses(format($$INSERT INTO leasemgr.meter_reading (park_id, meter_id, read_at, value, source)
                           VALUES (%s, %s, '2026-05-09 00:00+08', 1, 'iot')$$, :other_park, :m1b),
  'LM007', format('a reading of meter E-0301b must be of park %s, not %s', :park, :other_park), '',
  'Take park_id from the meter.', 'a reading of another park''s meter');
SELECT throws_ok(format($$INSERT INTO leasemgr.meter_reading (park_id, meter_id, read_at, value, source)
                          SELECT %s, %s, '2026-05-10 00:00+08'::timestamptz + g * interval '1 minute', 300, 'iot'
                            FROM generate_series(1, 3) g, generate_series(1, 2)$$, :park, :m1b),
  '23505', NULL, 'a batch with the same reading twice is refused whole: nothing is counted twice');

-- An operator's import cannot say who recorded it or when: the lag is measured from the stamps.
CREATE ROLE mr_gateway IN ROLE leasemgr_operator;
SELECT leasemgr.grant_park('mr_gateway', :park);
SET LOCAL leasemgr.actor = 'gateway-7';
SET LOCAL ROLE mr_gateway;
SELECT throws_ok(format($$INSERT INTO leasemgr.meter_reading (park_id, meter_id, read_at, value, source, recorded_at)
                          VALUES (%s, %s, '2026-04-20 00:00+08', 1, 'iot', '2026-04-20 00:01+08')$$, :park, :m1b),
  '42501', NULL, 'an import by an operator cannot backdate recorded_at (the stamps are not its columns to write)');
SELECT lives_ok(format($$INSERT INTO leasemgr.meter_reading (park_id, meter_id, read_at, value, source)
                         VALUES (%s, %s, '2026-04-20 00:00+08', 400, 'iot')$$, :park, :m1b),
  'the same reading without stamps goes in');
SELECT throws_ok(format($$INSERT INTO leasemgr.meter_reading (id, park_id, meter_id, read_at, value, source)
                          VALUES (1, %s, %s, '2026-04-21 00:00+08', 401, 'iot')$$, :park, :m1b),
  '42501', NULL, 'an operator cannot choose a reading''s id');
SELECT throws_ok($$SELECT leasemgr.meter_reading_partitions('2036-01-01', '2036-01-01')$$,
  '42501', NULL, 'partitions are made by admins and jobs, not by operators');
RESET ROLE;
SET LOCAL leasemgr.actor = '';
SELECT is((SELECT recorded_by FROM leasemgr.meter_reading WHERE meter_id = :m1b AND value = 400), 'gateway-7',
          '... stamped with who sent it');
DELETE FROM before_refusals; INSERT INTO before_refusals SELECT count(*) FROM leasemgr.meter_reading;

-- ---- voiding -------------------------------------------------------------------------------------
SELECT th.refuses(format($$DELETE FROM leasemgr.meter_reading WHERE id = %s$$, :r1),
  'LM010', 'meter readings are never deleted', format('Reading %s of meter %s at 2026-03-01 00:00:00+08.', :r1, :m1),
  'Void a wrong reading: UPDATE leasemgr.meter_reading SET voided_at = now(), void_reason = ''...''.', 'a reading is never deleted');
SELECT th.refuses(format($$UPDATE leasemgr.meter_reading SET value = 1 WHERE id = %s$$, :r1),
  'LM010', 'a meter reading can only be voided, once', format('Reading %s of meter %s at 2026-03-01 00:00:00+08.', :r1, :m1),
  'Set voided_at and void_reason and nothing else; record the right value as a new reading.', 'nor changed');
UPDATE leasemgr.meter_reading SET voided_at = now(), void_reason = 'misread digit' WHERE id = :r1;
SELECT is((SELECT action || ' ' || (new_values ->> 'void_reason') FROM leasemgr.audit_log
            WHERE table_name = 'meter_reading' AND row_id = :r1), 'UPDATE misread digit',
          'voiding is in the audit trail, under meter_reading');
SELECT is((th.error_of(format($$UPDATE leasemgr.meter_reading SET voided_at = now(), void_reason = 'again' WHERE id = %s$$, :r1))).code,
  'LM010', 'a reading is voided once');

-- ---- partitions ------------------------------------------------------------------------------------
-- A month without a partition: rows land in the default partition and move in with their month.
SELECT is((SELECT count(*) FROM pg_class WHERE relname = 'meter_reading_y2026m06'), 0::bigint, 'no partition for June yet');
INSERT INTO leasemgr.meter_reading (park_id, meter_id, read_at, value, source)
VALUES (:park, :m1b, '2026-06-15 12:00+08', 900, 'iot'), (:park, :m1b, '2026-06-16 12:00+08', 910, 'iot');
SELECT is((SELECT count(*) FROM leasemgr.meter_reading_default WHERE read_at >= '2026-06-01' AND read_at < '2026-07-01'), 2::bigint,
          'June''s rows wait in the default partition');
SELECT is(leasemgr.meter_reading_partitions('2026-05-01', '2026-07-01'), 2, 'two partitions created (June, July; May exists)');
SELECT is((SELECT count(*) FROM ONLY leasemgr.meter_reading_y2026m06), 2::bigint, '... and June''s rows moved in');

-- ---- work orders: stamped, and history once closed ------------------------------------------------
SET LOCAL leasemgr.actor = 'eng.li';
INSERT INTO leasemgr.work_order (park_id, kind, subject, opened_by, opened_at)
VALUES (:park, 'inspection', 'Check the riser cupboard', 'someone.else', '2020-01-01') RETURNING id AS wo \gset
SELECT is((SELECT opened_by || ' ' || (opened_at > now() - interval '1 minute') FROM leasemgr.work_order WHERE id = :wo),
          'eng.li true', 'who opened a work order, and when, is stamped, not taken from the writer');
SELECT throws_ok(format($$UPDATE leasemgr.work_order SET subject = 'Something else' WHERE id = %s$$, :wo), 'LM010',
                 format('work order %s cannot be changed that way', :wo), 'what an order is about is fixed');
SET LOCAL leasemgr.actor = 'eng.wang';
UPDATE leasemgr.work_order SET state = 'done', note = 'cleaned', closed_by = 'nobody' WHERE id = :wo;
SELECT is((SELECT closed_by || ' ' || (closed_at IS NOT NULL) FROM leasemgr.work_order WHERE id = :wo),
          'eng.wang true', 'closing stamps who closed it');
SELECT throws_ok(format($$UPDATE leasemgr.work_order SET note = 'rewritten' WHERE id = %s$$, :wo), 'LM010', NULL,
                 'a closed work order never changes');
SELECT throws_ok(format($$DELETE FROM leasemgr.work_order WHERE id = %s$$, :wo), 'LM010', NULL,
                 'a work order is never deleted');
RESET leasemgr.actor;
SELECT is((SELECT note FROM leasemgr.work_order WHERE id = :wo), 'cleaned', '... and stays as it was closed');

SELECT * FROM finish();
ROLLBACK;
