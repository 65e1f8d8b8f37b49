/*-------------------------------------------------------------------------
 *
 * special.c
 *	  Special functions for the BTYD models: digamma, log-beta,
 *	  log-sum-exp, the Gaussian hypergeometric function 2F1(a, b; c; z)
 *	  for real arguments and z < 1, and the Euler-Maclaurin sum of
 *	  Gamma-function ratios (clcm_gamma_ratio_sum, for BG/BB).
 *
 * 2F1 is evaluated in log space (log of the absolute value plus a sign) so
 * that the large parameters that appear for heavy buyers (a = r + x with x
 * in the hundreds) neither overflow nor lose the result.  The strategy,
 * with the identities used (Abramowitz & Stegun 15.3.3, 15.3.4, 15.3.6;
 * DLMF 15.8.1, 15.8.4):
 *
 *	 z < 0		 Pfaff: F(a,b;c;z) = (1-z)^-a F(a, c-b; c; z/(z-1)), or the
 *				 same with a and b swapped; z/(z-1) lies in (0, 1).
 *	 0 <= z <= 0.9
 *				 power series, either of F itself or of its Euler transform
 *				 F(a,b;c;z) = (1-z)^(c-a-b) F(c-a, c-b; c; z), whichever has
 *				 the smaller parameters (fewer, smaller terms).
 *	 0.9 < z < 1 connection formula to 1 - z (A&S 15.3.6), whose two series
 *				 converge fast; when c-a-b is within 1e-6 of an integer the
 *				 formula has cancelling poles: up to z = 0.995 the series is
 *				 summed as is, beyond that the means of the formula at
 *				 c +- h and c +- 2h (h = 1e-4) are combined by Richardson
 *				 extrapolation (2F1 is analytic in c; error about 1e-12).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "miscadmin.h"

#include "special.h"

/* at most this many series terms before giving up */
#define HYP2F1_MAX_TERMS 2000000
/* use the connection formula above this z */
#define HYP2F1_CONNECT_Z 0.9
/* distance of c-a-b from an integer below which it counts as integer */
#define HYP2F1_INT_EPS 1e-6
/* half-width of the symmetric shift of c used near integer c-a-b */
#define HYP2F1_SHIFT 1e-4
/* near integer c-a-b, plain series up to this z */
#define HYP2F1_SERIES_MAX_Z 0.995

/*
 * Digamma for x > 0: the recurrence psi(x) = psi(x+1) - 1/x lifts x to at
 * least 6, then the asymptotic series (A&S 6.3.18) gives full precision.
 */
double
clcm_digamma(double x)
{
	double		result = 0.0;
	double		f;
	double		f2;

	if (isnan(x) || x <= 0.0)
		return NAN;
	while (x < 6.0)
	{
		result -= 1.0 / x;
		x += 1.0;
	}
	f = 1.0 / x;
	f2 = f * f;
	result += log(x) - 0.5 * f
		- f2 * (1.0 / 12 - f2 * (1.0 / 120 - f2 * (1.0 / 252 - f2 * (1.0 / 240
																	 - f2 * (1.0 / 132)))));
	return result;
}

/* log B(a, b) through lgamma; a, b > 0 */
double
clcm_lbeta(double a, double b)
{
	return lgamma(a) + lgamma(b) - lgamma(a + b);
}

/* log(exp(u) + exp(v)), exact for infinite arguments */
double
clcm_logaddexp(double u, double v)
{
	double		m = Max(u, v);

	if (m == -INFINITY)
		return -INFINITY;
	return m + log1p(exp(Min(u, v) - m));
}

/* 16-point Gauss-Legendre nodes and weights on [-1, 1], positive half */
static const double GL16Node[8] = {
	0.095012509837637441, 0.28160355077925892, 0.45801677765722737,
	0.61787624440264377, 0.755404408355003, 0.86563120238783176,
	0.9445750230732326, 0.98940093499164994
};
static const double GL16Weight[8] = {
	0.18945061045506847, 0.18260341504492361, 0.16915651939500256,
	0.14959598881657682, 0.12462897125553395, 0.095158511682492897,
	0.062253523938647776, 0.027152459411754058
};

