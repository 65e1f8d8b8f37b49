-- rfm_errors: every documented error of clcm.rfm_summary and clcm.rfm_state,
-- with its SQLSTATE (\set VERBOSITY sqlstate prints the code only after
-- the message is shown once in full).
SET TimeZone = 'UTC';
CREATE TABLE rfm_e (cust int, ts timestamptz, amount numeric, obs timestamptz, unit text);
INSERT INTO rfm_e VALUES (1, '2024-01-01', 10, '2024-06-30', 'day');

-- the full messages first
-- ERROR 22023: unrecognized unit
SELECT clcm.rfm_summary(ts, amount, obs, 'fortnight') FROM rfm_e;
-- ERROR 22023: negative amount
SELECT clcm.rfm_summary(ts, -0.01, obs) FROM rfm_e;
-- ERROR 22004: NULL amount
SELECT clcm.rfm_summary(ts, NULL, obs) FROM rfm_e;

\set VERBOSITY sqlstate
-- 22023: unrecognized units (exact lower-case names only)
SELECT clcm.rfm_summary(ts, amount, obs, 'Week') FROM rfm_e;
SELECT clcm.rfm_summary(ts, amount, obs, '') FROM rfm_e;
SELECT clcm.rfm_summary(ts, amount, obs, 'days') FROM rfm_e;
-- 22004: NULL unit, NULL observation_end, NULL amount with a purchase time
SELECT clcm.rfm_summary(ts, amount, obs, NULL) FROM rfm_e;
SELECT clcm.rfm_summary(ts, amount, NULL) FROM rfm_e;
SELECT clcm.rfm_summary(ts, NULL::timestamptz) FROM rfm_e;
-- 22023: NaN and infinite amounts
SELECT clcm.rfm_summary(ts, 'NaN', obs) FROM rfm_e;
SELECT clcm.rfm_summary(ts, 'Infinity', obs) FROM rfm_e;
SELECT clcm.rfm_summary(ts, '-Infinity', obs) FROM rfm_e;
-- 22003: amounts of 10^18 and more
SELECT clcm.rfm_summary(ts, 1e18, obs) FROM rfm_e;
SELECT clcm.rfm_summary(ts, 1e30, obs) FROM rfm_e;
-- (just below the limit is fine)
SELECT (clcm.rfm_summary(ts, 999999999999999999.999999999, obs)).frequency FROM rfm_e;
-- 22008: infinite timestamps
SELECT clcm.rfm_summary('infinity', amount, obs) FROM rfm_e;
SELECT clcm.rfm_summary('-infinity', amount, obs) FROM rfm_e;
SELECT clcm.rfm_summary(ts, amount, 'infinity') FROM rfm_e;
SELECT clcm.rfm_summary(ts, '-infinity'::timestamptz) FROM rfm_e;
-- 22023: observation_end or unit changing within a group
SELECT clcm.rfm_summary(ts, 1, e)
  FROM (VALUES ('2024-01-01'::timestamptz, '2024-06-30'::timestamptz),
               ('2024-01-02', '2024-07-01')) v(ts, e);
SELECT clcm.rfm_summary(ts, 1, '2024-06-30', u)
  FROM (VALUES ('2024-01-01'::timestamptz, 'day'), ('2024-01-02', 'week')) v(ts, u);
-- (different times on the same calendar day are one observation end)
SELECT (clcm.rfm_summary(ts, 1, e)).t
  FROM (VALUES ('2024-01-01'::timestamptz, '2024-06-30 08:00'::timestamptz),
               ('2024-01-02', '2024-06-30 20:00')) v(ts, e);
-- 22023: combining states with different ends or units
SELECT clcm.rfm_summary_combine('unit=day;end=100;sorted=1;first_amount=1;total=1;days=1',
                                'unit=day;end=101;sorted=1;first_amount=1;total=1;days=1');
