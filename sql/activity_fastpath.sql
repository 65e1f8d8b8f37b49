-- activity_fastpath: the row-level track_activity trigger reads and writes
-- without SQL in the steady state (facts row updated in place, stage read
-- through the customer table's unique key index) and falls back to SQL
-- otherwise.  Every case is checked against a recomputation of the facts
-- from the orders with plain SQL, and against the SQL path (forced by
-- REPEATABLE READ, where only the SQL path runs).
CREATE EXTENSION IF NOT EXISTS amcheck;
SET clcm.enforce = on;

-- the facts of a customer table recomputed from an orders table
CREATE FUNCTION fp_expected(orders regclass, customers regclass)
RETURNS TABLE (customer_key text, first_at timestamptz, last_at timestamptz,
               purchases bigint, revenue numeric)
LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY EXECUTE format(
		'SELECT customer_id::text, min(at), max(at), count(*), sum(coalesce(amount, 0))::numeric
		   FROM %s WHERE customer_id IS NOT NULL GROUP BY 1', orders);
END $$;
-- rows where the kept facts and the recomputation differ (0 when exact)
CREATE FUNCTION fp_diff(orders regclass, customers regclass) RETURNS bigint
LANGUAGE sql AS $$
	SELECT count(*) FROM (
		(SELECT customer_key, first_at, last_at, purchases, revenue
		   FROM clcm.activity_facts WHERE table_name = customers
		 EXCEPT ALL
		 SELECT * FROM fp_expected(orders, customers))
		UNION ALL
		(SELECT * FROM fp_expected(orders, customers)
		 EXCEPT ALL
		 SELECT customer_key, first_at, last_at, purchases, revenue
		   FROM clcm.activity_facts WHERE table_name = customers)) d
$$;

-- 1. customers with a primary key (the direct path) ...
CREATE TABLE fp_pk (id int PRIMARY KEY, stage clcm.lifecycle_stage);
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON fp_pk
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'id');
CREATE TABLE fp_pk_orders (customer_id int, at timestamptz, amount numeric);
CREATE TRIGGER activity AFTER INSERT ON fp_pk_orders FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('fp_pk', 'id', 'customer_id', 'at', 'amount');
-- ... and the same customers without any index (the SQL stage read)
CREATE TABLE fp_noidx (id int, stage clcm.lifecycle_stage);
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON fp_noidx
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'id');
CREATE TABLE fp_noidx_orders (customer_id int, at timestamptz, amount numeric);
CREATE TRIGGER activity AFTER INSERT ON fp_noidx_orders FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('fp_noidx', 'id', 'customer_id', 'at', 'amount');
-- ... and a twin whose orders go in under REPEATABLE READ (SQL only)
CREATE TABLE fp_sql (id int PRIMARY KEY, stage clcm.lifecycle_stage);
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON fp_sql
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'id');
CREATE TABLE fp_sql_orders (customer_id int, at timestamptz, amount numeric);
CREATE TRIGGER activity AFTER INSERT ON fp_sql_orders FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('fp_sql', 'id', 'customer_id', 'at', 'amount');
INSERT INTO fp_pk SELECT i, 'prospect' FROM generate_series(1, 4) i;
INSERT INTO fp_noidx SELECT i, 'prospect' FROM generate_series(1, 4) i;
INSERT INTO fp_sql SELECT i, 'prospect' FROM generate_series(1, 4) i;

-- first events (SQL upsert) then later events (direct update), one
-- statement per order, orders out of time order, NULL amounts, customer
-- 4 without orders
CREATE TABLE fp_input (n int, customer_id int, at timestamptz, amount numeric);
INSERT INTO fp_input VALUES
	(1, 1, '2024-03-01 10:00+00', 100), (2, 2, '2024-03-02 10:00+00', 5.5),
	(3, 1, '2024-02-01 09:00+00', 200), (4, 1, '2024-04-01 09:00+00', NULL),
	(5, 3, '2024-01-15 00:00+00', 0), (6, 2, '2024-01-02 10:00+00', 0.25),
	(7, 1, '2024-04-02 09:00+00', 300), (8, 2, '2024-05-02 10:00+00', 1000),
	(9, 1, '2024-04-03 09:00+00', 1.125), (10, 3, '2024-01-14 00:00+00', NULL);
