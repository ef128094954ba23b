#!/usr/bin/env bash
# Brings the stages of one host and its edge gateway up or down on the local Docker engine.
#   deploy/host.sh up   [-c COLOR] [-t SECONDS] [STAGE...]   default: color blue, all four
#   deploy/host.sh down [--purge] [STAGE...]                 every color of those stages
#   deploy/host.sh compose STAGE COLOR ARGS...               compose of one stage color
#   deploy/host.sh edge ARGS...                              compose of the edge project
#   deploy/host.sh restart STAGE SERVICE...                  restart services of every running color
#   deploy/host.sh database STAGE ARGS...                    compose of the stage's PostgreSQL
# `up` creates what the stages share across colors (ingress networks, data volumes, secrets),
# starts each stage as compose project enkisys-<stage>-<color>, waits until every container
# is healthy, then starts the edge (enkisys-edge) and waits until the gateway reports each
# stage healthy (GET /<stage>/health → 200) and is healthy itself. `down` stops the stages (all colors), then the
# edge when no stage is left, and removes the ingress networks that nothing uses any more.
# --purge also deletes the stages' data volumes (their databases and JWT keys!).
# A stage whose stage.env says DATABASE=postgres first gets its PostgreSQL (project
# enkisys-<stage>-postgres, deploy/postgres/compose.yaml: network enkisys-<stage>-db, volume
# enkisys-<stage>-postgres-data), healthy before any color starts; its colors add
# deploy/postgres/compose.services.yaml. `down` stops it after the last color.
# Images: enkisys/<service>:$ENKISYS_TAG (default dev). Conventions: deploy/README.md.
# TLS=1: the edge also serves HTTPS on EDGE_TLS_PORT (8443) with a certificate from a local CA
# made here when missing (deploy/edge/secrets/tls/, never committed; EDGE_TLS_NAMES adds names),
# and redirects plain HTTP there (deploy/edge/compose.tls.yaml); with
# deploy/edge/secrets/tls/client-ca.pem it also requires client certificates that file verifies
# (deploy/edge/compose.mtls.yaml, EDGE_TLS_CLIENT_AUTH=required|optional).
set -euo pipefail

DEPLOY=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$DEPLOY")
# shellcheck source=deploy/lib/stage.sh
. "$DEPLOY/lib/stage.sh"
ALL_STAGES=(prod staging dev1 dev2)
# Services of a stage that keep data in a volume enkisys-<stage>-<service>-data
# (services/services.list: data db, runs stage).
# shellcheck source=scripts/services.sh
source "$ROOT/scripts/services.sh"
mapfile -t DATA_SERVICES < <(services_names data=db runs=stage)
mapfile -t STAGE_SERVICES < <(services_names runs=stage)
export ENKISYS_TAG=${ENKISYS_TAG:-dev}
EDGE_PORT=${EDGE_PORT:-8080}
EDGE_TLS_PORT=${EDGE_TLS_PORT:-8443}
export EDGE_TLS_PORT
TLS=${TLS:-0}
TLS_DIR=$DEPLOY/edge/secrets/tls

log() { echo "host: $*" >&2; }
die() {
  log "$*"
  exit 1
}

# project_ids PROJECT: the containers of a compose project (what `compose ps -q` lists, without
# starting compose).
project_ids() { docker ps -aq --filter "label=com.docker.compose.project=$1"; }

# stage_database STAGE: "postgres" or "sqlite", DATABASE= of the stage's stage.env.
stage_database() {
  local db
  db=$(sed -n 's/^DATABASE=\([a-z]*\)[[:space:]]*$/\1/p' "$DEPLOY/$1/stage.env" | tail -n 1)
  case ${db:-sqlite} in
    postgres | sqlite) echo "${db:-sqlite}" ;;
    *) die "deploy/$1/stage.env: DATABASE must be postgres or sqlite, not '$db'" ;;
  esac
}

