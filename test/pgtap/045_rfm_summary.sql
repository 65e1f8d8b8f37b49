-- 045_rfm_summary: clcm.rfm_summary and clcm.rfm_state: markings and the
-- SQLSTATE of every documented error.
BEGIN;
SELECT plan(46);
SET LOCAL TimeZone = 'UTC';

SELECT has_type('clcm', 'rfm_state', 'type clcm.rfm_state exists');
SELECT has_composite('clcm', 'rfm_summary', 'composite type clcm.rfm_summary exists');
SELECT is_aggregate('clcm', 'rfm_summary', ARRAY['timestamp with time zone', 'numeric', 'timestamp with time zone'],
                    'rfm_summary(ts, amount, observation_end) is an aggregate');
SELECT is_aggregate('clcm', 'rfm_summary', ARRAY['timestamp with time zone', 'numeric', 'timestamp with time zone', 'text'],
                    'rfm_summary(ts, amount, observation_end, unit) is an aggregate');
SELECT is_aggregate('clcm', 'rfm_summary', ARRAY['timestamp with time zone', 'timestamp with time zone'],
                    'rfm_summary(ts, observation_end) is an aggregate');
SELECT is((SELECT count(*)::int FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
            WHERE p.proname = 'rfm_summary' AND p.pronamespace = 'clcm'::regnamespace
              AND a.aggcombinefn <> 0 AND p.proparallel = 's'
              AND a.aggtranstype = 'clcm.rfm_state'::regtype), 3,
          'all three rfm_summary aggregates have a combine function, a non-internal state and are parallel safe');

-- support functions
SELECT volatility_is('clcm', 'rfm_summary_transfn', ARRAY['clcm.rfm_state', 'timestamp with time zone', 'numeric', 'timestamp with time zone'], 'stable',
                     'the transition function is stable (it reads TimeZone)');
SELECT volatility_is('clcm', 'rfm_summary_transfn', ARRAY['clcm.rfm_state', 'timestamp with time zone', 'numeric', 'timestamp with time zone', 'text'], 'stable');
SELECT volatility_is('clcm', 'rfm_summary_noamount_transfn', ARRAY['clcm.rfm_state', 'timestamp with time zone', 'timestamp with time zone'], 'stable');
SELECT isnt_strict('clcm', 'rfm_summary_transfn', ARRAY['clcm.rfm_state', 'timestamp with time zone', 'numeric', 'timestamp with time zone', 'text'],
                   'the transition function is not strict (it checks NULLs itself)');
SELECT volatility_is('clcm', 'rfm_summary_combine', ARRAY['clcm.rfm_state', 'clcm.rfm_state'], 'immutable');
SELECT is_strict('clcm', 'rfm_summary_combine', ARRAY['clcm.rfm_state', 'clcm.rfm_state']);
SELECT volatility_is('clcm', 'rfm_summary_final', ARRAY['clcm.rfm_state'], 'immutable');
SELECT is_strict('clcm', 'rfm_summary_final', ARRAY['clcm.rfm_state']);
SELECT volatility_is('clcm', 'rfm_state_in', ARRAY['cstring'], 'immutable');
SELECT is_strict('clcm', 'rfm_state_out', ARRAY['clcm.rfm_state']);
SELECT is((SELECT count(*)::int FROM pg_proc
            WHERE pronamespace = 'clcm'::regnamespace AND prosecdef
              AND (proname LIKE 'rfm%' OR proname LIKE 'clv_simple%' OR proname LIKE 'clv_historic%')), 0,
          'no RFM or simple-CLV function is SECURITY DEFINER');
SELECT isnt_definer('clcm', 'rfm_summary_transfn', ARRAY['clcm.rfm_state', 'timestamp with time zone', 'numeric', 'timestamp with time zone', 'text']);
SELECT is((SELECT count(*)::int FROM pg_proc
            WHERE pronamespace = 'clcm'::regnamespace AND proparallel <> 's'
              AND (proname LIKE 'rfm%' OR proname LIKE 'clv_simple%' OR proname LIKE 'clv_historic%')), 0,
          'every RFM and simple-CLV function is parallel safe');

-- a result to show the aggregate works here
SELECT is((SELECT clcm.rfm_summary(ts, 10, '2024-01-31', 'week')
             FROM (VALUES ('2024-01-01'::timestamptz), ('2024-01-15')) v(ts)),
          ROW(1, 2.0, 30.0 / 7, 10.0)::clcm.rfm_summary, 'two purchases two weeks apart');

-- 22023 invalid_parameter_value
SELECT throws_ok($$SELECT clcm.rfm_summary(now(), 1, now(), 'fortnight')$$, '22023',
                 'unrecognized unit "fortnight" for clcm.rfm_summary', 'unrecognized unit');
SELECT throws_ok($$SELECT clcm.rfm_summary(now(), -1, now())$$, '22023',
                 'amount cannot be negative', 'negative amount');
SELECT throws_ok($$SELECT clcm.rfm_summary(now(), 'NaN', now())$$, '22023',
                 'amount cannot be NaN', 'NaN amount');
