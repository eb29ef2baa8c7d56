-- The bill run: bills each due charge period exactly once, catches up missed months, bills a
-- terminated contract up to its termination date and never after, skips contracts that are
-- not billable; issued bills and lines are never edited. Amounts with their hand calculation.
BEGIN;
SELECT plan(49);

SELECT th.park('BR') AS park \gset
SELECT th.park('BR2') AS other_park \gset

-- An active lease 2025-09-01..2026-08-31 of one fresh 100 m2 unit with three charges:
-- rent 1,000.00 a month in advance; property fee 10.0000/m2/month = 1,000.00 a month,
-- billed quarterly in advance (3,000.00 a quarter); parking 500.00 a month in arrears.
CREATE FUNCTION pg_temp.lease(p_park bigint, p_code text, p_target text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  c bigint;
  u bigint := th.unit(p_park, 'U-' || p_code, 100);
BEGIN
  INSERT INTO leasemgr.contract (park_id, code, tenant_id, start_date, end_date)
  VALUES (p_park, p_code, th.tenant(p_park, nextval('th.n')::int), '2025-09-01', '2026-08-31') RETURNING id INTO c;
  INSERT INTO leasemgr.contract_unit (contract_id, unit_id) VALUES (c, u);
  INSERT INTO leasemgr.charge (contract_id, kind, basis, rate) VALUES (c, 'rent', 'fixed_month', 1000);
  INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, cycle_months) VALUES (c, 'property_fee', 'per_m2_month', 10, 3);
  INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, billed) VALUES (c, 'parking', 'fixed_month', 500, 'arrears');
  PERFORM th.walk(c, p_target);
  RETURN c;
END
$$;

SELECT pg_temp.lease(:park, 'R-A', 'active') AS a \gset

-- September: rent Sep 1,000.00 + property fee Sep..Nov 3,000.00 = 4,000.00; parking for
-- September is billed in arrears, in October.
SELECT results_eq(format('SELECT * FROM leasemgr.bill_run(%L, %s)', '2025-09-01', :park),
  $$VALUES (1, 2, 0, 0, 4000.00, 0)$$, 'September: one bill, two lines, 1,000 + 3,000 = 4,000.00');
SELECT results_eq(format('SELECT * FROM leasemgr.bill_run(%L, %s)', '2025-09-15', :park),
  $$VALUES (0, 0, 0, 1, 0::numeric, 0)$$, 'the same month again bills nothing and says the contract was billed already');
SELECT is((SELECT amount FROM leasemgr.bill WHERE contract_id = :a AND period = '2025-09-01'), 4000.00,
  'the bill is the sum of its lines');
SELECT is((SELECT due_on FROM leasemgr.bill WHERE contract_id = :a AND period = '2025-09-01'), leasemgr.business_date(),
  'a bill issued after its due day (the 5th) is due the day it is issued');

-- October is skipped; the November run catches up: rent Oct + Nov 2,000.00, parking Sep + Oct
-- 1,000.00 = 3,000.00 in four lines.
SELECT results_eq(format('SELECT * FROM leasemgr.bill_run(%L, %s)', '2025-11-01', :park),
  $$VALUES (1, 4, 0, 0, 3000.00, 0)$$, 'a missed month is caught up: 2 x 1,000 + 2 x 500 = 3,000.00');
SELECT results_eq(format($$SELECT kind, period_start, period_end, amount FROM leasemgr.bill_line
                           WHERE contract_id = %s ORDER BY period_start, kind$$, :a),
  $$VALUES ('parking', '2025-09-01'::date, '2025-09-30'::date, 500.00),
           ('property_fee', '2025-09-01', '2025-11-30', 3000.00), ('rent', '2025-09-01', '2025-09-30', 1000.00),
           ('parking', '2025-10-01', '2025-10-31', 500.00), ('rent', '2025-10-01', '2025-10-31', 1000.00),
           ('rent', '2025-11-01', '2025-11-30', 1000.00)$$,
  'every period is billed once');
SELECT results_eq(format('SELECT * FROM leasemgr.bill_run(%L, %s)', '2025-10-01', :park),
  $$VALUES (0, 0, 0, 1, 0::numeric, 0)$$, 'an earlier month run later bills nothing twice');
