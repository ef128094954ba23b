#!/usr/bin/env bash
# Builds the `debian:bookworm` base image from the machine's Debian package mirror, for hosts
# that cannot reach a container registry: debootstrap (minbase) -> tar -> `docker import`.
#   build-base-image.sh [--force] [TAG]     TAG defaults to debian:bookworm
# Idempotent: does nothing when TAG already exists (unless --force). The mirror is read from
# the apt sources (/etc/apt/sources.list, /etc/apt/sources.list.d/*) unless ENKISYS_DEBIAN_MIRROR
# is set. Needs root and debootstrap. Time-bounded by ENKISYS_DEBOOTSTRAP_TIMEOUT (default 900 s).
set -euo pipefail

force=0
if [[ ${1:-} == --force ]]; then
  force=1
  shift
fi
tag=${1:-debian:bookworm}
suite=bookworm

if docker image inspect "$tag" >/dev/null 2>&1 && ((force == 0)); then
  echo "build-base-image: $tag already present"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "build-base-image: needs root (debootstrap)" >&2
  exit 1
fi
command -v debootstrap >/dev/null || {
  echo "build-base-image: debootstrap missing (apt-get install debootstrap)" >&2
  exit 1
}

# Prints "URI SUITE" pairs from one-line and deb822 apt sources.
apt_sources() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r $f ]] || continue
    awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ } print $i, $(i + 1) }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r $f ]] || continue
    awk 'function flush() { if (types ~ /(^| )deb( |$)/) for (u in uris) for (s in suites) print uris[u], suites[s]
                            delete uris; delete suites; types = "" }
         /^[ \t]*$/ { flush(); next }
         /^Types:/ { types = substr($0, 7) }
         /^URIs:/ { for (i = 2; i <= NF; i++) uris[i] = $i }
         /^Suites:/ { for (i = 2; i <= NF; i++) suites[i] = $i }
         END { flush() }' "$f"
  done
}

mirror=${ENKISYS_DEBIAN_MIRROR:-}
security=${ENKISYS_DEBIAN_SECURITY_MIRROR:-}
if [[ -z $mirror ]]; then
  mirror=$(apt_sources | awk -v s="$suite" '$2 == s { print $1; exit }')
fi
if [[ -z $security ]]; then
  security=$(apt_sources | awk -v s="$suite-security" '$2 == s { print $1; exit }')
fi
if [[ -z $mirror ]]; then
  echo "build-base-image: no '$suite' mirror found in the apt sources; set ENKISYS_DEBIAN_MIRROR" >&2
  exit 1
fi
mirror=${mirror%/}
echo "build-base-image: mirror $mirror${security:+, security $security}"

work=$(mktemp -d /var/tmp/enkisys-base.XXXXXX)
cleanup() {
  # debootstrap may leave proc/sys mounted inside the target when interrupted.
  local m
  while read -r m; do umount -l "$m" 2>/dev/null || true; done \
    < <(awk -v w="$work/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r)
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

root=$work/rootfs
started=$SECONDS
if ! timeout "${ENKISYS_DEBOOTSTRAP_TIMEOUT:-900}" \
  debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
  echo "build-base-image: debootstrap failed; last log lines:" >&2
  tail -n 30 "$work/debootstrap.log" >&2 || true
  tail -n 30 "$root/debootstrap/debootstrap.log" >&2 2>/dev/null || true
  exit 1
fi

# apt inside the image uses the same mirror.
{
  echo "deb $mirror $suite main"
  echo "deb $mirror $suite-updates main"
  if [[ -n $security ]]; then echo "deb ${security%/} $suite-security main"; fi
} >"$root/etc/apt/sources.list"
rm -f "$root"/etc/apt/sources.list.d/*
# Keep images small, as the official image does.
cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'CONF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
CONF
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/log/*.log "$root"/tmp/* "$root"/debootstrap
: >"$root/etc/hostname"

tar --numeric-owner --xattrs -C "$root" -c . |
  docker import \
    --change 'CMD ["bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --message "debootstrap --variant=minbase $suite from $mirror" \
    - "$tag" >/dev/null
echo "build-base-image: imported $tag in $((SECONDS - started))s ($(docker image inspect -f '{{.Size}}' "$tag") bytes)"
