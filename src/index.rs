//! The candidate index: which listed names are worth scoring against a party's name.
//!
//! Every listed name is normalized once. Its tokens, the joins of two or three neighbouring tokens
//! (Trade Tools -> tradetools), the initials of its runs (CASIC) and its letters without spaces
//! form a vocabulary; each vocabulary entry points at the names that contain it. A query token
//! finds vocabulary entries through trigrams of a *folded key* in which the cheap differences of
//! the scorer (vowel for vowel, transliteration siblings, h, doubled letters) vanish, so a typo or
//! transliteration variant still shares grams; each entry found is then verified with the scorer's
//! own token similarity. The cost of a query depends on the postings it touches, not on the size
//! of the list. An Aho-Corasick automaton over whole listed names finds a listed name embedded in
//! a longer party name. Not here: the final score (`score`) or the decision (`policy`).

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;

use crate::model::{EntityKind, Watchlist};
use crate::score::distance::{token_similarity, TOKEN_FLOOR};
use crate::text::{normalize, NormName, TokenClass};

/// One listed name, normalized for its entity's kind.
#[derive(Debug, Clone)]
pub struct NameRecord {
    pub entity: u32,
    /// Index into the entity's `names`.
    pub name: u32,
    pub kind: EntityKind,
    pub norm: NormName,
}

pub struct NameIndex {
    pub records: Vec<NameRecord>,
    vocab: HashMap<Box<str>, u32>,
    vocab_text: Vec<Box<str>>,
    /// Vocabulary id -> records containing it.
    postings: Postings,
    /// Folded-key trigram -> gram id; `gram_postings` maps gram ids to vocabulary ids.
    grams: HashMap<[u8; 3], u32>,
    gram_postings: Postings,
    /// Number of trigrams of each vocabulary entry's key.
    gram_count: Vec<u16>,
    embedded: Option<AhoCorasick>,
    /// Pattern id of `embedded` -> record id.
    embedded_records: Vec<u32>,
}

/// Lists of ids per key, flattened into one array: `ids[offsets[k]..offsets[k + 1]]`. Built once
/// from (key, id) pairs; far fewer allocations than a `Vec` per key.
#[derive(Debug, Default)]
struct Postings {
    offsets: Vec<u32>,
    ids: Vec<u32>,
}

impl Postings {
    fn from_pairs(keys: usize, mut pairs: Vec<(u32, u32)>) -> Postings {
        pairs.sort_unstable();
        pairs.dedup();
        let mut offsets = vec![0u32; keys + 1];
        for &(k, _) in &pairs {
            offsets[k as usize + 1] += 1;
        }
        for k in 0..keys {
            offsets[k + 1] += offsets[k];
        }
        Postings {
            offsets,
            ids: pairs.into_iter().map(|(_, id)| id).collect(),
        }
    }

    fn get(&self, key: u32) -> &[u32] {
        let k = key as usize;
        match (self.offsets.get(k), self.offsets.get(k + 1)) {
            (Some(&a), Some(&b)) => &self.ids[a as usize..b as usize],
            _ => &[],
        }
    }
}

/// Why a record became a candidate; the scorer decides whether it is a hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CandidateFlags {
    /// The whole listed name appears inside the party's name.
    pub embedded: bool,
}

/// The folded key: vowels as `a`, transliteration siblings as one letter, `h` dropped, doubled
/// letters collapsed. Two spellings the scorer finds close usually have the same or a close key.
pub fn folded_key(token: &str) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::with_capacity(token.len());
    for &b in token.as_bytes() {
        let f = match b {
            b'a' | b'e' | b'i' | b'o' | b'u' | b'y' => b'a',
            b'c' | b'k' | b'q' => b'k',
            b's' | b'z' => b's',
            b'j' => b'a',
            b'v' | b'w' | b'f' => b'v',
            b'd' | b't' => b't',
            b'b' | b'p' => b'p',
            b'h' => continue,
            other => other,
        };
        if out.last() != Some(&f) {
            out.push(f);
        }
    }
    out
}

fn trigrams(key: &[u8], out: &mut Vec<[u8; 3]>) {
    out.clear();
    let mut padded = Vec::with_capacity(key.len() + 2);
    padded.push(b'$');
    padded.extend_from_slice(key);
    padded.push(b'$');
    if padded.len() < 3 {
        return;
    }
    for w in padded.windows(3) {
        let g = [w[0], w[1], w[2]];
        if !out.contains(&g) {
            out.push(g);
        }
    }
}

