//! Criterion benchmarks of the screening hot path (issue 7), through the public library API only:
//! normalizing a name, scoring a pair of prepared names, screening one party against seed + the
//! full OFAC list, and building the name index.
//!
//! Run: `cargo bench --bench screening` (all), or with a filter: `cargo bench --bench screening --
//! pair_score`. Reads the OFAC list from `../shared/data/ofac-sdn-2019`; without it, the query and
//! index benchmarks print a skip message and run against the built-in seed list only.
//! Not for: whole-program figures (`benches/run.sh`) or correctness (the tests).

use std::collections::HashSet;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use redflag::index::NameIndex;
use redflag::model::{EntityKind, Watchlist};
use redflag::policy::Policy;
use redflag::score::{Scorer, Weights};
use redflag::screen::{Party, Screener};
use redflag::text::normalize;

const OFAC: &str = "../shared/data/ofac-sdn-2019";

/// Names as shipment exports and lists write them: persons, organizations, scripts, legal forms.
const NAMES: [(&str, EntityKind); 8] = [
    ("Hagedorn Bauteile GmbH", EntityKind::Organization),
    ("ООО «Робин Трейд»", EntityKind::Organization),
    ("OOO SERNIYA INZHINIRING", EntityKind::Organization),
    (
        "China Aerospace Science and Industry Corporation Limited",
        EntityKind::Organization,
    ),
    ("AL-ZAWAHIRI, Ayman Muhammad Rabi", EntityKind::Person),
    ("Oleksiy Zibirov", EntityKind::Person),
    ("Müller-Lüdenscheidt, Hans Peter", EntityKind::Person),
    ("BANCO NACIONAL DE CUBA", EntityKind::Organization),
];

/// Pairs of (query, listed name): typical matches and non-matches of each kind.
const PAIRS: [(&str, &str, &str, EntityKind); 6] = [
    (
        "person_match",
        "Ayman al Zawahiri",
        "AL-ZAWAHIRI, Ayman Muhammad Rabi",
        EntityKind::Person,
    ),
    (
        "person_nonmatch",
        "Hans Peter Mueller",
        "AL-ZAWAHIRI, Ayman Muhammad Rabi",
        EntityKind::Person,
    ),
    (
        "person_near",
        "Alexei Zibirov",
        "Oleksiy Zibirov",
        EntityKind::Person,
    ),
    (
        "org_match",
        "Serniya Engineering LLC",
        "OOO SERNIYA INZHINIRING",
        EntityKind::Organization,
    ),
    (
        "org_nonmatch",
        "Nordic Components AB",
        "OOO SERNIYA INZHINIRING",
        EntityKind::Organization,
    ),
    (
        "org_long_match",
        "China Aerospace Science & Industry Corp",
        "China Aerospace Science and Industry Corporation Limited",
        EntityKind::Organization,
    ),
];

/// A small deterministic generator (xorshift), so every run screens the same names.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// Seed + OFAC when `../shared` is there (true), else the seed list alone (false).
fn lists() -> (Watchlist, bool) {
    let mut wl = redflag::watchlist::seed();
    if !Path::new(OFAC).is_dir() {
        println!("skipping the OFAC benchmarks: {OFAC} is absent; benchmarking the seed list only");
        return (wl, false);
    }
    wl.merge(redflag::watchlist::load(Path::new(OFAC), None).expect("load the OFAC list"));
    (wl, true)
}

/// Endless fresh queries: a listed name with one letter changed and, half the time, two words
/// swapped. Each is returned once only, so the screener's result cache never answers one (the
/// per-word lookup cache does warm up for the words left unchanged, as in a real export).
struct FreshNames {
    listed: Vec<String>,
    seen: HashSet<String>,
    rng: Rng,
}

impl FreshNames {
    fn new(wl: &Watchlist) -> Self {
        let listed = wl
            .entities
            .iter()
            .flat_map(|e| e.names.iter().map(|n| n.text.clone()))
            .collect();
        FreshNames {
            listed,
            seen: HashSet::new(),
            rng: Rng(0x7e57_5eed_0bad_cafe),
        }
    }

    fn next(&mut self) -> String {
        loop {
            let base = &self.listed[self.rng.below(self.listed.len())];
            let mut words: Vec<String> = base.split_whitespace().map(str::to_string).collect();
            let w = self.rng.below(words.len());
            let mut chars: Vec<char> = words[w].chars().collect();
            let i = self.rng.below(chars.len());
            chars[i] = ['a', 'e', 'i', 'o', 'k', 's', 'r'][self.rng.below(7)];
            words[w] = chars.into_iter().collect();
            if words.len() > 1 && self.rng.below(2) == 0 {
                words.swap(0, 1);
            }
            let name = words.join(" ");
            if self.seen.insert(name.clone()) {
                return name;
            }
        }
    }
}

/// A word of syllables spelling `n` in base 16: a different word for every `n`.
fn made_up_word(mut n: usize) -> String {
    const SYLLABLES: [&str; 16] = [
        "ka", "ro", "len", "vi", "tor", "sa", "mu", "del", "fi", "nor", "bu", "zan", "pe", "lo",
        "gri", "ta",
    ];
    let mut w = String::from("Al");
    while n > 0 {
        w.push_str(SYLLABLES[n % 16]);
        n /= 16;
    }
    w
}

fn normalization(c: &mut Criterion) {
    let mut g = c.benchmark_group("normalize");
    g.bench_function("per_name", |b| {
        let mut i = 0;
        b.iter(|| {
            let (name, kind) = NAMES[i % NAMES.len()];
            i += 1;
            black_box(normalize(black_box(name), kind))
        })
    });
    g.finish();
}

fn pair_scoring(c: &mut Criterion) {
    let scorer = Scorer::new(Weights::default());
    let mut g = c.benchmark_group("pair_score");
    for (label, query, listed, kind) in PAIRS {
        let q = normalize(query, kind);
        let l = normalize(listed, kind);
        g.bench_function(label, |b| {
            b.iter(|| black_box(scorer.score(black_box(&q), black_box(&l), kind)))
        });
    }
    g.finish();
}

fn one_query(c: &mut Criterion) {
    let (wl, full) = lists();
    let mut fresh = FreshNames::new(&wl);
    let screener = Screener::new(wl, Policy::default());
    let mut g = c.benchmark_group(if full { "query_ofac" } else { "query_seed" });
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8));
    g.bench_function("fresh_listed_variant", |b| {
        b.iter_batched(
            || Party {
                role: "consignee".into(),
                name: fresh.next(),
                ..Default::default()
            },
            |p| black_box(screener.screen(&p)),
            BatchSize::SmallInput,
        )
    });
    let mut n = 0usize;
    g.bench_function("fresh_unlisted", |b| {
        b.iter_batched(
            || {
                n += 1;
                Party {
                    role: "consignee".into(),
                    // A made-up word unique to this query, among an ordinary export's words.
                    name: format!("{} Precision Components GmbH", made_up_word(n)),
                    ..Default::default()
                }
            },
            |p| black_box(screener.screen(&p)),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn index_build(c: &mut Criterion) {
    let (wl, full) = lists();
    let mut g = c.benchmark_group("index_build");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    g.bench_function(if full { "seed_ofac" } else { "seed" }, |b| {
        b.iter(|| black_box(NameIndex::build(black_box(&wl))))
    });
    g.finish();
}

criterion_group!(benches, normalization, pair_scoring, one_query, index_build);
criterion_main!(benches);