/*
 * log |Gamma(x)| with its sign; for a non-positive integer x the function
 * has a pole: returns +infinity and sign 0 (so 1/Gamma(x) = 0).
 */
static double
LogGammaSigned(double x, int *sign)
{
	int			s;
	double		v;

	if (x <= 0.0 && x == floor(x))
	{
		*sign = 0;
		return INFINITY;
	}
	v = lgamma_r(x, &s);
	*sign = s;
	return v;
}

/* true when x is a non-positive integer */
static bool
IsNonPositiveInteger(double x)
{
	return x <= 0.0 && x == floor(x);
}

/*
 * Sum the power series of 2F1(a, b; c; z), rescaling when it grows large
 * (the log of the scale is kept apart).  One division per term: the ratio
 * of the next term is computed once and serves both the tail bound and the
 * next step.  Stops when the remaining tail, bounded by a geometric series
 * with ratio max(|next ratio|, |z|) < 1, is below 1e-17 of the sum.
 * Returns false if the series did not converge within HYP2F1_MAX_TERMS
 * terms.  On success *logabs and *sign describe the sum.
 */
static bool
Hyp2f1Series(double a, double b, double c, double z, double *logabs,
			 int *sign)
{
	double		sum = 1.0;
	double		term = 1.0;
	double		logscale = 0.0;
	double		ratio = a * b / c * z;
	double		az = fabs(z);
	long		k;

	for (k = 0; k < HYP2F1_MAX_TERMS; k++)
	{
		double		k1 = (double) (k + 1);
		double		rho;

		term *= ratio;
		sum += term;
		if (term == 0.0)
			break;
		if (fabs(sum) > 1e250 || fabs(term) > 1e250)
		{
			sum *= 1e-250;
			term *= 1e-250;
			logscale += 250.0 * M_LN10;
		}
		ratio = (a + k1) * (b + k1) / ((c + k1) * (k1 + 1.0)) * z;
		rho = Max(fabs(ratio), az);
		if (rho < 1.0 && fabs(term) * rho <= 1e-17 * fabs(sum) * (1.0 - rho))
			break;
		if ((k & 4095) == 4095)
			CHECK_FOR_INTERRUPTS();
	}
	if (k >= HYP2F1_MAX_TERMS)
		return false;
	if (sum == 0.0)
	{
		*sign = 0;
		*logabs = -INFINITY;
	}
	else
	{
		*sign = sum > 0 ? 1 : -1;
		*logabs = log(fabs(sum)) + logscale;
	}
	return true;
}

/* how hard the series with parameters a, b is (smaller is easier) */
static double
SeriesCost(double a, double b)
{
	if (IsNonPositiveInteger(a) || IsNonPositiveInteger(b))
		return Min(IsNonPositiveInteger(a) ? fabs(a) : INFINITY,
				   IsNonPositiveInteger(b) ? fabs(b) : INFINITY);
	return fabs(a) + fabs(b);
}

/* error for a series that does not converge */
static void
Hyp2f1NoConvergence(double a, double b, double c, double z)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("hypergeometric function 2F1(%g, %g; %g; %g) did not converge",
					a, b, c, z),
			 errdetail("The parameters are too large for the series evaluation.")));
}

/*
 * 2F1 for 0 <= z <= ~0.9 (also used for the small argument 1 - z of the
 * connection formula): plain series or Euler transform, whichever is
 * cheaper.
 */
static double
Hyp2f1NearZero(double a, double b, double c, double z, int *sign)
{
	double		logabs;

	if (z == 0.0)
	{
		*sign = 1;
		return 0.0;
	}
	if (SeriesCost(c - a, c - b) < SeriesCost(a, b) && z < 1.0)
	{
		if (!Hyp2f1Series(c - a, c - b, c, z, &logabs, sign))
			Hyp2f1NoConvergence(a, b, c, z);
		return logabs + (c - a - b) * log1p(-z);
	}
	if (!Hyp2f1Series(a, b, c, z, &logabs, sign))
		Hyp2f1NoConvergence(a, b, c, z);
	return logabs;
}

