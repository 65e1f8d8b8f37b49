/*-------------------------------------------------------------------------
 *
 * btyd_score.c
 *	  Scoring with fitted BTYD models: P(alive), conditional and
 *	  unconditional expected purchases, P(X(t) = n), Gamma-Gamma expected
 *	  spend, discounted CLV and churn-risk buckets.
 *
 * One C function per score serves every model type: the SQL overloads
 * (one per type) point at the same symbol and the code dispatches on the
 * kind tag of the model.  All scores are pure (IMMUTABLE STRICT PARALLEL
 * SAFE); times are in the unit the model was fitted in.  Formulas and
 * references are in doc/btyd.md.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "btyd.h"
#include "special.h"

/* largest n of clcm.p_purchases (its sums run over 0..n) */
#define BTYD_MAX_COUNT_N 1e7

/* most discount periods clcm.clv accepts */
#define CLV_MAX_PERIODS 100000

/* churn-risk thresholds on 1 - P(alive) */
#define CHURN_MEDIUM_FROM 0.3
#define CHURN_HIGH_FROM 0.7

/* nudge used at the removable singularities a = 1 (BG/NBD) and gamma = 1 */
#define SING_EPS 1e-9
#define SING_SHIFT 1e-6

/* a score must be a finite number: overflow is an error, never NaN */
static double
CheckResult(double v)
{
	if (!isfinite(v))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("value out of range: overflow"),
				 errdetail("The score does not fit in double precision for these arguments.")));
	return v;
}

/* refuse a model whose fit did not converge */
static void
CheckUsable(const ClcmBtydModel *m)
{
	if ((m->flags & BTYD_HAS_CONVERGED) && !(m->flags & BTYD_CONVERGED))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot score with a %s model whose fit did not converge",
						clcm_btyd_kinds[m->kind].name),
				 errhint("Refit with more data or a penalizer; clcm.params() shows the estimate.")));
}

/* raise an invalid-argument error */
static void
BadArg(const char *msg, const char *detail)
{
	if (detail)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s", msg),
				 errdetail("%s", detail)));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s", msg)));
}

/* true if v is a finite integer >= 0 */
static bool
IsCount(double v)
{
	return isfinite(v) && v >= 0.0 && v == floor(v) && v <= 1e9;
}

/*
 * Validate a customer's (frequency, recency, t) for a model kind, with the
 * same rules as the fitting aggregates.
 */
static void
CheckCustomer(BtydKind kind, double x, double tx, double t)
{
	char		buf[128];

	if (!IsCount(x))
		BadArg("frequency must be a non-negative integer", NULL);
	if (kind == BTYD_BGBB)
	{
		if (!IsCount(tx))
			BadArg("recency must be a non-negative integer", NULL);
		if (!IsCount(t))
			BadArg("n must be a non-negative integer", NULL);
		if (t > BTYD_BGBB_MAX_N)
			BadArg("n must not exceed 1000000 periods", NULL);
		if (x > tx)
		{
			snprintf(buf, sizeof(buf), "Frequency is %g and recency is %g.", x, tx);
			BadArg("frequency must not exceed recency", buf);
		}
	}
	else
	{
		if (!isfinite(tx) || tx < 0)
			BadArg("recency must be a finite number not less than zero", NULL);
		if (!isfinite(t) || t < 0)
			BadArg("t must be a finite number not less than zero", NULL);
	}
	if (tx > t)
	{
		snprintf(buf, sizeof(buf), "Recency is %g and t is %g.", tx, t);
		BadArg("recency must not exceed t", buf);
	}
	if (x == 0 && tx != 0)
		BadArg("recency must be 0 when frequency is 0",
			   "Recency is the time from the first to the last purchase.");
	if (x > 0 && tx == 0)
		BadArg("recency must be greater than 0 when frequency is greater than 0",
			   "Repeat purchases happen after the first purchase.");
}

/* validate a horizon (integral for BG/BB) */
static void
CheckHorizon(BtydKind kind, double h)
{
	if (!isfinite(h) || h < 0)
		BadArg("horizon must be a finite number not less than zero", NULL);
	if (kind == BTYD_BGBB && h != floor(h))
		BadArg("horizon of a bgbb model must be a whole number of periods", NULL);
	if (kind == BTYD_BGBB && h > BTYD_BGBB_MAX_N)
		BadArg("horizon of a bgbb model must not exceed 1000000 periods", NULL);
}

