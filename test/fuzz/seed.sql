-- test/fuzz/seed.sql: the database `make fuzz` lets sqlsmith loose on:
-- clcm installed, and small tables whose columns have clcm's types, so the
-- generated queries call clcm's functions and aggregates on real values.
-- Statements are logged so the run can count how many reached clcm.
CREATE EXTENSION clcm;
ALTER SYSTEM SET log_min_error_statement = 'panic';
ALTER SYSTEM SET log_statement = 'all';
SELECT pg_reload_conf();
