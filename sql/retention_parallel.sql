-- retention_parallel: the aggregates run as partial aggregates under
-- parallel query and give the same results as a serial run.
SET DateStyle = 'ISO, YMD';
SELECT setseed(0.77);
CREATE TABLE par_tx AS
SELECT (random() * 3000)::bigint AS id,
       timestamptz '2023-01-01 00:00+00' + random() * interval '400 days' AS ts,
       round((random() * 20)::numeric)::float8 AS amt,
       random() * 100 AS dur, random() < 0.7 AS obs
  FROM generate_series(1, 30000);
ANALYZE par_tx;
-- serial results
SET max_parallel_workers_per_gather = 0;
CREATE TABLE par_serial AS
SELECT (SELECT clcm.retention(id, ts, 'week') FROM par_tx)::text AS one_call,
       (SELECT clcm.retention(id::text, ts, 'month', clcm.retention_options(recurring => true)) FROM par_tx)::text AS text_ids,
       (SELECT clcm.revenue_retention(id, ts, amt, 'month') FROM par_tx)::text AS revenue,
       (SELECT clcm.retention_merge(m) FROM (SELECT clcm.retention(id, ts, 'day') m FROM par_tx GROUP BY id % 7) s)::text AS merged,
       (SELECT clcm.survival(dur, obs) FROM par_tx)::text AS curve;
-- forced parallel plans
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT clcm.retention(id, ts, 'week') FROM par_tx;
EXPLAIN (COSTS OFF) SELECT clcm.survival(dur, obs) FROM par_tx;
EXPLAIN (COSTS OFF) SELECT clcm.retention(a) FROM (SELECT clcm.retention_activity(ts) a FROM par_tx GROUP BY id) s;
SELECT (SELECT clcm.retention(id, ts, 'week') FROM par_tx)::text = one_call AS one_call_same,
       (SELECT clcm.retention(id::text, ts, 'month', clcm.retention_options(recurring => true)) FROM par_tx)::text = text_ids AS text_ids_same,
       (SELECT clcm.revenue_retention(id, ts, amt, 'month') FROM par_tx)::text = revenue AS revenue_same,
       (SELECT clcm.retention_merge(m) FROM (SELECT clcm.retention(id, ts, 'day') m FROM par_tx GROUP BY id % 7) s)::text = merged AS merged_same,
       (SELECT clcm.survival(dur, obs) FROM par_tx)::text = curve AS curve_same
  FROM par_serial;
-- the level-2 aggregate over stored activities, in parallel
CREATE TABLE par_act AS SELECT clcm.retention_activity(ts, 'week') AS a FROM par_tx GROUP BY id;
ANALYZE par_act;
EXPLAIN (COSTS OFF) SELECT clcm.retention(a) FROM par_act;
SELECT (SELECT clcm.retention(a) FROM par_act)::text = one_call AS two_level_parallel_same FROM par_serial;
RESET parallel_setup_cost;
-- a large state (70,001 customers, 20,000 rows of one of them at the end)
-- grows its table many times while rows are batched;
-- the two-level form and text ids take other paths.
SET max_parallel_workers_per_gather = 0;
CREATE TABLE big_tx AS
SELECT (i % 70000)::bigint AS id,
       timestamptz '2023-01-01 00:00+00' + ((i * 7919) % 500) * interval '1 day' AS ts
  FROM generate_series(1, 140000) AS i
UNION ALL
SELECT 42, timestamptz '2023-01-01 00:00+00' + (i % 700) * interval '1 day'
  FROM generate_series(1, 20000) AS i;
SELECT (SELECT clcm.retention(id, ts, 'week') FROM big_tx)::text
     = (SELECT clcm.retention(a) FROM (SELECT clcm.retention_activity(ts, 'week') a
          FROM big_tx GROUP BY id) s)::text AS bucketed_same_as_two_level,
       (SELECT clcm.retention(id, ts, 'week') FROM big_tx)::text
     = (SELECT clcm.retention(id::text, ts, 'week') FROM big_tx)::text AS bucketed_same_as_text_ids;
DROP TABLE big_tx;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
DROP TABLE par_tx, par_serial, par_act;
