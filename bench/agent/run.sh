#!/usr/bin/env bash
# Benchmarks the conversation service (enkisys-agent) against its FastAPI + httpx twin
# (bench/agent/twin.py under uvicorn) in one run, on loopback ports the OS picked:
#  1. the fake model (enkisys-fake-openai: a fixed answer at once) alone under wrk — its cost
#     and the load driver's ceiling;
#  2. turns: real enkisys-rag (a shared collection of five documents) and enkisys-tools
#     (calculator), 64 conversations kept busy by wrk (a Lua script rotating the conversation
#     ids, one user each), POST /api/chat/conversations/{id}/messages non-streaming; every
#     FAKE_TOOL_EVERY-th turn the model asks for calculator (a second model call);
#     then the same 64 conversations paced like users: each sends its next turn after a think
#     time (wrk's Lua delay(), uniform in 0.5..1.5 times the mean) chosen so that the offered
#     load is PACED_SHARE (0.5) of the saturated turns/s just measured for ours; the fake model
#     alone at the same pacing, so that turn latency − model latency (the orchestration
#     overhead) can be printed; the twin at the same offered rate;
#  3. SSE_STREAMS turns held open as server-sent event streams (the fake model streams slowly):
#     the RSS of enkisys-agent.
#   bench/agent/run.sh   (after `make build`; needs wrk, python3-fastapi, python3-uvicorn,
#                         python3-httpx, gunicorn, curl: deps/apt-bench.txt)
# Env: BENCH_DURATION (10s), BENCH_DB_DIR (tmpfs: where the SQLite files go), BENCH_CONNECTIONS (64), TWIN_WORKERS ("1 2": worker counts of the twin,
#      each measured, the best compared), FAKE_TOOL_EVERY (10), SSE_STREAMS (1000),
#      BENCH_PIN (1: the orchestrator on CPU 1, rag/tools/model/wrk on CPU 0),
#      AGENT_WRAP (a command enkisys-agent runs under, e.g. "perf record -g -o FILE --"),
#      PACED_SHARE (0.5: the paced load's offered share of ours' saturated turns/s),
#      AGENT_BIN (the enkisys-agent measured; default: this build's),
#      ONLY (unset: everything; "ours": enkisys-agent alone, without the fake model's own
#      measurement and the twin), SKIP_SSE (1: no streams), SKIP_TURNS (1: streams only).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
BIN=${ENKISYS_BIN_DIR:-$ROOT/build/release/bin}
# The enkisys-agent measured: this build's, or AGENT_BIN, e.g. the image's static binary
# (docker create enkisys/agent:TAG; docker cp ID:/usr/local/bin/enkisys-agent FILE).
AGENT=${AGENT_BIN:-$BIN/enkisys-agent}
DURATION=${BENCH_DURATION:-10s}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
TWIN_WORKERS=${TWIN_WORKERS:-1 2}
TOOL_EVERY=${FAKE_TOOL_EVERY:-10}
SSE_STREAMS=${SSE_STREAMS:-1000}
PACED_SHARE=${PACED_SHARE:-0.5}
PACED_MODE= # the paced load's mode name, once ours' saturated turns/s is known
THINK_MS=   # its mean think time per conversation
WORK=$(mktemp -d /tmp/enkisys-agent-bench.XXXXXX)
# The SQLite files of every server: on tmpfs by default, so that the figures are the services'
# work rather than this disk's fsync latency (BENCH_DB_DIR=DIR: there instead, e.g. a disk).
if [[ -n ${BENCH_DB_DIR:-} ]]; then
  DB_DIR=$(mktemp -d "$BENCH_DB_DIR/enkisys-agent-bench.XXXXXX")
elif [[ -d /dev/shm && -w /dev/shm ]]; then
  DB_DIR=$(mktemp -d /dev/shm/enkisys-agent-bench.XXXXXX)
else
  DB_DIR=$WORK
fi
if [[ ${BENCH_PIN:-1} != 0 ]] && (($(nproc) >= 2)); then
  SERVER_CPU=(taskset -c 1)
  BACK_CPU=(taskset -c 0)
  OUR_THREADS=1
else
  SERVER_CPU=()
  BACK_CPU=()
  OUR_THREADS=2
fi
# AGENT_WRAP, split into words (a command line).
read -r -a WRAP <<<"${AGENT_WRAP:-}"
PIDS=()

for tool in wrk curl python3 gunicorn; do
  command -v "$tool" >/dev/null || {
    echo "bench: $tool missing (make deps-host)" >&2
    exit 1
  }
