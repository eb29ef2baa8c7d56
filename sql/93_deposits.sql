-- Deposits (押金 / 保证金): a ledger per contract of what was received, deducted and refunded,
-- whose balance is never negative; a refund released only after two independent steps (a
-- one-time code the tenant receives by SMS, and a second finance person). docs/deposits.md is
-- the design. The code is kept as a salted SHA-256 only; the SMS event carries it encrypted to
-- the SMS gateway's OpenPGP public key (pgcrypto), so no database reader can see it.
--
-- The functions below run with SET search_path = pg_catalog, leasemgr, pg_temp: pg_catalog's
-- operators are found first and nobody but the owner creates objects in leasemgr, so their
-- bodies use plain operators. pgcrypto is called through its schema, looked up.

CREATE TABLE leasemgr.deposit_txn (
  id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  park_id             bigint NOT NULL,
  contract_id         bigint NOT NULL,
  kind                text NOT NULL CHECK (kind IN ('received', 'deducted', 'refunded', 'carried_in', 'carried_out')),
  amount              numeric(16,2) NOT NULL CHECK (amount > 0),
  reason              text CHECK (reason IN ('damage', 'unpaid_rent', 'utilities', 'other')),
  occurred_on         date NOT NULL,
  reference           text,
  note                text,
  payment_id          bigint,
  refund_id           bigint,
  related_contract_id bigint,
  recorded_by         text NOT NULL,
  recorded_at         timestamptz NOT NULL,
  CONSTRAINT deposit_txn_reason CHECK ((kind = 'deducted') = (reason IS NOT NULL)),
  CONSTRAINT deposit_txn_refund CHECK ((kind = 'refunded') = (refund_id IS NOT NULL)),
  CONSTRAINT deposit_txn_offset CHECK (payment_id IS NULL OR (kind = 'deducted' AND reason IN ('unpaid_rent', 'utilities'))),
  CONSTRAINT deposit_txn_carry CHECK ((kind IN ('carried_in', 'carried_out')) = (related_contract_id IS NOT NULL)),
  CONSTRAINT deposit_txn_contract_fk FOREIGN KEY (contract_id, park_id) REFERENCES leasemgr.contract (id, park_id)
);
CREATE INDEX deposit_txn_contract_idx ON leasemgr.deposit_txn (contract_id, id);
CREATE UNIQUE INDEX deposit_txn_refund_once ON leasemgr.deposit_txn (refund_id) WHERE refund_id IS NOT NULL;
CREATE UNIQUE INDEX deposit_txn_payment_once ON leasemgr.deposit_txn (payment_id) WHERE payment_id IS NOT NULL;
COMMENT ON TABLE leasemgr.deposit_txn IS
  'The deposit ledger (押金台账): every movement of a contract''s deposit, received, deducted (with the reason), refunded, or carried over to or from a renewal. The balance (received + carried in - deducted - refunded - carried out) is never negative. Never changed or deleted.';
COMMENT ON COLUMN leasemgr.deposit_txn.id IS 'Movement identifier, in the order recorded.';
COMMENT ON COLUMN leasemgr.deposit_txn.park_id IS 'The park of the contract.';
COMMENT ON COLUMN leasemgr.deposit_txn.contract_id IS 'The contract whose deposit moves.';
COMMENT ON COLUMN leasemgr.deposit_txn.kind IS 'received (from the tenant), deducted (kept by the landlord, see reason), refunded (paid back through a released refund), carried_in / carried_out (moved to the renewal of the lease, or from the lease it renews).';
COMMENT ON COLUMN leasemgr.deposit_txn.amount IS 'CNY, > 0; the kind says which way.';
COMMENT ON COLUMN leasemgr.deposit_txn.reason IS 'deducted only: damage, unpaid_rent, utilities or other. unpaid_rent and utilities pay the open bills (a deposit_offset payment).';
COMMENT ON COLUMN leasemgr.deposit_txn.occurred_on IS 'The business day of the movement.';
COMMENT ON COLUMN leasemgr.deposit_txn.reference IS 'The bank or receipt reference of money received.';
COMMENT ON COLUMN leasemgr.deposit_txn.note IS 'Free text, e.g. what was damaged.';
COMMENT ON COLUMN leasemgr.deposit_txn.payment_id IS 'A deduction for unpaid rent or utilities: the deposit_offset payment it made, allocated to the open bills.';
COMMENT ON COLUMN leasemgr.deposit_txn.refund_id IS 'refunded only: the released refund (leasemgr.deposit_refund).';
COMMENT ON COLUMN leasemgr.deposit_txn.related_contract_id IS 'carried_in / carried_out only: the other contract of the renewal.';
COMMENT ON COLUMN leasemgr.deposit_txn.recorded_by IS 'Stamped: who recorded it (leasemgr.actor, else the login).';
COMMENT ON COLUMN leasemgr.deposit_txn.recorded_at IS 'Stamped: when.';

CREATE TABLE leasemgr.sms_gateway_key (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  public_key  text NOT NULL,
  note        text,
  added_by    text NOT NULL DEFAULT leasemgr.current_actor(),
  added_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
  retired_at  timestamptz
);
CREATE UNIQUE INDEX sms_gateway_key_one_active ON leasemgr.sms_gateway_key ((true)) WHERE retired_at IS NULL;
COMMENT ON TABLE leasemgr.sms_gateway_key IS
  'The OpenPGP public key (RSA, ASCII armored) of the SMS gateway: one-time codes are written to the outbox encrypted to it, so only the gateway, which holds the private key, reads them. One key in use at a time; retire it to replace it.';
COMMENT ON COLUMN leasemgr.sms_gateway_key.id IS 'Key identifier.';
COMMENT ON COLUMN leasemgr.sms_gateway_key.public_key IS 'The public key, "-----BEGIN PGP PUBLIC KEY BLOCK-----" ... (gpg --armor --export). Checked on insert: it must encrypt.';
COMMENT ON COLUMN leasemgr.sms_gateway_key.note IS 'Free text, e.g. the gateway and the key''s fingerprint.';
COMMENT ON COLUMN leasemgr.sms_gateway_key.added_by IS 'Who added it.';
COMMENT ON COLUMN leasemgr.sms_gateway_key.added_at IS 'When.';
COMMENT ON COLUMN leasemgr.sms_gateway_key.retired_at IS 'When it stopped being used; NULL for the key in use.';

CREATE TABLE leasemgr.deposit_refund (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  park_id         bigint NOT NULL,
  contract_id     bigint NOT NULL,
  amount          numeric(16,2) NOT NULL CHECK (amount > 0),
  payee_account   text NOT NULL CHECK (pg_catalog.btrim(payee_account) <> ''),
  state           text NOT NULL DEFAULT 'requested' CHECK (state IN ('requested', 'confirmed', 'released', 'cancelled', 'locked')),
  requested_by    text NOT NULL,
  requested_at    timestamptz NOT NULL,
  code_sms        text,
  code_expires_at timestamptz NOT NULL,
  failed_attempts integer NOT NULL DEFAULT 0 CHECK (failed_attempts BETWEEN 0 AND 5),
  confirmed_by    text,
  confirmed_at    timestamptz,
  released_by     text,
  released_at     timestamptz,
  cancelled_by    text,
  cancelled_at    timestamptz,
  note            text,
  CONSTRAINT deposit_refund_confirmed CHECK ((state NOT IN ('confirmed', 'released') OR confirmed_at IS NOT NULL)
                                            AND (confirmed_at IS NULL OR state IN ('confirmed', 'released', 'cancelled'))),
  CONSTRAINT deposit_refund_released CHECK ((state = 'released') = (released_at IS NOT NULL)),
  CONSTRAINT deposit_refund_key UNIQUE (id, park_id),
  CONSTRAINT deposit_refund_contract_fk FOREIGN KEY (contract_id, park_id) REFERENCES leasemgr.contract (id, park_id)
);
-- One refund in progress per contract.
CREATE UNIQUE INDEX deposit_refund_one_pending ON leasemgr.deposit_refund (contract_id) WHERE state IN ('requested', 'confirmed');
COMMENT ON TABLE leasemgr.deposit_refund IS
  'A deposit refund (押金退还) in two independent steps: finance requests it (a one-time code goes to the tenant by SMS), the code is entered (deposit_refund_confirm) and checked once that transaction has committed, and a second finance person releases it (deposit_refund_release), which writes the refunded movement. Five wrong codes lock it; the code expires after 24 hours.';
