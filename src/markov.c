/*-------------------------------------------------------------------------
 *
 * markov.c
 *	  The clcm.markov type (a matrix of stage-to-stage transition counts),
 *	  the clcm.transition_matrix aggregate that builds it, and the
 *	  functions that read it: markov_table, markov_stages, markov_project
 *	  and markov_clv (Pfeifer & Carraway 2000).
 *
 * A markov value carries the labels of its stages (all labels of the enum
 * type the aggregate was fed, in the enum's sort order, i.e. funnel order)
 * and a dense k x k matrix of int64 counts.  The aggregate state is the
 * value itself (no internal type), so it has a combine function and ships
 * through its text form, which round-trips exactly:
 *
 *	  {"stages": ["new", "active"], "counts": [[0, 3], [1, 0]]}
 *
 * (valid JSON, so ::text::jsonb works).  Probabilities are count / row
 * total; a row without any observed transition is treated as absorbing
 * (the stage keeps its customers) by markov_project and markov_clv.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/catcache.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "clcm.h"

/* format version of the binary (send/recv) form */
#define MARKOV_BINARY_VERSION 1

/* upper bound on the number of stages of one matrix */
#define MARKOV_MAX_STAGES 1000

/* upper bound on markov_project steps and finite markov_clv horizons */
#define MARKOV_MAX_STEPS 100000

/* upper bound on steps * k * k multiply-adds of one projection or CLV */
#define MARKOV_MAX_WORK 1e10

/*
 * Refuse a projection or finite-horizon CLV whose work (steps * k * k)
 * would keep a backend busy for minutes.
 */
static void
MarkovCheckWork(int steps, int k)
{
	if ((double) steps * k * k > MARKOV_MAX_WORK)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%d steps over %d stages is too much work", steps, k),
				 errhint("Use fewer steps; steps times the square of the number of stages may be at most 1e10.")));
}

/*
 * On-disk and in-memory layout: varlena header, stage count, two reserved
 * zero words (flags for format evolution, alignment), k*k int64 counts in
 * row-major order, then k NUL-terminated labels back to back.
 */
typedef struct ClcmMarkov
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int32		k;				/* number of stages */
	int32		flags;			/* reserved, zero */
	int32		reserved;		/* reserved, zero (keeps counts 8-aligned) */
	int64		counts[FLEXIBLE_ARRAY_MEMBER];	/* k*k, then the labels */
} ClcmMarkov;

#define MARKOV_HDRSZ offsetof(ClcmMarkov, counts)
#define MARKOV_LABELS(m) ((char *) &(m)->counts[(m)->k * (m)->k])
#define DatumGetMarkovP(x) ((ClcmMarkov *) PG_DETOAST_DATUM(x))
#define PG_GETARG_MARKOV_P(n) DatumGetMarkovP(PG_GETARG_DATUM(n))

/*
 * Per-call cache of the enum type fed to the aggregate: its labels in
 * sort order and their OIDs, for the OID -> index lookup.
 */
typedef struct MarkovEnumCache
{
	Oid			typid;
	int			k;
	Oid		   *oids;			/* in sort order */
	char	  **labels;			/* in sort order */
} MarkovEnumCache;

/*
 * Allocate a zeroed matrix of k stages with the given labels in the
 * current memory context.
 */
static ClcmMarkov *
MarkovAlloc(int k, char **labels)
{
	Size		label_bytes = 0;
	Size		size;
	ClcmMarkov *m;
	char	   *p;
	int			i;

	for (i = 0; i < k; i++)
		label_bytes = add_size(label_bytes, strlen(labels[i]) + 1);
	size = add_size(MARKOV_HDRSZ,
					add_size(mul_size(mul_size(k, k), sizeof(int64)),
							 label_bytes));
	if (size > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("transition matrix is too large")));
	m = (ClcmMarkov *) palloc0(size);
	SET_VARSIZE(m, size);
	m->k = k;
	p = MARKOV_LABELS(m);
	for (i = 0; i < k; i++)
	{
		Size		len = strlen(labels[i]) + 1;

		memcpy(p, labels[i], len);
		p += len;
	}
	return m;
}

/*
 * Pointers to the k labels of m, in stage order (palloc'd array).
 */
