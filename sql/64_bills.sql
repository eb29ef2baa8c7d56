-- Bills and their lines: what each contract owes for each billing month, line by line with
-- the explanation a tenant can check. Written by leasemgr.bill_run(); lines never change.

CREATE TABLE leasemgr.bill (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  park_id     bigint NOT NULL,
  contract_id bigint NOT NULL,
  period      date NOT NULL CHECK (pg_catalog.date_trunc('month', period)::date OPERATOR(pg_catalog.=) period),
  issued_on   date NOT NULL,
  due_on      date NOT NULL,
  amount      numeric(16,2) NOT NULL DEFAULT 0,
  paid        numeric(16,2) NOT NULL DEFAULT 0,
  voided_at   timestamptz,
  void_reason text,
  state       text NOT NULL GENERATED ALWAYS AS (
                CASE WHEN voided_at IS NOT NULL THEN 'void'
                     WHEN paid >= amount THEN 'paid'
                     WHEN paid > 0 THEN 'partially_paid'
                     ELSE 'open' END) STORED,
  issued_by   text NOT NULL,
  CONSTRAINT bill_paid_range CHECK (paid >= 0 AND paid <= GREATEST(amount, 0)),
  CONSTRAINT bill_void_reason CHECK ((voided_at IS NULL) = (void_reason IS NULL) AND (voided_at IS NULL OR paid = 0)),
  CONSTRAINT bill_key UNIQUE (id, park_id),
  CONSTRAINT bill_contract_fk FOREIGN KEY (contract_id, park_id) REFERENCES leasemgr.contract (id, park_id)
);
CREATE INDEX bill_contract_period_idx ON leasemgr.bill (contract_id, period);
CREATE INDEX bill_park_period_idx ON leasemgr.bill (park_id, period);
CREATE INDEX bill_unpaid_idx ON leasemgr.bill (contract_id, due_on) WHERE paid < amount AND voided_at IS NULL;
COMMENT ON TABLE leasemgr.bill IS
  'A bill (账单): what one contract owes for one billing month, the sum of its lines. Issued by leasemgr.bill_run; amount and paid follow the lines and the payment allocations and are never written by hand.';
COMMENT ON COLUMN leasemgr.bill.id IS 'Bill identifier.';
COMMENT ON COLUMN leasemgr.bill.park_id IS 'The park of the contract.';
COMMENT ON COLUMN leasemgr.bill.contract_id IS 'The contract billed.';
COMMENT ON COLUMN leasemgr.bill.period IS 'The billing month: its first day. Periods billed in advance appear in the month they start, in arrears in the month after they end. A contract has one bill per bill run that found something to bill, so a month can have a supplementary bill (a turnover month reported late, a price index loaded late).';
COMMENT ON COLUMN leasemgr.bill.issued_on IS 'The business day the bill was issued.';
COMMENT ON COLUMN leasemgr.bill.due_on IS 'The day payment is due: the earliest due day of its charges in the billing month. Late fees accrue after it (and after the grace days).';
COMMENT ON COLUMN leasemgr.bill.amount IS 'Total of the bill''s lines, CNY. Kept equal to the lines by a trigger.';
COMMENT ON COLUMN leasemgr.bill.paid IS 'Payments allocated to the bill, CNY. Kept equal to the allocations by a trigger.';
COMMENT ON COLUMN leasemgr.bill.voided_at IS 'When finance voided the unpaid bill (UPDATE of voided_at and void_reason, once); NULL for a valid bill. The periods of a void bill stay billed: re-bill them with adjustment lines.';
COMMENT ON COLUMN leasemgr.bill.void_reason IS 'Why it was voided.';
COMMENT ON COLUMN leasemgr.bill.state IS 'Generated: void, paid (paid >= amount), partially_paid or open.';
COMMENT ON COLUMN leasemgr.bill.issued_by IS 'Who ran the bill run that issued it.';

