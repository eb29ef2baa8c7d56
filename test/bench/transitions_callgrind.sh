#!/usr/bin/env bash
# The transitions benchmark in instructions instead of seconds: callgrind counts the CPU
# instructions a single-user backend executes for the four bulk UPDATEs (submit, approve,
# sign, activate) over N contracts, once on leasemgr.contract and once on the plain copy.
# The drafts (with their unit and rent charge on the leasemgr side) are made beforehand by
# bench.setup, so only the UPDATEs are counted.
# Instruction counts repeat exactly from run to run, whatever else the machine does, so
# this is the number to compare when changing the triggers.
#
#   test/bench/transitions_callgrind.sh [N]      (default N = 2000)
#
# Needs valgrind. It does not time I/O (fsync is off in these clusters anyway) and runs
# without other sessions, so it measures CPU work per transition, not contention.
set -euo pipefail
. "$(dirname "$0")/callgrind_lib.sh"
cd "$top"
n=${1:-2000}
callgrind_cluster
# The benchmark's schema and setup function, with no rounds run.
psql -X -q -d lm_bench -v contracts="$n" -v rounds=0 -f test/bench/transitions.sql >/dev/null
park=$(q -d lm_bench -At -c "SELECT id FROM leasemgr.park WHERE code = 'BENCH'")
q -d lm_bench -c "SELECT bench.setup($park, $n, true)" -c "SELECT bench.setup($park, $n, false)" \
  -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
test/tools/cluster.sh stop "$cluster"

# measure LABEL TABLE STATES...: the UPDATEs to the given states, in order.
measure() {
  local label=$1 table=$2
  shift 2
  {
    echo "SET leasemgr.actor = 'submitter';"
    echo "UPDATE $table SET state = 'pending_approval' WHERE park_id = $park;"
    echo "SET leasemgr.actor = 'approver';"
    for s in "$@"; do echo "UPDATE $table SET state = '$s' WHERE park_id = $park;"; done
  } | callgrind_count "$label"
}
plain=$(measure plain bench.contract_plain approved signed active)
leasemgr=$(measure leasemgr leasemgr.contract approved signed active)
plain_submit=$(measure plain_submit bench.contract_plain)
leasemgr_submit=$(measure leasemgr_submit leasemgr.contract)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
transitions=$((4 * n))
echo "instructions for $transitions transitions (4 bulk UPDATEs over $n contracts):"
printf '  plain copy, no triggers: %15d  (%d per transition)\n' "$plain" $((plain / transitions))
printf '  leasemgr.contract:       %15d  (%d per transition)\n' "$leasemgr" $((leasemgr / transitions))
echo "  ratio: $(ratio "$leasemgr" "$plain")"
echo "  submit alone: $plain_submit vs $leasemgr_submit, ratio $(ratio "$leasemgr_submit" "$plain_submit")"
echo "  approve, sign, activate: ratio $(ratio $((leasemgr - leasemgr_submit)) $((plain - plain_submit)))"
echo "  (profiles: callgrind_annotate $cluster/callgrind.leasemgr)"
