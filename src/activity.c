/*-------------------------------------------------------------------------
 *
 * activity.c
 *	  clcm.track_activity(), the AFTER INSERT trigger that keeps
 *	  clcm.activity_facts and moves customer stages by clcm.stage_rule, and
 *	  clcm.refresh_stages(), which applies the time rules in bulk.
 *
 * Design.  An orders (events) table gets
 *
 *	  CREATE TRIGGER ... AFTER INSERT ON orders FOR EACH ROW
 *	  EXECUTE FUNCTION clcm.track_activity('customers', 'id',
 *										   'customer_id', 'ordered_at',
 *										   'amount', 'stage');
 *
 * or the same function FOR EACH STATEMENT with REFERENCING NEW TABLE, which
 * handles a whole INSERT ... SELECT set-based.  For each customer touched:
 *
 *	1. its facts row is written as the owner of clcm.activity_facts (the
 *	   only writer; ordinary roles may read it): INSERT ... ON CONFLICT DO
 *	   UPDATE for a first event or a batch, a direct heap update for a
 *	   later row-level event (below).  The row lock of either serialises
 *	   concurrent events of one customer;
 *	2. the customer's stage is read (a new snapshot, so it sees what an
 *	   earlier concurrent event committed); an unknown customer is an
 *	   error (23503, like a foreign key);
 *	3. the first firing rule (lowest priority) whose move the model allows
 *	   is applied by an UPDATE of the customer table, conditional on the
 *	   stage just read, under clcm.reason = 'activity', so the table's
 *	   clcm.stage_guard validates and records the move; this repeats
 *	   (without the activity condition) until no rule fires, at most once
 *	   per stage of the model.
 *
 * Row-level fast path.  A single-row INSERT into an orders table costs
 * about as much as two SPI statements, so the steady state (the customer
 * has facts, no rule fires) runs no SQL: under READ COMMITTED the facts
 * row is found through the facts primary key and updated with heap_update
 * (index entry added when the update is not HOT, as CatalogTupleUpdate
 * does; on a concurrent update, TUPLE_LOCK_FLAG_FIND_LAST_VERSION locks
 * the newest version and the values are recomputed from it, which is
 * what ON CONFLICT DO UPDATE does), and the stage is read with an index
 * scan of a unique btree on the key column.  SPI is connected, and the
 * search_path pinned, only when a step needs SQL: a first event, a
 * fallback (no such index, no table-level SELECT privilege or row
 * security on the customer table, REPEATABLE READ or SERIALIZABLE, a
 * facts table with extra indexes, triggers, checks or policies), loading
 * the rules, or a stage move.  A CommandCounterIncrement before the
 * reads makes earlier events of the transaction visible, as SPI would.
 * What remains per event is two btree descents, a heap fetch (with the
 * page pruning that HOT updates need) and the HOT update with its WAL.
 *
 * refresh_stages() runs step 3 set-based over the whole customer table with
 * the time conditions (inactivity, tenure) evaluated as of a given time,
 * under clcm.reason = 'refresh'.  It finds the stage and key columns in the
 * arguments of the table's clcm.stage_guard trigger.
 *
 * Per-trigger configuration (resolved columns, model, prepared plans) is
 * cached per backend, keyed by trigger OID, and dropped by a relcache
 * callback when either table changes.  The row-level path evaluates the
 * rules in C from a per-model cache (clcm.stage_rule_effective) dropped
 * when clcm.stage_rule, clcm.transition or clcm.model change; the
 * set-based paths read the rules in SQL.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/nbtree.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/pg_am.h"
#include "catalog/pg_index.h"
#include "catalog/pg_opfamily.h"
#include "common/hashfn.h"
#include "common/int.h"
#include "executor/tuptable.h"
#include "storage/bufmgr.h"
#include "storage/bufpage.h"
#include "storage/sinval.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/acl.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/regproc.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"
#include "utils/date.h"

#include "clcm.h"
#include "stage.h"

/* Cached configuration of one track_activity trigger. */
typedef struct ActivityConfig
{
	Oid			tgoid;			/* hash key: the trigger's OID */
	bool		valid;			/* false once a relcache callback fired */
	Oid			events_relid;
	Oid			cust_relid;
	char	   *cust_name;		/* schema-qualified, quoted */
	char	   *key_col;		/* quoted */
	char	   *stage_col;		/* quoted */
	char	   *key_type;		/* format_type_be_qualified of the key */
	char	   *stage_type;		/* ... of the stage column */
	char	   *key_eq;			/* OPERATOR(schema.=) of the key type */
	char	   *stage_eq;		/* ... of the stage type */
	char	   *model;			/* model name */
	int			nstages;		/* stages of the model (bound on rule chains) */
	AttrNumber	ev_cust_att;	/* event's customer column */
	AttrNumber	ev_ts_att;		/* event's timestamp column */
	AttrNumber	ev_amount_att;	/* event's amount column, or 0 */
	Oid			ev_cust_out;	/* output function of the customer column */
	Oid			ev_ts_type;		/* timestamptz, timestamp or date */
	Oid			ev_amount_type; /* numeric, an integer or a float type */
	char	   *ev_cust_name;	/* quoted event column names */
	char	   *ev_ts_name;
	char	   *ev_amount_name;
	Oid			key_typid;		/* type of the key column */
	Oid			key_in;			/* its input function ... */
	Oid			key_ioparam;
	Oid			key_out;		/* ... and output function */
	Oid			stage_typid;	/* type of the stage column */
	SPIPlanPtr	facts_plan;		/* row level: upsert facts */
	SPIPlanPtr	stage_plan;		/* row level: read the stage */
	SPIPlanPtr	move_plan;		/* row level: UPDATE the stage */
	/* row-level fast path (see ActivityTrackRow) */
	bool		same_key_type;	/* event column of the key column's type */
	FmgrInfo	ev_cust_out_fn; /* cached output / input functions */
	FmgrInfo	key_in_fn;
	FmgrInfo	key_out_fn;
	AttrNumber	cust_stage_att; /* stage column of the customer table */
	Oid			cust_index;		/* unique btree on the key alone, or 0 */
	Oid			cust_eq_proc;	/* its equality function for the key */
	Oid			cust_eq_subtype;	/* right-hand type of that operator */
	Oid			cust_index_coll;	/* the index column's collation */
	bool		cust_index_immediate;	/* unique checked at once */
	AttrNumber	cust_key_att;	/* key column of the customer table */
	FmgrInfo	cust_eq_fn;		/* cust_eq_proc, for the TID cache */
	bool		key_builtin;	/* key conversion and comparison are
								 * built-in functions (no user code) */
} ActivityConfig;

/* Columns and model of a guarded customer table. */
typedef struct ActivityTarget
{
	Oid			relid;
	Oid			key_typid;
	Oid			stage_typid;
	char	   *cust_name;
	char	   *key_col;
	char	   *stage_col;
	char	   *key_type;
	char	   *stage_type;
	char	   *key_eq;			/* OPERATOR(schema.=) of the key type */
	char	   *stage_eq;		/* ... of the stage type */
	char	   *model;
	int			nstages;
} ActivityTarget;

/* Per-call state of the row-level path (defined with it, below). */
typedef struct ActivityCall ActivityCall;
static void ActivitySpiConnect(ActivityCall *call);
static void ActivitySpiBegin(ActivityCall *call);

static HTAB *ActivityCache = NULL;
static bool ActivityCallbackRegistered = false;

/* clcm.activity_facts as the row-level direct path sees it */
static Oid	ActivityFactsRelid = InvalidOid;
static bool ActivityFactsChecked = false;	/* shape checked ... */
static bool ActivityFactsDirect = false;	/* ... and fit for direct writes */
static Oid	ActivityFactsPkey = InvalidOid;

/*
 * Where the row-level direct path last found a customer's rows: a
 * per-backend, direct-mapped cache from (customer table, key) to the TIDs,
 * as the indexes return them (HOT chain roots), of the customer's facts
 * row and of its row in the customer table.  A hit saves a btree descent
 * per row, about half of the trigger's cost when orders are inserted one
 * by one.  An entry is only a hint: the version visible at the TID must
 * carry the customer's key, else the index is used as before and the
 * entry refreshed, so updates, deletes and reused line pointers need no
 * invalidation.  What a hint cannot survive is a table shrunk by VACUUM
 * or rewritten (its block may be gone): truncation sends a shared
 * invalidation message, which a backend processes when it next locks the
 * table, and a rewrite a relcache invalidation, so entries count only
 * while neither has been seen since they were stored (epoch).  The
 * buffer that held the page is remembered too: ReadRecentBuffer pins it
 * without a lookup in the shared buffer mapping table if it still holds
 * the page.  Size: clcm.activity_cache_size slots of 28 bytes.
 */
typedef struct ActivityTidSlot
{
	uint32		tag;			/* hash bits 32..63, lowest bit set */
	uint32		epoch;			/* ActivityTidEpoch when stored; 0 empty */
	ItemPointerData facts;		/* facts row, or invalid */
	ItemPointerData cust;		/* customer row, or invalid */
	Buffer		fbuf;			/* shared buffer that held the facts row's page */
	Buffer		cbuf;			/* ... the customer row's page */
} ActivityTidSlot;

static ActivityTidSlot *ActivityTids = NULL;
static uint32 ActivityTidsMask = 0;
static uint32 ActivityTidEpoch = 1;
static uint64 ActivityTidInvalSeen = 0;

/* a customer's slot, found by ActivityTidLookup */
typedef struct ActivityTidRef
{
	ActivityTidSlot *slot;		/* NULL: the cache is off */
	uint32		tag;
} ActivityTidRef;

/* invalidate every entry of the TID cache */
static void
ActivityTidForget(void)
{
	if (++ActivityTidEpoch == 0)
	{
		/* wrapped around: old epochs could match again */
		if (ActivityTids != NULL)
			memset(ActivityTids, 0, sizeof(ActivityTidSlot) * ((Size) ActivityTidsMask + 1));
		ActivityTidEpoch = 1;
	}
}

/* forget the cache if shared invalidation messages came in meanwhile */
static inline void
ActivityTidCheckInval(void)
{
	if (SharedInvalidMessageCounter != ActivityTidInvalSeen)
	{
		ActivityTidInvalSeen = SharedInvalidMessageCounter;
		ActivityTidForget();
	}
}

/*
 * The TID cache slot of a customer (ref->slot NULL when the cache is
 * off), (re)allocating the cache for the current clcm.activity_cache_size.
 * Call with the tables involved locked: shared invalidation messages
 * processed since the last call (a truncation among them, perhaps)
 * invalidate every entry.
 */
