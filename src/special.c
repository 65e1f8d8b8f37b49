/*-------------------------------------------------------------------------
 *
 * special.c
 *	  Special functions for the BTYD models: digamma, log-beta,
 *	  log-sum-exp and the Gaussian hypergeometric function 2F1(a, b; c; z)
 *	  for real arguments and z < 1.
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
 * log |2F1(a, b; c; z)| and its sign for 0 <= z < 1.
 */
static double
Hyp2f1Unit(double a, double b, double c, double z, int *sign)
{
	double		d;

	if (z <= HYP2F1_CONNECT_Z ||
		IsNonPositiveInteger(a) || IsNonPositiveInteger(b))
		return Hyp2f1NearZero(a, b, c, z, sign);
	d = c - a - b;
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