/*
 * Add two signed log-magnitudes: log|s1 e^l1 + s2 e^l2| with its sign.
 */
static double
SignedLogAdd(double l1, int s1, double l2, int s2, int *sign)
{
	double		m;
	double		v;

	if (s1 == 0)
	{
		*sign = s2;
		return l2;
	}
	if (s2 == 0)
	{
		*sign = s1;
		return l1;
	}
	m = Max(l1, l2);
	v = s1 * exp(l1 - m) + s2 * exp(l2 - m);
	if (v == 0.0)
	{
		*sign = 0;
		return -INFINITY;
	}
	*sign = v > 0 ? 1 : -1;
	return m + log(fabs(v));
}

/*
 * Connection formula (A&S 15.3.6) for 0.9 < z < 1 with c-a-b not an
 * integer:
 *	 F(a,b;c;z) = G(c)G(c-a-b)/(G(c-a)G(c-b)) F(a, b; a+b-c+1; 1-z)
 *				+ (1-z)^(c-a-b) G(c)G(a+b-c)/(G(a)G(b)) F(c-a, c-b; c-a-b+1; 1-z)
 */
static double
Hyp2f1Connection(double a, double b, double c, double z, int *sign)
{
	double		w = 1.0 - z;
	double		d = c - a - b;
	double		l1 = 0.0;
	double		l2 = 0.0;
	int			s1 = 0;
	int			s2 = 0;
	int			sg;
	double		lg;
	int			sf;
	double		lf;

	/* first term: vanishes when c-a or c-b is a non-positive integer */
	if (!IsNonPositiveInteger(c - a) && !IsNonPositiveInteger(c - b))
	{
		s1 = 1;
		lg = LogGammaSigned(c, &sg);
		l1 += lg;
		s1 *= sg;
		lg = LogGammaSigned(d, &sg);
		l1 += lg;
		s1 *= sg;
		lg = LogGammaSigned(c - a, &sg);
		l1 -= lg;
		s1 *= sg;
		lg = LogGammaSigned(c - b, &sg);
		l1 -= lg;
		s1 *= sg;
		lf = Hyp2f1NearZero(a, b, 1.0 - d, w, &sf);
		l1 += lf;
		s1 *= sf;
	}
	/* second term: vanishes when a or b is a non-positive integer */
	if (!IsNonPositiveInteger(a) && !IsNonPositiveInteger(b))
	{
		s2 = 1;
		lg = LogGammaSigned(c, &sg);
		l2 += lg;
		s2 *= sg;
		lg = LogGammaSigned(-d, &sg);
		l2 += lg;
		s2 *= sg;
		lg = LogGammaSigned(a, &sg);
		l2 -= lg;
		s2 *= sg;
		lg = LogGammaSigned(b, &sg);
		l2 -= lg;
		s2 *= sg;
		l2 += d * log(w);
		lf = Hyp2f1NearZero(c - a, c - b, 1.0 + d, w, &sf);
		l2 += lf;
		s2 *= sf;
	}
	return SignedLogAdd(l1, s1, l2, s2, sign);
}

/* log |v| with the sign of v */
static double
SignedLog(double v, int *sign)
{
	if (v == 0.0)
	{
		*sign = 0;
		return -INFINITY;
	}
	*sign = v > 0 ? 1 : -1;
	return log(fabs(v));
}

/*
 * Richardson-extrapolated symmetric mean of the connection formula around
 * c (see Hyp2f1Unit), computed relative to the largest of the four values
 * so that nothing overflows.
 */
