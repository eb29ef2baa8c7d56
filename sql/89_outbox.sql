-- The event outbox: what outside systems (a regulator's lease-filing platform, listing
-- channels, an SMS gateway) are told, written in the same transaction as the change it
-- reports, handed to one worker at a time and acknowledged. docs/automation.md is the design.

-- Workers of outside systems log in with a member of this role: it claims and acknowledges
-- events, and reads nothing else.
DO $roles$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'leasemgr_integration') THEN
    CREATE ROLE leasemgr_integration NOLOGIN;
  END IF;
END
$roles$;

CREATE TABLE leasemgr.event_outbox (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  park_id     bigint NOT NULL,
  topic       text NOT NULL CHECK (topic IN ('contract.state', 'unit.availability', 'bill.issued', 'alert', 'sms')),
  subject_id  bigint NOT NULL,
  payload     jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
  claimed_by  text,
  claimed_at  timestamptz,
  claim_until timestamptz,
  claims      integer NOT NULL DEFAULT 0 CHECK (claims >= 0),
  acked_at    timestamptz,
  acked_by    text,
  CONSTRAINT event_outbox_claimed CHECK ((claimed_by IS NULL) = (claimed_at IS NULL) AND (claims = 0) = (claimed_at IS NULL)
                                         AND (claimed_at IS NULL) = (claim_until IS NULL)),
  CONSTRAINT event_outbox_acked CHECK ((acked_at IS NULL) = (acked_by IS NULL))
);
-- The pending events, oldest first: what claim_events reads.
CREATE INDEX event_outbox_pending ON leasemgr.event_outbox (id) WHERE acked_at IS NULL;
CREATE INDEX event_outbox_subject ON leasemgr.event_outbox (topic, subject_id);
COMMENT ON TABLE leasemgr.event_outbox IS
  'Events for outside systems (事件发件箱), written by triggers in the same transaction as the change they report: contract state changes (also the feed to a lease-filing platform), unit availability changes (listing channels), bills issued. Claimed by workers with leasemgr.claim_events, acknowledged with leasemgr.ack_event; never deleted. NOTIFY leasemgr_events tells listeners that events are pending.';
COMMENT ON COLUMN leasemgr.event_outbox.id IS 'The event''s number, in the order events were written; consumers use it to ignore a repeat (delivery is at least once).';
COMMENT ON COLUMN leasemgr.event_outbox.park_id IS 'The park it happened in.';
COMMENT ON COLUMN leasemgr.event_outbox.topic IS 'contract.state, unit.availability, bill.issued, alert (sms is reserved for the deposit refunds to come).';
COMMENT ON COLUMN leasemgr.event_outbox.subject_id IS 'The contract (contract.state), unit (unit.availability), bill (bill.issued) or alert (alert) it is about.';
COMMENT ON COLUMN leasemgr.event_outbox.payload IS 'What a consumer needs without reading the tables: codes, states, dates, amounts.';
COMMENT ON COLUMN leasemgr.event_outbox.created_at IS 'When it was written: the time of the transaction that made the change.';
COMMENT ON COLUMN leasemgr.event_outbox.claimed_by IS 'The worker it was last handed to (claim_events'' consumer).';
COMMENT ON COLUMN leasemgr.event_outbox.claimed_at IS 'When it was last handed out.';
COMMENT ON COLUMN leasemgr.event_outbox.claim_until IS 'The end of the claim''s lease, set by the worker that claimed it: until then nobody else is handed the event; after it, unless acknowledged, it is handed out again.';
COMMENT ON COLUMN leasemgr.event_outbox.claims IS 'How many times it was handed out (more than 1: a worker died or was slow).';
COMMENT ON COLUMN leasemgr.event_outbox.acked_at IS 'When its delivery was acknowledged (ack_event); NULL: pending.';
COMMENT ON COLUMN leasemgr.event_outbox.acked_by IS 'Who acknowledged it.';

