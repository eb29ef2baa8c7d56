#!/usr/bin/env bash
# Install what `make demo` and `make test` need on Debian 12, and nothing else.
#
# As root the missing Debian packages are installed with apt-get; as any other user the
# exact command is printed and the script fails, so nobody gets a half-working setup.
set -euo pipefail

PGV=15
packages=(
  "postgresql-$PGV"                       # server, initdb, pg_ctl, contrib (btree_gist)
  "postgresql-server-dev-$PGV"            # pg_config, PGXS, server headers, pg_regress
  "postgresql-$PGV-postgis-3"             # geometry types and GiST support
  "postgresql-$PGV-cron"                  # pg_cron, preloaded by the throwaway cluster
  "postgresql-$PGV-pgtap"                 # pgTAP assertions
  "libtap-parser-sourcehandler-pgtap-perl" # pg_prove
  "libxml2-utils"                         # xmllint, for documents the extension renders
  "make" "gcc" "perl"
)

missing=()
for p in "${packages[@]}"; do
  # dpkg-query prints "install ok installed" only for a fully installed package.
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "leasemgr needs these Debian packages: ${missing[*]}" >&2
  echo "Install them as root, then run make again:" >&2
  echo "  sudo sh -c '$cmd'" >&2
  exit 1
fi

echo "== installing ${missing[*]}"
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
