-- survival_km: Kaplan-Meier on the 6-MP arm of the Freireich et al. (1963)
-- leukemia trial as tabulated by Gehan (1965) and in Kleinbaum & Klein,
-- "Survival Analysis" (3rd ed., 2012), table 2.1 (weeks in remission,
-- + = censored): 6 6 6 6+ 7 9+ 10 10+ 11+ 13 16 17+ 19+ 20+ 22 23 25+ 32+
-- 32+ 34+ 35+.  Published KM estimates (ibid., and R survival::survfit
-- with conf.type = "log-log"):
--   t   n  d  S(t)    95% log-log CI
--   6  21  3  0.8571  0.6197 0.9516
--   7  17  1  0.8067  0.5631 0.9228
--  10  15  1  0.7529  0.5032 0.8894
--  13  12  1  0.6902  0.4316 0.8491
--  16  11  1  0.6275  0.3675 0.8049
--  22   7  1  0.5378  0.2678 0.7468
--  23   6  1  0.4482  0.1881 0.6801
-- median survival 23 weeks.  Ties: at t = 6 and t = 10 the censored
-- customer counts as at risk for the events at the same time.
CREATE TABLE km_6mp (weeks float8, relapse boolean);
INSERT INTO km_6mp VALUES
  (6, true), (6, true), (6, true), (6, false), (7, true), (9, false), (10, true),
  (10, false), (11, false), (13, true), (16, true), (17, false), (19, false),
  (20, false), (22, true), (23, true), (25, false), (32, false), (32, false),
  (34, false), (35, false),
  (NULL, true), (5, NULL);	-- rows with a NULL are skipped
SELECT clcm.survival(weeks, relapse) FROM km_6mp;
SELECT "time", at_risk, events, round(survival::numeric, 4) AS survival,
       round(ci_low::numeric, 4) AS ci_low, round(ci_high::numeric, 4) AS ci_high
  FROM clcm.survival_table((SELECT clcm.survival(weeks, relapse) FROM km_6mp))
 ORDER BY "time";
SELECT clcm.median_lifetime(clcm.survival(weeks, relapse)) AS median_weeks FROM km_6mp;
-- the survival is exactly the product of (1 - d/n) over event times
SELECT abs(survival - (18.0 / 21) * (16.0 / 17) * (14.0 / 15) * (11.0 / 12) * (10.0 / 11)
                  * (6.0 / 7) * (5.0 / 6)) < 1e-15 AS product_limit
  FROM clcm.survival_table((SELECT clcm.survival(weeks, relapse) FROM km_6mp))
 WHERE "time" = 23;

-- a hand-checked small case: events before censorings at equal times.
-- times 1, 2, 2+, 3, 3+: S(1) = 4/5, S(2) = 4/5 * 3/4 = 0.6 (the censored 2
-- is at risk at 2), S(3) = 0.6 * 1/2 = 0.3; median = 3 (S first <= 0.5)
SELECT "time", at_risk, events, survival
  FROM clcm.survival_table((SELECT clcm.survival(t, o)
    FROM (VALUES (1, true), (2, true), (2, false), (3, true), (3, false)) v(t, o)))
 ORDER BY "time";
-- S reaches exactly 0.5 as a product (5/6 * 3/5 = 0.5): the median is that time
SELECT clcm.median_lifetime(clcm.survival(t, o)) AS median_exact_half
  FROM (VALUES (1, true), (3, true), (3, true), (4, false), (5, false), (6, false)) v(t, o);
-- survival never reaches 0.5: NULL median; a curve ending at 0 has NULL bounds there
SELECT clcm.median_lifetime(clcm.survival(t, o)) AS median_never
  FROM (VALUES (1, true), (2, false), (3, false)) v(t, o);
SELECT "time", survival, ci_low IS NULL AS no_bounds
  FROM clcm.survival_table((SELECT clcm.survival(t, true) FROM (VALUES (1), (2)) v(t)))
 ORDER BY "time";
-- all censored: survival stays 1, no bounds, no median
SELECT "time", at_risk, survival, ci_low
  FROM clcm.survival_table((SELECT clcm.survival(t, false) FROM (VALUES (0), (4.5)) v(t)))
 ORDER BY "time";

-- empty input gives NULL
SELECT clcm.survival(weeks, relapse) IS NULL AS empty_is_null FROM km_6mp WHERE false;
SELECT clcm.survival(weeks, relapse) IS NULL AS all_null_is_null FROM km_6mp WHERE weeks IS NULL;

-- merge of curves of disjoint groups equals the curve of all
SELECT (SELECT clcm.survival_merge(c) FROM (SELECT clcm.survival(weeks, relapse) c FROM km_6mp
          GROUP BY weeks::int % 3) s)::text
     = (SELECT clcm.survival(weeks, relapse) FROM km_6mp)::text AS merge_same;

