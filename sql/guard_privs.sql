-- guard_privs: the history is append-only for ordinary roles; the guard
-- writes it as the table owner and records the current user; who may
-- attach the guard, change models and set clcm.enforce.
CREATE ROLE regress_clcm_app;
CREATE ROLE regress_clcm_owner;
GRANT CREATE ON SCHEMA public TO regress_clcm_owner;
CREATE TABLE guard_p (id int PRIMARY KEY, stage clcm.lifecycle_stage);
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON guard_p
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard();
GRANT SELECT, INSERT, UPDATE ON guard_p TO regress_clcm_app;

SET ROLE regress_clcm_app;
INSERT INTO guard_p VALUES (1, 'new');
UPDATE guard_p SET stage = 'active';
SELECT customer_key, from_stage, to_stage, role FROM clcm.stage_history
 WHERE table_name = 'guard_p'::regclass ORDER BY id;
-- ERROR 42501: history is append-only for ordinary roles
INSERT INTO clcm.stage_history (table_name, customer_key, model, to_stage, changed_at, xid, role)
VALUES ('guard_p', '1', 'lifecycle', 'loyal', now(), pg_current_xact_id(), current_user);
-- ERROR 42501
UPDATE clcm.stage_history SET to_stage = 'loyal';
-- ERROR 42501
DELETE FROM clcm.stage_history;
-- ERROR 42501
TRUNCATE clcm.stage_history;
-- ERROR 42501: nor can they use the id sequence
SELECT nextval('clcm.stage_history_id_seq');
-- ERROR 42501: only superusers (or roles granted SET) may set clcm.enforce
SET clcm.enforce = off;
-- clcm.reason is for everyone
SET clcm.reason = 'app';
UPDATE guard_p SET stage = 'loyal';
RESET clcm.reason;
-- ERROR 42501: models are changed by their administrators only
SELECT clcm.define_model('regress_m', '{a,b}', '{a->b}');
-- ERROR 42501
SELECT clcm.drop_model('lifecycle');
-- ERROR 42501
INSERT INTO clcm.transition (model, from_stage, to_stage) VALUES ('lifecycle', 'churned', 'active');
-- ERROR 42501
DELETE FROM clcm.transition;
-- reading models is fine
SELECT count(*) > 0 AS can_read FROM clcm.transition;
SELECT clcm.can_transition('loyal'::clcm.lifecycle_stage, 'churned'::clcm.lifecycle_stage);
RESET ROLE;

-- attaching the guard needs EXECUTE on clcm.stage_guard
SET ROLE regress_clcm_owner;
CREATE TABLE guard_p2 (id int PRIMARY KEY, stage clcm.b2b_stage);
-- ERROR 42501
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON guard_p2
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard();
RESET ROLE;
GRANT EXECUTE ON FUNCTION clcm.stage_guard() TO regress_clcm_owner;
SET ROLE regress_clcm_owner;
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON guard_p2
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard();
INSERT INTO guard_p2 VALUES (7, 'initial');
RESET ROLE;
REVOKE EXECUTE ON FUNCTION clcm.stage_guard() FROM regress_clcm_owner;
-- firing an attached guard needs no grant
SET ROLE regress_clcm_owner;
UPDATE guard_p2 SET stage = 'development';
RESET ROLE;
SELECT customer_key, from_stage, to_stage, role FROM clcm.stage_history
 WHERE table_name = 'guard_p2'::regclass ORDER BY id;

-- GRANT SET ON PARAMETER lets a migration role bypass validation
GRANT SET ON PARAMETER clcm.enforce TO regress_clcm_app;
SET ROLE regress_clcm_app;
BEGIN;
SET LOCAL clcm.enforce = off;
UPDATE guard_p SET stage = 'prospect';
COMMIT;
RESET ROLE;
REVOKE SET ON PARAMETER clcm.enforce FROM regress_clcm_app;
SELECT from_stage, to_stage, role, reason, override FROM clcm.stage_history
 WHERE table_name = 'guard_p'::regclass ORDER BY id;

-- the write happens as the history owner inside a SECURITY DEFINER
-- caller too: role records the effective current_user
CREATE FUNCTION guard_p_move(s clcm.lifecycle_stage) RETURNS void
	LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public
	AS $$ UPDATE public.guard_p SET stage = s $$;
ALTER FUNCTION guard_p_move(clcm.lifecycle_stage) OWNER TO regress_clcm_owner;
GRANT UPDATE, SELECT ON guard_p TO regress_clcm_owner;
SET ROLE regress_clcm_app;
SELECT guard_p_move('considering');
RESET ROLE;
SELECT from_stage, to_stage, role FROM clcm.stage_history
 WHERE table_name = 'guard_p'::regclass ORDER BY id DESC LIMIT 1;

DROP FUNCTION guard_p_move(clcm.lifecycle_stage);
DROP TABLE guard_p, guard_p2;
REVOKE CREATE ON SCHEMA public FROM regress_clcm_owner;
DROP ROLE regress_clcm_app;
DROP ROLE regress_clcm_owner;