COMMENT ON INDEX leasemgr.deposit_refund_one_pending IS 'At most one refund in progress (requested or confirmed) per contract.';
COMMENT ON COLUMN leasemgr.deposit_refund.id IS 'Refund identifier.';
COMMENT ON COLUMN leasemgr.deposit_refund.park_id IS 'The park.';
COMMENT ON COLUMN leasemgr.deposit_refund.contract_id IS 'The contract whose deposit is refunded.';
COMMENT ON COLUMN leasemgr.deposit_refund.amount IS 'CNY to pay back, > 0 with at most 2 decimals, at most the deposit held.';
COMMENT ON COLUMN leasemgr.deposit_refund.payee_account IS 'Where the money goes (bank, branch, account number, holder), as given by the tenant.';
COMMENT ON COLUMN leasemgr.deposit_refund.state IS 'requested (code sent), confirmed (the right code was entered), released (paid back; a refunded movement exists), cancelled, or locked (five wrong codes).';
COMMENT ON COLUMN leasemgr.deposit_refund.requested_by IS 'Stamped: the finance person who requested it. The releaser must be someone else.';
COMMENT ON COLUMN leasemgr.deposit_refund.requested_at IS 'Stamped: when.';
COMMENT ON COLUMN leasemgr.deposit_refund.code_sms IS 'The code encrypted to the SMS gateway''s public key (OpenPGP, armored), as the SMS event carries it. Unreadable without the gateway''s private key. The code''s hash is kept apart, where no role can read it.';
COMMENT ON COLUMN leasemgr.deposit_refund.code_expires_at IS 'No code is taken after this (24 hours after the request).';
COMMENT ON COLUMN leasemgr.deposit_refund.failed_attempts IS 'Wrong codes entered and checked; the fifth locks the refund.';
COMMENT ON COLUMN leasemgr.deposit_refund.confirmed_by IS 'Stamped: who entered the right code.';
COMMENT ON COLUMN leasemgr.deposit_refund.confirmed_at IS 'Stamped: when it was entered.';
COMMENT ON COLUMN leasemgr.deposit_refund.released_by IS 'Stamped: the second finance person who released it.';
COMMENT ON COLUMN leasemgr.deposit_refund.released_at IS 'Stamped: when.';
COMMENT ON COLUMN leasemgr.deposit_refund.cancelled_by IS 'Stamped: who cancelled it.';
COMMENT ON COLUMN leasemgr.deposit_refund.cancelled_at IS 'Stamped: when.';
COMMENT ON COLUMN leasemgr.deposit_refund.note IS 'Free text.';

-- The code's hash and the codes entered: readable by no role (row-level security on, no
-- policy, no grant); written and read by the SECURITY DEFINER functions below. A 6-digit code
-- falls to a search of its million values, so its hash must not be readable: not here, not in
-- the audit log (these two tables are not audited).
CREATE TABLE leasemgr.deposit_refund_code (
  refund_id   bigint PRIMARY KEY,
  code_salt   text NOT NULL,
  code_hash   text NOT NULL CHECK (code_hash ~ '^[0-9a-f]{64}$')
);
COMMENT ON TABLE leasemgr.deposit_refund_code IS
  'The one-time code of each deposit refund, as the SHA-256 of a random salt, '':'' and the code. No role reads it (the functions that check codes do); not in the audit log.';
COMMENT ON COLUMN leasemgr.deposit_refund_code.refund_id IS 'The refund.';
COMMENT ON COLUMN leasemgr.deposit_refund_code.code_salt IS 'Random salt (16 bytes, hex).';
COMMENT ON COLUMN leasemgr.deposit_refund_code.code_hash IS 'SHA-256 (hex) of salt, '':'' and the code.';

CREATE TABLE leasemgr.deposit_refund_attempt (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  refund_id    bigint NOT NULL,
  attempt_hash text NOT NULL CHECK (attempt_hash ~ '^[0-9a-f]{64}$'),
  xact         xid8 NOT NULL,
  made_by      text NOT NULL,
  made_at      timestamptz NOT NULL,
  outcome      text CHECK (outcome IN ('right', 'wrong'))
);
-- One code waits to be checked at a time: the next is taken once this one was checked, and
-- it is checked only in a later transaction than the one that entered it.
CREATE UNIQUE INDEX deposit_refund_attempt_one_waiting ON leasemgr.deposit_refund_attempt (refund_id) WHERE outcome IS NULL;
COMMENT ON TABLE leasemgr.deposit_refund_attempt IS
  'Codes entered for deposit refunds, as salted hashes, and how each turned out. A code is checked only by a transaction after the one that entered it, so a caller who rolls back learns nothing and a wrong code always counts. No role reads it; not in the audit log.';
COMMENT ON COLUMN leasemgr.deposit_refund_attempt.id IS 'Attempt identifier.';
COMMENT ON COLUMN leasemgr.deposit_refund_attempt.refund_id IS 'The refund.';
COMMENT ON COLUMN leasemgr.deposit_refund_attempt.attempt_hash IS 'SHA-256 (hex) of the refund''s salt, '':'' and the code entered.';
COMMENT ON COLUMN leasemgr.deposit_refund_attempt.xact IS 'The transaction that entered it: it is checked only by another.';
COMMENT ON COLUMN leasemgr.deposit_refund_attempt.made_by IS 'Who entered it.';
COMMENT ON COLUMN leasemgr.deposit_refund_attempt.made_at IS 'When.';
COMMENT ON COLUMN leasemgr.deposit_refund_attempt.outcome IS 'right or wrong once checked; NULL while it waits.';

-- ---- the balance ---------------------------------------------------------------------------

CREATE FUNCTION leasemgr.deposit_balance(contract_id bigint) RETURNS numeric
  LANGUAGE sql STABLE STRICT
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
  SELECT COALESCE(sum(CASE WHEN t.kind IN ('received', 'carried_in') THEN t.amount ELSE -t.amount END), 0.00)
    FROM deposit_txn t WHERE t.contract_id = deposit_balance.contract_id
$fn$;
COMMENT ON FUNCTION leasemgr.deposit_balance(bigint) IS
  'The deposit held for a contract now: received + carried in - deducted - refunded - carried out, CNY.';

-- The park check of the SECURITY DEFINER functions, in which row-level security does not apply.
CREATE FUNCTION leasemgr.session_sees_park(park_id bigint) RETURNS boolean
  AS 'MODULE_PATHNAME', 'session_sees_park'
  LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION leasemgr.session_sees_park(bigint) IS
  'Whether the person logged in (the session''s role) sees the park: an admin, a superuser, or a role granted the park. SECURITY DEFINER functions ask it, as they run as the owner.';

-- pgcrypto's schema (it is relocatable): its functions are called through it.
CREATE FUNCTION leasemgr.pgcrypto_schema() RETURNS name
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
  SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pgcrypto'
$fn$;
COMMENT ON FUNCTION leasemgr.pgcrypto_schema() IS 'Internal: the schema pgcrypto is installed in.';

-- ---- the ledger's rules, for every writer (LM021) ---------------------------------------------

CREATE FUNCTION leasemgr.deposit_txn_before_insert() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  c record;
  v_balance numeric;
  v_refund record;
