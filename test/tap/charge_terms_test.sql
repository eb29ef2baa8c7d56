-- Charges and free-rent periods are contract terms: a contract is submitted only with a
-- charge, and from submission on its charges and free rent are locked like its other terms.
-- Their rows take the park and (charges) the dates of the contract, stay within its lease
-- (also when a draft's lease changes afterwards), and bill something that can be computed:
-- a positive rate, a supported cycle, a CPI base month whose index is known. Turnover
-- reports follow the lease but are not terms.
BEGIN;
SELECT plan(112);

SELECT th.park('CT') AS park \gset
SELECT th.park('CT2') AS park2 \gset

-- A lease from the middle of a month, so default dates and CPI months are visible.
SELECT th.draft(:park, 'CT-TERMS', ARRAY[th.unit(:park, 'CT-U1', 120)], '2024-03-15', '2025-03-14') AS terms \gset

-- Submitting needs a charge; free rent alone charges nothing.
SELECT th.draft(:park, 'CT-BARE', ARRAY[th.unit(:park, 'CT-U2')], '2024-01-01', '2024-12-31', p_charge => false) AS bare \gset
INSERT INTO leasemgr.free_rent_period (contract_id, days) VALUES (:bare, '[2024-01-01,2024-02-01)');
SELECT th.refuses(format($$SELECT leasemgr.contract_transition(%s, 'submit')$$, :bare),
  'LM002', 'contract CT-BARE cannot be submitted without a charge',
  'Nothing would ever be billed: leasemgr.charge has no row for this contract.',
  'Add the rent and fees with INSERT INTO leasemgr.charge (contract_id, kind, basis, rate) while the contract is a draft.',
  'submit without a charge is refused, even with a free-rent period');
SELECT is((SELECT state FROM leasemgr.contract WHERE id = :bare), 'draft', '... and the contract stays a draft');
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate) VALUES (:bare, 'rent', 'per_m2_month', 80);
SELECT is(th.fire(:bare, 'submit'), 'pending_approval', 'with a charge it is submitted');

-- Locked from submission in every state: LM004, and LM005 once closed or cancelled.
CREATE FUNCTION pg_temp.terms_locked(park bigint) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  st text;
  c bigint;
  want text;
  stmts text[][] := ARRAY[
    ['INSERT INTO leasemgr.charge (contract_id, kind, basis, rate) VALUES (%s, ''service'', ''fixed_month'', 100)', 'a charge cannot be added'],
    ['UPDATE leasemgr.charge SET rate = rate + 1 WHERE contract_id = %s', 'a charge cannot change'],
    ['DELETE FROM leasemgr.charge WHERE contract_id = %s', 'a charge cannot be removed'],
    ['INSERT INTO leasemgr.free_rent_period (contract_id, days) VALUES (%s, ''[2024-03-01,2024-04-01)'')', 'free rent cannot be added'],
    ['UPDATE leasemgr.free_rent_period SET kinds = ''{rent,property_fee}'' WHERE contract_id = %s', 'free rent cannot change'],
    ['DELETE FROM leasemgr.free_rent_period WHERE contract_id = %s', 'free rent cannot be removed']];
  i int;
BEGIN
  FOREACH st IN ARRAY '{pending_approval,approved,signed,active,expired,terminated,moving_out,closed,cancelled}'::text[] LOOP
    c := th.draft(park, 'CT-L-' || st, ARRAY[th.unit(park, 'CT-L-' || st)], '2024-01-01', '2024-12-31');
    INSERT INTO leasemgr.free_rent_period (contract_id, days) VALUES (c, '[2024-01-01,2024-02-01)');
    PERFORM th.walk(c, st);
    want := CASE WHEN st IN ('closed', 'cancelled') THEN 'LM005' ELSE 'LM004' END;
    FOR i IN 1 .. array_length(stmts, 1) LOOP
      RETURN NEXT throws_ok(format(stmts[i][1], c), want, NULL, format('%s: %s (%s)', st, stmts[i][2], want));
    END LOOP;
  END LOOP;
