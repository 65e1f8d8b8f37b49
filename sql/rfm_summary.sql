-- rfm_summary: definitions of clcm.rfm_summary checked on hand-worked
-- cases, units, overloads, time zones, order independence, the state type.
SET TimeZone = 'UTC';
SET extra_float_digits = 0;

CREATE TABLE rfm_t (cust int, ts timestamptz, amount numeric);
-- customer 1: two rows on 2024-01-01 (one day), then 01-15, 02-01 (two rows,
-- one of $0), and 03-10 which is after the observation end.
-- customer 2: one purchase only.  customer 3: only after the end.
INSERT INTO rfm_t VALUES
  (1, '2024-01-01 10:00', 10), (1, '2024-01-01 18:00', 5),
  (1, '2024-01-15 12:00', 20), (1, '2024-02-01 09:00', 30),
  (1, '2024-02-01 23:59:59', 0), (1, '2024-03-10 08:00', 40),
  (2, '2024-02-20 08:00', 99.99),
  (3, '2024-04-01 08:00', 5);

-- by hand, customer 1 (end day 2024-03-01): days 01-01, 01-15, 02-01:
-- frequency 2, recency 31 days, t 60 days (leap year), monetary (20+30)/2 = 25
-- customer 2: frequency 0, recency 0, t 10, monetary 0; customer 3: NULL
SELECT cust, (clcm.rfm_summary(ts, amount, '2024-03-01')).*
  FROM rfm_t GROUP BY cust ORDER BY cust;

-- units: week = 7 days, month = 30.4375, year = 365.25
SELECT u, (s).frequency, round((s).recency::numeric, 10) AS recency,
       round((s).t::numeric, 10) AS t, (s).monetary,
       (s).recency = 31 / d AS recency_exact, (s).t = 60 / d AS t_exact
  FROM (VALUES ('day', 1::float8), ('week', 7), ('month', 30.4375), ('year', 365.25)) v(u, d),
       LATERAL (SELECT (clcm.rfm_summary(ts, amount, '2024-03-01', u)) AS s
                  FROM rfm_t WHERE cust = 1) x
 ORDER BY d;

-- the observation end is a calendar day: any time on 2024-02-01 includes
-- the purchases of that day, and t counts whole days
SELECT (clcm.rfm_summary(ts, amount, '2024-02-01 00:00:01')).*,
       (clcm.rfm_summary(ts, amount, '2024-02-01 23:00')).t AS t_late
  FROM rfm_t WHERE cust = 1;
-- ... and a purchase on the end day itself gives t = recency
SELECT (clcm.rfm_summary(ts, amount, '2024-01-15')).* FROM rfm_t WHERE cust = 1;

-- the overload without amount (days): monetary is NULL
SELECT (clcm.rfm_summary(ts, '2024-03-01')).* FROM rfm_t WHERE cust = 1;
-- integer amounts are accepted (implicit cast to numeric)
SELECT (clcm.rfm_summary(ts, amount::int, '2024-03-01')).monetary FROM rfm_t WHERE cust = 1;

-- NULL timestamps are not purchases (a customer without orders gives NULL);
-- empty input gives NULL
SELECT c.id, (clcm.rfm_summary(o.ts, o.amount, '2024-03-01')).*
  FROM (VALUES (1), (4)) c(id) LEFT JOIN rfm_t o ON o.cust = c.id
 GROUP BY c.id ORDER BY c.id;
SELECT clcm.rfm_summary(ts, amount, '2024-03-01') IS NULL AS empty_is_null
  FROM rfm_t WHERE false;

-- amounts are exact: many small amounts and high-scale values
SELECT (clcm.rfm_summary(ts, amount, '2024-12-31')).monetary
  FROM (SELECT '2024-01-01'::timestamptz + (i || ' days')::interval AS ts, 0.1 AS amount
          FROM generate_series(0, 10) i) x;
-- rounded to 9 decimals half away from zero (as round(x, 9))
SELECT (clcm.rfm_summary(ts, amount, '2024-12-31')).monetary * 1e9 AS nano
  FROM (VALUES ('2024-01-01'::timestamptz, 1::numeric),
               ('2024-01-02', 0.0000000015), ('2024-01-03', 0.0000000014999)) v(ts, amount);

