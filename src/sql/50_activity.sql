
/* ------------------------------------------------------------------------
 * 50_activity.sql: stages that follow behaviour
 *
 * clcm.activity_facts holds running per-customer facts (first and last
 * activity, purchase count, revenue), written only by the
 * clcm.track_activity trigger (src/activity.c) as the table's owner.
 * clcm.stage_rule holds the rules that move a customer's stage: on
 * activity, at a purchase count, at a revenue, after inactivity or after a
 * tenure.  clcm.refresh_stages applies the time rules in bulk.
 * ------------------------------------------------------------------------
 */

CREATE TABLE @extschema@.activity_facts (
	table_name regclass NOT NULL,
	customer_key text NOT NULL,
	first_at timestamptz NOT NULL,
	last_at timestamptz NOT NULL,
	purchases bigint NOT NULL DEFAULT 0,
	revenue numeric NOT NULL DEFAULT 0,
	PRIMARY KEY (table_name, customer_key)
) WITH (fillfactor = 80);	-- room for HOT updates: every event updates a row
COMMENT ON TABLE @extschema@.activity_facts IS
	'running per-customer activity facts kept by clcm.track_activity (read-only for ordinary roles)';
COMMENT ON COLUMN @extschema@.activity_facts.table_name IS 'the customer table';
COMMENT ON COLUMN @extschema@.activity_facts.customer_key IS 'text output of the customer table''s key column';
COMMENT ON COLUMN @extschema@.activity_facts.first_at IS 'earliest event timestamp seen';
COMMENT ON COLUMN @extschema@.activity_facts.last_at IS 'latest event timestamp seen';
COMMENT ON COLUMN @extschema@.activity_facts.purchases IS 'number of events (orders) seen';
COMMENT ON COLUMN @extschema@.activity_facts.revenue IS 'sum of the events'' amounts (NULL amounts count as 0)';

-- Written by the trigger (as the owner of this table), read by everyone.
REVOKE ALL ON @extschema@.activity_facts FROM PUBLIC;
GRANT SELECT ON @extschema@.activity_facts TO PUBLIC;
-- Facts are data: pg_dump keeps all rows.
SELECT pg_catalog.pg_extension_config_dump('@extschema@.activity_facts', '');

CREATE TABLE @extschema@.stage_rule (
	model text NOT NULL REFERENCES @extschema@.model(name) ON DELETE CASCADE,
	from_stage text NOT NULL,
	to_stage text NOT NULL,
	condition text NOT NULL
		CONSTRAINT stage_rule_condition_check
		CHECK (condition OPERATOR(pg_catalog.=) ANY
			   (ARRAY['activity', 'purchases', 'revenue', 'inactivity', 'tenure']::text[])),
	threshold numeric,
	period interval,
	priority integer NOT NULL DEFAULT 100,
	enabled boolean NOT NULL DEFAULT true,
	shipped boolean NOT NULL DEFAULT false,
	PRIMARY KEY (model, from_stage, to_stage, condition, shipped)
);
COMMENT ON TABLE @extschema@.stage_rule IS
	'rules that move a customer''s stage: for a model, from a stage (or *), to a stage, when a condition holds';
COMMENT ON COLUMN @extschema@.stage_rule.from_stage IS 'stage the rule applies to, or * for any stage';
COMMENT ON COLUMN @extschema@.stage_rule.condition IS
	'activity (any new event), purchases (count >= threshold), revenue (sum >= threshold), inactivity (no event for period), tenure (first event at least period ago)';
COMMENT ON COLUMN @extschema@.stage_rule.threshold IS 'for purchases (an integer >= 1) and revenue (>= 0)';
COMMENT ON COLUMN @extschema@.stage_rule.period IS 'for inactivity and tenure (> 0)';
COMMENT ON COLUMN @extschema@.stage_rule.priority IS 'when several rules fire, the lowest priority wins';
COMMENT ON COLUMN @extschema@.stage_rule.enabled IS 'false turns the rule off';
COMMENT ON COLUMN @extschema@.stage_rule.shipped IS
	'rule created by CREATE EXTENSION (not dumped by pg_dump); a user rule (shipped = false) with the same model, stages and condition replaces it';

