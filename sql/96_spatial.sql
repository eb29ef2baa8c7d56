-- Spatial occupancy (issue 6): floor plans, the rules of unit footprints, the status and colour
-- of every unit on a day, and occupancy by park, building, floor and kind. docs/spatial.md.
--
-- The functions that call PostGIS are SQL-standard bodies (BEGIN ATOMIC): they are bound to
-- PostGIS's functions when the extension is installed, whatever schema PostGIS lives in and
-- whatever the caller's search_path is. plpgsql triggers call them for the facts and raise.

-- ---- floor plans -----------------------------------------------------------------------------

CREATE TABLE leasemgr.floor_plan (
  park_id     bigint NOT NULL,
  building_id bigint NOT NULL,
  floor       integer NOT NULL CHECK (floor BETWEEN -20 AND 300),
  name        text CHECK (pg_catalog.btrim(name) <> ''),
  outline     geometry(Polygon, 0) NOT NULL CHECK (ST_IsValid(outline)),
  PRIMARY KEY (building_id, floor),
  FOREIGN KEY (building_id, park_id) REFERENCES leasemgr.building (id, park_id)
);
CREATE INDEX floor_plan_park_idx ON leasemgr.floor_plan (park_id);
COMMENT ON TABLE leasemgr.floor_plan IS
  'The outline of one floor of a building (楼层平面), in floor-plan metres (SRID 0, the building''s own frame, the same origin on every floor). Unit footprints of the floor lie inside it.';
COMMENT ON COLUMN leasemgr.floor_plan.park_id IS 'The park of the building; filled in from the building.';
COMMENT ON COLUMN leasemgr.floor_plan.building_id IS 'The building.';
COMMENT ON COLUMN leasemgr.floor_plan.floor IS 'The floor, as leasemgr.unit.floor (negative for basements).';
COMMENT ON COLUMN leasemgr.floor_plan.name IS 'How the floor is called on signs, e.g. 3F or B1. Optional.';
COMMENT ON COLUMN leasemgr.floor_plan.outline IS 'The floor''s usable outline: a valid polygon with an area, in metres. It must cover every unit footprint of the floor.';

-- What is wrong with a footprint for a unit of a building's floor, or nothing: the first
-- problem, as (message, detail, hint). Each check runs only on a valid geometry.
CREATE FUNCTION leasemgr.footprint_problem(unit_code text, building_id bigint, floor integer, unit_id bigint,
                                           footprint geometry)
  RETURNS TABLE (message text, detail text, hint text)
  LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT p.message, p.detail, p.hint
    FROM (
      SELECT 1 AS n, pg_catalog.format('the footprint of unit %s is not a valid polygon', footprint_problem.unit_code) AS message,
             pg_catalog.format('PostGIS says: %s.', ST_IsValidReason(footprint_problem.footprint)) AS detail,
             'Fix the drawing: every ring closed, no self-intersection, holes inside the shell (ST_MakeValid shows a repaired one).' AS hint
       WHERE NOT (ST_IsValidDetail(footprint_problem.footprint)).valid
      UNION ALL
      SELECT 2, pg_catalog.format('the footprint of unit %s has no area', footprint_problem.unit_code),
             pg_catalog.format('It is %s.', ST_AsText(footprint_problem.footprint)),
             'Draw the unit as a polygon of its floor area, in metres.'
       WHERE (ST_IsValidDetail(footprint_problem.footprint)).valid AND (ST_IsEmpty(footprint_problem.footprint) OR ST_Area(footprint_problem.footprint) OPERATOR(pg_catalog.<=) 0)
      UNION ALL
      SELECT 3, pg_catalog.format('floor %s of building %s has no floor plan', footprint_problem.floor, b.code),
             pg_catalog.format('Unit %s is drawn on a floor that is not.', footprint_problem.unit_code),
             'Draw the floor first: INSERT INTO leasemgr.floor_plan (building_id, floor, outline).'
        FROM leasemgr.building b
       WHERE b.id OPERATOR(pg_catalog.=) footprint_problem.building_id
         AND NOT EXISTS (SELECT FROM leasemgr.floor_plan f
                          WHERE f.building_id OPERATOR(pg_catalog.=) footprint_problem.building_id
                            AND f.floor OPERATOR(pg_catalog.=) footprint_problem.floor)
      UNION ALL
      SELECT 4, pg_catalog.format('unit %s lies partly outside floor %s of building %s', footprint_problem.unit_code, footprint_problem.floor, b.code),
             pg_catalog.format('%s m² of its %s m² are outside the floor''s outline.',
                               pg_catalog.round(ST_Area(ST_Difference(footprint_problem.footprint, f.outline))::numeric, 2),
                               pg_catalog.round(ST_Area(footprint_problem.footprint)::numeric, 2)),
             'Draw the unit inside the floor plan (leasemgr.floor_plan.outline), in the same floor-plan metres.'
        FROM leasemgr.floor_plan f JOIN leasemgr.building b ON b.id OPERATOR(pg_catalog.=) f.building_id
       WHERE f.building_id OPERATOR(pg_catalog.=) footprint_problem.building_id
         AND f.floor OPERATOR(pg_catalog.=) footprint_problem.floor
         AND (ST_IsValidDetail(footprint_problem.footprint)).valid AND NOT ST_CoveredBy(footprint_problem.footprint, f.outline)
      UNION ALL
      SELECT 5, pg_catalog.format('unit %s overlaps unit %s on floor %s of building %s', footprint_problem.unit_code, o.code, footprint_problem.floor, b.code),
             pg_catalog.format('The two footprints share %s m²; units may share a wall, not floor space.',
                               pg_catalog.round(ST_Area(ST_Intersection(footprint_problem.footprint, o.footprint))::numeric, 2)),
             pg_catalog.format('Correct the drawing of %s or of %s.', footprint_problem.unit_code, o.code)
        FROM leasemgr.unit o JOIN leasemgr.building b ON b.id OPERATOR(pg_catalog.=) o.building_id
       WHERE o.building_id OPERATOR(pg_catalog.=) footprint_problem.building_id
         AND o.floor OPERATOR(pg_catalog.=) footprint_problem.floor
         AND o.id OPERATOR(pg_catalog.<>) COALESCE(footprint_problem.unit_id, 0)
         AND o.footprint OPERATOR(&&) footprint_problem.footprint
         AND (ST_IsValidDetail(footprint_problem.footprint)).valid
         AND ST_Relate(o.footprint, footprint_problem.footprint, '2********')
         -- a drawing's rounding (a wall at 9.999999 against 10) is not an overlap
         AND ST_Area(ST_Intersection(o.footprint, footprint_problem.footprint)) OPERATOR(pg_catalog.>) 0.01::float8
    ) p
   ORDER BY p.n
   LIMIT 1;
END;
COMMENT ON FUNCTION leasemgr.footprint_problem(text, bigint, integer, bigint, geometry) IS
  'Internal: the first thing wrong with a unit footprint on a building''s floor (invalid, no area, no floor plan, outside the floor, overlapping another unit), as message, detail and hint; no row when it is fine.';

-- Every writer of a unit footprint meets the rules (SQLSTATE LM022). Writers of one floor take
-- turns, so two overlapping units cannot both get in.
CREATE FUNCTION leasemgr.unit_footprint_check() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  p record;
BEGIN
  IF NEW.footprint IS NULL OR (TG_OP = 'INSERT' AND owner_copy(TG_RELID)) THEN
    RETURN NEW;
  END IF;
  -- writers of a floor take turns under a lock, which a REPEATABLE READ snapshot would not see past
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = format('the footprint of unit %s is written in READ COMMITTED only', NEW.code),
      DETAIL = format('This transaction is %s: it would not see a footprint another session drew meanwhile.',
                      current_setting('transaction_isolation')),
      HINT = 'Write footprints in a READ COMMITTED transaction (the default).';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('leasemgr.floor'), hashtext(NEW.building_id::text || '/' || NEW.floor::text));
  SELECT * INTO p FROM footprint_problem(NEW.code, NEW.building_id, NEW.floor, NEW.id, NEW.footprint);
  IF FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'LM022', MESSAGE = p.message, DETAIL = p.detail, HINT = p.hint;
  END IF;
  RETURN NEW;
END
$fn$;
COMMENT ON FUNCTION leasemgr.unit_footprint_check() IS
  'Trigger: a unit footprint written is a valid polygon with an area, inside its floor''s plan, overlapping no other unit of the floor (SQLSTATE LM022). pg_restore loads rows as they were.';
CREATE TRIGGER unit_footprint_check BEFORE INSERT ON leasemgr.unit
  FOR EACH ROW WHEN (NEW.footprint IS NOT NULL) EXECUTE FUNCTION leasemgr.unit_footprint_check();
CREATE TRIGGER unit_footprint_change_check BEFORE UPDATE OF footprint, floor, building_id ON leasemgr.unit
  FOR EACH ROW WHEN (NEW.footprint IS NOT NULL AND
                     (NEW.footprint IS DISTINCT FROM OLD.footprint
                      OR NEW.floor IS DISTINCT FROM OLD.floor OR NEW.building_id IS DISTINCT FROM OLD.building_id))
  EXECUTE FUNCTION leasemgr.unit_footprint_check();

-- The units of a floor that a new outline would leave partly outside, in words; NULL if none.
CREATE FUNCTION leasemgr.floor_plan_leaves_out(building_id bigint, floor integer, outline geometry) RETURNS text
  LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT pg_catalog.string_agg(CASE WHEN outline IS NULL THEN u.code
                                    ELSE pg_catalog.format('%s (%s m² outside)', u.code,
                                                           pg_catalog.round(ST_Area(ST_Difference(u.footprint, outline))::numeric, 2)) END,
                               ', ' ORDER BY u.code)
    FROM leasemgr.unit u
   WHERE u.building_id OPERATOR(pg_catalog.=) floor_plan_leaves_out.building_id
     AND u.floor OPERATOR(pg_catalog.=) floor_plan_leaves_out.floor
     AND u.footprint IS NOT NULL
     AND (outline IS NULL OR NOT ST_CoveredBy(u.footprint, outline));
END;
COMMENT ON FUNCTION leasemgr.floor_plan_leaves_out(bigint, integer, geometry) IS
  'Internal: the units of a floor with a footprint that an outline would not cover (all of them for a NULL outline), in words; NULL when none.';

CREATE FUNCTION leasemgr.floor_plan_is_polygon(outline geometry) RETURNS text
  LANGUAGE sql IMMUTABLE
BEGIN ATOMIC
  SELECT CASE WHEN NOT (ST_IsValidDetail(outline)).valid THEN pg_catalog.format('PostGIS says: %s.', ST_IsValidReason(outline))
              WHEN ST_IsEmpty(outline) OR ST_Area(outline) OPERATOR(pg_catalog.<=) 0 THEN 'It has no area.'
         END;
