#!/usr/bin/env bash
# The web frontend (frontend/): one npm install, reused by its build, its tests and its browser
# end-to-end test.
#   web.sh deps               npm ci when package-lock.json changed since the last install
#   web.sh build              deps, then the production build into frontend/dist (the web root
#                             the frontend image copies: Dockerfile stage `webroot`)
#   web.sh test               deps, then ESLint + tsc (npm run lint) and Vitest (npm test)
#   web.sh e2e BASE_URL [DIR] deps, then the browser test (playwright-core + Debian's chromium)
#                             against a running stage at BASE_URL; screenshots into DIR
# Node.js and npm: Debian's packages (deps/apt-npm.txt) where none is installed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WEB=$ROOT/frontend

need_node() {
  if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
    "$ROOT/scripts/apt-install.sh" "$ROOT/deps/apt-npm.txt"
  fi
}

# npm ci only when the lock file differs from the one installed (its hash in node_modules).
deps() {
  need_node
  local want have=""
  want=$(sha256sum "$WEB/package-lock.json" | cut -d' ' -f1)
  [[ -r $WEB/node_modules/.enkisys-lock ]] && have=$(<"$WEB/node_modules/.enkisys-lock")
  if [[ $want != "$have" ]]; then
    echo "web: npm ci (frontend/package-lock.json)"
    (cd "$WEB" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" >"$WEB/node_modules/.enkisys-lock"
  fi
}

cmd=${1:-}
case $cmd in
  deps) deps ;;
  build)
    deps
    (cd "$WEB" && npm run --silent build)
    [[ -s $WEB/dist/index.html ]] || {
      echo "web: the build wrote no frontend/dist/index.html" >&2
      exit 1
    }
    ;;
  test)
    deps
    (cd "$WEB" && npm run --silent lint && npm test --silent)
    ;;
  e2e)
    [[ $# -ge 2 ]] || {
      echo "usage: web.sh e2e BASE_URL [SCREENSHOT_DIR]" >&2
      exit 2
    }
    deps
    args=(--base-url "$2")
    [[ -n ${3:-} ]] && args+=(--screenshots "$3")
    node "$WEB/e2e/run.mjs" "${args[@]}"
    ;;
  *)
    echo "usage: web.sh deps|build|test|e2e BASE_URL [DIR]" >&2
    exit 2
    ;;
esac
