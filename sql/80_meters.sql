-- Meters and their readings, the park's metering policy, and work orders for engineering.
-- docs/metering.md is the design; consumption is C (src/meter.c, src/core/lm_meter.c).

-- The triggers written in plpgsql ask this, so that pg_restore loads their rows as dumped.
CREATE FUNCTION leasemgr.owner_copy(rel regclass) RETURNS boolean
  AS 'MODULE_PATHNAME', 'owner_copy'
  LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION leasemgr.owner_copy(regclass) IS
  'Whether the running statement is the table owner''s own COPY FROM into rel (what pg_restore does): the triggers that stamp or refuse rows let such rows in as they were dumped, as the C triggers do.';

CREATE TABLE leasemgr.meter (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  park_id      bigint NOT NULL REFERENCES leasemgr.park (id),
  code         text NOT NULL CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]*$' AND pg_catalog.length(code) <= 32),
  unit_id      bigint,
  parent_id    bigint,
  replaces_id  bigint UNIQUE,
  kind         text NOT NULL CHECK (kind IN ('electricity', 'water', 'ac', 'gas', 'heat')),
  registers    text[] NOT NULL DEFAULT '{total}'
               CHECK (pg_catalog.cardinality(registers) BETWEEN 1 AND 8
                      AND pg_catalog.array_ndims(registers) = 1
                      AND pg_catalog.array_position(registers, NULL) IS NULL
                      AND pg_catalog.array_to_string(registers, ',') ~ '^[a-z][a-z0-9_]{0,15}(,[a-z][a-z0-9_]{0,15})*$'),
  multiplier   integer NOT NULL DEFAULT 1 CHECK (multiplier BETWEEN 1 AND 1000000),
  digits       integer NOT NULL CHECK (digits BETWEEN 3 AND 12),
  max_daily    numeric(15,3) CHECK (max_daily > 0),
  installed_at timestamptz NOT NULL CHECK (pg_catalog.isfinite(installed_at)),
  removed_at   timestamptz CHECK (pg_catalog.isfinite(removed_at)),
  note         text,
  CONSTRAINT meter_code_once UNIQUE (park_id, code),
  CONSTRAINT meter_key UNIQUE (id, park_id),
  CONSTRAINT meter_removed_after_installed CHECK (removed_at > installed_at),
  CONSTRAINT meter_not_own_parent CHECK (parent_id <> id AND replaces_id <> id),
  CONSTRAINT meter_unit_fk FOREIGN KEY (unit_id, park_id) REFERENCES leasemgr.unit (id, park_id),
  CONSTRAINT meter_parent_fk FOREIGN KEY (parent_id, park_id) REFERENCES leasemgr.meter (id, park_id),
  CONSTRAINT meter_replaces_fk FOREIGN KEY (replaces_id, park_id) REFERENCES leasemgr.meter (id, park_id)
);
CREATE INDEX meter_unit_idx ON leasemgr.meter (unit_id);
CREATE INDEX meter_parent_idx ON leasemgr.meter (parent_id);
COMMENT ON TABLE leasemgr.meter IS
  'A physical meter (电表, 水表, 空调计量表, 燃气表, 热量表): of a unit, or shared (a common area, a building''s main meter). A replaced meter is removed (removed_at) and its successor is a new row pointing at it; a meter with readings is never deleted.';
COMMENT ON COLUMN leasemgr.meter.id IS 'Meter identifier.';
COMMENT ON COLUMN leasemgr.meter.park_id IS 'The park of the meter (and of its unit).';
COMMENT ON COLUMN leasemgr.meter.code IS 'Code unique within the park, as painted on the meter box, e.g. E-A-0301.';
COMMENT ON COLUMN leasemgr.meter.unit_id IS 'The unit whose consumption it measures; NULL for a shared meter (common area, a main meter).';
COMMENT ON COLUMN leasemgr.meter.parent_id IS 'The meter upstream of this one (sub-metering): its consumption includes this one''s. Same park and kind.';
COMMENT ON COLUMN leasemgr.meter.replaces_id IS 'The meter this one replaced (same park, kind and unit); that meter was removed at or before this one was installed.';
COMMENT ON COLUMN leasemgr.meter.kind IS 'electricity (kWh), water (m3), ac (air conditioning energy, kWh), gas (m3) or heat (GJ).';
COMMENT ON COLUMN leasemgr.meter.registers IS
  'The registers it reads, e.g. {total}, or {total,peak,flat,valley} for time-of-use electricity (峰/平/谷): lower-case names, 1 to 8 of them.';
COMMENT ON COLUMN leasemgr.meter.multiplier IS
  'Integer multiplier (倍率): the current transformer ratio times the voltage transformer ratio, e.g. 40 for a 200/5 CT. Consumption = register difference x multiplier.';
COMMENT ON COLUMN leasemgr.meter.digits IS
  'Digits of the register before the decimal point, 3..12: the register wraps to 0 at 10^digits (rollover, 翻转).';
COMMENT ON COLUMN leasemgr.meter.max_daily IS 'Optional physical bound: the most this meter can measure in a day, after the multiplier (e.g. rated kW x 24). A day above it is a bounds anomaly.';
COMMENT ON COLUMN leasemgr.meter.installed_at IS 'When the meter was installed. Its series starts at its first reading (the install reading); readings before installed_at are refused.';
COMMENT ON COLUMN leasemgr.meter.removed_at IS 'When it was removed (replaced, decommissioned); NULL while in service. Its series ends at its last reading (the final reading); readings after removed_at are refused.';
COMMENT ON COLUMN leasemgr.meter.note IS 'Free text, e.g. the location of the meter box.';