static double
Hyp2f1ShiftedMean(double a, double b, double c, double z, int *sign)
{
	double		l[4];
	int			sg[4];
	double		m = -INFINITY;
	double		v;
	int			i;

	l[0] = Hyp2f1Connection(a, b, c + HYP2F1_SHIFT, z, &sg[0]);
	l[1] = Hyp2f1Connection(a, b, c - HYP2F1_SHIFT, z, &sg[1]);
	l[2] = Hyp2f1Connection(a, b, c + 2.0 * HYP2F1_SHIFT, z, &sg[2]);
	l[3] = Hyp2f1Connection(a, b, c - 2.0 * HYP2F1_SHIFT, z, &sg[3]);
	for (i = 0; i < 4; i++)
		if (sg[i] != 0)
			m = Max(m, l[i]);
	if (m == -INFINITY)
		return SignedLog(0.0, sign);
	/* (4 (F(+h) + F(-h)) / 2 - (F(+2h) + F(-2h)) / 2) / 3 */
	v = (2.0 * (sg[0] * exp(l[0] - m) + sg[1] * exp(l[1] - m)) -
		 0.5 * (sg[2] * exp(l[2] - m) + sg[3] * exp(l[3] - m))) / 3.0;
	return SignedLog(v, sign) + m;
}

/*
 * Estimated number of terms of the power series of 2F1(A, B; C; z) when all
 * its terms are positive (A, B, C > 0, 0 <= z < 1), or infinity when they
 * are not.  The term ratio (A+k)(B+k)z/((C+k)(k+1)) exceeds 1 up to the
 * larger root of (z-1)k^2 + (z(A+B) - C - 1)k + zAB - C = 0 (the peak);
 * beyond it the terms fall roughly like z^k.
 */
static double
PositiveSeriesCost(double A, double B, double C, double z)
{
	double		qa = z - 1.0,
				qb = z * (A + B) - C - 1.0,
				qc = z * A * B - C;
	double		disc = qb * qb - 4.0 * qa * qc;
	double		kpeak = 0.0;

	if (!(A > 0.0 && B > 0.0 && C > 0.0))
		return INFINITY;
	if (disc > 0.0)
		kpeak = Max(0.0, (-qb - sqrt(disc)) / (2.0 * qa));
	return kpeak + 50.0 / (1.0 - z);
}

/*
 * log 2F1(a, b; a+1; z) for a > 0, b > 0, 0 <= z < 1 by the Euler integral
 *	 2F1(a, b; a+1; z) = a int_0^1 v^(a-1) (1 - z v)^-b dv
 *					   = a int_0^inf e^phi(w) dw,
 *	 phi(w) = -a w - b log(1 - z e^-w)		(v = e^-w).
 * phi is convex and falls from phi(0) = -b log(1-z) with slope
 * -(a + b z e^-w / (1 - z e^-w)), between -(a + bz/(1-z)) and -a.  Composite
 * 16-point Gauss-Legendre on panels one local decay length long (1/|phi'|
 * at the panel start, so e^phi falls by about e per panel), until the
 * integrand times the slowest decay length 1/a is below 1e-18 of the sum:
 * a few dozen panels for any z, with no cancellation (every term is
 * positive).  Used where the power series would need many terms.
 */
static double
Hyp2f1APlusOneIntegral(double a, double b, double z)
{
	double		q = 1.0 - z;	/* exact for z >= 1/2 */
	double		w = 0.0;
	double		sum = 0.0;

	/*
	 * 1 - z e^-u = q - z expm1(-u): a sum of two non-negative parts, so
	 * phi(u) - phi(0) = -a u - b log1p(-z expm1(-u) / q) keeps its
	 * precision even when q is tiny.
	 */
	for (int p = 0; p < 100000; p++)
	{
		double		h = 1.0 / (a + b * z * exp(-w) / (q - z * expm1(-w)));
		double		part = 0.0;
		double		tailw;

		for (int g = 0; g < 16; g++)
		{
			double		u = w + 0.5 * h * (1.0 + (g < 8 ? -1.0 : 1.0) * GL16Node[g & 7]);

			part += GL16Weight[g & 7] * exp(-a * u - b * log1p(-z * expm1(-u) / q));
		}
		sum += 0.5 * h * part;
		w += h;
		tailw = exp(-a * w - b * log1p(-z * expm1(-w) / q));
		if (tailw / a < 1e-18 * sum)
			break;
		if ((p & 63) == 63)
			CHECK_FOR_INTERRUPTS();
	}
	return log(a) - b * log1p(-z) + log(sum);
}

