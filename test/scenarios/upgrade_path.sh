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
plan $((1 + 3 * ${#released[@]}))

# The schema as the catalog describes it, one fact a line, objects named, never numbered
# (schema_fingerprint.sql). Not pg_dump: it prints CREATE EXTENSION and none of the
# extension's members, so two installs would always compare equal.
schema_of() {
  psql -X -At -f "$top/test/scenarios/schema_fingerprint.sql" -d "$1"
}
fresh_db lm_upgrade_fresh
q -d lm_upgrade_fresh -c "SET client_min_messages = warning" -c "CREATE EXTENSION leasemgr CASCADE"
schema_of lm_upgrade_fresh >"$tmp/fresh.txt"

# A comparison of two empty descriptions would pass: the fingerprint must name every member.
members=$(q -d lm_upgrade_fresh -c "SELECT count(*) FROM pg_catalog.pg_depend d
  JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND e.extname = 'leasemgr'
 WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.deptype = 'e'")
described=$(grep -c ' | member of extension leasemgr$' "$tmp/fresh.txt" || true)
ok $([ "$members" -gt 0 ] && [ "$described" = "$members" ] && echo 0 || echo 1) \
  "the fingerprint of a fresh $current install describes its $members members ($(wc -l <"$tmp/fresh.txt") lines)"

for v in "${released[@]}"; do
  fresh_db lm_upgrade_old
  q -d lm_upgrade_old -c "SET client_min_messages = warning" -c "CREATE EXTENSION leasemgr VERSION '$v' CASCADE"
  # The packages are installed before the update: this library runs the old schema meanwhile.
  if q -d lm_upgrade_old -f "$top/test/scenarios/old_schema_lease.sql" >/dev/null 2>"$tmp/old.err"; then
    ok 0 "a lease's life runs on the $v schema with the $current library, before the update"
  else
    ok 1 "a lease's life runs on the $v schema with the $current library, before the update"; diag <"$tmp/old.err"
  fi
  if q -d lm_upgrade_old -c "ALTER EXTENSION leasemgr UPDATE" 2>"$tmp/update.err"; then
    got=$(q -d lm_upgrade_old -c "SELECT extversion FROM pg_extension WHERE extname = 'leasemgr'")
    is "$got" "$current" "$v updates to $current"
  else
    ok 1 "$v updates to $current"; diag <"$tmp/update.err"
  fi
  schema_of lm_upgrade_old >"$tmp/upgraded.txt"
  if diff "$tmp/fresh.txt" "$tmp/upgraded.txt" >"$tmp/schema.diff"; then
    ok 0 "$v upgraded to $current has the schema of a fresh $current install"
  else
    ok 1 "$v upgraded to $current has the schema of a fresh $current install"; diag <"$tmp/schema.diff"
  fi
done
q -d postgres -c "DROP DATABASE lm_upgrade_old" -c "DROP DATABASE lm_upgrade_fresh"
finish
