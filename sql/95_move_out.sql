-- Renewal and move-out (续租 / 退租). leasemgr.renew drafts the successor of a lease for the
-- same units from the day after its end; when the successor activates, it takes over the old
-- lease's balance and deposit and the old lease closes without a move-out. A lease that ends
-- otherwise moves out: final readings of every meter first, then the final bill, nothing
-- unpaid and the deposit settled before it closes. The state machine (C) asks the functions
-- below what is missing. docs/move_out.md is the design.
--
-- The functions below run with SET search_path = pg_catalog, leasemgr, pg_temp: pg_catalog's
-- operators are found first and nobody but the owner creates objects in leasemgr, so their
-- bodies use plain operators.

-- ---- what is missing ------------------------------------------------------------------------

-- The meters of a unit that ran on a last day and have no final reading: photo or IoT, not
-- void, taken on or after that day in the operator's time zone. The move-out and an amendment
-- handing a unit back ask it.
CREATE FUNCTION leasemgr.final_readings_missing(unit_id bigint, last_day date) RETURNS TABLE (meter_code text)
  LANGUAGE sql STABLE STRICT
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
  SELECT m.code
    FROM meter m
   WHERE m.unit_id = final_readings_missing.unit_id
     AND m.installed_at < local_midnight(final_readings_missing.last_day + 1)
     AND (m.removed_at IS NULL OR m.removed_at >= local_midnight(final_readings_missing.last_day))
     AND NOT EXISTS (SELECT FROM meter_reading r
                      WHERE r.meter_id = m.id AND r.read_at >= local_midnight(final_readings_missing.last_day)
                        AND r.voided_at IS NULL AND r.source IN ('photo', 'iot'))
   ORDER BY m.code
$fn$;
COMMENT ON FUNCTION leasemgr.final_readings_missing(bigint, date) IS
  'The meters of a unit that ran on a last day without a final reading (photo or IoT, not void, taken on or after that day in the operator''s time zone). Asked by the move-out and by amendments handing a unit back.';

CREATE FUNCTION leasemgr.move_out_blockers(contract_id bigint) RETURNS text
  LANGUAGE sql STABLE STRICT
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
  -- every meter on the lease's units that ran on the last day the lease held its unit needs a
  -- final reading: the lease's last day, or the last day of a unit an amendment handed back
  WITH missing AS (
    SELECT upper(cu.held_range) - 1 AS last_day,
           string_agg(format('%s (unit %s)', f.meter_code, u.code), ', ' ORDER BY f.meter_code) AS meters
      FROM contract_unit cu
      JOIN unit u ON u.id = cu.unit_id
      CROSS JOIN LATERAL final_readings_missing(cu.unit_id, upper(cu.held_range) - 1) f
     WHERE cu.contract_id = move_out_blockers.contract_id AND NOT isempty(cu.held_range)
     GROUP BY upper(cu.held_range) - 1)
  SELECT string_agg(format('a final reading (photo or IoT) on or after %s of meter %s', last_day, meters), '; '
                    ORDER BY last_day)
    FROM missing
  HAVING count(*) > 0
$fn$;
COMMENT ON FUNCTION leasemgr.move_out_blockers(bigint) IS
  'What keeps a lease from starting its move-out, in words, or NULL: every meter of its units that ran on the last day the lease held the unit (the last day of the lease, or of a unit an amendment handed back earlier) needs a final reading, photo or IoT and not void, taken on or after that day. The state machine''s start_move_out asks it.';

-- Money still open: bills unpaid, deposit held; shared by closing and the renewal's takeover.
CREATE FUNCTION leasemgr.money_blockers(contract_id bigint) RETURNS text[]
  LANGUAGE sql STABLE STRICT
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
  SELECT array_remove(ARRAY[
    (SELECT format('%s CNY unpaid on bill %s', money_text(sum(b.amount - b.paid)), string_agg(b.id::text, ', ' ORDER BY b.id))
       FROM bill b WHERE b.contract_id = money_blockers.contract_id AND b.voided_at IS NULL AND b.paid < b.amount
     HAVING sum(b.amount - b.paid) > 0),
    (SELECT format('a deposit of %s CNY still held (refund it, deduct from it, or both)', money_text(deposit_balance(money_blockers.contract_id)))
      WHERE deposit_balance(money_blockers.contract_id) > 0),
    (SELECT format('deposit refund %s in progress', r.id) FROM deposit_refund r
      WHERE r.contract_id = money_blockers.contract_id AND r.state IN ('requested', 'confirmed') LIMIT 1),
    (SELECT format('a credit of %s CNY owed to the tenant on bill %s (refund it, or offset it against a bill)',
                   money_text(-sum(b.amount - b.paid)), string_agg(b.id::text, ', ' ORDER BY b.id))
       FROM bill b WHERE b.contract_id = money_blockers.contract_id AND b.voided_at IS NULL AND b.amount < 0
     HAVING sum(b.amount - b.paid) < 0)
  ], NULL)
