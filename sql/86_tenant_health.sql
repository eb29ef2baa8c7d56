-- Tenant cash-flow health: how each tenant pays (payment-channel stability, deposit-to-
-- receivable ratio, payment-date drift, each with its healthy range and flag) and the credit
-- warnings the drift raises. docs/metering.md ("Tenant cash-flow health") defines every
-- figure; the submit guard that refuses new contracts of a tenant under a warning (LM019) is
-- in src/contract_fsm.c and src/credit_warning.c, the guard of the warnings themselves too.
-- Operators are schema-qualified (a planted operator on the installer's path must not bind).
-- The thresholds (85%, 12%..22%, 2.5 days) are constants here until the rule library comes.

-- ---- the billing periods a tenant is measured on ------------------------------------------

CREATE FUNCTION leasemgr.tenant_payment_periods(tenant_id bigint, as_of date)
  RETURNS TABLE (period date, bills integer, billed numeric, billed_months integer, due_on date,
                 paid_on date, drift_days integer, late boolean, paid_by jsonb)
  LANGUAGE sql STABLE STRICT
BEGIN ATOMIC
  -- The tenant's bills that count on as_of: not void, issued by then, with principal to pay.
  WITH bl AS MATERIALIZED (
    SELECT b.id, b.period, b.due_on, x.principal, x.months,
           -- The day the principal was complete: the payment, in the order the money came,
           -- whose allocation brought the allocated principal up to the bill's.
           (SELECT s.paid_on
              FROM (SELECT y.paid_on, a.id,
                           pg_catalog.sum(a.amount) OVER (ORDER BY y.paid_on, a.id) AS running
                      FROM leasemgr.payment_allocation a
                      JOIN leasemgr.payment y ON y.id OPERATOR(pg_catalog.=) a.payment_id
                     WHERE a.bill_id OPERATOR(pg_catalog.=) b.id
                       AND a.part OPERATOR(pg_catalog.=) 'principal'
                       AND y.paid_on OPERATOR(pg_catalog.<=) tenant_payment_periods.as_of) s
             WHERE s.running OPERATOR(pg_catalog.>=) x.principal
             ORDER BY s.paid_on, s.id
             LIMIT 1) AS paid_on
      FROM leasemgr.contract c
      JOIN leasemgr.bill b ON b.contract_id OPERATOR(pg_catalog.=) c.id
      CROSS JOIN LATERAL (
        SELECT COALESCE(pg_catalog.sum(l.amount) FILTER (WHERE l.line_type OPERATOR(pg_catalog.<>) 'late_fee'),
                        0) AS principal,
               COALESCE(pg_catalog.max(ch.cycle_months), 1) AS months
          FROM leasemgr.bill_line l
          LEFT JOIN leasemgr.charge ch ON ch.id OPERATOR(pg_catalog.=) l.charge_id
         WHERE l.bill_id OPERATOR(pg_catalog.=) b.id) x
     WHERE c.tenant_id OPERATOR(pg_catalog.=) tenant_payment_periods.tenant_id
       AND b.voided_at IS NULL
       AND b.issued_on OPERATOR(pg_catalog.<=) tenant_payment_periods.as_of
       AND x.principal OPERATOR(pg_catalog.>) 0
  ), d AS (
    -- Drift of each bill: an overdue bill counts as paid on as_of; early is 0, never negative.
    SELECT bl.*,
           GREATEST(COALESCE(bl.paid_on, tenant_payment_periods.as_of) OPERATOR(pg_catalog.-) bl.due_on, 0) AS drift,
           bl.paid_on IS NULL AND bl.due_on OPERATOR(pg_catalog.>=) tenant_payment_periods.as_of AS not_yet_due
      FROM bl
  ), p AS (
    -- A period counts once none of its bills is still unpaid and not yet due. Its drift, due
    -- day and payment day are those of its latest bill relative to that bill's due day.
    SELECT d.period, pg_catalog.count(*)::integer AS bills, pg_catalog.sum(d.principal) AS billed,
           pg_catalog.max(d.months)::integer AS months,
           (pg_catalog.array_agg(d.due_on ORDER BY d.drift DESC, d.due_on DESC, d.id DESC))[1] AS due_on,
           (pg_catalog.array_agg(d.paid_on ORDER BY d.drift DESC, d.due_on DESC, d.id DESC))[1] AS paid_on,
           pg_catalog.max(d.drift) AS drift
      FROM d
     GROUP BY d.period
    HAVING NOT pg_catalog.bool_or(d.not_yet_due)
  ), m AS (
    -- The money received by as_of for each period's bills (principal and late fees), by channel.
    SELECT d.period, y.channel, pg_catalog.sum(a.amount) AS amount
      FROM d
      JOIN leasemgr.payment_allocation a ON a.bill_id OPERATOR(pg_catalog.=) d.id
      JOIN leasemgr.payment y ON y.id OPERATOR(pg_catalog.=) a.payment_id
     WHERE y.paid_on OPERATOR(pg_catalog.<=) tenant_payment_periods.as_of
     GROUP BY d.period, y.channel
  )
  SELECT p.period, p.bills, p.billed, p.months, p.due_on, p.paid_on, p.drift,
         p.drift::numeric OPERATOR(pg_catalog.>) 2.5,
         COALESCE((SELECT pg_catalog.jsonb_object_agg(m.channel, m.amount) FROM m
                    WHERE m.period OPERATOR(pg_catalog.=) p.period), '{}'::jsonb)
    FROM p
   ORDER BY p.period;
END;
COMMENT ON FUNCTION leasemgr.tenant_payment_periods(bigint, date) IS
  'The billing periods of a tenant as of a day, oldest first: the billing months of its contracts'' bills that are not void, were issued by that day and have principal (charge and adjustment lines) to pay, once none of the month''s bills is unpaid and not yet due. bills and billed: how many and their principal (late fees left out); billed_months: the months it bills (the longest billing cycle of its charges, 1 with adjustments only). due_on, paid_on, drift_days: of the bill paid latest relative to its due day; paid_on is the day the payment that completed its principal was received (payments received by that day), NULL while it is overdue and unpaid, when it counts as paid that day; drift_days = paid_on - due_on, 0 when paid early. late: drift above 2.5 days. paid_by: the money received by that day for the month''s bills, by channel.';

-- ---- credit warnings -------------------------------------------------------------------

CREATE TABLE leasemgr.tenant_credit_warning (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  park_id           bigint NOT NULL,
  tenant_id         bigint NOT NULL,
  first_period      date NOT NULL,
  first_drift_days  integer NOT NULL,
  second_period     date NOT NULL,
  second_drift_days integer NOT NULL,
  measured_on       date NOT NULL,
  raised_at         timestamptz NOT NULL DEFAULT pg_catalog.now(),
  raised_by         text NOT NULL DEFAULT leasemgr.current_actor(),
  cleared_at        timestamptz,
  cleared_by        text,
  clear_reason      text,
  CONSTRAINT tenant_credit_warning_periods CHECK (
    pg_catalog.date_trunc('month', first_period)::date OPERATOR(pg_catalog.=) first_period
    AND pg_catalog.date_trunc('month', second_period)::date OPERATOR(pg_catalog.=) second_period
    AND second_period OPERATOR(pg_catalog.>) first_period),
  CONSTRAINT tenant_credit_warning_late CHECK (
    first_drift_days::numeric OPERATOR(pg_catalog.>) 2.5 AND second_drift_days::numeric OPERATOR(pg_catalog.>) 2.5),
  CONSTRAINT tenant_credit_warning_cleared CHECK (
    (cleared_at IS NULL) = (cleared_by IS NULL) AND (cleared_at IS NULL) = (clear_reason IS NULL)
    AND pg_catalog.btrim(clear_reason) OPERATOR(pg_catalog.<>) ''),
  -- A pair of periods warns a tenant once: a cleared pair is never raised again.
  CONSTRAINT tenant_credit_warning_pair_once UNIQUE (tenant_id, first_period, second_period),
  CONSTRAINT tenant_credit_warning_tenant_fk FOREIGN KEY (tenant_id, park_id) REFERENCES leasemgr.tenant (id, park_id)
);
-- One open warning per tenant; also how the submit guard finds it.
CREATE UNIQUE INDEX tenant_credit_warning_open_once ON leasemgr.tenant_credit_warning (tenant_id)
  WHERE cleared_at IS NULL;
COMMENT ON TABLE leasemgr.tenant_credit_warning IS
  'Credit warnings (信用预警): a tenant paid more than 2.5 days after the due date in two consecutive billing periods. While a warning is open, contracts of the tenant cannot be submitted (LM019). Raised by leasemgr.refresh_credit_warnings, cleared once, with a reason, by an admin (leasemgr.clear_credit_warning); never otherwise changed or deleted, so a cleared pair of periods never blocks again. Audited.';
COMMENT ON INDEX leasemgr.tenant_credit_warning_open_once IS 'At most one open warning per tenant.';
COMMENT ON COLUMN leasemgr.tenant_credit_warning.id IS 'Warning identifier.';
COMMENT ON COLUMN leasemgr.tenant_credit_warning.park_id IS 'The park of the tenant.';
COMMENT ON COLUMN leasemgr.tenant_credit_warning.tenant_id IS 'The tenant warned.';
COMMENT ON COLUMN leasemgr.tenant_credit_warning.first_period IS 'The first of the two consecutive late billing periods (first day of the billing month).';
COMMENT ON COLUMN leasemgr.tenant_credit_warning.first_drift_days IS 'Its payment-date drift, in days after the due date, as measured on measured_on (> 2.5).';
COMMENT ON COLUMN leasemgr.tenant_credit_warning.second_period IS 'The second late billing period, the next one of the tenant after first_period. Once the warning is cleared, no period up to this one counts for a new warning.';
COMMENT ON COLUMN leasemgr.tenant_credit_warning.second_drift_days IS 'Its payment-date drift, in days, as measured on measured_on (> 2.5).';
COMMENT ON COLUMN leasemgr.tenant_credit_warning.measured_on IS 'The day the drifts were measured on (the as_of of the refresh): an unpaid period''s drift grows every day.';
COMMENT ON COLUMN leasemgr.tenant_credit_warning.raised_at IS 'Stamped: when the warning was recorded.';
COMMENT ON COLUMN leasemgr.tenant_credit_warning.raised_by IS 'Stamped: who recorded it (leasemgr.actor, else the login; the daily job''s login).';
COMMENT ON COLUMN leasemgr.tenant_credit_warning.cleared_at IS 'Stamped when the warning is cleared; NULL while it is open.';
COMMENT ON COLUMN leasemgr.tenant_credit_warning.cleared_by IS 'Stamped: the admin who cleared it (leasemgr.actor, else the login).';
COMMENT ON COLUMN leasemgr.tenant_credit_warning.clear_reason IS 'Why the tenant may take new contracts again, e.g. what the interview found. Writing it clears the warning, once.';

CREATE FUNCTION leasemgr.tenant_credit_warning_before_write() RETURNS trigger
  AS 'MODULE_PATHNAME', 'tenant_credit_warning_before_write'
  LANGUAGE C;
COMMENT ON FUNCTION leasemgr.tenant_credit_warning_before_write() IS
  'Trigger: a credit warning is inserted open and stamped with who raised it; afterwards only clear_reason may be written, once (clearing it: cleared_at and cleared_by are stamped); warnings are never deleted (SQLSTATE LM010, LM011).';
CREATE TRIGGER tenant_credit_warning_before_write BEFORE INSERT OR UPDATE OR DELETE ON leasemgr.tenant_credit_warning
  FOR EACH ROW EXECUTE FUNCTION leasemgr.tenant_credit_warning_before_write();
CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON leasemgr.tenant_credit_warning
  FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row();
CREATE TRIGGER truncate_guard BEFORE TRUNCATE ON leasemgr.tenant_credit_warning
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.truncate_guard();

CREATE FUNCTION leasemgr.credit_warning_periods(tenant_id bigint, as_of date)
  RETURNS TABLE (first_period date, first_drift_days integer, second_period date, second_drift_days integer)
  LANGUAGE sql STABLE STRICT
BEGIN ATOMIC
  SELECT w.first_period, w.first_drift_days, w.period, w.drift_days
    FROM (SELECT r.period, r.drift_days, r.late,
                 pg_catalog.lag(r.period) OVER (ORDER BY r.period) AS first_period,
                 pg_catalog.lag(r.drift_days) OVER (ORDER BY r.period) AS first_drift_days,
                 pg_catalog.lag(r.late) OVER (ORDER BY r.period) AS first_late
            FROM (SELECT p.period, p.drift_days, p.late
                    FROM leasemgr.tenant_payment_periods(credit_warning_periods.tenant_id,
                                                         credit_warning_periods.as_of) p
                   ORDER BY p.period DESC
                   LIMIT 3) r) w
   WHERE w.first_late AND w.late
     -- A cleared warning covers its periods and every one before them.
     AND w.first_period OPERATOR(pg_catalog.>) COALESCE(
           (SELECT pg_catalog.max(c.second_period) FROM leasemgr.tenant_credit_warning c
             WHERE c.tenant_id OPERATOR(pg_catalog.=) credit_warning_periods.tenant_id
               AND c.cleared_at IS NOT NULL),
           '-infinity'::date)
   ORDER BY w.period DESC
   LIMIT 1;
END;
COMMENT ON FUNCTION leasemgr.credit_warning_periods(bigint, date) IS
  'The drift rule: the two consecutive billing periods among the tenant''s last 3 (leasemgr.tenant_payment_periods) that were both paid more than 2.5 days late as of the day, and come after the periods of its last cleared warning; the later pair when two qualify. No row: the rule does not hold. What refresh_credit_warnings records and the submit guard refuses.';

CREATE FUNCTION leasemgr.refresh_credit_warnings(as_of date DEFAULT leasemgr.business_date()) RETURNS integer
  LANGUAGE plpgsql SECURITY INVOKER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
DECLARE
  v_raised integer;
BEGIN
  IF refresh_credit_warnings.as_of IS NULL OR NOT pg_catalog.isfinite(refresh_credit_warnings.as_of) THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = pg_catalog.format('refresh_credit_warnings needs a day, not %s',
                                  COALESCE(refresh_credit_warnings.as_of::text, 'NULL')),
      HINT = 'Pass the day to measure on, or nothing for today.';
  END IF;
  -- A second refresh, or two at once, raise nothing twice: one open warning per tenant and
  -- one warning per pair of periods are unique keys.
  INSERT INTO leasemgr.tenant_credit_warning (park_id, tenant_id, first_period, first_drift_days,
                                              second_period, second_drift_days, measured_on)
  SELECT t.park_id, t.id, b.first_period, b.first_drift_days, b.second_period, b.second_drift_days,
         refresh_credit_warnings.as_of
    FROM leasemgr.tenant t
   CROSS JOIN LATERAL leasemgr.credit_warning_periods(t.id, refresh_credit_warnings.as_of) b
   WHERE NOT EXISTS (SELECT FROM leasemgr.tenant_credit_warning w
                      WHERE w.tenant_id OPERATOR(pg_catalog.=) t.id AND w.cleared_at IS NULL)
   ORDER BY t.id
  ON CONFLICT DO NOTHING;
  GET DIAGNOSTICS v_raised = ROW_COUNT;
  RETURN v_raised;
END
$fn$;
COMMENT ON FUNCTION leasemgr.refresh_credit_warnings(date) IS
  'Job body of the daily automation: raises a credit warning for every tenant you see that has none open and for whom the drift rule holds as of the day (leasemgr.credit_warning_periods: two consecutive periods more than 2.5 days late, after its last cleared warning), and returns how many it raised. Idempotent. Runs with the caller''s rights (finance).';

CREATE FUNCTION leasemgr.clear_credit_warning(tenant_id bigint, reason text) RETURNS bigint
  LANGUAGE plpgsql SECURITY INVOKER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
DECLARE
  v_park bigint;
  v_id bigint;
  v_today date := leasemgr.business_date();
BEGIN
  IF clear_credit_warning.tenant_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = 'clear_credit_warning needs a tenant_id',
      DETAIL = 'tenant_id is NULL.',
      HINT = 'Pass the id of the tenant whose warning to clear.';
  END IF;
  IF clear_credit_warning.reason IS NULL OR pg_catalog.btrim(clear_credit_warning.reason) OPERATOR(pg_catalog.=) '' THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = 'clearing a credit warning needs a reason',
      DETAIL = 'The reason is empty.',
      HINT = 'Say why the tenant may take new contracts again, e.g. what the interview found; the reason is kept with the warning and in the audit trail.';
  END IF;
  SELECT t.park_id INTO v_park FROM leasemgr.tenant t WHERE t.id OPERATOR(pg_catalog.=) clear_credit_warning.tenant_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'LM009',
      MESSAGE = pg_catalog.format('tenant %s does not exist', clear_credit_warning.tenant_id),
      HINT = 'Check the id; rows of parks you have not been granted are not visible to you.';
  END IF;

  -- Writing the reason clears the warning; the trigger stamps who and when.
  UPDATE leasemgr.tenant_credit_warning w SET clear_reason = pg_catalog.btrim(clear_credit_warning.reason)
   WHERE w.tenant_id OPERATOR(pg_catalog.=) clear_credit_warning.tenant_id AND w.cleared_at IS NULL
  RETURNING w.id INTO v_id;
  IF v_id IS NULL THEN
    -- None recorded yet, but the rule may hold today (the submit guard says so before the
    -- daily job does): record the warning and clear it, so its periods do not block again.
    INSERT INTO leasemgr.tenant_credit_warning (park_id, tenant_id, first_period, first_drift_days,
                                                second_period, second_drift_days, measured_on)
    SELECT v_park, clear_credit_warning.tenant_id, b.first_period, b.first_drift_days, b.second_period,
           b.second_drift_days, v_today
      FROM leasemgr.credit_warning_periods(clear_credit_warning.tenant_id, v_today) b
    RETURNING id INTO v_id;
    IF v_id IS NULL THEN
      RAISE EXCEPTION USING ERRCODE = 'LM009',
        MESSAGE = pg_catalog.format('tenant %s has no credit warning to clear', clear_credit_warning.tenant_id),
        DETAIL = 'No warning of the tenant is open, and its payment-date drift is not above 2.5 days in two consecutive billing periods today.',
        HINT = 'leasemgr.tenant_health shows each tenant''s credit warning state.';
    END IF;
    UPDATE leasemgr.tenant_credit_warning w SET clear_reason = pg_catalog.btrim(clear_credit_warning.reason)
     WHERE w.id OPERATOR(pg_catalog.=) v_id;
  END IF;
  RETURN v_id;
END
$fn$;
COMMENT ON FUNCTION leasemgr.clear_credit_warning(bigint, text) IS
  'For leasemgr_admin: clears the tenant''s open credit warning with a reason (required) and returns its id; who and when are stamped, and the change is audited. Without a recorded warning while the drift rule holds today, records the warning and clears it. The cleared periods never count for a new warning: only two new consecutive late periods after them do. LM009 when the tenant is unknown or has nothing to clear.';

-- ---- the health of every tenant ----------------------------------------------------------

CREATE FUNCTION leasemgr.tenant_health_as_of(as_of date)
  RETURNS TABLE (park_id bigint, tenant_id bigint, tenant_name text, periods date[], periods_considered integer,
                 billed numeric, billed_months integer, main_channel text, channel_stability_pct numeric,
                 channel_stability_range text, channel_stability_flag boolean, deposit_held numeric,
                 deposit_ratio_pct numeric, deposit_ratio_range text, deposit_ratio_flag boolean,
                 drift_days numeric, drift_range text, drift_flag boolean, credit_warning text)
  LANGUAGE sql STABLE STRICT
BEGIN ATOMIC
  SELECT t.park_id, t.id, t.name,
         COALESCE(w.periods, '{}'::date[]), w.n, w.billed, w.months,
         w.main_channel,
         pg_catalog.round(100 OPERATOR(pg_catalog.*) w.main_amount OPERATOR(pg_catalog./) w.paid, 2),
         '>= 85%',
         -- Flags compare exactly, without dividing.
         (100 OPERATOR(pg_catalog.*) w.main_amount) OPERATOR(pg_catalog.<) (85 OPERATOR(pg_catalog.*) w.paid),
         dep.held,
         CASE WHEN dep.in_force AND w.billed OPERATOR(pg_catalog.>) 0 THEN
           pg_catalog.round(100 OPERATOR(pg_catalog.*) dep.held OPERATOR(pg_catalog.*) w.months
                            OPERATOR(pg_catalog./) (12 OPERATOR(pg_catalog.*) w.billed), 2) END,
         '12% .. 22%',
         CASE WHEN dep.in_force AND w.billed OPERATOR(pg_catalog.>) 0 THEN
           (100 OPERATOR(pg_catalog.*) dep.held OPERATOR(pg_catalog.*) w.months)
             OPERATOR(pg_catalog.<) (12 OPERATOR(pg_catalog.*) 12 OPERATOR(pg_catalog.*) w.billed)
           OR (100 OPERATOR(pg_catalog.*) dep.held OPERATOR(pg_catalog.*) w.months)
             OPERATOR(pg_catalog.>) (22 OPERATOR(pg_catalog.*) 12 OPERATOR(pg_catalog.*) w.billed) END,
         pg_catalog.round(w.drift_sum::numeric OPERATOR(pg_catalog./) NULLIF(w.n, 0), 2),
         '<= 2.5 days',
         CASE WHEN w.n OPERATOR(pg_catalog.>) 0 THEN
           (2 OPERATOR(pg_catalog.*) w.drift_sum) OPERATOR(pg_catalog.>) (5 OPERATOR(pg_catalog.*) w.n) END,
         CASE WHEN EXISTS (SELECT FROM leasemgr.tenant_credit_warning c
                            WHERE c.tenant_id OPERATOR(pg_catalog.=) t.id AND c.cleared_at IS NULL) THEN 'open'
              WHEN EXISTS (SELECT FROM leasemgr.credit_warning_periods(t.id, tenant_health_as_of.as_of)) THEN 'pending'
              ELSE 'none' END
    FROM leasemgr.tenant t
   CROSS JOIN LATERAL (
     -- The last 3 counted periods, and the money received for them by channel.
     WITH r AS (
       SELECT p.* FROM leasemgr.tenant_payment_periods(t.id, tenant_health_as_of.as_of) p
        ORDER BY p.period DESC LIMIT 3
     ), m AS (
       SELECT e.key AS channel, pg_catalog.sum(e.value::numeric) AS amount
         FROM r CROSS JOIN LATERAL pg_catalog.jsonb_each(r.paid_by) e
        GROUP BY e.key
     )
     SELECT (SELECT pg_catalog.array_agg(r.period ORDER BY r.period) FROM r) AS periods,
            (SELECT pg_catalog.count(*)::integer FROM r) AS n,
            (SELECT pg_catalog.sum(r.billed) FROM r) AS billed,
            (SELECT pg_catalog.sum(r.billed_months)::integer FROM r) AS months,
            (SELECT pg_catalog.sum(r.drift_days) FROM r) AS drift_sum,
            (SELECT pg_catalog.sum(m.amount) FROM m) AS paid,
            -- The main channel brought the most; ties: the first by name.
            (SELECT m.channel FROM m ORDER BY m.amount DESC, m.channel LIMIT 1) AS main_channel,
            (SELECT m.amount FROM m ORDER BY m.amount DESC, m.channel LIMIT 1) AS main_amount
   ) w
   -- The deposit of the contracts in force (states as they are now; the rent roll's states).
   CROSS JOIN LATERAL (
     SELECT COALESCE(pg_catalog.sum(c.deposit_amount), 0.00) AS held,
            pg_catalog.count(*) OPERATOR(pg_catalog.>) 0 AS in_force
       FROM leasemgr.contract c
      WHERE c.tenant_id OPERATOR(pg_catalog.=) t.id
        AND c.state OPERATOR(pg_catalog.=) ANY ('{active,amending,expired,terminated,moving_out}'::text[])
   ) dep
   ORDER BY t.park_id, t.name, t.id;
END;
COMMENT ON FUNCTION leasemgr.tenant_health_as_of(date) IS
  'Tenant cash-flow health as of a day, one row per tenant: its last 3 billing periods (leasemgr.tenant_payment_periods), payment-channel stability (healthy >= 85%), deposit-to-receivable ratio (12%..22%) and average payment-date drift (<= 2.5 days), each with its value, healthy range and flag, and its credit warning state. The columns are those of the view leasemgr.tenant_health, which is this function at leasemgr.business_date(). docs/metering.md defines every figure.';

CREATE VIEW leasemgr.tenant_health WITH (security_invoker = true) AS
SELECT * FROM leasemgr.tenant_health_as_of(leasemgr.business_date());
COMMENT ON VIEW leasemgr.tenant_health IS
  'Tenant cash-flow health today (leasemgr.business_date()): per tenant, over its last 3 billing periods, payment-channel stability (支付方式稳定性, healthy >= 85%; below: interview), deposit-to-receivable ratio (资金结构合理性, healthy 12%..22%; outside: audit) and payment-date drift (账期偏离度, healthy <= 2.5 days), each with its range and a flag (true: outside the healthy range), and the credit warning state. leasemgr.tenant_health_as_of(date) gives any other day. Shows only the parks the reader is granted.';
COMMENT ON COLUMN leasemgr.tenant_health.park_id IS 'Park of the tenant.';
COMMENT ON COLUMN leasemgr.tenant_health.tenant_id IS 'Tenant identifier.';
COMMENT ON COLUMN leasemgr.tenant_health.tenant_name IS 'Tenant name.';
COMMENT ON COLUMN leasemgr.tenant_health.periods IS 'The billing periods considered: the tenant''s last 3 counted billing months (first days), oldest first; fewer for a new tenant, empty without bills.';
COMMENT ON COLUMN leasemgr.tenant_health.periods_considered IS 'How many periods the measures are taken over (0 to 3).';
COMMENT ON COLUMN leasemgr.tenant_health.billed IS 'Principal billed for those periods (charge and adjustment lines, late fees left out), CNY.';
COMMENT ON COLUMN leasemgr.tenant_health.billed_months IS 'The months of rent those periods bill: per period the longest billing cycle of its charges (1 monthly, 3 quarterly; 1 for adjustments only).';
COMMENT ON COLUMN leasemgr.tenant_health.main_channel IS 'The payment channel that brought the most money for those periods (ties: the first by name); NULL when nothing was received.';
COMMENT ON COLUMN leasemgr.tenant_health.channel_stability_pct IS 'Payment-channel stability (支付方式稳定性), %: the main channel''s share of the money received for those periods, rounded to 2 decimals for display.';
COMMENT ON COLUMN leasemgr.tenant_health.channel_stability_range IS 'The healthy range of channel stability: >= 85%.';
COMMENT ON COLUMN leasemgr.tenant_health.channel_stability_flag IS 'True when stability is below 85% (compared exactly, so 84.9997% shown as 85.00 is flagged): the tenant manager interviews the tenant. NULL when nothing was received.';
COMMENT ON COLUMN leasemgr.tenant_health.deposit_held IS 'The contractual deposit (contract.deposit_amount) of the tenant''s contracts in force (active, amending, expired, terminated, moving_out), CNY. The deposit ledger of a later issue will replace it with what is actually held.';
COMMENT ON COLUMN leasemgr.tenant_health.deposit_ratio_pct IS 'Deposit-to-receivable ratio (资金结构合理性), %: deposit_held / a year of receivables (billed x 12 / billed_months), rounded to 2 decimals for display. Two months'' deposit on monthly rent: 16.67. NULL without a contract in force or with nothing billed.';
COMMENT ON COLUMN leasemgr.tenant_health.deposit_ratio_range IS 'The healthy range of the deposit ratio: 12% to 22%, both included.';
COMMENT ON COLUMN leasemgr.tenant_health.deposit_ratio_flag IS 'True when the ratio is below 12% or above 22% (compared exactly): flag for audit. NULL when there is no ratio.';
COMMENT ON COLUMN leasemgr.tenant_health.drift_days IS 'Payment-date drift (账期偏离度): the average over the periods of days paid after the due date (early payment counts 0; an overdue unpaid bill counts until that day), rounded to 2 decimals for display.';
COMMENT ON COLUMN leasemgr.tenant_health.drift_range IS 'The healthy range of the drift: <= 2.5 days.';
COMMENT ON COLUMN leasemgr.tenant_health.drift_flag IS 'True when the average drift is above 2.5 days. Two consecutive periods each above 2.5 days make a credit warning (credit_warning). NULL without periods.';
COMMENT ON COLUMN leasemgr.tenant_health.credit_warning IS 'Credit warning state, as recorded now: open (leasemgr.tenant_credit_warning has an open warning: new contracts are refused), pending (the drift rule holds on that day and no warning is open: the next refresh raises it; today, submissions are already refused) or none.';

-- ---- park scope and privileges ---------------------------------------------------------------

ALTER TABLE leasemgr.tenant_credit_warning ENABLE ROW LEVEL SECURITY;
CREATE POLICY park_scope ON leasemgr.tenant_credit_warning USING ((SELECT leasemgr.sees_all_parks())
  OR park_id OPERATOR(pg_catalog.=) ANY ((SELECT leasemgr.visible_parks())::bigint[]));
COMMENT ON POLICY park_scope ON leasemgr.tenant_credit_warning IS
  'Rows of the parks granted to the role (leasemgr.grant_park); every park for leasemgr_admin.';

-- Readers read the health and the warnings; finance raises warnings (the daily job); admins
-- clear them, by writing the reason and nothing else (the trigger stamps who and when).
REVOKE ALL ON leasemgr.tenant_credit_warning, leasemgr.tenant_health FROM PUBLIC;
GRANT SELECT ON leasemgr.tenant_credit_warning, leasemgr.tenant_health TO leasemgr_reader;
GRANT INSERT ON leasemgr.tenant_credit_warning TO leasemgr_finance;
GRANT UPDATE (clear_reason) ON leasemgr.tenant_credit_warning TO leasemgr_admin;
REVOKE ALL ON FUNCTION leasemgr.tenant_payment_periods(bigint, date), leasemgr.tenant_credit_warning_before_write(),
  leasemgr.credit_warning_periods(bigint, date), leasemgr.refresh_credit_warnings(date),
  leasemgr.clear_credit_warning(bigint, text), leasemgr.tenant_health_as_of(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leasemgr.tenant_payment_periods(bigint, date), leasemgr.credit_warning_periods(bigint, date),
  leasemgr.tenant_health_as_of(date) TO leasemgr_reader;
GRANT EXECUTE ON FUNCTION leasemgr.refresh_credit_warnings(date) TO leasemgr_finance;
GRANT EXECUTE ON FUNCTION leasemgr.clear_credit_warning(bigint, text) TO leasemgr_admin;

SELECT pg_catalog.pg_extension_config_dump('leasemgr.tenant_credit_warning', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.tenant_credit_warning_id_seq', '');
