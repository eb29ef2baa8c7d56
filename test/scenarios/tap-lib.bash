# TAP for the scenario scripts (run by prove). Sourced, not run.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
n=0
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

plan() { echo "1..$1"; }
ok() {
  n=$((n + 1))
  if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
# is GOT WANT DESCRIPTION
is() {
  if [ "$1" = "$2" ]; then ok 0 "$3"; else ok 1 "$3"; printf '#   got:  %s\n#   want: %s\n' "$1" "$2"; fi
}
diag() { sed 's/^/# /'; }
finish() { exit $((failed > 0)); }

# psql with no psqlrc, stop at the first error, unaligned quiet output.
q() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }
fresh_db() {
  q -d postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" 2>&1 | grep -v NOTICE || true
}
