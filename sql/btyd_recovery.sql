-- btyd_recovery: simulate customers from known parameters (fixed seed),
-- fit, and check that the estimates are within sampling error: the
-- likelihood-ratio statistic 2 (ll(fit) - ll(truth)) must lie in [0, the
-- 99.9% quantile of chi-square with k = number of parameters] (18.47 for
-- k = 4, 16.27 for k = 3), and the estimates are printed for inspection.
-- Gamma(shape, scale) by Marsaglia & Tsang (2000), with the shape < 1 boost
CREATE FUNCTION btyd_rgamma(shape float8, scale float8) RETURNS float8
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  d float8; c float8; x float8; v float8; u float8; boost float8 := 1;
BEGIN
  IF shape < 1 THEN
    boost := random() ^ (1 / shape);
    shape := shape + 1;
  END IF;
  d := shape - 1.0 / 3;
  c := 1 / sqrt(9 * d);
  LOOP
    LOOP
      -- standard normal by Box-Muller
      x := sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random());
      v := 1 + c * x;
      EXIT WHEN v > 0;
    END LOOP;
    v := v * v * v;
    u := 1 - random();
    IF ln(u) < 0.5 * x * x + d * (1 - v + ln(v)) THEN
      RETURN boost * d * v * scale;
    END IF;
  END LOOP;
END $$;
CREATE FUNCTION btyd_rbeta(a float8, b float8) RETURNS float8
LANGUAGE sql VOLATILE AS $$
  SELECT g1 / (g1 + g2) FROM (SELECT btyd_rgamma(a, 1) g1, btyd_rgamma(b, 1) g2) s $$;
-- one BG/NBD (modified = false) or MBG/NBD customer observed for t
CREATE FUNCTION btyd_sim_bg(r float8, alpha float8, a float8, b float8, t float8,
                            modified bool, OUT x int, OUT tx float8)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  lam float8 := btyd_rgamma(r, 1 / alpha);
  p float8 := btyd_rbeta(a, b);
  now float8 := 0;
BEGIN
  x := 0; tx := 0;
  IF modified AND random() < p THEN RETURN; END IF;
  LOOP
    now := now - ln(1 - random()) / lam;
    EXIT WHEN now > t;
    x := x + 1; tx := now;
    EXIT WHEN random() < p;
  END LOOP;
END $$;
-- one Pareto/NBD customer observed for t
CREATE FUNCTION btyd_sim_pn(r float8, alpha float8, s float8, beta float8, t float8,
                            OUT x int, OUT tx float8)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  lam float8 := btyd_rgamma(r, 1 / alpha);
  mu float8 := btyd_rgamma(s, 1 / beta);
  death float8 := -ln(1 - random()) / mu;
  now float8 := 0;
BEGIN
  x := 0; tx := 0;
  LOOP
    now := now - ln(1 - random()) / lam;
    EXIT WHEN now > least(t, death);
    x := x + 1; tx := now;
  END LOOP;
END $$;
-- one BG/BB customer with n opportunities
CREATE FUNCTION btyd_sim_bb(al float8, be float8, ga float8, de float8, n int,
                            OUT x int, OUT tx int)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  p float8 := btyd_rbeta(al, be);
  theta float8 := btyd_rbeta(ga, de);
BEGIN
  x := 0; tx := 0;
  FOR i IN 1..n LOOP
    EXIT WHEN random() < theta;
    IF random() < p THEN x := x + 1; tx := i; END IF;
  END LOOP;
END $$;
-- BG/NBD: 3,000 customers, r = 0.25, alpha = 4, a = 0.8, b = 2.5, t in [40, 80]
SELECT setseed(0.1);
CREATE TABLE btyd_sim AS
SELECT i, (s).x, (s).tx, t
  FROM (SELECT i, t, btyd_sim_bg(0.25, 4, 0.8, 2.5, t, false) AS s
          FROM (SELECT i, 40 + round((random() * 40)::numeric, 2)::float8 AS t
                  FROM generate_series(1, 3000) i) c) z;
SELECT round((p->>'r')::numeric, 2) AS r, round((p->>'alpha')::numeric, 1) AS alpha,
       round((p->>'a')::numeric, 2) AS a, round((p->>'b')::numeric, 1) AS b,
       p->'converged' AS converged,
       lr >= 0 AND lr < 18.47 AS within_sampling_error
  FROM (SELECT clcm.params(m) AS p,
               2 * ((clcm.params(m)->>'ll')::float8 - truth) AS lr
          FROM (SELECT clcm.bgnbd_fit(x, tx, t) AS m,
                       sum(clcm.btyd_loglik('bgnbd(r=0.25,alpha=4,a=0.8,b=2.5)'::clcm.bgnbd, x, tx, t)) AS truth
                  FROM btyd_sim) f) g;
DROP TABLE btyd_sim;
-- MBG/NBD: 3,000 customers, r = 0.5, alpha = 6, a = 0.9, b = 1.6
SELECT setseed(0.2);
CREATE TABLE btyd_sim AS
SELECT i, (s).x, (s).tx, t
  FROM (SELECT i, t, btyd_sim_bg(0.5, 6, 0.9, 1.6, t, true) AS s
          FROM (SELECT i, 40 + round((random() * 40)::numeric, 2)::float8 AS t
                  FROM generate_series(1, 3000) i) c) z;
