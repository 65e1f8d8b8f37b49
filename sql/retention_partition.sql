-- retention_partition: the one-call state buffers rows and folds them
-- into per-partition hash tables (src/cohort.c).  60,000 customers x 5
-- rows, in scrambled customer order, cross several folds, the split of
-- the single table into partitions and many table growths; every cell
-- must equal a plain SQL cohort query, for bigint, text and uuid ids,
-- head counts and revenue, one-call, two-level and parallel forms.
SET DateStyle = 'ISO, YMD';
SET max_parallel_workers_per_gather = 0;
-- id = i * 104729 mod 60000 visits every id once per 60,000 rows
CREATE TABLE part_tx AS
SELECT (i * 104729) % 60000 AS id,
       timestamptz '2022-01-01 00:00+00'
         + ((hashint8(i) & 65535) % 730) * interval '1 day'
         + (hashint8(-i) & 1023) * interval '1 minute' AS ts,
       ((hashint8(i) >> 20) & 255)::float8 AS amt
  FROM generate_series(1::bigint, 300000) AS i;
SELECT count(*) AS n_rows, count(DISTINCT id) AS customers,
       min(ts) AS first_ts, max(ts) AS last_ts FROM part_tx;

-- plain SQL: customers active per (cohort, offset), monthly and weekly
CREATE TABLE part_plain AS
WITH act AS (
  SELECT u, id, date_trunc(u, ts AT TIME ZONE 'UTC')::date AS m, sum(amt) AS rev
    FROM part_tx, (VALUES ('month'), ('week')) v(u) GROUP BY 1, 2, 3),
coh AS (SELECT u, id, m, rev, min(m) OVER (PARTITION BY u, id) AS c FROM act)
SELECT u, c AS cohort,
       CASE u WHEN 'month' THEN ((extract(year FROM m) - extract(year FROM c)) * 12
                                 + extract(month FROM m) - extract(month FROM c))::int
              ELSE (m - c) / 7 END AS period,
       count(*) AS active, sum(rev) AS revenue
  FROM coh GROUP BY 1, 2, 3;
CREATE TABLE part_size AS
SELECT u, cohort, active AS size FROM part_plain WHERE period = 0;

-- every observable clcm cell equals the plain count (0 where plain SQL has
-- no row), cohort sizes agree, and every plain cell is a clcm cell (NULL
-- only in the last, partial period)
CREATE FUNCTION part_check(u text, m clcm.retention_matrix)
RETURNS TABLE (cells bigint, unobservable bigint, customers numeric, differing bigint)
LANGUAGE sql AS $$
  SELECT count(*) FILTER (WHERE o.active IS NOT NULL),
         count(*) FILTER (WHERE o.period IS NOT NULL AND o.active IS NULL),
         sum(o.cohort_size) FILTER (WHERE o.period = 0),
         count(*) FILTER (WHERE o.period IS NULL
                          OR (o.active IS NOT NULL AND o.active <> coalesce(p.active, 0))
                          OR o.cohort_size <> s.size)
    FROM clcm.retention_table(m) o
    FULL JOIN (SELECT * FROM part_plain WHERE part_plain.u = part_check.u) p USING (cohort, period)
    LEFT JOIN (SELECT * FROM part_size WHERE part_size.u = part_check.u) s USING (cohort) $$;

SELECT 'month bigint' AS what, c.* FROM part_check('month', (SELECT clcm.retention(id, ts, 'month') FROM part_tx)) c
UNION ALL
SELECT 'month text', c.* FROM part_check('month', (SELECT clcm.retention(id::text, ts, 'month') FROM part_tx)) c
UNION ALL
SELECT 'month uuid', c.* FROM part_check('month', (SELECT clcm.retention(md5(id::text)::uuid, ts, 'month') FROM part_tx)) c
UNION ALL
SELECT 'week bigint', c.* FROM part_check('week', (SELECT clcm.retention(id, ts, 'week') FROM part_tx)) c
UNION ALL
SELECT 'week text', c.* FROM part_check('week', (SELECT clcm.retention(id::text, ts, 'week') FROM part_tx)) c
UNION ALL
SELECT 'week uuid', c.* FROM part_check('week', (SELECT clcm.retention(md5(id::text)::uuid, ts, 'week') FROM part_tx)) c;

