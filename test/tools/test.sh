#!/usr/bin/env bash
# make test: build, install, start a fresh throwaway cluster, run every suite, stop it.
#
#   core      C unit tests of src/core (no server), built with AddressSanitizer
#   regress   pg_regress: test/sql -> expected/ (the visible SQL surface)
#   isolation pg_isolation_regress: test/specs -> expected/ (concurrency)
#   tap       pgTAP suites test/tap/*.sql through pg_prove (behaviour, SQLSTATEs)
#   scenarios test/scenarios/*.sh through prove (dump/restore, hostile search_path, upgrades)
#
# LEASEMGR_TESTS="regress tap" runs a subset. Exit status is non-zero on any failure.
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$top"

suites=${LEASEMGR_TESTS:-core regress isolation tap scenarios}
build_and_install

cluster="$top/.cluster/test"
test/tools/cluster.sh remove "$cluster" >/dev/null 2>&1 || true
say "starting a throwaway cluster in $cluster"
LEASEMGR_CRON_DB=leasemgr_cron test/tools/cluster.sh start "$cluster"
trap 'test/tools/cluster.sh stop "$cluster"' EXIT
. "$cluster/env.sh"
unset PGDATABASE

failed=()
run_suite() {
  local name=$1; shift
  say "$name"
  if ! "$@"; then
    failed+=("$name")
  fi
}

for s in $suites; do
  case $s in
    core)
      run_suite core test/tools/core-tests.sh ;;
    regress)
      run_suite regress make -s installcheck-regress ;;
    isolation)
      run_suite isolation make -s installcheck-isolation ;;
    tap)
      run_suite tap test/tools/tap.sh ;;
    scenarios)
      run_suite scenarios prove --timer --ext .sh -e bash test/scenarios/ ;;
    *) echo "unknown suite $s" >&2; exit 2 ;;
  esac
done

if [ ${#failed[@]} -gt 0 ]; then
  [ -f regression.diffs ] && head -100 regression.diffs
  [ -f output_iso/regression.diffs ] && head -100 output_iso/regression.diffs
  echo
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo
echo "All suites passed: $suites"
