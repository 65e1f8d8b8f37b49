/*-------------------------------------------------------------------------
 *
 * cohort.c
 *	  Retention cohorts: the clcm.retention aggregates, the two-level
 *	  form (clcm.retention_activity per customer, then clcm.retention over
 *	  those), clcm.retention_merge and clcm.retention_table.
 *
 * Design.  A retention matrix needs, per customer, the set of calendar
 * periods the customer was active in; only when every row has been seen
 * is the customer's cohort (first period) known.  The one-call aggregate
 * therefore keeps a hash table keyed by customer id whose 32-byte entries
 * hold a bitmap of active periods (two 64-bit words inline, a palloc'd
 * array beyond that).  The bitmap is aligned to multiples of 64 periods,
 * so extending it to earlier periods is a word move, never a bit shift.
 *
 * With a million customers one table is ~64 MB and every row would cost
 * a cache and TLB miss, so the state is radix-partitioned: each row (id
 * or id hash, period) is appended to the buffer of its partition (hash
 * bits 56..63, 256 partitions once the state has more than
 * RET_SPLIT_COUNT customers, one before), a sequential write.  When the
 * buffered rows reach a budget (twice the customers seen, at least 64k
 * rows) every partition folds its buffer into its OWN open-addressing
 * table (linear probing, power of two, load <= 0.7), which is small
 * enough (~256 kB at 1M customers) to stay in L2 while its rows are
 * folded.  Tables grow independently.  A customer's rows stay in arrival
 * order within its partition, so revenue sums are added in the same
 * order as without buffering.  The partition arrays of a split state
 * come from 4-32 MB blocks aligned to 2 MB with a huge-page hint (RetAlloc),
 * with free lists for arrays left behind by growth: page faults, not
 * cache misses, were then the largest cost.  Final, serialize and
 * combine walk the partitions in order; a combine inserts partition by
 * partition too.
 * The final function adds each customer to a dense triangle of cells
 * (cohort i, offset k).
 *
 * The two-level form moves the per-customer state out of the aggregate:
 * clcm.retention_activity(ts, ...) grouped by customer yields a small
 * value (first period + bitmap), and clcm.retention(activity) folds those
 * into a clcm.retention_matrix, a non-internal state with a combine
 * function: the form a distributed planner such as Citus pushes down.
 *
 * Period indexes count calendar periods from 2000-01-01 (PostgreSQL's
 * epoch) in the configured time zone: day = days, week = weeks starting
 * on the configured weekday, month = 12 * (year - 2000) + month - 1, etc.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <sys/mman.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "common/int.h"
#include "common/shortest_dec.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/datum.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "clcm.h"
#include "cohort.h"

/* key kinds of the hash state */
#define RK_NONE		0			/* level-1 activity: one anonymous customer */
#define RK_INT8		1
#define RK_TEXT		2
#define RK_UUID		3

/* per-customer revenue: amount per active period, unsorted */
typedef struct RetRev
{
	int32		n;
	int32		cap;
	RetRevItem	items[FLEXIBLE_ARRAY_MEMBER];
} RetRev;

/*
 * One customer in a partition's hash table (32 bytes).  nwords == 0 marks
 * an empty slot.  Key: the bigint id itself, or a pointer to a RetKeyRec
 * in the key arena for text and uuid ids.  The hash is not stored: a
 * bigint's is recomputed (two multiplications), a text or uuid key's is in
 * its RetKeyRec.  Revenue lives in an array parallel to the table
 * (RetPart.rev), so head counts do not pay for it.
 */
typedef struct RetEntry
{
	union
	{
		int64		i;
		const char *p;
	}			key;
	int32		wbase;			/* bits[0] holds periods 64*wbase .. +63 */
	uint16		nwords;			/* at most RET_MAX_WORDS */
	uint16		tag;			/* text/uuid: hash bits 32..47 (quick reject) */
	union
	{
		uint64		inl[2];
		uint64	   *ext;
	}			b;
} RetEntry;

StaticAssertDecl(sizeof(RetEntry) == 32, "RetEntry should be 32 bytes");
StaticAssertDecl(RET_MAX_WORDS <= PG_UINT16_MAX, "nwords must fit in uint16");

/* a text or uuid key in the key arena */
typedef struct RetKeyRec
{
	uint64		hash;
	int32		len;
	char		data[FLEXIBLE_ARRAY_MEMBER];
} RetKeyRec;

/*
 * One buffered row of a one-call state (16 bytes): the bigint id, or the
 * hash of a text/uuid id whose bytes are in the scratch buffer at koff
 * (int32 length, then the bytes).
 */
typedef struct RetRow
{
	uint64		k;
	int32		period;
	uint32		koff;
} RetRow;

/*
 * One customer of a compact state (16 bytes): a one-call state of bigint
 * ids without revenue whose periods all lie in a window of 64 periods
 * starting at RetState.cbase, which covers most cohort analyses (five
 * years of months).  The id is kept as its hash (RetHashInt is a
 * bijection, RetUnhashInt inverts it), so that a buffered row needs only
 * 8 bytes: the hash's low 56 bits (its high 8 bits are the partition) and
 * the period's offset in the window.  bits == 0 marks an empty slot.  A
 * row outside the window moves the window when every period seen still
 * fits in 64 (RetRebase: time-ordered input spanning more than the first
 * window's room), and otherwise turns the state into the general form
 * (RetDecompact).
 */
typedef struct RetCEntry
{
	uint64		hash;
	uint64		bits;			/* bit i: period cbase + i */
} RetCEntry;

StaticAssertDecl(sizeof(RetCEntry) == 16, "RetCEntry should be 16 bytes");

/*
 * a compact row: the hash bits below the partition bits, and the period
 * offset (6 bits) in their place
 */
#define RET_C_SHIFT			(64 - RET_PART_BITS)
#define RET_C_LOW			((UINT64CONST(1) << RET_C_SHIFT) - 1)
#define RET_C_ROW(hash, off)	(((hash) & RET_C_LOW) | ((uint64) (off) << RET_C_SHIFT))

/*
 * A partition of a one-call state: the customers whose hash has the
 * partition's high bits, in their own open-addressing table (linear
 * probing, power-of-two size, load <= 0.7), and the rows buffered for
 * them since the last fold.
 */
typedef struct RetPart
{
	/* first the fields each buffered row touches */
	RetRow	   *rows;			/* buffered rows */
	uint64	   *crows;			/* instead of rows in a compact state */
	uint32		nrows;
	uint32		rowcap;
	float8	   *amt;			/* RF_REVENUE: amount of each row, NaN = none */
	RetEntry   *table;			/* NULL until the first customer */
	RetCEntry  *ctable;			/* instead of table in a compact state */
	RetRev	  **rev;			/* RF_REVENUE: revenue of each slot */
	uint64		cap;			/* slots */
	uint64		count;			/* customers */
	Size		rbytes;			/* bytes allocated for rows (or crows) */
} RetPart;

/*
 * A partition's buffered rows start this many bytes into their
 * allocation.  The buffers have power-of-two sizes and alignments and are
 * filled in step, so without the offset the 256 places being written
 * would all fall into the same few sets of the CPU cache and evict each
 * other; 64 different cache lines of offset spread them over the sets.
 */
#define RET_STAGGER(pidx)	((Size) ((pidx) & 63) * 64)

/*
 * Cache of the period of each local day in a window of RET_DCACHE days
 * (computing a month or week from a day number takes divisions; the cache
 * entry is an L1/L2 hit).  One-call states only.
 */
#define RET_DCACHE	4096

typedef struct RetDayCache
{
	bool		dinit;			/* dbase is set */
	int32		dbase;			/* day of dcache[0] */
	int32		dcache[RET_DCACHE];	/* period + 1, 0 = not computed */
} RetDayCache;

/* aggregate state of the one-call and the level-1 aggregates */
typedef struct RetState
{
	RetCfg		cfg;
	MemoryContext mcxt;
	int			keykind;		/* RK_* */
	bool		configured;
	bool		has_data;
	TimestampTz max_ts;
	/* constancy check of the period and options arguments */
	Datum		period_ptr;
	text	   *period_copy;
	Datum		opts_ptr;
	Datum		opts_copy;
	/* RK_NONE: the single customer */
	RetEntry	one;
	RetRev	   *one_rev;
	/* partitioned hash state (keykind != RK_NONE) */
	int			pbits;			/* 0 (one partition) or RET_PART_BITS */
	bool		compact;		/* partitions hold RetCEntry tables */
	int32		cbase;			/* compact: first period of the window */
	int			nparts;
	RetPart    *parts;
	uint64		count;			/* customers over all partitions */
	uint64		nbuf;			/* buffered rows over all partitions */
	uint64		budget;			/* fold when nbuf reaches this */
	char	   *arena;			/* key arena (text/uuid) */
	Size		arena_left;
	char	   *scratch;		/* keys of buffered text/uuid rows */
	Size		scratch_len;
	Size		scratch_cap;
	RetDayCache *dc;
	/* partition arrays of a split state come from big blocks (RetAlloc) */
	char	   *slab;			/* next free byte of the current block */
	Size		slab_left;
	Size		slab_total;		/* bytes of all blocks */
	void	   *slab_free[64];	/* freed arrays by log2 of their size */
} RetState;

/* partitions once the state is big: 256 tables, selected by hash bits 56..63 */
#define RET_PART_BITS		8
StaticAssertDecl(RET_PART_BITS >= 6, "a compact row needs 6 bits for the period offset");
/* split the single table into partitions beyond this many customers */
#define RET_SPLIT_COUNT		16384
/* fold at least this many rows at a time ... */
#define RET_BUDGET_MIN		65536
/* ... and up to this many per customer already seen */
#define RET_BUDGET_PER_CUST	2
/* fold early when the buffered text/uuid keys take this many bytes */
#define RET_SCRATCH_MAX		((Size) 64 * 1024 * 1024)
/* rows buffered per partition at first */
#define RET_ROWS_INITIAL	64
/* largest table read ahead of a fold (RetPreload) */
#define RET_PRELOAD_MAX		((Size) 512 * 1024)
/* prefetch distance (rows) while folding */
#define RET_PREFETCH		8

/*
 * blocks of partition arrays: first and largest block size (blocks grow
 * with the state), alignment (a huge page), largest array
 */
#define RET_SLAB_FIRST		((Size) 4 * 1024 * 1024)
#define RET_SLAB_BLOCK		((Size) 32 * 1024 * 1024)
#define RET_SLAB_ALIGN		((Size) 2 * 1024 * 1024)
#define RET_SLAB_MAXOBJ		((Size) 4 * 1024 * 1024)

#define RET_INITIAL_CAP		64
#define RET_ARENA_CHUNK		(64 * 1024)

static const char *const ret_unit_names[] = {"day", "week", "month", "quarter", "year"};
static const char *const ret_dow_names[] = {"sunday", "monday", "tuesday",
"wednesday", "thursday", "friday", "saturday"};

/* ---------------------------------------------------------------- periods */

/* floor(a / b) for b > 0 */
static inline int64
RetFloorDiv(int64 a, int64 b)
{
	int64		q = a / b;

	if ((a % b) != 0 && a < 0)
		q--;
	return q;
}

/* word index holding period p */
static inline int32
RetWord(int32 p)
{
	return (int32) RetFloorDiv(p, 64);
}

/* bit of period p within its word */
static inline uint64
RetBit(int32 p)
{
	return UINT64CONST(1) << (p - RetWord(p) * 64);
}

/*
 * Period index of a local calendar day (days since 2000-01-01).  Weeks:
 * 2000-01-01 was a Saturday, so the first week_start day on or after it
 * is day (week_start + 1) % 7.
 */
static int32
RetDaysToPeriod(uint8 unit, uint8 week_start, int32 days)
{
	int			y,
				m,
				d;

	switch (unit)
	{
		case RP_DAY:
			return days;
		case RP_WEEK:
			return (int32) RetFloorDiv((int64) days - (week_start + 1) % 7, 7);
		case RP_MONTH:
			j2date(days + POSTGRES_EPOCH_JDATE, &y, &m, &d);
			return (y - 2000) * 12 + m - 1;
		case RP_QUARTER:
			j2date(days + POSTGRES_EPOCH_JDATE, &y, &m, &d);
			return (y - 2000) * 4 + (m - 1) / 3;
		case RP_YEAR:
			j2date(days + POSTGRES_EPOCH_JDATE, &y, &m, &d);
			return y - 2000;
	}
	elog(ERROR, "unexpected retention period unit %d", unit);
	return 0;					/* keep compiler quiet */
}

/* first local day (days since 2000-01-01) of period p */
static int32
RetPeriodStart(uint8 unit, uint8 week_start, int32 p)
{
	int64		months;

	switch (unit)
	{
		case RP_DAY:
			return p;
		case RP_WEEK:
			return (int32) ((int64) p * 7 + (week_start + 1) % 7);
		case RP_MONTH:
		case RP_QUARTER:
			months = (unit == RP_MONTH) ? (int64) p : (int64) p * 3;
			return date2j((int) (2000 + RetFloorDiv(months, 12)),
						  (int) (months - RetFloorDiv(months, 12) * 12) + 1, 1)
				- POSTGRES_EPOCH_JDATE;
		case RP_YEAR:
			return date2j(2000 + p, 1, 1) - POSTGRES_EPOCH_JDATE;
	}
	elog(ERROR, "unexpected retention period unit %d", unit);
	return 0;
}

/*
 * Local day number (days since 2000-01-01) of a timestamp in the
 * configured zone.  Infinite timestamps have no period: error.
 */
static int32
RetTsToDays(const RetCfg *cfg, TimestampTz ts)
{
	int32		days;

	if (TIMESTAMP_NOT_FINITE(ts))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("retention timestamps must be finite"),
				 errdetail("An infinite timestamp belongs to no calendar period.")));
	if (cfg->utc)
		days = (int32) RetFloorDiv(ts, USECS_PER_DAY);
	else
	{
		struct pg_tm tm;
		fsec_t		fsec;
		int			tzoff;

		if (timestamp2tm(ts, &tzoff, &tm, &fsec, NULL, cfg->tz) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("timestamp out of range")));
		days = date2j(tm.tm_year, tm.tm_mon, tm.tm_mday) - POSTGRES_EPOCH_JDATE;
	}
	return days;
}

/* period index of a timestamp in the configured zone */
static int32
RetTsToPeriod(const RetCfg *cfg, TimestampTz ts)
{
	return RetDaysToPeriod(cfg->unit, cfg->week_start, RetTsToDays(cfg, ts));
}

/* RetTsToPeriod through the day cache of a one-call state */
static inline int32
RetTsToPeriodCached(const RetCfg *cfg, RetDayCache *b, TimestampTz ts)
{
	/* UTC (the common case) inline: a division by a constant */
	int32		days = likely(cfg->utc && !TIMESTAMP_NOT_FINITE(ts)) ?
		(int32) RetFloorDiv(ts, USECS_PER_DAY) : RetTsToDays(cfg, ts);
	int64		off;
	int32		p;

	if (!b->dinit)
	{
		b->dbase = days - RET_DCACHE / 2;	/* first use: center on this day */
		b->dinit = true;
	}
	off = (int64) days - b->dbase;
	if (off < 0 || off >= RET_DCACHE)
		return RetDaysToPeriod(cfg->unit, cfg->week_start, days);
	if (b->dcache[off] != 0)
		return b->dcache[off] - 1;
	p = RetDaysToPeriod(cfg->unit, cfg->week_start, days);
	if (p != PG_INT32_MAX)
		b->dcache[off] = p + 1;
	return p;
}

/* ---------------------------------------------------------------- options */

/* unit code of a period name; error when unrecognized */
static uint8
RetParseUnit(const char *s)
{
	for (int i = 0; i < (int) lengthof(ret_unit_names); i++)
		if (pg_strcasecmp(s, ret_unit_names[i]) == 0)
			return (uint8) i;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unrecognized retention period: \"%s\"", s),
			 errhint("Valid periods are day, week, month, quarter and year.")));
	return 0;
}

/* weekday code (0 = sunday) of a week_start name or 3-letter abbreviation */
static uint8
RetParseWeekStart(const char *s)
{
	for (int i = 0; i < (int) lengthof(ret_dow_names); i++)
		if (pg_strcasecmp(s, ret_dow_names[i]) == 0 ||
			(strlen(s) == 3 && pg_strncasecmp(s, ret_dow_names[i], 3) == 0))
			return (uint8) i;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unrecognized week start: \"%s\"", s),
			 errhint("Use a day name such as monday or sunday.")));
	return 0;
}

/* set the time zone of cfg by name; error when unrecognized */
static void
RetCfgSetTz(RetCfg *cfg, const char *name)
{
	pg_tz	   *tz;

	if (strlen(name) > RET_TZ_MAX || name[0] == '\0' ||
		(tz = pg_tzset(name)) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time zone \"%s\" not recognized", name),
				 errhint("Use a name from pg_timezone_names, such as UTC or Europe/Berlin.")));
	memset(cfg->tzname, 0, sizeof(cfg->tzname));
	strlcpy(cfg->tzname, name, sizeof(cfg->tzname));
	cfg->utc = (pg_strcasecmp(name, "UTC") == 0);
	cfg->tz = cfg->utc ? NULL : tz;
}

/* defaults: UTC boundaries, weeks from monday, no as_of, first-activity cohorts */
static void
RetCfgDefaults(RetCfg *cfg, uint8 unit)
{
	memset(cfg, 0, sizeof(RetCfg));
	cfg->unit = unit;
	cfg->week_start = 1;
	RetCfgSetTz(cfg, "UTC");
}

