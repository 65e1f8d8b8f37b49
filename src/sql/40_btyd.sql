-- 40_btyd.sql: BTYD models (BG/NBD, Pareto/NBD, MBG/NBD, BG/BB, Gamma-Gamma):
-- model types, fitting aggregates, scoring, CLV and churn risk.
-- C code: src/btyd_type.c, src/btyd_fit.c, src/btyd_score.c, src/special.c.
-- Formulas and conventions: doc/btyd.md.

-- clcm.bgnbd: a fitted or given BG/NBD model (Fader, Hardie & Lee 2005)
CREATE TYPE @extschema@.bgnbd;
CREATE FUNCTION @extschema@.bgnbd_in(cstring) RETURNS @extschema@.bgnbd
	AS 'MODULE_PATHNAME', 'clcm_bgnbd_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.bgnbd_out(@extschema@.bgnbd) RETURNS cstring
	AS 'MODULE_PATHNAME', 'clcm_bgnbd_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.bgnbd_recv(internal) RETURNS @extschema@.bgnbd
	AS 'MODULE_PATHNAME', 'clcm_bgnbd_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.bgnbd_send(@extschema@.bgnbd) RETURNS bytea
	AS 'MODULE_PATHNAME', 'clcm_bgnbd_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE @extschema@.bgnbd (
	INPUT = @extschema@.bgnbd_in,
	OUTPUT = @extschema@.bgnbd_out,
	RECEIVE = @extschema@.bgnbd_recv,
	SEND = @extschema@.bgnbd_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = plain
);
COMMENT ON TYPE @extschema@.bgnbd IS 'BG/NBD model (Fader, Hardie & Lee 2005): parameters r, alpha, a, b, with ll, n, converged, iterations when fitted';
COMMENT ON FUNCTION @extschema@.bgnbd_in(cstring) IS 'input function of type bgnbd';
COMMENT ON FUNCTION @extschema@.bgnbd_out(@extschema@.bgnbd) IS 'output function of type bgnbd';
COMMENT ON FUNCTION @extschema@.bgnbd_recv(internal) IS 'binary input function of type bgnbd';
COMMENT ON FUNCTION @extschema@.bgnbd_send(@extschema@.bgnbd) IS 'binary output function of type bgnbd';

CREATE FUNCTION @extschema@.params(@extschema@.bgnbd) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'clcm_btyd_params' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.params(@extschema@.bgnbd) IS 'parameters of a bgnbd model with ll, n, converged and iterations, as jsonb';

-- clcm.pareto_nbd: a fitted or given Pareto/NBD model (Schmittlein, Morrison & Colombo 1987)
CREATE TYPE @extschema@.pareto_nbd;
CREATE FUNCTION @extschema@.pareto_nbd_in(cstring) RETURNS @extschema@.pareto_nbd
	AS 'MODULE_PATHNAME', 'clcm_pareto_nbd_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.pareto_nbd_out(@extschema@.pareto_nbd) RETURNS cstring
	AS 'MODULE_PATHNAME', 'clcm_pareto_nbd_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.pareto_nbd_recv(internal) RETURNS @extschema@.pareto_nbd
	AS 'MODULE_PATHNAME', 'clcm_pareto_nbd_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.pareto_nbd_send(@extschema@.pareto_nbd) RETURNS bytea
	AS 'MODULE_PATHNAME', 'clcm_pareto_nbd_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE @extschema@.pareto_nbd (
	INPUT = @extschema@.pareto_nbd_in,
	OUTPUT = @extschema@.pareto_nbd_out,
	RECEIVE = @extschema@.pareto_nbd_recv,
	SEND = @extschema@.pareto_nbd_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = plain
);
COMMENT ON TYPE @extschema@.pareto_nbd IS 'Pareto/NBD model (Schmittlein, Morrison & Colombo 1987): parameters r, alpha, s, beta, with ll, n, converged, iterations when fitted';
COMMENT ON FUNCTION @extschema@.pareto_nbd_in(cstring) IS 'input function of type pareto_nbd';
COMMENT ON FUNCTION @extschema@.pareto_nbd_out(@extschema@.pareto_nbd) IS 'output function of type pareto_nbd';
COMMENT ON FUNCTION @extschema@.pareto_nbd_recv(internal) IS 'binary input function of type pareto_nbd';
COMMENT ON FUNCTION @extschema@.pareto_nbd_send(@extschema@.pareto_nbd) IS 'binary output function of type pareto_nbd';

