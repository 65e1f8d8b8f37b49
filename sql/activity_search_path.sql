-- activity_search_path: track_activity (row and statement level) and
-- refresh_stages run their SQL under search_path = pg_catalog, pg_temp with
-- schema-qualified operators, so look-alike operators and types that an
-- untrusted role plants in schema public are never called, whatever the
-- search_path of the session that inserts events (harden-4).
\set SHOW_CONTEXT never
SET timezone = 'UTC';
SET client_min_messages = warning;
CREATE ROLE regress_asp_mallory NOLOGIN;
GRANT CREATE ON SCHEMA public TO regress_asp_mallory;

-- the victim's tables, created with pg_catalog types before any trap exists
CREATE TABLE public.asp_customers (id bigint PRIMARY KEY,
	stage clcm.lifecycle_stage);
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON public.asp_customers
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'id');
CREATE TABLE public.asp_orders_row (cust bigint, at pg_catalog.timestamptz,
	amount pg_catalog.numeric);
CREATE TRIGGER activity AFTER INSERT ON public.asp_orders_row FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('public.asp_customers', 'id', 'cust', 'at', 'amount');
CREATE TABLE public.asp_orders_stmt (cust bigint, at pg_catalog.timestamptz,
	amount pg_catalog.numeric);
CREATE TRIGGER activity AFTER INSERT ON public.asp_orders_stmt
	REFERENCING NEW TABLE AS new_orders FOR EACH STATEMENT
	EXECUTE FUNCTION clcm.track_activity('public.asp_customers', 'id', 'cust', 'at', 'amount');
INSERT INTO public.asp_customers SELECT i, 'prospect' FROM generate_series(1, 4) i;

SET ROLE regress_asp_mallory;
-- every call of a look-alike is recorded here (and raises a WARNING)
CREATE TABLE public.asp_calls (what text);
GRANT INSERT, SELECT ON public.asp_calls TO PUBLIC;
CREATE FUNCTION public.asp_trap(what text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO public.asp_calls VALUES (what);
	RAISE WARNING 'look-alike % called', what;
	RETURN true;
END
$$;
CREATE FUNCTION public.asp_eq_int8(a bigint, b bigint) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.asp_trap('=(bigint,bigint)'); RETURN a OPERATOR(pg_catalog.=) b; END $$;
CREATE OPERATOR public.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = public.asp_eq_int8);
CREATE FUNCTION public.asp_eq_stage(a clcm.lifecycle_stage, b clcm.lifecycle_stage)
RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.asp_trap('=(lifecycle_stage,lifecycle_stage)');
   RETURN a::text OPERATOR(pg_catalog.=) b::text; END $$;
CREATE OPERATOR public.= (LEFTARG = clcm.lifecycle_stage, RIGHTARG = clcm.lifecycle_stage,
	FUNCTION = public.asp_eq_stage);
CREATE FUNCTION public.asp_eq_text(a text, b text) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.asp_trap('=(text,text)'); RETURN a OPERATOR(pg_catalog.=) b; END $$;
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.asp_eq_text);
CREATE FUNCTION public.asp_eq_regclass(a regclass, b regclass) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.asp_trap('=(regclass,regclass)');
   RETURN a::oid OPERATOR(pg_catalog.=) b::oid; END $$;
CREATE OPERATOR public.= (LEFTARG = regclass, RIGHTARG = regclass, FUNCTION = public.asp_eq_regclass);
CREATE FUNCTION public.asp_plus_num(a numeric, b numeric) RETURNS numeric LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.asp_trap('+(numeric,numeric)'); RETURN a OPERATOR(pg_catalog.+) b; END $$;
CREATE OPERATOR public.+ (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = public.asp_plus_num);
CREATE FUNCTION public.asp_le_ts(a timestamptz, b timestamptz) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.asp_trap('<=(timestamptz,timestamptz)');
   RETURN a OPERATOR(pg_catalog.<=) b; END $$;
