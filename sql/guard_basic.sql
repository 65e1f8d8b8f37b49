-- guard_basic: clcm.stage_guard semantics and the rows it writes to
-- clcm.stage_history.
\set SHOW_CONTEXT never
CREATE TABLE guard_customers (
	id int PRIMARY KEY,
	name text,
	stage clcm.lifecycle_stage,
	stage_since timestamptz
);
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON guard_customers
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'id', 'stage_since');

-- a view of this table's history without the volatile columns
CREATE VIEW guard_hist AS
SELECT h.customer_key, h.from_stage, h.to_stage, h.model, h.reason, h.override,
       h.role = current_user AS role_ok,
       h.changed_at = now() AS at_now,
       h.xid = pg_current_xact_id() AS same_xact
  FROM clcm.stage_history h
 WHERE h.table_name = 'guard_customers'::regclass
 ORDER BY h.id;

-- inserts may start at any stage; a NULL stage is not recorded
BEGIN;
INSERT INTO guard_customers (id, name, stage) VALUES
	(1, 'ann', 'prospect'), (2, 'bob', 'active'), (3, 'cid', NULL);
SELECT * FROM guard_hist;
-- stage_since was NULL and is stamped with the transaction time
SELECT id, stage, stage_since = now() AS stamped FROM guard_customers ORDER BY id;
COMMIT;

-- an explicit timestamp on insert is kept
INSERT INTO guard_customers VALUES (4, 'dee', 'loyal', '2024-01-01 00:00+00');
SELECT stage_since FROM guard_customers WHERE id = 4;

-- legal moves are recorded with from_stage and stamp stage_since
BEGIN;
SET LOCAL clcm.reason = 'first purchase';
UPDATE guard_customers SET stage = 'new' WHERE id = 1;
UPDATE guard_customers SET stage = 'active' WHERE id = 1;
SELECT * FROM guard_hist;
SELECT stage, stage_since = now() AS stamped FROM guard_customers WHERE id = 1;
COMMIT;

-- an update that keeps the stage writes nothing and keeps stage_since
UPDATE guard_customers SET name = 'dee2' WHERE id = 4;
UPDATE guard_customers SET stage = 'loyal' WHERE id = 4;
SELECT stage_since FROM guard_customers WHERE id = 4;
SELECT count(*) FROM clcm.stage_history WHERE table_name = 'guard_customers'::regclass;

-- a forbidden move is refused with 23514 / clcm_stage_transition and
-- nothing is written
-- ERROR 23514
UPDATE guard_customers SET stage = 'prospect' WHERE id = 2;
-- ERROR 23514 (no way out of churned but won_back)
UPDATE guard_customers SET stage = 'churned' WHERE id = 4;
UPDATE guard_customers SET stage = 'active' WHERE id = 4;
SELECT id, stage FROM guard_customers ORDER BY id;
SELECT count(*) FROM clcm.stage_history WHERE table_name = 'guard_customers'::regclass;

-- the error fields an application sees
DO $$
DECLARE
	st text; con text; tab text; sch text; col text; msg text; hnt text;
BEGIN
	UPDATE guard_customers SET stage = 'new' WHERE id = 2;
EXCEPTION WHEN check_violation THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, con = CONSTRAINT_NAME,
		tab = TABLE_NAME, sch = SCHEMA_NAME, col = COLUMN_NAME, msg = MESSAGE_TEXT,
		hnt = PG_EXCEPTION_HINT;
	RAISE NOTICE 'sqlstate=% constraint=% schema=% table=% column=%', st, con, sch, tab, col;
	RAISE NOTICE 'message=%', msg;
	RAISE NOTICE 'hint=%', hnt;
END
$$;

-- clcm.enforce = off: the move is accepted and marked as an override
BEGIN;
SET LOCAL clcm.enforce = off;
SET LOCAL clcm.reason = 'migration';
UPDATE guard_customers SET stage = 'prospect' WHERE id = 4;
-- a legal move under enforce = off is not an override
UPDATE guard_customers SET stage = 'considering' WHERE id = 4;
SELECT * FROM guard_hist WHERE customer_key = '4';
COMMIT;
SHOW clcm.enforce;