/* log P(alive) of a customer */
static double
LogPAlive(const ClcmBtydModel *m, double x, double tx, double t)
{
	const double *p = m->param;

	switch ((BtydKind) m->kind)
	{
		case BTYD_BGNBD:
			{
				/* FHL 2005 / note 021: 1 / (1 + a/(b+x-1) ((al+T)/(al+tx))^(r+x)) */
				double		la;

				if (x == 0)
					return 0.0;
				la = log(p[2]) - log(p[3] + x - 1.0) +
					(p[0] + x) * (log(p[1] + t) - log(p[1] + tx));
				return -clcm_logaddexp(0.0, la);
			}
		case BTYD_MBGNBD:
			{
				/* Batislam et al. 2007: the same with b+x and every x */
				double		la = log(p[2]) - log(p[3] + x) +
					(p[0] + x) * (log(p[1] + t) - log(p[1] + tx));

				return -clcm_logaddexp(0.0, la);
			}
		case BTYD_PARETO:
			{
				double		lt1 = -(p[0] + x) * log(p[1] + t) - p[2] * log(p[3] + t);
				double		lt2 = clcm_pareto_log_a0_term(p, x, tx, t);

				return lt1 - clcm_logaddexp(lt1, lt2);
			}
		case BTYD_BGBB:
			{
				/* FHS 2010 eq. 11: alive at the start of period n+1 */
				BtydEntry	e = {x, tx, t, 1.0};
				double		ll = clcm_btyd_row_ll(BTYD_BGBB, p, &e);

				return clcm_lbeta(p[0] + x, p[1] + t - x) - clcm_lbeta(p[0], p[1]) +
					clcm_lbeta(p[2], p[3] + t + 1.0) - clcm_lbeta(p[2], p[3]) - ll;
			}
		case BTYD_GG:
			break;
	}
	elog(ERROR, "P(alive) is not defined for model kind %d", m->kind);
	return 0;
}

/*
 * (a+b+x-1)/(a-1) * (1 - G) for the BG/NBD (mod = false) or
 * (a+b+x)/(a-1) * (1 - G) for the MBG/NBD, with
 * G = ((al+T)/(al+T+h))^(r+x) 2F1(r+x, b+x[+1]; a+b+x-1[+1]; h/(al+T+h)).
 */
static double
BgnbdExpectationCore(bool mod, double r, double alpha, double a, double b,
					 double x, double t, double h)
{
	double		z = h / (alpha + t + h);
	double		lg;
	int			sg;

	if (fabs(a - 1.0) < SING_EPS)
	{
		/* removable singularity at a = 1: symmetric mean */
		return 0.5 * (BgnbdExpectationCore(mod, r, alpha, 1.0 + SING_SHIFT, b, x, t, h) +
					  BgnbdExpectationCore(mod, r, alpha, 1.0 - SING_SHIFT, b, x, t, h));
	}
	if (h == 0)
		return 0.0;
	if (z >= 1.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("horizon %g is too long for this model", h),
				 errdetail("The horizon must be small against 1e15 times alpha + t.")));
	if (!mod)
		lg = clcm_hyp2f1_log(r + x, b + x, a + b + x - 1.0, z, &sg);
	else
		lg = clcm_hyp2f1_log(r + x, b + x + 1.0, a + b + x, z, &sg);
	lg += (r + x) * (log(alpha + t) - log(alpha + t + h));
	if (sg <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("expected purchases cannot be computed for these arguments")));
	return (mod ? a + b + x : a + b + x - 1.0) / (a - 1.0) * -expm1(lg);
}

/*
 * BG/BB: (1/L) B(al+x+1, be+n-x)/B(al,be) delta/(gamma-1)
 *		  Gamma(gamma+delta)/Gamma(1+delta)
 *		  [G(1+de+n)/G(ga+de+n) - G(1+de+n+h)/G(ga+de+n+h)]  (FHS 2010 eq. 13)
 */
static double
BgbbExpectationLL(const double *p, double x, double tx, double n, double h,
				  double ll)
{
	double		al = p[0],
				be = p[1],
				ga = p[2],
				de = p[3];
	BtydEntry	e = {x, tx, n, 1.0};
	double		k,
				d1,
				d2;

	if (h == 0)
		return 0.0;
	if (fabs(ga - 1.0) < SING_EPS)
	{
		double		q[4] = {al, be, 1.0 + SING_SHIFT, de};
		double		v1 = BgbbExpectationLL(q, x, tx, n, h, NAN);

		q[2] = 1.0 - SING_SHIFT;
		return 0.5 * (v1 + BgbbExpectationLL(q, x, tx, n, h, NAN));
	}
	if (isnan(ll))
		ll = clcm_btyd_row_ll(BTYD_BGBB, p, &e);
	k = clcm_lbeta(al + x + 1.0, be + n - x) - clcm_lbeta(al, be)
		- ll
		+ log(de) + lgamma(ga + de) - lgamma(1.0 + de);
	d1 = lgamma(1.0 + de + n) - lgamma(ga + de + n);
	d2 = lgamma(1.0 + de + n + h) - lgamma(ga + de + n + h);
	return exp(k + d1) * -expm1(d2 - d1) / (ga - 1.0);
}

/*
 * BG/BB expectation, computing the log-likelihood L of the pattern (the
 * costly part for large n: a sum over n - tx periods).  ll of
 * BgbbExpectationLL may instead be given by a caller that evaluates many
 * horizons for one customer (clv), or NAN to have it computed.
 */
static double
BgbbExpectation(const double *p, double x, double tx, double n, double h)
{
	return BgbbExpectationLL(p, x, tx, n, h, NAN);
}