static void
ActivityTidLookup(Oid relid, text *key, ActivityTidRef *ref)
{
	uint32		want;
	uint64		h;

	ref->slot = NULL;
	want = clcm_activity_cache_size <= 0 ? 0 :
		pg_prevpower2_32((uint32) clcm_activity_cache_size);
	if (ActivityTids != NULL && ActivityTidsMask + 1 != want)
	{
		pfree(ActivityTids);
		ActivityTids = NULL;
	}
	if (want == 0)
		return;
	if (ActivityTids == NULL)
	{
		ActivityTids = MemoryContextAllocExtended(TopMemoryContext,
												  sizeof(ActivityTidSlot) * (Size) want,
												  MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
		ActivityTidsMask = want - 1;
		ActivityTidEpoch = 1;
		ActivityTidInvalSeen = SharedInvalidMessageCounter;
	}
	ActivityTidCheckInval();
	h = hash_bytes_extended((const unsigned char *) VARDATA_ANY(key),
							VARSIZE_ANY_EXHDR(key), relid);
	ref->slot = &ActivityTids[h & ActivityTidsMask];
	ref->tag = (uint32) (h >> 32) | 1;
}

/*
 * The cached TID of a customer's facts row or customer row, if any, and
 * in *buf the buffer that held its page.
 */
static inline ItemPointer
ActivityTidGet(ActivityTidRef *ref, bool facts, Buffer *buf)
{
	ActivityTidSlot *e = ref->slot;
	ItemPointer tid;

	if (e == NULL || e->tag != ref->tag || e->epoch != ActivityTidEpoch)
		return NULL;
	tid = facts ? &e->facts : &e->cust;
	*buf = facts ? e->fbuf : e->cbuf;
	return ItemPointerIsValid(tid) ? tid : NULL;
}

/* remember where a customer's facts row or customer row is */
static inline void
ActivityTidPut(ActivityTidRef *ref, bool facts, ItemPointer tid, Buffer buf)
{
	ActivityTidSlot *e = ref->slot;

	if (e == NULL)
		return;
	if (e->tag != ref->tag || e->epoch != ActivityTidEpoch)
	{
		e->tag = ref->tag;
		e->epoch = ActivityTidEpoch;
		ItemPointerSetInvalid(&e->facts);
		ItemPointerSetInvalid(&e->cust);
		e->fbuf = e->cbuf = InvalidBuffer;
	}
	if (facts)
	{
		e->facts = *tid;
		e->fbuf = buf;
	}
	else
	{
		e->cust = *tid;
		e->cbuf = buf;
	}
}

/*
 * Pin the buffer of block blk of rel: the recent buffer (*recent, from
 * the TID cache) if it still holds the block, else through the buffer
 * mapping.  *recent gets the buffer used.
 */
static Buffer
ActivityReadBuffer(Relation rel, BlockNumber blk, Buffer *recent)
{
	if (BufferIsValid(*recent) &&
#if PG_VERSION_NUM >= 160000
		ReadRecentBuffer(rel->rd_locator, MAIN_FORKNUM, blk, *recent))
#else
		ReadRecentBuffer(rel->rd_node, MAIN_FORKNUM, blk, *recent))
#endif
		return *recent;
	*recent = ReadBuffer(rel, blk);
	return *recent;
}

/*
 * Relcache callback: mark every cached trigger configuration that uses the
 * relation invalid (InvalidOid means all).  Plans are freed on rebuild.
 * Also forgets the facts table's OID and shape check when it or its index
 * change.
 */
static void
ActivityRelcacheCallback(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	ActivityConfig *entry;

	/* a table may have been rewritten: forget every cached TID */
	ActivityTidForget();
	if (relid == InvalidOid || relid == ActivityFactsRelid ||
		relid == ActivityFactsPkey)
	{
		ActivityFactsRelid = InvalidOid;
		ActivityFactsChecked = false;
	}
	if (ActivityCache == NULL)
		return;
	hash_seq_init(&status, ActivityCache);
	while ((entry = hash_seq_search(&status)) != NULL)
	{
		if (relid == InvalidOid || entry->events_relid == relid ||
			entry->cust_relid == relid)
			entry->valid = false;
	}
}

/*
 * Free what an invalidated entry holds (strings and plans).
 */
static void
ActivityConfigRelease(ActivityConfig *cfg)
{
	SPIPlanPtr *plans[] = {&cfg->facts_plan, &cfg->stage_plan,
	&cfg->move_plan};
	char	  **strings[] = {&cfg->cust_name, &cfg->key_col, &cfg->stage_col,
		&cfg->key_type, &cfg->stage_type, &cfg->key_eq, &cfg->stage_eq,
		&cfg->model, &cfg->ev_cust_name,
	&cfg->ev_ts_name, &cfg->ev_amount_name};
	int			i;

	for (i = 0; i < (int) lengthof(plans); i++)
		if (*plans[i] != NULL)
		{
			SPI_freeplan(*plans[i]);
			*plans[i] = NULL;
		}
	for (i = 0; i < (int) lengthof(strings); i++)
		if (*strings[i] != NULL)
		{
			pfree(*strings[i]);
			*strings[i] = NULL;
		}
}

/*
 * The equality operator of a column's type, found through the type's
 * default btree operator class (never by name through the search_path),
 * written schema-qualified as OPERATOR(schema.name) for SPI SQL.
 */
static char *
ActivityEqOperator(Oid typid, const char *column, Relation rel,
				   const char *errprefix)
{
	TypeCacheEntry *tc = lookup_type_cache(typid, TYPECACHE_EQ_OPR);
	HeapTuple	tup;
	Form_pg_operator op;
	char	   *nsp;
	char	   *result;

	if (!OidIsValid(tc->eq_opr))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("%s: type %s of column \"%s\" of table \"%s\" has no default btree equality operator",
						errprefix, format_type_be(typid), column,
						RelationGetRelationName(rel))));
	tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(tc->eq_opr));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for operator %u", tc->eq_opr);
	op = (Form_pg_operator) GETSTRUCT(tup);
	nsp = get_namespace_name(op->oprnamespace);
	if (nsp == NULL)
		elog(ERROR, "cache lookup failed for namespace %u", op->oprnamespace);
	result = psprintf("OPERATOR(%s.%s)", quote_identifier(nsp),
					  NameStr(op->oprname));
	ReleaseSysCache(tup);
	return result;
}

/*
 * Set search_path to pg_catalog, pg_temp for the SPI statements that
 * follow, so that nothing in them resolves to an object of the caller's
 * search_path; returns the GUC nest level for ActivitySearchPathPop (on
 * error the (sub)transaction abort restores the value).
 */
static int
ActivitySearchPathPush(void)
{
	int			nest = NewGUCNestLevel();

	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	return nest;
}

/* Restore the caller's search_path. */
static void
ActivitySearchPathPop(int nest)
{
	AtEOXact_GUC(true, nest);
}

/*
 * Resolve the stage column of a customer table to its model: the column
 * must exist and be of a model's stage type.  Fills t (strings in the
 * current memory context); needs SPI connected.  errprefix says which
 * object is misconfigured.
 */
static void
ActivityResolveTarget(Relation cust, const char *key_col,
					  const char *stage_col, ActivityTarget *t,
					  const char *errprefix)
{
	TupleDesc	desc = RelationGetDescr(cust);
	int			key_att = SPI_fnumber(desc, key_col);
	int			stage_att = SPI_fnumber(desc, stage_col);
	Oid			stage_typid;
	Oid			argtypes[1] = {REGTYPEOID};
	Datum		values[1];
	int			rc;
	bool		isnull;

	if (key_att <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("%s: column \"%s\" does not exist in table \"%s\"",
						errprefix, key_col, RelationGetRelationName(cust))));
	if (stage_att <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("%s: column \"%s\" does not exist in table \"%s\"",
						errprefix, stage_col, RelationGetRelationName(cust))));
	stage_typid = SPI_gettypeid(desc, stage_att);

	values[0] = ObjectIdGetDatum(stage_typid);
	rc = SPI_execute_with_args("SELECT m.name, pg_catalog.cardinality(m.stages) "
							   "FROM " CLCM_SCHEMA ".model m "
							   "WHERE m.stage_type OPERATOR(pg_catalog.=) $1",
							   1, argtypes, values, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s: column \"%s\" of table \"%s\" is not of a lifecycle model's stage type",
						errprefix, stage_col, RelationGetRelationName(cust)),
				 errdetail("Its type is %s.", format_type_be(stage_typid)),
				 errhint("Give the column the stage type of a model, e.g. clcm.lifecycle_stage.")));
	t->relid = RelationGetRelid(cust);
	t->key_typid = SPI_gettypeid(desc, key_att);
	t->stage_typid = stage_typid;
	t->cust_name = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(cust)),
											  RelationGetRelationName(cust));
	t->key_col = pstrdup(quote_identifier(key_col));
	t->stage_col = pstrdup(quote_identifier(stage_col));
	t->key_type = format_type_be_qualified(SPI_gettypeid(desc, key_att));
	t->stage_type = format_type_be_qualified(stage_typid);
	t->key_eq = ActivityEqOperator(t->key_typid, key_col, cust, errprefix);
	t->stage_eq = ActivityEqOperator(stage_typid, stage_col, cust, errprefix);
	t->model = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	t->nstages = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
											 SPI_tuptable->tupdesc, 2, &isnull));
}

/*
 * Prepare and keep a plan.
 */
static SPIPlanPtr
ActivityPrepare(const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql,
			 SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	return plan;
}

/*
 * Append the SQL condition under which rule r fires.  The *_expr arguments
 * are SQL expressions: whether activity counts, the facts (purchases,
 * revenue, first and last event) and the time at which time conditions are
 * evaluated.  event_rules admits activity, purchases and revenue rules;
 * time_rules admits inactivity rules; tenure rules are always admitted.
 */
static void
ActivityAppendCondition(StringInfo sql, const char *activity_expr,
						const char *purchases_expr, const char *revenue_expr,
						const char *first_expr, const char *last_expr,
						const char *time_expr, bool event_rules, bool time_rules)
{
	appendStringInfoString(sql, "(false");
	if (event_rules)
		appendStringInfo(sql,
						 " OR (r.condition OPERATOR(pg_catalog.=) 'activity' AND %s)"
						 " OR (r.condition OPERATOR(pg_catalog.=) 'purchases'"
						 " AND CAST(%s AS pg_catalog.numeric) OPERATOR(pg_catalog.>=) r.threshold)"
						 " OR (r.condition OPERATOR(pg_catalog.=) 'revenue'"
						 " AND %s OPERATOR(pg_catalog.>=) r.threshold)",
						 activity_expr, purchases_expr, revenue_expr);
	if (time_rules)
		appendStringInfo(sql,
						 " OR (r.condition OPERATOR(pg_catalog.=) 'inactivity'"
						 " AND (%s OPERATOR(pg_catalog.+) r.period) OPERATOR(pg_catalog.<=) %s)",
						 last_expr, time_expr);
	appendStringInfo(sql,
					 " OR (r.condition OPERATOR(pg_catalog.=) 'tenure'"
					 " AND (%s OPERATOR(pg_catalog.+) r.period) OPERATOR(pg_catalog.<=) %s))",
					 first_expr, time_expr);
}

/*
 * Build the set-based stage move: one UPDATE of the customer table that
 * moves every customer in scope by its best firing rule.  Parameters: $1
 * the customer table (regclass), $2 the model (text), then what the caller
 * uses in scope and the condition expressions.
 */
