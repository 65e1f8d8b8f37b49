-- 010_models: lifecycle models, their stage types and the model functions:
-- structure, markings, grants, results and the SQLSTATE of every error.
BEGIN;
SELECT plan(65);

-- tables and types
SELECT has_table('clcm', 'model', 'clcm.model exists');
SELECT has_table('clcm', 'transition', 'clcm.transition exists');
SELECT col_is_pk('clcm', 'model', 'name', 'model name is the primary key');
SELECT col_is_pk('clcm', 'transition', ARRAY['model', 'from_stage', 'to_stage'],
                 'transition primary key');
SELECT fk_ok('clcm', 'transition', 'model', 'clcm', 'model', 'name');
SELECT enum_has_labels('clcm', 'lifecycle_stage',
	ARRAY['prospect', 'considering', 'new', 'active', 'loyal', 'at_risk', 'churned', 'won_back']);
SELECT enum_has_labels('clcm', 'b2b_stage', ARRAY['initial', 'development', 'mature', 'terminated']);
SELECT enum_has_labels('clcm', 'insurance_stage',
	ARRAY['lead', 'quoted', 'policyholder', 'renewal_due', 'renewed', 'lapsed', 'won_back']);
SELECT results_eq($$SELECT name, stage_type::text, shipped FROM clcm.model ORDER BY name$$,
	$$VALUES ('b2b', 'clcm.b2b_stage', true), ('insurance', 'clcm.insurance_stage', true),
	         ('lifecycle', 'clcm.lifecycle_stage', true)$$,
	'three shipped models with their stage types');
SELECT results_eq($$SELECT model, count(*)::int FROM clcm.transition GROUP BY model ORDER BY model$$,
	$$VALUES ('b2b', 7), ('insurance', 13), ('lifecycle', 22)$$,
	'shipped transition counts');
SELECT is((SELECT count(*)::int FROM pg_extension e, unnest(e.extconfig) c
            WHERE e.extname = 'clcm'
              AND c IN ('clcm.model'::regclass, 'clcm.transition'::regclass)), 2,
          'model tables are extension configuration tables');

-- markings
SELECT volatility_is('clcm', 'define_model', ARRAY['text', 'text[]', 'text[]'], 'volatile');
SELECT volatility_is('clcm', 'drop_model', ARRAY['text'], 'volatile');
SELECT volatility_is('clcm', 'can_transition', ARRAY['anyelement', 'anyelement'], 'stable');
SELECT volatility_is('clcm', 'next_stages', ARRAY['anyelement'], 'stable');
SELECT isnt_strict('clcm', 'define_model', ARRAY['text', 'text[]', 'text[]']);
SELECT isnt_strict('clcm', 'drop_model', ARRAY['text']);
SELECT is_strict('clcm', 'can_transition', ARRAY['anyelement', 'anyelement']);
SELECT is_strict('clcm', 'next_stages', ARRAY['anyelement']);
SELECT isnt_definer('clcm', 'define_model', ARRAY['text', 'text[]', 'text[]']);
SELECT isnt_definer('clcm', 'drop_model', ARRAY['text']);
SELECT isnt_definer('clcm', 'can_transition', ARRAY['anyelement', 'anyelement']);
SELECT isnt_definer('clcm', 'next_stages', ARRAY['anyelement']);
SELECT function_returns('clcm', 'define_model', ARRAY['text', 'text[]', 'text[]'], 'regtype');
SELECT function_returns('clcm', 'next_stages', ARRAY['anyelement'], 'setof anyelement');

-- grants: admin functions are not for PUBLIC
CREATE ROLE clcm_tap_user;
SELECT function_privs_are('clcm', 'define_model', ARRAY['text', 'text[]', 'text[]'],
                          'clcm_tap_user', ARRAY[]::text[]);
SELECT function_privs_are('clcm', 'drop_model', ARRAY['text'], 'clcm_tap_user', ARRAY[]::text[]);
SELECT function_privs_are('clcm', 'can_transition', ARRAY['anyelement', 'anyelement'],
                          'clcm_tap_user', ARRAY['EXECUTE']);
SELECT table_privs_are('clcm', 'model', 'clcm_tap_user', ARRAY['SELECT']);
SELECT table_privs_are('clcm', 'transition', 'clcm_tap_user', ARRAY['SELECT']);

-- results
SELECT ok(clcm.can_transition('active'::clcm.lifecycle_stage, 'at_risk'::clcm.lifecycle_stage),
          'active -> at_risk is allowed');
SELECT ok(NOT clcm.can_transition('churned'::clcm.lifecycle_stage, 'active'::clcm.lifecycle_stage),
          'churned -> active is not allowed');
SELECT is(clcm.can_transition(NULL::clcm.lifecycle_stage, 'active'), NULL, 'NULL in, NULL out');
SELECT results_eq($$SELECT clcm.next_stages('at_risk'::clcm.lifecycle_stage)$$,
                  $$VALUES ('active'::clcm.lifecycle_stage), ('loyal'), ('churned')$$,
                  'next_stages in funnel order');
