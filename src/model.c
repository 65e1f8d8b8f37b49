/*-------------------------------------------------------------------------
 *
 * model.c
 *	  Lifecycle models: the per-backend transition cache and the SQL
 *	  functions can_transition(), next_stages() and the cache-invalidation
 *	  trigger of clcm.model / clcm.transition.
 *
 * Design.  A model's stage type is an enum; its stages are the enum's
 * labels in sort order (the funnel order).  The first time a backend meets
 * a stage type it reads the enum labels from the syscache and the model's
 * transitions from clcm.model / clcm.transition with two parameterised SPI
 * queries, and keeps an "allowed" bitmap over funnel positions in a hash
 * table keyed by the type OID.  Types that are not stage types are cached
 * too (is_model = false), so a misattached guard costs no query per row.
 *
 * Invalidation.  A statement trigger on clcm.model and clcm.transition
 * (clcm_model_cache_invalidate) sends a relcache invalidation for the
 * table; our relcache callback marks every entry invalid when it sees one
 * of those tables (or a full reset).  A syscache callback on pg_enum does
 * the same when enum labels change (ALTER TYPE ... ADD VALUE, RENAME
 * VALUE); one on pg_type invalidates the entry of a changed or dropped
 * type.  An invalidation arriving while an entry is being loaded makes the
 * load start over (a generation counter, as the relcache does).  Entries are rebuilt lazily on the next lookup;
 * an invalid entry's memory is released only then, so a caller holding a
 * pointer across an invalidation keeps valid memory until its next lookup.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/catcache.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "clcm.h"
#include "stage.h"

/* model cache: stage type OID -> ClcmModel */
static HTAB *ClcmModelCache = NULL;

/* cached OIDs of clcm's own tables (InvalidOid = look up again) */
static Oid	ClcmModelRelid = InvalidOid;
static Oid	ClcmTransitionRelid = InvalidOid;
static Oid	ClcmStageHistoryRelid = InvalidOid;
static Oid	ClcmStageHistorySeqRelid = InvalidOid;

static bool ClcmCallbacksRegistered = false;

/* bumped by every invalidation; a load that saw it change is redone */
static uint64 ClcmInvalGeneration = 0;

/* one enum label while loading */
typedef struct StageItem
{
	Oid			oid;
	float4		sortorder;
	char	   *label;
} StageItem;

/*
 * Marks every cache entry invalid.  Called from invalidation callbacks, so
 * it must not access catalogs nor free memory that callers may still use.
 */
static void
ClcmModelCacheInvalidateAll(void)
{
	HASH_SEQ_STATUS status;
	ClcmModel  *entry;

	ClcmInvalGeneration++;
	if (ClcmModelCache == NULL)
		return;
	hash_seq_init(&status, ClcmModelCache);
	while ((entry = (ClcmModel *) hash_seq_search(&status)) != NULL)
		entry->valid = false;
}

/*
 * Relcache callback: a change of clcm.model or clcm.transition (signalled
 * by their statement triggers), of the history table, or a full reset.
 */
static void
ClcmRelcacheCallback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == ClcmModelRelid ||
		relid == ClcmTransitionRelid || relid == ClcmStageHistoryRelid ||
		relid == ClcmStageHistorySeqRelid)
	{
		ClcmModelCacheInvalidateAll();
		ClcmModelRelid = InvalidOid;
		ClcmTransitionRelid = InvalidOid;
		ClcmStageHistoryRelid = InvalidOid;
		ClcmStageHistorySeqRelid = InvalidOid;
	}
}

/* Syscache callback on pg_enum: an enum's labels changed. */
static void
ClcmEnumCallback(Datum arg, int cacheid, uint32 hashvalue)
{
	ClcmModelCacheInvalidateAll();
}

/*
 * Syscache callback on pg_type: invalidate only the entry of that type
 * (every CREATE TABLE adds a row type, so do not flush everything).
 */
static void
ClcmTypeCallback(Datum arg, int cacheid, uint32 hashvalue)
{
	HASH_SEQ_STATUS status;
	ClcmModel  *entry;

	if (hashvalue == 0)
	{
		ClcmModelCacheInvalidateAll();
		return;
	}
	if (ClcmModelCache == NULL)
		return;
	hash_seq_init(&status, ClcmModelCache);
	while ((entry = (ClcmModel *) hash_seq_search(&status)) != NULL)
	{
		if (entry->type_hash == hashvalue)
		{
			entry->valid = false;
			ClcmInvalGeneration++;
		}
	}
}

