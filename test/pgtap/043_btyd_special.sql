-- 043_btyd_special: the hypergeometric function: domain errors and values.
BEGIN;
SELECT plan(10);
SELECT throws_ok($$SELECT clcm.hyp2f1(1, 1, -2, 0.5)$$, '22023', NULL, 'c a non-positive integer');
SELECT throws_ok($$SELECT clcm.hyp2f1(1, 1, 2, 1)$$, '22023', NULL, 'z = 1');
SELECT throws_ok($$SELECT clcm.hyp2f1(1, 1, 2, 7)$$, '22023', NULL, 'z > 1');
SELECT throws_ok($$SELECT clcm.hyp2f1('NaN', 1, 2, 0.5)$$, '22023', NULL, 'NaN parameter');
SELECT throws_ok($$SELECT clcm.hyp2f1(1, 1, 2, '-Infinity')$$, '22023', NULL, 'infinite z');
SELECT ok(abs(clcm.hyp2f1(1, 1, 2, 0.5) - 2 * ln(2)) < 1e-15, '2F1(1,1;2;1/2) = 2 ln 2');
SELECT ok(abs(clcm.hyp2f1(0.5, 1, 1.5, -1) - pi() / 4) < 1e-15, '2F1(1/2,1;3/2;-1) = pi/4');
-- Gauss's theorem at z -> 1: 2F1(a,b;c;1) = G(c)G(c-a-b)/(G(c-a)G(c-b)); for
-- a = b = 1/2, c = 2: G(2)G(1)/G(3/2)^2 = 4/pi
SELECT ok(abs(clcm.hyp2f1(0.5, 0.5, 2, 0.999999999) - 4 / pi()) < 1e-7, 'Gauss summation near z = 1');
SELECT throws_ok($$SELECT clcm.hyp2f1(1, 1, 2, -1e300)$$, '22003', NULL, 'z too large in magnitude');
SELECT throws_ok($$SELECT clcm.hyp2f1(1e10, 1e10, 1, 0.5)$$, '22003', NULL, 'series that does not converge');
SELECT * FROM finish();
ROLLBACK;
