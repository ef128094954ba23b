#!/usr/bin/env python3
"""Load for tests/e2e/swarm.sh: keep-alive GETs of /health and of one authenticated API route
through the stack's entry, until STOP_FILE exists (or the bounds are reached).

  swarm_load.py URL STAGE_PATH TOKEN STOP_FILE MAX_SECONDS MAX_REQUESTS

A request fails when it gets no 200 answer. A keep-alive connection that the server closed
while idle (no byte of the answer received) is reopened and the request sent once more, as
HTTP clients do for idempotent requests (RFC 9112, 9.3.1): counted as a reconnect, not a
failure. Prints one JSON line: requests, failed, reconnects, max_ms, errors (first 5).
"""
import http.client
import json
import os
import sys
import time
import urllib.parse

url, stage_path, token, stop_file = sys.argv[1:5]
max_seconds, max_requests = float(sys.argv[5]), int(sys.argv[6])
u = urllib.parse.urlparse(url)
paths = [("/health", {}), (stage_path, {"Authorization": "Bearer " + token})]
stats = {"requests": 0, "failed": 0, "reconnects": 0, "max_ms": 0, "errors": []}
conn = None
used = False
t_end = time.monotonic() + max_seconds


def connect():
    return http.client.HTTPConnection(u.hostname, u.port, timeout=10)


while time.monotonic() < t_end and stats["requests"] < max_requests:
    if os.path.exists(stop_file):
        break
    path, headers = paths[stats["requests"] % 2]
    t0 = time.monotonic()
    error = None
    for attempt in (1, 2):
        if conn is None:
            conn, used = connect(), False
        try:
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            used = True
            if resp.status != 200:
                error = "%s HTTP %d %s" % (path, resp.status, body[:120])
            if resp.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
            break
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as e:
            conn.close()
            conn = None
            if used and attempt == 1:  # an idle keep-alive connection the server closed
                stats["reconnects"] += 1
                continue
            error = "%s %r" % (path, e)
            break
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            conn = None
            error = "%s %r" % (path, e)
            break
    stats["requests"] += 1
    stats["max_ms"] = max(stats["max_ms"], int((time.monotonic() - t0) * 1000))
    if error:
        stats["failed"] += 1
        if len(stats["errors"]) < 5:
            stats["errors"].append(error)
    time.sleep(0.02)
print(json.dumps(stats))
