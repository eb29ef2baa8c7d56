-- The schema of extension leasemgr as text lines sorted by object, for upgrade_path.sh to
-- compare a fresh install with an upgraded one: psql -X -At -f schema_fingerprint.sql -d DB.
--
-- pg_dump cannot do this: it prints CREATE EXTENSION and leaves out every member object.
-- Each line is "<object> | <fact>", the object named by pg_identify_object (type and
-- qualified name, never an OID), so two databases give the same lines for the same schema.
-- Definitions that span lines (functions, views) give one line each, in order.
--
-- What is described:
--   the extension: schema, relocatable, owner, tables registered for pg_dump with their
--     conditions (not its version, and not its comment: CREATE EXTENSION copies that from
--     the control file of the version installed and ALTER EXTENSION UPDATE keeps the old one)
--   its members (pg_depend deptype 'e') by identity; the objects below in detail, whether
--     members or merely in the extension's schema (a non-member there has no member line)
--   the schema, and default privileges in it
--   tables, views, materialized views, sequences, composite types, foreign tables: kind,
--     persistence, row-level security, replica identity, access method, tablespace, options,
--     typed-table type, partitioning, inheritance, view definition
--   columns: position among the live columns (a dropped column leaves no trace, a column
--     appended by an upgrade where a fresh install has it in the middle does), type, not
--     null, default or generation expression, identity, collation, storage, compression,
--     statistics target, options (but pg_attver: this server stamps it on every column it
--     creates, with a value that differs from one database to the next, like an OID)
--   constraints of tables and domains, indexes, triggers (not internal ones: foreign-key
--     triggers are named by OID and follow from their constraint), policies, rules,
--     extended statistics, sequence parameters and owning column
--   functions, procedures, aggregates: pg_get_functiondef (arguments, result, language,
--     volatility, strictness, parallel safety, security definer, leakproof, cost, rows,
--     settings, body); aggregates their support functions and state
--   types: domains, enums (labels in order), ranges, base types
--   for every object: owner, comment, privileges (a NULL ACL as the defaults it stands for,
--     items sorted, so the order of GRANTs does not matter) and initial privileges
--     (pg_init_privs, what pg_dump treats as the extension's own)
-- Other member kinds (operators, casts, event triggers...) appear by identity only: add a
-- section here when the extension gains one.
\set ON_ERROR_STOP on
\set QUIET on
-- Everything outside pg_catalog is printed schema-qualified, whatever the caller's path.
SET search_path = pg_catalog, pg_temp;

WITH ext AS (
  SELECT e.tableoid AS classid, e.*
    FROM pg_catalog.pg_extension e
   WHERE e.extname = 'leasemgr'
),
member AS (
  SELECT d.classid, d.objid, d.objsubid
    FROM pg_catalog.pg_depend d JOIN ext ON d.refobjid = ext.oid
   WHERE d.refclassid = ext.classid AND d.deptype = 'e'
),
-- What is described: the members, and whatever is in the extension's schema.
scope(classid, objid) AS (
  SELECT m.classid, m.objid FROM member m
  UNION
  SELECT c.tableoid, c.oid FROM pg_catalog.pg_class c JOIN ext ON c.relnamespace = ext.extnamespace
  UNION
  SELECT p.tableoid, p.oid FROM pg_catalog.pg_proc p JOIN ext ON p.pronamespace = ext.extnamespace
  UNION
  SELECT t.tableoid, t.oid FROM pg_catalog.pg_type t JOIN ext ON t.typnamespace = ext.extnamespace
),
-- Relations: those in scope and their indexes.
rel0 AS (
  SELECT c.tableoid AS classid, c.*
    FROM pg_catalog.pg_class c WHERE (c.tableoid, c.oid) IN (SELECT * FROM scope)
),
rel AS (
  SELECT * FROM rel0
  UNION
  SELECT c.tableoid, c.*
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid
   WHERE i.indrelid IN (SELECT oid FROM rel0)
),
col AS (
  SELECT c.classid, a.*,
         pg_catalog.row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum) AS position
    FROM rel c JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'c', 'f') AND a.attnum > 0 AND NOT a.attisdropped
),
proc AS (
  SELECT p.tableoid AS classid, p.*
    FROM pg_catalog.pg_proc p WHERE (p.tableoid, p.oid) IN (SELECT * FROM scope)
),
-- Types, without those that come with another object: a relation's row type (the
-- relation stands for it) and array types.
typ AS (
  SELECT t.tableoid AS classid, t.*
    FROM pg_catalog.pg_type t
   WHERE (t.tableoid, t.oid) IN (SELECT * FROM scope)
     AND NOT EXISTS (SELECT FROM pg_catalog.pg_type e WHERE e.typarray = t.oid)
     AND NOT EXISTS (SELECT FROM pg_catalog.pg_class c
                      WHERE c.oid = t.typrelid AND c.relkind <> 'c')
),
con AS (
  SELECT k.tableoid AS classid, k.*
    FROM pg_catalog.pg_constraint k
   WHERE k.conrelid IN (SELECT oid FROM rel) OR k.contypid IN (SELECT oid FROM typ)
),
trg AS (
  SELECT g.tableoid AS classid, g.*
    FROM pg_catalog.pg_trigger g
   WHERE g.tgrelid IN (SELECT oid FROM rel) AND NOT g.tgisinternal
),
pol AS (
  SELECT p.tableoid AS classid, p.*
    FROM pg_catalog.pg_policy p
   WHERE p.polrelid IN (SELECT oid FROM rel)
),
rul AS (
  SELECT r.tableoid AS classid, r.*
    FROM pg_catalog.pg_rewrite r
   WHERE r.ev_class IN (SELECT oid FROM rel) AND r.rulename <> '_RETURN'
),
stx AS (
  SELECT s.tableoid AS classid, s.*
    FROM pg_catalog.pg_statistic_ext s
   WHERE s.stxrelid IN (SELECT oid FROM rel)
),
-- Every object described, with what the generic facts need: its owner and its ACL with
-- the kind acldefault() takes for a NULL one.
described AS (
  SELECT ext.classid, ext.oid AS objid, 0 AS objsubid, ext.extowner AS owner,
         NULL::pg_catalog.aclitem[] AS acl, NULL::"char" AS aclkind
    FROM ext
  UNION ALL
  SELECT n.tableoid, n.oid, 0, n.nspowner, n.nspacl, 'n'
    FROM pg_catalog.pg_namespace n JOIN ext ON n.oid = ext.extnamespace
  UNION ALL
  SELECT d.tableoid, d.oid, 0, NULL, d.defaclacl, NULL
    FROM pg_catalog.pg_default_acl d JOIN ext ON d.defaclnamespace = ext.extnamespace
  UNION ALL
  SELECT c.classid, c.oid, 0,
         CASE WHEN c.relkind NOT IN ('i', 'I') THEN c.relowner END,
         c.relacl,
         CASE WHEN c.relkind = 'S' THEN 's' WHEN c.relkind NOT IN ('i', 'I', 'c') THEN 'r' END::"char"
    FROM rel c
  UNION ALL
  SELECT a.classid, a.attrelid, a.attnum, NULL, a.attacl, 'c' FROM col a
  UNION ALL
  SELECT p.classid, p.oid, 0, p.proowner, p.proacl, 'f' FROM proc p
  UNION ALL
  SELECT t.classid, t.oid, 0, t.typowner, t.typacl, 'T' FROM typ t
  UNION ALL
  SELECT k.classid, k.oid, 0, NULL, NULL, NULL FROM con k
  UNION ALL
  SELECT g.classid, g.oid, 0, NULL, NULL, NULL FROM trg g
  UNION ALL
  SELECT p.classid, p.oid, 0, NULL, NULL, NULL FROM pol p
  UNION ALL
  SELECT r.classid, r.oid, 0, NULL, NULL, NULL FROM rul r
  UNION ALL
  SELECT s.classid, s.oid, 0, s.stxowner, NULL, NULL FROM stx s
),
-- Members of kinds not described above still get a name, for their member line.
object AS (
  SELECT * FROM described
  UNION ALL
  SELECT m.classid, m.objid, m.objsubid, NULL, NULL, NULL
    FROM member m
   WHERE (m.classid, m.objid, m.objsubid) NOT IN
         (SELECT d.classid, d.objid, d.objsubid FROM described d)
),
named AS (
  SELECT o.*, i.type || ' ' || i.identity AS name
    FROM object o, pg_catalog.pg_identify_object(o.classid, o.objid, o.objsubid) i
),
fact(classid, objid, objsubid, line) AS (
  -- Facts every object has.
  SELECT o.classid, o.objid, o.objsubid, 'member of extension leasemgr'
    FROM object o
   WHERE (o.classid, o.objid, o.objsubid) IN (SELECT * FROM member)
  UNION ALL
  SELECT o.classid, o.objid, o.objsubid, 'owner ' || pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(o.owner))
    FROM object o
   WHERE o.owner IS NOT NULL
  UNION ALL
  SELECT o.classid, o.objid, o.objsubid, 'comment ' || pg_catalog.quote_literal(d.description)
    FROM object o
    JOIN pg_catalog.pg_description d
      ON (d.classoid, d.objoid, d.objsubid) = (o.classid, o.objid, o.objsubid)
   WHERE o.classid <> (SELECT ext.classid FROM ext)
  UNION ALL
  SELECT o.classid, o.objid, o.objsubid, 'privileges ' || a.items
    FROM object o,
         LATERAL (SELECT pg_catalog.string_agg(x::text, ' ' ORDER BY x::text COLLATE "C")
                    FROM pg_catalog.unnest(coalesce(o.acl, pg_catalog.acldefault(o.aclkind, o.owner))) x
                 ) a(items)
   WHERE a.items IS NOT NULL
  UNION ALL
  SELECT o.classid, o.objid, o.objsubid, pg_catalog.format('initial privileges (%s) %s', ip.privtype, a.items)
    FROM object o
    JOIN pg_catalog.pg_init_privs ip
      ON (ip.classoid, ip.objoid, ip.objsubid) = (o.classid, o.objid, o.objsubid),
         LATERAL (SELECT pg_catalog.string_agg(x::text, ' ' ORDER BY x::text COLLATE "C")
                    FROM pg_catalog.unnest(ip.initprivs) x
                 ) a(items)

  -- The extension and its schema (owner, comment and privileges above).
  UNION ALL
  SELECT ext.classid, ext.oid, 0,
         pg_catalog.format('schema %I relocatable %s', n.nspname, ext.extrelocatable)
    FROM ext JOIN pg_catalog.pg_namespace n ON n.oid = ext.extnamespace
  UNION ALL
  SELECT ext.classid, ext.oid, 0,
         pg_catalog.format('dumps %s where %L', cfg.rel::pg_catalog.regclass, cfg.cond)
    FROM ext, ROWS FROM (pg_catalog.unnest(ext.extconfig), pg_catalog.unnest(ext.extcondition)) cfg(rel, cond)

  -- Relations.
  UNION ALL
  SELECT c.classid, c.oid, 0,
         pg_catalog.format('relkind %s persistence %s row security %s forced %s replica identity %s'
                           ' access method %s tablespace %s options %s of type %s',
                           c.relkind, c.relpersistence, c.relrowsecurity, c.relforcerowsecurity,
                           c.relreplident, am.amname, coalesce(ts.spcname, '(default)'),
                           (SELECT pg_catalog.string_agg(o, ',' ORDER BY o COLLATE "C")
                              FROM pg_catalog.unnest(c.reloptions) o),
                           nullif(c.reloftype, 0)::pg_catalog.regtype)
    FROM rel c
    LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
    LEFT JOIN pg_catalog.pg_tablespace ts ON ts.oid = c.reltablespace
   WHERE c.relkind NOT IN ('i', 'I')
  UNION ALL
  SELECT c.classid, c.oid, 0, 'partitioned by ' || pg_catalog.pg_get_partkeydef(c.oid)
    FROM rel c WHERE c.relkind = 'p'
  UNION ALL
  SELECT c.classid, c.oid, 0, 'partition ' || pg_catalog.pg_get_expr(c.relpartbound, c.oid)
    FROM rel c WHERE c.relispartition
  UNION ALL
  SELECT c.classid, c.oid, 0, pg_catalog.format('inherits %s (%s)', h.inhparent::pg_catalog.regclass, h.inhseqno)
    FROM rel c JOIN pg_catalog.pg_inherits h ON h.inhrelid = c.oid
  UNION ALL
  SELECT c.classid, c.oid, 0,
         pg_catalog.format(E'populated %s definition\n%s', c.relispopulated,
                           pg_catalog.pg_get_viewdef(c.oid, true))
    FROM rel c WHERE c.relkind IN ('v', 'm')
  UNION ALL
  SELECT c.classid, c.oid, 0,
         pg_catalog.format('sequence type %s start %s increment %s minimum %s maximum %s cache %s cycle %s',
                           s.seqtypid::pg_catalog.regtype, s.seqstart, s.seqincrement, s.seqmin,
                           s.seqmax, s.seqcache, s.seqcycle)
    FROM rel c JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid
  UNION ALL
  SELECT c.classid, c.oid, 0,
         pg_catalog.format('owned by (deptype %s) %s', d.deptype,
                           pg_catalog.pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid))
    FROM rel c
    JOIN pg_catalog.pg_depend d
      ON d.classid = c.classid AND d.objid = c.oid AND d.refclassid = c.classid AND d.refobjsubid <> 0
   WHERE c.relkind = 'S' AND d.deptype IN ('a', 'i')
  UNION ALL
  SELECT c.classid, c.oid, 0,
         pg_catalog.format('index %s clustered %s replica identity %s',
                           pg_catalog.pg_get_indexdef(c.oid), i.indisclustered, i.indisreplident)
    FROM rel c JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid

  -- Columns.
  UNION ALL
  SELECT a.classid, a.attrelid, a.attnum,
         pg_catalog.format('position %s type %s not null %s default %s generated %L identity %L'
                           ' collation %s storage %s compression %L statistics %s options %s'
                           ' fdw options %s',
                           a.position, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,
                           pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), a.attgenerated,
                           a.attidentity, nullif(a.attcollation, 0)::pg_catalog.regcollation,
                           a.attstorage, a.attcompression, a.attstattarget,
                           (SELECT pg_catalog.string_agg(o, ',' ORDER BY o COLLATE "C")
                              FROM pg_catalog.unnest(a.attoptions) o
                             WHERE o NOT LIKE 'pg\_attver=%'),
                           (SELECT pg_catalog.string_agg(o, ',' ORDER BY o COLLATE "C")
                              FROM pg_catalog.unnest(a.attfdwoptions) o))
    FROM col a
    LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum

  -- Constraints, triggers, policies, rules, extended statistics.
  UNION ALL
  SELECT k.classid, k.oid, 0,
         pg_catalog.format('constraint %s deferrable %s deferred %s validated %s',
                           pg_catalog.pg_get_constraintdef(k.oid), k.condeferrable,
                           k.condeferred, k.convalidated)
    FROM con k
  UNION ALL
  SELECT g.classid, g.oid, 0,
         pg_catalog.format('enabled %s %s', g.tgenabled, pg_catalog.pg_get_triggerdef(g.oid))
    FROM trg g
  UNION ALL
  SELECT p.classid, p.oid, 0,
         pg_catalog.format('command %s permissive %s roles %s using %s with check %s',
                           p.polcmd, p.polpermissive,
                           (SELECT pg_catalog.string_agg(r.name, ',' ORDER BY r.name COLLATE "C")
                              FROM (SELECT CASE WHEN o = 0 THEN 'public'
                                                ELSE o::pg_catalog.regrole::text END
                                      FROM pg_catalog.unnest(p.polroles) o) r(name)),
                           pg_catalog.pg_get_expr(p.polqual, p.polrelid),
                           pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid))
    FROM pol p
  UNION ALL
  SELECT r.classid, r.oid, 0,
         pg_catalog.format('enabled %s %s', r.ev_enabled, pg_catalog.pg_get_ruledef(r.oid, true))
    FROM rul r
  UNION ALL
  SELECT s.classid, s.oid, 0, pg_catalog.pg_get_statisticsobjdef(s.oid)
    FROM stx s

  -- Functions and procedures, whole; aggregates by their parts.
  UNION ALL
  SELECT p.classid, p.oid, 0, pg_catalog.pg_get_functiondef(p.oid)
    FROM proc p WHERE p.prokind <> 'a'
  UNION ALL
  SELECT p.classid, p.oid, 0,
         pg_catalog.format('aggregate (%s) returns %s kind %s direct args %s parallel %s'
                           ' transition %s final %s extra %s modify %s combine %s serial %s'
                           ' deserial %s moving %s %s %s extra %s modify %s sort %s'
                           ' state %s space %s initial %L moving state %s space %s initial %L',
                           pg_catalog.pg_get_function_arguments(p.oid),
                           pg_catalog.pg_get_function_result(p.oid), g.aggkind,
                           g.aggnumdirectargs, p.proparallel, g.aggtransfn, g.aggfinalfn,
                           g.aggfinalextra, g.aggfinalmodify, g.aggcombinefn, g.aggserialfn,
                           g.aggdeserialfn, g.aggmtransfn, g.aggminvtransfn, g.aggmfinalfn,
                           g.aggmfinalextra, g.aggmfinalmodify,
                           nullif(g.aggsortop, 0)::pg_catalog.regoperator,
                           g.aggtranstype::pg_catalog.regtype, g.aggtransspace, g.agginitval,
                           nullif(g.aggmtranstype, 0)::pg_catalog.regtype, g.aggmtransspace,
                           g.aggminitval)
    FROM proc p JOIN pg_catalog.pg_aggregate g ON g.aggfnoid = p.oid

  -- Types (composite ones by their relation's columns).
  UNION ALL
  SELECT t.classid, t.oid, 0,
         pg_catalog.format('type %s category %s collation %s', t.typtype, t.typcategory,
                           nullif(t.typcollation, 0)::pg_catalog.regcollation)
    FROM typ t
  UNION ALL
  SELECT t.classid, t.oid, 0,
         pg_catalog.format('domain over %s not null %s default %s',
                           pg_catalog.format_type(t.typbasetype, t.typtypmod), t.typnotnull,
                           pg_catalog.pg_get_expr(t.typdefaultbin, 0))
    FROM typ t WHERE t.typtype = 'd'
  UNION ALL
  SELECT t.classid, t.oid, 0,
         'labels ' || pg_catalog.string_agg(pg_catalog.quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
    FROM typ t JOIN pg_catalog.pg_enum e ON e.enumtypid = t.oid
   GROUP BY t.classid, t.oid
  UNION ALL
  SELECT t.classid, t.oid, 0,
         pg_catalog.format('range of %s operator class %s collation %s canonical %s subtype diff %s multirange %s',
                           r.rngsubtype::pg_catalog.regtype, oc.opcname,
                           nullif(r.rngcollation, 0)::pg_catalog.regcollation, r.rngcanonical,
                           r.rngsubdiff, r.rngmultitypid::pg_catalog.regtype)
    FROM typ t
    JOIN pg_catalog.pg_range r ON r.rngtypid = t.oid
    JOIN pg_catalog.pg_opclass oc ON oc.oid = r.rngsubopc
  UNION ALL
  SELECT t.classid, t.oid, 0,
         pg_catalog.format('base length %s by value %s align %s storage %s preferred %s delimiter %L'
                           ' element %s input %s output %s receive %s send %s modifier in %s'
                           ' modifier out %s analyze %s subscript %s',
                           t.typlen, t.typbyval, t.typalign, t.typstorage, t.typispreferred,
                           t.typdelim, nullif(t.typelem, 0)::pg_catalog.regtype, t.typinput,
                           t.typoutput, t.typreceive, t.typsend, t.typmodin, t.typmodout,
                           t.typanalyze, t.typsubscript)
    FROM typ t WHERE t.typtype = 'b'
)
SELECT n.name || ' | ' || l.line
  FROM fact f
  JOIN named n USING (classid, objid, objsubid),
       pg_catalog.regexp_split_to_table(f.line, E'\n') WITH ORDINALITY AS l(line, nr)
 ORDER BY n.name COLLATE "C", f.line COLLATE "C", l.nr;
