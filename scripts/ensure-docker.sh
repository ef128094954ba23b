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

# pid_of_name FILE NAME: the pid FILE names when that process is alive and is NAME, else empty.
pid_of_name() {
  local pid
  [[ -r $1 ]] || return 0
  pid=$(tr -dc 0-9 <"$1")
  [[ -n $pid && -r /proc/$pid/comm && $(<"/proc/$pid/comm") == "$2" ]] && echo "$pid"
  return 0
}

# A dockerd that was killed (machine or session stop) leaves its pid files behind. dockerd
# then takes a recycled pid for a live containerd, waits for a socket nobody creates and gives
# up; an orphaned containerd of its own holds the state directory. Clear both before a start.
clear_stale_state() {
  local cpidfile=/var/run/docker/containerd/containerd.pid cpid i
  cpid=$(pid_of_name "$cpidfile" containerd)
  if [[ -n $cpid ]]; then
    echo "ensure-docker: stopping orphaned containerd (pid $cpid)"
    kill "$cpid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      kill -0 "$cpid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$cpid" 2>/dev/null || true
  fi
  if [[ -e $cpidfile ]]; then
    echo "ensure-docker: removing stale $cpidfile"
    rm -f "$cpidfile"
  fi
  if [[ -e /var/run/docker.pid && -z $(pid_of_name /var/run/docker.pid dockerd) ]]; then
    echo "ensure-docker: removing stale /var/run/docker.pid"
    rm -f /var/run/docker.pid
  fi
}

# wait_engine PID: waits for the engine while dockerd PID lives. 0 when the engine answers, 2 when
# that dockerd exited, 1 after $wait_s seconds.
wait_engine() {
  local pid=$1 deadline=$((SECONDS + wait_s))
  while ((SECONDS < deadline)); do
    if engine_up; then
      echo "ensure-docker: engine ready after $((SECONDS + wait_s - deadline))s (dockerd pid $pid)"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || return 2
    sleep 1
  done
  return 1
}

# start_and_wait: starts dockerd, then as wait_engine (explaining a failure with its log).
start_and_wait() {
  local rc=0
  echo "ensure-docker: starting dockerd (log: $log)"
  setsid nohup dockerd >"$log" 2>&1 </dev/null &
  wait_engine $! || rc=$?
  case $rc in
    2) echo "ensure-docker: dockerd exited; last log lines:" >&2 ;;
    1) echo "ensure-docker: engine not ready after ${wait_s}s; last log lines:" >&2 ;;
  esac
  ((rc == 0)) || tail -n 20 "$log" >&2 || true
  return "$rc"
}

running=$(pgrep -o -x dockerd || true)
if [[ -n $running ]]; then
  # A dockerd is starting or stuck: give it the wait rather than racing a second one.
  echo "ensure-docker: dockerd already running (pid $running); waiting for it"
  rc=0
  wait_engine "$running" || rc=$?
  if ((rc == 1)); then
    echo "ensure-docker: the running dockerd does not answer after ${wait_s}s" >&2
    exit 1
  fi
  ((rc == 0)) && exit 0
fi

clear_stale_state
rc=0
start_and_wait || rc=$?
if ((rc == 2)); then
  # One more try after clearing again (a containerd it started may have been left behind).
  clear_stale_state
  rc=0
  start_and_wait || rc=$?
fi
exit "$rc"
