#!/usr/bin/env bash
# Tools write throughput on SQLite and on PostgreSQL 15, in one run: the real enkisys-tools,
# POST /api/tools with a fresh name per request (wrk, BENCH_CONNECTIONS connections for
# BENCH_DURATION), once on a SQLite file (WAL, synchronous=FULL) and once on a throwaway
# PostgreSQL (scripts/pg-test-server.sh, with fsync and full_page_writes turned back on so that
# both commit durably). Prints a markdown table: created/s, p99, errors.
#   bench/tools_db_bench.sh     (after the build; needs wrk and postgresql-15; as root or postgres)
# Env: ENKISYS_TOOLS_BIN (default build/release/bin/enkisys-tools), BENCH_DURATION (10s),
#      BENCH_CONNECTIONS (16).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
BIN=${ENKISYS_TOOLS_BIN:-$ROOT/build/release/bin/enkisys-tools}
DURATION=${BENCH_DURATION:-10s}
CONNECTIONS=${BENCH_CONNECTIONS:-16}
WORK=$(mktemp -d /tmp/enkisys-dbbench.XXXXXX)
chmod 0755 "$WORK"
PID=

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

cleanup() {
  [[ -n $PID ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  "$ROOT/scripts/pg-test-server.sh" stop "$WORK/pg" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
[[ -x $BIN ]] || {
  echo "bench: no $BIN (cmake --build --preset release --target enkisys-tools)" >&2
  exit 1
}

# Each request a new tool: a counter per wrk thread, named after the thread.
cat >"$WORK/create.lua" <<'LUA'
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
local n = 0
request = function()
  n = n + 1
  local name = "b" .. tid .. "_" .. n
  local body = '{"name":"' .. name .. '","kind":"http","http":{"method":"GET","url":"https://x.example/"}}'
  return wrk.format("POST", "/api/tools", {["Content-Type"] = "application/json",
    ["X-User-Id"] = "bench"}, body)
end
LUA

# run NAME URL: starts the service on URL, loads it, prints a table row.
run() {
  local name=$1 url=$2 port out deadline
  port=$(free_port)
  PORT=$port BIND_ADDRESS=127.0.0.1 DATABASE_URL=$url ACCESS_LOG=off LOG_LEVEL=warn "$BIN" \
    >"$WORK/$name.log" 2>&1 &
  PID=$!
  deadline=$((SECONDS + 30))
  until curl -sf -o /dev/null "http://127.0.0.1:$port/health"; do
    ((SECONDS < deadline)) || {
      cat "$WORK/$name.log" >&2
      exit 1
    }
    sleep 0.1
  done
  out=$(wrk -t 2 -c "$CONNECTIONS" -d "$DURATION" --latency -s "$WORK/create.lua" "http://127.0.0.1:$port")
  kill "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  PID=
  local rps p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  echo "| $name | ${rps%.*} | $p99 | ${errors:-0} |"
}

PG_URL=$("$ROOT/scripts/pg-test-server.sh" start "$WORK/pg")
psql_admin() { runuser -u postgres -- psql "$PG_URL" -tAq -c "$1" 2>/dev/null || psql "$PG_URL" -tAq -c "$1"; }
psql_admin "ALTER SYSTEM SET fsync = on" >/dev/null
psql_admin "ALTER SYSTEM SET full_page_writes = on" >/dev/null
psql_admin "SELECT pg_reload_conf()" >/dev/null
echo "tools writes: POST /api/tools, $CONNECTIONS connections, $DURATION, $(nproc) cores"
echo
echo "| database | created/s | p99 | non-2xx |"
echo "|---|---|---|---|"
run sqlite "sqlite://$WORK/tools.db"
run postgres "$PG_URL"
