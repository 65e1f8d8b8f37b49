-- btyd_fit: the fitting aggregates reproduce the published estimates.
CREATE TABLE btyd_cdnow (id int, x int, tx float8, t float8, zbar float8);
\copy btyd_cdnow FROM 'test/data/cdnow_summary_zbar.csv' CSV HEADER
CREATE TABLE btyd_don (x int, tx int, n int, w int);
\copy btyd_don FROM 'test/data/donations.csv' CSV HEADER
SELECT count(*), sum(x), round(sum(tx)::numeric, 2), round(sum(t)::numeric, 2) FROM btyd_cdnow;
-- BG/NBD on CDNOW (Fader, Hardie & Lee 2005, Marketing Science, table 1 /
-- note 004): r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4
CREATE TABLE btyd_fits AS
SELECT clcm.bgnbd_fit(x, tx, t) AS bg,
       clcm.pareto_nbd_fit(x, tx, t) AS pn,
       clcm.mbgnbd_fit(x, tx, t) AS mbg,
       clcm.gamma_gamma_fit(x, zbar) AS gg
  FROM btyd_cdnow;
SELECT round((p->>'r')::numeric, 3) AS r, round((p->>'alpha')::numeric, 3) AS alpha,
       round((p->>'a')::numeric, 3) AS a, round((p->>'b')::numeric, 3) AS b,
       round((p->>'ll')::numeric, 1) AS ll, p->'n' AS n, p->'converged' AS converged
  FROM (SELECT clcm.params(bg) AS p FROM btyd_fits) s;
-- Pareto/NBD on CDNOW (note 008): r = 0.55, alpha = 10.58, s = 0.61,
-- beta = 11.67, LL = -9595.0
SELECT round((p->>'r')::numeric, 2) AS r, round((p->>'alpha')::numeric, 2) AS alpha,
       round((p->>'s')::numeric, 2) AS s, round((p->>'beta')::numeric, 2) AS beta,
       round((p->>'ll')::numeric, 1) AS ll, p->'n' AS n, p->'converged' AS converged
  FROM (SELECT clcm.params(pn) AS p FROM btyd_fits) s;
-- MBG/NBD on CDNOW: its LL is close to BG/NBD's (Batislam et al. report a
-- fit comparable to BG/NBD); lifetimes gets r = 0.525, alpha = 6.183,
-- a = 0.891, b = 1.614
SELECT round((p->>'r')::numeric, 3) AS r, round((p->>'alpha')::numeric, 3) AS alpha,
       round((p->>'a')::numeric, 3) AS a, round((p->>'b')::numeric, 3) AS b,
       round((p->>'ll')::numeric, 1) AS ll, p->'converged' AS converged,
       abs((p->>'ll')::float8 - (clcm.params(bg)->>'ll')::float8) < 1 AS ll_close_to_bgnbd
  FROM (SELECT clcm.params(mbg) AS p, bg FROM btyd_fits) s;
-- Gamma-Gamma on the 946 repeat buyers (Fader, Hardie & Lee 2005, JMR;
-- note 025): p = 6.25, q = 3.74, gamma = 15.44
SELECT round((p->>'p')::numeric, 2) AS p, round((p->>'q')::numeric, 2) AS q,
       round((p->>'gamma')::numeric, 2) AS gamma, p->'n' AS n, p->'converged' AS converged
  FROM (SELECT clcm.params(gg) AS p FROM btyd_fits) s;
-- BG/BB on the donations (Fader, Hardie & Shang 2010): alpha = 1.204,
-- beta = 0.750, gamma = 0.657, delta = 2.783, LL = -33225.6
SELECT round((p->>'alpha')::numeric, 3) AS alpha, round((p->>'beta')::numeric, 3) AS beta,
       round((p->>'gamma')::numeric, 3) AS gamma, round((p->>'delta')::numeric, 3) AS delta,
       round((p->>'ll')::numeric, 1) AS ll, p->'n' AS n, p->'converged' AS converged
  FROM (SELECT clcm.params(clcm.bgbb_fit(x, tx, n, w)) AS p FROM btyd_don) s;
-- the same donors as 11,104 unweighted rows give the same fit
SELECT clcm.bgbb_fit(x, tx, n, w)::text = (SELECT clcm.bgbb_fit(d.x, d.tx, d.n)::text
                                             FROM btyd_don d, generate_series(1, d.w))
       AS weights_equal_rows
  FROM btyd_don;
