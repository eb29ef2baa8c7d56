-- Amendments: opening one freezes the lease (no bill run, no late fee, no dunning, payments
-- wait); a second person approves it and every change applies at once, the old terms kept as
-- a version; periods already billed are re-billed with adjustment lines equal to the
-- difference, worked by hand below. No path around: direct writes meet the term lock and
-- the state machine. Bad changes are refused (LM020) and open nothing.
BEGIN;
SELECT plan(97);

-- A lease of one 100 m2 unit at 80.0000 CNY/m2/month billed monthly in advance
-- (8,000.00 a month), active, in its own park so each bill run sees only it.
CREATE FUNCTION pg_temp.lease(p_code text, p_start date, p_end date) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  p bigint := th.park(p_code);
  c bigint := th.draft(p, p_code, ARRAY[th.unit(p, p_code || '-101', 100)], p_start, p_end);
BEGIN
  PERFORM th.walk(c, 'active');
  RETURN c;
END
$$;
CREATE FUNCTION pg_temp.park_of(p_contract bigint) RETURNS bigint LANGUAGE sql AS $$
  SELECT park_id FROM leasemgr.contract WHERE id = p_contract
$$;
CREATE FUNCTION pg_temp.as(p_actor text) RETURNS void LANGUAGE sql AS $$
  SELECT set_config('leasemgr.actor', p_actor, true)
$$;
-- The adjustment lines of a contract: (bill, period_start, period_end, amount), in order.
CREATE FUNCTION pg_temp.adjustments(p_contract bigint)
RETURNS TABLE (bill_id bigint, period_start date, period_end date, amount numeric) LANGUAGE sql AS $$
  SELECT bill_id, period_start, period_end, amount FROM leasemgr.bill_line
   WHERE contract_id = p_contract AND line_type = 'adjustment' ORDER BY id
$$;
CREATE FUNCTION pg_temp.billed(p_contract bigint) RETURNS numeric LANGUAGE sql AS $$
  SELECT COALESCE(sum(amount), 0) FROM leasemgr.bill WHERE contract_id = p_contract AND voided_at IS NULL
$$;

-- ---- the freeze ------------------------------------------------------------------------------

SELECT pg_temp.lease('AF', '2025-01-01', '2099-12-31') AS f \gset
SELECT is((SELECT bills_created FROM leasemgr.bill_run('2025-06-01', pg_temp.park_of(:f))), 1,
  'January..June billed: 6 x 8,000.00');
SELECT pg_temp.as('alice');
SELECT leasemgr.amendment_open(:f, '{"free_rent": [{"from": "2025-05-01", "to": "2025-06-30"}]}',
                               'SA-1: May and June free') AS fa \gset
SELECT is((SELECT state FROM leasemgr.contract WHERE id = :f), 'amending', 'opening an amendment freezes the contract');
SELECT is((SELECT (state, requested_by, effective_from)::text FROM leasemgr.amendment WHERE id = :fa),
  '(open,alice,2025-05-01)', 'the amendment is open, stamped with its requester and the first day it touches');
SELECT results_eq(format('SELECT skipped_frozen, bills_created FROM leasemgr.bill_run(%L, %s)', '2025-08-01', pg_temp.park_of(:f)),
  $$VALUES (1, 0)$$, 'the bill run skips the frozen contract and says so');
SELECT leasemgr.record_payment(:f, 1000.00, '2025-07-01', 'bank_transfer', 'AF-P1') AS fp \gset
SELECT is((SELECT unallocated FROM leasemgr.payment WHERE id = :fp), 1000.00,
  'a payment is recorded while frozen and waits whole as credit');
SELECT th.refuses(format($$SELECT leasemgr.amendment_open(%s, '{"end_date": "2100-06-30"}', 'another')$$, :f),
  'LM020', format('contract AF already has an open amendment'), format('Amendment %s is waiting for its decision.', :fa),
  'Decide it first (amendment_approve or amendment_withdraw), or put all changes in one amendment.',
  'a second open amendment on the same contract is refused');
SELECT th.refuses(format($$SELECT leasemgr.amendment_approve(%s)$$, :fa),
  'LM003', format('amendment %s of contract AF must be approved by someone other than its requester', :fa),
  'alice opened it and is now trying to approve it.',
  'Ask a second person to approve; applications set leasemgr.actor to the person acting.',
  'the requester cannot approve (four-eyes)');
SELECT is((SELECT state FROM leasemgr.amendment WHERE id = :fa), 'open', 'the refused approval changed nothing');

-- No path around the amendment.
SELECT is((th.error_of(format('UPDATE leasemgr.charge SET rate = 1 WHERE contract_id = %s', :f))).code, 'LM004',
  'a frozen contract''s charge cannot be edited directly (term lock)');
SELECT is((th.error_of(format($$INSERT INTO leasemgr.free_rent_period (contract_id, days) VALUES (%s, '[2025-07-01,2025-07-31]')$$, :f))).code,
  'LM004', 'nor free rent added directly');
SELECT pg_temp.as('bob');
SELECT is((th.error_of(format('SELECT leasemgr.amendment_apply(%s, NULL)', :fa))).code, 'LM010',
  'calling the approval''s body directly is refused at its first write');
