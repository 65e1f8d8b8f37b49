-- 050_activity: markings, privileges and the SQLSTATE of every documented
-- error of track_activity, stage rules and refresh_stages.
BEGIN;
SELECT plan(50);

-- objects and markings
SELECT has_table('clcm', 'activity_facts', 'clcm.activity_facts exists');
SELECT has_table('clcm', 'stage_rule', 'clcm.stage_rule exists');
SELECT has_view('clcm', 'stage_rule_effective', 'clcm.stage_rule_effective exists');
SELECT volatility_is('clcm', 'track_activity', ARRAY[]::name[], 'volatile');
SELECT volatility_is('clcm', 'refresh_stages', ARRAY['regclass', 'timestamp with time zone'], 'volatile');
SELECT is_strict('clcm', 'refresh_stages', ARRAY['regclass', 'timestamp with time zone']);
SELECT isnt_definer('clcm', 'track_activity', ARRAY[]::name[]);
SELECT isnt_definer('clcm', 'refresh_stages', ARRAY['regclass', 'timestamp with time zone']);
SELECT isnt_definer('clcm', 'stage_rule_check', ARRAY[]::name[]);

-- a non-superuser application role
CREATE ROLE clcm_tap_app;
GRANT EXECUTE ON FUNCTION clcm.track_activity() TO clcm_tap_app;
GRANT EXECUTE ON FUNCTION clcm.stage_guard() TO clcm_tap_app;
GRANT EXECUTE ON FUNCTION clcm.refresh_stages(regclass, timestamptz) TO clcm_tap_app;
CREATE TABLE public.tap_customers (id int PRIMARY KEY, stage clcm.lifecycle_stage);
CREATE TABLE public.tap_orders (customer_id int, at timestamptz, amount numeric);
CREATE TABLE public.tap_plain (id int PRIMARY KEY, stage text);
ALTER TABLE public.tap_customers OWNER TO clcm_tap_app;
ALTER TABLE public.tap_orders OWNER TO clcm_tap_app;
ALTER TABLE public.tap_plain OWNER TO clcm_tap_app;
SET ROLE clcm_tap_app;
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON public.tap_customers
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'id');
CREATE TRIGGER activity AFTER INSERT ON public.tap_orders FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('public.tap_customers', 'id', 'customer_id', 'at', 'amount');
INSERT INTO public.tap_customers VALUES (1, 'prospect'), (2, 'active');
INSERT INTO public.tap_orders VALUES (1, '2024-01-01', 10);

SELECT is((SELECT purchases FROM clcm.activity_facts
            WHERE table_name = 'public.tap_customers'::regclass AND customer_key = '1'),
          1::bigint, 'the trigger writes facts for a role without write privilege on them');
SELECT is((SELECT stage::text FROM public.tap_customers WHERE id = 1), 'new',
          'the trigger moves the stage for that role');
SELECT is(current_user::text, 'clcm_tap_app', 'the user is restored after the facts write');
SELECT throws_ok($$INSERT INTO clcm.activity_facts VALUES ('public.tap_customers', '9', now(), now(), 1, 0)$$,
                 '42501', NULL, 'ordinary roles cannot write the facts');
SELECT throws_ok($$UPDATE clcm.activity_facts SET purchases = 100$$,
                 '42501', NULL, 'ordinary roles cannot change the facts');
SELECT throws_ok($$UPDATE clcm.stage_rule SET priority = 1$$,
                 '42501', NULL, 'ordinary roles cannot change the rules');
SELECT ok((SELECT count(*) FROM clcm.stage_rule_effective) > 0, 'ordinary roles read the rules');
SELECT is(clcm.refresh_stages('public.tap_customers', '2024-06-01'), 1::bigint,
          'refresh_stages runs with the caller''s privileges');
SELECT throws_ok($$SELECT clcm.refresh_stages('public.tap_plain', '2024-06-01')$$,
                 '55000', NULL, 'refresh_stages needs a stage_guard trigger');

-- trigger misconfiguration
SELECT throws_ok($$INSERT INTO public.tap_orders VALUES (99, '2024-01-01', 1)$$,
                 '23503', NULL, 'unknown customer');
