-- Benchmark: the bill run against the write floor, compute_charges over ten-year schedules,
-- and the bill run's peak memory as the number of contracts grows.
--
--   psql -v contracts=100000 -v rounds=3 -v schedules=1000 -f test/bench/bill_run.sql
--   (through test/bench/run.sh bill_run -v contracts=100000 -v rounds=3)
--
-- 1. bill_run: leasemgr.bill_run('2027-03-01') over :contracts active contracts (a quarter
--    of them in park BENCH-A, the rest in BENCH-B), each with one unit and three charges:
--      rent          per_m2_month, 85-94 CNY/m2, +5% every 12 months from the start, with
--                    8 to 21 days of free rent from the first day (free_rent_period, rent only)
--      property fee  per_m2_month, 12.50 CNY/m2
--      parking       fixed_month, 600.00 CNY
--    Every lease starts on 2027-03-01, the month billed, so each contract gets exactly one
--    bill of three lines (no catch-up): :contracts bills and 3 x :contracts lines.
--    Against it, the same bills and lines (captured from the run as plain rows) inserted with
--    one INSERT ... SELECT per table into empty copies of the tables:
--      floor     bench.bill_copy, bench.bill_line_copy: LIKE ... INCLUDING ALL, i.e. the same
--                columns, defaults, identity, generated column, checks and indexes; no
--                triggers, no foreign keys. The write floor of the aim.
--      floor_fk  the same copies plus the tables' three foreign keys (bill -> contract,
--                line -> bill, line -> charge): what the schema makes any writer pay.
--    Each round runs the three, each into empty tables (the bill run's are emptied past the
--    ledger guards after every run), in an order that rotates from round to round. The
--    result is bill_run / floor and bill_run / floor_fk per round, and their medians.
-- 2. compute_charges: every charge period of :schedules contracts with ten-year leases and
--    the same three charges (SELECT count(*) FROM contracts, LATERAL compute_charges(...)),
--    in rows per second.
-- 3. memory: the bill run over :contracts / 4 contracts (park BENCH-A) and over all of them,
--    each in a fresh backend (bill_run_memory.psql); the backend's peak memory (VmHWM of
--    /proc/self/status) after the call.
--
-- Setup is not timed. Contracts are loaded directly as the owner with the triggers off
-- (session_replication_role = replica), filled the way the triggers would fill them: state
-- active with its stamps, contract_unit with the contract's park, lease range and is_live,
-- charges with valid_from/valid_to/escalation_anchor defaulted to the lease, free rent inside
-- the lease.
\set ON_ERROR_STOP on
\if :{?contracts}
\else
  \set contracts 100000
\endif
\if :{?rounds}
\else
  \set rounds 3
\endif
\if :{?schedules}
\else
  \set schedules 1000
\endif
SET client_min_messages = warning;

DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;
CREATE EXTENSION IF NOT EXISTS pg_prewarm SCHEMA bench;
CREATE TABLE bench.bill_copy (LIKE leasemgr.bill INCLUDING ALL);
CREATE TABLE bench.bill_line_copy (LIKE leasemgr.bill_line INCLUDING ALL);
CREATE TABLE bench.bill_fk_copy (LIKE leasemgr.bill INCLUDING ALL,
  FOREIGN KEY (contract_id, park_id) REFERENCES leasemgr.contract (id, park_id));
CREATE TABLE bench.bill_line_fk_copy (LIKE leasemgr.bill_line INCLUDING ALL,
  FOREIGN KEY (bill_id, park_id) REFERENCES bench.bill_fk_copy (id, park_id),
  FOREIGN KEY (charge_id, park_id) REFERENCES leasemgr.charge (id, park_id));
-- The rows one bill run wrote, as the floors insert them.
CREATE TABLE bench.cap_bill AS SELECT id, park_id, contract_id, period, issued_on, due_on, amount, issued_by
  FROM leasemgr.bill WITH NO DATA;