/* up to this size of a, b, c the connection formula keeps 1e-13 */
#define HYP2F1_SMALL_PARAM 20.0

/* positive-term series cheaper than this are summed as they are */
#define HYP2F1_POSITIVE_CHEAP 10000.0

/*
 * 2F1 for a, b, c > 0 and 0 <= z < 1, where the power series has only
 * positive terms and so no cancellation: the plain series or its Euler
 * transform (when that has positive terms too), whichever is cheaper;
 * for the form 2F1(a, b; a+1; z) of the Pareto/NBD likelihood, the
 * integral above when both series are long.  Returns false (nothing
 * computed) when no positive-term method fits within HYP2F1_MAX_TERMS.
 */
static bool
Hyp2f1Positive(double a, double b, double c, double z, double *logabs,
			   int *sign)
{
	double		cost1 = PositiveSeriesCost(a, b, c, z);
	double		cost2 = PositiveSeriesCost(c - a, c - b, c, z);
	double		cost = Min(cost1, cost2);

	if (z == 0.0)
	{
		*sign = 1;
		*logabs = 0.0;
		return true;
	}
	if (cost > HYP2F1_POSITIVE_CHEAP && (c == a + 1.0 || c == b + 1.0))
	{
		*sign = 1;
		*logabs = (c == a + 1.0) ? Hyp2f1APlusOneIntegral(a, b, z)
			: Hyp2f1APlusOneIntegral(b, a, z);
		return true;
	}
	if (cost > 0.9 * HYP2F1_MAX_TERMS)
		return false;
	if (cost2 < cost1)
	{
		if (!Hyp2f1Series(c - a, c - b, c, z, logabs, sign))
			return false;
		*logabs += (c - a - b) * log1p(-z);
		return true;
	}
	return Hyp2f1Series(a, b, c, z, logabs, sign);
}

/*
 * log |2F1(a, b; c; z)| and its sign for 0 <= z < 1.
 */
static double
Hyp2f1Unit(double a, double b, double c, double z, int *sign)
{
	double		d;
	double		logabs;

	/*
	 * Positive parameters: positive-term methods, except that near z = 1
	 * with small parameters and c - a - b away from an integer (no
	 * Richardson step) the connection formula below is as accurate
	 * (checked on a grid of 1515 points up to 20: 1e-11) and needs no long
	 * series.
	 */
	d = c - a - b;
	if (a > 0.0 && b > 0.0 && c > 0.0 &&
		(z <= HYP2F1_CONNECT_Z || Max(a, Max(b, c)) > HYP2F1_SMALL_PARAM ||
		 fabs(d - rint(d)) < HYP2F1_INT_EPS) &&
		Hyp2f1Positive(a, b, c, z, &logabs, sign))
		return logabs;
	if (z <= HYP2F1_CONNECT_Z ||
		IsNonPositiveInteger(a) || IsNonPositiveInteger(b))
		return Hyp2f1NearZero(a, b, c, z, sign);
	if (fabs(d - rint(d)) < HYP2F1_INT_EPS)
	{
		/*
		 * The connection formula has cancelling poles here.  Up to z = 0.995
		 * the series (at most a few thousand terms) is used as is; beyond,
		 * the symmetric means at c +- h and c +- 2h (error c2 h^2 + c4 h^4)
		 * are combined by Richardson extrapolation, (4 m(h) - m(2h)) / 3,
		 * which leaves O(h^4) plus a rounding error of about eps / h.
		 */
		if (z <= HYP2F1_SERIES_MAX_Z)
			return Hyp2f1NearZero(a, b, c, z, sign);
		return Hyp2f1ShiftedMean(a, b, c, z, sign);
	}
	return Hyp2f1Connection(a, b, c, z, sign);
}

/*
 * log |2F1(a, b; c; z)| with sign, for any real a, b, c (c not a
 * non-positive integer) and z < 1.
 */
