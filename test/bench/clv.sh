#!/usr/bin/env bash
# test/bench/clv.sh -- BTYD fitting and scoring speed (make bench BENCH=clv).
#
# Builds a summary of 1,000,000 customers drawn from a BG/NBD model
# (r = 0.25, alpha = 4, a = 0.8, b = 2.5, weeks; first purchases spread
# over one year, purchase times in whole days as clcm.rfm_summary would
# give them) with Gamma-Gamma spends, then times in one run:
#   - a plain scan (sum over the columns), the baseline;
#   - bgnbd_fit, mbgnbd_fit and gamma_gamma_fit over the 1M customers;
#   - pareto_nbd_fit over the first 100,000 customers, against a scan of
#     those 100,000;
#   - scoring every customer (p_alive + conditional expected purchases
#     over 52 weeks) and clv over 52 weeks for 100,000 customers;
# and prints each time with its ratio to the scan.  Goals: BG/NBD fit
# <= 20x scan, scoring 1M <= 3x scan, Pareto/NBD fit at 100k <= 50x scan.
set -euo pipefail
N=${CLV_BENCH_CUSTOMERS:-1000000}
PSQL=(psql -X -q -v ON_ERROR_STOP=1)

"${PSQL[@]}" <<SQL
CREATE EXTENSION IF NOT EXISTS clcm;
-- Gamma(shape, scale), Marsaglia & Tsang (2000) with the shape < 1 boost
CREATE FUNCTION bench_rgamma(shape float8, scale float8) RETURNS float8
LANGUAGE plpgsql VOLATILE AS \$\$
DECLARE d float8; c float8; x float8; v float8; boost float8 := 1;
BEGIN
  IF shape < 1 THEN boost := random() ^ (1 / shape); shape := shape + 1; END IF;
  d := shape - 1.0 / 3; c := 1 / sqrt(9 * d);
  LOOP
    LOOP
      x := sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random());
      v := 1 + c * x;
      EXIT WHEN v > 0;
    END LOOP;
    v := v * v * v;
    IF ln(1 - random()) < 0.5 * x * x + d * (1 - v + ln(v)) THEN
      RETURN boost * d * v * scale;
    END IF;
  END LOOP;
END \$\$;
-- n BG/NBD customers: (frequency, recency, t) in weeks of whole days, and
-- the mean repeat spend from Gamma-Gamma (p = 6, q = 4, gamma = 15)
CREATE FUNCTION bench_customers(n int)
RETURNS TABLE (id int, x int, tx float8, t float8, m float8)
LANGUAGE plpgsql VOLATILE AS \$\$
DECLARE lam float8; p float8; g1 float8; now float8; tdays int; nu float8;
BEGIN
  FOR i IN 1..n LOOP
    lam := bench_rgamma(0.25, 0.25);
    g1 := bench_rgamma(0.8, 1);
    p := g1 / (g1 + bench_rgamma(2.5, 1));
    tdays := 30 + floor(random() * 336)::int;
    id := i; x := 0; tx := 0; now := 0;
    LOOP
      now := now - ln(1 - random()) / lam;
      EXIT WHEN ceil(now * 7) > tdays;
      x := x + 1; tx := ceil(now * 7) / 7;
      EXIT WHEN random() < p;
    END LOOP;
    t := tdays / 7.0;
    IF x > 0 THEN
      nu := bench_rgamma(4, 1.0 / 15);
      m := round((bench_rgamma(6 * x, 1 / (x * nu)))::numeric, 2);
    ELSE
      m := 0;
    END IF;
    RETURN NEXT;
  END LOOP;
END \$\$;
SELECT setseed(0.2026);
CREATE TABLE bench_cust AS SELECT * FROM bench_customers($N);
CREATE TABLE bench_cust100k AS SELECT * FROM bench_cust WHERE id <= 100000;
VACUUM ANALYZE bench_cust;
VACUUM ANALYZE bench_cust100k;
-- wall-clock milliseconds of a query (the best of two runs)
CREATE FUNCTION bench_ms(q text) RETURNS float8 LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz; best float8 := 'Infinity'; r record;
BEGIN
  FOR k IN 1..2 LOOP
    t0 := clock_timestamp();
    EXECUTE q INTO r;
    best := least(best, 1000 * extract(epoch FROM clock_timestamp() - t0));
  END LOOP;
  RETURN best;
