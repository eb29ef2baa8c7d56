-- Amendments that add a unit to a live lease or hand one back (add_units, remove_units): the
-- unit is held only from or to its day (contract_unit.held_range), and everything that reads
-- a lease's units follows: the exclusion constraint, area-based rent (split and re-billed,
-- worked by hand below), metered charges (each meter counted only on the days its unit is
-- held), the rent roll, renewals, the outbox. Bad changes are refused (LM020, LM006) and
-- open nothing.
BEGIN;
SELECT plan(58);

CREATE FUNCTION pg_temp.as(p_actor text) RETURNS void LANGUAGE sql AS $$
  SELECT set_config('leasemgr.actor', p_actor, true)
$$;
CREATE FUNCTION pg_temp.adjustments(p_contract bigint)
RETURNS TABLE (period_start date, period_end date, amount numeric) LANGUAGE sql AS $$
  SELECT period_start, period_end, amount FROM leasemgr.bill_line
   WHERE contract_id = p_contract AND line_type = 'adjustment' ORDER BY id
$$;
CREATE FUNCTION pg_temp.billed(p_contract bigint) RETURNS numeric LANGUAGE sql AS $$
  SELECT COALESCE(sum(amount), 0) FROM leasemgr.bill WHERE contract_id = p_contract AND voided_at IS NULL