END;
COMMENT ON FUNCTION leasemgr.floor_plan_is_polygon(geometry) IS
  'Internal: why an outline is not a usable floor plan (invalid, or without area), in words; NULL when it is.';

CREATE FUNCTION leasemgr.floor_plan_before_write() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  v_code text;
  v_why text;
  v_out text;
BEGIN
  IF TG_OP = 'INSERT' AND owner_copy(TG_RELID) THEN
    RETURN NEW;
  END IF;
  IF TG_OP <> 'INSERT' THEN
    PERFORM pg_advisory_xact_lock(hashtext('leasemgr.floor'), hashtext(OLD.building_id::text || '/' || OLD.floor::text));
    SELECT b.code INTO v_code FROM building b WHERE b.id = OLD.building_id;
    -- the floor a plan leaves (deleted, or moved to another building or floor) keeps no unit
    IF TG_OP = 'DELETE' OR (NEW.building_id, NEW.floor) IS DISTINCT FROM (OLD.building_id, OLD.floor) THEN
      v_out := floor_plan_leaves_out(OLD.building_id, OLD.floor, NULL);
      IF v_out IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'LM022',
          MESSAGE = format('floor %s of building %s has units drawn on it', OLD.floor, v_code),
          DETAIL = format('Drawn on it: %s.', v_out),
          HINT = 'Remove or move their footprints first (UPDATE leasemgr.unit SET footprint = ...).';
      END IF;
    END IF;
    IF TG_OP = 'DELETE' THEN
      RETURN OLD;
    END IF;
  END IF;
  SELECT b.code, b.park_id INTO v_code, NEW.park_id FROM building b WHERE b.id = NEW.building_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'LM009',
      MESSAGE = format('building %s does not exist', NEW.building_id),
      HINT = 'Check the id; rows of parks you have not been granted are not visible to you.';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('leasemgr.floor'), hashtext(NEW.building_id::text || '/' || NEW.floor::text));
  v_why := floor_plan_is_polygon(NEW.outline);
  IF v_why IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LM022',
      MESSAGE = format('the outline of floor %s of building %s is not a usable polygon', NEW.floor, v_code),
      DETAIL = v_why,
      HINT = 'Draw the floor as one valid polygon with an area, in floor-plan metres.';
  END IF;
  v_out := floor_plan_leaves_out(NEW.building_id, NEW.floor, NEW.outline);
  IF v_out IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LM022',
      MESSAGE = format('the outline of floor %s of building %s leaves units outside', NEW.floor, v_code),
      DETAIL = format('Outside it: %s.', v_out),
      HINT = 'Draw the floor around all its units, or correct their footprints first.';
  END IF;
  RETURN NEW;
END
$fn$;
COMMENT ON FUNCTION leasemgr.floor_plan_before_write() IS
  'Trigger: a floor plan is a valid polygon with an area that covers every unit drawn on the floor; a floor with units drawn on it is not removed (SQLSTATE LM022). The park is taken from the building.';
CREATE TRIGGER floor_plan_before_write BEFORE INSERT OR UPDATE OR DELETE ON leasemgr.floor_plan
  FOR EACH ROW EXECUTE FUNCTION leasemgr.floor_plan_before_write();

-- ---- settings and market levels --------------------------------------------------------------

CREATE TABLE leasemgr.occupancy_policy (
  park_id              bigint PRIMARY KEY REFERENCES leasemgr.park (id),
  vacant_red_days      integer NOT NULL DEFAULT 30 CHECK (vacant_red_days BETWEEN 0 AND 3660),
  below_market_red_pct numeric(5,2) NOT NULL DEFAULT 15.00 CHECK (below_market_red_pct BETWEEN 0 AND 100),
  expiring_days        integer NOT NULL DEFAULT 90 CHECK (expiring_days BETWEEN 0 AND 3660),
  moving_out_red_days  integer NOT NULL DEFAULT 30 CHECK (moving_out_red_days BETWEEN 0 AND 3660)
);
COMMENT ON TABLE leasemgr.occupancy_policy IS
  'A park''s thresholds for the colours of leasemgr.unit_status. A park without a row uses the column defaults.';
COMMENT ON COLUMN leasemgr.occupancy_policy.park_id IS 'The park.';
COMMENT ON COLUMN leasemgr.occupancy_policy.vacant_red_days IS 'A unit vacant more than this many days is red. Default 30.';
COMMENT ON COLUMN leasemgr.occupancy_policy.below_market_red_pct IS 'A unit leased at a rent per m² more than this many percent below the market level of its kind is red. Default 15.00.';
COMMENT ON COLUMN leasemgr.occupancy_policy.expiring_days IS 'A lease ending within this many days (and not renewed) is expiring: yellow. Default 90.';
COMMENT ON COLUMN leasemgr.occupancy_policy.moving_out_red_days IS 'A lease ended more than this many days ago and still not closed (the move-out not finished) is red. Default 30.';

CREATE TABLE leasemgr.market_rent (
  park_id     bigint NOT NULL REFERENCES leasemgr.park (id),
  kind        text NOT NULL CHECK (kind IN ('office', 'apartment', 'shop', 'warehouse', 'workshop',
                                            'parking', 'ad_space', 'workstation')),
  valid_from  date NOT NULL,
  rent_per_m2 numeric(12,4) NOT NULL CHECK (rent_per_m2 > 0),
  note        text,
  PRIMARY KEY (park_id, kind, valid_from)
);
COMMENT ON TABLE leasemgr.market_rent IS
  'The market rent level of a park for a kind of unit (市场租金水平), from a day: the level in force on a day is the row with the latest valid_from on or before it. leasemgr.unit_status compares each lease''s rent with it.';
COMMENT ON COLUMN leasemgr.market_rent.park_id IS 'The park.';
COMMENT ON COLUMN leasemgr.market_rent.kind IS 'The kind of unit, as leasemgr.unit.kind.';
COMMENT ON COLUMN leasemgr.market_rent.valid_from IS 'First day of this level.';
COMMENT ON COLUMN leasemgr.market_rent.rent_per_m2 IS 'CNY per m² and month, 4 decimals, > 0.';
COMMENT ON COLUMN leasemgr.market_rent.note IS 'Where the figure comes from, e.g. a broker''s survey. Optional.';

-- ---- short holds -----------------------------------------------------------------------------

CREATE TABLE leasemgr.unit_reservation (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  park_id     bigint NOT NULL,
  unit_id     bigint NOT NULL,
  held        tstzrange NOT NULL CHECK (NOT pg_catalog.isempty(held) AND NOT pg_catalog.lower_inf(held) AND NOT pg_catalog.upper_inf(held)),
  tenant_id   bigint,
  note        text NOT NULL CHECK (pg_catalog.btrim(note) <> ''),
  reserved_by text NOT NULL,
  reserved_at timestamptz NOT NULL,
  released_by text,
  released_at timestamptz,
  CONSTRAINT unit_reservation_unit_fk FOREIGN KEY (unit_id, park_id) REFERENCES leasemgr.unit (id, park_id),
  CONSTRAINT unit_reservation_tenant_fk FOREIGN KEY (tenant_id) REFERENCES leasemgr.tenant (id),
  CONSTRAINT unit_reservation_released CHECK ((released_at IS NULL) = (released_by IS NULL)),
  -- two agents never promise the same unit for the same moment
  CONSTRAINT unit_reservation_no_overlap
    EXCLUDE USING gist (unit_id WITH OPERATOR(pg_catalog.=), held WITH OPERATOR(pg_catalog.&&)) WHERE (released_at IS NULL)
);
COMMENT ON TABLE leasemgr.unit_reservation IS
  'Short holds on units (预留): while a hold is in force and not released, no other hold overlaps it (exclusion constraint) and only its tenant''s lease (or, for a hold without a tenant, a lease submitted by the agent who made it) is submitted for the unit. Written by leasemgr.reserve_units and leasemgr.release_units; never deleted.';
COMMENT ON COLUMN leasemgr.unit_reservation.id IS 'Hold identifier.';
COMMENT ON COLUMN leasemgr.unit_reservation.park_id IS 'The park of the unit.';
COMMENT ON COLUMN leasemgr.unit_reservation.unit_id IS 'The unit held.';
COMMENT ON COLUMN leasemgr.unit_reservation.held IS 'From when to when the unit is held: [the moment of reservation, until).';
COMMENT ON COLUMN leasemgr.unit_reservation.tenant_id IS 'The tenant the unit is held for; NULL: held for the agent''s own prospect.';
COMMENT ON COLUMN leasemgr.unit_reservation.note IS 'Why, e.g. the prospect and the viewing.';
COMMENT ON COLUMN leasemgr.unit_reservation.reserved_by IS 'Who made the hold (leasemgr.actor, else the login).';
COMMENT ON COLUMN leasemgr.unit_reservation.reserved_at IS 'When.';
COMMENT ON COLUMN leasemgr.unit_reservation.released_by IS 'Who released it early; NULL while it runs to its end.';
COMMENT ON COLUMN leasemgr.unit_reservation.released_at IS 'When it was released early.';
CREATE INDEX unit_reservation_unit_idx ON leasemgr.unit_reservation (unit_id);

CREATE FUNCTION leasemgr.unit_reservation_before_write() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  u record;
  r record;