SELECT clcm.rfm_summary_combine('unit=day;end=100;sorted=1;first_amount=1;total=1;days=1',
                                'unit=week;end=100;sorted=1;first_amount=1;total=1;days=1');

-- 22003: a sum of amounts reaching 10^29 (combining large states)
SELECT clcm.rfm_summary_combine('unit=day;end=100;sorted=1;first_amount=0;total=60000000000000000000000000000;days=1',
                                'unit=day;end=100;sorted=1;first_amount=0;total=40000000000000000000000000000;days=2');
SELECT clcm.rfm_summary_combine('unit=day;end=100;sorted=1;first_amount=0;total=60000000000000000000000000000;days=1',
                                'unit=day;end=100;sorted=1;first_amount=0;total=39999999999999999999999999999.999999999;days=2');

-- 22P02: malformed clcm.rfm_state literals
\set VERBOSITY default
SELECT 'unit=day;end=100'::clcm.rfm_state;
\set VERBOSITY sqlstate
SELECT ''::clcm.rfm_state;
SELECT 'unit=hour;end=0;sorted=1;first_amount=0;total=0;days='::clcm.rfm_state;
SELECT 'unit=day;end=0;sorted=2;first_amount=0;total=0;days='::clcm.rfm_state;
SELECT 'unit=day;end=x;sorted=1;first_amount=0;total=0;days='::clcm.rfm_state;
SELECT 'unit=day;end=99999999999;sorted=1;first_amount=0;total=0;days='::clcm.rfm_state;
SELECT 'unit=day;end=0;sorted=1;first_amount=-1;total=0;days='::clcm.rfm_state;
SELECT 'unit=day;end=0;sorted=1;first_amount=0.0000000001;total=1;days=0'::clcm.rfm_state;
SELECT 'unit=day;end=0;sorted=1;first_amount=1.;total=1;days=0'::clcm.rfm_state;
SELECT 'unit=day;end=0;sorted=1;first_amount=0;total=100000000000000000000000000000;days=0'::clcm.rfm_state;
-- (sums just below 10^29 are fine)
SELECT 'unit=day;end=0;sorted=1;first_amount=0;total=99999999999999999999999999999.999999999;days=0'::clcm.rfm_state;
SELECT 'unit=day;end=0;sorted=1;first_amount=0;total=0;days=0,'::clcm.rfm_state;
SELECT 'unit=day;end=0;sorted=1;first_amount=0;total=0;days=0 '::clcm.rfm_state;
SELECT 'unit=day;end=0;sorted=1;first_amount=0;total=0;days=0;x=1'::clcm.rfm_state;
-- inconsistent content: total below first_amount, days after the end,
-- unsorted days marked sorted, amounts without days, an end out of range
SELECT 'unit=day;end=0;sorted=1;first_amount=2;total=1;days=0'::clcm.rfm_state;
SELECT 'unit=day;end=0;sorted=1;first_amount=0;total=0;days=1'::clcm.rfm_state;
SELECT 'unit=day;end=9;sorted=1;first_amount=0;total=0;days=3,2'::clcm.rfm_state;
SELECT 'unit=day;end=9;sorted=1;first_amount=0;total=0;days=3,3'::clcm.rfm_state;
SELECT 'unit=day;end=9;sorted=1;first_amount=0;total=5;days='::clcm.rfm_state;
SELECT 'unit=day;end=2147483647;sorted=1;first_amount=0;total=0;days='::clcm.rfm_state;
SELECT 'unit=day;end=0;sorted=0;first_amount=0;total=0;days=-2147483648'::clcm.rfm_state;

