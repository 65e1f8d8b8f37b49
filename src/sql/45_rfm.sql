
-- ===================================================================
-- 45_rfm.sql: RFM summary aggregate, RFM tiering, simple and historic
-- CLV (doc/clcm.md "RFM summary, tiering and simple CLV").
-- ===================================================================

-- clcm.rfm_state: the partial state of clcm.rfm_summary (exact text form)
CREATE TYPE @extschema@.rfm_state;

CREATE FUNCTION @extschema@.rfm_state_in(cstring) RETURNS @extschema@.rfm_state
	AS 'MODULE_PATHNAME', 'clcm_rfm_state_in'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rfm_state_in(cstring) IS 'text input of clcm.rfm_state';

CREATE FUNCTION @extschema@.rfm_state_out(@extschema@.rfm_state) RETURNS cstring
	AS 'MODULE_PATHNAME', 'clcm_rfm_state_out'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rfm_state_out(@extschema@.rfm_state) IS 'text output of clcm.rfm_state';

CREATE FUNCTION @extschema@.rfm_state_recv(internal) RETURNS @extschema@.rfm_state
	AS 'MODULE_PATHNAME', 'clcm_rfm_state_recv'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rfm_state_recv(internal) IS 'binary input of clcm.rfm_state';

CREATE FUNCTION @extschema@.rfm_state_send(@extschema@.rfm_state) RETURNS bytea
	AS 'MODULE_PATHNAME', 'clcm_rfm_state_send'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rfm_state_send(@extschema@.rfm_state) IS 'binary output of clcm.rfm_state';

-- plain storage keeps the state aligned and uncompressed (it is rewritten
-- in place by the transition function)
CREATE TYPE @extschema@.rfm_state (
	INPUT = @extschema@.rfm_state_in,
	OUTPUT = @extschema@.rfm_state_out,
	RECEIVE = @extschema@.rfm_state_recv,
	SEND = @extschema@.rfm_state_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = plain
);
COMMENT ON TYPE @extschema@.rfm_state IS
	'partial state of clcm.rfm_summary: purchase days and exact amount sums';

-- clcm.rfm_summary: the result row
CREATE TYPE @extschema@.rfm_summary AS (
	frequency integer,
	recency double precision,
	t double precision,
	monetary double precision
);
COMMENT ON TYPE @extschema@.rfm_summary IS
	'RFM summary of one customer: repeat purchase days, first-to-last and first-to-end time, mean repeat-day amount';

-- transition functions: STABLE because the calendar day of a timestamptz
-- depends on the TimeZone setting
CREATE FUNCTION @extschema@.rfm_summary_transfn(@extschema@.rfm_state, timestamptz, numeric, timestamptz)
	RETURNS @extschema@.rfm_state
	AS 'MODULE_PATHNAME', 'clcm_rfm_summary_transfn'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rfm_summary_transfn(@extschema@.rfm_state, timestamptz, numeric, timestamptz) IS
	'transition function of clcm.rfm_summary(ts, amount, observation_end)';

CREATE FUNCTION @extschema@.rfm_summary_transfn(@extschema@.rfm_state, timestamptz, numeric, timestamptz, text)
	RETURNS @extschema@.rfm_state
	AS 'MODULE_PATHNAME', 'clcm_rfm_summary_transfn'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rfm_summary_transfn(@extschema@.rfm_state, timestamptz, numeric, timestamptz, text) IS
	'transition function of clcm.rfm_summary(ts, amount, observation_end, unit)';

CREATE FUNCTION @extschema@.rfm_summary_noamount_transfn(@extschema@.rfm_state, timestamptz, timestamptz)
	RETURNS @extschema@.rfm_state
	AS 'MODULE_PATHNAME', 'clcm_rfm_summary_noamount_transfn'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rfm_summary_noamount_transfn(@extschema@.rfm_state, timestamptz, timestamptz) IS
	'transition function of clcm.rfm_summary(ts, observation_end)';

CREATE FUNCTION @extschema@.rfm_summary_combine(@extschema@.rfm_state, @extschema@.rfm_state)
	RETURNS @extschema@.rfm_state
	AS 'MODULE_PATHNAME', 'clcm_rfm_summary_combine'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rfm_summary_combine(@extschema@.rfm_state, @extschema@.rfm_state) IS
	'combine function of clcm.rfm_summary (merges partial states)';