-- the calendar day follows the session TimeZone (as ts::date does)
-- (12:00 and 22:00 in New York are one day there, two days in UTC)
SET TimeZone = 'America/New_York';
SELECT (clcm.rfm_summary(ts, 1, '2024-01-03')).frequency AS ny
  FROM (VALUES ('2024-01-01 12:00-05'::timestamptz), ('2024-01-01 22:00-05')) v(ts);
SET TimeZone = 'UTC';
SELECT (clcm.rfm_summary(ts, 1, '2024-01-03')).frequency AS utc
  FROM (VALUES ('2024-01-01 12:00-05'::timestamptz), ('2024-01-01 22:00-05')) v(ts);

-- order independence and agreement with plain SQL (ts::date, same-day
-- sums, first day excluded from monetary) on random data, in zones with
-- DST changes, and with rows fed in random and in sorted order
SELECT setseed(0.42);
CREATE TABLE rfm_r AS
SELECT (i % 200) AS cust,
       '2018-03-01'::timestamptz + (random() * 1500 || ' days')::interval AS ts,
       round((random() * 100)::numeric, (i % 4)) AS amount
  FROM generate_series(1, 6000) i;
CREATE FUNCTION rfm_check(end_ts timestamptz, unit text, unit_days float8) RETURNS TABLE (
    customers bigint, freq_mismatch bigint, rec_mismatch bigint, t_mismatch bigint,
    monetary_within_1e_15 boolean)
LANGUAGE sql AS $$
  WITH d AS (SELECT cust, ts::date AS day, sum(amount) AS amt
               FROM rfm_r WHERE ts::date <= end_ts::date GROUP BY 1, 2),
       f AS (SELECT cust, min(day) AS first, max(day) AS last, count(*) - 1 AS freq
               FROM d GROUP BY 1),
       plain AS (SELECT f.cust, f.freq, (f.last - f.first) / unit_days AS rec,
                        (end_ts::date - f.first) / unit_days AS t,
                        CASE WHEN f.freq = 0 THEN 0
                             ELSE (SELECT sum(amt) FROM d WHERE d.cust = f.cust AND d.day > f.first)
                                  / f.freq END::float8 AS mon
                   FROM f),
       agg AS (SELECT cust, (clcm.rfm_summary(ts, amount, end_ts, unit)).*
                 FROM (SELECT * FROM rfm_r ORDER BY random()) r GROUP BY cust)
  SELECT count(*),
         count(*) FILTER (WHERE a.frequency IS DISTINCT FROM p.freq),
         count(*) FILTER (WHERE a.recency IS DISTINCT FROM p.rec),
         count(*) FILTER (WHERE a.t IS DISTINCT FROM p.t),
         max(abs(a.monetary - p.mon) / greatest(abs(p.mon), 1e-300)) < 1e-15
    FROM plain p FULL JOIN agg a ON a.cust = p.cust
$$;
SET TimeZone = 'Europe/Berlin';
SELECT * FROM rfm_check('2021-06-30 22:30+00', 'day', 1);
SET TimeZone = 'America/Los_Angeles';
SELECT * FROM rfm_check('2022-12-31', 'week', 7);
SET TimeZone = 'Australia/Lord_Howe';
SELECT * FROM rfm_check('2020-01-01', 'month', 30.4375);
SET TimeZone = 'UTC';
-- the day of every timestamp, 10 minutes apart over DST changes (past,
-- present and extrapolated future rules), equals ts::date
CREATE FUNCTION rfm_day_check() RETURNS TABLE (rows bigint, mismatches bigint)
LANGUAGE sql AS $$
  SELECT count(*), count(*) FILTER (WHERE t <> '2200-01-01'::date - ts::date)
    FROM (SELECT ts, (clcm.rfm_summary(ts, '2200-01-01')).t
            FROM (SELECT d + (i * 10 || ' minutes')::interval AS ts
                    FROM unnest('{1916-04-29, 1980-03-29, 2021-03-27, 2021-10-30,
                                  2022-03-12, 2022-11-05, 2099-03-28, 2099-10-24}'::timestamptz[]) d,
                         generate_series(0, 431) i) s
           GROUP BY ts) x
