#!/usr/bin/env bash
# make demo: install leasemgr, load a sample park, and walk through what it does.
#
# Without PGHOST/PGPORT/PGDATABASE: a throwaway cluster in .cluster/demo (left running so
# you can explore; `make clean-cluster` removes it). With them: that server and database,
# which must run on this machine (the extension's files are installed here).
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$top"

build_and_install

if [ -n "${PGHOST:-}${PGPORT:-}${PGDATABASE:-}" ]; then
  say "using the existing server (PGHOST=${PGHOST:-<default>} PGPORT=${PGPORT:-<default>} PGDATABASE=${PGDATABASE:-<default>})"
  embedded=0
else
  cluster="$top/.cluster/demo"
  say "starting a throwaway PostgreSQL 15 cluster in $cluster"
  LEASEMGR_CRON_DB=leasemgr_demo test/tools/cluster.sh start "$cluster"
  . "$cluster/env.sh"
  export PGDATABASE=leasemgr_demo
  if [ "$(q -d postgres -At -c "SELECT count(*) FROM pg_database WHERE datname = 'leasemgr_demo'")" = 0 ]; then
    q -d postgres -c "CREATE DATABASE leasemgr_demo"
  fi
  embedded=1
fi

say "CREATE EXTENSION leasemgr CASCADE"
PGOPTIONS="-c client_min_messages=warning" q -c "CREATE EXTENSION IF NOT EXISTS leasemgr CASCADE" \
  -c "ALTER EXTENSION leasemgr UPDATE"

if [ "$(q -At -c "SELECT count(*) FROM leasemgr.park WHERE code = 'SZ-ZH'")" = 0 ]; then
  say "loading the sample parks (test/fixtures/sample_park.sql)"
  q -f test/fixtures/sample_park.sql >/dev/null
else
  say "the sample parks are already loaded"
fi

say "a short tour"
psql -X -q -f test/fixtures/demo_tour.sql 2>&1

say "the floor plans of the sample park, coloured by status (open them in a browser)"
plans="$top/demo-output/floor_plans"
rm -rf "$plans"
written=$(test/tools/floor_plans.sh "$plans" SZ-ZH)
echo "$(grep -c '\.svg$' <<<"$written") SVG floor plans and a GeoJSON of the park in $plans, e.g.:"
grep -m 3 . <<<"$written" | sed 's/^/  /'

echo
if [ $embedded = 1 ]; then
  cat <<MSG
The demo cluster is still running. Explore it with:
  psql -h '$PGHOST' -p $PGPORT -U postgres leasemgr_demo
Stop and remove it with:
  make clean-cluster
MSG
else
  echo "The sample parks are in database ${PGDATABASE:-(default)}."
fi
echo "Reference: docs/reference.md, docs/states.md, docs/errors.md, docs/security.md"