DO $$
DECLARE r record;
BEGIN
	FOR r IN SELECT * FROM fp_input ORDER BY n LOOP
		INSERT INTO fp_pk_orders VALUES (r.customer_id, r.at, r.amount);
		INSERT INTO fp_noidx_orders VALUES (r.customer_id, r.at, r.amount);
	END LOOP;
END $$;
-- the SQL path: the same orders under REPEATABLE READ, one transaction each
DO $$
DECLARE r record;
BEGIN
	FOR i IN 1..10 LOOP
		COMMIT;
		SET TRANSACTION ISOLATION LEVEL REPEATABLE READ;
		SELECT * INTO STRICT r FROM fp_input WHERE n = i;
		INSERT INTO fp_sql_orders VALUES (r.customer_id, r.at, r.amount);
	END LOOP;
END $$;
SELECT customer_key, first_at AT TIME ZONE 'UTC' AS first_at,
       last_at AT TIME ZONE 'UTC' AS last_at, purchases, revenue
  FROM clcm.activity_facts WHERE table_name = 'fp_pk'::regclass ORDER BY 1;
-- which path an event takes (DEBUG1 messages of the direct path): a
-- later event on fp_pk goes direct for both steps (the stage read at the
-- TID cached by the previous event of customer 2), on fp_noidx only for
-- the facts, a first event (customer 4) only for the stage read (through
-- the index: never seen before)
SET client_min_messages = debug1;
BEGIN;
INSERT INTO fp_pk_orders VALUES (2, '2024-03-01', NULL);
INSERT INTO fp_noidx_orders VALUES (2, '2024-03-01', NULL);
INSERT INTO fp_pk_orders VALUES (4, '2024-03-01', NULL);
ROLLBACK;
RESET client_min_messages;
SELECT fp_diff('fp_pk_orders', 'fp_pk') AS pk_diff,
       fp_diff('fp_noidx_orders', 'fp_noidx') AS noidx_diff,
       fp_diff('fp_sql_orders', 'fp_sql') AS sql_diff;
-- the same facts (text of revenue included) and the same stages on all paths
SELECT (SELECT array_agg(row(customer_key, first_at, last_at, purchases, revenue::text) ORDER BY customer_key)
          FROM clcm.activity_facts WHERE table_name = 'fp_pk'::regclass)
     = (SELECT array_agg(row(customer_key, first_at, last_at, purchases, revenue::text) ORDER BY customer_key)
          FROM clcm.activity_facts WHERE table_name = 'fp_sql'::regclass) AS facts_same_as_sql,
       (SELECT array_agg(row(customer_key, first_at, last_at, purchases, revenue::text) ORDER BY customer_key)
          FROM clcm.activity_facts WHERE table_name = 'fp_pk'::regclass)
     = (SELECT array_agg(row(customer_key, first_at, last_at, purchases, revenue::text) ORDER BY customer_key)
          FROM clcm.activity_facts WHERE table_name = 'fp_noidx'::regclass) AS facts_same_as_noidx;
SELECT p.id, p.stage AS pk_stage, n.stage AS noidx_stage, s.stage AS sql_stage
  FROM fp_pk p JOIN fp_noidx n USING (id) JOIN fp_sql s USING (id) ORDER BY 1;
-- the moves were recorded with reason activity, the same on every path
SELECT h.table_name, count(*) AS moves, string_agg(h.customer_key || ':' || h.from_stage || '>' || h.to_stage, ' ' ORDER BY h.id) AS path
  FROM clcm.stage_history h
 WHERE h.table_name IN ('fp_pk'::regclass, 'fp_noidx'::regclass, 'fp_sql'::regclass)
   AND h.reason = 'activity'
 GROUP BY 1 ORDER BY 1::text;

-- 2. many events of one customer in one transaction: the facts row is
-- updated 1500 times, its page fills with versions the transaction cannot
-- prune, so updates stop being HOT and need index entries; one statement
-- (row triggers fire one after the other) and single-row statements
BEGIN;
INSERT INTO fp_pk_orders
	SELECT 4, timestamptz '2024-06-01 00:00+00' + i * interval '1 minute', i % 7
	  FROM generate_series(1, 1000) i;
DO $$
BEGIN
	FOR i IN 1..500 LOOP
		INSERT INTO fp_pk_orders VALUES (4, timestamptz '2024-05-01 00:00+00' - i * interval '1 hour', 2);
	END LOOP;
