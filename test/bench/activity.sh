#!/usr/bin/env bash
# test/bench/activity.sh: cost of clcm.track_activity and refresh_stages.
#
#   1. pgbench: single-order INSERT TPS into an orders table without a
#      trigger and into one with the row-level track_activity trigger (same
#      customers, same run), ratio with/without, for a bare table (no key
#      or index: the worst case) and a typical one (primary key, foreign
#      key to the customers: the table the goal of >= 0.8 is measured on);
#   2. a bulk INSERT ... SELECT of N_ORDERS orders: no trigger, the
#      statement-level trigger (REFERENCING NEW TABLE), the row-level one;
#   3. refresh_stages over N_CUSTOMERS customers vs an equivalent
#      hand-written pair of UPDATEs on an identical copy of the table.
#
# Run with `make bench BENCH=activity` (test/harness.sh sets PGHOST etc.).
# Sizes: N_CUSTOMERS (default 1000000), N_ORDERS (default 1000000),
# N_ROW_ORDERS (row-level bulk insert, default 1000000), PGBENCH_SECONDS
# (default 20), PGBENCH_CLIENTS (default 2), PGBENCH_ROUNDS (default 3),
# STEADY_SECONDS (steady-state runs, default 60, 0 skips them);
# ONLY_PGBENCH=1 stops after part 1.
set -euo pipefail

N_CUSTOMERS=${N_CUSTOMERS:-1000000}
N_ORDERS=${N_ORDERS:-1000000}
N_ROW_ORDERS=${N_ROW_ORDERS:-1000000}
PGBENCH_SECONDS=${PGBENCH_SECONDS:-20}
PGBENCH_CLIENTS=${PGBENCH_CLIENTS:-2}
PGBENCH_ROUNDS=${PGBENCH_ROUNDS:-3}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
now_ms() { date +%s%3N; }
# timed SQL: prints milliseconds
timed() {
	local s e
	s=$(now_ms)
	q -c "$1" >/dev/null
	e=$(now_ms)
	echo $((e - s))
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "== clcm activity benchmark: $N_CUSTOMERS customers, $N_ORDERS bulk orders, $(nproc) cores"
q <<SQL
CREATE EXTENSION IF NOT EXISTS clcm;
SET clcm.enforce = on;
-- customers for the pgbench part: steady state, every customer loyal with
-- facts (an order moves nobody: the pure cost of tracking); a second set
-- of prospects measures the cost when most orders also move a stage
CREATE TABLE bc (id int PRIMARY KEY, stage clcm.lifecycle_stage);
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON bc
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'id');
INSERT INTO bc SELECT i, 'loyal' FROM generate_series(1, 100000) i;
INSERT INTO clcm.activity_facts
SELECT 'bc'::regclass, i::text, '2024-01-01', '2024-06-01', 10, 500
  FROM generate_series(1, 100000) i;
CREATE TABLE bp (id int PRIMARY KEY, stage clcm.lifecycle_stage);
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON bp
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'id');
INSERT INTO bp SELECT i, 'prospect' FROM generate_series(1, 100000) i;
CREATE TABLE orders_moving (customer_id int, at timestamptz, amount numeric);
CREATE TRIGGER activity AFTER INSERT ON orders_moving FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('bp', 'id', 'customer_id', 'at', 'amount');
-- bare orders tables (no key, no foreign key) ...
CREATE TABLE orders_plain (customer_id int, at timestamptz, amount numeric);
CREATE TABLE orders_tracked (customer_id int, at timestamptz, amount numeric);
CREATE TRIGGER activity AFTER INSERT ON orders_tracked FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('bc', 'id', 'customer_id', 'at', 'amount');
-- ... and typical ones (bigserial primary key, foreign key to customers)
CREATE TABLE orders_plain_fk (id bigserial PRIMARY KEY, customer_id int NOT NULL REFERENCES bc,
	at timestamptz NOT NULL, amount numeric);
CREATE TABLE orders_tracked_fk (id bigserial PRIMARY KEY, customer_id int NOT NULL REFERENCES bc,
	at timestamptz NOT NULL, amount numeric);
CREATE TRIGGER activity AFTER INSERT ON orders_tracked_fk FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('bc', 'id', 'customer_id', 'at', 'amount');
VACUUM ANALYZE bc, bp, clcm.activity_facts;
SQL

