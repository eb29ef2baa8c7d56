-- Move-out and renewal. A lease moves out only with a final reading of every meter of its
-- units, and closes only with its final bill issued, nothing unpaid and its deposit settled;
-- each refusal lists what is missing. A renewal is drafted from the lease in force and, when it
-- activates, takes over the old lease's unpaid balance and deposit; the old lease closes
-- without a move-out.
BEGIN;
SELECT plan(38);

SELECT th.park('MO') AS park \gset
CREATE FUNCTION pg_temp.as(p_actor text) RETURNS void LANGUAGE sql AS $$
  SELECT set_config('leasemgr.actor', p_actor, true)
$$;

-- ---- move-out ---------------------------------------------------------------------------------

-- 2025, 100 m2 at 80.0000 = 8,000.00 a month, with an electricity meter, expired.
SELECT th.unit(:park, 'MO-101', 100) AS u \gset
SELECT th.draft(:park, 'MO-1', ARRAY[:u]::bigint[], '2025-01-01', '2025-12-31') AS c \gset
INSERT INTO leasemgr.meter (park_id, code, unit_id, kind, digits, installed_at)
VALUES (:park, 'E-MO-101', :u, 'electricity', 6, '2024-12-01 00:00+08') RETURNING id AS m \gset
SELECT th.walk(:c, 'expired');
SELECT th.refuses(format($$SELECT leasemgr.contract_transition(%s, 'start_move_out')$$, :c),
  'LM002', 'contract MO-1 cannot start its move-out yet',
  'Missing: a final reading (photo or IoT) on or after 2025-12-31 of meter E-MO-101 (unit MO-101).',
  'Record the final readings (leasemgr.record_reading, source photo or iot), then start the move-out.',
  'no move-out without a final reading of every meter');
SELECT leasemgr.record_reading(:m, '2025-12-30 18:00+08', 1520.5, 'iot');
SELECT is((th.error_of(format($$SELECT leasemgr.contract_transition(%s, 'start_move_out')$$, :c))).code, 'LM002',
  'a reading before the last day is not the final one');
SELECT leasemgr.record_reading(:m, '2025-12-31 20:00+08', 1544.0, 'manual');
SELECT is((th.error_of(format($$SELECT leasemgr.contract_transition(%s, 'start_move_out')$$, :c))).code, 'LM002',
  'a hand-entered reading is not a final reading: photo or IoT');
SELECT leasemgr.record_reading(:m, '2026-01-02 09:00+08', 1544.5, 'iot');
SELECT is(leasemgr.contract_transition(:c, 'start_move_out'), 'moving_out', 'with its final reading, the move-out starts');

-- Closing: the final bill first.
SELECT th.refuses(format($$SELECT leasemgr.contract_transition(%s, 'close')$$, :c),
  'LM002', 'contract MO-1 cannot be closed yet',
  format('Missing: charge %s (rent) not billed yet: its last day is 2025-12-31.', (SELECT id FROM leasemgr.charge WHERE contract_id = :c)),
  'Run the bill run for the last month, collect or deduct what is unpaid (leasemgr.deposit_deduct), refund the rest of the deposit, then close.',
  'no close before the final bill');
SELECT leasemgr.bill_run('2025-11-01', :park);
SELECT alike((th.error_of(format($$SELECT leasemgr.contract_transition(%s, 'close')$$, :c))).detail,
  '%billed only through 2025-11-30: its last day is 2025-12-31%', 'a bill short of the last month is not the final bill');
SELECT leasemgr.bill_run('2025-12-01', :park);
SELECT pg_temp.as('fin.a');
SELECT leasemgr.deposit_receive(:c, 16000.00, '2025-01-01', 'DEP-MO-1');
-- 12 x 8,000.00 = 96,000.00 billed; 90,000.00 paid: 6,000.00 unpaid, and the deposit 16,000.00
SELECT leasemgr.record_payment(:c, 90000.00, '2025-12-20', 'bank_transfer', 'MO-P1');
SELECT is((th.error_of(format($$SELECT leasemgr.contract_transition(%s, 'close')$$, :c))).detail,
  format('Missing: 6,000.00 CNY unpaid on bill %s; a deposit of 16,000.00 CNY still held (refund it, deduct from it, or both).',
         (SELECT max(id) FROM leasemgr.bill WHERE contract_id = :c)),
  'no close with money open: 96,000 - 90,000 = 6,000.00 unpaid (on the last bill: payments go oldest first), and the deposit held');
