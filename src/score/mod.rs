//! Name-to-name scoring with an explanation.
//!
//! Two normalized names are aligned token by token: each pair of tokens (or a run of two or three
//! tokens against one joined token, for Trade Tools / Tradetools; or a token against the initials of
//! a run, for CASIC; or an initial against a given name) whose similarity reaches
//! [`distance::TOKEN_FLOOR`] is a candidate pair, and the best non-overlapping pairs are taken
//! greedily. The score is the weighted share of aligned evidence: distinctive words weigh more than
//! generic ones (Bank, Trade), particles and initials; tokens left over on one side only (a missing
//! middle name, an extra generic word) cost less than tokens left over on both sides, which
//! contradict each other. Legal forms are compared by family as weak evidence; numbers must agree;
//! a match on generic words alone is capped below any alert, and so is a person matched on
//! initials alone. In person names, the names on either side of a lineage particle (`X bin Y`: X,
//! son of Y) must stay on their side: swapped, they name the father for the son.
//!
//! Not here: finding which listed names to compare (`index`), or what a score means for a
//! decision (`policy`).

pub mod distance;

use std::fmt;

use serde::Serialize;

use crate::index::lookup_finds;
use crate::model::EntityKind;
use crate::text::folded::{join_key_into, within_one_edit};
use crate::text::{
    has_parenthesised_part, is_lineage_particle, name_variants, normalize, NormName, TokenClass,
};
use distance::{token_similarity, SimilarityMemo, MIN_LENGTH_RATIO, TOKEN_FLOOR};

/// How an aligned pair was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PairKind {
    Exact,
    Fuzzy,
    /// A run of tokens on one side joined into one token on the other.
    Joined,
    /// A token on one side is the initials of a run on the other.
    Acronym,
    /// An initial on one side, a name starting with it on the other.
    Initial,
}

/// Two aligned spans: the party's tokens and the listed name's tokens.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlignedPair {
    pub query: String,
    pub candidate: String,
    pub similarity: f32,
    pub kind: PairKind,
}

/// The score of one name against another and why.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct NameMatch {
    pub score: f32,
    pub pairs: Vec<AlignedPair>,
    pub unmatched_query: Vec<String>,
    pub unmatched_candidate: Vec<String>,
    /// What raised or lowered the score beyond the alignment.
    pub notes: Vec<String>,
}

impl fmt::Display for NameMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pairs: Vec<String> = self
            .pairs
            .iter()
            .map(|p| {
                if p.kind == PairKind::Exact {
                    p.query.clone()
                } else {
                    format!(
                        "{}~{} ({:?} {:.2})",
                        p.query, p.candidate, p.kind, p.similarity
                    )
                    .to_lowercase()
                }
            })
            .collect();
        write!(f, "aligned [{}]", pairs.join(", "))?;
        if !self.unmatched_query.is_empty() {
            write!(f, "; only in party [{}]", self.unmatched_query.join(" "))?;
        }
        if !self.unmatched_candidate.is_empty() {
            write!(
                f,
                "; only in listed name [{}]",
                self.unmatched_candidate.join(" ")
            )?;
        }
        for n in &self.notes {
            write!(f, "; {n}")?;
        }
        Ok(())
    }
}

/// Scoring weights. The defaults are calibrated on labelled name pairs (see BENCHMARKS.md).
#[derive(Debug, Clone, Copy)]
pub struct Weights {
    pub word: f32,
    pub short_word: f32,
    pub generic: f32,
    pub particle: f32,
    pub number: f32,
    pub initial: f32,
    pub patronymic: f32,
    /// Cost factor of a token present on one side only, for persons and for others.
    pub missing_person: f32,
    pub missing_other: f32,
    /// Cost factor of tokens left over on both sides (they contradict each other).
    pub conflict: f32,
    /// Subtracted when both names have legal forms of different families (AG vs GmbH).
    pub legal_form_conflict: f32,
    /// The score cap when only generic words, particles or initials agree.
    pub generic_only_cap: f32,
    /// Weight of a generic word left over on one side: an extra "Trust Company" or "Systems"
    /// says more about being a different entity than a matched one says about being the same.
    pub generic_unmatched: f32,
    /// Fuzzy token similarities are raised to this power: a 0.75 token is weak evidence.
    pub fuzzy_exponent: f32,
    /// The score cap when the names around a lineage particle are swapped (`Salman bin
    /// Muhammad` vs `Muhammad bin Salman`): father and son, two people, below any alert.
    pub lineage_swap_cap: f32,
    /// The score cap of two organization names that differ only in series numbers (`Fund VII`
    /// / `Fund VIII`): sibling entities, in the review band, never blocked on the name alone.
    pub series_sibling_cap: f32,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            word: 1.0,
            short_word: 0.6,
            generic: 0.35,
            particle: 0.3,
            number: 1.0,
            initial: 0.4,
            patronymic: 0.6,
            missing_person: 0.35,
            missing_other: 0.5,
            conflict: 1.5,
            legal_form_conflict: 0.12,
            generic_only_cap: 0.5,
            generic_unmatched: 0.7,
            fuzzy_exponent: 1.0,
            lineage_swap_cap: 0.7,
            series_sibling_cap: 0.82,
        }
    }
}

/// Compares two names as written (both normalized as `kind`); a name with a parenthesised
/// part is also compared without it and as that part alone, and the best reading wins.
pub fn compare_names(a: &str, b: &str, kind: EntityKind) -> NameMatch {
    Scorer::new(Weights::default()).compare_names(a, b, kind)
}

impl Scorer {
    /// As [`compare_names`], with this scorer's weights. When both names carry a parenthesised
    /// qualifier (`Bank of China (Hong Kong)` vs `Bank of China (Singapore)`), they are read as
    /// written only: two qualifiers are two branches, and the qualifiers must be compared.
    pub fn compare_names(&self, a: &str, b: &str, kind: EntityKind) -> NameMatch {
        let scorer = self;
        let both_qualified = has_parenthesised_part(a) && has_parenthesised_part(b);
        let variants = |name: &str| {
            if both_qualified {
                vec![name.to_string()]
            } else {
                name_variants(name)
            }
        };
        let mut best = NameMatch::default();
        for va in variants(a) {
            let na = normalize(&va, kind);
            for vb in variants(b) {
                let m = scorer.compare(&na, &normalize(&vb, kind), kind);
                if m.score > best.score || best.pairs.is_empty() && !m.pairs.is_empty() {
                    best = m;
                }
            }
        }
        best
    }
}

/// Compares a party's normalized name (`query`) with a listed one (`candidate`).
pub fn compare(query: &NormName, candidate: &NormName, kind: EntityKind) -> NameMatch {
    Scorer::new(Weights::default()).compare(query, candidate, kind)
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    q: (usize, usize),
    c: (usize, usize),
    sim: f32,
    kind: PairKind,
}

pub struct Scorer {
    pub weights: Weights,
}

/// Names of up to this many tokens keep the bound's per-token scratch on the stack.
pub(crate) const STACK_TOKENS: usize = 16;

/// The first `n` floats of `stack`, or of `heap` (grown to `n`, zeroed) when `stack` is too
/// short: per-candidate scratch without an allocation for the usual name lengths.
pub(crate) fn stack_or_heap<'a>(
    stack: &'a mut [f32],
    heap: &'a mut Vec<f32>,
    n: usize,
) -> &'a mut [f32] {
    if n <= stack.len() {
        &mut stack[..n]
    } else {
        heap.resize(n, 0.0);
        heap
    }
}

