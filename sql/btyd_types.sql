-- btyd_types: text and binary I/O of the five model types and of the
-- fitting state, clcm.params().
-- round trip: output -> input -> output is the identity, at full precision
SELECT v::text AS value, (v::text::clcm.bgnbd)::text = v::text AS round_trip
  FROM (VALUES ('bgnbd(r=0.2426,alpha=4.4136,a=0.7929,b=2.4259,ll=-9582.43,n=2357)'::clcm.bgnbd),
               ('  bgnbd ( b = 2.4259 , a=0.7929,alpha=4.4136, r=0.2426 )'),
               ('bgnbd(r=0.1,alpha=1e-300,a=1.7976931348623157e308,b=5e-324,converged=false,iterations=7)'),
               ('bgnbd(r=0.30000000000000004,alpha=1,a=2,b=3,ll=0,n=0,converged=true,iterations=0)')) AS t(v)
 ORDER BY 1;
SELECT 'pareto_nbd(r=0.5533,alpha=10.5776,s=0.6061,beta=11.6679)'::clcm.pareto_nbd,
       'mbgnbd(r=0.5248,alpha=6.183,a=0.8914,b=1.614)'::clcm.mbgnbd;
SELECT 'bgbb(alpha=1.204,beta=0.75,gamma=0.657,delta=2.783,ll=-33225.58,n=11104)'::clcm.bgbb,
       'gamma_gamma(p=6.25,q=3.74,gamma=15.44)'::clcm.gamma_gamma;
-- every float8 survives the trip (shortest exact digits)
SELECT setseed(0.42);
SELECT count(*) AS exact_round_trips
  FROM (SELECT ('bgnbd(r=' || x || ',alpha=' || 1 / x || ',a=' || x * x || ',b=' || sqrt(x) || ')')::clcm.bgnbd AS m,
               x
          FROM (SELECT random() * 10 ^ (i % 40 - 20) AS x FROM generate_series(1, 1000) i) s
         WHERE x > 0) t
 WHERE (clcm.params(m)->>'r')::float8 = x
   AND (clcm.params(m)->>'alpha')::float8 = 1 / x
   AND m::text::clcm.bgnbd::text = m::text;
-- params(): parameter names plus ll, n, converged, iterations (null when absent)
SELECT clcm.params('bgnbd(r=0.2426,alpha=4.4136,a=0.7929,b=2.4259,ll=-9582.43,n=2357,converged=true,iterations=22)'::clcm.bgnbd);
SELECT clcm.params('pareto_nbd(r=1,alpha=2,s=3,beta=4)'::clcm.pareto_nbd);
SELECT clcm.params('mbgnbd(r=1,alpha=2,a=3,b=4,converged=false)'::clcm.mbgnbd);
SELECT clcm.params('bgbb(alpha=1,beta=2,gamma=3,delta=4,n=11104)'::clcm.bgbb);
SELECT clcm.params('gamma_gamma(p=1,q=2,gamma=3,ll=-1.5)'::clcm.gamma_gamma);
-- binary COPY round trip of all five types
CREATE TABLE btyd_models (b clcm.bgnbd, p clcm.pareto_nbd, m clcm.mbgnbd, bb clcm.bgbb, g clcm.gamma_gamma);
INSERT INTO btyd_models VALUES
  ('bgnbd(r=0.2426,alpha=4.4136,a=0.7929,b=2.4259,ll=-9582.43,n=2357,converged=true,iterations=22)',
   'pareto_nbd(r=0.5533,alpha=10.5776,s=0.6061,beta=11.6679)',
   'mbgnbd(r=0.5248,alpha=6.183,a=0.8914,b=1.614,converged=false)',
   'bgbb(alpha=1.204,beta=0.75,gamma=0.657,delta=2.783,n=11104.5)',
   'gamma_gamma(p=6.25,q=3.74,gamma=15.44,iterations=3)');
\copy btyd_models TO 'results/btyd_models.bin' (FORMAT binary)
CREATE TABLE btyd_models2 (LIKE btyd_models);
\copy btyd_models2 FROM 'results/btyd_models.bin' (FORMAT binary)
SELECT a.b::text = c.b::text AND a.p::text = c.p::text AND a.m::text = c.m::text
       AND a.bb::text = c.bb::text AND a.g::text = c.g::text AS binary_round_trip
  FROM btyd_models a, btyd_models2 c;