BEGIN
  IF TG_OP = 'INSERT' AND owner_copy(TG_RELID) THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION USING ERRCODE = 'LM010',
      MESSAGE = format('hold %s cannot be deleted', OLD.id),
      HINT = 'Release it (leasemgr.release_units); holds stay on record.';
  END IF;
  IF TG_OP = 'INSERT' THEN
    -- the rules of a hold, for every writer (reserve_units writes through them)
    SELECT un.code, un.park_id INTO u FROM unit un WHERE un.id = NEW.unit_id;
    IF NOT FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'LM009',
        MESSAGE = format('unit %s does not exist', NEW.unit_id),
        HINT = 'Check the ids; units of parks you have not been granted are not visible to you.';
    END IF;
    NEW.park_id := u.park_id;
    IF isempty(NEW.held) OR upper_inf(NEW.held) OR upper(NEW.held) <= now() OR upper(NEW.held) > now() + interval '30 days' THEN
      RAISE EXCEPTION USING ERRCODE = 'LM011',
        MESSAGE = 'a hold ends after now and within 30 days',
        DETAIL = format('until is %s; it is now %s.', upper(NEW.held), now()),
        HINT = 'A hold is short: sign a lease to keep a unit longer.';
    END IF;
    NEW.held := tstzrange(now(), upper(NEW.held));  -- a hold starts when it is made
    IF NEW.tenant_id IS NOT NULL AND NOT EXISTS (SELECT FROM tenant t WHERE t.id = NEW.tenant_id AND t.park_id = u.park_id) THEN
      RAISE EXCEPTION USING ERRCODE = 'LM009',
        MESSAGE = format('tenant %s is not a tenant of the park of unit %s', NEW.tenant_id, u.code),
        HINT = 'Name a tenant of the same park, or none.';
    END IF;
    -- a unit a live lease holds on one of the days of the hold is not free to promise
    SELECT c.code, lower(cu.held_range) AS first_day, upper(cu.held_range) - 1 AS last_day INTO r
      FROM contract_unit cu JOIN contract c ON c.id = cu.contract_id
     WHERE cu.unit_id = NEW.unit_id AND cu.is_live
       AND cu.held_range && daterange(local_date(now()), local_date(upper(NEW.held)), '[]')
     ORDER BY lower(cu.held_range) LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'LM006',
        MESSAGE = format('unit %s is not free to reserve', u.code),
        DETAIL = format('Contract %s holds it from %s to %s.', r.code, r.first_day, r.last_day),
        HINT = 'Reserve vacant units (leasemgr.unit_status, leasemgr.find_contiguous_space).';
    END IF;
    NEW.reserved_by := current_actor();
    NEW.reserved_at := now();
    NEW.released_by := NULL;
    NEW.released_at := NULL;
    RETURN NEW;
  END IF;
  IF (NEW.id, NEW.park_id, NEW.unit_id, NEW.held, NEW.tenant_id, NEW.note, NEW.reserved_by, NEW.reserved_at)
       IS DISTINCT FROM (OLD.id, OLD.park_id, OLD.unit_id, OLD.held, OLD.tenant_id, OLD.note, OLD.reserved_by, OLD.reserved_at)
     OR OLD.released_at IS NOT NULL OR NEW.released_at IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LM010',
      MESSAGE = format('hold %s cannot be changed', OLD.id),
      DETAIL = 'A hold is released once, early, and otherwise runs to its end as made.',
      HINT = 'Release it (leasemgr.release_units) and make a new one.';
  END IF;
  NEW.released_by := current_actor();
  NEW.released_at := now();
  RETURN NEW;
END
$fn$;
COMMENT ON FUNCTION leasemgr.unit_reservation_before_write() IS
  'Trigger: a hold starts when it is made and ends within 30 days (LM011), is for a tenant of the unit''s park (LM009), never over a live lease''s days (LM006), and is stamped with who made it and when; it is released once (stamped), never otherwise changed or deleted (LM010). Overlapping holds are refused by the exclusion constraint.';
CREATE TRIGGER unit_reservation_before_write BEFORE INSERT OR UPDATE OR DELETE ON leasemgr.unit_reservation
  FOR EACH ROW EXECUTE FUNCTION leasemgr.unit_reservation_before_write();

CREATE FUNCTION leasemgr.reserve_units(unit_ids bigint[], until timestamptz, note text, tenant_id bigint DEFAULT NULL)
  RETURNS bigint[]
  LANGUAGE plpgsql
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  u record;
  r record;
  v_ids bigint[] := '{}';
  v_id bigint;
  v_park bigint;
BEGIN
  IF unit_ids IS NULL OR cardinality(unit_ids) = 0 OR until IS NULL OR note IS NULL OR btrim(note) = ''
     OR EXISTS (SELECT FROM unnest(unit_ids) x WHERE x IS NULL) THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = 'reserve_units needs units, an end and a note',
      DETAIL = format('unit_ids is %s, until is %s, note is %s.', COALESCE(unit_ids::text, 'NULL'),
                      COALESCE(until::text, 'NULL'), COALESCE(quote_literal(note), 'NULL')),
      HINT = 'E.g. leasemgr.reserve_units(ARRAY[12, 13], now() + interval ''3 days'', ''viewing with Acme on Friday'').';
  END IF;
  FOR u IN SELECT x.id, un.code, un.park_id FROM unnest(unit_ids) WITH ORDINALITY x(id, n)
             LEFT JOIN unit un ON un.id = x.id ORDER BY x.n LOOP
    IF u.code IS NULL THEN
      RAISE EXCEPTION USING ERRCODE = 'LM009',
        MESSAGE = format('unit %s does not exist', u.id),
        HINT = 'Check the ids; units of parks you have not been granted are not visible to you.';
    END IF;
    IF v_park IS NOT NULL AND u.park_id <> v_park THEN
      RAISE EXCEPTION USING ERRCODE = 'LM011',
        MESSAGE = 'the units of one hold are of one park',
        DETAIL = format('Unit %s is of another park than the units before it.', u.code),
        HINT = 'Reserve the units of each park with a call of their own.';
    END IF;
    v_park := u.park_id;
    -- the trigger checks the end, the tenant and the leases; an overlapping hold is named here
    SELECT x.reserved_by, upper(x.held) AS until_then, t.name AS tenant INTO r
      FROM unit_reservation x LEFT JOIN tenant t ON t.id = x.tenant_id
     WHERE x.unit_id = u.id AND x.released_at IS NULL
       AND x.held && tstzrange(LEAST(now(), reserve_units.until), reserve_units.until, '[]')
     LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'LM006',
        MESSAGE = format('unit %s is already reserved', u.code),
        DETAIL = format('%s holds it until %s%s.', r.reserved_by, r.until_then, COALESCE(' for ' || r.tenant, '')),
        HINT = 'Ask them, or wait for the hold to end.';
    END IF;
    INSERT INTO unit_reservation (unit_id, held, tenant_id, note)
    VALUES (u.id, tstzrange(LEAST(now(), reserve_units.until), reserve_units.until, '[]'), reserve_units.tenant_id,
            reserve_units.note)
    RETURNING id INTO v_id;
    v_ids := v_ids || v_id;
  END LOOP;
  RETURN v_ids;
END
$fn$;
COMMENT ON FUNCTION leasemgr.reserve_units(bigint[], timestamptz, text, bigint) IS
  'Holds units of one park from now until a moment within 30 days, for a tenant or for the agent''s prospect: the exclusion rules keep two agents from promising the same unit (LM006 names who holds it), and only the holder''s lease is submitted for the unit meanwhile. A unit a live lease holds during those days is refused. Returns the hold ids, in the order of unit_ids.';

CREATE FUNCTION leasemgr.release_units(reservation_ids bigint[]) RETURNS integer
  LANGUAGE sql
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
  WITH x AS (UPDATE unit_reservation SET released_at = now(), released_by = current_actor()
              WHERE id = ANY (release_units.reservation_ids) AND released_at IS NULL AND upper(held) > now()
              RETURNING 1)
  SELECT count(*)::integer FROM x
$fn$;
COMMENT ON FUNCTION leasemgr.release_units(bigint[]) IS
  'Releases holds early (stamped with who and when); returns how many were still running. Holds already over or released are left as they are.';

-- What keeps a contract's submission back: a unit of it held, now, for someone else. The
-- state machine's submit asks it.
CREATE FUNCTION leasemgr.reservation_blockers(contract_id bigint) RETURNS text
  LANGUAGE sql STABLE STRICT
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
  SELECT string_agg(format('unit %s is held until %s by %s%s', u.code, upper(x.held), x.reserved_by,
                           COALESCE(' for ' || t.name, '')), '; ' ORDER BY u.code)
    FROM contract c
    JOIN contract_unit cu ON cu.contract_id = c.id
    JOIN unit_reservation x ON x.unit_id = cu.unit_id AND x.released_at IS NULL AND x.held @> now()
    JOIN unit u ON u.id = cu.unit_id
    LEFT JOIN tenant t ON t.id = x.tenant_id
   WHERE c.id = reservation_blockers.contract_id
     AND (CASE WHEN x.tenant_id IS NOT NULL THEN x.tenant_id <> c.tenant_id ELSE x.reserved_by <> current_actor() END)
$fn$;
COMMENT ON FUNCTION leasemgr.reservation_blockers(bigint) IS
  'What keeps a contract from being submitted, in words, or NULL: a unit of it held now for another tenant (or, by a hold without a tenant, for another agent''s prospect). The state machine''s submit asks it.';

-- ---- expansion search ------------------------------------------------------------------------

-- The options of find_contiguous_space. A unit is offered when no live lease holds it from
-- today on and no hold runs now; two units touch when they share a wall of at least 1 m (their
-- outlines within 5 cm), or, across floors, when they are stacked (1 m² or more in plan).
-- Groups grow from each unit through its neighbours, as sets (each found once), until they
-- reach the area; no group has more units than the fewest that could reach it, plus one (8 at
-- most), which keeps the search to what a leasing agent would offer.
CREATE FUNCTION leasemgr.contiguous_space_options(building_id bigint, min_area_m2 numeric, floor integer,
                                                  near_unit_id bigint, today date)
  RETURNS TABLE (option integer, unit_ids bigint[], total_area numeric, floors integer[])
  LANGUAGE sql STABLE
