-- test/demo/30_retention.sql: retention cohorts and a survival curve from
-- the CDNOW sample (2,357 customers who first bought in Q1 1997, all their
-- purchases until 1998-06-30; test/data/cdnow_sample.csv).
\pset footer off
\echo
\echo '=== Retention cohorts and survival (CDNOW sample) ==='
CREATE TEMP TABLE cdnow (customer_id bigint, purchased_on date, quantity int, amount numeric);
\copy cdnow FROM 'test/data/cdnow_sample.csv' CSV HEADER

\echo
\echo '--- monthly retention: share of each cohort buying again in month k (data until 1998-06-30)'
SELECT cohort, cohort_size AS customers,
       round(max(rate) FILTER (WHERE period = 1)::numeric, 3) AS m1,
       round(max(rate) FILTER (WHERE period = 2)::numeric, 3) AS m2,
       round(max(rate) FILTER (WHERE period = 3)::numeric, 3) AS m3,
       round(max(rate) FILTER (WHERE period = 6)::numeric, 3) AS m6,
       round(max(rate) FILTER (WHERE period = 12)::numeric, 3) AS m12,
       round(max(rate) FILTER (WHERE period = 17)::numeric, 3) AS m17
  FROM clcm.retention_table((
         SELECT clcm.retention(customer_id, purchased_on::timestamptz, 'month',
                  clcm.retention_options(as_of => '1998-07-01 00:00+00'))
           FROM cdnow))
 GROUP BY cohort, cohort_size ORDER BY cohort;

\echo
\echo '--- quarterly, unbounded (bought in that quarter or later) and revenue retention'
SELECT r.cohort, r.period AS quarter, r.cohort_size AS customers,
       round(r.rate::numeric, 3) AS unbounded_rate,
       round(v.revenue::numeric, 2) AS revenue, round(v.rate::numeric, 3) AS revenue_rate
  FROM (SELECT clcm.revenue_retention(customer_id, purchased_on::timestamptz, amount::float8, 'quarter',
                 clcm.retention_options(as_of => '1998-07-01 00:00+00')) AS m FROM cdnow) s,
       LATERAL clcm.retention_table(s.m, 'unbounded') r
  JOIN LATERAL clcm.retention_revenue_table(s.m) v USING (cohort, period)
 ORDER BY 1, 2;

\echo
\echo '--- survival: weeks from first to last purchase; a customer with no purchase'
\echo '--- in the last 26 weeks (since 1998-01-01) counts as lapsed, the others are censored'
CREATE TEMP TABLE life AS
SELECT customer_id,
       CASE WHEN max(purchased_on) < date '1998-01-01'
            THEN (max(purchased_on) - min(purchased_on)) / 7.0
            ELSE (date '1998-06-30' - min(purchased_on)) / 7.0 END AS weeks,
       max(purchased_on) < date '1998-01-01' AS lapsed
  FROM cdnow GROUP BY customer_id;
SELECT round("time"::numeric, 1) AS weeks, at_risk, events AS lapsed,
       round(survival::numeric, 3) AS survival,
       round(ci_low::numeric, 3) AS ci_low, round(ci_high::numeric, 3) AS ci_high
  FROM clcm.survival_table((SELECT clcm.survival(weeks::float8, lapsed) FROM life))
 WHERE "time" IN (0, 1, 4, 13, 26, 39, 52)
 ORDER BY "time";
SELECT round(clcm.median_lifetime(clcm.survival(weeks::float8, lapsed))::numeric, 1)
       AS median_weeks_to_lapse FROM life;
