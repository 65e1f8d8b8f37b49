--
-- harden_search_path: an untrusted role plants look-alike functions and
-- operators in schema public; a privileged session with public first in
-- its search_path then uses every clcm path that runs SQL (SQL/PL
-- functions, trigger functions, the C code's SPI queries).  None of the
-- look-alikes may be called: each raises a WARNING naming itself, so a
-- call shows up in this file's output.
--
SET client_min_messages = warning;
CREATE ROLE sp_mallory NOLOGIN;
GRANT CREATE ON SCHEMA public TO sp_mallory;

SET ROLE sp_mallory;
-- one trap per look-alike: reports itself, then behaves like the original
CREATE FUNCTION public.sp_trap(what text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	RAISE WARNING 'look-alike %() called', what;
END
$$;
CREATE FUNCTION public.sp_eq_text(a text, b text) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.sp_trap('=(text,text)'); RETURN a OPERATOR(pg_catalog.=) b; END $$;
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.sp_eq_text);
CREATE FUNCTION public.sp_ne_text(a text, b text) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.sp_trap('<>(text,text)'); RETURN a OPERATOR(pg_catalog.<>) b; END $$;
CREATE OPERATOR public.<> (LEFTARG = text, RIGHTARG = text, FUNCTION = public.sp_ne_text);
CREATE FUNCTION public.sp_eq_int8(a bigint, b bigint) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.sp_trap('=(bigint,bigint)'); RETURN a OPERATOR(pg_catalog.=) b; END $$;
CREATE OPERATOR public.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = public.sp_eq_int8);
-- exact-type matches win over pg_catalog's coercing ones whatever the path order
CREATE FUNCTION public.sp_eq_regtype(a regtype, b regtype) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.sp_trap('=(regtype,regtype)'); RETURN a::oid OPERATOR(pg_catalog.=) b::oid; END $$;
CREATE OPERATOR public.= (LEFTARG = regtype, RIGHTARG = regtype, FUNCTION = public.sp_eq_regtype);
CREATE FUNCTION public.sp_eq_regclass(a regclass, b regclass) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.sp_trap('=(regclass,regclass)'); RETURN a::oid OPERATOR(pg_catalog.=) b::oid; END $$;
CREATE OPERATOR public.= (LEFTARG = regclass, RIGHTARG = regclass, FUNCTION = public.sp_eq_regclass);
CREATE FUNCTION public.sp_eq_stage(a clcm.lifecycle_stage, b clcm.lifecycle_stage) RETURNS boolean
LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.sp_trap('=(lifecycle_stage,lifecycle_stage)'); RETURN a::text OPERATOR(pg_catalog.=) b::text; END $$;
CREATE OPERATOR public.= (LEFTARG = clcm.lifecycle_stage, RIGHTARG = clcm.lifecycle_stage,
						  FUNCTION = public.sp_eq_stage);
CREATE FUNCTION public.sp_lt_ts(a timestamptz, b timestamptz) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.sp_trap('<(timestamptz,timestamptz)'); RETURN a OPERATOR(pg_catalog.<) b; END $$;
CREATE OPERATOR public.< (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = public.sp_lt_ts);
CREATE FUNCTION public.sp_le_ts(a timestamptz, b timestamptz) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.sp_trap('<=(timestamptz,timestamptz)'); RETURN a OPERATOR(pg_catalog.<=) b; END $$;
CREATE OPERATOR public.<= (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = public.sp_le_ts);
CREATE FUNCTION public.sp_plus_ts(a timestamptz, b interval) RETURNS timestamptz LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.sp_trap('+(timestamptz,interval)'); RETURN a OPERATOR(pg_catalog.+) b; END $$;
CREATE OPERATOR public.+ (LEFTARG = timestamptz, RIGHTARG = interval, FUNCTION = public.sp_plus_ts);
CREATE FUNCTION public.sp_plus_num(a numeric, b numeric) RETURNS numeric LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.sp_trap('+(numeric,numeric)'); RETURN a OPERATOR(pg_catalog.+) b; END $$;
CREATE OPERATOR public.+ (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = public.sp_plus_num);
CREATE FUNCTION public.lower(t text) RETURNS text LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.sp_trap('lower'); RETURN pg_catalog.lower(t); END $$;
CREATE FUNCTION public.btrim(t text) RETURNS text LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.sp_trap('btrim'); RETURN pg_catalog.btrim(t); END $$;
CREATE FUNCTION public.cardinality(a anyarray) RETURNS int LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.sp_trap('cardinality'); RETURN pg_catalog.cardinality(a); END $$;
CREATE FUNCTION public.array_position(a anyarray, e anyelement) RETURNS int LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.sp_trap('array_position'); RETURN pg_catalog.array_position(a, e); END $$;
CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.sp_trap('now'); RETURN pg_catalog.now(); END $$;
CREATE FUNCTION public.isfinite(t timestamptz) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.sp_trap('isfinite'); RETURN pg_catalog.isfinite(t); END $$;
CREATE FUNCTION public.format_type(o oid, m integer) RETURNS text LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.sp_trap('format_type'); RETURN pg_catalog.format_type(o, m); END $$;
CREATE FUNCTION public.enum_range(e anyenum) RETURNS anyarray LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.sp_trap('enum_range'); RETURN pg_catalog.enum_range(e); END $$;
RESET ROLE;

