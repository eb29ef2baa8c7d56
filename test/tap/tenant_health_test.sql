-- Tenant cash-flow health (docs/metering.md, "Tenant cash-flow health"): the billing periods a
-- tenant is measured on, payment-channel stability, the deposit-to-receivable ratio and
-- payment-date drift with their healthy ranges and flags, and the credit warning the drift
-- raises: refused submissions (LM019), an idempotent refresh, clearing by an admin only,
-- audited, and a clearing that keeps its periods from blocking again. Every figure is worked
-- out by hand beside its assertion; bills are 1,000.00 of principal due on the 5th.
BEGIN;
SELECT plan(60);

\ir payment_helpers.sql

-- A lease of a tenant on a fresh unit, with a deposit, walked to a state (submitted before
-- the tenant has any bill, so the credit guard has nothing to say yet).
CREATE FUNCTION pg_temp.lease(p_park bigint, p_code text, p_tenant bigint, p_deposit numeric,
                              p_state text DEFAULT 'active', p_start date DEFAULT '2025-12-01',
                              p_end date DEFAULT '2026-12-31') RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  c bigint := th.draft(p_park, p_code, ARRAY[th.unit(p_park, p_code || '-U')], p_start, p_end, p_tenant);
BEGIN
  UPDATE leasemgr.contract SET deposit_amount = p_deposit WHERE id = c;
  PERFORM th.walk(c, p_state);
  RETURN c;
END
$$;

-- A payment, with a reference of its own.
CREATE FUNCTION pg_temp.pay(p_contract bigint, p_amount numeric, p_on date, p_channel text DEFAULT 'bank_transfer')
RETURNS bigint LANGUAGE sql AS $$
  SELECT leasemgr.record_payment(p_contract, p_amount, p_on, p_channel, 'TH-' || nextval('th.n'))
$$;

-- A month's rent: a bill of 1,000.00 issued on the 1st and due on the 5th, paid in full on
-- p_paid_on when given (the payment goes to it: the earlier months are paid by then).
CREATE FUNCTION pg_temp.rent(p_contract bigint, p_month date, p_paid_on date DEFAULT NULL,
                             p_channel text DEFAULT 'bank_transfer') RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  b bigint := pg_temp.bill(p_contract, p_month, p_month + 4, 1000.00);
BEGIN
  IF p_paid_on IS NOT NULL THEN
    PERFORM pg_temp.pay(p_contract, 1000.00, p_paid_on, p_channel);
  END IF;
  RETURN b;
END
$$;

-- A new draft of the tenant on a fresh unit, to submit.
CREATE FUNCTION pg_temp.offer(p_park bigint, p_code text, p_tenant bigint) RETURNS bigint LANGUAGE sql AS $$
  SELECT th.draft(p_park, p_code, ARRAY[th.unit(p_park, p_code || '-U')], '2027-01-01', '2027-12-31', p_tenant)
$$;

-- The health of some tenants as of a day, in the view's columns, by tenant id.
CREATE FUNCTION pg_temp.health(p_as_of date, p_tenants bigint[])
RETURNS TABLE (tenant_id bigint, periods date[], periods_considered integer, billed numeric, billed_months integer,
               main_channel text, channel_stability_pct numeric, channel_stability_range text,
               channel_stability_flag boolean, deposit_held numeric, deposit_ratio_pct numeric,
               deposit_ratio_range text, deposit_ratio_flag boolean, drift_days numeric, drift_range text,
               drift_flag boolean, credit_warning text) LANGUAGE sql AS $$
  SELECT h.tenant_id, h.periods, h.periods_considered, h.billed, h.billed_months, h.main_channel,
         h.channel_stability_pct, h.channel_stability_range, h.channel_stability_flag, h.deposit_held,
         h.deposit_ratio_pct, h.deposit_ratio_range, h.deposit_ratio_flag, h.drift_days, h.drift_range,
         h.drift_flag, h.credit_warning
    FROM leasemgr.tenant_health_as_of(p_as_of) h WHERE h.tenant_id = ANY (p_tenants) ORDER BY h.tenant_id
$$;

SELECT th.park('TH') AS p \gset

