#!/usr/bin/env bash
# Validates the GitHub Actions workflows against the workflow JSON schema with
# @action-validator/cli (pinned), installed once into build/npm:
#   scripts/validate-workflows.sh [FILE...]      (default: .github/workflows/*.yml)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
VERSION=0.6.0
PREFIX=build/npm
BIN=$PREFIX/node_modules/.bin/action-validator

command -v npm >/dev/null || { echo "validate-workflows: npm is required (apt-get install npm)" >&2; exit 1; }
if [[ ! -x $BIN ]] || [[ $(cat "$PREFIX/.version" 2>/dev/null) != "$VERSION" ]]; then
  mkdir -p "$PREFIX"
  npm install --prefix "$PREFIX" --no-audit --no-fund --silent \
    "@action-validator/cli@$VERSION" "@action-validator/core@$VERSION"
  echo "$VERSION" >"$PREFIX/.version"
fi

files=("$@")
if ((${#files[@]} == 0)); then files=(.github/workflows/*.yml); fi
for f in "${files[@]}"; do "$BIN" "$f"; done
echo "validate-workflows: ${#files[@]} file(s) ok (@action-validator/cli $VERSION)"