-- January 2026: rent Dec + Jan 2,000.00, property fee Dec..Feb 3,000.00, parking Nov + Dec
-- 1,000.00 = 6,000.00, due on the 5th of January.
SELECT results_eq(format('SELECT * FROM leasemgr.bill_run(%L, %s)', '2026-01-01', :park),
  $$VALUES (1, 5, 0, 0, 6000.00, 0)$$, 'January: 2,000 + 3,000 + 1,000 = 6,000.00');
-- Next month's run (the furthest a run reaches) makes a bill due on the 5th of that month.
CREATE FUNCTION pg_temp.next_month() RETURNS date LANGUAGE sql AS
  $$ SELECT (date_trunc('month', leasemgr.business_date()) + interval '1 month')::date $$;
INSERT INTO leasemgr.contract (park_id, code, tenant_id, start_date, end_date)
VALUES (:park, 'R-NEXT', th.tenant(:park, 990), date_trunc('month', leasemgr.business_date())::date,
        (date_trunc('month', leasemgr.business_date()) + interval '2 years - 1 day')::date) RETURNING id AS nx \gset
SELECT th.unit(:park, 'U-R-NEXT', 100) AS nx_unit \gset
INSERT INTO leasemgr.contract_unit (contract_id, unit_id) VALUES (:nx, :nx_unit);
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate) VALUES (:nx, 'rent', 'fixed_month', 1000);
SELECT th.walk(:nx, 'active');
SELECT leasemgr.bill_run(pg_temp.next_month(), :park);
SELECT is((SELECT due_on FROM leasemgr.bill WHERE contract_id = :nx AND period = pg_temp.next_month()),
  pg_temp.next_month() + 4, 'a bill issued before its due day is due on the due day of its month (the 5th)');
SELECT throws_ok(format('SELECT * FROM leasemgr.bill_run(%L)', pg_temp.next_month() + interval '12 months'), 'LM011', NULL,
  'a run more than twelve months ahead (a mistyped year) is refused: lines are never taken back');
SELECT is((SELECT explain FROM leasemgr.bill_line WHERE contract_id = :a AND kind = 'property_fee' AND period_start = '2025-12-01'),
  '100.00 m2 x 10.0000 CNY/m2/month x 3 months = 3,000.00', 'each line keeps its explanation');

-- What is not billed: a signed contract not yet active, a draft, a cancelled contract.
SELECT pg_temp.lease(:park, 'R-SIGNED', 'signed') AS signed_c \gset
SELECT pg_temp.lease(:park, 'R-DRAFT', 'draft') AS draft_c \gset
SELECT pg_temp.lease(:park, 'R-CANCEL', 'cancelled') AS cancelled_c \gset
SELECT leasemgr.bill_run('2026-02-01', :park);
SELECT is((SELECT count(*) FROM leasemgr.bill WHERE contract_id IN (:signed_c, :draft_c, :cancelled_c))::int, 0,
  'signed, draft and cancelled contracts are never billed');

-- A contract terminated on 2025-12-10 is billed up to that day and never after.
SELECT pg_temp.lease(:park, 'R-TERM', 'active') AS t \gset
SELECT leasemgr.bill_run('2025-11-01', :park);
SELECT th.fire(:t, 'terminate', 'th.operator', '2025-12-10');
-- December: rent 1,000 x 10/31 = 322.58; property fee Dec 1..10: 1,000 x 10/31 = 322.58;
-- parking Nov (arrears) 500.00. Total 1,145.16.
SELECT is((SELECT count(*) FROM leasemgr.bill WHERE contract_id = :t AND period = '2025-12-01')::int, 0,
  'nothing for December before its run');
SELECT leasemgr.bill_run('2025-12-01', :park);
SELECT results_eq(format($$SELECT l.kind, l.period_start, l.period_end, l.amount FROM leasemgr.bill_line l
                           JOIN leasemgr.bill b ON b.id = l.bill_id
                           WHERE l.contract_id = %s AND b.period = '2025-12-01' ORDER BY kind$$, :t),
  $$VALUES ('parking', '2025-11-01'::date, '2025-11-30'::date, 500.00),
           ('property_fee', '2025-12-01', '2025-12-10', 322.58),
           ('rent', '2025-12-01', '2025-12-10', 322.58)$$,
  'terminated on 12-10: rent and fee 1,000 x 10/31 = 322.58 each, parking for November 500.00');