static char **
MarkovLabels(const ClcmMarkov *m)
{
	char	  **labels = palloc(sizeof(char *) * Max(m->k, 1));
	char	   *p = MARKOV_LABELS(m);
	int			i;

	for (i = 0; i < m->k; i++)
	{
		labels[i] = p;
		p += strlen(p) + 1;
	}
	return labels;
}

/*
 * Check a matrix that came from outside (recv, or a corrupt datum): sizes
 * add up, labels are non-empty, unique and NUL-terminated, counts are not
 * negative.  Raises 22P02 with the given type context on failure.
 */
static void
MarkovCheck(const ClcmMarkov *m, const char *what)
{
	Size		size = VARSIZE(m);
	Size		need;
	const char *p;
	const char *end;
	char	  **labels;
	int			i,
				j;

	if (size < MARKOV_HDRSZ || m->k < 1 || m->k > MARKOV_MAX_STAGES ||
		m->flags != 0 || m->reserved != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid %s for type markov", what),
				 errdetail("The header is malformed.")));
	need = MARKOV_HDRSZ + (Size) m->k * m->k * sizeof(int64);
	if (size < need + m->k)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid %s for type markov", what),
				 errdetail("The value is truncated.")));
	p = (const char *) m + need;
	end = (const char *) m + size;
	for (i = 0; i < m->k; i++)
	{
		const char *nul = memchr(p, '\0', end - p);

		if (nul == NULL || nul == p || nul - p >= NAMEDATALEN)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid %s for type markov", what),
					 errdetail("Stage label %d is empty, too long or unterminated.",
							   i + 1)));
		p = nul + 1;
	}
	if (p != end)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid %s for type markov", what),
				 errdetail("The value has trailing bytes.")));
	labels = MarkovLabels(m);
	for (i = 0; i < m->k; i++)
		for (j = i + 1; j < m->k; j++)
			if (strcmp(labels[i], labels[j]) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
						 errmsg("invalid %s for type markov", what),
						 errdetail("Stage \"%s\" appears twice.", labels[i])));
	for (i = 0; i < m->k * m->k; i++)
		if (m->counts[i] < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid %s for type markov", what),
					 errdetail("Counts cannot be negative.")));
	pfree(labels);
}

/* ------------------------------------------------------------ text I/O */

/*
 * Append s to buf as a JSON string literal.
 */
static void
MarkovAppendString(StringInfo buf, const char *s)
{
	appendStringInfoChar(buf, '"');
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if (c == '"' || c == '\\')
		{
			appendStringInfoChar(buf, '\\');
			appendStringInfoChar(buf, c);
		}
		else if (c < 0x20)
			appendStringInfo(buf, "\\u%04x", c);
		else
			appendStringInfoChar(buf, c);
	}
	appendStringInfoChar(buf, '"');
}

PG_FUNCTION_INFO_V1(clcm_markov_out);

/*
 * markov output: {"stages": [...], "counts": [[...], ...]}.
 */
Datum
clcm_markov_out(PG_FUNCTION_ARGS)
{
	ClcmMarkov *m = PG_GETARG_MARKOV_P(0);
	char	  **labels = MarkovLabels(m);
	StringInfoData buf;
	int			i,
				j;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"stages\": [");
	for (i = 0; i < m->k; i++)
	{
		if (i > 0)
			appendStringInfoString(&buf, ", ");
		MarkovAppendString(&buf, labels[i]);
	}
	appendStringInfoString(&buf, "], \"counts\": [");
	for (i = 0; i < m->k; i++)
	{
		appendStringInfoString(&buf, i > 0 ? ", [" : "[");
		for (j = 0; j < m->k; j++)
			appendStringInfo(&buf, j > 0 ? ", " INT64_FORMAT : INT64_FORMAT,
							 m->counts[i * m->k + j]);
		appendStringInfoChar(&buf, ']');
	}
	appendStringInfoString(&buf, "]}");
	PG_RETURN_CSTRING(buf.data);
}

/* Parser state for markov input. */
typedef struct MarkovParser
{
	const char *input;			/* whole input, for messages */
	const char *p;				/* current position */
} MarkovParser;

/*
 * Raise the invalid-syntax error for markov input with a detail.
 */
static void
pg_attribute_noreturn()
MarkovSyntaxError(MarkovParser *ps, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type markov: \"%s\"", ps->input),
			 errdetail("%s", detail)));
}

/* Skip white space. */
static void
MarkovSkip(MarkovParser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
		ps->p++;
}

