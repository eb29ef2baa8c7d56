-- Billing terms: the charges of a contract, its free-rent periods, the price indexes that
-- CPI escalation reads, and the sales reports turnover rent is computed from.
-- docs/billing.md is the design; the computation is C (src/billing.c, src/core/lm_schedule.c).

CREATE TABLE leasemgr.price_index (
  series text NOT NULL CHECK (series ~ '^[A-Za-z0-9][A-Za-z0-9_.-]*$' AND pg_catalog.length(series) <= 48),
  month  date NOT NULL CHECK (pg_catalog.date_trunc('month', month)::date OPERATOR(pg_catalog.=) month),
  value  numeric(12,4) NOT NULL CHECK (value > 0),
  PRIMARY KEY (series, month)
);
COMMENT ON TABLE leasemgr.price_index IS
  'Monthly values of price index series (e.g. the national CPI), kept by headquarters; CPI escalation reads them. One row per series and month.';
COMMENT ON COLUMN leasemgr.price_index.series IS 'Series code, e.g. CN-CPI (letters, digits, dot, dash, underscore).';
COMMENT ON COLUMN leasemgr.price_index.month IS 'The month the value is for: its first day, e.g. 2027-01-01.';
COMMENT ON COLUMN leasemgr.price_index.value IS 'Index level, > 0 (e.g. 102.3000). Only ratios of two levels of one series are used.';

