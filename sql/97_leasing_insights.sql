-- Leasing insights (issue 6): what rent to ask at a renewal, judged on comparable leases, and
-- which units have been let below the park's average for two years. docs/spatial.md.
-- SQL-standard bodies with pg_catalog's operators named, as in 96_spatial.sql.

-- ---- renewal suggestions -----------------------------------------------------------------------

CREATE FUNCTION leasemgr.renewal_suggestions_as_of(as_of date)
  RETURNS TABLE (park_id bigint, contract_id bigint, contract_code text, tenant_id bigint, tenant_name text,
                 end_date date, days_left integer, unit_id bigint, unit_code text, building_code text, kind text,
                 current_rent_per_m2 numeric, suggested_rent_per_m2 numeric, change_pct numeric,
                 comparables integer, comparable_contracts text, tenant_health text)
  LANGUAGE sql STABLE
BEGIN ATOMIC
  WITH ending AS (
    -- leases in force that end within 90 days and have no renewal drafted or signed
    SELECT c.id, c.park_id, c.code, c.tenant_id, c.end_date
      FROM leasemgr.contract c
     WHERE c.state OPERATOR(pg_catalog.=) ANY ('{active,amending}'::text[])
       AND c.end_date OPERATOR(pg_catalog.>=) renewal_suggestions_as_of.as_of
       AND c.end_date OPERATOR(pg_catalog.<=) (renewal_suggestions_as_of.as_of OPERATOR(pg_catalog.+) 90)
       AND NOT EXISTS (SELECT FROM leasemgr.contract r
                        WHERE r.renews_contract_id OPERATOR(pg_catalog.=) c.id
                          AND r.state OPERATOR(pg_catalog.<>) ALL ('{cancelled}'::text[]))
  ), main_unit AS (
    -- the lease's largest unit held on its last day decides the building and kind compared
    SELECT DISTINCT ON (e.id) e.*, cu.unit_id, u.code AS unit_code, u.building_id, b.code AS building_code, u.kind
      FROM ending e
      JOIN leasemgr.contract_unit cu ON cu.contract_id OPERATOR(pg_catalog.=) e.id AND cu.held_range OPERATOR(pg_catalog.@>) e.end_date
      JOIN leasemgr.unit u ON u.id OPERATOR(pg_catalog.=) cu.unit_id
      JOIN leasemgr.building b ON b.id OPERATOR(pg_catalog.=) u.building_id
     ORDER BY e.id, cu.billable_area_m2 DESC, cu.unit_id
  ), comps AS (
    -- leases signed in the 12 months before, of a unit of the same building and kind: their
    -- rent per m2 on their first day
    SELECT m.id AS for_contract, k.id, k.code, x.rent_per_m2
      FROM main_unit m
      JOIN leasemgr.unit u2 ON u2.building_id OPERATOR(pg_catalog.=) m.building_id AND u2.kind OPERATOR(pg_catalog.=) m.kind
      JOIN leasemgr.contract_unit cu2 ON cu2.unit_id OPERATOR(pg_catalog.=) u2.id
      JOIN leasemgr.contract k ON k.id OPERATOR(pg_catalog.=) cu2.contract_id
       AND k.id OPERATOR(pg_catalog.<>) m.id
       AND k.signed_at IS NOT NULL
       AND leasemgr.local_date(k.signed_at) OPERATOR(pg_catalog.>) (renewal_suggestions_as_of.as_of OPERATOR(pg_catalog.-) 365)
       AND leasemgr.local_date(k.signed_at) OPERATOR(pg_catalog.<=) renewal_suggestions_as_of.as_of
       AND k.state OPERATOR(pg_catalog.<>) ALL ('{cancelled}'::text[])
      CROSS JOIN LATERAL (SELECT r.rent_per_m2 FROM leasemgr.rent_in_force(k.id, k.start_date) r
                           WHERE r.unit_id OPERATOR(pg_catalog.=) cu2.unit_id AND r.rent_per_m2 IS NOT NULL) x
  ), stats AS (
    SELECT cp.for_contract,
           pg_catalog.round((pg_catalog.percentile_cont(0.5::float8) WITHIN GROUP (ORDER BY cp.rent_per_m2::float8))::numeric, 4) AS median,
           pg_catalog.count(*)::integer AS n,
           pg_catalog.string_agg(DISTINCT cp.code, ', ') AS codes
      FROM comps cp GROUP BY cp.for_contract
  ), health AS MATERIALIZED (
    SELECT h.tenant_id,
           CASE WHEN h.credit_warning IS NOT NULL AND h.credit_warning OPERATOR(pg_catalog.<>) 'none'
                  THEN 'credit warning: ' OPERATOR(pg_catalog.||) h.credit_warning
                WHEN h.drift_flag OR h.channel_stability_flag OR h.deposit_ratio_flag
                  THEN 'watch: ' OPERATOR(pg_catalog.||) pg_catalog.concat_ws(', ',
                         CASE WHEN h.drift_flag THEN 'pays late' END,
                         CASE WHEN h.channel_stability_flag THEN 'payment channels unstable' END,
                         CASE WHEN h.deposit_ratio_flag THEN 'deposit ratio out of range' END)
                ELSE 'healthy' END AS flag
      FROM leasemgr.tenant_health_as_of(renewal_suggestions_as_of.as_of) h
     WHERE h.tenant_id OPERATOR(pg_catalog.=) ANY (SELECT m.tenant_id FROM main_unit m)
  )
  SELECT m.park_id, m.id, m.code, m.tenant_id, t.name, m.end_date,
         (m.end_date OPERATOR(pg_catalog.-) renewal_suggestions_as_of.as_of),
         m.unit_id, m.unit_code, m.building_code, m.kind,
         cur.rent_per_m2, st.median,
         CASE WHEN cur.rent_per_m2 OPERATOR(pg_catalog.>) 0 AND st.median IS NOT NULL
              THEN pg_catalog.round(((st.median OPERATOR(pg_catalog.-) cur.rent_per_m2) OPERATOR(pg_catalog.*) 100)
                                    OPERATOR(pg_catalog./) cur.rent_per_m2, 1) END,
         COALESCE(st.n, 0), st.codes, COALESCE(hl.flag, 'healthy')
    FROM main_unit m
    JOIN leasemgr.tenant t ON t.id OPERATOR(pg_catalog.=) m.tenant_id
    LEFT JOIN LATERAL (SELECT r.rent_per_m2 FROM leasemgr.rent_in_force(m.id, renewal_suggestions_as_of.as_of) r
                        WHERE r.unit_id OPERATOR(pg_catalog.=) m.unit_id) cur ON true
    LEFT JOIN stats st ON st.for_contract OPERATOR(pg_catalog.=) m.id
    LEFT JOIN health hl ON hl.tenant_id OPERATOR(pg_catalog.=) m.tenant_id
   ORDER BY m.end_date, m.code;
