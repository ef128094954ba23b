#!/usr/bin/env bash
# Waits until every given container reports Docker health status "healthy".
#   wait-healthy.sh [-t SECONDS] CONTAINER...      (default 90 s)
# Exit 0 when all are healthy; 1 on timeout or when one exits or turns "unhealthy" with no
# restart pending, printing the last health-check output and log lines of the culprit.
set -euo pipefail

limit=90
if [[ ${1:-} == -t ]]; then
  limit=$2
  shift 2
fi
(($# > 0)) || {
  echo "usage: $0 [-t SECONDS] CONTAINER..." >&2
  exit 2
}

explain() {
  local c=$1
  echo "wait-healthy: $c is $(docker inspect -f '{{.State.Status}}/{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$c" 2>&1)" >&2
  docker inspect -f '{{if .State.Health}}{{range .State.Health.Log}}{{.ExitCode}}: {{.Output}}{{"\n"}}{{end}}{{end}}' "$c" 2>/dev/null | tail -n 3 >&2 || true
  docker logs --tail 20 "$c" >&2 2>&1 || true
}

deadline=$((SECONDS + limit))
pending=("$@")
while ((${#pending[@]} > 0)); do
  still=()
  for c in "${pending[@]}"; do
    state=$(docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$c" 2>/dev/null || echo "missing missing")
    case $state in
      *" healthy") ;;
      *" none")
        echo "wait-healthy: $c has no health check" >&2
        exit 1
        ;;
      exited* | dead* | missing*)
        explain "$c"
        exit 1
        ;;
      *) still+=("$c") ;;
    esac
  done
  pending=("${still[@]+"${still[@]}"}")
  ((${#pending[@]} == 0)) && break
  if ((SECONDS >= deadline)); then
    for c in "${pending[@]}"; do explain "$c"; done
    echo "wait-healthy: not healthy after ${limit}s: ${pending[*]}" >&2
    exit 1
  fi
  sleep 1
done
exit 0
