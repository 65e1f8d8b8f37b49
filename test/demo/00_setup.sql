-- test/demo/00_setup.sql: first step of `make demo` (test/harness.sh runs
-- test/demo/*.sql in name order, each in its own psql session).
\pset footer off
\echo
\echo '=== clcm demo ==='
CREATE EXTENSION IF NOT EXISTS clcm;
SELECT 'clcm ' || clcm.clcm_version() AS "installed";
