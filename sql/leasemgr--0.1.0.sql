-- leasemgr install script, assembled by the Makefile from sql/NN_*.sql in numeric order.
-- Everything is schema-qualified: the script runs with the installer's search_path.
\echo Use "CREATE EXTENSION leasemgr CASCADE" to load this file. \quit

COMMENT ON SCHEMA leasemgr IS
  'leasemgr: the lease lifecycle of a rental-asset operator (parks, buildings, units, tenants, contracts). Tables are readable for BI under row-level security; functions that move state are the API; triggers apply the same rules to every writer.';
-- What every domain uses: the acting person and the business day.

CREATE FUNCTION leasemgr.current_actor() RETURNS text
  AS 'MODULE_PATHNAME', 'current_actor'
  LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION leasemgr.current_actor() IS
  'The person acting: the leasemgr.actor setting when set, else the session user. What the audit trail and the four-eyes rule record.';

CREATE FUNCTION leasemgr.business_date() RETURNS date
  AS 'MODULE_PATHNAME', 'business_date'
  LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION leasemgr.business_date() IS
  'Today in the operator''s time zone (the leasemgr.timezone setting, default Asia/Shanghai), at the start of the transaction. The date the guards use (activation, expiry), whatever the session''s TimeZone.';
-- Roles. Created when missing (roles are cluster-wide: a second database reuses them, and
-- DROP EXTENSION leaves them for the DBA). Privileges are granted in 60_security.sql.
DO $roles$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['leasemgr_reader', 'leasemgr_operator', 'leasemgr_finance', 'leasemgr_admin']
  LOOP
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) r) THEN
      EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
    END IF;
  END LOOP;
END
$roles$;

-- Operators and finance read what readers read; admins do what operators and finance do.
DO $members$
BEGIN
  IF NOT pg_catalog.pg_has_role('leasemgr_operator', 'leasemgr_reader', 'MEMBER') THEN
    GRANT leasemgr_reader TO leasemgr_operator;
  END IF;
  IF NOT pg_catalog.pg_has_role('leasemgr_finance', 'leasemgr_reader', 'MEMBER') THEN
    GRANT leasemgr_reader TO leasemgr_finance;
  END IF;
  IF NOT pg_catalog.pg_has_role('leasemgr_admin', 'leasemgr_operator', 'MEMBER') THEN
    GRANT leasemgr_operator TO leasemgr_admin;
  END IF;
  IF NOT pg_catalog.pg_has_role('leasemgr_admin', 'leasemgr_finance', 'MEMBER') THEN
    GRANT leasemgr_finance TO leasemgr_admin;
  END IF;
END
$members$;
-- Places: regions, parks, buildings and the units they rent out.
-- Codes are checked as a character class plus a length: PostgreSQL's regex engine is many
-- times slower on bounded repetitions such as {0,31}, and every UPDATE re-checks.

CREATE TABLE leasemgr.region (
  id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  code text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]*$' AND pg_catalog.length(code) <= 32),
  name text NOT NULL CHECK (pg_catalog.btrim(name) <> '')
);
COMMENT ON TABLE leasemgr.region IS
  'A group of parks run by one regional office (e.g. East China). Approvals escalate to the region.';
COMMENT ON COLUMN leasemgr.region.id IS 'Region identifier.';
COMMENT ON COLUMN leasemgr.region.code IS 'Short unique code, e.g. EAST: letters, digits, dot, dash, underscore.';
COMMENT ON COLUMN leasemgr.region.name IS 'Display name, e.g. 华东区 East China.';

CREATE TABLE leasemgr.park (
  id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  region_id bigint NOT NULL REFERENCES leasemgr.region (id),
  code      text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]*$' AND pg_catalog.length(code) <= 32),
  name      text NOT NULL CHECK (pg_catalog.btrim(name) <> ''),
  location  geometry(Point, 4326)
);
CREATE INDEX park_region_idx ON leasemgr.park (region_id);
CREATE INDEX park_location_gist ON leasemgr.park USING gist (location);
COMMENT ON TABLE leasemgr.park IS
  'A managed site (园区 / 项目): industrial park, logistics park, office tower, apartment complex. The row-level-security scope: a role sees the parks granted to it.';