# ------------------------------------------------------------- 1. pgbench
cat >"$W/plain.sql" <<'SQL'
\set c random(1, 100000)
INSERT INTO orders_plain VALUES (:c, now(), 10);
SQL
cat >"$W/tracked.sql" <<'SQL'
\set c random(1, 100000)
INSERT INTO orders_tracked VALUES (:c, now(), 10);
SQL
cat >"$W/plain_fk.sql" <<'SQL'
\set c random(1, 100000)
INSERT INTO orders_plain_fk (customer_id, at, amount) VALUES (:c, now(), 10);
SQL
cat >"$W/tracked_fk.sql" <<'SQL'
\set c random(1, 100000)
INSERT INTO orders_tracked_fk (customer_id, at, amount) VALUES (:c, now(), 10);
SQL
cat >"$W/moving.sql" <<'SQL'
\set c random(1, 100000)
INSERT INTO orders_moving VALUES (:c, now(), 10);
SQL
pgb() {
	# a checkpoint first, so that no run pays for another's dirty pages
	# or starts right after a checkpoint the other run did not get
	q -c "CHECKPOINT" >/dev/null
	pgbench -n -M prepared -c "$PGBENCH_CLIENTS" -j "$PGBENCH_CLIENTS" -T "$PGBENCH_SECONDS" \
		-f "$1" 2>/dev/null | awk '/^tps/ { printf "%.0f\n", $3; exit }'
}
best() { printf '%s\n' "$@" | sort -n | tail -1; }
# pair PLAIN TRACKED: PGBENCH_ROUNDS rounds, each one run of the plain
# script and one of the tracked script (alternating which goes first);
# sets p_runs, t_runs, p_best, t_best
pair() {
	local r a b
	p_runs=(); t_runs=()
	for r in $(seq 1 "$PGBENCH_ROUNDS"); do
		if [ $((r % 2)) = 1 ]; then
			a=$(pgb "$1"); b=$(pgb "$2")
		else
			b=$(pgb "$2"); a=$(pgb "$1")
		fi
		p_runs+=("$a"); t_runs+=("$b")
	done
	p_best=$(best "${p_runs[@]}"); t_best=$(best "${t_runs[@]}")
}
# warm up every script (caches, the backends' plan and trigger caches)
for f in plain tracked plain_fk tracked_fk; do
	pgbench -n -M prepared -c "$PGBENCH_CLIENTS" -T 3 -f "$W/$f.sql" >/dev/null 2>&1
done
echo "load average before part 1: $(cut -d' ' -f1-3 /proc/loadavg)"
pair "$W/plain.sql" "$W/tracked.sql"
tp=$p_best; tt=$t_best
echo "pgbench single-order INSERT, $PGBENCH_CLIENTS clients, ${PGBENCH_SECONDS}s each, best of $PGBENCH_ROUNDS alternating rounds:"
printf '  without trigger  %10.0f tps  (runs %s)\n' "$tp" "${p_runs[*]}"
printf '  track_activity   %10.0f tps  (runs %s)\n' "$tt" "${t_runs[*]}"
echo "  ratio with/without: $(ratio "$tt" "$tp")   (bare table, the worst case; steady state: no order moves a stage)"
pair "$W/plain_fk.sql" "$W/tracked_fk.sql"
tpf=$p_best; ttf=$t_best
echo " typical orders table (bigserial primary key, foreign key to customers):"
printf '  without trigger  %10.0f tps  (runs %s)\n' "$tpf" "${p_runs[*]}"
printf '  track_activity   %10.0f tps  (runs %s)\n' "$ttf" "${t_runs[*]}"
echo "  ratio with/without: $(ratio "$ttf" "$tpf")   (goal >= 0.8)"
# Steady state: the TID cache of track_activity is per connection and
# fills as a connection sees its customers again, so short runs on fresh
# connections (above) measure mostly a cold cache.  Long-lived connections
# (a pool) are measured by STEADY_SECONDS runs (default 60; 0 skips),
# plain and tracked alternating, averaging the tps that pgbench reports
# every 10 s over the second half of each run.
STEADY_SECONDS=${STEADY_SECONDS:-60}
steady() {	# script: mean tps of the 10 s intervals in the second half
	q -c "CHECKPOINT" >/dev/null
	pgbench -n -M prepared -c "$PGBENCH_CLIENTS" -j "$PGBENCH_CLIENTS" -T "$STEADY_SECONDS" -P 10 \
		-f "$1" 2>&1 | awk -v half="$((STEADY_SECONDS / 2))" \
		'/^progress:/ { t = $2 + 0; if (t > half) { s += $4; n++ } } END { printf "%.0f\n", n ? s / n : 0 }'
}
if [ "$STEADY_SECONDS" -gt 0 ]; then
	sp=$(steady "$W/plain.sql"); st=$(steady "$W/tracked.sql")
	spf=$(steady "$W/plain_fk.sql"); stf=$(steady "$W/tracked_fk.sql")
	echo "steady state (${STEADY_SECONDS}s runs on the same connections, mean tps of the second half):"
	printf '  bare:    without %6.0f  track_activity %6.0f  ratio %s\n' "$sp" "$st" "$(ratio "$st" "$sp")"
	printf '  typical: without %6.0f  track_activity %6.0f  ratio %s\n' "$spf" "$stf" "$(ratio "$stf" "$spf")"
