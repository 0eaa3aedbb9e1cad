#!/usr/bin/env python3
"""Ratios of two tributary-bench --json results.

usage: python3 ratios.py A.json B.json

For each workload both runs have: throughput A/B and latency B/A, so a number above 1
always means A is faster. The last lines give each run's end-of-run RSS and storage.
"""
import json
import sys


def ratio(x, y):
    return f"{x / y:.2f}" if y else "-"


def main(path_a, path_b):
    with open(path_a) as fa, open(path_b) as fb:
        a, b = json.load(fa), json.load(fb)
    if (a["events"], a["seed"]) != (b["events"], b["seed"]):
        print(f"warning: the runs used different datasets "
              f"(events {a['events']} vs {b['events']}, seed {a['seed']} vs {b['seed']})")
    other = {w["name"]: w for w in b["workloads"]}
    print(f'{"workload":<22} {"ops/s A/B":>10} {"p50 B/A":>8} {"p99 B/A":>8}')
    for w in a["workloads"]:
        o = other.get(w["name"])
        if o is None or "skipped" in (w["status"], o["status"]):
            continue
        flag = "" if w["status"] == o["status"] == "ok" else "  (a run failed its checks)"
        print(f'{w["name"]:<22} {ratio(w["ops_per_sec"], o["ops_per_sec"]):>10}'
              f' {ratio(o["p50_ms"], w["p50_ms"]):>8} {ratio(o["p99_ms"], w["p99_ms"]):>8}{flag}')
    for label, run in (("A", a), ("B", b)):
        end = run["resources"][-1] if run["resources"] else {}
        print(f'{label}: {run["url"]} ok={run["ok"]} '
              f'rss_kib={end.get("rss_kib")} storage_bytes={end.get("db_bytes")}')


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
