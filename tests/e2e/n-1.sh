#!/usr/bin/env bash
# n-1: the previous release's images on a database migrated by the new release's. During a
# blue/green deploy the old color keeps serving on the schema the new color has just migrated,
# and a rollback returns to it (docs/migrations.md); this runs exactly that, per service with a
# database, on PostgreSQL (scripts/pg-test-server.sh, one database per service) and on SQLite
# (a volume per service):
#   1. the new image starts on an empty database (its migrations run) and is stopped;
#   2. the previous image starts on it and must become healthy;
#   3. tools: the previous image reads the tool the new one wrote and writes one of its own.
#   tests/e2e/n-1.sh        NEW_TAG (default $ENKISYS_TAG, else HEAD's short sha),
#                           PREVIOUS_TAG (default: the short sha of the previous release as
#                           scripts/check-migrations.py defines it)
# The previous images must exist (a CI job keeps the last release's images, or
# `git worktree add` + `make images` of it); without them the test says so and skips (exit 0).
# Budget: about 1 minute (images only, nothing compiled).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$(mktemp -d /tmp/enkisys-e2e-n1.XXXXXX)
chmod 0755 "$WORK"
PROJECT=enkisys-e2e-n1-$$
# shellcheck source=tests/e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh"
# shellcheck source=scripts/services.sh
source "$ROOT/scripts/services.sh"
cd "$ROOT"

NEW_TAG=${NEW_TAG:-${ENKISYS_TAG:-$(git rev-parse --short HEAD)}}
if [[ -z ${PREVIOUS_TAG:-} ]]; then
  base=$(python3 -c 'import importlib.util, sys
spec = importlib.util.spec_from_file_location("cm", sys.argv[1]); m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m); print(m.previous_release() or "")' "$ROOT/scripts/check-migrations.py")
  PREVIOUS_TAG=$(git rev-parse --short "${base:-HEAD^}")
fi
mapfile -t DB_SERVICES < <(services_names data=db)
db_of() { echo "n1_${1//-/_}"; }

teardown() {
  local rc=$? c
  if [[ -s $WORK/containers ]]; then
    while read -r c; do docker rm -f "$c" >/dev/null 2>&1 || true; done <"$WORK/containers"
  fi
  for c in "${DB_SERVICES[@]}"; do docker volume rm -f "$PROJECT-$c" >/dev/null 2>&1 || true; done
  "$ROOT/scripts/pg-test-server.sh" stop "$WORK/pg" >/dev/null 2>&1 || true
  rm -rf "$WORK"
  exit "$rc"
}
trap teardown EXIT

# has_images TAG: every service with a database has its image enkisys/<service>:TAG here.
has_images() {
  local svc
  for svc in "${DB_SERVICES[@]}"; do
    docker image inspect "enkisys/$svc:$1" >/dev/null 2>&1 || return 1
  done
}
has_images "$NEW_TAG" || {
  echo "n-1: skipped: the new release's images enkisys/<service>:$NEW_TAG are missing"
  exit 0
}
# Without PREVIOUS_TAG given, a previous release whose images were never built here (CI builds
# only its own commit) gives way to the newest earlier release on the first-parent history whose
# images this engine still holds (the last one that landed): the schema drift tested is then
# wider than one release, never narrower.
if ! has_images "$PREVIOUS_TAG" && [[ -z ${N1_STRICT:-} ]]; then
  wanted=$PREVIOUS_TAG
  PREVIOUS_TAG=""
  while read -r c; do
    [[ $c != "$NEW_TAG" ]] && has_images "$c" && PREVIOUS_TAG=$c && break
  done < <(git rev-list --first-parent --abbrev-commit --max-count=200 "$wanted" 2>/dev/null)
  [[ -n $PREVIOUS_TAG ]] || {
    echo "n-1: skipped: no images of $wanted or of the 200 releases before it on this engine"
    exit 0
  }
  echo "n-1: no images of $wanted here; the newest earlier release with images: $PREVIOUS_TAG"
fi
[[ $PREVIOUS_TAG != "$NEW_TAG" ]] || { echo "n-1: skipped: previous and new release are the same ($NEW_TAG)"; exit 0; }

PG_URL=$("$ROOT/scripts/pg-test-server.sh" start "$WORK/pg")
PG_PORT=${PG_URL##*:}
PG_PORT=${PG_PORT%%/*}
for svc in "${DB_SERVICES[@]}"; do
  runuser -u postgres -- psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -qc "CREATE DATABASE $(db_of "$svc")"
done
echo "n-1: previous release :$PREVIOUS_TAG on databases migrated by :$NEW_TAG"

# run_image SVC TAG BACKEND: starts the image on a free port against the service's database
# (postgres, or sqlite in its volume) and waits until healthy; sets port and name.
run_image() {
  local svc=$1 tag=$2 url data=()
  port=$(free_port)
  name=$PROJECT-$svc-$RANDOM
  if [[ $3 == postgres ]]; then
    url="postgres://postgres@127.0.0.1:$PG_PORT/$(db_of "$svc")"
    data=(--tmpfs "/data:uid=10001,gid=10001")
  else
    url="sqlite:///data/$svc.db"
    data=(-v "$PROJECT-$svc:/data")
  fi
  echo "$name" >>"$WORK/containers"
  docker run -d --name "$name" --network host --read-only "${data[@]}" --cap-drop ALL \
    -e PORT="$port" -e DATABASE_URL="$url" -e LOG_LEVEL=warn "enkisys/$svc:$tag" >/dev/null
  local deadline=$((SECONDS + 60))
  until [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/health" || true) == 200 ]]; do
    if ((SECONDS >= deadline)) || [[ $(docker inspect -f '{{.State.Running}}' "$name") != true ]]; then
      fail "$svc:$tag on $3 not healthy: $(docker logs "$name" 2>&1 | tail -5)"
    fi
    sleep 0.2
  done
}
stop_image() { docker rm -f "$name" >/dev/null; }

tool_json() {
  jq -nc --arg n "$1" '{name: $n, kind: "http", parameters: {type: "object"},
    http: {method: "GET", url: "http://example.invalid/", headers: {}, timeout_ms: 1000, max_response_bytes: 1024}}'
}

check_backend() {
  local backend=$1 svc code
  for svc in "${DB_SERVICES[@]}"; do
    run_image "$svc" "$NEW_TAG" "$backend"
    if [[ $svc == tools ]]; then
      expect_status 201 "$(E2E_USER=n1 http POST "http://127.0.0.1:$port/api/tools" "$(tool_json by_new)" -)" "the new release writes"
    fi
    stop_image
    run_image "$svc" "$PREVIOUS_TAG" "$backend"
    if [[ $svc == tools ]]; then
      code=$(E2E_USER=n1 http GET "http://127.0.0.1:$port/api/tools/by_new" "" -)
      expect_status 200 "$code" "the previous release reads what the new one wrote"
      code=$(E2E_USER=n1 http POST "http://127.0.0.1:$port/api/tools" "$(tool_json by_previous)" -)
      expect_status 201 "$code" "the previous release writes on the migrated schema"
    fi
    stop_image
  done
}
t_postgres() { check_backend postgres; }
t_sqlite() { check_backend sqlite; }

run_test "previous release on a PostgreSQL schema migrated by the new one" t_postgres
run_test "previous release on a SQLite file migrated by the new one" t_sqlite
echo "n-1: $E2E_PASSED passed, $E2E_FAILED failed, $E2E_SKIPPED skipped"
((E2E_FAILED == 0))
