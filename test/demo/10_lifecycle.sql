-- test/demo/10_lifecycle.sql: a customers table guarded by the lifecycle
-- model: legal moves, a refused move, the history, a stage distribution.
\pset footer off
\echo
\echo '=== 10 lifecycle: stages, the guard and the history ==='
\echo
\echo '-- the shipped lifecycle model: where each stage may go next'
SELECT s AS stage, array_to_string(ARRAY(SELECT clcm.next_stages(s)), ', ') AS "allowed next stages"
  FROM unnest(enum_range(NULL::clcm.lifecycle_stage)) s ORDER BY s;

CREATE TABLE lifecycle_customers (
	id int PRIMARY KEY,
	name text NOT NULL,
	stage clcm.lifecycle_stage NOT NULL DEFAULT 'prospect',
	stage_since timestamptz
);
CREATE TRIGGER lifecycle_guard BEFORE INSERT OR UPDATE ON lifecycle_customers
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'id', 'stage_since');

INSERT INTO lifecycle_customers (id, name, stage)
SELECT i, 'customer ' || i,
       (ARRAY['prospect', 'considering', 'new', 'active', 'loyal'])[1 + i % 5]::clcm.lifecycle_stage
  FROM generate_series(1, 40) i;

\echo '-- legal moves: ann (1) buys, becomes active, goes quiet, comes back'
SET clcm.reason = 'demo';
UPDATE lifecycle_customers SET name = 'ann' WHERE id = 1;
UPDATE lifecycle_customers SET stage = 'new' WHERE id = 1;
UPDATE lifecycle_customers SET stage = 'active' WHERE id = 1;
UPDATE lifecycle_customers SET stage = 'at_risk' WHERE id = 1;
UPDATE lifecycle_customers SET stage = 'churned' WHERE id = 1;
UPDATE lifecycle_customers SET stage = 'won_back' WHERE id = 1;
UPDATE lifecycle_customers SET stage = 'at_risk' WHERE stage = 'loyal' AND id % 2 = 0;
UPDATE lifecycle_customers SET stage = 'churned' WHERE stage = 'at_risk' AND id % 4 = 0;
RESET clcm.reason;

\echo
\echo '-- a refused move: churned customers can only be won back'
\set ON_ERROR_STOP 0
UPDATE lifecycle_customers SET stage = 'loyal' WHERE id = 4;
\set ON_ERROR_STOP 1

\echo
\echo '-- the history of ann'
SELECT id, coalesce(from_stage, '(new)') AS from_stage, to_stage, reason, override
  FROM clcm.stage_history
 WHERE table_name = 'lifecycle_customers'::regclass AND customer_key = '1'
 ORDER BY id;

\echo '-- stage distribution (in funnel order)'
SELECT stage, count(*) AS customers, repeat('#', count(*)::int) AS bar
  FROM lifecycle_customers GROUP BY stage ORDER BY stage;
