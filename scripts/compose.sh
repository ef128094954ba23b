#!/usr/bin/env bash
# Runs Docker Compose, whichever is installed: the v2 plugin (`docker compose`) or v1
# (`docker-compose` 1.29). Arguments are passed through unchanged.
set -euo pipefail
if docker compose version >/dev/null 2>&1; then
  exec docker compose "$@"
fi
if command -v docker-compose >/dev/null; then
  exec docker-compose "$@"
fi
echo "compose: neither 'docker compose' nor 'docker-compose' is installed" >&2
exit 127
