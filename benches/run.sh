#!/usr/bin/env bash
# Whole-program benchmark (issue 7): batch screening, a large generated watchlist, and RapidFuzz
# brute force side by side on the same queries. Generates every input deterministically (fixed
# seeds) under target/bench-data and prints one table.
#
#   benches/run.sh            quick: 5,000 rows, 1,500 held-out queries, a 100,000-name scale list
#   benches/run.sh --full     the scale run on 1,000,000 names (slower; several GB of memory)
#
# Knobs (environment): ROWS, QUERIES, SCALE_NAMES, SCALE_QUERIES, CUTOFF (RapidFuzz, default 85),
# REPEAT (passes over the held-out queries on each side, the median reported; default 3: on a
# shared host one pass of half a second can run far slower or faster than the next).
# Needs ../shared/data/ofac-sdn-2019 (skips with a message without it), python3 with venv, and
# PyPI for `pip install rapidfuzz` into target/bench-venv on the first run.
set -euo pipefail
cd "$(dirname "$0")/.."

FULL=0
[[ "${1:-}" == "--full" ]] && FULL=1
ROWS=${ROWS:-5000}
QUERIES=${QUERIES:-1500}
SCALE_NAMES=${SCALE_NAMES:-$([[ $FULL == 1 ]] && echo 1000000 || echo 100000)}
SCALE_QUERIES=${SCALE_QUERIES:-300}
CUTOFF=${CUTOFF:-85}
REPEAT=${REPEAT:-3}
OFAC=../shared/data/ofac-sdn-2019
OUT=target/bench-data

if [[ ! -d $OFAC ]]; then
    echo "benches/run.sh: skipped: $OFAC is absent (the benchmark screens against the OFAC list)"
    exit 0
fi
mkdir -p "$OUT"

echo "== building (release)" >&2
cargo build --release --quiet --bin redflag --example bench_queries
REDFLAG=target/release/redflag
BENCH_QUERIES=target/release/examples/bench_queries

echo "== generating inputs" >&2
python3 benches/gen.py inputs "$OFAC" "$OUT" --rows "$ROWS" --queries "$QUERIES" >"$OUT/inputs.txt"
SCALE="$OUT/scale-$SCALE_NAMES"
if [[ ! -f $SCALE/queries.tsv || ! -f $SCALE/stamp || $(cat "$SCALE/stamp") != "$SCALE_QUERIES" ]]; then
    mkdir -p "$SCALE"
    python3 benches/gen.py scale "$OFAC" "$SCALE" --names "$SCALE_NAMES" --queries "$SCALE_QUERIES" >"$SCALE/info.txt"
    echo "$SCALE_QUERIES" >"$SCALE/stamp"
fi

if ! target/bench-venv/bin/python -c 'import rapidfuzz' 2>/dev/null; then
    echo "== installing rapidfuzz into target/bench-venv" >&2
    python3 -m venv target/bench-venv
    target/bench-venv/bin/pip install --quiet rapidfuzz
fi

# Wall seconds and peak RSS (KiB) of a command; its exit code 0/1/2 is a screening answer.
timed() {
    local out=$1
    shift
    /usr/bin/time -f "%e %M" -o "$out" "$@" || [[ $? -le 2 ]]
}

echo "== batch: list loading alone (one row)" >&2
head -2 "$OUT/batch.csv" >"$OUT/one-row.csv"
for i in 1 2 3; do
    timed "$OUT/load-$i.time" "$REDFLAG" screen "$OUT/one-row.csv" --quiet -o /dev/null \
        --watchlist seed --watchlist "$OFAC"
done
echo "== batch: $ROWS rows x 4 parties" >&2
timed "$OUT/batch.time" "$REDFLAG" screen "$OUT/batch.csv" --quiet -o "$OUT/batch-out.csv" \
    --watchlist seed --watchlist "$OFAC"

echo "== side by side: redflag on the held-out queries (one thread)" >&2
"$BENCH_QUERIES" --repeat "$REPEAT" --queries "$OUT/queries.tsv" seed "$OFAC" >"$OUT/redflag-queries.json"
echo "== side by side: RapidFuzz extractOne token_sort_ratio, cutoff $CUTOFF (one thread)" >&2
target/bench-venv/bin/python benches/rapidfuzz_bench.py "$OUT/names.tsv" "$OUT/queries.tsv" \
    --cutoff "$CUTOFF" --repeat "$REPEAT" >"$OUT/rapidfuzz.json"

echo "== scale: $SCALE_NAMES generated names" >&2
"$BENCH_QUERIES" --queries "$SCALE/queries.tsv" "$SCALE/list" >"$OUT/scale.json"

python3 benches/table.py "$OUT" "$SCALE" "$ROWS"