/* Consume the character c (after white space) or fail. */
static void
MarkovExpect(MarkovParser *ps, char c)
{
	char		detail[64];

	MarkovSkip(ps);
	if (*ps->p != c)
	{
		snprintf(detail, sizeof(detail), "Expected \"%c\" at offset %d.", c,
				 (int) (ps->p - ps->input));
		MarkovSyntaxError(ps, detail);
	}
	ps->p++;
}

/* If the next non-blank character is c, consume it and return true. */
static bool
MarkovAccept(MarkovParser *ps, char c)
{
	MarkovSkip(ps);
	if (*ps->p == c)
	{
		ps->p++;
		return true;
	}
	return false;
}

/*
 * Parse a JSON string literal (escapes \" \\ \/ \b \f \n \r \t and \u00XX
 * for ASCII); returns a palloc'd C string.
 */
static char *
MarkovParseString(MarkovParser *ps)
{
	StringInfoData buf;

	MarkovExpect(ps, '"');
	initStringInfo(&buf);
	for (;;)
	{
		char		c = *ps->p++;

		if (c == '\0')
			MarkovSyntaxError(ps, "A string is not terminated.");
		if (c == '"')
			break;
		if (c == '\\')
		{
			c = *ps->p++;
			switch (c)
			{
				case '"':
				case '\\':
				case '/':
					break;
				case 'b':
					c = '\b';
					break;
				case 'f':
					c = '\f';
					break;
				case 'n':
					c = '\n';
					break;
				case 'r':
					c = '\r';
					break;
				case 't':
					c = '\t';
					break;
				case 'u':
					{
						int			v = 0;
						int			i;

						for (i = 0; i < 4; i++)
						{
							char		h = *ps->p++;

							v <<= 4;
							if (h >= '0' && h <= '9')
								v += h - '0';
							else if (h >= 'a' && h <= 'f')
								v += h - 'a' + 10;
							else if (h >= 'A' && h <= 'F')
								v += h - 'A' + 10;
							else
								MarkovSyntaxError(ps, "A \\u escape needs four hexadecimal digits.");
						}
						if (v == 0 || v >= 0x80)
							MarkovSyntaxError(ps, "Only \\u escapes of ASCII characters other than NUL are supported.");
						c = (char) v;
						break;
					}
				default:
					MarkovSyntaxError(ps, "A string contains an invalid escape.");
			}
		}
		appendStringInfoChar(&buf, c);
	}
	return buf.data;
}

/*
 * Parse a non-negative int64 count.
 */
static int64
MarkovParseCount(MarkovParser *ps)
{
	int64		v = 0;
	bool		any = false;

	MarkovSkip(ps);
	while (*ps->p >= '0' && *ps->p <= '9')
	{
		int			d = *ps->p++ - '0';

		if (v > (PG_INT64_MAX - d) / 10)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("count is out of range for type markov: \"%s\"",
							ps->input)));
		v = v * 10 + d;
		any = true;
	}
	if (!any)
		MarkovSyntaxError(ps, "Counts must be non-negative integers.");
	return v;
}

/*
 * Parse a key "name" followed by a colon; fail unless it is the expected key.
 */
static void
MarkovParseKey(MarkovParser *ps, const char *key)
{
	char	   *got = MarkovParseString(ps);

	if (strcmp(got, key) != 0)
	{
		char	   *detail = psprintf("Expected key \"%s\".", key);

		MarkovSyntaxError(ps, detail);
	}
	MarkovExpect(ps, ':');
}

PG_FUNCTION_INFO_V1(clcm_markov_in);

/*
 * markov input: the exact form markov_out prints, white space free.
 * Checks: at least one stage, labels non-empty, shorter than NAMEDATALEN
 * and unique, a k x k count matrix of non-negative integers.
 */