BEGIN
  IF owner_copy(TG_RELID) THEN
    RETURN NEW;  -- a restore: as dumped
  END IF;
  -- One writer per contract's deposit at a time: the balance read below is the one written to,
  -- which a transaction-wide snapshot (REPEATABLE READ) would not see.
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION USING ERRCODE = 'LM011',
      MESSAGE = 'deposits move at READ COMMITTED',
      DETAIL = format('This transaction is %s: it would not see another writer''s movement and could take the balance below zero.',
                      upper(current_setting('transaction_isolation'))),
      HINT = 'Run it in a READ COMMITTED transaction (the default).';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('leasemgr.deposit'), hashint8(NEW.contract_id));
  SELECT k.id, k.code, k.park_id, k.state, k.renews_contract_id INTO c FROM contract k WHERE k.id = NEW.contract_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'LM009',
      MESSAGE = format('contract %s does not exist', NEW.contract_id),
      HINT = 'Check the id; rows of parks you have not been granted are not visible to you.';
  END IF;
  IF c.state NOT IN ('signed', 'active', 'amending', 'expired', 'terminated', 'moving_out') THEN
    RAISE EXCEPTION USING ERRCODE = 'LM021',
      MESSAGE = format('the deposit of contract %s cannot move: the contract is %s', c.code, c.state),
      DETAIL = 'A deposit is held from signing until the contract is closed.',
      HINT = CASE WHEN c.state = 'closed' THEN 'A closed contract is final; its deposit was settled before closing.'
                  ELSE 'Record the deposit once the contract is signed.' END;
  END IF;
  NEW.park_id := c.park_id;
  NEW.recorded_by := current_actor();
  NEW.recorded_at := now();
  NEW.occurred_on := COALESCE(NEW.occurred_on, business_date());
  IF NEW.kind = 'refunded' THEN
    SELECT r.state, r.amount, r.contract_id INTO v_refund FROM deposit_refund r WHERE r.id = NEW.refund_id;
    IF v_refund.state IS DISTINCT FROM 'released' OR v_refund.contract_id <> NEW.contract_id OR v_refund.amount <> NEW.amount THEN
      RAISE EXCEPTION USING ERRCODE = 'LM021',
        MESSAGE = format('a refund of the deposit of contract %s is written by its release only', c.code),
        DETAIL = format('Refund %s is %s.', NEW.refund_id, COALESCE(v_refund.state, 'missing')),
        HINT = 'Request it (leasemgr.deposit_refund_request), confirm the code, and let a second person release it.';
    END IF;
  ELSIF NEW.kind = 'deducted' AND NEW.reason IN ('unpaid_rent', 'utilities')
        AND NOT EXISTS (SELECT FROM payment p WHERE p.id = NEW.payment_id AND p.contract_id = NEW.contract_id
                           AND p.channel = 'deposit_offset' AND p.amount = NEW.amount) THEN
    RAISE EXCEPTION USING ERRCODE = 'LM021',
      MESSAGE = format('a deduction from the deposit of contract %s for %s pays the bills with it', c.code, replace(NEW.reason, '_', ' ')),
      DETAIL = format('payment_id %s is not a deposit_offset payment of %s CNY for this contract.',
                      COALESCE(NEW.payment_id::text, 'is empty:'), money_text(NEW.amount)),
      HINT = 'Use leasemgr.deposit_deduct(contract_id, amount, reason, note): it records both.';
  ELSIF NEW.payment_id IS NOT NULL AND NEW.reason NOT IN ('unpaid_rent', 'utilities') THEN
    RAISE EXCEPTION USING ERRCODE = 'LM021',
      MESSAGE = format('only a deduction for unpaid rent or utilities pays bills from the deposit of contract %s', c.code),
      HINT = 'Leave payment_id empty.';
  ELSIF NEW.kind IN ('carried_in', 'carried_out') AND NOT EXISTS (
          SELECT FROM contract o WHERE o.id = NEW.related_contract_id AND o.park_id = c.park_id
             AND (o.renews_contract_id = c.id OR c.renews_contract_id = o.id)) THEN
    RAISE EXCEPTION USING ERRCODE = 'LM021',
      MESSAGE = format('the deposit of contract %s is carried over only between a lease and its renewal', c.code),
      DETAIL = format('Contract %s is not its renewal nor the lease it renews.', NEW.related_contract_id),
      HINT = 'A renewal carries the deposit over when it activates.';
  END IF;
  IF NEW.kind NOT IN ('received', 'carried_in') THEN
    v_balance := deposit_balance(NEW.contract_id);
    IF NEW.amount > v_balance THEN
      RAISE EXCEPTION USING ERRCODE = 'LM021',
        MESSAGE = format('the deposit of contract %s is %s CNY: %s CNY cannot be %s', c.code,
                         money_text(v_balance), money_text(NEW.amount), replace(NEW.kind, '_', ' ')),
        DETAIL = 'The deposit balance is never negative.',
        HINT = 'Take at most the balance (leasemgr.deposit_balance); the rest is owed by the tenant as a bill.';
    END IF;
  END IF;
  RETURN NEW;
END
$fn$;
COMMENT ON FUNCTION leasemgr.deposit_txn_before_insert() IS
  'Trigger: a deposit moves only while its contract is signed through moving out, never below zero, a refund only by its release and a carry-over only between a lease and its renewal; one writer per contract at a time; stamped (SQLSTATE LM021).';
CREATE TRIGGER deposit_txn_before_insert BEFORE INSERT ON leasemgr.deposit_txn
  FOR EACH ROW EXECUTE FUNCTION leasemgr.deposit_txn_before_insert();
CREATE TRIGGER ledger_guard BEFORE UPDATE OR DELETE ON leasemgr.deposit_txn
  FOR EACH ROW EXECUTE FUNCTION leasemgr.ledger_guard();
CREATE TRIGGER ledger_guard_truncate BEFORE TRUNCATE ON leasemgr.deposit_txn
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.ledger_guard();

