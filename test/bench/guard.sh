#!/usr/bin/env bash
#
# test/bench/guard.sh -- UPDATE throughput of a guarded customers table.
#
# Identical 100k-row customers tables: one without trigger, one with
# clcm.stage_guard, one with an equivalent PL/pgSQL trigger (validation
# against a transitions table + history insert + timestamp stamp), and, for
# context, one without trigger whose UPDATE writes the history row itself in
# the same statement (a CTE; no validation): the cost of recording alone;
# and one with PostgreSQL's built-in C trigger
# suppress_redundant_updates_trigger() as a BEFORE UPDATE row trigger (it
# lets every changed row through): the cost of having any BEFORE row
# trigger (PostgreSQL locks the row before calling it).  Each
# pgbench transaction moves one random customer along the legal cycle
# active <-> at_risk, so every guarded update validates and writes a
# history row.  The variants alternate within one run (ROUNDS rounds, the
# order rotating each round); the script prints the TPS of every run, the
# median per variant and the ratios guard / no-trigger, guard / plpgsql and
# guard / sql-history.  Because the machine may be shared, it also prints
# the server CPU time per transaction (user + system time of the exited
# backends, read from the postmaster's cutime/cstime in /proc), which
# depends much less on other load than TPS does.
#
# Run with `make bench BENCH=guard` (scratch cluster; PG* variables set).
# Environment: ROUNDS (3), DURATION seconds (15), CLIENTS (2), ROWS (100000).

set -euo pipefail

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-15}
CLIENTS=${CLIENTS:-2}
ROWS=${ROWS:-100000}
DB=clcm_bench_guard
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
export PGDATABASE=$DB

psql -X -q -v ON_ERROR_STOP=1 -v rows="$ROWS" <<'SQL'
CREATE EXTENSION clcm;
-- the three tables
CREATE TABLE c_none (id int PRIMARY KEY, name text, stage clcm.lifecycle_stage NOT NULL,
                     stage_since timestamptz);
CREATE TABLE c_guard (LIKE c_none INCLUDING ALL);
CREATE TABLE c_plpgsql (LIKE c_none INCLUDING ALL);
CREATE TABLE c_sqlhist (LIKE c_none INCLUDING ALL);
CREATE TABLE c_emptytrig (LIKE c_none INCLUDING ALL);
INSERT INTO c_none SELECT i, 'customer ' || i, 'active', now() FROM generate_series(1, :rows) i;
INSERT INTO c_guard SELECT * FROM c_none;
INSERT INTO c_plpgsql SELECT * FROM c_none;
INSERT INTO c_sqlhist SELECT * FROM c_none;
INSERT INTO c_emptytrig SELECT * FROM c_none;
CREATE TRIGGER empty BEFORE UPDATE ON c_emptytrig
	FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();

CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON c_guard
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'id', 'stage_since');

-- the PL/pgSQL equivalent: transitions table, history table, trigger
CREATE TABLE p_transition (from_stage text, to_stage text, PRIMARY KEY (from_stage, to_stage));
INSERT INTO p_transition SELECT from_stage, to_stage FROM clcm.transition WHERE model = 'lifecycle';
CREATE TABLE p_history (LIKE clcm.stage_history INCLUDING DEFAULTS INCLUDING INDEXES);
CREATE SEQUENCE p_history_id_seq;
ALTER TABLE p_history ALTER id SET DEFAULT nextval('p_history_id_seq');
CREATE TABLE s_history (LIKE p_history INCLUDING DEFAULTS INCLUDING INDEXES);
CREATE FUNCTION p_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' THEN
		IF NEW.stage IS NOT DISTINCT FROM OLD.stage THEN
			RETURN NEW;
		END IF;
		IF NOT EXISTS (SELECT 1 FROM p_transition t
		                WHERE t.from_stage IN (OLD.stage::text, '*')
		                  AND t.to_stage = NEW.stage::text) THEN
			RAISE EXCEPTION 'stage transition from "%" to "%" is not allowed', OLD.stage, NEW.stage
				USING ERRCODE = 'check_violation';
		END IF;
	END IF;
	INSERT INTO p_history (table_name, customer_key, model, from_stage, to_stage,
	                       changed_at, xid, role, reason, override)
	VALUES (TG_RELID::regclass, NEW.id::text, 'lifecycle',
	        CASE WHEN TG_OP = 'UPDATE' THEN OLD.stage::text END, NEW.stage::text,
	        now(), pg_current_xact_id(), current_user,
	        nullif(current_setting('clcm.reason', true), ''), false);
	NEW.stage_since := now();
	RETURN NEW;
END
$$;
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON c_plpgsql
	FOR EACH ROW EXECUTE FUNCTION p_guard();
VACUUM ANALYZE;
SQL

# one pgbench script per variant; the no-trigger ones stamp stage_since
for v in none guard plpgsql emptytrig; do
	stamp=""
	[ "$v" = none ] || [ "$v" = emptytrig ] && stamp=", stage_since = now()"
	cat >"$W/$v.sql" <<-EOF
		\set id random(1, $ROWS)
		UPDATE c_$v SET stage = CASE WHEN stage = 'active' THEN 'at_risk'::clcm.lifecycle_stage ELSE 'active' END$stamp WHERE id = :id;
	EOF