static char *
ActivityMoveSql(ActivityTarget *t, const char *scope,
				const char *activity_expr, const char *time_expr,
				bool event_rules, bool time_rules)
{
	StringInfoData sql;

	initStringInfo(&sql);
	/*
	 * The rules are expanded to one row per (from stage, to stage) move the
	 * model allows ('*' becomes every stage), with the from stage as a value
	 * of the stage type, so that they join the customers by equality.
	 */
	appendStringInfo(&sql,
					 "UPDATE %s c SET %s = m.to_stage FROM ("
					 "SELECT DISTINCT ON (c2.%s) c2.%s AS k, c2.%s AS s, r.to_stage"
					 " FROM %s c2"
					 " JOIN (SELECT CAST(st.stage AS %s) AS from_stage,"
					 " CAST(x.to_stage AS %s) AS to_stage, x.to_stage AS to_label,"
					 " x.condition, x.threshold, x.period, x.priority"
					 " FROM " CLCM_SCHEMA ".stage_rule_effective x"
					 " JOIN " CLCM_SCHEMA ".model md ON md.name OPERATOR(pg_catalog.=) x.model"
					 " CROSS JOIN LATERAL pg_catalog.unnest(md.stages) st(stage)"
					 " WHERE x.model OPERATOR(pg_catalog.=) $2"
					 " AND (x.from_stage OPERATOR(pg_catalog.=) st.stage"
					 " OR x.from_stage OPERATOR(pg_catalog.=) '*')"
					 " AND x.to_stage OPERATOR(pg_catalog.<>) st.stage"
					 " AND EXISTS (SELECT 1 FROM " CLCM_SCHEMA ".transition t"
					 " WHERE t.model OPERATOR(pg_catalog.=) $2"
					 " AND t.to_stage OPERATOR(pg_catalog.=) x.to_stage"
					 " AND (t.from_stage OPERATOR(pg_catalog.=) st.stage"
					 " OR t.from_stage OPERATOR(pg_catalog.=) '*'))) r"
					 " ON r.from_stage %s c2.%s"
					 " JOIN " CLCM_SCHEMA ".activity_facts f"
					 " ON f.table_name OPERATOR(pg_catalog.=) $1"
					 " AND f.customer_key OPERATOR(pg_catalog.=) CAST(c2.%s AS pg_catalog.text)"
					 " WHERE %s AND ",
					 t->cust_name, t->stage_col,
					 t->key_col, t->key_col, t->stage_col, t->cust_name,
					 t->stage_type, t->stage_type,
					 t->stage_eq, t->stage_col, t->key_col, scope);
	ActivityAppendCondition(&sql, activity_expr, "f.purchases", "f.revenue",
							"f.first_at", "f.last_at",
							time_expr, event_rules, time_rules);
	appendStringInfo(&sql,
					 " ORDER BY c2.%s, r.priority, r.to_label, r.condition) m"
					 " WHERE c.%s %s m.k AND c.%s %s m.s"
					 " RETURNING c.%s",
					 t->key_col, t->key_col, t->key_eq, t->stage_col, t->stage_eq,
					 t->key_col);
	return sql.data;
}

/*
 * Set clcm.reason for the statements that follow, saving the previous
 * value; returns the GUC nest level for ActivityReasonPop (on error the
 * transaction abort restores the value).
 */
static int
ActivityReasonPush(const char *reason)
{
	int			nest = NewGUCNestLevel();

	(void) set_config_option("clcm.reason", reason, PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	return nest;
}

/* Restore clcm.reason. */
static void
ActivityReasonPop(int nest)
{
	AtEOXact_GUC(true, nest);
}

/*
 * Resolve a trigger argument naming a column of the events table.
 */
static AttrNumber
ActivityEventColumn(Relation rel, const char *name)
{
	int			att = SPI_fnumber(RelationGetDescr(rel), name);

	if (att <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("track_activity: column \"%s\" does not exist in table \"%s\"",
						name, RelationGetRelationName(rel))));
	return att;
}

/*
 * The index the row-level path reads the customer's stage through: a
 * valid unique btree whose only key column is the key column, with the
 * default btree operator family of the key type (the family of the
 * equality operator the SQL read uses) with built-in comparison
 * functions, and the column's collation, no expression and no predicate.
 * Fills cfg's cust_* fields; cust_index stays 0 when there is none (the
 * SQL read is used).
 */
static void
ActivityFindKeyIndex(Relation cust, AttrNumber key_att, Oid key_typid,
					 ActivityConfig *cfg)
{
	TypeCacheEntry *tc = lookup_type_cache(key_typid,
										   TYPECACHE_EQ_OPR | TYPECACHE_BTREE_OPFAMILY);
	Oid			keycoll = TupleDescAttr(RelationGetDescr(cust), key_att - 1)->attcollation;
	List	   *indexes;
	ListCell   *lc;

	cfg->cust_index = InvalidOid;
	if (!OidIsValid(tc->eq_opr) || !OidIsValid(tc->btree_opf) ||
		(cust->rd_rel->relkind != RELKIND_RELATION &&
		 cust->rd_rel->relkind != RELKIND_MATVIEW))
		return;					/* e.g. a partitioned table: SQL read */
	indexes = RelationGetIndexList(cust);
	foreach(lc, indexes)
	{
		Relation	idx = index_open(lfirst_oid(lc), AccessShareLock);
		Form_pg_index ix = idx->rd_index;
		bool		ok;

		ok = idx->rd_rel->relkind == RELKIND_INDEX &&
			idx->rd_rel->relam == BTREE_AM_OID &&
			ix->indisunique && ix->indisvalid && ix->indisready &&
			ix->indislive &&
			IndexRelationGetNumberOfKeyAttributes(idx) == 1 &&
			ix->indkey.values[0] == key_att &&
			idx->rd_opfamily[0] == tc->btree_opf &&
			idx->rd_opcintype[0] == tc->btree_opintype &&
			idx->rd_indcollation[0] == keycoll &&
			heap_attisnull(idx->rd_indextuple, Anum_pg_index_indexprs, NULL) &&
			heap_attisnull(idx->rd_indextuple, Anum_pg_index_indpred, NULL);
		/* built-in comparison only: no user code runs outside SQL */
		if (ok &&
			(get_opcode(tc->eq_opr) >= FirstNormalObjectId ||
			 get_opfamily_proc(tc->btree_opf, tc->btree_opintype,
							   tc->btree_opintype, BTORDER_PROC) >= FirstNormalObjectId))
			ok = false;
		if (ok)
		{
			cfg->cust_index = RelationGetRelid(idx);
			cfg->cust_eq_proc = get_opcode(tc->eq_opr);
			cfg->cust_eq_subtype = tc->btree_opintype;
			cfg->cust_index_coll = keycoll;
			cfg->cust_index_immediate = ix->indimmediate;
			cfg->cust_key_att = key_att;
			fmgr_info_cxt(cfg->cust_eq_proc, &cfg->cust_eq_fn, CacheMemoryContext);
		}
		index_close(idx, AccessShareLock);
		if (ok)
			break;
	}
	list_free(indexes);
}

/*
 * The configuration of a trigger, from the cache or (re)built from its
 * arguments, connecting SPI through call for that.
 */
static ActivityConfig *
ActivityConfigGet(TriggerData *trigdata, ActivityCall *call)
{
	Trigger    *trigger = trigdata->tg_trigger;
	Relation	rel = trigdata->tg_relation;
	ActivityConfig *cfg;
	bool		found;
	char	  **args = trigger->tgargs;
	List	   *names;
	RangeVar   *rv;
	Oid			cust_relid;
	Relation	cust;
	ActivityTarget t;
	MemoryContext old;
	TupleDesc	desc = RelationGetDescr(rel);
	bool		isvarlena;

	if (ActivityCache == NULL)
	{
		HASHCTL		ctl;

		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(ActivityConfig);
		ActivityCache = hash_create("clcm track_activity triggers", 16, &ctl,
									HASH_ELEM | HASH_BLOBS);
	}
	if (!ActivityCallbackRegistered)
	{
		CacheRegisterRelcacheCallback(ActivityRelcacheCallback, (Datum) 0);
		ActivityCallbackRegistered = true;
	}

	cfg = hash_search(ActivityCache, &trigger->tgoid, HASH_ENTER, &found);
	if (found && cfg->valid)
		return cfg;
	ActivitySpiConnect(call);
	if (found)
		ActivityConfigRelease(cfg);
	else
	{
		Oid			key = cfg->tgoid;

		memset(cfg, 0, sizeof(ActivityConfig));
		cfg->tgoid = key;
	}
	cfg->valid = false;

	if (trigger->tgnargs < 4 || trigger->tgnargs > 6)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("track_activity: trigger \"%s\" has %d arguments but needs 4 to 6",
						trigger->tgname, trigger->tgnargs),
				 errhint("The arguments are: customer table, its key column, the event's customer column, timestamp column, optional amount column ('' for none), optional stage column (default stage).")));

	names = stringToQualifiedNameList(args[0]);
	rv = makeRangeVarFromNameList(names);
	cust_relid = RangeVarGetRelid(rv, AccessShareLock, true);
	if (!OidIsValid(cust_relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("track_activity: customer table \"%s\" does not exist",
						args[0])));
	cust = table_open(cust_relid, NoLock);
	ActivityResolveTarget(cust, args[1],
						  trigger->tgnargs >= 6 ? args[5] : "stage", &t,
						  "track_activity");
	ActivityFindKeyIndex(cust, SPI_fnumber(RelationGetDescr(cust), args[1]),
						 t.key_typid, cfg);
	cfg->cust_stage_att = SPI_fnumber(RelationGetDescr(cust),
									  trigger->tgnargs >= 6 ? args[5] : "stage");
	table_close(cust, NoLock);

	cfg->ev_cust_att = ActivityEventColumn(rel, args[2]);
	cfg->ev_ts_att = ActivityEventColumn(rel, args[3]);
	cfg->ev_amount_att = (trigger->tgnargs >= 5 && args[4][0] != '\0')
		? ActivityEventColumn(rel, args[4]) : 0;

	cfg->ev_ts_type = SPI_gettypeid(desc, cfg->ev_ts_att);
	if (cfg->ev_ts_type != TIMESTAMPTZOID && cfg->ev_ts_type != TIMESTAMPOID &&
		cfg->ev_ts_type != DATEOID)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("track_activity: column \"%s\" of table \"%s\" must be of type timestamptz, timestamp or date",
						args[3], RelationGetRelationName(rel))));
	if (cfg->ev_amount_att != 0)
	{
		cfg->ev_amount_type = SPI_gettypeid(desc, cfg->ev_amount_att);
		if (cfg->ev_amount_type != NUMERICOID && cfg->ev_amount_type != INT2OID &&
			cfg->ev_amount_type != INT4OID && cfg->ev_amount_type != INT8OID &&
			cfg->ev_amount_type != FLOAT4OID && cfg->ev_amount_type != FLOAT8OID)
			ereport(ERROR,
					(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
					 errmsg("track_activity: column \"%s\" of table \"%s\" must be of a numeric type",
							args[4], RelationGetRelationName(rel))));
	}
	getTypeOutputInfo(SPI_gettypeid(desc, cfg->ev_cust_att), &cfg->ev_cust_out,
					  &isvarlena);

	old = MemoryContextSwitchTo(TopMemoryContext);
	cfg->events_relid = RelationGetRelid(rel);
	cfg->cust_relid = cust_relid;
	cfg->cust_name = pstrdup(t.cust_name);
	cfg->key_col = pstrdup(t.key_col);
	cfg->stage_col = pstrdup(t.stage_col);
	cfg->key_type = pstrdup(t.key_type);
	cfg->stage_type = pstrdup(t.stage_type);
	cfg->key_eq = pstrdup(t.key_eq);
	cfg->stage_eq = pstrdup(t.stage_eq);
	cfg->model = pstrdup(t.model);
	cfg->nstages = t.nstages;
	cfg->key_typid = t.key_typid;
	cfg->stage_typid = t.stage_typid;
	getTypeInputInfo(t.key_typid, &cfg->key_in, &cfg->key_ioparam);
	getTypeOutputInfo(t.key_typid, &cfg->key_out, &isvarlena);
	cfg->same_key_type = SPI_gettypeid(desc, cfg->ev_cust_att) == t.key_typid;
	fmgr_info_cxt(cfg->ev_cust_out, &cfg->ev_cust_out_fn, TopMemoryContext);
	fmgr_info_cxt(cfg->key_in, &cfg->key_in_fn, TopMemoryContext);
	fmgr_info_cxt(cfg->key_out, &cfg->key_out_fn, TopMemoryContext);
	cfg->key_builtin = cfg->ev_cust_out < FirstNormalObjectId &&
		cfg->key_in < FirstNormalObjectId && cfg->key_out < FirstNormalObjectId;
	cfg->ev_cust_name = pstrdup(quote_identifier(args[2]));
	cfg->ev_ts_name = pstrdup(quote_identifier(args[3]));
	cfg->ev_amount_name = cfg->ev_amount_att != 0
		? pstrdup(quote_identifier(args[4])) : NULL;
	MemoryContextSwitchTo(old);
	cfg->valid = true;
	return cfg;
}