END \$\$;
SQL

"${PSQL[@]}" <<'SQL'
\pset footer off
SELECT count(*) AS customers, sum(x) AS repeat_purchases,
       round(avg((x = 0)::int)::numeric, 3) AS share_no_repeat,
       count(DISTINCT (x, tx, t)) AS distinct_rows
  FROM bench_cust;
CREATE TEMP TABLE fits AS
SELECT (SELECT clcm.bgnbd_fit(x, tx, t) FROM bench_cust) AS bg,
       (SELECT clcm.gamma_gamma_fit(x, m) FROM bench_cust) AS gg,
       (SELECT clcm.mbgnbd_fit(x, tx, t) FROM bench_cust) AS mbg;
SELECT bg AS bgnbd_fit_1m FROM fits;
SELECT gg AS gamma_gamma_fit_1m FROM fits;
SELECT mbg AS mbgnbd_fit_1m FROM fits;
SELECT clcm.pareto_nbd_fit(x, tx, t) AS pareto_nbd_fit_100k FROM bench_cust100k;
CREATE TEMP TABLE timings (step text, ms float8, base text);
INSERT INTO timings VALUES
 ('scan 1M (sum of the columns)', bench_ms('SELECT sum(x), sum(tx), sum(t), sum(m) FROM bench_cust'), NULL),
 ('bgnbd_fit 1M', bench_ms('SELECT clcm.bgnbd_fit(x, tx, t) FROM bench_cust'), 'scan 1M (sum of the columns)'),
 ('mbgnbd_fit 1M', bench_ms('SELECT clcm.mbgnbd_fit(x, tx, t) FROM bench_cust'), 'scan 1M (sum of the columns)'),
 ('gamma_gamma_fit 1M', bench_ms('SELECT clcm.gamma_gamma_fit(x, m) FROM bench_cust'), 'scan 1M (sum of the columns)'),
 ('score 1M: p_alive + expected_purchases(52)',
  bench_ms(format('SELECT sum(clcm.p_alive(%L::clcm.bgnbd, x, tx, t)), sum(clcm.expected_purchases(%L::clcm.bgnbd, 52, x, tx, t)) FROM bench_cust',
                  (SELECT bg FROM fits), (SELECT bg FROM fits))), 'scan 1M (sum of the columns)'),
 ('score 1M: p_alive only',
  bench_ms(format('SELECT sum(clcm.p_alive(%L::clcm.bgnbd, x, tx, t)) FROM bench_cust', (SELECT bg FROM fits))),
  'scan 1M (sum of the columns)'),
 ('scan 100k', bench_ms('SELECT sum(x), sum(tx), sum(t), sum(m) FROM bench_cust100k'), NULL),
 ('pareto_nbd_fit 100k', bench_ms('SELECT clcm.pareto_nbd_fit(x, tx, t) FROM bench_cust100k'), 'scan 100k'),
 ('clv 100k (52 weekly periods)',
  bench_ms(format('SELECT sum(clcm.clv(%L::clcm.bgnbd, %L::clcm.gamma_gamma, x, tx, t, m, 52, 0.002)) FROM bench_cust100k',
                  (SELECT bg FROM fits), (SELECT gg FROM fits))), 'scan 100k');
SELECT t.step, round(t.ms::numeric, 1) AS ms,
       CASE WHEN t.base IS NULL THEN 'baseline'
            ELSE round((t.ms / b.ms)::numeric, 1) || 'x ' || t.base END AS ratio
  FROM timings t LEFT JOIN timings b ON b.step = t.base;
SQL
echo "(machine shared with other jobs: 2 cores; see doc/performance.md)"
