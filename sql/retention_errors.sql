-- retention_errors: bad input gets a clear error (SQLSTATEs are checked in
-- test/pgtap/030_retention.sql) or a documented NULL.
\set VERBOSITY default
SET DateStyle = 'ISO, YMD';
CREATE TABLE err_tx (id bigint, ts timestamptz, amt float8);
INSERT INTO err_tx VALUES (1, '2024-01-01 00:00+00', 1), (2, '2024-02-01 00:00+00', 2);
-- unrecognized period (22023)
SELECT clcm.retention(id, ts, 'fortnight') FROM err_tx;
-- NULL period (22004)
SELECT clcm.retention(id, ts, NULL) FROM err_tx;
-- period changing within a group (22023)
SELECT clcm.retention(id, ts, CASE WHEN id = 1 THEN 'month' ELSE 'week' END) FROM err_tx;
-- unrecognized time zone and week start (22023), also when validated early
SELECT clcm.retention_options('Mars/Olympus');
SELECT clcm.retention_options(week_start => 'funday');
SELECT clcm.retention(id, ts, 'week', ROW('UTC', 'caturday', NULL, false)::clcm.retention_options) FROM err_tx;
-- infinite as_of (22023); infinite timestamps (22008)
SELECT clcm.retention_options(as_of => 'infinity');
SELECT clcm.retention(id, ts) FROM (VALUES (1::bigint, timestamptz 'infinity')) v(id, ts);
SELECT clcm.retention(id, ts) FROM (VALUES (1::bigint, timestamptz '-infinity')) v(id, ts);
-- non-finite amounts (22023); a NULL amount counts activity without revenue
SELECT clcm.revenue_retention(id, ts, 'NaN') FROM err_tx;
SELECT clcm.revenue_retention(id, ts, 'infinity') FROM err_tx;
SELECT cohort, period, cohort_size, cohort_revenue, revenue
  FROM clcm.retention_revenue_table((SELECT clcm.revenue_retention(id, ts, NULL::float8, 'month',
         clcm.retention_options(as_of => '2024-03-01 00:00+00')) FROM err_tx)) ORDER BY 1, 2;
-- unrecognized mode (22023); revenue table of a head-count matrix (22023)
SELECT * FROM clcm.retention_table((SELECT clcm.retention(id, ts) FROM err_tx), 'bounded');
SELECT * FROM clcm.retention_revenue_table((SELECT clcm.retention(id, ts) FROM err_tx));
-- merging matrices with different options (22023)
SELECT clcm.retention_merge(m) FROM (
  SELECT clcm.retention(id, ts, 'month') m FROM err_tx
  UNION ALL SELECT clcm.retention(id, ts, 'week') FROM err_tx) s;
-- a day matrix spanning 9000 years is too large (54000)
SELECT clcm.retention(id, ts, 'day') FROM (VALUES (1::bigint, timestamptz '1000-01-01 00:00+00'),
  (2, '9999-01-01 00:00+00')) v(id, ts);
-- one customer spanning a century of days: refused as soon as it is seen
SELECT clcm.retention(1::bigint, ts, 'day') FROM (VALUES (timestamptz '2000-01-01 00:00+00'),
  ('2100-01-01 00:00+00')) v(ts);
SELECT clcm.retention_activity(ts, 'day') FROM (VALUES (timestamptz '2000-01-01 00:00+00'),
  ('2100-01-01 00:00+00')) v(ts);
-- malformed literals (22P02)
SELECT 'junk'::clcm.retention_matrix;
SELECT 'v1 period=month tz=UTC week_start=monday recurring=f revenue=f as_of=- end=0 first=0 last=0 complete=-1 size=1 active=2 lastk=1'::clcm.retention_matrix;
SELECT 'v1 period=month tz=Nowhere/Land week_start=monday recurring=f revenue=f as_of=- end=0 first=0 last=0 complete=-1 size=1 active=1 lastk=1'::clcm.retention_matrix;
SELECT 'v1 period=month tz=UTC week_start=monday recurring=f revenue=f as_of=- end=0 first=0 last=0 complete=-1 size=1 active=1 lastk=1'::clcm.retention_matrix;
SELECT 'v1 period=month tz=UTC week_start=monday recurring=f revenue=f as_of=- end=0 first=0 last=1 complete=-1 size=1 active=1 lastk=1'::clcm.retention_matrix;
SELECT 'v1 period=week tz=UTC week_start=monday recurring=f revenue=f as_of=- end=0 periods=5'::clcm.retention_activity;
SELECT 'v1 period=week tz=UTC week_start=monday recurring=f revenue=f as_of=- end=0 periods=-1'::clcm.retention_activity;
DROP TABLE err_tx;