/* check an as_of cut-off */
static void
RetCheckAsOf(TimestampTz as_of)
{
	if (TIMESTAMP_NOT_FINITE(as_of))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("retention as_of must be finite")));
}

/*
 * Read a clcm.retention_options row (tz, week_start, as_of, recurring)
 * into cfg.  NULL fields keep their defaults.
 */
static void
RetCfgApplyOptions(RetCfg *cfg, HeapTupleHeader opts)
{
	bool		isnull;
	Datum		d;

	d = GetAttributeByNum(opts, 1, &isnull);
	if (!isnull)
		RetCfgSetTz(cfg, text_to_cstring(DatumGetTextPP(d)));
	d = GetAttributeByNum(opts, 2, &isnull);
	if (!isnull)
		cfg->week_start = RetParseWeekStart(text_to_cstring(DatumGetTextPP(d)));
	d = GetAttributeByNum(opts, 3, &isnull);
	if (!isnull)
	{
		RetCheckAsOf(DatumGetTimestampTz(d));
		cfg->as_of = DatumGetTimestampTz(d);
		cfg->flags |= RF_AS_OF;
	}
	d = GetAttributeByNum(opts, 4, &isnull);
	if (!isnull && DatumGetBool(d))
		cfg->flags |= RF_RECURRING;
}

PG_FUNCTION_INFO_V1(clcm_retention_options_make);

/*
 * clcm.retention_options(tz, week_start, as_of, recurring): validate the
 * options now (so a typo fails before the scan) and return the row.
 */
Datum
clcm_retention_options_make(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4];
	RetCfg		cfg;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	RetCfgDefaults(&cfg, RP_MONTH);

	for (int i = 0; i < 4; i++)
	{
		nulls[i] = PG_ARGISNULL(i);
		values[i] = nulls[i] ? (Datum) 0 : PG_GETARG_DATUM(i);
	}
	if (!nulls[0])
		RetCfgSetTz(&cfg, text_to_cstring(PG_GETARG_TEXT_PP(0)));
	if (!nulls[1])
		RetParseWeekStart(text_to_cstring(PG_GETARG_TEXT_PP(1)));
	if (!nulls[2])
		RetCheckAsOf(PG_GETARG_TIMESTAMPTZ(2));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* ------------------------------------------------------------ hash state */

/* 64-bit mix of a bigint key (splitmix64 finalizer) */
static inline uint64
RetHashInt(int64 k)
{
	uint64		x = (uint64) k;

	x ^= x >> 30;
	x *= UINT64CONST(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64CONST(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

/* inverse of RetHashInt */
static inline int64
RetUnhashInt(uint64 x)
{
	x ^= (x >> 31) ^ (x >> 62);
	x *= UINT64CONST(0x319642b2d24d8ec3);
	x ^= (x >> 27) ^ (x >> 54);
	x *= UINT64CONST(0x96de1b173f119089);
	x ^= (x >> 30) ^ (x >> 60);
	return (int64) x;
}

/* hash of a text or uuid key */
static inline uint64
RetHashBytes(const char *k, int32 len)
{
	return hash_bytes_extended((const unsigned char *) k, len, 0);
}

/* the bitmap words of an entry */
static inline uint64 *
RetEntryWords(RetEntry *e)
{
	return e->nwords <= 2 ? e->b.inl : e->b.ext;
}

/* first and last active period of an occupied entry */
static int32
RetEntryFirst(RetEntry *e)
{
	uint64	   *w = RetEntryWords(e);

	for (int32 j = 0; j < e->nwords; j++)
		if (w[j] != 0)
			return (e->wbase + j) * 64 + pg_rightmost_one_pos64(w[j]);
	return PG_INT32_MAX;
}

static int32
RetEntryLast(RetEntry *e)
{
	uint64	   *w = RetEntryWords(e);

	for (int32 j = e->nwords - 1; j >= 0; j--)
		if (w[j] != 0)
			return (e->wbase + j) * 64 + pg_leftmost_one_pos64(w[j]);
	return PG_INT32_MIN;
}

/* hash of the key of an occupied entry */
static inline uint64
RetEntryHash(const RetState *st, const RetEntry *e)
{
	if (st->keykind == RK_INT8)
		return RetHashInt(e->key.i);
	return ((const RetKeyRec *) e->key.p)->hash;
}

/* partition of a hash: its high bits */
static inline int
RetPartOf(const RetState *st, uint64 hash)
{
	return st->pbits == 0 ? 0 : (int) (hash >> (64 - st->pbits));
}

/* rows to buffer before the next fold */
static inline uint64
RetBudget(const RetState *st)
{
	return Max((uint64) RET_BUDGET_MIN, st->count * RET_BUDGET_PER_CUST);
}

/*
 * Allocate a partition array (table, revenue slots, row buffer) of a
 * power-of-two size.  Once the state is split, arrays come from blocks
 * (4 MB, growing with the state up to 32 MB) aligned to 2 MB and marked
 * for transparent huge pages: hundreds
 * of small tables and buffers that grow by doubling would otherwise touch
 * fresh 4 kB pages all the time, and a page fault costs more than the
 * work on the page.  Freed arrays are kept in per-size free lists and
 * reused (the partitions grow in step, so sizes repeat); the blocks go
 * back with the aggregate context.
 */
static void *
RetAlloc(RetState *st, Size size, bool zero)
{
	void	   *p;
	int			c;

	if (st->pbits == 0 || size > RET_SLAB_MAXOBJ)
		return MemoryContextAllocExtended(st->mcxt, size,
										  MCXT_ALLOC_HUGE | (zero ? MCXT_ALLOC_ZERO : 0));
	Assert(size >= sizeof(void *) && (size & (size - 1)) == 0);
	c = pg_leftmost_one_pos64(size);
	if (st->slab_free[c] != NULL)
	{
		p = st->slab_free[c];
		st->slab_free[c] = *(void **) p;
	}
	else
	{
		if (size > st->slab_left)
		{
			Size		bsize = Min(RET_SLAB_BLOCK, Max(RET_SLAB_FIRST, st->slab_total));
			char	   *raw = MemoryContextAllocHuge(st->mcxt, bsize + RET_SLAB_ALIGN);

			st->slab = (char *) TYPEALIGN(RET_SLAB_ALIGN, raw);
			st->slab_left = bsize;
			st->slab_total += bsize;
#ifdef MADV_HUGEPAGE
			(void) madvise(st->slab, bsize, MADV_HUGEPAGE);	/* a hint */
#endif
		}
		p = st->slab;
		st->slab += size;
		st->slab_left -= size;
	}
	if (zero)
		memset(p, 0, size);
	return p;
}

/*
 * Ask for transparent huge pages on the 2 MB-aligned part of [p, p + len)
 * before it is first written: on a large buffer that is written once,
 * faulting in 4 kB pages one by one costs more than writing them.
 */
static void
RetHugeHint(void *p, Size len)
{
#ifdef MADV_HUGEPAGE
	uintptr_t	a = TYPEALIGN(RET_SLAB_ALIGN, (uintptr_t) p);
	uintptr_t	b = TYPEALIGN_DOWN(RET_SLAB_ALIGN, (uintptr_t) p + len);

	if (b > a)
		(void) madvise((void *) a, b - a, MADV_HUGEPAGE);	/* a hint */
#endif
}

/* release an array allocated by RetAlloc with the same size */
static void
RetFree(RetState *st, void *p, Size size)
{
	int			c;

	if (p == NULL)
		return;
	if (st->pbits == 0 || size > RET_SLAB_MAXOBJ)
	{
		pfree(p);
		return;
	}
	c = pg_leftmost_one_pos64(size);
	*(void **) p = st->slab_free[c];
	st->slab_free[c] = p;
}

/*
 * Grow a row buffer of rowsize-byte rows (the partition's rows, or with
 * rowsize 8 its crows or amounts; scale 1, or 2 for the amounts, which
 * take half the bytes of the RetRow rows they go with) to twice its size:
 * copy the buffered rows, free the old buffer, return the new rows
 * (RET_STAGGER bytes into the allocation, scaled).  Sets part->rowcap
 * only for scale 1.
 */
static void *
RetRowsRealloc(RetState *st, RetPart *part, void *rows, Size rowsize,
			   Size oldbytes, Size newbytes, int scale)
{
	Size		off = RET_STAGGER(part - st->parts) / scale;
	char	   *raw = RetAlloc(st, newbytes, false);

	if (part->nrows > 0)
		memcpy(raw + off, rows, rowsize * part->nrows);
	if (rows != NULL)
		RetFree(st, (char *) rows - off, oldbytes);
	if (scale == 1)
		part->rowcap = (uint32) Min((newbytes - off) / rowsize, (Size) PG_UINT32_MAX);
	return raw + off;
}

/* next size of a partition's row buffer of rowsize-byte rows */
static Size
RetRowsNextBytes(RetPart *part, Size rowsize)
{
	if (part->rowcap >= PG_UINT32_MAX / 2)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many retention rows buffered for one partition")));
	if (part->rbytes == 0)
		return pg_nextpower2_size_t(RET_STAGGER(63) + RET_ROWS_INITIAL * rowsize);
	return part->rbytes * 2;
}

/* free a partition's row buffers */
static void
RetRowsFree(RetState *st, RetPart *part)
{
	Size		off = RET_STAGGER(part - st->parts);

	if (part->rows != NULL)
		RetFree(st, (char *) part->rows - off, part->rbytes);
	if (part->crows != NULL)
		RetFree(st, (char *) part->crows - off, part->rbytes);
	if (part->amt != NULL)
		RetFree(st, (char *) part->amt - off / 2, part->rbytes / 2);
	part->rows = NULL;
	part->crows = NULL;
	part->amt = NULL;
	part->rbytes = 0;
	part->rowcap = 0;
	part->nrows = 0;
}

/* allocate and initialize a state in the aggregate context */
static RetState *
RetStateCreate(MemoryContext mcxt, int keykind)
{
	RetState   *st = MemoryContextAllocZero(mcxt, sizeof(RetState));

	st->mcxt = mcxt;
	st->keykind = keykind;
	if (keykind != RK_NONE)
	{
		st->nparts = 1;
		st->parts = MemoryContextAllocZero(mcxt, sizeof(RetPart));
		st->budget = RetBudget(st);
	}
	return st;
}

/* copy a key into the arena as a RetKeyRec */
static const char *
RetArenaKey(RetState *st, uint64 hash, const char *k, int32 len)
{
	Size		need = MAXALIGN(offsetof(RetKeyRec, data) + (Size) len);
	RetKeyRec  *r;

	if (need > st->arena_left)
	{
		Size		chunk = Max(need, RET_ARENA_CHUNK);

		st->arena = MemoryContextAllocHuge(st->mcxt, chunk);
		st->arena_left = chunk;
	}
	r = (RetKeyRec *) st->arena;
	r->hash = hash;
	r->len = len;
	memcpy(r->data, k, len);
	st->arena += need;
	st->arena_left -= need;
	return (const char *) r;
}

/* does occupied entry e hold the key (ik for RK_INT8, hash/k/len otherwise)? */
static inline bool
RetKeyEq(const RetState *st, const RetEntry *e, uint64 hash, int64 ik,
		 const char *k, int32 len)
{
	const RetKeyRec *r;

	if (st->keykind == RK_INT8)
		return e->key.i == ik;
	if (e->tag != (uint16) (hash >> 32))
		return false;
	r = (const RetKeyRec *) e->key.p;
	return r->hash == hash && r->len == len && memcmp(r->data, k, len) == 0;
}

/*
 * Double the table of a partition (or create it) and reinsert its
 * entries; the revenue array moves along.
 */
static void
RetPartGrow(RetState *st, RetPart *part)
{
	uint64		newcap = part->cap == 0 ? RET_INITIAL_CAP : part->cap * 2;
	uint64		mask = newcap - 1;
	bool		revenue = (st->cfg.flags & RF_REVENUE) != 0;
	RetEntry   *nt;
	RetRev	  **nr = NULL;

	nt = RetAlloc(st, mul_size(sizeof(RetEntry), newcap), true);
	if (revenue)
		nr = RetAlloc(st, mul_size(sizeof(RetRev *), newcap), true);
	for (uint64 i = 0; i < part->cap; i++)
	{
		RetEntry   *e = &part->table[i];
		uint64		j;

		if (e->nwords == 0)
			continue;
		if ((i & 65535) == 65535)
			CHECK_FOR_INTERRUPTS();
		j = RetEntryHash(st, e) & mask;
		while (nt[j].nwords != 0)
			j = (j + 1) & mask;
		nt[j] = *e;
		if (revenue)
			nr[j] = part->rev[i];
	}
	RetFree(st, part->table, sizeof(RetEntry) * part->cap);
	RetFree(st, part->rev, sizeof(RetRev *) * part->cap);
	part->table = nt;
	part->rev = nr;
	part->cap = newcap;
}

/*
 * Find or insert the entry of a customer in a partition; *slot gets its
 * index (for the revenue array).  A new entry is returned with nwords ==
 * 0; the caller sets at least one period right away.  The pointer is valid
 * until the next insertion into the partition.
 */
static RetEntry *
RetPartFind(RetState *st, RetPart *part, uint64 hash, int64 ik,
			const char *k, int32 len, uint64 *slot)
{
	uint64		mask;
	uint64		j;

	if ((part->count + 1) * 10 > part->cap * 7)
		RetPartGrow(st, part);
	mask = part->cap - 1;
	j = hash & mask;
	for (;;)
	{
		RetEntry   *e = &part->table[j];

		if (e->nwords == 0)
		{
			if (st->keykind == RK_INT8)
				e->key.i = ik;
			else
			{
				e->key.p = RetArenaKey(st, hash, k, len);
				e->tag = (uint16) (hash >> 32);
			}
			part->count++;
			st->count++;
			*slot = j;
			return e;
		}
		if (RetKeyEq(st, e, hash, ik, k, len))
		{
			*slot = j;
			return e;
		}
		j = (j + 1) & mask;
	}
}

/*
 * Split the single table of a state that has grown past RET_SPLIT_COUNT
 * customers into 2^RET_PART_BITS partitions.  No rows may be buffered.
 */
static void
RetSplit(RetState *st)
{
	RetPart    *old = &st->parts[0];
	int			nparts = 1 << RET_PART_BITS;
	bool		revenue = (st->cfg.flags & RF_REVENUE) != 0;
	RetPart    *np;

	Assert(st->pbits == 0 && st->nbuf == 0 && old->nrows == 0);
	np = MemoryContextAllocZero(st->mcxt, sizeof(RetPart) * nparts);
	st->pbits = RET_PART_BITS;
	st->nparts = nparts;
	for (uint64 i = 0; i < old->cap; i++)
	{
		RetEntry   *e = &old->table[i];
		uint64		hash;
		RetPart    *part;
		uint64		j;

		if (e->nwords == 0)
			continue;
		hash = RetEntryHash(st, e);
		part = &np[RetPartOf(st, hash)];
		if ((part->count + 1) * 10 > part->cap * 7)
			RetPartGrow(st, part);
		j = hash & (part->cap - 1);
		while (part->table[j].nwords != 0)
			j = (j + 1) & (part->cap - 1);
		part->table[j] = *e;
		if (revenue)
			part->rev[j] = old->rev[i];
		part->count++;
	}
	if (old->table)
		pfree(old->table);
	if (old->rev)
		pfree(old->rev);
	RetRowsFree(st, old);
	pfree(st->parts);
	st->parts = np;
}

/*
 * Make room for n more customers (merge, deserialize): split now when the
 * state will be big, so that entries are inserted into the partitions.
 */
static void
RetReserve(RetState *st, uint64 n)
{
	if (st->keykind != RK_NONE && st->pbits == 0 && st->nbuf == 0 &&
		st->count + n > RET_SPLIT_COUNT)
		RetSplit(st);
}

/*
 * Error for data spanning more periods than a matrix can hold (checked
 * early, per customer, so that memory stays bounded).
 */
static void
RetTooManyPeriods(int64 nperiods)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("retention matrix would have too many cells"),
			 errdetail("The data spans " INT64_FORMAT " periods; at most %d cells are allowed.",
					   nperiods, (int) RET_MAX_CELLS),
			 errhint("Use a longer period or an as_of cut-off.")));
}

/*
 * Make the bitmap of e cover words [lo, hi] (it may already cover part of
 * that range); new words are zero.
 */
static void
RetEntryCover(RetState *st, RetEntry *e, int32 lo, int32 hi)
{
	int32		nlo,
				nhi,
				n;
	uint64		tmp[2];
	uint64	   *neww;
	uint64	   *old;

	if (e->nwords == 0)
	{
		n = hi - lo + 1;
		if (n > RET_MAX_WORDS)
			RetTooManyPeriods((int64) n * 64);
		e->wbase = lo;
		if (n <= 2)
		{
			e->b.inl[0] = e->b.inl[1] = 0;
			e->nwords = n;
		}
		else
		{
			e->b.ext = MemoryContextAllocZero(st->mcxt, sizeof(uint64) * n);
			e->nwords = n;
		}
		return;
	}
	nlo = Min(lo, e->wbase);
	nhi = Max(hi, e->wbase + e->nwords - 1);
	if (nlo == e->wbase && nhi == e->wbase + e->nwords - 1)
		return;
	if ((int64) nhi - nlo + 1 > RET_MAX_WORDS)
		RetTooManyPeriods((int64) (nhi - nlo + 1) * 64);
	n = nhi - nlo + 1;
	old = RetEntryWords(e);
	if (n <= 2)
	{
		tmp[0] = tmp[1] = 0;
		memcpy(&tmp[e->wbase - nlo], old, sizeof(uint64) * e->nwords);
		e->b.inl[0] = tmp[0];
		e->b.inl[1] = tmp[1];
	}
	else
	{
		neww = MemoryContextAllocZero(st->mcxt, sizeof(uint64) * n);
		memcpy(&neww[e->wbase - nlo], old, sizeof(uint64) * e->nwords);
		if (e->nwords > 2)
			pfree(old);
		e->b.ext = neww;
	}
	e->wbase = nlo;
	e->nwords = n;
}