-- ---- A: healthy, on the boundaries ------------------------------------------------------
-- December 2025 (paid 30 days late, in cash) is a fourth, older period; January is paid 3
-- days early, February 2 days late, March 550.00 by bank on 03-03 and the last 450.00 by
-- WeChat on 03-10 (5 days late). An April bill is void. A renewal signed for 2027 has a
-- deposit of its own, not paid yet.
SELECT th.tenant(:p, 8101) AS ta \gset
SELECT pg_temp.lease(:p, 'TH-A', :ta, 2640.00) AS ca \gset
SELECT pg_temp.lease(:p, 'TH-A2', :ta, 5000.00, 'signed', '2027-01-01', '2027-12-31') AS ca2 \gset
SELECT pg_temp.rent(:ca, '2025-12-01', '2026-01-04', 'cash');
SELECT pg_temp.rent(:ca, '2026-01-01', '2026-01-02');
SELECT pg_temp.rent(:ca, '2026-02-01', '2026-02-07');
SELECT pg_temp.rent(:ca, '2026-03-01');
SELECT pg_temp.pay(:ca, 550.00, '2026-03-03');
SELECT pg_temp.pay(:ca, 450.00, '2026-03-10', 'wechat');
SELECT pg_temp.rent(:ca, '2026-04-01') AS a4 \gset
UPDATE leasemgr.bill SET voided_at = now(), void_reason = 'issued twice' WHERE id = :a4;

-- ---- B: just outside ---------------------------------------------------------------------
-- November and December 2025 paid 5 and 4 days late; January and February 2026 paid on the
-- day; March (with a 20.00 late fee, never paid) 549.99 by bank on 03-01 and 450.01 by
-- WeChat on 03-13, 8 days late.
SELECT th.tenant(:p, 8102) AS tb \gset
SELECT pg_temp.lease(:p, 'TH-B', :tb, 2641.20, 'active', '2025-11-01') AS cb \gset
SELECT pg_temp.rent(:cb, '2025-11-01', '2025-11-10');
SELECT pg_temp.rent(:cb, '2025-12-01', '2025-12-09');
SELECT pg_temp.rent(:cb, '2026-01-01', '2026-01-05');
SELECT pg_temp.rent(:cb, '2026-02-01', '2026-02-05');
SELECT pg_temp.bill(:cb, '2026-03-01', '2026-03-05', 1000.00, 20.00);
SELECT pg_temp.pay(:cb, 549.99, '2026-03-01');
SELECT pg_temp.pay(:cb, 450.01, '2026-03-13', 'wechat');

-- ---- C: two periods, 2 and 3 days late, by Alipay -----------------------------------------
SELECT th.tenant(:p, 8103) AS tc \gset
SELECT pg_temp.lease(:p, 'TH-C', :tc, 1440.00) AS cc \gset
SELECT pg_temp.rent(:cc, '2026-01-01', '2026-01-07', 'alipay');
SELECT pg_temp.rent(:cc, '2026-02-01', '2026-02-08', 'alipay');

-- ---- D: two periods on time, the second taken from the deposit -----------------------------
SELECT th.tenant(:p, 8104) AS td \gset
SELECT pg_temp.lease(:p, 'TH-D', :td, 1438.80) AS cd \gset
SELECT pg_temp.rent(:cd, '2026-01-01', '2026-01-05');
SELECT pg_temp.rent(:cd, '2026-02-01', '2026-02-05', 'deposit_offset');
-- April's rent paid ahead on 04-10; its bill is issued 04-20, after the day D is measured on.
SELECT pg_temp.pay(:cd, 1000.00, '2026-04-10');
SELECT pg_temp.bill(:cd, '2026-04-20', '2026-04-25', 1000.00);
SELECT leasemgr.apply_credit(:cd);

-- ---- S: a month with a supplementary bill -------------------------------------------------
-- January's bill paid on the day; a supplementary January bill of 500.00 (a turnover month
-- reported late) issued 01-20, due 01-25, paid 01-28.
SELECT th.tenant(:p, 8110) AS ts \gset
SELECT pg_temp.lease(:p, 'TH-S', :ts, 2000.00) AS cs \gset
SELECT pg_temp.rent(:cs, '2026-01-01', '2026-01-05');
SELECT pg_temp.bill(:cs, '2026-01-20', '2026-01-25', 500.00);
SELECT pg_temp.pay(:cs, 500.00, '2026-01-28');

-- ---- H: a tenant with a draft only ---------------------------------------------------------
SELECT th.tenant(:p, 8105) AS th_ \gset
SELECT th.draft(:p, 'TH-H', ARRAY[th.unit(:p, 'TH-H-U')], '2026-01-01', '2026-12-31', :th_);

-- ---- E: as of which day ----------------------------------------------------------------------
-- January paid on the day; February paid only on 05-20; March (issued 03-01) never paid.
SELECT th.tenant(:p, 8106) AS te \gset
SELECT pg_temp.lease(:p, 'TH-E', :te, 2000.00) AS ce \gset
SELECT pg_temp.rent(:ce, '2026-01-01', '2026-01-05');
SELECT pg_temp.rent(:ce, '2026-02-01');
SELECT pg_temp.rent(:ce, '2026-03-01');
SELECT pg_temp.pay(:ce, 1000.00, '2026-05-20');                  -- pays February, the oldest due

