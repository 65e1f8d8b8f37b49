/*-------------------------------------------------------------------------
 *
 * stage.h
 *	  Lifecycle models as the stage guard sees them: a per-backend cache of
 *	  each model's stages and allowed transitions, keyed by stage type.
 *
 * The cache lives in src/model.c; src/stage.c (the guard) and the SQL
 * functions can_transition / next_stages read it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLCM_STAGE_H
#define CLCM_STAGE_H

#include "postgres.h"

/*
 * One cached model.  Stage positions are funnel positions 0 .. nstages-1
 * (the enum's sort order).  allowed[from * nstages + to] says whether the
 * model lets a customer move from position "from" to position "to".
 */
typedef struct ClcmModel
{
	Oid			typid;			/* hash key: the enum stage type */
	uint32		type_hash;		/* syscache hash of typid in TYPEOID */
	bool		valid;			/* false once invalidated */
	bool		is_model;		/* false: the type is not a clcm stage type */
	char		name[NAMEDATALEN];	/* model name */
	int			nstages;
	Oid		   *values;			/* enum value OIDs in funnel order */
	char	  **labels;			/* stage labels in funnel order */
	Oid		   *sorted_values;	/* enum value OIDs ascending ... */
	int		   *sorted_pos;		/* ... and their funnel positions */
	bool	   *allowed;		/* nstages * nstages */
	MemoryContext cxt;			/* holds the arrays above */
} ClcmModel;

/* Returns the (valid) cache entry of a type; check is_model. */
extern ClcmModel *ClcmModelLookup(Oid typid);

/* Funnel position of an enum value of the model's type. */
extern int	ClcmModelStagePosition(ClcmModel *model, Oid value);

/* Whether moving from position "from" to position "to" is allowed. */
static inline bool
ClcmModelAllows(ClcmModel *model, int from, int to)
{
	return from == to || model->allowed[from * model->nstages + to];
}

/* OIDs of clcm.stage_history and its id sequence (cached). */
extern Oid	ClcmHistoryRelid(void);
extern Oid	ClcmHistorySeqRelid(void);

#endif							/* CLCM_STAGE_H */
