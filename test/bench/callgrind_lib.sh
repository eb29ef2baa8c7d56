# Shared by the *_callgrind.sh benchmarks: a fresh cluster with the extension, and a way to
# count the instructions of some statements in a single-user backend. Sourced, not run.
#
#   callgrind_cluster          build, install, start a fresh .cluster/callgrind with database
#                              lm_bench and the extension; sets cluster and PGBIN
#   (prepare the data, then test/tools/cluster.sh stop "$cluster")
#   callgrind_count LABEL      the statements on stdin, one a line (the single-user backend
#                              ends a statement at a newline), run on a copy of the prepared data;
#                              prints their instructions (PortalRun), the profile is
#                              $cluster/callgrind.LABEL, the output $cluster/LABEL.log
. "$(dirname "${BASH_SOURCE[0]}")/../tools/common.sh"

callgrind_cluster() {
  command -v valgrind >/dev/null || { echo "valgrind is needed: apt-get install valgrind" >&2; exit 1; }
  build_and_install >/dev/null
  cluster="$top/.cluster/callgrind"
  test/tools/cluster.sh remove "$cluster" >/dev/null 2>&1 || true
  test/tools/cluster.sh start "$cluster" >/dev/null
  . "$cluster/env.sh"
  cluster=$LEASEMGR_CLUSTER   # where the cluster really lives (see cluster.sh)
  q -d postgres -c "CREATE DATABASE lm_bench"
  PGOPTIONS="-c client_min_messages=warning" q -d lm_bench -c "CREATE EXTENSION leasemgr CASCADE"
  PGBIN=$(dirname "$(command -v postgres 2>/dev/null || echo "$($PG_CONFIG --bindir)/postgres")")
}

callgrind_as_owner() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# Only the statements are counted (PortalRun), not startup; each run starts from the same
# data, copied from the prepared cluster.
callgrind_count() {
  local label=$1 out="$cluster/callgrind.$1"
  cat >"$cluster/$label.sql"
  rm -rf "$cluster/run" && cp -a "$cluster/data" "$cluster/run"
  callgrind_as_owner valgrind --tool=callgrind --toggle-collect=PortalRun --callgrind-out-file="$out" \
    "$PGBIN/postgres" --single -D "$cluster/run" -c shared_preload_libraries= -c fsync=off -c jit=off \
    lm_bench <"$cluster/$label.sql" >"$cluster/$label.log" 2>&1
  # A statement that failed would be counted as if it had run: refuse the count.
  if grep -q 'ERROR:' "$cluster/$label.log"; then
    echo "$label failed, see $cluster/$label.log:" >&2; grep -m3 'ERROR:' "$cluster/$label.log" >&2; exit 1
  fi
  grep -o 'totals: [0-9]*' "$out" | tail -1 | awk '{print $2}'
}
