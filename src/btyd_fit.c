/*-------------------------------------------------------------------------
 *
 * btyd_fit.c
 *	  Fitting aggregates of the BTYD models: the histogram state type
 *	  clcm.btyd_fit_state (I/O, transition, combine), the log-likelihoods
 *	  and the maximum-likelihood optimizer.
 *
 * Design.  The state is a histogram of distinct input rows (x, y, z) with
 * weights, kept in an ordinary varlena so that the aggregates have a
 * combine function over a non-internal type (parallel plans, and Citus can
 * push them down; the text form round-trips exactly).  The transition
 * function appends rows in place; when the buffer is full it sorts and
 * merges duplicates, and only doubles the buffer if that did not free half
 * of it.  The final function sorts a copy (the state is never modified
 * there), then maximises the log-likelihood.
 *
 * Objective.  As in the Python package lifetimes: the negative mean
 * log-likelihood over customers plus penalizer * sum(params^2) (the
 * parameters themselves, not their logs), minimised over log-parameters
 * (so the parameters stay positive).  The reported ll is the plain total
 * log-likelihood sum(weight * ll_i) at the optimum, without the penalty.
 *
 * Optimizer.  BFGS with an Armijo backtracking line search (at most
 * BTYD_MAX_BACKTRACK halvings; numerical gradients only at the accepted
 * point), steps capped at 3 in log space, inverse-Hessian resets when a
 * search fails, at most BTYD_MAX_ITER iterations per start, stopped early
 * when a parameter runs off (|log p| > BTYD_THETA_LIMIT) or the objective
 * crawls (BTYD_STALL_WINDOW iterations without a 1e-10 relative gain while
 * the gradient is not small), CHECK_FOR_INTERRUPTS in every iteration and
 * every 1024 rows of a likelihood pass.
 * Gradients are analytic for BG/NBD, MBG/NBD and Gamma-Gamma and central
 * differences for Pareto/NBD and BG/BB.  The fit is deterministic: a fixed
 * first start and, if that does not converge, a second fixed start.  A fit
 * whose gradient does not vanish (or whose parameters run off towards 0 or
 * infinity) is returned with converged=false and a WARNING; the scoring
 * functions refuse such a model.
 *
 * XXX The Pareto/NBD and BG/BB gradients are numerical (about five
 * likelihood passes per iteration); analytic derivatives of the 2F1 terms
 * would make Pareto/NBD fits on large inputs two to three times faster.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <float.h>
#include <math.h>

#include "common/shortest_dec.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/memutils.h"

#include "btyd.h"
#include "special.h"

#define BTYD_MAX_ITER 300
/* line-search halvings: step 3 * 2^-40 is below any useful move */
#define BTYD_MAX_BACKTRACK 40
/* iterations over which a fit that gains nothing is stopped */
#define BTYD_STALL_WINDOW 30
#define BTYD_INITIAL_CAPACITY 64
#define BTYD_THETA_LIMIT 30.0
#define BTYD_GTOL_ANALYTIC 1e-9
#define BTYD_GTOL_NUMERIC 1e-7
#define BTYD_NUMDIFF_H 1e-5
/* forward-difference step: about sqrt(machine epsilon) */
#define BTYD_NUMDIFF_HF 1e-7
/* switch from forward to central differences below this gradient */
#define BTYD_CENTRAL_BELOW 1e-5
#define BTYD_GTOL_STALL 1e-5
#define BTYD_MIN_CURVATURE 1e-7
/* histograms with this many distinct rows are pre-fitted on a sample */
#define BTYD_SAMPLE_MIN_ROWS 20000
#define BTYD_SAMPLE_STEP 10

/* ------------------------------------------------------------------ */
/* state helpers                                                        */
/* ------------------------------------------------------------------ */

/* a new empty state with room for capacity rows */
static BtydState *
StateNew(BtydKind kind, int capacity, double penalizer)
{
	Size		sz = add_size(BTYD_STATE_HDRSZ,
							  mul_size(capacity, sizeof(BtydEntry)));
	BtydState  *s;

	if (sz > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many distinct rows for a BTYD fit"),
				 errdetail("The histogram would need more than 1 GB.")));
	s = palloc0(sz);
	SET_VARSIZE(s, sz);
	s->kind = kind;
	s->version = BTYD_STATE_VERSION;
	s->penalizer = penalizer;
	return s;
}

/* order of histogram rows: by x, then y, then z */
static int
EntryCmp(const void *a, const void *b)
{
	const BtydEntry *ea = a;
	const BtydEntry *eb = b;

	if (ea->x != eb->x)
		return ea->x < eb->x ? -1 : 1;
	if (ea->y != eb->y)
		return ea->y < eb->y ? -1 : 1;
	if (ea->z != eb->z)
		return ea->z < eb->z ? -1 : 1;
	return 0;
}

/* sort and merge duplicates of e[0..n-1] in place; returns the new count */
static int
CompactEntries(BtydEntry *e, int n)
{
	int			i;
	int			j = 0;

	if (n <= 1)
		return n;
	qsort(e, n, sizeof(BtydEntry), EntryCmp);
	for (i = 1; i < n; i++)
	{
		if (EntryCmp(&e[i], &e[j]) == 0)
			e[j].w += e[i].w;
		else
			e[++j] = e[i];
	}
	for (i = j + 1; i < n; i++)
		memset(&e[i], 0, sizeof(BtydEntry));
	return j + 1;
}

/*
 * Make room for `extra` more rows in s.  Compacts in place first; returns
 * s itself when it now has room, else a larger copy in CurrentMemoryContext
 * (the caller's old state belongs to the executor: never freed here).
 */
static BtydState *
StateReserve(BtydState *s, int extra)
{
	int			cap = BtydStateCapacity(s);
	int			newcap;
	BtydState  *ns;

	if (s->nused + extra <= cap)
		return s;
	s->nused = CompactEntries(s->e, s->nused);
	if (s->nused + extra <= cap && s->nused <= cap / 2)
		return s;
	newcap = Max(cap, BTYD_INITIAL_CAPACITY);
	while (newcap < s->nused + extra || newcap < 2 * s->nused)
	{
		if (newcap > PG_INT32_MAX / 2)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("too many distinct rows for a BTYD fit")));
		newcap *= 2;
	}
	ns = StateNew(s->kind, newcap, s->penalizer);
	ns->flags = s->flags;
	ns->nused = s->nused;
	memcpy(ns->e, s->e, sizeof(BtydEntry) * s->nused);
	return ns;
}

/* name of the aggregate of a kind, for messages */
static const char *
FitName(BtydKind kind)
{
	switch (kind)
	{
		case BTYD_BGNBD:
			return "bgnbd_fit";
		case BTYD_PARETO:
			return "pareto_nbd_fit";
		case BTYD_MBGNBD:
			return "mbgnbd_fit";
		case BTYD_BGBB:
			return "bgbb_fit";
		case BTYD_GG:
			return "gamma_gamma_fit";
	}
	return "?";
}

/* raise the error for a bad value in a fitting row */
static void
BadRow(BtydKind kind, const char *msg, const char *detail)
{
	if (detail)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: %s", FitName(kind), msg),
				 errdetail("%s", detail)));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s: %s", FitName(kind), msg)));
}

/* true if v is a finite integer >= 0 */
static bool
IsCount(double v)
{
	return isfinite(v) && v >= 0.0 && v == floor(v) && v <= 1e9;
}

/*
 * Validate one row of a fitting aggregate (also used by the state input
 * function and by the scoring functions).  Returns false if the row
 * carries no information and is to be skipped (a gamma_gamma row with
 * frequency 0, a bgbb row with weight 0).
 */