/* mark period p active in e */
static inline void
RetEntrySet(RetState *st, RetEntry *e, int32 p)
{
	int32		w = RetWord(p);

	if (unlikely(e->nwords == 0 || w < e->wbase || w >= e->wbase + e->nwords))
		RetEntryCover(st, e, w, w);
	RetEntryWords(e)[w - e->wbase] |= RetBit(p);
}

/*
 * Add a revenue amount to a sum; a sum that overflows double precision is
 * an error (an infinite revenue would print as text that cannot be read
 * back, and means nothing).
 */
static inline void
RetAddRevenue(float8 *sum, float8 amount)
{
	*sum += amount;
	if (unlikely(isinf(*sum)))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("retention revenue is out of range"),
				 errdetail("A sum of amounts overflows double precision.")));
}

/* add amount to period p of a customer's revenue list *rp */
static void
RetEntryAddRev(RetState *st, RetRev **rp, int32 p, float8 amount)
{
	RetRev	   *r = *rp;

	if (r != NULL)
	{
		for (int i = r->n - 1; i >= 0; i--)
			if (r->items[i].period == p)
			{
				RetAddRevenue(&r->items[i].amount, amount);
				return;
			}
	}
	if (r == NULL || r->n == r->cap)
	{
		int32		cap = (r == NULL) ? 4 : r->cap * 2;
		Size		sz = offsetof(RetRev, items) + sizeof(RetRevItem) * (Size) cap;

		if (r == NULL)
			r = MemoryContextAllocZero(st->mcxt, sz);
		else
			r = repalloc(r, sz);
		r->cap = cap;
		*rp = r;
	}
	r->items[r->n].period = p;
	r->items[r->n].pad = 0;
	r->items[r->n].amount = amount;
	r->n++;
}

/*
 * Bring a partition's table into the CPU cache before its rows are folded
 * into it: read in address order, the lines stream from memory, where the
 * fold's random probes would wait for each line in turn.  Only for tables
 * that fit the cache.
 */
static inline void
RetPreload(const void *p, Size size)
{
	const char *c = (const char *) p;

	if (size > RET_PRELOAD_MAX)
		return;
	for (Size off = 0; off < size; off += 64)
		__builtin_prefetch(c + off, 1);
}

/*
 * Fold the buffered rows of a bigint head-count partition into its table.
 * The slot of a row a few rows ahead is prefetched; the table is small
 * (a partition's), so it stays in the CPU cache while its rows are folded.
 */
static void
RetPartFoldInt(RetState *st, RetPart *part)
{
	RetRow	   *rows = part->rows;
	uint32		n = part->nrows;
	RetEntry   *table;
	uint64		mask;

	if (part->cap == 0)
		RetPartGrow(st, part);
	table = part->table;
	mask = part->cap - 1;
	RetPreload(table, sizeof(RetEntry) * part->cap);
	for (uint32 i = 0; i < n; i++)
	{
		int64		ik = (int64) rows[i].k;
		uint64		j;
		RetEntry   *e;

		if (i + RET_PREFETCH < n)
			__builtin_prefetch(&table[RetHashInt((int64) rows[i + RET_PREFETCH].k) & mask]);
		if ((i & 65535) == 65535)
			CHECK_FOR_INTERRUPTS();
		j = RetHashInt(ik) & mask;
		for (;;)
		{
			e = &table[j];
			if (e->nwords == 0)
			{
				if (unlikely((part->count + 1) * 10 > part->cap * 7))
				{
					RetPartGrow(st, part);
					table = part->table;
					mask = part->cap - 1;
					j = RetHashInt(ik) & mask;
					continue;
				}
				e->key.i = ik;
				part->count++;
				st->count++;
				break;
			}
			if (e->key.i == ik)
				break;
			j = (j + 1) & mask;
		}
		RetEntrySet(st, e, rows[i].period);
	}
	part->nrows = 0;
}

/* fold the buffered rows of any other partition (text/uuid keys, revenue) */
static void
RetPartFoldAny(RetState *st, RetPart *part)
{
	RetRow	   *rows = part->rows;
	uint32		n = part->nrows;
	bool		revenue = (st->cfg.flags & RF_REVENUE) != 0;
	bool		intkey = (st->keykind == RK_INT8);

	for (uint32 i = 0; i < n; i++)
	{
		uint64		hash;
		int64		ik = 0;
		const char *k = NULL;
		int32		len = 0;
		uint64		slot;
		RetEntry   *e;

		if (i + RET_PREFETCH < n && part->cap > 0)
		{
			uint64		h2 = rows[i + RET_PREFETCH].k;

			if (intkey)
				h2 = RetHashInt((int64) h2);
			__builtin_prefetch(&part->table[h2 & (part->cap - 1)]);
		}
		if ((i & 65535) == 65535)
			CHECK_FOR_INTERRUPTS();
		if (intkey)
		{
			ik = (int64) rows[i].k;
			hash = RetHashInt(ik);
		}
		else
		{
			hash = rows[i].k;
			memcpy(&len, st->scratch + rows[i].koff, sizeof(int32));
			k = st->scratch + rows[i].koff + sizeof(int32);
		}
		e = RetPartFind(st, part, hash, ik, k, len, &slot);
		RetEntrySet(st, e, rows[i].period);
		if (revenue && !isnan(part->amt[i]))
			RetEntryAddRev(st, &part->rev[slot], rows[i].period, part->amt[i]);
	}
	part->nrows = 0;
}

/* ------------------------------------------------------- compact state */

static void RetFlush(RetState *st);

/*
 * Double the compact table of a partition (or create it) and reinsert its
 * entries.
 */
static void
RetPartCGrow(RetState *st, RetPart *part)
{
	uint64		newcap = part->cap == 0 ? RET_INITIAL_CAP : part->cap * 2;
	uint64		mask = newcap - 1;
	RetCEntry  *nt = RetAlloc(st, mul_size(sizeof(RetCEntry), newcap), true);

	for (uint64 i = 0; i < part->cap; i++)
	{
		RetCEntry  *e = &part->ctable[i];
		uint64		j;

		if (e->bits == 0)
			continue;
		if ((i & 65535) == 65535)
			CHECK_FOR_INTERRUPTS();
		j = e->hash & mask;
		while (nt[j].bits != 0)
			j = (j + 1) & mask;
		nt[j] = *e;
	}
	RetFree(st, part->ctable, sizeof(RetCEntry) * part->cap);
	part->ctable = nt;
	part->cap = newcap;
}

/* room for one more buffered compact row in a partition */
static void
RetPartCRowsGrow(RetState *st, RetPart *part)
{
	Size		newbytes = RetRowsNextBytes(part, sizeof(uint64));

	part->crows = RetRowsRealloc(st, part, part->crows, sizeof(uint64),
								 part->rbytes, newbytes, 1);
	part->rbytes = newbytes;
}

/*
 * Fold the buffered rows of partition pidx of a compact state into its
 * table: as RetPartFoldInt, with 16-byte entries and 8-byte rows.
 */
static void
RetPartFoldCompact(RetState *st, RetPart *part, int pidx)
{
	uint64	   *rows = part->crows;
	uint32		n = part->nrows;
	uint64		high = (uint64) pidx << RET_C_SHIFT;
	RetCEntry  *table;
	uint64		mask;

	if (part->cap == 0)
		RetPartCGrow(st, part);
	table = part->ctable;
	mask = part->cap - 1;
	RetPreload(table, sizeof(RetCEntry) * part->cap);
	for (uint32 i = 0; i < n; i++)
	{
		uint64		h = high | (rows[i] & RET_C_LOW);
		uint64		j;
		RetCEntry  *e;

		if (i + RET_PREFETCH < n)
			__builtin_prefetch(&table[rows[i + RET_PREFETCH] & mask]);
		if ((i & 65535) == 65535)
			CHECK_FOR_INTERRUPTS();
		j = h & mask;
		for (;;)
		{
			e = &table[j];
			if (e->bits == 0)
			{
				if (unlikely((part->count + 1) * 10 > part->cap * 7))
				{
					RetPartCGrow(st, part);
					table = part->ctable;
					mask = part->cap - 1;
					j = h & mask;
					continue;
				}
				e->hash = h;
				part->count++;
				st->count++;
				break;
			}
			if (e->hash == h)
				break;
			j = (j + 1) & mask;
		}
		e->bits |= UINT64CONST(1) << (rows[i] >> RET_C_SHIFT);
	}
	part->nrows = 0;
}

/*
 * Buffer one row of a compact state (off: the period's offset in the
 * window, 0..63); fold when the budget is reached.
 */
static inline void
RetAppendCompact(RetState *st, uint64 hash, uint64 off)
{
	RetPart    *part = &st->parts[hash >> RET_C_SHIFT];
	uint64	   *row;

	if (unlikely(part->nrows == part->rowcap))
		RetPartCRowsGrow(st, part);
	row = &part->crows[part->nrows];
	/* as in RetAppend: the buffer's next cache line, for writing */
	__builtin_prefetch(row + 64 / sizeof(uint64), 1);
	*row = RET_C_ROW(hash, off);
	part->nrows++;
	if (unlikely(++st->nbuf >= st->budget))
		RetFlush(st);
}

/*
 * The bitmap words (wbase, nwords, w[0..1]) of compact bits: periods
 * cbase + i, realigned to the 64-period words of RetEntry.
 */
static void
RetCompactWords(int32 cbase, uint64 bits, int32 *wbase, int32 *nwords, uint64 *w)
{
	int32		w0 = RetWord(cbase);
	int			shift = cbase - w0 * 64;
	uint64		lo = bits << shift;
	uint64		hi = shift == 0 ? 0 : bits >> (64 - shift);

	w[0] = w[1] = 0;
	if (lo == 0)
	{
		*wbase = w0 + 1;
		*nwords = 1;
		w[0] = hi;
	}
	else
	{
		*wbase = w0;
		*nwords = hi == 0 ? 1 : 2;
		w[0] = lo;
		w[1] = hi;
	}
}

/*
 * The compact bits of an occupied entry (every period within cbase ..
 * cbase + 63); frees its out-of-line words.
 */
static uint64
RetEntryTakeCBits(RetEntry *e, int64 cbase)
{
	uint64	   *w = RetEntryWords(e);
	uint64		bits = 0;

	for (int32 k = 0; k < e->nwords; k++)
	{
		uint64		x = w[k];

		while (x != 0)
		{
			int64		per = (int64) (e->wbase + k) * 64 + pg_rightmost_one_pos64(x);

			bits |= UINT64CONST(1) << (per - cbase);
			x &= x - 1;
		}
	}
	if (e->nwords > 2)
		pfree(e->b.ext);
	return bits;
}

/* OR of the period bits of every customer of a compact state */
static uint64
RetCompactOr(const RetState *st)
{
	uint64		all = 0;

	for (int p = 0; p < st->nparts; p++)
	{
		const RetPart *part = &st->parts[p];

		CHECK_FOR_INTERRUPTS();
		for (uint64 i = 0; i < part->cap; i++)
			all |= part->ctable[i].bits;
	}
	return all;
}

/*
 * Shift the period bits of every customer of a compact state up by shift
 * (down if negative), for a window that starts shift periods earlier
 */
static void
RetCompactShift(RetState *st, int shift)
{
	Assert(shift > -64 && shift < 64);
	for (int p = 0; p < st->nparts; p++)
	{
		RetPart    *part = &st->parts[p];

		CHECK_FOR_INTERRUPTS();
		for (uint64 i = 0; i < part->cap; i++)
			part->ctable[i].bits = shift >= 0 ? part->ctable[i].bits << shift
				: part->ctable[i].bits >> -shift;
	}
}

/* start the window of a compact state at period nbase, shifting every bitmap */
static void
RetMoveWindow(RetState *st, int64 nbase)
{
	RetCompactShift(st, (int) ((int64) st->cbase - nbase));
	elog(DEBUG2, "retention state: window moved from period %d to %d",
		 st->cbase, (int32) nbase);
	st->cbase = (int32) nbase;
}

/*
 * Move the 64-period window of a compact state so that it covers
 * period p as well as every period seen; false when together they span
 * more than 64 periods.  The spare periods go to the side p lies on (the
 * data is moving that way, as in time-ordered input).  Every move makes
 * the span seen wider, so a state moves at most 63 times.
 */
static pg_noinline bool
RetRebase(RetState *st, int32 p)
{
	uint64		all;
	int64		lo,
				hi,
				nlo,
				nhi,
				nbase;

	RetFlush(st);				/* buffered rows hold offsets in the old window */
	all = RetCompactOr(st);
	if (all == 0)
	{
		st->cbase = p;			/* no customer: nothing to shift */
		return true;
	}
	lo = (int64) st->cbase + pg_rightmost_one_pos64(all);
	hi = (int64) st->cbase + pg_leftmost_one_pos64(all);
	nlo = Min(lo, p);
	nhi = Max(hi, p);
	if (nhi - nlo > 63)
		return false;
	nbase = (p < lo) ? nhi - 63 : nlo;
	RetMoveWindow(st, nbase);
	return true;
}

/*
 * Make a state that has just been split compact when it can be: bigint
 * ids, head counts, and every period seen within 64 periods.  The window
 * starts a quarter of its slack before the earliest period seen (data
 * often arrives in time order, so more room is left after the latest).
 */
static void
RetTryCompact(RetState *st)
{
	int32		pmin = PG_INT32_MAX;
	int32		pmax = PG_INT32_MIN;
	int64		cbase;

	if (st->compact || st->pbits == 0 || st->nbuf != 0 ||
		st->keykind != RK_INT8 || (st->cfg.flags & RF_REVENUE))
		return;
	for (int p = 0; p < st->nparts; p++)
	{
		RetPart    *part = &st->parts[p];

		for (uint64 i = 0; i < part->cap; i++)
		{
			RetEntry   *e = &part->table[i];

			if (e->nwords == 0)
				continue;
			pmin = Min(pmin, RetEntryFirst(e));
			pmax = Max(pmax, RetEntryLast(e));
		}
	}
	if (pmin > pmax || (int64) pmax - pmin > 63)
		return;
	cbase = (int64) pmin - (63 - ((int64) pmax - pmin)) / 4;

	for (int p = 0; p < st->nparts; p++)
	{
		RetPart    *part = &st->parts[p];
		RetCEntry  *ct;
		uint64		mask;

		RetRowsFree(st, part);
		if (part->cap == 0)
			continue;
		ct = RetAlloc(st, mul_size(sizeof(RetCEntry), part->cap), true);
		mask = part->cap - 1;
		for (uint64 i = 0; i < part->cap; i++)
		{
			RetEntry   *e = &part->table[i];
			uint64		bits;
			uint64		h;
			uint64		j;

			if (e->nwords == 0)
				continue;
			bits = RetEntryTakeCBits(e, cbase);
			h = RetHashInt(e->key.i);
			j = h & mask;
			while (ct[j].bits != 0)
				j = (j + 1) & mask;
			ct[j].hash = h;
			ct[j].bits = bits;
		}
		RetFree(st, part->table, sizeof(RetEntry) * part->cap);
		part->table = NULL;
		part->ctable = ct;
	}
	st->cbase = (int32) cbase;
	st->compact = true;
	elog(DEBUG2, "retention state: compact from period %d, " UINT64_FORMAT " customers",
		 st->cbase, st->count);
}

/*
 * Turn a compact state into the general form: fold its buffered rows,
 * then rebuild each partition's table with RetEntry entries (same slots
 * per partition, ids recovered from their hashes).
 */
static void
RetDecompact(RetState *st)
{
	if (!st->compact)
		return;
	for (int p = 0; p < st->nparts; p++)
	{
		RetPart    *part = &st->parts[p];
		RetEntry   *nt;
		uint64		mask;

		CHECK_FOR_INTERRUPTS();
		if (part->nrows > 0)
			RetPartFoldCompact(st, part, p);
		RetRowsFree(st, part);
		if (part->cap == 0)
			continue;
		nt = RetAlloc(st, mul_size(sizeof(RetEntry), part->cap), true);
		mask = part->cap - 1;
		for (uint64 i = 0; i < part->cap; i++)
		{
			RetCEntry  *c = &part->ctable[i];
			int32		wbase,
						nwords;
			uint64		w[2];
			uint64		j;

			if (c->bits == 0)
				continue;
			RetCompactWords(st->cbase, c->bits, &wbase, &nwords, w);
			j = c->hash & mask;
			while (nt[j].nwords != 0)
				j = (j + 1) & mask;
			nt[j].key.i = RetUnhashInt(c->hash);
			nt[j].wbase = wbase;
			nt[j].nwords = (uint16) nwords;
			nt[j].b.inl[0] = w[0];
			nt[j].b.inl[1] = w[1];
		}
		RetFree(st, part->ctable, sizeof(RetCEntry) * part->cap);
		part->ctable = NULL;
		part->table = nt;
	}
	st->nbuf = 0;
	st->compact = false;
	elog(DEBUG2, "retention state: general form, " UINT64_FORMAT " customers", st->count);
}

