-- Payments: recorded once per (channel, reference), never lost (also for a frozen or ended
-- contract), allocated oldest due principal first, then late fees, the rest kept as credit;
-- the ledgers never change. Every amount is worked out by hand in the comment beside it.
BEGIN;
SELECT plan(99);

\ir payment_helpers.sql

SELECT th.park('PY') AS park \gset
SELECT th.park('PY-OTHER') AS other_park \gset

-- ---- a payment pays a bill --------------------------------------------------------------
SELECT pg_temp.contract(:park, 'PY-1') AS c1 \gset
SELECT pg_temp.bill(:c1, '2026-03-01', '2026-03-05', 3000.00) AS b1 \gset
SELECT is((SELECT state FROM leasemgr.bill WHERE id = :b1), 'open', 'a new bill is open');
SELECT leasemgr.record_payment(:c1, 1000.00, '2026-03-03', 'wechat', 'WX-0001') AS p1 \gset
SELECT results_eq(format('SELECT * FROM pg_temp.allocations(%s)', :p1),
  format($$VALUES (%s::bigint, 'principal', 1000.00, '2026-03-03'::date)$$, :b1),
  'the payment is allocated to the bill''s principal from the day it was paid');
-- 3,000.00 - 1,000.00 = 2,000.00 still open
SELECT results_eq(format('SELECT amount, paid, state FROM leasemgr.bill WHERE id = %s', :b1),
  $$VALUES (3000.00, 1000.00, 'partially_paid')$$, 'bill.paid follows: 1,000.00 of 3,000.00, partially paid');
SELECT results_eq(format('SELECT park_id, amount, unallocated, recorded_by FROM leasemgr.payment WHERE id = %s', :p1),
  format($$VALUES (%s::bigint, 1000.00, 0.00, %L)$$, :park, session_user),
  'the payment takes the contract''s park, is fully allocated and names who recorded it');
SELECT leasemgr.record_payment(:c1, 2000.00, '2026-03-04', 'wechat', 'WX-0002') AS p2 \gset
-- 1,000.00 + 2,000.00 = 3,000.00 = the amount
SELECT results_eq(format('SELECT paid, state FROM leasemgr.bill WHERE id = %s', :b1),
  $$VALUES (3000.00, 'paid')$$, 'the second payment settles it: 3,000.00 paid');

-- ---- the same reference twice -------------------------------------------------------------
SELECT count(*) AS payments_before FROM leasemgr.payment \gset
SELECT count(*) AS allocations_before FROM leasemgr.payment_allocation \gset
SELECT is(leasemgr.record_payment(:c1, 1000.00, '2026-03-03', 'wechat', 'WX-0001'), :p1::bigint,
  'the same payment again returns the first id');
SELECT is(leasemgr.record_payment(:c1, 1000, '2026-03-03', 'wechat', '  WX-0001 '), :p1::bigint,
  '... also written 1000 and with spaces around the reference');
SELECT is((SELECT count(*) FROM leasemgr.payment), :payments_before::bigint, '... and records no payment');
SELECT is((SELECT count(*) FROM leasemgr.payment_allocation), :allocations_before::bigint, '... and no allocation');
SELECT results_eq(
  format($$SELECT code, message, detail, hint FROM th.error_of('SELECT leasemgr.record_payment(%s, 1500.00, ''2026-03-03'', ''wechat'', ''WX-0001'')')$$, :c1),
  format($$VALUES ('LM014', 'wechat reference WX-0001 is already recorded as another payment',
            'Payment %s with this reference is 1,000.00 CNY received on 2026-03-03 for contract PY-1; this call says 1,500.00 CNY on 2026-03-03 for contract PY-1.',
            'A reference identifies one payment. Check the reference; if both payments are real, the channel''s references must differ.')$$, :p1),
  'the same reference with another amount: LM014 naming the first payment''s contract, amount and date');
