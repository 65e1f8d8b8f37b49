
/* ------------------------------------------------------------------------
 * 10_models.sql: lifecycle models, their enum stage types and transitions
 *
 * A model is a row of clcm.model (its stages in funnel order and the enum
 * type that holds them) plus rows of clcm.transition.  Both are extension
 * configuration tables: rows the extension ships have shipped = true and
 * are recreated by CREATE EXTENSION; user rows (shipped = false) are kept
 * by pg_dump.  The stage guard (src/stage.c) caches the transitions per
 * backend; the statement triggers at the end of this file invalidate that
 * cache whenever either table changes.
 * ------------------------------------------------------------------------
 */

CREATE TABLE @extschema@.model (
	name text PRIMARY KEY
		CONSTRAINT model_name_check
		CHECK (name OPERATOR(pg_catalog.~) '^[a-z_][a-z0-9_]*$'
			   AND pg_catalog.octet_length(name) OPERATOR(pg_catalog.<=) 57),
	stage_type regtype NOT NULL UNIQUE,
	stages text[] NOT NULL
		CONSTRAINT model_stages_check
		CHECK (pg_catalog.cardinality(stages) OPERATOR(pg_catalog.>) 0
			   AND pg_catalog.array_ndims(stages) OPERATOR(pg_catalog.=) 1
			   AND pg_catalog.array_position(stages, NULL) IS NULL),
	shipped boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE @extschema@.model IS
	'lifecycle models: name, enum stage type and stages in funnel order';

CREATE TABLE @extschema@.transition (
	model text NOT NULL REFERENCES @extschema@.model(name) ON DELETE CASCADE,
	from_stage text NOT NULL,
	to_stage text NOT NULL
		CONSTRAINT transition_to_stage_check
		CHECK (to_stage OPERATOR(pg_catalog.<>) '*'),
	shipped boolean NOT NULL DEFAULT false,
	PRIMARY KEY (model, from_stage, to_stage),
	CONSTRAINT transition_not_to_itself
		CHECK (from_stage OPERATOR(pg_catalog.<>) to_stage)
);
COMMENT ON TABLE @extschema@.transition IS
	'allowed stage transitions of each model (from_stage ''*'' = from any stage)';

-- Models and transitions are readable by everyone (the guard reads them as
-- the current user); only the extension owner changes them, normally
-- through define_model / drop_model.
REVOKE ALL ON @extschema@.model, @extschema@.transition FROM PUBLIC;
GRANT SELECT ON @extschema@.model, @extschema@.transition TO PUBLIC;

-- pg_dump keeps user rows; shipped rows come back with CREATE EXTENSION.
SELECT pg_catalog.pg_extension_config_dump('@extschema@.model', 'WHERE NOT shipped');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.transition', 'WHERE NOT shipped');

/*
 * Validates a model row: the stage type is an enum and stages lists its
 * labels in sort order (so after ALTER TYPE ... ADD VALUE, stages must be
 * updated too).  Raised errors use 22023.
 */
CREATE FUNCTION @extschema@.model_check() RETURNS trigger
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	labels text[];
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type t
					WHERE t.oid OPERATOR(pg_catalog.=) NEW.stage_type
					  AND t.typtype OPERATOR(pg_catalog.=) 'e') THEN
		RAISE EXCEPTION 'stage type % of model "%" is not an enum type', NEW.stage_type, NEW.name
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT pg_catalog.array_agg(e.enumlabel::text ORDER BY e.enumsortorder) INTO labels
	  FROM pg_catalog.pg_enum e
	 WHERE e.enumtypid OPERATOR(pg_catalog.=) NEW.stage_type;
	IF labels OPERATOR(pg_catalog.<>) NEW.stages THEN
		RAISE EXCEPTION 'stages of model "%" do not match the labels of type %', NEW.name, NEW.stage_type
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = pg_catalog.format('The type''s labels in order are: %s.',
											 pg_catalog.array_to_string(labels, ', '));
	END IF;
	RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.model_check() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.model_check() IS
	'trigger on clcm.model: stages must be the labels of the enum stage type, in order';

