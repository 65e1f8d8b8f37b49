/*-------------------------------------------------------------------------
 *
 * rfm.c
 *	  clcm.rfm_summary: the recency / frequency / monetary summary of the
 *	  BTYD literature as an aggregate over raw transactions, and its state
 *	  type clcm.rfm_state.
 *
 * Definitions (SPEC section 6, the conventions of the lifetimes library
 * and of Fader, Hardie & Lee 2005):
 *
 *	- a purchase belongs to the calendar day of its timestamp in the session
 *	  TimeZone (the day ts::date gives); purchases on one day count once and
 *	  their amounts are summed;
 *	- purchases on days after the calendar day of observation_end are
 *	  ignored (so one table gives calibration summaries for any cut-off);
 *	- frequency = number of purchase days - 1 (repeat purchase days);
 *	- recency = last purchase day - first purchase day;
 *	- t = observation_end's day - first purchase day;
 *	- monetary = mean amount of the repeat purchase days (the first day
 *	  excluded), 0 when frequency = 0;
 *	- recency and t are whole days divided by the unit's length in days
 *	  (day 1, week 7, month 30.4375, year 365.25).
 *
 * The state.  Only four things are needed at the end: the set of distinct
 * purchase days, the first day, the sum of all amounts and the sum of the
 * amounts of the first day (monetary = (total - first) / frequency).  The
 * state therefore keeps the days as an int32 array and two exact sums.  When
 * a group's rows arrive in day order (the usual case: tables are written in
 * time order) a day is appended only if it is later than the last one, so
 * the array holds exactly the distinct days and stays sorted.  Out-of-order
 * input appends anyway; when the array is full it is sorted and
 * de-duplicated in place, and it grows (doubling) only when that frees less
 * than half of it, so memory stays below four times the number of distinct
 * days.
 *
 * The state is an ordinary varlena type (not internal): partial aggregates
 * travel between parallel workers, and Citus can push the aggregate down,
 * through its exact text and binary forms.  The transition function updates
 * the state in place when it has room (legal in aggregate context, as
 * int8_avg_accum does); when it must grow, a larger copy is built in the
 * per-tuple context and returned, and the executor copies it into the
 * aggregate context and frees the old one.  Storage is plain, so the state
 * is always 8-byte aligned with a 4-byte header.
 *
 * Amounts are exact integers in units of 10^-9 (numeric rounded to nine
 * decimals, half away from zero, as round(x, 9)), decoded straight from the
 * numeric on-disk format without a palloc; sums are 128-bit, so results do
 * not depend on row order or on the plan (parallel or not).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "common/int.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "clcm.h"
#include "rfm.h"

/* ---------------------------------------------------------------------
 * Exact amounts from numeric
 * ---------------------------------------------------------------------
 */

/*
 * The numeric on-disk format (src/backend/utils/adt/numeric.c).  It is
 * private to numeric.c but it is an on-disk format, unchanged since 9.1
 * (special values since 14), so decoding it here is safe; pg_upgrade would
 * break too if it changed.
 */
#define RFM_NUMERIC_SIGN_MASK		0xC000
#define RFM_NUMERIC_NEG				0x4000
#define RFM_NUMERIC_SHORT			0x8000
#define RFM_NUMERIC_SPECIAL			0xC000
#define RFM_NUMERIC_EXT_SIGN_MASK	0xF000
#define RFM_NUMERIC_NAN				0xC000
#define RFM_NUMERIC_SHORT_SIGN_MASK	0x2000
#define RFM_NUMERIC_SHORT_WEIGHT_SIGN_MASK 0x0040
#define RFM_NUMERIC_SHORT_WEIGHT_MASK 0x003F

/* amounts must be below 10^18 (in units: 10^27), sums below 10^29 */
#define RFM_MAX_UNITS_E 27
#define RFM_MAX_TOTAL_E 38

static int128
RfmPow10(int e)
{
	int128		r = 1;

	while (e-- > 0)
		r *= 10;
	return r;
}

/*
 * RfmNumericToUnits decodes a numeric datum into units of 10^-9, rounded
 * half away from zero (the digits beyond the ninth decimal only matter
 * through the tenth).  It reads the packed (possibly 1-byte header) form
 * directly, so no copy is made for ordinary on-disk values.
 */