static bool
CheckRow(BtydKind kind, const BtydEntry *e)
{
	char		buf[128];

	if (!IsCount(e->x))
		BadRow(kind, "frequency must be a non-negative integer", NULL);
	switch (kind)
	{
		case BTYD_BGNBD:
		case BTYD_PARETO:
		case BTYD_MBGNBD:
			if (!isfinite(e->y) || e->y < 0.0)
				BadRow(kind, "recency must be a finite number not less than zero", NULL);
			if (!isfinite(e->z) || e->z < 0.0)
				BadRow(kind, "t must be a finite number not less than zero", NULL);
			if (e->y > e->z)
			{
				snprintf(buf, sizeof(buf), "Recency is %g and t is %g.", e->y, e->z);
				BadRow(kind, "recency must not exceed t", buf);
			}
			if (e->x == 0 && e->y != 0)
				BadRow(kind, "recency must be 0 when frequency is 0",
					   "Recency is the time from the first to the last purchase.");
			if (e->x > 0 && e->y == 0)
				BadRow(kind, "recency must be greater than 0 when frequency is greater than 0",
					   "Repeat purchases happen after the first purchase.");
			if (e->w != 1.0)
				BadRow(kind, "weight must be 1", NULL);
			return true;
		case BTYD_GG:
			if (!isfinite(e->y))
				BadRow(kind, "monetary value must be finite", NULL);
			if (e->x == 0)
				return false;
			if (e->y <= 0.0)
				BadRow(kind, "monetary value must be greater than zero when frequency is greater than 0", NULL);
			return true;
		case BTYD_BGBB:
			if (!IsCount(e->y))
				BadRow(kind, "recency must be a non-negative integer", NULL);
			if (!IsCount(e->z))
				BadRow(kind, "n must be a non-negative integer", NULL);
			if (e->z > BTYD_BGBB_MAX_N)
				BadRow(kind, "n must not exceed 1000000 periods", NULL);
			if (e->y > e->z)
			{
				snprintf(buf, sizeof(buf), "Recency is %g and n is %g.", e->y, e->z);
				BadRow(kind, "recency must not exceed n", buf);
			}
			if (e->x > e->y)
			{
				snprintf(buf, sizeof(buf), "Frequency is %g and recency is %g.", e->x, e->y);
				BadRow(kind, "frequency must not exceed recency", buf);
			}
			if (e->x == 0 && e->y != 0)
				BadRow(kind, "recency must be 0 when frequency is 0", NULL);
			if (e->x > 0 && e->y == 0)
				BadRow(kind, "recency must be greater than 0 when frequency is greater than 0", NULL);
			if (!isfinite(e->w) || e->w < 0.0)
				BadRow(kind, "weight must be a finite number not less than zero", NULL);
			return e->w > 0.0;
	}
	return true;
}

/* check a penalizer argument */
static double
CheckPenalizer(BtydKind kind, double p)
{
	if (!isfinite(p) || p < 0.0)
		BadRow(kind, "penalizer must be a finite number not less than zero", NULL);
	return p;
}

/*
 * Common transition: add row e (if valid) to the state in argument 0.
 * pen_arg is the argument number of the optional penalizer, or -1.
 */
static Datum
BtydTrans(FunctionCallInfo fcinfo, BtydKind kind, int nargs_data, int pen_arg)
{
	MemoryContext aggctx;
	BtydState  *s = NULL;
	BtydEntry	e;
	double		pen = 0.0;
	int			i;
	bool		inagg = AggCheckCallContext(fcinfo, &aggctx);

	if (!PG_ARGISNULL(0))
	{
		s = (BtydState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(0));
		if (s->kind != kind)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a %s fit state cannot be used by %s",
							clcm_btyd_kinds[s->kind].name, FitName(kind))));
		if (!inagg)
			s = (BtydState *) PG_DETOAST_DATUM_COPY(PG_GETARG_DATUM(0));
	}

	for (i = 1; i <= nargs_data; i++)
		if (PG_ARGISNULL(i))
		{
			/* rows with a NULL value are skipped, like avg() does */
			if (s == NULL)
				PG_RETURN_NULL();
			PG_RETURN_POINTER(s);
		}
	memset(&e, 0, sizeof(e));
	e.x = PG_GETARG_FLOAT8(1);
	e.y = PG_GETARG_FLOAT8(2);
	e.z = kind == BTYD_GG ? 0.0 : PG_GETARG_FLOAT8(3);
	e.w = 1.0;
	if (kind == BTYD_BGBB && PG_NARGS() > 4 && pen_arg != 4)
	{
		/* bgbb_fit(frequency, recency, n, weight [, penalizer]) */
		if (PG_ARGISNULL(4))
		{
			if (s == NULL)
				PG_RETURN_NULL();
			PG_RETURN_POINTER(s);
		}
		e.w = PG_GETARG_FLOAT8(4);
	}
	if (pen_arg >= 0 && pen_arg < PG_NARGS() && !PG_ARGISNULL(pen_arg))
		pen = CheckPenalizer(kind, PG_GETARG_FLOAT8(pen_arg));

	if (!CheckRow(kind, &e))
	{
		if (s == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(s);
	}

	if (s == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(inagg ? aggctx : CurrentMemoryContext);

		s = StateNew(kind, BTYD_INITIAL_CAPACITY, pen);
		MemoryContextSwitchTo(old);
	}
	else if (s->penalizer != pen)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: penalizer must be the same for every row", FitName(kind))));

	s = StateReserve(s, 1);
	s->e[s->nused++] = e;
	PG_RETURN_POINTER(s);
}

/* transition functions of the five aggregates */
#define BTYD_TRANS_FUNC(NAME, KIND, NDATA, PENARG) \
PG_FUNCTION_INFO_V1(clcm_##NAME##_fit_trans); \
Datum \
clcm_##NAME##_fit_trans(PG_FUNCTION_ARGS) \
{ \
	return BtydTrans(fcinfo, KIND, NDATA, PENARG); \
}

BTYD_TRANS_FUNC(bgnbd, BTYD_BGNBD, 3, 4)
BTYD_TRANS_FUNC(pareto_nbd, BTYD_PARETO, 3, 4)
BTYD_TRANS_FUNC(mbgnbd, BTYD_MBGNBD, 3, 4)
BTYD_TRANS_FUNC(gamma_gamma, BTYD_GG, 2, 3)

/*
 * bgbb_fit has two optional arguments: (x, tx, n), (x, tx, n, weight) and
 * (x, tx, n, weight, penalizer).
 */
PG_FUNCTION_INFO_V1(clcm_bgbb_fit_trans);
Datum
clcm_bgbb_fit_trans(PG_FUNCTION_ARGS)
{
	return BtydTrans(fcinfo, BTYD_BGBB, 3, 5);
}

/*
 * Combine two states: the rows of the second are appended to the first
 * (which is modified in place inside an aggregate).  A NULL first state is
 * replaced by a copy of the second made in the aggregate context.
 */
PG_FUNCTION_INFO_V1(clcm_btyd_fit_combine);
Datum
clcm_btyd_fit_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx;
	BtydState  *s1;
	BtydState  *s2;
	bool		inagg = AggCheckCallContext(fcinfo, &aggctx);

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	s2 = (BtydState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(1));
	if (PG_ARGISNULL(0))
	{
		MemoryContext old = MemoryContextSwitchTo(inagg ? aggctx : CurrentMemoryContext);
		BtydState  *c = StateNew(s2->kind, Max(s2->nused, BTYD_INITIAL_CAPACITY),
								 s2->penalizer);

		c->flags = s2->flags;
		c->nused = s2->nused;
		memcpy(c->e, s2->e, sizeof(BtydEntry) * s2->nused);
		MemoryContextSwitchTo(old);
		PG_RETURN_POINTER(c);
	}
	if (inagg)
		s1 = (BtydState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(0));
	else
		s1 = (BtydState *) PG_DETOAST_DATUM_COPY(PG_GETARG_DATUM(0));
	if (s1->kind != s2->kind)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot combine a %s fit state with a %s fit state",
						clcm_btyd_kinds[s1->kind].name, clcm_btyd_kinds[s2->kind].name)));
	if (s1->penalizer != s2->penalizer)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: penalizer must be the same for every row", FitName(s1->kind))));
	s1 = StateReserve(s1, s2->nused);
	memcpy(s1->e + s1->nused, s2->e, sizeof(BtydEntry) * s2->nused);
	s1->nused += s2->nused;
	PG_RETURN_POINTER(s1);
}

/* ------------------------------------------------------------------ */
/* state text and binary I/O                                            */
/* ------------------------------------------------------------------ */

/* kind of a model name, or 0 */
static int
KindByName(const char *name, size_t len)
{
	int			k;

	for (k = 1; k <= BTYD_NKINDS; k++)
		if (strlen(clcm_btyd_kinds[k].name) == len &&
			strncmp(clcm_btyd_kinds[k].name, name, len) == 0)
			return k;
	return 0;
}

/* syntax error of a state literal */
static void
StateSyntaxError(const char *input, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type btyd_fit_state: \"%s\"", input),
			 errdetail("%s", detail)));
}

