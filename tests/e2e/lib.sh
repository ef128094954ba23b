# shellcheck shell=bash
# Helpers for the compose-level end-to-end tests: test bookkeeping, compose, HTTP and JSON.
# Sourced by tests/e2e/run.sh; expects ROOT, PROJECT and WORK to be set.

E2E_PASSED=0
E2E_FAILED=0
E2E_SKIPPED=0
E2E_FAILED_NAMES=()
# The services that must call out of the host (model, channel and tool APIs): the only ones on a
# stage's egress network. (Space-padded: test membership with *" $svc "*.)
# shellcheck disable=SC2034 # used by the suites that source this file
EGRESS_SERVICES=" agent router tools "

# run_test NAME FUNCTION: runs FUNCTION, prints "ok NAME", "FAIL NAME" or "skip NAME" (the
# function called `skip REASON`) and counts.
run_test() {
  local name=$1 fn=$2 rc t0=$SECONDS
  # Not in an `if`: errexit stays active inside the test function.
  set +e
  (
    set -euo pipefail
    "$fn"
  ) >"$WORK/test.out" 2>&1
  rc=$?
  set -e
  name+=" ($((SECONDS - t0))s)"
  if ((rc == 0)); then
    echo "ok   $name"
    E2E_PASSED=$((E2E_PASSED + 1))
  elif ((rc == 77)); then
    echo "skip $name"
    sed 's/^/       /' "$WORK/test.out"
    E2E_SKIPPED=$((E2E_SKIPPED + 1))
  else
    echo "FAIL $name"
    sed 's/^/       /' "$WORK/test.out"
    E2E_FAILED=$((E2E_FAILED + 1))
    E2E_FAILED_NAMES+=("$name")
  fi
  if [[ -s $WORK/test.out ]] && [[ ${E2E_VERBOSE:-0} == 1 ]]; then sed 's/^/       /' "$WORK/test.out"; fi
}

# fail MESSAGE: explain and make the current test fail.
fail() {
  echo "$*" >&2
  return 1
}

# skip REASON: ends the current test as skipped (only for a cause outside the code under test,
# stated in REASON).
skip() {
  echo "skipped: $*"
  exit 77
}

# info MESSAGE: a line printed under the test name when the test fails (or E2E_VERBOSE=1).
info() { echo "$*"; }

# E2E_COMPOSE_EXTRA: one more compose file on top of compose.yaml (run.sh: the fake internet).
compose() { "$ROOT/scripts/compose.sh" -p "$PROJECT" -f "$ROOT/compose.yaml" ${E2E_COMPOSE_EXTRA:+-f "$E2E_COMPOSE_EXTRA"} "$@"; }

# free_port: a TCP port that was free on the loopback interface a moment ago.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# http METHOD URL [JSON [TOKEN]]: prints the status code; the body lands in $WORK/body. With
# E2E_USER set, sends it as X-User-Id (for a service reached without the gateway).
# TOKEN (default: $E2E_TOKEN when set; - for none) is sent as a bearer token.
http() {
  local method=$1 url=$2 data=${3:-} token=${4:-${E2E_TOKEN:-}}
  local args=(-sS -o "$WORK/body" -w '%{http_code}' --max-time 10 -X "$method")
  if [[ -n $data ]]; then args+=(-H 'Content-Type: application/json' --data-binary "$data"); fi
  if [[ -n $token && $token != - ]]; then args+=(-H "Authorization: Bearer $token"); fi
  if [[ -n ${E2E_USER:-} ]]; then args+=(-H "X-User-Id: $E2E_USER"); fi # as a gateway sets it
  curl "${args[@]}" "$url" || true
}

# body_json FILTER: applies a jq filter to the last response body.
body_json() { jq -r "$1" <"$WORK/body"; }

# expect_status WANT GOT WHAT: fails with the response body when the status differs.
expect_status() {
  local want=$1 got=$2 what=$3
  [[ $got == "$want" ]] || fail "$what: HTTP $got, want $want; body: $(head -c 400 "$WORK/body" 2>/dev/null)"
}

# container_id SERVICE: the id of the service's (single) container.
container_id() { compose ps -q "$1" | head -n 1; }

# inspect FORMAT CONTAINER
inspect() { docker inspect -f "$1" "$2"; }

# wait_healthy CONTAINER [SECONDS]: polls the Docker health status, bounded.
wait_healthy() { "$ROOT/scripts/wait-healthy.sh" -t "${2:-60}" "$1"; }

# wait_restarted CONTAINER OLD_RESTART_COUNT SECONDS: polls until the restart count grew.
wait_restarted() {
  local c=$1 old=$2 limit=$3 deadline=$((SECONDS + $3)) n
  while ((SECONDS < deadline)); do
    n=$(inspect '{{.RestartCount}}' "$c")
    if ((n > old)); then return 0; fi
    sleep 0.5
  done
  fail "$c not restarted within ${limit}s (restart count still $old)"
}