COMMENT ON COLUMN leasemgr.park.id IS 'Park identifier; other tables refer to it as park_id.';
COMMENT ON COLUMN leasemgr.park.region_id IS 'The region the park belongs to.';
COMMENT ON COLUMN leasemgr.park.code IS 'Short unique code, e.g. SZ-ZH.';
COMMENT ON COLUMN leasemgr.park.name IS 'Display name, e.g. 苏州智汇园 Suzhou Zhihui Park.';
COMMENT ON COLUMN leasemgr.park.location IS 'Where the park is: a WGS 84 point (longitude, latitude), for maps. Optional.';

CREATE TABLE leasemgr.building (
  id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  park_id   bigint NOT NULL REFERENCES leasemgr.park (id),
  code      text NOT NULL CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]*$' AND pg_catalog.length(code) <= 32),
  name      text NOT NULL CHECK (pg_catalog.btrim(name) <> ''),
  footprint geometry(Polygon, 4326) CHECK (footprint IS NULL OR ST_IsValid(footprint)),
  UNIQUE (park_id, code),
  UNIQUE (id, park_id)
);
CREATE INDEX building_footprint_gist ON leasemgr.building USING gist (footprint);
COMMENT ON TABLE leasemgr.building IS 'A building of a park (写字楼, 厂房, 仓库, 公寓楼).';
COMMENT ON COLUMN leasemgr.building.id IS 'Building identifier.';
COMMENT ON COLUMN leasemgr.building.park_id IS 'The park the building stands in.';
COMMENT ON COLUMN leasemgr.building.code IS 'Code unique within the park, e.g. A.';
COMMENT ON COLUMN leasemgr.building.name IS 'Display name, e.g. A栋 Building A.';
COMMENT ON COLUMN leasemgr.building.footprint IS 'Outline of the building on the map: a valid WGS 84 polygon. Optional.';

CREATE TABLE leasemgr.unit (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  park_id       bigint NOT NULL,
  building_id   bigint NOT NULL,
  floor         integer NOT NULL CHECK (floor BETWEEN -20 AND 300),
  code          text NOT NULL CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]*$' AND pg_catalog.length(code) <= 32),
  kind          text NOT NULL CHECK (kind IN ('office', 'apartment', 'shop', 'warehouse', 'workshop',
                                              'parking', 'ad_space', 'workstation')),
  area_m2       numeric(12,2) NOT NULL CHECK (area_m2 > 0),
  registry_code text CHECK (registry_code ~ '^[0-9]{12}[A-Z]{2}[0-9]{5}[A-Z][0-9]{8}$'),
  footprint     geometry(Polygon, 0) CHECK (footprint IS NULL OR ST_IsValid(footprint)),
  list_rent     numeric(12,4) CHECK (list_rent >= 0),
  UNIQUE (park_id, building_id, code),
  UNIQUE (park_id, registry_code),
  UNIQUE (id, park_id),
  FOREIGN KEY (building_id, park_id) REFERENCES leasemgr.building (id, park_id)
);
CREATE INDEX unit_building_floor_idx ON leasemgr.unit (building_id, floor);
CREATE INDEX unit_footprint_gist ON leasemgr.unit USING gist (footprint);
COMMENT ON TABLE leasemgr.unit IS
  'Anything rentable (房源 / 单元): a room, floor, warehouse, workshop, workstation, parking space or advertising space.';