CREATE TABLE leasemgr.bill_line (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  park_id      bigint NOT NULL,
  bill_id      bigint NOT NULL,
  contract_id  bigint NOT NULL,
  charge_id    bigint,
  kind         text NOT NULL,
  period_start date NOT NULL,
  period_end   date NOT NULL,
  amount       numeric(16,2) NOT NULL,
  explain      text NOT NULL CHECK (pg_catalog.btrim(explain) <> ''),
  line_type    text NOT NULL DEFAULT 'charge' CHECK (line_type IN ('charge', 'adjustment', 'late_fee', 'allocation')),
  estimated    boolean NOT NULL DEFAULT false,
  trues_up     bigint,
  allocation_share_id bigint,
  amendment_id bigint,
  returns_fee_of bigint,
  CONSTRAINT bill_line_returns_fee CHECK (returns_fee_of IS NULL OR (line_type = 'late_fee' AND amount < 0)),
  CONSTRAINT bill_line_rebill_adjusts CHECK (amendment_id IS NULL OR (line_type = 'adjustment' AND charge_id IS NOT NULL)),
  CONSTRAINT bill_line_period_ordered CHECK (period_end >= period_start),
  CONSTRAINT bill_line_estimated_charge CHECK (NOT estimated OR line_type = 'charge'),
  CONSTRAINT bill_line_true_up_adjusts CHECK (trues_up IS NULL OR line_type = 'adjustment'),
  CONSTRAINT bill_line_allocation_share CHECK ((line_type = 'allocation') = (allocation_share_id IS NOT NULL)),
  CONSTRAINT bill_line_charge_has_charge CHECK (line_type <> 'charge' OR charge_id IS NOT NULL),
  CONSTRAINT bill_line_bill_fk FOREIGN KEY (bill_id, park_id) REFERENCES leasemgr.bill (id, park_id),
  CONSTRAINT bill_line_charge_fk FOREIGN KEY (charge_id, park_id) REFERENCES leasemgr.charge (id, park_id)
);
-- The rule "a charge period is billed once", for any number of bill runs, concurrent or not.
CREATE UNIQUE INDEX bill_line_charge_once ON leasemgr.bill_line (charge_id, period_start) WHERE line_type = 'charge';
CREATE INDEX bill_line_bill_idx ON leasemgr.bill_line (bill_id);
CREATE INDEX bill_line_returns_fee ON leasemgr.bill_line (returns_fee_of) WHERE returns_fee_of IS NOT NULL;
-- An estimated line is trued up once; a share of a shared cost is billed once.
CREATE UNIQUE INDEX bill_line_true_up_once ON leasemgr.bill_line (trues_up) WHERE trues_up IS NOT NULL;
CREATE UNIQUE INDEX bill_line_share_once ON leasemgr.bill_line (allocation_share_id) WHERE allocation_share_id IS NOT NULL;
-- The bill run looks for estimated lines still to true up.
CREATE INDEX bill_line_estimated ON leasemgr.bill_line (contract_id) WHERE estimated;
COMMENT ON TABLE leasemgr.bill_line IS
  'A line of a bill (账单明细): one charge for one period or part of a period, or an adjustment or late fee, with the calculation in words. Never changed or deleted: corrections are new adjustment lines.';
