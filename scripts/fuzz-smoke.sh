#!/usr/bin/env bash
# Runs every libFuzzer target of a `fuzz` build for a bounded time (`make fuzz-smoke`):
#   fuzz-smoke.sh [BIN_DIR [SECONDS]]     (default build/fuzz/bin, 90 s shared by all targets)
# Targets are found, not listed: every executable in BIN_DIR named fuzz_* (or enkisys-*-fuzz).
# Each gets SECONDS / number of targets (at least 10 s) and its seed corpus when the repository
# has one: a folder corpus/<executable> anywhere outside build/ (fuzz/corpus/fuzz_schema,
# services/gateway/fuzz/corpus/fuzz_gateway, ...; for enkisys-X-fuzz also corpus/X_fuzz). The
# seeds are only read: new inputs go to a scratch folder. A crash, leak, timeout or
# out-of-memory fails the run; its reproducer is kept under build/fuzz-smoke/ and named.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin_dir=${1:-build/fuzz/bin}
total=${2:-90}
out=build/fuzz-smoke
MIN_SECONDS=10

mapfile -t targets < <(find "$bin_dir" -maxdepth 1 -type f -perm -u+x \
  \( -name 'fuzz_*' -o -name 'enkisys-*-fuzz' \) -printf '%f\n' 2>/dev/null | LC_ALL=C sort)
if ((${#targets[@]} == 0)); then
  echo "fuzz-smoke: no fuzz_* executables in $bin_dir (build them: make fuzz)" >&2
  exit 1
fi
per=$((total / ${#targets[@]}))
((per >= MIN_SECONDS)) || per=$MIN_SECONDS

# Every corpus folder of the repository, once.
mapfile -t corpora < <(find . -type d \( -name build -o -name .git -o -name node_modules \) -prune \
  -o -type d -path '*/corpus/*' -print)

# seed_corpus EXECUTABLE: the folder of its seeds, or nothing.
seed_corpus() {
  local exe=$1 names=("$1") dir n
  case $exe in
    enkisys-*-fuzz)
      n=${exe#enkisys-}
      n=${n%-fuzz}
      names+=("${n//-/_}_fuzz" "fuzz_${n//-/_}")
      ;;
  esac
  for n in "${names[@]}"; do
    for dir in "${corpora[@]}"; do
      [[ ${dir##*/} == "$n" && ${dir%/*} == */corpus ]] && {
        echo "$dir"
        return 0
      }
    done
  done
  return 0
}

rm -rf "$out"
mkdir -p "$out"
failed=()
start=$SECONDS
echo "fuzz-smoke: ${#targets[@]} target(s), ${per}s each: ${targets[*]}"
for exe in "${targets[@]}"; do
  seeds=$(seed_corpus "$exe")
  mkdir -p "$out/$exe/new"
  args=(-max_total_time="$per" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
    -artifact_prefix="$out/$exe/")
  rc=0
  # The seeds come second: libFuzzer writes new inputs into the first folder only.
  timeout $((per + 60)) "$bin_dir/$exe" "${args[@]}" "$out/$exe/new" ${seeds:+"$seeds"} \
    >"$out/$exe/log" 2>&1 || rc=$?
  runs=$(awk '/^stat::number_of_executed_units:/ { print $2 }' "$out/$exe/log")
  if ((rc == 0)); then
    echo "ok   $exe: ${runs:-?} runs, seeds: ${seeds:-none}"
  else
    failed+=("$exe")
    echo "FAIL $exe (exit $rc), seeds: ${seeds:-none}; reproducer(s):" \
      "$(find "$out/$exe" -maxdepth 1 -type f ! -name log -printf '%p ')"
    grep -E 'ERROR|SUMMARY|Test unit written|^==' "$out/$exe/log" | head -n 20 | sed 's/^/       /'
  fi
done
echo "fuzz-smoke: $((SECONDS - start))s; logs in $out/"
if ((${#failed[@]} > 0)); then
  echo "fuzz-smoke: FAILED: ${failed[*]}" >&2
  exit 1
fi