/*
 * Conditional expected purchases in (t, t + h] divided by P(alive), for
 * the continuous-time models (whose expectation factors that way).
 */
static double
ExpectationGivenAlive(const ClcmBtydModel *m, double h, double x, double t)
{
	const double *p = m->param;

	switch ((BtydKind) m->kind)
	{
		case BTYD_BGNBD:
			return BgnbdExpectationCore(false, p[0], p[1], p[2], p[3], x, t, h);
		case BTYD_MBGNBD:
			return BgnbdExpectationCore(true, p[0], p[1], p[2], p[3], x, t, h);
		case BTYD_PARETO:
			{
				/*
				 * Schmittlein et al. 1987; note 009 eq. 22:
				 * (r+x)(be+T)/((al+T)(s-1)) [1 - ((be+T)/(be+T+h))^(s-1)] P(alive)
				 */
				double		r = p[0],
							alpha = p[1],
							s = p[2],
							beta = p[3];
				double		u = log1p(h / (beta + t));
				double		f;

				if (fabs(s - 1.0) < 1e-12)
					f = u;
				else
					f = -expm1(-(s - 1.0) * u) / (s - 1.0);
				return (r + x) * (beta + t) / (alpha + t) * f;
			}
		default:
			break;
	}
	elog(ERROR, "expectation given alive is not defined for model kind %d", m->kind);
	return 0;
}

/* conditional expected purchases in (t, t + h] */
static double
ExpectedPurchases(const ClcmBtydModel *m, double h, double x, double tx,
				  double t)
{
	if (m->kind == BTYD_BGBB)
		return BgbbExpectation(m->param, x, tx, t, h);
	if (m->kind == BTYD_GG)
		elog(ERROR, "expected purchases are not defined for model kind %d", m->kind);
	return ExpectationGivenAlive(m, h, x, t) * exp(LogPAlive(m, x, tx, t));
}

/*
 * Memo of expensive scores across the rows of one query.  Scoring a whole
 * customer base calls a function once per row with the same model; many
 * rows share (frequency, recency, t) (everyone without repeat purchases
 * and the same age, with calendar-day summaries), and the 2F1 series
 * behind the expectations costs far more than a lookup.  The cache lives
 * in fn_extra (fn_mcxt, freed with the query): a direct-mapped table keyed
 * by the exact argument values, flushed whenever the model differs
 * bytewise from the one it was filled for.
 */
#define SCORE_CACHE_BITS 14

typedef struct ScoreCacheEntry
{
	double		x;
	double		tx;
	double		t;
	double		h;
	double		value;
} ScoreCacheEntry;

typedef struct ScoreCache
{
	ClcmBtydModel model;		/* the model the entries belong to */
	ScoreCacheEntry e[1 << SCORE_CACHE_BITS];
} ScoreCache;

/* the cache of this call site, flushed if the model changed */
static ScoreCache *
GetScoreCache(FunctionCallInfo fcinfo, const ClcmBtydModel *m)
{
	ScoreCache *c = (ScoreCache *) fcinfo->flinfo->fn_extra;

	if (c == NULL)
	{
		c = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(ScoreCache));
		fcinfo->flinfo->fn_extra = c;
		memset(&c->model, 0, sizeof(ClcmBtydModel));
	}
	if (memcmp(&c->model, m, sizeof(ClcmBtydModel)) != 0)
	{
		int			i;

		memcpy(&c->model, m, sizeof(ClcmBtydModel));
		for (i = 0; i < (1 << SCORE_CACHE_BITS); i++)
			c->e[i].x = -1;		/* no valid key has x < 0 */
	}
	return c;
}

/* slot of a key */
static ScoreCacheEntry *
ScoreCacheSlot(ScoreCache *c, double x, double tx, double t, double h)
{
	uint64		k[4];
	uint64		hash = UINT64CONST(0xCBF29CE484222325);
	int			i;

	memcpy(&k[0], &x, 8);
	memcpy(&k[1], &tx, 8);
	memcpy(&k[2], &t, 8);
	memcpy(&k[3], &h, 8);
	for (i = 0; i < 4; i++)
		hash = (hash ^ k[i]) * UINT64CONST(0x9E3779B97F4A7C15);
	return &c->e[hash >> (64 - SCORE_CACHE_BITS)];
}

/* conditional expected purchases through the call site's cache */
static double
CachedExpectedPurchases(FunctionCallInfo fcinfo, const ClcmBtydModel *m,
						double h, double x, double tx, double t)
{
	ScoreCache *c = GetScoreCache(fcinfo, m);
	ScoreCacheEntry *e = ScoreCacheSlot(c, x, tx, t, h);

	if (e->x == x && e->tx == tx && e->t == t && e->h == h)
		return e->value;
	e->value = ExpectedPurchases(m, h, x, tx, t);
	e->x = x;
	e->tx = tx;
	e->t = t;
	e->h = h;
	return e->value;
}

