#!/usr/bin/env bash
#
# test/harness.sh -- the machinery behind `make test`, `make demo` and
# `make bench`.
#
# On a fresh Debian 12 machine (root, or a user with sudo) it
#   1. installs the Debian packages that are missing (never creating or
#      starting a system cluster),
#   2. copies the PostgreSQL installation into a private temp directory
#      (PostgreSQL binaries find their files relative to themselves), so the
#      build is installed there and the system's installation and clusters
#      are never touched,
#   3. builds clcm with warnings as errors and installs it into that copy,
#   4. runs a scratch cluster as an unprivileged user on a Unix socket in
#      the temp directory (no TCP listener, so no port clashes),
#   5. runs the suites / the demo / a benchmark, stops the cluster and
#      removes the temp directory.
#
# Usage: test/harness.sh test|demo|bench NAME|shell
# Environment:
#   CLCM_SUITES   suites to run for `test` (default "regress isolation pgtap tap")
#   REGRESS       override the pg_regress list (passed to make)
#   CLCM_KEEP=1   keep the temp directory (for debugging)
#   PG_MAJOR      PostgreSQL major version (default 15)
#   CLCM_VALGRIND=1  run the scratch server under valgrind memcheck
#                 (check-valgrind); any valgrind error fails the run
#   CLCM_HUGE_PAGES=on|off  shared memory in huge pages (default: on for
#                 `bench`, off otherwise).  On reserves the pages the
#                 server needs (vm.nr_hugepages, as root) for the run and
#                 gives them back when the cluster stops; when they cannot
#                 be reserved the server runs with huge_pages = off.

set -euo pipefail

PG_MAJOR=${PG_MAJOR:-15}
SUITES=${CLCM_SUITES:-regress isolation pgtap tap}
TEST_USER=clcmtest
SRC=$(cd "$(dirname "$0")/.." && pwd)
STRICT_CFLAGS="-Wall -Wextra -Werror -Wno-unused-parameter -DUSE_ASSERT_CHECKING"
VALGRIND=${CLCM_VALGRIND:-0}
HUGE_PAGES=${CLCM_HUGE_PAGES:-off}
HUGE_RESERVED=		# pages added to vm.nr_hugepages by reserve_huge_pages

say() { printf '== %s\n' "$*"; }
die() { printf 'harness: %s\n' "$*" >&2; exit 1; }

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"
	elif command -v sudo >/dev/null; then sudo "$@"
	else die "need root or sudo to run: $*"
	fi
}

# ---------------------------------------------------------------- packages
PKGS="postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR postgresql-$PG_MAJOR-pgtap
      pgtap libipc-run-perl postgresql-$PG_MAJOR-cron make gcc"

