#!/usr/bin/env bash
# test/bench/rfm.sh -- clcm.rfm_summary over 10M raw transactions (~1M
# customers) against a plain scan, a bare GROUP BY and the best plain-SQL
# equivalent, all measured in one run.  Run with `make bench BENCH=rfm`
# (test/harness.sh sets PGHOST/PGPORT/PGUSER/PGDATABASE).
#
# Two physical layouts of the same rows:
#   by_time      rows in time order, customers random (an orders table
#                filled as orders arrive): grouping 1M customers is
#                dominated by random access to the executor's hash table;
#   by_customer  the same rows ordered by customer, ts (a table clustered
#                on customer, or a customer-sorted extract).
# Every query runs in one backend without parallel workers, and the
# benchmark prints both wall time and that backend's CPU time (utime +
# stime from /proc): on a shared machine CPU time is the steadier figure.
# Sizes: RFM_ROWS (default 10,000,000), RFM_CUSTOMERS (1,000,000).
set -euo pipefail

ROWS=${RFM_ROWS:-10000000}
CUSTOMERS=${RFM_CUSTOMERS:-1000000}
END="2022-06-30"

psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
say() { echo "$@" >&2; }

say "== rfm benchmark: $ROWS transactions, $CUSTOMERS customers; $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
psql_q -c "CREATE EXTENSION IF NOT EXISTS clcm"
psql_q -c "DROP TABLE IF EXISTS rfm_by_time, rfm_by_customer" 2>/dev/null
gen_start=$(date +%s)
# one transaction every 9 seconds from 2020-01-01 (2.85 years for 10M rows),
# a random customer each, amounts with cents
psql_q -c "SELECT setseed(0.5)" -c "
CREATE TABLE rfm_by_time AS
SELECT 1 + (random() * ($CUSTOMERS - 1))::int AS customer,
       timestamptz '2020-01-01 00:00+00' + i * interval '9 seconds' AS ts,
       round((random() * 100)::numeric, 2) AS amount
  FROM generate_series(1, $ROWS) i" >/dev/null
psql_q -c "CREATE TABLE rfm_by_customer AS SELECT * FROM rfm_by_time ORDER BY customer, ts"
psql_q -c "VACUUM ANALYZE rfm_by_time" -c "VACUUM ANALYZE rfm_by_customer"
say "data generated in $(( $(date +%s) - gen_start )) s; table size" \
	"$(psql_q -At -c "SELECT pg_size_pretty(pg_table_size('rfm_by_time'))")," \
	"$(psql_q -At -c "SELECT count(DISTINCT customer) || ' customers, ' ||
		count(*) FILTER (WHERE ts < date '$END' + 1) || ' rows up to $END' FROM rfm_by_time")"

clcm_sql() {
	echo "SELECT customer, clcm.rfm_summary(ts, amount, '$END', 'week') AS s
	  FROM $1 GROUP BY customer"
}
# plain SQL, variant A: sums per (customer, day), then per customer with the
# first day's amount from an ordered array_agg
plain_a() {
	echo "SELECT customer, count(*) - 1 AS frequency,
	       (max(day) - min(day)) / 7.0 AS recency,
	       (date '$END' - min(day)) / 7.0 AS t,
	       CASE WHEN count(*) > 1
	            THEN (sum(amt) - (array_agg(amt ORDER BY day))[1]) / (count(*) - 1)
	            ELSE 0 END AS monetary
	  FROM (SELECT customer, ts::date AS day, sum(amount) AS amt
	          FROM $1 WHERE ts::date <= date '$END' GROUP BY 1, 2) d
	 GROUP BY customer"
}
# variant B: the first day found with a window function
plain_b() {
	echo "SELECT customer, count(*) - 1 AS frequency,
	       (max(day) - min(day)) / 7.0 AS recency,
	       (date '$END' - min(day)) / 7.0 AS t,
	       coalesce(sum(amt) FILTER (WHERE day > first) / nullif(count(*) - 1, 0), 0) AS monetary
	  FROM (SELECT customer, day, amt, min(day) OVER (PARTITION BY customer) AS first
	          FROM (SELECT customer, ts::date AS day, sum(amount) AS amt
	                  FROM $1 WHERE ts::date <= date '$END' GROUP BY 1, 2) d) w
	 GROUP BY customer"
}