/* log P(alive), cached for the models where it needs 2F1 or a sum */
static double
CachedLogPAlive(FunctionCallInfo fcinfo, const ClcmBtydModel *m,
				double x, double tx, double t)
{
	ScoreCache *c;
	ScoreCacheEntry *e;

	if (m->kind != BTYD_PARETO && m->kind != BTYD_BGBB)
		return LogPAlive(m, x, tx, t);
	c = GetScoreCache(fcinfo, m);
	e = ScoreCacheSlot(c, x, tx, t, -1.0);
	if (e->x == x && e->tx == tx && e->t == t && e->h == -1.0)
		return e->value;
	e->value = LogPAlive(m, x, tx, t);
	e->x = x;
	e->tx = tx;
	e->t = t;
	e->h = -1.0;
	return e->value;
}

/* P(alive) */
PG_FUNCTION_INFO_V1(clcm_btyd_p_alive);
Datum
clcm_btyd_p_alive(PG_FUNCTION_ARGS)
{
	ClcmBtydModel *m = clcm_btyd_model_arg(fcinfo, 0);
	double		x = PG_GETARG_FLOAT8(1);
	double		tx = PG_GETARG_FLOAT8(2);
	double		t = PG_GETARG_FLOAT8(3);

	CheckUsable(m);
	CheckCustomer(m->kind, x, tx, t);
	PG_RETURN_FLOAT8(CheckResult(exp(CachedLogPAlive(fcinfo, m, x, tx, t))));
}

/* conditional expected purchases in the next `horizon` time units */
PG_FUNCTION_INFO_V1(clcm_btyd_expected_purchases);
Datum
clcm_btyd_expected_purchases(PG_FUNCTION_ARGS)
{
	ClcmBtydModel *m = clcm_btyd_model_arg(fcinfo, 0);
	double		h = PG_GETARG_FLOAT8(1);
	double		x = PG_GETARG_FLOAT8(2);
	double		tx = PG_GETARG_FLOAT8(3);
	double		t = PG_GETARG_FLOAT8(4);

	CheckUsable(m);
	CheckHorizon(m->kind, h);
	CheckCustomer(m->kind, x, tx, t);
	PG_RETURN_FLOAT8(CheckResult(CachedExpectedPurchases(fcinfo, m, h, x, tx, t)));
}

/*
 * Expected purchases of a new customer in (0, horizon]: the conditional
 * expectation at x = recency = t = 0 (which reduces to the published
 * unconditional formulas; see doc/btyd.md).
 */
PG_FUNCTION_INFO_V1(clcm_btyd_expected_purchases_new);
Datum
clcm_btyd_expected_purchases_new(PG_FUNCTION_ARGS)
{
	ClcmBtydModel *m = clcm_btyd_model_arg(fcinfo, 0);
	double		h = PG_GETARG_FLOAT8(1);

	CheckUsable(m);
	CheckHorizon(m->kind, h);
	PG_RETURN_FLOAT8(CheckResult(ExpectedPurchases(m, h, 0, 0, 0)));
}

/*
 * log of the negative-binomial (gamma-Poisson) probabilities:
 * log [ G(r+j)/(G(r) j!) q0^r q1^j ], with q0 = al/(al+t), q1 = t/(al+t).
 */
static double
LogNbPmf(double r, double lq0, double lq1, double j)
{
	return lgamma(r + j) - lgamma(r) - lgamma(j + 1.0) + r * lq0 + j * lq1;
}

/* P(NB >= n) computed without cancellation */
static double
NbUpperTail(double r, double lq0, double lq1, double q1, double n)
{
	double		cdf = 0;
	double		j;

	if (n <= 0)
		return 1.0;
	if (n <= r * q1 / (1.0 - q1) + 1.0)
	{
		/* below the mean: 1 - cdf has no cancellation problem */
		for (j = 0; j < n; j++)
		{
			cdf += exp(LogNbPmf(r, lq0, lq1, j));
			if (((long) j & 4095) == 4095)
				CHECK_FOR_INTERRUPTS();
		}
		return Max(0.0, 1.0 - cdf);
	}
	else
	{
		/* above the mean: sum the tail, whose terms decrease */
		double		tail = 0;
		double		lt = LogNbPmf(r, lq0, lq1, n);
		double		term = exp(lt);

		for (j = n;; j++)
		{
			tail += term;
			term *= (r + j) / (j + 1.0) * q1;
			if (term <= 1e-17 * tail || term == 0)
				break;
			if (((long) j & 4095) == 4095)
				CHECK_FOR_INTERRUPTS();
		}
		return Min(1.0, tail);
	}
}

