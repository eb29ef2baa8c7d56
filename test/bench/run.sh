#!/usr/bin/env bash
# Run a benchmark of test/bench on a throwaway cluster (.cluster/bench) with the same
# settings as the test cluster, and print its report.
#
#   test/bench/run.sh transitions [psql -v options, e.g. -v contracts=25000 -v rounds=3]
set -euo pipefail
. "$(dirname "$0")/../tools/common.sh"
cd "$top"
name=${1:?usage: test/bench/run.sh NAME [psql options]}; shift
build_and_install >/dev/null
cluster="$top/.cluster/bench"
test/tools/cluster.sh start "$cluster" >/dev/null
trap 'test/tools/cluster.sh stop "$cluster"' EXIT
. "$cluster/env.sh"
q -d postgres -c "DROP DATABASE IF EXISTS lm_bench" -c "CREATE DATABASE lm_bench" 2>/dev/null
PGOPTIONS="-c client_min_messages=warning" q -d lm_bench -c "CREATE EXTENSION leasemgr CASCADE"
echo "== $name on $(nproc) cores, PostgreSQL $(q -d lm_bench -At -c 'SHOW server_version'), $(date -u +%Y-%m-%dT%H:%MZ)"
psql -X -q -d lm_bench -v ON_ERROR_STOP=1 "$@" -f "test/bench/$name.sql"