done
[[ -x $AGENT ]] || {
  echo "bench: $AGENT not built (make build, or AGENT_BIN)" >&2
  exit 1
}
for b in enkisys-rag enkisys-tools enkisys-fake-openai; do
  [[ -x $BIN/$b ]] || {
    echo "bench: $BIN/$b not built (make build; enkisys-fake-openai needs ENKISYS_TESTS=ON)" >&2
    exit 1
  }
done
/usr/bin/python3 -c 'import fastapi, uvicorn, httpx' || {
  echo "bench: python3-fastapi, python3-uvicorn, python3-httpx missing (deps/apt-bench.txt)" >&2
  exit 1
}
# 1,000 client streams + their model calls: two descriptors each, and some more.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

cleanup() {
  stop_pids "${PIDS[@]+"${PIDS[@]}"}"
  rm -rf "$WORK" "$DB_DIR"
}
trap cleanup EXIT

# stop PID LOG: SIGTERM, then waits (bounded to 5 s) before SIGKILL; names an unclean exit.
stop() {
  local i rc=0
  kill -TERM "$1" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || rc=$?
  if ((rc != 0 && rc != 143)); then
    echo "bench: $2: exit status $rc on SIGTERM; last lines:" >&2
    tail -n 5 "$2" >&2
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# port_of LOG PID: the port a service (its `listening` log line, listener main) or the fake
# model (`port N`) reports, bounded to 20 s.
port_of() {
  local log=$1 pid=$2 i p
  for ((i = 0; i < 200; i++)); do
    p=$([[ -f $log ]] && sed -nE 's/.*"msg":"listening".*"listener":"main".*"port":([0-9]+).*/\1/p; s/^port ([0-9]+)$/\1/p' "$log" | head -n1)
    if [[ -n $p ]]; then echo "$p"; return 0; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "bench: no port in $log: $(tail -n 5 "$log")" >&2
  return 1
}

# wait_up URL PID: polls URL until it answers 200, bounded to 20 s.
wait_up() {
  local url=$1 pid=$2 i
  for ((i = 0; i < 200; i++)); do
    if curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null; then return 0; fi
    kill -0 "$pid" 2>/dev/null || { echo "bench: server for $url exited" >&2; return 1; }
    sleep 0.1
  done
  echo "bench: $url not up after 20 s" >&2
  return 1
}

RESULTS=$WORK/results.tsv # name mode rps p50 p99 rssMB cpu_us/req errors wrk_cpu_us/req
# The load driver's own CPU per request (user + system of wrk), when GNU time is there.
TIMER=()
[[ -x /usr/bin/time ]] && TIMER=(/usr/bin/time -f 'driver_cpu %U %S')
: >"$RESULTS"

# load NAME MODE PID URL SCRIPT [WARM_SCRIPT] [CONNECTIONS]: a 3 s warm-up (WARM_SCRIPT, default
# SCRIPT), then wrk for DURATION with CPU and RSS of PID's tree measured. The Lua scripts get
# wrk's thread count.
load() {
  local name=$1 mode=$2 pid=$3 url=$4 script=$5 warm=${6:-$5} conns=${7:-$CONNECTIONS} threads=2 out driver_us rss_file sampler cpu0 cpu1 requests rps p50 p99 rss cpu_us errors
  ((conns < 2)) && threads=1
  timeout 60 "${BACK_CPU[@]}" wrk -t$threads -c"$conns" -d3s -s "$warm" "$url" -- $threads >/dev/null || true
  rss_file=$WORK/rss.$pid
  echo 0 >"$rss_file"
  sample_rss "$pid" "$rss_file" &
  sampler=$!
  cpu0=$(tree_cpu_ticks "$pid")
  out=$(timeout 180 "${BACK_CPU[@]}" "${TIMER[@]}" wrk -t$threads -c"$conns" -d"$DURATION" --latency -s "$script" "$url" -- $threads 2>&1) || true
  cpu1=$(tree_cpu_ticks "$pid")
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  if ! grep -q '^Requests/sec:' <<<"$out"; then
    echo "bench: $name: wrk failed: $out" >&2
    return 1
  fi
  errors=$(awk '/Non-2xx/ { n += $NF } /Socket errors/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' <<<"$out")
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
  rss=$(awk '{ printf "%.1f", $1 / 1024 }' "$rss_file")
  requests=$(awk '/requests in/ { print $1 }' <<<"$out")
  cpu_us=$(awk -v t=$((cpu1 - cpu0)) -v hz="$(getconf CLK_TCK)" -v n="$requests" \
    'BEGIN { printf "%.0f", (n > 0 ? t * 1e6 / hz / n : 0) }')
  driver_us=$(awk -v n="$requests" '$1 == "driver_cpu" { printf "%.0f", (n > 0 ? ($2 + $3) * 1e6 / n : 0) }' <<<"$out")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$mode" "$rps" "$p50" "$p99" "$rss" "$cpu_us" "$errors" "${driver_us:--}" |
    tee -a "$RESULTS" >&2
}

start_fake() { # start_fake NAME [ENV=...]: starts the fake model on CPU 0; sets FAKE_PID, FAKE_URL
  local name=$1 port
  shift
  env "$@" THREADS=1 "${BACK_CPU[@]}" "$BIN/enkisys-fake-openai" >"$WORK/$name.log" 2>&1 &
  FAKE_PID=$!
  PIDS+=("$FAKE_PID")
  port=$(port_of "$WORK/$name.log" "$FAKE_PID")
  FAKE_URL=http://127.0.0.1:$port/v1
}

# --- the backends: fake model, rag, tools (CPU 0) ---
start_fake fake FAKE_TOOL_EVERY="$TOOL_EVERY"
mkdir -p "$WORK/rag" "$WORK/tools"
PORT=0 BIND_ADDRESS=127.0.0.1 ACCESS_LOG=off LOG_LEVEL=info THREADS=1 RAG_DATA_DIR="$WORK/rag" \
  DATABASE_URL="sqlite://$DB_DIR/rag.db" "${BACK_CPU[@]}" "$BIN/enkisys-rag" >"$WORK/rag.log" 2>&1 &
PIDS+=($!)
RAG_URL=http://127.0.0.1:$(port_of "$WORK/rag.log" "${PIDS[-1]}")
PORT=0 BIND_ADDRESS=127.0.0.1 ACCESS_LOG=off LOG_LEVEL=info THREADS=1 \
  DATABASE_URL="sqlite://$DB_DIR/tools.db" "${BACK_CPU[@]}" "$BIN/enkisys-tools" >"$WORK/tools.log" 2>&1 &
PIDS+=($!)
TOOLS_URL=http://127.0.0.1:$(port_of "$WORK/tools.log" "${PIDS[-1]}")
COLLECTION=$(/usr/bin/python3 "$ROOT/bench/agent/driver.py" rag-seed "$RAG_URL")

# --- 1. the fake model alone: its own cost, and what wrk can drive on CPU 0 ---
cat >"$WORK/fake.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"model":"fake-model","stream":true,"messages":[{"role":"user","content":"hi"}]}'
wrk.headers["Content-Type"] = "application/json"
LUA
[[ -n ${ONLY:-} ]] || load "enkisys-fake-openai alone" "$CONNECTIONS requests at once" "$FAKE_PID" "$FAKE_URL/chat/completions" "$WORK/fake.lua"

# paced LUA OUT: LUA with a think time before each request of a connection (wrk's delay(),
# uniform in 0.5..1.5 x THINK_MS: users do not send in step).
paced() {
  cat "$1" >"$2"
  cat >>"$2" <<LUA
local think_ms = $THINK_MS
local paced_init = init
function init(args)
  if paced_init then paced_init(args) end
  math.randomseed(os.time() + (tid or 0) * 7919 + math.floor(os.clock() * 1e6))
end
function delay()
  return math.floor(think_ms * (0.5 + math.random()))
end
LUA
}

# --- 2. turns: ours, then the twin with each worker count ---
# measure_turns NAME PID BASE: fresh conversations for each measurement (a turn loads its
# conversation's history, so every server starts from the same lengths); one turn at a time
# (the overhead of a turn), then CONNECTIONS conversations at once.
measure_turns() {
  local name=$1 pid=$2 base=$3 set rps
  for set in warm one busy paced; do
    /usr/bin/python3 "$ROOT/bench/agent/driver.py" conversations "$base" "$CONNECTIONS" \
      "$COLLECTION" "$WORK/$set.lua"
  done
  /usr/bin/python3 "$ROOT/bench/agent/driver.py" check "$base" "$WORK/warm.lua" >"$WORK/check.out"
  load "$name" "1 turn at a time" "$pid" "$base" "$WORK/one.lua" "$WORK/warm.lua" 1
  load "$name" "$CONNECTIONS conversations at once" "$pid" "$base" "$WORK/busy.lua" "$WORK/warm.lua"
  if [[ -z $THINK_MS ]]; then # ours, measured first: the pacing of every paced load
    rps=$(awk -F'\t' 'END { print $3 }' "$RESULTS")
    THINK_MS=$(awk -v c="$CONNECTIONS" -v r="$rps" -v s="$PACED_SHARE" \
      'BEGIN { printf "%d", (r * s > 0 ? c * 1000 / (r * s) : 1000) }')
    PACED_MODE="$CONNECTIONS conversations, think time ~$THINK_MS ms (offered $(awk -v c="$CONNECTIONS" -v t="$THINK_MS" 'BEGIN { printf "%.0f", c * 1000 / t }') turns/s)"
  fi
  paced "$WORK/paced.lua" "$WORK/paced-run.lua"
  paced "$WORK/warm.lua" "$WORK/paced-warm.lua"
  load "$name" "$PACED_MODE" "$pid" "$base" "$WORK/paced-run.lua" "$WORK/paced-warm.lua"
}

[[ ${SKIP_TURNS:-0} == 1 ]] && TWIN_WORKERS=""
[[ ${ONLY:-} == ours ]] && TWIN_WORKERS=""
AGENT_ENV=(PORT=0 BIND_ADDRESS=127.0.0.1 ACCESS_LOG=off LOG_LEVEL=info "THREADS=$OUR_THREADS"
  RAG_URL="$RAG_URL" TOOLS_URL="$TOOLS_URL" LLM_MODEL=fake-model AGENT_RATE_PER_MIN=100000
  AGENT_DAILY_TOKENS=1000000000000)
if [[ ${SKIP_TURNS:-0} != 1 ]]; then
  env "${AGENT_ENV[@]}" LLM_BASE_URL="$FAKE_URL" DATABASE_URL="sqlite://$DB_DIR/agent.db" \
    "${SERVER_CPU[@]}" "${WRAP[@]}" "$AGENT" >"$WORK/agent.log" 2>&1 &
  PIDS+=($!)
  measure_turns "enkisys-agent (THREADS=$OUR_THREADS)" "${PIDS[-1]}" \
    "http://127.0.0.1:$(port_of "$WORK/agent.log" "${PIDS[-1]}")"
  stop "${PIDS[-1]}" "$WORK/agent.log"
  # The model's own latency at the same pacing (one call a turn; every tenth turn makes two).
  paced "$WORK/fake.lua" "$WORK/fake-paced.lua"
  load "enkisys-fake-openai alone" "$PACED_MODE" "$FAKE_PID" "$FAKE_URL/chat/completions" \
    "$WORK/fake-paced.lua"
fi

# One worker: uvicorn alone. More: gunicorn with uvicorn workers, as uvicorn's deployment guide
# advises (`uvicorn --workers 2` answered every request ~44 ms late here: delayed ACKs).
for workers in $TWIN_WORKERS; do
  port=$(free_port)
  if ((workers == 1)); then
    twin=(/usr/bin/python3 -m uvicorn twin:app --app-dir "$ROOT/bench/agent" --host 127.0.0.1
      --port "$port" --log-level warning --no-access-log)
    name="twin (uvicorn, 1 worker)"
  else
    twin=(gunicorn -k uvicorn.workers.UvicornWorker -w "$workers" -b "127.0.0.1:$port"
      --chdir "$ROOT/bench/agent" --log-level warning twin:app)
    name="twin (gunicorn -k uvicorn.workers.UvicornWorker -w $workers)"
  fi
  TWIN_DB=$DB_DIR/twin-$workers.db RAG_URL=$RAG_URL TOOLS_URL=$TOOLS_URL LLM_BASE_URL=$FAKE_URL \
    "${SERVER_CPU[@]}" "${twin[@]}" >"$WORK/twin-$workers.log" 2>&1 &
  PIDS+=($!)
  wait_up "http://127.0.0.1:$port/health" "${PIDS[-1]}"
  measure_turns "$name" "${PIDS[-1]}" "http://127.0.0.1:$port"
  stop "${PIDS[-1]}" "$WORK/twin-$workers.log"
done

# --- 3. SSE_STREAMS streams held open on enkisys-agent (the model streams 120 pieces, 0.5 s apart) ---
sse=
if [[ ${SKIP_SSE:-0} != 1 ]]; then
  start_fake slow FAKE_PIECES=120 FAKE_PACING_MS=500
  env "${AGENT_ENV[@]}" LLM_BASE_URL="$FAKE_URL" DATABASE_URL="sqlite://$DB_DIR/agent-sse.db" \
    "${SERVER_CPU[@]}" "${WRAP[@]}" "$AGENT" >"$WORK/agent-sse.log" 2>&1 &
  PIDS+=($!)
  agent_pid=${PIDS[-1]}
  base=http://127.0.0.1:$(port_of "$WORK/agent-sse.log" "$agent_pid")
  idle_rss=$(awk '{ printf "%.1f", $1 / 1024 }' <<<"$(tree_rss_kb "$agent_pid")")
  sse=$(timeout 300 /usr/bin/python3 "$ROOT/bench/agent/driver.py" sse "$base" "$SSE_STREAMS" "$COLLECTION" 5 "$agent_pid")
  stop "$agent_pid" "$WORK/agent-sse.log"
fi

# --- report ---
echo
echo "agent vs FastAPI twin: wrk -d$DURATION on $(nproc) cores, SQLite in $DB_DIR${SERVER_CPU[*]:+ (orchestrator pinned to CPU 1; rag, tools, fake model and wrk on CPU 0)}, every ${TOOL_EVERY}th turn a calculator call, $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "| server | load | turns/s | p50 ms | p99 ms | peak RSS MB | server CPU µs/turn | errors | wrk CPU µs/turn |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9 }' "$RESULTS"
awk -F'\t' '
  $1 ~ /^enkisys-agent/ { ours[$2] = $0; order[++n] = $2; next }
  $1 ~ /^twin/ { total[$1] += $3; rows[$1, $2] = $0; servers[$1] = 1 }
  END {
    best = ""; for (s in servers) if (best == "" || total[s] > total[best]) best = s
    if (best == "" || n == 0) exit
    printf "\nours / %s (the better twin setup):\n\n", best
    print "| load | turns/s ratio | p50 ratio | p99 ratio | RSS ratio | CPU per turn: twin / ours |"
    print "|---|---:|---:|---:|---:|---:|"
    for (i = 1; i <= n; i++) {
      m = order[i]; split(ours[m], o, "\t"); split(rows[best, m], f, "\t")
      printf "| %s | %.1fx | %.2fx | %.2fx | %.2fx | %.1fx |\n", m, (f[3] > 0 ? o[3] / f[3] : 0),
        (f[4] > 0 ? o[4] / f[4] : 0), (f[5] > 0 ? o[5] / f[5] : 0), (f[6] > 0 ? o[6] / f[6] : 0),
        (o[7] > 0 ? f[7] / o[7] : 0)
    }
    # Memory against the leanest twin setup (one worker), whichever setup had the more turns/s.
    printf "\nmemory against the leanest twin setup:"
    for (i = 1; i <= n; i++) {
      m = order[i]; split(ours[m], o, "\t"); lean = ""
      for (s in servers) { split(rows[s, m], f, "\t"); if (f[6] > 0 && (lean == "" || f[6] < lean)) lean = f[6] }
      if (lean != "") printf " %s: %s vs %s MB = %.2fx;", m, o[6], lean, o[6] / lean
    }
    printf "\n"
  }' "$RESULTS"