-- Rules are configuration: readable by everyone, changed by the extension
-- owner (grant INSERT, UPDATE, DELETE to a rules administrator if needed).
REVOKE ALL ON @extschema@.stage_rule FROM PUBLIC;
GRANT SELECT ON @extschema@.stage_rule TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.stage_rule', 'WHERE NOT shipped');

-- The rules in force: enabled rules, where a user rule replaces the
-- shipped rule with the same model, stages and condition.  (Changing a
-- shipped row in place would not survive pg_dump; insert a user row.)
CREATE VIEW @extschema@.stage_rule_effective AS
SELECT r.model, r.from_stage, r.to_stage, r.condition, r.threshold, r.period,
	   r.priority, r.shipped
  FROM @extschema@.stage_rule r
 WHERE r.enabled
   AND NOT (r.shipped
			AND EXISTS (SELECT 1 FROM @extschema@.stage_rule u
						 WHERE NOT u.shipped
						   AND u.model OPERATOR(pg_catalog.=) r.model
						   AND u.from_stage OPERATOR(pg_catalog.=) r.from_stage
						   AND u.to_stage OPERATOR(pg_catalog.=) r.to_stage
						   AND u.condition OPERATOR(pg_catalog.=) r.condition));
COMMENT ON VIEW @extschema@.stage_rule_effective IS
	'the stage rules in force: enabled, user rules replacing shipped ones with the same model, stages and condition';
REVOKE ALL ON @extschema@.stage_rule_effective FROM PUBLIC;
GRANT SELECT ON @extschema@.stage_rule_effective TO PUBLIC;

/*
 * Validates a rule against its model: known stages (22023), a transition
 * the model allows (23514, constraint clcm_stage_rule_transition), and a
 * threshold or period that fits the condition (22023).
 */
CREATE FUNCTION @extschema@.stage_rule_check() RETURNS trigger
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	model_stages text[];
BEGIN
	IF NOT (NEW.condition OPERATOR(pg_catalog.=) ANY
			(ARRAY['activity', 'purchases', 'revenue', 'inactivity', 'tenure']::text[])) THEN
		RAISE EXCEPTION 'unrecognized rule condition "%"', NEW.condition
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'The conditions are activity, purchases, revenue, inactivity and tenure.';
	END IF;
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
	IF NEW.from_stage OPERATOR(pg_catalog.=) NEW.to_stage THEN
		RAISE EXCEPTION 'a rule cannot move stage "%" to itself', NEW.to_stage
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM @extschema@.transition t
					WHERE t.model OPERATOR(pg_catalog.=) NEW.model
					  AND t.to_stage OPERATOR(pg_catalog.=) NEW.to_stage
					  AND (t.from_stage OPERATOR(pg_catalog.=) NEW.from_stage
						   OR t.from_stage OPERATOR(pg_catalog.=) '*'
						   OR NEW.from_stage OPERATOR(pg_catalog.=) '*')) THEN
		RAISE EXCEPTION 'model "%" does not allow the transition from "%" to "%"',
			NEW.model, NEW.from_stage, NEW.to_stage
			USING ERRCODE = 'check_violation',
				  CONSTRAINT = 'clcm_stage_rule_transition',
				  HINT = 'Rules can only make moves that the model''s transitions allow; see clcm.transition.';
	END IF;
	IF NEW.condition OPERATOR(pg_catalog.=) 'activity' THEN
		IF NEW.threshold IS NOT NULL OR NEW.period IS NOT NULL THEN
			RAISE EXCEPTION 'rule condition "activity" takes neither threshold nor period'
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
	ELSIF NEW.condition OPERATOR(pg_catalog.=) 'purchases'
		  OR NEW.condition OPERATOR(pg_catalog.=) 'revenue' THEN
		IF NEW.threshold IS NULL OR NEW.period IS NOT NULL THEN
			RAISE EXCEPTION 'rule condition "%" needs a threshold and no period', NEW.condition
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		IF NEW.threshold OPERATOR(pg_catalog.=) 'NaN'::numeric
		   OR NEW.threshold OPERATOR(pg_catalog.=) 'Infinity'::numeric
		   OR NEW.threshold OPERATOR(pg_catalog.<) 0::numeric THEN
			RAISE EXCEPTION 'threshold of rule condition "%" must be a finite number greater than or equal to 0, not %',
				NEW.condition, NEW.threshold
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		IF NEW.condition OPERATOR(pg_catalog.=) 'purchases'
		   AND (NEW.threshold OPERATOR(pg_catalog.<) 1::numeric
				OR NEW.threshold OPERATOR(pg_catalog.<>) pg_catalog.trunc(NEW.threshold)) THEN
			RAISE EXCEPTION 'threshold of rule condition "purchases" must be an integer greater than or equal to 1, not %',
				NEW.threshold
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
	ELSE
		IF NEW.period IS NULL OR NEW.threshold IS NOT NULL THEN
			RAISE EXCEPTION 'rule condition "%" needs a period and no threshold', NEW.condition
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		IF NEW.period OPERATOR(pg_catalog.<=) '0'::interval THEN
			RAISE EXCEPTION 'period of rule condition "%" must be greater than 0, not %',
				NEW.condition, NEW.period
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
	END IF;
	RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.stage_rule_check() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.stage_rule_check() IS
	'trigger on clcm.stage_rule: known stages, a transition the model allows, a fitting threshold or period';