done
cat >"$W/sqlhist.sql" <<-EOF
	\set id random(1, $ROWS)
	WITH u AS (UPDATE c_sqlhist SET stage = CASE WHEN stage = 'active' THEN 'at_risk'::clcm.lifecycle_stage ELSE 'active' END, stage_since = now() WHERE id = :id RETURNING id, stage) INSERT INTO s_history (table_name, customer_key, model, from_stage, to_stage, changed_at, xid, role, reason, override) SELECT 'c_sqlhist'::regclass, u.id::text, 'lifecycle', CASE WHEN u.stage = 'active' THEN 'at_risk' ELSE 'active' END, u.stage::text, now(), pg_current_xact_id(), current_user, NULL, false FROM u;
EOF

# CPU time (clock ticks) of the postmaster's exited children: the backends
# of finished pgbench runs (fields 16 and 17 of /proc/<pid>/stat)
PMPID=$(head -n 1 "$(psql -X -At -c 'SHOW data_directory')/postmaster.pid")
TICKS=$(getconf CLK_TCK)
child_ticks() { awk '{ sub(/^.*\) /, ""); print $14 + $15 }' "/proc/$PMPID/stat"; }

declare -A SUM CPU
order=(none guard plpgsql sqlhist emptytrig)
echo "guard benchmark: $ROWS rows, $ROUNDS rounds x 5 variants x ${DURATION}s, $CLIENTS clients"
for ((r = 1; r <= ROUNDS; r++)); do
	for v in "${order[@]}"; do
		psql -X -q -c "VACUUM c_$v" -c "CHECKPOINT"
		t0=$(child_ticks)
		out=$(pgbench -n -M prepared -c "$CLIENTS" -j "$CLIENTS" -T "$DURATION" -f "$W/$v.sql" 2>&1)
		sleep 0.5	# let the postmaster reap the backends
		t1=$(child_ticks)
		tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' <<<"$out")
		ntx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
		[ -n "$tps" ] && [ -n "$ntx" ] || { echo "pgbench failed for $v:" >&2; echo "$out" >&2; exit 1; }
		us=$(echo "($t1 - $t0) * 1000000 / $TICKS / $ntx" | bc -l)
		printf 'round %d  %-8s %10.1f tps  %7.1f us CPU/tx\n' "$r" "$v" "$tps" "$us"
		SUM[$v]="${SUM[$v]:-} $tps"
		CPU[$v]="${CPU[$v]:-} $us"
	done
	order=("${order[@]:1}" "${order[0]}")	# rotate the order
done

# sanity: every guarded update wrote one history row, none was refused
psql -X -At -c "SELECT 'history rows: guard ' || (SELECT count(*) FROM clcm.stage_history)
                    || ', plpgsql ' || (SELECT count(*) FROM p_history)
                    || ', sql ' || (SELECT count(*) FROM s_history)"

# medians over the rounds (robust against a round disturbed by other load)
median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{ v[NR] = $1 }
	END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
med() { median <<<"${SUM[$1]}"; }
cpu() { median <<<"${CPU[$1]}"; }
none=$(med none); guard=$(med guard); plpgsql=$(med plpgsql); sqlhist=$(med sqlhist)
empty=$(med emptytrig)
printf 'median tps:       none %8.1f  guard %8.1f  plpgsql %8.1f  sql-history %8.1f  empty-trigger %8.1f\n' \
	"$none" "$guard" "$plpgsql" "$sqlhist" "$empty"
cnone=$(cpu none); cguard=$(cpu guard); cplpgsql=$(cpu plpgsql); csqlhist=$(cpu sqlhist)
cempty=$(cpu emptytrig)
printf 'median us CPU/tx: none %8.1f  guard %8.1f  plpgsql %8.1f  sql-history %8.1f  empty-trigger %8.1f\n' \
	"$cnone" "$cguard" "$cplpgsql" "$csqlhist" "$cempty"
printf 'ratio guard / no-trigger:  %.3f (TPS)  %.3f (CPU per tx, no-trigger / guard)\n' \
	"$(echo "$guard / $none" | bc -l)" "$(echo "$cnone / $cguard" | bc -l)"
printf 'ratio guard / plpgsql:     %.3f (TPS)  %.3f (CPU per tx, plpgsql / guard)\n' \
	"$(echo "$guard / $plpgsql" | bc -l)" "$(echo "$cplpgsql / $cguard" | bc -l)"
printf 'ratio guard / sql-history: %.3f (TPS)  %.3f (CPU per tx, sql-history / guard)\n' \
	"$(echo "$guard / $sqlhist" | bc -l)" "$(echo "$csqlhist / $cguard" | bc -l)"
printf 'ratio empty-trigger / no-trigger: %.3f (TPS)  %.3f (CPU per tx)\n' \
	"$(echo "$empty / $none" | bc -l)" "$(echo "$cnone / $cempty" | bc -l)"
psql -X -q -d postgres -c "DROP DATABASE $DB"
