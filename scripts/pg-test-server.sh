#!/usr/bin/env bash
# pg-test-server.sh — a throwaway PostgreSQL 15 cluster for tests.
#
#   pg-test-server.sh start DIR   create (if needed) and start a cluster in DIR; print its URL
#   pg-test-server.sh stop DIR    stop it (the files stay; delete DIR to discard them)
#   pg-test-server.sh url DIR     print the URL of the cluster started in DIR
#
# The server listens on 127.0.0.1 only, on a free port chosen by the OS, with trust auth for
# loopback connections, and has a database named enkisys_test. Its Unix socket lives in DIR.
# Run as root, the server runs as the `postgres` OS user. Durability is off (fsync=off): the
# cluster is for tests only.
#
#   export ENKISYS_TEST_POSTGRES_URL="$(scripts/pg-test-server.sh start /tmp/enkisys-pg)"
set -euo pipefail

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
DB_NAME="enkisys_test"
START_ATTEMPTS=5

die() {
  echo "pg-test-server: $*" >&2
  exit 1
}

usage() {
  echo "usage: $0 start|stop|url DIR" >&2
  exit 2
}

# Runs a command as the cluster owner.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

url_for() {
  echo "postgres://postgres@127.0.0.1:$1/${DB_NAME}"
}

init_cluster() {
  local dir=$1
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "user 'postgres' does not exist (install postgresql-15)"
    chown postgres: "$dir"
  fi
  as_owner test -w "$dir" || die "$dir is not writable by the server user (check its parent directories)"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 \
      --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
      die "initdb failed; see $dir/initdb.log"
    # Trust only loopback TCP and the private socket; nothing else may connect.
    as_owner tee "$dir/data/pg_hba.conf" >/dev/null <<'HBA'
local all all trust
host all all 127.0.0.1/32 trust
HBA
  fi
}

start() {
  local dir port attempt
  dir=$(realpath -m "$1")
  [ -x "$PG_BIN/pg_ctl" ] || die "PostgreSQL binaries not found in $PG_BIN (apt-get install postgresql-15)"
  if [ -f "$dir/port" ] && as_owner "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    url_for "$(cat "$dir/port")"
    return 0
  fi
  init_cluster "$dir"
  for ((attempt = 1; attempt <= START_ATTEMPTS; attempt++)); do
    port=$(free_port)
    # -w waits (bounded by -t) until the server accepts connections or has exited.
    if as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null; then
      as_owner "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -t 30 ||
        die "server on port $port is not ready; see $dir/server.log"
      echo "$port" >"$dir/port"
      if ! as_owner "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAq \
        -c "SELECT 1 FROM pg_database WHERE datname = '${DB_NAME}'" | grep -q 1; then
        as_owner "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres "$DB_NAME"
      fi
      url_for "$port"
      return 0
    fi
    # Most likely another process took the port between choosing and binding it: try another.
    echo "pg-test-server: start on port $port failed (attempt $attempt); retrying" >&2
  done
  die "could not start PostgreSQL after $START_ATTEMPTS attempts; see $dir/server.log"
}

stop() {
  local dir
  dir=$(realpath -m "$1")
  [ -d "$dir/data" ] || die "no cluster in $dir"
  if as_owner "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
  fi
  rm -f "$dir/port"
}

url() {
  local dir
  dir=$(realpath -m "$1")
  [ -f "$dir/port" ] || die "no running cluster in $dir (run: $0 start $1)"
  url_for "$(cat "$dir/port")"
}

[ $# -eq 2 ] || usage
case "$1" in
  start) start "$2" ;;
  stop) stop "$2" ;;
  url) url "$2" ;;
  *) usage ;;
esac
