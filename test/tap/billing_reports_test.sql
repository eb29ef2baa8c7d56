-- The billing reports BI reads: the rent roll, receivables aging and the straight-line
-- schedule, with every number worked out by hand beside its assertion; and the contractual
-- deposit, a term locked from submission.
BEGIN;
SELECT plan(40);

-- A draft with no terms but its units, whatever charges th.draft may come to add: the
-- numbers below come from the charges each test sets itself.
CREATE FUNCTION pg_temp.draft(p_park bigint, p_code text, p_units bigint[], p_start date, p_end date,
                              p_tenant bigint DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  c bigint := th.draft(p_park, p_code, p_units, p_start, p_end, p_tenant);
BEGIN
  DELETE FROM leasemgr.charge WHERE contract_id = c;
  DELETE FROM leasemgr.free_rent_period WHERE contract_id = c;
  RETURN c;
END
$$;

-- A draft with one rent charge (submit needs a charge), walked to a state.
CREATE FUNCTION pg_temp.leased(p_park bigint, p_code text, p_units bigint[], p_start date, p_end date,
                               p_state text, p_monthly numeric DEFAULT 1000) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  c bigint := pg_temp.draft(p_park, p_code, p_units, p_start, p_end);
BEGIN
  INSERT INTO leasemgr.charge (contract_id, kind, basis, rate) VALUES (c, 'rent', 'fixed_month', p_monthly);
  PERFORM th.walk(c, p_state);
  RETURN c;
END
$$;

-- ---- Contract A: two units, free rent, a 5% step every year ---------------------------
-- Lease 2025-01-01..2027-12-31 (3 x 365 = 1095 days). Units A1 120.50 m² and A2 79.50 m²:
-- 200.00 m². Rent 85.0000 CNY/m²/month, +5% at 2026-01-01 and 2027-01-01; January and
-- February 2025 free. A property fee and a turnover rent, which neither report counts as
-- fixed rent. Deposit 51,000.00.
SELECT th.park('RR') AS p \gset
SELECT th.unit(:p, 'A1', 120.50) AS a1 \gset
SELECT th.unit(:p, 'A2', 79.50) AS a2 \gset
SELECT pg_temp.draft(:p, 'RR-A', ARRAY[:a1, :a2]::bigint[], '2025-01-01', '2027-12-31', th.tenant(:p, 9101)) AS a \gset
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, escalation, escalate_every_months,
                             escalation_anchor, escalation_pct)
VALUES (:a, 'rent', 'per_m2_month', 85, 'pct', 12, '2025-01-01', 5);
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate) VALUES (:a, 'property_fee', 'per_m2_month', 12);
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, breakpoint, billed)
VALUES (:a, 'rent', 'turnover_pct', 8, 0, 'arrears');
INSERT INTO leasemgr.free_rent_period (contract_id, days) VALUES (:a, daterange('2025-01-01', '2025-02-28', '[]'));

-- The deposit is a term: free to change in draft, locked from submission.
SELECT lives_ok(format('UPDATE leasemgr.contract SET deposit_amount = 51000 WHERE id = %s', :a),
  'deposit: set while the contract is a draft');
SELECT throws_ok(format('UPDATE leasemgr.contract SET deposit_amount = -1 WHERE id = %s', :a), '23514', NULL,
  'deposit: never negative');
SELECT th.walk(:a, 'pending_approval');
SELECT results_eq(
  format($$SELECT code, detail FROM th.error_of('UPDATE leasemgr.contract SET deposit_amount = 60000 WHERE id = %s')$$, :a),
  $$VALUES ('LM004', 'Contract RR-A is pending_approval; deposit_amount can change only while the contract is a draft (was 51000.00, would be 60000.00).')$$,
  'deposit: locked from submission (LM004), and the refusal names it');
