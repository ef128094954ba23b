#!/usr/bin/env python3
"""Opens N keep-alive connections to the gateway (one request each, then idle) and prints the
gateway's RSS before and after: idle_rss.py PORT PID N PATH [HEADER...]"""
import socket, sys, time

port, pid, n, path = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
headers = "".join(h + "\r\n" for h in sys.argv[5:])


def rss_kb():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])


before = rss_kb()
conns = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: bench\r\n{headers}\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(4096)
    conns.append(s)
time.sleep(1.0)
after = rss_kb()
ok = sum(1 for s in conns if s.fileno() >= 0)
print(f'{{"idle_connections": {ok}, "rss_before_kb": {before}, "rss_with_idle_kb": {after}}}')
for s in conns:
    s.close()