-- the victim: a superuser session with public first
SET search_path = public, pg_catalog;

-- positive control: the traps work (exactly one warning each)
SELECT 'a'::text = 'a'::text AS control_eq;
SELECT lower('A') AS control_lower;
SELECT 'new'::clcm.lifecycle_stage = 'new'::clcm.lifecycle_stage AS control_stage_eq;

-- models: define_model, the model/transition check triggers, the cache
SELECT clcm.define_model('sp_model', ARRAY['a', 'b', 'c'], ARRAY['a->b', 'b -> c', '*->a']);
SELECT clcm.can_transition('a'::clcm.sp_model_stage, 'b');
SELECT clcm.next_stages('b'::clcm.sp_model_stage);
UPDATE clcm.model SET stages = stages WHERE name OPERATOR(pg_catalog.=) 'sp_model';
INSERT INTO clcm.transition (model, from_stage, to_stage) VALUES ('sp_model', 'c', 'b');
SELECT clcm.can_transition('c'::clcm.sp_model_stage, 'b');

-- the stage guard and history
CREATE TABLE public.sp_customers (id bigint PRIMARY KEY, stage clcm.lifecycle_stage,
								  since timestamptz);
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON public.sp_customers
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'id', 'since');
INSERT INTO public.sp_customers (id, stage) VALUES (1, 'prospect'), (2, 'new'), (3, NULL);
UPDATE public.sp_customers SET stage = 'new' WHERE id = 1;
-- a refused move (23514)
UPDATE public.sp_customers SET stage = 'churned' WHERE id = 1;
UPDATE public.sp_customers SET stage = 'active' WHERE id = 1;
UPDATE public.sp_customers SET stage = 'won_back' WHERE id = 1;

-- activity triggers (row and statement level), rules, refresh
CREATE TABLE public.sp_orders (customer_id bigint, ordered_at timestamptz, amount numeric);
CREATE TRIGGER activity AFTER INSERT ON public.sp_orders
	FOR EACH ROW EXECUTE FUNCTION clcm.track_activity('public.sp_customers', 'id',
		'customer_id', 'ordered_at', 'amount');
INSERT INTO clcm.stage_rule (model, from_stage, to_stage, condition, threshold, priority)
VALUES ('lifecycle', 'new', 'active', 'purchases', 2, 1);
INSERT INTO public.sp_orders VALUES (2, '2024-01-01 10:00+00', 10), (2, '2024-01-05 10:00+00', 5);
DROP TRIGGER activity ON public.sp_orders;
CREATE TRIGGER activity AFTER INSERT ON public.sp_orders
	REFERENCING NEW TABLE AS new_orders FOR EACH STATEMENT
	EXECUTE FUNCTION clcm.track_activity('public.sp_customers', 'id',
		'customer_id', 'ordered_at', 'amount');
INSERT INTO public.sp_orders VALUES (1, '2024-01-02 10:00+00', 3), (2, '2024-02-01 10:00+00', 7);
SELECT clcm.refresh_stages('public.sp_customers', '2025-06-01 00:00+00');
SELECT id, stage FROM public.sp_customers ORDER BY id;
SELECT customer_key, from_stage, to_stage, override FROM clcm.stage_history
 WHERE table_name OPERATOR(pg_catalog.=) 'public.sp_customers'::regclass ORDER BY id;

-- analytics (SQL and PL/pgSQL functions over the history)
SELECT count(*) > 0 AS funnel_rows FROM clcm.funnel('lifecycle');
SELECT count(*) > 0 AS dwell_rows FROM clcm.stage_dwell('lifecycle');
SELECT count(*) > 0 AS matrix_rows FROM clcm.history_matrix('lifecycle');
SELECT clcm.model_stages_checked('lifecycle') IS NOT NULL AS stages_ok;
SELECT clcm.transition_matrix(a, b) IS NOT NULL AS markov_ok
  FROM (VALUES ('new'::clcm.lifecycle_stage, 'active'::clcm.lifecycle_stage)) v(a, b);
SELECT (clcm.retention_options(tz => 'Europe/Berlin', week_start => 'sunday')).tz;
SELECT count(*) > 0 AS retention_rows FROM clcm.retention_table(
  (SELECT clcm.retention(customer_id, ordered_at, 'month') FROM public.sp_orders));

-- cleanup (drop_model goes through the same checks)
DROP TABLE public.sp_orders, public.sp_customers;
DELETE FROM clcm.stage_rule WHERE NOT shipped AND model OPERATOR(pg_catalog.=) 'lifecycle'
   AND condition OPERATOR(pg_catalog.=) 'purchases';
SELECT clcm.drop_model('sp_model');
RESET search_path;
DROP OWNED BY sp_mallory;
DROP ROLE sp_mallory;