-- January: parking Dec 1..10 in arrears: 500 x 10/31 = 161.29; then nothing, ever.
SELECT leasemgr.bill_run('2026-01-01', :park);
SELECT is((SELECT sum(l.amount) FROM leasemgr.bill_line l JOIN leasemgr.bill b ON b.id = l.bill_id
            WHERE l.contract_id = :t AND b.period = '2026-01-01'), 161.29,
  'January bills the last parking days in arrears: 500 x 10/31 = 161.29');
SELECT leasemgr.bill_run('2026-06-01', :park);
SELECT is((SELECT max(period_end) FROM leasemgr.bill_line WHERE contract_id = :t), '2025-12-10'::date,
  'nothing is ever billed after the termination date');

-- Park scope of a run.
SELECT pg_temp.lease(:other_park, 'R-OTHER', 'active') AS other \gset
SELECT leasemgr.bill_run('2025-09-01', :park);
SELECT is((SELECT count(*) FROM leasemgr.bill WHERE contract_id = :other)::int, 0, 'a run for one park bills only that park');
SELECT results_eq(format('SELECT bills_created FROM leasemgr.bill_run(%L, %s)', '2025-09-01', :other_park),
  $$VALUES (1)$$, '... and the other park has its own run');
SELECT throws_ok($$SELECT * FROM leasemgr.bill_run('2025-09-01', -1)$$, 'LM009', 'park -1 does not exist',
  'an unknown park is refused');
SELECT throws_ok($$SELECT * FROM leasemgr.bill_run(NULL)$$, 'LM011', NULL, 'a run needs its month');

-- Tenant credit pays the next bills: 5,000.00 paid against September's 4,000.00 leaves
-- 1,000.00 of credit; October's bill (rent 1,000 + September's parking 500 = 1,500.00) takes it.
SELECT pg_temp.lease(:park, 'R-CREDIT', 'active') AS cr \gset
SELECT leasemgr.bill_run('2025-09-01', :park);
SELECT leasemgr.record_payment(:cr, 5000, leasemgr.business_date(), 'bank_transfer', 'BR-CREDIT-1');
SELECT is((SELECT unallocated FROM leasemgr.payment WHERE reference = 'BR-CREDIT-1'), 1000.00,
  'an overpayment leaves credit: 5,000 - 4,000 = 1,000.00');
SELECT leasemgr.bill_run('2025-10-01', :park);
SELECT results_eq(format($$SELECT amount, paid, state FROM leasemgr.bill WHERE contract_id = %s AND period = '2025-10-01'$$, :cr),
  $$VALUES (1500.00, 1000.00, 'partially_paid')$$, 'the bill run applies the credit to the new bill: 1,000.00 of 1,500.00 paid');
SELECT is((SELECT unallocated FROM leasemgr.payment WHERE reference = 'BR-CREDIT-1'), 0.00, '... and the credit is used up');

-- Issued lines and bills are never edited, for any role, the owner included.
SELECT id AS bill_id FROM leasemgr.bill WHERE contract_id = :a AND period = '2025-09-01' \gset
SELECT throws_ok(format('UPDATE leasemgr.bill_line SET amount = 1 WHERE bill_id = %s', :bill_id), 'LM010', NULL,
  'a bill line cannot be updated');
SELECT throws_ok(format('DELETE FROM leasemgr.bill_line WHERE bill_id = %s', :bill_id), 'LM010', NULL,
  'a bill line cannot be deleted');
SELECT throws_ok('TRUNCATE leasemgr.bill_line', 'LM010', NULL, 'bill lines cannot be truncated');
SELECT throws_ok(format('UPDATE leasemgr.bill SET amount = 1 WHERE id = %s', :bill_id), 'LM010',
  'bill.amount is a total and cannot be set to 1.00', 'a bill''s amount is not written by hand');
SELECT throws_ok(format('UPDATE leasemgr.bill SET due_on = due_on + 30 WHERE id = %s', :bill_id), 'LM010',
  'bill.due_on cannot change once the bill is issued', 'its due date does not move');
SELECT throws_ok(format('DELETE FROM leasemgr.bill WHERE id = %s', :bill_id), 'LM010', 'bills are never deleted',
  'a bill cannot be deleted');
