-- 045_rfm_summary: clcm.rfm_summary and clcm.rfm_state: markings and the
-- SQLSTATE of every documented error.
BEGIN;
SELECT plan(56);
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
-- 22P03 invalid_binary_representation.  The recv function can only be
-- reached through the protocol or COPY; a server-side COPY inside throws_ok
-- reads the binary COPY stream from a program (printf of the bytes), so no
-- file is written anywhere (COPY FROM PROGRAM needs a superuser or
-- pg_execute_server_program, as the test cluster's user is).
-- pg_temp.rfm_bin_state builds the binary form (version, unit, flags, end,
-- the two sums as 128-bit counts of 10^-9 units, the number of days, days).
CREATE FUNCTION pg_temp.rfm_i128(a numeric) RETURNS bytea LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT int8send((CASE WHEN h >= 2::numeric ^ 63 THEN h - 2::numeric ^ 64 ELSE h END)::int8)
      || int8send((CASE WHEN l >= 2::numeric ^ 63 THEN l - 2::numeric ^ 64 ELSE l END)::int8)
    FROM (SELECT trunc(u / 2::numeric ^ 64) AS h, mod(u, 2::numeric ^ 64) AS l
            FROM (SELECT CASE WHEN v < 0 THEN v + 2::numeric ^ 128 ELSE v END AS u
                    FROM (SELECT a * 1000000000 AS v) x) y) z $$;
CREATE FUNCTION pg_temp.rfm_bin_state(version int, unit int, flags int, end_day int,
                                      first_amount numeric, total numeric, days int[])
  RETURNS bytea LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT set_byte(set_byte(set_byte('\x000000'::bytea, 0, version), 1, unit), 2, flags)
      || int4send(end_day) || pg_temp.rfm_i128(first_amount) || pg_temp.rfm_i128(total)
      || int4send(cardinality(days))
      || coalesce((SELECT string_agg(int4send(d), ''::bytea ORDER BY o)
                     FROM unnest(days) WITH ORDINALITY u(d, o)), ''::bytea) $$;
-- pg_temp.rfm_copy_cmd: a COPY of one row holding payload into tbl, the
-- binary COPY stream (signature, flags, header extension, one field,
-- trailer) printed by printf with octal escapes
CREATE FUNCTION pg_temp.rfm_copy_cmd(tbl text, payload bytea) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT format('COPY %s FROM PROGRAM %L (FORMAT binary)', tbl, 'printf ''' ||
         (SELECT string_agg('\' || (b >> 6)::text || ((b >> 3) & 7)::text || (b & 7)::text, ''
                            ORDER BY i)
            FROM (SELECT i, get_byte(f, i) AS b FROM generate_series(0, length(f) - 1) i) g)
         || '''')
    FROM (SELECT '\x5047434f50590aff0d0a00'::bytea || '\x0000000000000000'::bytea || '\x0001'::bytea
                 || int4send(length(payload)) || payload || '\xffff'::bytea AS f) x $$;
CREATE TEMP TABLE rfm_bin (s clcm.rfm_state);
SELECT is(pg_temp.rfm_bin_state(1, 2, 1, 8826, 15, 65, '{8766,8780,8797}'),
          clcm.rfm_state_send('unit=week;end=8826;sorted=1;first_amount=15;total=65;days=8766,8780,8797'),
          'the test helper builds the bytes of the send function');
SELECT lives_ok(pg_temp.rfm_copy_cmd('rfm_bin', pg_temp.rfm_bin_state(1, 1, 1, 100, 0, 0, '{}')),
                'a well-formed binary state loads');
SELECT throws_ok(pg_temp.rfm_copy_cmd('rfm_bin', pg_temp.rfm_bin_state(2, 1, 1, 100, 0, 0, '{}')),
                 '22P03', 'invalid external "rfm_state" value', 'binary state of format version 2');

-- one validation for both inputs: a sum of 10^29 or more was accepted by the
-- binary input and refused by the text input (no dump and restore)
SELECT throws_ok(pg_temp.rfm_copy_cmd('rfm_bin', pg_temp.rfm_bin_state(1, 1, 0, 1677721600, 16776348.416606208,
                   101021327682748457538414480580.553998336, '{13240321,262146,3}')),
                 '22P03', 'invalid external "rfm_state" value', 'binary state with a sum of 10^29 or more');
SELECT throws_ok($$SELECT 'unit=day;end=1677721600;sorted=0;first_amount=16776348.416606208;total=101021327682748457538414480580.553998336;days=13240321,262146,3'::clcm.rfm_state$$,
                 '22P02', NULL, 'the same state as text');
SELECT throws_ok(pg_temp.rfm_copy_cmd('rfm_bin', pg_temp.rfm_bin_state(1, 1, 0, 100, -1, 0, '{3}')),
                 '22P03', 'invalid external "rfm_state" value', 'binary state with a negative sum');
TRUNCATE rfm_bin;
SELECT lives_ok(pg_temp.rfm_copy_cmd('rfm_bin', pg_temp.rfm_bin_state(1, 1, 0, 1677721600, 16776348.416606208,
                  99999999999999999999999999999.999999999, '{13240321,262146,3}')),
                'binary state with a sum just below 10^29 loads');
SELECT is((SELECT s::text::clcm.rfm_state::text FROM rfm_bin),
          'unit=day;end=1677721600;sorted=0;first_amount=16776348.416606208;total=99999999999999999999999999999.999999999;days=13240321,262146,3',
          'and its text form reads back');
-- agreement on a grid of states near every limit: each is accepted by both
-- inputs or refused by both (pg_temp.rfm_accepts_* return the SQLSTATE or ok)
CREATE FUNCTION pg_temp.rfm_accepts_bin(payload bytea) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE pg_temp.rfm_copy_cmd('rfm_bin', payload);
  RETURN 'ok';
EXCEPTION WHEN others THEN RETURN SQLSTATE;
END $$;
CREATE FUNCTION pg_temp.rfm_accepts_text(t text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM t::clcm.rfm_state;
  RETURN 'ok';
EXCEPTION WHEN others THEN RETURN SQLSTATE;
END $$;
CREATE TEMP TABLE rfm_grid AS
SELECT n, 1 + n % 4 AS unit, (n / 4) % 2 AS flags,
       (ARRAY[9, 2145031948, 2145031949, -2451545, -2451546])[1 + (n / 8) % 5] AS end_day,
       (ARRAY[0, 2.5, 0.000000001, 99999999999999999999999999999.999999999])[1 + (n / 40) % 4] AS first_amount,
       (ARRAY[0, 2.5, 99999999999999999999999999999.999999999, 100000000000000000000000000000])[1 + (n / 160) % 4] AS total,
       (ARRAY['{}', '{3}', '{3,3}', '{-2451545,9}', '{9,3}', '{2145031948}', '{-2451546}'])[1 + (n * 7 / 3) % 7]::int[] AS days
  FROM generate_series(0, 639) n;
CREATE TEMP TABLE rfm_grid_res AS
SELECT n, pg_temp.rfm_accepts_bin(pg_temp.rfm_bin_state(1, unit, flags, end_day, first_amount, total, days)) AS bin,
       pg_temp.rfm_accepts_text(format('unit=%s;end=%s;sorted=%s;first_amount=%s;total=%s;days=%s',
                                       (ARRAY['day', 'week', 'month', 'year'])[unit], end_day, flags,
                                       first_amount, total, array_to_string(days, ','))) AS txt
  FROM rfm_grid;
SELECT is((SELECT count(*) FROM rfm_grid_res WHERE (bin = 'ok') <> (txt = 'ok')), 0::bigint,
          'binary and text inputs accept the same states');
SELECT ok((SELECT count(*) FILTER (WHERE bin = 'ok') >= 20 AND count(*) FILTER (WHERE bin = '22P03') >= 20
             FROM rfm_grid_res), 'the grid has accepted and refused states');

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