$fn$;
COMMENT ON FUNCTION leasemgr.money_blockers(bigint) IS
  'Internal: the money a lease still has open, in words: bills unpaid, deposit held, a refund in progress, a credit left on a bill.';

CREATE FUNCTION leasemgr.final_bill_blockers(contract_id bigint) RETURNS text[]
  LANGUAGE sql STABLE STRICT
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
  WITH c AS (
    SELECT k.id, upper(k.lease_range) - 1 AS last_day FROM contract k WHERE k.id = final_bill_blockers.contract_id),
  missing AS (
    -- every charge billed through its last day (a closed lease is never billed again)
    SELECT 1 AS o, format('charge %s (%s) %s: its last day is %s', ch.id, ch.kind,
                          COALESCE('billed only through ' || charge_billed_through(ch.id), 'not billed yet'),
                          LEAST(ch.valid_to, c.last_day)) AS what
      FROM c JOIN charge ch ON ch.contract_id = c.id
     WHERE ch.valid_from <= c.last_day
       AND COALESCE(charge_billed_through(ch.id), ch.valid_from - 1) < LEAST(ch.valid_to, c.last_day)
    UNION ALL
    -- shared costs: every share billed, and the last month split if earlier months were
    SELECT 2, format('%s shared-cost share(s) not billed yet', count(*))
      FROM c JOIN allocation_share s ON s.contract_id = c.id
     WHERE NOT EXISTS (SELECT FROM bill_line l WHERE l.allocation_share_id = s.id)
    HAVING count(*) > 0
    UNION ALL
    SELECT 3, format('shared costs of %s not split yet (leasemgr.allocate)', to_char(date_trunc('month', c.last_day), 'YYYY-MM'))
      FROM c
     WHERE EXISTS (SELECT FROM allocation_share s WHERE s.contract_id = c.id)
       AND NOT EXISTS (SELECT FROM allocation_share s WHERE s.contract_id = c.id AND s.month = date_trunc('month', c.last_day))
    UNION ALL
    SELECT 4, format('estimated metered line %s not trued up', string_agg(l.id::text, ', ' ORDER BY l.id))
      FROM c JOIN bill_line l ON l.contract_id = c.id AND l.estimated
     WHERE NOT EXISTS (SELECT FROM bill_line t WHERE t.trues_up = l.id)
    HAVING count(*) > 0
    UNION ALL
    SELECT 5, format('amendment %s approved but not re-billed (leasemgr.rebill)', a.id)
      FROM c JOIN amendment a ON a.contract_id = c.id AND a.state = 'approved' AND a.rebilled_at IS NULL)
  SELECT COALESCE(array_agg(what ORDER BY o, what), '{}') FROM missing
$fn$;
COMMENT ON FUNCTION leasemgr.final_bill_blockers(bigint) IS
  'What the final bill of a lease still lacks, in words: charges not billed through their last day, shared-cost shares not billed or the last month not split, estimates not trued up, approved amendments not re-billed. Empty when the final bill is issued.';

CREATE FUNCTION leasemgr.close_blockers(contract_id bigint) RETURNS text
  LANGUAGE sql STABLE STRICT
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
  SELECT NULLIF(array_to_string(final_bill_blockers(close_blockers.contract_id)
                                || money_blockers(close_blockers.contract_id), '; '), '')
$fn$;
COMMENT ON FUNCTION leasemgr.close_blockers(bigint) IS
  'What keeps a lease under move-out from closing, in words, or NULL: the final bill (every charge billed through its last day, every shared-cost share billed and the last month split, estimates trued up, approved amendments re-billed), nothing unpaid and no credit left on a bill, the deposit settled (refunded or deducted) with no refund in progress. The state machine''s close asks it.';

