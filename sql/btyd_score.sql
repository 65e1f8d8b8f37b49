-- btyd_score: scores against values computed independently (mpmath 1.3,
-- 40 digits: 2F1 by mpmath.hyp2f1, Pareto/NBD by numerical integration of
-- its lifetime integral, BG/BB expectation checked by a 2-D quadrature of
-- the posterior), and against identities that must hold exactly.
CREATE TABLE btyd_m AS SELECT
  'bgnbd(r=0.2426,alpha=4.4136,a=0.7929,b=2.4259)'::clcm.bgnbd AS bg,
  'pareto_nbd(r=0.5533,alpha=10.5776,s=0.6061,beta=11.6679)'::clcm.pareto_nbd AS pn,
  'mbgnbd(r=0.5248,alpha=6.1830,a=0.8914,b=1.6140)'::clcm.mbgnbd AS mbg,
  'bgbb(alpha=1.204,beta=0.750,gamma=0.657,delta=2.783)'::clcm.bgbb AS bb,
  'gamma_gamma(p=6.25,q=3.74,gamma=15.44)'::clcm.gamma_gamma AS gg;
-- CDNOW customers 1, a non-repeater, 157 (x = 29) and 2
CREATE TABLE btyd_ref (model text, x float8, tx float8, t float8,
                       p_alive float8, e39 float8, ll float8);
INSERT INTO btyd_ref VALUES
 ('bg', 2, 30.43, 38.86, 0.72661404485424713, 1.2259226579870331, NULL),
 ('bg', 0, 0, 38.86, 1.0, 0.19478676916062002, NULL),
 ('bg', 29, 37.71, 38.0, 0.96913321785334237, 20.053567560711451, NULL),
 ('bg', 1, 1.71, 38.86, 0.21223426371008024, 0.2032585255260537, NULL),
 ('pn', 2, 30.43, 38.86, 0.86914099961913, 1.4552135701392398, -9.5541705345539337),
 ('pn', 0, 0, 38.86, 0.29515304487483342, 0.10708843988582955, -0.52126341979016614),
 ('pn', 29, 37.71, 38.0, 0.99612531465225899, 19.595461096895078, -45.054956616232325),
 ('pn', 1, 1.71, 38.86, 0.16790967661419025, 0.17102741080618065, -4.4497617947748215),
 ('mbg', 2, 30.43, 38.86, 0.70611773244535052, 1.2626285628348781, NULL),
 ('mbg', 0, 0, 38.86, 0.38972279165330514, 0.15394477343153342, NULL),
 ('mbg', 29, 37.71, 38.0, 0.9658416020498939, 18.949756232304988, NULL),
 ('mbg', 1, 1.71, 38.86, 0.17082224814033076, 0.18878657688876098, NULL),
 ('bb', 0, 0, 6, 0.1080165841686742, 0.072802877475043012, -1.1672624726738938),
 ('bb', 3, 5, 6, 0.76673404999572513, 1.8044259997945683, -5.6158947463614154),
 ('bb', 6, 6, 6, 0.93040254237288136, 3.7521156075998148, -2.1822484476182998),
 ('bb', 1, 1, 6, 0.069408093206549674, 0.085635398337870302, -2.288531685666258);
-- (the bb rows hold the expectation over 5 periods, not 39)
SELECT r.model, r.x, r.tx, r.t,
       abs(s.pa / r.p_alive - 1) < 1e-12 AS p_alive_ok,
       abs(s.e / r.e39 - 1) < 1e-10 AS expected_ok,
       r.ll IS NULL OR abs(s.ll - r.ll) < 1e-10 AS ll_ok,
       round(s.pa::numeric, 4) AS p_alive, round(s.e::numeric, 4) AS expected
  FROM btyd_ref r, btyd_m m,
       LATERAL (SELECT CASE r.model WHEN 'bg' THEN clcm.p_alive(m.bg, r.x, r.tx, r.t)
                                    WHEN 'pn' THEN clcm.p_alive(m.pn, r.x, r.tx, r.t)
                                    WHEN 'mbg' THEN clcm.p_alive(m.mbg, r.x, r.tx, r.t)
                                    ELSE clcm.p_alive(m.bb, r.x, r.tx, r.t) END AS pa,
                       CASE r.model WHEN 'bg' THEN clcm.expected_purchases(m.bg, 39, r.x, r.tx, r.t)
                                    WHEN 'pn' THEN clcm.expected_purchases(m.pn, 39, r.x, r.tx, r.t)
                                    WHEN 'mbg' THEN clcm.expected_purchases(m.mbg, 39, r.x, r.tx, r.t)
                                    ELSE clcm.expected_purchases(m.bb, 5, r.x, r.tx, r.t) END AS e,
                       CASE r.model WHEN 'pn' THEN clcm.btyd_loglik(m.pn, r.x, r.tx, r.t)
                                    WHEN 'bb' THEN clcm.btyd_loglik(m.bb, r.x, r.tx, r.t) END AS ll) s
 ORDER BY r.model, r.x;