CREATE TABLE bench.cap_line AS SELECT id, park_id, bill_id, contract_id, charge_id, kind, period_start, period_end,
  amount, explain FROM leasemgr.bill_line WITH NO DATA;
CREATE TABLE bench.result (round int, part text, ms numeric, bills bigint, lines bigint, amount numeric);
CREATE TABLE bench.memory (contracts int, stage text, vmhwm_kb bigint, vmrss_kb bigint, rssanon_kb bigint,
                           rssshmem_kb bigint);

-- Parks: BENCH-A holds a quarter of the contracts (the small memory run), BENCH-B the rest,
-- BENCH-S the ten-year schedules of part 2.
INSERT INTO leasemgr.region (code, name) VALUES ('BENCH', 'Bench') ON CONFLICT DO NOTHING;
INSERT INTO leasemgr.park (region_id, code, name)
SELECT r.id, p, 'Bench ' || p FROM leasemgr.region r, unnest(ARRAY['BENCH-A', 'BENCH-B', 'BENCH-S']) p WHERE r.code = 'BENCH';
INSERT INTO leasemgr.building (park_id, code, name) SELECT id, 'B', 'Bench' FROM leasemgr.park WHERE code LIKE 'BENCH-_';
INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
SELECT id, 'company', 'Bench Co', 'uscc', '91350100M000100Y43' FROM leasemgr.park WHERE code LIKE 'BENCH-_';
SELECT id AS park_a FROM leasemgr.park WHERE code = 'BENCH-A' \gset
SELECT id AS park_b FROM leasemgr.park WHERE code = 'BENCH-B' \gset
SELECT id AS park_s FROM leasemgr.park WHERE code = 'BENCH-S' \gset
SELECT :contracts / 4 AS quarter, :contracts - :contracts / 4 AS rest \gset