CREATE TRIGGER model_check
	BEFORE INSERT OR UPDATE ON @extschema@.model
	FOR EACH ROW EXECUTE FUNCTION @extschema@.model_check();
COMMENT ON TRIGGER model_check ON @extschema@.model IS
	'stages must be the labels of the stage type, in order';

/*
 * Validates a transition row against its model: both stages must be stages
 * of the model ('*' allowed as from_stage).  Raised errors use 22023.
 */
CREATE FUNCTION @extschema@.transition_check() RETURNS trigger
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	model_stages text[];
BEGIN
	SELECT m.stages INTO model_stages
	  FROM @extschema@.model m
	 WHERE m.name OPERATOR(pg_catalog.=) NEW.model;
	IF NOT FOUND THEN
		RETURN NEW;				-- the foreign key reports it
	END IF;
	IF NEW.from_stage OPERATOR(pg_catalog.<>) '*'
	   AND pg_catalog.array_position(model_stages, NEW.from_stage) IS NULL THEN
		RAISE EXCEPTION 'stage "%" does not exist in model "%"', NEW.from_stage, NEW.model
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = pg_catalog.format('The stages of model "%s" are: %s.', NEW.model,
										  pg_catalog.array_to_string(model_stages, ', '));
	END IF;
	IF pg_catalog.array_position(model_stages, NEW.to_stage) IS NULL THEN
		RAISE EXCEPTION 'stage "%" does not exist in model "%"', NEW.to_stage, NEW.model
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = pg_catalog.format('The stages of model "%s" are: %s.', NEW.model,
										  pg_catalog.array_to_string(model_stages, ', '));
	END IF;
	RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.transition_check() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.transition_check() IS
	'trigger on clcm.transition: both stages must belong to the model';

CREATE TRIGGER transition_check
	BEFORE INSERT OR UPDATE ON @extschema@.transition
	FOR EACH ROW EXECUTE FUNCTION @extschema@.transition_check();
COMMENT ON TRIGGER transition_check ON @extschema@.transition IS
	'both stages must be stages of the model';

/*
 * Statement trigger on clcm.model and clcm.transition: sends a relcache
 * invalidation for the table, which every backend's transition cache
 * listens to (src/model.c).
 */
CREATE FUNCTION @extschema@.model_cache_invalidate() RETURNS trigger
	AS 'MODULE_PATHNAME', 'clcm_model_cache_invalidate'
	LANGUAGE C VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.model_cache_invalidate() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.model_cache_invalidate() IS
	'trigger on clcm.model and clcm.transition: invalidates cached transition sets';

CREATE TRIGGER model_cache_invalidate
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.model
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.model_cache_invalidate();
CREATE TRIGGER transition_cache_invalidate
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.transition
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.model_cache_invalidate();
COMMENT ON TRIGGER model_cache_invalidate ON @extschema@.model IS
	'invalidates every backend''s cached transition sets';
COMMENT ON TRIGGER transition_cache_invalidate ON @extschema@.transition IS
	'invalidates every backend''s cached transition sets';

COMMENT ON COLUMN @extschema@.model.name IS 'model name (lower-case identifier)';
COMMENT ON COLUMN @extschema@.model.stage_type IS 'the enum type clcm.<name>_stage';
COMMENT ON COLUMN @extschema@.model.stages IS 'stage labels in funnel order (= enum sort order)';
COMMENT ON COLUMN @extschema@.model.shipped IS 'created by CREATE EXTENSION (not dumped)';
COMMENT ON COLUMN @extschema@.transition.from_stage IS 'a stage label, or * for any stage';
COMMENT ON COLUMN @extschema@.transition.to_stage IS 'a stage label';
COMMENT ON COLUMN @extschema@.transition.shipped IS 'created by CREATE EXTENSION (not dumped)';

-- ------------------------------------------------------------ shipped models

