#!/usr/bin/env bash
# Makes sure a Docker engine answers `docker info`.
#   ensure-docker.sh           start dockerd (as root) when it is installed but not running
#   ensure-docker.sh --check   only report: exit 0 when an engine answers, 1 otherwise
# dockerd is started detached (its own session, stdin closed) and logs to
# $ENKISYS_DOCKERD_LOG (default /tmp/enkisys-dockerd.log). The wait is bounded by
# $ENKISYS_DOCKER_WAIT seconds (default 90).
set -euo pipefail

wait_s=${ENKISYS_DOCKER_WAIT:-90}
log=${ENKISYS_DOCKERD_LOG:-/tmp/enkisys-dockerd.log}

engine_up() { timeout 20 docker info >/dev/null 2>&1; }

if command -v docker >/dev/null && engine_up; then
  exit 0
fi
if [[ ${1:-} == --check ]]; then
  exit 1
fi
if ! command -v dockerd >/dev/null; then
  echo "ensure-docker: dockerd is not installed (apt-get install docker.io)" >&2
  exit 1
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "ensure-docker: the Docker engine is not running and starting it needs root" >&2
  exit 1
fi

echo "ensure-docker: starting dockerd (log: $log)"
setsid nohup dockerd >"$log" 2>&1 </dev/null &
pid=$!
deadline=$((SECONDS + wait_s))
while ((SECONDS < deadline)); do
  if engine_up; then
    echo "ensure-docker: engine ready after $((SECONDS + wait_s - deadline))s (dockerd pid $pid)"
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "ensure-docker: dockerd exited; last log lines:" >&2
    tail -n 20 "$log" >&2 || true
    exit 1
  fi
  sleep 1
done
echo "ensure-docker: engine not ready after ${wait_s}s; last log lines:" >&2
tail -n 20 "$log" >&2 || true
exit 1