CREATE FUNCTION leasemgr.renewal_close_blockers(contract_id bigint) RETURNS text
  LANGUAGE sql STABLE STRICT
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
  SELECT NULLIF(array_to_string(
           CASE WHEN NOT EXISTS (
                  WITH RECURSIVE chain AS (
                    SELECT k.id, k.tenant_id, k.end_date, k.state, 1 AS depth FROM contract k
                     WHERE k.id = renewal_close_blockers.contract_id
                    UNION ALL
                    SELECT r.id, r.tenant_id, r.end_date, r.state, ch.depth + 1
                      FROM chain ch JOIN contract r ON r.renews_contract_id = ch.id
                     WHERE r.tenant_id = ch.tenant_id AND r.start_date = ch.end_date + 1
                       AND r.state NOT IN ('cancelled', 'draft') AND ch.depth < 100)
                  SELECT FROM chain WHERE depth > 1 AND state IN ('active', 'amending'))
                THEN ARRAY['an active renewal of it (the same tenant, from the day after its end)'] ELSE '{}' END
           || final_bill_blockers(renewal_close_blockers.contract_id)
           || money_blockers(renewal_close_blockers.contract_id), '; '), '')
$fn$;
COMMENT ON FUNCTION leasemgr.renewal_close_blockers(bigint) IS
  'What keeps a lease from closing for its renewal, in words, or NULL: an active renewal, the final bill issued, and its unpaid balance and deposit handed over to the renewal. The state machine''s renewed event asks it.';

-- ---- renewal --------------------------------------------------------------------------------

CREATE FUNCTION leasemgr.renew(contract_id bigint, new_end_date date, changes jsonb DEFAULT '{}') RETURNS bigint
  LANGUAGE plpgsql SECURITY INVOKER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  c record;
  v_id bigint;
  v_bad text;
  v_other record;
  v_start date;
  v_code text;
