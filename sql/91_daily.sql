-- Alerts and the daily job body: leasemgr.run_daily(as_of) activates and expires what the
-- calendar says, raises expiry alerts (90/60/30 days), renewal suggestions, overdue alerts and
-- credit warnings, each once. pg_cron only decides when it runs (docs/automation.md).

CREATE TABLE leasemgr.alert (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  park_id         bigint NOT NULL REFERENCES leasemgr.park (id),
  kind            text NOT NULL CHECK (kind IN ('expiry_90', 'expiry_60', 'expiry_30', 'renewal_suggestion',
                                                'overdue', 'credit_warning', 'approval_escalated')),
  subject_id      bigint NOT NULL,
  contract_id     bigint,
  subject         text NOT NULL CHECK (pg_catalog.btrim(subject) <> ''),
  due_on          date NOT NULL,
  raised_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
  state           text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'acknowledged', 'resolved')),
  decided_at      timestamptz,
  decided_by      text,
  CONSTRAINT alert_once UNIQUE (kind, subject_id, due_on),
  CONSTRAINT alert_decided CHECK ((state = 'open') = (decided_at IS NULL) AND (decided_at IS NULL) = (decided_by IS NULL))
);
CREATE INDEX alert_park_state_idx ON leasemgr.alert (park_id, state);
COMMENT ON TABLE leasemgr.alert IS
  'Something a person should look at (提醒), raised by leasemgr.run_daily once per subject and date: a lease ending in 90, 60 or 30 days, a renewal to propose, a bill overdue, a tenant under a credit warning. Each alert is also an event of the outbox (topic alert).';
COMMENT ON COLUMN leasemgr.alert.id IS 'Alert identifier.';
COMMENT ON COLUMN leasemgr.alert.park_id IS 'The park.';
COMMENT ON COLUMN leasemgr.alert.kind IS 'expiry_90, expiry_60, expiry_30 (the lease ends within that many days), renewal_suggestion (within 90 days and no renewal drafted), overdue (a bill past its due day and not paid), credit_warning (an open credit warning), approval_escalated (an approval waited too long and went to the region: subject_id is the approval task).';
COMMENT ON COLUMN leasemgr.alert.subject_id IS 'The contract (expiry, renewal), bill (overdue) or credit warning it is about.';
COMMENT ON COLUMN leasemgr.alert.contract_id IS 'The contract concerned, when there is one.';
COMMENT ON COLUMN leasemgr.alert.subject IS 'What it says, in words.';
COMMENT ON COLUMN leasemgr.alert.due_on IS 'The date it is about: the lease''s end, the bill''s due day, the day the warning was measured. With kind and subject, what makes it once.';
COMMENT ON COLUMN leasemgr.alert.raised_at IS 'When it was raised.';
COMMENT ON COLUMN leasemgr.alert.state IS 'open, acknowledged (someone is on it) or resolved.';
COMMENT ON COLUMN leasemgr.alert.decided_at IS 'When it was last acknowledged or resolved.';
COMMENT ON COLUMN leasemgr.alert.decided_by IS 'Who acknowledged or resolved it.';

-- An alert moves forward only (open -> acknowledged -> resolved), stamped; what it says is fixed.
CREATE FUNCTION leasemgr.alert_before_write() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
BEGIN
  IF TG_OP OPERATOR(pg_catalog.=) 'INSERT' AND leasemgr.owner_copy(TG_RELID) THEN
    RETURN NEW;  -- a restore: as dumped
  END IF;
  IF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
    RAISE EXCEPTION USING ERRCODE = 'LM010',
      MESSAGE = pg_catalog.format('alert %s cannot be deleted', OLD.id),
      HINT = 'Resolve it: UPDATE leasemgr.alert SET state = ''resolved''.';
  END IF;
  IF TG_OP OPERATOR(pg_catalog.=) 'INSERT' THEN
    NEW.state := 'open';
    NEW.decided_at := NULL;
    NEW.decided_by := NULL;
    NEW.raised_at := pg_catalog.now();
    RETURN NEW;
  END IF;
  IF (NEW.id, NEW.park_id, NEW.kind, NEW.subject_id, NEW.contract_id, NEW.subject, NEW.due_on, NEW.raised_at)
       IS DISTINCT FROM (OLD.id, OLD.park_id, OLD.kind, OLD.subject_id, OLD.contract_id, OLD.subject, OLD.due_on, OLD.raised_at)
     OR (OLD.state, NEW.state) NOT IN (('open', 'acknowledged'), ('open', 'resolved'), ('acknowledged', 'resolved')) THEN
    RAISE EXCEPTION USING ERRCODE = 'LM010',
      MESSAGE = pg_catalog.format('alert %s cannot be changed that way', OLD.id),
      DETAIL = pg_catalog.format('It is %s; an alert moves from open to acknowledged to resolved, and what it says is fixed.', OLD.state),
      HINT = 'UPDATE leasemgr.alert SET state = ''acknowledged'' (or ''resolved'').';
  END IF;
  NEW.decided_at := pg_catalog.now();
  NEW.decided_by := leasemgr.current_actor();
  RETURN NEW;
