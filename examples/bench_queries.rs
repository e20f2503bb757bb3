//! Query latency, recall and memory of the screener on a query file, for `benches/run.sh`.
//!
//! Run: `cargo run --release --example bench_queries -- --queries FILE [--threads N] [--repeat N] [--explain] LIST...`
//! where each LIST is a watchlist path as `--watchlist` takes it, or `seed` for the built-in list.
//! The query file is tab-separated with a header: `query`, `label` (the listed entity id the query
//! was made from; empty for an unlisted name), `how`. Every query is screened once, in file order,
//! on a fresh screener (so the result cache answers nothing; the per-word lookup cache warms up
//! as it would in a real run). Prints one JSON object on stdout; `--explain` also lists false
//! alerts and missed listed queries on stderr; `--times FILE` writes each query's latency in
//! microseconds and the query, slowest first; `--repeat N` screens the file N times, each on a
//! fresh screener, and reports the pass of median wall time (every pass's rate as
//! `queries_per_s_passes`: on a shared host one short pass can run far slower or faster than the
//! next); `--check-bound` screens every query again
//! without the score bound and reports the hits the bound pruned (`bound_pruned_hits`, each
//! listed on stderr), and checks every candidate the first bound drops against the full bound
//! (it stops with a panic if the full bound would keep one). Otherwise not a test.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use redflag::policy::{Decision, Policy};
use redflag::screen::{HitKind, Party, Screener};