RfmAmountStatus
RfmNumericToUnits(Datum num, int128 *units)
{
	struct varlena *v = PG_DETOAST_DATUM_PACKED(num);
	const char *p = VARDATA_ANY(v);
	Size		len = VARSIZE_ANY_EXHDR(v);
	uint16		header;
	int			weight;
	bool		negative;
	const char *digits;
	int			ndigits;
	int128		acc = 0;
	int			i;

	if (len < sizeof(uint16))
		elog(ERROR, "corrupt numeric value");
	memcpy(&header, p, sizeof(uint16));

	if ((header & RFM_NUMERIC_SIGN_MASK) == RFM_NUMERIC_SPECIAL)
	{
		if ((header & RFM_NUMERIC_EXT_SIGN_MASK) == RFM_NUMERIC_NAN)
			return RFM_AMOUNT_NAN;
		return RFM_AMOUNT_INFINITE;
	}
	if (header & RFM_NUMERIC_SHORT)
	{
		negative = (header & RFM_NUMERIC_SHORT_SIGN_MASK) != 0;
		weight = (header & RFM_NUMERIC_SHORT_WEIGHT_MASK);
		if (header & RFM_NUMERIC_SHORT_WEIGHT_SIGN_MASK)
			weight |= ~RFM_NUMERIC_SHORT_WEIGHT_MASK;
		digits = p + sizeof(uint16);
		ndigits = (len - sizeof(uint16)) / sizeof(int16);
	}
	else
	{
		int16		w;

		if (len < sizeof(uint16) + sizeof(int16))
			elog(ERROR, "corrupt numeric value");
		negative = (header & RFM_NUMERIC_SIGN_MASK) == RFM_NUMERIC_NEG;
		memcpy(&w, p + sizeof(uint16), sizeof(int16));
		weight = w;
		digits = p + sizeof(uint16) + sizeof(int16);
		ndigits = (len - sizeof(uint16) - sizeof(int16)) / sizeof(int16);
	}

	/* base-10000 digit i has weight (weight - i); 10^9 units per 1.0 */
	if (ndigits > 0 && weight >= 5)
		return negative ? RFM_AMOUNT_NEGATIVE : RFM_AMOUNT_TOO_LARGE;
	for (i = 0; i < ndigits; i++)
	{
		int16		d;
		int			e = 4 * (weight - i) + RFM_AMOUNT_SCALE;

		memcpy(&d, digits + i * sizeof(int16), sizeof(int16));
		if (e >= 0)
			acc += (int128) d * RfmPow10(e);
		else if (e == -3)
		{
			/* decimals 9..12: keep the ninth, round on the tenth */
			acc += d / 1000;
			if (d % 1000 >= 500)
				acc += 1;
			break;
		}
		else
			break;
	}
	if (negative && ndigits > 0)
		return RFM_AMOUNT_NEGATIVE;
	if (acc >= RfmPow10(RFM_MAX_UNITS_E))
		return RFM_AMOUNT_TOO_LARGE;
	*units = acc;
	return RFM_AMOUNT_OK;
}

/*
 * RfmCheckAmount raises the error for a status other than RFM_AMOUNT_OK;
 * "what" names the argument in the message.
 */
void
RfmCheckAmount(RfmAmountStatus status, const char *what)
{
	switch (status)
	{
		case RFM_AMOUNT_OK:
			return;
		case RFM_AMOUNT_NEGATIVE:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s cannot be negative", what),
					 errhint("Net refunds against their purchases, or filter them out, before aggregating.")));
			break;
		case RFM_AMOUNT_NAN:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s cannot be NaN", what)));
			break;
		case RFM_AMOUNT_INFINITE:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s cannot be infinite", what)));
			break;
		case RFM_AMOUNT_TOO_LARGE:
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("%s is out of range", what),
					 errdetail("Amounts must be less than 10^18.")));
			break;
	}
}

/*
 * RfmUnitsToDouble converts a count of 10^-9 units to float8.  Long double
 * keeps the integer exact up to 2^64 units, so the result is the correctly
 * rounded value except in double-rounding ties.
 */
double
RfmUnitsToDouble(int128 units)
{
	return (double) ((long double) units / (long double) RFM_AMOUNT_UNITS);
}

/* ---------------------------------------------------------------------
 * Calendar days in the session time zone
 * ---------------------------------------------------------------------
 */

#define RFM_UNIX_EPOCH_SHIFT \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY)

/* floor division for a positive divisor */
static inline int64
RfmFloorDiv(int64 a, int64 b)
{
	int64		q = a / b;

	if ((a % b) != 0 && a < 0)
		q--;
	return q;
}

/*
 * RfmSlowDay is the reference conversion, as timestamptz_date() does it.
 * Only assertions use it (they check the cached fast path against it).
 */
