/*-------------------------------------------------------------------------
 *
 * cohort.h
 *	  Declarations shared by the retention-cohort code (src/cohort.c,
 *	  src/cohort_io.c): calendar periods, the options of a retention
 *	  aggregate, and the on-disk layouts of clcm.retention_matrix and
 *	  clcm.retention_activity.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLCM_COHORT_H
#define CLCM_COHORT_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "pgtime.h"

/* calendar period units; the numbers are stored on disk */
#define RP_DAY		0
#define RP_WEEK		1
#define RP_MONTH	2
#define RP_QUARTER	3
#define RP_YEAR		4

/* flags of a matrix / activity value; stored on disk */
#define RF_RECURRING	0x01	/* every active period starts a cohort */
#define RF_REVENUE		0x02	/* amounts are summed as well */
#define RF_AS_OF		0x04	/* as_of is set */
#define RF_ALL			0x07

/* longest time zone name we store (pgtime.h TZ_STRLEN_MAX is 255) */
#define RET_TZ_MAX		TZ_STRLEN_MAX

/* a matrix may have at most this many cells (triangle of cohorts x periods) */
#define RET_MAX_CELLS	((int64) 16 * 1024 * 1024)

/*
 * A triangle of RET_MAX_CELLS cells has at most 5792 cohorts; one
 * customer's bitmap may span that many periods plus alignment: 93 words.
 */
#define RET_MAX_WORDS	93

/*
 * Options of one retention aggregate call, resolved once per group.
 */
typedef struct RetCfg
{
	uint8		unit;			/* RP_* */
	uint8		week_start;		/* 0 = sunday .. 6 = saturday */
	uint8		flags;			/* RF_* */
	bool		utc;			/* fast path: boundaries in UTC */
	pg_tz	   *tz;				/* time zone for boundaries (NULL when utc) */
	TimestampTz as_of;			/* valid when flags & RF_AS_OF */
	char		tzname[RET_TZ_MAX + 1];
} RetCfg;

/*
 * clcm.retention_matrix: cohorts first..last (period indexes), a triangle
 * of cells (cohort i has last - first + 1 - i cells, offsets 0..), and
 * per cell: customers active (classic), customers whose last active
 * period is that offset (unbounded = suffix sums), revenue when RF_REVENUE.
 * Layout after the header: tz name (tzlen bytes, NUL padded to 8),
 * int64 size[ncoh], int64 active[ncells], int64 lastk[ncells],
 * float8 rev[ncells] (RF_REVENUE only).
 */
typedef struct RetentionMatrix
{
	int32		vl_len_;
	uint8		version;		/* RET_FORMAT_VERSION */
	uint8		unit;
	uint8		week_start;
	uint8		flags;
	int32		first;			/* first cohort period index */
	int32		last;			/* last period that can hold data */
	int32		complete;		/* last period that has ended */
	int32		tzlen;			/* bytes of the padded tz name */
	int64		as_of;			/* RF_AS_OF: the cut-off, else 0 */
	int64		data_end;		/* latest timestamp seen */
	char		data[FLEXIBLE_ARRAY_MEMBER];
} RetentionMatrix;

/*
 * clcm.retention_activity: one customer's activity: the periods it was
 * active in as a bitmap of nwords 64-bit words starting at period
 * 64 * wbase, and (RF_REVENUE) the amount summed per active period, in
 * period order. Layout after the header: tz name (tzlen bytes, padded),
 * uint64 words[nwords], RetRevItem rev[nrev].
 */
typedef struct RetentionActivity
{
	int32		vl_len_;
	uint8		version;
	uint8		unit;
	uint8		week_start;
	uint8		flags;
	int32		wbase;
	int32		nwords;
	int32		nrev;
	int32		tzlen;
	int32		last;			/* last period that can hold data */
	int32		complete;		/* last period ended at data_end */
	int64		as_of;
	int64		data_end;		/* this customer's latest timestamp */
	char		data[FLEXIBLE_ARRAY_MEMBER];
} RetentionActivity;

typedef struct RetRevItem
{
	int32		period;
	int32		pad;			/* zero */
	float8		amount;
} RetRevItem;

#define RET_FORMAT_VERSION	1

#define PG_GETARG_RETMATRIX_P(n) ((RetentionMatrix *) PG_DETOAST_DATUM(PG_GETARG_DATUM(n)))
#define PG_GETARG_RETACTIVITY_P(n) ((RetentionActivity *) PG_DETOAST_DATUM(PG_GETARG_DATUM(n)))

#endif							/* CLCM_COHORT_H */
