#!/usr/bin/python3
"""Runs the judged retrieval sets against the two peer baselines: SQLite FTS5 and Xapian.

  peers.py [--corpus-dir DIR] [--out FILE] [--chunk-words N ...] [--langs en es]

DIR defaults to build/rag of the repository, FILE to DIR/peers.json.

Reads corpus.{en,es}.jsonl (made by corpus.sh) and queries.{en,es}.tsv (beside this file),
indexes each corpus in each system, runs every query and prints MRR@10, nDCG@10 and
recall@10 per system and language as a Markdown table; the per-query rankings and scores go
to the JSON file. judged@10 is the share of the top 10 that were reviewed when the set was
judged (pool.{en,es}.tsv): where it is low, unreviewed documents were counted as not relevant.

Indexing: "whole" indexes each document as one unit (title and text fields). Each value N of
--chunk-words (default: 300) adds a chunked variant: a document's text is cut at paragraph
boundaries into chunks of at most about N words, every chunk carrying its document's title;
the top 100 chunks are turned into a document ranking (a chunk hit counts for its document,
the first rank wins; metrics.doc_ranking) and scored like the whole-document runs.

Systems:
  fts5    SQLite FTS5, ORDER BY bm25() with the title weighted 2 and the text 1; tokenizer
          "porter unicode61" (en) or "unicode61 remove_diacritics 2" (es). The query is its
          words less the stop words, each quoted, joined by OR.
  xapian  Xapian BM25 (default parameters), Snowball stemmer (english/spanish), the same stop
          words, QueryParser with OR as the default operator and STEM_SOME; the title is
          indexed with a wdf weight of 2.
Stop words: PostgreSQL's Snowball lists (/usr/share/postgresql/15/tsearch_data/*.stop).
"""
import argparse
import json
import os
import re
import sqlite3
import sys
import tempfile
import time

import xapian

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import metrics  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
LANGS = {
    "en": {"stem": "english", "fts": "porter unicode61", "stop": "english"},
    "es": {"stem": "spanish", "fts": "unicode61 remove_diacritics 2", "stop": "spanish"},
}
STOP_DIR = "/usr/share/postgresql/15/tsearch_data"
DEPTH = 10  # cut-off of every metric
CHUNK_DEPTH = 100  # chunks fetched before turning them into a document ranking
WORD = re.compile(r"\w+", re.UNICODE)


def load_stopwords(name):
    with open(os.path.join(STOP_DIR, name + ".stop"), encoding="utf-8") as f:
        return {w.strip() for w in f if w.strip()}


