#!/usr/bin/env bash
# Shared helpers of the benchmark scripts (sourced): process-tree memory and CPU, wrk latencies.

# tree_pids PID: PID and its descendants.
tree_pids() {
  ps -e -o pid=,ppid= | awk -v root="$1" '
    { parent[$1] = $2 }
    END { for (p in parent) { q = p; for (d = 0; d < 16 && q != "" && q != 0; d++) {
            if (q == root) { print p; break } q = parent[q] } } }'
}

# tree_rss_kb PID: resident memory of PID and its descendants, in KiB.
tree_rss_kb() {
  local sum=0 p r
  for p in $(tree_pids "$1"); do
    r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true)
    sum=$((sum + ${r:-0}))
  done
  echo "$sum"
}

# tree_cpu_ticks PID: user+system CPU ticks of PID and its descendants.
tree_cpu_ticks() {
  local total=0 p
  for p in $(tree_pids "$1"); do
    [[ -r /proc/$p/stat ]] || continue
    total=$((total + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

# sample_rss PID FILE: writes the peak tree RSS (KiB) seen until killed.
sample_rss() {
  local pid=$1 file=$2 peak=0 now
  while kill -0 "$pid" 2>/dev/null; do
    now=$(tree_rss_kb "$pid")
    ((now > peak)) && peak=$now && echo "$peak" >"$file"
    sleep 0.2
  done
}

# to_ms VALUE: wrk latency (812.00us, 3.21ms, 1.02s) in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    printf "%.2f", n }'
}

# stop_pids PID...: SIGTERM to all, then for each a bounded wait (5 s) before SIGKILL.
stop_pids() {
  local pid i
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "$@"; do
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}
