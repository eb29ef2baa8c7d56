-- One lease from draft to closed, with the refusals a careless user would meet on the way.
SET datestyle = 'ISO, YMD';
INSERT INTO leasemgr.building (park_id, code, name) SELECT id, 'A', 'Tower A' FROM leasemgr.park;
INSERT INTO leasemgr.floor_plan (building_id, floor, outline)
SELECT id, 3, ST_MakeEnvelope(0, 0, 30, 10, 0) FROM leasemgr.building;
INSERT INTO leasemgr.unit (park_id, building_id, floor, code, kind, area_m2, footprint)
SELECT park_id, id, 3, u.code, 'office', u.area, ST_MakeEnvelope(u.x, 0, u.x + u.area / 10, 10, 0)
  FROM leasemgr.building, (VALUES ('A-0301', 120.00, 0), ('A-0302', 80.00, 12)) AS u(code, area, x);

INSERT INTO leasemgr.contract (park_id, code, tenant_id, start_date, end_date)
SELECT park_id, 'HT-2024-001', id, '2024-01-01', '2025-12-31' FROM leasemgr.tenant WHERE kind = 'company';

-- Submitting an empty lease.
SELECT leasemgr.contract_transition(id, 'submit') FROM leasemgr.contract WHERE code = 'HT-2024-001';
INSERT INTO leasemgr.contract_unit (contract_id, unit_id)
SELECT c.id, u.id FROM leasemgr.contract c, leasemgr.unit u WHERE c.code = 'HT-2024-001' AND u.code = 'A-0301';
-- Submitting a lease that charges nothing; then its rent and property fee (dates default
-- to the lease's).
SELECT leasemgr.contract_transition(id, 'submit') FROM leasemgr.contract WHERE code = 'HT-2024-001';
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate)
SELECT c.id, k.kind, 'per_m2_month', k.rate FROM leasemgr.contract c, (VALUES ('rent', 85), ('property_fee', 8.5)) AS k(kind, rate)
 WHERE c.code = 'HT-2024-001';

SET leasemgr.actor = 'li.na';
SELECT leasemgr.contract_transition(id, 'submit', 'offer agreed on site') FROM leasemgr.contract WHERE code = 'HT-2024-001';
-- Approving one's own submission; then editing a term under review, the rent included.
SELECT leasemgr.contract_transition(id, 'approve') FROM leasemgr.contract WHERE code = 'HT-2024-001';
UPDATE leasemgr.contract SET end_date = '2026-12-31' WHERE code = 'HT-2024-001';
UPDATE leasemgr.charge SET rate = 80 WHERE kind = 'rent';
-- Jumping ahead with a direct UPDATE.
UPDATE leasemgr.contract SET state = 'active' WHERE code = 'HT-2024-001';

SET leasemgr.actor = 'wang.wei';
SELECT leasemgr.contract_transition(id, 'approve') FROM leasemgr.contract WHERE code = 'HT-2024-001';
-- Signing without the document; then with it.
SELECT leasemgr.contract_transition(id, 'sign') FROM leasemgr.contract WHERE code = 'HT-2024-001';
UPDATE leasemgr.contract SET document_sha256 = encode(sha256('signed contract HT-2024-001'), 'hex')
 WHERE code = 'HT-2024-001';
SELECT leasemgr.contract_transition(id, 'sign') FROM leasemgr.contract WHERE code = 'HT-2024-001';
SELECT leasemgr.contract_transition(id, 'activate') FROM leasemgr.contract WHERE code = 'HT-2024-001';

-- A second lease of the same unit for overlapping dates.
INSERT INTO leasemgr.contract (park_id, code, tenant_id, start_date, end_date)
SELECT park_id, 'HT-2025-007', id, '2025-07-01', '2026-06-30' FROM leasemgr.tenant WHERE kind = 'person';
INSERT INTO leasemgr.contract_unit (contract_id, unit_id)
SELECT c.id, u.id FROM leasemgr.contract c, leasemgr.unit u WHERE c.code = 'HT-2025-007' AND u.code = 'A-0301';
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate)
SELECT id, 'rent', 'per_m2_month', 88 FROM leasemgr.contract WHERE code = 'HT-2025-007';
SELECT leasemgr.contract_transition(id, 'submit') FROM leasemgr.contract WHERE code = 'HT-2025-007';

-- Ending the first one early, then moving out and closing.
SELECT leasemgr.contract_transition(id, 'terminate', 'tenant relocated', '2025-06-30')
  FROM leasemgr.contract WHERE code = 'HT-2024-001';
SELECT leasemgr.contract_transition(id, 'submit') FROM leasemgr.contract WHERE code = 'HT-2025-007';
SELECT leasemgr.contract_transition(id, 'start_move_out') FROM leasemgr.contract WHERE code = 'HT-2024-001';
-- Closing needs the final bill and nothing unpaid: refused, then billed, paid and closed.
SELECT leasemgr.contract_transition(id, 'close') FROM leasemgr.contract WHERE code = 'HT-2024-001';
SELECT bills_created, amount FROM leasemgr.bill_run('2025-06-01', (SELECT park_id FROM leasemgr.contract WHERE code = 'HT-2024-001'));
SELECT leasemgr.record_payment(c.id, sum(b.amount), '2025-07-05', 'bank_transfer', 'BT-20250705-001') > 0 AS paid
  FROM leasemgr.contract c JOIN leasemgr.bill b ON b.contract_id = c.id WHERE c.code = 'HT-2024-001' GROUP BY c.id;
SELECT leasemgr.contract_transition(id, 'close') FROM leasemgr.contract WHERE code = 'HT-2024-001';
UPDATE leasemgr.contract SET document_sha256 = NULL WHERE code = 'HT-2024-001';
RESET leasemgr.actor;

SELECT code, state, start_date, end_date, terminated_on, submitted_by, approved_by, lease_range, is_live
  FROM leasemgr.contract ORDER BY code;
SELECT event, from_state, to_state, actor, note, effective_date
  FROM leasemgr.contract_timeline((SELECT id FROM leasemgr.contract WHERE code = 'HT-2024-001'));
SELECT contract_code, tenant_name, state, unit_count, billable_area_m2, unit_codes
  FROM leasemgr.contract_overview ORDER BY contract_code;
-- The charges as stored: park and dates taken from the contract.
SELECT c.code, ch.kind, ch.basis, ch.rate, ch.valid_from, ch.valid_to, ch.park_id = c.park_id AS same_park
  FROM leasemgr.charge ch JOIN leasemgr.contract c ON c.id = ch.contract_id ORDER BY c.code, ch.id;

-- The audit trail of the contract row, changed columns only (times left out here).
SELECT action, actor, old_values - 'state_since' - 'submitted_at' - 'approved_at' - 'signed_at' AS old_values,
       new_values - 'state_since' - 'submitted_at' - 'approved_at' - 'signed_at' - 'created_at' AS new_values
  FROM leasemgr.audit_log
 WHERE table_name = 'contract' AND row_id = (SELECT id FROM leasemgr.contract WHERE code = 'HT-2024-001')
 ORDER BY id;
