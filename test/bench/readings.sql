-- Benchmark: an IoT load of meter readings through the bulk path, and anomaly detection over
-- them, each as a ratio to the plain database doing the least it could.
--
--   psql -v meters=1000 -v days=104 -v rounds=1 -f test/bench/readings.sql
--
-- :meters meters read every 15 minutes for :days days (1,000 x 96 x 104 = 9,984,000 readings
-- by default), written once to a server-side file in time order, the way gateways send them.
--   load:   COPY of the file into leasemgr.meter_reading (monthly partitions made ahead, their
--           unique index, the once-per-statement check of the meters, RLS, the defaults)
--           against COPY into bench.reading_plain (LIKE leasemgr.meter_reading INCLUDING
--           DEFAULTS: the same columns and defaults, no partitions, no index, no trigger);
--           and, for scale, into bench.reading_idx: the same with the one unique index that
--           any table enforcing "one value per meter, register and moment" needs (plain_idx).
--   detect: leasemgr.detect_anomalies over the whole time range, against the plain aggregate
--           of the same rows that anyone would start from: consumption per meter and day,
--           SELECT meter_id, date_trunc('day', read_at), max(value) - min(value) ... GROUP BY 1, 2.
-- Plain and leasemgr alternate within a round. The report is the ratio leasemgr / plain.
\set ON_ERROR_STOP on
\if :{?meters}
\else
  \set meters 1000
\endif
\if :{?days}
\else
  \set days 104
\endif
\if :{?rounds}
\else
  \set rounds 1
\endif
SET client_min_messages = warning;

DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;
CREATE TABLE bench.reading_plain (LIKE leasemgr.meter_reading INCLUDING DEFAULTS);
CREATE TABLE bench.reading_idx (LIKE leasemgr.meter_reading INCLUDING DEFAULTS);
CREATE UNIQUE INDEX ON bench.reading_idx (meter_id, read_at, register);
CREATE TABLE bench.result (round int, way text, target text, ms numeric, note text);

INSERT INTO leasemgr.region (code, name) VALUES ('BENCH', 'Bench') ON CONFLICT DO NOTHING;
INSERT INTO leasemgr.park (region_id, code, name) SELECT id, 'BENCH', 'Bench' FROM leasemgr.region WHERE code = 'BENCH';
SELECT id AS park FROM leasemgr.park WHERE code = 'BENCH' \gset
INSERT INTO leasemgr.meter (park_id, code, kind, digits, installed_at)
SELECT :park, 'M' || n, 'electricity', 8, '2026-01-01 00:00+08' FROM generate_series(1, :meters) n;
SELECT leasemgr.meter_reading_partitions('2026-03-01', ('2026-03-01'::date + (:days + 40) * interval '1 day')::date);

-- The file: time-major, 15-minute steps from 2026-03-01; each meter's use varies with the
-- hour and the meter, and a few meters have one bad day (a spike) for the detector to find.
\set file '/tmp/leasemgr_bench_readings.copy'
COPY (
  SELECT :park, m.id, 'total', '2026-03-01 00:00+08'::timestamptz + s * interval '15 minutes',
         round((1000 + s * (0.1 + (m.id % 7) * 0.02) + (s / 96) * (m.id % 3)
                + CASE WHEN m.id % 97 = 0 AND s >= 96 * 60 THEN 500 ELSE 0 END)::numeric, 3), 'iot'
    FROM generate_series(0, :days * 96 - 1) s, leasemgr.meter m
   WHERE m.park_id = :park
   ORDER BY s, m.id
) TO :'file';

CREATE FUNCTION bench.load(target text, file text) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE
  t0 timestamptz := clock_timestamp();
BEGIN
  IF target = 'plain' THEN
    EXECUTE format('COPY bench.reading_plain (park_id, meter_id, register, read_at, value, source) FROM %L', file);
  ELSIF target = 'plain_idx' THEN
    EXECUTE format('COPY bench.reading_idx (park_id, meter_id, register, read_at, value, source) FROM %L', file);
  ELSE
    EXECUTE format('COPY leasemgr.meter_reading (park_id, meter_id, register, read_at, value, source) FROM %L', file);
  END IF;
  RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END
$$;

CREATE FUNCTION bench.clear() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  SET LOCAL session_replication_role = replica;    -- readings are never deleted, except here
  TRUNCATE leasemgr.meter_reading, bench.reading_plain, bench.reading_idx;
  DELETE FROM leasemgr.work_order;
  DELETE FROM leasemgr.anomaly;
END
$$;

CREATE FUNCTION bench.round(r int, park bigint, file text, days int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  t0 timestamptz;
  n bigint;
  found text;
BEGIN
  PERFORM bench.clear();
  CHECKPOINT;
  INSERT INTO bench.result VALUES (r, 'load', 'plain', bench.load('plain', file));
  CHECKPOINT;
  INSERT INTO bench.result VALUES (r, 'load', 'plain_idx', bench.load('plain_idx', file));
  CHECKPOINT;
  INSERT INTO bench.result VALUES (r, 'load', 'leasemgr', bench.load('leasemgr', file));
  ANALYZE leasemgr.meter_reading;

  t0 := clock_timestamp();
  SELECT count(*) INTO n FROM (
    SELECT meter_id, date_trunc('day', read_at), max(value) - min(value)
      FROM leasemgr.meter_reading WHERE park_id = park GROUP BY 1, 2) d;
  INSERT INTO bench.result VALUES (r, 'detect', 'plain', extract(epoch FROM clock_timestamp() - t0) * 1000,
                                   n || ' meter-days');
  t0 := clock_timestamp();
  SELECT string_agg(kind || ' ' || detected, ', ' ORDER BY kind) FILTER (WHERE detected > 0) INTO found
    FROM leasemgr.detect_anomalies(park, '2026-03-01 00:00+08', '2026-03-01 00:00+08'::timestamptz + days * interval '1 day');
  INSERT INTO bench.result VALUES (r, 'detect', 'leasemgr', extract(epoch FROM clock_timestamp() - t0) * 1000, found);
END
$$;

SELECT count(bench.round(r, :park, :'file', :days)) FROM generate_series(1, :rounds) r \gset

\echo readings per load:
SELECT count(*) AS readings FROM leasemgr.meter_reading;
\echo per round (ms):
SELECT way, round, round(max(ms) FILTER (WHERE target = 'plain')) AS plain_ms,
       round(max(ms) FILTER (WHERE target = 'plain_idx')) AS plain_idx_ms,
       round(max(ms) FILTER (WHERE target = 'leasemgr')) AS leasemgr_ms,
       round(max(ms) FILTER (WHERE target = 'leasemgr') / max(ms) FILTER (WHERE target = 'plain'), 2) AS ratio,
       round(max(ms) FILTER (WHERE target = 'leasemgr') / max(ms) FILTER (WHERE target = 'plain_idx'), 2) AS ratio_idx,
       max(note) FILTER (WHERE target = 'leasemgr') AS found
  FROM bench.result GROUP BY way, round ORDER BY way DESC, round;
SELECT pg_catalog.pg_size_pretty(pg_catalog.sum(pg_catalog.pg_total_relation_size(relid))) AS leasemgr_size
  FROM pg_catalog.pg_partition_tree('leasemgr.meter_reading');
SELECT pg_catalog.pg_size_pretty(pg_catalog.pg_total_relation_size('bench.reading_plain')) AS plain_size;
\! rm -f /tmp/leasemgr_bench_readings.copy
