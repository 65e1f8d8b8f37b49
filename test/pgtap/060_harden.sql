-- 060_harden: security markings over every function of the extension
-- (from pg_depend, so a new function is checked without editing this
-- file), privileges of an ordinary role, and who may bypass the guard.
BEGIN;
CREATE ROLE pgtap_harden_nobody;
CREATE TEMP VIEW ext_funcs AS
SELECT p.oid, p.proname,
	   ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY u(t, i)
			  ORDER BY i) AS args
  FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid
 WHERE d.classid = 'pg_proc'::regclass AND d.refclassid = 'pg_extension'::regclass
   AND d.deptype = 'e' AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'clcm');
CREATE TEMP VIEW ext_tables AS
SELECT c.relname
  FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
 WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_extension'::regclass
   AND d.deptype = 'e' AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'clcm')
   AND c.relkind IN ('r', 'v', 'p');

SELECT plan((SELECT count(*)::int FROM ext_funcs) + (SELECT count(*)::int FROM ext_tables) + 9 + 4 + 7);

-- no SECURITY DEFINER anywhere
SELECT isnt_definer('clcm', proname, args, 'not security definer: ' || oid::regprocedure)
  FROM ext_funcs ORDER BY oid::regprocedure::text;

-- an ordinary role reads the tables and changes nothing
SELECT table_privs_are('clcm', relname, 'pgtap_harden_nobody', ARRAY['SELECT'],
					   'ordinary role may only read clcm.' || relname)
  FROM ext_tables ORDER BY relname;

-- administration and trigger functions are not executable by PUBLIC
SELECT function_privs_are('clcm', f, a, 'pgtap_harden_nobody', ARRAY[]::text[],
						  'no EXECUTE for an ordinary role on clcm.' || f)
  FROM (VALUES ('define_model', ARRAY['text', 'text[]', 'text[]']),
			   ('drop_model', ARRAY['text']),
			   ('stage_guard', ARRAY[]::text[]),
			   ('track_activity', ARRAY[]::text[]),
			   ('refresh_stages', ARRAY['regclass', 'timestamp with time zone']),
			   ('model_check', ARRAY[]::text[]),
			   ('transition_check', ARRAY[]::text[]),
			   ('model_cache_invalidate', ARRAY[]::text[]),
			   ('stage_rule_check', ARRAY[]::text[])) v(f, a);

-- clcm.enforce: refused to an ordinary role once the library is loaded,
-- allowed after GRANT SET ON PARAMETER
SELECT ok(clcm.clcm_version() IS NOT NULL, 'library loaded');
SET LOCAL ROLE pgtap_harden_nobody;
SELECT throws_ok('SET clcm.enforce = off', '42501', NULL, 'ordinary role cannot set clcm.enforce');
RESET ROLE;
GRANT SET ON PARAMETER clcm.enforce TO pgtap_harden_nobody;
SET LOCAL ROLE pgtap_harden_nobody;
SELECT lives_ok('SET clcm.enforce = off', 'a role granted SET ON PARAMETER may bypass');
SELECT is(current_setting('clcm.enforce'), 'off', 'the bypass took effect');
RESET ROLE;

-- the SQLSTATEs of the hardening findings' fixes (doc/reliability.md)
SELECT is(clcm.survival_sfunc(NULL, 1, true)::text, '{1:1:0}',
		  'aggregate support function called as a plain function works (was XX000)');
SELECT throws_ok($$SELECT clcm.bgbb_fit_trans('bgnbd;penalizer=0;[1,2,3,4]'::clcm.btyd_fit_state, 2, 2, 2)$$,
				 '22023', NULL, 'fit state of another model: 22023 (was XX000)');
SELECT throws_ok($$SELECT clcm.refresh_stages(0, now())$$,
				 '42P01', NULL, 'refresh_stages on no relation: 42P01 (was XX000)');
SELECT throws_ok($$SELECT clcm.btyd_loglik('bgbb(alpha=1.2,beta=0.75,gamma=0.66,delta=2.8)'::clcm.bgbb, 2, 2, 1e9)$$,
				 '22023', NULL, 'BG/BB with an absurd n: 22023 (was a hang)');
SELECT throws_ok($$SELECT clcm.revenue_activity(now(), 1e308) FROM generate_series(1, 2)$$,
				 '22003', NULL, 'revenue sum overflow: 22003 (was Infinity)');
SELECT is(clcm.survival(1e-310, true)::text::clcm.survival_curve::text, '{1e-310:1:0}',
		  'subnormal durations print and read back');
SELECT throws_ok($$SELECT '{1:9223372036854775807:9223372036854775807}'::clcm.survival_curve$$,
				 '22P02', NULL, 'huge survival counts: 22P02');

SELECT * FROM finish();
ROLLBACK;