BEGIN ATOMIC
  WITH RECURSIVE cand AS (
    SELECT u.id, u.area_m2 AS area, u.floor, u.footprint
      FROM leasemgr.unit u
     WHERE u.building_id OPERATOR(pg_catalog.=) contiguous_space_options.building_id
       AND (contiguous_space_options.floor IS NULL OR u.floor OPERATOR(pg_catalog.=) contiguous_space_options.floor)
       AND u.footprint IS NOT NULL
       AND NOT EXISTS (SELECT FROM leasemgr.contract_unit cu
                        WHERE cu.unit_id OPERATOR(pg_catalog.=) u.id AND cu.is_live
                          AND pg_catalog.upper(cu.held_range) OPERATOR(pg_catalog.>) contiguous_space_options.today)
       AND NOT EXISTS (SELECT FROM leasemgr.unit_reservation x
                        WHERE x.unit_id OPERATOR(pg_catalog.=) u.id AND x.released_at IS NULL
                          AND x.held OPERATOR(pg_catalog.@>) pg_catalog.now())
  ), edge AS (
    SELECT a.id AS a, b.id AS b
      FROM cand a JOIN cand b ON a.id OPERATOR(pg_catalog.<>) b.id
     WHERE (a.floor OPERATOR(pg_catalog.=) b.floor AND ST_DWithin(a.footprint, b.footprint, 0.05::float8)
            AND ST_Length(ST_Intersection(ST_Boundary(b.footprint), ST_Buffer(a.footprint, 0.05::float8)))
                  OPERATOR(pg_catalog.>=) 1::float8)
        OR (contiguous_space_options.floor IS NULL
            AND pg_catalog.abs(a.floor OPERATOR(pg_catalog.-) b.floor) OPERATOR(pg_catalog.=) 1
            AND a.footprint && b.footprint
            AND ST_Area(ST_Intersection(a.footprint, b.footprint)) OPERATOR(pg_catalog.>=) 1::float8)
  ), cap AS (
    SELECT LEAST(8, pg_catalog.ceil(contiguous_space_options.min_area_m2 OPERATOR(pg_catalog./) pg_catalog.max(c.area))::integer
                    OPERATOR(pg_catalog.+) 1) AS n
      FROM cand c
  ), grow (ids, total, n) AS (
    SELECT ARRAY[c.id], c.area::numeric, 1 FROM cand c
    UNION
    SELECT (SELECT pg_catalog.array_agg(x ORDER BY x) FROM pg_catalog.unnest(g.ids OPERATOR(pg_catalog.||) e.b) x),
           g.total OPERATOR(pg_catalog.+) c.area, g.n OPERATOR(pg_catalog.+) 1
      FROM grow g
      JOIN edge e ON e.a OPERATOR(pg_catalog.=) ANY (g.ids) AND e.b OPERATOR(pg_catalog.<>) ALL (g.ids)
      JOIN cand c ON c.id OPERATOR(pg_catalog.=) e.b
     WHERE g.total OPERATOR(pg_catalog.<) contiguous_space_options.min_area_m2
       AND g.n OPERATOR(pg_catalog.<) (SELECT cap.n FROM cap)
  ), near AS (
    SELECT u.footprint, u.floor FROM leasemgr.unit u WHERE u.id OPERATOR(pg_catalog.=) contiguous_space_options.near_unit_id
  ), ranked AS (
    SELECT g.ids, g.total, g.n,
           (SELECT pg_catalog.array_agg(DISTINCT c.floor ORDER BY c.floor) FROM cand c WHERE c.id OPERATOR(pg_catalog.=) ANY (g.ids)) AS floors,
           (SELECT pg_catalog.min(ST_Distance(c.footprint, nr.footprint) OPERATOR(pg_catalog.+)
                                  (1000 OPERATOR(pg_catalog.*) pg_catalog.abs(c.floor OPERATOR(pg_catalog.-) nr.floor))::float8)
              FROM cand c CROSS JOIN near nr WHERE c.id OPERATOR(pg_catalog.=) ANY (g.ids)) AS distance
      FROM grow g
     WHERE g.total OPERATOR(pg_catalog.>=) contiguous_space_options.min_area_m2
  )
  SELECT (pg_catalog.row_number() OVER (ORDER BY r.n, r.total OPERATOR(pg_catalog.-) contiguous_space_options.min_area_m2,
                                        r.distance NULLS LAST, r.ids))::integer,
         r.ids, r.total, r.floors
    FROM ranked r
   ORDER BY r.n, r.total OPERATOR(pg_catalog.-) contiguous_space_options.min_area_m2, r.distance NULLS LAST, r.ids
   LIMIT 10;
END;
COMMENT ON FUNCTION leasemgr.contiguous_space_options(bigint, numeric, integer, bigint, date) IS
  'Internal: the body of leasemgr.find_contiguous_space, as of a day.';

CREATE FUNCTION leasemgr.find_contiguous_space(building_id bigint, min_area_m2 numeric, floor integer DEFAULT NULL,
                                               near_unit_id bigint DEFAULT NULL)
  RETURNS TABLE (option integer, unit_ids bigint[], total_area numeric, floors integer[])
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  v_code text;
BEGIN
  SELECT b.code INTO v_code FROM building b WHERE b.id = find_contiguous_space.building_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'LM009',
      MESSAGE = format('building %s does not exist', find_contiguous_space.building_id),
      HINT = 'Check the id; rows of parks you have not been granted are not visible to you.';
  END IF;
  IF min_area_m2 IS NULL OR min_area_m2 <= 0 THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = 'find_contiguous_space needs the area wanted',
      DETAIL = format('min_area_m2 is %s.', COALESCE(min_area_m2::text, 'NULL')),
      HINT = 'Give the area in m², above 0.';
  END IF;
  IF near_unit_id IS NOT NULL
     AND NOT EXISTS (SELECT FROM unit u WHERE u.id = near_unit_id AND u.building_id = find_contiguous_space.building_id) THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = format('unit %s is not in building %s', near_unit_id, v_code),
      HINT = 'Give a unit of the building, e.g. the one the tenant leases now, or leave near_unit_id out.';
  END IF;
  RETURN QUERY SELECT * FROM contiguous_space_options(find_contiguous_space.building_id, min_area_m2,
                                                      find_contiguous_space.floor, near_unit_id, business_date());
END
$fn$;
COMMENT ON FUNCTION leasemgr.find_contiguous_space(bigint, numeric, integer, bigint) IS
  'Groups of units of a building free to offer (no live lease from today on, no hold running) that touch each other (a shared wall of 1 m or more; across floors, with floor NULL, units stacked on each other) and together reach the area wanted: best first (fewest units, least area beyond what was asked, closest to near_unit_id, e.g. the unit a growing tenant leases now), at most 10. docs/spatial.md.';

-- ---- the status and colour of a unit on a day -------------------------------------------------

CREATE FUNCTION leasemgr.unit_status_as_of(as_of date, park bigint DEFAULT NULL, building bigint DEFAULT NULL,
                                           on_floor integer DEFAULT NULL)
  RETURNS TABLE (unit_id bigint, unit_code text, park_id bigint, building_id bigint, building_code text,
                 floor integer, kind text, area_m2 numeric, status text, contract_id bigint, contract_code text,
                 tenant_id bigint, tenant_name text, lease_end date, vacant_since date, days_vacant integer,
                 rent_per_m2 numeric, market_rent_per_m2 numeric, below_market_pct numeric, colour text,
                 reason text, footprint geometry)
  -- park, building, on_floor: only the units there (NULL: all), so one floor or park costs
  -- what it holds. A NULL day gives no row.
  LANGUAGE sql STABLE