-- revenue (integer amounts: sums are exact in any order) per cell
SELECT count(*) FILTER (WHERE o.revenue IS NOT NULL) AS cells,
       count(*) FILTER (WHERE o.period IS NULL
                        OR (o.revenue IS NOT NULL AND o.revenue <> coalesce(p.revenue, 0))) AS differing
  FROM clcm.retention_revenue_table((SELECT clcm.revenue_retention(id, ts, amt, 'month') FROM part_tx)) o
  FULL JOIN (SELECT * FROM part_plain WHERE u = 'month') p USING (cohort, period);

-- the same matrices by other paths: text and uuid ids, revenue with text
-- ids, recurring cohorts, the two-level form, a daily matrix (bitmaps of
-- up to 12 words, outside the entry)
CREATE TABLE part_serial AS
SELECT (SELECT clcm.retention(id, ts, 'week') FROM part_tx)::text AS week,
       (SELECT clcm.revenue_retention(id, ts, amt, 'month') FROM part_tx)::text AS revenue,
       (SELECT clcm.retention(id, ts, 'month', clcm.retention_options(recurring => true)) FROM part_tx)::text AS recurring,
       (SELECT clcm.retention(id, ts, 'day') FROM part_tx)::text AS day;
SELECT (SELECT clcm.retention(id::text, ts, 'week') FROM part_tx)::text = week AS text_week,
       (SELECT clcm.retention(md5(id::text)::uuid, ts, 'week') FROM part_tx)::text = week AS uuid_week,
       (SELECT clcm.retention(a) FROM (SELECT clcm.retention_activity(ts, 'week') a
          FROM part_tx GROUP BY id) s)::text = week AS two_level_week,
       (SELECT clcm.revenue_retention(id::text, ts, amt, 'month') FROM part_tx)::text = revenue AS text_revenue,
       (SELECT clcm.retention(md5(id::text)::uuid, ts, 'month', clcm.retention_options(recurring => true)) FROM part_tx)::text = recurring AS uuid_recurring,
       (SELECT clcm.retention(id::text, ts, 'day') FROM part_tx)::text = day AS text_day,
       (SELECT clcm.retention(a) FROM (SELECT clcm.retention_activity(ts, 'day') a
          FROM part_tx GROUP BY id) s)::text = day AS two_level_day
  FROM part_serial;

-- the compact state: bigint ids, head counts, every period within 64 (the
-- monthly matrix above) keeps customers in 16-byte entries; a period
-- outside its window turns it into the general form mid-scan.  Rows of
-- 2031 (after the window) or 2015 (before it) follow the 300,000 rows; the
-- text-id state, never compact, must give the same matrix.
CREATE TABLE part_late AS
SELECT id, ts + interval '9 years' AS ts FROM part_tx WHERE id % 1000 = 7;
CREATE TABLE part_early AS
SELECT id, ts - interval '7 years' AS ts FROM part_tx WHERE id % 1000 = 7;
SET client_min_messages = debug2;
SELECT (SELECT clcm.retention(id, ts, 'month') FROM
          (SELECT id, ts FROM part_tx UNION ALL SELECT id, ts FROM part_late) s)::text
     = (SELECT clcm.retention(id::text, ts, 'month') FROM
          (SELECT id, ts FROM part_tx UNION ALL SELECT id, ts FROM part_late) s)::text AS late_rows,
       (SELECT clcm.retention(id, ts, 'month') FROM
          (SELECT id, ts FROM part_tx UNION ALL SELECT id, ts FROM part_early) s)::text
     = (SELECT clcm.retention(id::text, ts, 'month') FROM
          (SELECT id, ts FROM part_tx UNION ALL SELECT id, ts FROM part_early) s)::text AS early_rows,
       (SELECT clcm.retention(id, ts, 'month', clcm.retention_options(recurring => true)) FROM part_tx)::text
     = recurring AS compact_recurring
  FROM part_serial;