-- The unpaid 6,000.00 is taken from the deposit; 10,000.00 is kept for damage.
SELECT leasemgr.deposit_deduct(:c, 6000.00, 'unpaid_rent', 'December rent');
SELECT leasemgr.deposit_deduct(:c, 10000.00, 'damage', 'floor replaced, invoice F-77');
SELECT is(leasemgr.close_blockers(:c), NULL, 'nothing is missing any more: 16,000 - 6,000 - 10,000 = 0 held');
SELECT is(leasemgr.contract_transition(:c, 'close'), 'closed', 'the lease closes');

-- ---- renewal ----------------------------------------------------------------------------------

SELECT th.unit(:park, 'MO-201', 100) AS u2 \gset
SELECT th.draft(:park, 'MO-2', ARRAY[:u2]::bigint[], '2025-01-01', '2025-12-31') AS o \gset
UPDATE leasemgr.charge SET escalation = 'pct', escalate_every_months = 6, escalation_pct = 5 WHERE contract_id = :o;
SELECT th.walk(:o, 'active');
SELECT leasemgr.bill_run('2025-12-01', :park);
-- January..June 8,000.00, July..December 8,400.00: 48,000 + 50,400 = 98,400.00; 92,400.00 paid
SELECT leasemgr.record_payment(:o, 92400.00, '2025-12-20', 'bank_transfer', 'MO-P2');
SELECT leasemgr.deposit_receive(:o, 16800.00, '2025-01-01', 'DEP-MO-2');
SELECT th.refuses(format($$SELECT leasemgr.renew(%s, '2025-12-01')$$, :o),
  'LM012', 'the renewal of contract MO-2 cannot end on 2025-12-01',
  'It starts on 2026-01-01, the day after the end of MO-2.', 'Give the last day of the renewal, on or after its first day.',
  'a renewal ends after it starts');
SELECT is((th.error_of(format($$SELECT leasemgr.renew(%s, '2027-12-31', '{"rent": 1}')$$, :o))).code, 'LM011', 'unknown changes are refused');
SELECT is((th.error_of(format($$SELECT leasemgr.renew(%s, '2027-12-31')$$, :c))).code, 'LM001', 'a closed lease is not renewed');
SELECT leasemgr.renew(:o, '2027-12-31') AS r \gset
SELECT results_eq(format('SELECT code, state, start_date, end_date, renews_contract_id FROM leasemgr.contract WHERE id = %s', :r),
  format($$VALUES ('MO-2-R', 'draft', '2026-01-01'::date, '2027-12-31'::date, %s::bigint)$$, :o),
  'a draft successor from the day after the end, renewing it');
SELECT results_eq(format('SELECT unit_id, billable_area_m2 FROM leasemgr.contract_unit WHERE contract_id = %s', :r),
  format('VALUES (%s::bigint, 100.00)', :u2), 'for the same unit and area');
-- The rent in force on 2025-12-31: 80 x 1.05 = 84.0000, stepping again from 2026-01-01.
SELECT results_eq(format('SELECT rate, valid_from, valid_to, escalation_anchor FROM leasemgr.charge WHERE contract_id = %s', :r),
  $$VALUES (84.0000::numeric, '2026-01-01'::date, '2027-12-31'::date, '2026-01-01'::date)$$,
  'the rent at the rate in force on the last day: 80 x 1.05 = 84.0000, its steps counted from the renewal''s start');
SELECT is((th.error_of(format($$SELECT leasemgr.renew(%s, '2027-12-31')$$, :o))).code, 'LM002', 'a second renewal is refused');
SELECT is((th.error_of(format($$SELECT leasemgr.contract_transition(%s, 'renewed')$$, :o))).code, 'LM001',
  'an active lease does not close for its renewal (it expires first)');

