#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster inside the checkout, for `make demo` and `make test`.
#
#   cluster.sh start DIR   initdb (once) and start; writes DIR/env.sh with PGHOST/PGPORT/...
#   cluster.sh stop DIR    stop it (the data stays until `make clean-cluster`)
#   cluster.sh remove DIR  stop it and delete it
#
# The server listens on a free port of 127.0.0.1 and on a unix socket in DIR, preloads
# pg_cron (whose metadata lives in the database named by cron.database_name), and trusts
# local connections: it is a test bench, never a server for real data.
# initdb refuses to run as root, so as root the cluster belongs to the postgres user.
set -euo pipefail

action=${1:?usage: cluster.sh start|stop DIR}
dir=${2:?usage: cluster.sh start|stop DIR}
PGBIN=${PGBIN:-$(dirname "$(${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config} --bindir)/x")}
dir=$(mkdir -p "$dir" && cd "$dir" && pwd)
home=$dir          # where env.sh goes: always the folder asked for
cron_db=${LEASEMGR_CRON_DB:-leasemgr_demo}

# As root the server runs as postgres, which must reach the folder through every parent
# directory. A checkout under /root is closed to it: then the cluster lives in a private
# folder under /tmp, and the checkout's folder records where (file "location").
if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$dir"
  if ! runuser -u postgres -- test -w "$dir"; then
    if [ -f "$dir/location" ]; then
      dir=$(cat "$dir/location")
    elif [ "$action" = start ]; then
      dir=$(mktemp -d /tmp/leasemgr-cluster.XXXXXX)
      echo "$dir" >"$home/location"
      echo "note: the postgres user cannot reach $home; the cluster lives in $dir" >&2
    fi
    chown postgres: "$dir" 2>/dev/null || true
  fi
fi
data="$dir/data"

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  local p
  for p in $(seq 55432 55531); do
    # A port is taken when something accepts a connection on it or a socket file exists.
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && [ ! -e "$dir/.s.PGSQL.$p" ]; then
      echo "$p"
      return 0
    fi
  done
  echo "cluster.sh: no free port in 55432..55531" >&2
  return 1
}

start() {
  if [ ! -f "$data/PG_VERSION" ]; then
    as_owner "$PGBIN/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 \
      --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  if as_owner "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    echo "cluster already running in $dir" >&2
  else
    local port
    port=$(free_port)
    as_owner tee "$data/postgresql.auto.conf" >/dev/null <<EOF
# Written by test/tools/cluster.sh; rewritten on every start.
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
shared_preload_libraries = 'pg_cron'
cron.database_name = '$cron_db'
max_connections = 60
max_locks_per_transaction = 256
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
logging_collector = off
TimeZone = 'Asia/Shanghai'
EOF
    as_owner "$PGBIN/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
      { tail -20 "$dir/server.log" >&2; exit 1; }
    cat >"$home/env.sh" <<EOF
export PGHOST='$dir' PGPORT=$port PGUSER=postgres
export LEASEMGR_CLUSTER='$dir'
EOF
  fi
}

stop() {
  if [ -f "$data/PG_VERSION" ]; then
    as_owner "$PGBIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
  fi
}

# Stop, and remove the cluster wherever it lives.
remove() {
  stop
  [ "$dir" != "$home" ] && rm -rf "$dir"
  rm -rf "$home"
}

case "$action" in
  start) start ;;
  stop) stop ;;
  remove) remove ;;
  *) echo "usage: cluster.sh start|stop|remove DIR" >&2; exit 2 ;;
esac