-- n active contracts in a park, leases first_day .. first_day + years - 1 day, each with one
-- unit (60-252 m2) and the three charges. Loaded past the triggers, filled as they would.
CREATE FUNCTION bench.load(park bigint, n int, first_day date, years int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  SET LOCAL session_replication_role = replica;
  INSERT INTO leasemgr.unit (park_id, building_id, floor, code, kind, area_m2)
  SELECT park, b.id, 1 + i / 100 % 300, 'U' || i, 'office', 60 + (i % 25) * 8
    FROM leasemgr.building b, generate_series(1, n) AS i
   WHERE b.park_id = park;
  -- Active, as activate leaves it: submitted, approved by someone else, signed.
  INSERT INTO leasemgr.contract (park_id, code, tenant_id, state, start_date, end_date, document_sha256,
                                 signed_at, created_by, created_at, submitted_by, submitted_at, approved_by,
                                 approved_at, state_since)
  SELECT park, 'B-' || i, t.id, 'active', first_day, (first_day + make_interval(years => years))::date - 1,
         repeat('ab', 32), now(), 'bench', now(), 'bench-submitter', now(), 'bench-approver', now(), now()
    FROM generate_series(1, n) AS i, leasemgr.tenant t
   WHERE t.park_id = park;
  INSERT INTO leasemgr.contract_unit (park_id, contract_id, unit_id, billable_area_m2, lease_range, is_live)
  SELECT c.park_id, c.id, u.id, u.area_m2, c.lease_range, c.is_live
    FROM leasemgr.contract c JOIN leasemgr.unit u ON u.park_id = c.park_id AND u.code = 'U' || substr(c.code, 3)
   WHERE c.park_id = park;
  -- valid_from/valid_to default to the lease, the escalation anchor to valid_from.
  INSERT INTO leasemgr.charge (park_id, contract_id, kind, basis, rate, valid_from, valid_to, escalation,
                               escalate_every_months, escalation_anchor, escalation_pct)
  SELECT c.park_id, c.id, 'rent', 'per_m2_month', 85 + c.id % 10, c.start_date, c.end_date, 'pct', 12, c.start_date, 5
    FROM leasemgr.contract c WHERE c.park_id = park;
  INSERT INTO leasemgr.charge (park_id, contract_id, kind, basis, rate, valid_from, valid_to)
  SELECT c.park_id, c.id, 'property_fee', 'per_m2_month', 12.5, c.start_date, c.end_date
    FROM leasemgr.contract c WHERE c.park_id = park;
  INSERT INTO leasemgr.charge (park_id, contract_id, kind, basis, rate, valid_from, valid_to)
  SELECT c.park_id, c.id, 'parking', 'fixed_month', 600, c.start_date, c.end_date
    FROM leasemgr.contract c WHERE c.park_id = park;
  INSERT INTO leasemgr.free_rent_period (park_id, contract_id, days, kinds, note)
  SELECT c.park_id, c.id, daterange(c.start_date, c.start_date + 8 + (c.id % 14)::int), '{rent}', 'fit-out'
    FROM leasemgr.contract c WHERE c.park_id = park;
  SET LOCAL session_replication_role = origin;
END
$$;

-- Issued bills and lines are a ledger: only the owner with the triggers off can empty them.
CREATE FUNCTION bench.clear_bills() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  SET LOCAL session_replication_role = replica;
  TRUNCATE leasemgr.payment_allocation, leasemgr.bill_line, leasemgr.bill;
  SET LOCAL session_replication_role = origin;
END
$$;

-- The timed bill run; then (not timed) its rows are kept for the floors, and the tables
-- emptied for the next round.
CREATE FUNCTION bench.bill_run(round int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  t0 timestamptz;
  r record;
BEGIN
  t0 := clock_timestamp();
  SELECT * INTO r FROM leasemgr.bill_run('2027-03-01');
  INSERT INTO bench.result VALUES (round, 'bill_run', extract(epoch FROM clock_timestamp() - t0) * 1000,
                                   r.bills_created, r.lines_created, r.amount);
END
$$;
CREATE FUNCTION bench.capture() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE bench.cap_bill, bench.cap_line;
  INSERT INTO bench.cap_bill SELECT id, park_id, contract_id, period, issued_on, due_on, amount, issued_by
    FROM leasemgr.bill;
  INSERT INTO bench.cap_line SELECT id, park_id, bill_id, contract_id, charge_id, kind, period_start, period_end,
         amount, explain FROM leasemgr.bill_line;
  PERFORM bench.clear_bills();
END
$$;

-- The timed floors: the captured rows into the empty copies, in the order the run wrote them.
-- The plain floor takes its ids from the copies' identity columns, as the run does; floor_fk
-- keeps the captured bill ids (OVERRIDING SYSTEM VALUE), which its lines' foreign key needs.
CREATE FUNCTION bench.floor(round int, fk boolean) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  suffix text := CASE WHEN fk THEN '_fk_copy' ELSE '_copy' END;
  bill_ids text := CASE WHEN fk THEN 'id, ' ELSE '' END;
  t0 timestamptz;
  nb bigint;
  nl bigint;
BEGIN
  t0 := clock_timestamp();
  EXECUTE format('INSERT INTO bench.bill%s (%spark_id, contract_id, period, issued_on, due_on, amount, issued_by) %s '
                 'SELECT %spark_id, contract_id, period, issued_on, due_on, amount, issued_by '
                 'FROM bench.cap_bill ORDER BY id',
                 suffix, bill_ids, CASE WHEN fk THEN 'OVERRIDING SYSTEM VALUE' END, bill_ids);
  GET DIAGNOSTICS nb = ROW_COUNT;
  EXECUTE format('INSERT INTO bench.bill_line%s (park_id, bill_id, contract_id, charge_id, kind, period_start, '
                 'period_end, amount, explain) '
                 'SELECT park_id, bill_id, contract_id, charge_id, kind, period_start, period_end, amount, explain '
                 'FROM bench.cap_line ORDER BY id', suffix);
  GET DIAGNOSTICS nl = ROW_COUNT;
  INSERT INTO bench.result VALUES (round, CASE WHEN fk THEN 'floor_fk' ELSE 'floor' END,
                                   extract(epoch FROM clock_timestamp() - t0) * 1000, nb, nl,
                                   (SELECT sum(amount) FROM bench.cap_bill));
END
$$;

-- This backend's memory, from the kernel: peak and current resident set, and its parts.
CREATE FUNCTION bench.record_memory(contracts int, stage text) RETURNS void LANGUAGE sql AS $$
  INSERT INTO bench.memory
  SELECT $1, $2,
         max(v) FILTER (WHERE k = 'VmHWM'), max(v) FILTER (WHERE k = 'VmRSS'),
         max(v) FILTER (WHERE k = 'RssAnon'), max(v) FILTER (WHERE k = 'RssShmem')
    FROM (SELECT split_part(l, ':', 1) AS k, (regexp_match(l, '(\d+) kB'))[1]::bigint AS v
            FROM regexp_split_to_table(pg_read_file('/proc/self/status'), E'\n') AS l) s;
$$;

\echo 'loading' :contracts 'contracts (not timed)'
\o /dev/null
SELECT bench.load(:park_a, :quarter, '2027-03-01', 3);
SELECT bench.load(:park_b, :rest, '2027-03-01', 3);
\o
VACUUM ANALYZE;
-- bill_run_callgrind.sh stops here: it has the data and the functions, and runs the rest.
\if :{?setup_only}
  \quit
\endif

-- 1. bill_run against the floors: one warm-up round (caches, plans, the first capture), then
-- :rounds rounds, each part in its own transaction.
\o /dev/null
SELECT bench.bill_run(0);
SELECT bench.capture();
SELECT bench.floor(0, false);
SELECT bench.floor(0, true);
SELECT sql
  FROM generate_series(1, :rounds) AS r,
       LATERAL (SELECT ARRAY['SELECT bench.floor(%s, false)', 'SELECT bench.floor(%s, true)',
                             'SELECT bench.bill_run(%s); SELECT bench.capture()'] AS parts) p,
       LATERAL unnest(ARRAY['TRUNCATE bench.bill_line_copy, bench.bill_copy, bench.bill_line_fk_copy, bench.bill_fk_copy',
                            format(parts[1 + r % 3], r), format(parts[1 + (r + 1) % 3], r),
                            format(parts[1 + (r + 2) % 3], r)]) WITH ORDINALITY AS s(sql, step)
 ORDER BY r, step
\gexec
\o

\echo
\echo 'bill_run over' :contracts 'contracts against the floors (the same rows into copies without triggers)'
SELECT round,
       round(max(ms) FILTER (WHERE part = 'bill_run')) AS bill_run_ms,
       round(max(ms) FILTER (WHERE part = 'floor')) AS floor_ms,
       round(max(ms) FILTER (WHERE part = 'floor_fk')) AS floor_fk_ms,
       round(max(ms) FILTER (WHERE part = 'bill_run') / max(ms) FILTER (WHERE part = 'floor'), 2) AS ratio,
       round(max(ms) FILTER (WHERE part = 'bill_run') / max(ms) FILTER (WHERE part = 'floor_fk'), 2) AS ratio_fk,
       string_agg(part, ', ' ORDER BY ms DESC) AS slowest_first
  FROM bench.result WHERE round > 0 GROUP BY round ORDER BY round;
WITH r AS (
  SELECT round, max(ms) FILTER (WHERE part = 'bill_run') / max(ms) FILTER (WHERE part = 'floor') AS ratio,
         max(ms) FILTER (WHERE part = 'bill_run') / max(ms) FILTER (WHERE part = 'floor_fk') AS ratio_fk
    FROM bench.result WHERE round > 0 GROUP BY round)
SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ratio)::numeric, 2) AS median_ratio,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ratio_fk)::numeric, 2) AS median_ratio_fk FROM r;
SELECT part, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric) AS median_ms,
       round((:contracts + 3 * :contracts) / percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric * 1000)
         AS rows_per_s
  FROM bench.result WHERE round > 0 AND part <> 'compute_charges' GROUP BY part ORDER BY median_ms;
