-- What was submitted is what gets approved: terms and units change only in draft, stamps
-- never by hand, the signed document never, and closed or cancelled contracts not at all.
BEGIN;
SELECT plan(61);

SELECT th.park('TL') AS park \gset
SELECT th.park('TL2') AS park2 \gset
SELECT th.tenant(:park, 7001) AS other_tenant \gset

-- Every term, in every state from submission on.
CREATE FUNCTION pg_temp.terms_locked(park bigint, other_tenant bigint, other_contract bigint)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  st text;
  c bigint;
  sets text[] := ARRAY['start_date = start_date - 1', 'end_date = end_date + 1', 'code = code || ''-X''',
                       format('tenant_id = %s', other_tenant),
                       format('renews_contract_id = %s', other_contract)];
  s text;
BEGIN
  FOREACH st IN ARRAY '{pending_approval,approved,signed,active,expired,terminated,moving_out}'::text[] LOOP
    c := th.contract_in(park, st);
    FOREACH s IN ARRAY sets LOOP
      RETURN NEXT throws_ok(format('UPDATE leasemgr.contract SET %s WHERE id = %s', s, c), 'LM004', NULL,
                            format('%s: %s is refused', st, split_part(s, ' ', 1)));
    END LOOP;
  END LOOP;
END
$$;
SELECT th.draft(:park, 'TL-PREVIOUS', '{}', '2023-01-01', '2023-12-31') AS previous \gset
SELECT * FROM pg_temp.terms_locked(:park, :other_tenant, :previous);

SELECT th.contract_in(:park, 'active', 'TL-ACTIVE') AS active \gset
SELECT results_eq(
  format($$SELECT code, message, detail FROM th.error_of('UPDATE leasemgr.contract SET end_date = ''2025-06-30'' WHERE id = %s')$$, :active),
  $$VALUES ('LM004', 'the terms of contract TL-ACTIVE are locked',
            'Contract TL-ACTIVE is active; end_date can change only while the contract is a draft (was 2024-12-31, would be 2025-06-30).')$$,
  'the refusal names the term, the state, the old and the new value');
SELECT is((th.error_of(format('UPDATE leasemgr.contract SET end_date = ''2025-06-30'' WHERE id = %s', :active))).hint,
  'Change a live contract through an amendment (leasemgr.amendment_open); a contract under review can be rejected back to draft first.',
  'the hint points to an amendment');

-- Units are terms too.
SELECT th.unit(:park, 'TL-FREE') AS free_unit \gset
SELECT throws_ok(format('INSERT INTO leasemgr.contract_unit (contract_id, unit_id) VALUES (%s, %s)', :active, :free_unit),
  'LM004', 'the units of contract TL-ACTIVE are locked', 'no unit can be added to an active contract');
SELECT throws_ok(format('DELETE FROM leasemgr.contract_unit WHERE contract_id = %s', :active),
  'LM004', NULL, 'no unit can be removed from an active contract');
SELECT throws_ok(format('UPDATE leasemgr.contract_unit SET billable_area_m2 = 50 WHERE contract_id = %s', :active),
  'LM004', NULL, 'the billable area of an active contract cannot change');
SELECT throws_ok(format('UPDATE leasemgr.contract_unit SET unit_id = %s WHERE contract_id = %s', :free_unit, :active),
  'LM004', NULL, 'a unit of an active contract cannot be swapped');
SELECT th.contract_in(:park, 'pending_approval', 'TL-PENDING') AS pending \gset
SELECT throws_ok(format('INSERT INTO leasemgr.contract_unit (contract_id, unit_id) VALUES (%s, %s)', :pending, :free_unit),
  'LM004', NULL, 'units are locked while the contract is under review');

-- Stamps are the state machine's.
SELECT throws_ok(format('UPDATE leasemgr.contract SET approved_by = ''me'' WHERE id = %s', :active), 'LM004',
  'column approved_by of contract TL-ACTIVE is set by the state machine', 'approved_by cannot be written');
SELECT throws_ok(format('UPDATE leasemgr.contract SET submitted_by = ''me'' WHERE id = %s', :active), 'LM004', NULL,
  'submitted_by cannot be written');
