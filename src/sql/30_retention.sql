-- 30_retention.sql: retention cohorts (clcm.retention, the two-level form
-- clcm.retention_activity -> clcm.retention, clcm.retention_merge and
-- clcm.retention_table).  See doc/clcm.md "Retention cohorts and survival".

-- options of the retention aggregates, passed as one extra argument
CREATE TYPE @extschema@.retention_options AS (
	tz text,
	week_start text,
	as_of timestamptz,
	recurring boolean
);
COMMENT ON TYPE @extschema@.retention_options IS
	'options of the clcm retention aggregates (make with clcm.retention_options())';

CREATE FUNCTION @extschema@.retention_options(
	tz text DEFAULT 'UTC',
	week_start text DEFAULT 'monday',
	as_of timestamptz DEFAULT NULL,
	recurring boolean DEFAULT false)
	RETURNS @extschema@.retention_options
	AS 'MODULE_PATHNAME', 'clcm_retention_options_make'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_options(text, text, timestamptz, boolean) IS
	'validated options for the retention aggregates: time zone of period boundaries, week start, as_of cut-off, recurring cohorts';

-- clcm.retention_matrix: cohorts x periods counts
CREATE TYPE @extschema@.retention_matrix;

CREATE FUNCTION @extschema@.retention_matrix_in(cstring) RETURNS @extschema@.retention_matrix
	AS 'MODULE_PATHNAME', 'clcm_retention_matrix_in'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_matrix_in(cstring) IS 'text input of clcm.retention_matrix';
CREATE FUNCTION @extschema@.retention_matrix_out(@extschema@.retention_matrix) RETURNS cstring
	AS 'MODULE_PATHNAME', 'clcm_retention_matrix_out'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_matrix_out(@extschema@.retention_matrix) IS 'text output of clcm.retention_matrix';
CREATE FUNCTION @extschema@.retention_matrix_recv(internal) RETURNS @extschema@.retention_matrix
	AS 'MODULE_PATHNAME', 'clcm_retention_matrix_recv'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_matrix_recv(internal) IS 'binary input of clcm.retention_matrix';
CREATE FUNCTION @extschema@.retention_matrix_send(@extschema@.retention_matrix) RETURNS bytea
	AS 'MODULE_PATHNAME', 'clcm_retention_matrix_send'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_matrix_send(@extschema@.retention_matrix) IS 'binary output of clcm.retention_matrix';

CREATE TYPE @extschema@.retention_matrix (
	INPUT = @extschema@.retention_matrix_in,
	OUTPUT = @extschema@.retention_matrix_out,
	RECEIVE = @extschema@.retention_matrix_recv,
	SEND = @extschema@.retention_matrix_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = extended
);
COMMENT ON TYPE @extschema@.retention_matrix IS
	'retention cohorts: customers per cohort and active customers per later period (clcm.retention)';

-- clcm.retention_activity: one customer's active periods (two-level form)
CREATE TYPE @extschema@.retention_activity;

CREATE FUNCTION @extschema@.retention_activity_in(cstring) RETURNS @extschema@.retention_activity
	AS 'MODULE_PATHNAME', 'clcm_retention_activity_in'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_activity_in(cstring) IS 'text input of clcm.retention_activity';
CREATE FUNCTION @extschema@.retention_activity_out(@extschema@.retention_activity) RETURNS cstring
	AS 'MODULE_PATHNAME', 'clcm_retention_activity_out'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_activity_out(@extschema@.retention_activity) IS 'text output of clcm.retention_activity';
CREATE FUNCTION @extschema@.retention_activity_recv(internal) RETURNS @extschema@.retention_activity
	AS 'MODULE_PATHNAME', 'clcm_retention_activity_recv'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_activity_recv(internal) IS 'binary input of clcm.retention_activity';
CREATE FUNCTION @extschema@.retention_activity_send(@extschema@.retention_activity) RETURNS bytea
	AS 'MODULE_PATHNAME', 'clcm_retention_activity_send'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_activity_send(@extschema@.retention_activity) IS 'binary output of clcm.retention_activity';

CREATE TYPE @extschema@.retention_activity (
	INPUT = @extschema@.retention_activity_in,
	OUTPUT = @extschema@.retention_activity_out,
	RECEIVE = @extschema@.retention_activity_recv,
	SEND = @extschema@.retention_activity_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = extended
);
COMMENT ON TYPE @extschema@.retention_activity IS
	'one customer''s active periods (and revenue per period), input of the two-level clcm.retention';

