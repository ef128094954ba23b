"""The conversation service's turn written the way a Python team would: FastAPI + httpx, served
by uvicorn, conversations in SQLite (WAL, synchronous=FULL, like libs/db). Benchmark peer only.

Per turn it does what enkisys-agent does (services/agent/src/turn.cpp): read the conversation
(404 for anyone but its owner) and the day's tokens, load the conversation with its messages,
store the user message, POST {RAG_URL}/api/rag/search, GET {TOOLS_URL}/api/tools?format=openai,
build the memory (newest turns within the token budget, older ones summarised), call the model
streaming (POST {LLM_BASE_URL}/chat/completions), run its tool calls through
POST {TOOLS_URL}/api/tools/{name}/invoke (at most AGENT_MAX_TOOL_ROUNDS rounds), store the
tool-call round and the answer with its citations and usage, add the tokens to the day, and
answer {"message": {...}} with the same fields. SQLite work runs on the thread pool.

Environment: TWIN_DB (the SQLite file), RAG_URL, TOOLS_URL, LLM_BASE_URL, LLM_MODEL.
"""
import datetime
import json
import os
import re
import secrets
import sqlite3
import threading

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

DB = os.environ.get("TWIN_DB", "twin.db")
RAG_URL = os.environ.get("RAG_URL", "http://127.0.0.1:5003").rstrip("/")
TOOLS_URL = os.environ.get("TOOLS_URL", "http://127.0.0.1:5001").rstrip("/")
LLM_BASE_URL = os.environ.get("LLM_BASE_URL", "http://127.0.0.1:8000/v1").rstrip("/")
LLM_MODEL = os.environ.get("LLM_MODEL", "fake-model")
CONTEXT_TOKENS = 6000
MAX_TOOL_ROUNDS = 4
MAX_MESSAGE_BYTES = 32768
SUMMARY_MAX_BYTES = 2000
RAG_K = 6

SCHEMA = """
CREATE TABLE IF NOT EXISTS agent_conversations (
  id TEXT PRIMARY KEY, owner TEXT NOT NULL, title TEXT NOT NULL, collections TEXT NOT NULL,
  tools TEXT NOT NULL, system_prompt TEXT NOT NULL, model TEXT NOT NULL, summary TEXT NOT NULL,
  summarized_upto BIGINT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS agent_conversations_owner
  ON agent_conversations (owner, updated_at, id);
CREATE TABLE IF NOT EXISTS agent_messages (
  id TEXT PRIMARY KEY,
  conversation_id TEXT NOT NULL REFERENCES agent_conversations(id) ON DELETE CASCADE,
  seq BIGINT NOT NULL, role TEXT NOT NULL, content TEXT NOT NULL, tool_calls TEXT NOT NULL,
  tool_call_id TEXT NOT NULL, name TEXT NOT NULL, citations TEXT NOT NULL, model TEXT NOT NULL,
  prompt_tokens BIGINT NOT NULL, completion_tokens BIGINT NOT NULL, interrupted BIGINT NOT NULL,
  created_at TEXT NOT NULL, UNIQUE (conversation_id, seq));
CREATE TABLE IF NOT EXISTS agent_token_usage (
  user_id TEXT NOT NULL, day TEXT NOT NULL, tokens BIGINT NOT NULL, PRIMARY KEY (user_id, day));
"""

_local = threading.local()
app = FastAPI()
client: httpx.AsyncClient = None  # set at startup