SELECT is((th.error_of(format($$INSERT INTO leasemgr.contract_version (park_id, contract_id, version, amendment_id, terms, replaced_at, replaced_by)
                               VALUES (%s, %s, 1, %s, '{}', now(), 'x')$$, pg_temp.park_of(:f), :f, :fa))).code, 'LM010',
  'a version cannot be forged');
SELECT pg_temp.as('alice');
SELECT is((th.error_of(format($$UPDATE leasemgr.amendment SET state = 'approved' WHERE id = %s$$, :fa))).code, 'LM001',
  'an amendment is not approved by UPDATE');
SELECT is((th.error_of(format($$UPDATE leasemgr.amendment SET changes = '{"end_date": "2100-01-01"}' WHERE id = %s$$, :fa))).code,
  'LM010', 'what was asked never changes');
SELECT is((th.error_of(format('DELETE FROM leasemgr.amendment WHERE id = %s', :fa))).code, 'LM010', 'amendments are never deleted');
SELECT is((th.error_of(format($$UPDATE leasemgr.contract SET state = 'active' WHERE id = %s$$, :f))).code, 'LM002',
  'the contract cannot be unfrozen by UPDATE while its amendment is open');
SELECT is((th.error_of(format($$SELECT leasemgr.rebill(%s)$$, :f))).code, 'LM002', 'a frozen contract is not re-billed');

-- Approved by a second person: a credit of exactly the two months already billed.
SELECT pg_temp.as('bob');
SELECT is(leasemgr.amendment_approve(:fa, 'checked against SA-1'), 1, 'approved: the old terms are kept as version 1');
SELECT is((SELECT (state, decided_by, decision_note, version)::text FROM leasemgr.amendment WHERE id = :fa),
  '(approved,bob,"checked against SA-1",1)', 'approved, stamped with the approver and the note');
SELECT is((SELECT state FROM leasemgr.contract WHERE id = :f), 'active', 'approval lifts the freeze');
SELECT is((SELECT jsonb_array_length(terms -> 'free_rent') FROM leasemgr.contract_version WHERE amendment_id = :fa), 0,
  'version 1 holds the terms as they were: no free rent');
SELECT is((SELECT count(*)::int FROM leasemgr.free_rent_period WHERE contract_id = :f), 1, 'the free rent is in the terms now');
SELECT results_eq(format($$SELECT event, to_state FROM leasemgr.contract_timeline(%s) WHERE event IN ('amend', 'resume')$$, :f),
  $$VALUES ('amend', 'amending'), ('resume', 'active')$$, 'the freeze and its lifting are on the timeline');
SELECT is((SELECT count(*)::int FROM leasemgr.event_outbox WHERE topic = 'contract.state' AND payload ->> 'contract_id' = :f::text
             AND payload ->> 'event' IN ('amend', 'resume')), 2, 'and in the outbox');
-- The bill run re-bills first: May and June now cost 0.00 (free); 8,000.00 was billed for each:
-- adjustments -8,000.00 and -8,000.00 = -16,000.00, on the unpaid bill that charged them.
SELECT results_eq(format('SELECT bills_created, lines_created FROM leasemgr.bill_run(%L, %s)', '2025-06-01', pg_temp.park_of(:f)),
  $$VALUES (0, 0)$$, 'the next bill run issues the adjustments (and nothing else is due)');
SELECT results_eq(format('SELECT period_start, period_end, amount FROM pg_temp.adjustments(%s)', :f),
  $$VALUES ('2025-05-01'::date, '2025-05-31'::date, -8000.00), ('2025-06-01', '2025-06-30', -8000.00)$$,
  'free rent added after the months were billed: exactly -8,000.00 for each month');
SELECT is((SELECT count(DISTINCT bill_id)::int FROM pg_temp.adjustments(:f)
            WHERE bill_id = (SELECT min(id) FROM leasemgr.bill WHERE contract_id = :f)), 1,
  'both credits go on the unpaid bill that charged those months');
-- 6 x 8,000.00 - 16,000.00 = 32,000.00 owed; the frozen 1,000.00 is allocated once unfrozen
SELECT is(pg_temp.billed(:f), 32000.00, 'the contract now owes 48,000.00 - 16,000.00 = 32,000.00');
SELECT alike((SELECT explain FROM leasemgr.bill_line WHERE contract_id = :f AND line_type = 'adjustment' ORDER BY id LIMIT 1),
  format('rent 2025-05-01..2025-05-31 re-billed after amendment %s (SA-1: May and June free): the terms now come to 0.00 (%%free rent 2025-05-01..2025-05-31%%); 8,000.00 was billed; adjustment -8,000.00', :fa),
  'the adjustment explains itself: what the terms come to now, what was billed, the difference');
SELECT is((SELECT rebilled_at IS NOT NULL FROM leasemgr.amendment WHERE id = :fa), true, 'the amendment is marked re-billed');
SELECT is(leasemgr.rebill(:f), 0, 're-billing again issues nothing (idempotent)');
SELECT is(leasemgr.apply_credit(:f), 1000.00, 'the payment that waited is allocated once the freeze is lifted');

-- ---- late fees and dunning stop while frozen ---------------------------------------------------

