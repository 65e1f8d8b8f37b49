/*-------------------------------------------------------------------------
 *
 * shim.c
 *	  The few backend services clcm's text parsers use, for the libFuzzer
 *	  harness (test/fuzz/fuzz_parsers.c) that runs them outside the server.
 *
 *	  Memory: palloc & co. allocate from a list that fuzz_reset() frees
 *	  after every input (so LeakSanitizer sees no leaks, and a parser that
 *	  frees too much or writes out of bounds is caught by ASan).  Requests
 *	  over MaxAllocSize, or more than FUZZ_MEM_LIMIT bytes in total for one
 *	  input, abort: the server would raise an internal error (XX000) or use
 *	  unbounded memory for a small literal.
 *
 *	  Errors: errstart() .. errfinish() record the SQLSTATE and longjmp back
 *	  to the harness, which checks that it is not XX000.
 *
 *	  Time zones: only "UTC" is known (pg_tzset returns NULL otherwise), so
 *	  the retention parsers are fuzzed on UTC values.
 *
 *	  Everything else the objects reference is in stubs.c and aborts.
 *
 * Copyright (c) 2026, clcm authors; parts follow PostgreSQL (PostgreSQL
 * License).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <setjmp.h>
#include <strings.h>

#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "utils/memutils.h"

#include "shim.h"

/* ------------------------------------------------------------- memory */

typedef struct Chunk
{
	struct Chunk *prev;
	struct Chunk *next;
	size_t		size;
	size_t		pad;			/* keeps the payload MAXALIGNed (32 bytes) */
} Chunk;

static Chunk head = {&head, &head, 0, 0};
static size_t total_bytes;
MemoryContext CurrentMemoryContext = NULL;
volatile sig_atomic_t InterruptPending = false;
pg_tz	   *session_timezone = NULL;

jmp_buf    *fuzz_jmp;
int			fuzz_sqlstate;
int			fuzz_elevel;
static int	err_depth;

void
fuzz_reset(void)
{
	while (head.next != &head)
	{
		Chunk	   *c = head.next;

		head.next = c->next;
		free(c);
	}
	head.prev = &head;
	total_bytes = 0;
}

static void *
chunk_alloc(Size size, bool zero)
{
	Chunk	   *c;

	if (!AllocSizeIsValid(size))
		fuzz_fail("palloc request over MaxAllocSize (the server raises XX000)");
	total_bytes += size;
	if (total_bytes > FUZZ_MEM_LIMIT)
		fuzz_fail("one input allocated more than FUZZ_MEM_LIMIT bytes");
	c = malloc(sizeof(Chunk) + (size ? size : 1));
	if (c == NULL)
		fuzz_fail("malloc failed");
	c->size = size;
	c->next = &head;
	c->prev = head.prev;
	head.prev->next = c;
	head.prev = c;
	if (zero)
		memset(c + 1, 0, size);
	return c + 1;
}

void *
palloc(Size size)
{
	return chunk_alloc(size, false);
}

void *
palloc0(Size size)
{
	return chunk_alloc(size, true);
}

void *
palloc_extended(Size size, int flags)
{
	return chunk_alloc(size, (flags & MCXT_ALLOC_ZERO) != 0);
}

void *
MemoryContextAlloc(MemoryContext context, Size size)
{
	return chunk_alloc(size, false);
}

void *
MemoryContextAllocZero(MemoryContext context, Size size)
{
	return chunk_alloc(size, true);
}

void *
MemoryContextAllocExtended(MemoryContext context, Size size, int flags)
{
	return chunk_alloc(size, (flags & MCXT_ALLOC_ZERO) != 0);
}

void
pfree(void *pointer)
{
	Chunk	   *c = ((Chunk *) pointer) - 1;

	c->prev->next = c->next;
	c->next->prev = c->prev;
	free(c);
}

void *
repalloc(void *pointer, Size size)
{
	Chunk	   *c = ((Chunk *) pointer) - 1;
	void	   *n = chunk_alloc(size, false);

	memcpy(n, pointer, Min(size, c->size));
	pfree(pointer);
	return n;
}

char *
pstrdup(const char *in)
{
	size_t		len = strlen(in);
	char	   *out = palloc(len + 1);

	memcpy(out, in, len + 1);
	return out;
}

char *
pnstrdup(const char *in, Size len)
{
	char	   *out;

	len = strnlen(in, len);
	out = palloc(len + 1);
	memcpy(out, in, len);
	out[len] = '\0';
	return out;
}

Size
add_size(Size s1, Size s2)
{
	Size		result = s1 + s2;

	if (result < s1 || result < s2)
		fuzz_error(ERRCODE_PROGRAM_LIMIT_EXCEEDED);
	return result;
}

Size
mul_size(Size s1, Size s2)
{
	Size		result;

	if (s1 == 0 || s2 == 0)
		return 0;
	result = s1 * s2;
	if (result / s2 != s1)
		fuzz_error(ERRCODE_PROGRAM_LIMIT_EXCEEDED);
	return result;
}

