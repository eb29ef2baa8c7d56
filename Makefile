# leasemgr: PGXS build. `make demo` and `make test` are the two commands of README.md; the
# rest are the usual PGXS targets (all, install, installcheck, clean).

EXTENSION   = leasemgr
EXTVERSION  = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" leasemgr.control)

MODULE_big  = leasemgr
OBJS = \
	src/leasemgr.o \
	src/row.o \
	src/identity.o \
	src/contract_fsm.o \
	src/contract_unit.o \
	src/contract_terms.o \
	src/bill.o \
	src/payment.o \
	src/late_fee.o \
	src/money.o \
	src/billing.o \
	src/bill_run.o \
	src/straight_line.o \
	src/meter.o \
	src/estimate.o \
	src/allocation.o \
	src/outbox.o \
	src/amendment.o \
	src/anomaly.o \
	src/reading_check.o \
	src/audit.o \
	src/security.o \
	src/credit_warning.o \
	src/core/lm_identity.o \
	src/core/lm_contract_states.o \
	src/core/lm_calendar.o \
	src/core/lm_schedule.o \
	src/core/lm_late_fee.o \
	src/core/lm_meter.o

# The install script of the current version is assembled from the domain files in a fixed
# order (their numeric prefixes). Released versions are frozen as sql/leasemgr--X.Y.Z.sql
# beside the upgrade scripts sql/leasemgr--A--B.sql; neither is ever edited.
SQL_PARTS   = $(sort $(wildcard sql/[0-9][0-9]_*.sql))
DATA_built  = leasemgr--$(EXTVERSION).sql
DATA        = $(filter-out sql/leasemgr--$(EXTVERSION).sql,$(wildcard sql/leasemgr--*.sql))

# The upgrade from the last release to the version under development is assembled too: the
# hand-written changes to existing objects (sql/upgrade/), then the domain files that are new
# in this version, verbatim, so they cannot drift apart. freeze-release freezes it with the
# install script.
UPGRADE_FROM      = 0.1.0
UPGRADE_NEW_PARTS = sql/62_charges.sql sql/64_bills.sql sql/66_payments.sql sql/75_billing_reports.sql \
                    sql/80_meters.sql sql/84_anomalies.sql sql/86_tenant_health.sql sql/88_allocation.sql sql/89_outbox.sql sql/91_daily.sql \
                    sql/92_amendments.sql sql/93_deposits.sql sql/94_approvals.sql sql/95_move_out.sql sql/96_spatial.sql sql/97_leasing_insights.sql
UPGRADE_SCRIPT    = leasemgr--$(UPGRADE_FROM)--$(EXTVERSION).sql
DATA_built       += $(UPGRADE_SCRIPT)

PG_CPPFLAGS = -I$(srcdir)/src -I$(srcdir)/src/core
# -Wextra with the server headers: their inline functions leave parameters unused.
PG_CFLAGS   = -Wall -Wextra -Werror -Wno-unused-parameter

# pg_regress: inputs in test/sql, expected outputs in expected/ (found through --outputdir).
# install runs first: it creates the extension the others use.
REGRESS      = install state_machine identity lifecycle
REGRESS_OPTS = --inputdir=test --outputdir=. --dbname=leasemgr_regress
# Isolation specs (test/specs): concurrency, each in its own fresh database.
ISOLATION      = $(patsubst test/specs/%.spec,%,$(sort $(wildcard test/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test --outputdir=. --dbname=leasemgr_isolation --load-extension=postgis --load-extension=btree_gist --load-extension=pgcrypto --load-extension=leasemgr

EXTRA_CLEAN = results/ regression.diffs regression.out output_iso/ test/core/*.bin

# Debian keeps one pg_config per major version; prefer 15's when it is there.
PG_CONFIG ?= $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config) pg_config)
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
else
# Without the server development files only demo and test work: they install them first.
all install installcheck:
	@echo "PostgreSQL 15 development files are missing; run 'make test' or 'make demo'," >&2
	@echo "which install them, or: apt-get install postgresql-server-dev-15" >&2
	@false
endif

# PGXS does not track header dependencies: a struct that grows in a header must rebuild
# every object that allocates it.
$(OBJS) $(OBJS:.o=.bc): $(wildcard src/*.h src/core/*.h)

leasemgr--$(EXTVERSION).sql: $(SQL_PARTS) leasemgr.control
	cat $(SQL_PARTS) > $@

$(UPGRADE_SCRIPT): sql/upgrade/$(UPGRADE_FROM)--$(EXTVERSION).sql $(UPGRADE_NEW_PARTS)
	cat $^ > $@

.PHONY: demo test test-core clean-cluster installcheck-regress installcheck-isolation freeze-release

# The two halves of installcheck, so test/tools/test.sh can report them apart.
installcheck-regress:
	$(pg_regress_installcheck) $(REGRESS_OPTS) $(REGRESS)

installcheck-isolation:
	$(pg_isolation_regress_installcheck) $(ISOLATION_OPTS) $(ISOLATION)

demo:
	@test/tools/demo.sh

test:
	@test/tools/test.sh

# The pure-C core on its own: unit tests with no server.
test-core:
	@test/tools/core-tests.sh

# Freeze the current version's install script before starting the next version
# (docs/development.md). Refuses to overwrite a frozen script.
freeze-release: leasemgr--$(EXTVERSION).sql $(UPGRADE_SCRIPT)
	@test ! -e sql/leasemgr--$(EXTVERSION).sql || { echo "sql/leasemgr--$(EXTVERSION).sql is already frozen" >&2; false; }
	cp leasemgr--$(EXTVERSION).sql sql/leasemgr--$(EXTVERSION).sql
	cp $(UPGRADE_SCRIPT) sql/$(UPGRADE_SCRIPT)

# Stop and remove the throwaway clusters of make demo and make test.
clean-cluster:
	@for c in .cluster/demo .cluster/test .cluster/bench .cluster/callgrind; do \
	  [ -d $$c ] && test/tools/cluster.sh remove $$c; done; rm -rf .cluster
