#!/usr/bin/python3
"""Xapian's query time on the chunks enkisys-rag-bench indexed (the peer row of `make bench`).

  xapian_bench.py [--work-dir build/rag/bench] [--small 10000] [--passes 3]

Reads WORK_DIR/chunks.tsv (chunk id, document id, heading, text; written by enkisys-rag-bench),
indexes its first SMALL rows and then all of them with the Xapian setup of peers.py (the same
class: BM25, Snowball stemmer, stop words, title with wdf 2), runs the judged English queries
PASSES times for the top 10 and prints p50/p99 ms per query (Python overhead included), the
same nearest-rank percentiles as the C++ bench.
"""
import argparse
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import metrics  # noqa: E402
import peers  # noqa: E402

ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))


def percentile(samples, q):
    s = sorted(samples)
    return s[min(len(s) - 1, int(q * len(s)))] if s else 0.0


def load_rows(path):
    with open(path, encoding="utf-8") as f:
        return [tuple(line.rstrip("\n").split("\t", 3)) for line in f if line.count("\t") >= 3]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work-dir", default=os.path.join(ROOT, "build", "rag", "bench"))
    ap.add_argument("--small", type=int, default=10000)
    ap.add_argument("--passes", type=int, default=3)
    args = ap.parse_args()
    chunks = os.path.join(args.work_dir, "chunks.tsv")
    if not os.path.exists(chunks):
        sys.exit(f"xapian_bench.py: no {chunks} (run enkisys-rag-bench first)")
    rows = load_rows(chunks)
    queries = metrics.load_queries(os.path.join(HERE, "queries.en.tsv"))
    stop = peers.load_stopwords(peers.LANGS["en"]["stop"])
    passes = max(1, min(args.passes, 100))
    print("| system | chunks | index s | query p50 / p99 ms (top 10) |")
    print("|---|---:|---:|---|")
    for n in sorted({min(args.small, len(rows)), len(rows)}):
        with tempfile.TemporaryDirectory(prefix="xapian-bench.", dir=args.work_dir) as d:
            system = peers.Xapian("en", stop, os.path.join(d, "db"))
            t0 = time.perf_counter()
            system.add(rows[:n])
            index_s = time.perf_counter() - t0
            ms = []
            for _ in range(passes):
                for _qid, text, _qrels in queries:
                    t = time.perf_counter()
                    system.search(text, 10)
                    ms.append((time.perf_counter() - t) * 1000)
            print(f"| xapian {peers.xapian.version_string()} | {n} | {index_s:.0f} | "
                  f"{percentile(ms, 0.5):.2f} / {percentile(ms, 0.99):.2f} |")


if __name__ == "__main__":
    main()
