/*-------------------------------------------------------------------------
 *
 * btyd_type.c
 *	  The five BTYD model types (clcm.bgnbd, clcm.pareto_nbd, clcm.mbgnbd,
 *	  clcm.bgbb, clcm.gamma_gamma): text and binary I/O and
 *	  clcm.params(model) -> jsonb.
 *
 * All five share one struct (ClcmBtydModel, see btyd.h) and one parser.
 * Text form:
 *
 *	 bgnbd(r=0.24,alpha=4.41,a=0.79,b=2.43,ll=-9582.43,n=2357,
 *		   converged=true,iterations=25)
 *
 * The parameters are required; ll, n, converged and iterations are
 * optional (a fitted model prints all of them, a model typed in by hand
 * prints only the keys it was given).  Keys may come in any order, each at
 * most once; white space is allowed around tokens.  Numbers print in the
 * shortest form that reads back to the same float8 (exact round trip).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>

#include "common/shortest_dec.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/jsonb.h"

#include "btyd.h"

const BtydKindInfo clcm_btyd_kinds[BTYD_NKINDS + 1] = {
	{NULL, 0, {NULL}},
	{"bgnbd", 4, {"r", "alpha", "a", "b"}},
	{"pareto_nbd", 4, {"r", "alpha", "s", "beta"}},
	{"mbgnbd", 4, {"r", "alpha", "a", "b"}},
	{"bgbb", 4, {"alpha", "beta", "gamma", "delta"}},
	{"gamma_gamma", 3, {"p", "q", "gamma"}},
};

/* raise the standard syntax error of a model literal */
static void
BtydSyntaxError(BtydKind kind, const char *input, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s: \"%s\"",
					clcm_btyd_kinds[kind].name, input),
			 errdetail("%s", detail)));
}

/*
 * Check that every parameter of a model is finite and positive; shared by
 * input, receive and the fitting code.
 */
void
clcm_btyd_check_params(BtydKind kind, const double *param)
{
	int			i;

	for (i = 0; i < clcm_btyd_kinds[kind].nparams; i++)
	{
		if (!isfinite(param[i]) || param[i] <= 0.0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("parameter \"%s\" of a %s model must be a finite number greater than zero",
							clcm_btyd_kinds[kind].param_names[i],
							clcm_btyd_kinds[kind].name)));
	}
}

/* check the optional fields of a model (shared by input and receive) */
static void
BtydCheckExtras(const ClcmBtydModel *m)
{
	const char *name = clcm_btyd_kinds[m->kind].name;

	if ((m->flags & BTYD_HAS_LL) && !isfinite(m->ll))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("log-likelihood \"ll\" of a %s model must be finite", name)));
	if ((m->flags & BTYD_HAS_N) && (!isfinite(m->n) || m->n < 0.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("customer count \"n\" of a %s model must be a finite number not less than zero",
						name)));
	if ((m->flags & BTYD_HAS_ITER) && m->iterations < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("iteration count of a %s model must not be negative", name)));
}

/* a new model of the given kind with the given parameters, no extras */
ClcmBtydModel *
clcm_btyd_model_make(BtydKind kind, const double *param)
{
	ClcmBtydModel *m = palloc0(sizeof(ClcmBtydModel));
	int			i;

	SET_VARSIZE(m, sizeof(ClcmBtydModel));
	m->kind = kind;
	m->version = BTYD_MODEL_VERSION;
	for (i = 0; i < clcm_btyd_kinds[kind].nparams; i++)
		m->param[i] = param[i];
	return m;
}

/* detoasted model argument */
ClcmBtydModel *
clcm_btyd_model_arg(FunctionCallInfo fcinfo, int argno)
{
	return (ClcmBtydModel *) PG_DETOAST_DATUM(PG_GETARG_DATUM(argno));
}

/* skip white space */
static const char *
SkipSpace(const char *p)
{
	while (*p && isspace((unsigned char) *p))
		p++;
	return p;
}

/*
 * Parse a model literal of the given kind.  Errors are raised with
 * ereport (PG15 has no soft errors); all parsing lives here so that the
 * PG16 escontext path can be added in one place.
 */