COMMENT ON COLUMN leasemgr.unit.id IS 'Unit identifier.';
COMMENT ON COLUMN leasemgr.unit.park_id IS 'The park of the unit; always the park of its building.';
COMMENT ON COLUMN leasemgr.unit.building_id IS 'The building the unit is in.';
COMMENT ON COLUMN leasemgr.unit.floor IS 'Floor number; negative for basements (B1 = -1).';
COMMENT ON COLUMN leasemgr.unit.code IS 'Code unique within the building, e.g. A-0301.';
COMMENT ON COLUMN leasemgr.unit.kind IS 'office, apartment, shop, warehouse, workshop, parking, ad_space or workstation.';
COMMENT ON COLUMN leasemgr.unit.area_m2 IS 'Gross floor area (建筑面积) in square metres, > 0; the default billable area of a lease.';
COMMENT ON COLUMN leasemgr.unit.registry_code IS
  'Real-estate registry unit code (不动产单元号): 28 characters, 12 digits, 2 letters, 5 digits, 1 letter, 8 digits (GB/T 37346-2019). Optional; unique within the park.';
COMMENT ON COLUMN leasemgr.unit.footprint IS
  'The unit on its floor plan, in metres (SRID 0: the building''s own floor-plan frame). A valid polygon. Optional.';
COMMENT ON COLUMN leasemgr.unit.list_rent IS 'Asking rent in CNY per m² per month, 4 decimals. Optional.';
-- Tenants and the national identity checks that guard their entry.

CREATE FUNCTION leasemgr.valid_uscc(text) RETURNS boolean
  AS 'MODULE_PATHNAME', 'valid_uscc'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION leasemgr.valid_uscc(text) IS
  'True when the text is a unified social credit code (统一社会信用代码) with a correct GB 32100-2015 check character. Case-insensitive; false, never an error, for anything else.';

CREATE FUNCTION leasemgr.valid_cn_id(text) RETURNS boolean
  AS 'MODULE_PATHNAME', 'valid_cn_id'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION leasemgr.valid_cn_id(text) IS
  'True when the text is an 18-character resident identity number (公民身份号码) with a real birth date (1900 on) and a correct GB 11643-1999 (ISO 7064 MOD 11-2) check character. The final X is case-insensitive.';

CREATE TABLE leasemgr.tenant (
  id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  park_id   bigint NOT NULL REFERENCES leasemgr.park (id),
  kind      text NOT NULL CHECK (kind IN ('company', 'person')),
  name      text NOT NULL CHECK (pg_catalog.btrim(name) <> ''),
  id_type   text NOT NULL CHECK (id_type IN ('uscc', 'cn_id', 'passport', 'hk_macau_permit',
                                             'taiwan_permit', 'foreign_permanent_residence', 'other')),
  id_number text NOT NULL CHECK (pg_catalog.btrim(id_number) <> ''),
  phone     text CHECK (phone ~ '^\+?[0-9][0-9 ()-]{4,24}$'),
  CONSTRAINT tenant_company_uses_uscc CHECK ((kind = 'company') = (id_type = 'uscc')),
  CONSTRAINT tenant_uscc_valid CHECK (id_type <> 'uscc' OR leasemgr.valid_uscc(id_number)),
  CONSTRAINT tenant_cn_id_valid CHECK (id_type <> 'cn_id' OR leasemgr.valid_cn_id(id_number)),
  UNIQUE (park_id, id_type, id_number),
  UNIQUE (id, park_id)
);
COMMENT ON TABLE leasemgr.tenant IS
  'A company or person renting units in one park. Identity numbers are checked at entry (USCC for companies, resident identity number for Chinese citizens).';
COMMENT ON COLUMN leasemgr.tenant.id IS 'Tenant identifier.';
COMMENT ON COLUMN leasemgr.tenant.park_id IS 'The park whose tenant this is; a tenant of several parks has one record in each.';
COMMENT ON COLUMN leasemgr.tenant.kind IS 'company or person.';
COMMENT ON COLUMN leasemgr.tenant.name IS 'Registered company name or the person''s name as on the identity document.';
COMMENT ON COLUMN leasemgr.tenant.id_type IS
  'Identity document: uscc (companies, required), or for persons cn_id, passport, hk_macau_permit, taiwan_permit, foreign_permanent_residence, other.';
COMMENT ON COLUMN leasemgr.tenant.id_number IS
  'The document number. uscc and cn_id are validated (check character, birth date) and stored upper-case without spaces; other types are stored as given. Unique per park and type.';
