#!/usr/bin/env bash
# The stage's PostgreSQL (deploy/postgres/): the image starts healthy as a non-root user on a
# fresh volume, gives each service its own database and role (passwords from secret files),
# and a service's role reaches neither another service's database nor the superuser; data and
# roles survive a restart; a rotated password file takes effect at the next start.
#   tests/e2e/pgstage.sh    (image $POSTGRES_IMAGE, default enkisys/postgres:15: make image-postgres)
# Runs compose project $PROJECT (default enkisys-e2e-pgstage-<pid>) with a throwaway stage of
# its own (secrets in a temporary folder) and always removes it, its network and its volume.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PROJECT=${PROJECT:-enkisys-e2e-pgstage-$$}
WORK=$(mktemp -d /tmp/enkisys-e2e-pgstage.XXXXXX)
export STAGE=e2epg$$ POSTGRES_IMAGE=${POSTGRES_IMAGE:-enkisys/postgres:15}
# shellcheck source=tests/e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh"

# The stage's project folder: deploy/postgres of the repository, secrets of its own.
mkdir -p "$WORK/project/deploy/$STAGE/secrets"
ln -s "$ROOT/deploy/postgres" "$WORK/project/deploy/postgres"
for s in postgres tools auth rag agent router; do
  head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$WORK/project/deploy/$STAGE/secrets/db_${s}_password"
done
chmod 0644 "$WORK/project/deploy/$STAGE/secrets/"*
: >"$WORK/stage.env"
secret() { cat "$WORK/project/deploy/$STAGE/secrets/db_$1_password"; }
pg() {
  "$ROOT/scripts/compose.sh" -p "$PROJECT" --project-directory "$WORK/project" --env-file "$WORK/stage.env" \
    -f "$WORK/project/deploy/postgres/compose.yaml" "$@"
}

teardown() {
  local rc=$?
  pg down -t 10 >/dev/null 2>&1 || true
  docker network rm "enkisys-$STAGE-db" >/dev/null 2>&1 || true
  docker volume rm -f "enkisys-$STAGE-postgres-data" >/dev/null 2>&1 || true
  rm -rf "$WORK"
  exit "$rc"
}
trap teardown EXIT

docker image inspect "$POSTGRES_IMAGE" >/dev/null 2>&1 || {
  echo "e2e-pgstage: image $POSTGRES_IMAGE missing (make image-postgres)" >&2
  exit 1
}
docker network create --internal "enkisys-$STAGE-db" >/dev/null
docker volume create "enkisys-$STAGE-postgres-data" >/dev/null

# sql ROLE DB PASSWORD SQL: runs SQL as ROLE over the stage network (as a service would);
# prints the rows, or the client's error (exit status kept).
sql() {
  docker run --rm --network "enkisys-$STAGE-db" -e PGPASSWORD="$3" -e PGCONNECT_TIMEOUT=5 \
    --entrypoint psql "$POSTGRES_IMAGE" -h postgres -U "$1" -d "$2" -tAq -v ON_ERROR_STOP=1 -c "$4" 2>&1
}

start() {
  pg up -d >/dev/null 2>&1 || fail "compose up: $(pg up -d 2>&1 | tail -5)"
  wait_healthy "$(pg ps -q postgres)" 90 || fail "postgres not healthy: $(pg logs --tail 20 postgres)"
}

test_starts_healthy_as_non_root() {
  start
  local id
  id=$(pg ps -q postgres)
  [[ $(docker exec "$id" id -u) == 999 ]] || fail "postgres runs as uid $(docker exec "$id" id -u)"
  [[ $(inspect '{{.HostConfig.ReadonlyRootfs}}' "$id") == true ]] || fail "root filesystem is writable"
  [[ $(inspect '{{json .HostConfig.PortBindings}}' "$id") =~ ^(null|\{\})$ ]] || fail "a port is published"
}

test_each_service_owns_only_its_database() {
  local out s
  for s in tools auth rag agent router; do
    out=$(sql "$s" "$s" "$(secret "$s")" "CREATE TABLE t_$s (id int); INSERT INTO t_$s VALUES (1); SELECT count(*) FROM t_$s") ||
      fail "$s cannot use its own database: $out"
    [[ $out == 1 ]] || fail "$s: $out"
  done
  # tools' role cannot open auth's database, with its own password or with auth's.
  out=$(sql tools auth "$(secret tools)" "SELECT count(*) FROM t_auth") && fail "tools read auth's database: $out"
  info "tools -> auth database: $out"
  out=$(sql auth tools "$(secret tools)" "SELECT 1") && fail "auth's role logged in with tools' password: $out"
  # Behind pg_hba's sameuser rule, the grants too: CONNECT to another database is revoked.
  out=$(sql tools tools "$(secret tools)" "SELECT has_database_privilege('auth', 'CONNECT')")
  [[ $out == f ]] || fail "tools may connect to auth's database: $out"
  # No superuser over the network, not even with its password.
  out=$(sql postgres postgres "$(secret postgres)" "SELECT 1") && fail "superuser reachable over the network: $out"
  # A wrong password is refused.
  out=$(sql tools tools wrong-password "SELECT 1") && fail "a wrong password was accepted"
  [[ $out == *"password authentication failed"* ]] || fail "wrong password: $out"
  # Inside its database a service role is no superuser and cannot create roles or databases.
  out=$(sql tools tools "$(secret tools)" "SELECT rolsuper OR rolcreaterole OR rolcreatedb FROM pg_roles WHERE rolname = current_user")
  [[ $out == f ]] || fail "tools' role is privileged: $out"
}

test_data_survives_a_restart_and_a_rotated_password_applies() {
  local out
  head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$WORK/project/deploy/$STAGE/secrets/db_tools_password"
  pg restart -t 30 postgres >/dev/null 2>&1
  wait_healthy "$(pg ps -q postgres)" 90 || fail "not healthy after a restart"
  out=$(sql tools tools "$(secret tools)" "SELECT count(*) FROM t_tools") || fail "after restart: $out"
  [[ $out == 1 ]] || fail "rows after restart: $out"
}

run_test "postgres starts healthy, non-root, read-only, no published port" test_starts_healthy_as_non_root
run_test "one database and role per service; no cross-service or superuser access" test_each_service_owns_only_its_database
run_test "data survives a restart; a rotated password applies at the next start" test_data_survives_a_restart_and_a_rotated_password_applies
echo "e2e-pgstage: $E2E_PASSED passed, $E2E_FAILED failed, $E2E_SKIPPED skipped"
((E2E_FAILED == 0))