SELECT throws_ok($$SELECT clcm.rfm_summary(now(), 'Infinity', now())$$, '22023',
                 'amount cannot be infinite', 'infinite amount');
SELECT throws_ok($$SELECT clcm.rfm_summary(now(), '-Infinity', now())$$, '22023', NULL, 'minus infinite amount');
SELECT throws_ok($$SELECT clcm.rfm_summary(ts, 1, e) FROM (VALUES ('2024-01-01'::timestamptz, '2024-02-01'::timestamptz), ('2024-01-02', '2024-02-02')) v(ts, e)$$,
                 '22023', NULL, 'observation_end changing within a group');
SELECT throws_ok($$SELECT clcm.rfm_summary(ts, 1, '2024-02-01', u) FROM (VALUES ('2024-01-01'::timestamptz, 'day'), ('2024-01-02', 'year')) v(ts, u)$$,
                 '22023', NULL, 'unit changing within a group');
SELECT throws_ok($$SELECT clcm.rfm_summary_combine('unit=day;end=9;sorted=1;first_amount=0;total=0;days=1', 'unit=week;end=9;sorted=1;first_amount=0;total=0;days=1')$$,
                 '22023', NULL, 'combining states of different units');
-- 22004 null_value_not_allowed
SELECT throws_ok($$SELECT clcm.rfm_summary(now(), NULL, now())$$, '22004',
                 'amount of clcm.rfm_summary cannot be NULL', 'NULL amount');
SELECT throws_ok($$SELECT clcm.rfm_summary(now(), 1, NULL)$$, '22004',
                 'observation_end of clcm.rfm_summary cannot be NULL', 'NULL observation_end');
SELECT throws_ok($$SELECT clcm.rfm_summary(now(), 1, now(), NULL)$$, '22004',
                 'unit of clcm.rfm_summary cannot be NULL', 'NULL unit');
SELECT throws_ok($$SELECT clcm.rfm_summary(now(), NULL::timestamptz)$$, '22004', NULL,
                 'NULL observation_end without amount');
-- 22003 numeric_value_out_of_range
SELECT throws_ok($$SELECT clcm.rfm_summary(now(), 1e18, now())$$, '22003',
                 'amount is out of range', 'amount of 10^18');
SELECT throws_ok($$SELECT clcm.rfm_summary_combine('unit=day;end=9;sorted=1;first_amount=0;total=90000000000000000000000000000;days=1', 'unit=day;end=9;sorted=1;first_amount=0;total=10000000000000000000000000000;days=2')$$,
                 '22003', 'sum of amounts is out of range in clcm.rfm_summary', 'sum of 10^29');
-- 22008 datetime_value_out_of_range
SELECT throws_ok($$SELECT clcm.rfm_summary('infinity', 1, now())$$, '22008',
                 'purchase timestamp cannot be infinite', 'infinite purchase time');
SELECT throws_ok($$SELECT clcm.rfm_summary('-infinity', 1, now())$$, '22008', NULL, 'minus infinite purchase time');
SELECT throws_ok($$SELECT clcm.rfm_summary(now(), 1, 'infinity')$$, '22008',
                 'observation_end cannot be infinite', 'infinite observation_end');
-- 22P02 invalid_text_representation
SELECT throws_ok($$SELECT 'x'::clcm.rfm_state$$, '22P02',
                 'invalid input syntax for type rfm_state: "x"', 'malformed state');
SELECT throws_ok($$SELECT 'unit=day;end=0;sorted=1;first_amount=0;total=0;days=1'::clcm.rfm_state$$, '22P02', NULL,
                 'a purchase day after the end');
SELECT throws_ok($$SELECT 'unit=day;end=9;sorted=1;first_amount=0;total=0;days=5,4'::clcm.rfm_state$$, '22P02', NULL,
                 'unsorted days marked sorted');
SELECT throws_ok($$SELECT 'unit=day;end=9;sorted=1;first_amount=2;total=1;days=5'::clcm.rfm_state$$, '22P02', NULL,
                 'total below first_amount');

-- NULL and empty results are documented, not errors
SELECT is((SELECT clcm.rfm_summary(ts, 1, '2024-01-01') FROM (VALUES (NULL::timestamptz)) v(ts)), NULL,
          'only NULL timestamps: NULL');
SELECT is((SELECT clcm.rfm_summary(ts, 1, '2024-01-01') FROM (VALUES ('2024-02-01'::timestamptz)) v(ts)), NULL,
          'only purchases after observation_end: NULL');
SELECT is((SELECT clcm.rfm_summary(ts, 1, '2024-01-01') FROM (VALUES ('2024-02-01'::timestamptz)) v(ts) WHERE false), NULL,
          'no rows: NULL');
SELECT is((SELECT (clcm.rfm_summary(ts, '2024-01-31')).monetary FROM (VALUES ('2024-01-01'::timestamptz), ('2024-01-05')) v(ts)), NULL,
          'without amounts monetary is NULL');
SELECT lives_ok($$SELECT clcm.rfm_summary(now() - interval '1 day', 0, now())$$, 'zero amounts are fine');

SELECT * FROM finish();
ROLLBACK;