CREATE TRIGGER stage_rule_check
	BEFORE INSERT OR UPDATE ON @extschema@.stage_rule
	FOR EACH ROW EXECUTE FUNCTION @extschema@.stage_rule_check();
COMMENT ON TRIGGER stage_rule_check ON @extschema@.stage_rule IS
	'validates rules against their model';

-- track_activity caches the rules per backend; a relcache invalidation of
-- clcm.stage_rule (sent by this trigger) drops the cache everywhere.
CREATE TRIGGER stage_rule_cache_invalidate
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.stage_rule
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.model_cache_invalidate();
COMMENT ON TRIGGER stage_rule_cache_invalidate ON @extschema@.stage_rule IS
	'drops the rule cache of clcm.track_activity in every session';

-- --------------------------------------------------------- shipped rules
-- Lower priority wins.  Event rules (activity, purchases, revenue, tenure)
-- run in track_activity; time rules (inactivity, tenure) in refresh_stages.
INSERT INTO @extschema@.stage_rule
	(model, from_stage, to_stage, condition, threshold, period, priority, shipped)
SELECT r.model, r.f, r.t, r.c, r.th, r.pe, r.pr, true
  FROM (VALUES
	-- lifecycle: first purchase -> new, second -> active, fifth or a
	-- revenue of 1000 -> loyal; 90 quiet days -> at_risk, 180 -> churned;
	-- activity while at_risk -> active, while churned -> won_back
	('lifecycle', 'prospect', 'new', 'purchases', 1::numeric, NULL::interval, 10),
	('lifecycle', 'considering', 'new', 'purchases', 1, NULL, 10),
	('lifecycle', 'new', 'loyal', 'revenue', 1000, NULL, 10),
	('lifecycle', 'new', 'active', 'purchases', 2, NULL, 20),
	('lifecycle', 'active', 'loyal', 'purchases', 5, NULL, 10),
	('lifecycle', 'active', 'loyal', 'revenue', 1000, NULL, 10),
	('lifecycle', 'won_back', 'loyal', 'revenue', 1000, NULL, 10),
	('lifecycle', 'at_risk', 'active', 'activity', NULL, NULL, 10),
	('lifecycle', 'churned', 'won_back', 'activity', NULL, NULL, 10),
	('lifecycle', 'won_back', 'active', 'activity', NULL, NULL, 20),
	('lifecycle', 'new', 'at_risk', 'inactivity', NULL, '90 days', 50),
	('lifecycle', 'active', 'at_risk', 'inactivity', NULL, '90 days', 50),
	('lifecycle', 'loyal', 'at_risk', 'inactivity', NULL, '90 days', 50),
	('lifecycle', 'won_back', 'at_risk', 'inactivity', NULL, '90 days', 50),
	('lifecycle', 'at_risk', 'churned', 'inactivity', NULL, '180 days', 40),
	-- insurance (events are premium payments; lead -> quoted is a sales
	-- step made by hand): the first payment makes a policyholder;
	-- 335 days without a payment -> renewal_due; a payment -> renewed;
	-- 395 days without one (a 30-day grace period) -> lapsed; a payment
	-- after lapsing -> won_back
	('insurance', 'quoted', 'policyholder', 'purchases', 1, NULL, 10),
	('insurance', 'lapsed', 'won_back', 'activity', NULL, NULL, 10),
	('insurance', 'renewal_due', 'renewed', 'activity', NULL, NULL, 10),
	('insurance', 'policyholder', 'renewal_due', 'inactivity', NULL, '335 days', 50),
	('insurance', 'renewed', 'renewal_due', 'inactivity', NULL, '335 days', 50),
	('insurance', 'won_back', 'renewal_due', 'inactivity', NULL, '335 days', 50),
	('insurance', 'renewal_due', 'lapsed', 'inactivity', NULL, '395 days', 40),
	-- b2b: a second order -> development; a year of relationship ->
	-- mature; a year without orders -> terminated; a new order after
	-- termination -> initial again
	('b2b', 'initial', 'development', 'purchases', 2, NULL, 10),
	('b2b', 'development', 'mature', 'tenure', NULL, '365 days', 20),
	('b2b', 'terminated', 'initial', 'activity', NULL, NULL, 10),
	('b2b', 'initial', 'terminated', 'inactivity', NULL, '365 days', 5),
	('b2b', 'development', 'terminated', 'inactivity', NULL, '365 days', 5),
	('b2b', 'mature', 'terminated', 'inactivity', NULL, '365 days', 5)
	) r(model, f, t, c, th, pe, pr);