-- Readings: partitioned by month of read_at (UTC months), so the time ranges that billing and
-- anomaly detection read are a few partitions, and old months can be archived whole. Each
-- partition's unique index (meter_id, read_at, register) is the duplicate rule (read_at decides
-- the partition, so once per partition is once) and the per-meter index ("latest reading", a
-- meter's range). read_at before register: descending the tree then decides on a timestamp,
-- not on a text that is nearly always 'total' (an IoT load runs 1.5x faster, test/bench). It is per partition, not on meter_reading: an index of the extension's
-- table would make pg_dump write the partitions' copies as constraints of their own, which a
-- restore cannot add twice.
CREATE SEQUENCE leasemgr.meter_reading_id_seq;
COMMENT ON SEQUENCE leasemgr.meter_reading_id_seq IS 'Identifiers of meter readings.';

CREATE TABLE leasemgr.meter_reading (
  id           bigint NOT NULL DEFAULT pg_catalog.nextval('leasemgr.meter_reading_id_seq'),
  park_id      bigint NOT NULL,
  meter_id     bigint NOT NULL,
  register     text NOT NULL DEFAULT 'total',
  read_at      timestamptz NOT NULL CHECK (pg_catalog.isfinite(read_at)),
  value        numeric(15,3) NOT NULL CHECK (value >= 0 AND value <> 'NaN'),
  source       text NOT NULL CHECK (source IN ('iot', 'photo', 'manual', 'estimated')),
  photo_sha256 text CHECK (photo_sha256 ~ '^[0-9a-f]{64}$'),
  recorded_by  text NOT NULL DEFAULT leasemgr.current_actor(),
  recorded_at  timestamptz NOT NULL DEFAULT pg_catalog.statement_timestamp(),
  device       text,
  voided_at    timestamptz,
  void_reason  text,
  CONSTRAINT meter_reading_photo CHECK (source <> 'photo' OR photo_sha256 IS NOT NULL),
  CONSTRAINT meter_reading_void CHECK ((voided_at IS NULL) = (void_reason IS NULL))
) PARTITION BY RANGE (read_at);
CREATE TABLE leasemgr.meter_reading_default PARTITION OF leasemgr.meter_reading DEFAULT;
CREATE UNIQUE INDEX meter_reading_default_key ON leasemgr.meter_reading_default (meter_id, read_at, register);
COMMENT ON INDEX leasemgr.meter_reading_default_key IS
  'A meter register shows one value at a moment: (meter_id, register, read_at) once. Every partition has this index.';
ALTER SEQUENCE leasemgr.meter_reading_id_seq OWNED BY leasemgr.meter_reading.id;
-- Partitions are read and written through meter_reading, whose policy and grants apply; on
-- a partition itself row-level security without a policy shows nothing to anyone but the owner.
ALTER TABLE leasemgr.meter_reading_default ENABLE ROW LEVEL SECURITY;
COMMENT ON TABLE leasemgr.meter_reading IS
  'Meter readings (抄表): the cumulative value of one register of a meter at one moment, from IoT, a photo, a hand entry or an estimate. Partitioned by month of read_at; written by leasemgr.record_reading or by COPY (IoT imports), checked once per statement. Never changed or deleted: a wrong reading is voided.';
COMMENT ON TABLE leasemgr.meter_reading_default IS
  'Readings of months that have no partition yet; leasemgr.meter_reading_partitions moves them into their month''s partition.';
COMMENT ON COLUMN leasemgr.meter_reading.id IS 'Reading identifier (returned by record_reading).';
COMMENT ON COLUMN leasemgr.meter_reading.park_id IS 'The park of the meter.';
COMMENT ON COLUMN leasemgr.meter_reading.meter_id IS 'The meter read.';
COMMENT ON COLUMN leasemgr.meter_reading.register IS 'The register read: total, or peak, flat, valley... (one of the meter''s registers).';
COMMENT ON COLUMN leasemgr.meter_reading.read_at IS 'When the meter showed this value (the device''s time, not when it reached the database). Not in the future.';
COMMENT ON COLUMN leasemgr.meter_reading.value IS 'The register as displayed, >= 0, 3 decimals: cumulative, before the multiplier.';
COMMENT ON COLUMN leasemgr.meter_reading.source IS 'iot (a gateway), photo (a meter reader''s photo), manual (typed in) or estimated.';
COMMENT ON COLUMN leasemgr.meter_reading.photo_sha256 IS 'SHA-256 of the photo of the meter (64 lower-case hex digits); required for photo readings. The image is kept elsewhere, this proves which one.';
COMMENT ON COLUMN leasemgr.meter_reading.recorded_by IS 'Who recorded it (leasemgr.current_actor()).';
COMMENT ON COLUMN leasemgr.meter_reading.recorded_at IS 'When it reached the database. recorded_at - read_at is the reading lag.';
COMMENT ON COLUMN leasemgr.meter_reading.device IS 'The gateway, handset or program that sent it. Optional.';
COMMENT ON COLUMN leasemgr.meter_reading.voided_at IS 'When the reading was voided (an UPDATE of voided_at and void_reason, once); consumption ignores void readings.';
COMMENT ON COLUMN leasemgr.meter_reading.void_reason IS 'Why it was voided.';

CREATE TABLE leasemgr.metering_policy (
  park_id           bigint PRIMARY KEY REFERENCES leasemgr.park (id),
  spike_ratio       numeric(6,2) NOT NULL DEFAULT 3.00 CHECK (spike_ratio > 1),
  baseline_days     integer NOT NULL DEFAULT 28 CHECK (baseline_days BETWEEN 7 AND 366),
  min_baseline_days integer NOT NULL DEFAULT 7 CHECK (min_baseline_days >= 1),
  stuck_days        integer NOT NULL DEFAULT 7 CHECK (stuck_days BETWEEN 1 AND 366),
  gap_days          integer NOT NULL DEFAULT 3 CHECK (gap_days BETWEEN 1 AND 366),
  lag_days          integer NOT NULL DEFAULT 7 CHECK (lag_days BETWEEN 1 AND 366),
  estimate_missing  boolean NOT NULL DEFAULT false,
  CONSTRAINT metering_policy_baseline CHECK (min_baseline_days <= baseline_days)
);
COMMENT ON TABLE leasemgr.metering_policy IS
  'A park''s metering thresholds and missing-reading policy. A park without a row uses the column defaults (leasemgr.metering_policy_of shows what applies).';
COMMENT ON COLUMN leasemgr.metering_policy.park_id IS 'The park.';
COMMENT ON COLUMN leasemgr.metering_policy.spike_ratio IS 'A day''s consumption above this many times the baseline is a spike (突增). Default 3.00; an allocation rule may override it for its pool.';
COMMENT ON COLUMN leasemgr.metering_policy.baseline_days IS 'The baseline is the median daily consumption over this many days before the day. Default 28.';
COMMENT ON COLUMN leasemgr.metering_policy.min_baseline_days IS 'With fewer days of known consumption than this in the baseline window there is no baseline, so no spike. Default 7.';
COMMENT ON COLUMN leasemgr.metering_policy.stuck_days IS 'Zero consumption this many days running on a leased unit is a stuck meter. Default 7.';
COMMENT ON COLUMN leasemgr.metering_policy.gap_days IS 'No reading for this many days is a gap. Default 3.';
COMMENT ON COLUMN leasemgr.metering_policy.lag_days IS 'A reading recorded this many days or more after it was read is late (lag). Default 7.';
COMMENT ON COLUMN leasemgr.metering_policy.estimate_missing IS
  'false (default): a metered period without readings is held until they arrive; true: it is billed at the fallback estimate, marked estimated, and trued up by an adjustment line once readings arrive.';

CREATE FUNCTION leasemgr.metering_policy_of(park_id bigint) RETURNS leasemgr.metering_policy
  LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT p.* FROM leasemgr.metering_policy p WHERE p.park_id OPERATOR(pg_catalog.=) metering_policy_of.park_id
  UNION ALL
  SELECT metering_policy_of.park_id, 3.00, 28, 7, 7, 3, 7, false
   WHERE NOT EXISTS (SELECT FROM leasemgr.metering_policy p
                      WHERE p.park_id OPERATOR(pg_catalog.=) metering_policy_of.park_id);
END;
COMMENT ON FUNCTION leasemgr.metering_policy_of(bigint) IS
  'The metering policy that applies to a park: its row of leasemgr.metering_policy, or the defaults.';

CREATE TABLE leasemgr.work_order (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  park_id     bigint NOT NULL REFERENCES leasemgr.park (id),
  kind        text NOT NULL CHECK (kind IN ('reading_missing', 'anomaly', 'inspection')),
  meter_id    bigint,
  contract_id bigint,
  month       date CHECK (pg_catalog.date_trunc('month', month)::date OPERATOR(pg_catalog.=) month),
  anomaly_id  bigint,
  subject     text NOT NULL CHECK (pg_catalog.btrim(subject) <> ''),
  state       text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done', 'cancelled')),
  opened_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
  opened_by   text NOT NULL DEFAULT leasemgr.current_actor(),
  closed_at   timestamptz,
  closed_by   text,
  note        text,
  CONSTRAINT work_order_closed CHECK ((state = 'open') = (closed_at IS NULL) AND (closed_at IS NULL) = (closed_by IS NULL)),
  CONSTRAINT work_order_meter_fk FOREIGN KEY (meter_id, park_id) REFERENCES leasemgr.meter (id, park_id),
  CONSTRAINT work_order_contract_fk FOREIGN KEY (contract_id, park_id) REFERENCES leasemgr.contract (id, park_id)
);
-- Raising the same work order again is a no-op: one open order per meter and month for
-- missing readings, one per anomaly.
CREATE UNIQUE INDEX work_order_reading_missing_once ON leasemgr.work_order (meter_id, month)
  WHERE kind = 'reading_missing' AND state = 'open';
CREATE UNIQUE INDEX work_order_anomaly_once ON leasemgr.work_order (anomaly_id)
  WHERE kind = 'anomaly' AND state = 'open';
CREATE INDEX work_order_park_state_idx ON leasemgr.work_order (park_id, state);
COMMENT ON TABLE leasemgr.work_order IS
  'A task for engineering (工单): readings missing for a billing month, an anomaly to inspect, an inspection. Opened by bill runs and anomaly detection (once: raising an open order again does nothing) or by hand; closed as done or cancelled.';
COMMENT ON INDEX leasemgr.work_order_reading_missing_once IS 'One open missing-readings work order per meter and month.';
COMMENT ON INDEX leasemgr.work_order_anomaly_once IS 'One open work order per anomaly.';
COMMENT ON COLUMN leasemgr.work_order.id IS 'Work order identifier.';
COMMENT ON COLUMN leasemgr.work_order.park_id IS 'The park.';
COMMENT ON COLUMN leasemgr.work_order.kind IS 'reading_missing (read the meter so the month can be billed), anomaly (inspect the meter: leasemgr.anomaly) or inspection.';
COMMENT ON COLUMN leasemgr.work_order.meter_id IS 'The meter concerned.';
COMMENT ON COLUMN leasemgr.work_order.contract_id IS 'The contract whose bill waits for it, if any.';
COMMENT ON COLUMN leasemgr.work_order.month IS 'The billing month concerned (first day), if any.';
COMMENT ON COLUMN leasemgr.work_order.anomaly_id IS 'The anomaly to inspect (kind anomaly).';
COMMENT ON COLUMN leasemgr.work_order.subject IS 'What to do, in words.';
COMMENT ON COLUMN leasemgr.work_order.state IS 'open, done or cancelled.';
COMMENT ON COLUMN leasemgr.work_order.opened_at IS 'When it was opened.';
COMMENT ON COLUMN leasemgr.work_order.opened_by IS 'Who (or which run) opened it.';
COMMENT ON COLUMN leasemgr.work_order.closed_at IS 'When it was closed (done or cancelled).';
COMMENT ON COLUMN leasemgr.work_order.closed_by IS 'Who closed it.';
COMMENT ON COLUMN leasemgr.work_order.note IS 'Free text: what engineering found.';

-- Who opened and closed a work order is stamped, for every writer; a closed order is history.
CREATE FUNCTION leasemgr.work_order_before_write() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
BEGIN
  IF TG_OP OPERATOR(pg_catalog.=) 'INSERT' AND leasemgr.owner_copy(TG_RELID) THEN
    RETURN NEW;  -- a restore: the order as it was, stamps included
  END IF;
  IF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
    RAISE EXCEPTION USING ERRCODE = 'LM010',
      MESSAGE = pg_catalog.format('work order %s cannot be deleted', OLD.id),
      DETAIL = 'Work orders are the record of what engineering was asked and did.',
      HINT = 'Close it with state cancelled and a note.';
  END IF;
  IF TG_OP OPERATOR(pg_catalog.=) 'INSERT' THEN
    NEW.opened_at := pg_catalog.now();
    NEW.opened_by := leasemgr.current_actor();
  ELSE
    IF OLD.state OPERATOR(pg_catalog.<>) 'open'
       OR (NEW.park_id, NEW.kind, NEW.meter_id, NEW.contract_id, NEW.month, NEW.anomaly_id, NEW.subject, NEW.opened_at, NEW.opened_by)
          IS DISTINCT FROM (OLD.park_id, OLD.kind, OLD.meter_id, OLD.contract_id, OLD.month, OLD.anomaly_id, OLD.subject, OLD.opened_at, OLD.opened_by) THEN
      RAISE EXCEPTION USING ERRCODE = 'LM010',
        MESSAGE = pg_catalog.format('work order %s cannot be changed that way', OLD.id),
        DETAIL = CASE WHEN OLD.state OPERATOR(pg_catalog.<>) 'open' THEN pg_catalog.format('It is %s.', OLD.state)
                      ELSE 'What it is about, and who opened it when, are fixed.' END,
        HINT = 'An open work order changes its note or closes (state done or cancelled); open a new one for new work.';
    END IF;
  END IF;
  IF NEW.state OPERATOR(pg_catalog.=) 'open' THEN
    NEW.closed_at := NULL;
    NEW.closed_by := NULL;
  ELSE
    NEW.closed_at := pg_catalog.now();
    NEW.closed_by := leasemgr.current_actor();
  END IF;
  RETURN NEW;
END
$fn$;
COMMENT ON FUNCTION leasemgr.work_order_before_write() IS
  'Trigger: a work order''s opened_at/opened_by and closed_at/closed_by are stamped (now, leasemgr.current_actor()), whoever writes; an open order changes only its note and state; a closed one never changes; none is deleted (SQLSTATE LM010).';
CREATE TRIGGER work_order_before_write BEFORE INSERT OR UPDATE OR DELETE ON leasemgr.work_order
  FOR EACH ROW EXECUTE FUNCTION leasemgr.work_order_before_write();

-- ---- The rules of meters -------------------------------------------------------------------

CREATE FUNCTION leasemgr.meter_before_write() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
DECLARE
  v_other leasemgr.meter;
  v_last timestamptz;
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    -- What a meter with readings measured cannot change: its readings mean what it said.
    SELECT pg_catalog.max(r.read_at) INTO v_last FROM leasemgr.meter_reading r
     WHERE r.meter_id OPERATOR(pg_catalog.=) OLD.id;
    IF v_last IS NOT NULL AND TG_OP = 'DELETE' THEN
      RAISE EXCEPTION USING ERRCODE = 'LM017',
        MESSAGE = pg_catalog.format('meter %s has readings and cannot be deleted', OLD.code),
        DETAIL = pg_catalog.format('Its last reading was read at %s.', v_last),
        HINT = 'Set removed_at to take it out of service; readings are kept for the bills they explain.';
    END IF;
    IF TG_OP = 'DELETE' THEN
      RETURN OLD;
    END IF;
    IF NEW.park_id IS DISTINCT FROM OLD.park_id THEN
      RAISE EXCEPTION USING ERRCODE = 'LM007',
        MESSAGE = pg_catalog.format('meter %s cannot move to another park', OLD.code),
        HINT = 'Install a new meter in the other park.';
    END IF;
    IF v_last IS NOT NULL AND (NEW.unit_id IS DISTINCT FROM OLD.unit_id OR NEW.kind IS DISTINCT FROM OLD.kind
        OR NEW.registers IS DISTINCT FROM OLD.registers OR NEW.multiplier IS DISTINCT FROM OLD.multiplier
        OR NEW.digits IS DISTINCT FROM OLD.digits OR NEW.installed_at IS DISTINCT FROM OLD.installed_at) THEN
      RAISE EXCEPTION USING ERRCODE = 'LM017',
        MESSAGE = pg_catalog.format('meter %s has readings: its unit, kind, registers, multiplier, digits and installation time are fixed', OLD.code),
        DETAIL = pg_catalog.format('Its readings (the last read at %s) were taken with the meter as it is.', v_last),
        HINT = 'When a meter is replaced or reconfigured, set removed_at on this one and add a new meter with replaces_id pointing at it.';
    END IF;
    IF NEW.removed_at IS NOT NULL AND v_last IS NOT NULL AND NEW.removed_at OPERATOR(pg_catalog.<) v_last THEN
      RAISE EXCEPTION USING ERRCODE = 'LM017',
        MESSAGE = pg_catalog.format('meter %s cannot be removed at %s, before its last reading', OLD.code, NEW.removed_at),
        DETAIL = pg_catalog.format('Its last reading was read at %s.', v_last),
        HINT = 'The final reading is taken when the meter comes off: remove it at or after that reading.';
    END IF;
  END IF;

  IF NEW.parent_id IS NOT NULL THEN
    SELECT * INTO v_other FROM leasemgr.meter m WHERE m.id OPERATOR(pg_catalog.=) NEW.parent_id;
    IF FOUND AND v_other.kind OPERATOR(pg_catalog.<>) NEW.kind THEN
      RAISE EXCEPTION USING ERRCODE = 'LM017',
        MESSAGE = pg_catalog.format('meter %s (%s) cannot be a sub-meter of %s (%s)', NEW.code, NEW.kind, v_other.code, v_other.kind),
        HINT = 'A sub-meter measures part of what its parent measures: same kind.';
    END IF;
    IF FOUND AND EXISTS (
        WITH RECURSIVE up(id, parent_id) AS (
          SELECT m.id, m.parent_id FROM leasemgr.meter m WHERE m.id OPERATOR(pg_catalog.=) NEW.parent_id
          UNION
          SELECT m.id, m.parent_id FROM leasemgr.meter m JOIN up ON m.id OPERATOR(pg_catalog.=) up.parent_id)
        SELECT FROM up WHERE up.id OPERATOR(pg_catalog.=) NEW.id) THEN
      RAISE EXCEPTION USING ERRCODE = 'LM017',
        MESSAGE = pg_catalog.format('meter %s cannot be a sub-meter of %s: %s is downstream of %s', NEW.code, v_other.code,
                                    v_other.code, NEW.code),
        HINT = 'Sub-metering is a tree: a meter cannot be upstream of itself.';
    END IF;
  END IF;
  IF NEW.replaces_id IS NOT NULL AND (TG_OP = 'INSERT' OR NEW.replaces_id IS DISTINCT FROM OLD.replaces_id) THEN
    SELECT * INTO v_other FROM leasemgr.meter m WHERE m.id OPERATOR(pg_catalog.=) NEW.replaces_id;
    IF FOUND AND (v_other.kind OPERATOR(pg_catalog.<>) NEW.kind OR v_other.unit_id IS DISTINCT FROM NEW.unit_id) THEN
      RAISE EXCEPTION USING ERRCODE = 'LM017',
        MESSAGE = pg_catalog.format('meter %s cannot replace %s', NEW.code, v_other.code),
        DETAIL = pg_catalog.format('%s is a %s meter of unit %s; %s is a %s meter of unit %s.', v_other.code, v_other.kind,
                                   COALESCE(v_other.unit_id::text, '(shared)'), NEW.code, NEW.kind,
                                   COALESCE(NEW.unit_id::text, '(shared)')),
        HINT = 'A replacement measures what the old meter measured: same kind, same unit.';
    END IF;
    IF FOUND AND (v_other.removed_at IS NULL OR v_other.removed_at OPERATOR(pg_catalog.>) NEW.installed_at) THEN
      RAISE EXCEPTION USING ERRCODE = 'LM017',
        MESSAGE = pg_catalog.format('meter %s cannot replace %s before %s is removed', NEW.code, v_other.code, v_other.code),
        DETAIL = pg_catalog.format('%s is installed at %s; %s is %s.', NEW.code, NEW.installed_at, v_other.code,
                                   COALESCE('removed at ' || v_other.removed_at::text, 'still in service')),
        HINT = 'Take the final reading of the old meter, set its removed_at, then install the new one at or after that moment.';
    END IF;
  END IF;
  RETURN NEW;
END
$fn$;
COMMENT ON FUNCTION leasemgr.meter_before_write() IS
  'Trigger: a meter with readings keeps its unit, kind, registers, multiplier, digits and installation time, is removed no earlier than its last reading and is never deleted; sub-meters are of their parent''s kind (no cycles); a replacement is of the same kind and unit, installed after the old meter was removed (SQLSTATE LM017, LM007).';
CREATE TRIGGER meter_before_write BEFORE INSERT OR UPDATE OR DELETE ON leasemgr.meter
  FOR EACH ROW EXECUTE FUNCTION leasemgr.meter_before_write();

-- ---- The rules of readings: once per statement ---------------------------------------------

-- The facts of the first bad reading of a statement, as one error. Shared by the statement
-- trigger (COPY, INSERT) and record_reading, so both refuse with the same words.
CREATE FUNCTION leasemgr.reading_refusal(r leasemgr.meter_reading, m leasemgr.meter)
  RETURNS void
  LANGUAGE plpgsql
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
BEGIN
  IF m.id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LM009',
      MESSAGE = pg_catalog.format('meter %s does not exist', r.meter_id),
      HINT = 'Check the id; meters of parks you have not been granted are not visible to you.';
  END IF;
  IF r.park_id IS DISTINCT FROM m.park_id THEN
    RAISE EXCEPTION USING ERRCODE = 'LM007',
      MESSAGE = pg_catalog.format('a reading of meter %s must be of park %s, not %s', m.code, m.park_id, r.park_id),
      HINT = 'Take park_id from the meter.';
  END IF;
  IF NOT (r.register OPERATOR(pg_catalog.=) ANY (m.registers)) THEN
    RAISE EXCEPTION USING ERRCODE = 'LM016',
      MESSAGE = pg_catalog.format('meter %s has no register "%s"', m.code, r.register),
      DETAIL = pg_catalog.format('Its registers are: %s.', pg_catalog.array_to_string(m.registers, ', ')),
      HINT = 'Pass one of the meter''s registers (default total).';
  END IF;
  IF r.value OPERATOR(pg_catalog.>=) (10::numeric OPERATOR(pg_catalog.^) m.digits) THEN
    RAISE EXCEPTION USING ERRCODE = 'LM016',
      MESSAGE = pg_catalog.format('meter %s cannot show %s', m.code, r.value),
      DETAIL = pg_catalog.format('Its register has %s digits before the decimal point: it shows less than %s.', m.digits,
                                 (10::numeric OPERATOR(pg_catalog.^) m.digits)::bigint),
      HINT = 'Check the reading (a digit too many?) and the meter''s digits.';
  END IF;
  IF r.read_at OPERATOR(pg_catalog.<) m.installed_at THEN
    RAISE EXCEPTION USING ERRCODE = 'LM016',
      MESSAGE = pg_catalog.format('meter %s was not installed yet at %s', m.code, r.read_at),
      DETAIL = pg_catalog.format('It was installed at %s.', m.installed_at),
      HINT = 'Check the reading''s time and the meter: a reading before the installation belongs to the meter it replaced.';
  END IF;
  IF r.read_at OPERATOR(pg_catalog.>) m.removed_at THEN
    RAISE EXCEPTION USING ERRCODE = 'LM016',
      MESSAGE = pg_catalog.format('meter %s was removed at %s, before this reading at %s', m.code, m.removed_at, r.read_at),
      DETAIL = CASE WHEN (SELECT n.code FROM leasemgr.meter n WHERE n.replaces_id OPERATOR(pg_catalog.=) m.id) IS NOT NULL
                    THEN pg_catalog.format('It was replaced by meter %s.',
                                           (SELECT n.code FROM leasemgr.meter n WHERE n.replaces_id OPERATOR(pg_catalog.=) m.id))
                    ELSE 'It is out of service.' END,
      HINT = 'Record the reading on the meter in service at that moment.';
  END IF;
  IF (r.recorded_at OPERATOR(pg_catalog.<>) pg_catalog.statement_timestamp()
                 OR r.recorded_by OPERATOR(pg_catalog.<>) leasemgr.current_actor())
     AND NOT pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class c
                                      WHERE c.oid OPERATOR(pg_catalog.=) 'leasemgr.meter_reading'::pg_catalog.regclass), 'MEMBER') THEN
    RAISE EXCEPTION USING ERRCODE = 'LM016',
      MESSAGE = pg_catalog.format('a reading of meter %s cannot say it was recorded by %s at %s', m.code, r.recorded_by, r.recorded_at),
      DETAIL = pg_catalog.format('recorded_by and recorded_at are who sent the reading and when it reached the database: %s, %s.',
                                 leasemgr.current_actor(), pg_catalog.statement_timestamp()),
      HINT = 'Leave recorded_by and recorded_at out: they are filled in. The reading lag is measured from them.';
  END IF;
  IF r.read_at OPERATOR(pg_catalog.>) (pg_catalog.statement_timestamp() OPERATOR(pg_catalog.+) interval '5 minutes') THEN
    RAISE EXCEPTION USING ERRCODE = 'LM016',
      MESSAGE = pg_catalog.format('a reading of meter %s cannot be read at %s, in the future', m.code, r.read_at),
      DETAIL = pg_catalog.format('It is now %s; device clocks may be up to 5 minutes ahead.', pg_catalog.statement_timestamp()),
      HINT = 'Check the device''s clock and time zone; read_at is when the meter showed the value.';
  END IF;