CREATE FUNCTION @extschema@.rfm_summary_final(@extschema@.rfm_state)
	RETURNS @extschema@.rfm_summary
	AS 'MODULE_PATHNAME', 'clcm_rfm_summary_final'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rfm_summary_final(@extschema@.rfm_state) IS
	'final function of clcm.rfm_summary with amounts';

CREATE FUNCTION @extschema@.rfm_summary_noamount_final(@extschema@.rfm_state)
	RETURNS @extschema@.rfm_summary
	AS 'MODULE_PATHNAME', 'clcm_rfm_summary_noamount_final'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rfm_summary_noamount_final(@extschema@.rfm_state) IS
	'final function of clcm.rfm_summary without amounts (monetary is NULL)';

CREATE AGGREGATE @extschema@.rfm_summary(ts timestamptz, amount numeric, observation_end timestamptz) (
	SFUNC = @extschema@.rfm_summary_transfn,
	STYPE = @extschema@.rfm_state,
	SSPACE = 128,
	FINALFUNC = @extschema@.rfm_summary_final,
	COMBINEFUNC = @extschema@.rfm_summary_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.rfm_summary(timestamptz, numeric, timestamptz) IS
	'RFM summary (frequency, recency, t, monetary) of one customer''s purchases, times in days';

CREATE AGGREGATE @extschema@.rfm_summary(ts timestamptz, amount numeric, observation_end timestamptz, unit text) (
	SFUNC = @extschema@.rfm_summary_transfn,
	STYPE = @extschema@.rfm_state,
	SSPACE = 128,
	FINALFUNC = @extschema@.rfm_summary_final,
	COMBINEFUNC = @extschema@.rfm_summary_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.rfm_summary(timestamptz, numeric, timestamptz, text) IS
	'RFM summary (frequency, recency, t, monetary) of one customer''s purchases, times in unit (day, week, month, year)';

CREATE AGGREGATE @extschema@.rfm_summary(ts timestamptz, observation_end timestamptz) (
	SFUNC = @extschema@.rfm_summary_noamount_transfn,
	STYPE = @extschema@.rfm_state,
	SSPACE = 128,
	FINALFUNC = @extschema@.rfm_summary_noamount_final,
	COMBINEFUNC = @extschema@.rfm_summary_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.rfm_summary(timestamptz, timestamptz) IS
	'recency/frequency summary without amounts (monetary NULL), times in days';
-- (no (ts, observation_end, unit) overload: with string literals it would
-- be ambiguous with (ts, amount, observation_end))

-- RFM tiering
CREATE FUNCTION @extschema@.rfm_score(recency_rank integer, frequency_rank integer, monetary_rank integer)
	RETURNS integer
	AS 'MODULE_PATHNAME', 'clcm_rfm_score'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rfm_score(integer, integer, integer) IS
	'RFM score 111..555 from recency, frequency and monetary ranks 1..5 (5 best)';

CREATE FUNCTION @extschema@.rfm_segment(score integer) RETURNS text
	AS 'MODULE_PATHNAME', 'clcm_rfm_segment'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rfm_segment(integer) IS
	'named segment (Champions .. Lost) of an RFM score by its recency x frequency cell';

CREATE FUNCTION @extschema@.rfm_tier(score integer) RETURNS text
	AS 'MODULE_PATHNAME', 'clcm_rfm_tier'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rfm_tier(integer) IS
	'value tier of an RFM score: high (r+f+m >= 11), medium (8..10), low (<= 7)';

-- simple CLV
CREATE FUNCTION @extschema@.clv_simple(margin double precision, retention_rate double precision,
									   discount_rate double precision)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'clcm_clv_simple'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.clv_simple(double precision, double precision, double precision) IS
	'simple customer lifetime value m*r/(1+d-r) for a per-period margin, retention and discount rate';

CREATE FUNCTION @extschema@.clv_historic_transfn(double precision, numeric, timestamptz,
												 double precision, double precision, timestamptz)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'clcm_clv_historic_transfn'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.clv_historic_transfn(double precision, numeric, timestamptz,
													 double precision, double precision, timestamptz) IS
	'transition function of clcm.clv_historic';

CREATE AGGREGATE @extschema@.clv_historic(amount numeric, ts timestamptz, margin_rate double precision,
										  discount_rate double precision, as_of timestamptz) (
	SFUNC = @extschema@.clv_historic_transfn,
	STYPE = double precision,
	COMBINEFUNC = pg_catalog.float8pl,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.clv_historic(numeric, timestamptz, double precision, double precision, timestamptz) IS
	'historic CLV: past margins amount*margin_rate compounded at discount_rate per year to as_of';