/* parse one number of a state literal, ending at one of the stop chars */
static double
StateNumber(const char **pp, const char *stops, const char *input)
{
	const char *p = *pp;
	const char *q = p;
	char	   *num;
	char	   *end;
	double		v;

	while (*q && !strchr(stops, *q))
		q++;
	if (q == p)
		StateSyntaxError(input, "Missing number.");
	num = pnstrdup(p, q - p);
	v = float8in_internal(num, &end, "btyd_fit_state", input);
	if (*end != '\0')
		StateSyntaxError(input, "Invalid number.");
	pfree(num);
	*pp = q;
	return v;
}

/*
 * Text form of the state:
 *	 bgnbd;penalizer=0;[x,y,z,w;x,y,z,w;...]
 * with every number in shortest exact form.  Rows are printed in their
 * stored order (duplicates allowed), so output -> input is the identity.
 */
PG_FUNCTION_INFO_V1(clcm_btyd_fit_state_in);
Datum
clcm_btyd_fit_state_in(PG_FUNCTION_ARGS)
{
	const char *input = PG_GETARG_CSTRING(0);
	const char *p = input;
	const char *k0;
	int			kind;
	double		pen;
	BtydState  *s;
	uint64		nrows = 0;

	k0 = p;
	while (*p && (isalnum((unsigned char) *p) || *p == '_'))
		p++;
	kind = KindByName(k0, p - k0);
	if (kind == 0)
		StateSyntaxError(input, "The value must start with a model name such as \"bgnbd\".");
	if (strncmp(p, ";penalizer=", 11) != 0)
		StateSyntaxError(input, "Expected \";penalizer=\" after the model name.");
	p += 11;
	pen = StateNumber(&p, ";", input);
	if (*p != ';' || p[1] != '[')
		StateSyntaxError(input, "Expected \";[\" after the penalizer.");
	p += 2;
	CheckPenalizer(kind, pen);
	s = StateNew(kind, BTYD_INITIAL_CAPACITY, pen);
	if (*p == ']')
		p++;
	else
	{
		for (;;)
		{
			BtydEntry	e;

			e.x = StateNumber(&p, ",", input);
			if (*p++ != ',')
				StateSyntaxError(input, "Expected four numbers per row.");
			e.y = StateNumber(&p, ",", input);
			if (*p++ != ',')
				StateSyntaxError(input, "Expected four numbers per row.");
			e.z = StateNumber(&p, ",", input);
			if (*p++ != ',')
				StateSyntaxError(input, "Expected four numbers per row.");
			e.w = StateNumber(&p, ";]", input);
			if (kind == BTYD_GG && e.z != 0.0)
				StateSyntaxError(input, "The third number of a gamma_gamma row must be 0.");
			if (kind != BTYD_BGBB && kind != BTYD_GG)
			{
				/* weights of merged rows are counts */
				if (!IsCount(e.w) || e.w == 0)
					StateSyntaxError(input, "Row weights must be positive integers.");
				{
					BtydEntry	one = e;

					one.w = 1.0;
					CheckRow(kind, &one);
				}
			}
			else
			{
				if (!isfinite(e.w) || e.w <= 0.0)
					StateSyntaxError(input, "Row weights must be greater than zero.");
				if (!CheckRow(kind, &e))
					StateSyntaxError(input, "The state holds a row that carries no information.");
			}
			s = StateReserve(s, 1);
			s->e[s->nused++] = e;
			/* a long literal answers a cancel */
			if ((++nrows & 1023) == 0)
				CHECK_FOR_INTERRUPTS();
			if (*p == ';')
			{
				p++;
				continue;
			}
			if (*p == ']')
			{
				p++;
				break;
			}
			StateSyntaxError(input, "Unexpected end of input.");
		}
	}
	if (*p != '\0')
		StateSyntaxError(input, "Junk after the closing bracket.");
	PG_RETURN_POINTER(s);
}

/* append a float8 in shortest exact form */
static void
AppendFloat(StringInfo buf, double v)
{
	char		tmp[DOUBLE_SHORTEST_DECIMAL_LEN];

	double_to_shortest_decimal_buf(v, tmp);
	appendStringInfoString(buf, tmp);
}

/* text output of the state (see clcm_btyd_fit_state_in) */
PG_FUNCTION_INFO_V1(clcm_btyd_fit_state_out);
Datum
clcm_btyd_fit_state_out(PG_FUNCTION_ARGS)
{
	BtydState  *s = (BtydState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(0));
	StringInfoData buf;
	int			i;

	if (s->kind < 1 || s->kind > BTYD_NKINDS)
		elog(ERROR, "unrecognized BTYD state kind %d", s->kind);
	initStringInfo(&buf);
	appendStringInfo(&buf, "%s;penalizer=", clcm_btyd_kinds[s->kind].name);
	AppendFloat(&buf, s->penalizer);
	appendStringInfoString(&buf, ";[");
	for (i = 0; i < s->nused; i++)
	{
		if (i)
			appendStringInfoChar(&buf, ';');
		AppendFloat(&buf, s->e[i].x);
		appendStringInfoChar(&buf, ',');
		AppendFloat(&buf, s->e[i].y);
		appendStringInfoChar(&buf, ',');
		AppendFloat(&buf, s->e[i].z);
		appendStringInfoChar(&buf, ',');
		AppendFloat(&buf, s->e[i].w);
	}
	appendStringInfoChar(&buf, ']');
	PG_RETURN_CSTRING(buf.data);
}

/* binary send of the state: kind, version, penalizer, count, rows */
PG_FUNCTION_INFO_V1(clcm_btyd_fit_state_send);
Datum
clcm_btyd_fit_state_send(PG_FUNCTION_ARGS)
{
	BtydState  *s = (BtydState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(0));
	StringInfoData buf;
	int			i;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, s->kind);
	pq_sendbyte(&buf, s->version);
	pq_sendfloat8(&buf, s->penalizer);
	pq_sendint32(&buf, s->nused);
	for (i = 0; i < s->nused; i++)
	{
		pq_sendfloat8(&buf, s->e[i].x);
		pq_sendfloat8(&buf, s->e[i].y);
		pq_sendfloat8(&buf, s->e[i].z);
		pq_sendfloat8(&buf, s->e[i].w);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* binary receive of the state, validating like the text input */
PG_FUNCTION_INFO_V1(clcm_btyd_fit_state_recv);
Datum
clcm_btyd_fit_state_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			kind = pq_getmsgbyte(buf);
	int			version = pq_getmsgbyte(buf);
	double		pen;
	int			n;
	int			i;
	BtydState  *s;

	if (kind < 1 || kind > BTYD_NKINDS || version != BTYD_STATE_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid external btyd_fit_state value"),
				 errdetail("Unrecognized model kind %d or format version %d.", kind, version)));
	pen = pq_getmsgfloat8(buf);
	CheckPenalizer(kind, pen);
	n = pq_getmsgint(buf, 4);
	if (n < 0 || (Size) n > (buf->len - buf->cursor) / (4 * sizeof(float8)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid external btyd_fit_state value"),
				 errdetail("The row count %d does not match the message length.", n)));
	s = StateNew(kind, Max(n, 1), pen);
	for (i = 0; i < n; i++)
	{
		BtydEntry	e;

		e.x = pq_getmsgfloat8(buf);
		e.y = pq_getmsgfloat8(buf);
		e.z = pq_getmsgfloat8(buf);
		e.w = pq_getmsgfloat8(buf);
		if (!isfinite(e.w) || e.w <= 0.0 ||
			(kind != BTYD_BGBB && kind != BTYD_GG && !IsCount(e.w)) ||
			(kind == BTYD_GG && e.z != 0.0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid external btyd_fit_state value"),
					 errdetail("Row %d has an invalid weight or layout.", i + 1)));
		{
			BtydEntry	one = e;

			if (kind != BTYD_BGBB)
				one.w = 1.0;
			if (!CheckRow(kind, &one))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
						 errmsg("invalid external btyd_fit_state value"),
						 errdetail("Row %d carries no information.", i + 1)));
		}
		s->e[s->nused++] = e;
	}
	PG_RETURN_POINTER(s);
}

/* ------------------------------------------------------------------ */
/* log-likelihoods                                                      */
/* ------------------------------------------------------------------ */

/* fitting problem: compacted rows, kind, penalizer */
typedef struct FitProblem
{
	BtydKind	kind;
	int			n;
	BtydEntry  *e;
	double		wsum;
	double		penalizer;
	int			np;
	bool		forward_diff;	/* numeric gradient by forward differences */
} FitProblem;

