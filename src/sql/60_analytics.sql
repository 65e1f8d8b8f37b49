
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

-- --------------------------------------------------- history analytics
-- Funnel, dwell and transition counts over clcm.stage_history.  Each
-- takes the model, an optional as_of (only history rows with changed_at <=
-- as_of count: the funnel as it stood then) and an optional customer table.

/*
 * Checks that a model exists (22023 otherwise) and returns its stages in
 * funnel order.
 */
CREATE FUNCTION @extschema@.model_stages_checked(model text) RETURNS text[]
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	st text[];
BEGIN
	IF model IS NULL THEN
		RAISE EXCEPTION 'model cannot be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	SELECT m.stages INTO st FROM @extschema@.model m WHERE m.name = model_stages_checked.model;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'model "%" does not exist', model
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'The models are listed in clcm.model.';
	END IF;
	RETURN st;
END
$$;
COMMENT ON FUNCTION @extschema@.model_stages_checked(text) IS
	'stages of a model in funnel order; error 22023 for an unrecognized model';

CREATE FUNCTION @extschema@.funnel(model text, as_of timestamptz DEFAULT NULL,
	customer_table regclass DEFAULT NULL,
	OUT "position" int, OUT stage text, OUT next_stage text, OUT reached bigint,
	OUT converted bigint, OUT conversion float8, OUT median_time_to_next interval)
	RETURNS SETOF record
	LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 10
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	st text[] := @extschema@.model_stages_checked(model);
BEGIN
	RETURN QUERY
	WITH h AS (
		SELECT x.table_name, x.customer_key, x.to_stage, x.id, x.changed_at
		  FROM @extschema@.stage_history x
		 WHERE x.model = funnel.model
		   AND (funnel.as_of IS NULL OR x.changed_at <= funnel.as_of)
		   AND (funnel.customer_table IS NULL OR x.table_name = funnel.customer_table)
	), s AS (
		SELECT u.stage, u.pos::int AS pos FROM unnest(st) WITH ORDINALITY u(stage, pos)
	), firsts AS (			-- first entry of each customer into each stage
		SELECT DISTINCT ON (h.table_name, h.customer_key, h.to_stage)
			   h.table_name, h.customer_key, h.to_stage, h.id, h.changed_at
		  FROM h
		 ORDER BY h.table_name, h.customer_key, h.to_stage, h.id
	), conv AS (			-- first later entry into the next stage
		SELECT f.table_name, f.customer_key, f.to_stage,
			   min(h2.changed_at) AS next_at
		  FROM firsts f
		  JOIN s ON s.stage = f.to_stage
		  JOIN s sn ON sn.pos = s.pos + 1
		  JOIN h h2 ON h2.table_name = f.table_name
				   AND h2.customer_key = f.customer_key
				   AND h2.to_stage = sn.stage
				   AND h2.id > f.id
		 GROUP BY f.table_name, f.customer_key, f.to_stage
	)
	SELECT s.pos, s.stage, sn.stage,
		   count(f.customer_key),
		   CASE WHEN sn.stage IS NULL THEN NULL ELSE count(c.next_at) END,
		   CASE WHEN sn.stage IS NULL OR count(f.customer_key) = 0 THEN NULL
				ELSE count(c.next_at)::float8 / count(f.customer_key)::float8 END,
		   percentile_cont(0.5) WITHIN GROUP (ORDER BY c.next_at - f.changed_at)
	  FROM s
	  LEFT JOIN s sn ON sn.pos = s.pos + 1
	  LEFT JOIN firsts f ON f.to_stage = s.stage
	  LEFT JOIN conv c ON c.table_name = f.table_name
					  AND c.customer_key = f.customer_key
					  AND c.to_stage = f.to_stage
	 GROUP BY s.pos, s.stage, sn.stage
	 ORDER BY s.pos;
END
$$;
COMMENT ON FUNCTION @extschema@.funnel(text, timestamptz, regclass) IS
	'funnel conversion between consecutive stages of a model from clcm.stage_history: customers who reached each stage, how many later reached the next one, the rate and the median time to it; as_of gives the funnel as it stood then';

CREATE FUNCTION @extschema@.stage_dwell(model text, as_of timestamptz DEFAULT NULL,
	customer_table regclass DEFAULT NULL,
	OUT "position" int, OUT stage text, OUT entries bigint, OUT exits bigint,
	OUT still_in bigint, OUT median interval, OUT p90 interval, OUT mean interval)
	RETURNS SETOF record
	LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 10
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	st text[] := @extschema@.model_stages_checked(model);
BEGIN
	RETURN QUERY
	WITH h AS (
		SELECT x.table_name, x.customer_key, x.to_stage, x.id, x.changed_at
		  FROM @extschema@.stage_history x
		 WHERE x.model = stage_dwell.model
		   AND (stage_dwell.as_of IS NULL OR x.changed_at <= stage_dwell.as_of)
		   AND (stage_dwell.customer_table IS NULL OR x.table_name = stage_dwell.customer_table)
	), stays AS (
		SELECT h.to_stage, h.changed_at AS entered,
			   lead(h.changed_at) OVER (PARTITION BY h.table_name, h.customer_key
										ORDER BY h.id) AS left_at
		  FROM h
	), s AS (
		SELECT u.stage, u.pos::int AS pos FROM unnest(st) WITH ORDINALITY u(stage, pos)
	)
	SELECT s.pos, s.stage, count(y.entered), count(y.left_at),
		   count(y.entered) - count(y.left_at),
		   percentile_cont(0.5) WITHIN GROUP (ORDER BY y.left_at - y.entered),
		   percentile_cont(0.9) WITHIN GROUP (ORDER BY y.left_at - y.entered),
		   avg(y.left_at - y.entered)
	  FROM s
	  LEFT JOIN stays y ON y.to_stage = s.stage
	 GROUP BY s.pos, s.stage
	 ORDER BY s.pos;
END
$$;
COMMENT ON FUNCTION @extschema@.stage_dwell(text, timestamptz, regclass) IS
	'time in stage from clcm.stage_history: stays entered, left and still open (as of as_of), and the median, 90th percentile and mean length of completed stays';

CREATE FUNCTION @extschema@.history_matrix(model text, since timestamptz DEFAULT NULL,
	until timestamptz DEFAULT NULL, customer_table regclass DEFAULT NULL)
	RETURNS @extschema@.markov
	LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	typ regtype;
	result @extschema@.markov;
BEGIN
	PERFORM @extschema@.model_stages_checked(model);
	SELECT m.stage_type INTO typ FROM @extschema@.model m WHERE m.name = history_matrix.model;
	EXECUTE format('SELECT @extschema@.transition_matrix(CAST(x.from_stage AS %1$s), CAST(x.to_stage AS %1$s))'
				   ' FROM @extschema@.stage_history x'
				   ' WHERE x.model = $1 AND ($2 IS NULL OR x.changed_at >= $2)'
				   ' AND ($3 IS NULL OR x.changed_at <= $3)'
				   ' AND ($4 IS NULL OR x.table_name = $4)', typ)
	   INTO result USING model, since, until, customer_table;
	RETURN result;
END
$$;
COMMENT ON FUNCTION @extschema@.history_matrix(text, timestamptz, timestamptz, regclass) IS
	'clcm.transition_matrix over the recorded stage changes of a model (optionally between since and until, for one customer table); NULL when there are none';
