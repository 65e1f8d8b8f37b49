-- test/demo/50_activity.sql: stages that follow behaviour. Orders flow in
-- through clcm.track_activity, stages move by the shipped rules, a nightly
-- refresh (as of a later date) catches the quiet customers, then the
-- funnel and a Markov projection of where customers go next.
\pset footer off
SET timezone = 'UTC';
\echo
\echo '=== 50 activity: orders move stages ==='
CREATE TABLE act_customers (
	id int PRIMARY KEY,
	name text,
	stage clcm.lifecycle_stage NOT NULL DEFAULT 'prospect'
);
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON act_customers
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'id');
CREATE TABLE act_orders (
	id bigserial PRIMARY KEY,
	customer_id int NOT NULL REFERENCES act_customers,
	ordered_at timestamptz NOT NULL,
	amount numeric NOT NULL
);
-- statement level: one INSERT ... SELECT is processed set-based
CREATE TRIGGER activity AFTER INSERT ON act_orders
	REFERENCING NEW TABLE AS new_orders FOR EACH STATEMENT
	EXECUTE FUNCTION clcm.track_activity('act_customers', 'id', 'customer_id', 'ordered_at', 'amount');

INSERT INTO act_customers (id, name) SELECT i, 'customer ' || i FROM generate_series(1, 2000) i;

\echo '-- one order by hand: customer 1 goes prospect -> new'
INSERT INTO act_orders (customer_id, ordered_at, amount) VALUES (1, '2024-01-03 10:00', 35);
SELECT id, stage FROM act_customers WHERE id = 1;

\echo '-- a year of orders (2024), loaded month by month'
SELECT setseed(0.5);
CREATE TEMP TABLE act_plan AS
SELECT c.id AS customer_id,
       -- customers differ in how often they buy and when they stop
       (random() * 8)::int AS n_orders,
       (random() * 300)::int AS start_day,
       (20 + random() * 60)::int AS gap_days
  FROM act_customers c;
DO $$
DECLARE m int;
BEGIN
	FOR m IN 1..12 LOOP
		INSERT INTO act_orders (customer_id, ordered_at, amount)
		SELECT p.customer_id,
		       timestamptz '2024-01-01' + (p.start_day + k * p.gap_days) * interval '1 day',
		       round((10 + random() * 90)::numeric, 2)
		  FROM act_plan p, generate_series(0, p.n_orders - 1) k
		 WHERE p.start_day + k * p.gap_days < 366
		   AND extract(month FROM timestamptz '2024-01-01'
		               + (p.start_day + k * p.gap_days) * interval '1 day') = m;
	END LOOP;
END $$;
SELECT (SELECT count(*) FROM act_orders) AS orders,
       sum(purchases) AS facts_purchases,
       sum(revenue) = (SELECT sum(amount) FROM act_orders) AS revenue_matches
  FROM clcm.activity_facts WHERE table_name = 'act_customers'::regclass;
SELECT stage, count(*) AS customers FROM act_customers GROUP BY stage ORDER BY stage;

\echo '=== nightly refresh as of 2025-01-15: quiet customers -> at_risk -> churned ==='
SELECT clcm.refresh_stages('act_customers', '2025-01-15') AS moved;
SELECT clcm.refresh_stages('act_customers', '2025-01-15') AS moved_again;
SELECT stage, count(*) AS customers FROM act_customers GROUP BY stage ORDER BY stage;
\echo '-- customer history (reason activity or refresh)'
SELECT h.customer_key AS customer, h.from_stage, h.to_stage, h.reason
  FROM clcm.stage_history h
 WHERE h.table_name = 'act_customers'::regclass
   AND h.customer_key = (SELECT customer_key FROM clcm.stage_history
                          WHERE table_name = 'act_customers'::regclass AND to_stage = 'churned'
                          ORDER BY id LIMIT 1)
 ORDER BY h.id;

\echo '-- some churned customers come back in January 2025'
INSERT INTO act_orders (customer_id, ordered_at, amount)
SELECT id, '2025-01-20', 50 FROM act_customers WHERE stage = 'churned' AND id % 5 = 0;
SELECT stage, count(*) AS customers FROM act_customers GROUP BY stage ORDER BY stage;

\echo '=== the funnel (consecutive stages) ==='
SELECT stage, next_stage, reached, converted, round(conversion::numeric, 3) AS conversion
  FROM clcm.funnel('lifecycle', customer_table => 'act_customers');

\echo '=== where do customers go when they move? (jump chain from the history) ==='
SELECT r AS "from", c AS "to", n, round(p::numeric, 3) AS p
  FROM clcm.markov_table(clcm.history_matrix('lifecycle', customer_table => 'act_customers'))
 ORDER BY array_position(enum_range(NULL::clcm.lifecycle_stage)::text[], r), p DESC;

\echo '-- 100 customers who are new today, after two more moves'
SELECT s AS stage, round(x::numeric, 1) AS expected
  FROM clcm.history_matrix('lifecycle', customer_table => 'act_customers') m,
       unnest(clcm.markov_stages(m),
              clcm.markov_project(m, ARRAY[0,0,100,0,0,0,0,0]::float8[], 2)) u(s, x)
 WHERE x > 0;

\echo '-- Markov-chain value per stage over the next 6 moves (margin per move:'
\echo '-- new 10, active 20, loyal 40, won_back 15, others 0; 10% discount per'
\echo '-- move; Pfeifer & Carraway 2000; stages never left are absorbing)'
SELECT stage, round(clv::numeric, 2) AS clv
  FROM clcm.history_matrix('lifecycle', customer_table => 'act_customers') m,
       clcm.markov_clv(m, ARRAY[0, 0, 10, 20, 40, 0, 0, 15]::float8[], 0.10, 6);
