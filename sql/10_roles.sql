-- Roles. Created when missing (roles are cluster-wide: a second database reuses them, and
-- DROP EXTENSION leaves them for the DBA). Privileges are granted in 60_security.sql.
DO $roles$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['leasemgr_reader', 'leasemgr_operator', 'leasemgr_finance', 'leasemgr_admin']
  LOOP
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) r) THEN
      EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
    END IF;
  END LOOP;
END
$roles$;

-- Operators and finance read what readers read; admins do what operators and finance do.
DO $members$
BEGIN
  IF NOT pg_catalog.pg_has_role('leasemgr_operator', 'leasemgr_reader', 'MEMBER') THEN
    GRANT leasemgr_reader TO leasemgr_operator;
  END IF;
  IF NOT pg_catalog.pg_has_role('leasemgr_finance', 'leasemgr_reader', 'MEMBER') THEN
    GRANT leasemgr_reader TO leasemgr_finance;
  END IF;
  IF NOT pg_catalog.pg_has_role('leasemgr_admin', 'leasemgr_operator', 'MEMBER') THEN
    GRANT leasemgr_operator TO leasemgr_admin;
  END IF;
  IF NOT pg_catalog.pg_has_role('leasemgr_admin', 'leasemgr_finance', 'MEMBER') THEN
    GRANT leasemgr_finance TO leasemgr_admin;
  END IF;
END
$members$;