# stage_compose STAGE COLOR ARGS...: docker compose for one color of one stage.
stage_compose() {
  local stage=$1 color=$2 extra=()
  shift 2
  [[ $(stage_database "$stage") == postgres ]] && extra=(-f "$DEPLOY/postgres/compose.services.yaml")
  STAGE=$stage COLOR=$color "$ROOT/scripts/compose.sh" -p "enkisys-$stage-$color" \
    --project-directory "$ROOT" --env-file "$DEPLOY/$stage/stage.env" \
    -f "$ROOT/compose.yaml" -f "$DEPLOY/compose.stage.yaml" -f "$DEPLOY/compose.$stage.yaml" \
    "${extra[@]}" "$@"
}

# database_compose STAGE ARGS...: docker compose for the stage's PostgreSQL (both colors').
database_compose() {
  local stage=$1
  shift
  STAGE=$stage "$ROOT/scripts/compose.sh" -p "enkisys-$stage-postgres" \
    --project-directory "$ROOT" --env-file "$DEPLOY/$stage/stage.env" \
    -f "$DEPLOY/postgres/compose.yaml" "$@"
}

# ensure_database STAGE LIMIT [nowait]: the stage's PostgreSQL up and accepting connections
# (DATABASE=postgres only); with nowait, only started.
ensure_database() {
  local stage=$1 ids
  [[ $(stage_database "$stage") == postgres ]] || return 0
  docker network inspect "enkisys-$stage-db" >/dev/null 2>&1 ||
    docker network create --internal --label com.enkisys.stage="$stage" "enkisys-$stage-db" >/dev/null
  docker volume inspect "enkisys-$stage-postgres-data" >/dev/null 2>&1 ||
    docker volume create --label com.enkisys.stage="$stage" "enkisys-$stage-postgres-data" >/dev/null
  database_compose "$stage" up -d --no-build --remove-orphans
  [[ ${3:-} == nowait ]] && return 0
  mapfile -t ids < <(project_ids "enkisys-$stage-postgres")
  wait_database_ready "$2" "${ids[@]}"
}

# wait_database_ready SECONDS CONTAINER: until the server accepts TCP connections (the final
# server: while a fresh cluster is initialised, the entrypoint's own server listens on its Unix
# socket only). Sooner than the health status, whose first probe comes after its interval.
wait_database_ready() {
  local deadline=$((SECONDS + $1)) c=$2
  until docker exec "$c" pg_isready -q -h 127.0.0.1 -p 5432 -U probe -d probe -t 2 >/dev/null 2>&1; do
    if [[ $(docker inspect -f '{{.State.Status}}' "$c" 2>/dev/null) != running ]] || ((SECONDS >= deadline)); then
      docker logs --tail 30 "$c" >&2 2>&1 || true
      die "the PostgreSQL of $(docker inspect -f '{{index .Config.Labels "com.enkisys.stage"}}' "$c" 2>/dev/null) is not ready"
    fi
    sleep 0.3
  done
}

# start_stage STAGE COLOR SECONDS: its PostgreSQL when it has one and the color side by side
# (the services wait for their database by themselves, DB_START_TIMEOUT_S), then the database
# must accept connections.
start_stage() {
  local ids
  ensure_database "$1" "$3" nowait
  stage_compose "$1" "$2" up -d --no-build --remove-orphans
  [[ $(stage_database "$1") == postgres ]] || return 0
  mapfile -t ids < <(project_ids "enkisys-$1-postgres")
  wait_database_ready "$3" "${ids[@]}"
}

# monitor_targets: what the edge's monitoring polls, every stage service of every stage
# (services/services.list), "stage:service=http://service.stage-{color}:port,...".
monitor_targets() {
  local stage svc out=""
  for stage in "${ALL_STAGES[@]}"; do
    for svc in "${STAGE_SERVICES[@]}"; do
      out+="${out:+,}$stage:$svc=http://$svc.$stage-{color}:$(services_port "$svc")"
    done
  done
  echo "$out"
}