COMMENT ON COLUMN leasemgr.tenant.phone IS 'Contact phone: digits, optionally a leading +, spaces, dashes, parentheses.';

CREATE FUNCTION leasemgr.tenant_before_write() RETURNS trigger
  AS 'MODULE_PATHNAME', 'tenant_before_write'
  LANGUAGE C;
COMMENT ON FUNCTION leasemgr.tenant_before_write() IS
  'Trigger: normalises and validates tenant identity numbers with a precise error (SQLSTATE LM008); keeps tenants in their park.';

CREATE TRIGGER tenant_before_write
  BEFORE INSERT OR UPDATE ON leasemgr.tenant
  FOR EACH ROW EXECUTE FUNCTION leasemgr.tenant_before_write();
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
  CONSTRAINT contract_dates_ordered CHECK (end_date >= start_date),
  CONSTRAINT contract_terminated_within_lease CHECK (terminated_on BETWEEN start_date AND end_date),
  CONSTRAINT contract_signed_has_document CHECK (signed_at IS NULL OR document_sha256 IS NOT NULL),
  CONSTRAINT contract_renews_other CHECK (renews_contract_id <> id),
  CONSTRAINT contract_code_key UNIQUE (park_id, code),
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
  -- The rule "one unit is never leased twice for overlapping dates", held by the index.
  CONSTRAINT contract_unit_no_double_booking
    EXCLUDE USING gist (unit_id WITH OPERATOR(pg_catalog.=), lease_range WITH OPERATOR(pg_catalog.&&))
    WHERE (is_live)
);
CREATE INDEX contract_unit_unit_idx ON leasemgr.contract_unit (unit_id);
COMMENT ON TABLE leasemgr.contract_unit IS
  'The units a contract leases, with the billable area of each. Editable while the contract is a draft; a unit is never in two live contracts with overlapping dates (constraint contract_unit_no_double_booking).';
COMMENT ON COLUMN leasemgr.contract_unit.id IS 'Row identifier.';
COMMENT ON COLUMN leasemgr.contract_unit.park_id IS 'Taken from the contract; the unit must be of the same park.';
COMMENT ON COLUMN leasemgr.contract_unit.contract_id IS 'The contract.';
COMMENT ON COLUMN leasemgr.contract_unit.unit_id IS 'The unit leased.';
COMMENT ON COLUMN leasemgr.contract_unit.billable_area_m2 IS 'Area charged by area-based rents, m², > 0. Defaults to the unit''s area_m2.';
COMMENT ON COLUMN leasemgr.contract_unit.lease_range IS 'Copy of the contract''s lease_range, kept equal by the cascading foreign key. Do not set.';
COMMENT ON COLUMN leasemgr.contract_unit.is_live IS 'Copy of the contract''s is_live, kept equal by the cascading foreign key. Do not set.';

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
COMMENT ON COLUMN leasemgr.contract_event.event IS 'create, or the state-machine event: submit, reject, approve, sign, activate, expire, terminate, start_move_out, close, cancel.';
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
-- The audit trail: every row change of every business table, append-only.

CREATE TABLE leasemgr.audit_log (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at               timestamptz NOT NULL,
  xact_id          bigint NOT NULL,
  park_id          bigint,
  table_name       text NOT NULL,
  row_id           bigint,
  action           text NOT NULL CHECK (action IN ('INSERT', 'UPDATE', 'DELETE')),
  old_values       jsonb,
  new_values       jsonb,
  actor            text NOT NULL,
  db_user          text NOT NULL,
  db_role          text NOT NULL,
  client_addr      inet,
  application_name text
);
-- Row history (WHERE table_name = ... AND row_id = ...): the integer first, cheaper to insert.
CREATE INDEX audit_log_row_idx ON leasemgr.audit_log (row_id, table_name);
CREATE INDEX audit_log_at_brin ON leasemgr.audit_log USING brin (at);
COMMENT ON TABLE leasemgr.audit_log IS
  'Every INSERT, UPDATE and DELETE of a business table: who (person, login, role), when, from where, and the changed columns. Append-only for every role, the owner included; written only by the audit trigger.';
