-- test/demo/40_clv.sql: BTYD models on CDNOW -- fit, CLV ranking, churn list.
\pset footer off
\echo
\echo '=== BTYD: CLV and churn on the CDNOW sample (2,357 customers, weeks) ==='
CREATE TEMP TABLE cdnow (id int, frequency int, recency float8, t float8, monetary float8);
\copy cdnow FROM 'test/data/cdnow_summary_zbar.csv' CSV HEADER
\echo
\echo '--- fitted models (BG/NBD for purchases, Gamma-Gamma for spend)'
CREATE TEMP TABLE m AS
SELECT clcm.bgnbd_fit(frequency, recency, t) AS bg,
       clcm.gamma_gamma_fit(frequency, monetary) AS gg
  FROM cdnow;
SELECT key AS parameter, round(value::numeric, 4) AS bgnbd
  FROM m, jsonb_each_text(clcm.params(bg))
 WHERE key IN ('r', 'alpha', 'a', 'b', 'll');
SELECT key AS parameter, round(value::numeric, 4) AS gamma_gamma
  FROM m, jsonb_each_text(clcm.params(gg))
 WHERE key IN ('p', 'q', 'gamma');
\echo
\echo '--- top 10 customers by 1-year CLV (52 weekly periods, 10% a year = 0.1833% a week)'
SELECT id, frequency, recency, t, monetary,
       round(clcm.p_alive(bg, frequency, recency, t)::numeric, 3) AS p_alive,
       round(clcm.expected_purchases(bg, 52, frequency, recency, t)::numeric, 2) AS purchases_52w,
       round(clcm.clv(bg, gg, frequency, recency, t, monetary, 52, power(1.10, 1.0 / 52) - 1)::numeric, 2) AS clv_1y
  FROM cdnow, m
 ORDER BY clv_1y DESC, id
 LIMIT 10;
\echo
\echo '--- churn risk (1 - p_alive: low < 0.3 <= medium < 0.7 <= high)'
SELECT clcm.churn_risk(bg, frequency, recency, t) AS churn_risk, count(*) AS customers,
       round(avg(frequency), 2) AS avg_frequency
  FROM cdnow, m
 GROUP BY 1
 ORDER BY min(clcm.p_alive(bg, frequency, recency, t)) DESC;
\echo
\echo '--- churn list: repeat buyers with high churn risk, most valuable first'
SELECT id, frequency, recency, t, monetary,
       round((1 - clcm.p_alive(bg, frequency, recency, t))::numeric, 3) AS churn_probability
  FROM cdnow, m
 WHERE frequency >= 3 AND clcm.churn_risk(bg, frequency, recency, t) = 'high'
 ORDER BY frequency * monetary DESC, id
 LIMIT 10;
