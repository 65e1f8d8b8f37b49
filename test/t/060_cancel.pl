# 060_cancel.pl: a long clcm fit and a long clcm aggregate scan answer
# pg_cancel_backend() with SQLSTATE 57014; the latency from the cancel
# request to the error is printed (note) and recorded in
# doc/reliability.md.  The bound checked here (10 s) only catches an
# ignored cancel; it is not a speed test.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use IPC::Run;

my $node = PostgreSQL::Test::Cluster->new('cancel');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION clcm');
# a 30000-row BG/NBD fit state: the final function runs the optimizer for
# seconds, entirely in clcm's loops
$node->safe_psql('postgres', q{
CREATE TABLE st AS
SELECT ('bgnbd;penalizer=0;[' || string_agg(format('%s,%s,%s,1', f, r, t), ';') || ']')::clcm.btyd_fit_state AS s
  FROM (SELECT g % 20 AS f,
			   CASE WHEN g % 20 = 0 THEN 0 ELSE (g % 97) + (g % 20) * 0.25 + 0.5 END AS r,
			   200 + g % 53 AS t
		  FROM generate_series(1, 30000) g) x});

# a 96 MB state literal (12M rows): parsing it takes seconds, in clcm's loop
$node->safe_psql('postgres', q{
CREATE TABLE lit AS
SELECT 'bgnbd;penalizer=0;[' || repeat('1,2,3,1;', 12000000) || '1,2,3,1]' AS t});
my %cases = (
	'bgnbd fit (final function)' => 'SELECT clcm.bgnbd_fit_final(s) FROM st',
	'pareto_nbd fit (final function)' =>
	  "SELECT clcm.pareto_nbd_fit_final(('pareto_nbd' || substr(s::text, 6))::clcm.btyd_fit_state) FROM st",
	'btyd_fit_state text input (12M-row literal)' =>
	  "SELECT (t::clcm.btyd_fit_state) IS NOT NULL FROM lit",
	'retention scan (50M rows)' =>
	  "SELECT clcm.retention(g % 100000, timestamptz '2020-01-01' + g * interval '1 second', 'day') FROM generate_series(1, 50000000) g",
);

foreach my $name (sort keys %cases)
{
	# drive psql with IPC::Run (PG15's test modules have no background query helper)
	my ($out, $err) = ('', '');
	my $run = IPC::Run::start(
		[
			'psql', '-X', '-q', '-v', 'VERBOSITY=sqlstate',
			'-d', $node->connstr('postgres'), '-c', $cases{$name}
		],
		'<', \undef, '>', \$out, '2>', \$err);
	my $pid;
	for (1 .. 600)
	{
		$pid = $node->safe_psql('postgres',
			"SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%clcm.%' AND pid <> pg_backend_pid()"
		);
		last if $pid ne '';
		usleep(50_000);
	}
	ok($pid ne '', "$name: running");
	if ($pid eq '')
	{
		$run->kill_kill;
		$run->finish;
		diag("psql: $err");
		next;
	}
	usleep(500_000);    # well inside clcm's loop
	# the latency is an upper bound: it includes starting the psql that
	# sends the cancel request
	my $t0 = time;
	$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
	# psql reports the error and exits
	my $done = 0;
	while (time - $t0 < 10)
	{
		$run->pump_nb if $run->pumpable;
		if ($err =~ /ERROR/ || !$run->pumpable) { $done = 1; last; }
		usleep(2_000);
	}
	my $latency = time - $t0;
	$run->kill_kill unless $done;
	$run->finish;
	ok($done, "$name: cancelled within 10 s");
	like($err, qr/ERROR:  57014/, "$name: SQLSTATE 57014");
	note(sprintf('%s: cancel latency %.3f s', $name, $latency));
	diag(sprintf('%s: cancel latency %.3f s', $name, $latency));
}

$node->stop;
done_testing();