SELECT throws_ok(format('SELECT leasemgr.record_payment(%s, 1000.00, ''2026-03-02'', ''wechat'', ''WX-0001'')', :c1),
  'LM014', NULL, 'the same reference on another day: LM014');
SELECT pg_temp.contract(:park, 'PY-1B') AS c1b \gset
SELECT throws_ok(format('SELECT leasemgr.record_payment(%s, 1000.00, ''2026-03-03'', ''wechat'', ''WX-0001'')', :c1b),
  'LM014', NULL, 'the same reference for another contract: LM014');
SELECT is((SELECT count(*) FROM leasemgr.payment), :payments_before::bigint, 'the conflicts recorded nothing');
SELECT results_eq(format('SELECT amount, paid_on, contract_id, unallocated FROM leasemgr.payment WHERE id = %s', :p1),
  format($$VALUES (1000.00, '2026-03-03'::date, %s::bigint, 0.00)$$, :c1), '... and changed nothing');
SELECT isnt(leasemgr.record_payment(:c1b, 1000.00, '2026-03-03', 'alipay', 'WX-0001'), :p1::bigint,
  'the same reference on another channel is another payment');
SELECT isnt(leasemgr.record_payment(:c1, 1000.00, '2026-03-03', 'wechat', 'wx-0001'), :p1::bigint,
  'references are compared exactly: wx-0001 is not WX-0001');
-- Another park may hold the same reference: references are unique per park.
SELECT pg_temp.contract(:other_park, 'PY-O1') AS o1 \gset
SELECT isnt(leasemgr.record_payment(:o1, 1000.00, '2026-03-03', 'wechat', 'WX-0001'), :p1::bigint,
  'the same reference in another park is another payment');

-- ---- overpayment: credit, applied to a later bill ----------------------------------------
SELECT pg_temp.contract(:park, 'PY-2') AS c2 \gset
SELECT pg_temp.bill(:c2, '2026-03-01', '2026-03-05', 1000.00) AS b2a \gset
SELECT leasemgr.record_payment(:c2, 1500.00, '2026-03-04', 'bank_transfer', 'BT-2001') AS p3 \gset
-- 1,500.00 - 1,000.00 = 500.00 left as credit
SELECT results_eq(format('SELECT amount, unallocated FROM leasemgr.payment WHERE id = %s', :p3),
  $$VALUES (1500.00, 500.00)$$, 'overpaid by 500.00: kept as credit on the payment');
SELECT results_eq(format('SELECT paid, state FROM leasemgr.bill WHERE id = %s', :b2a),
  $$VALUES (1000.00, 'paid')$$, 'the bill is paid, not overpaid');
SELECT is(leasemgr.apply_credit(:c2), 0.00, 'apply_credit without an open bill allocates 0.00');
SELECT pg_temp.bill(:c2, '2026-04-01', '2026-04-05', 1200.00) AS b2b \gset
SELECT is(leasemgr.apply_credit(:c2), 500.00, 'apply_credit puts the 500.00 on the next bill');
SELECT results_eq(format('SELECT * FROM pg_temp.allocations(%s)', :p3),
  format($$VALUES (%s::bigint, 'principal', 1000.00, '2026-03-04'::date), (%s::bigint, 'principal', 500.00, '2026-04-01'::date)$$, :b2a, :b2b),
  'the credit counts for the later bill from its issue day (2026-04-01), not the payment''s day');
-- 1,200.00 - 500.00 = 700.00 still open; the payment has nothing left
SELECT results_eq(format('SELECT paid, state FROM leasemgr.bill WHERE id = %s', :b2b),
  $$VALUES (500.00, 'partially_paid')$$, 'the later bill is 500.00 paid');
SELECT is((SELECT unallocated FROM leasemgr.payment WHERE id = :p3), 0.00, 'the credit is used up');
SELECT is(leasemgr.apply_credit(:c2), 0.00, 'a second apply_credit finds nothing to allocate');

