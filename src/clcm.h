/*-------------------------------------------------------------------------
 *
 * clcm.h
 *	  Shared declarations of the clcm extension: version guards, GUC
 *	  variables and small helpers used by more than one source file.
 *
 * All PostgreSQL version checks live here, not in function bodies.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLCM_H
#define CLCM_H

#include "postgres.h"

#if PG_VERSION_NUM < 150000
#error "clcm requires PostgreSQL 15 or later"
#endif

/* Schema that holds every clcm object (clcm.control: schema = clcm). */
#define CLCM_SCHEMA "clcm"

/* Version of the shared library; set from the Makefile. */
#ifndef CLCM_VERSION
#define CLCM_VERSION "0.1.0"
#endif

/* GUC variables (defined in clcm.c) */
extern bool clcm_enforce;
extern char *clcm_reason;
extern int	clcm_activity_cache_size;

#endif							/* CLCM_H */
