-- Park scope: which role sees which park, row-level security on every park-scoped table,
-- and the privileges of the four leasemgr roles.

CREATE TABLE leasemgr.park_grant (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  role       name NOT NULL,
  role_oid   oid,
  park_id    bigint NOT NULL REFERENCES leasemgr.park (id) ON DELETE CASCADE,
  granted_by text NOT NULL,
  granted_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
  CONSTRAINT park_grant_key UNIQUE (role, park_id)
);
COMMENT ON TABLE leasemgr.park_grant IS
  'Which role may see which park. Members of the role (with inheritance) see and change that park''s rows only. Written through leasemgr.grant_park / revoke_park.';
COMMENT ON COLUMN leasemgr.park_grant.id IS 'Grant identifier.';
COMMENT ON COLUMN leasemgr.park_grant.role IS
  'Name of the role (a login or a group role) granted the park. Dumps and restores carry the name.';
COMMENT ON COLUMN leasemgr.park_grant.role_oid IS
  'The role the name meant when the grant was written (or restored). The grant counts only while this role exists under this name: a dropped role''s grant does not pass to a new role of the same name, and a renamed role''s grant goes idle. Set by a trigger.';
COMMENT ON COLUMN leasemgr.park_grant.park_id IS 'The park.';
COMMENT ON COLUMN leasemgr.park_grant.granted_by IS 'The person who granted it.';
COMMENT ON COLUMN leasemgr.park_grant.granted_at IS 'When.';