/* Copy a cached configuration's target part into an ActivityTarget. */
static void
ActivityTargetFromConfig(ActivityConfig *cfg, ActivityTarget *t)
{
	t->relid = cfg->cust_relid;
	t->cust_name = cfg->cust_name;
	t->key_col = cfg->key_col;
	t->stage_col = cfg->stage_col;
	t->key_type = cfg->key_type;
	t->stage_type = cfg->stage_type;
	t->key_eq = cfg->key_eq;
	t->stage_eq = cfg->stage_eq;
	t->model = cfg->model;
	t->nstages = cfg->nstages;
	t->key_typid = cfg->key_typid;
	t->stage_typid = cfg->stage_typid;
}

/*
 * Event timestamp of the row as timestamptz.
 */
static Datum
ActivityEventTime(ActivityConfig *cfg, Datum value)
{
	if (cfg->ev_ts_type == TIMESTAMPOID)
		return DirectFunctionCall1(timestamp_timestamptz, value);
	if (cfg->ev_ts_type == DATEOID)
		return DirectFunctionCall1(date_timestamptz, value);
	return value;
}

/*
 * Event amount of the row as numeric; rejects negative and NaN amounts.
 */
static Datum
ActivityEventAmount(ActivityConfig *cfg, Datum value)
{
	Datum		num;

	switch (cfg->ev_amount_type)
	{
		case INT2OID:
			num = DirectFunctionCall1(int2_numeric, value);
			break;
		case INT4OID:
			num = DirectFunctionCall1(int4_numeric, value);
			break;
		case INT8OID:
			num = DirectFunctionCall1(int8_numeric, value);
			break;
		case FLOAT4OID:
			num = DirectFunctionCall1(float4_numeric, value);
			break;
		case FLOAT8OID:
			num = DirectFunctionCall1(float8_numeric, value);
			break;
		default:
			num = value;
			break;
	}
	if (numeric_is_nan(DatumGetNumeric(num)) ||
		numeric_is_inf(DatumGetNumeric(num)) ||
		DatumGetBool(DirectFunctionCall2(numeric_lt, num,
										 DirectFunctionCall1(int4_numeric,
															 Int32GetDatum(0)))))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("track_activity: amount must be a finite number greater than or equal to 0"),
				 errdetail("The amount is %s.",
						   DatumGetCString(DirectFunctionCall1(numeric_out, num))),
				 errhint("Keep refunds in a table without the trigger.")));
	return num;
}

/* ------------------------------------------------------------ rule cache */

/*
 * The rules in force for one model (clcm.stage_rule_effective), in the
 * order they are tried (priority, to_stage, condition), with stages as
 * funnel positions.  Row-level tracking evaluates them in C; the cache is
 * dropped by the relcache callback when clcm.stage_rule, clcm.transition
 * or clcm.model change (their statement triggers send relcache
 * invalidations).
 */
typedef struct ActivityRule
{
	int			from;			/* funnel position, or -1 for any stage */
	int			to;				/* funnel position */
	char		cond;			/* a(ctivity) p(urchases) r(evenue) i(nactivity) t(enure) */
	int64		count;			/* purchases threshold */
	Datum		revenue;		/* revenue threshold (numeric) */
	Interval	period;			/* inactivity / tenure period */
} ActivityRule;

typedef struct ActivityRuleSet
{
	struct ActivityRuleSet *next;
	char		model[NAMEDATALEN];
	int			nrules;
	ActivityRule *rules;
} ActivityRuleSet;

static MemoryContext ActivityRuleCxt = NULL;
static ActivityRuleSet *ActivityRules = NULL;
static bool ActivityRulesStale = false;
static Oid	ActivityRuleRelids[3];	/* stage_rule, transition, model */

/*
 * Relcache callback for the rule cache: mark it stale when one of the rule
 * tables changes (or on a full reset).  The memory is released at the next
 * ActivityRulesGet, so a rule set in use stays valid until then.
 */
static void
ActivityRuleCallback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == ActivityRuleRelids[0] ||
		relid == ActivityRuleRelids[1] || relid == ActivityRuleRelids[2])
		ActivityRulesStale = true;
}

/* Funnel position of a stage label in a model, or -1. */
static int
ActivityLabelPosition(ClcmModel *model, const char *label)
{
	int			i;

	for (i = 0; i < model->nstages; i++)
		if (strcmp(model->labels[i], label) == 0)
			return i;
	return -1;
}

/*
 * The rules of a model, loading them with SPI (connected through call)
 * when needed.
 */
static ActivityRuleSet *
ActivityRulesGet(ClcmModel *model, ActivityCall *call)
{
	ActivityRuleSet *set;
	Oid			nsp;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	int			rc;
	uint64		i;
	MemoryContext old;

	if (ActivityRulesStale && ActivityRuleCxt != NULL)
	{
		MemoryContextReset(ActivityRuleCxt);
		ActivityRules = NULL;
	}
	ActivityRulesStale = false;
	for (set = ActivityRules; set != NULL; set = set->next)
		if (strcmp(set->model, model->name) == 0)
			return set;

	if (ActivityRuleCxt == NULL)
	{
		ActivityRuleCxt = AllocSetContextCreate(TopMemoryContext,
												"clcm activity rules",
												ALLOCSET_SMALL_SIZES);
		CacheRegisterRelcacheCallback(ActivityRuleCallback, (Datum) 0);
	}
	nsp = get_namespace_oid(CLCM_SCHEMA, false);
	ActivityRuleRelids[0] = get_relname_relid("stage_rule", nsp);
	ActivityRuleRelids[1] = get_relname_relid("transition", nsp);
	ActivityRuleRelids[2] = get_relname_relid("model", nsp);

	ActivitySpiBegin(call);
	values[0] = CStringGetTextDatum(model->name);
	rc = SPI_execute_with_args("SELECT r.from_stage, r.to_stage, r.condition,"
							   " r.threshold, r.period"
							   " FROM " CLCM_SCHEMA ".stage_rule_effective r"
							   " WHERE r.model OPERATOR(pg_catalog.=) $1"
							   " ORDER BY r.priority, r.to_stage, r.condition",
							   1, argtypes, values, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));

	old = MemoryContextSwitchTo(ActivityRuleCxt);
	set = palloc0(sizeof(ActivityRuleSet));
	strlcpy(set->model, model->name, NAMEDATALEN);
	set->rules = palloc0(sizeof(ActivityRule) * Max(SPI_processed, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		ActivityRule *r = &set->rules[set->nrules];
		char	   *from = SPI_getvalue(tup, desc, 1);
		char	   *to = SPI_getvalue(tup, desc, 2);
		char	   *cond = SPI_getvalue(tup, desc, 3);
		bool		isnull;
		Datum		d;

		r->from = strcmp(from, "*") == 0 ? -1 : ActivityLabelPosition(model, from);
		r->to = ActivityLabelPosition(model, to);
		if ((r->from < 0 && strcmp(from, "*") != 0) || r->to < 0)
			continue;			/* a stage the model no longer has */
		r->cond = cond[0];
		d = SPI_getbinval(tup, desc, 4, &isnull);
		if (!isnull)
		{
			r->revenue = datumCopy(d, false, -1);
			if (r->cond == 'p')
				r->count = DatumGetInt64(DirectFunctionCall1(numeric_int8, d));
		}
		d = SPI_getbinval(tup, desc, 5, &isnull);
		if (!isnull)
			r->period = *DatumGetIntervalP(d);
		set->nrules++;
	}
	set->next = ActivityRules;
	ActivityRules = set;
	MemoryContextSwitchTo(old);
	return set;
}

/*
 * The funnel position the first firing rule moves a customer at position
 * cur to, or -1.  Event rules only (activity when allow_activity,
 * purchases, revenue, tenure as of the event time).
 */
static int
ActivityRuleFire(ClcmModel *model, ActivityRuleSet *set, int cur,
				 int64 purchases, Datum revenue, TimestampTz first_at,
				 TimestampTz ts, bool allow_activity)
{
	int			i;

	for (i = 0; i < set->nrules; i++)
	{
		ActivityRule *r = &set->rules[i];
		bool		fires = false;

		if ((r->from != -1 && r->from != cur) || r->to == cur ||
			!ClcmModelAllows(model, cur, r->to))
			continue;
		switch (r->cond)
		{
			case 'a':
				fires = allow_activity;
				break;
			case 'p':
				fires = purchases >= r->count;
				break;
			case 'r':
				fires = DatumGetBool(DirectFunctionCall2(numeric_ge, revenue,
														 r->revenue));
				break;
			case 't':
				fires = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
																TimestampTzGetDatum(first_at),
																IntervalPGetDatum(&r->period))) <= ts;
				break;
			default:
				break;			/* inactivity: refresh_stages only */
		}
		if (fires)
			return r->to;
	}
	return -1;
}

/* ------------------------------------------------------------ row level */

/*
 * Per-call state of the row-level path.  SPI is connected, and the
 * search_path set to pg_catalog, pg_temp, only when a step needs SQL (a
 * cache miss, a first event, a fallback or a stage move): the steady
 * state runs without either.
 */
struct ActivityCall
{
	bool		connected;		/* SPI_connect done */
	bool		pushed;			/* search_path pushed */
	int			nest;			/* its GUC nest level */
};

/* Connect SPI (if not yet) for the configuration lookup. */
static void
ActivitySpiConnect(ActivityCall *call)
{
	if (call->connected)
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	call->connected = true;
}

/* Connect SPI and set the search_path for the SQL statements that follow. */
static void
ActivitySpiBegin(ActivityCall *call)
{
	ActivitySpiConnect(call);
	if (call->pushed)
		return;
	call->nest = ActivitySearchPathPush();
	call->pushed = true;
}