SELECT pg_temp.lease('AL', '2025-01-01', '2099-12-31') AS l \gset
INSERT INTO leasemgr.late_fee_policy (park_id, daily_rate_pct, grace_days) VALUES (pg_temp.park_of(:l), 0.05, 0);
SELECT leasemgr.bill_run('2025-01-01', pg_temp.park_of(:l));
SELECT id AS lb FROM leasemgr.bill WHERE contract_id = :l \gset
-- The bill (8,000.00) is due on the day it was issued (today, after the 5th): 10 days later
-- it accrued 9 days (today + 1 .. today + 9): 8,000.00 x 0.05% x 9 = 36.00.
SELECT is(leasemgr.late_fee(:lb, leasemgr.business_date() + 10), 36.00, 'unfrozen: 8,000.00 x 0.05% x 9 days = 36.00');
SELECT pg_temp.as('alice');
SELECT leasemgr.amendment_open(:l, '{"end_date": "2100-12-31"}', 'SA-2: one more year') AS la \gset
SELECT is(leasemgr.late_fee(:lb, leasemgr.business_date() + 10), 0.00, 'frozen from today: no late fee accrues');
SELECT pg_temp.as('bob');
SELECT leasemgr.amendment_withdraw(:la, 'tenant changed its mind');
SELECT is(leasemgr.late_fee(:lb, leasemgr.business_date() + 10), 36.00,
  'withdrawn the same day: no day was frozen, 36.00 again');
SELECT is((SELECT (state, decided_by, version IS NULL)::text FROM leasemgr.amendment WHERE id = :la),
  '(withdrawn,bob,t)', 'withdrawn, stamped, no version');
SELECT is((SELECT (state, end_date)::text FROM leasemgr.contract WHERE id = :l), '(active,2099-12-31)',
  'a withdrawal lifts the freeze and changes nothing');
-- A frozen contract raises no overdue alert: a bill due last month, past due today.
SELECT pg_temp.as('alice');
SELECT leasemgr.amendment_open(:l, '{"end_date": "2100-12-31"}', 'SA-3: one more year') AS la2 \gset
INSERT INTO leasemgr.bill (park_id, contract_id, period, issued_on, due_on, issued_by)
VALUES (pg_temp.park_of(:l), :l, '2025-01-01', '2025-01-01', '2025-01-05', 'th.finance') RETURNING id AS lb2 \gset
SELECT is((SELECT done FROM leasemgr.run_daily() WHERE step = 'overdue alerts'), 0, 'no dunning while frozen');
SELECT is((SELECT count(*)::int FROM leasemgr.alert WHERE contract_id = :l AND kind = 'overdue'), 0,
  'no overdue alert for the frozen contract');

-- ---- bad changes are refused and open nothing -------------------------------------------------

SELECT pg_temp.lease('AB', '2025-01-01', '2099-12-31') AS b \gset
SELECT th.refuses(format($$SELECT leasemgr.amendment_open(%s, '{"rent": 5}', 'x')$$, :b),
  'LM020', 'amendment of contract AB: unknown change rent',
  'An amendment changes end_date, free_rent, unit_areas, add_units, remove_units, charge_rates, charge_cycles; nothing else.',
  'Check the spelling; docs/amendments.md lists every change and its fields.',
  'an unknown key is refused');
SELECT th.refuses(format($$SELECT leasemgr.amendment_open(%s, '{}', 'x')$$, :b),
  'LM020', 'amendment of contract AB changes nothing', 'changes is {}.',
  'Give a JSON object with one or more of end_date, free_rent, unit_areas, add_units, remove_units, charge_rates, charge_cycles (docs/amendments.md).',
  'an empty change is refused');
SELECT th.refuses(format($$SELECT leasemgr.amendment_open(%s, '{"end_date": "2099-02-30"}', 'x')$$, :b),
  'LM020', 'amendment: end_date must be a date', '"2099-02-30" is not a date.', 'Write dates as "YYYY-MM-DD" strings.',
  'an impossible date is refused');
SELECT th.refuses(format($$SELECT leasemgr.amendment_open(%s, '{"end_date": "2025-03-31"}', 'x')$$, :b),
  'LM020', 'amendment of contract AB: the lease cannot end on 2025-03-31',
  format('The lease started on 2025-01-01; today is %s. An amendment moves the end to today or later.', leasemgr.business_date()),
  'To end a lease early, terminate it: leasemgr.contract_transition(id, ''terminate'', note, last_day).',
  'shortening into the past is refused: that is a termination');
SELECT is((th.error_of(format($$SELECT leasemgr.amendment_open(%s, '{"free_rent": [{"from": "2025-03-01", "to": "2025-02-01"}]}', 'x')$$, :b))).code,
  'LM020', 'free rent ending before it starts is refused');
SELECT is((th.error_of(format($$SELECT leasemgr.amendment_open(%s, '{"free_rent": [{"from": "2025-03-01", "to": "2025-03-31", "kinds": ["beer"]}]}', 'x')$$, :b))).message,
  'amendment of contract AB: free rent kinds must be charge kinds', 'free rent for a kind that does not exist is refused');
SELECT is((th.error_of(format($$SELECT leasemgr.amendment_open(%s, '{"free_rent": [{"from": "2025-03-01", "to": "2025-03-31", "days": 3}]}', 'x')$$, :b))).message,
  'amendment: unknown field days in free_rent', 'an unknown field of an entry is refused');