-- Events are history: what they say never changes, a claim moves forward, an acknowledgement
-- is final, nothing is deleted. For every writer, the owner included.
CREATE FUNCTION leasemgr.event_outbox_before_change() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
BEGIN
  IF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
    RAISE EXCEPTION USING ERRCODE = 'LM010',
      MESSAGE = pg_catalog.format('event %s cannot be deleted', OLD.id),
      DETAIL = 'The outbox is the record of what outside systems were told.',
      HINT = 'Acknowledge a delivered event with leasemgr.ack_event.';
  END IF;
  IF (NEW.id, NEW.park_id, NEW.topic, NEW.subject_id, NEW.payload, NEW.created_at)
       IS DISTINCT FROM (OLD.id, OLD.park_id, OLD.topic, OLD.subject_id, OLD.payload, OLD.created_at)
     OR OLD.acked_at IS NOT NULL
     OR NEW.claims OPERATOR(pg_catalog.<) OLD.claims THEN
    RAISE EXCEPTION USING ERRCODE = 'LM010',
      MESSAGE = pg_catalog.format('event %s cannot be changed that way', OLD.id),
      DETAIL = CASE WHEN OLD.acked_at IS NOT NULL THEN pg_catalog.format('It was acknowledged at %s.', OLD.acked_at)
                    ELSE 'What an event says is fixed; only its claim and its acknowledgement move.' END,
      HINT = 'Use leasemgr.claim_events and leasemgr.ack_event.';
  END IF;
  RETURN NEW;
END
$fn$;
COMMENT ON FUNCTION leasemgr.event_outbox_before_change() IS
  'Trigger: an event''s content never changes, its claim only moves forward, an acknowledged event never changes, and no event is deleted (SQLSTATE LM010).';
CREATE TRIGGER event_outbox_before_change BEFORE UPDATE OR DELETE ON leasemgr.event_outbox
  FOR EACH ROW EXECUTE FUNCTION leasemgr.event_outbox_before_change();
CREATE TRIGGER truncate_guard BEFORE TRUNCATE ON leasemgr.event_outbox
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.truncate_guard();

-- ---- the writers: triggers, in the transaction of the change ------------------------------

-- Contract transitions write their events in the contract's own trigger
-- (leasemgr.contract_after_transition, src/contract_fsm.c), beside the contract_event row.

CREATE FUNCTION leasemgr.outbox_bills() RETURNS trigger
  AS 'MODULE_PATHNAME', 'outbox_bills'
  LANGUAGE C;
COMMENT ON FUNCTION leasemgr.outbox_bills() IS
  'Trigger: writes a bill.issued event for every bill issued; one NOTIFY leasemgr_events per statement.';
CREATE TRIGGER outbox_events AFTER INSERT ON leasemgr.bill
  REFERENCING NEW TABLE AS new_bills
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.outbox_bills();

-- ---- the readers: workers claim and acknowledge ---------------------------------------------

CREATE FUNCTION leasemgr.claim_events(consumer text, max_events integer DEFAULT 100, topics text[] DEFAULT NULL,
                                      lease interval DEFAULT '5 minutes')
  RETURNS SETOF leasemgr.event_outbox
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
BEGIN
  IF consumer IS NULL OR pg_catalog.btrim(consumer) OPERATOR(pg_catalog.=) '' OR max_events IS NULL
     OR max_events OPERATOR(pg_catalog.<) 1 OR max_events OPERATOR(pg_catalog.>) 10000
     OR lease IS NULL OR lease OPERATOR(pg_catalog.<) interval '1 second' THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = 'claim_events needs a consumer, 1 to 10,000 events and a lease of a second or more',
      DETAIL = pg_catalog.format('consumer %s, max_events %s, lease %s.', COALESCE(pg_catalog.quote_literal(consumer), 'NULL'),
                                 COALESCE(max_events::text, 'NULL'), COALESCE(lease::text, 'NULL')),
      HINT = 'E.g. SELECT * FROM leasemgr.claim_events(''filing-worker-1'', 100).';
  END IF;
  -- The lease is the claimer's: until it ends nobody else is handed the event, whatever
  -- lease they ask for. Clock time, not the transaction's start.
  RETURN QUERY
    WITH pending AS (
      SELECT e.id FROM leasemgr.event_outbox e
       WHERE e.acked_at IS NULL
         AND (e.claim_until IS NULL OR e.claim_until OPERATOR(pg_catalog.<=) pg_catalog.clock_timestamp())
         AND (topics IS NULL OR e.topic OPERATOR(pg_catalog.=) ANY (topics))
       ORDER BY e.id
       LIMIT max_events
       FOR UPDATE SKIP LOCKED
    ), claimed AS (
      UPDATE leasemgr.event_outbox e
         SET claimed_by = consumer, claimed_at = pg_catalog.clock_timestamp(),
             claim_until = pg_catalog.clock_timestamp() OPERATOR(pg_catalog.+) lease,
             claims = e.claims OPERATOR(pg_catalog.+) 1
        FROM pending p
       WHERE e.id OPERATOR(pg_catalog.=) p.id
      RETURNING e.*
    )
    SELECT * FROM claimed ORDER BY claimed.id;
