#!/usr/bin/env bash
# Install-script and runtime safety: same-named functions and operators planted in public
# (where PostGIS lives, so on the path of the install script) and in a schema placed before
# pg_catalog on the search_path are never called by leasemgr: not by CREATE EXTENSION, not
# by its triggers, functions, views or policies. Each hostile object logs its call.
. "$(dirname "$0")/tap-lib.bash"
plan 6

db=lm_hostile
fresh_db $db
q -d $db -c "SET client_min_messages = warning" -c "CREATE EXTENSION postgis" -c "CREATE EXTENSION btree_gist"

# Hostile objects: each logs the query that reached it, then behaves like the real one so
# nothing else gives it away. Planted twice: in public and in schema evil.
plant() {
  local s=$1
  q -d $db <<SQL
SET client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS $s;
CREATE TABLE IF NOT EXISTS public.hostile_calls (fn text, query text);
GRANT INSERT, SELECT ON public.hostile_calls TO PUBLIC;
GRANT USAGE ON SCHEMA $s TO PUBLIC;

-- Better matches than pg_catalog's variadic or regclass versions for unknown literals.
CREATE FUNCTION $s.format(text, text) RETURNS text LANGUAGE sql AS
  \$\$ INSERT INTO public.hostile_calls VALUES ('$s.format', current_query()); SELECT pg_catalog.format(\$1, \$2) \$\$;
CREATE FUNCTION $s.format(text, text, text) RETURNS text LANGUAGE sql AS
  \$\$ INSERT INTO public.hostile_calls VALUES ('$s.format3', current_query()); SELECT pg_catalog.format(\$1, \$2, \$3) \$\$;
CREATE FUNCTION $s.pg_extension_config_dump(text, text) RETURNS void LANGUAGE sql AS
  \$\$ INSERT INTO public.hostile_calls VALUES ('$s.pg_extension_config_dump', current_query()) \$\$;
CREATE FUNCTION $s.to_regclass(varchar) RETURNS regclass LANGUAGE sql AS
  \$\$ INSERT INTO public.hostile_calls VALUES ('$s.to_regclass', current_query()); SELECT pg_catalog.to_regclass(\$1::text) \$\$;
-- Same signatures as pg_catalog's: they win only when placed before pg_catalog.
CREATE FUNCTION $s.now() RETURNS timestamptz LANGUAGE sql AS
  \$\$ INSERT INTO public.hostile_calls VALUES ('$s.now', current_query()); SELECT pg_catalog.now() \$\$;
CREATE FUNCTION $s.btrim(text) RETURNS text LANGUAGE sql AS
  \$\$ INSERT INTO public.hostile_calls VALUES ('$s.btrim', current_query()); SELECT pg_catalog.btrim(\$1) \$\$;
CREATE FUNCTION $s.lower(anyrange) RETURNS anyelement LANGUAGE sql AS
  \$\$ INSERT INTO public.hostile_calls VALUES ('$s.lower', current_query()); SELECT pg_catalog.lower(\$1) \$\$;
CREATE FUNCTION $s.to_char(date, text) RETURNS text LANGUAGE sql AS
  \$\$ INSERT INTO public.hostile_calls VALUES ('$s.to_char', current_query()); SELECT pg_catalog.to_char(\$1, \$2) \$\$;
CREATE FUNCTION $s.daterange(date, date, text) RETURNS daterange LANGUAGE sql AS
  \$\$ INSERT INTO public.hostile_calls VALUES ('$s.daterange', current_query()); SELECT pg_catalog.daterange(\$1, \$2, \$3) \$\$;
CREATE FUNCTION $s.quote_ident(text) RETURNS text LANGUAGE sql AS
  \$\$ INSERT INTO public.hostile_calls VALUES ('$s.quote_ident', current_query()); SELECT pg_catalog.quote_ident(\$1) \$\$;
CREATE FUNCTION $s.hostile_int8eq(bigint, bigint) RETURNS boolean LANGUAGE sql AS
  \$\$ INSERT INTO public.hostile_calls VALUES ('$s.= bigint', current_query()); SELECT \$1 OPERATOR(pg_catalog.=) \$2 \$\$;
CREATE OPERATOR $s.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = $s.hostile_int8eq);
CREATE FUNCTION $s.hostile_int8ne(bigint, bigint) RETURNS boolean LANGUAGE sql AS
  \$\$ INSERT INTO public.hostile_calls VALUES ('$s.<> bigint', current_query()); SELECT \$1 OPERATOR(pg_catalog.<>) \$2 \$\$;
CREATE OPERATOR $s.<> (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = $s.hostile_int8ne);
CREATE FUNCTION $s.hostile_texteq(text, text) RETURNS boolean LANGUAGE sql AS
  \$\$ INSERT INTO public.hostile_calls VALUES ('$s.= text', current_query()); SELECT \$1 OPERATOR(pg_catalog.=) \$2 \$\$;
