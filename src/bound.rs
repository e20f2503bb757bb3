//! An upper bound on a candidate's name score from what the index saw, so that most candidates
//! are never aligned: a party name built of common words reaches hundreds of listed names, and
//! few of them can come near the report threshold.
//!
//! The bound is [`Scorer::upper_bound`] fed with, for every token of both names, the best
//! similarity with which it can align: what the index found (query tokens and runs reaching
//! listed tokens, runs and acronyms), 1 for the pairs the index does not look for (initials,
//! particles, a short first given name), and for the query's generic words, which the index does
//! not search on their own, their similarity to the candidate's tokens and runs computed here
//! from the vocabulary. It must never be below the real score: `tests/integration/index.rs`
//! screens generated names with and without it and expects the same results.
//! Not here: the score itself (`score`) or finding candidates (`index`).

use rustc_hash::FxHashMap as HashMap;

use crate::index::{acronym_span_mask, unsearched_tokens, CandidateFlags, NameIndex};
use crate::model::EntityKind;
use crate::score::distance::{may_reach_floor, SimilarityMemo, TOKEN_FLOOR};
use crate::score::{
    comparable, could_spell_initials, span_bits, stack_or_heap, typo_letter, NameFacts, Prune,
    Scorer, STACK_TOKENS,
};
use crate::text::{NormName, Token, TokenClass};

/// What one query lets the index tell about any candidate: built once per party name.
pub struct QueryEvidence<'a> {
    query: &'a NormName,
    /// For each unsearched generic word of the query (by position): the listed tokens and runs
    /// similar to it, with their similarity.
    generic: Vec<(usize, HashMap<&'a str, f32>)>,
    /// Shortest and longest of each generic word's similar texts: a candidate's run outside
    /// them is not looked up.
    generic_lengths: Vec<(usize, usize)>,
    /// The first letters of each generic word's similar texts, a bit each: a candidate's runs
    /// from a token starting otherwise are not looked up (most are not, and each lookup hashes
    /// the run).
    generic_first: Vec<[u64; 4]>,
    /// Query position -> its index in `generic`.
    generic_at: Vec<Option<usize>>,
    /// The best similarity of each generic word's similar texts (0 for none).
    generic_best: Vec<f32>,
    /// Each generic word's letters ([`letter_bits`]) if it could be a listed name's acronym
    /// (2 to 8 bytes), else 0.
    generic_acronym: Vec<u32>,
    /// The score a candidate must be able to reach to be kept (see [`Prune`]).
    threshold: f32,
}

/// The query as normalized for one kind of listed entity (see [`QueryEvidence::for_kind`]).
pub struct KindQuery {
    pub norm: NormName,
    positions: Vec<QueryPosition>,
    facts: NameFacts,
    /// Tokens whose similarities the index's evidence settles (see [`Prune::settled`]).
    settled: u64,
    /// What the first bound reads of the query; `None` where it does not judge (a token not
    /// settled, or more tokens than it keeps).
    first: Option<FirstQuery>,
}

/// What [`QueryEvidence::first_bound`] reads of the query, worked out once per kind.
struct FirstQuery {
    /// Per token: its letters as bits ([`letter_bits`]) if it could spell initials (2 to 8
    /// ASCII letters), else 0.
    spells: Vec<u32>,
    /// All of `spells` together (0: no token could spell initials).
    spell_letters: u32,
    /// Per token: could it pair with a listed initial of its letter (a word or patronymic),
    /// and its first letter's bit.
    initial_bit: Vec<u32>,
    /// Runs of the query's initials a listed token could spell (`run_of_initials` the other
    /// way): by length and [`text_hash`], the query tokens they cover.
    initial_runs: Vec<(usize, u16, u64)>,
    /// [`letters_hash`] of the query: a listed name of the same letters scores 1.
    letters_hash: u32,
    /// The tokens not settled (particles and initials: [`crate::score::pairs_unlooked`]), a
    /// bit each; they may align with whatever the index saw.
    unsettled: u64,
    /// Bit l (l < 15): a listed token of l bytes passes the distance's length gate with one
    /// of the particles among them, or is one letter longer (a typo of it); bit 15: of 15 bytes
    /// or more (lengths are kept up to 15).
    particle_gate_lens: u16,
    /// The longest run of listed tokens whose length is comparable with one of those
    /// particles (0: no particle).
    particle_run_max: usize,
    /// Per token: the bits of the particles it could be a typo of ([`typo_particle_bits`]; 0 but
    /// for words), and all of them together.
    typo_bits: Vec<u32>,
    typo_union: u32,
    /// Each token's length, at most 255.
    lens: [u8; FACT_TOKENS],
    /// The letters of the initials among them ([`letter_bit`]).
    initial_letters: u32,
    /// By length (2 to 8): the first letters of `initial_runs` of that length.
    initial_run_letters: [u32; 9],
    /// A listed token's weight, cost when left over and looseness for this kind of entity, by
    /// its shape ([`shape_key`]): worked out once per query rather than per candidate token.
    shape_costs: [ShapeCost; 32],
}

#[derive(Debug, Clone, Copy, Default)]
struct ShapeCost {
    weight: f32,
    cost: f32,
    /// It pairs without the index looking ([`crate::score::pairs_unlooked`]).
    loose: bool,
}

/// The larger of two similarities. Never NaN here: `f32::max`'s rule for NaN cost instructions
/// on every token of every candidate the first bound reads.
#[inline(always)]
fn larger(a: f32, b: f32) -> f32 {
    if a > b {
        a
    } else {
        b
    }
}

/// What a token's weight and cost depend on, from its shape byte: class, weak name part, and
/// whether it has two bytes or fewer.
fn shape_key(shape: u8) -> usize {
    usize::from(shape & 0x0f) | usize::from(shape >> 4 <= 2) << 4
}