CREATE TYPE @extschema@.lifecycle_stage AS ENUM
	('prospect', 'considering', 'new', 'active', 'loyal', 'at_risk', 'churned', 'won_back');
COMMENT ON TYPE @extschema@.lifecycle_stage IS 'stages of the shipped model "lifecycle"';

CREATE TYPE @extschema@.b2b_stage AS ENUM
	('initial', 'development', 'mature', 'terminated');
COMMENT ON TYPE @extschema@.b2b_stage IS 'stages of the shipped model "b2b"';

CREATE TYPE @extschema@.insurance_stage AS ENUM
	('lead', 'quoted', 'policyholder', 'renewal_due', 'renewed', 'lapsed', 'won_back');
COMMENT ON TYPE @extschema@.insurance_stage IS 'stages of the shipped model "insurance"';

INSERT INTO @extschema@.model (name, stage_type, stages, shipped)
VALUES ('lifecycle', '@extschema@.lifecycle_stage'::regtype,
		pg_catalog.enum_range(NULL::@extschema@.lifecycle_stage)::text[], true),
	   ('b2b', '@extschema@.b2b_stage'::regtype,
		pg_catalog.enum_range(NULL::@extschema@.b2b_stage)::text[], true),
	   ('insurance', '@extschema@.insurance_stage'::regtype,
		pg_catalog.enum_range(NULL::@extschema@.insurance_stage)::text[], true);

-- Transition sets: forward moves through the funnel, decay to
-- at_risk / churned / lapsed, and win-back (doc/clcm.md lists them).
INSERT INTO @extschema@.transition (model, from_stage, to_stage, shipped)
SELECT 'lifecycle', t.f, t.t, true
  FROM (VALUES
	('prospect', 'considering'), ('prospect', 'new'),
	('considering', 'new'), ('considering', 'prospect'),
	('new', 'active'), ('new', 'loyal'), ('new', 'at_risk'), ('new', 'churned'),
	('active', 'loyal'), ('active', 'at_risk'), ('active', 'churned'),
	('loyal', 'active'), ('loyal', 'at_risk'), ('loyal', 'churned'),
	('at_risk', 'active'), ('at_risk', 'loyal'), ('at_risk', 'churned'),
	('churned', 'won_back'),
	('won_back', 'active'), ('won_back', 'loyal'), ('won_back', 'at_risk'),
	('won_back', 'churned')) t(f, t);

INSERT INTO @extschema@.transition (model, from_stage, to_stage, shipped)
SELECT 'b2b', t.f, t.t, true
  FROM (VALUES
	('initial', 'development'), ('initial', 'terminated'),
	('development', 'mature'), ('development', 'terminated'),
	('mature', 'development'), ('mature', 'terminated'),
	('terminated', 'initial')) t(f, t);

INSERT INTO @extschema@.transition (model, from_stage, to_stage, shipped)
SELECT 'insurance', t.f, t.t, true
  FROM (VALUES
	('lead', 'quoted'),
	('quoted', 'lead'), ('quoted', 'policyholder'),
	('policyholder', 'renewal_due'), ('policyholder', 'lapsed'),
	('renewal_due', 'renewed'), ('renewal_due', 'lapsed'),
	('renewed', 'renewal_due'), ('renewed', 'lapsed'),
	('lapsed', 'won_back'), ('lapsed', 'quoted'),
	('won_back', 'renewal_due'), ('won_back', 'lapsed')) t(f, t);

-- ----------------------------------------------------------- model functions

/*
 * define_model(name, stages, transitions): creates the enum type
 * clcm.<name>_stage and registers the model.  Whitespace around stage names
 * inside a transition string ('a -> b') is ignored; stage labels themselves
 * may not start or end with whitespace.
 */
CREATE FUNCTION @extschema@.define_model(name text, stages text[], transitions text[])
	RETURNS regtype
	LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	type_name text;
	typ regtype;
	s text;
	tr text;
	parts text[];
	from_s text;
	to_s text;
	pairs text[] := '{}';