-- support functions shared by the internal-state aggregates
CREATE FUNCTION @extschema@.retention_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'clcm_retention_combine'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_combine(internal, internal) IS 'combine function of the retention aggregates';
CREATE FUNCTION @extschema@.retention_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME', 'clcm_retention_serialize'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_serialize(internal) IS 'serial function of the retention aggregates';
CREATE FUNCTION @extschema@.retention_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'clcm_retention_deserialize'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_deserialize(bytea, internal) IS 'deserial function of the retention aggregates';
CREATE FUNCTION @extschema@.retention_final(internal) RETURNS @extschema@.retention_matrix
	AS 'MODULE_PATHNAME', 'clcm_retention_final'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_final(internal) IS 'final function of clcm.retention and clcm.revenue_retention';
CREATE FUNCTION @extschema@.retention_activity_final(internal) RETURNS @extschema@.retention_activity
	AS 'MODULE_PATHNAME', 'clcm_retention_activity_final'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_activity_final(internal) IS 'final function of clcm.retention_activity and clcm.revenue_activity';


-- one-call aggregates: clcm.retention(customer_id, ts [, period [, options]])

CREATE FUNCTION @extschema@.retention_sfunc(internal, bigint, timestamptz) RETURNS internal
	AS 'MODULE_PATHNAME', 'clcm_retention_sfunc'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_sfunc(internal, bigint, timestamptz) IS 'transition function of clcm.retention';