/* Undo ActivitySpiBegin / ActivitySpiConnect, if done. */
static void
ActivitySpiEnd(ActivityCall *call)
{
	if (call->pushed)
		ActivitySearchPathPop(call->nest);
	if (call->connected)
		SPI_finish();
	call->pushed = false;
	call->connected = false;
}

/* column types of clcm.activity_facts, in table order */
#define FACTS_NATTS 6
static const Oid ActivityFactsTypes[FACTS_NATTS] = {
	REGCLASSOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT8OID, NUMERICOID
};

/*
 * OID of clcm.activity_facts (cached; ActivityRelcacheCallback forgets it
 * and the shape check when the table or its index change).
 */
static Oid
ActivityFactsRelidGet(void)
{
	if (!OidIsValid(ActivityFactsRelid))
	{
		Oid			nsp = get_namespace_oid(CLCM_SCHEMA, false);

		ActivityFactsRelid = get_relname_relid("activity_facts", nsp);
		ActivityFactsChecked = false;
		if (!OidIsValid(ActivityFactsRelid))
			elog(ERROR, "relation " CLCM_SCHEMA ".activity_facts does not exist");
	}
	return ActivityFactsRelid;
}

/*
 * OID of the owner of clcm.activity_facts, the role facts are written as.
 */
static Oid
ActivityFactsOwner(void)
{
	Oid			relid = ActivityFactsRelidGet();
	HeapTuple	tup;
	Oid			owner;

	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/*
 * Whether the (open) facts table has exactly the shape the direct write
 * assumes: a heap with the six columns of the install script, no
 * triggers, no row security, no CHECK constraint, and one index, the
 * primary key btree on (table_name, customer_key) with the built-in
 * operator families.  Anything else (a user added an index or a trigger)
 * sends the write through SQL.  Cached until the table changes.
 */
static bool
ActivityFactsShapeOk(Relation facts)
{
	TupleDesc	desc = RelationGetDescr(facts);
	List	   *indexes;
	Relation	pk;
	int			i;
	bool		ok;

	if (ActivityFactsChecked)
		return ActivityFactsDirect;
	ActivityFactsDirect = false;
	ActivityFactsPkey = InvalidOid;
	ok = facts->rd_rel->relkind == RELKIND_RELATION &&
		facts->rd_rel->relam == HEAP_TABLE_AM_OID &&
		!facts->rd_rel->relhastriggers &&
		!facts->rd_rel->relrowsecurity &&
		desc->natts == FACTS_NATTS &&
		(desc->constr == NULL || desc->constr->num_check == 0);
	for (i = 0; ok && i < FACTS_NATTS; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		ok = !att->attisdropped && att->atttypid == ActivityFactsTypes[i];
	}
	indexes = ok ? RelationGetIndexList(facts) : NIL;
	if (ok && list_length(indexes) == 1 &&
		linitial_oid(indexes) == facts->rd_pkindex)
	{
		pk = index_open(linitial_oid(indexes), AccessShareLock);
		ok = pk->rd_rel->relam == BTREE_AM_OID &&
			pk->rd_index->indisunique && pk->rd_index->indisvalid &&
			pk->rd_index->indisready && pk->rd_index->indislive &&
			pk->rd_index->indnatts == 2 &&
			IndexRelationGetNumberOfKeyAttributes(pk) == 2 &&
			pk->rd_index->indkey.values[0] == 1 &&
			pk->rd_index->indkey.values[1] == 2 &&
			pk->rd_opfamily[0] == OID_BTREE_FAM_OID &&
			pk->rd_opfamily[1] == TEXT_BTREE_FAM_OID &&
			heap_attisnull(pk->rd_indextuple, Anum_pg_index_indexprs, NULL) &&
			heap_attisnull(pk->rd_indextuple, Anum_pg_index_indpred, NULL);
		if (ok)
			ActivityFactsPkey = RelationGetRelid(pk);
		index_close(pk, NoLock);
	}
	else
		ok = false;
	list_free(indexes);
	ActivityFactsDirect = ok;
	ActivityFactsChecked = true;
	return ok;
}

/*
 * The new version of a facts row (old) after one event at ts with
 * amount (numeric, or 0 for none): earliest and latest event, one more
 * purchase, revenue plus the amount.  Also returns the new first_at,
 * purchases and revenue (copied).  Computes what the SQL upsert's
 * DO UPDATE SET does.
 */
static HeapTuple
ActivityFactsNext(Relation facts, HeapTuple old, TimestampTz ts,
				  Datum amount, TimestampTz *first_at, int64 *purchases,
				  Datum *revenue)
{
	TupleDesc	desc = RelationGetDescr(facts);
	Datum		values[FACTS_NATTS];
	bool		nulls[FACTS_NATTS];
	bool		repl[FACTS_NATTS];
	TimestampTz f;
	TimestampTz l;
	int64		p;

	heap_deform_tuple(old, desc, values, nulls);
	if (nulls[2] || nulls[3] || nulls[4] || nulls[5])
		elog(ERROR, "NULL in a NOT NULL column of " CLCM_SCHEMA ".activity_facts");
	memset(repl, 0, sizeof(repl));
	f = DatumGetTimestampTz(values[2]);
	l = DatumGetTimestampTz(values[3]);
	if (ts < f)
	{
		values[2] = TimestampTzGetDatum(ts);
		repl[2] = true;
		f = ts;
	}
	if (ts > l)
	{
		values[3] = TimestampTzGetDatum(ts);
		repl[3] = true;
	}
	if (pg_add_s64_overflow(DatumGetInt64(values[4]), 1, &p))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("bigint out of range")));
	values[4] = Int64GetDatum(p);
	repl[4] = true;
	if (amount != (Datum) 0)
	{
		values[5] = DirectFunctionCall2(numeric_add, values[5], amount);
		repl[5] = true;
	}
	*first_at = f;
	*purchases = p;
	*revenue = datumCopy(values[5], false, -1);
	return heap_modify_tuple(old, desc, values, nulls, repl);
}

/*
 * The version visible to snap of the facts row in the HOT chain at root
 * (copied into *tuple, its TID in *tid); with key (a cached TID), only if
 * it is the row of (relid, key).  *all_dead as heap_hot_search_buffer.
 * Unlike the index fetch, which prunes the heap page at nearly every
 * access once the page is past its fillfactor (a pass over the page and a
 * WAL record, to remove the one version the previous event left), this
 * prunes only when the page has no room left for two more versions of
 * the row, so that one prune removes a batch of dead versions and the
 * update that follows can still be HOT.
 */
static bool
ActivityFactsAt(Relation facts, Snapshot snap, ItemPointer root, Oid relid,
				text *key, ItemPointer tid, HeapTuple *tuple, bool *all_dead,
				Buffer *recent)
{
	ItemPointerData htid = *root;
	HeapTupleData tup;
	Buffer		buf;
	bool		found;
	Size		need;

	buf = ActivityReadBuffer(facts, ItemPointerGetBlockNumber(&htid), recent);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	found = heap_hot_search_buffer(&htid, facts, buf, snap, &tup, all_dead, true);
	if (found && key != NULL)
	{
		TupleDesc	desc = RelationGetDescr(facts);
		bool		isnull;
		Datum		t = heap_getattr(&tup, 1, desc, &isnull);
		struct varlena *k;

		found = !isnull && DatumGetObjectId(t) == relid;
		if (found)
		{
			k = (struct varlena *) DatumGetPointer(heap_getattr(&tup, 2, desc, &isnull));
			/* a toasted key is not compared here: the index will find it */
			found = !isnull && !VARATT_IS_EXTERNAL(k) && !VARATT_IS_COMPRESSED(k) &&
				VARSIZE_ANY_EXHDR(k) == VARSIZE_ANY_EXHDR(key) &&
				memcmp(VARDATA_ANY(k), VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key)) == 0;
		}
	}
	if (found)
	{
		*tuple = heap_copytuple(&tup);
		*tid = htid;
	}
	LockBuffer(buf, BUFFER_LOCK_UNLOCK);
	if (found)
	{
		need = 2 * (MAXALIGN((*tuple)->t_len) + sizeof(ItemIdData));
		if (PageGetHeapFreeSpace(BufferGetPage(buf)) < need)
			heap_page_prune_opt(facts, buf);
	}
	ReleaseBuffer(buf);
	return found;
}

/*
 * Fetch the facts row an index scan finds, as ActivityFactsAt; *root gets
 * the TID the index gave (for the TID cache).
 */
static bool
ActivityFactsFetch(Relation facts, IndexScanDesc scan, Snapshot snap,
				   ItemPointer tid, HeapTuple *tuple, ItemPointer root,
				   Buffer *buf)
{
	ItemPointer itid;

	while ((itid = index_getnext_tid(scan, ForwardScanDirection)) != NULL)
	{
		bool		all_dead;

		*root = *itid;
		*buf = InvalidBuffer;
		if (ActivityFactsAt(facts, snap, root, InvalidOid, NULL, tid, tuple,
							&all_dead, buf))
			return true;
		/* as index_fetch_heap: let the index mark a dead entry */
		if (!scan->xactStartedInRecovery)
			scan->kill_prior_tuple = all_dead;
	}
	return false;
}

/*
 * Direct update of an existing facts row for one event, without SQL.
 * Returns false, having written nothing, when the SQL upsert must do it:
 * no row yet for the customer (or it was deleted concurrently), or a facts
 * table of unexpected shape.
 *
 * Concurrency: the row is found with a fresh snapshot and updated in place
 * (heap_update waits for a concurrent writer of the row).  If another
 * event updated it meanwhile, the newest version is locked
 * (TUPLE_LOCK_FLAG_FIND_LAST_VERSION, waiting for its writer) and the
 * values recomputed from it, as INSERT ... ON CONFLICT DO UPDATE does in
 * READ COMMITTED; so concurrent events of one customer serialise on the
 * row and every one counts.  The write is done as the facts table's owner
 * (no user code runs in it); triggers and policies of the facts table are
 * not involved (the shape check sends the write through SQL if it has
 * any).  A non-HOT update also gets its index entry, as
 * CatalogTupleUpdate does.
 */