-- A deposit_offset payment is money taken from the deposit: it exists only with its deduction
-- of the same amount, checked at commit (the deduction names the payment, so it comes after
-- it). A carry-over out of a lease exists only with its carry-over into the renewal. The WHEN
-- clauses are evaluated as the rows are written: a restore (the owner's COPY) is not checked,
-- its rows come in any order.
CREATE FUNCTION leasemgr.deposit_pairs_check() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
BEGIN
  IF TG_TABLE_NAME = 'payment' THEN
    IF NOT EXISTS (SELECT FROM deposit_txn t WHERE t.payment_id = NEW.id AND t.contract_id = NEW.contract_id
                      AND t.amount = NEW.amount AND t.kind = 'deducted') THEN
      RAISE EXCEPTION USING ERRCODE = 'LM021',
        MESSAGE = format('payment %s is taken from the deposit without a deduction of it', NEW.id),
        DETAIL = 'A deposit_offset payment is recorded by leasemgr.deposit_deduct, with a deduction of the same amount from the ledger.',
        HINT = 'Use leasemgr.deposit_deduct(contract_id, amount, ''unpaid_rent'', note).';
    END IF;
  ELSIF NOT EXISTS (SELECT FROM deposit_txn t WHERE t.contract_id = NEW.related_contract_id AND t.related_contract_id = NEW.contract_id
                       AND t.kind = CASE NEW.kind WHEN 'carried_out' THEN 'carried_in' ELSE 'carried_out' END
                       AND t.amount = NEW.amount) THEN
    RAISE EXCEPTION USING ERRCODE = 'LM021',
      MESSAGE = format('a deposit carried over between contracts %s and %s has only one side', NEW.contract_id, NEW.related_contract_id),
      HINT = 'A renewal carries the deposit over when it activates, both movements together.';
  END IF;
  RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION leasemgr.deposit_pairs_check() IS
  'Constraint trigger (at commit): a deposit_offset payment has its deduction of the same amount in the deposit ledger; a carry-over has both sides, out of one contract and into the other (SQLSTATE LM021).';
CREATE CONSTRAINT TRIGGER deposit_offset_check AFTER INSERT ON leasemgr.payment
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (NEW.channel = 'deposit_offset' AND NOT leasemgr.owner_copy('leasemgr.payment'::regclass))
  EXECUTE FUNCTION leasemgr.deposit_pairs_check();
CREATE CONSTRAINT TRIGGER deposit_carry_check AFTER INSERT ON leasemgr.deposit_txn
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (NEW.kind IN ('carried_out', 'carried_in') AND NOT leasemgr.owner_copy('leasemgr.deposit_txn'::regclass))
  EXECUTE FUNCTION leasemgr.deposit_pairs_check();

-- ---- receiving and deducting ------------------------------------------------------------------

CREATE FUNCTION leasemgr.deposit_receive(contract_id bigint, amount numeric, received_on date, reference text)
  RETURNS bigint
  LANGUAGE plpgsql SECURITY INVOKER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  v_id bigint;
BEGIN
  IF deposit_receive.amount IS NULL OR deposit_receive.amount <= 0 OR deposit_receive.amount <> round(deposit_receive.amount, 2) THEN
    RAISE EXCEPTION USING ERRCODE = 'LM021',
      MESSAGE = format('a deposit received is a positive amount in cents, not %s', COALESCE(deposit_receive.amount::text, 'NULL')),
      HINT = 'Give the amount received, e.g. 24000.00.';
  END IF;
  INSERT INTO deposit_txn (contract_id, kind, amount, occurred_on, reference)
  VALUES (deposit_receive.contract_id, 'received', deposit_receive.amount, deposit_receive.received_on, deposit_receive.reference)
  RETURNING id INTO v_id;
  RETURN v_id;
END
$fn$;
COMMENT ON FUNCTION leasemgr.deposit_receive(bigint, numeric, date, text) IS
  'Records deposit money received for a contract (signed through moving out). Returns the movement id.';

CREATE FUNCTION leasemgr.deposit_deduct(contract_id bigint, amount numeric, reason text, note text) RETURNS bigint
  LANGUAGE plpgsql SECURITY INVOKER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  v_id bigint;
  v_payment bigint;
BEGIN
  IF deposit_deduct.amount IS NULL OR deposit_deduct.amount <= 0 OR deposit_deduct.amount <> round(deposit_deduct.amount, 2) THEN
    RAISE EXCEPTION USING ERRCODE = 'LM021',
      MESSAGE = format('a deduction is a positive amount in cents, not %s', COALESCE(deposit_deduct.amount::text, 'NULL')),
      HINT = 'Give the amount kept from the deposit.';
  END IF;
  IF deposit_deduct.reason IS NULL OR deposit_deduct.reason NOT IN ('damage', 'unpaid_rent', 'utilities', 'other')
     OR deposit_deduct.note IS NULL OR btrim(deposit_deduct.note) = '' THEN
    RAISE EXCEPTION USING ERRCODE = 'LM021',
      MESSAGE = 'a deduction from a deposit needs a reason and a note',
      DETAIL = format('reason is %s, note is %s.', COALESCE(quote_literal(deposit_deduct.reason), 'NULL'),
                      COALESCE(quote_literal(deposit_deduct.note), 'NULL')),
      HINT = 'reason: damage, unpaid_rent, utilities or other; the note says what (the tenant reads it).';
  END IF;
  -- The deposit's lock first (the ledger's trigger takes it again): the reference counts the
  -- contract's deductions.
  PERFORM pg_advisory_xact_lock(hashtext('leasemgr.deposit'), hashint8(deposit_deduct.contract_id));
  -- Unpaid rent and utilities: the money pays the open bills, oldest first, like a payment; the
  -- ledger's row names it. Refused together if the balance is short.
  IF deposit_deduct.reason IN ('unpaid_rent', 'utilities') THEN
    v_payment := record_payment(deposit_deduct.contract_id, deposit_deduct.amount, business_date(), 'deposit_offset',
                                format('DEPOSIT-%s-%s', deposit_deduct.contract_id,
                                       (SELECT count(*) + 1 FROM deposit_txn t
                                         WHERE t.contract_id = deposit_deduct.contract_id AND t.kind = 'deducted')));
  END IF;
  INSERT INTO deposit_txn (contract_id, kind, amount, reason, occurred_on, note, payment_id)
  VALUES (deposit_deduct.contract_id, 'deducted', deposit_deduct.amount, deposit_deduct.reason, business_date(),
          deposit_deduct.note, v_payment)
  RETURNING id INTO v_id;
  RETURN v_id;
END
$fn$;
COMMENT ON FUNCTION leasemgr.deposit_deduct(bigint, numeric, text, text) IS
  'Keeps part of a contract''s deposit, with the reason (damage, unpaid_rent, utilities, other) and a note. For unpaid rent and utilities the amount pays the open bills as a deposit_offset payment. Never more than the balance (LM021). Returns the movement id.';

-- ---- the SMS gateway's key -------------------------------------------------------------------

-- A text encrypted to the gateway's key in use, ASCII armored; LM021 when there is none.
CREATE FUNCTION leasemgr.sms_encrypt(plain text) RETURNS text
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
DECLARE
  v_key text;
  v_out text;
BEGIN
  SELECT k.public_key INTO v_key FROM sms_gateway_key k WHERE k.retired_at IS NULL;
  IF v_key IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LM021',
      MESSAGE = 'no SMS gateway key is in use',
      DETAIL = 'One-time codes go to the tenant encrypted to the SMS gateway''s public key; leasemgr.sms_gateway_key has none in use.',
      HINT = 'An admin adds the gateway''s OpenPGP public key: INSERT INTO leasemgr.sms_gateway_key (public_key) VALUES (''-----BEGIN PGP PUBLIC KEY BLOCK-----...'').';
  END IF;
  EXECUTE format('SELECT %1$I.armor(%1$I.pgp_pub_encrypt($1, %1$I.dearmor($2)))', pgcrypto_schema())
     INTO v_out USING plain, v_key;
  RETURN v_out;
END
$fn$;
COMMENT ON FUNCTION leasemgr.sms_encrypt(text) IS
  'Internal: a text encrypted (OpenPGP) to the SMS gateway''s public key in use, ASCII armored.';

CREATE FUNCTION leasemgr.sms_gateway_key_check() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
BEGIN
  IF TG_OP = 'INSERT' AND owner_copy(TG_RELID) THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND ((to_jsonb(NEW) - 'retired_at') IS DISTINCT FROM (to_jsonb(OLD) - 'retired_at')
                                               OR OLD.retired_at IS NOT NULL)) THEN
    RAISE EXCEPTION USING ERRCODE = 'LM010',
      MESSAGE = 'an SMS gateway key is never changed or deleted',
      HINT = 'Retire it (UPDATE leasemgr.sms_gateway_key SET retired_at = now()) and add the new one.';
  END IF;
  IF TG_OP = 'INSERT' THEN
    BEGIN
      EXECUTE format('SELECT %1$I.pgp_pub_encrypt(''check'', %1$I.dearmor($1))', pgcrypto_schema()) USING NEW.public_key;
    EXCEPTION WHEN OTHERS THEN
      RAISE EXCEPTION USING ERRCODE = 'LM021',
        MESSAGE = 'the SMS gateway key is not an OpenPGP public key that can encrypt',
        DETAIL = format('pgcrypto says: %s', SQLERRM),
        HINT = 'Give the ASCII-armored RSA public key (gpg --armor --export KEYID); pgcrypto does not take ECC keys.';
    END;
    NEW.added_by := current_actor();
    NEW.added_at := now();
    NEW.retired_at := NULL;
  END IF;
  RETURN NEW;
END
$fn$;
COMMENT ON FUNCTION leasemgr.sms_gateway_key_check() IS
  'Trigger: an SMS gateway key must encrypt (an RSA OpenPGP public key), is stamped, and is only ever retired (SQLSTATE LM021, LM010).';
CREATE TRIGGER sms_gateway_key_check BEFORE INSERT OR UPDATE OR DELETE ON leasemgr.sms_gateway_key
  FOR EACH ROW EXECUTE FUNCTION leasemgr.sms_gateway_key_check();