/*
 * Pareto/NBD pieces for one customer (Fader & Hardie note 008, eq. 6):
 *	 L = G(r+x) a^r b^s / G(r) * [ (a+T)^-(r+x) (b+T)^-s + s/(r+s+x) A0 ]
 * with, for alpha >= beta,
 *	 A0 = F(r+s+x, s+1; r+s+x+1; (a-b)/(a+tx)) / (a+tx)^(r+s+x)
 *	    - F(r+s+x, s+1; r+s+x+1; (a-b)/(a+T)) / (a+T)^(r+s+x)
 * and for alpha < beta the same with (s+1) -> (r+x), a+. -> b+., a-b -> b-a.
 * Returns log of the first bracket term in *lt1 and log(s/(r+s+x) A0) in
 * *lt2 (-infinity when tx = T).
 */
static void
ParetoParts(const double *p, double x, double tx, double t,
			double *lt1, double *lt2)
{
	double		r = p[0],
				alpha = p[1],
				s = p[2],
				beta = p[3];
	double		rsx = r + s + x;
	double		maxab,
				absab,
				b2;
	double		l1,
				l2;
	int			sg;

	*lt1 = -(r + x) * log(alpha + t) - s * log(beta + t);
	if (alpha >= beta)
	{
		maxab = alpha;
		absab = alpha - beta;
		b2 = s + 1.0;
	}
	else
	{
		maxab = beta;
		absab = beta - alpha;
		b2 = r + x;
	}
	if (tx >= t)
	{
		*lt2 = -INFINITY;
		return;
	}
	l1 = clcm_hyp2f1_log(rsx, b2, rsx + 1.0, absab / (maxab + tx), &sg)
		- rsx * log(maxab + tx);
	l2 = clcm_hyp2f1_log(rsx, b2, rsx + 1.0, absab / (maxab + t), &sg)
		- rsx * log(maxab + t);
	if (l2 >= l1)
		*lt2 = -INFINITY;		/* rounding: the difference vanishes */
	else
		*lt2 = l1 + log(-expm1(l2 - l1)) + log(s) - log(rsx);
}

/* log(s/(r+s+x) A0) for the scoring code; see ParetoParts */
double
clcm_pareto_log_a0_term(const double *param, double x, double tx, double t)
{
	double		lt1,
				lt2;

	ParetoParts(param, x, tx, t, &lt1, &lt2);
	return lt2;
}

/*
 * BG/BB log-likelihood of one pattern (Fader, Hardie & Shang 2010, eq. 5):
 *	 L = B(al+x, be+n-x)/B(al,be) B(ga, de+n)/B(ga,de)
 *	   + sum_{i=0}^{n-tx-1} B(al+x, be+tx-x+i)/B(al,be) B(ga+1, de+tx+i)/B(ga,de)
 * The sum is t(0) S with S = sum_{i<m} r(i), m = n - tx, r(i) = t(i)/t(0):
 *	 r(i+1)/r(i) = (bq+i)/(abq+i) * (dq+i)/(gdq+i),
 *	 bq = be+tx-x, abq = al+be+tx, dq = de+tx, gdq = ga+1+de+tx,
 * so r decreases and r(i) ~ i^-(al+ga+1) for large i.  The first terms are
 * generated by that ratio (a few flops each, no lgamma); when many terms
 * remain, the rest of the sum is taken by Euler-Maclaurin summation
 * (clcm_gamma_ratio_sum), so even n = BTYD_BGBB_MAX_N periods costs microseconds.
 * Interrupts are checked every 65536 terms.  The result is log(t(0)) +
 * log(S); S is at most m and cannot overflow.
 *
 * *state carries a partial sum between calls for the same (x, tx) with
 * growing n (the histogram is sorted by x, tx, n), so a fit over many
 * distinct n costs O(max n) per (x, tx) rather than O(sum of n) on the
 * direct path.
 */
typedef struct BgbbSum
{
	double		x;				/* pattern of the partial sum, or -1 */
	double		tx;
	double		m;				/* number of terms summed so far */
	double		S;				/* sum of t(i)/t(0), i < m */
	double		ratio;			/* t(m)/t(0) */
} BgbbSum;

/* below this many terms beyond the direct part, the sum is taken directly */
#define BGBB_TAIL_MIN 4096
/* smoothness bound of the Euler-Maclaurin part (clcm_gamma_ratio_sum) */
#define BGBB_TAIL_EPS 0.01

static double
BgbbRowLLSum(const double *p, double x, double tx, double n, BgbbSum *st)
{
	double		al = p[0],
				be = p[1],
				ga = p[2],
				de = p[3];
	double		lab = clcm_lbeta(al, be);
	double		lgd = clcm_lbeta(ga, de);
	double		ll;
	double		m = n - tx;		/* number of terms of the sum */
	double		bq = be + tx - x;
	double		abq = al + be + tx;
	double		dq = de + tx;
	double		gdq = ga + 1.0 + de + tx;
	double		k;
	double		S;

	ll = clcm_lbeta(al + x, be + n - x) - lab + clcm_lbeta(ga, de + n) - lgd;
	if (m <= 0)
		return ll;

	/*
	 * Direct terms: all of them, or the first k, where k makes the rest
	 * smooth enough for Euler-Maclaurin and k + min(bq, dq) >= 20 for the
	 * asymptotic series.
	 */
	k = Max(al / BGBB_TAIL_EPS - bq, (ga + 1.0) / BGBB_TAIL_EPS - dq);
	k = Max(k, 20.0 - Min(bq, dq));
	k = ceil(Max(k, 32.0));
	if (m - k < BGBB_TAIL_MIN)
		k = m;
	if (st->x != x || st->tx != tx || st->m > k)
	{
		st->x = x;
		st->tx = tx;
		st->m = 0;
		st->S = 0;
		st->ratio = 1.0;
	}
	while (st->m < k)
	{
		double		i = st->m;

		st->S += st->ratio;
		st->ratio *= (bq + i) / (abq + i) * ((dq + i) / (gdq + i));
		st->m += 1.0;
		if (((int64) i & 63) == 63)
		{
			/*
			 * r decreases, so the terms left add at most ratio * (m - i);
			 * stop when that cannot change S (with large al or ga the
			 * terms underflow long before m).  The partial sum is then
			 * not a valid start for a later n.
			 */
			if (st->ratio * (m - st->m) < 1e-18 * st->S)
			{
				S = st->S;
				st->x = -1;
				goto done;
			}
			if (((int64) i & 65535) == 65535)
				CHECK_FOR_INTERRUPTS();
		}
	}
	S = st->S;
	if (k < m)
	{
		double		qa[2],
					qb[2];

		qa[0] = bq;
		qb[0] = abq;
		qa[1] = dq;
		qb[1] = gdq;
		S += st->ratio * clcm_gamma_ratio_sum(qa, qb, 2, k, m - 1.0);
	}
done:
	return clcm_logaddexp(ll, clcm_lbeta(al + x, bq) - lab +
						  clcm_lbeta(ga + 1.0, dq) - lgd + log(S));
}

/* BG/BB log-likelihood of one pattern, without a carried partial sum */
static double
BgbbRowLL(const double *p, double x, double tx, double n)
{
	BgbbSum		st;

	st.x = -1;
	return BgbbRowLLSum(p, x, tx, n, &st);
}

/*
 * BG/NBD (Fader, Hardie & Lee 2005, eq. 8; lifetimes' form) and MBG/NBD
 * (Batislam et al. 2007) log-likelihood of one row with its gradient with
 * respect to (r, alpha, a, b) added to g (if not NULL).  The per-x
 * quantities (lgamma, digamma) depend only on x and are computed by the
 * caller-visible cache in BgnbdObjective; this helper is the plain form
 * used for single rows.
 */
static double
BgnbdRowLL(bool modified, const double *p, double x, double tx, double t)
{
	double		r = p[0],
				alpha = p[1],
				a = p[2],
				b = p[3];
	double		a1,
				a2,
				a3,
				a4;

	a1 = lgamma(r + x) - lgamma(r) + r * log(alpha);
	a3 = -(r + x) * log(alpha + t);
	if (!modified)
	{
		a2 = lgamma(a + b) + lgamma(b + x) - lgamma(b) - lgamma(a + b + x);
		if (x > 0)
		{
			a4 = log(a) - log(b + x - 1.0) - (r + x) * log(alpha + tx);
			return a1 + a2 + clcm_logaddexp(a3, a4);
		}
		return a1 + a2 + a3;
	}
	a2 = lgamma(a + b) + lgamma(b + x + 1.0) - lgamma(b) - lgamma(a + b + x + 1.0);
	a4 = log(a) - log(b + x) - (r + x) * log(alpha + tx);
	return a1 + a2 + clcm_logaddexp(a3, a4);
}