SELECT is((th.error_of(format($$SELECT leasemgr.amendment_open(%s, '{"unit_areas": [{"unit_id": %s, "billable_area_m2": -5, "from": "2025-03-01"}]}', 'x')$$,
                              :b, (SELECT unit_id FROM leasemgr.contract_unit WHERE contract_id = :b)))).message,
  'amendment: unit_areas.billable_area_m2 must be positive with at most 2 decimals', 'a negative area is refused');
SELECT is((th.error_of(format($$SELECT leasemgr.amendment_open(%s, '{"unit_areas": [{"unit_id": %s, "billable_area_m2": 50, "from": "2025-03-01"}]}', 'x')$$,
                              :b, (SELECT unit_id FROM leasemgr.contract_unit WHERE contract_id = :f)))).message,
  format('amendment of contract AB: unit %s is not leased by it', (SELECT unit_id FROM leasemgr.contract_unit WHERE contract_id = :f)),
  'a unit of another contract is refused');
SELECT is((th.error_of(format($$SELECT leasemgr.amendment_open(%s, '{"charge_rates": [{"charge_id": %s, "rate": 90, "from": "2025-03-01"}]}', 'x')$$,
                              :b, (SELECT id FROM leasemgr.charge WHERE contract_id = :f)))).message,
  format('amendment of contract AB: charge %s is not one of its charges', (SELECT id FROM leasemgr.charge WHERE contract_id = :f)),
  'a charge of another contract is refused');
SELECT is((th.error_of(format($$SELECT leasemgr.amendment_open(%s, '{"charge_rates": [{"charge_id": %s, "rate": 90.12345, "from": "2025-03-01"}]}', 'x')$$,
                              :b, (SELECT id FROM leasemgr.charge WHERE contract_id = :b)))).code,
  'LM020', 'a rate with 5 decimals is refused');
SELECT is((th.error_of(format($$SELECT leasemgr.amendment_open(%s, '{"end_date": "2100-01-31"}', '  ')$$, :b))).code,
  'LM020', 'an amendment without a reason is refused');
SELECT is((SELECT count(*)::int FROM leasemgr.amendment WHERE contract_id = :b), 0, 'none of them opened anything');
SELECT is((SELECT state FROM leasemgr.contract WHERE id = :b), 'active', 'and the contract was never frozen');
SELECT is((th.error_of(format($$SELECT leasemgr.amendment_open(%s, '{"end_date": "2100-01-31"}', 'x')$$,
                              th.contract_in(pg_temp.park_of(:b), 'signed')))).code,
  'LM001', 'a contract not yet active is not amended (it is rejected back to draft or cancelled)');
SELECT is((th.error_of(format($$UPDATE leasemgr.contract SET state = 'amending' WHERE id = %s$$, :b))).code, 'LM002',
  'a contract cannot be frozen by UPDATE without an open amendment');
-- An extension into the next lease of the unit is refused with the facts.
SELECT th.draft(pg_temp.park_of(:b), 'AB-NEXT', ARRAY[(SELECT unit_id FROM leasemgr.contract_unit WHERE contract_id = :b)],
                '2100-01-01', '2100-12-31') AS bn \gset
SELECT th.walk(:bn, 'signed');
SELECT th.refuses(format($$SELECT leasemgr.amendment_open(%s, '{"end_date": "2100-06-30"}', 'x')$$, :b),
  'LM006', 'amendment of contract AB: unit AB-101 is not free until 2100-06-30',
  'Contract AB-NEXT holds unit AB-101 from 2100-01-01 to 2100-12-31.',
  'Extend the lease to the day before the other lease starts at the latest.',
  'an extension into another lease of the unit is refused');

-- ---- area reduction from mid-period ------------------------------------------------------------

SELECT pg_temp.lease('AA', '2025-01-01', '2099-12-31') AS a \gset
SELECT leasemgr.bill_run('2025-06-01', pg_temp.park_of(:a));
SELECT pg_temp.as('alice');
SELECT leasemgr.amendment_open(:a, format('{"unit_areas": [{"unit_id": %s, "billable_area_m2": 60, "from": "2025-05-16"}]}',
                                          (SELECT unit_id FROM leasemgr.contract_unit WHERE contract_id = :a))::jsonb,
                               'SA-4: 40 m2 handed back on 2025-05-16') AS aa \gset
SELECT results_eq(format('SELECT field, from_date, before, after FROM leasemgr.amendment_diff(%s)', :aa),
  $$VALUES ('unit AA-101 billable_area_m2', '2025-05-16'::date, '100.00', '60.00')$$,
  'the diff shows the area before and after, from its day');
SELECT pg_temp.as('bob');
SELECT leasemgr.amendment_approve(:aa);
SELECT results_eq(format('SELECT valid_from, valid_to, area_m2, continues_charge_id IS NOT NULL FROM leasemgr.charge WHERE contract_id = %s ORDER BY id', :a),
  $$VALUES ('2025-01-01'::date, '2025-05-15'::date, 100.00, false), ('2025-05-16', '2099-12-31', 60.00, true)$$,
  'the rent is cut at 2025-05-16: the days before keep 100 m2, the continuation is charged on 60 m2');