BEGIN
  SELECT k.* INTO c FROM contract k WHERE k.id = renew.contract_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'LM009',
      MESSAGE = format('contract %s does not exist', renew.contract_id),
      HINT = 'Check the id; rows of parks you have not been granted are not visible to you.';
  END IF;
  IF c.state NOT IN ('active', 'amending') THEN
    RAISE EXCEPTION USING ERRCODE = 'LM001',
      MESSAGE = format('contract %s is %s: only a lease in force is renewed', c.code, c.state),
      DETAIL = 'A renewal starts the day after the end of a lease that is still running.',
      HINT = 'For a lease that has ended, draft a new contract.';
  END IF;
  v_start := c.end_date + 1;
  IF renew.new_end_date IS NULL OR renew.new_end_date < v_start THEN
    RAISE EXCEPTION USING ERRCODE = 'LM012',
      MESSAGE = format('the renewal of contract %s cannot end on %s', c.code, COALESCE(renew.new_end_date::text, 'NULL')),
      DETAIL = format('It starts on %s, the day after the end of %s.', v_start, c.code),
      HINT = 'Give the last day of the renewal, on or after its first day.';
  END IF;
  IF renew.changes IS NULL OR jsonb_typeof(renew.changes) <> 'object' THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = 'renew: changes must be a JSON object',
      HINT = 'E.g. {"code": "HT-2027-0001", "deposit_amount": 24000, "rates": [{"charge_id": 12, "rate": 88}]}.';
  END IF;
  SELECT string_agg(k, ', ' ORDER BY k) INTO v_bad FROM jsonb_object_keys(renew.changes) k
   WHERE k NOT IN ('code', 'deposit_amount', 'rates');
  IF v_bad IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = format('renew: unknown change %s', v_bad),
      DETAIL = 'A renewal takes the code, the deposit and new rates; the rest is edited in the draft it creates.',
      HINT = 'Use code, deposit_amount and rates ([{"charge_id", "rate"}]), or edit the draft afterwards.';
  END IF;
  SELECT r.code, r.state INTO v_other FROM contract r WHERE r.renews_contract_id = c.id AND r.state <> 'cancelled' LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'LM002',
      MESSAGE = format('contract %s already has a renewal: %s (%s)', c.code, v_other.code, v_other.state),
      HINT = 'Work on that draft, or cancel it first.';
  END IF;
  IF EXISTS (SELECT FROM jsonb_array_elements(COALESCE(renew.changes -> 'rates', '[]')) r
              WHERE jsonb_typeof(r) <> 'object'
                 OR NOT EXISTS (SELECT FROM charge ch WHERE ch.id = (r ->> 'charge_id')::bigint AND ch.contract_id = c.id
                                   AND c.end_date BETWEEN ch.valid_from AND ch.valid_to)
                 OR (r ->> 'rate')::numeric <= 0) THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = format('renew: every rate names a charge of %s running on its last day, with a rate above 0', c.code),
      DETAIL = format('rates is %s.', renew.changes -> 'rates'),
      HINT = 'E.g. "rates": [{"charge_id": 12, "rate": 88.0000}].';
  END IF;
  v_code := COALESCE(renew.changes ->> 'code', c.code || '-R');

  INSERT INTO contract (park_id, code, tenant_id, start_date, end_date, renews_contract_id, deposit_amount)
  VALUES (c.park_id, v_code, c.tenant_id, v_start, renew.new_end_date, c.id,
          COALESCE((renew.changes ->> 'deposit_amount')::numeric, c.deposit_amount))
  RETURNING id INTO v_id;
  INSERT INTO contract_unit (contract_id, unit_id, billable_area_m2)
  SELECT v_id, cu.unit_id, cu.billable_area_m2 FROM contract_unit cu
   WHERE cu.contract_id = c.id AND cu.held_range @> c.end_date  -- not the units handed back before the end
   ORDER BY cu.unit_id;
  -- The charges running on the last day, at the rate in force that day (escalation included)
  -- unless a new rate is given; escalation steps count again from the renewal's first day.
  INSERT INTO charge (contract_id, kind, basis, rate, breakpoint, valid_from, valid_to, cycle_months, billed, due_day,
                      proration, escalation, escalate_every_months, escalation_anchor, escalation_pct, escalation_amount,
                      cpi_series, cpi_base_month, cpi_lag_months, cpi_cap_pct, cpi_floor_pct, note, meter_kind, tiers,
                      tier_rates, tou_registers, tou_rates)
  SELECT v_id, ch.kind, ch.basis,
         COALESCE((SELECT (r ->> 'rate')::numeric FROM jsonb_array_elements(COALESCE(renew.changes -> 'rates', '[]')) r
                    WHERE (r ->> 'charge_id')::bigint = ch.id),
                  CASE ch.escalation
                    WHEN 'pct' THEN round(ch.rate * (1 + ch.escalation_pct / 100) ^ st.steps, 4)
                    WHEN 'amount' THEN ch.rate + st.steps * ch.escalation_amount
                    ELSE ch.rate END),
         ch.breakpoint, v_start, renew.new_end_date, ch.cycle_months, ch.billed, ch.due_day, ch.proration,
         ch.escalation, ch.escalate_every_months,
         CASE WHEN ch.escalation = 'cpi' THEN ch.escalation_anchor WHEN ch.escalation <> 'none' THEN v_start END,
         ch.escalation_pct, ch.escalation_amount, ch.cpi_series, ch.cpi_base_month, ch.cpi_lag_months, ch.cpi_cap_pct,
         ch.cpi_floor_pct, ch.note, ch.meter_kind, ch.tiers, ch.tier_rates, ch.tou_registers, ch.tou_rates
    FROM charge ch
    CROSS JOIN LATERAL (SELECT count(*)::integer AS steps
                          FROM generate_series(1, 12000 / COALESCE(ch.escalate_every_months, 12000)) k
                         WHERE ch.escalation IN ('pct', 'amount')
                           AND ch.escalation_anchor + k * ch.escalate_every_months * interval '1 month' <= c.end_date) st
   WHERE ch.contract_id = c.id AND c.end_date BETWEEN ch.valid_from AND ch.valid_to
   ORDER BY ch.id;
  RETURN v_id;
END
$fn$;
COMMENT ON FUNCTION leasemgr.renew(bigint, date, jsonb) IS
  'Drafts the renewal (续租) of a lease in force: a new draft contract (renews_contract_id) for the same tenant and units with their billable areas, from the day after the end to new_end_date, with the charges running on the last day at the rate in force that day (escalation included; pct and amount steps count again from the renewal''s start, CPI continues), free rent not copied. changes: code (default the old code with -R), deposit_amount, rates ([{"charge_id", "rate"}]). It goes through approval like any contract; when it activates it takes over the old lease''s unpaid bills and deposit, and the old lease closes without a move-out. Returns the new contract id.';

