#!/usr/bin/env bash
# Benchmarks the channel router (enkisys-router) with its fakes (enkisys-fake-channels: the
# Telegram Bot API and the agent, answering at once), on loopback ports the OS picked:
#  1. webhook acknowledgement latency at a fixed rate (BENCH_RATE, 1000/s) for BENCH_COUNT
#     signed Telegram updates, each written to the durable inbox before the 200 (open loop);
#  2. sustained messages/s end to end (webhook → inbox → agent → outbox → channel API) for the
#     same updates: from the first webhook to the last reply at the fake;
#  3. a kill -9 of the router in the middle of a burst (BENCH_KILL_COUNT updates at 500/s), a
#     restart on the same data, every update delivered again: lost and duplicated replies.
#   bench/router/run.sh   (after `make build`; needs python3 and curl)
# Env: BENCH_RATE (1000), BENCH_COUNT (10000), BENCH_KILL_COUNT (3000), BENCH_DB_DIR (tmpfs
#      by default: where the SQLite file goes; a disk directory measures its fsync too).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
BIN=${ENKISYS_BIN_DIR:-$ROOT/build/release/bin}
RATE=${BENCH_RATE:-1000}
COUNT=${BENCH_COUNT:-10000}
KILL_COUNT=${BENCH_KILL_COUNT:-3000}
DRIVER="python3 $ROOT/bench/router/driver.py"
WORK=$(mktemp -d /tmp/enkisys-router-bench.XXXXXX)
if [[ -n ${BENCH_DB_DIR:-} ]]; then
  DB_DIR=$(mktemp -d "$BENCH_DB_DIR/enkisys-router-bench.XXXXXX")
elif [[ -d /dev/shm && -w /dev/shm ]]; then
  DB_DIR=$(mktemp -d /dev/shm/enkisys-router-bench.XXXXXX)
else
  DB_DIR=$WORK
fi
PIDS=()
ROUTER_PID=

for b in enkisys-router enkisys-fake-channels; do
  [[ -x $BIN/$b ]] || {
    echo "bench: $BIN/$b not built (make build)" >&2
    exit 1
  }
done

cleanup() {
  stop_pids ${ROUTER_PID:+"$ROUTER_PID"} "${PIDS[@]}"
  rm -rf "$WORK" "$DB_DIR"
}
trap cleanup EXIT

# port_of LOG: the port of the "listening" line in LOG (waits up to 10 s).
port_of() {
  local i p
  for ((i = 0; i < 100; i++)); do
    p=$(sed -n 's/.*"msg":"listening".*"port":\([0-9]*\).*/\1/p' "$1" | head -n 1)
    [[ -n $p ]] && echo "$p" && return 0
    sleep 0.1
  done
  echo "bench: no listening line in $1" >&2
  return 1
}

PORT=0 "$BIN/enkisys-fake-channels" >"$WORK/fake.log" 2>&1 &
PIDS+=($!)
FAKE=$(port_of "$WORK/fake.log")
printf '%s' "123456:bench-bot-token" >"$WORK/token"
printf '%s' "bench-webhook-secret" >"$WORK/secret"

# start_router PORT: the router on PORT (0: the OS picks), its pid in ROUTER_PID.
start_router() {
  PORT=$1 BIND_ADDRESS=127.0.0.1 ACCESS_LOG=off DATABASE_URL="sqlite://$DB_DIR/router.db" \
    TELEGRAM_BOT_TOKEN_FILE="$WORK/token" TELEGRAM_WEBHOOK_SECRET_FILE="$WORK/secret" \
    TELEGRAM_API_BASE_URL="http://127.0.0.1:$FAKE" AGENT_URL="http://127.0.0.1:$FAKE" \
    ROUTER_SEND_RATE_PER_S=0 ROUTER_INSTANCE=bench ROUTER_RETRY_BASE_MS=100 \
    "$BIN/enkisys-router" >>"$WORK/router.log" 2>&1 &
  ROUTER_PID=$!
}

# wait_answered START N SECONDS: waits (polling each second) until the fake got a reply for updates START..START+N-1.
wait_answered() {
  local i out
  for ((i = 0; i < $3; i++)); do
    out=$($DRIVER count --fake "$FAKE" --start "$1" --count "$2")
    [[ $out == *'"lost": 0'* ]] && echo "$out" && return 0
    sleep 1  # the count reads every call the fake recorded: not too often
  done
  echo "$out"
}

start_router 0
PORT=$(port_of "$WORK/router.log")
for ((i = 0; i < 100; i++)); do
  curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
  sleep 0.1
done

echo "== router: webhook acknowledgement at $RATE/s, $COUNT updates (durable inbox in $DB_DIR)"
t0=$(date +%s.%N)
$DRIVER ack --port "$PORT" --secret bench-webhook-secret --rate "$RATE" --count "$COUNT" --start 1
echo "== router: end to end (webhook → agent → channel API), the same $COUNT updates"
out=$(wait_answered 1 "$COUNT" 120)
t1=$(date +%s.%N)
echo "$out"
awk -v n="$COUNT" -v a="$t0" -v b="$t1" 'BEGIN { printf "messages/s end to end: %.0f (%.1f s)\n", n / (b - a), b - a }'

echo "== router: kill -9 during a burst of $KILL_COUNT updates at 500/s, restart, redelivery"
START=$((COUNT + 1))
$DRIVER send --port "$PORT" --secret bench-webhook-secret --rate 500 --count "$KILL_COUNT" \
  --start "$START" >"$WORK/burst.json" &
BURST=$!
sleep 2
kill -KILL "$ROUTER_PID"
wait "$ROUTER_PID" 2>/dev/null || true
start_router "$PORT"
wait "$BURST"
# The platform delivers again what it may not have seen acknowledged: here, everything.
$DRIVER send --port "$PORT" --secret bench-webhook-secret --rate 1000 --count "$KILL_COUNT" \
  --start "$START" >/dev/null
echo "after kill -9: $(wait_answered "$START" "$KILL_COUNT" 120)"