/* Creates the hash table and registers the callbacks once per backend. */
static void
ClcmModelCacheInit(void)
{
	HASHCTL		ctl;

	if (ClcmModelCache != NULL)
		return;
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(ClcmModel);
	ctl.hcxt = CacheMemoryContext;
	ClcmModelCache = hash_create("clcm model cache", 16, &ctl,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	if (!ClcmCallbacksRegistered)
	{
		CacheRegisterRelcacheCallback(ClcmRelcacheCallback, (Datum) 0);
		CacheRegisterSyscacheCallback(ENUMOID, ClcmEnumCallback, (Datum) 0);
		CacheRegisterSyscacheCallback(TYPEOID, ClcmTypeCallback, (Datum) 0);
		ClcmCallbacksRegistered = true;
	}
}

/* OID of a relation in schema clcm; an error when the extension is missing. */
static Oid
ClcmRelid(const char *relname)
{
	Oid			nsp = get_namespace_oid(CLCM_SCHEMA, true);
	Oid			relid = InvalidOid;

	if (OidIsValid(nsp))
		relid = get_relname_relid(relname, nsp);
	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("relation \"%s.%s\" does not exist", CLCM_SCHEMA, relname),
				 errhint("Run CREATE EXTENSION clcm in this database.")));
	return relid;
}

/* Looks up the OIDs of clcm.model, clcm.transition and the history. */
static void
ClcmResolveRelids(void)
{
	if (OidIsValid(ClcmModelRelid) && OidIsValid(ClcmTransitionRelid) &&
		OidIsValid(ClcmStageHistoryRelid) && OidIsValid(ClcmStageHistorySeqRelid))
		return;
	ClcmModelRelid = ClcmRelid("model");
	ClcmTransitionRelid = ClcmRelid("transition");
	ClcmStageHistoryRelid = ClcmRelid("stage_history");
	ClcmStageHistorySeqRelid = ClcmRelid("stage_history_id_seq");
}

/* OID of clcm.stage_history. */
Oid
ClcmHistoryRelid(void)
{
	ClcmModelCacheInit();
	ClcmResolveRelids();
	return ClcmStageHistoryRelid;
}

/* OID of clcm.stage_history_id_seq. */
Oid
ClcmHistorySeqRelid(void)
{
	ClcmModelCacheInit();
	ClcmResolveRelids();
	return ClcmStageHistorySeqRelid;
}

/* qsort comparators */
static int
StageItemCmp(const void *a, const void *b)
{
	float4		x = ((const StageItem *) a)->sortorder;
	float4		y = ((const StageItem *) b)->sortorder;

	return (x < y) ? -1 : (x > y) ? 1 : 0;
}

static int
OidPosCmp(const void *a, const void *b)
{
	Oid			x = ((const Oid *) a)[0];
	Oid			y = ((const Oid *) b)[0];

	return (x < y) ? -1 : (x > y) ? 1 : 0;
}

/* Funnel position of a label, or -1. */
static int
LabelPosition(ClcmModel *model, const char *label)
{
	int			i;

	for (i = 0; i < model->nstages; i++)
		if (strcmp(model->labels[i], label) == 0)
			return i;
	return -1;
}

/*
 * Fills a cache entry for type typid.  All arrays go into a fresh memory
 * context under CacheMemoryContext, made only once everything has been
 * read, so an error while loading leaves the entry invalid, not broken.
 */
