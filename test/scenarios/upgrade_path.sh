#!/usr/bin/env bash
# Every released version upgrades to the current one, and the upgraded schema is exactly
# what a fresh install of the current version creates. Released install scripts are frozen
# as sql/leasemgr--X.Y.Z.sql; each upgrade step is sql/leasemgr--A--B.sql.
. "$(dirname "$0")/tap-lib.bash"

current=$(sed -n "s/^default_version *= *'\(.*\)'.*/\1/p" "$top/leasemgr.control")
released=()
for f in "$top"/sql/leasemgr--*.sql; do
  [ -e "$f" ] || continue
  v=${f##*/leasemgr--}; v=${v%.sql}
  case "$v" in *--*) continue ;; esac
  [ "$v" = "$current" ] || released+=("$v")
done

if [ ${#released[@]} -eq 0 ]; then
  echo "1..0 # SKIP $current is the first release: there is no earlier version to upgrade from"
  exit 0
fi
plan $((2 * ${#released[@]}))

# The schema as pg_dump prints it, minus what differs by construction (OIDs, comments
# naming the dump, and the random key of the \restrict lines pg_dump 15.14 and later print).
schema_of() {
  pg_dump --schema-only --no-owner -n leasemgr -d "$1" | grep -v -e '^--' -e '^$' -e '^\\restrict ' -e '^\\unrestrict ' | sort
}
fresh_db lm_upgrade_fresh
q -d lm_upgrade_fresh -c "SET client_min_messages = warning" -c "CREATE EXTENSION leasemgr CASCADE"
schema_of lm_upgrade_fresh >"$tmp/fresh.sql"

for v in "${released[@]}"; do
  fresh_db lm_upgrade_old
  q -d lm_upgrade_old -c "SET client_min_messages = warning" -c "CREATE EXTENSION leasemgr VERSION '$v' CASCADE"
  if q -d lm_upgrade_old -c "ALTER EXTENSION leasemgr UPDATE" 2>"$tmp/update.err"; then
    got=$(q -d lm_upgrade_old -c "SELECT extversion FROM pg_extension WHERE extname = 'leasemgr'")
    is "$got" "$current" "$v updates to $current"
  else
    ok 1 "$v updates to $current"; diag <"$tmp/update.err"
  fi
  schema_of lm_upgrade_old >"$tmp/upgraded.sql"
  if diff "$tmp/fresh.sql" "$tmp/upgraded.sql" >"$tmp/schema.diff"; then
    ok 0 "$v upgraded to $current has the schema of a fresh $current install"
  else
    ok 1 "$v upgraded to $current has the schema of a fresh $current install"; diag <"$tmp/schema.diff"
  fi
done
q -d postgres -c "DROP DATABASE lm_upgrade_old" -c "DROP DATABASE lm_upgrade_fresh"
finish