END
$$;
SELECT * FROM pg_temp.terms_locked(:park);
SELECT results_eq(
  $$SELECT count(*), count(*) FILTER (WHERE ch.rate = 80 AND ch.kind = 'rent'), count(f.id)
      FROM leasemgr.contract c JOIN leasemgr.charge ch ON ch.contract_id = c.id
      LEFT JOIN leasemgr.free_rent_period f ON f.contract_id = c.id AND f.kinds = '{rent}'
     WHERE c.code LIKE 'CT-L-%'$$,
  $$VALUES (9::bigint, 9::bigint, 9::bigint)$$,
  '... and every refused change left the charges and free rent as they were');

SELECT id AS active FROM leasemgr.contract WHERE code = 'CT-L-active' \gset
SELECT id AS pending FROM leasemgr.contract WHERE code = 'CT-L-pending_approval' \gset
SELECT id AS closed FROM leasemgr.contract WHERE code = 'CT-L-closed' \gset
SELECT th.refuses(format($$INSERT INTO leasemgr.charge (contract_id, kind, basis, rate)
                          VALUES (%s, 'parking', 'fixed_month', 300)$$, :active),
  'LM004', 'the charges of contract CT-L-active are locked',
  'Contract CT-L-active is active; charges change only while the contract is a draft (cannot add a charge).',
  'Change a live contract through an amendment (leasemgr.amendment_open); a contract under review can be rejected back to draft first.',
  'the refusal names the contract, its state and what was tried, and points to an amendment');
SELECT th.refuses(format($$DELETE FROM leasemgr.free_rent_period WHERE contract_id = %s$$, :pending),
  'LM004', 'the free-rent periods of contract CT-L-pending_approval are locked',
  'Contract CT-L-pending_approval is pending_approval; free-rent periods change only while the contract is a draft (cannot remove a free-rent period).',
  'Change a live contract through an amendment (leasemgr.amendment_open); a contract under review can be rejected back to draft first.',
  'free rent under review is locked, with its own words');
SELECT th.refuses(format($$UPDATE leasemgr.charge SET rate = 1 WHERE contract_id = %s$$, :closed),
  'LM005', 'contract CT-L-closed is closed and can no longer change', 'Cannot change a charge.',
  'Closed and cancelled contracts are kept exactly as they ended.',
  'a closed contract''s charges are read-only');

-- In draft the terms are editable, and again after a reject.
SELECT lives_ok(format('UPDATE leasemgr.charge SET rate = 85 WHERE contract_id = %s', :terms), 'a draft''s rate can change');
SELECT th.fire(:pending, 'reject', 'th.approver');
SELECT lives_ok(format('UPDATE leasemgr.charge SET rate = 70 WHERE contract_id = %s', :pending),
  'after reject the charges can change again');
SELECT lives_ok(format('DELETE FROM leasemgr.free_rent_period WHERE contract_id = %s', :pending),
  '... and so can the free rent');
SELECT th.draft(:park, 'CT-GONE', '{}', '2024-01-01', '2024-12-31') AS gone \gset
INSERT INTO leasemgr.free_rent_period (contract_id, days) VALUES (:gone, '[2024-01-01,2024-01-10)');
DELETE FROM leasemgr.contract WHERE id = :gone;
SELECT results_eq(format($$SELECT (SELECT count(*) FROM leasemgr.charge WHERE contract_id = %s),
                                  (SELECT count(*) FROM leasemgr.free_rent_period WHERE contract_id = %s)$$, :gone, :gone),
  $$VALUES (0::bigint, 0::bigint)$$, 'deleting a draft removes its charges and free rent');

-- The park is the contract's: taken from it when left empty, refused when it differs.
INSERT INTO leasemgr.free_rent_period (contract_id, days) VALUES (:terms, '[2024-03-15,2024-04-15)');
INSERT INTO leasemgr.turnover_report (contract_id, month, sales) VALUES (:terms, '2024-04-01', 180000);
SELECT results_eq(
  format($$SELECT t, park_id FROM (SELECT 'charge' AS t, park_id FROM leasemgr.charge WHERE contract_id = %1$s
                                    UNION ALL SELECT 'free rent', park_id FROM leasemgr.free_rent_period WHERE contract_id = %1$s
                                    UNION ALL SELECT 'turnover', park_id FROM leasemgr.turnover_report WHERE contract_id = %1$s) s
           ORDER BY t$$, :terms),
  format($$VALUES ('charge', %1$s::bigint), ('free rent', %1$s::bigint), ('turnover', %1$s::bigint)$$, :park),
  'charges, free rent and turnover reports take park_id from the contract');