#ifdef USE_ASSERT_CHECKING
static int32
RfmSlowDay(TimestampTz ts)
{
	struct pg_tm tt;
	fsec_t		fsec;
	int			tz;

	if (timestamp2tm(ts, &tz, &tt, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	return date2j(tt.tm_year, tt.tm_mon, tt.tm_mday) - POSTGRES_EPOCH_JDATE;
}
#endif

/*
 * RfmTzMiss computes the UTC offset at ts and the interval [ts, next
 * transition) over which it holds, and stores it in the cache.  Intervals
 * with the same end describe one stretch of constant offset, so a new one
 * merges with an existing one by lowering its start.
 */
static int64
RfmTzMiss(RfmTzCache *cache, TimestampTz ts)
{
	pg_time_t	t = RfmFloorDiv(ts, USECS_PER_SEC) + RFM_UNIX_EPOCH_SHIFT;
	struct pg_tm *tm;
	long int	before_gmtoff;
	int			before_isdst;
	pg_time_t	boundary;
	long int	after_gmtoff;
	int			after_isdst;
	int			res;
	int64		offset;
	TimestampTz hi;
	int			lo,
				up;

	tm = pg_localtime(&t, session_timezone);
	if (tm == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	offset = (int64) tm->tm_gmtoff * USECS_PER_SEC;

	res = pg_next_dst_boundary(&t, &before_gmtoff, &before_isdst, &boundary,
							   &after_gmtoff, &after_isdst, session_timezone);
	if (res == 0)
		hi = PG_INT64_MAX;
	else if (res == 1 && boundary > t)
	{
		int64		b = boundary - RFM_UNIX_EPOCH_SHIFT;

		if (pg_mul_s64_overflow(b, USECS_PER_SEC, &hi))
			hi = PG_INT64_MAX;
	}
	else
		return offset;			/* at a transition or failure: do not cache */

	if (hi <= ts)
		return offset;

	/* find the first interval with lo > ts */
	lo = 0;
	up = cache->n;
	while (lo < up)
	{
		int			mid = (lo + up) / 2;

		if (cache->iv[mid].lo > ts)
			up = mid;
		else
			lo = mid + 1;
	}
	if (lo < cache->n && cache->iv[lo].hi == hi && cache->iv[lo].offset == offset)
	{
		cache->iv[lo].lo = ts;
		cache->last = lo;
		return offset;
	}
	if (cache->n == RFM_TZ_SLOTS)
	{
		cache->n = 0;
		lo = 0;
	}
	memmove(&cache->iv[lo + 1], &cache->iv[lo],
			(cache->n - lo) * sizeof(RfmTzInterval));
	cache->iv[lo].lo = ts;
	cache->iv[lo].hi = hi;
	cache->iv[lo].offset = offset;
	cache->n++;
	cache->last = lo;
	return offset;
}

/*
 * RfmLocalDay returns the calendar day (days since 2000-01-01) of a finite
 * timestamptz in the session TimeZone, the same day as ts::date.
 */
int32
RfmLocalDay(RfmTzCache *cache, TimestampTz ts)
{
	int64		offset;
	RfmTzInterval *iv;
	int32		day;

	if (cache->tz != session_timezone)
	{
		cache->tz = session_timezone;
		cache->n = 0;
		cache->last = 0;
	}
	iv = &cache->iv[cache->last];
	if (cache->n > 0 && ts >= iv->lo && ts < iv->hi)
		offset = iv->offset;
	else
	{
		int			lo = 0,
					up = cache->n;

		/* last interval with lo <= ts */
		while (lo < up)
		{
			int			mid = (lo + up) / 2;

			if (cache->iv[mid].lo > ts)
				up = mid;
			else
				lo = mid + 1;
		}
		if (lo > 0 && ts < cache->iv[lo - 1].hi)
		{
			cache->last = lo - 1;
			offset = cache->iv[lo - 1].offset;
		}
		else
			offset = RfmTzMiss(cache, ts);
	}

	/* valid timestamps are far enough from the int64 limits */
	day = (int32) RfmFloorDiv(ts + offset, USECS_PER_DAY);

#ifdef USE_ASSERT_CHECKING
	/* sampled self-check against the server's own conversion */
	if ((cache->lookups++ & 63) == 0)
		Assert(day == RfmSlowDay(ts));
#endif
	return day;
}

/*
 * RfmCheckTimestamp rejects an infinite timestamptz ("what" names it).
 */
void
RfmCheckTimestamp(TimestampTz ts, const char *what)
{
	if (TIMESTAMP_NOT_FINITE(ts))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("%s cannot be infinite", what)));
}

/* ---------------------------------------------------------------------
 * Units
 * ---------------------------------------------------------------------
 */

typedef enum RfmUnit
{
	RFM_UNIT_DAY = 1,
	RFM_UNIT_WEEK = 2,
	RFM_UNIT_MONTH = 3,
	RFM_UNIT_YEAR = 4
} RfmUnit;

static const char *const rfm_unit_names[] = {NULL, "day", "week", "month", "year"};
static const double rfm_unit_days[] = {0.0, 1.0, 7.0, 30.4375, 365.25};

/*
 * RfmParseUnit maps a unit name to its code, or returns 0.
 */
static int
RfmParseUnit(const char *s, int len)
{
	int			u;

	for (u = RFM_UNIT_DAY; u <= RFM_UNIT_YEAR; u++)
		if ((int) strlen(rfm_unit_names[u]) == len &&
			memcmp(rfm_unit_names[u], s, len) == 0)
			return u;
	return 0;
}

/* ---------------------------------------------------------------------
 * The state type clcm.rfm_state
 * ---------------------------------------------------------------------
 */

#define RFM_STATE_VERSION	1
#define RFM_SORTED			0x01	/* days[] strictly increasing */

typedef struct RfmState
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	uint8		version;		/* RFM_STATE_VERSION */
	uint8		unit;			/* RfmUnit */
	uint8		flags;			/* RFM_SORTED */
	uint8		reserved;		/* zero */
	int32		end_day;		/* day of observation_end */
	int32		ndays;			/* entries used in days[] */
	int32		first_day;		/* min(days[]), when ndays > 0 */
	int32		last_day;		/* max(days[]), when ndays > 0 */
	int32		pad;			/* zero */
	int128		first_amount;	/* sum of amounts on first_day, 10^-9 units */
	int128		total;			/* sum of all counted amounts */
	int32		days[FLEXIBLE_ARRAY_MEMBER];	/* purchase days */
} RfmState;

#define RFM_STATE_HDRSZ		offsetof(RfmState, days)
#define RFM_STATE_CAPACITY(s) \
	((int) ((VARSIZE(s) - RFM_STATE_HDRSZ) / sizeof(int32)))
#define RFM_STATE_MAX_DAYS	((int) ((MaxAllocSize - RFM_STATE_HDRSZ) / sizeof(int32)))
/*
 * A new state is 128 bytes (the header and 16 days): palloc rounds small
 * requests up to a power of two anyway, so fewer days would save nothing,
 * and 16 days cover most customers without a growth step.  Growth doubles
 * the size, keeping it a power of two.
 */
#define RFM_INITIAL_SIZE	128
#define RFM_INITIAL_CAPACITY ((int) ((RFM_INITIAL_SIZE - RFM_STATE_HDRSZ) / sizeof(int32)))

#define DatumGetRfmState(x)		((RfmState *) PG_DETOAST_DATUM(x))
#define PG_GETARG_RFM_STATE_P(n) DatumGetRfmState(PG_GETARG_DATUM(n))

/*
 * RfmStateAlloc returns a zeroed state with room for capacity days, in the
 * current memory context.
 */
/*
 * RfmCheckCapacity raises the error for a state of more than
 * RFM_STATE_MAX_DAYS days (the limit of every path that builds a state).
 */
