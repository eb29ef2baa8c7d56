-- The contract state machine holds for every writer: every (from, to) pair by direct
-- UPDATE and every (state, event) pair through contract_transition() is allowed exactly when
-- DESIGN.md's diagram allows it. The expected table is written out here by hand, not read
-- back from the C code, so a wrong entry in the C table fails this suite.
BEGIN;
SELECT plan(215);

CREATE TEMP TABLE expected_transition (from_state text, event text, to_state text);
INSERT INTO expected_transition VALUES
  ('draft', 'submit', 'pending_approval'),
  ('pending_approval', 'reject', 'draft'),
  ('pending_approval', 'approve', 'approved'),
  ('approved', 'sign', 'signed'),
  ('signed', 'activate', 'active'),
  ('active', 'expire', 'expired'),
  ('active', 'terminate', 'terminated'),
  ('expired', 'start_move_out', 'moving_out'),
  ('terminated', 'start_move_out', 'moving_out'),
  ('moving_out', 'close', 'closed'),
  ('draft', 'cancel', 'cancelled'),
  ('pending_approval', 'cancel', 'cancelled'),
  ('approved', 'cancel', 'cancelled'),
  ('signed', 'cancel', 'cancelled'),
  ('active', 'amend', 'amending'),
  ('amending', 'resume', 'active'),
  ('expired', 'renewed', 'closed');

SELECT th.park('SM') AS park \gset

SELECT set_eq(
  'SELECT from_state, event, to_state FROM leasemgr.contract_state_machine()',
  'SELECT from_state, event, to_state FROM expected_transition',
  'contract_state_machine() lists exactly the transitions of DESIGN.md');

-- Every pair of states by direct UPDATE (10 reachable states x 10 other states = 100).
-- A contract in approved already has its document, so only the state decides.
CREATE FUNCTION pg_temp.every_direct_update(park bigint) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  f text;
  t text;
  c bigint;
  stmt text;
BEGIN
  FOREACH f IN ARRAY '{draft,pending_approval,approved,signed,active,expired,terminated,moving_out,closed,cancelled}'::text[] LOOP
    FOREACH t IN ARRAY '{draft,pending_approval,approved,signed,active,amending,expired,terminated,moving_out,closed,cancelled}'::text[] LOOP
      CONTINUE WHEN f = t;
      c := th.contract_in(park, f);
      IF f = 'approved' THEN
        UPDATE leasemgr.contract SET document_sha256 = repeat('cd', 32) WHERE id = c;
      END IF;
      stmt := format('UPDATE leasemgr.contract SET state = %L, terminated_on = CASE WHEN %L = ''terminated'' '
                     'THEN start_date ELSE terminated_on END WHERE id = %s', t, t, c);
      IF f = 'moving_out' AND t = 'closed' THEN
        PERFORM th.settle(c);  -- the final bill, paid (move_out_test covers the rule)
      END IF;
      IF f = 'active' AND t = 'amending' THEN
        -- a transition, but its guard wants an open amendment (amendment_test covers the rest)
        RETURN NEXT throws_ok(stmt, 'LM002', NULL, 'direct UPDATE active -> amending without an open amendment is refused (LM002)');
      ELSIF f = 'expired' AND t = 'closed' THEN
        -- renewed: its guard wants an active renewal (move_out_test covers the rest)
        RETURN NEXT throws_ok(stmt, 'LM002', NULL, 'direct UPDATE expired -> closed without an active renewal is refused (LM002)');
      ELSIF EXISTS (SELECT FROM expected_transition e WHERE e.from_state = f AND e.to_state = t) THEN
        RETURN NEXT lives_ok(stmt, format('direct UPDATE %s -> %s is allowed', f, t));
      ELSIF f IN ('closed', 'cancelled') THEN
        RETURN NEXT throws_ok(stmt, 'LM005', NULL, format('direct UPDATE %s -> %s: read-only (LM005)', f, t));
      ELSE
        RETURN NEXT throws_ok(stmt, 'LM001', NULL, format('direct UPDATE %s -> %s is refused (LM001)', f, t));
      END IF;
    END LOOP;
  END LOOP;
END
$$;
SELECT * FROM pg_temp.every_direct_update(:park);

-- Every event from every reachable state through the function (10 x 10 = 100).
CREATE FUNCTION pg_temp.every_event(park bigint) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  f text;
  ev text;
  c bigint;
  want text;
  stmt text;
BEGIN
  FOREACH f IN ARRAY '{draft,pending_approval,approved,signed,active,expired,terminated,moving_out,closed,cancelled}'::text[] LOOP
    FOREACH ev IN ARRAY '{submit,reject,approve,sign,activate,expire,terminate,start_move_out,close,cancel}'::text[] LOOP
      c := th.contract_in(park, f);
      IF f = 'approved' THEN
        UPDATE leasemgr.contract SET document_sha256 = repeat('cd', 32) WHERE id = c;
      END IF;
      SELECT e.to_state INTO want FROM expected_transition e WHERE e.from_state = f AND e.event = ev;
      stmt := format('SELECT th.fire(%s, %L, %L, %s)', c, ev,
                     CASE ev WHEN 'approve' THEN 'th.approver' ELSE 'th.operator' END,
                     CASE ev WHEN 'terminate' THEN quote_literal('2024-06-30') || '::date' ELSE 'NULL' END);
      IF want IS NOT NULL THEN
        RETURN NEXT results_eq(stmt, ARRAY[want], format('%s from %s gives %s', ev, f, want));
      ELSE
        RETURN NEXT throws_ok(stmt, 'LM001', NULL, format('%s from %s is refused (LM001)', ev, f));
      END IF;
    END LOOP;
  END LOOP;
