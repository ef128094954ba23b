#!/usr/bin/env bash
# Backup and restore of a prod-like stage on PostgreSQL, with the `enkisys` CLI:
#   tests/e2e/backup.sh     (images enkisys/*:$ENKISYS_TAG and $POSTGRES_IMAGE must exist:
#                           make images image-postgres; the CLI: build/release/bin/enkisys)
# A throwaway stage ($E2E_STAGE, default bk<pid>; prod's settings, DATABASE=$E2E_DATABASE:
# postgres by default, or sqlite) in a
# project folder of its own (the repository's compose files, secrets of its own), its color
# blue with the local gateway (profile local), reached at its address on the color's own
# network `public` (host mode keeps it internal and publishes nothing; the host reaches it): sign up, create tools,
# upload a document; `enkisys backup` while a client keeps creating tools; delete the data
# (the PostgreSQL volume, or every SQLite volume); `enkisys restore`; every row of every
# database back (counted per table; the tools written during the backup: at least those
# acknowledged before it began, at most those acknowledged by its end), the SQLite files
# sound, login, tools and search work again.
# Prints the backup's size and the backup and restore times; E2E_SEED=1 (PostgreSQL) first
# grows the stage to 10k users, 1k tools, 100k tool invocations and 10k chunks (the figures). Always removes what it created.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$(mktemp -d /tmp/enkisys-e2e-backup.XXXXXX)
PROJECT=unused # lib.sh's compose() is not used here
# shellcheck source=tests/e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh"
# shellcheck source=scripts/services.sh
source "$ROOT/scripts/services.sh"

cd "$ROOT"
export ENKISYS_TAG=${ENKISYS_TAG:-$(git rev-parse --short HEAD 2>/dev/null || echo dev)}
export POSTGRES_IMAGE=${POSTGRES_IMAGE:-enkisys/postgres:15}
export STAGE=${E2E_STAGE:-bk$$}
DATABASE=${E2E_DATABASE:-postgres}
[[ $DATABASE == postgres || $DATABASE == sqlite ]] || { echo "E2E_DATABASE: postgres or sqlite" >&2; exit 2; }
CLI=${ENKISYS_CLI:-$ROOT/build/release/bin/enkisys}
P=$WORK/project
STATE=$WORK/state
mapfile -t DB_SERVICES < <(services_names data=db runs=stage)
# The CLI's compose runs inherit it: the stage's own gateway runs beside the services.
export COMPOSE_PROFILES=local

log() { echo "e2e-backup: $*" >&2; }
die() {
  log "$*"
  exit 1
}
color_compose() {
  local extra=()
  [[ $DATABASE == sqlite ]] || extra=(-f "$P/deploy/postgres/compose.services.yaml")
  COLOR=blue "$ROOT/scripts/compose.sh" -p "enkisys-$STAGE-blue" --project-directory "$P" \
    --env-file "$P/deploy/$STAGE/stage.env" -f "$P/compose.yaml" -f "$P/deploy/compose.stage.yaml" \
    -f "$P/deploy/compose.$STAGE.yaml" "${extra[@]}" "$@"
}
db_compose() {
  "$ROOT/scripts/compose.sh" -p "enkisys-$STAGE-postgres" --project-directory "$P" \
    --env-file "$P/deploy/$STAGE/stage.env" -f "$P/deploy/postgres/compose.yaml" "$@"
}
enkisys() { "$CLI" --state-dir "$STATE" --project-dir "$P" "$@"; }
psql_db() { docker exec "$(db_compose ps -q postgres)" psql -U postgres -d "$1" -tAq -v ON_ERROR_STOP=1 -c "$2"; }
# sqlite_db SVC SQL: SQL on the service's SQLite file, in a throwaway container on its volume.
sqlite_db() {
  docker run --rm --network none --user 10001:10001 -v "enkisys-$STAGE-$1-data:/data" \
    --entrypoint sqlite3 "$POSTGRES_IMAGE" "/data/$1.db" "$2"
}

teardown() {
  local rc=$? svc
  if ((rc != 0)) && [[ -d $P ]]; then color_compose logs --tail 30 2>&1 | tail -60 >&2 || true; fi
  color_compose down -v -t 5 >/dev/null 2>&1 || true
  db_compose down -t 10 >/dev/null 2>&1 || true
  for svc in "${DB_SERVICES[@]}" postgres; do docker volume rm -f "enkisys-$STAGE-$svc-data" >/dev/null 2>&1 || true; done
  docker network rm "enkisys-$STAGE-ingress" "enkisys-$STAGE-db" >/dev/null 2>&1 || true
  rm -rf "$WORK"
  exit "$rc"
}
trap teardown EXIT

