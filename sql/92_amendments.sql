-- Amendments (补充协议 / 变更单): the only way to change a live lease. Opening one freezes the
-- contract (state amending: no bill run, no dunning, payments wait as credit); approving it by
-- a second person applies every change at once, keeps the terms it replaced as a version, and
-- leaves the re-billing of the periods already billed to leasemgr.rebill (the next bill run
-- calls it). docs/amendments.md is the design.
--
-- The functions below run with SET search_path = pg_catalog, leasemgr, pg_temp: pg_catalog's
-- operators are found first and nobody but the owner creates objects in leasemgr, so their
-- bodies use plain operators.

CREATE TABLE leasemgr.amendment (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  park_id        bigint NOT NULL,
  contract_id    bigint NOT NULL,
  changes        jsonb NOT NULL,
  reason         text NOT NULL CHECK (pg_catalog.btrim(reason) <> ''),
  state          text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'approved', 'withdrawn')),
  effective_from date NOT NULL,
  requested_by   text NOT NULL,
  requested_at   timestamptz NOT NULL,
  decided_by     text,
  decided_at     timestamptz,
  decision_note  text,
  version        integer,
  rebilled_at    timestamptz,
  CONSTRAINT amendment_decided CHECK ((state = 'open') = (decided_at IS NULL)
                                      AND (decided_at IS NULL) = (decided_by IS NULL)),
  CONSTRAINT amendment_version CHECK ((state = 'approved') = (version IS NOT NULL)),
  CONSTRAINT amendment_rebilled CHECK (rebilled_at IS NULL OR state = 'approved'),
  CONSTRAINT amendment_key UNIQUE (id, park_id),
  CONSTRAINT amendment_contract_fk FOREIGN KEY (contract_id, park_id) REFERENCES leasemgr.contract (id, park_id)
);
-- The rule "one open amendment per contract", for every writer.
CREATE UNIQUE INDEX amendment_one_open ON leasemgr.amendment (contract_id) WHERE state = 'open';
CREATE INDEX amendment_contract_idx ON leasemgr.amendment (contract_id, id);
CREATE INDEX amendment_to_rebill ON leasemgr.amendment (park_id, contract_id) WHERE state = 'approved' AND rebilled_at IS NULL;
COMMENT ON TABLE leasemgr.amendment IS
  'An amendment (补充协议 / 变更单) of a live lease: the changes asked for, why, who asked and who decided. While one is open the contract is amending (frozen). Approved changes are applied at once by leasemgr.amendment_approve; nothing else changes a live lease''s terms.';
COMMENT ON INDEX leasemgr.amendment_one_open IS 'A contract has at most one open amendment.';
COMMENT ON COLUMN leasemgr.amendment.id IS 'Amendment identifier.';
COMMENT ON COLUMN leasemgr.amendment.park_id IS 'The park of the contract.';
COMMENT ON COLUMN leasemgr.amendment.contract_id IS 'The contract amended.';
COMMENT ON COLUMN leasemgr.amendment.changes IS
  'What changes, as a JSON object (docs/amendments.md): end_date, free_rent, unit_areas, charge_rates, charge_cycles. Checked when opened and again when approved; never changes.';
COMMENT ON COLUMN leasemgr.amendment.reason IS 'Why, in words (e.g. the supplementary agreement''s number and what it grants).';
COMMENT ON COLUMN leasemgr.amendment.state IS 'open (the contract is frozen), approved (applied) or withdrawn (nothing changed). Decided amendments never change again.';
COMMENT ON COLUMN leasemgr.amendment.effective_from IS 'The first day of the lease the changes touch: bill periods that end before it are not re-billed.';
COMMENT ON COLUMN leasemgr.amendment.requested_by IS 'Stamped: who opened it (leasemgr.actor, else the login).';
COMMENT ON COLUMN leasemgr.amendment.requested_at IS 'Stamped: when.';
COMMENT ON COLUMN leasemgr.amendment.decided_by IS 'Stamped: who approved or withdrew it. An approver is never the requester.';
COMMENT ON COLUMN leasemgr.amendment.decided_at IS 'Stamped: when.';
COMMENT ON COLUMN leasemgr.amendment.decision_note IS 'The note given with the decision.';
COMMENT ON COLUMN leasemgr.amendment.version IS 'Approved: the number under which the terms it replaced are kept in leasemgr.contract_version.';
COMMENT ON COLUMN leasemgr.amendment.rebilled_at IS 'Approved: when leasemgr.rebill issued the adjustments of the periods already billed; NULL while they are still to issue.';

CREATE TABLE leasemgr.contract_version (
  park_id       bigint NOT NULL,
  contract_id   bigint NOT NULL,
  version       integer NOT NULL CHECK (version > 0),
  amendment_id  bigint NOT NULL,
  terms         jsonb NOT NULL,
  replaced_at   timestamptz NOT NULL,
  replaced_by   text NOT NULL,
  PRIMARY KEY (contract_id, version),
  CONSTRAINT contract_version_amendment_once UNIQUE (amendment_id),
  CONSTRAINT contract_version_contract_fk FOREIGN KEY (contract_id, park_id) REFERENCES leasemgr.contract (id, park_id),
  CONSTRAINT contract_version_amendment_fk FOREIGN KEY (amendment_id, park_id) REFERENCES leasemgr.amendment (id, park_id)
);
COMMENT ON TABLE leasemgr.contract_version IS
  'The terms of a contract as they stood before each approved amendment (version 1: as signed), in the shape of leasemgr.contract_terms(). Written by leasemgr.amendment_approve; never changed.';
COMMENT ON COLUMN leasemgr.contract_version.park_id IS 'The park.';
COMMENT ON COLUMN leasemgr.contract_version.contract_id IS 'The contract.';
COMMENT ON COLUMN leasemgr.contract_version.version IS '1, 2, ...: version k is what amendment k of the contract replaced.';
COMMENT ON COLUMN leasemgr.contract_version.amendment_id IS 'The amendment that replaced these terms.';
COMMENT ON COLUMN leasemgr.contract_version.terms IS 'The terms: end date, deposit, units with their billable areas, charges, free-rent periods (leasemgr.contract_terms).';
COMMENT ON COLUMN leasemgr.contract_version.replaced_at IS 'When the amendment was approved.';
COMMENT ON COLUMN leasemgr.contract_version.replaced_by IS 'Who approved it.';

CREATE TABLE leasemgr.unit_area_change (
  park_id        bigint NOT NULL,
  contract_id    bigint NOT NULL,
  unit_id        bigint NOT NULL,
  effective_from date NOT NULL,
  area_before    numeric(12,2) NOT NULL CHECK (area_before > 0),
  area_after     numeric(12,2) NOT NULL CHECK (area_after > 0),
  amendment_id   bigint NOT NULL,
  superseded_by  bigint,
  CONSTRAINT unit_area_change_key UNIQUE (contract_id, unit_id, effective_from, amendment_id),
  CONSTRAINT unit_area_change_contract_fk FOREIGN KEY (contract_id, park_id) REFERENCES leasemgr.contract (id, park_id),
  CONSTRAINT unit_area_change_amendment_fk FOREIGN KEY (amendment_id, park_id) REFERENCES leasemgr.amendment (id, park_id)
);
CREATE INDEX unit_area_change_lookup ON leasemgr.unit_area_change (contract_id, unit_id, effective_from)
  WHERE superseded_by IS NULL;
COMMENT ON TABLE leasemgr.unit_area_change IS
  'Billable areas changed by amendments, from a day: the area of a unit of a contract on a day is area_before of the first change after that day that is not superseded, else contract_unit.billable_area_m2. The rent roll of an earlier day reads it.';
COMMENT ON COLUMN leasemgr.unit_area_change.park_id IS 'The park.';
COMMENT ON COLUMN leasemgr.unit_area_change.contract_id IS 'The contract.';
COMMENT ON COLUMN leasemgr.unit_area_change.unit_id IS 'The unit.';
COMMENT ON COLUMN leasemgr.unit_area_change.effective_from IS 'First day of the new area.';
COMMENT ON COLUMN leasemgr.unit_area_change.area_before IS 'The area the day before, m².';
COMMENT ON COLUMN leasemgr.unit_area_change.area_after IS 'The area from effective_from to the end of the lease (unless a later change says otherwise), m².';
COMMENT ON COLUMN leasemgr.unit_area_change.amendment_id IS 'The amendment that made the change.';
COMMENT ON COLUMN leasemgr.unit_area_change.superseded_by IS 'A later amendment that changed the area from an earlier or the same day: this change no longer applies.';

-- ---- reading the terms ----------------------------------------------------------------------

CREATE FUNCTION leasemgr.contract_terms(contract_id bigint) RETURNS jsonb
  LANGUAGE sql STABLE STRICT
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
  SELECT jsonb_build_object(
           'contract_id', c.id, 'code', c.code, 'state', c.state,
           'start_date', c.start_date, 'end_date', c.end_date, 'deposit_amount', c.deposit_amount,
           'units', COALESCE((SELECT jsonb_agg(jsonb_build_object('unit_id', cu.unit_id, 'unit_code', u.code,
                                                                 'billable_area_m2', cu.billable_area_m2)
                                               || jsonb_strip_nulls(jsonb_build_object('held_from', cu.held_from,
                                                                                       'held_to', cu.held_to))
                                               ORDER BY cu.unit_id)
                                FROM contract_unit cu JOIN unit u ON u.id = cu.unit_id
                               WHERE cu.contract_id = c.id), '[]'),
           'charges', COALESCE((SELECT jsonb_agg(to_jsonb(ch) - 'park_id' - 'contract_id' ORDER BY ch.id)
                                  FROM charge ch WHERE ch.contract_id = c.id), '[]'),
           'free_rent', COALESCE((SELECT jsonb_agg(jsonb_build_object('from', lower(f.days), 'to', upper(f.days) - 1,
                                                                     'kinds', f.kinds, 'note', f.note)
                                                   ORDER BY lower(f.days))
                                    FROM free_rent_period f WHERE f.contract_id = c.id), '[]'))
    FROM contract c WHERE c.id = contract_terms.contract_id
$fn$;
COMMENT ON FUNCTION leasemgr.contract_terms(bigint) IS
  'A contract''s terms now, as one JSON object: dates, deposit, units with their billable areas (and held_from, held_to for a unit added or handed back during the lease), every charge (all its columns) and the free-rent periods. leasemgr.contract_version keeps the same object for every set of terms an amendment replaced.';

-- The area of a contract on a day: each unit held that day at its area then
-- (leasemgr.unit_area_change), summed.
CREATE FUNCTION leasemgr.contract_area_on(contract_id bigint, day date) RETURNS numeric
  LANGUAGE sql STABLE STRICT
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
  SELECT COALESCE(sum(COALESCE((SELECT h.area_before FROM unit_area_change h
                                 WHERE h.contract_id = cu.contract_id AND h.unit_id = cu.unit_id
                                   AND h.effective_from > contract_area_on.day AND h.superseded_by IS NULL
                                 ORDER BY h.effective_from LIMIT 1), cu.billable_area_m2)), 0)
    FROM contract_unit cu
   WHERE cu.contract_id = contract_area_on.contract_id AND cu.held_range @> contract_area_on.day
$fn$;
COMMENT ON FUNCTION leasemgr.contract_area_on(bigint, date) IS
  'The billable area of a contract on a day, m²: the sum of the areas of the units it holds that day, as they were that day (amendments that changed an area from a later day taken back; units added later or handed back earlier left out).';

-- ---- checking the changes (LM020) -----------------------------------------------------------

