-- Benchmark: 100,000 contract state transitions through the state-machine trigger and the
-- audit log, against the same UPDATEs on a copy of the table without triggers.
--
--   psql -v contracts=25000 -v rounds=3 -f test/bench/transitions.sql
--
-- Each round creates :contracts fresh draft contracts (one unit and one rent charge each, as
-- submitting needs both) in leasemgr.contract and the same rows in bench.contract_plain
-- (LIKE leasemgr.contract INCLUDING ALL: same columns, defaults, generated columns, checks
-- and indexes; no triggers, no foreign keys), then moves every contract through submit,
-- approve, sign and activate: 4 x :contracts transitions, done three ways:
--   bulk:   one UPDATE per transition over all contracts (a migration or a batch job)
--   single: one UPDATE statement per contract and transition (an application writing
--           the table directly)
--   api:    leasemgr.contract_transition() per contract and transition (an application using
--           the API; it locks the row, checks the event, then UPDATEs), against the plain
--           single UPDATE
-- Plain and leasemgr runs alternate within a round, so machine noise hits both alike.
-- The result is the ratio leasemgr / plain per way, per round, and the median.
\set ON_ERROR_STOP on
\if :{?contracts}
\else
  \set contracts 25000
\endif
\if :{?rounds}
\else
  \set rounds 3
\endif
SET client_min_messages = warning;

DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;
CREATE TABLE bench.contract_plain (LIKE leasemgr.contract INCLUDING ALL);
CREATE TABLE bench.result (round int, way text, target text, ms numeric);

-- A park with one unit per contract, made once.
INSERT INTO leasemgr.region (code, name) VALUES ('BENCH', 'Bench') ON CONFLICT DO NOTHING;
INSERT INTO leasemgr.park (region_id, code, name) SELECT id, 'BENCH', 'Bench' FROM leasemgr.region WHERE code = 'BENCH';
INSERT INTO leasemgr.building (park_id, code, name) SELECT id, 'B', 'Bench' FROM leasemgr.park WHERE code = 'BENCH';
INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
SELECT id, 'company', 'Bench Co', 'uscc', '91350100M000100Y43' FROM leasemgr.park WHERE code = 'BENCH';
INSERT INTO leasemgr.unit (park_id, building_id, floor, code, kind, area_m2)
SELECT b.park_id, b.id, 1 + n / 100, 'U' || n, 'office', 100
  FROM leasemgr.building b, generate_series(1, :contracts) AS n
 WHERE b.code = 'B' AND b.park_id = (SELECT id FROM leasemgr.park WHERE code = 'BENCH');
SELECT id AS park FROM leasemgr.park WHERE code = 'BENCH' \gset

-- Fresh drafts for a round: in leasemgr.contract (with their units and charges) or in the
-- plain copy. The document hash is attached in draft, so sign needs nothing more. Setting up
-- is not timed: the rounds time the transitions only, on both sides.
CREATE FUNCTION bench.setup(park bigint, n int, plain boolean) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF plain THEN
    TRUNCATE bench.contract_plain;
    INSERT INTO bench.contract_plain (park_id, code, tenant_id, start_date, end_date, document_sha256,
                                      created_by, created_at, state_since)
    SELECT park, 'B-' || i, t.id, date '2025-01-01', date '2027-12-31', repeat('ab', 32), 'setup', now(), now()
      FROM generate_series(1, n) AS i, (SELECT id FROM leasemgr.tenant WHERE park_id = park) t;
  ELSE
    -- Earlier rounds' contracts are moved out of the way (they hold the units), the same
    -- way the plain copy is emptied (past the TRUNCATE guard: replica mode skips triggers).
    -- The logs keep growing, as they do in production.
    SET LOCAL session_replication_role = replica;
    -- CASCADE: with every table that refers to a contract, whatever later versions add
    -- (work orders, allocation shares); the logs refer to none and keep their rows.
    TRUNCATE leasemgr.payment_allocation, leasemgr.payment, leasemgr.late_fee_policy,
             leasemgr.bill_line, leasemgr.bill, leasemgr.turnover_report, leasemgr.free_rent_period,
             leasemgr.charge, leasemgr.contract_unit, leasemgr.contract CASCADE;
    SET LOCAL session_replication_role = origin;
    INSERT INTO leasemgr.contract (park_id, code, tenant_id, start_date, end_date, document_sha256)
    SELECT park, 'B-' || i, t.id, date '2025-01-01', date '2027-12-31', repeat('ab', 32)
      FROM generate_series(1, n) AS i, (SELECT id FROM leasemgr.tenant WHERE park_id = park) t;
    INSERT INTO leasemgr.contract_unit (contract_id, unit_id)
    SELECT c.id, u.id FROM leasemgr.contract c JOIN leasemgr.unit u ON u.park_id = c.park_id AND u.code = 'U' || substr(c.code, 3)
     WHERE c.park_id = park;
    INSERT INTO leasemgr.charge (contract_id, kind, basis, rate)
    SELECT c.id, 'rent', 'per_m2_month', 80 FROM leasemgr.contract c WHERE c.park_id = park;
  END IF;