/*
 * BG/BB P(X(h) = k) for a new customer (FHS 2010 eq. 8):
 *	 C(h,k) B(al+k, be+h-k)/B(al,be) B(ga, de+h)/B(ga,de)
 *	 + sum_{i=k}^{h-1} C(i,k) B(al+k, be+i-k)/B(al,be) B(ga+1, de+i)/B(ga,de).
 * With j = i - k the terms of the sum are t(0) times r(j),
 *	 r(j+1)/r(j) = (k+1+j)/(1+j) (be+j)/(al+be+k+j) (de+k+j)/(ga+1+de+k+j),
 * generated by that ratio for the first j0 terms and summed by
 * Euler-Maclaurin beyond (clcm_gamma_ratio_sum, Gamma pairs (k+1, 1),
 * (be, al+be+k), (de+k, ga+1+de+k)), with j0 large enough for its
 * smoothness condition; a long horizon costs microseconds.
 */
#define BGBB_PNEW_TAIL_MIN 4096
static double
BgbbPNew(const double *p, double k, double h)
{
	double		al = p[0],
				be = p[1],
				ga = p[2],
				de = p[3];
	double		lab = clcm_lbeta(al, be),
				lgd = clcm_lbeta(ga, de);
	double		sum;
	double		J = h - k;		/* terms of the sum */
	double		j0;
	double		r = 1.0,
				S = 0.0;

	if (k > h)
		return 0.0;
	sum = exp(lgamma(h + 1) - lgamma(k + 1) - lgamma(h - k + 1) +
			  clcm_lbeta(al + k, be + h - k) - lab + clcm_lbeta(ga, de + h) - lgd);
	if (J <= 0)
		return sum;
	j0 = ceil(Max(32.0, (2.0 * k + al + ga + 1.0) / 0.01));
	if (J - j0 < BGBB_PNEW_TAIL_MIN)
		j0 = J;
	for (double j = 0; j < j0; j++)
	{
		S += r;
		r *= (k + 1.0 + j) / (1.0 + j) * ((be + j) / (al + be + k + j))
			* ((de + k + j) / (ga + 1.0 + de + k + j));
		if (((int64) j & 65535) == 65535)
			CHECK_FOR_INTERRUPTS();
	}
	if (j0 < J)
	{
		double		qa[3],
					qb[3];

		qa[0] = k + 1.0;
		qb[0] = 1.0;
		qa[1] = be;
		qb[1] = al + be + k;
		qa[2] = de + k;
		qb[2] = ga + 1.0 + de + k;
		S += r * clcm_gamma_ratio_sum(qa, qb, 3, j0, J - 1.0);
	}
	return sum + exp(clcm_lbeta(al + k, be) - lab +
					 clcm_lbeta(ga + 1.0, de + k) - lgd + log(S));
}

/* Gauss-Legendre nodes and weights on [-1, 1], computed once */
#define GL_N 20
static double clcm_gl_x[GL_N];
static double clcm_gl_w[GL_N];
static bool clcm_gl_ready = false;

/* Newton iteration on the Legendre polynomial P_20 (Numerical Recipes' gauleg) */
static void
GaussLegendreInit(void)
{
	int			i;

	for (i = 0; i < (GL_N + 1) / 2; i++)
	{
		double		z = cos(M_PI * (i + 0.75) / (GL_N + 0.5));
		double		pp = 0;
		int			it;

		for (it = 0; it < 100; it++)
		{
			double		p1 = 1.0,
						p2 = 0.0,
						z1;
			int			j;

			for (j = 1; j <= GL_N; j++)
			{
				double		p3 = p2;

				p2 = p1;
				p1 = ((2.0 * j - 1.0) * z * p2 - (j - 1.0) * p3) / j;
			}
			pp = GL_N * (z * p1 - p2) / (z * z - 1.0);
			z1 = z;
			z = z1 - p1 / pp;
			if (fabs(z - z1) < 1e-15)
				break;
		}
		clcm_gl_x[i] = -z;
		clcm_gl_x[GL_N - 1 - i] = z;
		clcm_gl_w[i] = clcm_gl_w[GL_N - 1 - i] = 2.0 / ((1.0 - z * z) * pp * pp);
	}
	clcm_gl_ready = true;
}

/* integrand of the Pareto/NBD P(X(t) = n): see ParetoPNew */
static double
ParetoPIntegrand(const double *p, double n, double t, double u)
{
	double		tu = t * u;

	if (u <= 0.0)
		return n > 0 ? 0.0 : exp(-p[0] * log(p[1]) - (p[2] + 1.0) * log(p[3]));
	return exp(n * (log(tu) - log(p[1] + tu)) - p[0] * log(p[1] + tu)
			   - (p[2] + 1.0) * log(p[3] + tu));
}

/* 20-point Gauss-Legendre on [a, b] */
static double
ParetoPPanel(const double *p, double n, double t, double a, double b)
{
	double		half = 0.5 * (b - a),
				mid = 0.5 * (a + b),
				sum = 0;
	int			i;

	for (i = 0; i < GL_N; i++)
		sum += clcm_gl_w[i] * ParetoPIntegrand(p, n, t, mid + half * clcm_gl_x[i]);
	return sum * half;
}

/* most Gauss-Legendre panels one ParetoPNew may use */
#define GL_MAX_PANELS 400

/*
 * Adaptive bisection until a panel agrees with its two halves to tol (an
 * absolute tolerance, 1e-14 of the first estimate of the whole integral),
 * within a budget of GL_MAX_PANELS panels for the whole integral.
 */
