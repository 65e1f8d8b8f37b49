-- markov_basic: the clcm.markov type, the transition_matrix aggregate and
-- the functions reading it (rows sum to 1, projection, Markov CLV).
CREATE TYPE markov_t AS ENUM ('a', 'b', 'c');
CREATE TABLE markov_moves (f markov_t, t markov_t);
-- a -> b: 3, a -> c: 1, b -> a: 1, b -> c: 1; c never left; one NULL pair
INSERT INTO markov_moves VALUES ('a','b'),('a','b'),('a','b'),('a','c'),
	('b','a'),('b','c'),(NULL,'a'),('a',NULL);
SELECT clcm.transition_matrix(f, t) FROM markov_moves;
SELECT clcm.markov_stages(clcm.transition_matrix(f, t)) FROM markov_moves;
SELECT r, c, n, round(p::numeric, 6) AS p
  FROM clcm.markov_table((SELECT clcm.transition_matrix(f, t) FROM markov_moves))
 ORDER BY r, c;
-- each row's probabilities sum to 1
SELECT r, sum(p) = 1 AS sums_to_one
  FROM clcm.markov_table((SELECT clcm.transition_matrix(f, t) FROM markov_moves))
 GROUP BY r ORDER BY r;
-- empty input gives NULL; all-NULL pairs too
SELECT clcm.transition_matrix(f, t) IS NULL AS empty_is_null FROM markov_moves WHERE false;
SELECT clcm.transition_matrix(f, t) IS NULL AS nulls_are_null FROM markov_moves WHERE f IS NULL;
-- grouped
SELECT f, clcm.transition_matrix(f, t) FROM markov_moves WHERE f IS NOT NULL GROUP BY f ORDER BY f;

-- text round trip, exact (also through the binary form)
SELECT m::text::clcm.markov::text = m::text AS text_round_trip
  FROM (SELECT clcm.transition_matrix(f, t) AS m FROM markov_moves) s;
SELECT '{ "stages" : [ "x\"y", "a\\b", "tab\u0009" ] , "counts":[[0,1,2],[3,4,5],[6,7,9223372036854775807]] }'::clcm.markov;
SELECT (('{"stages": ["x\"y"], "counts": [[5]]}'::clcm.markov)::text)::jsonb -> 'stages' ->> 0 AS json_label;
-- malformed literals
SELECT '{"stages": [], "counts": []}'::clcm.markov;
SELECT '{"stages": ["a", "a"], "counts": [[0,0],[0,0]]}'::clcm.markov;
SELECT '{"stages": ["a"], "counts": [[-1]]}'::clcm.markov;
SELECT '{"stages": ["a"], "counts": [[1, 2]]}'::clcm.markov;
SELECT '{"stages": ["a"], "counts": [[1]]} x'::clcm.markov;
SELECT '{"stages": ["a"], "counts": [[9223372036854775808]]}'::clcm.markov;
SELECT '{"stages": [""], "counts": [[1]]}'::clcm.markov;
SELECT '{"counts": [[1]], "stages": ["a"]}'::clcm.markov;
SELECT '{"stages": ["a], "counts": [[1]]}'::clcm.markov;
SELECT ''::clcm.markov;

-- merging: the + operator and markov_merge add counts over the same stages
SELECT clcm.markov_merge(m) IS NULL AS empty_merge_is_null FROM (SELECT NULL::clcm.markov AS m) s WHERE false;
SELECT clcm.markov_merge(m)::text
  FROM (SELECT clcm.transition_matrix(f, t) AS m FROM markov_moves GROUP BY f) s;
SELECT ('{"stages": ["a","b"], "counts": [[1,2],[3,4]]}'::clcm.markov
      OPERATOR(clcm.+) '{"stages": ["a","b"], "counts": [[10,20],[30,40]]}'::clcm.markov)::text;
-- different stages cannot be added
SELECT '{"stages": ["a","b"], "counts": [[1,2],[3,4]]}'::clcm.markov
     OPERATOR(clcm.+) '{"stages": ["b","a"], "counts": [[1,2],[3,4]]}'::clcm.markov;