END;
COMMENT ON FUNCTION leasemgr.renewal_suggestions_as_of(date) IS
  'Leases in force ending within 90 days of a day and not renewed yet, with a suggested new rent per m²: the median first-day rent per m² of comparable leases (a unit of the same building and kind as the lease''s largest unit, signed in the 12 months before), their count and contract numbers shown, the change against the rent now, and the tenant''s health (credit warning, or the flags of leasemgr.tenant_health). No comparable: no suggestion.';

CREATE VIEW leasemgr.renewal_suggestions WITH (security_invoker = true) AS
SELECT * FROM leasemgr.renewal_suggestions_as_of(leasemgr.business_date());
COMMENT ON VIEW leasemgr.renewal_suggestions IS
  'Leases ending within 90 days and not renewed, with a suggested rent per m² from comparable leases signed in the last 12 months (same building and kind; the median, how many and which), and the tenant''s health. leasemgr.renewal_suggestions_as_of(date) gives any other day.';
COMMENT ON COLUMN leasemgr.renewal_suggestions.park_id IS 'Park identifier.';
COMMENT ON COLUMN leasemgr.renewal_suggestions.contract_id IS 'The lease ending.';
COMMENT ON COLUMN leasemgr.renewal_suggestions.contract_code IS 'Its contract number.';
COMMENT ON COLUMN leasemgr.renewal_suggestions.tenant_id IS 'Its tenant.';
COMMENT ON COLUMN leasemgr.renewal_suggestions.tenant_name IS 'Its tenant''s name.';
COMMENT ON COLUMN leasemgr.renewal_suggestions.end_date IS 'Its last day.';
COMMENT ON COLUMN leasemgr.renewal_suggestions.days_left IS 'Days from today to the last day.';
COMMENT ON COLUMN leasemgr.renewal_suggestions.unit_id IS 'The lease''s largest unit: the one compared.';
COMMENT ON COLUMN leasemgr.renewal_suggestions.unit_code IS 'Its code.';
COMMENT ON COLUMN leasemgr.renewal_suggestions.building_code IS 'Its building.';
COMMENT ON COLUMN leasemgr.renewal_suggestions.kind IS 'Its kind.';
COMMENT ON COLUMN leasemgr.renewal_suggestions.current_rent_per_m2 IS 'The rent per m² and month in force today on that unit, CNY.';
COMMENT ON COLUMN leasemgr.renewal_suggestions.suggested_rent_per_m2 IS 'The median first-day rent per m² of the comparable leases, CNY, 4 decimals; NULL without comparables.';
COMMENT ON COLUMN leasemgr.renewal_suggestions.change_pct IS '(suggested − current) / current × 100, 1 decimal.';
COMMENT ON COLUMN leasemgr.renewal_suggestions.comparables IS 'How many comparable unit leases the median is taken over.';
COMMENT ON COLUMN leasemgr.renewal_suggestions.comparable_contracts IS 'Their contract numbers.';
COMMENT ON COLUMN leasemgr.renewal_suggestions.tenant_health IS 'healthy; watch: and what (pays late, payment channels unstable, deposit ratio out of range); or credit warning: and its state.';

