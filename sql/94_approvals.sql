-- Approvals that escalate (审批升级): contract submissions, amendments and deposit refunds each
-- open an approval task for a role of the park; a task still pending after its time (24 hours
-- unless a policy says otherwise) goes to the region's role, recorded with the time, audited
-- and raised as an alert. leasemgr.run_escalations(as_of) is the job body; docs/approvals.md.
--
-- Tasks are written by the SECURITY DEFINER functions below only (nobody holds INSERT or
-- UPDATE on the table), called by the triggers of the subjects, which run as their writer and
-- leave a restore alone. The functions check the subject, so calling them directly can only
-- open or close a task the subject's state calls for.

CREATE TABLE leasemgr.approval_policy (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  region_id      bigint REFERENCES leasemgr.region (id),
  subject_kind   text NOT NULL CHECK (subject_kind IN ('contract', 'amendment', 'deposit_refund')),
  park_role      name NOT NULL,
  region_role    name NOT NULL,
  escalate_after interval NOT NULL DEFAULT '24 hours' CHECK (escalate_after > '0'::interval),
  CONSTRAINT approval_policy_once UNIQUE NULLS NOT DISTINCT (region_id, subject_kind)
);
COMMENT ON TABLE leasemgr.approval_policy IS
  'Who approves what, and how long a task may wait before it goes up: per region (NULL: every region) and kind of subject. Without a row: contracts and amendments to leasemgr_operator, refunds to leasemgr_finance, escalation to leasemgr_admin after 24 hours.';
COMMENT ON COLUMN leasemgr.approval_policy.id IS 'Policy identifier.';
COMMENT ON COLUMN leasemgr.approval_policy.region_id IS 'The region it applies to; NULL for every region without its own row.';
COMMENT ON COLUMN leasemgr.approval_policy.subject_kind IS 'contract (submitted for approval), amendment (opened) or deposit_refund (requested).';
COMMENT ON COLUMN leasemgr.approval_policy.park_role IS 'The role whose members act first, within the park (they see it under the park scope).';
COMMENT ON COLUMN leasemgr.approval_policy.region_role IS 'The role a task goes to when it has waited too long.';
COMMENT ON COLUMN leasemgr.approval_policy.escalate_after IS 'How long a task waits at the park before it escalates; default 24 hours.';

CREATE TABLE leasemgr.approval_task (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  park_id        bigint NOT NULL REFERENCES leasemgr.park (id),
  subject_kind   text NOT NULL CHECK (subject_kind IN ('contract', 'amendment', 'deposit_refund')),
  subject_id     bigint NOT NULL,
  action         text NOT NULL,
  assigned_role  name NOT NULL,
  level          text NOT NULL DEFAULT 'park' CHECK (level IN ('park', 'region')),
  state          text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'cancelled')),
  created_at     timestamptz NOT NULL,
  escalate_at    timestamptz NOT NULL,
  escalated_at   timestamptz,
  escalated_from name,
  closed_at      timestamptz,
  closed_by      text,
  outcome        text,
  CONSTRAINT approval_task_escalated CHECK ((level = 'region') = (escalated_at IS NOT NULL)),
  CONSTRAINT approval_task_closed CHECK ((state = 'pending') = (closed_at IS NULL))
);
CREATE UNIQUE INDEX approval_task_one_pending ON leasemgr.approval_task (subject_kind, subject_id) WHERE state = 'pending';
CREATE INDEX approval_task_due ON leasemgr.approval_task (escalate_at) WHERE state = 'pending' AND level = 'park';
-- The roles of a policy must exist: a name that does not would stop every reader of
-- my_approvals (pg_has_role refuses an unknown role).
CREATE FUNCTION leasemgr.approval_policy_check() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
BEGIN
  IF TG_OP = 'INSERT' AND owner_copy(TG_RELID) THEN
    RETURN NEW;
  END IF;
  IF to_regrole(quote_ident(NEW.park_role)) IS NULL OR to_regrole(quote_ident(NEW.region_role)) IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = format('approval policy: role %s does not exist',
                       CASE WHEN to_regrole(quote_ident(NEW.park_role)) IS NULL THEN NEW.park_role ELSE NEW.region_role END),
      HINT = 'Name existing roles (e.g. leasemgr_operator, leasemgr_finance, leasemgr_admin, or a role of your own).';
  END IF;
  RETURN NEW;