SELECT th.refuses(format($$INSERT INTO leasemgr.charge (contract_id, park_id, kind, basis, rate)
                          VALUES (%s, %s, 'rent', 'per_m2_month', 80)$$, :terms, :park2),
  'LM007', format('park_id %s does not match the park of contract CT-TERMS', :park2),
  format('Contract CT-TERMS belongs to park %s.', :park), 'Leave park_id empty: it is taken from the contract.',
  'a charge naming another park is refused');
SELECT throws_ok(format($$INSERT INTO leasemgr.free_rent_period (contract_id, park_id, days) VALUES (%s, %s, '[2024-05-01,2024-05-10)')$$,
                        :terms, :park2), 'LM007', NULL, 'so is a free-rent period');
SELECT throws_ok(format($$INSERT INTO leasemgr.turnover_report (contract_id, park_id, month, sales) VALUES (%s, %s, '2024-05-01', 1)$$,
                        :terms, :park2), 'LM007', NULL, 'and a turnover report');
SELECT throws_ok(format('UPDATE leasemgr.charge SET park_id = %s WHERE contract_id = %s', :park2, :terms), 'LM007', NULL,
  'a charge cannot be moved to another park');
SELECT th.draft(:park, 'CT-OTHER', '{}', '2024-03-15', '2025-03-14') AS other \gset
SELECT throws_ok(format('UPDATE leasemgr.charge SET contract_id = %s WHERE contract_id = %s', :other, :terms), 'LM004',
  'a row of leasemgr.charge cannot move to another contract or id', 'a charge cannot move to another contract');
SELECT throws_ok($$INSERT INTO leasemgr.charge (contract_id, kind, basis, rate) VALUES (NULL, 'rent', 'per_m2_month', 80)$$,
  'LM011', 'a row of leasemgr.charge needs a contract_id', 'a charge names its contract');
SELECT th.draft(:park2, 'CT-FAR', '{}', '2024-01-01', '2024-12-31') AS far \gset
CREATE ROLE lm_t_ct_op IN ROLE leasemgr_operator;
SELECT leasemgr.grant_park('lm_t_ct_op', :park);
SET ROLE lm_t_ct_op;
SELECT lives_ok(format($$INSERT INTO leasemgr.charge (contract_id, kind, basis, rate) VALUES (%s, 'service', 'fixed_month', 200)$$, :other),
  'an operator adds a charge to a draft of its park');
SELECT throws_ok(format($$INSERT INTO leasemgr.charge (contract_id, kind, basis, rate) VALUES (%s, 'service', 'fixed_month', 200)$$, :far),
  'LM009', format('contract %s does not exist', :far), '... but another park''s contract does not exist for it');
RESET ROLE;

-- Dates: the lease's by default, within the lease always.
SELECT results_eq(format('SELECT valid_from, valid_to FROM leasemgr.charge WHERE contract_id = %s', :terms),
  $$VALUES ('2024-03-15'::date, '2025-03-14'::date)$$, 'valid_from and valid_to default to the lease''s start and end');
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, valid_from)
VALUES (:terms, 'ac', 'per_m2_month', 3.5, '2024-06-01') RETURNING id AS ac \gset
SELECT results_eq(format('SELECT valid_from, valid_to FROM leasemgr.charge WHERE id = %s', :ac),
  $$VALUES ('2024-06-01'::date, '2025-03-14'::date)$$, 'a charge starting later runs to the end of the lease by default');
SELECT th.refuses(format($$INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, valid_from)
                          VALUES (%s, 'rent', 'per_m2_month', 80, '2024-03-14')$$, :terms),
  'LM012', 'charge period 2024-03-14..2025-03-14 is outside the lease of contract CT-TERMS',
  'Contract CT-TERMS runs from 2024-03-15 to 2025-03-14 inclusive.', 'Give dates within the lease.',
  'a charge starting the day before the lease is refused');
