-- test/demo/45_rfm.sql: RFM summary of the CDNOW sample, RFM scores,
-- segments and value tiers, simple and historic CLV.
\pset footer off
SET TimeZone = 'UTC';
CREATE TEMP TABLE cdnow_tx (master_id int, id int, date date, cds int, dollars numeric);
\copy cdnow_tx FROM 'test/data/cdnow_sample.txt' CSV HEADER

\echo
\echo '=== RFM summary: CDNOW sample (2,357 customers), calibration up to 1997-09-30, in weeks ==='
CREATE TEMP TABLE rfm AS
SELECT id, (clcm.rfm_summary(date::timestamptz, dollars, '1997-09-30', 'week')).*
  FROM cdnow_tx GROUP BY id;
SELECT id, frequency, round(recency::numeric, 2) AS recency, round(t::numeric, 2) AS t,
       round(monetary::numeric, 2) AS monetary
  FROM rfm ORDER BY id LIMIT 5;
SELECT count(*) AS customers, count(*) FILTER (WHERE frequency > 0) AS repeat_buyers,
       round(avg(frequency), 2) AS mean_frequency,
       round(avg(monetary) FILTER (WHERE frequency > 0)::numeric, 2) AS mean_repeat_spend
  FROM rfm;

\echo
\echo '=== RFM scores (quintiles, 5 = best), segments and value tiers ==='
CREATE TEMP TABLE scored AS
SELECT id, clcm.rfm_score(ntile(5) OVER (ORDER BY t - recency DESC, id)::int,
                          ntile(5) OVER (ORDER BY frequency, id)::int,
                          ntile(5) OVER (ORDER BY monetary, id)::int) AS score
  FROM rfm;
SELECT clcm.rfm_segment(score) AS segment, count(*) AS customers
  FROM scored GROUP BY 1 ORDER BY 2 DESC, 1;
SELECT clcm.rfm_tier(score) AS tier, count(*) AS customers
  FROM scored GROUP BY 1 ORDER BY min(score / 100 + score / 10 % 10 + score % 10) DESC;

\echo
\echo '=== simple CLV: margin $30 a year, 80 % retention, 10 % discount rate ==='
SELECT round(clcm.clv_simple(30, 0.8, 0.1)::numeric, 2) AS clv_simple;

\echo
\echo '=== historic CLV at 1998-06-30: 30 % margin compounded at 8 % a year (top 5) ==='
SELECT id, round(clcm.clv_historic(dollars, date::timestamptz, 0.3, 0.08, '1998-06-30')::numeric, 2) AS historic_clv
  FROM cdnow_tx GROUP BY id ORDER BY 2 DESC, id LIMIT 5;