-- ----------------------------------------------------- trigger and refresh

CREATE FUNCTION @extschema@.track_activity() RETURNS trigger
	AS 'MODULE_PATHNAME', 'clcm_activity_track'
	LANGUAGE C VOLATILE PARALLEL UNSAFE;
-- Attaching the trigger lets a table owner write activity facts for a
-- customer table: grant EXECUTE to the owners of orders/events tables.
-- Firing the trigger needs no grant.
REVOKE ALL ON FUNCTION @extschema@.track_activity() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.track_activity() IS
	'AFTER INSERT trigger on an orders/events table (row level, or statement level with REFERENCING NEW TABLE): keeps clcm.activity_facts and moves customer stages by clcm.stage_rule; arguments: customer table, its key column, event customer column, timestamp column, optional amount column, optional stage column (default stage)';

CREATE FUNCTION @extschema@.refresh_stages(customer_table regclass,
	as_of timestamptz DEFAULT pg_catalog.now())
	RETURNS bigint
	AS 'MODULE_PATHNAME', 'clcm_activity_refresh'
	LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
-- Runs with the caller's privileges (UPDATE on the customer table); grant
-- EXECUTE to the role that runs the nightly job.
REVOKE ALL ON FUNCTION @extschema@.refresh_stages(regclass, timestamptz) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.refresh_stages(regclass, timestamptz) IS
	'applies the time rules (inactivity, tenure) of clcm.stage_rule to every customer of a guarded table as of a time, repeating until no rule fires; returns the number of customers moved';