SELECT throws_ok($$INSERT INTO public.tap_orders VALUES (1, NULL, 1)$$,
                 '22004', NULL, 'NULL event timestamp');
SELECT throws_ok($$INSERT INTO public.tap_orders VALUES (1, '2024-01-01', -1)$$,
                 '22023', NULL, 'negative amount');
SELECT throws_ok($$INSERT INTO public.tap_orders VALUES (1, 'infinity', 1)$$,
                 '22023', NULL, 'infinite event timestamp');
DROP TRIGGER activity ON public.tap_orders;
CREATE TRIGGER activity BEFORE INSERT ON public.tap_orders FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('public.tap_customers', 'id', 'customer_id', 'at');
SELECT throws_ok($$INSERT INTO public.tap_orders VALUES (1, '2024-01-01', 1)$$,
                 '39P01', NULL, 'BEFORE trigger');
DROP TRIGGER activity ON public.tap_orders;
CREATE TRIGGER activity AFTER INSERT ON public.tap_orders FOR EACH STATEMENT
	EXECUTE FUNCTION clcm.track_activity('public.tap_customers', 'id', 'customer_id', 'at');
SELECT throws_ok($$INSERT INTO public.tap_orders VALUES (1, '2024-01-01', 1)$$,
                 '39P01', NULL, 'statement trigger without a transition table');
DROP TRIGGER activity ON public.tap_orders;
CREATE TRIGGER activity AFTER INSERT ON public.tap_orders FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('public.tap_customers', 'id', 'customer_id');
SELECT throws_ok($$INSERT INTO public.tap_orders VALUES (1, '2024-01-01', 1)$$,
                 '39P01', NULL, 'wrong argument count');
DROP TRIGGER activity ON public.tap_orders;
CREATE TRIGGER activity AFTER INSERT ON public.tap_orders FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('public.no_such', 'id', 'customer_id', 'at');
SELECT throws_ok($$INSERT INTO public.tap_orders VALUES (1, '2024-01-01', 1)$$,
                 '42P01', NULL, 'missing customer table');
DROP TRIGGER activity ON public.tap_orders;
CREATE TRIGGER activity AFTER INSERT ON public.tap_orders FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('public.tap_customers', 'id', 'customer_id', 'no_such');
SELECT throws_ok($$INSERT INTO public.tap_orders VALUES (1, '2024-01-01', 1)$$,
                 '42703', NULL, 'missing column');
DROP TRIGGER activity ON public.tap_orders;
CREATE TRIGGER activity AFTER INSERT ON public.tap_orders FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('public.tap_plain', 'id', 'customer_id', 'at');
SELECT throws_ok($$INSERT INTO public.tap_orders VALUES (1, '2024-01-01', 1)$$,
                 '39P01', NULL, 'stage column not of a model type');
DROP TRIGGER activity ON public.tap_orders;
CREATE TRIGGER activity AFTER INSERT ON public.tap_orders FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('public.tap_customers', 'id', 'customer_id', 'at', 'at');
SELECT throws_ok($$INSERT INTO public.tap_orders VALUES (1, '2024-01-01', 1)$$,
                 '39P01', NULL, 'amount column not numeric');
DROP TRIGGER activity ON public.tap_orders;
SELECT throws_ok($$SELECT clcm.track_activity()$$, '39P01', NULL,
                 'a trigger function cannot be called directly');
RESET ROLE;

-- refresh_stages bad input
SELECT throws_ok($$SELECT clcm.refresh_stages('public.tap_customers', 'infinity')$$,
                 '22023', NULL, 'infinite as_of');
SELECT throws_ok($$SELECT clcm.refresh_stages(4294967295::oid::regclass, '2024-01-01')$$,
                 '42P01', NULL, 'refresh of a table that does not exist');

-- rule validation
SELECT throws_ok($$INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition)
                   VALUES ('lifecycle', 'nosuch', 'new', 'activity')$$,
                 '22023', NULL, 'rule naming an unknown stage');
