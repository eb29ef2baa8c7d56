-- Shared-cost allocation (the fee mapping matrix, 费用映射矩阵): rules that split a shared
-- meter's cost or a fixed amount among the tenants of a park, building or floor; the shares
-- leasemgr.allocate() computes for a month, exact to the cent (largest remainder); and what a
-- tenant is shown of them. The month's bill run bills each contract's shares as allocation
-- lines. docs/metering.md ("Shared-cost allocation") is the design.

CREATE TABLE leasemgr.allocation_rule (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  park_id           bigint NOT NULL REFERENCES leasemgr.park (id),
  name              text NOT NULL CHECK (pg_catalog.btrim(name) <> ''),
  pool_meter_id     bigint,
  pool_register     text NOT NULL DEFAULT 'total',
  rate              numeric(12,4) CHECK (rate >= 0),
  pool_amount       numeric(16,2) CHECK (pool_amount >= 0),
  fee_kind          text NOT NULL CHECK (fee_kind IN ('utility', 'ac', 'property_fee', 'service', 'other')),
  method            text NOT NULL CHECK (method IN ('by_submeter', 'by_area', 'by_equipment_power',
                                                    'by_headcount', 'fixed_share')),
  scope             text NOT NULL DEFAULT 'park' CHECK (scope IN ('park', 'building', 'floor')),
  scope_building_id bigint,
  scope_floor       integer,
  remainder_method  text NOT NULL DEFAULT 'landlord' CHECK (remainder_method IN ('landlord', 'by_area',
                                                    'by_equipment_power', 'by_headcount')),
  spike_ratio       numeric(6,2) CHECK (spike_ratio > 1),
  valid_from        date NOT NULL,
  valid_to          date,
  CONSTRAINT allocation_rule_one_pool CHECK ((pool_meter_id IS NULL) <> (pool_amount IS NULL)),
  CONSTRAINT allocation_rule_meter_rate CHECK ((pool_meter_id IS NULL) = (rate IS NULL)),
  CONSTRAINT allocation_rule_submeter CHECK (method <> 'by_submeter' OR pool_meter_id IS NOT NULL),
  CONSTRAINT allocation_rule_scope CHECK (
    (scope = 'park' AND scope_building_id IS NULL AND scope_floor IS NULL)
    OR (scope = 'building' AND scope_building_id IS NOT NULL AND scope_floor IS NULL)
    OR (scope = 'floor' AND scope_building_id IS NOT NULL AND scope_floor IS NOT NULL)),
  CONSTRAINT allocation_rule_dates CHECK (valid_to IS NULL OR valid_to >= valid_from),
  CONSTRAINT allocation_rule_key UNIQUE (id, park_id),
  CONSTRAINT allocation_rule_name UNIQUE (park_id, name),
  CONSTRAINT allocation_rule_meter_fk FOREIGN KEY (pool_meter_id, park_id) REFERENCES leasemgr.meter (id, park_id),
  CONSTRAINT allocation_rule_building_fk FOREIGN KEY (scope_building_id, park_id) REFERENCES leasemgr.building (id, park_id)
);
COMMENT ON TABLE leasemgr.allocation_rule IS
  'A row of the fee mapping matrix (费用映射矩阵): a cost pool (a shared meter''s consumption x a rate, or a fixed monthly amount) split among the tenants in scope by a method. leasemgr.allocate computes the shares of a month; the bill run bills them.';
COMMENT ON COLUMN leasemgr.allocation_rule.id IS 'Rule identifier.';
COMMENT ON COLUMN leasemgr.allocation_rule.park_id IS 'The park whose tenants share the pool.';
COMMENT ON COLUMN leasemgr.allocation_rule.scope_building_id IS 'The building of a building or floor scope.';
COMMENT ON COLUMN leasemgr.allocation_rule.scope_floor IS 'The floor of a floor scope.';
COMMENT ON COLUMN leasemgr.allocation_rule.name IS 'What the tenant sees, e.g. "Building A central air-conditioning". Unique in the park.';
COMMENT ON COLUMN leasemgr.allocation_rule.pool_meter_id IS 'The shared meter whose consumption is the pool (e.g. the central AC''s main meter); NULL for a fixed amount.';
COMMENT ON COLUMN leasemgr.allocation_rule.pool_register IS 'The register of the pool meter read, total by default.';
COMMENT ON COLUMN leasemgr.allocation_rule.rate IS 'CNY per unit (kWh, m3, GJ) of the pool meter''s consumption; the pool is consumption x rate, rounded to the cent once.';
COMMENT ON COLUMN leasemgr.allocation_rule.pool_amount IS 'A fixed monthly pool in CNY (a common-area cost); NULL for a metered pool.';
COMMENT ON COLUMN leasemgr.allocation_rule.fee_kind IS 'The kind of the bill lines the shares become: utility, ac, property_fee, service or other.';
COMMENT ON COLUMN leasemgr.allocation_rule.method IS
  'How the pool is split: by_submeter (in proportion to the pool meter''s sub-meters'' consumption), by_area (billable area x days leased in the month), by_equipment_power (declared kW x days leased), by_headcount (declared heads x days leased), fixed_share (percentages in leasemgr.allocation_fixed_share x days leased). What vacant units would carry goes to the landlord.';
COMMENT ON COLUMN leasemgr.allocation_rule.scope IS 'park, building (scope_building_id) or floor (scope_building_id and scope_floor): the units whose leases share the pool (by_area, by_equipment_power, by_headcount, and the remainder of by_submeter).';
COMMENT ON COLUMN leasemgr.allocation_rule.remainder_method IS 'by_submeter only: who carries the pool meter''s consumption that no sub-meter measured (losses, common areas): landlord, or split by_area, by_equipment_power or by_headcount in scope.';
COMMENT ON COLUMN leasemgr.allocation_rule.spike_ratio IS 'Overrides the park''s spike ratio (leasemgr.metering_policy) for the pool meter and its sub-meters in leasemgr.detect_anomalies; NULL: the park''s.';
COMMENT ON COLUMN leasemgr.allocation_rule.valid_from IS 'First day the rule applies (months overlapping valid_from..valid_to are allocated).';
COMMENT ON COLUMN leasemgr.allocation_rule.valid_to IS 'Last day the rule applies; NULL: open-ended.';

CREATE TABLE leasemgr.allocation_fixed_share (
  park_id     bigint NOT NULL,
  rule_id     bigint NOT NULL,
  contract_id bigint NOT NULL,
  percent     numeric(7,4) NOT NULL CHECK (percent > 0 AND percent <= 100),
  PRIMARY KEY (rule_id, contract_id),
  CONSTRAINT allocation_fixed_share_rule_fk FOREIGN KEY (rule_id, park_id) REFERENCES leasemgr.allocation_rule (id, park_id),
  CONSTRAINT allocation_fixed_share_contract_fk FOREIGN KEY (contract_id, park_id) REFERENCES leasemgr.contract (id, park_id)
);
COMMENT ON TABLE leasemgr.allocation_fixed_share IS
  'The agreed percentages of a fixed_share rule, per contract; they must add up to 100 when the rule is allocated. A contract leased for part of the month carries its percentage for those days; the rest goes to the landlord.';
COMMENT ON COLUMN leasemgr.allocation_fixed_share.park_id IS 'The park of the rule and the contract.';
COMMENT ON COLUMN leasemgr.allocation_fixed_share.rule_id IS 'The fixed_share rule.';
COMMENT ON COLUMN leasemgr.allocation_fixed_share.contract_id IS 'The contract that carries the percentage.';
COMMENT ON COLUMN leasemgr.allocation_fixed_share.percent IS 'The contract''s percentage of the pool, e.g. 12.5000.';

CREATE TABLE leasemgr.unit_allocation_basis (
  unit_id      bigint PRIMARY KEY,
  park_id      bigint NOT NULL,
  power_kw     numeric(12,3) CHECK (power_kw >= 0),
  headcount    integer CHECK (headcount >= 0),
  declared_on  date NOT NULL DEFAULT leasemgr.business_date(),
  CONSTRAINT unit_allocation_basis_unit_fk FOREIGN KEY (unit_id, park_id) REFERENCES leasemgr.unit (id, park_id)
);
COMMENT ON TABLE leasemgr.unit_allocation_basis IS
  'What a unit declares for by_equipment_power and by_headcount rules: its installed equipment power and its headcount. A unit without a row (or with NULL) carries 0.';