-- A date from the changes, or LM020 naming where it was.
CREATE FUNCTION leasemgr.amendment_date(value jsonb, what text) RETURNS date
  LANGUAGE plpgsql IMMUTABLE
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  v date;
BEGIN
  IF value IS NULL OR jsonb_typeof(value) <> 'string' THEN
    RAISE EXCEPTION USING ERRCODE = 'LM020',
      MESSAGE = format('amendment: %s must be a date', what),
      DETAIL = format('It is %s.', COALESCE(value::text, 'missing')),
      HINT = 'Write dates as "YYYY-MM-DD" strings.';
  END IF;
  BEGIN
    v := (value #>> '{}')::date;
  EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow THEN
    RAISE EXCEPTION USING ERRCODE = 'LM020',
      MESSAGE = format('amendment: %s must be a date', what),
      DETAIL = format('%s is not a date.', value),
      HINT = 'Write dates as "YYYY-MM-DD" strings.';
  END;
  IF NOT isfinite(v) THEN
    RAISE EXCEPTION USING ERRCODE = 'LM020',
      MESSAGE = format('amendment: %s must be a finite date', what),
      HINT = 'Write dates as "YYYY-MM-DD" strings.';
  END IF;
  RETURN v;
END
$fn$;
COMMENT ON FUNCTION leasemgr.amendment_date(jsonb, text) IS
  'Internal: a date of an amendment''s changes, or SQLSTATE LM020 naming the field.';

-- A positive amount from the changes with at most `scale` decimals, or LM020.
CREATE FUNCTION leasemgr.amendment_amount(value jsonb, what text, scale integer, max_digits integer)
  RETURNS numeric
  LANGUAGE plpgsql IMMUTABLE
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  v numeric;
BEGIN
  IF value IS NULL OR jsonb_typeof(value) NOT IN ('number', 'string') THEN
    RAISE EXCEPTION USING ERRCODE = 'LM020',
      MESSAGE = format('amendment: %s must be a number', what),
      DETAIL = format('It is %s.', COALESCE(value::text, 'missing')),
      HINT = 'Give a positive number.';
  END IF;
  BEGIN
    v := (value #>> '{}')::numeric;
  EXCEPTION WHEN invalid_text_representation THEN
    RAISE EXCEPTION USING ERRCODE = 'LM020',
      MESSAGE = format('amendment: %s must be a number', what),
      DETAIL = format('%s is not a number.', value),
      HINT = 'Give a positive number.';
  END;
  IF v <= 0 OR v <> round(v, scale) OR v >= 10::numeric ^ (max_digits - scale) OR v = 'NaN' THEN
    RAISE EXCEPTION USING ERRCODE = 'LM020',
      MESSAGE = format('amendment: %s must be positive with at most %s decimals', what, scale),
      DETAIL = format('It is %s.', v),
      HINT = format('Give a number above 0 and below %s, with at most %s decimals.', 10::numeric ^ (max_digits - scale), scale);
  END IF;
  RETURN v;
END
$fn$;
COMMENT ON FUNCTION leasemgr.amendment_amount(jsonb, text, integer, integer) IS
  'Internal: a positive number of an amendment''s changes with at most scale decimals, or SQLSTATE LM020.';

-- The unit an entry of unit_areas, add_units or remove_units names, once per amendment, or LM020.
CREATE FUNCTION leasemgr.amendment_unit(code text, list text, entry jsonb, seen bigint[]) RETURNS bigint
  LANGUAGE plpgsql IMMUTABLE
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
BEGIN
  IF jsonb_typeof(entry -> 'unit_id') IS DISTINCT FROM 'number' OR (entry ->> 'unit_id') !~ '^[0-9]{1,18}$' THEN
    RAISE EXCEPTION USING ERRCODE = 'LM020',
      MESSAGE = format('amendment of contract %s: %s.unit_id must be a unit id', code, list),
      DETAIL = format('The entry is %s.', entry),
      HINT = CASE list WHEN 'add_units' THEN 'Give the id of a unit of the park.' ELSE 'Give the id of a unit of the contract.' END;
  END IF;
  IF (entry ->> 'unit_id')::bigint = ANY (seen) THEN
    RAISE EXCEPTION USING ERRCODE = 'LM020',
      MESSAGE = format('amendment of contract %s: unit %s is listed twice', code, entry ->> 'unit_id'),
      DETAIL = 'unit_areas, add_units and remove_units name it more than once.',
      HINT = 'One change per unit and amendment: an area, an addition or a hand-back.';
  END IF;
  RETURN (entry ->> 'unit_id')::bigint;
END
$fn$;
COMMENT ON FUNCTION leasemgr.amendment_unit(text, text, jsonb, bigint[]) IS
  'Internal: the unit id of an entry of an amendment''s unit lists, not named by an earlier entry (seen), or SQLSTATE LM020.';

-- The objects of one list of the changes, or LM020.
CREATE FUNCTION leasemgr.amendment_list(changes jsonb, key text, fields text[]) RETURNS SETOF jsonb
  LANGUAGE plpgsql IMMUTABLE
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  e jsonb;
  v_bad text;
BEGIN
  IF NOT changes ? key THEN
    RETURN;
  END IF;
  IF jsonb_typeof(changes -> key) <> 'array' OR jsonb_array_length(changes -> key) = 0 THEN
    RAISE EXCEPTION USING ERRCODE = 'LM020',
      MESSAGE = format('amendment: %s must be a non-empty list', key),
      DETAIL = format('It is %s.', changes -> key),
      HINT = format('Write "%s": [{%s}, ...].', key, array_to_string(fields, ', '));
  END IF;
  FOR e IN SELECT * FROM jsonb_array_elements(changes -> key) LOOP
    IF jsonb_typeof(e) <> 'object' THEN
      RAISE EXCEPTION USING ERRCODE = 'LM020',
        MESSAGE = format('amendment: every entry of %s must be an object', key),
        DETAIL = format('%s is not.', e),
        HINT = format('Write "%s": [{%s}, ...].', key, array_to_string(fields, ', '));
    END IF;
    SELECT string_agg(k, ', ' ORDER BY k) INTO v_bad FROM jsonb_object_keys(e) k WHERE k <> ALL (fields);
    IF v_bad IS NOT NULL THEN
      RAISE EXCEPTION USING ERRCODE = 'LM020',
        MESSAGE = format('amendment: unknown field %s in %s', v_bad, key),
        DETAIL = format('The entry is %s.', e),
        HINT = format('An entry of %s has the fields %s.', key, array_to_string(fields, ', '));
    END IF;
    RETURN NEXT e;
  END LOOP;
END
$fn$;
COMMENT ON FUNCTION leasemgr.amendment_list(jsonb, text, text[]) IS
  'Internal: the entries of one list of an amendment''s changes, each an object with known fields only, or SQLSTATE LM020.';

-- The charge of the same line of the lease (a charge and its continuations) in force on a day.
CREATE FUNCTION leasemgr.charge_on(charge_id bigint, day date) RETURNS bigint
  LANGUAGE sql STABLE STRICT
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
  WITH RECURSIVE line AS (
    SELECT ch.id FROM charge ch WHERE ch.id = charge_on.charge_id
    UNION
    SELECT n.id FROM charge n JOIN line l ON n.continues_charge_id = l.id)
  SELECT ch.id FROM charge ch JOIN line l ON l.id = ch.id
   WHERE charge_on.day BETWEEN ch.valid_from AND ch.valid_to
$fn$;
COMMENT ON FUNCTION leasemgr.charge_on(bigint, date) IS
  'The charge in force on a day among a charge and the continuations amendments made of it (continues_charge_id); NULL when none is.';

-- The last day already billed of a charge: the end of its last charge line.
CREATE FUNCTION leasemgr.charge_billed_through(charge_id bigint) RETURNS date
  LANGUAGE sql STABLE STRICT
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
  SELECT max(bl.period_end) FROM bill_line bl
   WHERE bl.charge_id = charge_billed_through.charge_id AND bl.line_type = 'charge'
$fn$;
COMMENT ON FUNCTION leasemgr.charge_billed_through(bigint) IS
  'The last day of a charge that a bill run has billed (the end of its last charge line); NULL when none.';

-- The metered charge of a contract, fed by a meter of the unit, billed furthest on or after a
-- day: a unit added or handed back from that day would change consumption already billed.
CREATE FUNCTION leasemgr.amendment_metered_billed(contract_id bigint, unit_id bigint, day date)
  RETURNS TABLE (id bigint, meter_kind text, through date)
  LANGUAGE sql STABLE STRICT
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
  SELECT ch.id, ch.meter_kind, charge_billed_through(ch.id)
    FROM charge ch
   WHERE ch.contract_id = amendment_metered_billed.contract_id AND ch.basis = 'metered'
     AND charge_billed_through(ch.id) >= amendment_metered_billed.day
     AND EXISTS (SELECT FROM meter m WHERE m.unit_id = amendment_metered_billed.unit_id AND m.kind = ch.meter_kind)
   ORDER BY 3 DESC LIMIT 1
$fn$;
COMMENT ON FUNCTION leasemgr.amendment_metered_billed(bigint, bigint, date) IS
  'Internal to amendment_check: the metered charge of the contract that a meter of the unit feeds, billed on or after the day (the furthest billed first); no row when none.';

-- A unit added or handed back from a day changes who pays the allocations by area, power,
-- heads or sub-meter of every rule whose scope holds it: refused into a month already billed,
-- whose shares are final.
CREATE FUNCTION leasemgr.amendment_allocations_open(code text, unit_code text, unit_id bigint, day date, what text)
  RETURNS void
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  r record;
BEGIN
  SELECT ar.name, max(s.month) AS month INTO r
    FROM unit u
    JOIN allocation_rule ar ON ar.park_id = u.park_id AND ar.method <> 'fixed_share'
     AND (ar.scope = 'park' OR (ar.scope_building_id = u.building_id AND (ar.scope = 'building' OR ar.scope_floor = u.floor)))
    JOIN allocation_share s ON s.rule_id = ar.id
   WHERE u.id = amendment_allocations_open.unit_id
     AND (s.month + interval '1 month')::date > amendment_allocations_open.day
     AND EXISTS (SELECT FROM bill_line l WHERE l.allocation_share_id = s.id)
   GROUP BY ar.id, ar.name ORDER BY max(s.month) DESC, ar.name LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'LM020',
      MESSAGE = format('amendment of contract %s: unit %s cannot be %s', code, unit_code, what),
      DETAIL = format('The shares of allocation rule "%s" are billed for %s; billed shares are final.', r.name, to_char(r.month, 'YYYY-MM')),
      HINT = format('Give a day from %s on.', (r.month + interval '1 month')::date);
  END IF;
END
$fn$;
COMMENT ON FUNCTION leasemgr.amendment_allocations_open(text, text, bigint, date, text) IS
  'Internal to amendment_check: LM020 when a unit added or handed back from a day would change an allocation month already billed.';

CREATE FUNCTION leasemgr.amendment_check(contract_id bigint, changes jsonb) RETURNS date
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  c record;
  e jsonb;
  r record;
  v_keys constant text[] := '{end_date,free_rent,unit_areas,add_units,remove_units,charge_rates,charge_cycles}';
  v_bad text;
  v_end date;
  v_from date;
  v_to date;
  v_eff date;
  v_day date := business_date();
  v_kinds text[];
  v_id bigint;
  v_seen bigint[] := '{}';
  v_num numeric;
  v_charge record;
  v_ranges daterange[] := '{}';
  v_removed bigint[];
  v_gap datemultirange;
  v_hole daterange;
  v_proj_units bigint[];
  v_proj_days daterange[];
BEGIN
  SELECT k.id, k.code, k.park_id, k.state, k.start_date, k.end_date, k.terminated_on INTO c
    FROM contract k WHERE k.id = amendment_check.contract_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'LM009',
      MESSAGE = format('contract %s does not exist', amendment_check.contract_id),
      HINT = 'Check the id; rows of parks you have not been granted are not visible to you.';
  END IF;
  IF changes IS NULL OR jsonb_typeof(changes) <> 'object' OR changes = '{}' THEN
    RAISE EXCEPTION USING ERRCODE = 'LM020',
      MESSAGE = format('amendment of contract %s changes nothing', c.code),
      DETAIL = format('changes is %s.', COALESCE(changes::text, 'NULL')),
      HINT = format('Give a JSON object with one or more of %s (docs/amendments.md).', array_to_string(v_keys, ', '));
  END IF;
  SELECT string_agg(k, ', ' ORDER BY k) INTO v_bad FROM jsonb_object_keys(changes) k WHERE k <> ALL (v_keys);
  IF v_bad IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LM020',
      MESSAGE = format('amendment of contract %s: unknown change %s', c.code, v_bad),
      DETAIL = format('An amendment changes %s; nothing else.', array_to_string(v_keys, ', ')),
      HINT = 'Check the spelling; docs/amendments.md lists every change and its fields.';
  END IF;

  -- The units handed back now (remove_units, checked below): they do not follow an extension.
  SELECT COALESCE(array_agg((x ->> 'unit_id')::bigint), '{}') INTO v_removed
    FROM amendment_list(changes, 'remove_units', '{unit_id,last_day}') x
   WHERE (x ->> 'unit_id') ~ '^[0-9]{1,18}$';

  -- end_date: extend, or shorten to a day not before today.
  v_end := c.end_date;
  IF changes ? 'end_date' THEN
    v_end := amendment_date(changes -> 'end_date', 'end_date');
    IF v_end = c.end_date THEN
      RAISE EXCEPTION USING ERRCODE = 'LM020',
        MESSAGE = format('amendment of contract %s: end_date is already %s', c.code, v_end),
        HINT = 'Leave end_date out, or give another day.';
    END IF;
    IF v_end < c.start_date OR v_end < v_day THEN
      RAISE EXCEPTION USING ERRCODE = 'LM020',
        MESSAGE = format('amendment of contract %s: the lease cannot end on %s', c.code, v_end),
        DETAIL = format('The lease started on %s; today is %s. An amendment moves the end to today or later.', c.start_date, v_day),
        HINT = 'To end a lease early, terminate it: leasemgr.contract_transition(id, ''terminate'', note, last_day).';
    END IF;
    SELECT ch.id, ch.kind, ch.valid_from INTO v_charge FROM charge ch
     WHERE ch.contract_id = c.id AND ch.valid_from > v_end ORDER BY ch.valid_from LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'LM020',
        MESSAGE = format('amendment of contract %s: charge %s starts after the new end', c.code, v_charge.id),
        DETAIL = format('The %s charge %s starts on %s; the lease would end on %s.', v_charge.kind, v_charge.id, v_charge.valid_from, v_end),
        HINT = 'End the lease on or after the first day of every charge.';
    END IF;
    IF v_end > c.end_date THEN
      -- the extension must find every unit held to the end free (the exclusion constraint
      -- would say so too); a unit handed back earlier stays handed back
      SELECT o.code AS other, u.code AS unit, lower(x.held_range) AS first_day, upper(x.held_range) - 1 AS last_day INTO r
        FROM contract_unit cu
        JOIN contract_unit x ON x.unit_id = cu.unit_id AND x.contract_id <> cu.contract_id AND x.is_live
        JOIN contract o ON o.id = x.contract_id
        JOIN unit u ON u.id = cu.unit_id
       WHERE cu.contract_id = c.id AND cu.held_to IS NULL AND cu.unit_id <> ALL (v_removed)
         AND x.held_range && daterange(c.end_date + 1, v_end, '[]')
       ORDER BY lower(x.held_range) LIMIT 1;
      IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'LM006',
          MESSAGE = format('amendment of contract %s: unit %s is not free until %s', c.code, r.unit, v_end),
          DETAIL = format('Contract %s holds unit %s from %s to %s.', r.other, r.unit, r.first_day, r.last_day),
          HINT = 'Extend the lease to the day before the other lease starts at the latest.';
      END IF;
    END IF;
    SELECT u.code, cu.held_from INTO r FROM contract_unit cu JOIN unit u ON u.id = cu.unit_id
     WHERE cu.contract_id = c.id AND cu.held_from > v_end ORDER BY cu.held_from LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'LM020',
        MESSAGE = format('amendment of contract %s: unit %s is added from %s, after the new end', c.code, r.code, r.held_from),
        DETAIL = format('The lease would end on %s.', v_end),
        HINT = 'End the lease on or after the first day of every unit it adds.';
    END IF;
    v_eff := LEAST(c.end_date, v_end) + 1;
  END IF;

  -- free_rent: new periods within the (new) lease, not overlapping each other or existing ones.
  FOR e IN SELECT * FROM amendment_list(changes, 'free_rent', '{from,to,kinds,note}') LOOP
    v_from := amendment_date(e -> 'from', 'free_rent.from');
    v_to := amendment_date(e -> 'to', 'free_rent.to');
    IF v_to < v_from OR v_from < c.start_date OR v_to > v_end THEN
      RAISE EXCEPTION USING ERRCODE = 'LM020',
        MESSAGE = format('amendment of contract %s: free rent %s..%s is not within the lease', c.code, v_from, v_to),
        DETAIL = format('The lease runs from %s to %s.', c.start_date, v_end),
        HINT = 'Give from <= to, both within the lease.';
    END IF;
    v_kinds := '{rent}';
    IF e ? 'kinds' THEN
      IF jsonb_typeof(e -> 'kinds') <> 'array' OR jsonb_array_length(e -> 'kinds') = 0
         OR EXISTS (SELECT FROM jsonb_array_elements(e -> 'kinds') k
                     WHERE jsonb_typeof(k) <> 'string'
                        OR k #>> '{}' <> ALL ('{rent,property_fee,service,parking,ac,utility,turnover,other}')) THEN
        RAISE EXCEPTION USING ERRCODE = 'LM020',
          MESSAGE = format('amendment of contract %s: free rent kinds must be charge kinds', c.code),
          DETAIL = format('kinds is %s.', e -> 'kinds'),
          HINT = 'A list of rent, property_fee, service, parking, ac, utility, turnover, other; default ["rent"].';
      END IF;
      SELECT array_agg(k ORDER BY k) INTO v_kinds FROM jsonb_array_elements_text(e -> 'kinds') k;
    END IF;
    IF e ? 'note' AND jsonb_typeof(e -> 'note') <> 'string' THEN
      RAISE EXCEPTION USING ERRCODE = 'LM020',
        MESSAGE = format('amendment of contract %s: a free rent note is text', c.code),
        HINT = 'Give the note as a string.';
    END IF;
    SELECT lower(f.days) AS lo, upper(f.days) - 1 AS hi INTO r FROM free_rent_period f
     WHERE f.contract_id = c.id AND f.days && daterange(v_from, v_to, '[]') LIMIT 1;
    IF FOUND OR daterange(v_from, v_to, '[]') && ANY (v_ranges) THEN
      RAISE EXCEPTION USING ERRCODE = 'LM020',
        MESSAGE = format('amendment of contract %s: free rent %s..%s overlaps another free-rent period', c.code, v_from, v_to),
        DETAIL = CASE WHEN r.lo IS NOT NULL THEN format('The contract is already free from %s to %s.', r.lo, r.hi)
                      ELSE 'Two periods of the amendment overlap.' END,
        HINT = 'Add only the days that are not free yet.';
    END IF;
    v_ranges := v_ranges || daterange(v_from, v_to, '[]');
    v_eff := LEAST(v_eff, v_from);
  END LOOP;

  -- unit_areas: a unit of the contract, a new area from a day within the lease.
  FOR e IN SELECT * FROM amendment_list(changes, 'unit_areas', '{unit_id,billable_area_m2,from}') LOOP
    v_id := amendment_unit(c.code, 'unit_areas', e, v_seen);
    v_seen := v_seen || v_id;
    v_num := amendment_amount(e -> 'billable_area_m2', 'unit_areas.billable_area_m2', 2, 12);
    v_from := amendment_date(e -> 'from', 'unit_areas.from');
    SELECT cu.billable_area_m2 AS area, u.code, COALESCE(cu.held_from, c.start_date) AS first_day,
           COALESCE(cu.held_to, v_end) AS last_day INTO r
      FROM contract_unit cu JOIN unit u ON u.id = cu.unit_id
     WHERE cu.contract_id = c.id AND cu.unit_id = v_id;
    IF NOT FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'LM020',
        MESSAGE = format('amendment of contract %s: unit %s is not leased by it', c.code, v_id),
        DETAIL = format('Contract %s leases %s.', c.code,
                        (SELECT string_agg(u.code, ', ' ORDER BY u.code) FROM contract_unit cu JOIN unit u ON u.id = cu.unit_id
                          WHERE cu.contract_id = c.id)),
        HINT = 'Name a unit of the contract (leasemgr.contract_unit).';
    END IF;
    IF v_from < r.first_day OR v_from > r.last_day THEN
      RAISE EXCEPTION USING ERRCODE = 'LM020',
        MESSAGE = format('amendment of contract %s: the area of unit %s cannot change from %s', c.code, r.code, v_from),
        DETAIL = format('The lease holds the unit from %s to %s.', r.first_day, r.last_day),
        HINT = 'Give a day on which the lease holds the unit.';
    END IF;
    v_eff := LEAST(v_eff, v_from);
  END LOOP;

  -- remove_units: a unit held to the end is handed back after its last day.
  FOR e IN SELECT * FROM amendment_list(changes, 'remove_units', '{unit_id,last_day}') LOOP
    v_id := amendment_unit(c.code, 'remove_units', e, v_seen);
    v_seen := v_seen || v_id;
    v_to := amendment_date(e -> 'last_day', 'remove_units.last_day');
    SELECT u.code, COALESCE(cu.held_from, c.start_date) AS first_day, cu.held_to INTO r
      FROM contract_unit cu JOIN unit u ON u.id = cu.unit_id
     WHERE cu.contract_id = c.id AND cu.unit_id = v_id;
    IF NOT FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'LM020',
        MESSAGE = format('amendment of contract %s: unit %s is not leased by it', c.code, v_id),
        DETAIL = format('Contract %s leases %s.', c.code,
                        (SELECT string_agg(u.code, ', ' ORDER BY u.code) FROM contract_unit cu JOIN unit u ON u.id = cu.unit_id
                          WHERE cu.contract_id = c.id)),
        HINT = 'Name a unit of the contract (leasemgr.contract_unit).';
    END IF;
    IF r.held_to IS NOT NULL THEN
      RAISE EXCEPTION USING ERRCODE = 'LM020',
        MESSAGE = format('amendment of contract %s: unit %s was already handed back', c.code, r.code),
        DETAIL = format('Its last day was %s.', r.held_to),
        HINT = 'Name a unit the lease still holds.';
    END IF;
    IF v_to < r.first_day OR v_to >= v_end THEN
      RAISE EXCEPTION USING ERRCODE = 'LM020',
        MESSAGE = format('amendment of contract %s: unit %s cannot be handed back after %s', c.code, r.code, v_to),
        DETAIL = format('The lease holds the unit from %s to %s.', r.first_day, v_end),
        HINT = 'Give a last day from the unit''s first day to the day before the lease ends; to end the whole lease, terminate it.';
    END IF;
    -- consumption billed from readings stays billed: the unit goes after the last billed month
    SELECT * INTO v_charge FROM amendment_metered_billed(c.id, v_id, v_to + 1);
    IF FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'LM020',
        MESSAGE = format('amendment of contract %s: unit %s cannot be handed back after %s', c.code, r.code, v_to),
        DETAIL = format('Its %s meters are billed through %s (metered charge %s); months billed from readings are not re-billed.',
                        v_charge.meter_kind, v_charge.through, v_charge.id),
        HINT = format('Give a last day on or after %s.', v_charge.through);
    END IF;
    -- a unit handed back on a past day needs its final readings, as a move-out does
    IF v_to < v_day THEN
      SELECT string_agg(f.meter_code, ', ' ORDER BY f.meter_code) INTO v_bad FROM final_readings_missing(v_id, v_to) f;
      IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'LM020',
          MESSAGE = format('amendment of contract %s: unit %s, handed back after %s, has no final reading', c.code, r.code, v_to),
          DETAIL = format('Missing: a final reading (photo or IoT) on or after %s of meter %s.', v_to, v_bad),
          HINT = 'Record the final readings (leasemgr.meter_reading), then open or approve the amendment.';
      END IF;
    END IF;
    PERFORM amendment_allocations_open(c.code, r.code, v_id, v_to + 1, 'handed back after ' || v_to);
    v_eff := LEAST(v_eff, v_to + 1);
  END LOOP;

  -- add_units: a unit of the park, free from its first day to the end of the lease.
  FOR e IN SELECT * FROM amendment_list(changes, 'add_units', '{unit_id,from,billable_area_m2}') LOOP
    v_id := amendment_unit(c.code, 'add_units', e, v_seen);
    v_seen := v_seen || v_id;
    v_from := amendment_date(e -> 'from', 'add_units.from');
    IF e ? 'billable_area_m2' THEN
      v_num := amendment_amount(e -> 'billable_area_m2', 'add_units.billable_area_m2', 2, 12);
    END IF;
    SELECT u.code, u.park_id INTO r FROM unit u WHERE u.id = v_id;
    IF NOT FOUND OR r.park_id <> c.park_id THEN
      RAISE EXCEPTION USING ERRCODE = 'LM020',
        MESSAGE = format('amendment of contract %s: unit %s is not a unit of its park', c.code, v_id),
        DETAIL = format('Contract %s is of park %s.', c.code, (SELECT k.code FROM park k WHERE k.id = c.park_id)),
        HINT = 'Name a unit of the contract''s park (leasemgr.unit); units of parks you have not been granted are not visible to you.';
    END IF;
    SELECT cu.held_to INTO v_to FROM contract_unit cu WHERE cu.contract_id = c.id AND cu.unit_id = v_id;
    IF FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'LM020',
        MESSAGE = format('amendment of contract %s: unit %s is already leased by it', c.code, r.code),
        DETAIL = CASE WHEN v_to IS NULL THEN 'The lease holds it now.'
                      ELSE format('The lease handed it back after %s.', v_to) END,
        HINT = CASE WHEN v_to IS NULL THEN 'Change its area with unit_areas instead.'
                    ELSE 'A unit handed back comes back with a new contract.' END;
    END IF;
    IF v_from < c.start_date OR v_from > v_end THEN
      RAISE EXCEPTION USING ERRCODE = 'LM020',
        MESSAGE = format('amendment of contract %s: unit %s cannot be added from %s', c.code, r.code, v_from),
        DETAIL = format('The lease runs from %s to %s.', c.start_date, v_end),
        HINT = 'Give a first day within the lease.';
    END IF;
    -- free of every lease that holds or held it on those days: a closed one too (its days
    -- are history, and the exclusion constraint only sees live leases)
    SELECT o.code AS other, lower(x.held_range) AS first_day, upper(x.held_range) - 1 AS last_day INTO v_charge
      FROM contract_unit x JOIN contract o ON o.id = x.contract_id
     WHERE x.unit_id = v_id AND (x.is_live OR o.state = 'closed') AND x.contract_id <> c.id
       AND x.held_range && daterange(v_from, v_end, '[]')
     ORDER BY lower(x.held_range) LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'LM006',
        MESSAGE = format('amendment of contract %s: unit %s is not free from %s to %s', c.code, r.code, v_from, v_end),
        DETAIL = format('Contract %s holds unit %s from %s to %s.', v_charge.other, r.code, v_charge.first_day, v_charge.last_day),
        HINT = 'Add the unit from the day after that lease ends, or choose another unit.';
    END IF;
    SELECT * INTO v_charge FROM amendment_metered_billed(c.id, v_id, v_from);
    IF FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'LM020',
        MESSAGE = format('amendment of contract %s: unit %s cannot be added from %s', c.code, r.code, v_from),
        DETAIL = format('The lease''s %s consumption is billed through %s (metered charge %s); months billed from readings are not re-billed.',
                        v_charge.meter_kind, v_charge.through, v_charge.id),
        HINT = format('Add the unit from a day after %s.', v_charge.through);
    END IF;
    PERFORM amendment_allocations_open(c.code, r.code, v_id, v_from, 'added from ' || v_from);
    v_eff := LEAST(v_eff, v_from);
  END LOOP;

  IF changes ?| '{add_units,remove_units}' THEN
    -- The days each unit would be held after the changes, once for the two checks below.
    SELECT array_agg(h.unit_id), array_agg(h.days) INTO v_proj_units, v_proj_days
      FROM (SELECT cu.unit_id,
                   daterange(COALESCE(cu.held_from, c.start_date),
                             COALESCE((SELECT (x ->> 'last_day')::date
                                         FROM jsonb_array_elements(COALESCE(changes -> 'remove_units', '[]')) x
                                        WHERE (x ->> 'unit_id')::bigint = cu.unit_id), cu.held_to, v_end), '[]') AS days
              FROM contract_unit cu WHERE cu.contract_id = c.id
            UNION ALL
            SELECT (x ->> 'unit_id')::bigint, daterange((x ->> 'from')::date, v_end, '[]')
              FROM jsonb_array_elements(COALESCE(changes -> 'add_units', '[]')) x) h;

    -- Every day of the lease holds a unit: a lease leases something.
    SELECT datemultirange(daterange(c.start_date, v_end, '[]')) - COALESCE(range_agg(d), '{}'::datemultirange) INTO v_gap
      FROM unnest(v_proj_days) d;
    IF NOT isempty(v_gap) THEN
      SELECT x INTO v_hole FROM unnest(v_gap) x ORDER BY x LIMIT 1;
      RAISE EXCEPTION USING ERRCODE = 'LM020',
        MESSAGE = format('amendment of contract %s would leave the lease without a unit from %s', c.code, lower(v_hole)),
        DETAIL = format('No unit would be held from %s to %s.', lower(v_hole), upper(v_hole) - 1),
        HINT = 'Keep at least one unit to the end, or end the lease (end_date, or terminate).';
    END IF;

    -- A unit added or handed back and a unit whose meter is its meter's parent or sub-meter
    -- are held on the same days: a sub-meter is left to its parent only on the parent's days,
    -- so any other pair would count a use twice, or bill it to the next occupant's lease too.
    WITH proj AS (
      SELECT * FROM unnest(v_proj_units, v_proj_days) p(unit_id, days)),
    touched AS (
      SELECT (x ->> 'unit_id')::bigint AS unit_id
        FROM jsonb_array_elements(COALESCE(changes -> 'add_units', '[]') || COALESCE(changes -> 'remove_units', '[]')) x)
    SELECT pm.code AS parent, pu.code AS parent_unit, sm.code AS sub, su.code AS sub_unit,
           lower(p.days) AS p_from, upper(p.days) - 1 AS p_to, lower(q.days) AS s_from, upper(q.days) - 1 AS s_to INTO r
      FROM proj p
      JOIN proj q ON q.unit_id <> p.unit_id AND q.days && p.days AND q.days <> p.days
      JOIN meter pm ON pm.unit_id = p.unit_id AND pm.removed_at IS NULL
      JOIN meter sm ON sm.parent_id = pm.id AND sm.unit_id = q.unit_id AND sm.removed_at IS NULL
      JOIN unit pu ON pu.id = p.unit_id
      JOIN unit su ON su.id = q.unit_id
     WHERE p.unit_id IN (SELECT unit_id FROM touched) OR q.unit_id IN (SELECT unit_id FROM touched)
     ORDER BY pm.code, sm.code LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'LM020',
        MESSAGE = format('amendment of contract %s: units %s and %s would be held on different days, but meter %s measures both',
                         c.code, r.parent_unit, r.sub_unit, r.parent),
        DETAIL = format('Meter %s of unit %s is the parent of sub-meter %s of unit %s. The lease would hold %s from %s to %s and %s from %s to %s.',
                        r.parent, r.parent_unit, r.sub, r.sub_unit, r.parent_unit, r.p_from, r.p_to, r.sub_unit, r.s_from, r.s_to),
        HINT = 'Add or hand back both units on the same day, or end the sub-meter''s link to its parent (meter.parent_id) first.';
    END IF;
  END IF;

  -- charge_rates and charge_cycles: a charge of the contract in force that day.
  v_seen := '{}';
  FOR r IN SELECT 'charge_rates' AS list, x AS e FROM amendment_list(changes, 'charge_rates', '{charge_id,rate,from}') x
           UNION ALL
           SELECT 'charge_cycles', x FROM amendment_list(changes, 'charge_cycles', '{charge_id,cycle_months,billed,from}') x LOOP
    e := r.e;
    IF jsonb_typeof(e -> 'charge_id') IS DISTINCT FROM 'number' THEN
      RAISE EXCEPTION USING ERRCODE = 'LM020',
        MESSAGE = format('amendment of contract %s: %s.charge_id must be a charge id', c.code, r.list),
        DETAIL = format('The entry is %s.', e),
        HINT = 'Give the id of a charge of the contract.';
    END IF;
    v_id := (e ->> 'charge_id')::bigint;
    v_from := amendment_date(e -> 'from', r.list || '.from');
    IF v_id = ANY (v_seen) THEN
      RAISE EXCEPTION USING ERRCODE = 'LM020',
        MESSAGE = format('amendment of contract %s: charge %s is changed twice', c.code, v_id),
        HINT = 'One change per charge and amendment: a rate, or a cycle.';
    END IF;
    v_seen := v_seen || v_id;
    SELECT ch.* INTO v_charge FROM charge ch WHERE ch.id = v_id AND ch.contract_id = c.id;
    IF NOT FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'LM020',
        MESSAGE = format('amendment of contract %s: charge %s is not one of its charges', c.code, v_id),
        HINT = 'Name a charge of the contract (leasemgr.charge).';
    END IF;
    v_id := charge_on(v_id, v_from);
    IF v_id IS NULL THEN
      RAISE EXCEPTION USING ERRCODE = 'LM020',
        MESSAGE = format('amendment of contract %s: charge %s does not run on %s', c.code, v_charge.id, v_from),
        DETAIL = format('The charge runs from %s to %s.', v_charge.valid_from, v_charge.valid_to),
        HINT = 'Give a day on which the charge (or its continuation) is charged.';
    END IF;
    SELECT ch.* INTO v_charge FROM charge ch WHERE ch.id = v_id;
    IF r.list = 'charge_rates' THEN
      v_num := amendment_amount(e -> 'rate', 'charge_rates.rate', 4, 14);
      IF v_charge.basis = 'turnover_pct' AND v_num > 100 THEN
        RAISE EXCEPTION USING ERRCODE = 'LM020',
          MESSAGE = format('amendment of contract %s: a turnover rate is a percentage', c.code),
          DETAIL = format('rate is %s.', v_num),
          HINT = 'Give 0 < rate <= 100.';
      END IF;
      IF v_charge.basis = 'metered' AND v_from <= COALESCE(charge_billed_through(v_id), v_from - 1) THEN
        RAISE EXCEPTION USING ERRCODE = 'LM020',
          MESSAGE = format('amendment of contract %s: metered charge %s is billed through %s', c.code, v_id, charge_billed_through(v_id)),
          DETAIL = 'Months billed from readings are not re-billed.',
          HINT = 'Change a metered rate from a day after the last billed month.';
      END IF;
    ELSE
      IF v_charge.basis IN ('turnover_pct', 'metered') THEN
        RAISE EXCEPTION USING ERRCODE = 'LM020',
          MESSAGE = format('amendment of contract %s: charge %s is billed monthly in arrears by its nature', c.code, v_id),
          DETAIL = format('It is a %s charge.', v_charge.basis),
          HINT = 'Only fixed and area-based charges change their cycle.';
      END IF;
      IF NOT (e ? 'cycle_months' OR e ? 'billed')
         OR (e ? 'cycle_months' AND (jsonb_typeof(e -> 'cycle_months') <> 'number' OR e ->> 'cycle_months' NOT IN ('1', '3', '6', '12')))
         OR (e ? 'billed' AND (jsonb_typeof(e -> 'billed') <> 'string' OR e ->> 'billed' NOT IN ('advance', 'arrears'))) THEN
        RAISE EXCEPTION USING ERRCODE = 'LM020',
          MESSAGE = format('amendment of contract %s: charge_cycles needs cycle_months (1, 3, 6, 12) or billed (advance, arrears)', c.code),
          DETAIL = format('The entry is %s.', e),
          HINT = 'E.g. {"charge_id": 12, "cycle_months": 3, "billed": "advance", "from": "2027-07-01"}.';
      END IF;
      IF date_trunc('month', v_from)::date <> v_from OR v_from <= COALESCE(charge_billed_through(v_id), v_from - 1) THEN
        RAISE EXCEPTION USING ERRCODE = 'LM020',
          MESSAGE = format('amendment of contract %s: the cycle of charge %s can change only from the first day of a month not billed yet', c.code, v_id),
          DETAIL = format('from is %s; the charge is billed through %s.', v_from, COALESCE(charge_billed_through(v_id)::text, 'no day yet')),
          HINT = 'Give the first day of a month after the last billed period.';
      END IF;
    END IF;
    v_eff := LEAST(v_eff, v_from);
  END LOOP;
  RETURN v_eff;
END
$fn$;
COMMENT ON FUNCTION leasemgr.amendment_check(bigint, jsonb) IS
  'Checks an amendment''s changes against the contract as it is, without changing anything; returns the first day of the lease they touch. Every problem is SQLSTATE LM020 (LM006 for an extension into another lease) with what was wrong and what to give instead.';

-- ---- the amendment row: checked and stamped for every writer --------------------------------

CREATE FUNCTION leasemgr.amendment_before_write() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  c record;
BEGIN
  IF TG_OP = 'INSERT' AND owner_copy(TG_RELID) THEN
    RETURN NEW;  -- a restore: as dumped
  END IF;
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION USING ERRCODE = 'LM010',
      MESSAGE = format('amendment %s cannot be deleted', OLD.id),
      HINT = 'An open amendment is withdrawn (leasemgr.amendment_withdraw); decided ones stay on record.';
  END IF;
  IF TG_OP = 'INSERT' THEN
    SELECT k.id, k.code, k.park_id, k.state INTO c FROM contract k WHERE k.id = NEW.contract_id FOR UPDATE;
    IF NOT FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'LM009',
        MESSAGE = format('contract %s does not exist', NEW.contract_id),
        HINT = 'Check the id; rows of parks you have not been granted are not visible to you.';
    END IF;
    IF c.state <> 'active' THEN
      RAISE EXCEPTION USING ERRCODE = CASE WHEN c.state = 'amending' THEN 'LM020' ELSE 'LM001' END,
        MESSAGE = CASE WHEN c.state = 'amending' THEN format('contract %s already has an open amendment', c.code)
                       ELSE format('contract %s is %s: only an active lease is amended', c.code, c.state) END,
        DETAIL = CASE WHEN c.state = 'amending'
                      THEN format('Amendment %s is waiting for its decision.',
                                  (SELECT a.id FROM amendment a WHERE a.contract_id = c.id AND a.state = 'open'))
                      ELSE 'Drafts are edited directly; a lease not yet active is rejected back to draft or cancelled; an ended lease is not amended.' END,
        HINT = CASE WHEN c.state = 'amending' THEN 'Decide it first (amendment_approve or amendment_withdraw), or put all changes in one amendment.'
                    ELSE 'See docs/amendments.md.' END;
    END IF;
    -- Bill runs of the park take turns with amendments: a run in progress finishes first, and
    -- a run that starts now waits for this transaction (then finds the contract frozen).
    PERFORM pg_advisory_xact_lock(hashtext('leasemgr.bill_run'), (c.park_id % 2147483647)::integer);
    NEW.park_id := c.park_id;
    NEW.effective_from := amendment_check(NEW.contract_id, NEW.changes);
    NEW.state := 'open';
    NEW.requested_by := current_actor();
    NEW.requested_at := now();
    NEW.decided_by := NULL;
    NEW.decided_at := NULL;
    NEW.decision_note := NULL;
    NEW.version := NULL;
    NEW.rebilled_at := NULL;
    RETURN NEW;
  END IF;
  -- UPDATE: the request never changes; open -> approved (only while amendment_approve applies
  -- it) or withdrawn; an approved amendment gets its rebilled_at once.
  IF (NEW.id, NEW.park_id, NEW.contract_id, NEW.changes, NEW.reason, NEW.effective_from, NEW.requested_by, NEW.requested_at)
       IS DISTINCT FROM (OLD.id, OLD.park_id, OLD.contract_id, OLD.changes, OLD.reason, OLD.effective_from, OLD.requested_by, OLD.requested_at) THEN
    RAISE EXCEPTION USING ERRCODE = 'LM010',
      MESSAGE = format('amendment %s cannot be changed', OLD.id),
      DETAIL = 'What was asked, by whom and why stays as it was asked.',
      HINT = 'Withdraw it (leasemgr.amendment_withdraw) and open a new one.';
  END IF;
  IF OLD.state = 'open' AND NEW.state = 'approved' AND amendment_applying() IS NOT DISTINCT FROM OLD.contract_id THEN
    NEW.decided_by := current_actor();
    NEW.decided_at := now();
    NEW.rebilled_at := NULL;
    RETURN NEW;
  END IF;
  IF OLD.state = 'open' AND NEW.state = 'withdrawn' THEN
    NEW.decided_by := current_actor();
    NEW.decided_at := now();
    NEW.version := NULL;
    NEW.rebilled_at := NULL;
    RETURN NEW;
  END IF;
  IF OLD.state = 'approved' AND NEW.state = 'approved' AND OLD.rebilled_at IS NULL AND NEW.rebilled_at IS NOT NULL
     AND (NEW.decided_by, NEW.decided_at, NEW.decision_note, NEW.version)
         IS NOT DISTINCT FROM (OLD.decided_by, OLD.decided_at, OLD.decision_note, OLD.version) THEN
    -- marked re-billed only when re-billing has nothing left to issue: a mark set by hand
    -- would keep the bill runs from ever issuing the adjustments
    IF EXISTS (SELECT FROM rebill_lines(OLD.contract_id, OLD.effective_from) x WHERE x.unknown OR x.now <> x.was) THEN
      RAISE EXCEPTION USING ERRCODE = 'LM002',
        MESSAGE = format('amendment %s is not re-billed yet', OLD.id),
        DETAIL = 'Periods already billed still differ from what its terms come to.',
        HINT = 'Run leasemgr.rebill(contract_id) (the next bill run does): it issues the adjustments and marks it.';
    END IF;
    NEW.rebilled_at := now();
    RETURN NEW;
  END IF;
  RAISE EXCEPTION USING ERRCODE = 'LM001',
    MESSAGE = format('amendment %s cannot go from %s to %s that way', OLD.id, OLD.state, NEW.state),
    DETAIL = 'An open amendment is approved by leasemgr.amendment_approve (which applies it) or withdrawn; decided amendments never change.',
    HINT = 'Use leasemgr.amendment_approve(id) or leasemgr.amendment_withdraw(id).';
END
$fn$;
COMMENT ON FUNCTION leasemgr.amendment_before_write() IS
  'Trigger: an amendment is opened only on an active contract with no other open amendment, with changes that pass leasemgr.amendment_check, stamped; it is approved only through leasemgr.amendment_approve, withdrawn by an UPDATE of state, never edited or deleted (SQLSTATE LM020, LM001, LM010).';
CREATE TRIGGER amendment_before_write BEFORE INSERT OR UPDATE OR DELETE ON leasemgr.amendment
  FOR EACH ROW EXECUTE FUNCTION leasemgr.amendment_before_write();

-- Opening freezes the contract; a decision lifts the freeze. Through the state machine, so the
-- timeline and the outbox say so.
CREATE FUNCTION leasemgr.amendment_after_write() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
BEGIN
  IF TG_OP = 'INSERT' AND owner_copy(TG_RELID) THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    PERFORM contract_transition(NEW.contract_id, 'amend', format('amendment %s: %s', NEW.id, NEW.reason));
  ELSIF OLD.state = 'open' AND NEW.state <> 'open' THEN
    PERFORM contract_transition(NEW.contract_id, 'resume',
                                format('amendment %s %s%s', NEW.id, NEW.state, COALESCE(': ' || NEW.decision_note, '')));
  END IF;
  RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION leasemgr.amendment_after_write() IS
  'Trigger: an amendment opened moves its contract from active to amending; approved or withdrawn, back to active (state-machine events amend and resume, on the contract''s timeline).';
CREATE TRIGGER amendment_after_write AFTER INSERT OR UPDATE OF state ON leasemgr.amendment
  FOR EACH ROW EXECUTE FUNCTION leasemgr.amendment_after_write();

-- ---- the API --------------------------------------------------------------------------------

CREATE FUNCTION leasemgr.amendment_open(contract_id bigint, changes jsonb, reason text) RETURNS bigint
  LANGUAGE plpgsql SECURITY INVOKER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  v_id bigint;
BEGIN
  IF amendment_open.contract_id IS NULL OR amendment_open.reason IS NULL OR btrim(amendment_open.reason) = '' THEN
    RAISE EXCEPTION USING ERRCODE = 'LM020',
      MESSAGE = 'an amendment needs a contract and a reason',
      DETAIL = format('contract_id is %s, reason is %s.', COALESCE(amendment_open.contract_id::text, 'NULL'),
                      COALESCE(quote_literal(amendment_open.reason), 'NULL')),
      HINT = 'Say why, e.g. the number of the supplementary agreement.';
  END IF;
  -- the trigger fills in the park, the first day touched and the stamps
  INSERT INTO amendment (contract_id, changes, reason)
  VALUES (amendment_open.contract_id, amendment_open.changes, amendment_open.reason)
  RETURNING id INTO v_id;
  RETURN v_id;
END
$fn$;
COMMENT ON FUNCTION leasemgr.amendment_open(bigint, jsonb, text) IS
  'Opens an amendment of an active contract and freezes it (state amending: bill runs skip it, late fees stop, dunning pauses, payments wait as credit). changes: a JSON object with end_date, free_rent, unit_areas, add_units, remove_units, charge_rates, charge_cycles (docs/amendments.md); unknown keys or invalid values are refused (LM020) and nothing is opened. A second open amendment on the contract is refused. Returns the amendment id.';

CREATE FUNCTION leasemgr.amendment_approve(amendment_id bigint, note text DEFAULT NULL) RETURNS integer
  AS 'MODULE_PATHNAME', 'amendment_approve'
  LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION leasemgr.amendment_approve(bigint, text) IS
  'Approves an open amendment, by someone other than its requester (LM003), and applies every change at once: the previous terms are kept as a version (leasemgr.contract_version), the contract returns to active, and the periods already billed are re-billed by leasemgr.rebill (the next bill run calls it). The changes are checked again first. Returns the version number of the terms replaced. The only path to a live lease''s terms.';

CREATE FUNCTION leasemgr.amendment_applying() RETURNS bigint
  AS 'MODULE_PATHNAME', 'amendment_applying'
  LANGUAGE C VOLATILE;
COMMENT ON FUNCTION leasemgr.amendment_applying() IS
  'Internal: the contract whose amendment leasemgr.amendment_approve is applying in this session, else NULL.';

-- One charge becomes two at a day: the original ends the day before, a continuation with the
-- same terms (escalation anchored where it was) starts that day. Returns the continuation.
CREATE FUNCTION leasemgr.split_charge(charge_id bigint, day date, amendment_id bigint) RETURNS bigint
  LANGUAGE plpgsql
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  v_id bigint;
BEGIN
  INSERT INTO charge (contract_id, kind, basis, rate, breakpoint, valid_from, valid_to, cycle_months, billed, due_day,
                      proration, escalation, escalate_every_months, escalation_anchor, escalation_pct, escalation_amount,
                      cpi_series, cpi_base_month, cpi_lag_months, cpi_cap_pct, cpi_floor_pct, note, meter_kind, tiers,
                      tier_rates, tou_registers, tou_rates, area_m2, continues_charge_id, amendment_id)
  SELECT ch.contract_id, ch.kind, ch.basis, ch.rate, ch.breakpoint, split_charge.day, ch.valid_to, ch.cycle_months,
         ch.billed, ch.due_day, ch.proration, ch.escalation, ch.escalate_every_months, ch.escalation_anchor,
         ch.escalation_pct, ch.escalation_amount, ch.cpi_series, ch.cpi_base_month, ch.cpi_lag_months, ch.cpi_cap_pct,
         ch.cpi_floor_pct, ch.note, ch.meter_kind, ch.tiers, ch.tier_rates, ch.tou_registers, ch.tou_rates, ch.area_m2,
         ch.id, split_charge.amendment_id
    FROM charge ch WHERE ch.id = split_charge.charge_id
  RETURNING id INTO v_id;
  UPDATE charge SET valid_to = split_charge.day - 1 WHERE id = split_charge.charge_id;
  RETURN v_id;
END
$fn$;
COMMENT ON FUNCTION leasemgr.split_charge(bigint, date, bigint) IS
  'Internal to amendment_approve: ends a charge the day before `day` and continues it from `day` as a new charge with the same terms (continues_charge_id). Refused by the term lock outside an approval.';

CREATE FUNCTION leasemgr.amendment_apply(amendment_id bigint, note text) RETURNS integer
  LANGUAGE plpgsql SECURITY INVOKER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  a record;
  c record;
  e jsonb;
  d record;
  ch record;
  v_actor text := current_actor();
  v_version integer;
  v_end date;
  v_id bigint;
BEGIN
  SELECT x.* INTO a FROM amendment x WHERE x.id = amendment_apply.amendment_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'LM009',
      MESSAGE = format('amendment %s does not exist', amendment_apply.amendment_id),
      HINT = 'Check the id; rows of parks you have not been granted are not visible to you.';
  END IF;
  SELECT k.id, k.code, k.park_id, k.state, k.end_date INTO c FROM contract k WHERE k.id = a.contract_id FOR UPDATE;
  IF a.state <> 'open' THEN
    RAISE EXCEPTION USING ERRCODE = 'LM005',
      MESSAGE = format('amendment %s of contract %s is already %s', a.id, c.code, a.state),
      DETAIL = format('%s decided it at %s.', a.decided_by, a.decided_at),
      HINT = 'Decided amendments never change; open a new one for further changes.';
  END IF;
  IF a.requested_by = v_actor THEN
    RAISE EXCEPTION USING ERRCODE = 'LM003',
      MESSAGE = format('amendment %s of contract %s must be approved by someone other than its requester', a.id, c.code),
      DETAIL = format('%s opened it and is now trying to approve it.', v_actor),
      HINT = 'Ask a second person to approve; applications set leasemgr.actor to the person acting.';
  END IF;
  -- What was checked when it was opened is checked again: days have passed, other leases
  -- may have been signed.
  PERFORM amendment_check(c.id, a.changes);

  SELECT COALESCE(max(v.version), 0) + 1 INTO v_version FROM contract_version v WHERE v.contract_id = c.id;
  INSERT INTO contract_version (park_id, contract_id, version, amendment_id, terms, replaced_at, replaced_by)
  VALUES (c.park_id, c.id, v_version, a.id, contract_terms(c.id), now(), v_actor);

  -- end_date: a shorter lease clips its charges and free rent first; a longer one moves the
  -- end first, then the charges that ran to the old end run to the new one.
  IF a.changes ? 'end_date' THEN
    v_end := (a.changes ->> 'end_date')::date;
    IF v_end < c.end_date THEN
      UPDATE charge SET valid_to = v_end WHERE contract_id = c.id AND valid_to > v_end;
      DELETE FROM free_rent_period WHERE contract_id = c.id AND lower(days) > v_end;
      UPDATE free_rent_period SET days = daterange(lower(days), v_end, '[]')
       WHERE contract_id = c.id AND upper(days) - 1 > v_end;
      UPDATE contract SET end_date = v_end WHERE id = c.id;
    ELSE
      UPDATE contract SET end_date = v_end WHERE id = c.id;
      UPDATE charge SET valid_to = v_end WHERE contract_id = c.id AND valid_to = c.end_date;
    END IF;
  END IF;

  FOR e IN SELECT * FROM jsonb_array_elements(COALESCE(a.changes -> 'free_rent', '[]')) LOOP
    INSERT INTO free_rent_period (contract_id, days, kinds, note)
    VALUES (c.id, daterange((e ->> 'from')::date, (e ->> 'to')::date, '[]'),
            COALESCE((SELECT array_agg(k ORDER BY k) FROM jsonb_array_elements_text(e -> 'kinds') k), '{rent}'),
            COALESCE(e ->> 'note', format('amendment %s: %s', a.id, a.reason)));
  END LOOP;

  -- unit_areas, in the order of their days: each change is recorded with the area of the day
  -- before (as known before it: a later change it overrides is superseded after), and the
  -- unit's area now becomes the new one, which holds to the end of the lease.
  FOR e IN SELECT x FROM jsonb_array_elements(COALESCE(a.changes -> 'unit_areas', '[]')) x ORDER BY (x ->> 'from')::date LOOP
    INSERT INTO unit_area_change (park_id, contract_id, unit_id, effective_from, area_before, area_after, amendment_id)
    SELECT c.park_id, c.id, cu.unit_id, (e ->> 'from')::date,
           COALESCE((SELECT h.area_before FROM unit_area_change h
                      WHERE h.contract_id = c.id AND h.unit_id = cu.unit_id AND h.effective_from >= (e ->> 'from')::date
                        AND h.superseded_by IS NULL ORDER BY h.effective_from LIMIT 1), cu.billable_area_m2),
           (e ->> 'billable_area_m2')::numeric, a.id
      FROM contract_unit cu WHERE cu.contract_id = c.id AND cu.unit_id = (e ->> 'unit_id')::bigint;
    UPDATE unit_area_change SET superseded_by = a.id
     WHERE contract_id = c.id AND unit_id = (e ->> 'unit_id')::bigint AND effective_from >= (e ->> 'from')::date
       AND superseded_by IS NULL AND amendment_id <> a.id;
    UPDATE contract_unit SET billable_area_m2 = (e ->> 'billable_area_m2')::numeric
     WHERE contract_id = c.id AND unit_id = (e ->> 'unit_id')::bigint;
  END LOOP;
  -- remove_units and add_units: the days each unit is held. The exclusion constraint finds
  -- an added unit free, as the check did.
  FOR e IN SELECT x FROM jsonb_array_elements(COALESCE(a.changes -> 'remove_units', '[]')) x LOOP
    UPDATE contract_unit SET held_to = (e ->> 'last_day')::date
     WHERE contract_id = c.id AND unit_id = (e ->> 'unit_id')::bigint;
  END LOOP;
  FOR e IN SELECT x FROM jsonb_array_elements(COALESCE(a.changes -> 'add_units', '[]')) x ORDER BY (x ->> 'unit_id')::bigint LOOP
    INSERT INTO contract_unit (contract_id, unit_id, billable_area_m2, held_from)  -- area NULL: the unit's
    VALUES (c.id, (e ->> 'unit_id')::bigint, (e ->> 'billable_area_m2')::numeric, (e ->> 'from')::date);
  END LOOP;
  -- Then every area-based charge is charged on the area of its own days: cut on each day the
  -- contract's area changes (an area changed, a unit added or handed back), and each part
  -- pinned to its area.
  IF a.changes ?| '{unit_areas,add_units,remove_units}' THEN
    FOR d IN SELECT DISTINCT x.day
               FROM (SELECT h.effective_from AS day FROM unit_area_change h
                      WHERE h.contract_id = c.id AND h.superseded_by IS NULL
                     UNION
                     SELECT cu.held_from FROM contract_unit cu WHERE cu.contract_id = c.id AND cu.held_from IS NOT NULL
                     UNION
                     SELECT cu.held_to + 1 FROM contract_unit cu WHERE cu.contract_id = c.id AND cu.held_to IS NOT NULL) x
              WHERE contract_area_on(c.id, x.day - 1) <> contract_area_on(c.id, x.day)
              ORDER BY 1 LOOP
      FOR ch IN SELECT x.id FROM charge x
                 WHERE x.contract_id = c.id AND x.basis IN ('per_m2_month', 'per_m2_day')
                   AND x.valid_from < d.day AND x.valid_to >= d.day ORDER BY x.id LOOP
        PERFORM split_charge(ch.id, d.day, a.id);
      END LOOP;
    END LOOP;
    UPDATE charge x SET area_m2 = contract_area_on(c.id, x.valid_from)
     WHERE x.contract_id = c.id AND x.basis IN ('per_m2_month', 'per_m2_day')
       AND x.area_m2 IS DISTINCT FROM contract_area_on(c.id, x.valid_from);
  END IF;

  -- charge_rates and charge_cycles: from the day on, for the charge and its continuations. A
  -- new rate is the rate in force from that day: an escalating charge's steps then count from
  -- the last step on or before it (the same anniversaries, compounding from the new rate).
  FOR e IN SELECT x FROM jsonb_array_elements(COALESCE(a.changes -> 'charge_rates', '[]')) x
           UNION ALL
           SELECT x FROM jsonb_array_elements(COALESCE(a.changes -> 'charge_cycles', '[]')) x LOOP
    v_id := charge_on((e ->> 'charge_id')::bigint, (e ->> 'from')::date);
    IF (SELECT x.valid_from FROM charge x WHERE x.id = v_id) < (e ->> 'from')::date THEN
      PERFORM split_charge(v_id, (e ->> 'from')::date, a.id);
    END IF;
    WITH RECURSIVE line AS (
      SELECT x.id FROM charge x WHERE x.id = (e ->> 'charge_id')::bigint
      UNION
      SELECT n.id FROM charge n JOIN line l ON n.continues_charge_id = l.id),
    anchor AS (
      SELECT x.id, (SELECT (x.escalation_anchor + k * x.escalate_every_months * interval '1 month')::date
                      FROM generate_series(0, 12000 / x.escalate_every_months) k
                     WHERE x.escalation_anchor + k * x.escalate_every_months * interval '1 month' <= (e ->> 'from')::date
                     ORDER BY k DESC LIMIT 1) AS day
        FROM charge x JOIN line l ON l.id = x.id
       WHERE e ? 'rate' AND x.escalation <> 'none')
    UPDATE charge x SET rate = COALESCE((e ->> 'rate')::numeric, x.rate),
                        cycle_months = COALESCE((e ->> 'cycle_months')::integer, x.cycle_months),
                        billed = COALESCE(e ->> 'billed', x.billed),
                        escalation_anchor = COALESCE(an.day, x.escalation_anchor),
                        cpi_base_month = CASE WHEN x.escalation = 'cpi' AND an.day IS NOT NULL
                                              THEN (date_trunc('month', an.day) - x.cpi_lag_months * interval '1 month')::date
                                              ELSE x.cpi_base_month END
      FROM line l LEFT JOIN anchor an ON an.id = l.id
     WHERE x.id = l.id AND x.valid_from >= (e ->> 'from')::date;
  END LOOP;

  UPDATE amendment SET state = 'approved', decision_note = amendment_apply.note, version = v_version
   WHERE id = a.id;
  RETURN v_version;
END
$fn$;
COMMENT ON FUNCTION leasemgr.amendment_apply(bigint, text) IS
  'Internal: the body of leasemgr.amendment_approve. Called directly, the term lock refuses its first change.';

CREATE FUNCTION leasemgr.amendment_withdraw(amendment_id bigint, note text DEFAULT NULL) RETURNS void
  LANGUAGE plpgsql SECURITY INVOKER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  a record;
BEGIN
  SELECT x.id, x.state, x.decided_by, x.decided_at INTO a FROM amendment x WHERE x.id = amendment_withdraw.amendment_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'LM009',
      MESSAGE = format('amendment %s does not exist', amendment_withdraw.amendment_id),
      HINT = 'Check the id; rows of parks you have not been granted are not visible to you.';
  END IF;
  IF a.state <> 'open' THEN
    RAISE EXCEPTION USING ERRCODE = 'LM005',
      MESSAGE = format('amendment %s is already %s', a.id, a.state),
      DETAIL = format('%s decided it at %s.', a.decided_by, a.decided_at),
      HINT = 'Decided amendments never change.';
  END IF;
  UPDATE amendment SET state = 'withdrawn', decision_note = amendment_withdraw.note WHERE id = a.id;
END
$fn$;
COMMENT ON FUNCTION leasemgr.amendment_withdraw(bigint, text) IS
  'Withdraws an open amendment: nothing changes and the contract is active again (its frozen payments are then allocated by the next leasemgr.apply_credit or payment).';

CREATE FUNCTION leasemgr.amendment_diff(amendment_id bigint)
  RETURNS TABLE (field text, from_date date, before text, after text)
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  a record;
  t jsonb;
  e jsonb;
  ch jsonb;
  v_steps integer;
BEGIN
  SELECT x.* INTO a FROM amendment x WHERE x.id = amendment_diff.amendment_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'LM009',
      MESSAGE = format('amendment %s does not exist', amendment_diff.amendment_id),
      HINT = 'Check the id; rows of parks you have not been granted are not visible to you.';
  END IF;
  -- the terms it changes: as they are while it is open, as they were when it was approved
  IF a.state = 'approved' THEN
    SELECT v.terms INTO t FROM contract_version v WHERE v.amendment_id = a.id;
  ELSE
    t := contract_terms(a.contract_id);
  END IF;

  IF a.changes ? 'end_date' THEN
    field := 'end_date'; from_date := NULL; before := t ->> 'end_date'; after := a.changes ->> 'end_date';
    RETURN NEXT;
  END IF;
  FOR e IN SELECT * FROM jsonb_array_elements(COALESCE(a.changes -> 'free_rent', '[]')) LOOP
    field := 'free_rent'; from_date := (e ->> 'from')::date;
    before := 'not free';
    after := format('free %s..%s for %s', e ->> 'from', e ->> 'to',
                    COALESCE((SELECT string_agg(k, ', ') FROM jsonb_array_elements_text(e -> 'kinds') k), 'rent'));
    RETURN NEXT;
  END LOOP;
  FOR e IN SELECT * FROM jsonb_array_elements(COALESCE(a.changes -> 'unit_areas', '[]')) LOOP
    SELECT u ->> 'unit_code', u ->> 'billable_area_m2' INTO field, before
      FROM jsonb_array_elements(t -> 'units') u WHERE (u ->> 'unit_id')::bigint = (e ->> 'unit_id')::bigint;
    field := format('unit %s billable_area_m2', field);
    from_date := (e ->> 'from')::date;
    after := (e ->> 'billable_area_m2')::numeric(12,2)::text;
    RETURN NEXT;
  END LOOP;
  FOR e IN SELECT * FROM jsonb_array_elements(COALESCE(a.changes -> 'add_units', '[]')) LOOP
    field := format('unit %s', (SELECT u.code FROM unit u WHERE u.id = (e ->> 'unit_id')::bigint));
    from_date := (e ->> 'from')::date;
    before := 'not leased';
    after := format('leased from %s, %s m²', e ->> 'from',
                    COALESCE((e ->> 'billable_area_m2')::numeric(12,2),
                             (SELECT u.area_m2 FROM unit u WHERE u.id = (e ->> 'unit_id')::bigint)));
    RETURN NEXT;
  END LOOP;
  FOR e IN SELECT * FROM jsonb_array_elements(COALESCE(a.changes -> 'remove_units', '[]')) LOOP
    SELECT u ->> 'unit_code', format('leased to the end, %s m²', u ->> 'billable_area_m2') INTO field, before
      FROM jsonb_array_elements(t -> 'units') u WHERE (u ->> 'unit_id')::bigint = (e ->> 'unit_id')::bigint;
    field := format('unit %s', field);
    from_date := (e ->> 'last_day')::date + 1;
    after := format('handed back after %s', e ->> 'last_day');
    RETURN NEXT;
  END LOOP;
  FOR e IN SELECT * FROM jsonb_array_elements(COALESCE(a.changes -> 'charge_rates', '[]'))
           UNION ALL SELECT * FROM jsonb_array_elements(COALESCE(a.changes -> 'charge_cycles', '[]')) LOOP
    -- the charge of the old terms in force that day (a charge or one of its continuations)
    SELECT x INTO ch FROM jsonb_array_elements(t -> 'charges') x
     WHERE (e ->> 'from')::date BETWEEN (x ->> 'valid_from')::date AND (x ->> 'valid_to')::date
       AND ((x ->> 'id')::bigint = (e ->> 'charge_id')::bigint
            OR (x ->> 'id')::bigint = (SELECT charge_on((e ->> 'charge_id')::bigint, (e ->> 'from')::date)))
     LIMIT 1;
    from_date := (e ->> 'from')::date;
    IF e ? 'rate' THEN
      field := format('charge %s (%s) rate', e ->> 'charge_id', ch ->> 'kind');
      before := (ch ->> 'rate')::numeric(14,4)::text;
      -- an escalating charge: the rate in force that day, which the new rate replaces
      IF ch ->> 'escalation' <> 'none' THEN
        SELECT count(*) INTO v_steps FROM generate_series(1, 12000 / (ch ->> 'escalate_every_months')::integer) k
         WHERE (ch ->> 'escalation_anchor')::date + k * (ch ->> 'escalate_every_months')::integer * interval '1 month'
               <= (e ->> 'from')::date;
        IF v_steps > 0 THEN
          before := before || CASE ch ->> 'escalation'
            WHEN 'pct' THEN format(' (%s in force after %s escalation steps)',
                                   round((ch ->> 'rate')::numeric * (1 + (ch ->> 'escalation_pct')::numeric / 100) ^ v_steps, 4), v_steps)
            WHEN 'amount' THEN format(' (%s in force after %s escalation steps)',
                                      ((ch ->> 'rate')::numeric + v_steps * (ch ->> 'escalation_amount')::numeric)::numeric(14,4), v_steps)
            ELSE format(' (CPI-indexed, %s steps in force)', v_steps) END;
        END IF;
      END IF;
      after := (e ->> 'rate')::numeric(14,4)::text;
      RETURN NEXT;
    END IF;
    IF e ? 'cycle_months' THEN
      field := format('charge %s (%s) cycle_months', e ->> 'charge_id', ch ->> 'kind');
      before := ch ->> 'cycle_months'; after := e ->> 'cycle_months';
      RETURN NEXT;
    END IF;
    IF e ? 'billed' THEN
      field := format('charge %s (%s) billed', e ->> 'charge_id', ch ->> 'kind');
      before := ch ->> 'billed'; after := e ->> 'billed';
      RETURN NEXT;
    END IF;
  END LOOP;
END
$fn$;
COMMENT ON FUNCTION leasemgr.amendment_diff(bigint) IS
  'What an amendment changes, field by field: the value before (the terms now while it is open, the version it replaced once approved), the value after, and the day from which it applies (NULL for the end date).';

-- ---- re-billing -----------------------------------------------------------------------------

CREATE FUNCTION leasemgr.charge_periods(contract_id bigint, from_date date, to_date date)
  RETURNS TABLE (charge_id bigint, kind text, period_first date, period_last date, period_start date,
                 period_end date, amount numeric, explain text)
  AS 'MODULE_PATHNAME', 'charge_periods'
  LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION leasemgr.charge_periods(bigint, date, date) IS
  'The lines of leasemgr.compute_charges with the billing period each belongs to (period_first..period_last), for the charges that do not depend on readings (metered charges are left out). leasemgr.rebill compares them with what was billed.';

-- What re-billing a contract would issue: every period already billed that ends (now, or as
-- billed) on or after from_date, with what the terms now come to and what stands billed.
CREATE FUNCTION leasemgr.rebill_lines(contract_id bigint, from_date date)
  RETURNS TABLE (charge_id bigint, kind text, first_day date, last_day date, now numeric, was numeric,
                 unknown boolean, explain text, bills bigint[])
  LANGUAGE sql STABLE STRICT
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
  WITH c AS (
    SELECT k.id, k.start_date,
           GREATEST(upper(k.lease_range) - 1, (SELECT max(bl.period_end) FROM bill_line bl WHERE bl.contract_id = k.id)) AS to_day
      FROM contract k WHERE k.id = rebill_lines.contract_id),
  now_terms AS (
    SELECT p.charge_id, p.kind, p.period_first, p.period_last, sum(p.amount) AS amount,
           bool_or(p.amount IS NULL) AS unknown, string_agg(p.explain, '; ' ORDER BY p.period_start) AS explain
      FROM c, charge_periods(c.id, c.start_date, c.to_day) p
     GROUP BY 1, 2, 3, 4),
  lines AS (
    -- what bills a charge's period: its charge lines, and the adjustments of earlier re-bills;
    -- corrections made by hand are finance's and are left as they are
    SELECT bl.charge_id, bl.period_start, bl.period_end, bl.amount, bl.bill_id, bl.line_type,
           bb.voided_at IS NOT NULL AS void
      FROM bill_line bl JOIN bill bb ON bb.id = bl.bill_id JOIN charge ch ON ch.id = bl.charge_id
     WHERE bl.contract_id = rebill_lines.contract_id AND ch.basis <> 'metered'
       AND (bl.line_type = 'charge' OR (bl.line_type = 'adjustment' AND bl.amendment_id IS NOT NULL))),
  marker AS (
    -- the bill run's mark: each charge is billed through the period of its last charge line
    SELECT l.charge_id, max(l.period_start) AS last_start FROM lines l WHERE l.line_type = 'charge' GROUP BY 1),
  buckets AS (
    -- the periods of the terms now that the bill run counts as billed
    SELECT n.charge_id, n.kind, n.period_first AS first_day, n.period_last AS last_day, n.amount AS now,
           n.unknown, n.explain
      FROM now_terms n JOIN marker m ON m.charge_id = n.charge_id
     WHERE n.period_first <= m.last_start
    UNION ALL
    -- billed segments that no period of the terms covers any more (after a new end, after a split)
    SELECT l.charge_id, ch.kind, l.period_start, l.period_end, 0.00, false, NULL
      FROM lines l JOIN charge ch ON ch.id = l.charge_id
     WHERE l.line_type = 'charge'
       AND NOT EXISTS (SELECT FROM now_terms n WHERE n.charge_id = l.charge_id
                          AND l.period_start BETWEEN n.period_first AND n.period_last)),
  assigned AS (
    -- each line in exactly one bucket: the last one of its charge that starts on or before it
    SELECT l.*, (SELECT max(k.first_day) FROM buckets k
                  WHERE k.charge_id = l.charge_id AND k.first_day <= l.period_start) AS bucket_first
      FROM lines l)
  SELECT k.charge_id, k.kind, k.first_day, k.last_day, k.now,
         COALESCE(sum(a.amount) FILTER (WHERE NOT a.void), 0.00),
         k.unknown, k.explain,
         COALESCE(array_agg(DISTINCT a.bill_id) FILTER (WHERE a.line_type = 'charge' AND NOT a.void), '{}')
    FROM buckets k
    LEFT JOIN assigned a ON a.charge_id = k.charge_id AND a.bucket_first = k.first_day
   GROUP BY k.charge_id, k.kind, k.first_day, k.last_day, k.now, k.unknown, k.explain
  HAVING (k.last_day >= rebill_lines.from_date OR max(a.period_end) >= rebill_lines.from_date)
     -- a period billed on a bill since voided is finance's to re-bill (bill.voided_at)
     AND NOT COALESCE(bool_or(a.void AND a.line_type = 'charge'), false)
   ORDER BY k.first_day, k.charge_id
$fn$;
COMMENT ON FUNCTION leasemgr.rebill_lines(bigint, date) IS
  'What leasemgr.rebill compares, without writing: each period already billed that ends (now, or as billed) on or after from_date, with what the terms now come to (now, NULL parts making unknown true) and what stands billed (was: its charge lines and earlier re-bill adjustments, on bills not void), and the bills that charged it. Periods charged on a void bill are left to finance. Metered charges are left out.';

CREATE FUNCTION leasemgr.rebill(contract_id bigint) RETURNS integer
  LANGUAGE plpgsql SECURITY INVOKER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  c record;
  r record;
  v_b record;
  v_from date;
  v_which text;
  v_amendment bigint;
  v_day date := business_date();
  v_bill bigint;
  v_due date;
  v_left numeric;
  v_put numeric;
  v_text text;
  v_lines integer := 0;
  v_held integer := 0;
BEGIN
  -- What was billed is read after the wait for a bill run of the park: each statement of a
  -- READ COMMITTED transaction sees what the run committed. A transaction-wide snapshot would not.
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = format('rebill must run at READ COMMITTED, not %s', upper(current_setting('transaction_isolation'))),
      DETAIL = 'It waits for a bill run of the park in progress and must then see what that run billed.',
      HINT = 'Run it in a READ COMMITTED transaction (the default).';
  END IF;
  SELECT k.id, k.code, k.park_id INTO c FROM contract k WHERE k.id = rebill.contract_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'LM009',
      MESSAGE = format('contract %s does not exist', rebill.contract_id),
      HINT = 'Check the id; rows of parks you have not been granted are not visible to you.';
  END IF;
  -- Bill runs and re-bills of the park take turns.
  PERFORM pg_advisory_xact_lock(hashtext('leasemgr.bill_run'), (c.park_id % 2147483647)::integer);
  SELECT k.id, k.code, k.park_id, k.state INTO c FROM contract k WHERE k.id = rebill.contract_id;
  IF c.state = 'amending' THEN
    RAISE EXCEPTION USING ERRCODE = 'LM002',
      MESSAGE = format('contract %s is frozen by an open amendment', c.code),
      DETAIL = 'Nothing is billed against terms that are about to change.',
      HINT = 'Decide the amendment first; the next bill run re-bills then.';
  END IF;
  SELECT min(a.effective_from), max(a.id), string_agg(format('%s (%s)', a.id, a.reason), ', ' ORDER BY a.id)
    INTO v_from, v_amendment, v_which
    FROM amendment a WHERE a.contract_id = c.id AND a.state = 'approved' AND a.rebilled_at IS NULL;
  IF v_from IS NULL THEN
    RETURN 0;
  END IF;

  FOR r IN SELECT * FROM rebill_lines(c.id, v_from) x WHERE x.unknown OR x.now <> x.was LOOP
    IF r.unknown THEN
      -- a CPI month or a turnover report still missing: this period waits for the next run
      v_held := v_held + 1;
      CONTINUE;
    END IF;
    v_text := format('%s %s..%s re-billed after amendment %s: the terms now come to %s (%s); %s was billed; adjustment %s',
                     r.kind, r.first_day, r.last_day, v_which, money_text(r.now),
                     COALESCE(r.explain, 'no day of this charge any more'), money_text(r.was), money_text(r.now - r.was));
    v_left := r.now - r.was;
    -- A credit goes first on the bill that charged the period, as far as it is still unpaid:
    -- it no longer owes what is credited (late fees included). The rest, and every debit, go on
    -- one new bill of this re-bill.
    IF v_left < 0 THEN
      FOR v_b IN SELECT bb.id, bb.amount - bb.paid AS open FROM bill bb
                  WHERE bb.id = ANY (r.bills) AND bb.voided_at IS NULL AND bb.amount > bb.paid ORDER BY bb.id DESC LOOP
        v_put := LEAST(v_b.open, -v_left);
        INSERT INTO bill_line (park_id, bill_id, contract_id, charge_id, kind, period_start, period_end, amount, explain,
                               line_type, amendment_id)
        VALUES (c.park_id, v_b.id, c.id, r.charge_id, r.kind, r.first_day, r.last_day, -v_put,
                CASE WHEN v_put = -v_left AND v_left = r.now - r.was THEN v_text
                     ELSE v_text || format('; %s of it on this bill', money_text(-v_put)) END,
                'adjustment', v_amendment);
        v_lines := v_lines + 1;
        v_left := v_left + v_put;
        EXIT WHEN v_left = 0;
      END LOOP;
    END IF;
    IF v_left <> 0 THEN
      IF v_bill IS NULL THEN
        SELECT GREATEST(v_day, (date_trunc('month', v_day)::date
                                + (LEAST(min(ch.due_day), extract(day FROM date_trunc('month', v_day) + interval '1 month - 1 day')::integer) - 1)))
          INTO v_due FROM charge ch WHERE ch.contract_id = c.id;
        INSERT INTO bill (park_id, contract_id, period, issued_on, due_on, issued_by)
        VALUES (c.park_id, c.id, date_trunc('month', v_day)::date, v_day, COALESCE(v_due, v_day), current_actor())
        RETURNING id INTO v_bill;
      END IF;
      INSERT INTO bill_line (park_id, bill_id, contract_id, charge_id, kind, period_start, period_end, amount, explain,
                             line_type, amendment_id)
      VALUES (c.park_id, v_bill, c.id, r.charge_id, r.kind, r.first_day, r.last_day, v_left,
              CASE WHEN v_left = r.now - r.was THEN v_text ELSE v_text || format('; %s of it on this bill', money_text(v_left)) END,
              'adjustment', v_amendment);
      v_lines := v_lines + 1;
    END IF;
  END LOOP;

  IF v_held = 0 THEN
    -- the amendments' trigger checks that nothing is left to re-bill before it lets this through
    UPDATE amendment SET rebilled_at = now()
     WHERE contract_id = c.id AND state = 'approved' AND rebilled_at IS NULL;
  ELSE
    RAISE NOTICE 'rebill: % period(s) of contract % wait for a price index month or a turnover report; the next bill run re-bills them',
      v_held, c.code;
  END IF;
  RETURN v_lines;
END
$fn$;
COMMENT ON FUNCTION leasemgr.rebill(bigint) IS
  'Re-bills a contract after approved amendments: every period already billed that ends on or after the first day they changed is computed again with the terms now in force, and the difference from what was billed (charge and adjustment lines of bills not void) is issued as adjustment lines, never by editing a line. A credit goes on the bill that charged the period as far as that bill is unpaid; the rest and every debit go on one new bill. Idempotent: run again, it finds nothing to adjust. Metered charges are not re-billed. Waits for a bill run of the park in progress. Returns the number of lines issued.';

-- Versions and area history are written by an approval only.
CREATE FUNCTION leasemgr.amendment_record_guard() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
BEGIN
  IF TG_OP = 'INSERT' AND owner_copy(TG_RELID) THEN
    RETURN NEW;  -- a restore: as dumped
  END IF;
  -- an update only marks a change superseded, once
  IF amendment_applying() IS DISTINCT FROM NEW.contract_id
     OR (TG_OP = 'UPDATE' AND (to_jsonb(OLD) ->> 'superseded_by' IS NOT NULL
                              OR (to_jsonb(NEW) - 'superseded_by') IS DISTINCT FROM (to_jsonb(OLD) - 'superseded_by'))) THEN
    RAISE EXCEPTION USING ERRCODE = 'LM010',
      MESSAGE = format('leasemgr.%s is written by amendment approvals only', TG_TABLE_NAME),
      DETAIL = format('Contract %s has no amendment being approved in this session.', NEW.contract_id),
      HINT = 'Approve an amendment with leasemgr.amendment_approve; its history is recorded then.';
  END IF;
  RETURN NEW;
END
$fn$;
COMMENT ON FUNCTION leasemgr.amendment_record_guard() IS
  'Trigger: rows of leasemgr.contract_version and leasemgr.unit_area_change are written only while leasemgr.amendment_approve applies an amendment of their contract (SQLSTATE LM010).';
CREATE TRIGGER amendment_record_guard BEFORE INSERT ON leasemgr.contract_version
  FOR EACH ROW EXECUTE FUNCTION leasemgr.amendment_record_guard();
CREATE TRIGGER amendment_record_guard BEFORE INSERT OR UPDATE ON leasemgr.unit_area_change
  FOR EACH ROW EXECUTE FUNCTION leasemgr.amendment_record_guard();

-- ---- security, dump -------------------------------------------------------------------------

ALTER TABLE leasemgr.amendment ENABLE ROW LEVEL SECURITY;
CREATE POLICY park_scope ON leasemgr.amendment USING ((SELECT leasemgr.sees_all_parks())
  OR park_id OPERATOR(pg_catalog.=) ANY ((SELECT leasemgr.visible_parks())::bigint[]));
COMMENT ON POLICY park_scope ON leasemgr.amendment IS
  'Rows of the parks granted to the role (leasemgr.grant_park); every park for leasemgr_admin.';
ALTER TABLE leasemgr.contract_version ENABLE ROW LEVEL SECURITY;
CREATE POLICY park_scope ON leasemgr.contract_version USING ((SELECT leasemgr.sees_all_parks())
  OR park_id OPERATOR(pg_catalog.=) ANY ((SELECT leasemgr.visible_parks())::bigint[]));
COMMENT ON POLICY park_scope ON leasemgr.contract_version IS
  'Rows of the parks granted to the role (leasemgr.grant_park); every park for leasemgr_admin.';
ALTER TABLE leasemgr.unit_area_change ENABLE ROW LEVEL SECURITY;
CREATE POLICY park_scope ON leasemgr.unit_area_change USING ((SELECT leasemgr.sees_all_parks())
  OR park_id OPERATOR(pg_catalog.=) ANY ((SELECT leasemgr.visible_parks())::bigint[]));
COMMENT ON POLICY park_scope ON leasemgr.unit_area_change IS
  'Rows of the parks granted to the role (leasemgr.grant_park); every park for leasemgr_admin.';

CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON leasemgr.amendment
  FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row();
CREATE TRIGGER truncate_guard BEFORE TRUNCATE ON leasemgr.amendment
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.truncate_guard();
CREATE TRIGGER ledger_guard BEFORE UPDATE OR DELETE ON leasemgr.contract_version
  FOR EACH ROW EXECUTE FUNCTION leasemgr.ledger_guard();
CREATE TRIGGER ledger_guard_truncate BEFORE TRUNCATE ON leasemgr.contract_version
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.ledger_guard();
CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON leasemgr.unit_area_change
  FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row();
CREATE TRIGGER truncate_guard BEFORE TRUNCATE ON leasemgr.unit_area_change
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.truncate_guard();

REVOKE ALL ON leasemgr.amendment, leasemgr.contract_version, leasemgr.unit_area_change FROM PUBLIC;
GRANT SELECT ON leasemgr.amendment, leasemgr.contract_version, leasemgr.unit_area_change TO leasemgr_reader;
-- Operators open, approve and withdraw amendments; approval writes the version and area history.
GRANT INSERT (contract_id, changes, reason), UPDATE (state, decision_note, version, rebilled_at) ON leasemgr.amendment TO leasemgr_operator;
GRANT UPDATE (rebilled_at) ON leasemgr.amendment TO leasemgr_finance;
GRANT INSERT ON leasemgr.contract_version TO leasemgr_operator;
GRANT INSERT, UPDATE (superseded_by) ON leasemgr.unit_area_change TO leasemgr_operator;
REVOKE ALL ON FUNCTION leasemgr.amendment_before_write(), leasemgr.amendment_after_write(), leasemgr.amendment_record_guard(),
  leasemgr.amendment_open(bigint, jsonb, text), leasemgr.amendment_approve(bigint, text),
  leasemgr.amendment_apply(bigint, text), leasemgr.amendment_withdraw(bigint, text),
  leasemgr.split_charge(bigint, date, bigint), leasemgr.rebill(bigint), leasemgr.contract_terms(bigint),
  leasemgr.contract_area_on(bigint, date), leasemgr.amendment_date(jsonb, text),
  leasemgr.amendment_amount(jsonb, text, integer, integer), leasemgr.amendment_list(jsonb, text, text[]),
  leasemgr.amendment_unit(text, text, jsonb, bigint[]), leasemgr.amendment_allocations_open(text, text, bigint, date, text),
  leasemgr.amendment_metered_billed(bigint, bigint, date), leasemgr.charge_on(bigint, date), leasemgr.charge_billed_through(bigint), leasemgr.amendment_check(bigint, jsonb),
  leasemgr.amendment_applying(), leasemgr.amendment_diff(bigint), leasemgr.charge_periods(bigint, date, date),
  leasemgr.rebill_lines(bigint, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leasemgr.contract_terms(bigint), leasemgr.contract_area_on(bigint, date),
  leasemgr.amendment_date(jsonb, text), leasemgr.amendment_amount(jsonb, text, integer, integer),
  leasemgr.amendment_list(jsonb, text, text[]), leasemgr.amendment_unit(text, text, jsonb, bigint[]),
  leasemgr.amendment_allocations_open(text, text, bigint, date, text), leasemgr.amendment_metered_billed(bigint, bigint, date),
  leasemgr.charge_on(bigint, date), leasemgr.charge_billed_through(bigint), leasemgr.amendment_check(bigint, jsonb), leasemgr.amendment_applying(), leasemgr.amendment_diff(bigint),
  leasemgr.charge_periods(bigint, date, date), leasemgr.rebill_lines(bigint, date) TO leasemgr_reader;
GRANT EXECUTE ON FUNCTION leasemgr.amendment_open(bigint, jsonb, text), leasemgr.amendment_approve(bigint, text),
  leasemgr.amendment_apply(bigint, text), leasemgr.amendment_withdraw(bigint, text),
  leasemgr.split_charge(bigint, date, bigint) TO leasemgr_operator;
GRANT EXECUTE ON FUNCTION leasemgr.rebill(bigint) TO leasemgr_finance;

SELECT pg_catalog.pg_extension_config_dump('leasemgr.amendment', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.amendment_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.contract_version', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.unit_area_change', '');