/// What [`Scorer::upper_bound`] decides: whether a candidate can reach `threshold`, comparing
/// the tokens it must through `memo` (the screened name's), with what the pair rules read of
/// the screened name computed once (`query`).
pub struct Prune<'m> {
    pub threshold: f32,
    pub memo: &'m mut SimilarityMemo,
    pub query: &'m NameFacts,
    /// The query's tokens (a bit each, of the first 64) whose similarities `q_sim` gives are
    /// all the scorer can find for them: an index looked them and their runs up, and the
    /// scorer aligns such a token with nothing its lookup does not find (`pair_similarity`).
    /// Left at 0 they stay 0, and the tight step does not compare them again.
    pub settled: u64,
}

/// What the pair rules read of a name compared with many others (a screened party's), computed
/// once rather than for each candidate: its word count and initials, and (from
/// [`Scorer::name_facts`]) its tokens' weights for one kind of listed entity.
pub struct NameFacts {
    words: usize,
    initials: crate::text::Initials,
    /// The kind `weights` were worked out for, and the weights as [`Scorer::token_weights`]
    /// gives them when no token has a similarity yet (each token's weight, then its cost when
    /// left over); empty from [`NameFacts::of`].
    weights: Option<(EntityKind, Vec<f32>)>,
}

impl NameFacts {
    pub fn of(n: &NormName) -> NameFacts {
        NameFacts {
            words: word_count(n),
            initials: n.initials(),
            weights: None,
        }
    }

    /// The name's word count (as many as its initials).
    pub(crate) fn words(&self) -> usize {
        self.words
    }

    /// The name's initials.
    pub(crate) fn initials(&self) -> &[u8] {
        &self.initials
    }

    /// Each token's weight then its cost when left over, if worked out for `kind`.
    pub(crate) fn weights_for(&self, kind: EntityKind) -> Option<&[f32]> {
        match &self.weights {
            Some((k, weights)) if *k == kind => Some(weights),
            _ => None,
        }
    }
}

impl Scorer {
    pub fn new(weights: Weights) -> Self {
        Scorer { weights }
    }

    /// [`NameFacts::of`] `n`, with its tokens' weights when compared as `kind`: the screened
    /// name's are the same for every candidate of that kind.
    pub fn name_facts(&self, n: &NormName, kind: EntityKind) -> NameFacts {
        let person_rules = kind != EntityKind::Organization && kind != EntityKind::Vessel;
        let mut weights = vec![0.0; 2 * n.tokens.len()];
        self.token_weights(
            n,
            &vec![0.0; n.tokens.len()],
            person_rules,
            kind,
            &mut weights,
        );
        NameFacts {
            weights: Some((kind, weights)),
            ..NameFacts::of(n)
        }
    }

    fn weight(&self, text: &str, class: TokenClass) -> f32 {
        self.class_weight(text.len(), class)
    }

    /// A token's weight as evidence, from its class and length (`len` bytes) alone.
    pub(crate) fn class_weight(&self, len: usize, class: TokenClass) -> f32 {
        let w = &self.weights;
        match class {
            TokenClass::Word if len <= 2 => w.short_word,
            TokenClass::Word => w.word,
            TokenClass::Generic => w.generic,
            TokenClass::Particle => w.particle,
            TokenClass::Number => w.number,
            TokenClass::Initial => w.initial,
            TokenClass::Patronymic => w.patronymic,
        }
    }

    /// An upper bound on `compare(q, c, kind).score` when query token i can align with at best
    /// similarity `q_sim(i)` and candidate token j with at best `c_sim(j)` (0: cannot align).
    /// A pair's evidence is its similarity times its tokens' weights, so the evidence N is at
    /// most the sum of similarity times weight over both names' tokens; tokens that cannot align
    /// are left over and cost at least the missing-token factor times the larger side's weight P
    /// (`2·conflict·min + missing·|difference| >= missing·max`); and N / (M + P) with matched
    /// weight M >= N is at most N / (N + P). Later adjustments only lower a score, except the
    /// same-letters rule, whose names reach each other exactly (similarity 1).
    ///
    /// With `prune`, the bound is made tight where that decides whether the candidate reaches
    /// `prune.threshold`. The loose bound above charges the tokens the index did not pair as
    /// left over on one side only (`missing·max`), since the index's evidence is not all the
    /// scorer reads (a particle it never searches, a run, a generic word's match); the score
    /// charges tokens left over on both sides as a conflict, up to seventeen times more. So
    /// when the loose bound reaches the threshold but the score's own penalty would not, the
    /// tokens no pair reached are compared here one at a time, heaviest first, as the scorer
    /// would compare them (through the memo): against every token of the other name, in runs
    /// of two or three against its tokens, and against its runs; those `prune.settled` says
    /// nothing more can pair are not. A token still unpaired is left over whatever the scorer
    /// aligns, and once those charged as the score charges them (`2·conflict·min +
    /// missing·|difference|`, the tokens not compared yet counted as aligned exactly) keep the
    /// candidate below the threshold, it is dropped.
    pub fn upper_bound(
        &self,
        q: &NormName,
        q_sim: &dyn Fn(usize) -> f32,
        c: &NormName,
        c_sim: &dyn Fn(usize) -> f32,
        kind: EntityKind,
        prune: Option<Prune>,
    ) -> f32 {
        let person_rules = kind != EntityKind::Organization && kind != EntityKind::Vessel;
        // Consonant skeletons (see `skeleton_similarity`) align tokens the index does not reach
        // as written: no bound but the trivial one.
        if q.unvocalized != c.unvocalized {
            return 1.0;
        }
        // Pairs the index does not search for (a particle typo, a person's initials for a run)
        // can align whatever the index saw.
        let q_facts = prune.as_ref().map(|p| p.query);
        let (q_loose, c_loose) =
            unsearched_pairs(q, q_facts, c, kind == EntityKind::Person, person_rules);
        // Per token: the best similarity, then the weights (see `token_weights`); on the stack
        // for the usual lengths, since this runs for every candidate.
        let (mut q_stack, mut c_stack) = ([0f32; 3 * STACK_TOKENS], [0f32; 3 * STACK_TOKENS]);
        let (mut q_heap, mut c_heap) = (Vec::new(), Vec::new());
        let (qs, qw) = stack_or_heap(&mut q_stack, &mut q_heap, 3 * q.tokens.len())
            .split_at_mut(q.tokens.len());
        let (cs, cw) = stack_or_heap(&mut c_stack, &mut c_heap, 3 * c.tokens.len())
            .split_at_mut(c.tokens.len());
        // Tokens past the 64 a mask holds count as aligned, as the index's flags give them.
        let aligned = |mask: u64, i: usize| i >= 64 || mask & (1 << i) != 0;
        for (i, s) in qs.iter_mut().enumerate() {
            *s = if aligned(q_loose, i) { 1.0 } else { q_sim(i) };
        }
        for (j, s) in cs.iter_mut().enumerate() {
            *s = if aligned(c_loose, j) { 1.0 } else { c_sim(j) };
        }
        match q_facts.and_then(|f| f.weights_for(kind)) {
            Some(weights) if weights.len() == qw.len() => qw.copy_from_slice(weights),
            _ => self.token_weights(q, qs, person_rules, kind, qw),
        }
        self.token_weights(c, cs, person_rules, kind, cw);
        let (can_match, left_q, left_c) = self.bound_parts(qs, qw, cs, cw, (0, 0));
        let w = &self.weights;
        let missing_factor = if person_rules {
            w.missing_person
        } else {
            w.missing_other
        };
        // `missing·max`, not the score's `2·conflict·min + missing·|difference|`: the tokens
        // the index did not reach are not all left over (see above).
        let loose_bound = if can_match > 0.0 {
            can_match / (can_match + missing_factor.min(2.0 * w.conflict) * left_q.max(left_c))
        } else {
            0.0
        };
        let Some(Prune {
            threshold,
            memo,
            settled,
            ..
        }) = prune
        else {
            return loose_bound;
        };
        if loose_bound < threshold {
            return loose_bound;
        }
        let tight = |can_match: f32, left_q: f32, left_c: f32| {
            self.settled_bound(can_match, left_q, left_c, person_rules)
        };
        if tight(can_match, left_q, left_c) >= threshold {
            return loose_bound;
        }
        // Han and Hangul syllables align only when equal, which the index always finds.
        if q.syllabic && c.syllabic {
            return tight(can_match, left_q, left_c);
        }
        // The tokens nothing paired, heaviest first, each compared with everything it could
        // pair with; the others count as aligned until compared, so the candidate is dropped
        // as soon as the words found left over are enough (usually one on each side).
        let mut free: Vec<(bool, usize, f32)> = Vec::new();
        // (Only tokens below 64 are at 0: see above.)
        free.extend(
            (0..qs.len())
                .filter(|&i| qs[i] == 0.0)
                .map(|i| (true, i, qw[i])),
        );
        free.extend(
            (0..cs.len())
                .filter(|&j| cs[j] == 0.0)
                .map(|j| (false, j, cw[j])),
        );
        // A settled query token nothing paired is left over, and so is every token of the
        // candidate once all the query's are settled (what could pair with it was looked up).
        let all_settled = q.tokens.len() <= 64 && settled == span_bits(q.tokens.len());
        free.retain(|&(query_side, k, _)| {
            if query_side {
                k >= 64 || settled & (1 << k) == 0
            } else {
                !all_settled
            }
        });
        free.sort_by(|a, b| b.2.total_cmp(&a.2));
        let mut bound = if free.is_empty() {
            tight(can_match, left_q, left_c)
        } else {
            loose_bound
        };
        // One buffer for the runs every comparison below writes out (inline: most runs are
        // short, and this runs for thousands of candidates).
        let mut run = compact_str::CompactString::default();
        for (n, &(query_side, k, _)) in free.iter().enumerate() {
            let (mut q_side, mut c_side) = (Side { name: q, sims: qs }, Side { name: c, sims: cs });
            if query_side {
                verify_token(&mut q_side, k, &mut c_side, true, memo, &mut run);
            } else {
                verify_token(&mut c_side, k, &mut q_side, false, memo, &mut run);
            }
            // Tokens not compared yet may still align, at best exactly.
            let hope = free[n + 1..]
                .iter()
                .fold((0u64, 0u64), |(hq, hc), &(query_side, k, _)| {
                    if query_side {
                        (hq | 1 << k, hc)
                    } else {
                        (hq, hc | 1 << k)
                    }
                });
            let (can_match, left_q, left_c) = self.bound_parts(qs, qw, cs, cw, hope);
            bound = tight(can_match, left_q, left_c);
            if bound < threshold {
                break;
            }
        }
        // The one rule that raises a score: the same letters spaced differently.
        if bound < threshold && same_letters(q, c) {
            return 1.0;
        }
        bound
    }

