-- 041_btyd_fit: SQLSTATEs of bad rows for the fitting aggregates, their
-- markings, empty input and non-convergence.
BEGIN;
SELECT plan(60);
SELECT throws_ok($$SELECT clcm.bgnbd_fit(x, tx, t) FROM (VALUES (1, 5.0, 4.0)) v(x, tx, t)$$, '22023', NULL, 'recency > t');
SELECT throws_ok($$SELECT clcm.bgnbd_fit(x, tx, t) FROM (VALUES (-1, 0.0, 4.0)) v(x, tx, t)$$, '22023', NULL, 'negative frequency');
SELECT throws_ok($$SELECT clcm.bgnbd_fit(x, tx, t) FROM (VALUES (1.5, 1.0, 4.0)) v(x, tx, t)$$, '22023', NULL, 'fractional frequency');
SELECT throws_ok($$SELECT clcm.bgnbd_fit(x, tx, t) FROM (VALUES (1, -1.0, 4.0)) v(x, tx, t)$$, '22023', NULL, 'negative recency');
SELECT throws_ok($$SELECT clcm.bgnbd_fit(x, tx, t) FROM (VALUES (0, 0.0, -4.0)) v(x, tx, t)$$, '22023', NULL, 'negative t');
SELECT throws_ok($$SELECT clcm.pareto_nbd_fit(x, tx, t) FROM (VALUES (1, 'NaN'::float8, 4.0)) v(x, tx, t)$$, '22023', NULL, 'NaN recency');
SELECT throws_ok($$SELECT clcm.mbgnbd_fit(x, tx, t) FROM (VALUES (1, 1, 'Infinity'::float8)) v(x, tx, t)$$, '22023', NULL, 'infinite t');
SELECT throws_ok($$SELECT clcm.mbgnbd_fit(x, tx, t) FROM (VALUES ('-Infinity'::float8, 1, 2)) v(x, tx, t)$$, '22023', NULL, 'infinite frequency');
SELECT throws_ok($$SELECT clcm.bgnbd_fit(x, tx, t) FROM (VALUES (1, 0.0, 4.0)) v(x, tx, t)$$, '22023', NULL, 'frequency > 0 with recency 0');
SELECT throws_ok($$SELECT clcm.pareto_nbd_fit(x, tx, t) FROM (VALUES (0, 2.0, 4.0)) v(x, tx, t)$$, '22023', NULL, 'frequency 0 with recency > 0');
SELECT throws_ok($$SELECT clcm.bgnbd_fit(x, tx, t, -1) FROM (VALUES (0, 0.0, 4.0)) v(x, tx, t)$$, '22023', NULL, 'negative penalizer');
SELECT throws_ok($$SELECT clcm.bgnbd_fit(x, tx, t, 'NaN') FROM (VALUES (0, 0.0, 4.0)) v(x, tx, t)$$, '22023', NULL, 'NaN penalizer');
SELECT throws_ok($$SELECT clcm.bgnbd_fit(x, tx, t, x) FROM (VALUES (0, 0.0, 4.0), (1, 1.0, 4.0)) v(x, tx, t)$$, '22023', NULL, 'penalizer changing between rows');
SELECT throws_ok($$SELECT clcm.gamma_gamma_fit(x, m) FROM (VALUES (2, -3.0)) v(x, m)$$, '22023', NULL, 'negative monetary value');
SELECT throws_ok($$SELECT clcm.gamma_gamma_fit(x, m) FROM (VALUES (2, 0.0)) v(x, m)$$, '22023', NULL, 'zero monetary value of a repeat buyer');
SELECT throws_ok($$SELECT clcm.gamma_gamma_fit(x, m) FROM (VALUES (2, 'NaN'::float8)) v(x, m)$$, '22023', NULL, 'NaN monetary value');
SELECT throws_ok($$SELECT clcm.gamma_gamma_fit(x, m) FROM (VALUES (2.5, 3.0)) v(x, m)$$, '22023', NULL, 'fractional frequency (gamma_gamma)');
SELECT throws_ok($$SELECT clcm.bgbb_fit(x, tx, n) FROM (VALUES (3, 2, 6)) v(x, tx, n)$$, '22023', NULL, 'bgbb frequency > recency');
SELECT throws_ok($$SELECT clcm.bgbb_fit(x, tx, n) FROM (VALUES (1, 7, 6)) v(x, tx, n)$$, '22023', NULL, 'bgbb recency > n');
SELECT throws_ok($$SELECT clcm.bgbb_fit(x, tx, n) FROM (VALUES (1, 1.5, 6)) v(x, tx, n)$$, '22023', NULL, 'bgbb fractional recency');
SELECT throws_ok($$SELECT clcm.bgbb_fit(x, tx, n) FROM (VALUES (1, 1, 6.5)) v(x, tx, n)$$, '22023', NULL, 'bgbb fractional n');
SELECT throws_ok($$SELECT clcm.bgbb_fit(x, tx, n, w) FROM (VALUES (1, 1, 6, -2)) v(x, tx, n, w)$$, '22023', NULL, 'bgbb negative weight');
SELECT throws_ok($$SELECT clcm.bgbb_fit(x, tx, n, w) FROM (VALUES (1, 1, 6, 'Infinity'::float8)) v(x, tx, n, w)$$, '22023', NULL, 'bgbb infinite weight');
SELECT throws_ok($$SELECT clcm.bgnbd_fit_final('mbgnbd;penalizer=0;[0,0,1,1]'::clcm.btyd_fit_state)$$, '22023', NULL, 'final function of another model');
SELECT throws_ok($$SELECT clcm.btyd_fit_combine('mbgnbd;penalizer=0;[0,0,1,1]', 'bgnbd;penalizer=0;[0,0,1,1]')$$, '22023', NULL, 'combining states of two models');
SELECT throws_ok($$SELECT clcm.bgbb_fit_trans('bgnbd;penalizer=0.1;[1,2,3,1]'::clcm.btyd_fit_state, 2, 2, 2)$$, '22023', 'a bgnbd fit state cannot be used by bgbb_fit', 'transition function given a state of another model');
SELECT throws_ok($$SELECT clcm.gamma_gamma_fit_trans('pareto_nbd;penalizer=0;[1,2,3,1]'::clcm.btyd_fit_state, 2, 3)$$, '22023', 'a pareto_nbd fit state cannot be used by gamma_gamma_fit', 'gamma_gamma transition function given a state of another model');
SELECT throws_ok($$SELECT clcm.bgbb_fit_final('bgnbd;penalizer=0.1;[1,2,3,1]'::clcm.btyd_fit_state)$$, '22023', 'a bgnbd fit state cannot be used by bgbb_fit', 'final function given a state of another model');
SELECT throws_ok($$SELECT clcm.bgbb_fit(2, 2, 1e9, 2, 2) FROM generate_series(1, 2)$$, '22023', NULL, 'absurd number of BG/BB periods');
SELECT is((SELECT a.aggcombinefn::text || ' ' || p.proparallel::text || ' ' || (a.aggtranstype = 'clcm.btyd_fit_state'::regtype)
             FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
            WHERE p.pronamespace = 'clcm'::regnamespace AND p.proname = 'bgnbd_fit' AND p.pronargs = 3),
          'clcm.btyd_fit_combine s true', 'bgnbd_fit/3 has a combine function, a non-internal state and is parallel safe');
