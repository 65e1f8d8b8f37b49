-- 047_clv_simple: clcm.clv_simple and clcm.clv_historic.
BEGIN;
SELECT plan(28);
SET LOCAL TimeZone = 'UTC';

SELECT volatility_is('clcm', 'clv_simple', ARRAY['double precision', 'double precision', 'double precision'], 'immutable');
SELECT is_strict('clcm', 'clv_simple', ARRAY['double precision', 'double precision', 'double precision']);
SELECT isnt_definer('clcm', 'clv_simple', ARRAY['double precision', 'double precision', 'double precision']);
SELECT is_aggregate('clcm', 'clv_historic', ARRAY['numeric', 'timestamp with time zone', 'double precision', 'double precision', 'timestamp with time zone']);
SELECT volatility_is('clcm', 'clv_historic_transfn', ARRAY['double precision', 'numeric', 'timestamp with time zone', 'double precision', 'double precision', 'timestamp with time zone'], 'immutable');
SELECT isnt_strict('clcm', 'clv_historic_transfn', ARRAY['double precision', 'numeric', 'timestamp with time zone', 'double precision', 'double precision', 'timestamp with time zone']);
SELECT isnt_definer('clcm', 'clv_historic_transfn', ARRAY['double precision', 'numeric', 'timestamp with time zone', 'double precision', 'double precision', 'timestamp with time zone']);
SELECT ok((SELECT a.aggcombinefn <> 0 AND p.proparallel = 's' FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
            WHERE p.oid = 'clcm.clv_historic(numeric, timestamptz, float8, float8, timestamptz)'::regprocedure),
          'clv_historic has a combine function and is parallel safe');

SELECT is(clcm.clv_simple(30, 0.5, 0), 30::float8, 'm r / (1 + d - r) with r = 0.5, d = 0 is m');
SELECT is(round(clcm.clv_simple(100, 0.8, 0.1)::numeric, 8), 266.66666667, '100 * 0.8 / 0.3');
SELECT is(round((SELECT clcm.clv_historic(100, '2023-01-01', 0.5, 0.2, '2023-01-01'::timestamptz + interval '365 days 6 hours'))::numeric, 9),
          60.000000000, 'one year of compounding at 20 %');

-- 22023
SELECT throws_ok($$SELECT clcm.clv_simple(1, 1.01, 0.1)$$, '22023',
                 'retention_rate must be between 0 and 1, not 1.01', 'retention above 1');
SELECT throws_ok($$SELECT clcm.clv_simple(1, -0.5, 0.1)$$, '22023', NULL, 'negative retention');
SELECT throws_ok($$SELECT clcm.clv_simple(1, 0.5, -0.1)$$, '22023',
                 'discount_rate must be greater than or equal to 0, not -0.1', 'negative discount');
SELECT throws_ok($$SELECT clcm.clv_simple('NaN', 0.5, 0.1)$$, '22023', 'margin cannot be NaN', 'NaN margin');
SELECT throws_ok($$SELECT clcm.clv_simple(1, 'NaN', 0.1)$$, '22023', NULL, 'NaN retention');
SELECT throws_ok($$SELECT clcm.clv_simple(1, 0.5, 'Infinity')$$, '22023', NULL, 'infinite discount');
SELECT throws_ok($$SELECT clcm.clv_simple('-Infinity', 0.5, 0.1)$$, '22023', 'margin cannot be infinite', 'infinite margin');
-- 22012, 22003
SELECT throws_ok($$SELECT clcm.clv_simple(1, 1, 0)$$, '22012', NULL, 'r = 1, d = 0 is infinite');
SELECT throws_ok($$SELECT clcm.clv_simple(1e308, 1, 1e-12)$$, '22003', NULL, 'overflow');
-- clv_historic
SELECT throws_ok($$SELECT clcm.clv_historic(NULL, now(), 0.3, 0.1, now())$$, '22004',
                 'amount of clcm.clv_historic cannot be NULL', 'NULL amount');
SELECT throws_ok($$SELECT clcm.clv_historic(1, now(), 0.3, 0.1, NULL)$$, '22004', NULL, 'NULL as_of');
SELECT throws_ok($$SELECT clcm.clv_historic(-5, now(), 0.3, 0.1, now())$$, '22023', NULL, 'negative amount');
SELECT throws_ok($$SELECT clcm.clv_historic(5, now(), 1.3, 0.1, now())$$, '22023',
                 'margin_rate must be between 0 and 1, not 1.3', 'margin_rate above 1');
SELECT throws_ok($$SELECT clcm.clv_historic(5, now(), 0.3, 'NaN', now())$$, '22023', NULL, 'NaN discount');
SELECT throws_ok($$SELECT clcm.clv_historic(5, 'infinity', 0.3, 0.1, now())$$, '22008', NULL, 'infinite ts');
SELECT throws_ok($$SELECT clcm.clv_historic(1e17, '1000-01-01', 1, 1e300, now())$$, '22003', NULL, 'overflow');
SELECT is((SELECT clcm.clv_historic(5, ts, 0.3, 0.1, '2020-01-01') FROM (VALUES ('2021-01-01'::timestamptz)) v(ts)), NULL,
          'nothing up to as_of: NULL');

SELECT * FROM finish();
ROLLBACK;
