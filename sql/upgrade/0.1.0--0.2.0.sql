-- leasemgr 0.1.0 -> 0.2.0: the billing engine (charges, bills, payments, late fees, reports).
-- Every schema change of 0.2.0 is made here and in the domain files sql/NN_*.sql; the
-- upgrade_path scenario checks that both give the same schema.
\echo Use "ALTER EXTENSION leasemgr UPDATE TO '0.2.0'" to load this file. \quit

-- Contracts get the (id, park_id) key the billing tables refer to.
ALTER TABLE leasemgr.contract ADD CONSTRAINT contract_park_key UNIQUE (id, park_id);

-- The contractual deposit, a term of the contract (sql/40_contract.sql: the last column).
ALTER TABLE leasemgr.contract ADD COLUMN deposit_amount numeric(16,2) CHECK (deposit_amount >= 0);
COMMENT ON COLUMN leasemgr.contract.deposit_amount IS
  'The contractual deposit (押金 / 保证金), CNY, >= 0; NULL when the contract asks for none or it is not entered. What the contract says, not what was received: the deposit ledger (received, held, refunded) comes in a later issue. A term: locked from submission.';

-- Amendments (92_amendments.sql) add the events amend and resume.
COMMENT ON COLUMN leasemgr.contract_event.event IS 'create, or the state-machine event: submit, reject, approve, sign, activate, expire, terminate, start_move_out, close, cancel, amend (an amendment opened), resume (it was decided).';

-- What follows is appended by the Makefile: the domain files new in 0.2.0, verbatim.