static bool
ActivityFactsUpdateDirect(ActivityConfig *cfg, ActivityTidRef *ref,
						  text *key_text, TimestampTz ts, Datum amount,
						  TimestampTz *first_at, int64 *purchases,
						  Datum *revenue)
{
	Relation	facts;
	Relation	pk = NULL;
	ItemPointer cached;
	ItemPointerData root;
	Snapshot	snap;
	ScanKeyData keys[2];
	IndexScanDesc scan;
	TupleTableSlot *slot = NULL;
	HeapTuple	oldtup;
	HeapTuple	newtup;
	ItemPointerData tid;
	TM_Result	res;
	TM_FailureData tmfd;
	LockTupleMode lockmode;
	CommandId	cid;
	Oid			save_userid;
	int			save_sec;
	bool		found;
	bool		all_dead;
	Buffer		recent = InvalidBuffer;

	facts = table_open(ActivityFactsRelidGet(), RowExclusiveLock);
	if (!ActivityFactsShapeOk(facts))
	{
		table_close(facts, NoLock);
		return false;
	}

	snap = RegisterSnapshot(GetLatestSnapshot());
	/* where the row was last time (the index is not even opened then) */
	ActivityTidLookup(cfg->cust_relid, key_text, ref);
	cached = ActivityTidGet(ref, true, &recent);
	found = cached != NULL &&
		ActivityFactsAt(facts, snap, cached, cfg->cust_relid, key_text,
						&tid, &oldtup, &all_dead, &recent);
	if (found)
		ref->slot->fbuf = recent;
	if (!found)
	{
		pk = index_open(ActivityFactsPkey, RowExclusiveLock);
		ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_OIDEQ,
					ObjectIdGetDatum(cfg->cust_relid));
		ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, F_TEXTEQ,
					PointerGetDatum(key_text));
		keys[1].sk_collation = pk->rd_indcollation[1];
		scan = index_beginscan(facts, pk, snap, 2, 0);
		index_rescan(scan, keys, 2, NULL, 0);
		found = ActivityFactsFetch(facts, scan, snap, &tid, &oldtup, &root, &recent);
		index_endscan(scan);
		if (found)
			ActivityTidPut(ref, true, &root, recent);
	}

	if (found)
	{
		GetUserIdAndSecContext(&save_userid, &save_sec);
		SetUserIdAndSecContext(facts->rd_rel->relowner,
							   save_sec | SECURITY_LOCAL_USERID_CHANGE |
							   SECURITY_RESTRICTED_OPERATION);
		cid = GetCurrentCommandId(true);
		newtup = ActivityFactsNext(facts, oldtup, ts, amount, first_at,
								   purchases, revenue);
		res = heap_update(facts, &tid, newtup, cid, InvalidSnapshot, true,
						  &tmfd, &lockmode);
		if (res == TM_Updated)
		{
			/* another event got there first: lock its version, redo */
			heap_freetuple(newtup);
			slot = table_slot_create(facts, NULL);
			res = table_tuple_lock(facts, &tid, snap, slot, cid,
								   LockTupleNoKeyExclusive, LockWaitBlock,
								   TUPLE_LOCK_FLAG_FIND_LAST_VERSION, &tmfd);
			if (res == TM_Ok)
			{
				tid = slot->tts_tid;
				newtup = ActivityFactsNext(facts,
										   ExecFetchSlotHeapTuple(slot, false, NULL),
										   ts, amount, first_at,
										   purchases, revenue);
				simple_heap_update(facts, &tid, newtup);
			}
		}
		if (res == TM_Ok && !HeapTupleIsHeapOnly(newtup))
		{
			IndexInfo  *ii;
			Datum		iv[2];
			bool		inull[2];

			if (pk == NULL)
				pk = index_open(ActivityFactsPkey, RowExclusiveLock);
			ii = BuildIndexInfo(pk);

			iv[0] = heap_getattr(newtup, 1, RelationGetDescr(facts), &inull[0]);
			iv[1] = heap_getattr(newtup, 2, RelationGetDescr(facts), &inull[1]);
			(void) index_insert(pk, iv, inull, &newtup->t_self, facts,
								UNIQUE_CHECK_YES, true, ii);
			/* a new chain: the index entry just made points here */
			ActivityTidPut(ref, true, &newtup->t_self, InvalidBuffer);
		}
		SetUserIdAndSecContext(save_userid, save_sec);
		if (res == TM_Ok)
			ereport(DEBUG1,
					(errmsg_internal("track_activity: facts of customer \"%s\" updated directly (%s)",
									 text_to_cstring(key_text),
									 HeapTupleIsHeapOnly(newtup) ? "HOT" : "not HOT")));
		if (res == TM_Deleted)
			found = false;		/* deleted meanwhile: insert with SQL */
		else if (res != TM_Ok)
			elog(ERROR, "unexpected result %d updating " CLCM_SCHEMA ".activity_facts",
				 (int) res);
	}
	if (slot != NULL)
		ExecDropSingleTupleTableSlot(slot);
	UnregisterSnapshot(snap);
	if (pk != NULL)
		index_close(pk, NoLock);
	table_close(facts, NoLock);
	return found;
}

/*
 * The SQL upsert of the facts for one event (the first event of a
 * customer, or when the direct path does not apply), as the owner of
 * clcm.activity_facts.
 */
static void
ActivityFactsUpsert(ActivityConfig *cfg, ActivityCall *call, text *key_text,
					TimestampTz ts, Datum amount, TimestampTz *first_at,
					int64 *purchases, Datum *revenue)
{
	Datum		values[4];
	Oid			argtypes[4];
	Oid			save_userid;
	int			save_sec;
	bool		isnull;
	int			rc;

	ActivitySpiBegin(call);
	if (cfg->facts_plan == NULL)
	{
		argtypes[0] = REGCLASSOID;
		argtypes[1] = TEXTOID;
		argtypes[2] = TIMESTAMPTZOID;
		argtypes[3] = NUMERICOID;
		cfg->facts_plan = ActivityPrepare(
										  "INSERT INTO " CLCM_SCHEMA ".activity_facts AS f"
										  " (table_name, customer_key, first_at, last_at, purchases, revenue)"
										  " VALUES ($1, $2, $3, $3, 1, $4)"
										  " ON CONFLICT (table_name, customer_key) DO UPDATE SET"
										  " first_at = LEAST(f.first_at, EXCLUDED.first_at),"
										  " last_at = GREATEST(f.last_at, EXCLUDED.last_at),"
										  " purchases = f.purchases OPERATOR(pg_catalog.+) 1,"
										  " revenue = f.revenue OPERATOR(pg_catalog.+) EXCLUDED.revenue"
										  " RETURNING first_at, purchases, revenue",
										  4, argtypes);
	}
	values[0] = ObjectIdGetDatum(cfg->cust_relid);
	values[1] = PointerGetDatum(key_text);
	values[2] = TimestampTzGetDatum(ts);
	values[3] = amount != (Datum) 0 ? amount
		: DirectFunctionCall1(int4_numeric, Int32GetDatum(0));
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(ActivityFactsOwner(),
						   save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	rc = SPI_execute_plan(cfg->facts_plan, values, NULL, false, 0);
	SetUserIdAndSecContext(save_userid, save_sec);
	if (rc != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
		elog(ERROR, "upsert of activity facts failed: %s", SPI_result_code_string(rc));
	*first_at = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0],
												  SPI_tuptable->tupdesc, 1, &isnull));
	*purchases = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
											 SPI_tuptable->tupdesc, 2, &isnull));
	*revenue = datumCopy(SPI_getbinval(SPI_tuptable->vals[0],
									   SPI_tuptable->tupdesc, 3, &isnull),
						 false, -1);
}

/*
 * The version visible to snap of the customer row in the HOT chain at
 * root, and its stage (the stage type is an enum: passed by value); with
 * key (a cached TID), only if the row carries the key.  *all_dead as
 * heap_hot_search_buffer (may be NULL).
 */
static bool
ActivityCustAt(ActivityConfig *cfg, Relation cust, Snapshot snap,
			   ItemPointer root, const Datum *key, Datum *stage, bool *isnull,
			   bool *all_dead, Buffer *recent)
{
	ItemPointerData htid = *root;
	HeapTupleData tup;
	Buffer		buf;
	bool		found;
	bool		dead;

	buf = ActivityReadBuffer(cust, ItemPointerGetBlockNumber(&htid), recent);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	found = heap_hot_search_buffer(&htid, cust, buf, snap, &tup, &dead, true);
	if (found && key != NULL)
	{
		bool		knull;
		Datum		k = heap_getattr(&tup, cfg->cust_key_att, RelationGetDescr(cust), &knull);

		found = !knull &&
			DatumGetBool(FunctionCall2Coll(&cfg->cust_eq_fn, cfg->cust_index_coll, k, *key));
	}
	if (found)
		*stage = heap_getattr(&tup, cfg->cust_stage_att, RelationGetDescr(cust), isnull);
	LockBuffer(buf, BUFFER_LOCK_UNLOCK);
	ReleaseBuffer(buf);
	if (all_dead != NULL)
		*all_dead = dead;
	return found;
}

/*
 * Read the customer's stage through the unique key index, without SQL.
 * Returns the number of customers found (0, 1, or 2 meaning "more than
 * one") and the stage of the first in *stage / *isnull; -1 when the direct
 * read does not apply and the SQL read must be used: no suitable index,
 * the current user lacks SELECT on the table (the SQL read then checks
 * column privileges and raises the error), or row security applies.
 * The index scan uses a fresh snapshot, as the SQL read does in READ
 * COMMITTED, so it sees what a concurrent earlier event committed.
 */
