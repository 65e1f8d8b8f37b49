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
-- malformed literals (22P02)
SELECT 'junk'::clcm.retention_matrix;
SELECT 'v1 period=month tz=UTC week_start=monday recurring=f revenue=f as_of=- end=0 first=0 last=0 complete=-1 size=1 active=2 lastk=1'::clcm.retention_matrix;
SELECT 'v1 period=month tz=Nowhere/Land week_start=monday recurring=f revenue=f as_of=- end=0 first=0 last=0 complete=-1 size=1 active=1 lastk=1'::clcm.retention_matrix;
SELECT 'v1 period=month tz=UTC week_start=monday recurring=f revenue=f as_of=- end=0 first=0 last=0 complete=-1 size=1 active=1 lastk=1'::clcm.retention_matrix;
SELECT 'v1 period=month tz=UTC week_start=monday recurring=f revenue=f as_of=- end=0 first=0 last=1 complete=-1 size=1 active=1 lastk=1'::clcm.retention_matrix;
SELECT 'v1 period=week tz=UTC week_start=monday recurring=f revenue=f as_of=- end=0 periods=5'::clcm.retention_activity;
SELECT 'v1 period=week tz=UTC week_start=monday recurring=f revenue=f as_of=- end=0 periods=-1'::clcm.retention_activity;
DROP TABLE err_tx;