SELECT throws_ok(format($$INSERT INTO leasemgr.bill (park_id, contract_id, period, issued_on, due_on, amount, issued_by)
                          VALUES (%s, %s, '2030-01-01', '2030-01-01', '2030-01-05', 99, 'x')$$, :park, :a), 'LM010',
  'a new bill starts with amount 0, not 99.00', 'a bill cannot be inserted with an amount of its own');
SELECT is((SELECT amount FROM leasemgr.bill WHERE id = :bill_id), 4000.00, '... and nothing changed');

-- Corrections are new lines: an adjustment of -100.00 takes the bill to 3,900.00.
INSERT INTO leasemgr.bill_line (park_id, bill_id, contract_id, kind, period_start, period_end, amount, explain, line_type)
VALUES (:park, :bill_id, :a, 'rent', '2025-09-01', '2025-09-30', -100, 'goodwill credit for the lift outage', 'adjustment');
SELECT is((SELECT amount FROM leasemgr.bill WHERE id = :bill_id), 3900.00, 'an adjustment line moves the bill total: 4,000 - 100 = 3,900.00');
SELECT is((SELECT state FROM leasemgr.bill WHERE id = :bill_id), 'open', 'an unpaid bill is open');
-- The unique key holds whatever the writer: the same charge period again is refused.
SELECT throws_ok(format($$INSERT INTO leasemgr.bill_line (park_id, bill_id, contract_id, charge_id, kind, period_start,
                          period_end, amount, explain) SELECT park_id, bill_id, contract_id, charge_id, kind, period_start + 400,
                          period_end + 400, amount, explain FROM leasemgr.bill_line WHERE bill_id = %s AND kind = 'rent'
                          AND line_type = 'charge'$$, :bill_id), 'LM010', 'charge and allocation lines are written by the bill run only',
  'a charge line written by hand is refused (it would mark a period billed for good)');
SELECT throws_ok(format($$INSERT INTO leasemgr.bill_line (park_id, bill_id, contract_id, kind, period_start, period_end,
                          amount, explain, line_type) VALUES (%s, %s, %s, 'rent', '2025-09-01', '2025-09-30', 5, 'x', 'adjustment')$$,
                        :park, :bill_id, :cr), 'LM007', NULL,
  'an adjustment must be for the bill''s own contract');
SELECT throws_ok(format($$UPDATE leasemgr.bill SET voided_at = now() WHERE id = %s$$, :bill_id), '23514', NULL,
  'a bill is voided only with a reason');
-- The runs up to next month billed all of R-A's lease (2025-09-01..2026-08-31): rent Sep..Aug
-- (12), property-fee quarters from Sep, Dec, Mar and Jun (4), parking Sep..Aug in arrears
-- (12, the last one billed in September 2026) = 28 lines, each once.
SELECT is((SELECT count(*) FROM leasemgr.bill_line WHERE contract_id = :a AND line_type = 'charge')::int, 28,
  'contract R-A has 28 charge lines once its whole lease is billed: 12 + 4 + 12');

-- Data that arrives late is billed late, on a bill of its own. Park BR3, dates relative to
-- today's month m0: a lease from s = m0 - 10 months for two years, one 100 m2 unit, rent
-- 1,000.00 a month escalating by CPI every 12 months (series BR-CPI, lag 1 month: base month
-- s - 1 = 100; step 1 from s + 12 = m0 + 2 needs the index of m0 + 1), and a turnover rent of
-- 10% of sales over 50,000.00 a month, in arrears.
SELECT th.park('BR3') AS late_park \gset
SELECT date_trunc('month', leasemgr.business_date())::date AS m0 \gset
SELECT (:'m0'::date - interval '10 months')::date AS s \gset
INSERT INTO leasemgr.price_index (series, month, value) VALUES ('BR-CPI', (:'s'::date - interval '1 month')::date, 100);
INSERT INTO leasemgr.contract (park_id, code, tenant_id, start_date, end_date)
VALUES (:late_park, 'R-LATE', th.tenant(:late_park, 991), :'s', (:'s'::date + interval '2 years - 1 day')::date)
RETURNING id AS late \gset
SELECT th.unit(:late_park, 'U-R-LATE', 100) AS late_unit \gset
INSERT INTO leasemgr.contract_unit (contract_id, unit_id) VALUES (:late, :late_unit);
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, escalation, escalate_every_months, cpi_series, cpi_lag_months)
VALUES (:late, 'rent', 'fixed_month', 1000, 'cpi', 12, 'BR-CPI', 1) RETURNING id AS late_rent \gset
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, breakpoint, billed)
VALUES (:late, 'turnover', 'turnover_pct', 10, 50000, 'arrears');
SELECT th.walk(:late, 'active');
SELECT (:'s'::date + interval '2 months')::date AS s2 \gset
-- Month s + 2: rent s, s + 1, s + 2 = 3 x 1,000 = 3,000.00; the turnover of month s is not
-- reported: held, with the months after it.
SELECT results_eq(format('SELECT * FROM leasemgr.bill_run(%L, %s)', :'s2', :late_park),
  $$VALUES (1, 3, 0, 0, 3000.00, 1)$$, 'a turnover month not reported is held and counted: 3 x 1,000 = 3,000.00 billed');
