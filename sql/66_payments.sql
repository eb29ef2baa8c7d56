-- Payments and late fees: money received (once per channel and reference), its allocation
-- to bills, and the late-fee policies leasemgr.late_fee() reads. docs/billing.md explains the
-- allocation order and the day count; the fee itself is C (src/late_fee.c,
-- src/core/lm_late_fee.c), the guard of the payments too (src/payment.c).

CREATE TABLE leasemgr.payment (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  park_id     bigint NOT NULL,
  contract_id bigint NOT NULL,
  amount      numeric(16,2) NOT NULL CHECK (amount > 0),
  paid_on     date NOT NULL CHECK (pg_catalog.isfinite(paid_on)),
  channel     text NOT NULL CHECK (channel IN ('bank_transfer', 'wechat', 'alipay', 'card', 'cash', 'deposit_offset')),
  reference   text NOT NULL CHECK (reference <> '' AND reference OPERATOR(pg_catalog.=) pg_catalog.btrim(reference)),
  unallocated numeric(16,2) NOT NULL,
  recorded_by text NOT NULL DEFAULT leasemgr.current_actor(),
  recorded_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
  CONSTRAINT payment_unallocated_range CHECK (unallocated >= 0 AND unallocated <= amount),
  -- The same transfer, WeChat Pay order or receipt number is recorded once per park.
  CONSTRAINT payment_reference_once UNIQUE (park_id, channel, reference),
  CONSTRAINT payment_key UNIQUE (id, park_id),
  CONSTRAINT payment_contract_fk FOREIGN KEY (contract_id, park_id) REFERENCES leasemgr.contract (id, park_id)
);
-- Where credit is: payments with money not yet allocated, by contract.
CREATE INDEX payment_credit_idx ON leasemgr.payment (contract_id) WHERE unallocated > 0;
COMMENT ON TABLE leasemgr.payment IS
  'Money received from a tenant (收款), recorded once per channel and reference by leasemgr.record_payment and allocated to the contract''s bills; what is not allocated yet is the tenant''s credit. Never changed or deleted: only unallocated moves, with the allocations.';
COMMENT ON INDEX leasemgr.payment_credit_idx IS 'Payments that still hold credit, found by contract.';
COMMENT ON COLUMN leasemgr.payment.id IS 'Payment identifier.';
COMMENT ON COLUMN leasemgr.payment.park_id IS 'Taken from the contract.';
COMMENT ON COLUMN leasemgr.payment.contract_id IS 'The contract the money was paid for.';
COMMENT ON COLUMN leasemgr.payment.amount IS 'CNY received, > 0, to the cent.';
COMMENT ON COLUMN leasemgr.payment.paid_on IS 'The day the money was received (the value date). From this day the amount stops late-fee accrual on the bills it is allocated to.';
COMMENT ON COLUMN leasemgr.payment.channel IS 'How it was paid: bank_transfer, wechat, alipay, card, cash or deposit_offset (taken from the deposit).';
COMMENT ON COLUMN leasemgr.payment.reference IS 'The channel''s reference: bank transaction number, WeChat Pay or Alipay order number, receipt number. Unique per park and channel; recording it again returns the first payment.';
COMMENT ON COLUMN leasemgr.payment.unallocated IS 'Credit: amount minus the allocations of this payment, CNY. Kept by the allocation trigger; applied to the next bills by leasemgr.apply_credit.';
COMMENT ON COLUMN leasemgr.payment.recorded_by IS 'Stamped: the person who recorded it (leasemgr.actor, else the login).';
COMMENT ON COLUMN leasemgr.payment.recorded_at IS 'Stamped: when it was recorded.';

CREATE TABLE leasemgr.payment_allocation (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  park_id      bigint NOT NULL,
  payment_id   bigint NOT NULL,
  bill_id      bigint NOT NULL,
  amount       numeric(16,2) NOT NULL CHECK (amount > 0),
  part         text NOT NULL CHECK (part IN ('principal', 'late_fee')),
  effective_on date NOT NULL,
  allocated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
  CONSTRAINT payment_allocation_payment_fk FOREIGN KEY (payment_id, park_id) REFERENCES leasemgr.payment (id, park_id),
  CONSTRAINT payment_allocation_bill_fk FOREIGN KEY (bill_id, park_id) REFERENCES leasemgr.bill (id, park_id)
);
CREATE INDEX payment_allocation_bill_idx ON leasemgr.payment_allocation (bill_id);
CREATE INDEX payment_allocation_payment_idx ON leasemgr.payment_allocation (payment_id);
COMMENT ON TABLE leasemgr.payment_allocation IS
  'Part of a payment applied to a bill, to its principal or to its late fees (核销). Written by leasemgr.apply_credit; never changed or deleted. bill.paid and payment.unallocated follow it.';
