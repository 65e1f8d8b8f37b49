#!/usr/bin/env bash
#
# test/bench/retention.sh -- retention cohorts over 10M transactions of 1M
# customers: count(*) (scan baseline), the best plain-SQL cohort query
# (GROUP BY + window), clcm.retention (one call) and the two-level form
# (clcm.retention_activity grouped by customer, then clcm.retention).
# Prints times (median of RUNS rounds, default 3; once with each query the
# first statement of a fresh session, once in a warm session), ratios
# against the faster count(*) and against the fastest plain-SQL run, and the
# peak resident memory of the backend (ru_maxrss from log_statement_stats).
# Both baselines run serially and with 2 parallel workers (PostgreSQL's
# default max_parallel_workers_per_gather), the plain query also with
# jit = off (JIT compiles it with inlining and optimization, which cost
# more than they save in a fresh session); each ratio takes the fastest
# baseline of its round.  The harness runs the server with its shared
# memory in huge pages when it can reserve them (CLCM_HUGE_PAGES).
# Run with: make bench BENCH=retention   (PG* variables set by the harness)
#
set -euo pipefail

ROWS=${ROWS:-10000000}
CUSTOMERS=${CUSTOMERS:-1000000}
WORKERS=${WORKERS:-0}		# max_parallel_workers_per_gather for the timed runs

psql -X -q -v ON_ERROR_STOP=1 <<SQL
CREATE EXTENSION IF NOT EXISTS clcm;
DROP TABLE IF EXISTS bench_tx;
CREATE UNLOGGED TABLE bench_tx (customer_id bigint, ts timestamptz, amount float8);
SELECT setseed(0.42);
-- each customer gets a start date in 2022-2023 and buys at random times in
-- the 24 months after it (about 10 purchases per customer)
INSERT INTO bench_tx
SELECT c, start + random() * interval '730 days', round((random() * 100)::numeric, 2)
  FROM (SELECT i % $CUSTOMERS AS c,
               timestamptz '2022-01-01 00:00+00'
                 + ((hashint8(i % $CUSTOMERS) & 1023) % 730) * interval '1 day' AS start
          FROM generate_series(1, $ROWS) AS i) s;
VACUUM ANALYZE bench_tx;
SQL

# run one statement in a fresh session; print "seconds peak_kB".  With
# WARM=1 the session first runs the statement once untimed, so that the
# timed run does not pay the session's one-time costs (loading the JIT
# library, mapping the shared buffers into the new process, loading
# clcm.so): about 0.4 s here, which every query of a fresh session pays.
#
# A serial run's backend is pinned (PIN=1, the default) to the CPU that runs
# a short busy loop fastest just before it: on the 2-vCPU machine this was
# written on, one vCPU at a time ran about 3x slower than the other (a
# neighbour on the host), and which one changed over minutes, so where
# the scheduler put a backend moved a query's time by up to 60% and the
# ratios by as much.  Runs with workers are not pinned.
WARM=0
PIN=${PIN:-1}
fast_cpu() {
	local c t best=0 bt=
	for c in $(seq 0 $(( $(nproc) > 8 ? 7 : $(nproc) - 1 ))); do
		t=$( { TIMEFORMAT=%R; time taskset -c "$c" bash -c 'i=0; while ((i < 100000)); do ((i++)); done'; } 2>&1 )
		if [ -z "$bt" ] || awk -v a="$t" -v b="$bt" 'BEGIN { exit !(a < b) }'; then
			best=$c bt=$t
		fi
	done
	echo "$best"
}
measure_once() {
	local sql=$1 workers=${2:-$WORKERS} settings=${3:-} out warmup= pin=
	[ "$WARM" = 1 ] && warmup=$sql
	if [ "$PIN" = 1 ] && [ "$workers" = 0 ] && command -v taskset >/dev/null; then
		pin="SELECT pg_backend_pid() AS backend_pid \\gset
\\setenv CLCM_BENCH_PID :backend_pid
\\! taskset -pc $(fast_cpu) \$CLCM_BENCH_PID >/dev/null"
	fi
	out=$(psql -X -q -v ON_ERROR_STOP=1 2>&1 <<SQL
$pin
SET max_parallel_workers_per_gather = $workers;
SET work_mem = '64MB';
$settings
$warmup
SET log_statement_stats = on;
SET client_min_messages = log;
\\timing on
$sql
SQL
)
	local ms kb
	ms=$(printf '%s\n' "$out" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1)
	kb=$(printf '%s\n' "$out" | sed -n 's/^!\s*\([0-9]*\) kB max resident size.*/\1/p' | tail -1)
	awk -v ms="$ms" -v kb="${kb:-0}" 'BEGIN { printf "%.3f %d\n", ms / 1000, kb }'
}