/// Where a token of the query, as normalized for one kind of listed entity, sits in the query
/// the index searched with (see [`QueryEvidence::for_kind`]).
#[derive(Debug, Clone, Copy)]
struct QueryPosition {
    /// Bit k: the searched query's token k has the same text.
    mask: u64,
    /// The token aligns whatever the index saw: unknown to it, loose, or beyond 64 tokens.
    always: bool,
}

/// Tokens that pair without the index looking ([`crate::score::pairs_unlooked`]).
fn loose(t: &Token) -> bool {
    crate::score::pairs_unlooked(t.class)
}

fn word(t: &Token) -> bool {
    matches!(t.class, TokenClass::Word | TokenClass::Patronymic)
}

impl<'a> QueryEvidence<'a> {
    /// The evidence about `query` from `index` (looked up at the token `floor`), for bounds that
    /// decide whether a candidate can reach `threshold`.
    pub fn new(
        index: &'a NameIndex,
        query: &'a NormName,
        floor: f32,
        threshold: f32,
    ) -> QueryEvidence<'a> {
        let unsearched = unsearched_tokens(query);
        let generic: Vec<(usize, HashMap<&str, f32>)> = query
            .tokens
            .iter()
            .enumerate()
            .take(64)
            .filter(|(i, t)| unsearched & (1 << i) != 0 && !loose(t))
            .map(|(i, t)| {
                (
                    i,
                    index.similar_entries(&t.text, floor).into_iter().collect(),
                )
            })
            .collect();
        let generic_lengths = generic
            .iter()
            .map(|(_, similar)| {
                let lengths = similar.keys().map(|t| t.len());
                (
                    lengths.clone().min().unwrap_or(usize::MAX),
                    lengths.max().unwrap_or(0),
                )
            })
            .collect();
        let generic_first = generic
            .iter()
            .map(|(_, similar)| {
                let mut bits = [0u64; 4];
                for b in similar.keys().filter_map(|t| t.as_bytes().first()) {
                    bits[usize::from(*b / 64)] |= 1 << (b % 64);
                }
                bits
            })
            .collect();
        let mut generic_at = vec![None; query.tokens.len()];
        for (g, &(k, _)) in generic.iter().enumerate() {
            generic_at[k] = Some(g);
        }
        let generic_best = generic
            .iter()
            .map(|(_, similar)| similar.values().fold(0.0, |a: f32, &b| a.max(b)))
            .collect();
        let generic_acronym = generic
            .iter()
            .map(|&(k, _)| {
                let a = query.tokens[k].text.as_bytes();
                if (2..=8).contains(&a.len()) {
                    letter_bits(a)
                } else {
                    0
                }
            })
            .collect();
        QueryEvidence {
            query,
            generic,
            generic_lengths,
            generic_first,
            generic_at,
            generic_best,
            generic_acronym,
            threshold,
        }
    }

    /// The query normalized for one kind of listed entity (`norm`; a person's `SURNAME, Given`
    /// reorders it), with where each of its tokens sits in the searched query: by text, computed
    /// once per kind rather than for every candidate.
    pub fn for_kind(&self, scorer: &Scorer, norm: NormName, kind: EntityKind) -> KindQuery {
        let positions = self.positions(&norm);
        let facts = scorer.name_facts(&norm, kind);
        // The index looked up the searched query's runs and a person's in the order the scorer
        // reads them (`candidates_in_orders`); another reading's runs only if its words are the
        // same in the same order. A token it looked up (every one but a particle or an initial,
        // and a generic word through its cached lookup) is then settled by what it found.
        let same_runs = kind == EntityKind::Person
            || norm
                .tokens
                .iter()
                .map(|t| &t.text)
                .eq(self.query.tokens.iter().map(|t| &t.text));
        let settled = if same_runs {
            positions
                .iter()
                .zip(&norm.tokens)
                .take(64)
                .enumerate()
                .filter(|(_, (p, t))| !p.always && !loose(t))
                .fold(0, |mask, (i, _)| mask | 1 << i)
        } else {
            0
        };
        // The first bound judges a query whose tokens are settled, or are particles and
        // initials (which pair only by rules it can tell from the candidate's facts).
        let judged = same_runs
            && (1..=FACT_TOKENS).contains(&norm.tokens.len())
            && norm
                .tokens
                .iter()
                .enumerate()
                .all(|(i, t)| settled & (1 << i) != 0 || loose(t));
        let first = judged.then(|| FirstQuery::of(&norm, &facts, settled, scorer, kind));
        KindQuery {
            norm,
            positions,
            facts,
            settled,
            first,
        }
    }

    fn positions(&self, q: &NormName) -> Vec<QueryPosition> {
        q.tokens
            .iter()
            .map(|t| {
                let mut p = QueryPosition {
                    mask: 0,
                    always: true,
                };
                let mut known = false;
                for (k, u) in self.query.tokens.iter().enumerate() {
                    if u.text != t.text {
                        continue;
                    }
                    known = true;
                    if k >= 64 || loose(u) {
                        return p;
                    }
                    p.mask |= 1 << k;
                }
                p.always = !known;
                p
            })
            .collect()
    }

    /// An upper bound on `scorer.score(&q.norm, candidate, kind)`, where `q` is the query for
    /// `kind` and `flags` what the index found for the candidate.
    pub fn bound(
        &self,
        scorer: &Scorer,
        q: &KindQuery,
        candidate: &NormName,
        flags: &CandidateFlags,
        kind: EntityKind,
        memo: &mut SimilarityMemo,
    ) -> f32 {
        let (q, positions, facts, settled) = (&q.norm, &q.positions, &q.facts, q.settled);
        let query = self.query;
        let person_rules = kind != EntityKind::Organization && kind != EntityKind::Vessel;
        // A person's first given name written short (Alex / Alexander) pairs by prefix.
        let first_given_short = person_rules
            && match (q.tokens.first(), candidate.tokens.first()) {
                (Some(a), Some(b)) => {
                    let (short, long) = if a.text.len() <= b.text.len() {
                        (&a.text, &b.text)
                    } else {
                        (&b.text, &a.text)
                    };
                    short.len() >= 3 && long.starts_with(short.as_str())
                }
                _ => false,
            };

        // The candidate's tokens: what the index found, raised by the generic words' matches.
        // On the stack for the usual lengths: this runs for every candidate.
        const STACK: usize = STACK_TOKENS;
        let n = candidate.tokens.len();
        let (mut c_stack, mut c_heap) = ([0f32; STACK], Vec::new());
        let c_best = stack_or_heap(&mut c_stack, &mut c_heap, n);
        for (j, t) in candidate.tokens.iter().enumerate() {
            c_best[j] = if loose(t) || (j == 0 && first_given_short) {
                1.0
            } else {
                flags.record_sim(j)
            };
        }
        let (mut g_stack, mut g_heap) = ([0f32; STACK], Vec::new());
        let generic_best = stack_or_heap(&mut g_stack, &mut g_heap, self.generic.len());
        // Inline: no allocation for the runs of most candidates.
        let mut run = compact_str::CompactString::default();
        for (g, (_, similar)) in self.generic.iter().enumerate() {
            let (shortest, longest) = self.generic_lengths[g];
            let first = &self.generic_first[g];
            let starts_one = |b: u8| first[usize::from(b / 64)] & (1 << (b % 64)) != 0;
            for start in 0..n {
                if !candidate.tokens[start]
                    .text
                    .as_bytes()
                    .first()
                    .is_some_and(|&b| starts_one(b))
                {
                    continue;
                }
                run.clear();
                for len in 1..=3.min(n - start) {
                    run.push_str(&candidate.tokens[start + len - 1].text);
                    if run.len() > longest {
                        break;
                    }
                    if run.len() < shortest {
                        continue;
                    }
                    if let Some(&sim) = similar.get(run.as_str()) {
                        generic_best[g] = generic_best[g].max(sim);
                        for b in &mut c_best[start..start + len] {
                            *b = b.max(sim);
                        }
                    }
                }
            }
        }

        // A generic word that is the acronym of a run of the candidate (the scorer's rule: 2 to 8
        // letters, 3 at least unless the whole name). Only read when there is such a word: the
        // candidate's words are far in memory, and most candidates are bounded without them.
        let acronym_like = |k: usize| (2..=8).contains(&query.tokens[k].text.len());
        let initials = if self.generic.iter().any(|&(k, _)| acronym_like(k)) {
            candidate.initials()
        } else {
            Default::default()
        };
        for (g, &(k, _)) in self.generic.iter().enumerate() {
            let a = query.tokens[k].text.as_bytes();
            if a.len() < 2 || a.len() > 8 || a.len() > initials.len() {
                continue;
            }
            for start in 0..=initials.len() - a.len() {
                let whole = start == 0 && a.len() == initials.len();
                if &initials[start..start + a.len()] != a || (a.len() < 3 && !whole) {
                    continue;
                }
                let mask = acronym_span_mask(candidate, start, start + a.len());
                generic_best[g] = 1.0;
                for (j, b) in c_best.iter_mut().enumerate().take(64) {
                    if mask & (1 << j) != 0 {
                        *b = 1.0;
                    }
                }
            }
        }

        // Query tokens are known to the index by position in `query`; `q` may order them
        // differently (a person's `SURNAME, Given`): `positions` maps them.
        let q_sim = |i: usize| {
            let p = positions[i];
            if (i == 0 && first_given_short) || p.always {
                return 1.0;
            }
            let mut best: f32 = 0.0;
            let mut bits = p.mask;
            while bits != 0 {
                let k = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                best = best.max(flags.query_sim(k));
                if let Some(g) = self.generic_at[k] {
                    best = best.max(generic_best[g]);
                }
            }
            best
        };
        // A query particle, which the index never searches, is compared here with each word of
        // the candidate nothing reached (`ABD` / `ABID`; each pair once per screened name, through
        // the memo). Words need no such pass: the scorer aligns a word the index looks up only
        // with a token its lookup finds (`score::pair_similarity`), so a query word that did
        // not reach this candidate aligns with none of its tokens. Only pairs whose lengths and
        // consonants let them reach the floor are compared ([`may_reach_floor`]).
        let mut c_free = 0u64;
        for (j, u) in candidate.tokens.iter().enumerate().take(64) {
            if word(u) && c_best[j] == 0.0 {
                c_free |= 1 << j;
            }
        }
        // Every query token (a name longer than the stack's takes the heap, and loses no pair).
        let (mut q_extra_stack, mut q_extra_heap) = ([0f32; STACK], Vec::new());
        let q_extra = stack_or_heap(&mut q_extra_stack, &mut q_extra_heap, q.tokens.len());
        if c_free != 0 {
            let mut c_extra = [0f32; 64];
            for (i, t) in q.tokens.iter().enumerate() {
                if t.class != TokenClass::Particle {
                    continue;
                }
                let mut pairs = c_free;
                while pairs != 0 {
                    let j = pairs.trailing_zeros() as usize;
                    pairs &= pairs - 1;
                    let u = &candidate.tokens[j].text;
                    if !may_reach_floor(&t.text, u) {
                        continue;
                    }
                    let sim = memo.similarity(&t.text, u);
                    if sim >= TOKEN_FLOOR {
                        q_extra[i] = q_extra[i].max(sim);
                        c_extra[j] = c_extra[j].max(sim);
                    }
                }
            }
            for (b, &extra) in c_best.iter_mut().zip(&c_extra) {
                *b = b.max(extra);
            }
        }
        let q_sim = |i: usize| q_sim(i).max(q_extra.get(i).copied().unwrap_or(0.0));
        let c_sim = |j: usize| c_best.get(j).copied().unwrap_or(1.0);
        scorer.upper_bound(
            q,
            &q_sim,
            candidate,
            &c_sim,
            kind,
            Some(Prune {
                threshold: self.threshold,
                memo,
                query: facts,
                settled,
            }),
        )
    }
}

