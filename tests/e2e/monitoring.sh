# shellcheck shell=bash
# The edge monitoring on a whole host, for tests/e2e/stages.sh (which sources this file and runs
#   run_test "monitoring: dev2 tools down → one alert, that row only red → recovered once" \
#     t_monitoring_dev2_tools
#   run_test "monitoring: only the gateway reaches it, never a stage container" \
#     t_monitoring_only_gateway
#   run_test "monitoring: a browser signs in at /monitoring/login and reads the page by cookie" \
#     t_monitoring_browser_login
# after the host is up). Expects from stages.sh: ROOT, WORK, EDGE, HOST, STAGES, SERVICES and
# the helpers of tests/e2e/lib.sh (http, body_json, expect_status, fail, info) and of stages.sh
# (stage_container, ips, ip_on, in_netns, NETLIB, edge_container).
# The monitoring polls every 5 s and announces a state after 2 polls: each wait is bounded by
# MONITORING_WAIT_S (40 s).
# shellcheck disable=SC2154 # ROOT, WORK, EDGE, HOST and STAGES come from stages.sh
# shellcheck disable=SC2016 # jq filters use $ literally

MONITORING_WAIT_S=${MONITORING_WAIT_S:-40}

# monitoring_admin_token: an access token of prod's first administrator (the /monitoring/ route
# takes admins of prod).
monitoring_admin_token() {
  local body code
  body=$(jq -nc --arg e "admin@prod.enkisys.invalid" \
    --rawfile p "$ROOT/deploy/prod/secrets/admin_password" '{email: $e, password: ($p | rtrimstr("\n"))}')
  code=$(http POST "$EDGE/prod/api/auth/login" "$body" -)
  expect_status 200 "$code" "login of prod's admin"
  body_json .access_token
}

