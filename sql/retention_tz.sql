-- retention_tz: period boundaries in a time zone, across DST changes, and
-- a week start on Sunday.  Expected periods are worked out by hand below.
SET DateStyle = 'ISO, YMD';
CREATE TABLE tz_tx (id bigint, ts timestamptz);
INSERT INTO tz_tx VALUES
  -- Europe/Berlin: 2024-02-29 23:30 UTC is 2024-03-01 00:30 CET (+01):
  -- March in Berlin, February in UTC
  (1, '2024-02-29 23:30+00'),
  -- 2024-03-31 22:30 UTC is 2024-04-01 00:30 CEST (+02, after the spring
  -- change of 2024-03-31): April in Berlin, March in UTC
  (1, '2024-03-31 22:30+00'),
  -- 2024-03-31 21:59 UTC is 2024-03-31 23:59 CEST: still March in Berlin
  (2, '2024-03-31 21:59+00'),
  -- 2024-10-31 23:30 UTC is 2024-11-01 00:30 CET (+01, after the autumn
  -- change of 2024-10-27): November in Berlin, October in UTC
  (2, '2024-10-31 23:30+00');

-- cohorts and periods in UTC and in Berlin
SELECT 'UTC' AS zone, r.cohort, r.period, r.cohort_size, r.active
  FROM clcm.retention_table((SELECT clcm.retention(id, ts, 'month',
         clcm.retention_options(as_of => '2024-12-01 00:00+00')) FROM tz_tx)) r
 WHERE r.active > 0 ORDER BY 2, 3;
SELECT 'Berlin' AS zone, r.cohort, r.period, r.cohort_size, r.active
  FROM clcm.retention_table((SELECT clcm.retention(id, ts, 'month',
         clcm.retention_options('Europe/Berlin', as_of => '2024-12-01 00:00+01')) FROM tz_tx)) r
 WHERE r.active > 0 ORDER BY 2, 3;
-- the activity values show the period indexes: 2024-03 is 24 * 12 + 2 = 290
SELECT id, clcm.retention_activity(ts, 'month', clcm.retention_options('Europe/Berlin')) FROM tz_tx
 GROUP BY id ORDER BY id;

-- America/New_York, spring change on Sunday 2024-03-10 at 02:00 EST (-05)
-- to 03:00 EDT (-04); days end at local midnight on both sides
CREATE TABLE ny_tx (id bigint, ts timestamptz);
INSERT INTO ny_tx VALUES
  (1, '2024-03-10 04:59+00'),	-- 2024-03-09 23:59 EST: Saturday 03-09
  (1, '2024-03-10 05:00+00'),	-- 2024-03-10 00:00 EST: Sunday 03-10
  (2, '2024-03-11 03:59+00'),	-- 2024-03-10 23:59 EDT: Sunday 03-10
  (2, '2024-03-11 04:00+00'),	-- 2024-03-11 00:00 EDT: Monday 03-11
  (3, '2024-03-16 12:00+00');	-- Saturday 03-16: the data end
SELECT r.cohort, r.period, r.cohort_size, r.active
  FROM clcm.retention_table((SELECT clcm.retention(id, ts, 'day',
         clcm.retention_options('America/New_York')) FROM ny_tx)) r
 WHERE r.period <= 1 ORDER BY 1, 2;
-- weeks from Sunday: Sat 03-09 and Sun 03-10 fall in different weeks
-- (weeks of 03-03 and 03-10); weeks from Monday: the same week (of 03-04)
SELECT 'sunday' AS week_start, r.cohort, r.period, r.cohort_size, r.active
  FROM clcm.retention_table((SELECT clcm.retention(id, ts, 'week',
         clcm.retention_options('America/New_York', 'sunday')) FROM ny_tx)) r
 ORDER BY 2, 3;
SELECT 'monday' AS week_start, r.cohort, r.period, r.cohort_size, r.active
  FROM clcm.retention_table((SELECT clcm.retention(id, ts, 'week',
         clcm.retention_options('America/New_York', 'monday')) FROM ny_tx)) r
 ORDER BY 2, 3;
-- in UTC the first two events are both on 03-10 (Sunday)
SELECT r.cohort, r.period, r.cohort_size, r.active
  FROM clcm.retention_table((SELECT clcm.retention(id, ts, 'day') FROM ny_tx)) r
 WHERE r.period <= 1 ORDER BY 1, 2;

-- the period of every event agrees with date_trunc in that zone (hourly
-- timestamps over two years, across four DST changes per zone)
CREATE TABLE tz_hours AS
SELECT row_number() OVER () AS id, ts
  FROM generate_series(timestamptz '2023-01-01 00:00+00', '2024-12-31 23:00+00', interval '7 hours') ts;
SELECT zone, u,
       (SELECT count(*) FROM clcm.retention_table((SELECT clcm.retention(id, ts, u,
          clcm.retention_options(zone, 'sunday')) FROM tz_hours)) r WHERE r.period = 0)
     = (SELECT count(DISTINCT CASE WHEN u = 'week'
                 THEN (date_trunc('week', (ts AT TIME ZONE zone) + interval '1 day') - interval '1 day')::date
                 ELSE date_trunc(u, ts AT TIME ZONE zone)::date END)
          FROM tz_hours) AS cohorts_agree,
       (SELECT array_agg(r.cohort_size ORDER BY r.cohort) FROM clcm.retention_table((SELECT clcm.retention(id, ts, u,
          clcm.retention_options(zone, 'sunday')) FROM tz_hours)) r WHERE r.period = 0)
     = (SELECT array_agg(n ORDER BY c) FROM (
          SELECT CASE WHEN u = 'week'
                   THEN (date_trunc('week', (ts AT TIME ZONE zone) + interval '1 day') - interval '1 day')::date
                   ELSE date_trunc(u, ts AT TIME ZONE zone)::date END AS c, count(*) AS n
            FROM tz_hours GROUP BY 1) s) AS sizes_agree
  FROM (VALUES ('Europe/Berlin'), ('America/New_York'), ('Asia/Kolkata'), ('UTC')) z(zone),
       (VALUES ('day'), ('week'), ('month')) p(u)
 ORDER BY 1, 2;

-- observability uses the zone's period end: data ending at 2024-03-31
-- 23:59:59.999999 Berlin time completes March there
SELECT r.cohort, r.period, r.active
  FROM clcm.retention_table((SELECT clcm.retention(1::bigint, ts, 'month',
         clcm.retention_options('Europe/Berlin'))
    FROM (VALUES (timestamptz '2024-02-10 12:00+01'), ('2024-03-31 23:59:59.999999+02')) v(ts))) r
 ORDER BY 1, 2;
SELECT r.cohort, r.period, r.active
  FROM clcm.retention_table((SELECT clcm.retention(1::bigint, ts, 'month',
         clcm.retention_options('Europe/Berlin'))
    FROM (VALUES (timestamptz '2024-02-10 12:00+01'), ('2024-03-31 23:59:59.999998+02')) v(ts))) r
 ORDER BY 1, 2;
DROP TABLE tz_tx, ny_tx, tz_hours;
