-- 35_survival.sql: Kaplan-Meier survival curves (clcm.survival,
-- clcm.survival_table, clcm.median_lifetime).  See doc/clcm.md
-- "Retention cohorts and survival".

CREATE TYPE @extschema@.survival_curve;

CREATE FUNCTION @extschema@.survival_curve_in(cstring) RETURNS @extschema@.survival_curve
	AS 'MODULE_PATHNAME', 'clcm_survival_curve_in'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.survival_curve_in(cstring) IS 'text input of clcm.survival_curve';
CREATE FUNCTION @extschema@.survival_curve_out(@extschema@.survival_curve) RETURNS cstring
	AS 'MODULE_PATHNAME', 'clcm_survival_curve_out'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.survival_curve_out(@extschema@.survival_curve) IS 'text output of clcm.survival_curve';
CREATE FUNCTION @extschema@.survival_curve_recv(internal) RETURNS @extschema@.survival_curve
	AS 'MODULE_PATHNAME', 'clcm_survival_curve_recv'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.survival_curve_recv(internal) IS 'binary input of clcm.survival_curve';
CREATE FUNCTION @extschema@.survival_curve_send(@extschema@.survival_curve) RETURNS bytea
	AS 'MODULE_PATHNAME', 'clcm_survival_curve_send'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.survival_curve_send(@extschema@.survival_curve) IS 'binary output of clcm.survival_curve';

CREATE TYPE @extschema@.survival_curve (
	INPUT = @extschema@.survival_curve_in,
	OUTPUT = @extschema@.survival_curve_out,
	RECEIVE = @extschema@.survival_curve_recv,
	SEND = @extschema@.survival_curve_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = extended
);
COMMENT ON TYPE @extschema@.survival_curve IS
	'Kaplan-Meier curve: events and censorings per distinct duration (clcm.survival)';

CREATE FUNCTION @extschema@.survival_sfunc(@extschema@.survival_curve, float8, boolean)
	RETURNS @extschema@.survival_curve
	AS 'MODULE_PATHNAME', 'clcm_survival_sfunc'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.survival_sfunc(@extschema@.survival_curve, float8, boolean) IS
	'transition function of clcm.survival';
CREATE FUNCTION @extschema@.survival_combine(@extschema@.survival_curve, @extschema@.survival_curve)
	RETURNS @extschema@.survival_curve
	AS 'MODULE_PATHNAME', 'clcm_survival_combine'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.survival_combine(@extschema@.survival_curve, @extschema@.survival_curve) IS
	'sum of two survival curves (combine function of clcm.survival and clcm.survival_merge)';
CREATE FUNCTION @extschema@.survival_final(@extschema@.survival_curve)
	RETURNS @extschema@.survival_curve
	AS 'MODULE_PATHNAME', 'clcm_survival_final'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.survival_final(@extschema@.survival_curve) IS
	'final function of clcm.survival and clcm.survival_merge';

CREATE AGGREGATE @extschema@.survival(duration float8, observed boolean) (
	SFUNC = @extschema@.survival_sfunc,
	STYPE = @extschema@.survival_curve,
	FINALFUNC = @extschema@.survival_final,
	FINALFUNC_MODIFY = SHAREABLE,
	COMBINEFUNC = @extschema@.survival_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.survival(float8, boolean) IS
	'Kaplan-Meier survival curve of durations (observed = true for an event, false for a censoring)';

CREATE AGGREGATE @extschema@.survival_merge(curve @extschema@.survival_curve) (
	SFUNC = @extschema@.survival_combine,
	STYPE = @extschema@.survival_curve,
	FINALFUNC = @extschema@.survival_final,
	FINALFUNC_MODIFY = SHAREABLE,
	COMBINEFUNC = @extschema@.survival_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.survival_merge(@extschema@.survival_curve) IS
	'merge survival curves of disjoint populations';

CREATE FUNCTION @extschema@.survival_table(curve @extschema@.survival_curve)
	RETURNS TABLE ("time" float8, at_risk bigint, events bigint, survival float8,
				   ci_low float8, ci_high float8)
	AS 'MODULE_PATHNAME', 'clcm_survival_table'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 100;
COMMENT ON FUNCTION @extschema@.survival_table(@extschema@.survival_curve) IS
	'Kaplan-Meier table: at risk, events, survival and Greenwood log-log 95% bounds per distinct duration';

CREATE FUNCTION @extschema@.median_lifetime(curve @extschema@.survival_curve) RETURNS float8
	AS 'MODULE_PATHNAME', 'clcm_median_lifetime'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.median_lifetime(@extschema@.survival_curve) IS
	'smallest duration at which Kaplan-Meier survival is 0.5 or less; NULL if it never gets there';