[[ -x $CLI ]] || die "no CLI at $CLI (cmake --build --preset release --target enkisys)"
for img in "$POSTGRES_IMAGE" $(for s in $(services_names runs=stage) gateway; do echo "enkisys/$s:$ENKISYS_TAG"; done); do
  docker image inspect "$img" >/dev/null 2>&1 || die "image $img missing (make images image-postgres)"
done

# --- the stage's project folder: the repository's files, this stage's settings and secrets ---
mkdir -p "$P/deploy/$STAGE/secrets" "$P/deploy/postgres" "$STATE/$STAGE"
ln -s "$ROOT/compose.yaml" "$P/compose.yaml"
ln -s "$ROOT/deploy/compose.stage.yaml" "$ROOT/deploy/gateway" "$P/deploy/"
ln -s "$ROOT/deploy/postgres/compose.yaml" "$ROOT/deploy/postgres/initdb" "$P/deploy/postgres/"
cp "$ROOT/deploy/compose.prod.yaml" "$P/deploy/compose.$STAGE.yaml"
cat >"$P/deploy/$STAGE/stage.env" <<ENV
STAGE=$STAGE
DATABASE=$DATABASE
POSTGRES_IMAGE=$POSTGRES_IMAGE
AUTH_BOOTSTRAP_ADMIN_EMAIL=admin@$STAGE.enkisys.invalid
AUTH_ALLOW_SIGNUP=1
ENV
# Every secret a stage has, made as for a real one (deploy/gen-secrets.sh), in this folder.
ENKISYS_DEPLOY_DIR=$P/deploy "$ROOT/deploy/gen-secrets.sh" "$STAGE" >/dev/null
# Service images built before DATABASE_PASSWORD_FILE existed take the password in the URL
# (only in this throwaway folder: the repository's file keeps it in the secret file).
if docker run --rm "enkisys/tools:$ENKISYS_TAG" --help 2>&1 | grep -q DATABASE_PASSWORD_FILE; then
  ln -s "$ROOT/deploy/postgres/compose.services.yaml" "$P/deploy/postgres/"
else
  log "images :$ENKISYS_TAG predate DATABASE_PASSWORD_FILE: the password goes in DATABASE_URL here"
  cp "$ROOT/deploy/postgres/compose.services.yaml" "$P/deploy/postgres/compose.services.yaml"
  for s in "${DB_SERVICES[@]}"; do
    sed -i "s|postgres://$s@postgres|postgres://$s:$(cat "$P/deploy/$STAGE/secrets/db_${s}_password")@postgres|" \
      "$P/deploy/postgres/compose.services.yaml"
  done
fi

# --- the stage up: its PostgreSQL, then color blue (with its own gateway) ---
docker network create --internal "enkisys-$STAGE-ingress" >/dev/null
docker network create --internal "enkisys-$STAGE-db" >/dev/null
for svc in "${DB_SERVICES[@]}" postgres; do docker volume create "enkisys-$STAGE-$svc-data" >/dev/null; done
if [[ $DATABASE == postgres ]]; then
  db_compose up -d >"$WORK/up.log" 2>&1 || die "database: $(tail -5 "$WORK/up.log")"
  "$ROOT/scripts/wait-healthy.sh" -t 90 "$(db_compose ps -q postgres)"
fi
color_compose up -d >"$WORK/up.log" 2>&1 || die "stage: $(tail -5 "$WORK/up.log")"
mapfile -t ids < <(color_compose ps -q)
"$ROOT/scripts/wait-healthy.sh" -t 180 "${ids[@]}"
# gateway_base: the local gateway's URL for stage dev, at its address on network `public`.
gateway_base() {
  local ip
  ip=$(docker inspect -f "{{(index .NetworkSettings.Networks \"enkisys-$STAGE-blue_public\").IPAddress}}" \
    "$(color_compose ps -q gateway)")
  [[ -n $ip ]] || die "no address of the gateway"
  BASE=http://$ip:8080/dev
}
gateway_base
printf '{"color":"blue","version":"%s","since":"%s"}' "$ENKISYS_TAG" "$(date -u +%FT%TZ)" >"$STATE/$STAGE/active"
log "stage $STAGE up on $DATABASE, gateway at $BASE"

