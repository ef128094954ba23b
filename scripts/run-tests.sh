#!/usr/bin/env bash
# Runs the unit and integration tests of one build preset with ctest.
#   run-tests.sh [PRESET]          (default release)
# Integration tests get a PostgreSQL through ENKISYS_TEST_POSTGRES_URL: when it is not set, a
# throwaway server is started under build/pg and always stopped afterwards. Exits with
# ctest's status.
set -euo pipefail

preset=${1:-release}
pg=scripts/pg-test-server.sh
pgdir=build/pg

if [[ -z ${ENKISYS_TEST_POSTGRES_URL:-} ]]; then
  if [[ -x $pg || -f $pg ]]; then
    trap 'bash "$pg" stop "$pgdir" >/dev/null 2>&1 || echo "test: could not stop PostgreSQL in $pgdir" >&2' EXIT
    url=$(bash "$pg" start "$pgdir" | grep -E '^postgres(ql)?://' | tail -n 1)
    if [[ -z $url ]]; then
      echo "test: $pg start printed no postgres:// URL" >&2
      exit 1
    fi
    export ENKISYS_TEST_POSTGRES_URL=$url
    echo "test: throwaway PostgreSQL at $url"
  else
    echo "test: $pg not found; PostgreSQL tests will skip themselves" >&2
  fi
else
  echo "test: using ENKISYS_TEST_POSTGRES_URL from the environment"
fi

ctest --preset "$preset"