# the same numbers? (frequency exact, times and monetary to rounding)
psql_q -At -c "SET TimeZone = 'UTC'" -c "
SELECT 'results agree with plain SQL: ' || (count(*) FILTER (WHERE (c.s).frequency = a.frequency
           AND abs((c.s).recency - a.recency) < 1e-9 AND abs((c.s).t - a.t) < 1e-9
           AND abs((c.s).monetary - a.monetary) < 1e-6) = count(*))::text
       || ' (' || count(*) || ' customers)'
  FROM ($(clcm_sql rfm_by_customer)) c JOIN ($(plain_b rfm_by_customer)) a USING (customer)" >&2

# One backend for all timings; its CPU time is read from /proc.
coproc PSQL { psql -X -At -v ON_ERROR_STOP=1 2>&1; }
echo "SELECT pg_backend_pid();" >&"${PSQL[1]}"
read -r BACKEND <&"${PSQL[0]}"
echo "SET max_parallel_workers_per_gather = 0; SET TimeZone = 'UTC';" >&"${PSQL[1]}"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$BACKEND/stat"; }
TICKS=$(getconf CLK_TCK)

# run LABEL SQL: prints a line, sets WALL and CPU (seconds)
run() {
	local label=$1 sql=$2 c0 c1 t0 t1 line
	c0=$(cpu_ticks); t0=$(date +%s.%N)
	printf '%s;\n\\echo __done__\n' "$sql" >&"${PSQL[1]}"
	while read -r line <&"${PSQL[0]}"; do
		[ "$line" = "__done__" ] && break
		case $line in ERROR*) say "$line"; exit 1 ;; esac
	done
	t1=$(date +%s.%N); c1=$(cpu_ticks)
	WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b - a}')
	CPU=$(awk -v a="$c0" -v b="$c1" -v t="$TICKS" 'BEGIN{printf "%.2f", (b - a) / t}')
	printf '  %-38s wall %7.2f s   cpu %7.2f s\n' "$label" "$WALL" "$CPU" >&2
}

for tab in rfm_by_time rfm_by_customer; do
	say
	say "-- table ${tab#rfm_} (no parallel workers)"
	run "warm-up scan" "SELECT count(*) FROM $tab"
	run "plain scan: count(*)" "SELECT count(*) FROM $tab"; sw=$WALL; sc=$CPU
	run "bare GROUP BY customer, count(*)" \
		"SELECT count(*) FROM (SELECT customer, count(*) FROM $tab GROUP BY customer) q"; gw=$WALL; gc=$CPU
	run "clcm.rfm_summary GROUP BY customer" "SELECT count(*) FROM ($(clcm_sql $tab)) q"; cw=$WALL; cc=$CPU
	run "plain SQL A (array_agg ORDER BY)" "SELECT count(*) FROM ($(plain_a $tab)) q"; aw=$WALL; ac=$CPU
	run "plain SQL B (window min)" "SELECT count(*) FROM ($(plain_b $tab)) q"; bw=$WALL; bc=$CPU
	awk -v sw="$sw" -v sc="$sc" -v gw="$gw" -v gc="$gc" -v cw="$cw" -v cc="$cc" \
		-v aw="$aw" -v ac="$ac" -v bw="$bw" -v bc="$bc" 'BEGIN {
		pw = (aw < bw) ? aw : bw; pc = (ac < bc) ? ac : bc;
		printf "  best plain SQL / rfm_summary:   wall %6.2fx   cpu %6.2fx   (goal >= 10x)\n", pw / cw, pc / cc;
		printf "  rfm_summary / plain scan:       wall %6.2fx   cpu %6.2fx\n", cw / sw, cc / sc;
		printf "  rfm_summary / bare GROUP BY:    wall %6.2fx   cpu %6.2fx\n", cw / gw, cc / gc;
	}' >&2
done
echo '\q' >&"${PSQL[1]}"
wait

say
say "plans (no parallel workers):"
psql_q -c "SET max_parallel_workers_per_gather = 0" \
	-c "EXPLAIN (COSTS OFF) SELECT count(*) FROM ($(clcm_sql rfm_by_time)) q" >&2
say "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
psql_q -c "DROP TABLE rfm_by_time, rfm_by_customer"
