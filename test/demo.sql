-- test/demo.sql: the `make demo` walk-through (run by test/harness.sh).
\set ON_ERROR_STOP 1
\pset footer off
CREATE EXTENSION IF NOT EXISTS clcm;
SELECT 'clcm ' || clcm.clcm_version() AS demo;