END
$fn$;
COMMENT ON FUNCTION leasemgr.claim_events(text, integer, text[], interval) IS
  'Hands up to max_events pending events (not acknowledged; never claimed, or their claim''s lease over) to consumer for lease (1 second or more), oldest first, optionally of some topics only. Two workers claiming at once get disjoint events (FOR UPDATE SKIP LOCKED). Unacknowledged events come back after the lease: a worker that dies loses nothing. Delivery is at least once: consumers ignore an event id they have seen.';

CREATE FUNCTION leasemgr.ack_event(event_id bigint) RETURNS boolean
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
DECLARE
  v_acked timestamptz;
BEGIN
  SELECT e.acked_at INTO v_acked FROM leasemgr.event_outbox e WHERE e.id OPERATOR(pg_catalog.=) ack_event.event_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'LM009',
      MESSAGE = pg_catalog.format('event %s does not exist', COALESCE(ack_event.event_id::text, 'NULL')),
      HINT = 'Acknowledge the id of an event handed out by leasemgr.claim_events.';
  END IF;
  IF v_acked IS NOT NULL THEN
    RETURN false;  -- delivered twice (at least once), acknowledged once
  END IF;
  UPDATE leasemgr.event_outbox e SET acked_at = pg_catalog.now(), acked_by = leasemgr.current_actor()
   WHERE e.id OPERATOR(pg_catalog.=) ack_event.event_id;
  RETURN true;
END
$fn$;
COMMENT ON FUNCTION leasemgr.ack_event(bigint) IS
  'Acknowledges the delivery of an event: it is not handed out again. True the first time, false when it was acknowledged already; LM009 for an unknown event.';

-- ---- security, dump -------------------------------------------------------------------------

ALTER TABLE leasemgr.event_outbox ENABLE ROW LEVEL SECURITY;
CREATE POLICY park_scope ON leasemgr.event_outbox USING ((SELECT leasemgr.sees_all_parks())
  OR park_id OPERATOR(pg_catalog.=) ANY ((SELECT leasemgr.visible_parks())::bigint[]));
COMMENT ON POLICY park_scope ON leasemgr.event_outbox IS
  'Rows of the parks granted to the role (leasemgr.grant_park); every park for leasemgr_admin.';
REVOKE ALL ON leasemgr.event_outbox FROM PUBLIC;
GRANT SELECT ON leasemgr.event_outbox TO leasemgr_reader;
REVOKE ALL ON FUNCTION leasemgr.event_outbox_before_change(), leasemgr.outbox_bills(),
  leasemgr.claim_events(text, integer, text[], interval), leasemgr.ack_event(bigint) FROM PUBLIC;
GRANT USAGE ON SCHEMA leasemgr TO leasemgr_integration;
GRANT EXECUTE ON FUNCTION leasemgr.claim_events(text, integer, text[], interval), leasemgr.ack_event(bigint)
  TO leasemgr_integration, leasemgr_admin;

SELECT pg_catalog.pg_extension_config_dump('leasemgr.event_outbox', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.event_outbox_id_seq', '');