$$;
SET TimeZone = 'Europe/Berlin';
SELECT * FROM rfm_day_check();
SET TimeZone = 'America/New_York';
SELECT * FROM rfm_day_check();
SET TimeZone = 'Asia/Kolkata';
SELECT * FROM rfm_day_check();
-- extreme timestamps (each its own group, ending at the last timestamptz)
SELECT count(*) AS rows,
       count(*) FILTER (WHERE (s).t = e::date - ts::date) AS same_as_date
  FROM (SELECT ts, e, clcm.rfm_summary(ts, 1, e) AS s
          FROM unnest('{4713-11-24 00:00:00+00 BC, 4713-11-25 12:00:00+00 BC, 1-01-01 00:00+00,
                        1883-11-18 12:00:00+00, 2038-01-19 03:14:08+00, 294276-12-31 10:00:00+00,
                        294276-12-31 23:59:59.999999+00}'::timestamptz[]) ts,
               (VALUES ('294276-12-31 23:59:59.999999+00'::timestamptz)) v(e)
         GROUP BY ts, e) x;
SELECT (clcm.rfm_summary(ts, 1, '294276-12-31 23:00+00')).t = '294276-12-31 23:00+00'::timestamptz::date - '4713-11-25 12:00+00 BC'::timestamptz::date AS widest_span
  FROM (VALUES ('4713-11-25 12:00+00 BC'::timestamptz)) v(ts);
SET TimeZone = 'UTC';
DROP FUNCTION rfm_day_check();
-- sorted input takes the in-order fast path
SELECT count(*) AS customers,
       count(*) FILTER (WHERE s IS DISTINCT FROM x) AS differ,
       count(*) FILTER (WHERE (s).frequency > 0) AS repeaters
  FROM (SELECT cust, clcm.rfm_summary(ts, amount, '2022-12-31', 'week' ORDER BY ts) AS s,
               clcm.rfm_summary(ts, amount, '2022-12-31', 'week' ORDER BY ts DESC) AS x
          FROM rfm_r GROUP BY cust) q;
-- one customer with very many rows (the state grows and compacts)
SELECT (clcm.rfm_summary(ts, amount, '2030-01-01')).frequency,
       count(DISTINCT ts::date) - 1 AS expected
  FROM (SELECT '2020-01-01'::timestamptz + ((i * 7919) % 3000 || ' days')::interval AS ts, 1 AS amount
          FROM generate_series(1, 20000) i) x;

-- as a window function (running summary per row)
SELECT ts::date, (clcm.rfm_summary(ts, amount, '2024-03-01') OVER (ORDER BY ts)).*
  FROM rfm_t WHERE cust = 1 ORDER BY ts;

-- a sliding frame (the aggregate restarts for each frame): the last three rows
SELECT ts::date, (clcm.rfm_summary(ts, amount, '2024-03-01')
                    OVER (ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)).*
  FROM rfm_t WHERE cust = 1 ORDER BY ts;

-- the state type: support functions also work when called directly
SELECT clcm.rfm_summary_transfn(NULL, '2024-01-01', 1.5, '2024-03-01', 'week');
SELECT clcm.rfm_summary_final(clcm.rfm_summary_transfn(
         clcm.rfm_summary_transfn(NULL, '2024-01-01', 1.5, '2024-03-01', 'week'),
         '2024-01-22', 2.25, '2024-03-01', 'week'));
SELECT clcm.rfm_summary_combine('unit=day;end=100;sorted=1;first_amount=1;total=3;days=1,5',
                                'unit=day;end=100;sorted=1;first_amount=2;total=6;days=5,9');
SELECT clcm.rfm_summary_combine('unit=day;end=100;sorted=1;first_amount=2;total=6;days=5,9',
                                'unit=day;end=100;sorted=1;first_amount=1;total=3;days=1,5');
