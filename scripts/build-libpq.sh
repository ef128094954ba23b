#!/usr/bin/env bash
# Builds a minimal static libpq (PostgreSQL 15 client library) from Debian's postgresql-15
# source package, for the service images:
#   build-libpq.sh PREFIX
# installs PREFIX/include (libpq-fe.h and what it includes) and PREFIX/lib/{libpq,libpgcommon,
# libpgport}.a. Debian's own libpq is built with Kerberos (GSSAPI) and LDAP, which drag about 9 MB
# of shared libraries (krb5, OpenLDAP, GnuTLS, nettle, gmp, p11-kit, libunistring, …) into every
# image; a service never uses either: it speaks password/SCRAM, optionally over TLS (OpenSSL,
# which the services link anyway). Configure: --with-openssl, no GSSAPI, LDAP, ICU, readline,
# zlib, lz4 or zstd. The source comes through apt (deb-src added for the Debian mirrors already
# configured), so it is checked against the signed archive index; the newest version the mirror
# still serves is used. Needs root (apt-get), gcc, make and perl. Takes ~30 s on two cores.
set -euo pipefail

(($# == 1)) || {
  echo "usage: $0 PREFIX" >&2
  exit 2
}
prefix=$1
package=postgresql-15
work=$(mktemp -d /tmp/build-libpq.XXXXXX)
trap 'rm -rf "$work"' EXIT

export DEBIAN_FRONTEND=noninteractive
# deb-src entries mirroring the configured deb ones (one-line and deb822 formats).
{
  sed -n 's/^deb \(.*\)$/deb-src \1/p' /etc/apt/sources.list 2>/dev/null || true
  for f in /etc/apt/sources.list.d/*.list; do
    [[ -e $f ]] && sed -n 's/^deb \(.*\)$/deb-src \1/p' "$f"
  done
} >/etc/apt/sources.list.d/enkisys-libpq-src.list
for f in /etc/apt/sources.list.d/*.sources; do
  [[ -e $f ]] || continue
  sed 's/^Types: deb$/Types: deb-src/' "$f" >"/etc/apt/sources.list.d/enkisys-libpq-src-$(basename "$f")"
done
apt-get update -q >"$work/apt-update.log" 2>&1 || {
  cat "$work/apt-update.log" >&2
  exit 1
}
command -v bzip2 >/dev/null || apt-get install -y -q --no-install-recommends bzip2 >/dev/null

# Newest first; a security mirror may list a version whose files it no longer serves.
mapfile -t versions < <(apt-cache showsrc "$package" | awk '/^Version:/ { print $2 }' | sort -r -V -u)
((${#versions[@]} > 0)) || {
  echo "build-libpq: no source package $package in the apt sources" >&2
  exit 1
}
version=""
for v in "${versions[@]}"; do
  if (cd "$work" && apt-get source --download-only -q "$package=$v" >"$work/source.log" 2>&1); then
    version=$v
    break
  fi
  echo "build-libpq: $package $v not downloadable, trying an older one" >&2
done
[[ -n $version ]] || {
  cat "$work/source.log" >&2
  exit 1
}
tar -xjf "$work"/"${package}"_*.orig.tar.bz2 -C "$work"
src=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'postgresql-*' | head -n 1)
echo "build-libpq: $package $version"

cd "$src"
./configure -q --prefix="$prefix" --with-openssl --without-gssapi --without-ldap --without-icu \
  --without-readline --without-zlib --without-lz4 --without-zstd CFLAGS="-O2 -fPIC" \
  >"$work/configure.log" 2>&1 || {
  tail -n 30 "$work/configure.log" >&2
  exit 1
}
for dir in src/include src/common src/port src/interfaces/libpq; do
  make -s -j"$(nproc)" -C "$dir" >"$work/make.log" 2>&1 || {
    tail -n 30 "$work/make.log" >&2
    exit 1
  }
done
mkdir -p "$prefix/include" "$prefix/lib"
cp src/include/postgres_ext.h src/include/pg_config_ext.h src/interfaces/libpq/libpq-fe.h \
  src/interfaces/libpq/libpq-events.h "$prefix/include/"
cp src/interfaces/libpq/libpq.a src/common/libpgcommon.a src/port/libpgport.a "$prefix/lib/"
echo "$version" >"$prefix/VERSION"
# A static archive that still referenced Kerberos or LDAP would defeat the purpose.
if nm -u "$prefix/lib/libpq.a" 2>/dev/null | grep -qE ' (gss_|ldap_)'; then
  echo "build-libpq: libpq.a still references GSSAPI or LDAP" >&2
  exit 1
fi
ls -l "$prefix/lib"