Datum
clcm_markov_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	MarkovParser ps;
	char	  **labels;
	int			nlabels = 0;
	int			cap = 8;
	ClcmMarkov *m;
	int			i,
				j;

	ps.input = str;
	ps.p = str;
	labels = palloc(sizeof(char *) * cap);

	MarkovExpect(&ps, '{');
	MarkovParseKey(&ps, "stages");
	MarkovExpect(&ps, '[');
	if (!MarkovAccept(&ps, ']'))
	{
		do
		{
			char	   *label = MarkovParseString(&ps);

			if (label[0] == '\0' || strlen(label) >= NAMEDATALEN)
				MarkovSyntaxError(&ps, "Stage labels must have 1 to 63 bytes.");
			for (i = 0; i < nlabels; i++)
				if (strcmp(labels[i], label) == 0)
					MarkovSyntaxError(&ps, psprintf("Stage \"%s\" appears twice.", label));
			if (nlabels >= MARKOV_MAX_STAGES)
				MarkovSyntaxError(&ps, "A matrix has at most 1000 stages.");
			if (nlabels == cap)
			{
				cap *= 2;
				labels = repalloc(labels, sizeof(char *) * cap);
			}
			labels[nlabels++] = label;
		} while (MarkovAccept(&ps, ','));
		MarkovExpect(&ps, ']');
	}
	if (nlabels == 0)
		MarkovSyntaxError(&ps, "A matrix needs at least one stage.");

	m = MarkovAlloc(nlabels, labels);
	MarkovExpect(&ps, ',');
	MarkovParseKey(&ps, "counts");
	MarkovExpect(&ps, '[');
	for (i = 0; i < nlabels; i++)
	{
		if (i > 0)
			MarkovExpect(&ps, ',');
		MarkovExpect(&ps, '[');
		for (j = 0; j < nlabels; j++)
		{
			if (j > 0)
				MarkovExpect(&ps, ',');
			m->counts[i * nlabels + j] = MarkovParseCount(&ps);
		}
		MarkovExpect(&ps, ']');
	}
	MarkovExpect(&ps, ']');
	MarkovExpect(&ps, '}');
	MarkovSkip(&ps);
	if (*ps.p != '\0')
		MarkovSyntaxError(&ps, "The value has trailing characters.");
	PG_RETURN_POINTER(m);
}

PG_FUNCTION_INFO_V1(clcm_markov_send);

/*
 * markov binary output: version, k, labels, counts.
 */
Datum
clcm_markov_send(PG_FUNCTION_ARGS)
{
	ClcmMarkov *m = PG_GETARG_MARKOV_P(0);
	char	  **labels = MarkovLabels(m);
	StringInfoData buf;
	int			i;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, MARKOV_BINARY_VERSION);
	pq_sendint32(&buf, m->k);
	for (i = 0; i < m->k; i++)
		pq_sendstring(&buf, labels[i]);
	for (i = 0; i < m->k * m->k; i++)
		pq_sendint64(&buf, m->counts[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(clcm_markov_recv);

/*
 * markov binary input: validates exactly what markov_in validates.
 */
Datum
clcm_markov_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		version = pq_getmsgint(buf, 4);
	int32		k;
	char	  **labels;
	ClcmMarkov *m;
	int			i;

	if (version != MARKOV_BINARY_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("unsupported binary format version %d for type markov",
						version)));
	k = pq_getmsgint(buf, 4);
	if (k < 1 || k > MARKOV_MAX_STAGES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid external value for type markov"),
				 errdetail("The stage count %d is out of range.", k)));
	labels = palloc(sizeof(char *) * k);
	for (i = 0; i < k; i++)
		labels[i] = pstrdup(pq_getmsgstring(buf));
	m = MarkovAlloc(k, labels);
	for (i = 0; i < k * k; i++)
		m->counts[i] = pq_getmsgint64(buf);
	pq_getmsgend(buf);
	MarkovCheck(m, "external value");
	PG_RETURN_POINTER(m);
}

/* ---------------------------------------------------------- aggregate */

/*
 * Load (once per aggregate call site) the labels of enum type typid in
 * sort order, in fn_mcxt.
 */