COMMENT ON COLUMN leasemgr.audit_log.id IS 'Order of writing.';
COMMENT ON COLUMN leasemgr.audit_log.at IS 'Clock time of the change, to the microsecond.';
COMMENT ON COLUMN leasemgr.audit_log.xact_id IS 'Top-level transaction id: rows with the same value were changed together.';
COMMENT ON COLUMN leasemgr.audit_log.park_id IS 'Park of the changed row; NULL for regions.';
COMMENT ON COLUMN leasemgr.audit_log.table_name IS 'Table of the changed row, in schema leasemgr.';
COMMENT ON COLUMN leasemgr.audit_log.row_id IS 'id of the changed row.';
COMMENT ON COLUMN leasemgr.audit_log.action IS 'INSERT, UPDATE or DELETE.';
COMMENT ON COLUMN leasemgr.audit_log.old_values IS 'Values before: the changed columns for UPDATE, every column for DELETE, NULL for INSERT.';
COMMENT ON COLUMN leasemgr.audit_log.new_values IS 'Values after: the changed columns for UPDATE, every column for INSERT, NULL for DELETE.';
COMMENT ON COLUMN leasemgr.audit_log.actor IS 'The person: leasemgr.actor as set by the application, else the login.';
COMMENT ON COLUMN leasemgr.audit_log.db_user IS 'The database login (session_user).';
COMMENT ON COLUMN leasemgr.audit_log.db_role IS 'The role in effect (current_user), which differs from the login after SET ROLE.';
COMMENT ON COLUMN leasemgr.audit_log.client_addr IS 'Client IP address; NULL for local unix-socket connections.';
COMMENT ON COLUMN leasemgr.audit_log.application_name IS 'application_name of the session: the device or program.';

CREATE FUNCTION leasemgr.audit_row() RETURNS trigger
  AS 'MODULE_PATHNAME', 'audit_row'
  LANGUAGE C;
COMMENT ON FUNCTION leasemgr.audit_row() IS
  'Trigger: appends the row change to leasemgr.audit_log. Argument: the column holding the park (default park_id).';

CREATE FUNCTION leasemgr.append_only_guard() RETURNS trigger
  AS 'MODULE_PATHNAME', 'append_only_guard'
  LANGUAGE C;
COMMENT ON FUNCTION leasemgr.append_only_guard() IS
  'Trigger: refuses INSERT (other than pg_restore''s COPY by the owner), UPDATE, DELETE and TRUNCATE of a log table (SQLSTATE LM010), whoever asks.';

CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON leasemgr.region
  FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row('-');
CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON leasemgr.park
  FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row('id');
CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON leasemgr.building
  FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row();
CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON leasemgr.unit
  FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row();
CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON leasemgr.tenant
  FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row();
CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON leasemgr.contract
  FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row();
CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON leasemgr.contract_unit
  FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row();

CREATE FUNCTION leasemgr.truncate_guard() RETURNS trigger
  AS 'MODULE_PATHNAME', 'truncate_guard'
  LANGUAGE C;
COMMENT ON FUNCTION leasemgr.truncate_guard() IS
  'Trigger: refuses TRUNCATE of an audited table (SQLSTATE LM010), which would remove rows without the rules or the audit trail seeing them.';

DO $guards$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['region', 'park', 'building', 'unit', 'tenant', 'contract', 'contract_unit']
  LOOP
    EXECUTE pg_catalog.format('CREATE TRIGGER truncate_guard BEFORE TRUNCATE ON leasemgr.%I '
                              'FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.truncate_guard()', t);
  END LOOP;
END
$guards$;

CREATE TRIGGER append_only BEFORE INSERT OR UPDATE OR DELETE ON leasemgr.audit_log
  FOR EACH ROW EXECUTE FUNCTION leasemgr.append_only_guard();
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON leasemgr.audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.append_only_guard();
CREATE TRIGGER append_only BEFORE INSERT OR UPDATE OR DELETE ON leasemgr.contract_event
  FOR EACH ROW EXECUTE FUNCTION leasemgr.append_only_guard();
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON leasemgr.contract_event
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.append_only_guard();
-- Park scope: which role sees which park, row-level security on every park-scoped table,
-- and the privileges of the four leasemgr roles.