-- ---- allocation order: oldest due principal first, then late fees ----------------------
SELECT pg_temp.contract(:park, 'PY-3') AS c3 \gset
-- The April bill is inserted first: order follows the due day, not the id.
SELECT pg_temp.bill(:c3, '2026-04-01', '2026-04-05', 2000.00, 20.00) AS b3b \gset
SELECT pg_temp.bill(:c3, '2026-03-01', '2026-03-05', 1000.00, 50.00) AS b3a \gset
SELECT results_eq(format('SELECT id, amount FROM leasemgr.bill WHERE contract_id = %s ORDER BY due_on', :c3),
  format('VALUES (%s::bigint, 1050.00), (%s::bigint, 2020.00)', :b3a, :b3b), 'two bills: 1,000 + 50 late fee, 2,000 + 20 late fee');
SELECT leasemgr.record_payment(:c3, 3040.00, '2026-04-10', 'bank_transfer', 'BT-3001') AS p4 \gset
-- 3,040.00 = March principal 1,000.00 + April principal 2,000.00 + 40.00 of March's 50.00 late fee
SELECT results_eq(format('SELECT * FROM pg_temp.allocations(%s)', :p4),
  format($$VALUES (%s::bigint, 'principal', 1000.00, '2026-04-10'::date), (%s::bigint, 'principal', 2000.00, '2026-04-10'::date),
                  (%s::bigint, 'late_fee', 40.00, '2026-04-10'::date)$$, :b3a, :b3b, :b3a),
  'principal of both bills (oldest due first) before any late fee');
-- March: 1,000.00 + 40.00 = 1,040.00 of 1,050.00; April: 2,000.00 of 2,020.00
SELECT results_eq(format('SELECT paid, state FROM leasemgr.bill WHERE contract_id = %s ORDER BY due_on', :c3),
  $$VALUES (1040.00, 'partially_paid'), (2000.00, 'partially_paid')$$, 'bill.paid follows the allocations');
SELECT leasemgr.record_payment(:c3, 30.00, '2026-04-12', 'cash', 'RCPT-3002') AS p5 \gset
-- 30.00 = March's remaining 10.00 late fee + April's 20.00 late fee
SELECT results_eq(format('SELECT * FROM pg_temp.allocations(%s)', :p5),
  format($$VALUES (%s::bigint, 'late_fee', 10.00, '2026-04-12'::date), (%s::bigint, 'late_fee', 20.00, '2026-04-12'::date)$$, :b3a, :b3b),
  'then the late fees, oldest due first');
SELECT results_eq(format('SELECT paid, state FROM leasemgr.bill WHERE contract_id = %s ORDER BY due_on', :c3),
  $$VALUES (1050.00, 'paid'), (2020.00, 'paid')$$, 'both bills paid: 1,050.00 and 2,020.00');

-- ---- a frozen contract: recorded, kept as credit, applied after the amendment ------------
SELECT pg_temp.contract(:park, 'PY-4') AS c4 \gset
SELECT pg_temp.bill(:c4, '2026-03-01', '2026-03-05', 400.00) AS b4 \gset
SELECT pg_temp.force_state(:c4, 'amending');
SELECT leasemgr.record_payment(:c4, 300.00, '2026-03-10', 'bank_transfer', 'BT-4001') AS p6 \gset
SELECT leasemgr.record_payment(:c4, 200.00, '2026-03-01', 'bank_transfer', 'BT-4002') AS p7 \gset
SELECT results_eq(format('SELECT amount, unallocated FROM leasemgr.payment WHERE contract_id = %s ORDER BY id', :c4),
  $$VALUES (300.00, 300.00), (200.00, 200.00)$$, 'payments to an amending contract are recorded and kept whole as credit');
SELECT results_eq(format('SELECT paid, state FROM leasemgr.bill WHERE id = %s', :b4),
  $$VALUES (0.00, 'open')$$, 'nothing is allocated while the contract is frozen');