    /// Each token's weight as evidence when aligned (`out[i]`) and its cost when left over
    /// (`out[n + i]`), for a name of `n` tokens: the lowest cost the score can charge for it.
    /// The cost only of the tokens with no similarity yet (`sims[i]` 0): similarities only rise,
    /// and the others are never left over.
    fn token_weights(
        &self,
        n: &NormName,
        sims: &[f32],
        person_rules: bool,
        kind: EntityKind,
        out: &mut [f32],
    ) {
        let len = n.tokens.len();
        for (i, t) in n.tokens.iter().enumerate() {
            out[i] = self.weight(&t.text, t.class);
            if sims[i] > 0.0 {
                continue;
            }
            out[len + i] =
                self.left_cost(t.class, out[i], person_rules, kind, || weak_name_part(n, i));
        }
    }

    /// What a token of class `class` and weight `weight` costs when left over (`weak`: it is
    /// a name part references often leave out, asked only where that matters).
    pub(crate) fn left_cost(
        &self,
        class: TokenClass,
        weight: f32,
        person_rules: bool,
        kind: EntityKind,
        weak: impl FnOnce() -> bool,
    ) -> f32 {
        let w = &self.weights;
        match class {
            TokenClass::Generic => w.generic_unmatched,
            // Series numbers left over on both sides may cost nothing (a sibling entity).
            TokenClass::Number if kind == EntityKind::Organization => 0.0,
            // An ancestor's name or a very common element left out costs as a patronymic
            // (see `weak_name_part`).
            TokenClass::Word if person_rules && weak() => w.patronymic,
            _ => weight,
        }
    }

    /// At least the evidence a pair of similarity `sim` brings per unit of weight: a fuzzy
    /// pair's evidence is its similarity raised to the exponent. (The default exponent is 1:
    /// no `powf` for every token of every candidate.)
    #[inline]
    pub(crate) fn evidence_bound(&self, sim: f32) -> f32 {
        let w = &self.weights;
        if w.fuzzy_exponent == 1.0 {
            sim.min(1.0)
        } else {
            sim.max(sim.powf(w.fuzzy_exponent)).min(1.0)
        }
    }

    /// The score's own bound once the evidence (`can_match`) and what is certainly left over on
    /// each side (`left_q`, `left_c`) are known: `2·conflict·min + missing·|difference|` as the
    /// score charges them. It rises with the evidence and with neither cost, so it stays a bound
    /// when similarities are taken higher than they are.
    pub(crate) fn settled_bound(
        &self,
        can_match: f32,
        left_q: f32,
        left_c: f32,
        person_rules: bool,
    ) -> f32 {
        if can_match <= 0.0 {
            return 0.0;
        }
        let w = &self.weights;
        let missing_factor = if person_rules {
            w.missing_person
        } else {
            w.missing_other
        };
        let penalty =
            2.0 * w.conflict * left_q.min(left_c) + missing_factor * (left_q - left_c).abs();
        can_match / (can_match + penalty)
    }

    /// The evidence the tokens with similarities `qs` and `cs` can bring (similarity times
    /// weight), and the cost of the tokens that cannot align on each side; `qw` and `cw` as
    /// [`Scorer::token_weights`] gives them. The tokens of `hope` (a bit each, query side first)
    /// count as aligned exactly.
    pub(crate) fn bound_parts(
        &self,
        qs: &[f32],
        qw: &[f32],
        cs: &[f32],
        cw: &[f32],
        hope: (u64, u64),
    ) -> (f32, f32, f32) {
        let evidence = |sim: f32| self.evidence_bound(sim);
        let side = |sims: &[f32], weights: &[f32], hope: u64| {
            let (mut can_match, mut left) = (0.0, 0.0);
            let n = sims.len();
            for (i, &s) in sims.iter().enumerate() {
                let s = if i < 64 && hope & (1 << i) != 0 {
                    1.0
                } else {
                    s
                };
                if s > 0.0 {
                    can_match += evidence(s) * weights[i];
                } else {
                    left += weights[n + i];
                }
            }
            (can_match, left)
        };
        let (q_match, left_q) = side(qs, qw, hope.0);
        let (c_match, left_c) = side(cs, cw, hope.1);
        (q_match + c_match, left_q, left_c)
    }

