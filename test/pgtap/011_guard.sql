-- 011_guard: clcm.stage_guard and clcm.stage_history: markings, grants
-- (append-only history), behaviour, and the SQLSTATE of every error.
BEGIN;
SELECT plan(40);

SELECT has_table('clcm', 'stage_history', 'clcm.stage_history exists');
SELECT columns_are('clcm', 'stage_history',
	ARRAY['id', 'table_name', 'customer_key', 'model', 'from_stage', 'to_stage',
	      'changed_at', 'xid', 'role', 'reason', 'override']);
SELECT col_type_is('clcm', 'stage_history', 'id', 'bigint', 'history column id is bigint');
SELECT col_type_is('clcm', 'stage_history', 'table_name', 'regclass', 'history column table_name is regclass');
SELECT col_type_is('clcm', 'stage_history', 'changed_at', 'timestamp with time zone', 'history column changed_at is timestamp with time zone');
SELECT col_type_is('clcm', 'stage_history', 'xid', 'xid8', 'history column xid is xid8');
SELECT col_type_is('clcm', 'stage_history', 'role', 'name', 'history column role is name');
SELECT is((SELECT count(*)::int FROM pg_extension e, unnest(e.extconfig) c
            WHERE e.extname = 'clcm'
              AND c IN ('clcm.stage_history'::regclass, 'clcm.stage_history_id_seq'::regclass)), 2,
          'history and its sequence are dumped with the data');

SELECT volatility_is('clcm', 'stage_guard', ARRAY[]::name[], 'volatile');
SELECT isnt_definer('clcm', 'stage_guard', ARRAY[]::name[]);
SELECT function_returns('clcm', 'stage_guard', ARRAY[]::name[], 'trigger');

CREATE ROLE clcm_tap_app;
SELECT function_privs_are('clcm', 'stage_guard', ARRAY[]::name[], 'clcm_tap_app', ARRAY[]::text[]);
SELECT table_privs_are('clcm', 'stage_history', 'clcm_tap_app', ARRAY['SELECT'],
                       'an ordinary role may only read the history');
SELECT sequence_privs_are('clcm', 'stage_history_id_seq', 'clcm_tap_app', ARRAY[]::text[]);

CREATE TABLE tap_c (id int PRIMARY KEY, stage clcm.lifecycle_stage, since timestamptz, k int);
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON tap_c
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'id', 'since');
GRANT SELECT, INSERT, UPDATE ON tap_c TO clcm_tap_app;
SET LOCAL ROLE clcm_tap_app;
SELECT lives_ok($$INSERT INTO tap_c VALUES (1, 'new')$$, 'insert at any stage');
SELECT lives_ok($$UPDATE tap_c SET stage = 'active'$$, 'legal move');
SELECT throws_ok($$UPDATE tap_c SET stage = 'prospect'$$, '23514',
	'stage transition from "active" to "prospect" is not allowed in model "lifecycle"',
	'forbidden move');
SELECT throws_ok($$UPDATE tap_c SET stage = NULL$$, '23502', NULL, 'stage set to NULL');
SELECT throws_ok($$INSERT INTO clcm.stage_history (table_name, customer_key, model, to_stage, changed_at, xid, role)
                   VALUES ('tap_c', '1', 'lifecycle', 'loyal', now(), pg_current_xact_id(), current_user)$$,
                 '42501', NULL, 'ordinary role cannot insert history');
SELECT throws_ok($$UPDATE clcm.stage_history SET override = true$$, '42501', NULL,
                 'ordinary role cannot update history');
SELECT throws_ok($$DELETE FROM clcm.stage_history$$, '42501', NULL, 'ordinary role cannot delete history');
SELECT throws_ok($$TRUNCATE clcm.stage_history$$, '42501', NULL, 'ordinary role cannot truncate history');
SELECT throws_ok($$SET clcm.enforce = off$$, '42501', NULL, 'ordinary role cannot set clcm.enforce');
RESET ROLE;
SELECT results_eq($$SELECT from_stage, to_stage, role = 'clcm_tap_app', override FROM clcm.stage_history
                    WHERE table_name = 'tap_c'::regclass ORDER BY id$$,
                  $$VALUES (NULL, 'new', true, false), ('new', 'active', true, false)$$,
                  'history of the accepted changes, written for the ordinary role');
