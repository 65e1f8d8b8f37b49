# Makefile for clcm: a plain PGXS Makefile (make && make install &&
# make installcheck against a running server) plus two self-contained
# targets, `make demo` and `make test`, that install dependencies and run
# everything on a scratch cluster (see test/harness.sh).

EXTENSION = clcm
EXTVERSION = 0.1.0
MODULE_big = clcm
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
PG_CPPFLAGS = -I$(srcdir)/src -DCLCM_VERSION=\"$(EXTVERSION)\"
SHLIB_LINK = -lm

# The install script of the current (unreleased) version is assembled from
# the ordered fragments in src/sql/; released scripts are frozen files.
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql
DATA = $(filter-out $(DATA_built),$(wildcard sql/$(EXTENSION)--*.sql))
DOCS = $(wildcard doc/*.md)

# pg_regress: sql/<name>.sql against expected/<name>.out, in this order.
# One variable per capability (kept apart so parallel work merges cleanly).

# models, stage guard, history
REGRESS_STAGE = model_shipped model_define guard_basic guard_misattach guard_privs guard_bypass guard_edge

# retention cohorts, survival
REGRESS_COHORT = retention_basic retention_random retention_tz retention_parallel retention_partition retention_combine retention_errors survival_km

# BTYD models, CLV, churn
REGRESS_BTYD = btyd_special btyd_types btyd_fit btyd_score btyd_recovery btyd_harden

# RFM summary, tiering, simple CLV
REGRESS_RFM = rfm_summary rfm_cdnow rfm_errors rfm_parallel rfm_score clv_simple

# activity triggers, rules, refresh, transition analytics
REGRESS_ACTIVITY = markov_basic funnel_basic rule_validation activity_lifecycle activity_models activity_statement activity_misconfig activity_search_path activity_fastpath

# hardening, upgrade
REGRESS_HARDEN = harden_privileges harden_cancel upgrade harden_findings harden_search_path harden_sweep

REGRESS = install $(REGRESS_STAGE) $(REGRESS_COHORT) $(REGRESS_BTYD) \
	$(REGRESS_RFM) $(REGRESS_ACTIVITY) $(REGRESS_HARDEN)

# isolation: test/specs/<name>.spec against test/expected/<name>.out.

ISOLATION_STAGE = guard_concurrent guard_model_change

ISOLATION_ACTIVITY = activity_concurrent activity_tidcache

ISOLATION = $(ISOLATION_STAGE) $(ISOLATION_ACTIVITY)
ISOLATION_OPTS = --inputdir=test

# TAP: test/t/*.pl with PostgreSQL::Test::Cluster (needs Perl IPC::Run).
TAP_TESTS = 1
PROVE_TESTS = $(sort $(wildcard test/t/*.pl))

EXTRA_CLEAN = results regression.diffs regression.out output_iso tmp_check log

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

sql/$(EXTENSION)--$(EXTVERSION).sql: $(sort $(wildcard src/sql/*.sql))
	cat $^ > $@

# pgTAP suite: pg_prove over test/pgtap/*.sql in a scratch database.
PGTAP_DB ?= clcm_pgtap
.PHONY: pgtap
pgtap:
	dropdb --if-exists $(PGTAP_DB)
	createdb $(PGTAP_DB)
	psql -X -q -v ON_ERROR_STOP=1 -d $(PGTAP_DB) \
		-c 'CREATE EXTENSION pgtap' -c 'CREATE EXTENSION clcm'
	pg_prove -d $(PGTAP_DB) --failures $(sort $(wildcard test/pgtap/*.sql))
	dropdb --if-exists $(PGTAP_DB)

# The two commands of the README: each sets up everything by itself.
.PHONY: test demo bench check-valgrind fuzz
test:
	bash test/harness.sh test

# The suites with the scratch server running under valgrind memcheck.
check-valgrind:
	bash test/harness.sh check-valgrind

demo:
	bash test/harness.sh demo

# sqlsmith against a scratch cluster (FUZZ_QUERIES=5000 FUZZ_SEED=42)
fuzz:
	bash test/harness.sh fuzz

# make bench BENCH=guard   runs test/bench/guard.sh on a scratch cluster
bench:
	bash test/harness.sh bench $(BENCH)

# libFuzzer over the text input functions of clcm's types, built outside
# the server with clang -fsanitize=fuzzer,address,undefined
# (FUZZ_SECONDS=20 per type; test/fuzz/run_parsers.sh)
.PHONY: fuzz-parsers
fuzz-parsers:
	bash test/fuzz/run_parsers.sh