/*
 * Fold every partition's buffered rows into its table, then split a state
 * that has become big and set the next budget.
 */
static void
RetFlush(RetState *st)
{
	bool		fast;

	if (st->keykind == RK_NONE || st->nbuf == 0)
		return;
	fast = (st->keykind == RK_INT8 && !(st->cfg.flags & RF_REVENUE));
	for (int p = 0; p < st->nparts; p++)
	{
		RetPart    *part = &st->parts[p];

		if (part->nrows == 0)
			continue;
		CHECK_FOR_INTERRUPTS();
		if (st->compact)
			RetPartFoldCompact(st, part, p);
		else if (fast)
			RetPartFoldInt(st, part);
		else
			RetPartFoldAny(st, part);
	}
	st->nbuf = 0;
	st->scratch_len = 0;
	if (st->pbits == 0 && st->count > RET_SPLIT_COUNT)
	{
		RetSplit(st);
		RetTryCompact(st);
	}
	st->budget = RetBudget(st);
}

/* room for one more buffered row in a partition */
static void
RetPartRowsGrow(RetState *st, RetPart *part)
{
	Size		oldbytes = part->rbytes;
	Size		newbytes = RetRowsNextBytes(part, sizeof(RetRow));

	part->rows = RetRowsRealloc(st, part, part->rows, sizeof(RetRow),
								oldbytes, newbytes, 1);
	if (st->cfg.flags & RF_REVENUE)
		part->amt = RetRowsRealloc(st, part, part->amt, sizeof(float8),
								   oldbytes / 2, newbytes / 2, 2);
	part->rbytes = newbytes;
}

/* copy a text/uuid key into the scratch buffer; returns its offset */
static uint32
RetScratchKey(RetState *st, const char *k, int32 len)
{
	Size		need = TYPEALIGN(sizeof(int32), sizeof(int32) + (Size) len);
	Size		off = st->scratch_len;

	if (off + need > st->scratch_cap)
	{
		Size		newcap = Max(st->scratch_cap * 2, Max(off + need, (Size) 8192));

		if (st->scratch == NULL)
			st->scratch = MemoryContextAllocHuge(st->mcxt, newcap);
		else
			st->scratch = repalloc_huge(st->scratch, newcap);
		st->scratch_cap = newcap;
	}
	memcpy(st->scratch + off, &len, sizeof(int32));
	memcpy(st->scratch + off + sizeof(int32), k, len);
	st->scratch_len = off + need;
	return (uint32) off;
}

/*
 * Buffer one row of a one-call state in its partition; fold when the
 * budget is reached.  amount is NaN when the row has none.
 */
static inline void
RetAppend(RetState *st, uint64 hash, uint64 k, uint32 koff, int32 p, float8 amount)
{
	RetPart    *part = &st->parts[RetPartOf(st, hash)];
	RetRow	   *row;

	if (unlikely(part->nrows == part->rowcap))
		RetPartRowsGrow(st, part);
	row = &part->rows[part->nrows];
	/*
	 * The 256 buffers are written in turn, too many streams for the
	 * hardware prefetcher: fetch the buffer's next cache line for writing
	 * now, so that the store that starts it does not wait for memory.
	 */
	__builtin_prefetch(row + 64 / sizeof(RetRow), 1);
	row->k = k;
	row->period = p;
	row->koff = koff;
	if (st->cfg.flags & RF_REVENUE)
		part->amt[part->nrows] = amount;
	part->nrows++;
	if (unlikely(++st->nbuf >= st->budget || st->scratch_len > RET_SCRATCH_MAX))
		RetFlush(st);
}

/* check that a revenue amount is finite */
static inline void
RetCheckAmount(float8 amount)
{
	if (isnan(amount) || isinf(amount))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("retention amount must be finite"),
				 errdetail("The amount was %s.", isnan(amount) ? "NaN" : "infinite")));
}

/* ------------------------------------------------------- transition */

/*
 * Memory context of the aggregate, or error when not called as one: the
 * support functions with an internal state cannot work outside an
 * aggregate (SQL can only hand them a NULL state).
 */
static MemoryContext
RetAggContext(FunctionCallInfo fcinfo)
{
	MemoryContext aggcxt;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function %s can only be called as an aggregate support function",
						get_func_name(fcinfo->flinfo->fn_oid))));
	return aggcxt;
}

/*
 * Configure a fresh state from the period (argument pidx) and options
 * (argument pidx + 1) arguments, when present.
 */
static void
RetConfigure(FunctionCallInfo fcinfo, RetState *st, int pidx, bool revenue)
{
	MemoryContext old;
	uint8		unit = RP_MONTH;

	if (PG_NARGS() > pidx)
	{
		if (PG_ARGISNULL(pidx))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("retention period must not be null")));
		unit = RetParseUnit(text_to_cstring(PG_GETARG_TEXT_PP(pidx)));
		old = MemoryContextSwitchTo(st->mcxt);
		st->period_ptr = PG_GETARG_DATUM(pidx);
		st->period_copy = PG_GETARG_TEXT_P_COPY(pidx);
		MemoryContextSwitchTo(old);
	}
	RetCfgDefaults(&st->cfg, unit);
	if (PG_NARGS() > pidx + 1 && !PG_ARGISNULL(pidx + 1))
	{
		RetCfgApplyOptions(&st->cfg, PG_GETARG_HEAPTUPLEHEADER(pidx + 1));
		st->opts_ptr = PG_GETARG_DATUM(pidx + 1);
		old = MemoryContextSwitchTo(st->mcxt);
		st->opts_copy = datumCopy(PointerGetDatum(PG_DETOAST_DATUM(PG_GETARG_DATUM(pidx + 1))),
								  false, -1);
		MemoryContextSwitchTo(old);
	}
	if (revenue)
		st->cfg.flags |= RF_REVENUE;
	st->configured = true;
}

/* error unless the period and options arguments equal the first row's */
static void
RetCheckConstant(FunctionCallInfo fcinfo, RetState *st, int pidx)
{
	if (PG_NARGS() > pidx && PG_GETARG_DATUM(pidx) != st->period_ptr)
	{
		if (PG_ARGISNULL(pidx) ||
			!datumIsEqual(PointerGetDatum(PG_GETARG_TEXT_P(pidx)),
						  PointerGetDatum(st->period_copy), false, -1))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("retention period must be the same for all rows of a group")));
		st->period_ptr = PG_GETARG_DATUM(pidx);
	}
	if (PG_NARGS() > pidx + 1 && PG_GETARG_DATUM(pidx + 1) != st->opts_ptr)
	{
		bool		same;

		if (PG_ARGISNULL(pidx + 1))
			same = (st->opts_copy == (Datum) 0);
		else
			same = st->opts_copy != (Datum) 0 &&
				datumIsEqual(PointerGetDatum(PG_DETOAST_DATUM(PG_GETARG_DATUM(pidx + 1))),
							 st->opts_copy, false, -1);
		if (!same)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("retention options must be the same for all rows of a group")));
		st->opts_ptr = PG_GETARG_DATUM(pidx + 1);
	}
}

/*
 * Common transition: args are (state, id, ts [, amount], [period [, options]])
 * for the one-call aggregates and (state, ts [, amount] [, period [, options]])
 * for the level-1 activity aggregates.  Rows with a NULL id or timestamp
 * are skipped; a NULL amount marks activity without revenue.
 */
static Datum
RetTransition(FunctionCallInfo fcinfo, bool with_id, bool revenue)
{
	RetState   *st = PG_ARGISNULL(0) ? NULL : (RetState *) PG_GETARG_POINTER(0);
	int			tsidx = with_id ? 2 : 1;
	int			pidx = tsidx + (revenue ? 2 : 1);
	TimestampTz ts;
	int32		p;
	uint64		hash = 0;
	int64		ik;
	const char *k;
	int32		len;
	float8		amount = get_float8_nan();	/* NaN: no amount */

	/*
	 * Only an aggregate can hand in a state (SQL has no value of type
	 * internal), so the context is checked once, when there is none yet.
	 */
	if (st == NULL)
	{
		MemoryContext aggcxt = RetAggContext(fcinfo);
		int			keykind = RK_NONE;

		if (with_id)
		{
			Oid			idtype = get_fn_expr_argtype(fcinfo->flinfo, 1);

			if (idtype == INT8OID)
				keykind = RK_INT8;
			else if (idtype == TEXTOID)
				keykind = RK_TEXT;
			else if (idtype == UUIDOID)
				keykind = RK_UUID;
			else
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("retention customer ids must be bigint, text or uuid")));
		}
		st = RetStateCreate(aggcxt, keykind);
		RetConfigure(fcinfo, st, pidx, revenue);
	}
	else
		RetCheckConstant(fcinfo, st, pidx);

	if ((with_id && PG_ARGISNULL(1)) || PG_ARGISNULL(tsidx))
		PG_RETURN_POINTER(st);
	ts = PG_GETARG_TIMESTAMPTZ(tsidx);
	if ((st->cfg.flags & RF_AS_OF) && !TIMESTAMP_NOT_FINITE(ts) && ts >= st->cfg.as_of)
		PG_RETURN_POINTER(st);
	if (st->keykind != RK_NONE)
	{
		if (st->dc == NULL)
			st->dc = MemoryContextAllocZero(st->mcxt, sizeof(RetDayCache));
		p = RetTsToPeriodCached(&st->cfg, st->dc, ts);
	}
	else
		p = RetTsToPeriod(&st->cfg, ts);
	if (revenue && !PG_ARGISNULL(tsidx + 1))
	{
		amount = PG_GETARG_FLOAT8(tsidx + 1);
		RetCheckAmount(amount);
	}

	if (!st->has_data || ts > st->max_ts)
		st->max_ts = ts;
	st->has_data = true;
	switch (st->keykind)
	{
		case RK_INT8:
			ik = PG_GETARG_INT64(1);
			if (st->compact)
			{
				uint64		off = (uint64) ((int64) p - st->cbase);

				/* a period outside the window: move it, or give it up */
				if (unlikely(off >= 64) && RetRebase(st, p))
					off = (uint64) ((int64) p - st->cbase);
				if (likely(off < 64))
				{
					RetAppendCompact(st, RetHashInt(ik), off);
					break;
				}
				RetDecompact(st);
			}
			RetAppend(st, RetHashInt(ik), (uint64) ik, 0, p, amount);
			break;
		case RK_TEXT:
			{
				text	   *t = PG_GETARG_TEXT_PP(1);

				k = VARDATA_ANY(t);
				len = VARSIZE_ANY_EXHDR(t);
				hash = RetHashBytes(k, len);
				RetAppend(st, hash, hash, RetScratchKey(st, k, len), p, amount);
				break;
			}
		case RK_UUID:
			k = (const char *) PG_GETARG_UUID_P(1)->data;
			hash = RetHashBytes(k, UUID_LEN);
			RetAppend(st, hash, hash, RetScratchKey(st, k, UUID_LEN), p, amount);
			break;
		default:
			/* level-1 activity: the single customer, no buffering */
			RetEntrySet(st, &st->one, p);
			if (!isnan(amount))
				RetEntryAddRev(st, &st->one_rev, p, amount);
			break;
	}
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(clcm_retention_sfunc);

/* clcm.retention(id, ts [, period [, options]]) transition */
Datum
clcm_retention_sfunc(PG_FUNCTION_ARGS)
{
	RetState   *st = PG_ARGISNULL(0) ? NULL : (RetState *) PG_GETARG_POINTER(0);

	/*
	 * The common row of a compact state (bigint ids, head counts), without
	 * the general path's tests: the period and options arguments are the
	 * previous row's datums, id and timestamp are not null, no as_of, and
	 * the period lies inside the window.  Anything else, and the first
	 * row, take RetTransition, which changes nothing before it decides
	 * (the period lookup only fills the day cache, or raises the error
	 * RetTransition would raise for an infinite timestamp).
	 */
	if (likely(st != NULL && st->compact && st->dc != NULL) &&
		(PG_NARGS() < 4 || PG_GETARG_DATUM(3) == st->period_ptr) &&
		(PG_NARGS() < 5 || PG_GETARG_DATUM(4) == st->opts_ptr) &&
		!PG_ARGISNULL(1) && !PG_ARGISNULL(2) && !(st->cfg.flags & RF_AS_OF))
	{
		TimestampTz ts = PG_GETARG_TIMESTAMPTZ(2);
		int32		p = RetTsToPeriodCached(&st->cfg, st->dc, ts);
		uint64		woff = (uint64) ((int64) p - st->cbase);

		if (woff < 64)
		{
			if (ts > st->max_ts)
				st->max_ts = ts;
			RetAppendCompact(st, RetHashInt(PG_GETARG_INT64(1)), woff);
			PG_RETURN_POINTER(st);
		}
	}
	return RetTransition(fcinfo, true, false);
}

PG_FUNCTION_INFO_V1(clcm_retention_revenue_sfunc);

/* clcm.revenue_retention(id, ts, amount [, period [, options]]) transition */
Datum
clcm_retention_revenue_sfunc(PG_FUNCTION_ARGS)
{
	return RetTransition(fcinfo, true, true);
}

PG_FUNCTION_INFO_V1(clcm_retention_activity_sfunc);

/* clcm.retention_activity(ts [, period [, options]]) transition */
Datum
clcm_retention_activity_sfunc(PG_FUNCTION_ARGS)
{
	return RetTransition(fcinfo, false, false);
}

PG_FUNCTION_INFO_V1(clcm_revenue_activity_sfunc);

/* clcm.revenue_activity(ts, amount [, period [, options]]) transition */
Datum
clcm_revenue_activity_sfunc(PG_FUNCTION_ARGS)
{
	return RetTransition(fcinfo, false, true);
}

/* -------------------------------------------------- combine / serialize */

static void RetCorruptState(void) pg_attribute_noreturn();

/* error unless two configurations may be combined */
static void
RetCheckCompatible(uint8 unit1, uint8 ws1, uint8 fl1, int64 asof1, const char *tz1,
				   uint8 unit2, uint8 ws2, uint8 fl2, int64 asof2, const char *tz2)
{
	if (unit1 != unit2 || ws1 != ws2 || fl1 != fl2 ||
		((fl1 & RF_AS_OF) && asof1 != asof2) || strcmp(tz1, tz2) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot combine retention values computed with different options"),
				 errdetail("Period, time zone, week start, as_of, recurring and revenue must all be equal.")));
}

/* merge one customer's bitmap and revenue into entry e (revenue *rp) of st */
static void
RetEntryMerge(RetState *st, RetEntry *e, RetRev **rp, int32 wbase, int32 nwords,
			  const uint64 *words, int32 nrev, const RetRevItem *rev)
{
	uint64	   *dst;

	RetEntryCover(st, e, wbase, wbase + nwords - 1);
	dst = RetEntryWords(e);
	for (int32 i = 0; i < nwords; i++)
		dst[wbase - e->wbase + i] |= words[i];
	for (int32 i = 0; i < nrev; i++)
		RetEntryAddRev(st, rp, rev[i].period, rev[i].amount);
}

/*
 * Insert (or find) a customer of a merged or deserialized state in st and
 * merge its bitmap and revenue.  Entries come partition by partition, so
 * the target partition's table stays in the CPU cache.
 */
static void
RetMergeCustomer(RetState *st, uint64 hash, int64 ik, const char *k, int32 len,
				 int32 wbase, int32 nwords, const uint64 *words,
				 int32 nrev, const RetRevItem *rev)
{
	RetPart    *part;
	RetEntry   *e;
	uint64		slot;

	if (st->keykind == RK_NONE)
	{
		RetEntryMerge(st, &st->one, &st->one_rev, wbase, nwords, words, nrev, rev);
		return;
	}
	part = &st->parts[RetPartOf(st, hash)];
	e = RetPartFind(st, part, hash, ik, k, len, &slot);
	if (nrev > 0 && part->rev == NULL)
		RetCorruptState();		/* revenue items in a head-count state */
	RetEntryMerge(st, e, part->rev ? &part->rev[slot] : NULL, wbase, nwords, words,
				  nrev, rev);
}

/*
 * Merge the compact state src into dst, keeping dst compact: dst must be
 * compact, or a bigint head-count state without customers (a partial
 * state that only saw rows without ids, or one made by combine), and
 * the periods of both must fit in one window of 64; false (nothing
 * changed) otherwise.  Both states are partitioned by the same hash bits,
 * so partition p of src goes into partition p of dst, a table small
 * enough to stay in the CPU cache.  No rows may be buffered.
 */