/* Gamma-Gamma log-likelihood of one repeat buyer (note 025; lifetimes) */
static double
GgRowLL(const double *p, double x, double m)
{
	double		pp = p[0],
				q = p[1],
				v = p[2];

	return lgamma(pp * x + q) - lgamma(pp * x) - lgamma(q) + q * log(v)
		+ (pp * x - 1.0) * log(m) + pp * x * log(x)
		- (pp * x + q) * log(x * m + v);
}

/* log-likelihood of one histogram row (weight not applied) */
double
clcm_btyd_row_ll(BtydKind kind, const double *param, const BtydEntry *e)
{
	switch (kind)
	{
		case BTYD_BGNBD:
			return BgnbdRowLL(false, param, e->x, e->y, e->z);
		case BTYD_MBGNBD:
			return BgnbdRowLL(true, param, e->x, e->y, e->z);
		case BTYD_PARETO:
			{
				double		lt1,
							lt2;
				double		r = param[0],
							alpha = param[1],
							s = param[2],
							beta = param[3];

				ParetoParts(param, e->x, e->y, e->z, &lt1, &lt2);
				return lgamma(r + e->x) - lgamma(r) + r * log(alpha) + s * log(beta)
					+ clcm_logaddexp(lt1, lt2);
			}
		case BTYD_BGBB:
			return BgbbRowLL(param, e->x, e->y, e->z);
		case BTYD_GG:
			return GgRowLL(param, e->x, e->y);
	}
	return NAN;
}

/*
 * BG/NBD or MBG/NBD: total weighted log-likelihood and, if grad is not
 * NULL, its gradient with respect to (r, alpha, a, b).  Rows are sorted by
 * x, so the x-only terms are computed once per distinct x.
 */
static double
BgnbdTotal(const FitProblem *fp, bool modified, const double *p, double *grad)
{
	double		r = p[0],
				alpha = p[1],
				a = p[2],
				b = p[3];
	double		lgr = lgamma(r),
				lgb = lgamma(b),
				lgab = lgamma(a + b);
	double		psir = 0,
				psib = 0,
				psiab = 0;
	double		lalpha = log(alpha),
				la = log(a);
	double		total = 0.0;
	double		g[4] = {0, 0, 0, 0};
	double		curx = -1;
	double		cx_a12 = 0,
				cx_dr = 0,
				cx_da = 0,
				cx_db = 0,
				cx_lbx = 0,
				cx_ibx = 0;
	bool		cx_has4 = false;
	int			i;

	if (grad)
	{
		psir = clcm_digamma(r);
		psib = clcm_digamma(b);
		psiab = clcm_digamma(a + b);
	}
	for (i = 0; i < fp->n; i++)
	{
		const BtydEntry *e = &fp->e[i];
		double		x = e->x;
		double		a3,
					a4,
					lse,
					w3,
					w4;
		double		rx;

		if (x != curx)
		{
			double		bx = modified ? b + x + 1.0 : b + x;
			double		abx = modified ? a + b + x + 1.0 : a + b + x;
			double		b4 = modified ? b + x : b + x - 1.0;

			curx = x;
			cx_has4 = modified || x > 0;
			cx_a12 = lgamma(r + x) - lgr + r * lalpha + lgab + lgamma(bx) - lgb - lgamma(abx);
			cx_lbx = cx_has4 ? log(b4) : 0.0;
			cx_ibx = cx_has4 ? 1.0 / b4 : 0.0;
			if (grad)
			{
				double		psiabx = clcm_digamma(abx);

				cx_dr = clcm_digamma(r + x) - psir + lalpha;
				cx_da = psiab - psiabx;
				cx_db = psiab + clcm_digamma(bx) - psib - psiabx;
			}
		}
		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		rx = r + x;
		a3 = -rx * log(alpha + e->z);
		if (cx_has4)
		{
			double		latx = log(alpha + e->y);

			a4 = la - cx_lbx - rx * latx;
			lse = clcm_logaddexp(a3, a4);
			total += e->w * (cx_a12 + lse);
			if (grad)
			{
				w3 = exp(a3 - lse);
				w4 = 1.0 - w3;
				if (w4 < 0)
					w4 = 0;
				g[0] += e->w * (cx_dr - w3 * log(alpha + e->z) - w4 * latx);
				g[1] += e->w * (r / alpha - w3 * rx / (alpha + e->z) - w4 * rx / (alpha + e->y));
				g[2] += e->w * (cx_da + w4 / a);
				g[3] += e->w * (cx_db - w4 * cx_ibx);
			}
		}
		else
		{
			total += e->w * (cx_a12 + a3);
			if (grad)
			{
				g[0] += e->w * (cx_dr - log(alpha + e->z));
				g[1] += e->w * (r / alpha - rx / (alpha + e->z));
				g[2] += e->w * cx_da;
				g[3] += e->w * cx_db;
			}
		}
	}
	if (grad)
		memcpy(grad, g, sizeof(g));
	return total;
}

/* Gamma-Gamma total log-likelihood and gradient w.r.t. (p, q, v) */
static double
GgTotal(const FitProblem *fp, const double *par, double *grad)
{
	double		p = par[0],
				q = par[1],
				v = par[2];
	double		lgq = lgamma(q),
				lv = log(v);
	double		psiq = grad ? clcm_digamma(q) : 0;
	double		total = 0;
	double		g[3] = {0, 0, 0};
	double		curx = -1;
	double		cx_l = 0,
				cx_psi1 = 0,
				cx_psi2 = 0,
				cx_lx = 0;
	int			i;

	for (i = 0; i < fp->n; i++)
	{
		const BtydEntry *e = &fp->e[i];
		double		x = e->x,
					m = e->y;
		double		lm = log(m);
		double		lxmv = log(x * m + v);

		if (x != curx)
		{
			curx = x;
			cx_lx = log(x);
			cx_l = lgamma(p * x + q) - lgamma(p * x) - lgq + q * lv + p * x * cx_lx;
			if (grad)
			{
				cx_psi1 = clcm_digamma(p * x + q);
				cx_psi2 = clcm_digamma(p * x);
			}
		}
		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		total += e->w * (cx_l + (p * x - 1.0) * lm - (p * x + q) * lxmv);
		if (grad)
		{
			g[0] += e->w * x * (cx_psi1 - cx_psi2 + lm + cx_lx - lxmv);
			g[1] += e->w * (cx_psi1 - psiq + lv - lxmv);
			g[2] += e->w * (q / v - (p * x + q) / (x * m + v));
		}
	}
	if (grad)
		memcpy(grad, g, sizeof(g));
	return total;
}

/* size of the direct-mapped cache of Pareto/NBD T-terms (power of 2) */
#define PARETO_CACHE_BITS 14

/*
 * log[ F(rsx, b2; rsx+1; absab/(maxab+v)) / (maxab+v)^rsx ], the term of
 * A0 at v = recency or v = t, through a direct-mapped cache keyed by
 * (x, v) (rsx and b2 depend only on x and the parameters of this pass).
 */
static inline double
ParetoCachedTerm(double *ckx, double *ckv, double *cval, int bits_n,
				 double x, double v,
				 double rsx, double b2, double absab, double maxab)
{
	uint64		bits;
	int			slot;
	int			sg;
	double		l;

	memcpy(&bits, &v, sizeof(bits));
	slot = (int) (((bits * UINT64CONST(0x9E3779B97F4A7C15)) ^
				   ((uint64) x * UINT64CONST(0xC2B2AE3D27D4EB4F)))
				  >> (64 - bits_n));
	if (ckx[slot] == x && ckv[slot] == v)
		return cval[slot];
	l = clcm_hyp2f1_log(rsx, b2, rsx + 1.0, absab / (maxab + v), &sg)
		- rsx * log(maxab + v);
	ckx[slot] = x;
	ckv[slot] = v;
	cval[slot] = l;
	return l;
}

/*
 * -(r+x) log(alpha+t) - s log(beta+t), the log of the first term of the
 * Pareto/NBD bracket, with the two logs of t cached by t (direct-mapped).
 */