CREATE FUNCTION @extschema@.params(@extschema@.pareto_nbd) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'clcm_btyd_params' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.params(@extschema@.pareto_nbd) IS 'parameters of a pareto_nbd model with ll, n, converged and iterations, as jsonb';

-- clcm.mbgnbd: a fitted or given MBG/NBD model (Batislam, Denizel & Filiztekin 2007)
CREATE TYPE @extschema@.mbgnbd;
CREATE FUNCTION @extschema@.mbgnbd_in(cstring) RETURNS @extschema@.mbgnbd
	AS 'MODULE_PATHNAME', 'clcm_mbgnbd_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.mbgnbd_out(@extschema@.mbgnbd) RETURNS cstring
	AS 'MODULE_PATHNAME', 'clcm_mbgnbd_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.mbgnbd_recv(internal) RETURNS @extschema@.mbgnbd
	AS 'MODULE_PATHNAME', 'clcm_mbgnbd_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.mbgnbd_send(@extschema@.mbgnbd) RETURNS bytea
	AS 'MODULE_PATHNAME', 'clcm_mbgnbd_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE @extschema@.mbgnbd (
	INPUT = @extschema@.mbgnbd_in,
	OUTPUT = @extschema@.mbgnbd_out,
	RECEIVE = @extschema@.mbgnbd_recv,
	SEND = @extschema@.mbgnbd_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = plain
);
COMMENT ON TYPE @extschema@.mbgnbd IS 'MBG/NBD model (Batislam, Denizel & Filiztekin 2007): parameters r, alpha, a, b, with ll, n, converged, iterations when fitted';
COMMENT ON FUNCTION @extschema@.mbgnbd_in(cstring) IS 'input function of type mbgnbd';
COMMENT ON FUNCTION @extschema@.mbgnbd_out(@extschema@.mbgnbd) IS 'output function of type mbgnbd';
COMMENT ON FUNCTION @extschema@.mbgnbd_recv(internal) IS 'binary input function of type mbgnbd';
COMMENT ON FUNCTION @extschema@.mbgnbd_send(@extschema@.mbgnbd) IS 'binary output function of type mbgnbd';

CREATE FUNCTION @extschema@.params(@extschema@.mbgnbd) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'clcm_btyd_params' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.params(@extschema@.mbgnbd) IS 'parameters of a mbgnbd model with ll, n, converged and iterations, as jsonb';

-- clcm.bgbb: a fitted or given BG/BB model (Fader, Hardie & Shang 2010)
CREATE TYPE @extschema@.bgbb;
CREATE FUNCTION @extschema@.bgbb_in(cstring) RETURNS @extschema@.bgbb
	AS 'MODULE_PATHNAME', 'clcm_bgbb_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.bgbb_out(@extschema@.bgbb) RETURNS cstring
	AS 'MODULE_PATHNAME', 'clcm_bgbb_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.bgbb_recv(internal) RETURNS @extschema@.bgbb
	AS 'MODULE_PATHNAME', 'clcm_bgbb_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.bgbb_send(@extschema@.bgbb) RETURNS bytea
	AS 'MODULE_PATHNAME', 'clcm_bgbb_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE @extschema@.bgbb (
	INPUT = @extschema@.bgbb_in,
	OUTPUT = @extschema@.bgbb_out,
	RECEIVE = @extschema@.bgbb_recv,
	SEND = @extschema@.bgbb_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = plain
);
COMMENT ON TYPE @extschema@.bgbb IS 'BG/BB model (Fader, Hardie & Shang 2010): parameters alpha, beta, gamma, delta, with ll, n, converged, iterations when fitted';
COMMENT ON FUNCTION @extschema@.bgbb_in(cstring) IS 'input function of type bgbb';
COMMENT ON FUNCTION @extschema@.bgbb_out(@extschema@.bgbb) IS 'output function of type bgbb';
COMMENT ON FUNCTION @extschema@.bgbb_recv(internal) IS 'binary input function of type bgbb';
COMMENT ON FUNCTION @extschema@.bgbb_send(@extschema@.bgbb) IS 'binary output function of type bgbb';

CREATE FUNCTION @extschema@.params(@extschema@.bgbb) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'clcm_btyd_params' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.params(@extschema@.bgbb) IS 'parameters of a bgbb model with ll, n, converged and iterations, as jsonb';

