-- Contracts, their units, the state machine that moves them and the timeline it leaves.

CREATE FUNCTION leasemgr.contract_state_is_live(state text) RETURNS boolean
  AS 'MODULE_PATHNAME', 'contract_state_is_live'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION leasemgr.contract_state_is_live(text) IS
  'True for the states in which a contract holds its units (pending_approval through moving_out). The same definition the state-machine trigger uses.';

CREATE TABLE leasemgr.contract (
  id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  park_id            bigint NOT NULL REFERENCES leasemgr.park (id),
  code               text NOT NULL CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_./-]*$' AND pg_catalog.length(code) <= 48),
  tenant_id          bigint NOT NULL,
  state              text NOT NULL DEFAULT 'draft'
                     CHECK (state IN ('draft', 'pending_approval', 'approved', 'signed', 'active', 'amending',
                                      'expired', 'terminated', 'moving_out', 'closed', 'cancelled')),
  start_date         date NOT NULL,
  end_date           date NOT NULL,
  terminated_on      date,
  lease_range        daterange NOT NULL
                     GENERATED ALWAYS AS (pg_catalog.daterange(start_date, COALESCE(terminated_on, end_date), '[]')) STORED,
  is_live            boolean NOT NULL GENERATED ALWAYS AS (leasemgr.contract_state_is_live(state)) STORED,
  document_sha256    text CHECK (pg_catalog.octet_length(document_sha256) = 64 AND document_sha256 !~ '[^0-9a-f]'),
  signed_at          timestamptz,
  renews_contract_id bigint,
  created_by         text NOT NULL,
  created_at         timestamptz NOT NULL,
  submitted_by       text,
  submitted_at       timestamptz,
  approved_by        text,
  approved_at        timestamptz,
  state_since        timestamptz NOT NULL,
  -- Added in 0.2.0 by ALTER TABLE ... ADD COLUMN, so it comes last here too.
  deposit_amount     numeric(16,2) CHECK (deposit_amount >= 0),
  CONSTRAINT contract_dates_ordered CHECK (end_date >= start_date),
  CONSTRAINT contract_terminated_within_lease CHECK (terminated_on BETWEEN start_date AND end_date),
  CONSTRAINT contract_signed_has_document CHECK (signed_at IS NULL OR document_sha256 IS NOT NULL),
  CONSTRAINT contract_renews_other CHECK (renews_contract_id <> id),
  CONSTRAINT contract_code_key UNIQUE (park_id, code),
  -- The key charges, bills and payments refer to: their park is the contract's.
  CONSTRAINT contract_park_key UNIQUE (id, park_id),
  -- The key contract_unit copies through its cascading foreign key.
  CONSTRAINT contract_lease_key UNIQUE (id, park_id, lease_range, is_live),
  CONSTRAINT contract_tenant_fk FOREIGN KEY (tenant_id, park_id) REFERENCES leasemgr.tenant (id, park_id)
  -- renews_contract_id is checked by the trigger (same park, locked FOR KEY SHARE), not by a
  -- self-referencing foreign key: pg_dump warns about circular foreign keys on every dump
  -- of an extension table that references itself.
);
CREATE INDEX contract_tenant_idx ON leasemgr.contract (tenant_id);
CREATE INDEX contract_park_state_idx ON leasemgr.contract (park_id, state);
CREATE INDEX contract_renews_idx ON leasemgr.contract (renews_contract_id) WHERE renews_contract_id IS NOT NULL;

COMMENT ON TABLE leasemgr.contract IS
  'A lease (租赁合同). Moves only through the state machine (see leasemgr.contract_state_machine()); terms are locked from submission; every change is audited and every transition is on the timeline.';
