#!/usr/bin/env bash
# Benchmarks the tools service against its Flask twin (bench/peers/flask_tools) in one run:
# same machine, same SQLite-backed data, same wrk load, on loopback ports the OS picked.
#   bench/tools_bench.sh            (after `make build`; needs wrk, gunicorn, python3-flask)
# Env: ENKISYS_TOOLS_BIN (default build/release/bin/enkisys-tools), BENCH_DURATION (10s),
#      BENCH_CONNECTIONS (64), FLASK_WORKERS ("2 4": each is measured, the best is compared),
#      FLASK_AUDIT (1: also measure the twin committing an audit row per invoke, as ours does).
# Prints a markdown table (req/s, p99 latency, peak RSS of the server's process tree) and the
# ratios ours/flask. Without the tools binary only the Flask half runs.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
BIN=${ENKISYS_TOOLS_BIN:-$ROOT/build/release/bin/enkisys-tools}
DURATION=${BENCH_DURATION:-10s}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
FLASK_WORKERS=${FLASK_WORKERS:-2 4}
WORK=$(mktemp -d /tmp/enkisys-bench.XXXXXX)
# With 2+ cores each server gets CPU 1 to itself and wrk runs on CPU 0, so req/s compares the
# servers rather than how they share a core with the load generator (BENCH_PIN=0: no pinning).
if [[ ${BENCH_PIN:-1} != 0 ]] && (($(nproc) >= 2)); then
  SERVER_CPU=(taskset -c 1)
  LOAD_CPU=(taskset -c 0)
  OUR_THREADS=1
else
  SERVER_CPU=()
  LOAD_CPU=()
  OUR_THREADS=2
fi
PIDS=()

for tool in wrk gunicorn curl jq python3; do
  command -v "$tool" >/dev/null || {
    echo "bench: $tool missing (make deps-host)" >&2
    exit 1
  }
done