-- ---- F: two consecutive late periods ---------------------------------------------------------
-- January on the day, February 4 days late (02-09), March 3 days late (03-08).
SELECT th.tenant(:p, 8107) AS tf \gset
SELECT pg_temp.lease(:p, 'TH-F', :tf, 2000.00) AS cf \gset
SELECT pg_temp.rent(:cf, '2026-01-01', '2026-01-05');
SELECT pg_temp.rent(:cf, '2026-02-01', '2026-02-09');
SELECT pg_temp.rent(:cf, '2026-03-01', '2026-03-08');

-- ---- the periods ------------------------------------------------------------------------------
-- A on 2026-04-15: the void April bill does not count. December: paid 01-04, 30 days after
-- 12-05. January: paid 01-02, 3 days before 01-05: drift 0, not -3. February: 02-07 - 02-05 = 2.
-- March: completed by the WeChat payment of 03-10: 5 days. Late: more than 2.5 days.
SELECT results_eq(format($$SELECT * FROM leasemgr.tenant_payment_periods(%s, '2026-04-15')$$, :ta),
  $$VALUES ('2025-12-01'::date, 1, 1000.00, 1, '2025-12-05'::date, '2026-01-04'::date, 30, true, '{"cash": 1000.00}'::jsonb),
           ('2026-01-01', 1, 1000.00, 1, '2026-01-05', '2026-01-02', 0, false, '{"bank_transfer": 1000.00}'),
           ('2026-02-01', 1, 1000.00, 1, '2026-02-05', '2026-02-07', 2, false, '{"bank_transfer": 1000.00}'),
           ('2026-03-01', 1, 1000.00, 1, '2026-03-05', '2026-03-10', 5, true, '{"bank_transfer": 550.00, "wechat": 450.00}')$$,
  'periods: one per bill month, void bills left out, early payment is drift 0, the payment that completes the bill sets its day');
-- B's March: the principal (1,000.00) was complete on 03-13 although the 20.00 late fee is
-- unpaid: 8 days; the late fee is not billed principal.
SELECT results_eq(format($$SELECT billed, paid_on, drift_days FROM leasemgr.tenant_payment_periods(%s, '2026-04-15')
                            WHERE period = '2026-03-01'$$, :tb),
  $$VALUES (1000.00, '2026-03-13'::date, 8)$$, 'a period is paid when its principal is: late fees are neither billed principal nor awaited');
-- S: one period of two bills. Each bill is measured against its own due day: the
-- supplementary bill 01-28 - 01-25 = 3 days, the first 0; the period takes the larger, 3 (not
-- 01-28 - 01-05 = 23, as if the month had one due day).
SELECT results_eq(format($$SELECT * FROM leasemgr.tenant_payment_periods(%s, '2026-04-15')$$, :ts),
  $$VALUES ('2026-01-01'::date, 2, 1500.00, 1, '2026-01-25'::date, '2026-01-28'::date, 3, true, '{"bank_transfer": 1500.00}'::jsonb)$$,
  'a supplementary bill is measured against its own due day; the period takes its latest bill');
-- E on 2026-02-20: March is not issued yet; February is unpaid and overdue: counted as paid
-- that day, 02-20 - 02-05 = 15 days, and the payment of 05-20 is not received yet.
SELECT results_eq(format($$SELECT period, due_on, paid_on, drift_days, late FROM leasemgr.tenant_payment_periods(%s, '2026-02-20')$$, :te),
  $$VALUES ('2026-01-01'::date, '2026-01-05'::date, '2026-01-05'::date, 0, false),
           ('2026-02-01', '2026-02-05', NULL, 15, true)$$,
  'on 02-20: an overdue bill counts as paid that day (15 days), a bill issued later does not exist yet');
-- E on 2026-03-03: March is issued but due 03-05 and unpaid: not yet due, the period is left
-- out; February: 03-03 - 02-05 = 26 days.
SELECT results_eq(format($$SELECT period, drift_days FROM leasemgr.tenant_payment_periods(%s, '2026-03-03')$$, :te),
  $$VALUES ('2026-01-01'::date, 0), ('2026-02-01', 26)$$,
  'on 03-03: a period with a bill not yet due is still open and left out; February''s drift grows to 26');
-- E on 2026-06-01: February paid 05-20: 104 days (Feb 5 -> Mar 5 28, -> Apr 5 31, -> May 5
-- 30, -> May 20 15); March still unpaid: 06-01 - 03-05 = 88 days.
SELECT results_eq(format($$SELECT period, paid_on, drift_days FROM leasemgr.tenant_payment_periods(%s, '2026-06-01')$$, :te),
  $$VALUES ('2026-01-01'::date, '2026-01-05'::date, 0), ('2026-02-01', '2026-05-20', 104), ('2026-03-01', NULL, 88)$$,
  'on 06-01: the late payment counts from its day; the unpaid March bill is 88 days late');