SELECT leasemgr.bill_run('2025-06-01', pg_temp.park_of(:a));
-- Re-billed: May at 100 m2 is now 05-01..05-15 only: 100 x 80 x 15/31 = 3,870.97 (120,000/31 =
-- 3,870.967...), billed 8,000.00: -4,129.03. June at 100 m2 is no longer charged: -8,000.00.
SELECT results_eq(format('SELECT period_start, period_end, amount FROM pg_temp.adjustments(%s)', :a),
  $$VALUES ('2025-05-01'::date, '2025-05-15'::date, -4129.03), ('2025-06-01', '2025-06-30', -8000.00)$$,
  'the days at the old area are credited: -4,129.03 for May, -8,000.00 for June');
-- The continuation bills 60 m2: May 16..31 = 60 x 80 x 16/31 = 2,477.42 (76,800/31 =
-- 2,477.419...), June 60 x 80 = 4,800.00.
SELECT results_eq(format($$SELECT l.period_start, l.period_end, l.amount FROM leasemgr.bill_line l JOIN leasemgr.charge ch ON ch.id = l.charge_id
                          WHERE l.contract_id = %s AND l.line_type = 'charge' AND ch.continues_charge_id IS NOT NULL ORDER BY l.period_start$$, :a),
  $$VALUES ('2025-05-16'::date, '2025-05-31'::date, 2477.42), ('2025-06-01', '2025-06-30', 4800.00)$$,
  'the new area is billed from its day: 2,477.42 for May 16..31, 4,800.00 for June');
-- January..June: 4 x 8,000.00 + 3,870.97 + 2,477.42 + 4,800.00 = 43,148.39
SELECT is(pg_temp.billed(:a), 43148.39, 'January..June now total 4 x 8,000 + 3,870.97 + 2,477.42 + 4,800 = 43,148.39');
SELECT is((SELECT billable_area_m2 FROM leasemgr.contract_unit WHERE contract_id = :a), 60.00, 'the unit''s area is 60 m2 now');
SELECT results_eq(format($$SELECT billable_area_m2, monthly_rent FROM leasemgr.rent_roll_as_of('2025-04-30') WHERE contract_id = %s$$, :a),
  $$VALUES (100.00, 8000.00)$$, 'the rent roll of an earlier day shows the terms in force then: 100 m2, 8,000.00');
SELECT results_eq(format($$SELECT billable_area_m2, monthly_rent FROM leasemgr.rent_roll_as_of('2025-06-30') WHERE contract_id = %s$$, :a),
  $$VALUES (60.00, 4800.00)$$, 'and after the change: 60 m2, 4,800.00');

-- ---- a charge's rate from a date ---------------------------------------------------------------

SELECT pg_temp.lease('AR', '2025-01-01', '2099-12-31') AS r \gset
SELECT id AS r_charge FROM leasemgr.charge WHERE contract_id = :r \gset
SELECT leasemgr.bill_run('2025-06-01', pg_temp.park_of(:r));
SELECT pg_temp.as('alice');
SELECT leasemgr.amendment_open(:r, format('{"charge_rates": [{"charge_id": %s, "rate": 70, "from": "2025-04-01"}]}', :r_charge)::jsonb,
                               'SA-5: rent cut to 70 from April') AS ra \gset
SELECT results_eq(format('SELECT field, from_date, before, after FROM leasemgr.amendment_diff(%s)', :ra),
  format($$VALUES ('charge %s (rent) rate', '2025-04-01'::date, '80.0000', '70.0000')$$, :r_charge),
  'the diff shows the rate before and after');
SELECT pg_temp.as('bob');
SELECT leasemgr.amendment_approve(:ra);
SELECT leasemgr.bill_run('2025-06-01', pg_temp.park_of(:r));
-- April..June at 80 are credited (3 x -8,000.00) and billed again at 70 (3 x 7,000.00):
-- -24,000.00 + 21,000.00 = -3,000.00, i.e. 3 x (70 - 80) x 100 m2.
SELECT is((SELECT sum(amount) FROM pg_temp.adjustments(:r)), -24000.00, 'the months at the old rate are credited: 3 x -8,000.00');
SELECT is((SELECT sum(l.amount) FROM leasemgr.bill_line l JOIN leasemgr.charge ch ON ch.id = l.charge_id
            WHERE l.contract_id = :r AND ch.continues_charge_id = :r_charge), 21000.00,
  'and billed at the new rate: 3 x 7,000.00');
SELECT is(pg_temp.billed(:r), 45000.00, 'January..June: 3 x 8,000 + 3 x 7,000 = 45,000.00');
SELECT results_eq(format($$SELECT rent_per_m2 FROM leasemgr.rent_roll_as_of('2025-03-31') WHERE contract_id = %s
                          UNION ALL SELECT rent_per_m2 FROM leasemgr.rent_roll_as_of('2025-04-01') WHERE contract_id = %s$$, :r, :r),
  $$VALUES (80.00), (70.00)$$, 'the rent roll shows 80 before April and 70 from April');
-- Once a rebill has paid, a credit beyond what is still open goes on a new bill.
SELECT leasemgr.record_payment(:r, pg_temp.billed(:r), leasemgr.business_date(), 'bank_transfer', 'AR-P1');
SELECT pg_temp.as('alice');
SELECT leasemgr.amendment_open(:r, '{"free_rent": [{"from": "2025-06-01", "to": "2025-06-30"}]}', 'SA-6: June free') AS ra2 \gset
SELECT pg_temp.as('bob');
SELECT leasemgr.amendment_approve(:ra2);
SELECT pg_temp.as('th.finance');
SELECT is(leasemgr.rebill(:r), 1, 'one line: June at 70 is now free');
-- June was billed 7,000.00 and is paid: the credit -7,000.00 goes on a new bill
SELECT is((SELECT (b.amount, b.paid, b.period)::text FROM leasemgr.bill b
            WHERE b.contract_id = :r ORDER BY b.id DESC LIMIT 1),
  format('(-7000.00,0.00,%s)', date_trunc('month', leasemgr.business_date())::date),
  'a paid bill takes no credit: -7,000.00 stands on a new bill of this month, as the tenant''s credit');