def db():
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(DB, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        _local.conn = conn
    return conn


def tx(fn):
    conn = db()
    conn.execute("BEGIN IMMEDIATE")
    try:
        out = fn(conn)
        conn.execute("COMMIT")
        return out
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")[:-6] + "Z"


def error(status, code, message, request):
    return JSONResponse({"error": {"code": code, "message": message,
                                   "request_id": request.headers.get("x-request-id", "")}},
                        status_code=status)


def estimate_tokens(text):
    return max(len(text.split()), (len(text.encode()) + 3) // 4)


def message_tokens(m):
    n = 4 + estimate_tokens(m.get("content") or "")
    for c in m.get("tool_calls") or []:
        n += estimate_tokens(c["function"]["name"]) + estimate_tokens(c["function"]["arguments"])
    return n


CONV_COLS = ("id, owner, title, collections, tools, system_prompt, model, summary, "
             "summarized_upto, created_at, updated_at")


def conversation_json(r):
    tools = json.loads(r[4])
    return {"id": r[0], "title": r[2], "collections": json.loads(r[3]), "tools": tools,
            "system_prompt": r[5], "model": r[6], "summary": r[7], "created_at": r[9],
            "updated_at": r[10]}


def owned(conn, user, cid):
    r = conn.execute(f"SELECT {CONV_COLS} FROM agent_conversations WHERE id = ?",
                     (cid,)).fetchone()
    return r if r is not None and r[1] == user else None


def append(conn, cid, msgs):
    seq = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM agent_messages WHERE "
                       "conversation_id = ?", (cid,)).fetchone()[0]
    ts = now()
    out = []
    for m in msgs:
        seq += 1
        row = dict(m, id="msg_" + secrets.token_hex(12), seq=seq, created_at=ts)
        conn.execute(
            "INSERT INTO agent_messages (id, conversation_id, seq, role, content, tool_calls, "
            "tool_call_id, name, citations, model, prompt_tokens, completion_tokens, interrupted, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (row["id"], cid, seq, row["role"], row.get("content") or "",
             json.dumps(row.get("tool_calls") or []), row.get("tool_call_id", ""),
             row.get("name", ""), row.get("citations", "[]"), row.get("model", ""),
             row.get("prompt_tokens", 0), row.get("completion_tokens", 0), 0, ts))
        out.append(row)
    conn.execute("UPDATE agent_conversations SET updated_at = ? WHERE id = ?", (ts, cid))
    return out


def build_memory(history, summary, upto, budget):
    """Newest whole turns within `budget` tokens; older turns become summary lines."""
    msgs = [m for m in history if m["seq"] > upto]
    turns = []
    for m in msgs:
        if not turns or m["role"] == "user":
            turns.append([])
        turns[-1].append(m)
    kept, used = len(turns), 0
    while kept > 0:
        t = sum(message_tokens(m) for m in turns[kept - 1])
        if used + t > budget:
            break
        used += t
        kept -= 1
    window = []
    for t in turns[kept:]:
        for i, m in enumerate(t):
            if m["role"] == "tool" and i == 0:
                continue
            c = {"role": m["role"], "content": m["content"]}
            if m["tool_calls"]:
                c["tool_calls"] = m["tool_calls"]
            if m["role"] == "tool":
                c["tool_call_id"] = m["tool_call_id"]
            window.append(c)
    changed = kept > 0
    if changed:
        lines = [summary] if summary else []
        for t in turns[:kept]:
            user = next((m["content"] for m in t if m["role"] == "user"), "")
            answer = next((m["content"] for m in reversed(t)
                           if m["role"] == "assistant" and m["content"]), "")
            line = "- user: " + user[:160]
            if answer:
                line += " / assistant: " + answer[:160]
            lines.append(line)
        summary = "\n".join(lines)
        while len(summary.encode()) > SUMMARY_MAX_BYTES and "\n" in summary:
            summary = summary.split("\n", 1)[1]
        upto = turns[kept - 1][-1]["seq"]
    return window, summary, upto, changed


def load(user, cid, content):
    """Loads the conversation and its messages and stores the user message (one transaction)."""
    def work(conn):
        conv = owned(conn, user, cid)
        if conv is None:
            return None, None
        rows = conn.execute(
            "SELECT seq, role, content, tool_calls, tool_call_id, name FROM agent_messages "
            "WHERE conversation_id = ? ORDER BY seq", (cid,)).fetchall()
        history = [{"seq": r[0], "role": r[1], "content": r[2], "tool_calls": json.loads(r[3]),
                    "tool_call_id": r[4], "name": r[5]} for r in rows]
        append(conn, cid, [{"role": "user", "content": content}])
        return conv, history
    return tx(work)


def check(user, cid, day):
    conn = db()
    conv = owned(conn, user, cid)
    row = conn.execute("SELECT tokens FROM agent_token_usage WHERE user_id = ? AND day = ?",
                       (user, day)).fetchone()
    return conv, row[0] if row else 0