static int
ActivityStageReadDirect(ActivityConfig *cfg, ActivityTidRef *ref, Datum key,
						Datum *stage, bool *isnull)
{
	Relation	cust;
	Relation	idx;
	Snapshot	snap;
	ScanKeyData skey;
	IndexScanDesc scan;
	ItemPointer itid;
	ItemPointer cached;
	Buffer		recent = InvalidBuffer;
	int			n = 0;

	if (!OidIsValid(cfg->cust_index))
		return -1;
	if (pg_class_aclcheck(cfg->cust_relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		return -1;
	if (check_enable_rls(cfg->cust_relid, InvalidOid, true) == RLS_ENABLED)
		return -1;
	cust = try_table_open(cfg->cust_relid, AccessShareLock);
	if (cust == NULL)
		return -1;
	/* invalidations processed by the lock may have changed the config */
	if (!cfg->valid)
	{
		table_close(cust, NoLock);
		return -1;
	}

	snap = RegisterSnapshot(GetLatestSnapshot());
	/*
	 * Where the row was last time.  Only for a unique index checked at
	 * once: then the one version visible with the key is the customer.
	 */
	ActivityTidCheckInval();
	cached = cfg->cust_index_immediate ? ActivityTidGet(ref, false, &recent) : NULL;
	if (cached != NULL &&
		ActivityCustAt(cfg, cust, snap, cached, &key, stage, isnull, NULL, &recent))
	{
		ref->slot->cbuf = recent;
		ereport(DEBUG1,
				(errmsg_internal("track_activity: stage read at the cached TID of the customer's row")));
		UnregisterSnapshot(snap);
		table_close(cust, NoLock);
		return 1;
	}

	if ((idx = try_relation_open(cfg->cust_index, AccessShareLock)) == NULL)
	{
		UnregisterSnapshot(snap);
		table_close(cust, NoLock);
		return -1;
	}
	if (idx->rd_rel->relkind != RELKIND_INDEX)
	{
		UnregisterSnapshot(snap);
		relation_close(idx, NoLock);
		table_close(cust, NoLock);
		return -1;
	}
	ScanKeyEntryInitialize(&skey, 0, 1, BTEqualStrategyNumber,
						   cfg->cust_eq_subtype, cfg->cust_index_coll,
						   cfg->cust_eq_proc, key);
	scan = index_beginscan(cust, idx, snap, 1, 0);
	index_rescan(scan, &skey, 1, NULL, 0);
	while (n < 2 && (itid = index_getnext_tid(scan, ForwardScanDirection)) != NULL)
	{
		ItemPointerData root = *itid;
		Datum		d;
		bool		dnull;
		bool		all_dead;

		recent = InvalidBuffer;
		if (!ActivityCustAt(cfg, cust, snap, &root, NULL, &d, &dnull, &all_dead, &recent))
		{
			/* as index_fetch_heap: let the index mark a dead entry */
			if (!scan->xactStartedInRecovery)
				scan->kill_prior_tuple = all_dead;
			continue;
		}
		if (n == 0)
		{
			*stage = d;
			*isnull = dnull;
			if (cfg->cust_index_immediate)
				ActivityTidPut(ref, false, &root, recent);
		}
		n++;
	}
	index_endscan(scan);
	UnregisterSnapshot(snap);
	ereport(DEBUG1,
			(errmsg_internal("track_activity: stage read through index \"%s\"",
							 RelationGetRelationName(idx))));
	relation_close(idx, NoLock);
	table_close(cust, NoLock);
	return n;
}

/*
 * The SQL read of the customer's stage; same result convention as
 * ActivityStageReadDirect.
 */
static int
ActivityStageReadSql(ActivityConfig *cfg, ActivityCall *call, Datum key,
					 Datum *stage, bool *isnull)
{
	Datum		values[1];
	Oid			argtypes[1];
	int			rc;

	ActivitySpiBegin(call);
	if (cfg->stage_plan == NULL)
	{
		char	   *sql;

		argtypes[0] = cfg->key_typid;
		sql = psprintf("SELECT c.%s FROM %s c WHERE c.%s %s $1",
					   cfg->stage_col, cfg->cust_name, cfg->key_col, cfg->key_eq);
		cfg->stage_plan = ActivityPrepare(sql, 1, argtypes);
	}
	values[0] = key;
	rc = SPI_execute_plan(cfg->stage_plan, values, NULL, false, 2);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	if (SPI_processed > 0)
		*stage = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
							   isnull);
	return (int) SPI_processed;
}

/*
 * Row level: account one event for one customer and apply the rules.
 *
 * The facts update comes first: its row lock serialises concurrent events
 * of one customer, so the stage read next (a new snapshot) sees the
 * committed result of an earlier event.  The stage update is conditional
 * on the stage read, so a concurrent change by someone else wins.
 *
 * In the steady state (the customer has facts, the customer table has a
 * unique index on its key, READ COMMITTED) both steps run without SQL
 * (ActivityFactsUpdateDirect, ActivityStageReadDirect); the SQL forms are
 * the fallbacks.  Only a stage move runs SQL: an UPDATE of the customer,
 * so the table's guard validates and records it.
 */
static void
ActivityTrackRow(TriggerData *trigdata, ActivityConfig *cfg,
				 ActivityCall *call)
{
	HeapTuple	tuple = trigdata->tg_trigtuple;
	TupleDesc	desc = RelationGetDescr(trigdata->tg_relation);
	Datum		cust_value;
	Datum		ts_value;
	Datum		amount = (Datum) 0;
	bool		isnull;
	Datum		key;
	char	   *key_cstr;
	text	   *key_text;
	Datum		values[3];
	int			rc;
	TimestampTz first_at;
	int64		purchases;
	Datum		revenue;
	Datum		stage_datum = (Datum) 0;
	Oid			stage;
	ClcmModel  *model;
	int			step;
	int			nfound;
	bool		direct = !IsolationUsesXactSnapshot();
	ActivityTidRef tidref = {NULL, 0};

	cust_value = heap_getattr(tuple, cfg->ev_cust_att, desc, &isnull);
	if (isnull)
		return;					/* not attributable to a customer */
	/*
	 * The I/O functions of a key type of the user's run, like all SQL of
	 * the trigger, under the pinned search_path.
	 */
	if (!cfg->key_builtin)
		ActivitySpiBegin(call);
	/* the key in the key column's type and its canonical text */
	if (cfg->same_key_type)
		key = cust_value;
	else
		key = InputFunctionCall(&cfg->key_in_fn,
								OutputFunctionCall(&cfg->ev_cust_out_fn, cust_value),
								cfg->key_ioparam, -1);
	key_cstr = OutputFunctionCall(&cfg->key_out_fn, key);
	key_text = cstring_to_text(key_cstr);

	ts_value = heap_getattr(tuple, cfg->ev_ts_att, desc, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("track_activity: column \"%s\" of an event cannot be NULL",
						SPI_fname(desc, cfg->ev_ts_att))));
	ts_value = ActivityEventTime(cfg, ts_value);
	if (TIMESTAMP_NOT_FINITE(DatumGetTimestampTz(ts_value)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("track_activity: event timestamp must be finite")));
	if (cfg->ev_amount_att != 0)
	{
		Datum		a = heap_getattr(tuple, cfg->ev_amount_att, desc, &isnull);

		if (!isnull)
			amount = ActivityEventAmount(cfg, a);
	}

	/*
	 * Make what earlier events of this transaction wrote (facts, stage
	 * moves) visible to the snapshots taken below, as SPI would.
	 */
	CommandCounterIncrement();

	/* 1. account the event in the facts */
	if (!direct ||
		!ActivityFactsUpdateDirect(cfg, &tidref, key_text,
								   DatumGetTimestampTz(ts_value), amount,
								   &first_at, &purchases, &revenue))
		ActivityFactsUpsert(cfg, call, key_text, DatumGetTimestampTz(ts_value),
							amount, &first_at, &purchases, &revenue);

	/* 2. read the customer's stage (error for an unknown customer) */
	if (direct && tidref.slot == NULL)
		ActivityTidLookup(cfg->cust_relid, key_text, &tidref);
	nfound = direct ? ActivityStageReadDirect(cfg, &tidref, key, &stage_datum, &isnull) : -1;
	if (nfound < 0)
		nfound = ActivityStageReadSql(cfg, call, key, &stage_datum, &isnull);
	if (nfound == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("track_activity: customer \"%s\" does not exist in table %s",
						key_cstr, cfg->cust_name),
				 errhint("Insert the customer before its events, or add a foreign key to the events table.")));
	if (nfound > 1)
		ereport(ERROR,
				(errcode(ERRCODE_CARDINALITY_VIOLATION),
				 errmsg("track_activity: key \"%s\" matches more than one customer in table %s",
						key_cstr, cfg->cust_name),
				 errhint("The key column must be unique.")));
	if (isnull)
		return;					/* no stage yet: facts only */
	stage = DatumGetObjectId(stage_datum);

	/* 3. apply the first firing rule until none fires */
	for (step = 0; step < cfg->nstages; step++)
	{
		ActivityRuleSet *rules;
		int			cur;
		int			to;
		int			nest;
		Oid			to_value;

		model = ClcmModelLookup(cfg->stage_typid);
		if (!model->is_model)
			ereport(ERROR,
					(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
					 errmsg("track_activity: the stage column of table %s is no longer of a model's stage type",
							cfg->cust_name)));
		rules = ActivityRulesGet(model, call);
		model = ClcmModelLookup(cfg->stage_typid);	/* SPI may have invalidated it */
		cur = ClcmModelStagePosition(model, stage);
		to = ActivityRuleFire(model, rules, cur, purchases, revenue, first_at,
							  DatumGetTimestampTz(ts_value), step == 0);
		if (to < 0)
			break;
		to_value = model->values[to];

		ActivitySpiBegin(call);
		if (cfg->move_plan == NULL)
		{
			char	   *sql;
			Oid			argtypes[3];

			argtypes[0] = cfg->stage_typid;
			argtypes[1] = cfg->key_typid;
			argtypes[2] = cfg->stage_typid;
			sql = psprintf("UPDATE %s c SET %s = $1 WHERE c.%s %s $2 AND c.%s %s $3",
						   cfg->cust_name, cfg->stage_col, cfg->key_col, cfg->key_eq,
						   cfg->stage_col, cfg->stage_eq);
			cfg->move_plan = ActivityPrepare(sql, 3, argtypes);
		}
		values[0] = ObjectIdGetDatum(to_value);
		values[1] = key;
		values[2] = ObjectIdGetDatum(stage);
		nest = ActivityReasonPush("activity");
		rc = SPI_execute_plan(cfg->move_plan, values, NULL, false, 0);
		ActivityReasonPop(nest);
		if (rc != SPI_OK_UPDATE)
			elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
		if (SPI_processed == 0)
			break;				/* changed concurrently: leave it */
		stage = to_value;
	}
}

/*
 * Run set-based moves until nobody moves, at most nstages passes.  The
 * first pass (sql_first, parameters 1..nargs) covers the whole scope; each
 * later pass (sql_next) covers only the customers the previous pass moved,
 * passed as an array of keys in parameter nargs + 1 (a customer no rule
 * moved is not moved by the next pass either: its stage and facts are
 * unchanged).  Returns the number moved by the first pass, which is the
 * number of customers moved.
 */
static uint64
ActivityMoveLoop(ActivityTarget *t, const char *sql_first,
				 const char *sql_next, int nargs, Oid *argtypes,
				 Datum *values, const char *reason)
{
	uint64		moved = 0;
	int			pass;
	Oid		   *types = palloc(sizeof(Oid) * (nargs + 1));
	Datum	   *vals = palloc(sizeof(Datum) * (nargs + 1));
	int16		typlen;
	bool		typbyval;
	char		typalign;

	memcpy(types, argtypes, sizeof(Oid) * nargs);
	memcpy(vals, values, sizeof(Datum) * nargs);
	types[nargs] = get_array_type(t->key_typid);
	if (!OidIsValid(types[nargs]))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("key type %s of table %s has no array type",
						format_type_be(t->key_typid), t->cust_name)));
	get_typlenbyvalalign(t->key_typid, &typlen, &typbyval, &typalign);

	for (pass = 0; pass <= t->nstages; pass++)
	{
		int			rc;
		int			nest;
		Datum	   *keys;
		uint64		i;
		bool		isnull;

		CHECK_FOR_INTERRUPTS();
		if (pass == t->nstages)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("rules of model \"%s\" keep moving customers of table %s in a cycle",
							t->model, t->cust_name),
					 errhint("Check clcm.stage_rule for rules that undo each other.")));
		nest = ActivityReasonPush(reason);
		rc = SPI_execute_with_args(pass == 0 ? sql_first : sql_next,
								   pass == 0 ? nargs : nargs + 1,
								   types, vals, NULL, false, 0);
		ActivityReasonPop(nest);
		if (rc != SPI_OK_UPDATE_RETURNING)
			elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
		if (pass == 0)
			moved = SPI_processed;
		if (SPI_processed == 0)
			break;
		if (SPI_processed > (uint64) (MaxAllocSize / sizeof(Datum)))
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("too many customers moved in one pass")));
		/* the keys moved by this pass scope the next one */
		keys = palloc(sizeof(Datum) * SPI_processed);
		for (i = 0; i < SPI_processed; i++)
			keys[i] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc,
									1, &isnull);
		vals[nargs] = PointerGetDatum(construct_array(keys, (int) SPI_processed,
													  t->key_typid, typlen,
													  typbyval, typalign));
		pfree(keys);
		SPI_freetuptable(SPI_tuptable);
	}
	return moved;
}

/*
 * Statement level: account all events of the statement (transition table)
 * per customer, set-based.
 */