-- ---- the three measures and their flags, on 2026-04-15 ---------------------------------------
-- A, the last 3 periods January..March (December is older):
--   stability: bank 1,000.00 + 1,000.00 + 550.00 = 2,550.00 of 3,000.00 = 85.00%: exactly the
--     boundary, healthy (>= 85%);
--   deposit: only TH-A is in force (TH-A2 is signed, not started): 2,640.00; a year of
--     receivables 3,000.00 x 12 / 3 months = 12,000.00; 2,640.00 / 12,000.00 = 22.00%:
--     exactly the upper boundary, healthy;
--   drift: (0 + 2 + 5) / 3 = 2.33 days <= 2.5, healthy (with the -3 of January it would be 1.33,
--     with December 9.25).
-- B: stability 1,000.00 + 1,000.00 + 549.99 = 2,549.99 / 3,000.00 = 84.9997%: shown 85.00 but
--   below 85% exactly: flagged; deposit 2,641.20 / 12,000.00 = 22.01%: flagged; drift
--   (0 + 0 + 8) / 3 = 2.67: flagged, yet one late period is no credit warning.
-- C: two periods; stability 100.00 (Alipay); deposit 1,440.00 / (2,000.00 x 12 / 2 =
--   12,000.00) = 12.00%: exactly the lower boundary, healthy; drift (2 + 3) / 2 = 2.50:
--   exactly the boundary, healthy; February (3 days) is late, January (2) is not: no pair.
-- D: bank 1,000.00 and deposit_offset 1,000.00: a tie, the first by name is the main channel,
--   1,000.00 / 2,000.00 = 50.00%: flagged; deposit 1,438.80 / 12,000.00 = 11.99%: flagged;
--   drift 0.00. April's bill, paid ahead, is issued after 04-15: not counted yet.
SELECT results_eq(format('SELECT * FROM pg_temp.health(%L, ARRAY[%s, %s, %s, %s]::bigint[])', '2026-04-15', :ta, :tb, :tc, :td),
  format($$VALUES (%s::bigint, '{2026-01-01,2026-02-01,2026-03-01}'::date[], 3, 3000.00, 3, 'bank_transfer', 85.00, '>= 85%%', false,
                   2640.00, 22.00, '12%% .. 22%%', false, 2.33, '<= 2.5 days', false, 'none'),
                  (%s, '{2026-01-01,2026-02-01,2026-03-01}', 3, 3000.00, 3, 'bank_transfer', 85.00, '>= 85%%', true,
                   2641.20, 22.01, '12%% .. 22%%', true, 2.67, '<= 2.5 days', true, 'none'),
                  (%s, '{2026-01-01,2026-02-01}', 2, 2000.00, 2, 'alipay', 100.00, '>= 85%%', false,
                   1440.00, 12.00, '12%% .. 22%%', false, 2.50, '<= 2.5 days', false, 'none'),
                  (%s, '{2026-01-01,2026-02-01}', 2, 2000.00, 2, 'bank_transfer', 50.00, '>= 85%%', true,
                   1438.80, 11.99, '12%% .. 22%%', true, 0.00, '<= 2.5 days', false, 'none')$$, :ta, :tb, :tc, :td),
  'the three measures with their ranges and flags: healthy on every boundary, flagged just past it');
-- H: nothing billed, no contract in force: nothing to measure.
SELECT results_eq(format('SELECT * FROM pg_temp.health(%L, ARRAY[%s]::bigint[])', '2026-04-15', :th_),
  format($$VALUES (%s::bigint, '{}'::date[], 0, NULL::numeric, NULL::integer, NULL::text, NULL::numeric, '>= 85%%', NULL::boolean,
                   0.00, NULL::numeric, '12%% .. 22%%', NULL::boolean, NULL::numeric, '<= 2.5 days', NULL::boolean, 'none')$$, :th_),
  'a tenant without bills: no periods, NULL measures and flags');
-- E on 2026-03-03: January 0 and February 26 days: (0 + 26) / 2 = 13.00.
SELECT results_eq(format($$SELECT periods_considered, drift_days, drift_flag, channel_stability_pct FROM pg_temp.health('2026-03-03', ARRAY[%s]::bigint[])$$, :te),
  $$VALUES (2, 13.00, true, 100.00)$$, 'the measures are taken as of the day asked for');

-- ---- the drift rule and the credit warning ----------------------------------------------------
-- F on 2026-04-01: February 4 days and March 3 days, both more than 2.5: the rule holds.
SELECT results_eq(format($$SELECT * FROM leasemgr.credit_warning_periods(%s, '2026-04-01')$$, :tf),
  $$VALUES ('2026-02-01'::date, 4, '2026-03-01'::date, 3)$$, 'two consecutive late periods: 4 and 3 days');