    /// The score alone: what [`Scorer::compare`] computes, without building the explanation.
    pub fn score(&self, q: &NormName, c: &NormName, kind: EntityKind) -> f32 {
        self.align(q, c, kind, false, &mut SimilarityMemo::off())
            .score
    }

    /// [`Scorer::score`] with the token similarities of earlier calls for the same query kept in
    /// `memo`: what screening one party against many candidates calls.
    pub fn score_with(
        &self,
        q: &NormName,
        c: &NormName,
        kind: EntityKind,
        memo: &mut SimilarityMemo,
    ) -> f32 {
        self.align(q, c, kind, false, memo).score
    }

    /// The score with its explanation.
    pub fn compare(&self, q: &NormName, c: &NormName, kind: EntityKind) -> NameMatch {
        self.compare_with(q, c, kind, &mut SimilarityMemo::off())
    }

    /// [`Scorer::compare`] with a [`SimilarityMemo`] (see [`Scorer::score_with`]).
    pub fn compare_with(
        &self,
        q: &NormName,
        c: &NormName,
        kind: EntityKind,
        memo: &mut SimilarityMemo,
    ) -> NameMatch {
        self.align(q, c, kind, true, memo)
    }

    fn align(
        &self,
        q: &NormName,
        c: &NormName,
        kind: EntityKind,
        explain: bool,
        memo: &mut SimilarityMemo,
    ) -> NameMatch {
        if q.tokens.is_empty() || c.tokens.is_empty() {
            return NameMatch::default();
        }
        let person_rules = kind != EntityKind::Organization && kind != EntityKind::Vessel;
        let mut cands = candidate_pairs(q, c, person_rules, kind == EntityKind::Person, memo);
        // Best first; on ties prefer single tokens over runs, then earlier positions.
        cands.sort_by(|a, b| {
            b.sim
                .total_cmp(&a.sim)
                .then((a.q.1 - a.q.0 + a.c.1 - a.c.0).cmp(&(b.q.1 - b.q.0 + b.c.1 - b.c.0)))
                .then(a.q.0.cmp(&b.q.0))
                .then(a.c.0.cmp(&b.c.0))
        });
        let mut q_used = vec![false; q.tokens.len()];
        let mut c_used = vec![false; c.tokens.len()];
        let mut chosen: Vec<Candidate> = Vec::new();
        for cand in cands {
            if q_used[cand.q.0..cand.q.1].iter().any(|&u| u)
                || c_used[cand.c.0..cand.c.1].iter().any(|&u| u)
            {
                continue;
            }
            q_used[cand.q.0..cand.q.1]
                .iter_mut()
                .for_each(|u| *u = true);
            c_used[cand.c.0..cand.c.1]
                .iter_mut()
                .for_each(|u| *u = true);
            chosen.push(cand);
        }
        chosen.sort_by_key(|p| p.q.0);

        let wq = |i: usize| self.weight(&q.tokens[i].text, q.tokens[i].class);
        let wc = |j: usize| self.weight(&c.tokens[j].text, c.tokens[j].class);
        let left_weight = |t: &crate::text::Token| match t.class {
            TokenClass::Generic => self.weights.generic_unmatched,
            class => self.weight(&t.text, class),
        };
        let mut num = 0.0;
        let mut matched = 0.0;
        let mut distinctive_pair = false;
        let mut pairs = Vec::new();
        for p in &chosen {
            let w: f32 = (p.q.0..p.q.1).map(wq).sum::<f32>() + (p.c.0..p.c.1).map(wc).sum::<f32>();
            let sim = if p.kind == PairKind::Fuzzy || p.kind == PairKind::Joined {
                p.sim.powf(self.weights.fuzzy_exponent)
            } else {
                p.sim
            };
            num += sim * w;
            matched += w;
            let strong = |class: TokenClass| {
                matches!(
                    class,
                    TokenClass::Word | TokenClass::Number | TokenClass::Patronymic
                )
            };
            if p.kind != PairKind::Initial
                && ((p.q.0..p.q.1).any(|i| strong(q.tokens[i].class))
                    || (p.c.0..p.c.1).any(|j| strong(c.tokens[j].class)))
            {
                distinctive_pair = true;
            }
            if explain {
                pairs.push(AlignedPair {
                    query: span_text(q, p.q),
                    candidate: span_text(c, p.c),
                    similarity: p.sim,
                    kind: p.kind,
                });
            }
        }
        let left_q: Vec<usize> = (0..q.tokens.len()).filter(|&i| !q_used[i]).collect();
        let left_c: Vec<usize> = (0..c.tokens.len()).filter(|&j| !c_used[j]).collect();
        let w = &self.weights;
        // An ancestor's name or a very common given-name element left out on one side only is a
        // patronymic left out (see `weak_name_part`); against a different name on the other
        // side it still contradicts.
        // A country placing a company is weak evidence, but two different countries left over
        // (Bowne II (U.K.) vs Bowne II Canada) are two national companies: they contradict as
        // words do.
        let country = |t: &crate::text::Token| {
            t.class == TokenClass::Generic && crate::geo::country_code_by_name(&t.text).is_some()
        };
        let countries_differ = !person_rules
            && left_q.iter().any(|&i| country(&q.tokens[i]))
            && left_c.iter().any(|&j| country(&c.tokens[j]));
        let leftover = |n: &NormName, left: &[usize], other_left: &[usize]| -> f32 {
            left.iter()
                .map(|&i| {
                    if person_rules && other_left.is_empty() && weak_name_part(n, i) {
                        w.patronymic
                    } else if countries_differ && country(&n.tokens[i]) {
                        self.weight(&n.tokens[i].text, TokenClass::Word)
                    } else {
                        left_weight(&n.tokens[i])
                    }
                })
                .sum()
        };
        let weight_q = leftover(q, &left_q, &left_c);
        let weight_c = leftover(c, &left_c, &left_q);
        let conflict = weight_q.min(weight_c);
        let missing = (weight_q - weight_c).abs();
        let missing_factor = if person_rules {
            w.missing_person
        } else {
            w.missing_other
        };
        let mut notes = Vec::new();
        let mut score = if matched > 0.0 {
            num / (matched + 2.0 * w.conflict * conflict + missing_factor * missing)
        } else {
            0.0
        };

        // An organization whose name differs only in a series number on both sides (`Fund VII`
        // / `Fund VIII`, `Trust 2004-1` / `2004-2`) is a sibling of the same sponsor or issuer:
        // a different entity, but one an analyst must see, so it is capped in the review band.
        let only_numbers = |n: &NormName, left: &[usize]| {
            !left.is_empty()
                && left
                    .iter()
                    .all(|&i| n.tokens[i].class == TokenClass::Number)
        };
        let series_sibling = kind == EntityKind::Organization
            && left_q.len() == left_c.len()
            && only_numbers(q, &left_q)
            && only_numbers(c, &left_c)
            && distinctive_pair;
        if series_sibling && matched > 0.0 {
            score = (num / matched).min(w.series_sibling_cap);
        }
        // Numbers must agree: a number on one side that the other side does not have.
        let unmatched_number = !series_sibling
            && (left_q
                .iter()
                .any(|&i| q.tokens[i].class == TokenClass::Number)
                || left_c
                    .iter()
                    .any(|&j| c.tokens[j].class == TokenClass::Number));
        let mut note = |text: &dyn Fn() -> String| {
            if explain {
                notes.push(text());
            }
        };
        if unmatched_number && score > 0.0 {
            score *= 0.85;
            note(&|| "numbers differ".to_string());
        }
        if series_sibling {
            note(&|| "series numbers differ (a sibling entity)".to_string());
        }

        let distinctive_left = left_q
            .iter()
            .any(|&i| q.tokens[i].class == TokenClass::Word)
            || left_c
                .iter()
                .any(|&j| c.tokens[j].class == TokenClass::Word);
        if !distinctive_pair && distinctive_left && score > w.generic_only_cap {
            score = w.generic_only_cap;
            note(&|| "only generic words agree".to_string());
        } else if !distinctive_pair && kind == EntityKind::Person && score > w.generic_only_cap {
            // `N.N.` for Nursultan Nazarbayev: initials fit thousands of people.
            score = w.generic_only_cap;
            note(&|| "only initials agree".to_string());
        }

        if person_rules && score > w.lineage_swap_cap && lineage_swapped(q, c, &chosen) {
            score = w.lineage_swap_cap;
            note(&|| "names around bin/ibn swapped (father and son)".to_string());
        }

        if legal_forms_conflict(q, c) {
            // A company can change its legal form; a non-profit does not become a company of
            // the same name (ANO vs LLC): that is two entities, and costs twice.
            let kinds_differ = nonprofit_only(q) != nonprofit_only(c);
            score -= if kinds_differ {
                2.0 * w.legal_form_conflict
            } else {
                w.legal_form_conflict
            };
            note(&|| {
                format!(
                    "legal forms differ ({} vs {}){}",
                    q.legal_forms[0].canonical,
                    c.legal_forms[0].canonical,
                    if kinds_differ {
                        ": a non-profit and a company"
                    } else {
                        ""
                    }
                )
            });
        } else if !q.legal_forms.is_empty() && !c.legal_forms.is_empty() {
            note(&|| {
                format!(
                    "legal form {} ~ {}",
                    q.legal_forms[0].canonical, c.legal_forms[0].canonical
                )
            });
        }

        // The same letters with different spacing or legal-form split (SiemensAG / Siemens AG).
        if score < 0.97 && same_letters(q, c) {
            score = 0.97;
            note(&|| "same letters, different spacing".to_string());
        }

        let texts = |n: &NormName, idx: &[usize]| -> Vec<String> {
            if explain {
                idx.iter().map(|&i| n.tokens[i].text.to_string()).collect()
            } else {
                Vec::new()
            }
        };
        NameMatch {
            score: score.clamp(0.0, 1.0),
            pairs,
            unmatched_query: texts(q, &left_q),
            unmatched_candidate: texts(c, &left_c),
            notes,
        }
    }
}

