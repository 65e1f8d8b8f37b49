#!/usr/bin/env bash
#
# test/bench/memory.sh -- peak backend memory of clcm's aggregates over
# 1M and 10M rows (make bench BENCH=memory; or with PG* set to any
# cluster on this machine, run as a user that may read the backend's
# /proc/<pid>/status).
#
# Each case runs in a fresh session; the figure is the backend's peak
# resident set (VmHWM) after the query, next to count(*) over the same
# rows (the baseline: generate_series, the executor, shared buffers
# touched).  Bounded memory means: 10M rows need about what 1M rows need
# when the number of customers/groups is the same; states grow with
# customers, periods or distinct fit rows, never with the row count.
set -euo pipefail
PSQL=(psql -X -q -At -v ON_ERROR_STOP=1)
ROWS=${MEM_ROWS:-1000000 10000000}

run_case() {
	local name=$1 rows=$2 sql=$3
	local out
	out=$("${PSQL[@]}" <<-SQL
		SET max_parallel_workers_per_gather = 0;
		SET jit = off;
		SELECT pg_backend_pid() AS pid \gset
		SELECT clock_timestamp() AS t0 \gset
		SELECT length(q::text) > 0 FROM (${sql//\$ROWS/$rows}) q LIMIT 1;
		SELECT round(extract(epoch FROM clock_timestamp() - :'t0')::numeric, 2);
		\setenv CLCM_PID :pid
		\! grep VmHWM /proc/\$CLCM_PID/status | awk '{print \$2}'
	SQL
	)
	local secs kb
	secs=$(echo "$out" | sed -n 2p)
	kb=$(echo "$out" | sed -n 3p)
	printf '%-34s %9s rows  %8.1f MB peak RSS  %7s s\n' "$name" "$rows" "$(echo "$kb / 1024" | bc -l)" "$secs"
}

echo "clcm aggregates: peak backend RSS (VmHWM), serial plans, jit off"
echo "(machine shared with other jobs: times are indicative only)"
for n in $ROWS; do
	run_case "baseline count(*)" "$n" "SELECT count(*) FROM generate_series(1, \$ROWS) g"
	run_case "survival" "$n" \
		"SELECT clcm.survival((g % 1000)::float8, g % 3 = 0) FROM generate_series(1, \$ROWS) g"
	run_case "retention (10k customers, day)" "$n" \
		"SELECT clcm.retention(g % 10000, timestamptz '2020-01-01' + (g % 1000) * interval '1 day', 'day') FROM generate_series(1, \$ROWS) g"
	run_case "revenue_retention (10k, month)" "$n" \
		"SELECT clcm.revenue_retention(g % 10000, timestamptz '2020-01-01' + (g % 1000) * interval '1 day', 1.5, 'month') FROM generate_series(1, \$ROWS) g"
	run_case "rfm_summary (100k groups)" "$n" \
		"SELECT clcm.rfm_summary(timestamptz '2020-01-01' + (g % 1000) * interval '1 day', 2.5, '2025-01-01') FROM generate_series(1, \$ROWS) g GROUP BY g % 100000"
	run_case "bgnbd_fit (1000 distinct rows)" "$n" \
		"SELECT clcm.bgnbd_fit((g % 10)::float8, CASE WHEN g % 10 = 0 THEN 0 ELSE (g % 100) / 4.0 + 1 END, 40) FROM generate_series(1, \$ROWS) g"
	run_case "gamma_gamma_fit" "$n" \
		"SELECT clcm.gamma_gamma_fit(1 + (g % 10)::float8, 10 + (g % 50)::float8) FROM generate_series(1, \$ROWS) g"
	run_case "transition_matrix" "$n" \
		"SELECT clcm.transition_matrix(s[1 + g % 8], s[1 + (g + 1) % 8]) FROM (SELECT enum_range(NULL::clcm.lifecycle_stage) AS s) e, generate_series(1, \$ROWS) g"
	run_case "clv_historic" "$n" \
		"SELECT clcm.clv_historic(2.5, timestamptz '2020-01-01' + (g % 1000) * interval '1 day', 0.3, 0.1, '2025-01-01') FROM generate_series(1, \$ROWS) g"
done