-- new customers (mpmath): BG/NBD 39 and 520 weeks, Pareto/NBD, MBG/NBD 39
-- weeks, BG/BB 6 periods
SELECT abs(clcm.expected_purchases(bg, 39) / 1.1950476815137786 - 1) < 1e-12 AS bg_39,
       abs(clcm.expected_purchases(bg, 520) / 4.9688866475169151 - 1) < 1e-12 AS bg_520,
       abs(clcm.expected_purchases(pn, 39) / 1.2135737083876478 - 1) < 1e-12 AS pn_39,
       abs(clcm.expected_purchases(mbg, 39) / 1.1821661637307505 - 1) < 1e-12 AS mbg_39,
       abs(clcm.expected_purchases(bb, 6) / 2.2196313934872989 - 1) < 1e-12 AS bb_6
  FROM btyd_m;
-- P(X(39) = n) for BG/NBD (mpmath) and the BG/BB distribution over 6 periods
SELECT n, abs(clcm.p_purchases(bg, n, 39) / ref - 1) < 1e-12 AS bg_ok
  FROM btyd_m, (VALUES (0, 0.57429991970050545), (1, 0.19919386048701553),
                       (2, 0.085324231275570124), (5, 0.017939051850962742)) v(n, ref)
 ORDER BY n;
SELECT n, abs(clcm.p_purchases(bb, n, 6) / ref - 1) < 1e-12 AS bb_ok
  FROM btyd_m, (VALUES (0, 0.31121774326384935), (1, 0.17010997840651466),
                       (2, 0.12148051376687113), (3, 0.10026311502480369),
                       (4, 0.091659853424921835), (5, 0.092481147905292494),
                       (6, 0.11278764820774684)) v(n, ref)
 ORDER BY n;
-- identities: the distributions sum to 1 and their means are the expected
-- purchases; nothing happens in an empty interval
SELECT abs(sum(clcm.p_purchases(bg, n, 39)) - 1) < 1e-12 AS bg_sums_to_1,
       abs(sum(n * clcm.p_purchases(bg, n, 39)) - min(clcm.expected_purchases(bg, 39))) < 1e-10 AS bg_mean,
       abs(sum(clcm.p_purchases(mbg, n, 39)) - 1) < 1e-12 AS mbg_sums_to_1,
       abs(sum(n * clcm.p_purchases(mbg, n, 39)) - min(clcm.expected_purchases(mbg, 39))) < 1e-10 AS mbg_mean
  FROM btyd_m, generate_series(0, 400) n;
-- Pareto/NBD: P(X(t) = n) by quadrature of its lifetime integral; the
-- distribution sums to 1 and its mean is the closed-form expectation
SELECT abs(sum(clcm.p_purchases(pn, n, 39)) - 1) < 1e-12 AS pn_sums_to_1,
       abs(sum(n * clcm.p_purchases(pn, n, 39)) - min(clcm.expected_purchases(pn, 39))) < 1e-10 AS pn_mean,
       round(min(clcm.p_purchases(pn, 0, 39))::numeric, 6) AS pn_p0
  FROM btyd_m, generate_series(0, 400) n;
SELECT abs(sum(clcm.p_purchases(bb, n, 6)) - 1) < 1e-14 AS bb_sums_to_1,
       abs(sum(n * clcm.p_purchases(bb, n, 6)) - min(clcm.expected_purchases(bb, 6))) < 1e-12 AS bb_mean,
       sum(clcm.p_purchases(bb, n, 6)) FILTER (WHERE n > 6) AS beyond_6
  FROM btyd_m, generate_series(0, 8) n;
SELECT clcm.expected_purchases(bg, 0, 2, 30.43, 38.86) AS bg0, clcm.expected_purchases(pn, 0) AS pn0,
       clcm.p_purchases(bg, 0, 0) AS p0, clcm.p_purchases(bg, 1, 0) AS p1
  FROM btyd_m;