-- ---- the code: issued, entered, checked (SECURITY DEFINER: the hashes are readable by no role) --

-- The facts the refund's trigger holds a confirmation or a lock to.
CREATE FUNCTION leasemgr.deposit_refund_attempts_checked(refund_id bigint, OUT right_codes integer, OUT wrong_codes integer)
  LANGUAGE sql STABLE STRICT SECURITY DEFINER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
  SELECT (count(*) FILTER (WHERE a.outcome = 'right'))::integer, (count(*) FILTER (WHERE a.outcome = 'wrong'))::integer
    FROM deposit_refund_attempt a
   WHERE a.refund_id = deposit_refund_attempts_checked.refund_id
     AND session_sees_park((SELECT r.park_id FROM deposit_refund r WHERE r.id = deposit_refund_attempts_checked.refund_id))
$fn$;
COMMENT ON FUNCTION leasemgr.deposit_refund_attempts_checked(bigint) IS
  'Internal: how many codes entered for a refund were checked right and wrong (what a confirmation or a lock must agree with).';

CREATE FUNCTION leasemgr.deposit_refund_issue_code(refund_id bigint) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  v_crypto name := pgcrypto_schema();
  v_bytes bytea;
  v_code text;
  v_salt text;
BEGIN
  IF NOT EXISTS (SELECT FROM deposit_refund r WHERE r.id = deposit_refund_issue_code.refund_id
                    AND r.state = 'requested' AND r.code_sms IS NULL)
     OR EXISTS (SELECT FROM deposit_refund_code k WHERE k.refund_id = deposit_refund_issue_code.refund_id) THEN
    RAISE EXCEPTION USING ERRCODE = 'LM021',
      MESSAGE = format('deposit refund %s has its code already', deposit_refund_issue_code.refund_id),
      DETAIL = 'A code is issued once, when the refund is requested.',
      HINT = 'Cancel the refund and request a new one for a new code.';
  END IF;
  -- 6 digits from 8 random bytes (modulo bias 2^-44); the salt from 16 more
  EXECUTE format('SELECT %I.gen_random_bytes(8)', v_crypto) INTO v_bytes;
  v_code := lpad(((('x' || encode(v_bytes, 'hex'))::bit(64)::bigint & 9223372036854775807) % 1000000)::text, 6, '0');
  EXECUTE format('SELECT encode(%I.gen_random_bytes(16), ''hex'')', v_crypto) INTO v_salt;
  INSERT INTO deposit_refund_code (refund_id, code_salt, code_hash)
  VALUES (deposit_refund_issue_code.refund_id, v_salt, encode(sha256(convert_to(v_salt || ':' || v_code, 'UTF8')), 'hex'));
  UPDATE deposit_refund SET code_sms = sms_encrypt(v_code) WHERE id = deposit_refund_issue_code.refund_id;
END
$fn$;
COMMENT ON FUNCTION leasemgr.deposit_refund_issue_code(bigint) IS
  'Internal, called when a refund is requested: draws its 6-digit code (pgcrypto''s random source), keeps its salted hash where no role reads it, and writes it encrypted to the SMS gateway''s key on the refund (code_sms), for the SMS event. Once per refund.';

CREATE FUNCTION leasemgr.deposit_refund_check_codes(refund_id bigint) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  a record;
  v_hash text;
BEGIN
  IF NOT COALESCE(session_sees_park((SELECT r.park_id FROM deposit_refund r WHERE r.id = deposit_refund_check_codes.refund_id)), false) THEN
    RETURN;  -- another park's refund: not this person's to check
  END IF;
  SELECT k.code_hash INTO v_hash FROM deposit_refund_code k WHERE k.refund_id = deposit_refund_check_codes.refund_id;
  -- a code entered by an earlier, committed transaction (never this one's: its caller could
  -- still roll the count back)
  FOR a IN SELECT x.* FROM deposit_refund_attempt x
            WHERE x.refund_id = deposit_refund_check_codes.refund_id AND x.outcome IS NULL AND x.xact <> pg_current_xact_id()
            ORDER BY x.id FOR UPDATE LOOP
    UPDATE deposit_refund_attempt SET outcome = CASE WHEN a.attempt_hash = v_hash THEN 'right' ELSE 'wrong' END WHERE id = a.id;
    IF a.attempt_hash = v_hash THEN
      UPDATE deposit_refund SET state = 'confirmed', confirmed_by = a.made_by, confirmed_at = a.made_at
       WHERE id = a.refund_id AND state = 'requested';
    ELSE
      UPDATE deposit_refund SET failed_attempts = failed_attempts + 1,
                                state = CASE WHEN failed_attempts + 1 >= 5 THEN 'locked' ELSE state END
       WHERE id = a.refund_id AND state = 'requested';
    END IF;
  END LOOP;
END
$fn$;
COMMENT ON FUNCTION leasemgr.deposit_refund_check_codes(bigint) IS
  'Internal: checks the code waiting for a refund, if an earlier transaction entered it: right confirms the refund (stamped with who entered it and when), wrong counts (the fifth locks it).';

CREATE FUNCTION leasemgr.deposit_refund_enter_code(refund_id bigint, code text) RETURNS boolean
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  r record;
BEGIN
  PERFORM deposit_refund_check_codes(deposit_refund_enter_code.refund_id);
  SELECT x.state, x.code_expires_at, x.park_id INTO r FROM deposit_refund x WHERE x.id = deposit_refund_enter_code.refund_id FOR UPDATE;
  IF NOT COALESCE(session_sees_park(r.park_id), false) OR r.state IS DISTINCT FROM 'requested' OR now() > r.code_expires_at OR deposit_refund_enter_code.code IS NULL
     OR EXISTS (SELECT FROM deposit_refund_attempt a WHERE a.refund_id = deposit_refund_enter_code.refund_id AND a.outcome IS NULL) THEN
    RETURN false;
  END IF;
  INSERT INTO deposit_refund_attempt (refund_id, attempt_hash, xact, made_by, made_at)
  SELECT k.refund_id, encode(sha256(convert_to(k.code_salt || ':' || btrim(deposit_refund_enter_code.code), 'UTF8')), 'hex'),
         pg_current_xact_id(), current_actor(), now()
    FROM deposit_refund_code k WHERE k.refund_id = deposit_refund_enter_code.refund_id;
  RETURN true;
END
$fn$;
COMMENT ON FUNCTION leasemgr.deposit_refund_enter_code(bigint, text) IS
  'Internal: records a code entered for a refund that waits for one (requested, not expired, no other code waiting), to be checked by a later transaction. Returns whether it was recorded.';

-- ---- refunds: request, confirmation, release, for every writer ----------------------------------

CREATE FUNCTION leasemgr.deposit_refund_before_write() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  c record;
  v_actor text := current_actor();
  v_free numeric;
  v_checked record;