-- Every part wrote the same rows, every round.
SELECT bool_and(bills = :contracts AND lines = 3 * :contracts) AND count(DISTINCT amount) = 1 AS same_rows,
       min(amount) AS amount
  FROM bench.result;
SELECT explain AS sample_rent_line FROM bench.cap_line WHERE kind = 'rent' ORDER BY id LIMIT 1;

-- 3. Memory, in fresh backends. The buffer pool is mapped into each first (a ballast of three
-- times shared_buffers read through it, and some WAL written through the WAL buffers), so
-- that the shared memory the run then maps is small: the peak minus RssShmem is the
-- backend's private memory.
CREATE TABLE bench.ballast (pad text) WITH (fillfactor = 10);  -- one row per page
ALTER TABLE bench.ballast ALTER COLUMN pad SET STORAGE PLAIN;
INSERT INTO bench.ballast
SELECT repeat('x', 700) FROM generate_series(1, (SELECT setting::int * 3 FROM pg_settings WHERE name = 'shared_buffers'));
CREATE TABLE bench.wal_touch (pad text);
\set mem_contracts :quarter
\set mem_park :park_a
\ir bill_run_memory.psql
\set mem_contracts :contracts
\set mem_park NULL
\ir bill_run_memory.psql
DROP TABLE bench.ballast;