static bool
RetMergeCompact(RetState *dst, RetState *src)
{
	bool		empty = (!dst->compact && dst->keykind == RK_INT8 &&
						 !(dst->cfg.flags & RF_REVENUE) && dst->count == 0);
	uint64		sall;
	uint64		dall;
	int64		base;
	int			shift;

	Assert(src->compact && dst->nbuf == 0 && src->nbuf == 0);
	if (!dst->compact && !empty)
		return false;
	sall = RetCompactOr(src);
	dall = empty ? 0 : RetCompactOr(dst);
	if (dall == 0)
		base = src->cbase;		/* dst has no customer to shift */
	else if (sall == 0)
		base = dst->cbase;		/* src has none to add */
	else
	{
		int64		lo = Min((int64) src->cbase + pg_rightmost_one_pos64(sall),
							 (int64) dst->cbase + pg_rightmost_one_pos64(dall));
		int64		hi = Max((int64) src->cbase + pg_leftmost_one_pos64(sall),
							 (int64) dst->cbase + pg_leftmost_one_pos64(dall));

		if (hi - lo > 63)
		{
			elog(DEBUG2, "retention state: compact merge impossible, periods %d to %d",
				 (int32) lo, (int32) hi);
			return false;
		}
		/* else move dst's window to start at the first period of either */
		if (lo < dst->cbase || hi > (int64) dst->cbase + 63)
			RetMoveWindow(dst, lo);
		base = dst->cbase;
	}
	if (empty)
	{
		if (dst->pbits == 0)
			RetSplit(dst);
		dst->compact = true;
	}
	dst->cbase = (int32) base;
	shift = (int) ((int64) src->cbase - base);	/* src bit i is bit i + shift */
	for (int p = 0; p < src->nparts; p++)
	{
		RetPart    *sp = &src->parts[p];
		RetPart    *dp = &dst->parts[p];

		CHECK_FOR_INTERRUPTS();
		for (uint64 i = 0; i < sp->cap; i++)
		{
			uint64		h = sp->ctable[i].hash;
			uint64		bits = sp->ctable[i].bits;
			uint64		mask;
			uint64		j;

			if (bits == 0)
				continue;
			if ((i & 65535) == 65535)
				CHECK_FOR_INTERRUPTS();
			bits = shift >= 0 ? bits << shift : bits >> -shift;
			if (unlikely((dp->count + 1) * 10 > dp->cap * 7))
				RetPartCGrow(dst, dp);
			mask = dp->cap - 1;
			j = h & mask;
			while (dp->ctable[j].bits != 0 && dp->ctable[j].hash != h)
				j = (j + 1) & mask;
			if (dp->ctable[j].bits == 0)
			{
				dp->ctable[j].hash = h;
				dp->count++;
				dst->count++;
			}
			dp->ctable[j].bits |= bits;
		}
	}
	dst->budget = RetBudget(dst);
	elog(DEBUG2, "retention state: compact merge from period %d, " UINT64_FORMAT " customers",
		 dst->cbase, dst->count);
	return true;
}

/* merge every customer of src into dst */
static void
RetStateMerge(RetState *dst, RetState *src)
{
	RetFlush(dst);
	RetFlush(src);
	RetCheckCompatible(dst->cfg.unit, dst->cfg.week_start, dst->cfg.flags,
					   dst->cfg.as_of, dst->cfg.tzname,
					   src->cfg.unit, src->cfg.week_start, src->cfg.flags,
					   src->cfg.as_of, src->cfg.tzname);
	if (dst->keykind != src->keykind)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("cannot combine retention states of different customer id types")));
	if (src->compact && RetMergeCompact(dst, src))
		;						/* both compact, in one window */
	else if (src->keykind == RK_NONE)
	{
		if (src->one.nwords != 0)
			RetMergeCustomer(dst, 0, 0, NULL, 0, src->one.wbase, src->one.nwords,
							 RetEntryWords(&src->one),
							 src->one_rev ? src->one_rev->n : 0,
							 src->one_rev ? src->one_rev->items : NULL);
	}
	else
	{
		RetDecompact(dst);
		RetDecompact(src);
		RetReserve(dst, src->count);
		for (int p = 0; p < src->nparts; p++)
		{
			RetPart    *part = &src->parts[p];

			CHECK_FOR_INTERRUPTS();
			for (uint64 i = 0; i < part->cap; i++)
			{
				RetEntry   *s = &part->table[i];
				RetRev	   *r = part->rev ? part->rev[i] : NULL;
				const RetKeyRec *kr = NULL;

				if (s->nwords == 0)
					continue;
				if ((i & 1023) == 1023)
					CHECK_FOR_INTERRUPTS();
				if (src->keykind != RK_INT8)
					kr = (const RetKeyRec *) s->key.p;
				RetMergeCustomer(dst, RetEntryHash(src, s), s->key.i,
								 kr ? kr->data : NULL, kr ? kr->len : 0,
								 s->wbase, s->nwords, RetEntryWords(s),
								 r ? r->n : 0, r ? r->items : NULL);
			}
		}
	}
	if (src->has_data && (!dst->has_data || src->max_ts > dst->max_ts))
		dst->max_ts = src->max_ts;
	dst->has_data |= src->has_data;
}

PG_FUNCTION_INFO_V1(clcm_retention_combine);

/*
 * Combine two partial states.  A NULL first state becomes a copy of the
 * second in the aggregate context.
 */
Datum
clcm_retention_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt = RetAggContext(fcinfo);
	RetState   *s1 = PG_ARGISNULL(0) ? NULL : (RetState *) PG_GETARG_POINTER(0);
	RetState   *s2 = PG_ARGISNULL(1) ? NULL : (RetState *) PG_GETARG_POINTER(1);

	if (s2 == NULL)
	{
		if (s1 == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(s1);
	}
	if (s1 == NULL)
	{
		/*
		 * A second state that lives in the aggregate context (one that
		 * clcm_retention_deserialize just built) becomes the state itself:
		 * nothing else holds it, and merging it into an empty state would
		 * copy every customer.
		 */
		if (s2->mcxt == aggcxt)
			PG_RETURN_POINTER(s2);
		s1 = RetStateCreate(aggcxt, s2->keykind);
		s1->cfg = s2->cfg;
		s1->configured = true;
	}
	RetStateMerge(s1, s2);
	PG_RETURN_POINTER(s1);
}

/* send one customer of a state: key, bitmap, revenue items */
static void
RetSendEntry(StringInfo buf, const RetState *st, RetEntry *e, const RetRev *r)
{
	uint64	   *w = RetEntryWords(e);

	if (st->keykind == RK_INT8)
		pq_sendint64(buf, e->key.i);
	else if (st->keykind != RK_NONE)
	{
		const RetKeyRec *kr = (const RetKeyRec *) e->key.p;

		pq_sendint32(buf, kr->len);
		pq_sendbytes(buf, kr->data, kr->len);
	}
	pq_sendint32(buf, e->wbase);
	pq_sendint32(buf, e->nwords);
	for (int32 j = 0; j < e->nwords; j++)
		pq_sendint64(buf, (int64) w[j]);
	pq_sendint32(buf, r ? r->n : 0);
	for (int32 j = 0; r && j < r->n; j++)
	{
		pq_sendint32(buf, r->items[j].period);
		pq_sendfloat8(buf, r->items[j].amount);
	}
}

/* forms of a serialized one-call state */
#define RET_FORM_GENERAL	0
#define RET_FORM_COMPACT	1

/*
 * Send the customers of a compact state: the window's first period, the
 * number of customers of each partition, then every customer's (hash,
 * bits), partition by partition.  16 bytes a customer, written into a
 * buffer enlarged once.
 */
static void
RetSendCompact(StringInfo buf, const RetState *st)
{
	Size		need = st->nparts * sizeof(int64) + mul_size(st->count, 2 * sizeof(uint64));

	Assert(st->nparts == (1 << RET_PART_BITS));
	pq_sendint32(buf, st->cbase);
	enlargeStringInfo(buf, need);
	RetHugeHint(buf->data + buf->len, need);
	for (int p = 0; p < st->nparts; p++)
		pq_writeint64(buf, st->parts[p].count);
	for (int p = 0; p < st->nparts; p++)
	{
		const RetPart *part = &st->parts[p];

		CHECK_FOR_INTERRUPTS();
		for (uint64 i = 0; i < part->cap; i++)
		{
			if (part->ctable[i].bits == 0)
				continue;
			pq_writeint64(buf, part->ctable[i].hash);
			pq_writeint64(buf, part->ctable[i].bits);
		}
	}
}

/*
 * Rebuild the customers of a compact state sent by RetSendCompact into
 * the empty state st (bigint head counts): each partition's table is
 * sized for its count, and every entry is checked (non-empty bits, the
 * right partition, no duplicate).
 */
static void
RetRecvCompact(StringInfo buf, RetState *st, int64 count)
{
	int64		counts[1 << RET_PART_BITS];
	int64		total = 0;
	int32		cbase = pq_getmsgint(buf, 4);

	if (st->keykind != RK_INT8 || (st->cfg.flags & RF_REVENUE) ||
		cbase < PG_INT32_MIN / 2 || cbase > PG_INT32_MAX / 2)
		RetCorruptState();
	for (int p = 0; p < (1 << RET_PART_BITS); p++)
	{
		counts[p] = pq_getmsgint64(buf);
		if (counts[p] < 0 || counts[p] > count - total)
			RetCorruptState();
		total += counts[p];
	}
	if (total != count || count > (buf->len - buf->cursor) / 16 ||
		buf->len - buf->cursor != count * 16)
		RetCorruptState();
	RetSplit(st);
	st->compact = true;
	st->cbase = cbase;
	for (int p = 0; p < st->nparts; p++)
	{
		RetPart    *part = &st->parts[p];
		uint64		cap = RET_INITIAL_CAP;
		uint64		mask;

		CHECK_FOR_INTERRUPTS();
		if (counts[p] == 0)
			continue;
		while ((uint64) counts[p] * 10 > cap * 7)
			cap *= 2;
		part->ctable = RetAlloc(st, mul_size(sizeof(RetCEntry), cap), true);
		part->cap = cap;
		mask = cap - 1;
		for (int64 i = 0; i < counts[p]; i++)
		{
			uint64		h = (uint64) pq_getmsgint64(buf);
			uint64		bits = (uint64) pq_getmsgint64(buf);
			uint64		j = h & mask;

			if (bits == 0 || RetPartOf(st, h) != p)
				RetCorruptState();
			while (part->ctable[j].bits != 0)
			{
				if (part->ctable[j].hash == h)
					RetCorruptState();
				j = (j + 1) & mask;
			}
			part->ctable[j].hash = h;
			part->ctable[j].bits = bits;
			part->count++;
		}
	}
	st->count = (uint64) count;
	st->budget = RetBudget(st);
}

PG_FUNCTION_INFO_V1(clcm_retention_serialize);

/*
 * Serialize a state: format version, options, key kind, data end, its
 * form, the number of customers, then each customer (key, bitmap, revenue
 * items).  No pointers.  A compact state keeps its form (RetSendCompact).
 */
Datum
clcm_retention_serialize(PG_FUNCTION_ARGS)
{
	RetState   *st;
	StringInfoData buf;

	RetAggContext(fcinfo);
	st = (RetState *) PG_GETARG_POINTER(0);
	RetFlush(st);
	pq_begintypsend(&buf);
	pq_sendbyte(&buf, RET_FORMAT_VERSION);
	pq_sendbyte(&buf, st->cfg.unit);
	pq_sendbyte(&buf, st->cfg.week_start);
	pq_sendbyte(&buf, st->cfg.flags);
	pq_sendbyte(&buf, (uint8) st->keykind);
	pq_sendbyte(&buf, st->has_data ? 1 : 0);
	pq_sendint64(&buf, st->cfg.as_of);
	pq_sendint64(&buf, st->max_ts);
	pq_sendstring(&buf, st->cfg.tzname);
	pq_sendbyte(&buf, st->compact ? RET_FORM_COMPACT : RET_FORM_GENERAL);
	pq_sendint64(&buf, st->keykind == RK_NONE ? (st->one.nwords ? 1 : 0) : st->count);
	if (st->compact)
		RetSendCompact(&buf, st);
	else if (st->keykind == RK_NONE)
	{
		if (st->one.nwords != 0)
			RetSendEntry(&buf, st, &st->one, st->one_rev);
	}
	else
	{
		for (int p = 0; p < st->nparts; p++)
		{
			RetPart    *part = &st->parts[p];

			CHECK_FOR_INTERRUPTS();
			for (uint64 i = 0; i < part->cap; i++)
			{
				if (part->table[i].nwords == 0)
					continue;
				RetSendEntry(&buf, st, &part->table[i], part->rev ? part->rev[i] : NULL);
			}
		}
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* error for a serialized state that does not parse */
static void
RetCorruptState(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("corrupt retention state")));
}

PG_FUNCTION_INFO_V1(clcm_retention_deserialize);

/* rebuild a state from clcm_retention_serialize output */
Datum
clcm_retention_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt = RetAggContext(fcinfo);
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	RetState   *st;
	int			keykind;
	uint8		unit,
				ws,
				flags;
	int			form;
	int64		count;
	uint64	   *words = NULL;
	int32		wcap = 0;
	RetRevItem *rev = NULL;
	int32		rcap = 0;

	buf.data = VARDATA_ANY(b);
	buf.len = VARSIZE_ANY_EXHDR(b);
	buf.maxlen = buf.len;
	buf.cursor = 0;
	if (pq_getmsgbyte(&buf) != RET_FORMAT_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("unsupported retention state format")));
	unit = pq_getmsgbyte(&buf);
	ws = pq_getmsgbyte(&buf);
	flags = pq_getmsgbyte(&buf);
	keykind = pq_getmsgbyte(&buf);
	if (unit > RP_YEAR || ws > 6 || (flags & ~RF_ALL) || keykind > RK_UUID)
		RetCorruptState();
	st = RetStateCreate(aggcxt, keykind);
	st->has_data = pq_getmsgbyte(&buf) != 0;
	RetCfgDefaults(&st->cfg, unit);
	st->cfg.week_start = ws;
	st->cfg.flags = flags;
	st->cfg.as_of = pq_getmsgint64(&buf);
	st->max_ts = pq_getmsgint64(&buf);
	RetCfgSetTz(&st->cfg, pq_getmsgstring(&buf));
	st->configured = true;
	form = pq_getmsgbyte(&buf);
	count = pq_getmsgint64(&buf);
	if (form == RET_FORM_COMPACT)
	{
		/* a compact state has customers (more than RET_SPLIT_COUNT) */
		if (count <= 0)
			RetCorruptState();
		RetRecvCompact(&buf, st, count);
		pq_getmsgend(&buf);
		PG_RETURN_POINTER(st);
	}
	if (form != RET_FORM_GENERAL)
		RetCorruptState();
	/* every entry takes at least 20 bytes: do not trust a larger count */
	if (count < 0 || count > (buf.len - buf.cursor) / 20)
		RetCorruptState();
	RetReserve(st, (uint64) count);
	for (int64 i = 0; i < count; i++)
	{
		int64		ik = 0;
		const char *k = NULL;
		int32		len = 0;
		int32		wbase,
					nwords,
					nrev;
		uint64		hash = 0;

		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		if (keykind == RK_INT8)
		{
			ik = pq_getmsgint64(&buf);
			hash = RetHashInt(ik);
		}
		else if (keykind != RK_NONE)
		{
			len = pq_getmsgint(&buf, 4);
			if (len < 0)
				RetCorruptState();
			k = pq_getmsgbytes(&buf, len);
			hash = RetHashBytes(k, len);
		}
		wbase = pq_getmsgint(&buf, 4);
		nwords = pq_getmsgint(&buf, 4);
		if (nwords <= 0 || nwords > (buf.len - buf.cursor) / 8)
			RetCorruptState();
		if (nwords > wcap)
		{
			wcap = Max(nwords, 16);
			words = words ? repalloc(words, sizeof(uint64) * wcap) : palloc(sizeof(uint64) * wcap);
		}
		for (int32 j = 0; j < nwords; j++)
			words[j] = (uint64) pq_getmsgint64(&buf);
		nrev = pq_getmsgint(&buf, 4);
		if (nrev < 0 || nrev > (buf.len - buf.cursor) / 12)
			RetCorruptState();
		if (nrev > rcap)
		{
			rcap = Max(nrev, 16);
			rev = rev ? repalloc(rev, sizeof(RetRevItem) * rcap) : palloc(sizeof(RetRevItem) * rcap);
		}
		for (int32 j = 0; j < nrev; j++)
		{
			rev[j].period = pq_getmsgint(&buf, 4);
			rev[j].pad = 0;
			rev[j].amount = pq_getmsgfloat8(&buf);
		}
		RetMergeCustomer(st, hash, ik, k, len, wbase, nwords, words, nrev, rev);
	}
	pq_getmsgend(&buf);
	PG_RETURN_POINTER(st);
}

/* ---------------------------------------------------------------- matrix */

#define RET_MAT_HDR		MAXALIGN(offsetof(RetentionMatrix, data))

/* cells of a triangle with ncoh cohorts */
static inline int64
RetNCells(int64 ncoh)
{
	return ncoh * (ncoh + 1) / 2;
}

/* index of cell (cohort i, offset k) in a triangle with ncoh cohorts */
static inline int64
RetCell(int64 ncoh, int64 i, int64 k)
{
	return i * ncoh - i * (i - 1) / 2 + k;
}

/* padded length of a stored time zone name */
static inline int32
RetTzLen(const char *tz)
{
	return (int32) TYPEALIGN(8, strlen(tz) + 1);
}

/* cohort sizes of a matrix */
static inline int64 *
RetMatSize(RetentionMatrix *m)
{
	return (int64 *) (m->data + m->tzlen);
}

/* number of cohorts (and of periods) of a matrix */
static inline int64
RetMatNCoh(const RetentionMatrix *m)
{
	return (int64) m->last - m->first + 1;
}

/* classic counts, one per cell */
static inline int64 *
RetMatActive(RetentionMatrix *m)
{
	return RetMatSize(m) + RetMatNCoh(m);
}

/* counts of customers whose last active period is the cell's */
static inline int64 *
RetMatLastk(RetentionMatrix *m)
{
	return RetMatActive(m) + RetNCells(RetMatNCoh(m));
}

