#!/usr/bin/env python3
"""Load driver of the router benchmark (bench/router/run.sh): signed Telegram webhooks at a fixed
rate over keep-alive connections, open loop (each request's latency is measured from the time it
was due, so a stalled server is not hidden by a waiting client).

  driver.py ack   --port P --secret S --rate R --count N [--start ID] [--conns C]
      prints the acknowledgement latency p50/p99/max (ms) and the rate achieved
  driver.py send  --port P --secret S --rate R --count N [--start ID] [--conns C]
      delivers every update until it is acknowledged (a refused connection is retried, as the
      platform redelivers); prints how many were acknowledged and the time taken
  driver.py count --fake F --start ID --count N
      counts the replies the fake channel API got per update: answered, lost, duplicated
"""
import argparse
import asyncio
import json
import sys
import time


def update(i):
    return json.dumps({
        "update_id": i,
        "message": {"message_id": i, "date": int(time.time()),
                    "chat": {"id": 100000 + i % 500, "type": "private"},
                    "from": {"id": 100000 + i % 500, "is_bot": False},
                    "text": "question %d" % i}}).encode()


class Conn:
    def __init__(self, port):
        self.port = port
        self.reader = self.writer = None

    async def request(self, method, target, body=b"", headers=()):
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        head = "%s %s HTTP/1.1\r\nHost: bench\r\nContent-Length: %d\r\n" % (method, target, len(body))
        head += "".join("%s: %s\r\n" % h for h in headers) + "\r\n"
        try:
            self.writer.write(head.encode() + body)
            await self.writer.drain()
            status_line = await self.reader.readline()
            if not status_line:
                raise ConnectionError("closed")
            length = 0
            close = False
            while True:
                line = await self.reader.readline()
                if line in (b"\r\n", b""):
                    break
                k, _, v = line.decode().partition(":")
                if k.lower() == "content-length":
                    length = int(v)
                if k.lower() == "connection" and v.strip().lower() == "close":
                    close = True
            body = await self.reader.readexactly(length) if length else b""
            if close:
                self.close()
            return int(status_line.split()[1]), body
        except Exception:
            self.close()
            raise

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def fire(args, retry):
    headers = [("Content-Type", "application/json"),
               ("X-Telegram-Bot-Api-Secret-Token", args.secret)]
    queue = asyncio.Queue()
    t0 = time.monotonic() + 0.05
    for n in range(args.count):
        queue.put_nowait((t0 + n / args.rate, args.start + n))
    latencies, statuses = [], {}

    async def worker():
        conn = Conn(args.port)
        while not queue.empty():
            due, i = queue.get_nowait()
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            body = update(i)
            for attempt in range(2000 if retry else 1):
                try:
                    status, _ = await conn.request("POST", "/channels/telegram", body, headers)
                except Exception:
                    status = 0
                if status == 200 or not retry:
                    break
                await asyncio.sleep(0.05)  # the platform's redelivery pause
            latencies.append((time.monotonic() - due) * 1000)
            statuses[status] = statuses.get(status, 0) + 1
        conn.close()

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(args.conns)))
    return latencies, statuses, time.monotonic() - started


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * p))] if s else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["ack", "send", "count"])
    ap.add_argument("--port", type=int)
    ap.add_argument("--fake", type=int)
    ap.add_argument("--secret", default="")
    ap.add_argument("--rate", type=float, default=1000)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--start", type=int, default=1)
    ap.add_argument("--conns", type=int, default=32)
    args = ap.parse_args()
    if args.mode == "count":
        async def calls():
            status, body = await Conn(args.fake).request("GET", "/_calls")
            return json.loads(body)["calls"]
        got = {}
        for c in asyncio.run(calls()):
            if c["api"] == "telegram.sendMessage" and c["status"] == 200:
                rid = c["body"].get("reply_to_message_id")
                got[rid] = got.get(rid, 0) + 1
        wanted = range(args.start, args.start + args.count)
        answered = sum(1 for i in wanted if i in got)
        dup = sum(got[i] - 1 for i in wanted if i in got)
        print(json.dumps({"answered": answered, "lost": args.count - answered, "duplicated": dup}))
        return
    lat, statuses, took = asyncio.run(fire(args, args.mode == "send"))
    print(json.dumps({"requests": len(lat), "statuses": statuses,
                      "rate_per_s": round(len(lat) / took, 1), "seconds": round(took, 2),
                      "p50_ms": round(pct(lat, 0.50), 2), "p99_ms": round(pct(lat, 0.99), 2),
                      "max_ms": round(max(lat), 2) if lat else None}))


if __name__ == "__main__":
    sys.exit(main())
