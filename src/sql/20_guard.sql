
/* ------------------------------------------------------------------------
 * 20_guard.sql: the stage guard trigger and the stage history
 *
 * clcm.stage_history is append-only for every role but its owner: the
 * guard (src/stage.c) writes it as the table's owner, switching user only
 * around the write; ordinary roles may only read it.
 * ------------------------------------------------------------------------
 */

CREATE SEQUENCE @extschema@.stage_history_id_seq;
COMMENT ON SEQUENCE @extschema@.stage_history_id_seq IS
	'ids of clcm.stage_history rows (increasing)';

CREATE TABLE @extschema@.stage_history (
	id bigint NOT NULL
		DEFAULT pg_catalog.nextval('@extschema@.stage_history_id_seq'::regclass)
		PRIMARY KEY,
	table_name regclass NOT NULL,
	customer_key text NOT NULL,
	model text NOT NULL,
	from_stage text,
	to_stage text NOT NULL,
	changed_at timestamptz NOT NULL,
	xid xid8 NOT NULL,
	role name NOT NULL,
	reason text,
	override boolean NOT NULL DEFAULT false
);
ALTER SEQUENCE @extschema@.stage_history_id_seq OWNED BY @extschema@.stage_history.id;
-- No secondary index by default: a per-customer index gets one random
-- btree insertion per recorded change, the largest single cost of the
-- guard (doc/performance.md).  doc/clcm.md shows how to add one.

COMMENT ON TABLE @extschema@.stage_history IS
	'one row per stage change accepted by clcm.stage_guard (append-only)';
COMMENT ON COLUMN @extschema@.stage_history.id IS 'increasing id; orders one customer''s changes';
COMMENT ON COLUMN @extschema@.stage_history.table_name IS 'the guarded customer table';
COMMENT ON COLUMN @extschema@.stage_history.customer_key IS 'text output of the key column';
COMMENT ON COLUMN @extschema@.stage_history.model IS 'name of the lifecycle model';
COMMENT ON COLUMN @extschema@.stage_history.from_stage IS 'previous stage (NULL on insert)';
COMMENT ON COLUMN @extschema@.stage_history.to_stage IS 'new stage';
COMMENT ON COLUMN @extschema@.stage_history.changed_at IS 'transaction start time of the change';
COMMENT ON COLUMN @extschema@.stage_history.xid IS 'top-level transaction id of the change';
COMMENT ON COLUMN @extschema@.stage_history.role IS 'current_user at the time of the change';
COMMENT ON COLUMN @extschema@.stage_history.reason IS 'value of clcm.reason (NULL when unset or empty)';
COMMENT ON COLUMN @extschema@.stage_history.override IS 'accepted only because clcm.enforce was off';

-- Append-only for ordinary roles: readable by all, written by the guard.
REVOKE ALL ON @extschema@.stage_history FROM PUBLIC;
GRANT SELECT ON @extschema@.stage_history TO PUBLIC;
REVOKE ALL ON SEQUENCE @extschema@.stage_history_id_seq FROM PUBLIC;

-- The history belongs to the database's data: pg_dump keeps all of it.
SELECT pg_catalog.pg_extension_config_dump('@extschema@.stage_history', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.stage_history_id_seq', '');

CREATE FUNCTION @extschema@.stage_guard() RETURNS trigger
	AS 'MODULE_PATHNAME', 'clcm_stage_guard'
	LANGUAGE C VOLATILE PARALLEL UNSAFE;
-- Attaching the guard lets a table owner append history rows for that
-- table: grant EXECUTE to the owners of customer tables (application
-- schema owners).  Firing the trigger needs no grant.
REVOKE ALL ON FUNCTION @extschema@.stage_guard() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.stage_guard() IS
	'BEFORE INSERT OR UPDATE row trigger: validates stage transitions and records them in clcm.stage_history; arguments: stage column (default stage), key column (default id), optional timestamp column';