SELECT is(leasemgr.apply_credit(:c4), 0.00, 'apply_credit does nothing for an amending contract');
SELECT th.refuses(format($$INSERT INTO leasemgr.payment_allocation (park_id, payment_id, bill_id, amount, part, effective_on)
                          VALUES (%s, %s, %s, 100.00, 'principal', '2026-03-10')$$, :park, :p6, :b4),
  'LM011', format('payment %s cannot be allocated while contract %s is frozen by an amendment', :p6, :c4),
  'A frozen contract''s payments are kept whole as credit until the amendment is approved or withdrawn.',
  'Allocate after the amendment is decided; leasemgr.apply_credit does it then.',
  'an allocation written by hand to a frozen contract is refused too, and changes nothing');
SELECT pg_temp.force_state(:c4, 'active');
-- Oldest payment first: the 200.00 of 03-01 (recorded second), then 200.00 of the 300.00 of 03-10.
SELECT is(leasemgr.apply_credit(:c4), 400.00, 'after the amendment the credit pays the bill: 400.00');
SELECT results_eq(format('SELECT payment_id, amount, effective_on FROM leasemgr.payment_allocation WHERE bill_id = %s ORDER BY id', :b4),
  format($$VALUES (%s::bigint, 200.00, '2026-03-01'::date), (%s::bigint, 200.00, '2026-03-10'::date)$$, :p7, :p6),
  'the oldest payment is used first, whatever the order it was recorded in');
-- 300.00 - 200.00 = 100.00 left of the 03-10 payment
SELECT results_eq(format('SELECT id, unallocated FROM leasemgr.payment WHERE contract_id = %s ORDER BY paid_on', :c4),
  format('VALUES (%s::bigint, 0.00), (%s::bigint, 100.00)', :p7, :p6), '100.00 of the newer payment stays as credit');

-- ---- ended contracts ----------------------------------------------------------------------
SELECT pg_temp.contract(:park, 'PY-5', 'expired', '2025-01-01', '2025-12-31') AS c5 \gset
SELECT pg_temp.bill(:c5, '2025-12-01', '2025-12-05', 800.00) AS b5 \gset
SELECT leasemgr.record_payment(:c5, 800.00, '2026-01-10', 'bank_transfer', 'BT-5001') AS p8 \gset
SELECT results_eq(format('SELECT paid, state FROM leasemgr.bill WHERE id = %s', :b5),
  $$VALUES (800.00, 'paid')$$, 'a late payment for an expired contract pays its last bill');
SELECT pg_temp.contract(:park, 'PY-6', 'closed', '2025-01-01', '2025-12-31') AS c6 \gset
SELECT leasemgr.record_payment(:c6, 250.00, '2026-02-01', 'cash', 'CASH-6001') AS p9 \gset
SELECT results_eq(format('SELECT contract_id, amount, unallocated FROM leasemgr.payment WHERE id = %s', :p9),
  format('VALUES (%s::bigint, 250.00, 250.00)', :c6), 'a payment for a closed contract is recorded and kept as credit');

-- ---- bad input: a clear error, and nothing recorded --------------------------------------
SELECT count(*) AS payments_before FROM leasemgr.payment \gset
CREATE FUNCTION pg_temp.refusals(c bigint) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  cases text[][] := ARRAY[
    ['0', '''2026-03-01''', '''bank_transfer''', '''R-1''', 'LM011', 'a payment of 0'],
    ['-5', '''2026-03-01''', '''bank_transfer''', '''R-1''', 'LM011', 'a negative payment'],
    ['10.001', '''2026-03-01''', '''bank_transfer''', '''R-1''', 'LM011', 'a fraction of a cent'],
    ['''NaN''', '''2026-03-01''', '''bank_transfer''', '''R-1''', 'LM011', 'NaN'],
    ['''Infinity''', '''2026-03-01''', '''bank_transfer''', '''R-1''', 'LM011', 'Infinity'],
    ['100000000000000', '''2026-03-01''', '''bank_transfer''', '''R-1''', 'LM011', 'more than numeric(16,2) holds'],
    ['NULL', '''2026-03-01''', '''bank_transfer''', '''R-1''', 'LM011', 'a NULL amount'],
    ['10', 'NULL', '''bank_transfer''', '''R-1''', 'LM011', 'a NULL day'],
    ['10', 'leasemgr.business_date() + 1', '''bank_transfer''', '''R-1''', 'LM011', 'a day in the future'],
    ['10', '''infinity''', '''bank_transfer''', '''R-1''', 'LM011', 'paid_on infinity'],
    ['10', '''2026-03-01''', '''paypal''', '''R-1''', 'LM011', 'an unknown channel'],
    ['10', '''2026-03-01''', '''WeChat''', '''R-1''', 'LM011', 'a channel in the wrong case'],
    ['10', '''2026-03-01''', 'NULL', '''R-1''', 'LM011', 'a NULL channel'],
    ['10', '''2026-03-01''', '''cash''', '''   ''', 'LM011', 'a blank reference'],
    ['10', '''2026-03-01''', '''cash''', '''''', 'LM011', 'an empty reference'],
    ['10', '''2026-03-01''', '''cash''', 'NULL', 'LM011', 'a NULL reference']];
  i int;
