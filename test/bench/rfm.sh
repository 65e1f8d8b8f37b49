#!/usr/bin/env bash
# test/bench/rfm.sh -- clcm.rfm_summary over 10M raw transactions (~1M
# customers) against a plain scan and the best plain-SQL equivalent, all
# in one run.  Run with `make bench BENCH=rfm` (test/harness.sh sets
# PGHOST/PGPORT/PGUSER/PGDATABASE).  Sizes can be changed with
# RFM_ROWS / RFM_CUSTOMERS.
set -euo pipefail

ROWS=${RFM_ROWS:-10000000}
CUSTOMERS=${RFM_CUSTOMERS:-1000000}
END="2022-06-30"

psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# time_query LABEL SQL: best of two runs, in ms (prints and returns it)
time_query() {
	local label=$1 sql=$2 best="" t i
	for i in 1 2; do
		t=$(psql_q -At -c '\timing on' -c "SET TimeZone = 'UTC'" -c "$sql" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1)
		if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
	done
	printf '%-44s %10.0f ms\n' "$label" "$best" >&2
	echo "$best"
}

echo "== rfm benchmark: $ROWS transactions, $CUSTOMERS customers" >&2
psql_q -c "CREATE EXTENSION IF NOT EXISTS clcm"
psql_q -c "DROP TABLE IF EXISTS rfm_tx"
gen_start=$(date +%s)
# transactions written in time order (as an orders table fills up), one
# every 9 seconds from 2020-01-01 (about 2.9 years), random customer
psql_q -c "SELECT setseed(0.5)" -c "
CREATE TABLE rfm_tx AS
SELECT 1 + (random() * ($CUSTOMERS - 1))::int AS customer,
       timestamptz '2020-01-01 00:00+00' + i * interval '9 seconds' AS ts,
       round((random() * 100)::numeric, 2) AS amount
  FROM generate_series(1, $ROWS) i"
psql_q -c "VACUUM ANALYZE rfm_tx"
echo "data generated in $(( $(date +%s) - gen_start )) s;" \
	"table size $(psql_q -At -c "SELECT pg_size_pretty(pg_table_size('rfm_tx'))")" >&2
psql_q -At -c "SELECT 'customers: ' || count(DISTINCT customer) || ', rows up to $END: ' ||
	count(*) FILTER (WHERE ts < date '$END' + 1) FROM rfm_tx" >&2

CLCM_SQL="SELECT customer, clcm.rfm_summary(ts, amount, '$END', 'week') AS s
  FROM rfm_tx GROUP BY customer"
# plain SQL, variant A: per (customer, day) sums, then per customer with the
# first day's amount taken by an ordered array_agg
PLAIN_A="SELECT customer, count(*) - 1 AS frequency,
       (max(day) - min(day)) / 7.0 AS recency,
       (date '$END' - min(day)) / 7.0 AS t,
       CASE WHEN count(*) > 1
            THEN (sum(amt) - (array_agg(amt ORDER BY day))[1]) / (count(*) - 1)
            ELSE 0 END AS monetary
  FROM (SELECT customer, ts::date AS day, sum(amount) AS amt
          FROM rfm_tx WHERE ts::date <= date '$END' GROUP BY 1, 2) d
 GROUP BY customer"
# variant B: the first day found with a window function instead
PLAIN_B="SELECT customer, count(*) - 1 AS frequency,
       (max(day) - min(day)) / 7.0 AS recency,
       (date '$END' - min(day)) / 7.0 AS t,
       coalesce(sum(amt) FILTER (WHERE day > first) / nullif(count(*) - 1, 0), 0) AS monetary
  FROM (SELECT customer, day, amt, min(day) OVER (PARTITION BY customer) AS first
          FROM (SELECT customer, ts::date AS day, sum(amount) AS amt
                  FROM rfm_tx WHERE ts::date <= date '$END' GROUP BY 1, 2) d) w
 GROUP BY customer"

# the same numbers? (frequency and day counts exact, monetary to 1e-9)
psql_q -At -c "SET TimeZone = 'UTC'" -c "
SELECT 'results agree: ' || (count(*) FILTER (WHERE (c.s).frequency = a.frequency
           AND abs((c.s).recency - a.recency) < 1e-9 AND abs((c.s).t - a.t) < 1e-9
           AND abs((c.s).monetary - a.monetary) < 1e-6) = count(*))::text
       || ' (' || count(*) || ' customers; plain A = plain B: '
       || (SELECT count(*) FROM ($PLAIN_A) x JOIN ($PLAIN_B) y USING (customer)
            WHERE x.frequency = y.frequency AND x.monetary = y.monetary) || ')'
  FROM ($CLCM_SQL) c JOIN ($PLAIN_A) a USING (customer)" >&2

scan=$(time_query "plain scan: count(*)" "SELECT count(*) FROM rfm_tx")
clcm=$(time_query "clcm.rfm_summary GROUP BY customer" "SELECT count(*) FROM ($CLCM_SQL) q")
pa=$(time_query "plain SQL A (array_agg ORDER BY)" "SELECT count(*) FROM ($PLAIN_A) q")
pb=$(time_query "plain SQL B (window min)" "SELECT count(*) FROM ($PLAIN_B) q")
best=$(awk "BEGIN{print ($pa < $pb) ? $pa : $pb}")
clcm_serial=$(time_query "clcm.rfm_summary, no parallel workers" \
	"SET max_parallel_workers_per_gather = 0; SELECT count(*) FROM ($CLCM_SQL) q")

echo >&2
awk -v s="$scan" -v c="$clcm" -v b="$best" -v cs="$clcm_serial" 'BEGIN {
	printf "rfm_summary / scan:                 %6.2fx\n", c / s;
	printf "best plain SQL / rfm_summary:       %6.2fx  (goal >= 10x)\n", b / c;
	printf "best plain SQL / scan:              %6.2fx\n", b / s;
	printf "rfm_summary serial / parallel:      %6.2fx\n", cs / c;
}' >&2
psql_q -At -c "SELECT 'plan: ' || string_agg(l, ' / ') FROM (SELECT * FROM
	(SELECT 1) x, LATERAL (SELECT 1) y) z, LATERAL (SELECT 1) w, LATERAL (SELECT '' AS l) v WHERE false" >/dev/null
echo "plan of the clcm query:" >&2
psql_q -c "EXPLAIN (COSTS OFF) SELECT count(*) FROM ($CLCM_SQL) q" >&2
psql_q -c "DROP TABLE rfm_tx"