-- projection, hand-computed 3-state example:
-- P = [[0, .75, .25], [.5, 0, .5], [0, 0, 1]] (c absorbing, never left)
-- start (1,0,0): step 1 = (0, .75, .25); step 2 = (.375, 0, .625);
-- step 3 = (0, .28125, .71875)
SELECT clcm.markov_project(m, ARRAY[1,0,0]::float8[], 0) AS s0,
       clcm.markov_project(m, ARRAY[1,0,0]::float8[], 1) AS s1,
       clcm.markov_project(m, ARRAY[1,0,0]::float8[], 2) AS s2,
       clcm.markov_project(m, ARRAY[1,0,0]::float8[], 3) AS s3,
       clcm.markov_project(m, ARRAY[100,40,0]::float8[], 1) AS counts1
  FROM (SELECT clcm.transition_matrix(f, t) AS m FROM markov_moves) s;
-- bad projection arguments
SELECT clcm.markov_project(m, ARRAY[1,0]::float8[], 1) FROM (SELECT clcm.transition_matrix(f, t) AS m FROM markov_moves) s;
SELECT clcm.markov_project(m, ARRAY[1,0,-1]::float8[], 1) FROM (SELECT clcm.transition_matrix(f, t) AS m FROM markov_moves) s;
SELECT clcm.markov_project(m, ARRAY[1,0,'NaN']::float8[], 1) FROM (SELECT clcm.transition_matrix(f, t) AS m FROM markov_moves) s;
SELECT clcm.markov_project(m, ARRAY[1,0,NULL]::float8[], 1) FROM (SELECT clcm.transition_matrix(f, t) AS m FROM markov_moves) s;
SELECT clcm.markov_project(m, ARRAY[1,0,0]::float8[], -1) FROM (SELECT clcm.transition_matrix(f, t) AS m FROM markov_moves) s;

-- Markov CLV (Pfeifer & Carraway 2000), margins R = (10, 5, 0), d = 0.1.
-- horizon 0: V = R; horizon 1: V = R + P R / 1.1
--   a: 10 + (.75*5 + .25*0)/1.1 = 13.409090..., b: 5 + (.5*10)/1.1 = 9.545454..., c: 0
-- infinite: solve (I - P/1.1) V = R:
--   V_a = 10 + (.75 V_b)/1.1, V_b = 5 + (.5 V_a)/1.1, V_c = 0
--   V_a = 10 + (.75/1.1)(5 + V_a/2.2) => V_a (1 - .75/2.42) = 10 + 3.75/1.1
--   V_a = 13.409090909/0.690082645 = 19.431137725, V_b = 5 + V_a/2.2 = 13.832335329
SELECT stage, round(clv::numeric, 6) AS clv
  FROM (SELECT clcm.transition_matrix(f, t) AS m FROM markov_moves) s,
       clcm.markov_clv(m, ARRAY[10,5,0]::float8[], 0.1, 0) ORDER BY stage;
SELECT stage, round(clv::numeric, 6) AS clv
  FROM (SELECT clcm.transition_matrix(f, t) AS m FROM markov_moves) s,
       clcm.markov_clv(m, ARRAY[10,5,0]::float8[], 0.1, 1) ORDER BY stage;
SELECT stage, round(clv::numeric, 6) AS clv
  FROM (SELECT clcm.transition_matrix(f, t) AS m FROM markov_moves) s,
       clcm.markov_clv(m, ARRAY[10,5,0]::float8[], 0.1) ORDER BY stage;
-- a long finite horizon converges to the infinite one
SELECT bool_and(abs(f.clv - i.clv) < 1e-9) AS converges
  FROM (SELECT clcm.transition_matrix(f, t) AS m FROM markov_moves) s,
       clcm.markov_clv(m, ARRAY[10,5,0]::float8[], 0.1, 2000) f
  JOIN clcm.markov_clv(m, ARRAY[10,5,0]::float8[], 0.1) i USING (stage);