SELECT is((SELECT a.aggcombinefn::text || ' ' || p.proparallel::text || ' ' || (a.aggtranstype = 'clcm.btyd_fit_state'::regtype)
             FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
            WHERE p.pronamespace = 'clcm'::regnamespace AND p.proname = 'bgnbd_fit' AND p.pronargs = 4),
          'clcm.btyd_fit_combine s true', 'bgnbd_fit/4 has a combine function, a non-internal state and is parallel safe');
SELECT is((SELECT a.aggcombinefn::text || ' ' || p.proparallel::text || ' ' || (a.aggtranstype = 'clcm.btyd_fit_state'::regtype)
             FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
            WHERE p.pronamespace = 'clcm'::regnamespace AND p.proname = 'pareto_nbd_fit' AND p.pronargs = 3),
          'clcm.btyd_fit_combine s true', 'pareto_nbd_fit/3 has a combine function, a non-internal state and is parallel safe');
SELECT is((SELECT a.aggcombinefn::text || ' ' || p.proparallel::text || ' ' || (a.aggtranstype = 'clcm.btyd_fit_state'::regtype)
             FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
            WHERE p.pronamespace = 'clcm'::regnamespace AND p.proname = 'pareto_nbd_fit' AND p.pronargs = 4),
          'clcm.btyd_fit_combine s true', 'pareto_nbd_fit/4 has a combine function, a non-internal state and is parallel safe');
SELECT is((SELECT a.aggcombinefn::text || ' ' || p.proparallel::text || ' ' || (a.aggtranstype = 'clcm.btyd_fit_state'::regtype)
             FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
            WHERE p.pronamespace = 'clcm'::regnamespace AND p.proname = 'mbgnbd_fit' AND p.pronargs = 3),
          'clcm.btyd_fit_combine s true', 'mbgnbd_fit/3 has a combine function, a non-internal state and is parallel safe');
SELECT is((SELECT a.aggcombinefn::text || ' ' || p.proparallel::text || ' ' || (a.aggtranstype = 'clcm.btyd_fit_state'::regtype)
             FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
            WHERE p.pronamespace = 'clcm'::regnamespace AND p.proname = 'mbgnbd_fit' AND p.pronargs = 4),
          'clcm.btyd_fit_combine s true', 'mbgnbd_fit/4 has a combine function, a non-internal state and is parallel safe');
SELECT is((SELECT a.aggcombinefn::text || ' ' || p.proparallel::text || ' ' || (a.aggtranstype = 'clcm.btyd_fit_state'::regtype)
             FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
            WHERE p.pronamespace = 'clcm'::regnamespace AND p.proname = 'gamma_gamma_fit' AND p.pronargs = 2),
          'clcm.btyd_fit_combine s true', 'gamma_gamma_fit/2 has a combine function, a non-internal state and is parallel safe');
