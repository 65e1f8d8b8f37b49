/* clcm--0.1.0.sql: install script of clcm 0.1.0 */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION clcm" to load this file. \quit

/*
 * The install script is assembled from src/sql/NN_*.sql in name order.
 * Conventions (see ../STYLE): every object is written @extschema@.name,
 * SQL/PL bodies pin search_path = pg_catalog, pg_temp, every function
 * states volatility, strictness and PARALLEL, every object has a COMMENT.
 */

-- Objects are created non-public by default; grants below are deliberate.
REVOKE ALL ON SCHEMA @extschema@ FROM PUBLIC;
GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;

-- clcm_version(): the version of the loaded shared library
CREATE FUNCTION @extschema@.clcm_version() RETURNS text
	AS 'MODULE_PATHNAME', 'clcm_version'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.clcm_version() IS 'version of the clcm shared library';
