#!/usr/bin/env bash
# End-to-end proof of `enkisys deploy` on one machine: the "EC2 host" is sshd on
# 127.0.0.1:$SSH_PORT (key auth only, own host key, started and stopped here) in front of the
# local Docker engine; stages dev1 and dev2 and the edge gateway run as on a real host
# (deploy/host.sh). Under a steady bounded load through the gateway:
#   deploy v1, v2 (zero failed requests) → broken v3 (its container exits: automatic rollback
#   to v2, zero failed requests) → rollback --to v1 → a concurrent deploy refused by the lock →
#   a deploy killed mid-way (stage keeps serving, lease expires, next deploy takes it over);
#   dev2 serves throughout; the ledger and a local webhook receiver saw every run.
#   tests/e2e/deploy.sh        (needs the images enkisys/<service>:$ENKISYS_TAG and
#                               the CLI at $ENKISYS_BIN, default build/bin/enkisys)
# Refuses to run when the host already has enkisys containers; tears everything down.
# Prints "ok NAME" / "FAIL NAME" per check, the figures, then "N passed, M failed".
# shellcheck disable=SC2016 # docker/jq templates use $ literally
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
export ENKISYS_TAG=${ENKISYS_TAG:-$(git rev-parse --short HEAD 2>/dev/null || echo dev)}
BASE_TAG=$ENKISYS_TAG
ENKISYS_BIN=${ENKISYS_BIN:-$ROOT/build/bin/enkisys}
SSH_PORT=${SSH_PORT:-2222}
export EDGE_PORT=${EDGE_PORT:-8080}
export EDGE_ADMIN_PORT=${EDGE_ADMIN_PORT:-9901}
# shellcheck source=scripts/services.sh
source "$ROOT/scripts/services.sh"
# Every image (services/services.list): each version is a whole set.
mapfile -t SERVICES < <(services_names)
LOAD_RPS_DEV1=${LOAD_RPS_DEV1:-20}
LOAD_RPS_DEV2=${LOAD_RPS_DEV2:-10}
LOCK_TTL=20
WORK=$(mktemp -d /tmp/enkisys-deploy-e2e.XXXXXX)
PASSED=0
FAILED=0
FIGURES=()
PIDS=()

ok() {
  echo "ok $*"
  PASSED=$((PASSED + 1))
}
bad() {
  echo "FAIL $*"
  FAILED=$((FAILED + 1))
}
check() { # check NAME COMMAND...
  local name=$1
  shift
  if "$@"; then ok "$name"; else bad "$name"; fi
}
figure() { FIGURES+=("$*"); }
die() {
  echo "deploy.sh: $*" >&2
  exit 1
}

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ -f $WORK/sshd.pid ]]; then kill "$(cat "$WORK/sshd.pid")" 2>/dev/null || true; fi
  if [[ ${STARTED_STAGES:-0} == 1 ]]; then
    deploy/host.sh down --purge dev1 dev2 >/dev/null 2>&1 || true
    # The edge this test started goes too, with its data, once no stage container is left
    # (host.sh keeps it while any stage container, even a stopped one, still exists).
    if [[ -z $(docker ps -aq --filter label=com.enkisys.stage) ]]; then
      deploy/host.sh edge down --remove-orphans -t 15 >/dev/null 2>&1 || true
      docker volume rm -f enkisys-edge-monitoring-data >/dev/null 2>&1 || true
    fi
  fi
  for v in v1 v2 v3; do
    for svc in "${SERVICES[@]}"; do docker image rm "enkisys/$svc:$v" >/dev/null 2>&1 || true; done
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- preflight -----------------------------------------------------------------------------
[[ -x $ENKISYS_BIN ]] || die "no CLI at $ENKISYS_BIN (build it: make build)"
for tool in docker python3 jq curl ssh ssh-keygen /usr/sbin/sshd; do
  command -v "$tool" >/dev/null || die "missing $tool"
done
for svc in "${SERVICES[@]}"; do
  docker image inspect "enkisys/$svc:$BASE_TAG" >/dev/null 2>&1 ||
    die "image enkisys/$svc:$BASE_TAG missing (make images TAG=$BASE_TAG)"