-- bad CLV arguments
SELECT * FROM clcm.markov_clv('{"stages": ["a"], "counts": [[1]]}', ARRAY[1]::float8[], 0);
SELECT * FROM clcm.markov_clv('{"stages": ["a"], "counts": [[1]]}', ARRAY[1]::float8[], -0.1, 3);
SELECT * FROM clcm.markov_clv('{"stages": ["a"], "counts": [[1]]}', ARRAY[1]::float8[], 'Infinity', 3);
SELECT * FROM clcm.markov_clv('{"stages": ["a"], "counts": [[1]]}', ARRAY[1]::float8[], NULL, 3);
SELECT * FROM clcm.markov_clv('{"stages": ["a"], "counts": [[1]]}', ARRAY[1]::float8[], 0.1, -3);
SELECT * FROM clcm.markov_clv('{"stages": ["a"], "counts": [[1]]}', ARRAY[1,2]::float8[], 0.1);
-- with d = 0 a finite horizon is fine: an absorbing stage earns R each period
SELECT stage, clv FROM clcm.markov_clv('{"stages": ["a"], "counts": [[0]]}', ARRAY[2]::float8[], 0, 4);

-- parallel aggregation gives the same matrix
CREATE TABLE markov_big AS
	SELECT (ARRAY['a','b','c'])[1 + (i % 3)]::markov_t AS f,
	       (ARRAY['a','b','c'])[1 + ((i / 3 + i / 7) % 3)]::markov_t AS t
	  FROM generate_series(1, 30000) i;
ANALYZE markov_big;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT clcm.transition_matrix(f, t) FROM markov_big;
SELECT clcm.transition_matrix(f, t)::text AS par_m FROM markov_big \gset
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
SET max_parallel_workers_per_gather = 0;
SELECT :'par_m' = clcm.transition_matrix(f, t)::text AS same_as_serial,
       clcm.transition_matrix(f, t)
  FROM markov_big;
RESET max_parallel_workers_per_gather;
-- binary round trip through COPY
CREATE TEMP TABLE markov_par AS SELECT :'par_m'::clcm.markov AS m;
CREATE TEMP TABLE markov_copy (m clcm.markov);
SELECT '/tmp/clcm_markov_copy_' || pg_backend_pid() || '.bin' AS copy_file \gset
COPY markov_par TO :'copy_file' WITH (FORMAT binary);
COPY markov_copy FROM :'copy_file' WITH (FORMAT binary);
SELECT (SELECT m::text FROM markov_copy) = (SELECT m::text FROM markov_par) AS binary_round_trip;
DROP TABLE markov_big, markov_moves;
DROP TYPE markov_t;
-- the support functions called as plain functions (their state type is an
-- ordinary SQL type): they work on copies and never modify their input
CREATE TEMP TABLE markov_plain (m clcm.markov);
INSERT INTO markov_plain
  SELECT clcm.markov_accum(NULL, 'new'::clcm.lifecycle_stage, 'active'::clcm.lifecycle_stage);
SELECT t.r, t.c, t.n FROM markov_plain, clcm.markov_table(m) t WHERE t.n > 0;
SELECT t.r, t.c, t.n AS accum_twice
  FROM markov_plain,
       clcm.markov_table(clcm.markov_accum(m, 'new'::clcm.lifecycle_stage, 'considering')) t
 WHERE t.n > 0 ORDER BY t.r, t.c;
SELECT clcm.markov_accum(m, NULL::clcm.lifecycle_stage, 'active')::text = m::text AS null_pair_skipped
  FROM markov_plain;
SELECT t.r, t.c, t.n AS combined
  FROM markov_plain, clcm.markov_table(clcm.markov_combine(m, m)) t WHERE t.n > 0;
SELECT t.r, t.c, t.n AS unchanged FROM markov_plain, clcm.markov_table(m) t WHERE t.n > 0;
SELECT clcm.markov_combine(NULL::clcm.markov, m)::text = m::text AS combine_null_first,
       clcm.markov_combine(m, NULL)::text = m::text AS combine_null_second
  FROM markov_plain;
SELECT clcm.markov_combine(NULL::clcm.markov, NULL::clcm.markov) IS NULL AS combine_nulls,
       clcm.markov_accum(NULL, NULL::clcm.lifecycle_stage, NULL::clcm.lifecycle_stage) IS NULL AS accum_nulls;
-- a matrix over other stages: 22023
SELECT clcm.markov_accum(m, 'lead'::clcm.insurance_stage, 'quoted'::clcm.insurance_stage)
  FROM markov_plain;
SELECT clcm.markov_combine(m, clcm.markov_accum(NULL, 'lead'::clcm.insurance_stage, 'quoted'::clcm.insurance_stage))
  FROM markov_plain;
DROP TABLE markov_plain;
