#!/usr/bin/env bash
# End-to-end tests of a whole host: the edge gateway and the four stages prod, staging, dev1,
# dev2 (color blue), brought up with deploy/host.sh exactly as `make up-host` does, and driven
# through the one public port (http://127.0.0.1:$EDGE_PORT, default 8080) only; isolation is
# checked from inside the stages' network namespaces with a throwaway debian:bookworm helper.
#   tests/e2e/stages.sh     (images enkisys/*:$ENKISYS_TAG must exist: `make e2e` builds them)
# Refuses to run when the host already has stages (their data would be lost); always tears
# everything down, data volumes included. Prints "ok NAME" / "FAIL NAME" / "skip NAME" per test,
# the figures, then "N passed, M failed, K skipped".
# shellcheck disable=SC2016 # docker inspect templates use $ literally
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$(mktemp -d /tmp/enkisys-stages.XXXXXX)
# shellcheck source=tests/e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh"
# shellcheck source=tests/e2e/monitoring.sh
source "$ROOT/tests/e2e/monitoring.sh"
# shellcheck source=scripts/services.sh
source "$ROOT/scripts/services.sh"

cd "$ROOT"
export ENKISYS_TAG=${ENKISYS_TAG:-$(git rev-parse --short HEAD 2>/dev/null || echo dev)}
export EDGE_PORT=${EDGE_PORT:-8080}
EDGE=http://127.0.0.1:$EDGE_PORT
STAGES=(prod staging dev1 dev2)
# From services/services.list: the services of every stage (routed by the edge), those on the
# edge, and every image.
mapfile -t SERVICES < <(services_names runs=stage)
mapfile -t EDGE_SERVICES < <(services_names runs=edge)
mapfile -t IMAGES < <(services_names)
# The stage services that keep data (services.list: data db): on PostgreSQL in the stages whose
# stage.env says DATABASE=postgres (prod, staging), on SQLite in the others.
mapfile -t DB_SERVICES < <(services_names runs=stage data=db)
PG_STAGES=()
for s in "${STAGES[@]}"; do
  grep -qx 'DATABASE=postgres' "deploy/$s/stage.env" && PG_STAGES+=("$s")
