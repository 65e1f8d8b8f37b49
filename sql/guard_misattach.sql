-- guard_misattach: every way of attaching clcm.stage_guard wrongly is a
-- 39P01 (trigger_protocol_violated) error naming the problem; nothing is
-- written to the history.
CREATE TABLE guard_m (id int PRIMARY KEY, stage clcm.lifecycle_stage,
                      other_stage clcm.b2b_stage, label text, color_col int,
                      since date, ts timestamptz);
INSERT INTO guard_m VALUES (1, 'new', 'initial', 'x', 0, NULL, NULL);

-- ERROR 39P01: AFTER trigger
CREATE TRIGGER g AFTER INSERT OR UPDATE ON guard_m
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard();
UPDATE guard_m SET stage = 'active';
DROP TRIGGER g ON guard_m;

-- ERROR 39P01: statement level
CREATE TRIGGER g BEFORE UPDATE ON guard_m
	FOR EACH STATEMENT EXECUTE FUNCTION clcm.stage_guard();
UPDATE guard_m SET stage = 'active';
DROP TRIGGER g ON guard_m;

-- ERROR 39P01: DELETE event
CREATE TRIGGER g BEFORE DELETE ON guard_m
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard();
DELETE FROM guard_m;
DROP TRIGGER g ON guard_m;

-- ERROR 39P01: TRUNCATE event
CREATE TRIGGER g BEFORE TRUNCATE ON guard_m
	FOR EACH STATEMENT EXECUTE FUNCTION clcm.stage_guard();
TRUNCATE guard_m;
DROP TRIGGER g ON guard_m;

-- ERROR 39P01: missing stage column (default name "stage" is fine here,
-- so name one that does not exist)
CREATE TRIGGER g BEFORE INSERT OR UPDATE ON guard_m
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('no_such_col');
UPDATE guard_m SET stage = 'active';
DROP TRIGGER g ON guard_m;

-- ERROR 39P01: missing key column
CREATE TRIGGER g BEFORE INSERT OR UPDATE ON guard_m
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'customer_id');
UPDATE guard_m SET stage = 'active';
DROP TRIGGER g ON guard_m;

-- ERROR 39P01: missing timestamp column
CREATE TRIGGER g BEFORE INSERT OR UPDATE ON guard_m
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'id', 'nope');
UPDATE guard_m SET stage = 'active';
DROP TRIGGER g ON guard_m;

-- ERROR 39P01: a system column is not a stage column
CREATE TRIGGER g BEFORE INSERT OR UPDATE ON guard_m
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('ctid');
UPDATE guard_m SET stage = 'active';
DROP TRIGGER g ON guard_m;

-- ERROR 39P01: stage column of a type that is not a stage type
CREATE TRIGGER g BEFORE INSERT OR UPDATE ON guard_m
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('label');
UPDATE guard_m SET stage = 'active';
DROP TRIGGER g ON guard_m;

-- ERROR 39P01: an enum that is not a model's stage type
CREATE TYPE guard_m_color AS ENUM ('red', 'green');
ALTER TABLE guard_m ADD COLUMN color guard_m_color;
CREATE TRIGGER g BEFORE INSERT OR UPDATE ON guard_m
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('color');
UPDATE guard_m SET stage = 'active';
DROP TRIGGER g ON guard_m;

-- ERROR 39P01: timestamp column of the wrong type
CREATE TRIGGER g BEFORE INSERT OR UPDATE ON guard_m
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'id', 'since');
UPDATE guard_m SET stage = 'active';
DROP TRIGGER g ON guard_m;

-- ERROR 39P01: too many arguments
CREATE TRIGGER g BEFORE INSERT OR UPDATE ON guard_m
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'id', 'ts', 'extra');
UPDATE guard_m SET stage = 'active';
DROP TRIGGER g ON guard_m;

-- ERROR 39P01: called directly, not as a trigger
SELECT clcm.stage_guard();

-- ERROR 23502: the key column is NULL
ALTER TABLE guard_m ADD COLUMN alt_key int;
CREATE TRIGGER g BEFORE INSERT OR UPDATE ON guard_m
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'alt_key');
UPDATE guard_m SET stage = 'active';
DROP TRIGGER g ON guard_m;

-- a column dropped after the trigger was created is reported at the next use
CREATE TRIGGER g BEFORE INSERT OR UPDATE ON guard_m
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'id', 'ts');
UPDATE guard_m SET stage = 'active';
ALTER TABLE guard_m DROP COLUMN ts;
-- ERROR 39P01
UPDATE guard_m SET stage = 'loyal';
DROP TRIGGER g ON guard_m;

-- a second guard on another column of another model's type works
CREATE TRIGGER g2 BEFORE INSERT OR UPDATE ON guard_m
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('other_stage');
UPDATE guard_m SET other_stage = 'development';
-- ERROR 23514
UPDATE guard_m SET other_stage = 'initial';
DROP TRIGGER g2 ON guard_m;

SELECT customer_key, model, from_stage, to_stage FROM clcm.stage_history
 WHERE table_name = 'guard_m'::regclass ORDER BY id;
SELECT stage, other_stage FROM guard_m;
DROP TABLE guard_m;
DROP TYPE guard_m_color;