COMMENT ON COLUMN leasemgr.contract.id IS 'Contract identifier.';
COMMENT ON COLUMN leasemgr.contract.park_id IS 'The park of the contract; its tenant and units belong to the same park. Never changes.';
COMMENT ON COLUMN leasemgr.contract.code IS 'Contract number, unique within the park, e.g. HT-2026-0001.';
COMMENT ON COLUMN leasemgr.contract.tenant_id IS 'The tenant (of the same park). Locked from submission.';
COMMENT ON COLUMN leasemgr.contract.state IS
  'draft, pending_approval, approved, signed, active, amending, expired, terminated, moving_out, closed or cancelled. Changed only by valid transitions, whoever writes.';
COMMENT ON COLUMN leasemgr.contract.start_date IS 'First day of the lease, inclusive. Not the signing date, and not necessarily the first day rent is charged (free rent comes first). Locked from submission.';
COMMENT ON COLUMN leasemgr.contract.end_date IS 'Last day of the lease, inclusive: a one-year lease from 2026-01-01 ends 2026-12-31. Locked from submission.';
COMMENT ON COLUMN leasemgr.contract.terminated_on IS 'Last day of a lease ended early, inclusive; set by the terminate transition only.';
COMMENT ON COLUMN leasemgr.contract.lease_range IS 'Generated: the days the contract holds its units, start_date through terminated_on or end_date.';
COMMENT ON COLUMN leasemgr.contract.is_live IS 'Generated: true from pending_approval through moving_out, the states in which the units are held.';
COMMENT ON COLUMN leasemgr.contract.document_sha256 IS 'SHA-256 (64 lower-case hex characters) of the signed contract document; required to sign, fixed once signed.';
COMMENT ON COLUMN leasemgr.contract.signed_at IS 'When the contract was signed; recorded by the sign transition (defaults to its time).';
COMMENT ON COLUMN leasemgr.contract.renews_contract_id IS 'The contract this one renews (same park), if any. A renewed contract cannot be deleted.';
COMMENT ON COLUMN leasemgr.contract.created_by IS 'Stamped: the person who created the contract (leasemgr.actor, else the login).';
COMMENT ON COLUMN leasemgr.contract.created_at IS 'Stamped: when the contract was created.';
COMMENT ON COLUMN leasemgr.contract.submitted_by IS 'Stamped by submit: the person who submitted it for approval; cleared by reject.';
COMMENT ON COLUMN leasemgr.contract.submitted_at IS 'Stamped by submit: when.';
COMMENT ON COLUMN leasemgr.contract.approved_by IS 'Stamped by approve: the approving person, never the submitter (four-eyes).';
COMMENT ON COLUMN leasemgr.contract.approved_at IS 'Stamped by approve: when.';
COMMENT ON COLUMN leasemgr.contract.state_since IS 'Stamped by every transition: since when the contract is in its state.';
COMMENT ON COLUMN leasemgr.contract.deposit_amount IS
  'The contractual deposit (押金 / 保证金), CNY, >= 0; NULL when the contract asks for none or it is not entered. What the contract says, not what was received: the deposit ledger (received, held, refunded) comes in a later issue. A term: locked from submission.';

CREATE TABLE leasemgr.contract_unit (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  park_id          bigint NOT NULL,
  contract_id      bigint NOT NULL,
  unit_id          bigint NOT NULL,
  billable_area_m2 numeric(12,2) NOT NULL CHECK (billable_area_m2 > 0),
  lease_range      daterange NOT NULL,
  is_live          boolean NOT NULL,
  CONSTRAINT contract_unit_key UNIQUE (contract_id, unit_id, park_id),
  CONSTRAINT contract_unit_contract_fk FOREIGN KEY (contract_id, park_id, lease_range, is_live)
    REFERENCES leasemgr.contract (id, park_id, lease_range, is_live) ON UPDATE CASCADE ON DELETE CASCADE,
  CONSTRAINT contract_unit_unit_fk FOREIGN KEY (unit_id, park_id) REFERENCES leasemgr.unit (id, park_id),
  -- Added by sql/upgrade/0.1.0--0.2.0.sql, so last: the days a unit added or handed back by
  -- an amendment is held (NULL: from the start, to the end of the lease).
  held_from        date,
  held_to          date,
  held_range       daterange GENERATED ALWAYS AS
                     (lease_range OPERATOR(pg_catalog.*) pg_catalog.daterange(held_from, held_to, '[]')) STORED,
  CONSTRAINT contract_unit_held_order CHECK (held_from <= held_to),
  -- The rule "one unit is never leased twice for overlapping days", held by the index.
  CONSTRAINT contract_unit_no_double_booking
    EXCLUDE USING gist (unit_id WITH OPERATOR(pg_catalog.=), held_range WITH OPERATOR(pg_catalog.&&))
    WHERE (is_live)
);
CREATE INDEX contract_unit_unit_idx ON leasemgr.contract_unit (unit_id);
COMMENT ON TABLE leasemgr.contract_unit IS
  'The units a contract leases, with the billable area of each and the days it holds each (held_range). Editable while the contract is a draft, then only through an amendment; a unit is never in two live contracts for the same day (constraint contract_unit_no_double_booking).';