-- large histograms (20,000 or more distinct rows) are pre-fitted on a
-- sample: twenty copies of CDNOW with t shifted by k microweeks have 20,320
-- distinct rows and the same maximum (to rounding) as CDNOW itself
CREATE TABLE btyd_cdnow20 AS
SELECT c.x, c.tx, c.t + k * 1e-6 AS t FROM btyd_cdnow c, generate_series(0, 19) k;
SELECT count(DISTINCT (x, tx, t)) AS distinct_rows FROM btyd_cdnow20;
SELECT abs((p->>'r')::float8 / (q->>'r')::float8 - 1) < 1e-4 AS r_same,
       abs((p->>'alpha')::float8 / (q->>'alpha')::float8 - 1) < 1e-4 AS alpha_same,
       abs((p->>'a')::float8 / (q->>'a')::float8 - 1) < 1e-4 AS a_same,
       abs((p->>'b')::float8 / (q->>'b')::float8 - 1) < 1e-4 AS b_same,
       p->'converged' AS converged, (p->>'n')::int AS n
  FROM (SELECT clcm.params(clcm.bgnbd_fit(x, tx, t)) AS p FROM btyd_cdnow20) a,
       (SELECT clcm.params(bg) AS q FROM btyd_fits) b;
SELECT abs((p->>'r')::float8 / (q->>'r')::float8 - 1) < 1e-3 AS r_same,
       abs((p->>'alpha')::float8 / (q->>'alpha')::float8 - 1) < 1e-3 AS alpha_same,
       abs((p->>'s')::float8 / (q->>'s')::float8 - 1) < 1e-3 AS s_same,
       abs((p->>'beta')::float8 / (q->>'beta')::float8 - 1) < 1e-3 AS beta_same,
       p->'converged' AS converged
  FROM (SELECT clcm.params(clcm.pareto_nbd_fit(x, tx, t)) AS p FROM btyd_cdnow20) a,
       (SELECT clcm.params(pn) AS q FROM btyd_fits) b;
DROP TABLE btyd_cdnow20;
-- the reported ll is the sum of the per-customer log-likelihoods
SELECT abs(sum(clcm.btyd_loglik(bg, x, tx, t)) - min((clcm.params(bg)->>'ll')::float8)) < 1e-6 AS bg_ll,
       abs(sum(clcm.btyd_loglik(pn, x, tx, t)) - min((clcm.params(pn)->>'ll')::float8)) < 1e-6 AS pn_ll,
       abs(sum(clcm.btyd_loglik(mbg, x, tx, t)) - min((clcm.params(mbg)->>'ll')::float8)) < 1e-6 AS mbg_ll
  FROM btyd_cdnow, btyd_fits;
-- the optimum is a maximum: moving any parameter by 0.1% lowers the ll
WITH mm AS MATERIALIZED (
  SELECT k, format('bgnbd(r=%s,alpha=%s,a=%s,b=%s)',
                   (p->>'r')::float8 * CASE WHEN k % 4 = 0 THEN f ELSE 1 END,
                   (p->>'alpha')::float8 * CASE WHEN k % 4 = 1 THEN f ELSE 1 END,
                   (p->>'a')::float8 * CASE WHEN k % 4 = 2 THEN f ELSE 1 END,
                   (p->>'b')::float8 * CASE WHEN k % 4 = 3 THEN f ELSE 1 END)::clcm.bgnbd AS m
    FROM (SELECT clcm.params(bg) AS p FROM btyd_fits) s,
         generate_series(0, 7) k,
         LATERAL (SELECT CASE WHEN k < 4 THEN 1.001 ELSE 0.999 END AS f) ff)
SELECT bool_and(sum_ll < (SELECT (clcm.params(bg)->>'ll')::float8 FROM btyd_fits)) AS bg_is_max
  FROM (SELECT k, sum(clcm.btyd_loglik(m, x, tx, t)) AS sum_ll
          FROM mm, btyd_cdnow
         GROUP BY k) z;
-- deterministic: refitting gives the identical model, in any row order
SELECT (SELECT clcm.bgnbd_fit(x, tx, t ORDER BY id DESC) FROM btyd_cdnow)::text = bg::text AS order_independent
  FROM btyd_fits;
-- parallel aggregation with the combine function gives the same model
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT clcm.bgnbd_fit(x, tx, t) FROM btyd_cdnow;
SELECT clcm.bgnbd_fit(x, tx, t)::text = (SELECT bg::text FROM btyd_fits) AS parallel_same,
       clcm.gamma_gamma_fit(x, zbar)::text = (SELECT gg::text FROM btyd_fits) AS gg_parallel_same
  FROM btyd_cdnow;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
-- the states of two halves of the input, shipped as text and combined,
-- fit the same model (Citus ships states as text)
CREATE AGGREGATE btyd_bg_state(float8, float8, float8) (
	SFUNC = clcm.bgnbd_fit_trans, STYPE = clcm.btyd_fit_state);
SELECT clcm.bgnbd_fit_final(clcm.btyd_fit_combine(
         (SELECT btyd_bg_state(x, tx, t) FROM btyd_cdnow WHERE id % 2 = 0)::text::clcm.btyd_fit_state,
         (SELECT btyd_bg_state(x, tx, t) FROM btyd_cdnow WHERE id % 2 = 1)::text::clcm.btyd_fit_state))::text
       = (SELECT bg::text FROM btyd_fits) AS halves_combined;