COMMENT ON COLUMN leasemgr.payment_allocation.id IS 'Allocation identifier; the order of allocation.';
COMMENT ON COLUMN leasemgr.payment_allocation.park_id IS 'The park (of the payment and the bill).';
COMMENT ON COLUMN leasemgr.payment_allocation.payment_id IS 'The payment the money comes from.';
COMMENT ON COLUMN leasemgr.payment_allocation.bill_id IS 'The bill it pays, of the same contract.';
COMMENT ON COLUMN leasemgr.payment_allocation.amount IS 'CNY applied, > 0.';
COMMENT ON COLUMN leasemgr.payment_allocation.part IS 'principal (the bill''s charge and adjustment lines) or late_fee (its late-fee lines).';
COMMENT ON COLUMN leasemgr.payment_allocation.effective_on IS 'The day the money counts for this bill: the later of the payment''s paid_on and the bill''s issued_on (credit applied to a later bill counts from that bill''s issue day). Late fees stop accruing on this amount from this day.';
COMMENT ON COLUMN leasemgr.payment_allocation.allocated_at IS 'When the allocation was recorded.';

CREATE TABLE leasemgr.late_fee_policy (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  park_id        bigint NOT NULL REFERENCES leasemgr.park (id),
  contract_id    bigint,
  daily_rate_pct numeric(8,5) NOT NULL CHECK (daily_rate_pct >= 0),
  grace_days     integer NOT NULL DEFAULT 0 CHECK (grace_days >= 0),
  cap_pct        numeric(7,4) CHECK (cap_pct > 0),
  note           text,
  CONSTRAINT late_fee_policy_contract_once UNIQUE (contract_id),
  CONSTRAINT late_fee_policy_contract_fk FOREIGN KEY (contract_id, park_id)
    REFERENCES leasemgr.contract (id, park_id) ON DELETE CASCADE
);
-- One default per park.
CREATE UNIQUE INDEX late_fee_policy_park_default ON leasemgr.late_fee_policy (park_id) WHERE contract_id IS NULL;
COMMENT ON TABLE leasemgr.late_fee_policy IS
  'Late fee (滞纳金) terms: a daily rate on the unpaid principal, grace days and a cap. One default per park (contract_id NULL) and at most one override per contract; without either, no late fee. leasemgr.late_fee applies the policy in force when it is called.';
COMMENT ON INDEX leasemgr.late_fee_policy_park_default IS 'At most one default policy per park.';
COMMENT ON COLUMN leasemgr.late_fee_policy.id IS 'Policy identifier.';
COMMENT ON COLUMN leasemgr.late_fee_policy.park_id IS 'The park; for an override, the contract''s park.';
COMMENT ON COLUMN leasemgr.late_fee_policy.contract_id IS 'The contract this policy overrides the park default for; NULL for the park default.';
COMMENT ON COLUMN leasemgr.late_fee_policy.daily_rate_pct IS 'Late fee per day in percent of the unpaid principal, >= 0: 0.05000 means 0.05% a day (万分之五).';
COMMENT ON COLUMN leasemgr.late_fee_policy.grace_days IS 'Days after the due day without a fee, >= 0: accrual starts on due_on + grace_days + 1, and a bill paid within the grace owes nothing.';
COMMENT ON COLUMN leasemgr.late_fee_policy.cap_pct IS 'Largest fee in percent of the bill''s principal (> 0), e.g. 10.0000; NULL for no cap.';
COMMENT ON COLUMN leasemgr.late_fee_policy.note IS 'Free text, e.g. the contract clause.';

-- ---- rules of the ledgers, for every writer ------------------------------------------------

CREATE FUNCTION leasemgr.payment_before_write() RETURNS trigger
  AS 'MODULE_PATHNAME', 'payment_before_write'
  LANGUAGE C;
COMMENT ON FUNCTION leasemgr.payment_before_write() IS
  'Trigger: a payment takes its park from the contract, starts fully unallocated and is stamped with who recorded it; afterwards only unallocated changes, and only to amount minus the payment''s allocations; payments are never deleted (SQLSTATE LM010).';
CREATE TRIGGER payment_before_write BEFORE INSERT OR UPDATE OR DELETE ON leasemgr.payment
  FOR EACH ROW EXECUTE FUNCTION leasemgr.payment_before_write();