-- The renewal activates (its start has come): the old lease hands over and closes.
SELECT th.walk(:r, 'active');
SELECT is((SELECT state FROM leasemgr.contract WHERE id = :o), 'closed', 'the old lease is closed, without a move-out');
SELECT results_eq(format($$SELECT event, to_state FROM leasemgr.contract_timeline(%s) WHERE event IN ('expire', 'renewed')$$, :o),
  $$VALUES ('expire', 'expired'), ('renewed', 'closed')$$, 'it expired and closed for its renewal, on its timeline');
SELECT is(leasemgr.deposit_balance(:o), 0.00, 'its deposit left it');
SELECT is(leasemgr.deposit_balance(:r), 16800.00, 'and the renewal holds it: 16,800.00 carried over');
-- 98,400.00 - 92,400.00 = 6,000.00 brought forward
SELECT is((SELECT sum(amount - paid) FROM leasemgr.bill WHERE contract_id = :o AND voided_at IS NULL), 0.00,
  'nothing is left unpaid on the old lease');
SELECT alike((SELECT explain FROM leasemgr.bill_line WHERE contract_id = :r AND line_type = 'adjustment'),
  'balance brought forward from MO-2: 6,000.00 unpaid on bill %', 'the renewal owes the 6,000.00 brought forward');
SELECT is((SELECT sum(amount) FROM leasemgr.bill WHERE contract_id = :r), 6000.00, '6,000.00 on the renewal''s bill');
SELECT is((th.error_of(format($$SELECT leasemgr.record_payment(%s, 100, '2026-01-05', 'bank_transfer', 'MO-LATE')$$, :o))).code, 'LM002',
  'a payment for the lease closed for its renewal is refused: its tenant pays the renewal');
SELECT is(leasemgr.record_payment(:o, 92400.00, '2025-12-20', 'bank_transfer', 'MO-P2'),
          (SELECT id FROM leasemgr.payment WHERE reference = 'MO-P2'),
  'a payment recorded before, told again, still returns the first one');

-- A chain of renewals: the old lease's last bill goes to the lease in force at the end of it.
SELECT th.park('MC') AS mc \gset
INSERT INTO leasemgr.late_fee_policy (park_id, daily_rate_pct, grace_days) VALUES (:mc, 0.05, 5);
SELECT th.draft(:mc, 'MC-1', ARRAY[th.unit(:mc, 'MC-101', 100)], '2024-01-01', '2024-12-31') AS m1 \gset
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, billed) VALUES (:m1, 'parking', 'fixed_month', 500, 'arrears');
SELECT th.walk(:m1, 'active');
SELECT leasemgr.bill_run('2024-12-01', :mc);
-- and a bill long past due, with late fees accruing
INSERT INTO leasemgr.bill (park_id, contract_id, period, issued_on, due_on, issued_by)
VALUES (:mc, :m1, '2024-11-01', '2024-11-01', '2024-11-05', 'th.finance') RETURNING id AS mb \gset
INSERT INTO leasemgr.bill_line (park_id, bill_id, contract_id, kind, period_start, period_end, amount, explain, line_type)
VALUES (:mc, :mb, :m1, 'other', '2024-11-01', '2024-11-30', 1000.00, 'cleaning November', 'adjustment');
SELECT leasemgr.renew(:m1, '2025-12-31') AS m2 \gset
SELECT th.walk(:m2, 'active');
SELECT leasemgr.renew(:m2, '2026-12-31') AS m3 \gset
SELECT th.walk(:m3, 'active');
SELECT is((SELECT array_agg(state ORDER BY id) FROM leasemgr.contract WHERE id IN (:m1, :m2, :m3)), '{expired,expired,active}',
  'two leases wait for their last parking month to be billed');
SELECT leasemgr.bill_run('2026-01-01', :mc);
SELECT leasemgr.run_daily();
SELECT is((SELECT array_agg(state ORDER BY id) FROM leasemgr.contract WHERE id IN (:m1, :m2, :m3)), '{closed,closed,active}',
  'billed, both are handed over and closed');