# --- data through the API ---
CREDENTIALS=$(jq -nc --arg e "backup-$$@example.com" '{email: $e, password: "correct horse battery staple 42"}')
expect_status 201 "$(http POST "$BASE/api/auth/signup" "$CREDENTIALS")" "signup"
login() {
  expect_status 200 "$(http POST "$BASE/api/auth/login" "$CREDENTIALS")" "login"
  E2E_TOKEN=$(body_json .access_token)
}
login
TOOLS=25
for ((i = 0; i < TOOLS; i++)); do
  tool=$(jq -nc --arg n "backup_tool_$i" '{name: $n, description: "a tool to back up", kind: "http",
    parameters: {type: "object", properties: {city: {type: "string"}}},
    http: {method: "GET", url: "http://weather.example.invalid/v1", headers: {}, timeout_ms: 2000, max_response_bytes: 65536}}')
  expect_status 201 "$(http POST "$BASE/api/tools" "$tool")" "create tool $i"
done
expect_status 201 "$(http POST "$BASE/api/rag/collections" '{"name":"backup-notes"}')" "create a collection"
cid=$(body_json .id)
printf '# Runbook\n\n## Rotation\n\nThe basalt certificate is rotated every forty days.\n' >"$WORK/runbook.md"
code=$(curl -sS -o "$WORK/body" -w '%{http_code}' --max-time 30 -H "Authorization: Bearer $E2E_TOKEN" \
  -F "file=@$WORK/runbook.md;type=text/markdown" "$BASE/api/rag/collections/$cid/documents" || true)
expect_status 202 "$code" "upload a document"
doc=$(body_json .id)
deadline=$((SECONDS + 60))
until http GET "$BASE/api/rag/collections/$cid/documents/$doc" >/dev/null && [[ $(body_json .status) == ready ]]; do
  ((SECONDS < deadline)) || die "document not ready after 60 s: $(cat "$WORK/body")"
  sleep 0.5
done

# E2E_SEED=1 (PostgreSQL): a stage of production size for the figures — 10k users, 1k tools,
# 100k tool invocations (the audit) and 10k chunks, copied in SQL from the rows made above.
if [[ ${E2E_SEED:-0} == 1 && $DATABASE == postgres ]]; then
  psql_db auth "INSERT INTO users SELECT (jsonb_populate_record(NULL::users, to_jsonb(u) || jsonb_build_object('id', 'seed-' || g,
    'email', 'seed' || g || '@example.com'))).* FROM users u, generate_series(1, 10000) g
    WHERE u.email = '$(jq -r .email <<<"$CREDENTIALS")'" >/dev/null
  psql_db tools "INSERT INTO tools SELECT (jsonb_populate_record(NULL::tools, to_jsonb(t) || jsonb_build_object('name', 'seed_' || g))).*
    FROM tools t, generate_series(1, 1000) g WHERE t.name = 'backup_tool_0'" >/dev/null
  psql_db tools "INSERT INTO tool_invocations (tool, caller, status, error_code, duration_ms, arguments_sha256, created_at)
    SELECT 'backup_tool_' || (g % $TOOLS), 'seed', 'ok', '', 1.5, md5(g::text), '2026-11-30T12:00:00Z'
    FROM generate_series(1, 100000) g" >/dev/null
  psql_db rag "INSERT INTO rag_chunks SELECT (jsonb_populate_record(NULL::rag_chunks, to_jsonb(c) || jsonb_build_object('id', 'seed-' || g,
    'idx', 1000 + g))).* FROM (SELECT * FROM rag_chunks LIMIT 1) c, generate_series(1, 10000) g" >/dev/null
  log "seeded: 10k users, 1k tools, 100k tool invocations, 10k chunks"
fi