END
$fn$;
COMMENT ON FUNCTION leasemgr.alert_before_write() IS
  'Trigger: an alert is raised open and stamped, moves from open to acknowledged to resolved (stamped with who and when), says what it said, and is never deleted (SQLSTATE LM010).';
CREATE TRIGGER alert_before_write BEFORE INSERT OR UPDATE OR DELETE ON leasemgr.alert
  FOR EACH ROW EXECUTE FUNCTION leasemgr.alert_before_write();

CREATE FUNCTION leasemgr.outbox_alerts() RETURNS trigger
  AS 'MODULE_PATHNAME', 'outbox_alerts'
  LANGUAGE C;
COMMENT ON FUNCTION leasemgr.outbox_alerts() IS
  'Trigger: writes an alert event to the outbox for every alert raised; one NOTIFY leasemgr_events per statement.';
CREATE TRIGGER outbox_events AFTER INSERT ON leasemgr.alert
  REFERENCING NEW TABLE AS new_alerts
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.outbox_alerts();

-- ---- late fees posted --------------------------------------------------------------------------

CREATE FUNCTION leasemgr.post_late_fees(as_of date, contract_id bigint DEFAULT NULL) RETURNS integer
  LANGUAGE plpgsql SECURITY INVOKER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  v_n integer;
