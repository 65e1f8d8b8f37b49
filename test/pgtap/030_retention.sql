-- 030_retention: SQLSTATEs of the documented retention errors and the
-- markings of the retention functions.
BEGIN;
SELECT plan(49);
CREATE TEMP TABLE t30 (id bigint, ts timestamptz, amt float8);
INSERT INTO t30 VALUES (1, '2024-01-01 00:00+00', 1), (2, '2024-02-01 00:00+00', 2);

SELECT is(clcm.revenue_activity(timestamptz '2024-01-01 00:00+00', 1e-310, 'day')::text::clcm.retention_activity::text,
          'v1 period=day tz=UTC week_start=monday recurring=f revenue=t as_of=- end=757382400000000 periods=8766 amounts=8766:1e-310',
          'an activity with a subnormal amount reads back');
SELECT is(clcm.revenue_retention(1::bigint, timestamptz '2024-01-01 00:00+00', 1e-310, 'day')::text::clcm.retention_matrix::text,
          'v1 period=day tz=UTC week_start=monday recurring=f revenue=t as_of=- end=757382400000000 first=8766 last=8766 complete=8765 size=1 active=1 lastk=1 revenue=1e-310',
          'a matrix with a subnormal revenue reads back');
SELECT is(clcm.retention_matrix_add(NULL, clcm.retention_activity(timestamptz '2024-01-01 00:00+00', 'day'))::text,
          'v1 period=day tz=UTC week_start=monday recurring=f revenue=f as_of=- end=757382400000000 first=8766 last=8766 complete=8765 size=1 active=1 lastk=1',
          'retention_matrix_add works as a plain function');
SELECT throws_ok($$SELECT clcm.retention_final(NULL::internal)$$, '42846', NULL,
                 'internal-state support functions cannot be called from SQL');
SELECT throws_ok($$SELECT 'v1 period=month tz=UTC week_start=monday recurring=f revenue=f as_of=- end=766490400000000 first=288 last=291 complete=290 size=2,1,0,1 active=2,1,1,1,1,0,0,0,0,1 lastk=9223372036854775807,9223372036854775807,2,2,1,0,0,0,0,1'::clcm.retention_matrix$$,
                 '22P02', NULL, 'last-activity count above the cohort size (would wrap to the size)');
SELECT throws_ok($$SELECT clcm.retention_merge(m) FROM (SELECT 'v1 period=month tz=UTC week_start=monday recurring=f revenue=f as_of=- end=0 first=0 last=0 complete=-1 size=9223372036854775807 active=9223372036854775807 lastk=9223372036854775807'::clcm.retention_matrix m
                     FROM generate_series(1, 2)) s$$, '22003', NULL, 'merged cohort sizes out of bigint range');
SELECT throws_ok($$SELECT clcm.retention(id, ts, 'fortnight') FROM t30$$, '22023', NULL,
                 'unrecognized period');
SELECT throws_ok($$SELECT clcm.retention(id, ts, NULL) FROM t30$$, '22004', NULL,
                 'NULL period');
SELECT throws_ok($$SELECT clcm.retention(id, ts, CASE WHEN id = 1 THEN 'month' ELSE 'week' END) FROM t30$$,
                 '22023', NULL, 'period changing within a group');
SELECT throws_ok($$SELECT clcm.retention(id, ts, 'month', clcm.retention_options(recurring => id = 1)) FROM t30$$,
                 '22023', NULL, 'options changing within a group');
SELECT throws_ok($$SELECT clcm.retention_options('Mars/Olympus')$$, '22023', NULL,
                 'unrecognized time zone');
SELECT throws_ok($$SELECT clcm.retention_options('')$$, '22023', NULL, 'empty time zone');
SELECT throws_ok($$SELECT clcm.retention(id, ts, 'day', ROW('Nowhere', NULL, NULL, NULL)::clcm.retention_options) FROM t30$$,
                 '22023', NULL, 'unrecognized time zone in a hand-made options row');
SELECT throws_ok($$SELECT clcm.retention_options(week_start => 'funday')$$, '22023', NULL,
                 'unrecognized week start');
SELECT throws_ok($$SELECT clcm.retention_options(as_of => 'infinity')$$, '22023', NULL,
                 'infinite as_of');
SELECT throws_ok($$SELECT clcm.retention(1::bigint, timestamptz 'infinity')$$, '22008', NULL,
                 'infinite timestamp');
SELECT throws_ok($$SELECT clcm.retention('a'::text, timestamptz '-infinity', 'week')$$, '22008', NULL,
                 'minus infinite timestamp');
SELECT throws_ok($$SELECT clcm.revenue_retention(id, ts, 'NaN') FROM t30$$, '22023', NULL,
                 'NaN amount');
SELECT throws_ok($$SELECT clcm.revenue_activity(ts, '-infinity') FROM t30$$, '22023', NULL,
                 'infinite amount');
SELECT throws_ok($$SELECT * FROM clcm.retention_table((SELECT clcm.retention(id, ts) FROM t30), 'bounded')$$,
                 '22023', NULL, 'unrecognized mode');
SELECT throws_ok($$SELECT * FROM clcm.retention_revenue_table((SELECT clcm.retention(id, ts) FROM t30))$$,
                 '22023', NULL, 'revenue table of a head-count matrix');
SELECT throws_ok($$SELECT clcm.retention_merge(m) FROM (SELECT clcm.retention(id, ts, 'month') m FROM t30
                   UNION ALL SELECT clcm.retention(id, ts, 'week') FROM t30) s$$,
                 '22023', NULL, 'merging matrices with different options');
