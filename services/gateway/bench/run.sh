#!/usr/bin/env bash
# Gateway benchmark against nginx and HAProxy on loopback (`make bench-gateway`): a tiny nginx
# backend and wrk on one CPU, the proxy under test alone on the other, interleaved rounds; the
# peers' configurations are in peers/. Our gateway runs with JWT verification (HS256, cache-hit
# path), CORS and a rate limit ENABLED on the measured route; nginx/HAProxy receive the same
# request headers.
#
#   services/gateway/bench/run.sh                     # ROUNDS=3 DURATION=10 CONNS=64
#   GATEWAY=build/release/bin/enkisys-gateway CASES="nginx haproxy gw gw_miss" ./run.sh
# Cases: nginx | haproxy | gw (cache hit) | gw_miss (a new token on every request) | direct |
#        nginx_eq (nginx doing the gateway's header work: peers/nginx_equivalent.conf) |
#        gw_base (the cache-hit case with another build, GATEWAY_BASE=..., for before/after).
# Also measures the gateway's RSS with IDLE_CONNS idle keep-alive connections.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
PEERS="${PEERS:-$HERE/peers}"   # backend_nginx.conf, proxy_nginx.conf, proxy_haproxy.cfg, nginx_equivalent.conf
[ -f "$PEERS/backend_nginx.conf" ] || { echo "peer configs not found in $PEERS (set PEERS=)" >&2; exit 2; }
GATEWAY="${GATEWAY:-$REPO/build/release/bin/enkisys-gateway}"
[ -x "$GATEWAY" ] || { echo "gateway binary not found: $GATEWAY (set GATEWAY=)" >&2; exit 2; }
WORK="${WORK:-/tmp/gwbench-gateway}"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10}"
CONNS="${CONNS:-64}"
SUT_CPU="${SUT_CPU:-1}"
LOAD_CPU="${LOAD_CPU:-0}"
CASES="${CASES:-nginx nginx_eq haproxy gw gw_miss}"
IDLE_CONNS="${IDLE_CONNS:-1000}"
QUIET_MAX_WAIT="${QUIET_MAX_WAIT:-180}"   # bench_one waits (max this many s) for an idle box
OUT="${OUT:-$WORK/results_$(date +%Y%m%d_%H%M%S).jsonl}"
GW_PORT=18083
mkdir -p "$WORK/run" "$WORK/logs"
ulimit -n "$(ulimit -Hn)" || true

# Bench credentials and config: generated here, never committed.
head -c 48 /dev/urandom | base64 | tr -d '\n/+=' > "$WORK/jwt.secret"
python3 "$HERE/mktoken.py" "$WORK/jwt.secret" bench 1 > "$WORK/token"
python3 "$HERE/mktoken.py" "$WORK/jwt.secret" bench 50000 > "$WORK/tokens"
TOKEN="$(cat "$WORK/token")"
write_config() {  # $1 = file, $2 = cache entries
  cat > "$1" <<YAML
jwt: {hs256_secret_file: $WORK/jwt.secret, issuer: bench, cache_entries: $2}
limits: {max_connections_per_ip: 0}   # every bench client is 127.0.0.1 (idle: 1,000 connections)
rate_limits:
  per_ip: {per: ip, rate_per_s: 100000000, burst: 100000000}
cors:
  web: {origins: ["http://localhost:5173"]}
stages:
  bench:
    cors: web
    routes:
      - {prefix: /, upstream: "http://127.0.0.1:18080", jwt: true, rate_limit: per_ip}
YAML
}
write_config "$WORK/gw_hit.yaml" 10000
write_config "$WORK/gw_miss.yaml" 16
HEADERS=(--header "Authorization: Bearer $TOKEN" --header "Origin: http://localhost:5173")

BACKEND_PID=""; PROXY_PID=""
children_of() { pgrep -P "$1" | paste -sd, -; }
pids_of() { local c; c="$(children_of "$1")"; echo "$1${c:+,$c}"; }
wait_port() { for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done; echo "port $1 not up" >&2; return 1; }
stop_pid() { local p="$1"; [ -n "$p" ] || return 0; kill -TERM "$p" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done; kill -KILL "$p" 2>/dev/null || true; }
cleanup() { stop_pid "$PROXY_PID"; PROXY_PID=""; stop_pid "$BACKEND_PID"; BACKEND_PID=""; }
trap cleanup EXIT INT TERM