SELECT throws_ok(format('UPDATE leasemgr.contract SET created_at = now() - interval ''1 day'' WHERE id = %s', :active), 'LM004', NULL,
  'created_at cannot be written');
SELECT throws_ok(format('UPDATE leasemgr.contract SET state_since = now() - interval ''1 day'' WHERE id = %s', :active), 'LM004', NULL,
  'state_since cannot be written');
SELECT throws_ok(format('UPDATE leasemgr.contract SET signed_at = now() - interval ''1 day'' WHERE id = %s', :active), 'LM004', NULL,
  'signed_at changes only with the sign transition');
SELECT throws_ok(format('UPDATE leasemgr.contract SET id = -1 WHERE id = %s', :active), '428C9', NULL,
  'an explicit id is refused by the identity column');
SELECT th.draft(:park, 'TL-ID', '{}', '2025-01-01', '2025-12-31') AS id_draft \gset
SELECT throws_ok(format('UPDATE leasemgr.contract SET id = DEFAULT WHERE id = %s', :id_draft), 'LM004',
  'the id of contract TL-ID never changes', 'SET id = DEFAULT cannot give even a draft a new id');
SELECT throws_ok(format('UPDATE leasemgr.contract SET terminated_on = ''2024-05-01'' WHERE id = %s', :active), 'LM004', NULL,
  'terminated_on changes only with the terminate transition');

-- The signed document is fixed; before signing it may be attached or replaced.
SELECT throws_ok(format('UPDATE leasemgr.contract SET document_sha256 = repeat(''cd'', 32) WHERE id = %s', :active), 'LM004',
  'the signed document of contract TL-ACTIVE cannot be replaced', 'the document of a signed contract is fixed');
SELECT lives_ok(format('UPDATE leasemgr.contract SET document_sha256 = repeat(''cd'', 32) WHERE id = %s', :pending),
  'a document can be attached while the contract is under review');

-- A contract cannot change park.
SELECT throws_ok(format('UPDATE leasemgr.contract SET park_id = %s WHERE id = %s', :park2, :pending), 'LM007',
  'contract TL-PENDING cannot move to another park', 'park_id never changes');

-- In draft everything is editable; reject brings a submitted contract back to draft.
SELECT th.draft(:park, 'TL-DRAFT', ARRAY[th.unit(:park, 'TL-D1')], '2025-01-01', '2025-12-31') AS draft \gset
SELECT lives_ok(format('UPDATE leasemgr.contract SET end_date = ''2026-12-31'', code = ''TL-DRAFT2'', tenant_id = %s WHERE id = %s', :other_tenant, :draft),
  'a draft''s terms can change');
SELECT lives_ok(format('UPDATE leasemgr.contract_unit SET billable_area_m2 = 88.5 WHERE contract_id = %s', :draft),
  'a draft''s billable areas can change');
SELECT th.fire(:pending, 'reject', 'th.approver');
SELECT lives_ok(format('UPDATE leasemgr.contract SET end_date = ''2025-06-30'' WHERE id = %s', :pending),
  'after reject the terms can change again');
SELECT is(th.fire(:pending, 'submit', 'th.submitter'), 'pending_approval', '... and the contract is resubmitted');

-- Closed and cancelled contracts are read-only, units included.
SELECT th.contract_in(:park, 'closed', 'TL-CLOSED') AS closed \gset
SELECT th.contract_in(:park, 'cancelled', 'TL-CANCELLED') AS cancelled \gset
SELECT throws_ok(format('UPDATE leasemgr.contract SET document_sha256 = document_sha256 WHERE id = %s', :closed), 'LM005',
  'contract TL-CLOSED is closed and can no longer change', 'a closed contract cannot be updated, even to the same value');
SELECT throws_ok(format('UPDATE leasemgr.contract SET end_date = end_date + 1 WHERE id = %s', :cancelled), 'LM005', NULL,
  'a cancelled contract cannot be updated');
SELECT throws_ok(format('DELETE FROM leasemgr.contract_unit WHERE contract_id = %s', :closed), 'LM005', NULL,
  'the units of a closed contract cannot be removed');
SELECT throws_ok(format('DELETE FROM leasemgr.contract WHERE id = %s', :cancelled), 'LM005', NULL,
  'a cancelled contract cannot be deleted');

SELECT * FROM finish();
ROLLBACK;
