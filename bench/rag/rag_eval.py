#!/usr/bin/python3
"""Scores the RAG retrieval core (enkisys_rag_eval) next to the lexical peers, in one table.

Runs build/release/bin/enkisys_rag_eval on corpus.{en,es}.jsonl for the bm25, vector and hybrid
modes, turns its chunk rankings into document rankings with metrics.doc_ranking and scores them
with metrics.evaluate / judged_at. Peers come from peers.py, run first (--chunk-words 150) unless
--reuse-peers takes CORPUS_DIR/peers.json as it is. Queries are split into two halves by the
parity of their number (odd = tuning half "A", even = held-out half "B"); MRR@10 is reported
for each half so that parameters chosen on A can be checked on B.

usage: /usr/bin/python3 bench/rag/rag_eval.py [--reuse-peers] [--replicate N] [-- DRIVER ARGS]
"""
import argparse
import json
import os
import subprocess
import sys

import metrics

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DEPTH = 10


def half(qid):
    return "A" if int("".join(c for c in qid if c.isdigit())) % 2 == 1 else "B"


def half_mrr(per_query_mrr, queries):
    out = {}
    for h in ("A", "B"):
        ids = [qid for qid, _t, _q in queries if half(qid) == h]
        out[h] = sum(per_query_mrr.get(q, 0.0) for q in ids) / max(1, len(ids))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus-dir", default=os.path.join(ROOT, "build", "rag"))
    ap.add_argument("--driver", default=os.path.join(ROOT, "build", "release", "bin",
                                                     "enkisys_rag_eval"))
    ap.add_argument("--reuse-peers", action="store_true")
    ap.add_argument("--replicate", type=int, default=0, help="also measure N corpus copies (en)")
    ap.add_argument("--langs", nargs="*", default=["en", "es"])
    ap.add_argument("driver_args", nargs="*")
    args = ap.parse_args()

    peers_path = os.path.join(args.corpus_dir, "peers.json")
    if not args.reuse_peers or not os.path.exists(peers_path):
        subprocess.run([sys.executable, os.path.join(HERE, "peers.py"), "--chunk-words", "150",
                        "--corpus-dir", args.corpus_dir], check=True, stdout=subprocess.DEVNULL)
    with open(peers_path, encoding="utf-8") as f:
        peers = json.load(f)["results"]

    rows, perf = [], []
    for lang in args.langs:
        queries = metrics.load_queries(os.path.join(HERE, f"queries.{lang}.tsv"))
        qrels = {qid: q for qid, _t, q in queries}
        pool = metrics.load_pool(os.path.join(HERE, f"pool.{lang}.tsv"))
        for p in peers:
            if p["lang"] == lang:
                mrr = {q: v["mrr"] for q, v in p["per_query"].items()}
                rows.append((lang, p["system"], p["indexing"], p["units"], p, half_mrr(mrr, queries)))
        out = os.path.join(args.corpus_dir, f"rag_eval.{lang}.json")
        cmd = [args.driver, "--corpus", os.path.join(args.corpus_dir, f"corpus.{lang}.jsonl"),
               "--queries", os.path.join(HERE, f"queries.{lang}.tsv"), "--lang", lang,
               "--out", out, *args.driver_args]
        if args.replicate and lang == "en":
            cmd += ["--replicate", str(args.replicate)]
        subprocess.run(cmd, check=True)
        with open(out, encoding="utf-8") as f:
            res = json.load(f)
        for mode in ("bm25", "vector", "hybrid"):
            runs = {q: metrics.doc_ranking(r)[:DEPTH] for q, r in res["runs"][mode].items()}
            summary = metrics.evaluate(runs, qrels, DEPTH)
            summary["judged"] = sum(metrics.judged_at(runs.get(q, []), pool.get(q, set()) |
                                                      set(qrels[q]), DEPTH)
                                    for q in qrels) / max(1, len(qrels))
            summary["ms_per_query"] = res["latency_ms"][mode]["p50"]
            mrr = {q: metrics.mrr_at(runs.get(q, []), qrels[q], DEPTH) for q in qrels}
            rows.append((lang, f"enkisys {mode}", f"chunks of <= {res['params']['target-bytes']} "
                         "bytes", res["chunks"], summary, half_mrr(mrr, queries)))
        perf.append((lang, res))

    print("| lang | system | indexing | units | MRR@10 | MRR@10 A | MRR@10 B | nDCG@10 | "
          "recall@10 | judged@10 | ms/query |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for lang, system, indexing, units, s, h in rows:
        print(f"| {lang} | {system} | {indexing} | {units} | {s['mrr']:.3f} | {h['A']:.3f} | "
              f"{h['B']:.3f} | {s['ndcg']:.3f} | {s['recall']:.3f} | {s['judged']:.3f} | "
              f"{s['ms_per_query']:.2f} |")
    print()
    print("| lang | chunks | ingest MB/s wall (per CPU-s) | p50/p99 ms bm25 | vector | hybrid | "
          "HNSW recall@10 | scale |")
    print("|---|---:|---:|---|---|---|---|---|")
    for lang, res in perf:
        lat = res["latency_ms"]
        for name, sc in res["scale"].items() or [("corpus", None)]:
            if sc is None:
                continue
            extra = ""
            if "bm25_ms" in sc:
                extra = (f"bm25 p50/p99 {sc['bm25_ms']['p50']:.2f}/{sc['bm25_ms']['p99']:.2f} ms, "
                         f"hnsw {sc['hnsw_ms']['p50']:.2f}/{sc['hnsw_ms']['p99']:.2f} ms, "
                         f"exact {sc['exact_ms']['p50']:.2f}/{sc['exact_ms']['p99']:.2f} ms, "
                         f"build {sc['hnsw_build_s']:.0f} s")
            print(f"| {lang} | {sc['chunks']} | {res['ingest_mb_s']:.1f} "
                  f"({res['ingest_mb_per_cpu_s']:.1f}) | "
                  f"{lat['bm25']['p50']:.2f}/{lat['bm25']['p99']:.2f} | "
                  f"{lat['vector']['p50']:.2f}/{lat['vector']['p99']:.2f} | "
                  f"{lat['hybrid']['p50']:.2f}/{lat['hybrid']['p99']:.2f} | "
                  f"{sc['hnsw_recall_at_10']:.3f} | {name} {extra} |")


if __name__ == "__main__":
    main()
