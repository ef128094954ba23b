"""Flask twin of the tools service's hot paths, the benchmark peer of `enkisys-tools`.

It mirrors the original Python toolmodule: tools in an SQLite table, the same JSON shapes and
routes as the C++ service (ARCHITECTURE.md section 2):
  GET  /health
  POST /api/tools                      create a tool (201)
  GET  /api/tools/<name>               read one tool
  POST /api/tools/<name>/invoke        {"arguments": {...}} -> {"result": ...}; builtin calculator
The calculator walks the expression's AST (no eval). With TWIN_AUDIT=1 every invocation also
commits an audit row (tool, caller, status, duration, SHA-256 of the arguments) before
answering, with the same durability as the C++ service (WAL, synchronous=FULL) — the way a
Flask app records it: one INSERT committed per request. Run it under gunicorn:
  TOOLS_DB=/tmp/tools.db gunicorn -w 2 -k sync -b 127.0.0.1:8000 --chdir bench/peers/flask_tools app:app
"""

import ast
import hashlib
import json
import operator
import os
import sqlite3
import time
import uuid

from flask import Flask, g, jsonify, request

DB_PATH = os.environ.get("TOOLS_DB", "tools.db")
MAX_EXPRESSION = 256
AUDIT = os.environ.get("TWIN_AUDIT") == "1"

app = Flask(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS tools (
  name TEXT PRIMARY KEY,
  description TEXT NOT NULL,
  parameters TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('builtin', 'http')),
  http TEXT
)"""

AUDIT_SCHEMA = """
CREATE TABLE IF NOT EXISTS invocations (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  tool TEXT NOT NULL,
  caller TEXT NOT NULL,
  status TEXT NOT NULL,
  duration_ms REAL NOT NULL,
  arguments_sha256 TEXT NOT NULL,
  created_at TEXT NOT NULL
)"""

CALCULATOR = {
    "name": "calculator",
    "description": "Evaluates an arithmetic expression (+ - * / % **, parentheses).",
    "parameters": {
        "type": "object",
        "properties": {"expression": {"type": "string"}},
        "required": ["expression"],
    },
    "kind": "builtin",
}

_connection = None  # one connection per worker process, opened after the fork


def db():
    global _connection
    if _connection is None:
        _connection = sqlite3.connect(DB_PATH, isolation_level=None, check_same_thread=False)
        _connection.execute("PRAGMA journal_mode=WAL")
        _connection.execute("PRAGMA busy_timeout=5000")
        _connection.execute("PRAGMA synchronous=FULL")
        _connection.execute(SCHEMA)
        if AUDIT:
            _connection.execute(AUDIT_SCHEMA)
        _connection.execute(
            "INSERT OR IGNORE INTO tools (name, description, parameters, kind, http) VALUES (?, ?, ?, ?, NULL)",
            (CALCULATOR["name"], CALCULATOR["description"], json.dumps(CALCULATOR["parameters"]), "builtin"),
        )
    return _connection


def error(status, code, message):
    request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex
    return jsonify({"error": {"code": code, "message": message, "request_id": request_id}}), status


@app.before_request
def require_identity():
    # Like the C++ service: /api/tools answers only a user the gateway identified.
    if request.path.startswith("/api/tools") and not request.headers.get("X-User-Id"):
        return error(401, "unauthenticated", "no user identity (X-User-Id)")
    return None


def load_tool(name):
    row = db().execute(
        "SELECT name, description, parameters, kind, http FROM tools WHERE name = ?", (name,)
    ).fetchone()
    if row is None:
        return None
    tool = {"name": row[0], "description": row[1], "parameters": json.loads(row[2]), "kind": row[3]}
    if row[3] == "http":
        tool["http"] = json.loads(row[4])
    return tool


_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}


def _evaluate(node):
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > 64:
            raise ValueError("exponent too large")
        return _BINARY[type(node.op)](left, right)
    raise ValueError("unsupported expression")


def calculate(expression):
    if not isinstance(expression, str) or not expression or len(expression) > MAX_EXPRESSION:
        raise ValueError("expression must be a non-empty string of at most %d characters" % MAX_EXPRESSION)
    value = _evaluate(ast.parse(expression, mode="eval"))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value


@app.get("/health")
def health():
    db().execute("SELECT 1").fetchone()
    return jsonify({"status": "ok", "service": "tools", "version": "flask-twin", "checks": {"database": "ok"}})


@app.post("/api/tools")
def create_tool():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("name"), str):
        return error(400, "invalid_tool", "body must be a tool definition with a name")
    kind = body.get("kind", "http")
    if kind not in ("builtin", "http"):
        return error(400, "invalid_tool", "kind must be builtin or http")
    try:
        db().execute(
            "INSERT INTO tools (name, description, parameters, kind, http) VALUES (?, ?, ?, ?, ?)",
            (
                body["name"],
                body.get("description", ""),
                json.dumps(body.get("parameters", {"type": "object"})),
                kind,
                json.dumps(body.get("http")) if kind == "http" else None,
            ),
        )
    except sqlite3.IntegrityError:
        return error(409, "conflict", "tool %s already exists" % body["name"])
    return jsonify(load_tool(body["name"])), 201


@app.get("/api/tools/<name>")
def get_tool(name):
    tool = load_tool(name)
    if tool is None:
        return error(404, "not_found", "no tool named %s" % name)
    return jsonify(tool)


@app.post("/api/tools/<name>/invoke")
def invoke_tool(name):
    tool = load_tool(name)
    if tool is None:
        return error(404, "not_found", "no tool named %s" % name)
    body = request.get_json(silent=True)
    arguments = body.get("arguments") if isinstance(body, dict) else None
    if not isinstance(arguments, dict):
        return error(400, "invalid_arguments", "body must be {\"arguments\": {...}}")
    if tool["kind"] != "builtin" or name != "calculator":
        return error(501, "not_implemented", "only the calculator is invocable in the benchmark twin")
    started = time.monotonic()
    try:
        result = calculate(arguments.get("expression"))
    except (ValueError, SyntaxError, ZeroDivisionError, OverflowError) as exc:
        return error(400, "invalid_arguments", str(exc))
    if AUDIT:
        digest = hashlib.sha256(json.dumps(arguments, sort_keys=True).encode()).hexdigest()
        db().execute(
            "INSERT INTO invocations (tool, caller, status, duration_ms, arguments_sha256, created_at)"
            " VALUES (?, ?, 'ok', ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            (name, request.headers.get("X-User-Id", "anonymous"), (time.monotonic() - started) * 1000, digest),
        )
    return jsonify({"result": result})