SELECT th.fire(:a, 'approve', 'th.approver');
UPDATE leasemgr.contract SET document_sha256 = repeat('ab', 32) WHERE id = :a;
SELECT th.fire(:a, 'sign');
SELECT th.fire(:a, 'activate');
SELECT throws_ok(format('UPDATE leasemgr.contract SET deposit_amount = NULL WHERE id = %s', :a), 'LM004', NULL,
  'deposit: locked on an active contract too');

-- The rent roll of 2026-03-15, step 1 in force: 85.0000 x 1.05 = 89.2500 CNY/m²/month;
-- the contract's monthly rent 89.25 x 200.00 = 17,850.00, split by area, rounded
-- cumulatively in unit id order:
--   A1: 17,850.00 x 120.50 / 200.00 = 10,754.625 -> 10,754.63
--   A2: 17,850.00 x 200.00 / 200.00 - 10,754.63 = 7,095.37 (not 7,095.375 -> 7,095.38, which
--       would make the units 1 cent more than the contract)
-- rent start: the day after the free rent, 2025-03-01; next step: 2025-01-01 + 2 x 12
-- months = 2027-01-01; the bills issued later (below) are not yet owed that day: 0.00.
SELECT results_eq(
  format($$SELECT park_code, building_code, unit_code, tenant_name, contract_code, state, billable_area_m2,
                  monthly_rent, rent_per_m2, start_date, rent_start_date, end_date, next_escalation_on,
                  deposit_amount, balance_due
             FROM leasemgr.rent_roll_as_of('2026-03-15') WHERE park_id = %s$$, :p),
  $$VALUES ('RR', 'B', 'A1', 'Tenant 9101', 'RR-A', 'active', 120.50, 10754.63, 89.25,
            '2025-01-01'::date, '2025-03-01'::date, '2027-12-31'::date, '2027-01-01'::date, 51000.00, 0.00),
           ('RR', 'B', 'A2', 'Tenant 9101', 'RR-A', 'active', 79.50, 7095.37, 89.25,
            '2025-01-01'::date, '2025-03-01'::date, '2027-12-31'::date, '2027-01-01'::date, 51000.00, 0.00)$$,
  'rent roll 2026-03-15: rent after the 5% step, split by area, rent start after free rent, next step');
SELECT is((SELECT sum(monthly_rent) FROM leasemgr.rent_roll_as_of('2026-03-15') WHERE contract_id = :a), 17850.00,
  'rent roll: the units add up to the contract''s monthly rent, 89.25 x 200.00 = 17,850.00');
-- During the free rent the contractual rent is shown, not zero: 85.00 x 200.00 = 17,000.00.
SELECT results_eq(
  format($$SELECT monthly_rent, rent_per_m2, next_escalation_on FROM leasemgr.rent_in_force(%s, '2025-02-10')$$, :a),
  $$VALUES (10242.50, 85.00, '2026-01-01'::date), (6757.50, 85.00, '2026-01-01'::date)$$,
  'rent in free rent: the contractual 85.00/m² (17,000.00 x 120.50/200 = 10,242.50; 17,000.00 - 10,242.50 = 6,757.50)');
-- On the step day the new rate is in force, and the next step is a year on.
SELECT results_eq(
  format($$SELECT rent_per_m2, next_escalation_on FROM leasemgr.rent_in_force(%s, '2026-01-01') LIMIT 1$$, :a),
  $$VALUES (89.25, '2027-01-01'::date)$$,
  'on the step day: 89.25 in force, next step 2027-01-01');
-- Step 2: 85 x 1.05² = 93.7125 -> 93.71 per m² (rounded once); 93.7125 x 200 = 18,742.50.
-- Step 3 would be 2028-01-01, after the lease: no next step.
SELECT results_eq(
  format($$SELECT sum(monthly_rent), min(rent_per_m2), min(next_escalation_on) FROM leasemgr.rent_in_force(%s, '2027-06-01')$$, :a),
  $$VALUES (18742.50, 93.71, NULL::date)$$,
  'after the last step: 18,742.50 a month, 93.71/m², no next step');