static double
ParetoPAdaptive(const double *p, double n, double t, double a, double b,
				double whole, double tol, int *budget)
{
	double		m = 0.5 * (a + b);
	double		left,
				right;

	if (*budget < 2)
		return whole;
	*budget -= 2;
	left = ParetoPPanel(p, n, t, a, m);
	right = ParetoPPanel(p, n, t, m, b);
	if (fabs(left + right - whole) <= tol || b - a < 1e-12)
		return left + right;
	CHECK_FOR_INTERRUPTS();
	left = ParetoPAdaptive(p, n, t, a, m, left, 0.5 * tol, budget);
	return left + ParetoPAdaptive(p, n, t, m, b, right, 0.5 * tol, budget);
}

/*
 * Pareto/NBD P(X(h) = n) for a new customer, from the model's definition:
 * given (lambda, mu), X(h) = N(min(tau, h)) with tau ~ Exp(mu), so
 *	 P = C [ (al/(al+h))^r (h/(al+h))^n (be/(be+h))^s
 *		   + s al^r be^s h Int_0^1 (hu/(al+hu))^n (al+hu)^-r (be+hu)^-(s+1) du ]
 * with C = G(r+n)/(G(r) n!); the integral (an Appell function) is
 * evaluated by adaptive Gauss-Legendre quadrature; its integrand is
 * bounded by al^-r be^-(s+1), so nothing overflows.
 */
static double
ParetoPNew(const double *p, double n, double h)
{
	double		r = p[0],
				alpha = p[1],
				s = p[2],
				beta = p[3];
	double		lc = lgamma(r + n) - lgamma(r) - lgamma(n + 1.0);
	double		first,
				integral,
				scale;
	int			budget;

	if (h == 0)
		return n == 0 ? 1.0 : 0.0;
	if (!clcm_gl_ready)
		GaussLegendreInit();
	first = exp(lc + r * (log(alpha) - log(alpha + h)) +
				n * (log(h) - log(alpha + h)) + s * (log(beta) - log(beta + h)));
	integral = ParetoPPanel(p, n, h, 0.0, 1.0);
	budget = GL_MAX_PANELS;
	integral = ParetoPAdaptive(p, n, h, 0.0, 1.0, integral,
							   1e-14 * Max(fabs(integral), 1e-300), &budget);
	scale = exp(lc + log(s) + r * log(alpha) + s * log(beta) + log(h));
	return first + scale * integral;
}

/* P(X(horizon) = n) for a new customer */
PG_FUNCTION_INFO_V1(clcm_btyd_p_purchases);
Datum
clcm_btyd_p_purchases(PG_FUNCTION_ARGS)
{
	ClcmBtydModel *m = clcm_btyd_model_arg(fcinfo, 0);
	double		n = PG_GETARG_FLOAT8(1);
	double		h = PG_GETARG_FLOAT8(2);
	const double *p = m->param;
	double		res = 0;

	CheckUsable(m);
	if (!IsCount(n))
		BadArg("number of purchases must be a non-negative integer", NULL);
	if (n > BTYD_MAX_COUNT_N)
		BadArg("number of purchases must not exceed 10000000", NULL);
	CheckHorizon(m->kind, h);
	switch ((BtydKind) m->kind)
	{
		case BTYD_BGNBD:
		case BTYD_MBGNBD:
			{
				bool		mod = m->kind == BTYD_MBGNBD;
				double		r = p[0],
							alpha = p[1],
							a = p[2],
							b = p[3];
				double		lq0,
							lq1,
							q1;
				double		lab = clcm_lbeta(a, b);

				if (h == 0)
				{
					/* nothing can happen in an empty interval */
					if (mod)
						res = (n == 0) ? 1.0 : 0.0;
					else
						res = (n == 0) ? 1.0 : 0.0;
					break;
				}
				lq0 = log(alpha) - log(alpha + h);
				lq1 = log(h) - log(alpha + h);
				q1 = h / (alpha + h);
				/* FHL 2005 eq. 9; MBG/NBD: lifetimes' form */
				res = exp(clcm_lbeta(a, b + n + (mod ? 1.0 : 0.0)) - lab +
						  LogNbPmf(r, lq0, lq1, n));
				if (mod)
					res += exp(clcm_lbeta(a + 1.0, b + n) - lab) *
						NbUpperTail(r, lq0, lq1, q1, n);
				else if (n > 0)
					res += exp(clcm_lbeta(a + 1.0, b + n - 1.0) - lab) *
						NbUpperTail(r, lq0, lq1, q1, n);
				break;
			}
		case BTYD_BGBB:
			res = BgbbPNew(p, n, h);
			break;
		case BTYD_PARETO:
			res = ParetoPNew(p, n, h);
			break;
		default:
			elog(ERROR, "P(X(t) = n) is not implemented for model kind %d", m->kind);
	}
	CheckResult(res);
	PG_RETURN_FLOAT8(Min(Max(res, 0.0), 1.0));
}