INSERT INTO leasemgr.turnover_report (contract_id, month, sales)
VALUES (:late, :'s', 80000), (:late, (:'s'::date + interval '1 month')::date, 40000);
-- The same month again, once reported: s: 10% x (80,000 - 50,000) = 3,000.00;
-- s + 1: 10% x max(0, 40,000 - 50,000) = 0.00. A run that is rolled back leaves nothing,
-- and the run after it bills the same (its index probes step over the rolled-back lines).
SAVEPOINT before_rerun;
SELECT leasemgr.bill_run(:'s2', :late_park);
ROLLBACK TO SAVEPOINT before_rerun;
SELECT results_eq(format('SELECT * FROM leasemgr.bill_run(%L, %s)', :'s2', :late_park),
  $$VALUES (1, 2, 0, 0, 3000.00, 0)$$, 'once reported, a rerun bills the held months: 3,000.00 + 0.00, after a rolled-back run');
SELECT results_eq(format($$SELECT amount, due_on = issued_on FROM leasemgr.bill WHERE contract_id = %s AND period = %L ORDER BY id$$,
                         :late, :'s2'),
  $$VALUES (3000.00, true), (3000.00, true)$$,
  'the late lines are a supplementary bill of the month, due the day it is issued; the first bill is unchanged');
-- Month m0 + 2: rent s + 3 .. m0 + 1, nine months = 9,000.00. The rent of m0 + 2 is CPI
-- step 1, whose index month m0 + 1 is not loaded: held. Turnover s + 2 not reported: held.
SELECT (:'m0'::date + interval '2 months')::date AS m2 \gset
SELECT results_eq(format('SELECT * FROM leasemgr.bill_run(%L, %s)', :'m2', :late_park),
  $$VALUES (1, 9, 0, 0, 9000.00, 2)$$, 'a CPI step whose index month is not loaded is held, not an error: 9 x 1,000 = 9,000.00');
SELECT results_eq(format($$SELECT amount, explain FROM leasemgr.compute_charges(%s, %L, %L) WHERE charge_id = %s$$,
                         :late, :'m2', :'m2', :late_rent),
  format($$VALUES (NULL::numeric, 'CPI step 1 needs BR-CPI %s, not loaded yet: billed once leasemgr.price_index has the month')$$,
         to_char(:'m0'::date + interval '1 month', 'YYYY-MM')),
  'compute_charges shows the held period without an amount, and why');
SELECT is((SELECT monthly_rent FROM leasemgr.rent_in_force(:late, :'m2')), NULL,
  'rent_in_force does not know the rent of a CPI step whose index is not loaded (and does not fail the rent roll)');
INSERT INTO leasemgr.price_index (series, month, value) VALUES ('BR-CPI', (:'m0'::date + interval '1 month')::date, 103);
-- Loaded: rent of m0 + 2 = 1,000 x 103 / 100 = 1,030.00; turnover still held.
SELECT results_eq(format('SELECT * FROM leasemgr.bill_run(%L, %s)', :'m2', :late_park),
  $$VALUES (1, 1, 0, 0, 1030.00, 1)$$, 'once the index is loaded the held rent is billed: 1,000 x 103/100 = 1,030.00');

