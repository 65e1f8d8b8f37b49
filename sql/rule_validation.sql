-- rule_validation: clcm.stage_rule rows are checked against their model.
\set SHOW_CONTEXT never
-- shipped rules per model and condition
SELECT model, condition, count(*) FROM clcm.stage_rule WHERE shipped GROUP BY 1, 2 ORDER BY 1, 2;
-- every shipped rule is a move its model allows
SELECT count(*) AS rules_without_transition
  FROM clcm.stage_rule r
 WHERE NOT EXISTS (SELECT 1 FROM clcm.transition t
                    WHERE t.model = r.model AND t.to_stage = r.to_stage
                      AND (t.from_stage = r.from_stage OR t.from_stage = '*'));
-- good user rules; the first replaces the shipped active -> loyal at 5
-- purchases, the second adds a rule, the third turns a shipped one off
INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition, threshold)
VALUES ('lifecycle', 'active', 'loyal', 'purchases', 3);
INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition, threshold, enabled)
VALUES ('lifecycle', 'new', 'loyal', 'revenue', 1000, false);
INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition, period)
VALUES ('b2b', '*', 'terminated', 'inactivity', '2 years');
SELECT model, from_stage, to_stage, condition, threshold, period, priority, shipped
  FROM clcm.stage_rule WHERE NOT shipped ORDER BY 1, 2, 3;
-- the rules in force
SELECT model, from_stage, to_stage, condition, threshold, shipped
  FROM clcm.stage_rule_effective
 WHERE (model = 'lifecycle' AND (from_stage = 'active' OR from_stage = 'new'))
    OR model = 'b2b'
 ORDER BY 1, 2, 3, 4;
SELECT count(*) FROM clcm.stage_rule_effective;
-- unknown stages: 22023
INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition) VALUES ('lifecycle', 'nosuch', 'new', 'activity');
INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition) VALUES ('lifecycle', 'new', 'nosuch', 'activity');
-- unknown model: 23503 (foreign key)
INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition) VALUES ('nosuch', 'a', 'b', 'activity');
-- a transition the model forbids: 23514, constraint clcm_stage_rule_transition
\set VERBOSITY verbose
INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition) VALUES ('lifecycle', 'prospect', 'loyal', 'activity');
\set VERBOSITY default
-- no stage can move to prospect... except considering: '*' is fine then
INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition, period) VALUES ('lifecycle', '*', 'prospect', 'inactivity', '1 year');
-- but nothing moves to lead in insurance except from quoted; to 'lead' from '*' is allowed, from lapsed not
INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition) VALUES ('insurance', 'lapsed', 'lead', 'activity');
-- a rule to the same stage
INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition) VALUES ('lifecycle', 'new', 'new', 'activity');
-- conditions: unknown, missing or misplaced threshold/period,
-- negative, NaN, non-integer counts (22023)
INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition) VALUES ('lifecycle', 'new', 'active', 'moon_phase');
INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition) VALUES ('lifecycle', 'new', 'active', 'purchases');
INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition, threshold) VALUES ('lifecycle', 'new', 'active', 'activity', 1);
INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition, threshold) VALUES ('lifecycle', 'new', 'active', 'revenue', -1);
INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition, threshold) VALUES ('lifecycle', 'new', 'active', 'revenue', 'NaN');
INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition, threshold) VALUES ('lifecycle', 'new', 'active', 'purchases', 2.5);
INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition, threshold) VALUES ('lifecycle', 'new', 'active', 'purchases', 0);
INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition, period) VALUES ('lifecycle', 'new', 'at_risk', 'inactivity', '-90 days');
INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition, period) VALUES ('lifecycle', 'new', 'at_risk', 'inactivity', '0');
INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition, threshold) VALUES ('lifecycle', 'new', 'at_risk', 'tenure', 5);
-- updates are checked too
UPDATE clcm.stage_rule SET threshold = -3 WHERE NOT shipped AND condition = 'purchases';
UPDATE clcm.stage_rule SET to_stage = 'prospect' WHERE NOT shipped AND condition = 'purchases';
-- dropping a model drops its rules
SELECT clcm.define_model('rule_test', ARRAY['a', 'b'], ARRAY['a->b']);
INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition) VALUES ('rule_test', 'a', 'b', 'activity');
SELECT clcm.drop_model('rule_test');
SELECT count(*) FROM clcm.stage_rule WHERE model = 'rule_test';
-- user rules are dumped by pg_dump, shipped ones are not
SELECT c.relname, x.cfg
  FROM pg_extension e, unnest(e.extconfig, e.extcondition) x(oid, cfg)
  JOIN pg_class c ON c.oid = x.oid
 WHERE e.extname = 'clcm' AND (c.relname = 'stage_rule' OR c.relname = 'activity_facts')
 ORDER BY 1;
DELETE FROM clcm.stage_rule WHERE NOT shipped;