static void
RfmCheckCapacity(int64 capacity)
{
	if (capacity < 0 || capacity > RFM_STATE_MAX_DAYS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many purchase days in one clcm.rfm_summary group")));
}

static RfmState *
RfmStateAlloc(int capacity)
{
	RfmState   *s;
	Size		size;

	RfmCheckCapacity(capacity);
	size = add_size(RFM_STATE_HDRSZ, mul_size(capacity, sizeof(int32)));
	s = (RfmState *) palloc0(size);
	SET_VARSIZE(s, size);
	s->version = RFM_STATE_VERSION;
	s->flags = RFM_SORTED;
	return s;
}

/*
 * RfmStateCopy returns a copy of s with room for at least capacity days.
 */
static RfmState *
RfmStateCopy(const RfmState *s, int capacity)
{
	RfmState   *n;

	if (capacity < s->ndays)
		capacity = s->ndays;
	n = RfmStateAlloc(capacity);
	memcpy(n, s, RFM_STATE_HDRSZ + s->ndays * sizeof(int32));
	SET_VARSIZE(n, RFM_STATE_HDRSZ + capacity * sizeof(int32));
	return n;
}

/*
 * RfmGrownCapacity returns the capacity of a state twice the size of s
 * that holds at least need days.
 */
static int
RfmGrownCapacity(const RfmState *s, int need)
{
	Size		size = VARSIZE(s);
	int			cap;

	do
	{
		if (size > MaxAllocSize / 2)
			return Max(need, RFM_STATE_MAX_DAYS);
		size *= 2;
		cap = (int) ((size - RFM_STATE_HDRSZ) / sizeof(int32));
	} while (cap < need);
	return cap;
}

/* qsort comparator for int32 days */
static int
RfmDayCmp(const void *a, const void *b)
{
	int32		x = *(const int32 *) a;
	int32		y = *(const int32 *) b;

	return (x > y) - (x < y);
}

/*
 * RfmSortUnique sorts days[0..n) and removes duplicates; returns the new n.
 */
static int
RfmSortUnique(int32 *days, int n)
{
	int			i,
				k;

	if (n <= 1)
		return n;
	qsort(days, n, sizeof(int32), RfmDayCmp);
	k = 1;
	for (i = 1; i < n; i++)
		if (days[i] != days[k - 1])
			days[k++] = days[i];
	return k;
}

/*
 * RfmStateCompact sorts and de-duplicates the days of s in place (which
 * does not change the summary it stands for).
 */
static void
RfmStateCompact(RfmState *s)
{
	if (s->flags & RFM_SORTED)
		return;
	s->ndays = RfmSortUnique(s->days, s->ndays);
	s->flags |= RFM_SORTED;
}

/*
 * RfmAddUnits adds b to *a, raising an error when the sum reaches 10^29
 * (10^38 units: the limit of the text form, well inside int128).
 */
static inline void
RfmAddUnits(int128 *a, int128 b)
{
	static int128 max_total = 0;

	if (max_total == 0)
		max_total = RfmPow10(RFM_MAX_TOTAL_E);
	Assert(*a >= 0 && b >= 0);
	*a += b;					/* both below 10^38: no int128 overflow */
	if (*a >= max_total)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("sum of amounts is out of range in clcm.rfm_summary")));
}

/*
 * RfmCheckState validates a state built from outside data.  It is the one
 * validation of both the text input (RfmStateParse) and the binary input
 * (clcm_rfm_state_recv), which only decode their syntax into a state and
 * leave every rule on values to this function, so the two accept exactly
 * the same set of states and whatever one accepts the other can read back
 * from the output of send or out.  These rules are also invariants of the
 * states the aggregate's own functions build.  It first sets first_day and
 * last_day from days[] (they are not part of the external forms).  Returns
 * NULL when valid, else a detail message.
 */
static const char *
RfmCheckState(RfmState *s)
{
	int			i;

	if (s->version != RFM_STATE_VERSION)
		return "The format version is not supported.";
	if (s->unit < RFM_UNIT_DAY || s->unit > RFM_UNIT_YEAR)
		return "The unit is not valid.";
	if ((s->flags & ~RFM_SORTED) != 0 || s->reserved != 0 || s->pad != 0)
		return "Reserved fields must be zero.";
	if (!IS_VALID_DATE(s->end_day))
		return "The observation end is out of range.";
	if (s->ndays < 0 || s->ndays > RFM_STATE_CAPACITY(s))
		return "The number of days is not valid.";
	if (s->first_amount < 0 || s->total < s->first_amount)
		return "The amounts are not consistent.";
	if (s->total >= RfmPow10(RFM_MAX_TOTAL_E))
		return "The sum of amounts must be less than 10^29.";
	if (s->ndays == 0 && s->total != 0)
		return "An empty state must have zero amounts.";

	s->first_day = s->last_day = 0;
	for (i = 0; i < s->ndays; i++)
	{
		int32		d = s->days[i];

		if (!IS_VALID_DATE(d) || d > s->end_day)
			return "A purchase day is out of range.";
		if ((s->flags & RFM_SORTED) && i > 0 && d <= s->days[i - 1])
			return "The days of a sorted state must be strictly increasing.";
		if (i == 0 || d < s->first_day)
			s->first_day = d;
		if (i == 0 || d > s->last_day)
			s->last_day = d;
	}
	return NULL;
}

/* ---------------------------------------------------------------------
 * Text and binary forms of clcm.rfm_state
 *
 * Text: unit=week;end=-824;sorted=1;first_amount=29.33;total=100.5;days=-1095,-1078
 * (days and end are days since 2000-01-01, amounts exact decimals with up
 * to nine fractional digits).
 * ---------------------------------------------------------------------
 */

/*
 * RfmAppendUnits prints a non-negative unit count as an exact decimal.
 */