CREATE TABLE leasemgr.charge (
  id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  park_id               bigint NOT NULL,
  contract_id           bigint NOT NULL,
  kind                  text NOT NULL CHECK (kind IN ('rent', 'property_fee', 'service', 'parking', 'ac',
                                                      'utility', 'turnover', 'other')),
  basis                 text NOT NULL CHECK (basis IN ('per_m2_month', 'fixed_month', 'per_m2_day', 'turnover_pct',
                                                        'metered')),
  rate                  numeric(14,4) NOT NULL CHECK (rate > 0),
  breakpoint            numeric(16,2) CHECK (breakpoint >= 0),
  valid_from            date NOT NULL,
  valid_to              date NOT NULL,
  cycle_months          integer NOT NULL DEFAULT 1 CHECK (cycle_months IN (1, 3, 6, 12)),
  billed                text NOT NULL DEFAULT 'advance' CHECK (billed IN ('advance', 'arrears')),
  due_day               integer NOT NULL DEFAULT 5 CHECK (due_day BETWEEN 1 AND 31),
  proration             text NOT NULL DEFAULT 'actual_days' CHECK (proration IN ('actual_days', 'thirty_360', 'annual_365')),
  escalation            text NOT NULL DEFAULT 'none' CHECK (escalation IN ('none', 'pct', 'amount', 'cpi')),
  escalate_every_months integer CHECK (escalate_every_months BETWEEN 1 AND 120),
  escalation_anchor     date CHECK (pg_catalog.isfinite(escalation_anchor)),
  escalation_pct        numeric(8,4) CHECK (escalation_pct > -100 AND escalation_pct <= 100),
  escalation_amount     numeric(14,4) CHECK (escalation_amount <> 0),
  cpi_series            text,
  cpi_base_month        date CHECK (pg_catalog.date_trunc('month', cpi_base_month)::date OPERATOR(pg_catalog.=) cpi_base_month),
  cpi_lag_months        integer NOT NULL DEFAULT 0 CHECK (cpi_lag_months BETWEEN 0 AND 24),
  cpi_cap_pct           numeric(8,4) CHECK (cpi_cap_pct > -100),
  cpi_floor_pct         numeric(8,4) CHECK (cpi_floor_pct > -100),
  note                  text,
  meter_kind            text CHECK (meter_kind IN ('electricity', 'water', 'ac', 'gas', 'heat')),
  tiers                 numeric(15,3)[],
  tier_rates            numeric(14,4)[],
  tou_registers         text[],
  tou_rates             numeric(14,4)[],
  area_m2               numeric(12,2) CHECK (area_m2 > 0),
  continues_charge_id   bigint,
  amendment_id          bigint,
  CONSTRAINT charge_area_per_m2 CHECK (area_m2 IS NULL OR basis IN ('per_m2_month', 'per_m2_day')),
  CONSTRAINT charge_continues_with_amendment CHECK ((continues_charge_id IS NULL) = (amendment_id IS NULL)),
  CONSTRAINT charge_dates_ordered CHECK (valid_to >= valid_from),
  CONSTRAINT charge_turnover_terms CHECK (
    (basis = 'turnover_pct') = (breakpoint IS NOT NULL)
    AND (basis <> 'turnover_pct' OR (rate <= 100 AND cycle_months = 1 AND billed = 'arrears'
                                     AND escalation = 'none'))),
  CONSTRAINT charge_metered_terms CHECK (
    (basis = 'metered') = (meter_kind IS NOT NULL)
    AND (basis <> 'metered' OR kind IN ('utility', 'ac', 'other'))
    AND (basis <> 'metered' OR (cycle_months = 1 AND billed = 'arrears' AND escalation = 'none'))
    AND (basis = 'metered' OR (tiers IS NULL AND tou_registers IS NULL))
    AND (tiers IS NULL OR tou_registers IS NULL)
    AND (tiers IS NULL) = (tier_rates IS NULL) AND (tou_registers IS NULL) = (tou_rates IS NULL)
    AND (tiers IS NULL OR (pg_catalog.cardinality(tiers) BETWEEN 1 AND 12
                           AND pg_catalog.cardinality(tiers) = pg_catalog.cardinality(tier_rates)))
    AND (tou_registers IS NULL OR (pg_catalog.cardinality(tou_registers) BETWEEN 1 AND 8
                                   AND pg_catalog.cardinality(tou_registers) = pg_catalog.cardinality(tou_rates)))),
  CONSTRAINT charge_escalation_terms CHECK (
    CASE escalation
      WHEN 'none' THEN escalate_every_months IS NULL AND escalation_anchor IS NULL
                       AND escalation_pct IS NULL AND escalation_amount IS NULL AND cpi_series IS NULL
      WHEN 'pct' THEN escalate_every_months IS NOT NULL AND escalation_anchor IS NOT NULL
                      AND escalation_pct IS NOT NULL AND escalation_amount IS NULL AND cpi_series IS NULL
      WHEN 'amount' THEN escalate_every_months IS NOT NULL AND escalation_anchor IS NOT NULL
                         AND escalation_pct IS NULL AND escalation_amount IS NOT NULL AND cpi_series IS NULL
      ELSE escalate_every_months IS NOT NULL AND escalation_anchor IS NOT NULL
           AND escalation_pct IS NULL AND escalation_amount IS NULL
           AND cpi_series IS NOT NULL AND cpi_base_month IS NOT NULL
    END),
  CONSTRAINT charge_cpi_bounds CHECK (
    (escalation = 'cpi' OR (cpi_cap_pct IS NULL AND cpi_floor_pct IS NULL))
    AND (cpi_cap_pct IS NULL OR cpi_floor_pct IS NULL OR cpi_cap_pct >= cpi_floor_pct)),
  CONSTRAINT charge_key UNIQUE (id, park_id),
  CONSTRAINT charge_contract_fk FOREIGN KEY (contract_id, park_id)
    REFERENCES leasemgr.contract (id, park_id) ON DELETE CASCADE
);
CREATE INDEX charge_contract_idx ON leasemgr.charge (contract_id);
COMMENT ON TABLE leasemgr.charge IS
  'The charges of a contract (rent, property fee, parking, ...): what is charged, on what basis, for which days, how often, and how it escalates. Contract terms: editable while the contract is a draft, locked from submission. leasemgr.compute_charges shows what they produce.';
