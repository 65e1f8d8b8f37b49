set -euo pipefail
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION clcm;
CREATE TABLE c_guard (id int PRIMARY KEY, name text, stage clcm.lifecycle_stage NOT NULL, stage_since timestamptz);
INSERT INTO c_guard SELECT i, 'customer ' || i, 'active', now() FROM generate_series(1, 100000) i;
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON c_guard FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'id', 'stage_since');
VACUUM ANALYZE;
SQL
cat > /tmp/zz_prof_g.sql <<'X'
\set id random(1, 100000)
UPDATE c_guard SET stage = CASE WHEN stage = 'active' THEN 'at_risk'::clcm.lifecycle_stage ELSE 'active' END WHERE id = :id;
X
echo "PGDATA_MARK $PGHOST"
touch /tmp/zz_prof_ready
pgbench -n -M prepared -c 2 -j 2 -T 25 -f /tmp/zz_prof_g.sql 2>&1 | grep tps
