#!/usr/bin/env bash
# Starts the platform from built binaries on loopback — auth, tools, rag, agent (offline model),
# frontend (serving frontend/dist) and a gateway routing stage `dev` — waits until the stage is
# healthy and prints its base URL (http://127.0.0.1:PORT/dev/). No Docker needed.
#
#   frontend/e2e/local-stack.sh start [DIR]   # DIR: state (databases, logs, pids); default a temp dir
#   frontend/e2e/local-stack.sh stop DIR
#
# Binaries: $ENKISYS_BIN (default build/release/bin of this checkout); $ENKISYS_AUTH_BIN overrides
# enkisys-auth alone. Ports are chosen free by the OS. The agent's limits are raised for tests
# (AGENT_RATE_PER_MIN, AGENT_DAILY_TOKENS from the environment override them).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bin="${ENKISYS_BIN:-$repo/build/release/bin}"
auth_bin="${ENKISYS_AUTH_BIN:-$bin/enkisys-auth}"
web_root="${FRONTEND_ROOT:-$repo/frontend/dist}"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

stop() {
  local dir="$1"
  [[ -d "$dir" ]] || { echo "local-stack: no such dir $dir" >&2; return 1; }
  local f pid
  for f in "$dir"/*.pid; do
    [[ -e "$f" ]] || continue
    pid="$(cat "$f")"
    kill -TERM "$pid" 2>/dev/null || true
  done
  for f in "$dir"/*.pid; do
    [[ -e "$f" ]] || continue
    pid="$(cat "$f")"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$f"
  done
}

start() {
  local dir="${1:-$(mktemp -d /tmp/enkisys-stack.XXXXXX)}"
  mkdir -p "$dir/rag" "$dir/keys"
  chmod 700 "$dir/keys"
  [[ -f "$dir/admin-password" ]] || { printf '%s' "${ENKISYS_ADMIN_PASSWORD:-admin password for tests}" >"$dir/admin-password"; chmod 600 "$dir/admin-password"; }
  [[ -f "$web_root/index.html" ]] || { echo "local-stack: build the app first (npm run build): $web_root" >&2; exit 1; }
  local p_auth p_tools p_rag p_agent p_front p_gw p_admin
  p_auth=$(free_port) p_tools=$(free_port) p_rag=$(free_port) p_agent=$(free_port)
  p_front=$(free_port) p_gw=$(free_port) p_admin=$(free_port)

  run() {  # name, binary, env...
    local name="$1" exe="$2"
    shift 2
    env -i PATH="$PATH" HOME="$dir" BIND_ADDRESS=127.0.0.1 ACCESS_LOG=off LOG_LEVEL=warn "$@" \
      "$exe" >"$dir/$name.log" 2>&1 &
    echo $! >"$dir/$name.pid"
  }
  run auth "$auth_bin" PORT="$p_auth" DATABASE_URL="sqlite://$dir/auth.db" AUTH_KEYS_DIR="$dir/keys" \
    AUTH_TRUST_PROXY=1 AUTH_ARGON2_MEMLIMIT=8388608 AUTH_ARGON2_OPSLIMIT=1 \
    AUTH_BOOTSTRAP_ADMIN_EMAIL="${ENKISYS_ADMIN_EMAIL:-admin@example.com}" \
    AUTH_BOOTSTRAP_ADMIN_PASSWORD_FILE="$dir/admin-password"
  run tools "$bin/enkisys-tools" PORT="$p_tools" DATABASE_URL="sqlite://$dir/tools.db"
  run rag "$bin/enkisys-rag" PORT="$p_rag" DATABASE_URL="sqlite://$dir/rag.db" RAG_DATA_DIR="$dir/rag"
  run agent "$bin/enkisys-agent" PORT="$p_agent" DATABASE_URL="sqlite://$dir/agent.db" \
    TOOLS_URL="http://127.0.0.1:$p_tools" RAG_URL="http://127.0.0.1:$p_rag" \
    AGENT_RATE_PER_MIN="${AGENT_RATE_PER_MIN:-100000}" AGENT_DAILY_TOKENS="${AGENT_DAILY_TOKENS:-100000000}"
  run frontend "$bin/enkisys-frontend" PORT="$p_front" FRONTEND_ROOT="$web_root"
  cat >"$dir/gateway.yaml" <<YAML
limits:
  max_body_bytes: 10485760
  upstream_connect_timeout_ms: 2000
  upstream_timeout_ms: 60000
jwt:
  jwks_url: http://127.0.0.1:$p_auth/api/auth/.well-known/jwks.json
  revocations_url: http://127.0.0.1:$p_auth/api/auth/revocations
  revocation_poll_s: 5
  issuer: enkisys-auth
  audience: enkisys
  leeway_s: 30
rate_limits:
  per_ip: {per: ip, rate_per_s: 2000, burst: 4000}
stages:
  dev:
    rate_limit: per_ip
    routes:
      - {prefix: /api/auth, name: auth, upstream: "http://127.0.0.1:$p_auth", max_body_bytes: 1048576}
      - {prefix: /api/rag, name: rag, upstream: "http://127.0.0.1:$p_rag", jwt: true, max_body_bytes: 26279936, timeout_ms: 120000}
      - {prefix: /api/chat, name: agent, upstream: "http://127.0.0.1:$p_agent", jwt: true, max_body_bytes: 1048576, timeout_ms: 300000}
      - {prefix: /api/tools, name: tools, upstream: "http://127.0.0.1:$p_tools", jwt: true, max_body_bytes: 1048576}
      - {prefix: /, name: frontend, upstream: "http://127.0.0.1:$p_front", max_body_bytes: 1024}
YAML
  run gateway "$bin/enkisys-gateway" PORT="$p_gw" ADMIN_PORT="$p_admin" GATEWAY_CONFIG="$dir/gateway.yaml"

  local url="http://127.0.0.1:$p_gw/dev/" ok=""
  for _ in $(seq 1 150); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$p_gw/dev/health" 2>/dev/null; then ok=1; break; fi
    sleep 0.2
  done
  if [[ -z "$ok" ]]; then
    echo "local-stack: the stage did not become healthy; logs in $dir" >&2
    curl -sS "http://127.0.0.1:$p_gw/dev/health" >&2 || true
    tail -n 5 "$dir"/*.log >&2 || true
    stop "$dir"
    exit 1
  fi
  echo "$dir" >"$dir/.dir"
  echo "local-stack: state in $dir (stop: $0 stop $dir)" >&2
  echo "$url"
}

case "${1:-}" in
  start)
    shift
    start "$@"
    ;;
  stop)
    stop "${2:?usage: $0 stop DIR}"
    ;;
  *)
    echo "usage: $0 start [DIR] | stop DIR" >&2
    exit 2
    ;;
esac
