#!/usr/bin/python3
"""Helpers of bench/agent/run.sh (loopback only; every loop bounded in count and time).

  driver.py rag-seed RAG_BASE                 a shared collection with a few documents, waits
                                              until they are ready; prints the collection id
  driver.py conversations BASE N COLLECTION LUA   N conversations (user bench-<i>, the collection,
                                              the calculator tool); writes the wrk Lua script
  driver.py check BASE LUA                    one turn on the first conversation: 200, an
                                              answer, a citation; prints the message
  driver.py sse BASE N COLLECTION HOLD_S PID  N conversations, then N turns at once with
                                              Accept: text/event-stream; waits until every
                                              stream has its first event, holds them HOLD_S
                                              seconds and prints `streams <open> rss_mb <peak>`
                                              (RSS of PID while they are open)
"""
import asyncio
import http.client
import json
import sys
import time

ADMIN = {"X-User-Id": "bench-admin", "X-User-Roles": "admin", "Content-Type": "application/json"}
MESSAGE = "How do I keep PostgreSQL tables healthy with vacuum? And what is 6*7?"
DOCS = {
    "Vacuum": "# Vacuum\n\nVACUUM reclaims storage occupied by dead tuples. Autovacuum runs it "
              "in the background.\n\n## Freezing\n\nVacuum also freezes old transaction ids to "
              "prevent wraparound.\n",
    "Indexes": "# Indexes\n\nA B-tree index speeds up equality and range queries.\n\n## GIN\n\n"
               "GIN indexes suit full-text search and arrays.\n",
    "WAL": "# Write-ahead log\n\nThe WAL records every change before it reaches the data files, "
           "so a crash never loses a committed transaction.\n\n## Checkpoints\n\nA checkpoint "
           "flushes dirty pages and lets old WAL segments be recycled.\n",
    "Backups": "# Backups\n\npg_dump writes a logical backup; pg_basebackup copies the cluster "
               "for point-in-time recovery with archived WAL.\n",
    "Replication": "# Replication\n\nStreaming replication ships WAL to standbys; logical "
                   "replication publishes row changes of chosen tables.\n",
}


def call(base, method, path, body=None, headers=None, timeout=30):
    host, port = base.replace("http://", "").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers=headers or ADMIN)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, data


def rag_seed(base):
    status, data = call(base, "POST", "/api/rag/collections",
                        {"name": "bench", "visibility": "shared"})
    if status != 201:
        sys.exit(f"driver.py: collection: HTTP {status} {data[:200]!r}")
    cid = json.loads(data)["id"]
    for title, text in DOCS.items():
        status, data = call(base, "POST", f"/api/rag/collections/{cid}/documents",
                            {"title": title, "text": text, "mime_type": "text/markdown"})
        if status not in (200, 202):
            sys.exit(f"driver.py: document: HTTP {status} {data[:200]!r}")
    deadline = time.time() + 60
    while time.time() < deadline:
        _, data = call(base, "GET", f"/api/rag/collections/{cid}/documents")
        docs = json.loads(data)["documents"]
        if docs and all(d["status"] == "ready" for d in docs):
            print(cid)
            return
        if any(d["status"] == "failed" for d in docs):
            sys.exit(f"driver.py: a document failed: {docs}")
        time.sleep(0.1)
    sys.exit("driver.py: documents not ready after 60 s")


def create_conversations(base, n, collection):
    out = []
    for i in range(n):
        user = f"bench-{i}"
        status, data = call(base, "POST", "/api/chat/conversations",
                            {"title": f"bench {i}", "collections": [collection],
                             "tools": ["calculator"]},
                            {"X-User-Id": user, "Content-Type": "application/json"})
        if status != 201:
            sys.exit(f"driver.py: conversation: HTTP {status} {data[:200]!r}")
        out.append((json.loads(data)["id"], user))
    return out


def conversations(base, n, collection, lua):
    convs = create_conversations(base, int(n), collection)
    ids = ", ".join(f'"{c}"' for c, _ in convs)
    users = ", ".join(f'"{u}"' for _, u in convs)
    body = json.dumps({"content": MESSAGE}).replace("\\", "\\\\").replace("'", "\\'")
    with open(lua, "w") as f:
        f.write(f"""-- wrk: each thread rotates over its share of the conversations.
ids = {{{ids}}}
users = {{{users}}}
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
-- wrk ... -- <threads>: the stride between a thread's conversations.
function init(args)
  pos = 0
  nthreads = tonumber(args[1]) or 1
end
function request()
  local n = #ids
  local idx = (tid + pos * nthreads) % n + 1
  pos = pos + 1
  return wrk.format("POST", "/api/chat/conversations/" .. ids[idx] .. "/messages",
    {{["X-User-Id"] = users[idx], ["Content-Type"] = "application/json"}}, '{body}')
end
""")


def check(base, lua):
    text = open(lua).read()
    cid = text.split('ids = {"', 1)[1].split('"', 1)[0]
    user = text.split('users = {"', 1)[1].split('"', 1)[0]
    status, data = call(base, "POST", f"/api/chat/conversations/{cid}/messages",
                        {"content": MESSAGE}, {"X-User-Id": user,
                                               "Content-Type": "application/json"})
    if status != 200:
        sys.exit(f"driver.py: turn: HTTP {status} {data[:300]!r}")
    m = json.loads(data)["message"]
    if not m["content"] or not m["citations"]:
        sys.exit(f"driver.py: turn without an answer or citations: {m}")
    print(json.dumps(m)[:400])


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def one_stream(port, cid, user, opened, hold):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = json.dumps({"content": MESSAGE}).encode()
    writer.write((f"POST /api/chat/conversations/{cid}/messages HTTP/1.1\r\n"
                  f"Host: 127.0.0.1\r\nX-User-Id: {user}\r\nAccept: text/event-stream\r\n"
                  f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                  ).encode() + body)
    await writer.drain()
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 200 " not in head.split(b"\r\n", 1)[0]:
            return
        # Bounded: the first event arrives or the wait below is cancelled by the caller.
        for _ in range(1000):
            line = await reader.readline()
            if not line:
                return
            if line.startswith(b"event: message.delta"):
                break
        else:
            return
        opened.append(1)
        await hold.wait()
    finally:
        writer.close()


async def sse(base, n, collection, hold_s, pid):
    port = int(base.rsplit(":", 1)[1])
    convs = create_conversations(base, n, collection)
    opened, hold = [], asyncio.Event()
    tasks = [asyncio.create_task(one_stream(port, c, u, opened, hold)) for c, u in convs]
    deadline = time.time() + 60
    peak = 0.0
    while len(opened) < n and time.time() < deadline:
        await asyncio.sleep(0.2)
        peak = max(peak, rss_mb(pid))
    held = len(opened)
    end = time.time() + hold_s
    while time.time() < end:
        peak = max(peak, rss_mb(pid))
        await asyncio.sleep(0.2)
    hold.set()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    print(f"streams {held} rss_mb {peak:.1f}")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "rag-seed":
        rag_seed(*args)
    elif cmd == "conversations":
        conversations(*args)
    elif cmd == "check":
        check(*args)
    elif cmd == "sse":
        asyncio.run(sse(args[0], int(args[1]), args[2], float(args[3]), int(args[4])))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