$$;
-- Open an amendment as alice and approve it as bob; returns the amendment.
CREATE FUNCTION pg_temp.amend(p_contract bigint, p_changes jsonb, p_reason text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  a bigint;
BEGIN
  PERFORM pg_temp.as('alice');
  a := leasemgr.amendment_open(p_contract, p_changes, p_reason);
  PERFORM pg_temp.as('bob');
  PERFORM leasemgr.amendment_approve(a);
  RETURN a;
END
$$;

-- Park UX: X-101 (100 m2), X-102 (50 m2), X-103 (40 m2). Lease X on X-101 from 2025-01-01 to
-- 2026-12-31 at 80.0000 CNY/m2/month in advance: 8,000.00 a month.
SELECT th.park('UX') AS p \gset
SELECT th.unit(:p, 'X-101', 100) AS u1, th.unit(:p, 'X-102', 50) AS u2, th.unit(:p, 'X-103', 40) AS u3 \gset
SELECT th.park('UO') AS other_park \gset
SELECT th.unit(:other_park, 'O-101', 10) AS uo \gset
SELECT th.draft(:p, 'X', ARRAY[:u1]::bigint[], '2025-01-01', '2026-12-31') AS x \gset
SELECT th.walk(:x, 'active');
SELECT is((SELECT bills_created FROM leasemgr.bill_run('2025-06-01', :p)), 1, 'January..June billed: 6 x 8,000.00');

-- ---- refusals: nothing is opened -------------------------------------------------------------

SELECT pg_temp.as('alice');
SELECT th.refuses(format($$SELECT leasemgr.amendment_open(%s, '{"add_units": [{"unit_id": %s, "from": "2025-07-01"}]}', 'x')$$, :x, :uo),
  'LM020', format('amendment of contract X: unit %s is not a unit of its park', :uo), 'Contract X is of park UX.',
  'Name a unit of the contract''s park (leasemgr.unit); units of parks you have not been granted are not visible to you.',
  'a unit of another park is not added');
SELECT th.refuses(format($$SELECT leasemgr.amendment_open(%s, '{"add_units": [{"unit_id": %s, "from": "2025-07-01"}]}', 'x')$$, :x, :u1),
  'LM020', 'amendment of contract X: unit X-101 is already leased by it', 'The lease holds it now.',
  'Change its area with unit_areas instead.', 'a unit the lease holds is not added again');
SELECT th.refuses(format($$SELECT leasemgr.amendment_open(%s, '{"add_units": [{"unit_id": %s, "from": "2024-12-01"}]}', 'x')$$, :x, :u2),
  'LM020', 'amendment of contract X: unit X-102 cannot be added from 2024-12-01', 'The lease runs from 2025-01-01 to 2026-12-31.',
  'Give a first day within the lease.', 'a unit is not added from before the lease');
SELECT th.refuses(format($$SELECT leasemgr.amendment_open(%s, '{"add_units": [{"unit_id": %s, "from": "2025-07-01", "billable_area_m2": -5}]}', 'x')$$, :x, :u2),
  'LM020', 'amendment: add_units.billable_area_m2 must be positive with at most 2 decimals', 'It is -5.',
  'Give a number above 0 and below 10000000000.0000000000000000, with at most 2 decimals.', 'a negative area is refused');
SELECT th.refuses(format($$SELECT leasemgr.amendment_open(%s, '{"add_units": [{"unit_id": %s, "since": "2025-07-01"}]}', 'x')$$, :x, :u2),
  'LM020', 'amendment: unknown field since in add_units', format('The entry is {"since": "2025-07-01", "unit_id": %s}.', :u2),
  'An entry of add_units has the fields unit_id, from, billable_area_m2.', 'an unknown field is refused');
SELECT th.refuses(format($$SELECT leasemgr.amendment_open(%s, '{"remove_units": [{"unit_id": %s, "last_day": "2025-07-31"}]}', 'x')$$, :x, :u2),
  'LM020', format('amendment of contract X: unit %s is not leased by it', :u2), 'Contract X leases X-101.',
  'Name a unit of the contract (leasemgr.contract_unit).', 'a unit the lease does not hold is not handed back');
SELECT th.refuses(format($$SELECT leasemgr.amendment_open(%s, '{"remove_units": [{"unit_id": %s, "last_day": "2026-12-31"}]}', 'x')$$, :x, :u1),
  'LM020', 'amendment of contract X: unit X-101 cannot be handed back after 2026-12-31', 'The lease holds the unit from 2025-01-01 to 2026-12-31.',
  'Give a last day from the unit''s first day to the day before the lease ends; to end the whole lease, terminate it.',
  'handing a unit back on the last day is not a hand-back');
SELECT th.refuses(format($$SELECT leasemgr.amendment_open(%s, '{"remove_units": [{"unit_id": %s, "last_day": "2025-07-31"}]}', 'x')$$, :x, :u1),
  'LM020', 'amendment of contract X would leave the lease without a unit from 2025-08-01', 'No unit would be held from 2025-08-01 to 2026-12-31.',
  'Keep at least one unit to the end, or end the lease (end_date, or terminate).', 'a lease never holds no unit');
SELECT th.refuses(format($$SELECT leasemgr.amendment_open(%s, '{"unit_areas": [{"unit_id": %s, "billable_area_m2": 90, "from": "2025-07-01"}],
                                                              "remove_units": [{"unit_id": %s, "last_day": "2025-07-31"}]}', 'x')$$, :x, :u1, :u1),
  'LM020', format('amendment of contract X: unit %s is listed twice', :u1), 'unit_areas, add_units and remove_units name it more than once.',
  'One change per unit and amendment: an area, an addition or a hand-back.', 'one change per unit');
-- X-102 is leased to Y from 2026-07-01: X cannot take it to its end.
SELECT th.draft(:p, 'Y', ARRAY[:u2]::bigint[], '2026-07-01', '2026-12-31') AS y \gset
SELECT th.walk(:y, 'signed');
SELECT th.refuses(format($$SELECT leasemgr.amendment_open(%s, '{"add_units": [{"unit_id": %s, "from": "2025-05-16"}]}', 'x')$$, :x, :u2),
  'LM006', 'amendment of contract X: unit X-102 is not free from 2025-05-16 to 2026-12-31', 'Contract Y holds unit X-102 from 2026-07-01 to 2026-12-31.',
  'Add the unit from the day after that lease ends, or choose another unit.', 'a unit another live lease holds is not added');
SELECT th.walk(:y, 'cancelled');
-- X-103 was leased to K for 2025-01..03, a lease since closed: its days are history.
SELECT th.draft(:p, 'K', ARRAY[:u3]::bigint[], '2025-01-01', '2025-03-31') AS k \gset
SELECT th.walk(:k, 'closed');
SELECT th.refuses(format($$SELECT leasemgr.amendment_open(%s, '{"add_units": [{"unit_id": %s, "from": "2025-02-01"}]}', 'x')$$, :x, :u3),
  'LM006', 'amendment of contract X: unit X-103 is not free from 2025-02-01 to 2026-12-31', 'Contract K holds unit X-103 from 2025-01-01 to 2025-03-31.',
  'Add the unit from the day after that lease ends, or choose another unit.', 'nor one a closed lease held on those days');
SELECT is((SELECT count(*) FROM leasemgr.amendment WHERE contract_id = :x), 0::bigint, 'none of the refusals opened anything');

-- Only an approval writes the days a unit is held, even on a draft.
SELECT th.draft(:p, 'D', ARRAY[:u3]::bigint[], '2027-01-01', '2027-12-31') AS d \gset
SELECT th.refuses(format($$UPDATE leasemgr.contract_unit SET held_from = '2027-02-01' WHERE contract_id = %s$$, :d),
  'LM004', 'the days contract D holds a unit are written by amendments only',
  'held_from and held_to record a unit added or handed back during the lease; they would be 2027-02-01 and empty.',
  'Leave them empty: a draft leases its units for the whole lease. Add or hand back a unit of a live lease with leasemgr.amendment_open (add_units, remove_units).',
  'held_from is not written by hand');
SELECT is((th.error_of(format($$UPDATE leasemgr.contract_unit SET held_to = '2025-09-30' WHERE contract_id = %s$$, :x))).code, 'LM004',
  'nor held_to of a live lease (the term lock)');

-- ---- adding a unit from mid-period, into billed months --------------------------------------

SELECT pg_temp.as('alice');
SELECT leasemgr.amendment_open(:x, format('{"add_units": [{"unit_id": %s, "from": "2025-05-16"}]}', :u2)::jsonb,
                               'SA-7: X-102 added from 2025-05-16') AS xa \gset
SELECT results_eq(format('SELECT field, from_date, before, after FROM leasemgr.amendment_diff(%s)', :xa),
  $$VALUES ('unit X-102', '2025-05-16'::date, 'not leased', 'leased from 2025-05-16, 50.00 m²')$$,
  'the diff shows the unit added, from its day, at its area');
SELECT pg_temp.as('bob');
SELECT leasemgr.amendment_approve(:xa);
SELECT results_eq(format('SELECT unit_id, held_from, held_to, held_range FROM leasemgr.contract_unit WHERE contract_id = %s ORDER BY unit_id', :x),
  format($$VALUES (%s::bigint, NULL::date, NULL::date, '[2025-01-01,2027-01-01)'::daterange), (%s, '2025-05-16', NULL, '[2025-05-16,2027-01-01)')$$, :u1, :u2),
  'the unit is held from its day; the others for the whole lease');
SELECT results_eq(format('SELECT valid_from, valid_to, area_m2 FROM leasemgr.charge WHERE contract_id = %s ORDER BY id', :x),
  $$VALUES ('2025-01-01'::date, '2025-05-15'::date, 100.00), ('2025-05-16', '2026-12-31', 150.00)$$,
  'the rent is cut at 2025-05-16: 100 m2 before, 150 m2 from then');
SELECT results_eq(format($$SELECT payload ->> 'available', payload ->> 'from' FROM leasemgr.event_outbox
                          WHERE topic = 'unit.availability' AND subject_id = %s ORDER BY id DESC LIMIT 1$$, :u2),
  $$VALUES ('false', '2025-05-16')$$, 'listing channels hear that X-102 is taken from 2025-05-16');
SELECT leasemgr.bill_run('2025-06-01', :p);
-- Re-billed: May at 100 m2 is now 05-01..05-15 only: 100 x 80 x 15/31 = 3,870.97 (120,000/31 =
-- 3,870.967...), billed 8,000.00: -4,129.03. June at 100 m2 is no longer charged: -8,000.00.
SELECT results_eq(format('SELECT period_start, period_end, amount FROM pg_temp.adjustments(%s)', :x),
  $$VALUES ('2025-05-01'::date, '2025-05-15'::date, -4129.03), ('2025-06-01', '2025-06-30', -8000.00)$$,
  'the days at 100 m2 are credited: -4,129.03 for May, -8,000.00 for June');
-- The continuation bills 150 m2: May 16..31 = 150 x 80 x 16/31 = 6,193.55 (192,000/31 =
-- 6,193.548...), June 150 x 80 = 12,000.00.
SELECT results_eq(format($$SELECT l.period_start, l.period_end, l.amount FROM leasemgr.bill_line l JOIN leasemgr.charge ch ON ch.id = l.charge_id
                          WHERE l.contract_id = %s AND l.line_type = 'charge' AND ch.valid_from = '2025-05-16' ORDER BY l.period_start$$, :x),
  $$VALUES ('2025-05-16'::date, '2025-05-31'::date, 6193.55), ('2025-06-01', '2025-06-30', 12000.00)$$,
  'the added area is billed from its day: 6,193.55 for May 16..31, 12,000.00 for June');
-- January..June: 4 x 8,000.00 + 3,870.97 + 6,193.55 + 12,000.00 = 54,064.52, which is the
-- 48,000.00 billed plus 50 m2 for May 16..31 (50 x 80 x 16/31 = 2,064.52) and June (4,000.00).
SELECT is(pg_temp.billed(:x), 54064.52, 'January..June now total 54,064.52: 48,000 + 2,064.52 + 4,000');
SELECT results_eq(format($$SELECT unit_code, billable_area_m2, monthly_rent FROM leasemgr.rent_roll_as_of('2025-05-15') WHERE contract_id = %s$$, :x),
  $$VALUES ('X-101', 100.00, 8000.00)$$, 'the rent roll of 2025-05-15 shows X-101 alone: 100 m2, 8,000.00');
SELECT results_eq(format($$SELECT unit_code, billable_area_m2, monthly_rent FROM leasemgr.rent_roll_as_of('2025-06-30') WHERE contract_id = %s$$, :x),
  $$VALUES ('X-101', 100.00, 8000.00), ('X-102', 50.00, 4000.00)$$, 'and of 2025-06-30 both units: 12,000.00 split by area');
SELECT is((th.error_of(format($$SELECT th.walk(th.draft(%s, 'Z0', ARRAY[%s]::bigint[], '2026-01-01', '2026-03-31'), 'pending_approval')$$, :p, :u2))).code,
  'LM006', 'the unit added is double booked for anyone else from its day');

-- ---- handing a unit back ---------------------------------------------------------------------

SELECT leasemgr.amendment_open(:x, format('{"remove_units": [{"unit_id": %s, "last_day": "2025-07-31"}]}', :u1)::jsonb,
                               'SA-8: X-101 handed back after July') AS xr \gset
SELECT results_eq(format('SELECT field, from_date, before, after FROM leasemgr.amendment_diff(%s)', :xr),
  $$VALUES ('unit X-101', '2025-08-01'::date, 'leased to the end, 100.00 m²', 'handed back after 2025-07-31')$$,
  'the diff shows the unit handed back and the first day without it');
SELECT pg_temp.as('alice');
SELECT leasemgr.amendment_approve(:xr);
SELECT is((SELECT held_range FROM leasemgr.contract_unit WHERE contract_id = :x AND unit_id = :u1), '[2025-01-01,2025-08-01)'::daterange,
  'X-101 is held to its last day');
SELECT results_eq(format('SELECT valid_from, valid_to, area_m2 FROM leasemgr.charge WHERE contract_id = %s ORDER BY id', :x),
  $$VALUES ('2025-01-01'::date, '2025-05-15'::date, 100.00), ('2025-05-16', '2025-07-31', 150.00), ('2025-08-01', '2026-12-31', 50.00)$$,
  'the rent is cut again at 2025-08-01: 50 m2 from then');
SELECT results_eq(format($$SELECT payload ->> 'available', payload ->> 'from' FROM leasemgr.event_outbox
                          WHERE topic = 'unit.availability' AND subject_id = %s ORDER BY id DESC LIMIT 1$$, :u1),
  $$VALUES ('true', '2025-08-01')$$, 'listing channels hear that X-101 is available from 2025-08-01');
SELECT leasemgr.bill_run('2025-08-01', :p);
-- July: 150 x 80 = 12,000.00; August: 50 x 80 = 4,000.00.
SELECT results_eq(format($$SELECT period_start, amount FROM leasemgr.bill_line WHERE contract_id = %s AND line_type = 'charge'
                          AND period_start >= '2025-07-01' ORDER BY period_start$$, :x),
  $$VALUES ('2025-07-01'::date, 12000.00), ('2025-08-01', 4000.00)$$, 'July is billed on 150 m2 (12,000.00), August on 50 m2 (4,000.00)');
SELECT results_eq(format('SELECT unit_count, billable_area_m2, unit_codes FROM leasemgr.contract_overview WHERE contract_id = %s', :x),
  $$VALUES (1, 50.00, 'X-102')$$, 'the overview shows the units held at the end of the lease');
SELECT th.refuses(format($$SELECT leasemgr.amendment_open(%s, '{"remove_units": [{"unit_id": %s, "last_day": "2025-09-30"}]}', 'x')$$, :x, :u1),
  'LM020', 'amendment of contract X: unit X-101 was already handed back', 'Its last day was 2025-07-31.',
  'Name a unit the lease still holds.', 'a unit is handed back once');
SELECT th.refuses(format($$SELECT leasemgr.amendment_open(%s, '{"add_units": [{"unit_id": %s, "from": "2025-09-01"}]}', 'x')$$, :x, :u1),
  'LM020', 'amendment of contract X: unit X-101 is already leased by it', 'The lease handed it back after 2025-07-31.',
  'A unit handed back comes back with a new contract.', 'a unit handed back comes back with a new contract');

-- X-101 is free from 2025-08-01: Z leases it to 2027-06-30, and X still extends past it.
SELECT th.draft(:p, 'Z', ARRAY[:u1]::bigint[], '2025-08-01', '2027-06-30') AS z \gset
SELECT is(th.walk(:z, 'pending_approval'), 'pending_approval', 'another lease takes the unit handed back from the next day');
SELECT pg_temp.amend(:x, '{"end_date": "2027-03-31"}', 'SA-9: extended') AS xe \gset
SELECT is((SELECT held_range FROM leasemgr.contract_unit WHERE contract_id = :x AND unit_id = :u1), '[2025-01-01,2025-08-01)'::daterange,
  'an extension leaves a unit handed back where it was');
SELECT is((SELECT held_range FROM leasemgr.contract_unit WHERE contract_id = :x AND unit_id = :u2), '[2025-05-16,2027-04-01)'::daterange,
  '... and takes the units held to the end along');
SELECT is((SELECT u FROM leasemgr.contract_version v, jsonb_array_elements(v.terms -> 'units') u
            WHERE v.amendment_id = :xe AND (u ->> 'unit_id')::bigint = :u1),
  format('{"held_to": "2025-07-31", "unit_id": %s, "unit_code": "X-101", "billable_area_m2": 100.00}', :u1)::jsonb,
  'the terms kept as a version say which days each unit was held');
-- A unit handed back on a day still to come gets its final reading checked at the move-out.
INSERT INTO leasemgr.meter (park_id, code, unit_id, kind, digits, installed_at)
VALUES (:p, 'E-X-103', :u3, 'electricity', 6, '2026-11-01 00:00+08');
SELECT pg_temp.amend(:x, format('{"add_units": [{"unit_id": %s, "from": "2026-12-01"}]}', :u3)::jsonb, 'SA-10: X-103 for December');
SELECT pg_temp.amend(:x, format('{"remove_units": [{"unit_id": %s, "last_day": "2026-12-31"}]}', :u3)::jsonb, 'SA-11: X-103 back');
SELECT is(leasemgr.move_out_blockers(:x), 'a final reading (photo or IoT) on or after 2026-12-31 of meter E-X-103 (unit X-103)',
  'the move-out asks for the final reading of a unit handed back on its own last day');
SELECT th.fire(:z, 'reject', 'th.approver');
SELECT is((SELECT payload ->> 'available' FROM leasemgr.event_outbox
            WHERE topic = 'unit.availability' AND subject_id = :u1 ORDER BY id DESC LIMIT 1), 'true',
  'Z rejected: X-101 is available again, although X, which handed it back, runs on');
SELECT leasemgr.renew(:x, '2028-03-31') AS xn \gset
SELECT is((SELECT count(*) FROM leasemgr.contract_unit cu JOIN leasemgr.contract r ON r.id = cu.contract_id
            WHERE r.renews_contract_id = :x AND cu.unit_id = :u2), 1::bigint,
  'a renewal leases the units held on the last day');
SELECT is((SELECT count(*) FROM leasemgr.contract_unit cu JOIN leasemgr.contract r ON r.id = cu.contract_id
            WHERE r.renews_contract_id = :x), 1::bigint, '... and not the unit handed back');

-- ---- metered charges follow the days a unit is held ------------------------------------------

-- Park UM: lease W on M-101 for 2026 with electricity at 1.0000 a kWh in arrears; M-102 has
-- its own meter, and W adds M-102 from 2026-03-16.
SELECT th.park('UM') AS pm \gset
SELECT th.unit(:pm, 'M-101', 100) AS m1, th.unit(:pm, 'M-102', 50) AS m2 \gset
SELECT th.draft(:pm, 'W', ARRAY[:m1]::bigint[], '2026-01-01', '2026-12-31') AS w \gset
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, meter_kind, billed)
VALUES (:w, 'utility', 'metered', 1.0000, 'electricity', 'arrears') RETURNING id AS wch \gset
SELECT th.walk(:w, 'active');
INSERT INTO leasemgr.meter (park_id, code, unit_id, kind, digits, installed_at)
VALUES (:pm, 'E-M-101', :m1, 'electricity', 6, '2025-12-01 00:00+08') RETURNING id AS e1 \gset
INSERT INTO leasemgr.meter (park_id, code, unit_id, kind, digits, installed_at)
VALUES (:pm, 'E-M-102', :m2, 'electricity', 6, '2025-12-01 00:00+08') RETURNING id AS e2 \gset
SELECT leasemgr.record_reading(:e1, '2026-01-01 00:00+08', 0, 'iot'), leasemgr.record_reading(:e1, '2026-02-01 00:00+08', 500, 'iot');
SELECT leasemgr.record_reading(:e1, '2026-03-01 00:00+08', 1000, 'iot'), leasemgr.record_reading(:e1, '2026-04-01 00:00+08', 1400, 'iot'),
       leasemgr.record_reading(:e1, '2026-05-01 00:00+08', 1700, 'iot'), leasemgr.record_reading(:e1, '2026-06-01 00:00+08', 2000, 'iot'),
       leasemgr.record_reading(:e1, '2026-07-01 00:00+08', 2300, 'iot');
SELECT leasemgr.record_reading(:e2, '2026-03-01 00:00+08', 0, 'iot'), leasemgr.record_reading(:e2, '2026-03-16 00:00+08', 150, 'iot'),
       leasemgr.record_reading(:e2, '2026-04-01 00:00+08', 310, 'iot'), leasemgr.record_reading(:e2, '2026-05-01 00:00+08', 400, 'iot');
SELECT pg_temp.amend(:w, format('{"add_units": [{"unit_id": %s, "from": "2026-03-16"}]}', :m2)::jsonb, 'SA-1: M-102 from 03-16') AS wa \gset
-- March: E-M-101 1,400 - 1,000 = 400; E-M-102 only from 03-16: 310 - 150 = 160 (its 150
-- before were not this tenant's). 560 x 1.0000 = 560.00.
SELECT is((SELECT amount FROM leasemgr.compute_charges(:w, '2026-03-01', '2026-03-31') WHERE charge_id = :wch), 560.00,
  'March: 400 + the added unit''s 160 from its first day = 560.00, not its whole month');
SELECT matches((SELECT explain FROM leasemgr.compute_charges(:w, '2026-03-01', '2026-03-31') WHERE charge_id = :wch),
  'E-M-102 150\.000 \(read 2026-03-16 00:00\) -> 310\.000', 'the explain text starts the added meter on its first day');

-- A hand-back dated in the past needs the unit's final readings, as a move-out does.
SELECT pg_temp.as('alice');
SELECT th.refuses(format($$SELECT leasemgr.amendment_open(%s, '{"remove_units": [{"unit_id": %s, "last_day": "2026-05-31"}]}', 'x')$$, :w, :m2),
  'LM020', 'amendment of contract W: unit M-102, handed back after 2026-05-31, has no final reading',
  'Missing: a final reading (photo or IoT) on or after 2026-05-31 of meter E-M-102.',
  'Record the final readings (leasemgr.meter_reading), then open or approve the amendment.',
  'no hand-back in the past without the final readings');
-- A sub-meter on M-102 under a meter of M-101: the parent counts M-102's use only while M-101 is
-- held, so the two units are handed back on the same day or not at all. Handing back M-101
-- alone would count M-102's use twice; handing back M-102 alone would bill its next occupant's
-- use to W through the parent.
INSERT INTO leasemgr.meter (park_id, code, unit_id, kind, digits, installed_at)
VALUES (:pm, 'W-M-101', :m1, 'water', 6, '2025-12-01 00:00+08') RETURNING id AS w1 \gset
INSERT INTO leasemgr.meter (park_id, code, unit_id, kind, digits, installed_at, parent_id)
VALUES (:pm, 'W-M-102', :m2, 'water', 6, '2025-12-01 00:00+08', :w1) RETURNING id AS w2 \gset
SELECT leasemgr.record_reading(:w1, '2026-06-01 00:00+08', 10, 'iot');
SELECT th.refuses(format($$SELECT leasemgr.amendment_open(%s, '{"remove_units": [{"unit_id": %s, "last_day": "2026-05-31"}]}', 'x')$$, :w, :m1),
  'LM020', 'amendment of contract W: units M-101 and M-102 would be held on different days, but meter W-M-101 measures both',
  'Meter W-M-101 of unit M-101 is the parent of sub-meter W-M-102 of unit M-102. The lease would hold M-101 from 2026-01-01 to 2026-05-31 and M-102 from 2026-03-16 to 2026-12-31.',
  'Add or hand back both units on the same day, or end the sub-meter''s link to its parent (meter.parent_id) first.',
  'the unit of a parent meter is not handed back without its sub-meter''s unit');
SELECT leasemgr.record_reading(:e2, '2026-06-01 00:00+08', 500, 'iot'), leasemgr.record_reading(:e2, '2026-07-01 00:00+08', 900, 'iot'),
       leasemgr.record_reading(:w2, '2026-06-01 00:00+08', 3, 'iot');
SELECT is((th.error_of(format($$SELECT leasemgr.amendment_open(%s, '{"remove_units": [{"unit_id": %s, "last_day": "2026-05-31"}]}', 'x')$$, :w, :m2))).message,
  'amendment of contract W: units M-101 and M-102 would be held on different days, but meter W-M-101 measures both',
  '... nor the sub-meter''s unit without the parent''s');
UPDATE leasemgr.meter SET parent_id = NULL WHERE id = :w2;
SELECT pg_temp.amend(:w, format('{"remove_units": [{"unit_id": %s, "last_day": "2026-05-31"}]}', :m2)::jsonb, 'SA-2: M-102 back') AS wr \gset
-- May: 2,000 - 1,700 = 300 and 500 - 400 = 100: 400.00. June: E-M-101 only, 2,300 - 2,000 =
-- 300.00 (E-M-102's 400 in June are no longer this tenant's).
SELECT results_eq(format($$SELECT period_start, amount FROM leasemgr.compute_charges(%s, '2026-05-01', '2026-06-30') WHERE charge_id = %s ORDER BY 1$$, :w, :wch),
  $$VALUES ('2026-05-01'::date, 400.00), ('2026-06-01', 300.00)$$,
  'May counts both meters (400.00); June only the unit still held (300.00)');

-- An allocation by area counts each unit on its days: March, 100.00 of common costs by m2 x
-- days: W holds M-101 31 days (3,100) and M-102 from 03-16, 16 days (800); M-102 stood vacant
-- 15 days (750, the landlord's). 100.00 x 3,900 / 4,650 = 83.87 (83.8709...), the landlord
-- 16.13 (16.1290...; the cent left goes to its larger remainder).
INSERT INTO leasemgr.allocation_rule (park_id, name, pool_amount, fee_kind, method, valid_from)
VALUES (:pm, 'Common areas', 100.00, 'property_fee', 'by_area', '2026-01-01') RETURNING id AS r_area \gset
SELECT results_eq(format($$SELECT contract_id, amount FROM leasemgr.allocate(%s, '2026-03-01') WHERE rule_id = %s ORDER BY contract_id NULLS LAST$$, :pm, :r_area),
  format($$VALUES (%s::bigint, 83.87::numeric), (NULL, 16.13)$$, :w),
  'March common costs: 83.87 for W (the added unit from its day), 16.13 for the vacant days');
-- June: M-102 handed back, vacant all month: 100 x 30 : 50 x 30 = 66.67 / 33.33.
SELECT results_eq(format($$SELECT contract_id, amount FROM leasemgr.allocate(%s, '2026-06-01') WHERE rule_id = %s ORDER BY contract_id NULLS LAST$$, :pm, :r_area),
  format($$VALUES (%s::bigint, 66.67::numeric), (NULL, 33.33)$$, :w),
  'June: the unit handed back is the landlord''s: 66.67 / 33.33');

-- The fallback estimate takes the area of the units held in its days. July, E-M-101 not read on
-- 08-01, the park estimates: Q's M-103 (100 m2) on the same floor used 500, 5 kWh per m2; W holds
-- only M-101 (100 m2) in July; no month of W has a peer's figure, so its ratio is 1.0000:
-- 5 x 100 x 1.0000 = 500.000 kWh x 1.0000 = 500.00 (not 750.00 on the 150 m2 of June before).
INSERT INTO leasemgr.metering_policy (park_id, estimate_missing) VALUES (:pm, true);
SELECT th.unit(:pm, 'M-103', 100) AS m3 \gset
SELECT th.draft(:pm, 'Q', ARRAY[:m3]::bigint[], '2026-01-01', '2026-12-31', NULL, false) AS q \gset
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, meter_kind, billed)
VALUES (:q, 'utility', 'metered', 1.0000, 'electricity', 'arrears');
SELECT th.walk(:q, 'active');
INSERT INTO leasemgr.meter (park_id, code, unit_id, kind, digits, installed_at)
VALUES (:pm, 'E-M-103', :m3, 'electricity', 6, '2025-12-01 00:00+08') RETURNING id AS e3 \gset
SELECT leasemgr.record_reading(:e3, '2026-07-01 00:00+08', 0, 'iot'), leasemgr.record_reading(:e3, '2026-08-01 00:00+08', 500, 'iot');
SELECT is((SELECT amount FROM leasemgr.compute_charges(:w, '2026-07-01', '2026-07-31') WHERE charge_id = :wch), 500.00,
  'July is estimated on the 100 m2 W holds: 5 kWh/m2 x 100 m2 x 1.0000 = 500.00');

-- July is billed at the estimate. A confirmed anomaly on the meter of the unit handed back
-- (another occupant's problem in July) does not make W's estimate final: once E-M-101 is read,
-- July is trued up: 2,700 - 2,300 = 400.00, minus the 500.00 billed = -100.00.
SELECT count(*) FROM leasemgr.bill_run('2026-08-01', :pm);
SELECT leasemgr.record_reading(:e2, '2026-07-15 00:00+08', 850, 'iot');
SELECT count(*) FROM leasemgr.detect_anomalies(:pm, '2026-07-01 00:00+08', '2026-08-01 00:00+08');
SELECT count(leasemgr.decide_anomaly(a.id, 'confirmed', 'the register was swapped'))
  FROM leasemgr.anomaly a WHERE a.meter_id = :e2 AND a.kind = 'negative';
SELECT leasemgr.record_reading(:e1, '2026-08-01 00:00+08', 2700, 'iot');
SELECT count(*) FROM leasemgr.bill_run('2026-08-01', :pm);
SELECT results_eq(format($$SELECT l.amount, t.amount FROM leasemgr.bill_line l LEFT JOIN leasemgr.bill_line t ON t.trues_up = l.id
                          WHERE l.charge_id = %s AND l.period_start = '2026-07-01' AND l.line_type = 'charge'$$, :wch),
  $$VALUES (500.00, -100.00)$$, 'July, billed at the estimate (500.00), is trued up to the reading: -100.00');

-- Billed allocation shares are final: no unit comes or goes in a month already allocated and
-- billed (the common costs of June went out with the August run).
SELECT th.unit(:pm, 'M-104', 30) AS m4 \gset
SELECT pg_temp.as('alice');
SELECT th.refuses(format($$SELECT leasemgr.amendment_open(%s, '{"add_units": [{"unit_id": %s, "from": "2026-06-15"}]}', 'x')$$, :w, :m4),
  'LM020', 'amendment of contract W: unit M-104 cannot be added from 2026-06-15',
  'The shares of allocation rule "Common areas" are billed for 2026-06; billed shares are final.',
  'Give a day from 2026-07-01 on.', 'a unit is not added into an allocation month already billed');

-- Stuck meters are looked for on units leased that day: M-102's gas meter reads nothing from
-- 06-01, when it stands vacant (no anomaly); M-101's, held, does the same: stuck.
INSERT INTO leasemgr.meter (park_id, code, unit_id, kind, digits, installed_at)
VALUES (:pm, 'G-M-101', :m1, 'gas', 6, '2026-04-01 00:00+08'), (:pm, 'G-M-102', :m2, 'gas', 6, '2026-04-01 00:00+08');
SELECT count(leasemgr.record_reading(m.id, '2026-05-01 00:00+08'::timestamptz + (d - 1) * interval '1 day',
                                     10 * LEAST(d - 1, 31), 'iot'))
  FROM leasemgr.meter m CROSS JOIN generate_series(1, 39) d WHERE m.code IN ('G-M-101', 'G-M-102') AND m.park_id = :pm;
SELECT count(*) FROM leasemgr.detect_anomalies(:pm, '2026-06-01 00:00+08', '2026-06-08 00:00+08');
SELECT results_eq(format($$SELECT m.code, a.kind FROM leasemgr.anomaly a JOIN leasemgr.meter m ON m.id = a.meter_id
                          WHERE m.park_id = %s AND m.code LIKE 'G-%%' AND a.kind = 'stuck' ORDER BY 1$$, :pm),
  $$VALUES ('G-M-101', 'stuck')$$, 'a meter of the unit handed back is not stuck: the unit is vacant');

-- The move-out asks for the final readings of the units held to the end only: M-102's meters
-- had theirs when it was handed back.
SELECT ok(leasemgr.move_out_blockers(:w) ~ 'E-M-101' AND leasemgr.move_out_blockers(:w) !~ 'M-102',
  'the move-out needs the final readings of M-101''s meters, not of M-102''s');

-- Consumption billed from readings stays billed: no unit is added into a billed month.
SELECT th.park('UB') AS pb \gset
SELECT th.unit(:pb, 'B-101', 100) AS b1, th.unit(:pb, 'B-102', 50) AS b2 \gset
SELECT th.draft(:pb, 'V', ARRAY[:b1]::bigint[], '2026-10-01', '2027-09-30') AS v \gset
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, meter_kind, billed)
VALUES (:v, 'utility', 'metered', 1.0000, 'electricity', 'arrears') RETURNING id AS vch \gset
SELECT th.walk(:v, 'active');
INSERT INTO leasemgr.meter (park_id, code, unit_id, kind, digits, installed_at)
VALUES (:pb, 'E-B-101', :b1, 'electricity', 6, '2026-09-01 00:00+08') RETURNING id AS eb1 \gset
INSERT INTO leasemgr.meter (park_id, code, unit_id, kind, digits, installed_at)
VALUES (:pb, 'E-B-102', :b2, 'electricity', 6, '2026-09-01 00:00+08');
SELECT leasemgr.record_reading(:eb1, '2026-10-01 00:00+08', 0, 'iot'), leasemgr.record_reading(:eb1, '2026-11-01 00:00+08', 100, 'iot');
SELECT leasemgr.bill_run('2026-11-01', :pb);
SELECT is(leasemgr.charge_billed_through(:vch), '2026-10-31'::date, 'October''s electricity is billed');
SELECT pg_temp.as('alice');
SELECT th.refuses(format($$SELECT leasemgr.amendment_open(%s, '{"add_units": [{"unit_id": %s, "from": "2026-10-20"}]}', 'x')$$, :v, :b2),
  'LM020', 'amendment of contract V: unit B-102 cannot be added from 2026-10-20',
  format('The lease''s electricity consumption is billed through 2026-10-31 (metered charge %s); months billed from readings are not re-billed.', :vch),
  'Add the unit from a day after 2026-10-31.', 'a metered unit is not added into a month billed from readings');
-- A unit whose meter is the parent of a sub-meter on a unit the lease holds is added with it or
-- not at all: from its first day the parent would count the sub-meter's use a second time.
INSERT INTO leasemgr.meter (park_id, code, unit_id, kind, digits, installed_at)
VALUES (:pb, 'W-B-102', :b2, 'water', 6, '2026-09-01 00:00+08') RETURNING id AS wb2 \gset
INSERT INTO leasemgr.meter (park_id, code, unit_id, kind, digits, installed_at, parent_id)
VALUES (:pb, 'W-B-101', :b1, 'water', 6, '2026-09-01 00:00+08', :wb2) RETURNING id AS wb1 \gset
SELECT th.refuses(format($$SELECT leasemgr.amendment_open(%s, '{"add_units": [{"unit_id": %s, "from": "2026-11-01"}]}', 'x')$$, :v, :b2),
  'LM020', 'amendment of contract V: units B-102 and B-101 would be held on different days, but meter W-B-102 measures both',
  'Meter W-B-102 of unit B-102 is the parent of sub-meter W-B-101 of unit B-101. The lease would hold B-102 from 2026-11-01 to 2027-09-30 and B-101 from 2026-10-01 to 2027-09-30.',
  'Add or hand back both units on the same day, or end the sub-meter''s link to its parent (meter.parent_id) first.',
  'a parent meter''s unit is not added over a sub-meter the lease holds');
UPDATE leasemgr.meter SET parent_id = NULL WHERE id = :wb1;
SELECT isnt(leasemgr.amendment_open(:v, format('{"add_units": [{"unit_id": %s, "from": "2026-11-01"}]}', :b2)::jsonb, 'SA-1'), NULL,
  'from the first day not billed, it is');

SELECT * FROM finish();
ROLLBACK;