# monitoring_webhook_start: a fake Slack webhook on the host, reachable from the edge's
# `public` network (its gateway address); every POST body is one line of $WORK/webhook.log.
# Prints its URL.
monitoring_webhook_start() {
  local gw port
  local id
  id=$(docker network inspect -f '{{.Id}}' enkisys-edge_public)
  gw=$(docker network inspect -f '{{range .IPAM.Config}}{{.Gateway}}{{end}}' enkisys-edge_public)
  # A network created with a subnet but no gateway in its IPAM config: the bridge's own address.
  [[ -n $gw ]] || gw=$(ip -4 -o addr show "br-${id:0:12}" 2>/dev/null | awk '{ sub(/\/.*/, "", $4); print $4; exit }')
  [[ -n $gw ]] || fail "no gateway address on the edge's public network"
  port=$(free_port)
  : >"$WORK/webhook.log"
  python3 - "$gw" "$port" "$WORK/webhook.log" >"$WORK/webhook.out" 2>&1 <<'PY' &
import http.server, sys
log = sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(log, "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a):
        pass
http.server.HTTPServer((sys.argv[1], int(sys.argv[2])), H).serve_forever()
PY
  MONITORING_WEBHOOK_PID=$!
  echo "http://$gw:$port/hook"
}

monitoring_webhook_stop() {
  [[ -n ${MONITORING_WEBHOOK_PID:-} ]] && kill "$MONITORING_WEBHOOK_PID" 2>/dev/null
  wait "${MONITORING_WEBHOOK_PID:-}" 2>/dev/null || true
}

# monitoring_wait_message TEXT COUNT: waits until the webhook got COUNT messages holding TEXT.
monitoring_wait_message() {
  local deadline=$((SECONDS + MONITORING_WAIT_S)) n
  while :; do
    n=$(grep -c -F -- "$1" "$WORK/webhook.log" || true)
    ((n >= $2)) && return 0
    ((SECONDS < deadline)) || fail "no message '$1' within ${MONITORING_WAIT_S}s: $(cat "$WORK/webhook.log")"
    sleep 0.5
  done
}

# monitoring_rows TOKEN: "stage/service state" per row of the JSON status.
monitoring_rows() {
  local code
  code=$(http GET "$EDGE/monitoring/api/status" "" "$1")
  expect_status 200 "$code" "GET /monitoring/api/status"
  body_json '.stages[] | .stage as $s | .services[] | "\($s)/\(.service) \(.state)"'
}

t_monitoring_dev2_tools() {
  local token url rows row page code
  token=$(monitoring_admin_token)
  # Admins only: no token is refused by the gateway.
  code=$(http GET "$EDGE/monitoring/api/status" "" -)
  expect_status 401 "$code" "/monitoring/ without a token"
  url=$(monitoring_webhook_start)
  trap monitoring_webhook_stop RETURN
  NOTIFY_WEBHOOK_URL=$url "$HOST" edge up -d --no-deps monitoring >/dev/null 2>&1
  "$ROOT/scripts/wait-healthy.sh" -t 60 "$("$HOST" edge ps -q monitoring)"
  # Every row up first (the first polls after the restart).
  local deadline=$((SECONDS + MONITORING_WAIT_S))
  until rows=$(monitoring_rows "$token") && ! grep -qv ' up$' <<<"$rows"; do
    ((SECONDS < deadline)) || fail "not every row up: $rows"
    sleep 1
  done
  "$HOST" compose dev2 blue stop tools >/dev/null 2>&1
  monitoring_wait_message "tools of dev2 is down" 1
  rows=$(monitoring_rows "$token")
  grep -qx 'dev2/tools down' <<<"$rows" || fail "dev2/tools not down: $rows"
  [[ $(grep -cv ' up$' <<<"$rows") == 1 ]] || fail "more than one row not up: $rows"
  code=$(http GET "$EDGE/monitoring/" "" "$token")
  expect_status 200 "$code" "GET /monitoring/"
  page=$(cat "$WORK/body")
  grep -qF 'data-row="dev2/tools" data-state="down"' <<<"$page" || fail "page: dev2/tools not down"
  [[ $(grep -o 'data-state="down"' <<<"$page" | wc -l) == 1 ]] || fail "page: more than one row down"
  "$HOST" compose dev2 blue start tools >/dev/null 2>&1
  monitoring_wait_message "tools of dev2 recovered" 1
  sleep 11 # two more polls: nothing else may arrive
  [[ $(grep -c -F "tools of dev2 is down" "$WORK/webhook.log") == 1 ]] || fail "down sent twice"
  [[ $(grep -c -F "tools of dev2 recovered" "$WORK/webhook.log") == 1 ]] || fail "recovery sent twice"
  for row in $(monitoring_rows "$token" | awk '{print $2}'); do
    [[ $row == up ]] || fail "a row is $row after the recovery"
  done
  info "webhook: $(wc -l <"$WORK/webhook.log") message(s)"
}

# The monitoring listens only on its `public` address: from a container of every stage, its
# port 5006 is closed on every address of the monitoring (each network, the one on `public`
# included) and on every name of it that the container resolves; the gateway still serves it,
# and so does the host's loopback port for Prometheus.
t_monitoring_only_gateway() {
  local m gw ingress targets="" s c code
  m=$("$HOST" edge ps -q monitoring)
  [[ -n $m ]] || fail "no monitoring container"
  for ip in $(ips "$m"); do targets+="$ip "; done
  [[ -n $targets ]] || fail "the monitoring has no address"
  gw=$(edge_container)
  code=$(curl -s -o "$WORK/body" -w '%{http_code}' --max-time 5 \
    "http://127.0.0.1:${EDGE_MONITORING_PORT:-9906}/health" || true)
  expect_status 200 "$code" "monitoring /health on the host's loopback port"
  code=$(http GET "$EDGE/monitoring/health" "" -)
  expect_status 200 "$code" "/monitoring/health through the gateway"
  # One probe per stage, side by side (an unanswered connect costs its whole timeout).
  local probes=() probe_stages=() i
  for s in "${STAGES[@]}"; do
    c=$(stage_container "$s" auth)
    [[ -n $c ]] || fail "no $s auth container"
    ingress=$(ip_on "$gw" "enkisys-$s-ingress")
    info "from $s auth: monitoring port 5006 closed on [$targets] and every resolved name"
    in_netns "$c" "$NETLIB"'
      set -u; bad=0
      # Control: the gateway on this stage network answers, so a closed port below is no
      # broken network namespace.
      can_connect "$INGRESS" 8080 || { echo "control: gateway $INGRESS:8080 unreachable"; bad=1; }
      addrs=$TARGETS
      for n in monitoring monitoring.edge enkisys-edge-monitoring-1 enkisys-edge_monitoring_1; do
        addrs+=" $(getent ahostsv4 "$n" 2>/dev/null | awk "{print \$1}" | sort -u | tr "\n" " ")"
      done
      for t in $addrs; do
        ( if can_connect "$t" 5006; then echo "monitoring reachable at $t:5006"; exit 1; fi ) &
      done
      for j in $(jobs -p); do wait "$j" || bad=1; done
      exit $bad' "TARGETS=$targets" "INGRESS=$ingress" &
    probes+=($!)
    probe_stages+=("$s")
  done
  local bad=""
  for i in "${!probes[@]}"; do
    wait "${probes[$i]}" || bad+="${probe_stages[$i]} "
  done
  [[ -z $bad ]] || fail "a container of $bad reaches the monitoring without the gateway"
}

# A browser: no token → 303 to the login form; the form's POST (prod's admin) sets the
# HttpOnly cookie and goes back; the page then opens with the cookie alone; scripts keep the
# JSON 401; logout clears the cookie.
t_monitoring_browser_login() {
  local out code loc jar="$WORK/monitoring.cookies" password
  out=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' --max-time 10 \
    -H 'Accept: text/html' "$EDGE/monitoring/api/status" || true)
  code=${out%% *} loc=${out#* }
  [[ $code == 303 ]] || fail "navigation without a token: HTTP $code, want 303"
  [[ $loc == */monitoring/login?next=/monitoring/api/status ]] || fail "redirect to $loc"
  code=$(http GET "$EDGE/monitoring/api/status" "" -)
  expect_status 401 "$code" "a script without a token"
  code=$(curl -s -o "$WORK/body" -w '%{http_code}' --max-time 10 "$EDGE/monitoring/login")
  expect_status 200 "$code" "GET /monitoring/login"
  grep -qF 'action="login"' "$WORK/body" || fail "no login form"
  password=$(tr -d '\n' <"$ROOT/deploy/prod/secrets/admin_password")
  rm -f "$jar"
  code=$(curl -s -o "$WORK/body" -D "$WORK/headers" -c "$jar" -w '%{http_code}' --max-time 10 \
    -H "Origin: $EDGE" --data-urlencode "email=admin@prod.enkisys.invalid" \
    --data-urlencode "password=$password" --data-urlencode "next=/monitoring/" \
    "$EDGE/monitoring/login")
  expect_status 303 "$code" "POST /monitoring/login"
  grep -qi '^set-cookie: enkisys_monitoring=.*HttpOnly; SameSite=Strict; Path=/monitoring' \
    "$WORK/headers" || fail "no session cookie: $(cat "$WORK/headers")"
  code=$(curl -s -o "$WORK/body" -b "$jar" -w '%{http_code}' --max-time 10 -H 'Accept: text/html' \
    "$EDGE/monitoring/")
  expect_status 200 "$code" "the page with the cookie"
  grep -qF 'data-row="prod/' "$WORK/body" || fail "the page shows no prod row"
  code=$(curl -s -o /dev/null -b "$jar" -w '%{http_code}' --max-time 10 \
    -H 'Origin: https://evil.example' -X POST "$EDGE/monitoring/logout")
  expect_status 403 "$code" "a cross-site logout"
  code=$(curl -s -o /dev/null -D "$WORK/headers" -b "$jar" -w '%{http_code}' --max-time 10 \
    -H "Origin: $EDGE" -X POST "$EDGE/monitoring/logout")
  expect_status 303 "$code" "POST /monitoring/logout"
  grep -qi '^set-cookie: enkisys_monitoring=;.*Max-Age=0' "$WORK/headers" ||
    fail "logout did not clear the cookie: $(cat "$WORK/headers")"
}