SELECT is_empty(format($$SELECT FROM leasemgr.rent_roll_as_of('2024-12-31') WHERE contract_id = %s$$, :a),
  'rent roll: not in force the day before the lease');
SELECT throws_ok('SELECT * FROM leasemgr.rent_in_force(-1, ''2026-01-01'')', 'LM009', NULL,
  'rent_in_force: an unknown contract is an error');

-- Bill runs as finance: January to March 2025 in one bill of period March:
-- rent 0.00 + 0.00 (free) + 85 x 200 = 17,000.00; property fee 3 x 12 x 200 = 7,200.00;
-- turnover not reported, not billed: 24,200.00.
CREATE ROLE lm_t_rr_fin LOGIN IN ROLE leasemgr_finance;
SELECT leasemgr.grant_park('lm_t_rr_fin', :p);
SET ROLE lm_t_rr_fin;
SELECT is((SELECT amount FROM leasemgr.bill_run('2025-03-01', :p)), 24200.00, 'bill run: 24,200.00 for January to March 2025');
RESET ROLE;

-- ---- The straight-line schedule of A ------------------------------------------------------
-- Fixed rent billed: 2025: 10 x 17,000.00 = 170,000.00 (two months free); 2026: 12 x 17,850.00
-- = 214,200.00; 2027: 12 x 18,742.50 = 224,910.00; total 609,110.00 over 1095 days.
-- The property fee and the turnover rent are not in it.
SELECT results_eq(
  format('SELECT count(*)::int, sum(billed), sum(straight_line) FROM leasemgr.straight_line_schedule(%s)', :a),
  $$VALUES (36, 609110.00, 609110.00)$$,
  'straight line: 36 months; sum of straight_line = sum of billed = 609,110.00');
SELECT results_eq(
  format($$SELECT month, billed, straight_line, deferred_balance FROM leasemgr.straight_line_schedule(%s)
           WHERE month IN ('2025-01-01', '2025-02-01', '2025-03-01', '2025-12-01', '2026-12-01', '2027-01-01', '2027-12-01')
           ORDER BY month$$, :a),
  $$VALUES
    -- 609,110 x 31/1095 = 17,244.2101 -> 17,244.21; free: nothing billed, all accrued
    ('2025-01-01'::date, 0.00, 17244.21, 17244.21),
    -- cumulative 609,110 x 59/1095 = 32,819.6255 -> 32,819.63; 32,819.63 - 17,244.21 = 15,575.42
    ('2025-02-01'::date, 0.00, 15575.42, 32819.63),
    -- cumulative 609,110 x 90/1095 = 50,063.8356 -> 50,063.84; - 32,819.63 = 17,244.21;
    -- deferred 50,063.84 - 17,000.00 = 33,063.84
    ('2025-03-01'::date, 17000.00, 17244.21, 33063.84),
    -- cumulative 609,110 x 365/1095 = 203,036.6667 -> 203,036.67; 609,110 x 334/1095 =
    -- 185,792.4566 -> 185,792.46; 203,036.67 - 185,792.46 = 17,244.21;
    -- deferred 203,036.67 - 170,000.00 = 33,036.67
    ('2025-12-01'::date, 17000.00, 17244.21, 33036.67),
    -- cumulative 609,110 x 730/1095 = 406,073.3333 -> 406,073.33; billed 170,000.00 +
    -- 214,200.00 = 384,200.00; deferred 21,873.33
    ('2026-12-01'::date, 17850.00, 17244.21, 21873.33),
    -- cumulative 609,110 x 761/1095 = 423,317.5434 -> 423,317.54; - 406,073.33 = 17,244.21;
    -- deferred 423,317.54 - 402,942.50 = 20,375.04
    ('2027-01-01'::date, 18742.50, 17244.21, 20375.04),
    -- cumulative 609,110 x 1095/1095 = 609,110.00; - 609,110 x 1064/1095 (591,865.7899 ->
    -- 591,865.79) = 17,244.21; deferred 609,110.00 - 609,110.00 = 0.00
    ('2027-12-01'::date, 18742.50, 17244.21, 0.00)$$,
  'straight line: free rent and two 5% steps, deferred balance ending at exactly 0.00');
