/*
 * stubs.c
 *	  Backend functions that clcm's objects reference but its text parsers
 *	  never reach.  Each aborts with its name, so a parser that starts to
 *	  use one is noticed at once (give it a real body in shim.c then).
 *	  Written without the server headers: only the symbol matters.
 */
#include <stdio.h>
#include <stdlib.h>

#define STUB(f) void f(void); void f(void) { fprintf(stderr, "clcm fuzz: stub %s called\n", #f); abort(); }

STUB(AggCheckCallContext)
STUB(BlessTupleDesc)
STUB(CreateTupleDescCopy)
STUB(DatumGetHeapTupleHeader)
STUB(DirectFunctionCall1Coll)
STUB(GetAttributeByNum)
STUB(HeapTupleHeaderGetDatum)
STUB(InitMaterializedSRF)
STUB(ReleaseCatCacheList)
STUB(SearchSysCacheList)
STUB(construct_array)
STUB(cstring_to_text)
STUB(datumCopy)
STUB(datumIsEqual)
STUB(deconstruct_array)
STUB(format_type_be)
STUB(get_call_result_type)
STUB(get_fn_expr_argtype)
STUB(get_func_name)
STUB(heap_form_tuple)
STUB(jsonb_in)
STUB(pg_localtime)
STUB(pg_next_dst_boundary)
STUB(text_to_cstring)
STUB(timestamp2tm)
STUB(tuplestore_putvalues)
STUB(type_is_enum)