SELECT throws_ok($$SELECT clcm.retention(a) FROM (SELECT clcm.retention_activity(ts, CASE WHEN id = 1 THEN 'month' ELSE 'day' END) a
                   FROM t30 GROUP BY id) s$$,
                 '22023', NULL, 'level 2 over activities with different options');
SELECT throws_ok($$SELECT clcm.retention(id, ts, 'day') FROM (VALUES (1::bigint, timestamptz '1000-01-01 00:00+00'),
                   (2, '9999-01-01 00:00+00')) v(id, ts)$$, '54000', NULL, 'matrix too large');
SELECT throws_ok($$SELECT clcm.retention_activity(ts, 'day') FROM (VALUES (timestamptz '2000-01-01 00:00+00'),
                   ('2100-01-01 00:00+00')) v(ts)$$, '54000', NULL, 'one customer spanning too many periods');
SELECT throws_ok($$SELECT 'junk'::clcm.retention_matrix$$, '22P02', NULL, 'malformed matrix literal');
SELECT throws_ok($$SELECT 'v1 period=month tz=UTC week_start=monday recurring=f revenue=f as_of=- end=0 first=0 last=0 complete=-1 size=1 active=2 lastk=1'::clcm.retention_matrix$$,
                 '22P02', NULL, 'inconsistent matrix literal');
SELECT throws_ok($$SELECT 'v1 period=week tz=UTC week_start=monday recurring=f revenue=f as_of=- end=0 periods=5'::clcm.retention_activity$$,
                 '22P02', NULL, 'inconsistent activity literal');
SELECT throws_ok($$SELECT 'v1 period=week tz=UTC week_start=monday recurring=f revenue=f as_of=- end=0 periods='::clcm.retention_activity$$,
                 '22P02', NULL, 'empty activity literal');

-- NULL ids and timestamps are skipped; empty input gives NULL
SELECT ok((SELECT clcm.retention(id, ts) FROM t30 WHERE false) IS NULL, 'empty input gives NULL');
SELECT is((SELECT clcm.retention(id, ts)::text FROM (SELECT * FROM t30 UNION ALL SELECT NULL, now(), 1
             UNION ALL SELECT 3, NULL, 1) s),
          (SELECT clcm.retention(id, ts)::text FROM t30), 'rows with NULL id or timestamp are skipped');

-- markings
SELECT volatility_is('clcm', 'retention_options', ARRAY['text', 'text', 'timestamp with time zone', 'boolean'], 'immutable');
SELECT isnt_strict('clcm', 'retention_options', ARRAY['text', 'text', 'timestamp with time zone', 'boolean']);
SELECT volatility_is('clcm', 'retention_table', ARRAY['clcm.retention_matrix', 'text'], 'immutable');
SELECT is_strict('clcm', 'retention_table', ARRAY['clcm.retention_matrix', 'text']);
SELECT volatility_is('clcm', 'retention_revenue_table', ARRAY['clcm.retention_matrix', 'text'], 'immutable');
SELECT is_strict('clcm', 'retention_revenue_table', ARRAY['clcm.retention_matrix', 'text']);
SELECT volatility_is('clcm', 'retention_matrix_in', ARRAY['cstring'], 'immutable');
SELECT is_strict('clcm', 'retention_matrix_in', ARRAY['cstring']);
SELECT isnt_strict('clcm', 'retention_matrix_combine', ARRAY['clcm.retention_matrix', 'clcm.retention_matrix']);
SELECT is((SELECT count(*)::int FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'clcm' AND (p.proname LIKE 'retention%' OR p.proname LIKE 'revenue%')
              AND p.proparallel <> 's'), 0, 'every retention function is PARALLEL SAFE');
SELECT is((SELECT count(*)::int FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'clcm' AND (p.proname LIKE 'retention%' OR p.proname LIKE 'revenue%')
              AND p.prosecdef), 0, 'no retention function is SECURITY DEFINER');
SELECT isnt_definer('clcm', 'retention_table', ARRAY['clcm.retention_matrix', 'text']);
SELECT is((SELECT count(*)::int FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
             JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'clcm' AND p.proname IN ('retention', 'revenue_retention', 'retention_activity',
                  'revenue_activity', 'retention_merge') AND a.aggcombinefn = 0), 0,
          'every retention aggregate has a combine function');
SELECT is((SELECT count(*)::int FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
             JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'clcm' AND a.aggtranstype = 'internal'::regtype
              AND (a.aggserialfn = 0 OR a.aggdeserialfn = 0)), 0,
          'internal-state aggregates serialize');
SELECT is((SELECT count(*)::int FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
             JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'clcm' AND p.proname IN ('retention', 'retention_merge')
              AND a.aggtranstype = 'clcm.retention_matrix'::regtype), 2,
          'the level-2 retention and retention_merge have a non-internal state');
SELECT is((SELECT count(*)::int FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'clcm' AND p.proname = 'retention' AND p.prokind = 'a'), 10,
          'retention: 3 id types x 3 arities + the activity form');
SELECT ok(obj_description('clcm.retention_matrix'::regtype, 'pg_type') IS NOT NULL, 'matrix type has a comment');
SELECT ok(obj_description('clcm.retention_activity'::regtype, 'pg_type') IS NOT NULL, 'activity type has a comment');
SELECT * FROM finish();
ROLLBACK;