/// Far more than the rounding of a few sums of weights, far less than any step of a score.
const ROUNDING: f32 = 1e-4;

/// Tokens of a listed name the first bound keeps facts of; a longer name is left to the full
/// bound.
pub const FACT_TOKENS: usize = 16;

/// What the first bound ([`QueryEvidence::first_bound`]) reads of one listed name: per token
/// its class, length and first letter, and the few facts of the whole name the scorer's rules
/// ask (initials, particles, word count), in one small record laid out by record id beside the
/// postings. Candidates are scattered over a large list; the full bound reads each one's
/// tokens, this reads one short record, and most candidates are dropped here.
#[derive(Debug, Clone, Copy, Default)]
pub struct RecordFacts {
    /// The name's tokens; 0 if more than [`FACT_TOKENS`] (not judged).
    tokens: u8,
    kind: EntityKind,
    /// Written in a script without short vowels ([`NormName::unvocalized`]).
    unvocalized: bool,
    /// Words of the acronym source, at most 255.
    words: u8,
    /// Initials (one per acronym word), at most 255.
    initials_len: u8,
    /// The first token's length (at most 255) and first bytes (zero-padded).
    first_len: u8,
    first_prefix: [u8; 4],
    /// The letters of the initials ([`letter_bits`]).
    initials_letters: u32,
    /// The first letters of the name's initial tokens ([`letter_bit`]).
    initial_firsts: u32,
    /// Bit l: a particle of l bytes (l < 16).
    particle_lens: u16,
    /// Bit `text_hash(p) % 32` for each particle p of the name ([`particle_bit`]).
    particle_set: u32,
    /// Bit j: token j has 2 to 8 ASCII letters (it could spell initials).
    alpha: u16,
    /// [`letters_hash`] of the name.
    letters_hash: u32,
    /// Per token: class (bits 0-2), a weak name part (bit 3), length up to 15 (bits 4-7).
    shapes: [u8; FACT_TOKENS],
    /// Per token: its first byte.
    firsts: [u8; FACT_TOKENS],
    /// Per token: a hash of its text ([`text_hash`]): equal texts, equal hashes.
    hashes: [u16; FACT_TOKENS],
}

