-- Every guard of the state machine refuses, with its own SQLSTATE, a clear detail and a
-- hint, and changes nothing; satisfied, it lets the transition through.
BEGIN;
SELECT plan(49);

SELECT th.park('GD') AS park \gset

-- submit: at least one unit; dates in order.
SELECT th.draft(:park, 'G-EMPTY', '{}', '2025-01-01', '2025-12-31') AS empty \gset
SELECT throws_ok(format('SELECT leasemgr.contract_transition(%s, ''submit'')', :empty), 'LM002',
  'contract G-EMPTY cannot be submitted without a unit', 'submit without a unit is refused');
SELECT is((SELECT state FROM leasemgr.contract WHERE id = :empty), 'draft', '... and the contract stays a draft');
SELECT isnt((th.error_of(format('SELECT leasemgr.contract_transition(%s, ''submit'')', :empty))).hint, NULL,
  '... with a hint');
SELECT throws_ok(format($$SELECT th.draft(%s, 'G-BACK', '{}', '2025-12-31', '2025-01-01')$$, :park), 'LM012',
  'lease of contract G-BACK ends before it starts', 'end_date before start_date is refused at insert');
SELECT throws_ok(format('UPDATE leasemgr.contract SET end_date = ''2024-12-31'' WHERE id = %s', :empty), 'LM012',
  NULL, '... and at update');
SELECT lives_ok(format($$SELECT th.draft(%s, 'G-ONEDAY', ARRAY[th.unit(%s, 'G-1D')], '2025-03-01', '2025-03-01')$$, :park, :park),
  'a one-day lease (start = end) is a valid lease');

-- approve: four-eyes.
SELECT th.draft(:park, 'G-4EYES', ARRAY[th.unit(:park, 'G-U1')], '2025-01-01', '2025-12-31') AS four \gset
SELECT th.fire(:four, 'submit', 'li.na');
SELECT throws_ok(format('SELECT th.fire(%s, ''approve'', ''li.na'')', :four), 'LM003',
  'contract G-4EYES must be approved by someone other than its submitter', 'the submitter cannot approve');
SELECT is((th.error_of(format('SELECT th.fire(%s, ''approve'', ''li.na'')', :four))).detail,
  'li.na submitted it and is now trying to approve it.', '... and is told so');
SELECT is((SELECT state FROM leasemgr.contract WHERE id = :four), 'pending_approval', '... the contract stays pending');
SET LOCAL leasemgr.actor = 'li.na';
SELECT throws_ok(format('UPDATE leasemgr.contract SET state = ''approved'' WHERE id = %s', :four), 'LM003', NULL,
  'a direct UPDATE by the submitter is refused too');
RESET leasemgr.actor;
SELECT is(th.fire(:four, 'approve', 'wang.wei'), 'approved', 'another person approves');
SELECT results_eq(format('SELECT submitted_by, approved_by FROM leasemgr.contract WHERE id = %s', :four),
  $$VALUES ('li.na', 'wang.wei')$$, 'both people are stamped on the contract');
-- Without leasemgr.actor the login is the person: the same login cannot do both.
SELECT th.draft(:park, 'G-LOGIN', ARRAY[th.unit(:park, 'G-U2')], '2025-01-01', '2025-12-31') AS login_c \gset
SELECT leasemgr.contract_transition(:login_c, 'submit');
SELECT throws_ok(format('SELECT leasemgr.contract_transition(%s, ''approve'')', :login_c), 'LM003', NULL,
  'without leasemgr.actor, the session user is the person, and cannot approve its own submission');

-- sign: the document hash.
SELECT th.fire(:login_c, 'approve', 'wang.wei');
SELECT throws_ok(format('SELECT leasemgr.contract_transition(%s, ''sign'')', :login_c), 'LM002',
  'contract G-LOGIN cannot be signed without its document', 'signing needs document_sha256');
SELECT throws_ok(format('UPDATE leasemgr.contract SET document_sha256 = ''abc'' WHERE id = %s', :login_c), 'LM011',
  'document_sha256 of contract G-LOGIN is not a SHA-256 digest', 'a malformed hash is refused');
SELECT throws_ok(format('UPDATE leasemgr.contract SET document_sha256 = repeat(''g'', 64) WHERE id = %s', :login_c),
  'LM011', NULL, 'a non-hex hash is refused');
UPDATE leasemgr.contract SET document_sha256 = repeat('AB', 32) WHERE id = :login_c;
SELECT is((SELECT document_sha256 FROM leasemgr.contract WHERE id = :login_c), repeat('ab', 32),
  'the hash is stored in lower case');