-- ---- end date: extension of a billed part month, shortening of billed months --------------------

SELECT pg_temp.lease('AE', '2025-01-01', '2025-06-15') AS e \gset
SELECT leasemgr.bill_run('2025-06-01', pg_temp.park_of(:e));
SELECT pg_temp.as('alice');
SELECT leasemgr.amendment_open(:e, '{"end_date": "2099-12-31"}', 'SA-7: extended') AS ea \gset
SELECT pg_temp.as('bob');
SELECT leasemgr.amendment_approve(:ea);
SELECT is((SELECT (end_date, (SELECT valid_to FROM leasemgr.charge WHERE contract_id = :e))::text FROM leasemgr.contract WHERE id = :e),
  '(2099-12-31,2099-12-31)', 'the lease and the charge that ran to its end now end on 2099-12-31');
SELECT leasemgr.bill_run('2025-06-01', pg_temp.park_of(:e));
-- June was billed for 06-01..06-15: 100 x 80 x 15/30 = 4,000.00; it is now a full month,
-- 8,000.00: +4,000.00, a debit on a new bill.
SELECT results_eq(format('SELECT period_start, period_end, amount FROM pg_temp.adjustments(%s)', :e),
  $$VALUES ('2025-06-01'::date, '2025-06-30'::date, 4000.00)$$, 'the billed part of June becomes a full month: +4,000.00');
SELECT is((SELECT count(DISTINCT bill_id)::int FROM leasemgr.bill_line WHERE contract_id = :e AND line_type = 'adjustment'
             AND bill_id <> (SELECT min(id) FROM leasemgr.bill WHERE contract_id = :e)), 1, 'a debit goes on a new bill');

SELECT pg_temp.lease('AS', '2025-01-01', '2099-12-31') AS s \gset
SELECT leasemgr.bill_run((date_trunc('month', leasemgr.business_date()) + interval '1 month')::date, pg_temp.park_of(:s));
SELECT pg_temp.as('alice');
SELECT leasemgr.amendment_open(:s, format('{"end_date": "%s"}', (date_trunc('month', leasemgr.business_date()) + interval '1 month - 1 day')::date)::jsonb,
                               'SA-8: ends this month') AS sa \gset
SELECT pg_temp.as('bob');
SELECT leasemgr.amendment_approve(:sa);
SELECT is(leasemgr.rebill(:s), 1, 'one line to re-bill');
-- Next month was billed 8,000.00 in advance and is no longer in the lease: -8,000.00.
SELECT results_eq(format('SELECT period_start, amount FROM pg_temp.adjustments(%s)', :s),
  format($$VALUES ('%s'::date, -8000.00)$$, (date_trunc('month', leasemgr.business_date()) + interval '1 month')::date),
  'a month billed in advance beyond the new end is credited: -8,000.00');

-- ---- cycle from a month not billed yet ---------------------------------------------------------

SELECT pg_temp.lease('AC', '2025-01-01', '2099-12-31') AS cy \gset
SELECT id AS cy_charge FROM leasemgr.charge WHERE contract_id = :cy \gset
SELECT leasemgr.bill_run('2025-06-01', pg_temp.park_of(:cy));
SELECT is((th.error_of(format($$SELECT leasemgr.amendment_open(%s, '{"charge_cycles": [{"charge_id": %s, "cycle_months": 3, "from": "2025-06-01"}]}', 'x')$$, :cy, :cy_charge))).message,
  format('amendment of contract AC: the cycle of charge %s can change only from the first day of a month not billed yet', :cy_charge),
  'a cycle change over billed months is refused');
SELECT pg_temp.as('alice');
SELECT leasemgr.amendment_open(:cy, format('{"charge_cycles": [{"charge_id": %s, "cycle_months": 3, "billed": "advance", "from": "2025-07-01"}]}', :cy_charge)::jsonb,
                               'SA-9: quarterly from July') AS cya \gset
SELECT pg_temp.as('bob');
SELECT leasemgr.amendment_approve(:cya);
-- July..September in advance, one line: 3 x 8,000.00 = 24,000.00
SELECT leasemgr.bill_run('2025-07-01', pg_temp.park_of(:cy));
SELECT results_eq(format($$SELECT period_start, period_end, amount FROM leasemgr.bill_line WHERE contract_id = %s AND period_start >= '2025-07-01'$$, :cy),
  $$VALUES ('2025-07-01'::date, '2025-09-30'::date, 24000.00)$$, 'from July the rent is billed quarterly: 24,000.00 for July..September');
SELECT is((SELECT count(*)::int FROM pg_temp.adjustments(:cy)), 0, 'nothing billed was touched: no adjustment');

-- ---- two amendments: versions in order ---------------------------------------------------------

