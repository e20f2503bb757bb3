//! Times loading watchlists and building the screener's indexes, phase by phase.
//! Run: `cargo run --release --example load_time -- ../shared/data/ofac-sdn-2019 [more lists]`.

use std::path::PathBuf;
use std::time::Instant;

use redflag::address::AddressIndex;
use redflag::affiliates::Affiliates;
use redflag::index::NameIndex;

fn main() {
    let paths: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
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
}
