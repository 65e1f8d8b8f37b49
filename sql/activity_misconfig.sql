-- activity_misconfig: track_activity attached the wrong way gets a clear
-- error (39P01 for the trigger protocol, 42P01/42703 for missing objects).
\set SHOW_CONTEXT never
SET timezone = 'UTC';
CREATE TABLE am_customers (id int PRIMARY KEY, stage clcm.lifecycle_stage, plain text);
INSERT INTO am_customers VALUES (1, 'prospect', 'x');
CREATE TABLE am_orders (cust int, at timestamptz, amount numeric, note text);

-- BEFORE trigger
CREATE TRIGGER t BEFORE INSERT ON am_orders FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('am_customers', 'id', 'cust', 'at');
INSERT INTO am_orders VALUES (1, '2024-01-01', 1);
DROP TRIGGER t ON am_orders;
-- UPDATE event
CREATE TRIGGER t AFTER UPDATE ON am_orders FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('am_customers', 'id', 'cust', 'at');
INSERT INTO am_orders VALUES (1, '2024-01-01', 1);
UPDATE am_orders SET amount = 2;
DROP TRIGGER t ON am_orders;
TRUNCATE am_orders;
-- statement level without a transition table
CREATE TRIGGER t AFTER INSERT ON am_orders FOR EACH STATEMENT
	EXECUTE FUNCTION clcm.track_activity('am_customers', 'id', 'cust', 'at');
INSERT INTO am_orders VALUES (1, '2024-01-01', 1);
DROP TRIGGER t ON am_orders;
-- wrong argument counts
CREATE TRIGGER t AFTER INSERT ON am_orders FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('am_customers', 'id', 'cust');
INSERT INTO am_orders VALUES (1, '2024-01-01', 1);
DROP TRIGGER t ON am_orders;
CREATE TRIGGER t AFTER INSERT ON am_orders FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('am_customers', 'id', 'cust', 'at', 'amount', 'stage', 'x');
INSERT INTO am_orders VALUES (1, '2024-01-01', 1);
DROP TRIGGER t ON am_orders;
-- missing customer table
CREATE TRIGGER t AFTER INSERT ON am_orders FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('no_such_table', 'id', 'cust', 'at');
INSERT INTO am_orders VALUES (1, '2024-01-01', 1);
DROP TRIGGER t ON am_orders;
-- missing columns: key, stage, event customer, timestamp, amount
CREATE TRIGGER t AFTER INSERT ON am_orders FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('am_customers', 'nokey', 'cust', 'at');
INSERT INTO am_orders VALUES (1, '2024-01-01', 1);
DROP TRIGGER t ON am_orders;
CREATE TRIGGER t AFTER INSERT ON am_orders FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('am_customers', 'id', 'cust', 'at', '', 'nostage');
INSERT INTO am_orders VALUES (1, '2024-01-01', 1);
DROP TRIGGER t ON am_orders;
CREATE TRIGGER t AFTER INSERT ON am_orders FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('am_customers', 'id', 'nocust', 'at');
INSERT INTO am_orders VALUES (1, '2024-01-01', 1);
DROP TRIGGER t ON am_orders;
CREATE TRIGGER t AFTER INSERT ON am_orders FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('am_customers', 'id', 'cust', 'noat');
INSERT INTO am_orders VALUES (1, '2024-01-01', 1);
DROP TRIGGER t ON am_orders;
CREATE TRIGGER t AFTER INSERT ON am_orders FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('am_customers', 'id', 'cust', 'at', 'noamount');
INSERT INTO am_orders VALUES (1, '2024-01-01', 1);
DROP TRIGGER t ON am_orders;
-- wrong column types: stage column not of a model type, timestamp, amount
CREATE TRIGGER t AFTER INSERT ON am_orders FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('am_customers', 'id', 'cust', 'at', '', 'plain');
INSERT INTO am_orders VALUES (1, '2024-01-01', 1);
DROP TRIGGER t ON am_orders;
CREATE TRIGGER t AFTER INSERT ON am_orders FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('am_customers', 'id', 'cust', 'note');
INSERT INTO am_orders VALUES (1, '2024-01-01', 1);
DROP TRIGGER t ON am_orders;
CREATE TRIGGER t AFTER INSERT ON am_orders FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('am_customers', 'id', 'cust', 'at', 'note');
INSERT INTO am_orders VALUES (1, '2024-01-01', 1);
DROP TRIGGER t ON am_orders;
-- called directly
SELECT clcm.track_activity();
-- nothing was written by any of the failed inserts
SELECT count(*) FROM am_orders;
SELECT count(*) FROM clcm.activity_facts WHERE table_name = 'am_customers'::regclass;

-- a date timestamp column and an integer amount work; after a column is
-- renamed the cached configuration is rebuilt, so the trigger's stale
-- argument is reported
ALTER TABLE am_orders ADD COLUMN day date, ADD COLUMN qty int;
CREATE TRIGGER t AFTER INSERT ON am_orders FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('am_customers', 'id', 'cust', 'day', 'qty');
INSERT INTO am_orders (cust, day, qty) VALUES (1, '2024-01-01', 3);
ALTER TABLE am_orders RENAME COLUMN qty TO quantity;
INSERT INTO am_orders (cust, day, quantity) VALUES (1, '2024-01-02', 4);
DROP TRIGGER t ON am_orders;
CREATE TRIGGER t AFTER INSERT ON am_orders FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('am_customers', 'id', 'cust', 'day', 'quantity');
INSERT INTO am_orders (cust, day, quantity) VALUES (1, '2024-01-03', 5);
SELECT customer_key, first_at, last_at, purchases, revenue
  FROM clcm.activity_facts WHERE table_name = 'am_customers'::regclass;
SELECT id, stage FROM am_customers;

-- refresh_stages needs a guard trigger; with one it finds the columns
SELECT clcm.refresh_stages('am_customers', '2024-06-01');
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON am_customers
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('plain', 'id');
SELECT clcm.refresh_stages('am_customers', '2024-06-01');
DROP TRIGGER guard ON am_customers;
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON am_customers
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard();
SELECT clcm.refresh_stages('am_customers', '2024-06-01');
SELECT id, stage FROM am_customers;
-- not a table, or a table that does not exist
SELECT clcm.refresh_stages('pg_class_oid_index', '2024-06-01');
SELECT clcm.refresh_stages(4294967295::oid::regclass, '2024-06-01');
SELECT clcm.refresh_stages(0::regclass, '2024-06-01');
CREATE TABLE am_dropped (id int);
SELECT 'am_dropped'::regclass::oid AS dropped_oid \gset
DROP TABLE am_dropped;
\set VERBOSITY sqlstate
SELECT clcm.refresh_stages(:dropped_oid::oid::regclass, '2024-06-01');
\set VERBOSITY default
DELETE FROM clcm.activity_facts WHERE table_name = 'am_customers'::regclass;
DROP TABLE am_orders, am_customers;