static void
ActivityTrackStatement(TriggerData *trigdata, ActivityConfig *cfg)
{
	const char *newtab = trigdata->tg_trigger->tgnewtable;
	ActivityTarget t;
	char	   *ntab;
	char	   *ts_expr;
	char	   *amount_expr;
	char	   *keys;
	char	   *sql;
	char	   *scope;
	char	   *sql_first;
	char	   *sql_next;
	Oid			argtypes[2] = {REGCLASSOID, TEXTOID};
	Datum		values[2];
	Oid			facts_types[6] = {REGCLASSOID, TEXTARRAYOID, TIMESTAMPTZARRAYOID,
	TIMESTAMPTZARRAYOID, INT8ARRAYOID, NUMERICARRAYOID};
	Datum		facts[6];
	int			rc;
	int			i;
	bool		isnull;
	Oid			save_userid;
	int			save_sec;

	if (SPI_register_trigger_data(trigdata) != SPI_OK_TD_REGISTER)
		elog(ERROR, "SPI_register_trigger_data failed");
	ActivityTargetFromConfig(cfg, &t);
	ntab = pstrdup(quote_identifier(newtab));
	ts_expr = psprintf("CAST(n.%s AS pg_catalog.timestamptz)", cfg->ev_ts_name);
	amount_expr = cfg->ev_amount_name != NULL
		? psprintf("CAST(n.%s AS pg_catalog.numeric)", cfg->ev_amount_name)
		: pstrdup("CAST(0 AS pg_catalog.numeric)");
	/* the statement's customers, as values of the key type */
	keys = psprintf("SELECT CAST(n.%s AS %s) FROM %s n WHERE n.%s IS NOT NULL",
					cfg->ev_cust_name, cfg->key_type, ntab, cfg->ev_cust_name);

	/* checks: NULL or infinite timestamps, negative or NaN amounts */
	sql = psprintf("SELECT pg_catalog.count(*) FILTER (WHERE %s IS NULL"
				   " OR NOT pg_catalog.isfinite(%s)),"
				   " pg_catalog.count(*) FILTER (WHERE %s OPERATOR(pg_catalog.<) CAST(0 AS pg_catalog.numeric)"
				   " OR %s OPERATOR(pg_catalog.=) CAST('NaN' AS pg_catalog.numeric)"
				   " OR %s OPERATOR(pg_catalog.=) CAST('Infinity' AS pg_catalog.numeric))"
				   " FROM %s n WHERE n.%s IS NOT NULL",
				   ts_expr, ts_expr, amount_expr, amount_expr, amount_expr,
				   ntab, cfg->ev_cust_name);
	rc = SPI_execute(sql, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	if (DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("track_activity: column \"%s\" of an event cannot be NULL or infinite",
						cfg->ev_ts_name)));
	if (DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull)) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("track_activity: amount must be a finite number greater than or equal to 0"),
				 errhint("Keep refunds in a table without the trigger.")));

	/* 1. unknown customers fail the statement */
	sql = psprintf("SELECT k.k FROM (SELECT DISTINCT k FROM (%s) s(k)) k"
				   " WHERE NOT EXISTS (SELECT 1 FROM %s c WHERE c.%s %s k.k) LIMIT 1",
				   keys, t.cust_name, t.key_col, t.key_eq);
	rc = SPI_execute(sql, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	if (SPI_processed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("track_activity: customer \"%s\" does not exist in table %s",
						SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1),
						t.cust_name),
				 errhint("Insert the customer before its events, or add a foreign key to the events table.")));

	/*
	 * 2a. per-customer aggregates of the statement, computed as the user
	 * (the casts and grouping of the user's key type run with the user's
	 * privileges), sorted by key
	 */
	sql = psprintf("SELECT pg_catalog.array_agg(s.k ORDER BY s.k),"
				   " pg_catalog.array_agg(s.f ORDER BY s.k),"
				   " pg_catalog.array_agg(s.l ORDER BY s.k),"
				   " pg_catalog.array_agg(s.c ORDER BY s.k),"
				   " pg_catalog.array_agg(s.r ORDER BY s.k)"
				   " FROM (SELECT CAST(CAST(n.%s AS %s) AS pg_catalog.text) AS k,"
				   " pg_catalog.min(%s) AS f, pg_catalog.max(%s) AS l,"
				   " pg_catalog.count(*) AS c,"
				   " COALESCE(pg_catalog.sum(%s), CAST(0 AS pg_catalog.numeric)) AS r"
				   " FROM %s n WHERE n.%s IS NOT NULL GROUP BY 1) s",
				   cfg->ev_cust_name, t.key_type, ts_expr, ts_expr, amount_expr,
				   ntab, cfg->ev_cust_name);
	rc = SPI_execute(sql, true, 0);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	(void) SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		return;					/* no event with a customer */
	for (i = 0; i < 5; i++)
		facts[i + 1] = datumCopy(SPI_getbinval(SPI_tuptable->vals[0],
											   SPI_tuptable->tupdesc, i + 1,
											   &isnull),
								 false, -1);

	/*
	 * 2b. upsert them as the facts table's owner, only built-in types
	 * involved; in key order, so that concurrent batches lock facts rows in
	 * the same order (no deadlock) and one waits for the other on its first
	 * common customer before it moves any stage
	 */
	facts[0] = ObjectIdGetDatum(t.relid);
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(ActivityFactsOwner(),
						   save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	rc = SPI_execute_with_args("INSERT INTO " CLCM_SCHEMA ".activity_facts AS f"
							   " (table_name, customer_key, first_at, last_at, purchases, revenue)"
							   " SELECT $1, u.k, u.f, u.l, u.c, u.r"
							   " FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3),"
							   " pg_catalog.unnest($4), pg_catalog.unnest($5),"
							   " pg_catalog.unnest($6))"
							   " WITH ORDINALITY u(k, f, l, c, r, o)"
							   " ORDER BY u.o"
							   " ON CONFLICT (table_name, customer_key) DO UPDATE SET"
							   " first_at = LEAST(f.first_at, EXCLUDED.first_at),"
							   " last_at = GREATEST(f.last_at, EXCLUDED.last_at),"
							   " purchases = f.purchases OPERATOR(pg_catalog.+) EXCLUDED.purchases,"
							   " revenue = f.revenue OPERATOR(pg_catalog.+) EXCLUDED.revenue",
							   6, facts_types, facts, NULL, false, 0);
	SetUserIdAndSecContext(save_userid, save_sec);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "upsert of activity facts failed: %s", SPI_result_code_string(rc));

	values[0] = ObjectIdGetDatum(t.relid);
	values[1] = CStringGetTextDatum(t.model);

	/* 3. move the stages of the statement's customers */
	scope = psprintf("EXISTS (SELECT 1 FROM (%s) s(k) WHERE c2.%s %s s.k)",
					 keys, t.key_col, t.key_eq);
	sql_first = ActivityMoveSql(&t, scope, "true", "f.last_at", true, false);
	sql_next = ActivityMoveSql(&t, psprintf("c2.%s %s ANY ($3)", t.key_col,
											t.key_eq),
							   "false", "f.last_at", true, false);
	(void) ActivityMoveLoop(&t, sql_first, sql_next, 2, argtypes, values,
							"activity");
}

PG_FUNCTION_INFO_V1(clcm_activity_track);

/*
 * track_activity(): AFTER INSERT trigger on an events table, row or
 * statement level (the latter needs REFERENCING NEW TABLE).
 */
Datum
clcm_activity_track(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	ActivityConfig *cfg;
	ActivityCall call = {false, false, 0};

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("track_activity: must be called as a trigger")));
	if (!TRIGGER_FIRED_AFTER(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("track_activity: trigger \"%s\" must be fired AFTER",
						trigdata->tg_trigger->tgname)));
	if (!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("track_activity: trigger \"%s\" must be fired by INSERT only",
						trigdata->tg_trigger->tgname)));
	if (TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event) &&
		trigdata->tg_newtable == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("track_activity: statement-level trigger \"%s\" needs a transition table",
						trigdata->tg_trigger->tgname),
				 errhint("Create it with REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT, or use FOR EACH ROW.")));

	/* the trigger's customer table name resolves by the caller's path */
	cfg = ActivityConfigGet(trigdata, &call);
	if (TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		ActivityTrackRow(trigdata, cfg, &call);
	else
	{
		ActivitySpiBegin(&call);
		ActivityTrackStatement(trigdata, cfg);
	}
	ActivitySpiEnd(&call);
	return PointerGetDatum(NULL);
}

PG_FUNCTION_INFO_V1(clcm_activity_refresh);

/*
 * refresh_stages(customer_table, as_of): apply the time rules (inactivity,
 * tenure) as of as_of to every customer of the table, repeating until no
 * rule fires; returns the number of customers moved.  The stage and key
 * columns come from the table's clcm.stage_guard trigger.
 */
Datum
clcm_activity_refresh(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	TimestampTz as_of = PG_GETARG_TIMESTAMPTZ(1);
	Relation	rel;
	Oid			guard_oid;
	List	   *guard_name;
	const char *stage_col = NULL;
	const char *key_col = NULL;
	ActivityTarget t;
	char	   *sql;
	char	   *sql_next;
	Oid			argtypes[3] = {REGCLASSOID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[3];
	uint64		moved;
	int			i;
	int			nest;

	if (TIMESTAMP_NOT_FINITE(as_of))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("as_of must be a finite timestamp")));

	guard_name = list_make2(makeString(CLCM_SCHEMA), makeString("stage_guard"));
	guard_oid = LookupFuncName(guard_name, 0, NULL, false);

	rel = try_table_open(relid, AccessShareLock);
	if (rel == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	if (rel->trigdesc != NULL)
	{
		for (i = 0; i < rel->trigdesc->numtriggers; i++)
		{
			Trigger    *tg = &rel->trigdesc->triggers[i];

			if (tg->tgfoid != guard_oid || tg->tgenabled == TRIGGER_DISABLED)
				continue;
			stage_col = tg->tgnargs >= 1 ? pstrdup(tg->tgargs[0]) : "stage";
			key_col = tg->tgnargs >= 2 ? pstrdup(tg->tgargs[1]) : "id";
			break;
		}
	}
	if (stage_col == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" has no enabled clcm.stage_guard trigger",
						RelationGetRelationName(rel)),
				 errhint("refresh_stages finds the stage and key columns in the guard's arguments; create the trigger with CREATE TRIGGER ... BEFORE INSERT OR UPDATE ... FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard(...).")));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	nest = ActivitySearchPathPush();
	ActivityResolveTarget(rel, key_col, stage_col,
						  &t, "refresh_stages");
	table_close(rel, NoLock);

	sql = ActivityMoveSql(&t, "true", "false", "$3", false, true);
	sql_next = ActivityMoveSql(&t, psprintf("c2.%s %s ANY ($4)", t.key_col,
											t.key_eq),
							   "false", "$3", false, true);
	values[0] = ObjectIdGetDatum(relid);
	values[1] = CStringGetTextDatum(t.model);
	values[2] = TimestampTzGetDatum(as_of);
	moved = ActivityMoveLoop(&t, sql, sql_next, 3, argtypes, values, "refresh");
	ActivitySearchPathPop(nest);
	SPI_finish();
	PG_RETURN_INT64((int64) moved);
}