COMMENT ON COLUMN leasemgr.unit_allocation_basis.unit_id IS 'The unit.';
COMMENT ON COLUMN leasemgr.unit_allocation_basis.park_id IS 'The park of the unit.';
COMMENT ON COLUMN leasemgr.unit_allocation_basis.power_kw IS 'Declared equipment power, kW (e.g. the air-conditioning terminals'' rated power).';
COMMENT ON COLUMN leasemgr.unit_allocation_basis.headcount IS 'Declared number of people working in the unit.';
COMMENT ON COLUMN leasemgr.unit_allocation_basis.declared_on IS 'When the figures were declared.';

CREATE TABLE leasemgr.allocation_share (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  park_id     bigint NOT NULL,
  rule_id     bigint NOT NULL,
  month       date NOT NULL CHECK (pg_catalog.date_trunc('month', month)::date OPERATOR(pg_catalog.=) month),
  contract_id bigint,
  part        text NOT NULL CHECK (part IN ('pool', 'remainder', 'true_up')),
  basis       numeric(20,4) NOT NULL CHECK (basis >= 0),
  basis_total numeric(20,4) NOT NULL CHECK (basis_total >= basis),
  basis_unit  text NOT NULL,
  parties     integer NOT NULL CHECK (parties >= 1),
  pool_amount numeric(16,2) NOT NULL,
  amount      numeric(16,2) NOT NULL,
  estimated   boolean NOT NULL DEFAULT false,
  explain     text NOT NULL CHECK (pg_catalog.btrim(explain) <> ''),
  computed_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
  computed_by text NOT NULL DEFAULT leasemgr.current_actor(),
  CONSTRAINT allocation_share_once UNIQUE NULLS NOT DISTINCT (rule_id, month, contract_id, part),
  CONSTRAINT allocation_share_rule_fk FOREIGN KEY (rule_id, park_id) REFERENCES leasemgr.allocation_rule (id, park_id),
  CONSTRAINT allocation_share_contract_fk FOREIGN KEY (contract_id, park_id) REFERENCES leasemgr.contract (id, park_id)
);
CREATE INDEX allocation_share_contract_idx ON leasemgr.allocation_share (contract_id, month);
COMMENT ON TABLE leasemgr.allocation_share IS
  'One party''s share of an allocation rule''s pool for a month, written by leasemgr.allocate: a contract''s, or the landlord''s (contract_id NULL: vacant units, unmetered losses). The shares of a rule, month and part add up to the pool exactly. Recomputed by allocate until billed; billed shares never change.';
COMMENT ON COLUMN leasemgr.allocation_share.id IS 'Share identifier; bill lines name it (allocation_share_id).';
COMMENT ON COLUMN leasemgr.allocation_share.park_id IS 'The park of the rule.';
COMMENT ON COLUMN leasemgr.allocation_share.rule_id IS 'The allocation rule.';
COMMENT ON COLUMN leasemgr.allocation_share.month IS 'The month allocated (its first day); billed by the first bill run of a later month, like metered charges in arrears.';
COMMENT ON COLUMN leasemgr.allocation_share.computed_at IS 'When leasemgr.allocate computed it.';
COMMENT ON COLUMN leasemgr.allocation_share.computed_by IS 'Who ran leasemgr.allocate.';
COMMENT ON COLUMN leasemgr.allocation_share.contract_id IS 'The contract that pays the share; NULL: the landlord (vacancy, and losses booked to the landlord).';
COMMENT ON COLUMN leasemgr.allocation_share.part IS 'pool: the split of the pool; remainder: the split of the part of a by_submeter pool that no sub-meter measured; true_up: the difference between the real split and a billed estimate, once the real figures are known.';
COMMENT ON COLUMN leasemgr.allocation_share.estimated IS 'The split counted a sub-meter at its fallback estimate (an anomaly, or readings missing under estimate_missing); trued up once the real figures are known, unless a confirmed anomaly makes the estimate final.';
COMMENT ON COLUMN leasemgr.allocation_share.basis IS 'The party''s basis: kWh (sub-meters), m2 x days, kW x days, heads x days or percent x days.';
COMMENT ON COLUMN leasemgr.allocation_share.basis_total IS 'Everyone''s basis together, the landlord''s included: the share is amount = pool x basis / basis_total, to the cent by largest remainder.';
COMMENT ON COLUMN leasemgr.allocation_share.basis_unit IS 'The unit of basis and basis_total.';
COMMENT ON COLUMN leasemgr.allocation_share.parties IS 'How many parties share this pool part (the landlord included).';
COMMENT ON COLUMN leasemgr.allocation_share.pool_amount IS 'The pool part split, CNY.';
COMMENT ON COLUMN leasemgr.allocation_share.amount IS 'The share, CNY: floor to the cent, plus one cent for the largest remainders so the shares add up to the pool.';
COMMENT ON COLUMN leasemgr.allocation_share.explain IS 'The calculation in words, without other tenants'' names.';

ALTER TABLE leasemgr.bill_line ADD CONSTRAINT bill_line_share_fk
  FOREIGN KEY (allocation_share_id) REFERENCES leasemgr.allocation_share (id);

-- ---- rules are checked for every writer (LM018) -------------------------------------------

CREATE FUNCTION leasemgr.allocation_rule_before_write() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
DECLARE
  v_meter leasemgr.meter;
  v_problem text;
  v_last_billed date;
BEGIN
  IF TG_OP OPERATOR(pg_catalog.=) 'UPDATE' THEN
    -- take turns with the park's bill runs, so no run bills the old terms after this check
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('leasemgr.bill_run'),
                                             (OLD.park_id OPERATOR(pg_catalog.%) 2147483647)::integer);
    SELECT pg_catalog.max(sh.month) INTO v_last_billed
      FROM leasemgr.allocation_share sh JOIN leasemgr.bill_line l ON l.allocation_share_id OPERATOR(pg_catalog.=) sh.id
     WHERE sh.rule_id OPERATOR(pg_catalog.=) OLD.id;
  END IF;
  IF NEW.pool_meter_id IS NOT NULL THEN
    SELECT * INTO v_meter FROM leasemgr.meter m WHERE m.id OPERATOR(pg_catalog.=) NEW.pool_meter_id;
  END IF;
  v_problem := CASE
    WHEN (NEW.pool_meter_id IS NULL) OPERATOR(pg_catalog.=) (NEW.pool_amount IS NULL) THEN
      'A rule has one pool: a shared meter (pool_meter_id with a rate) or a fixed amount (pool_amount), not both and not neither.'
    WHEN NEW.pool_meter_id IS NOT NULL AND NEW.rate IS NULL THEN
      'A metered pool needs the rate in CNY per unit of the meter''s consumption.'
    WHEN NEW.pool_meter_id IS NULL AND NEW.rate IS NOT NULL THEN
      'A fixed pool has no rate.'
    WHEN NEW.pool_meter_id IS NOT NULL AND v_meter.id IS NULL THEN
      pg_catalog.format('Meter %s does not exist.', NEW.pool_meter_id)
    WHEN NEW.pool_meter_id IS NOT NULL AND v_meter.park_id OPERATOR(pg_catalog.<>) NEW.park_id THEN
      pg_catalog.format('Meter %s is of another park.', v_meter.code)
    WHEN NEW.pool_meter_id IS NOT NULL AND NOT (NEW.pool_register OPERATOR(pg_catalog.=) ANY (v_meter.registers)) THEN
      pg_catalog.format('Meter %s has no register %s (it has %s).', v_meter.code, NEW.pool_register,
                        pg_catalog.array_to_string(v_meter.registers, ', '))
    WHEN NEW.method OPERATOR(pg_catalog.=) 'by_submeter' AND NEW.pool_meter_id IS NULL THEN
      'A by_submeter rule splits a metered pool: it needs the pool meter.'
    WHEN NEW.method OPERATOR(pg_catalog.=) 'by_submeter' AND NOT EXISTS (
           SELECT FROM leasemgr.meter s WHERE s.parent_id OPERATOR(pg_catalog.=) NEW.pool_meter_id) THEN
      pg_catalog.format('Meter %s has no sub-meters to split by.', v_meter.code)
    WHEN NEW.method OPERATOR(pg_catalog.<>) 'by_submeter' AND NEW.remainder_method OPERATOR(pg_catalog.<>) 'landlord' THEN
      'Only a by_submeter rule has a remainder to split (remainder_method).'
    WHEN NEW.scope OPERATOR(pg_catalog.=) 'park' AND (NEW.scope_building_id IS NOT NULL OR NEW.scope_floor IS NOT NULL) THEN
      'A park-wide rule names no building or floor.'
    WHEN NEW.scope OPERATOR(pg_catalog.=) 'building' AND (NEW.scope_building_id IS NULL OR NEW.scope_floor IS NOT NULL) THEN
      'A building rule names its building (scope_building_id) and no floor.'
    WHEN NEW.scope OPERATOR(pg_catalog.=) 'floor' AND (NEW.scope_building_id IS NULL OR NEW.scope_floor IS NULL) THEN
      'A floor rule names its building and its floor.'
    WHEN NEW.valid_to IS NOT NULL AND NEW.valid_to OPERATOR(pg_catalog.<) NEW.valid_from THEN
      pg_catalog.format('valid_to %s is before valid_from %s.', NEW.valid_to, NEW.valid_from)
    -- a billed month is final: its true-up must recompute it on the terms it was billed on
    WHEN TG_OP OPERATOR(pg_catalog.=) 'UPDATE'
         AND (NEW.park_id, NEW.pool_meter_id, NEW.pool_register, NEW.rate, NEW.pool_amount, NEW.fee_kind, NEW.method,
              NEW.scope, NEW.scope_building_id, NEW.scope_floor, NEW.remainder_method, NEW.valid_from)
             IS DISTINCT FROM
             (OLD.park_id, OLD.pool_meter_id, OLD.pool_register, OLD.rate, OLD.pool_amount, OLD.fee_kind, OLD.method,
              OLD.scope, OLD.scope_building_id, OLD.scope_floor, OLD.remainder_method, OLD.valid_from)
         AND v_last_billed IS NOT NULL THEN
      'Its shares have been billed on these terms; a change would rewrite billed months.'
    WHEN TG_OP OPERATOR(pg_catalog.=) 'UPDATE' AND v_last_billed IS NOT NULL AND NEW.valid_to IS NOT NULL
         AND NEW.valid_to OPERATOR(pg_catalog.<) ((v_last_billed OPERATOR(pg_catalog.+) interval '1 month')::date OPERATOR(pg_catalog.-) 1) THEN
      pg_catalog.format('Its shares have been billed on these terms; a change would rewrite billed months. It is billed up to %s: it can end on %s at the earliest.',
                        pg_catalog.to_char(v_last_billed, 'YYYY-MM'),
                        (v_last_billed OPERATOR(pg_catalog.+) interval '1 month')::date OPERATOR(pg_catalog.-) 1)
    END;
  IF v_problem IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LM018',
      MESSAGE = pg_catalog.format('invalid allocation rule "%s"', NEW.name),
      DETAIL = v_problem,
      HINT = CASE WHEN TG_OP OPERATOR(pg_catalog.=) 'UPDATE' AND v_problem LIKE 'Its shares have been billed%'
                  THEN 'End the rule with valid_to and add a new rule from the next month.'
                  ELSE 'See docs/metering.md, "Shared-cost allocation": one pool, a method, a scope.' END;
  END IF;
  RETURN NEW;