/// The allocator of the `redflag` binary, so that time and memory are the product's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p) as usize).min(sorted.len() - 1);
    sorted[i].as_secs_f64() * 1e6
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut queries_path = None;
    let mut threads = 1usize;
    let mut explain = false;
    let mut times_path: Option<String> = None;
    let mut check_bound = false;
    let mut repeat = 1usize;
    let mut lists: Vec<String> = Vec::new();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--queries" => queries_path = args.next(),
            "--threads" => threads = args.next().and_then(|n| n.parse().ok()).unwrap_or(1),
            "--explain" => explain = true,
            "--times" => times_path = args.next(),
            "--check-bound" => check_bound = true,
            "--repeat" => repeat = args.next().and_then(|n| n.parse().ok()).unwrap_or(1).max(1),
            _ => lists.push(a),
        }
    }
    let Some(queries_path) = queries_path else {
        eprintln!(
            "usage: bench_queries --queries FILE [--threads N] [--explain] [--times FILE] LIST..."
        );
        std::process::exit(64);
    };
    let text = std::fs::read_to_string(&queries_path).expect("read the query file");
    let queries: Vec<(String, String)> = text
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut f = l.split('\t');
            Some((f.next()?.to_string(), f.next().unwrap_or("").to_string()))
        })
        .collect();

    let t = Instant::now();
    let mut watchlist = redflag::model::Watchlist::default();
    for l in &lists {
        let part = if l == "seed" {
            redflag::watchlist::seed()
        } else {
            redflag::watchlist::load(&PathBuf::from(l), None).expect("load the list")
        };
        watchlist.merge(part);
    }
    let load = t.elapsed();
    let rss_after_load = peak_rss_kb();
    let entities = watchlist.entities.len();
    let names: usize = watchlist.entities.iter().map(|e| e.names.len()).sum();
    let unbounded = check_bound.then(|| watchlist.clone());
    // A fresh screener for each pass after the first (nothing cached from a pass before).
    let spare = (repeat > 1).then(|| watchlist.clone());
    let t = Instant::now();
    let mut screener = Screener::new(watchlist, Policy::default());
    let build = t.elapsed();
    if check_bound {
        // And every candidate the first bound drops against the full bound (a panic if the
        // full bound would keep it).
        screener = screener.checking_first_bound();
    }
    let rss_after_build = peak_rss_kb();

    let screen_one = |screener: &Screener, explain: bool, (q, label): &(String, String)| {
        let t = Instant::now();
        let r = screener.screen(&Party {
            role: "consignee".into(),
            name: q.clone(),
            ..Default::default()
        });
        let took = t.elapsed();
        let alerts: Vec<&str> = r
            .hits
            .iter()
            .filter(|h| h.kind == HitKind::Name && h.decision >= Decision::Review)
            .map(|h| h.entity_id.as_str())
            .collect();
        let found = !label.is_empty() && alerts.contains(&label.as_str());
        let wrong = if label.is_empty() {
            !alerts.is_empty()
        } else {
            !found
        };
        if explain && wrong {
            // A false alert, or a listed query missed: the query and what it matched.
            let best = r.hits.first().map(|h| (h.matched_name.as_str(), h.score));
            eprintln!("{q}\t{label}\t{best:?}");
        }
        (took, found, !alerts.is_empty())
    };
    let pass = |screener: &Screener, explain: bool| {
        let t = Instant::now();
        let results: Vec<(Duration, bool, bool)> = if threads > 1 {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("thread pool");
            pool.install(|| {
                queries
                    .par_iter()
                    .map(|q| screen_one(screener, explain, q))
                    .collect()
            })
        } else {
            queries
                .iter()
                .map(|q| screen_one(screener, explain, q))
                .collect()
        };
        (results, t.elapsed())
    };
    let mut passes = vec![pass(&screener, explain)];
    if let Some(watchlist) = &spare {
        for _ in 1..repeat {
            let fresh = Screener::new(watchlist.clone(), Policy::default());
            passes.push(pass(&fresh, false));
        }
    }
    let rates: Vec<f64> = passes
        .iter()
        .map(|(_, wall)| queries.len() as f64 / wall.as_secs_f64())
        .collect();
    passes.sort_by_key(|(_, wall)| *wall);
    let (results, wall) = passes.swap_remove(passes.len() / 2);
    if let Some(path) = &times_path {
        // One line per query, slowest first: which names a run's time goes to.
        let mut order: Vec<usize> = (0..queries.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(results[i].0));
        let lines: String = order
            .iter()
            .map(|&i| {
                format!(
                    "{:.1}\t{}\n",
                    results[i].0.as_secs_f64() * 1e6,
                    queries[i].0
                )
            })
            .collect();
        std::fs::write(path, lines).expect("write the times file");
    }
    let mut lat: Vec<Duration> = results.iter().map(|r| r.0).collect();
    lat.sort_unstable();
    let listed = queries.iter().filter(|(_, l)| !l.is_empty()).count();
    let found = results.iter().filter(|r| r.1).count();
    let unlisted = queries.len() - listed;
    let false_alerts = queries
        .iter()
        .zip(&results)
        .filter(|((_, l), r)| l.is_empty() && r.2)
        .count();
    // How many listed names the index offers per query: what the scorer then has to align.
    let candidates: usize = queries
        .iter()
        .map(|(q, _)| {
            let norm = redflag::text::normalize(q, redflag::model::EntityKind::Unknown);
            screener
                .index
                .candidates(&norm, redflag::score::distance::TOKEN_FLOOR)
                .len()
        })
        .sum();
    // Hits (name hits at review or above) that scoring every candidate finds and the bound
    // pruned: the bound must never be below the score, and this counts where it was.
    let pruned_hits = unbounded.map(|watchlist| {
        let full = Screener::new(watchlist, Policy::default()).without_pruning();
        let alerts = |s: &Screener, q: &str| -> Vec<(String, f32)> {
            let party = Party {
                role: "consignee".into(),
                name: q.to_string(),
                ..Default::default()
            };
            s.screen(&party)
                .hits
                .into_iter()
                .filter(|h| h.kind == HitKind::Name && h.decision >= Decision::Review)
                .map(|h| (format!("{} ({})", h.matched_name, h.entity_id), h.score))
                .collect()
        };
        let missed: Vec<(String, String, f32)> = queries
            .par_iter()
            .flat_map_iter(|(q, _)| {
                let kept = alerts(&screener, q);
                alerts(&full, q)
                    .into_iter()
                    .filter(move |(m, _)| !kept.iter().any(|(k, _)| k == m))
                    .map(move |(m, score)| (q.clone(), m, score))
            })
            .collect();
        for (q, m, score) in &missed {
            eprintln!("pruned hit: {q}\t{m}\t{score:.3}");
        }
        missed.len()
    });
    let out = serde_json::json!({
        "bound_pruned_hits": pruned_hits,
        "entities": entities,
        "names": names,
        "load_ms": load.as_secs_f64() * 1e3,
        "build_ms": build.as_secs_f64() * 1e3,
        "rss_after_load_kb": rss_after_load,
        "rss_after_build_kb": rss_after_build,
        "peak_rss_kb": peak_rss_kb(),
        "threads": threads,
        "queries": queries.len(),
        "wall_s": wall.as_secs_f64(),
        "queries_per_s": queries.len() as f64 / wall.as_secs_f64(),
        "queries_per_s_passes": rates,
        "p50_us": percentile(&lat, 0.50),
        "p99_us": percentile(&lat, 0.99),
        "min_us": percentile(&lat, 0.0),
        "candidates_per_query": candidates as f64 / queries.len().max(1) as f64,
        "listed": listed,
        "found": found,
        "recall": found as f64 / listed.max(1) as f64,
        "unlisted": unlisted,
        "false_alerts": false_alerts,
    });
    println!("{out}");
}
