/*-------------------------------------------------------------------------
 *
 * fuzz_parsers.c
 *	  libFuzzer harness for the text input functions of clcm's types,
 *	  built outside the server (make fuzz-parsers; test/fuzz/README).
 *
 *	  For each input: pick a type and a mode (the first byte, or
 *	  CLCM_FUZZ_TYPE=name and CLCM_FUZZ_MODE=text|binary to fix them and
 *	  use the whole input).  Text: run the input function on the rest as a
 *	  C string.  Binary: run the receive function on the bytes (what COPY
 *	  ... FORMAT binary and binary parameters reach); a received value
 *	  must send, be received again and send the same bytes, and pass the
 *	  text round trip below.  Then:
 *	  - an error must carry a SQLSTATE other than XX000 (an elog or an
 *		unset errcode is an internal error: the server reports XX000);
 *	  - an accepted value must print (output function), the printed text
 *		must be accepted again, and print the same (exact round trip).
 *	  ASan/UBSan catch memory and undefined-behaviour bugs on the way;
 *	  the shim (shim.c) aborts on huge allocations.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <setjmp.h>

#include "fmgr.h"
#include "lib/stringinfo.h"

#include "shim.h"

#define DECL(t) \
	extern Datum clcm_##t##_in(PG_FUNCTION_ARGS); \
	extern Datum clcm_##t##_out(PG_FUNCTION_ARGS); \
	extern Datum clcm_##t##_recv(PG_FUNCTION_ARGS); \
	extern Datum clcm_##t##_send(PG_FUNCTION_ARGS);

DECL(retention_matrix)
DECL(retention_activity)
DECL(survival_curve)
DECL(bgnbd)
DECL(pareto_nbd)
DECL(mbgnbd)
DECL(bgbb)
DECL(gamma_gamma)
DECL(btyd_fit_state)
DECL(rfm_state)
DECL(markov)

typedef struct Parser
{
	const char *name;
	PGFunction	in;
	PGFunction	out;
	PGFunction	recv;
	PGFunction	send;
} Parser;

#define P(t) {#t, clcm_##t##_in, clcm_##t##_out, clcm_##t##_recv, clcm_##t##_send}
static const Parser parsers[] = {
	P(retention_matrix), P(retention_activity), P(survival_curve),
	P(bgnbd), P(pareto_nbd), P(mbgnbd), P(bgbb), P(gamma_gamma),
	P(btyd_fit_state), P(rfm_state), P(markov)
};
#define NPARSERS ((int) lengthof(parsers))

static int	fixed = -2;			/* -2: not looked up; -1: none */
static int	mode = -1;			/* 0 text, 1 binary; -1: from the input */

/*
 * Call fn on one datum; returns false on an ERROR (after checking its
 * SQLSTATE), true with *result otherwise.
 */