END
$fn$;
COMMENT ON FUNCTION leasemgr.approval_policy_check() IS 'Trigger: the roles of an approval policy exist (SQLSTATE LM011).';
CREATE TRIGGER approval_policy_check BEFORE INSERT OR UPDATE ON leasemgr.approval_policy
  FOR EACH ROW EXECUTE FUNCTION leasemgr.approval_policy_check();

COMMENT ON TABLE leasemgr.approval_task IS
  'Something waiting for a decision (审批待办): a contract submitted, an amendment opened, a deposit refund requested; who must act (a role, within the park), since when, and whether it went up to the region. Opened and closed by the subjects'' own transitions; escalated by leasemgr.run_escalations. Never deleted.';
COMMENT ON COLUMN leasemgr.approval_task.id IS 'Task identifier.';
COMMENT ON COLUMN leasemgr.approval_task.park_id IS 'The park of the subject.';
COMMENT ON COLUMN leasemgr.approval_task.subject_kind IS 'contract, amendment or deposit_refund.';
COMMENT ON COLUMN leasemgr.approval_task.subject_id IS 'The id of the contract, amendment or refund.';
COMMENT ON COLUMN leasemgr.approval_task.action IS 'What is to be done, in words, e.g. "approve contract HT-2026-0001".';
COMMENT ON COLUMN leasemgr.approval_task.assigned_role IS 'The role whose members must act: the park''s role, then the region''s after escalation.';
COMMENT ON COLUMN leasemgr.approval_task.level IS 'park, or region once escalated.';
COMMENT ON COLUMN leasemgr.approval_task.state IS 'pending, done (decided: approved, rejected, withdrawn, released) or cancelled (the subject went away).';
COMMENT ON COLUMN leasemgr.approval_task.created_at IS 'When the task opened.';
COMMENT ON COLUMN leasemgr.approval_task.escalate_at IS 'When it goes to the region if still pending: created_at + the policy''s escalate_after.';
COMMENT ON COLUMN leasemgr.approval_task.escalated_at IS 'When it went to the region; NULL while at the park.';
COMMENT ON COLUMN leasemgr.approval_task.escalated_from IS 'The park role it was taken from.';
COMMENT ON COLUMN leasemgr.approval_task.closed_at IS 'When it was decided or cancelled.';
COMMENT ON COLUMN leasemgr.approval_task.closed_by IS 'Who decided (leasemgr.actor, else the login).';
COMMENT ON COLUMN leasemgr.approval_task.outcome IS 'How it ended: approved, rejected, cancelled, withdrawn, released, locked.';

-- ---- opening and closing (SECURITY DEFINER; the subject decides) --------------------------------

CREATE FUNCTION leasemgr.approval_open(subject_kind text, subject_id bigint) RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  s record;
  p record;
  v_id bigint;
