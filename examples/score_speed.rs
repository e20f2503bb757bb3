//! Pair-scoring speed: the scorer's fast path (`Scorer::score`, no explanation) on the labelled
//! name pairs of `../shared/eval/name_bench.csv`, each normalized once beforehand as the screener
//! does. Prints the median, 90th and 99th percentile time per pair (each pair's time is the
//! fastest of ten batches of 20 rounds), and the slowest pairs.
//! Run: `cargo run --release --example score_speed [FILE]`.

use std::time::Instant;

use redflag::score::{Scorer, Weights};
use redflag::text::normalize;

#[path = "common/bench_pairs.rs"]
mod bench_pairs;

fn main() {
    let Some(bench) = bench_pairs::from_args() else {
        return;
    };
    let pairs: Vec<_> = bench
        .iter()
        .map(|p| {
            let label = format!("{} | {}", p.name1, p.name2);
            (
                normalize(&p.name1, p.kind),
                normalize(&p.name2, p.kind),
                p.kind,
                label,
            )
        })
        .collect();
    let scorer = Scorer::new(Weights::default());
    const ROUNDS: usize = 200;
    const BATCHES: usize = 10;
    let mut per_pair_ns: Vec<(f64, &str)> = Vec::with_capacity(pairs.len());
    for (a, b, kind, label) in &pairs {
        // The fastest of several batches: on a shared machine a batch that was preempted says
        // nothing about the scorer.
        let mut best = f64::INFINITY;
        for _ in 0..BATCHES {
            let start = Instant::now();
            let mut sink = 0.0f32;
            for _ in 0..ROUNDS / BATCHES {
                sink += scorer.score(std::hint::black_box(a), std::hint::black_box(b), *kind);
            }
            std::hint::black_box(sink);
            best = best.min(start.elapsed().as_nanos() as f64 / (ROUNDS / BATCHES) as f64);
        }
        per_pair_ns.push((best, label));
    }
    per_pair_ns.sort_by(|a, b| a.0.total_cmp(&b.0));
    let at = |q: f64| per_pair_ns[((per_pair_ns.len() - 1) as f64 * q) as usize].0 / 1000.0;
    println!(
        "{} pairs, {ROUNDS} rounds each (best of {BATCHES} batches): median {:.2} µs, p90 {:.2} µs, p99 {:.2} µs per pair",
        pairs.len(),
        at(0.5),
        at(0.9),
        at(0.99)
    );
    for (ns, label) in per_pair_ns.iter().rev().take(5) {
        println!("  {:.1} µs  {label}", ns / 1000.0);
    }
}
