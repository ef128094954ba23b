#!/usr/bin/env bash
# TLS benchmark on loopback: the gateway's TLS listener against nginx terminating TLS with the
# same certificate (EC P-256), protocols and ciphers, both proxying to the same nginx backend.
#   services/gateway/bench/tls.sh          # DURATION=8 CONNS=64, one run
# Two loads per proxy, with wrk on one CPU and the proxy alone on the other:
#   keepalive   requests/s over CONNS kept-alive TLS connections
#   handshake   new connections/s: every request on a new connection (Connection: close), a
#               full TLS 1.3 handshake each (no session resumption on either side)
# CPU per request = the proxy's user+system CPU time during the run / requests; cpu% = how busy
# the proxy's core was (below 100: the load side, wrk + backend on the other core, was the limit).
# Prints a table and the gateway/nginx ratios.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
GATEWAY="${GATEWAY:-$REPO/build/release/bin/enkisys-gateway}"
[ -x "$GATEWAY" ] || { echo "gateway binary not found: $GATEWAY (set GATEWAY=)" >&2; exit 2; }
WORK="${WORK:-/tmp/gwbench-tls}"
DURATION="${DURATION:-8}"
CONNS="${CONNS:-64}"
SUT_CPU="${SUT_CPU:-1}"
LOAD_CPU="${LOAD_CPU:-0}"
mkdir -p "$WORK/run" "$WORK/logs" "$WORK/certs"
CERTS="$WORK/certs"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
  -keyout "$CERTS/server.key" -out "$CERTS/server.pem" 2>/dev/null
sed "s|CERT_DIR|$CERTS|g" "$HERE/peers/proxy_nginx_tls.conf" > "$WORK/proxy_nginx_tls.conf"
cat > "$WORK/gw.yaml" <<YAML
limits: {max_connections_per_ip: 0}
stages:
  bench:
    routes:
      - {prefix: /, upstream: "http://127.0.0.1:18080", health: null}
YAML

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
wait_tls() { for _ in $(seq 1 50); do curl -sk -o /dev/null "https://127.0.0.1:$1/bench/" && return 0; sleep 0.1; done; echo "port $1 not up" >&2; return 1; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime of the main process
all_ticks() { local t=0 p; for p in "$@"; do t=$((t + $(cpu_ticks "$p"))); done; echo "$t"; }
HZ=$(getconf CLK_TCK)

taskset -c "$LOAD_CPU" nginx -p "$WORK/" -c "$HERE/peers/backend_nginx.conf" -e "$WORK/logs/backend_error.log" &
PIDS+=($!)
PORT=18083 ADMIN_PORT=0 ACCESS_LOG=off THREADS=1 LOG_LEVEL=warn GATEWAY_TLS_WATCH_MS=0 \
  GATEWAY_TLS_CERTS="$CERTS/server.pem:$CERTS/server.key" GATEWAY_TLS_PORT=18443 \
  taskset -c "$SUT_CPU" "$GATEWAY" --config "$WORK/gw.yaml" > "$WORK/logs/gateway.log" 2>&1 &
GW_PID=$!
PIDS+=("$GW_PID")
taskset -c "$SUT_CPU" nginx -p "$WORK/" -c "$WORK/proxy_nginx_tls.conf" -e "$WORK/logs/nginx_tls_error.log" &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
wait_tls 18443
wait_tls 18444

# run NAME PORT MODE PIDS...: one wrk run; prints "name mode req/s cpu_us_per_req".
run() {
  local name=$1 port=$2 mode=$3 before after out rps reqs extra=()
  shift 3
  [[ $mode == handshake ]] && extra=(--header "Connection: close")
  before=$(all_ticks "$@")
  out=$(taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" "${extra[@]}" "https://127.0.0.1:$port/bench/")
  after=$(all_ticks "$@")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  awk -v n="$name" -v m="$mode" -v r="$rps" -v q="$reqs" -v t=$((after - before)) -v hz="$HZ" \
    'BEGIN { c = (q > 0 ? t / hz * 1e6 / q : 0); printf "%-8s %-10s %10.0f %12.1f %9.0f\n", n, m, r, c, c * r / 1e4 }'
}
# nginx's worker is the child of its master process.
NGINX_WORKER=$(pgrep -P "$NGINX_PID" | head -1)
printf "%-8s %-10s %10s %12s %9s\n" proxy load "req/s" "cpu_us/req" "cpu%"
RESULTS=$(
  run gateway 18443 keepalive "$GW_PID"
  run nginx 18444 keepalive "$NGINX_WORKER"
  run gateway 18443 handshake "$GW_PID"
  run nginx 18444 handshake "$NGINX_WORKER"
)
echo "$RESULTS"
awk '{ rps[$1 " " $2] = $3; cpu[$1 " " $2] = $4 }
  END { for (m in rps) { split(m, k, " "); if (k[1] != "gateway") continue;
          printf "ratio %-10s req/s gateway/nginx %.2f  cpu/req gateway/nginx %.2f\n", k[2],
            rps[m] / rps["nginx " k[2]], cpu[m] / cpu["nginx " k[2]] } }' <<<"$RESULTS"
