
-- ---------------------------------------------------------------------
-- 60_analytics.sql: transition analytics. The clcm.markov type and the
-- transition_matrix aggregate (src/markov.c), Markov projection and CLV,
-- funnel conversion and time in stage over clcm.stage_history.
-- ---------------------------------------------------------------------

CREATE TYPE @extschema@.markov;

CREATE FUNCTION @extschema@.markov_in(cstring) RETURNS @extschema@.markov
	AS 'MODULE_PATHNAME', 'clcm_markov_in'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.markov_in(cstring) IS 'input function of type clcm.markov';

CREATE FUNCTION @extschema@.markov_out(@extschema@.markov) RETURNS cstring
	AS 'MODULE_PATHNAME', 'clcm_markov_out'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.markov_out(@extschema@.markov) IS 'output function of type clcm.markov';

CREATE FUNCTION @extschema@.markov_recv(internal) RETURNS @extschema@.markov
	AS 'MODULE_PATHNAME', 'clcm_markov_recv'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.markov_recv(internal) IS 'binary input function of type clcm.markov';

CREATE FUNCTION @extschema@.markov_send(@extschema@.markov) RETURNS bytea
	AS 'MODULE_PATHNAME', 'clcm_markov_send'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.markov_send(@extschema@.markov) IS 'binary output function of type clcm.markov';

CREATE TYPE @extschema@.markov (
	INPUT = @extschema@.markov_in,
	OUTPUT = @extschema@.markov_out,
	RECEIVE = @extschema@.markov_recv,
	SEND = @extschema@.markov_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = extended
);
COMMENT ON TYPE @extschema@.markov IS
	'stage-to-stage transition counts with their stage labels (a Markov chain estimate)';

CREATE FUNCTION @extschema@.markov_accum(@extschema@.markov, anyenum, anyenum)
	RETURNS @extschema@.markov
	AS 'MODULE_PATHNAME', 'clcm_markov_accum'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.markov_accum(@extschema@.markov, anyenum, anyenum) IS
	'state function of clcm.transition_matrix';

CREATE FUNCTION @extschema@.markov_combine(@extschema@.markov, @extschema@.markov)
	RETURNS @extschema@.markov
	AS 'MODULE_PATHNAME', 'clcm_markov_combine'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.markov_combine(@extschema@.markov, @extschema@.markov) IS
	'combine function of clcm.transition_matrix and state function of clcm.markov_merge';

CREATE AGGREGATE @extschema@.transition_matrix(from_stage anyenum, to_stage anyenum) (
	SFUNC = @extschema@.markov_accum,
	STYPE = @extschema@.markov,
	COMBINEFUNC = @extschema@.markov_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.transition_matrix(anyenum, anyenum) IS
	'counts stage-to-stage transitions (pairs with a NULL side are skipped) into a clcm.markov matrix over all stages of the enum type';

CREATE AGGREGATE @extschema@.markov_merge(@extschema@.markov) (
	SFUNC = @extschema@.markov_combine,
	STYPE = @extschema@.markov,
	COMBINEFUNC = @extschema@.markov_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.markov_merge(@extschema@.markov) IS
	'sums clcm.markov matrices over the same stages (e.g. computed per shard or per month)';

CREATE FUNCTION @extschema@.markov_add(@extschema@.markov, @extschema@.markov)
	RETURNS @extschema@.markov
	AS 'MODULE_PATHNAME', 'clcm_markov_add'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.markov_add(@extschema@.markov, @extschema@.markov) IS
	'sum of two clcm.markov matrices over the same stages';

CREATE OPERATOR @extschema@.+ (
	LEFTARG = @extschema@.markov,
	RIGHTARG = @extschema@.markov,
	FUNCTION = @extschema@.markov_add,
	COMMUTATOR = OPERATOR(@extschema@.+)
);
COMMENT ON OPERATOR @extschema@.+ (@extschema@.markov, @extschema@.markov) IS
	'sum of two transition matrices over the same stages';

CREATE FUNCTION @extschema@.markov_stages(m @extschema@.markov) RETURNS text[]
	AS 'MODULE_PATHNAME', 'clcm_markov_stages'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.markov_stages(@extschema@.markov) IS
	'stage labels of a transition matrix, in matrix (funnel) order';

CREATE FUNCTION @extschema@.markov_table(m @extschema@.markov,
	OUT r text, OUT c text, OUT n bigint, OUT p float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'clcm_markov_table'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION @extschema@.markov_table(@extschema@.markov) IS
	'observed transitions of a matrix: from stage r, to stage c, count n, probability p (each r sums to 1)';

CREATE FUNCTION @extschema@.markov_project(matrix @extschema@.markov, start float8[], steps int)
	RETURNS float8[]
	AS 'MODULE_PATHNAME', 'clcm_markov_project'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.markov_project(@extschema@.markov, float8[], int) IS
	'expected distribution over the stages after steps transitions: start * P^steps (stages without observed exits are absorbing)';

CREATE FUNCTION @extschema@.markov_clv(matrix @extschema@.markov, margin float8[],
	discount_rate float8, horizon int DEFAULT NULL,
	OUT stage text, OUT clv float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'clcm_markov_clv'
	LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION @extschema@.markov_clv(@extschema@.markov, float8[], float8, int) IS
	'Markov-chain CLV per current stage (Pfeifer & Carraway 2000): sum over t = 0..horizon of ((1+d)^-1 P)^t R; horizon NULL = infinite, (I - P/(1+d))^-1 R';
