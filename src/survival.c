/*-------------------------------------------------------------------------
 *
 * survival.c
 *	  Kaplan-Meier survival curves: the clcm.survival aggregate, the
 *	  clcm.survival_curve type, clcm.survival_table and
 *	  clcm.median_lifetime.
 *
 * The curve keeps, per distinct duration, the number of observed events
 * and of censorings: the sufficient statistics of the Kaplan-Meier
 * estimator, small whatever the number of rows and mergeable by adding
 * counts.  The aggregate state is the curve type itself (non-internal,
 * so a distributed planner can push the aggregate down): sorted, distinct
 * items followed by an unsorted tail of new rows that is sorted and
 * merged in whenever the allocated space fills up.  Values handed out by
 * the final function have no tail and no spare space.
 *
 * Estimator (Kaplan & Meier 1958), for distinct times t_1 < t_2 < ...
 * with d_i events and c_i censorings at t_i and n_i at risk just before
 * t_i (events before censorings at equal times, so a customer censored at
 * t_i is at risk for the events at t_i):
 *	 S(t_i) = prod_{j<=i} (1 - d_j / n_j)
 *	 Greenwood: V_i = sum_{j<=i} d_j / (n_j (n_j - d_j))
 *	 log-log 95% bounds: S^exp(+-z sqrt(V_i) / log S), z = 1.959964
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/int.h"
#include "common/shortest_dec.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "clcm.h"

typedef struct SurvItem
{
	float8		time;
	int64		events;
	int64		censored;
} SurvItem;

/*
 * clcm.survival_curve.  In a finished value ntail = 0 and the varlena
 * holds exactly n items; an aggregate state may hold ntail more unsorted
 * items and spare space up to the varlena length.
 */
typedef struct SurvCurve
{
	int32		vl_len_;
	uint8		version;
	uint8		reserved[3];	/* zero */
	int32		n;				/* sorted distinct items */
	int32		ntail;			/* unsorted items after them */
	int32		pad;			/* zero */
	SurvItem	items[FLEXIBLE_ARRAY_MEMBER];
} SurvCurve;

#define SURV_VERSION	1
#define SURV_HDR		offsetof(SurvCurve, items)
#define SURV_CAP(c)		((int32) ((VARSIZE(c) - SURV_HDR) / sizeof(SurvItem)))
#define SURV_MAX_ITEMS	((int32) ((MaxAllocSize - SURV_HDR) / sizeof(SurvItem)))
#define PG_GETARG_SURVCURVE_P(n) ((SurvCurve *) PG_DETOAST_DATUM(PG_GETARG_DATUM(n)))

/* z for two-sided 95% bounds */
#define SURV_Z95	1.959963984540054

/* allocate an empty curve with room for cap items */
static SurvCurve *
SurvAlloc(int32 cap)
{
	Size		sz = SURV_HDR + sizeof(SurvItem) * (Size) cap;
	SurvCurve  *c;

	if (cap > SURV_MAX_ITEMS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("survival curve has too many distinct durations")));
	c = palloc0(sz);
	SET_VARSIZE(c, sz);
	c->version = SURV_VERSION;
	return c;
}

/* error for counts that no longer fit in bigint after merging curves */
static void
SurvCountOverflow(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("survival curve counts are out of range")));
}

/* total number of customers of a normalized curve (error on overflow) */
static int64
SurvTotal(const SurvCurve *c)
{
	int64		total = 0;

	for (int32 i = 0; i < c->n; i++)
		if (pg_add_s64_overflow(total, c->items[i].events, &total) ||
			pg_add_s64_overflow(total, c->items[i].censored, &total))
			SurvCountOverflow();
	return total;
}

/* order items by time */
static int
SurvItemCmp(const void *a, const void *b)
{
	float8		x = ((const SurvItem *) a)->time;
	float8		y = ((const SurvItem *) b)->time;

	return (x > y) - (x < y);
}

/*
 * Sort the tail and merge it into the sorted part, summing items of equal
 * time; afterwards ntail = 0.  Works in place with one scratch buffer.
 */
