-- The contract state machine as the trigger enforces it (docs/states.md draws it).
SELECT from_state, event, to_state, guard FROM leasemgr.contract_state_machine();

-- The states that hold their units (the exclusion constraint applies to these).
SELECT s AS state, leasemgr.contract_state_is_live(s) AS holds_units
  FROM unnest(ARRAY['draft', 'pending_approval', 'approved', 'signed', 'active', 'amending', 'expired',
                    'terminated', 'moving_out', 'closed', 'cancelled']) AS s;
SELECT leasemgr.contract_state_is_live('archived');
