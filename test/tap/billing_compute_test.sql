-- What charges come to (leasemgr.compute_charges): proration in the three conventions, leap
-- years, escalation steps across cycle boundaries, CPI with cap and floor, free rent at the
-- start and mid-lease, turnover breakpoints, the one half-up rounding. Every amount has its
-- hand calculation beside it.
BEGIN;
SELECT plan(37);

SELECT th.park('BC') AS park \gset

-- A draft lease of one fresh unit of the given area (compute_charges reads drafts too).
CREATE FUNCTION pg_temp.lease(p_park bigint, p_code text, p_start date, p_end date, p_area numeric DEFAULT 120)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  c bigint;
  u bigint := th.unit(p_park, 'U-' || p_code, p_area);
BEGIN
  INSERT INTO leasemgr.contract (park_id, code, tenant_id, start_date, end_date)
  VALUES (p_park, p_code, th.tenant(p_park, nextval('th.n')::int), p_start, p_end) RETURNING id INTO c;
  INSERT INTO leasemgr.contract_unit (contract_id, unit_id) VALUES (c, u);
  RETURN c;
END
$$;
-- The amount of a charge's line starting on a day.
CREATE FUNCTION pg_temp.amount(p_contract bigint, p_charge bigint, p_start date) RETURNS numeric
LANGUAGE sql AS $$
  SELECT amount FROM leasemgr.compute_charges(p_contract, p_start, p_start)
   WHERE charge_id = p_charge AND period_start = p_start
$$;
CREATE FUNCTION pg_temp.explain(p_contract bigint, p_charge bigint, p_start date) RETURNS text
LANGUAGE sql AS $$
  SELECT explain FROM leasemgr.compute_charges(p_contract, p_start, p_start)
   WHERE charge_id = p_charge AND period_start = p_start
$$;

-- Proration of a partial month, three conventions. Lease from 2027-03-15.
SELECT pg_temp.lease(:park, 'P-ACT', '2027-03-15', '2028-03-14') AS c_act \gset
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate) VALUES (:c_act, 'rent', 'fixed_month', 1800)
RETURNING id AS ch_act \gset
-- 1,800.00 x 17/31 = 987.0967... = 987.10 (the issue's example)
SELECT is(pg_temp.amount(:c_act, :ch_act, '2027-03-15'), 987.10, 'actual_days: 1,800.00 for March 15..31 is 1,800 x 17/31 = 987.10');
SELECT is(pg_temp.explain(:c_act, :ch_act, '2027-03-15'), '1800.0000 CNY/month x 17/31 days = 987.10',
  '... explained with its inputs');
-- a full month is the monthly amount
SELECT is(pg_temp.amount(:c_act, :ch_act, '2027-04-01'), 1800.00, 'a full April is 1,800.00');
-- the last period stops at the end of the lease: March 1..14 of 2028, 1,800 x 14/31 = 812.903... = 812.90
SELECT is(pg_temp.amount(:c_act, :ch_act, '2028-03-01'), 812.90, 'the last month 2028-03-01..14 is 1,800 x 14/31 = 812.90');
SELECT is((SELECT count(*) FROM leasemgr.compute_charges(:c_act, '2027-01-01', '2030-12-31'))::int, 13,
  'a lease 2027-03-15..2028-03-14 billed monthly has 13 lines');

SELECT pg_temp.lease(:park, 'P-360', '2027-03-15', '2028-03-14') AS c_360 \gset
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, proration) VALUES (:c_360, 'rent', 'fixed_month', 1800, 'thirty_360')
RETURNING id AS ch_360 \gset
-- 30/360: March 15..31 counts days 15..30 = 16 of 30: 1,800 x 16/30 = 960.00
SELECT is(pg_temp.amount(:c_360, :ch_360, '2027-03-15'), 960.00, 'thirty_360: March 15..31 is 1,800 x 16/30 = 960.00');

