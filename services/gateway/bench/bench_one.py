#!/usr/bin/env python3
"""Run one wrk measurement and print one JSON line (the loopback proxy harness, plus request
headers / a wrk script so that authenticated routes can be measured).

Records wrk's req/s and latency percentiles plus CPU accounting over the run:
per-CPU busy % (from /proc/stat), CPU % of the system-under-test PIDs and of
the backend PIDs (from /proc/<pid>/stat, all threads), and wrk's own CPU %
(getrusage of children).  "foreign" load on the SUT core = cpu<sut> busy - SUT%.

usage: bench_one.py --label L --url URL --sut-pids 1,2 [--backend-pids 3,4]
                    [--wrk-cpu 0] [--threads 1] [--conns 64] [--duration 10]
                    [--header "Name: value"]... [--script file.lua]
"""
import argparse, json, os, re, resource, subprocess, time

HZ = os.sysconf("SC_CLK_TCK")

def pid_ticks(pids):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                s = f.read()
            fields = s[s.rindex(")") + 2:].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (FileNotFoundError, ProcessLookupError, ValueError):
            pass
    return total

def cpu_ticks():
    """per-CPU (busy, total, irq+softirq) ticks, plus 'cpu' = all CPUs."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if re.match(r"cpu\d* ", line):
                name, *vals = line.split()
                vals = list(map(int, vals))
                idle = vals[3] + vals[4]          # idle + iowait
                out[name] = (sum(vals[:8]) - idle, sum(vals[:8]), vals[5] + vals[6], vals[7])
    return out

def wait_quiet(max_busy_pct, max_wait_s):
    """Wait until the whole box is idle (other processes skew results).
    Returns (seconds waited, busy % of last 1 s sample, in CPU-% units)."""
    t0 = time.monotonic()
    while True:
        a = cpu_ticks()["cpu"]; time.sleep(1.0); b = cpu_ticks()["cpu"]
        busy = 100.0 * (b[0] - a[0]) / HZ
        waited = time.monotonic() - t0
        if busy <= max_busy_pct or waited >= max_wait_s:
            return round(waited, 1), round(busy, 1)

def to_us(v):
    m = re.match(r"([\d.]+)(us|ms|s)", v)
    n, u = float(m.group(1)), m.group(2)
    return n * {"us": 1, "ms": 1e3, "s": 1e6}[u]

def parse_wrk(out):
    r = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M)
        r[f"p{pct}_us"] = to_us(m.group(1)) if m else None
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    r["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: (.*)", out)
    r["socket_errors"] = m.group(1).strip() if m else ""
    m = re.search(r"(\d+) requests in", out)
    r["requests"] = int(m.group(1)) if m else None
    return r

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--label", required=True)
    ap.add_argument("--url", required=True)
    ap.add_argument("--sut-pids", default="")
    ap.add_argument("--backend-pids", default="")
    ap.add_argument("--wrk-cpu", default="0")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--conns", type=int, default=64)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--run", type=int, default=0)
    ap.add_argument("--header", action="append", default=[], help="extra request header for wrk (repeatable)")
    ap.add_argument("--script", default="", help="wrk lua script")
    ap.add_argument("--quiet-busy-pct", type=float, default=10.0,
                    help="wait until total CPU busy (CPU-%%, idle servers running) <= this")
    ap.add_argument("--quiet-max-wait", type=float, default=180.0)
    a = ap.parse_args()
    sut = [p for p in a.sut_pids.split(",") if p]
    be = [p for p in a.backend_pids.split(",") if p]
    cmd = ["taskset", "-c", a.wrk_cpu, "wrk", f"-t{a.threads}", f"-c{a.conns}",
           f"-d{a.duration}s", "--latency"]
    for h in a.header:
        cmd += ["-H", h]
    if a.script:
        cmd += ["-s", a.script]
    cmd.append(a.url)
    waited, pre_busy = wait_quiet(a.quiet_busy_pct, a.quiet_max_wait)
    c0, s0, b0 = cpu_ticks(), pid_ticks(sut), pid_ticks(be)
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=a.duration + 30).stdout
    wall = time.monotonic() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    c1, s1, b1 = cpu_ticks(), pid_ticks(sut), pid_ticks(be)
    # Recorded without credentials: result files are committed.
    shown = re.sub(r"(Authorization: Bearer )\S+", r"\1<token>", " ".join(cmd))
    res = {"label": a.label, "run": a.run, "cmd": shown,
           "quiet_waited_s": waited, "pre_busy_cpu_pct": pre_busy}
    res.update(parse_wrk(out))
    res["sut_cpu_pct"] = round(100.0 * (s1 - s0) / HZ / wall, 1)
    res["backend_cpu_pct"] = round(100.0 * (b1 - b0) / HZ / wall, 1) if be else None
    res["wrk_cpu_pct"] = round(100.0 * ((ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)) / wall, 1)
    for k in sorted(c1):
        if k == "cpu": continue
        busy = c1[k][0] - c0[k][0]; tot = c1[k][1] - c0[k][1]
        res[f"{k}_busy_pct"] = round(100.0 * busy / tot, 1) if tot else None
    # CPU-% not explained by SUT + backend + wrk + irq/softirq: other processes.
    allbusy = 100.0 * (c1["cpu"][0] - c0["cpu"][0]) / HZ / wall
    irq = 100.0 * (c1["cpu"][2] - c0["cpu"][2]) / HZ / wall
    mine = res["sut_cpu_pct"] + (res["backend_cpu_pct"] or 0) + res["wrk_cpu_pct"]
    res["irq_softirq_cpu_pct"] = round(irq, 1)
    res["steal_cpu_pct"] = round(100.0 * (c1["cpu"][3] - c0["cpu"][3]) / HZ / wall, 1)
    # CPU cost of the system under test per request (us of CPU time / request).
    res["sut_cpu_us_per_req"] = round(res["sut_cpu_pct"] / 100.0 * 1e6 / res["rps"], 2) if res["rps"] else None
    res["foreign_cpu_pct"] = round(max(0.0, allbusy - irq - mine), 1)
    res["loadavg"] = open("/proc/loadavg").read().split()[0]
    print(json.dumps(res), flush=True)

if __name__ == "__main__":
    main()