# counts: "db.table rows" for every table of every service database.
counts() {
  local db t
  for db in "${DB_SERVICES[@]}"; do
    if [[ $DATABASE == postgres ]]; then
      for t in $(psql_db "$db" "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"); do
        echo "$db.$t $(psql_db "$db" "SELECT count(*) FROM \"$t\"")"
      done
    else
      for t in $(sqlite_db "$db" "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY 1"); do
        echo "$db.$t $(sqlite_db "$db" "SELECT count(*) FROM \"$t\"")"
      done
    fi
  done
}
# live_writer: creates tools live_<n> one by one until $WORK/stop exists (at most 2000);
# appends each acknowledged name to $WORK/acked.
live_writer() {
  local i body
  for ((i = 0; i < 2000; i++)); do
    [[ -e $WORK/stop ]] && return 0
    body=$(jq -nc --arg n "live_$i" '{name: $n, kind: "http", http: {method: "GET", url: "http://x.example.invalid/"}}')
    [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $E2E_TOKEN" \
      -H 'Content-Type: application/json' --data-binary "$body" "$BASE/api/tools") == 201 ]] &&
      echo "live_$i" >>"$WORK/acked"
  done
}
counts >"$WORK/before"
[[ $(grep -c . "$WORK/before") -gt 5 ]] || die "too few tables: $(cat "$WORK/before")"
# The tools created above, besides the built-in ones.
(($(awk '$1 == "tools.tools" {print $2}' "$WORK/before") >= TOOLS)) || die "tools before: $(grep '^tools\.' "$WORK/before")"

# --- backup, while a client keeps writing ---
: >"$WORK/acked"
live_writer &
writer=$!
deadline=$((SECONDS + 30))
until (($(grep -c . "$WORK/acked") >= 20)); do
  ((SECONDS < deadline)) || die "the live writer got no 20 tools in 30 s"
  sleep 0.1
done
acked_before=$(grep -c . "$WORK/acked")
t0=$(date +%s%N)
id=$(enkisys backup --stage "$STAGE")
backup_ms=$((($(date +%s%N) - t0) / 1000000))
acked_after=$(grep -c . "$WORK/acked")
touch "$WORK/stop"
wait "$writer"
log "backup $id taken while writing: $acked_before tools acknowledged before it, $acked_after by its end"
valid=$(enkisys backups --stage "$STAGE" --json | jq -r --arg id "$id" 'select(.id == $id) | "\(.size) \(.files | length)"')
[[ -n $valid ]] || die "backup $id not listed"
read -r size files <<<"$valid"
((files == ${#DB_SERVICES[@]})) || die "backup $id holds $files databases, want ${#DB_SERVICES[@]}"

# --- disaster: the stage's data is gone (PostgreSQL's volume, or every SQLite volume) ---
color_compose down -t 5 >/dev/null 2>&1
if [[ $DATABASE == postgres ]]; then
  db_compose down -t 10 >/dev/null 2>&1
  docker volume rm "enkisys-$STAGE-postgres-data" >/dev/null
else
  for svc in "${DB_SERVICES[@]}"; do docker volume rm "enkisys-$STAGE-$svc-data" >/dev/null; done
fi

# --- restore ---
t0=$(date +%s%N)
enkisys restore --stage "$STAGE" --from "$id" --health-timeout 180 >"$WORK/restore.out" ||
  die "restore failed: $(cat "$WORK/restore.out")"
restore_ms=$((($(date +%s%N) - t0) / 1000000))
gateway_base
counts >"$WORK/after"
# The tables the live writer touched: bounded by what it had been told; the rest: equal.
diff -u <(grep -v '^tools\.tool' "$WORK/before") <(grep -v '^tools\.tool' "$WORK/after") >&2 ||
  die "rows differ after the restore"
live=$((($(awk '$1 == "tools.tools" {print $2}' "$WORK/after")) - $(awk '$1 == "tools.tools" {print $2}' "$WORK/before")))
((live >= acked_before && live <= acked_after)) ||
  die "restored $live tools written during the backup; want $acked_before..$acked_after"
if [[ $DATABASE == sqlite ]]; then
  for svc in "${DB_SERVICES[@]}"; do
    [[ $(sqlite_db "$svc" 'PRAGMA integrity_check') == ok ]] || die "$svc.db is damaged after the restore"
  done
fi
login
expect_status 200 "$(http GET "$BASE/api/tools/backup_tool_7")" "a restored tool"
http POST "$BASE/api/rag/search" '{"query":"how often is the basalt certificate rotated"}' >/dev/null
[[ $(body_json '.results[0].document_id') == "$doc" ]] || die "search after restore: $(head -c 300 "$WORK/body")"
enkisys releases --stage "$STAGE" --json | jq -e 'select(.action == "restore" and .result == "succeeded")' >/dev/null ||
  die "the restore is not in the ledger"
log "ok: $(grep -c . "$WORK/after") tables, $(awk '{n += $2} END {print n}' "$WORK/after") rows restored"
log "figures: backup $id ${size} bytes in ${backup_ms} ms; restore in ${restore_ms} ms (health included)"
log "figures: per database: $(enkisys backups --stage "$STAGE" --json | jq -r --arg id "$id" 'select(.id == $id) | [.files[] | "\(.service) \(.size)"] | join(", ")')"