edge_compose() {
  # The edge mounts every stage's introspect_token (the bearer of its auth's revocation feed):
  # make sure the four exist, whichever stages are up (gen-secrets.sh keeps existing ones).
  "$DEPLOY/gen-secrets.sh" "${ALL_STAGES[@]}" >/dev/null
  local files=(-f "$DEPLOY/edge/compose.yaml")
  if [[ $TLS == 1 ]]; then
    ensure_tls
    files+=(-f "$DEPLOY/edge/compose.tls.yaml")
    [[ -s $TLS_DIR/client-ca.pem ]] && files+=(-f "$DEPLOY/edge/compose.mtls.yaml")
  fi
  MONITOR_TARGETS=${MONITOR_TARGETS:-$(monitor_targets)} \
    "$ROOT/scripts/compose.sh" -p enkisys-edge "${files[@]}" "$@"
}

# ensure_tls: a local CA and the edge's certificate (EC P-256; localhost, 127.0.0.1 and
# EDGE_TLS_NAMES, space-separated) in deploy/edge/secrets/tls/, unless they exist. The key is
# 0644 like the other secrets (bind-mounted into the gateway, uid 10001); the folder is 0700.
ensure_tls() {
  [[ -s $TLS_DIR/gateway.pem && -s $TLS_DIR/gateway.key ]] && return 0
  command -v openssl >/dev/null || die "TLS=1 needs openssl"
  mkdir -p "$TLS_DIR"
  chmod 0700 "$DEPLOY/edge/secrets" "$TLS_DIR"
  local san="DNS:localhost,IP:127.0.0.1" name
  for name in ${EDGE_TLS_NAMES:-}; do san+=",DNS:$name"; done
  (
    umask 077
    if [[ ! -s $TLS_DIR/ca.pem ]]; then
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
        -subj "/CN=enkisys local CA" -keyout "$TLS_DIR/ca.key" -out "$TLS_DIR/ca.pem" 2>/dev/null
    fi
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
      -addext "subjectAltName=$san" -keyout "$TLS_DIR/gateway.key.tmp" \
      -out "$TLS_DIR/gateway.csr" 2>/dev/null
    openssl x509 -req -days 397 -copy_extensions copyall -in "$TLS_DIR/gateway.csr" \
      -CA "$TLS_DIR/ca.pem" -CAkey "$TLS_DIR/ca.key" -CAcreateserial \
      -out "$TLS_DIR/gateway.pem.tmp" 2>/dev/null
  )
  rm -f "$TLS_DIR/gateway.csr"
  chmod 0644 "$TLS_DIR/gateway.key.tmp" "$TLS_DIR/gateway.pem.tmp" "$TLS_DIR/ca.pem"
  mv "$TLS_DIR/gateway.key.tmp" "$TLS_DIR/gateway.key"
  mv "$TLS_DIR/gateway.pem.tmp" "$TLS_DIR/gateway.pem"
  log "tls: certificate for $san signed by $TLS_DIR/ca.pem (trust it with curl --cacert)"
}

check_stage() {
  { valid_stage_name "$1" && [[ -f $DEPLOY/$1/stage.env && -f $DEPLOY/compose.$1.yaml ]]; } ||
    die "unknown stage '$1'"
}

# ensure_ingress STAGE: the stage's ingress network (the edge joins all four).
ensure_ingress() {
  docker network inspect "enkisys-$1-ingress" >/dev/null 2>&1 ||
    docker network create --internal --label com.enkisys.stage="$1" "enkisys-$1-ingress" >/dev/null
}

# ensure_volumes STAGE: the stage's data volumes, shared by both colors.
ensure_volumes() {
  local stage=$1 svc
  for svc in "${DATA_SERVICES[@]}"; do
    docker volume inspect "enkisys-$stage-$svc-data" >/dev/null 2>&1 ||
      docker volume create --label com.enkisys.stage="$stage" \
        "enkisys-$stage-$svc-data" >/dev/null
  done
}