BEGIN
  IF TG_OP = 'INSERT' AND owner_copy(TG_RELID) THEN
    RETURN NEW;  -- a restore: as dumped
  END IF;
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION USING ERRCODE = 'LM010',
      MESSAGE = format('deposit refund %s cannot be deleted', OLD.id),
      HINT = 'Cancel it: leasemgr.deposit_refund_cancel(id, note).';
  END IF;

  IF TG_OP = 'INSERT' THEN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
      RAISE EXCEPTION USING ERRCODE = 'LM011',
        MESSAGE = 'deposit refunds are requested at READ COMMITTED',
        DETAIL = 'The deposit held is read after the wait for the contract''s other deposit writers.',
        HINT = 'Run it in a READ COMMITTED transaction (the default).';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('leasemgr.deposit'), hashint8(NEW.contract_id));
    SELECT k.id, k.code, k.park_id, k.state, t.phone, t.name AS tenant INTO c
      FROM contract k JOIN tenant t ON t.id = k.tenant_id WHERE k.id = NEW.contract_id;
    IF NOT FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'LM009',
        MESSAGE = format('contract %s does not exist', NEW.contract_id),
        HINT = 'Check the id; rows of parks you have not been granted are not visible to you.';
    END IF;
    IF c.state NOT IN ('expired', 'terminated', 'moving_out') THEN
      RAISE EXCEPTION USING ERRCODE = 'LM021',
        MESSAGE = format('the deposit of contract %s is not refunded while the lease is %s', c.code, c.state),
        DETAIL = 'A deposit is refunded once the lease has ended (expired or terminated) and before it is closed; a renewal carries it over instead.',
        HINT = 'Wait for the end of the lease, or deduct from it (leasemgr.deposit_deduct) for what the tenant owes.';
    END IF;
    IF EXISTS (SELECT FROM deposit_refund r WHERE r.contract_id = NEW.contract_id AND r.state IN ('requested', 'confirmed')) THEN
      RAISE EXCEPTION USING ERRCODE = 'LM021',
        MESSAGE = format('a refund of the deposit of contract %s is already in progress', c.code),
        DETAIL = format('Refund %s is %s.', (SELECT r.id FROM deposit_refund r WHERE r.contract_id = NEW.contract_id
                                               AND r.state IN ('requested', 'confirmed')),
                        (SELECT r.state FROM deposit_refund r WHERE r.contract_id = NEW.contract_id
                            AND r.state IN ('requested', 'confirmed'))),
        HINT = 'Finish it (confirm the code, release it) or cancel it first.';
    END IF;
    -- Each request gives five tries at a code; after ten wrong codes over a deposit's refunds
    -- (cancelled early or locked), only an admin requests the next (and checks the phone first).
    IF (SELECT COALESCE(sum(r.failed_attempts), 0) FROM deposit_refund r WHERE r.contract_id = NEW.contract_id) >= 10
       AND NOT sees_all_parks() THEN
      RAISE EXCEPTION USING ERRCODE = 'LM021',
        MESSAGE = format('ten wrong codes were entered for the deposit of contract %s', c.code),
        DETAIL = format('%s wrong codes over its refunds, cancelled or locked.',
                        (SELECT sum(r.failed_attempts) FROM deposit_refund r WHERE r.contract_id = NEW.contract_id)),
        HINT = 'Check the tenant''s phone number with the tenant; a member of leasemgr_admin requests the next refund.';
    END IF;
    -- The deposit answers for what the tenant still owes: that is deducted first.
    IF EXISTS (SELECT FROM bill b WHERE b.contract_id = NEW.contract_id AND b.voided_at IS NULL AND b.paid < b.amount) THEN
      RAISE EXCEPTION USING ERRCODE = 'LM021',
        MESSAGE = format('the deposit of contract %s is not refunded while its tenant still owes %s CNY', c.code,
                         (SELECT money_text(sum(b.amount - b.paid)) FROM bill b
                           WHERE b.contract_id = NEW.contract_id AND b.voided_at IS NULL AND b.paid < b.amount)),
        DETAIL = format('Unpaid: bill %s.', (SELECT string_agg(b.id::text, ', ' ORDER BY b.id) FROM bill b
                                              WHERE b.contract_id = NEW.contract_id AND b.voided_at IS NULL AND b.paid < b.amount)),
        HINT = 'Collect it, or deduct it from the deposit (leasemgr.deposit_deduct(contract_id, amount, ''unpaid_rent'', note)), then refund the rest.';
    END IF;
    v_free := deposit_balance(NEW.contract_id);
    IF NEW.amount IS NULL OR NEW.amount <= 0 OR NEW.amount <> round(NEW.amount, 2) OR NEW.amount > v_free THEN
      RAISE EXCEPTION USING ERRCODE = 'LM021',
        MESSAGE = format('the deposit of contract %s is %s CNY: %s CNY cannot be refunded', c.code, money_text(v_free),
                         CASE WHEN NEW.amount = round(NEW.amount, 2) THEN money_text(NEW.amount) ELSE COALESCE(NEW.amount::text, 'NULL') END),
        DETAIL = 'A refund is a positive amount in cents, at most the deposit held.',
        HINT = 'Request at most leasemgr.deposit_balance(contract_id).';
    END IF;
    IF NEW.payee_account IS NULL OR btrim(NEW.payee_account) = '' THEN
      RAISE EXCEPTION USING ERRCODE = 'LM021',
        MESSAGE = format('a refund of the deposit of contract %s needs the account to pay it to', c.code),
        HINT = 'Give the tenant''s bank, branch, account number and holder.';
    END IF;
    IF c.phone IS NULL THEN
      RAISE EXCEPTION USING ERRCODE = 'LM021',
        MESSAGE = format('tenant %s of contract %s has no phone number for the confirmation code', c.tenant, c.code),
        DETAIL = 'The one-time code of a deposit refund goes to the tenant by SMS.',
        HINT = 'Enter the tenant''s phone (leasemgr.tenant.phone) first.';
    END IF;
    -- the SMS gateway's key must be there before anything is written
    PERFORM sms_encrypt('check');
    NEW.park_id := c.park_id;
    NEW.state := 'requested';
    NEW.code_sms := NULL;                -- the code is issued right after the row is written
    NEW.code_expires_at := now() + interval '24 hours';
    NEW.failed_attempts := 0;
    NEW.requested_by := v_actor;
    NEW.requested_at := now();
    NEW.confirmed_by := NULL; NEW.confirmed_at := NULL;
    NEW.released_by := NULL; NEW.released_at := NULL;
    NEW.cancelled_by := NULL; NEW.cancelled_at := NULL;
    RETURN NEW;
  END IF;

  -- UPDATE. The request never changes; its code is written once, as it is issued.
  IF (NEW.id, NEW.park_id, NEW.contract_id, NEW.amount, NEW.payee_account, NEW.requested_by, NEW.requested_at,
      NEW.code_expires_at)
     IS DISTINCT FROM (OLD.id, OLD.park_id, OLD.contract_id, OLD.amount, OLD.payee_account, OLD.requested_by, OLD.requested_at,
      OLD.code_expires_at)
     OR (OLD.code_sms IS NOT NULL AND NEW.code_sms IS DISTINCT FROM OLD.code_sms) OR NEW.code_sms IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LM010',
      MESSAGE = format('deposit refund %s cannot be changed', OLD.id),
      DETAIL = 'The amount, the account and the code stay as requested.',
      HINT = 'Cancel it and request a new one.';
  END IF;
  -- Confirmation and wrong codes follow the codes checked, which only the checking function writes.
  IF (NEW.state IN ('confirmed', 'locked') AND NEW.state <> OLD.state)
     OR NEW.failed_attempts <> OLD.failed_attempts
     OR (NEW.confirmed_by, NEW.confirmed_at) IS DISTINCT FROM (OLD.confirmed_by, OLD.confirmed_at) THEN
    v_checked := deposit_refund_attempts_checked(OLD.id);
    IF OLD.state <> 'requested' OR NEW.failed_attempts <> v_checked.wrong_codes
       OR (NEW.state = 'confirmed') <> (v_checked.right_codes > 0 AND NEW.confirmed_at IS NOT NULL)
       OR (NEW.state = 'locked') <> (v_checked.wrong_codes >= 5)
       OR NEW.state NOT IN ('requested', 'confirmed', 'locked') THEN
      RAISE EXCEPTION USING ERRCODE = 'LM021',
        MESSAGE = format('deposit refund %s is confirmed by the tenant''s code only', OLD.id),
        DETAIL = format('It is %s; %s right and %s wrong codes were checked.', OLD.state, v_checked.right_codes, v_checked.wrong_codes),
        HINT = 'Enter the code the tenant received: leasemgr.deposit_refund_confirm(id, code), checked once that transaction commits.';
    END IF;
    RETURN NEW;
  END IF;

  IF OLD.state = 'confirmed' AND NEW.state = 'released' THEN
    IF v_actor = OLD.requested_by THEN
      RAISE EXCEPTION USING ERRCODE = 'LM003',
        MESSAGE = format('deposit refund %s must be released by someone other than its requester', OLD.id),
        DETAIL = format('%s requested it and is now trying to release it.', v_actor),
        HINT = 'A second finance person releases it; applications set leasemgr.actor to the person acting.';
    END IF;
    NEW.released_by := v_actor;
    NEW.released_at := now();
    RETURN NEW;
  END IF;
  IF OLD.state IN ('requested', 'confirmed', 'locked') AND NEW.state = 'cancelled' THEN
    NEW.cancelled_by := v_actor;
    NEW.cancelled_at := now();
    RETURN NEW;
  END IF;
  IF NEW.state = OLD.state AND (NEW.released_by, NEW.released_at, NEW.cancelled_by, NEW.cancelled_at)
                              IS NOT DISTINCT FROM (OLD.released_by, OLD.released_at, OLD.cancelled_by, OLD.cancelled_at) THEN
    RETURN NEW;  -- the note, or the code as it is issued
  END IF;
  RAISE EXCEPTION USING ERRCODE = 'LM021',
    MESSAGE = format('deposit refund %s cannot go from %s to %s', OLD.id, OLD.state, NEW.state),
    DETAIL = 'A refund is requested, confirmed with the tenant''s code, then released by a second person; it can be cancelled until released.',
    HINT = CASE OLD.state WHEN 'requested' THEN 'Enter the code first: leasemgr.deposit_refund_confirm(id, code).'
                          ELSE 'Released and cancelled refunds are final.' END;