SELECT * FROM btyd_models2;
-- a binary value of one type cannot be read as another
\copy (SELECT b FROM btyd_models) TO 'results/btyd_bgnbd.bin' (FORMAT binary)
CREATE TABLE btyd_wrong (m clcm.mbgnbd);
\copy btyd_wrong FROM 'results/btyd_bgnbd.bin' (FORMAT binary)
DROP TABLE btyd_models, btyd_models2, btyd_wrong;
-- malformed literals (22P02) and invalid parameters (22023)
-- empty
SELECT ''::clcm.bgnbd;
-- wrong type name
SELECT 'mbgnbd(r=1,alpha=1,a=1,b=1)'::clcm.bgnbd;
-- truncated
SELECT 'bgnbd(r=1,alpha=1,a=1,b=1'::clcm.bgnbd;
SELECT 'bgnbd(r=1,alpha='::clcm.bgnbd;
-- junk after
SELECT 'bgnbd(r=1,alpha=1,a=1,b=1) x'::clcm.bgnbd;
-- duplicate key
SELECT 'bgnbd(r=1,alpha=1,a=1,b=1,r=2)'::clcm.bgnbd;
-- unrecognized key
SELECT 'bgnbd(r=1,alpha=1,a=1,b=1,s=2)'::clcm.bgnbd;
-- missing parameter
SELECT 'pareto_nbd(r=1,alpha=1,s=1)'::clcm.pareto_nbd;
-- not a number
SELECT 'gamma_gamma(p=1,q=x,gamma=1)'::clcm.gamma_gamma;
SELECT 'gamma_gamma(p=1,q=1 2,gamma=1)'::clcm.gamma_gamma;
-- bad converged / iterations
SELECT 'bgbb(alpha=1,beta=1,gamma=1,delta=1,converged=yes)'::clcm.bgbb;
SELECT 'bgbb(alpha=1,beta=1,gamma=1,delta=1,iterations=-1)'::clcm.bgbb;
-- non-positive or non-finite parameter (22023)
SELECT 'bgnbd(r=0,alpha=1,a=1,b=1)'::clcm.bgnbd;
SELECT 'bgnbd(r=1,alpha=-1,a=1,b=1)'::clcm.bgnbd;
SELECT 'bgnbd(r=1,alpha=1,a=NaN,b=1)'::clcm.bgnbd;
SELECT 'bgnbd(r=1,alpha=1,a=1,b=Infinity)'::clcm.bgnbd;
-- out of float8 range (22003)
SELECT 'bgnbd(r=1e999,alpha=1,a=1,b=1)'::clcm.bgnbd;
-- invalid extras
SELECT 'bgnbd(r=1,alpha=1,a=1,b=1,n=-1)'::clcm.bgnbd;
SELECT 'bgnbd(r=1,alpha=1,a=1,b=1,ll=-Infinity)'::clcm.bgnbd;
-- the fitting state: text round trip, validation
SELECT 'bgnbd;penalizer=0;[0,0,38.86,3;2,30.43,38.86,1]'::clcm.btyd_fit_state;
SELECT 'gamma_gamma;penalizer=0.5;[]'::clcm.btyd_fit_state;
SELECT 'bgnbd;penalizer=0;[0,0,38.86,3;2,30.43,38.86,1]'::clcm.btyd_fit_state::text::clcm.btyd_fit_state::text;
SELECT 'bgnbd;penalizer=0;[2,40,38.86,1]'::clcm.btyd_fit_state;
SELECT 'bgnbd;penalizer=0;[2,30,38.86,0.5]'::clcm.btyd_fit_state;
SELECT 'bgnbd;penalizer=-1;[]'::clcm.btyd_fit_state;
SELECT 'foo;penalizer=0;[]'::clcm.btyd_fit_state;
SELECT 'bgnbd;penalizer=0;[1,2,3]'::clcm.btyd_fit_state;
SELECT 'bgnbd;penalizer=0;[]x'::clcm.btyd_fit_state;