# wait_gateway_healthy SECONDS STAGE...: polls GET /<stage>/health on the edge until 200 (over
# HTTPS with TLS=1, unless the edge requires client certificates: then over plain HTTP, where
# the health probes stay). The certificate is checked against the local CA when it is the local
# CA's; a public CA's certificate names the host, not localhost: then it is not checked here.
wait_gateway_healthy() {
  local limit=$1 deadline=$((SECONDS + $1)) stage code trust=(-k)
  shift
  if [[ -s $TLS_DIR/ca.pem ]] && openssl verify -CAfile "$TLS_DIR/ca.pem" "$TLS_DIR/gateway.pem" \
    >/dev/null 2>&1; then
    trust=(--cacert "$TLS_DIR/ca.pem")
  fi
  for stage in "$@"; do
    while :; do
      if [[ $TLS == 1 && ! -s $TLS_DIR/client-ca.pem ]]; then
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "${trust[@]}" \
          "https://localhost:$EDGE_TLS_PORT/$stage/health" || true)
      else
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 \
          "http://127.0.0.1:$EDGE_PORT/$stage/health" || true)
      fi
      [[ $code == 200 ]] && break
      ((SECONDS < deadline)) || die "stage $stage not healthy through the gateway after ${limit}s (HTTP $code)"
      sleep 0.2
    done
  done
}

