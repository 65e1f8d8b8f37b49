# 010_dump_restore.pl: a database with a custom model, guarded tables (of a
# shipped and of a custom stage type) and history survives pg_dump -Fc and
# pg_restore into a fresh database: config rows, enum values, table data and
# history are identical, and the guard still refuses and accepts moves.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', q{
	CREATE EXTENSION clcm;
	SELECT clcm.define_model('ticket', '{open,waiting,solved,closed}',
	                         '{open->waiting,waiting->open,open->solved,waiting->solved,*->closed}');
	-- a user transition added to a shipped model is kept too
	INSERT INTO clcm.transition (model, from_stage, to_stage) VALUES ('lifecycle', 'churned', 'new');
	CREATE TABLE customers (id int PRIMARY KEY, name text,
	                        stage clcm.lifecycle_stage, stage_since timestamptz);
	CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON customers
		FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'id', 'stage_since');
	CREATE TABLE tickets (code text PRIMARY KEY, state clcm.ticket_stage);
	CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON tickets
		FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('state', 'code');
	INSERT INTO customers (id, name, stage)
		SELECT i, 'c' || i, 'prospect' FROM generate_series(1, 20) i;
	SET clcm.reason = 'first purchase';
	UPDATE customers SET stage = 'new' WHERE id <= 15;
	UPDATE customers SET stage = 'active' WHERE id <= 10;
	UPDATE customers SET stage = 'churned' WHERE id <= 3;
	UPDATE customers SET stage = 'new' WHERE id = 1;
	INSERT INTO tickets VALUES ('T1', 'open'), ('T2', 'open');
	UPDATE tickets SET state = 'waiting' WHERE code = 'T1';
	UPDATE tickets SET state = 'closed' WHERE code = 'T2';
	-- a user-added index on the history (documented as not dumped)
	CREATE INDEX stage_history_customer_idx
		ON clcm.stage_history (table_name, customer_key, id);
});

my %queries = (
	models      => 'SELECT name, stage_type::text, stages, shipped FROM clcm.model ORDER BY name',
	transitions => 'SELECT model, from_stage, to_stage, shipped FROM clcm.transition ORDER BY 1, 2, 3',
	enums       => q{SELECT t.typname, e.enumlabel, e.enumsortorder FROM pg_enum e
	                 JOIN pg_type t ON t.oid = e.enumtypid
	                 WHERE t.typnamespace = 'clcm'::regnamespace ORDER BY 1, 3},
	customers   => 'SELECT id, name, stage, stage_since FROM customers ORDER BY id',
	tickets     => 'SELECT code, state FROM tickets ORDER BY code',
	history     => q{SELECT id, table_name::text, customer_key, model, from_stage, to_stage,
	                 changed_at, xid, role, reason, override FROM clcm.stage_history ORDER BY id},
	sequence    => q{SELECT last_value FROM clcm.stage_history_id_seq},
	sort        => q{SELECT string_agg(stage::text, ',' ORDER BY stage, id) FROM customers},
);

my %before;
$before{$_} = $node->safe_psql('src', $queries{$_}) for keys %queries;
cmp_ok(scalar(split /\n/, $before{history}), '==', 20 + 15 + 10 + 3 + 1 + 4,
	'source history has one row per insert and accepted change');

my $dump = $node->basedir . '/src.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-d', $node->connstr('src'), '-f', $dump ],
	'pg_dump -Fc');
$node->safe_psql('postgres', 'CREATE DATABASE dst');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('dst'), $dump ],
	'pg_restore into a fresh database');

for my $q (sort keys %queries)
{
	is($node->safe_psql('dst', $queries{$q}), $before{$q}, "$q identical after restore");
}

is($node->safe_psql('dst', "SELECT to_regclass('clcm.stage_history_customer_idx') IS NULL"),
	't', 'an index added to clcm.stage_history is not dumped (as documented)');

# the guard works in the restored database, with the restored model
my ($ret, $out, $err) = $node->psql('dst',
	"UPDATE customers SET stage = 'prospect' WHERE id = 5");
isnt($ret, 0, 'forbidden lifecycle move refused after restore');
like($err, qr/stage transition from "active" to "prospect" is not allowed in model "lifecycle"/,
	'refusal names the model and both stages');
($ret, $out, $err) = $node->psql('dst',
	"UPDATE tickets SET state = 'open' WHERE code = 'T2'");
like($err, qr/not allowed in model "ticket"/, 'custom model refuses after restore');
is($node->safe_psql('dst', q{
	UPDATE customers SET stage = 'new' WHERE id = 2;   -- user transition churned->new
	UPDATE tickets SET state = 'solved' WHERE code = 'T1';
	SELECT string_agg(from_stage || '>' || to_stage, ' ' ORDER BY id)
	  FROM clcm.stage_history WHERE id > (SELECT max(id) FROM clcm.stage_history) - 2}),
	'churned>new waiting>solved', 'accepted moves after restore are recorded');
is($node->safe_psql('dst', q{
	SELECT count(*) FROM (SELECT id FROM clcm.stage_history ORDER BY id DESC LIMIT 2) x
	 WHERE id > } . (split /\n/, $before{sequence})[0]), '2',
	'new history ids follow the restored sequence');
$node->stop;
done_testing();