CREATE OPERATOR public.<= (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = public.asp_le_ts);
CREATE FUNCTION public.isfinite(t timestamptz) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.asp_trap('isfinite'); RETURN pg_catalog.isfinite(t); END $$;
-- look-alike type names: a domain whose check calls the trap
CREATE DOMAIN public.numeric AS pg_catalog.numeric CHECK (public.asp_trap('numeric'));
CREATE DOMAIN public.timestamptz AS pg_catalog.timestamptz CHECK (public.asp_trap('timestamptz'));
RESET ROLE;

-- the victim: public first in its search_path
SET search_path = public, pg_catalog;
-- positive control: the traps work (two calls recorded, then forgotten)
SELECT 1::bigint = 1::bigint AS control_eq,
       'new'::clcm.lifecycle_stage = 'new'::clcm.lifecycle_stage AS control_stage_eq;
SELECT what FROM public.asp_calls ORDER BY what;
DELETE FROM public.asp_calls;

-- row level: customer 1 orders twice (prospect -> new -> active), customer 2 once
INSERT INTO public.asp_orders_row VALUES
	(1, '2024-01-01 10:00+00', 10), (1, '2024-01-05 10:00+00', 5),
	(2, '2024-01-02 10:00+00', 7);
-- statement level: customer 3 twice, customer 4 once, customer 2 again
INSERT INTO public.asp_orders_stmt VALUES
	(3, '2024-01-03 10:00+00', 1), (3, '2024-01-04 10:00+00', 2),
	(4, '2024-01-06 10:00+00', 3), (2, '2024-01-07 10:00+00', 4);
-- refresh much later: everybody was quiet for more than 180 days
SELECT clcm.refresh_stages('public.asp_customers', '2025-06-01 00:00+00') AS moved;
-- idempotent
SELECT clcm.refresh_stages('public.asp_customers', '2025-06-01 00:00+00') AS moved_again;
SHOW search_path;
RESET search_path;

-- the look-alikes ran 0 times
SELECT count(*) AS look_alike_calls FROM public.asp_calls;
-- remove them (the checks below use plain operators)
DROP OWNED BY regress_asp_mallory;
DROP ROLE regress_asp_mallory;
-- and the work was done
SELECT id, stage FROM public.asp_customers ORDER BY id;
SELECT customer_key, purchases, revenue, first_at, last_at
  FROM clcm.activity_facts WHERE table_name = 'public.asp_customers'::regclass
 ORDER BY customer_key;
SELECT customer_key, from_stage, to_stage, reason FROM clcm.stage_history
 WHERE table_name = 'public.asp_customers'::regclass ORDER BY id;

-- a key type whose equality operator lives in another schema (point has no
-- built-in btree operator class): found through its default btree operator
-- class, so it works under the pinned search_path
CREATE SCHEMA asp_k;
CREATE FUNCTION asp_k.cmp(a point, b point) RETURNS int LANGUAGE sql IMMUTABLE STRICT
	RETURN CASE WHEN a[0] OPERATOR(pg_catalog.<) b[0] THEN -1
				WHEN a[0] OPERATOR(pg_catalog.>) b[0] THEN 1
				WHEN a[1] OPERATOR(pg_catalog.<) b[1] THEN -1
				WHEN a[1] OPERATOR(pg_catalog.>) b[1] THEN 1 ELSE 0 END;
CREATE FUNCTION asp_k.lt(a point, b point) RETURNS boolean LANGUAGE sql IMMUTABLE STRICT
	RETURN asp_k.cmp(a, b) OPERATOR(pg_catalog.<) 0;
CREATE FUNCTION asp_k.le(a point, b point) RETURNS boolean LANGUAGE sql IMMUTABLE STRICT
	RETURN asp_k.cmp(a, b) OPERATOR(pg_catalog.<=) 0;