CREATE TRIGGER ledger_guard_truncate BEFORE TRUNCATE ON leasemgr.payment
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.ledger_guard();

CREATE TRIGGER ledger_guard BEFORE UPDATE OR DELETE ON leasemgr.payment_allocation
  FOR EACH ROW EXECUTE FUNCTION leasemgr.ledger_guard();
CREATE TRIGGER ledger_guard_truncate BEFORE TRUNCATE ON leasemgr.payment_allocation
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.ledger_guard();

-- After allocations are inserted: check them as a set, then bring bill.paid and
-- payment.unallocated to their totals (the guards of bill and payment verify those totals).
-- Unchanged totals are not rewritten, so a restore, which loads the totals with the rows,
-- rewrites nothing.
CREATE FUNCTION leasemgr.payment_allocation_totals() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
DECLARE
  r record;
BEGIN
  -- A restore loads allocations as they were made, with the totals: the rules of the day
  -- they were made (a contract since frozen by an amendment, say) were checked then.
  IF leasemgr.owner_copy(TG_RELID) THEN
    RETURN NULL;
  END IF;
  -- Lock the bills and payments the new allocations touch, in id order (two writers cannot
  -- deadlock), before reading any total: another writer's allocations to them are then
  -- committed and seen by the statements below (READ COMMITTED takes a snapshot per
  -- statement), or this transaction fails to serialise (REPEATABLE READ). Never a total
  -- computed without them.
  PERFORM FROM leasemgr.bill b WHERE b.id IN (SELECT n.bill_id FROM new_allocations n)
    ORDER BY b.id FOR NO KEY UPDATE;
  PERFORM FROM leasemgr.payment p WHERE p.id IN (SELECT n.payment_id FROM new_allocations n)
    ORDER BY p.id FOR NO KEY UPDATE;

  SELECT n.payment_id, n.bill_id, n.effective_on, p.paid_on, b.issued_on,
         p.contract_id AS payment_contract, b.contract_id AS bill_contract, b.voided_at,
         c.state AS contract_state
    INTO r
    FROM new_allocations n
    JOIN leasemgr.payment p ON p.id OPERATOR(pg_catalog.=) n.payment_id
    JOIN leasemgr.bill b ON b.id OPERATOR(pg_catalog.=) n.bill_id
    JOIN leasemgr.contract c ON c.id OPERATOR(pg_catalog.=) p.contract_id
   WHERE p.contract_id OPERATOR(pg_catalog.<>) b.contract_id
      OR b.voided_at IS NOT NULL
      OR n.effective_on OPERATOR(pg_catalog.<>) GREATEST(p.paid_on, b.issued_on)
      OR c.state OPERATOR(pg_catalog.=) 'amending'
   LIMIT 1;
  IF FOUND THEN
    IF r.contract_state OPERATOR(pg_catalog.=) 'amending' THEN
      RAISE EXCEPTION USING ERRCODE = 'LM011',
        MESSAGE = pg_catalog.format('payment %s cannot be allocated while contract %s is frozen by an amendment',
                                    r.payment_id, r.payment_contract),
        DETAIL = 'A frozen contract''s payments are kept whole as credit until the amendment is approved or withdrawn.',
        HINT = 'Allocate after the amendment is decided; leasemgr.apply_credit does it then.';
    ELSIF r.payment_contract OPERATOR(pg_catalog.<>) r.bill_contract THEN
      RAISE EXCEPTION USING ERRCODE = 'LM011',
        MESSAGE = pg_catalog.format('payment %s cannot pay bill %s', r.payment_id, r.bill_id),
        DETAIL = pg_catalog.format('The payment is for contract %s, the bill for contract %s.',
                                   r.payment_contract, r.bill_contract),
        HINT = 'A payment pays the bills of its own contract; record the money for the right contract.';
    ELSIF r.voided_at IS NOT NULL THEN
      RAISE EXCEPTION USING ERRCODE = 'LM011',
        MESSAGE = pg_catalog.format('bill %s is void and cannot be paid', r.bill_id),
        DETAIL = pg_catalog.format('Bill %s was voided at %s.', r.bill_id, r.voided_at),
        HINT = 'Leave the money as credit; leasemgr.apply_credit allocates it to the valid bills.';
    ELSE
      RAISE EXCEPTION USING ERRCODE = 'LM011',
        MESSAGE = pg_catalog.format('an allocation of payment %s to bill %s counts from %s, not %s',
                                    r.payment_id, r.bill_id, GREATEST(r.paid_on, r.issued_on), r.effective_on),
        DETAIL = pg_catalog.format('effective_on is the later of the payment''s paid_on (%s) and the bill''s issued_on (%s).',
                                   r.paid_on, r.issued_on),
        HINT = 'Allocate with leasemgr.apply_credit, which sets it.';
    END IF;
  END IF;

  -- A bill's principal allocations stay within its charge and adjustment lines, its late-fee
  -- allocations within its late-fee lines.
  SELECT t.bill_id, t.part, t.allocated, t.due INTO r
    FROM (SELECT a.bill_id, a.part, pg_catalog.sum(a.amount) AS allocated,
                 (SELECT COALESCE(pg_catalog.sum(l.amount), 0.00) FROM leasemgr.bill_line l
                   WHERE l.bill_id OPERATOR(pg_catalog.=) a.bill_id
                     AND (l.line_type OPERATOR(pg_catalog.=) 'late_fee') OPERATOR(pg_catalog.=) (a.part OPERATOR(pg_catalog.=) 'late_fee')) AS due
            FROM leasemgr.payment_allocation a
           WHERE (a.bill_id, a.part) IN (SELECT n.bill_id, n.part FROM new_allocations n)
           GROUP BY a.bill_id, a.part) t
   WHERE t.allocated OPERATOR(pg_catalog.>) t.due
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = pg_catalog.format('bill %s would be paid %s on its %s, which is %s', r.bill_id, r.allocated,
                                  pg_catalog.replace(r.part, '_', ' '), r.due),
      DETAIL = 'Allocations to a bill''s principal stay within its charge and adjustment lines, to its late fees within its late-fee lines.',
      HINT = 'Allocate with leasemgr.apply_credit; money beyond what the bills ask for stays as credit.';
  END IF;

  -- A payment is never allocated beyond its amount.
  SELECT p.id, p.amount, t.allocated INTO r
    FROM (SELECT a.payment_id, pg_catalog.sum(a.amount) AS allocated
            FROM leasemgr.payment_allocation a
           WHERE a.payment_id IN (SELECT n.payment_id FROM new_allocations n)
           GROUP BY a.payment_id) t
    JOIN leasemgr.payment p ON p.id OPERATOR(pg_catalog.=) t.payment_id
   WHERE t.allocated OPERATOR(pg_catalog.>) p.amount
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = pg_catalog.format('payment %s of %s would be allocated %s', r.id, r.amount, r.allocated),
      DETAIL = 'A payment is allocated at most its amount.',
      HINT = 'Allocate with leasemgr.apply_credit, which allocates only what is unallocated.';
  END IF;

  UPDATE leasemgr.bill b
     SET paid = t.total
    FROM (SELECT a.bill_id, pg_catalog.sum(a.amount) AS total
            FROM leasemgr.payment_allocation a
           WHERE a.bill_id IN (SELECT n.bill_id FROM new_allocations n)
           GROUP BY a.bill_id) t
   WHERE b.id OPERATOR(pg_catalog.=) t.bill_id
     AND b.paid OPERATOR(pg_catalog.<>) t.total;
  UPDATE leasemgr.payment p
     SET unallocated = p.amount OPERATOR(pg_catalog.-) t.total
    FROM (SELECT a.payment_id, pg_catalog.sum(a.amount) AS total
            FROM leasemgr.payment_allocation a
           WHERE a.payment_id IN (SELECT n.payment_id FROM new_allocations n)
           GROUP BY a.payment_id) t
   WHERE p.id OPERATOR(pg_catalog.=) t.payment_id
     AND p.unallocated OPERATOR(pg_catalog.<>) (p.amount OPERATOR(pg_catalog.-) t.total);
  RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION leasemgr.payment_allocation_totals() IS
  'Trigger: checks new allocations (same contract, not frozen by an amendment, valid bill, effective day, within the bill''s principal or late fees and within the payment; SQLSTATE LM011), then keeps bill.paid equal to the bill''s allocations and payment.unallocated equal to amount minus the payment''s.';