SELECT throws_ok(format('UPDATE leasemgr.contract SET state = ''signed'', signed_at = now() + interval ''1 day'' WHERE id = %s', :login_c),
  'LM002', 'contract G-LOGIN cannot be signed in the future', 'signed_at cannot be in the future');
SELECT throws_ok(format('UPDATE leasemgr.contract SET state = ''signed'', signed_at = approved_at - interval ''1 second'' WHERE id = %s', :login_c),
  'LM002', 'contract G-LOGIN cannot be signed before it was approved', 'signed_at cannot precede the approval');
SELECT lives_ok(format('UPDATE leasemgr.contract SET state = ''signed'', signed_at = approved_at WHERE id = %s', :login_c),
  'signing with a time between approval and now (entered late) is allowed');
SELECT is((SELECT signed_at = approved_at FROM leasemgr.contract WHERE id = :login_c), true,
  'signed_at keeps the given time');
SELECT th.draft(:park, 'G-SIGN', ARRAY[th.unit(:park, 'G-U3')], '2025-01-01', '2025-12-31') AS sign_c \gset
SELECT th.walk(:sign_c, 'signed');
SELECT is((SELECT signed_at FROM leasemgr.contract WHERE id = :sign_c), now(), 'signed_at defaults to now()');

-- activate: on or after the start date.
SELECT th.draft(:park, 'G-FUTURE', ARRAY[th.unit(:park, 'G-U4')], leasemgr.business_date() + 5, leasemgr.business_date() + 400) AS fut \gset
SELECT th.walk(:fut, 'signed');
SELECT throws_ok(format('SELECT leasemgr.contract_transition(%s, ''activate'')', :fut), 'LM002',
  'contract G-FUTURE cannot be activated before its start date', 'activation before the start date is refused');
SELECT is((th.error_of(format('UPDATE leasemgr.contract SET state = ''active'' WHERE id = %s', :fut))).detail,
  format('The lease starts on %s; today is %s (Asia/Shanghai).', leasemgr.business_date() + 5, leasemgr.business_date()),
  'the detail gives the start date and today');
SELECT th.draft(:park, 'G-TODAY', ARRAY[th.unit(:park, 'G-U5')], leasemgr.business_date(), leasemgr.business_date() + 400) AS today_c \gset
SELECT is(th.walk(:today_c, 'active'), 'active', 'activation on the start date itself is allowed');

-- expire: only after the (inclusive) end date.
SELECT th.draft(:park, 'G-ENDS', ARRAY[th.unit(:park, 'G-U6')], leasemgr.business_date() - 100, leasemgr.business_date()) AS ends \gset
SELECT th.walk(:ends, 'active');
SELECT throws_ok(format('SELECT leasemgr.contract_transition(%s, ''expire'')', :ends), 'LM002',
  'contract G-ENDS cannot expire before its end date has passed',
  'a lease ending today has not expired: the end date is inclusive');
SELECT isnt((th.error_of(format('SELECT leasemgr.contract_transition(%s, ''expire'')', :ends))).hint, NULL, '... with a hint');
SELECT th.draft(:park, 'G-ENDED', ARRAY[th.unit(:park, 'G-U7')], leasemgr.business_date() - 100, leasemgr.business_date() - 1) AS ended \gset
SELECT th.walk(:ended, 'active');
SELECT is(leasemgr.contract_transition(:ended, 'expire'), 'expired', 'a lease that ended yesterday expires');

-- terminate: a termination date within the lease.
SELECT th.contract_in(:park, 'active', 'G-TERM') AS term \gset
SELECT throws_ok(format('UPDATE leasemgr.contract SET state = ''terminated'' WHERE id = %s', :term), 'LM002',
  'contract G-TERM needs a termination date within its lease', 'terminate without a date is refused');
SELECT throws_ok(format('SELECT leasemgr.contract_transition(%s, ''terminate'', ''early'', ''2023-12-31'')', :term), 'LM002',
  NULL, 'a termination date before the start is refused');
SELECT throws_ok(format('SELECT leasemgr.contract_transition(%s, ''terminate'', ''early'', ''2025-01-01'')', :term), 'LM002',
  NULL, 'a termination date after the end is refused');
SELECT throws_ok(format('SELECT leasemgr.contract_transition(%s, ''expire'', NULL, ''2024-06-30'')', :term), 'LM011',
  'effective_date applies only to the terminate event', 'effective_date with another event is refused');
SELECT is(leasemgr.contract_transition(:term, 'terminate', 'tenant insolvent', '2024-06-30'), 'terminated',
  'termination within the lease');