CREATE TABLE leasemgr.park_grant (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  role       name NOT NULL,
  role_oid   oid,
  park_id    bigint NOT NULL REFERENCES leasemgr.park (id) ON DELETE CASCADE,
  granted_by text NOT NULL,
  granted_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
  CONSTRAINT park_grant_key UNIQUE (role, park_id)
);
COMMENT ON TABLE leasemgr.park_grant IS
  'Which role may see which park. Members of the role (with inheritance) see and change that park''s rows only. Written through leasemgr.grant_park / revoke_park.';
COMMENT ON COLUMN leasemgr.park_grant.id IS 'Grant identifier.';
COMMENT ON COLUMN leasemgr.park_grant.role IS
  'Name of the role (a login or a group role) granted the park. Dumps and restores carry the name.';
COMMENT ON COLUMN leasemgr.park_grant.role_oid IS
  'The role the name meant when the grant was written (or restored). The grant counts only while this role exists under this name: a dropped role''s grant does not pass to a new role of the same name, and a renamed role''s grant goes idle. Set by a trigger.';
COMMENT ON COLUMN leasemgr.park_grant.park_id IS 'The park.';
COMMENT ON COLUMN leasemgr.park_grant.granted_by IS 'The person who granted it.';
COMMENT ON COLUMN leasemgr.park_grant.granted_at IS 'When.';