END
$fn$;
COMMENT ON FUNCTION leasemgr.deposit_refund_before_write() IS
  'Trigger: a refund is requested only for an ended lease, in cents, within the deposit, with an account, for a tenant with a phone, with the SMS gateway''s key in place; it is confirmed or locked only as the codes checked say; release needs the code confirmed and a person other than the requester; the request never changes; never deleted (SQLSTATE LM021, LM003, LM010, LM011).';
CREATE TRIGGER deposit_refund_before_write BEFORE INSERT OR UPDATE OR DELETE ON leasemgr.deposit_refund
  FOR EACH ROW EXECUTE FUNCTION leasemgr.deposit_refund_before_write();

-- The request issues its code; the release writes the refunded movement (the ledger checks the
-- balance again).
CREATE FUNCTION leasemgr.deposit_refund_after_write() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NOT owner_copy(TG_RELID) THEN
      PERFORM deposit_refund_issue_code(NEW.id);
    END IF;
  ELSIF OLD.state = 'confirmed' AND NEW.state = 'released' THEN
    INSERT INTO deposit_txn (contract_id, kind, amount, occurred_on, refund_id, reference, note)
    VALUES (NEW.contract_id, 'refunded', NEW.amount, business_date(), NEW.id, NEW.payee_account,
            format('refund %s requested by %s, code entered by %s, released by %s', NEW.id, NEW.requested_by,
                   NEW.confirmed_by, NEW.released_by));
  END IF;
  RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION leasemgr.deposit_refund_after_write() IS
  'Trigger: a refund requested gets its one-time code; a released refund writes its refunded movement to the deposit ledger, in the same transaction.';
CREATE TRIGGER deposit_refund_after_insert AFTER INSERT ON leasemgr.deposit_refund
  FOR EACH ROW EXECUTE FUNCTION leasemgr.deposit_refund_after_write();
CREATE TRIGGER deposit_refund_after_update AFTER UPDATE ON leasemgr.deposit_refund
  FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION leasemgr.deposit_refund_after_write();

CREATE FUNCTION leasemgr.outbox_sms() RETURNS trigger
  AS 'MODULE_PATHNAME', 'outbox_sms'
  LANGUAGE C;
COMMENT ON FUNCTION leasemgr.outbox_sms() IS
  'Trigger: an sms event per refund requested, to the tenant''s phone, with the one-time code encrypted to the SMS gateway''s key; one NOTIFY leasemgr_events per statement.';
CREATE TRIGGER outbox_events AFTER INSERT ON leasemgr.deposit_refund
  REFERENCING NEW TABLE AS new_refunds
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.outbox_sms();

-- ---- the API -----------------------------------------------------------------------------------

CREATE FUNCTION leasemgr.deposit_refund_request(contract_id bigint, amount numeric, payee_account text) RETURNS bigint
  LANGUAGE plpgsql SECURITY INVOKER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  v_id bigint;
BEGIN
  -- the trigger checks the lease, the amount, the balance and the phone; the code follows
  INSERT INTO deposit_refund (contract_id, amount, payee_account)
  VALUES (deposit_refund_request.contract_id, deposit_refund_request.amount, COALESCE(deposit_refund_request.payee_account, ''))
  RETURNING id INTO v_id;
  RETURN v_id;
END
$fn$;
COMMENT ON FUNCTION leasemgr.deposit_refund_request(bigint, numeric, text) IS
  'Finance requests a deposit refund of an ended lease (at most the deposit held, one at a time per contract). A one-time 6-digit code goes to the tenant''s phone as an sms event of the outbox, encrypted to the SMS gateway''s key; its salted hash is kept where no role reads it. Returns the refund id. LM021 when refused.';

-- The refund as the caller sees it (row-level security), or LM009.
CREATE FUNCTION leasemgr.deposit_refund_visible(refund_id bigint) RETURNS bigint
  LANGUAGE plpgsql STABLE SECURITY INVOKER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
BEGIN
  IF NOT EXISTS (SELECT FROM deposit_refund r WHERE r.id = deposit_refund_visible.refund_id) THEN
    RAISE EXCEPTION USING ERRCODE = 'LM009',
      MESSAGE = format('deposit refund %s does not exist', COALESCE(deposit_refund_visible.refund_id::text, 'NULL')),
      HINT = 'Check the id; rows of parks you have not been granted are not visible to you.';
  END IF;
  RETURN deposit_refund_visible.refund_id;
END
$fn$;
COMMENT ON FUNCTION leasemgr.deposit_refund_visible(bigint) IS 'Internal: the refund id if the caller sees the refund, else LM009.';

CREATE FUNCTION leasemgr.deposit_refund_confirm(refund_id bigint, code text)
  RETURNS TABLE (recorded boolean, state text, tries_left integer, note text)
  LANGUAGE plpgsql SECURITY INVOKER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  v_id bigint := deposit_refund_visible(deposit_refund_confirm.refund_id);
  v_recorded boolean := deposit_refund_enter_code(v_id, deposit_refund_confirm.code);
BEGIN
  RETURN QUERY
  SELECT v_recorded, r.state, 5 - r.failed_attempts,
         CASE WHEN v_recorded THEN 'code recorded: it is checked once this transaction commits; leasemgr.deposit_refund_check(id) then tells'
              WHEN r.state <> 'requested' THEN format('nothing recorded: the refund is %s', r.state)
              WHEN now() > r.code_expires_at THEN format('nothing recorded: the code expired at %s; cancel and request a new one', r.code_expires_at)
              ELSE 'nothing recorded: a code entered earlier is still to be checked (commit, then leasemgr.deposit_refund_check(id))' END
    FROM deposit_refund r WHERE r.id = v_id;
END
$fn$;
COMMENT ON FUNCTION leasemgr.deposit_refund_confirm(bigint, text) IS
  'Enters the code the tenant received. It is recorded (never in clear) and checked only after this transaction commits, by deposit_refund_check, deposit_refund_release or the next code entered: a right code confirms the refund, a wrong one counts (the fifth locks it). One code waits at a time, so a caller who rolls back learns nothing and every wrong code counts. Returns whether it was recorded, the state, the tries left and a note.';

CREATE FUNCTION leasemgr.deposit_refund_check(refund_id bigint) RETURNS TABLE (state text, tries_left integer)
  LANGUAGE plpgsql SECURITY INVOKER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  v_id bigint := deposit_refund_visible(deposit_refund_check.refund_id);
BEGIN
  PERFORM deposit_refund_check_codes(v_id);
  RETURN QUERY SELECT r.state, 5 - r.failed_attempts FROM deposit_refund r WHERE r.id = v_id;
