#!/usr/bin/env bash
# The service images against a real PostgreSQL 15: the libpq inside them (static, built by
# scripts/build-libpq.sh) must connect over TLS with a SCRAM-SHA-256 password, keep data there,
# and refuse a wrong password with a clear message that does not echo the password. Every
# service that keeps a database (services/services.list: data db) must start on it.
#   tests/e2e/postgres.sh   (images enkisys/*:$ENKISYS_TAG must exist; needs postgresql-15)
# Starts a throwaway cluster on a free loopback port (scripts/pg-test-server.sh), runs each
# image with --network host on a free port, and always removes both.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PROJECT=enkisys-e2e-pg-$$
WORK=$(mktemp -d /tmp/enkisys-e2e-pg.XXXXXX)
chmod 0755 "$WORK" # the cluster runs as the postgres user
# shellcheck source=tests/e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh"
# shellcheck source=scripts/services.sh
source "$ROOT/scripts/services.sh"

cd "$ROOT"
export ENKISYS_TAG=${ENKISYS_TAG:-$(git rev-parse --short HEAD 2>/dev/null || echo dev)}
PG_DIR=$WORK/pg
ROLE=enkisys_e2e
# One database per service, as in production (each keeps its own migrations): enkisys_<name>.
mapfile -t DB_SERVICES < <(services_names data=db)
((${#DB_SERVICES[@]} > 0)) || {
  echo "e2e-pg: services/services.list names no service with a database" >&2
  exit 1
}
db_of() { echo "enkisys_${1//-/_}"; }
PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')

teardown() {
  local rc=$? c
  if [[ -s $WORK/containers ]]; then
    while read -r c; do docker rm -f "$c" >/dev/null 2>&1 || true; done <"$WORK/containers"
  fi
  "$ROOT/scripts/pg-test-server.sh" stop "$PG_DIR" >/dev/null 2>&1 || true
  rm -rf "$WORK"
  exit "$rc"
}
trap teardown EXIT

for svc in "${DB_SERVICES[@]}"; do
  docker image inspect "enkisys/$svc:$ENKISYS_TAG" >/dev/null 2>&1 || {
    echo "e2e-pg: image enkisys/$svc:$ENKISYS_TAG missing (run: make images)" >&2
    exit 1
  }
done

# --- the cluster: TLS on; the test role may only log in over TLS with its SCRAM password ---
PG_URL=$("$ROOT/scripts/pg-test-server.sh" start "$PG_DIR")
PG_PORT=${PG_URL##*:}
PG_PORT=${PG_PORT%%/*}
as_pg() { runuser -u postgres -- "$@"; }
psql_admin() { as_pg psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAq -v ON_ERROR_STOP=1 "$@"; }
as_pg openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
  -keyout "$PG_DIR/data/server.key" -out "$PG_DIR/data/server.crt" >/dev/null 2>&1
as_pg chmod 0600 "$PG_DIR/data/server.key"
as_pg tee "$PG_DIR/data/pg_hba.conf" >/dev/null <<HBA
local all all trust
hostssl all $ROLE 127.0.0.1/32 scram-sha-256
host all $ROLE 127.0.0.1/32 reject
host all postgres 127.0.0.1/32 trust
HBA
psql_admin >/dev/null <<SQL
SET password_encryption = 'scram-sha-256';
CREATE ROLE $ROLE LOGIN PASSWORD '$PASSWORD';
$(for svc in "${DB_SERVICES[@]}"; do echo "CREATE DATABASE $(db_of "$svc") OWNER $ROLE;"; done)
ALTER SYSTEM SET ssl = on;
SELECT pg_reload_conf();
SQL
# The reload is asynchronous: wait (bounded) until the server offers TLS.
for ((i = 0; i < 50; i++)); do
  [[ $(psql_admin -c 'SHOW ssl') == on ]] && break
  sleep 0.1
done
# service_url DB [PASSWORD]
service_url() { echo "postgres://$ROLE:${2:-$PASSWORD}@127.0.0.1:$PG_PORT/$1?sslmode=require"; }
echo "e2e-pg: PostgreSQL on 127.0.0.1:$PG_PORT (TLS, SCRAM-SHA-256 for $ROLE), images :$ENKISYS_TAG"

# run_service SVC PORT URL: starts the image on the host network; prints the container name.
run_service() {
  local svc=$1 port=$2 url=$3 name=$PROJECT-$1-$RANDOM
  echo "$name" >>"$WORK/containers" # for the teardown
  docker run -d --name "$name" --network host --read-only --tmpfs /data:uid=10001,gid=10001 \
    --cap-drop ALL -e PORT="$port" -e DATABASE_URL="$url" -e LOG_LEVEL=info \
    "enkisys/$svc:$ENKISYS_TAG" >/dev/null
  echo "$name"
}

# wait_http_ok URL SECONDS CONTAINER: polls until URL answers 200 (bounded; gives up at once
# when the container has exited).
wait_http_ok() {
  local deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" || true) == 200 ]] && return 0
    [[ $(docker inspect -f '{{.State.Running}}' "$3" 2>/dev/null) == true ]] || return 1
    sleep 0.2
  done
  return 1
}

# ssl_sessions: "t"/"f" per live connection of the test role (t = TLS).
ssl_sessions() {
  psql_admin -c "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
                 WHERE a.usename = '$ROLE'"
}

# start_healthy SVC DB: runs SVC's image on a free port against DB and waits until it is
# healthy; sets port.
start_healthy() {
  local name
  port=$(free_port)
  name=$(run_service "$1" "$port" "$(service_url "$2")")
  wait_http_ok "http://127.0.0.1:$port/health" 60 "$name" ||
    fail "$1 not healthy: $(docker logs "$name" 2>&1 | tail -5)"
}

# Every service with a database: healthy on PostgreSQL, its migrations ran there, over TLS only.
t_every_db_service() {
  local svc port tables
  for svc in "${DB_SERVICES[@]}"; do
    start_healthy "$svc" "$(db_of "$svc")"
    tables=$(psql_admin -d "$(db_of "$svc")" -c \
      "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
    [[ $tables -ge 1 ]] || fail "$svc: no table in $(db_of "$svc") (migrations did not run there)"
  done
  ssl_sessions >"$WORK/ssl"
  grep -q t "$WORK/ssl" || fail "no TLS session of $ROLE (pg_stat_ssl: $(tr '\n' ' ' <"$WORK/ssl"))"
  ! grep -q f "$WORK/ssl" || fail "a session of $ROLE without TLS"
}

t_tools_on_postgres() {
  local port code rows
  start_healthy tools "$(db_of tools)"
  code=$(E2E_USER=e2e http POST "http://127.0.0.1:$port/api/tools" \
    '{"name":"pg_echo","description":"kept in PostgreSQL","kind":"http","parameters":{"type":"object"},
      "http":{"method":"GET","url":"http://example.invalid/","headers":{},"timeout_ms":1000,"max_response_bytes":1024}}' -)
  expect_status 201 "$code" "create a tool"
  code=$(E2E_USER=e2e http POST "http://127.0.0.1:$port/api/tools/calculator/invoke" '{"arguments":{"expression":"6*7"}}' -)
  expect_status 200 "$code" "invoke the calculator"
  rows=$(psql_admin -d "$(db_of tools)" -c "SELECT count(*) FROM tools WHERE name = 'pg_echo'")
  [[ $rows == 1 ]] || fail "the tool is not in PostgreSQL (rows: $rows)"
  rows=$(psql_admin -d "$(db_of tools)" -c "SELECT count(*) FROM tool_invocations WHERE tool = 'calculator'")
  [[ $rows -ge 1 ]] || fail "the invocation was not audited in PostgreSQL"
  ssl_sessions >"$WORK/ssl"
  grep -q t "$WORK/ssl" || fail "no TLS session of $ROLE (pg_stat_ssl: $(tr '\n' ' ' <"$WORK/ssl"))"
  ! grep -q f "$WORK/ssl" || fail "a session of $ROLE without TLS"
}

t_auth_on_postgres() {
  local port code rows
  start_healthy auth "$(db_of auth)"
  code=$(http POST "http://127.0.0.1:$port/api/auth/signup" \
    '{"email":"Pg.User@Example.com","password":"a long enough pg passphrase"}' -)
  expect_status 201 "$code" "signup"
  rows=$(psql_admin -d "$(db_of auth)" -c "SELECT count(*) FROM users WHERE email = 'pg.user@example.com'")
  [[ $rows == 1 ]] || fail "the account is not in PostgreSQL (rows: $rows)"
}

t_rag_on_postgres() {
  local port code cid doc deadline rows
  start_healthy rag "$(db_of rag)"
  code=$(E2E_USER=e2e http POST "http://127.0.0.1:$port/api/rag/collections" '{"name":"pg"}' -)
  expect_status 201 "$code" "create a collection"
  cid=$(body_json .id)
  code=$(E2E_USER=e2e http POST "http://127.0.0.1:$port/api/rag/collections/$cid/documents" \
    '{"title":"Tides","text":"# Tides\n\nSpring tides follow the full and the new moon."}' -)
  expect_status 202 "$code" "upload a document"
  doc=$(body_json .id)
  deadline=$((SECONDS + 60))
  until E2E_USER=e2e http GET "http://127.0.0.1:$port/api/rag/collections/$cid/documents/$doc" >/dev/null &&
    [[ $(body_json .status) == ready ]]; do
    ((SECONDS < deadline)) || fail "the document is $(body_json .status) after 60 s"
    sleep 0.3
  done
  code=$(E2E_USER=e2e http POST "http://127.0.0.1:$port/api/rag/search" '{"query":"when are spring tides"}' -)
  expect_status 200 "$code" "search"
  [[ $(body_json '.results[0].document_id') == "$doc" ]] || fail "search: $(head -c 300 "$WORK/body")"
  rows=$(psql_admin -d "$(db_of rag)" -c "SELECT count(*) FROM rag_chunks WHERE document_id = '$doc'")
  [[ $rows -ge 1 ]] || fail "the chunks are not in PostgreSQL (rows: $rows)"
}

t_wrong_password_refused() {
  local port name wrong=not-the-$PASSWORD-either logs
  port=$(free_port)
  name=$(run_service tools "$port" "$(service_url "$(db_of tools)" "$wrong")")
  # The service gives up after its bounded connection retries and exits non-zero.
  timeout 120 docker wait "$name" >"$WORK/exit" || fail "still running with a wrong password"
  [[ $(cat "$WORK/exit") != 0 ]] || fail "exit code 0 with a wrong password"
  logs=$(docker logs "$name" 2>&1)
  info "$(tail -n 3 <<<"$logs")"
  grep -qi 'password authentication failed' <<<"$logs" || fail "no clear authentication error in the logs"
  ! grep -qF "$wrong" <<<"$logs" || fail "the password appears in the logs"
}

exec 3>&1
run_test "every service with a database (${DB_SERVICES[*]}) starts on PostgreSQL over TLS" t_every_db_service
run_test "tools image on PostgreSQL: TLS + SCRAM, tools and audit rows land there" t_tools_on_postgres
run_test "auth image on PostgreSQL: signup lands in the users table" t_auth_on_postgres
run_test "rag image on PostgreSQL: a document's chunks land there and are found" t_rag_on_postgres
run_test "wrong database password: clear error, exit != 0, password not logged" t_wrong_password_refused
echo "$E2E_PASSED passed, $E2E_FAILED failed"
((E2E_FAILED == 0))
