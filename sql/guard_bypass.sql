-- guard_bypass: what bypasses the guard (documented in doc/clcm.md):
-- session_replication_role = replica and DISABLE TRIGGER skip it entirely
-- (no validation, no history); clcm.enforce = off skips validation only.
CREATE TABLE guard_b (id int PRIMARY KEY, stage clcm.lifecycle_stage);
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON guard_b
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard();
INSERT INTO guard_b VALUES (1, 'churned');

-- session_replication_role = replica: not validated, not recorded
SET session_replication_role = replica;
UPDATE guard_b SET stage = 'active';
RESET session_replication_role;

-- DISABLE TRIGGER: the same
ALTER TABLE guard_b DISABLE TRIGGER guard;
UPDATE guard_b SET stage = 'churned';
ALTER TABLE guard_b ENABLE TRIGGER guard;

-- enforce = off: accepted and recorded as an override
SET clcm.enforce = off;
UPDATE guard_b SET stage = 'loyal';
RESET clcm.enforce;

-- ERROR 23514: enforced again
UPDATE guard_b SET stage = 'prospect';

-- a trigger ENABLE REPLICA / ALWAYS follows PostgreSQL's rules too
ALTER TABLE guard_b ENABLE ALWAYS TRIGGER guard;
SET session_replication_role = replica;
-- ERROR 23514: an ALWAYS trigger fires in replica mode
UPDATE guard_b SET stage = 'prospect';
RESET session_replication_role;

SELECT from_stage, to_stage, override FROM clcm.stage_history
 WHERE table_name = 'guard_b'::regclass ORDER BY id;
DROP TABLE guard_b;
