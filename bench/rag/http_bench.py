#!/usr/bin/python3
"""The RAG service over HTTP: ingest speed and search latency at ~10k and ~100k chunks, and its
memory, measured on the real enkisys-rag binary on loopback (SQLite, built-in embedder).

  http_bench.py [--binary build/release/bin/enkisys-rag] [--corpus build/rag/corpus.en.jsonl]
                [--chunks 100000] [--small 10000] [--passes 3]

Uploads the postgresql-doc-15 corpus (bench/rag/corpus.sh) as Markdown documents through
POST /api/rag/collections/{id}/documents, again and again with a replica tag added to each copy
(the service deduplicates identical content) until the collection holds --chunks chunks, waits
for the queue to drain, then runs the judged English queries (bench/rag/queries.en.tsv) --passes
times per mode over one keep-alive connection and prints p50/p99 of the whole HTTP exchange.
Bounded: at most 40 replicas, 600 s of waiting for the queue.
"""
import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import metrics  # noqa: E402

USER = {"X-User-Id": "bench", "Content-Type": "application/json"}


def percentile(samples, q):
    s = sorted(samples)
    return s[min(len(s) - 1, int(q * len(s)))] if s else 0.0


class Service:
    def __init__(self, binary, work):
        env = dict(os.environ, PORT="0", BIND_ADDRESS="127.0.0.1", ACCESS_LOG="off",
                   RAG_DATA_DIR=work, DATABASE_URL="sqlite://" + os.path.join(work, "rag.db"),
                   LOG_LEVEL="info", RAG_INDEX_SAVE_INTERVAL_S="30")
        self.proc = subprocess.Popen([binary], env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 30
        self.port = None
        while self.port is None and time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            m = re.search(r'"msg":"listening".*"port":(\d+)', line)
            if m and '"listener":"main"' in line:
                self.port = int(m.group(1))
        if self.port is None:
            self.proc.kill()
            sys.exit("http_bench.py: the service did not start")
        # Keep draining its log so the pipe never fills.
        self.drain = subprocess.Popen(["cat"], stdin=self.proc.stdout, stdout=subprocess.DEVNULL)
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def call(self, method, path, body=None):
        self.conn.request(method, path, body=json.dumps(body) if body is not None else None,
                          headers=USER)
        r = self.conn.getresponse()
        data = r.read()
        return r.status, data

    def rss_mb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def queue_depth(self):
        _, data = self.call("GET", "/metrics")
        m = re.search(rb"^rag_queue_depth\S* (\S+)$", data, re.M)
        return float(m.group(1)) if m else -1

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def chunk_count(svc, cid):
    total, after = 0, ""
    for _ in range(1000):
        status, data = svc.call("GET", f"/api/rag/collections/{cid}/documents?limit=1000"
                                       + (f"&after={after}" if after else ""))
        page = json.loads(data)
        total += sum(d["chunks"] for d in page["documents"])
        if page["next_after"] is None:
            return total
        after = page["next_after"]
    return total


def wait_idle(svc, limit_s=600):
    deadline = time.time() + limit_s
    while svc.queue_depth() != 0:
        if time.time() > deadline:
            sys.exit("http_bench.py: the queue did not drain in time")
        time.sleep(0.2)


def measure(svc, queries, passes):
    rows = {}
    for mode in ("bm25", "vector", "hybrid"):
        ms = []
        for _ in range(passes):
            for _qid, text, _qrels in queries:
                t = time.perf_counter()
                status, _ = svc.call("POST", "/api/rag/search", {"query": text, "k": 10,
                                                                  "mode": mode})
                ms.append((time.perf_counter() - t) * 1000)
                if status != 200:
                    sys.exit(f"http_bench.py: search answered {status}")
        rows[mode] = (percentile(ms, 0.5), percentile(ms, 0.99))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "release", "bin",
                                                     "enkisys-rag"))
    ap.add_argument("--corpus", default=os.path.join(ROOT, "build", "rag", "corpus.en.jsonl"))
    ap.add_argument("--chunks", type=int, default=100000)
    ap.add_argument("--small", type=int, default=10000)
    ap.add_argument("--passes", type=int, default=3)
    args = ap.parse_args()
    if not os.path.exists(args.corpus):
        sys.exit(f"http_bench.py: no {args.corpus} (run bench/rag/corpus.sh)")
    docs = [json.loads(line) for line in open(args.corpus, encoding="utf-8")]
    queries = metrics.load_queries(os.path.join(HERE, "queries.en.tsv"))
    with tempfile.TemporaryDirectory(prefix="rag-http-bench.") as work:
        svc = Service(args.binary, work)
        try:
            status, data = svc.call("POST", "/api/rag/collections", {"name": "bench"})
            cid = json.loads(data)["id"]
            print("| chunks | documents | HTTP ingest MB/s | mode | search p50 / p99 ms | RSS MB |")
            print("|---:|---:|---:|---|---|---:|")
            uploaded = sent_bytes = 0
            ingest_s = 0.0
            chunks = 0
            for target in sorted({args.small, args.chunks}):
                replica = 0
                t0 = time.perf_counter()
                batch_bytes = 0
                while chunks < target and replica < 40:
                    for d in docs:
                        text = f"{d['text']}\n\nreplica {uploaded // len(docs)}\n"
                        body = {"title": d["title"], "text": text, "mime_type": "text/markdown"}
                        status, data = svc.call("POST", f"/api/rag/collections/{cid}/documents",
                                                body)
                        if status not in (200, 202):
                            sys.exit(f"http_bench.py: upload answered {status}: {data[:200]}")
                        uploaded += 1
                        batch_bytes += len(text.encode())
                        if uploaded % 500 == 0:
                            wait_idle(svc)
                            chunks = chunk_count(svc, cid)
                            if chunks >= target:
                                break
                    replica += 1
                    wait_idle(svc)
                    chunks = chunk_count(svc, cid)
                ingest_s += time.perf_counter() - t0
                sent_bytes += batch_bytes
                rows = measure(svc, queries, max(1, min(args.passes, 50)))
                for mode, (p50, p99) in rows.items():
                    print(f"| {chunks} | {uploaded} | {sent_bytes / 1e6 / ingest_s:.1f} | {mode} "
                          f"| {p50:.2f} / {p99:.2f} | {svc.rss_mb():.0f} |")
        finally:
            svc.stop()


if __name__ == "__main__":
    main()