-- text form and exact round trips
SELECT 'unit=week;end=8826;sorted=0;first_amount=15;total=65;days=8766,8780,8766,8797'::clcm.rfm_state;
SELECT clcm.rfm_summary_final('unit=week;end=8826;sorted=0;first_amount=15;total=65;days=8766,8780,8766,8797');
-- text and binary round trips of states built by the aggregate's own
-- functions (binary via \copy to a file in pg_regress's results directory)
CREATE AGGREGATE rfm_state_agg(timestamptz, numeric, timestamptz, text) (
  SFUNC = clcm.rfm_summary_transfn, STYPE = clcm.rfm_state);
CREATE TABLE rfm_states AS
SELECT cust, rfm_state_agg(ts, amount, '2021-01-01', 'month') AS s
  FROM (SELECT * FROM rfm_r ORDER BY random()) r GROUP BY cust;
SELECT count(*) AS states, count(*) FILTER (WHERE s::text::clcm.rfm_state::text = s::text) AS text_round_trip
  FROM rfm_states;
CREATE TABLE rfm_states2 (LIKE rfm_states);
\copy rfm_states TO 'results/rfm_states.bin' (FORMAT binary)
\copy rfm_states2 FROM 'results/rfm_states.bin' (FORMAT binary)
SELECT count(*) AS binary_round_trip
  FROM rfm_states a JOIN rfm_states2 b USING (cust) WHERE a.s::text = b.s::text;
SELECT count(*) AS same_summaries
  FROM rfm_states a JOIN rfm_states2 b USING (cust)
 WHERE clcm.rfm_summary_final(a.s) IS NOT DISTINCT FROM clcm.rfm_summary_final(b.s);
SELECT count(*) > 0 AS some_states_unsorted FROM rfm_states WHERE s::text LIKE '%sorted=0%';
DROP TABLE rfm_states, rfm_states2;
DROP AGGREGATE rfm_state_agg(timestamptz, numeric, timestamptz, text);
-- the output never prints what the input refuses: the text form holds only
-- integers and exact decimals (no floating point, so no subnormal or
-- rounding issue), and the states the functions build at the limits of
-- every field read back, in text and binary form
CREATE TABLE rfm_edge (k int, s clcm.rfm_state);
INSERT INTO rfm_edge
SELECT 1, clcm.rfm_summary_transfn(clcm.rfm_summary_transfn(clcm.rfm_summary_transfn(NULL,
         '294276-12-31 23:59:59.999999+00', 999999999999999999.999999999,
         '294276-12-31 23:59:59.999999+00', 'year'),
         '4714-11-24 00:00:00+00 BC', 0.0000000005, '294276-12-31 23:59:59.999999+00', 'year'),
         '4714-11-24 23:59:59+00 BC', 0.0000000004, '294276-12-31 23:59:59.999999+00', 'year')
UNION ALL
SELECT 2, clcm.rfm_summary_combine(
         'unit=month;end=0;sorted=1;first_amount=60000000000000000000000000000;total=60000000000000000000000000000;days=-5',
         'unit=month;end=0;sorted=1;first_amount=0.000000001;total=39999999999999999999999999999.999999999;days=-7,-5');
SELECT k, s FROM rfm_edge ORDER BY k;
SELECT k, s::text::clcm.rfm_state::text = s::text AS text_round_trip FROM rfm_edge ORDER BY k;
CREATE TABLE rfm_edge2 (LIKE rfm_edge);
\copy rfm_edge TO 'results/rfm_edge.bin' (FORMAT binary)
\copy rfm_edge2 FROM 'results/rfm_edge.bin' (FORMAT binary)
SELECT k, a.s::text = b.s::text AS binary_round_trip
  FROM rfm_edge a JOIN rfm_edge2 b USING (k) ORDER BY k;
SELECT k, (clcm.rfm_summary_final(s)).* FROM rfm_edge ORDER BY k;
DROP TABLE rfm_edge, rfm_edge2;
SELECT 'unit=month;end=0;sorted=1;first_amount=0.000000001;total=123456789012345678.5;days=-5,-3,0'::clcm.rfm_state;
SELECT 'unit=day;end=0;sorted=1;first_amount=0;total=0;days='::clcm.rfm_state;
SELECT clcm.rfm_summary_final('unit=day;end=0;sorted=1;first_amount=0;total=0;days=') IS NULL AS empty_state_null;

DROP FUNCTION rfm_check(timestamptz, text, float8);
DROP TABLE rfm_t, rfm_r;
RESET TimeZone;
RESET extra_float_digits;