-- hand-worked special cases: BG/NBD p_alive = 1 without repeat purchases;
-- a customer whose last purchase is at t is alive with
-- 1 / (1 + a / (b + x - 1)) (BG/NBD), and Pareto/NBD p_alive = 1 then
SELECT clcm.p_alive(bg, 0, 0, 100) AS bg_x0,
       abs(clcm.p_alive(bg, 3, 20, 20) - 1 / (1 + 0.7929 / (2.4259 + 2))) < 1e-15 AS bg_at_t,
       clcm.p_alive(pn, 3, 20, 20) AS pn_at_t,
       abs(clcm.p_alive(mbg, 0, 0, 0) - 1.6140 / (0.8914 + 1.6140)) < 1e-15 AS mbg_at_0
  FROM btyd_m;
-- continuity at the removable singularity a = 1 of the BG/NBD expectation
SELECT abs(clcm.expected_purchases('bgnbd(r=0.3,alpha=5,a=1,b=2)'::clcm.bgnbd, 52, 2, 20, 38)
           / clcm.expected_purchases('bgnbd(r=0.3,alpha=5,a=1.0000001,b=2)'::clcm.bgnbd, 52, 2, 20, 38) - 1) < 1e-6 AS a_equals_1,
       abs(clcm.expected_purchases('bgbb(alpha=1,beta=2,gamma=1,delta=3)'::clcm.bgbb, 5, 2, 3, 6)
           / clcm.expected_purchases('bgbb(alpha=1,beta=2,gamma=1.0000001,delta=3)'::clcm.bgbb, 5, 2, 3, 6) - 1) < 1e-6 AS gamma_equals_1;
-- heavy buyers and long horizons (mpmath references; a BG/NBD customer
-- with 500 purchases whose last was a week ago is probably gone)
SELECT abs(e10 / 0.5768763292820495 - 1) < 1e-10 AS bg_10,
       abs(e100 / 3.6965323526113664 - 1) < 1e-10 AS bg_100,
       abs(e1000 / 12.279402283304273 - 1) < 1e-10 AS bg_1000,
       abs(e10000 / 27.522775009993346 - 1) < 1e-10 AS bg_10000
  FROM (SELECT clcm.expected_purchases(bg, 10, 500, 38, 39) AS e10,
               clcm.expected_purchases(bg, 100, 500, 38, 39) AS e100,
               clcm.expected_purchases(bg, 1000, 500, 38, 39) AS e1000,
               clcm.expected_purchases(bg, 10000, 500, 38, 39) AS e10000
          FROM btyd_m) s;
SELECT abs(clcm.p_alive(pn, 800, 38.9, 39) / 0.99701771262463576 - 1) < 1e-10 AS pn_heavy,
       abs(clcm.expected_purchases(pn, 5200, 800, 38.9, 39) / 10813.18278558145 - 1) < 1e-10 AS pn_heavy_100y,
       abs(clcm.expected_purchases(mbg, 5200, 800, 38.9, 39) / 4958.4582949670191 - 1) < 1e-10 AS mbg_heavy_100y
  FROM btyd_m;
-- Gamma-Gamma expected spend (p (gamma + x m) / (p x + q - 1)), mpmath values
SELECT abs(clcm.expected_spend(gg, 2, 22.35) / 24.663713910761155 - 1) < 1e-14 AS c1,
       abs(clcm.expected_spend(gg, 0, 0) / 35.218978102189781 - 1) < 1e-14 AS population_mean,
       abs(clcm.expected_spend(gg, 29, 26.26) / 26.39341812055003 - 1) < 1e-14 AS c157
  FROM btyd_m;
-- CLV: without discounting the sum telescopes to expected purchases times
-- spend; with it, it equals the discounted sum of period increments
SELECT abs(clcm.clv(bg, gg, 2, 30.43, 38.86, 22.35, 52, 0)
           - clcm.expected_purchases(bg, 52, 2, 30.43, 38.86) * clcm.expected_spend(gg, 2, 22.35)) < 1e-9 AS undiscounted,
       abs(clcm.clv(bg, gg, 2, 30.43, 38.86, 22.35, 52, 0.002)
           - (SELECT sum((clcm.expected_purchases(bg, i, 2, 30.43, 38.86)
                          - clcm.expected_purchases(bg, i - 1, 2, 30.43, 38.86))
                         * clcm.expected_spend(gg, 2, 22.35) / 1.002 ^ i)
                FROM generate_series(1, 52) i)) < 1e-9 AS discounted,
       round(clcm.clv(bg, gg, 2, 30.43, 38.86, 22.35, 52, 0.002)::numeric, 2) AS clv_52w,
       clcm.clv(bg, gg, 2, 30.43, 38.86, 22.35, 0, 0.002) AS clv_0,
       round(clcm.clv(bb, gg, 3, 5, 6, 20, 5, 0.1)::numeric, 4) AS bb_clv
  FROM btyd_m;
