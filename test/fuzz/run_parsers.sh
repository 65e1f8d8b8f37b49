#!/usr/bin/env bash
#
# test/fuzz/run_parsers.sh -- `make fuzz-parsers`: builds the libFuzzer
# harness for the text input functions of clcm's types (fuzz_parsers.c +
# shim.c + stubs.c + clcm's own objects, all with
# -fsanitize=fuzzer,address,undefined) outside the server and runs it on
# each type and mode (text: the input function; binary: the receive
# function) for FUZZ_SECONDS (default 20) seconds, starting from the seed
# corpora test/fuzz/corpus/<type> and test/fuzz/corpus-bin/<type>.  Fails
# on the first crash, sanitizer report, internal error (XX000) or failed
# round trip; the input is kept in $FUZZ_DIR/crash/<mode>-<type>/.  Prints
# executions and coverage per type and mode.
#
# Environment: FUZZ_SECONDS, FUZZ_TYPES (default: all eleven),
# FUZZ_MODES (default "text binary"),
# FUZZ_DIR (work directory, default a temp dir), CC (default clang),
# PG_CONFIG.

set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
PG_CONFIG=${PG_CONFIG:-pg_config}
CC=${CC:-clang}
SECONDS_PER=${FUZZ_SECONDS:-20}
MODES=${FUZZ_MODES:-text binary}
TYPES=${FUZZ_TYPES:-retention_matrix retention_activity survival_curve bgnbd pareto_nbd mbgnbd bgbb gamma_gamma btyd_fit_state rfm_state markov}
DIR=${FUZZ_DIR:-$(mktemp -d /tmp/clcm-fuzz.XXXXXX)}
INC=$($PG_CONFIG --includedir-server)
# libpgcommon/libpgport (StringInfo, snprintf, shortest float printing):
# Debian keeps them in the server's lib directory
LIBS=""
for d in "$($PG_CONFIG --pkglibdir)" "$($PG_CONFIG --libdir)"; do
	[ -f "$d/libpgcommon.a" ] && { LIBS="$d/libpgcommon.a $d/libpgport.a"; break; }
done
[ -n "$LIBS" ] || { echo "fuzz-parsers: libpgcommon.a not found" >&2; exit 1; }
command -v "$CC" >/dev/null || { echo "fuzz-parsers: needs clang (apt-get install clang)" >&2; exit 1; }

CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
        -Wno-ignored-attributes -I$SRC/src -I$SRC/test/fuzz -I$INC -DCLCM_VERSION=\"fuzz\""
mkdir -p "$DIR/obj"
echo "== building the harness in $DIR"
# clcm's files with the types' I/O functions and what they call (a new
# type's file goes here and into fuzz_parsers.c's table)
SOURCES=${FUZZ_SOURCES:-btyd_type btyd_fit cohort survival rfm markov special}
objs=()
for f in $(for s in $SOURCES; do echo "$SRC/src/$s.c"; done) "$SRC"/test/fuzz/shim.c "$SRC"/test/fuzz/fuzz_parsers.c; do
	o="$DIR/obj/$(basename "$f" .c).o"
	# shellcheck disable=SC2086
	$CC -c $CFLAGS "$f" -o "$o" 2>"$o.log" || { cat "$o.log"; exit 1; }
	objs+=("$o")
done
$CC -c -O1 "$SRC/test/fuzz/stubs.c" -o "$DIR/obj/stubs.o"
# shellcheck disable=SC2086
$CC -fsanitize=fuzzer,address,undefined -Wl,--gc-sections "${objs[@]}" "$DIR/obj/stubs.o" \
	$LIBS -lm -o "$DIR/fuzz_parsers"

rc=0
total=0
for m in $MODES; do
for t in $TYPES; do
	seeds="$SRC/test/fuzz/corpus/$t"
	[ "$m" = binary ] && seeds="$SRC/test/fuzz/corpus-bin/$t"
	mkdir -p "$DIR/corpus/$m-$t" "$DIR/crash/$m-$t"
	cp "$seeds"/* "$DIR/corpus/$m-$t/" 2>/dev/null || true
	if CLCM_FUZZ_TYPE=$t CLCM_FUZZ_MODE=$m "$DIR/fuzz_parsers" -max_total_time="$SECONDS_PER" \
		-max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$DIR/crash/$m-$t/" "$DIR/corpus/$m-$t" >"$DIR/log.$m-$t" 2>&1; then
		status=ok
	else
		status=FAILED; rc=1
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$DIR/log.$m-$t")
	cov=$(grep -o 'cov: [0-9]*' "$DIR/log.$m-$t" | tail -1 | cut -d' ' -f2)
	printf '%-7s %-20s %-6s execs %-10s edges %s\n' "$m" "$t" "$status" "${execs:-?}" "${cov:-?}"
	total=$((total + ${execs:-0}))
	if [ $status = FAILED ]; then
		grep -E 'ERROR|clcm fuzz|SUMMARY|runtime error' "$DIR/log.$m-$t" | head -20
		ls "$DIR/crash/$m-$t"
	fi
done
done
echo "fuzz-parsers: $total executions in total; work directory $DIR"
exit $rc