SELECT pg_temp.lease(:park, 'P-365', '2027-03-15', '2028-03-14') AS c_365 \gset
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, proration) VALUES (:c_365, 'rent', 'fixed_month', 1800, 'annual_365')
RETURNING id AS ch_365 \gset
-- annual_365: 1,800 x 12 x 17 / 365 = 367,200 / 365 = 1,006.0274 = 1,006.03
SELECT is(pg_temp.amount(:c_365, :ch_365, '2027-03-15'), 1006.03, 'annual_365: 1,800 x 12 x 17/365 = 1,006.03');
SELECT is(pg_temp.explain(:c_365, :ch_365, '2027-03-15'), '1800.0000 CNY/month x 17 days x 12/365 = 1,006.03',
  '... explained');

-- Leap year: 2028-02-15..29 is 15 of 29 days: 1,800 x 15/29 = 931.034... = 931.03
SELECT pg_temp.lease(:park, 'P-LEAP', '2028-02-15', '2028-12-31') AS c_leap \gset
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate) VALUES (:c_leap, 'rent', 'fixed_month', 1800)
RETURNING id AS ch_leap \gset
SELECT is(pg_temp.amount(:c_leap, :ch_leap, '2028-02-15'), 931.03, 'leap year: 2028-02-15..29 is 1,800 x 15/29 = 931.03');

-- Escalation (pct) across a cycle boundary: 120 m2 x 85.0000 = 10,200.00 a month, +5% a
-- year counted from an anchor of 2026-01-01 (step 1 on 2027-01-01), billed quarterly from
-- 2026-11-01: the quarter Nov..Jan is cut at the step.
SELECT pg_temp.lease(:park, 'P-ESC', '2026-11-01', '2029-10-31') AS c_esc \gset
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, cycle_months, escalation, escalate_every_months,
                             escalation_anchor, escalation_pct)
VALUES (:c_esc, 'rent', 'per_m2_month', 85, 3, 'pct', 12, '2026-01-01', 5) RETURNING id AS ch_esc \gset
-- Nov + Dec at step 0: 10,200 x 2 = 20,400.00
SELECT is(pg_temp.amount(:c_esc, :ch_esc, '2026-11-01'), 20400.00, 'Nov..Dec before the step: 120 x 85 x 2 = 20,400.00');
-- January at step 1: 10,200 x 1.05 = 10,710.00
SELECT is(pg_temp.amount(:c_esc, :ch_esc, '2027-01-01'), 10710.00, 'January after the step: 120 x 85 x 1.05 = 10,710.00');
SELECT is(pg_temp.explain(:c_esc, :ch_esc, '2027-01-01'),
  '120.00 m2 x 85.0000 CNY/m2/month x 1.05 (escalation step 1 from 2027-01-01) x 1 month = 10,710.00',
  '... explained with the step');
SELECT is((SELECT period_end FROM leasemgr.compute_charges(:c_esc, '2027-01-01', '2027-01-01') WHERE charge_id = :ch_esc),
  '2027-01-31'::date, '... the segment ends where the quarter ends');
-- Step 2 compounds: 10,200 x 1.05 x 1.05 = 10,200 x 1.1025 = 11,245.50 a month, x 3 = 33,736.50
SELECT is(pg_temp.amount(:c_esc, :ch_esc, '2028-02-01'), 33736.50, 'step 2 compounds: 10,200 x 1.1025 x 3 = 33,736.50');

-- Escalation by a fixed amount: 85 + 2 x 5 = 95.0000, x 120 = 11,400.00 in the third year.
SELECT pg_temp.lease(:park, 'P-AMT', '2026-01-01', '2028-12-31') AS c_amt \gset
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, escalation, escalate_every_months, escalation_amount)
VALUES (:c_amt, 'rent', 'per_m2_month', 85, 'amount', 12, 5) RETURNING id AS ch_amt \gset
SELECT is(pg_temp.amount(:c_amt, :ch_amt, '2028-05-01'), 11400.00, 'amount escalation: (85 + 2 x 5) x 120 = 11,400.00');
SELECT is(pg_temp.explain(:c_amt, :ch_amt, '2028-05-01'),
  '120.00 m2 x (85.0000 + 2 x 5.0000) CNY/m2/month (escalation step 2 from 2028-01-01) x 1 month = 11,400.00',
  '... explained');