SELECT clcm.bgnbd_fit_final(clcm.btyd_fit_combine(NULL,
         (SELECT btyd_bg_state(x, tx, t) FROM btyd_cdnow)))::text
       = (SELECT bg::text FROM btyd_fits) AS combine_with_null;
-- the state is a histogram of distinct rows with counts: its weights sum
-- to the 2,357 customers and duplicates get merged (at most twice the
-- 1,016 distinct rows are kept between compactions)
SELECT sum(split_part(r, ',', 4)::float8) AS customers,
       count(*) <= 2 * (SELECT count(DISTINCT (x, tx, t)) FROM btyd_cdnow) AS compacted
  FROM (SELECT btyd_bg_state(x, tx, t)::text AS s FROM btyd_cdnow) z,
       unnest(string_to_array(trim(split_part(s, ';[', 2), ']'), ';')) AS r;
DROP AGGREGATE btyd_bg_state(float8, float8, float8);
-- penalizer: lifetimes' convention, penalizer * sum(params^2) added to the
-- mean negative log-likelihood; it shrinks the parameters
SELECT round((p->>'r')::numeric, 4) AS r, round((p->>'alpha')::numeric, 4) AS alpha,
       round((p->>'a')::numeric, 4) AS a, round((p->>'b')::numeric, 4) AS b,
       p->'converged' AS converged
  FROM (SELECT clcm.params(clcm.bgnbd_fit(x, tx, t, 0.01)) AS p FROM btyd_cdnow) s;
SELECT clcm.bgnbd_fit(x, tx, t, 0)::text = (SELECT bg::text FROM btyd_fits) AS zero_penalizer_same
  FROM btyd_cdnow;
-- NULL rows are skipped; empty input gives NULL
SELECT clcm.bgnbd_fit(x, tx, t) IS NULL AS empty_is_null FROM btyd_cdnow WHERE false;
SELECT clcm.gamma_gamma_fit(x, zbar) IS NULL AS no_repeat_buyers FROM btyd_cdnow WHERE x = 0;
SELECT clcm.bgnbd_fit(x, tx, NULL::float8) IS NULL AS all_null FROM btyd_cdnow;
-- non-convergence: one customer without repeat purchases has no interior
-- maximum (the likelihood keeps rising as r -> 0); the fit says
-- converged=false with a WARNING, and the scoring functions refuse it
CREATE TABLE btyd_flat AS
SELECT clcm.bgnbd_fit(x, x::float8, 10) AS m
  FROM generate_series(0, 0) x;
SELECT clcm.params(m)->'converged' AS converged FROM btyd_flat;
SELECT clcm.p_alive(m, 0, 0, 10) FROM btyd_flat;
DROP TABLE btyd_flat;
-- bad rows (22023)
SELECT clcm.bgnbd_fit(x, tx, t) FROM (VALUES (1, 5.0, 4.0)) v(x, tx, t);
SELECT clcm.bgnbd_fit(x, tx, t) FROM (VALUES (-1, 0.0, 4.0)) v(x, tx, t);
SELECT clcm.bgnbd_fit(x, tx, t) FROM (VALUES (1.5, 1.0, 4.0)) v(x, tx, t);
SELECT clcm.pareto_nbd_fit(x, tx, t) FROM (VALUES (1, 'NaN'::float8, 4.0)) v(x, tx, t);
SELECT clcm.mbgnbd_fit(x, tx, t) FROM (VALUES (1, 1, 'Infinity'::float8)) v(x, tx, t);
SELECT clcm.bgnbd_fit(x, tx, t) FROM (VALUES (1, 0.0, 4.0)) v(x, tx, t);
SELECT clcm.bgnbd_fit(x, tx, t) FROM (VALUES (0, 2.0, 4.0)) v(x, tx, t);
SELECT clcm.bgnbd_fit(x, tx, t) FROM (VALUES (0, 0.0, -4.0)) v(x, tx, t);
SELECT clcm.bgnbd_fit(x, tx, t, -1) FROM (VALUES (0, 0.0, 4.0)) v(x, tx, t);
SELECT clcm.bgnbd_fit(x, tx, t, x) FROM (VALUES (0, 0.0, 4.0), (1, 1.0, 4.0)) v(x, tx, t);
SELECT clcm.gamma_gamma_fit(x, m) FROM (VALUES (2, -3.0)) v(x, m);
SELECT clcm.gamma_gamma_fit(x, m) FROM (VALUES (2, 0.0)) v(x, m);
SELECT clcm.bgbb_fit(x, tx, n) FROM (VALUES (3, 2, 6)) v(x, tx, n);
SELECT clcm.bgbb_fit(x, tx, n) FROM (VALUES (1, 7, 6)) v(x, tx, n);
SELECT clcm.bgbb_fit(x, tx, n) FROM (VALUES (1, 1.5, 6)) v(x, tx, n);
SELECT clcm.bgbb_fit(x, tx, n, w) FROM (VALUES (1, 1, 6, -2)) v(x, tx, n, w);
DROP TABLE btyd_fits;