static inline double
ParetoFirstTerm(double *ckt, double *cla, double *clb, int bits_n, double t,
				double alpha, double beta, double rx, double s)
{
	uint64		bits;
	int			slot;

	memcpy(&bits, &t, sizeof(bits));
	slot = (int) ((bits * UINT64CONST(0x9E3779B97F4A7C15)) >> (64 - bits_n));
	if (ckt[slot] != t)
	{
		ckt[slot] = t;
		cla[slot] = log(alpha + t);
		clb[slot] = log(beta + t);
	}
	return -rx * cla[slot] - s * clb[slot];
}

/*
 * Pareto/NBD total log-likelihood.  Same terms as clcm_btyd_row_ll, but the
 * rows are sorted by x, so the x-only terms are computed once per x, and
 * the two 2F1 terms (at recency and at t) come from a direct-mapped cache
 * keyed by (x, value): summaries built from calendar days share few
 * distinct recency and t values.
 */
static double
ParetoTotal(const FitProblem *fp, const double *p)
{
	double		r = p[0],
				alpha = p[1],
				s = p[2],
				beta = p[3];
	bool		ageb = alpha >= beta;
	double		maxab = ageb ? alpha : beta;
	double		absab = ageb ? alpha - beta : beta - alpha;
	double		lgr = lgamma(r),
				lalpha = log(alpha),
				lbeta = log(beta),
				ls = log(s);
	int			cbits = 4;
	int			csize;
	double	   *ckx,
			   *ckt,
			   *cval,
			   *ct,
			   *cla,
			   *clb;
	double		total = 0;
	double		curx = -1,
				cx_c = 0,
				rsx = 0,
				lrsx = 0,
				b2 = 0;
	int			i;

	/*
	 * Cache size: about four slots per distinct row, at most
	 * 2^PARETO_CACHE_BITS (small fits must not pay for clearing a large
	 * cache on every evaluation).
	 */
	while (cbits < PARETO_CACHE_BITS && (1 << cbits) < 4 * fp->n)
		cbits++;
	csize = 1 << cbits;
	ckx = palloc(sizeof(double) * csize);
	ckt = palloc(sizeof(double) * csize);
	cval = palloc(sizeof(double) * csize);
	ct = palloc(sizeof(double) * csize);
	cla = palloc(sizeof(double) * csize);
	clb = palloc(sizeof(double) * csize);
	for (i = 0; i < csize; i++)
	{
		ckx[i] = -1;
		ct[i] = -1;
	}
	for (i = 0; i < fp->n; i++)
	{
		const BtydEntry *e = &fp->e[i];
		double		x = e->x,
					tx = e->y,
					t = e->z;
		double		lt1,
					lt2,
					l1,
					l2;

		if (x != curx)
		{
			curx = x;
			cx_c = lgamma(r + x) - lgr + r * lalpha + s * lbeta;
			rsx = r + s + x;
			lrsx = log(rsx);
			b2 = ageb ? s + 1.0 : r + x;
		}
		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		lt1 = ParetoFirstTerm(ct, cla, clb, cbits, t, alpha, beta, r + x, s);
		if (tx >= t)
			lt2 = -INFINITY;
		else
		{
			l1 = ParetoCachedTerm(ckx, ckt, cval, cbits, x, tx, rsx, b2, absab, maxab);
			l2 = ParetoCachedTerm(ckx, ckt, cval, cbits, x, t, rsx, b2, absab, maxab);
			if (l2 >= l1)
				lt2 = -INFINITY;
			else
				lt2 = l1 + log(-expm1(l2 - l1)) + ls - lrsx;
		}
		total += e->w * (cx_c + clcm_logaddexp(lt1, lt2));
	}
	pfree(ckx);
	pfree(ckt);
	pfree(cval);
	pfree(ct);
	pfree(cla);
	pfree(clb);
	return total;
}