static bool
call1(PGFunction fn, Datum arg, Datum *result, const char *what)
{
	LOCAL_FCINFO(fcinfo, 3);
	jmp_buf		jb;
	jmp_buf    *save = fuzz_jmp;

	InitFunctionCallInfoData(*fcinfo, NULL, 3, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = arg;
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = ObjectIdGetDatum(InvalidOid);
	fcinfo->args[1].isnull = false;
	fcinfo->args[2].value = Int32GetDatum(-1);
	fcinfo->args[2].isnull = false;
	fuzz_jmp = &jb;
	if (setjmp(jb) != 0)
	{
		fuzz_jmp = save;
		if (fuzz_sqlstate == ERRCODE_INTERNAL_ERROR)
		{
			fprintf(stderr, "clcm fuzz: %s raised an internal error (XX000)\n", what);
			abort();
		}
		return false;
	}
	*result = fn(fcinfo);
	fuzz_jmp = save;
	if (fcinfo->isnull)
		fuzz_fail("a type function returned NULL");
	return true;
}

/* the text round trip of an accepted value: out, in, out gives the same text */
static void
text_round_trip(const Parser *p, Datum v)
{
	Datum		txt,
				v2,
				txt2;

	if (!call1(p->out, v, &txt, "the output function"))
		fuzz_fail("an accepted value does not print");
	if (!call1(p->in, txt, &v2, "the input function on printed text"))
	{
		fprintf(stderr, "clcm fuzz: %s: printed text not accepted: %s\n",
				p->name, DatumGetCString(txt));
		abort();
	}
	if (!call1(p->out, v2, &txt2, "the output function"))
		fuzz_fail("a re-read value does not print");
	if (strcmp(DatumGetCString(txt), DatumGetCString(txt2)) != 0)
	{
		fprintf(stderr, "clcm fuzz: %s: round trip differs:\n%s\n%s\n",
				p->name, DatumGetCString(txt), DatumGetCString(txt2));
		abort();
	}
}

/* receive a value from bytes; false on error or unread bytes (22P03 in the server) */
static bool
recv_bytes(const Parser *p, const char *data, int len, Datum *v)
{
	StringInfoData buf;

	/* the server's buffer: a copy with a trailing NUL */
	buf.data = palloc(len + 1);
	memcpy(buf.data, data, len);
	buf.data[len] = '\0';
	buf.len = len;
	buf.maxlen = len + 1;
	buf.cursor = 0;
	if (!call1(p->recv, PointerGetDatum(&buf), v, "the receive function"))
		return false;
	return buf.cursor == buf.len;
}

/*
 * Binary: a received value must send, the sent bytes must be received
 * again and send identically, and the value must pass the text round trip
 * too (the binary input may not accept what the text input refuses).
 */
static void
binary_input(const Parser *p, const uint8_t *data, size_t size)
{
	Datum		v,
				v2,
				b1,
				b2;
	bytea	   *s1,
			   *s2;

	if (size > 1024 * 1024 || !recv_bytes(p, (const char *) data, (int) size, &v))
		return;
	if (!call1(p->send, v, &b1, "the send function"))
		fuzz_fail("a received value does not send");
	s1 = DatumGetByteaPP(b1);
	if (!recv_bytes(p, VARDATA_ANY(s1), VARSIZE_ANY_EXHDR(s1), &v2))
	{
		fprintf(stderr, "clcm fuzz: %s: sent bytes not received again\n", p->name);
		abort();
	}
	if (!call1(p->send, v2, &b2, "the send function"))
		fuzz_fail("a re-received value does not send");
	s2 = DatumGetByteaPP(b2);
	if (VARSIZE_ANY_EXHDR(s1) != VARSIZE_ANY_EXHDR(s2) ||
		memcmp(VARDATA_ANY(s1), VARDATA_ANY(s2), VARSIZE_ANY_EXHDR(s1)) != 0)
	{
		fprintf(stderr, "clcm fuzz: %s: binary round trip differs\n", p->name);
		abort();
	}
	text_round_trip(p, v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const Parser *p;
	int			m;
	char	   *input;
	Datum		v;

	if (fixed == -2)
	{
		const char *env = getenv("CLCM_FUZZ_TYPE");
		const char *menv = getenv("CLCM_FUZZ_MODE");

		fixed = -1;
		for (int i = 0; env && i < NPARSERS; i++)
			if (strcmp(env, parsers[i].name) == 0)
				fixed = i;
		if (env && fixed < 0)
			fuzz_fail("CLCM_FUZZ_TYPE names no clcm type");
		if (menv)
			mode = strcmp(menv, "binary") == 0 ? 1 : 0;
	}
	if (fixed >= 0 && mode >= 0)
	{
		p = &parsers[fixed];
		m = mode;
	}
	else
	{
		if (size == 0)
			return 0;
		p = &parsers[fixed >= 0 ? fixed : data[0] % NPARSERS];
		m = mode >= 0 ? mode : (data[0] / NPARSERS) % 2;
		data++;
		size--;
	}

	if (m == 1)
	{
		binary_input(p, data, size);
		fuzz_reset();
		return 0;
	}

	/* the server hands input functions a NUL-terminated string */
	input = malloc(size + 1);
	memcpy(input, data, size);
	input[size] = '\0';
	if (strlen(input) != size)
	{
		free(input);
		return 0;				/* embedded NUL: cannot come from SQL */
	}
	if (call1(p->in, CStringGetDatum(input), &v, "the input function"))
		text_round_trip(p, v);
	fuzz_reset();
	free(input);
	return 0;
}
