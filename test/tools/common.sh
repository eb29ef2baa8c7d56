# Shared by demo.sh and test.sh: dependencies, build and install. Sourced, not run.

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
export PATH="$($PG_CONFIG --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin):$PATH"

say() { printf '\n== %s\n' "$*"; }

build_and_install() {
  "$top/test/tools/deps.sh"
  export PATH="$($PG_CONFIG --bindir):$PATH"
  say "building leasemgr"
  make -C "$top" -s
  local libdir sharedir
  libdir=$($PG_CONFIG --pkglibdir)
  sharedir=$($PG_CONFIG --sharedir)/extension
  if [ -w "$libdir" ] && [ -w "$sharedir" ]; then
    make -C "$top" -s install >/dev/null
  else
    echo "Installing into $libdir and $sharedir needs root. Run:" >&2
    echo "  sudo make -C '$top' install PG_CONFIG=$PG_CONFIG" >&2
    echo "then run make again." >&2
    exit 1
  fi
}

# psql against the current PG* environment, stopping at the first error.
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
