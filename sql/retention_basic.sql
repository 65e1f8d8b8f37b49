-- retention_basic: a small example checked by hand, the table modes,
-- as_of, recurring and revenue variants, bigint/text/uuid ids, the
-- two-level form, merging, and the text and binary forms of the types.
SET DateStyle = 'ISO, YMD';
CREATE TABLE ret_tx (id bigint, ts timestamptz, amt float8);
-- customer 1: Jan, Feb, Apr 2024; 2: Jan, Mar; 3: Feb (twice); 4: Apr 15
-- (the latest event, so April is the last, incomplete month)
INSERT INTO ret_tx VALUES
  (1, '2024-01-05 10:00+00', 10), (1, '2024-02-05 10:00+00', 5),
  (1, '2024-04-01 10:00+00', 1), (2, '2024-01-20 10:00+00', 3),
  (2, '2024-03-01 10:00+00', 4), (3, '2024-02-10 10:00+00', 7),
  (3, '2024-02-11 10:00+00', 1), (4, '2024-04-15 10:00+00', 2),
  (NULL, '2024-01-01 10:00+00', 100), (5, NULL, 100);

-- classic: Jan cohort {1,2}: Feb 1 (customer 1), Mar 1 (customer 2), Apr
-- not observable (NULL); Feb cohort {3}: Mar 0; Apr cohort {4}: NULL.
-- Rows with a NULL id or timestamp are skipped.
SELECT r.* FROM clcm.retention_table((SELECT clcm.retention(id, ts) FROM ret_tx)) r
 ORDER BY cohort, period;
-- unbounded: active in the period or later: Jan cohort 2, 2 (1 in Apr, 2 in Mar)
SELECT r.* FROM clcm.retention_table((SELECT clcm.retention(id, ts) FROM ret_tx), 'unbounded') r
 ORDER BY cohort, period;
-- as_of 2024-05-01: April is complete now; events at or after as_of are ignored
SELECT r.* FROM clcm.retention_table((SELECT clcm.retention(id, ts, 'month',
         clcm.retention_options(as_of => '2024-05-01 00:00+00')) FROM ret_tx)) r
 ORDER BY cohort, period;
SELECT r.* FROM clcm.retention_table((SELECT clcm.retention(id, ts, 'month',
         clcm.retention_options(as_of => '2024-04-01 10:00+00')) FROM ret_tx)) r
 ORDER BY cohort, period;
-- recurring: Feb cohort = customers active in Feb {1,3}: Mar 0, Apr 1 (customer 1);
-- Mar cohort {2}; Apr cohort {1,4}
SELECT r.* FROM clcm.retention_table((SELECT clcm.retention(id, ts, 'month',
         clcm.retention_options(as_of => '2024-05-01 00:00+00', recurring => true)) FROM ret_tx)) r
 ORDER BY cohort, period;
-- revenue: Jan cohort 10 + 3 = 13, Feb 5, Mar 4; Feb cohort 7 + 1 = 8, Mar 0
SELECT r.* FROM clcm.retention_revenue_table((SELECT clcm.revenue_retention(id, ts, amt) FROM ret_tx)) r
 ORDER BY cohort, period;
-- unbounded revenue: revenue in the period or later: Jan cohort 13+5+4+1
SELECT r.* FROM clcm.retention_revenue_table((SELECT clcm.revenue_retention(id, ts, amt, 'month',
         clcm.retention_options(as_of => '2024-05-01 00:00+00')) FROM ret_tx), 'unbounded') r
 ORDER BY cohort, period;
-- quarters and years
SELECT r.* FROM clcm.retention_table((SELECT clcm.retention(id, ts, 'quarter') FROM ret_tx)) r
 ORDER BY cohort, period;
SELECT r.* FROM clcm.retention_table((SELECT clcm.retention(id, ts, 'year',
         clcm.retention_options(as_of => '2025-01-01 00:00+00')) FROM ret_tx)) r
 ORDER BY cohort, period;
-- weeks start on monday by default: 2024-01-05 (Fri) is in the week of 2024-01-01
SELECT cohort, count(*) AS periods FROM clcm.retention_table((SELECT clcm.retention(id, ts, 'week') FROM ret_tx))
 GROUP BY cohort ORDER BY cohort;

