#!/usr/bin/env bash
# Scrapes the monitoring service's federate endpoint with the real Prometheus and checks, through
# Prometheus' HTTP API, that `up` has series for every stage.
#   tests/e2e/prometheus.sh FEDERATE_URL ADMIN_TOKEN [STAGE...]
#   e.g. tests/e2e/prometheus.sh http://127.0.0.1:8080/monitoring/federate "$prod_admin_jwt"
# STAGE defaults to prod staging dev1 dev2. Prometheus (Debian package `prometheus`,
# deps/apt-e2e.txt) runs on an OS-chosen loopback port with its data in a temporary folder,
# scraping every second with ADMIN_TOKEN as the bearer (the gateway's /monitoring/ route takes
# an admin token of prod). Prints one line per stage ("prod: 5 targets, 5 up"). Exit status:
# 0 every stage seen, 1 not within PROMETHEUS_WAIT_S (30) seconds, 77 no prometheus binary.
set -euo pipefail

if (($# < 2)); then
  sed -n '2,11s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
  exit 2
fi
URL=$1
TOKEN=$2
shift 2
STAGES=("$@")
((${#STAGES[@]} > 0)) || STAGES=(prod staging dev1 dev2)
WAIT_S=${PROMETHEUS_WAIT_S:-30}

if ! command -v prometheus >/dev/null; then
  echo "skipped: no prometheus binary (Debian package prometheus, deps/apt-e2e.txt)"
  exit 77
fi
for tool in curl jq python3; do
  command -v "$tool" >/dev/null || {
    echo "prometheus.sh: $tool is missing" >&2
    exit 1
  }
done

WORK=$(mktemp -d /tmp/enkisys-prometheus.XXXXXX)
PROM_PID=
cleanup() {
  if [[ -n $PROM_PID ]]; then
    kill "$PROM_PID" 2>/dev/null || true
    wait "$PROM_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# scheme, host:port and path of the federate URL.
read -r SCHEME HOSTPORT METRICS_PATH < <(python3 -c '
import sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
port = u.port or (443 if u.scheme == "https" else 80)
print(u.scheme, f"{u.hostname}:{port}", u.path or "/")' "$URL")
(umask 077 && printf '%s' "$TOKEN" >"$WORK/token")
cat >"$WORK/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: enkisys-monitoring
    honor_labels: true
    scheme: $SCHEME
    metrics_path: $METRICS_PATH
    authorization:
      credentials_file: $WORK/token
    static_configs:
      - targets: ["$HOSTPORT"]
YAML
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/data" \
  --web.listen-address="127.0.0.1:$PORT" --log.level=warn >"$WORK/prometheus.log" 2>&1 &
PROM_PID=$!
API=http://127.0.0.1:$PORT/api/v1

# query PROMQL: the result vector as "stage value" lines.
query() {
  curl -sS --max-time 3 "$API/query" --data-urlencode "query=$1" 2>/dev/null |
    jq -r '.data.result[]? | "\(.metric.stage) \(.value[1])"' 2>/dev/null || true
}

deadline=$((SECONDS + WAIT_S))
while :; do
  targets=$(query 'count by (stage) (up{job="enkisys-monitoring", stage!=""})')
  missing=()
  for stage in "${STAGES[@]}"; do
    grep -q "^$stage " <<<"$targets" || missing+=("$stage")
  done
  ((${#missing[@]} == 0)) && break
  if ((SECONDS >= deadline)) || ! kill -0 "$PROM_PID" 2>/dev/null; then
    echo "prometheus.sh: no up series for: ${missing[*]} within ${WAIT_S}s" >&2
    curl -sS --max-time 3 "$API/targets" 2>/dev/null |
      jq -r '.data.activeTargets[]? | "target \(.scrapeUrl): \(.health) \(.lastError)"' >&2 || true
    tail -n 20 "$WORK/prometheus.log" >&2
    exit 1
  fi
  sleep 0.5
done
up=$(query 'sum by (stage) (up{job="enkisys-monitoring", stage!=""})')
for stage in "${STAGES[@]}"; do
  echo "$stage: $(awk -v s="$stage" '$1 == s { print $2 }' <<<"$targets") targets," \
    "$(awk -v s="$stage" '$1 == s { print $2 }' <<<"$up") up"
done
