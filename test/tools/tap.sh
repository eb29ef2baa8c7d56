#!/usr/bin/env bash
# pgTAP suites: one database with leasemgr and pgtap; every suite runs in a transaction it
# rolls back, so suites do not see each other's rows.
set -euo pipefail
cd "$(dirname "$0")/../.."
db=leasemgr_tap
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -d "$db" \
  -c "CREATE EXTENSION leasemgr CASCADE" -c "CREATE EXTENSION pgtap" -c "CREATE EXTENSION amcheck" \
  -f test/tap/helpers.sql
pg_prove --dbname "$db" --ext .sql --timer test/tap/*_test.sql
