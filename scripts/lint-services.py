#!/usr/bin/env python3
"""Checks services/services.list against what cannot be generated from it (`make lint-services`).

For every listed service, and against every service nobody listed, it names what is missing or
extra in: services/<name>/, compose.yaml (service, image, build target, health check, data
volume, the local gateway's depends_on), deploy/compose.stage.yaml (ingress alias, stage label,
profile `local`, external data volume), every deploy/compose.<stage>.yaml (the stage's limits),
deploy/edge/compose.yaml, and the routes of deploy/gateway/gateway.yaml and gateway.host.yaml
(upstream host and port). The Dockerfile stages are checked by scripts/lint-dockerfile.sh.
Prints "file: message" per problem; exit 1 if any. Needs python3-yaml.
"""
import glob
import os
import re
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIST = "services/services.list"
problems = []


def problem(where, message):
    problems.append(f"{where}: {message}")


def load(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return yaml.safe_load(f) or {}


def read_list():
    out = subprocess.run([os.path.join(ROOT, "scripts/services.sh"), "lines"],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        sys.exit(1)
    services = {}
    for line in out.stdout.splitlines():
        name, port, data, runs = line.split()
        services[name] = {"port": int(port), "db": data == "db", "runs": set(runs.split(","))}
    return services


def compare(where, found, want, what):
    """Names every service missing from `found` and every one in it that is not wanted."""
    for name in sorted(want - found):
        problem(where, f"no {what} '{name}' (listed in {LIST})")
    for name in sorted(found - want):
        listed = "not in " + LIST if name not in SERVICES else "listed without this placement"
        problem(where, f"{what} '{name}' is {listed}")


def network_aliases(service, network):
    nets = service.get("networks") or {}
    if isinstance(nets, list):
        return []
    return ((nets.get(network) or {}).get("aliases")) or []


def route_upstreams(config):
    """(route name, upstream host, port) of every route, top-level and per stage."""
    routes = list(config.get("routes") or [])
    for stage in (config.get("stages") or {}).values():
        routes += (stage or {}).get("routes") or []
    result = []
    for r in routes:
        m = re.match(r"^https?://([^/:]+):(\d+)", str(r.get("upstream", "")))
        if m:
            result.append((r.get("name", r.get("prefix")), m.group(1), int(m.group(2))))
        else:
            result.append((r.get("name", r.get("prefix")), None, None))
    return result


SERVICES = read_list()
in_stage = {n for n, s in SERVICES.items() if "stage" in s["runs"]}
local = {n for n, s in SERVICES.items() if s["runs"] & {"stage", "local"}}
local_only = {n for n, s in SERVICES.items() if "local" in s["runs"] and "stage" not in s["runs"]}
edge = {n for n, s in SERVICES.items() if "edge" in s["runs"]}
with_db = {n for n, s in SERVICES.items() if s["db"]}

# --- services/<name>/ --------------------------------------------------------------------------
# A service folder has a main.cpp; a folder holding only a library of a service to come
# (services/<name>/domain) is not a service yet.
folders = {d for d in os.listdir(os.path.join(ROOT, "services"))
           if os.path.isfile(os.path.join(ROOT, "services", d, "main.cpp"))}
compare("services/", folders, set(SERVICES), "folder")

# --- compose.yaml: one local stage -----------------------------------------------------------
compose = load("compose.yaml")
svcs = compose.get("services") or {}
compare("compose.yaml", set(svcs), local, "service")
top_volumes = set((compose.get("volumes") or {}).keys())
for name in sorted(local & set(svcs)):
    s = svcs[name]
    if s.get("image") != f"enkisys/{name}:${{ENKISYS_TAG:-dev}}":
        problem("compose.yaml", f"{name}: image must be enkisys/{name}:${{ENKISYS_TAG:-dev}}")
    if (s.get("build") or {}).get("target") != name:
        problem("compose.yaml", f"{name}: build target must be {name}")
    if f"/usr/local/bin/enkisys-{name}" not in (s.get("healthcheck") or {}).get("test", []):
        problem("compose.yaml", f"{name}: no healthcheck running /usr/local/bin/enkisys-{name}")
    if name in with_db:
        if f"{name}-data:/data" not in (s.get("volumes") or []):
            problem("compose.yaml", f"{name}: keeps a database but does not mount {name}-data:/data")
        if f"{name}-data" not in top_volumes:
            problem("compose.yaml", f"no volume {name}-data (for {name})")
for gw in sorted(local_only & set(svcs)):
    deps = set((svcs[gw].get("depends_on") or {}))
    for name in sorted(in_stage - deps):
        problem("compose.yaml", f"{gw}: no depends_on entry for {name}")

# --- deploy/compose.stage.yaml: host mode -----------------------------------------------------
path = "deploy/compose.stage.yaml"
stage = load(path)
svcs = stage.get("services") or {}
compare(path, set(svcs), local, "service")
volumes = stage.get("volumes") or {}
for name in sorted(in_stage & set(svcs)):
    if f"{name}.${{STAGE}}-${{COLOR}}" not in network_aliases(svcs[name], "ingress"):
        problem(path, f"{name}: no ingress alias {name}.${{STAGE}}-${{COLOR}}")
    if "com.enkisys.stage" not in (svcs[name].get("labels") or {}):
        problem(path, f"{name}: no com.enkisys.stage label")
    if name in with_db:
        v = volumes.get(f"{name}-data") or {}
        if not v.get("external") or v.get("name") != f"enkisys-${{STAGE}}-{name}-data":
            problem(path, f"no external volume {name}-data named enkisys-${{STAGE}}-{name}-data")
for name in sorted(local_only & set(svcs)):
    if svcs[name].get("profiles") != ["local"]:
        problem(path, f"{name}: runs only in a local stage, needs profiles: [local]")

# --- deploy/compose.<stage>.yaml: each stage's limits ----------------------------------------
stage_files = sorted(p for p in glob.glob(os.path.join(ROOT, "deploy/compose.*.yaml"))
                     if not p.endswith("/compose.stage.yaml"))
if not stage_files:
    problem("deploy/", "no compose.<stage>.yaml")
for full in stage_files:
    path = os.path.relpath(full, ROOT)
    compare(path, set((load(path).get("services") or {})), in_stage, "service")

# --- deploy/postgres/: the stages' PostgreSQL (DATABASE=postgres) ------------------------------
# Every stage service with a database has its database there (ENKISYS_DATABASES, its password
# secret) and its block in compose.services.yaml (DATABASE_URL naming its own role and database).
stage_db = with_db & in_stage
path = "deploy/postgres/compose.yaml"
pg = (load(path).get("services") or {}).get("postgres") or {}
dbs = set(str((pg.get("environment") or {}).get("ENKISYS_DATABASES", "")).split())
compare(path, dbs, stage_db, "database in ENKISYS_DATABASES")
secret_names = {str(x if isinstance(x, str) else x.get("source")) for x in pg.get("secrets") or []}
for name in sorted(stage_db):
    if f"db_{name.replace('-', '_')}_password" not in secret_names:
        problem(path, f"postgres: no secret db_{name}_password")
path = "deploy/postgres/compose.services.yaml"
overlay = load(path).get("services") or {}
compare(path, set(overlay), stage_db, "service")
for name in sorted(stage_db & set(overlay)):
    url = str((overlay[name].get("environment") or {}).get("DATABASE_URL", ""))
    if not url.startswith(f"postgres://{name}@postgres:5432/{name}"):
        problem(path, f"{name}: DATABASE_URL must be postgres://{name}@postgres:5432/{name}")

# --- the edge of a host ------------------------------------------------------------------------
path = "deploy/edge/compose.yaml"
edge_services = load(path).get("services") or {}
compare(path, set(edge_services), edge, "service")

# --- gateway routes ----------------------------------------------------------------------------
for path, host_of in (("deploy/gateway/gateway.yaml", lambda n: n),
                      ("deploy/gateway/gateway.host.yaml", lambda n: f"{n}.${{stage}}-${{color}}")):
    routed = set()
    for route, host, port in route_upstreams(load(path)):
        # A stage service by its stage-qualified name, or an edge service (monitoring) by its
        # plain name, or by one of its aliases on the edge's `public` network.
        name = next((n for n in SERVICES if host == host_of(n) or (n in edge and (
            host == n or host in network_aliases(edge_services.get(n) or {}, "public")))), None)
        if name is None:
            problem(path, f"route {route}: upstream host {host} is no listed service ({LIST})")
            continue
        routed.add(name)
        if port != SERVICES[name]["port"]:
            problem(path, f"route {route}: port {port}, {LIST} says {SERVICES[name]['port']}")
    compare(path, routed - edge, in_stage, "route")

for p in problems:
    print(p)
if problems:
    print(f"lint-services: {len(problems)} problem(s)")
    sys.exit(1)
print(f"lint-services: {len(SERVICES)} services ({', '.join(SERVICES)}) consistent with "
      "compose, stages, edge and gateway routes")
