-- clv_simple: the simple CLV formula m r / (1 + d - r) and the historic
-- CLV aggregate (past margins compounded to as_of).
SET TimeZone = 'UTC';
SET extra_float_digits = 0;

-- worked by hand: 100 * 0.8 / 0.3 = 266.67; r = 0 gives 0; d = 0, r = 0.5
-- gives m; r = 1, d = 0.1 gives m / 0.1; a negative margin is a loss
SELECT round(clcm.clv_simple(100, 0.8, 0.1)::numeric, 6) AS c1,
       clcm.clv_simple(100, 0, 0.1) AS r0,
       clcm.clv_simple(42, 0.5, 0) AS d0,
       round(clcm.clv_simple(7, 1, 0.1)::numeric, 9) AS r1,
       round(clcm.clv_simple(-10, 0.8, 0.1)::numeric, 6) AS loss;
-- equals the discounted sum of m per period survived: sum_t m r^t / (1+d)^t
SELECT abs(clcm.clv_simple(m, r, d) - (SELECT sum(m * (r / (1 + d)) ^ t) FROM generate_series(1, 500) t))
         < 1e-9 * abs(clcm.clv_simple(m, r, d)) AS matches_series,
       m, r, d
  FROM (VALUES (100.0::float8, 0.8::float8, 0.1::float8), (55, 0.95, 0.02), (1, 0.3, 0), (20, 0.99, 0.5)) v(m, r, d)
 ORDER BY m;

-- errors
\set VERBOSITY default
-- 22023: rates out of range, NaN, infinity
SELECT clcm.clv_simple(100, 1.2, 0.1);
SELECT clcm.clv_simple(100, 0.8, -0.1);
SELECT clcm.clv_simple('NaN', 0.8, 0.1);
-- 22012: r = 1 and d = 0 (an infinite value)
SELECT clcm.clv_simple(100, 1, 0);
-- 22003: result overflows
SELECT clcm.clv_simple(1e308, 1, 1e-10);
\set VERBOSITY sqlstate
SELECT clcm.clv_simple(100, -0.01, 0.1);
SELECT clcm.clv_simple(100, 'NaN', 0.1);
SELECT clcm.clv_simple(100, 0.8, 'NaN');
SELECT clcm.clv_simple(100, 0.8, 'Infinity');
SELECT clcm.clv_simple('Infinity', 0.8, 0.1);
SELECT clcm.clv_simple('-Infinity', 0.8, 0.1);
SELECT clcm.clv_simple(100, 'Infinity', 0.1);
\set VERBOSITY default
SELECT clcm.clv_simple(NULL, 0.8, 0.1) IS NULL AS strict;

-- historic CLV: 100 today, 100 one year (365.25 days) and two years ago,
-- margin 30 %, 10 % a year: 30 + 33 + 36.3 = 99.3; a purchase after as_of
-- is ignored, a NULL ts skipped
SELECT round(clcm.clv_historic(amount, ts, 0.3, 0.1, '2024-01-01 00:00')::numeric, 9) AS historic
  FROM (VALUES (100::numeric, '2024-01-01 00:00'::timestamptz),
               (100, '2024-01-01 00:00'::timestamptz - interval '365 days 6 hours'),
               (100, '2024-01-01 00:00'::timestamptz - interval '730 days 12 hours'),
               (100, '2024-02-01'), (5, NULL)) v(amount, ts);
-- discount 0: the plain margin sum; per-row margin rates are allowed
SELECT clcm.clv_historic(amount, ts, m, 0, '2024-12-31') AS no_discount
  FROM (VALUES (10::numeric, '2024-01-01'::timestamptz, 0.5::float8), (20, '2020-06-01', 0.25)) v(amount, ts, m);
-- empty input, or nothing up to as_of: NULL
SELECT clcm.clv_historic(1, ts, 0.3, 0.1, '2024-01-01') IS NULL AS empty_null
  FROM (VALUES ('2024-02-01'::timestamptz), (NULL)) v(ts);

-- errors
-- 22004: NULL amount, rates or as_of
SELECT clcm.clv_historic(NULL, '2024-01-01', 0.3, 0.1, '2024-06-01');
\set VERBOSITY sqlstate
SELECT clcm.clv_historic(1, '2024-01-01', NULL, 0.1, '2024-06-01');
SELECT clcm.clv_historic(1, '2024-01-01', 0.3, NULL, '2024-06-01');
SELECT clcm.clv_historic(1, '2024-01-01', 0.3, 0.1, NULL);
-- 22023: negative or NaN amount, margin_rate outside [0,1], discount < 0
SELECT clcm.clv_historic(-1, '2024-01-01', 0.3, 0.1, '2024-06-01');
SELECT clcm.clv_historic('NaN', '2024-01-01', 0.3, 0.1, '2024-06-01');
SELECT clcm.clv_historic(1, '2024-01-01', 1.5, 0.1, '2024-06-01');
SELECT clcm.clv_historic(1, '2024-01-01', 0.3, -0.1, '2024-06-01');
SELECT clcm.clv_historic(1, '2024-01-01', 'NaN', 0.1, '2024-06-01');
-- 22008: infinite timestamps
SELECT clcm.clv_historic(1, 'infinity', 0.3, 0.1, '2024-06-01');
SELECT clcm.clv_historic(1, '2024-01-01', 0.3, 0.1, '-infinity');
-- 22003: overflow
SELECT clcm.clv_historic(1e17, '1900-01-01', 1, 1e300, '2024-06-01');
\set VERBOSITY default

RESET TimeZone;
RESET extra_float_digits;