SELECT throws_ok($$INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition)
                   VALUES ('lifecycle', 'prospect', 'loyal', 'activity')$$,
                 '23514', NULL, 'rule making a move the model forbids');
SELECT throws_ok($$INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition)
                   VALUES ('nosuch', 'a', 'b', 'activity')$$,
                 '23503', NULL, 'rule of an unknown model');
SELECT throws_ok($$INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition, period)
                   VALUES ('lifecycle', 'new', 'at_risk', 'inactivity', '-1 day')$$,
                 '22023', NULL, 'negative interval');
SELECT throws_ok($$INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition, threshold)
                   VALUES ('lifecycle', 'new', 'loyal', 'revenue', -5)$$,
                 '22023', NULL, 'negative threshold');
SELECT throws_ok($$INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition)
                   VALUES ('lifecycle', 'new', 'loyal', 'phase_of_moon')$$,
                 '22023', NULL, 'unrecognized condition');
SELECT throws_ok($$INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition)
                   VALUES ('lifecycle', 'new', 'loyal', 'purchases')$$,
                 '22023', NULL, 'purchases rule without threshold');
SELECT throws_ok($$INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition, threshold)
                   VALUES ('lifecycle', 'new', 'loyal', 'purchases', 1.5)$$,
                 '22023', NULL, 'fractional purchase count');
SELECT throws_ok($$INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition)
                   VALUES ('lifecycle', 'new', 'new', 'activity')$$,
                 '22023', NULL, 'rule to the same stage');
SELECT lives_ok($$INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition, threshold)
                  VALUES ('lifecycle', 'active', 'loyal', 'purchases', 3)$$,
                'a user rule may replace a shipped one');
SELECT is((SELECT threshold FROM clcm.stage_rule_effective
            WHERE model = 'lifecycle' AND from_stage = 'active' AND to_stage = 'loyal'
              AND condition = 'purchases'), 3::numeric,
          'the user rule is the one in force');

-- privileges of the functions
CREATE ROLE clcm_tap_nobody;
SELECT ok(NOT has_function_privilege('clcm_tap_nobody', 'clcm.track_activity()', 'EXECUTE'),
          'PUBLIC has no EXECUTE on track_activity');
SELECT ok(NOT has_function_privilege('clcm_tap_nobody', 'clcm.refresh_stages(regclass, timestamptz)', 'EXECUTE'),
          'PUBLIC has no EXECUTE on refresh_stages');
SELECT ok(has_table_privilege('clcm_tap_nobody', 'clcm.activity_facts', 'SELECT')
          AND NOT has_table_privilege('clcm_tap_nobody', 'clcm.activity_facts', 'INSERT'),
          'activity_facts: read-only for PUBLIC');
SELECT ok(has_table_privilege('clcm_tap_nobody', 'clcm.stage_rule', 'SELECT')
          AND NOT has_table_privilege('clcm_tap_nobody', 'clcm.stage_rule', 'UPDATE'),
          'stage_rule: read-only for PUBLIC');
-- refresh_stages of a table that does not exist (harden-6)
SELECT throws_ok($$SELECT clcm.refresh_stages(0::regclass, '2024-06-01')$$,
                 '42P01', NULL, 'refresh_stages of OID 0');
CREATE TABLE public.tap_gone (id int);
SELECT 'public.tap_gone'::regclass::oid AS tap_gone_oid \gset
DROP TABLE public.tap_gone;
SELECT throws_ok(format('SELECT clcm.refresh_stages(%s::oid::regclass, %L)',
                        :tap_gone_oid, '2024-06-01'),
                 '42P01', NULL, 'refresh_stages of a dropped table');
-- a key type without a btree equality operator (harden-4)
CREATE TABLE public.tap_lcust (id line, stage clcm.lifecycle_stage);
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON public.tap_lcust
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'id');
SELECT throws_ok($$SELECT clcm.refresh_stages('public.tap_lcust', '2024-06-01')$$,
                 '42883', NULL, 'refresh_stages with a key type without btree equality');

SELECT * FROM finish();
ROLLBACK;