SELECT is((SELECT since FROM tap_c), now(), 'timestamp column stamped');
SET LOCAL clcm.enforce = off;
SELECT lives_ok($$UPDATE tap_c SET stage = 'prospect'$$, 'forbidden move accepted with enforce off');
RESET clcm.enforce;
SELECT is((SELECT override FROM clcm.stage_history WHERE table_name = 'tap_c'::regclass
            ORDER BY id DESC LIMIT 1), true, 'recorded as an override');

-- misattachments: 39P01
CREATE TABLE tap_m (id int, stage clcm.lifecycle_stage, d date, t text);
INSERT INTO tap_m VALUES (1, 'new', NULL, 'x');
CREATE FUNCTION pg_temp.attach(timing text, level text, args text) RETURNS void
	LANGUAGE plpgsql AS $$
BEGIN
	SET LOCAL client_min_messages = warning;
	DROP TRIGGER IF EXISTS g ON tap_m;
	EXECUTE format('CREATE TRIGGER g %s ON tap_m FOR EACH %s EXECUTE FUNCTION clcm.stage_guard(%s)',
	               timing, level, args);
END $$;
SELECT pg_temp.attach('AFTER UPDATE', 'ROW', '');
SELECT throws_ok($$UPDATE tap_m SET stage = 'active'$$, '39P01', NULL, 'AFTER trigger');
SELECT pg_temp.attach('BEFORE UPDATE', 'STATEMENT', '');
SELECT throws_ok($$UPDATE tap_m SET stage = 'active'$$, '39P01', NULL, 'statement-level trigger');
SELECT pg_temp.attach('BEFORE DELETE', 'ROW', '');
SELECT throws_ok($$DELETE FROM tap_m$$, '39P01', NULL, 'DELETE trigger');
SELECT pg_temp.attach('BEFORE TRUNCATE', 'STATEMENT', '');
SELECT throws_ok($$TRUNCATE tap_m$$, '39P01', NULL, 'TRUNCATE trigger');
SELECT pg_temp.attach('BEFORE UPDATE', 'ROW', '''nope''');
SELECT throws_ok($$UPDATE tap_m SET stage = 'active'$$, '39P01', NULL, 'missing stage column');
SELECT pg_temp.attach('BEFORE UPDATE', 'ROW', '''stage'', ''nope''');
SELECT throws_ok($$UPDATE tap_m SET stage = 'active'$$, '39P01', NULL, 'missing key column');
SELECT pg_temp.attach('BEFORE UPDATE', 'ROW', '''t''');
SELECT throws_ok($$UPDATE tap_m SET stage = 'active'$$, '39P01', NULL, 'column not of a stage type');
SELECT pg_temp.attach('BEFORE UPDATE', 'ROW', '''stage'', ''id'', ''d''');
SELECT throws_ok($$UPDATE tap_m SET stage = 'active'$$, '39P01', NULL, 'timestamp column of a wrong type');
SELECT pg_temp.attach('BEFORE UPDATE', 'ROW', '''stage'', ''id'', ''d'', ''x''');
SELECT throws_ok($$UPDATE tap_m SET stage = 'active'$$, '39P01', NULL, 'too many arguments');
SELECT throws_ok($$SELECT clcm.stage_guard()$$, '39P01', NULL, 'called outside the trigger manager');
SELECT pg_temp.attach('BEFORE UPDATE', 'ROW', '''stage'', ''d''');
SELECT throws_ok($$UPDATE tap_m SET stage = 'active'$$, '23502', NULL, 'NULL customer key');
SELECT is((SELECT count(*)::int FROM clcm.stage_history WHERE table_name = 'tap_m'::regclass), 0,
          'no history from misattached guards');

ALTER TABLE clcm.stage_history ADD COLUMN extra int;
SELECT throws_ok($$UPDATE tap_c SET stage = 'considering'$$, '55000', NULL,
                 'history table of an unexpected shape');

SELECT * FROM finish();
ROLLBACK;
