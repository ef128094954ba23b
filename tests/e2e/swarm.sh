#!/usr/bin/env bash
# Docker Swarm end to end on a single-node swarm (deploy/README.md, "Docker Swarm"):
#   tests/e2e/swarm.sh    (images enkisys/*:$ENKISYS_TAG must exist; the CLI: ENKISYS_BIN or
#                          build/release/bin/enkisys)
# `docker swarm init` when the engine is in no swarm (and `docker swarm leave --force` at the
# end only then). Stage `swarme2e`, stack enkisys-swarme2e, deployed by `enkisys deploy
# --target swarm` from compose.yaml + deploy/swarm/stack.yaml, then:
#  (a) a rolling update to a second version under load (keep-alive GETs of /health and of an
#      authenticated API route): zero failed requests;
#  (b) a version whose agent crashes at start: swarm rolls the agent back by itself, the CLI
#      rolls back the rest, exits 1, the ledger says rolled_back, the stage still answers 200.
# The engine here has no IPVS (no routing mesh, no service VIPs), so the stack runs with
# endpoint_mode dnsrr and a small TCP balancer container (swarm_front.pl) on its attachable
# `public` network, published on a loopback port the OS picks, stands in for the ingress.
# Only what this script creates is touched; everything is removed at the end. Every wait is
# bounded.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
STAGE=swarme2e
STACK=enkisys-$STAGE
WORK=$(mktemp -d /tmp/enkisys-swarm.XXXXXX)
FRONT=$STACK-front-$$
TAG=${ENKISYS_TAG:-$(git rev-parse --short HEAD 2>/dev/null || echo dev)}
V1=e2e-$$-1
V2=e2e-$$-2
V3=e2e-$$-3
BIN=${ENKISYS_BIN:-$ROOT/build/release/bin/enkisys}
SECRETS=$ROOT/deploy/$STAGE/secrets
INITED=0
MADE_SECRETS=0
PASSED=0
FAILED=0
mapfile -t SERVICES < <(ENKISYS_TAG=$TAG scripts/compose.sh -f compose.yaml config --services)

say() { echo "swarm: $*"; }
check() { # check NAME CONDITION...
  local name=$1
  shift
  if "$@"; then
    echo "ok   $name"
    PASSED=$((PASSED + 1))
  else
    echo "FAIL $name"
    FAILED=$((FAILED + 1))
  fi
}

# wait_for SECONDS COMMAND...: polls COMMAND every second until it succeeds, bounded.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 1
  done
}

teardown() {
  local rc=$?
  set +e
  docker rm -f "$FRONT" >/dev/null 2>&1
  if docker stack ls --format '{{.Name}}' 2>/dev/null | grep -qx "$STACK"; then
    docker stack rm "$STACK" >/dev/null
    # The stack's networks go once its tasks are gone (bounded).
    wait_for 60 bash -c "! docker network ls --format '{{.Name}}' | grep -q '^${STACK}_'"
  fi
  for v in $(docker volume ls -q --filter "label=com.docker.stack.namespace=$STACK"); do
    wait_for 30 docker volume rm "$v"
  done
  docker secret ls -q --filter "label=com.docker.stack.namespace=$STACK" | xargs -r docker secret rm >/dev/null
  docker config ls -q --filter "label=com.docker.stack.namespace=$STACK" | xargs -r docker config rm >/dev/null
  for v in "$V1" "$V2" "$V3"; do
    for svc in "${SERVICES[@]}"; do docker image rm "enkisys/$svc:$v" >/dev/null 2>&1; done
  done
  ((MADE_SECRETS)) && rm -rf "$ROOT/deploy/$STAGE"
  ((INITED)) && docker swarm leave --force >/dev/null
  rm -rf "$WORK"
  exit "$rc"
}
trap teardown EXIT

for svc in "${SERVICES[@]}"; do
  docker image inspect "enkisys/$svc:$TAG" >/dev/null 2>&1 || {
    echo "swarm: image enkisys/$svc:$TAG missing (run: make images)" >&2
    exit 1
  }
