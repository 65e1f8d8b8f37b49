--
-- harden_findings: one regression test per finding of the hardening
-- sweep (doc/reliability.md, "Findings"); each failed before its fix.
--
SET client_min_messages = warning;

-- harden-1: BG/BB loops over the opportunities n answer cancel, and an
-- absurd n is refused (the limit: CLCM_TEST_TIMEOUT under valgrind)
\getenv guard_timeout CLCM_TEST_TIMEOUT
\if :{?guard_timeout}
\else
\set guard_timeout 10s
\endif
SET statement_timeout = :'guard_timeout';
-- ERROR 22023 (before: minutes without answering a cancel)
SELECT clcm.bgbb_fit(2, 2, 1e9, 2, 2) FROM generate_series(1, 2);
SELECT clcm.btyd_loglik('bgbb(alpha=1.204,beta=0.75,gamma=0.657,delta=2.783)'::clcm.bgbb, 2, 2, 1e9);
SELECT clcm.churn_risk('bgbb(alpha=1.204,beta=0.75,gamma=0.657,delta=2.783)'::clcm.bgbb, 2, 2, 1e9);
SELECT clcm.p_purchases('bgbb(alpha=1.204,beta=0.75,gamma=0.657,delta=2.783)'::clcm.bgbb, 2, 1e308);
SELECT clcm.clv('bgbb(alpha=1.204,beta=0.75,gamma=0.657,delta=2.783)'::clcm.bgbb,
				'gamma_gamma(p=6.25,q=3.74,gamma=15.44)', 2, 2, 1e9, 2, 2, 2);
RESET statement_timeout;
-- ordinary n still works
SELECT round(clcm.btyd_loglik('bgbb(alpha=1.204,beta=0.75,gamma=0.657,delta=2.783)'::clcm.bgbb, 2, 3, 6)::numeric, 6) AS ll;

-- harden-3: a fit state of another model kind (22023, was XX000)
SELECT clcm.bgbb_fit_trans('bgnbd;penalizer=0.1;[1,2,3,4]'::clcm.btyd_fit_state, 2, 2, 2);
SELECT clcm.gamma_gamma_fit_trans('bgnbd;penalizer=0.1;[1,2,3,4]'::clcm.btyd_fit_state, 2, 2);
SELECT clcm.pareto_nbd_fit_final('bgnbd;penalizer=0;[1,2,3,4]'::clcm.btyd_fit_state);

-- harden-5: aggregate support functions called as plain functions
-- (were XX000; now they work as plain functions, NULL in, NULL out)
SELECT clcm.markov_accum(NULL, 'new'::clcm.lifecycle_stage, 'active'::clcm.lifecycle_stage);
SELECT clcm.markov_combine(NULL::clcm.markov, NULL::clcm.markov);
SELECT clcm.survival_sfunc(NULL, 1, true);
SELECT clcm.retention_matrix_add(NULL, NULL);

-- harden-6: refresh_stages on a relation that does not exist (42P01, was XX000)
SELECT clcm.refresh_stages(0, '2024-01-01');
CREATE TABLE harden_gone (id int);
SELECT 'harden_gone'::regclass::oid AS gone \gset
DROP TABLE harden_gone;
-- (the message names the OID, which varies: show the SQLSTATE only)
\set VERBOSITY sqlstate
SELECT clcm.refresh_stages(:gone, '2024-01-01');
\set VERBOSITY default

-- harden-7: huge counts in a survival curve (no signed overflow; 22P02)
SELECT '{1:9223372036854775807:9223372036854775807}'::clcm.survival_curve;

-- harden-8: last-activity counts that overflow their sum were accepted
-- (the sum wrapped around to the cohort size); 22P02 now
WITH m AS (
	SELECT clcm.retention(g % 20, timestamptz '2024-01-01 00:00+00' + g * interval '1 day 3 hours',
						  'month')::text AS t
	  FROM generate_series(1, 200) g)
SELECT regexp_replace(t, 'lastk=[0-9]+,[0-9]+,[0-9]+,',
					  'lastk=9223372036854775807,9223372036854775807,2,')::clcm.retention_matrix
  FROM m;

-- harden-9: subnormal numbers print and read back (dump/restore)
SELECT clcm.survival(1e-310, true)::text::clcm.survival_curve::text AS curve;
SELECT clcm.revenue_activity(timestamptz '2024-01-01 00:00+00', 1e-310, 'day')::text
		 ::clcm.retention_activity::text AS activity;
SELECT clcm.revenue_retention(1, timestamptz '2024-01-01 00:00+00', 1e-310, 'day')::text
		 ::clcm.retention_matrix::text AS matrix;
-- underflow to zero is still an error (as for float8)
SELECT '{1e-400:1:0}'::clcm.survival_curve;

-- harden-11: revenue sums that overflow are an error (22003), not Infinity
SELECT clcm.revenue_activity('2024-03-15 12:00+00', 1e308) FROM generate_series(1, 2);
SELECT clcm.revenue_retention(1, '2024-03-15 12:00+00', 1e308) FROM generate_series(1, 2);
SELECT clcm.retention_merge(m) FROM (
	SELECT clcm.revenue_retention(1, '2024-03-15 12:00+00', 1e308) AS m
	UNION ALL
	SELECT clcm.revenue_retention(2, '2024-03-15 12:00+00', 1e308)) s;
-- large finite sums are fine
SELECT clcm.revenue_activity('2024-03-15 12:00+00', 1e307)::text FROM generate_series(1, 2);

-- harden-12: a short matrix literal with huge dimensions is refused before
-- the matrix is allocated (22P02)
SELECT 'v1 period=week tz=UTC week_start=monday recurring=f revenue=t as_of=- end=5536448 first=1252 last=6420 complete=1283 size=6,6,2,0'::clcm.retention_matrix;