COMMENT ON COLUMN leasemgr.charge.id IS 'Charge identifier; bill lines refer to it.';
COMMENT ON COLUMN leasemgr.charge.park_id IS 'Taken from the contract.';
COMMENT ON COLUMN leasemgr.charge.contract_id IS 'The contract.';
COMMENT ON COLUMN leasemgr.charge.kind IS 'rent, property_fee (物业费), service, parking, ac (air conditioning), utility, turnover (营业额提成) or other. Free-rent periods apply by kind.';
COMMENT ON COLUMN leasemgr.charge.basis IS
  'per_m2_month: rate x billable area per month; fixed_month: rate per month; per_m2_day: rate x billable area per day; turnover_pct: rate % of the month''s sales above the breakpoint; metered: the month''s consumption of the meters of meter_kind on the contract''s units, priced flat (rate), in blocks (tiers) or by time of use (tou_registers), billed monthly in arrears.';
COMMENT ON COLUMN leasemgr.charge.rate IS 'Unit price, 4 decimals, > 0: CNY per m² per month, per month, per m² per day, a percentage (0 < rate <= 100) for turnover_pct, or CNY per unit consumed (kWh, m3, GJ) for metered (the first block of a tiered price; unused with time-of-use prices). The rate before any escalation.';
COMMENT ON COLUMN leasemgr.charge.breakpoint IS 'turnover_pct only (required there, 0 allowed): monthly sales, CNY, below which no turnover rent is due.';
COMMENT ON COLUMN leasemgr.charge.valid_from IS 'First day charged, inclusive; defaults to the contract''s start_date. Within the lease.';
COMMENT ON COLUMN leasemgr.charge.valid_to IS 'Last day charged, inclusive; defaults to the contract''s end_date. Within the lease; a termination ends it earlier.';
COMMENT ON COLUMN leasemgr.charge.cycle_months IS 'Billing cycle: 1, 3, 6 or 12 calendar months, counted from the month of valid_from. turnover_pct is monthly.';
COMMENT ON COLUMN leasemgr.charge.billed IS 'advance: billed in the month its period starts; arrears: in the month after it ends. turnover_pct is in arrears.';
COMMENT ON COLUMN leasemgr.charge.due_day IS 'Day of the billing month the bill falls due, 1..31 (31 means the last day of the month). Default 5.';
COMMENT ON COLUMN leasemgr.charge.proration IS
  'How a partly charged month is prorated: actual_days (days charged / days in that month), thirty_360 (every month has 30 days) or annual_365 (12 x days charged / 365). A fully charged month is one monthly amount.';
COMMENT ON COLUMN leasemgr.charge.escalation IS 'none; pct (compounding percentage per step); amount (fixed amount added to the rate per step); cpi (base-index method).';
COMMENT ON COLUMN leasemgr.charge.escalate_every_months IS 'Months between escalation steps (1..120): step k takes effect escalation_anchor + k x this many months.';
COMMENT ON COLUMN leasemgr.charge.escalation_anchor IS 'Date the escalation steps count from; defaults to valid_from. Step 1 is one interval after it.';
COMMENT ON COLUMN leasemgr.charge.escalation_pct IS 'pct: the increase per step in percent, compounding (5.0000 = +5% a step); > -100.';
COMMENT ON COLUMN leasemgr.charge.escalation_amount IS 'amount: added to the rate at every step (4 decimals, not 0).';
COMMENT ON COLUMN leasemgr.charge.cpi_series IS 'cpi: the leasemgr.price_index series, e.g. CN-CPI.';
COMMENT ON COLUMN leasemgr.charge.cpi_base_month IS 'cpi: the base month I(base) (first day of the month); defaults to the anchor''s month minus the lag. Its index value must exist.';
COMMENT ON COLUMN leasemgr.charge.cpi_lag_months IS 'cpi: how many months before a step''s month the index is read (publication lag), 0..24.';
COMMENT ON COLUMN leasemgr.charge.cpi_cap_pct IS 'cpi: the largest change per step, in percent of the previous rate (e.g. 5.0000). Optional.';
COMMENT ON COLUMN leasemgr.charge.cpi_floor_pct IS 'cpi: the smallest change per step, in percent of the previous rate (e.g. 0.0000: never down). Optional.';
COMMENT ON COLUMN leasemgr.charge.note IS 'Free text, e.g. the contract clause.';
COMMENT ON COLUMN leasemgr.charge.meter_kind IS 'metered only (required there): the kind of meter billed, electricity, water, ac, gas or heat; every meter of that kind on the contract''s units counts.';
COMMENT ON COLUMN leasemgr.charge.tiers IS
  'metered, tiered prices (阶梯价) only: ascending break points of the month''s consumption (after multipliers), e.g. {200,400}: the first 200 units at rate, the next 200 at tier_rates[1], the rest at tier_rates[2]. Not prorated for a part month.';