SELECT round((p->>'r')::numeric, 2) AS r, round((p->>'alpha')::numeric, 1) AS alpha,
       round((p->>'a')::numeric, 2) AS a, round((p->>'b')::numeric, 1) AS b,
       p->'converged' AS converged,
       lr >= 0 AND lr < 18.47 AS within_sampling_error
  FROM (SELECT clcm.params(m) AS p,
               2 * ((clcm.params(m)->>'ll')::float8 - truth) AS lr
          FROM (SELECT clcm.mbgnbd_fit(x, tx, t) AS m,
                       sum(clcm.btyd_loglik('mbgnbd(r=0.5,alpha=6,a=0.9,b=1.6)'::clcm.mbgnbd, x, tx, t)) AS truth
                  FROM btyd_sim) f) g;
DROP TABLE btyd_sim;
-- Pareto/NBD: 2,000 customers, r = 0.55, alpha = 10.5, s = 0.6, beta = 12
SELECT setseed(0.3);
CREATE TABLE btyd_sim AS
SELECT i, (s).x, (s).tx, t
  FROM (SELECT i, t, btyd_sim_pn(0.55, 10.5, 0.6, 12, t) AS s
          FROM (SELECT i, 40 + round((random() * 40)::numeric, 2)::float8 AS t
                  FROM generate_series(1, 2000) i) c) z;
SELECT round((p->>'r')::numeric, 2) AS r, round((p->>'alpha')::numeric, 1) AS alpha,
       round((p->>'s')::numeric, 2) AS s, round((p->>'beta')::numeric, 1) AS beta,
       p->'converged' AS converged,
       lr >= 0 AND lr < 18.47 AS within_sampling_error
  FROM (SELECT clcm.params(m) AS p,
               2 * ((clcm.params(m)->>'ll')::float8 - truth) AS lr
          FROM (SELECT clcm.pareto_nbd_fit(x, tx, t) AS m,
                       sum(clcm.btyd_loglik('pareto_nbd(r=0.55,alpha=10.5,s=0.6,beta=12)'::clcm.pareto_nbd, x, tx, t)) AS truth
                  FROM btyd_sim) f) g;
DROP TABLE btyd_sim;
-- BG/BB: 4,000 customers with 8 opportunities, alpha = 1.2, beta = 0.75,
-- gamma = 0.66, delta = 2.8
SELECT setseed(0.4);
CREATE TABLE btyd_sim AS
SELECT (s).x, (s).tx, 8 AS n
  FROM (SELECT btyd_sim_bb(1.2, 0.75, 0.66, 2.8, 8) AS s FROM generate_series(1, 4000)) z;
SELECT round((p->>'alpha')::numeric, 2) AS alpha, round((p->>'beta')::numeric, 2) AS beta,
       round((p->>'gamma')::numeric, 2) AS gamma, round((p->>'delta')::numeric, 2) AS delta,
       p->'converged' AS converged,
       lr >= 0 AND lr < 18.47 AS within_sampling_error
  FROM (SELECT clcm.params(m) AS p,
               2 * ((clcm.params(m)->>'ll')::float8 - truth) AS lr
          FROM (SELECT clcm.bgbb_fit(x, tx, n) AS m,
                       sum(clcm.btyd_loglik('bgbb(alpha=1.2,beta=0.75,gamma=0.66,delta=2.8)'::clcm.bgbb, x, tx, n)) AS truth
                  FROM btyd_sim) f) g;
DROP TABLE btyd_sim;
-- Gamma-Gamma: 3,000 repeat buyers with 1..10 purchases, p = 6, q = 4,
-- gamma = 15; each spend is Gamma(p, scale 1/nu), nu ~ Gamma(q, scale 1/gamma)
SELECT setseed(0.5);
CREATE TABLE btyd_sim AS
SELECT x, (SELECT avg(btyd_rgamma(6 + 0 * g, 1 / nu)) FROM generate_series(1, x) g) AS m
  FROM (SELECT 1 + floor(random() * 10)::int AS x, btyd_rgamma(4, 1.0 / 15) AS nu
          FROM generate_series(1, 3000)) c;
SELECT round((p->>'p')::numeric, 2) AS p, round((p->>'q')::numeric, 2) AS q,
       round((p->>'gamma')::numeric, 1) AS gamma, p->'converged' AS converged,
       lr >= 0 AND lr < 16.27 AS within_sampling_error
  FROM (SELECT clcm.params(m) AS p,
               2 * ((clcm.params(m)->>'ll')::float8 - truth) AS lr
          FROM (SELECT clcm.gamma_gamma_fit(x, m) AS m,
                       sum(clcm.btyd_loglik('gamma_gamma(p=6,q=4,gamma=15)'::clcm.gamma_gamma, x, m)) AS truth
                  FROM btyd_sim) f) g;
DROP TABLE btyd_sim;
DROP FUNCTION btyd_sim_bg, btyd_sim_pn, btyd_sim_bb, btyd_rbeta, btyd_rgamma;
