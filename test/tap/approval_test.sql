-- Approvals that escalate: a contract submitted, an amendment opened, a deposit refund
-- requested each open one task for the park's role; the decision closes it, stamped; a task
-- still pending after its time goes to the region's role, once, audited and alerted.
BEGIN;
SELECT plan(30);

SELECT th.park('AP') AS park \gset
CREATE FUNCTION pg_temp.task(p_kind text, p_subject bigint)
RETURNS TABLE (state text, assigned_role name, level text, outcome text, closed_by text) LANGUAGE sql AS $$
  SELECT state, assigned_role, level, outcome, closed_by FROM leasemgr.approval_task
   WHERE subject_kind = p_kind AND subject_id = p_subject ORDER BY id DESC LIMIT 1
$$;

-- ---- contracts ------------------------------------------------------------------------------

SELECT th.draft(:park, 'AP-1', ARRAY[th.unit(:park, 'AP-U1')], '2026-01-01', '2026-12-31') AS c \gset
SELECT th.fire(:c, 'submit', 'li.na');
SELECT results_eq(format($$SELECT * FROM pg_temp.task('contract', %s)$$, :c),
  $$VALUES ('pending', 'leasemgr_operator'::name, 'park', NULL::text, NULL::text)$$,
  'a submitted contract waits for the park''s operators');
SELECT is((SELECT escalate_at - created_at FROM leasemgr.approval_task WHERE subject_id = :c AND subject_kind = 'contract'),
  interval '24 hours', 'it escalates after 24 hours unless a policy says otherwise');
SELECT is((SELECT action FROM leasemgr.approval_task WHERE subject_id = :c AND subject_kind = 'contract'), 'approve contract AP-1',
  'the task says what to do');
SELECT is((SELECT count(*)::int FROM leasemgr.my_approvals WHERE subject_kind = 'contract' AND subject_id = :c), 1,
  'it is in the list of what waits for a member of the role');
SELECT th.fire(:c, 'approve', 'wang.wei');
SELECT results_eq(format($$SELECT * FROM pg_temp.task('contract', %s)$$, :c),
  $$VALUES ('done', 'leasemgr_operator'::name, 'park', 'approved', 'wang.wei')$$,
  'the approval closes it, stamped with the approver');
SELECT th.draft(:park, 'AP-2', ARRAY[th.unit(:park, 'AP-U2')], '2026-01-01', '2026-12-31') AS c2 \gset
SELECT th.fire(:c2, 'submit', 'li.na');
SELECT th.fire(:c2, 'reject', 'wang.wei');
SELECT is((SELECT outcome FROM pg_temp.task('contract', :c2)), 'rejected', 'a rejection closes it as rejected');
SELECT th.fire(:c2, 'submit', 'li.na');
SELECT is((SELECT count(*)::int FROM leasemgr.approval_task WHERE subject_kind = 'contract' AND subject_id = :c2), 2,
  'submitted again: a new task');
SELECT th.fire(:c2, 'cancel', 'li.na');
SELECT results_eq(format($$SELECT state, outcome FROM pg_temp.task('contract', %s)$$, :c2),
  $$VALUES ('cancelled', 'cancelled')$$, 'a cancelled contract cancels its task');

-- ---- amendments and refunds --------------------------------------------------------------------

SELECT th.contract_in(:park, 'active', 'AP-3') AS c3 \gset
UPDATE leasemgr.contract SET end_date = end_date WHERE id = :c3;
SELECT set_config('leasemgr.actor', 'li.na', true);
SELECT leasemgr.amendment_open(:c3, '{"end_date": "2099-12-31"}', 'SA-AP: extension') AS a \gset
SELECT results_eq(format($$SELECT state, assigned_role FROM pg_temp.task('amendment', %s)$$, :a),
  $$VALUES ('pending', 'leasemgr_operator'::name)$$, 'an amendment opened waits for the park''s operators');
SELECT set_config('leasemgr.actor', 'wang.wei', true);
SELECT leasemgr.amendment_withdraw(:a, 'not signed after all');
SELECT results_eq(format($$SELECT state, outcome, closed_by FROM pg_temp.task('amendment', %s)$$, :a),
  $$VALUES ('done', 'withdrawn', 'wang.wei')$$, 'a withdrawal closes it');

SELECT th.contract_in(:park, 'expired', 'AP-4') AS c4 \gset
UPDATE leasemgr.tenant SET phone = '13800000002' WHERE id = (SELECT tenant_id FROM leasemgr.contract WHERE id = :c4);
INSERT INTO leasemgr.sms_gateway_key (public_key) VALUES (th.sms_public_key());
SELECT set_config('leasemgr.actor', 'fin.a', true);
SELECT leasemgr.deposit_receive(:c4, 5000, '2024-01-01', 'B-1');
SELECT leasemgr.deposit_refund_request(:c4, 5000, 'ICBC 1') AS r \gset
SELECT results_eq(format($$SELECT state, assigned_role FROM pg_temp.task('deposit_refund', %s)$$, :r),
  $$VALUES ('pending', 'leasemgr_finance'::name)$$, 'a refund requested waits for the park''s finance');
SELECT leasemgr.deposit_refund_confirm(:r, '000000');
SELECT is((SELECT state FROM pg_temp.task('deposit_refund', :r)), 'pending', 'a code entered does not close it');
SELECT set_config('leasemgr.actor', 'fin.b', true);
SELECT leasemgr.deposit_refund_cancel(:r, 'the tenant asks for a transfer to another account');
SELECT results_eq(format($$SELECT state, outcome, closed_by FROM pg_temp.task('deposit_refund', %s)$$, :r),
  $$VALUES ('cancelled', 'cancelled', 'fin.b')$$, 'a cancelled refund cancels its task (the release closing it: deposit_refund.sh)');