BEGIN ATOMIC
  WITH u AS (
    SELECT un.id, un.code, un.park_id, un.building_id, b.code AS building_code, un.floor, un.kind, un.area_m2,
           un.footprint,
           COALESCE(op.vacant_red_days, 30) AS red_days,
           COALESCE(op.below_market_red_pct, 15.00) AS red_pct,
           COALESCE(op.expiring_days, 90) AS expiring_days,
           COALESCE(op.moving_out_red_days, 30) AS moving_out_red_days
      FROM leasemgr.unit un
      JOIN leasemgr.building b ON b.id OPERATOR(pg_catalog.=) un.building_id
      LEFT JOIN leasemgr.occupancy_policy op ON op.park_id OPERATOR(pg_catalog.=) un.park_id
     WHERE unit_status_as_of.as_of IS NOT NULL
       AND (unit_status_as_of.park IS NULL OR un.park_id OPERATOR(pg_catalog.=) unit_status_as_of.park)
       AND (unit_status_as_of.building IS NULL OR un.building_id OPERATOR(pg_catalog.=) unit_status_as_of.building)
       AND (unit_status_as_of.on_floor IS NULL OR un.floor OPERATOR(pg_catalog.=) unit_status_as_of.on_floor)
  ), s AS (
    SELECT u.*, h.contract_id AS holder, h.last_day AS held_to, h.whole,
           ended.contract_id AS ender, ended.last_day AS ended_on, ended.closed_on,
           r.contract_id AS reserver, r.first_day AS reserved_from,
           hold.until_then AS hold_until, hold.reserved_by AS hold_by, hold.tenant_id AS hold_tenant
      FROM u
      -- the lease that holds the unit that day: one that ran (activated at some point)
      LEFT JOIN LATERAL (
        SELECT cu.contract_id, pg_catalog.upper(cu.held_range) OPERATOR(pg_catalog.-) 1 AS last_day,
               (pg_catalog.upper(cu.held_range) OPERATOR(pg_catalog.=) pg_catalog.upper(c.lease_range)) AS whole
          FROM leasemgr.contract_unit cu
          JOIN leasemgr.contract c ON c.id OPERATOR(pg_catalog.=) cu.contract_id
         WHERE cu.unit_id OPERATOR(pg_catalog.=) u.id
           AND c.state OPERATOR(pg_catalog.=) ANY ('{active,amending,expired,terminated,moving_out,closed}'::text[])
           AND cu.held_range OPERATOR(pg_catalog.@>) unit_status_as_of.as_of
         ORDER BY pg_catalog.lower(cu.held_range) DESC LIMIT 1) h ON true
      -- otherwise the last lease that held it before: its last day, and when its move-out
      -- closed (the lease's close or renewed event, in the operator's time zone)
      LEFT JOIN LATERAL (
        SELECT cu.contract_id, pg_catalog.upper(cu.held_range) OPERATOR(pg_catalog.-) 1 AS last_day,
               CASE WHEN pg_catalog.upper(cu.held_range) OPERATOR(pg_catalog.<) pg_catalog.upper(c.lease_range)
                    THEN pg_catalog.upper(cu.held_range) OPERATOR(pg_catalog.-) 1  -- handed back: gone that day
                    ELSE (SELECT leasemgr.local_date(pg_catalog.min(e.at))
                            FROM leasemgr.contract_event e
                           WHERE e.contract_id OPERATOR(pg_catalog.=) c.id
                             AND e.event OPERATOR(pg_catalog.=) ANY ('{close,renewed}'::text[])) END AS closed_on
          FROM leasemgr.contract_unit cu
          JOIN leasemgr.contract c ON c.id OPERATOR(pg_catalog.=) cu.contract_id
         WHERE cu.unit_id OPERATOR(pg_catalog.=) u.id AND h.contract_id IS NULL
           AND c.state OPERATOR(pg_catalog.=) ANY ('{active,amending,expired,terminated,moving_out,closed}'::text[])
           AND NOT pg_catalog.isempty(cu.held_range)
           AND pg_catalog.upper(cu.held_range) OPERATOR(pg_catalog.<=) unit_status_as_of.as_of
         ORDER BY pg_catalog.upper(cu.held_range) DESC LIMIT 1) ended ON true
      -- a lease on its way (pending approval, approved, signed) that holds the unit from that day
      -- or a later one: promised under the exclusion constraint, not yet activated
      LEFT JOIN LATERAL (
        SELECT cu.contract_id, pg_catalog.lower(cu.held_range) AS first_day
          FROM leasemgr.contract_unit cu
          JOIN leasemgr.contract c ON c.id OPERATOR(pg_catalog.=) cu.contract_id
         WHERE cu.unit_id OPERATOR(pg_catalog.=) u.id AND h.contract_id IS NULL
           AND c.state OPERATOR(pg_catalog.=) ANY ('{pending_approval,approved,signed}'::text[])
           AND pg_catalog.upper(cu.held_range) OPERATOR(pg_catalog.>) unit_status_as_of.as_of
         ORDER BY pg_catalog.lower(cu.held_range) LIMIT 1) r ON true
      -- or a short hold in force that day (leasemgr.reserve_units)
      LEFT JOIN LATERAL (
        SELECT pg_catalog.upper(x.held) AS until_then, x.reserved_by, x.tenant_id
          FROM leasemgr.unit_reservation x
         WHERE x.unit_id OPERATOR(pg_catalog.=) u.id AND h.contract_id IS NULL
           AND x.held OPERATOR(pg_catalog.&&) pg_catalog.tstzrange(leasemgr.local_midnight(unit_status_as_of.as_of),
                                                                   leasemgr.local_midnight(unit_status_as_of.as_of OPERATOR(pg_catalog.+) 1))
           AND (x.released_at IS NULL OR x.released_at OPERATOR(pg_catalog.>) leasemgr.local_midnight(unit_status_as_of.as_of))
         ORDER BY pg_catalog.upper(x.held) DESC LIMIT 1) hold ON true
  ), st AS (
    SELECT s.*,
           CASE WHEN s.holder IS NOT NULL THEN
                  CASE WHEN s.held_to OPERATOR(pg_catalog.<=) (unit_status_as_of.as_of OPERATOR(pg_catalog.+) s.expiring_days)
                        AND NOT EXISTS (SELECT FROM leasemgr.contract_unit n
                                         JOIN leasemgr.contract k ON k.id OPERATOR(pg_catalog.=) n.contract_id
                                         WHERE n.unit_id OPERATOR(pg_catalog.=) s.id AND n.contract_id OPERATOR(pg_catalog.<>) s.holder
                                           AND k.state OPERATOR(pg_catalog.<>) ALL ('{draft,cancelled}'::text[])
                                           AND pg_catalog.lower(n.held_range) OPERATOR(pg_catalog.=) (s.held_to OPERATOR(pg_catalog.+) 1))
                       THEN 'expiring' ELSE 'leased' END
                WHEN s.ender IS NOT NULL AND (s.closed_on IS NULL OR s.closed_on OPERATOR(pg_catalog.>) unit_status_as_of.as_of)
                  THEN 'moving_out'
                WHEN s.reserver IS NOT NULL OR s.hold_until IS NOT NULL THEN 'reserved'
                ELSE 'vacant' END AS status,
           CASE WHEN s.holder IS NULL AND s.ender IS NOT NULL
                THEN GREATEST(s.ended_on OPERATOR(pg_catalog.+) 1, COALESCE(s.closed_on, s.ended_on OPERATOR(pg_catalog.+) 1)) END
             AS vacant_since
      FROM s
  ), holders AS MATERIALIZED (
    SELECT DISTINCT st.holder FROM st WHERE st.holder IS NOT NULL
  ), rents AS MATERIALIZED (
    -- one call of the rent engine per lease, for all its units
    SELECT hd.holder, x.unit_id, x.rent_per_m2
      FROM holders hd CROSS JOIN LATERAL leasemgr.rent_in_force(hd.holder, unit_status_as_of.as_of) x
  ), priced AS (
    SELECT st.*, k.code AS contract_code, COALESCE(k.tenant_id, st.hold_tenant) AS tenant_id, t.name AS tenant_name,
           k.start_date AS lease_start, rf.rent_per_m2,
           (SELECT mr.rent_per_m2 FROM leasemgr.market_rent mr
             WHERE mr.park_id OPERATOR(pg_catalog.=) st.park_id AND mr.kind OPERATOR(pg_catalog.=) st.kind
               AND mr.valid_from OPERATOR(pg_catalog.<=) unit_status_as_of.as_of
             ORDER BY mr.valid_from DESC LIMIT 1) AS market
      FROM st
      LEFT JOIN leasemgr.contract k ON k.id OPERATOR(pg_catalog.=) COALESCE(st.holder,
             CASE WHEN st.status OPERATOR(pg_catalog.=) 'moving_out' THEN st.ender END, st.reserver)
      LEFT JOIN leasemgr.tenant t ON t.id OPERATOR(pg_catalog.=) COALESCE(k.tenant_id, st.hold_tenant)
      LEFT JOIN rents rf ON rf.holder OPERATOR(pg_catalog.=) st.holder AND rf.unit_id OPERATOR(pg_catalog.=) st.id
  ), judged AS (
    SELECT p.*,
           CASE WHEN p.vacant_since IS NOT NULL AND p.status OPERATOR(pg_catalog.=) ANY ('{vacant,reserved}'::text[])
                THEN ((unit_status_as_of.as_of OPERATOR(pg_catalog.-) p.vacant_since) OPERATOR(pg_catalog.+) 1) END AS days_vacant,
           CASE WHEN p.status OPERATOR(pg_catalog.=) 'moving_out'
                THEN (unit_status_as_of.as_of OPERATOR(pg_catalog.-) p.ended_on) END AS days_ended,
           CASE WHEN p.rent_per_m2 IS NOT NULL AND p.market IS NOT NULL
                THEN pg_catalog.round(((p.market OPERATOR(pg_catalog.-) p.rent_per_m2) OPERATOR(pg_catalog.*) 100)
                                      OPERATOR(pg_catalog./) p.market, 1) END AS below_pct
      FROM priced p
  )
  SELECT j.id, j.code, j.park_id, j.building_id, j.building_code, j.floor, j.kind, j.area_m2, j.status,
         COALESCE(j.holder, CASE WHEN j.status OPERATOR(pg_catalog.=) 'moving_out' THEN j.ender END, j.reserver),
         j.contract_code, j.tenant_id, j.tenant_name,
         CASE WHEN j.holder IS NOT NULL THEN j.held_to WHEN j.status OPERATOR(pg_catalog.=) 'moving_out' THEN j.ended_on END,
         CASE WHEN j.status OPERATOR(pg_catalog.=) ANY ('{vacant,reserved}'::text[]) THEN j.vacant_since END,
         j.days_vacant, j.rent_per_m2, j.market, j.below_pct,
         CASE WHEN j.status OPERATOR(pg_catalog.=) 'vacant'
                   AND (j.days_vacant IS NULL OR j.days_vacant OPERATOR(pg_catalog.>) j.red_days) THEN 'red'
              WHEN j.status OPERATOR(pg_catalog.=) 'moving_out' AND j.days_ended OPERATOR(pg_catalog.>) j.moving_out_red_days THEN 'red'
              WHEN j.status OPERATOR(pg_catalog.=) ANY ('{leased,expiring}'::text[])
                   AND j.below_pct OPERATOR(pg_catalog.>) j.red_pct THEN 'red'
              WHEN j.status OPERATOR(pg_catalog.=) ANY ('{expiring,moving_out,vacant}'::text[]) THEN 'yellow'
              WHEN j.status OPERATOR(pg_catalog.=) 'leased' AND j.rent_per_m2 IS NULL THEN 'yellow'
              ELSE 'green' END,
         CASE WHEN j.status OPERATOR(pg_catalog.=) 'vacant' AND j.days_vacant IS NULL
                THEN pg_catalog.format('never leased (red: vacant over %s days)', j.red_days)
              WHEN j.status OPERATOR(pg_catalog.=) 'vacant'
                THEN pg_catalog.format('vacant %s days since %s (red: over %s days)', j.days_vacant, j.vacant_since, j.red_days)
              WHEN j.status OPERATOR(pg_catalog.=) ANY ('{leased,expiring}'::text[])
                   AND j.below_pct OPERATOR(pg_catalog.>) j.red_pct
                THEN pg_catalog.format('rent %s/m² is %s%% below the market %s/m² (red over %s%%)%s',
                                       pg_catalog.round(j.rent_per_m2, 2), j.below_pct, pg_catalog.round(j.market, 2),
                                       pg_catalog.trim_scale(j.red_pct),
                                       CASE WHEN j.status OPERATOR(pg_catalog.=) 'expiring'
                                            THEN pg_catalog.format('; lease ends on %s', j.held_to) ELSE '' END)
              WHEN j.status OPERATOR(pg_catalog.=) 'expiring' AND NOT j.whole
                THEN pg_catalog.format('handed back after %s, in %s days (yellow within %s days)', j.held_to,
                                       j.held_to OPERATOR(pg_catalog.-) unit_status_as_of.as_of, j.expiring_days)
              WHEN j.status OPERATOR(pg_catalog.=) 'expiring'
                THEN pg_catalog.format('lease ends on %s, in %s days, not renewed (yellow within %s days)', j.held_to,
                                       j.held_to OPERATOR(pg_catalog.-) unit_status_as_of.as_of, j.expiring_days)
              WHEN j.status OPERATOR(pg_catalog.=) 'moving_out'
                THEN pg_catalog.format('lease ended on %s, %s days ago, move-out not closed (red: over %s days)',
                                       j.ended_on, j.days_ended, j.moving_out_red_days)
              WHEN j.status OPERATOR(pg_catalog.=) 'reserved' AND j.reserver IS NOT NULL
                   AND j.reserved_from OPERATOR(pg_catalog.>) unit_status_as_of.as_of
                THEN pg_catalog.format('taken from %s', j.reserved_from)
              WHEN j.status OPERATOR(pg_catalog.=) 'reserved' AND j.reserver IS NOT NULL
                THEN pg_catalog.format('taken from %s by a lease not activated yet', j.reserved_from)
              WHEN j.status OPERATOR(pg_catalog.=) 'reserved'
                THEN pg_catalog.format('held until %s by %s%s', j.hold_until, j.hold_by,
                                       COALESCE(' for ' OPERATOR(pg_catalog.||) j.tenant_name, ''))
              WHEN j.rent_per_m2 IS NULL
                THEN pg_catalog.format('leased to %s; the rent of the day is not known (a CPI index not loaded, or no rent charge)', j.held_to)
              ELSE pg_catalog.format('leased to %s', j.held_to) END,
         j.footprint
    FROM judged j
   ORDER BY j.park_id, j.building_code, j.floor, j.code;
END;
COMMENT ON FUNCTION leasemgr.unit_status_as_of(date, bigint, bigint, integer) IS
  'Every unit the reader sees (of one park, building or floor when given), as of a day: status (leased, expiring, moving_out, reserved, vacant), the lease holding or taking it, vacancy, rent per m² against the park''s market level for the kind, and a colour (red: vacant over 30 days or rent over 15% below market; yellow: expiring within 90 days, moving out, or vacant 30 days or fewer; green: leased and healthy, or taken from a later day) with the reason in words; thresholds from leasemgr.occupancy_policy. The footprint is a column, for GIS tools. docs/spatial.md.';

CREATE VIEW leasemgr.unit_status WITH (security_invoker = true) AS
SELECT * FROM leasemgr.unit_status_as_of(leasemgr.business_date());
COMMENT ON VIEW leasemgr.unit_status IS
  'Every unit the reader sees, today (leasemgr.business_date()): status, lease, vacancy, rent against market, colour and why, and the footprint in floor-plan metres, so QGIS or ogr2ogr read it as a layer. leasemgr.unit_status_as_of(date, park, building, on_floor) gives any other day, and one park, building or floor at the cost of its own units. docs/spatial.md.';