install_deps() {
	local missing=() p
	for p in postgresql-common $PKGS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
			|| missing+=("$p")
	done
	[ ${#missing[@]} = 0 ] && return 0
	say "installing Debian packages: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	as_root apt-get update -qq
	# Never let the packages create (or start) a system cluster.
	if ! dpkg-query -W -f='${Status}' postgresql-common 2>/dev/null | grep -q 'install ok installed'; then
		as_root apt-get install -y -q postgresql-common >/dev/null
	fi
	as_root sed -i 's/^#\?\s*create_main_cluster\b.*/create_main_cluster = false/' \
		/etc/postgresql-common/createcluster.conf
	as_root apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# ---------------------------------------------------------- scratch setup
# Sets RUN (command prefix to run as the unprivileged user), T (temp dir),
# PGBIN, PG_CONFIG_PRIV, WORK (work copy of the tree), PGHOST/PGPORT.
setup() {
	install_deps
	T=$(mktemp -d /tmp/clcm.XXXXXX)
	chmod 755 "$T"
	if [ "$(id -u)" = 0 ]; then
		id "$TEST_USER" >/dev/null 2>&1 || useradd --system --no-create-home \
			--home-dir /nonexistent --shell /bin/bash "$TEST_USER"
		RUN=(runuser -u "$TEST_USER" --)
	else
		RUN=()
	fi
	trap cleanup EXIT

	say "private PostgreSQL $PG_MAJOR installation in $T/inst"
	mkdir -p "$T/inst/usr/lib/postgresql" "$T/inst/usr/share/postgresql" "$T/inst/usr/include"
	cp -a "/usr/lib/postgresql/$PG_MAJOR" "$T/inst/usr/lib/postgresql/"
	cp -a "/usr/share/postgresql/$PG_MAJOR" "$T/inst/usr/share/postgresql/"
	ln -s /usr/include/postgresql "$T/inst/usr/include/postgresql"
	PGBIN="$T/inst/usr/lib/postgresql/$PG_MAJOR/bin"
	PG_CONFIG_PRIV="$PGBIN/pg_config"

	# A copy of the tree that the unprivileged user owns (the checkout may
	# sit below a directory that user cannot enter, e.g. /root).
	WORK="$T/work"
	mkdir -p "$WORK"
	tar -C "$SRC" --exclude=.git --exclude='./results' --exclude='./tmp_check' \
		--exclude='./output_iso' --exclude='*.o' --exclude='*.so' --exclude='*.bc' \
		-cf - . | tar -C "$WORK" -xf -
	[ ${#RUN[@]} = 0 ] || chown -R "$TEST_USER" "$T"

	# A build without assertions first: code used only by Assert() must
	# not break a plain PGXS build with warnings as errors.
	say "building clcm without assertions (warnings as errors)"
	"${RUN[@]}" make -s -C "$WORK" PG_CONFIG="$PG_CONFIG_PRIV" \
		PG_CFLAGS="-Wall -Wextra -Werror -Wno-unused-parameter" >"$T/build.log" 2>&1 \
		|| { cat "$T/build.log"; die "build without assertions failed"; }
	"${RUN[@]}" make -s -C "$WORK" PG_CONFIG="$PG_CONFIG_PRIV" clean >/dev/null 2>&1
	say "building clcm (PG_CFLAGS=$STRICT_CFLAGS)"
	"${RUN[@]}" make -s -C "$WORK" PG_CONFIG="$PG_CONFIG_PRIV" PG_CFLAGS="$STRICT_CFLAGS" >"$T/build.log" 2>&1 \
		|| { cat "$T/build.log"; die "build failed"; }
	"${RUN[@]}" make -s -C "$WORK" PG_CONFIG="$PG_CONFIG_PRIV" install >>"$T/build.log" 2>&1 \
		|| { cat "$T/build.log"; die "install failed"; }

	say "starting scratch cluster in $T/data (socket dir $T/sock)"
	mkdir -p "$T/sock"
	[ ${#RUN[@]} = 0 ] || chown "$TEST_USER" "$T/sock"
	"${RUN[@]}" "$PGBIN/initdb" -D "$T/data" -U postgres -A trust --no-sync \
		--locale=C.UTF-8 -E UTF8 >"$T/initdb.log" 2>&1 || { cat "$T/initdb.log"; die "initdb failed"; }
	cat >>"$T/data/postgresql.conf" <<-EOF
		listen_addresses = ''
		unix_socket_directories = '$T/sock'
		port = 5432
		fsync = off
		max_prepared_transactions = 10
		shared_preload_libraries = 'pg_cron'
		cron.database_name = 'postgres'
		max_worker_processes = 16
		shared_buffers = 512MB
		work_mem = 64MB
		maintenance_work_mem = 512MB
		max_wal_size = 4GB
		log_min_messages = warning
	EOF
	if [ "$HUGE_PAGES" = on ]; then reserve_huge_pages; fi
	if [ "$VALGRIND" = 1 ]; then
		# PostgreSQL's own recipe (src/tools/valgrind.supp, README of
		# valgrind testing): memcheck over every backend, errors marked so
		# cleanup() can count them; only known-harmless padding writes of
		# the server are suppressed (test/valgrind.supp).
		install_valgrind
		# JIT compiles with LLVM inside the backend: slow under memcheck
		# and outside clcm; parallel query stays on (clcm's combine and
		# serialize functions run in workers)
		echo "jit = off" >>"$T/data/postgresql.conf"
		"${RUN[@]}" bash -c "nohup valgrind --quiet --trace-children=yes \
			--track-origins=yes --read-var-info=no --num-callers=40 \
			--error-markers=VALGRINDERROR-BEGIN,VALGRINDERROR-END \
			--suppressions='$WORK/test/valgrind.supp' \
			--log-file='$T/valgrind.%p.log' \
			'$PGBIN/postgres' -D '$T/data' >'$T/server.log' 2>&1 &"
		local i
		for i in $(seq 1 600); do
			"$PGBIN/pg_isready" -q -h "$T/sock" -p 5432 && break
			grep -qs FATAL "$T"/valgrind.*.log && break
			sleep 1
		done
		"$PGBIN/pg_isready" -q -h "$T/sock" -p 5432 || { cat "$T/server.log" "$T"/valgrind.*.log; die "server start failed"; }
	else
		"${RUN[@]}" "$PGBIN/pg_ctl" -D "$T/data" -l "$T/server.log" -w start >/dev/null \
			|| { cat "$T/server.log"; die "server start failed"; }
	fi
	export PGHOST="$T/sock" PGPORT=5432 PGUSER=postgres PGDATABASE=postgres
	export PATH="$PGBIN:$PATH"
}

# Shared memory in huge pages (the setting PostgreSQL's manual recommends
# for large shared_buffers): without them every new backend and parallel
# worker takes a page fault for each 4 kB of shared buffers it touches
# first (about 0.4 s for a 500 MB table on the benchmark VM).  Reserves
# the server's pages (postgres -C shared_memory_size_in_huge_pages) on top
# of what is reserved already; cleanup() gives them back.
reserve_huge_pages() {
	local need before after
	need=$("${RUN[@]}" "$PGBIN/postgres" -D "$T/data" -C shared_memory_size_in_huge_pages 2>/dev/null || echo 0)
	before=$(cat /proc/sys/vm/nr_hugepages 2>/dev/null || echo 0)
	# root, or sudo without a password prompt; otherwise no huge pages
	if [ "${need:-0}" -gt 0 ] && { [ "$(id -u)" = 0 ] || sudo -n true 2>/dev/null; } &&
		as_root sh -c "echo $((before + need + 8)) > /proc/sys/vm/nr_hugepages" 2>/dev/null; then
		after=$(cat /proc/sys/vm/nr_hugepages)
		HUGE_RESERVED=$((after - before))
		if [ "$HUGE_RESERVED" -ge "$need" ]; then
			echo "huge_pages = on" >>"$T/data/postgresql.conf"
			say "shared memory in huge pages ($need pages of 2 MB reserved for this run)"
			return 0
		fi
	fi
	say "huge pages not available (needed ${need:-?}); the server runs with huge_pages = off"
	echo "huge_pages = off" >>"$T/data/postgresql.conf"
}

install_valgrind() {
	command -v valgrind >/dev/null && return 0
	export DEBIAN_FRONTEND=noninteractive
	as_root apt-get update -qq
	as_root apt-get install -y -q --no-install-recommends valgrind >/dev/null
}

cleanup() {
	local rc=$?
	if [ -n "${T:-}" ] && [ -d "$T/data" ]; then
		"${RUN[@]}" "$PGBIN/pg_ctl" -D "$T/data" -m fast -w stop >/dev/null 2>&1 || true
	fi
	if [ -n "$HUGE_RESERVED" ] && [ "$HUGE_RESERVED" -gt 0 ]; then
		as_root sh -c "echo \$((\$(cat /proc/sys/vm/nr_hugepages) - $HUGE_RESERVED)) > /proc/sys/vm/nr_hugepages" || true
	fi
	if [ -n "${T:-}" ]; then
		if grep -l VALGRINDERROR-BEGIN "$T"/valgrind.*.log >/dev/null 2>&1; then
			echo "harness: valgrind reported errors:" >&2
			# (through a file: head closing a pipe would fail the
			# pipeline under pipefail)
			grep -h -A40 VALGRINDERROR-BEGIN "$T"/valgrind.*.log >"$T/valgrind.errors" || true
			head -n 400 "$T/valgrind.errors" >&2
			rc=1
		fi
		if grep -qE 'terminated by signal|TRAP:' "$T/server.log" 2>/dev/null; then
			echo "harness: the server log shows a crashed backend:" >&2
			grep -E 'terminated by signal|TRAP:' "$T/server.log" >&2
			rc=1
		fi
		if [ "${CLCM_KEEP:-0}" = 1 ]; then
			echo "harness: kept $T" >&2
		else
			rm -rf "$T"
		fi
	fi
	exit $rc
}

# Runs make in the work copy as the unprivileged user with the cluster env.
wmake() {
	"${RUN[@]}" env PATH="$PATH" PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" \
		make -C "$WORK" PG_CONFIG="$PG_CONFIG_PRIV" "$@"
}

# ------------------------------------------------------------------ suites
run_suite() {
	local name=$1; shift
	say "suite: $name"
	if "$@" >"$T/$name.log" 2>&1; then
		PASSED+=("$name"); tail -n 3 "$T/$name.log" | sed 's/^/   /'
	else
		FAILED+=("$name"); cat "$T/$name.log"
		for f in "$WORK/regression.diffs" "$WORK/output_iso/regression.diffs"; do
			[ -s "$f" ] && { echo "---- $f"; cat "$f"; }
		done
		mkdir -p "$SRC/log" && cp "$T/$name.log" "$SRC/log/" 2>/dev/null || true
	fi
}

cmd_test() {
	setup
	PASSED=(); FAILED=()
	local regress_args=()
	[ -n "${REGRESS:-}" ] && regress_args=(REGRESS="$REGRESS")
	for s in $SUITES; do
		case $s in
		regress)   run_suite regress wmake installcheck "${regress_args[@]}" ISOLATION= TAP_TESTS= ;;
		isolation) run_suite isolation wmake installcheck REGRESS= TAP_TESTS= ;;
		pgtap)     run_suite pgtap wmake pgtap ;;
		tap)       run_suite tap wmake installcheck REGRESS= ISOLATION= PROVE_FLAGS=--verbose ;;
		*) die "unrecognized suite \"$s\"" ;;
		esac
	done
	echo
	echo "clcm test summary: passed: ${PASSED[*]:-none}; failed: ${FAILED[*]:-none}"
	echo "${#PASSED[@]} passed, ${#FAILED[@]} failed"
	[ ${#FAILED[@]} = 0 ]
}

cmd_demo() {
	setup
	say "loading the demo"
	local f
	for f in "$WORK"/test/demo/*.sql; do
		"${RUN[@]}" env PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" \
			"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d postgres -f "$f" \
			|| die "demo step $(basename "$f") failed"
	done
	say "demo finished; the scratch cluster is stopped and removed"
}

cmd_bench() {
	local name=${1:?usage: harness.sh bench NAME}
	[ -f "$SRC/test/bench/$name.sh" ] || die "no benchmark test/bench/$name.sh"
	setup
	"${RUN[@]}" env PATH="$PATH" PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" \
		PGDATABASE=postgres bash "$WORK/test/bench/$name.sh"
}

# Runs sqlsmith against a database with clcm and seeded clcm-typed tables
# (test/fuzz/seed.sql) for a bounded number of queries, then fails if the
# server log shows a backend terminated by a signal or a failed assertion
# (cleanup() does that check for every command).
cmd_fuzz() {
	local queries=${FUZZ_QUERIES:-5000} seed=${FUZZ_SEED:-42}
	PKGS="$PKGS sqlsmith"
	setup
	"${RUN[@]}" env PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" \
		"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d postgres -f "$WORK/test/fuzz/seed.sql"
	say "sqlsmith: $queries queries, seed $seed"
	(cd "$T" && "${RUN[@]}" timeout "${FUZZ_TIMEOUT:-3000}" sqlsmith --verbose \
		--target="host=$PGHOST port=$PGPORT user=$PGUSER dbname=postgres" \
		--max-queries="$queries" --seed="$seed" >"$T/sqlsmith.log" 2>&1) || true
	tail -n 25 "$T/sqlsmith.log"
	# queries that reached clcm objects, from the server's statement log
	say "statements naming clcm objects: $(grep -c 'clcm\.' "$T/server.log" || true)"
	if ! "${RUN[@]}" env PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" \
		"$PGBIN/psql" -X -qtA -d postgres -c 'SELECT 1' >/dev/null; then
		die "server is not answering after the fuzz run"
	fi
}

# Starts the cluster and opens a shell with its environment; exit to stop.
cmd_shell() {
	setup
	say "PGHOST=$PGHOST PGPORT=$PGPORT PGUSER=$PGUSER (exit the shell to stop)"
	"${RUN[@]}" env PATH="$PATH" PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" bash -i
}

case "${1:-}" in
test)  cmd_test ;;
fuzz)  cmd_fuzz ;;
check-valgrind)
	# Every suite but TAP (the TAP scripts start their own servers, not
	# under valgrind) with the scratch server under valgrind memcheck.
	# the statement_timeout guards of the tests (harden_sweep, btyd_harden,
	# harden_findings) are scaled to valgrind speed
	VALGRIND=1; SUITES=${CLCM_SUITES:-regress isolation pgtap}
	export CLCM_TEST_TIMEOUT=${CLCM_TEST_TIMEOUT:-600s}; cmd_test ;;
demo)  cmd_demo ;;
bench)
	# benchmarks measure what users run: no assertions in clcm's code
	STRICT_CFLAGS="-Wall -Wextra -Werror -Wno-unused-parameter"
	HUGE_PAGES=${CLCM_HUGE_PAGES:-on}
	shift; cmd_bench "$@" ;;
shell) cmd_shell ;;
*) die "usage: $0 test|check-valgrind|fuzz|demo|bench NAME|shell" ;;
esac
