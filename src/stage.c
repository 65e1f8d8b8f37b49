/*-------------------------------------------------------------------------
 *
 * stage.c
 *	  clcm.stage_guard(): the BEFORE INSERT OR UPDATE row trigger that
 *	  enforces a lifecycle model's transitions and appends every stage
 *	  change to clcm.stage_history.
 *
 * Trigger arguments: stage column (default "stage"), key column (default
 * "id"), optional timestamp column stamped with the transaction time when
 * the stage changes.  The model is the one whose stage type is the stage
 * column's type.
 *
 * Semantics (doc/clcm.md, "Stage guard and history"):
 *	- INSERT with a stage: any stage; history row with from_stage NULL; the
 *	  timestamp column is stamped when it is NULL.
 *	- INSERT with a NULL stage: accepted, no history.
 *	- UPDATE, same stage: accepted, no history, no stamp.
 *	- UPDATE from NULL to a stage: like an insert (from_stage NULL).
 *	- UPDATE to another stage: validated against the model (cached bitmap,
 *	  no query per row); refused with 23514 / clcm_stage_transition unless
 *	  clcm.enforce is off, in which case it is accepted as an override.
 *	- UPDATE from a stage to NULL: refused (23502), also with enforce off.
 *	- The history's customer_key is the new row's key (text output), so a
 *	  key change in the same UPDATE is recorded under the new key.
 *
 * History rows are inserted directly into the heap and its indexes (no SPI,
 * no executor per row), as the table's owner: the guard switches user only
 * around that write (SECURITY_LOCAL_USERID_CHANGE).  Triggers, rules and
 * RLS policies on clcm.stage_history are therefore not applied to the
 * guard's writes; the history is the extension's own table.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/xid8.h"

#include "clcm.h"
#include "stage.h"

/* columns of clcm.stage_history, in table order */
#define HIST_ID				0
#define HIST_TABLE_NAME		1
#define HIST_CUSTOMER_KEY	2
#define HIST_MODEL			3
#define HIST_FROM_STAGE		4
#define HIST_TO_STAGE		5
#define HIST_CHANGED_AT		6
#define HIST_XID			7
#define HIST_ROLE			8
#define HIST_REASON			9
#define HIST_OVERRIDE		10
#define HIST_NATTS			11

/* Raises the 39P01 error of a misattached guard. */
static void
GuardProtocolError(TriggerData *trigdata, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
			 errmsg("trigger \"%s\" on table \"%s\": clcm.stage_guard %s",
					trigdata->tg_trigger->tgname,
					RelationGetRelationName(trigdata->tg_relation), what)));
}

/*
 * Attribute number of a column named by a trigger argument; a missing or
 * system column is a 39P01 error naming it.
 */
static int
GuardColumn(TriggerData *trigdata, const char *colname, const char *role)
{
	Relation	rel = trigdata->tg_relation;
	int			attnum = SPI_fnumber(RelationGetDescr(rel), colname);

	if (attnum == SPI_ERROR_NOATTRIBUTE || attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger \"%s\" on table \"%s\": %s column \"%s\" does not exist",
						trigdata->tg_trigger->tgname, RelationGetRelationName(rel),
						role, colname),
				 errhint("The arguments of clcm.stage_guard are: stage column (default \"stage\"), key column (default \"id\"), optional timestamp column.")));
	return attnum;
}

/* "a, b, c" list of the stages the model allows after position from. */
static char *
AllowedNextStages(ClcmModel *model, int from)
{
	StringInfoData buf;
	int			to;

	initStringInfo(&buf);
	for (to = 0; to < model->nstages; to++)
	{
		if (to == from || !ClcmModelAllows(model, from, to))
			continue;
		if (buf.len > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, model->labels[to]);
	}
	return buf.data;
}

/* column types of clcm.stage_history, in table order */
static const Oid StageHistoryTypes[HIST_NATTS] = {
	INT8OID, REGCLASSOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	TIMESTAMPTZOID, XID8OID, NAMEOID, TEXTOID, BOOLOID
};

/* Whether the history table still has exactly the expected columns. */
static bool
StageHistoryShapeOk(TupleDesc tupdesc)
{
	int			i;

	if (tupdesc->natts != HIST_NATTS)
		return false;
	for (i = 0; i < HIST_NATTS; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		if (att->attisdropped || att->atttypid != StageHistoryTypes[i])
			return false;
	}
	return true;
}

/*
 * Appends one row to clcm.stage_history: heap insert plus index entries,
 * done as the history table's owner.  from_pos < 0 means from_stage NULL.
 */