done
[[ -x $BIN ]] || {
  echo "swarm: no enkisys CLI at $BIN (cmake --build --preset release --target enkisys)" >&2
  exit 1
}
if [[ $(docker info --format '{{.Swarm.LocalNodeState}}') != active ]]; then
  docker swarm init --advertise-addr 127.0.0.1 >/dev/null
  INITED=1
fi
if [[ ! -d $SECRETS ]]; then
  MADE_SECRETS=1
  mkdir -p "$SECRETS"
  chmod 0700 "$SECRETS"
  for f in admin_password introspect_token; do
    head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$SECRETS/$f"
    chmod 0644 "$SECRETS/$f"
  done
fi
for v in "$V1" "$V2" "$V3"; do
  for svc in "${SERVICES[@]}"; do docker tag "enkisys/$svc:$TAG" "enkisys/$svc:$v"; done
done
# The broken release: its agent exits at start (an unknown option).
# shellcheck disable=SC2016 # $BASE is the Dockerfile's
printf 'ARG BASE\nFROM $BASE\nENTRYPOINT ["/usr/local/bin/enkisys-agent", "--no-such-option"]\n' >"$WORK/Dockerfile"
docker build -q --build-arg "BASE=enkisys/agent:$TAG" -t "enkisys/agent:$V3" "$WORK" >/dev/null

# The stand-in for the routing mesh; it joins the stack's network once the first deploy made it.
docker run -d --name "$FRONT" -p 127.0.0.1::8080 -v "$ROOT/tests/e2e/swarm_front.pl:/front.pl:ro" \
  debian:bookworm perl /front.pl >/dev/null
FRONT_PORT=$(docker port "$FRONT" 8080/tcp | head -n 1 | sed 's/.*://')
BASE=http://127.0.0.1:$FRONT_PORT

enkisys() {
  "$BIN" --state-dir "$WORK/state" --project-dir "$ROOT" "$@"
}
deploy() { # deploy VERSION LOG
  enkisys deploy --target swarm --endpoint-mode dnsrr --gateway-url "$BASE" --stage "$STAGE" \
    --version "$1" --health-timeout 150 --confirm-timeout 30 >"$2" 2>&1
}
mkdir -p "$WORK/state"

# 1. First deploy (the stack is created).
t0=$SECONDS
deploy "$V1" "$WORK/deploy1.log" &
pid=$!
wait_for 90 docker network inspect "${STACK}_public" || true
docker network connect "${STACK}_public" "$FRONT"
rc=0
wait "$pid" || rc=$?
say "first deploy: exit $rc in $((SECONDS - t0)) s"
check "first deploy of $V1 succeeds" test "$rc" = 0 || true
((rc == 0)) || {
  cat "$WORK/deploy1.log" >&2
  exit 1
}

# A user, through the stack's gateway.
CREDENTIALS=$(jq -nc --arg e "swarm-$$@example.com" --arg p "swarm $$ correct horse battery" \
  '{email: $e, password: $p}')
curl -sS -m 10 -o /dev/null -H 'Content-Type: application/json' -d "$CREDENTIALS" "$BASE/$STAGE/api/auth/signup"
TOKEN=$(curl -sS -m 10 -H 'Content-Type: application/json' -d "$CREDENTIALS" "$BASE/$STAGE/api/auth/login" | jq -r .access_token)
[[ -n $TOKEN && $TOKEN != null ]] || {
  echo "swarm: no token from $BASE/$STAGE/api/auth/login" >&2
  exit 1
}
code=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$BASE/$STAGE/api/tools")
check "an authenticated API route answers 200 through the stack" test "$code" = 200
# The stack's gateway serves this stage under its own name (not the local file's `dev`).
code=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' "$BASE/dev/health")
check "the stack answers /$STAGE/, not /dev/ (404)" test "$code" = 404