CREATE AGGREGATE @extschema@.retention(customer_id bigint, ts timestamptz) (
	SFUNC = @extschema@.retention_sfunc,
	STYPE = internal,
	SSPACE = 1048576,
	FINALFUNC = @extschema@.retention_final,
	COMBINEFUNC = @extschema@.retention_combine,
	SERIALFUNC = @extschema@.retention_serialize,
	DESERIALFUNC = @extschema@.retention_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.retention(bigint, timestamptz) IS 'retention cohorts by calendar month (UTC) of first activity';

CREATE FUNCTION @extschema@.retention_sfunc(internal, bigint, timestamptz, text) RETURNS internal
	AS 'MODULE_PATHNAME', 'clcm_retention_sfunc'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_sfunc(internal, bigint, timestamptz, text) IS 'transition function of clcm.retention';
CREATE AGGREGATE @extschema@.retention(customer_id bigint, ts timestamptz, period text) (
	SFUNC = @extschema@.retention_sfunc,
	STYPE = internal,
	SSPACE = 1048576,
	FINALFUNC = @extschema@.retention_final,
	COMBINEFUNC = @extschema@.retention_combine,
	SERIALFUNC = @extschema@.retention_serialize,
	DESERIALFUNC = @extschema@.retention_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.retention(bigint, timestamptz, text) IS 'retention cohorts by period (day, week, month, quarter, year; UTC) of first activity';

CREATE FUNCTION @extschema@.retention_sfunc(internal, bigint, timestamptz, text, @extschema@.retention_options) RETURNS internal
	AS 'MODULE_PATHNAME', 'clcm_retention_sfunc'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_sfunc(internal, bigint, timestamptz, text, @extschema@.retention_options) IS 'transition function of clcm.retention';
CREATE AGGREGATE @extschema@.retention(customer_id bigint, ts timestamptz, period text, options @extschema@.retention_options) (
	SFUNC = @extschema@.retention_sfunc,
	STYPE = internal,
	SSPACE = 1048576,
	FINALFUNC = @extschema@.retention_final,
	COMBINEFUNC = @extschema@.retention_combine,
	SERIALFUNC = @extschema@.retention_serialize,
	DESERIALFUNC = @extschema@.retention_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.retention(bigint, timestamptz, text, @extschema@.retention_options) IS 'retention cohorts by period with options (time zone, week start, as_of, recurring)';

CREATE FUNCTION @extschema@.retention_sfunc(internal, text, timestamptz) RETURNS internal
	AS 'MODULE_PATHNAME', 'clcm_retention_sfunc'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_sfunc(internal, text, timestamptz) IS 'transition function of clcm.retention';
CREATE AGGREGATE @extschema@.retention(customer_id text, ts timestamptz) (
	SFUNC = @extschema@.retention_sfunc,
	STYPE = internal,
	SSPACE = 1048576,
	FINALFUNC = @extschema@.retention_final,
	COMBINEFUNC = @extschema@.retention_combine,
	SERIALFUNC = @extschema@.retention_serialize,
	DESERIALFUNC = @extschema@.retention_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.retention(text, timestamptz) IS 'retention cohorts by calendar month (UTC) of first activity';

CREATE FUNCTION @extschema@.retention_sfunc(internal, text, timestamptz, text) RETURNS internal
	AS 'MODULE_PATHNAME', 'clcm_retention_sfunc'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_sfunc(internal, text, timestamptz, text) IS 'transition function of clcm.retention';
CREATE AGGREGATE @extschema@.retention(customer_id text, ts timestamptz, period text) (
	SFUNC = @extschema@.retention_sfunc,
	STYPE = internal,
	SSPACE = 1048576,
	FINALFUNC = @extschema@.retention_final,
	COMBINEFUNC = @extschema@.retention_combine,
	SERIALFUNC = @extschema@.retention_serialize,
	DESERIALFUNC = @extschema@.retention_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.retention(text, timestamptz, text) IS 'retention cohorts by period (day, week, month, quarter, year; UTC) of first activity';

CREATE FUNCTION @extschema@.retention_sfunc(internal, text, timestamptz, text, @extschema@.retention_options) RETURNS internal
	AS 'MODULE_PATHNAME', 'clcm_retention_sfunc'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_sfunc(internal, text, timestamptz, text, @extschema@.retention_options) IS 'transition function of clcm.retention';
CREATE AGGREGATE @extschema@.retention(customer_id text, ts timestamptz, period text, options @extschema@.retention_options) (
	SFUNC = @extschema@.retention_sfunc,
	STYPE = internal,
	SSPACE = 1048576,
	FINALFUNC = @extschema@.retention_final,
	COMBINEFUNC = @extschema@.retention_combine,
	SERIALFUNC = @extschema@.retention_serialize,
	DESERIALFUNC = @extschema@.retention_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.retention(text, timestamptz, text, @extschema@.retention_options) IS 'retention cohorts by period with options (time zone, week start, as_of, recurring)';

CREATE FUNCTION @extschema@.retention_sfunc(internal, uuid, timestamptz) RETURNS internal
	AS 'MODULE_PATHNAME', 'clcm_retention_sfunc'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_sfunc(internal, uuid, timestamptz) IS 'transition function of clcm.retention';
CREATE AGGREGATE @extschema@.retention(customer_id uuid, ts timestamptz) (
	SFUNC = @extschema@.retention_sfunc,
	STYPE = internal,
	SSPACE = 1048576,
	FINALFUNC = @extschema@.retention_final,
	COMBINEFUNC = @extschema@.retention_combine,
	SERIALFUNC = @extschema@.retention_serialize,
	DESERIALFUNC = @extschema@.retention_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.retention(uuid, timestamptz) IS 'retention cohorts by calendar month (UTC) of first activity';

CREATE FUNCTION @extschema@.retention_sfunc(internal, uuid, timestamptz, text) RETURNS internal
	AS 'MODULE_PATHNAME', 'clcm_retention_sfunc'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_sfunc(internal, uuid, timestamptz, text) IS 'transition function of clcm.retention';
CREATE AGGREGATE @extschema@.retention(customer_id uuid, ts timestamptz, period text) (
	SFUNC = @extschema@.retention_sfunc,
	STYPE = internal,
	SSPACE = 1048576,
	FINALFUNC = @extschema@.retention_final,
	COMBINEFUNC = @extschema@.retention_combine,
	SERIALFUNC = @extschema@.retention_serialize,
	DESERIALFUNC = @extschema@.retention_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.retention(uuid, timestamptz, text) IS 'retention cohorts by period (day, week, month, quarter, year; UTC) of first activity';

CREATE FUNCTION @extschema@.retention_sfunc(internal, uuid, timestamptz, text, @extschema@.retention_options) RETURNS internal
	AS 'MODULE_PATHNAME', 'clcm_retention_sfunc'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_sfunc(internal, uuid, timestamptz, text, @extschema@.retention_options) IS 'transition function of clcm.retention';
CREATE AGGREGATE @extschema@.retention(customer_id uuid, ts timestamptz, period text, options @extschema@.retention_options) (
	SFUNC = @extschema@.retention_sfunc,
	STYPE = internal,
	SSPACE = 1048576,
	FINALFUNC = @extschema@.retention_final,
	COMBINEFUNC = @extschema@.retention_combine,
	SERIALFUNC = @extschema@.retention_serialize,
	DESERIALFUNC = @extschema@.retention_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.retention(uuid, timestamptz, text, @extschema@.retention_options) IS 'retention cohorts by period with options (time zone, week start, as_of, recurring)';

-- revenue retention: clcm.revenue_retention(customer_id, ts, amount [, period [, options]])

CREATE FUNCTION @extschema@.revenue_retention_sfunc(internal, bigint, timestamptz, float8) RETURNS internal
	AS 'MODULE_PATHNAME', 'clcm_retention_revenue_sfunc'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.revenue_retention_sfunc(internal, bigint, timestamptz, float8) IS 'transition function of clcm.revenue_retention';
CREATE AGGREGATE @extschema@.revenue_retention(customer_id bigint, ts timestamptz, amount float8) (
	SFUNC = @extschema@.revenue_retention_sfunc,
	STYPE = internal,
	SSPACE = 1048576,
	FINALFUNC = @extschema@.retention_final,
	COMBINEFUNC = @extschema@.retention_combine,
	SERIALFUNC = @extschema@.retention_serialize,
	DESERIALFUNC = @extschema@.retention_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.revenue_retention(bigint, timestamptz, float8) IS 'revenue retention cohorts by calendar month (UTC)';

CREATE FUNCTION @extschema@.revenue_retention_sfunc(internal, bigint, timestamptz, float8, text) RETURNS internal
	AS 'MODULE_PATHNAME', 'clcm_retention_revenue_sfunc'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.revenue_retention_sfunc(internal, bigint, timestamptz, float8, text) IS 'transition function of clcm.revenue_retention';
CREATE AGGREGATE @extschema@.revenue_retention(customer_id bigint, ts timestamptz, amount float8, period text) (
	SFUNC = @extschema@.revenue_retention_sfunc,
	STYPE = internal,
	SSPACE = 1048576,
	FINALFUNC = @extschema@.retention_final,
	COMBINEFUNC = @extschema@.retention_combine,
	SERIALFUNC = @extschema@.retention_serialize,
	DESERIALFUNC = @extschema@.retention_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.revenue_retention(bigint, timestamptz, float8, text) IS 'revenue retention cohorts by period (UTC)';

CREATE FUNCTION @extschema@.revenue_retention_sfunc(internal, bigint, timestamptz, float8, text, @extschema@.retention_options) RETURNS internal
	AS 'MODULE_PATHNAME', 'clcm_retention_revenue_sfunc'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.revenue_retention_sfunc(internal, bigint, timestamptz, float8, text, @extschema@.retention_options) IS 'transition function of clcm.revenue_retention';
CREATE AGGREGATE @extschema@.revenue_retention(customer_id bigint, ts timestamptz, amount float8, period text, options @extschema@.retention_options) (
	SFUNC = @extschema@.revenue_retention_sfunc,
	STYPE = internal,
	SSPACE = 1048576,
	FINALFUNC = @extschema@.retention_final,
	COMBINEFUNC = @extschema@.retention_combine,
	SERIALFUNC = @extschema@.retention_serialize,
	DESERIALFUNC = @extschema@.retention_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.revenue_retention(bigint, timestamptz, float8, text, @extschema@.retention_options) IS 'revenue retention cohorts by period with options';

CREATE FUNCTION @extschema@.revenue_retention_sfunc(internal, text, timestamptz, float8) RETURNS internal
	AS 'MODULE_PATHNAME', 'clcm_retention_revenue_sfunc'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.revenue_retention_sfunc(internal, text, timestamptz, float8) IS 'transition function of clcm.revenue_retention';
CREATE AGGREGATE @extschema@.revenue_retention(customer_id text, ts timestamptz, amount float8) (
	SFUNC = @extschema@.revenue_retention_sfunc,
	STYPE = internal,
	SSPACE = 1048576,
	FINALFUNC = @extschema@.retention_final,
	COMBINEFUNC = @extschema@.retention_combine,
	SERIALFUNC = @extschema@.retention_serialize,
	DESERIALFUNC = @extschema@.retention_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.revenue_retention(text, timestamptz, float8) IS 'revenue retention cohorts by calendar month (UTC)';

CREATE FUNCTION @extschema@.revenue_retention_sfunc(internal, text, timestamptz, float8, text) RETURNS internal
	AS 'MODULE_PATHNAME', 'clcm_retention_revenue_sfunc'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.revenue_retention_sfunc(internal, text, timestamptz, float8, text) IS 'transition function of clcm.revenue_retention';
CREATE AGGREGATE @extschema@.revenue_retention(customer_id text, ts timestamptz, amount float8, period text) (
	SFUNC = @extschema@.revenue_retention_sfunc,
	STYPE = internal,
	SSPACE = 1048576,
	FINALFUNC = @extschema@.retention_final,
	COMBINEFUNC = @extschema@.retention_combine,
	SERIALFUNC = @extschema@.retention_serialize,
	DESERIALFUNC = @extschema@.retention_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.revenue_retention(text, timestamptz, float8, text) IS 'revenue retention cohorts by period (UTC)';

CREATE FUNCTION @extschema@.revenue_retention_sfunc(internal, text, timestamptz, float8, text, @extschema@.retention_options) RETURNS internal
	AS 'MODULE_PATHNAME', 'clcm_retention_revenue_sfunc'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.revenue_retention_sfunc(internal, text, timestamptz, float8, text, @extschema@.retention_options) IS 'transition function of clcm.revenue_retention';
CREATE AGGREGATE @extschema@.revenue_retention(customer_id text, ts timestamptz, amount float8, period text, options @extschema@.retention_options) (
	SFUNC = @extschema@.revenue_retention_sfunc,
	STYPE = internal,
	SSPACE = 1048576,
	FINALFUNC = @extschema@.retention_final,
	COMBINEFUNC = @extschema@.retention_combine,
	SERIALFUNC = @extschema@.retention_serialize,
	DESERIALFUNC = @extschema@.retention_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.revenue_retention(text, timestamptz, float8, text, @extschema@.retention_options) IS 'revenue retention cohorts by period with options';

CREATE FUNCTION @extschema@.revenue_retention_sfunc(internal, uuid, timestamptz, float8) RETURNS internal
	AS 'MODULE_PATHNAME', 'clcm_retention_revenue_sfunc'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.revenue_retention_sfunc(internal, uuid, timestamptz, float8) IS 'transition function of clcm.revenue_retention';
CREATE AGGREGATE @extschema@.revenue_retention(customer_id uuid, ts timestamptz, amount float8) (
	SFUNC = @extschema@.revenue_retention_sfunc,
	STYPE = internal,
	SSPACE = 1048576,
	FINALFUNC = @extschema@.retention_final,
	COMBINEFUNC = @extschema@.retention_combine,
	SERIALFUNC = @extschema@.retention_serialize,
	DESERIALFUNC = @extschema@.retention_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.revenue_retention(uuid, timestamptz, float8) IS 'revenue retention cohorts by calendar month (UTC)';

CREATE FUNCTION @extschema@.revenue_retention_sfunc(internal, uuid, timestamptz, float8, text) RETURNS internal
	AS 'MODULE_PATHNAME', 'clcm_retention_revenue_sfunc'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.revenue_retention_sfunc(internal, uuid, timestamptz, float8, text) IS 'transition function of clcm.revenue_retention';
CREATE AGGREGATE @extschema@.revenue_retention(customer_id uuid, ts timestamptz, amount float8, period text) (
	SFUNC = @extschema@.revenue_retention_sfunc,
	STYPE = internal,
	SSPACE = 1048576,
	FINALFUNC = @extschema@.retention_final,
	COMBINEFUNC = @extschema@.retention_combine,
	SERIALFUNC = @extschema@.retention_serialize,
	DESERIALFUNC = @extschema@.retention_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.revenue_retention(uuid, timestamptz, float8, text) IS 'revenue retention cohorts by period (UTC)';

CREATE FUNCTION @extschema@.revenue_retention_sfunc(internal, uuid, timestamptz, float8, text, @extschema@.retention_options) RETURNS internal
	AS 'MODULE_PATHNAME', 'clcm_retention_revenue_sfunc'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.revenue_retention_sfunc(internal, uuid, timestamptz, float8, text, @extschema@.retention_options) IS 'transition function of clcm.revenue_retention';
CREATE AGGREGATE @extschema@.revenue_retention(customer_id uuid, ts timestamptz, amount float8, period text, options @extschema@.retention_options) (
	SFUNC = @extschema@.revenue_retention_sfunc,
	STYPE = internal,
	SSPACE = 1048576,
	FINALFUNC = @extschema@.retention_final,
	COMBINEFUNC = @extschema@.retention_combine,
	SERIALFUNC = @extschema@.retention_serialize,
	DESERIALFUNC = @extschema@.retention_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.revenue_retention(uuid, timestamptz, float8, text, @extschema@.retention_options) IS 'revenue retention cohorts by period with options';

-- two-level form, level 1 (GROUP BY customer): one customer's activity

CREATE FUNCTION @extschema@.retention_activity_sfunc(internal, timestamptz) RETURNS internal
	AS 'MODULE_PATHNAME', 'clcm_retention_activity_sfunc'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_activity_sfunc(internal, timestamptz) IS 'transition function of clcm.retention_activity';
CREATE AGGREGATE @extschema@.retention_activity(ts timestamptz) (
	SFUNC = @extschema@.retention_activity_sfunc,
	STYPE = internal,
	SSPACE = 1048576,
	FINALFUNC = @extschema@.retention_activity_final,
	COMBINEFUNC = @extschema@.retention_combine,
	SERIALFUNC = @extschema@.retention_serialize,
	DESERIALFUNC = @extschema@.retention_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.retention_activity(timestamptz) IS 'one customer''s active calendar months (UTC); aggregate these with clcm.retention(activity)';

CREATE FUNCTION @extschema@.retention_activity_sfunc(internal, timestamptz, text) RETURNS internal
	AS 'MODULE_PATHNAME', 'clcm_retention_activity_sfunc'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_activity_sfunc(internal, timestamptz, text) IS 'transition function of clcm.retention_activity';
CREATE AGGREGATE @extschema@.retention_activity(ts timestamptz, period text) (
	SFUNC = @extschema@.retention_activity_sfunc,
	STYPE = internal,
	SSPACE = 1048576,
	FINALFUNC = @extschema@.retention_activity_final,
	COMBINEFUNC = @extschema@.retention_combine,
	SERIALFUNC = @extschema@.retention_serialize,
	DESERIALFUNC = @extschema@.retention_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.retention_activity(timestamptz, text) IS 'one customer''s active periods (UTC); aggregate these with clcm.retention(activity)';

CREATE FUNCTION @extschema@.retention_activity_sfunc(internal, timestamptz, text, @extschema@.retention_options) RETURNS internal
	AS 'MODULE_PATHNAME', 'clcm_retention_activity_sfunc'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_activity_sfunc(internal, timestamptz, text, @extschema@.retention_options) IS 'transition function of clcm.retention_activity';
CREATE AGGREGATE @extschema@.retention_activity(ts timestamptz, period text, options @extschema@.retention_options) (
	SFUNC = @extschema@.retention_activity_sfunc,
	STYPE = internal,
	SSPACE = 1048576,
	FINALFUNC = @extschema@.retention_activity_final,
	COMBINEFUNC = @extschema@.retention_combine,
	SERIALFUNC = @extschema@.retention_serialize,
	DESERIALFUNC = @extschema@.retention_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.retention_activity(timestamptz, text, @extschema@.retention_options) IS 'one customer''s active periods with options; aggregate these with clcm.retention(activity)';

CREATE FUNCTION @extschema@.revenue_activity_sfunc(internal, timestamptz, float8) RETURNS internal
	AS 'MODULE_PATHNAME', 'clcm_revenue_activity_sfunc'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.revenue_activity_sfunc(internal, timestamptz, float8) IS 'transition function of clcm.revenue_activity';
CREATE AGGREGATE @extschema@.revenue_activity(ts timestamptz, amount float8) (
	SFUNC = @extschema@.revenue_activity_sfunc,
	STYPE = internal,
	SSPACE = 1048576,
	FINALFUNC = @extschema@.retention_activity_final,
	COMBINEFUNC = @extschema@.retention_combine,
	SERIALFUNC = @extschema@.retention_serialize,
	DESERIALFUNC = @extschema@.retention_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.revenue_activity(timestamptz, float8) IS 'one customer''s active calendar months and revenue (UTC)';

CREATE FUNCTION @extschema@.revenue_activity_sfunc(internal, timestamptz, float8, text) RETURNS internal
	AS 'MODULE_PATHNAME', 'clcm_revenue_activity_sfunc'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.revenue_activity_sfunc(internal, timestamptz, float8, text) IS 'transition function of clcm.revenue_activity';
CREATE AGGREGATE @extschema@.revenue_activity(ts timestamptz, amount float8, period text) (
	SFUNC = @extschema@.revenue_activity_sfunc,
	STYPE = internal,
	SSPACE = 1048576,
	FINALFUNC = @extschema@.retention_activity_final,
	COMBINEFUNC = @extschema@.retention_combine,
	SERIALFUNC = @extschema@.retention_serialize,
	DESERIALFUNC = @extschema@.retention_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.revenue_activity(timestamptz, float8, text) IS 'one customer''s active periods and revenue (UTC)';

CREATE FUNCTION @extschema@.revenue_activity_sfunc(internal, timestamptz, float8, text, @extschema@.retention_options) RETURNS internal
	AS 'MODULE_PATHNAME', 'clcm_revenue_activity_sfunc'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.revenue_activity_sfunc(internal, timestamptz, float8, text, @extschema@.retention_options) IS 'transition function of clcm.revenue_activity';
CREATE AGGREGATE @extschema@.revenue_activity(ts timestamptz, amount float8, period text, options @extschema@.retention_options) (
	SFUNC = @extschema@.revenue_activity_sfunc,
	STYPE = internal,
	SSPACE = 1048576,
	FINALFUNC = @extschema@.retention_activity_final,
	COMBINEFUNC = @extschema@.retention_combine,
	SERIALFUNC = @extschema@.retention_serialize,
	DESERIALFUNC = @extschema@.retention_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.revenue_activity(timestamptz, float8, text, @extschema@.retention_options) IS 'one customer''s active periods and revenue, with options';


-- two-level form, level 2, and merging of matrices: non-internal state
CREATE FUNCTION @extschema@.retention_matrix_add(@extschema@.retention_matrix, @extschema@.retention_activity)
	RETURNS @extschema@.retention_matrix
	AS 'MODULE_PATHNAME', 'clcm_retention_matrix_add'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_matrix_add(@extschema@.retention_matrix, @extschema@.retention_activity) IS
	'transition function of clcm.retention(activity)';
CREATE FUNCTION @extschema@.retention_matrix_combine(@extschema@.retention_matrix, @extschema@.retention_matrix)
	RETURNS @extschema@.retention_matrix
	AS 'MODULE_PATHNAME', 'clcm_retention_matrix_combine'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_matrix_combine(@extschema@.retention_matrix, @extschema@.retention_matrix) IS
	'sum of two retention matrices of disjoint customer sets';

CREATE AGGREGATE @extschema@.retention(activity @extschema@.retention_activity) (
	SFUNC = @extschema@.retention_matrix_add,
	STYPE = @extschema@.retention_matrix,
	COMBINEFUNC = @extschema@.retention_matrix_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.retention(@extschema@.retention_activity) IS
	'retention cohorts from per-customer activities (two-level form; Citus can push it down)';

CREATE AGGREGATE @extschema@.retention_merge(m @extschema@.retention_matrix) (
	SFUNC = @extschema@.retention_matrix_combine,
	STYPE = @extschema@.retention_matrix,
	COMBINEFUNC = @extschema@.retention_matrix_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.retention_merge(@extschema@.retention_matrix) IS
	'merge retention matrices computed for disjoint customer sets';

CREATE FUNCTION @extschema@.retention_table(m @extschema@.retention_matrix, mode text DEFAULT 'classic')
	RETURNS TABLE (cohort date, period int, cohort_size bigint, active bigint, rate float8)
	AS 'MODULE_PATHNAME', 'clcm_retention_table'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 100;
COMMENT ON FUNCTION @extschema@.retention_table(@extschema@.retention_matrix, text) IS
	'rows of a retention matrix: mode classic (active in the period) or unbounded (active in the period or later); NULL where not yet observable';

CREATE FUNCTION @extschema@.retention_revenue_table(m @extschema@.retention_matrix, mode text DEFAULT 'classic')
	RETURNS TABLE (cohort date, period int, cohort_size bigint, cohort_revenue float8, revenue float8, rate float8)
	AS 'MODULE_PATHNAME', 'clcm_retention_revenue_table'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 100;
COMMENT ON FUNCTION @extschema@.retention_revenue_table(@extschema@.retention_matrix, text) IS
	'revenue rows of a revenue retention matrix: revenue per cohort and period, rate relative to the cohort''s first period';