done
if [[ -n $(docker ps -aq --filter 'label=com.docker.compose.project' --filter 'name=enkisys-') ]]; then
  die "this host already runs enkisys containers; refusing to touch them"
fi

# --- versions: v1/v2 are the built images plus a version label; v3's tools container exits ---
make_version() { # make_version VERSION [broken]
  local v=$1 broken=${2:-} svc extra
  for svc in "${SERVICES[@]}"; do
    extra=""
    if [[ $broken == broken && $svc == tools ]]; then
      # Runs only the health probe, against nothing: exits 1 at once, so never healthy.
      extra='ENTRYPOINT ["/usr/local/bin/enkisys-tools", "--healthcheck"]'
    fi
    printf 'FROM enkisys/%s:%s\nLABEL com.enkisys.e2e.version=%s\n%s\n' "$svc" "$BASE_TAG" "$v" "$extra" |
      docker build -q -t "enkisys/$svc:$v" - >/dev/null
  done
}
make_version v1
make_version v2
make_version v3 broken

# --- the host: dev1 and dev2 on blue (base tag) behind the edge -----------------------------
deploy/gen-secrets.sh dev1 dev2 >/dev/null
STARTED_STAGES=1
deploy/host.sh up -c blue -t 120 dev1 dev2 >"$WORK/host-up.log" 2>&1 || {
  cat "$WORK/host-up.log" >&2
  die "deploy/host.sh up failed"
}
ADMIN_TOKEN_FILE=$ROOT/deploy/edge/secrets/gateway_admin_token

# --- sshd on 127.0.0.1:$SSH_PORT, key auth only --------------------------------------------
mkdir -p /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$WORK/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/client_key"
cp "$WORK/client_key.pub" "$WORK/authorized_keys"
chmod 600 "$WORK/authorized_keys"
echo "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 "$WORK/host_key.pub")" >"$WORK/known_hosts"
cat >"$WORK/sshd_config" <<EOF
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $WORK/host_key
PidFile $WORK/sshd.pid
AuthorizedKeysFile $WORK/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
AllowTcpForwarding local
X11Forwarding no
MaxSessions 50
MaxStartups 50:30:100
EOF
/usr/sbin/sshd -D -f "$WORK/sshd_config" -E "$WORK/sshd.log" &
PIDS+=($!)
for _ in $(seq 50); do
  ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$WORK/known_hosts" \
    -i "$WORK/client_key" -p "$SSH_PORT" root@127.0.0.1 true 2>/dev/null && break
  sleep 0.2
done
check "sshd: key login works, host key pinned" \
  ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$WORK/known_hosts" \
  -i "$WORK/client_key" -p "$SSH_PORT" root@127.0.0.1 true
check "sshd: password auth refused" bash -c "! ssh -o BatchMode=yes -o PubkeyAuthentication=no \
  -o StrictHostKeyChecking=yes -o UserKnownHostsFile='$WORK/known_hosts' -p $SSH_PORT root@127.0.0.1 true 2>/dev/null"

# --- webhook receiver ----------------------------------------------------------------------
cat >"$WORK/webhook.py" <<'EOF'
import http.server, json, sys
out = open(sys.argv[1], "a", buffering=1)
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        out.write(json.dumps(json.loads(body)) + "\n")
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[2], "w").write(str(s.server_address[1]))
s.serve_forever()
EOF
python3 "$WORK/webhook.py" "$WORK/webhook.jsonl" "$WORK/webhook.port" &
PIDS+=($!)
for _ in $(seq 50); do [[ -s $WORK/webhook.port ]] && break; sleep 0.1; done
NOTIFY_WEBHOOK_URL="http://127.0.0.1:$(cat "$WORK/webhook.port")/hook"
export NOTIFY_WEBHOOK_URL
export GITHUB_STEP_SUMMARY=$WORK/summary.md