# rounds of the queries (see rounds() below)
RUNS=${RUNS:-3}

Q_COUNT="SELECT count(*) FROM bench_tx;"
# The best plain SQL found (2026-12-04): months as timestamps without time
# zone (date_trunc on timestamptz with a zone argument costs 30% more), the
# cohort from a window over the (customer, month) groups, the cells counted
# by (cohort, month), and the offset computed once per cell with
# date_part (float8); extract() returns numeric and cost 2.5x in total
# when it ran once per (customer, month) row.
PLAIN_CELLS="SELECT c, (date_part('year', m) * 12 + date_part('month', m))
          - (date_part('year', c) * 12 + date_part('month', c)) AS k, active
    FROM (WITH act AS (
            SELECT customer_id, date_trunc('month', ts AT TIME ZONE 'UTC') AS m
              FROM bench_tx GROUP BY 1, 2),
          coh AS (
            SELECT customer_id, m, min(m) OVER (PARTITION BY customer_id) AS c FROM act)
          SELECT c, m, count(*) AS active FROM coh GROUP BY 1, 2) g"
Q_SQL="SELECT count(*) FROM ($PLAIN_CELLS) r;"
Q_ONE="SELECT count(*) FROM clcm.retention_table((SELECT clcm.retention(customer_id, ts, 'month') FROM bench_tx));"
Q_TWO="SELECT count(*) FROM clcm.retention_table((SELECT clcm.retention(a) FROM (
  SELECT clcm.retention_activity(ts, 'month') AS a FROM bench_tx GROUP BY customer_id) s));"
Q_REV="SELECT count(*) FROM clcm.retention_revenue_table((SELECT clcm.revenue_retention(customer_id, ts, amount, 'month') FROM bench_tx));"

echo "== correctness: plain SQL and clcm agree on the monthly matrix"
psql -X -q -At -v ON_ERROR_STOP=1 <<SQL
-- the timed plain query's cells
WITH plain AS (SELECT c::date AS cohort, k::int AS k, active FROM ($PLAIN_CELLS) p),
ours AS (
  SELECT cohort, period AS k, active FROM clcm.retention_table(
    (SELECT clcm.retention(customer_id, ts, 'month') FROM bench_tx)))
-- every observable clcm cell equals the plain count (0 when plain has no
-- row); every plain cell exists in clcm (NULL only in the last, partial month)
SELECT 'cells compared: ' || count(*) FILTER (WHERE o.active IS NOT NULL)
       || ', differing: ' || count(*) FILTER (WHERE o.k IS NULL
             OR (o.active IS NOT NULL AND o.active <> coalesce(p.active, 0)))
  FROM ours o FULL JOIN plain p USING (cohort, k);
