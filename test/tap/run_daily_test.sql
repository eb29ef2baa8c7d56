-- The daily job body: what the calendar says (activate, expire), the alerts (expiry at 90, 60
-- and 30 days, renewal suggestions, overdue bills), each once however often it runs, and each
-- alert also an event of the outbox. Dates are relative to today: the rules are about today.
BEGIN;
SELECT plan(29);

SELECT th.park('RD') AS park \gset
SELECT leasemgr.business_date() AS today \gset
SELECT th.unit(:park, 'RD-' || i) FROM generate_series(1, 5) i;
SELECT th.draft(:park, 'RD-A', ARRAY[(SELECT id FROM leasemgr.unit WHERE code = 'RD-1')], :'today'::date - 1, :'today'::date + 364) AS ca \gset
SELECT th.draft(:park, 'RD-B', ARRAY[(SELECT id FROM leasemgr.unit WHERE code = 'RD-2')], :'today'::date - 400, :'today'::date - 1) AS cb \gset
SELECT th.draft(:park, 'RD-C', ARRAY[(SELECT id FROM leasemgr.unit WHERE code = 'RD-3')], :'today'::date - 300, :'today'::date + 20) AS cc \gset
SELECT th.draft(:park, 'RD-D', ARRAY[(SELECT id FROM leasemgr.unit WHERE code = 'RD-4')], :'today'::date - 300, :'today'::date + 45) AS cd \gset
SELECT th.draft(:park, 'RD-E', ARRAY[(SELECT id FROM leasemgr.unit WHERE code = 'RD-5')], :'today'::date - 300, :'today'::date + 200) AS ce \gset
SELECT th.walk(:ca, 'signed'), th.walk(:cb, 'active'), th.walk(:cc, 'active'), th.walk(:cd, 'active'), th.walk(:ce, 'active');
-- an unpaid bill of C, due ten days ago (loaded past the bill run's rules: setup only)
SET LOCAL session_replication_role = replica;
INSERT INTO leasemgr.bill (park_id, contract_id, period, issued_on, due_on, amount, issued_by)
VALUES (:park, :cc, date_trunc('month', :'today'::date - 40)::date, :'today'::date - 40, :'today'::date - 10, 8000.00, 'setup')
RETURNING id AS bill \gset
RESET session_replication_role;
SELECT coalesce(max(id), 0) AS events_before FROM leasemgr.event_outbox \gset

CREATE TEMP TABLE first_run AS SELECT * FROM leasemgr.run_daily();
SELECT is((SELECT done FROM first_run WHERE step = 'activated'), 1, 'a signed lease whose start has come is activated');
SELECT is((SELECT state FROM leasemgr.contract WHERE id = :ca), 'active', '... lease A');
SELECT is((SELECT done FROM first_run WHERE step = 'expired'), 1, 'an active lease whose end has passed is expired');
SELECT is((SELECT state FROM leasemgr.contract WHERE id = :cb), 'expired', '... lease B');
-- C ends in 20 days: within 90, 60 and 30; D in 45: within 90 and 60; E in 200: none.
SELECT is((SELECT array_agg(k.code || ' ' || a.kind ORDER BY k.code, a.kind) FROM leasemgr.alert a
             JOIN leasemgr.contract k ON k.id = a.subject_id WHERE a.kind LIKE 'expiry%'),
          '{"RD-C expiry_30","RD-C expiry_60","RD-C expiry_90","RD-D expiry_60","RD-D expiry_90"}',
          'expiry alerts for each threshold a lease''s end has come within');
SELECT is((SELECT array_agg(k.code ORDER BY k.code) FROM leasemgr.alert a JOIN leasemgr.contract k ON k.id = a.subject_id
            WHERE a.kind = 'renewal_suggestion'), '{RD-C,RD-D}', 'renewal suggestions for the leases ending within 90 days');
SELECT is((SELECT subject FROM leasemgr.alert WHERE kind = 'overdue' AND subject_id = :bill),
          format('Bill %s of RD-C (%s) was due on %s: 8000.00 of 8000.00 CNY unpaid', :bill,
                 to_char(date_trunc('month', :'today'::date - 40), 'YYYY-MM'), :'today'::date - 10),
          'an overdue alert for the unpaid bill past its due day, with the facts');
SELECT is((SELECT count(*)::int FROM leasemgr.event_outbox WHERE topic = 'alert' AND id > :events_before),
          (SELECT count(*)::int FROM leasemgr.alert), 'every alert is also an event for outside systems');

CREATE TEMP TABLE second_run AS SELECT * FROM leasemgr.run_daily();
SELECT is((SELECT sum(done)::int FROM second_run), 0, 'running the job twice raises nothing twice and moves nothing');
SELECT is((SELECT count(*)::int FROM leasemgr.alert), 8, '... still eight alerts: five expiry, two renewal, one overdue');
SELECT is((SELECT count(*)::int FROM leasemgr.run_daily(:'today'::date - 1) WHERE done > 0 AND step LIKE '%alerts'), 0,
          'catching up yesterday raises nothing already raised');

-- ---- the alert's life ---------------------------------------------------------------------------------
SET LOCAL leasemgr.actor = 'asset.manager';
UPDATE leasemgr.alert SET state = 'acknowledged' WHERE kind = 'overdue';
SELECT is((SELECT state || ' ' || decided_by FROM leasemgr.alert WHERE kind = 'overdue'), 'acknowledged asset.manager',
          'acknowledging an alert stamps who did it');
SELECT throws_ok($$UPDATE leasemgr.alert SET state = 'open' WHERE kind = 'overdue'$$, 'LM010', NULL, 'an alert does not go back to open');
SELECT throws_ok($$DELETE FROM leasemgr.alert$$, 'LM010', NULL, 'alerts are never deleted');
SELECT th.refuses(format($$SELECT * FROM leasemgr.run_daily(%L)$$, :'today'::date + 1), 'LM011',
  format('run_daily cannot run as of %s', :'today'::date + 1),
  format('Today is %s: the daily job runs for today or catches up a day that has passed.', :'today'),
  'Call leasemgr.run_daily() for today, or with a past day to catch up.', 'a day that has not come is refused');
SELECT is((SELECT done FROM first_run WHERE step = 'transitions refused (see the warnings)'), 0, 'nothing refused on the way');

-- Late fees posted: 10,000.00 due 20 days ago, 0.05% a day, no grace.
SELECT th.park('RL') AS lpark \gset
SELECT th.contract_in(:lpark, 'active', 'RL-1') AS cl \gset
INSERT INTO leasemgr.late_fee_policy (park_id, daily_rate_pct, grace_days) VALUES (:lpark, 0.05, 0);
INSERT INTO leasemgr.bill (park_id, contract_id, period, issued_on, due_on, issued_by)
VALUES (:lpark, :cl, date_trunc('month', :'today'::date - 25)::date, :'today'::date - 25, :'today'::date - 20, 'th.finance')
RETURNING id AS lb \gset
INSERT INTO leasemgr.bill_line (park_id, bill_id, contract_id, kind, period_start, period_end, amount, explain, line_type)
VALUES (:lpark, :lb, :cl, 'rent', :'today'::date - 25, :'today'::date - 25, 10000.00, 'rent', 'adjustment');
-- Caught up as of 10 days ago: days due + 1 .. as_of - 1 = 9 days: 10,000.00 x 0.05% x 9 = 45.00
SELECT leasemgr.run_daily(:'today'::date - 10);
SELECT results_eq(format($$SELECT amount FROM leasemgr.bill_line WHERE bill_id = %s AND line_type = 'late_fee' ORDER BY id$$, :lb),
  $$VALUES (45.00)$$, 'the late fee accrued is posted as a late_fee line: 10,000 x 0.05% x 9 days = 45.00');
-- Today: 19 days in all, 95.00; 45.00 was posted: 50.00 more. Again today: nothing.
SELECT leasemgr.run_daily();
SELECT leasemgr.run_daily();
SELECT results_eq(format($$SELECT amount FROM leasemgr.bill_line WHERE bill_id = %s AND line_type = 'late_fee' ORDER BY id$$, :lb),
  $$VALUES (45.00), (50.00)$$, 'each run posts only what is new: 19 days = 95.00, 45.00 before, 50.00 now; once a day');
SELECT is((SELECT amount FROM leasemgr.bill WHERE id = :lb), 10095.00, 'the bill now asks 10,000.00 + 95.00');
-- A bank transfer recorded late: 10,000.00 received 15 days ago pays the principal from then
-- on; the fee is now 4 days (due + 1 .. 16 days ago) = 20.00; 95.00 was posted: -75.00.
SELECT leasemgr.record_payment(:cl, 10000.00, :'today'::date - 15, 'bank_transfer', 'RL-LATE-1');
SELECT leasemgr.run_daily();
SELECT results_eq(format($$SELECT amount FROM leasemgr.bill_line WHERE bill_id = %s AND line_type = 'late_fee' ORDER BY id$$, :lb),
  $$VALUES (45.00), (50.00), (-75.00)$$,
  'a payment recorded late lowers the fee: 4 days = 20.00, so -75.00 of the 95.00 posted is taken back');
SELECT is((SELECT amount - paid FROM leasemgr.bill WHERE id = :lb), 20.00, 'the bill asks the 20.00 fee that is due');

-- A late fee paid and then found too high comes back as credit. 10,000.00 due 40 days ago;
-- fees posted as of yesterday: 38 days x 5.00 = 190.00. Then a transfer of 10,050.00 received
-- 30 days ago is recorded: 10,000.00 principal and 50.00 of the fee. The fee is now 9 days =
-- 45.00: of the 145.00 too much, 140.00 still unpaid is taken back and the 5.00 paid returned.
SELECT th.contract_in(:lpark, 'active', 'RL-2') AS cl2 \gset
INSERT INTO leasemgr.bill (park_id, contract_id, period, issued_on, due_on, issued_by)
VALUES (:lpark, :cl2, date_trunc('month', :'today'::date - 45)::date, :'today'::date - 45, :'today'::date - 40, 'th.finance')
RETURNING id AS lb2 \gset
INSERT INTO leasemgr.bill_line (park_id, bill_id, contract_id, kind, period_start, period_end, amount, explain, line_type)
VALUES (:lpark, :lb2, :cl2, 'rent', :'today'::date - 45, :'today'::date - 45, 10000.00, 'rent', 'adjustment');
SELECT leasemgr.post_late_fees(:'today'::date - 1, :cl2);
SELECT is((SELECT sum(amount) FROM leasemgr.bill_line WHERE bill_id = :lb2 AND line_type = 'late_fee'), 190.00,
  'fees posted through the day before yesterday: 38 days x 5.00 = 190.00');
SELECT leasemgr.record_payment(:cl2, 10050.00, :'today'::date - 30, 'bank_transfer', 'RL-LATE-2');
SELECT leasemgr.post_late_fees(:'today'::date, :cl2);
SELECT results_eq(format($$SELECT bill_id = %s, amount, returns_fee_of IS NOT NULL FROM leasemgr.bill_line
                          WHERE contract_id = %s AND line_type = 'late_fee' ORDER BY id$$, :lb2, :cl2),
  $$VALUES (true, 190.00, false), (true, -140.00, false), (false, -5.00, true)$$,
  '140.00 unpaid is taken back; the 5.00 paid beyond the 45.00 due comes back as credit on a bill of its own');
SELECT is(leasemgr.post_late_fees(:'today'::date, :cl2), 0, 'posting again changes nothing: 190 - 140 - 5 = 45.00 = the fee');
SELECT is((th.error_of(format('SELECT leasemgr.post_late_fees(%L)', :'today'::date + 1))).code, 'LM011',
  'fees are not posted for days to come');
-- A credit note on a bill with fees posted and nothing paid: the fee falls to 0.00 and the
-- posted fee is taken back whole, the bill going further below zero; nothing is "returned".
SELECT th.contract_in(:lpark, 'active', 'RL-3') AS cl3 \gset
INSERT INTO leasemgr.bill (park_id, contract_id, period, issued_on, due_on, issued_by)
VALUES (:lpark, :cl3, date_trunc('month', :'today'::date - 45)::date, :'today'::date - 45, :'today'::date - 40, 'th.finance')
RETURNING id AS lb3 \gset
INSERT INTO leasemgr.bill_line (park_id, bill_id, contract_id, kind, period_start, period_end, amount, explain, line_type)
VALUES (:lpark, :lb3, :cl3, 'rent', :'today'::date - 45, :'today'::date - 45, 10000.00, 'rent', 'adjustment');
SELECT leasemgr.post_late_fees(:'today'::date - 1, :cl3);
INSERT INTO leasemgr.bill_line (park_id, bill_id, contract_id, kind, period_start, period_end, amount, explain, line_type)
VALUES (:lpark, :lb3, :cl3, 'rent', :'today'::date - 45, :'today'::date - 45, -10500.00, 'credit note', 'adjustment');
SELECT leasemgr.post_late_fees(:'today'::date, :cl3);
SELECT is((SELECT amount FROM leasemgr.bill WHERE id = :lb3), -500.00,
  'the fee of a bill credited below zero is taken back whole: 10,000 + 190 - 10,500 - 190 = -500.00');

-- A fee returned as credit is not returned again by a catch-up for an earlier day. 10,000.00
-- due 40 days ago; fees posted as of 10 days ago: 29 days x 5.00 = 145.00. Then 9,000.00 paid
-- 35 days ago and 1,145.00 paid 5 days ago are recorded: the bill is paid. The fee is now
-- 4 days on 10,000.00 (20.00) + 30 days on 1,000.00 (15.00) = 35.00: 110.00 comes back.
SELECT th.contract_in(:lpark, 'active', 'RL-4') AS cl4 \gset
INSERT INTO leasemgr.bill (park_id, contract_id, period, issued_on, due_on, issued_by)
VALUES (:lpark, :cl4, date_trunc('month', :'today'::date - 45)::date, :'today'::date - 45, :'today'::date - 40, 'th.finance')
RETURNING id AS lb4 \gset
INSERT INTO leasemgr.bill_line (park_id, bill_id, contract_id, kind, period_start, period_end, amount, explain, line_type)
VALUES (:lpark, :lb4, :cl4, 'rent', :'today'::date - 45, :'today'::date - 45, 10000.00, 'rent', 'adjustment');
SELECT leasemgr.post_late_fees(:'today'::date - 10, :cl4);
SELECT leasemgr.record_payment(:cl4, 9000.00, :'today'::date - 35, 'bank_transfer', 'RL-4-A');
SELECT leasemgr.record_payment(:cl4, 1145.00, :'today'::date - 5, 'bank_transfer', 'RL-4-B');
SELECT leasemgr.post_late_fees(:'today'::date, :cl4);
SELECT is((SELECT amount FROM leasemgr.bill_line WHERE returns_fee_of = :lb4), -110.00,
  'a paid fee of 145.00 that is now 35.00: 110.00 returned as credit');
SELECT is(leasemgr.post_late_fees(:'today'::date - 8, :cl4) + leasemgr.post_late_fees(:'today'::date, :cl4), 0,
  'a catch-up for an earlier day, then today again: nothing more');
-- A credit note that leaves the bill exactly paid: the fee paid beyond what now accrues comes
-- back. 10,000.00 due 40 days ago, 39 days of fees = 195.00; 10,050.00 paid today (10,000.00
-- principal, 50.00 fee); a credit of -145.00 on the rent: the fee is now 9,855.00 x 0.05% x 39
-- = 192.17 (192.1725), and the bill (10,050.00) is paid: 195.00 - 192.17 = 2.83 comes back.
SELECT th.contract_in(:lpark, 'active', 'RL-5') AS cl5 \gset
INSERT INTO leasemgr.bill (park_id, contract_id, period, issued_on, due_on, issued_by)
VALUES (:lpark, :cl5, date_trunc('month', :'today'::date - 45)::date, :'today'::date - 45, :'today'::date - 40, 'th.finance')
RETURNING id AS lb5 \gset
INSERT INTO leasemgr.bill_line (park_id, bill_id, contract_id, kind, period_start, period_end, amount, explain, line_type)
VALUES (:lpark, :lb5, :cl5, 'rent', :'today'::date - 45, :'today'::date - 45, 10000.00, 'rent', 'adjustment');
SELECT leasemgr.post_late_fees(:'today'::date, :cl5);
SELECT leasemgr.record_payment(:cl5, 10050.00, :'today'::date, 'bank_transfer', 'RL-5-A');
INSERT INTO leasemgr.bill_line (park_id, bill_id, contract_id, kind, period_start, period_end, amount, explain, line_type)
VALUES (:lpark, :lb5, :cl5, 'rent', :'today'::date - 45, :'today'::date - 45, -145.00, 'credit note', 'adjustment');
SELECT leasemgr.post_late_fees(:'today'::date, :cl5);
SELECT is((SELECT amount FROM leasemgr.bill_line WHERE returns_fee_of = :lb5), -2.83,
  'a credit note leaving the bill paid: the 2.83 of fee paid beyond what accrues comes back');

SELECT * FROM finish();
ROLLBACK;