-- text and uuid ids give the same matrix as bigint ids
SELECT (SELECT clcm.retention(id, ts, 'day')::text FROM ret_tx)
     = (SELECT clcm.retention('c' || id, ts, 'day')::text FROM ret_tx) AS text_ids_same,
       (SELECT clcm.retention(id, ts, 'day')::text FROM ret_tx)
     = (SELECT clcm.retention(md5(id::text)::uuid, ts, 'day')::text FROM ret_tx) AS uuid_ids_same,
       (SELECT clcm.revenue_retention(id, ts, amt, 'week')::text FROM ret_tx)
     = (SELECT clcm.revenue_retention(md5(id::text)::uuid, ts, amt, 'week')::text FROM ret_tx) AS uuid_revenue_same;

-- the two-level form equals the one-call form
SELECT clcm.retention_activity(ts, 'month') FROM ret_tx WHERE id IS NOT NULL GROUP BY id ORDER BY id;
SELECT clcm.revenue_activity(ts, amt, 'month') FROM ret_tx WHERE id = 1 GROUP BY id;
SELECT (SELECT clcm.retention(a) FROM (SELECT clcm.retention_activity(ts, 'week') a FROM ret_tx
          WHERE id IS NOT NULL GROUP BY id) s)::text
     = (SELECT clcm.retention(id, ts, 'week')::text FROM ret_tx) AS two_level_same,
       (SELECT clcm.retention(a) FROM (SELECT clcm.revenue_activity(ts, amt, 'month',
          clcm.retention_options(recurring => true)) a FROM ret_tx WHERE id IS NOT NULL GROUP BY id) s)::text
     = (SELECT clcm.revenue_retention(id, ts, amt, 'month',
          clcm.retention_options(recurring => true))::text FROM ret_tx) AS two_level_revenue_same;

-- merging matrices of disjoint customer sets gives the matrix of all
SELECT (SELECT clcm.retention_merge(m) FROM (
          SELECT clcm.retention(id, ts, 'day') m FROM ret_tx GROUP BY id % 2) s)::text
     = (SELECT clcm.retention(id, ts, 'day')::text FROM ret_tx) AS merge_same;
SELECT clcm.retention_merge(m) IS NULL AS merge_of_nothing FROM (SELECT NULL::clcm.retention_matrix m) s;

-- the text form round-trips exactly
SELECT clcm.retention(id, ts) FROM ret_tx;
SELECT m::text::clcm.retention_matrix::text = m::text AS matrix_round_trip
  FROM (SELECT clcm.revenue_retention(id, ts, amt * 0.1, 'week',
          clcm.retention_options('Europe/Berlin', 'sunday', '2024-06-01', true)) m FROM ret_tx) s;
SELECT a::text::clcm.retention_activity::text = a::text AS activity_round_trip
  FROM (SELECT clcm.revenue_activity(ts, amt / 3, 'day') a FROM ret_tx WHERE id = 1) s;

-- binary COPY round trip
CREATE TABLE ret_bin (m clcm.retention_matrix, a clcm.retention_activity);
INSERT INTO ret_bin
SELECT (SELECT clcm.revenue_retention(id, ts, amt / 7, 'week') FROM ret_tx),
       clcm.revenue_activity(ts, amt / 7, 'week') FROM ret_tx WHERE id IS NOT NULL GROUP BY id;
\copy ret_bin TO 'results/retention_bin.data' WITH (FORMAT binary)
CREATE TABLE ret_bin2 (LIKE ret_bin);
\copy ret_bin2 FROM 'results/retention_bin.data' WITH (FORMAT binary)
SELECT count(*) AS rows,
       bool_and(b.m::text = c.m::text) AS matrices_equal
  FROM (SELECT m, a::text AS a FROM ret_bin) b JOIN (SELECT m, a::text AS a FROM ret_bin2) c USING (a);

-- empty input gives NULL
SELECT clcm.retention(id, ts) IS NULL AS empty_is_null FROM ret_tx WHERE false;
SELECT clcm.retention_activity(ts) IS NULL AS empty_activity_is_null FROM ret_tx WHERE false;
SELECT clcm.retention(id, ts, 'month', clcm.retention_options(as_of => '2000-01-01')) IS NULL
       AS all_after_as_of_is_null FROM ret_tx;
DROP TABLE ret_tx, ret_bin, ret_bin2;
