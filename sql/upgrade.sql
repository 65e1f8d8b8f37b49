--
-- upgrade: install the oldest shipped version of clcm and walk every
-- update script to default_version (the path comes from
-- pg_extension_update_paths, so a new version is covered without editing
-- this file), checking data, grants and the guard after each step; then
-- compare the updated extension's objects and privileges with a fresh
-- install of default_version.  Runs in its own database.
--
SET client_min_messages = warning;
CREATE DATABASE harden_upgrade;
\c harden_upgrade
SET client_min_messages = warning;

SELECT default_version AS default_version FROM pg_available_extensions WHERE name = 'clcm' \gset
SELECT version AS oldest FROM pg_available_extension_versions WHERE name = 'clcm'
 ORDER BY string_to_array(version, '.')::int[] LIMIT 1 \gset
-- every shipped version can be reached from the oldest one
SELECT v.version, v.version = :'oldest' OR EXISTS (
		 SELECT 1 FROM pg_extension_update_paths('clcm') p
		  WHERE p.source = :'oldest' AND p.target = v.version AND p.path IS NOT NULL) AS reachable
  FROM pg_available_extension_versions v WHERE v.name = 'clcm'
 ORDER BY string_to_array(v.version, '.')::int[];

CREATE EXTENSION clcm VERSION :'oldest';
SELECT extversion = :'oldest' AS at_oldest FROM pg_extension WHERE extname = 'clcm';

-- data in the oldest version: a user model, a guarded table with history,
-- a user rule, grants
CREATE ROLE upgrade_app;
SELECT clcm.define_model('upg', ARRAY['a', 'b', 'c'], ARRAY['a->b', 'b->c']);
CREATE TABLE upg_customers (id int PRIMARY KEY, stage clcm.upg_stage);
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON upg_customers
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard();
GRANT SELECT, INSERT, UPDATE ON upg_customers TO upgrade_app;
INSERT INTO upg_customers VALUES (1, 'a'), (2, 'a');
UPDATE upg_customers SET stage = 'b' WHERE id = 1;
INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition, period)
VALUES ('upg', 'b', 'c', 'inactivity', '30 days');

CREATE TABLE upgrade_check (version text, check_name text, ok boolean);
CREATE FUNCTION upgrade_checks(v text) RETURNS void LANGUAGE sql AS $$
	INSERT INTO upgrade_check
	SELECT v, c, ok FROM (VALUES
		('version', (SELECT extversion = v FROM pg_extension WHERE extname = 'clcm')),
		('model kept', EXISTS (SELECT 1 FROM clcm.model WHERE name = 'upg'
								  AND stages = ARRAY['a', 'b', 'c'] AND NOT shipped)),
		('transitions kept', (SELECT count(*) = 2 FROM clcm.transition WHERE model = 'upg')),
		('rule kept', (SELECT count(*) = 1 FROM clcm.stage_rule WHERE model = 'upg' AND NOT shipped)),
		('history kept', (SELECT count(*) >= 3 FROM clcm.stage_history
						   WHERE table_name = 'upg_customers'::regclass)),
		('shipped models', (SELECT count(*) >= 3 FROM clcm.model WHERE shipped)),
		('history read-only for public', NOT has_table_privilege('upgrade_app', 'clcm.stage_history', 'UPDATE')
									  AND has_table_privilege('upgrade_app', 'clcm.stage_history', 'SELECT')),
		('admin functions revoked', NOT has_function_privilege('upgrade_app', 'clcm.define_model(text,text[],text[])', 'EXECUTE')),
		('no security definer', NOT EXISTS (SELECT 1 FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid
			WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'clcm')
			  AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e' AND p.prosecdef)),
		('guard works', clcm.can_transition('a'::clcm.upg_stage, 'b') AND
						NOT clcm.can_transition('a'::clcm.upg_stage, 'c'))
	) t(c, ok)
$$;
SELECT upgrade_checks(:'oldest');

-- the walk: one ALTER EXTENSION ... UPDATE per step, checks after each
SELECT s.stmt
  FROM pg_extension_update_paths('clcm') p,
	   LATERAL unnest((string_to_array(p.path, '--'))[2:]) WITH ORDINALITY AS st(v, n),
	   LATERAL (VALUES (1, format('ALTER EXTENSION clcm UPDATE TO %L', st.v)),
					   (2, format('SELECT upgrade_checks(%L)', st.v)),
					   (3, format('UPDATE upg_customers SET stage = %L WHERE id = 2',
								  CASE WHEN st.n % 2 = 1 THEN 'b' ELSE 'a' END))) s(k, stmt)
 WHERE p.source = :'oldest' AND p.target = :'default_version'
 ORDER BY st.n, s.k
\gexec
SELECT extversion = :'default_version' AS at_default FROM pg_extension WHERE extname = 'clcm';
-- every check of every step passed (expect no rows)
SELECT version, check_name FROM upgrade_check WHERE ok IS NOT TRUE ORDER BY 1, 2;
SELECT count(DISTINCT check_name) AS checks, bool_and(ok) AS all_ok FROM upgrade_check;

-- objects and privileges of the updated extension = those of a fresh install
CREATE TEMP VIEW ext_members AS
SELECT pg_describe_object(d.classid, d.objid, 0) AS object,
	   coalesce((SELECT relacl::text FROM pg_class WHERE d.classid = 'pg_class'::regclass AND oid = d.objid),
				(SELECT proacl::text FROM pg_proc WHERE d.classid = 'pg_proc'::regclass AND oid = d.objid),
				(SELECT typacl::text FROM pg_type WHERE d.classid = 'pg_type'::regclass AND oid = d.objid),
				(SELECT nspacl::text FROM pg_namespace WHERE d.classid = 'pg_namespace'::regclass AND oid = d.objid),
				'') AS acl,
	   coalesce((SELECT coalesce(array_to_string(proconfig, ';'), '') || p.provolatile::text || p.proparallel::text || p.proisstrict::text
				   FROM pg_proc p WHERE d.classid = 'pg_proc'::regclass AND p.oid = d.objid), '') AS markings
  FROM pg_depend d
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'clcm');
CREATE TEMP TABLE upg_objects AS SELECT * FROM ext_members;
DROP TABLE upg_customers;
SELECT clcm.drop_model('upg');
DROP EXTENSION clcm;
CREATE EXTENSION clcm;
CREATE TEMP TABLE fresh_objects AS SELECT * FROM ext_members;
-- differences (expect no rows)
(SELECT 'only after update' AS side, * FROM upg_objects EXCEPT SELECT 'only after update', * FROM fresh_objects)
UNION ALL
(SELECT 'only in fresh install', * FROM fresh_objects EXCEPT SELECT 'only in fresh install', * FROM upg_objects)
ORDER BY 1, 2;
SELECT count(*) > 200 AS many_objects FROM fresh_objects;

\c contrib_regression
SET client_min_messages = warning;
DROP DATABASE harden_upgrade;
DROP ROLE upgrade_app;