END
$fn$;
COMMENT ON FUNCTION leasemgr.allocation_rule_before_write() IS
  'Trigger: an allocation rule has one pool (a meter of the park with a rate, or a fixed amount), a by_submeter rule a meter with sub-meters, a scope that names what it needs (SQLSTATE LM018).';
CREATE TRIGGER allocation_rule_before_write BEFORE INSERT OR UPDATE ON leasemgr.allocation_rule
  FOR EACH ROW EXECUTE FUNCTION leasemgr.allocation_rule_before_write();

-- A month's shares are final once one of them is billed: no share is added to it (but the
-- true-up of a billed estimate) or taken from it; no share is ever updated. For every writer.
CREATE FUNCTION leasemgr.allocation_share_before_change() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
DECLARE
  v_row leasemgr.allocation_share := CASE TG_OP WHEN 'INSERT' THEN NEW ELSE OLD END;
  v_final boolean;
  v_estimate boolean;
BEGIN
  IF TG_OP OPERATOR(pg_catalog.=) 'INSERT' AND leasemgr.owner_copy(TG_RELID) THEN
    RETURN NEW;  -- a restore loads shares before the bill lines that bill them
  END IF;
  SELECT pg_catalog.bool_or(true), pg_catalog.bool_or(sh.estimated) INTO v_final, v_estimate
    FROM leasemgr.allocation_share sh JOIN leasemgr.bill_line l ON l.allocation_share_id OPERATOR(pg_catalog.=) sh.id
   WHERE sh.rule_id OPERATOR(pg_catalog.=) v_row.rule_id AND sh.month OPERATOR(pg_catalog.=) v_row.month;
  IF TG_OP OPERATOR(pg_catalog.=) 'UPDATE'
     OR (TG_OP OPERATOR(pg_catalog.=) 'DELETE' AND v_final)
     OR (TG_OP OPERATOR(pg_catalog.=) 'INSERT' AND v_final AND NOT (NEW.part OPERATOR(pg_catalog.=) 'true_up' AND v_estimate))
     OR (TG_OP OPERATOR(pg_catalog.=) 'INSERT' AND NEW.part OPERATOR(pg_catalog.=) 'true_up' AND v_final IS NULL) THEN
    RAISE EXCEPTION USING ERRCODE = 'LM010',
      MESSAGE = pg_catalog.format('the shares of allocation rule %s for %s cannot be changed that way',
                                  v_row.rule_id, pg_catalog.to_char(v_row.month, 'YYYY-MM')),
      DETAIL = CASE WHEN TG_OP OPERATOR(pg_catalog.=) 'UPDATE' THEN 'Shares are computed by leasemgr.allocate, never edited.'
                    WHEN v_final IS NULL THEN 'A true-up settles a billed estimate; nothing of this month is billed.'
                    ELSE 'The month is billed: its shares are final.' END,
      HINT = 'Recompute a month that is not billed yet with leasemgr.allocate; correct a billed share with an adjustment line.';
  END IF;
  RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END
$fn$;
COMMENT ON FUNCTION leasemgr.allocation_share_before_change() IS
  'Trigger: shares are never updated; once a share of a rule''s month is billed, the month''s shares are final: none is deleted and none added, except the true-ups of a billed estimate (SQLSTATE LM010).';
CREATE TRIGGER allocation_share_before_change BEFORE INSERT OR UPDATE OR DELETE ON leasemgr.allocation_share
  FOR EACH ROW EXECUTE FUNCTION leasemgr.allocation_share_before_change();

-- ---- the split ----------------------------------------------------------------------------

CREATE FUNCTION leasemgr.largest_remainder(total numeric, weights numeric[]) RETURNS numeric[]
  AS 'MODULE_PATHNAME', 'largest_remainder'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION leasemgr.largest_remainder(numeric, numeric[]) IS
  'Splits total (CNY, to the cent) in proportion to weights: every share floored to the cent, then the cents left one each to the largest remainders, ties to the earlier weight. The shares add up to total exactly. Order the parties as the tie rule should favour them (allocate: contracts by id, the landlord last).';

CREATE FUNCTION leasemgr.estimated_consumption(contract_id bigint, kind text, from_day date, to_day date,
                                               unit_ids bigint[] DEFAULT NULL,
                                               OUT quantity numeric, OUT explain text)
  AS 'MODULE_PATHNAME', 'estimated_consumption'
  LANGUAGE C STABLE;
COMMENT ON FUNCTION leasemgr.estimated_consumption(bigint, text, date, date, bigint[]) IS
  'The fallback estimate of a contract''s consumption of a kind (electricity, water, ac, gas, heat) over whole days: the average use per m2 of the other leased units of its floors with real figures x its metered area x its own ratio to that average (median of its last 3 months with real figures), the way a metered bill line is estimated (docs/metering.md); of all its metered units, or of unit_ids only. quantity is NULL when nothing can be estimated from; the explain text says why or how. NULL arguments give NULL.';

-- The basis of each party in scope for a by_area, by_equipment_power or by_headcount split
-- of a month: contracts by what they lease x the days leased, the landlord by what stands
-- vacant x the days vacant.
CREATE FUNCTION leasemgr.allocation_bases(rule leasemgr.allocation_rule, method text, month date)
  RETURNS TABLE (contract_id bigint, basis numeric, basis_unit text, note text)
  LANGUAGE sql STABLE