async def call_model(messages, tools):
    body = {"model": LLM_MODEL, "messages": messages, "temperature": 0.2, "stream": True,
            "stream_options": {"include_usage": True}}
    if tools:
        body["tools"] = tools
    text, calls, usage, model = [], {}, {}, LLM_MODEL
    async with client.stream("POST", LLM_BASE_URL + "/chat/completions", json=body) as r:
        r.raise_for_status()
        async for line in r.aiter_lines():
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                break
            chunk = json.loads(data)
            model = chunk.get("model", model)
            usage = chunk.get("usage") or usage
            for choice in chunk.get("choices", []):
                delta = choice.get("delta", {})
                if delta.get("content"):
                    text.append(delta["content"])
                for tc in delta.get("tool_calls", []):
                    c = calls.setdefault(tc.get("index", 0), {"id": "", "name": "", "args": ""})
                    c["id"] = tc.get("id") or c["id"] or "call_" + secrets.token_hex(8)
                    fn = tc.get("function", {})
                    c["name"] += fn.get("name") or ""
                    c["args"] += fn.get("arguments") or ""
    return "".join(text), [calls[k] for k in sorted(calls)], usage, model


@app.on_event("startup")
async def startup():
    global client
    client = httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=256,
                                                               max_keepalive_connections=256))
    db().executescript(SCHEMA)


@app.get("/health")
async def health():
    return {"status": "ok"}


@app.post("/api/chat/conversations", status_code=201)
async def create_conversation(request: Request):
    user = request.headers.get("x-user-id")
    if not user:
        return error(401, "unauthenticated", "missing X-User-Id", request)
    b = await request.json()
    ts = now()
    row = ("conv_" + secrets.token_hex(12), user, b.get("title", ""),
           json.dumps(b.get("collections", [])), json.dumps(b.get("tools", [])),
           b.get("system_prompt", ""), b.get("model", ""), "", 0, ts, ts)
    await run_in_threadpool(tx, lambda conn: conn.execute(
        f"INSERT INTO agent_conversations ({CONV_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)", row))
    return JSONResponse(conversation_json(row), status_code=201)