-- NULL stages: an update from NULL is an entry; to NULL is refused
UPDATE guard_customers SET stage = 'considering' WHERE id = 3;
SELECT from_stage, to_stage FROM guard_hist WHERE customer_key = '3';
-- ERROR 23502
UPDATE guard_customers SET stage = NULL WHERE id = 3;
BEGIN;
SET LOCAL clcm.enforce = off;
-- ERROR 23502 (also with enforce off)
UPDATE guard_customers SET stage = NULL WHERE id = 3;
ROLLBACK;
-- an empty clcm.reason is recorded as NULL
SET clcm.reason = '';
UPDATE guard_customers SET stage = 'new' WHERE id = 3;
RESET clcm.reason;
SELECT reason IS NULL AS reason_null FROM guard_hist WHERE customer_key = '3' AND to_stage = 'new';

-- a key change in the same update is recorded under the new key
UPDATE guard_customers SET id = 30, stage = 'active' WHERE id = 3;
SELECT customer_key, from_stage, to_stage FROM guard_hist WHERE customer_key IN ('3', '30');

-- a multi-row update validates each row; one forbidden row refuses all
-- ERROR 23514
UPDATE guard_customers SET stage = 'loyal' WHERE id IN (1, 2, 4);
UPDATE guard_customers SET stage = 'loyal' WHERE id IN (1, 2);
SELECT id, stage FROM guard_customers ORDER BY id;

-- history forms a chain per customer
SELECT count(*) AS breaks FROM (
	SELECT customer_key, from_stage,
	       lag(to_stage) OVER (PARTITION BY customer_key ORDER BY id) AS prev
	  FROM clcm.stage_history WHERE table_name = 'guard_customers'::regclass) c
 WHERE prev IS NOT NULL AND from_stage IS DISTINCT FROM prev;

-- default arguments: columns "stage" and "id", no timestamp; a text key
-- and a custom model
SELECT clcm.define_model('guard_ticket', '{open,closed}', '{open->closed}');
CREATE TABLE guard_tickets (id text PRIMARY KEY, stage clcm.guard_ticket_stage);
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON guard_tickets
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard();
INSERT INTO guard_tickets VALUES ('T-1', 'open');
UPDATE guard_tickets SET stage = 'closed';
-- ERROR 23514
UPDATE guard_tickets SET stage = 'open';
SELECT customer_key, model, from_stage, to_stage FROM clcm.stage_history
 WHERE table_name = 'guard_tickets'::regclass ORDER BY id;

-- the guard follows model changes made after it cached the model
INSERT INTO clcm.transition (model, from_stage, to_stage) VALUES ('guard_ticket', 'closed', 'open');
UPDATE guard_tickets SET stage = 'open';
DELETE FROM clcm.transition WHERE model = 'guard_ticket' AND from_stage = 'closed';
UPDATE guard_tickets SET stage = 'closed';
-- ERROR 23514
UPDATE guard_tickets SET stage = 'open';
-- a stage added with ALTER TYPE has no transitions until some are added
ALTER TYPE clcm.guard_ticket_stage ADD VALUE 'archived';
-- ERROR 23514
UPDATE guard_tickets SET stage = 'archived';
-- ERROR 22023: the model's stages must list the new label first
INSERT INTO clcm.transition (model, from_stage, to_stage) VALUES ('guard_ticket', '*', 'archived');
-- ERROR 22023: stages must be the type's labels in order
UPDATE clcm.model SET stages = '{open,archived,closed}' WHERE name = 'guard_ticket';
UPDATE clcm.model SET stages = enum_range(NULL::clcm.guard_ticket_stage)::text[]
 WHERE name = 'guard_ticket';
INSERT INTO clcm.transition (model, from_stage, to_stage) VALUES ('guard_ticket', '*', 'archived');
UPDATE guard_tickets SET stage = 'archived';
SELECT from_stage, to_stage FROM clcm.stage_history
 WHERE table_name = 'guard_tickets'::regclass ORDER BY id;

-- a timestamp without time zone column is stamped too
CREATE TABLE guard_ts (id int PRIMARY KEY, stage clcm.b2b_stage, since timestamp);
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON guard_ts
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'id', 'since');
BEGIN;
INSERT INTO guard_ts VALUES (1, 'initial', NULL);
SELECT since = now()::timestamp AS stamped FROM guard_ts;
COMMIT;

-- COPY goes through the guard as well
COPY guard_ts (id, stage) FROM stdin;
2	mature
3	terminated
\.
SELECT customer_key, from_stage, to_stage FROM clcm.stage_history
 WHERE table_name = 'guard_ts'::regclass ORDER BY id;

DROP TABLE guard_ts;
DROP TABLE guard_tickets;
SELECT clcm.drop_model('guard_ticket');
DROP VIEW guard_hist;
DROP TABLE guard_customers;