END $$;
SELECT n_tup_upd >= 1499 AS updated, n_tup_upd - n_tup_hot_upd > 0 AS some_not_hot
  FROM pg_stat_xact_all_tables WHERE relid = 'clcm.activity_facts'::regclass;
COMMIT;
SELECT purchases, revenue, first_at AT TIME ZONE 'UTC' AS first_at, last_at AT TIME ZONE 'UTC' AS last_at
  FROM clcm.activity_facts WHERE table_name = 'fp_pk'::regclass AND customer_key = '4';
SELECT fp_diff('fp_pk_orders', 'fp_pk') AS pk_diff;
-- the index has exactly the live rows (an entry for every non-HOT version)
SELECT bt_index_check('clcm.activity_facts_pkey', true);
-- and finds the row
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT purchases FROM clcm.activity_facts
 WHERE table_name = 'fp_pk'::regclass AND customer_key = '4';
RESET enable_seqscan;
RESET enable_bitmapscan;

-- 3. unknown customers: 23503 on the direct read and the SQL read, for a
-- first event (no facts yet) and for a customer that has facts but was
-- deleted (direct facts update, then the read finds nobody)
\set VERBOSITY sqlstate
INSERT INTO fp_pk_orders VALUES (99, '2024-01-01', 1);
INSERT INTO fp_noidx_orders VALUES (99, '2024-01-01', 1);
\set VERBOSITY default
INSERT INTO fp_pk_orders VALUES (99, '2024-01-01', 1);
INSERT INTO fp_noidx_orders VALUES (99, '2024-01-01', 1);
BEGIN;
DELETE FROM fp_pk WHERE id = 3;
DELETE FROM fp_noidx WHERE id = 3;
SAVEPOINT a;
INSERT INTO fp_pk_orders VALUES (3, '2024-01-01', 1);
ROLLBACK TO a;
INSERT INTO fp_noidx_orders VALUES (3, '2024-01-01', 1);
ROLLBACK;
-- the failed events left no trace
SELECT fp_diff('fp_pk_orders', 'fp_pk') AS pk_diff,
       fp_diff('fp_noidx_orders', 'fp_noidx') AS noidx_diff;
SELECT count(*) AS facts_of_99 FROM clcm.activity_facts WHERE customer_key = '99';

-- 4. a customer table with row-level security: the direct read must not
-- see a customer the inserting role cannot see (the SQL read applies the
-- policy: 23503), nor bypass missing privileges (42501)
CREATE ROLE fp_app;
GRANT EXECUTE ON FUNCTION clcm.track_activity() TO fp_app;
GRANT EXECUTE ON FUNCTION clcm.stage_guard() TO fp_app;
CREATE TABLE fp_rls (id int PRIMARY KEY, stage clcm.lifecycle_stage);
CREATE TABLE fp_rls_orders (customer_id int, at timestamptz, amount numeric);
CREATE TRIGGER activity AFTER INSERT ON fp_rls_orders FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('fp_rls', 'id', 'customer_id', 'at', 'amount');
INSERT INTO fp_rls VALUES (1, 'loyal'), (2, 'loyal');
ALTER TABLE fp_rls ENABLE ROW LEVEL SECURITY;
CREATE POLICY fp_rls_hide_2 ON fp_rls FOR SELECT USING (id <> 2);
GRANT INSERT ON fp_rls_orders TO fp_app;
SET ROLE fp_app;
INSERT INTO fp_rls_orders VALUES (1, '2024-01-01', 1);  -- no SELECT on fp_rls yet
RESET ROLE;
GRANT SELECT ON fp_rls TO fp_app;
SET ROLE fp_app;
INSERT INTO fp_rls_orders VALUES (1, '2024-01-01', 1);
INSERT INTO fp_rls_orders VALUES (1, '2024-01-02', 2);
INSERT INTO fp_rls_orders VALUES (2, '2024-01-01', 1);  -- hidden by the policy
RESET ROLE;
SELECT customer_key, purchases, revenue FROM clcm.activity_facts
 WHERE table_name = 'fp_rls'::regclass ORDER BY 1;