static ClcmBtydModel *
BtydParse(BtydKind kind, const char *input)
{
	const BtydKindInfo *info = &clcm_btyd_kinds[kind];
	const char *p = SkipSpace(input);
	size_t		len = strlen(info->name);
	bool		seen[BTYD_MAX_PARAMS] = {false};
	double		param[BTYD_MAX_PARAMS] = {0};
	ClcmBtydModel *m;
	int			i;

	m = palloc0(sizeof(ClcmBtydModel));
	SET_VARSIZE(m, sizeof(ClcmBtydModel));
	m->kind = kind;
	m->version = BTYD_MODEL_VERSION;

	if (*p == '\0')
		BtydSyntaxError(kind, input, "The input is empty.");
	if (strncmp(p, info->name, len) != 0 || isalnum((unsigned char) p[len]) ||
		p[len] == '_')
	{
		char	   *msg = psprintf("A %s value starts with \"%s(\".",
								   info->name, info->name);

		BtydSyntaxError(kind, input, msg);
	}
	p = SkipSpace(p + len);
	if (*p != '(')
		BtydSyntaxError(kind, input, "Expected \"(\" after the type name.");
	p++;

	for (;;)
	{
		const char *kstart;
		char	   *key;
		int			idx = -1;

		p = SkipSpace(p);
		if (*p == '\0')
			BtydSyntaxError(kind, input, "Unexpected end of input.");
		kstart = p;
		while (isalnum((unsigned char) *p) || *p == '_')
			p++;
		if (p == kstart)
			BtydSyntaxError(kind, input, "Expected a key such as \"name=value\".");
		key = pnstrdup(kstart, p - kstart);
		p = SkipSpace(p);
		if (*p != '=')
			BtydSyntaxError(kind, input,
							psprintf("Expected \"=\" after key \"%s\".", key));
		p = SkipSpace(p + 1);
		if (*p == '\0')
			BtydSyntaxError(kind, input, "Unexpected end of input.");

		for (i = 0; i < info->nparams; i++)
			if (strcmp(key, info->param_names[i]) == 0)
				idx = i;

		if (idx >= 0 || strcmp(key, "ll") == 0 || strcmp(key, "n") == 0)
		{
			char	   *end;
			char	   *num;
			const char *q = p;
			double		v;

			/* the number ends at ',' or ')' or white space */
			while (*q && *q != ',' && *q != ')' && !isspace((unsigned char) *q))
				q++;
			if (q == p)
				BtydSyntaxError(kind, input,
								psprintf("Missing value for key \"%s\".", key));
			num = pnstrdup(p, q - p);
			v = float8in_internal(num, &end, info->name, input);
			if (*end != '\0')
				BtydSyntaxError(kind, input,
								psprintf("Invalid number for key \"%s\".", key));
			p = q;
			if (idx >= 0)
			{
				if (seen[idx])
					BtydSyntaxError(kind, input,
									psprintf("Key \"%s\" appears more than once.", key));
				seen[idx] = true;
				param[idx] = v;
			}
			else if (key[0] == 'l')
			{
				if (m->flags & BTYD_HAS_LL)
					BtydSyntaxError(kind, input, "Key \"ll\" appears more than once.");
				m->flags |= BTYD_HAS_LL;
				m->ll = v;
			}
			else
			{
				if (m->flags & BTYD_HAS_N)
					BtydSyntaxError(kind, input, "Key \"n\" appears more than once.");
				m->flags |= BTYD_HAS_N;
				m->n = v;
			}
		}
		else if (strcmp(key, "converged") == 0)
		{
			if (m->flags & BTYD_HAS_CONVERGED)
				BtydSyntaxError(kind, input,
								"Key \"converged\" appears more than once.");
			m->flags |= BTYD_HAS_CONVERGED;
			if (strncmp(p, "true", 4) == 0)
			{
				m->flags |= BTYD_CONVERGED;
				p += 4;
			}
			else if (strncmp(p, "false", 5) == 0)
				p += 5;
			else
				BtydSyntaxError(kind, input,
								"Key \"converged\" takes true or false.");
		}
		else if (strcmp(key, "iterations") == 0)
		{
			long		v = 0;
			const char *d = p;

			if (m->flags & BTYD_HAS_ITER)
				BtydSyntaxError(kind, input,
								"Key \"iterations\" appears more than once.");
			while (isdigit((unsigned char) *p))
			{
				v = v * 10 + (*p - '0');
				if (v > PG_INT32_MAX)
					BtydSyntaxError(kind, input,
									"Key \"iterations\" is out of range.");
				p++;
			}
			if (p == d)
				BtydSyntaxError(kind, input,
								"Key \"iterations\" takes a non-negative integer.");
			m->flags |= BTYD_HAS_ITER;
			m->iterations = (int32) v;
		}
		else
			BtydSyntaxError(kind, input,
							psprintf("Unrecognized key \"%s\".", key));

		p = SkipSpace(p);
		if (*p == ',')
		{
			p++;
			continue;
		}
		if (*p == ')')
		{
			p++;
			break;
		}
		if (*p == '\0')
			BtydSyntaxError(kind, input, "Unexpected end of input.");
		BtydSyntaxError(kind, input, "Expected \",\" or \")\" after a value.");
	}
	p = SkipSpace(p);
	if (*p != '\0')
		BtydSyntaxError(kind, input, "Junk after the closing parenthesis.");
	for (i = 0; i < info->nparams; i++)
		if (!seen[i])
			BtydSyntaxError(kind, input,
							psprintf("Missing parameter \"%s\".",
									 info->param_names[i]));
	clcm_btyd_check_params(kind, param);
	for (i = 0; i < info->nparams; i++)
		m->param[i] = param[i];
	BtydCheckExtras(m);
	return m;
}