END
$$;
SELECT * FROM pg_temp.every_event(:park);

-- The refusal says where the contract is and what it could do instead.
SELECT th.contract_in(:park, 'signed', 'C-SIGNED') AS signed \gset
SELECT results_eq(
  format($$SELECT code, message, detail, hint FROM th.error_of('SELECT leasemgr.contract_transition(%s, ''close'')')$$, :signed),
  $$VALUES ('LM001', 'contract C-SIGNED cannot close',
            'Contract C-SIGNED is signed; the events allowed from signed are: activate, cancel.',
            'See SELECT * FROM leasemgr.contract_state_machine().')$$,
  'an illegal event names the current state and the allowed events');
SELECT results_eq(
  format($$SELECT code, detail FROM th.error_of('UPDATE leasemgr.contract SET state = ''closed'' WHERE id = %s')$$, :signed),
  $$VALUES ('LM001', 'Contract C-SIGNED is signed; the events allowed from signed are: activate, cancel.')$$,
  'a direct UPDATE gets the same explanation');
SELECT throws_ok(format('SELECT leasemgr.contract_transition(%s, %L)', :signed, 'Activate'), 'LM001',
  'unknown contract event "Activate"', 'unknown event names are refused');
SELECT is((th.error_of(format('SELECT leasemgr.contract_transition(%s, %L)', :signed, 'go'))).detail,
  'The events are: submit, reject, approve, sign, activate, expire, terminate, start_move_out, close, cancel, amend, resume, renewed.',
  'the unknown-event detail lists every event');
SELECT throws_ok('SELECT leasemgr.contract_transition(NULL, ''submit'')', 'LM011', NULL, 'contract_id is required');
SELECT throws_ok('SELECT leasemgr.contract_transition(1, NULL)', 'LM011', NULL, 'event is required');
SELECT throws_ok('SELECT leasemgr.contract_transition(-1, ''submit'')', 'LM009',
  'contract -1 does not exist', 'an unknown contract is LM009');

-- Inserting bypasses nothing: contracts start as drafts, stamps are the trigger's.
SELECT th.unit(:park, 'INS-1') AS u1 \gset
SELECT throws_ok(format(
  $$INSERT INTO leasemgr.contract (park_id, code, tenant_id, state, start_date, end_date)
    VALUES (%s, 'C-INS', th.tenant(%s, 9001), 'active', '2025-01-01', '2025-12-31')$$, :park, :park),
  'LM001', 'contract C-INS must be created as a draft', 'a contract cannot be inserted active');
SELECT throws_ok(format(
  $$INSERT INTO leasemgr.contract (park_id, code, tenant_id, start_date, end_date, approved_by)
    VALUES (%s, 'C-INS', th.tenant(%s, 9002), '2025-01-01', '2025-12-31', 'someone')$$, :park, :park),
  'LM004', 'column approved_by of contract C-INS is set by the state machine', 'stamps cannot be inserted');
SET LOCAL leasemgr.actor = 'zhao.lei';
SELECT th.draft(:park, 'C-STAMP', ARRAY[:u1]::bigint[], '2025-01-01', '2025-12-31') AS stamped \gset
SELECT results_eq(format('SELECT created_by, state, submitted_by IS NULL FROM leasemgr.contract WHERE id = %s', :stamped),
  $$VALUES ('zhao.lei', 'draft', true)$$, 'created_by is the acting person');
RESET leasemgr.actor;

-- The timeline of a contract walked to closed, whoever moved it and how.
SELECT th.contract_in(:park, 'closed', 'C-LIFE') AS life \gset
SELECT results_eq(format('SELECT event, from_state, to_state, actor FROM leasemgr.contract_timeline(%s)', :life),
  $$VALUES ('create', NULL, 'draft', 'postgres'),
           ('submit', 'draft', 'pending_approval', 'th.submitter'),
           ('approve', 'pending_approval', 'approved', 'th.approver'),
           ('sign', 'approved', 'signed', 'th.submitter'),
           ('activate', 'signed', 'active', 'th.submitter'),
           ('expire', 'active', 'expired', 'th.submitter'),
           ('start_move_out', 'expired', 'moving_out', 'th.submitter'),
           ('close', 'moving_out', 'closed', 'th.submitter')$$,
  'the timeline holds creation and every transition in order, with the person');

SELECT th.draft(:park, 'C-NOTE', ARRAY[th.unit(:park, 'NOTE-1')], '2025-01-01', '2025-12-31') AS note_c \gset
SELECT leasemgr.contract_transition(:note_c, 'submit', 'offer of 12 March');
UPDATE leasemgr.contract SET state = 'draft' WHERE id = :note_c;
SELECT results_eq(format('SELECT event, note FROM leasemgr.contract_timeline(%s) WHERE event <> %L', :note_c, 'create'),
  $$VALUES ('submit', 'offer of 12 March'), ('reject', NULL)$$,
  'notes of contract_transition reach the timeline; a direct UPDATE is recorded with its inferred event');
SELECT results_eq(format('SELECT submitted_by IS NULL, submitted_at IS NULL FROM leasemgr.contract WHERE id = %s', :note_c),
  $$VALUES (true, true)$$, 'reject clears the submission stamps');
SELECT ok((SELECT state_since = now() FROM leasemgr.contract WHERE id = :note_c),
  'state_since is stamped by the transition');

SELECT * FROM finish();
ROLLBACK;