-- C: 2 days is not late, 3 days is: no pair. E on 03-03: one late period (February) only.
SELECT is_empty(format($$SELECT * FROM leasemgr.credit_warning_periods(%s, '2026-04-15')$$, :tc),
  'a period 2 days late is not late: 2 and 3 days make no pair');
-- B: November and December 2025 were both late, but are not among its last 3 periods.
SELECT is_empty(format($$SELECT * FROM leasemgr.credit_warning_periods(%s, '2026-04-15')$$, :tb),
  'the rule reads the last 3 periods: an older late pair is history');
SELECT is_empty(format($$SELECT * FROM leasemgr.credit_warning_periods(%s, '2026-03-03')$$, :te),
  'one late period is no pair (March is not due yet on 03-03)');
-- E on 03-10: February 03-10 - 02-05 = 33 days, March 03-10 - 03-05 = 5: both overdue, both late.
SELECT results_eq(format($$SELECT * FROM leasemgr.credit_warning_periods(%s, '2026-03-10')$$, :te),
  $$VALUES ('2026-02-01'::date, 33, '2026-03-01'::date, 5)$$, 'unpaid overdue periods are late too: 33 and 5 days');
SELECT results_eq(format($$SELECT tenant_id, credit_warning FROM leasemgr.tenant_health_as_of('2026-04-01')
                            WHERE tenant_id IN (%s, %s, %s) ORDER BY tenant_id$$, :ta, :te, :tf),
  format($$VALUES (%s::bigint, 'none'), (%s, 'pending'), (%s, 'pending')$$, :ta, :te, :tf),
  'before the refresh, the rule holding shows as a pending warning');

-- The daily job on 2026-04-01 raises E (February 04-01 - 02-05 = 55 days, March 27) and F.
SELECT is(leasemgr.refresh_credit_warnings('2026-04-01'), 2, 'refresh raises a warning for each tenant the rule holds for: 2');
SELECT is(leasemgr.refresh_credit_warnings('2026-04-01'), 0, 'the same refresh again raises nothing');
SELECT results_eq(format($$SELECT tenant_id, first_period, first_drift_days, second_period, second_drift_days, measured_on,
                                  raised_by, cleared_at
                             FROM leasemgr.tenant_credit_warning WHERE park_id = %s ORDER BY tenant_id$$, :p),
  format($$VALUES (%s::bigint, '2026-02-01'::date, 55, '2026-03-01'::date, 27, '2026-04-01'::date, %L, NULL::timestamptz),
                  (%s, '2026-02-01', 4, '2026-03-01', 3, '2026-04-01', %L, NULL)$$, :te, session_user, :tf, session_user),
  'one warning each, with the two periods and their drifts as measured that day');
SELECT id AS wf FROM leasemgr.tenant_credit_warning WHERE tenant_id = :tf \gset
SELECT is(leasemgr.refresh_credit_warnings(), 0, 'a refresh today raises nothing new while the warnings are open');
SELECT results_eq(format($$SELECT tenant_id, credit_warning FROM leasemgr.tenant_health_as_of('2026-04-01')
                            WHERE tenant_id IN (%s, %s) ORDER BY tenant_id$$, :te, :tf),
  format($$VALUES (%s::bigint, 'open'), (%s, 'open')$$, :te, :tf), 'the view shows them open');
SELECT throws_ok(format($$INSERT INTO leasemgr.tenant_credit_warning (park_id, tenant_id, first_period, first_drift_days,
                                      second_period, second_drift_days, measured_on)
                          VALUES (%s, %s, '2026-03-01', 27, '2026-04-01', 9, '2026-04-20')$$, :p, :te), '23505', NULL,
  'one open warning per tenant');

-- ---- the submit guard ---------------------------------------------------------------------------
SELECT pg_temp.offer(:p, 'TH-F-2', :tf) AS f2 \gset
SELECT th.refuses(format('SELECT leasemgr.contract_transition(%s, ''submit'')', :f2), 'LM019',
  'contract TH-F-2 cannot be submitted: tenant "Tenant 8107" is under a credit warning',
  format('Credit warning %s was raised for payment-date drift of 4 days in billing period 2026-02 and 3 days in 2026-03: more than 2.5 days late in two consecutive periods.', :wf),
  format('A member of leasemgr_admin who has reviewed the tenant clears the warning with SELECT leasemgr.clear_credit_warning(%s, ''reason''); the contract can then be submitted.', :tf),
  'submitting for a tenant under an open warning: LM019 naming the tenant, the periods, their drifts and the way out');