static void
RfmAppendUnits(StringInfo buf, int128 units)
{
	char		tmp[64];
	int			n = 0;
	int128		ip = units / RFM_AMOUNT_UNITS;
	int64		fp = (int64) (units % RFM_AMOUNT_UNITS);

	Assert(units >= 0);
	do
	{
		tmp[n++] = '0' + (int) (ip % 10);
		ip /= 10;
	} while (ip > 0);
	while (n > 0)
		appendStringInfoChar(buf, tmp[--n]);
	if (fp != 0)
	{
		char		frac[16];
		int			len;

		snprintf(frac, sizeof(frac), "%09lld", (long long) fp);
		len = strlen(frac);
		while (len > 0 && frac[len - 1] == '0')
			len--;
		appendStringInfoChar(buf, '.');
		appendBinaryStringInfo(buf, frac, len);
	}
}

/*
 * RfmShiftDigit returns v * 10 + d, saturating at limit (a power of ten):
 * once v * 10 + d reaches the limit the result is the limit itself.
 */
static inline int128
RfmShiftDigit(int128 v, int d, int128 limit)
{
	return (v < limit / 10) ? v * 10 + d : limit;
}

/*
 * RfmParseUnits reads an exact decimal (digits, optionally '.' and at most
 * nine digits) at *p as a count of 10^-9 units; false when malformed.  A
 * value of 10^29 or more is returned as 10^38 units (out of range, which
 * RfmCheckState reports), so the range rule lives in one place and the
 * int128 cannot overflow.
 */
static bool
RfmParseUnits(const char **p, int128 *out)
{
	const char *s = *p;
	int128		v = 0;
	int			nint = 0,
				nfrac = 0;
	const int128 limit = RfmPow10(RFM_MAX_TOTAL_E);

	while (*s >= '0' && *s <= '9')
	{
		v = RfmShiftDigit(v, *s - '0', limit);
		s++;
		nint++;
	}
	if (nint == 0)
		return false;
	if (*s == '.')
	{
		s++;
		while (*s >= '0' && *s <= '9')
		{
			if (++nfrac > RFM_AMOUNT_SCALE)
				return false;
			v = RfmShiftDigit(v, *s - '0', limit);
			s++;
		}
		if (nfrac == 0)
			return false;
	}
	for (; nfrac < RFM_AMOUNT_SCALE; nfrac++)
		v = RfmShiftDigit(v, 0, limit);
	*out = v;
	*p = s;
	return true;
}

/*
 * RfmParseInt32 reads an optionally signed decimal int32 at *p.
 */
static bool
RfmParseInt32(const char **p, int32 *out)
{
	const char *s = *p;
	bool		neg = false;
	int64		v = 0;
	int			n = 0;

	if (*s == '-')
	{
		neg = true;
		s++;
	}
	while (*s >= '0' && *s <= '9')
	{
		v = v * 10 + (*s - '0');
		if (v > (int64) PG_INT32_MAX + 1)
			return false;
		s++;
		n++;
	}
	if (n == 0)
		return false;
	if (neg)
		v = -v;
	if (v < PG_INT32_MIN || v > PG_INT32_MAX)
		return false;
	*out = (int32) v;
	*p = s;
	return true;
}

/*
 * RfmExpect consumes the literal lit at *p.
 */
static bool
RfmExpect(const char **p, const char *lit)
{
	size_t		len = strlen(lit);

	if (strncmp(*p, lit, len) != 0)
		return false;
	*p += len;
	return true;
}

/*
 * RfmStateParse parses the text form; returns NULL and sets *detail on
 * failure.  It only checks the syntax; the rules on values are
 * RfmCheckState's, shared with the binary input.  Kept apart from the input
 * function so the PG16 soft-error path can be added later.
 */
static RfmState *
RfmStateParse(const char *str, const char **detail)
{
	const char *p = str;
	int			unit = 0;
	int32		end_day;
	int32		sorted;
	int128		first_amount,
				total;
	int			n = 0,
				cap = 8;
	int32	   *days = palloc(cap * sizeof(int32));
	RfmState   *s;
	const char *uend;

	*detail = "Expected unit=<day|week|month|year>;end=<day>;sorted=<0|1>;"
		"first_amount=<decimal>;total=<decimal>;days=<day>[,<day>...].";
	if (!RfmExpect(&p, "unit="))
		return NULL;
	uend = strchr(p, ';');
	if (uend == NULL || (unit = RfmParseUnit(p, uend - p)) == 0)
		return NULL;
	p = uend;
	if (!RfmExpect(&p, ";end=") || !RfmParseInt32(&p, &end_day) ||
		!RfmExpect(&p, ";sorted=") || !RfmParseInt32(&p, &sorted) ||
		(sorted != 0 && sorted != 1) ||
		!RfmExpect(&p, ";first_amount=") || !RfmParseUnits(&p, &first_amount) ||
		!RfmExpect(&p, ";total=") || !RfmParseUnits(&p, &total) ||
		!RfmExpect(&p, ";days="))
		return NULL;
	if (*p != '\0')
	{
		for (;;)
		{
			int32		d;

			if (!RfmParseInt32(&p, &d))
				return NULL;
			if (n == cap)
			{
				/* the same limit as every other way to build a state */
				RfmCheckCapacity((int64) n + 1);
				cap = (int) Min((int64) cap * 2, (int64) RFM_STATE_MAX_DAYS);
				days = repalloc(days, cap * sizeof(int32));
			}
			days[n++] = d;
			if (*p == '\0')
				break;
			if (*p != ',')
				return NULL;
			p++;
		}
	}

	s = RfmStateAlloc(n);
	s->unit = unit;
	s->end_day = end_day;
	s->flags = sorted ? RFM_SORTED : 0;
	s->first_amount = first_amount;
	s->total = total;
	s->ndays = n;
	memcpy(s->days, days, n * sizeof(int32));
	pfree(days);
	*detail = RfmCheckState(s);
	return *detail ? NULL : s;
}

