-- rfm_parallel: clcm.rfm_summary and clcm.clv_historic run as partial
-- aggregates in parallel workers (states cross process boundaries through
-- the state type) and give the same results as serial plans.
SET TimeZone = 'Europe/Paris';
SELECT setseed(0.7);
CREATE TABLE rfm_p AS
SELECT (i % 500) AS cust,
       '2022-01-01'::timestamptz + (random() * 700 || ' days')::interval AS ts,
       round((random() * 200)::numeric, 2) AS amount
  FROM generate_series(1, 40000) i;
ANALYZE rfm_p;

-- serial results
SET max_parallel_workers_per_gather = 0;
CREATE TABLE rfm_serial AS
SELECT cust, clcm.rfm_summary(ts, amount, '2023-06-30', 'week') AS s,
       clcm.clv_historic(amount, ts, 0.3, 0.1, '2023-12-31') AS h
  FROM rfm_p GROUP BY cust;
CREATE TABLE rfm_serial7 AS
SELECT cust % 7 AS g, clcm.rfm_summary(ts, amount, '2023-06-30', 'week') AS s
  FROM rfm_p GROUP BY 1;
CREATE TABLE rfm_serial_all AS
SELECT clcm.rfm_summary(ts, amount, '2023-06-30', 'month') AS s,
       clcm.clv_historic(amount, ts, 0.3, 0.1, '2023-12-31') AS h
  FROM rfm_p;

SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;

-- one group: Partial Aggregate in the workers, Finalize in the leader
EXPLAIN (COSTS OFF)
SELECT clcm.rfm_summary(ts, amount, '2023-06-30', 'month'),
       clcm.clv_historic(amount, ts, 0.3, 0.1, '2023-12-31')
  FROM rfm_p;
SELECT p.s = a.s AS summary_identical,
       abs(p.h - a.h) / a.h < 1e-12 AS historic_equal
  FROM (SELECT clcm.rfm_summary(ts, amount, '2023-06-30', 'month') AS s,
               clcm.clv_historic(amount, ts, 0.3, 0.1, '2023-12-31') AS h
          FROM rfm_p) p, rfm_serial_all a;

-- grouped by customer (partial aggregation per worker, then combine)
SET enable_hashagg = off;
EXPLAIN (COSTS OFF)
SELECT cust, clcm.rfm_summary(ts, amount, '2023-06-30', 'week')
  FROM rfm_p GROUP BY cust;
SELECT count(*) AS customers,
       count(*) FILTER (WHERE p.s IS NOT DISTINCT FROM r.s) AS identical,
       count(*) FILTER (WHERE abs(p.h - r.h) <= 1e-9 * r.h) AS historic_equal
  FROM (SELECT cust, clcm.rfm_summary(ts, amount, '2023-06-30', 'week') AS s,
               clcm.clv_historic(amount, ts, 0.3, 0.1, '2023-12-31') AS h
          FROM rfm_p GROUP BY cust) p
  JOIN rfm_serial r USING (cust);
RESET enable_hashagg;

-- few large groups, hashed: each worker's states hold many days
EXPLAIN (COSTS OFF)
SELECT cust % 7 AS g, clcm.rfm_summary(ts, amount, '2023-06-30', 'week')
  FROM rfm_p GROUP BY 1;
SELECT count(*) AS groups, count(*) FILTER (WHERE p.s = r.s) AS identical
  FROM (SELECT cust % 7 AS g, clcm.rfm_summary(ts, amount, '2023-06-30', 'week') AS s
          FROM rfm_p GROUP BY 1) p
  JOIN rfm_serial7 r USING (g);

RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
RESET enable_hashagg;
DROP TABLE rfm_p, rfm_serial, rfm_serial7, rfm_serial_all;
RESET TimeZone;