CREATE OPERATOR $s.= (LEFTARG = text, RIGHTARG = text, FUNCTION = $s.hostile_texteq);
CREATE FUNCTION $s.hostile_overlaps(daterange, daterange) RETURNS boolean LANGUAGE sql AS
  \$\$ INSERT INTO public.hostile_calls VALUES ('$s.&&', current_query()); SELECT \$1 OPERATOR(pg_catalog.&&) \$2 \$\$;
CREATE OPERATOR $s.&& (LEFTARG = daterange, RIGHTARG = daterange, FUNCTION = $s.hostile_overlaps);
CREATE FUNCTION $s.hostile_date_mi(date, integer) RETURNS date LANGUAGE sql AS
  \$\$ INSERT INTO public.hostile_calls VALUES ('$s.- date', current_query()); SELECT \$1 OPERATOR(pg_catalog.-) \$2 \$\$;
CREATE OPERATOR $s.- (LEFTARG = date, RIGHTARG = integer, FUNCTION = $s.hostile_date_mi);
SQL
}
plant public
plant evil

# The trap is armed: unqualified user code with evil first on the path does call them.
q -d $db -c "SET search_path = evil, pg_catalog, public" -c "SELECT now()" >/dev/null
armed=$(q -d $db -c "SELECT count(*) FROM public.hostile_calls")
ok $([ "$armed" -gt 0 ] && echo 0 || echo 1) "the hostile objects are reachable by unqualified code ($armed call)"
q -d $db -c "TRUNCATE public.hostile_calls"

calls() { q -d $db -c "SELECT count(*) FROM public.hostile_calls"; }
show_calls() { q -d $db -c "SELECT fn || ': ' || left(query, 150) FROM public.hostile_calls" | diag; }

# Install with the hostile schema first on the installer's path.
q -d $db -c "SET search_path = evil, pg_catalog, public" -c "SET client_min_messages = warning" \
  -c "CREATE EXTENSION leasemgr CASCADE"
c=$(calls); is "$c" "0" "CREATE EXTENSION calls no hostile object"; [ "$c" = 0 ] || show_calls

# Run the whole lifecycle with evil first on the path. The statements below use only typed
# values and leasemgr's own API, so any hostile call comes from leasemgr itself.
psql -X -q -At -d $db >"$tmp/run.out" 2>&1 <<'SQL' || true
SET search_path = evil, pg_catalog, public;
SET leasemgr.actor = 'li.na';
INSERT INTO leasemgr.region (code, name) VALUES ('R'::text, 'Region'::text) RETURNING id AS region \gset
INSERT INTO leasemgr.park (region_id, code, name) VALUES (:region::bigint, 'P'::text, 'Park'::text) RETURNING id AS park \gset
INSERT INTO leasemgr.building (park_id, code, name) VALUES (:park::bigint, 'B'::text, 'B'::text) RETURNING id AS building \gset
INSERT INTO leasemgr.unit (park_id, building_id, floor, code, kind, area_m2)
  VALUES (:park::bigint, :building::bigint, 1::int, 'U1'::text, 'office'::text, 100::numeric) RETURNING id AS unit \gset
INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
  VALUES (:park::bigint, 'company'::text, 'Acme'::text, 'uscc'::text, '91350100m000100y43'::text) RETURNING id AS tenant \gset
INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
  VALUES (:park::bigint, 'person'::text, 'Li'::text, 'cn_id'::text, '11010519491231002x'::text);
INSERT INTO leasemgr.contract (park_id, code, tenant_id, start_date, end_date)
  VALUES (:park::bigint, 'C1'::text, :tenant::bigint, '2024-01-01'::date, '2024-12-31'::date) RETURNING id AS c1 \gset
INSERT INTO leasemgr.contract_unit (contract_id, unit_id) VALUES (:c1::bigint, :unit::bigint);
INSERT INTO leasemgr.price_index (series, month, value) VALUES ('CN-CPI'::text, '2023-10-01'::date, 102.5::numeric);
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, escalation, escalate_every_months, cpi_series, cpi_lag_months)
  VALUES (:c1::bigint, 'rent'::text, 'per_m2_month'::text, 80::numeric, 'cpi'::text, 12::int, 'CN-CPI'::text, 3::int);
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate, billed)
  VALUES (:c1::bigint, 'turnover'::text, 'turnover_pct'::text, 5::numeric, 'arrears'::text);