@app.post("/api/chat/conversations/{cid}/messages")
async def post_message(cid: str, request: Request):
    user = request.headers.get("x-user-id")
    if not user:
        return error(401, "unauthenticated", "missing X-User-Id", request)
    b = await request.json()
    content = b.get("content") if isinstance(b, dict) else None
    if not isinstance(content, str) or not content:
        return error(400, "invalid_argument", "content must be a non-empty string", request)
    if len(content.encode()) > MAX_MESSAGE_BYTES:
        return error(413, "message_too_large", "message too long", request)
    day = now()[:10]
    conv, used = await run_in_threadpool(check, user, cid, day)
    if conv is None:
        return error(404, "not_found", "no such conversation", request)
    conv, history = await run_in_threadpool(load, user, cid, content)
    if conv is None:
        return error(404, "not_found", "no such conversation", request)
    headers = {"X-User-Id": user, "Accept": "application/json",
               "X-Request-Id": request.headers.get("x-request-id", secrets.token_hex(8))}
    collections, tool_names = json.loads(conv[3]), json.loads(conv[4])
    passages = []
    if collections:
        r = await client.post(RAG_URL + "/api/rag/search", headers=headers,
                              json={"query": content, "collections": collections, "k": RAG_K})
        if r.status_code == 200:
            passages = r.json().get("results", [])
    tools = []
    if tool_names:
        r = await client.get(TOOLS_URL + "/api/tools", params={"format": "openai"},
                             headers=headers)
        if r.status_code == 200:
            listed = r.json()
            listed = listed.get("tools", []) if isinstance(listed, dict) else listed
            tools = [t for t in listed
                     if tool_names == "all" or t["function"]["name"] in tool_names]
    head = [{"role": "system", "content": conv[5]}] if conv[5] else []
    tail = []
    if passages:
        ctx = ("Answer from these numbered passages when they are relevant and cite each one "
               "you use as [n].\n")
        for i, p in enumerate(passages, 1):
            ctx += f"\n[{i}] {p.get('title') or p['document_id']}\n{p['text']}\n"
        tail.append({"role": "system", "content": ctx})
    tail.append({"role": "user", "content": content})
    fixed = sum(message_tokens(m) for m in head + tail) + sum(
        estimate_tokens(json.dumps(t)) for t in tools)
    window, summary, upto, changed = build_memory(
        history, conv[7], conv[8], CONTEXT_TOKENS - fixed - SUMMARY_MAX_BYTES // 2 - 16)
    if changed:
        await run_in_threadpool(tx, lambda conn: conn.execute(
            "UPDATE agent_conversations SET summary = ?, summarized_upto = ? WHERE id = ? AND "
            "summarized_upto <= ?", (summary, upto, cid, upto)))
    messages = head + ([{"role": "system", "content": "Summary of the earlier conversation:\n"
                         + summary}] if summary else []) + window + tail
    usage = {"prompt_tokens": 0, "completion_tokens": 0}
    tool_log = []
    for round_ in range(MAX_TOOL_ROUNDS + 1):
        last = round_ >= MAX_TOOL_ROUNDS
        try:
            text, calls, u, model = await call_model(messages, [] if last else tools)
        except (httpx.HTTPError, ValueError) as e:
            return error(502, "model_unavailable", f"the language model is unavailable ({e})",
                         request)
        usage["prompt_tokens"] += u.get("prompt_tokens", 0)
        usage["completion_tokens"] += u.get("completion_tokens", 0)
        if not calls or last:
            break
        wire_calls = [{"id": c["id"], "type": "function",
                       "function": {"name": c["name"], "arguments": c["args"]}} for c in calls]
        messages.append({"role": "assistant", "content": text, "tool_calls": wire_calls})
        batch = [{"role": "assistant", "content": text, "tool_calls": wire_calls, "model": model}]
        for c in calls:
            entry = {"id": c["id"], "name": c["name"], "arguments": c["args"]}
            try:
                args = json.loads(c["args"] or "{}")
            except ValueError:
                args = None
            if not isinstance(args, dict):
                entry["error"] = {"code": "invalid_arguments", "message": "not a JSON object"}
            else:
                r = await client.post(f"{TOOLS_URL}/api/tools/{c['name']}/invoke",
                                      headers=headers, json={"arguments": args})
                body = r.json()
                if r.status_code == 200:
                    entry["result"] = body["result"]
                else:
                    entry["error"] = body.get("error", {"code": "tools_error", "message": ""})
            result = json.dumps({"error": entry["error"]} if "error" in entry
                                else entry["result"])
            tool_log.append(entry)
            messages.append({"role": "tool", "tool_call_id": c["id"], "content": result})
            batch.append({"role": "tool", "content": result, "tool_call_id": c["id"],
                          "name": c["name"]})
        await run_in_threadpool(tx, lambda conn: append(conn, cid, batch))
    cited = sorted({int(n) for n in re.findall(r"\[(\d+)\]", text)})
    citations = [{"index": n, "chunk_id": p["chunk_id"], "document_id": p["document_id"],
                  "collection_id": p["collection_id"], "title": p.get("title", ""),
                  "heading_path": p.get("heading_path", []),
                  "page": (p.get("location") or {}).get("page") or 0}
                 for n in cited if 1 <= n <= len(passages) for p in [passages[n - 1]]]
    answer = {"role": "assistant", "content": text, "citations": json.dumps(citations),
              "model": model, "prompt_tokens": usage["prompt_tokens"],
              "completion_tokens": usage["completion_tokens"]}

    def finish(conn):
        row = append(conn, cid, [answer])[0]
        conn.execute("INSERT INTO agent_token_usage (user_id, day, tokens) VALUES (?, ?, ?) "
                     "ON CONFLICT (user_id, day) DO UPDATE SET tokens = "
                     "agent_token_usage.tokens + excluded.tokens",
                     (user, day, usage["prompt_tokens"] + usage["completion_tokens"]))
        return row
    row = await run_in_threadpool(tx, finish)
    return {"message": {
        "id": row["id"], "role": "assistant", "content": text, "citations": citations,
        "tool_calls": tool_log, "model": model,
        "usage": dict(usage, total_tokens=usage["prompt_tokens"] + usage["completion_tokens"]),
        "interrupted": False, "created_at": row["created_at"]}}