BEGIN
  -- the subject, in the state that calls for a decision
  IF approval_open.subject_kind = 'contract' THEN
    SELECT k.park_id, format('approve contract %s', k.code) AS action INTO s
      FROM contract k WHERE k.id = approval_open.subject_id AND k.state = 'pending_approval';
  ELSIF approval_open.subject_kind = 'amendment' THEN
    SELECT a.park_id, format('approve amendment %s of contract %s (%s)', a.id, k.code, a.reason) AS action INTO s
      FROM amendment a JOIN contract k ON k.id = a.contract_id WHERE a.id = approval_open.subject_id AND a.state = 'open';
  ELSIF approval_open.subject_kind = 'deposit_refund' THEN
    SELECT r.park_id, format('release deposit refund %s of contract %s: %s CNY (after the tenant''s code)', r.id, k.code,
                             money_text(r.amount)) AS action INTO s
      FROM deposit_refund r JOIN contract k ON k.id = r.contract_id
     WHERE r.id = approval_open.subject_id AND r.state IN ('requested', 'confirmed');
  ELSE
    RETURN NULL;  -- not a kind of subject that waits for a decision
  END IF;
  IF s.park_id IS NULL THEN
    RETURN NULL;  -- nothing to decide
  END IF;
  SELECT COALESCE(x.park_role, CASE approval_open.subject_kind WHEN 'deposit_refund' THEN 'leasemgr_finance'
                                                               ELSE 'leasemgr_operator' END)::name AS park_role,
         COALESCE(x.escalate_after, interval '24 hours') AS escalate_after INTO p
    FROM (SELECT 1) one
    LEFT JOIN LATERAL (SELECT ap.* FROM approval_policy ap JOIN park pk ON pk.id = s.park_id
                        WHERE ap.subject_kind = approval_open.subject_kind
                          AND (ap.region_id = pk.region_id OR ap.region_id IS NULL)
                        ORDER BY ap.region_id NULLS LAST LIMIT 1) x ON true;
  INSERT INTO approval_task (park_id, subject_kind, subject_id, action, assigned_role, created_at, escalate_at)
  VALUES (s.park_id, approval_open.subject_kind, approval_open.subject_id, s.action, p.park_role, now(), now() + p.escalate_after)
  ON CONFLICT (subject_kind, subject_id) WHERE state = 'pending' DO NOTHING
  RETURNING id INTO v_id;
  RETURN v_id;
END
$fn$;
COMMENT ON FUNCTION leasemgr.approval_open(text, bigint) IS
  'Internal, called by the subjects'' triggers: opens the approval task of a contract submitted, an amendment opened or a refund requested, for the park role of the policy; nothing when the subject does not wait for a decision or already has its task.';

CREATE FUNCTION leasemgr.approval_close(subject_kind text, subject_id bigint) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  v_outcome text;
BEGIN
  -- the subject's state now says how the task ended; still waiting: nothing to close
  IF approval_close.subject_kind = 'contract' THEN
    SELECT CASE k.state WHEN 'pending_approval' THEN NULL WHEN 'approved' THEN 'approved' WHEN 'draft' THEN 'rejected'
                        ELSE k.state END INTO v_outcome FROM contract k WHERE k.id = approval_close.subject_id;
  ELSIF approval_close.subject_kind = 'amendment' THEN
    SELECT NULLIF(a.state, 'open') INTO v_outcome FROM amendment a WHERE a.id = approval_close.subject_id;
  ELSIF approval_close.subject_kind = 'deposit_refund' THEN
    SELECT CASE WHEN r.state IN ('requested', 'confirmed') THEN NULL ELSE r.state END INTO v_outcome
      FROM deposit_refund r WHERE r.id = approval_close.subject_id;
  END IF;
  IF v_outcome IS NULL THEN
    RETURN;
  END IF;
  UPDATE approval_task t
     SET state = CASE WHEN v_outcome IN ('cancelled', 'locked') THEN 'cancelled' ELSE 'done' END,
         outcome = v_outcome, closed_at = now(), closed_by = current_actor()
   WHERE t.subject_kind = approval_close.subject_kind AND t.subject_id = approval_close.subject_id AND t.state = 'pending';
END
$fn$;
COMMENT ON FUNCTION leasemgr.approval_close(text, bigint) IS
  'Internal, called by the subjects'' triggers: closes the pending task of a subject that was decided (done: approved, rejected, withdrawn, released) or went away (cancelled, locked), stamped with who and when; nothing while it still waits.';

-- The subjects' triggers: they run as the writer, leave a restore alone, and call the two above.
CREATE FUNCTION leasemgr.approval_follow() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
DECLARE
  v_kind text := TG_ARGV[0];