COMMENT ON COLUMN leasemgr.charge.tier_rates IS 'metered, tiered only: the price per unit above each break point of tiers, one per break point.';
COMMENT ON COLUMN leasemgr.charge.tou_registers IS 'metered, time-of-use prices (分时电价) only: the registers priced, e.g. {peak,flat,valley}; each is billed at its tou_rates price.';
COMMENT ON COLUMN leasemgr.charge.area_m2 IS
  'per_m2_month and per_m2_day only: the area this charge is computed on, m²; NULL (the usual case) means the sum of the contract''s billable areas. Set by an amendment that changed an area from a day, on the part of the charge before that day, so already-billed days keep the area they were billed on.';
COMMENT ON COLUMN leasemgr.charge.continues_charge_id IS
  'Set by an amendment that changed this charge''s terms from a day: the charge it continues. That charge now ends the day before this one starts; together they are one charge line of the lease.';
COMMENT ON COLUMN leasemgr.charge.amendment_id IS 'The approved amendment (leasemgr.amendment) that created this continuation; NULL for a charge of the signed contract.';
COMMENT ON COLUMN leasemgr.charge.tou_rates IS 'metered, time-of-use only: the price per unit of each register of tou_registers, in the same order.';

CREATE TABLE leasemgr.free_rent_period (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  park_id     bigint NOT NULL,
  contract_id bigint NOT NULL,
  days        daterange NOT NULL CHECK (NOT pg_catalog.isempty(days) AND NOT pg_catalog.lower_inf(days)
                                        AND NOT pg_catalog.upper_inf(days)),
  kinds       text[] NOT NULL DEFAULT '{rent}'
              CHECK (pg_catalog.cardinality(kinds) > 0 AND kinds <@ ARRAY['rent', 'property_fee', 'service', 'parking', 'ac',
                                                                     'utility', 'turnover', 'other']),
  note        text,
  CONSTRAINT free_rent_contract_fk FOREIGN KEY (contract_id, park_id)
    REFERENCES leasemgr.contract (id, park_id) ON DELETE CASCADE,
  CONSTRAINT free_rent_no_overlap
    EXCLUDE USING gist (contract_id WITH OPERATOR(pg_catalog.=), days WITH OPERATOR(pg_catalog.&&))
);
COMMENT ON TABLE leasemgr.free_rent_period IS
  'Free rent (免租期): days of a contract that cost nothing for the listed charge kinds. Within the lease; periods of one contract do not overlap. Contract terms: locked from submission.';
COMMENT ON COLUMN leasemgr.free_rent_period.id IS 'Free-rent period identifier.';
COMMENT ON COLUMN leasemgr.free_rent_period.park_id IS 'Taken from the contract.';
COMMENT ON COLUMN leasemgr.free_rent_period.contract_id IS 'The contract.';
COMMENT ON COLUMN leasemgr.free_rent_period.days IS 'The free days, e.g. daterange(''2027-03-01'', ''2027-03-14'', ''[]'') for March 1 to 14 inclusive.';
COMMENT ON COLUMN leasemgr.free_rent_period.kinds IS 'The charge kinds that are free on those days; default rent only.';
COMMENT ON COLUMN leasemgr.free_rent_period.note IS 'Free text, e.g. fit-out period (装修免租期).';