/* total log-likelihood without gradient, for any kind */
static double
TotalLL(const FitProblem *fp, const double *p)
{
	double		total = 0;
	int			i;

	switch (fp->kind)
	{
		case BTYD_BGNBD:
			return BgnbdTotal(fp, false, p, NULL);
		case BTYD_MBGNBD:
			return BgnbdTotal(fp, true, p, NULL);
		case BTYD_GG:
			return GgTotal(fp, p, NULL);
		case BTYD_PARETO:
			return ParetoTotal(fp, p);
		default:
			break;
	}
	if (fp->kind == BTYD_BGBB)
	{
		BgbbSum		st;

		st.x = -1;
		for (i = 0; i < fp->n; i++)
		{
			const BtydEntry *e = &fp->e[i];

			total += e->w * BgbbRowLLSum(p, e->x, e->y, e->z, &st);
			if ((i & 255) == 0)
				CHECK_FOR_INTERRUPTS();
		}
		return total;
	}
	for (i = 0; i < fp->n; i++)
	{
		total += fp->e[i].w * clcm_btyd_row_ll(fp->kind, p, &fp->e[i]);
		if ((i & 255) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	return total;
}

/*
 * Objective in log-parameter space: -total/wsum + penalizer * sum(p^2),
 * with its gradient w.r.t. theta = log(p) in grad (if not NULL).
 * Non-finite values are returned as +infinity.
 */
static double
Objective(const FitProblem *fp, const double *theta, double *grad)
{
	double		p[BTYD_MAX_PARAMS];
	double		g[BTYD_MAX_PARAMS] = {0};
	double		f;
	double		pen = 0;
	int			i;

	for (i = 0; i < fp->np; i++)
	{
		p[i] = exp(theta[i]);
		pen += p[i] * p[i];
	}
	if (grad && (fp->kind == BTYD_BGNBD || fp->kind == BTYD_MBGNBD ||
				 fp->kind == BTYD_GG))
	{
		double		tot = fp->kind == BTYD_GG ? GgTotal(fp, p, g)
			: BgnbdTotal(fp, fp->kind == BTYD_MBGNBD, p, g);

		f = -tot / fp->wsum + fp->penalizer * pen;
		for (i = 0; i < fp->np; i++)
			grad[i] = -g[i] * p[i] / fp->wsum + 2.0 * fp->penalizer * p[i] * p[i];
	}
	else
	{
		f = -TotalLL(fp, p) / fp->wsum + fp->penalizer * pen;
		if (grad)
		{
			double		th[BTYD_MAX_PARAMS];

			memcpy(th, theta, sizeof(double) * fp->np);
			for (i = 0; i < fp->np; i++)
			{
				double		fp1,
							fm1;

				if (fp->forward_diff)
				{
					/* far from the optimum: cheaper forward differences */
					th[i] = theta[i] + BTYD_NUMDIFF_HF;
					fp1 = Objective(fp, th, NULL);
					th[i] = theta[i];
					grad[i] = (fp1 - f) / BTYD_NUMDIFF_HF;
				}
				else
				{
					th[i] = theta[i] + BTYD_NUMDIFF_H;
					fp1 = Objective(fp, th, NULL);
					th[i] = theta[i] - BTYD_NUMDIFF_H;
					fm1 = Objective(fp, th, NULL);
					th[i] = theta[i];
					grad[i] = (fp1 - fm1) / (2.0 * BTYD_NUMDIFF_H);
				}
				if (!isfinite(grad[i]))
					return INFINITY;
			}
		}
	}
	if (!isfinite(f))
		return INFINITY;
	if (grad)
		for (i = 0; i < fp->np; i++)
			if (!isfinite(grad[i]))
				return INFINITY;
	return f;
}

/* result of one optimizer run */
typedef struct FitResult
{
	double		H[BTYD_MAX_PARAMS][BTYD_MAX_PARAMS];	/* final inverse Hessian */
	double		theta[BTYD_MAX_PARAMS];
	double		f;
	int			iterations;
	bool		converged;
} FitResult;

/* max |v_i| */
static double
MaxAbs(const double *v, int n)
{
	double		m = 0;
	int			i;

	for (i = 0; i < n; i++)
		m = Max(m, fabs(v[i]));
	return m;
}

/*
 * BFGS from theta0 (see the file header).  Deterministic; checks for
 * interrupts every iteration.
 */
static FitResult
Bfgs(FitProblem *fp, const double *theta0,
	 const double (*H0)[BTYD_MAX_PARAMS])
{
	int			n = fp->np;
	bool		numeric = (fp->kind == BTYD_PARETO || fp->kind == BTYD_BGBB);
	double		gtol = numeric ? BTYD_GTOL_NUMERIC : BTYD_GTOL_ANALYTIC;
	double		H[BTYD_MAX_PARAMS][BTYD_MAX_PARAMS];
	double		x[BTYD_MAX_PARAMS],
				g[BTYD_MAX_PARAMS];
	double		f;
	bool		h_identity = true;
	double		fhist[BTYD_STALL_WINDOW];
	FitResult	res;
	int			iter;
	int			i,
				j;

	memset(&res, 0, sizeof(res));
	/* unknown past objective values never look like a stall */
	for (i = 0; i < BTYD_STALL_WINDOW; i++)
		fhist[i] = INFINITY;
	memcpy(x, theta0, sizeof(double) * n);
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			H[i][j] = H0 ? H0[i][j] : ((i == j) ? 1.0 : 0.0);
	if (H0)
		h_identity = false;
	f = Objective(fp, x, g);
	if (!isfinite(f))
	{
		memcpy(res.theta, x, sizeof(double) * n);
		res.f = INFINITY;
		return res;
	}
	for (iter = 0; iter < BTYD_MAX_ITER; iter++)
	{
		double		d[BTYD_MAX_PARAMS],
					xn[BTYD_MAX_PARAMS],
					gn[BTYD_MAX_PARAMS],
					s[BTYD_MAX_PARAMS],
					y[BTYD_MAX_PARAMS];
		double		gd = 0,
					step = 1.0,
					fn = INFINITY,
					dmax;
		bool		accepted = false;
		int			ls;

		CHECK_FOR_INTERRUPTS();
		if (MaxAbs(g, n) < gtol)
		{
			res.converged = true;
			break;
		}
		for (i = 0; i < n; i++)
		{
			d[i] = 0;
			for (j = 0; j < n; j++)
				d[i] -= H[i][j] * g[j];
			gd += d[i] * g[i];
		}
		if (!(gd < 0))
		{
			/* not a descent direction: restart from steepest descent */
			for (i = 0; i < n; i++)
			{
				for (j = 0; j < n; j++)
					H[i][j] = (i == j) ? 1.0 : 0.0;
				d[i] = -g[i];
			}
			h_identity = true;
			gd = 0;
			for (i = 0; i < n; i++)
				gd += d[i] * g[i];
		}
		dmax = MaxAbs(d, n);
		if (dmax > 3.0)
			step = 3.0 / dmax;
		/* numeric gradients: forward differences while far from the optimum */
		fp->forward_diff = MaxAbs(g, n) > BTYD_CENTRAL_BELOW;
		for (ls = 0; ls < BTYD_MAX_BACKTRACK; ls++)
		{
			for (i = 0; i < n; i++)
				xn[i] = x[i] + step * d[i];
			/* numeric gradients only at the accepted point */
			fn = Objective(fp, xn, numeric ? NULL : gn);
			if (isfinite(fn) && fn <= f + 1e-4 * step * gd)
			{
				accepted = numeric ? isfinite(Objective(fp, xn, gn)) : true;
				break;
			}
			step *= 0.5;
		}
		if (!accepted)
		{
			if (!h_identity)
			{
				for (i = 0; i < n; i++)
					for (j = 0; j < n; j++)
						H[i][j] = (i == j) ? 1.0 : 0.0;
				h_identity = true;
				continue;
			}
			/* no progress possible: converged only if nearly stationary */
			res.converged = MaxAbs(g, n) < BTYD_GTOL_STALL;
			break;
		}
		for (i = 0; i < n; i++)
		{
			s[i] = xn[i] - x[i];
			y[i] = gn[i] - g[i];
		}
		{
			double		sy = 0,
						yy = 0;

			for (i = 0; i < n; i++)
			{
				sy += s[i] * y[i];
				yy += y[i] * y[i];
			}
			if (sy > 1e-12 * sqrt(yy) * MaxAbs(s, n))
			{
				double		rho = 1.0 / sy;
				double		Hy[BTYD_MAX_PARAMS];
				double		yHy = 0;

				if (h_identity)
				{
					/* scale the first approximation (Nocedal & Wright 6.20) */
					for (i = 0; i < n; i++)
						H[i][i] = sy / yy;
				}
				for (i = 0; i < n; i++)
				{
					Hy[i] = 0;
					for (j = 0; j < n; j++)
						Hy[i] += H[i][j] * y[j];
					yHy += y[i] * Hy[i];
				}
				/* H += (1 + rho yHy) rho s s' - rho (Hy s' + s Hy') */
				for (i = 0; i < n; i++)
					for (j = 0; j < n; j++)
						H[i][j] += (1.0 + rho * yHy) * rho * s[i] * s[j]
							- rho * (Hy[i] * s[j] + s[i] * Hy[j]);
				h_identity = false;
			}
		}
		memcpy(x, xn, sizeof(double) * n);
		memcpy(g, gn, sizeof(double) * n);
		f = fn;

		/*
		 * Stagnation: on flat ridges (MBG/NBD on CDNOW) the objective stops
		 * changing at rounding level before the gradient reaches gtol.  If
		 * ten iterations gained less than 1e-13 relative and the gradient
		 * is small, this is the optimum to machine precision.
		 */
		fhist[iter % BTYD_STALL_WINDOW] = f;
		if (iter >= 10 && fhist[(iter + BTYD_STALL_WINDOW - 9) % BTYD_STALL_WINDOW] - f
			<= 1e-13 * (1.0 + fabs(f)) &&
			MaxAbs(g, n) < BTYD_GTOL_STALL)
		{
			res.converged = true;
			iter++;
			break;
		}

		/*
		 * Crawling: BTYD_STALL_WINDOW iterations gained less than 1e-10
		 * relative while the gradient is still large.  Near a true
		 * optimum BFGS converges superlinearly and never crawls this
		 * long; this is a run-off along a ridge (parameters drifting
		 * towards 0 or infinity on degenerate data).  Give up: not
		 * converged.
		 */
		if (iter >= BTYD_STALL_WINDOW &&
			fhist[(iter + 1) % BTYD_STALL_WINDOW] - f <= 1e-10 * (1.0 + fabs(f)) &&
			MaxAbs(g, n) >= BTYD_GTOL_STALL)
		{
			iter++;
			break;
		}
		if (MaxAbs(x, n) > BTYD_THETA_LIMIT)
			break;				/* a parameter runs off to 0 or infinity */
	}
	fp->forward_diff = false;
	memcpy(res.H, H, sizeof(H));
	memcpy(res.theta, x, sizeof(double) * n);
	res.f = f;
	res.iterations = iter;
	if (MaxAbs(x, n) > BTYD_THETA_LIMIT)
		res.converged = false;
	return res;
}

/*
 * Is theta a strict local minimum?  The Hessian of the objective (central
 * differences of the gradient, or second differences of the objective for
 * the kinds without an analytic gradient; step 1e-4) must be positive definite with
 * a smallest Cholesky pivot above BTYD_MIN_CURVATURE: a flat direction
 * means the data do not identify the parameters (a boundary "optimum"
 * such as r -> 0 with alpha -> infinity), which must not pass for a fit.
 * *minpivot receives the smallest pivot.
 */
static bool
IsStrictMinimum(const FitProblem *fp, const double *theta, double *minpivot)
{
	int			n = fp->np;
	double		H[BTYD_MAX_PARAMS][BTYD_MAX_PARAMS];
	double		L[BTYD_MAX_PARAMS][BTYD_MAX_PARAMS];
	double		th[BTYD_MAX_PARAMS];
	double		gp[BTYD_MAX_PARAMS],
				gm[BTYD_MAX_PARAMS];
	const double h = 1e-4;
	int			i,
				j,
				k;

	*minpivot = INFINITY;
	memcpy(th, theta, sizeof(double) * n);
	if (fp->kind == BTYD_PARETO || fp->kind == BTYD_BGBB)
	{
		/*
		 * No analytic gradient: forward second differences of the
		 * objective, H_ij = (f(+i+j) - f(+i) - f(+j) + f) / h^2, with a
		 * larger step (1e-3): O(h) relative error is plenty for the pivot
		 * test, and the rounding noise (~eps f / h^2) stays far below
		 * BTYD_MIN_CURVATURE.  1 + n + n(n+1)/2 evaluations.
		 */
		double		f0 = Objective(fp, theta, NULL);
		double		fi[BTYD_MAX_PARAMS];
		const double h = 1e-3;

		for (i = 0; i < n; i++)
		{
			th[i] = theta[i] + h;
			fi[i] = Objective(fp, th, NULL);
			th[i] = theta[i];
		}
		for (i = 0; i < n; i++)
			for (j = i; j < n; j++)
			{
				double		fij;

				th[i] += h;
				th[j] += h;
				fij = Objective(fp, th, NULL);
				th[i] = theta[i];
				th[j] = theta[j];
				H[i][j] = H[j][i] = (fij - fi[i] - fi[j] + f0) / (h * h);
			}
		for (i = 0; i < n; i++)
			for (j = 0; j < n; j++)
				if (!isfinite(H[i][j]))
					return false;
	}
	else
	{
		for (j = 0; j < n; j++)
		{
			th[j] = theta[j] + h;
			if (!isfinite(Objective(fp, th, gp)))
				return false;
			th[j] = theta[j] - h;
			if (!isfinite(Objective(fp, th, gm)))
				return false;
			th[j] = theta[j];
			for (i = 0; i < n; i++)
				H[i][j] = (gp[i] - gm[i]) / (2.0 * h);
		}
	}
	/* symmetrize, then Cholesky */
	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			H[i][j] = H[j][i] = 0.5 * (H[i][j] + H[j][i]);
	for (j = 0; j < n; j++)
	{
		double		d = H[j][j];

		for (k = 0; k < j; k++)
			d -= L[j][k] * L[j][k];
		*minpivot = Min(*minpivot, d);
		if (!(d > BTYD_MIN_CURVATURE))
			return false;
		L[j][j] = sqrt(d);
		for (i = j + 1; i < n; i++)
		{
			double		v = H[i][j];

			for (k = 0; k < j; k++)
				v -= L[i][k] * L[j][k];
			L[i][j] = v / L[j][j];
		}
	}
	return true;
}

/*
 * Fit a compacted histogram: up to two fixed starts, the best converged
 * run wins (else the best run, flagged not converged).
 */
static ClcmBtydModel *
FitModel(FitProblem *fp)
{
	double		starts[2][BTYD_MAX_PARAMS];
	double		meant = 0,
				meanm = 0;
	FitResult	best;
	FitResult	pre;
	const double (*h0)[BTYD_MAX_PARAMS] = NULL;
	ClcmBtydModel *m;
	double		p[BTYD_MAX_PARAMS];
	int			k;
	int			i;

	for (i = 0; i < fp->n; i++)
	{
		meant += fp->e[i].w * fp->e[i].z;
		meanm += fp->e[i].w * fp->e[i].y;
	}
	meant /= fp->wsum;
	meanm /= fp->wsum;
	if (!(meant > 0))
		meant = 1.0;
	if (!(meanm > 0))
		meanm = 1.0;

	switch (fp->kind)
	{
		case BTYD_BGNBD:
		case BTYD_MBGNBD:
			starts[0][0] = 0;
			starts[0][1] = log(meant);
			starts[0][2] = 0;
			starts[0][3] = 0;
			starts[1][0] = log(0.5);
			starts[1][1] = log(meant / 10.0);
			starts[1][2] = log(0.5);
			starts[1][3] = log(2.0);
			break;
		case BTYD_PARETO:
			starts[0][0] = 0;
			starts[0][1] = log(meant);
			starts[0][2] = 0;
			starts[0][3] = log(meant);
			starts[1][0] = log(0.5);
			starts[1][1] = log(meant / 4.0);
			starts[1][2] = log(0.5);
			starts[1][3] = log(meant / 4.0);
			break;
		case BTYD_BGBB:
			for (i = 0; i < 4; i++)
			{
				starts[0][i] = 0;
				starts[1][i] = log(i % 2 ? 2.0 : 0.5);
			}
			break;
		case BTYD_GG:
			starts[0][0] = 0;
			starts[0][1] = 0;
			starts[0][2] = log(meanm);
			starts[1][0] = log(5.0);
			starts[1][1] = log(3.0);
			starts[1][2] = log(meanm / 2.0);
			break;
	}

	/*
	 * Large histograms: first fit a systematic sample of the distinct rows
	 * (every BTYD_SAMPLE_STEP-th, weights scaled to the same total) and
	 * start the full fit from its estimate, which then needs only a few
	 * of the expensive full passes.  Deterministic like the rest.
	 */
	if (fp->n >= BTYD_SAMPLE_MIN_ROWS)
	{
		FitProblem	sub = *fp;
		double		sw = 0;
		int			m = 0;

		sub.e = palloc(sizeof(BtydEntry) * (fp->n / BTYD_SAMPLE_STEP + 1));
		for (i = 0; i < fp->n; i += BTYD_SAMPLE_STEP)
		{
			sub.e[m] = fp->e[i];
			sw += fp->e[i].w;
			m++;
		}
		sub.n = m;
		for (i = 0; i < m; i++)
			sub.e[i].w *= fp->wsum / sw;
		pre = Bfgs(&sub, starts[0], NULL);
		if (isfinite(pre.f) && MaxAbs(pre.theta, fp->np) < BTYD_THETA_LIMIT)
		{
			/* start there, with the sample's curvature estimate */
			memcpy(starts[0], pre.theta, sizeof(double) * fp->np);
			h0 = (const double (*)[BTYD_MAX_PARAMS]) pre.H;
		}
		pfree(sub.e);
	}
	best = Bfgs(fp, starts[0], h0);
	for (k = 1; k < 2 && !best.converged; k++)
	{
		FitResult	r = Bfgs(fp, starts[k], NULL);

		r.iterations += best.iterations;
		if (r.converged || r.f < best.f)
			best = r;
		else
			best.iterations = r.iterations;
	}
	if (best.converged && isfinite(best.f))
	{
		double		minpivot;

		best.converged = IsStrictMinimum(fp, best.theta, &minpivot);
	}
	for (i = 0; i < fp->np; i++)
		p[i] = exp(best.theta[i]);
	if (!isfinite(best.f))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s: the log-likelihood cannot be evaluated for these data",
						FitName(fp->kind))));
	for (i = 0; i < fp->np; i++)
		if (!(p[i] > 0) || !isfinite(p[i]))
		{
			/* clamp so that the model stays a valid value */
			p[i] = p[i] > 0 ? DBL_MAX : DBL_MIN;
			best.converged = false;
		}
	m = clcm_btyd_model_make(fp->kind, p);
	m->ll = TotalLL(fp, p);
	m->n = fp->wsum;
	m->iterations = best.iterations;
	m->flags = BTYD_HAS_LL | BTYD_HAS_N | BTYD_HAS_CONVERGED | BTYD_HAS_ITER |
		(best.converged ? BTYD_CONVERGED : 0);
	if (!isfinite(m->ll))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s: the log-likelihood cannot be evaluated at the estimate",
						FitName(fp->kind))));
	if (!best.converged)
		ereport(WARNING,
				(errmsg("%s did not converge", FitName(fp->kind)),
				 errdetail("The model is returned with converged=false; the scoring functions refuse it."),
				 errhint("Check the data, or add a penalizer.")));
	return m;
}

