-- leasemgr 0.1.0 -> 0.2.0: the billing engine (charges, bills, payments, late fees, reports).
-- Every schema change of 0.2.0 is made here and in the domain files sql/NN_*.sql; the
-- upgrade_path scenario checks that both give the same schema.
\echo Use "ALTER EXTENSION leasemgr UPDATE TO '0.2.0'" to load this file. \quit

-- Contracts get the (id, park_id) key the billing tables refer to.
ALTER TABLE leasemgr.contract ADD CONSTRAINT contract_park_key UNIQUE (id, park_id);

-- The contractual deposit, a term of the contract (sql/40_contract.sql: the last column).
ALTER TABLE leasemgr.contract ADD COLUMN deposit_amount numeric(16,2) CHECK (deposit_amount >= 0);
COMMENT ON COLUMN leasemgr.contract.deposit_amount IS
  'The contractual deposit (押金 / 保证金), CNY, >= 0; NULL when the contract asks for none or it is not entered. What the contract says, not what was received: the deposit ledger (received, held, refunded) comes in a later issue. A term: locked from submission.';

-- Amendments (92_amendments.sql) add the events amend and resume.
COMMENT ON COLUMN leasemgr.contract_event.event IS 'create, or the state-machine event: submit, reject, approve, sign, activate, expire, terminate, start_move_out, close, cancel, amend (an amendment opened), resume (it was decided).';

-- Amendments add and hand back units during a lease (sql/40_contract.sql: the last columns).
ALTER TABLE leasemgr.contract_unit
  ADD COLUMN held_from date,
  ADD COLUMN held_to date,
  ADD COLUMN held_range daterange GENERATED ALWAYS AS
    (lease_range OPERATOR(pg_catalog.*) pg_catalog.daterange(held_from, held_to, '[]')) STORED,
  ADD CONSTRAINT contract_unit_held_order CHECK (held_from <= held_to),
  DROP CONSTRAINT contract_unit_no_double_booking,
  ADD CONSTRAINT contract_unit_no_double_booking
    EXCLUDE USING gist (unit_id WITH OPERATOR(pg_catalog.=), held_range WITH OPERATOR(pg_catalog.&&))
    WHERE (is_live);
COMMENT ON TABLE leasemgr.contract_unit IS
  'The units a contract leases, with the billable area of each and the days it holds each (held_range). Editable while the contract is a draft, then only through an amendment; a unit is never in two live contracts for the same day (constraint contract_unit_no_double_booking).';
COMMENT ON COLUMN leasemgr.contract_unit.held_from IS 'First day the contract holds the unit, when an amendment added it during the lease (add_units); NULL: from the start. Written only by leasemgr.amendment_approve.';
COMMENT ON COLUMN leasemgr.contract_unit.held_to IS 'Last day the contract holds the unit, when an amendment handed it back before the end (remove_units); NULL: to the end. Written only by leasemgr.amendment_approve.';
COMMENT ON COLUMN leasemgr.contract_unit.held_range IS 'The days the contract holds the unit: the lease (lease_range) cut to held_from..held_to. Computed. What the exclusion constraint, area-based rents, metered charges and allocations read.';

-- contract_overview shows the units held at the end of the lease (sql/70_views.sql).
CREATE OR REPLACE VIEW leasemgr.contract_overview WITH (security_invoker = true) AS
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
COMMENT ON COLUMN leasemgr.contract_overview.unit_count IS 'Number of units the contract holds on the last day of the lease (units handed back earlier by an amendment are not counted).';
COMMENT ON COLUMN leasemgr.contract_overview.billable_area_m2 IS 'Total billable area of those units, m².';
COMMENT ON COLUMN leasemgr.contract_overview.unit_codes IS 'Their unit codes, comma separated.';

-- What follows is appended by the Makefile: the domain files new in 0.2.0, verbatim.
