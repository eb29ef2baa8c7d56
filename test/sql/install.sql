-- Installing leasemgr: what it creates, and the rules its catalog must keep.
SET client_min_messages = warning;
CREATE EXTENSION leasemgr CASCADE;
RESET client_min_messages;

SELECT e.extname, e.extversion, e.extrelocatable, n.nspname AS schema
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = 'leasemgr';

-- What it requires: PostGIS, btree_gist and pgcrypto, and not pg_cron (which refuses to install
-- outside cron.database_name, so requiring it would break most databases).
SELECT r.extname AS requires
  FROM pg_depend d
  JOIN pg_extension e ON e.oid = d.objid AND e.extname = 'leasemgr'
  JOIN pg_extension r ON r.oid = d.refobjid
 WHERE d.classid = 'pg_extension'::regclass AND d.refclassid = 'pg_extension'::regclass
 ORDER BY 1;

-- Tables, views and sequences.
SELECT c.relname, c.relkind, c.relrowsecurity AS rls
  FROM pg_class c
 WHERE c.relnamespace = 'leasemgr'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'S')
 ORDER BY c.relkind, c.relname;

-- Functions: the API, with their volatility, strictness and security.
SELECT p.oid::regprocedure AS function, p.provolatile AS volatility, p.proisstrict AS strict,
       p.proparallel AS parallel, p.prosecdef AS security_definer
  FROM pg_proc p
 WHERE p.pronamespace = 'leasemgr'::regnamespace
 ORDER BY p.proname, 1;

-- Every table and sequence of the extension is registered for pg_dump: without that, a
-- dump would silently leave out every lease. (Expect no rows.)
SELECT c.relname AS not_dumped
  FROM pg_depend d
  JOIN pg_class c ON c.oid = d.objid AND d.classid = 'pg_class'::regclass
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'leasemgr'
 WHERE d.deptype = 'e' AND c.relkind IN ('r', 'S')
   AND c.oid <> ALL (e.extconfig);

-- Every table, view, column and function has a comment: \d+ and BI tools show them. The
-- columns of a partition are those of its partitioned table, documented there.
-- (Expect no rows.)
SELECT c.relname AS uncommented_relation
  FROM pg_class c
 WHERE c.relnamespace = 'leasemgr'::regnamespace AND c.relkind IN ('r', 'v', 'p')
   AND obj_description(c.oid, 'pg_class') IS NULL;
SELECT c.relname, a.attname AS uncommented_column
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relnamespace = 'leasemgr'::regnamespace AND c.relkind IN ('r', 'v', 'p') AND NOT c.relispartition
   AND col_description(c.oid, a.attnum) IS NULL
 ORDER BY 1, 2;
SELECT p.oid::regprocedure AS uncommented_function
  FROM pg_proc p
 WHERE p.pronamespace = 'leasemgr'::regnamespace AND obj_description(p.oid, 'pg_proc') IS NULL;

-- SECURITY DEFINER functions pin their search_path. (Expect no rows.)
SELECT p.oid::regprocedure AS definer_without_search_path
  FROM pg_proc p
 WHERE p.pronamespace = 'leasemgr'::regnamespace AND p.prosecdef
   AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, leasemgr, pg_temp'], false);

-- PUBLIC gets nothing: no table, view or function. (Expect no rows.)
SELECT c.relname AS public_relation
  FROM pg_class c
 WHERE c.relnamespace = 'leasemgr'::regnamespace AND c.relkind IN ('r', 'v')
   AND (has_table_privilege('public', c.oid, 'SELECT') OR has_table_privilege('public', c.oid, 'INSERT'));
SELECT p.oid::regprocedure AS public_function
  FROM pg_proc p
 WHERE p.pronamespace = 'leasemgr'::regnamespace
   AND EXISTS (SELECT FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE');

-- The roles, and what each may do with the tables.
SELECT r.rolname, r.rolcanlogin,
       ARRAY(SELECT m.rolname FROM pg_auth_members am JOIN pg_roles m ON m.oid = am.roleid
              WHERE am.member = r.oid ORDER BY 1) AS member_of
  FROM pg_roles r WHERE r.rolname LIKE 'leasemgr\_%' ORDER BY 1;
SELECT grantee, table_name, string_agg(privilege_type, ', ' ORDER BY privilege_type) AS privileges
  FROM information_schema.role_table_grants
 WHERE table_schema = 'leasemgr' AND grantee LIKE 'leasemgr\_%'
 GROUP BY grantee, table_name
 ORDER BY grantee, table_name;

-- The install script scheduled nothing and needs no pg_cron.
SELECT count(*) AS cron_installed FROM pg_extension WHERE extname = 'pg_cron';
