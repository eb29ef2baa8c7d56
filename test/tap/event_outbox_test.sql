-- The event outbox: events written in the transaction of the change they report (and gone
-- with it when it rolls back), for contract transitions, unit availability and bills;
-- claimed by one worker at a time, handed out again after the lease unless acknowledged;
-- written by nobody but the triggers, and never changed or deleted.
BEGIN;
SELECT plan(29);
SET LOCAL TimeZone = 'UTC';

SELECT th.park('EV') AS park \gset
SELECT th.unit(:park, 'EV-1') AS u1 \gset
SELECT th.unit(:park, 'EV-2') AS u2 \gset
SELECT coalesce(max(id), 0) AS before FROM leasemgr.event_outbox \gset

-- ---- written with the change ----------------------------------------------------------------------
SELECT th.draft(:park, 'EV-C1', ARRAY[:u1, :u2], '2026-01-01', '2026-12-31') AS c1 \gset
SELECT is((SELECT array_agg(topic || ':' || (payload->>'event') ORDER BY id) FROM leasemgr.event_outbox WHERE id > :before),
          '{contract.state:create}', 'creating a contract writes its contract.state event');
SELECT th.walk(:c1, 'active');
-- submit (draft -> pending_approval) takes the units: its contract.state event, then one
-- unit.availability per unit; approve, sign and activate keep them held: state events only.
SELECT is((SELECT array_agg(topic || ':' || coalesce(payload->>'event', subject_id::text) ORDER BY id) FROM leasemgr.event_outbox WHERE id > :before),
          ARRAY['contract.state:create', 'contract.state:submit', 'unit.availability:' || :u1, 'unit.availability:' || :u2,
                'contract.state:approve', 'contract.state:sign', 'contract.state:activate'],
          'each transition has its state event; submitting takes the units: an availability event per unit');
SELECT is((SELECT payload FROM leasemgr.event_outbox WHERE topic = 'unit.availability' AND subject_id = :u1),
          jsonb_build_object('unit_id', :u1, 'unit', 'EV-1', 'available', false, 'contract_id', :c1, 'contract', 'EV-C1',
                             'state', 'pending_approval', 'lease_start', '2026-01-01', 'lease_end', '2026-12-31'),
          'the availability payload says which unit, that it is taken, by which contract and lease');
SELECT is((SELECT payload - 'at' FROM leasemgr.event_outbox WHERE topic = 'contract.state' AND payload->>'event' = 'submit'),
          jsonb_build_object('contract_id', :c1, 'contract', 'EV-C1', 'tenant_id', (SELECT tenant_id FROM leasemgr.contract WHERE id = :c1),
                             'event', 'submit', 'from_state', 'draft', 'to_state', 'pending_approval', 'effective_date', null,
                             'actor', 'th.submitter', 'lease_start', '2026-01-01', 'lease_end', '2026-12-31'),
          'the state payload: contract, tenant, event, from and to, who, the lease');
SELECT ok((SELECT (payload->>'at')::timestamptz = (SELECT at FROM leasemgr.contract_event WHERE contract_id = :c1 AND event = 'submit')
             FROM leasemgr.event_outbox WHERE topic = 'contract.state' AND payload->>'event' = 'submit'),
          '... and when, as the contract''s timeline has it');

SAVEPOINT undo;
SELECT leasemgr.contract_transition(:c1, 'terminate', 'tenant left', '2026-06-30') IS NOT NULL;
ROLLBACK TO undo;
SELECT is((SELECT count(*)::int FROM leasemgr.event_outbox WHERE id > :before), 7,
          'a change rolled back leaves no event: the outbox is written in its transaction');
SELECT leasemgr.contract_transition(:c1, 'terminate', 'tenant left', '2026-06-30');
-- EV-2 is leased again from July by EV-C2 while EV-C1 is still moving out.
SELECT th.draft(:park, 'EV-C2', ARRAY[:u2], '2026-07-01', '2030-12-31') AS c2 \gset
SELECT th.walk(:c2, 'active');
SELECT th.settle(:c1);  -- the final bill, paid: closing needs it
SELECT max(id) AS before_end FROM leasemgr.event_outbox \gset
SELECT leasemgr.contract_transition(:c1, 'start_move_out');
SELECT leasemgr.contract_transition(:c1, 'close');
-- terminated and moving out still hold the units; closing frees EV-1, but EV-2 is EV-C2's
SELECT is((SELECT array_agg(topic || ':' || coalesce(payload->>'event', (payload->>'unit') || ' ' || (payload->>'available')) ORDER BY id)
             FROM leasemgr.event_outbox WHERE id > :before_end),
          '{contract.state:start_move_out,contract.state:close,"unit.availability:EV-1 true","unit.availability:EV-2 false"}',
          'closing frees the units no other lease holds: a unit leased again is not announced available');
SELECT is((SELECT payload->>'effective_date' FROM leasemgr.event_outbox WHERE payload->>'event' = 'terminate'), '2026-06-30',
          'the termination event carries its effective date');

-- ---- bills --------------------------------------------------------------------------------------------
SELECT coalesce(max(id), 0) AS before_bills FROM leasemgr.event_outbox \gset
SELECT coalesce(max(id), 0) AS bills_before FROM leasemgr.bill \gset
SELECT bills_created FROM leasemgr.bill_run('2026-08-01', :park);
SELECT is((SELECT count(*)::int FROM leasemgr.event_outbox WHERE topic = 'bill.issued' AND id > :before_bills),
          (SELECT count(*)::int FROM leasemgr.bill WHERE park_id = :park AND id > :bills_before), 'every bill issued has its bill.issued event');
