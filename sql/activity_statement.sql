-- activity_statement: track_activity at statement level (REFERENCING NEW
-- TABLE) gives the same facts and stages as the row-level trigger for a
-- bulk INSERT ... SELECT.
\set SHOW_CONTEXT never
SET timezone = 'UTC';
CREATE TABLE as_cust_row (id int PRIMARY KEY, stage clcm.lifecycle_stage);
CREATE TABLE as_cust_stmt (id int PRIMARY KEY, stage clcm.lifecycle_stage);
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON as_cust_row
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'id');
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON as_cust_stmt
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'id');
CREATE TABLE as_orders_row (cust int, at timestamptz, amount numeric);
CREATE TABLE as_orders_stmt (cust int, at timestamptz, amount numeric);
CREATE TRIGGER activity AFTER INSERT ON as_orders_row FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('as_cust_row', 'id', 'cust', 'at', 'amount');
CREATE TRIGGER activity AFTER INSERT ON as_orders_stmt
	REFERENCING NEW TABLE AS new_orders FOR EACH STATEMENT
	EXECUTE FUNCTION clcm.track_activity('as_cust_stmt', 'id', 'cust', 'at', 'amount');

INSERT INTO as_cust_row SELECT i, 'prospect' FROM generate_series(1, 200) i;
INSERT INTO as_cust_stmt SELECT i, 'prospect' FROM generate_series(1, 200) i;
-- customer i gets i % 7 orders of amount i (so some reach loyal by count,
-- customers >= 500 revenue ... by revenue), timestamps spread over 2024
CREATE TEMP TABLE as_src AS
SELECT i AS cust, timestamptz '2024-01-01' + (i * 3 + j) * interval '1 day' AS at,
       (i * 10)::numeric AS amount
  FROM generate_series(1, 200) i, generate_series(1, 7) j
 WHERE j <= i % 7;
INSERT INTO as_orders_row SELECT * FROM as_src ORDER BY cust, at;
INSERT INTO as_orders_stmt SELECT * FROM as_src;

-- same facts
SELECT count(*) AS customers_with_facts,
       count(*) FILTER (WHERE r.first_at = s.first_at AND r.last_at = s.last_at
                          AND r.purchases = s.purchases AND r.revenue = s.revenue) AS equal
  FROM clcm.activity_facts r
  JOIN clcm.activity_facts s USING (customer_key)
 WHERE r.table_name = 'as_cust_row'::regclass AND s.table_name = 'as_cust_stmt'::regclass;
-- same stages
SELECT r.stage, count(*) AS n, count(*) FILTER (WHERE r.stage = s.stage) AS equal
  FROM as_cust_row r JOIN as_cust_stmt s USING (id) GROUP BY r.stage ORDER BY r.stage;
-- stages by number of orders n = id % 7 and revenue 10 * id * n, as the
-- shipped rules say: no orders prospect; 5 or more orders or a revenue of
-- 1000 or more loyal; otherwise 1 order new, 2 to 4 active
SELECT count(*) AS customers,
       count(*) FILTER (WHERE stage::text <> CASE
           WHEN id % 7 = 0 THEN 'prospect'
           WHEN id % 7 >= 5 OR 10 * id * (id % 7) >= 1000 THEN 'loyal'
           WHEN id % 7 = 1 THEN 'new'
           ELSE 'active' END) AS mismatches
  FROM as_cust_stmt;
-- the statement-level history: one row per move, reason activity
SELECT reason, from_stage, to_stage, count(*)
  FROM clcm.stage_history WHERE table_name = 'as_cust_stmt'::regclass AND from_stage IS NOT NULL
 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;

-- a second batch: facts add up exactly
INSERT INTO as_orders_stmt SELECT cust, at + interval '1 year', 1 FROM as_src WHERE cust <= 10;
SELECT sum(purchases) AS purchases, sum(revenue) AS revenue
  FROM clcm.activity_facts WHERE table_name = 'as_cust_stmt'::regclass;
SELECT count(*) AS orders, sum(amount) AS revenue FROM as_orders_stmt;

-- an unknown customer anywhere in the batch fails the whole statement
INSERT INTO as_orders_stmt VALUES (1, '2024-05-01', 1), (999, '2024-05-01', 1);
-- bad timestamps or amounts too
INSERT INTO as_orders_stmt VALUES (1, NULL, 1);
INSERT INTO as_orders_stmt VALUES (1, '2024-05-01', -1);
-- rows without a customer are ignored; an empty insert does nothing
INSERT INTO as_orders_stmt VALUES (NULL, '2024-05-01', 1);
INSERT INTO as_orders_stmt SELECT * FROM as_orders_stmt WHERE false;
SELECT sum(purchases) AS purchases FROM clcm.activity_facts WHERE table_name = 'as_cust_stmt'::regclass;

DELETE FROM clcm.activity_facts WHERE table_name = 'as_cust_row'::regclass OR table_name = 'as_cust_stmt'::regclass;
DROP TABLE as_orders_row, as_orders_stmt, as_cust_row, as_cust_stmt;