BEGIN
  IF post_late_fees.as_of IS NULL OR NOT isfinite(post_late_fees.as_of) OR post_late_fees.as_of > business_date() THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = format('late fees cannot be posted as of %s', COALESCE(post_late_fees.as_of::text, 'NULL')),
      DETAIL = format('Today is %s: a fee is posted for days that have passed.', business_date()),
      HINT = 'Post as of today (run_daily does), or a past day to catch up.';
  END IF;
  -- One posting at a time: what was posted is read after the wait (READ COMMITTED).
  PERFORM pg_advisory_xact_lock(hashtext('leasemgr.late_fees'), 0);
  -- The fee of each bill as late_fee says now, against what was posted of it before (a fee
  -- brought forward from a lease the contract renews is its own: kind late_fee_brought_forward).
  WITH change AS MATERIALIZED (
    SELECT d.id AS bill_id, d.park_id, d.contract_id, d.due_on, d.fee, d.posted,
           -- what is new; or, when a payment recorded late lowered the fee, the excess taken
           -- back as far as the bill is unpaid, and the rest, already paid, returned as credit
           CASE WHEN d.fee > d.posted THEN d.fee - d.posted ELSE -LEAST(d.posted - d.fee, d.room) END AS delta,
           -- (a bill paid beyond what it now owes: the overpayment is the excess it cannot take back)
           CASE WHEN d.fee < d.posted THEN d.posted - d.fee - LEAST(d.posted - d.fee, d.room) ELSE 0 END AS paid_back
      FROM (SELECT b.id, b.park_id, b.contract_id, b.due_on,
                   -- how far a bill can be brought down: to what is paid of it (not at all below 0
                   -- once something is paid; freely while nothing is)
                   CASE WHEN b.paid > 0 THEN GREATEST(b.amount - b.paid, 0) ELSE 1e15 END AS room,
                   late_fee(b.id, post_late_fees.as_of) AS fee,
                   COALESCE((SELECT sum(l.amount) FROM bill_line l WHERE l.bill_id = b.id AND l.line_type = 'late_fee'
                               AND l.kind = 'late_fee' AND l.returns_fee_of IS NULL), 0.00)
                   -- less what was returned of it as credit on a bill of its own
                   + COALESCE((SELECT sum(l.amount) FROM bill_line l WHERE l.returns_fee_of = b.id), 0.00) AS posted
              FROM bill b JOIN contract k ON k.id = b.contract_id
             WHERE b.voided_at IS NULL AND b.due_on < post_late_fees.as_of
               AND (post_late_fees.contract_id IS NULL OR b.contract_id = post_late_fees.contract_id)
               -- frozen (no fee accrues), closed or cancelled contracts are not charged
               AND k.state NOT IN ('amending', 'closed', 'cancelled')
               -- a bill handed over to a renewal is settled there
               AND NOT EXISTS (SELECT FROM bill_line l WHERE l.bill_id = b.id AND l.kind = 'carried_over')
               AND (b.paid < b.amount OR EXISTS (SELECT FROM bill_line l WHERE l.bill_id = b.id AND l.line_type = 'late_fee'
                                                    AND l.kind = 'late_fee'))
               -- a catch-up for a day before the last posting of the bill (or return of its fee) changes nothing
               AND NOT EXISTS (SELECT FROM bill_line l WHERE l.bill_id = b.id AND l.line_type = 'late_fee'
                                  AND l.kind = 'late_fee' AND l.period_end > post_late_fees.as_of - 1)
               AND NOT EXISTS (SELECT FROM bill_line l WHERE l.returns_fee_of = b.id
                                  AND l.period_end > post_late_fees.as_of - 1)) d
  ), posted AS (
    INSERT INTO bill_line (park_id, bill_id, contract_id, kind, period_start, period_end, amount, explain, line_type)
    SELECT c.park_id, c.bill_id, c.contract_id, 'late_fee', c.due_on, post_late_fees.as_of - 1, c.delta,
           format('late fee on the unpaid principal through %s (due %s; leasemgr.late_fee): %s accrued in all, %s posted before, %s now%s',
                  post_late_fees.as_of - 1, c.due_on, money_text(c.fee), money_text(c.posted), money_text(c.delta),
                  CASE WHEN c.delta < 0 THEN ' (a payment recorded since counts from the day it was made)' ELSE '' END),
           'late_fee'
      FROM change c WHERE c.delta <> 0
     ORDER BY c.bill_id
    RETURNING 1
  ), credit_bill AS (
    -- fees already paid beyond what accrued come back as the tenant's credit, on a bill of
    -- their own per contract
    INSERT INTO bill (park_id, contract_id, period, issued_on, due_on, issued_by)
    SELECT DISTINCT c.park_id, c.contract_id, date_trunc('month', post_late_fees.as_of)::date, post_late_fees.as_of,
           post_late_fees.as_of, current_actor()
      FROM change c WHERE c.paid_back > 0
    RETURNING id, contract_id
  ), returned AS (
    INSERT INTO bill_line (park_id, bill_id, contract_id, kind, period_start, period_end, amount, explain, line_type,
                           returns_fee_of)
    SELECT c.park_id, cb.id, c.contract_id, 'late_fee', c.due_on, post_late_fees.as_of - 1, -c.paid_back,
           format('late fee of bill %s paid beyond what accrued (%s accrued, %s posted and paid; a payment recorded since counts from the day it was made): %s returned as credit',
                  c.bill_id, money_text(c.fee), money_text(c.posted), money_text(c.paid_back)),
           'late_fee', c.bill_id
      FROM change c JOIN credit_bill cb ON cb.contract_id = c.contract_id
     WHERE c.paid_back > 0
     ORDER BY c.bill_id
    RETURNING 1)
  SELECT (SELECT count(*) FROM posted)::integer + (SELECT count(*) FROM returned)::integer INTO v_n;
  RETURN v_n;
END
$fn$;
COMMENT ON FUNCTION leasemgr.post_late_fees(date, bigint) IS
  'Posts late fees as late_fee lines: for each bill past its due day (of one contract, or all you see), what leasemgr.late_fee(bill, as_of) says has accrued beyond what was posted; when a payment recorded late lowered the fee, the excess posted is taken back as far as the bill is unpaid. Not for contracts frozen by an amendment, closed or cancelled. One posting at a time. Returns the lines written. run_daily calls it every day.';

-- ---- the daily job body ---------------------------------------------------------------------

