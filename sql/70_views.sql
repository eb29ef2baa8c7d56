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
       -- the units at the end of the lease: not those an amendment handed back before it
       AND cu.held_range @> (pg_catalog.upper(c.lease_range) - 1)
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
COMMENT ON COLUMN leasemgr.contract_overview.unit_count IS 'Number of units the contract holds on the last day of the lease (units handed back earlier by an amendment are not counted).';
COMMENT ON COLUMN leasemgr.contract_overview.billable_area_m2 IS 'Total billable area of those units, m².';
COMMENT ON COLUMN leasemgr.contract_overview.unit_codes IS 'Their unit codes, comma separated.';

GRANT SELECT ON leasemgr.contract_overview TO leasemgr_reader;
