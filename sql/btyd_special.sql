-- btyd_special: the Gaussian hypergeometric function 2F1 behind the
-- Pareto/NBD likelihood and the BG/NBD / MBG/NBD expectations.
-- Reference values: closed forms (A&S 15.1.3, 15.1.4, 15.1.5, 15.1.8) and
-- values computed independently with mpmath 1.3 (hyp2f1, 40 digits).
-- Documented accuracy: 1e-13 relative for a, b, c > 0 (positive series
-- terms), otherwise 1e-13 except about 1e-11 when c - a - b is (within
-- 1e-6 of) an integer and z > 0.995 (Richardson-extrapolated shift).
SELECT z,
       abs(clcm.hyp2f1(1, 1, 2, z) / (-ln(1 - z) / z) - 1) < 1e-13 AS within_1e13,
       abs(clcm.hyp2f1(1, 1, 2, z) / (-ln(1 - z) / z) - 1) < 1e-10 AS within_1e10
  FROM unnest(ARRAY[-50, -3, -0.5, 0.001, 0.3, 0.5, 0.89, 0.95, 0.999, 0.99999]::float8[]) AS z
 ORDER BY z;
-- 2F1(a, b; b; z) = (1 - z)^-a (A&S 15.1.8)
SELECT a, z,
       abs(clcm.hyp2f1(a, 2.5, 2.5, z) / power(1 - z, -a) - 1) < 1e-12 AS power_identity
  FROM unnest(ARRAY[0.3, 7.5, 40]::float8[]) AS a,
       unnest(ARRAY[-9, -0.2, 0.4, 0.95, 0.9999]::float8[]) AS z
 ORDER BY a, z;
-- 2F1(1/2, 1; 3/2; -x^2) = atan(x)/x (A&S 15.1.5); 2F1(1/2, 1/2; 3/2; x^2) = asin(x)/x (15.1.6)
SELECT x,
       abs(clcm.hyp2f1(0.5, 1, 1.5, -x * x) / (atan(x) / x) - 1) < 1e-13 AS atan_identity,
       abs(clcm.hyp2f1(0.5, 0.5, 1.5, x * x) / (asin(x) / x) - 1) < 1e-11 AS asin_identity
  FROM unnest(ARRAY[0.1, 0.7, 0.97, 0.9999]::float8[]) AS x
 ORDER BY x;
-- terminating series: 2F1(-2, b; c; z) = 1 - 2bz/c + b(b+1)z^2/(c(c+1))
SELECT abs(clcm.hyp2f1(-2, 3, 4, 0.98) - (1 - 2 * 3 * 0.98 / 4 + 3 * 4 * 0.98^2 / (4 * 5))) < 1e-14 AS terminating;
-- values from mpmath, including z near 1, large parameters and z << 0
SELECT a, b, c, z,
       abs(clcm.hyp2f1(a, b, c, z) / ref - 1) < 1e-11 AS matches_mpmath
  FROM (VALUES (0.3, 1.2, 2.5, 0.4, 1.0697861963930576814),
               (2.3, 1.7, 3.1, 0.99, 132.78172154015351169),
               (2.3, 1.7, 4.0, 0.99, 15.774597393856355723),
               (31.24, 33.43, 32.2188, 0.5, 5764291493.0232845243),
               (0.5, 0.5, 1.5, -20, 0.4926695585082441873),
               (1.5, 2.5, 3.25, 0.9999, 2642.0982707426574236),
               (30, 30, 31, 0.999, 1.034445815544266278e+87)
       ) AS v(a, b, c, z, ref)
 ORDER BY a, b, c, z;
-- harden-15: large parameters with 0.9 < z < 1 (the Pareto/NBD likelihood
-- 2F1(r+s+x, b; r+s+x+1; z) with alpha >> beta, and heavy buyers) went
-- through the connection formula, whose Gamma ratios and alternating
-- series cancel: 2F1(10000, 0.7; 10001; 0.99) came out as e^164 instead of
-- e^3.2, 2F1(200, 0.7; 201; 0.92) 4e-4 off.  With a, b, c > 0 every series
-- term is positive, so the series (or its Euler transform, or for
-- c = a + 1 the Euler integral) has no cancellation.  Reference: the plain
-- series summed here in SQL (log-terms by a running sum; 30001 terms cover
-- each case by far).
WITH p(a, b, c, z) AS (
  VALUES (200::float8, 0.7::float8, 201::float8, 0.92::float8), (2000, 1.7, 2001, 0.97),
         (20, 5000, 5000.5, 0.92), (200, 0.5, 230, 0.92), (10000, 0.7, 10001, 0.99)),
t AS (SELECT p.*, sum(ln((a + k) * (b + k) * z / ((c + k) * (k + 1))))
                    OVER (PARTITION BY a, b, c, z ORDER BY k) AS lt
        FROM p, generate_series(0, 30000) k),
s AS (SELECT a, b, c, z, max(lt) AS m FROM t GROUP BY 1, 2, 3, 4),
r AS (SELECT a, b, c, z,
             s.m + ln(exp(greatest(-s.m, -700)) + sum(exp(greatest(t.lt - s.m, -700)))) AS ref
        FROM t JOIN s USING (a, b, c, z) GROUP BY a, b, c, z, s.m)
SELECT a, b, c, z, round(ref::numeric, 6) AS log_ref,
       abs(ln(clcm.hyp2f1(a, b, c, z)) / ref - 1) < 1e-12 AS matches_series
  FROM r ORDER BY a, b;
-- the Euler integral used for c = a + 1 close to z = 1, against the Euler
-- transform (A&S 15.3.3) 2F1(3, 2.5; 4; z) = (1-z)^-1.5 2F1(1, 1.5; 4; z):
-- at these z the left side is the integral and the right side the long
-- series (0.9995) or the connection formula (closer to 1), independent
-- methods
SELECT z, abs(clcm.hyp2f1(3, 2.5, 4, z) * power(1 - z, 1.5)
              / (clcm.hyp2f1(1, 1.5, 4, z)) - 1) < 1e-12 AS euler_transform_identity
  FROM unnest(ARRAY[0.9995, 0.99999, 0.9999999]::float8[]) AS z
 ORDER BY z;
-- the domain: c a non-positive integer, z >= 1, non-finite arguments
SELECT clcm.hyp2f1(1, 1, -2, 0.5);
SELECT clcm.hyp2f1(1, 1, 2, 1);
SELECT clcm.hyp2f1('nan', 1, 2, 0.5);