CREATE TRIGGER payment_allocation_totals AFTER INSERT ON leasemgr.payment_allocation
  REFERENCING NEW TABLE AS new_allocations
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.payment_allocation_totals();

CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON leasemgr.late_fee_policy
  FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row();
CREATE TRIGGER truncate_guard BEFORE TRUNCATE ON leasemgr.late_fee_policy
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.truncate_guard();

-- ---- the API -----------------------------------------------------------------------------

CREATE FUNCTION leasemgr.apply_credit(contract_id bigint) RETURNS numeric
  LANGUAGE plpgsql SECURITY INVOKER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
DECLARE
  v_state text;
  v_allocated numeric;
BEGIN
  IF apply_credit.contract_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = 'apply_credit needs a contract_id',
      DETAIL = 'contract_id is NULL.',
      HINT = 'Pass the id of the contract whose credit to allocate.';
  END IF;
  -- One allocator per contract at a time: whoever comes second waits, then sees (statements
  -- of a READ COMMITTED transaction take a new snapshot) what the first allocated. An
  -- advisory lock, not a row lock on the contract: locking a row needs UPDATE on the
  -- contract, which finance does not have. The key space is leasemgr's payments (first
  -- key) and the contract (second key); a hash collision only serialises two contracts.
  PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('leasemgr.payment'),
                                           pg_catalog.hashint8(apply_credit.contract_id));
  SELECT c.state INTO v_state
    FROM leasemgr.contract c WHERE c.id OPERATOR(pg_catalog.=) apply_credit.contract_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'LM009',
      MESSAGE = pg_catalog.format('contract %s does not exist', apply_credit.contract_id),
      HINT = 'Check the id; rows of parks you have not been granted are not visible to you.';
  END IF;
  -- An open amendment freezes the contract: its money waits as credit.
  IF v_state OPERATOR(pg_catalog.=) 'amending' THEN
    RETURN 0.00;
  END IF;

  -- Credit and debts as two queues laid end to end, each as running intervals of money:
  -- payment i holds [pstart, pend) of the credit (oldest payment first), debt j needs
  -- [dstart, dend) (all principal, oldest due first, then all late fees, oldest due first).
  -- Payment i pays debt j the overlap of their intervals: the greedy allocation, in one
  -- statement.
  WITH credit AS (
    SELECT p.id, p.park_id, p.paid_on,
           pg_catalog.sum(p.unallocated) OVER w OPERATOR(pg_catalog.-) p.unallocated AS pstart,
           pg_catalog.sum(p.unallocated) OVER w AS pend
      FROM leasemgr.payment p
     WHERE p.contract_id OPERATOR(pg_catalog.=) apply_credit.contract_id
       AND p.unallocated OPERATOR(pg_catalog.>) 0
    WINDOW w AS (ORDER BY p.paid_on, p.id)
  ), bills AS (
    SELECT b.id, b.due_on, b.issued_on,
           b.amount OPERATOR(pg_catalog.-) b.paid AS open_amount,
           GREATEST(COALESCE((SELECT pg_catalog.sum(l.amount) FROM leasemgr.bill_line l
                               WHERE l.bill_id OPERATOR(pg_catalog.=) b.id
                                 AND l.line_type OPERATOR(pg_catalog.<>) 'late_fee'), 0)
                    OPERATOR(pg_catalog.-)
                    COALESCE((SELECT pg_catalog.sum(a.amount) FROM leasemgr.payment_allocation a
                               WHERE a.bill_id OPERATOR(pg_catalog.=) b.id
                                 AND a.part OPERATOR(pg_catalog.=) 'principal'), 0), 0) AS principal_open,
           GREATEST(COALESCE((SELECT pg_catalog.sum(l.amount) FROM leasemgr.bill_line l
                               WHERE l.bill_id OPERATOR(pg_catalog.=) b.id
                                 AND l.line_type OPERATOR(pg_catalog.=) 'late_fee'), 0)
                    OPERATOR(pg_catalog.-)
                    COALESCE((SELECT pg_catalog.sum(a.amount) FROM leasemgr.payment_allocation a
                               WHERE a.bill_id OPERATOR(pg_catalog.=) b.id
                                 AND a.part OPERATOR(pg_catalog.=) 'late_fee'), 0), 0) AS fee_open
      FROM leasemgr.bill b
     WHERE b.contract_id OPERATOR(pg_catalog.=) apply_credit.contract_id
       AND b.voided_at IS NULL
       AND b.paid OPERATOR(pg_catalog.<) b.amount
  ), debt AS (
    -- Never more than the bill still asks for, whatever negative adjustments did.
    SELECT d.bill_id, d.part, d.issued_on, d.need,
           pg_catalog.sum(d.need) OVER w OPERATOR(pg_catalog.-) d.need AS dstart,
           pg_catalog.sum(d.need) OVER w AS dend
      FROM (SELECT x.id AS bill_id, 'principal' AS part, 1 AS rank, x.due_on, x.issued_on,
                   LEAST(x.principal_open, x.open_amount) AS need
              FROM bills x
            UNION ALL
            SELECT x.id, 'late_fee', 2, x.due_on, x.issued_on,
                   LEAST(x.fee_open, x.open_amount OPERATOR(pg_catalog.-) LEAST(x.principal_open, x.open_amount))
              FROM bills x) d
     WHERE d.need OPERATOR(pg_catalog.>) 0
    WINDOW w AS (ORDER BY d.rank, d.due_on, d.bill_id)
  ), allocated AS (
    INSERT INTO leasemgr.payment_allocation (park_id, payment_id, bill_id, amount, part, effective_on)
    SELECT c.park_id, c.id, d.bill_id,
           LEAST(c.pend, d.dend) OPERATOR(pg_catalog.-) GREATEST(c.pstart, d.dstart),
           d.part, GREATEST(c.paid_on, d.issued_on)
      FROM credit c
      JOIN debt d ON c.pstart OPERATOR(pg_catalog.<) d.dend AND d.dstart OPERATOR(pg_catalog.<) c.pend
     ORDER BY c.pstart, d.dstart
    RETURNING amount
  )
  SELECT COALESCE(pg_catalog.sum(a.amount), 0.00) INTO v_allocated FROM allocated a;
  RETURN v_allocated;