SELECT throws_ok(format($$INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, valid_to) VALUES (%s, 'rent', 'per_m2_month', 80, '2025-03-15')$$, :terms),
  'LM012', NULL, 'so is one ending the day after it');
SELECT throws_ok(format('UPDATE leasemgr.charge SET valid_to = ''2025-12-31'' WHERE id = %s', :ac),
  'LM012', NULL, '... also when an existing charge is extended');
SELECT lives_ok(format($$INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, valid_from, valid_to)
                         VALUES (%s, 'service', 'fixed_month', 500, '2025-03-14', '2025-03-14')$$, :terms),
  'a charge for the last day of the lease alone is within it');
SELECT throws_ok(format($$INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, valid_from, valid_to)
                          VALUES (%s, 'rent', 'per_m2_month', 80, '2024-06-01', '2024-05-31')$$, :terms),
  'LM015', 'a charge cannot end (2024-05-31) before it starts (2024-06-01)', 'a charge ending before it starts is refused');
SELECT th.refuses(format($$INSERT INTO leasemgr.free_rent_period (contract_id, days)
                          VALUES (%s, '[2025-03-01,2025-04-01)')$$, :terms),
  'LM012', 'free-rent period 2025-03-01..2025-03-31 is outside the lease of contract CT-TERMS',
  'Contract CT-TERMS runs from 2024-03-15 to 2025-03-14 inclusive.',
  'Give dates within the lease.',
  'free rent past the end of the lease is refused (the message gives the inclusive last day)');
SELECT throws_ok(format($$INSERT INTO leasemgr.free_rent_period (contract_id, days) VALUES (%s, '[2024-03-01,2024-03-20)')$$, :terms),
  'LM012', NULL, 'so is free rent starting before the lease');
SELECT lives_ok(format($$INSERT INTO leasemgr.free_rent_period (contract_id, days) VALUES (%s, '[2025-03-01,2025-03-14]')$$, :terms),
  'free rent up to and including the last day of the lease is within it');

-- A draft's lease cannot shrink past its terms (they would be billed outside it).
SELECT th.draft(:park, 'CT-SHORT', '{}', '2024-01-01', '2024-12-31') AS short \gset
SELECT id AS short_charge FROM leasemgr.charge WHERE contract_id = :short \gset
SELECT th.refuses(format($$UPDATE leasemgr.contract SET end_date = '2024-06-30' WHERE id = %s$$, :short),
  'LM012', format('charge %s of contract CT-SHORT would be outside its lease', :short_charge),
  'The charge runs from 2024-01-01 to 2024-12-31; the lease would run from 2024-01-01 to 2024-06-30 inclusive.',
  'Change the dates of the charges and free-rent periods first, or delete them and add them again for the new lease.',
  'a draft''s lease cannot be shortened past its charges');
UPDATE leasemgr.charge SET valid_from = '2024-02-01', valid_to = '2024-06-30' WHERE id = :short_charge;
INSERT INTO leasemgr.free_rent_period (contract_id, days) VALUES (:short, '[2024-01-01,2024-02-01)') RETURNING id AS short_free \gset
SELECT throws_ok(format($$UPDATE leasemgr.contract SET start_date = '2024-01-15' WHERE id = %s$$, :short),
  'LM012', format('free-rent period %s of contract CT-SHORT would be outside its lease', :short_free),
  '... nor past its free rent');
SELECT lives_ok(format($$UPDATE leasemgr.contract SET end_date = '2024-06-30' WHERE id = %s$$, :short),
  'once the charge ends earlier, the lease can end with it');
SELECT lives_ok(format($$UPDATE leasemgr.contract SET start_date = '2023-12-01', end_date = '2025-06-30' WHERE id = %s$$, :short),
  'a lease can always grow around its terms');

-- A rate bills something; a cycle is one the schedule knows.
SELECT th.refuses(format($$INSERT INTO leasemgr.charge (contract_id, kind, basis, rate)
                          VALUES (%s, 'rent', 'per_m2_month', 0)$$, :terms),
  'LM015', 'the rate of a charge must be greater than zero, not 0.0000',
  'A charge bills rate x its basis; a rate of zero or less bills nothing or pays the tenant.',
  'Days that cost nothing are a free-rent period (leasemgr.free_rent_period); a credit is an adjustment.',
  'a rate of zero is refused, pointing to free rent');
