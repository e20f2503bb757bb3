//! Pair-scoring speed: the scorer's fast path (`Scorer::score`, no explanation) on the labelled
//! name pairs of `../shared/eval/name_bench.csv`, each normalized once beforehand as the screener
//! does. Prints the median and 99th percentile time per pair over several rounds.
//! Run: `cargo run --release --example score_speed [FILE]`.

use std::time::Instant;

use redflag::model::EntityKind;
use redflag::score::{Scorer, Weights};
use redflag::text::normalize;

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "../shared/eval/name_bench.csv".into());
    let Ok(mut rdr) = csv::Reader::from_path(&path) else {
        println!("skipping: {path} is not available");
        return;
    };
    let pairs: Vec<_> = rdr
        .records()
        .flatten()
        .map(|r| {
            let kind = EntityKind::parse(&r[1]).unwrap_or_default();
            (normalize(&r[2], kind), normalize(&r[3], kind), kind)
        })
        .collect();
    let scorer = Scorer::new(Weights::default());
    const ROUNDS: usize = 200;
    let mut per_pair_ns: Vec<f64> = Vec::with_capacity(pairs.len());
    for (a, b, kind) in &pairs {
        let start = Instant::now();
        let mut sink = 0.0f32;
        for _ in 0..ROUNDS {
            sink += scorer.score(std::hint::black_box(a), std::hint::black_box(b), *kind);
        }
        std::hint::black_box(sink);
        per_pair_ns.push(start.elapsed().as_nanos() as f64 / ROUNDS as f64);
    }
    per_pair_ns.sort_by(f64::total_cmp);
    let at = |q: f64| per_pair_ns[((per_pair_ns.len() - 1) as f64 * q) as usize] / 1000.0;
    println!(
        "{} pairs, {ROUNDS} rounds each: median {:.2} µs, p90 {:.2} µs, p99 {:.2} µs per pair",
        pairs.len(),
        at(0.5),
        at(0.9),
        at(0.99)
    );
}