-- clcm.gamma_gamma: a fitted or given Gamma-Gamma spend model (Fader, Hardie & Lee 2005; note 025)
CREATE TYPE @extschema@.gamma_gamma;
CREATE FUNCTION @extschema@.gamma_gamma_in(cstring) RETURNS @extschema@.gamma_gamma
	AS 'MODULE_PATHNAME', 'clcm_gamma_gamma_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.gamma_gamma_out(@extschema@.gamma_gamma) RETURNS cstring
	AS 'MODULE_PATHNAME', 'clcm_gamma_gamma_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.gamma_gamma_recv(internal) RETURNS @extschema@.gamma_gamma
	AS 'MODULE_PATHNAME', 'clcm_gamma_gamma_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.gamma_gamma_send(@extschema@.gamma_gamma) RETURNS bytea
	AS 'MODULE_PATHNAME', 'clcm_gamma_gamma_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE @extschema@.gamma_gamma (
	INPUT = @extschema@.gamma_gamma_in,
	OUTPUT = @extschema@.gamma_gamma_out,
	RECEIVE = @extschema@.gamma_gamma_recv,
	SEND = @extschema@.gamma_gamma_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = plain
);
COMMENT ON TYPE @extschema@.gamma_gamma IS 'Gamma-Gamma spend model (Fader, Hardie & Lee 2005; note 025): parameters p, q, gamma, with ll, n, converged, iterations when fitted';
COMMENT ON FUNCTION @extschema@.gamma_gamma_in(cstring) IS 'input function of type gamma_gamma';
COMMENT ON FUNCTION @extschema@.gamma_gamma_out(@extschema@.gamma_gamma) IS 'output function of type gamma_gamma';
COMMENT ON FUNCTION @extschema@.gamma_gamma_recv(internal) IS 'binary input function of type gamma_gamma';
COMMENT ON FUNCTION @extschema@.gamma_gamma_send(@extschema@.gamma_gamma) IS 'binary output function of type gamma_gamma';

CREATE FUNCTION @extschema@.params(@extschema@.gamma_gamma) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'clcm_btyd_params' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.params(@extschema@.gamma_gamma) IS 'parameters of a gamma_gamma model with ll, n, converged and iterations, as jsonb';

-- clcm.btyd_fit_state: state of the fitting aggregates, a histogram of
-- distinct (frequency, recency, t) rows with counts (text form
-- 'bgnbd;penalizer=0;[x,y,z,w;...]', exact round trip)
CREATE TYPE @extschema@.btyd_fit_state;
CREATE FUNCTION @extschema@.btyd_fit_state_in(cstring) RETURNS @extschema@.btyd_fit_state
	AS 'MODULE_PATHNAME', 'clcm_btyd_fit_state_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.btyd_fit_state_out(@extschema@.btyd_fit_state) RETURNS cstring
	AS 'MODULE_PATHNAME', 'clcm_btyd_fit_state_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.btyd_fit_state_recv(internal) RETURNS @extschema@.btyd_fit_state
	AS 'MODULE_PATHNAME', 'clcm_btyd_fit_state_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.btyd_fit_state_send(@extschema@.btyd_fit_state) RETURNS bytea
	AS 'MODULE_PATHNAME', 'clcm_btyd_fit_state_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE @extschema@.btyd_fit_state (
	INPUT = @extschema@.btyd_fit_state_in,
	OUTPUT = @extschema@.btyd_fit_state_out,
	RECEIVE = @extschema@.btyd_fit_state_recv,
	SEND = @extschema@.btyd_fit_state_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = extended
);
COMMENT ON TYPE @extschema@.btyd_fit_state IS 'state of the BTYD fitting aggregates: histogram of distinct input rows with counts';
COMMENT ON FUNCTION @extschema@.btyd_fit_state_in(cstring) IS 'input function of type btyd_fit_state';
COMMENT ON FUNCTION @extschema@.btyd_fit_state_out(@extschema@.btyd_fit_state) IS 'output function of type btyd_fit_state';
COMMENT ON FUNCTION @extschema@.btyd_fit_state_recv(internal) IS 'binary input function of type btyd_fit_state';
COMMENT ON FUNCTION @extschema@.btyd_fit_state_send(@extschema@.btyd_fit_state) IS 'binary output function of type btyd_fit_state';

CREATE FUNCTION @extschema@.btyd_fit_combine(@extschema@.btyd_fit_state, @extschema@.btyd_fit_state)
	RETURNS @extschema@.btyd_fit_state
	AS 'MODULE_PATHNAME', 'clcm_btyd_fit_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.btyd_fit_combine(@extschema@.btyd_fit_state, @extschema@.btyd_fit_state)
	IS 'combine function of the BTYD fitting aggregates';