-- CPI, base-index method, with a 5% cap and a 0% floor per step. Index 100 in 2025-12 (the
-- base: anchor 2026-01 minus a 1-month lag), 103 in 2026-12, 112 in 2027-12, 101 in 2028-12.
INSERT INTO leasemgr.price_index (series, month, value) VALUES
  ('T-CPI', '2025-12-01', 100), ('T-CPI', '2026-12-01', 103), ('T-CPI', '2027-12-01', 112),
  ('T-CPI', '2028-12-01', 101);
SELECT pg_temp.lease(:park, 'P-CPI', '2026-01-01', '2029-12-31') AS c_cpi \gset
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, escalation, escalate_every_months, cpi_series,
                             cpi_lag_months, cpi_cap_pct, cpi_floor_pct)
VALUES (:c_cpi, 'rent', 'per_m2_month', 85, 'cpi', 12, 'T-CPI', 1, 5, 0) RETURNING id AS ch_cpi \gset
SELECT is((SELECT cpi_base_month FROM leasemgr.charge WHERE id = :ch_cpi), '2025-12-01'::date,
  'the CPI base month defaults to the anchor month minus the lag');
-- step 1: 85 x 103/100 = 87.55 (+3%, within the cap); x 120 = 10,506.00
SELECT is(pg_temp.amount(:c_cpi, :ch_cpi, '2027-01-01'), 10506.00, 'CPI step 1: 120 x 85 x 103/100 = 10,506.00');
-- step 2: 85 x 112/100 = 95.20 would be +8.7%; capped at 87.55 x 1.05 = 91.9275; x 120 = 11,031.30
SELECT is(pg_temp.amount(:c_cpi, :ch_cpi, '2028-01-01'), 11031.30, 'CPI step 2 is capped: 120 x 87.55 x 1.05 = 11,031.30');
SELECT matches(pg_temp.explain(:c_cpi, :ch_cpi, '2028-01-01'), 'held at the \+5\.0000% cap', '... and says so');
-- step 3: 85 x 101/100 = 85.85 would fall; the 0% floor holds 91.9275; x 120 = 11,031.30
SELECT is(pg_temp.amount(:c_cpi, :ch_cpi, '2029-01-01'), 11031.30, 'CPI step 3 is floored: the rate stays 91.9275, 11,031.30');
-- A step whose index month is not loaded yet has no amount yet, and says which month it waits for.
SELECT pg_temp.lease(:park, 'P-CPIX', '2026-01-01', '2030-12-31') AS c_cpix \gset
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, escalation, escalate_every_months, cpi_series, cpi_lag_months)
VALUES (:c_cpix, 'rent', 'per_m2_month', 85, 'cpi', 12, 'T-CPI', 1);
SELECT results_eq(format($$SELECT amount, explain FROM leasemgr.compute_charges(%s, '2030-01-01', '2030-01-31')$$, :c_cpix),
  $$VALUES (NULL::numeric, 'CPI step 4 needs T-CPI 2029-12, not loaded yet: billed once leasemgr.price_index has the month')$$,
  'a CPI step without its index month has no amount yet, and names the month');

-- Free rent at the start (rent only) and mid-lease.
SELECT pg_temp.lease(:park, 'P-FREE', '2027-01-01', '2029-12-31') AS c_free \gset
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate) VALUES (:c_free, 'rent', 'per_m2_month', 85)
RETURNING id AS ch_free_rent \gset
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate) VALUES (:c_free, 'property_fee', 'per_m2_month', 8.5)
RETURNING id AS ch_free_fee \gset
INSERT INTO leasemgr.free_rent_period (contract_id, days) VALUES
  (:c_free, '[2027-01-01,2027-02-14]'), (:c_free, '[2027-03-01,2027-03-14]');
SELECT is(pg_temp.amount(:c_free, :ch_free_rent, '2027-01-01'), 0.00, 'January is free rent: 0.00');
-- February: 14 of 28 days charged: 10,200 x 14/28 = 5,100.00
SELECT is(pg_temp.amount(:c_free, :ch_free_rent, '2027-02-01'), 5100.00, 'February after the 14th: 10,200 x 14/28 = 5,100.00');
-- March: 17 of 31 days: 10,200 x 17/31 = 5,593.548... = 5,593.55
SELECT is(pg_temp.explain(:c_free, :ch_free_rent, '2027-03-01'),
  '120.00 m2 x 85.0000 CNY/m2/month x 17/31 days = 5,593.55; free rent 2027-03-01..2027-03-14 not charged',
  'mid-lease free rent: 10,200 x 17/31 = 5,593.55, and the free days are named');