SELECT throws_ok('SELECT * FROM leasemgr.straight_line_schedule(-1)', 'LM009', NULL,
  'straight line: an unknown contract is an error');

-- A quarterly rent in advance: each quarter's line counts in its first month.
-- Lease 2025-01-01..2025-12-31, 365 days; 3,000.00 a month billed 9,000.00 a quarter.
SELECT th.unit(:p, 'Q1', 50) AS q1 \gset
SELECT pg_temp.draft(:p, 'RR-Q', ARRAY[:q1], '2025-01-01', '2025-12-31') AS q \gset
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, cycle_months) VALUES (:q, 'rent', 'fixed_month', 3000, 3);
SELECT results_eq(
  format($$SELECT month, billed, straight_line, deferred_balance FROM leasemgr.straight_line_schedule(%s)
           WHERE month IN ('2025-01-01', '2025-02-01', '2025-04-01', '2025-12-01') ORDER BY month$$, :q),
  $$VALUES
    -- 36,000 x 31/365 = 3,057.5342 -> 3,057.53; billed in advance: deferred 3,057.53 - 9,000.00
    ('2025-01-01'::date, 9000.00, 3057.53, -5942.47),
    -- 36,000 x 59/365 = 5,819.1781 -> 5,819.18; - 3,057.53 = 2,761.65; 5,819.18 - 9,000.00
    ('2025-02-01'::date, 0.00, 2761.65, -3180.82),
    -- 36,000 x 120/365 = 11,835.6164 -> 11,835.62; 36,000 x 90/365 = 8,876.7123 -> 8,876.71;
    -- 11,835.62 - 8,876.71 = 2,958.91; 11,835.62 - 18,000.00 = -6,164.38
    ('2025-04-01'::date, 9000.00, 2958.91, -6164.38),
    -- 36,000.00 - 36,000 x 334/365 (32,942.4658 -> 32,942.47) = 3,057.53; 36,000.00 - 36,000.00
    ('2025-12-01'::date, 0.00, 3057.53, 0.00)$$,
  'straight line of a quarterly rent: lines in the quarter''s first month, deferred income negative');

-- ---- Which contracts are in force -----------------------------------------------------------
-- Park RS: one contract per state, on its own unit, a 2024 lease unless said otherwise.
SELECT th.park('RS') AS s \gset
SELECT pg_temp.leased(:s, 'S-EXPIRED', ARRAY[th.unit(:s, 'S1')], '2024-01-01', '2024-12-31', 'expired') AS s_exp \gset
SELECT pg_temp.leased(:s, 'S-MOVING', ARRAY[th.unit(:s, 'S2')], '2024-01-01', '2024-12-31', 'moving_out') AS s_mov \gset
-- th.walk terminates on the first day: terminated_on 2024-01-01
SELECT pg_temp.leased(:s, 'S-TERM', ARRAY[th.unit(:s, 'S3')], '2024-01-01', '2024-12-31', 'terminated') AS s_term \gset
SELECT pg_temp.leased(:s, 'S-CLOSED', ARRAY[th.unit(:s, 'S4')], '2024-01-01', '2024-12-31', 'closed') AS s_closed \gset
SELECT pg_temp.leased(:s, 'S-DRAFT', ARRAY[th.unit(:s, 'S5')], '2024-01-01', '2024-12-31', 'draft') AS s_draft \gset
SELECT pg_temp.leased(:s, 'S-CANCEL', ARRAY[th.unit(:s, 'S6')], '2024-01-01', '2024-12-31', 'cancelled') AS s_cancel \gset
SELECT pg_temp.leased(:s, 'S-SIGNED', ARRAY[th.unit(:s, 'S7')], '2099-01-01', '2099-12-31', 'signed') AS s_signed \gset
-- per_m2_day: 3.0000 CNY/m²/day on 100 m²: in February 2025 a full month is 28 days.
SELECT pg_temp.draft(:s, 'S-DAY', ARRAY[th.unit(:s, 'S8')], '2025-01-01', '2025-12-31') AS s_day \gset
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate) VALUES (:s_day, 'rent', 'per_m2_day', 3);
SELECT th.walk(:s_day, 'active');