BEGIN
  IF TG_OP = 'INSERT' AND owner_copy(TG_RELID) THEN
    RETURN NULL;  -- a restore: the tasks come back from the dump
  END IF;
  PERFORM approval_open(v_kind, NEW.id);
  IF TG_OP = 'UPDATE' THEN
    PERFORM approval_close(v_kind, NEW.id);
  END IF;
  RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION leasemgr.approval_follow() IS
  'Trigger (argument: the subject kind): opens the approval task a contract submission, an amendment or a refund request calls for, and closes it when the subject is decided.';
CREATE TRIGGER approval_follow AFTER UPDATE OF state ON leasemgr.contract
  FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state
                     AND (NEW.state = 'pending_approval' OR OLD.state = 'pending_approval'))
  EXECUTE FUNCTION leasemgr.approval_follow('contract');
CREATE TRIGGER approval_follow AFTER INSERT OR UPDATE OF state ON leasemgr.amendment
  FOR EACH ROW EXECUTE FUNCTION leasemgr.approval_follow('amendment');
CREATE TRIGGER approval_follow AFTER INSERT OR UPDATE OF state ON leasemgr.deposit_refund
  FOR EACH ROW EXECUTE FUNCTION leasemgr.approval_follow('deposit_refund');

-- ---- escalation -------------------------------------------------------------------------------

-- The role a task of a park and kind goes to when it escalates.
CREATE FUNCTION leasemgr.approval_region_role(park_id bigint, subject_kind text) RETURNS name
  LANGUAGE sql STABLE STRICT
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
  SELECT COALESCE((SELECT ap.region_role FROM approval_policy ap JOIN park pk ON pk.id = approval_region_role.park_id
                    WHERE ap.subject_kind = approval_region_role.subject_kind
                      AND (ap.region_id = pk.region_id OR ap.region_id IS NULL)
                    ORDER BY ap.region_id NULLS LAST LIMIT 1), 'leasemgr_admin')
$fn$;
COMMENT ON FUNCTION leasemgr.approval_region_role(bigint, text) IS
  'The role a task of the park and kind goes to when it escalates: the region''s policy, else the policy for every region, else leasemgr_admin.';

CREATE FUNCTION leasemgr.run_escalations(as_of timestamptz DEFAULT now()) RETURNS integer
  LANGUAGE plpgsql SECURITY INVOKER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  v_n integer;
BEGIN
  IF run_escalations.as_of IS NULL OR NOT isfinite(run_escalations.as_of) OR run_escalations.as_of > clock_timestamp() THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = format('run_escalations cannot run as of %s', COALESCE(run_escalations.as_of::text, 'NULL')),
      DETAIL = 'Escalation looks at how long tasks have waited until now or an earlier moment.',
      HINT = 'Call leasemgr.run_escalations() for now.';
  END IF;
  PERFORM business_date();  -- loads the library, and with it the leasemgr.timezone setting
  WITH up AS (
    UPDATE approval_task t
       SET level = 'region', escalated_at = run_escalations.as_of, escalated_from = t.assigned_role,
           assigned_role = approval_region_role(t.park_id, t.subject_kind)
     WHERE t.state = 'pending' AND t.level = 'park' AND t.escalate_at <= run_escalations.as_of
    RETURNING t.*),
  raised AS (
    INSERT INTO alert (park_id, kind, subject_id, contract_id, subject, due_on)
    SELECT up.park_id, 'approval_escalated', up.id,
           CASE up.subject_kind WHEN 'contract' THEN up.subject_id
                                WHEN 'amendment' THEN (SELECT a.contract_id FROM amendment a WHERE a.id = up.subject_id)
                                ELSE (SELECT r.contract_id FROM deposit_refund r WHERE r.id = up.subject_id) END,
           format('Waiting since %s, now for %s (was %s): %s', to_char(up.created_at, 'YYYY-MM-DD HH24:MI'),
                  up.assigned_role, up.escalated_from, up.action),
           (run_escalations.as_of AT TIME ZONE current_setting('leasemgr.timezone'))::date
      FROM up
    ON CONFLICT ON CONSTRAINT alert_once DO NOTHING
    RETURNING 1)
  SELECT count(*)::integer INTO v_n FROM up;
  RETURN v_n;