BEGIN
  FOR i IN 1 .. array_length(cases, 1) LOOP
    RETURN NEXT throws_ok(format('SELECT leasemgr.record_payment(%s, %s, %s, %s, %s)', c,
                                 cases[i][1], cases[i][2], cases[i][3], cases[i][4]),
                          cases[i][5], NULL, cases[i][6] || ' is refused with ' || cases[i][5]);
  END LOOP;
END
$$;
SELECT * FROM pg_temp.refusals(:c1);
SELECT throws_ok('SELECT leasemgr.record_payment(NULL, 10, ''2026-03-01'', ''cash'', ''R-1'')', 'LM011',
  'record_payment needs a contract, an amount, a date, a channel and a reference', 'a NULL contract is refused with LM011');
SELECT results_eq(
  format($$SELECT code, message, detail, hint FROM th.error_of('SELECT leasemgr.record_payment(%s, 10, ''2026-03-01'', ''paypal'', ''R-1'')')$$, :c1),
  $$VALUES ('LM011', 'unknown payment channel "paypal"',
            'The channels are: bank_transfer, wechat, alipay, card, cash, deposit_offset.',
            'Channel names are lower case, e.g. ''bank_transfer''.')$$,
  'an unknown channel: the detail lists the channels');
SELECT results_eq(
  format($$SELECT code, message, detail FROM th.error_of('SELECT leasemgr.record_payment(%s, 0, ''2026-03-01'', ''cash'', ''R-1'')')$$, :c1),
  $$VALUES ('LM011', 'a payment must be more than zero, not 0', 'A payment records money received.')$$,
  'a payment of 0: LM011 saying so');
SELECT results_eq(
  format($$SELECT code, detail FROM th.error_of('SELECT leasemgr.record_payment(%s, NULL, ''2026-03-01'', ''cash'', NULL)')$$, :c1),
  $$VALUES ('LM011', 'NULL was passed for amount, reference.')$$,
  'NULL arguments: the detail names them');
SELECT results_eq(
  $$SELECT code, message, hint FROM th.error_of('SELECT leasemgr.record_payment(-42, 10, ''2026-03-01'', ''cash'', ''R-1'')')$$,
  $$VALUES ('LM009', 'contract -42 does not exist', 'Check the id; rows of parks you have not been granted are not visible to you.')$$,
  'an unknown contract: LM009');
SELECT is((SELECT count(*) FROM leasemgr.payment), :payments_before::bigint, 'no refused call recorded anything');

-- ---- the ledgers never change ---------------------------------------------------------------
SELECT throws_ok(format('UPDATE leasemgr.payment SET amount = 999.00 WHERE id = %s', :p1), 'LM010',
  'payment.amount cannot change once the payment is recorded', 'the amount of a payment never changes');
SELECT throws_ok(format('UPDATE leasemgr.payment SET paid_on = ''2026-03-02'' WHERE id = %s', :p1), 'LM010', NULL,
  'nor its day');