CREATE FUNCTION leasemgr.run_daily(as_of date DEFAULT leasemgr.business_date())
  RETURNS TABLE (step text, done integer)
  LANGUAGE plpgsql SECURITY INVOKER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
DECLARE
  v_today date := leasemgr.business_date();
  v_day date;
  v_n integer;
  v_refused integer := 0;
  v_left integer := 0;
  v_event text;
  c record;
BEGIN
  IF as_of IS NULL OR NOT pg_catalog.isfinite(as_of) OR as_of OPERATOR(pg_catalog.>) v_today THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = pg_catalog.format('run_daily cannot run as of %s', COALESCE(as_of::text, 'NULL')),
      DETAIL = pg_catalog.format('Today is %s: the daily job runs for today or catches up a day that has passed.', v_today),
      HINT = 'Call leasemgr.run_daily() for today, or with a past day to catch up.';
  END IF;
  -- The state machine's guards read today, so a catch-up acts as of the day asked, and no
  -- later than today.
  v_day := as_of;

  -- Signed leases whose start has come are activated; active ones whose end has passed expire.
  FOREACH v_event IN ARRAY ARRAY['activate', 'expire'] LOOP
    v_n := 0;
    FOR c IN SELECT k.id FROM leasemgr.contract k
              WHERE CASE v_event
                      WHEN 'activate' THEN k.state OPERATOR(pg_catalog.=) 'signed' AND k.start_date OPERATOR(pg_catalog.<=) v_day
                      ELSE k.state OPERATOR(pg_catalog.=) 'active' AND k.end_date OPERATOR(pg_catalog.<) v_day END
              ORDER BY k.id FOR UPDATE SKIP LOCKED
    LOOP
      BEGIN
        PERFORM leasemgr.contract_transition(c.id, v_event);
        v_n := v_n OPERATOR(pg_catalog.+) 1;
      EXCEPTION WHEN SQLSTATE 'LM001' OR SQLSTATE 'LM002' THEN
        -- one contract the state machine refuses does not stop the job: counted and said;
        -- any other error (a lock timeout, a permission) fails the job, as it should
        v_refused := v_refused OPERATOR(pg_catalog.+) 1;
        RAISE WARNING 'run_daily: contract % could not %: %', c.id, v_event, SQLERRM;
      END;
    END LOOP;
    step := CASE v_event WHEN 'activate' THEN 'activated' ELSE 'expired' END; done := v_n; RETURN NEXT;
    -- what is still due after the loop: refused, or locked by another session (SKIP LOCKED)
    SELECT pg_catalog.count(*)::integer INTO v_n FROM leasemgr.contract k
     WHERE CASE v_event
             WHEN 'activate' THEN k.state OPERATOR(pg_catalog.=) 'signed' AND k.start_date OPERATOR(pg_catalog.<=) v_day
             ELSE k.state OPERATOR(pg_catalog.=) 'active' AND k.end_date OPERATOR(pg_catalog.<) v_day END;
    IF v_n OPERATOR(pg_catalog.>) 0 THEN
      RAISE WARNING 'run_daily: % contract(s) still to %: refused (see above) or locked by another session; the next run retries',
        v_n, v_event;
    END IF;
    v_left := v_left OPERATOR(pg_catalog.+) v_n;
  END LOOP;

  -- Expiry alerts: each threshold once, when the lease's end comes within it.
  WITH ins AS (
    INSERT INTO leasemgr.alert (park_id, kind, subject_id, contract_id, subject, due_on)
    SELECT k.park_id, 'expiry_' OPERATOR(pg_catalog.||) t.days, k.id, k.id,
           pg_catalog.format('Lease %s ends on %s, in %s days', k.code, k.end_date, k.end_date OPERATOR(pg_catalog.-) v_day),
           k.end_date
      FROM leasemgr.contract k CROSS JOIN (VALUES (90), (60), (30)) t(days)
     WHERE k.state OPERATOR(pg_catalog.=) ANY ('{active,amending}'::text[])
       AND k.end_date OPERATOR(pg_catalog.>=) v_day
       AND k.end_date OPERATOR(pg_catalog.<=) (v_day OPERATOR(pg_catalog.+) t.days)
     ORDER BY k.id, t.days DESC
    ON CONFLICT ON CONSTRAINT alert_once DO NOTHING
    RETURNING 1)
  SELECT pg_catalog.count(*)::integer INTO v_n FROM ins;
  step := 'expiry alerts'; done := v_n; RETURN NEXT;

  -- Renewal suggestions: within 90 days of the end, no renewal drafted yet.
  WITH ins AS (
    INSERT INTO leasemgr.alert (park_id, kind, subject_id, contract_id, subject, due_on)
    SELECT k.park_id, 'renewal_suggestion', k.id, k.id,
           pg_catalog.format('Lease %s ends on %s: propose a renewal (leasemgr.renewal_suggestions shows comparable rents)',
                             k.code, k.end_date),
           k.end_date
      FROM leasemgr.contract k
     WHERE k.state OPERATOR(pg_catalog.=) ANY ('{active,amending}'::text[])
       AND k.end_date OPERATOR(pg_catalog.>=) v_day
       AND k.end_date OPERATOR(pg_catalog.<=) (v_day OPERATOR(pg_catalog.+) 90)
       AND NOT EXISTS (SELECT FROM leasemgr.contract r WHERE r.renews_contract_id OPERATOR(pg_catalog.=) k.id
                          AND r.state OPERATOR(pg_catalog.<>) 'cancelled')
     ORDER BY k.id
    ON CONFLICT ON CONSTRAINT alert_once DO NOTHING
    RETURNING 1)
  SELECT pg_catalog.count(*)::integer INTO v_n FROM ins;
  step := 'renewal suggestions'; done := v_n; RETURN NEXT;

  -- Overdue bills: past their due day, not paid, not void.
  WITH ins AS (
    INSERT INTO leasemgr.alert (park_id, kind, subject_id, contract_id, subject, due_on)
    SELECT b.park_id, 'overdue', b.id, b.contract_id,
           pg_catalog.format('Bill %s of %s (%s) was due on %s: %s of %s CNY unpaid', b.id, k.code,
                             pg_catalog.to_char(b.period, 'YYYY-MM'), b.due_on, b.amount OPERATOR(pg_catalog.-) b.paid, b.amount),
           b.due_on
      FROM leasemgr.bill b JOIN leasemgr.contract k ON k.id OPERATOR(pg_catalog.=) b.contract_id
     WHERE b.voided_at IS NULL AND b.paid OPERATOR(pg_catalog.<) b.amount AND b.due_on OPERATOR(pg_catalog.<) v_day
       -- dunning pauses while an amendment freezes the contract; the alert comes after it
       AND k.state OPERATOR(pg_catalog.<>) 'amending'
     ORDER BY b.id
    ON CONFLICT ON CONSTRAINT alert_once DO NOTHING
    RETURNING 1)
  SELECT pg_catalog.count(*)::integer INTO v_n FROM ins;
  step := 'overdue alerts'; done := v_n; RETURN NEXT;

  -- Leases continued by their renewal hand over what they billed since, and close once final.
  IF v_day OPERATOR(pg_catalog.=) v_today THEN
    v_n := 0;
    FOR c IN SELECT k.id FROM leasemgr.contract k
              WHERE k.state OPERATOR(pg_catalog.=) 'expired'
                AND EXISTS (SELECT FROM leasemgr.contract r WHERE r.renews_contract_id OPERATOR(pg_catalog.=) k.id
                               AND r.state OPERATOR(pg_catalog.<>) ALL ('{draft,pending_approval,approved,signed,cancelled}'::text[]))
              ORDER BY k.id
    LOOP
      BEGIN
        IF leasemgr.renewal_hand_over(c.id) THEN
          v_n := v_n OPERATOR(pg_catalog.+) 1;
        END IF;
      EXCEPTION WHEN OTHERS THEN
        -- one lease that cannot be handed over does not stop the job for every park: said, with
        -- its SQLSTATE, and retried tomorrow
        v_refused := v_refused OPERATOR(pg_catalog.+) 1;
        RAISE WARNING 'run_daily: contract % could not be handed over to its renewal: % (SQLSTATE %)', c.id, SQLERRM, SQLSTATE;
      END;
    END LOOP;
    step := 'leases closed for their renewal'; done := v_n; RETURN NEXT;
  END IF;

  v_n := leasemgr.post_late_fees(v_day);
  step := 'late fees posted'; done := v_n; RETURN NEXT;

  -- Credit warnings: raised by the drift rule, then an alert for each open one.
  step := 'credit warnings raised'; done := leasemgr.refresh_credit_warnings(v_day); RETURN NEXT;
  WITH ins AS (
    INSERT INTO leasemgr.alert (park_id, kind, subject_id, subject, due_on)
    SELECT w.park_id, 'credit_warning', w.id,
           pg_catalog.format('Tenant %s is under credit warning %s: paid %s and %s days late in %s and %s', t.name, w.id,
                             w.first_drift_days, w.second_drift_days, pg_catalog.to_char(w.first_period, 'YYYY-MM'),
                             pg_catalog.to_char(w.second_period, 'YYYY-MM')),
           w.measured_on
      FROM leasemgr.tenant_credit_warning w JOIN leasemgr.tenant t ON t.id OPERATOR(pg_catalog.=) w.tenant_id
     WHERE w.cleared_at IS NULL
     ORDER BY w.id
    ON CONFLICT ON CONSTRAINT alert_once DO NOTHING
    RETURNING 1)
  SELECT pg_catalog.count(*)::integer INTO v_n FROM ins;
  step := 'credit warning alerts'; done := v_n; RETURN NEXT;
  step := 'transitions refused (see the warnings)'; done := v_refused; RETURN NEXT;
  step := 'transitions left for the next run'; done := v_left; RETURN NEXT;