static MarkovEnumCache *
MarkovEnumLoad(FunctionCallInfo fcinfo, Oid typid)
{
	MarkovEnumCache *cache = (MarkovEnumCache *) fcinfo->flinfo->fn_extra;
	MemoryContext old;
	CatCList   *list;
	int			i,
				j;

	if (cache != NULL && cache->typid == typid)
		return cache;

	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	list = SearchSysCacheList1(ENUMTYPOIDNAME, ObjectIdGetDatum(typid));
	if (list->n_members < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("enum type %s has no labels", format_type_be(typid))));
	cache = palloc0(sizeof(MarkovEnumCache));
	cache->typid = typid;
	cache->k = list->n_members;
	cache->oids = palloc(sizeof(Oid) * cache->k);
	cache->labels = palloc(sizeof(char *) * cache->k);
	{
		float4	   *order = palloc(sizeof(float4) * cache->k);

		for (i = 0; i < cache->k; i++)
		{
			HeapTuple	tup = &list->members[i]->tuple;
			Form_pg_enum en = (Form_pg_enum) GETSTRUCT(tup);

			cache->oids[i] = en->oid;
			cache->labels[i] = pstrdup(NameStr(en->enumlabel));
			order[i] = en->enumsortorder;
		}
		/* insertion sort by sort order (k is small) */
		for (i = 1; i < cache->k; i++)
			for (j = i; j > 0 && order[j - 1] > order[j]; j--)
			{
				float4		to = order[j];
				Oid			tid = cache->oids[j];
				char	   *tl = cache->labels[j];

				order[j] = order[j - 1];
				cache->oids[j] = cache->oids[j - 1];
				cache->labels[j] = cache->labels[j - 1];
				order[j - 1] = to;
				cache->oids[j - 1] = tid;
				cache->labels[j - 1] = tl;
			}
		pfree(order);
	}
	ReleaseSysCacheList(list);
	if (cache->k > MARKOV_MAX_STAGES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("enum type %s has more than %d labels",
						format_type_be(typid), MARKOV_MAX_STAGES)));
	fcinfo->flinfo->fn_extra = cache;
	MemoryContextSwitchTo(old);
	return cache;
}

/* Index of an enum OID in the cache. */
static int
MarkovEnumIndex(MarkovEnumCache *cache, Oid value)
{
	int			i;

	for (i = 0; i < cache->k; i++)
		if (cache->oids[i] == value)
			return i;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("enum type %s changed during the query",
					format_type_be(cache->typid))));
	return -1;					/* keep compiler quiet */
}

static bool MarkovSameStages(const ClcmMarkov *a, const ClcmMarkov *b);

/* Raise the error for a matrix passed with stage values of another type. */
static void
pg_attribute_noreturn()
MarkovTypeMismatch(Oid typid)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("transition matrix does not match the stages of type %s",
					format_type_be(typid)),
			 errdetail("The matrix must list the labels of the enum type in their order.")));
}

PG_FUNCTION_INFO_V1(clcm_markov_accum);

/*
 * transition_matrix state function: count one (from, to) pair.  Pairs with
 * a NULL side (a history row of an insert has from_stage NULL) are
 * skipped.  The state is created on the first pair in the aggregate
 * context and then updated in place.
 */
Datum
clcm_markov_accum(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	ClcmMarkov *state;
	MarkovEnumCache *cache;
	Oid			typid;
	int			from,
				to;
	bool		in_agg = AggCheckCallContext(fcinfo, &aggcontext);

	/*
	 * Called as a plain function (the state type is an ordinary SQL type):
	 * work on a copy in the current memory context, the input may be a
	 * stored value that must not be modified.
	 */
	if (!in_agg)
		aggcontext = CurrentMemoryContext;

	state = PG_ARGISNULL(0) ? NULL : (ClcmMarkov *) PG_GETARG_POINTER(0);
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (state == NULL)
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}

	typid = get_fn_expr_argtype(fcinfo->flinfo, 1);
	if (!OidIsValid(typid) || !type_is_enum(typid))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("transition_matrix needs stage values of an enum type")));
	cache = MarkovEnumLoad(fcinfo, typid);

	if (state == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(aggcontext);

		state = MarkovAlloc(cache->k, cache->labels);
		MemoryContextSwitchTo(old);
	}
	else if (!in_agg)
	{
		ClcmMarkov *given = PG_GETARG_MARKOV_P(0);
		ClcmMarkov *tmpl = MarkovAlloc(cache->k, cache->labels);

		if (!MarkovSameStages(given, tmpl))
			MarkovTypeMismatch(typid);
		state = palloc(VARSIZE(given));
		memcpy(state, given, VARSIZE(given));
	}
	else if (state->k != cache->k)
		MarkovTypeMismatch(typid);

	from = MarkovEnumIndex(cache, PG_GETARG_OID(1));
	to = MarkovEnumIndex(cache, PG_GETARG_OID(2));
	if (state->counts[from * state->k + to] == PG_INT64_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("transition count is out of range")));
	state->counts[from * state->k + to]++;
	PG_RETURN_POINTER(state);
}

