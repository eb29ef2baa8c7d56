-- The audit trail: every row change of every business table, append-only.

CREATE TABLE leasemgr.audit_log (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at               timestamptz NOT NULL,
  xact_id          bigint NOT NULL,
  park_id          bigint,
  table_name       text NOT NULL,
  row_id           bigint,
  action           text NOT NULL CHECK (action IN ('INSERT', 'UPDATE', 'DELETE')),
  old_values       jsonb,
  new_values       jsonb,
  actor            text NOT NULL,
  db_user          text NOT NULL,
  db_role          text NOT NULL,
  client_addr      inet,
  application_name text
);
-- Row history (WHERE table_name = ... AND row_id = ...): the integer first, cheaper to insert.
CREATE INDEX audit_log_row_idx ON leasemgr.audit_log (row_id, table_name);
CREATE INDEX audit_log_at_brin ON leasemgr.audit_log USING brin (at);
COMMENT ON TABLE leasemgr.audit_log IS
  'Every INSERT, UPDATE and DELETE of a business table: who (person, login, role), when, from where, and the changed columns. Append-only for every role, the owner included; written only by the audit trigger.';
COMMENT ON COLUMN leasemgr.audit_log.id IS 'Order of writing.';
COMMENT ON COLUMN leasemgr.audit_log.at IS 'Clock time of the change, to the microsecond.';
COMMENT ON COLUMN leasemgr.audit_log.xact_id IS 'Top-level transaction id: rows with the same value were changed together.';
COMMENT ON COLUMN leasemgr.audit_log.park_id IS 'Park of the changed row; NULL for regions.';
COMMENT ON COLUMN leasemgr.audit_log.table_name IS 'Table of the changed row, in schema leasemgr.';
COMMENT ON COLUMN leasemgr.audit_log.row_id IS 'id of the changed row.';
COMMENT ON COLUMN leasemgr.audit_log.action IS 'INSERT, UPDATE or DELETE.';
COMMENT ON COLUMN leasemgr.audit_log.old_values IS 'Values before: the changed columns for UPDATE, every column for DELETE, NULL for INSERT.';
COMMENT ON COLUMN leasemgr.audit_log.new_values IS 'Values after: the changed columns for UPDATE, every column for INSERT, NULL for DELETE.';
COMMENT ON COLUMN leasemgr.audit_log.actor IS 'The person: leasemgr.actor as set by the application, else the login.';
COMMENT ON COLUMN leasemgr.audit_log.db_user IS 'The database login (session_user).';
COMMENT ON COLUMN leasemgr.audit_log.db_role IS 'The role in effect (current_user), which differs from the login after SET ROLE.';
COMMENT ON COLUMN leasemgr.audit_log.client_addr IS 'Client IP address; NULL for local unix-socket connections.';
COMMENT ON COLUMN leasemgr.audit_log.application_name IS 'application_name of the session: the device or program.';

CREATE FUNCTION leasemgr.audit_row() RETURNS trigger
  AS 'MODULE_PATHNAME', 'audit_row'
  LANGUAGE C;
COMMENT ON FUNCTION leasemgr.audit_row() IS
  'Trigger: appends the row change to leasemgr.audit_log. Argument: the column holding the park (default park_id).';

CREATE FUNCTION leasemgr.append_only_guard() RETURNS trigger
  AS 'MODULE_PATHNAME', 'append_only_guard'
  LANGUAGE C;
COMMENT ON FUNCTION leasemgr.append_only_guard() IS
  'Trigger: refuses INSERT (other than pg_restore''s COPY by the owner), UPDATE, DELETE and TRUNCATE of a log table (SQLSTATE LM010), whoever asks.';

CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON leasemgr.region
  FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row('-');
CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON leasemgr.park
  FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row('id');
CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON leasemgr.building
  FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row();
CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON leasemgr.unit
  FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row();
CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON leasemgr.tenant
  FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row();
CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON leasemgr.contract
  FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row();
CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON leasemgr.contract_unit
  FOR EACH ROW EXECUTE FUNCTION leasemgr.audit_row();

CREATE FUNCTION leasemgr.truncate_guard() RETURNS trigger
  AS 'MODULE_PATHNAME', 'truncate_guard'
  LANGUAGE C;
COMMENT ON FUNCTION leasemgr.truncate_guard() IS
  'Trigger: refuses TRUNCATE of an audited table (SQLSTATE LM010), which would remove rows without the rules or the audit trail seeing them.';

DO $guards$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['region', 'park', 'building', 'unit', 'tenant', 'contract', 'contract_unit']
  LOOP
    EXECUTE pg_catalog.format('CREATE TRIGGER truncate_guard BEFORE TRUNCATE ON leasemgr.%I '
                              'FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.truncate_guard()', t);
  END LOOP;
END
$guards$;

CREATE TRIGGER append_only BEFORE INSERT OR UPDATE OR DELETE ON leasemgr.audit_log
  FOR EACH ROW EXECUTE FUNCTION leasemgr.append_only_guard();
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON leasemgr.audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.append_only_guard();
CREATE TRIGGER append_only BEFORE INSERT OR UPDATE OR DELETE ON leasemgr.contract_event
  FOR EACH ROW EXECUTE FUNCTION leasemgr.append_only_guard();
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON leasemgr.contract_event
  FOR EACH STATEMENT EXECUTE FUNCTION leasemgr.append_only_guard();