COMMENT ON COLUMN leasemgr.contract_unit.id IS 'Row identifier.';
COMMENT ON COLUMN leasemgr.contract_unit.park_id IS 'Taken from the contract; the unit must be of the same park.';
COMMENT ON COLUMN leasemgr.contract_unit.contract_id IS 'The contract.';
COMMENT ON COLUMN leasemgr.contract_unit.unit_id IS 'The unit leased.';
COMMENT ON COLUMN leasemgr.contract_unit.billable_area_m2 IS 'Area charged by area-based rents, m², > 0. Defaults to the unit''s area_m2.';
COMMENT ON COLUMN leasemgr.contract_unit.lease_range IS 'Copy of the contract''s lease_range, kept equal by the cascading foreign key. Do not set.';
COMMENT ON COLUMN leasemgr.contract_unit.is_live IS 'Copy of the contract''s is_live, kept equal by the cascading foreign key. Do not set.';
COMMENT ON COLUMN leasemgr.contract_unit.held_from IS 'First day the contract holds the unit, when an amendment added it during the lease (add_units); NULL: from the start. Written only by leasemgr.amendment_approve.';
COMMENT ON COLUMN leasemgr.contract_unit.held_to IS 'Last day the contract holds the unit, when an amendment handed it back before the end (remove_units); NULL: to the end. Written only by leasemgr.amendment_approve.';
COMMENT ON COLUMN leasemgr.contract_unit.held_range IS 'The days the contract holds the unit: the lease (lease_range) cut to held_from..held_to. Computed. What the exclusion constraint, area-based rents, metered charges and allocations read.';

CREATE TABLE leasemgr.contract_event (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  park_id        bigint NOT NULL,
  contract_id    bigint NOT NULL,
  at             timestamptz NOT NULL,
  actor          text NOT NULL,
  event          text NOT NULL,
  from_state     text,
  to_state       text NOT NULL,
  note           text,
  effective_date date
);
CREATE INDEX contract_event_contract_idx ON leasemgr.contract_event (contract_id, id);
COMMENT ON TABLE leasemgr.contract_event IS
  'Append-only timeline of every contract: its creation and every state transition, by any writer. Read it with leasemgr.contract_timeline(contract_id).';
COMMENT ON COLUMN leasemgr.contract_event.id IS 'Order of recording.';
COMMENT ON COLUMN leasemgr.contract_event.park_id IS 'The park of the contract.';
COMMENT ON COLUMN leasemgr.contract_event.contract_id IS 'The contract (kept even if a draft is later deleted).';
COMMENT ON COLUMN leasemgr.contract_event.at IS 'When it happened, to the microsecond.';
COMMENT ON COLUMN leasemgr.contract_event.actor IS 'The person (leasemgr.actor, else the login).';
COMMENT ON COLUMN leasemgr.contract_event.event IS 'create, or the state-machine event: submit, reject, approve, sign, activate, expire, terminate, start_move_out, close, cancel, amend (an amendment opened), resume (it was decided).';
COMMENT ON COLUMN leasemgr.contract_event.from_state IS 'State before; NULL for create.';
COMMENT ON COLUMN leasemgr.contract_event.to_state IS 'State after.';
COMMENT ON COLUMN leasemgr.contract_event.note IS 'The note passed to leasemgr.contract_transition, if any.';
COMMENT ON COLUMN leasemgr.contract_event.effective_date IS 'For terminate: the termination date (last day of the lease).';