/* append a float8 in shortest exact form */
static void
AppendFloat(StringInfo buf, double v)
{
	char		tmp[DOUBLE_SHORTEST_DECIMAL_LEN];

	double_to_shortest_decimal_buf(v, tmp);
	appendStringInfoString(buf, tmp);
}

/* text form of a model (see the file header) */
static char *
BtydFormat(const ClcmBtydModel *m)
{
	const BtydKindInfo *info = &clcm_btyd_kinds[m->kind];
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	appendStringInfo(&buf, "%s(", info->name);
	for (i = 0; i < info->nparams; i++)
	{
		appendStringInfo(&buf, "%s%s=", i ? "," : "", info->param_names[i]);
		AppendFloat(&buf, m->param[i]);
	}
	if (m->flags & BTYD_HAS_LL)
	{
		appendStringInfoString(&buf, ",ll=");
		AppendFloat(&buf, m->ll);
	}
	if (m->flags & BTYD_HAS_N)
	{
		appendStringInfoString(&buf, ",n=");
		AppendFloat(&buf, m->n);
	}
	if (m->flags & BTYD_HAS_CONVERGED)
		appendStringInfo(&buf, ",converged=%s",
						 (m->flags & BTYD_CONVERGED) ? "true" : "false");
	if (m->flags & BTYD_HAS_ITER)
		appendStringInfo(&buf, ",iterations=%d", m->iterations);
	appendStringInfoChar(&buf, ')');
	return buf.data;
}

/* check the kind of a model argument against the expected type */
static void
BtydCheckKind(const ClcmBtydModel *m, BtydKind kind)
{
	if (m->kind != kind)
		elog(ERROR, "model of kind %d passed where kind %d was expected",
			 m->kind, kind);
}

/* binary receive: validates exactly like input */
static ClcmBtydModel *
BtydRecv(BtydKind kind, StringInfo buf)
{
	ClcmBtydModel *m = palloc0(sizeof(ClcmBtydModel));
	double		param[BTYD_MAX_PARAMS] = {0};
	int			k;
	int			v;
	int			i;

	SET_VARSIZE(m, sizeof(ClcmBtydModel));
	k = pq_getmsgbyte(buf);
	v = pq_getmsgbyte(buf);
	if (k != (int) kind)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid external %s value", clcm_btyd_kinds[kind].name),
				 errdetail("The value is of model kind %d.", k)));
	if (v != BTYD_MODEL_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid external %s value", clcm_btyd_kinds[kind].name),
				 errdetail("Format version %d is not supported.", v)));
	m->kind = kind;
	m->version = BTYD_MODEL_VERSION;
	m->flags = (uint16) pq_getmsgint(buf, 2);
	if (m->flags & ~BTYD_ALL_FLAGS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid external %s value", clcm_btyd_kinds[kind].name),
				 errdetail("Unrecognized flags 0x%x.", m->flags)));
	if ((m->flags & BTYD_CONVERGED) && !(m->flags & BTYD_HAS_CONVERGED))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid external %s value", clcm_btyd_kinds[kind].name),
				 errdetail("Inconsistent flags 0x%x.", m->flags)));
	m->iterations = pq_getmsgint(buf, 4);
	m->n = pq_getmsgfloat8(buf);
	m->ll = pq_getmsgfloat8(buf);
	for (i = 0; i < clcm_btyd_kinds[kind].nparams; i++)
		param[i] = pq_getmsgfloat8(buf);
	clcm_btyd_check_params(kind, param);
	for (i = 0; i < clcm_btyd_kinds[kind].nparams; i++)
		m->param[i] = param[i];
	/* absent fields are stored as zero */
	if (!(m->flags & BTYD_HAS_N))
		m->n = 0;
	if (!(m->flags & BTYD_HAS_LL))
		m->ll = 0;
	if (!(m->flags & BTYD_HAS_ITER))
		m->iterations = 0;
	BtydCheckExtras(m);
	return m;
}