END
$fn$;
COMMENT ON FUNCTION leasemgr.run_daily(date) IS
  'The daily job body (pg_cron runs it; tests call it): activates signed leases whose start has come, expires active ones whose end has passed, raises expiry alerts at 90, 60 and 30 days, renewal suggestions at 90 days, overdue alerts, posts the late fees accrued since the last posting as late_fee lines, and raises credit warnings with their alerts, each once however often it runs. as_of: today (default) or a past day to catch up. Returns what each step did.';

-- ---- pg_cron: registering the jobs ------------------------------------------------------------

-- The jobs of this database, as pg_cron is to run them: names, schedules in GMT (pg_cron 1.4
-- reads them in GMT; the times given are local, in leasemgr.timezone), commands, databases.
CREATE FUNCTION leasemgr.job_definitions(daily_at time DEFAULT '00:05', bill_run_at time DEFAULT '02:00',
                                         trim_at time DEFAULT '03:00', keep_run_details interval DEFAULT '30 days')
  RETURNS TABLE (job_name text, schedule text, command text, database text)
  LANGUAGE sql STABLE
BEGIN ATOMIC
  -- business_date() first: it loads the library, which defines leasemgr.timezone
  WITH z AS MATERIALIZED (SELECT leasemgr.business_date() AS today),
  tz AS MATERIALIZED (SELECT z.today, pg_catalog.current_setting('leasemgr.timezone') AS name FROM z),
  t(name, at, command, db, hourly) AS (
    VALUES ('leasemgr-daily:' OPERATOR(pg_catalog.||) pg_catalog.current_database(), daily_at,
            'SELECT * FROM leasemgr.run_daily()', pg_catalog.current_database(), false),
           -- hourly, at the minute of daily_at: approvals waiting too long go to the region
           ('leasemgr-escalations:' OPERATOR(pg_catalog.||) pg_catalog.current_database(), daily_at,
            'SELECT leasemgr.run_escalations()', pg_catalog.current_database(), true),
           -- daily: the run bills what fell due and catches up any month it missed; idempotent
           ('leasemgr-bill-run:' OPERATOR(pg_catalog.||) pg_catalog.current_database(), bill_run_at,
            'SELECT * FROM leasemgr.bill_run(pg_catalog.date_trunc(''month'', leasemgr.business_date())::date)',
            pg_catalog.current_database(), false),
           -- pg_cron's own history, in the database that holds it
           ('leasemgr-trim-cron-history:' OPERATOR(pg_catalog.||) pg_catalog.current_database(), trim_at,
            pg_catalog.format('DELETE FROM cron.job_run_details WHERE end_time < pg_catalog.now() - %L::interval',
                              keep_run_details),
            pg_catalog.current_setting('cron.database_name', true), false)
  )
  SELECT t.name,
         -- today's local time in GMT: minute and hour (a zone with summer time moves by an
         -- hour twice a year: register the jobs again then)
         CASE WHEN t.hourly THEN pg_catalog.to_char(t.at, 'FMMI') OPERATOR(pg_catalog.||) ' * * * *'
              ELSE pg_catalog.to_char(((tz.today OPERATOR(pg_catalog.+) t.at) AT TIME ZONE tz.name) AT TIME ZONE 'UTC',
                                      'FMMI FMHH24') OPERATOR(pg_catalog.||) ' * * *' END,
         t.command, t.db
    FROM t CROSS JOIN tz;
