-- retention_combine: the combine paths of the one-call retention state,
-- made deterministic with partitionwise aggregation: each partition's
-- partial state is serialized, deserialized and combined in partition
-- order, all in one backend.  Compact states (bigint ids, head counts,
-- more than 16,384 customers, periods within 64) are sent and merged in
-- their 16-byte form when the periods of both fit one window of 64;
-- otherwise both turn into the general form.  Every matrix must equal the
-- same aggregate without partial aggregation, and the text-id state.
SET DateStyle = 'ISO, YMD';
SET max_parallel_workers_per_gather = 0;
CREATE TABLE cmb (id bigint, ts timestamptz, part int) PARTITION BY LIST (part);
-- no autovacuum: an ANALYZE between a fill and its check would change
-- the estimates, and with them whether the plan aggregates partitionwise
CREATE TABLE cmb_1 PARTITION OF cmb FOR VALUES IN (1) WITH (autovacuum_enabled = off);
CREATE TABLE cmb_2 PARTITION OF cmb FOR VALUES IN (2) WITH (autovacuum_enabled = off);
CREATE TABLE cmb_3 PARTITION OF cmb FOR VALUES IN (3) WITH (autovacuum_enabled = off);
-- n customers from id first, 3 rows each, in the 12 months from start
CREATE FUNCTION cmb_fill(p int, first bigint, n int, start timestamptz) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO cmb
  SELECT first + (i % n), start + ((hashint8(i) & 65535) % 365) * interval '1 day', p
    FROM generate_series(0::bigint, 3 * n - 1) AS i $$;
-- the matrix with partial aggregation (partitionwise) and without, and
-- the text-id matrix, which never is compact; the DEBUG messages show the
-- forms the states take
CREATE FUNCTION cmb_check(OUT partial_equals_plain bool, OUT partial_equals_text bool)
LANGUAGE plpgsql AS $$
DECLARE
  partial text;
BEGIN
  SET LOCAL client_min_messages = debug2;
  SET LOCAL enable_partitionwise_aggregate = on;
  partial := (SELECT clcm.retention(id, ts, 'month') FROM cmb)::text;
  SET LOCAL enable_partitionwise_aggregate = off;
  partial_equals_plain := partial = (SELECT clcm.retention(id, ts, 'month') FROM cmb)::text;
  partial_equals_text := partial = (SELECT clcm.retention(id::text, ts, 'month') FROM cmb)::text;
END $$;
SET enable_partitionwise_aggregate = on;
EXPLAIN (COSTS OFF) SELECT clcm.retention(id, ts, 'month') FROM cmb;
RESET enable_partitionwise_aggregate;

-- two compact states in one window, half of the customers in both
SELECT cmb_fill(1, 0, 20000, '2022-01-01 00:00+00'), cmb_fill(2, 10000, 20000, '2022-03-01 00:00+00');
SELECT * FROM cmb_check();
SELECT count(*) AS customers FROM (SELECT DISTINCT id FROM cmb) s;

-- the second state's periods (2025-2026) lie after the first's window:
-- the merged window moves to start at the first period (2022-01)
TRUNCATE cmb;
SELECT cmb_fill(1, 0, 20000, '2022-01-01 00:00+00'), cmb_fill(2, 5000, 20000, '2025-06-01 00:00+00');
SELECT * FROM cmb_check();

-- three states, the third before the merged window; all within 64
-- months (2021-06 to 2026-05): the window moves back to 2021-06
SELECT cmb_fill(3, 15000, 17000, '2021-06-01 00:00+00');
SELECT * FROM cmb_check();

-- 2020 and 2026: more than 64 months apart, merged in the general form
TRUNCATE cmb;
SELECT cmb_fill(1, 0, 20000, '2020-01-01 00:00+00'), cmb_fill(2, 0, 20000, '2026-01-01 00:00+00');
SELECT * FROM cmb_check();

-- a compact state, then a small (general) one: the compact one turns
-- general; and a small one first, then a compact one
TRUNCATE cmb;
SELECT cmb_fill(1, 0, 20000, '2022-01-01 00:00+00'), cmb_fill(2, 7, 100, '2022-06-01 00:00+00');
SELECT * FROM cmb_check();
TRUNCATE cmb;
SELECT cmb_fill(1, 7, 100, '2022-06-01 00:00+00'), cmb_fill(2, 0, 20000, '2022-01-01 00:00+00');
SELECT * FROM cmb_check();

-- the first state becomes the combined state itself (no DEBUG line for
-- the first merge above); an empty partition's state is NULL and skipped;
-- a state of rows without ids has no customer, and a compact state is
-- merged into it (into an empty state)
TRUNCATE cmb;
INSERT INTO cmb SELECT NULL, '2022-01-01 00:00+00', 1 FROM generate_series(1, 10);
SELECT cmb_fill(2, 0, 20000, '2022-01-01 00:00+00');
SELECT * FROM cmb_check();

DROP TABLE cmb;
DROP FUNCTION cmb_fill(int, bigint, int, timestamptz);
DROP FUNCTION cmb_check();