/* True when a and b have the same labels in the same order. */
static bool
MarkovSameStages(const ClcmMarkov *a, const ClcmMarkov *b)
{
	const char *pa,
			   *pb;
	Size		la,
				lb;

	if (a->k != b->k)
		return false;
	pa = MARKOV_LABELS(a);
	pb = MARKOV_LABELS(b);
	la = (const char *) a + VARSIZE(a) - pa;
	lb = (const char *) b + VARSIZE(b) - pb;
	return la == lb && memcmp(pa, pb, la) == 0;
}

/*
 * Add b's counts into a (same stages), checking for overflow.
 */
static void
MarkovAddInto(ClcmMarkov *a, const ClcmMarkov *b)
{
	int			i;

	for (i = 0; i < a->k * a->k; i++)
	{
		if (pg_add_s64_overflow(a->counts[i], b->counts[i], &a->counts[i]))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("transition count is out of range")));
	}
}

/* Raise the error for merging matrices over different stages. */
static void
pg_attribute_noreturn()
MarkovStageMismatch(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("cannot merge transition matrices over different stages"),
			 errdetail("Both matrices must list the same stages in the same order.")));
}

PG_FUNCTION_INFO_V1(clcm_markov_combine);

/*
 * Combine function of transition_matrix and state function of
 * markov_merge: adds two matrices over the same stages.  A NULL first
 * state gets a copy of the second in the aggregate context.
 */
Datum
clcm_markov_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	ClcmMarkov *a;
	ClcmMarkov *b;

	bool		in_agg = AggCheckCallContext(fcinfo, &aggcontext);

	/* as a plain function: never modify the input, allocate here */
	if (!in_agg)
		aggcontext = CurrentMemoryContext;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	b = PG_GETARG_MARKOV_P(1);
	if (PG_ARGISNULL(0))
	{
		MemoryContext old = MemoryContextSwitchTo(aggcontext);

		a = palloc(VARSIZE(b));
		memcpy(a, b, VARSIZE(b));
		MemoryContextSwitchTo(old);
		PG_RETURN_POINTER(a);
	}
	if (in_agg)
		a = (ClcmMarkov *) PG_GETARG_POINTER(0);
	else
	{
		ClcmMarkov *given = PG_GETARG_MARKOV_P(0);

		a = palloc(VARSIZE(given));
		memcpy(a, given, VARSIZE(given));
	}
	if (!MarkovSameStages(a, b))
		MarkovStageMismatch();
	MarkovAddInto(a, b);
	PG_RETURN_POINTER(a);
}

PG_FUNCTION_INFO_V1(clcm_markov_add);

/*
 * markov + markov: the sum of two matrices over the same stages.
 */
Datum
clcm_markov_add(PG_FUNCTION_ARGS)
{
	ClcmMarkov *a = PG_GETARG_MARKOV_P(0);
	ClcmMarkov *b = PG_GETARG_MARKOV_P(1);
	ClcmMarkov *r;

	if (!MarkovSameStages(a, b))
		MarkovStageMismatch();
	r = palloc(VARSIZE(a));
	memcpy(r, a, VARSIZE(a));
	MarkovAddInto(r, b);
	PG_RETURN_POINTER(r);
}

/* ------------------------------------------------------------ readers */

/*
 * Row-stochastic matrix of m as a palloc'd k*k float8 array; a row
 * without transitions becomes absorbing (1 on the diagonal).
 */
static double *
MarkovProbabilities(const ClcmMarkov *m)
{
	int			k = m->k;
	double	   *p = palloc0(sizeof(double) * k * k);
	int			i,
				j;

	for (i = 0; i < k; i++)
	{
		double		total = 0;

		for (j = 0; j < k; j++)
			total += (double) m->counts[i * k + j];
		if (total == 0)
			p[i * k + i] = 1.0;
		else
			for (j = 0; j < k; j++)
				p[i * k + j] = (double) m->counts[i * k + j] / total;
	}
	return p;
}

/*
 * Read a one-dimensional float8 array argument of exactly k finite
 * elements without NULLs; what names it in messages.
 */
