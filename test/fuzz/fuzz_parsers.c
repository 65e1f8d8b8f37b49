/*-------------------------------------------------------------------------
 *
 * fuzz_parsers.c
 *	  libFuzzer harness for the text input functions of clcm's types,
 *	  built outside the server (make fuzz-parsers; test/fuzz/README).
 *
 *	  For each input: pick a type (the first byte, or CLCM_FUZZ_TYPE=name
 *	  to fuzz one type with the whole input), run its input function on
 *	  the rest as a C string.  Then:
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

#include "shim.h"

#define DECL(t) \
	extern Datum clcm_##t##_in(PG_FUNCTION_ARGS); \
	extern Datum clcm_##t##_out(PG_FUNCTION_ARGS);

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
} Parser;

#define P(t) {#t, clcm_##t##_in, clcm_##t##_out}
static const Parser parsers[] = {
	P(retention_matrix), P(retention_activity), P(survival_curve),
	P(bgnbd), P(pareto_nbd), P(mbgnbd), P(bgbb), P(gamma_gamma),
	P(btyd_fit_state), P(rfm_state), P(markov)
};
#define NPARSERS ((int) lengthof(parsers))

static int	fixed = -2;			/* -2: not looked up; -1: none */

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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const Parser *p;
	char	   *input;
	Datum		v,
				v2,
				txt,
				txt2;

	if (fixed == -2)
	{
		const char *env = getenv("CLCM_FUZZ_TYPE");

		fixed = -1;
		for (int i = 0; env && i < NPARSERS; i++)
			if (strcmp(env, parsers[i].name) == 0)
				fixed = i;
		if (env && fixed < 0)
			fuzz_fail("CLCM_FUZZ_TYPE names no clcm type");
	}
	if (fixed >= 0)
		p = &parsers[fixed];
	else
	{
		if (size == 0)
			return 0;
		p = &parsers[data[0] % NPARSERS];
		data++;
		size--;
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
	{
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
	fuzz_reset();
	free(input);
	return 0;
}