# --- steady bounded load through the gateway ----------------------------------------------
cat >"$WORK/load.py" <<'EOF'
# load.py STATUS_FILE FAILURES_FILE PORT PATH:RPS...  — fixed-rate GETs, keep-alive, 5 s timeout.
import http.client, json, os, sys, threading, time
status_file, failures_file, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
counts, lock = {}, threading.Lock()
fail_log = open(failures_file, "a", buffering=1)
def worker(path, rps):
    counts[path] = {"ok": 0, "fail": 0}
    conn, interval, nxt = None, 1.0 / rps, time.monotonic()
    while True:
        nxt += interval
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path)
            r = conn.getresponse(); r.read()
            good = r.status == 200
            why = "HTTP %d" % r.status
        except Exception as e:
            good, why, conn = False, repr(e), None
        with lock:
            counts[path]["ok" if good else "fail"] += 1
        if not good:
            fail_log.write("%.3f %s %s\n" % (time.time(), path, why))
        time.sleep(max(0.0, nxt - time.monotonic()))
for spec in sys.argv[4:]:
    path, rps = spec.rsplit(":", 1)
    threading.Thread(target=worker, args=(path, float(rps)), daemon=True).start()
while True:
    time.sleep(0.2)
    with lock:
        text = json.dumps(counts)
    with open(status_file + ".tmp", "w") as f:
        f.write(text)
    os.replace(status_file + ".tmp", status_file)
EOF
DEV1_PATH=/dev1/api/auth/.well-known/jwks.json
DEV2_PATH=/dev2/api/auth/.well-known/jwks.json
python3 "$WORK/load.py" "$WORK/load.json" "$WORK/load-failures.log" "$EDGE_PORT" \
  "$DEV1_PATH:$LOAD_RPS_DEV1" "$DEV2_PATH:$LOAD_RPS_DEV2" &
PIDS+=($!)
load() { # load PATH ok|fail → current counter
  sleep 0.3
  jq -r --arg p "$1" --arg k "$2" '.[$p][$k]' "$WORK/load.json"
}
for _ in $(seq 50); do [[ -s $WORK/load.json ]] && break; sleep 0.1; done
sleep 1
check "load: dev1 and dev2 answer through the gateway" \
  test "$(load $DEV1_PATH ok)" -gt 0 -a "$(load $DEV2_PATH ok)" -gt 0 -a "$(load $DEV1_PATH fail)" -eq 0

# --- the CLI against the ssh host -------------------------------------------------------------
enkisys() {
  "$ENKISYS_BIN" --host "ssh://root@127.0.0.1:$SSH_PORT" --identity "$WORK/client_key" \
    --known-hosts "$WORK/known_hosts" --project-dir "$ROOT" --state-dir "$WORK/state" \
    --admin-token-file "$ADMIN_TOKEN_FILE" --admin-port "$EDGE_ADMIN_PORT" \
    --gateway-port "$EDGE_PORT" "$@"
}
DEPLOY_FLAGS=(--health-timeout 60 --drain 2 --lock-ttl "$LOCK_TTL")
RUNS=0
last_release() { jq -rc "$1" <<<"$(tail -n 1 "$WORK/state/dev1/releases.jsonl")"; }
serving_tag() { # the ENKISYS image tag of dev1's live color's tools container
  local color
  color=$(curl -s -H "Authorization: Bearer $(cat "$ADMIN_TOKEN_FILE")" \
    "http://127.0.0.1:$EDGE_ADMIN_PORT/admin/stages" |
    jq -r '.stages[] | select(.name=="dev1") | .variables.color')
  docker inspect --format '{{.Config.Image}}' \
    "$(docker ps -q --filter "label=com.docker.compose.project=enkisys-dev1-$color" \
      --filter label=com.docker.compose.service=tools | head -n 1)" | sed 's/.*://'
}
phase() { # phase NAME EXPECTED_EXIT ARGS... : runs the CLI under load, checks 0 failed requests
  local name=$1 want=$2 f0 t0 rc=0 failed
  shift 2
  f0=$(load $DEV1_PATH fail)
  t0=$(date +%s%N)
  enkisys "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || rc=$?
  RUNS=$((RUNS + 1))
  PHASE_MS=$((($(date +%s%N) - t0) / 1000000))
  failed=$(($(load $DEV1_PATH fail) - f0))
  if [[ $rc == "$want" ]]; then ok "$name: exit $rc"; else
    bad "$name: exit $rc, wanted $want"
    cat "$WORK/$name.err"
  fi
  check "$name: zero failed requests on dev1 ($failed)" test "$failed" -eq 0
  figure "$name: ${PHASE_MS} ms wall, $failed failed dev1 requests"
}