-- a period outside the window that leaves every period seen within 64
-- moves the window instead (all bits of every entry shift): rows three
-- years later (2025-2026), or two years earlier (2020-2021); the window
-- then starts at the first period, or ends at the last
CREATE TABLE part_later AS
SELECT id, ts + interval '3 years' AS ts FROM part_tx WHERE id % 1000 = 7;
CREATE TABLE part_earlier AS
SELECT id, ts - interval '2 years' AS ts FROM part_tx WHERE id % 1000 = 7;
SELECT (SELECT clcm.retention(id, ts, 'month') FROM
          (SELECT id, ts FROM part_tx UNION ALL SELECT id, ts FROM part_later) s)::text
     = (SELECT clcm.retention(id::text, ts, 'month') FROM
          (SELECT id, ts FROM part_tx UNION ALL SELECT id, ts FROM part_later) s)::text AS later_rows,
       (SELECT clcm.retention(id, ts, 'month') FROM
          (SELECT id, ts FROM part_tx UNION ALL SELECT id, ts FROM part_earlier) s)::text
     = (SELECT clcm.retention(id::text, ts, 'month') FROM
          (SELECT id, ts FROM part_tx UNION ALL SELECT id, ts FROM part_earlier) s)::text AS earlier_rows;
RESET client_min_messages;
ALTER TABLE part_serial ADD COLUMN month text;
UPDATE part_serial SET month = (SELECT clcm.retention(id::text, ts, 'month') FROM part_tx)::text;

-- the inline row of a compact state (clcm_retention_sfunc) leaves every
-- other row to the general transition: NULL ids and timestamps, a period
-- argument that is a new datum on each row, as_of; it takes rows in a
-- zone other than UTC and with recurring cohorts.  Each bigint matrix
-- must equal the text-id state's, which is never compact.
CREATE TABLE part_mixed AS
SELECT CASE WHEN id % 89 = 0 AND ts > '2023-06-01' THEN NULL ELSE id END AS id,
       CASE WHEN id % 97 = 0 AND ts > '2023-09-01' THEN NULL ELSE ts END AS ts,
       CASE WHEN id % 2 = 0 THEN 'month' ELSE 'MONTH' END AS period
  FROM part_tx;
SELECT (SELECT clcm.retention(id, ts, 'month') FROM part_mixed)::text
     = (SELECT clcm.retention(id::text, ts, 'month') FROM part_mixed)::text AS null_rows,
       (SELECT clcm.retention(id, ts, lower(period)) FROM part_mixed)::text
     = (SELECT clcm.retention(id::text, ts, 'month') FROM part_mixed)::text AS period_datums,
       (SELECT clcm.retention(id, ts, 'month', clcm.retention_options(tz => 'America/New_York')) FROM part_mixed)::text
     = (SELECT clcm.retention(id::text, ts, 'month', clcm.retention_options(tz => 'America/New_York')) FROM part_mixed)::text AS zone,
       (SELECT clcm.retention(id, ts, 'month', clcm.retention_options(as_of => '2023-03-15 12:00+00')) FROM part_mixed)::text
     = (SELECT clcm.retention(id::text, ts, 'month', clcm.retention_options(as_of => '2023-03-15 12:00+00')) FROM part_mixed)::text AS as_of,
       (SELECT clcm.retention(id, ts, 'month', clcm.retention_options(recurring => true)) FROM part_mixed)::text
     = (SELECT clcm.retention(id::text, ts, 'month', clcm.retention_options(recurring => true)) FROM part_mixed)::text AS recurring;
-- and the NULL rows were skipped, not counted: the cohort sizes sum to
-- the customers with a non-NULL id and timestamp
SELECT sum(cohort_size) FILTER (WHERE period = 0) = (SELECT count(DISTINCT id) FROM part_mixed WHERE ts IS NOT NULL) AS sizes
  FROM clcm.retention_table((SELECT clcm.retention(id, ts, 'month') FROM part_mixed));
DROP TABLE part_mixed;

-- parallel: each worker's state is partitioned, serialized, deserialized
-- and combined by the leader; the results equal the serial ones
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT clcm.retention(id::text, ts, 'week') FROM part_tx;
SELECT (SELECT clcm.retention(id, ts, 'week') FROM part_tx)::text = week AS par_week,
       (SELECT clcm.retention(md5(id::text)::uuid, ts, 'week') FROM part_tx)::text = week AS par_uuid_week,
       (SELECT clcm.revenue_retention(id, ts, amt, 'month') FROM part_tx)::text = revenue AS par_revenue,
       (SELECT clcm.retention(id::text, ts, 'day') FROM part_tx)::text = day AS par_text_day,
       (SELECT clcm.retention(id, ts, 'month') FROM part_tx)::text = month AS par_compact_month
  FROM part_serial;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
DROP FUNCTION part_check(text, clcm.retention_matrix);
DROP TABLE part_tx, part_plain, part_size, part_serial, part_late, part_early,
  part_later, part_earlier;
