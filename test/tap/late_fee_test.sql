-- Late fees (滞纳金): a daily rate on the principal still unpaid, from the day after the due
-- day and the grace days, up to the day before as_of; a payment stops accrual on its part from
-- the day it counts. Every amount below is worked out by hand in the comment beside it.
BEGIN;
SELECT plan(47);

\ir payment_helpers.sql

SELECT th.park('LF') AS park \gset
SELECT th.park('LF-NONE') AS bare_park \gset
-- The park default: 0.05% a day (万分之五), no grace, no cap.
INSERT INTO leasemgr.late_fee_policy (park_id, daily_rate_pct, note) VALUES (:park, 0.05, 'park default');

-- ---- the issue's example ----------------------------------------------------------------
SELECT pg_temp.contract(:park, 'LF-A') AS ca \gset
SELECT pg_temp.bill(:ca, '2026-03-01', '2026-03-05', 10000.00) AS a1 \gset

SELECT is(leasemgr.late_fee(:a1, '2026-03-01'), 0.00, 'as of a day before the due day: 0.00');
SELECT is(leasemgr.late_fee(:a1, '2026-03-05'), 0.00, 'as of the due day: 0.00');
-- Paid on 03-06 the bill owes nothing: 03-06 is the first day that accrues, and a payment
-- on as_of stops accrual that day.
SELECT is(leasemgr.late_fee(:a1, '2026-03-06'), 0.00, 'as of due + 1: 0.00 (nothing accrued before that day)');
-- 03-06 only: 10,000.00 x 0.0005 x 1 = 5.00
SELECT is(leasemgr.late_fee(:a1, '2026-03-07'), 5.00, 'as of due + 2: one day on 10,000.00 = 5.00');

SELECT leasemgr.record_payment(:ca, 4000.00, '2026-03-15', 'bank_transfer', 'LF-A-1') AS pay1 \gset
-- 03-06..03-14 = 9 days x 10,000.00 x 0.0005 = 45.00
SELECT is(leasemgr.late_fee(:a1, '2026-03-15'), 45.00, '4,000 paid 03-15: as of 03-15, 9 days on 10,000.00 = 45.00');
-- 45.00 + 03-15..03-24 = 10 days x 6,000.00 x 0.0005 = 30.00 -> 75.00, before the rest is paid
SELECT is(leasemgr.late_fee(:a1, '2026-03-25'), 75.00, 'as of 03-25 the fee owed if the rest is paid that day: 75.00');
SELECT leasemgr.record_payment(:ca, 6000.00, '2026-03-25', 'bank_transfer', 'LF-A-2') AS pay2 \gset
-- The issue: 10,000 x 0.0005 x 9 + 6,000 x 0.0005 x 10 = 45.00 + 30.00 = 75.00
SELECT is(leasemgr.late_fee(:a1, '2026-03-25'), 75.00, 'the issue''s example: 45.00 + 30.00 = 75.00');
-- Nothing is unpaid after 03-25: the fee stays 75.00 however late it is asked.
SELECT is(leasemgr.late_fee(:a1, '2026-12-31'), 75.00, 'paid in full: the fee no longer grows');
SELECT results_eq(format('SELECT amount, effective_on FROM leasemgr.payment_allocation WHERE bill_id = %s ORDER BY id', :a1),
  $$VALUES (4000.00, '2026-03-15'::date), (6000.00, '2026-03-25'::date)$$,
  'each payment counts for the bill from the day it was paid');
-- Finance charges the fee as a late-fee line: that line is owed, but never accrues a fee itself.
INSERT INTO leasemgr.bill_line (park_id, bill_id, contract_id, kind, period_start, period_end, amount, explain, line_type)
VALUES (:park, :a1, :ca, 'late_fee', '2026-03-06', '2026-03-24', 75.00, '10,000.00 x 0.05% x 9 + 6,000.00 x 0.05% x 10', 'late_fee');
SELECT is(leasemgr.late_fee(:a1, '2026-12-31'), 75.00, 'a late-fee line on the bill does not accrue a fee');