END
$fn$;
COMMENT ON FUNCTION leasemgr.apply_credit(bigint) IS
  'Allocates a contract''s credit (the unallocated money of its payments, oldest payment first) to its open bills: first the principal of every bill, oldest due day first, then the late fees the same way. Returns the amount allocated. Does nothing while the contract is amending. Runs with the caller''s rights.';

CREATE FUNCTION leasemgr.record_payment(contract_id bigint, amount numeric, paid_on date, channel text,
                                        reference text) RETURNS bigint
  LANGUAGE plpgsql SECURITY INVOKER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
DECLARE
  v_channels text[] := ARRAY['bank_transfer', 'wechat', 'alipay', 'card', 'cash', 'deposit_offset'];
  v_reference text := pg_catalog.btrim(record_payment.reference);
  v_park bigint;
  v_id bigint;
  v_first record;
BEGIN
  IF record_payment.contract_id IS NULL OR record_payment.amount IS NULL OR record_payment.paid_on IS NULL
     OR record_payment.channel IS NULL OR record_payment.reference IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = 'record_payment needs a contract, an amount, a date, a channel and a reference',
      DETAIL = pg_catalog.format('NULL was passed for %s.',
        pg_catalog.concat_ws(', ',
          CASE WHEN record_payment.contract_id IS NULL THEN 'contract_id' END,
          CASE WHEN record_payment.amount IS NULL THEN 'amount' END,
          CASE WHEN record_payment.paid_on IS NULL THEN 'paid_on' END,
          CASE WHEN record_payment.channel IS NULL THEN 'channel' END,
          CASE WHEN record_payment.reference IS NULL THEN 'reference' END)),
      HINT = 'Pass every argument; the reference is the channel''s transaction or receipt number.';
  END IF;
  IF record_payment.amount OPERATOR(pg_catalog.<=) 0 THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = pg_catalog.format('a payment must be more than zero, not %s', record_payment.amount),
      DETAIL = 'A payment records money received.',
      HINT = 'Money paid back to a tenant is a refund, not a negative payment.';
  END IF;
  -- Whole cents (no rounding of money here: a fraction of a cent is refused, not rounded).
  IF ((record_payment.amount OPERATOR(pg_catalog.*) 100) OPERATOR(pg_catalog.%) 1) OPERATOR(pg_catalog.<>) 0
     OR record_payment.amount OPERATOR(pg_catalog.>=) 100000000000000 THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = pg_catalog.format('%s is not an amount of money', record_payment.amount),
      DETAIL = 'Payments are recorded in CNY to the cent, below 100,000,000,000,000.',
      HINT = 'Pass the amount exactly as received, with at most two decimals.';
  END IF;
  IF NOT pg_catalog.isfinite(record_payment.paid_on)
     OR record_payment.paid_on OPERATOR(pg_catalog.>) leasemgr.business_date() THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = pg_catalog.format('a payment cannot be received on %s', record_payment.paid_on),
      DETAIL = pg_catalog.format('paid_on is the day the money was received; today is %s.', leasemgr.business_date()),
      HINT = 'Record the payment on or after the day it arrives, with that day as paid_on.';
  END IF;
  IF NOT (record_payment.channel OPERATOR(pg_catalog.=) ANY (v_channels)) THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = pg_catalog.format('unknown payment channel "%s"', record_payment.channel),
      DETAIL = pg_catalog.format('The channels are: %s.', pg_catalog.array_to_string(v_channels, ', ')),
      HINT = 'Channel names are lower case, e.g. ''bank_transfer''.';
  END IF;
  IF v_reference OPERATOR(pg_catalog.=) '' THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = 'a payment needs a reference',
      DETAIL = 'The reference is blank.',
      HINT = 'Pass the channel''s reference: the bank transaction number, the WeChat Pay or Alipay order number, or the receipt number for cash. It is what makes recording the same payment twice harmless.';
  END IF;

  SELECT c.park_id INTO v_park FROM leasemgr.contract c WHERE c.id OPERATOR(pg_catalog.=) record_payment.contract_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'LM009',
      MESSAGE = pg_catalog.format('contract %s does not exist', record_payment.contract_id),
      HINT = 'Check the id; rows of parks you have not been granted are not visible to you.';
  END IF;

  -- The same reference twice: the second insert waits for the first to commit or roll back,
  -- then finds it; nothing is recorded twice.
  INSERT INTO leasemgr.payment (park_id, contract_id, amount, paid_on, channel, reference)
  VALUES (v_park, record_payment.contract_id, record_payment.amount, record_payment.paid_on,
          record_payment.channel, v_reference)
  ON CONFLICT ON CONSTRAINT payment_reference_once DO NOTHING
  RETURNING id INTO v_id;

  IF v_id IS NULL THEN
    SELECT p.id, p.contract_id, c.code, p.amount, p.paid_on, p.recorded_at INTO v_first
      FROM leasemgr.payment p JOIN leasemgr.contract c ON c.id OPERATOR(pg_catalog.=) p.contract_id
     WHERE p.park_id OPERATOR(pg_catalog.=) v_park
       AND p.channel OPERATOR(pg_catalog.=) record_payment.channel
       AND p.reference OPERATOR(pg_catalog.=) v_reference;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'record_payment: the payment holding % reference % is not visible', record_payment.channel, v_reference;
    END IF;
    IF v_first.contract_id OPERATOR(pg_catalog.=) record_payment.contract_id
       AND v_first.amount OPERATOR(pg_catalog.=) record_payment.amount
       AND v_first.paid_on OPERATOR(pg_catalog.=) record_payment.paid_on THEN
      RETURN v_first.id;    -- recorded already: the same payment, told twice
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'LM014',
      MESSAGE = pg_catalog.format('%s reference %s is already recorded as another payment',
                                  record_payment.channel, v_reference),
      DETAIL = pg_catalog.format('Payment %s with this reference is %s CNY received on %s for contract %s; this call says %s CNY on %s for contract %s.',
                                 v_first.id, pg_catalog.to_char(v_first.amount, 'FM999,999,999,999,990.00'),
                                 pg_catalog.to_char(v_first.paid_on, 'YYYY-MM-DD'), v_first.code,
                                 pg_catalog.to_char(record_payment.amount, 'FM999,999,999,999,990.00'),
                                 pg_catalog.to_char(record_payment.paid_on, 'YYYY-MM-DD'),
                                 (SELECT c.code FROM leasemgr.contract c
                                   WHERE c.id OPERATOR(pg_catalog.=) record_payment.contract_id)),
      HINT = 'A reference identifies one payment. Check the reference; if both payments are real, the channel''s references must differ.';
  END IF;

  -- A new payment for a lease closed for its renewal (a payment told again was returned above):
  -- its bills were handed over, so its tenant pays the renewal.
  IF EXISTS (SELECT FROM leasemgr.contract c WHERE c.id OPERATOR(pg_catalog.=) record_payment.contract_id
                AND c.state OPERATOR(pg_catalog.=) 'closed'
                AND EXISTS (SELECT FROM leasemgr.contract r WHERE r.renews_contract_id OPERATOR(pg_catalog.=) c.id
                               AND r.state OPERATOR(pg_catalog.<>) ALL ('{draft,pending_approval,approved,signed,cancelled}'::text[])))
  THEN
    RAISE EXCEPTION USING ERRCODE = 'LM002',
      MESSAGE = pg_catalog.format('contract %s was continued by its renewal %s', (SELECT c.code FROM leasemgr.contract c WHERE c.id OPERATOR(pg_catalog.=) record_payment.contract_id),
                                  (SELECT r.code FROM leasemgr.contract r WHERE r.renews_contract_id OPERATOR(pg_catalog.=) record_payment.contract_id
                                      AND r.state OPERATOR(pg_catalog.<>) 'cancelled' LIMIT 1)),
      DETAIL = 'It is closed, and its unpaid bills were brought forward onto the renewal.',
      HINT = 'Record the payment for the renewal.';
  END IF;
  PERFORM leasemgr.apply_credit(record_payment.contract_id);
  RETURN v_id;
