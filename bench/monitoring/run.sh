#!/usr/bin/env bash
# The cost of the monitoring service, and the cost it adds to a polled service.
#   bench/monitoring/run.sh [SECONDS]     (default 60; build first: enkisys-monitoring)
# 1. enkisys-monitoring polls STAGES × SERVICES targets (default 4 × 8) every 5 s (its
#    default interval) on loopback, each target a fake service (targets.py, one process for
#    all, realistic /metrics of ROUTES routes) — its CPU (% of one core, over SECONDS after a
#    15 s warm-up) and its RSS (VmRSS at the end, VmHWM peak). Goal: ≤ 1 % of a core, ≤ 30 MB.
# 2. A polled service: a real service binary (the core skeleton's /health and /metrics, here
#    enkisys-monitoring itself with one target) scraped SCRAPES times — its CPU-µs per
#    /metrics scrape and per /health probe.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
BIN=${MONITORING_BIN:-$ROOT/build/release/bin/enkisys-monitoring}
SECONDS_RUN=${1:-60}
STAGES=${STAGES:-4}
SERVICES=${SERVICES:-8}
ROUTES=${ROUTES:-8}
SCRAPES=${SCRAPES:-2000}
[[ -x $BIN ]] || {
  echo "bench: no $BIN (cmake --build --preset release --target enkisys-monitoring)" >&2
  exit 1
}
WORK=$(mktemp -d /tmp/enkisys-bench-monitoring.XXXXXX)
PIDS=()
cleanup() {
  stop_pids "${PIDS[@]}"
  rm -rf "$WORK"
}
trap cleanup EXIT
HZ=$(getconf CLK_TCK)
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_health() {
  local i
  for ((i = 0; i < 100; i++)); do
    curl -sf -o /dev/null --max-time 1 "http://127.0.0.1:$1/health" && return 0
    sleep 0.1
  done
  echo "bench: port $1 never healthy" >&2
  exit 1
}

# --- 1. the monitoring process -------------------------------------------------------------
coproc TARGETS { exec python3 "$ROOT/bench/monitoring/targets.py" "$ROUTES"; }
PIDS+=("$TARGETS_PID")
read -r TPORT <&"${TARGETS[0]}"
targets=""
for ((s = 0; s < STAGES; s++)); do
  for ((v = 0; v < SERVICES; v++)); do
    targets+="${targets:+,}stage$s:svc$v=http://127.0.0.1:$TPORT/t$s-$v"
  done
done
PORT=$(free_port)
PORT=$PORT BIND_ADDRESS=127.0.0.1 ACCESS_LOG=off LOG_LEVEL=warn \
  DATABASE_URL="sqlite://$WORK/monitoring.db" MONITOR_TARGETS="$targets" \
  "$BIN" >"$WORK/monitoring.log" 2>&1 &
MPID=$!
PIDS+=("$MPID")
wait_health "$PORT"
sleep 15 # warm-up: the first polls, the database file and the page cache settle
t0=$(tree_cpu_ticks "$MPID")
sleep "$SECONDS_RUN"
t1=$(tree_cpu_ticks "$MPID")
# One status request, as a page refresh would do (not counted above).
status_bytes=$(curl -sf --max-time 5 "http://127.0.0.1:$PORT/api/status" | wc -c)
federate_bytes=$(curl -sf --max-time 5 "http://127.0.0.1:$PORT/federate" | wc -c)
rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$MPID/status")
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$MPID/status")
cpu_pct=$(awk -v d=$((t1 - t0)) -v hz="$HZ" -v s="$SECONDS_RUN" 'BEGIN { printf "%.2f", 100 * d / hz / s }')
echo "monitoring: $((STAGES * SERVICES)) targets every 5 s, ${SECONDS_RUN} s: CPU ${cpu_pct} % of a core" \
  "($((t1 - t0)) ticks at ${HZ} Hz), RSS $((rss / 1024)) MB (peak $((hwm / 1024)) MB)," \
  "status JSON ${status_bytes} B, federate ${federate_bytes} B"
stop_pids "$MPID"

# --- 2. a polled service -----------------------------------------------------------------
SPORT=$(free_port)
PORT=$SPORT BIND_ADDRESS=127.0.0.1 ACCESS_LOG=off LOG_LEVEL=warn \
  DATABASE_URL="sqlite://$WORK/polled.db" MONITOR_INTERVAL_S=3600 \
  MONITOR_TARGETS="x:y=http://127.0.0.1:9" "$BIN" >"$WORK/polled.log" 2>&1 &
SPID=$!
PIDS+=("$SPID")
wait_health "$SPORT"
# Traffic first, so that /metrics carries a few routes as a busy service's would.
for path in /api/status /federate /api/silences /app.js /app.css /; do
  curl -sf -o /dev/null "http://127.0.0.1:$SPORT$path" || true
done
for what in metrics health; do
  c0=$(tree_cpu_ticks "$SPID")
  python3 - "$SPORT" "/$what" "$SCRAPES" <<'PY'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
for _ in range(int(sys.argv[3])):
    c.request("GET", sys.argv[2])
    c.getresponse().read()
PY
  c1=$(tree_cpu_ticks "$SPID")
  echo "polled service: GET /$what: $(awk -v d=$((c1 - c0)) -v hz="$HZ" -v n="$SCRAPES" \
    'BEGIN { printf "%.1f", 1e6 * d / hz / n }') CPU-µs per request ($SCRAPES requests," \
    "$(curl -sf "http://127.0.0.1:$SPORT/$what" | wc -c) B)"
done