SELECT throws_ok(format('UPDATE leasemgr.payment SET reference = ''WX-9'' WHERE id = %s', :p1), 'LM010', NULL,
  'nor its reference');
SELECT throws_ok(format('UPDATE leasemgr.payment SET contract_id = %s WHERE id = %s', :c1b, :p1), 'LM010', NULL,
  'nor its contract');
SELECT throws_ok(format('UPDATE leasemgr.payment SET recorded_by = ''someone else'' WHERE id = %s', :p1), 'LM010', NULL,
  'nor who recorded it');
-- p3 paid 1,000.00 + 500.00 = all of its 1,500.00: its balance is 0.00, nothing else
SELECT results_eq(
  format($$SELECT code, message, detail FROM th.error_of('UPDATE leasemgr.payment SET unallocated = 100.00 WHERE id = %s')$$, :p3),
  format($$VALUES ('LM010', 'payment.unallocated is a balance and cannot be set to 100.00',
                   'Payment %s of 1,500.00 has 1,500.00 allocated to bills, which leaves 0.00.')$$, :p3),
  'unallocated cannot be set by hand');
SELECT lives_ok(format('UPDATE leasemgr.payment SET unallocated = 0.00 WHERE id = %s', :p3),
  'setting unallocated to its true balance is allowed (what the allocation trigger does)');
SELECT throws_ok(format('DELETE FROM leasemgr.payment WHERE id = %s', :p1), 'LM010', 'payments are never deleted',
  'a payment cannot be deleted');
SET client_min_messages = warning;   -- CASCADE (needed to reach the trigger) says what it would truncate
SELECT throws_ok('TRUNCATE leasemgr.payment CASCADE', 'LM010', NULL, 'payments cannot be truncated');
RESET client_min_messages;
SELECT throws_ok(format('UPDATE leasemgr.payment_allocation SET amount = 1.00 WHERE payment_id = %s', :p1), 'LM010',
  'leasemgr.payment_allocation is a ledger: UPDATE is not allowed', 'an allocation never changes');
SELECT throws_ok(format('DELETE FROM leasemgr.payment_allocation WHERE payment_id = %s', :p1), 'LM010',
  'leasemgr.payment_allocation is a ledger: DELETE is not allowed', 'an allocation cannot be deleted');
SELECT throws_ok('TRUNCATE leasemgr.payment_allocation', 'LM010', NULL, 'allocations cannot be truncated');
SELECT throws_ok(format('UPDATE leasemgr.bill SET paid = 0 WHERE id = %s', :b1), 'LM010',
  'bill.paid is a total and cannot be set to 0.00', 'bill.paid cannot be set by hand either');

-- ---- direct writes keep the same rules ------------------------------------------------------
SELECT throws_ok(format($$INSERT INTO leasemgr.payment (contract_id, amount, paid_on, channel, reference, unallocated)
                          VALUES (%s, 100, '2026-03-01', 'cash', 'RCPT-D1', 0)$$, :c1), 'LM010',
  'a new payment starts fully unallocated', 'a payment inserted as already allocated is refused');
SELECT lives_ok(format($$INSERT INTO leasemgr.payment (contract_id, amount, paid_on, channel, reference, recorded_by)
                         VALUES (%s, 100, '2026-03-01', 'cash', 'RCPT-D2', 'forged')$$, :c2),
  'a payment can be inserted directly');
SELECT results_eq($$SELECT park_id, unallocated, recorded_by FROM leasemgr.payment WHERE reference = 'RCPT-D2'$$,
  format($$VALUES (%s::bigint, 100.00, %L)$$, :park, session_user),
  '... it takes the contract''s park, starts as credit and is stamped with the real recorder');
SELECT throws_ok(format($$INSERT INTO leasemgr.payment (park_id, contract_id, amount, paid_on, channel, reference)
                          VALUES (%s, %s, 100, '2026-03-01', 'cash', 'RCPT-D3')$$, :other_park, :c1), 'LM007', NULL,
  'a payment naming another park than its contract''s is refused');