END;
COMMENT ON FUNCTION leasemgr.job_definitions(time, time, time, interval) IS
  'The pg_cron jobs of this database: the daily job (run_daily), the escalation of approvals (run_escalations, hourly at the minute of daily_at), the bill run (daily, billing what fell due and catching up any missed month) and the trimming of cron.job_run_details, at local times (leasemgr.timezone) converted to the GMT schedules pg_cron 1.4 reads.';

CREATE FUNCTION leasemgr.schedule_jobs(daily_at time DEFAULT '00:05', bill_run_at time DEFAULT '02:00',
                                       trim_at time DEFAULT '03:00', keep_run_details interval DEFAULT '30 days')
  RETURNS TABLE (job_name text, schedule text, command text, database text)
  LANGUAGE plpgsql SECURITY INVOKER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
DECLARE
  v_cron_db text := pg_catalog.current_setting('cron.database_name', true);
  j record;
  v_statements text := '';
BEGIN
  IF daily_at IS NULL OR bill_run_at IS NULL OR trim_at IS NULL OR keep_run_details IS NULL
     OR keep_run_details OPERATOR(pg_catalog.<) interval '1 day' THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = 'schedule_jobs needs three times of day and at least a day of pg_cron history to keep',
      DETAIL = pg_catalog.format('daily_at %s, bill_run_at %s, trim_at %s, keep_run_details %s.', daily_at, bill_run_at, trim_at,
                                 keep_run_details),
      HINT = 'E.g. SELECT * FROM leasemgr.schedule_jobs(''00:05'', ''02:00'', ''03:00'', ''30 days'').';
  END IF;
  IF v_cron_db IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = 'pg_cron is not loaded in this server',
      DETAIL = 'cron.database_name is not set: pg_cron is not in shared_preload_libraries.',
      HINT = 'Add pg_cron to shared_preload_libraries, set cron.database_name, restart, CREATE EXTENSION pg_cron in that database, then call leasemgr.schedule_jobs() again.';
  END IF;
  IF v_cron_db OPERATOR(pg_catalog.<>) pg_catalog.current_database()
     OR pg_catalog.to_regnamespace('cron') IS NULL THEN
    FOR j IN SELECT * FROM leasemgr.job_definitions(daily_at, bill_run_at, trim_at, keep_run_details) LOOP
      v_statements := v_statements OPERATOR(pg_catalog.||)
        pg_catalog.format(E'\nSELECT cron.schedule_in_database(%L, %L, %L, %L);', j.job_name, j.schedule, j.command, j.database);
    END LOOP;
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = pg_catalog.format('pg_cron keeps its jobs in database %s, not in %s', v_cron_db, pg_catalog.current_database()),
      DETAIL = CASE WHEN v_cron_db OPERATOR(pg_catalog.=) pg_catalog.current_database()
                    THEN 'The pg_cron extension is not created in this database yet.'
                    ELSE 'pg_cron''s metadata lives in the database named by cron.database_name; jobs are registered there and run here.' END,
      HINT = CASE WHEN v_cron_db OPERATOR(pg_catalog.=) pg_catalog.current_database()
                  THEN 'CREATE EXTENSION pg_cron; then call leasemgr.schedule_jobs() again.'
                  ELSE pg_catalog.format('Connect to %s as a superuser and run:%s', v_cron_db, v_statements) END;
  END IF;
  FOR j IN SELECT * FROM leasemgr.job_definitions(daily_at, bill_run_at, trim_at, keep_run_details) LOOP
    -- by name: registering again replaces the schedule, never adds a second job
    EXECUTE 'SELECT cron.schedule_in_database($1, $2, $3, $4)' USING j.job_name, j.schedule, j.command, j.database;
    job_name := j.job_name; schedule := j.schedule; command := j.command; database := j.database;
    RETURN NEXT;
  END LOOP;