SELECT is(clcm.define_model('tap_m', '{a,b,c}', '{a->b, b -> c ,*->a}')::text, 'clcm.tap_m_stage',
          'define_model returns the new stage type');
SELECT results_eq($$SELECT clcm.next_stages('c'::clcm.tap_m_stage)$$,
                  $$VALUES ('a'::clcm.tap_m_stage)$$, 'whitespace and * in transitions');

-- every documented error
SELECT throws_ok($$SELECT clcm.define_model(NULL, '{a}', '{}')$$, '22004', NULL, 'NULL name');
SELECT throws_ok($$SELECT clcm.define_model('x', NULL, '{}')$$, '22004', NULL, 'NULL stages');
SELECT throws_ok($$SELECT clcm.define_model('x', '{a}', NULL)$$, '22004', NULL, 'NULL transitions');
SELECT throws_ok($$SELECT clcm.define_model('x', ARRAY['a', NULL], '{}')$$, '22004', NULL, 'NULL stage element');
SELECT throws_ok($$SELECT clcm.define_model('x', '{a,b}', ARRAY[NULL]::text[])$$, '22004', NULL, 'NULL transition element');
SELECT throws_ok($$SELECT clcm.define_model('X y', '{a}', '{}')$$, '22023', NULL, 'bad model name');
SELECT throws_ok($$SELECT clcm.define_model('x', '{}', '{}')$$, '22023', NULL, 'empty stages');
SELECT throws_ok($$SELECT clcm.define_model('x', '{{a},{b}}', '{}')$$, '22023', NULL, 'two-dimensional stages');
SELECT throws_ok($$SELECT clcm.define_model('x', '{a,b,a}', '{}')$$, '22023', NULL, 'duplicate stage');
SELECT throws_ok($$SELECT clcm.define_model('x', '{a,*}', '{}')$$, '22023', NULL, 'invalid stage name');
SELECT throws_ok($$SELECT clcm.define_model('x', '{a,b}', '{a=>b}')$$, '22P02', NULL, 'malformed transition');
SELECT throws_ok($$SELECT clcm.define_model('x', '{a,b}', '{a->}')$$, '22P02', NULL, 'transition without target');
SELECT throws_ok($$SELECT clcm.define_model('x', '{a,b}', '{a->z}')$$, '22023', NULL, 'unknown stage in transition');
SELECT throws_ok($$SELECT clcm.define_model('x', '{a,b}', '{b->b}')$$, '22023', NULL, 'transition to itself');
SELECT throws_ok($$SELECT clcm.define_model('x', '{a,b}', '{a->b,a->b}')$$, '22023', NULL, 'duplicate transition');
SELECT throws_ok($$SELECT clcm.define_model('tap_m', '{a}', '{}')$$, '42710', NULL, 'model exists');
SELECT throws_ok($$SELECT clcm.define_model('lifecycle', '{a}', '{}')$$, '42710', NULL, 'shipped model exists');
SELECT throws_ok($$SELECT clcm.drop_model(NULL)$$, '22004', NULL, 'drop_model NULL');
SELECT throws_ok($$SELECT clcm.drop_model('nope')$$, '42704', NULL, 'drop_model unknown model');
SELECT throws_ok($$SELECT clcm.drop_model('b2b')$$, '2BP01', NULL, 'drop_model shipped model');
CREATE TABLE tap_uses_m (s clcm.tap_m_stage);
SELECT throws_ok($$SELECT clcm.drop_model('tap_m')$$, '2BP01', NULL, 'drop_model model in use');
SELECT throws_ok($$SELECT clcm.can_transition(1, 2)$$, '22023', NULL, 'can_transition on a non-stage type');
SELECT throws_ok($$SELECT clcm.next_stages('x'::text)$$, '22023', NULL, 'next_stages on a non-stage type');
SELECT throws_ok($$INSERT INTO clcm.transition (model, from_stage, to_stage) VALUES ('tap_m', 'a', 'q')$$,
                 '22023', NULL, 'hand-made transition with unknown stage');
SELECT throws_ok($$UPDATE clcm.model SET stages = '{c,b,a}' WHERE name = 'tap_m'$$,
                 '22023', NULL, 'model stages that do not match the enum');
SELECT throws_ok($$SELECT clcm.can_transition('active'::clcm.lifecycle_stage, 'mature'::clcm.b2b_stage)$$,
                 '42883', NULL, 'stages of two different models');
SELECT throws_ok($$SELECT clcm.can_transition('active', 'loyal')$$, '42804', NULL, 'untyped literals');
SELECT throws_ok($$INSERT INTO clcm.transition (model, from_stage, to_stage) VALUES ('tap_m', 'a', 'a')$$,
                 '23514', NULL, 'hand-made transition from a stage to itself');
SET LOCAL ROLE clcm_tap_user;
SELECT throws_ok($$SELECT clcm.define_model('y', '{a}', '{}')$$, '42501', NULL,
                 'an ordinary role cannot define models');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