-- The role behind the name, resolved whenever a grant is written, pg_restore included (the
-- source cluster's OIDs mean nothing in the target cluster).
CREATE FUNCTION leasemgr.park_grant_resolve_role() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
BEGIN
  NEW.role_oid := (SELECT a.oid FROM pg_catalog.pg_roles a WHERE a.rolname OPERATOR(pg_catalog.=) NEW.role);
  RETURN NEW;
END
$fn$;
COMMENT ON FUNCTION leasemgr.park_grant_resolve_role() IS
  'Trigger: records which role a park grant''s role name means, when the grant is written or restored.';
CREATE TRIGGER park_grant_resolve_role BEFORE INSERT OR UPDATE ON leasemgr.park_grant
  FOR EACH ROW EXECUTE FUNCTION leasemgr.park_grant_resolve_role();

CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON leasemgr.park_grant
  FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row();
CREATE TRIGGER truncate_guard BEFORE TRUNCATE ON leasemgr.park_grant
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.truncate_guard();

CREATE FUNCTION leasemgr.visible_parks() RETURNS bigint[]
  AS 'MODULE_PATHNAME', 'visible_parks'
  LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION leasemgr.visible_parks() IS
  'The parks granted to the current role or to any role whose privileges it has, sorted. Row-level security uses it.';

CREATE FUNCTION leasemgr.sees_all_parks() RETURNS boolean
  AS 'MODULE_PATHNAME', 'sees_all_parks'
  LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION leasemgr.sees_all_parks() IS
  'True for members of leasemgr_admin and superusers, who see every park.';

CREATE FUNCTION leasemgr.grant_park(role_name name, park_id bigint) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
DECLARE
  r regrole := pg_catalog.to_regrole(pg_catalog.quote_ident(role_name));
BEGIN
  IF r IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LM009',
      MESSAGE = pg_catalog.format('role %s does not exist', role_name),
      HINT = 'Create the role first, e.g. CREATE ROLE bi_park LOGIN IN ROLE leasemgr_reader.';
  END IF;
  IF NOT EXISTS (SELECT FROM leasemgr.park p WHERE p.id OPERATOR(pg_catalog.=) grant_park.park_id) THEN
    RAISE EXCEPTION USING ERRCODE = 'LM009',
      MESSAGE = pg_catalog.format('park %s does not exist', grant_park.park_id),
      HINT = 'Look the park up in leasemgr.park.';
  END IF;
  INSERT INTO leasemgr.park_grant (role, park_id, granted_by)
  SELECT a.rolname, grant_park.park_id, leasemgr.current_actor()
    FROM pg_catalog.pg_roles a WHERE a.oid OPERATOR(pg_catalog.=) r
  ON CONFLICT ON CONSTRAINT park_grant_key DO NOTHING;
END
$fn$;
COMMENT ON FUNCTION leasemgr.grant_park(name, bigint) IS
  'Lets the role (and its members) see and change the rows of one park. Idempotent; audited. For leasemgr_admin.';

CREATE FUNCTION leasemgr.revoke_park(role_name name, park_id bigint) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, leasemgr, pg_temp
AS $fn$
BEGIN
  -- By name, so the grants of a role that no longer exists can be cleaned up too.
  DELETE FROM leasemgr.park_grant g
   WHERE g.role OPERATOR(pg_catalog.=) revoke_park.role_name
     AND g.park_id OPERATOR(pg_catalog.=) revoke_park.park_id;
  IF NOT FOUND AND pg_catalog.to_regrole(pg_catalog.quote_ident(role_name)) IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LM009',
      MESSAGE = pg_catalog.format('role %s does not exist', role_name),
      HINT = 'List the grants with SELECT role, park_id FROM leasemgr.park_grant.';
  END IF;
END
$fn$;
COMMENT ON FUNCTION leasemgr.revoke_park(name, bigint) IS
  'Takes a park away from a role. Idempotent; audited. For leasemgr_admin.';

-- Row-level security. The two functions run once per query (initplans), not per row.
ALTER TABLE leasemgr.park ENABLE ROW LEVEL SECURITY;
CREATE POLICY park_scope ON leasemgr.park
  USING ((SELECT leasemgr.sees_all_parks())
         OR id OPERATOR(pg_catalog.=) ANY ((SELECT leasemgr.visible_parks())::bigint[]));

DO $rls$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['building', 'unit', 'tenant', 'contract', 'contract_unit', 'contract_event', 'audit_log']
  LOOP
    EXECUTE pg_catalog.format('ALTER TABLE leasemgr.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE pg_catalog.format(
      'CREATE POLICY park_scope ON leasemgr.%I USING ((SELECT leasemgr.sees_all_parks()) '
      'OR park_id OPERATOR(pg_catalog.=) ANY ((SELECT leasemgr.visible_parks())::bigint[]))', t);
    EXECUTE pg_catalog.format('COMMENT ON POLICY park_scope ON leasemgr.%I IS %L', t,
      'Rows of the parks granted to the role (leasemgr.grant_park); every park for leasemgr_admin.');
  END LOOP;
END
$rls$;
COMMENT ON POLICY park_scope ON leasemgr.park IS
  'Parks granted to the role (leasemgr.grant_park); every park for leasemgr_admin.';

-- Privileges. Nothing for PUBLIC; readers read; operators run the lease lifecycle; admins
-- also manage regions, parks and park grants. The logs are written only by triggers.
REVOKE ALL ON ALL TABLES IN SCHEMA leasemgr FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA leasemgr FROM PUBLIC;
GRANT USAGE ON SCHEMA leasemgr TO leasemgr_reader;

GRANT SELECT ON leasemgr.region, leasemgr.park, leasemgr.building, leasemgr.unit, leasemgr.tenant,
  leasemgr.contract, leasemgr.contract_unit, leasemgr.contract_event TO leasemgr_reader;
GRANT SELECT ON leasemgr.audit_log TO leasemgr_finance;
GRANT SELECT ON leasemgr.park_grant TO leasemgr_admin;

GRANT INSERT, UPDATE, DELETE ON leasemgr.building, leasemgr.unit, leasemgr.tenant,
  leasemgr.contract, leasemgr.contract_unit TO leasemgr_operator;
GRANT INSERT, UPDATE, DELETE ON leasemgr.region, leasemgr.park TO leasemgr_admin;

GRANT EXECUTE ON FUNCTION leasemgr.valid_uscc(text), leasemgr.valid_cn_id(text),
  leasemgr.contract_state_is_live(text), leasemgr.contract_state_machine(),
  leasemgr.contract_timeline(bigint), leasemgr.visible_parks(), leasemgr.sees_all_parks(),
  leasemgr.current_actor(), leasemgr.business_date() TO leasemgr_reader;
GRANT EXECUTE ON FUNCTION leasemgr.contract_transition(bigint, text, text, date) TO leasemgr_operator;
GRANT EXECUTE ON FUNCTION leasemgr.grant_park(name, bigint), leasemgr.revoke_park(name, bigint)
  TO leasemgr_admin;