CREATE TABLE leasemgr.turnover_report (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  park_id     bigint NOT NULL,
  contract_id bigint NOT NULL,
  month       date NOT NULL CHECK (pg_catalog.date_trunc('month', month)::date OPERATOR(pg_catalog.=) month),
  sales       numeric(16,2) NOT NULL CHECK (sales >= 0),
  reported_by text NOT NULL DEFAULT leasemgr.current_actor(),
  reported_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
  CONSTRAINT turnover_report_once UNIQUE (contract_id, month),
  CONSTRAINT turnover_report_contract_fk FOREIGN KEY (contract_id, park_id)
    REFERENCES leasemgr.contract (id, park_id)
);
COMMENT ON TABLE leasemgr.turnover_report IS
  'A tenant''s sales for one month (营业额申报), the base of turnover_pct charges. One row per contract and month; a month is billed when its report exists.';
COMMENT ON COLUMN leasemgr.turnover_report.id IS 'Report identifier.';
COMMENT ON COLUMN leasemgr.turnover_report.park_id IS 'Taken from the contract.';
COMMENT ON COLUMN leasemgr.turnover_report.contract_id IS 'The contract.';
COMMENT ON COLUMN leasemgr.turnover_report.month IS 'The month of the sales: its first day.';
COMMENT ON COLUMN leasemgr.turnover_report.sales IS 'Sales of that month, CNY, >= 0.';
COMMENT ON COLUMN leasemgr.turnover_report.reported_by IS 'Who entered the report.';
COMMENT ON COLUMN leasemgr.turnover_report.reported_at IS 'When.';

CREATE FUNCTION leasemgr.contract_term_before_write() RETURNS trigger
  AS 'MODULE_PATHNAME', 'contract_term_before_write'
  LANGUAGE C;
COMMENT ON FUNCTION leasemgr.contract_term_before_write() IS
  'Trigger on charge, free_rent_period and turnover_report: takes park and default dates from the contract, checks the terms against the lease, and locks charges and free rent after submission (SQLSTATE LM004).';

CREATE TRIGGER contract_term_before_write BEFORE INSERT OR UPDATE OR DELETE ON leasemgr.charge
  FOR EACH ROW EXECUTE FUNCTION leasemgr.contract_term_before_write();
CREATE TRIGGER contract_term_before_write BEFORE INSERT OR UPDATE OR DELETE ON leasemgr.free_rent_period
  FOR EACH ROW EXECUTE FUNCTION leasemgr.contract_term_before_write();
CREATE TRIGGER contract_term_before_write BEFORE INSERT OR UPDATE OR DELETE ON leasemgr.turnover_report
  FOR EACH ROW EXECUTE FUNCTION leasemgr.contract_term_before_write();

-- What the terms come to.

CREATE FUNCTION leasemgr.compute_charges(contract_id bigint, from_date date, to_date date)
  RETURNS TABLE (charge_id bigint, kind text, period_start date, period_end date, amount numeric,
                 explain text)
  AS 'MODULE_PATHNAME', 'compute_charges'
  LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION leasemgr.compute_charges(bigint, date, date) IS
  'What a contract''s charges come to, without writing anything: one row per charge per billing period (cut where the rate steps) overlapping from_date..to_date, with the amount rounded once to the cent and the calculation in words. A turnover month without a sales report has a NULL amount. Works for drafts too.';

CREATE FUNCTION leasemgr.rent_start_date(contract_id bigint) RETURNS date
  LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT pg_catalog.min(x.day)
    FROM (SELECT ch.valid_from AS day FROM leasemgr.charge ch
           WHERE ch.contract_id = rent_start_date.contract_id AND ch.kind = 'rent'
          UNION ALL
          SELECT pg_catalog.upper(f.days) FROM leasemgr.free_rent_period f
           WHERE f.contract_id = rent_start_date.contract_id AND 'rent' = ANY (f.kinds)) x
   WHERE EXISTS (SELECT FROM leasemgr.charge ch
                  WHERE ch.contract_id = rent_start_date.contract_id AND ch.kind = 'rent'
                    AND x.day BETWEEN ch.valid_from AND ch.valid_to)
     AND NOT EXISTS (SELECT FROM leasemgr.free_rent_period f
                      WHERE f.contract_id = rent_start_date.contract_id AND 'rent' = ANY (f.kinds)
                        AND f.days @> x.day);