phase "deploy v1" 0 deploy --stage dev1 --version v1 "${DEPLOY_FLAGS[@]}"
check "deploy v1: dev1 serves v1" test "$(serving_tag)" = v1
phase "deploy v2" 0 deploy --stage dev1 --version v2 "${DEPLOY_FLAGS[@]}"
check "deploy v2: dev1 serves v2" test "$(serving_tag)" = v2
figure "deploy v2 (ledger duration): $(last_release .duration_ms) ms, steps $(last_release .timings)"

phase "deploy broken v3" 1 deploy --stage dev1 --version v3 "${DEPLOY_FLAGS[@]}"
check "broken v3: ledger says rolled_back to v2" \
  test "$(last_release '[.result, .rolled_back_to] | join(" ")')" = "rolled_back v2"
check "broken v3: failing container's logs printed" grep -qE "logs of enkisys-dev1-green[_-]tools" "$WORK/deploy broken v3.err"
check "broken v3: dev1 serves v2" test "$(serving_tag)" = v2
check "broken v3: gateway /dev1/health 200" \
  test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$EDGE_PORT/dev1/health")" = 200
ROLLBACK_MS=$(last_release '.timings.rollback_ms')
check "broken v3: v2 serving again within 10 s of the failed gate (${ROLLBACK_MS} ms)" \
  test "$ROLLBACK_MS" -lt 10000
figure "automatic rollback after the failed gate: ${ROLLBACK_MS} ms; whole failed deploy $(last_release .duration_ms) ms"

phase "rollback to v1" 0 rollback --stage dev1 --to v1 "${DEPLOY_FLAGS[@]}"
check "rollback: dev1 serves v1" test "$(serving_tag)" = v1
figure "manual rollback (ledger duration): $(last_release .duration_ms) ms"

# --- concurrent deploys on the same stage ------------------------------------------------
enkisys deploy --stage dev1 --version v2 "${DEPLOY_FLAGS[@]}" >"$WORK/first.out" 2>"$WORK/first.err" &
FIRST=$!
for _ in $(seq 100); do [[ -f $WORK/state/dev1/lock ]] && break; sleep 0.1; done
rc=0
enkisys deploy --stage dev1 --version v1 "${DEPLOY_FLAGS[@]}" 2>"$WORK/second.err" || rc=$?
RUNS=$((RUNS + 1))
check "concurrent deploy: refused with exit 3" test "$rc" = 3
check "concurrent deploy: message names the holder" grep -qE "is locked by .* \(pid [0-9]+ on .*, deploy v2" "$WORK/second.err"
rc=0
wait "$FIRST" || rc=$?
RUNS=$((RUNS + 1))
check "concurrent deploy: the first one succeeds" test "$rc" = 0
check "concurrent deploy: dev1 serves v2" test "$(serving_tag)" = v2

# --- a deploy killed mid-way (the CI runner cancelled) -------------------------------------
f0=$(load $DEV1_PATH fail)
setsid "$ENKISYS_BIN" --host "ssh://root@127.0.0.1:$SSH_PORT" --identity "$WORK/client_key" \
  --known-hosts "$WORK/known_hosts" --project-dir "$ROOT" --state-dir "$WORK/state" \
  --admin-token-file "$ADMIN_TOKEN_FILE" --admin-port "$EDGE_ADMIN_PORT" \
  --gateway-port "$EDGE_PORT" deploy --stage dev1 --version v1 "${DEPLOY_FLAGS[@]}" \
  >"$WORK/killed.out" 2>"$WORK/killed.err" &
KILLED=$!
for _ in $(seq 300); do
  [[ -n $(docker ps -q --filter label=com.docker.compose.project=enkisys-dev1-green) &&
    -n $(docker ps -q --filter label=com.docker.compose.project=enkisys-dev1-blue) ]] && break
  sleep 0.1