COMMENT ON COLUMN leasemgr.unit_status.unit_id IS 'Unit identifier.';
COMMENT ON COLUMN leasemgr.unit_status.unit_code IS 'Unit code, e.g. A-0301.';
COMMENT ON COLUMN leasemgr.unit_status.park_id IS 'Park identifier.';
COMMENT ON COLUMN leasemgr.unit_status.building_id IS 'Building identifier.';
COMMENT ON COLUMN leasemgr.unit_status.building_code IS 'Building code.';
COMMENT ON COLUMN leasemgr.unit_status.floor IS 'Floor number; negative for basements.';
COMMENT ON COLUMN leasemgr.unit_status.kind IS 'office, apartment, shop, warehouse, workshop, parking, ad_space or workstation.';
COMMENT ON COLUMN leasemgr.unit_status.area_m2 IS 'Gross floor area of the unit, m².';
COMMENT ON COLUMN leasemgr.unit_status.status IS 'leased (a lease in force holds it), expiring (that lease ends, or the unit is handed back, within the expiring days, and no other lease follows), moving_out (the last lease ended and is not closed), reserved (a lease not activated yet holds it from that day or a later one, or a short hold of leasemgr.reserve_units runs that day), vacant.';
COMMENT ON COLUMN leasemgr.unit_status.contract_id IS 'The lease holding it, moving out of it, or taking it later; NULL when vacant.';
COMMENT ON COLUMN leasemgr.unit_status.contract_code IS 'That lease''s contract number.';
COMMENT ON COLUMN leasemgr.unit_status.tenant_id IS 'Its tenant.';
COMMENT ON COLUMN leasemgr.unit_status.tenant_name IS 'Its tenant''s name.';
COMMENT ON COLUMN leasemgr.unit_status.lease_end IS 'The last day the lease holds the unit (for moving_out: the day it ended).';
COMMENT ON COLUMN leasemgr.unit_status.vacant_since IS 'First vacant day: the day after the last lease ended, or the day its move-out closed if later. NULL when leased, or never leased.';
COMMENT ON COLUMN leasemgr.unit_status.days_vacant IS 'Days vacant, counting today; NULL when leased, or never leased.';
COMMENT ON COLUMN leasemgr.unit_status.rent_per_m2 IS 'The lease''s contractual rent per m² and month that day (escalation in, free rent not deducted), CNY.';
COMMENT ON COLUMN leasemgr.unit_status.market_rent_per_m2 IS 'The park''s market level for the unit''s kind that day (leasemgr.market_rent), CNY per m² and month.';
COMMENT ON COLUMN leasemgr.unit_status.below_market_pct IS '(market − rent) / market × 100, 1 decimal: how far the rent is below market (negative: above).';
COMMENT ON COLUMN leasemgr.unit_status.colour IS 'red, yellow or green: see status and reason.';
COMMENT ON COLUMN leasemgr.unit_status.reason IS 'Why the colour, in words, with the threshold that applies.';
COMMENT ON COLUMN leasemgr.unit_status.footprint IS 'The unit on its floor plan: a polygon in floor-plan metres (SRID 0). NULL when not drawn.';

-- ---- occupancy -------------------------------------------------------------------------------

CREATE FUNCTION leasemgr.occupancy_as_of(as_of date, park bigint DEFAULT NULL)
  RETURNS TABLE (park_id bigint, building_id bigint, building_code text, floor integer, kind text, units integer,
                 area_m2 numeric, leased_area_m2 numeric, occupancy_rate numeric, vacant_area_m2 numeric,
                 avg_rent_per_m2 numeric, walt_years numeric)
  LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT s.park_id, s.building_id, s.building_code, s.floor, s.kind, pg_catalog.count(*)::integer,
         pg_catalog.sum(s.area_m2),
         COALESCE(pg_catalog.sum(s.area_m2) FILTER (WHERE s.status OPERATOR(pg_catalog.=) ANY ('{leased,expiring}'::text[])), 0),
         pg_catalog.round(COALESCE(pg_catalog.sum(s.area_m2) FILTER (WHERE s.status OPERATOR(pg_catalog.=) ANY ('{leased,expiring}'::text[])), 0)
                          OPERATOR(pg_catalog./) pg_catalog.sum(s.area_m2), 4),
         COALESCE(pg_catalog.sum(s.area_m2) FILTER (WHERE s.status OPERATOR(pg_catalog.<>) ALL ('{leased,expiring}'::text[])), 0),
         pg_catalog.round(pg_catalog.sum(s.rent_per_m2 OPERATOR(pg_catalog.*) s.area_m2) FILTER (WHERE s.rent_per_m2 IS NOT NULL)
                          OPERATOR(pg_catalog./) NULLIF(pg_catalog.sum(s.area_m2) FILTER (WHERE s.rent_per_m2 IS NOT NULL), 0), 4),
         pg_catalog.round(pg_catalog.sum(s.area_m2 OPERATOR(pg_catalog.*) (s.lease_end OPERATOR(pg_catalog.-) occupancy_as_of.as_of OPERATOR(pg_catalog.+) 1))
                            FILTER (WHERE s.status OPERATOR(pg_catalog.=) ANY ('{leased,expiring}'::text[]))
                          OPERATOR(pg_catalog./) NULLIF(pg_catalog.sum(s.area_m2) FILTER (WHERE s.status OPERATOR(pg_catalog.=) ANY ('{leased,expiring}'::text[])), 0)
                          OPERATOR(pg_catalog./) 365, 2)
    FROM leasemgr.unit_status_as_of(occupancy_as_of.as_of, occupancy_as_of.park) s
   GROUP BY s.park_id, s.building_id, s.building_code, s.floor, s.kind
   ORDER BY s.park_id, s.building_code, s.floor, s.kind;
END;
COMMENT ON FUNCTION leasemgr.occupancy_as_of(date, bigint) IS
  'Occupancy as of a day (of one park when given), per park, building, floor and kind of unit: units, area, leased area (leased or expiring: a lease in force), occupancy rate, vacant area (the rest: vacant, reserved, or still moving out), average rent per m² (weighted by area) and the weighted average lease term remaining (WALT, years of 365 days, weighted by leased area). docs/spatial.md.';

CREATE VIEW leasemgr.occupancy WITH (security_invoker = true) AS
SELECT * FROM leasemgr.occupancy_as_of(leasemgr.business_date());
COMMENT ON VIEW leasemgr.occupancy IS
  'Occupancy today per park, building, floor and kind: units, area, leased and vacant area, occupancy rate, average rent per m² and WALT. leasemgr.occupancy_as_of(date, park) gives any other day.';
COMMENT ON COLUMN leasemgr.occupancy.park_id IS 'Park identifier.';
COMMENT ON COLUMN leasemgr.occupancy.building_id IS 'Building identifier.';
COMMENT ON COLUMN leasemgr.occupancy.building_code IS 'Building code.';
COMMENT ON COLUMN leasemgr.occupancy.floor IS 'Floor number.';
COMMENT ON COLUMN leasemgr.occupancy.kind IS 'Kind of unit.';
COMMENT ON COLUMN leasemgr.occupancy.units IS 'Number of units.';
COMMENT ON COLUMN leasemgr.occupancy.area_m2 IS 'Their gross floor area, m².';
COMMENT ON COLUMN leasemgr.occupancy.leased_area_m2 IS 'Area of the units a lease in force holds (leased or expiring), m².';
COMMENT ON COLUMN leasemgr.occupancy.occupancy_rate IS 'Leased area / area, 4 decimals (0.8500 = 85%).';
COMMENT ON COLUMN leasemgr.occupancy.vacant_area_m2 IS 'Area of the other units (vacant, reserved, or a lease ended and still moving out), m².';
COMMENT ON COLUMN leasemgr.occupancy.avg_rent_per_m2 IS 'Average contractual rent per m² and month of the leased units, weighted by area, CNY, 4 decimals.';
COMMENT ON COLUMN leasemgr.occupancy.walt_years IS 'Weighted average lease term remaining (WALT): the days left of each lease in force, counting today, weighted by its area, in years of 365 days, 2 decimals.';

-- ---- pictures: the floor plan as SVG, the park as GeoJSON -----------------------------------

-- Text made safe for XML: the five special characters escaped, the control characters XML 1.0
-- forbids removed.
CREATE FUNCTION leasemgr.xml_text(value text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
  SELECT pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
           pg_catalog.regexp_replace(value, '[\x01-\x08\x0B\x0C\x0E-\x1F\x7F\uFFFE\uFFFF]', '', 'g'),
           '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&apos;');
END;
COMMENT ON FUNCTION leasemgr.xml_text(text) IS
  'Text safe inside an XML element or attribute: & < > " '' escaped, the control characters XML 1.0 forbids removed.';

-- The SVG document of a floor (see floor_plan_svg). Coordinates are floor-plan metres; ST_AsSVG
-- writes y down, as SVG wants, so the drawing is not mirrored. Every operator is pg_catalog's,
-- named: a SQL-standard body binds what the install's search_path finds, and an operator
-- planted in PostGIS's schema must not be it.
CREATE FUNCTION leasemgr.floor_plan_svg_document(building_id bigint, floor integer, as_of date) RETURNS text
  LANGUAGE sql STABLE STRICT