END
$$;

-- The four transitions, bulk or one statement per contract, timed one by one.
CREATE FUNCTION bench.transitions(round int, park bigint, way text, plain boolean) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  tbl text := CASE WHEN plain THEN 'bench.contract_plain' ELSE 'leasemgr.contract' END;
  step record;
  t0 timestamptz;
  ids bigint[];
  i bigint;
BEGIN
  EXECUTE format('SELECT array_agg(id ORDER BY id) FROM %s WHERE park_id = $1', tbl) INTO ids USING park;
  FOR step IN SELECT * FROM (VALUES (1, 'pending_approval', 'submitter'), (2, 'approved', 'approver'),
                                    (3, 'signed', 'approver'), (4, 'active', 'approver')) AS s(n, target, actor)
              ORDER BY n LOOP
    PERFORM set_config('leasemgr.actor', step.actor, true);
    t0 := clock_timestamp();
    IF way = 'bulk' THEN
      EXECUTE format('UPDATE %s SET state = $1 WHERE park_id = $2', tbl) USING step.target, park;
    ELSIF way = 'api' AND NOT plain THEN
      FOREACH i IN ARRAY ids LOOP
        PERFORM leasemgr.contract_transition(i, CASE step.target WHEN 'pending_approval' THEN 'submit'
                                                  WHEN 'approved' THEN 'approve' WHEN 'signed' THEN 'sign'
                                                  ELSE 'activate' END);
      END LOOP;
    ELSE
      FOREACH i IN ARRAY ids LOOP
        EXECUTE format('UPDATE %s SET state = $1 WHERE id = $2', tbl) USING step.target, i;
      END LOOP;
    END IF;
    INSERT INTO bench.result VALUES (round, way, CASE WHEN plain THEN 'plain' ELSE 'leasemgr' END || ':' || step.target,
                                     extract(epoch FROM clock_timestamp() - t0) * 1000);
  END LOOP;
END
$$;

\o /dev/null
SELECT bench.setup(:park, 100, false), bench.transitions(0, :park, 'bulk', false);  -- warm the caches
\o
SELECT count(*) AS audit_rows_before FROM leasemgr.audit_log \gset

SELECT format('SELECT bench.setup(%s, %s, %L); SELECT bench.transitions(%s, %s, %L, %L);',
              :park, :contracts, plain, r, :park, way, plain)
  FROM generate_series(1, :rounds) AS r, unnest(ARRAY['bulk', 'single', 'api']) AS way,
       unnest(ARRAY[true, false]) AS plain
 ORDER BY r, way, CASE WHEN r % 2 = 0 THEN plain ELSE NOT plain END
\gexec

\echo
\echo 'Per round: total milliseconds for 4 x' :contracts 'transitions, and the ratio'
SELECT round, way,
       round(sum(ms) FILTER (WHERE target LIKE 'plain:%')) AS plain_ms,
       round(sum(ms) FILTER (WHERE target LIKE 'leasemgr:%')) AS leasemgr_ms,
       round(sum(ms) FILTER (WHERE target LIKE 'leasemgr:%') / sum(ms) FILTER (WHERE target LIKE 'plain:%'), 2) AS ratio
  FROM bench.result WHERE round > 0 GROUP BY round, way ORDER BY way, round;

\echo 'Median ratio over the rounds, and per transition (bulk)'
WITH r AS (
  SELECT round, way,
         sum(ms) FILTER (WHERE target LIKE 'leasemgr:%') / sum(ms) FILTER (WHERE target LIKE 'plain:%') AS ratio
    FROM bench.result WHERE round > 0 GROUP BY round, way)
SELECT way, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ratio)::numeric, 2) AS median_ratio
  FROM r GROUP BY way ORDER BY way;
SELECT split_part(target, ':', 2) AS transition,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE target LIKE 'plain:%')::numeric) AS plain_ms,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE target LIKE 'leasemgr:%')::numeric) AS leasemgr_ms
  FROM bench.result WHERE round > 0 AND way = 'bulk' GROUP BY 1 ORDER BY min(ms);
SELECT count(*) - :audit_rows_before AS audit_rows_written FROM leasemgr.audit_log;