/* binary send */
static bytea *
BtydSend(const ClcmBtydModel *m)
{
	StringInfoData buf;
	int			i;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, m->kind);
	pq_sendbyte(&buf, m->version);
	pq_sendint16(&buf, m->flags);
	pq_sendint32(&buf, m->iterations);
	pq_sendfloat8(&buf, m->n);
	pq_sendfloat8(&buf, m->ll);
	for (i = 0; i < clcm_btyd_kinds[m->kind].nparams; i++)
		pq_sendfloat8(&buf, m->param[i]);
	return pq_endtypsend(&buf);
}

/*
 * One set of in/out/recv/send functions per type; they differ only in the
 * kind they accept.
 */
#define BTYD_IO_FUNCS(NAME, KIND) \
PG_FUNCTION_INFO_V1(clcm_##NAME##_in); \
Datum \
clcm_##NAME##_in(PG_FUNCTION_ARGS) \
{ \
	PG_RETURN_POINTER(BtydParse(KIND, PG_GETARG_CSTRING(0))); \
} \
PG_FUNCTION_INFO_V1(clcm_##NAME##_out); \
Datum \
clcm_##NAME##_out(PG_FUNCTION_ARGS) \
{ \
	ClcmBtydModel *m = PG_GETARG_BTYD_MODEL_P(0); \
	BtydCheckKind(m, KIND); \
	PG_RETURN_CSTRING(BtydFormat(m)); \
} \
PG_FUNCTION_INFO_V1(clcm_##NAME##_recv); \
Datum \
clcm_##NAME##_recv(PG_FUNCTION_ARGS) \
{ \
	PG_RETURN_POINTER(BtydRecv(KIND, (StringInfo) PG_GETARG_POINTER(0))); \
} \
PG_FUNCTION_INFO_V1(clcm_##NAME##_send); \
Datum \
clcm_##NAME##_send(PG_FUNCTION_ARGS) \
{ \
	ClcmBtydModel *m = PG_GETARG_BTYD_MODEL_P(0); \
	BtydCheckKind(m, KIND); \
	PG_RETURN_BYTEA_P(BtydSend(m)); \
}

/* clcm.bgnbd */
BTYD_IO_FUNCS(bgnbd, BTYD_BGNBD)
/* clcm.pareto_nbd */
BTYD_IO_FUNCS(pareto_nbd, BTYD_PARETO)
/* clcm.mbgnbd */
BTYD_IO_FUNCS(mbgnbd, BTYD_MBGNBD)
/* clcm.bgbb */
BTYD_IO_FUNCS(bgbb, BTYD_BGBB)
/* clcm.gamma_gamma */
BTYD_IO_FUNCS(gamma_gamma, BTYD_GG)

/*
 * clcm.params(model) -> jsonb: the parameters under their names plus ll,
 * n, converged and iterations (JSON null when the model does not carry
 * them, e.g. a model typed in by hand).
 */
PG_FUNCTION_INFO_V1(clcm_btyd_params);
Datum
clcm_btyd_params(PG_FUNCTION_ARGS)
{
	ClcmBtydModel *m = PG_GETARG_BTYD_MODEL_P(0);
	const BtydKindInfo *info;
	StringInfoData buf;
	int			i;

	if (m->kind < 1 || m->kind > BTYD_NKINDS)
		elog(ERROR, "unrecognized model kind %d", m->kind);
	info = &clcm_btyd_kinds[m->kind];
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (i = 0; i < info->nparams; i++)
	{
		appendStringInfo(&buf, "\"%s\": ", info->param_names[i]);
		AppendFloat(&buf, m->param[i]);
		appendStringInfoString(&buf, ", ");
	}
	appendStringInfoString(&buf, "\"ll\": ");
	if (m->flags & BTYD_HAS_LL)
		AppendFloat(&buf, m->ll);
	else
		appendStringInfoString(&buf, "null");
	appendStringInfoString(&buf, ", \"n\": ");
	if (m->flags & BTYD_HAS_N)
		AppendFloat(&buf, m->n);
	else
		appendStringInfoString(&buf, "null");
	appendStringInfo(&buf, ", \"converged\": %s",
					 !(m->flags & BTYD_HAS_CONVERGED) ? "null" :
					 (m->flags & BTYD_CONVERGED) ? "true" : "false");
	if (m->flags & BTYD_HAS_ITER)
		appendStringInfo(&buf, ", \"iterations\": %d}", m->iterations);
	else
		appendStringInfoString(&buf, ", \"iterations\": null}");
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}