-- 2. compute_charges over ten-year schedules (its own park; loaded after the bill runs).
\o /dev/null
SELECT bench.load(:park_s, :schedules, '2027-03-01', 10);
\o
VACUUM ANALYZE leasemgr.contract, leasemgr.charge, leasemgr.free_rent_period, leasemgr.contract_unit;
CREATE FUNCTION bench.schedules(round int, park bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  t0 timestamptz;
  n bigint;
BEGIN
  t0 := clock_timestamp();
  SELECT count(*) INTO n FROM leasemgr.contract c, LATERAL leasemgr.compute_charges(c.id, c.start_date, c.end_date) x
   WHERE c.park_id = park;
  INSERT INTO bench.result VALUES (round, 'compute_charges', extract(epoch FROM clock_timestamp() - t0) * 1000, NULL, n);
END
$$;
\o /dev/null
SELECT bench.schedules(0, :park_s);
SELECT bench.schedules(r, :park_s) FROM generate_series(1, :rounds) AS r;
\o

\echo
\echo 'compute_charges over' :schedules 'ten-year leases with three charges (every period, 2027-03 .. 2037-02)'
SELECT round, round(ms) AS ms, lines AS rows, round(lines / ms * 1000) AS rows_per_s
  FROM bench.result WHERE part = 'compute_charges' AND round > 0 ORDER BY round;
SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY lines / ms * 1000)::numeric) AS median_rows_per_s,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms / :schedules)::numeric, 2) AS median_ms_per_contract
  FROM bench.result WHERE part = 'compute_charges' AND round > 0;

\echo
\echo 'Memory of a fresh backend running bill_run (kB), before and after the call'
SELECT contracts, stage, vmhwm_kb, rssshmem_kb, vmhwm_kb - rssshmem_kb AS private_peak_kb, rssanon_kb
  FROM bench.memory ORDER BY contracts, stage DESC;
SELECT round(max(vmhwm_kb) FILTER (WHERE contracts = :contracts) / max(vmhwm_kb) FILTER (WHERE contracts = :quarter)::numeric, 2)
         AS vmhwm_ratio,
       round(max(vmhwm_kb - rssshmem_kb) FILTER (WHERE contracts = :contracts)
             / max(vmhwm_kb - rssshmem_kb) FILTER (WHERE contracts = :quarter)::numeric, 2) AS private_peak_ratio
  FROM bench.memory WHERE stage = 'after';