SELECT throws_ok($$INSERT INTO leasemgr.payment (contract_id, amount, paid_on, channel, reference)
                   VALUES (-42, 100, '2026-03-01', 'cash', 'RCPT-D4')$$, 'LM009', NULL,
  'a payment for an unknown contract is refused');
SELECT throws_ok(format($$INSERT INTO leasemgr.payment (contract_id, amount, paid_on, channel, reference)
                          VALUES (%s, 100, '2026-03-01', 'cash', ' RCPT-D5')$$, :c1), '23514', NULL,
  'a reference with spaces around it is refused (record_payment trims it)');
SELECT id AS pd FROM leasemgr.payment WHERE reference = 'RCPT-D2' \gset
-- payment pd is contract PY-2's: a bill of PY-1 is not its to pay
SELECT throws_ok(format($$INSERT INTO leasemgr.payment_allocation (park_id, payment_id, bill_id, amount, part, effective_on)
                          VALUES (%s, %s, %s, 10, 'principal', '2026-03-01')$$, :park, :pd, :b1), 'LM011',
  format('payment %s cannot pay bill %s', :pd, :b1), 'an allocation to a bill of another contract is refused');
SELECT throws_ok(format($$INSERT INTO leasemgr.payment_allocation (park_id, payment_id, bill_id, amount, part, effective_on)
                          VALUES (%s, %s, %s, 10, 'principal', '2026-03-01')$$, :park, :pd, :b2b), 'LM011',
  format('an allocation of payment %s to bill %s counts from 2026-04-01, not 2026-03-01', :pd, :b2b),
  'an allocation must count from the later of the payment''s day and the bill''s issue day');
-- b2b: 1,200.00 principal, 500.00 of it paid: 700.00 open; 800.00 is too much
SELECT throws_ok(format($$INSERT INTO leasemgr.payment_allocation (park_id, payment_id, bill_id, amount, part, effective_on)
                          VALUES (%s, %s, %s, 100, 'late_fee', '2026-04-01')$$, :park, :pd, :b2b), 'LM011',
  format('bill %s would be paid 100.00 on its late fee, which is 0.00', :b2b), 'a bill without late-fee lines takes no late-fee allocation');
SELECT pg_temp.bill(:c2, '2026-05-01', '2026-05-05', 50.00) AS b2c \gset
SELECT throws_ok(format($$INSERT INTO leasemgr.payment_allocation (park_id, payment_id, bill_id, amount, part, effective_on)
                          VALUES (%s, %s, %s, 60, 'principal', '2026-05-01')$$, :park, :pd, :b2c), 'LM011',
  format('bill %s would be paid 60.00 on its principal, which is 50.00', :b2c), 'no more principal than the bill''s lines');
SELECT pg_temp.bill(:c2, '2026-06-01', '2026-06-05', 5000.00) AS b2d \gset
SELECT throws_ok(format($$INSERT INTO leasemgr.payment_allocation (park_id, payment_id, bill_id, amount, part, effective_on)
                          VALUES (%s, %s, %s, 150, 'principal', '2026-06-01')$$, :park, :pd, :b2d), 'LM011',
  format('payment %s of 100.00 would be allocated 150.00', :pd), 'no more than the payment');
UPDATE leasemgr.bill SET voided_at = now(), void_reason = 'issued twice' WHERE id = :b2c;
SELECT throws_ok(format($$INSERT INTO leasemgr.payment_allocation (park_id, payment_id, bill_id, amount, part, effective_on)
                          VALUES (%s, %s, %s, 10, 'principal', '2026-05-01')$$, :park, :pd, :b2c), 'LM011',
  format('bill %s is void and cannot be paid', :b2c), 'a void bill takes no allocation');
