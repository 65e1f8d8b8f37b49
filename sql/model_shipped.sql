-- model_shipped: the three shipped models, their enum stage types (funnel
-- order) and transition sets, can_transition and next_stages on them.
SELECT name, stage_type, stages, shipped FROM clcm.model ORDER BY name;

-- enum order = funnel order = model.stages
SELECT m.name,
       (SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
          FROM pg_enum e WHERE e.enumtypid = m.stage_type) = m.stages AS enum_matches_stages
  FROM clcm.model m ORDER BY m.name;

-- every shipped transition (from -> to, in funnel order)
SELECT t.model, string_agg(t.from_stage || '->' || t.to_stage, ' ' ORDER BY
         array_position(m.stages, t.from_stage), array_position(m.stages, t.to_stage)) AS transitions,
       count(*) AS n, bool_and(t.shipped) AS all_shipped
  FROM clcm.transition t JOIN clcm.model m ON m.name = t.model
 GROUP BY t.model ORDER BY t.model;

-- the stage type sorts by funnel position and supports comparison
SELECT 'prospect'::clcm.lifecycle_stage < 'won_back'::clcm.lifecycle_stage AS lt,
       'churned'::clcm.lifecycle_stage > 'active' AS gt,
       'active'::clcm.lifecycle_stage = 'active' AS eq;
SELECT s FROM unnest('{churned,new,prospect,loyal}'::clcm.lifecycle_stage[]) s ORDER BY s;

-- can_transition: allowed, forbidden, staying, NULL
SELECT clcm.can_transition('active'::clcm.lifecycle_stage, 'loyal'::clcm.lifecycle_stage) AS active_loyal,
       clcm.can_transition('churned'::clcm.lifecycle_stage, 'active'::clcm.lifecycle_stage) AS churned_active,
       clcm.can_transition('churned'::clcm.lifecycle_stage, 'won_back'::clcm.lifecycle_stage) AS churned_won_back,
       clcm.can_transition('loyal'::clcm.lifecycle_stage, 'loyal'::clcm.lifecycle_stage) AS stay,
       clcm.can_transition(NULL::clcm.lifecycle_stage, 'loyal'::clcm.lifecycle_stage) AS null_from;

-- the whole lifecycle matrix agrees with clcm.transition
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE clcm.can_transition(f, t)) AS allowed,
       count(*) FILTER (WHERE clcm.can_transition(f, t) IS DISTINCT FROM
            (f = t OR EXISTS (SELECT 1 FROM clcm.transition x
                               WHERE x.model = 'lifecycle' AND x.from_stage IN (f::text, '*')
                                 AND x.to_stage = t::text))) AS disagreements
  FROM unnest(enum_range(NULL::clcm.lifecycle_stage)) f,
       unnest(enum_range(NULL::clcm.lifecycle_stage)) t;

-- next_stages: in funnel order, for each stage of each shipped model
SELECT s AS stage, ARRAY(SELECT clcm.next_stages(s)) AS next
  FROM unnest(enum_range(NULL::clcm.lifecycle_stage)) s ORDER BY s;
SELECT s AS stage, ARRAY(SELECT clcm.next_stages(s)) AS next
  FROM unnest(enum_range(NULL::clcm.b2b_stage)) s ORDER BY s;
SELECT s AS stage, ARRAY(SELECT clcm.next_stages(s)) AS next
  FROM unnest(enum_range(NULL::clcm.insurance_stage)) s ORDER BY s;
SELECT count(*) FROM clcm.next_stages(NULL::clcm.b2b_stage);

-- types of different models do not mix
-- ERROR: function does not exist (anyelement needs one type)
SELECT clcm.can_transition('active'::clcm.lifecycle_stage, 'mature'::clcm.b2b_stage);
-- ERROR 22023: not a clcm stage type
SELECT clcm.can_transition(1, 2);
-- ERROR 22023: not a clcm stage type (an enum that is not a model)
CREATE TYPE model_shipped_color AS ENUM ('red', 'green');
SELECT clcm.next_stages('red'::model_shipped_color);
DROP TYPE model_shipped_color;
-- ERROR 42804: an untyped literal cannot resolve anyelement
SELECT clcm.can_transition('active', 'loyal');

-- shipped rows cannot be dropped through drop_model
-- ERROR 2BP01
SELECT clcm.drop_model('lifecycle');