done
declare -A PORT=()
for svc in "${SERVICES[@]}"; do PORT[$svc]=$(services_port "$svc"); done
((${#SERVICES[@]} > 0 && ${#EDGE_SERVICES[@]} > 0)) || {
  echo "e2e: services/services.list names no stage or no edge services" >&2
  exit 1
}
HELPER_IMAGE=debian:bookworm
HOST=deploy/host.sh
# Targets of the issue: all four stages healthy within UP_TARGET_S of `up`; an idle stage
# within STAGE_RSS_TARGET_MB of resident memory.
UP_TARGET_S=${E2E_UP_TARGET_S:-20}
STAGE_RSS_TARGET_MB=100
SUITE_START=$SECONDS
FIGURES=$WORK/figures

EMAIL="e2e-$$@example.com"
PASSWORD="e2e $$ correct horse battery staple"
CREDENTIALS=$(jq -nc --arg e "$EMAIL" --arg p "$PASSWORD" '{email: $e, password: $p}')
TOOL=e2e_dev1_only
TOOL_JSON=$(jq -c --arg n "$TOOL" '.name = $n' <<<'{"description":"Only in dev1","kind":"http",
  "parameters":{"type":"object","properties":{"q":{"type":"string"}},"required":["q"]},
  "http":{"method":"GET","url":"http://search.example.invalid/q","headers":{},
          "timeout_ms":2000,"max_response_bytes":65536}}')

figure() { echo "$*" >>"$FIGURES"; }

# --- the host -------------------------------------------------------------------------------

# project_containers PROJECT: ids of all containers (running or not) of a compose project.
project_containers() { docker ps -aq --filter "label=com.docker.compose.project=$1"; }

# stage_container STAGE SERVICE: the id of that service's container in STAGE's blue project.
stage_container() {
  docker ps -q --filter "label=com.docker.compose.project=enkisys-$1-blue" \
    --filter "label=com.docker.compose.service=$2" | head -n 1
}

# pg_container STAGE: the stage's PostgreSQL (project enkisys-STAGE-postgres).
pg_container() {
  docker ps -q --filter "label=com.docker.compose.project=enkisys-$1-postgres" | head -n 1
}

# edge_container: the edge's gateway (the edge project also runs the monitoring).
edge_container() {
  docker ps -q --filter label=com.docker.compose.project=enkisys-edge \
    --filter label=com.docker.compose.service=gateway | head -n 1
}

# our_containers: every container of the host's projects (edge and any stage color).
our_containers() {
  docker ps -aq --filter label=com.docker.compose.project=enkisys-edge
  docker ps -aq --filter label=com.enkisys.stage
}

# ips CONTAINER: its addresses, one per network.
ips() { inspect '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$1"; }

# ip_on CONTAINER NETWORK
ip_on() { inspect "{{with index .NetworkSettings.Networks \"$2\"}}{{.IPAddress}}{{end}}" "$1"; }

# in_netns CONTAINER SCRIPT [VAR=VALUE...]: runs bash SCRIPT in a throwaway helper that shares
# CONTAINER's network namespace (its interfaces, routes and DNS; the service images have no
# shell). The helper has bash (/dev/tcp) and getent.
in_netns() {
  local c=$1 script=$2 envs=() kv
  shift 2
  for kv in "$@"; do envs+=(-e "$kv"); done
  timeout 60 docker run --rm --pull never --label com.enkisys.e2e=helper --network "container:$c" \
    "${envs[@]}" "$HELPER_IMAGE" bash -c "$script"
}

# Helper functions available to in_netns scripts: can_connect IP PORT, resolves NAME.
NETLIB='can_connect() { timeout 3 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }
resolves() { timeout 4 getent hosts "$1" >/dev/null 2>&1; }'

# api METHOD PATH [JSON [TOKEN]]: request to the edge; prints the status, body in $WORK/body.
api() { http "$1" "$EDGE$2" "${3:-}" "${4:--}"; }

# stage_health_code STAGE
stage_health_code() { curl -s -o "$WORK/health" -w '%{http_code}' --max-time 5 "$EDGE/$1/health" || true; }

# wait_stage_health STAGE SECONDS: polls /STAGE/health through the gateway until 200.
wait_stage_health() {
  local deadline=$((SECONDS + $2)) code
  while :; do
    code=$(stage_health_code "$1")
    [[ $code == 200 ]] && return 0
    ((SECONDS < deadline)) || fail "/$1/health not 200 within $2s (last HTTP $code: $(head -c 300 "$WORK/health"))"
    sleep 0.5
  done
}

# login_token STAGE: logs the e2e user in on STAGE and prints its access token.
login_token() {
  local code
  code=$(api POST "/$1/api/auth/login" "$CREDENTIALS")
  expect_status 200 "$code" "login on $1"
  body_json .access_token
}

# --- setup and teardown ---------------------------------------------------------------------

MOUNTED_VOLUMES=$WORK/volumes

teardown() {
  local rc=$?
  "$ROOT/$HOST" down --purge >"$WORK/down.log" 2>&1 || cat "$WORK/down.log" >&2
  docker ps -aq --filter label=com.enkisys.e2e=helper | xargs -r docker rm -f >/dev/null 2>&1 || true
  rm -rf "$WORK"
  exit "$rc"
}

preflight() {
  local svc s
  for svc in "${IMAGES[@]}"; do
    docker image inspect "enkisys/$svc:$ENKISYS_TAG" >/dev/null 2>&1 || {
      echo "e2e: image enkisys/$svc:$ENKISYS_TAG missing (run: make images)" >&2
      exit 1
    }
  done
  docker image inspect "$HELPER_IMAGE" >/dev/null 2>&1 || {
    echo "e2e: helper image $HELPER_IMAGE missing (run: make base-image)" >&2
    exit 1
  }
  # This suite deletes the stages' data when it ends: never run it over real stages.
  if [[ -n $(our_containers) ]]; then
    echo "e2e: the host already runs stages or an edge (make down-host first); not touching them" >&2
    exit 1
  fi
  for s in "${STAGES[@]}"; do
    for svc in "${SERVICES[@]}"; do
      if docker volume inspect "enkisys-$s-$svc-data" >/dev/null 2>&1; then
        echo "e2e: volume enkisys-$s-$svc-data exists (stage data); not touching it" >&2
        exit 1
      fi
    done
  done
}

# --- tests ----------------------------------------------------------------------------------

t_compose_config() {
  local s c n=0
  "$ROOT/scripts/compose.sh" -f compose.yaml config -q || fail "compose.yaml alone is invalid"
  n=$((n + 1))
  for s in "${STAGES[@]}"; do
    for c in blue green; do
      "$ROOT/$HOST" compose "$s" "$c" config -q || fail "stage $s color $c is invalid"
      n=$((n + 1))
    done
  done
  "$ROOT/$HOST" edge config -q || fail "deploy/edge/compose.yaml is invalid"
  n=$((n + 1))
  # The check can fail: host mode without STAGE is refused.
  if env -u STAGE -u COLOR "$ROOT/scripts/compose.sh" --env-file /dev/null -f compose.yaml \
    -f deploy/compose.stage.yaml config -q >/dev/null 2>&1; then
    fail "host mode without STAGE/COLOR was accepted"
  fi
  info "$n combinations valid"
}

t_up() {
  local t0 t1 secs
  t0=$(date +%s.%N)
  "$ROOT/$HOST" up -t 90 >"$WORK/up.log" 2>&1 || {
    cat "$WORK/up.log"
    fail "deploy/host.sh up failed"
  }
  t1=$(date +%s.%N)
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  figure "up (images built) → edge + 4 stages healthy through the gateway: ${secs} s (target ≤ ${UP_TARGET_S} s)"
  # Remember every volume our containers mount, to check that teardown leaves none behind.
  our_containers | xargs -r docker inspect -f '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}}{{"\n"}}{{end}}{{end}}' |
    sort -u >"$MOUNTED_VOLUMES"
  awk -v s="$secs" -v t="$UP_TARGET_S" 'BEGIN { exit !(s <= t) }' ||
    fail "up took ${secs}s, target ${UP_TARGET_S}s"
}

t_stage_health() {
  local s svc code
  code=$(api GET /health)
  expect_status 200 "$code" "gateway GET /health"
  for s in "${STAGES[@]}"; do
    code=$(api GET "/$s/health")
    expect_status 200 "$code" "GET /$s/health"
    [[ $(body_json .status) == ok ]] || fail "/$s/health status $(body_json .status)"
    for svc in "${SERVICES[@]}"; do
      [[ $(body_json ".services.$svc.status") == ok ]] ||
        fail "/$s/health does not list $svc as ok: $(cat "$WORK/body")"
      [[ $(body_json ".services.$svc.upstream") == "http://$svc.$s-blue:${PORT[$svc]}" ]] ||
        fail "/$s/health: $svc upstream is $(body_json ".services.$svc.upstream")"
    done
    [[ $(body_json '.services | length') == "${#SERVICES[@]}" ]] ||
      fail "/$s/health lists $(body_json '.services | keys | join(",")'), want ${SERVICES[*]}"
  done
  code=$(api GET /nosuchstage/health)
  expect_status 404 "$code" "unknown stage"
}

t_dev1_signup_tool() {
  local code token
  code=$(api POST /dev1/api/auth/signup "$CREDENTIALS")
  expect_status 201 "$code" "signup in dev1"
  token=$(login_token dev1)
  [[ $token == *.*.* ]] || fail "login in dev1 gave no JWT: $(cat "$WORK/body")"
  echo "$token" >"$WORK/dev1.token"
  code=$(api GET /dev1/api/auth/me "" "$token")
  expect_status 200 "$code" "GET /dev1/api/auth/me"
  [[ $(body_json .email) == "$EMAIL" ]] || fail "me is $(body_json .email)"
  code=$(api GET /dev1/api/auth/.well-known/jwks.json)
  expect_status 200 "$code" "dev1 JWKS"

  code=$(api POST /dev1/api/tools "$TOOL_JSON" "$token")
  expect_status 201 "$code" "create $TOOL in dev1"
  code=$(api GET "/dev1/api/tools/$TOOL" "" "$token")
  expect_status 200 "$code" "GET $TOOL in dev1"
  [[ $(body_json .name) == "$TOOL" ]] || fail "GET returned $(cat "$WORK/body")"
  code=$(api POST /dev1/api/tools/calculator/invoke '{"arguments":{"expression":"6*7"}}' "$token")
  expect_status 200 "$code" "invoke calculator in dev1"
  [[ $(body_json '.result == 42') == true ]] || fail "calculator 6*7 returned $(cat "$WORK/body")"
  # The new tool is invoked too: its argument check runs, and the call out is refused (no
  # route out of the stage), as a JSON error.
  code=$(api POST "/dev1/api/tools/$TOOL/invoke" '{"arguments":{}}' "$token")
  [[ $code == 400 || $code == 422 ]] || fail "invoke $TOOL without q: HTTP $code, want 400/422"
  code=$(api POST "/dev1/api/tools/$TOOL/invoke" '{"arguments":{"q":"x"}}' "$token")
  info "invoke $TOOL: HTTP $code $(head -c 200 "$WORK/body")"
  [[ ($code == 4* || $code == 5*) && -n $(body_json '.error.code // empty') ]] ||
    fail "invoke $TOOL: HTTP $code, want a JSON error (no egress): $(head -c 300 "$WORK/body")"
}

# Each stage's auth signs with keys of its own, so a token of one stage fails every other
# stage's verification: auth's own check (/api/auth/me) here, the gateway's in the next test.
t_own_keys_per_stage() {
  local token code s kids all=""
  [[ -s $WORK/dev1.token ]] || fail "no dev1 token (previous test failed)"
  token=$(cat "$WORK/dev1.token")
  for s in "${STAGES[@]}"; do
    code=$(api GET "/$s/api/auth/.well-known/jwks.json")
    expect_status 200 "$code" "JWKS of $s"
    kids=$(body_json '[.keys[].kid] | sort | join(",")')
    [[ -n $kids ]] || fail "$s publishes no key"
    [[ $all != *"$kids"* ]] || fail "$s publishes keys of another stage: $kids"
    all+="$s=$kids "
  done
  info "kids: $all"
  code=$(api GET /dev1/api/auth/me "" "$token")
  expect_status 200 "$code" "the dev1 token at dev1's auth"
  for s in prod staging dev2; do
    code=$(api GET "/$s/api/auth/me" "" "$token")
    expect_status 401 "$code" "the dev1 token at $s's auth"
  done
}

t_token_refused_elsewhere() {
  local token code s
  [[ -s $WORK/dev1.token ]] || fail "no dev1 token (previous test failed)"
  token=$(cat "$WORK/dev1.token")
  code=$(api GET /dev1/api/tools "" "$token")
  expect_status 200 "$code" "the token in its own stage dev1"
  for s in prod staging dev2; do
    code=$(api GET "/$s/api/tools" "" "$token")
    expect_status 401 "$code" "dev1 token on /$s/api/tools"
  done
}

t_users_absent_in_staging() {
  local code
  code=$(api POST /staging/api/auth/login "$CREDENTIALS")
  expect_status 401 "$code" "dev1 user logging in to staging"
  # The same email is free in staging: its database is another one.
  code=$(api POST /staging/api/auth/signup "$CREDENTIALS")
  expect_status 201 "$code" "same email signing up in staging"
  code=$(api POST /staging/api/auth/login "$CREDENTIALS")
  expect_status 200 "$code" "login in staging"
  body_json .access_token >"$WORK/staging.token"
}

t_tools_absent_in_staging() {
  local token code
  [[ -s $WORK/staging.token ]] || fail "no staging token (previous test failed)"
  token=$(cat "$WORK/staging.token")
  code=$(api GET /staging/api/tools "" "$token")
  expect_status 200 "$code" "list tools in staging"
  ! grep -q "\"$TOOL\"" "$WORK/body" || fail "$TOOL (made in dev1) is listed in staging"
  code=$(api GET "/staging/api/tools/$TOOL" "" "$token")
  expect_status 404 "$code" "GET $TOOL in staging"
}

# RAG per stage: a PDF uploaded in dev1 (multipart through the edge, JWT) is parsed, indexed
# and found with its page; staging, with its own user, neither sees the collection nor finds
# the passage.
t_rag_per_stage() {
  local token code cid doc status deadline
  [[ -s $WORK/dev1.token && -s $WORK/staging.token ]] || fail "no tokens (previous tests failed)"
  token=$(login_token dev1)
  code=$(api POST /dev1/api/rag/collections '{"name":"e2e-handbook"}' "$token")
  expect_status 201 "$code" "create a collection in dev1"
  cid=$(body_json .id)
  "$ROOT/tests/e2e/sample_pdf.py" "$WORK/handbook.pdf" "Observatory handbook, first page." \
    "The telescope dome opens at dusk when the humidity is below sixty percent."
  code=$(curl -sS -o "$WORK/body" -w '%{http_code}' --max-time 30 -H "Authorization: Bearer $token" \
    -F "file=@$WORK/handbook.pdf;type=application/pdf" "$EDGE/dev1/api/rag/collections/$cid/documents" || true)
  expect_status 202 "$code" "upload a PDF in dev1"
  doc=$(body_json .id)
  deadline=$((SECONDS + 60))
  while :; do
    code=$(api GET "/dev1/api/rag/collections/$cid/documents/$doc" "" "$token")
    status=$(body_json .status)
    [[ $status == ready ]] && break
    [[ $status == queued || $status == processing ]] || fail "document became $status: $(cat "$WORK/body")"
    ((SECONDS < deadline)) || fail "document not ready within 60 s (HTTP $code, $status)"
    sleep 0.5
  done
  code=$(api POST /dev1/api/rag/search '{"query":"when does the dome open"}' "$token")
  expect_status 200 "$code" "search in dev1"
  [[ $(body_json '.results[0].document_id') == "$doc" ]] || fail "dev1 search: $(head -c 400 "$WORK/body")"
  [[ $(body_json '.results[0].location.page') == 2 ]] || fail "want page 2: $(head -c 400 "$WORK/body")"
  code=$(api POST /dev1/api/rag/search '{"query":"dome"}' -)
  expect_status 401 "$code" "search without a token"
  token=$(cat "$WORK/staging.token")
  code=$(api GET "/staging/api/rag/collections/$cid" "" "$token")
  expect_status 404 "$code" "the dev1 collection in staging"
  code=$(api POST /staging/api/rag/search '{"query":"when does the dome open"}' "$token")
  expect_status 200 "$code" "search in staging"
  [[ $(body_json '.results | length') == 0 ]] || fail "staging finds dev1's passage: $(head -c 300 "$WORK/body")"
}

# A session ended at auth (logout) is refused by the edge gateway within its stated bound
# (revocation_poll_s 5 + 2 s fetch timeout): the edge reads dev1's revocation feed with dev1's
# own introspection secret.
t_revoked_session_refused() {
  local token code deadline start
  token=$(login_token dev1)
  code=$(api GET /dev1/api/tools "" "$token")
  expect_status 200 "$code" "a fresh dev1 session before logout"
  code=$(api POST /dev1/api/auth/logout "" "$token")
  expect_status 204 "$code" "logout"
  start=$SECONDS
  deadline=$((SECONDS + 15))
  while :; do
    code=$(api GET /dev1/api/tools "" "$token")
    [[ $code == 401 ]] && break
    ((SECONDS < deadline)) || fail "the logged-out token still gets HTTP $code after 15 s"
    sleep 0.5
  done
  grep -q token_revoked "$WORK/body" || fail "401 without token_revoked: $(head -c 200 "$WORK/body")"
  figure "revoked session refused at the edge after: $((SECONDS - start)) s (bound 7 s)"
}

t_stage_isolation() {
  local c s svc other targets="" names="" own_ip
  for s in prod staging; do
    for svc in "${SERVICES[@]}"; do
      other=$(stage_container "$s" "$svc")
      [[ -n $other ]] || fail "no $s $svc container"
      for ip in $(ips "$other"); do targets+="$ip:${PORT[$svc]} "; done
      names+="$svc.$s-blue $(inspect '{{.Name}}' "$other" | tr -d /) "
    done
    other=$(pg_container "$s")
    if [[ -n $other ]]; then
      for ip in $(ips "$other"); do targets+="$ip:5432 "; done
      names+="$(inspect '{{.Name}}' "$other" | tr -d /) postgres "
    fi
  done
  for svc in "${SERVICES[@]}"; do
    c=$(stage_container dev1 "$svc")
    own_ip=$(ip_on "$(stage_container dev1 tools)" enkisys-dev1-ingress)
    info "from dev1 $svc: must not resolve [$names], must not connect to [$targets]"
    in_netns "$c" "$NETLIB"'
      set -u; bad=0
      # Controls: the own stage resolves and connects, so a failure below means isolation.
      resolves tools.dev1-blue || { echo "control: tools.dev1-blue does not resolve"; bad=1; }
      resolves auth || { echo "control: auth does not resolve"; bad=1; }
      can_connect "$OWN" 5001 || { echo "control: cannot connect to dev1 tools $OWN:5001"; bad=1; }
      # All probes at once: each unanswered one costs its whole timeout.
      for n in $NAMES; do
        ( if resolves "$n"; then echo "resolves $n: $(getent hosts "$n")"; exit 1; fi ) &
      done
      for t in $TARGETS; do
        ( if can_connect "${t%:*}" "${t#*:}"; then echo "connects to $t"; exit 1; fi ) &
      done
      for j in $(jobs -p); do wait "$j" || bad=1; done
      exit $bad' "NAMES=$names" "TARGETS=$targets" "OWN=$own_ip" ||
      fail "dev1 $svc container reaches another stage (see above)"
  done
}

# t_databases: prod and staging keep every service's data in their own PostgreSQL (a role and a
# database per service, over the stage's internal db network, password from a secret file);
# dev1 and dev2 in SQLite; the row a signup wrote is in staging's PostgreSQL.
t_databases() {
  local s svc c pg url nets want n
  ((${#PG_STAGES[@]} > 0)) || fail "no stage.env says DATABASE=postgres"
  for s in "${STAGES[@]}"; do
    pg=$(pg_container "$s")
    if [[ " ${PG_STAGES[*]} " == *" $s "* ]]; then
      [[ -n $pg ]] || fail "$s: no PostgreSQL container (project enkisys-$s-postgres)"
      [[ $(inspect '{{.State.Health.Status}}' "$pg") == healthy ]] || fail "$s: PostgreSQL not healthy"
      nets=$(inspect '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "$pg")
      [[ $nets == "enkisys-$s-db " ]] || fail "$s: PostgreSQL on networks [$nets], want only enkisys-$s-db"
      [[ $(docker network inspect -f '{{.Internal}}' "enkisys-$s-db") == true ]] || fail "enkisys-$s-db is not internal"
      [[ $(inspect '{{json .HostConfig.PortBindings}}' "$pg") =~ ^(null|\{\})$ ]] || fail "$s: PostgreSQL publishes a port"
    else
      [[ -z $pg ]] || fail "$s runs a PostgreSQL although its stage.env does not ask for one"
    fi
    for svc in "${DB_SERVICES[@]}"; do
      c=$(stage_container "$s" "$svc")
      url=$(inspect '{{range .Config.Env}}{{println .}}{{end}}' "$c" | sed -n 's/^DATABASE_URL=//p')
      if [[ -n $pg ]]; then
        want="postgres://$svc@postgres:5432/$svc"
        [[ $url == "$want" ]] || fail "$s $svc: DATABASE_URL=$url, want $want (no password in it)"
        inspect '{{range .Config.Env}}{{println .}}{{end}}' "$c" | grep -qx 'DATABASE_PASSWORD_FILE=/run/secrets/db_password' ||
          fail "$s $svc: no DATABASE_PASSWORD_FILE"
        [[ -n $(ip_on "$c" "enkisys-$s-db") ]] || fail "$s $svc is not on enkisys-$s-db"
      else
        [[ $url == sqlite://* ]] || fail "$s $svc: DATABASE_URL=$url, want SQLite"
      fi
    done
  done
  # staging's auth wrote the user of t_users_absent_in_staging into its PostgreSQL database.
  n=$(docker exec "$(pg_container staging)" psql -qtA -U postgres -d auth \
    -c "SELECT count(*) FROM users WHERE email = '$EMAIL'") || fail "cannot query staging's auth database"
  [[ $n == 1 ]] || fail "staging's PostgreSQL holds $n users $EMAIL, want 1"
  info "PostgreSQL in ${PG_STAGES[*]}; the staging signup is a row of its auth database"
}

# egress_target: host:port outside this host that a container on a normal (non-internal)
# network reaches: E2E_EGRESS_TARGET, else the host's first non-loopback DNS server, TCP 53.
egress_target() {
  if [[ -n ${E2E_EGRESS_TARGET:-} ]]; then
    echo "$E2E_EGRESS_TARGET"
    return
  fi
  awk '$1 == "nameserver" && $2 !~ /^127\./ && $2 ~ /^[0-9.]+$/ { print $2 ":53"; exit }' /etc/resolv.conf
}

t_no_egress() {
  local target s svc c bad=""
  target=$(egress_target)
  [[ -n $target ]] || fail "no outside target known (set E2E_EGRESS_TARGET=ip:port)"
  # Control: from a container on Docker's default bridge the target answers.
  timeout 60 docker run --rm --pull never --label com.enkisys.e2e=helper --network bridge \
    "$HELPER_IMAGE" bash -c "$NETLIB"$'\n'"can_connect ${target%:*} ${target#*:}" ||
    fail "control: $target is not reachable from the default bridge either (set E2E_EGRESS_TARGET)"
  # One helper per backend container, side by side (an unanswered connect costs its timeout).
  # Only the services that must call out (EGRESS_SERVICES: agent, router, tools) join the
  # stage's egress network and reach the target; every other one must not.
  local pids=() names=() i probe nets allowed
  for s in "${STAGES[@]}"; do
    for svc in "${SERVICES[@]}"; do
      c=$(stage_container "$s" "$svc")
      probe="! can_connect ${target%:*} ${target#*:}"
      allowed="ingress|blue_backend"
      # A stage on PostgreSQL: its data services also join its internal database network.
      [[ " ${PG_STAGES[*]} " == *" $s "* && " ${DB_SERVICES[*]} " == *" $svc "* ]] && allowed+="|db"
      if [[ $EGRESS_SERVICES == *" $svc "* ]]; then
        probe="can_connect ${target%:*} ${target#*:}"
        allowed+="|blue_egress"
      fi
      nets="^(enkisys-$s-($allowed) ?)+$"
      # Also a control: the helper reaches the service on its own loopback.
      in_netns "$c" "$NETLIB"$'\n'"can_connect 127.0.0.1 ${PORT[$svc]} || exit 2; $probe" &
      pids+=($!)
      names+=("$s/$svc")
      [[ $(inspect '{{range $n, $v := .NetworkSettings.Networks}}{{$n}} {{end}}' "$c") =~ $nets ]] ||
        bad+="$s/$svc(networks: $(inspect '{{range $n, $v := .NetworkSettings.Networks}}{{$n}} {{end}}' "$c")) "
    done
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || bad+="${names[$i]} "
  done
  info "outside target $target"
  [[ -z $bad ]] || fail "containers with the wrong way out (${EGRESS_SERVICES# } must reach it, no other) or on other networks: $bad"
}

t_one_public_port() {
  local c line public="" all
  all=$(docker ps --format '{{.Names}}: {{.Ports}}')
  info "docker ps: $all"
  for c in $(our_containers); do
    while read -r line; do
      [[ -z $line ]] && continue
      case ${line%% *} in
        127.0.0.1 | ::1) ;;
        *) public+="$(inspect '{{.Name}}' "$c")=${line#* } " ;;
      esac
    done < <(inspect '{{range $p, $b := .NetworkSettings.Ports}}{{range $b}}{{.HostIp}} {{.HostPort}}{{"\n"}}{{end}}{{end}}' "$c")
  done
  public=$(tr ' ' '\n' <<<"$public" | sed -E 's/^.*=//' | sort -u | tr '\n' ' ')
  [[ $public == " $EDGE_PORT " || $public == "$EDGE_PORT " ]] ||
    fail "host ports published beyond loopback: '$public', want only $EDGE_PORT"
}

# t_tls: `make up-host TLS=1` on the running host: the edge is recreated with HTTPS on
# EDGE_TLS_PORT (certificate from the local CA host.sh makes), plain HTTP answers 308 to HTTPS
# except the health probes, HSTS on HTTPS answers, TLS 1.1 refused; then back to plain HTTP.
t_tls() {
  local tls_port=${E2E_TLS_PORT:-8443} ca="$ROOT/deploy/edge/secrets/tls/ca.pem" code hdrs
  TLS=1 EDGE_TLS_PORT=$tls_port "$ROOT/$HOST" up -t 90 >"$WORK/up-tls.log" 2>&1 || {
    cat "$WORK/up-tls.log"
    fail "TLS=1 host.sh up failed"
  }
  [[ -s $ca ]] || fail "no local CA at deploy/edge/secrets/tls/ca.pem"
  code=$(curl -s -o "$WORK/body" -D "$WORK/hdrs" -w '%{http_code}' --max-time 5 --cacert "$ca" \
    "https://localhost:$tls_port/prod/health")
  expect_status 200 "$code" "GET https://localhost:$tls_port/prod/health"
  grep -qi '^strict-transport-security: max-age=' "$WORK/hdrs" || fail "no HSTS header on HTTPS"
  code=$(curl -s -o "$WORK/body" -w '%{http_code}' --max-time 5 --cacert "$ca" \
    -X POST -H 'Content-Type: application/json' --data "$CREDENTIALS" "https://localhost:$tls_port/dev1/api/auth/login")
  expect_status 200 "$code" "login over HTTPS"
  # Without the CA the certificate is not trusted (it is the local CA's, not a default one).
  curl -s -o /dev/null --max-time 5 "https://localhost:$tls_port/prod/health" &&
    fail "the certificate was trusted without the local CA"
  hdrs=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' --max-time 5 "$EDGE/dev1/api/tools")
  [[ $hdrs == "308 https://127.0.0.1:$tls_port/dev1/api/tools" ]] || fail "plain HTTP API: '$hdrs', want 308 to HTTPS"
  code=$(api GET /prod/health)
  expect_status 200 "$code" "plain /prod/health (probes stay plain)"
  if openssl s_client -help 2>&1 | grep -q -- '-tls1_1'; then
    openssl s_client -connect "127.0.0.1:$tls_port" -tls1_1 </dev/null >"$WORK/tls11" 2>&1 &&
      fail "TLS 1.1 handshake succeeded"
  fi
  info "HTTPS on $tls_port: health, login; HTTP → 308; HSTS; TLS 1.1 refused"
  t_tls_client_certificates "$tls_port" "$ca"
  "$ROOT/$HOST" up -t 90 >"$WORK/up-plain.log" 2>&1 || {
    cat "$WORK/up-plain.log"
    fail "host.sh up (back to plain HTTP) failed"
  }
  code=$(api GET /dev1/api/auth/.well-known/jwks.json)
  expect_status 200 "$code" "plain HTTP API after TLS was turned off"
}

# t_tls_client_certificates PORT CA: with deploy/edge/secrets/tls/client-ca.pem (here a
# self-signed client certificate, as AWS API Gateway's is), `TLS=1 host.sh up` makes the edge
# require a client certificate that file verifies: without one, or with another self-signed
# one, the handshake is refused; with it, the API answers; the health probes stay plain.
t_tls_client_certificates() {
  local tls_port=$1 ca=$2 tls="$ROOT/deploy/edge/secrets/tls" code ok=1 why=""
  local cert=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -x509)
  openssl req "${cert[@]}" -subj "/CN=e2e api gateway" -keyout "$WORK/client.key" \
    -out "$WORK/client.pem" 2>/dev/null || fail "openssl: no client certificate"
  openssl req "${cert[@]}" -subj "/CN=e2e stranger" -keyout "$WORK/stranger.key" \
    -out "$WORK/stranger.pem" 2>/dev/null || fail "openssl: no second certificate"
  cp "$WORK/client.pem" "$tls/client-ca.pem"
  if TLS=1 EDGE_TLS_PORT=$tls_port "$ROOT/$HOST" up -t 90 >"$WORK/up-mtls.log" 2>&1; then
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$ca" \
      --cert "$WORK/client.pem" --key "$WORK/client.key" "https://localhost:$tls_port/dev1/api/auth/.well-known/jwks.json" || true)
    [[ $code == 200 ]] || { ok=0 why+="with the client certificate: HTTP $code; "; }
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$ca" \
      "https://localhost:$tls_port/dev1/api/auth/.well-known/jwks.json" || true)
    [[ $code == 000 ]] || { ok=0 why+="without a client certificate: HTTP $code; "; }
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$ca" \
      --cert "$WORK/stranger.pem" --key "$WORK/stranger.key" "https://localhost:$tls_port/dev1/api/auth/.well-known/jwks.json" || true)
    [[ $code == 000 ]] || { ok=0 why+="with an unknown certificate: HTTP $code; "; }
    code=$(api GET /dev1/health)
    [[ $code == 200 ]] || { ok=0 why+="plain /dev1/health: HTTP $code; "; }
  else
    cat "$WORK/up-mtls.log"
    ok=0 why="TLS=1 host.sh up with client-ca.pem failed"
  fi
  rm -f "$tls/client-ca.pem"
  ((ok)) || fail "mTLS at the edge: $why"
  info "mTLS: the client certificate answers 200; none or an unknown one: handshake refused"
}

t_admin_api() {
  local gw token code host_ip edge_ip ingress_ip s
  gw=$(edge_container)
  token=$(cat deploy/edge/secrets/gateway_admin_token)
  code=$(http GET http://127.0.0.1:9901/admin/stages "" "$token")
  expect_status 200 "$code" "admin from host loopback"
  # The four stages, and `monitoring` (/monitoring/: the status page, tokens of prod).
  [[ $(jq -r '[.stages[].name] | sort | join(" ")' "$WORK/body") == "$(printf '%s\n' "${STAGES[@]}" monitoring | LC_ALL=C sort | paste -sd ' ')" ]] ||
    fail "admin stages are not exactly ${STAGES[*]} monitoring: $(head -c 300 "$WORK/body")"
  jq -e '.stages[] | select(.name == "monitoring") | .jwt_stage == "prod"' "$WORK/body" >/dev/null ||
    fail "stage monitoring does not take prod's tokens: $(head -c 300 "$WORK/body")"
  [[ $(jq -r '[.stages[] | select(.variables.color == "blue")] | length' "$WORK/body") == "${#STAGES[@]}" ]] ||
    fail "not every stage has the variable color=blue: $(head -c 300 "$WORK/body")"
  # Each stage's token keys come from that stage's own auth (the earlier tests used them all).
  for s in "${STAGES[@]}"; do
    jq -e --arg s "$s" '.stages[] | select(.name == $s) | .jwt
      | (.jwks_url | contains("auth." + $s + "-blue:")) and .keys >= 1 and .last_error == ""' \
      "$WORK/body" >/dev/null ||
      fail "stage $s: jwt key source $(jq -c --arg s "$s" '.stages[] | select(.name == $s) | .jwt' "$WORK/body")"
  done
  code=$(http GET http://127.0.0.1:9901/admin/stages "" -)
  [[ $code == 401 || $code == 403 ]] || fail "admin without token: HTTP $code"
  # The blue/green switch of the deploy CLI: dev2 to green (not running: unhealthy), back.
  code=$(http PUT http://127.0.0.1:9901/admin/stages/dev2/variables '{"variables":{"color":"green"}}' "$token")
  expect_status 200 "$code" "switch dev2 to green"
  code=$(stage_health_code dev2)
  [[ $code != 200 ]] || fail "dev2 healthy while pointing at an absent green"
  code=$(http PUT http://127.0.0.1:9901/admin/stages/dev2/variables '{"variables":{"color":"blue"}}' "$token")
  expect_status 200 "$code" "switch dev2 back to blue"
  wait_stage_health dev2 30
  # Not on the host's other addresses.
  host_ip=$(ip -4 -o addr show scope global | awk '{ sub("/.*", "", $4); print $4; exit }')
  if [[ -n $host_ip ]]; then
    code=$(http GET "http://$host_ip:9901/admin/stages" "" "$token")
    [[ $code == 000 ]] || fail "admin answers on $host_ip:9901 (HTTP $code)"
  fi
  # Never from a stage network: the gateway's own address there, its edge address, the host.
  edge_ip=$(ip_on "$gw" enkisys-edge_public)
  ingress_ip=$(ip_on "$gw" enkisys-dev1-ingress)
  in_netns "$(stage_container dev1 tools)" "$NETLIB"'
    bad=0
    can_connect "$INGRESS" 8080 || { echo "control: gateway $INGRESS:8080 unreachable"; bad=1; }
    for t in "$INGRESS" "$EDGE_IP" "$HOSTGW" "$HOSTIP"; do
      [[ -n $t ]] || continue
      if can_connect "$t" 9901; then echo "admin port reachable at $t:9901"; bad=1; fi
    done
    exit $bad' "INGRESS=$ingress_ip" "EDGE_IP=$edge_ip" "HOSTIP=$host_ip" \
    "HOSTGW=$(docker network inspect -f '{{range .IPAM.Config}}{{.Gateway}}{{end}}' enkisys-dev1-ingress)" ||
    fail "the admin API is reachable from dev1's network"
}

t_hardening() {
  local c name want bad=""
  for c in $(our_containers); do
    name=$(inspect '{{.Name}}' "$c")
    # The services run as 10001; the stages' PostgreSQL as Debian's postgres user (999).
    want="true 10001:10001 [ALL]"
    [[ $(inspect '{{index .Config.Labels "com.docker.compose.service"}}' "$c") == postgres ]] && want="true 999:999 [ALL]"
    [[ $(inspect '{{.HostConfig.ReadonlyRootfs}} {{.Config.User}} {{.HostConfig.CapDrop}}' "$c") == "$want" ]] ||
      bad+="$name(rootfs/user/caps) "
    [[ $(inspect '{{.HostConfig.Memory}}' "$c") -gt 0 && $(inspect '{{.HostConfig.NanoCpus}}' "$c") -gt 0 ]] ||
      bad+="$name(limits) "
    [[ $(inspect '{{.HostConfig.RestartPolicy.Name}}' "$c") == unless-stopped ]] || bad+="$name(restart) "
    [[ $(inspect '{{.State.Health.Status}}' "$c") == healthy ]] || bad+="$name(health) "
  done
  [[ -z $bad ]] || fail "not hardened or not healthy: $bad"
}

t_figures() {
  local s svc c bytes total=0 local_total=0 rss stage_rss stats mem worst=0 local_only
  local_only=" $(services_names runs=local | tr '\n' ' ') "
  for svc in "${IMAGES[@]}"; do
    bytes=$(docker image inspect -f '{{.Size}}' "enkisys/$svc:$ENKISYS_TAG")
    figure "image enkisys/$svc: $(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }') MB"
    [[ -n ${PORT[$svc]:-} ]] && total=$((total + bytes))
    [[ -n ${PORT[$svc]:-} || $local_only == *" $svc "* ]] && local_total=$((local_total + bytes))
  done
  figure "images of a stage (${SERVICES[*]}): $(awk -v b="$total" 'BEGIN { printf "%.1f", b / 1e6 }') MB;" \
    "with its own gateway (compose.yaml alone): $(awk -v b="$local_total" 'BEGIN { printf "%.1f", b / 1e6 }') MB"
  # One `docker stats` sample of every container (each call takes ~2 s).
  docker stats --no-stream --format '{{.ID}} {{.MemUsage}}' >"$WORK/stats"
  for s in "${STAGES[@]}"; do
    stage_rss=0
    stats=""
    for svc in "${SERVICES[@]}"; do
      c=$(stage_container "$s" "$svc")
      # VmRSS of the service process (it includes the mapped pages of its static binary).
      rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$(inspect '{{.State.Pid}}' "$c")/status")
      stage_rss=$((stage_rss + rss))
      mem=$(awk -v id="$c" 'index($1, id) == 1 || index(id, $1) == 1 { print $2 }' "$WORK/stats")
      stats+="$svc ${mem:-?} "
    done
    figure "idle stage $s: RSS $(awk -v k="$stage_rss" 'BEGIN { printf "%.1f", k / 1024 }') MiB (${SERVICES[*]}); docker stats memory: $stats"
    ((stage_rss > worst)) && worst=$stage_rss
  done
  ((worst <= STAGE_RSS_TARGET_MB * 1024)) || fail "an idle stage uses $((worst / 1024)) MiB RSS, target $STAGE_RSS_TARGET_MB"
}

t_stage_down_up() {
  local s code token
  "$ROOT/$HOST" down dev1 >"$WORK/down1.log" 2>&1 || {
    cat "$WORK/down1.log"
    fail "host.sh down dev1 failed"
  }
  [[ -z $(project_containers enkisys-dev1-blue) ]] || fail "dev1 containers still exist"
  code=$(stage_health_code dev1)
  [[ $code != 200 ]] || fail "dev1 still healthy after down"
  for s in prod staging dev2; do
    code=$(stage_health_code "$s")
    expect_status 200 "$code" "/$s/health while dev1 is down"
  done
  code=$(api POST /staging/api/auth/login "$CREDENTIALS")
  expect_status 200 "$code" "login in staging while dev1 is down"
  "$ROOT/$HOST" up -t 60 dev1 >"$WORK/up1.log" 2>&1 || {
    cat "$WORK/up1.log"
    fail "host.sh up dev1 failed"
  }
  wait_stage_health dev1 30
  # Data kept across new containers: the user logs in; the tool is still there.
  token=$(login_token dev1)
  code=$(api GET "/dev1/api/tools/$TOOL" "" "$token")
  expect_status 200 "$code" "$TOOL in dev1 after the stage came back"
}

# A crash: kill -9 of the service process from the host (`docker kill` would count as a manual
# stop, after which unless-stopped rightly does not restart).
t_kill9_recovers() {
  local c pid count code
  c=$(stage_container dev1 tools)
  pid=$(inspect '{{.State.Pid}}' "$c")
  count=$(inspect '{{.RestartCount}}' "$c")
  [[ $pid -gt 0 ]] || fail "dev1 tools not running"
  kill -KILL "$pid"
  wait_restarted "$c" "$count" 30
  wait_healthy "$c" 60
  wait_stage_health dev1 60
  code=$(stage_health_code prod)
  expect_status 200 "$code" "/prod/health after dev1's crash"
}

# Debian's real Prometheus scrapes the edge's /monitoring/federate with prod's admin token and
# sees `up` for every stage.
t_prometheus() {
  local rc=0
  "$ROOT/tests/e2e/prometheus.sh" "$EDGE/monitoring/federate" "$(monitoring_admin_token)" "${STAGES[@]}" || rc=$?
  ((rc == 77)) && exit 77
  ((rc == 0)) || fail "Prometheus did not see every stage's up"
}

t_teardown_clean() {
  local left nets vols
  "$ROOT/$HOST" down --purge >"$WORK/down.log" 2>&1 || {
    cat "$WORK/down.log"
    fail "host.sh down --purge failed"
  }
  left=$(our_containers | tr '\n' ' ')
  [[ -z ${left// /} ]] || fail "containers left: $left"
  nets=$(docker network ls --format '{{.Name}}' | grep -E '^enkisys-(edge|prod|staging|dev1|dev2)[-_]' || true)
  [[ -z $nets ]] || fail "networks left: $nets"
  vols=""
  while read -r v; do
    [[ -n $v ]] && docker volume inspect "$v" >/dev/null 2>&1 && vols+="$v "
  done <"$MOUNTED_VOLUMES"
  [[ -z $vols ]] || fail "volumes left: $vols"
  [[ -s $MOUNTED_VOLUMES ]] || fail "no volume was recorded at bring-up"
  info "removed: $(tr '\n' ' ' <"$MOUNTED_VOLUMES")"
}

# --- run --------------------------------------------------------------------------------------

preflight
trap teardown EXIT
: >"$FIGURES"
echo "e2e: four stages + edge, images enkisys/*:$ENKISYS_TAG, gateway $EDGE"
run_test "compose config validates every combination (local, 4 stages x 2 colors, edge)" t_compose_config
run_test "make up-host path: edge + 4 stages healthy within ${UP_TARGET_S}s" t_up
if ((E2E_FAILED > 0)); then
  echo "e2e: bring-up failed; skipping the rest"
else
  run_test "every /{stage}/health is 200 and lists exactly ${SERVICES[*]}" t_stage_health
  run_test "figures: image sizes, idle stage memory <= ${STAGE_RSS_TARGET_MB} MiB" t_figures
  run_test "read-only, uid 10001, no capabilities, limits, restart policy, healthy" t_hardening
  run_test "dev1: signup, login, create a tool and invoke tools with that token" t_dev1_signup_tool
  run_test "each stage signs with its own keys: the dev1 token fails auth of prod, staging, dev2" t_own_keys_per_stage
  run_test "the gateway refuses the dev1 token on /api/tools of prod, staging, dev2" t_token_refused_elsewhere
  run_test "dev1's user does not exist in staging (separate databases)" t_users_absent_in_staging
  run_test "dev1's tool does not exist in staging" t_tools_absent_in_staging
  run_test "prod and staging on their own PostgreSQL (a role per service), dev1 and dev2 on SQLite" t_databases
  run_test "rag: a PDF uploaded in dev1 is found with its page; staging cannot see it" t_rag_per_stage
  run_test "a logged-out dev1 session is refused by the edge within the poll bound" t_revoked_session_refused
  run_test "dev1 containers cannot resolve or connect to prod/staging containers (and their PostgreSQL)" t_stage_isolation
  run_test "only${EGRESS_SERVICES% } reach outside the host (egress network); no other container does" t_no_egress
  run_test "exactly one host port published beyond loopback ($EDGE_PORT)" t_one_public_port
  run_test "gateway admin API: host loopback only, never from a stage network" t_admin_api
  run_test "monitoring: only the gateway reaches it, never a stage container" t_monitoring_only_gateway
  run_test "dev1 down: the other three serve; dev1 back up keeps its data" t_stage_down_up
  run_test "kill -9 of dev1 tools: restarted, stage health recovers" t_kill9_recovers
  run_test "monitoring: dev2 tools down → one alert, that row only red → recovered once" t_monitoring_dev2_tools
  run_test "monitoring: a browser signs in at /monitoring/login and reads the page by cookie" t_monitoring_browser_login
  run_test "Prometheus scrapes /monitoring/federate: up for every stage" t_prometheus
  run_test "make up-host TLS=1: HTTPS with the local CA, HTTP → 308, HSTS, mTLS, then plain again" t_tls
fi
run_test "teardown leaves no containers, networks or volumes" t_teardown_clean

figure "e2e stages suite: $((SECONDS - SUITE_START)) s"
echo "--- figures"
sed 's/^/  /' "$FIGURES"
echo "$E2E_PASSED passed, $E2E_FAILED failed, $E2E_SKIPPED skipped"
((E2E_FAILED == 0))