static void
SurvNormalize(SurvCurve *c)
{
	int32		n = c->n,
				t = c->ntail,
				i = 0,
				j = 0,
				k = 0;
	SurvItem   *tail;
	SurvItem   *out;

	if (t == 0)
		return;
	tail = c->items + n;
	qsort(tail, t, sizeof(SurvItem), SurvItemCmp);
	out = palloc(sizeof(SurvItem) * (Size) (n + t));
	while (i < n || j < t)
	{
		SurvItem   *next;

		if (j >= t || (i < n && c->items[i].time <= tail[j].time))
			next = &c->items[i++];
		else
			next = &tail[j++];
		if (k > 0 && out[k - 1].time == next->time)
		{
			if (pg_add_s64_overflow(out[k - 1].events, next->events, &out[k - 1].events) ||
				pg_add_s64_overflow(out[k - 1].censored, next->censored, &out[k - 1].censored))
				SurvCountOverflow();
		}
		else
			out[k++] = *next;
	}
	memcpy(c->items, out, sizeof(SurvItem) * k);
	memset(c->items + k, 0, sizeof(SurvItem) * (n + t - k));
	c->n = k;
	c->ntail = 0;
	pfree(out);
}

/* a finished copy (normalized, exact size) of a curve in the current context */
static SurvCurve *
SurvFinish(SurvCurve *c)
{
	SurvCurve  *r;

	/* never normalize the argument itself: it may be a stored value */
	if (c->ntail > 0)
	{
		SurvCurve  *copy = palloc(VARSIZE(c));

		memcpy(copy, c, VARSIZE(c));
		c = copy;
		SurvNormalize(c);
	}
	r = SurvAlloc(c->n);
	r->n = c->n;
	memcpy(r->items, c->items, sizeof(SurvItem) * c->n);
	return r;
}

/*
 * Append an item to the state (in place when there is room; otherwise a
 * grown copy in the current context is returned).
 */
static SurvCurve *
SurvAppend(SurvCurve *c, float8 time, int64 events, int64 censored)
{
	if (c->n + c->ntail >= SURV_CAP(c))
	{
		SurvNormalize(c);
		if (c->n * 2 >= SURV_CAP(c))
		{
			SurvCurve  *g = SurvAlloc(Max(64, SURV_CAP(c) * 2));

			g->n = c->n;
			memcpy(g->items, c->items, sizeof(SurvItem) * c->n);
			c = g;
		}
	}
	c->items[c->n + c->ntail].time = time;
	c->items[c->n + c->ntail].events = events;
	c->items[c->n + c->ntail].censored = censored;
	c->ntail++;
	return c;
}

PG_FUNCTION_INFO_V1(clcm_survival_sfunc);

/*
 * clcm.survival(duration, observed) transition.  Rows with a NULL
 * duration or observed flag are skipped; negative, NaN and infinite
 * durations are errors.  In an aggregate the state is updated in place;
 * called as a plain function the argument is left alone and a new,
 * finished curve (the argument plus the one duration) is returned.
 */
Datum
clcm_survival_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	bool		inagg = AggCheckCallContext(fcinfo, &aggcxt);
	SurvCurve  *c = NULL;
	float8		d;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	if (!PG_ARGISNULL(0))
	{
		if (inagg)
			c = (SurvCurve *) PG_GETARG_POINTER(0);
		else
		{
			SurvCurve  *arg = PG_GETARG_SURVCURVE_P(0);

			c = palloc(VARSIZE(arg));
			memcpy(c, arg, VARSIZE(arg));
		}
	}
	d = PG_GETARG_FLOAT8(1);
	if (isnan(d) || isinf(d) || d < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("survival duration must be a finite number greater than or equal to zero"),
				 errdetail("The duration was %s.", isnan(d) ? "NaN" : isinf(d) ? "infinite" : "negative")));
	if (d == 0)
		d = 0;					/* fold -0 into 0 */
	if (c == NULL)
		c = SurvAlloc(64);		/* current context; the executor copies it */
	c = SurvAppend(c, d, PG_GETARG_BOOL(2) ? 1 : 0, PG_GETARG_BOOL(2) ? 0 : 1);
	if (!inagg)
		c = SurvFinish(c);
	PG_RETURN_POINTER(c);
}

