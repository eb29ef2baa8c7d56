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

CREATE FUNCTION leasemgr.move_out_blockers(contract_id bigint) RETURNS text
  LANGUAGE sql STABLE STRICT
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
  -- every meter on the lease's units that ran on its last day needs a reading (photo or IoT,
  -- not void) taken on or after that day, in the operator's time zone
  WITH c AS (
    SELECT k.id, upper(k.lease_range) - 1 AS last_day,
           (((upper(k.lease_range) - 1)::timestamp) AT TIME ZONE current_setting('leasemgr.timezone')) AS last_day_starts
      FROM contract k WHERE k.id = move_out_blockers.contract_id AND business_date() IS NOT NULL)
  SELECT format('a final reading (photo or IoT) on or after %s of meter %s', min(c.last_day),
                string_agg(format('%s (unit %s)', m.code, u.code), ', ' ORDER BY m.code))
    FROM c
    JOIN contract_unit cu ON cu.contract_id = c.id
    JOIN unit u ON u.id = cu.unit_id
    JOIN meter m ON m.unit_id = cu.unit_id
   WHERE m.installed_at < c.last_day_starts + interval '1 day'
     AND (m.removed_at IS NULL OR m.removed_at >= c.last_day_starts)
     AND NOT EXISTS (SELECT FROM meter_reading r
                      WHERE r.meter_id = m.id AND r.read_at >= c.last_day_starts AND r.voided_at IS NULL
                        AND r.source IN ('photo', 'iot'))
  HAVING count(*) > 0
$fn$;
COMMENT ON FUNCTION leasemgr.move_out_blockers(bigint) IS
  'What keeps a lease from starting its move-out, in words, or NULL: every meter of its units that ran on the last day of the lease needs a final reading, photo or IoT and not void, taken on or after that day. The state machine''s start_move_out asks it.';

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
      WHERE r.contract_id = money_blockers.contract_id AND r.state IN ('requested', 'confirmed') LIMIT 1)
  ], NULL)
$fn$;
COMMENT ON FUNCTION leasemgr.money_blockers(bigint) IS
  'Internal: the money a lease still has open, in words: bills unpaid, deposit held, a refund in progress.';

CREATE FUNCTION leasemgr.close_blockers(contract_id bigint) RETURNS text
  LANGUAGE sql STABLE STRICT
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
  WITH c AS (
    SELECT k.id, upper(k.lease_range) - 1 AS last_day FROM contract k WHERE k.id = close_blockers.contract_id),
  missing AS (
    -- the final bill: every charge billed through its last day (a closed lease is never billed again)
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
      FROM c JOIN amendment a ON a.contract_id = c.id AND a.state = 'approved' AND a.rebilled_at IS NULL
    UNION ALL
    SELECT 6, m FROM c, unnest(money_blockers(c.id)) m)
  SELECT string_agg(what, '; ' ORDER BY o, what) FROM missing
$fn$;
COMMENT ON FUNCTION leasemgr.close_blockers(bigint) IS
  'What keeps a lease under move-out from closing, in words, or NULL: the final bill (every charge billed through its last day, every shared-cost share billed and the last month split, estimates trued up, approved amendments re-billed), nothing unpaid, the deposit settled (refunded or deducted) with no refund in progress. The state machine''s close asks it.';

CREATE FUNCTION leasemgr.renewal_close_blockers(contract_id bigint) RETURNS text
  LANGUAGE sql STABLE STRICT
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
  SELECT COALESCE(
    (SELECT 'an active renewal of it' WHERE NOT EXISTS (
       SELECT FROM contract r WHERE r.renews_contract_id = renewal_close_blockers.contract_id AND r.state IN ('active', 'amending'))),
    array_to_string(NULLIF(money_blockers(renewal_close_blockers.contract_id), '{}'), '; '))
$fn$;
COMMENT ON FUNCTION leasemgr.renewal_close_blockers(bigint) IS
  'What keeps a lease from closing for its renewal, in words, or NULL: an active renewal, which took over its unpaid bills and its deposit. The state machine''s renewed event asks it.';

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
  SELECT v_id, cu.unit_id, cu.billable_area_m2 FROM contract_unit cu WHERE cu.contract_id = c.id ORDER BY cu.unit_id;
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

