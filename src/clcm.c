/*-------------------------------------------------------------------------
 *
 * clcm.c
 *	  Module magic, _PG_init and the clcm.* configuration settings.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "clcm.h"

PG_MODULE_MAGIC;

/* clcm.enforce: validate stage transitions (off = recorded as override) */
bool		clcm_enforce = true;

/* clcm.reason: free text copied into clcm.stage_history.reason */
char	   *clcm_reason = NULL;

/* clcm.activity_cache_size: slots of track_activity's TID cache */
int			clcm_activity_cache_size = 262144;

void		_PG_init(void);

/*
 * Module load: define the settings and reserve the "clcm." prefix.
 */
void
_PG_init(void)
{
	DefineCustomBoolVariable("clcm.enforce",
							 "Validates lifecycle stage transitions in clcm.stage_guard.",
							 "When off, forbidden transitions are accepted and recorded "
							 "in clcm.stage_history as overrides.",
							 &clcm_enforce,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("clcm.reason",
							   "Reason recorded with each stage change in clcm.stage_history.",
							   NULL,
							   &clcm_reason,
							   NULL,
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("clcm.activity_cache_size",
							"Slots of the per-backend cache of where clcm.track_activity found each customer's rows.",
							"Each slot takes 20 bytes; rounded down to a power of two; 0 turns the cache off.",
							&clcm_activity_cache_size,
							262144,
							0, 1 << 22,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("clcm");
}

PG_FUNCTION_INFO_V1(clcm_version);

/*
 * clcm_version() returns the version string of the shared library, so a
 * DBA can see whether the library and the installed SQL objects agree.
 */
Datum
clcm_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(CLCM_VERSION));
}