BEGIN
	IF name IS NULL OR stages IS NULL OR transitions IS NULL THEN
		RAISE EXCEPTION 'arguments of define_model must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF name OPERATOR(pg_catalog.!~) '^[a-z_][a-z0-9_]*$'
	   OR octet_length(name) OPERATOR(pg_catalog.>) 57 THEN
		RAISE EXCEPTION 'invalid model name "%"', name
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A model name is a lower-case identifier (letters a-z, digits, underscores, not starting with a digit) of at most 57 bytes.';
	END IF;
	IF cardinality(stages) OPERATOR(pg_catalog.=) 0 THEN
		RAISE EXCEPTION 'model "%" must have at least one stage', name
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF array_ndims(stages) OPERATOR(pg_catalog.<>) 1
	   OR array_ndims(transitions) OPERATOR(pg_catalog.>) 1 THEN
		RAISE EXCEPTION 'stages and transitions must be one-dimensional arrays'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF array_position(stages, NULL) IS NOT NULL
	   OR array_position(transitions, NULL) IS NOT NULL THEN
		RAISE EXCEPTION 'stages and transitions must not contain NULL elements'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	FOREACH s IN ARRAY stages LOOP
		IF s OPERATOR(pg_catalog.=) '' OR s OPERATOR(pg_catalog.=) '*'
		   OR strpos(s, '->') OPERATOR(pg_catalog.>) 0
		   OR s OPERATOR(pg_catalog.<>) btrim(s, E' \t\n\r')
		   OR octet_length(s) OPERATOR(pg_catalog.>) 63 THEN
			RAISE EXCEPTION 'invalid stage name "%"', s
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = 'A stage name is 1 to 63 bytes, is not "*", does not contain "->" and does not start or end with whitespace.';
		END IF;
		IF array_position(stages, s, array_position(stages, s) OPERATOR(pg_catalog.+) 1) IS NOT NULL THEN
			RAISE EXCEPTION 'stage "%" appears more than once', s
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
	END LOOP;
	FOREACH tr IN ARRAY transitions LOOP
		parts := string_to_array(tr, '->');
		IF cardinality(parts) OPERATOR(pg_catalog.<>) 2 THEN
			RAISE EXCEPTION 'invalid transition "%"', tr
				USING ERRCODE = 'invalid_text_representation',
					  DETAIL = 'A transition is written "from->to" or "*->to".';
		END IF;
		from_s := btrim(parts[1], E' \t\n\r');
		to_s := btrim(parts[2], E' \t\n\r');
		IF from_s OPERATOR(pg_catalog.=) '' OR to_s OPERATOR(pg_catalog.=) '' THEN
			RAISE EXCEPTION 'invalid transition "%"', tr
				USING ERRCODE = 'invalid_text_representation',
					  DETAIL = 'A transition is written "from->to" or "*->to".';
		END IF;
		IF from_s OPERATOR(pg_catalog.<>) '*' AND array_position(stages, from_s) IS NULL THEN
			RAISE EXCEPTION 'transition "%" names stage "%", which is not a stage of model "%"',
				tr, from_s, name
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		IF array_position(stages, to_s) IS NULL THEN
			RAISE EXCEPTION 'transition "%" names stage "%", which is not a stage of model "%"',
				tr, to_s, name
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		IF from_s OPERATOR(pg_catalog.=) to_s THEN
			RAISE EXCEPTION 'transition "%" leads from a stage to itself', tr
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = 'Keeping the same stage is always allowed and is not a transition.';
		END IF;
		IF array_position(pairs, from_s || '->' || to_s) IS NOT NULL THEN
			RAISE EXCEPTION 'transition "%" appears more than once', tr
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		pairs := pairs || (from_s || '->' || to_s);
	END LOOP;

	IF EXISTS (SELECT 1 FROM @extschema@.model m WHERE m.name OPERATOR(pg_catalog.=) define_model.name) THEN
		RAISE EXCEPTION 'model "%" already exists', name
			USING ERRCODE = 'duplicate_object';
	END IF;
	type_name := name || '_stage';
	IF EXISTS (SELECT 1 FROM pg_catalog.pg_type t
				WHERE t.typname OPERATOR(pg_catalog.=) type_name
				  AND t.typnamespace OPERATOR(pg_catalog.=) '@extschema@'::regnamespace) THEN
		RAISE EXCEPTION 'type "@extschema@.%" already exists', type_name
			USING ERRCODE = 'duplicate_object';
	END IF;

	EXECUTE format('CREATE TYPE @extschema@.%I AS ENUM (%s)', type_name,
				   (SELECT string_agg(quote_literal(x), ', ' ORDER BY o)
					  FROM unnest(stages) WITH ORDINALITY u(x, o)));
	EXECUTE format('COMMENT ON TYPE @extschema@.%I IS %L', type_name,
				   'stages of the clcm model "' || name || '"');
	typ := format('@extschema@.%I', type_name)::regtype;

	INSERT INTO @extschema@.model (name, stage_type, stages, shipped)
	VALUES (define_model.name, typ, define_model.stages, false);
	INSERT INTO @extschema@.transition (model, from_stage, to_stage, shipped)
	SELECT define_model.name, split_part(p, '->', 1), split_part(p, '->', 2), false
	  FROM unnest(pairs) p;
	RETURN typ;
