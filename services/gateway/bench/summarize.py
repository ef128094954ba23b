#!/usr/bin/env python3
"""Per-case medians of a bench_one.py JSONL file, and each case's ratios to the gateway (`gw`).

    summarize.py results.jsonl
"""
import json
import statistics
import sys

FIELDS = [("rps", "req/s", "{:.0f}"), ("p50_us", "p50 us", "{:.0f}"), ("p99_us", "p99 us", "{:.0f}"),
          ("sut_cpu_pct", "SUT cpu%", "{:.1f}"), ("foreign_cpu_pct", "foreign%", "{:.1f}"),
          ("sut_cpu_us_per_req", "SUT us/req", "{:.2f}")]


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def main(path):
    rows = [json.loads(line) for line in open(path) if line.startswith("{")]
    cases = {}
    for r in rows:
        cases.setdefault(r["label"], []).append(r)
    table = {label: {k: median([r.get(k) for r in rs]) for k, _, _ in FIELDS}
             for label, rs in cases.items()}
    print(f"{'case':10} {'n':>2} " + " ".join(f"{h:>10}" for _, h, _ in FIELDS) + "  runs (req/s)")
    for label, rs in cases.items():
        cells = [(fmt.format(table[label][k]) if table[label][k] is not None else "-") for k, _, fmt in FIELDS]
        print(f"{label:10} {len(rs):>2} " + " ".join(f"{c:>10}" for c in cells) + "  "
              + " ".join(f"{r['rps']:.0f}" for r in rs))
    gw = table.get("gw")
    if gw and gw["rps"]:
        print("\ngateway (gw) vs each case: req/s, p99, CPU-us per request")
        for label, t in table.items():
            if label == "gw" or not t["rps"]:
                continue
            cpu = (f"{gw['sut_cpu_us_per_req'] / t['sut_cpu_us_per_req']:.2f}x"
                   if gw["sut_cpu_us_per_req"] and t["sut_cpu_us_per_req"] else "-")
            print(f"  vs {label:10} {gw['rps'] / t['rps']:.2f}x  {gw['p99_us'] / t['p99_us']:.2f}x  {cpu}")


if __name__ == "__main__":
    main(sys.argv[1])
