#!/usr/bin/env bash
# Builds the RAG retrieval corpora from Debian documentation packages, as JSON lines:
#   bench/rag/corpus.sh [OUT_DIR]        (default build/rag)
# writes OUT_DIR/corpus.en.jsonl (postgresql-doc-15, one document per HTML page),
# OUT_DIR/corpus.es.jsonl (debian-reference-es, one document per section) and
# OUT_DIR/manifest.json (package versions, document counts, sha256 of each file).
# Installs what is missing (as root; otherwise says what to install). The judgements in
# bench/rag/queries.*.tsv were made on the versions pinned below: another version stops the
# script unless RAG_ALLOW_OTHER_VERSIONS=1 (then the ids the queries judge are still checked
# by peers.py, but page contents may have moved).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=${1:-$ROOT/build/rag}
PY=/usr/bin/python3 # Debian's interpreter: its python3-lxml/python3-xapian, not a local one
declare -A PINNED=(
  [postgresql-doc-15]=15.20-0+deb12u1
  [debian-reference-es]=2.100
)
# the corpora, the HTML parser, the Xapian peer, and the Snowball stop-word lists of the peers
PACKAGES=(postgresql-doc-15 debian-reference-es python3 python3-lxml python3-xapian postgresql-15)

"$ROOT/scripts/apt-install.sh" <(printf '%s\n' "${PACKAGES[@]}")

status=0
for pkg in "${!PINNED[@]}"; do
  have=$(dpkg-query -W -f='${Version}' "$pkg")
  if [[ $have != "${PINNED[$pkg]}" ]]; then
    echo "corpus: $pkg is $have, the judgements were made on ${PINNED[$pkg]}" >&2
    status=1
  fi
done
if ((status != 0)) && [[ ${RAG_ALLOW_OTHER_VERSIONS:-0} != 1 ]]; then
  echo "corpus: set RAG_ALLOW_OTHER_VERSIONS=1 to extract anyway" >&2
  exit 1
fi

mkdir -p "$OUT"
"$PY" "$ROOT/bench/rag/extract.py" en "$OUT/corpus.en.jsonl"
"$PY" "$ROOT/bench/rag/extract.py" es "$OUT/corpus.es.jsonl"

{
  printf '{\n  "packages": {'
  sep=''
  for pkg in postgresql-doc-15 debian-reference-es python3 python3-xapian python3-lxml \
    libsqlite3-0 postgresql-15; do
    printf '%s"%s": "%s"' "$sep" "$pkg" "$(dpkg-query -W -f='${Version}' "$pkg")"
    sep=', '
  done
  printf '},\n  "files": {'
  sep=''
  for lang in en es; do
    f=$OUT/corpus.$lang.jsonl
    printf '%s"corpus.%s.jsonl": {"documents": %d, "sha256": "%s"}' "$sep" "$lang" \
      "$(wc -l <"$f")" "$(sha256sum "$f" | cut -d' ' -f1)"
    sep=', '
  done
  printf '}\n}\n'
} >"$OUT/manifest.json"
cat "$OUT/manifest.json"