/* final function: fit the state of the expected kind */
static Datum
BtydFinal(FunctionCallInfo fcinfo, BtydKind kind)
{
	BtydState  *s;
	FitProblem	fp;
	int			i;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	s = (BtydState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(0));
	if (s->kind != kind)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a %s fit state cannot be used by %s",
						clcm_btyd_kinds[s->kind].name, FitName(kind))));
	memset(&fp, 0, sizeof(fp));
	fp.kind = kind;
	fp.np = clcm_btyd_kinds[kind].nparams;
	fp.penalizer = s->penalizer;
	fp.e = palloc(sizeof(BtydEntry) * Max(s->nused, 1));
	memcpy(fp.e, s->e, sizeof(BtydEntry) * s->nused);
	fp.n = CompactEntries(fp.e, s->nused);
	for (i = 0; i < fp.n; i++)
		fp.wsum += fp.e[i].w;
	if (fp.n == 0 || !(fp.wsum > 0))
		PG_RETURN_NULL();
	PG_RETURN_POINTER(FitModel(&fp));
}

#define BTYD_FINAL_FUNC(NAME, KIND) \
PG_FUNCTION_INFO_V1(clcm_##NAME##_fit_final); \
Datum \
clcm_##NAME##_fit_final(PG_FUNCTION_ARGS) \
{ \
	return BtydFinal(fcinfo, KIND); \
}

/* final functions of the five aggregates */
BTYD_FINAL_FUNC(bgnbd, BTYD_BGNBD)
BTYD_FINAL_FUNC(pareto_nbd, BTYD_PARETO)
BTYD_FINAL_FUNC(mbgnbd, BTYD_MBGNBD)
BTYD_FINAL_FUNC(bgbb, BTYD_BGBB)
BTYD_FINAL_FUNC(gamma_gamma, BTYD_GG)