const WEAK: u8 = 1 << 3;

/// The classes by their number in a shape byte.
const CLASSES: [TokenClass; 6] = [
    TokenClass::Word,
    TokenClass::Generic,
    TokenClass::Particle,
    TokenClass::Number,
    TokenClass::Initial,
    TokenClass::Patronymic,
];

fn class_number(class: TokenClass) -> u8 {
    CLASSES.iter().position(|&c| c == class).unwrap_or(0) as u8
}

/// A bit per ASCII letter, either case; every other byte shares bit 31. Two equal bytes have
/// the same bit, which is all the first bound asks.
fn letter_bit(b: u8) -> u32 {
    if b.is_ascii_alphabetic() {
        1 << ((b | 0x20) - b'a')
    } else {
        1 << 31
    }
}

fn letter_bits(t: &[u8]) -> u32 {
    t.iter().fold(0, |m, &b| m | letter_bit(b))
}

/// A hash of the letters the same-letters rule compares ([`crate::score::spelled_letters`]):
/// equal letters, equal hashes.
fn letters_hash(n: &NormName) -> u32 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    for b in crate::score::spelled_letters(n) {
        h.write_u8(b);
    }
    h.finish() as u32
}

/// A short hash of a token's text: a listed token spells a run of the query's initials only if
/// their hashes agree.
fn text_hash(text: &[u8]) -> u16 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write(text);
    (h.finish() >> 48) as u16
}

/// A particle's bit in [`RecordFacts::particle_set`]: equal texts, equal bits.
fn particle_bit(text: &[u8]) -> u32 {
    1 << (text_hash(text) % 32)
}

/// The bits ([`particle_bit`]) of every particle a word could be a typo of (`particle_typo`: the
/// word with one ASCII consonant taken out); none for a word longer than any particle by more
/// than that letter.
fn typo_particle_bits(word: &[u8]) -> u32 {
    const LONGEST_WORD: usize = 32;
    if word.len() > crate::text::normalize::longest_particle_len() + 1 || word.len() > LONGEST_WORD
    {
        return 0;
    }
    let mut bits = 0;
    let mut without = [0u8; LONGEST_WORD];
    for (k, &c) in word.iter().enumerate() {
        if typo_letter(c) {
            without[..k].copy_from_slice(&word[..k]);
            without[k..word.len() - 1].copy_from_slice(&word[k + 1..]);
            bits |= particle_bit(&without[..word.len() - 1]);
        }
    }
    bits
}

