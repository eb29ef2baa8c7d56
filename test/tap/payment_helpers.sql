-- Helpers of the payment and late-fee suites, included (\ir) inside their transaction, so
-- they live in pg_temp and disappear with the rollback. The bill run is not written yet:
-- bills are made as finance would, an empty bill and then adjustment (and late-fee) lines.

-- A contract with a charge (submit requires one), walked to a state by th.walk.
CREATE FUNCTION pg_temp.contract(p_park bigint, p_code text, p_state text DEFAULT 'active',
                                 p_start date DEFAULT '2026-01-01', p_end date DEFAULT '2026-12-31')
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  c bigint := th.draft(p_park, p_code, ARRAY[th.unit(p_park, p_code || '-U')], p_start, p_end);
BEGIN
  INSERT INTO leasemgr.charge (contract_id, kind, basis, rate) VALUES (c, 'rent', 'fixed_month', 1000);
  PERFORM th.walk(c, p_state);
  RETURN c;
END
$$;

-- A bill of the month of p_issued: principal as one adjustment line (kind rent), and a
-- late-fee line when p_late_fee is given. Returns the bill id.
CREATE FUNCTION pg_temp.bill(p_contract bigint, p_issued date, p_due date, p_principal numeric,
                             p_late_fee numeric DEFAULT NULL) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  k bigint := (SELECT c.park_id FROM leasemgr.contract c WHERE c.id = p_contract);
  m date := date_trunc('month', p_issued)::date;
  b bigint;
BEGIN
  INSERT INTO leasemgr.bill (park_id, contract_id, period, issued_on, due_on, issued_by)
  VALUES (k, p_contract, m, p_issued, p_due, 'th.finance') RETURNING id INTO b;
  INSERT INTO leasemgr.bill_line (park_id, bill_id, contract_id, kind, period_start, period_end, amount, explain, line_type)
  VALUES (k, b, p_contract, 'rent', m, (m + interval '1 month - 1 day')::date, p_principal,
          'rent ' || p_principal, 'adjustment');
  IF p_late_fee IS NOT NULL THEN
    INSERT INTO leasemgr.bill_line (park_id, bill_id, contract_id, kind, period_start, period_end, amount, explain, line_type)
    VALUES (k, b, p_contract, 'late_fee', m, (m + interval '1 month - 1 day')::date, p_late_fee,
            'late fee ' || p_late_fee, 'late_fee');
  END IF;
  RETURN b;
END
$$;

-- Opening an amendment is not a transition yet: put a contract in (or out of) 'amending' the
-- way a later version's amendment_open / amendment_approve will, without the state machine.
CREATE FUNCTION pg_temp.force_state(p_contract bigint, p_state text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  SET LOCAL session_replication_role = replica;
  UPDATE leasemgr.contract SET state = p_state WHERE id = p_contract;
  SET LOCAL session_replication_role = origin;
END
$$;

-- A payment's allocations as (bill, part, amount, effective_on) in the order they were made.
CREATE FUNCTION pg_temp.allocations(p_payment bigint)
RETURNS TABLE (bill_id bigint, part text, amount numeric, effective_on date) LANGUAGE sql AS $$
  SELECT a.bill_id, a.part, a.amount, a.effective_on FROM leasemgr.payment_allocation a
   WHERE a.payment_id = p_payment ORDER BY a.id
$$;
