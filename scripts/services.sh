#!/usr/bin/env bash
# Reads services/services.list, the one list of the services (its header says what the columns
# mean). Run it, or source it for the functions:
#   services.sh names [FILTER...]   names, one per line, in list order
#   services.sh port NAME           the service's port
#   services.sh lines               "name port data runs" per service (comments dropped)
#   services.sh json [FILTER...]    the names as a JSON array (a CI job matrix)
# FILTER: data=db, data=-, runs=stage, runs=local, runs=edge; every FILTER must hold.
# Exits 1 naming the line when the list is malformed.
# shellcheck disable=SC2034 # (when sourced) SERVICES_LIST is for the caller

SERVICES_LIST=${SERVICES_LIST:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/services/services.list}

# services_lines: the checked lines of the list.
services_lines() {
  awk '
    { sub(/#.*/, "") }
    NF == 0 { next }
    NF != 4 || $1 !~ /^[a-z][a-z0-9-]*$/ || $2 !~ /^[1-9][0-9]*$/ || ($3 != "db" && $3 != "-") ||
      $4 !~ /^(stage|local|edge)(,(stage|local|edge))*$/ {
      printf "services.list:%d: want \"name port db|- stage|local|edge[,...]\", got: %s\n", NR, $0 > "/dev/stderr"
      bad = 1; next
    }
    seen[$1]++ { printf "services.list:%d: %s listed twice\n", NR, $1 > "/dev/stderr"; bad = 1 }
    port[$2]++ { printf "services.list:%d: port %s listed twice\n", NR, $2 > "/dev/stderr"; bad = 1 }
    { print $1, $2, $3, $4 }
    END { exit bad }' "$SERVICES_LIST"
}

# services_names [FILTER...]
services_names() {
  local lines
  lines=$(services_lines) || return 1
  awk -v filters="$*" '
    BEGIN { n = split(filters, f, " ") }
    {
      for (i = 1; i <= n; i++) {
        split(f[i], kv, "=")
        if (kv[1] == "data" && $3 != kv[2]) next
        if (kv[1] == "runs" && index("," $4 ",", "," kv[2] ",") == 0) next
      }
      print $1
    }' <<<"$lines"
}

# services_port NAME
services_port() {
  local lines
  lines=$(services_lines) || return 1
  awk -v n="$1" '$1 == n { print $2; found = 1 } END { exit !found }' <<<"$lines" || {
    echo "services: no service '$1' in $SERVICES_LIST" >&2
    return 1
  }
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  case ${1:-} in
    names) shift && services_names "$@" ;;
    port) services_port "${2:?usage: $0 port NAME}" ;;
    lines) services_lines ;;
    json)
      shift
      names=$(services_names "$@")
      printf '['
      sep=""
      for n in $names; do
        printf '%s"%s"' "$sep" "$n"
        sep=,
      done
      printf ']\n'
      ;;
    *)
      sed -n '3,8s/^# \{0,1\}//p' "$0" >&2
      exit 2
      ;;
  esac
fi