-- harden-8: a last-activity count above the cohort size is refused (22P02);
-- this one would wrap around to the size 2 if the counts were summed first
SELECT 'v1 period=month tz=UTC week_start=monday recurring=f revenue=f as_of=- end=766490400000000 first=288 last=291 complete=290 size=2,1,0,1 active=2,1,1,1,1,0,0,0,0,1 lastk=9223372036854775807,9223372036854775807,2,2,1,0,0,0,0,1'::clcm.retention_matrix;
-- the same matrix with honest counts is accepted
SELECT 'v1 period=month tz=UTC week_start=monday recurring=f revenue=f as_of=- end=766490400000000 first=288 last=291 complete=290 size=2,1,0,1 active=2,1,1,1,1,0,0,0,0,1 lastk=0,0,1,1,1,0,0,0,0,1'::clcm.retention_matrix IS NOT NULL AS accepted;
-- merged cohort sizes that leave bigint (22003)
SELECT clcm.retention_merge(m) FROM (SELECT 'v1 period=month tz=UTC week_start=monday recurring=f revenue=f as_of=- end=0 first=0 last=0 complete=-1 size=9223372036854775807 active=9223372036854775807 lastk=9223372036854775807'::clcm.retention_matrix m
  FROM generate_series(1, 2)) s;

-- harden-9: subnormal amounts print and read back (dump and restore)
SELECT clcm.revenue_activity(timestamptz '2024-01-01 00:00+00', 1e-310, 'day')::text AS activity;
SELECT a::text::clcm.retention_activity::text = a::text AS activity_round_trip
  FROM (SELECT clcm.revenue_activity(timestamptz '2024-01-01 00:00+00', 1e-310, 'day') a) s;
SELECT clcm.revenue_retention(1::bigint, timestamptz '2024-01-01 00:00+00', 1e-310, 'day')::text AS matrix;
SELECT m::text::clcm.retention_matrix::text = m::text AS matrix_round_trip
  FROM (SELECT clcm.revenue_retention(id, ts, amt, 'day') m
          FROM (VALUES (1::bigint, timestamptz '2024-01-01 00:00+00', 4.9e-324::float8),
                       (2, '2024-01-02 00:00+00', 2.2250738585072014e-308)) v(id, ts, amt)) s;
-- an amount that underflows to zero is still refused (22P02)
SELECT 'v1 period=day tz=UTC week_start=monday recurring=f revenue=t as_of=- end=757382400000000 periods=8766 amounts=8766:1e-400'::clcm.retention_activity;

-- harden-5: clcm.retention_matrix_add and clcm.retention_matrix_combine
-- work as plain functions and never modify their arguments
CREATE TABLE ret_plain AS
  SELECT clcm.retention(a) AS m
    FROM (SELECT clcm.retention_activity(ts, 'day') a
            FROM (VALUES (1, timestamptz '2024-01-01 10:00+00'), (1, '2024-01-02 10:00+00'),
                         (2, '2024-01-02 11:00+00')) v(id, ts) GROUP BY id) s;
CREATE TABLE ret_plain_act AS
  SELECT clcm.retention_activity(ts, 'day') AS a
    FROM (VALUES (timestamptz '2024-01-01 12:00+00'), ('2024-01-03 09:00+00')) v(ts);
SELECT m::text AS before FROM ret_plain;
SELECT clcm.retention_matrix_add(m, a)::text AS added FROM ret_plain, ret_plain_act;
SELECT clcm.retention_matrix_combine(m, m)::text AS doubled FROM ret_plain;
SELECT m::text AS unchanged FROM ret_plain;
SELECT clcm.retention_matrix_add(NULL, a)::text AS from_null FROM ret_plain_act;
SELECT clcm.retention_matrix_add(m, NULL)::text = m::text AS null_activity_skipped FROM ret_plain;
-- the plain call equals the aggregate over all three customers
SELECT clcm.retention_matrix_add(m, a)::text =
       (SELECT clcm.retention(a)::text FROM (
          SELECT clcm.retention_activity(ts, 'day') a
            FROM (VALUES (1, timestamptz '2024-01-01 10:00+00'), (1, '2024-01-02 10:00+00'),
                         (2, '2024-01-02 11:00+00'), (3, '2024-01-01 12:00+00'),
                         (3, '2024-01-03 09:00+00')) v(id, ts) GROUP BY id) s) AS same_as_aggregate
  FROM ret_plain, ret_plain_act;
DROP TABLE ret_plain, ret_plain_act;
-- support functions with an internal state cannot be called from SQL at
-- all: no SQL expression has type internal (42846 from the parser)
SELECT clcm.retention_sfunc(NULL::internal, 1::bigint, timestamptz '2024-01-01 00:00+00');
SELECT clcm.retention_final(NULL::internal);