INSERT INTO leasemgr.free_rent_period (contract_id, days) VALUES (:c1::bigint, '[2024-01-01,2024-02-01)'::daterange);
UPDATE leasemgr.charge SET rate = 85::numeric WHERE contract_id OPERATOR(pg_catalog.=) :c1::bigint AND kind OPERATOR(pg_catalog.=) 'rent'::text;
SELECT leasemgr.contract_transition(:c1::bigint, 'submit'::text, 'note'::text);
SET leasemgr.actor = 'wang.wei';
SELECT leasemgr.contract_transition(:c1::bigint, 'approve'::text);
SELECT leasemgr.contract_transition(:c1::bigint, 'sign'::text);
UPDATE leasemgr.contract SET document_sha256 = repeat('AB'::text, 32::int) WHERE id OPERATOR(pg_catalog.=) :c1::bigint;
SELECT leasemgr.contract_transition(:c1::bigint, 'sign'::text);
SELECT leasemgr.contract_transition(:c1::bigint, 'activate'::text);
INSERT INTO leasemgr.turnover_report (contract_id, month, sales) VALUES (:c1::bigint, '2024-02-01'::date, 250000::numeric);
UPDATE leasemgr.turnover_report SET sales = 260000::numeric WHERE contract_id OPERATOR(pg_catalog.=) :c1::bigint;
UPDATE leasemgr.contract SET end_date = '2025-01-01'::date WHERE id OPERATOR(pg_catalog.=) :c1::bigint;
INSERT INTO leasemgr.contract (park_id, code, tenant_id, start_date, end_date)
  VALUES (:park::bigint, 'C2'::text, :tenant::bigint, '2024-06-01'::date, '2025-05-31'::date) RETURNING id AS c2 \gset
INSERT INTO leasemgr.contract_unit (contract_id, unit_id) VALUES (:c2::bigint, :unit::bigint);
INSERT INTO leasemgr.charge (contract_id, kind, basis, rate) VALUES (:c2::bigint, 'rent'::text, 'fixed_month'::text, 9000::numeric);
SELECT leasemgr.contract_transition(:c2::bigint, 'submit'::text);
SELECT leasemgr.contract_transition(:c1::bigint, 'terminate'::text, 'early'::text, '2024-05-31'::date);
SELECT leasemgr.contract_transition(:c2::bigint, 'submit'::text);
SELECT leasemgr.contract_transition(:c1::bigint, 'start_move_out'::text);
INSERT INTO leasemgr.turnover_report (contract_id, month, sales)
  SELECT :c1::bigint, m::date, 180000::numeric FROM pg_catalog.unnest('{2024-01-01,2024-03-01,2024-04-01,2024-05-01}'::date[]) m;
SELECT bills_created FROM leasemgr.bill_run('2024-06-01'::date, :park::bigint);
SELECT leasemgr.record_payment(:c1::bigint, b.amount, '2024-06-10'::date, 'bank_transfer'::text, 'BT-FINAL'::text)
  FROM leasemgr.bill b WHERE b.contract_id OPERATOR(pg_catalog.=) :c1::bigint;
SELECT leasemgr.contract_transition(:c1::bigint, 'close'::text);
SELECT leasemgr.contract_transition(:c2::bigint, 'cancel'::text);
SELECT * FROM leasemgr.contract_timeline(:c1::bigint);
SELECT * FROM leasemgr.contract_overview;
SELECT * FROM leasemgr.contract_state_machine();
SELECT leasemgr.valid_uscc('91350100M000100Y43'::text), leasemgr.valid_cn_id('11010519491231002X'::text);
CREATE ROLE lm_hostile_reader IN ROLE leasemgr_reader;
SELECT leasemgr.grant_park('lm_hostile_reader'::name, :park::bigint);
SET ROLE lm_hostile_reader;
SELECT * FROM leasemgr.contract;
SELECT * FROM leasemgr.contract_overview;
RESET ROLE;
SELECT leasemgr.revoke_park('lm_hostile_reader'::name, :park::bigint);
DROP ROLE lm_hostile_reader;
SQL
expected_errors=$(grep -c 'ERROR:' "$tmp/run.out" || true)
# Three refusals are part of the script: sign without a document, edit a locked term,
# and the double booking of C2 while C1 still held the unit.
is "$expected_errors" "3" "the lifecycle ran, with exactly its three intended refusals"
grep 'ERROR:' "$tmp/run.out" | diag
states=$(q -d $db -c "SELECT string_agg(code || '=' || state, ' ' ORDER BY code) FROM leasemgr.contract")
is "$states" "C1=closed C2=cancelled" "every transition went through"
c=$(calls); is "$c" "0" "triggers, functions, views and policies call no hostile object"; [ "$c" = 0 ] || show_calls

# The audit trail was written along the way (by C code that uses no SQL lookups at all).
audit=$(q -d $db -c "SELECT count(*) FROM leasemgr.audit_log")
ok $([ "$audit" -gt 10 ] && echo 0 || echo 1) "the audit log recorded the run ($audit rows)"

q -d postgres -c "DROP DATABASE $db"
finish
