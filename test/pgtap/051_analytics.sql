-- 051_analytics: markings and the SQLSTATE of every documented error of
-- the transition analytics (clcm.markov, projection, CLV, funnel, dwell).
BEGIN;
SELECT plan(40);

SELECT has_type('clcm', 'markov', 'type clcm.markov exists');
SELECT volatility_is('clcm', 'markov_in', ARRAY['cstring'], 'immutable');
SELECT is_strict('clcm', 'markov_in', ARRAY['cstring']);
SELECT volatility_is('clcm', 'markov_table', ARRAY['clcm.markov'], 'immutable');
SELECT volatility_is('clcm', 'markov_project', ARRAY['clcm.markov', 'double precision[]', 'integer'], 'immutable');
SELECT is_strict('clcm', 'markov_project', ARRAY['clcm.markov', 'double precision[]', 'integer']);
SELECT volatility_is('clcm', 'markov_clv', ARRAY['clcm.markov', 'double precision[]', 'double precision', 'integer'], 'immutable');
SELECT isnt_strict('clcm', 'markov_clv', ARRAY['clcm.markov', 'double precision[]', 'double precision', 'integer']);
SELECT volatility_is('clcm', 'funnel', ARRAY['text', 'timestamp with time zone', 'regclass'], 'stable');
SELECT volatility_is('clcm', 'stage_dwell', ARRAY['text', 'timestamp with time zone', 'regclass'], 'stable');
SELECT volatility_is('clcm', 'history_matrix', ARRAY['text', 'timestamp with time zone', 'timestamp with time zone', 'regclass'], 'stable');
SELECT isnt_definer('clcm', 'funnel', ARRAY['text', 'timestamp with time zone', 'regclass']);
SELECT isnt_definer('clcm', 'stage_dwell', ARRAY['text', 'timestamp with time zone', 'regclass']);
SELECT isnt_definer('clcm', 'history_matrix', ARRAY['text', 'timestamp with time zone', 'timestamp with time zone', 'regclass']);
SELECT isnt_definer('clcm', 'markov_clv', ARRAY['clcm.markov', 'double precision[]', 'double precision', 'integer']);
SELECT ok((SELECT proparallel = 's' FROM pg_proc
            WHERE oid = 'clcm.transition_matrix(anyenum, anyenum)'::regprocedure),
          'transition_matrix is parallel safe');
SELECT ok((SELECT aggcombinefn <> 0 FROM pg_aggregate
            WHERE aggfnoid = 'clcm.transition_matrix(anyenum, anyenum)'::regprocedure),
          'transition_matrix has a combine function');

-- markov literals
SELECT throws_ok($$SELECT '{"stages": ["a"], "counts": [[1, 2]]}'::clcm.markov$$,
                 '22P02', NULL, 'malformed matrix literal');
SELECT throws_ok($$SELECT '{"stages": ["a", "a"], "counts": [[0, 0], [0, 0]]}'::clcm.markov$$,
                 '22P02', NULL, 'duplicate stage');
SELECT throws_ok($$SELECT '{"stages": ["a"], "counts": [[99999999999999999999]]}'::clcm.markov$$,
                 '22003', NULL, 'count overflow');
SELECT throws_ok($$SELECT '{"stages": ["a","b"], "counts": [[1,2],[3,4]]}'::clcm.markov
                          OPERATOR(clcm.+) '{"stages": ["b","a"], "counts": [[1,2],[3,4]]}'::clcm.markov$$,
                 '22023', NULL, 'adding matrices over different stages');
SELECT is(('{"stages": ["a","b"], "counts": [[1,2],[3,4]]}'::clcm.markov)::text::clcm.markov::text,
          '{"stages": ["a", "b"], "counts": [[1, 2], [3, 4]]}', 'text round trip');

-- projection and CLV arguments
SELECT throws_ok($$SELECT clcm.markov_project('{"stages": ["a","b"], "counts": [[1,2],[3,4]]}', ARRAY[1]::float8[], 1)$$,
                 '2202E', NULL, 'start of the wrong length');
