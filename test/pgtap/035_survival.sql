-- 035_survival: SQLSTATEs of the documented survival errors and the
-- markings of the survival functions.
BEGIN;
SELECT plan(22);
SELECT throws_ok($$SELECT clcm.survival(-1, true)$$, '22023', NULL, 'negative duration');
SELECT throws_ok($$SELECT clcm.survival('NaN', false)$$, '22023', NULL, 'NaN duration');
SELECT throws_ok($$SELECT clcm.survival('infinity', true)$$, '22023', NULL, 'infinite duration');
SELECT throws_ok($$SELECT '{1:1}'::clcm.survival_curve$$, '22P02', NULL, 'malformed curve');
SELECT throws_ok($$SELECT '{2:1:0,1:1:0}'::clcm.survival_curve$$, '22P02', NULL, 'unsorted curve');
SELECT throws_ok($$SELECT '{1:-1:0}'::clcm.survival_curve$$, '22P02', NULL, 'negative count');
SELECT throws_ok($$SELECT '{1:9223372036854775807:9223372036854775807}'::clcm.survival_curve$$, '22P02',
                 NULL, 'counts above 2^61 - 1 are refused before summing');
SELECT throws_ok($$SELECT clcm.survival_merge(c) FROM (SELECT '{1:2305843009213693951:0}'::clcm.survival_curve c
                     FROM generate_series(1, 5)) s$$, '22003', NULL, 'merged counts out of bigint range');
SELECT is(clcm.survival(1e-310, true)::text::clcm.survival_curve::text, '{1e-310:1:0}',
          'a subnormal duration reads back (dump and restore)');
SELECT throws_ok($$SELECT '{1e-400:1:0}'::clcm.survival_curve$$, '22P02', NULL, 'a duration that underflows to zero');
SELECT is(clcm.survival_sfunc(clcm.survival_sfunc(NULL, 2, false), 1, true)::text, '{1:1:0,2:0:1}',
          'survival_sfunc works as a plain function (finished curve)');
SELECT is(clcm.survival_combine('{1:1:0}', '{1:0:2,3:1:0}')::text, '{1:1:2,3:1:0}',
          'survival_combine works as a plain function');
SELECT ok((SELECT clcm.survival(d, true) FROM (VALUES (1.0)) v(d) WHERE false) IS NULL, 'empty input gives NULL');
SELECT is((SELECT clcm.survival(d, o)::text FROM (VALUES (1.0, true), (NULL, true), (2, NULL)) v(d, o)),
          '{1:1:0}', 'rows with a NULL are skipped');
SELECT is(clcm.median_lifetime('{1:0:3}'), NULL, 'no median when survival stays above 0.5');
SELECT volatility_is('clcm', 'survival_table', ARRAY['clcm.survival_curve'], 'immutable');
SELECT is_strict('clcm', 'survival_table', ARRAY['clcm.survival_curve']);
SELECT volatility_is('clcm', 'median_lifetime', ARRAY['clcm.survival_curve'], 'immutable');
SELECT is_strict('clcm', 'median_lifetime', ARRAY['clcm.survival_curve']);
SELECT isnt_definer('clcm', 'median_lifetime', ARRAY['clcm.survival_curve']);
SELECT is((SELECT count(*)::int FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'clcm' AND (p.proname LIKE 'survival%' OR p.proname = 'median_lifetime')
              AND (p.proparallel <> 's' OR p.prosecdef)), 0, 'survival functions are PARALLEL SAFE, not definer');
SELECT is((SELECT count(*)::int FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
             JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'clcm' AND p.proname IN ('survival', 'survival_merge')
              AND a.aggcombinefn <> 0 AND a.aggtranstype = 'clcm.survival_curve'::regtype), 2,
          'survival aggregates: non-internal state with a combine function');
SELECT * FROM finish();
ROLLBACK;