SELECT is((SELECT a.aggcombinefn::text || ' ' || p.proparallel::text || ' ' || (a.aggtranstype = 'clcm.btyd_fit_state'::regtype)
             FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
            WHERE p.pronamespace = 'clcm'::regnamespace AND p.proname = 'gamma_gamma_fit' AND p.pronargs = 3),
          'clcm.btyd_fit_combine s true', 'gamma_gamma_fit/3 has a combine function, a non-internal state and is parallel safe');
SELECT is((SELECT a.aggcombinefn::text || ' ' || p.proparallel::text || ' ' || (a.aggtranstype = 'clcm.btyd_fit_state'::regtype)
             FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
            WHERE p.pronamespace = 'clcm'::regnamespace AND p.proname = 'bgbb_fit' AND p.pronargs = 3),
          'clcm.btyd_fit_combine s true', 'bgbb_fit/3 has a combine function, a non-internal state and is parallel safe');
SELECT is((SELECT a.aggcombinefn::text || ' ' || p.proparallel::text || ' ' || (a.aggtranstype = 'clcm.btyd_fit_state'::regtype)
             FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
            WHERE p.pronamespace = 'clcm'::regnamespace AND p.proname = 'bgbb_fit' AND p.pronargs = 4),
          'clcm.btyd_fit_combine s true', 'bgbb_fit/4 has a combine function, a non-internal state and is parallel safe');
SELECT is((SELECT a.aggcombinefn::text || ' ' || p.proparallel::text || ' ' || (a.aggtranstype = 'clcm.btyd_fit_state'::regtype)
             FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
            WHERE p.pronamespace = 'clcm'::regnamespace AND p.proname = 'bgbb_fit' AND p.pronargs = 5),
          'clcm.btyd_fit_combine s true', 'bgbb_fit/5 has a combine function, a non-internal state and is parallel safe');
SELECT volatility_is('clcm', 'bgnbd_fit_final', ARRAY['clcm.btyd_fit_state']::name[], 'immutable');
SELECT is_strict('clcm', 'bgnbd_fit_final', ARRAY['clcm.btyd_fit_state']::name[]);
SELECT isnt_definer('clcm', 'bgnbd_fit_final', ARRAY['clcm.btyd_fit_state']::name[]);
SELECT volatility_is('clcm', 'pareto_nbd_fit_final', ARRAY['clcm.btyd_fit_state']::name[], 'immutable');
SELECT is_strict('clcm', 'pareto_nbd_fit_final', ARRAY['clcm.btyd_fit_state']::name[]);
SELECT isnt_definer('clcm', 'pareto_nbd_fit_final', ARRAY['clcm.btyd_fit_state']::name[]);
SELECT volatility_is('clcm', 'mbgnbd_fit_final', ARRAY['clcm.btyd_fit_state']::name[], 'immutable');
SELECT is_strict('clcm', 'mbgnbd_fit_final', ARRAY['clcm.btyd_fit_state']::name[]);
SELECT isnt_definer('clcm', 'mbgnbd_fit_final', ARRAY['clcm.btyd_fit_state']::name[]);
SELECT volatility_is('clcm', 'bgbb_fit_final', ARRAY['clcm.btyd_fit_state']::name[], 'immutable');
SELECT is_strict('clcm', 'bgbb_fit_final', ARRAY['clcm.btyd_fit_state']::name[]);
SELECT isnt_definer('clcm', 'bgbb_fit_final', ARRAY['clcm.btyd_fit_state']::name[]);
SELECT volatility_is('clcm', 'gamma_gamma_fit_final', ARRAY['clcm.btyd_fit_state']::name[], 'immutable');
SELECT is_strict('clcm', 'gamma_gamma_fit_final', ARRAY['clcm.btyd_fit_state']::name[]);
SELECT isnt_definer('clcm', 'gamma_gamma_fit_final', ARRAY['clcm.btyd_fit_state']::name[]);
SELECT ok((SELECT clcm.bgnbd_fit(x, tx, t) IS NULL FROM (VALUES (0, 0.0, 1.0)) v(x, tx, t) WHERE false), 'empty input gives NULL');
SELECT ok((SELECT clcm.gamma_gamma_fit(x, m) IS NULL FROM (VALUES (0, 0.0)) v(x, m)), 'no repeat buyer gives NULL');
SELECT is((SELECT clcm.params(clcm.bgnbd_fit(x, tx, t))->'converged' FROM (VALUES (0, 0.0, 10.0)) v(x, tx, t)),
          'false'::jsonb, 'a fit without an interior maximum says converged=false');
SELECT throws_ok($$SELECT clcm.p_alive(clcm.bgnbd_fit(x, tx, t), 0, 0, 1) FROM (VALUES (0, 0.0, 10.0)) v(x, tx, t)$$,
                 '22023', NULL, 'a model that did not converge cannot be scored');
SELECT throws_ok($$SELECT clcm.bgbb_fit(x, tx, n) FROM (VALUES (1, 1, 2e6)) v(x, tx, n)$$, '22023', NULL, 'absurd bgbb n');
SELECT * FROM finish();
ROLLBACK;