if [[ -n $PACED_MODE ]]; then
  echo
  awk -F'\t' -v mode="$PACED_MODE" -v conns="$CONNECTIONS" -v think="$THINK_MS" '
    $2 != mode { next }
    $1 ~ /^enkisys-fake-openai/ { m50 = $4; m99 = $5; next }
    { name[++n] = $1; rps[n] = $3; p50[n] = $4; p99[n] = $5 }
    END {
      offered = conns * 1000 / think
      for (i = 1; i <= n; i++) {
        printf "paced, %s: offered %.0f turns/s, achieved %s turns/s", name[i], offered, rps[i]
        if (rps[i] < 0.9 * offered) printf " (cannot keep up at this rate)"
        printf "; turn p50 %s ms, p99 %s ms", p50[i], p99[i]
        if (m50 != "") printf "; overhead (turn - model, model p50 %s / p99 %s ms): p50 %.2f ms, p99 %.2f ms", m50, m99, p50[i] - m50, p99[i] - m99
        printf "\n"
      }
    }' "$RESULTS"
fi
echo
[[ -z $sse ]] || echo "SSE: $SSE_STREAMS turns streaming at once on enkisys-agent (THREADS=$OUR_THREADS): idle RSS $idle_rss MB;" \
  "$(awk '{ printf "%s streams open (first event received), peak RSS %s MB", $2, $4 }' <<<"$sse")"
