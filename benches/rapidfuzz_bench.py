#!/usr/bin/env python3
"""The RapidFuzz side of benches/run.sh: the same held-out queries as redflag, against the same
OFAC names, through `process.extractOne` brute force with the `token_sort_ratio` scorer.

Not for: generating inputs (gen.py) or printing the table (table.py). Runs in the venv run.sh makes.

  rapidfuzz_bench.py NAMES_TSV QUERIES_TSV [--cutoff 85] [--repeat N]

NAMES_TSV: ent_num, kind, name (gen.py inputs). Prints one JSON object: throughput, latency,
recall (the query's entity is the best choice at or above the cutoff) and false alerts (an
unlisted query gets any choice at or above the cutoff). With --repeat N the queries are run N
times and the pass of median wall time is reported (every pass's rate as queries_per_s_passes),
as bench_queries --repeat does for redflag.
"""

import argparse
import csv
import json
import time

import rapidfuzz
from rapidfuzz import fuzz, process, utils


def main():
    p = argparse.ArgumentParser()
    p.add_argument("names")
    p.add_argument("queries")
    # 85 is the cutoff RapidFuzz users commonly pick for token_sort_ratio name matching.
    p.add_argument("--cutoff", type=float, default=85)
    p.add_argument("--repeat", type=int, default=1)
    a = p.parse_args()

    entities_of = {}
    with open(a.names, encoding="utf-8") as f:
        for line in f:
            ent, _kind, name = line.rstrip("\n").split("\t", 2)
            entities_of.setdefault(name, set()).add(ent)
    choices = list(entities_of)
    # Preprocess the choices once, as a user screening many queries would.
    processed = [utils.default_process(c) for c in choices]

    with open(a.queries, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\"))

    def run_pass():
        latencies, found, listed, false_alerts, unlisted = [], 0, 0, 0, 0
        start = time.perf_counter()
        for r in rows:
            t = time.perf_counter()
            best = process.extractOne(
                utils.default_process(r["query"]),
                processed,
                scorer=fuzz.token_sort_ratio,
                score_cutoff=a.cutoff,
            )
            latencies.append(time.perf_counter() - t)
            if r["label"]:
                listed += 1
                if best is not None and r["label"] in entities_of[choices[best[2]]]:
                    found += 1
            else:
                unlisted += 1
                if best is not None:
                    false_alerts += 1
        return time.perf_counter() - start, latencies, found, listed, false_alerts, unlisted

    passes = [run_pass() for _ in range(max(a.repeat, 1))]
    rates = [len(rows) / p[0] for p in passes]
    passes.sort(key=lambda p: p[0])
    wall, latencies, found, listed, false_alerts, unlisted = passes[len(passes) // 2]
    latencies.sort()

    def pct(q):
        return latencies[min(int(len(latencies) * q), len(latencies) - 1)] * 1e6

    print(json.dumps({
        "rapidfuzz": rapidfuzz.__version__,
        "choices": len(choices),
        "cutoff": a.cutoff,
        "queries": len(rows),
        "wall_s": wall,
        "queries_per_s": len(rows) / wall,
        "queries_per_s_passes": rates,
        "p50_us": pct(0.5),
        "p99_us": pct(0.99),
        "min_us": pct(0.0),
        "listed": listed,
        "found": found,
        "recall": found / max(listed, 1),
        "unlisted": unlisted,
        "false_alerts": false_alerts,
    }))


if __name__ == "__main__":
    main()