SELECT results_eq(
  format($$SELECT contract_code, state, end_date, monthly_rent FROM leasemgr.rent_roll_as_of('2024-01-01')
           WHERE park_id = %s ORDER BY contract_code$$, :s),
  $$VALUES ('S-EXPIRED', 'expired', '2024-12-31'::date, 1000.00),
           ('S-MOVING', 'moving_out', '2024-12-31'::date, 1000.00),
           ('S-TERM', 'terminated', '2024-01-01'::date, 1000.00)$$,
  'in force on 2024-01-01: expired, moving out and terminated (ending that day); not closed, draft, cancelled');
SELECT results_eq(
  format($$SELECT contract_code FROM leasemgr.rent_roll_as_of('2024-06-30') WHERE park_id = %s ORDER BY 1$$, :s),
  $$VALUES ('S-EXPIRED'), ('S-MOVING')$$,
  'on 2024-06-30 the terminated lease is over');
SELECT is_empty(format($$SELECT FROM leasemgr.rent_roll_as_of('2099-06-01') WHERE park_id = %s$$, :s),
  'a signed contract is not in force, even inside its dates');
SELECT results_eq(
  format($$SELECT monthly_rent, rent_per_m2, rent_start_date, next_escalation_on, deposit_amount
           FROM leasemgr.rent_roll_as_of('2025-02-10') WHERE contract_id = %s$$, :s_day),
  $$VALUES (8400.00, 84.00, '2025-01-01'::date, NULL::date, NULL::numeric)$$,
  'per_m2_day: 3.00 x 100 m² x 28 days = 8,400.00 a month, 84.00/m²; no step, no deposit');

-- ---- Receivables aging, and the balance in the rent roll ------------------------------------
-- Leases from the first day of this month (M0) for a year, 1,000.00 a month in advance, due
-- on the 5th. bill_run dates a bill due in the past on the day it issues it.
SELECT date_trunc('month', leasemgr.business_date())::date AS m0 \gset
SELECT (:'m0'::date + interval '1 year' - interval '1 day')::date AS m0_end \gset

-- Park AH, contract H: one bill of 1,000.00 (month M0), for the bucket boundaries.
SELECT th.park('AH') AS ph \gset
SELECT pg_temp.leased(:ph, 'AH-1', ARRAY[th.unit(:ph, 'H1')], :'m0', :'m0_end', 'active') AS h \gset
SELECT is((SELECT amount FROM leasemgr.bill_run(:'m0', :ph)), 1000.00, 'aging: H billed 1,000.00 for this month');
SELECT due_on AS h_due FROM leasemgr.bill WHERE contract_id = :h \gset
SELECT is(:'h_due'::date, greatest((:'m0'::date + 4), leasemgr.business_date()),
  'H is due on the 5th of the month, or today when that is past');
CREATE FUNCTION pg_temp.buckets(c bigint, as_of date) RETURNS numeric[] LANGUAGE sql AS $$
  SELECT ARRAY[current, days_1_30, days_31_60, days_61_90, days_over_90, total]
    FROM leasemgr.receivables_aging_as_of(as_of) WHERE contract_id = c
