-- funnel_basic: funnel conversion, time in stage and the transition
-- matrix over clcm.stage_history, with hand-checked numbers.
\set SHOW_CONTEXT never
SET timezone = 'UTC';
CREATE TABLE fb_customers (id int PRIMARY KEY, stage clcm.b2b_stage);
-- synthetic history (written directly, as a superuser may): b2b stages
-- initial -> development -> mature -> terminated
--   c1: initial d0, development d10, mature d40, terminated d100
--   c2: initial d0, development d20, terminated d50
--   c3: initial d5, terminated d35
--   c4: initial d10 (still there)
--   c5: initial d0, development d30, mature d60, development d70, mature d90
INSERT INTO clcm.stage_history (table_name, customer_key, model, from_stage, to_stage,
                                changed_at, xid, role, reason)
SELECT 'fb_customers'::regclass, c, 'b2b', f, t,
       timestamptz '2024-01-01' + d * interval '1 day', '1'::xid8, current_user, 'test'
  FROM (VALUES ('1', NULL, 'initial', 0), ('1', 'initial', 'development', 10),
               ('1', 'development', 'mature', 40), ('1', 'mature', 'terminated', 100),
               ('2', NULL, 'initial', 0), ('2', 'initial', 'development', 20),
               ('2', 'development', 'terminated', 50),
               ('3', NULL, 'initial', 5), ('3', 'initial', 'terminated', 35),
               ('4', NULL, 'initial', 10),
               ('5', NULL, 'initial', 0), ('5', 'initial', 'development', 30),
               ('5', 'development', 'mature', 60), ('5', 'mature', 'development', 70),
               ('5', 'development', 'mature', 90)) v(c, f, t, d)
 ORDER BY d, c;

-- funnel: initial reached by 5, 3 went on to development (c1 d10, c2 d20,
-- c5 d30: median 20 days); development by 3, 2 to mature (c1 30 days,
-- c5 30 days); mature by 2, 1 to terminated (c1, 60 days)
SELECT "position", stage, next_stage, reached, converted, round(conversion::numeric, 4) AS conversion,
       median_time_to_next
  FROM clcm.funnel('b2b', customer_table => 'fb_customers');
-- as it stood on day 25 (2024-01-26): c1 in development, c2 in development,
-- c3, c4 and c5 in initial
SELECT "position", stage, reached, converted, round(conversion::numeric, 4) AS conversion
  FROM clcm.funnel('b2b', '2024-01-26', 'fb_customers');

-- time in stage: initial stays 10, 20, 30, 30 days completed (c1, c2, c3,
-- c5) and c4 open; development 30 (c1), 30 (c2), 30 (c5 d30-60), 20 (c5
-- d70-90); mature 60 (c1), 10 (c5), c5 open again; terminated 2 open
SELECT "position", stage, entries, exits, still_in, median, p90, mean
  FROM clcm.stage_dwell('b2b', customer_table => 'fb_customers');
-- as of day 45: c1 in mature since d40, c5 in development since d30
SELECT "position", stage, entries, exits, still_in, median
  FROM clcm.stage_dwell('b2b', '2024-02-15', 'fb_customers');

-- the transition matrix of the recorded changes; inserts (from NULL) are
-- not transitions
SELECT clcm.history_matrix('b2b', customer_table => 'fb_customers');
SELECT r, c, n, round(p::numeric, 4) AS p
  FROM clcm.markov_table(clcm.history_matrix('b2b', customer_table => 'fb_customers'))
 ORDER BY r, c;
-- only the changes up to day 30
SELECT clcm.history_matrix('b2b', NULL, '2024-01-31', 'fb_customers');
-- the same by hand with the aggregate
SELECT clcm.transition_matrix(from_stage::clcm.b2b_stage, to_stage::clcm.b2b_stage)
  FROM clcm.stage_history WHERE table_name = 'fb_customers'::regclass;
-- nothing recorded: NULL matrix, empty funnel counts
SELECT clcm.history_matrix('b2b', '2030-01-01') IS NULL AS no_changes;
SELECT stage, reached, converted, conversion FROM clcm.funnel('b2b', '2000-01-01');

-- unrecognized or NULL model
SELECT * FROM clcm.funnel('nosuch');
SELECT * FROM clcm.stage_dwell(NULL);
SELECT clcm.history_matrix('nosuch');

DELETE FROM clcm.stage_history WHERE table_name = 'fb_customers'::regclass;
DROP TABLE fb_customers;