static void
ClcmModelLoad(ClcmModel *entry, Oid typid)
{
	CatCList   *list;
	StageItem  *items;
	int			n;
	int			i;
	int			ret;
	char		modelname[NAMEDATALEN];
	Oid			argtypes[1];
	Datum		args[1];
	MemoryContext cxt;
	MemoryContext oldcxt;
	MemoryContext callercxt;
	int			npairs = 0;
	char	  **from_labels = NULL;
	char	  **to_labels = NULL;

	entry->is_model = false;
	entry->nstages = 0;
	entry->type_hash = GetSysCacheHashValue1(TYPEOID, ObjectIdGetDatum(typid));

	if (get_typtype(typid) != TYPTYPE_ENUM)
	{
		entry->valid = true;
		return;
	}

	/* the enum's labels, in sort order */
	list = SearchSysCacheList1(ENUMTYPOIDNAME, ObjectIdGetDatum(typid));
	n = list->n_members;
	items = palloc0(sizeof(StageItem) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		HeapTuple	tup = &list->members[i]->tuple;
		Form_pg_enum en = (Form_pg_enum) GETSTRUCT(tup);

		items[i].oid = en->oid;
		items[i].sortorder = en->enumsortorder;
		items[i].label = pstrdup(NameStr(en->enumlabel));
	}
	ReleaseSysCacheList(list);
	qsort(items, n, sizeof(StageItem), StageItemCmp);

	/* the model row and its transitions */
	ClcmResolveRelids();
	callercxt = CurrentMemoryContext;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	argtypes[0] = REGTYPEOID;
	args[0] = ObjectIdGetDatum(typid);
	ret = SPI_execute_with_args("SELECT m.name FROM " CLCM_SCHEMA ".model m"
								" WHERE m.stage_type OPERATOR(pg_catalog.=) $1",
								1, argtypes, args, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read clcm.model: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
	{
		SPI_finish();
		entry->valid = true;
		return;
	}
	strlcpy(modelname, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1),
			NAMEDATALEN);

	argtypes[0] = TEXTOID;
	args[0] = CStringGetTextDatum(modelname);
	ret = SPI_execute_with_args("SELECT t.from_stage, t.to_stage FROM "
								CLCM_SCHEMA ".transition t"
								" WHERE t.model OPERATOR(pg_catalog.=) $1",
								1, argtypes, args, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read clcm.transition: %s", SPI_result_code_string(ret));
	npairs = (int) SPI_processed;
	if (npairs > 0)
	{
		/* copy out of the SPI context before SPI_finish */
		MemoryContext spicxt = MemoryContextSwitchTo(callercxt);

		from_labels = palloc(sizeof(char *) * npairs);
		to_labels = palloc(sizeof(char *) * npairs);
		for (i = 0; i < npairs; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];

			from_labels[i] = SPI_getvalue(tup, SPI_tuptable->tupdesc, 1);
			to_labels[i] = SPI_getvalue(tup, SPI_tuptable->tupdesc, 2);
		}
		MemoryContextSwitchTo(spicxt);
	}
	SPI_finish();

	/* build the entry in its own context */
	cxt = AllocSetContextCreate(CacheMemoryContext, "clcm model",
								ALLOCSET_SMALL_SIZES);
	oldcxt = MemoryContextSwitchTo(cxt);
	entry->cxt = cxt;
	strlcpy(entry->name, modelname, NAMEDATALEN);
	entry->nstages = n;
	entry->values = palloc(sizeof(Oid) * Max(n, 1));
	entry->labels = palloc(sizeof(char *) * Max(n, 1));
	entry->sorted_values = palloc(sizeof(Oid) * 2 * Max(n, 1));
	entry->sorted_pos = palloc(sizeof(int) * Max(n, 1));
	entry->allowed = palloc0(sizeof(bool) * Max(n, 1) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		entry->values[i] = items[i].oid;
		entry->labels[i] = pstrdup(items[i].label);
		/* (oid, position) pairs, sorted by oid below */
		entry->sorted_values[2 * i] = items[i].oid;
		entry->sorted_values[2 * i + 1] = (Oid) i;
	}
	MemoryContextSwitchTo(oldcxt);
	qsort(entry->sorted_values, n, 2 * sizeof(Oid), OidPosCmp);
	for (i = 0; i < n; i++)
		entry->sorted_pos[i] = (int) entry->sorted_values[2 * i + 1];
	for (i = 0; i < n; i++)
		entry->sorted_values[i] = entry->sorted_values[2 * i];

	for (i = 0; i < npairs; i++)
	{
		int			to = LabelPosition(entry, to_labels[i]);
		int			from;

		if (to < 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("model \"%s\" has a transition to stage \"%s\", which type %s does not have",
							modelname, to_labels[i], format_type_be(typid))));
		if (strcmp(from_labels[i], "*") == 0)
		{
			for (from = 0; from < n; from++)
				if (from != to)
					entry->allowed[from * n + to] = true;
			continue;
		}
		from = LabelPosition(entry, from_labels[i]);
		if (from < 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("model \"%s\" has a transition from stage \"%s\", which type %s does not have",
							modelname, from_labels[i], format_type_be(typid))));
		if (from != to)
			entry->allowed[from * n + to] = true;
	}
	entry->is_model = true;
	entry->valid = true;
}

/*
 * Returns the cache entry of a type, (re)loading it when needed.  The
 * result stays usable until the next ClcmModelLookup call (an invalidation
 * only marks entries invalid; memory is released here, on reload).
 */
