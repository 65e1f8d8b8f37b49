-- 044_btyd_truth: the fits reproduce the published estimates on CDNOW and
-- the donations data (see doc/btyd.md for the references).
BEGIN;
SELECT plan(22);
CREATE TEMP TABLE cd (id int, x int, tx float8, t float8, zbar float8);
\copy cd FROM 'test/data/cdnow_summary_zbar.csv' CSV HEADER
CREATE TEMP TABLE don (x int, tx int, n int, w int);
\copy don FROM 'test/data/donations.csv' CSV HEADER
CREATE TEMP TABLE fits AS
SELECT clcm.params(clcm.bgnbd_fit(x, tx, t)) AS bg,
       clcm.params(clcm.pareto_nbd_fit(x, tx, t)) AS pn,
       clcm.params(clcm.mbgnbd_fit(x, tx, t)) AS mbg,
       clcm.params(clcm.gamma_gamma_fit(x, zbar)) AS gg,
       (SELECT clcm.params(clcm.bgbb_fit(x, tx, n, w)) FROM don) AS bb
  FROM cd;
-- BG/NBD (Fader, Hardie & Lee 2005): 0.243, 4.414, 0.793, 2.426, -9582.4
SELECT ok(abs((bg->>'r')::float8 - 0.243) < 0.0005, 'BG/NBD r') FROM fits;
SELECT ok(abs((bg->>'alpha')::float8 - 4.414) < 0.0005, 'BG/NBD alpha') FROM fits;
SELECT ok(abs((bg->>'a')::float8 - 0.793) < 0.0005, 'BG/NBD a') FROM fits;
SELECT ok(abs((bg->>'b')::float8 - 2.426) < 0.0005, 'BG/NBD b') FROM fits;
SELECT ok(abs((bg->>'ll')::float8 + 9582.4) < 0.05, 'BG/NBD log-likelihood') FROM fits;
-- Pareto/NBD (note 008): 0.55, 10.58, 0.61, 11.67, -9595.0
SELECT ok(abs((pn->>'r')::float8 - 0.55) < 0.005, 'Pareto/NBD r') FROM fits;
SELECT ok(abs((pn->>'alpha')::float8 - 10.58) < 0.005, 'Pareto/NBD alpha') FROM fits;
SELECT ok(abs((pn->>'s')::float8 - 0.61) < 0.005, 'Pareto/NBD s') FROM fits;
SELECT ok(abs((pn->>'beta')::float8 - 11.67) < 0.005, 'Pareto/NBD beta') FROM fits;
SELECT ok(abs((pn->>'ll')::float8 + 9595.0) < 0.05, 'Pareto/NBD log-likelihood') FROM fits;
-- MBG/NBD: converged, log-likelihood within 1 of BG/NBD's
SELECT is(mbg->'converged', 'true'::jsonb, 'MBG/NBD converged') FROM fits;
SELECT ok(abs((mbg->>'ll')::float8 - (bg->>'ll')::float8) < 1, 'MBG/NBD ll close to BG/NBD ll') FROM fits;
-- Gamma-Gamma (note 025): 6.25, 3.74, 15.44 on 946 repeat buyers
SELECT ok(abs((gg->>'p')::float8 - 6.25) < 0.005, 'Gamma-Gamma p') FROM fits;
SELECT ok(abs((gg->>'q')::float8 - 3.74) < 0.005, 'Gamma-Gamma q') FROM fits;
SELECT ok(abs((gg->>'gamma')::float8 - 15.44) < 0.01, 'Gamma-Gamma gamma') FROM fits;
SELECT is((gg->>'n')::float8, 946::float8, 'Gamma-Gamma uses the repeat buyers') FROM fits;
-- BG/BB (Fader, Hardie & Shang 2010): 1.204, 0.750, 0.657, 2.783, -33225.6
SELECT ok(abs((bb->>'alpha')::float8 - 1.204) < 0.0005, 'BG/BB alpha') FROM fits;
SELECT ok(abs((bb->>'beta')::float8 - 0.750) < 0.0005, 'BG/BB beta') FROM fits;
SELECT ok(abs((bb->>'gamma')::float8 - 0.657) < 0.0005, 'BG/BB gamma') FROM fits;
SELECT ok(abs((bb->>'delta')::float8 - 2.783) < 0.0005, 'BG/BB delta') FROM fits;
SELECT ok(abs((bb->>'ll')::float8 + 33225.6) < 0.05, 'BG/BB log-likelihood') FROM fits;
SELECT is((bb->>'n')::float8, 11104::float8, 'BG/BB counts the weighted donors') FROM fits;
SELECT * FROM finish();
ROLLBACK;