END
$fn$;
COMMENT ON FUNCTION leasemgr.record_payment(bigint, numeric, date, text, text) IS
  'Records money received for a contract and allocates it (leasemgr.apply_credit): oldest due principal first, then late fees, the rest kept as credit. Idempotent on (channel, reference): the same payment again returns the first id and records nothing; the same reference with another amount, date or contract is refused (LM014). A contract that is amending or ended still gets its payment recorded. Channels: bank_transfer, wechat, alipay, card, cash, deposit_offset.';

CREATE FUNCTION leasemgr.late_fee(bill_id bigint, as_of date) RETURNS numeric
  AS 'MODULE_PATHNAME', 'late_fee'
  LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION leasemgr.late_fee(bigint, date) IS
  'The late fee of a bill owed on as_of if the rest is paid that day: daily_rate_pct % of the principal still unpaid, for each day from due_on + grace_days + 1 to as_of - 1 (a payment counts from its effective day), capped at cap_pct % of the principal, rounded half-up to the cent once. Days an amendment froze the contract accrue nothing. The contract''s policy, else the park''s default; 0.00 without a policy and for a void bill.';

-- ---- park scope and privileges -----------------------------------------------------------

ALTER TABLE leasemgr.payment ENABLE ROW LEVEL SECURITY;
CREATE POLICY park_scope ON leasemgr.payment USING ((SELECT leasemgr.sees_all_parks())
  OR park_id OPERATOR(pg_catalog.=) ANY ((SELECT leasemgr.visible_parks())::bigint[]));