impl NameIndex {
    pub fn build(watchlist: &Watchlist) -> NameIndex {
        let records: Vec<NameRecord> = watchlist
            .entities
            .par_iter()
            .enumerate()
            .flat_map_iter(|(ei, e)| {
                e.names.iter().enumerate().filter_map(move |(ni, n)| {
                    let norm = normalize(&n.text, e.kind);
                    (!norm.is_empty()).then_some(NameRecord {
                        entity: ei as u32,
                        name: ni as u32,
                        kind: e.kind,
                        norm,
                    })
                })
            })
            .collect();

        let mut index = NameIndex {
            records: Vec::new(),
            vocab: HashMap::default(),
            vocab_text: Vec::new(),
            postings: Postings::default(),
            grams: HashMap::default(),
            gram_postings: Postings::default(),
            gram_count: Vec::new(),
            embedded: None,
            embedded_records: Vec::new(),
        };
        let mut record_pairs: Vec<(u32, u32)> = Vec::with_capacity(records.len() * 8);
        for (ri, r) in records.iter().enumerate() {
            vocabulary_entries(&r.norm, |entry| {
                let id = index.intern(entry);
                record_pairs.push((id, ri as u32));
            });
        }
        index.postings = Postings::from_pairs(index.vocab_text.len(), record_pairs);
        let mut grams = Vec::new();
        let mut gram_pairs: Vec<(u32, u32)> = Vec::with_capacity(index.vocab_text.len() * 8);
        for (id, text) in index.vocab_text.iter().enumerate() {
            trigrams(&folded_key(text), &mut grams);
            index.gram_count.push(grams.len() as u16);
            for g in &grams {
                let next = index.grams.len() as u32;
                let gid = *index.grams.entry(*g).or_insert(next);
                gram_pairs.push((gid, id as u32));
            }
        }
        index.gram_postings = Postings::from_pairs(index.grams.len(), gram_pairs);

        let mut patterns = Vec::new();
        for (ri, r) in records.iter().enumerate() {
            if embeddable(&r.norm) {
                patterns.push(format!(" {} ", r.norm.key()));
                index.embedded_records.push(ri as u32);
            }
        }
        index.embedded = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .ok();
        index.records = records;
        index
    }

    fn intern(&mut self, text: &str) -> u32 {
        if let Some(id) = self.vocab.get(text) {
            return *id;
        }
        let id = self.vocab_text.len() as u32;
        let owned: Box<str> = text.into();
        self.vocab.insert(owned.clone(), id);
        self.vocab_text.push(owned);
        id
    }

    pub fn vocabulary_len(&self) -> usize {
        self.vocab_text.len()
    }

    /// Vocabulary entries similar to `token` (the scorer's token floor), with their similarity.
    fn lookup(&self, token: &str, counts: &mut HashMap<u32, u16>, out: &mut Vec<u32>) {
        if let Some(id) = self.vocab.get(token) {
            out.push(*id);
        }
        let mut grams = Vec::new();
        trigrams(&folded_key(token), &mut grams);
        if grams.is_empty() {
            return;
        }
        counts.clear();
        for g in &grams {
            if let Some(&gid) = self.grams.get(g) {
                for id in self.gram_postings.get(gid) {
                    *counts.entry(*id).or_insert(0) += 1;
                }
            }
        }
        // A variant the scorer accepts keeps a good share of its folded trigrams.
        let q = grams.len() as f32;
        for (&id, &shared) in counts.iter() {
            let total = q.max(self.gram_count[id as usize] as f32);
            if (shared as f32) < (total * 0.25).max(1.0) {
                continue;
            }
            let text = &*self.vocab_text[id as usize];
            if text != token && token_similarity(token, text) >= TOKEN_FLOOR {
                out.push(id);
            }
        }
    }

    /// Records worth scoring against `query`, with why they were found.
    pub fn candidates(&self, query: &NormName) -> HashMap<u32, CandidateFlags> {
        let mut found: HashMap<u32, CandidateFlags> = HashMap::default();
        let mut entries = Vec::new();
        query_entries(query, &mut entries);
        let mut counts = HashMap::default();
        let mut ids = Vec::new();
        for e in &entries {
            ids.clear();
            if e.fuzzy {
                self.lookup(&e.text, &mut counts, &mut ids);
            } else if let Some(id) = self.vocab.get(e.text.as_str()) {
                ids.push(*id);
            }
            for id in &ids {
                for r in self.postings.get(*id) {
                    found.entry(*r).or_default();
                }
            }
        }
        if let Some(ac) = &self.embedded {
            let hay = format!(" {} ", query.key());
            for m in ac.find_overlapping_iter(&hay) {
                let r = self.embedded_records[m.pattern().as_usize()];
                found.entry(r).or_default().embedded = true;
            }
        }
        found
    }
}