PG_FUNCTION_INFO_V1(clcm_survival_combine);

/*
 * Combine two curves (partial aggregates or curves of disjoint
 * populations).  The first argument is modified in place only when it is
 * the aggregate's own state; called as a plain function it returns a new,
 * finished curve.
 */
Datum
clcm_survival_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	bool		inagg = AggCheckCallContext(fcinfo, &aggcxt);
	SurvCurve  *a,
			   *b,
			   *r;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	b = PG_GETARG_SURVCURVE_P(1);
	if (PG_ARGISNULL(0))
	{
		r = palloc(VARSIZE(b));
		memcpy(r, b, VARSIZE(b));
		PG_RETURN_POINTER(r);
	}
	a = PG_GETARG_SURVCURVE_P(0);
	if (!inagg || a != (SurvCurve *) PG_GETARG_POINTER(0))
	{
		r = palloc(VARSIZE(a));
		memcpy(r, a, VARSIZE(a));
		a = r;
	}
	for (int32 i = 0; i < b->n + b->ntail; i++)
	{
		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		a = SurvAppend(a, b->items[i].time, b->items[i].events, b->items[i].censored);
	}
	if (!inagg)
		a = SurvFinish(a);
	PG_RETURN_POINTER(a);
}

PG_FUNCTION_INFO_V1(clcm_survival_final);

/* final function: the finished curve, NULL for empty input */
Datum
clcm_survival_final(PG_FUNCTION_ARGS)
{
	SurvCurve  *c;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	c = PG_GETARG_SURVCURVE_P(0);
	if (c->n + c->ntail == 0)
		PG_RETURN_NULL();
	PG_RETURN_POINTER(SurvFinish(c));
}

/*
 * Validate a parsed or received curve: times finite, >= 0 and strictly
 * increasing; counts >= 0 and not both zero; totals without overflow.
 */
static const char *
SurvCheck(const SurvCurve *c)
{
	int64		total = 0;

	if (c->n < 1)
		return "A curve needs at least one duration.";
	for (int32 i = 0; i < c->n; i++)
	{
		const SurvItem *it = &c->items[i];

		if (isnan(it->time) || isinf(it->time) || it->time < 0)
			return "Durations must be finite and greater than or equal to zero.";
		if (i > 0 && it->time <= c->items[i - 1].time)
			return "Durations must be strictly increasing.";
		/* ranges first: the sums below must not overflow */
		if (it->events < 0 || it->censored < 0)
			return "Counts must be non-negative and not both zero.";
		if (it->events > PG_INT64_MAX / 4 || it->censored > PG_INT64_MAX / 4)
			return "The counts are too large.";
		if (it->events + it->censored == 0)
			return "Counts must be non-negative and not both zero.";
		total += it->events + it->censored;
		if (total > PG_INT64_MAX / 4)
			return "The counts are too large.";
	}
	return NULL;
}

/* append a float8 in shortest exact form */
static void
SurvAppendFloat(StringInfo s, float8 v)
{
	char		buf[DOUBLE_SHORTEST_DECIMAL_LEN];

	double_to_shortest_decimal_buf(v, buf);
	appendStringInfoString(s, buf);
}

PG_FUNCTION_INFO_V1(clcm_survival_curve_out);

/*
 * Text output: {time:events:censored,...} in increasing time, times in
 * shortest exact float8 form.
 */
Datum
clcm_survival_curve_out(PG_FUNCTION_ARGS)
{
	SurvCurve  *c = PG_GETARG_SURVCURVE_P(0);
	StringInfoData s;

	if (c->ntail > 0)
	{
		SurvCurve  *copy = palloc(VARSIZE(c));

		memcpy(copy, c, VARSIZE(c));
		c = copy;
		SurvNormalize(c);
	}
	initStringInfo(&s);
	appendStringInfoChar(&s, '{');
	for (int32 i = 0; i < c->n; i++)
	{
		if (i > 0)
			appendStringInfoChar(&s, ',');
		SurvAppendFloat(&s, c->items[i].time);
		appendStringInfo(&s, ":" INT64_FORMAT ":" INT64_FORMAT,
						 c->items[i].events, c->items[i].censored);
	}
	appendStringInfoChar(&s, '}');
	PG_RETURN_CSTRING(s.data);
}

