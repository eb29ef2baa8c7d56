#!/usr/bin/env bash
# The bill_run benchmark in instructions instead of seconds: callgrind counts the CPU
# instructions a single-user backend executes for leasemgr.bill_run over N contracts (the
# data of test/bench/bill_run.sql: one bill of three lines each), and for the two floors, the
# same bills and lines inserted into copies of the tables without triggers, without and with
# the tables' foreign keys. Counts repeat from run to run whatever else the machine does, so
# they are the numbers to compare when changing the bill run; the profile says where its
# time goes.
#
#   test/bench/bill_run_callgrind.sh [N]      (default N = 5000)
#
# Needs valgrind. Leaves out I/O and waits (fsync is off in these clusters anyway), and JIT
# compilation (jit = off), which the wall-clock benchmark includes.
set -euo pipefail
. "$(dirname "$0")/callgrind_lib.sh"
cd "$top"
n=${1:-5000}
callgrind_cluster
# The benchmark's data and functions; one bill run, captured for the floors, then emptied.
psql -X -q -d lm_bench -v contracts="$n" -v setup_only=1 -f test/bench/bill_run.sql >/dev/null
q -d lm_bench -c "SET client_min_messages = warning" -c "SELECT bench.bill_run(0)" -c "SELECT bench.capture()" \
  -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
test/tools/cluster.sh stop "$cluster"

leasemgr=$(echo "SELECT * FROM leasemgr.bill_run('2027-03-01');" | callgrind_count bill_run)
floor=$(echo "SELECT bench.floor(0, false);" | callgrind_count floor)
floor_fk=$(echo "SELECT bench.floor(0, true);" | callgrind_count floor_fk)
# The library measured must be this checkout's build, not one installed meanwhile.
cmp -s leasemgr.so "$($PG_CONFIG --pkglibdir)/leasemgr.so" ||
  { echo "the installed leasemgr.so is not this checkout's build (installed meanwhile?): run again" >&2; exit 1; }
grep -q "bills_created = \"$n\"" "$cluster/bill_run.log" ||
  { echo "bill_run did not bill $n contracts:" >&2; cat "$cluster/bill_run.log" >&2; exit 1; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
rows=$((4 * n))
echo "instructions for $n bills and $((3 * n)) lines ($rows rows):"
printf '  floor (copies, no triggers, no foreign keys): %15d  (%d per row)\n' "$floor" $((floor / rows))
printf '  floor_fk (copies with the foreign keys):      %15d  (%d per row)\n' "$floor_fk" $((floor_fk / rows))
printf '  leasemgr.bill_run:                            %15d  (%d per row)\n' "$leasemgr" $((leasemgr / rows))
echo "  ratio to floor: $(ratio "$leasemgr" "$floor"), to floor_fk: $(ratio "$leasemgr" "$floor_fk")"
echo "  (profile: callgrind_annotate --inclusive=yes $cluster/callgrind.bill_run)"
