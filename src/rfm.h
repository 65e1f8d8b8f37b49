/*-------------------------------------------------------------------------
 *
 * rfm.h
 *	  Declarations shared by the RFM and simple-CLV source files
 *	  (rfm.c, rfm_score.c): exact money amounts and the timestamptz to
 *	  calendar-day conversion.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLCM_RFM_H
#define CLCM_RFM_H

#include "postgres.h"

#include "pgtime.h"
#include "datatype/timestamp.h"

/*
 * Amounts are kept as exact 128-bit integers counting units of 10^-9
 * (a nano-dollar), so sums do not depend on row order or on the plan.
 */
#ifndef HAVE_INT128
#error "clcm needs a compiler with a 128-bit integer type"
#endif

#define RFM_AMOUNT_SCALE	9
#define RFM_AMOUNT_UNITS	INT64CONST(1000000000)	/* units per 1.0 */

/* result of RfmNumericToUnits() */
typedef enum RfmAmountStatus
{
	RFM_AMOUNT_OK = 0,
	RFM_AMOUNT_NEGATIVE,
	RFM_AMOUNT_NAN,
	RFM_AMOUNT_INFINITE,
	RFM_AMOUNT_TOO_LARGE
} RfmAmountStatus;

extern RfmAmountStatus RfmNumericToUnits(Datum num, int128 *units);
extern void RfmCheckAmount(RfmAmountStatus status, const char *what);
extern double RfmUnitsToDouble(int128 units);

/*
 * Calendar days of timestamptz values in the session time zone.  A cache of
 * intervals with a constant UTC offset makes the conversion cheap; it is
 * kept per call site (fn_extra) and tied to the zone it was built for.
 */
#define RFM_TZ_SLOTS 64

typedef struct RfmTzInterval
{
	TimestampTz lo;				/* first instant covered (inclusive) */
	TimestampTz hi;				/* end of the interval (exclusive) */
	int64		offset;			/* UTC offset in microseconds */
} RfmTzInterval;

typedef struct RfmTzCache
{
	const pg_tz *tz;			/* zone the intervals belong to */
	int			n;				/* intervals in use, sorted by lo */
	int			last;			/* interval of the previous hit */
	uint32		lookups;		/* for sampled self-checks */
	RfmTzInterval iv[RFM_TZ_SLOTS];
} RfmTzCache;

extern int32 RfmLocalDay(RfmTzCache *cache, TimestampTz ts);
extern void RfmCheckTimestamp(TimestampTz ts, const char *what);

#endif							/* CLCM_RFM_H */