-- 22P03: malformed binary values.  The binary COPY file is written and read
-- on the client side (psql \copy, in pg_regress's results directory), so
-- nothing is written on the server and no privilege is needed: a bytea
-- holding a hand-made binary state is copied out, and the file is copied
-- into a clcm.rfm_state column (a binary COPY field is the value's send
-- form, the raw bytes for bytea, so the type's recv function reads them).
\set VERBOSITY default
CREATE TABLE rfm_bin (s clcm.rfm_state);
-- the binary form: version, unit, flags (bit 0: sorted), end day, the two
-- sums as big-endian 128-bit two's-complement counts of 10^-9 units, the
-- number of days and the days
CREATE FUNCTION rfm_i128(a numeric) RETURNS bytea LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT int8send((CASE WHEN h >= 2::numeric ^ 63 THEN h - 2::numeric ^ 64 ELSE h END)::int8)
      || int8send((CASE WHEN l >= 2::numeric ^ 63 THEN l - 2::numeric ^ 64 ELSE l END)::int8)
    FROM (SELECT trunc(u / 2::numeric ^ 64) AS h, mod(u, 2::numeric ^ 64) AS l
            FROM (SELECT CASE WHEN v < 0 THEN v + 2::numeric ^ 128 ELSE v END AS u
                    FROM (SELECT a * 1000000000 AS v) x) y) z $$;
CREATE FUNCTION rfm_bin_state(version int, unit int, flags int, end_day int,
                              first_amount numeric, total numeric, days int[])
  RETURNS bytea LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT set_byte(set_byte(set_byte('\x000000'::bytea, 0, version), 1, unit), 2, flags)
      || int4send(end_day) || rfm_i128(first_amount) || rfm_i128(total)
      || int4send(cardinality(days))
      || coalesce((SELECT string_agg(int4send(d), ''::bytea ORDER BY o)
                     FROM unnest(days) WITH ORDINALITY u(d, o)), ''::bytea) $$;
-- the helper builds exactly the bytes of the send function
SELECT rfm_bin_state(1, 2, 1, 8826, 15, 65, '{8766,8780,8797}')
       = clcm.rfm_state_send('unit=week;end=8826;sorted=1;first_amount=15;total=65;days=8766,8780,8797')
       AS helper_matches_send;
SELECT rfm_bin_state(1, 1, 0, -3, 0.000000001, 1.5, '{-5,-3,-5}')
       = clcm.rfm_state_send('unit=day;end=-3;sorted=0;first_amount=0.000000001;total=1.5;days=-5,-3,-5')
       AS helper_matches_send;
-- version 2 is not supported
\copy (SELECT rfm_bin_state(2, 1, 1, 100, 0, 0, '{}')) TO 'results/rfm_errors.bin' (FORMAT binary)
\copy rfm_bin FROM 'results/rfm_errors.bin' (FORMAT binary)
-- the same bytes with version 1 load
\copy (SELECT rfm_bin_state(1, 1, 1, 100, 0, 0, '{}')) TO 'results/rfm_errors.bin' (FORMAT binary)
\copy rfm_bin FROM 'results/rfm_errors.bin' (FORMAT binary)
SELECT s FROM rfm_bin;
-- a truncated value (one day announced, none sent)
\copy (SELECT substr(rfm_bin_state(1, 1, 1, 100, 0, 0, '{5}'), 1, 43)) TO 'results/rfm_errors.bin' (FORMAT binary)
\copy rfm_bin FROM 'results/rfm_errors.bin' (FORMAT binary)

-- One validation for both inputs: the binary input accepts exactly the
-- states the text input accepts.  A sum of amounts of 10^29 or more (this
-- value was accepted by the binary input and refused as text, so it could
-- not be dumped and restored) is refused by both:
\copy (SELECT rfm_bin_state(1, 1, 0, 1677721600, 16776348.416606208, 101021327682748457538414480580.553998336, '{13240321,262146,3}')) TO 'results/rfm_errors.bin' (FORMAT binary)
\copy rfm_bin FROM 'results/rfm_errors.bin' (FORMAT binary)
SELECT 'unit=day;end=1677721600;sorted=0;first_amount=16776348.416606208;total=101021327682748457538414480580.553998336;days=13240321,262146,3'::clcm.rfm_state;
-- exactly 10^29: refused by both
\copy (SELECT rfm_bin_state(1, 1, 0, 1677721600, 0, 100000000000000000000000000000, '{3}')) TO 'results/rfm_errors.bin' (FORMAT binary)
\copy rfm_bin FROM 'results/rfm_errors.bin' (FORMAT binary)
SELECT 'unit=day;end=1677721600;sorted=0;first_amount=0;total=100000000000000000000000000000;days=3'::clcm.rfm_state;
-- one 10^-9 unit below: accepted by both; text and binary forms round trip
TRUNCATE rfm_bin;
\copy (SELECT rfm_bin_state(1, 1, 0, 1677721600, 16776348.416606208, 99999999999999999999999999999.999999999, '{13240321,262146,3}')) TO 'results/rfm_errors.bin' (FORMAT binary)
\copy rfm_bin FROM 'results/rfm_errors.bin' (FORMAT binary)
SELECT s FROM rfm_bin;
SELECT s::text::clcm.rfm_state::text = s::text AS text_round_trip FROM rfm_bin;
CREATE TABLE rfm_bin2 (s clcm.rfm_state);
\copy rfm_bin TO 'results/rfm_errors.bin' (FORMAT binary)
\copy rfm_bin2 FROM 'results/rfm_errors.bin' (FORMAT binary)
SELECT a.s::text = b.s::text AS binary_round_trip FROM rfm_bin a, rfm_bin2 b;
-- values the text form cannot write are refused by the binary input too:
-- negative sums (128-bit two's complement), unit 5, flags other than sorted
\copy (SELECT rfm_bin_state(1, 1, 0, 100, -1, 0, '{3}')) TO 'results/rfm_errors.bin' (FORMAT binary)
\copy rfm_bin FROM 'results/rfm_errors.bin' (FORMAT binary)
\copy (SELECT rfm_bin_state(1, 1, 0, 100, 0, -1, '{3}')) TO 'results/rfm_errors.bin' (FORMAT binary)
\copy rfm_bin FROM 'results/rfm_errors.bin' (FORMAT binary)
\copy (SELECT rfm_bin_state(1, 5, 0, 100, 0, 0, '{3}')) TO 'results/rfm_errors.bin' (FORMAT binary)
\copy rfm_bin FROM 'results/rfm_errors.bin' (FORMAT binary)
\copy (SELECT rfm_bin_state(1, 1, 2, 100, 0, 0, '{3}')) TO 'results/rfm_errors.bin' (FORMAT binary)
\copy rfm_bin FROM 'results/rfm_errors.bin' (FORMAT binary)
-- the other rules, as in the text tests above: a day after the end, an end
-- out of range, unsorted days marked sorted, amounts without days
\copy (SELECT rfm_bin_state(1, 1, 1, 0, 0, 0, '{1}')) TO 'results/rfm_errors.bin' (FORMAT binary)
\copy rfm_bin FROM 'results/rfm_errors.bin' (FORMAT binary)
\copy (SELECT rfm_bin_state(1, 1, 1, 2147483647, 0, 0, '{}')) TO 'results/rfm_errors.bin' (FORMAT binary)
\copy rfm_bin FROM 'results/rfm_errors.bin' (FORMAT binary)
\copy (SELECT rfm_bin_state(1, 1, 1, 9, 0, 0, '{3,3}')) TO 'results/rfm_errors.bin' (FORMAT binary)
\copy rfm_bin FROM 'results/rfm_errors.bin' (FORMAT binary)
\copy (SELECT rfm_bin_state(1, 1, 1, 9, 0, 5, '{}')) TO 'results/rfm_errors.bin' (FORMAT binary)
\copy rfm_bin FROM 'results/rfm_errors.bin' (FORMAT binary)
SELECT count(*) AS loaded FROM rfm_bin;

DROP TABLE rfm_e, rfm_bin, rfm_bin2;
DROP FUNCTION rfm_bin_state(int, int, int, int, numeric, numeric, int[]);
DROP FUNCTION rfm_i128(numeric);
RESET TimeZone;
