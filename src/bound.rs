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
use crate::score::{stack_or_heap, NameFacts, Prune, Scorer, STACK_TOKENS};
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
        QueryEvidence {
            query,
            generic,
            generic_lengths,
            generic_first,
            generic_at,
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
        KindQuery {
            norm,
            positions,
            facts,
            settled,
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