fi
echo "load average after part 1: $(cut -d' ' -f1-3 /proc/loadavg)"
tm=$(pgb "$W/moving.sql")
printf '  track_activity, prospects  %10.0f tps  (ratio %s; stage moves below)\n' "$tm" "$(ratio "$tm" "$tp")"
q -c "SELECT (SELECT count(*) FROM orders_moving) AS orders,
             (SELECT count(*) FROM clcm.stage_history WHERE table_name = 'bp'::regclass AND reason = 'activity') AS stage_moves,
             (SELECT count(*) FROM clcm.stage_history WHERE table_name = 'bc'::regclass AND reason = 'activity') AS steady_state_moves"

# Backend CPU per order: less sensitive to a busy machine than tps.  One
# pgbench client; the CPU time (utime + stime from /proc) its backend
# spends over CPU_SECONDS, divided by the orders inserted meanwhile.
cpu_per_order() {	# script table
	local pid c1 c2 n1 n2 bpid
	q -c "CHECKPOINT" >/dev/null
	pgbench -n -M prepared -c 1 -T $((CPU_SECONDS + 4)) -f "$1" >/dev/null 2>&1 &
	bpid=$!
	sleep 2
	pid=$(q -At -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgbench' AND state IS NOT NULL LIMIT 1")
	n1=$(q -At -c "SELECT n_tup_ins FROM pg_stat_user_tables WHERE relid = '$2'::regclass")
	c1=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
	sleep "$CPU_SECONDS"
	c2=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
	n2=$(q -At -c "SELECT n_tup_ins FROM pg_stat_user_tables WHERE relid = '$2'::regclass")
	wait "$bpid"
	awk -v c="$((c2 - c1))" -v n="$((n2 - n1))" -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf "%.1f", c / hz * 1e6 / n }'
}
CPU_SECONDS=${CPU_SECONDS:-10}
if [ -r /proc/self/stat ]; then
	cp1=$(cpu_per_order "$W/plain.sql" orders_plain)
	ct1=$(cpu_per_order "$W/tracked.sql" orders_tracked)
	cp2=$(cpu_per_order "$W/plain.sql" orders_plain)
	ct2=$(cpu_per_order "$W/tracked.sql" orders_tracked)
	cp=$(printf '%s\n' "$cp1" "$cp2" | sort -n | head -1)
	ct=$(printf '%s\n' "$ct1" "$ct2" | sort -n | head -1)
	echo "backend CPU per single-order INSERT transaction (1 client, ${CPU_SECONDS}s windows, lower of 2):"
	echo "  without trigger  $cp us  (runs $cp1, $cp2)"
	echo "  track_activity   $ct us  (runs $ct1, $ct2)"
	echo "  CPU ratio without/with: $(ratio "$cp" "$ct")   (the tps ratio the server side allows)"
fi

[ "${ONLY_PGBENCH:-0}" = 1 ] && exit 0

# ------------------------------------------------------- 2. bulk inserts
q <<SQL
CREATE TABLE bk_stmt (id int PRIMARY KEY, stage clcm.lifecycle_stage);
CREATE TABLE bk_row (id int PRIMARY KEY, stage clcm.lifecycle_stage);
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON bk_stmt
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'id');
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON bk_row
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'id');
INSERT INTO bk_stmt SELECT i, 'prospect' FROM generate_series(1, $N_CUSTOMERS / 10) i;
INSERT INTO bk_row SELECT i, 'prospect' FROM generate_series(1, $N_CUSTOMERS / 10) i;
CREATE UNLOGGED TABLE src AS
	SELECT (1 + (i::bigint * 7919) % ($N_CUSTOMERS / 10))::int AS customer_id,
	       timestamptz '2024-01-01' + (i % 365) * interval '1 day' AS at,
	       (i % 100)::numeric AS amount
	  FROM generate_series(1, $N_ORDERS) i;