/* revenue per cell (RF_REVENUE only) */
static inline float8 *
RetMatRev(RetentionMatrix *m)
{
	return (float8 *) (RetMatLastk(m) + RetNCells(RetMatNCoh(m)));
}

/* total size of a matrix with the given dimensions, or error when too large */
static Size
RetMatBytes(int32 first, int32 last, const char *tz, uint8 flags)
{
	int64		ncoh = (int64) last - first + 1;
	int64		ncells;

	if (ncoh < 1 || ncoh > 1000000 || (ncells = RetNCells(ncoh)) > RET_MAX_CELLS)
		RetTooManyPeriods(ncoh);
	return RET_MAT_HDR + RetTzLen(tz) + sizeof(int64) * (ncoh + 2 * ncells)
		+ ((flags & RF_REVENUE) ? sizeof(float8) * ncells : 0);
}

/* allocate a zeroed matrix in the current memory context */
static RetentionMatrix *
RetMatAlloc(uint8 unit, uint8 ws, uint8 flags, int64 as_of, const char *tz,
			int32 first, int32 last, int32 complete, int64 data_end)
{
	Size		sz = RetMatBytes(first, last, tz, flags);
	RetentionMatrix *m = palloc0(sz);

	SET_VARSIZE(m, sz);
	m->version = RET_FORMAT_VERSION;
	m->unit = unit;
	m->week_start = ws;
	m->flags = flags;
	m->first = first;
	m->last = last;
	m->complete = complete;
	m->tzlen = RetTzLen(tz);
	m->as_of = (flags & RF_AS_OF) ? as_of : 0;
	m->data_end = data_end;
	strcpy(m->data, tz);
	return m;
}

/* error for matrix counts that no longer fit in bigint */
static void
RetCountOverflow(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("retention matrix counts are out of range")));
}

/*
 * Add one customer, active in the sorted periods ps[0..np-1] with revenue
 * items rev[0..nrev-1], to the matrix.  The periods must lie in
 * [m->first, m->last].
 */
static void
RetMatAddCustomer(RetentionMatrix *m, const int32 *ps, int32 np,
				  const RetRevItem *rev, int32 nrev)
{
	int64		ncoh = RetMatNCoh(m);
	int64	   *size = RetMatSize(m);
	int64	   *active = RetMatActive(m);
	int64	   *lastk = RetMatLastk(m);
	float8	   *revs = (m->flags & RF_REVENUE) ? RetMatRev(m) : NULL;
	int32		ncohorts = (m->flags & RF_RECURRING) ? np : 1;
	int32		lastp = ps[np - 1];

	for (int32 c = 0; c < ncohorts; c++)
	{
		int32		cp = ps[c];
		int64		i = cp - m->first;
		int64		row = RetCell(ncoh, i, 0);

		Assert(cp >= m->first && lastp <= m->last);
		/* active and lastk cells never exceed size, so they cannot overflow */
		if (size[i] == PG_INT64_MAX)
			RetCountOverflow();
		size[i]++;
		for (int32 j = c; j < np; j++)
			active[row + (ps[j] - cp)]++;
		lastk[row + (lastp - cp)]++;
		for (int32 j = 0; revs && j < nrev; j++)
			if (rev[j].period >= cp)
				RetAddRevenue(&revs[row + (rev[j].period - cp)], rev[j].amount);
	}
}

/*
 * Add every cell of src into dst (same options; dst covers src's range).
 */
static void
RetMatAddMatrix(RetentionMatrix *dst, RetentionMatrix *src)
{
	int64		dn = RetMatNCoh(dst);
	int64		sn = RetMatNCoh(src);
	int64		off = src->first - dst->first;
	int64	   *dsize = RetMatSize(dst);
	int64	   *dact = RetMatActive(dst);
	int64	   *dlast = RetMatLastk(dst);
	int64	   *ssize = RetMatSize(src);
	int64	   *sact = RetMatActive(src);
	int64	   *slast = RetMatLastk(src);
	float8	   *drev = (dst->flags & RF_REVENUE) ? RetMatRev(dst) : NULL;
	float8	   *srev = (src->flags & RF_REVENUE) ? RetMatRev(src) : NULL;

	Assert(src->first >= dst->first && src->last <= dst->last);
	for (int64 i = 0; i < sn; i++)
	{
		int64		srow = RetCell(sn, i, 0);
		int64		drow = RetCell(dn, i + off, 0);

		if (ssize[i] == 0)
			continue;
		CHECK_FOR_INTERRUPTS();
		/* cells are at most the size: checking the size covers them */
		if (pg_add_s64_overflow(dsize[i + off], ssize[i], &dsize[i + off]))
			RetCountOverflow();
		for (int64 k = 0; k < sn - i; k++)
		{
			dact[drow + k] += sact[srow + k];
			dlast[drow + k] += slast[srow + k];
			if (drev)
				RetAddRevenue(&drev[drow + k], srev[srow + k]);
		}
	}
	if (src->complete > dst->complete)
		dst->complete = src->complete;
	if (src->data_end > dst->data_end)
		dst->data_end = src->data_end;
}

/*
 * Merge b into a.  When a may be modified in place (inplace) and covers
 * b's range, a is updated and returned; otherwise a new matrix spanning
 * both is returned.
 */
static RetentionMatrix *
RetMatMerge(RetentionMatrix *a, RetentionMatrix *b, bool inplace)
{
	RetentionMatrix *r;

	RetCheckCompatible(a->unit, a->week_start, a->flags, a->as_of, a->data,
					   b->unit, b->week_start, b->flags, b->as_of, b->data);
	if (inplace && b->first >= a->first && b->last <= a->last)
	{
		RetMatAddMatrix(a, b);
		return a;
	}
	r = RetMatAlloc(a->unit, a->week_start, a->flags, a->as_of, a->data,
					Min(a->first, b->first), Max(a->last, b->last),
					Max(a->complete, b->complete), Max(a->data_end, b->data_end));
	RetMatAddMatrix(r, a);
	RetMatAddMatrix(r, b);
	return r;
}

/* sorted list of the periods set in a bitmap; returns the count */
static int32
RetBitsToPeriods(int32 wbase, int32 nwords, const uint64 *words, int32 **buf, int32 *bufcap)
{
	int32		n = 0;

	for (int32 w = 0; w < nwords; w++)
	{
		uint64		x = words[w];

		while (x != 0)
		{
			int			b = pg_rightmost_one_pos64(x);

			if (n == *bufcap)
			{
				*bufcap = Max(64, *bufcap * 2);
				*buf = *buf ? repalloc(*buf, sizeof(int32) * *bufcap) : palloc(sizeof(int32) * *bufcap);
			}
			(*buf)[n++] = (wbase + w) * 64 + b;
			x &= x - 1;
		}
	}
	return n;
}

/* last period, and last complete period, for data ending at cutoff (exclusive) */
static void
RetCutoffPeriods(const RetCfg *cfg, TimestampTz max_ts, int32 *last, int32 *complete)
{
	TimestampTz cutoff = (cfg->flags & RF_AS_OF) ? cfg->as_of : max_ts + 1;

	*last = RetTsToPeriod(cfg, cutoff - 1);
	*complete = RetTsToPeriod(cfg, cutoff) - 1;
}

/*
 * Add every customer of a compact head-count state (first-period cohorts)
 * to the matrix: what RetMatAddCustomer does, read straight off each
 * customer's bitmap.  The cohort is the lowest bit, the last active
 * period the highest; the row of each of the window's 64 cohorts is
 * computed once.  Counts cannot overflow: a state holds fewer customers
 * than a bigint counts.
 */
static void
RetMatAddCompact(RetentionMatrix *m, RetState *st)
{
	int64		ncoh = RetMatNCoh(m);
	int64	   *size = RetMatSize(m);
	int64	   *active = RetMatActive(m);
	int64	   *lastk = RetMatLastk(m);
	int64		row[64];

	for (int c = 0; c < 64; c++)
	{
		int64		i = (int64) st->cbase + c - m->first;

		/* cohorts outside the matrix have no customer; never read */
		row[c] = (i >= 0 && i < ncoh) ? RetCell(ncoh, i, 0) : -1;
	}
	for (int p = 0; p < st->nparts; p++)
	{
		const RetCEntry *t = st->parts[p].ctable;
		uint64		cap = st->parts[p].cap;

		CHECK_FOR_INTERRUPTS();
		for (uint64 i = 0; i < cap; i++)
		{
			uint64		x = t[i].bits;
			int			c;
			int64		r;

			if (x == 0)
				continue;
			c = pg_rightmost_one_pos64(x);
			r = row[c];
			Assert(r >= 0 && st->cbase + pg_leftmost_one_pos64(x) <= m->last);
			size[st->cbase + c - m->first]++;
			lastk[r + pg_leftmost_one_pos64(x) - c]++;
			x >>= c;
			do
			{
				active[r + pg_rightmost_one_pos64(x)]++;
				x &= x - 1;
			} while (x != 0);
		}
	}
}

/* the matrix of a compact state (clcm_retention_final) */
static RetentionMatrix *
RetFinalCompact(RetState *st)
{
	uint64		all = RetCompactOr(st);	/* its lowest bit: the first cohort */
	int32		last,
				complete;
	RetentionMatrix *m;
	int32		ps[64];

	if (all == 0)
		RetCorruptState();		/* a compact state always has customers */
	RetCutoffPeriods(&st->cfg, st->max_ts, &last, &complete);
	m = RetMatAlloc(st->cfg.unit, st->cfg.week_start, st->cfg.flags, st->cfg.as_of,
					st->cfg.tzname, st->cbase + pg_rightmost_one_pos64(all),
					last, complete, st->max_ts);
	if (st->cfg.flags & RF_RECURRING)
	{
		for (int p = 0; p < st->nparts; p++)
		{
			RetPart    *part = &st->parts[p];

			CHECK_FOR_INTERRUPTS();
			for (uint64 i = 0; i < part->cap; i++)
			{
				uint64		x = part->ctable[i].bits;
				int32		np = 0;

				while (x != 0)
				{
					ps[np++] = st->cbase + pg_rightmost_one_pos64(x);
					x &= x - 1;
				}
				if (np > 0)
					RetMatAddCustomer(m, ps, np, NULL, 0);
			}
		}
	}
	else
		RetMatAddCompact(m, st);
	return m;
}

PG_FUNCTION_INFO_V1(clcm_retention_final);

/*
 * Final function of the one-call aggregates: the matrix of all customers,
 * or NULL when no row was counted.
 */
Datum
clcm_retention_final(PG_FUNCTION_ARGS)
{
	RetState   *st;
	int32		first = PG_INT32_MAX;
	int32		last,
				complete;
	RetentionMatrix *m;
	int32	   *ps = NULL;
	int32		pscap = 0;

	RetAggContext(fcinfo);
	st = PG_ARGISNULL(0) ? NULL : (RetState *) PG_GETARG_POINTER(0);
	if (st == NULL || !st->has_data)
		PG_RETURN_NULL();
	RetFlush(st);
	if (st->compact)
		PG_RETURN_POINTER(RetFinalCompact(st));

	for (int p = 0; p < st->nparts; p++)
	{
		RetPart    *part = &st->parts[p];

		CHECK_FOR_INTERRUPTS();
		for (uint64 i = 0; i < part->cap; i++)
			if (part->table[i].nwords != 0)
				first = Min(first, RetEntryFirst(&part->table[i]));
	}
	RetCutoffPeriods(&st->cfg, st->max_ts, &last, &complete);
	m = RetMatAlloc(st->cfg.unit, st->cfg.week_start, st->cfg.flags, st->cfg.as_of,
					st->cfg.tzname, first, last, complete, st->max_ts);
	for (int p = 0; p < st->nparts; p++)
	{
		RetPart    *part = &st->parts[p];

		CHECK_FOR_INTERRUPTS();
		for (uint64 i = 0; i < part->cap; i++)
		{
			RetEntry   *e = &part->table[i];
			RetRev	   *r = part->rev ? part->rev[i] : NULL;
			int32		np;

			if (e->nwords == 0)
				continue;
			if ((i & 1023) == 1023)
				CHECK_FOR_INTERRUPTS();
			np = RetBitsToPeriods(e->wbase, e->nwords, RetEntryWords(e), &ps, &pscap);
			RetMatAddCustomer(m, ps, np, r ? r->items : NULL, r ? r->n : 0);
		}
	}
	PG_RETURN_POINTER(m);
}

/* ------------------------------------------------------------- activity */

#define RET_ACT_HDR		MAXALIGN(offsetof(RetentionActivity, data))

/* bitmap words of an activity */
static inline uint64 *
RetActWords(RetentionActivity *a)
{
	return (uint64 *) (a->data + a->tzlen);
}

/* revenue items of an activity */
static inline RetRevItem *
RetActRev(RetentionActivity *a)
{
	return (RetRevItem *) (RetActWords(a) + a->nwords);
}

/* comparator of revenue items by period */
static int
RetRevCmp(const void *a, const void *b)
{
	int32		pa = ((const RetRevItem *) a)->period;
	int32		pb = ((const RetRevItem *) b)->period;

	return (pa > pb) - (pa < pb);
}

/* build an activity value; the words are trimmed of leading/trailing zeros */
static RetentionActivity *
RetActBuild(const RetCfg *cfg, TimestampTz data_end, int32 last, int32 complete,
			int32 wbase, int32 nwords, const uint64 *words, int32 nrev, const RetRevItem *rev)
{
	int32		lo = 0,
				hi = nwords - 1;
	Size		sz;
	RetentionActivity *a;

	while (lo < hi && words[lo] == 0)
		lo++;
	while (hi > lo && words[hi] == 0)
		hi--;
	sz = RET_ACT_HDR + RetTzLen(cfg->tzname) + sizeof(uint64) * (hi - lo + 1)
		+ sizeof(RetRevItem) * nrev;
	a = palloc0(sz);
	SET_VARSIZE(a, sz);
	a->version = RET_FORMAT_VERSION;
	a->unit = cfg->unit;
	a->week_start = cfg->week_start;
	a->flags = cfg->flags;
	a->wbase = wbase + lo;
	a->nwords = hi - lo + 1;
	a->nrev = nrev;
	a->tzlen = RetTzLen(cfg->tzname);
	a->last = last;
	a->complete = complete;
	a->as_of = (cfg->flags & RF_AS_OF) ? cfg->as_of : 0;
	a->data_end = data_end;
	strcpy(a->data, cfg->tzname);
	memcpy(RetActWords(a), words + lo, sizeof(uint64) * a->nwords);
	if (nrev > 0)
	{
		memcpy(RetActRev(a), rev, sizeof(RetRevItem) * nrev);
		qsort(RetActRev(a), nrev, sizeof(RetRevItem), RetRevCmp);
	}
	return a;
}

PG_FUNCTION_INFO_V1(clcm_retention_activity_final);

/* final function of the level-1 aggregates: one customer's activity */
Datum
clcm_retention_activity_final(PG_FUNCTION_ARGS)
{
	RetState   *st;
	int32		last,
				complete;
	RetEntry   *e;

	RetAggContext(fcinfo);
	st = PG_ARGISNULL(0) ? NULL : (RetState *) PG_GETARG_POINTER(0);
	if (st == NULL || !st->has_data)
		PG_RETURN_NULL();
	e = &st->one;
	RetCutoffPeriods(&st->cfg, st->max_ts, &last, &complete);
	PG_RETURN_POINTER(RetActBuild(&st->cfg, st->max_ts, last, complete,
								  e->wbase, e->nwords, RetEntryWords(e),
								  st->one_rev ? st->one_rev->n : 0,
								  st->one_rev ? st->one_rev->items : NULL));
}

/* first active period of an activity (the activity is never empty) */
static int32
RetActFirst(RetentionActivity *a)
{
	uint64	   *w = RetActWords(a);

	for (int32 j = 0; j < a->nwords; j++)
		if (w[j] != 0)
			return (a->wbase + j) * 64 + pg_rightmost_one_pos64(w[j]);
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("retention activity has no active period")));
	return 0;
}

PG_FUNCTION_INFO_V1(clcm_retention_matrix_add);

/*
 * clcm.retention(activity) transition: fold one customer's activity into
 * the matrix state (modified in place when called as an aggregate and
 * the activity fits, else grown to a new matrix).  Called as a plain
 * function the matrix argument is never modified: a new matrix is
 * returned.
 */