-- ---- asset improvement flags --------------------------------------------------------------------

CREATE FUNCTION leasemgr.asset_improvement_flags_as_of(as_of date, months integer DEFAULT 24)
  RETURNS TABLE (park_id bigint, unit_id bigint, unit_code text, building_code text, kind text,
                 months_below integer, rent_per_m2 numeric, park_average_per_m2 numeric, gap_pct numeric)
  LANGUAGE sql STABLE
BEGIN ATOMIC
  WITH m AS (
    -- the first day of each of the months, the latest first
    SELECT (pg_catalog.date_trunc('month', asset_improvement_flags_as_of.as_of::timestamp)
              OPERATOR(pg_catalog.-) (k OPERATOR(pg_catalog.*) '1 month'::interval))::date AS day
      FROM pg_catalog.generate_series(0, asset_improvement_flags_as_of.months OPERATOR(pg_catalog.-) 1) k
     WHERE asset_improvement_flags_as_of.as_of IS NOT NULL AND asset_improvement_flags_as_of.months OPERATOR(pg_catalog.>) 0
  ), held AS (
    -- each lease in force on each of those days, once
    SELECT DISTINCT m.day, cu.contract_id
      FROM m
      JOIN leasemgr.contract_unit cu ON cu.held_range OPERATOR(pg_catalog.@>) m.day
      JOIN leasemgr.contract c ON c.id OPERATOR(pg_catalog.=) cu.contract_id
       AND c.state OPERATOR(pg_catalog.=) ANY ('{active,amending,expired,terminated,moving_out,closed}'::text[])
  ), rents AS MATERIALIZED (
    SELECT h.day, u.id AS unit_id, u.park_id, u.kind, r.rent_per_m2, r.billable_area_m2
      FROM held h
      CROSS JOIN LATERAL leasemgr.rent_in_force(h.contract_id, h.day) r
      JOIN leasemgr.unit u ON u.id OPERATOR(pg_catalog.=) r.unit_id
     WHERE r.rent_per_m2 IS NOT NULL
  ), averages AS (
    -- the park's average for the kind that day, weighted by area
    SELECT r.day, r.park_id, r.kind,
           pg_catalog.sum(r.rent_per_m2 OPERATOR(pg_catalog.*) r.billable_area_m2)
             OPERATOR(pg_catalog./) pg_catalog.sum(r.billable_area_m2) AS average
      FROM rents r GROUP BY r.day, r.park_id, r.kind
  ), below AS (
    SELECT r.unit_id, pg_catalog.count(*) FILTER (WHERE r.rent_per_m2 OPERATOR(pg_catalog.<) a.average)::integer AS n
      FROM rents r
      JOIN averages a ON a.day OPERATOR(pg_catalog.=) r.day AND a.park_id OPERATOR(pg_catalog.=) r.park_id
       AND a.kind OPERATOR(pg_catalog.=) r.kind
     GROUP BY r.unit_id
  )
  SELECT u.park_id, u.id, u.code, b.code, u.kind, bl.n, now_r.rent_per_m2, pg_catalog.round(now_a.average, 4),
         pg_catalog.round(((now_a.average OPERATOR(pg_catalog.-) now_r.rent_per_m2) OPERATOR(pg_catalog.*) 100)
                          OPERATOR(pg_catalog./) now_a.average, 1)
    FROM below bl
    JOIN leasemgr.unit u ON u.id OPERATOR(pg_catalog.=) bl.unit_id
    JOIN leasemgr.building b ON b.id OPERATOR(pg_catalog.=) u.building_id
    JOIN rents now_r ON now_r.unit_id OPERATOR(pg_catalog.=) u.id AND now_r.day OPERATOR(pg_catalog.=) (SELECT pg_catalog.max(m.day) FROM m)
    JOIN averages now_a ON now_a.day OPERATOR(pg_catalog.=) now_r.day AND now_a.park_id OPERATOR(pg_catalog.=) u.park_id
     AND now_a.kind OPERATOR(pg_catalog.=) u.kind
   WHERE bl.n OPERATOR(pg_catalog.=) asset_improvement_flags_as_of.months
   ORDER BY u.park_id, b.code, u.code;
