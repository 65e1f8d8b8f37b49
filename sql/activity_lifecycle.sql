-- activity_lifecycle: track_activity (row level) and refresh_stages move
-- customers of the shipped lifecycle model through its stages; facts and
-- history are checked after each step.
\set SHOW_CONTEXT never
SET timezone = 'UTC';
CREATE TABLE al_customers (
	id bigint PRIMARY KEY,
	stage clcm.lifecycle_stage
);
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON al_customers
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'id');
CREATE TABLE al_orders (
	order_id serial PRIMARY KEY,
	customer_id int,
	ordered_at timestamptz,
	amount numeric
);
CREATE TRIGGER activity AFTER INSERT ON al_orders
	FOR EACH ROW EXECUTE FUNCTION
	clcm.track_activity('al_customers', 'id', 'customer_id', 'ordered_at', 'amount');

CREATE VIEW al_hist AS
SELECT h.customer_key AS cust, h.from_stage, h.to_stage, h.reason
  FROM clcm.stage_history h
 WHERE h.table_name = 'al_customers'::regclass
 ORDER BY h.id;
CREATE VIEW al_facts AS
SELECT customer_key AS cust, first_at, last_at, purchases, revenue
  FROM clcm.activity_facts
 WHERE table_name = 'al_customers'::regclass
 ORDER BY customer_key;

INSERT INTO al_customers VALUES (1, 'prospect'), (2, 'prospect'), (3, 'considering'), (4, NULL);

-- first order: prospect -> new (purchases >= 1)
INSERT INTO al_orders (customer_id, ordered_at, amount) VALUES (1, '2024-01-10', 20);
SELECT id, stage FROM al_customers ORDER BY id;
-- second order: new -> active (purchases >= 2)
INSERT INTO al_orders (customer_id, ordered_at, amount) VALUES (1, '2024-01-20', 30);
-- third and fourth: stay active
INSERT INTO al_orders (customer_id, ordered_at, amount) VALUES (1, '2024-02-01', 10), (1, '2024-02-05', 10);
SELECT id, stage FROM al_customers WHERE id = 1;
-- fifth: active -> loyal (purchases >= 5)
INSERT INTO al_orders (customer_id, ordered_at, amount) VALUES (1, '2024-03-01', 5);
SELECT id, stage FROM al_customers WHERE id = 1;
-- a big first order for customer 2: prospect -> new, then new -> loyal by
-- revenue >= 1000 in the same event (rules chain)
INSERT INTO al_orders (customer_id, ordered_at, amount) VALUES (2, '2024-01-15', 1500);
-- customer 3 starts at considering; NULL amount counts as 0 revenue
INSERT INTO al_orders (customer_id, ordered_at, amount) VALUES (3, '2024-01-05', NULL);
-- customer 4 has no stage: facts only
INSERT INTO al_orders (customer_id, ordered_at, amount) VALUES (4, '2024-01-05', 7);
-- an order without a customer is ignored
INSERT INTO al_orders (customer_id, ordered_at, amount) VALUES (NULL, '2024-01-05', 7);
SELECT id, stage FROM al_customers ORDER BY id;
SELECT * FROM al_facts;
SELECT * FROM al_hist;

-- nightly refresh on 2024-04-15: customer 2 (loyal, last order 2024-01-15,
-- 91 days ago) and customer 3 (new, 2024-01-05, 101 days) -> at_risk;
-- customer 1 (last order 2024-03-01, 45 days) stays loyal
SELECT clcm.refresh_stages('al_customers', '2024-04-15');
SELECT id, stage FROM al_customers ORDER BY id;
-- running it again moves nobody (idempotent)
SELECT clcm.refresh_stages('al_customers', '2024-04-15');
-- refresh on 2024-06-30: customer 1 (last 2024-03-01, 121 days) -> at_risk;
-- 2 (167 days) and 3 (177 days) stay at_risk (churned needs 180)
SELECT clcm.refresh_stages('al_customers', '2024-06-30');
SELECT id, stage FROM al_customers ORDER BY id;
-- an order while at_risk: at_risk -> active (activity); customer 1 has 6
-- purchases so active -> loyal follows in the same event
INSERT INTO al_orders (customer_id, ordered_at, amount) VALUES (1, '2024-07-01', 10);
SELECT id, stage FROM al_customers WHERE id = 1;
-- a year later everyone quiet is churned, in one refresh (via at_risk for 1)
SELECT clcm.refresh_stages('al_customers', '2025-07-01');
SELECT id, stage FROM al_customers ORDER BY id;
SELECT clcm.refresh_stages('al_customers', '2025-07-01');
-- an order after churn: churned -> won_back; the next one -> active
INSERT INTO al_orders (customer_id, ordered_at, amount) VALUES (3, '2025-07-02', 10);
SELECT id, stage FROM al_customers WHERE id = 3;
INSERT INTO al_orders (customer_id, ordered_at, amount) VALUES (3, '2025-07-03', 10);
SELECT id, stage FROM al_customers WHERE id = 3;
SELECT * FROM al_hist;
SELECT * FROM al_facts;
-- clcm.reason is restored after the trigger's moves
SHOW clcm.reason;
SET clcm.reason = 'import';
INSERT INTO al_orders (customer_id, ordered_at, amount) VALUES (2, '2025-07-05', 10);
SHOW clcm.reason;
RESET clcm.reason;
-- that order moved customer 2 churned -> won_back and on to loyal (its
-- revenue is over 1000), both with reason activity
SELECT h.from_stage, h.to_stage, h.reason FROM clcm.stage_history h
 WHERE h.table_name = 'al_customers'::regclass AND h.customer_key = '2'
 ORDER BY h.id DESC LIMIT 2;

-- rules are data: a user rule (shipped = false) changes behaviour at once
INSERT INTO al_customers VALUES (5, 'prospect');
-- (new -> active at a revenue of 1 beats the shipped new -> active at 2 purchases)
INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition, threshold, priority)
VALUES ('lifecycle', 'new', 'active', 'revenue', 1, 1);
INSERT INTO al_orders (customer_id, ordered_at, amount) VALUES (5, '2024-01-01', 1);
SELECT id, stage FROM al_customers WHERE id = 5;
DELETE FROM clcm.stage_rule WHERE NOT shipped;

-- unknown customer: error 23503, nothing written
INSERT INTO al_orders (customer_id, ordered_at, amount) VALUES (99, '2024-01-05', 7);
-- NULL timestamp, negative or NaN amount
INSERT INTO al_orders (customer_id, ordered_at, amount) VALUES (1, NULL, 7);
INSERT INTO al_orders (customer_id, ordered_at, amount) VALUES (1, '2024-01-05', -7);
INSERT INTO al_orders (customer_id, ordered_at, amount) VALUES (1, '2024-01-05', 'NaN');
INSERT INTO al_orders (customer_id, ordered_at, amount) VALUES (1, 'infinity', 1);
SELECT count(*) AS facts_rows, sum(purchases) AS purchases FROM al_facts;

-- refresh bad input
SELECT clcm.refresh_stages('al_customers', 'infinity');
SELECT clcm.refresh_stages('al_orders', '2024-01-01');
SELECT clcm.refresh_stages(NULL, '2024-01-01');

DELETE FROM clcm.activity_facts WHERE table_name = 'al_customers'::regclass;
DROP TABLE al_orders, al_customers CASCADE;