-- 5. a facts table of unexpected shape (an extra index): the direct write
-- is not used, so the extra index gets its entries
CREATE INDEX fp_facts_last_at ON clcm.activity_facts (last_at);
INSERT INTO fp_pk_orders VALUES (1, '2030-01-01', 1), (2, '2030-01-02', 2);
INSERT INTO fp_pk_orders VALUES (1, '2030-01-03', 3);
SELECT bt_index_check('clcm.fp_facts_last_at', true);
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT customer_key, purchases FROM clcm.activity_facts
 WHERE last_at >= '2030-01-01' AND table_name = 'fp_pk'::regclass ORDER BY 1;
RESET enable_seqscan;
RESET enable_bitmapscan;
DROP INDEX clcm.fp_facts_last_at;
-- and without it the direct write is used again
INSERT INTO fp_pk_orders VALUES (1, '2030-01-04', 4);
SELECT fp_diff('fp_pk_orders', 'fp_pk') AS pk_diff;

-- 6. keys of other types: a text key, and events whose customer column is
-- of another type than the key (bigint events, int customers: converted
-- through text, so the facts key is the customer key's own text)
CREATE TABLE fp_txt (code text PRIMARY KEY, stage clcm.lifecycle_stage);
CREATE TABLE fp_txt_orders (customer_id text, at timestamptz, amount int);
CREATE TRIGGER activity AFTER INSERT ON fp_txt_orders FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('fp_txt', 'code', 'customer_id', 'at', 'amount');
INSERT INTO fp_txt VALUES ('a b', 'new'), ('Ä', 'new');
INSERT INTO fp_txt_orders VALUES ('a b', '2024-01-01', 1);
INSERT INTO fp_txt_orders VALUES ('a b', '2024-01-02', 2);
INSERT INTO fp_txt_orders VALUES ('Ä', '2024-01-03', 3);
INSERT INTO fp_txt_orders VALUES ('Ä', '2024-01-04', NULL);
INSERT INTO fp_txt_orders VALUES ('a b', '2024-01-05', 4);
SELECT fp_diff('fp_txt_orders', 'fp_txt') AS txt_diff;
SELECT code, stage FROM fp_txt ORDER BY 1;
CREATE TABLE fp_big_orders (customer_id bigint, at date, amount float8);
CREATE TRIGGER activity AFTER INSERT ON fp_big_orders FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('fp_noidx', 'id', 'customer_id', 'at', 'amount');
INSERT INTO fp_big_orders VALUES (1, '2031-01-01', 0.5);
INSERT INTO fp_big_orders VALUES (1, '2031-01-02', 0.25);
SELECT customer_key, last_at AT TIME ZONE 'UTC' AS last_at, purchases, revenue
  FROM clcm.activity_facts WHERE table_name = 'fp_noidx'::regclass AND customer_key = '1';
-- a partitioned customer table: its primary key is a partitioned index,
-- which cannot be scanned, so the stage is read with SQL
CREATE TABLE fp_part (id int PRIMARY KEY, stage clcm.lifecycle_stage) PARTITION BY RANGE (id);
CREATE TABLE fp_part_1 PARTITION OF fp_part FOR VALUES FROM (1) TO (100);
CREATE TABLE fp_part_2 PARTITION OF fp_part FOR VALUES FROM (100) TO (200);
CREATE TABLE fp_part_orders (customer_id int, at timestamptz, amount numeric);
CREATE TRIGGER activity AFTER INSERT ON fp_part_orders FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('fp_part', 'id', 'customer_id', 'at', 'amount');
INSERT INTO fp_part VALUES (1, 'new'), (150, 'new');
SET client_min_messages = debug1;
INSERT INTO fp_part_orders VALUES (1, '2024-01-01', 1), (150, '2024-01-01', 2);
INSERT INTO fp_part_orders VALUES (150, '2024-01-02', 3);
RESET client_min_messages;
\set VERBOSITY sqlstate
INSERT INTO fp_part_orders VALUES (99, '2024-01-01', 1);
\set VERBOSITY default
SELECT fp_diff('fp_part_orders', 'fp_part') AS part_diff;
SELECT id, stage FROM fp_part ORDER BY 1;

-- 7. the TID cache (clcm.activity_cache_size): a customer's later events
-- find its facts row and customer row at the TIDs where the previous
-- event found them, without the indexes; a cached TID is only a hint
CREATE TABLE fp_cache (id int PRIMARY KEY, stage clcm.lifecycle_stage, pad text);
INSERT INTO fp_cache SELECT i, 'loyal', repeat('x', 200) FROM generate_series(1, 300) i;
CREATE TABLE fp_cache_orders (customer_id int, at timestamptz, amount numeric);
CREATE TRIGGER activity AFTER INSERT ON fp_cache_orders FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('fp_cache', 'id', 'customer_id', 'at', 'amount');
INSERT INTO fp_cache_orders VALUES (300, '2024-01-01', 1);
SET client_min_messages = debug1;
INSERT INTO fp_cache_orders VALUES (300, '2024-01-02', 1);  -- cached
SET clcm.activity_cache_size = 0;
INSERT INTO fp_cache_orders VALUES (300, '2024-01-03', 1);  -- off: index
RESET clcm.activity_cache_size;
INSERT INTO fp_cache_orders VALUES (300, '2024-01-04', 1);  -- new cache: index
INSERT INTO fp_cache_orders VALUES (300, '2024-01-05', 1);  -- cached
RESET client_min_messages;
-- a rewrite moves every row: the cached TIDs are forgotten
VACUUM FULL fp_cache;
SET client_min_messages = debug1;
INSERT INTO fp_cache_orders VALUES (300, '2024-01-06', 1);  -- index
RESET client_min_messages;
-- the row at a cached TID is another customer's (deleted and its line
-- pointer reused), or gone, or the table shrank below the TID: never the
-- wrong customer, never a read past the end of the table
DELETE FROM fp_cache WHERE id > 200;
VACUUM fp_cache;
SELECT pg_relation_size('fp_cache') / 8192 AS pages_after_truncation;
INSERT INTO fp_cache VALUES (300, 'active', 'y');
\set VERBOSITY sqlstate
INSERT INTO fp_cache_orders VALUES (299, '2024-01-07', 1);  -- gone: 23503
\set VERBOSITY default
INSERT INTO fp_cache_orders VALUES (300, '2024-01-07', 1);
INSERT INTO fp_cache_orders VALUES (300, '2024-01-08', 1);
SELECT fp_diff('fp_cache_orders', 'fp_cache') AS cache_diff;
SELECT id, stage FROM fp_cache WHERE id = 300;
\set VERBOSITY sqlstate
SET clcm.activity_cache_size = -1;
\set VERBOSITY default