END;
COMMENT ON FUNCTION leasemgr.asset_improvement_flags_as_of(date, integer) IS
  'Units let below the park''s average rent per m² for their kind (area-weighted over the leases in force) on the first day of each of the last months (24 by default, the current month included), every one of them: candidates for improvement or repositioning. Shows the rent and the average now and the gap.';

CREATE VIEW leasemgr.asset_improvement_flags WITH (security_invoker = true) AS
SELECT * FROM leasemgr.asset_improvement_flags_as_of(leasemgr.business_date());
COMMENT ON VIEW leasemgr.asset_improvement_flags IS
  'Units whose rent per m² stayed below the park''s average for their kind on the first day of each of the last 24 months: candidates for improvement. leasemgr.asset_improvement_flags_as_of(date, months) gives another day or span.';
COMMENT ON COLUMN leasemgr.asset_improvement_flags.park_id IS 'Park identifier.';
COMMENT ON COLUMN leasemgr.asset_improvement_flags.unit_id IS 'Unit identifier.';
COMMENT ON COLUMN leasemgr.asset_improvement_flags.unit_code IS 'Unit code.';
COMMENT ON COLUMN leasemgr.asset_improvement_flags.building_code IS 'Building code.';
COMMENT ON COLUMN leasemgr.asset_improvement_flags.kind IS 'Kind of unit.';
COMMENT ON COLUMN leasemgr.asset_improvement_flags.months_below IS 'Months (first days) with the rent below the park''s average: all of them (24).';
COMMENT ON COLUMN leasemgr.asset_improvement_flags.rent_per_m2 IS 'The unit''s rent per m² and month on the first day of this month, CNY.';
COMMENT ON COLUMN leasemgr.asset_improvement_flags.park_average_per_m2 IS 'The park''s area-weighted average for the kind that day, CNY, 4 decimals.';
COMMENT ON COLUMN leasemgr.asset_improvement_flags.gap_pct IS '(average − rent) / average × 100, 1 decimal.';

REVOKE ALL ON leasemgr.renewal_suggestions, leasemgr.asset_improvement_flags FROM PUBLIC;
GRANT SELECT ON leasemgr.renewal_suggestions, leasemgr.asset_improvement_flags TO leasemgr_reader;
REVOKE ALL ON FUNCTION leasemgr.renewal_suggestions_as_of(date), leasemgr.asset_improvement_flags_as_of(date, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leasemgr.renewal_suggestions_as_of(date), leasemgr.asset_improvement_flags_as_of(date, integer)
  TO leasemgr_reader;