-- apply_credit skips the void bill: the 100.00 of pd goes to b2b's open 700.00 (oldest due)
SELECT is(leasemgr.apply_credit(:c2), 100.00, 'apply_credit allocates the direct payment''s 100.00');
SELECT results_eq(format('SELECT * FROM pg_temp.allocations(%s)', :pd),
  format($$VALUES (%s::bigint, 'principal', 100.00, '2026-04-01'::date)$$, :b2b),
  '... to the oldest open bill, never to the void one');
SELECT throws_ok('SELECT leasemgr.apply_credit(-42)', 'LM009', 'contract -42 does not exist', 'apply_credit of an unknown contract: LM009');
SELECT throws_ok('SELECT leasemgr.apply_credit(NULL)', 'LM011', NULL, 'apply_credit of NULL: LM011');

-- ---- roles and parks ------------------------------------------------------------------------
CREATE ROLE lm_t_pay_fin LOGIN IN ROLE leasemgr_finance;
GRANT SET ON PARAMETER leasemgr.actor TO lm_t_pay_fin;   -- a finance application, acting for people
CREATE ROLE lm_t_pay_fin_other LOGIN IN ROLE leasemgr_finance;
CREATE ROLE lm_t_pay_reader LOGIN IN ROLE leasemgr_reader;
SELECT leasemgr.grant_park('lm_t_pay_fin', :park);
SELECT leasemgr.grant_park('lm_t_pay_fin_other', :other_park);
SELECT leasemgr.grant_park('lm_t_pay_reader', :park);
SELECT pg_temp.contract(:park, 'PY-7') AS c7 \gset
SELECT pg_temp.bill(:c7, '2026-03-01', '2026-03-05', 700.00) AS b7 \gset
SELECT leasemgr.record_payment(:c7, 100.00, '2026-02-20', 'wechat', 'WX-7000') AS p70 \gset
SET ROLE lm_t_pay_fin;
SELECT set_config('leasemgr.actor', 'li.finance', true);
SELECT leasemgr.record_payment(:c7, 500.00, '2026-03-06', 'alipay', 'ALI-7001') AS p71 \gset
-- 100.00 (02-20, credit until the bill was issued 03-01) + 500.00 = 600.00 of 700.00
SELECT results_eq(format('SELECT paid, state FROM leasemgr.bill WHERE id = %s', :b7),
  $$VALUES (600.00, 'partially_paid')$$, 'finance records a payment in its park and it is allocated');
SELECT is((SELECT recorded_by FROM leasemgr.payment WHERE id = :p71), 'li.finance', 'the payment names the person who recorded it');
SELECT set_config('leasemgr.actor', '', true);
SELECT is(leasemgr.record_payment(:c7, 500.00, '2026-03-06', 'alipay', 'ALI-7001'), :p71::bigint,
  'finance replaying the call gets the same payment');
SELECT throws_ok(format('UPDATE leasemgr.payment SET unallocated = 1 WHERE id = %s', :p71), 'LM010', NULL,
  'finance cannot set a balance by hand');
RESET ROLE;
SET ROLE lm_t_pay_fin_other;
SELECT throws_ok(format('SELECT leasemgr.record_payment(%s, 50.00, ''2026-03-06'', ''cash'', ''R-7002'')', :c7), 'LM009',
  format('contract %s does not exist', :c7),
  'finance of another park: the contract is not found, exactly like one that does not exist');
SELECT throws_ok(format('SELECT leasemgr.apply_credit(%s)', :c7), 'LM009', NULL, 'nor can it apply credit there');
SELECT is((SELECT count(*) FROM leasemgr.payment WHERE contract_id = :c7), 0::bigint, 'nor see the payments');
RESET ROLE;
SET ROLE lm_t_pay_reader;
SELECT throws_ok(format('SELECT leasemgr.record_payment(%s, 50.00, ''2026-03-06'', ''cash'', ''R-7003'')', :c7), '42501', NULL,
  'a reader cannot record payments');
SELECT is((SELECT count(*) FROM leasemgr.payment WHERE contract_id = :c7), 2::bigint, 'a reader of the park sees them');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