COMMENT ON INDEX leasemgr.bill_line_charge_once IS 'A charge''s period is billed exactly once, whatever bill runs do.';
COMMENT ON COLUMN leasemgr.bill_line.id IS 'Line identifier.';
COMMENT ON COLUMN leasemgr.bill_line.park_id IS 'The park.';
COMMENT ON COLUMN leasemgr.bill_line.bill_id IS 'The bill.';
COMMENT ON COLUMN leasemgr.bill_line.contract_id IS 'The contract (the bill''s).';
COMMENT ON COLUMN leasemgr.bill_line.charge_id IS 'The charge billed; required for charge lines.';
COMMENT ON COLUMN leasemgr.bill_line.kind IS 'The charge kind (rent, property_fee, ...), or late_fee; on a lease handed over to its renewal, carried_over (on the old bill) and brought_forward or late_fee_brought_forward (on the renewal''s bill).';
COMMENT ON COLUMN leasemgr.bill_line.period_start IS 'First day the line covers, inclusive.';
COMMENT ON COLUMN leasemgr.bill_line.period_end IS 'Last day the line covers, inclusive.';
COMMENT ON COLUMN leasemgr.bill_line.amount IS 'CNY, rounded half-up to the cent once, from exact inputs.';
COMMENT ON COLUMN leasemgr.bill_line.explain IS 'How the amount was computed, with every input, e.g. "120.00 m2 x 85.0000 CNY/m2/month x 17/31 days = 5,266.45".';
COMMENT ON COLUMN leasemgr.bill_line.line_type IS 'charge (from leasemgr.charge), adjustment (a correction, or the true-up of an estimate), late_fee, or allocation (a share of a shared cost, from leasemgr.allocation_share).';
COMMENT ON COLUMN leasemgr.bill_line.estimated IS 'A metered charge line billed at the fallback estimate (readings missing or doubtful), not at the readings; the explain text says why and how. The bill run trues it up once the real figure is known.';
COMMENT ON COLUMN leasemgr.bill_line.trues_up IS 'On a true-up (an adjustment written by the bill run): the estimated line it settles, once. The amount is the real figure minus the estimate.';
COMMENT ON COLUMN leasemgr.bill_line.allocation_share_id IS 'On an allocation line: the share of a shared cost it bills (leasemgr.allocation_share), once.';
COMMENT ON COLUMN leasemgr.bill_line.amendment_id IS 'On an adjustment written by leasemgr.rebill: the approved amendment (the latest, when several are re-billed together) whose changes it re-bills. Only rebill writes it; rebill counts these lines, with the charge lines, as what stands billed.';
COMMENT ON COLUMN leasemgr.bill_line.returns_fee_of IS 'On a credit written by leasemgr.post_late_fees: the bill whose late fee, already paid, turned out higher than what accrued (a payment recorded late); the excess comes back as this negative line.';
COMMENT ON INDEX leasemgr.bill_line_true_up_once IS 'An estimated line is trued up once.';
COMMENT ON INDEX leasemgr.bill_line_share_once IS 'A share of a shared cost is billed once.';

-- Amounts in words, as the explanations of lines written in SQL (re-bills, late fees) show them.
CREATE FUNCTION leasemgr.money_text(amount numeric) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$ SELECT to_char(amount, 'FM999,999,999,999,990.00') $fn$;
COMMENT ON FUNCTION leasemgr.money_text(numeric) IS 'An amount in cents as the bill explanations write it: 12,000.00.';

-- bill.amount is the sum of the lines, for every writer: after lines are inserted, the bills
-- they belong to are brought to their totals (bill_run inserts bills with the right total
-- already, and the trigger does nothing on its path).
CREATE FUNCTION leasemgr.bill_line_totals() RETURNS trigger
  AS 'MODULE_PATHNAME', 'bill_line_totals'
  LANGUAGE C;
COMMENT ON FUNCTION leasemgr.bill_line_totals() IS
  'Trigger: keeps bill.amount equal to the sum of the bill''s lines after lines are added.';
CREATE TRIGGER bill_line_totals AFTER INSERT ON leasemgr.bill_line
  REFERENCING NEW TABLE AS new_lines
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.bill_line_totals();

CREATE FUNCTION leasemgr.ledger_guard() RETURNS trigger
  AS 'MODULE_PATHNAME', 'ledger_guard'
  LANGUAGE C;
COMMENT ON FUNCTION leasemgr.ledger_guard() IS
  'Trigger: refuses UPDATE, DELETE and TRUNCATE of a ledger table (bill lines, payments, allocations), whoever asks (SQLSTATE LM010). Inserts go through the rules of the table.';
CREATE TRIGGER ledger_guard BEFORE UPDATE OR DELETE ON leasemgr.bill_line
  FOR EACH ROW EXECUTE FUNCTION leasemgr.ledger_guard();

CREATE FUNCTION leasemgr.bill_line_before_insert() RETURNS trigger
  AS 'MODULE_PATHNAME', 'bill_line_before_insert'
  LANGUAGE C;
COMMENT ON FUNCTION leasemgr.bill_line_before_insert() IS
  'Trigger: charge lines are written by leasemgr.bill_run only; a line added by hand (an adjustment or a late fee) must belong to a valid bill of its contract, and name a charge of that contract if it names one (SQLSTATE LM010, LM007).';
CREATE TRIGGER bill_line_before_insert BEFORE INSERT ON leasemgr.bill_line
  FOR EACH ROW EXECUTE FUNCTION leasemgr.bill_line_before_insert();
CREATE TRIGGER ledger_guard_truncate BEFORE TRUNCATE ON leasemgr.bill_line
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.ledger_guard();