-- Frozen contracts are counted when the run would have billed them: an amending contract of
-- the park that started by the month, not one that starts later.
INSERT INTO leasemgr.contract (park_id, code, tenant_id, start_date, end_date)
VALUES (:late_park, 'R-LATER', th.tenant(:late_park, 992), (:'m0'::date + interval '5 months')::date,
        (:'m0'::date + interval '17 months - 1 day')::date) RETURNING id AS later \gset
-- (amendments come with a later version; put the two contracts in that state directly)
SET LOCAL session_replication_role = replica;
UPDATE leasemgr.contract SET state = 'amending' WHERE id IN (:late, :later);
SET LOCAL session_replication_role = origin;
SELECT results_eq(format('SELECT * FROM leasemgr.bill_run(%L, %s)', :'m2', :late_park),
  $$VALUES (0, 0, 1, 0, 0::numeric, 0)$$, 'an amending contract is skipped and counted; one starting after the month is not counted');

-- Two runs in one statement: the second sees the first's lines (its own transaction's writes)
-- and bills nothing twice. September for a fresh lease: rent 1,000 + property fee 3,000.
SELECT th.park('BR4') AS p4 \gset
SELECT pg_temp.lease(:p4, 'R-TWICE', 'active') AS twice \gset
SELECT results_eq(format($$SELECT lines_created, amount FROM generate_series(1, 2) n,
                           LATERAL leasemgr.bill_run(date '2025-09-01' + n * 0, %s) ORDER BY n$$, :p4),
  $$VALUES (2, 4000.00), (0, 0::numeric)$$, 'a second run in the same statement bills nothing twice');

-- A period cut by a CPI step whose index month is missing is held whole: a lease from the
-- 15th of s (park BR5) with rent 1,000.00 a month, CPI step 1 from the 15th of m0 + 2 (index
-- month m0 + 1, not loaded). The run for m0 + 2 bills the first, partial month and the eleven
-- months after it (12 lines) and holds month m0 + 2 entirely, not just its days from the 15th.
SELECT th.park('BR5') AS p5 \gset
INSERT INTO leasemgr.price_index (series, month, value) VALUES ('BR5-CPI', (:'s'::date - interval '1 month')::date, 100);
INSERT INTO leasemgr.contract (park_id, code, tenant_id, start_date, end_date)
VALUES (:p5, 'R-MID', th.tenant(:p5, 993), :'s'::date + 14, (:'s'::date + 14 + interval '2 years - 1 day')::date)
RETURNING id AS mid \gset
SELECT th.unit(:p5, 'U-R-MID', 100) AS mid_unit \gset
INSERT INTO leasemgr.contract_unit (contract_id, unit_id) VALUES (:mid, :mid_unit);
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, escalation, escalate_every_months, cpi_series, cpi_lag_months)
VALUES (:mid, 'rent', 'fixed_month', 1000, 'cpi', 12, 'BR5-CPI', 1);
SELECT th.walk(:mid, 'active');
SELECT results_eq(format('SELECT lines_created, charges_held FROM leasemgr.bill_run(%L, %s)', :'m2', :p5),
  $$VALUES (12, 1)$$, 'a period cut by a held CPI step is held whole: 12 months billed, the 13th held');
SELECT is((SELECT max(period_end) FROM leasemgr.bill_line WHERE contract_id = :mid), (:'m2'::date - 1),
  '... nothing of month m0 + 2 is billed, not even its days before the step');
INSERT INTO leasemgr.price_index (series, month, value) VALUES ('BR5-CPI', (:'m0'::date + interval '1 month')::date, 103);
-- Loaded: month m0 + 2 is billed in its two parts, 1,000 x 14/D for the 1st..14th and
-- 1,030 x (D - 14)/D from the 15th (D the days of the month): the whole month is covered.
SELECT leasemgr.bill_run(:'m2', :p5);
SELECT results_eq(format($$SELECT min(period_start), max(period_end), count(*)::int FROM leasemgr.bill_line
                           WHERE contract_id = %s AND period_start >= %L$$, :mid, :'m2'),
  format($$VALUES (%L::date, %L::date, 2)$$, :'m2', (:'m2'::date + interval '1 month - 1 day')::date),
  'once the index is loaded the whole month is billed, in its two parts');

SELECT * FROM finish();
ROLLBACK;