END
$fn$;
COMMENT ON FUNCTION leasemgr.run_escalations(timestamptz) IS
  'The escalation job body: every approval task still pending at its park after its time (escalate_at <= as_of, as_of not in the future) goes to the region''s role, with the time it went and the role it left; the change is in the audit log and raised as an approval_escalated alert (and so an outbox event). Returns how many went up. Runs with the caller''s rights: leasemgr_admin; pg_cron runs it hourly (leasemgr.schedule_jobs).';

-- What waits for me: the pending tasks of the roles I am a member of, in the parks I see.
CREATE VIEW leasemgr.my_approvals WITH (security_invoker = true) AS
SELECT t.id, t.park_id, p.code AS park_code, t.subject_kind, t.subject_id, t.action, t.assigned_role, t.level,
       t.created_at, t.escalate_at, t.escalated_at
  FROM leasemgr.approval_task t JOIN leasemgr.park p ON p.id OPERATOR(pg_catalog.=) t.park_id
 WHERE t.state OPERATOR(pg_catalog.=) 'pending'
   -- a role dropped since the task was assigned matches nobody
   AND pg_catalog.to_regrole(pg_catalog.quote_ident(t.assigned_role)) IS NOT NULL
   AND pg_catalog.pg_has_role(pg_catalog.to_regrole(pg_catalog.quote_ident(t.assigned_role)), 'MEMBER')
 ORDER BY t.created_at;
COMMENT ON VIEW leasemgr.my_approvals IS
  'The approval tasks waiting for the reader: pending, assigned to a role the reader is a member of, in the parks the reader sees; oldest first.';
COMMENT ON COLUMN leasemgr.my_approvals.id IS 'Task identifier.';
COMMENT ON COLUMN leasemgr.my_approvals.park_id IS 'The park.';
COMMENT ON COLUMN leasemgr.my_approvals.park_code IS 'The park''s code.';
COMMENT ON COLUMN leasemgr.my_approvals.subject_kind IS 'contract, amendment or deposit_refund.';
COMMENT ON COLUMN leasemgr.my_approvals.subject_id IS 'Its id.';
COMMENT ON COLUMN leasemgr.my_approvals.action IS 'What to do, in words.';
COMMENT ON COLUMN leasemgr.my_approvals.assigned_role IS 'The role it waits for.';
COMMENT ON COLUMN leasemgr.my_approvals.level IS 'park, or region once escalated.';
COMMENT ON COLUMN leasemgr.my_approvals.created_at IS 'Waiting since.';
COMMENT ON COLUMN leasemgr.my_approvals.escalate_at IS 'When it goes to the region if still waiting.';
COMMENT ON COLUMN leasemgr.my_approvals.escalated_at IS 'When it went to the region; NULL while at the park.';