SQL

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
# One table for a set of rounds; $1 the directory of the runs, $2 its title.
# Times are medians over the rounds.  The ratios are computed within each
# round (the queries of a round run back to back, so a machine that slows
# down for a minute moves all of them) and then the median is taken:
#   x count(*)  -- the query's time over the faster count(*) of the round
#                  (serial or 2 workers);
#   plain/this  -- the fastest plain-SQL run of the round (serial or 2
#                  workers, JIT on or off) over the query's time.
report() {
	local d=$1 q
	echo "$2"
	# peak RSS includes the shared buffers the backend touched; the column
	# "over count(*)" subtracts the serial count(*) run's peak to estimate
	# the aggregate's own memory (the 2-worker rows count the leader only)
	for q in count count_par sql sql_nojit sql_par sql_par_nojit one par two rev; do
		cut -d' ' -f1 "$d/$q" >"$d/$q.t"
		cut -d' ' -f2 "$d/$q" >"$d/$q.kb"
	done
	paste "$d"/{count,count_par,sql,sql_nojit,sql_par,sql_par_nojit,one,par,two,rev}.t >"$d/times"
	paste "$d"/{count,count_par,sql,sql_nojit,sql_par,sql_par_nojit,one,par,two,rev}.kb >"$d/kbs"
	awk '
	function median(a, n,   i, j, t) {	# sorts a[1..n]
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	function min(a, b) { return a < b ? a : b }
	NR == FNR {	# times: one round per line
		n++
		for (q = 1; q <= 10; q++) t[q, n] = $q
		c = min($1, $2); s = min(min($3, $4), min($5, $6))
		for (q = 1; q <= 10; q++) { rc[q, n] = $q / c; rs[q, n] = s / $q }
		next
	}
	{	# peak kB
		m++
		for (q = 1; q <= 10; q++) if ($q > kb[q]) kb[q] = $q
	}
	END {
		split("count(*)|count(*), 2 workers|plain SQL (GROUP BY + window)|plain SQL, jit = off|plain SQL, 2 workers|plain SQL, 2 workers, jit = off|clcm.retention (one call)|clcm.retention (one call, 2 workers)|clcm two-level (activity+retention)|clcm.revenue_retention (one call)", name, "|")
		printf "%-38s %9s %10s %10s %12s %14s\n", "query", "seconds", "x count(*)", "plain/this", "peak RSS MB", "over count(*)"
		for (q = 1; q <= 10; q++) {
			for (i = 1; i <= n; i++) { a[i] = t[q, i]; b[i] = rc[q, i]; e[i] = rs[q, i] }
			printf "%-38s %9.3f %10.2f %10.2f %12.0f %14s\n", name[q], median(a, n), median(b, n), median(e, n),
				kb[q] / 1024, (q == 1) ? "" : sprintf("%.0f", (kb[q] - kb[1]) / 1024)
		}
	}' "$d/times" "$d/kbs"
}
# RUNS rounds of every query; in each round the queries run one after the
# other, each in its own session
rounds() {	# directory
	local r d=$1
	mkdir -p "$d"
	for r in $(seq 1 "$RUNS"); do
		measure_once "$Q_COUNT" >>"$d/count"
		measure_once "$Q_COUNT" 2 >>"$d/count_par"
		measure_once "$Q_SQL" >>"$d/sql"
		measure_once "$Q_SQL" "$WORKERS" "SET jit = off;" >>"$d/sql_nojit"
		measure_once "$Q_SQL" 2 >>"$d/sql_par"
		measure_once "$Q_SQL" 2 "SET jit = off;" >>"$d/sql_par_nojit"
		measure_once "$Q_ONE" >>"$d/one"
		measure_once "$Q_ONE" 2 >>"$d/par"
		measure_once "$Q_TWO" >>"$d/two"
		measure_once "$Q_REV" >>"$d/rev"
		echo "  round $r: count(*) $(tail -1 "$d/count" | cut -d' ' -f1)s; plain SQL $(tail -1 "$d/sql" | cut -d' ' -f1)s, jit off $(tail -1 "$d/sql_nojit" | cut -d' ' -f1)s, 2 workers $(tail -1 "$d/sql_par" | cut -d' ' -f1)s, both $(tail -1 "$d/sql_par_nojit" | cut -d' ' -f1)s; one call $(tail -1 "$d/one" | cut -d' ' -f1)s, 2 workers $(tail -1 "$d/par" | cut -d' ' -f1)s (load $(cut -d' ' -f1 /proc/loadavg))"
	done
}
echo "== server: huge_pages = $(psql -X -At -c 'SHOW huge_pages'), shared_buffers = $(psql -X -At -c 'SHOW shared_buffers'), table $(psql -X -At -c "SELECT pg_size_pretty(pg_relation_size('bench_tx'))")"
echo "== timings (max_parallel_workers_per_gather = $WORKERS unless marked; $RUNS rounds; serial runs pinned to the fastest CPU: PIN=$PIN)"
echo "fresh sessions: each query is the first statement of a new session"
WARM=0 rounds "$W/fresh"
echo "warm sessions: each query runs once untimed, then timed, in a new session"
WARM=1 rounds "$W/warm"
report "$W/fresh" "-- fresh sessions (the session's one-time costs included)"
report "$W/warm" "-- warm sessions (the query's own time)"
psql -X -q -c "DROP TABLE bench_tx;"