SELECT is((SELECT count(*)::int FROM leasemgr.bill_line WHERE contract_id = :m3 AND explain LIKE 'balance brought forward from MC-1:%'), 1,
  'the first lease''s December parking went to the lease in force at the end of the chain');
SELECT ok((SELECT sum(amount) FROM leasemgr.bill_line WHERE contract_id = :m3 AND kind = 'late_fee_brought_forward') > 0,
  'the late fees the old leases owed came along, as late fees');
SELECT is((SELECT count(*)::int FROM leasemgr.bill_line WHERE contract_id IN (:m2, :m3) AND kind = 'late_fee' AND amount < 0), 0,
  'and the next posting does not take them back (they are not the renewal''s own postings)');

-- A lease with a charge billed in arrears: the renewal takes its money over at once, but the
-- old lease closes only once its last month is billed (the daily job hands that over too).
SELECT th.unit(:park, 'MO-301', 100) AS u3 \gset
SELECT th.draft(:park, 'MO-3', ARRAY[:u3]::bigint[], '2025-01-01', '2025-12-31') AS o3 \gset
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, billed) VALUES (:o3, 'parking', 'fixed_month', 500, 'arrears');
SELECT th.walk(:o3, 'active');
SELECT leasemgr.bill_run('2025-12-01', :park);
SELECT leasemgr.renew(:o3, '2026-12-31') AS r3 \gset
SELECT th.walk(:r3, 'active');
SELECT is((SELECT state FROM leasemgr.contract WHERE id = :o3), 'expired', 'not closed while its December parking is not billed');
SELECT leasemgr.bill_run('2026-01-01', :park);
SELECT leasemgr.run_daily();
SELECT is((SELECT state FROM leasemgr.contract WHERE id = :o3), 'closed', 'billed, handed over and closed by the daily job');
-- the old lease's last bills are unpaid: 12 x 8,000.00 + 11 x 500.00 (January..November
-- parking) + 500.00 (December parking) = 102,000.00, all brought forward
SELECT is((SELECT sum(amount) FROM leasemgr.bill_line WHERE contract_id = :r3 AND explain LIKE 'balance brought forward from MO-3%'),
  102000.00, 'everything the old lease billed and was not paid is brought forward: 96,000 + 6,000 = 102,000.00');

-- A "renewal" of another tenant cannot take a lease's money.
SELECT th.unit(:park, 'MO-401', 100) AS u4 \gset
SELECT th.draft(:park, 'MO-4', ARRAY[:u4]::bigint[], '2025-01-01', '2025-12-31') AS o4 \gset
SELECT th.walk(:o4, 'expired');
SELECT leasemgr.deposit_receive(:o4, 5000.00, '2025-01-01', 'DEP-MO-4');
SELECT th.draft(:park, 'MO-X', ARRAY[th.unit(:park, 'MO-402')]::bigint[], '2026-01-01', '2026-12-31') AS fake \gset
UPDATE leasemgr.contract SET renews_contract_id = :o4 WHERE id = :fake;
SELECT is((th.error_of(format($$SELECT th.walk(%s, 'active')$$, :fake))).code, 'LM002',
  'a contract of another tenant naming the lease as the one it renews cannot take its deposit');
SELECT is(leasemgr.deposit_balance(:o4), 5000.00, 'the deposit stays');

SET CONSTRAINTS leasemgr.deposit_carry_check IMMEDIATE;
SELECT is((th.error_of(format($$INSERT INTO leasemgr.deposit_txn (contract_id, kind, amount, related_contract_id) VALUES (%s, 'carried_in', 100, %s)$$, :r, :o))).code,
  'LM021', 'a deposit is not carried into a renewal without being carried out of the old lease');
SET CONSTRAINTS leasemgr.deposit_carry_check DEFERRED;
SELECT is((th.error_of(format($$UPDATE leasemgr.contract SET state = 'closed' WHERE id = %s$$, th.contract_in(:park, 'expired')))).code,
  'LM002', 'a lease without an active renewal does not close for one');

SELECT * FROM finish();
ROLLBACK;