double
clcm_hyp2f1_log(double a, double b, double c, double z, int *sign)
{
	if (isnan(a) || isnan(b) || isnan(c) || isnan(z) ||
		isinf(a) || isinf(b) || isinf(c) || isinf(z))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("hypergeometric function arguments must be finite")));
	if (IsNonPositiveInteger(c))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("hypergeometric function 2F1 is undefined for c = %g", c)));
	if (z >= 1.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("hypergeometric function 2F1 needs z < 1, got %g", z)));
	if (z < 0.0)
	{
		/* Pfaff transformations to w = z/(z-1) in (0, 1) */
		double		w = z / (z - 1.0);
		double		l1m = log1p(-z);

		if (w >= 1.0)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("hypergeometric function 2F1 cannot be evaluated at z = %g", z),
					 errdetail("The argument is too large in magnitude.")));

		if (SeriesCost(a, c - b) <= SeriesCost(b, c - a))
			return -a * l1m + Hyp2f1Unit(a, c - b, c, w, sign);
		return -b * l1m + Hyp2f1Unit(c - a, b, c, w, sign);
	}
	return Hyp2f1Unit(a, b, c, z, sign);
}

/* 2F1(a, b; c; z) as a double; overflow is an error, never infinity */
double
clcm_hyp2f1(double a, double b, double c, double z)
{
	int			sign;
	double		l = clcm_hyp2f1_log(a, b, c, z, &sign);
	double		v = sign * exp(l);

	if (!isfinite(v))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("value out of range: overflow"),
				 errdetail("2F1(%g, %g; %g; %g) does not fit in double precision.",
						   a, b, c, z)));
	return v;
}

/*
 * log Gamma(x+a) - log Gamma(x+b) for x + min(a, b) >= 20, without the
 * cancellation of two large lgamma values: Stirling's series written as
 * (a-b) log(zb) + (za-1/2) log1p((a-b)/zb) - (a-b) plus the difference of
 * the Bernoulli terms (A&S 6.1.40; truncation error below 1e-16).
 */
static double
LogGammaRatio(double x, double a, double b)
{
	double		za = x + a,
				zb = x + b;
	double		ia = 1.0 / za,
				ib = 1.0 / zb;
	double		ia2 = ia * ia,
				ib2 = ib * ib;
	double		sa,
				sb;

	sa = ia * (1.0 / 12 - ia2 * (1.0 / 360 - ia2 * (1.0 / 1260 - ia2 * (1.0 / 1680))));
	sb = ib * (1.0 / 12 - ib2 * (1.0 / 360 - ib2 * (1.0 / 1260 - ib2 * (1.0 / 1680))));
	return (a - b) * log(zb) + (za - 0.5) * log1p((a - b) * ib) - (a - b) + (sa - sb);
}

/*
 * psi(x+a) - psi(x+b), psi'(x+a) - psi'(x+b) and psi''(x+a) - psi''(x+b)
 * added to d[0..2], for x + min(a, b) >= 20, from the asymptotic series
 * (A&S 6.3.18, 6.4.11); the first written with log1p against cancellation.
 */
static void
PolygammaDiffs(double x, double a, double b, double *d)
{
	double		z[2];
	double		p0[2],
				p1[2],
				p2[2];

	z[0] = x + a;
	z[1] = x + b;
	for (int j = 0; j < 2; j++)
	{
		double		f = 1.0 / z[j];
		double		f2 = f * f;

		p0[j] = -0.5 * f - f2 * (1.0 / 12 - f2 * (1.0 / 120 - f2 * (1.0 / 252)));
		p1[j] = f + f2 * (0.5 + f * (1.0 / 6 - f2 * (1.0 / 30 - f2 * (1.0 / 42 - f2 * (1.0 / 30)))));
		p2[j] = -f2 * (1.0 + f * (1.0 + f * (0.5 - f2 * (1.0 / 6 - f2 * (1.0 / 6 - f2 * 0.3)))));
	}
	d[0] += log1p((a - b) / z[1]) + p0[0] - p0[1];
	d[1] += p1[0] - p1[1];
	d[2] += p2[0] - p2[1];
}

/*
 * H(x) = log F(x), F(x) = prod_j Gamma(x+a_j)/Gamma(x+b_j) divided by the
 * same at k, and, if d is not NULL, H', H'' and H''' in d[0..2].
 */