SELECT throws_ok(format($$INSERT INTO leasemgr.charge (contract_id, kind, basis, rate) VALUES (%s, 'rent', 'per_m2_month', -5)$$, :terms),
  'LM015', 'the rate of a charge must be greater than zero, not -5.0000', 'a negative rate is refused');
SELECT throws_ok(format('UPDATE leasemgr.charge SET rate = 0 WHERE id = %s', :ac), 'LM015', NULL,
  'a rate cannot be lowered to zero either');
SELECT th.refuses(format($$INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, cycle_months)
                          VALUES (%s, 'rent', 'per_m2_month', 80, 5)$$, :terms),
  'LM015', 'a billing cycle of 5 months is not supported',
  'Charges are billed monthly, quarterly, half-yearly or yearly.', 'Set cycle_months to 1, 3, 6 or 12.',
  'a five-month cycle is refused');
SELECT lives_ok(format($$INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, cycle_months) VALUES (%s, 'property_fee', 'per_m2_month', 9, 3)$$, :terms),
  'a quarterly charge is accepted');

-- CPI escalation divides by the base month's index: it must exist when the charge is entered.
-- The anchor defaults to valid_from (2024-03-15), the base month to its month minus the lag.
SELECT th.refuses(format($$INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, escalation, escalate_every_months,
                                                        cpi_series, cpi_lag_months)
                          VALUES (%s, 'rent', 'per_m2_month', 80, 'cpi', 12, 'CN-CPI', 2)$$, :terms),
  'LM013', 'price index CN-CPI has no value for 2024-01-01',
  'CPI escalation divides by the index of the base month, so it must be known when the charge is entered.',
  'Load the month into leasemgr.price_index (series, month, value) first.',
  'a CPI charge whose base month has no index is refused, naming the series and the month (2024-03 minus 2 months)');
INSERT INTO leasemgr.price_index (series, month, value) VALUES ('CN-CPI', '2024-01-01', 102.3);
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, escalation, escalate_every_months, cpi_series, cpi_lag_months)
VALUES (:terms, 'rent', 'per_m2_month', 80, 'cpi', 12, 'CN-CPI', 2) RETURNING id AS cpi \gset
SELECT results_eq(format('SELECT escalation_anchor, cpi_base_month FROM leasemgr.charge WHERE id = %s', :cpi),
  $$VALUES ('2024-03-15'::date, '2024-01-01'::date)$$,
  'once the month is loaded it is accepted, anchored on valid_from with the base month it was checked against');
SELECT throws_ok(format($$INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, escalation, escalate_every_months,
                                                       escalation_anchor, cpi_series)
                          VALUES (%s, 'rent', 'per_m2_month', 80, 'cpi', 12, '2024-07-20', 'CN-CPI')$$, :terms),
  'LM013', 'price index CN-CPI has no value for 2024-07-01',
  'without a lag the base month is the anchor''s own month');
SELECT throws_ok(format($$INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, escalation, escalate_every_months,
                                                       cpi_series, cpi_base_month)
                          VALUES (%s, 'rent', 'per_m2_month', 80, 'cpi', 12, 'CN-CPI', '2023-06-01')$$, :terms),
  'LM013', 'price index CN-CPI has no value for 2023-06-01', 'a base month given by hand must have its index too');
SELECT throws_ok(format('UPDATE leasemgr.charge SET cpi_lag_months = 3, cpi_base_month = NULL WHERE id = %s', :cpi),
  'LM013', 'price index CN-CPI has no value for 2023-12-01', 'changing the lag moves the default base month, checked again');

-- Turnover rent: the breakpoint defaults to 0; reports follow the lease, not the term lock.
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, billed)
VALUES (:terms, 'turnover', 'turnover_pct', 6, 'arrears') RETURNING id AS turnover \gset
SELECT results_eq(format($$SELECT basis, breakpoint FROM leasemgr.charge WHERE id IN (%s, %s) ORDER BY id$$, :ac, :turnover),
  $$VALUES ('per_m2_month', NULL::numeric), ('turnover_pct', 0.00)$$,
  'a turnover_pct charge without a breakpoint has breakpoint 0; other bases have none');
