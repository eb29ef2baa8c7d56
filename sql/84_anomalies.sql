-- Anomalies of meter readings: what leasemgr.detect_anomalies (C, src/anomaly.c) finds, and
-- what engineering decides about it. docs/metering.md is the design.

CREATE TABLE leasemgr.anomaly (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  park_id     bigint NOT NULL,
  meter_id    bigint NOT NULL,
  register    text NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('spike', 'negative', 'stuck', 'gap', 'lag', 'bounds')),
  during      tstzrange NOT NULL CHECK (NOT pg_catalog.isempty(during) AND NOT pg_catalog.lower_inf(during)
                                        AND NOT pg_catalog.upper_inf(during)),
  observed    numeric(18,3) NOT NULL,
  baseline    numeric(18,3),
  ratio       numeric(12,2),
  state       text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'confirmed', 'dismissed')),
  detected_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
  decided_at  timestamptz,
  decided_by  text,
  note        text,
  CONSTRAINT anomaly_once UNIQUE (meter_id, register, kind, during),
  CONSTRAINT anomaly_key UNIQUE (id, park_id),
  CONSTRAINT anomaly_decided CHECK ((state = 'open') = (decided_at IS NULL) AND (decided_at IS NULL) = (decided_by IS NULL)),
  CONSTRAINT anomaly_meter_fk FOREIGN KEY (meter_id, park_id) REFERENCES leasemgr.meter (id, park_id)
);
CREATE INDEX anomaly_park_state_idx ON leasemgr.anomaly (park_id, state);
CREATE INDEX anomaly_meter_during_idx ON leasemgr.anomaly USING gist (meter_id, during);
COMMENT ON TABLE leasemgr.anomaly IS
  'A suspicious stretch of a meter register''s readings (异常): a spike, a negative step, a stuck meter, a gap, late readings or a day beyond the meter''s physical bound. Found by leasemgr.detect_anomalies (once: detecting again finds the same row), decided by engineering with leasemgr.decide_anomaly, once. An open spike, negative or bounds anomaly holds the metered bill lines of the days it touches; confirming one says the readings are wrong, to be voided or corrected.';
COMMENT ON CONSTRAINT anomaly_once ON leasemgr.anomaly IS 'One anomaly per meter register, kind and time range: detection is idempotent.';
COMMENT ON COLUMN leasemgr.anomaly.id IS 'Anomaly identifier.';
COMMENT ON COLUMN leasemgr.anomaly.park_id IS 'The park of the meter.';
COMMENT ON COLUMN leasemgr.anomaly.meter_id IS 'The meter.';
COMMENT ON COLUMN leasemgr.anomaly.register IS 'The register (total, peak, ...).';
COMMENT ON COLUMN leasemgr.anomaly.kind IS
  'spike (a day above spike_ratio x the median of the days before), negative (the register went back without a rollover), stuck (zero for stuck_days days running on a leased unit), gap (no reading for gap_days), lag (readings recorded lag_days or more after they were read), bounds (a day above the meter''s max_daily).';
COMMENT ON COLUMN leasemgr.anomaly.during IS 'The time range concerned: the day(s) for spike, stuck and bounds; the two readings for negative and gap; the late readings for lag.';
COMMENT ON COLUMN leasemgr.anomaly.observed IS 'What was seen: the day''s consumption (spike, bounds, stuck: 0), the step (negative), the days without a reading (gap), the longest lag in days (lag).';
COMMENT ON COLUMN leasemgr.anomaly.baseline IS 'What was expected: the median daily consumption before (spike, stuck), max_daily (bounds), the threshold in days (gap, lag); NULL when there is none.';
COMMENT ON COLUMN leasemgr.anomaly.ratio IS 'observed / baseline, 2 decimals (e.g. 4.12 for a day at 4.12 times the usual); NULL without a baseline.';
COMMENT ON COLUMN leasemgr.anomaly.state IS 'open (to inspect), confirmed (real: the meter or the readings are wrong) or dismissed (the consumption is real).';
COMMENT ON COLUMN leasemgr.anomaly.detected_at IS 'When detection found it.';
COMMENT ON COLUMN leasemgr.anomaly.decided_at IS 'When it was confirmed or dismissed.';
COMMENT ON COLUMN leasemgr.anomaly.decided_by IS 'Who decided.';
COMMENT ON COLUMN leasemgr.anomaly.note IS 'What engineering found.';

