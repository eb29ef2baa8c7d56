-- Deposits: a ledger per contract whose balance is never negative; deductions with a reason
-- (unpaid rent pays the open bills); a refund released only after the tenant's one-time code
-- (sent by SMS, encrypted to the gateway's key, stored only as a salted hash) and a second
-- finance person. Every refusal path, and the code never in clear.
BEGIN;
SELECT plan(43);

SELECT th.park('DP') AS park \gset
SELECT th.contract_in(:park, 'expired', 'DP-1') AS c \gset
UPDATE leasemgr.tenant SET phone = '+86 138 0000 0001' WHERE id = (SELECT tenant_id FROM leasemgr.contract WHERE id = :c);
CREATE FUNCTION pg_temp.as(p_actor text) RETURNS void LANGUAGE sql AS $$
  SELECT set_config('leasemgr.actor', p_actor, true)
$$;
SELECT pg_temp.as('fin.a');

-- ---- the ledger ------------------------------------------------------------------------------

SELECT ok(leasemgr.deposit_receive(:c, 20000.00, '2024-01-02', 'BANK-778') > 0, 'a deposit of 20,000.00 is received');
SELECT ok(leasemgr.deposit_deduct(:c, 1500.00, 'damage', 'broken glass door, invoice 2024-881') > 0, '1,500.00 kept for damage');
-- An unpaid bill of 1,000.00: the deduction for unpaid rent pays it.
INSERT INTO leasemgr.bill (park_id, contract_id, period, issued_on, due_on, issued_by)
VALUES (:park, :c, '2024-12-01', '2024-12-01', '2024-12-05', 'fin.a') RETURNING id AS b \gset
INSERT INTO leasemgr.bill_line (park_id, bill_id, contract_id, kind, period_start, period_end, amount, explain, line_type)
VALUES (:park, :b, :c, 'rent', '2024-12-01', '2024-12-31', 1000.00, 'rent December', 'adjustment');
SELECT leasemgr.deposit_deduct(:c, 1000.00, 'unpaid_rent', 'December rent') AS d \gset
SELECT is((SELECT (b.paid, p.channel)::text FROM leasemgr.bill b, leasemgr.deposit_txn t JOIN leasemgr.payment p ON p.id = t.payment_id
            WHERE b.id = :b AND t.id = :d), '(1000.00,deposit_offset)',
  'a deduction for unpaid rent pays the open bill with a deposit_offset payment');
-- 20,000.00 - 1,500.00 - 1,000.00 = 17,500.00
SELECT is(leasemgr.deposit_balance(:c), 17500.00, 'balance 20,000 - 1,500 - 1,000 = 17,500.00');
SELECT th.refuses(format($$SELECT leasemgr.deposit_deduct(%s, 17500.01, 'damage', 'too much')$$, :c),
  'LM021', 'the deposit of contract DP-1 is 17,500.00 CNY: 17,500.01 CNY cannot be deducted',
  'The deposit balance is never negative.',
  'Take at most the balance (leasemgr.deposit_balance); the rest is owed by the tenant as a bill.',
  'a deduction above the balance is refused');
SELECT is((th.error_of(format($$INSERT INTO leasemgr.deposit_txn (contract_id, kind, amount, reason) VALUES (%s, 'deducted', 20000, 'other')$$, :c))).code,
  'LM021', 'a direct insert below zero is refused as well');
SELECT is((th.error_of(format($$SELECT leasemgr.deposit_deduct(%s, 10, 'fun', 'x')$$, :c))).code, 'LM021', 'an unknown reason is refused');
SELECT is((th.error_of(format($$SELECT leasemgr.deposit_deduct(%s, 10, 'damage', ' ')$$, :c))).code, 'LM021', 'a deduction needs a note');
SELECT is((th.error_of(format($$INSERT INTO leasemgr.deposit_txn (contract_id, kind, amount, refund_id) VALUES (%s, 'refunded', 100, 1)$$, :c))).code,
  'LM021', 'a refund is not written directly');
SELECT is((th.error_of(format($$INSERT INTO leasemgr.deposit_txn (contract_id, kind, amount, reason, note) VALUES (%s, 'deducted', 10, 'unpaid_rent', 'x')$$, :c))).code,
  'LM021', 'a deduction for unpaid rent without its payment is refused: the bills would stay unpaid');
SELECT is((th.error_of(format($$INSERT INTO leasemgr.deposit_txn (contract_id, kind, amount, reason, note, payment_id) VALUES (%s, 'deducted', 0.01, 'unpaid_rent', 'x', %s)$$,
                              :c, (SELECT payment_id FROM leasemgr.deposit_txn WHERE id = :d)))).code,
  'LM021', 'nor one naming a deposit_offset payment of another amount');
SELECT is((th.error_of(format('UPDATE leasemgr.deposit_txn SET amount = 1 WHERE id = %s', :d))).code, 'LM010', 'the ledger is never edited');
SELECT is((th.error_of(format('DELETE FROM leasemgr.deposit_txn WHERE id = %s', :d))).code, 'LM010', 'nor deleted');
SELECT is((th.error_of(format($$SELECT leasemgr.deposit_receive(%s, 100, NULL, 'x')$$, th.contract_in(:park, 'draft')))).code,
  'LM021', 'a draft holds no deposit');
-- A deposit_offset payment without its deduction fails at commit (checked here at once).
SET CONSTRAINTS leasemgr.deposit_offset_check IMMEDIATE;
SELECT is((th.error_of(format($$SELECT leasemgr.record_payment(%s, 10, '2024-12-20', 'deposit_offset', 'FAKE-1')$$, :c))).code,
  'LM021', 'money cannot be taken from the deposit by a payment alone');
SET CONSTRAINTS leasemgr.deposit_offset_check DEFERRED;
SELECT is(leasemgr.deposit_balance(:c), 17500.00, 'the refusals changed nothing');

-- ---- refund: refusals before anything is sent ---------------------------------------------------

SELECT th.refuses(format($$SELECT leasemgr.deposit_refund_request(%s, 100, 'ICBC 6222 0000 1111')$$, :c),
  'LM021', 'no SMS gateway key is in use',
  'One-time codes go to the tenant encrypted to the SMS gateway''s public key; leasemgr.sms_gateway_key has none in use.',
  'An admin adds the gateway''s OpenPGP public key: INSERT INTO leasemgr.sms_gateway_key (public_key) VALUES (''-----BEGIN PGP PUBLIC KEY BLOCK-----...'').',
  'without the gateway''s key no code can be sent: refused');
SELECT is((th.error_of($$INSERT INTO leasemgr.sms_gateway_key (public_key) VALUES ('not a key')$$)).code, 'LM021',
  'a key that cannot encrypt is refused');
INSERT INTO leasemgr.sms_gateway_key (public_key, note) VALUES (th.sms_public_key(), 'test gateway');
SELECT is((th.error_of(format($$SELECT leasemgr.deposit_refund_request(%s, 100, 'ICBC')$$, th.contract_in(:park, 'active')))).code,
  'LM021', 'an active lease''s deposit is not refunded');
SELECT th.refuses(format($$SELECT leasemgr.deposit_refund_request(%s, 17500.01, 'ICBC')$$, :c),
  'LM021', 'the deposit of contract DP-1 is 17,500.00 CNY: 17,500.01 CNY cannot be refunded',
  'A refund is a positive amount in cents, at most the deposit held.', 'Request at most leasemgr.deposit_balance(contract_id).',
  'a refund above the balance is refused');
UPDATE leasemgr.tenant SET phone = NULL WHERE id = (SELECT tenant_id FROM leasemgr.contract WHERE id = :c);
SELECT is((th.error_of(format($$SELECT leasemgr.deposit_refund_request(%s, 100, 'ICBC')$$, :c))).code, 'LM021',
  'a tenant without a phone cannot receive the code: refused');
UPDATE leasemgr.tenant SET phone = '+86 138 0000 0001' WHERE id = (SELECT tenant_id FROM leasemgr.contract WHERE id = :c);
SELECT th.contract_in(:park, 'expired', 'DP-2') AS c2 \gset
UPDATE leasemgr.tenant SET phone = '+86 138 0000 0002' WHERE id = (SELECT tenant_id FROM leasemgr.contract WHERE id = :c2);
SELECT leasemgr.deposit_receive(:c2, 5000.00, '2024-01-02', 'BANK-779');
INSERT INTO leasemgr.bill (park_id, contract_id, period, issued_on, due_on, issued_by)
VALUES (:park, :c2, '2024-12-01', '2024-12-01', '2024-12-05', 'fin.a') RETURNING id AS b2 \gset
INSERT INTO leasemgr.bill_line (park_id, bill_id, contract_id, kind, period_start, period_end, amount, explain, line_type)
VALUES (:park, :b2, :c2, 'rent', '2024-12-01', '2024-12-31', 1200.00, 'rent December', 'adjustment');
SELECT th.refuses(format($$SELECT leasemgr.deposit_refund_request(%s, 3800, 'ICBC')$$, :c2),
  'LM021', 'the deposit of contract DP-2 is not refunded while its tenant still owes 1,200.00 CNY',
  format('Unpaid: bill %s.', :b2),
  'Collect it, or deduct it from the deposit (leasemgr.deposit_deduct(contract_id, amount, ''unpaid_rent'', note)), then refund the rest.',
  'no refund while the tenant still owes: the deposit answers for it first');
SELECT is((SELECT count(*)::int FROM leasemgr.deposit_refund), 0, 'no refusal left a request behind');

-- ---- refund: the code --------------------------------------------------------------------------
-- (The code is checked only by a transaction after the one that entered it: the whole way from
-- code to release is test/scenarios/deposit_refund.sh, which commits between the steps.)

SELECT leasemgr.deposit_refund_request(:c, 17500.00, 'ICBC Suzhou 6222 0000 1111 2222, DP Tenant Ltd') AS r \gset
SELECT is((SELECT count(*)::int FROM leasemgr.event_outbox WHERE topic = 'sms' AND subject_id = :r), 1, 'one SMS event is written');
SELECT is((SELECT payload ->> 'to' FROM leasemgr.event_outbox WHERE topic = 'sms' AND subject_id = :r), '+86 138 0000 0001',
  'addressed to the tenant''s phone');
-- The gateway reads the code with its private key.
SELECT pgp_pub_decrypt(dearmor(payload ->> 'code_pgp'), dearmor(th.sms_secret_key())) AS code
  FROM leasemgr.event_outbox WHERE topic = 'sms' AND subject_id = :r \gset
SELECT matches(:'code'::text, '^[0-9]{6}$', 'the gateway decrypts a 6-digit code');
SELECT is((SELECT code_hash FROM leasemgr.deposit_refund_code WHERE refund_id = :r),
          (SELECT encode(sha256(convert_to(code_salt || ':' || :'code', 'UTF8')), 'hex') FROM leasemgr.deposit_refund_code WHERE refund_id = :r),
  'the database keeps the salted SHA-256 of the code');
SELECT is((SELECT count(*)::int FROM leasemgr.deposit_refund r WHERE r::text LIKE '%' || :'code' || '%')
        + (SELECT count(*)::int FROM leasemgr.event_outbox e WHERE e.subject_id = :r AND e::text LIKE '%' || :'code' || '%')
        + (SELECT count(*)::int FROM leasemgr.audit_log a WHERE a::text LIKE '%' || :'code' || '%'),
  0, 'the code is nowhere in clear: not in the refund, the outbox or the audit log');
SELECT is((SELECT count(*)::int FROM leasemgr.audit_log a WHERE a.table_name IN ('deposit_refund_code', 'deposit_refund_attempt')), 0,
  'the code''s hash is not in the audit log either');
-- No role reads the hash: a million tries would find the code.
CREATE ROLE th_dp_finance;
GRANT leasemgr_finance TO th_dp_finance;
SET LOCAL ROLE th_dp_finance;
SELECT is((th.error_of('SELECT * FROM leasemgr.deposit_refund_code')).code, '42501', 'finance cannot read the code''s hash');
SELECT is((th.error_of('SELECT * FROM leasemgr.deposit_refund_attempt')).code, '42501', 'nor the codes entered');
SELECT is(leasemgr.session_sees_park(:park), false,
  'the park check of the definer functions follows SET ROLE: a role without the park does not see it');
RESET ROLE;
SELECT is((th.error_of(format($$SELECT leasemgr.deposit_refund_request(%s, 1, 'x')$$, :c))).code, 'LM021',
  'a second refund while one is in progress is refused');
SELECT is((th.error_of(format('UPDATE leasemgr.deposit_refund SET amount = 1 WHERE id = %s', :r))).code, 'LM010',
  'the amount of a request never changes');
SELECT is((th.error_of(format($$UPDATE leasemgr.deposit_refund SET state = 'confirmed', confirmed_at = now() WHERE id = %s$$, :r))).code, 'LM021',
  'a refund is not confirmed without its code');
SELECT is((th.error_of(format($$UPDATE leasemgr.deposit_refund SET failed_attempts = 5, state = 'locked' WHERE id = %s$$, :r))).code, 'LM021',
  'nor locked, nor its wrong codes rewritten');
SELECT is((th.error_of(format('SELECT leasemgr.deposit_refund_release(%s)', :r))).code, 'LM021',
  'nor released before its code is confirmed');
-- A code entered is recorded, and says nothing until this transaction has committed.
SELECT results_eq(format($$SELECT recorded, state, tries_left FROM leasemgr.deposit_refund_confirm(%s, %L)$$, :r, :'code'),
  $$VALUES (true, 'requested', 5)$$, 'the right code is recorded, not checked in the transaction that entered it');
SELECT results_eq(format($$SELECT recorded, state FROM leasemgr.deposit_refund_confirm(%s, '000000')$$, :r),
  $$VALUES (false, 'requested')$$, 'a second code waits for the first to be checked: one code at a time');
SELECT is((SELECT state FROM leasemgr.deposit_refund_check(:r)), 'requested', 'checking in the same transaction learns nothing');
SELECT is((th.error_of('SELECT leasemgr.deposit_refund_confirm(NULL, ''1'')')).message, 'deposit refund NULL does not exist',
  'an unknown refund is said plainly');
SELECT is((th.error_of('SELECT leasemgr.deposit_refund_issue_code(' || :r || ')')).code, 'LM021', 'a code is issued once');
SELECT is((th.error_of('UPDATE leasemgr.sms_gateway_key SET public_key = ''x''')).code, 'LM010', 'a gateway key is only retired, never edited');

SELECT * FROM finish();
ROLLBACK;
