-- guard_edge: documented edge cases: partitioned tables (including an
-- UPDATE that moves a row to another partition) and INSERT ... ON CONFLICT.
CREATE TABLE guard_e (id int, region int, stage clcm.lifecycle_stage,
                      PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE guard_e1 PARTITION OF guard_e FOR VALUES IN (1);
CREATE TABLE guard_e2 PARTITION OF guard_e FOR VALUES IN (2);
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON guard_e
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard();
INSERT INTO guard_e VALUES (1, 1, 'new');
UPDATE guard_e SET stage = 'active';
-- ERROR 23514: validated on the partition
UPDATE guard_e SET stage = 'prospect';
-- a legal move to another partition: recorded on both partitions
UPDATE guard_e SET region = 2, stage = 'loyal';
-- ERROR 23514: a forbidden move to another partition is refused
UPDATE guard_e SET region = 1, stage = 'new';
SELECT table_name, customer_key, from_stage, to_stage FROM clcm.stage_history
 WHERE table_name IN ('guard_e1'::regclass, 'guard_e2'::regclass) ORDER BY id;
DROP TABLE guard_e;

-- INSERT ... ON CONFLICT DO UPDATE: the proposed insert is recorded too
CREATE TABLE guard_u (id int PRIMARY KEY, stage clcm.lifecycle_stage);
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON guard_u
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard();
INSERT INTO guard_u VALUES (1, 'new');
INSERT INTO guard_u VALUES (1, 'active')
	ON CONFLICT (id) DO UPDATE SET stage = excluded.stage;
-- ERROR 23514: the update part is validated
INSERT INTO guard_u VALUES (1, 'prospect')
	ON CONFLICT (id) DO UPDATE SET stage = excluded.stage;
SELECT customer_key, from_stage, to_stage FROM clcm.stage_history
 WHERE table_name = 'guard_u'::regclass ORDER BY id;
DROP TABLE guard_u;

-- long values are stored (TOASTed) like any other row
CREATE TABLE guard_l (id text PRIMARY KEY, stage clcm.b2b_stage);
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON guard_l
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard();
SELECT set_config('clcm.reason', repeat('why ', 5000), false) IS NOT NULL AS set;
INSERT INTO guard_l VALUES (repeat('k', 3000), 'initial');
RESET clcm.reason;
SELECT length(customer_key) AS key_len, length(reason) AS reason_len, to_stage
  FROM clcm.stage_history WHERE table_name = 'guard_l'::regclass;
DROP TABLE guard_l;