/// Whether an aligned pair of names sits before the first lineage particle (`bin`, `ibn`) on one
/// side and after it on the other. Names without such a particle inside both have no order.
fn lineage_swapped(q: &NormName, c: &NormName, chosen: &[Candidate]) -> bool {
    // A particle first or last links nothing (`bin Salman Mohammed` is a scrambled order).
    let first_lineage = |n: &NormName| {
        let last = n.tokens.len().saturating_sub(1);
        (1..last).find(|&k| {
            n.tokens[k].class == TokenClass::Particle && is_lineage_particle(&n.tokens[k].text)
        })
    };
    let (Some(lq), Some(lc)) = (first_lineage(q), first_lineage(c)) else {
        return false;
    };
    chosen.iter().any(|p| {
        p.kind != PairKind::Initial
            && p.q.1 - p.q.0 == 1
            && p.c.1 - p.c.0 == 1
            && q.tokens[p.q.0].class != TokenClass::Particle
            && (p.q.0 < lq) != (p.c.0 < lc)
    })
}

/// Whether token `i` of a person's name follows a lineage particle inside the name (`Usama bin
/// Muhammad ibn Awad`: Muhammad and Awad): the father's or an ancestor's name, a patronymic that
/// lists often leave out, not the person's own.
/// Token `i` of a person's name is one a reference often leaves out: an ancestor's name (see
/// [`names_an_ancestor`]) or a very common given-name element (`data/common_name_parts.tsv`).
pub(crate) fn weak_name_part(n: &NormName, i: usize) -> bool {
    /// The common parts, and the first letters they start with (most words are ruled out by
    /// their first letter, without hashing: this runs for candidates by the hundred).
    static COMMON: std::sync::LazyLock<(rustc_hash::FxHashSet<&'static str>, [bool; 256])> =
        std::sync::LazyLock::new(|| {
            let parts: rustc_hash::FxHashSet<&'static str> =
                crate::tables::rows(include_str!("../../data/common_name_parts.tsv"))
                    .map(|r| r[0])
                    .collect();
            let mut first = [false; 256];
            for p in &parts {
                if let Some(&b) = p.as_bytes().first() {
                    first[b as usize] = true;
                }
            }
            (parts, first)
        });
    let t = &n.tokens[i];
    names_an_ancestor(n, i)
        || (t.class == TokenClass::Word
            && t.text
                .as_bytes()
                .first()
                .is_some_and(|&b| COMMON.1[b as usize])
            && COMMON.0.contains(t.text.as_str()))
}

fn names_an_ancestor(n: &NormName, i: usize) -> bool {
    i >= 2
        && n.tokens[i].class == TokenClass::Word
        && n.tokens[i - 1].class == TokenClass::Particle
        && is_lineage_particle(&n.tokens[i - 1].text)
}

/// The two names' words, legal forms included, spell the same letters whatever the spacing.
fn same_letters(a: &NormName, b: &NormName) -> bool {
    spelled_letters(a).eq(spelled_letters(b))
}

/// The letters [`same_letters`] compares: the name's words, legal forms included, unspaced.
pub(crate) fn spelled_letters(n: &NormName) -> impl Iterator<Item = u8> + '_ {
    n.acronym_source.bytes().filter(|&c| c != b' ')
}