SELECT th.refuses(format($$INSERT INTO leasemgr.turnover_report (contract_id, month, sales)
                          VALUES (%s, '2025-04-01', 1000)$$, :terms),
  'LM012', 'turnover month 2025-04-01..2025-04-30 is outside the lease of contract CT-TERMS',
  'Contract CT-TERMS runs from 2024-03-15 to 2025-03-14 inclusive.', 'Give dates within the lease.',
  'a report for a month after the lease is refused');
SELECT throws_ok(format($$INSERT INTO leasemgr.turnover_report (contract_id, month, sales) VALUES (%s, '2024-02-01', 1000)$$, :terms),
  'LM012', NULL, 'so is a month before it');
SELECT lives_ok(format($$INSERT INTO leasemgr.turnover_report (contract_id, month, sales)
                         VALUES (%1$s, '2024-03-01', 90000), (%1$s, '2025-03-01', 75000)$$, :terms),
  'the first and last months, partly in the lease, are accepted');
SELECT th.contract_in(:park, 'active', 'CT-SHOP') AS shop \gset
SELECT lives_ok(format($$INSERT INTO leasemgr.turnover_report (contract_id, month, sales) VALUES (%s, '2024-05-01', 310000)$$, :shop),
  'an active contract''s tenant reports turnover: reports are not terms');
SELECT lives_ok(format('UPDATE leasemgr.turnover_report SET sales = 301000 WHERE contract_id = %s', :shop),
  '... and an unbilled report can be corrected');
SELECT th.fire(:shop, 'expire');
SELECT th.fire(:shop, 'start_move_out');
SELECT th.fire(:shop, 'close');
SELECT th.refuses(format($$INSERT INTO leasemgr.turnover_report (contract_id, month, sales)
                          VALUES (%s, '2024-06-01', 1000)$$, :shop),
  'LM005', 'contract CT-SHOP is closed and can no longer change', 'Cannot report turnover.',
  'Closed and cancelled contracts are kept exactly as they ended.',
  'a closed contract takes no turnover report');
SELECT throws_ok(format('UPDATE leasemgr.turnover_report SET sales = 1 WHERE contract_id = %s', :shop), 'LM005', NULL,
  '... and its reports cannot be corrected');
SELECT throws_ok(format('DELETE FROM leasemgr.turnover_report WHERE contract_id = %s', :shop), 'LM005', NULL,
  '... nor removed');
SELECT throws_ok(format($$INSERT INTO leasemgr.turnover_report (contract_id, month, sales) VALUES (%s, '2024-06-01', 1000)$$,
                        th.contract_in(:park, 'cancelled')), 'LM005', NULL, 'a cancelled contract takes none either');

-- Free-rent periods of one contract do not overlap (the exclusion constraint, for every writer).
SELECT throws_ok(format($$INSERT INTO leasemgr.free_rent_period (contract_id, days, kinds) VALUES (%s, '[2024-04-10,2024-05-01)', '{property_fee}')$$, :terms),
  '23P01', 'conflicting key value violates exclusion constraint "free_rent_no_overlap"',
  'overlapping free-rent periods are refused, whatever their kinds');
SELECT lives_ok(format($$INSERT INTO leasemgr.free_rent_period (contract_id, days) VALUES (%s, '[2024-04-15,2024-05-15)')$$, :terms),
  'a period starting the day after another ends is fine');
SELECT lives_ok(format($$INSERT INTO leasemgr.free_rent_period (contract_id, days) VALUES (%s, '[2024-03-15,2024-04-15)')$$, :other),
  'another contract may have the same days free');
SET LOCAL session_replication_role = replica;
SELECT throws_ok(format($$INSERT INTO leasemgr.free_rent_period (park_id, contract_id, days) VALUES (%s, %s, '[2024-03-20,2024-03-25)')$$, :park, :terms),
  '23P01', NULL, 'without triggers the constraint still refuses an overlap');
RESET session_replication_role;

SELECT * FROM finish();
ROLLBACK;