BEGIN ATOMIC
  WITH f AS (
    SELECT fp.outline, fp.name, b.code AS building_code, b.name AS building_name, p.code AS park_code,
           ST_XMin(fp.outline) AS x0, ST_YMin(fp.outline) AS y0, ST_XMax(fp.outline) AS x1, ST_YMax(fp.outline) AS y1
      FROM leasemgr.floor_plan fp
      JOIN leasemgr.building b ON b.id OPERATOR(pg_catalog.=) fp.building_id
      JOIN leasemgr.park p ON p.id OPERATOR(pg_catalog.=) b.park_id
     WHERE fp.building_id OPERATOR(pg_catalog.=) floor_plan_svg_document.building_id
       AND fp.floor OPERATOR(pg_catalog.=) floor_plan_svg_document.floor
  ), u AS (
    SELECT s.*
      FROM leasemgr.unit_status_as_of(floor_plan_svg_document.as_of, NULL, floor_plan_svg_document.building_id,
                                      floor_plan_svg_document.floor) s
  ), g AS (
    -- the drawing: margins of 2 m, a legend band below the floor; text sized on the larger side
    SELECT f.*, GREATEST((f.x1 OPERATOR(pg_catalog.-) f.x0), 20::float8) AS w, (f.y1 OPERATOR(pg_catalog.-) f.y0) AS h,
           LEAST(12::float8, (1600::float8 OPERATOR(pg_catalog./) GREATEST((f.x1 OPERATOR(pg_catalog.-) f.x0), (f.y1 OPERATOR(pg_catalog.-) f.y0), 1::float8))) AS px,
           (GREATEST((f.x1 OPERATOR(pg_catalog.-) f.x0), (f.y1 OPERATOR(pg_catalog.-) f.y0), 20::float8) OPERATOR(pg_catalog./) 40) AS em
      FROM f
  ), totals AS (
    SELECT pg_catalog.count(*) AS units, COALESCE(pg_catalog.sum(u.area_m2), 0) AS area,
           COALESCE(pg_catalog.sum(u.area_m2) FILTER (WHERE u.status OPERATOR(pg_catalog.=) ANY ('{leased,expiring}'::text[])), 0) AS leased,
           pg_catalog.count(*) FILTER (WHERE u.colour OPERATOR(pg_catalog.=) 'red') AS red,
           pg_catalog.count(*) FILTER (WHERE u.colour OPERATOR(pg_catalog.=) 'yellow') AS yellow,
           pg_catalog.count(*) FILTER (WHERE u.colour OPERATOR(pg_catalog.=) 'green') AS green,
           pg_catalog.string_agg(u.unit_code, ', ' ORDER BY u.unit_code) FILTER (WHERE u.footprint IS NULL) AS undrawn
      FROM u
  ), words AS (
    SELECT pg_catalog.format('%s %s floor %s%s as of %s: %s%% occupied (%s of %s m²)', g.park_code, g.building_name,
             floor_plan_svg_document.floor, COALESCE(' (' OPERATOR(pg_catalog.||) g.name OPERATOR(pg_catalog.||) ')', ''),
             floor_plan_svg_document.as_of,
             COALESCE(pg_catalog.round((t.leased OPERATOR(pg_catalog.*) 100) OPERATOR(pg_catalog./) NULLIF(t.area, 0), 1), 0),
             pg_catalog.trim_scale(t.leased), pg_catalog.trim_scale(t.area)) AS title,
           pg_catalog.format('%s %s floor %s%s, %s: %s%% occupied (%s of %s m²)', g.park_code, g.building_code,
             floor_plan_svg_document.floor, COALESCE(' (' OPERATOR(pg_catalog.||) g.name OPERATOR(pg_catalog.||) ')', ''),
             floor_plan_svg_document.as_of,
             COALESCE(pg_catalog.round((t.leased OPERATOR(pg_catalog.*) 100) OPERATOR(pg_catalog./) NULLIF(t.area, 0), 1), 0),
             pg_catalog.trim_scale(t.leased), pg_catalog.trim_scale(t.area)) AS heading
      FROM g CROSS JOIN totals t
  )
  SELECT pg_catalog.concat_ws(E'\n',
           '<?xml version="1.0" encoding="UTF-8"?>',
           pg_catalog.format('<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="%s %s %s %s" font-family="sans-serif">',
             pg_catalog.round((((g.w OPERATOR(pg_catalog.+) 4) OPERATOR(pg_catalog.*) g.px))::numeric, 0), pg_catalog.round(((((g.h OPERATOR(pg_catalog.+) 4) OPERATOR(pg_catalog.+) (9 OPERATOR(pg_catalog.*) g.em)) OPERATOR(pg_catalog.*) g.px))::numeric, 0),
             pg_catalog.round(((g.x0 OPERATOR(pg_catalog.-) 2))::numeric, 3), pg_catalog.round(((((OPERATOR(pg_catalog.-) g.y1) OPERATOR(pg_catalog.-) 2) OPERATOR(pg_catalog.-) (3 OPERATOR(pg_catalog.*) g.em)))::numeric, 3), pg_catalog.round(((g.w OPERATOR(pg_catalog.+) 4))::numeric, 3), pg_catalog.round((((g.h OPERATOR(pg_catalog.+) 4) OPERATOR(pg_catalog.+) (9 OPERATOR(pg_catalog.*) g.em)))::numeric, 3)),
           pg_catalog.format('<title>%s</title>', leasemgr.xml_text(wd.title)),
           pg_catalog.format('<text class="title" x="%s" y="%s" font-size="%s">%s</text>',
             pg_catalog.round((g.x0)::numeric, 3), pg_catalog.round((((OPERATOR(pg_catalog.-) g.y1) OPERATOR(pg_catalog.-) (1.5 OPERATOR(pg_catalog.*) g.em)))::numeric, 3), pg_catalog.round(((0.9 OPERATOR(pg_catalog.*) g.em))::numeric, 3), leasemgr.xml_text(wd.heading)),
           pg_catalog.format('<path class="floor" d="%s" fill="#f4f4f4" fill-rule="evenodd" stroke="#222" stroke-width="%s"/>',
             ST_AsSVG(g.outline, 0, 3), pg_catalog.round(((0.08 OPERATOR(pg_catalog.*) g.em))::numeric, 3)),
           (SELECT pg_catalog.string_agg(pg_catalog.format(
                    '<g class="unit" id="unit-%s"><title>%s</title><path class="unit %s" d="%s" fill="%s" fill-opacity="0.75" fill-rule="evenodd" stroke="#333" stroke-width="%s"/>'
                    '<text x="%s" y="%s" font-size="%s" text-anchor="middle"><tspan x="%s">%s</tspan><tspan x="%s" dy="1.3em" font-size="%s">%s</tspan></text></g>',
                    u.unit_id,
                    leasemgr.xml_text(pg_catalog.format('%s: %s, %s m², %s', u.unit_code, u.status, u.area_m2, u.reason)),
                    u.colour, ST_AsSVG(u.footprint, 0, 3),
                    CASE u.colour WHEN 'red' THEN '#e34a33' WHEN 'yellow' THEN '#fdcc5c' ELSE '#74c476' END,
                    pg_catalog.round(((0.05 OPERATOR(pg_catalog.*) g.em))::numeric, 3),
                    pg_catalog.round((ST_X(c.pt))::numeric, 3), pg_catalog.round(((OPERATOR(pg_catalog.-) ST_Y(c.pt)))::numeric, 3), pg_catalog.round((c.size)::numeric, 3),
                    pg_catalog.round((ST_X(c.pt))::numeric, 3), leasemgr.xml_text(u.unit_code),
                    pg_catalog.round((ST_X(c.pt))::numeric, 3),
                    -- the second line shrinks to the unit's width (a CJK character is about 1 em wide)
                    pg_catalog.round((LEAST((0.8 OPERATOR(pg_catalog.*) c.size), ((0.9 OPERATOR(pg_catalog.*) (ST_XMax(u.footprint) OPERATOR(pg_catalog.-) ST_XMin(u.footprint))) OPERATOR(pg_catalog./) GREATEST(pg_catalog.char_length(c.label), 1))))::numeric, 3),
                    leasemgr.xml_text(c.label)),
                  E'\n' ORDER BY u.unit_code)
             FROM u
             CROSS JOIN LATERAL (SELECT ST_PointOnSurface(u.footprint) AS pt,
                                        LEAST((0.9 OPERATOR(pg_catalog.*) g.em), (pg_catalog.sqrt(ST_Area(u.footprint)) OPERATOR(pg_catalog./) 7)) AS size,
                                        CASE WHEN u.status OPERATOR(pg_catalog.=) 'vacant'
                                             THEN COALESCE('vacant ' OPERATOR(pg_catalog.||) u.days_vacant OPERATOR(pg_catalog.||) ' days', 'never leased')
                                             ELSE COALESCE(u.tenant_name, u.status) END AS label) c
            WHERE u.footprint IS NOT NULL),
           -- the legend, below the floor
           (SELECT pg_catalog.string_agg(pg_catalog.format(
               '<g class="legend"><rect x="%s" y="%s" width="%s" height="%s" fill="%s" stroke="#333" stroke-width="%s"/>'
               '<text x="%s" y="%s" font-size="%s">%s</text></g>',
               pg_catalog.round((g.x0)::numeric, 3), pg_catalog.round((((OPERATOR(pg_catalog.-) g.y0) OPERATOR(pg_catalog.+) ((1 OPERATOR(pg_catalog.+) (1.6 OPERATOR(pg_catalog.*) l.n)) OPERATOR(pg_catalog.*) g.em)))::numeric, 3), pg_catalog.round((g.em)::numeric, 3), pg_catalog.round((g.em)::numeric, 3), l.fill, pg_catalog.round(((0.05 OPERATOR(pg_catalog.*) g.em))::numeric, 3),
               pg_catalog.round(((g.x0 OPERATOR(pg_catalog.+) (1.5 OPERATOR(pg_catalog.*) g.em)))::numeric, 3), pg_catalog.round((((OPERATOR(pg_catalog.-) g.y0) OPERATOR(pg_catalog.+) ((1.85 OPERATOR(pg_catalog.+) (1.6 OPERATOR(pg_catalog.*) l.n)) OPERATOR(pg_catalog.*) g.em)))::numeric, 3), pg_catalog.round(((0.9 OPERATOR(pg_catalog.*) g.em))::numeric, 3),
               leasemgr.xml_text(l.label)), E'\n' ORDER BY l.n)
             FROM (VALUES (0, '#e34a33', pg_catalog.format('red: vacant too long, rent well below market, or a move-out overdue (%s)', t.red)),
                          (1, '#fdcc5c', pg_catalog.format('yellow: lease ending soon, moving out, recently vacant, or rent unknown (%s)', t.yellow)),
                          (2, '#74c476', pg_catalog.format('green: leased and healthy, or reserved (%s)', t.green))) l(n, fill, label)),
           CASE WHEN t.undrawn IS NOT NULL
                THEN pg_catalog.format('<text class="note" x="%s" y="%s" font-size="%s">%s</text>',
                       pg_catalog.round((g.x0)::numeric, 3), pg_catalog.round((((OPERATOR(pg_catalog.-) g.y0) OPERATOR(pg_catalog.+) (6.3 OPERATOR(pg_catalog.*) g.em)))::numeric, 3), pg_catalog.round(((0.8 OPERATOR(pg_catalog.*) g.em))::numeric, 3),
                       leasemgr.xml_text('not drawn on the plan: ' OPERATOR(pg_catalog.||) t.undrawn)) END,
           '</svg>') OPERATOR(pg_catalog.||) E'\n'
    FROM g CROSS JOIN totals t CROSS JOIN words wd;
END;
COMMENT ON FUNCTION leasemgr.floor_plan_svg_document(bigint, integer, date) IS
  'Internal: the body of leasemgr.floor_plan_svg, NULL for a floor without a plan.';