BEGIN ATOMIC
  WITH m AS (
    SELECT month AS first, (month OPERATOR(pg_catalog.+) interval '1 month')::date AS next
  ), units AS (
    SELECT u.id, u.code, u.area_m2, COALESCE(ab.power_kw, 0) AS power_kw, COALESCE(ab.headcount, 0) AS headcount
      FROM leasemgr.unit u
      LEFT JOIN leasemgr.unit_allocation_basis ab ON ab.unit_id OPERATOR(pg_catalog.=) u.id
     WHERE u.park_id OPERATOR(pg_catalog.=) (rule).park_id
       AND ((rule).scope_building_id IS NULL OR u.building_id OPERATOR(pg_catalog.=) (rule).scope_building_id)
       AND ((rule).scope_floor IS NULL OR u.floor OPERATOR(pg_catalog.=) (rule).scope_floor)
  ), leased AS (
    SELECT cu.contract_id, x.id AS unit_id, x.code,
           CASE method WHEN 'by_area' THEN cu.billable_area_m2 WHEN 'by_equipment_power' THEN x.power_kw
                       ELSE x.headcount END AS measure,
           (pg_catalog.upper(d.days) OPERATOR(pg_catalog.-) pg_catalog.lower(d.days)) AS days
      FROM units x
      JOIN leasemgr.contract_unit cu ON cu.unit_id OPERATOR(pg_catalog.=) x.id
      -- leases that occupy the unit, closed ones included: a month is split as it was leased
      JOIN leasemgr.contract c ON c.id OPERATOR(pg_catalog.=) cu.contract_id
       AND c.state OPERATOR(pg_catalog.=) ANY ('{active,amending,expired,terminated,moving_out,closed}'::text[])
      CROSS JOIN m
      CROSS JOIN LATERAL (SELECT cu.held_range OPERATOR(pg_catalog.*) pg_catalog.daterange(m.first, m.next) AS days) d
     WHERE NOT pg_catalog.isempty(d.days)
  ), vacant AS (
    SELECT x.id, x.code,
           CASE method WHEN 'by_area' THEN x.area_m2 WHEN 'by_equipment_power' THEN x.power_kw
                       ELSE x.headcount END AS measure,
           (m.next OPERATOR(pg_catalog.-) m.first) OPERATOR(pg_catalog.-)
             COALESCE((SELECT pg_catalog.sum(l.days) FROM leased l WHERE l.unit_id OPERATOR(pg_catalog.=) x.id), 0) AS days
      FROM units x CROSS JOIN m
  ), unit_of AS (
    SELECT CASE method WHEN 'by_area' THEN 'm2 x days' WHEN 'by_equipment_power' THEN 'kW x days'
                       ELSE 'heads x days' END AS u,
           CASE method WHEN 'by_area' THEN 'm2' WHEN 'by_equipment_power' THEN 'kW' ELSE 'heads' END AS short
  )
  SELECT l.contract_id, pg_catalog.sum(l.measure OPERATOR(pg_catalog.*) l.days), (SELECT u FROM unit_of),
         pg_catalog.string_agg(pg_catalog.format('%s %s %s x %s days', l.code, l.measure, (SELECT short FROM unit_of), l.days),
                               ', ' ORDER BY l.code)
    FROM leased l
   GROUP BY l.contract_id
  UNION ALL
  SELECT NULL::bigint, pg_catalog.sum(v.measure OPERATOR(pg_catalog.*) v.days), (SELECT u FROM unit_of),
         'vacant units'
    FROM vacant v
  HAVING pg_catalog.sum(v.measure OPERATOR(pg_catalog.*) v.days) OPERATOR(pg_catalog.>) 0
   ORDER BY 1 NULLS LAST;
END;
COMMENT ON FUNCTION leasemgr.allocation_bases(leasemgr.allocation_rule, text, date) IS
  'The bases of a by_area, by_equipment_power or by_headcount split of a rule''s scope for a month: per contract, what it leases (billable m2, declared kW or heads) x the days leased in the month; for the landlord (contract_id NULL), what stands vacant x the days vacant.';

-- Split one pool part among parties and write the shares.
-- Split one pool part among parties by largest remainder: the shares, not yet written.
CREATE FUNCTION leasemgr.allocation_split(rule leasemgr.allocation_rule, month date, part text, pool numeric,
                                          pool_text text, contracts bigint[], bases numeric[], basis_unit text,
                                          notes text[], estimated boolean)
  RETURNS SETOF leasemgr.allocation_share
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
DECLARE
  v_total numeric := 0;
  v_amounts numeric[];
  v_n integer := pg_catalog.cardinality(contracts);
  v_share leasemgr.allocation_share;
  i integer;
BEGIN
  FOR i IN 1 .. v_n LOOP
    v_total := v_total OPERATOR(pg_catalog.+) bases[i];
  END LOOP;
  IF (v_n OPERATOR(pg_catalog.=) 0 OR v_total OPERATOR(pg_catalog.=) 0) AND pool OPERATOR(pg_catalog.<>) 0 THEN
    -- Nobody in scope to carry it: the landlord does, and the pool is never lost.
    contracts := ARRAY[NULL::bigint]; bases := ARRAY[0::numeric]; notes := ARRAY['(nobody in scope carries it)'];
    v_n := 1;
    v_amounts := ARRAY[pool];
  ELSIF v_n OPERATOR(pg_catalog.=) 0 THEN
    RETURN;
  ELSIF v_total OPERATOR(pg_catalog.=) 0 OR pool OPERATOR(pg_catalog.=) 0 THEN
    v_amounts := pg_catalog.array_fill(0::numeric, ARRAY[v_n]);
  ELSE
    v_amounts := leasemgr.largest_remainder(pool, bases);
  END IF;
  FOR i IN 1 .. v_n LOOP
    v_share.park_id := (rule).park_id;
    v_share.rule_id := (rule).id;
    v_share.month := month;
    v_share.contract_id := contracts[i];
    v_share.part := part;
    v_share.basis := bases[i];
    v_share.basis_total := v_total;
    v_share.basis_unit := basis_unit;
    v_share.parties := v_n;
    v_share.pool_amount := pool;
    v_share.amount := v_amounts[i];
    v_share.estimated := estimated;
    v_share.explain := pg_catalog.format('%s %s (%s%s): %s; %s: %s %s of %s %s among %s parties%s -> %s',
      (rule).name, pg_catalog.to_char(month, 'YYYY-MM'), (rule).method,
      CASE part WHEN 'remainder' THEN ', the part no sub-meter measured' ELSE '' END,
      pool_text,
      CASE WHEN contracts[i] IS NULL THEN 'the landlord''s ' OPERATOR(pg_catalog.||) notes[i] ELSE notes[i] END,
      pg_catalog.trim_scale(bases[i]), basis_unit, pg_catalog.trim_scale(v_total), basis_unit, v_n,
      CASE WHEN contracts[i] IS NULL THEN '' ELSE ' (the landlord''s vacant part included)' END,
      CASE WHEN v_total OPERATOR(pg_catalog.=) 0 THEN pg_catalog.format('nothing to split by = %s', v_amounts[i])
           ELSE pg_catalog.format('%s x %s / %s = %s (to the cent by largest remainder: the shares add up to the pool)',
                                  pool, pg_catalog.trim_scale(bases[i]), pg_catalog.trim_scale(v_total), v_amounts[i]) END);
    RETURN NEXT v_share;
  END LOOP;
END
$fn$;
COMMENT ON FUNCTION leasemgr.allocation_split(leasemgr.allocation_rule, date, text, numeric, text, bigint[], numeric[], text, text[], boolean) IS
  'Internal to leasemgr.allocate: splits one pool part among its parties by largest remainder (contracts in the order given, the landlord last) and returns their shares with the explain texts, without writing them.';

-- One rule's split of a month, computed and not written: its shares, or why it is held.
CREATE FUNCTION leasemgr.allocation_compute(rule leasemgr.allocation_rule, month date,
                                            OUT shares leasemgr.allocation_share[], OUT held text,
                                            OUT estimated boolean)
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
DECLARE
  v_next date := (month OPERATOR(pg_catalog.+) interval '1 month')::date;
  v_from timestamptz := month::timestamp AT TIME ZONE pg_catalog.current_setting('leasemgr.timezone');
  v_to timestamptz := v_next::timestamp AT TIME ZONE pg_catalog.current_setting('leasemgr.timezone');
  v_meter leasemgr.meter;
  v_qty numeric;
  v_qty_text text;
  v_pool numeric;
  v_pool_text text;
  v_kind_unit text;
  v_ids bigint[];
  v_bases numeric[];
  v_notes text[];
  v_unit text;
  v_measured numeric := 0;
  v_rest numeric;
  v_parts numeric[];
  v_percent numeric;
  v_estimate_missing boolean;
  v_est numeric;
  v_est_text text;
  v_negatives integer;
  s record;