/* Gamma-Gamma E[M | x, mbar] = p (gamma + x mbar) / (p x + q - 1) */
static double
ExpectedSpend(const ClcmBtydModel *gg, double x, double mbar)
{
	double		p = gg->param[0],
				q = gg->param[1],
				v = gg->param[2];

	if (!IsCount(x))
		BadArg("frequency must be a non-negative integer", NULL);
	if (!isfinite(mbar) || mbar < 0)
		BadArg("monetary value must be a finite number not less than zero", NULL);
	if (x > 0 && mbar == 0)
		BadArg("monetary value must be greater than zero when frequency is greater than 0", NULL);
	if (p * x + q <= 1.0)
		BadArg("expected spend is undefined when p * frequency + q <= 1",
			   "The population mean spend p * gamma / (q - 1) exists only for q > 1.");
	return p * (v + x * mbar) / (p * x + q - 1.0);
}

/* clcm.expected_spend(gamma_gamma, frequency, monetary) */
PG_FUNCTION_INFO_V1(clcm_gamma_gamma_expected_spend);
Datum
clcm_gamma_gamma_expected_spend(PG_FUNCTION_ARGS)
{
	ClcmBtydModel *gg = clcm_btyd_model_arg(fcinfo, 0);

	CheckUsable(gg);
	PG_RETURN_FLOAT8(CheckResult(ExpectedSpend(gg, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2))));
}

/* memo of clcm.clv per call site (see GetScoreCache); key (x, tx, t, m) */
#define CLV_CACHE_BITS 12

typedef struct ClvCache
{
	ClcmBtydModel model;
	ClcmBtydModel gg;
	int32		hp;
	double		d;
	ScoreCacheEntry e[1 << CLV_CACHE_BITS];	/* h holds the monetary value */
} ClvCache;

/* slot of a clv key */
static int
ClvSlot(double x, double tx, double t, double m)
{
	uint64		k[4];
	uint64		hash = UINT64CONST(0xCBF29CE484222325);
	int			i;

	memcpy(&k[0], &x, 8);
	memcpy(&k[1], &tx, 8);
	memcpy(&k[2], &t, 8);
	memcpy(&k[3], &m, 8);
	for (i = 0; i < 4; i++)
		hash = (hash ^ k[i]) * UINT64CONST(0x9E3779B97F4A7C15);
	return (int) (hash >> (64 - CLV_CACHE_BITS));
}

/*
 * clcm.clv(model, gg, frequency, recency, t, monetary, horizon_periods,
 * discount_rate): sum over periods i = 1..H of the expected purchases in
 * period i (model time unit) times the expected spend, discounted by
 * (1 + d)^i.
 */
PG_FUNCTION_INFO_V1(clcm_btyd_clv);
Datum
clcm_btyd_clv(PG_FUNCTION_ARGS)
{
	ClcmBtydModel *m = clcm_btyd_model_arg(fcinfo, 0);
	ClcmBtydModel *gg = clcm_btyd_model_arg(fcinfo, 1);
	double		x = PG_GETARG_FLOAT8(2);
	double		tx = PG_GETARG_FLOAT8(3);
	double		t = PG_GETARG_FLOAT8(4);
	double		mbar = PG_GETARG_FLOAT8(5);
	int32		hp = PG_GETARG_INT32(6);
	double		d = PG_GETARG_FLOAT8(7);
	double		spend;
	double		prev = 0;
	double		clv = 0;
	double		disc = 1.0;
	int			i;
	ClvCache   *cache;
	ScoreCacheEntry *slot;
	double		palive = 1.0;
	double		bgbb_ll = NAN;

	CheckUsable(m);
	CheckUsable(gg);
	CheckCustomer(m->kind, x, tx, t);
	if (hp < 0 || hp > CLV_MAX_PERIODS)
		BadArg("horizon_periods must be between 0 and 100000", NULL);
	if (!isfinite(d) || d < 0)
		BadArg("discount_rate must be a finite number not less than zero",
			   "The rate is per period of the model's time unit.");
	spend = ExpectedSpend(gg, x, mbar);

	/* memo: customers with the same history share the result */
	cache = (ClvCache *) fcinfo->flinfo->fn_extra;
	if (cache == NULL)
	{
		cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(ClvCache));
		fcinfo->flinfo->fn_extra = cache;
		cache->hp = -1;
	}
	if (memcmp(&cache->model, m, sizeof(ClcmBtydModel)) != 0 ||
		memcmp(&cache->gg, gg, sizeof(ClcmBtydModel)) != 0 ||
		cache->hp != hp || cache->d != d)
	{
		int			k;

		memcpy(&cache->model, m, sizeof(ClcmBtydModel));
		memcpy(&cache->gg, gg, sizeof(ClcmBtydModel));
		cache->hp = hp;
		cache->d = d;
		for (k = 0; k < (1 << CLV_CACHE_BITS); k++)
			cache->e[k].x = -1;
	}
	slot = &cache->e[ClvSlot(x, tx, t, mbar)];
	if (slot->x == x && slot->tx == tx && slot->t == t && slot->h == mbar)
		PG_RETURN_FLOAT8(slot->value);
	CheckResult(spend);

	if (m->kind != BTYD_BGBB)
		palive = exp(LogPAlive(m, x, tx, t));
	else if (!(fabs(m->param[2] - 1.0) < SING_EPS))
	{
		/* BG/BB: the likelihood of the pattern, once, not once a period */
		BtydEntry	e = {x, tx, t, 1.0};

		bgbb_ll = clcm_btyd_row_ll(BTYD_BGBB, m->param, &e);
	}
	for (i = 1; i <= hp; i++)
	{
		double		e = m->kind == BTYD_BGBB
			? BgbbExpectationLL(m->param, x, tx, t, (double) i, bgbb_ll)
			: ExpectationGivenAlive(m, (double) i, x, t) * palive;

		disc /= (1.0 + d);
		clv += (e - prev) * spend * disc;
		prev = e;
		if ((i & 255) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	slot->x = x;
	slot->tx = tx;
	slot->t = t;
	slot->h = mbar;
	slot->value = CheckResult(clv);
	PG_RETURN_FLOAT8(clv);
}

/* bucket of a churn probability 1 - p_alive */
static const char *
ChurnBucket(double p_alive)
{
	double		c;

	if (!isfinite(p_alive) || p_alive < 0 || p_alive > 1)
		BadArg("p_alive must be between 0 and 1", NULL);
	c = 1.0 - p_alive;
	if (c >= CHURN_HIGH_FROM)
		return "high";
	if (c >= CHURN_MEDIUM_FROM)
		return "medium";
	return "low";
}

/* clcm.churn_risk(p_alive float8) -> 'low' | 'medium' | 'high' */
PG_FUNCTION_INFO_V1(clcm_churn_risk);
Datum
clcm_churn_risk(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(ChurnBucket(PG_GETARG_FLOAT8(0))));
}