-- When a renewal activates: the old lease expires if it has not yet, hands over its deposit and
-- its open balance, and closes (the state machine's renewed event). SECURITY DEFINER: whoever
-- activates the renewal (an operator, the daily job) moves money only this way.
CREATE FUNCTION leasemgr.renewal_takes_over() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
DECLARE
  o record;
  b record;
  v_deposit numeric;
  v_debt numeric := 0.00;
  v_credit numeric;
  v_bills text;
  v_new_bill bigint;
  v_old_bill bigint;
  v_day date := business_date();
BEGIN
  SELECT k.id, k.code, k.park_id, k.state INTO o FROM contract k WHERE k.id = NEW.renews_contract_id FOR UPDATE;
  IF o.state = 'active' THEN
    PERFORM contract_transition(o.id, 'expire', format('continued by renewal %s', NEW.code));
    o.state := 'expired';
  END IF;
  IF o.state <> 'expired' THEN
    -- amending: decided first; terminated or moving out: that lease moves out as usual
    IF o.state = 'amending' THEN
      RAISE EXCEPTION USING ERRCODE = 'LM002',
        MESSAGE = format('renewal %s cannot take over contract %s while an amendment of it is open', NEW.code, o.code),
        HINT = 'Decide the amendment of the old lease, then activate the renewal.';
    END IF;
    RETURN NULL;
  END IF;

  -- the deposit moves to the renewal
  v_deposit := deposit_balance(o.id);
  IF v_deposit > 0 THEN
    INSERT INTO deposit_txn (contract_id, kind, amount, occurred_on, related_contract_id, note)
    VALUES (o.id, 'carried_out', v_deposit, v_day, NEW.id, format('carried over to renewal %s', NEW.code)),
           (NEW.id, 'carried_in', v_deposit, v_day, o.id, format('carried over from %s', o.code));
  END IF;

  -- the old lease's credit pays its own bills first; what stays unpaid is carried over
  PERFORM apply_credit(o.id);
  FOR b IN SELECT x.id, x.amount - x.paid AS open FROM bill x
            WHERE x.contract_id = o.id AND x.voided_at IS NULL AND x.paid < x.amount ORDER BY x.id LOOP
    IF v_new_bill IS NULL THEN
      INSERT INTO bill (park_id, contract_id, period, issued_on, due_on, issued_by)
      VALUES (NEW.park_id, NEW.id, date_trunc('month', v_day)::date, v_day, v_day, current_actor())
      RETURNING id INTO v_new_bill;
    END IF;
    INSERT INTO bill_line (park_id, bill_id, contract_id, kind, period_start, period_end, amount, explain, line_type)
    VALUES (o.park_id, b.id, o.id, 'other', v_day, v_day, -b.open,
            format('%s unpaid, carried over to renewal %s (bill %s)', money_text(b.open), NEW.code, v_new_bill), 'adjustment');
    v_debt := v_debt + b.open;
    v_bills := concat_ws(', ', v_bills, b.id::text);
  END LOOP;
  IF v_debt > 0 THEN
    INSERT INTO bill_line (park_id, bill_id, contract_id, kind, period_start, period_end, amount, explain, line_type)
    VALUES (NEW.park_id, v_new_bill, NEW.id, 'other', v_day, v_day, v_debt,
            format('balance brought forward from %s: %s unpaid on bill %s', o.code, money_text(v_debt), v_bills), 'adjustment');
  END IF;
  -- a credit left over (the tenant paid ahead) moves too: paid out of the old lease to an
  -- old bill of its own, and owed back on the renewal as a credit
  SELECT COALESCE(sum(p.unallocated), 0.00) INTO v_credit FROM payment p WHERE p.contract_id = o.id;
  IF v_credit > 0 THEN
    INSERT INTO bill (park_id, contract_id, period, issued_on, due_on, issued_by)
    VALUES (o.park_id, o.id, date_trunc('month', v_day)::date, v_day, v_day, current_actor())
    RETURNING id INTO v_old_bill;
    INSERT INTO bill (park_id, contract_id, period, issued_on, due_on, issued_by)
    VALUES (NEW.park_id, NEW.id, date_trunc('month', v_day)::date, v_day, v_day, current_actor())
    RETURNING id INTO v_new_bill;
    INSERT INTO bill_line (park_id, bill_id, contract_id, kind, period_start, period_end, amount, explain, line_type)
    VALUES (o.park_id, v_old_bill, o.id, 'other', v_day, v_day, v_credit,
            format('credit of %s carried over to renewal %s (bill %s)', money_text(v_credit), NEW.code, v_new_bill), 'adjustment'),
           (NEW.park_id, v_new_bill, NEW.id, 'other', v_day, v_day, -v_credit,
            format('credit brought forward from %s (bill %s)', o.code, v_old_bill), 'adjustment');
    PERFORM apply_credit(o.id);
  END IF;
  PERFORM contract_transition(o.id, 'renewed', format('continued by renewal %s', NEW.code));
  RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION leasemgr.renewal_takes_over() IS
  'Trigger: when a renewal activates, the lease it renews expires (if it has not), carries its deposit over (carried_out / carried_in), carries its unpaid bills over as a balance brought forward on a bill of the renewal (its own credit paying them first, a credit left over brought forward as the renewal''s credit), and closes without a move-out (event renewed).';
CREATE TRIGGER renewal_takes_over AFTER UPDATE OF state ON leasemgr.contract
  FOR EACH ROW WHEN (OLD.state = 'signed' AND NEW.state = 'active' AND NEW.renews_contract_id IS NOT NULL)
  EXECUTE FUNCTION leasemgr.renewal_takes_over();

REVOKE ALL ON FUNCTION leasemgr.move_out_blockers(bigint), leasemgr.money_blockers(bigint), leasemgr.close_blockers(bigint),
  leasemgr.renewal_close_blockers(bigint), leasemgr.renew(bigint, date, jsonb), leasemgr.renewal_takes_over() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leasemgr.move_out_blockers(bigint), leasemgr.money_blockers(bigint), leasemgr.close_blockers(bigint),
  leasemgr.renewal_close_blockers(bigint) TO leasemgr_reader;
GRANT EXECUTE ON FUNCTION leasemgr.renew(bigint, date, jsonb) TO leasemgr_operator;