/*
 * strtod as float8in accepts it: ERANGE is an error only for results that
 * overflow to infinity or underflow to zero; a subnormal result (e.g.
 * 1e-310, which float8out prints) is kept, so every printed value reads
 * back.  Returns false when no number was read or it is out of range.
 */
static bool
SurvStrtod(const char *p, char **end, double *v)
{
	errno = 0;
	*v = strtod(p, end);
	if (*end == p)
		return false;
	if (errno == ERANGE && (*v == 0.0 || isinf(*v)))
		return false;
	return true;
}

/* error for a malformed curve literal */
static void
SurvSyntaxError(const char *input, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type clcm.survival_curve: \"%s\"", input),
			 errdetail("%s", detail)));
}

PG_FUNCTION_INFO_V1(clcm_survival_curve_in);

/* text input: {time:events:censored,...} (whitespace allowed around tokens) */
Datum
clcm_survival_curve_in(PG_FUNCTION_ARGS)
{
	char	   *input = PG_GETARG_CSTRING(0);
	const char *p = input;
	int32		cap = 16;
	SurvCurve  *c = SurvAlloc(cap);
	const char *err;

	while (isspace((unsigned char) *p))
		p++;
	if (*p++ != '{')
		SurvSyntaxError(input, "A curve is written {time:events:censored,...}.");
	for (;;)
	{
		char	   *end;
		SurvItem	it;
		long long	v;

		if (!SurvStrtod(p, &end, &it.time))
			SurvSyntaxError(input, "A duration is not a number.");
		p = end;
		while (isspace((unsigned char) *p))
			p++;
		if (*p++ != ':')
			SurvSyntaxError(input, "Each item is written time:events:censored.");
		errno = 0;
		v = strtoll(p, &end, 10);
		if (end == p || errno != 0)
			SurvSyntaxError(input, "An event count is not an integer.");
		it.events = v;
		p = end;
		while (isspace((unsigned char) *p))
			p++;
		if (*p++ != ':')
			SurvSyntaxError(input, "Each item is written time:events:censored.");
		errno = 0;
		v = strtoll(p, &end, 10);
		if (end == p || errno != 0)
			SurvSyntaxError(input, "A censoring count is not an integer.");
		it.censored = v;
		p = end;
		if (c->n == cap)
		{
			SurvCurve  *g = SurvAlloc(cap * 2);

			g->n = c->n;
			memcpy(g->items, c->items, sizeof(SurvItem) * c->n);
			c = g;
			cap *= 2;
		}
		c->items[c->n++] = it;
		while (isspace((unsigned char) *p))
			p++;
		if (*p == ',')
		{
			p++;
			continue;
		}
		if (*p++ != '}')
			SurvSyntaxError(input, "Items are separated by commas and closed by }.");
		break;
	}
	while (isspace((unsigned char) *p))
		p++;
	if (*p != '\0')
		SurvSyntaxError(input, "Unexpected text after the closing brace.");
	if ((err = SurvCheck(c)) != NULL)
		SurvSyntaxError(input, err);
	PG_RETURN_POINTER(SurvFinish(c));
}

PG_FUNCTION_INFO_V1(clcm_survival_curve_send);