SELECT pg_temp.as('alice');
SELECT leasemgr.amendment_open(:cy, '{"end_date": "2100-06-30"}', 'SA-10') AS cyb \gset
SELECT pg_temp.as('bob');
SELECT is(leasemgr.amendment_approve(:cyb), 2, 'a second amendment keeps the terms it replaced as version 2');
SELECT results_eq(format($$SELECT version, terms ->> 'end_date', jsonb_array_length(terms -> 'charges') FROM leasemgr.contract_version
                          WHERE contract_id = %s ORDER BY version$$, :cy),
  $$VALUES (1, '2099-12-31', 1), (2, '2099-12-31', 2)$$, 'version 1 as signed, version 2 with the quarterly continuation');
SELECT is((th.error_of(format('UPDATE leasemgr.contract_version SET terms = %L WHERE contract_id = %s', '{}', :cy))).code,
  'LM010', 'versions are never rewritten');
SELECT is((th.error_of(format('SELECT leasemgr.amendment_approve(%s)', :cyb))).code, 'LM005', 'a decided amendment is not approved again');
SELECT is((th.error_of(format('SELECT leasemgr.amendment_withdraw(%s)', :cyb))).code, 'LM005', 'nor withdrawn');

-- ---- re-billing leaves finance's own corrections and void bills alone ---------------------------

SELECT pg_temp.lease('AM', '2025-01-01', '2099-12-31') AS m \gset
SELECT leasemgr.bill_run('2025-05-01', pg_temp.park_of(:m));
SELECT leasemgr.bill_run('2025-06-01', pg_temp.park_of(:m));
-- a goodwill credit of 1,000.00 on April, by hand; June's bill voided ("waived")
INSERT INTO leasemgr.bill_line (park_id, bill_id, contract_id, charge_id, kind, period_start, period_end, amount, explain, line_type)
SELECT b.park_id, b.id, b.contract_id, (SELECT id FROM leasemgr.charge WHERE contract_id = :m), 'rent', '2025-04-01', '2025-04-30',
       -1000.00, 'goodwill: lift out of service 10 days', 'adjustment'
  FROM leasemgr.bill b WHERE b.contract_id = :m AND b.period = date_trunc('month', leasemgr.business_date());
UPDATE leasemgr.bill SET voided_at = now(), void_reason = 'waived by the park manager'
 WHERE contract_id = :m AND id = (SELECT max(id) FROM leasemgr.bill WHERE contract_id = :m);
SELECT pg_temp.as('alice');
SELECT leasemgr.amendment_open(:m, '{"free_rent": [{"from": "2025-04-16", "to": "2025-06-15"}]}', 'SA-11') AS ma \gset
SELECT pg_temp.as('bob');
SELECT leasemgr.amendment_approve(:ma);
SELECT pg_temp.as('th.finance');
-- April now 100 x 80 x 15/30 = 4,000.00: -4,000.00 (the goodwill -1,000.00 stays as it was);
-- May free: -8,000.00; June, billed on a void bill, is left to finance.
SELECT is(leasemgr.rebill(:m), 2, 'two lines: April and May');
SELECT results_eq(format('SELECT period_start, amount FROM leasemgr.bill_line WHERE contract_id = %s AND amendment_id IS NOT NULL ORDER BY id', :m),
  $$VALUES ('2025-04-01'::date, -4000.00), ('2025-05-01', -8000.00)$$,
  'a correction made by hand is not undone, and a period on a void bill is not charged again');
SELECT is((th.error_of(format($$INSERT INTO leasemgr.bill_line (park_id, bill_id, contract_id, charge_id, kind, period_start, period_end, amount, explain, line_type, amendment_id)
                               SELECT park_id, id, contract_id, (SELECT id FROM leasemgr.charge WHERE contract_id = %s), 'rent', '2025-01-01', '2025-01-31', -1, 'x', 'adjustment', %s
                                 FROM leasemgr.bill WHERE contract_id = %s LIMIT 1$$, :m, :ma, :m))).code,
  'LM010', 're-bill lines are written by rebill only');

-- ---- areas of two units from two days; a change that overrides a later one -----------------------

SELECT th.park('A2') AS p2 \gset
SELECT th.unit(:p2, 'A2-1', 100) AS u1 \gset
SELECT th.unit(:p2, 'A2-2', 50) AS u2 \gset
SELECT th.draft(:p2, 'A2', ARRAY[:u1, :u2]::bigint[], '2025-01-01', '2099-12-31') AS t \gset
SELECT th.walk(:t, 'active');
SELECT leasemgr.bill_run('2025-06-01', :p2);
SELECT pg_temp.as('alice');
SELECT leasemgr.amendment_open(:t, format('{"unit_areas": [{"unit_id": %s, "billable_area_m2": 60, "from": "2025-09-01"}]}', :u1)::jsonb, 'SA-12') AS ta \gset
SELECT pg_temp.as('bob');
SELECT leasemgr.amendment_approve(:ta);
SELECT pg_temp.as('alice');
SELECT leasemgr.amendment_open(:t, format('{"unit_areas": [{"unit_id": %s, "billable_area_m2": 40, "from": "2025-03-01"}]}', :u2)::jsonb, 'SA-13') AS tb \gset
SELECT pg_temp.as('bob');
SELECT leasemgr.amendment_approve(:tb);
SELECT results_eq(format('SELECT valid_from, valid_to, area_m2 FROM leasemgr.charge WHERE contract_id = %s ORDER BY valid_from', :t),
  $$VALUES ('2025-01-01'::date, '2025-02-28'::date, 150.00), ('2025-03-01', '2025-08-31', 140.00), ('2025-09-01', '2099-12-31', 100.00)$$,
  'each part of the rent is charged on the area of its days: 150, then 140 m2, then 100 m2 (the earlier change does not undo the later)');