-- The role behind the name, resolved whenever a grant is written, pg_restore included (the
-- source cluster's OIDs mean nothing in the target cluster).
CREATE FUNCTION leasemgr.park_grant_resolve_role() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
BEGIN
  NEW.role_oid := (SELECT a.oid FROM pg_catalog.pg_roles a WHERE a.rolname OPERATOR(pg_catalog.=) NEW.role);
  RETURN NEW;
END
$fn$;
COMMENT ON FUNCTION leasemgr.park_grant_resolve_role() IS
  'Trigger: records which role a park grant''s role name means, when the grant is written or restored.';
CREATE TRIGGER park_grant_resolve_role BEFORE INSERT OR UPDATE ON leasemgr.park_grant
  FOR EACH ROW EXECUTE FUNCTION leasemgr.park_grant_resolve_role();

CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON leasemgr.park_grant
  FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row();
CREATE TRIGGER truncate_guard BEFORE TRUNCATE ON leasemgr.park_grant
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.truncate_guard();

CREATE FUNCTION leasemgr.visible_parks() RETURNS bigint[]
  AS 'MODULE_PATHNAME', 'visible_parks'
  LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION leasemgr.visible_parks() IS
  'The parks granted to the current role or to any role whose privileges it has, sorted. Row-level security uses it.';

CREATE FUNCTION leasemgr.sees_all_parks() RETURNS boolean
  AS 'MODULE_PATHNAME', 'sees_all_parks'
  LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION leasemgr.sees_all_parks() IS
  'True for members of leasemgr_admin and superusers, who see every park.';

CREATE FUNCTION leasemgr.grant_park(role_name name, park_id bigint) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
DECLARE
  r regrole := pg_catalog.to_regrole(pg_catalog.quote_ident(role_name));
BEGIN
  IF r IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LM009',
      MESSAGE = pg_catalog.format('role %s does not exist', role_name),
      HINT = 'Create the role first, e.g. CREATE ROLE bi_park LOGIN IN ROLE leasemgr_reader.';
  END IF;
  IF NOT EXISTS (SELECT FROM leasemgr.park p WHERE p.id OPERATOR(pg_catalog.=) grant_park.park_id) THEN
    RAISE EXCEPTION USING ERRCODE = 'LM009',
      MESSAGE = pg_catalog.format('park %s does not exist', grant_park.park_id),
      HINT = 'Look the park up in leasemgr.park.';
  END IF;
  INSERT INTO leasemgr.park_grant (role, park_id, granted_by)
  SELECT a.rolname, grant_park.park_id, leasemgr.current_actor()
    FROM pg_catalog.pg_roles a WHERE a.oid OPERATOR(pg_catalog.=) r
  ON CONFLICT ON CONSTRAINT park_grant_key DO NOTHING;
END
$fn$;
COMMENT ON FUNCTION leasemgr.grant_park(name, bigint) IS
  'Lets the role (and its members) see and change the rows of one park. Idempotent; audited. For leasemgr_admin.';

CREATE FUNCTION leasemgr.revoke_park(role_name name, park_id bigint) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
BEGIN
  -- By name, so the grants of a role that no longer exists can be cleaned up too.
  DELETE FROM leasemgr.park_grant g
   WHERE g.role OPERATOR(pg_catalog.=) revoke_park.role_name
     AND g.park_id OPERATOR(pg_catalog.=) revoke_park.park_id;
  IF NOT FOUND AND pg_catalog.to_regrole(pg_catalog.quote_ident(role_name)) IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LM009',
      MESSAGE = pg_catalog.format('role %s does not exist', role_name),
      HINT = 'List the grants with SELECT role, park_id FROM leasemgr.park_grant.';
  END IF;
END
$fn$;
COMMENT ON FUNCTION leasemgr.revoke_park(name, bigint) IS
  'Takes a park away from a role. Idempotent; audited. For leasemgr_admin.';

-- Row-level security. The two functions run once per query (initplans), not per row.
ALTER TABLE leasemgr.park ENABLE ROW LEVEL SECURITY;
CREATE POLICY park_scope ON leasemgr.park
  USING ((SELECT leasemgr.sees_all_parks())
         OR id OPERATOR(pg_catalog.=) ANY ((SELECT leasemgr.visible_parks())::bigint[]));

DO $rls$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['building', 'unit', 'tenant', 'contract', 'contract_unit', 'contract_event', 'audit_log']
  LOOP
    EXECUTE pg_catalog.format('ALTER TABLE leasemgr.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE pg_catalog.format(
      'CREATE POLICY park_scope ON leasemgr.%I USING ((SELECT leasemgr.sees_all_parks()) '
      'OR park_id OPERATOR(pg_catalog.=) ANY ((SELECT leasemgr.visible_parks())::bigint[]))', t);
    EXECUTE pg_catalog.format('COMMENT ON POLICY park_scope ON leasemgr.%I IS %L', t,
      'Rows of the parks granted to the role (leasemgr.grant_park); every park for leasemgr_admin.');
  END LOOP;
END
$rls$;
COMMENT ON POLICY park_scope ON leasemgr.park IS
  'Parks granted to the role (leasemgr.grant_park); every park for leasemgr_admin.';

-- Privileges. Nothing for PUBLIC; readers read; operators run the lease lifecycle; admins
-- also manage regions, parks and park grants. The logs are written only by triggers.
REVOKE ALL ON ALL TABLES IN SCHEMA leasemgr FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA leasemgr FROM PUBLIC;
GRANT USAGE ON SCHEMA leasemgr TO leasemgr_reader;

GRANT SELECT ON leasemgr.region, leasemgr.park, leasemgr.building, leasemgr.unit, leasemgr.tenant,
  leasemgr.contract, leasemgr.contract_unit, leasemgr.contract_event TO leasemgr_reader;
GRANT SELECT ON leasemgr.audit_log TO leasemgr_finance;
GRANT SELECT ON leasemgr.park_grant TO leasemgr_admin;

GRANT INSERT, UPDATE, DELETE ON leasemgr.building, leasemgr.unit, leasemgr.tenant,
  leasemgr.contract, leasemgr.contract_unit TO leasemgr_operator;
GRANT INSERT, UPDATE, DELETE ON leasemgr.region, leasemgr.park TO leasemgr_admin;

GRANT EXECUTE ON FUNCTION leasemgr.valid_uscc(text), leasemgr.valid_cn_id(text),
  leasemgr.contract_state_is_live(text), leasemgr.contract_state_machine(),
  leasemgr.contract_timeline(bigint), leasemgr.visible_parks(), leasemgr.sees_all_parks(),
  leasemgr.current_actor(), leasemgr.business_date() TO leasemgr_reader;
GRANT EXECUTE ON FUNCTION leasemgr.contract_transition(bigint, text, text, date) TO leasemgr_operator;
GRANT EXECUTE ON FUNCTION leasemgr.grant_park(name, bigint), leasemgr.revoke_park(name, bigint)
  TO leasemgr_admin;
-- Views for BI. security_invoker: they show what row-level security lets the reader see.

CREATE VIEW leasemgr.contract_overview WITH (security_invoker = true) AS
SELECT c.id            AS contract_id,
       c.park_id,
       p.code          AS park_code,
       c.code          AS contract_code,
       c.tenant_id,
       t.name          AS tenant_name,
       c.state,
       c.state_since,
       c.start_date,
       c.end_date,
       c.terminated_on,
       u.unit_count,
       u.billable_area_m2,
       u.unit_codes
  FROM leasemgr.contract c
  JOIN leasemgr.park p ON p.id = c.park_id
  JOIN leasemgr.tenant t ON t.id = c.tenant_id
  LEFT JOIN LATERAL (
    SELECT pg_catalog.count(*)::integer AS unit_count,
           pg_catalog.sum(cu.billable_area_m2) AS billable_area_m2,
           pg_catalog.string_agg(un.code, ', ' ORDER BY un.code) AS unit_codes
      FROM leasemgr.contract_unit cu
      JOIN leasemgr.unit un ON un.id = cu.unit_id
     WHERE cu.contract_id = c.id
  ) u ON true;
COMMENT ON VIEW leasemgr.contract_overview IS
  'One row per contract: park, tenant, state and since when, lease dates, units and billable area. Shows only the parks the reader is granted.';
COMMENT ON COLUMN leasemgr.contract_overview.contract_id IS 'Contract identifier.';
COMMENT ON COLUMN leasemgr.contract_overview.park_id IS 'Park identifier.';
COMMENT ON COLUMN leasemgr.contract_overview.park_code IS 'Park code.';
COMMENT ON COLUMN leasemgr.contract_overview.contract_code IS 'Contract number.';
COMMENT ON COLUMN leasemgr.contract_overview.tenant_id IS 'Tenant identifier.';
COMMENT ON COLUMN leasemgr.contract_overview.tenant_name IS 'Tenant name.';
COMMENT ON COLUMN leasemgr.contract_overview.state IS 'Contract state.';
COMMENT ON COLUMN leasemgr.contract_overview.state_since IS 'Since when the contract is in its state.';
COMMENT ON COLUMN leasemgr.contract_overview.start_date IS 'First day of the lease (inclusive).';
COMMENT ON COLUMN leasemgr.contract_overview.end_date IS 'Last day of the lease (inclusive).';
COMMENT ON COLUMN leasemgr.contract_overview.terminated_on IS 'Last day of a lease ended early.';
COMMENT ON COLUMN leasemgr.contract_overview.unit_count IS 'Number of units on the contract.';
COMMENT ON COLUMN leasemgr.contract_overview.billable_area_m2 IS 'Total billable area of its units, m².';
COMMENT ON COLUMN leasemgr.contract_overview.unit_codes IS 'The unit codes, comma separated.';

GRANT SELECT ON leasemgr.contract_overview TO leasemgr_reader;
-- pg_dump leaves the rows of extension tables out unless they are registered here, and a
-- restore without them would lose every lease: every table and its identity sequence.
-- One call per statement: each call rewrites the pg_extension row.
-- test/sql/install.sql fails when a table of the extension is missing from this list.
SELECT pg_catalog.pg_extension_config_dump('leasemgr.region', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.region_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.park', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.park_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.building', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.building_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.unit', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.unit_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.tenant', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.tenant_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.contract', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.contract_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.contract_unit', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.contract_unit_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.contract_event', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.contract_event_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.audit_log', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.audit_log_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.park_grant', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.park_grant_id_seq', '');