PG_FUNCTION_INFO_V1(clcm_rfm_state_in);

/*
 * clcm_rfm_state_in: text input of clcm.rfm_state.
 */
Datum
clcm_rfm_state_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	const char *detail;
	RfmState   *s = RfmStateParse(str, &detail);

	if (s == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type %s: \"%s\"",
						"rfm_state", str),
				 errdetail_internal("%s", detail)));
	PG_RETURN_POINTER(s);
}

PG_FUNCTION_INFO_V1(clcm_rfm_state_out);

/*
 * clcm_rfm_state_out: text output; exact, so in(out(x)) = x.
 */
Datum
clcm_rfm_state_out(PG_FUNCTION_ARGS)
{
	RfmState   *s = PG_GETARG_RFM_STATE_P(0);
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	appendStringInfo(&buf, "unit=%s;end=%d;sorted=%d;first_amount=",
					 rfm_unit_names[s->unit], s->end_day,
					 (s->flags & RFM_SORTED) ? 1 : 0);
	RfmAppendUnits(&buf, s->first_amount);
	appendStringInfoString(&buf, ";total=");
	RfmAppendUnits(&buf, s->total);
	appendStringInfoString(&buf, ";days=");
	for (i = 0; i < s->ndays; i++)
		appendStringInfo(&buf, i ? ",%d" : "%d", s->days[i]);
	PG_RETURN_CSTRING(buf.data);
}

/* int128 <-> two int64 for the binary form */
static void
RfmSendInt128(StringInfo buf, int128 v)
{
	pq_sendint64(buf, (int64) (v >> 64));
	pq_sendint64(buf, (int64) (uint64) v);
}

static int128
RfmRecvInt128(StringInfo buf)
{
	int64		hi = pq_getmsgint64(buf);
	uint64		lo = (uint64) pq_getmsgint64(buf);

	return (int128) (((uint128) (uint64) hi << 64) | lo);
}

PG_FUNCTION_INFO_V1(clcm_rfm_state_send);

/*
 * clcm_rfm_state_send: binary output (version, unit, flags, end, sums,
 * days), network byte order.
 */
Datum
clcm_rfm_state_send(PG_FUNCTION_ARGS)
{
	RfmState   *s = PG_GETARG_RFM_STATE_P(0);
	StringInfoData buf;
	int			i;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, s->version);
	pq_sendbyte(&buf, s->unit);
	pq_sendbyte(&buf, s->flags);
	pq_sendint32(&buf, s->end_day);
	RfmSendInt128(&buf, s->first_amount);
	RfmSendInt128(&buf, s->total);
	pq_sendint32(&buf, s->ndays);
	for (i = 0; i < s->ndays; i++)
		pq_sendint32(&buf, s->days[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(clcm_rfm_state_recv);

/*
 * clcm_rfm_state_recv: binary input.  It only decodes the fields; the
 * values are validated by RfmCheckState, the same function as the text
 * input's, so both accept the same states.
 */
Datum
clcm_rfm_state_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	uint8		version,
				unit,
				flags;
	int32		end_day,
				n;
	int128		first_amount,
				total;
	RfmState   *s;
	const char *detail;
	int			i;

	version = pq_getmsgbyte(buf);
	unit = pq_getmsgbyte(buf);
	flags = pq_getmsgbyte(buf);
	end_day = pq_getmsgint(buf, 4);
	first_amount = RfmRecvInt128(buf);
	total = RfmRecvInt128(buf);
	n = pq_getmsgint(buf, 4);
	if (n < 0 || (Size) n > (Size) (buf->len - buf->cursor) / sizeof(int32))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid number of days in external \"rfm_state\" value")));
	s = RfmStateAlloc(n);
	s->version = version;
	s->unit = unit;
	s->flags = flags;
	s->end_day = end_day;
	s->first_amount = first_amount;
	s->total = total;
	s->ndays = n;
	for (i = 0; i < n; i++)
		s->days[i] = pq_getmsgint(buf, 4);
	detail = RfmCheckState(s);
	if (detail != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid external \"rfm_state\" value"),
				 errdetail_internal("%s", detail)));
	PG_RETURN_POINTER(s);
}

/* ---------------------------------------------------------------------
 * Transition, combine and final functions
 * ---------------------------------------------------------------------
 */

/* per-call-site cache (fn_extra of the transition function) */
typedef struct RfmCallCache
{
	bool		end_valid;
	TimestampTz end_ts;			/* last observation_end seen */
	const pg_tz *end_tz;		/* zone its day was computed in */
	int32		end_day;
	int			unit;			/* last unit parsed */
	int			unit_len;
	char		unit_text[8];
	RfmTzCache	tz;
} RfmCallCache;

/*
 * RfmGetCache returns the transition function's cache, creating it.
 */
static RfmCallCache *
RfmGetCache(FunctionCallInfo fcinfo)
{
	RfmCallCache *c = (RfmCallCache *) fcinfo->flinfo->fn_extra;

	if (c == NULL)
	{
		c = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(RfmCallCache));
		fcinfo->flinfo->fn_extra = c;
	}
	return c;
}

/*
 * RfmArgUnit parses the unit argument (argno), or returns the default day
 * when the aggregate has no unit argument.
 */