-- The hand-over from a lease to its renewal. SECURITY DEFINER: whoever activates the renewal
-- (an operator, the daily job) moves money only this way; the function checks that the renewal
-- is the lease's true successor and that the session's person sees the park.
CREATE FUNCTION leasemgr.renewal_hand_over(contract_id bigint) RETURNS boolean
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  o record;
  n record;
  b record;
  v_day date := business_date();
  v_deposit numeric;
  v_credit numeric;
  v_grace integer;
  v_new_bill bigint;
  v_old_bill bigint;
BEGIN
  SELECT k.* INTO o FROM contract k WHERE k.id = renewal_hand_over.contract_id;
  IF NOT FOUND OR NOT session_sees_park(o.park_id) THEN
    RAISE EXCEPTION USING ERRCODE = 'LM009',
      MESSAGE = format('contract %s does not exist', renewal_hand_over.contract_id),
      HINT = 'Check the id; rows of parks you have not been granted are not visible to you.';
  END IF;
  -- the lease in force at the end of the chain of renewals, each the successor of the one
  -- before (same tenant, from the day after its end)
  WITH RECURSIVE chain AS (
    SELECT k.id, k.tenant_id, k.end_date, k.state, 1 AS depth FROM contract k WHERE k.id = o.id
    UNION ALL
    SELECT r.id, r.tenant_id, r.end_date, r.state, ch.depth + 1
      FROM chain ch JOIN contract r ON r.renews_contract_id = ch.id
     WHERE r.tenant_id = ch.tenant_id AND r.start_date = ch.end_date + 1 AND r.state NOT IN ('cancelled', 'draft')
       AND ch.depth < 100)
  SELECT k.* INTO n FROM contract k
   WHERE k.id = (SELECT ch.id FROM chain ch WHERE ch.state IN ('active', 'amending') AND ch.id <> o.id
                  ORDER BY ch.depth DESC LIMIT 1);
  IF NOT FOUND OR o.state <> 'expired' THEN
    RETURN false;  -- nothing to hand over (yet)
  END IF;
  -- Bill runs of the park and the deposits of both leases wait: what is read here is what moves.
  PERFORM pg_advisory_xact_lock(hashtext('leasemgr.bill_run'), (o.park_id % 2147483647)::integer);
  PERFORM pg_advisory_xact_lock(hashtext('leasemgr.deposit'), hashint8(least(o.id, n.id)));
  PERFORM pg_advisory_xact_lock(hashtext('leasemgr.deposit'), hashint8(greatest(o.id, n.id)));
  PERFORM k.id FROM contract k WHERE k.id IN (o.id, n.id) ORDER BY k.id FOR UPDATE;

  -- the deposit moves to the renewal, both sides at once
  v_deposit := deposit_balance(o.id);
  IF v_deposit > 0 THEN
    INSERT INTO deposit_txn (contract_id, kind, amount, occurred_on, related_contract_id, note)
    VALUES (o.id, 'carried_out', v_deposit, v_day, n.id, format('carried over to renewal %s', n.code)),
           (n.id, 'carried_in', v_deposit, v_day, o.id, format('carried over from %s', o.code));
  END IF;

  -- the fees accrued so far are posted, the lease's own credit pays its own bills, and what
  -- stays unpaid moves bill by bill: principal and late fees apart (no fee on a fee), due as
  -- before (a bill past due keeps accruing from today, without a new grace period)
  PERFORM post_late_fees(v_day, o.id);
  PERFORM apply_credit(o.id);
  SELECT COALESCE(p.grace_days, 0) INTO v_grace FROM (SELECT 1) one
    LEFT JOIN LATERAL (SELECT x.grace_days FROM late_fee_policy x
                        WHERE x.park_id = n.park_id AND (x.contract_id = n.id OR x.contract_id IS NULL)
                        ORDER BY x.contract_id IS NULL LIMIT 1) p ON true;
  FOR b IN
    SELECT x.id, x.due_on, x.amount - x.paid AS open,
           LEAST(x.amount - x.paid, GREATEST(COALESCE((SELECT sum(l.amount) FROM bill_line l
                                                       WHERE l.bill_id = x.id AND l.line_type = 'late_fee'), 0)
                                             - COALESCE((SELECT sum(a.amount) FROM payment_allocation a
                                                          WHERE a.bill_id = x.id AND a.part = 'late_fee'), 0), 0)) AS fee_open
      FROM bill x WHERE x.contract_id = o.id AND x.voided_at IS NULL AND x.paid < x.amount ORDER BY x.id
  LOOP
    INSERT INTO bill (park_id, contract_id, period, issued_on, due_on, issued_by)
    VALUES (n.park_id, n.id, date_trunc('month', v_day)::date, v_day,
            CASE WHEN b.due_on + v_grace >= v_day - 1 THEN b.due_on ELSE v_day - 1 - v_grace END, current_actor())
    RETURNING id INTO v_new_bill;
    INSERT INTO bill_line (park_id, bill_id, contract_id, kind, period_start, period_end, amount, explain, line_type)
    SELECT o.park_id, b.id, o.id, 'carried_over', v_day, v_day, -(b.open - b.fee_open),
           format('%s unpaid, carried over to renewal %s (bill %s)', money_text(b.open - b.fee_open), n.code, v_new_bill), 'adjustment'
     WHERE b.open - b.fee_open > 0
    UNION ALL
    SELECT o.park_id, b.id, o.id, 'carried_over', v_day, v_day, -b.fee_open,
           format('late fees of %s unpaid, carried over to renewal %s (bill %s)', money_text(b.fee_open), n.code, v_new_bill), 'late_fee'
     WHERE b.fee_open > 0;
    INSERT INTO bill_line (park_id, bill_id, contract_id, kind, period_start, period_end, amount, explain, line_type)
    SELECT n.park_id, v_new_bill, n.id, 'brought_forward', v_day, v_day, b.open - b.fee_open,
           format('balance brought forward from %s: %s unpaid on bill %s, due %s', o.code, money_text(b.open - b.fee_open),
                  b.id, b.due_on), 'adjustment'
     WHERE b.open - b.fee_open > 0
    UNION ALL
    SELECT n.park_id, v_new_bill, n.id, 'late_fee_brought_forward', v_day, v_day, b.fee_open,
           format('late fees brought forward from %s: %s unpaid on bill %s (accrued through %s)', o.code, money_text(b.fee_open),
                  b.id, v_day - 1), 'late_fee'
     WHERE b.fee_open > 0;
  END LOOP;

  -- a credit left (money paid ahead, a credit note) moves too: out of the old lease to a bill
  -- of its own, and owed back on the renewal as a credit
  SELECT COALESCE(sum(p.unallocated), 0.00) INTO v_credit FROM payment p WHERE p.contract_id = o.id;
  SELECT v_credit - COALESCE(sum(x.amount - x.paid), 0.00) INTO v_credit
    FROM bill x WHERE x.contract_id = o.id AND x.voided_at IS NULL AND x.amount < 0;
  IF v_credit > 0 THEN
    INSERT INTO bill (park_id, contract_id, period, issued_on, due_on, issued_by)
    VALUES (n.park_id, n.id, date_trunc('month', v_day)::date, v_day, v_day, current_actor())
    RETURNING id INTO v_new_bill;
    -- the old lease's credit notes are settled into the carried credit
    INSERT INTO bill_line (park_id, bill_id, contract_id, kind, period_start, period_end, amount, explain, line_type)
    SELECT x.park_id, x.id, o.id, 'carried_over', v_day, v_day, -(x.amount - x.paid),
           format('credit carried over to renewal %s (bill %s)', n.code, v_new_bill), 'adjustment'
      FROM bill x WHERE x.contract_id = o.id AND x.voided_at IS NULL AND x.amount < 0;
    IF (SELECT COALESCE(sum(p.unallocated), 0.00) FROM payment p WHERE p.contract_id = o.id) > 0 THEN
      INSERT INTO bill (park_id, contract_id, period, issued_on, due_on, issued_by)
      VALUES (o.park_id, o.id, date_trunc('month', v_day)::date, v_day, v_day, current_actor())
      RETURNING id INTO v_old_bill;
      INSERT INTO bill_line (park_id, bill_id, contract_id, kind, period_start, period_end, amount, explain, line_type)
      VALUES (o.park_id, v_old_bill, o.id, 'carried_over', v_day, v_day,
              (SELECT COALESCE(sum(p.unallocated), 0.00) FROM payment p WHERE p.contract_id = o.id),
              format('money paid ahead carried over to renewal %s (bill %s)', n.code, v_new_bill), 'adjustment');
    END IF;
    INSERT INTO bill_line (park_id, bill_id, contract_id, kind, period_start, period_end, amount, explain, line_type)
    VALUES (n.park_id, v_new_bill, n.id, 'brought_forward', v_day, v_day, -v_credit,
            format('credit brought forward from %s: %s', o.code, money_text(v_credit)), 'adjustment');
    PERFORM apply_credit(o.id);
  END IF;

  -- closed once its final bill is issued; until then the daily job hands over what it bills
  IF renewal_close_blockers(o.id) IS NULL THEN
    PERFORM contract_transition(o.id, 'renewed', format('continued by renewal %s', n.code));
    RETURN true;
  END IF;
  RETURN false;