impl RecordFacts {
    pub fn of(n: &NormName, kind: EntityKind) -> RecordFacts {
        let cap = |v: usize| v.min(255) as u8;
        let mut f = RecordFacts {
            kind,
            ..RecordFacts::default()
        };
        if n.tokens.is_empty() || n.tokens.len() > FACT_TOKENS {
            return f;
        }
        f.tokens = n.tokens.len() as u8;
        f.unvocalized = n.unvocalized;
        f.words = cap(crate::score::word_count(n));
        let initials = n.initials();
        f.initials_len = cap(initials.len());
        f.initials_letters = letter_bits(&initials);
        let first = n.tokens[0].text.as_bytes();
        f.first_len = cap(first.len());
        for (p, &b) in f.first_prefix.iter_mut().zip(first) {
            *p = b;
        }
        f.letters_hash = letters_hash(n);
        for (j, t) in n.tokens.iter().enumerate() {
            let bytes = t.text.as_bytes();
            let weak = t.class == TokenClass::Word && crate::score::weak_name_part(n, j);
            f.shapes[j] = class_number(t.class)
                | if weak { WEAK } else { 0 }
                | (bytes.len().min(15) as u8) << 4;
            f.firsts[j] = bytes.first().copied().unwrap_or(0);
            f.hashes[j] = text_hash(bytes);
            match t.class {
                TokenClass::Particle => {
                    f.particle_set |= particle_bit(bytes);
                    // A particle too long for the mask pairs with a word of any length.
                    f.particle_lens |= 1u16.checked_shl(bytes.len() as u32).unwrap_or(u16::MAX);
                }
                TokenClass::Initial => f.initial_firsts |= letter_bit(f.firsts[j]),
                _ => {}
            }
            if could_spell_initials(t.text.as_bytes()) {
                f.alpha |= 1 << j;
            }
        }
        f
    }

    /// The kind of the listed entity the name belongs to.
    pub fn kind(&self) -> EntityKind {
        self.kind
    }

    fn class(&self, j: usize) -> TokenClass {
        CLASSES[usize::from(self.shapes[j] & 7)]
    }

    /// Token `j`'s length, exact up to 15.
    fn len(&self, j: usize) -> usize {
        usize::from(self.shapes[j] >> 4)
    }
}

impl FirstQuery {
    fn of(
        q: &NormName,
        facts: &NameFacts,
        settled: u64,
        scorer: &Scorer,
        kind: EntityKind,
    ) -> FirstQuery {
        let unsettled = !settled & span_bits(q.tokens.len());
        let unsettled_tokens = || {
            q.tokens
                .iter()
                .enumerate()
                .filter(move |(i, _)| unsettled & (1 << i) != 0)
                .map(|(_, t)| t)
        };
        let particle_lens: Vec<usize> = unsettled_tokens()
            .filter(|t| t.class == TokenClass::Particle)
            .map(|t| t.text.len())
            .collect();
        // The distance's length gate, or one letter more (a typo of the particle).
        let gate = |p: usize, len: usize| comparable(p, len) || len == p + 1;
        let mut particle_gate_lens = 0u16;
        if !particle_lens.is_empty() {
            particle_gate_lens |= 1 << 15;
        }
        for len in 0..15 {
            if particle_lens.iter().any(|&p| gate(p, len)) {
                particle_gate_lens |= 1 << len;
            }
        }
        let longest = particle_lens.iter().copied().max().unwrap_or(0);
        let particle_run_max = (longest..=longest * 2)
            .take_while(|&run| comparable(run, longest))
            .last()
            .unwrap_or(0);
        let mut lens = [0u8; FACT_TOKENS];
        for (l, t) in lens.iter_mut().zip(&q.tokens) {
            *l = t.text.len().min(255) as u8;
        }
        let typo_bits: Vec<u32> = q
            .tokens
            .iter()
            .map(|t| {
                if t.class == TokenClass::Word {
                    typo_particle_bits(t.text.as_bytes())
                } else {
                    0
                }
            })
            .collect();
        let initial_letters = unsettled_tokens()
            .filter(|t| t.class == TokenClass::Initial)
            .filter_map(|t| t.text.as_bytes().first())
            .fold(0, |m, &b| m | letter_bit(b));
        let spells: Vec<u32> = q
            .tokens
            .iter()
            .map(|t| {
                if could_spell_initials(t.text.as_bytes()) {
                    letter_bits(t.text.as_bytes())
                } else {
                    0
                }
            })
            .collect();
        let initial_bit = q
            .tokens
            .iter()
            .map(|t| match t.class {
                TokenClass::Word | TokenClass::Patronymic => {
                    t.text.as_bytes().first().map_or(0, |&b| letter_bit(b))
                }
                _ => 0,
            })
            .collect();
        let initials = facts.initials();
        let mut initial_runs = Vec::new();
        let mut initial_run_letters = [0u32; 9];
        let longest_run = 8.min(facts.words()).min(initials.len());
        for (len, letters) in initial_run_letters
            .iter_mut()
            .enumerate()
            .take(longest_run + 1)
            .skip(2)
        {
            for (start, run) in initials.windows(len).enumerate() {
                let mask = acronym_span_mask(q, start, start + len);
                if mask != 0 {
                    initial_runs.push((len, text_hash(run), mask));
                    *letters |= letter_bit(run[0]);
                }
            }
        }
        let person_rules = kind != EntityKind::Organization && kind != EntityKind::Vessel;
        let shape_costs = std::array::from_fn(|key| {
            let Some(&class) = CLASSES.get(key & 7) else {
                return ShapeCost::default();
            };
            let len = if key & 16 != 0 { 2 } else { 3 };
            let weight = scorer.class_weight(len, class);
            ShapeCost {
                weight,
                cost: scorer.left_cost(class, weight, person_rules, kind, || {
                    key & usize::from(WEAK) != 0
                }),
                loose: crate::score::pairs_unlooked(class),
            }
        });
        FirstQuery {
            spell_letters: spells.iter().fold(0, |m, &b| m | b),
            spells,
            initial_bit,
            initial_runs,
            initial_run_letters,
            shape_costs,
            letters_hash: letters_hash(q),
            unsettled,
            particle_gate_lens,
            particle_run_max,
            typo_union: typo_bits.iter().fold(0, |m, &b| m | b),
            typo_bits,
            lens,
            initial_letters,
        }
    }
}

