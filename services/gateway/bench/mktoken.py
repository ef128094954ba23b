#!/usr/bin/env python3
"""Writes HS256 bench tokens: mktoken.py SECRET_FILE ISSUER [COUNT] -> one JWT per line."""
import base64, hashlib, hmac, json, sys, time

secret = open(sys.argv[1], "rb").read().strip()
issuer = sys.argv[2]
count = int(sys.argv[3]) if len(sys.argv) > 3 else 1


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "hs256"}, separators=(",", ":")).encode())
exp = int(time.time()) + 86400
for i in range(count):
    payload = b64(json.dumps({"sub": f"bench-user-{i}", "roles": ["user"], "iss": issuer, "exp": exp},
                             separators=(",", ":")).encode())
    sig = b64(hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    print(f"{header}.{payload}.{sig}")