END
$fn$;
COMMENT ON FUNCTION leasemgr.renewal_hand_over(bigint) IS
  'Hands an expired lease over to its active renewal (same tenant, starting the day after its end): its deposit (carried_out / carried_in), its unpaid bills, each moved to a bill of the renewal with principal and late fees apart and the same due day (the fees accrued so far posted first, its own credit paying first), and any credit left; then closes it (event renewed) once its final bill is issued. Returns whether it closed. Called when the renewal activates, and by run_daily until the old lease closes.';

-- When a renewal activates, the lease it renews expires (if it has not) and is handed over.
CREATE FUNCTION leasemgr.renewal_takes_over() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
BEGIN
  -- only the true successor takes a lease over: the same tenant, from the day after its end
  IF NOT EXISTS (SELECT FROM contract o WHERE o.id = NEW.renews_contract_id
                    AND o.tenant_id = NEW.tenant_id AND o.end_date + 1 = NEW.start_date) THEN
    RAISE EXCEPTION USING ERRCODE = 'LM002',
      MESSAGE = format('contract %s cannot start as the renewal of contract %s', NEW.code,
                       (SELECT o.code FROM contract o WHERE o.id = NEW.renews_contract_id)),
      DETAIL = format('A renewal is for the same tenant and starts the day after the end of the lease it renews; %s starts on %s.',
                      NEW.code, NEW.start_date),
      HINT = 'Draft renewals with leasemgr.renew; clear renews_contract_id of a contract that is not one.';
  END IF;
  IF (SELECT k.state FROM contract k WHERE k.id = NEW.renews_contract_id) = 'active' THEN
    PERFORM contract_transition(NEW.renews_contract_id, 'expire', format('continued by renewal %s', NEW.code));
  ELSIF (SELECT k.state FROM contract k WHERE k.id = NEW.renews_contract_id) = 'amending' THEN
    RAISE EXCEPTION USING ERRCODE = 'LM002',
      MESSAGE = format('renewal %s cannot take over while an amendment of the lease it renews is open', NEW.code),
      HINT = 'Decide the amendment of the old lease, then activate the renewal.';
  END IF;
  PERFORM renewal_hand_over(NEW.renews_contract_id);
  RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION leasemgr.renewal_takes_over() IS
  'Trigger: when a renewal activates, the lease it renews expires (if it has not) and is handed over to it (leasemgr.renewal_hand_over).';