-- text round trip (shortest exact float8), input normalizes whitespace
SELECT c::text::clcm.survival_curve::text = c::text AS round_trip
  FROM (SELECT clcm.survival(weeks / 7, relapse) c FROM km_6mp) s;
SELECT '{ 1e-3 : 0 : 1 , 0.1:2:0 }'::clcm.survival_curve;
SELECT '{0.30000000000000004:1:0}'::clcm.survival_curve;
-- binary COPY round trip
CREATE TABLE km_bin AS SELECT clcm.survival(weeks / 3, relapse) AS c FROM km_6mp;
\copy km_bin TO 'results/survival_bin.data' WITH (FORMAT binary)
CREATE TABLE km_bin2 (LIKE km_bin);
\copy km_bin2 FROM 'results/survival_bin.data' WITH (FORMAT binary)
SELECT a.c::text = b.c::text AS binary_round_trip FROM km_bin a, km_bin2 b;

-- malformed literals (22P02)
SELECT '{}'::clcm.survival_curve;
SELECT '{1:1}'::clcm.survival_curve;
SELECT '{2:1:0,1:1:0}'::clcm.survival_curve;
SELECT '{1:0:0}'::clcm.survival_curve;
SELECT '{-1:1:0}'::clcm.survival_curve;
SELECT '{nan:1:0}'::clcm.survival_curve;
SELECT '{1:1:0} x'::clcm.survival_curve;
-- bad durations (22023)
SELECT clcm.survival(-1, true);
SELECT clcm.survival('NaN', true);
SELECT clcm.survival('Infinity', false);
DROP TABLE km_6mp, km_bin, km_bin2;

-- harden-7: counts above 2^61 - 1 are refused before anything is summed
SELECT '{1:9223372036854775807:9223372036854775807}'::clcm.survival_curve;
SELECT '{1:2305843009213693952:0}'::clcm.survival_curve;
SELECT '{1:2305843009213693951:0}'::clcm.survival_curve;
-- merging: 4 x (2^61 - 1) fits, 5 x leaves bigint (22003), both for one
-- duration (summed per item) and for distinct durations (total at risk)
SELECT clcm.survival_merge(c) FROM (SELECT '{1:2305843009213693951:0}'::clcm.survival_curve c
  FROM generate_series(1, 4)) s;
SELECT clcm.survival_merge(c) FROM (SELECT '{1:2305843009213693951:0}'::clcm.survival_curve c
  FROM generate_series(1, 5)) s;
SELECT count(*) FROM clcm.survival_table((SELECT clcm.survival_merge(('{' || g || ':2305843009213693951:0}')::clcm.survival_curve)
  FROM generate_series(1, 5) g));
SELECT clcm.median_lifetime((SELECT clcm.survival_merge(('{' || g || ':2305843009213693951:0}')::clcm.survival_curve)
  FROM generate_series(1, 5) g));

-- harden-9: subnormal durations print and read back (dump and restore)
SELECT clcm.survival(1e-310, true)::text AS subnormal;
SELECT clcm.survival(d, true)::text::clcm.survival_curve::text AS round_trip
  FROM (VALUES (1e-310::float8), (4.9e-324), (2.2250738585072014e-308), (1)) v(d);
SELECT '{4.9e-324:1:0, 1e-310:0:1}'::clcm.survival_curve;
-- still refused: underflow to zero and overflow to infinity (22P02)
SELECT '{1e-400:1:0}'::clcm.survival_curve;
SELECT '{1e400:1:0}'::clcm.survival_curve;

-- harden-5: the support functions work as plain functions, return a
-- finished curve and never modify their arguments
SELECT clcm.survival_sfunc(NULL, 1, true);
SELECT clcm.survival_sfunc(clcm.survival_sfunc(NULL, 2, false), 1, true);
SELECT clcm.survival_sfunc('{1:1:0}', NULL, true);
SELECT clcm.survival_sfunc(NULL, NULL, true) IS NULL AS null_state_stays_null;
SELECT clcm.survival_sfunc(NULL, -1, true);
SELECT clcm.survival_combine(NULL, '{1:1:0}');
SELECT clcm.survival_combine('{1:1:0}', NULL);
SELECT clcm.survival_final('{1:1:0,2:0:1}');
CREATE TABLE km_plain (c clcm.survival_curve);
INSERT INTO km_plain VALUES ('{1:1:0,3:0:2}');
SELECT clcm.survival_sfunc(c, 2, true) AS plus_one, clcm.survival_sfunc(c, 3, false) AS plus_censoring,
       clcm.survival_combine(c, c) AS doubled, clcm.survival_combine(c, '{0.5:0:1}') AS merged
  FROM km_plain;
SELECT c AS unchanged FROM km_plain;
DROP TABLE km_plain;