COMMENT ON POLICY park_scope ON leasemgr.payment IS
  'Rows of the parks granted to the role (leasemgr.grant_park); every park for leasemgr_admin.';
ALTER TABLE leasemgr.payment_allocation ENABLE ROW LEVEL SECURITY;
CREATE POLICY park_scope ON leasemgr.payment_allocation USING ((SELECT leasemgr.sees_all_parks())
  OR park_id OPERATOR(pg_catalog.=) ANY ((SELECT leasemgr.visible_parks())::bigint[]));
COMMENT ON POLICY park_scope ON leasemgr.payment_allocation IS
  'Rows of the parks granted to the role (leasemgr.grant_park); every park for leasemgr_admin.';
ALTER TABLE leasemgr.late_fee_policy ENABLE ROW LEVEL SECURITY;
CREATE POLICY park_scope ON leasemgr.late_fee_policy USING ((SELECT leasemgr.sees_all_parks())
  OR park_id OPERATOR(pg_catalog.=) ANY ((SELECT leasemgr.visible_parks())::bigint[]));
COMMENT ON POLICY park_scope ON leasemgr.late_fee_policy IS
  'Rows of the parks granted to the role (leasemgr.grant_park); every park for leasemgr_admin.';

-- Finance records payments (record_payment and apply_credit run with the caller's rights and
-- park scope); the allocation trigger moves payment.unallocated, which the payment guard
-- lets change only to its true balance.
REVOKE ALL ON leasemgr.payment, leasemgr.payment_allocation, leasemgr.late_fee_policy FROM PUBLIC;
GRANT SELECT ON leasemgr.payment, leasemgr.payment_allocation, leasemgr.late_fee_policy TO leasemgr_reader;
GRANT INSERT, UPDATE (unallocated) ON leasemgr.payment TO leasemgr_finance;
GRANT INSERT ON leasemgr.payment_allocation TO leasemgr_finance;
GRANT INSERT, UPDATE, DELETE ON leasemgr.late_fee_policy TO leasemgr_finance;
REVOKE ALL ON FUNCTION leasemgr.payment_before_write(), leasemgr.payment_allocation_totals(),
  leasemgr.apply_credit(bigint), leasemgr.record_payment(bigint, numeric, date, text, text),
  leasemgr.late_fee(bigint, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leasemgr.late_fee(bigint, date) TO leasemgr_reader;
GRANT EXECUTE ON FUNCTION leasemgr.apply_credit(bigint),
  leasemgr.record_payment(bigint, numeric, date, text, text) TO leasemgr_finance;

SELECT pg_catalog.pg_extension_config_dump('leasemgr.payment', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.payment_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.payment_allocation', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.payment_allocation_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.late_fee_policy', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.late_fee_policy_id_seq', '');