CREATE FUNCTION leasemgr.bill_before_write() RETURNS trigger
  AS 'MODULE_PATHNAME', 'bill_before_write'
  LANGUAGE C;
COMMENT ON FUNCTION leasemgr.bill_before_write() IS
  'Trigger: a bill starts empty (only leasemgr.bill_run inserts it with the total of the lines it adds); its contract, park, month and dates never change; amount and paid change only to the totals of its lines and allocations; bills are never deleted (SQLSTATE LM010).';
CREATE TRIGGER bill_before_write BEFORE INSERT OR UPDATE OR DELETE ON leasemgr.bill
  FOR EACH ROW EXECUTE FUNCTION leasemgr.bill_before_write();

-- The bill run.

-- No JIT: the run's cursor over every billable charge is estimated costly enough for JIT
-- compilation with inlining and optimization, which adds about 57 MB to the backend's peak
-- memory over 100,000 contracts (test/bench/bill_run.sql) and gains nothing measurable: the
-- cursor's expressions are a small part of the run, which is mostly C code and inserts.
CREATE FUNCTION leasemgr.bill_run(period_month date, park_id bigint DEFAULT NULL)
  RETURNS TABLE (bills_created integer, lines_created integer, skipped_frozen integer,
                 skipped_already_billed integer, amount numeric, charges_held integer)
  AS 'MODULE_PATHNAME', 'bill_run'
  LANGUAGE C VOLATILE CALLED ON NULL INPUT
  SET jit = off;
COMMENT ON FUNCTION leasemgr.bill_run(date, bigint) IS
  'Bills every billable contract (active; expired, terminated or moving out for days of their lease not yet billed) of the park, or of every park you see, for all charge periods that fall due in period_month or earlier and are not billed yet, on one new bill per contract. Each period is billed exactly once: runs over a park take turns, and a unique index backs it. Contracts frozen by an amendment are skipped and counted; charges whose next period cannot be computed yet (turnover not reported, price index month not loaded) are held for a later run and counted in charges_held. Must run at READ COMMITTED. Returns what it did.';

CREATE TRIGGER truncate_guard BEFORE TRUNCATE ON leasemgr.bill
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.truncate_guard();

ALTER TABLE leasemgr.bill ENABLE ROW LEVEL SECURITY;
CREATE POLICY park_scope ON leasemgr.bill USING ((SELECT leasemgr.sees_all_parks())
  OR park_id OPERATOR(pg_catalog.=) ANY ((SELECT leasemgr.visible_parks())::bigint[]));
COMMENT ON POLICY park_scope ON leasemgr.bill IS
  'Rows of the parks granted to the role (leasemgr.grant_park); every park for leasemgr_admin.';
ALTER TABLE leasemgr.bill_line ENABLE ROW LEVEL SECURITY;
CREATE POLICY park_scope ON leasemgr.bill_line USING ((SELECT leasemgr.sees_all_parks())
  OR park_id OPERATOR(pg_catalog.=) ANY ((SELECT leasemgr.visible_parks())::bigint[]));
COMMENT ON POLICY park_scope ON leasemgr.bill_line IS
  'Rows of the parks granted to the role (leasemgr.grant_park); every park for leasemgr_admin.';

-- Finance issues bills (leasemgr.bill_run runs with the caller's rights and park scope).
REVOKE ALL ON leasemgr.bill, leasemgr.bill_line FROM PUBLIC;
GRANT SELECT ON leasemgr.bill, leasemgr.bill_line TO leasemgr_reader;
GRANT INSERT, UPDATE ON leasemgr.bill TO leasemgr_finance;
GRANT INSERT ON leasemgr.bill_line TO leasemgr_finance;
REVOKE ALL ON FUNCTION leasemgr.bill_line_totals(), leasemgr.ledger_guard(), leasemgr.bill_before_write(),
  leasemgr.bill_line_before_insert(),
  leasemgr.bill_run(date, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leasemgr.bill_run(date, bigint) TO leasemgr_finance;
GRANT EXECUTE ON FUNCTION leasemgr.money_text(numeric) TO leasemgr_reader;

SELECT pg_catalog.pg_extension_config_dump('leasemgr.bill', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.bill_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.bill_line', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.bill_line_id_seq', '');