Datum
clcm_retention_matrix_add(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	bool		inagg = AggCheckCallContext(fcinfo, &aggcxt);
	RetentionMatrix *m = PG_ARGISNULL(0) ? NULL : PG_GETARG_RETMATRIX_P(0);
	RetentionActivity *a;
	int32		first;
	int32	   *ps = NULL;
	int32		pscap = 0;
	int32		np;

	if (PG_ARGISNULL(1))
	{
		if (m == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(m);
	}
	if (!inagg && m != NULL)
	{
		/* the argument may be a stored value: work on a copy */
		RetentionMatrix *copy = palloc(VARSIZE(m));

		memcpy(copy, m, VARSIZE(m));
		m = copy;
	}
	a = PG_GETARG_RETACTIVITY_P(1);
	first = RetActFirst(a);
	/*
	 * A new or grown matrix is allocated in the current context: the
	 * executor copies a returned state that is not the old one into the
	 * aggregate context and frees the old one.
	 */
	if (m == NULL)
		m = RetMatAlloc(a->unit, a->week_start, a->flags, a->as_of, a->data,
						first, a->last, a->complete, a->data_end);
	else
	{
		RetCheckCompatible(m->unit, m->week_start, m->flags, m->as_of, m->data,
						   a->unit, a->week_start, a->flags, a->as_of, a->data);
		if (first < m->first || a->last > m->last)
		{
			RetentionMatrix *r;

			r = RetMatAlloc(m->unit, m->week_start, m->flags, m->as_of, m->data,
							Min(m->first, first), Max(m->last, a->last),
							m->complete, m->data_end);
			RetMatAddMatrix(r, m);
			m = r;
		}
		m->complete = Max(m->complete, a->complete);
		m->data_end = Max(m->data_end, a->data_end);
	}
	np = RetBitsToPeriods(a->wbase, a->nwords, RetActWords(a), &ps, &pscap);
	RetMatAddCustomer(m, ps, np, RetActRev(a), a->nrev);
	pfree(ps);
	PG_RETURN_POINTER(m);
}

PG_FUNCTION_INFO_V1(clcm_retention_matrix_combine);

/*
 * Combine two matrices of disjoint customer sets (clcm.retention_merge
 * and the combine function of clcm.retention(activity)).  In an aggregate
 * the first argument is the aggregate's own state and may be updated in
 * place; called directly, a new value is returned.
 */
Datum
clcm_retention_matrix_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	bool		inagg = AggCheckCallContext(fcinfo, &aggcxt);
	RetentionMatrix *a,
			   *b,
			   *r;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	b = PG_GETARG_RETMATRIX_P(1);
	/*
	 * New values are made in the current context; the executor copies a
	 * returned state that differs from the old one into the aggregate
	 * context.
	 */
	if (PG_ARGISNULL(0))
	{
		r = palloc(VARSIZE(b));
		memcpy(r, b, VARSIZE(b));
		PG_RETURN_POINTER(r);
	}
	a = PG_GETARG_RETMATRIX_P(0);
	r = RetMatMerge(a, b, inagg && a == (RetentionMatrix *) PG_GETARG_POINTER(0));
	PG_RETURN_POINTER(r);
}

/* ------------------------------------------------------------ table SRF */

/* parse a retention_table mode: false = classic, true = unbounded */
static bool
RetParseMode(text *t)
{
	char	   *s = text_to_cstring(t);

	if (pg_strcasecmp(s, "classic") == 0)
		return false;
	if (pg_strcasecmp(s, "unbounded") == 0)
		return true;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unrecognized retention mode: \"%s\"", s),
			 errhint("Valid modes are classic and unbounded.")));
	return false;
}

/*
 * Rows of a matrix: one per non-empty cohort and offset 0 .. last - cohort.
 * revenue selects the revenue table layout.
 */
static void
RetTableRows(FunctionCallInfo fcinfo, bool revenue)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	RetentionMatrix *m = PG_GETARG_RETMATRIX_P(0);
	bool		unbounded = RetParseMode(PG_GETARG_TEXT_PP(1));
	int64		ncoh = RetMatNCoh(m);
	int64	   *size = RetMatSize(m);
	int64	   *active = RetMatActive(m);
	int64	   *lastk = RetMatLastk(m);
	float8	   *rev = (m->flags & RF_REVENUE) ? RetMatRev(m) : NULL;

	if (revenue && rev == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("retention matrix has no revenue"),
				 errhint("Compute it with clcm.revenue_retention or clcm.revenue_activity.")));
	InitMaterializedSRF(fcinfo, 0);
	for (int64 i = 0; i < ncoh; i++)
	{
		int64		row = RetCell(ncoh, i, 0);
		int64		n = ncoh - i;
		int64		suffix = 0;
		float8		rsuffix = 0;
		int64	   *ubuf;
		float8	   *rbuf;
		int32		cp = m->first + (int32) i;

		if (size[i] == 0)
			continue;
		CHECK_FOR_INTERRUPTS();
		ubuf = palloc(sizeof(int64) * n);
		rbuf = palloc(sizeof(float8) * n);
		for (int64 k = n - 1; k >= 0; k--)
		{
			suffix += lastk[row + k];
			ubuf[k] = suffix;
			if (rev)
			{
				rsuffix += rev[row + k];
				rbuf[k] = rsuffix;
			}
		}
		for (int64 k = 0; k < n; k++)
		{
			Datum		values[6];
			bool		nulls[6] = {false, false, false, false, false, false};
			bool		observed = cp + k <= m->complete;

			values[0] = DateADTGetDatum(RetPeriodStart(m->unit, m->week_start, cp));
			values[1] = Int32GetDatum((int32) k);
			values[2] = Int64GetDatum(size[i]);
			if (!revenue)
			{
				int64		act = unbounded ? ubuf[k] : active[row + k];

				values[3] = Int64GetDatum(act);
				values[4] = Float8GetDatum((float8) act / (float8) size[i]);
				nulls[3] = nulls[4] = !observed;
			}
			else
			{
				float8		base = rev[row];
				float8		r = unbounded ? rbuf[k] : rev[row + k];

				values[3] = Float8GetDatum(base);
				nulls[3] = (m->complete < cp);
				values[4] = Float8GetDatum(r);
				values[5] = Float8GetDatum(base == 0 ? 0 : r / base);
				nulls[4] = !observed;
				nulls[5] = !observed || base == 0;
			}
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
		pfree(ubuf);
		pfree(rbuf);
	}
}

PG_FUNCTION_INFO_V1(clcm_retention_table);

/* clcm.retention_table(m, mode) */
Datum
clcm_retention_table(PG_FUNCTION_ARGS)
{
	RetTableRows(fcinfo, false);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(clcm_retention_revenue_table);

/* clcm.retention_revenue_table(m, mode) */
Datum
clcm_retention_revenue_table(PG_FUNCTION_ARGS)
{
	RetTableRows(fcinfo, true);
	return (Datum) 0;
}

/* ------------------------------------------------------------ type I/O */

/*
 * Text form of a matrix (one line; arrays are comma-separated, cohorts
 * separated by ';' inside active/lastk/revenue):
 *   v1 period=month tz=UTC week_start=monday recurring=f revenue=f
 *   as_of=- end=<usec> first=<p> last=<p> complete=<p>
 *   size=<n,...> active=<cells> lastk=<cells> [revenue=<cells>]
 * Timestamps are microseconds since 2000-01-01 00:00 UTC and periods are
 * period indexes, so the text never depends on DateStyle or TimeZone.
 */

/* append a float8 in shortest exact form */
static void
RetAppendFloat(StringInfo s, float8 v)
{
	char		buf[DOUBLE_SHORTEST_DECIMAL_LEN];

	double_to_shortest_decimal_buf(v, buf);
	appendStringInfoString(s, buf);
}

PG_FUNCTION_INFO_V1(clcm_retention_matrix_out);

/* text output of clcm.retention_matrix */
Datum
clcm_retention_matrix_out(PG_FUNCTION_ARGS)
{
	RetentionMatrix *m = PG_GETARG_RETMATRIX_P(0);
	StringInfoData s;
	int64		ncoh = RetMatNCoh(m);
	int64		ncells = RetNCells(ncoh);

	initStringInfo(&s);
	appendStringInfo(&s, "v1 period=%s tz=%s week_start=%s recurring=%c revenue=%c",
					 ret_unit_names[m->unit], m->data, ret_dow_names[m->week_start],
					 (m->flags & RF_RECURRING) ? 't' : 'f',
					 (m->flags & RF_REVENUE) ? 't' : 'f');
	if (m->flags & RF_AS_OF)
		appendStringInfo(&s, " as_of=" INT64_FORMAT, m->as_of);
	else
		appendStringInfoString(&s, " as_of=-");
	appendStringInfo(&s, " end=" INT64_FORMAT " first=%d last=%d complete=%d size=",
					 m->data_end, m->first, m->last, m->complete);
	for (int64 i = 0; i < ncoh; i++)
		appendStringInfo(&s, "%s" INT64_FORMAT, i ? "," : "", RetMatSize(m)[i]);
	for (int arr = 0; arr < ((m->flags & RF_REVENUE) ? 3 : 2); arr++)
	{
		appendStringInfoString(&s, arr == 0 ? " active=" : arr == 1 ? " lastk=" : " revenue=");
		for (int64 c = 0; c < ncells; c++)
		{
			if (c > 0)
				appendStringInfoChar(&s, ',');
			if (arr == 0)
				appendStringInfo(&s, INT64_FORMAT, RetMatActive(m)[c]);
			else if (arr == 1)
				appendStringInfo(&s, INT64_FORMAT, RetMatLastk(m)[c]);
			else
				RetAppendFloat(&s, RetMatRev(m)[c]);
		}
	}
	PG_RETURN_CSTRING(s.data);
}

/* error for a malformed matrix or activity literal */
static void
RetSyntaxError(const char *type, const char *input, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s: \"%s\"", type, input),
			 errdetail("%s", detail)));
}

/* parser cursor over a literal */
typedef struct RetParser
{
	const char *type;
	const char *input;
	char	   *p;
} RetParser;

/* expect " key=" (the first key without the space) and return its value token */
static char *
RetExpectKey(RetParser *ps, const char *key)
{
	size_t		kl = strlen(key);
	char	   *start;
	char		detail[128];

	while (*ps->p == ' ')
		ps->p++;
	if (strncmp(ps->p, key, kl) != 0 || ps->p[kl] != '=')
	{
		snprintf(detail, sizeof(detail), "Expected \"%s=\".", key);
		RetSyntaxError(ps->type, ps->input, detail);
	}
	ps->p += kl + 1;
	start = ps->p;
	while (*ps->p != '\0' && *ps->p != ' ')
		ps->p++;
	if (*ps->p == ' ')
		*ps->p++ = '\0';
	return start;
}

/*
 * strtod as float8in accepts it: ERANGE is an error only for results that
 * overflow to infinity or underflow to zero; a subnormal result (e.g.
 * 1e-310, which float8out prints) is kept, so every printed value reads
 * back.  Returns false when no number was read or it is out of range.
 */
static bool
RetStrtod(const char *p, char **end, double *v)
{
	errno = 0;
	*v = strtod(p, end);
	if (*end == p)
		return false;
	if (errno == ERANGE && (*v == 0.0 || isinf(*v)))
		return false;
	return true;
}

/* parse a whole int64 token */
static int64
RetParseInt(RetParser *ps, const char *tok, const char *what)
{
	char	   *end;
	long long	v;

	errno = 0;
	v = strtoll(tok, &end, 10);
	if (tok[0] == '\0' || *end != '\0' || errno != 0)
	{
		char		detail[128];

		snprintf(detail, sizeof(detail), "The value of %s is not an integer.", what);
		RetSyntaxError(ps->type, ps->input, detail);
	}
	return (int64) v;
}

/* parse an int32 token */
static int32
RetParseInt32(RetParser *ps, const char *tok, const char *what)
{
	int64		v = RetParseInt(ps, tok, what);

	if (v < PG_INT32_MIN || v > PG_INT32_MAX)
		RetSyntaxError(ps->type, ps->input, "A period index is out of range.");
	return (int32) v;
}

/*
 * Parse a comma-separated list of exactly n integers (is_float: finite
 * float8 values) into out.
 */
static void
RetParseList(RetParser *ps, char *tok, int64 n, void *out, bool is_float, const char *what)
{
	char	   *p = tok;

	for (int64 i = 0; i < n; i++)
	{
		char	   *end;
		char		detail[128];

		errno = 0;
		if (is_float)
		{
			double		v;

			if (!RetStrtod(p, &end, &v) || isnan(v) || isinf(v))
			{
				snprintf(detail, sizeof(detail), "An element of %s is not a finite number.", what);
				RetSyntaxError(ps->type, ps->input, detail);
			}
			((float8 *) out)[i] = v;
		}
		else
		{
			long long	v = strtoll(p, &end, 10);

			if (end == p || errno != 0)
			{
				snprintf(detail, sizeof(detail), "An element of %s is not an integer.", what);
				RetSyntaxError(ps->type, ps->input, detail);
			}
			((int64 *) out)[i] = v;
		}
		if (i < n - 1 && *end != ',')
		{
			snprintf(detail, sizeof(detail), "The list %s has too few elements.", what);
			RetSyntaxError(ps->type, ps->input, detail);
		}
		p = end + (i < n - 1 ? 1 : 0);
	}
	if (*p != '\0')
	{
		char		detail[128];

		snprintf(detail, sizeof(detail), "The list %s has too many elements.", what);
		RetSyntaxError(ps->type, ps->input, detail);
	}
}

/* parse t/f */
static bool
RetParseBool(RetParser *ps, const char *tok)
{
	if (strcmp(tok, "t") == 0)
		return true;
	if (strcmp(tok, "f") == 0)
		return false;
	RetSyntaxError(ps->type, ps->input, "Flags are written t or f.");
	return false;
}

/* parse the common header fields into cfg (tz validated) */
static void
RetParseHeader(RetParser *ps, RetCfg *cfg, bool *revenue)
{
	char	   *tok;

	while (*ps->p == ' ')
		ps->p++;
	if (strncmp(ps->p, "v1 ", 3) != 0)
		RetSyntaxError(ps->type, ps->input, "The value must start with the format version v1.");
	ps->p += 3;
	tok = RetExpectKey(ps, "period");
	RetCfgDefaults(cfg, RP_MONTH);
	{
		int			u = -1;

		for (int i = 0; i < (int) lengthof(ret_unit_names); i++)
			if (strcmp(tok, ret_unit_names[i]) == 0)
				u = i;
		if (u < 0)
			RetSyntaxError(ps->type, ps->input, "Unrecognized period.");
		cfg->unit = (uint8) u;
	}
	tok = RetExpectKey(ps, "tz");
	if (strlen(tok) > RET_TZ_MAX || tok[0] == '\0' || pg_tzset(tok) == NULL)
		RetSyntaxError(ps->type, ps->input, "Unrecognized time zone.");
	RetCfgSetTz(cfg, tok);
	tok = RetExpectKey(ps, "week_start");
	{
		int			w = -1;

		for (int i = 0; i < (int) lengthof(ret_dow_names); i++)
			if (strcmp(tok, ret_dow_names[i]) == 0)
				w = i;
		if (w < 0)
			RetSyntaxError(ps->type, ps->input, "Unrecognized week start.");
		cfg->week_start = (uint8) w;
	}
	if (RetParseBool(ps, RetExpectKey(ps, "recurring")))
		cfg->flags |= RF_RECURRING;
	*revenue = RetParseBool(ps, RetExpectKey(ps, "revenue"));
	if (*revenue)
		cfg->flags |= RF_REVENUE;
	tok = RetExpectKey(ps, "as_of");
	if (strcmp(tok, "-") != 0)
	{
		cfg->as_of = RetParseInt(ps, tok, "as_of");
		if (TIMESTAMP_NOT_FINITE(cfg->as_of))
			RetSyntaxError(ps->type, ps->input, "The as_of cut-off must be finite.");
		cfg->flags |= RF_AS_OF;
	}
}

/*
 * Validate a matrix (shared by input and receive): dimensions, and the
 * invariants of the counts: every cohort's customers are active at offset
 * 0, no cell exceeds the cohort size, last-activity counts sum to the
 * size, revenue is finite.  The cut-off fields must agree with the
 * options.
 */
static bool
RetMatCheck(RetentionMatrix *m, const char **detail)
{
	int64		ncoh = RetMatNCoh(m);
	int64	   *size = RetMatSize(m);
	int64	   *active = RetMatActive(m);
	int64	   *lastk = RetMatLastk(m);
	float8	   *rev = (m->flags & RF_REVENUE) ? RetMatRev(m) : NULL;
	RetCfg		cfg;

	if (m->complete > m->last || m->complete < m->first - 1)
	{
		*detail = "The last complete period must lie between first - 1 and last.";
		return false;
	}
	if (TIMESTAMP_NOT_FINITE(m->data_end))
	{
		*detail = "The data end must be finite.";
		return false;
	}
	RetCfgDefaults(&cfg, m->unit);
	cfg.week_start = m->week_start;
	RetCfgSetTz(&cfg, m->data);
	cfg.flags = m->flags;
	cfg.as_of = m->as_of;
	{
		int32		l,
					c;

		if ((m->flags & RF_AS_OF) && m->data_end >= m->as_of)
		{
			*detail = "The data end must precede as_of.";
			return false;
		}
		RetCutoffPeriods(&cfg, m->data_end, &l, &c);
		if (l != m->last || c != m->complete)
		{
			*detail = "The last and complete periods do not match the data end and as_of.";
			return false;
		}
	}
	for (int64 i = 0; i < ncoh; i++)
	{
		int64		row = RetCell(ncoh, i, 0);
		int64		sum = 0;

		if (size[i] < 0 || active[row] != size[i])
		{
			*detail = "The customers active at offset 0 must equal the cohort size.";
			return false;
		}
		for (int64 k = 0; k < ncoh - i; k++)
		{
			/* sum <= size[i] here, so size[i] - sum cannot overflow */
			if (active[row + k] < 0 || active[row + k] > size[i] ||
				lastk[row + k] < 0 || lastk[row + k] > size[i] - sum)
			{
				*detail = "A count is negative or exceeds its cohort size.";
				return false;
			}
			sum += lastk[row + k];
			if (rev && (isnan(rev[row + k]) || isinf(rev[row + k])))
			{
				*detail = "A revenue is not finite.";
				return false;
			}
			if (size[i] == 0 && rev && rev[row + k] != 0)
			{
				*detail = "An empty cohort has revenue.";
				return false;
			}
		}
		if (sum != size[i])
		{
			*detail = "The last-activity counts of a cohort must sum to its size.";
			return false;
		}
	}
	return true;
}