/// A listed name can be searched for inside longer names when it is distinctive on its own.
fn embeddable(n: &NormName) -> bool {
    let words = n
        .tokens
        .iter()
        .filter(|t| t.class == TokenClass::Word)
        .count();
    words >= 2 || (words == 1 && n.tokens.len() >= 2) || n.key().len() >= 6 && words == 1
}

/// What a listed name contributes to the vocabulary, each entry passed to `f`.
fn vocabulary_entries(n: &NormName, mut f: impl FnMut(&str)) {
    for t in &n.tokens {
        f(&t.text);
    }
    let mut buf = String::new();
    for len in 2..=3 {
        for w in n.tokens.windows(len) {
            buf.clear();
            w.iter().for_each(|t| buf.push_str(&t.text));
            f(&buf);
        }
    }
    for_each_run_initials(&n.acronym_source, &mut f);
    if n.acronym_source.len() > 1 {
        buf.clear();
        n.acronym_source.iter().for_each(|w| buf.push_str(w));
        f(&buf);
    }
}

struct QueryEntry {
    text: String,
    fuzzy: bool,
}

fn query_entries(n: &NormName, out: &mut Vec<QueryEntry>) {
    for t in &n.tokens {
        out.push(QueryEntry {
            text: t.text.clone(),
            fuzzy: t.text.len() >= 2 && t.class != TokenClass::Number,
        });
    }
    for len in 2..=3 {
        for w in n.tokens.windows(len) {
            out.push(QueryEntry {
                text: w.iter().map(|t| t.text.as_str()).collect(),
                fuzzy: true,
            });
        }
    }
    for_each_run_initials(&n.acronym_source, |acro| {
        out.push(QueryEntry {
            text: acro.to_string(),
            fuzzy: false,
        })
    });
    if n.acronym_source.len() > 1 {
        out.push(QueryEntry {
            text: n.acronym_source.concat(),
            fuzzy: false,
        });
    }
}

/// Initials of the acronyms a name could be written as: of the whole name, and of every run of
/// 3..=8 words (two letters of a partial run say too little; the scorer applies the same rule).
fn for_each_run_initials(words: &[String], mut f: impl FnMut(&str)) {
    let initials: Vec<u8> = words.iter().filter_map(|w| w.bytes().next()).collect();
    for start in 0..initials.len() {
        for end in start + 2..=(start + 8).min(initials.len()) {
            let whole = start == 0 && end == initials.len();
            let run = &initials[start..end];
            if (end - start >= 3 || whole) && run.iter().all(u8::is_ascii_alphabetic) {
                // Initials are ASCII letters, so this is valid UTF-8.
                f(std::str::from_utf8(run).unwrap_or_default());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    fn list(names: &[&str]) -> Watchlist {
        Watchlist::from_names(EntityKind::Organization, names.iter().copied())
    }

    fn found(idx: &NameIndex, q: &str) -> Vec<u32> {
        let mut v: Vec<u32> = idx
            .candidates(&normalize(q, EntityKind::Unknown))
            .keys()
            .map(|r| idx.records[*r as usize].entity)
            .collect();
        v.sort();
        v
    }

    #[test]
    fn finds_typos_joins_and_acronyms() {
        let idx = NameIndex::build(&list(&[
            "Serniya Engineering",
            "Trade Tools",
            "China Aerospace Science and Industry Corporation",
            "Planar",
        ]));
        assert_eq!(found(&idx, "Sernia Enginering"), vec![0]);
        assert_eq!(found(&idx, "Tradetools LLC"), vec![1]);
        assert_eq!(found(&idx, "CASIC"), vec![2]);
        assert_eq!(found(&idx, "Planar Systems Inc"), vec![3]);
        assert!(found(&idx, "Nordic Components AB").is_empty());
    }

    #[test]
    fn embedded_names_are_flagged() {
        let idx = NameIndex::build(&list(&["Almaz-Antey"]));
        let c = idx.candidates(&normalize(
            "Almaz-Antey Telecommunications",
            EntityKind::Unknown,
        ));
        assert!(c.values().any(|f| f.embedded));
    }

    #[test]
    fn folded_keys_absorb_cheap_differences() {
        assert_eq!(folded_key("yablachkova"), folded_key("yablochkova"));
        assert_eq!(folded_key("muhammad"), folded_key("mohammed"));
        assert_eq!(folded_key("serniya"), folded_key("sernia"));
    }
}