SELECT results_eq(format('SELECT terminated_on, lease_range FROM leasemgr.contract WHERE id = %s', :term),
  $$VALUES ('2024-06-30'::date, '[2024-01-01,2024-06-30]'::daterange)$$,
  'the held range now ends on the termination date');
SELECT results_eq(format('SELECT lease_range FROM leasemgr.contract_unit WHERE contract_id = %s', :term),
  $$VALUES ('[2024-01-01,2024-06-30]'::daterange)$$, '... on the units too');
SELECT results_eq(format('SELECT event, note, effective_date FROM leasemgr.contract_timeline(%s) ORDER BY at DESC LIMIT 1', :term),
  $$VALUES ('terminate', 'tenant insolvent', '2024-06-30'::date)$$, 'the timeline records the termination date');

-- "Today" is the operator's business day (leasemgr.timezone), whatever the session's TimeZone.
-- UTC-12 and UTC+14 are 26 hours apart, so their dates always differ.
SET LOCAL leasemgr.timezone = 'Etc/GMT-14';
SELECT leasemgr.business_date() AS east_today \gset
SET LOCAL leasemgr.timezone = 'Etc/GMT+12';
SELECT ok(leasemgr.business_date() < :'east_today'::date, 'business_date() follows leasemgr.timezone');
SELECT th.draft(:park, 'G-ZONE', ARRAY[th.unit(:park, 'G-UZ')], :'east_today', :'east_today'::date + 300) AS zone_c \gset
SELECT th.walk(:zone_c, 'signed');
SET LOCAL TimeZone = 'Etc/GMT-14';
SELECT throws_ok(format('SELECT leasemgr.contract_transition(%s, ''activate'')', :zone_c), 'LM002', NULL,
  'a session in another time zone cannot activate a lease before its start day');
SET LOCAL leasemgr.timezone = 'Etc/GMT-14';
SELECT is(leasemgr.contract_transition(:zone_c, 'activate'), 'active', 'in the business time zone it starts today');
RESET TimeZone;
RESET leasemgr.timezone;
SELECT throws_ok('SET leasemgr.timezone = ''Mars/Olympus''', '22023', NULL, 'an unknown time zone is refused');

-- Deleting: drafts only.
SELECT throws_ok(format('DELETE FROM leasemgr.contract WHERE id = %s', :term), 'LM005',
  'contract G-TERM cannot be deleted', 'a terminated contract cannot be deleted');
SELECT lives_ok(format('DELETE FROM leasemgr.contract WHERE id = %s', :empty), 'a draft can be deleted');
SELECT th.draft(:park, 'G-DEL', ARRAY[th.unit(:park, 'G-U8')], '2025-01-01', '2025-12-31') AS del \gset
DELETE FROM leasemgr.contract WHERE id = :del;
SELECT is((SELECT count(*) FROM leasemgr.contract_unit WHERE contract_id = :del), 0::bigint,
  'deleting a draft removes its units');
SELECT is((SELECT count(*) FROM leasemgr.contract_event WHERE contract_id = :del), 1::bigint,
  '... but its timeline stays');

-- The renewal link: same park, existing contract, and a renewed draft stays.
SELECT th.draft(:park, 'G-OLD', ARRAY[th.unit(:park, 'G-U9')], '2025-01-01', '2025-12-31') AS old_c \gset
SELECT th.draft(:park, 'G-NEW', '{}', '2026-01-01', '2026-12-31') AS new_c \gset
SELECT lives_ok(format('UPDATE leasemgr.contract SET renews_contract_id = %s WHERE id = %s', :old_c, :new_c),
  'a draft can name the contract it renews');
SELECT throws_ok(format('DELETE FROM leasemgr.contract WHERE id = %s', :old_c), '23503',
  'contract G-OLD cannot be deleted: contract G-NEW renews it', 'a renewed draft cannot be deleted');
SELECT throws_ok(format('UPDATE leasemgr.contract SET renews_contract_id = -3 WHERE id = %s', :new_c), 'LM009',
  NULL, 'renewing an unknown contract is refused');
SELECT th.park('GD2') AS park2 \gset
SELECT throws_ok(format('UPDATE leasemgr.contract SET renews_contract_id = %s WHERE id = %s',
                        th.draft(:park2, 'G-FAR', '{}', '2025-01-01', '2025-12-31'), :new_c), 'LM007',
  'contract G-NEW cannot renew a contract of another park', 'renewing a contract of another park is refused');
SELECT throws_ok(format('UPDATE leasemgr.contract SET renews_contract_id = id WHERE id = %s', :new_c), '23514',
  NULL, 'a contract cannot renew itself');

SELECT * FROM finish();
ROLLBACK;