END
$$;
-- Admin function: grant EXECUTE to model administrators (who also need
-- CREATE on schema clcm and INSERT on clcm.model and clcm.transition).
REVOKE ALL ON FUNCTION @extschema@.define_model(text, text[], text[]) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.define_model(text, text[], text[]) IS
	'creates a lifecycle model with enum stage type clcm.<name>_stage; returns the type';

/*
 * drop_model(name): drops a user-defined model and its stage type.
 */
CREATE FUNCTION @extschema@.drop_model(name text) RETURNS void
	LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	m record;
	err_detail text;
BEGIN
	IF name IS NULL THEN
		RAISE EXCEPTION 'model name must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	SELECT * INTO m FROM @extschema@.model x WHERE x.name OPERATOR(pg_catalog.=) drop_model.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'model "%" does not exist', name
			USING ERRCODE = 'undefined_object';
	END IF;
	IF m.shipped THEN
		RAISE EXCEPTION 'cannot drop model "%" because it is shipped with extension clcm', name
			USING ERRCODE = 'dependent_objects_still_exist';
	END IF;
	BEGIN
		EXECUTE format('DROP TYPE %s', m.stage_type);
	EXCEPTION WHEN dependent_objects_still_exist THEN
		GET STACKED DIAGNOSTICS err_detail = PG_EXCEPTION_DETAIL;
		RAISE EXCEPTION 'cannot drop model "%" because it is in use', name
			USING ERRCODE = 'dependent_objects_still_exist',
				  DETAIL = err_detail,
				  HINT = 'Drop or alter the columns of type ' || m.stage_type::text || ' first.';
	END;
	DELETE FROM @extschema@.model x WHERE x.name OPERATOR(pg_catalog.=) drop_model.name;
END
$$;
-- Admin function: grant EXECUTE to model administrators (with DELETE on
-- clcm.model and clcm.transition and ownership of the stage type).
REVOKE ALL ON FUNCTION @extschema@.drop_model(text) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.drop_model(text) IS
	'drops a user-defined lifecycle model and its stage type (refused when in use)';

CREATE FUNCTION @extschema@.can_transition("from" anyelement, "to" anyelement) RETURNS boolean
	AS 'MODULE_PATHNAME', 'clcm_model_can_transition'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.can_transition(anyelement, anyelement) IS
	'true when the model of the stage type allows moving from the first stage to the second';

CREATE FUNCTION @extschema@.next_stages(stage anyelement) RETURNS SETOF anyelement
	AS 'MODULE_PATHNAME', 'clcm_model_next_stages'
	LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 8;
COMMENT ON FUNCTION @extschema@.next_stages(anyelement) IS
	'the stages the model allows after the given stage, in funnel order';
