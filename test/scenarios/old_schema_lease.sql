-- A lease's life on a database still on an earlier release, run by the current library before
-- ALTER EXTENSION UPDATE (upgrade_path.sh): a DBA installs the new packages first, and the
-- triggers must keep working on the old schema until the update. Written for the 0.1.0 schema.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET leasemgr.actor = 'agent';
INSERT INTO leasemgr.region (code, name) VALUES ('R', 'Region');
INSERT INTO leasemgr.park (region_id, code, name) SELECT id, 'P', 'Park' FROM leasemgr.region;
INSERT INTO leasemgr.building (park_id, code, name) SELECT id, 'B', 'Building' FROM leasemgr.park;
INSERT INTO leasemgr.unit (park_id, building_id, floor, code, kind, area_m2)
  SELECT park_id, id, 1, 'U-101', 'office', 100 FROM leasemgr.building;
INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
  SELECT id, 'company', 'Acme', 'uscc', '91350100M000100Y43' FROM leasemgr.park;
INSERT INTO leasemgr.contract (park_id, code, tenant_id, start_date, end_date)
  SELECT t.park_id, c.code, t.id, c.s, c.e FROM leasemgr.tenant t,
    (VALUES ('A', date '2026-01-01', date '2026-12-31'), ('B', date '2026-07-01', date '2026-12-31'),
            ('C', date '2026-06-01', date '2026-12-31')) c(code, s, e);
INSERT INTO leasemgr.contract_unit (contract_id, unit_id) SELECT c.id, u.id FROM leasemgr.contract c, leasemgr.unit u;
UPDATE leasemgr.contract SET document_sha256 = repeat('ab', 32);
SELECT leasemgr.contract_transition(id, 'submit') FROM leasemgr.contract WHERE code = 'A';
SET leasemgr.actor = 'manager';
SELECT leasemgr.contract_transition(id, 'approve'), leasemgr.contract_transition(id, 'sign'),
       leasemgr.contract_transition(id, 'activate'), leasemgr.contract_transition(id, 'terminate', 'early', '2026-06-30')
  FROM leasemgr.contract WHERE code = 'A';
SET leasemgr.actor = 'agent';
-- the unit is free again from 07-01, and still taken in June
SELECT leasemgr.contract_transition(id, 'submit') FROM leasemgr.contract WHERE code = 'B';
DO $$
BEGIN
  PERFORM leasemgr.contract_transition(id, 'cancel') FROM leasemgr.contract WHERE code = 'B';
  PERFORM leasemgr.contract_transition(id, 'submit') FROM leasemgr.contract WHERE code = 'C';
  RAISE EXCEPTION 'a lease overlapping A''s June was submitted';
EXCEPTION WHEN SQLSTATE 'LM006' THEN
  NULL;
END
$$;