static void
StageHistoryAppend(Relation rel, const char *key, ClcmModel *model,
				   int from_pos, int to_pos, bool override)
{
	Datum		values[HIST_NATTS];
	bool		nulls[HIST_NATTS];
	NameData   *rolename;
	Oid			save_userid;
	int			save_sec_context;
	Relation	hist;
	EState	   *estate;
	ResultRelInfo *rri;
	TupleTableSlot *slot;
	Oid			histoid = ClcmHistoryRelid();
	Oid			seqoid = ClcmHistorySeqRelid();

	memset(nulls, 0, sizeof(nulls));

	/* everything that depends on the caller, before the user switch */
	rolename = (NameData *) palloc0(sizeof(NameData));
	namestrcpy(rolename, GetUserNameFromId(GetUserId(), false));
	values[HIST_TABLE_NAME] = ObjectIdGetDatum(RelationGetRelid(rel));
	values[HIST_CUSTOMER_KEY] = CStringGetTextDatum(key);
	values[HIST_MODEL] = CStringGetTextDatum(model->name);
	if (from_pos < 0)
		nulls[HIST_FROM_STAGE] = true;
	else
		values[HIST_FROM_STAGE] = CStringGetTextDatum(model->labels[from_pos]);
	values[HIST_TO_STAGE] = CStringGetTextDatum(model->labels[to_pos]);
	values[HIST_CHANGED_AT] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	values[HIST_XID] = FullTransactionIdGetDatum(GetTopFullTransactionId());
	values[HIST_ROLE] = NameGetDatum(rolename);
	if (clcm_reason == NULL || clcm_reason[0] == '\0')
		nulls[HIST_REASON] = true;
	else
		values[HIST_REASON] = CStringGetTextDatum(clcm_reason);
	values[HIST_OVERRIDE] = BoolGetDatum(override);

	hist = table_open(histoid, RowExclusiveLock);
	if (!StageHistoryShapeOk(RelationGetDescr(hist)))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table clcm.stage_history does not have the columns clcm.stage_guard expects"),
				 errhint("Restore the table's definition from the clcm install script.")));

	/* write as the owner of the history table */
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(hist->rd_rel->relowner,
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE);

	values[HIST_ID] = Int64GetDatum(nextval_internal(seqoid, false));

	estate = CreateExecutorState();
	rri = makeNode(ResultRelInfo);
	InitResultRelInfo(rri, hist, 1, NULL, 0);
	ExecOpenIndices(rri, false);
	slot = ExecInitExtraTupleSlot(estate, RelationGetDescr(hist), &TTSOpsVirtual);
	ExecClearTuple(slot);
	memcpy(slot->tts_values, values, sizeof(values));
	memcpy(slot->tts_isnull, nulls, sizeof(nulls));
	ExecStoreVirtualTuple(slot);
	simple_table_tuple_insert(hist, slot);
	if (rri->ri_NumIndices > 0)
		ExecInsertIndexTuples(rri, slot, estate, false, false, NULL, NIL);
	ExecCloseIndices(rri);
	ExecResetTupleTable(estate->es_tupleTable, false);
	FreeExecutorState(estate);

	SetUserIdAndSecContext(save_userid, save_sec_context);
	table_close(hist, NoLock);
}

/* Text output of the key column of a tuple; NULL key is an error. */
static char *
CustomerKey(Relation rel, HeapTuple tuple, int attnum)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	bool		isnull;
	Datum		value = heap_getattr(tuple, attnum, tupdesc, &isnull);
	Oid			outfunc;
	bool		isvarlena;

	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("key column \"%s\" of table \"%s\" is NULL",
						NameStr(TupleDescAttr(tupdesc, attnum - 1)->attname),
						RelationGetRelationName(rel)),
				 errdetail("clcm.stage_guard records stage changes under the customer's key."),
				 errtablecol(rel, attnum)));
	getTypeOutputInfo(TupleDescAttr(tupdesc, attnum - 1)->atttypid, &outfunc, &isvarlena);
	return OidOutputFunctionCall(outfunc, value);
}

PG_FUNCTION_INFO_V1(clcm_stage_guard);

/*
 * clcm.stage_guard(): see the file header for the semantics.
 */
