-- Helpers for the pgTAP suites, installed once in the test database (schema th). Each
-- suite runs in a transaction it rolls back, so the rows the helpers create disappear.

CREATE SCHEMA th;
CREATE SEQUENCE th.n;

\set fx_schema th
\ir ../fixtures/check_characters.sql
\ir ../fixtures/sms_gateway_test_key.sql

-- A park (with its region) and a building in it.
CREATE FUNCTION th.park(p_code text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  r bigint;
  p bigint;
BEGIN
  SELECT g.id INTO r FROM leasemgr.region g WHERE g.code = 'T';
  IF r IS NULL THEN
    INSERT INTO leasemgr.region (code, name) VALUES ('T', 'Test region') RETURNING id INTO r;
  END IF;
  INSERT INTO leasemgr.park (region_id, code, name) VALUES (r, p_code, 'Park ' || p_code) RETURNING id INTO p;
  INSERT INTO leasemgr.building (park_id, code, name) VALUES (p, 'B', 'Building of ' || p_code);
  RETURN p;
END
$$;

CREATE FUNCTION th.unit(p_park bigint, p_code text, p_area numeric DEFAULT 100) RETURNS bigint
LANGUAGE sql AS $$
  INSERT INTO leasemgr.unit (park_id, building_id, floor, code, kind, area_m2)
  SELECT p_park, b.id, 1, p_code, 'office', p_area FROM leasemgr.building b
   WHERE b.park_id = p_park AND b.code = 'B'
  RETURNING id
$$;

CREATE FUNCTION th.tenant(p_park bigint, p_n int DEFAULT 1) RETURNS bigint LANGUAGE sql AS $$
  INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
  VALUES (p_park, 'company', 'Tenant ' || p_n, 'uscc', th.uscc('91320594MA1' || lpad(p_n::text, 6, '0')))
  RETURNING id
$$;

-- A draft contract on the given units, with a rent charge of 80.0000 CNY per m² and month
-- over the whole lease (submission needs a charge); p_charge => false leaves it without one.
CREATE FUNCTION th.draft(p_park bigint, p_code text, p_units bigint[], p_start date, p_end date,
                         p_tenant bigint DEFAULT NULL, p_charge boolean DEFAULT true)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  c bigint;
  u bigint;
BEGIN
  INSERT INTO leasemgr.contract (park_id, code, tenant_id, start_date, end_date)
  VALUES (p_park, p_code, coalesce(p_tenant, th.tenant(p_park, nextval('th.n')::int)), p_start, p_end)
  RETURNING id INTO c;
  FOREACH u IN ARRAY p_units LOOP
    INSERT INTO leasemgr.contract_unit (contract_id, unit_id) VALUES (c, u);
  END LOOP;
  IF p_charge THEN
    INSERT INTO leasemgr.charge (contract_id, kind, basis, rate) VALUES (c, 'rent', 'per_m2_month', 80.0000);
  END IF;
  RETURN c;
END
$$;

-- Make a lease under move-out closable, as finance would: the park's bill run through the
-- last month of the lease, and the balance paid (move_out_test covers the rule itself).
CREATE FUNCTION th.settle(p_contract bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM leasemgr.bill_run(date_trunc('month', upper(c.lease_range) - 1)::date, c.park_id)
     FROM leasemgr.contract c WHERE c.id = p_contract;
  PERFORM leasemgr.record_payment(p_contract, sum(b.amount - b.paid), max(upper(c.lease_range) - 1), 'bank_transfer',
                                  'TH-FINAL-' || p_contract)
     FROM leasemgr.bill b JOIN leasemgr.contract c ON c.id = b.contract_id
    WHERE b.contract_id = p_contract AND b.voided_at IS NULL
   HAVING sum(b.amount - b.paid) > 0;
END
$$;

-- Fire one event as a given person, restoring the actor afterwards (settling the money first
-- for close).
CREATE FUNCTION th.fire(p_contract bigint, p_event text, p_actor text DEFAULT 'th.operator',
                        p_effective date DEFAULT NULL) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  before text := current_setting('leasemgr.actor', true);
  result text;
BEGIN
  PERFORM set_config('leasemgr.actor', p_actor, true);
  IF p_event = 'close' THEN
    PERFORM th.settle(p_contract);
  END IF;
  result := leasemgr.contract_transition(p_contract, p_event, NULL, p_effective);
  PERFORM set_config('leasemgr.actor', coalesce(before, ''), true);
  RETURN result;
END
$$;

-- Walk a draft to a target state along the shortest path of the state machine, with a
-- submitter and a different approver. The dates must allow the path (activate needs
-- start_date <= today, expire needs end_date < today).
CREATE FUNCTION th.walk(p_contract bigint, p_target text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  path text[] := CASE p_target
    WHEN 'draft' THEN '{}'
    WHEN 'pending_approval' THEN '{submit}'
    WHEN 'approved' THEN '{submit,approve}'
    WHEN 'signed' THEN '{submit,approve,sign}'
    WHEN 'active' THEN '{submit,approve,sign,activate}'
    WHEN 'expired' THEN '{submit,approve,sign,activate,expire}'
    WHEN 'terminated' THEN '{submit,approve,sign,activate,terminate}'
    WHEN 'moving_out' THEN '{submit,approve,sign,activate,expire,start_move_out}'
    WHEN 'closed' THEN '{submit,approve,sign,activate,expire,start_move_out,close}'
    WHEN 'cancelled' THEN '{cancel}'
  END;
  e text;
  s text := 'draft';
BEGIN
  IF path IS NULL THEN
    RAISE EXCEPTION 'th.walk: no path to %', p_target;
  END IF;
  FOREACH e IN ARRAY path LOOP
    IF e = 'sign' THEN
      UPDATE leasemgr.contract SET document_sha256 = repeat('ab', 32) WHERE id = p_contract;
    END IF;
    IF e = 'terminate' THEN
      s := th.fire(p_contract, e, 'th.operator',
                   (SELECT c.start_date FROM leasemgr.contract c WHERE c.id = p_contract));
    ELSE
      s := th.fire(p_contract, e, CASE e WHEN 'approve' THEN 'th.approver' ELSE 'th.submitter' END);
    END IF;
  END LOOP;
  RETURN s;
END
$$;

-- A contract in a given state on a fresh unit. Dates 2024-01-01..2024-12-31 allow every
-- path (activation and expiry are both in the past).
CREATE FUNCTION th.contract_in(p_park bigint, p_target text, p_code text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  c bigint;
  n bigint := nextval('th.n');
BEGIN
  c := th.draft(p_park, coalesce(p_code, 'C-' || p_target || '-' || n), ARRAY[th.unit(p_park, 'U' || n)],
                '2024-01-01', '2024-12-31');
  PERFORM th.walk(c, p_target);
  RETURN c;
END
$$;

-- The error a statement raises: SQLSTATE, message, detail, hint (NULLs when it succeeds).
-- The statement's effects are rolled back either way.
CREATE FUNCTION th.error_of(stmt text, OUT code text, OUT message text, OUT detail text,
                            OUT hint text) LANGUAGE plpgsql AS $$
BEGIN
  BEGIN
    EXECUTE stmt;
    RAISE EXCEPTION USING ERRCODE = 'TH000', MESSAGE = 'no error';
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    IF code = 'TH000' THEN
      code := NULL; message := NULL; detail := NULL; hint := NULL;
    END IF;
  END;
END
$$;

-- A refusal in full: passes when the statement fails with exactly this SQLSTATE, message,
-- detail and hint (NULL for a part the error does not have).
CREATE FUNCTION th.refuses(stmt text, p_code text, p_message text, p_detail text, p_hint text,
                           description text) RETURNS text LANGUAGE sql AS $$
  SELECT is(ARRAY[e.code, e.message, e.detail, e.hint], ARRAY[p_code, p_message, p_detail, p_hint], description)
    FROM th.error_of(stmt) e
$$;

GRANT USAGE ON SCHEMA th TO PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA th TO PUBLIC;
GRANT USAGE ON SEQUENCE th.n TO PUBLIC;