CREATE TRIGGER renewal_takes_over AFTER UPDATE OF state ON leasemgr.contract
  FOR EACH ROW WHEN (OLD.state = 'signed' AND NEW.state = 'active' AND NEW.renews_contract_id IS NOT NULL)
  EXECUTE FUNCTION leasemgr.renewal_takes_over();

REVOKE ALL ON FUNCTION leasemgr.final_readings_missing(bigint, date), leasemgr.move_out_blockers(bigint), leasemgr.money_blockers(bigint), leasemgr.close_blockers(bigint),
  leasemgr.final_bill_blockers(bigint), leasemgr.renewal_close_blockers(bigint), leasemgr.renew(bigint, date, jsonb),
  leasemgr.renewal_takes_over(), leasemgr.renewal_hand_over(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leasemgr.final_readings_missing(bigint, date), leasemgr.move_out_blockers(bigint), leasemgr.money_blockers(bigint), leasemgr.close_blockers(bigint),
  leasemgr.final_bill_blockers(bigint), leasemgr.renewal_close_blockers(bigint) TO leasemgr_reader;
GRANT EXECUTE ON FUNCTION leasemgr.renew(bigint, date, jsonb) TO leasemgr_operator;
-- whoever activates a renewal hands the old lease over; the function checks the succession
GRANT EXECUTE ON FUNCTION leasemgr.renewal_hand_over(bigint) TO leasemgr_operator, leasemgr_admin;