-- ---- grace days, and a contract's override of the park default --------------------------
SELECT pg_temp.contract(:park, 'LF-B') AS cb \gset
-- 0.1% a day after 5 grace days: accrual starts on due + 6
INSERT INTO leasemgr.late_fee_policy (park_id, contract_id, daily_rate_pct, grace_days)
VALUES (:park, :cb, 0.1, 5);
SELECT pg_temp.bill(:cb, '2026-04-01', '2026-04-05', 5000.00) AS b1 \gset
SELECT pg_temp.bill(:cb, '2026-05-01', '2026-05-05', 5000.00) AS b2 \gset
SELECT pg_temp.bill(:cb, '2026-06-01', '2026-06-05', 5000.00) AS b3 \gset
-- B1 in full on 04-10, the last grace day (04-06..04-10)
SELECT leasemgr.record_payment(:cb, 5000.00, '2026-04-10', 'wechat', 'LF-B-1') \gset
SELECT is(leasemgr.late_fee(:b1, '2026-12-31'), 0.00, 'paid in full on the last grace day: 0.00');
-- B2: 2,000 on 05-08 (within the grace 05-06..05-10), 3,000 on 05-20:
-- 05-11..05-19 = 9 days x 3,000.00 x 0.001 = 27.00
SELECT leasemgr.record_payment(:cb, 2000.00, '2026-05-08', 'wechat', 'LF-B-2') \gset
SELECT leasemgr.record_payment(:cb, 3000.00, '2026-05-20', 'wechat', 'LF-B-3') \gset
SELECT is(leasemgr.late_fee(:b2, '2026-12-31'), 27.00,
  'part paid within the grace: 9 days (05-11..05-19) on 3,000.00 at 0.1% = 27.00');
