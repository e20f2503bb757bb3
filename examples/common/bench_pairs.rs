//! The labelled name pairs of the name benchmark, shared by the examples that calibrate and time
//! the scorer (`tune`, `score_speed`). Not a test: the examples skip when the file is absent.

// Each example including this module reads only the fields it needs.
#![allow(dead_code)]

use redflag::model::EntityKind;

/// One labelled pair: both names, the kind they are compared as, and whether they match.
pub struct BenchPair {
    pub name1: String,
    pub name2: String,
    pub kind: EntityKind,
    pub is_match: bool,
}

/// The pairs of the file named by the first argument (default `../shared/eval/name_bench.csv`),
/// or None, after saying so, when it cannot be read.
pub fn from_args() -> Option<Vec<BenchPair>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "../shared/eval/name_bench.csv".into());
    let Ok(mut rdr) = csv::Reader::from_path(&path) else {
        println!("skipping: {path} is not available");
        return None;
    };
    let pairs = rdr
        .records()
        .flatten()
        .map(|r| BenchPair {
            name1: r[2].to_string(),
            name2: r[3].to_string(),
            kind: EntityKind::parse(&r[1]).unwrap_or_default(),
            is_match: &r[4] == "true",
        })
        .collect();
    Some(pairs)
}