$$;
-- days past due = as_of - due_on: <= 0 current, 1..30, 31..60, 61..90, > 90
SELECT results_eq(
  format($$SELECT k, pg_temp.buckets(%s, %L::date + k) FROM unnest('{0,1,30,31,60,61,90,91,400}'::int[]) k$$, :h, :'h_due'),
  $$VALUES (0,   '{1000.00,0,0,0,0,1000.00}'::numeric[]),
           (1,   '{0,1000.00,0,0,0,1000.00}'::numeric[]),
           (30,  '{0,1000.00,0,0,0,1000.00}'::numeric[]),
           (31,  '{0,0,1000.00,0,0,1000.00}'::numeric[]),
           (60,  '{0,0,1000.00,0,0,1000.00}'::numeric[]),
           (61,  '{0,0,0,1000.00,0,1000.00}'::numeric[]),
           (90,  '{0,0,0,1000.00,0,1000.00}'::numeric[]),
           (91,  '{0,0,0,0,1000.00,1000.00}'::numeric[]),
           (400, '{0,0,0,0,1000.00,1000.00}'::numeric[])$$,
  'aging boundaries: due day current; 1 and 30 days; 31 and 60; 61 and 90; 91 and later');
SELECT is_empty(format($$SELECT FROM leasemgr.receivables_aging_as_of(%L::date - 1) WHERE contract_id = %s$$,
                       leasemgr.business_date(), :h),
  'aging the day before the bill was issued: nothing owed yet');

-- Park AG, contract G: bill 1 of 2,000.00 (M0 and M1 caught up, due M1-05) and bill 2 of
-- 1,000.00 (M2, due M2-05). M1 has L = 28..31 days, so as_of = due2 + k puts bill 2 at k
-- days and bill 1 at k + L days: the buckets below hold for every month length.
SELECT th.park('AG') AS pg \gset
SELECT th.unit(:pg, 'G1', 100) AS g1 \gset
SELECT pg_temp.leased(:pg, 'AG-1', ARRAY[:g1], :'m0', :'m0_end', 'active') AS g \gset
SELECT is((SELECT amount FROM leasemgr.bill_run((:'m0'::date + interval '1 month')::date, :pg)), 2000.00,
  'aging: G billed 2 x 1,000.00 for this month and the next');
SELECT is((SELECT amount FROM leasemgr.bill_run((:'m0'::date + interval '2 months')::date, :pg)), 1000.00,
  'aging: G billed 1,000.00 for the month after');
SELECT (:'m0'::date + interval '2 months' + interval '4 days')::date AS g_due2 \gset
SELECT results_eq(
  format($$SELECT k, pg_temp.buckets(%s, %L::date + k) FROM unnest('{-1,10,40,70}'::int[]) k$$, :g, :'g_due2'),
  $$VALUES (-1, '{1000.00,2000.00,0,0,0,3000.00}'::numeric[]),  -- bill 2 not due; bill 1 at L - 1 = 27..30
           (10, '{0,1000.00,2000.00,0,0,3000.00}'::numeric[]),  -- 10 days; L + 10 = 38..41
           (40, '{0,0,1000.00,2000.00,0,3000.00}'::numeric[]),  -- 40 days; L + 40 = 68..71
           (70, '{0,0,0,1000.00,2000.00,3000.00}'::numeric[])$$, -- 70 days; L + 70 = 98..101
  'aging: a contract''s bills in their buckets, summed per contract');

SELECT results_eq(
  format('SELECT contract_code, current, total FROM leasemgr.receivables_aging WHERE park_id IN (%s, %s) ORDER BY 1', :pg, :ph),
  $$VALUES ('AG-1', 3000.00, 3000.00), ('AH-1', 1000.00, 1000.00)$$,
  'the receivables_aging view: today, nothing is overdue yet (bills due today or later)');