-- the purchases counter at the bigint limit: the direct update raises
-- 22003 like the SQL path's int8 addition (fp_sql, REPEATABLE READ)
UPDATE clcm.activity_facts SET purchases = 9223372036854775807
 WHERE table_name IN ('fp_pk'::regclass, 'fp_sql'::regclass) AND customer_key = '1';
\set VERBOSITY sqlstate
INSERT INTO fp_pk_orders VALUES (1, '2024-06-01', 1);
BEGIN ISOLATION LEVEL REPEATABLE READ;
INSERT INTO fp_sql_orders VALUES (1, '2024-06-01', 1);
ROLLBACK;
\set VERBOSITY default
SELECT table_name::text, purchases FROM clcm.activity_facts
 WHERE table_name IN ('fp_pk'::regclass, 'fp_sql'::regclass) AND customer_key = '1' ORDER BY 1;

DELETE FROM clcm.activity_facts
 WHERE table_name IN ('fp_pk'::regclass, 'fp_noidx'::regclass, 'fp_sql'::regclass,
                      'fp_rls'::regclass, 'fp_txt'::regclass, 'fp_part'::regclass,
                      'fp_cache'::regclass);
DELETE FROM clcm.stage_history
 WHERE table_name IN ('fp_pk'::regclass, 'fp_noidx'::regclass, 'fp_sql'::regclass,
                      'fp_rls'::regclass, 'fp_txt'::regclass, 'fp_cache'::regclass);
DROP TABLE fp_pk_orders, fp_noidx_orders, fp_sql_orders, fp_rls_orders,
	fp_txt_orders, fp_big_orders, fp_part_orders, fp_part, fp_pk, fp_noidx, fp_sql, fp_rls, fp_txt, fp_input,
	fp_cache_orders, fp_cache;
DROP FUNCTION fp_diff(regclass, regclass);
DROP FUNCTION fp_expected(regclass, regclass);
REVOKE EXECUTE ON FUNCTION clcm.track_activity() FROM fp_app;
REVOKE EXECUTE ON FUNCTION clcm.stage_guard() FROM fp_app;
DROP ROLE fp_app;
DROP EXTENSION amcheck;