ALTER TABLE leasemgr.work_order
  ADD CONSTRAINT work_order_anomaly_fk FOREIGN KEY (anomaly_id, park_id) REFERENCES leasemgr.anomaly (id, park_id);

CREATE FUNCTION leasemgr.detect_anomalies(park_id bigint, from_ts timestamptz, to_ts timestamptz)
  RETURNS TABLE (kind text, detected integer, opened integer)
  AS 'MODULE_PATHNAME', 'detect_anomalies'
  LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION leasemgr.detect_anomalies(bigint, timestamptz, timestamptz) IS
  'Looks at every register of every meter of the park over the days from from_ts to to_ts (whole days in leasemgr.timezone, with the baseline days before them) and writes what it finds to leasemgr.anomaly: spikes, negative steps, stuck meters, gaps, late readings and days beyond a meter''s bound, with the park''s thresholds (leasemgr.metering_policy). Idempotent: an anomaly found again is not written twice. Spike, negative and bounds anomalies open a work order. Returns, per kind, how many were detected and how many of those are new.';

CREATE FUNCTION leasemgr.decide_anomaly(anomaly_id bigint, decision text, note text DEFAULT NULL) RETURNS text
  LANGUAGE plpgsql SECURITY INVOKER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
DECLARE
  v leasemgr.anomaly;
BEGIN
  IF decision IS NULL OR decision OPERATOR(pg_catalog.<>) ALL (ARRAY['confirmed', 'dismissed']) THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = pg_catalog.format('"%s" is not a decision on an anomaly', decision),
      DETAIL = 'An anomaly is confirmed (the readings or the meter are wrong) or dismissed (the consumption is real).',
      HINT = 'Pass ''confirmed'' or ''dismissed''.';
  END IF;
  SELECT * INTO v FROM leasemgr.anomaly a WHERE a.id OPERATOR(pg_catalog.=) anomaly_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'LM009',
      MESSAGE = pg_catalog.format('anomaly %s does not exist', anomaly_id),
      HINT = 'Check the id; rows of parks you have not been granted are not visible to you.';
  END IF;
  IF v.state OPERATOR(pg_catalog.<>) 'open' THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = pg_catalog.format('anomaly %s was already %s', anomaly_id, v.state),
      DETAIL = pg_catalog.format('%s decided it at %s.', v.decided_by, v.decided_at),
      HINT = 'A decision is final; record what changed in a note on the work order.';
  END IF;
  UPDATE leasemgr.anomaly a SET state = decision, decided_at = pg_catalog.now(), decided_by = leasemgr.current_actor(),
                                note = COALESCE(decide_anomaly.note, a.note)
   WHERE a.id OPERATOR(pg_catalog.=) anomaly_id;
  UPDATE leasemgr.work_order w SET state = 'done', closed_at = pg_catalog.now(), closed_by = leasemgr.current_actor(),
                                   note = COALESCE(w.note, pg_catalog.format('anomaly %s', decision))
   WHERE w.anomaly_id OPERATOR(pg_catalog.=) decide_anomaly.anomaly_id AND w.state OPERATOR(pg_catalog.=) 'open';
  RETURN decision;
END
$fn$;
COMMENT ON FUNCTION leasemgr.decide_anomaly(bigint, text, text) IS
  'Engineering''s decision on an open anomaly: confirmed (the meter or its readings are wrong: void or correct them) or dismissed (the consumption is real: the held metered lines are billed with the real figure by the next bill run). Closes its work order. A decision is made once (LM011).';