# deploy_under_load VERSION NAME: deploys VERSION while swarm_load.py keeps requests going;
# sets RC and TOOK (seconds); the load's figures in $WORK/NAME.json, the CLI's log in NAME.log.
deploy_under_load() {
  python3 tests/e2e/swarm_load.py "$BASE" "/$STAGE/api/tools" "$TOKEN" "$WORK/$2.stop" 200 20000 \
    >"$WORK/$2.json" &
  local load=$! t0=$SECONDS
  RC=0
  deploy "$1" "$WORK/$2.log" || RC=$?
  TOOK=$((SECONDS - t0))
  touch "$WORK/$2.stop"
  wait "$load" || true
  say "deploy of $1: exit $RC in $TOOK s; load: $(cat "$WORK/$2.json")"
}

# 2. (a) A rolling update under load.
deploy_under_load "$V2" update
rc=$RC
UPDATE_S=$TOOK
((rc == 0)) || cat "$WORK/update.log" >&2
check "rolling update to $V2 succeeds" test "$rc" = 0
check "zero failed requests during the update" test "$(jq -r .failed "$WORK/update.json")" = 0
check "the load ran" test "$(jq -r .requests "$WORK/update.json")" -gt 50
check "every service runs $V2" bash -c "docker service ls --filter label=com.docker.stack.namespace=$STACK --format '{{.Image}}' | grep -v -c ':$V2' | grep -qx 0"

# 3. (b) A broken agent: rolled back, under the same load.
deploy_under_load "$V3" broken
rc=$RC
ROLLBACK_S=$TOOK
grep -E 'health gate|rolling back|rolled_back|failed' "$WORK/broken.log" | sed 's/^/       /' || true
check "the broken deploy exits 1" test "$rc" = 1
enkisys releases --stage "$STAGE" --json >"$WORK/releases.json"
last=$(tail -n 1 "$WORK/releases.json")
check "the ledger says rolled_back to $V2" test "$(jq -r '.result + " " + .rolled_back_to' <<<"$last")" = "rolled_back $V2"
check "the ledger names the failing service" bash -c "jq -r .message <<<'$last' | grep -q ${STACK}_agent"
# One probe may land on a task swarm is just removing (DNS round robin behind the balancer):
# the stage must answer 200 within 30 s, probes bounded to 5 s each.
code=000
for _ in $(seq 10); do
  code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$BASE/$STAGE/health" || true)
  [[ $code == 200 ]] && break
  sleep 1
done
check "the stage answers 200 after the rollback (within 30 s)" test "$code" = 200
# The broken release rolls every service back at once (two task switches each in a minute):
# requests failed meanwhile are a figure (0 in most runs), not a check. What must hold: no
# gateway replica is left refusing a route (a stale view of a moved task), so 20 authenticated
# API requests in a row answer 200 within 30 s.
say "failed requests during the broken deploy and its rollback: $(jq -r .failed "$WORK/broken.json")"
streak=0
deadline=$((SECONDS + 30))
while ((streak < 20 && SECONDS < deadline)); do
  code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$BASE/$STAGE/api/tools" || true)
  if [[ $code == 200 ]]; then streak=$((streak + 1)); else streak=0; fi
done
check "after the rollback, 20 authenticated API requests in a row answer 200 (within 30 s)" test "$streak" -ge 20
if ((streak < 20)); then
  docker service logs --tail 40 "${STACK}_gateway" 2>&1 | sed 's/^/       /' | tail -60 >&2 || true
fi
check "every service runs $V2 again" bash -c "docker service ls --filter label=com.docker.stack.namespace=$STACK --format '{{.Image}}' | grep -v -c ':$V2' | grep -qx 0"
enkisys status --target swarm --stage "$STAGE" >"$WORK/status.txt"
sed 's/^/       /' "$WORK/status.txt"
check "status lists every service of the stack" test "$(grep -c '  service: ' "$WORK/status.txt")" = "${#SERVICES[@]}"

say "timings: rolling update ${UPDATE_S} s under load (failed requests $(jq -r .failed "$WORK/update.json"), reconnects $(jq -r .reconnects "$WORK/update.json"), slowest $(jq -r .max_ms "$WORK/update.json") ms); broken release detected and rolled back in ${ROLLBACK_S} s (failed requests $(jq -r .failed "$WORK/broken.json"))"
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