SELECT leasemgr.bill_run('2025-06-01', :p2);
-- January, February 150 x 80 = 12,000.00; March..June 140 x 80 = 11,200.00: 24,000 + 44,800 = 68,800.00
SELECT is(pg_temp.billed(:t), 68800.00, 'January..June: 2 x 12,000.00 + 4 x 11,200.00 = 68,800.00');
SELECT pg_temp.as('alice');
SELECT leasemgr.amendment_open(:t, format('{"unit_areas": [{"unit_id": %s, "billable_area_m2": 30, "from": "2025-07-01"}]}', :u1)::jsonb, 'SA-14') AS tc \gset
SELECT pg_temp.as('bob');
SELECT leasemgr.amendment_approve(:tc);
SELECT results_eq(format($$SELECT leasemgr.contract_area_on(%s, d) FROM unnest('{2025-06-30,2025-07-01,2025-10-01}'::date[]) d$$, :t),
  $$VALUES (140.00), (70.00), (70.00)$$,
  'a change from an earlier day overrides the later one: 100 m2 until June, 30 from July (with the other unit''s 40)');
SELECT is((SELECT superseded_by FROM leasemgr.unit_area_change WHERE amendment_id = :ta), :tc::bigint, 'the overridden change says so');

-- ---- an escalating rent cut from a day: the new rate is the one in force ----------------------------

SELECT th.park('AX') AS px \gset
SELECT th.draft(:px, 'AX', ARRAY[th.unit(:px, 'AX-1', 100)], '2025-01-01', '2099-12-31') AS x \gset
UPDATE leasemgr.charge SET escalation = 'pct', escalate_every_months = 12, escalation_pct = 5 WHERE contract_id = :x;
SELECT th.walk(:x, 'active');
SELECT id AS x_charge FROM leasemgr.charge WHERE contract_id = :x \gset
SELECT leasemgr.bill_run('2026-03-01', :px);
SELECT pg_temp.as('alice');
SELECT leasemgr.amendment_open(:x, format('{"charge_rates": [{"charge_id": %s, "rate": 70, "from": "2026-02-01"}]}', :x_charge)::jsonb, 'SA-15') AS xa \gset
SELECT is((SELECT before FROM leasemgr.amendment_diff(:xa)), '80.0000 (84.0000 in force after 1 escalation steps)',
  'the diff shows the rate in force that day, escalation included');
SELECT pg_temp.as('bob');
SELECT leasemgr.amendment_approve(:xa);
SELECT is((SELECT escalation_anchor FROM leasemgr.charge WHERE continues_charge_id = :x_charge), '2026-01-01'::date,
  'the continuation''s steps count from the last step before the change: the same anniversaries');
SELECT leasemgr.bill_run('2026-03-01', :px);
-- February and March at 84 (80 x 1.05) are credited, 2 x -8,400.00, and billed at 70: 2 x 7,000.00
SELECT is((SELECT sum(amount) FROM pg_temp.adjustments(:x)), -16800.00, 'the months at 84 are credited: 2 x -8,400.00');
SELECT results_eq(format($$SELECT amount FROM leasemgr.compute_charges(%s, '2026-02-01', '2027-01-31') c
                          JOIN leasemgr.charge ch ON ch.id = c.charge_id WHERE ch.continues_charge_id = %s AND c.period_start IN ('2026-02-01', '2027-01-01')
                          ORDER BY c.period_start$$, :x, :x_charge),
  $$VALUES (7000.00), (7350.00)$$, 'billed at 70 from February, then 70 x 1.05 = 73.50 on the next anniversary: 7,350.00');

-- ---- marks and links only the approval and rebill write ---------------------------------------------

SELECT pg_temp.lease('AZ', '2025-01-01', '2099-12-31') AS z \gset
SELECT leasemgr.bill_run('2025-03-01', pg_temp.park_of(:z));
SELECT pg_temp.as('alice');
SELECT leasemgr.amendment_open(:z, '{"free_rent": [{"from": "2025-03-01", "to": "2025-03-31"}]}', 'SA-16') AS za \gset
SELECT pg_temp.as('bob');
SELECT leasemgr.amendment_approve(:za);
SELECT is((th.error_of(format('UPDATE leasemgr.amendment SET rebilled_at = now() WHERE id = %s', :za))).code, 'LM002',
  'an amendment cannot be marked re-billed while its adjustments are still to issue');
SELECT is((th.error_of(format('UPDATE leasemgr.charge SET continues_charge_id = %s WHERE contract_id = %s',
                              :x_charge, th.draft(pg_temp.park_of(:z), 'AZ-D', ARRAY[th.unit(pg_temp.park_of(:z), 'AZ-D1')], '2025-01-01', '2025-12-31')))).code,
  'LM004', 'a continuation cannot be forged, not even on a draft');

SELECT * FROM finish();
ROLLBACK;