/* binary output: version, count, then time, events, censored per item */
Datum
clcm_survival_curve_send(PG_FUNCTION_ARGS)
{
	SurvCurve  *c = PG_GETARG_SURVCURVE_P(0);
	StringInfoData buf;

	if (c->ntail > 0)
	{
		SurvCurve  *copy = palloc(VARSIZE(c));

		memcpy(copy, c, VARSIZE(c));
		c = copy;
		SurvNormalize(c);
	}
	pq_begintypsend(&buf);
	pq_sendbyte(&buf, SURV_VERSION);
	pq_sendint32(&buf, c->n);
	for (int32 i = 0; i < c->n; i++)
	{
		pq_sendfloat8(&buf, c->items[i].time);
		pq_sendint64(&buf, c->items[i].events);
		pq_sendint64(&buf, c->items[i].censored);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(clcm_survival_curve_recv);

/* binary input; validates like the text input */
Datum
clcm_survival_curve_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		n;
	SurvCurve  *c;
	const char *err;

	if (pq_getmsgbyte(buf) != SURV_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid external clcm.survival_curve value"),
				 errdetail("Unsupported format version.")));
	n = pq_getmsgint(buf, 4);
	if (n < 0 || (int64) n * 24 != buf->len - buf->cursor)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid external clcm.survival_curve value"),
				 errdetail("The length does not match the number of items.")));
	c = SurvAlloc(n);
	c->n = n;
	for (int32 i = 0; i < n; i++)
	{
		c->items[i].time = pq_getmsgfloat8(buf);
		c->items[i].events = pq_getmsgint64(buf);
		c->items[i].censored = pq_getmsgint64(buf);
	}
	if ((err = SurvCheck(c)) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid external clcm.survival_curve value"),
				 errdetail("%s", err)));
	PG_RETURN_POINTER(c);
}

/* a normalized curve to read (a copy when the argument has a tail) */
static SurvCurve *
SurvGetNormalized(FunctionCallInfo fcinfo)
{
	SurvCurve  *c = PG_GETARG_SURVCURVE_P(0);

	if (c->ntail > 0)
	{
		SurvCurve  *copy = palloc(VARSIZE(c));

		memcpy(copy, c, VARSIZE(c));
		c = copy;
		SurvNormalize(c);
	}
	return c;
}

PG_FUNCTION_INFO_V1(clcm_survival_table);

/*
 * clcm.survival_table(curve): one row per distinct duration.  The bounds
 * are NULL where the log-log transform is undefined (S = 1 before the
 * first event, S = 0 after the last customer at risk has an event).
 */
Datum
clcm_survival_table(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SurvCurve  *c = SurvGetNormalized(fcinfo);
	int64		at_risk = 0;
	float8		s = 1.0;
	float8		v = 0.0;

	InitMaterializedSRF(fcinfo, 0);
	at_risk = SurvTotal(c);
	for (int32 i = 0; i < c->n; i++)
	{
		SurvItem   *it = &c->items[i];
		Datum		values[6];
		bool		nulls[6] = {false, false, false, false, false, false};

		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		if (it->events > 0)
		{
			s *= 1.0 - (float8) it->events / (float8) at_risk;
			if (at_risk > it->events)
				v += (float8) it->events / ((float8) at_risk * (float8) (at_risk - it->events));
			else
				v = INFINITY;
		}
		values[0] = Float8GetDatum(it->time);
		values[1] = Int64GetDatum(at_risk);
		values[2] = Int64GetDatum(it->events);
		values[3] = Float8GetDatum(s);
		if (s > 0 && s < 1 && !isinf(v))
		{
			float8		se = sqrt(v) / fabs(log(s));

			values[4] = Float8GetDatum(pow(s, exp(SURV_Z95 * se)));
			values[5] = Float8GetDatum(pow(s, exp(-SURV_Z95 * se)));
		}
		else
			nulls[4] = nulls[5] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		at_risk -= it->events + it->censored;
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(clcm_median_lifetime);

/*
 * clcm.median_lifetime(curve): the smallest duration at which the
 * estimated survival is 0.5 or less (within 1e-12, so that a product that
 * is exactly 0.5 in exact arithmetic counts); NULL when it never drops
 * that low.
 */
Datum
clcm_median_lifetime(PG_FUNCTION_ARGS)
{
	SurvCurve  *c = SurvGetNormalized(fcinfo);
	int64		at_risk = 0;
	float8		s = 1.0;

	at_risk = SurvTotal(c);
	for (int32 i = 0; i < c->n; i++)
	{
		SurvItem   *it = &c->items[i];

		if (it->events > 0)
		{
			s *= 1.0 - (float8) it->events / (float8) at_risk;
			/* tolerate rounding of a product that is 0.5 exactly */
			if (s <= 0.5 + 1e-12)
				PG_RETURN_FLOAT8(it->time);
		}
		at_risk -= it->events + it->censored;
	}
	PG_RETURN_NULL();
}
