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

-- 22P03: a malformed binary value (COPY FROM a hand-made binary file:
-- version 2 is not supported)
CREATE TABLE rfm_bin (s clcm.rfm_state);
SELECT lo_from_bytea(0, '\x5047434f50590aff0d0a00'::bytea
       || '\x00000000' || '\x00000000'            -- flags, header extension
       || '\x0001' || '\x0000002b'                -- 1 field of 43 bytes
       || '\x02' || '\x01' || '\x01' || '\x00000064'
       || '\x00000000000000000000000000000000'    -- first_amount
       || '\x00000000000000000000000000000000'    -- total
       || '\x00000000'                            -- no days
       || '\xffff'::bytea) AS loid \gset
SELECT lo_export(:loid, current_setting('data_directory') || '/clcm_rfm_bad.bin') AS exported;
DO $$ BEGIN
  EXECUTE format('COPY rfm_bin FROM %L (FORMAT binary)',
                 current_setting('data_directory') || '/clcm_rfm_bad.bin');
END $$;
-- the same bytes with version 1 load
SELECT lo_unlink(:loid);
SELECT lo_from_bytea(0, '\x5047434f50590aff0d0a00'::bytea
       || '\x00000000' || '\x00000000' || '\x0001' || '\x0000002b'
       || '\x01' || '\x01' || '\x01' || '\x00000064'
       || '\x00000000000000000000000000000000'
       || '\x00000000000000000000000000000000'
       || '\x00000000' || '\xffff'::bytea) AS loid \gset
SELECT lo_export(:loid, current_setting('data_directory') || '/clcm_rfm_bad.bin') AS exported;
DO $$ BEGIN
  EXECUTE format('COPY rfm_bin FROM %L (FORMAT binary)',
                 current_setting('data_directory') || '/clcm_rfm_bad.bin');
END $$;
SELECT s FROM rfm_bin;
SELECT lo_unlink(:loid);

\set VERBOSITY default
DROP TABLE rfm_e, rfm_bin;
RESET TimeZone;
