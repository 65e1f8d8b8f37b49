-- 000_install: the extension's schema, version and setting markings.
BEGIN;
SELECT plan(6);
SELECT has_extension('clcm', 'clcm', 'clcm is installed in schema clcm');
SELECT is((SELECT extversion FROM pg_extension WHERE extname = 'clcm'),
          clcm.clcm_version(), 'library version equals extension version');
SELECT volatility_is('clcm', 'clcm_version', ARRAY[]::name[], 'immutable');
SELECT isnt_definer('clcm', 'clcm_version', ARRAY[]::name[]);
SELECT throws_ok($$SET clcm.no_such_setting = 1$$, '42602', NULL,
                 'the clcm. setting prefix is reserved');
SELECT throws_ok($$CREATE EXTENSION clcm SCHEMA public$$, '42710', NULL,
                 'a second CREATE EXTENSION is refused');
SELECT * FROM finish();
ROLLBACK;