Datum
clcm_stage_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Trigger    *trigger;
	Relation	rel;
	TupleDesc	tupdesc;
	HeapTuple	newtuple;
	HeapTuple	oldtuple = NULL;
	char	  **args;
	int			nargs;
	int			stage_att;
	int			key_att;
	int			ts_att = 0;
	Oid			stage_type;
	Oid			ts_type = InvalidOid;
	ClcmModel  *model;
	bool		new_null;
	bool		old_null = true;
	Datum		new_value;
	int			to_pos;
	int			from_pos = -1;
	bool		override = false;
	bool		stamp;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"stage_guard\" was not called by the trigger manager"),
				 errhint("Attach it with CREATE TRIGGER ... BEFORE INSERT OR UPDATE ... FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard().")));

	trigger = trigdata->tg_trigger;
	rel = trigdata->tg_relation;
	tupdesc = RelationGetDescr(rel);

	if (!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		GuardProtocolError(trigdata, "must be fired FOR EACH ROW");
	if (!TRIGGER_FIRED_BEFORE(trigdata->tg_event))
		GuardProtocolError(trigdata, "must be fired BEFORE INSERT OR UPDATE");
	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		newtuple = trigdata->tg_trigtuple;
	else if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		oldtuple = trigdata->tg_trigtuple;
		newtuple = trigdata->tg_newtuple;
	}
	else
		GuardProtocolError(trigdata, "must be fired on INSERT or UPDATE, not on DELETE or TRUNCATE");

	nargs = trigger->tgnargs;
	args = trigger->tgargs;
	if (nargs > 3)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger \"%s\" on table \"%s\": clcm.stage_guard takes at most 3 arguments, got %d",
						trigger->tgname, RelationGetRelationName(rel), nargs),
				 errhint("The arguments of clcm.stage_guard are: stage column (default \"stage\"), key column (default \"id\"), optional timestamp column.")));

	stage_att = GuardColumn(trigdata, nargs >= 1 ? args[0] : "stage", "stage");
	key_att = GuardColumn(trigdata, nargs >= 2 ? args[1] : "id", "key");
	if (nargs >= 3)
	{
		ts_att = GuardColumn(trigdata, args[2], "timestamp");
		ts_type = TupleDescAttr(tupdesc, ts_att - 1)->atttypid;
		if (ts_type != TIMESTAMPTZOID && ts_type != TIMESTAMPOID)
			ereport(ERROR,
					(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
					 errmsg("trigger \"%s\" on table \"%s\": timestamp column \"%s\" is of type %s",
							trigger->tgname, RelationGetRelationName(rel), args[2],
							format_type_be(ts_type)),
					 errhint("Use a column of type timestamp with time zone or timestamp.")));
	}

	stage_type = TupleDescAttr(tupdesc, stage_att - 1)->atttypid;
	model = ClcmModelLookup(stage_type);
	if (!model->is_model)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger \"%s\" on table \"%s\": stage column \"%s\" is of type %s, which is not a clcm stage type",
						trigger->tgname, RelationGetRelationName(rel),
						NameStr(TupleDescAttr(tupdesc, stage_att - 1)->attname),
						format_type_be(stage_type)),
				 errhint("Use the stage type of a model, e.g. clcm.lifecycle_stage, or create one with clcm.define_model().")));

	new_value = heap_getattr(newtuple, stage_att, tupdesc, &new_null);
	if (oldtuple != NULL)
	{
		Datum		old_value = heap_getattr(oldtuple, stage_att, tupdesc, &old_null);

		if (!old_null)
			from_pos = ClcmModelStagePosition(model, DatumGetObjectId(old_value));
	}

	if (new_null)
	{
		/* an insert or an update keeping NULL: nothing to record */
		if (old_null)
			return PointerGetDatum(newtuple);
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("stage of a customer cannot be set to NULL"),
				 errdetail("Customer \"%s\" of table \"%s\" is in stage \"%s\" of model \"%s\".",
						   CustomerKey(rel, oldtuple, key_att), RelationGetRelationName(rel),
						   model->labels[from_pos], model->name),
				 errtablecol(rel, stage_att)));
	}

	to_pos = ClcmModelStagePosition(model, DatumGetObjectId(new_value));
	if (from_pos == to_pos)
		return PointerGetDatum(newtuple);	/* no change */

	if (from_pos >= 0 && !ClcmModelAllows(model, from_pos, to_pos))
	{
		if (clcm_enforce)
		{
			char	   *allowed = AllowedNextStages(model, from_pos);

			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("stage transition from \"%s\" to \"%s\" is not allowed in model \"%s\"",
							model->labels[from_pos], model->labels[to_pos], model->name),
					 errdetail("Customer \"%s\" of table \"%s\" stays in stage \"%s\".",
							   CustomerKey(rel, oldtuple, key_att), RelationGetRelationName(rel),
							   model->labels[from_pos]),
					 allowed[0] != '\0'
					 ? errhint("Allowed next stages from \"%s\": %s.", model->labels[from_pos], allowed)
					 : errhint("Model \"%s\" allows no transition from stage \"%s\".",
							   model->name, model->labels[from_pos]),
					 errtablecol(rel, stage_att),
					 errtableconstraint(rel, "clcm_stage_transition")));
		}
		override = true;
	}

	/* stamp the timestamp column: on a change, or on insert when NULL */
	stamp = false;
	if (ts_att > 0)
	{
		if (oldtuple != NULL)
			stamp = true;
		else
		{
			bool		ts_null;

			(void) heap_getattr(newtuple, ts_att, tupdesc, &ts_null);
			stamp = ts_null;
		}
	}

	StageHistoryAppend(rel, CustomerKey(rel, newtuple, key_att), model,
					   from_pos, to_pos, override);

	if (stamp)
	{
		Datum		ts = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
		bool		isnull = false;

		if (ts_type == TIMESTAMPOID)
			ts = DirectFunctionCall1(timestamptz_timestamp, ts);
		newtuple = heap_modify_tuple_by_cols(newtuple, tupdesc, 1, &ts_att, &ts, &isnull);
	}
	return PointerGetDatum(newtuple);
}