fn span_text(n: &NormName, span: (usize, usize)) -> String {
    n.tokens[span.0..span.1]
        .iter()
        .map(|t| t.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every legal form of the name is a non-profit's (ANO, NGO, e.V.).
fn nonprofit_only(n: &NormName) -> bool {
    !n.legal_forms.is_empty() && n.legal_forms.iter().all(|f| f.family == "nonprofit")
}

/// Both names carry legal forms, and no two of them are of one family (AG vs GmbH).
fn legal_forms_conflict(q: &NormName, c: &NormName) -> bool {
    if q.legal_forms.is_empty() || c.legal_forms.is_empty() {
        return false;
    }
    !q.legal_forms.iter().any(|a| {
        c.legal_forms
            .iter()
            .any(|b| a.family == b.family || a.family == "any" || b.family == "any")
    })
}

/// Every pair of spans that could align, with its similarity. `person`: both are person names
/// (acronyms are initials then).
fn candidate_pairs(
    q: &NormName,
    c: &NormName,
    person_rules: bool,
    person: bool,
    memo: &mut SimilarityMemo,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    let (qt, ct) = (&q.tokens, &c.tokens);
    // Han and Hangul syllables are whole signs: one different syllable is a different name.
    let strict = q.syllabic && c.syllabic;
    // An Arabic or Hebrew spelling lacks the short vowels of a Latin one: consonants decide.
    let one_unvocalized = q.unvocalized != c.unvocalized;
    for (i, a) in qt.iter().enumerate() {
        for (j, b) in ct.iter().enumerate() {
            let sim = if strict {
                if a.text == b.text {
                    1.0
                } else {
                    0.0
                }
            } else if one_unvocalized {
                token_similarity(&a.text, &b.text).max(skeleton_similarity(&a.text, &b.text))
            } else {
                pair_similarity(memo, a, &b.text)
            };
            if sim >= TOKEN_FLOOR {
                // A skeleton pair can reach 1 with different letters: not exact.
                let kind = if sim >= 1.0 && a.text == b.text {
                    PairKind::Exact
                } else {
                    PairKind::Fuzzy
                };
                out.push(Candidate {
                    q: (i, i + 1),
                    c: (j, j + 1),
                    sim,
                    kind,
                });
            } else if a.class == TokenClass::Particle && b.class == TokenClass::Particle {
                // Particles are transliterated loosely (al / el / ul, bin / ben / ibn): two of
                // them in one place are one particle, weak evidence either way.
                out.push(Candidate {
                    q: (i, i + 1),
                    c: (j, j + 1),
                    sim: PARTICLE_VARIANT,
                    kind: PairKind::Fuzzy,
                });
            } else if particle_typo(a, b) || particle_typo(b, a) {
                out.push(Candidate {
                    q: (i, i + 1),
                    c: (j, j + 1),
                    sim: PARTICLE_VARIANT,
                    kind: PairKind::Fuzzy,
                });
            } else if person_rules {
                let sim = initial_similarity(a, b).or_else(|| {
                    (i == 0 && j == 0)
                        .then(|| given_name_prefix(a, b))
                        .flatten()
                });
                if let Some(sim) = sim {
                    out.push(Candidate {
                        q: (i, i + 1),
                        c: (j, j + 1),
                        sim,
                        kind: PairKind::Initial,
                    });
                }
            }
        }
    }
    if strict {
        return out;
    }
    joined_pairs(qt, ct, false, memo, &mut out);
    joined_pairs(ct, qt, true, memo, &mut out);
    acronym_pairs(q, c, false, person, &mut out);
    acronym_pairs(c, q, true, person, &mut out);
    out
}

/// The tokens of `a` and of `b` (bit i: token i) that may align by a rule that is not a token
/// similarity, so an index does not find them: a particle typo, an initial and a word of its
/// letter (with `person_rules`), and in person names (`person`) a token that is the initials
/// of a run of the other name, with the tokens of every run it spells; with `person_rules`, a
/// first given name written short. Used by [`Scorer::upper_bound`], which must never be below
/// the score.
fn unsearched_pairs(
    a: &NormName,
    a_facts: Option<&NameFacts>,
    b: &NormName,
    person: bool,
    person_rules: bool,
) -> (u64, u64) {
    use std::cell::OnceCell;
    let (mut mask_a, mut mask_b) = (0u64, 0u64);
    // A token can only spell a run of as many words as the other name has.
    let b_words = if person { word_count(b) } else { 0 };
    let b_initials = OnceCell::new();
    let b_initials = || b_initials.get_or_init(|| b.initials()).as_ref();
    // Only a particle or an initial pairs by these rules: the other pairs are not looked at
    // (this runs for every candidate, over every pair of tokens).
    let special =
        |t: &crate::text::Token| matches!(t.class, TokenClass::Particle | TokenClass::Initial);
    // The other name's special tokens, found once: a plain token of this name is paired with
    // those only.
    let b_tokens = &b.tokens[..b.tokens.len().min(64)];
    let b_special = b_tokens
        .iter()
        .enumerate()
        .filter(|(_, y)| special(y))
        .fold(0u64, |m, (j, _)| m | 1 << j);
    let b_all = span_bits(b_tokens.len());
    for (i, x) in a.tokens.iter().enumerate().take(64) {
        let mut others = if special(x) { b_all } else { b_special };
        while others != 0 {
            let j = others.trailing_zeros() as usize;
            others &= others - 1;
            let y = &b_tokens[j];
            // Two particles are one particle transliterated (`bin` / `al`: `PARTICLE_VARIANT`),
            // whatever the index saw (a query read as a company's name classes `bin` a word).
            // An initial pairs with any word of its letter, in person names.
            if (x.class == TokenClass::Particle && y.class == TokenClass::Particle)
                || particle_typo(x, y)
                || particle_typo(y, x)
                || (person_rules && initial_similarity(x, y).is_some())
            {
                mask_a |= 1 << i;
                mask_b |= 1 << j;
            }
        }
        // A first given name written short (`Ben` / `Benjamin`): see `given_name_prefix`.
        if person_rules
            && i == 0
            && b.tokens
                .first()
                .is_some_and(|y| given_name_prefix(x, y).is_some())
        {
            mask_a |= 1;
            mask_b |= 1;
        }
        if person && x.text.len() <= b_words {
            let run = run_of_initials(&x.text, b, b_initials);
            if run != 0 {
                mask_a |= 1 << i;
                mask_b |= run;
            }
        }
    }
    if person {
        // Each name's initials once, and only if one of the other's tokens could spell a run.
        let a_words = a_facts.map_or_else(|| word_count(a), |f| f.words);
        let a_initials = OnceCell::new();
        let a_initials = || match a_facts {
            Some(f) => &f.initials[..],
            None => a_initials.get_or_init(|| a.initials()).as_ref(),
        };
        for (j, y) in b.tokens.iter().enumerate().take(64) {
            if y.text.len() <= a_words {
                let run = run_of_initials(&y.text, a, a_initials);
                if run != 0 {
                    mask_b |= 1 << j;
                    mask_a |= run;
                }
            }
        }
    }
    (mask_a, mask_b)
}

/// The first `n` bits (of 64).
pub(crate) fn span_bits(n: usize) -> u64 {
    u64::MAX.checked_shr(64 - n as u32).unwrap_or(0)
}

/// Words of a name's acronym source (as many as its initials).
pub(crate) fn word_count(n: &NormName) -> usize {
    n.acronym_source.bytes().filter(|&b| b == b' ').count() + 1
}

/// The tokens of `name` (a bit each) covered by the runs of consecutive words of its acronym
/// source whose initials `token` (2..=8 letters) spells, as [`acronym_pairs`] reads them; 0 for
/// none. `initials` gives the name's initials; it is called at most once, and only when the
/// token could be initials.
fn run_of_initials<I: std::ops::Deref<Target = [u8]>>(
    token: &str,
    name: &NormName,
    initials: impl FnOnce() -> I,
) -> u64 {
    let t = token.as_bytes();
    if !could_spell_initials(t) {
        return 0;
    }
    let initials = initials();
    let mut mask = 0;
    for (start, run) in initials.windows(t.len()).enumerate() {
        if run == t {
            mask |= crate::index::acronym_span_mask(name, start, start + t.len());
        }
    }
    mask
}

/// A token that could be the initials of a run of words: 2 to 8 ASCII letters (the acronym
/// rules of the scorer, the index and the bound).
pub(crate) fn could_spell_initials(t: &[u8]) -> bool {
    (2..=8).contains(&t.len()) && t.iter().all(u8::is_ascii_alphabetic)
}

/// A letter whose addition to a particle makes a typo of it ([`particle_typo`]): a consonant.
pub(crate) fn typo_letter(c: u8) -> bool {
    c.is_ascii_alphabetic() && !b"aeiouy".contains(&c)
}

/// A particle with one consonant added (`xal-Assad` for `al-Assad`): a typo in the particle.
/// An added vowel makes a name of its own (`Ali` is not `al`), so only consonants count.
fn particle_typo(particle: &crate::text::Token, word: &crate::text::Token) -> bool {
    if particle.class != TokenClass::Particle || word.class != TokenClass::Word {
        return false;
    }
    let (p, w) = (particle.text.as_bytes(), word.text.as_bytes());
    if w.len() != p.len() + 1 {
        return false;
    }
    // The one letter of `w` that `p` lacks, if the rest of `w` is `p` in order.
    let skip = (0..w.len()).find(|&k| w[..k] == p[..k] && w[k + 1..] == p[k..]);
    skip.is_some_and(|k| typo_letter(w[k]))
}

/// The longest token whose consonant skeleton is compared; longer ones are compared as written.
const SKELETON_MAX: usize = 32;

/// Similarity of two tokens by their consonants alone (`biriz` / `perez`: `brz` / `prz`), for a
/// token from a script that does not write short vowels against one that does. Vowels (and `w`,
/// `y` inside a word, which such scripts also write for long vowels) are dropped; the first
/// letters must agree as consonants or as vowels, and skeletons of fewer than two consonants
/// say nothing. No allocation: the skeletons live on the stack.
fn skeleton_similarity(a: &str, b: &str) -> f32 {
    fn skeleton(t: &[u8], out: &mut [u8; SKELETON_MAX]) -> usize {
        let mut n = 0;
        for (k, &c) in t.iter().enumerate() {
            let vowel = matches!(c, b'a' | b'e' | b'i' | b'o' | b'u')
                || (k > 0 && matches!(c, b'w' | b'y'));
            if !vowel {
                out[n] = c;
                n += 1;
            }
        }
        n
    }
    let (ab, bb) = (a.as_bytes(), b.as_bytes());
    if ab.len() > SKELETON_MAX || bb.len() > SKELETON_MAX || ab.is_empty() || bb.is_empty() {
        return 0.0;
    }
    let starts_vowel = |t: &[u8]| matches!(t[0], b'a' | b'e' | b'i' | b'o' | b'u');
    if starts_vowel(ab) != starts_vowel(bb) {
        return 0.0;
    }
    let (mut sa, mut sb) = ([0u8; SKELETON_MAX], [0u8; SKELETON_MAX]);
    let (na, nb) = (skeleton(ab, &mut sa), skeleton(bb, &mut sb));
    if na < 2 || nb < 2 || sa[..na].iter().any(u8::is_ascii_digit) {
        return 0.0;
    }
    // Bytes of ASCII letters: valid UTF-8.
    match (
        std::str::from_utf8(&sa[..na]),
        std::str::from_utf8(&sb[..nb]),
    ) {
        (Ok(x), Ok(y)) => token_similarity(x, y),
        _ => 0.0,
    }
}

/// Similarity given to two different particles in one place (al / el).
const PARTICLE_VARIANT: f32 = 0.85;

/// A person's first given name written short (Ben / Benjamin, Alex / Alexander): evidence like an
/// initial, so it never makes a match on its own.
fn given_name_prefix(a: &crate::text::Token, b: &crate::text::Token) -> Option<f32> {
    let (short, long) = if a.text.len() <= b.text.len() {
        (a, b)
    } else {
        (b, a)
    };
    (short.class == TokenClass::Word
        && long.class == TokenClass::Word
        && short.text.len() >= 3
        && long.text.len() > short.text.len()
        && long.text.starts_with(short.text.as_str()))
    .then_some(0.85)
}

fn initial_similarity(a: &crate::text::Token, b: &crate::text::Token) -> Option<f32> {
    let (init, full) = match (a.class, b.class) {
        (TokenClass::Initial, TokenClass::Word | TokenClass::Patronymic) => (a, b),
        (TokenClass::Word | TokenClass::Patronymic, TokenClass::Initial) => (b, a),
        _ => return None,
    };
    (full.text.as_bytes()[0] == init.text.as_bytes()[0]).then_some(0.8)
}

/// One side of a pair of names as [`verify_token`] reads it: the name's tokens and the best
/// similarity known for each.
struct Side<'a, 's> {
    name: &'a NormName,
    sims: &'s mut [f32],
}

/// Raises the similarities of token `k` of `this` (and of its partners in `other`) by every
/// pair the scorer could align that takes it: the token against each token of the other name,
/// each run of two or three tokens holding it against each single token of the other name, and
/// the token against each run of the other name (see [`candidate_pairs`]; initials, particles
/// and acronyms are left to the index and [`unsearched_pairs`], which find all of them). `memo`
/// keys pairs as the scorer does: query side first.
fn verify_token(
    this: &mut Side,
    k: usize,
    other: &mut Side,
    this_is_query: bool,
    memo: &mut SimilarityMemo,
    buf: &mut compact_str::CompactString,
) {
    let token = &this.name.tokens[k];
    let text = &token.text;
    for (j, t) in other.name.tokens.iter().enumerate() {
        let sim = if this_is_query {
            pair_similarity(memo, token, &t.text)
        } else {
            pair_similarity(memo, t, text)
        };
        if sim >= TOKEN_FLOOR {
            this.sims[k] = this.sims[k].max(sim);
            other.sims[j] = other.sims[j].max(sim);
        }
    }
    // Runs of this side holding `k`, against the other side's tokens.
    let tokens = &this.name.tokens;
    for (start, end, run_len) in runs(tokens).filter(|&(start, end, _)| start <= k && k < end) {
        let mut built = false;
        for (j, t) in other.name.tokens.iter().enumerate() {
            if !comparable(run_len, t.text.len()) {
                continue;
            }
            if !built {
                join_run(&tokens[start..end], buf);
                built = true;
            }
            let sim = joined_similarity(memo, buf, &t.text);
            if sim >= TOKEN_FLOOR {
                other.sims[j] = other.sims[j].max(sim);
                for s in &mut this.sims[start..end] {
                    *s = s.max(sim);
                }
            }
        }
    }
    // The other side's runs against `k`.
    let tokens = &other.name.tokens;
    for (start, end, run_len) in runs(tokens) {
        if !comparable(run_len, text.len()) {
            continue;
        }
        join_run(&tokens[start..end], buf);
        let sim = joined_similarity(memo, buf, text);
        if sim >= TOKEN_FLOOR {
            this.sims[k] = this.sims[k].max(sim);
            for s in &mut other.sims[start..end] {
                *s = s.max(sim);
            }
        }
    }
}

/// The runs of two or three neighbouring tokens the scorer joins: (start, end, joined length).
fn runs(tokens: &[crate::text::Token]) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
    (0..tokens.len()).flat_map(move |start| {
        (start + 2..=(start + 3).min(tokens.len())).map(move |end| {
            let len = tokens[start..end].iter().map(|t| t.text.len()).sum();
            (start, end, len)
        })
    })
}

/// The similarity with which the scorer aligns the query's token `a` with the listed token `b`.
/// A word the index looks up (any but a particle or an initial) aligns only with a token its
/// lookup can find ([`lookup_finds`]), whatever their similarity: the index then never misses a
/// pair the scorer aligns, and the bound need not compare such pairs candidate by candidate.
/// The pairs this rules out reach the floor through cheap edits piling up (`hoffmann` /
/// `hasan`, `ming` / `kings` at 0.70): a letter missing, another doubled, a vowel changed.
fn pair_similarity(memo: &mut SimilarityMemo, a: &crate::text::Token, b: &str) -> f32 {
    let sim = memo.similarity(&a.text, b);
    if sim >= TOKEN_FLOOR && !pairs_unlooked(a.class) && !lookup_finds(&a.text, b) {
        0.0
    } else {
        sim
    }
}

/// Tokens that pair without an index looking them up: an initial with any word of its letter,
/// a particle with any particle or a word like it. Every other token the scorer aligns only with
/// what its lookup finds ([`pair_similarity`]).
pub(crate) fn pairs_unlooked(class: TokenClass) -> bool {
    matches!(class, TokenClass::Initial | TokenClass::Particle)
}

/// The similarity of a run written as one (`run`) and a single token, or 0 when the joined-word
/// rule does not pair them: the word only when their keys are one edit apart
/// ([`within_one_edit`]), which is also all the index looks for. Compared run first.
fn joined_similarity(memo: &mut SimilarityMemo, run: &str, single: &str) -> f32 {
    thread_local! {
        static KEYS: std::cell::RefCell<(Vec<u8>, Vec<u8>)> = const {
            std::cell::RefCell::new((Vec::new(), Vec::new()))
        };
    }
    KEYS.with_borrow_mut(|(run_key, single_key)| {
        join_key_into(run, run_key);
        join_key_into(single, single_key);
        joined_similarity_of_keys(memo, (run, run_key), (single, single_key))
    })
}

/// [`joined_similarity`] of texts given with their join keys. The keys are compared first:
/// nearly every run and token the scorer meets are more than an edit apart, which a comparison
/// of keys tells for a fraction of a distance's cost.
fn joined_similarity_of_keys(
    memo: &mut SimilarityMemo,
    (run, run_key): (&str, &[u8]),
    (single, single_key): (&str, &[u8]),
) -> f32 {
    if !within_one_edit(run_key, single_key) {
        return 0.0;
    }
    let sim = memo.similarity(run, single);
    if sim >= TOKEN_FLOOR {
        sim
    } else {
        0.0
    }
}

/// A run of tokens written as one, into `buf`.
fn join_run(run: &[crate::text::Token], buf: &mut compact_str::CompactString) {
    buf.clear();
    run.iter().for_each(|t| buf.push_str(&t.text));
}

/// Whether tokens (or runs) of these lengths are compared at all (see `token_similarity`): most
/// runs are longer than any single token, and are not even joined.
pub(crate) fn comparable(a: usize, b: usize) -> bool {
    a.min(b) as f32 >= MIN_LENGTH_RATIO * a.max(b) as f32
}

/// Runs of 2..=3 tokens of `runs` joined, against single tokens of `singles`.
fn joined_pairs(
    runs: &[crate::text::Token],
    singles: &[crate::text::Token],
    flipped: bool,
    memo: &mut SimilarityMemo,
    out: &mut Vec<Candidate>,
) {
    let mut buf = compact_str::CompactString::default();
    // The singles' join keys, end to end, each worked out once for all the runs.
    let (mut keys, mut ends, mut key) = (Vec::new(), Vec::new(), Vec::new());
    for (start, end, run_len) in self::runs(runs) {
        // Tokens of very different lengths are not compared (`token_similarity` gives 0).
        let fits = |s: &crate::text::Token| comparable(run_len, s.text.len());
        if !singles.iter().any(fits) {
            continue;
        }
        if ends.is_empty() {
            for s in singles {
                join_key_into(&s.text, &mut key);
                keys.extend_from_slice(&key);
                ends.push(keys.len() as u32);
            }
        }
        join_run(&runs[start..end], &mut buf);
        join_key_into(&buf, &mut key);
        for (j, s) in singles.iter().enumerate() {
            if !fits(s) {
                continue;
            }
            let single_key = &keys[crate::index::span_of(&ends, j as u32)];
            let sim = joined_similarity_of_keys(memo, (&buf, &key), (&s.text, single_key));
            if sim >= TOKEN_FLOOR {
                let (run, single) = ((start, end), (j, j + 1));
                let (q, c) = if flipped {
                    (single, run)
                } else {
                    (run, single)
                };
                out.push(Candidate {
                    q,
                    c,
                    sim,
                    kind: PairKind::Joined,
                });
            }
        }
    }
}

/// Tokens of `short` (2..=8 letters) that are the initials of a run in `long`'s acronym source.
/// The run must cover two or more of `long`'s tokens (a letter of a legal form helps spell
/// `CASIC`, but `BP` is not `BD plc`). In person names (`person`) a token of initials (`JC` for
/// Jean-Claude) is evidence like an initial, and may stand for part of the name.
fn acronym_pairs(
    short: &NormName,
    long: &NormName,
    flipped: bool,
    person: bool,
    out: &mut Vec<Candidate>,
) {
    let initials = long.initials();
    if initials.len() < 2 || long.tokens.is_empty() {
        return;
    }
    for (i, t) in short.tokens.iter().enumerate() {
        let a = t.text.as_bytes();
        if !could_spell_initials(a) || a.len() > initials.len() {
            continue;
        }
        for start in 0..=initials.len().saturating_sub(a.len()) {
            let whole = start == 0 && a.len() == initials.len();
            if &initials[start..start + a.len()] != a || (a.len() < 3 && !whole && !person) {
                continue;
            }
            // An acronym of two or three letters is the initials of countless ordinary names
            // (listed LJ: Li Jones; BPE: Baltic Pune Engineering): a listed one spelled out in a
            // party's name says nothing. Four letters and more (CASIC, NIOC) are distinctive.
            // A party's word of three letters spelling a listed name's initials (Jan: Jabhet
            // al-Nusrah) is an acronym only when it is the party's whole name.
            if !person && a.len() < 4 && (flipped || short.tokens.len() > 1) {
                continue;
            }
            // Map the run onto the token positions (legal forms peeled off the ends are outside).
            let (offset, end) = (long.acronym_offset, long.acronym_offset + long.tokens.len());
            let lo = start.max(offset) - offset;
            let hi = (start + a.len()).min(end);
            if hi <= offset || hi - offset < lo + 2 {
                continue;
            }
            // Two letters are too few to take one from a legal form.
            if a.len() < 3 && (start < offset || start + a.len() > end) {
                continue;
            }
            let run = (lo, hi - long.acronym_offset);
            let single = (i, i + 1);
            let (q, c) = if flipped {
                (run, single)
            } else {
                (single, run)
            };
            let (sim, kind) = if person {
                (0.8, PairKind::Initial)
            } else {
                (0.95, PairKind::Acronym)
            };
            out.push(Candidate { q, c, sim, kind });
        }
    }
}

#[cfg(test)]
mod tests;