END
$fn$;
COMMENT ON FUNCTION leasemgr.schedule_jobs(time, time, time, interval) IS
  'Registers (or re-registers, by name) this database''s pg_cron jobs (leasemgr.job_definitions). Call it in the database named by cron.database_name, where pg_cron keeps its jobs; from another database it refuses and its hint gives the statements to run there. Never called by CREATE EXTENSION: a restored database schedules nothing twice.';

CREATE FUNCTION leasemgr.unschedule_jobs() RETURNS integer
  LANGUAGE plpgsql SECURITY INVOKER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
DECLARE
  v_cron_db text := pg_catalog.current_setting('cron.database_name', true);
  v_n integer := 0;
  j record;
BEGIN
  IF v_cron_db IS NULL OR v_cron_db OPERATOR(pg_catalog.<>) pg_catalog.current_database()
     OR pg_catalog.to_regnamespace('cron') IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = pg_catalog.format('pg_cron keeps its jobs in database %s, not in %s', COALESCE(v_cron_db, '(none: pg_cron is not loaded)'),
                                  pg_catalog.current_database()),
      HINT = pg_catalog.format('Connect to %s and run: SELECT cron.unschedule(jobname) FROM cron.job WHERE jobname IN (%s);',
                               COALESCE(v_cron_db, 'the cron database'),
                               (SELECT pg_catalog.string_agg(pg_catalog.quote_literal(d.job_name), ', ') FROM leasemgr.job_definitions() d));
  END IF;
  FOR j IN SELECT d.job_name FROM leasemgr.job_definitions() d LOOP
    IF EXISTS (SELECT FROM cron.job WHERE jobname OPERATOR(pg_catalog.=) j.job_name) THEN
      PERFORM cron.unschedule(j.job_name);
      v_n := v_n OPERATOR(pg_catalog.+) 1;
    END IF;
  END LOOP;
  RETURN v_n;
