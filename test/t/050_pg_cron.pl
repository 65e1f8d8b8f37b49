# 050_pg_cron.pl: the documented pg_cron recipe for the nightly
# clcm.refresh_stages works: a scheduled job runs the refresh, which moves
# quiet customers (with history reason 'refresh').  pg_cron 1.4 (Debian
# postgresql-15-cron) schedules by the minute, so the test waits for the
# next minute boundary (at most about a minute); the job runs in a
# background worker (cron.use_background_workers), so no connection
# settings are needed.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('cron');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 16
});
$node->start;

$node->safe_psql('postgres', q{
CREATE EXTENSION pg_cron;
CREATE EXTENSION clcm;
CREATE TABLE customers (id int PRIMARY KEY, stage clcm.lifecycle_stage);
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON customers
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'id');
CREATE TABLE orders (customer_id int, ordered_at timestamptz, amount numeric);
CREATE TRIGGER activity AFTER INSERT ON orders FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('customers', 'id', 'customer_id', 'ordered_at', 'amount');
INSERT INTO customers VALUES (1, 'prospect'), (2, 'prospect');
-- customer 1 ordered years ago, customer 2 just now
INSERT INTO orders VALUES (1, '2020-01-01', 10), (1, '2020-01-02', 10), (2, now(), 10);
});
is($node->safe_psql('postgres', 'SELECT string_agg(stage::text, \',\' ORDER BY id) FROM customers'),
	'active,new', 'stages before the refresh');

# the recipe of doc/clcm.md
my $jobid = $node->safe_psql('postgres', q{
SELECT cron.schedule('clcm-refresh-customers', '* * * * *',
	$$SELECT clcm.refresh_stages('public.customers')$$);
});
ok($jobid > 0, 'refresh job scheduled');

ok($node->poll_query_until('postgres', q{
SELECT count(*) > 0 FROM cron.job_run_details
 WHERE command LIKE '%refresh_stages%' AND status IN ('succeeded', 'failed');
}), 'the job ran');
is($node->safe_psql('postgres', q{
SELECT status FROM cron.job_run_details
 WHERE command LIKE '%refresh_stages%' ORDER BY runid LIMIT 1;
}), 'succeeded', 'the job succeeded');
is($node->safe_psql('postgres', 'SELECT string_agg(stage::text, \',\' ORDER BY id) FROM customers'),
	'churned,new', 'the quiet customer reached churned (via at_risk), the recent one stayed');
is($node->safe_psql('postgres', q{
SELECT string_agg(from_stage || '>' || to_stage || ':' || reason, ',' ORDER BY id)
  FROM clcm.stage_history WHERE customer_key = '1' AND reason = 'refresh';
}), 'active>at_risk:refresh,at_risk>churned:refresh', 'history records the refresh');

$node->safe_psql('postgres', q{SELECT cron.unschedule('clcm-refresh-customers')});
$node->stop;
done_testing();