def load_corpus(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def units(docs, chunk_words):
    """(unit_id, doc_id, title, text) for each indexed unit: a document or one of its chunks."""
    for d in docs:
        if not chunk_words:
            yield d["id"], d["id"], d["title"], d["text"]
            continue
        chunk, size, n = [], 0, 0
        for para in d["text"].split("\n\n"):  # bounded by the document's paragraphs
            words = len(para.split())
            if chunk and size + words > chunk_words:
                yield f"{d['id']}#{n}", d["id"], d["title"], "\n\n".join(chunk)
                chunk, size, n = [], 0, n + 1
            chunk.append(para)
            size += words
        if chunk:
            yield f"{d['id']}#{n}", d["id"], d["title"], "\n\n".join(chunk)


class Fts5:
    name = "fts5"

    def __init__(self, lang, stop, path):
        self.stop = stop
        self.db = sqlite3.connect(path)
        self.db.execute(
            "CREATE VIRTUAL TABLE u USING fts5(uid UNINDEXED, doc UNINDEXED, title, body, "
            f"tokenize = '{LANGS[lang]['fts']}')")

    def add(self, rows):
        with self.db:
            self.db.executemany("INSERT INTO u(uid, doc, title, body) VALUES (?, ?, ?, ?)", rows)

    def search(self, text, depth):
        terms = [w for w in WORD.findall(text.lower()) if w not in self.stop]
        if not terms:
            return []
        expr = " OR ".join('"' + t.replace('"', '""') + '"' for t in dict.fromkeys(terms))
        return [r[0] for r in self.db.execute(
            "SELECT doc FROM u WHERE u MATCH ? ORDER BY bm25(u, 0, 0, 2.0, 1.0) LIMIT ?",
            (expr, depth))]


class Xapian:
    name = "xapian"

    def __init__(self, lang, stop, path):
        self.db = xapian.WritableDatabase(path, xapian.DB_CREATE_OR_OVERWRITE)
        self.stem = xapian.Stem(LANGS[lang]["stem"])
        self.stopper = xapian.SimpleStopper()
        for w in sorted(stop):
            self.stopper.add(w)

    def add(self, rows):
        tg = xapian.TermGenerator()
        tg.set_stemmer(self.stem)
        tg.set_stopper(self.stopper)
        tg.set_stopper_strategy(xapian.TermGenerator.STOP_STEMMED)
        for _uid, doc, title, body in rows:
            xdoc = xapian.Document()
            tg.set_document(xdoc)
            tg.index_text(title, 2)
            tg.increase_termpos()
            tg.index_text(body)
            xdoc.set_data(doc)
            self.db.add_document(xdoc)
        self.db.commit()
        self.enquire = xapian.Enquire(self.db)
        self.qp = xapian.QueryParser()
        self.qp.set_database(self.db)
        self.qp.set_stemmer(self.stem)
        self.qp.set_stopper(self.stopper)
        self.qp.set_stemming_strategy(xapian.QueryParser.STEM_SOME)
        self.qp.set_default_op(xapian.Query.OP_OR)

    def search(self, text, depth):
        query = self.qp.parse_query(" ".join(WORD.findall(text)), 0)
        self.enquire.set_query(query)
        return [m.document.get_data().decode() for m in self.enquire.get_mset(0, depth)]


def run_one(system_cls, lang, docs, queries, pool, chunk_words, workdir):
    stop = load_stopwords(LANGS[lang]["stop"])
    path = os.path.join(workdir, f"{system_cls.name}-{lang}-{chunk_words}")
    system = system_cls(lang, stop, path + (".sqlite" if system_cls is Fts5 else ".xapian"))
    rows = list(units(docs, chunk_words))
    t0 = time.perf_counter()
    system.add(rows)
    index_s = time.perf_counter() - t0
    runs, t0 = {}, time.perf_counter()
    for qid, text, _qrels in queries:
        hits = system.search(text, CHUNK_DEPTH if chunk_words else DEPTH)
        runs[qid] = metrics.doc_ranking(hits)[:DEPTH]
    query_ms = (time.perf_counter() - t0) * 1000 / max(1, len(queries))
    qrels = {qid: q for qid, _t, q in queries}
    summary = metrics.evaluate(runs, qrels, DEPTH)
    summary["judged"] = sum(metrics.judged_at(runs[q], pool.get(q, set()) | set(qrels[q]), DEPTH)
                            for q in runs) / max(1, len(runs))
    per_query = {qid: {"ranking": runs[qid],
                       "mrr": metrics.mrr_at(runs[qid], qrels[qid], DEPTH),
                       "ndcg": metrics.ndcg_at(runs[qid], qrels[qid], DEPTH),
                       "recall": metrics.recall_at(runs[qid], qrels[qid], DEPTH)}
                 for qid in runs}
    return {"system": system_cls.name, "lang": lang,
            "indexing": f"chunks of <= {chunk_words} words" if chunk_words else "whole documents",
            "units": len(rows), "documents": len(docs), **summary,
            "index_seconds": round(index_s, 2), "ms_per_query": round(query_ms, 2),
            "per_query": per_query}


def check_judgements(lang, docs, queries):
    ids = {d["id"] for d in docs}
    missing = sorted({d for _q, _t, qrels in queries for d in qrels if d not in ids})
    if missing:
        sys.exit(f"peers.py: queries.{lang}.tsv judges ids absent from the corpus: {missing}")
    qids = [q for q, _t, _r in queries]
    if len(set(qids)) != len(qids):
        sys.exit(f"peers.py: queries.{lang}.tsv has duplicate query ids")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default_dir = os.path.normpath(os.path.join(HERE, "..", "..", "build", "rag"))
    ap.add_argument("--corpus-dir", default=default_dir)
    ap.add_argument("--out", default=None, help="JSON results (default CORPUS_DIR/peers.json)")
    ap.add_argument("--chunk-words", type=int, nargs="*", default=[300])
    ap.add_argument("--langs", nargs="*", default=["en", "es"])
    args = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="rag-peers.", dir=args.corpus_dir) as workdir:
        for lang in args.langs:
            docs = load_corpus(os.path.join(args.corpus_dir, f"corpus.{lang}.jsonl"))
            queries = metrics.load_queries(os.path.join(HERE, f"queries.{lang}.tsv"))
            check_judgements(lang, docs, queries)
            pool = metrics.load_pool(os.path.join(HERE, f"pool.{lang}.tsv"))
            for chunk_words in [0] + [c for c in args.chunk_words if c > 0]:
                for cls in (Fts5, Xapian):
                    results.append(run_one(cls, lang, docs, queries, pool, chunk_words, workdir))
    print("| lang | system | indexing | docs | units | queries | MRR@10 | nDCG@10 | recall@10 "
          "| judged@10 | ms/query |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['lang']} | {r['system']} | {r['indexing']} | {r['documents']} | {r['units']} "
              f"| {r['queries']} | {r['mrr']:.3f} | {r['ndcg']:.3f} | {r['recall']:.3f} "
              f"| {r['judged']:.3f} | {r['ms_per_query']:.1f} |")
    out = args.out or os.path.join(args.corpus_dir, "peers.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"xapian": xapian.version_string(), "sqlite": sqlite3.sqlite_version,
                   "results": results}, f, indent=1, sort_keys=True)
    print(f"peers.py: results -> {out}")


if __name__ == "__main__":
    main()