/* ------------------------------------------------------------- errors */

void
fuzz_fail(const char *why)
{
	fprintf(stderr, "clcm fuzz: %s\n", why);
	abort();
}

/* an error raised by the shim itself (overflowing sizes) */
void
fuzz_error(int sqlstate)
{
	fuzz_sqlstate = sqlstate;
	fuzz_elevel = ERROR;
	err_depth = 0;
	longjmp(*fuzz_jmp, 1);
}

bool
errstart(int elevel, const char *domain)
{
	if (elevel < ERROR)
		return false;			/* warnings and notices are dropped */
	if (err_depth++ > 0)
		fuzz_fail("error raised while reporting an error");
	fuzz_elevel = elevel;
	fuzz_sqlstate = ERRCODE_INTERNAL_ERROR; /* the server's default */
	return true;
}

bool
errstart_cold(int elevel, const char *domain)
{
	return errstart(elevel, domain);
}

void
errfinish(const char *filename, int lineno, const char *funcname)
{
	err_depth = 0;
	if (fuzz_elevel > ERROR)
		fuzz_fail("FATAL or PANIC raised by a parser");
	if (fuzz_jmp == NULL)
		fuzz_fail("error outside a parser call");
	longjmp(*fuzz_jmp, 1);
}

int
errcode(int sqlerrcode)
{
	fuzz_sqlstate = sqlerrcode;
	return 0;
}

/* the message parts are formatted (to catch bad format arguments) and dropped */
#define FORMAT_AND_DROP(fmt) \
	do { \
		char		buf_[1024]; \
		va_list		ap_; \
		va_start(ap_, fmt); \
		vsnprintf(buf_, sizeof(buf_), fmt, ap_); \
		va_end(ap_); \
	} while (0)

int
errmsg(const char *fmt,...)
{
	FORMAT_AND_DROP(fmt);
	return 0;
}

int
errmsg_internal(const char *fmt,...)
{
	FORMAT_AND_DROP(fmt);
	return 0;
}

int
errdetail(const char *fmt,...)
{
	FORMAT_AND_DROP(fmt);
	return 0;
}

int
errdetail_internal(const char *fmt,...)
{
	FORMAT_AND_DROP(fmt);
	return 0;
}

int
errhint(const char *fmt,...)
{
	FORMAT_AND_DROP(fmt);
	return 0;
}

void
ProcessInterrupts(void)
{
	InterruptPending = false;
}

/* ----------------------------------------------------- numbers, detoast */

/*
 * float8in_internal as in the server (utils/adt/float.c): strtod plus
 * NaN/Infinity spellings, leading and trailing blanks, out-of-range errors.
 */
float8
float8in_internal(char *num, char **endptr_p, const char *type_name,
				  const char *orig_string)
{
	double		val;
	char	   *endptr;

	while (*num != '\0' && isspace((unsigned char) *num))
		num++;
	if (*num == '\0')
		fuzz_error(ERRCODE_INVALID_TEXT_REPRESENTATION);
	errno = 0;
	val = strtod(num, &endptr);
	if (endptr == num || errno != 0)
	{
		int			save_errno = errno;

		if (pg_strncasecmp(num, "NaN", 3) == 0)
		{
			val = get_float8_nan();
			endptr = num + 3;
		}
		else if (pg_strncasecmp(num, "Infinity", 8) == 0)
		{
			val = get_float8_infinity();
			endptr = num + 8;
		}
		else if (pg_strncasecmp(num, "+Infinity", 9) == 0)
		{
			val = get_float8_infinity();
			endptr = num + 9;
		}
		else if (pg_strncasecmp(num, "-Infinity", 9) == 0)
		{
			val = -get_float8_infinity();
			endptr = num + 9;
		}
		else if (save_errno == ERANGE)
		{
			if (val == 0.0 || val >= HUGE_VAL || val <= -HUGE_VAL)
				fuzz_error(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE);
		}
		else
			fuzz_error(ERRCODE_INVALID_TEXT_REPRESENTATION);
	}
	while (*endptr != '\0' && isspace((unsigned char) *endptr))
		endptr++;
	if (endptr_p)
		*endptr_p = endptr;
	else if (*endptr != '\0')
		fuzz_error(ERRCODE_INVALID_TEXT_REPRESENTATION);
	return val;
}

struct varlena *
pg_detoast_datum(struct varlena *datum)
{
	if (VARATT_IS_EXTENDED(datum))
		fuzz_fail("a parser made a toasted or short-header value");
	return datum;
}

struct varlena *
pg_detoast_datum_packed(struct varlena *datum)
{
	return datum;
}

struct varlena *
pg_detoast_datum_copy(struct varlena *datum)
{
	struct varlena *copy = palloc(VARSIZE(datum));

	memcpy(copy, datum, VARSIZE(datum));
	return copy;
}

/* ------------------------------------------------------------ time zones */

static int	utc_dummy;

pg_tz *
pg_tzset(const char *tzname)
{
	return pg_strcasecmp(tzname, "UTC") == 0 ? (pg_tz *) &utc_dummy : NULL;
}