CREATE FUNCTION asp_k.eq(a point, b point) RETURNS boolean LANGUAGE sql IMMUTABLE STRICT
	RETURN asp_k.cmp(a, b) OPERATOR(pg_catalog.=) 0;
CREATE FUNCTION asp_k.ge(a point, b point) RETURNS boolean LANGUAGE sql IMMUTABLE STRICT
	RETURN asp_k.cmp(a, b) OPERATOR(pg_catalog.>=) 0;
CREATE FUNCTION asp_k.gt(a point, b point) RETURNS boolean LANGUAGE sql IMMUTABLE STRICT
	RETURN asp_k.cmp(a, b) OPERATOR(pg_catalog.>) 0;
CREATE OPERATOR asp_k.< (LEFTARG = point, RIGHTARG = point, FUNCTION = asp_k.lt);
CREATE OPERATOR asp_k.<= (LEFTARG = point, RIGHTARG = point, FUNCTION = asp_k.le);
CREATE OPERATOR asp_k.= (LEFTARG = point, RIGHTARG = point, FUNCTION = asp_k.eq);
CREATE OPERATOR asp_k.>= (LEFTARG = point, RIGHTARG = point, FUNCTION = asp_k.ge);
CREATE OPERATOR asp_k.> (LEFTARG = point, RIGHTARG = point, FUNCTION = asp_k.gt);
CREATE OPERATOR CLASS asp_k.point_ops DEFAULT FOR TYPE point USING btree AS
	OPERATOR 1 asp_k.<, OPERATOR 2 asp_k.<=, OPERATOR 3 asp_k.=,
	OPERATOR 4 asp_k.>=, OPERATOR 5 asp_k.>, FUNCTION 1 asp_k.cmp(point, point);
CREATE TABLE asp_pcust (id point, stage clcm.lifecycle_stage);
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON asp_pcust
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'id');
CREATE TABLE asp_porders_row (cust point, at timestamptz);
CREATE TRIGGER activity AFTER INSERT ON asp_porders_row FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('asp_pcust', 'id', 'cust', 'at');
CREATE TABLE asp_porders_stmt (cust point, at timestamptz);
CREATE TRIGGER activity AFTER INSERT ON asp_porders_stmt
	REFERENCING NEW TABLE AS n FOR EACH STATEMENT
	EXECUTE FUNCTION clcm.track_activity('asp_pcust', 'id', 'cust', 'at');
INSERT INTO asp_pcust VALUES ('(1,1)', 'prospect'), ('(1,2)', 'prospect'), ('(2,1)', 'prospect');
INSERT INTO asp_porders_row VALUES ('(1,1)', '2024-01-01'), ('(1,1)', '2024-01-02');
INSERT INTO asp_porders_stmt VALUES ('(1,2)', '2024-01-01'), ('(1,2)', '2024-01-02'),
	('(2,1)', '2024-01-03');
SELECT id, stage FROM asp_pcust ORDER BY id[0], id[1];
SELECT clcm.refresh_stages('asp_pcust', '2024-05-01') AS moved;
SELECT id, stage FROM asp_pcust ORDER BY id[0], id[1];
-- an unknown customer of that key type (23503)
INSERT INTO asp_porders_stmt VALUES ('(9,9)', '2024-01-01');
INSERT INTO asp_porders_row VALUES ('(9,9)', '2024-01-01');
-- a key type without a default btree operator class (42883)
CREATE TABLE asp_lcust (id line, stage clcm.lifecycle_stage);
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON asp_lcust
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'id');
SELECT clcm.refresh_stages('asp_lcust', '2024-05-01');

-- cleanup
DELETE FROM clcm.activity_facts
 WHERE table_name IN ('public.asp_customers'::regclass, 'asp_pcust'::regclass);
DROP TABLE public.asp_orders_row, public.asp_orders_stmt, public.asp_customers,
	asp_porders_row, asp_porders_stmt, asp_pcust, asp_lcust;
DROP SCHEMA asp_k CASCADE;
RESET client_min_messages;