-- scores are memoized per query, keyed by the model: rows alternating
-- between two models give the values of one-model queries
CREATE TABLE btyd_alt AS
SELECT k, CASE WHEN k % 2 = 0 THEN bg ELSE 'bgnbd(r=0.3,alpha=5,a=1.5,b=2)'::clcm.bgnbd END AS m, gg
  FROM btyd_m, generate_series(1, 6) k;
CREATE TABLE btyd_single AS
SELECT k, clcm.expected_purchases(m, 39, 2, 30.43, 38.86) AS e,
       clcm.clv(m, gg, 2, 30.43, 38.86, 22.35, 26, 0.002) AS c
  FROM btyd_alt WHERE k = 1
UNION ALL
SELECT k, clcm.expected_purchases(m, 39, 2, 30.43, 38.86),
       clcm.clv(m, gg, 2, 30.43, 38.86, 22.35, 26, 0.002)
  FROM btyd_alt WHERE k = 2;
SELECT bool_and(clcm.expected_purchases(a.m, 39, 2, 30.43, 38.86) = s.e) AS expected_memo_ok,
       bool_and(clcm.clv(a.m, a.gg, 2, 30.43, 38.86, 22.35, 26, 0.002) = s.c) AS clv_memo_ok,
       count(DISTINCT s.e) AS distinct_values
  FROM btyd_alt a JOIN btyd_single s ON s.k % 2 = a.k % 2;
DROP TABLE btyd_alt, btyd_single;
-- churn risk: 1 - p_alive below 0.3 is low, below 0.7 medium, else high
SELECT p, clcm.churn_risk(p) FROM unnest(ARRAY[1, 0.71, 0.7, 0.5, 0.31, 0.3, 0]::float8[]) p ORDER BY p DESC;
SELECT clcm.churn_risk(bg, 2, 30.43, 38.86) AS c1, clcm.churn_risk(bg, 1, 1.71, 38.86) AS c2,
       clcm.churn_risk(pn, 0, 0, 38.86) AS c3, clcm.churn_risk(bb, 1, 1, 6) AS c4
  FROM btyd_m;
-- errors (22023)
SELECT clcm.p_alive(bg, 2, 40, 38.86) FROM btyd_m;
SELECT clcm.p_alive(bg, -1, 0, 38.86) FROM btyd_m;
SELECT clcm.p_alive(bg, 1.5, 3, 38.86) FROM btyd_m;
SELECT clcm.p_alive(pn, 2, 'NaN', 38.86) FROM btyd_m;
SELECT clcm.p_alive(mbg, 2, 3, '-Infinity') FROM btyd_m;
SELECT clcm.p_alive(bg, 2, 0, 38.86) FROM btyd_m;
SELECT clcm.p_alive(bg, 0, 3, 38.86) FROM btyd_m;
SELECT clcm.p_alive(bb, 2, 3.5, 6) FROM btyd_m;
SELECT clcm.p_alive(bb, 4, 3, 6) FROM btyd_m;
SELECT clcm.expected_purchases(bg, -1, 2, 30, 38) FROM btyd_m;
SELECT clcm.expected_purchases(bb, 1.5) FROM btyd_m;
SELECT clcm.p_purchases(bg, 1.5, 10) FROM btyd_m;
SELECT clcm.clv(bg, gg, 2, 30.43, 38.86, 22.35, 100001, 0.01) FROM btyd_m;
SELECT clcm.clv(bg, gg, 2, 30.43, 38.86, 22.35, 52, -0.01) FROM btyd_m;
SELECT clcm.clv(bg, gg, 2, 30.43, 38.86, -5, 52, 0.01) FROM btyd_m;
SELECT clcm.expected_spend('gamma_gamma(p=1,q=0.5,gamma=1)', 0, 0);
SELECT clcm.churn_risk(1.5);
SELECT clcm.churn_risk('NaN'::float8);
SELECT clcm.p_alive('bgnbd(r=1,alpha=1,a=1,b=1,converged=false)'::clcm.bgnbd, 0, 0, 1);
-- strict: NULL in, NULL out
SELECT clcm.p_alive(bg, NULL, 1, 2) IS NULL AS null_in_null_out FROM btyd_m;
DROP TABLE btyd_m, btyd_ref;