cleanup() {
  stop_pids "${PIDS[@]+"${PIDS[@]}"}"
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_up URL PID: polls URL until it answers 200, bounded to 20 s.
wait_up() {
  local url=$1 pid=$2 i
  for ((i = 0; i < 200; i++)); do
    if curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null; then return 0; fi
    kill -0 "$pid" 2>/dev/null || {
      echo "bench: server for $url exited" >&2
      return 1
    }
    sleep 0.1
  done
  echo "bench: $url not up after 20 s" >&2
  return 1
}

post_script() { # post_script FILE BODY
  cat >"$1" <<LUA
wrk.method = "POST"
wrk.body = '$2'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-User-Id"] = "$BENCH_USER"
LUA
}

# Both servers answer /api/tools only for a user the gateway identified (X-User-Id); the tool
# belongs to that user, so GET and invoke pass the ownership check on every request.
BENCH_USER=bench-user
TOOL_JSON='{"name":"weather","description":"Weather for a city","kind":"http","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]},"http":{"method":"GET","url":"http://weather.example.invalid/v1","headers":{},"timeout_ms":2000,"max_response_bytes":65536}}'
INVOKE_JSON='{"arguments":{"expression":"1+2*3"}}'
post_script "$WORK/invoke.lua" "$INVOKE_JSON"

RESULTS=$WORK/results.tsv # server endpoint rps p99ms rssMB
: >"$RESULTS"

# measure SERVER PID BASE: seeds, warms up, runs wrk on both endpoints, records results.
measure() {
  local server=$1 pid=$2 base=$3 code endpoint url args out rss_file sampler rps p99 rss cpu0 cpu1 requests cpu_us
  code=$(curl -sS -o "$WORK/seed.out" -w '%{http_code}' --max-time 5 -H 'Content-Type: application/json' \
    -H "X-User-Id: $BENCH_USER" --data-binary "$TOOL_JSON" "$base/api/tools")
  [[ $code == 201 ]] || {
    echo "bench: seeding $server failed: HTTP $code $(head -c 300 "$WORK/seed.out")" >&2
    return 1
  }
  code=$(curl -sS -o "$WORK/check.out" -w '%{http_code}' --max-time 5 -H 'Content-Type: application/json' \
    -H "X-User-Id: $BENCH_USER" --data-binary "$INVOKE_JSON" "$base/api/tools/calculator/invoke")
  if [[ $code != 200 ]] || ! jq -e '.result == 7' "$WORK/check.out" >/dev/null; then
    echo "bench: $server calculator check failed: HTTP $code $(head -c 300 "$WORK/check.out")" >&2
    return 1
  fi
  for endpoint in "GET /api/tools/{name}" "POST /api/tools/calculator/invoke"; do
    if [[ $endpoint == GET* ]]; then
      url=$base/api/tools/weather
      args=(-H "X-User-Id: $BENCH_USER")
    else
      url=$base/api/tools/calculator/invoke
      args=(-s "$WORK/invoke.lua")
    fi
    timeout 30 "${LOAD_CPU[@]}" wrk -t2 -c"$CONNECTIONS" -d2s "${args[@]}" "$url" >/dev/null || true # warm-up
    rss_file=$WORK/rss.$pid
    echo 0 >"$rss_file"
    sample_rss "$pid" "$rss_file" &
    sampler=$!
    cpu0=$(tree_cpu_ticks "$pid")
    out=$(timeout 120 "${LOAD_CPU[@]}" wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "${args[@]}" "$url" 2>&1) || true
    cpu1=$(tree_cpu_ticks "$pid")
    kill "$sampler" 2>/dev/null || true
    wait "$sampler" 2>/dev/null || true
    if ! kill -0 "$pid" 2>/dev/null || ! grep -q '^Requests/sec:' <<<"$out"; then
      echo "bench: $server $endpoint failed: $out" >&2
      echo "bench: last server log lines:" >&2
      tail -n 20 "$WORK"/*.log >&2 || true
      return 1
    fi
    if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then
      echo "bench: $server $endpoint: $(grep -E 'Non-2xx|Socket errors' <<<"$out")" >&2
    fi
    rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
    p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
    rss=$(awk '{ printf "%.1f", $1 / 1024 }' "$rss_file")
    requests=$(awk '/requests in/ { print $1 }' <<<"$out")
    cpu_us=$(awk -v t=$((cpu1 - cpu0)) -v hz="$(getconf CLK_TCK)" -v n="$requests" \
      'BEGIN { printf "%.1f", (n > 0 ? t * 1e6 / hz / n : 0) }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$server" "$endpoint" "$rps" "$p99" "$rss" "$cpu_us" | tee -a "$RESULTS" >&2
  done
}

# --- ours ---
if [[ -x $BIN ]]; then
  port=$(free_port)
  mkdir -p "$WORK/ours"
  PORT=$port THREADS=$OUR_THREADS DATABASE_URL="sqlite://$WORK/ours/tools.db" LOG_LEVEL=warn \
    "${SERVER_CPU[@]}" "$BIN" >"$WORK/ours.log" 2>&1 &
  PIDS+=($!)
  wait_up "http://127.0.0.1:$port/health" "${PIDS[-1]}"
  measure enkisys-tools "${PIDS[-1]}" "http://127.0.0.1:$port"
  kill -TERM "${PIDS[-1]}"
else
  echo "bench: $BIN not built; measuring the Flask twin only" >&2
fi

# --- the Flask twin, under gunicorn with each worker count ---
for workers in $FLASK_WORKERS; do
  port=$(free_port)
  TOOLS_DB=$WORK/flask-$workers.db "${SERVER_CPU[@]}" gunicorn -w "$workers" -k sync -b "127.0.0.1:$port" \
    --chdir "$ROOT/bench/peers/flask_tools" --log-level warning app:app >"$WORK/flask-$workers.log" 2>&1 &
  PIDS+=($!)
  wait_up "http://127.0.0.1:$port/health" "${PIDS[-1]}"
  measure "flask (gunicorn -w $workers)" "${PIDS[-1]}" "http://127.0.0.1:$port"
  kill -TERM "${PIDS[-1]}"
done

# --- the twin doing the same durable work on invoke (an audit row committed per request) ---
if [[ ${FLASK_AUDIT:-1} == 1 ]]; then
  workers=${FLASK_WORKERS%% *}
  port=$(free_port)
  TWIN_AUDIT=1 TOOLS_DB=$WORK/flask-audit.db "${SERVER_CPU[@]}" gunicorn -w "$workers" -k sync \
    -b "127.0.0.1:$port" --chdir "$ROOT/bench/peers/flask_tools" --log-level warning app:app \
    >"$WORK/flask-audit.log" 2>&1 &
  PIDS+=($!)
  wait_up "http://127.0.0.1:$port/health" "${PIDS[-1]}"
  measure "flask audit (gunicorn -w $workers)" "${PIDS[-1]}" "http://127.0.0.1:$port"
  kill -TERM "${PIDS[-1]}"
fi

# --- report ---
echo
echo "tools vs Flask twin: wrk -t2 -c$CONNECTIONS -d$DURATION on $(nproc) cores${SERVER_CPU[*]:+ (servers pinned to CPU 1, wrk to CPU 0)}, $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "| server | endpoint | req/s | p99 ms | RSS MB | server CPU µs/request |"
echo "|---|---|---:|---:|---:|---:|"
awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6 }' "$RESULTS"
awk -F'\t' '
  $1 == "enkisys-tools" { ours[$2] = $0; order[++n] = $2; next }
  $1 ~ /^flask audit/ { audit[$2] = $0; next }
  { total[$1] += $3; rows[$1, $2] = $0; servers[$1] = 1 }
  END {
    best = ""; for (s in servers) if (best == "" || total[s] > total[best]) best = s
    if (best == "" || length(ours) == 0) exit
    printf "\nours / %s (the better Flask setup):\n\n", best
    print "| endpoint | req/s ratio | p99 ratio | RSS ratio | CPU per request: flask / ours |"
    print "|---|---:|---:|---:|---:|"
    for (i = 1; i <= n; i++) {
      e = order[i]; split(ours[e], o, "\t"); split(rows[best, e], f, "\t")
      printf "| %s | %.1fx | %.2fx | %.2fx | %.1fx |\n", e, (f[3] > 0 ? o[3] / f[3] : 0),
        (f[4] > 0 ? o[4] / f[4] : 0), (f[5] > 0 ? o[5] / f[5] : 0), (o[6] > 0 ? f[6] / o[6] : 0)
    }
    e = "POST /api/tools/calculator/invoke"
    if ((e in audit) && (e in ours)) {
      split(ours[e], o, "\t"); split(audit[e], f, "\t")
      printf "\nsame work (the twin also commits an audit row per invoke, WAL + synchronous=FULL):\n\n"
      print "| endpoint | req/s ratio | p99 ratio | RSS ratio | CPU per request: flask / ours |"
      print "|---|---:|---:|---:|---:|"
      printf "| %s | %.1fx | %.2fx | %.2fx | %.1fx |\n", e, (f[3] > 0 ? o[3] / f[3] : 0),
        (f[4] > 0 ? o[4] / f[4] : 0), (f[5] > 0 ? o[5] / f[5] : 0), (o[6] > 0 ? f[6] / o[6] : 0)
    }
  }' "$RESULTS"