cmd_up() {
  local color=blue limit=120 stage pids=() ids=() failed=0 i
  while (($# > 0)); do
    case $1 in
      -c) color=$2 && shift 2 ;;
      -t) limit=$2 && shift 2 ;;
      *) break ;;
    esac
  done
  [[ $color == blue || $color == green ]] || die "color must be blue or green, not '$color'"
  local stages=("$@")
  ((${#stages[@]} > 0)) || stages=("${ALL_STAGES[@]}")
  for stage in "${stages[@]}"; do check_stage "$stage"; done

  "$DEPLOY/gen-secrets.sh" "${stages[@]}"
  for stage in "${ALL_STAGES[@]}"; do ensure_ingress "$stage"; done
  for stage in "${stages[@]}"; do ensure_volumes "$stage"; done
  # The stages start side by side, each with its PostgreSQL if it has one; each logs to its
  # own file.
  local logs
  logs=$(mktemp -d /tmp/enkisys-host.XXXXXX)
  for stage in "${stages[@]}"; do
    start_stage "$stage" "$color" "$limit" >"$logs/$stage.log" 2>&1 &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then
      log "stage ${stages[$i]}: start failed:"
      cat "$logs/${stages[$i]}.log" >&2
      failed=1
    fi
  done
  rm -rf "$logs"
  ((failed == 0)) || exit 1
  for stage in "${stages[@]}"; do
    mapfile -t -O "${#ids[@]}" ids < <(project_ids "enkisys-$stage-$color")
  done
  "$ROOT/scripts/wait-healthy.sh" -t "$limit" "${ids[@]}"
  # The edge starts once the stages answer, so that it fetches their JWKS at once.
  edge_compose up -d --no-build --remove-orphans
  wait_gateway_healthy "$limit" "${stages[@]}"
  mapfile -t ids < <(project_ids enkisys-edge)
  "$ROOT/scripts/wait-healthy.sh" -t "$limit" "${ids[@]}"
  if [[ $TLS == 1 ]]; then
    log "up: ${stages[*]} ($color, tag $ENKISYS_TAG) behind https://localhost:$EDGE_TLS_PORT/<stage>/" \
      "(CA: $TLS_DIR/ca.pem; http://127.0.0.1:$EDGE_PORT redirects there)"
  else
    log "up: ${stages[*]} ($color, tag $ENKISYS_TAG) behind http://127.0.0.1:$EDGE_PORT/<stage>/"
  fi
}

# running_colors STAGE: the colors of STAGE that have containers (running or not).
running_colors() {
  local c
  for c in blue green; do
    [[ -n $(docker ps -aq --filter "label=com.docker.compose.project=enkisys-$1-$c") ]] && echo "$c"
  done
  return 0
}

# retry_down COMMAND...: a compose `down`, run again (up to 3 times, 2 s apart) when it fails:
# Docker may still hold a removed container's endpoint on a network for a moment ("has active
# endpoints"), and the second run removes what is left.
retry_down() {
  local attempt
  for attempt in 1 2 3; do
    "$@" && return 0
    ((attempt < 3)) && log "compose down failed (attempt $attempt); again in 2 s" && sleep 2
  done
  return 1
}

cmd_down() {
  local purge=0 stage color svc left
  if [[ ${1:-} == --purge ]]; then
    purge=1
    shift
  fi
  local stages=("$@")
  ((${#stages[@]} > 0)) || stages=("${ALL_STAGES[@]}")
  for stage in "${stages[@]}"; do
    check_stage "$stage"
    # `down` needs no secrets, but compose reads the secret paths: make sure they exist.
    "$DEPLOY/gen-secrets.sh" "$stage" >/dev/null
    for color in $(running_colors "$stage"); do
      retry_down stage_compose "$stage" "$color" down --remove-orphans -t 15
    done
    # compose.yaml declares the local stage's monitoring volume; a host stage never uses it, but
    # compose creates it for every color it starts (a deploy's old color keeps its own).
    for color in blue green; do
      docker volume rm -f "enkisys-$stage-${color}_monitoring-data" >/dev/null 2>&1 || true
    done
    if [[ -n $(docker ps -aq --filter "label=com.docker.compose.project=enkisys-$stage-postgres") ]]; then
      database_compose "$stage" down --remove-orphans -t 60
    fi
    docker network rm "enkisys-$stage-db" >/dev/null 2>&1 || true
  done
  # The edge goes when no stage is left; then every unused ingress network goes too.
  local nets=("${stages[@]}")
  left=$(docker ps -aq --filter label=com.enkisys.stage | wc -l)
  if ((left == 0)); then
    retry_down edge_compose down --remove-orphans -t 15
    nets=("${ALL_STAGES[@]}")
    # --purge also deletes the edge's data (the monitoring's history).
    if ((purge)); then docker volume rm -f enkisys-edge-monitoring-data >/dev/null; fi
  else
    log "edge kept: $left stage container(s) still exist"
  fi
  for stage in "${nets[@]}"; do
    if docker network inspect "enkisys-$stage-ingress" >/dev/null 2>&1 &&
      [[ $(docker network inspect -f '{{len .Containers}}' "enkisys-$stage-ingress") == 0 ]]; then
      docker network rm "enkisys-$stage-ingress" >/dev/null
    fi
  done
  for stage in "${stages[@]}"; do
    if ((purge)); then
      for svc in "${DATA_SERVICES[@]}"; do
        docker volume rm -f "enkisys-$stage-$svc-data" >/dev/null
      done
      docker volume rm -f "enkisys-$stage-postgres-data" >/dev/null
    fi
  done
}

# cmd_restart STAGE SERVICE...: restarts those services in each color of STAGE that runs (after
# a secret file changed: a service reads its secrets at start), then waits until they are healthy.
cmd_restart() {
  local stage=$1 color ids found=0
  shift
  for color in blue green; do
    [[ -n $(docker ps -q --filter "label=com.docker.compose.project=enkisys-$stage-$color") ]] || continue
    found=1
    stage_compose "$stage" "$color" restart "$@"
    ids=$(stage_compose "$stage" "$color" ps -q "$@")
    # shellcheck disable=SC2086 # one id per word
    "$ROOT/scripts/wait-healthy.sh" -t 120 $ids
    log "restarted $* of $stage ($color)"
  done
  ((found)) || die "stage $stage is not running"
}

case ${1:-} in
  up) shift && cmd_up "$@" ;;
  down) shift && cmd_down "$@" ;;
  compose)
    (($# >= 3)) || die "usage: $0 compose STAGE COLOR ARGS..."
    check_stage "$2"
    shift && stage_compose "$@"
    ;;
  edge) shift && edge_compose "$@" ;;
  restart)
    (($# >= 3)) || die "usage: $0 restart STAGE SERVICE..."
    check_stage "$2"
    cmd_restart "${@:2}"
    ;;
  database)
    (($# >= 2)) || die "usage: $0 database STAGE ARGS..."
    check_stage "$2"
    shift && database_compose "$@"
    ;;
  *)
    sed -n '2,8s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
    ;;
esac