CREATE FUNCTION leasemgr.floor_plan_svg(building_id bigint, floor integer, as_of date DEFAULT leasemgr.business_date())
  RETURNS text
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  v_code text;
BEGIN
  IF building_id IS NULL OR floor IS NULL OR as_of IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = 'floor_plan_svg needs a building, a floor and a day',
      DETAIL = format('building_id is %s, floor is %s, as_of is %s.', COALESCE(building_id::text, 'NULL'),
                      COALESCE(floor::text, 'NULL'), COALESCE(as_of::text, 'NULL')),
      HINT = 'Leave as_of out for today.';
  END IF;
  SELECT b.code INTO v_code FROM building b WHERE b.id = floor_plan_svg.building_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'LM009',
      MESSAGE = format('building %s does not exist', building_id),
      HINT = 'Check the id; rows of parks you have not been granted are not visible to you.';
  END IF;
  IF NOT EXISTS (SELECT FROM floor_plan f WHERE f.building_id = floor_plan_svg.building_id AND f.floor = floor_plan_svg.floor) THEN
    RAISE EXCEPTION USING ERRCODE = 'LM009',
      MESSAGE = format('floor %s of building %s has no floor plan', floor, v_code),
      DETAIL = format('Floors drawn: %s.', COALESCE((SELECT string_agg(f.floor::text, ', ' ORDER BY f.floor) FROM floor_plan f
                                                       WHERE f.building_id = floor_plan_svg.building_id), 'none')),
      HINT = 'Draw it first (leasemgr.floor_plan), or ask for a floor that is drawn.';
  END IF;
  RETURN floor_plan_svg_document(building_id, floor, as_of);
END
$fn$;
COMMENT ON FUNCTION leasemgr.floor_plan_svg(bigint, integer, date) IS
  'A floor of a building as a complete SVG document, as of a day (today by default): the floor''s outline, every unit drawn to scale in its colour (leasemgr.unit_status) with its code and tenant (or "vacant N days"), a tooltip with the reason, a legend with the counts, and a title with the occupancy rate. Opens in a browser as is. docs/spatial.md.';

-- The park's units as GeoJSON (RFC 7946): each footprint moved from floor-plan metres onto its
-- building's footprint on the map (the building's floor plans, all floors together, centred on
-- it at true size), with the status of the day as properties.
CREATE FUNCTION leasemgr.occupancy_geojson(park_id bigint, as_of date DEFAULT leasemgr.business_date()) RETURNS jsonb
  LANGUAGE sql STABLE STRICT
BEGIN ATOMIC
  WITH frame AS (
    SELECT fp.building_id, ST_Extent(fp.outline)::geometry AS plan, b.footprint AS map
      FROM leasemgr.floor_plan fp JOIN leasemgr.building b ON b.id OPERATOR(pg_catalog.=) fp.building_id
     WHERE fp.park_id OPERATOR(pg_catalog.=) occupancy_geojson.park_id
     GROUP BY fp.building_id, b.footprint
  ), k AS (
    -- metres to degrees at the building's latitude (a metre of longitude shrinks with its
    -- cosine), the plan's centre on the footprint's centre: units keep their true size
    SELECT f.building_id,
           ((ST_XMin(f.plan) OPERATOR(pg_catalog.+) ST_XMax(f.plan)) OPERATOR(pg_catalog./) 2) AS pcx, ((ST_YMin(f.plan) OPERATOR(pg_catalog.+) ST_YMax(f.plan)) OPERATOR(pg_catalog./) 2) AS pcy,
           ((ST_XMin(f.map) OPERATOR(pg_catalog.+) ST_XMax(f.map)) OPERATOR(pg_catalog./) 2) AS mcx, ((ST_YMin(f.map) OPERATOR(pg_catalog.+) ST_YMax(f.map)) OPERATOR(pg_catalog./) 2) AS mcy,
           (1 OPERATOR(pg_catalog./) (111320::float8 OPERATOR(pg_catalog.*) pg_catalog.cos(pg_catalog.radians(((ST_YMin(f.map) OPERATOR(pg_catalog.+) ST_YMax(f.map)) OPERATOR(pg_catalog./) 2))))) AS kx,
           (1 OPERATOR(pg_catalog./) 110574::float8) AS ky
      FROM frame f WHERE f.map IS NOT NULL
  )
  SELECT pg_catalog.jsonb_build_object('type', 'FeatureCollection',
           'features', COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
              'type', 'Feature',
              'id', s.unit_id,
              'geometry', CASE WHEN s.footprint IS NULL OR k.kx IS NULL THEN 'null'::jsonb
                               ELSE ST_AsGeoJSON(ST_ForcePolygonCCW(ST_SetSRID(ST_Affine(s.footprint, k.kx, 0::float8, 0::float8, k.ky,
                                                                      (k.mcx OPERATOR(pg_catalog.-) (k.pcx OPERATOR(pg_catalog.*) k.kx)),
                                                                      (k.mcy OPERATOR(pg_catalog.-) (k.pcy OPERATOR(pg_catalog.*) k.ky))), 4326)), 7)::jsonb END,
              'properties', pg_catalog.jsonb_build_object(
                 'unit_id', s.unit_id, 'unit_code', s.unit_code, 'building_code', s.building_code, 'floor', s.floor,
                 'kind', s.kind, 'area_m2', s.area_m2, 'status', s.status, 'colour', s.colour, 'reason', s.reason,
                 'contract_code', s.contract_code, 'tenant_name', s.tenant_name, 'lease_end', s.lease_end,
                 'vacant_since', s.vacant_since, 'days_vacant', s.days_vacant, 'rent_per_m2', s.rent_per_m2,
                 'market_rent_per_m2', s.market_rent_per_m2, 'below_market_pct', s.below_market_pct, 'as_of', occupancy_geojson.as_of))
              ORDER BY s.building_code, s.floor, s.unit_code), '[]'::jsonb))
    FROM leasemgr.unit_status_as_of(occupancy_geojson.as_of, occupancy_geojson.park_id) s
    LEFT JOIN k ON k.building_id OPERATOR(pg_catalog.=) s.building_id;
END;
COMMENT ON FUNCTION leasemgr.occupancy_geojson(bigint, date) IS
  'The units of a park as a GeoJSON FeatureCollection (RFC 7946, WGS 84 longitude/latitude) for web maps, as of a day: each unit''s footprint at its true size, the building''s floor plans centred on its map footprint (every floor at the same place, so filter by the floor property), with status, colour, reason, tenant, lease end, vacancy and rent against market as properties. A unit not drawn, or in a building without a footprint or floor plan, has a null geometry.';

-- ---- security, audit, dump -------------------------------------------------------------------

DO $scope$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['floor_plan', 'occupancy_policy', 'market_rent', 'unit_reservation']
  LOOP
    EXECUTE pg_catalog.format('ALTER TABLE leasemgr.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE pg_catalog.format('CREATE POLICY park_scope ON leasemgr.%I USING ((SELECT leasemgr.sees_all_parks()) '
                              'OR park_id OPERATOR(pg_catalog.=) ANY ((SELECT leasemgr.visible_parks())::bigint[]))', t);
    EXECUTE pg_catalog.format('COMMENT ON POLICY park_scope ON leasemgr.%I IS %L', t,
                              'Rows of the parks granted to the role (leasemgr.grant_park); every park for leasemgr_admin.');
    EXECUTE pg_catalog.format('CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON leasemgr.%I '
                              'FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row()', t);
    EXECUTE pg_catalog.format('CREATE TRIGGER truncate_guard BEFORE TRUNCATE ON leasemgr.%I '
                              'FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.truncate_guard()', t);
  END LOOP;
END
$scope$;

REVOKE ALL ON leasemgr.floor_plan, leasemgr.occupancy_policy, leasemgr.market_rent, leasemgr.unit_status,
  leasemgr.occupancy, leasemgr.unit_reservation FROM PUBLIC;
GRANT SELECT ON leasemgr.floor_plan, leasemgr.occupancy_policy, leasemgr.market_rent, leasemgr.unit_status,
  leasemgr.occupancy, leasemgr.unit_reservation TO leasemgr_reader;
-- holds are written through reserve_units and release_units, with the caller's rights
GRANT INSERT (park_id, unit_id, held, tenant_id, note), UPDATE (released_at, released_by) ON leasemgr.unit_reservation
  TO leasemgr_operator;
GRANT USAGE ON SEQUENCE leasemgr.unit_reservation_id_seq TO leasemgr_operator;
REVOKE ALL ON FUNCTION leasemgr.contiguous_space_options(bigint, numeric, integer, bigint, date),
  leasemgr.find_contiguous_space(bigint, numeric, integer, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leasemgr.contiguous_space_options(bigint, numeric, integer, bigint, date),
  leasemgr.find_contiguous_space(bigint, numeric, integer, bigint) TO leasemgr_reader;
REVOKE ALL ON FUNCTION leasemgr.unit_reservation_before_write(), leasemgr.reserve_units(bigint[], timestamptz, text, bigint),
  leasemgr.release_units(bigint[]), leasemgr.reservation_blockers(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leasemgr.reservation_blockers(bigint) TO leasemgr_reader;
GRANT EXECUTE ON FUNCTION leasemgr.reserve_units(bigint[], timestamptz, text, bigint), leasemgr.release_units(bigint[])
  TO leasemgr_operator;
GRANT INSERT, UPDATE, DELETE ON leasemgr.floor_plan, leasemgr.market_rent TO leasemgr_operator;
GRANT INSERT, UPDATE, DELETE ON leasemgr.occupancy_policy TO leasemgr_admin;
REVOKE ALL ON FUNCTION leasemgr.xml_text(text), leasemgr.floor_plan_svg_document(bigint, integer, date),
  leasemgr.floor_plan_svg(bigint, integer, date), leasemgr.occupancy_geojson(bigint, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leasemgr.xml_text(text), leasemgr.floor_plan_svg_document(bigint, integer, date),
  leasemgr.floor_plan_svg(bigint, integer, date), leasemgr.occupancy_geojson(bigint, date) TO leasemgr_reader;
REVOKE ALL ON FUNCTION leasemgr.footprint_problem(text, bigint, integer, bigint, geometry), leasemgr.unit_footprint_check(),
  leasemgr.floor_plan_leaves_out(bigint, integer, geometry), leasemgr.floor_plan_is_polygon(geometry),
  leasemgr.floor_plan_before_write(), leasemgr.unit_status_as_of(date, bigint, bigint, integer), leasemgr.occupancy_as_of(date, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leasemgr.footprint_problem(text, bigint, integer, bigint, geometry),
  leasemgr.floor_plan_leaves_out(bigint, integer, geometry), leasemgr.floor_plan_is_polygon(geometry),
  leasemgr.unit_status_as_of(date, bigint, bigint, integer), leasemgr.occupancy_as_of(date, bigint) TO leasemgr_reader;

SELECT pg_catalog.pg_extension_config_dump('leasemgr.floor_plan', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.occupancy_policy', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.market_rent', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.unit_reservation', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.unit_reservation_id_seq', '');