SELECT throws_ok(format('UPDATE leasemgr.contract SET state = ''pending_approval'' WHERE id = %s', :f2), 'LM019', NULL,
  'a direct UPDATE meets the same guard');
SELECT is((SELECT state FROM leasemgr.contract WHERE id = :f2), 'draft', 'the contract stays a draft');
SELECT lives_ok(format('SELECT leasemgr.contract_transition(%s, ''submit'')', pg_temp.offer(:p, 'TH-A-3', :ta)),
  'a tenant without the rule holding submits as before');

-- ---- clearing ----------------------------------------------------------------------------------------
CREATE ROLE lm_t_health_fin LOGIN IN ROLE leasemgr_finance;
CREATE ROLE lm_t_health_admin LOGIN IN ROLE leasemgr_admin;
GRANT SET ON PARAMETER leasemgr.actor TO lm_t_health_admin;
SELECT leasemgr.grant_park('lm_t_health_fin', :p);
SET ROLE lm_t_health_fin;
SELECT throws_ok(format('SELECT leasemgr.clear_credit_warning(%s, ''paid up'')', :tf), '42501', NULL,
  'finance cannot clear a credit warning: admins only');
SELECT throws_ok(format($$UPDATE leasemgr.tenant_credit_warning SET clear_reason = 'paid up' WHERE id = %s$$, :wf), '42501', NULL,
  '... nor by writing the table');
RESET ROLE;
SET ROLE lm_t_health_admin;
SELECT set_config('leasemgr.actor', 'wang.admin', true);
SELECT th.refuses(format('SELECT leasemgr.clear_credit_warning(%s, ''  '')', :tf), 'LM011',
  'clearing a credit warning needs a reason', 'The reason is empty.',
  'Say why the tenant may take new contracts again, e.g. what the interview found; the reason is kept with the warning and in the audit trail.',
  'a reason is required');
SELECT is(leasemgr.clear_credit_warning(:tf, 'interviewed: salary day moved, bank standing order set up'), :wf::bigint,
  'an admin clears the open warning and gets its id');
SELECT set_config('leasemgr.actor', '', true);
RESET ROLE;
SELECT results_eq(format('SELECT cleared_by, clear_reason, cleared_at IS NOT NULL FROM leasemgr.tenant_credit_warning WHERE id = %s', :wf),
  $$VALUES ('wang.admin', 'interviewed: salary day moved, bank standing order set up', true)$$,
  'the warning names who cleared it, when and why');
SELECT results_eq(format($$SELECT action, actor, db_role, new_values->>'clear_reason', new_values->>'cleared_by'
                             FROM leasemgr.audit_log WHERE table_name = 'tenant_credit_warning' AND row_id = %s ORDER BY id$$, :wf),
  format($$VALUES ('INSERT', %L, %L, NULL, NULL),
                  ('UPDATE', 'wang.admin', 'lm_t_health_admin', 'interviewed: salary day moved, bank standing order set up', 'wang.admin')$$,
         session_user, current_user),
  'raising and clearing are both in the audit trail');

-- ---- clearing sticks ------------------------------------------------------------------------------
-- Today F's last 3 periods are still January..March, February and March still late: only the
-- clearing keeps them from blocking.
SELECT is_empty(format('SELECT * FROM leasemgr.credit_warning_periods(%s, leasemgr.business_date())', :tf),
  'the cleared periods no longer make the rule hold');
SELECT is(leasemgr.contract_transition(:f2, 'submit'), 'pending_approval', 'the refused contract is submitted after the clearing');
SELECT is(leasemgr.refresh_credit_warnings(), 0, 'and the refresh does not raise the cleared periods again');
SELECT is((SELECT credit_warning FROM leasemgr.tenant_health WHERE tenant_id = :tf), 'none', 'the view shows no warning');
-- One more late period is not two new ones: April paid 04-10, 5 days late. The last 3 are
-- February, March, April; March and April are consecutive and late, but March was cleared.
SELECT pg_temp.rent(:cf, '2026-04-01', '2026-04-10');
SELECT is_empty(format('SELECT * FROM leasemgr.credit_warning_periods(%s, leasemgr.business_date())', :tf),
  'one new late period next to a cleared one is no new pair');
SELECT is(leasemgr.contract_transition(pg_temp.offer(:p, 'TH-F-3', :tf), 'submit'), 'pending_approval',
  'one new late period next to a cleared one does not block');
-- May paid 05-09, 4 days late: April and May are two new consecutive late periods.
SELECT pg_temp.rent(:cf, '2026-05-01', '2026-05-09');
SELECT results_eq(format('SELECT * FROM leasemgr.credit_warning_periods(%s, leasemgr.business_date())', :tf),
  $$VALUES ('2026-04-01'::date, 5, '2026-05-01'::date, 4)$$, 'two new consecutive late periods make the rule hold again');