-- The state machine.

CREATE FUNCTION leasemgr.contract_before_write() RETURNS trigger
  AS 'MODULE_PATHNAME', 'contract_before_write'
  LANGUAGE C;
COMMENT ON FUNCTION leasemgr.contract_before_write() IS
  'Trigger: applies the state machine, its guards, the term lock and the stamps to every INSERT, UPDATE and DELETE of a contract.';

CREATE FUNCTION leasemgr.contract_after_transition() RETURNS trigger
  AS 'MODULE_PATHNAME', 'contract_after_transition'
  LANGUAGE C;
COMMENT ON FUNCTION leasemgr.contract_after_transition() IS
  'Trigger: appends the creation or transition of a contract to leasemgr.contract_event.';

CREATE FUNCTION leasemgr.contract_unit_before_write() RETURNS trigger
  AS 'MODULE_PATHNAME', 'contract_unit_before_write'
  LANGUAGE C;
COMMENT ON FUNCTION leasemgr.contract_unit_before_write() IS
  'Trigger: fills a contract unit from its contract, keeps it in the contract''s park, locks it after submission and reports double bookings (SQLSTATE LM006).';

CREATE TRIGGER contract_before_write
  BEFORE INSERT OR UPDATE OR DELETE ON leasemgr.contract
  FOR EACH ROW EXECUTE FUNCTION leasemgr.contract_before_write();

CREATE TRIGGER contract_after_insert
  AFTER INSERT ON leasemgr.contract
  FOR EACH ROW EXECUTE FUNCTION leasemgr.contract_after_transition();

CREATE TRIGGER contract_after_transition
  AFTER UPDATE OF state ON leasemgr.contract
  FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state)
  EXECUTE FUNCTION leasemgr.contract_after_transition();

CREATE TRIGGER contract_unit_before_write
  BEFORE INSERT OR UPDATE OR DELETE ON leasemgr.contract_unit
  FOR EACH ROW EXECUTE FUNCTION leasemgr.contract_unit_before_write();

CREATE FUNCTION leasemgr.contract_transition(contract_id bigint, event text, note text DEFAULT NULL,
                                             effective_date date DEFAULT NULL)
  RETURNS text
  AS 'MODULE_PATHNAME', 'contract_transition'
  LANGUAGE C VOLATILE;
COMMENT ON FUNCTION leasemgr.contract_transition(bigint, text, text, date) IS
  'Moves a contract through one state-machine event (submit, reject, approve, sign, activate, expire, terminate, start_move_out, close, cancel) and returns the new state. note goes to the timeline; effective_date is the termination date for terminate (default today). Runs with the caller''s rights; the trigger applies the guards.';

CREATE FUNCTION leasemgr.contract_state_machine()
  RETURNS TABLE (from_state text, event text, to_state text, guard text)
  AS 'MODULE_PATHNAME', 'contract_state_machine'
  LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION leasemgr.contract_state_machine() IS
  'The transition table the contract trigger enforces: from_state, event, to_state and the guard in words.';

CREATE FUNCTION leasemgr.contract_timeline(contract_id bigint)
  RETURNS TABLE (at timestamptz, actor text, event text, from_state text, to_state text, note text,
                 effective_date date)
  LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT e.at, e.actor, e.event, e.from_state, e.to_state, e.note, e.effective_date
    FROM leasemgr.contract_event e
   WHERE e.contract_id = contract_timeline.contract_id
   ORDER BY e.id;
END;
COMMENT ON FUNCTION leasemgr.contract_timeline(bigint) IS
  'The lifecycle of one contract, oldest first: creation and every transition, with the person, the note and (for terminate) the termination date.';
