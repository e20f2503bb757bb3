//! Times loading watchlists and building the screener's indexes, phase by phase.
//! Run: `cargo run --release --example load_time -- ../shared/data/ofac-sdn-2019 [more lists]`,
//! or `-- --index FILE` to time reading a prebuilt index file instead.

use std::path::PathBuf;
use std::time::Instant;

use redflag::address::AddressIndex;
use redflag::affiliates::Affiliates;
use redflag::index::NameIndex;
use redflag::policy::Policy;
use redflag::screen::{Party, Screener};

fn main() {
    let paths: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    if paths.first().is_some_and(|p| p.as_os_str() == "--index") {
        let Some(file) = paths.get(1) else {
            println!("usage: load_time --index FILE");
            return;
        };
        for round in 0..5 {
            let t = Instant::now();
            let bytes = std::fs::read(file).expect("read");
            let read = t.elapsed();
            let t = Instant::now();
            let p = redflag::prebuilt::Prebuilt::decode(&bytes, "index").expect("decode");
            let decode = t.elapsed();
            let t = Instant::now();
            let s = Screener::from_prebuilt(p, Policy::default());
            let affiliates = t.elapsed();
            let t = Instant::now();
            std::mem::drop(s);
            println!(
                "round {round}: read {read:.1?}, decode {decode:.1?}, affiliates {affiliates:.1?}, drop {:.1?}",
                t.elapsed()
            );
        }
        return;
    }
    if paths.iter().any(|p| !p.exists()) {
        println!("skipping: a list path does not exist");
        return;
    }
    for round in 0..3 {
        let t = Instant::now();
        let mut wl = redflag::watchlist::seed();
        for p in &paths {
            wl.merge(redflag::watchlist::load(p, None).expect("load"));
        }
        let load = t.elapsed();
        let t = Instant::now();
        let mut tokens = 0;
        for e in &wl.entities {
            for n in &e.names {
                tokens += redflag::text::normalize(&n.text, e.kind).tokens.len();
            }
        }
        println!("  normalize only: {:.1?} ({tokens} tokens)", t.elapsed());
        let t = Instant::now();
        let names = NameIndex::build(&wl);
        let name_index = t.elapsed();
        let t = Instant::now();
        let addresses = AddressIndex::new(&wl);
        let address_index = t.elapsed();
        let t = Instant::now();
        let _aff = Affiliates::build(&wl);
        let affiliates = t.elapsed();
        println!(
            "round {round}: {} entities, {} names, vocabulary {}, {} addresses: load {load:.1?}, name index {name_index:.1?}, address index {address_index:.1?}, affiliates {affiliates:.1?}",
            wl.entities.len(),
            names.records.len(),
            names.vocabulary_len(),
            addresses.len()
        );
    }
    // Query latency: every 10th listed name, lightly altered, plus clean names.
    let mut wl = redflag::watchlist::seed();
    for p in &paths {
        wl.merge(redflag::watchlist::load(p, None).expect("load"));
    }
    let queries: Vec<String> = wl
        .entities
        .iter()
        .step_by(10)
        .map(|e| format!("{} Trading", e.primary_name()))
        .chain(
            [
                "Hagedorn Bauteile GmbH",
                "Nordic Components AB",
                "ООО «Робин Трейд»",
                "Hanseatic Spedition GmbH",
            ]
            .map(String::from),
        )
        .collect();
    let screener = Screener::new(wl, Policy::default());
    let mut times: Vec<u128> = queries
        .iter()
        .map(|q| {
            let t = Instant::now();
            let _ = screener.screen(&Party {
                role: "consignee".into(),
                name: q.clone(),
                ..Default::default()
            });
            t.elapsed().as_micros()
        })
        .collect();
    let t = Instant::now();
    let mut n_candidates = 0;
    for q in &queries {
        let norm = redflag::text::normalize(q, redflag::model::EntityKind::Unknown);
        n_candidates += screener
            .index
            .candidates(&norm, redflag::score::distance::TOKEN_FLOOR)
            .len();
    }
    println!(
        "candidate generation alone: {:.1?} per query, {} candidates per query",
        t.elapsed() / queries.len() as u32,
        n_candidates / queries.len()
    );
    times.sort_unstable();
    println!(
        "{} queries: p50 {} µs, p90 {} µs, p99 {} µs, max {} µs",
        times.len(),
        times[times.len() / 2],
        times[times.len() * 9 / 10],
        times[times.len() * 99 / 100],
        times[times.len() - 1]
    );
}