PG_FUNCTION_INFO_V1(clcm_retention_matrix_in);

/* text input of clcm.retention_matrix (the format of the output function) */
Datum
clcm_retention_matrix_in(PG_FUNCTION_ARGS)
{
	char	   *input = PG_GETARG_CSTRING(0);
	RetParser	ps = {"clcm.retention_matrix", input, pstrdup(input)};
	RetCfg		cfg;
	bool		revenue;
	int64		end;
	int32		first,
				last,
				complete;
	RetentionMatrix *m;
	int64		ncoh,
				ncells;
	const char *detail;

	RetParseHeader(&ps, &cfg, &revenue);
	end = RetParseInt(&ps, RetExpectKey(&ps, "end"), "end");
	first = RetParseInt32(&ps, RetExpectKey(&ps, "first"), "first");
	last = RetParseInt32(&ps, RetExpectKey(&ps, "last"), "last");
	complete = RetParseInt32(&ps, RetExpectKey(&ps, "complete"), "complete");
	if (last < first)
		RetSyntaxError(ps.type, input, "The last period precedes the first.");
	if ((int64) last - first + 1 > 1000000 ||
		RetNCells((int64) last - first + 1) > RET_MAX_CELLS)
		RetSyntaxError(ps.type, input, "The matrix has too many cells.");
	/*
	 * Every list item takes at least two characters: refuse dimensions the
	 * text cannot hold before allocating the matrix (a short literal must
	 * not make the backend allocate hundreds of megabytes).
	 */
	if ((int64) strlen(input) / 2 <
		((int64) last - first + 1) + RetNCells((int64) last - first + 1) * (revenue ? 3 : 2))
		RetSyntaxError(ps.type, input, "The lists are shorter than the dimensions.");
	m = RetMatAlloc(cfg.unit, cfg.week_start, cfg.flags, cfg.as_of, cfg.tzname,
					first, last, complete, end);
	ncoh = RetMatNCoh(m);
	ncells = RetNCells(ncoh);
	RetParseList(&ps, RetExpectKey(&ps, "size"), ncoh, RetMatSize(m), false, "size");
	RetParseList(&ps, RetExpectKey(&ps, "active"), ncells, RetMatActive(m), false, "active");
	RetParseList(&ps, RetExpectKey(&ps, "lastk"), ncells, RetMatLastk(m), false, "lastk");
	if (revenue)
		RetParseList(&ps, RetExpectKey(&ps, "revenue"), ncells, RetMatRev(m), true, "revenue");
	while (*ps.p == ' ')
		ps.p++;
	if (*ps.p != '\0')
		RetSyntaxError(ps.type, input, "Unexpected text after the last field.");
	if (!RetMatCheck(m, &detail))
		RetSyntaxError(ps.type, input, detail);
	PG_RETURN_POINTER(m);
}

PG_FUNCTION_INFO_V1(clcm_retention_matrix_send);

/* binary output: the fields of the text form in network byte order */
Datum
clcm_retention_matrix_send(PG_FUNCTION_ARGS)
{
	RetentionMatrix *m = PG_GETARG_RETMATRIX_P(0);
	StringInfoData buf;
	int64		ncoh = RetMatNCoh(m);
	int64		ncells = RetNCells(ncoh);

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, m->version);
	pq_sendbyte(&buf, m->unit);
	pq_sendbyte(&buf, m->week_start);
	pq_sendbyte(&buf, m->flags);
	pq_sendstring(&buf, m->data);
	pq_sendint64(&buf, m->as_of);
	pq_sendint64(&buf, m->data_end);
	pq_sendint32(&buf, m->first);
	pq_sendint32(&buf, m->last);
	pq_sendint32(&buf, m->complete);
	for (int64 i = 0; i < ncoh; i++)
		pq_sendint64(&buf, RetMatSize(m)[i]);
	for (int64 c = 0; c < ncells; c++)
		pq_sendint64(&buf, RetMatActive(m)[c]);
	for (int64 c = 0; c < ncells; c++)
		pq_sendint64(&buf, RetMatLastk(m)[c]);
	for (int64 c = 0; (m->flags & RF_REVENUE) && c < ncells; c++)
		pq_sendfloat8(&buf, RetMatRev(m)[c]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* error for a malformed binary value */
static void
RetRecvError(const char *type, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid external %s value", type),
			 errdetail("%s", detail)));
}

PG_FUNCTION_INFO_V1(clcm_retention_matrix_recv);

/* binary input; validates exactly like the text input */
Datum
clcm_retention_matrix_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	uint8		version,
				unit,
				ws,
				flags;
	const char *tz;
	int64		as_of,
				end;
	int32		first,
				last,
				complete;
	RetentionMatrix *m;
	int64		ncoh,
				ncells;
	const char *detail;
	const char *type = "clcm.retention_matrix";

	version = pq_getmsgbyte(buf);
	unit = pq_getmsgbyte(buf);
	ws = pq_getmsgbyte(buf);
	flags = pq_getmsgbyte(buf);
	if (version != RET_FORMAT_VERSION)
		RetRecvError(type, "Unsupported format version.");
	if (unit > RP_YEAR || ws > 6 || (flags & ~RF_ALL))
		RetRecvError(type, "Unrecognized period, week start or flags.");
	tz = pq_getmsgstring(buf);
	if (strlen(tz) > RET_TZ_MAX || tz[0] == '\0' || pg_tzset(tz) == NULL)
		RetRecvError(type, "Unrecognized time zone.");
	as_of = pq_getmsgint64(buf);
	end = pq_getmsgint64(buf);
	first = pq_getmsgint(buf, 4);
	last = pq_getmsgint(buf, 4);
	complete = pq_getmsgint(buf, 4);
	if ((flags & RF_AS_OF) && TIMESTAMP_NOT_FINITE(as_of))
		RetRecvError(type, "The as_of cut-off must be finite.");
	if (last < first || (int64) last - first + 1 > 1000000 ||
		RetNCells((int64) last - first + 1) > RET_MAX_CELLS)
		RetRecvError(type, "Invalid dimensions.");
	ncoh = (int64) last - first + 1;
	ncells = RetNCells(ncoh);
	if ((int64) (buf->len - buf->cursor) !=
		8 * (ncoh + ncells * ((flags & RF_REVENUE) ? 3 : 2)))
		RetRecvError(type, "The length does not match the dimensions.");
	m = RetMatAlloc(unit, ws, flags, as_of, tz, first, last, complete, end);
	for (int64 i = 0; i < ncoh; i++)
		RetMatSize(m)[i] = pq_getmsgint64(buf);
	for (int64 c = 0; c < ncells; c++)
		RetMatActive(m)[c] = pq_getmsgint64(buf);
	for (int64 c = 0; c < ncells; c++)
		RetMatLastk(m)[c] = pq_getmsgint64(buf);
	for (int64 c = 0; (flags & RF_REVENUE) && c < ncells; c++)
	{
		RetMatRev(m)[c] = pq_getmsgfloat8(buf);
	}
	if (!RetMatCheck(m, &detail))
		RetRecvError(type, detail);
	PG_RETURN_POINTER(m);
}

/*
 * Text form of an activity:
 *   v1 period=month tz=UTC week_start=monday recurring=f revenue=f
 *   as_of=- end=<usec> periods=<p,...> [amounts=<x,...>]
 * periods are the active period indexes in increasing order; amounts (revenue
 * only) the sums per period with revenue, listed as period:amount.
 */

PG_FUNCTION_INFO_V1(clcm_retention_activity_out);

/* text output of clcm.retention_activity */
Datum
clcm_retention_activity_out(PG_FUNCTION_ARGS)
{
	RetentionActivity *a = PG_GETARG_RETACTIVITY_P(0);
	StringInfoData s;
	int32	   *ps = NULL;
	int32		pscap = 0;
	int32		np;

	initStringInfo(&s);
	appendStringInfo(&s, "v1 period=%s tz=%s week_start=%s recurring=%c revenue=%c",
					 ret_unit_names[a->unit], a->data, ret_dow_names[a->week_start],
					 (a->flags & RF_RECURRING) ? 't' : 'f',
					 (a->flags & RF_REVENUE) ? 't' : 'f');
	if (a->flags & RF_AS_OF)
		appendStringInfo(&s, " as_of=" INT64_FORMAT, a->as_of);
	else
		appendStringInfoString(&s, " as_of=-");
	appendStringInfo(&s, " end=" INT64_FORMAT " periods=", a->data_end);
	np = RetBitsToPeriods(a->wbase, a->nwords, RetActWords(a), &ps, &pscap);
	for (int32 i = 0; i < np; i++)
		appendStringInfo(&s, "%s%d", i ? "," : "", ps[i]);
	if (a->flags & RF_REVENUE)
	{
		appendStringInfoString(&s, " amounts=");
		for (int32 i = 0; i < a->nrev; i++)
		{
			appendStringInfo(&s, "%s%d:", i ? "," : "", RetActRev(a)[i].period);
			RetAppendFloat(&s, RetActRev(a)[i].amount);
		}
	}
	PG_RETURN_CSTRING(s.data);
}

/*
 * Build an activity from parsed parts, validating like both input paths:
 * periods strictly increasing, revenue periods strictly increasing and
 * active, finite amounts, end inside the last period.
 */
static RetentionActivity *
RetActFromParts(RetCfg *cfg, int64 end, int32 np, const int32 *ps,
				int32 nrev, const RetRevItem *rev, const char **detail)
{
	int32		wlo,
				whi;
	uint64	   *words;
	int32		last,
				complete;

	if (np < 1)
	{
		*detail = "An activity needs at least one period.";
		return NULL;
	}
	if (TIMESTAMP_NOT_FINITE(end) || ((cfg->flags & RF_AS_OF) && end >= cfg->as_of))
	{
		*detail = "The data end must be finite and before as_of.";
		return NULL;
	}
	for (int32 i = 1; i < np; i++)
		if (ps[i] <= ps[i - 1])
		{
			*detail = "Periods must be strictly increasing.";
			return NULL;
		}
	if (ps[np - 1] != RetTsToPeriod(cfg, end))
	{
		*detail = "The last period must contain the data end.";
		return NULL;
	}
	for (int32 i = 0; i < nrev; i++)
	{
		bool		ok = false;

		if (i > 0 && rev[i].period <= rev[i - 1].period)
		{
			*detail = "Revenue periods must be strictly increasing.";
			return NULL;
		}
		for (int32 j = 0; j < np && !ok; j++)
			ok = (ps[j] == rev[i].period);
		if (!ok || isnan(rev[i].amount) || isinf(rev[i].amount))
		{
			*detail = "Each amount needs an active period and a finite value.";
			return NULL;
		}
	}
	wlo = RetWord(ps[0]);
	whi = RetWord(ps[np - 1]);
	if ((int64) whi - wlo + 1 > RET_MAX_WORDS)
	{
		*detail = "The activity spans too many periods.";
		return NULL;
	}
	words = palloc0(sizeof(uint64) * (whi - wlo + 1));
	for (int32 i = 0; i < np; i++)
		words[RetWord(ps[i]) - wlo] |= RetBit(ps[i]);
	RetCutoffPeriods(cfg, end, &last, &complete);
	return RetActBuild(cfg, end, last, complete, wlo, whi - wlo + 1, words, nrev, rev);
}

PG_FUNCTION_INFO_V1(clcm_retention_activity_in);

/* text input of clcm.retention_activity */
Datum
clcm_retention_activity_in(PG_FUNCTION_ARGS)
{
	char	   *input = PG_GETARG_CSTRING(0);
	RetParser	ps = {"clcm.retention_activity", input, pstrdup(input)};
	RetCfg		cfg;
	bool		revenue;
	int64		end;
	char	   *tok;
	int32	   *periods;
	int32		np = 0;
	RetRevItem *rev = NULL;
	int32		nrev = 0;
	RetentionActivity *a;
	const char *detail = NULL;

	RetParseHeader(&ps, &cfg, &revenue);
	end = RetParseInt(&ps, RetExpectKey(&ps, "end"), "end");
	tok = RetExpectKey(&ps, "periods");
	periods = palloc(sizeof(int32) * (strlen(tok) / 2 + 1));
	for (char *p = strtok(tok, ","); p != NULL; p = strtok(NULL, ","))
		periods[np++] = RetParseInt32(&ps, p, "periods");
	if (revenue)
	{
		tok = RetExpectKey(&ps, "amounts");
		rev = palloc0(sizeof(RetRevItem) * (strlen(tok) / 3 + 1));
		for (char *p = strtok(tok, ","); p != NULL; p = strtok(NULL, ","))
		{
			char	   *colon = strchr(p, ':');
			char	   *end2;

			if (colon == NULL)
				RetSyntaxError(ps.type, input, "Amounts are written period:amount.");
			*colon = '\0';
			rev[nrev].period = RetParseInt32(&ps, p, "amounts");
			if (!RetStrtod(colon + 1, &end2, &rev[nrev].amount) || *end2 != '\0')
				RetSyntaxError(ps.type, input, "An amount is not a number.");
			nrev++;
		}
	}
	while (*ps.p == ' ')
		ps.p++;
	if (*ps.p != '\0')
		RetSyntaxError(ps.type, input, "Unexpected text after the last field.");
	a = RetActFromParts(&cfg, end, np, periods, nrev, rev, &detail);
	if (a == NULL)
		RetSyntaxError(ps.type, input, detail);
	PG_RETURN_POINTER(a);
}

PG_FUNCTION_INFO_V1(clcm_retention_activity_send);

/* binary output of an activity: options, end, periods, revenue items */
Datum
clcm_retention_activity_send(PG_FUNCTION_ARGS)
{
	RetentionActivity *a = PG_GETARG_RETACTIVITY_P(0);
	StringInfoData buf;
	int32	   *ps = NULL;
	int32		pscap = 0;
	int32		np;

	np = RetBitsToPeriods(a->wbase, a->nwords, RetActWords(a), &ps, &pscap);
	pq_begintypsend(&buf);
	pq_sendbyte(&buf, a->version);
	pq_sendbyte(&buf, a->unit);
	pq_sendbyte(&buf, a->week_start);
	pq_sendbyte(&buf, a->flags);
	pq_sendstring(&buf, a->data);
	pq_sendint64(&buf, a->as_of);
	pq_sendint64(&buf, a->data_end);
	pq_sendint32(&buf, np);
	for (int32 i = 0; i < np; i++)
		pq_sendint32(&buf, ps[i]);
	pq_sendint32(&buf, a->nrev);
	for (int32 i = 0; i < a->nrev; i++)
	{
		pq_sendint32(&buf, RetActRev(a)[i].period);
		pq_sendfloat8(&buf, RetActRev(a)[i].amount);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(clcm_retention_activity_recv);

/* binary input of an activity; validates like the text input */
Datum
clcm_retention_activity_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	const char *type = "clcm.retention_activity";
	RetCfg		cfg;
	uint8		version,
				unit,
				ws,
				flags;
	const char *tz;
	int64		end;
	int32		np,
				nrev;
	int32	   *ps;
	RetRevItem *rev = NULL;
	RetentionActivity *a;
	const char *detail = NULL;

	version = pq_getmsgbyte(buf);
	unit = pq_getmsgbyte(buf);
	ws = pq_getmsgbyte(buf);
	flags = pq_getmsgbyte(buf);
	if (version != RET_FORMAT_VERSION)
		RetRecvError(type, "Unsupported format version.");
	if (unit > RP_YEAR || ws > 6 || (flags & ~RF_ALL))
		RetRecvError(type, "Unrecognized period, week start or flags.");
	tz = pq_getmsgstring(buf);
	if (strlen(tz) > RET_TZ_MAX || tz[0] == '\0' || pg_tzset(tz) == NULL)
		RetRecvError(type, "Unrecognized time zone.");
	RetCfgDefaults(&cfg, unit);
	RetCfgSetTz(&cfg, tz);
	cfg.week_start = ws;
	cfg.flags = flags;
	cfg.as_of = pq_getmsgint64(buf);
	if ((flags & RF_AS_OF) && TIMESTAMP_NOT_FINITE(cfg.as_of))
		RetRecvError(type, "The as_of cut-off must be finite.");
	if (!(flags & RF_AS_OF))
		cfg.as_of = 0;
	end = pq_getmsgint64(buf);
	np = pq_getmsgint(buf, 4);
	if (np < 0 || np > (buf->len - buf->cursor) / 4)
		RetRecvError(type, "Invalid number of periods.");
	ps = palloc(sizeof(int32) * (np + 1));
	for (int32 i = 0; i < np; i++)
		ps[i] = pq_getmsgint(buf, 4);
	nrev = pq_getmsgint(buf, 4);
	if (nrev < 0 || nrev > (buf->len - buf->cursor) / 12 ||
		(nrev > 0 && !(flags & RF_REVENUE)))
		RetRecvError(type, "Invalid number of amounts.");
	if (nrev > 0)
		rev = palloc0(sizeof(RetRevItem) * nrev);
	for (int32 i = 0; i < nrev; i++)
	{
		rev[i].period = pq_getmsgint(buf, 4);
		rev[i].amount = pq_getmsgfloat8(buf);
	}
	a = RetActFromParts(&cfg, end, np, ps, nrev, rev, &detail);
	if (a == NULL)
		RetRecvError(type, detail);
	PG_RETURN_POINTER(a);
}