-- the property fee is not free: 120 x 8.5 = 1,020.00
SELECT is(pg_temp.amount(:c_free, :ch_free_fee, '2027-01-01'), 1020.00, 'free rent leaves the property fee due: 1,020.00');
SELECT is(leasemgr.rent_start_date(:c_free), '2027-02-15'::date, 'the rent start date is the day after the free rent');

-- per m2 per day: April (30 days) x 120 m2 x 3.5000 = 12,600.00
SELECT pg_temp.lease(:park, 'P-DAY', '2027-04-01', '2027-12-31') AS c_day \gset
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate) VALUES (:c_day, 'rent', 'per_m2_day', 3.5)
RETURNING id AS ch_day \gset
SELECT is(pg_temp.amount(:c_day, :ch_day, '2027-04-01'), 12600.00, 'per_m2_day: 120 x 3.5 x 30 days = 12,600.00');

-- Turnover rent: 8% of monthly sales above 200,000.00, in arrears.
SELECT pg_temp.lease(:park, 'P-TURN', '2027-03-01', '2027-12-31') AS c_turn \gset
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, breakpoint, billed)
VALUES (:c_turn, 'turnover', 'turnover_pct', 8, 200000, 'arrears') RETURNING id AS ch_turn \gset
INSERT INTO leasemgr.turnover_report (contract_id, month, sales) VALUES (:c_turn, '2027-03-01', 312000),
  (:c_turn, '2027-04-01', 150000);
-- 8% x (312,000 - 200,000) = 8% x 112,000 = 8,960.00
SELECT is(pg_temp.amount(:c_turn, :ch_turn, '2027-03-01'), 8960.00, 'turnover: 8% x (312,000 - 200,000) = 8,960.00');
SELECT is(pg_temp.explain(:c_turn, :ch_turn, '2027-03-01'),
  '8.0000% x max(0, 312,000.00 sales 2027-03 - 200,000.00 breakpoint) = 8,960.00', '... explained');
-- below the breakpoint: 8% x max(0, 150,000 - 200,000) = 0.00
SELECT is(pg_temp.amount(:c_turn, :ch_turn, '2027-04-01'), 0.00, 'sales below the breakpoint: 0.00');
SELECT ok(pg_temp.amount(:c_turn, :ch_turn, '2027-05-01') IS NULL, 'a month without a sales report has no amount yet');
SELECT throws_ok(format($$INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, breakpoint)
                          VALUES (%s, 'turnover', 'turnover_pct', 5, 0)$$, :c_turn), 'LM015',
  'turnover rent is billed in arrears', 'a turnover charge billed in advance is refused with a hint');

-- Rounding: half-up, once, at the line. 1.00 m2 x 0.0050 CNY/m2/day x 1 day = 0.005 -> 0.01;
-- 0.0049 -> 0.0049 -> 0.00.
SELECT pg_temp.lease(:park, 'P-HALF', '2027-03-01', '2027-03-01', 1) AS c_half \gset
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate) VALUES (:c_half, 'rent', 'per_m2_day', 0.005)
RETURNING id AS ch_half \gset
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate) VALUES (:c_half, 'service', 'per_m2_day', 0.0049)
RETURNING id AS ch_down \gset
SELECT is(pg_temp.amount(:c_half, :ch_half, '2027-03-01'), 0.01, 'half a cent rounds up: 0.005 -> 0.01');
SELECT is(pg_temp.amount(:c_half, :ch_down, '2027-03-01'), 0.00, 'less than half a cent rounds down: 0.0049 -> 0.00');

-- Bad input.
SELECT throws_ok($$SELECT * FROM leasemgr.compute_charges(-1, '2027-01-01', '2027-12-31')$$, 'LM009',
  'contract -1 does not exist', 'an unknown contract is refused');
SELECT throws_ok(format($$SELECT * FROM leasemgr.compute_charges(%s, '2027-12-31', '2027-01-01')$$, :c_act), 'LM011',
  NULL, 'a range ending before it starts is refused');

SELECT * FROM finish();
ROLLBACK;