static double *
MarkovVectorArg(ArrayType *arr, int k, const char *what, bool nonnegative)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	double	   *v;
	int			i;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array", what)));
	deconstruct_array(arr, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
					  TYPALIGN_DOUBLE, &elems, &nulls, &n);
	if (n != k)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s has %d elements but the matrix has %d stages",
						what, n, k),
				 errhint("Give one value per stage, in the order of markov_stages().")));
	v = palloc(sizeof(double) * k);
	for (i = 0; i < k; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s cannot contain NULL", what)));
		v[i] = DatumGetFloat8(elems[i]);
		if (isnan(v[i]) || isinf(v[i]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s must contain finite numbers", what)));
		if (nonnegative && v[i] < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s cannot contain negative numbers", what)));
	}
	return v;
}

/* Build a float8[] from k doubles. */
static ArrayType *
MarkovVectorResult(const double *v, int k)
{
	Datum	   *d = palloc(sizeof(Datum) * k);
	int			i;

	for (i = 0; i < k; i++)
		d[i] = Float8GetDatum(v[i]);
	return construct_array(d, k, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
						   TYPALIGN_DOUBLE);
}

/* out = v * P (row vector times matrix). */
static void
MarkovStep(const double *v, const double *p, int k, double *out)
{
	int			i,
				j;

	for (j = 0; j < k; j++)
		out[j] = 0;
	for (i = 0; i < k; i++)
		if (v[i] != 0)
			for (j = 0; j < k; j++)
				out[j] += v[i] * p[i * k + j];
}

PG_FUNCTION_INFO_V1(clcm_markov_stages);

/*
 * markov_stages(m) → text[]: the stage labels in matrix order.
 */
Datum
clcm_markov_stages(PG_FUNCTION_ARGS)
{
	ClcmMarkov *m = PG_GETARG_MARKOV_P(0);
	char	  **labels = MarkovLabels(m);
	Datum	   *d = palloc(sizeof(Datum) * m->k);
	int			i;

	for (i = 0; i < m->k; i++)
		d[i] = CStringGetTextDatum(labels[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(d, m->k, TEXTOID, -1, false,
										  TYPALIGN_INT));
}

PG_FUNCTION_INFO_V1(clcm_markov_table);

/*
 * markov_table(m) → setof (r text, c text, n bigint, p float8): one row per
 * observed transition (n > 0), ordered by stage order of r then c; p is n
 * over the row total, so each r's p sum to 1.
 */
Datum
clcm_markov_table(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ClcmMarkov *m = PG_GETARG_MARKOV_P(0);
	char	  **labels = MarkovLabels(m);
	int			k = m->k;
	int			i,
				j;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < k; i++)
	{
		int64		total = 0;

		for (j = 0; j < k; j++)
			if (pg_add_s64_overflow(total, m->counts[i * k + j], &total))
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("transition count is out of range")));
		for (j = 0; j < k; j++)
		{
			Datum		values[4];
			bool		nulls[4] = {false, false, false, false};
			int64		n = m->counts[i * k + j];

			if (n == 0)
				continue;
			values[0] = CStringGetTextDatum(labels[i]);
			values[1] = CStringGetTextDatum(labels[j]);
			values[2] = Int64GetDatum(n);
			values[3] = Float8GetDatum((double) n / (double) total);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
								 values, nulls);
		}
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(clcm_markov_project);

/*
 * markov_project(m, start float8[], steps int) → float8[]: start · P^steps.
 * start is a distribution or head counts per stage (non-negative); the
 * result keeps its total.
 */
Datum
clcm_markov_project(PG_FUNCTION_ARGS)
{
	ClcmMarkov *m = PG_GETARG_MARKOV_P(0);
	ArrayType  *start = PG_GETARG_ARRAYTYPE_P(1);
	int32		steps = PG_GETARG_INT32(2);
	int			k = m->k;
	double	   *p;
	double	   *v;
	double	   *w;
	int			t;

	if (steps < 0 || steps > MARKOV_MAX_STEPS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("steps must be between 0 and %d", MARKOV_MAX_STEPS)));
	MarkovCheckWork(steps, k);
	v = MarkovVectorArg(start, k, "start", true);
	p = MarkovProbabilities(m);
	w = palloc(sizeof(double) * k);
	for (t = 0; t < steps; t++)
	{
		double	   *tmp;

		CHECK_FOR_INTERRUPTS();
		MarkovStep(v, p, k, w);
		tmp = v;
		v = w;
		w = tmp;
	}
	PG_RETURN_ARRAYTYPE_P(MarkovVectorResult(v, k));
}

/*
 * Solve A x = b in place (A is k x k, row-major) by Gaussian elimination
 * with partial pivoting; returns false when A is singular.
 */
