-- model_define: define_model / drop_model and every error they raise.
\set SHOW_CONTEXT never
SELECT clcm.define_model('support', ARRAY['open', 'pending', 'solved', 'closed'],
                         ARRAY['open->pending', ' pending -> open ', 'open->solved',
                               'pending->solved', '*->closed', 'closed->open']) AS stage_type;
SELECT name, stage_type, stages, shipped FROM clcm.model WHERE name = 'support';
SELECT from_stage, to_stage, shipped FROM clcm.transition WHERE model = 'support'
 ORDER BY from_stage, to_stage;
SELECT enum_range(NULL::clcm.support_stage);
SELECT obj_description('clcm.support_stage'::regtype, 'pg_type');
SELECT s AS stage, ARRAY(SELECT clcm.next_stages(s)) AS next
  FROM unnest(enum_range(NULL::clcm.support_stage)) s ORDER BY s;
-- '*->closed' covers every other stage, but not closed->closed as a transition
SELECT clcm.can_transition('solved'::clcm.support_stage, 'closed'::clcm.support_stage) AS solved_closed,
       clcm.can_transition('closed'::clcm.support_stage, 'solved'::clcm.support_stage) AS closed_solved;

-- a model without transitions is allowed (every move refused)
SELECT clcm.define_model('frozen', '{a,b}', '{}');
SELECT clcm.can_transition('a'::clcm.frozen_stage, 'b'::clcm.frozen_stage);

-- the cache sees transitions added and removed later
INSERT INTO clcm.transition (model, from_stage, to_stage) VALUES ('frozen', 'a', 'b');
SELECT clcm.can_transition('a'::clcm.frozen_stage, 'b'::clcm.frozen_stage);
DELETE FROM clcm.transition WHERE model = 'frozen';
SELECT clcm.can_transition('a'::clcm.frozen_stage, 'b'::clcm.frozen_stage);
-- ... and a rolled back change
BEGIN;
INSERT INTO clcm.transition (model, from_stage, to_stage) VALUES ('frozen', 'b', 'a');
SELECT clcm.can_transition('b'::clcm.frozen_stage, 'a'::clcm.frozen_stage);
ROLLBACK;
SELECT clcm.can_transition('b'::clcm.frozen_stage, 'a'::clcm.frozen_stage);
-- ERROR 22023: transitions inserted by hand are validated too
INSERT INTO clcm.transition (model, from_stage, to_stage) VALUES ('frozen', 'a', 'zzz');
-- ERROR 23514: no transition to '*' or to itself
INSERT INTO clcm.transition (model, from_stage, to_stage) VALUES ('frozen', 'a', 'a');

-- errors of define_model
-- ERROR 22004: NULL arguments
SELECT clcm.define_model(NULL, '{a}', '{}');
SELECT clcm.define_model('m1', NULL, '{}');
SELECT clcm.define_model('m1', '{a}', NULL);
-- ERROR 22004: NULL elements
SELECT clcm.define_model('m1', ARRAY['a', NULL], '{}');
SELECT clcm.define_model('m1', '{a,b}', ARRAY['a->b', NULL]);
-- ERROR 22023: bad names
SELECT clcm.define_model('Bad Name', '{a}', '{}');
SELECT clcm.define_model('1abc', '{a}', '{}');
SELECT clcm.define_model('', '{a}', '{}');
SELECT clcm.define_model(repeat('x', 58), '{a}', '{}');
-- ERROR 22023: empty stages, multi-dimensional array
SELECT clcm.define_model('m1', '{}', '{}');
SELECT clcm.define_model('m1', '{{a,b},{c,d}}', '{}');
-- ERROR 22023: bad stage names
SELECT clcm.define_model('m1', ARRAY['a', ''], '{}');
SELECT clcm.define_model('m1', ARRAY['a', '*'], '{}');
SELECT clcm.define_model('m1', ARRAY['a', 'b->c'], '{}');
SELECT clcm.define_model('m1', ARRAY['a', ' b'], '{}');
SELECT clcm.define_model('m1', ARRAY['a', repeat('b', 64)], '{}');
-- ERROR 22023: duplicate stages
SELECT clcm.define_model('m1', '{a,b,a}', '{}');
-- ERROR 22P02: malformed transitions
SELECT clcm.define_model('m1', '{a,b}', '{a-b}');
SELECT clcm.define_model('m1', '{a,b}', '{a->b->a}');
SELECT clcm.define_model('m1', '{a,b}', '{->b}');
SELECT clcm.define_model('m1', '{a,b}', '{"a-> "}');
-- ERROR 22023: unknown stage in a transition
SELECT clcm.define_model('m1', '{a,b}', '{a->c}');
SELECT clcm.define_model('m1', '{a,b}', '{c->a}');
-- ERROR 22023: transition to itself, duplicate transition
SELECT clcm.define_model('m1', '{a,b}', '{a->a}');
SELECT clcm.define_model('m1', '{a,b}', '{a->b,"a -> b"}');
-- ERROR 42710: existing model, existing type
SELECT clcm.define_model('support', '{a}', '{}');
CREATE TYPE clcm.taken_stage AS ENUM ('x');
SELECT clcm.define_model('taken', '{a}', '{}');
DROP TYPE clcm.taken_stage;
-- nothing was left behind by the failed calls
SELECT name FROM clcm.model WHERE NOT shipped ORDER BY name;

-- drop_model
-- ERROR 22004
SELECT clcm.drop_model(NULL);
-- ERROR 42704
SELECT clcm.drop_model('no_such_model');
-- ERROR 2BP01: in use by a table column
CREATE TABLE model_define_t (id int, s clcm.support_stage);
SELECT clcm.drop_model('support');
DROP TABLE model_define_t;
SELECT clcm.drop_model('support');
SELECT clcm.drop_model('frozen');
SELECT count(*) FROM clcm.model WHERE name IN ('support', 'frozen');
SELECT count(*) FROM clcm.transition WHERE model IN ('support', 'frozen');
SELECT to_regtype('clcm.support_stage') IS NULL AS type_dropped;
-- the name can be used again
SELECT clcm.define_model('support', '{new,done}', '{new->done}');
SELECT clcm.drop_model('support');