-- (The park default would give 05-06..05-07 2 x 5,000 x 0.0005 + 05-08..05-19 12 x 3,000 x 0.0005
-- = 5.00 + 18.00 = 23.00: 27.00 shows the contract's own policy is used.)
-- B3 unpaid: grace 06-06..06-10; 06-11 is the first day that accrues.
SELECT is(leasemgr.late_fee(:b3, '2026-06-11'), 0.00, 'as of the first day after the grace: 0.00');
-- 06-11: 5,000.00 x 0.001 x 1 = 5.00
SELECT is(leasemgr.late_fee(:b3, '2026-06-12'), 5.00, 'one day after the grace: 5,000.00 x 0.1% = 5.00');
-- 06-11..06-30 = 20 days x 5,000.00 x 0.001 = 100.00
SELECT is(leasemgr.late_fee(:b3, '2026-07-01'), 100.00, 'twenty days after the grace: 100.00');

-- ---- the cap -------------------------------------------------------------------------------
SELECT pg_temp.contract(:park, 'LF-C') AS cc \gset
-- 0.5% a day, at most 10% of the principal
INSERT INTO leasemgr.late_fee_policy (park_id, contract_id, daily_rate_pct, cap_pct) VALUES (:park, :cc, 0.5, 10);
SELECT pg_temp.bill(:cc, '2026-05-01', '2026-05-05', 1000.00) AS c1 \gset
-- 05-06..05-19 = 14 days x 1,000.00 x 0.005 = 70.00, under the cap of 100.00
SELECT is(leasemgr.late_fee(:c1, '2026-05-20'), 70.00, 'under the cap: 14 days x 5.00 = 70.00');
-- 05-06..05-25 = 20 days x 5.00 = 100.00, the cap exactly
SELECT is(leasemgr.late_fee(:c1, '2026-05-26'), 100.00, 'at the cap: 20 days x 5.00 = 100.00');
-- 05-06..06-03 = 29 days x 5.00 = 145.00 -> capped at 10% x 1,000.00 = 100.00
SELECT is(leasemgr.late_fee(:c1, '2026-06-04'), 100.00, 'over the cap: 145.00 is held at 100.00');

SELECT pg_temp.contract(:park, 'LF-D') AS cd \gset
INSERT INTO leasemgr.late_fee_policy (park_id, contract_id, daily_rate_pct, cap_pct) VALUES (:park, :cd, 0.5, 10);
SELECT pg_temp.bill(:cd, '2026-06-01', '2026-06-05', 1000.00) AS d1 \gset
SELECT leasemgr.record_payment(:cd, 600.00, '2026-06-10', 'alipay', 'LF-D-1') \gset
-- 06-06..06-09 = 4 days x 1,000.00 x 0.005 = 20.00; 06-10..06-29 = 20 days x 400.00 x 0.005 = 40.00
SELECT is(leasemgr.late_fee(:d1, '2026-06-30'), 60.00, 'after a partial payment: 20.00 + 40.00 = 60.00');
-- 20.00 + 06-10..07-30 = 51 days x 400.00 x 0.005 = 102.00 -> 122.00, capped at 10% of the
-- principal 1,000.00 (not of the 400.00 unpaid) = 100.00
SELECT is(leasemgr.late_fee(:d1, '2026-07-31'), 100.00, 'the cap is a share of the principal, not of what is unpaid');

-- ---- several partial payments, and rounding --------------------------------------------
SELECT pg_temp.contract(:park, 'LF-E') AS ce \gset
SELECT pg_temp.bill(:ce, '2026-06-01', '2026-06-05', 12000.00) AS e1 \gset
SELECT leasemgr.record_payment(:ce, 3000.00, '2026-06-10', 'bank_transfer', 'LF-E-1') \gset
SELECT leasemgr.record_payment(:ce, 3000.00, '2026-06-20', 'bank_transfer', 'LF-E-2') \gset
-- 06-06..06-09 = 4 days x 12,000.00 x 0.0005 = 24.00; 06-10..06-19 = 10 days x 9,000.00 x 0.0005 = 45.00
SELECT is(leasemgr.late_fee(:e1, '2026-06-20'), 69.00, 'two partial payments: 24.00 + 45.00 = 69.00');
SELECT leasemgr.record_payment(:ce, 6000.00, '2026-07-05', 'bank_transfer', 'LF-E-3') \gset
-- + 06-20..07-04 = 15 days x 6,000.00 x 0.0005 = 45.00 -> 114.00
SELECT is(leasemgr.late_fee(:e1, '2026-07-05'), 114.00, 'three partial payments: 24.00 + 45.00 + 45.00 = 114.00');
SELECT is(leasemgr.late_fee(:e1, '2027-01-31'), 114.00, '... and nothing more once paid');
SELECT pg_temp.bill(:ce, '2026-08-01', '2026-08-05', 1010.00) AS e2 \gset
-- 08-06: 1,010.00 x 0.0005 = 0.505 -> half-up 0.51 (half-even would say 0.50)
SELECT is(leasemgr.late_fee(:e2, '2026-08-07'), 0.51, 'half a cent rounds up: 0.505 -> 0.51');
SELECT pg_temp.bill(:ce, '2026-09-01', '2026-09-05', 3333.33) AS e3 \gset
-- 09-06..09-12 = 7 days x 3,333.33 x 0.0005 = 11.666655 -> 11.67
SELECT is(leasemgr.late_fee(:e3, '2026-09-13'), 11.67, 'rounded once at the end: 11.666655 -> 11.67');
-- 09-06..09-25 = 20 days x 3,333.33 x 0.0005 = 33.3333 -> 33.33 (rounding each day's 1.666665
-- to 1.67 first would give 33.40)
SELECT is(leasemgr.late_fee(:e3, '2026-09-26'), 33.33, 'never rounded per day: 33.3333 -> 33.33, not 20 x 1.67');

-- ---- payment on the due day ------------------------------------------------------------
SELECT pg_temp.contract(:park, 'LF-F') AS cf \gset
SELECT pg_temp.bill(:cf, '2026-07-01', '2026-07-05', 2000.00) AS f1 \gset
SELECT pg_temp.bill(:cf, '2026-08-01', '2026-08-05', 2000.00) AS f2 \gset
SELECT leasemgr.record_payment(:cf, 2000.00, '2026-07-05', 'card', 'LF-F-1') \gset
SELECT is(leasemgr.late_fee(:f1, '2026-12-31'), 0.00, 'paid in full on the due day: 0.00');
SELECT leasemgr.record_payment(:cf, 500.00, '2026-08-05', 'card', 'LF-F-2') \gset
-- 08-06..08-10 = 5 days x 1,500.00 x 0.0005 = 3.75
SELECT is(leasemgr.late_fee(:f2, '2026-08-11'), 3.75, 'part paid on the due day: 5 days on the 1,500.00 left = 3.75');

-- ---- credit counts from the bill's issue day ------------------------------------------
SELECT pg_temp.contract(:park, 'LF-G') AS cg \gset
SELECT leasemgr.record_payment(:cg, 1000.00, '2026-03-01', 'bank_transfer', 'LF-G-1') AS g_pay \gset
-- Issued late (03-20) for a due day already past (03-10): the credit meets the bill on 03-20.
SELECT pg_temp.bill(:cg, '2026-03-20', '2026-03-10', 1000.00) AS g1 \gset
SELECT is(leasemgr.apply_credit(:cg), 1000.00, 'the credit pays the late-issued bill');
SELECT is((SELECT effective_on FROM leasemgr.payment_allocation WHERE bill_id = :g1), '2026-03-20'::date,
  'the credit counts from the bill''s issue day, not the day it was paid');
-- 03-11..03-19 = 9 days x 1,000.00 x 0.0005 = 4.50
SELECT is(leasemgr.late_fee(:g1, '2026-12-31'), 4.50, 'so the days between due and issue accrue: 9 x 0.50 = 4.50');

-- ---- no fee: void bills, no policy, a rate of zero ------------------------------------
SELECT pg_temp.contract(:park, 'LF-H') AS ch \gset
SELECT pg_temp.bill(:ch, '2026-03-01', '2026-03-05', 500.00) AS h1 \gset
-- 500.00 unpaid since 03-06: 03-06..05-31 = 87 days x 0.25 = 21.75 before it is voided
SELECT is(leasemgr.late_fee(:h1, '2026-06-01'), 21.75, 'an unpaid bill accrues (87 days x 0.25 = 21.75) ...');
UPDATE leasemgr.bill SET voided_at = now(), void_reason = 'issued twice' WHERE id = :h1;
SELECT is(leasemgr.late_fee(:h1, '2026-06-01'), 0.00, '... and a void bill has no late fee');

SELECT pg_temp.contract(:bare_park, 'LF-I') AS ci \gset
SELECT pg_temp.bill(:ci, '2026-03-01', '2026-03-05', 1000.00) AS i1 \gset
SELECT is(leasemgr.late_fee(:i1, '2026-06-01'), 0.00, 'no policy for the contract or its park: 0.00');
INSERT INTO leasemgr.late_fee_policy (park_id, contract_id, daily_rate_pct) VALUES (:bare_park, :ci, 0);
SELECT is(leasemgr.late_fee(:i1, '2026-06-01'), 0.00, 'a rate of zero: 0.00');

-- ---- arguments and visibility -----------------------------------------------------------
SELECT throws_ok('SELECT leasemgr.late_fee(-1, ''2026-06-01'')', 'LM009', 'bill -1 does not exist',
  'an unknown bill is LM009');
SELECT is(leasemgr.late_fee(NULL, '2026-06-01'), NULL, 'STRICT: a NULL bill gives NULL');
SELECT is(leasemgr.late_fee(:a1, NULL), NULL, 'STRICT: a NULL day gives NULL');
SELECT throws_ok(format('SELECT leasemgr.late_fee(%s, ''infinity'')', :a1), 'LM011', 'as_of must be a calendar day, not infinity',
  'as_of infinity is refused');
CREATE ROLE lm_t_lf_other LOGIN IN ROLE leasemgr_reader;
SELECT leasemgr.grant_park('lm_t_lf_other', :bare_park);
SET ROLE lm_t_lf_other;
SELECT throws_ok(format('SELECT leasemgr.late_fee(%s, ''2026-06-01'')', :a1), 'LM009', format('bill %s does not exist', :a1),
  'a bill of a park not granted is not found, exactly like a bill that does not exist');
SELECT is(leasemgr.late_fee(:i1, '2026-06-01'), 0.00, 'a reader of the park computes its late fees');
RESET ROLE;

-- ---- the policy table -------------------------------------------------------------------
SELECT throws_ok(format('INSERT INTO leasemgr.late_fee_policy (park_id, daily_rate_pct) VALUES (%s, 0.03)', :park),
  '23505', NULL, 'one default policy per park');
SELECT throws_ok(format('INSERT INTO leasemgr.late_fee_policy (park_id, contract_id, daily_rate_pct) VALUES (%s, %s, 0.03)', :park, :cb),
  '23505', NULL, 'one override per contract');
SELECT throws_ok(format('INSERT INTO leasemgr.late_fee_policy (park_id, daily_rate_pct) VALUES (%s, -0.01)', :bare_park),
  '23514', NULL, 'a negative daily rate is refused');
SELECT throws_ok(format('INSERT INTO leasemgr.late_fee_policy (park_id, daily_rate_pct, cap_pct) VALUES (%s, 0.05, 0)', :bare_park),
  '23514', NULL, 'a cap of 0% is refused (no cap is NULL)');
SELECT throws_ok(format('INSERT INTO leasemgr.late_fee_policy (park_id, contract_id, daily_rate_pct) VALUES (%s, %s, 0.05)', :bare_park, :ca),
  '23503', NULL, 'an override names a contract of its own park');
SELECT is((SELECT count(*)::int FROM leasemgr.audit_log WHERE table_name = 'late_fee_policy' AND action = 'INSERT'), 5,
  'policies are audited: the park default and the overrides of B, C, D and I');

SELECT * FROM finish();
ROLLBACK;