SELECT throws_ok($$SELECT clcm.markov_project('{"stages": ["a","b"], "counts": [[1,2],[3,4]]}', ARRAY[1,-1]::float8[], 1)$$,
                 '22023', NULL, 'negative start');
SELECT throws_ok($$SELECT clcm.markov_project('{"stages": ["a","b"], "counts": [[1,2],[3,4]]}', ARRAY[1,'NaN']::float8[], 1)$$,
                 '22023', NULL, 'NaN start');
SELECT throws_ok($$SELECT clcm.markov_project('{"stages": ["a","b"], "counts": [[1,2],[3,4]]}', ARRAY[1,NULL]::float8[], 1)$$,
                 '22004', NULL, 'NULL in start');
SELECT throws_ok($$SELECT clcm.markov_project('{"stages": ["a","b"], "counts": [[1,2],[3,4]]}', ARRAY[1,0]::float8[], -1)$$,
                 '22023', NULL, 'negative steps');
SELECT throws_ok($$SELECT * FROM clcm.markov_clv('{"stages": ["a"], "counts": [[1]]}', ARRAY[1]::float8[], 0)$$,
                 '22023', NULL, 'infinite horizon needs a positive discount rate');
SELECT throws_ok($$SELECT * FROM clcm.markov_clv('{"stages": ["a"], "counts": [[1]]}', ARRAY[1]::float8[], -0.5, 2)$$,
                 '22023', NULL, 'negative discount rate');
SELECT throws_ok($$SELECT * FROM clcm.markov_clv('{"stages": ["a"], "counts": [[1]]}', ARRAY[1]::float8[], 'NaN', 2)$$,
                 '22023', NULL, 'NaN discount rate');
SELECT throws_ok($$SELECT * FROM clcm.markov_clv('{"stages": ["a"], "counts": [[1]]}', NULL, 0.1, 2)$$,
                 '22004', NULL, 'NULL margins');
SELECT throws_ok($$SELECT * FROM clcm.markov_clv('{"stages": ["a"], "counts": [[1]]}', ARRAY[1]::float8[], 0.1, -2)$$,
                 '22023', NULL, 'negative horizon');
SELECT throws_ok($$SELECT * FROM clcm.markov_clv('{"stages": ["a"], "counts": [[1]]}', ARRAY[1, 2]::float8[], 0.1)$$,
                 '2202E', NULL, 'margins of the wrong length');

-- history analytics
SELECT throws_ok($$SELECT * FROM clcm.funnel('nosuch')$$, '22023', NULL, 'funnel of an unknown model');
SELECT throws_ok($$SELECT * FROM clcm.stage_dwell(NULL)$$, '22004', NULL, 'dwell of a NULL model');
SELECT throws_ok($$SELECT clcm.history_matrix('nosuch')$$, '22023', NULL, 'matrix of an unknown model');
-- the aggregate support functions called as plain functions (harden-5)
SELECT is(clcm.markov_accum(NULL, 'new'::clcm.lifecycle_stage, 'active'::clcm.lifecycle_stage)::text,
          clcm.transition_matrix(a, b)::text, 'markov_accum as a plain function')
  FROM (VALUES ('new'::clcm.lifecycle_stage, 'active'::clcm.lifecycle_stage)) v(a, b);
SELECT ok(clcm.markov_combine(NULL::clcm.markov, NULL::clcm.markov) IS NULL,
          'markov_combine of two NULLs is NULL');
SELECT throws_ok($$SELECT clcm.markov_accum(clcm.markov_accum(NULL, 'new'::clcm.lifecycle_stage, 'active'::clcm.lifecycle_stage),
                                            'lead'::clcm.insurance_stage, 'quoted'::clcm.insurance_stage)$$,
                 '22023', NULL, 'markov_accum with a matrix over other stages');
SELECT throws_ok($$SELECT clcm.markov_combine(clcm.markov_accum(NULL, 'new'::clcm.lifecycle_stage, 'active'::clcm.lifecycle_stage),
                                              clcm.markov_accum(NULL, 'lead'::clcm.insurance_stage, 'quoted'::clcm.insurance_stage))$$,
                 '22023', NULL, 'markov_combine of matrices over different stages');

SELECT * FROM finish();
ROLLBACK;