SELECT set_eq('SELECT * FROM leasemgr.receivables_aging',
  'SELECT * FROM leasemgr.receivables_aging_as_of(leasemgr.business_date())',
  'the receivables_aging view is receivables_aging_as_of(business_date())');

-- G in today's rent roll: 1,000.00 a month on 100 m² = 10.00/m²; balance 2,000.00 +
-- 1,000.00 = 3,000.00 (the bills are issued today, due later).
SELECT results_eq(
  format('SELECT unit_id, monthly_rent, rent_per_m2, balance_due FROM leasemgr.rent_roll WHERE contract_id = %s', :g),
  format('VALUES (%s::bigint, 1000.00, 10.00, 3000.00)', :g1),
  'rent roll today: balance due after the bills, 3,000.00');
SELECT results_eq(
  format('SELECT balance_due FROM leasemgr.rent_roll WHERE contract_id = %s', :h),
  $$VALUES (1000.00)$$,
  'rent roll today: H owes its one bill, 1,000.00');
SELECT set_eq('SELECT * FROM leasemgr.rent_roll', 'SELECT * FROM leasemgr.rent_roll_as_of(leasemgr.business_date())',
  'the rent_roll view is rent_roll_as_of(business_date())');

-- ---- Park scope: the reports show the reader's parks only ------------------------------------
CREATE ROLE lm_t_rr_bi LOGIN IN ROLE leasemgr_reader;
SELECT leasemgr.grant_park('lm_t_rr_bi', :p);
SET ROLE lm_t_rr_bi;
SELECT results_eq($$SELECT DISTINCT park_code FROM leasemgr.rent_roll_as_of('2026-03-15')$$, $$VALUES ('RR')$$,
  'reader of RR: the rent roll of RR only');
SELECT is_empty($$SELECT FROM leasemgr.rent_roll_as_of('2024-01-01')$$, 'reader of RR: nothing of park RS');
-- RR-A's bill of 24,200.00 was issued today, due today: current.
SELECT results_eq('SELECT park_code, contract_code, current, total FROM leasemgr.receivables_aging',
  $$VALUES ('RR', 'RR-A', 24200.00, 24200.00)$$, 'reader of RR: the aging of RR only, not of AG and AH');
SELECT throws_ok(format('SELECT * FROM leasemgr.straight_line_schedule(%s)', :g), 'LM009', NULL,
  'reader of RR: the straight line of another park''s contract is not found');
SELECT is((SELECT count(*)::int FROM leasemgr.straight_line_schedule(:a)), 36, 'reader of RR: the straight line of RR-A');
RESET ROLE;

-- ---- What BI tools read -------------------------------------------------------------------------
SELECT is_empty($$SELECT a.attname FROM pg_attribute a
                   WHERE a.attrelid IN ('leasemgr.rent_roll'::regclass, 'leasemgr.receivables_aging'::regclass)
                     AND a.attnum > 0 AND col_description(a.attrelid, a.attnum) IS NULL$$,
  'every column of the report views has a comment');
SELECT ok(NOT has_function_privilege('public', 'leasemgr.straight_line_schedule(bigint)', 'EXECUTE')
          AND NOT has_function_privilege('public', 'leasemgr.rent_in_force(bigint, date)', 'EXECUTE')
          AND NOT has_function_privilege('public', 'leasemgr.rent_roll_as_of(date)', 'EXECUTE')
          AND NOT has_function_privilege('public', 'leasemgr.receivables_aging_as_of(date)', 'EXECUTE'),
  'PUBLIC may not run the report functions');
SELECT ok(has_table_privilege('leasemgr_reader', 'leasemgr.rent_roll', 'SELECT')
          AND has_table_privilege('leasemgr_reader', 'leasemgr.receivables_aging', 'SELECT')
          AND has_function_privilege('leasemgr_reader', 'leasemgr.straight_line_schedule(bigint)', 'EXECUTE'),
  'leasemgr_reader reads the reports');

SELECT * FROM finish();
ROLLBACK;