done
kill -KILL -- "-$KILLED" 2>/dev/null || true
wait "$KILLED" 2>/dev/null || true
KILLED_AT=$(date +%s)
check "killed deploy: lease left behind" test -f "$WORK/state/dev1/lock"
enkisys lock show --stage dev1 >"$WORK/lock-show.out" 2>&1 || true
check "killed deploy: lock show names the killed run" grep -q "pid $KILLED" "$WORK/lock-show.out"
check "killed deploy: dev1 still serves v2" test "$(serving_tag)" = v2
check "killed deploy: gateway /dev1/health 200" \
  test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$EDGE_PORT/dev1/health")" = 200
rc=0
enkisys deploy --stage dev1 --version v1 "${DEPLOY_FLAGS[@]}" 2>"$WORK/too-early.err" || rc=$?
RUNS=$((RUNS + 1))
check "killed deploy: lease still held right after (exit 3)" test "$rc" = 3
left=$((LOCK_TTL + 1 - ($(date +%s) - KILLED_AT)))
if ((left > 0)); then sleep "$left"; fi
enkisys lock show --stage dev1 >"$WORK/lock-show2.out" 2>&1 || true
check "killed deploy: lease expired after its TTL" grep -q EXPIRED "$WORK/lock-show2.out"
phase "deploy after the expired lease" 0 deploy --stage dev1 --version v1 "${DEPLOY_FLAGS[@]}"
check "expired lease taken over: dev1 serves v1" test "$(serving_tag)" = v1
failed=$(($(load $DEV1_PATH fail) - f0))
check "killed deploy and takeover: zero failed dev1 requests ($failed)" test "$failed" -eq 0

# --- records ----------------------------------------------------------------------------------
enkisys releases --stage dev1 >"$WORK/releases.out"
cat "$WORK/releases.out"
check "ledger: the whole story" test "$(jq -r '.action + ":" + .version + ":" + .result' \
  "$WORK/state/dev1/releases.jsonl" | paste -sd ' ')" = \
  "deploy:v1:succeeded deploy:v2:succeeded deploy:v3:rolled_back rollback:v1:succeeded deploy:v2:succeeded deploy:v1:succeeded"
# Every release records one image digest and one health result per service of a stage.
STAGE_COUNT=$(services_names runs=stage | wc -l)
check "ledger: image digests and health evidence recorded ($STAGE_COUNT services)" \
  test "$(jq -s --argjson n "$STAGE_COUNT" \
    '[.[] | select((.images | length) == $n and (.health.containers | length) == $n)] | length' \
    "$WORK/state/dev1/releases.jsonl")" = 6
check "webhook: one message per run ($RUNS)" test "$(wc -l <"$WORK/webhook.jsonl")" = "$RUNS"
check "webhook: Slack-compatible (text, blocks, attachments)" \
  test "$(jq -s '[.[] | select(.text and .blocks and .attachments)] | length' "$WORK/webhook.jsonl")" = "$RUNS"
check "job summary written" grep -q "rolled_back" "$GITHUB_STEP_SUMMARY"
check "dev2 kept serving throughout: $(load $DEV2_PATH ok) ok, $(load $DEV2_PATH fail) failed" \
  test "$(load $DEV2_PATH fail)" -eq 0
figure "load: dev1 $(load $DEV1_PATH ok) ok / $(load $DEV1_PATH fail) failed at ${LOAD_RPS_DEV1} rps; dev2 $(load $DEV2_PATH ok) ok / $(load $DEV2_PATH fail) failed at ${LOAD_RPS_DEV2} rps"
if [[ -s $WORK/load-failures.log ]]; then
  echo "--- failed requests (UTC) and the gateway's 5xx lines"
  while read -r ts rest; do echo "$(date -u -d "@$ts" +%H:%M:%S.%3N) $rest"; done <"$WORK/load-failures.log" | head -n 20
  docker logs "$(docker ps -q --filter label=com.docker.compose.project=enkisys-edge | head -n 1)" 2>&1 |
    grep -E '"status":5[0-9][0-9]' | grep '"stage":"dev1"' | head -n 20 || true
  for f in "$WORK"/*.err; do
    echo "--- ${f##*/}"
    grep -E "enkisys dev1" "$f" | tail -n 30 || true
  done
fi

echo "--- figures"
printf '%s\n' "${FIGURES[@]}"
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