CREATE FUNCTION @extschema@.bgnbd_fit_final(@extschema@.btyd_fit_state) RETURNS @extschema@.bgnbd
	AS 'MODULE_PATHNAME', 'clcm_bgnbd_fit_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bgnbd_fit_final(@extschema@.btyd_fit_state) IS 'final function of bgnbd_fit: maximum-likelihood fit of the histogram';
CREATE FUNCTION @extschema@.bgnbd_fit_trans(@extschema@.btyd_fit_state, float8, float8, float8) RETURNS @extschema@.btyd_fit_state
	AS 'MODULE_PATHNAME', 'clcm_bgnbd_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bgnbd_fit_trans(@extschema@.btyd_fit_state, float8, float8, float8) IS 'transition function of bgnbd_fit';
CREATE AGGREGATE @extschema@.bgnbd_fit(frequency float8, recency float8, t float8) (
	SFUNC = @extschema@.bgnbd_fit_trans,
	STYPE = @extschema@.btyd_fit_state,
	FINALFUNC = @extschema@.bgnbd_fit_final,
	COMBINEFUNC = @extschema@.btyd_fit_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.bgnbd_fit(float8, float8, float8) IS 'maximum-likelihood fit of the bgnbd model';
CREATE FUNCTION @extschema@.bgnbd_fit_trans(@extschema@.btyd_fit_state, float8, float8, float8, float8) RETURNS @extschema@.btyd_fit_state
	AS 'MODULE_PATHNAME', 'clcm_bgnbd_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bgnbd_fit_trans(@extschema@.btyd_fit_state, float8, float8, float8, float8) IS 'transition function of bgnbd_fit';
CREATE AGGREGATE @extschema@.bgnbd_fit(frequency float8, recency float8, t float8, penalizer float8) (
	SFUNC = @extschema@.bgnbd_fit_trans,
	STYPE = @extschema@.btyd_fit_state,
	FINALFUNC = @extschema@.bgnbd_fit_final,
	COMBINEFUNC = @extschema@.btyd_fit_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.bgnbd_fit(float8, float8, float8, float8) IS 'maximum-likelihood fit of the bgnbd model';

CREATE FUNCTION @extschema@.pareto_nbd_fit_final(@extschema@.btyd_fit_state) RETURNS @extschema@.pareto_nbd
	AS 'MODULE_PATHNAME', 'clcm_pareto_nbd_fit_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.pareto_nbd_fit_final(@extschema@.btyd_fit_state) IS 'final function of pareto_nbd_fit: maximum-likelihood fit of the histogram';
CREATE FUNCTION @extschema@.pareto_nbd_fit_trans(@extschema@.btyd_fit_state, float8, float8, float8) RETURNS @extschema@.btyd_fit_state
	AS 'MODULE_PATHNAME', 'clcm_pareto_nbd_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.pareto_nbd_fit_trans(@extschema@.btyd_fit_state, float8, float8, float8) IS 'transition function of pareto_nbd_fit';
CREATE AGGREGATE @extschema@.pareto_nbd_fit(frequency float8, recency float8, t float8) (
	SFUNC = @extschema@.pareto_nbd_fit_trans,
	STYPE = @extschema@.btyd_fit_state,
	FINALFUNC = @extschema@.pareto_nbd_fit_final,
	COMBINEFUNC = @extschema@.btyd_fit_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.pareto_nbd_fit(float8, float8, float8) IS 'maximum-likelihood fit of the pareto_nbd model';
CREATE FUNCTION @extschema@.pareto_nbd_fit_trans(@extschema@.btyd_fit_state, float8, float8, float8, float8) RETURNS @extschema@.btyd_fit_state
	AS 'MODULE_PATHNAME', 'clcm_pareto_nbd_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.pareto_nbd_fit_trans(@extschema@.btyd_fit_state, float8, float8, float8, float8) IS 'transition function of pareto_nbd_fit';
CREATE AGGREGATE @extschema@.pareto_nbd_fit(frequency float8, recency float8, t float8, penalizer float8) (
	SFUNC = @extschema@.pareto_nbd_fit_trans,
	STYPE = @extschema@.btyd_fit_state,
	FINALFUNC = @extschema@.pareto_nbd_fit_final,
	COMBINEFUNC = @extschema@.btyd_fit_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.pareto_nbd_fit(float8, float8, float8, float8) IS 'maximum-likelihood fit of the pareto_nbd model';

CREATE FUNCTION @extschema@.mbgnbd_fit_final(@extschema@.btyd_fit_state) RETURNS @extschema@.mbgnbd
	AS 'MODULE_PATHNAME', 'clcm_mbgnbd_fit_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.mbgnbd_fit_final(@extschema@.btyd_fit_state) IS 'final function of mbgnbd_fit: maximum-likelihood fit of the histogram';
CREATE FUNCTION @extschema@.mbgnbd_fit_trans(@extschema@.btyd_fit_state, float8, float8, float8) RETURNS @extschema@.btyd_fit_state
	AS 'MODULE_PATHNAME', 'clcm_mbgnbd_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.mbgnbd_fit_trans(@extschema@.btyd_fit_state, float8, float8, float8) IS 'transition function of mbgnbd_fit';
CREATE AGGREGATE @extschema@.mbgnbd_fit(frequency float8, recency float8, t float8) (
	SFUNC = @extschema@.mbgnbd_fit_trans,
	STYPE = @extschema@.btyd_fit_state,
	FINALFUNC = @extschema@.mbgnbd_fit_final,
	COMBINEFUNC = @extschema@.btyd_fit_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.mbgnbd_fit(float8, float8, float8) IS 'maximum-likelihood fit of the mbgnbd model';
CREATE FUNCTION @extschema@.mbgnbd_fit_trans(@extschema@.btyd_fit_state, float8, float8, float8, float8) RETURNS @extschema@.btyd_fit_state
	AS 'MODULE_PATHNAME', 'clcm_mbgnbd_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.mbgnbd_fit_trans(@extschema@.btyd_fit_state, float8, float8, float8, float8) IS 'transition function of mbgnbd_fit';
CREATE AGGREGATE @extschema@.mbgnbd_fit(frequency float8, recency float8, t float8, penalizer float8) (
	SFUNC = @extschema@.mbgnbd_fit_trans,
	STYPE = @extschema@.btyd_fit_state,
	FINALFUNC = @extschema@.mbgnbd_fit_final,
	COMBINEFUNC = @extschema@.btyd_fit_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.mbgnbd_fit(float8, float8, float8, float8) IS 'maximum-likelihood fit of the mbgnbd model';

CREATE FUNCTION @extschema@.gamma_gamma_fit_final(@extschema@.btyd_fit_state) RETURNS @extschema@.gamma_gamma
	AS 'MODULE_PATHNAME', 'clcm_gamma_gamma_fit_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.gamma_gamma_fit_final(@extschema@.btyd_fit_state) IS 'final function of gamma_gamma_fit: maximum-likelihood fit of the histogram';
CREATE FUNCTION @extschema@.gamma_gamma_fit_trans(@extschema@.btyd_fit_state, float8, float8) RETURNS @extschema@.btyd_fit_state
	AS 'MODULE_PATHNAME', 'clcm_gamma_gamma_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.gamma_gamma_fit_trans(@extschema@.btyd_fit_state, float8, float8) IS 'transition function of gamma_gamma_fit';
CREATE AGGREGATE @extschema@.gamma_gamma_fit(frequency float8, monetary float8) (
	SFUNC = @extschema@.gamma_gamma_fit_trans,
	STYPE = @extschema@.btyd_fit_state,
	FINALFUNC = @extschema@.gamma_gamma_fit_final,
	COMBINEFUNC = @extschema@.btyd_fit_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.gamma_gamma_fit(float8, float8) IS 'maximum-likelihood fit of the gamma_gamma model';
CREATE FUNCTION @extschema@.gamma_gamma_fit_trans(@extschema@.btyd_fit_state, float8, float8, float8) RETURNS @extschema@.btyd_fit_state
	AS 'MODULE_PATHNAME', 'clcm_gamma_gamma_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.gamma_gamma_fit_trans(@extschema@.btyd_fit_state, float8, float8, float8) IS 'transition function of gamma_gamma_fit';
CREATE AGGREGATE @extschema@.gamma_gamma_fit(frequency float8, monetary float8, penalizer float8) (
	SFUNC = @extschema@.gamma_gamma_fit_trans,
	STYPE = @extschema@.btyd_fit_state,
	FINALFUNC = @extschema@.gamma_gamma_fit_final,
	COMBINEFUNC = @extschema@.btyd_fit_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.gamma_gamma_fit(float8, float8, float8) IS 'maximum-likelihood fit of the gamma_gamma model';

CREATE FUNCTION @extschema@.bgbb_fit_final(@extschema@.btyd_fit_state) RETURNS @extschema@.bgbb
	AS 'MODULE_PATHNAME', 'clcm_bgbb_fit_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bgbb_fit_final(@extschema@.btyd_fit_state) IS 'final function of bgbb_fit: maximum-likelihood fit of the histogram';
CREATE FUNCTION @extschema@.bgbb_fit_trans(@extschema@.btyd_fit_state, float8, float8, float8) RETURNS @extschema@.btyd_fit_state
	AS 'MODULE_PATHNAME', 'clcm_bgbb_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bgbb_fit_trans(@extschema@.btyd_fit_state, float8, float8, float8) IS 'transition function of bgbb_fit';
CREATE AGGREGATE @extschema@.bgbb_fit(frequency float8, recency float8, n float8) (
	SFUNC = @extschema@.bgbb_fit_trans,
	STYPE = @extschema@.btyd_fit_state,
	FINALFUNC = @extschema@.bgbb_fit_final,
	COMBINEFUNC = @extschema@.btyd_fit_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.bgbb_fit(float8, float8, float8) IS 'maximum-likelihood fit of the bgbb model';
CREATE FUNCTION @extschema@.bgbb_fit_trans(@extschema@.btyd_fit_state, float8, float8, float8, float8) RETURNS @extschema@.btyd_fit_state
	AS 'MODULE_PATHNAME', 'clcm_bgbb_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bgbb_fit_trans(@extschema@.btyd_fit_state, float8, float8, float8, float8) IS 'transition function of bgbb_fit';
CREATE AGGREGATE @extschema@.bgbb_fit(frequency float8, recency float8, n float8, weight float8) (
	SFUNC = @extschema@.bgbb_fit_trans,
	STYPE = @extschema@.btyd_fit_state,
	FINALFUNC = @extschema@.bgbb_fit_final,
	COMBINEFUNC = @extschema@.btyd_fit_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.bgbb_fit(float8, float8, float8, float8) IS 'maximum-likelihood fit of the bgbb model';
CREATE FUNCTION @extschema@.bgbb_fit_trans(@extschema@.btyd_fit_state, float8, float8, float8, float8, float8) RETURNS @extschema@.btyd_fit_state
	AS 'MODULE_PATHNAME', 'clcm_bgbb_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bgbb_fit_trans(@extschema@.btyd_fit_state, float8, float8, float8, float8, float8) IS 'transition function of bgbb_fit';
CREATE AGGREGATE @extschema@.bgbb_fit(frequency float8, recency float8, n float8, weight float8, penalizer float8) (
	SFUNC = @extschema@.bgbb_fit_trans,
	STYPE = @extschema@.btyd_fit_state,
	FINALFUNC = @extschema@.bgbb_fit_final,
	COMBINEFUNC = @extschema@.btyd_fit_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.bgbb_fit(float8, float8, float8, float8, float8) IS 'maximum-likelihood fit of the bgbb model';

-- scoring
CREATE FUNCTION @extschema@.p_alive(model @extschema@.bgnbd, frequency float8, recency float8, t float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clcm_btyd_p_alive' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.p_alive(@extschema@.bgnbd, float8, float8, float8) IS 'probability that a customer is still alive under a bgnbd model';
CREATE FUNCTION @extschema@.expected_purchases(model @extschema@.bgnbd, horizon float8, frequency float8, recency float8, t float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clcm_btyd_expected_purchases' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.expected_purchases(@extschema@.bgnbd, float8, float8, float8, float8) IS 'expected purchases of a customer in the next horizon time units under a bgnbd model';
CREATE FUNCTION @extschema@.expected_purchases(model @extschema@.bgnbd, horizon float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clcm_btyd_expected_purchases_new' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.expected_purchases(@extschema@.bgnbd, float8) IS 'expected purchases of a new customer in its first horizon time units under a bgnbd model';
CREATE FUNCTION @extschema@.p_purchases(model @extschema@.bgnbd, n float8, horizon float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clcm_btyd_p_purchases' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.p_purchases(@extschema@.bgnbd, float8, float8) IS 'probability that a new customer makes exactly n purchases in horizon time units under a bgnbd model';
CREATE FUNCTION @extschema@.clv(model @extschema@.bgnbd, gg @extschema@.gamma_gamma, frequency float8, recency float8, t float8, monetary float8, horizon_periods int4, discount_rate float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clcm_btyd_clv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.clv(@extschema@.bgnbd, @extschema@.gamma_gamma, float8, float8, float8, float8, int4, float8) IS 'discounted customer lifetime value over horizon_periods periods of the bgnbd model time unit';
CREATE FUNCTION @extschema@.churn_risk(model @extschema@.bgnbd, frequency float8, recency float8, t float8) RETURNS text
	AS 'MODULE_PATHNAME', 'clcm_btyd_churn_risk' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.churn_risk(@extschema@.bgnbd, float8, float8, float8) IS 'churn-risk bucket (low, medium, high) of 1 - p_alive under a bgnbd model';
CREATE FUNCTION @extschema@.btyd_loglik(model @extschema@.bgnbd, frequency float8, recency float8, t float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clcm_btyd_loglik' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.btyd_loglik(@extschema@.bgnbd, float8, float8, float8) IS 'log-likelihood of one customer under a bgnbd model';
CREATE FUNCTION @extschema@.p_alive(model @extschema@.pareto_nbd, frequency float8, recency float8, t float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clcm_btyd_p_alive' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.p_alive(@extschema@.pareto_nbd, float8, float8, float8) IS 'probability that a customer is still alive under a pareto_nbd model';
CREATE FUNCTION @extschema@.expected_purchases(model @extschema@.pareto_nbd, horizon float8, frequency float8, recency float8, t float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clcm_btyd_expected_purchases' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.expected_purchases(@extschema@.pareto_nbd, float8, float8, float8, float8) IS 'expected purchases of a customer in the next horizon time units under a pareto_nbd model';
CREATE FUNCTION @extschema@.expected_purchases(model @extschema@.pareto_nbd, horizon float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clcm_btyd_expected_purchases_new' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.expected_purchases(@extschema@.pareto_nbd, float8) IS 'expected purchases of a new customer in its first horizon time units under a pareto_nbd model';
CREATE FUNCTION @extschema@.p_purchases(model @extschema@.pareto_nbd, n float8, horizon float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clcm_btyd_p_purchases' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.p_purchases(@extschema@.pareto_nbd, float8, float8) IS 'probability that a new customer makes exactly n purchases in horizon time units under a pareto_nbd model';
CREATE FUNCTION @extschema@.clv(model @extschema@.pareto_nbd, gg @extschema@.gamma_gamma, frequency float8, recency float8, t float8, monetary float8, horizon_periods int4, discount_rate float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clcm_btyd_clv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.clv(@extschema@.pareto_nbd, @extschema@.gamma_gamma, float8, float8, float8, float8, int4, float8) IS 'discounted customer lifetime value over horizon_periods periods of the pareto_nbd model time unit';
CREATE FUNCTION @extschema@.churn_risk(model @extschema@.pareto_nbd, frequency float8, recency float8, t float8) RETURNS text
	AS 'MODULE_PATHNAME', 'clcm_btyd_churn_risk' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.churn_risk(@extschema@.pareto_nbd, float8, float8, float8) IS 'churn-risk bucket (low, medium, high) of 1 - p_alive under a pareto_nbd model';
CREATE FUNCTION @extschema@.btyd_loglik(model @extschema@.pareto_nbd, frequency float8, recency float8, t float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clcm_btyd_loglik' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.btyd_loglik(@extschema@.pareto_nbd, float8, float8, float8) IS 'log-likelihood of one customer under a pareto_nbd model';
CREATE FUNCTION @extschema@.p_alive(model @extschema@.mbgnbd, frequency float8, recency float8, t float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clcm_btyd_p_alive' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.p_alive(@extschema@.mbgnbd, float8, float8, float8) IS 'probability that a customer is still alive under a mbgnbd model';
CREATE FUNCTION @extschema@.expected_purchases(model @extschema@.mbgnbd, horizon float8, frequency float8, recency float8, t float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clcm_btyd_expected_purchases' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.expected_purchases(@extschema@.mbgnbd, float8, float8, float8, float8) IS 'expected purchases of a customer in the next horizon time units under a mbgnbd model';
CREATE FUNCTION @extschema@.expected_purchases(model @extschema@.mbgnbd, horizon float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clcm_btyd_expected_purchases_new' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.expected_purchases(@extschema@.mbgnbd, float8) IS 'expected purchases of a new customer in its first horizon time units under a mbgnbd model';
CREATE FUNCTION @extschema@.p_purchases(model @extschema@.mbgnbd, n float8, horizon float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clcm_btyd_p_purchases' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.p_purchases(@extschema@.mbgnbd, float8, float8) IS 'probability that a new customer makes exactly n purchases in horizon time units under a mbgnbd model';
CREATE FUNCTION @extschema@.clv(model @extschema@.mbgnbd, gg @extschema@.gamma_gamma, frequency float8, recency float8, t float8, monetary float8, horizon_periods int4, discount_rate float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clcm_btyd_clv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.clv(@extschema@.mbgnbd, @extschema@.gamma_gamma, float8, float8, float8, float8, int4, float8) IS 'discounted customer lifetime value over horizon_periods periods of the mbgnbd model time unit';
CREATE FUNCTION @extschema@.churn_risk(model @extschema@.mbgnbd, frequency float8, recency float8, t float8) RETURNS text
	AS 'MODULE_PATHNAME', 'clcm_btyd_churn_risk' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.churn_risk(@extschema@.mbgnbd, float8, float8, float8) IS 'churn-risk bucket (low, medium, high) of 1 - p_alive under a mbgnbd model';
CREATE FUNCTION @extschema@.btyd_loglik(model @extschema@.mbgnbd, frequency float8, recency float8, t float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clcm_btyd_loglik' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.btyd_loglik(@extschema@.mbgnbd, float8, float8, float8) IS 'log-likelihood of one customer under a mbgnbd model';
CREATE FUNCTION @extschema@.p_alive(model @extschema@.bgbb, frequency float8, recency float8, n float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clcm_btyd_p_alive' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.p_alive(@extschema@.bgbb, float8, float8, float8) IS 'probability that a customer is still alive under a bgbb model';
CREATE FUNCTION @extschema@.expected_purchases(model @extschema@.bgbb, horizon float8, frequency float8, recency float8, n float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clcm_btyd_expected_purchases' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.expected_purchases(@extschema@.bgbb, float8, float8, float8, float8) IS 'expected purchases of a customer in the next horizon time units under a bgbb model';
CREATE FUNCTION @extschema@.expected_purchases(model @extschema@.bgbb, horizon float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clcm_btyd_expected_purchases_new' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.expected_purchases(@extschema@.bgbb, float8) IS 'expected purchases of a new customer in its first horizon time units under a bgbb model';
CREATE FUNCTION @extschema@.p_purchases(model @extschema@.bgbb, n float8, horizon float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clcm_btyd_p_purchases' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.p_purchases(@extschema@.bgbb, float8, float8) IS 'probability that a new customer makes exactly n purchases in horizon time units under a bgbb model';
CREATE FUNCTION @extschema@.clv(model @extschema@.bgbb, gg @extschema@.gamma_gamma, frequency float8, recency float8, n float8, monetary float8, horizon_periods int4, discount_rate float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clcm_btyd_clv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.clv(@extschema@.bgbb, @extschema@.gamma_gamma, float8, float8, float8, float8, int4, float8) IS 'discounted customer lifetime value over horizon_periods periods of the bgbb model time unit';
CREATE FUNCTION @extschema@.churn_risk(model @extschema@.bgbb, frequency float8, recency float8, n float8) RETURNS text
	AS 'MODULE_PATHNAME', 'clcm_btyd_churn_risk' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.churn_risk(@extschema@.bgbb, float8, float8, float8) IS 'churn-risk bucket (low, medium, high) of 1 - p_alive under a bgbb model';
CREATE FUNCTION @extschema@.btyd_loglik(model @extschema@.bgbb, frequency float8, recency float8, n float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clcm_btyd_loglik' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.btyd_loglik(@extschema@.bgbb, float8, float8, float8) IS 'log-likelihood of one customer under a bgbb model';
CREATE FUNCTION @extschema@.expected_spend(gg @extschema@.gamma_gamma, frequency float8, monetary float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clcm_gamma_gamma_expected_spend' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.expected_spend(@extschema@.gamma_gamma, float8, float8) IS 'expected mean spend per purchase of a customer under a gamma_gamma model';
CREATE FUNCTION @extschema@.btyd_loglik(model @extschema@.gamma_gamma, frequency float8, monetary float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clcm_gamma_gamma_loglik' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.btyd_loglik(@extschema@.gamma_gamma, float8, float8) IS 'log density of a repeat buyer''s mean spend under a gamma_gamma model';
CREATE FUNCTION @extschema@.churn_risk(p_alive float8) RETURNS text
	AS 'MODULE_PATHNAME', 'clcm_churn_risk' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.churn_risk(float8) IS 'churn-risk bucket of 1 - p_alive: low below 0.3, medium below 0.7, high from 0.7';
CREATE FUNCTION @extschema@.hyp2f1(a float8, b float8, c float8, z float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clcm_hyp2f1_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.hyp2f1(float8, float8, float8, float8) IS 'Gaussian hypergeometric function 2F1(a, b; c; z) for z < 1';