static double
GammaRatioLog(const double *a, const double *b, int npairs, double k,
			  double x, double *d)
{
	double		h = 0.0;

	if (d != NULL)
		d[0] = d[1] = d[2] = 0.0;
	for (int j = 0; j < npairs; j++)
	{
		h += LogGammaRatio(x, a[j], b[j]) - LogGammaRatio(k, a[j], b[j]);
		if (d != NULL)
			PolygammaDiffs(x, a[j], b[j], d);
	}
	return h;
}

/*
 * sum_{i=k}^{m} F(i), F(x) = prod_j Gamma(x+a_j)/Gamma(x+b_j) / (the same
 * at x = k), by Euler-Maclaurin summation:
 *	 sum = int_k^m F + (F(k) + F(m))/2 + (F'(m) - F'(k))/12
 *		   - (F'''(m) - F'''(k))/720 + R,
 *	 F' = F H',  F''' = F (H'^3 + 3 H' H'' + H''')	(H = log F).
 * The caller picks k so that sum_j |a_j - b_j| / (k + min(a_j, b_j)) is at
 * most about 0.01 and k + min(a_j, b_j) >= 20: every derivative of H is
 * then that small, and |R| is of the order 1e-3 * 0.01^6 of the sum.  The
 * integral is taken in u = log(x + c), c = min of all a_j and b_j, where
 * the integrand F (x + c) has a logarithmic derivative within 1 +- S,
 * S = sum_j |a_j - b_j|: composite 16-point Gauss-Legendre on panels of at
 * most 1/S (and 0.5) in u, stopped once the integrand is below 1e-18 of
 * the integral and falling faster than e^-u.  Interrupts are checked every
 * 64 panels.
 */
double
clcm_gamma_ratio_sum(const double *a, const double *b, int npairs,
					 double k, double m)
{
	double		c = a[0];
	double		S = 0.0;
	double		U,
				w,
				integral = 0.0,
				h,
				fm,
				ends;
	double		d[3];
	int			npanel;

	for (int j = 0; j < npairs; j++)
	{
		c = Min(c, Min(a[j], b[j]));
		S += fabs(a[j] - b[j]);
	}
	if (m <= k)
		return m == k ? 1.0 : 0.0;
	U = log((m + c) / (k + c));
	w = Min(0.5, 1.0 / Max(S, 1e-3));
	npanel = (int) Min(ceil(U / w), 1e6);
	if (npanel < 1)
		npanel = 1;
	w = U / npanel;
	for (int p = 0; p < npanel; p++)
	{
		double		mid = (p + 0.5) * w;
		double		part = 0.0;

		for (int g = 0; g < 16; g++)
		{
			double		u = mid + (g < 8 ? -0.5 : 0.5) * w * GL16Node[g & 7];
			double		xc = (k + c) * exp(u);

			h = GammaRatioLog(a, b, npairs, k, xc - c, NULL);
			part += GL16Weight[g & 7] * exp(h) * xc;
		}
		integral += 0.5 * w * part;
		if ((p & 63) == 63)
			CHECK_FOR_INTERRUPTS();
		if (p + 1 < npanel)
		{
			double		xe = (k + c) * exp((p + 1) * w);

			h = GammaRatioLog(a, b, npairs, k, xe - c, d);
			if (1.0 + d[0] * xe < -1.0 && exp(h) * xe < 1e-18 * integral)
				break;
		}
	}
	/* end corrections at k (F = 1) and at m */
	(void) GammaRatioLog(a, b, npairs, k, k, d);
	ends = 0.5 - d[0] / 12.0 + (d[0] * d[0] * d[0] + 3.0 * d[0] * d[1] + d[2]) / 720.0;
	h = GammaRatioLog(a, b, npairs, k, m, d);
	fm = exp(h);
	ends += fm * (0.5 + d[0] / 12.0 - (d[0] * d[0] * d[0] + 3.0 * d[0] * d[1] + d[2]) / 720.0);
	return integral + ends;
}
