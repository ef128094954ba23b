#!/usr/bin/env bash
# Copies the shared libraries an executable needs at run time, the dynamic loader included,
# into DEST under their absolute paths, so that DEST can be laid over a `scratch` image.
#   collect-runtime-libs.sh BIN DEST
# A fully static executable needs nothing and copies nothing. Symlinks are resolved: the file
# lands under the name the loader asks for. Fails when ldd reports a library "not found".
set -euo pipefail

(($# == 2)) || {
  echo "usage: $0 BIN DEST" >&2
  exit 2
}
bin=$1
dest=$2
[[ -x $bin ]] || {
  echo "collect-runtime-libs: $bin is not an executable" >&2
  exit 1
}
mkdir -p "$dest"

if ! out=$(ldd "$bin" 2>&1); then
  if grep -qE 'not a dynamic executable|statically linked' <<<"$out"; then
    echo "collect-runtime-libs: $bin is static, nothing to copy"
    exit 0
  fi
  echo "collect-runtime-libs: ldd $bin failed: $out" >&2
  exit 1
fi
if grep -qE 'statically linked' <<<"$out"; then
  echo "collect-runtime-libs: $bin is static, nothing to copy"
  exit 0
fi
if grep -q 'not found' <<<"$out"; then
  echo "collect-runtime-libs: unresolved libraries for $bin:" >&2
  grep 'not found' <<<"$out" >&2
  exit 1
fi

# "libx.so.1 => /lib/x86_64-linux-gnu/libx.so.1 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"
mapfile -t libs < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$out" | sort -u)
total=0
for lib in "${libs[@]}"; do
  mkdir -p "$dest$(dirname "$lib")"
  cp -L "$lib" "$dest$lib"
  total=$((total + $(stat -c %s "$dest$lib")))
done
echo "collect-runtime-libs: $bin needs ${#libs[@]} libraries, $((total / 1024)) KiB"
