# 001_restart.pl: clcm settings and objects survive a server restart, and
# the library loads in a fresh backend.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('restart');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION clcm');
$node->safe_psql('postgres', "LOAD 'clcm'; ALTER SYSTEM SET clcm.reason = 'nightly'");
$node->restart;
is($node->safe_psql('postgres', 'SELECT clcm.clcm_version()'),
	$node->safe_psql('postgres',
		"SELECT extversion FROM pg_extension WHERE extname = 'clcm'"),
	'library loads after restart');
is($node->safe_psql('postgres', 'LOAD \'clcm\'; SHOW clcm.reason'), 'nightly',
	'clcm.reason set with ALTER SYSTEM survives a restart');
$node->stop;
done_testing();