ClcmModel *
ClcmModelLookup(Oid typid)
{
	ClcmModel  *entry;
	bool		found;
	int			attempts;

	ClcmModelCacheInit();
	entry = (ClcmModel *) hash_search(ClcmModelCache, &typid, HASH_ENTER, &found);
	if (!found)
	{
		entry->valid = false;
		entry->cxt = NULL;
		entry->type_hash = 0;
	}
	for (attempts = 0; !entry->valid; attempts++)
	{
		uint64		generation = ClcmInvalGeneration;

		if (entry->cxt != NULL)
			MemoryContextDelete(entry->cxt);
		entry->cxt = NULL;
		entry->is_model = false;
		entry->nstages = 0;
		ClcmModelLoad(entry, typid);

		/*
		 * An invalidation that arrived while loading (the SPI queries accept
		 * invalidation messages) may have been about what we just read:
		 * load again, as the relcache does.
		 */
		if (generation != ClcmInvalGeneration && attempts < 10)
			entry->valid = false;
	}
	return entry;
}

/*
 * Funnel position of an enum value of the model's type (binary search).
 * A value the cache does not know means the enum changed under us without
 * an invalidation: can't happen, so elog.
 */
int
ClcmModelStagePosition(ClcmModel *model, Oid value)
{
	int			lo = 0;
	int			hi = model->nstages - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (model->sorted_values[mid] == value)
			return model->sorted_pos[mid];
		if (model->sorted_values[mid] < value)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	elog(ERROR, "enum value %u is not a stage of model \"%s\"", value, model->name);
	return -1;					/* keep compiler quiet */
}

/* The model of the type of argument argno, or an error (22023). */
static ClcmModel *
ModelOfArgument(FunctionCallInfo fcinfo, int argno)
{
	Oid			typid = get_fn_expr_argtype(fcinfo->flinfo, argno);
	ClcmModel  *model;

	if (!OidIsValid(typid))
		elog(ERROR, "could not determine the argument type");
	model = ClcmModelLookup(typid);
	if (!model->is_model)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("type %s is not a clcm stage type", format_type_be(typid)),
				 errhint("Pass values of a model's stage type, e.g. 'active'::clcm.lifecycle_stage.")));
	return model;
}

PG_FUNCTION_INFO_V1(clcm_model_can_transition);

/*
 * can_transition(from anyelement, to anyelement) -> boolean.  Staying in
 * the same stage is always allowed (the guard accepts it).  STRICT.
 */
Datum
clcm_model_can_transition(PG_FUNCTION_ARGS)
{
	ClcmModel  *model = ModelOfArgument(fcinfo, 0);
	int			from = ClcmModelStagePosition(model, PG_GETARG_OID(0));
	int			to = ClcmModelStagePosition(model, PG_GETARG_OID(1));

	PG_RETURN_BOOL(ClcmModelAllows(model, from, to));
}

/* state of next_stages between calls */
typedef struct NextStagesState
{
	int			n;
	int			i;
	Oid		   *values;
} NextStagesState;

PG_FUNCTION_INFO_V1(clcm_model_next_stages);

/*
 * next_stages(stage anyelement) -> setof anyelement: the stages reachable
 * from the given one by an allowed transition, in funnel order (the stage
 * itself is not listed).  STRICT.
 */
Datum
clcm_model_next_stages(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	NextStagesState *state;

	if (SRF_IS_FIRSTCALL())
	{
		MemoryContext oldcxt;
		ClcmModel  *model;
		int			from;
		int			to;

		funcctx = SRF_FIRSTCALL_INIT();
		model = ModelOfArgument(fcinfo, 0);
		from = ClcmModelStagePosition(model, PG_GETARG_OID(0));
		oldcxt = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
		state = palloc0(sizeof(NextStagesState));
		state->values = palloc(sizeof(Oid) * Max(model->nstages, 1));
		for (to = 0; to < model->nstages; to++)
			if (to != from && ClcmModelAllows(model, from, to))
				state->values[state->n++] = model->values[to];
		MemoryContextSwitchTo(oldcxt);
		funcctx->user_fctx = state;
	}
	funcctx = SRF_PERCALL_SETUP();
	state = (NextStagesState *) funcctx->user_fctx;
	if (state->i < state->n)
		SRF_RETURN_NEXT(funcctx, ObjectIdGetDatum(state->values[state->i++]));
	SRF_RETURN_DONE(funcctx);
}

PG_FUNCTION_INFO_V1(clcm_model_cache_invalidate);

/*
 * Statement trigger on clcm.model and clcm.transition: a relcache
 * invalidation of the table reaches every backend's ClcmRelcacheCallback
 * (this backend's at the next command, the others' at commit).
 */
Datum
clcm_model_cache_invalidate(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"model_cache_invalidate\" was not called by the trigger manager")));
	CacheInvalidateRelcache(trigdata->tg_relation);
	PG_RETURN_POINTER(NULL);
}