SELECT pg_temp.offer(:p, 'TH-F-4', :tf) AS f4 \gset
SELECT th.refuses(format('SELECT leasemgr.contract_transition(%s, ''submit'')', :f4), 'LM019',
  'contract TH-F-4 cannot be submitted: tenant "Tenant 8107" is under a credit warning',
  'Payment-date drift was 5 days in billing period 2026-04 and 4 days in 2026-05: more than 2.5 days late in two consecutive periods.',
  format('A member of leasemgr_admin who has reviewed the tenant clears the warning with SELECT leasemgr.clear_credit_warning(%s, ''reason''); the contract can then be submitted.', :tf),
  'two new late periods block again, before the daily job has recorded them');
SELECT is((SELECT credit_warning FROM leasemgr.tenant_health WHERE tenant_id = :tf), 'pending', 'the view shows the warning pending');
SELECT is(leasemgr.refresh_credit_warnings(), 1, 'the refresh raises the new warning');
SELECT results_eq(format($$SELECT first_period, first_drift_days, second_period, second_drift_days, cleared_at IS NULL
                             FROM leasemgr.tenant_credit_warning WHERE tenant_id = %s ORDER BY id$$, :tf),
  $$VALUES ('2026-02-01'::date, 4, '2026-03-01'::date, 3, false), ('2026-04-01', 5, '2026-05-01', 4, true)$$,
  'F has the cleared warning and a new open one for April and May');
SELECT id AS wf2 FROM leasemgr.tenant_credit_warning WHERE tenant_id = :tf AND cleared_at IS NULL \gset
SELECT results_eq(format($$SELECT code, detail FROM th.error_of('SELECT leasemgr.contract_transition(%s, ''submit'')')$$, :f4),
  format($$VALUES ('LM019', 'Credit warning %s was raised for payment-date drift of 5 days in billing period 2026-04 and 4 days in 2026-05: more than 2.5 days late in two consecutive periods.')$$, :wf2),
  'once recorded, the refusal names the warning');

-- ---- clearing a warning not recorded yet ------------------------------------------------------------
-- G: May 6, June 5 and July 4 days late. Two pairs qualify; the later one (June, July) is taken.
SELECT th.tenant(:p, 8108) AS tg \gset
SELECT pg_temp.lease(:p, 'TH-G', :tg, 2000.00) AS cg \gset
SELECT pg_temp.rent(:cg, '2026-05-01', '2026-05-11');
SELECT pg_temp.rent(:cg, '2026-06-01', '2026-06-10');
SELECT pg_temp.rent(:cg, '2026-07-01', '2026-07-09');
SELECT results_eq(format('SELECT * FROM leasemgr.credit_warning_periods(%s, leasemgr.business_date())', :tg),
  $$VALUES ('2026-06-01'::date, 5, '2026-07-01'::date, 4)$$, 'of two qualifying pairs the later one is taken');
SET ROLE lm_t_health_admin;
SELECT leasemgr.clear_credit_warning(:tg, 'reviewed with finance') AS wg \gset
SELECT throws_ok(format('SELECT leasemgr.clear_credit_warning(%s, ''again'')', :th_), 'LM009',
  format('tenant %s has no credit warning to clear', :th_), 'nothing to clear: LM009');
SELECT throws_ok('SELECT leasemgr.clear_credit_warning(-1, ''why'')', 'LM009', 'tenant -1 does not exist', 'an unknown tenant: LM009');
RESET ROLE;
SELECT results_eq(format($$SELECT tenant_id, first_period, first_drift_days, second_period, second_drift_days, measured_on,
                                  cleared_by, clear_reason
                             FROM leasemgr.tenant_credit_warning WHERE id = %s$$, :wg),
  format($$VALUES (%s::bigint, '2026-06-01'::date, 5, '2026-07-01'::date, 4, leasemgr.business_date(), %L, 'reviewed with finance')$$,
         :tg, session_user),
  'clearing a warning the job has not recorded yet records it and clears it');
SELECT is(leasemgr.contract_transition(pg_temp.offer(:p, 'TH-G-2', :tg), 'submit'), 'pending_approval',
  '... so the hint of the refusal works: the tenant submits again');

-- ---- a warning changes only by being cleared once -------------------------------------------------
SELECT throws_ok(format($$UPDATE leasemgr.tenant_credit_warning SET first_period = '2026-01-01' WHERE id = %s$$, :wf), 'LM010',
  format('credit warning %s cannot change its first_period', :wf), 'the periods of a warning never change');
SELECT throws_ok(format($$UPDATE leasemgr.tenant_credit_warning SET clear_reason = 'another reason' WHERE id = %s$$, :wf), 'LM010',
  format('credit warning %s is already cleared', :wf), 'a cleared warning stays as it was cleared');