BEGIN
  estimated := false;
  shares := '{}';
  -- The pool.
  IF (rule).pool_meter_id IS NOT NULL THEN
    SELECT * INTO v_meter FROM leasemgr.meter m WHERE m.id OPERATOR(pg_catalog.=) (rule).pool_meter_id;
    v_kind_unit := CASE v_meter.kind WHEN 'water' THEN 'm3' WHEN 'gas' THEN 'm3' WHEN 'heat' THEN 'GJ' ELSE 'kWh' END;
    -- An open spike, negative or bounds anomaly on the pool meter: the pool itself is in
    -- doubt, and nothing else measures it. The month waits for engineering.
    SELECT pg_catalog.string_agg(pg_catalog.format('anomaly %s (%s on %s)', a.id, a.kind, v_meter.code), ', ' ORDER BY a.id)
      INTO held
      FROM leasemgr.anomaly a
     WHERE a.meter_id OPERATOR(pg_catalog.=) (rule).pool_meter_id
       AND a.state OPERATOR(pg_catalog.=) 'open' AND a.kind OPERATOR(pg_catalog.=) ANY ('{spike,negative,bounds}')
       AND a.during OPERATOR(pg_catalog.&&) pg_catalog.tstzrange(v_from, v_to);
    IF held IS NOT NULL THEN
      held := held OPERATOR(pg_catalog.||) ' open on the pool meter: split once engineering decides (leasemgr.decide_anomaly)';
      RETURN;
    END IF;
    SELECT c.quantity, c.explain, c.negative_steps INTO v_qty, v_qty_text, v_negatives
      FROM leasemgr.meter_consumption((rule).pool_meter_id, v_from, v_to, (rule).pool_register) c;
    IF v_qty IS NULL THEN
      held := pg_catalog.format('readings missing on the pool meter: %s', v_qty_text);
      RETURN;
    END IF;
    IF v_negatives OPERATOR(pg_catalog.>) 0 THEN
      held := pg_catalog.format('the pool meter went back without a rollover (%s); split once the wrong reading is voided',
                                v_qty_text);
      RETURN;
    END IF;
    -- The pool is rounded to the cent here, once; the splits below are exact.
    v_pool := pg_catalog.round(v_qty OPERATOR(pg_catalog.*) (rule).rate, 2);
    v_pool_text := pg_catalog.format('pool %s x %s CNY = %s CNY', v_qty_text, (rule).rate, v_pool);
  ELSE
    v_pool := (rule).pool_amount;
    v_pool_text := pg_catalog.format('pool %s CNY for the month', v_pool);
  END IF;

  IF (rule).method OPERATOR(pg_catalog.=) 'by_submeter' THEN
    SELECT p.estimate_missing INTO v_estimate_missing FROM leasemgr.metering_policy_of((rule).park_id) p;
    -- Each sub-meter's consumption over the days each contract leased its unit in the month
    -- (interpolated at the lease's first and last midnight), and over the days it stood
    -- vacant to the landlord (a shared sub-meter's all month). A contract whose sub-meter is
    -- doubtful (an open or confirmed spike, negative or bounds anomaly, a step backwards) or
    -- unread (when the park estimates missing readings) counts at its fallback estimate for
    -- its days and the sub-meters' units. What cannot be estimated waits, except under a
    -- confirmed anomaly alone: confirming meant the wrong readings were voided or corrected,
    -- so the readings as they stand are used.
    v_ids := '{}'; v_bases := '{}'; v_notes := '{}';
    FOR s IN
      WITH sub AS (
        SELECT sm.id, sm.code, sm.unit_id,
               (SELECT pg_catalog.string_agg(pg_catalog.format('anomaly %s (%s on %s, %s)', a.id, a.kind, sm.code, a.state),
                                             ', ' ORDER BY a.id)
                  FROM leasemgr.anomaly a
                 WHERE a.meter_id OPERATOR(pg_catalog.=) sm.id AND a.state OPERATOR(pg_catalog.<>) 'dismissed'
                   AND a.kind OPERATOR(pg_catalog.=) ANY ('{spike,negative,bounds}')
                   AND a.during OPERATOR(pg_catalog.&&) pg_catalog.tstzrange(v_from, v_to)) AS doubt,
               EXISTS (SELECT FROM leasemgr.anomaly a
                        WHERE a.meter_id OPERATOR(pg_catalog.=) sm.id AND a.state OPERATOR(pg_catalog.=) 'open'
                          AND a.kind OPERATOR(pg_catalog.=) ANY ('{spike,negative,bounds}')
                          AND a.during OPERATOR(pg_catalog.&&) pg_catalog.tstzrange(v_from, v_to)) AS open_doubt
          FROM leasemgr.meter sm
         WHERE sm.parent_id OPERATOR(pg_catalog.=) (rule).pool_meter_id
           AND sm.installed_at OPERATOR(pg_catalog.<) v_to
           AND (sm.removed_at IS NULL OR sm.removed_at OPERATOR(pg_catalog.>) v_from)
      ), per AS (
        SELECT sb.id, sb.code, sb.unit_id, sb.doubt, sb.open_doubt, p.party, p.whole, p.d0, p.d1, c.quantity,
               c.negative_steps
          FROM sub sb
          CROSS JOIN LATERAL (
            SELECT cu.contract_id AS party, false AS whole,
                   GREATEST(pg_catalog.lower(cu.held_range), month) AS d0,
                   LEAST(pg_catalog.upper(cu.held_range), v_next) AS d1
              FROM leasemgr.contract_unit cu
              JOIN leasemgr.contract ct ON ct.id OPERATOR(pg_catalog.=) cu.contract_id
               AND ct.state OPERATOR(pg_catalog.=) ANY ('{active,amending,expired,terminated,moving_out,closed}'::text[])
             WHERE cu.unit_id OPERATOR(pg_catalog.=) sb.unit_id
               AND cu.held_range OPERATOR(pg_catalog.&&) pg_catalog.daterange(month, v_next)
            UNION ALL
            SELECT NULL::bigint, true, month, v_next) p
          CROSS JOIN LATERAL leasemgr.meter_consumption(sb.id,
            p.d0::timestamp AT TIME ZONE pg_catalog.current_setting('leasemgr.timezone'),
            p.d1::timestamp AT TIME ZONE pg_catalog.current_setting('leasemgr.timezone'), (rule).pool_register) c
      ), parts AS (
        SELECT l.code, l.unit_id, l.doubt, l.open_doubt, l.party, l.d0, l.d1, l.quantity, l.negative_steps,
               l.d1 OPERATOR(pg_catalog.-) l.d0 AS days
          FROM per l WHERE NOT l.whole
        UNION ALL
        -- the vacant days: the month's consumption less the leased days'
        SELECT w.code, w.unit_id, w.doubt, w.open_doubt, NULL, w.d0, w.d1,
               w.quantity OPERATOR(pg_catalog.-) COALESCE((SELECT pg_catalog.sum(l.quantity) FROM per l
                                                           WHERE l.id OPERATOR(pg_catalog.=) w.id AND NOT l.whole), 0),
               w.negative_steps,
               (w.d1 OPERATOR(pg_catalog.-) w.d0) OPERATOR(pg_catalog.-)
                 COALESCE((SELECT pg_catalog.sum(l.d1 OPERATOR(pg_catalog.-) l.d0) FROM per l
                            WHERE l.id OPERATOR(pg_catalog.=) w.id AND NOT l.whole), 0)
          FROM per w WHERE w.whole
      )
      SELECT x.party, pg_catalog.sum(x.quantity) AS quantity, pg_catalog.min(x.d0) AS d0, pg_catalog.max(x.d1) AS d1,
             pg_catalog.array_agg(DISTINCT x.unit_id) FILTER (WHERE x.unit_id IS NOT NULL) AS units,
             pg_catalog.string_agg(pg_catalog.format('%s %s%s', x.code, COALESCE(pg_catalog.trim_scale(x.quantity)::text, 'unread'),
                                                     CASE WHEN x.days OPERATOR(pg_catalog.<) (v_next OPERATOR(pg_catalog.-) month)
                                                          THEN pg_catalog.format(' (%s days)', x.days) ELSE '' END),
                                   ', ' ORDER BY x.code) AS note,
             pg_catalog.bool_or(x.quantity IS NULL) AS missing,
             pg_catalog.bool_or(x.open_doubt OR x.negative_steps OPERATOR(pg_catalog.>) 0) AS open_doubt,
             pg_catalog.concat_ws(', ', pg_catalog.string_agg(x.doubt, ', ' ORDER BY x.code),
                                  pg_catalog.string_agg(CASE WHEN x.negative_steps OPERATOR(pg_catalog.>) 0
                                                             THEN 'a step backwards on ' OPERATOR(pg_catalog.||) x.code END, ', ')) AS doubt,
             pg_catalog.string_agg(CASE WHEN x.quantity IS NULL THEN x.code END, ', ') AS missing_codes
        FROM parts x
       WHERE x.party IS NOT NULL OR x.days OPERATOR(pg_catalog.>) 0
       GROUP BY x.party
       ORDER BY x.party NULLS LAST
    LOOP
      -- A tenant billed for these meters by its own metered charge would pay them twice.
      IF s.party IS NOT NULL THEN
        SELECT pg_catalog.format('contract %s is billed for its %s meters by its own metered charge %s, and this rule splits its sub-meter%s %s: it would pay twice; end the charge or take the sub-meter out of the pool',
                                 c.code, v_meter.kind, ch.id, CASE WHEN s.note LIKE '%,%' THEN 's' ELSE '' END, s.note)
          INTO held
          FROM leasemgr.charge ch JOIN leasemgr.contract c ON c.id OPERATOR(pg_catalog.=) ch.contract_id
         WHERE ch.contract_id OPERATOR(pg_catalog.=) s.party AND ch.basis OPERATOR(pg_catalog.=) 'metered'
           AND ch.meter_kind OPERATOR(pg_catalog.=) v_meter.kind
           AND ch.valid_from OPERATOR(pg_catalog.<) v_next
           AND (ch.valid_to IS NULL OR ch.valid_to OPERATOR(pg_catalog.>=) month)
         ORDER BY ch.id LIMIT 1;
        IF held IS NOT NULL THEN
          RETURN;
        END IF;
      END IF;
      IF s.doubt OPERATOR(pg_catalog.<>) '' OR (s.missing AND v_estimate_missing) THEN
        v_est := NULL;
        v_est_text := 'no tenant on these days';
        IF s.party IS NOT NULL THEN
          SELECT e.quantity, e.explain INTO v_est, v_est_text
            FROM leasemgr.estimated_consumption(s.party, v_meter.kind, s.d0, s.d1 OPERATOR(pg_catalog.-) 1, s.units) e;
        END IF;
        IF v_est IS NOT NULL THEN
          estimated := true;
          v_ids := v_ids || s.party;
          v_bases := v_bases || v_est;
          v_notes := v_notes || pg_catalog.format('estimated (%s): %s',
                                                   COALESCE(NULLIF(s.doubt, ''), 'readings missing on ' OPERATOR(pg_catalog.||) s.missing_codes),
                                                   v_est_text);
          v_measured := v_measured OPERATOR(pg_catalog.+) v_est;
          CONTINUE;
        END IF;
        IF s.open_doubt OR s.missing THEN
          held := pg_catalog.format('%s, and no estimate (%s); split once engineering decides or the meter is read',
                                    COALESCE(NULLIF(s.doubt, ''), 'readings missing on ' OPERATOR(pg_catalog.||) s.missing_codes),
                                    v_est_text);
          RETURN;
        END IF;
        -- confirmed alone, nothing to estimate from: the readings as corrected
        v_notes := v_notes || pg_catalog.format('sub-meter%s %s (%s; not estimated: %s; the readings as corrected)',
                                                 CASE WHEN s.note LIKE '%,%' THEN 's' ELSE '' END, s.note, s.doubt, v_est_text);
      ELSIF s.missing THEN
        held := pg_catalog.format('readings missing on sub-meter(s) %s', s.missing_codes);
        RETURN;
      ELSE
        v_notes := v_notes || pg_catalog.format('sub-meter%s %s', CASE WHEN s.note LIKE '%,%' THEN 's' ELSE '' END, s.note);
      END IF;
      v_ids := v_ids || s.party;
      v_bases := v_bases || s.quantity;
      v_measured := v_measured OPERATOR(pg_catalog.+) s.quantity;
    END LOOP;
    -- The pool in two parts, exact to the cent: what the sub-meters measured, and the rest.
    v_rest := GREATEST(v_qty OPERATOR(pg_catalog.-) v_measured, 0);
    IF v_measured OPERATOR(pg_catalog.+) v_rest OPERATOR(pg_catalog.=) 0 OR v_pool OPERATOR(pg_catalog.=) 0 THEN
      v_parts := ARRAY[v_pool, 0];
    ELSE
      v_parts := leasemgr.largest_remainder(v_pool, ARRAY[v_measured, v_rest]);
    END IF;
    shares := shares || ARRAY(SELECT sp FROM leasemgr.allocation_split(rule, month, 'pool', v_parts[1],
      pg_catalog.format('%s; the sub-meters measured %s of %s %s: %s CNY of it', v_pool_text,
                        pg_catalog.trim_scale(v_measured), pg_catalog.trim_scale(v_qty), v_kind_unit, v_parts[1]),
      v_ids, v_bases, v_kind_unit, v_notes, estimated) sp);
    v_pool_text := pg_catalog.format('%s; no sub-meter measured %s of %s %s: %s CNY of it', v_pool_text,
                                     pg_catalog.trim_scale(v_rest), pg_catalog.trim_scale(v_qty), v_kind_unit, v_parts[2]);
    IF (rule).remainder_method OPERATOR(pg_catalog.=) 'landlord' THEN
      shares := shares || ARRAY(SELECT sp FROM leasemgr.allocation_split(rule, month, 'remainder', v_parts[2], v_pool_text,
        ARRAY[NULL::bigint], ARRAY[v_rest], v_kind_unit, ARRAY['unmetered remainder (losses, common areas)'], estimated) sp);
      RETURN;
    END IF;
    -- the remainder split by the rule's second method, below
    v_pool := v_parts[2];
    SELECT pg_catalog.array_agg(b.contract_id ORDER BY b.contract_id NULLS LAST),
           pg_catalog.array_agg(b.basis ORDER BY b.contract_id NULLS LAST),
           pg_catalog.array_agg(b.note ORDER BY b.contract_id NULLS LAST), pg_catalog.min(b.basis_unit)
      INTO v_ids, v_bases, v_notes, v_unit
      FROM leasemgr.allocation_bases(rule, (rule).remainder_method, month) b;
    shares := shares || ARRAY(SELECT sp FROM leasemgr.allocation_split(rule, month, 'remainder', v_pool, v_pool_text,
      COALESCE(v_ids, '{}'), COALESCE(v_bases, '{}'), v_unit, COALESCE(v_notes, '{}'), estimated) sp);
    RETURN;
  END IF;

  IF (rule).method OPERATOR(pg_catalog.=) 'fixed_share' THEN
    SELECT pg_catalog.sum(f.percent) INTO v_percent FROM leasemgr.allocation_fixed_share f
     WHERE f.rule_id OPERATOR(pg_catalog.=) (rule).id;
    IF v_percent IS DISTINCT FROM 100 THEN
      RAISE EXCEPTION USING ERRCODE = 'LM018',
        MESSAGE = pg_catalog.format('the fixed shares of allocation rule "%s" do not add up to 100%%', (rule).name),
        DETAIL = pg_catalog.format('They add up to %s%%.', COALESCE(pg_catalog.trim_scale(v_percent)::text, '0')),
        HINT = 'Correct leasemgr.allocation_fixed_share for the rule; the landlord''s part is the days a contract is not leased, not a percentage.';
    END IF;
    SELECT pg_catalog.array_agg(x.contract_id ORDER BY x.contract_id NULLS LAST),
           pg_catalog.array_agg(x.basis ORDER BY x.contract_id NULLS LAST),
           pg_catalog.array_agg(x.note ORDER BY x.contract_id NULLS LAST), 'percent x days'
      INTO v_ids, v_bases, v_notes, v_unit
      FROM (WITH f AS (
              SELECT f.contract_id, f.percent,
                     CASE WHEN c.state OPERATOR(pg_catalog.=) ANY ('{active,amending,expired,terminated,moving_out,closed}'::text[]) THEN
                       COALESCE(pg_catalog.upper(c.lease_range OPERATOR(pg_catalog.*) pg_catalog.daterange(month, v_next))
                                OPERATOR(pg_catalog.-) pg_catalog.lower(c.lease_range OPERATOR(pg_catalog.*) pg_catalog.daterange(month, v_next)), 0)
                     ELSE 0 END AS days
                FROM leasemgr.allocation_fixed_share f
                JOIN leasemgr.contract c ON c.id OPERATOR(pg_catalog.=) f.contract_id
               WHERE f.rule_id OPERATOR(pg_catalog.=) (rule).id)
            SELECT f.contract_id, f.percent OPERATOR(pg_catalog.*) f.days AS basis,
                   pg_catalog.format('%s%% x %s days leased', pg_catalog.trim_scale(f.percent), f.days) AS note
              FROM f
            UNION ALL
            -- the days a contract is not leased are the landlord's
            SELECT NULL::bigint,
                   100 OPERATOR(pg_catalog.*) (v_next OPERATOR(pg_catalog.-) month) OPERATOR(pg_catalog.-)
                     pg_catalog.sum(f.percent OPERATOR(pg_catalog.*) f.days),
                   'days not leased'
              FROM f
            HAVING 100 OPERATOR(pg_catalog.*) (v_next OPERATOR(pg_catalog.-) month) OPERATOR(pg_catalog.>)
                     pg_catalog.sum(f.percent OPERATOR(pg_catalog.*) f.days)) x
     WHERE x.basis OPERATOR(pg_catalog.>) 0 OR x.contract_id IS NULL;
  ELSE
    SELECT pg_catalog.array_agg(b.contract_id ORDER BY b.contract_id NULLS LAST),
           pg_catalog.array_agg(b.basis ORDER BY b.contract_id NULLS LAST),
           pg_catalog.array_agg(b.note ORDER BY b.contract_id NULLS LAST), pg_catalog.min(b.basis_unit)
      INTO v_ids, v_bases, v_notes, v_unit
      FROM leasemgr.allocation_bases(rule, (rule).method, month) b;
  END IF;
  shares := ARRAY(SELECT sp FROM leasemgr.allocation_split(rule, month, 'pool', v_pool, v_pool_text, COALESCE(v_ids, '{}'),
                                                           COALESCE(v_bases, '{}'), v_unit, COALESCE(v_notes, '{}'), false) sp);
END
$fn$;
COMMENT ON FUNCTION leasemgr.allocation_compute(leasemgr.allocation_rule, date) IS
  'Internal to leasemgr.allocate: one rule''s split of a month, computed and not written: the shares (estimated when a sub-meter counted at its fallback estimate), or why the month is held.';

-- ---- allocate -----------------------------------------------------------------------------

CREATE FUNCTION leasemgr.allocate(park_id bigint, period_month date)
  RETURNS TABLE (rule_id bigint, rule_name text, contract_id bigint, part text, basis numeric, basis_total numeric,
                 amount numeric, state text, explain text)
  LANGUAGE plpgsql SECURITY INVOKER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
DECLARE
  v_month date;
  v_next date;
  r leasemgr.allocation_rule;
  c record;
  v_billed boolean;
  v_trued boolean;
  v_billed_estimate boolean;
BEGIN
  IF allocate.park_id IS NULL OR period_month IS NULL OR NOT pg_catalog.isfinite(period_month) THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = 'allocate needs a park and a month',
      DETAIL = pg_catalog.format('park_id is %s and period_month is %s.', COALESCE(allocate.park_id::text, 'NULL'),
                                 COALESCE(period_month::text, 'NULL')),
      HINT = 'E.g. SELECT * FROM leasemgr.allocate(1, ''2027-03-01'').';
  END IF;
  -- Like a bill run: a transaction snapshot taken before the lock below would not show what a
  -- run it waited for has billed.
  IF pg_catalog.current_setting('transaction_isolation') OPERATOR(pg_catalog.<>) 'read committed' THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = 'allocate must run at READ COMMITTED',
      DETAIL = pg_catalog.format('This transaction is %s.', pg_catalog.upper(pg_catalog.current_setting('transaction_isolation'))),
      HINT = 'Run leasemgr.allocate in a READ COMMITTED transaction (the default).';
  END IF;
  -- Take turns with the park's bill runs (the lock lm_lock_bill_runs takes): a run reads the
  -- unbilled shares once, and must not see them replaced under it; allocate must see what a
  -- run it waited for has billed (plpgsql takes a new snapshot per statement).
  PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('leasemgr.bill_run'),
                                           (allocate.park_id OPERATOR(pg_catalog.%) 2147483647)::integer);
  IF NOT EXISTS (SELECT FROM leasemgr.park p WHERE p.id OPERATOR(pg_catalog.=) allocate.park_id) THEN
    RAISE EXCEPTION USING ERRCODE = 'LM009',
      MESSAGE = pg_catalog.format('park %s not found', allocate.park_id),
      DETAIL = 'No park with this id is visible to you.',
      HINT = 'Check the id, or ask an admin to grant you the park (leasemgr.grant_park).';
  END IF;
  v_month := pg_catalog.date_trunc('month', period_month)::date;
  v_next := (v_month OPERATOR(pg_catalog.+) interval '1 month')::date;
  IF v_next OPERATOR(pg_catalog.>) leasemgr.business_date() THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = pg_catalog.format('cannot allocate %s yet', pg_catalog.to_char(v_month, 'YYYY-MM')),
      DETAIL = pg_catalog.format('Today is %s: the month has not ended.', leasemgr.business_date()),
      HINT = 'Allocate a month once it is over and its meters are read.';
  END IF;

  FOR r IN SELECT ar.* FROM leasemgr.allocation_rule ar
            WHERE ar.park_id OPERATOR(pg_catalog.=) allocate.park_id
              AND ar.valid_from OPERATOR(pg_catalog.<) v_next
              AND (ar.valid_to IS NULL OR ar.valid_to OPERATOR(pg_catalog.>=) v_month)
            ORDER BY ar.id
  LOOP
    SELECT pg_catalog.bool_or(l.id IS NOT NULL), pg_catalog.bool_or(sh.part OPERATOR(pg_catalog.=) 'true_up'),
           pg_catalog.bool_or(sh.estimated)
      INTO v_billed, v_trued, v_billed_estimate
      FROM leasemgr.allocation_share sh
      LEFT JOIN leasemgr.bill_line l ON l.allocation_share_id OPERATOR(pg_catalog.=) sh.id
     WHERE sh.rule_id OPERATOR(pg_catalog.=) r.id AND sh.month OPERATOR(pg_catalog.=) v_month;
    -- Billed and final (real, an estimate made final by a confirmed anomaly, or trued up
    -- already): the shares as they were billed. Computing would be wasted work.
    IF v_billed AND (v_trued OR NOT v_billed_estimate) THEN
      RETURN QUERY SELECT r.id, r.name, sh.contract_id, sh.part, sh.basis, sh.basis_total, sh.amount, 'billed'::text, sh.explain
                     FROM leasemgr.allocation_share sh
                    WHERE sh.rule_id OPERATOR(pg_catalog.=) r.id AND sh.month OPERATOR(pg_catalog.=) v_month
                    ORDER BY sh.part, sh.contract_id NULLS LAST;
      CONTINUE;
    END IF;

    c := leasemgr.allocation_compute(r, v_month);
    IF c.held IS NOT NULL THEN
      IF NOT COALESCE(v_billed, false) THEN
        DELETE FROM leasemgr.allocation_share sh
         WHERE sh.rule_id OPERATOR(pg_catalog.=) r.id AND sh.month OPERATOR(pg_catalog.=) v_month;
      END IF;
      RETURN QUERY SELECT r.id, r.name, NULL::bigint, 'pool'::text, NULL::numeric, NULL::numeric, NULL::numeric,
                          'held'::text, pg_catalog.format('%s %s held: %s', r.name, pg_catalog.to_char(v_month, 'YYYY-MM'), c.held);
      CONTINUE;
    END IF;

    IF NOT COALESCE(v_billed, false) THEN
      -- Not billed yet: (re)written as computed now.
      DELETE FROM leasemgr.allocation_share sh
       WHERE sh.rule_id OPERATOR(pg_catalog.=) r.id AND sh.month OPERATOR(pg_catalog.=) v_month;
      INSERT INTO leasemgr.allocation_share (park_id, rule_id, month, contract_id, part, basis, basis_total, basis_unit,
                                             parties, pool_amount, amount, estimated, explain)
      SELECT x.park_id, x.rule_id, x.month, x.contract_id, x.part, x.basis, x.basis_total, x.basis_unit,
             x.parties, x.pool_amount, x.amount, x.estimated, x.explain
        FROM pg_catalog.unnest(c.shares) x;
      RETURN QUERY SELECT r.id, r.name, sh.contract_id, sh.part, sh.basis, sh.basis_total, sh.amount,
                          CASE WHEN sh.estimated THEN 'estimated' ELSE 'computed' END, sh.explain
                     FROM leasemgr.allocation_share sh
                    WHERE sh.rule_id OPERATOR(pg_catalog.=) r.id AND sh.month OPERATOR(pg_catalog.=) v_month
                    ORDER BY sh.part, sh.contract_id NULLS LAST;
    ELSIF NOT c.estimated THEN
      -- Billed at an estimate, and the real split is known now: each party's true-up is its
      -- real share minus what it was billed (the true-ups add up to 0: both splits are the pool).
      INSERT INTO leasemgr.allocation_share (park_id, rule_id, month, contract_id, part, basis, basis_total, basis_unit,
                                             parties, pool_amount, amount, explain)
      SELECT r.park_id, r.id, v_month, p.contract_id, 'true_up', p.real, t.total, 'CNY', t.parties, t.total,
             p.real OPERATOR(pg_catalog.-) p.billed,
             pg_catalog.format('%s %s true-up: the estimate is replaced by the real split: %s; real %s - billed %s = %s',
                               r.name, pg_catalog.to_char(v_month, 'YYYY-MM'), p.how, p.real, p.billed,
                               p.real OPERATOR(pg_catalog.-) p.billed)
        FROM (SELECT COALESCE(n.contract_id, o.contract_id) AS contract_id, COALESCE(n.amount, 0) AS real,
                     COALESCE(o.amount, 0) AS billed, COALESCE(n.how, 'no share now') AS how
                FROM (SELECT x.contract_id, pg_catalog.sum(x.amount) AS amount,
                             pg_catalog.string_agg(x.explain, ' | ' ORDER BY x.part) AS how
                        FROM pg_catalog.unnest(c.shares) x GROUP BY x.contract_id) n
                FULL JOIN (SELECT sh.contract_id, pg_catalog.sum(sh.amount) AS amount
                             FROM leasemgr.allocation_share sh
                            WHERE sh.rule_id OPERATOR(pg_catalog.=) r.id AND sh.month OPERATOR(pg_catalog.=) v_month
                            GROUP BY sh.contract_id) o
                  -- the landlord (NULL) joins the landlord; contract ids are positive
                  ON COALESCE(n.contract_id, 0) OPERATOR(pg_catalog.=) COALESCE(o.contract_id, 0)) p
        CROSS JOIN (SELECT pg_catalog.sum(x.amount) AS total, pg_catalog.count(DISTINCT x.contract_id)::integer
                           OPERATOR(pg_catalog.+) pg_catalog.max(CASE WHEN x.contract_id IS NULL THEN 1 ELSE 0 END) AS parties
                      FROM pg_catalog.unnest(c.shares) x) t;
      RETURN QUERY SELECT r.id, r.name, sh.contract_id, sh.part, sh.basis, sh.basis_total, sh.amount,
                          CASE WHEN sh.part OPERATOR(pg_catalog.=) 'true_up' THEN 'trued_up' ELSE 'billed' END, sh.explain
                     FROM leasemgr.allocation_share sh
                    WHERE sh.rule_id OPERATOR(pg_catalog.=) r.id AND sh.month OPERATOR(pg_catalog.=) v_month
                    ORDER BY sh.part, sh.contract_id NULLS LAST;
    ELSE
      -- Billed at an estimate that is still all there is: as billed, to be trued up later.
      RETURN QUERY SELECT r.id, r.name, sh.contract_id, sh.part, sh.basis, sh.basis_total, sh.amount, 'billed'::text, sh.explain
                     FROM leasemgr.allocation_share sh
                    WHERE sh.rule_id OPERATOR(pg_catalog.=) r.id AND sh.month OPERATOR(pg_catalog.=) v_month
                    ORDER BY sh.part, sh.contract_id NULLS LAST;
    END IF;
  END LOOP;
END
$fn$;
COMMENT ON FUNCTION leasemgr.allocate(bigint, date) IS
  'Computes every allocation rule of the park for a month that is over: each party''s share of the rule''s pool, exact to the cent (largest remainder: shares floored to the cent, the cents left to the largest remainders, ties to the lower contract id, the landlord last), written to leasemgr.allocation_share with its explain text. Vacant units'' part goes to the landlord. A tenant''s sub-meter under an open or confirmed spike, negative or bounds anomaly (or unread, when the park estimates missing readings) counts at its fallback estimate (state estimated). A month not billed yet is recomputed; a billed one is final (state billed), except a billed estimate whose real figures are now known: each party then gets a true_up share of the difference (state trued_up), once. An anomaly on the pool meter, or readings missing, holds the rule (state held, nothing written). Takes turns with the park''s bill runs; the next bill run bills each contract''s shares as allocation lines.';

-- ---- what a tenant is shown ------------------------------------------------------------------

CREATE FUNCTION leasemgr.allocation_statement(contract_id bigint, period_month date)
  RETURNS TABLE (rule_name text, fee_kind text, method text, part text, pool_amount numeric, your_basis numeric,
                 basis_total numeric, basis_unit text, parties integer, your_share numeric, billed boolean,
                 explain text)
  LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT ar.name, ar.fee_kind, ar.method, sh.part, sh.pool_amount, sh.basis, sh.basis_total, sh.basis_unit, sh.parties,
         sh.amount,
         EXISTS (SELECT FROM leasemgr.bill_line l WHERE l.allocation_share_id OPERATOR(pg_catalog.=) sh.id),
         sh.explain
    FROM leasemgr.allocation_share sh
    JOIN leasemgr.allocation_rule ar ON ar.id OPERATOR(pg_catalog.=) sh.rule_id
   WHERE sh.contract_id OPERATOR(pg_catalog.=) allocation_statement.contract_id
     AND sh.month OPERATOR(pg_catalog.=) pg_catalog.date_trunc('month', allocation_statement.period_month)::date
   ORDER BY ar.id, sh.part;
END;
COMMENT ON FUNCTION leasemgr.allocation_statement(bigint, date) IS
  'A tenant''s view of its shares of shared costs for a month: per rule and part, the pool, the method, its own basis, everyone''s basis total and how many parties share it, its share and whether it is billed, with the calculation in words. Other tenants are never named.';

-- ---- security, dump -------------------------------------------------------------------------

DO $scope$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['allocation_rule', 'allocation_fixed_share', 'unit_allocation_basis', 'allocation_share']
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

REVOKE ALL ON leasemgr.allocation_rule, leasemgr.allocation_fixed_share, leasemgr.unit_allocation_basis,
  leasemgr.allocation_share FROM PUBLIC;
GRANT SELECT ON leasemgr.allocation_rule, leasemgr.allocation_fixed_share, leasemgr.unit_allocation_basis,
  leasemgr.allocation_share TO leasemgr_reader;
GRANT INSERT, UPDATE, DELETE ON leasemgr.allocation_rule, leasemgr.allocation_fixed_share,
  leasemgr.unit_allocation_basis TO leasemgr_operator;
-- allocate() runs with the caller's rights: finance writes the shares through it.
GRANT INSERT, DELETE ON leasemgr.allocation_share TO leasemgr_finance;
REVOKE ALL ON FUNCTION leasemgr.allocation_rule_before_write(), leasemgr.allocation_share_before_change(),
  leasemgr.largest_remainder(numeric, numeric[]),
  leasemgr.allocation_bases(leasemgr.allocation_rule, text, date),
  leasemgr.allocation_split(leasemgr.allocation_rule, date, text, numeric, text, bigint[], numeric[], text, text[], boolean),
  leasemgr.allocation_compute(leasemgr.allocation_rule, date), leasemgr.estimated_consumption(bigint, text, date, date, bigint[]),
  leasemgr.allocate(bigint, date), leasemgr.allocation_statement(bigint, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leasemgr.largest_remainder(numeric, numeric[]),
  leasemgr.allocation_statement(bigint, date), leasemgr.estimated_consumption(bigint, text, date, date, bigint[]) TO leasemgr_reader;
GRANT EXECUTE ON FUNCTION leasemgr.allocation_bases(leasemgr.allocation_rule, text, date),
  leasemgr.allocation_split(leasemgr.allocation_rule, date, text, numeric, text, bigint[], numeric[], text, text[], boolean),
  leasemgr.allocation_compute(leasemgr.allocation_rule, date),
  leasemgr.allocate(bigint, date) TO leasemgr_finance;

SELECT pg_catalog.pg_extension_config_dump('leasemgr.allocation_rule', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.allocation_rule_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.allocation_fixed_share', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.unit_allocation_basis', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.allocation_share', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.allocation_share_id_seq', '');
