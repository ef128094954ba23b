#!/usr/bin/env bash
# Installs the Debian packages named in list files (one per line, '#' comments), skipping the
# work entirely when every package is already installed (one dpkg-query, no network).
#   apt-install.sh LIST...
# As non-root it only reports what is missing (exit 1 when something is).
set -euo pipefail

(($# > 0)) || {
  echo "usage: $0 LIST..." >&2
  exit 2
}
mapfile -t pkgs < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$@" | awk 'NF' | sort -u)
((${#pkgs[@]} > 0)) || exit 0

mapfile -t missing < <(
  dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${pkgs[@]}" 2>/dev/null |
    awk '$2 == "ii" { print $1 }' | sort -u | comm -13 - <(printf '%s\n' "${pkgs[@]}")
)
if ((${#missing[@]} == 0)); then
  echo "deps: all ${#pkgs[@]} packages from $* present"
  exit 0
fi
echo "deps: missing: ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  echo "deps: run as root (or: sudo apt-get install -y ${missing[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only when they are absent or older than a day.
if [[ -z $(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages' -mmin -1440 -print -quit 2>/dev/null) ]]; then
  apt-get update -q
fi
apt-get install -y -q --no-install-recommends "${missing[@]}"