SELECT throws_ok(format('DELETE FROM leasemgr.tenant_credit_warning WHERE id = %s', :wf), 'LM010',
  'credit warnings are never deleted', 'a warning is never deleted, by anyone');
SELECT throws_ok(format($$INSERT INTO leasemgr.tenant_credit_warning (park_id, tenant_id, first_period, first_drift_days,
                                      second_period, second_drift_days, measured_on, clear_reason)
                          VALUES (%s, %s, '2026-11-01', 3, '2026-12-01', 3, '2026-12-10', 'never late')$$, :p, :tc), 'LM010',
  'a credit warning is raised open', 'a cleared warning cannot be written directly (it would hide its periods)');
SELECT throws_ok(format($$UPDATE leasemgr.tenant_credit_warning SET cleared_by = 'someone' WHERE id = %s$$, :wf2), 'LM011',
  'a credit warning is cleared with a reason', 'clearing without a reason is refused');
UPDATE leasemgr.tenant_credit_warning SET clear_reason = 'cleared by hand', cleared_by = 'forged', cleared_at = '2020-01-01'
 WHERE id = :wf2;
SELECT results_eq(format('SELECT cleared_by, cleared_at FROM leasemgr.tenant_credit_warning WHERE id = %s', :wf2),
  $$VALUES (leasemgr.current_actor(), now())$$, 'who cleared a warning and when are stamped, never taken from the writer');

-- ---- quarterly billing: the months a period bills ---------------------------------------------------
-- Q pays rent of 1,000.00 a month quarterly in advance (押一付三) and a deposit of 1,440.00, one
-- month and a half. Bill runs of January, April and July bill 3,000.00 each; paid the day
-- they are due. A year of receivables: 9,000.00 x 12 / 9 months = 12,000.00, and
-- 1,440.00 / 12,000.00 = 12.00%, healthy (per period x 12 it would be 1,440 / 36,000 = 4%).
SELECT th.park('THQ') AS q \gset
SELECT th.tenant(:q, 8109) AS tq \gset
SELECT th.draft(:q, 'TH-Q', ARRAY[th.unit(:q, 'TH-Q-U')], '2026-01-01', '2026-12-31', :tq, false) AS cq \gset
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, cycle_months) VALUES (:cq, 'rent', 'fixed_month', 1000, 3);
UPDATE leasemgr.contract SET deposit_amount = 1440.00 WHERE id = :cq;
SELECT th.walk(:cq, 'active');
SELECT leasemgr.bill_run('2026-01-01', :q);
SELECT leasemgr.bill_run('2026-04-01', :q);
SELECT leasemgr.bill_run('2026-07-01', :q);
SELECT pg_temp.pay(:cq, 9000.00, leasemgr.business_date());
SELECT results_eq(format('SELECT period, billed, billed_months, drift_days FROM leasemgr.tenant_payment_periods(%s, leasemgr.business_date())', :tq),
  $$VALUES ('2026-01-01'::date, 3000.00, 3, 0), ('2026-04-01', 3000.00, 3, 0), ('2026-07-01', 3000.00, 3, 0)$$,
  'a quarterly bill bills 3 months');
SELECT results_eq(format('SELECT billed, billed_months, deposit_ratio_pct, deposit_ratio_flag FROM leasemgr.tenant_health WHERE tenant_id = %s', :tq),
  $$VALUES (9000.00, 9, 12.00, false)$$, 'a quarterly tenant''s deposit is measured against a year of rent, not four years');

-- ---- park scope, and the view -------------------------------------------------------------------
CREATE ROLE lm_t_health_bi LOGIN IN ROLE leasemgr_reader;
SELECT leasemgr.grant_park('lm_t_health_bi', :q);
SET ROLE lm_t_health_bi;
SELECT is((SELECT count(*) FROM leasemgr.tenant_credit_warning), 0::bigint, 'a reader of another park sees no warning of park TH');
SELECT results_eq('SELECT tenant_id FROM leasemgr.tenant_health', format('VALUES (%s::bigint)', :tq),
  'nor its tenants'' health: only its own park''s');
RESET ROLE;
SET ROLE lm_t_health_fin;
-- E's, F's two and G's.
SELECT is((SELECT count(*) FROM leasemgr.tenant_credit_warning), 4::bigint, 'finance of park TH sees its 4 warnings');
RESET ROLE;
SELECT set_eq('SELECT * FROM leasemgr.tenant_health', 'SELECT * FROM leasemgr.tenant_health_as_of(leasemgr.business_date())',
  'the tenant_health view is tenant_health_as_of(business_date())');

SELECT * FROM finish();
ROLLBACK;
