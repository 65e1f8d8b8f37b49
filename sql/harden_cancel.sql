--
-- harden_cancel: long fits and scans answer statement_timeout (57014).
-- The fits run in clcm's final functions on stored 30000-row fit states
-- (seconds of optimizer work, all inside clcm's loops), the scans are
-- aggregates over tens of millions of generated rows.  Cancel latency is
-- measured by test/t/060_cancel.pl and recorded in doc/reliability.md.
--
SET client_min_messages = warning;
\set VERBOSITY sqlstate
CREATE TABLE harden_states AS
SELECT k, (k || substr(s, 6))::clcm.btyd_fit_state AS s
  FROM (SELECT 'bgnbd;penalizer=0;[' || string_agg(format('%s,%s,%s,1', f, r, t), ';') || ']' AS s
		  FROM (SELECT g % 20 AS f,
					   CASE WHEN g % 20 = 0 THEN 0 ELSE (g % 97) + (g % 20) * 0.25 + 0.5 END AS r,
					   200 + g % 53 AS t
				  FROM generate_series(1, 30000) g) x) y,
	   unnest(ARRAY['bgnbd', 'pareto_nbd', 'mbgnbd']) k;
SELECT k, length(s::text) > 300000 AS big FROM harden_states ORDER BY k;

SET statement_timeout = '200ms';
-- ERROR 57014 (each)
SELECT clcm.bgnbd_fit_final(s) IS NOT NULL FROM harden_states WHERE k = 'bgnbd';
SELECT clcm.mbgnbd_fit_final(s) IS NOT NULL FROM harden_states WHERE k = 'mbgnbd';
SELECT clcm.pareto_nbd_fit_final(s) IS NOT NULL FROM harden_states WHERE k = 'pareto_nbd';
SELECT clcm.retention(g % 100000, timestamptz '2020-01-01 00:00+00' + g * interval '1 second', 'day')
		 IS NOT NULL
  FROM generate_series(1, 50000000) g;
SELECT clcm.survival((g % 1000)::float8, g % 3 = 0) IS NOT NULL FROM generate_series(1, 50000000) g;
SELECT count(*) FROM (
	SELECT clcm.rfm_summary(timestamptz '2020-01-01 00:00+00' + g * interval '1 minute', 1.0,
							'2200-01-01 00:00+00')
	  FROM generate_series(1, 50000000) g GROUP BY g % 10) s;
RESET statement_timeout;
-- the session is fine afterwards, and the same fit without a timeout works
-- on a smaller state
SELECT clcm.bgnbd_fit_final('bgnbd;penalizer=0;[0,0,38,100;1,20,38,50;2,30,38,30;5,35,38,20]')
		 IS NOT NULL AS fit_ok;
DROP TABLE harden_states;