CREATE TABLE bo_plain (customer_id int, at timestamptz, amount numeric);
CREATE TABLE bo_stmt (customer_id int, at timestamptz, amount numeric);
CREATE TABLE bo_row (customer_id int, at timestamptz, amount numeric);
CREATE TRIGGER activity AFTER INSERT ON bo_stmt REFERENCING NEW TABLE AS new_orders
	FOR EACH STATEMENT
	EXECUTE FUNCTION clcm.track_activity('bk_stmt', 'id', 'customer_id', 'at', 'amount');
CREATE TRIGGER activity AFTER INSERT ON bo_row FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('bk_row', 'id', 'customer_id', 'at', 'amount');
VACUUM ANALYZE src, bk_stmt, bk_row;
SQL
t_plain=$(timed "INSERT INTO bo_plain SELECT * FROM src")
t_stmt=$(timed "INSERT INTO bo_stmt SELECT * FROM src")
t_row=$(timed "INSERT INTO bo_row SELECT * FROM src LIMIT $N_ROW_ORDERS")
echo "INSERT ... SELECT of $N_ORDERS orders for $((N_CUSTOMERS / 10)) customers:"
echo "  without trigger            $t_plain ms"
echo "  statement-level trigger    $t_stmt ms   ($(ratio "$t_stmt" "$t_plain")x the plain insert)"
echo "  row-level trigger          $t_row ms   ($(ratio "$t_row" "$t_plain")x; $N_ROW_ORDERS orders)"
q -c "SELECT (SELECT count(*) FROM bk_stmt) AS customers,
             (SELECT sum(purchases) FROM clcm.activity_facts WHERE table_name = 'bk_stmt'::regclass) AS stmt_purchases,
             (SELECT sum(purchases) FROM clcm.activity_facts WHERE table_name = 'bk_row'::regclass) AS row_purchases,
             (SELECT count(*) FROM bk_stmt s JOIN bk_row r USING (id) WHERE s.stage <> r.stage) AS stage_differences"

# ------------------------------------------------------------ 3. refresh
# N_CUSTOMERS customers in stage active with facts whose last activity is
# spread over the 400 days before 2025-01-01; refresh as of 2025-01-01.
q <<SQL
CREATE TABLE rc_a (id int PRIMARY KEY, stage clcm.lifecycle_stage);
CREATE TABLE rc_b (id int PRIMARY KEY, stage clcm.lifecycle_stage);
INSERT INTO rc_a SELECT i, 'active' FROM generate_series(1, $N_CUSTOMERS) i;
INSERT INTO rc_b SELECT i, 'active' FROM generate_series(1, $N_CUSTOMERS) i;
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON rc_a
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'id');
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON rc_b
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'id');
INSERT INTO clcm.activity_facts
SELECT t::regclass, i::text, timestamptz '2023-01-01',
       timestamptz '2025-01-01' - (i % 400) * interval '1 day', 3, 30
  FROM generate_series(1, $N_CUSTOMERS) i, (VALUES ('rc_a'), ('rc_b')) v(t);
VACUUM ANALYZE rc_a, rc_b, clcm.activity_facts;
SQL
t_refresh=$(timed "SELECT clcm.refresh_stages('rc_a', '2025-01-01')")
# the hand-written equivalent: active -> at_risk after 90 quiet days, then
# at_risk -> churned after 180
t_hand=$(timed "BEGIN;
SET LOCAL clcm.reason = 'refresh';
UPDATE rc_b c SET stage = 'at_risk' FROM clcm.activity_facts f
 WHERE f.table_name = 'rc_b'::regclass AND f.customer_key = c.id::text
   AND c.stage = 'active' AND f.last_at + interval '90 days' <= '2025-01-01';
UPDATE rc_b c SET stage = 'churned' FROM clcm.activity_facts f
 WHERE f.table_name = 'rc_b'::regclass AND f.customer_key = c.id::text
   AND c.stage = 'at_risk' AND f.last_at + interval '180 days' <= '2025-01-01';
COMMIT;")
t_again=$(timed "SELECT clcm.refresh_stages('rc_a', '2025-01-01')")
echo "refresh over $N_CUSTOMERS customers (as of 2025-01-01):"
echo "  refresh_stages             $t_refresh ms"
echo "  hand-written UPDATEs       $t_hand ms   (refresh_stages / hand-written = $(ratio "$t_refresh" "$t_hand"))"
echo "  refresh_stages again       $t_again ms   (moves nobody)"
q -c "SELECT a.stage, count(*) AS n, count(*) FILTER (WHERE a.stage = b.stage) AS same_as_hand
        FROM rc_a a JOIN rc_b b USING (id) GROUP BY 1 ORDER BY 1"