start_backend() {
  taskset -c "$1" nginx -p "$WORK/" -c "$PEERS/backend_nginx.conf" -e "$WORK/logs/backend_error.log" &
  BACKEND_PID=$!; wait_port 18080; }
start_gateway() {  # $1 = config [$2 = binary]
  PORT=$GW_PORT ADMIN_PORT=0 ACCESS_LOG=off THREADS=1 LOG_LEVEL=warn \
    taskset -c "$SUT_CPU" "${2:-$GATEWAY}" --config "$1" > "$WORK/logs/gateway.log" 2>&1 &
  PROXY_PID=$!; wait_port "$GW_PORT"; }

run_case() {  # $1 = case, $2 = round
  local c="$1" r="$2" port sut be extra=()
  case "$c" in
    direct)  start_backend "$SUT_CPU"; port=18080; sut="$(pids_of "$BACKEND_PID")"; be="" ;;
    nginx)   start_backend "$LOAD_CPU"
             taskset -c "$SUT_CPU" nginx -p "$WORK/" -c "$PEERS/proxy_nginx.conf" -e "$WORK/logs/proxy_nginx_error.log" &
             PROXY_PID=$!; wait_port 18081; port=18081 ;;
    nginx_eq) start_backend "$LOAD_CPU"
             taskset -c "$SUT_CPU" nginx -p "$WORK/" -c "$PEERS/nginx_equivalent.conf" -e "$WORK/logs/proxy_nginx_eq_error.log" &
             PROXY_PID=$!; wait_port 18084; port=18084 ;;
    haproxy) start_backend "$LOAD_CPU"
             taskset -c "$SUT_CPU" haproxy -db -f "$PEERS/proxy_haproxy.cfg" & PROXY_PID=$!; wait_port 18082; port=18082 ;;
    gw)      start_backend "$LOAD_CPU"; start_gateway "$WORK/gw_hit.yaml"; port=$GW_PORT ;;
    gw_base) start_backend "$LOAD_CPU"; start_gateway "$WORK/gw_hit.yaml" "${GATEWAY_BASE:?set GATEWAY_BASE}"; port=$GW_PORT ;;
    gw_miss) start_backend "$LOAD_CPU"; start_gateway "$WORK/gw_miss.yaml"; port=$GW_PORT
             extra=(--script "$HERE/tokens.lua") ;;
  esac
  if [ "$c" != direct ]; then sut="$(pids_of "$PROXY_PID")"; be="$(pids_of "$BACKEND_PID")"; fi
  local url="http://127.0.0.1:$port/bench/"
  curl -fsS -H "Authorization: Bearer $TOKEN" "$url" >/dev/null
  taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d2s -H "Authorization: Bearer $TOKEN" "$url" >/dev/null   # warm-up
  TOKENS_FILE="$WORK/tokens" python3 "$HERE/bench_one.py" --label "$c" --run "$r" --url "$url" \
      --sut-pids "$sut" --backend-pids "$be" --wrk-cpu "$LOAD_CPU" --conns "$CONNS" --duration "$DURATION" --quiet-max-wait "$QUIET_MAX_WAIT" \
      "${HEADERS[@]}" "${extra[@]}" | tee -a "$OUT"
  cleanup; sleep 1
}

echo "# $(date -Is) conns=$CONNS duration=${DURATION}s nginx=$(nginx -v 2>&1 | cut -d/ -f2) haproxy=$(haproxy -v | head -1 | awk '{print $3}') cpus=$(nproc) gateway=$GATEWAY" >&2
for r in $(seq 1 "$ROUNDS"); do for c in $CASES; do run_case "$c" "$r"; done; done
python3 "$HERE/summarize.py" "$OUT"

# Memory: RSS with IDLE_CONNS idle keep-alive client connections (after one request each).
start_backend "$LOAD_CPU"; start_gateway "$WORK/gw_hit.yaml"
python3 "$HERE/idle_rss.py" "$GW_PORT" "$PROXY_PID" "$IDLE_CONNS" /bench/ "Authorization: Bearer $TOKEN" | tee "${OUT%.jsonl}.rss.json"
cleanup