END
$fn$;
COMMENT ON FUNCTION leasemgr.deposit_refund_check(bigint) IS
  'Checks the code entered for a refund by an earlier transaction and returns the state (confirmed after the right code) and the tries left.';

CREATE FUNCTION leasemgr.deposit_refund_release(refund_id bigint) RETURNS bigint
  LANGUAGE plpgsql SECURITY INVOKER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  v_id bigint := deposit_refund_visible(deposit_refund_release.refund_id);
  v_txn bigint;
BEGIN
  PERFORM deposit_refund_check_codes(v_id);
  UPDATE deposit_refund r SET state = 'released' WHERE r.id = v_id;
  SELECT t.id INTO v_txn FROM deposit_txn t WHERE t.refund_id = v_id;
  RETURN v_txn;
END
$fn$;
COMMENT ON FUNCTION leasemgr.deposit_refund_release(bigint) IS
  'A second finance person (not the requester, LM003) releases a refund whose code was confirmed (a code entered earlier is checked first): the refunded movement is written to the ledger, never below zero (LM021). Returns the movement id.';

CREATE FUNCTION leasemgr.deposit_refund_cancel(refund_id bigint, note text) RETURNS void
  LANGUAGE plpgsql SECURITY INVOKER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  v_id bigint := deposit_refund_visible(deposit_refund_cancel.refund_id);
BEGIN
  UPDATE deposit_refund r SET state = 'cancelled', note = deposit_refund_cancel.note WHERE r.id = v_id;
END
$fn$;
COMMENT ON FUNCTION leasemgr.deposit_refund_cancel(bigint, text) IS
  'Cancels a refund not yet released (requested, confirmed or locked).';

-- ---- security, dump ---------------------------------------------------------------------------

ALTER TABLE leasemgr.deposit_txn ENABLE ROW LEVEL SECURITY;
CREATE POLICY park_scope ON leasemgr.deposit_txn USING ((SELECT leasemgr.sees_all_parks())
  OR park_id OPERATOR(pg_catalog.=) ANY ((SELECT leasemgr.visible_parks())::bigint[]));
COMMENT ON POLICY park_scope ON leasemgr.deposit_txn IS
  'Rows of the parks granted to the role (leasemgr.grant_park); every park for leasemgr_admin.';
ALTER TABLE leasemgr.deposit_refund ENABLE ROW LEVEL SECURITY;
CREATE POLICY park_scope ON leasemgr.deposit_refund USING ((SELECT leasemgr.sees_all_parks())
  OR park_id OPERATOR(pg_catalog.=) ANY ((SELECT leasemgr.visible_parks())::bigint[]));
COMMENT ON POLICY park_scope ON leasemgr.deposit_refund IS
  'Rows of the parks granted to the role (leasemgr.grant_park); every park for leasemgr_admin.';

CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON leasemgr.deposit_txn
  FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row();
CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON leasemgr.deposit_refund
  FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row();
CREATE TRIGGER truncate_guard BEFORE TRUNCATE ON leasemgr.deposit_refund
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.truncate_guard();
CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON leasemgr.sms_gateway_key
  FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row();
CREATE TRIGGER truncate_guard BEFORE TRUNCATE ON leasemgr.sms_gateway_key
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.truncate_guard();

-- The code's hash and the codes entered: no role reads them (no policy, no grant).
ALTER TABLE leasemgr.deposit_refund_code ENABLE ROW LEVEL SECURITY;
ALTER TABLE leasemgr.deposit_refund_attempt ENABLE ROW LEVEL SECURITY;
CREATE TRIGGER ledger_guard BEFORE UPDATE OR DELETE ON leasemgr.deposit_refund_code
  FOR EACH ROW EXECUTE FUNCTION leasemgr.ledger_guard();
CREATE TRIGGER truncate_guard BEFORE TRUNCATE ON leasemgr.deposit_refund_code
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.truncate_guard();
CREATE TRIGGER truncate_guard BEFORE TRUNCATE ON leasemgr.deposit_refund_attempt
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.truncate_guard();

REVOKE ALL ON leasemgr.deposit_txn, leasemgr.deposit_refund, leasemgr.sms_gateway_key, leasemgr.deposit_refund_code,
  leasemgr.deposit_refund_attempt FROM PUBLIC;
GRANT SELECT ON leasemgr.deposit_txn, leasemgr.deposit_refund TO leasemgr_reader;
-- A public key is public: whoever requests a refund encrypts to it.
GRANT SELECT ON leasemgr.sms_gateway_key TO leasemgr_reader;
GRANT INSERT (public_key, note), UPDATE (retired_at) ON leasemgr.sms_gateway_key TO leasemgr_admin;
GRANT USAGE ON SEQUENCE leasemgr.sms_gateway_key_id_seq TO leasemgr_admin;
-- Finance moves deposits and requests, releases and cancels refunds.
GRANT INSERT (contract_id, kind, amount, reason, occurred_on, reference, note, payment_id, refund_id, related_contract_id)
  ON leasemgr.deposit_txn TO leasemgr_finance;
GRANT INSERT (contract_id, amount, payee_account, note), UPDATE (state, note) ON leasemgr.deposit_refund TO leasemgr_finance;
REVOKE ALL ON FUNCTION leasemgr.deposit_txn_before_insert(), leasemgr.deposit_pairs_check(), leasemgr.sms_encrypt(text),
  leasemgr.sms_gateway_key_check(), leasemgr.deposit_refund_before_write(), leasemgr.deposit_refund_after_write(),
  leasemgr.outbox_sms(), leasemgr.deposit_receive(bigint, numeric, date, text),
  leasemgr.deposit_deduct(bigint, numeric, text, text), leasemgr.deposit_refund_request(bigint, numeric, text),
  leasemgr.deposit_refund_confirm(bigint, text), leasemgr.deposit_refund_check(bigint), leasemgr.deposit_refund_release(bigint),
  leasemgr.deposit_refund_cancel(bigint, text), leasemgr.deposit_balance(bigint), leasemgr.pgcrypto_schema(),
  leasemgr.deposit_refund_attempts_checked(bigint), leasemgr.deposit_refund_issue_code(bigint),
  leasemgr.deposit_refund_check_codes(bigint), leasemgr.deposit_refund_enter_code(bigint, text),
  leasemgr.deposit_refund_visible(bigint), leasemgr.session_sees_park(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leasemgr.deposit_balance(bigint), leasemgr.pgcrypto_schema(), leasemgr.deposit_refund_visible(bigint),
  leasemgr.session_sees_park(bigint) TO leasemgr_reader;
GRANT EXECUTE ON FUNCTION leasemgr.deposit_receive(bigint, numeric, date, text), leasemgr.deposit_deduct(bigint, numeric, text, text),
  leasemgr.deposit_refund_request(bigint, numeric, text), leasemgr.deposit_refund_release(bigint),
  leasemgr.deposit_refund_cancel(bigint, text), leasemgr.sms_encrypt(text), leasemgr.deposit_refund_issue_code(bigint)
  TO leasemgr_finance;
-- Entering a code and checking it: finance and the front desk (operators). The definer
-- functions they reach check codes; they reveal nothing about a code before it is checked.
GRANT EXECUTE ON FUNCTION leasemgr.deposit_refund_confirm(bigint, text), leasemgr.deposit_refund_check(bigint),
  leasemgr.deposit_refund_enter_code(bigint, text), leasemgr.deposit_refund_check_codes(bigint),
  leasemgr.deposit_refund_attempts_checked(bigint) TO leasemgr_finance, leasemgr_operator;

SELECT pg_catalog.pg_extension_config_dump('leasemgr.deposit_txn', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.deposit_txn_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.deposit_refund', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.deposit_refund_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.sms_gateway_key', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.sms_gateway_key_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.deposit_refund_code', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.deposit_refund_attempt', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.deposit_refund_attempt_id_seq', '');
