--
-- harden_privileges: what an ordinary role may do with clcm's objects,
-- checked over the catalog (every relation and function of the
-- extension, so a new object is covered), then by trying.
--
SET client_min_messages = warning;
CREATE ROLE harden_nobody;
CREATE ROLE harden_bypass;

-- clcm.enforce before the library is loaded in this session: PostgreSQL
-- keeps an unknown custom setting as a placeholder that anyone may set,
-- but when the library defines clcm.enforce (SUSET) it re-checks the
-- privilege of the role that set it and discards the value (WARNING)
SET ROLE harden_nobody;
SET clcm.enforce = off;
SELECT clcm.clcm_version() IS NOT NULL AS library_loaded;
SHOW clcm.enforce;
RESET ROLE;

CREATE TEMP VIEW ext_objects AS
SELECT d.classid, d.objid
  FROM pg_depend d
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'clcm');

-- relations: an ordinary role may read (SELECT) but change nothing
SELECT c.oid::regclass AS relation, c.relkind,
	   has_table_privilege('harden_nobody', c.oid, 'SELECT') AS can_select,
	   (SELECT string_agg(p, ',' ORDER BY p)
		  FROM unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p
		 WHERE c.relkind <> 'S' AND has_table_privilege('harden_nobody', c.oid, p)) AS can_change
  FROM ext_objects o JOIN pg_class c ON c.oid = o.objid
 WHERE o.classid = 'pg_class'::regclass
 ORDER BY c.oid::regclass::text;
-- sequences: no USAGE/UPDATE
SELECT c.oid::regclass AS sequence,
	   has_sequence_privilege('harden_nobody', c.oid, 'USAGE') AS usage,
	   has_sequence_privilege('harden_nobody', c.oid, 'UPDATE') AS update
  FROM ext_objects o JOIN pg_class c ON c.oid = o.objid
 WHERE o.classid = 'pg_class'::regclass AND c.relkind = 'S'
 ORDER BY c.oid::regclass::text;
-- the schema: usage, no create
SELECT has_schema_privilege('harden_nobody', 'clcm', 'USAGE') AS usage,
	   has_schema_privilege('harden_nobody', 'clcm', 'CREATE') AS "create";

-- functions: none SECURITY DEFINER (expect no rows)
SELECT p.oid::regprocedure AS security_definer
  FROM ext_objects o JOIN pg_proc p ON p.oid = o.objid
 WHERE o.classid = 'pg_proc'::regclass AND p.prosecdef;
-- SQL and PL/pgSQL functions all pin their search_path (expect no rows)
SELECT p.oid::regprocedure AS unpinned_search_path
  FROM ext_objects o JOIN pg_proc p ON p.oid = o.objid
	   JOIN pg_language l ON l.oid = p.prolang
 WHERE o.classid = 'pg_proc'::regclass AND l.lanname IN ('sql', 'plpgsql')
   AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)
 ORDER BY p.oid::regprocedure::text;
-- the functions an ordinary role may not execute (administration and triggers)
SELECT p.oid::regprocedure AS not_executable_by_public
  FROM ext_objects o JOIN pg_proc p ON p.oid = o.objid
 WHERE o.classid = 'pg_proc'::regclass
   AND NOT has_function_privilege('harden_nobody', p.oid, 'EXECUTE')
 ORDER BY p.oid::regprocedure::text;

-- trying it: every write to clcm's tables is refused (42501)
SET ROLE harden_nobody;
-- ERROR 42501
INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition, threshold)
VALUES ('lifecycle', 'new', 'active', 'purchases', 1);
-- ERROR 42501
UPDATE clcm.stage_rule SET enabled = false;
-- ERROR 42501
DELETE FROM clcm.stage_rule;
-- ERROR 42501
UPDATE clcm.model SET stages = stages;
-- ERROR 42501
DELETE FROM clcm.activity_facts;
-- ERROR 42501
TRUNCATE clcm.stage_history;
-- ERROR 42501
UPDATE clcm.stage_history SET override = false;
-- ERROR 42501
SELECT setval('clcm.stage_history_id_seq', 1);
-- ERROR 42501
SELECT clcm.refresh_stages('pg_class');
-- ERROR 42501: cannot create objects in clcm
CREATE TABLE clcm.intruder (x int);
-- ERROR 42501: clcm.enforce is SUSET
SET clcm.enforce = off;
SHOW clcm.enforce;
RESET ROLE;

-- unless granted: a rules administrator
GRANT INSERT, DELETE ON clcm.stage_rule TO harden_nobody;
SET ROLE harden_nobody;
INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition, threshold)
VALUES ('lifecycle', 'new', 'active', 'purchases', 7);
DELETE FROM clcm.stage_rule WHERE threshold = 7 AND NOT shipped;
RESET ROLE;
REVOKE INSERT, DELETE ON clcm.stage_rule FROM harden_nobody;

-- bypass only for roles granted SET on the parameter (PG15)
CREATE TABLE harden_p (id int PRIMARY KEY, stage clcm.lifecycle_stage);
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON harden_p
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard();
INSERT INTO harden_p VALUES (1, 'churned');
GRANT SELECT, UPDATE ON harden_p TO harden_nobody, harden_bypass;
GRANT SET ON PARAMETER clcm.enforce TO harden_bypass;
SET ROLE harden_nobody;
-- ERROR 23514: enforced
UPDATE harden_p SET stage = 'active';
-- ERROR 42501
SET clcm.enforce = off;
RESET ROLE;
SET ROLE harden_bypass;
SET clcm.enforce = off;
UPDATE harden_p SET stage = 'active';
RESET clcm.enforce;
RESET ROLE;
SELECT from_stage, to_stage, role, override FROM clcm.stage_history
 WHERE table_name = 'harden_p'::regclass ORDER BY id;
-- the grant can be taken back
REVOKE SET ON PARAMETER clcm.enforce FROM harden_bypass;
SET ROLE harden_bypass;
-- ERROR 42501
SET clcm.enforce = off;
RESET ROLE;

DROP TABLE harden_p;
DROP ROLE harden_nobody;
DROP ROLE harden_bypass;
