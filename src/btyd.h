/*-------------------------------------------------------------------------
 *
 * btyd.h
 *	  Shared declarations of the BTYD ("buy till you die") models: the one
 *	  on-disk struct behind the five model types (clcm.bgnbd,
 *	  clcm.pareto_nbd, clcm.mbgnbd, clcm.bgbb, clcm.gamma_gamma), the
 *	  histogram state of the fitting aggregates, the likelihoods and the
 *	  optimizer.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLCM_BTYD_H
#define CLCM_BTYD_H

#include "postgres.h"

#include "fmgr.h"

/* model kinds; the values are stored on disk: never renumber */
typedef enum BtydKind
{
	BTYD_BGNBD = 1,
	BTYD_PARETO = 2,
	BTYD_MBGNBD = 3,
	BTYD_BGBB = 4,
	BTYD_GG = 5
} BtydKind;

#define BTYD_NKINDS 5

/* most opportunities of a BG/BB customer (its likelihood sums over them) */
#define BTYD_BGBB_MAX_N 1e6
#define BTYD_MAX_PARAMS 4

/* flags of ClcmBtydModel */
#define BTYD_HAS_LL			0x0001
#define BTYD_HAS_N			0x0002
#define BTYD_HAS_CONVERGED	0x0004
#define BTYD_CONVERGED		0x0008
#define BTYD_HAS_ITER		0x0010
#define BTYD_ALL_FLAGS		0x001F

/* format version of ClcmBtydModel */
#define BTYD_MODEL_VERSION 1

/*
 * A fitted or user-given model.  The same struct serves the five types; the
 * kind tag says which, and the input and receive functions of each type
 * refuse a value of another kind.  Fixed size (64 bytes) inside a varlena
 * so the format can grow: a new version number, unknown flags refused.
 */
typedef struct ClcmBtydModel
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	uint8		kind;			/* BtydKind */
	uint8		version;		/* BTYD_MODEL_VERSION */
	uint16		flags;			/* BTYD_* flags, other bits zero */
	int32		iterations;		/* optimizer iterations (BTYD_HAS_ITER) */
	int32		reserved;		/* zero */
	float8		n;				/* customers (weight) fitted (BTYD_HAS_N) */
	float8		ll;				/* log-likelihood at the optimum (BTYD_HAS_LL) */
	float8		param[BTYD_MAX_PARAMS]; /* parameters, unused ones zero */
} ClcmBtydModel;

#define PG_GETARG_BTYD_MODEL_P(n) \
	((ClcmBtydModel *) PG_DETOAST_DATUM(PG_GETARG_DATUM(n)))

/* static description of a kind */
typedef struct BtydKindInfo
{
	const char *name;			/* type name, e.g. "bgnbd" */
	int			nparams;
	const char *param_names[BTYD_MAX_PARAMS];
} BtydKindInfo;

extern const BtydKindInfo clcm_btyd_kinds[BTYD_NKINDS + 1];

/* one row of the fitting histogram */
typedef struct BtydEntry
{
	float8		x;				/* frequency */
	float8		y;				/* recency (monetary for gamma_gamma) */
	float8		z;				/* t (n for bgbb; 0 for gamma_gamma) */
	float8		w;				/* weight: number of customers */
} BtydEntry;

/*
 * State of the fitting aggregates: a histogram of distinct input rows with
 * their weights.  It is an ordinary varlena (SQL type
 * clcm.btyd_fit_state), so parallel plans and Citus can ship it; spare
 * capacity past nused is zero.
 */
typedef struct BtydState
{
	int32		vl_len_;		/* varlena header */
	uint8		kind;			/* BtydKind of the aggregate */
	uint8		version;		/* BTYD_STATE_VERSION */
	uint16		flags;			/* reserved, zero */
	int32		nused;			/* entries in use */
	float8		penalizer;		/* L2 penalizer (>= 0) */
	BtydEntry	e[FLEXIBLE_ARRAY_MEMBER];
} BtydState;

#define BTYD_STATE_VERSION 1
#define BTYD_STATE_HDRSZ offsetof(BtydState, e)
#define BtydStateCapacity(s) \
	((int) ((VARSIZE(s) - BTYD_STATE_HDRSZ) / sizeof(BtydEntry)))

/* btyd_type.c */
extern ClcmBtydModel *clcm_btyd_model_make(BtydKind kind, const double *param);
extern void clcm_btyd_check_params(BtydKind kind, const double *param);
extern ClcmBtydModel *clcm_btyd_model_arg(FunctionCallInfo fcinfo, int argno);

/* btyd_fit.c: log-likelihood of one histogram row, for the scoring code */
extern double clcm_btyd_row_ll(BtydKind kind, const double *param,
							   const BtydEntry *e);
extern double clcm_pareto_log_a0_term(const double *param, double x,
									  double tx, double t);

#endif							/* CLCM_BTYD_H */