-- Tasks are written by the definer functions only, and never deleted.
CREATE FUNCTION leasemgr.approval_task_guard() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION USING ERRCODE = 'LM010',
      MESSAGE = format('approval task %s cannot be deleted', OLD.id),
      HINT = 'Tasks close when their subject is decided.';
  END IF;
  IF (NEW.id, NEW.park_id, NEW.subject_kind, NEW.subject_id, NEW.action, NEW.created_at, NEW.escalate_at)
       IS DISTINCT FROM (OLD.id, OLD.park_id, OLD.subject_kind, OLD.subject_id, OLD.action, OLD.created_at, OLD.escalate_at)
     OR OLD.state <> 'pending' OR (OLD.level = 'region' AND NEW.level <> 'region')
     OR (OLD.level = 'park' AND NEW.level = 'region'
         AND (NEW.escalated_at IS NULL OR NEW.escalated_at < OLD.escalate_at OR NEW.escalated_at > clock_timestamp()
              OR NEW.escalated_from IS DISTINCT FROM OLD.assigned_role
              OR NEW.assigned_role IS DISTINCT FROM approval_region_role(OLD.park_id, OLD.subject_kind)))
     OR (NEW.level = OLD.level AND (NEW.assigned_role, NEW.escalated_at, NEW.escalated_from)
                                   IS DISTINCT FROM (OLD.assigned_role, OLD.escalated_at, OLD.escalated_from)) THEN
    RAISE EXCEPTION USING ERRCODE = 'LM010',
      MESSAGE = format('approval task %s cannot be changed that way', OLD.id),
      DETAIL = 'A task moves from pending to done or cancelled, and from the park to the region''s role of its policy once its time has come (not later than now); what it asks never changes.',
      HINT = 'Decide its subject; escalation is leasemgr.run_escalations.';
  END IF;
  RETURN NEW;
END
$fn$;
COMMENT ON FUNCTION leasemgr.approval_task_guard() IS
  'Trigger: an approval task is never deleted; what it asks never changes; it closes once and only goes up (SQLSTATE LM010).';
CREATE TRIGGER approval_task_guard BEFORE UPDATE OR DELETE ON leasemgr.approval_task
  FOR EACH ROW EXECUTE FUNCTION leasemgr.approval_task_guard();

-- ---- security, dump ---------------------------------------------------------------------------

ALTER TABLE leasemgr.approval_task ENABLE ROW LEVEL SECURITY;
CREATE POLICY park_scope ON leasemgr.approval_task USING ((SELECT leasemgr.sees_all_parks())
  OR park_id OPERATOR(pg_catalog.=) ANY ((SELECT leasemgr.visible_parks())::bigint[]));
COMMENT ON POLICY park_scope ON leasemgr.approval_task IS
  'Rows of the parks granted to the role (leasemgr.grant_park); every park for leasemgr_admin.';
CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON leasemgr.approval_task
  FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row();
CREATE TRIGGER truncate_guard BEFORE TRUNCATE ON leasemgr.approval_task
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.truncate_guard();
CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON leasemgr.approval_policy
  FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row();
CREATE TRIGGER truncate_guard BEFORE TRUNCATE ON leasemgr.approval_policy
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.truncate_guard();

REVOKE ALL ON leasemgr.approval_task, leasemgr.approval_policy, leasemgr.my_approvals FROM PUBLIC;
GRANT SELECT ON leasemgr.approval_task, leasemgr.approval_policy, leasemgr.my_approvals TO leasemgr_reader;
GRANT INSERT, UPDATE, DELETE ON leasemgr.approval_policy TO leasemgr_admin;
REVOKE ALL ON FUNCTION leasemgr.approval_open(text, bigint), leasemgr.approval_close(text, bigint),
  leasemgr.approval_follow(), leasemgr.run_escalations(timestamptz), leasemgr.approval_task_guard(),
  leasemgr.approval_policy_check(), leasemgr.approval_region_role(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leasemgr.approval_region_role(bigint, text) TO leasemgr_reader;
-- The subjects' writers reach the two definer functions through the triggers.
GRANT EXECUTE ON FUNCTION leasemgr.approval_open(text, bigint), leasemgr.approval_close(text, bigint)
  TO leasemgr_operator, leasemgr_finance;
GRANT EXECUTE ON FUNCTION leasemgr.run_escalations(timestamptz) TO leasemgr_admin;
GRANT UPDATE (level, assigned_role, escalated_at, escalated_from) ON leasemgr.approval_task TO leasemgr_admin;

SELECT pg_catalog.pg_extension_config_dump('leasemgr.approval_task', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.approval_task_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.approval_policy', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.approval_policy_id_seq', '');