END
$fn$;
COMMENT ON FUNCTION leasemgr.reading_refusal(leasemgr.meter_reading, leasemgr.meter) IS
  'Internal: raises the error that a reading breaking a meter rule gets (unknown meter LM009, other park LM007, unknown register, not installed, removed, in the future, recorded_by or recorded_at given by someone other than the table owner LM016).';

CREATE FUNCTION leasemgr.meter_reading_check() RETURNS trigger
  AS 'MODULE_PATHNAME', 'meter_reading_check'
  LANGUAGE C;
COMMENT ON FUNCTION leasemgr.meter_reading_check() IS
  'Statement trigger on meter_reading inserts (and COPY): checks every new reading against its meter in one join over the transition table, not row by row; the first bad reading fails the statement (SQLSTATE LM016, LM009, LM007).';
CREATE TRIGGER meter_reading_check AFTER INSERT ON leasemgr.meter_reading
  REFERENCING NEW TABLE AS new_readings
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.meter_reading_check();

CREATE FUNCTION leasemgr.meter_reading_before_change() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF pg_catalog.current_setting('leasemgr_internal.moving_readings', true) OPERATOR(pg_catalog.=) 'on'
       AND TG_TABLE_NAME OPERATOR(pg_catalog.=) 'meter_reading_default' THEN
      RETURN OLD;     -- meter_reading_partitions moving a month out of the default partition
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'LM010',
      MESSAGE = 'meter readings are never deleted',
      DETAIL = pg_catalog.format('Reading %s of meter %s at %s.', OLD.id, OLD.meter_id, OLD.read_at),
      HINT = 'Void a wrong reading: UPDATE leasemgr.meter_reading SET voided_at = now(), void_reason = ''...''.';
  END IF;
  IF OLD.voided_at IS NOT NULL OR NEW.voided_at IS NULL
     OR (NEW.id, NEW.park_id, NEW.meter_id, NEW.register, NEW.read_at, NEW.value, NEW.source, NEW.photo_sha256,
         NEW.recorded_by, NEW.recorded_at, NEW.device)
        IS DISTINCT FROM (OLD.id, OLD.park_id, OLD.meter_id, OLD.register, OLD.read_at, OLD.value, OLD.source,
                          OLD.photo_sha256, OLD.recorded_by, OLD.recorded_at, OLD.device) THEN
    RAISE EXCEPTION USING ERRCODE = 'LM010',
      MESSAGE = 'a meter reading can only be voided, once',
      DETAIL = pg_catalog.format('Reading %s of meter %s at %s%s.', OLD.id, OLD.meter_id, OLD.read_at,
                                 CASE WHEN OLD.voided_at IS NOT NULL THEN ' was voided at ' || OLD.voided_at::text ELSE '' END),
      HINT = 'Set voided_at and void_reason and nothing else; record the right value as a new reading.';
  END IF;
  RETURN NEW;
