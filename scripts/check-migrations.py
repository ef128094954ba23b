#!/usr/bin/env python3
"""Blue/green-safe migrations (docs/migrations.md): expand now, contract a release later.

During a deploy the previous release keeps serving on the database the new release has just
migrated (both colors share it), and a rollback returns to it. So a migration added since the
previous release may only *expand* the schema. This check reads the lines added to the files
that hold migrations (every non-test source naming db::Migration) since the previous release
and fails, naming file and line, on:
  * DROP TABLE / DROP COLUMN / ALTER TABLE ... DROP      the previous release still uses it
  * RENAME (table or column)                             the previous release uses the old name
  * ADD COLUMN ... NOT NULL without DEFAULT              the previous release's INSERTs fail
  * ALTER COLUMN ... SET NOT NULL / TYPE                 the same, or its reads break
A contract step that is safe because the previous release already stopped using the object
carries, in the same statement, the SQL comment `-- contract: <release that stopped using it>`.

The previous release: $PREVIOUS_RELEASE (a commit or tag) if set; else the newest tag v*;
else, on a branch, where it left main (merge-base with main or origin/main: everything the
branch adds ships in one release); on main itself, HEAD^ (main before the merge being
released: main deploys to prod on every push). Uncommitted changes count.
  scripts/check-migrations.py [--self-test]
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = "docs/migrations.md"

RULES = [
    (re.compile(r"\bDROP\s+TABLE\b"), "DROP TABLE"),
    (re.compile(r"\bDROP\s+COLUMN\b"), "DROP COLUMN"),
    (re.compile(r"\bALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?[\w.\"]+\s+DROP\s+(?!CONSTRAINT\b|DEFAULT\b|COLUMN\b)"),
     "ALTER TABLE ... DROP"),
    (re.compile(r"\bRENAME\b"), "RENAME"),
    (re.compile(r"\bALTER\s+COLUMN\s+[\w\"]+\s+(?:SET\s+NOT\s+NULL|(?:SET\s+DATA\s+)?TYPE)\b"),
     "ALTER COLUMN ... SET NOT NULL / TYPE"),
]
ADD_COLUMN = re.compile(r"\bADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?[\w\"]+\s+[^,;]*")
CONTRACT = re.compile(r"--\s*contract:\s*\S+", re.IGNORECASE)


def sql_of(line):
    """The SQL text of a C++ source line (string literal quotes and escapes dropped)."""
    s = re.sub(r'R"\w*\(|\)\w*"', " ", line)
    s = s.replace('\\n', ' ').replace('"', " ")
    return s


def problems_in(statements):
    """statements: [(line_number, text)] -> [(line_number, rule)]."""
    out = []
    for line, text in statements:
        up = " ".join(text.upper().split())
        if CONTRACT.search(text):
            continue
        for rx, name in RULES:
            if rx.search(up):
                out.append((line, name))
        for m in ADD_COLUMN.finditer(up):
            clause = m.group(0)
            if "NOT NULL" in clause and "DEFAULT" not in clause and "PRIMARY KEY" not in clause:
                out.append((line, "ADD COLUMN ... NOT NULL without DEFAULT"))
    return out


def statements_of(added):
    """added: [(line_number, source_line)] of consecutive added lines -> SQL statements, each
    with the line where it starts (split on ';')."""
    out, buf, start, spanned = [], "", None, ""
    for number, src in added:
        # C++ comments are not SQL; SQL comments (--) stay (they carry `-- contract:`).
        code = re.sub(r"^\s*//.*$", "", src)
        spanned += " " + code
        for part in re.split(r"(;)", sql_of(code)):
            if part == ";":
                if buf.strip():
                    # The statement with every source line it touches (a `-- contract:` after
                    # its ';' on the same line counts).
                    out.append((start, buf + (" " + CONTRACT.search(spanned).group(0)
                                              if CONTRACT.search(spanned) else "")))
                buf, start, spanned = "", None, code
                continue
            if part.strip() and start is None:
                start = number
            buf += " " + part
    if buf.strip():
        out.append((start, buf))
    return out


def git(*args):
    return subprocess.run(["git", "-C", ROOT, *args], check=True, capture_output=True,
                          text=True).stdout


def previous_release():
    env = os.environ.get("PREVIOUS_RELEASE", "").strip()
    if env:
        return env
    try:
        return git("describe", "--tags", "--abbrev=0", "--match", "v*").strip()
    except subprocess.CalledProcessError:
        pass
    head = git("rev-parse", "HEAD").strip()
    for ref in ("main", "origin/main"):
        try:
            main = git("rev-parse", "--verify", "-q", ref).strip()
        except subprocess.CalledProcessError:
            continue
        if main != head:
            return git("merge-base", "HEAD", main).strip()
        break
    try:
        return git("rev-parse", "--verify", "-q", "HEAD^").strip()
    except subprocess.CalledProcessError:
        return None


def migration_files():
    names = git("grep", "-l", "db::Migration", "--", "services", "libs").split()
    return [n for n in names if "/tests/" not in n and n.endswith((".cpp", ".hpp", ".sql"))]


def check_repo():
    base = previous_release()
    if base is None:
        print("check-migrations: no previous release (first commit): nothing to compare")
        return 0
    files = migration_files()
    diff = git("diff", "-U0", base, "--", *files) if files else ""
    found, path, number, added = [], None, 0, []

    def flush():
        for line, rule in problems_in(statements_of(added)):
            found.append((path, line, rule))
        added.clear()

    for raw in diff.splitlines():
        if raw.startswith("+++ "):
            flush()
            path = raw[6:] if raw.startswith("+++ b/") else None
        elif raw.startswith("@@"):
            flush()
            number = int(re.search(r"\+(\d+)", raw).group(1))
        elif raw.startswith("+") and path:
            added.append((number, raw[1:]))
            number += 1
        elif not raw.startswith("-"):
            flush()
    flush()
    for p, line, rule in found:
        print(f"{p}:{line}: {rule} in a migration added since the previous release ({base[:12]}): "
              f"during a blue/green deploy the previous release still runs on this schema. "
              f"Expand now (add, copy, write both), contract a release later; {DOC}")
    if found:
        print(f"check-migrations: {len(found)} problem(s)")
        return 1
    print(f"check-migrations: {len(files)} files with migrations, nothing unsafe since {base[:12]}")
    return 0


def self_test():
    bad = [
        "ALTER TABLE tools DROP COLUMN owner;",
        "ALTER TABLE tools DROP owner;",
        "DROP TABLE tools;",
        "ALTER TABLE tools RENAME TO tools2;",
        "ALTER TABLE tools RENAME COLUMN a TO b;",
        "ALTER TABLE tools ADD COLUMN owner TEXT NOT NULL;",
        "ALTER TABLE tools ADD owner BIGINT NOT NULL REFERENCES users(id);",
        "ALTER TABLE tools ALTER COLUMN owner SET NOT NULL;",
        "ALTER TABLE tools ALTER COLUMN owner TYPE BIGINT;",
    ]
    good = [
        "ALTER TABLE tools ADD COLUMN owner TEXT NOT NULL DEFAULT '';",
        "ALTER TABLE tools ADD COLUMN owner TEXT;",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL);",
        "CREATE INDEX IF NOT EXISTS i ON t(name);",
        "DROP INDEX IF EXISTS i;",
        "ALTER TABLE tools DROP CONSTRAINT c;",
        "ALTER TABLE tools DROP COLUMN legacy; -- contract: v1.4",
    ]
    failures = 0
    for sql in bad:
        if not problems_in(statements_of([(1, f'"{sql}"')])):
            print(f"self-test: not caught: {sql}")
            failures += 1
    for sql in good:
        if problems_in(statements_of([(1, f'"{sql}"')])):
            print(f"self-test: refused: {sql}")
            failures += 1
    # A statement split over C++ string literals on several lines.
    split = [(10, '  "ALTER TABLE tools "'), (11, '  "ADD COLUMN x TEXT NOT NULL;"')]
    if problems_in(statements_of(split)) != [(10, "ADD COLUMN ... NOT NULL without DEFAULT")]:
        print("self-test: a statement over two lines was not caught at its first line")
        failures += 1
    print(f"check-migrations self-test: {len(bad) + len(good) + 1 - failures} ok, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    sys.exit(check_repo())
