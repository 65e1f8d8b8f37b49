-- 046_rfm_score: clcm.rfm_score, clcm.rfm_segment, clcm.rfm_tier.
BEGIN;
SELECT plan(18);

SELECT volatility_is('clcm', 'rfm_score', ARRAY['integer', 'integer', 'integer'], 'immutable');
SELECT is_strict('clcm', 'rfm_score', ARRAY['integer', 'integer', 'integer']);
SELECT isnt_definer('clcm', 'rfm_score', ARRAY['integer', 'integer', 'integer']);
SELECT volatility_is('clcm', 'rfm_segment', ARRAY['integer'], 'immutable');
SELECT is_strict('clcm', 'rfm_segment', ARRAY['integer']);
SELECT isnt_definer('clcm', 'rfm_segment', ARRAY['integer']);
SELECT volatility_is('clcm', 'rfm_tier', ARRAY['integer'], 'immutable');
SELECT is_strict('clcm', 'rfm_tier', ARRAY['integer']);
SELECT isnt_definer('clcm', 'rfm_tier', ARRAY['integer']);

SELECT is(clcm.rfm_score(3, 2, 1), 321, 'score digits are r f m');
SELECT is(clcm.rfm_segment(554), 'Champions', '554 is a champion');
SELECT is(clcm.rfm_segment(115), 'Lost', '115 is lost (monetary does not count)');
SELECT is(clcm.rfm_tier(551), 'high', 'r+f+m = 11 is high');

-- 22023 for every bad rank or score
SELECT throws_ok($$SELECT clcm.rfm_score(0, 1, 1)$$, '22023',
                 'recency rank must be between 1 and 5, not 0', 'recency rank 0');
SELECT throws_ok($$SELECT clcm.rfm_score(1, 6, 1)$$, '22023',
                 'frequency rank must be between 1 and 5, not 6', 'frequency rank 6');
SELECT throws_ok($$SELECT clcm.rfm_score(1, 1, -3)$$, '22023', NULL, 'monetary rank -3');
SELECT throws_ok($$SELECT clcm.rfm_segment(160)$$, '22023', 'invalid RFM score 160', 'score with a 6');
SELECT throws_ok($$SELECT clcm.rfm_tier(1111)$$, '22023', 'invalid RFM score 1111', 'four-digit score');

SELECT * FROM finish();
ROLLBACK;