/* date2j and j2date as in utils/adt/datetime.c */
int
date2j(int y, int m, int d)
{
	int			julian;
	int			century;

	if (m > 2)
	{
		m += 1;
		y += 4800;
	}
	else
	{
		m += 13;
		y += 4799;
	}
	century = y / 100;
	julian = y * 365 - 32167;
	julian += y / 4 - century + century / 4;
	julian += 7834 * m / 256 + d;
	return julian;
}

void
j2date(int jd, int *year, int *month, int *day)
{
	unsigned int julian;
	unsigned int quad;
	unsigned int extra;
	int			y;

	julian = jd;
	julian += 32044;
	quad = julian / 146097;
	extra = (julian - quad * 146097) * 4 + 3;
	julian += 60 + quad * 3 + extra / 146097;
	quad = julian / 1461;
	julian -= quad * 1461;
	y = julian * 4 / 1461;
	julian = ((y != 0) ? ((julian + 305) % 365) : ((julian + 306) % 366)) + 123;
	y += quad * 4;
	*year = y - 4800;
	quad = julian * 2141 / 65536;
	*day = julian - 7834 * quad / 256;
	*month = (quad + 10) % MONTHS_PER_YEAR + 1;
}

/* ------------------------------------------------- binary I/O (pqformat) */

/*
 * As libpq/pqformat.c, minus encoding conversion (pq_getmsgstring returns
 * the bytes as they are).  Reading past the end raises 08P01, as in the
 * server.
 */
static void
msg_short(void)
{
	fuzz_error(ERRCODE_PROTOCOL_VIOLATION);
}

int
pq_getmsgbyte(StringInfo msg)
{
	if (msg->cursor >= msg->len)
		msg_short();
	return (unsigned char) msg->data[msg->cursor++];
}

void
pq_copymsgbytes(StringInfo msg, char *buf, int datalen)
{
	if (datalen < 0 || datalen > (msg->len - msg->cursor))
		msg_short();
	memcpy(buf, &msg->data[msg->cursor], datalen);
	msg->cursor += datalen;
}

const char *
pq_getmsgbytes(StringInfo msg, int datalen)
{
	const char *result;

	if (datalen < 0 || datalen > (msg->len - msg->cursor))
		msg_short();
	result = &msg->data[msg->cursor];
	msg->cursor += datalen;
	return result;
}

unsigned int
pq_getmsgint(StringInfo msg, int b)
{
	unsigned int result;
	unsigned char n8;
	uint16		n16;
	uint32		n32;

	switch (b)
	{
		case 1:
			pq_copymsgbytes(msg, (char *) &n8, 1);
			result = n8;
			break;
		case 2:
			pq_copymsgbytes(msg, (char *) &n16, 2);
			result = pg_ntoh16(n16);
			break;
		case 4:
			pq_copymsgbytes(msg, (char *) &n32, 4);
			result = pg_ntoh32(n32);
			break;
		default:
			fuzz_fail("unsupported integer size in pq_getmsgint");
	}
	return result;
}

int64
pq_getmsgint64(StringInfo msg)
{
	uint64		n64;

	pq_copymsgbytes(msg, (char *) &n64, sizeof(n64));
	return pg_ntoh64(n64);
}

float8
pq_getmsgfloat8(StringInfo msg)
{
	union
	{
		float8		f;
		int64		i;
	}			swap;

	swap.i = pq_getmsgint64(msg);
	return swap.f;
}

const char *
pq_getmsgstring(StringInfo msg)
{
	char	   *str = &msg->data[msg->cursor];
	int			slen = strnlen(str, msg->len - msg->cursor);

	if (msg->cursor + slen >= msg->len)
		fuzz_error(ERRCODE_PROTOCOL_VIOLATION);
	msg->cursor += slen + 1;
	return str;
}

void
pq_getmsgend(StringInfo msg)
{
	if (msg->cursor != msg->len)
		fuzz_error(ERRCODE_PROTOCOL_VIOLATION);
}

void
pq_sendbytes(StringInfo buf, const char *data, int datalen)
{
	appendBinaryStringInfo(buf, data, datalen);
}

void
pq_sendstring(StringInfo buf, const char *str)
{
	appendBinaryStringInfo(buf, str, strlen(str) + 1);
}

void
pq_sendfloat8(StringInfo buf, float8 f)
{
	union
	{
		float8		f;
		int64		i;
	}			swap;

	swap.f = f;
	pq_sendint64(buf, swap.i);
}

void
pq_begintypsend(StringInfo buf)
{
	initStringInfo(buf);
	appendStringInfoCharMacro(buf, '\0');
	appendStringInfoCharMacro(buf, '\0');
	appendStringInfoCharMacro(buf, '\0');
	appendStringInfoCharMacro(buf, '\0');
}

bytea *
pq_endtypsend(StringInfo buf)
{
	bytea	   *result = (bytea *) buf->data;

	SET_VARSIZE(result, buf->len);
	return result;
}