END
$fn$;
COMMENT ON FUNCTION leasemgr.meter_reading_before_change() IS
  'Trigger: a reading is never deleted nor changed; it can be voided once (voided_at, void_reason) (SQLSTATE LM010).';
CREATE TRIGGER meter_reading_before_change BEFORE UPDATE OR DELETE ON leasemgr.meter_reading
  FOR EACH ROW EXECUTE FUNCTION leasemgr.meter_reading_before_change();
CREATE TRIGGER audit_row AFTER UPDATE ON leasemgr.meter_reading
  FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row();
CREATE TRIGGER truncate_guard BEFORE TRUNCATE ON leasemgr.meter_reading
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.truncate_guard();

-- ---- Partitions ----------------------------------------------------------------------------

CREATE FUNCTION leasemgr.meter_reading_partitions(from_month date, to_month date) RETURNS integer
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
DECLARE
  v_month date;
  v_name text;
  v_lo timestamptz;
  v_hi timestamptz;
  v_created integer := 0;
BEGIN
  IF from_month IS NULL OR to_month IS NULL OR NOT pg_catalog.isfinite(from_month) OR NOT pg_catalog.isfinite(to_month)
     OR to_month OPERATOR(pg_catalog.<) from_month
     OR to_month OPERATOR(pg_catalog.>) (from_month OPERATOR(pg_catalog.+) interval '10 years') THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = pg_catalog.format('cannot create reading partitions from %s to %s', from_month, to_month),
      DETAIL = 'Both months are needed, in order, at most 10 years apart.',
      HINT = 'Pass the first and the last month, e.g. (''2027-01-01'', ''2027-12-01'').';
  END IF;
  -- One creator at a time (the parent's lock conflicts with itself), parent before default,
  -- the order every writer takes them in. The default partition's lock keeps rows from
  -- arriving in it while its rows of a month move out.
  LOCK TABLE leasemgr.meter_reading IN SHARE UPDATE EXCLUSIVE MODE;
  LOCK TABLE leasemgr.meter_reading_default IN EXCLUSIVE MODE;
  v_month := pg_catalog.date_trunc('month', from_month)::date;
  WHILE v_month OPERATOR(pg_catalog.<=) to_month LOOP
    v_name := 'meter_reading_y' || pg_catalog.to_char(v_month, 'YYYY"m"MM');
    IF pg_catalog.to_regclass('leasemgr.' || v_name) IS NULL THEN
      -- UTC months: the bounds do not depend on anybody's time zone setting.
      v_lo := (v_month::timestamp) AT TIME ZONE 'UTC';
      v_hi := ((v_month OPERATOR(pg_catalog.+) interval '1 month')::timestamp) AT TIME ZONE 'UTC';
      -- The month is built as a table of its own in leasemgr (nothing of the caller's is
      -- touched: this function runs as the owner), filled with its rows from the default
      -- partition, indexed, then attached.
      EXECUTE pg_catalog.format('CREATE TABLE leasemgr.%I (LIKE leasemgr.meter_reading INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                                v_name);
      PERFORM pg_catalog.set_config('leasemgr_internal.moving_readings', 'on', true);
      EXECUTE pg_catalog.format('WITH moved AS (DELETE FROM leasemgr.meter_reading_default d '
                                'WHERE d.read_at OPERATOR(pg_catalog.>=) $1 AND d.read_at OPERATOR(pg_catalog.<) $2 '
                                'RETURNING d.*) INSERT INTO leasemgr.%I SELECT * FROM moved', v_name)
        USING v_lo, v_hi;
      PERFORM pg_catalog.set_config('leasemgr_internal.moving_readings', 'off', true);
      EXECUTE pg_catalog.format('CREATE UNIQUE INDEX %I ON leasemgr.%I (meter_id, read_at, register)',
                                v_name || '_key', v_name);
      EXECUTE pg_catalog.format('ALTER TABLE leasemgr.meter_reading ATTACH PARTITION leasemgr.%I FOR VALUES FROM (%L) TO (%L)',
                                v_name, v_lo, v_hi);
      EXECUTE pg_catalog.format('ALTER TABLE leasemgr.%I ENABLE ROW LEVEL SECURITY', v_name);
      EXECUTE pg_catalog.format('COMMENT ON TABLE leasemgr.%I IS %L', v_name,
                                pg_catalog.format('Meter readings read in %s (UTC).', pg_catalog.to_char(v_month, 'YYYY-MM')));
      EXECUTE pg_catalog.format('COMMENT ON INDEX leasemgr.%I IS %L', v_name || '_key',
                                'A meter register shows one value at a moment: (meter_id, register, read_at) once.');
      v_created := v_created OPERATOR(pg_catalog.+) 1;
    END IF;
    v_month := (v_month OPERATOR(pg_catalog.+) interval '1 month')::date;
  END LOOP;
  RETURN v_created;
END
$fn$;
COMMENT ON FUNCTION leasemgr.meter_reading_partitions(date, date) IS
  'Creates the monthly partitions of meter_reading (UTC months) from from_month to to_month that do not exist yet, moving rows of those months out of the default partition. Returns how many it created. For admins and scheduled jobs: run it ahead of the months to come (readings of a month without a partition wait in the default partition, which this moves). Takes a brief exclusive lock on the default partition.';

-- ---- Recording a reading -------------------------------------------------------------------

CREATE FUNCTION leasemgr.record_reading(meter_id bigint, read_at timestamptz, value numeric, source text,
                                        register text DEFAULT 'total', photo_sha256 text DEFAULT NULL,
                                        device text DEFAULT NULL)
  RETURNS bigint
  LANGUAGE plpgsql SECURITY INVOKER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
DECLARE
  v_meter leasemgr.meter;
  v_reading leasemgr.meter_reading;
  v_id bigint;
  v_first leasemgr.meter_reading;
BEGIN
  IF record_reading.meter_id IS NULL OR record_reading.read_at IS NULL OR record_reading.value IS NULL
     OR record_reading.source IS NULL OR record_reading.register IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = 'record_reading needs a meter, a moment, a value, a source and a register',
      DETAIL = pg_catalog.format('NULL was passed for %s.',
        pg_catalog.concat_ws(', ',
          CASE WHEN record_reading.meter_id IS NULL THEN 'meter_id' END,
          CASE WHEN record_reading.read_at IS NULL THEN 'read_at' END,
          CASE WHEN record_reading.value IS NULL THEN 'value' END,
          CASE WHEN record_reading.source IS NULL THEN 'source' END,
          CASE WHEN record_reading.register IS NULL THEN 'register' END)),
      HINT = 'Pass every argument; register defaults to total.';
  END IF;
  IF NOT (record_reading.source OPERATOR(pg_catalog.=) ANY (ARRAY['iot', 'photo', 'manual', 'estimated'])) THEN
    RAISE EXCEPTION USING ERRCODE = 'LM016',
      MESSAGE = pg_catalog.format('unknown reading source "%s"', record_reading.source),
      DETAIL = 'The sources are: iot, photo, manual, estimated.',
      HINT = 'Source names are lower case.';
  END IF;
  IF record_reading.value OPERATOR(pg_catalog.<) 0 OR record_reading.value OPERATOR(pg_catalog.=) 'NaN'::numeric
     OR record_reading.value OPERATOR(pg_catalog.>=) 1000000000000
     OR pg_catalog.scale(record_reading.value) OPERATOR(pg_catalog.>) 3 THEN
    RAISE EXCEPTION USING ERRCODE = 'LM016',
      MESSAGE = pg_catalog.format('%s is not a meter reading', record_reading.value),
      DETAIL = 'A reading is the register''s cumulative value as displayed: 0 or more, below 10^12, at most 3 decimals.',
      HINT = 'Pass the value the meter shows; a meter that went back is a new meter or an anomaly, never a negative reading.';
  END IF;
  IF record_reading.source OPERATOR(pg_catalog.=) 'photo' AND record_reading.photo_sha256 IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LM016',
      MESSAGE = 'a photo reading needs the photo''s SHA-256',
      DETAIL = pg_catalog.format('Meter %s at %s was recorded with source photo and no photo_sha256.',
                                 record_reading.meter_id, record_reading.read_at),
      HINT = 'Pass photo_sha256, the SHA-256 of the image (64 hex digits), or record it as manual.';
  END IF;
  IF record_reading.photo_sha256 IS NOT NULL AND record_reading.photo_sha256 OPERATOR(pg_catalog.!~) '^[0-9a-f]{64}$' THEN
    RAISE EXCEPTION USING ERRCODE = 'LM016',
      MESSAGE = pg_catalog.format('"%s" is not a SHA-256', record_reading.photo_sha256),
      DETAIL = 'A SHA-256 is 64 lower-case hexadecimal digits.',
      HINT = 'Pass the hex digest of the photo, e.g. from sha256sum.';
  END IF;

  SELECT * INTO v_meter FROM leasemgr.meter m WHERE m.id OPERATOR(pg_catalog.=) record_reading.meter_id;
  v_reading.meter_id := record_reading.meter_id;
  v_reading.park_id := v_meter.park_id;
  v_reading.register := record_reading.register;
  v_reading.read_at := record_reading.read_at;
  PERFORM leasemgr.reading_refusal(v_reading, v_meter);

  -- The same reading twice (a gateway retrying) records nothing the second time.
  INSERT INTO leasemgr.meter_reading AS r (park_id, meter_id, register, read_at, value, source, photo_sha256, device)
  VALUES (v_meter.park_id, record_reading.meter_id, record_reading.register, record_reading.read_at,
          record_reading.value, record_reading.source, record_reading.photo_sha256, record_reading.device)
  ON CONFLICT DO NOTHING
  RETURNING r.id INTO v_id;
  IF v_id IS NOT NULL THEN
    RETURN v_id;
  END IF;

  SELECT * INTO v_first FROM leasemgr.meter_reading r
   WHERE r.meter_id OPERATOR(pg_catalog.=) record_reading.meter_id
     AND r.register OPERATOR(pg_catalog.=) record_reading.register
     AND r.read_at OPERATOR(pg_catalog.=) record_reading.read_at;
  IF v_first.value OPERATOR(pg_catalog.=) record_reading.value AND v_first.voided_at IS NULL THEN
    RETURN v_first.id;
  END IF;
  RAISE EXCEPTION USING ERRCODE = 'LM016',
    MESSAGE = pg_catalog.format('meter %s register %s already has a reading at %s', v_meter.code,
                                record_reading.register, record_reading.read_at),
    DETAIL = pg_catalog.format('Reading %s says %s (%s, recorded by %s at %s%s); this call says %s.', v_first.id,
                               v_first.value, v_first.source, v_first.recorded_by, v_first.recorded_at,
                               CASE WHEN v_first.voided_at IS NOT NULL THEN ', voided: ' || v_first.void_reason ELSE '' END,
                               record_reading.value),
    HINT = 'A meter shows one value at a moment. If the first reading is wrong, void it and record the right value at another moment (e.g. one second later).';
END
$fn$;
COMMENT ON FUNCTION leasemgr.record_reading(bigint, timestamptz, numeric, text, text, text, text) IS
  'Records one reading of a meter register and returns its id. Idempotent: the same (meter, register, read_at, value) again returns the first id and records nothing; another value at the same moment is refused (LM016). Refuses an unknown meter (LM009), a removed or not yet installed meter, an unknown register, a photo reading without photo_sha256, a moment in the future, a negative or non-finite value (LM016). IoT imports can COPY into leasemgr.meter_reading instead: the same rules are checked once per statement.';

-- ---- Consumption ---------------------------------------------------------------------------

CREATE FUNCTION leasemgr.meter_consumption(meter_id bigint, from_ts timestamptz, to_ts timestamptz,
                                           register text DEFAULT 'total', OUT quantity numeric, OUT explain text,
                                           OUT negative_steps integer)
  AS 'MODULE_PATHNAME', 'meter_consumption'
  LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION leasemgr.meter_consumption(bigint, timestamptz, timestamptz, text) IS
  'What one register of a meter measured from from_ts to to_ts, after its multiplier, in its unit (kWh, m3, GJ), with the calculation in words: the readings used, values interpolated by time at a moment between two readings, rollovers, the multiplier. A meter installed or removed in between counts from its first or up to its last reading. quantity is NULL when the readings do not cover the moments yet (the explain text says which is missing). Void readings are skipped. negative_steps counts the readings that went back without a rollover (counted as they are, negative): a figure to look at before billing it.';

-- The operator's days (leasemgr.timezone), for SQL: calling them loads the library, so the
-- setting is there even in a session that has not used leasemgr yet.
CREATE FUNCTION leasemgr.local_date(t timestamptz) RETURNS date
  AS 'MODULE_PATHNAME', 'local_date'
  LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION leasemgr.local_date(timestamptz) IS
  'The day a moment falls on in the operator''s time zone (leasemgr.timezone).';
CREATE FUNCTION leasemgr.local_midnight(d date) RETURNS timestamptz
  AS 'MODULE_PATHNAME', 'local_midnight'
  LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION leasemgr.local_midnight(date) IS
  'The moment a day starts in the operator''s time zone (leasemgr.timezone).';

REVOKE ALL ON FUNCTION leasemgr.local_date(timestamptz), leasemgr.local_midnight(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leasemgr.local_date(timestamptz), leasemgr.local_midnight(date) TO leasemgr_reader;

-- ---- Security, dump -------------------------------------------------------------------------

DO $scope$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['meter', 'meter_reading', 'metering_policy', 'work_order']
  LOOP
    EXECUTE pg_catalog.format('ALTER TABLE leasemgr.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE pg_catalog.format('CREATE POLICY park_scope ON leasemgr.%I USING ((SELECT leasemgr.sees_all_parks()) '
                              'OR park_id OPERATOR(pg_catalog.=) ANY ((SELECT leasemgr.visible_parks())::bigint[]))', t);
    EXECUTE pg_catalog.format('COMMENT ON POLICY park_scope ON leasemgr.%I IS %L', t,
                              'Rows of the parks granted to the role (leasemgr.grant_park); every park for leasemgr_admin.');
    -- Audited and never truncated; readings are audited on UPDATE only (above): an IoT load
    -- is its own record of who sent what.
    IF t OPERATOR(pg_catalog.<>) 'meter_reading' THEN
      EXECUTE pg_catalog.format('CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON leasemgr.%I '
                                'FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row()', t);
      EXECUTE pg_catalog.format('CREATE TRIGGER truncate_guard BEFORE TRUNCATE ON leasemgr.%I '
                                'FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.truncate_guard()', t);
    END IF;
  END LOOP;
END
$scope$;


REVOKE ALL ON leasemgr.meter, leasemgr.meter_reading, leasemgr.meter_reading_default, leasemgr.metering_policy,
  leasemgr.work_order FROM PUBLIC;
GRANT SELECT ON leasemgr.meter, leasemgr.meter_reading, leasemgr.metering_policy, leasemgr.work_order TO leasemgr_reader;
GRANT INSERT, UPDATE, DELETE ON leasemgr.meter TO leasemgr_operator;
-- Operators write the reading, never its id, stamps or void (those are filled in or voided later).
GRANT INSERT (park_id, meter_id, register, read_at, value, source, photo_sha256, device),
  UPDATE (voided_at, void_reason) ON leasemgr.meter_reading TO leasemgr_operator;
GRANT INSERT, UPDATE ON leasemgr.work_order TO leasemgr_operator, leasemgr_finance;
GRANT INSERT, UPDATE, DELETE ON leasemgr.metering_policy TO leasemgr_admin;
GRANT USAGE ON SEQUENCE leasemgr.meter_reading_id_seq TO leasemgr_operator;
REVOKE ALL ON FUNCTION leasemgr.work_order_before_write() FROM PUBLIC;
REVOKE ALL ON FUNCTION leasemgr.owner_copy(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leasemgr.owner_copy(regclass) TO leasemgr_reader;
REVOKE ALL ON FUNCTION leasemgr.meter_before_write(), leasemgr.reading_refusal(leasemgr.meter_reading, leasemgr.meter),
  leasemgr.meter_reading_check(), leasemgr.meter_reading_before_change(),
  leasemgr.meter_reading_partitions(date, date),
  leasemgr.record_reading(bigint, timestamptz, numeric, text, text, text, text),
  leasemgr.metering_policy_of(bigint), leasemgr.meter_consumption(bigint, timestamptz, timestamptz, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leasemgr.meter_reading_partitions(date, date) TO leasemgr_admin;
GRANT EXECUTE ON FUNCTION leasemgr.reading_refusal(leasemgr.meter_reading, leasemgr.meter),
  leasemgr.record_reading(bigint, timestamptz, numeric, text, text, text, text) TO leasemgr_operator;
GRANT EXECUTE ON FUNCTION leasemgr.metering_policy_of(bigint),
  leasemgr.meter_consumption(bigint, timestamptz, timestamptz, text) TO leasemgr_reader;

SELECT pg_catalog.pg_extension_config_dump('leasemgr.meter', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.meter_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.meter_reading_default', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.meter_reading_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.metering_policy', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.work_order', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.work_order_id_seq', '');