-- ---- escalation ------------------------------------------------------------------------------

SELECT is(leasemgr.run_escalations(), 0, 'nothing has waited 24 hours: nothing escalates');
-- The region's policy: contracts wait a millisecond, then go to finance (a role of the test).
INSERT INTO leasemgr.approval_policy (region_id, subject_kind, park_role, region_role, escalate_after)
SELECT region_id, 'contract', 'leasemgr_operator', 'leasemgr_finance', '1 millisecond' FROM leasemgr.park WHERE id = :park;
SELECT th.draft(:park, 'AP-5', ARRAY[th.unit(:park, 'AP-U5')], '2026-01-01', '2026-12-31') AS c5 \gset
SELECT th.fire(:c5, 'submit', 'li.na');
SELECT pg_sleep(0.01);
SELECT set_config('leasemgr.actor', 'cron.job', true);
SELECT is(leasemgr.run_escalations(clock_timestamp()), 1, 'a task past its time escalates');
SELECT results_eq(format($$SELECT state, assigned_role, level FROM pg_temp.task('contract', %s)$$, :c5),
  $$VALUES ('pending', 'leasemgr_finance'::name, 'region')$$, 'to the region''s role of the policy, still pending');
SELECT is((SELECT (escalated_from, escalated_at IS NOT NULL)::text FROM leasemgr.approval_task WHERE subject_kind = 'contract' AND subject_id = :c5),
  '(leasemgr_operator,t)', 'recorded with the time and the role it left');
SELECT is((SELECT count(*)::int FROM leasemgr.audit_log l WHERE l.table_name = 'approval_task' AND l.action = 'UPDATE'
             AND l.actor = 'cron.job' AND l.row_id = (SELECT id FROM leasemgr.approval_task WHERE subject_kind = 'contract' AND subject_id = :c5)),
  1, 'the escalation is in the audit log, with who ran it');
SELECT is((SELECT count(*)::int FROM leasemgr.alert WHERE kind = 'approval_escalated' AND contract_id = :c5), 1,
  'and raised as an alert (an outbox event too)');
SELECT is(leasemgr.run_escalations(clock_timestamp()), 0, 'run again: nothing more (a task escalates once)');
SELECT th.fire(:c5, 'approve', 'zhao.min');
SELECT results_eq(format($$SELECT state, outcome, level FROM pg_temp.task('contract', %s)$$, :c5),
  $$VALUES ('done', 'approved', 'region')$$, 'the region''s decision closes it');

-- ---- no path around ----------------------------------------------------------------------------

SELECT th.draft(:park, 'AP-6', ARRAY[th.unit(:park, 'AP-U6')], '2026-01-01', '2026-12-31') AS c6 \gset
SELECT th.fire(:c6, 'submit', 'li.na');
SELECT is((th.error_of(format($$UPDATE leasemgr.approval_task SET action = 'nothing' WHERE subject_id = %s$$, :c6))).code, 'LM010',
  'what a task asks never changes');
SELECT is((th.error_of(format($$UPDATE leasemgr.approval_task SET level = 'region', escalated_at = now(), assigned_role = 'x' WHERE subject_id = %s AND subject_kind = 'contract'$$, :c6))).code,
  'LM010', 'a task is not escalated before its time');
SELECT is((th.error_of(format('DELETE FROM leasemgr.approval_task WHERE subject_id = %s', :c6))).code, 'LM010', 'tasks are never deleted');
-- A task past its time goes up, to the role its policy names, at a moment that has come.
SELECT th.draft(:park, 'AP-7', ARRAY[th.unit(:park, 'AP-U7')], '2026-01-01', '2026-12-31') AS c7 \gset
SELECT th.fire(:c7, 'submit', 'li.na');
SELECT pg_sleep(0.01);
SELECT is((th.error_of(format($$UPDATE leasemgr.approval_task SET level = 'region', escalated_at = '2999-01-01', escalated_from = assigned_role,
                                  assigned_role = 'leasemgr_finance' WHERE subject_id = %s AND subject_kind = 'contract'$$, :c7))).code,
  'LM010', 'not escalated as of a moment still to come');
SELECT is((th.error_of(format($$UPDATE leasemgr.approval_task SET level = 'region', escalated_at = clock_timestamp(), escalated_from = assigned_role,
                                  assigned_role = 'leasemgr_reader' WHERE subject_id = %s AND subject_kind = 'contract'$$, :c7))).code,
  'LM010', 'nor to a role its policy does not name');
SELECT is((th.error_of($$INSERT INTO leasemgr.approval_policy (subject_kind, park_role, region_role) VALUES ('amendment', 'leasemgr_oprator', 'leasemgr_admin')$$)).code,
  'LM011', 'a policy naming a role that does not exist is refused');
SELECT is(leasemgr.approval_open('contract', :c6), NULL, 'opening a task again for a waiting contract does nothing');
SELECT is(leasemgr.approval_open('contract', :c5), NULL, 'nor for a contract that waits for nothing');
SELECT is((th.error_of(format('SELECT leasemgr.run_escalations(%L)', now() + interval '1 day'))).code, 'LM011',
  'escalation as of the future is refused');

SELECT * FROM finish();
ROLLBACK;
