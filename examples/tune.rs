//! Calibration aid: sweeps the scorer's global weights over the labelled name pairs of
//! `../shared/eval/name_bench.csv` and prints the best settings by F1. Only global knobs are
//! swept (no per-pair rules), and the result is a starting point for judgement, not a fit: see
//! BENCHMARKS.md. Run: `cargo run --release --example tune`.

use redflag::score::{Scorer, Weights};

#[path = "common/bench_pairs.rs"]
mod bench_pairs;

fn main() {
    let Some(pairs) = bench_pairs::from_args() else {
        return;
    };
    let mut results = Vec::new();
    for conflict in [1.0f32, 1.25, 1.5] {
        for generic_unmatched in [0.5f32, 0.7, 1.0] {
            for fuzzy_exponent in [1.0f32, 1.5, 2.0, 3.0] {
                for missing_other in [0.4f32, 0.5, 0.7] {
                    for missing_person in [0.25f32, 0.35, 0.5] {
                        let w = Weights {
                            conflict,
                            generic_unmatched,
                            fuzzy_exponent,
                            missing_other,
                            missing_person,
                            ..Weights::default()
                        };
                        let scorer = Scorer::new(w);
                        let scores: Vec<(f32, bool)> = pairs
                            .iter()
                            .map(|p| {
                                (
                                    scorer.compare_names(&p.name1, &p.name2, p.kind).score,
                                    p.is_match,
                                )
                            })
                            .collect();
                        let (best_t, best_f) = (60..96)
                            .map(|t| (t as f32 / 100.0, f1(&scores, t as f32 / 100.0)))
                            .fold((0.0, 0.0), |acc, x| if x.1 > acc.1 { x } else { acc });
                        results.push((best_f, best_t, f1(&scores, 0.80), w));
                    }
                }
            }
        }
    }
    results.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (f, t, f80, w) in results.iter().take(15) {
        println!(
            "F1 {f:.3} at {t:.2} (F1@0.80 {f80:.3}): conflict {} generic_unmatched {} fuzzy_exponent {} missing_other {} missing_person {}",
            w.conflict, w.generic_unmatched, w.fuzzy_exponent, w.missing_other, w.missing_person
        );
    }
}

fn f1(scores: &[(f32, bool)], t: f32) -> f32 {
    let tp = scores.iter().filter(|(s, m)| *s >= t && *m).count() as f32;
    let fp = scores.iter().filter(|(s, m)| *s >= t && !*m).count() as f32;
    let fnn = scores.iter().filter(|(s, m)| *s < t && *m).count() as f32;
    if tp == 0.0 {
        return 0.0;
    }
    let p = tp / (tp + fp);
    let r = tp / (tp + fnn);
    2.0 * p * r / (p + r)
}