END
$fn$;
COMMENT ON FUNCTION leasemgr.unschedule_jobs() IS
  'Removes this database''s pg_cron jobs; returns how many. Like schedule_jobs, in the database named by cron.database_name.';

-- ---- security, dump -------------------------------------------------------------------------

ALTER TABLE leasemgr.alert ENABLE ROW LEVEL SECURITY;
CREATE POLICY park_scope ON leasemgr.alert USING ((SELECT leasemgr.sees_all_parks())
  OR park_id OPERATOR(pg_catalog.=) ANY ((SELECT leasemgr.visible_parks())::bigint[]));
COMMENT ON POLICY park_scope ON leasemgr.alert IS
  'Rows of the parks granted to the role (leasemgr.grant_park); every park for leasemgr_admin.';
CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON leasemgr.alert
  FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row();
CREATE TRIGGER truncate_guard BEFORE TRUNCATE ON leasemgr.alert
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.truncate_guard();
REVOKE ALL ON leasemgr.alert FROM PUBLIC;
GRANT SELECT ON leasemgr.alert TO leasemgr_reader;
GRANT UPDATE (state) ON leasemgr.alert TO leasemgr_operator, leasemgr_finance;
REVOKE ALL ON FUNCTION leasemgr.alert_before_write(), leasemgr.outbox_alerts(), leasemgr.run_daily(date),
  leasemgr.post_late_fees(date, bigint),
  leasemgr.job_definitions(time, time, time, interval), leasemgr.schedule_jobs(time, time, time, interval),
  leasemgr.unschedule_jobs() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leasemgr.job_definitions(time, time, time, interval), leasemgr.schedule_jobs(time, time, time, interval),
  leasemgr.unschedule_jobs() TO leasemgr_admin;
GRANT EXECUTE ON FUNCTION leasemgr.run_daily(date) TO leasemgr_admin;
GRANT EXECUTE ON FUNCTION leasemgr.post_late_fees(date, bigint) TO leasemgr_finance;
-- run_daily runs with its caller's rights: the admins (and the pg_cron job's owner) raise alerts.
GRANT INSERT (park_id, kind, subject_id, contract_id, subject, due_on) ON leasemgr.alert TO leasemgr_admin;
GRANT USAGE ON SEQUENCE leasemgr.alert_id_seq TO leasemgr_admin;

SELECT pg_catalog.pg_extension_config_dump('leasemgr.alert', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.alert_id_seq', '');
