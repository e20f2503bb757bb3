#!/usr/bin/env python3
"""Prints the one table of benches/run.sh from the figures its steps left in target/bench-data.

Not for: measuring (the steps do) or generating inputs (gen.py).

  table.py OUT_DIR SCALE_DIR ROWS
"""

import json
import os
import sys


def read_time(path):
    wall, rss = open(path).read().split()[-2:]
    return float(wall), int(rss)


def main():
    out, scale_dir, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
    loads = [read_time(os.path.join(out, f"load-{i}.time")) for i in (1, 2, 3)]
    load = min(w for w, _ in loads)
    batch_wall, batch_rss = read_time(os.path.join(out, "batch.time"))
    parties = rows * 4
    rf = json.load(open(os.path.join(out, "redflag-queries.json")))
    fz = json.load(open(os.path.join(out, "rapidfuzz.json")))
    sc = json.load(open(os.path.join(out, "scale.json")))
    inputs = open(os.path.join(out, "inputs.txt")).read().strip()
    scale_info = open(os.path.join(scale_dir, "info.txt")).read().strip()

    def passes(run):
        rates = run.get("queries_per_s_passes", [run["queries_per_s"]])
        return " / ".join(f"{r:,.0f}" for r in rates)

    lines = [
        ("batch", f"{rows:,} rows x 4 parties vs seed + OFAC 2019, 2 threads", ""),
        ("", "party screens/s, whole run", f"{parties / batch_wall:,.0f}"),
        ("", "party screens/s, after loading", f"{parties / max(batch_wall - load, 1e-9):,.0f}"),
        ("", "wall time", f"{batch_wall:.2f} s"),
        ("", "list loading + indexing (1-row run, min of 3)", f"{load:.2f} s"),
        ("", "peak RSS", f"{batch_rss / 1024:,.0f} MiB"),
        ("side by side", f"{rf['queries']:,} held-out queries vs OFAC 2019, 1 thread, "
         f"median of {len(rf.get('queries_per_s_passes', [0]))} passes", ""),
        ("", "redflag queries/s (p50, p99)",
         f"{rf['queries_per_s']:,.0f} ({rf['p50_us'] / 1e3:.2f} ms, {rf['p99_us'] / 1e3:.2f} ms)"),
        ("", "redflag queries/s, each pass", passes(rf)),
        ("", f"RapidFuzz {fz['rapidfuzz']} extractOne token_sort_ratio queries/s (p50, p99)",
         f"{fz['queries_per_s']:,.0f} ({fz['p50_us'] / 1e3:.2f} ms, {fz['p99_us'] / 1e3:.2f} ms)"),
        ("", "RapidFuzz queries/s, each pass", passes(fz)),
        ("", "redflag candidates offered by the index per query", f"{rf['candidates_per_query']:,.0f}"),
        ("", "throughput ratio redflag / RapidFuzz",
         f"{rf['queries_per_s'] / fz['queries_per_s']:.1f}x"),
        ("", "recall redflag (review >= 0.80)",
         f"{rf['recall']:.3f} ({rf['found']}/{rf['listed']})"),
        ("", f"recall RapidFuzz (score_cutoff {fz['cutoff']:g})",
         f"{fz['recall']:.3f} ({fz['found']}/{fz['listed']})"),
        ("", "false alerts on unlisted names: redflag",
         f"{rf['false_alerts']}/{rf['unlisted']}"),
        ("", "false alerts on unlisted names: RapidFuzz",
         f"{fz['false_alerts']}/{fz['unlisted']}"),
        ("scale", f"{sc['names']:,} generated names ({sc['entities']:,} entities), 1 thread", ""),
        ("", "loading (CSV parse)", f"{sc['load_ms'] / 1e3:.2f} s"),
        ("", "index build (Screener::new)", f"{sc['build_ms'] / 1e3:.2f} s"),
        ("", f"query p50 / p99 ({sc['queries']} held-out queries)",
         f"{sc['p50_us'] / 1e3:.2f} ms / {sc['p99_us'] / 1e3:.2f} ms"),
        ("", "candidates offered by the index per query", f"{sc['candidates_per_query']:,.0f}"),
        ("", "recall / false alerts",
         f"{sc['recall']:.3f} ({sc['found']}/{sc['listed']}) / {sc['false_alerts']}/{sc['unlisted']}"),
        ("", "peak RSS (VmHWM)", f"{sc['peak_rss_kb'] / 1024:,.0f} MiB"),
    ]
    print(inputs)
    print(scale_info)
    print()
    w1 = max(len(a) for a, _, _ in lines)
    w2 = max(len(b) for _, b, _ in lines)
    w3 = max(len(c) for _, _, c in lines)
    print(f"| {'part':<{w1}} | {'measure':<{w2}} | {'figure':>{w3}} |")
    print(f"|{'-' * (w1 + 2)}|{'-' * (w2 + 2)}|{'-' * (w3 + 1)}:|")
    for a, b, c in lines:
        print(f"| {a:<{w1}} | {b:<{w2}} | {c:>{w3}} |")


if __name__ == "__main__":
    main()