CREATE FUNCTION leasemgr.anomaly_before_write() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION USING ERRCODE = 'LM010',
      MESSAGE = 'anomalies are never deleted',
      DETAIL = pg_catalog.format('Anomaly %s (%s of meter %s).', OLD.id, OLD.kind, OLD.meter_id),
      HINT = 'Decide it with leasemgr.decide_anomaly: dismissed when the consumption is real.';
  END IF;
  IF TG_OP = 'INSERT' AND leasemgr.owner_copy(TG_RELID) THEN
    RETURN NEW;  -- a restore: the anomaly as it was dumped, decided or not
  END IF;
  IF TG_OP = 'INSERT' THEN
    -- found, not decided: a decision is made by a person, afterwards
    IF NEW.state OPERATOR(pg_catalog.<>) 'open' OR NEW.decided_at IS NOT NULL OR NEW.decided_by IS NOT NULL THEN
      RAISE EXCEPTION USING ERRCODE = 'LM010',
        MESSAGE = 'an anomaly is recorded open',
        DETAIL = pg_catalog.format('This one says %s, decided by %s.', NEW.state, COALESCE(NEW.decided_by, '(nobody)')),
        HINT = 'Record it open, then decide it with leasemgr.decide_anomaly.';
    END IF;
    NEW.detected_at := pg_catalog.now();
    RETURN NEW;
  END IF;
  IF OLD.state OPERATOR(pg_catalog.<>) 'open' OR NEW.state OPERATOR(pg_catalog.=) 'open'
     OR (NEW.id, NEW.park_id, NEW.meter_id, NEW.register, NEW.kind, NEW.during, NEW.observed, NEW.baseline, NEW.ratio,
         NEW.detected_at)
        IS DISTINCT FROM (OLD.id, OLD.park_id, OLD.meter_id, OLD.register, OLD.kind, OLD.during, OLD.observed,
                          OLD.baseline, OLD.ratio, OLD.detected_at) THEN
    RAISE EXCEPTION USING ERRCODE = 'LM010',
      MESSAGE = pg_catalog.format('anomaly %s can only be decided, once', OLD.id),
      DETAIL = pg_catalog.format('It is %s%s.', OLD.state,
                                 COALESCE(' (decided by ' OPERATOR(pg_catalog.||) OLD.decided_by OPERATOR(pg_catalog.||) ')', '')),
      HINT = 'Use leasemgr.decide_anomaly(anomaly_id, ''confirmed'' or ''dismissed'', note) on an open anomaly; what was found stays as found.';
  END IF;
  -- who and when: the person acting, now
  NEW.decided_by := leasemgr.current_actor();
  NEW.decided_at := pg_catalog.now();
  RETURN NEW;
END
$fn$;
COMMENT ON FUNCTION leasemgr.anomaly_before_write() IS
  'Trigger: an anomaly is recorded open (stamped now), decided once (open to confirmed or dismissed, stamped with the person acting and the time, what was found unchanged) and never deleted (SQLSTATE LM010).';
CREATE TRIGGER anomaly_before_write BEFORE INSERT OR UPDATE OR DELETE ON leasemgr.anomaly
  FOR EACH ROW EXECUTE FUNCTION leasemgr.anomaly_before_write();
CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON leasemgr.anomaly
  FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row();
CREATE TRIGGER truncate_guard BEFORE TRUNCATE ON leasemgr.anomaly
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.truncate_guard();
ALTER TABLE leasemgr.anomaly ENABLE ROW LEVEL SECURITY;
CREATE POLICY park_scope ON leasemgr.anomaly USING ((SELECT leasemgr.sees_all_parks())
  OR park_id OPERATOR(pg_catalog.=) ANY ((SELECT leasemgr.visible_parks())::bigint[]));
COMMENT ON POLICY park_scope ON leasemgr.anomaly IS
  'Rows of the parks granted to the role (leasemgr.grant_park); every park for leasemgr_admin.';

REVOKE ALL ON leasemgr.anomaly FROM PUBLIC;
GRANT SELECT ON leasemgr.anomaly TO leasemgr_reader;
GRANT INSERT, UPDATE (state, decided_at, decided_by, note) ON leasemgr.anomaly TO leasemgr_operator;
REVOKE ALL ON FUNCTION leasemgr.anomaly_before_write(), leasemgr.detect_anomalies(bigint, timestamptz, timestamptz),
  leasemgr.decide_anomaly(bigint, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leasemgr.detect_anomalies(bigint, timestamptz, timestamptz),
  leasemgr.decide_anomaly(bigint, text, text) TO leasemgr_operator;

SELECT pg_catalog.pg_extension_config_dump('leasemgr.anomaly', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.anomaly_id_seq', '');