END;
COMMENT ON FUNCTION leasemgr.rent_start_date(bigint) IS
  'The rent start date (计租起始日): the first day rent is charged, i.e. the first day of a rent charge that no free-rent period covers; not the signing date nor necessarily the lease start. NULL without a rent charge.';

CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON leasemgr.price_index
  FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row('-');
CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON leasemgr.charge
  FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row();
CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON leasemgr.free_rent_period
  FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row();
CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON leasemgr.turnover_report
  FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row();
CREATE TRIGGER truncate_guard BEFORE TRUNCATE ON leasemgr.price_index
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.truncate_guard();
CREATE TRIGGER truncate_guard BEFORE TRUNCATE ON leasemgr.charge
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.truncate_guard();
CREATE TRIGGER truncate_guard BEFORE TRUNCATE ON leasemgr.free_rent_period
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.truncate_guard();
CREATE TRIGGER truncate_guard BEFORE TRUNCATE ON leasemgr.turnover_report
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.truncate_guard();

-- Park scope (the policy of every park-scoped table, see 60_security.sql). price_index is
-- headquarters' rule library: every reader sees it, finance keeps it.
ALTER TABLE leasemgr.charge ENABLE ROW LEVEL SECURITY;
CREATE POLICY park_scope ON leasemgr.charge USING ((SELECT leasemgr.sees_all_parks())
  OR park_id OPERATOR(pg_catalog.=) ANY ((SELECT leasemgr.visible_parks())::bigint[]));
COMMENT ON POLICY park_scope ON leasemgr.charge IS
  'Rows of the parks granted to the role (leasemgr.grant_park); every park for leasemgr_admin.';
ALTER TABLE leasemgr.free_rent_period ENABLE ROW LEVEL SECURITY;
CREATE POLICY park_scope ON leasemgr.free_rent_period USING ((SELECT leasemgr.sees_all_parks())
  OR park_id OPERATOR(pg_catalog.=) ANY ((SELECT leasemgr.visible_parks())::bigint[]));
COMMENT ON POLICY park_scope ON leasemgr.free_rent_period IS
  'Rows of the parks granted to the role (leasemgr.grant_park); every park for leasemgr_admin.';
ALTER TABLE leasemgr.turnover_report ENABLE ROW LEVEL SECURITY;
CREATE POLICY park_scope ON leasemgr.turnover_report USING ((SELECT leasemgr.sees_all_parks())
  OR park_id OPERATOR(pg_catalog.=) ANY ((SELECT leasemgr.visible_parks())::bigint[]));
COMMENT ON POLICY park_scope ON leasemgr.turnover_report IS
  'Rows of the parks granted to the role (leasemgr.grant_park); every park for leasemgr_admin.';

REVOKE ALL ON leasemgr.price_index, leasemgr.charge, leasemgr.free_rent_period, leasemgr.turnover_report FROM PUBLIC;
GRANT SELECT ON leasemgr.price_index, leasemgr.charge, leasemgr.free_rent_period, leasemgr.turnover_report
  TO leasemgr_reader;
GRANT INSERT, UPDATE, DELETE ON leasemgr.charge, leasemgr.free_rent_period, leasemgr.turnover_report
  TO leasemgr_operator;
GRANT INSERT, UPDATE, DELETE ON leasemgr.price_index TO leasemgr_finance;
REVOKE ALL ON FUNCTION leasemgr.contract_term_before_write(), leasemgr.compute_charges(bigint, date, date),
  leasemgr.rent_start_date(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leasemgr.compute_charges(bigint, date, date), leasemgr.rent_start_date(bigint)
  TO leasemgr_reader;

SELECT pg_catalog.pg_extension_config_dump('leasemgr.price_index', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.charge', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.charge_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.free_rent_period', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.free_rent_period_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.turnover_report', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.turnover_report_id_seq', '');