static bool
MarkovSolve(double *a, double *b, int k)
{
	int			col,
				row,
				j;

	for (col = 0; col < k; col++)
	{
		int			piv = col;

		CHECK_FOR_INTERRUPTS();
		for (row = col + 1; row < k; row++)
			if (fabs(a[row * k + col]) > fabs(a[piv * k + col]))
				piv = row;
		if (fabs(a[piv * k + col]) < 1e-300)
			return false;
		if (piv != col)
		{
			for (j = 0; j < k; j++)
			{
				double		tmp = a[col * k + j];

				a[col * k + j] = a[piv * k + j];
				a[piv * k + j] = tmp;
			}
			{
				double		tmp = b[col];

				b[col] = b[piv];
				b[piv] = tmp;
			}
		}
		for (row = col + 1; row < k; row++)
		{
			double		f = a[row * k + col] / a[col * k + col];

			if (f == 0)
				continue;
			for (j = col; j < k; j++)
				a[row * k + j] -= f * a[col * k + j];
			b[row] -= f * b[col];
		}
	}
	for (row = k - 1; row >= 0; row--)
	{
		double		s = b[row];

		for (j = row + 1; j < k; j++)
			s -= a[row * k + j] * b[j];
		b[row] = s / a[row * k + row];
	}
	return true;
}

PG_FUNCTION_INFO_V1(clcm_markov_clv);

/*
 * markov_clv(m, margin float8[], discount_rate float8, horizon int) →
 * setof (stage text, clv float8): the expected discounted margin of a
 * customer now in each stage (Pfeifer & Carraway 2000),
 *	 V = sum_{t=0..horizon} ((1+d)^-1 P)^t R,
 * and with horizon NULL the infinite-horizon value (I - P/(1+d))^-1 R,
 * which needs d > 0.  Not strict: a NULL horizon means infinite.
 */
Datum
clcm_markov_clv(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ClcmMarkov *m;
	char	  **labels;
	double	   *p;
	double	   *r;
	double	   *v;
	double		d;
	int			k;
	int			i,
				j;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("matrix, margin and discount rate of markov_clv cannot be NULL")));
	m = PG_GETARG_MARKOV_P(0);
	k = m->k;
	labels = MarkovLabels(m);
	r = MarkovVectorArg(PG_GETARG_ARRAYTYPE_P(1), k, "margin", false);
	d = PG_GETARG_FLOAT8(2);
	if (isnan(d) || isinf(d) || d < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("discount rate must be a finite number greater than or equal to 0")));
	p = MarkovProbabilities(m);
	v = palloc(sizeof(double) * k);

	if (PG_ARGISNULL(3))
	{
		double	   *a = palloc(sizeof(double) * k * k);

		if (d <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the infinite-horizon CLV needs a discount rate greater than 0"),
					 errhint("Give a finite horizon, or a positive discount rate.")));
		for (i = 0; i < k; i++)
			for (j = 0; j < k; j++)
				a[i * k + j] = (i == j ? 1.0 : 0.0) - p[i * k + j] / (1.0 + d);
		memcpy(v, r, sizeof(double) * k);
		if (!MarkovSolve(a, v, k))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the infinite-horizon CLV is not defined for this discount rate"),
					 errdetail("I - P/(1 + d) is singular in double precision."),
					 errhint("Give a finite horizon, or a larger discount rate.")));
	}
	else
	{
		int32		horizon = PG_GETARG_INT32(3);
		double	   *term = palloc(sizeof(double) * k);
		double	   *next = palloc(sizeof(double) * k);
		int			t;

		if (horizon < 0 || horizon > MARKOV_MAX_STEPS)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("horizon must be between 0 and %d", MARKOV_MAX_STEPS)));
		MarkovCheckWork(horizon, k);
		/* term_t = (P/(1+d))^t R, accumulated by column-vector steps */
		memcpy(term, r, sizeof(double) * k);
		memcpy(v, r, sizeof(double) * k);
		for (t = 1; t <= horizon; t++)
		{
			CHECK_FOR_INTERRUPTS();
			for (i = 0; i < k; i++)
			{
				double		s = 0;

				for (j = 0; j < k; j++)
					s += p[i * k + j] * term[j];
				next[i] = s / (1.0 + d);
			}
			memcpy(term, next, sizeof(double) * k);
			for (i = 0; i < k; i++)
				v[i] += term[i];
		}
	}

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < k; i++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = CStringGetTextDatum(labels[i]);
		values[1] = Float8GetDatum(v[i]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
