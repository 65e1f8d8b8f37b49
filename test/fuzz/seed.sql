-- test/fuzz/seed.sql: the database `make fuzz` lets sqlsmith loose on:
-- clcm installed, and small tables whose columns have clcm's types (and the
-- plain types clcm's functions take) filled with realistic values, so the
-- generated queries call clcm's functions and aggregates on real values.
-- Statements are logged so the run can count how many reached clcm; each
-- statement gets 2 s (a generated query that runs away is cancelled, and
-- an ignored cancel shows up as a stuck run).
CREATE EXTENSION clcm;
ALTER SYSTEM SET log_min_error_statement = 'panic';
ALTER SYSTEM SET log_statement = 'all';
ALTER DATABASE postgres SET statement_timeout = '2s';
SELECT pg_reload_conf();

-- customers in every shipped stage type, guarded, with history
CREATE TABLE customers (id bigint PRIMARY KEY, stage clcm.lifecycle_stage,
						b2b clcm.b2b_stage, ins clcm.insurance_stage,
						since timestamptz, email text);
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON customers
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'id', 'since');
INSERT INTO customers (id, stage, b2b, ins, email)
SELECT g, (enum_range(NULL::clcm.lifecycle_stage))[1 + g % 8],
	   (enum_range(NULL::clcm.b2b_stage))[1 + g % 4],
	   (enum_range(NULL::clcm.insurance_stage))[1 + g % 7],
	   'c' || g || '@example.com'
  FROM generate_series(1, 200) g;
UPDATE customers SET stage = 'at_risk' WHERE stage IN ('active', 'loyal', 'new');
UPDATE customers SET stage = 'churned' WHERE id % 3 = 0 AND stage = 'at_risk';

-- orders with activity tracking
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint, customer_uuid uuid,
					 customer_text text, ordered_at timestamptz, amount numeric,
					 amount_f float8);
CREATE TRIGGER activity AFTER INSERT ON orders
	FOR EACH ROW EXECUTE FUNCTION clcm.track_activity('customers', 'id', 'customer_id',
													  'ordered_at', 'amount');
INSERT INTO orders (customer_id, customer_uuid, customer_text, ordered_at, amount, amount_f)
SELECT 1 + (g * 7919) % 200, md5((1 + (g * 7919) % 200)::text)::uuid, 'c' || (1 + (g * 7919) % 200),
	   timestamptz '2023-01-01 00:00+00' + (g * 37 % 700) * interval '1 day' + g * interval '1 minute',
	   round((5 + (g * 31 % 200))::numeric / 3, 2), (5 + (g * 31 % 200)) / 3.0
  FROM generate_series(1, 2000) g;

-- per-customer summaries (frequency, recency, T, monetary, opportunities)
CREATE TABLE summary AS
SELECT customer_id AS id, (s).frequency::float8 AS frequency, (s).recency::float8 AS recency,
	   (s).t::float8 AS t, coalesce((s).monetary, 0)::float8 AS monetary,
	   10::float8 AS n, least((s).frequency, 10)::float8 AS x, least((s).frequency, 10)::float8 AS tx
  FROM (SELECT customer_id, clcm.rfm_summary(ordered_at, amount, '2025-01-01 00:00+00', 'week') AS s
		  FROM orders GROUP BY customer_id) q;

-- one value of every clcm type
CREATE TABLE models (name text, bgnbd clcm.bgnbd, pareto clcm.pareto_nbd, mbgnbd clcm.mbgnbd,
					 bgbb clcm.bgbb, gg clcm.gamma_gamma, fit_state clcm.btyd_fit_state);
INSERT INTO models VALUES
	('cdnow', 'bgnbd(r=0.243,alpha=4.414,a=0.793,b=2.426)',
	 'pareto_nbd(r=0.553,alpha=10.578,s=0.606,beta=11.669)',
	 'mbgnbd(r=0.525,alpha=6.183,a=0.891,b=1.614)',
	 'bgbb(alpha=1.204,beta=0.75,gamma=0.657,delta=2.783)',
	 'gamma_gamma(p=6.25,q=3.74,gamma=15.44)',
	 'bgnbd;penalizer=0;[0,0,38,100;1,20,38,50;2,30,38,30;5,35,38,20]');
CREATE TABLE curves AS
SELECT 'tenure'::text AS name, clcm.survival(t, frequency > 0) AS curve FROM summary;
CREATE TABLE cohorts AS
SELECT 'monthly'::text AS name, clcm.retention(customer_id, ordered_at, 'month') AS matrix,
	   clcm.revenue_retention(customer_id, ordered_at, amount_f, 'quarter') AS revenue_matrix
  FROM orders;
CREATE TABLE activities AS
SELECT customer_id, clcm.retention_activity(ordered_at, 'week') AS activity,
	   clcm.revenue_activity(ordered_at, amount_f, 'month') AS revenue_activity
  FROM orders GROUP BY customer_id;
CREATE TABLE rfm AS
SELECT customer_id, clcm.rfm_summary(ordered_at, amount, '2025-01-01 00:00+00') AS summary
  FROM orders GROUP BY customer_id;
CREATE TABLE transitions AS
SELECT clcm.transition_matrix(from_stage::clcm.lifecycle_stage, to_stage::clcm.lifecycle_stage) AS matrix,
	   ARRAY[0.5, 0.5, 0, 0, 0, 0, 0, 0]::float8[] AS start,
	   ARRAY[0, 0, 10, 20, 30, 5, 0, 10]::float8[] AS margin
  FROM clcm.stage_history WHERE from_stage IS NOT NULL AND model = 'lifecycle';
CREATE TABLE options AS
SELECT clcm.retention_options(tz => 'Europe/Berlin', week_start => 'sunday') AS opts, 'month'::text AS period;
ANALYZE;