static int
RfmArgUnit(FunctionCallInfo fcinfo, RfmCallCache *c, int argno)
{
	text	   *t;
	const char *s;
	int			len;

	if (argno >= PG_NARGS())
		return RFM_UNIT_DAY;
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("unit of clcm.rfm_summary cannot be NULL")));
	t = (text *) PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(argno));
	s = VARDATA_ANY(t);
	len = VARSIZE_ANY_EXHDR(t);
	if (c->unit != 0 && len == c->unit_len && memcmp(s, c->unit_text, len) == 0)
		return c->unit;
	c->unit = RfmParseUnit(s, len);
	if (c->unit == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unrecognized unit \"%s\" for clcm.rfm_summary",
						text_to_cstring(t)),
				 errhint("Valid units are day, week, month and year.")));
	c->unit_len = len;
	memcpy(c->unit_text, s, len);
	return c->unit;
}

/*
 * RfmArgEnd returns the calendar day of observation_end (argno).
 */
static int32
RfmArgEnd(FunctionCallInfo fcinfo, RfmCallCache *c, int argno)
{
	TimestampTz end;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("observation_end of clcm.rfm_summary cannot be NULL")));
	end = PG_GETARG_TIMESTAMPTZ(argno);
	if (c->end_valid && end == c->end_ts && c->end_tz == session_timezone)
		return c->end_day;
	RfmCheckTimestamp(end, "observation_end");
	c->end_day = RfmLocalDay(&c->tz, end);
	c->end_ts = end;
	c->end_tz = session_timezone;
	c->end_valid = true;
	return c->end_day;
}

/*
 * RfmTransition is the body of both transition functions: tsarg, amtarg
 * (-1: no amount), endarg and unitarg are argument numbers.  Outside an
 * aggregate (a direct call) the state argument is copied, not changed.
 */
static Datum
RfmTransition(FunctionCallInfo fcinfo, int tsarg, int amtarg, int endarg,
			  int unitarg)
{
	MemoryContext aggcontext;
	RfmState   *s;
	RfmCallCache *c;
	TimestampTz ts;
	int128		amount = 0;
	int32		day,
				end_day;
	int			unit;

	if (PG_ARGISNULL(0))
		s = NULL;
	else if (AggCheckCallContext(fcinfo, &aggcontext))
		s = (RfmState *) PG_GETARG_POINTER(0);	/* ours: change in place */
	else
	{
		/* called directly: never modify the argument */
		s = PG_GETARG_RFM_STATE_P(0);
		s = RfmStateCopy(s, s->ndays + 1);
	}

	/* a row without a timestamp is not a purchase: skip it */
	if (PG_ARGISNULL(tsarg))
	{
		if (s == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(s);
	}

	c = RfmGetCache(fcinfo);
	ts = PG_GETARG_TIMESTAMPTZ(tsarg);
	RfmCheckTimestamp(ts, "purchase timestamp");
	if (amtarg >= 0)
	{
		if (PG_ARGISNULL(amtarg))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("amount of clcm.rfm_summary cannot be NULL"),
					 errhint("Use coalesce(amount, 0) to count such purchases with no value, or filter them out.")));
		RfmCheckAmount(RfmNumericToUnits(PG_GETARG_DATUM(amtarg), &amount),
					   "amount");
	}
	end_day = RfmArgEnd(fcinfo, c, endarg);
	unit = RfmArgUnit(fcinfo, c, unitarg);
	day = RfmLocalDay(&c->tz, ts);

	if (s == NULL)
	{
		s = RfmStateAlloc(RFM_INITIAL_CAPACITY);
		s->unit = unit;
		s->end_day = end_day;
	}
	else if (s->end_day != end_day || s->unit != unit)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("observation_end and unit must be the same for all rows of a clcm.rfm_summary group"),
				 errdetail("observation_end must fall on the same calendar day in every row.")));

	/* purchases after the observation end are not observed yet */
	if (day > end_day)
		PG_RETURN_POINTER(s);

	if (s->ndays == 0)
	{
		if (RFM_STATE_CAPACITY(s) < 1)
			s = RfmStateCopy(s, RFM_INITIAL_CAPACITY);
		s->days[0] = day;
		s->ndays = 1;
		s->first_day = s->last_day = day;
		s->first_amount = amount;
		s->total = amount;
		PG_RETURN_POINTER(s);
	}

	RfmAddUnits(&s->total, amount);
	if (day == s->first_day)
		RfmAddUnits(&s->first_amount, amount);
	else if (day < s->first_day)
	{
		s->first_day = day;
		s->first_amount = amount;
	}
	if (day > s->last_day)
		s->last_day = day;

	/* fast path: same day as the last row, or in order */
	if (day == s->days[s->ndays - 1])
		PG_RETURN_POINTER(s);
	if (day < s->days[s->ndays - 1])
		s->flags &= ~RFM_SORTED;

	if (s->ndays == RFM_STATE_CAPACITY(s))
	{
		int			cap = RFM_STATE_CAPACITY(s);

		RfmStateCompact(s);
		if (s->ndays > cap / 2)
		{
			/* grow: a copy in the per-tuple context, the executor keeps it */
			s = RfmStateCopy(s, RfmGrownCapacity(s, cap + 1));
		}
		/* after compaction the day may already be present */
		if (!(s->flags & RFM_SORTED) || day > s->days[s->ndays - 1])
			s->days[s->ndays++] = day;
		else if (bsearch(&day, s->days, s->ndays, sizeof(int32), RfmDayCmp) == NULL)
		{
			s->days[s->ndays++] = day;
			s->flags &= ~RFM_SORTED;
		}
		PG_RETURN_POINTER(s);
	}
	s->days[s->ndays++] = day;
	PG_RETURN_POINTER(s);
}

PG_FUNCTION_INFO_V1(clcm_rfm_summary_transfn);