SELECT is((SELECT payload FROM leasemgr.event_outbox e JOIN leasemgr.bill b ON b.id = e.subject_id
            WHERE e.topic = 'bill.issued' AND b.contract_id = :c2 ORDER BY b.id LIMIT 1),
          (SELECT jsonb_build_object('bill_id', b.id, 'contract_id', :c2, 'contract', 'EV-C2', 'tenant_id', c.tenant_id,
                                     'period', b.period, 'issued_on', b.issued_on, 'due_on', b.due_on, 'amount', b.amount)
             FROM leasemgr.bill b JOIN leasemgr.contract c ON c.id = b.contract_id WHERE b.contract_id = :c2 ORDER BY b.id LIMIT 1),
          'the bill payload: which bill, contract, month, due day and amount');

-- ---- claiming and acknowledging ------------------------------------------------------------------------
SELECT is((SELECT array_agg(id ORDER BY id) FROM leasemgr.claim_events('w1', 2)),
          (SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM leasemgr.event_outbox ORDER BY id LIMIT 2) x),
          'a worker is handed the oldest pending events');
SELECT is((SELECT min(id) FROM leasemgr.claim_events('w2', 1000)), (SELECT id FROM leasemgr.event_outbox ORDER BY id OFFSET 2 LIMIT 1),
          'another worker is handed the next ones, not the claimed ones');
SELECT is((SELECT count(*)::int FROM leasemgr.claim_events('w3', 1000)), 0, 'everything claimed: nothing left to hand out');
-- every claim's lease runs out (as if the workers had died an hour ago)
UPDATE leasemgr.event_outbox SET claim_until = clock_timestamp() - interval '1 second' WHERE claim_until IS NOT NULL AND acked_at IS NULL;
SELECT is((SELECT array_agg(DISTINCT topic) FROM leasemgr.claim_events('sms', 1000, '{bill.issued}')), '{bill.issued}',
          'a worker may claim some topics only; events whose lease ran out come back');
SELECT is((SELECT count(*)::int FROM leasemgr.claim_events('w5', 1000, '{bill.issued}', '1 hour')), 0,
          'a claim''s lease is the claimer''s: another worker asking a shorter one does not take the events');
SELECT ok(leasemgr.ack_event(id), 'acknowledging an event') FROM leasemgr.event_outbox ORDER BY id LIMIT 1;
SELECT ok(NOT leasemgr.ack_event(id), 'acknowledging it again is no error, and says so') FROM leasemgr.event_outbox ORDER BY id LIMIT 1;
UPDATE leasemgr.event_outbox SET claim_until = clock_timestamp() - interval '1 second' WHERE claim_until IS NOT NULL AND acked_at IS NULL;
SELECT is((SELECT count(*)::int FROM leasemgr.claim_events('w4', 1000) c
            WHERE c.id = (SELECT min(id) FROM leasemgr.event_outbox)), 0,
          'an acknowledged event is never handed out again; the others come back after their lease');
SELECT is((SELECT claims FROM leasemgr.event_outbox ORDER BY id OFFSET 1 LIMIT 1), 2, 'each hand-out is counted');
SELECT th.refuses('SELECT leasemgr.ack_event(-1)', 'LM009', 'event -1 does not exist', '',
                  'Acknowledge the id of an event handed out by leasemgr.claim_events.', 'an unknown event');
SELECT throws_ok($$SELECT * FROM leasemgr.claim_events('', 10)$$, 'LM011', NULL, 'a worker names itself');
SELECT throws_ok($$SELECT * FROM leasemgr.claim_events('w6', 10, NULL, '0 seconds')$$, 'LM011', NULL,
                 'a lease of a second or more: a lease of 0 would hand the same events to every worker');
SELECT is((SELECT array_agg(id) = array_agg(id ORDER BY id) FROM leasemgr.claim_events('w7', 1000)), NULL::boolean,
          'nothing left: everything is claimed or acknowledged');
UPDATE leasemgr.event_outbox SET claim_until = clock_timestamp() - interval '1 second' WHERE claim_until IS NOT NULL AND acked_at IS NULL;
SELECT ok((SELECT array_agg(id) = array_agg(id ORDER BY id) FROM leasemgr.claim_events('w8', 1000)), 'events come oldest first');

-- ---- a worker logs in as an integration role ------------------------------------------------------------
CREATE ROLE lm_t_worker LOGIN IN ROLE leasemgr_integration;
UPDATE leasemgr.event_outbox SET claim_until = clock_timestamp() - interval '1 second' WHERE claim_until IS NOT NULL AND acked_at IS NULL;
SET LOCAL ROLE lm_t_worker;
SELECT ok((SELECT count(*) > 0 FROM leasemgr.claim_events('filing-1', 5)), 'a member of leasemgr_integration claims events');
SELECT throws_ok($$SELECT count(*) FROM leasemgr.event_outbox$$, '42501', NULL, '... and reads nothing else');
RESET ROLE;

-- ---- nobody else writes the outbox ---------------------------------------------------------------------
CREATE ROLE lm_t_ev_admin LOGIN IN ROLE leasemgr_admin;
SET LOCAL ROLE lm_t_ev_admin;
SELECT throws_ok(format($$INSERT INTO leasemgr.event_outbox (park_id, topic, subject_id, payload) VALUES (%s, 'bill.issued', 1, '{}')$$, :park),
                 '42501', NULL, 'not even an admin inserts an event: an outside system could be told a lie');
RESET ROLE;
SELECT throws_ok($$UPDATE leasemgr.event_outbox SET payload = '{}' WHERE id = (SELECT min(id) FROM leasemgr.event_outbox)$$,
                 'LM010', NULL, 'what an event says never changes, whoever asks');
SELECT throws_ok($$DELETE FROM leasemgr.event_outbox$$, 'LM010', NULL, 'events are never deleted');

SELECT * FROM finish();
ROLLBACK;
