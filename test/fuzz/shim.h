/*
 * shim.h
 *	  Interface between the libFuzzer harness and its backend shim.
 */
#ifndef CLCM_FUZZ_SHIM_H
#define CLCM_FUZZ_SHIM_H

#include <setjmp.h>

#define FUZZ_MEM_LIMIT ((size_t) 256 * 1024 * 1024)

extern jmp_buf *fuzz_jmp;
extern int	fuzz_sqlstate;
extern int	fuzz_elevel;

extern void fuzz_reset(void);
extern void fuzz_fail(const char *why) pg_attribute_noreturn();
extern void fuzz_error(int sqlstate) pg_attribute_noreturn();

#endif