/*
 * clcm_rfm_summary_transfn(state, ts, amount, observation_end [, unit]).
 * Not strict: a NULL ts skips the row, a NULL elsewhere is an error.
 */
Datum
clcm_rfm_summary_transfn(PG_FUNCTION_ARGS)
{
	return RfmTransition(fcinfo, 1, 2, 3, 4);
}

PG_FUNCTION_INFO_V1(clcm_rfm_summary_noamount_transfn);

/*
 * clcm_rfm_summary_noamount_transfn(state, ts, observation_end [, unit]):
 * the same without amounts (monetary is NULL).
 */
Datum
clcm_rfm_summary_noamount_transfn(PG_FUNCTION_ARGS)
{
	return RfmTransition(fcinfo, 1, -1, 2, 3);
}

PG_FUNCTION_INFO_V1(clcm_rfm_summary_combine);

/*
 * clcm_rfm_summary_combine merges two partial states (strict: the executor
 * copies the first non-NULL state itself).  In aggregate context the first
 * state is changed in place when it has room; called directly (to merge
 * stored states) it works on a copy.
 */
Datum
clcm_rfm_summary_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	RfmState   *a;
	RfmState   *b = PG_GETARG_RFM_STATE_P(1);
	bool		sorted;
	int			i0;

	a = PG_GETARG_RFM_STATE_P(0);
	if (!AggCheckCallContext(fcinfo, &aggcontext))
		a = RfmStateCopy(a, a->ndays);	/* called directly: keep the argument */

	if (a->end_day != b->end_day || a->unit != b->unit)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("observation_end and unit must be the same for all rows of a clcm.rfm_summary group")));
	if (b->ndays == 0)
		PG_RETURN_POINTER(a);
	if (a->ndays == 0)
		PG_RETURN_POINTER(RfmStateCopy(b, b->ndays));

	RfmAddUnits(&a->total, b->total);
	if (b->first_day == a->first_day)
		RfmAddUnits(&a->first_amount, b->first_amount);
	else if (b->first_day < a->first_day)
	{
		a->first_day = b->first_day;
		a->first_amount = b->first_amount;
	}

	/* make room: compact first, grow only if that is not enough */
	if (a->ndays + b->ndays > RFM_STATE_CAPACITY(a))
	{
		RfmStateCompact(a);
		if (a->ndays + b->ndays > RFM_STATE_CAPACITY(a))
		{
			int			need = a->ndays + b->ndays;

			a = RfmStateCopy(a, RfmGrownCapacity(a, need));
		}
	}

	/* concatenate the days, skipping b's first if it repeats a's last */
	i0 = (b->days[0] == a->days[a->ndays - 1]) ? 1 : 0;
	sorted = (a->flags & RFM_SORTED) && (b->flags & RFM_SORTED) &&
		b->days[0] >= a->days[a->ndays - 1];
	memcpy(&a->days[a->ndays], &b->days[i0], (b->ndays - i0) * sizeof(int32));
	a->ndays += b->ndays - i0;
	a->last_day = Max(a->last_day, b->last_day);
	if (sorted)
		a->flags |= RFM_SORTED;
	else
		a->flags &= ~RFM_SORTED;
	PG_RETURN_POINTER(a);
}

/*
 * RfmFinal builds the clcm.rfm_summary row; with_amount false leaves
 * monetary NULL.  The state is not modified (FINALFUNC_MODIFY READ_ONLY).
 */
static Datum
RfmFinal(FunctionCallInfo fcinfo, bool with_amount)
{
	RfmState   *s;
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	int			distinct;
	int32		frequency;
	double		ud;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	s = PG_GETARG_RFM_STATE_P(0);
	if (s->ndays == 0)
		PG_RETURN_NULL();			/* every purchase after observation_end */

	tupdesc = (TupleDesc) fcinfo->flinfo->fn_extra;
	if (tupdesc == NULL)
	{
		MemoryContext old;

		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type of clcm.rfm_summary must be a row type");
		old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
		tupdesc = BlessTupleDesc(CreateTupleDescCopy(tupdesc));
		MemoryContextSwitchTo(old);
		fcinfo->flinfo->fn_extra = tupdesc;
	}

	if (s->flags & RFM_SORTED)
		distinct = s->ndays;
	else
	{
		int32	   *copy = palloc(s->ndays * sizeof(int32));

		memcpy(copy, s->days, s->ndays * sizeof(int32));
		distinct = RfmSortUnique(copy, s->ndays);
		pfree(copy);
	}
	frequency = distinct - 1;
	ud = rfm_unit_days[s->unit];

	values[0] = Int32GetDatum(frequency);
	values[1] = Float8GetDatum((double) (s->last_day - s->first_day) / ud);
	values[2] = Float8GetDatum((double) (s->end_day - s->first_day) / ud);
	if (!with_amount)
		nulls[3] = true;
	else if (frequency == 0)
		values[3] = Float8GetDatum(0.0);
	else
		values[3] = Float8GetDatum((double) ((long double) (s->total - s->first_amount) /
											 (long double) RFM_AMOUNT_UNITS /
											 (long double) frequency));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

PG_FUNCTION_INFO_V1(clcm_rfm_summary_final);

/*
 * clcm_rfm_summary_final: the summary row of a group, NULL when no
 * purchase was observed.
 */
Datum
clcm_rfm_summary_final(PG_FUNCTION_ARGS)
{
	return RfmFinal(fcinfo, true);
}

PG_FUNCTION_INFO_V1(clcm_rfm_summary_noamount_final);

/*
 * clcm_rfm_summary_noamount_final: the same with monetary NULL.
 */
Datum
clcm_rfm_summary_noamount_final(PG_FUNCTION_ARGS)
{
	return RfmFinal(fcinfo, false);
}