impl QueryEvidence<'_> {
    /// The query's tokens that are not settled align as the full bound takes them, exactly; a
    /// token of the candidate aligns exactly if one of them could pair with it as the
    /// scorer pairs a particle or an initial (`candidate_pairs`): a token whose length passes
    /// the distance's length gate with a particle's, or one letter longer (a particle typo),
    /// in a run of two or three whose length is comparable with a particle's, or (with
    /// `person_rules`) a word of an initial's letter.
    fn unsettled_pairs(
        &self,
        first: &FirstQuery,
        f: &RecordFacts,
        person_rules: bool,
        qs: &mut [f32],
        cs: &mut [f32],
    ) {
        let mut bits = first.unsettled;
        while bits != 0 {
            qs[bits.trailing_zeros() as usize] = 1.0;
            bits &= bits - 1;
        }
        let n = cs.len();
        // (A pair by these rules may raise a token the index reached, to 1.)
        for (j, c) in cs.iter_mut().enumerate() {
            if *c >= 1.0 {
                continue;
            }
            let len = f.len(j);
            let by_initial = person_rules
                && matches!(f.class(j), TokenClass::Word | TokenClass::Patronymic)
                && letter_bit(f.firsts[j]) & first.initial_letters != 0;
            // A run holding the token is at least as long as the token with its shorter
            // neighbour (a run of three holds a run of two that holds it); a capped length is at
            // most the real one.
            let neighbour = match (j.checked_sub(1), (j + 1 < n).then_some(j + 1)) {
                (Some(a), Some(b)) => Some(f.len(a).min(f.len(b))),
                (a, b) => a.or(b).map(|k| f.len(k)),
            };
            let by_particle = first.particle_gate_lens & (1 << len) != 0
                || neighbour.is_some_and(|k| len + k <= first.particle_run_max);
            if by_initial || by_particle {
                *c = 1.0;
            }
        }
    }

    /// A first bound on `scorer.score(&q.norm, candidate, kind)` from the index's flags and the
    /// candidate's [`RecordFacts`] alone, never below [`QueryEvidence::bound`]: 1 where it
    /// does not judge. It judges a query whose every token is settled (see [`Prune::settled`]),
    /// where the full bound's decision is the score's own formula
    /// ([`Scorer::settled_bound`]) over the similarities it gathers; here every similarity the
    /// full bound would read from the candidate's tokens is taken at its best wherever the
    /// facts cannot rule the pair out (a generic word's match by first letters, an initials
    /// rule by letters and lengths), and a higher similarity only raises that formula.
    pub fn first_bound(
        &self,
        scorer: &Scorer,
        q: &KindQuery,
        f: &RecordFacts,
        flags: &CandidateFlags,
        kind: EntityKind,
    ) -> f32 {
        let n = usize::from(f.tokens);
        let Some(first) = &q.first else {
            return 1.0;
        };
        let Some(q_weights) = q.facts.weights_for(kind) else {
            return 1.0;
        };
        if n == 0 || q.norm.unvocalized != f.unvocalized {
            return 1.0;
        }
        let person_rules = kind != EntityKind::Organization && kind != EntityKind::Vessel;
        let person = kind == EntityKind::Person;
        let qt = &q.norm.tokens;
        let m = qt.len();
        let (mut qs, mut cs) = ([0f32; FACT_TOKENS], [0f32; FACT_TOKENS]);

        // The query's generic words: matched wherever a run of the candidate starts with a
        // letter one of their similar texts starts with and has a length between theirs, or
        // spelled by its initials. (A capped length is at most the real one: a run over the
        // longest is; one under the shortest only if no length is capped.)
        // (At most 64 generic words: `new` takes the first 64 tokens.)
        let mut generic_best = [0f32; 64];
        for (g, bits) in self.generic_first.iter().enumerate() {
            let best = self.generic_best[g];
            let (shortest, longest) = self.generic_lengths[g];
            if best > 0.0 {
                for start in 0..n {
                    let b = f.firsts[start];
                    if bits[usize::from(b / 64)] & (1 << (b % 64)) == 0 {
                        continue;
                    }
                    let (mut len, mut capped) = (0, false);
                    for end in start + 1..=(start + 3).min(n) {
                        len += f.len(end - 1);
                        capped |= f.len(end - 1) >= 15;
                        if len > longest {
                            break;
                        }
                        if len < shortest && !capped {
                            continue;
                        }
                        generic_best[g] = best;
                        for c in &mut cs[start..end] {
                            *c = larger(*c, best);
                        }
                    }
                }
            }
            let letters = self.generic_acronym[g];
            let len = self.query.tokens[self.generic[g].0].text.len();
            if letters != 0
                && len <= usize::from(f.initials_len)
                && letters & !f.initials_letters == 0
            {
                generic_best[g] = 1.0;
                cs[..n].fill(1.0);
            }
        }
        for (i, s) in qs[..m].iter_mut().enumerate() {
            let mut bits = q.positions[i].mask;
            while bits != 0 {
                let k = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                *s = larger(*s, flags.query_sim(k));
                if let Some(g) = self.generic_at[k] {
                    *s = larger(*s, generic_best[g]);
                }
            }
        }
        // Each token's weight and cost, found once for the two loops that read them.
        let mut shape_costs = [&first.shape_costs[0]; FACT_TOKENS];
        for (j, c) in cs[..n].iter_mut().enumerate() {
            let shape = &first.shape_costs[shape_key(f.shapes[j])];
            shape_costs[j] = shape;
            *c = if shape.loose {
                1.0
            } else {
                larger(*c, flags.record_sim(j))
            };
        }
        if first.unsettled != 0 {
            self.unsettled_pairs(first, f, person_rules, &mut qs[..m], &mut cs[..n]);
        }

        // A person's first given name written short, by the first bytes.
        if person_rules {
            let a = qt[0].text.as_bytes();
            let shortest = a.len().min(usize::from(f.first_len));
            let k = shortest.min(4);
            if shortest >= 3 && a[..k] == f.first_prefix[..k] {
                qs[0] = 1.0;
                cs[0] = 1.0;
            }
        }
        // The pairs the index does not look for (`unsearched_pairs`): the query has no
        // particle or initial, so a query word with a listed particle one letter shorter, with
        // a listed initial of its first letter, or spelling the listed initials; a listed
        // token spelling the query's.
        // (Most candidates have none of these: the query's facts rule them out at once.)
        if f.particle_set & first.typo_union != 0 {
            for (i, &bits) in first.typo_bits.iter().enumerate() {
                // One byte longer than a particle of the name, and one of its texts' bits.
                let len = usize::from(first.lens[i]);
                if bits & f.particle_set != 0
                    && (1..=16).contains(&len)
                    && f.particle_lens & (1 << (len - 1)) != 0
                {
                    qs[i] = 1.0;
                }
            }
        }
        if person_rules && f.initial_firsts != 0 {
            for (i, &bit) in first.initial_bit.iter().enumerate() {
                if bit & f.initial_firsts != 0 {
                    qs[i] = 1.0;
                }
            }
        }
        if person && first.spell_letters != 0 {
            for (i, &spells) in first.spells.iter().enumerate() {
                let len = usize::from(first.lens[i]);
                if spells != 0
                    && len <= usize::from(f.words)
                    && len <= usize::from(f.initials_len)
                    && spells & !f.initials_letters == 0
                {
                    qs[i] = 1.0;
                    cs[..n].fill(1.0);
                }
            }
        }
        if person && f.alpha != 0 {
            for (j, c) in cs[..n].iter_mut().enumerate() {
                if f.alpha & (1 << j) == 0 {
                    continue;
                }
                let len = f.len(j);
                if len > 8 || first.initial_run_letters[len] & letter_bit(f.firsts[j]) == 0 {
                    continue;
                }
                for &(l, hash, mask) in &first.initial_runs {
                    if l == len && hash == f.hashes[j] {
                        *c = 1.0;
                        let mut bits = mask;
                        while bits != 0 {
                            qs[bits.trailing_zeros() as usize] = 1.0;
                            bits &= bits - 1;
                        }
                    }
                }
            }
        }

        // As `Scorer::bound_parts`: the evidence of what can align, the cost of what cannot.
        let (mut can_match, mut left_q, mut left_c) = (0.0, 0.0, 0.0);
        for (i, &s) in qs[..m].iter().enumerate() {
            if s > 0.0 {
                can_match += scorer.evidence_bound(s) * q_weights[i];
            } else {
                left_q += q_weights[m + i];
            }
        }
        for (&s, c) in cs[..n].iter().zip(&shape_costs) {
            if s > 0.0 {
                can_match += scorer.evidence_bound(s) * c.weight;
            } else {
                left_c += c.cost;
            }
        }
        // Raised by a margin of rounding: its sums run in another order than the full bound's,
        // and a candidate whose full bound is the threshold exactly (2 / 2.5) must not be
        // dropped for its last bit.
        let bound = scorer.settled_bound(can_match, left_q, left_c, person_rules) + ROUNDING;
        // The one rule that raises a score: the same letters spaced differently.
        if bound < self.threshold && f.letters_hash == first.letters_hash {
            return 1.0;
        }
        bound
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Watchlist;
    use crate::score::Weights;
    use crate::text::normalize;

    /// Every candidate of `query` (screened as `kind`) against `listed`: its name, the first
    /// bound and the full bound, as the screener computes them for `threshold`.
    fn bounds(
        listed: &[&str],
        kind: EntityKind,
        query: &str,
        threshold: f32,
    ) -> Vec<(String, f32, f32)> {
        let wl = Watchlist::from_names(kind, listed.iter().copied());
        let index = NameIndex::build(&wl);
        let scorer = Scorer::new(Weights::default());
        let searched = normalize(query, EntityKind::Unknown);
        let evidence = QueryEvidence::new(&index, &searched, TOKEN_FLOOR, threshold);
        let kq = evidence.for_kind(&scorer, normalize(query, kind), kind);
        let mut memo = SimilarityMemo::default();
        let person = normalize(query, EntityKind::Person);
        index
            .candidates_in_orders(&searched, &[&person], TOKEN_FLOOR)
            .into_iter()
            .map(|(rid, flags)| {
                let rec = &index.records[rid as usize];
                let first =
                    evidence.first_bound(&scorer, &kq, index.record_facts(rid), &flags, kind);
                let full = evidence.bound(&scorer, &kq, &rec.norm, &flags, kind, &mut memo);
                (
                    wl.entities[rec.entity as usize].names[0].text.clone(),
                    first,
                    full,
                )
            })
            .collect()
    }

    #[test]
    fn facts_keep_classes_lengths_and_particles() {
        let n = normalize("Abu Bakr al-Baghdadi", EntityKind::Person);
        let f = RecordFacts::of(&n, EntityKind::Person);
        assert_eq!(usize::from(f.tokens), n.tokens.len());
        for (j, t) in n.tokens.iter().enumerate() {
            assert_eq!(f.class(j), t.class, "{}", t.text);
            assert_eq!(f.len(j), t.text.len().min(15), "{}", t.text);
            assert_eq!(f.firsts[j], t.text.as_bytes()[0]);
        }
        let particles: u32 = n
            .tokens
            .iter()
            .filter(|t| t.class == TokenClass::Particle)
            .fold(0, |m, t| m | particle_bit(t.text.as_bytes()));
        assert_ne!(particles, 0, "{n:?}");
        assert_eq!(f.particle_set, particles);
        // `xal` may be a typo of `al` (a consonant added); `ali` only of `ai` (its vowels stay).
        assert_ne!(typo_particle_bits(b"xal") & particle_bit(b"al"), 0);
        assert_eq!(typo_particle_bits(b"ali"), particle_bit(b"ai"));
        // A word longer than every particle by more than a letter is a typo of none.
        let longest = crate::text::normalize::longest_particle_len();
        assert!((3..=8).contains(&longest), "{longest}");
        let long_word = vec![b'x'; longest + 2];
        assert_eq!(typo_particle_bits(&long_word), 0);
        assert_eq!(f.kind(), EntityKind::Person);
        // One small record a listed name (ARCHITECTURE.md gives its size).
        assert_eq!(std::mem::size_of::<RecordFacts>(), 96);
        // A name longer than the facts keep is not judged.
        let long = normalize(
            &["word"; FACT_TOKENS + 1].join(" x"),
            EntityKind::Organization,
        );
        assert_eq!(RecordFacts::of(&long, EntityKind::Organization).tokens, 0);
    }

    /// The bounds decide against a threshold: where the first drops a candidate, the full
    /// one must too (their values below the threshold may differ).
    fn assert_first_keeps_what_full_keeps(got: &[(String, f32, f32)], threshold: f32, query: &str) {
        for (name, first, full) in got {
            assert!(
                *first >= threshold || *full < threshold,
                "{query} / {name} at {threshold}: first {first}, full {full}"
            );
        }
    }

    /// A name sharing one word with the query is dropped by the first bound; the listed name
    /// itself is not.
    #[test]
    fn first_bound_drops_names_that_share_one_word() {
        let listed = [
            "Baltic Pune Engineering",
            "Pune Holdings Trust",
            "Volga Pune",
        ];
        let query = "Baltic Pune Engineering";
        let got = bounds(&listed, EntityKind::Organization, query, 0.8);
        assert_eq!(got.len(), 3, "{got:?}");
        assert_first_keeps_what_full_keeps(&got, 0.8, query);
        for (name, first, _) in &got {
            if name == query {
                assert!(*first >= 0.99, "{name}: {first}");
            } else {
                assert!(*first < 0.6, "{name}: {first}");
            }
        }
    }

    /// A listed token spells a run of the query's initials only if it is that run: sharing its
    /// length and first letters (`al` and the initials `at` of `Anschorut Tauhid`, `islam` and
    /// `isily`) keeps no candidate. A generic word's similar texts pair only with runs of their
    /// lengths.
    #[test]
    fn first_bound_reads_initials_runs_and_generic_runs_exactly() {
        let cases = [
            (
                "AL-TAMIMI, Muhannad Juma Y",
                "JEMMAH ANSCHORUT TAUHID",
                EntityKind::Person,
            ),
            (
                "AL-SURIR, Abu Islam",
                "ISLAMIK STATE OF IRAQ AND THE LEVANT IN YEMEN",
                EntityKind::Person,
            ),
            ("KIM, Ki Nam", "KIM Son-kwang", EntityKind::Person),
        ];
        for (listed, query, kind) in cases {
            let got = bounds(&[listed], kind, query, 0.8);
            assert_eq!(got.len(), 1, "{query}: {got:?}");
            let (_, first, full) = &got[0];
            assert!(*full < 0.8, "{query} / {listed}: full {full}");
            assert!(*first < 0.8, "{query} / {listed}: first {first}");
        }
        // The listed initials spelled: kept.
        let got = bounds(&["JSC"], EntityKind::Person, "John Smith Carter", 0.8);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].1 >= 0.8, "{got:?}");
        assert_first_keeps_what_full_keeps(&got, 0.8, "John Smith Carter");
    }

    /// Full bounds at the threshold exactly (2 / 2.5): the first bound's sums, in another
    /// order, must not drop them for a last bit.
    #[test]
    fn first_bound_keeps_candidates_at_the_threshold_exactly() {
        let listed = [
            "VERANILLO Y CIA. S. EN C.",
            "INVERSIONES A&E",
            "AL-QARD AL-HASSAN ASSOCIATION",
        ];
        let mut at_threshold = 0;
        for query in [
            "VERANILLO S.A.",
            "INVERSIONES MALAMAR R, C.A.",
            "GHUL, Hassan",
        ] {
            let got = bounds(&listed, EntityKind::Organization, query, 0.8);
            at_threshold += got.iter().filter(|(_, _, full)| *full == 0.8).count();
            assert_first_keeps_what_full_keeps(&got, 0.8, query);
        }
        assert!(at_threshold >= 2, "{at_threshold}");
    }

    /// The first bound stays at or above the full bound where the query has an initial or a
    /// particle, which pair with what the index never reports (`M.` with `MOUSTAFA`).
    #[test]
    fn first_bound_is_never_below_the_full_bound_for_initials_and_particles() {
        let listed = [
            "MOUSTAFA",
            "HADI, Abdul",
            "ABU ALA",
            "EL ALEMAN",
            "AHMED, Ahmed",
            "HO, Yong Il",
        ];
        let mut candidates = 0;
        for query in [
            "ALMDANI, Mustafa Mohammed M.",
            "ALAQEEL, Aqeel Abdulaziz A.",
            "TUBAIGY, Salah Muhammed A.",
            "A RAHMAN, Mohamad Iqbal",
            "ALTALHI, Abdulrheem Hammad A",
            "TRINIDAD Y RAMIREZ, Angelo",
            "Abu al-Hadi",
        ] {
            for threshold in [0.5, 0.6, 0.7, 0.8, 0.9] {
                let got = bounds(&listed, EntityKind::Person, query, threshold);
                candidates += got.len();
                assert_first_keeps_what_full_keeps(&got, threshold, query);
            }
        }
        assert!(candidates >= 25, "{candidates}");
    }
}