/* clcm.churn_risk(model, frequency, recency, t) */
PG_FUNCTION_INFO_V1(clcm_btyd_churn_risk);
Datum
clcm_btyd_churn_risk(PG_FUNCTION_ARGS)
{
	ClcmBtydModel *m = clcm_btyd_model_arg(fcinfo, 0);
	double		x = PG_GETARG_FLOAT8(1);
	double		tx = PG_GETARG_FLOAT8(2);
	double		t = PG_GETARG_FLOAT8(3);

	CheckUsable(m);
	CheckCustomer(m->kind, x, tx, t);
	PG_RETURN_TEXT_P(cstring_to_text(ChurnBucket(exp(CachedLogPAlive(fcinfo, m, x, tx, t)))));
}

/*
 * clcm.btyd_loglik(model, frequency, recency, t): log-likelihood of one
 * customer (for checks and for comparing models).
 */
PG_FUNCTION_INFO_V1(clcm_btyd_loglik);
Datum
clcm_btyd_loglik(PG_FUNCTION_ARGS)
{
	ClcmBtydModel *m = clcm_btyd_model_arg(fcinfo, 0);
	BtydEntry	e;

	e.x = PG_GETARG_FLOAT8(1);
	e.y = PG_GETARG_FLOAT8(2);
	e.z = PG_GETARG_FLOAT8(3);
	e.w = 1.0;
	CheckCustomer(m->kind, e.x, e.y, e.z);
	PG_RETURN_FLOAT8(CheckResult(clcm_btyd_row_ll(m->kind, m->param, &e)));
}

/*
 * clcm.btyd_loglik(gamma_gamma, frequency, monetary): log density of one
 * repeat buyer's mean spend (frequency > 0).
 */
PG_FUNCTION_INFO_V1(clcm_gamma_gamma_loglik);
Datum
clcm_gamma_gamma_loglik(PG_FUNCTION_ARGS)
{
	ClcmBtydModel *gg = clcm_btyd_model_arg(fcinfo, 0);
	BtydEntry	e;

	e.x = PG_GETARG_FLOAT8(1);
	e.y = PG_GETARG_FLOAT8(2);
	e.z = 0;
	e.w = 1.0;
	if (!IsCount(e.x) || e.x == 0)
		BadArg("frequency must be a positive integer", NULL);
	if (!isfinite(e.y) || e.y <= 0)
		BadArg("monetary value must be a finite number greater than zero", NULL);
	PG_RETURN_FLOAT8(CheckResult(clcm_btyd_row_ll(BTYD_GG, gg->param, &e)));
}

/*
 * clcm.hyp2f1(a, b, c, z): the Gaussian hypergeometric function, exposed
 * for tests and for users who need it.
 */
PG_FUNCTION_INFO_V1(clcm_hyp2f1_sql);
Datum
clcm_hyp2f1_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(clcm_hyp2f1(PG_GETARG_FLOAT8(0), PG_GETARG_FLOAT8(1),
								 PG_GETARG_FLOAT8(2), PG_GETARG_FLOAT8(3)));
}
