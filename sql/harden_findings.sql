--
-- harden_findings: one regression test per finding of the hardening
-- sweep (doc/reliability.md, "Findings"); each failed before its fix.
--
SET client_min_messages = warning;
\set VERBOSITY sqlstate

-- harden-1: BG/BB loops over the opportunities n answer cancel, and an
-- absurd n is refused
SET statement_timeout = '1s';
-- ERROR 22023 or 57014, never a hang
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
-- (0A000, was XX000)
SELECT clcm.markov_accum(NULL, 'new'::clcm.lifecycle_stage, 'active'::clcm.lifecycle_stage);
SELECT clcm.markov_combine(NULL::clcm.markov, NULL::clcm.markov);
SELECT clcm.survival_sfunc(NULL, 1, true);
SELECT clcm.retention_matrix_add(NULL, NULL);

-- harden-6: refresh_stages on a relation that does not exist (42P01, was XX000)
SELECT clcm.refresh_stages(0, '2024-01-01');
CREATE TABLE harden_gone (id int);
SELECT 'harden_gone'::regclass::oid AS gone \gset
DROP TABLE harden_gone;
SELECT clcm.refresh_stages(:gone, '2024-01-01');
\set VERBOSITY default
