//! Screening one party: candidates from the index, scored, turned into hits and a decision.
//!
//! A [`Screener`] is built once from a watchlist and a policy and is then shared read-only across
//! threads (rows in parallel, HTTP requests). It answers, for one party, every listed entity that
//! its name matches (best name of each entity), with the evidence, and the party's decision under
//! the policy. Not here: reading input files (`input`), writing output (`output`).

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use crate::address::{self, AddressIndex, AddressLevel};
use crate::affiliates::Affiliates;
use crate::index::{CandidateFlags, NameIndex};
use crate::model::{Address, EntityKind, NameType, Watchlist};
use crate::policy::{Decision, Policy};
use crate::score::distance::TOKEN_FLOOR;
use crate::score::{NameMatch, Scorer, Weights};
use crate::text::{name_variants, normalize, NormName, PreparedName};

/// A counterparty to screen, as read from a shipment row or an API request.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Party {
    /// Role in the shipment (`shipper`, `consignee`, `end_user`, ...).
    pub role: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// What the party is, when the input says (an API caller may); usually unknown.
    #[serde(skip)]
    pub kind: EntityKind,
}

/// What kind of evidence a hit rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HitKind {
    Name,
    Address,
    Ownership,
}

/// One listed entity a party matched, with the evidence.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Hit {
    /// The source list's own id of the entity.
    pub entity_id: String,
    pub entity_name: String,
    pub matched_name: String,
    pub score: f32,
    pub kind: HitKind,
    pub explanation: String,
    /// The list the entity came from and its version.
    pub list: String,
    pub list_version: String,
    /// True when the entity is on an official list (blocks), false for a watch entry (review).
    pub listed: bool,
    pub decision: Decision,
    /// Index of the entity in the watchlist (not serialized; for affiliates and decisions).
    #[serde(skip)]
    pub entity_index: usize,
    /// The analyst decision applied to this hit, when screening with a store. A false positive
    /// leaves the hit in the output with decision `clear`; a true match makes it block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied: Option<crate::decision::AppliedDecision>,
}

/// The result of screening one party.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartyResult {
    pub decision: Decision,
    pub hits: Vec<Hit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl PartyResult {
    pub fn error(message: impl Into<String>) -> PartyResult {
        PartyResult {
            decision: Decision::Error,
            hits: Vec::new(),
            error: Some(message.into()),
        }
    }
}

/// Subtracted from a name score when the party's country is known and the listed entity has
/// countries that do not include it: a homonym abroad is less likely the same entity.
pub const COUNTRY_MISMATCH: f32 = 0.1;

/// The ISO codes of an entity's countries and address countries.
pub fn entity_countries(e: &crate::model::Entity) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = e
        .countries
        .iter()
        .map(String::as_str)
        .chain(e.addresses.iter().filter_map(|a| a.country.as_deref()))
        .filter_map(crate::geo::country_code)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Orders hits as results show them: the worst decision first, then the best score.
pub fn sort_hits(hits: &mut [Hit]) {
    hits.sort_by(|a, b| {
        b.decision
            .cmp(&a.decision)
            .then(b.score.total_cmp(&a.score))
            .then(a.entity_id.cmp(&b.entity_id))
    });
}

/// Party results kept for reuse within one screener; beyond it results are computed, not kept.
const RESULT_CACHE_ENTRIES: usize = 100_000;

type PartyKey = (String, Option<Address>, Option<String>, EntityKind);

pub struct Screener {
    /// Results by party (name, address, country, kind): an export names the same customer on
    /// row after row, and its answer does not change within a run.
    results: std::sync::RwLock<rustc_hash::FxHashMap<PartyKey, PartyResult>>,
    pub watchlist: Arc<Watchlist>,
    pub index: NameIndex,
    pub addresses: AddressIndex,
    pub affiliates: Affiliates,
    pub policy: Policy,
    scorer: Scorer,
    /// Whether candidates whose score bound is below the report threshold are skipped.
    prune: Pruning,
}

/// How [`Screener`] uses the score bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pruning {
    /// Every candidate is scored (the test that checks the bounds lose nothing).
    Off,
    /// The first bound, then the full one (see `bound`).
    On,
    /// As `On`, and every candidate the first bound drops is checked against the full bound,
    /// which must drop it too (a panic otherwise: for tests).
    Checked,
}

impl Screener {
    pub fn new(watchlist: Watchlist, policy: Policy) -> Screener {
        // Side by side: the name index leaves a core idle in its sequential steps.
        let (index, addresses) = rayon::join(
            || NameIndex::build(&watchlist),
            || AddressIndex::new(&watchlist),
        );
        Screener::from_prebuilt(
            crate::prebuilt::Prebuilt {
                watchlist,
                index,
                addresses,
            },
            policy,
        )
    }

    /// A screener over indexes already built (or read from an index file, `prebuilt`): only
    /// the affiliates are worked out here (a few milliseconds).
    pub fn from_prebuilt(p: crate::prebuilt::Prebuilt, policy: Policy) -> Screener {
        let affiliates = Affiliates::build(&p.watchlist);
        Screener {
            results: Default::default(),
            affiliates,
            watchlist: Arc::new(p.watchlist),
            index: p.index,
            addresses: p.addresses,
            policy,
            scorer: Scorer::new(Weights::default()),
            prune: Pruning::On,
        }
    }

    /// The same screener scoring every candidate the index offers (for the test that checks
    /// the score bound against full scoring; slower, never needed otherwise).
    #[doc(hidden)]
    pub fn without_pruning(mut self) -> Screener {
        self.prune = Pruning::Off;
        self
    }

    /// The same screener, checking that the first bound (from each record's facts) never
    /// drops a candidate the full bound keeps: it panics if it does (for tests; slower).
    #[doc(hidden)]
    pub fn checking_first_bound(mut self) -> Screener {
        self.prune = Pruning::Checked;
        self
    }

    /// Screens one party. An empty name is an error result, never clear.
    pub fn screen(&self, party: &Party) -> PartyResult {
        let key: PartyKey = (
            party.name.clone(),
            party.address.clone(),
            party.country.clone(),
            party.kind,
        );
        if let Ok(cache) = self.results.read() {
            if let Some(r) = cache.get(&key) {
                return r.clone();
            }
        }
        let result = self.screen_uncached(party);
        if let Ok(mut cache) = self.results.write() {
            if cache.len() < RESULT_CACHE_ENTRIES {
                cache.insert(key, result.clone());
            }
        }
        result
    }

    fn screen_uncached(&self, party: &Party) -> PartyResult {
        if party.name.trim().is_empty() {
            return PartyResult::error(format!("{}: no name to screen", party.role));
        }
        let country = party
            .country
            .as_deref()
            .or(party.address.as_ref().and_then(|a| a.country.as_deref()))
            .and_then(crate::geo::country_code);
        let mut hits = Vec::new();
        let mut screened = false;
        for variant in name_variants(&party.name) {
            let prepared = PreparedName::new(&variant, EntityKind::Unknown);
            let norm = prepared.finish(EntityKind::Unknown);
            if norm.is_empty() {
                continue;
            }
            screened = true;
            for h in self.name_hits(&variant, &prepared, &norm, party.kind, country) {
                match hits
                    .iter_mut()
                    .find(|x: &&mut Hit| x.entity_index == h.entity_index)
                {
                    Some(x) if x.score >= h.score => {}
                    Some(x) => *x = h,
                    None => hits.push(h),
                }
            }
        }
        if !screened {
            return PartyResult::error(format!(
                "{}: the name `{}` has no letters or digits to screen",
                party.role, party.name
            ));
        }
        let ownership = self.ownership_hits(&hits);
        hits.extend(ownership);
        hits.extend(self.address_hits(party));
        sort_hits(&mut hits);
        let decision = hits
            .iter()
            .map(|h| h.decision)
            .max()
            .unwrap_or(Decision::Clear);
        PartyResult {
            decision,
            hits,
            error: None,
        }
    }

    /// A name hit on an unlisted entity that listed parties own or control: the ownership or
    /// control path is a hit of its own (50% or more owned in aggregate blocks; the rest reviews).
    fn ownership_hits(&self, name_hits: &[Hit]) -> Vec<Hit> {
        let t = &self.policy.thresholds;
        name_hits
            .iter()
            .filter(|h| h.kind == HitKind::Name && h.score >= t.review)
            .filter_map(|h| {
                let exposure = self.affiliates.exposure(h.entity_index)?;
                let mut explanation = format!(
                    "the party matches `{}` (name score {:.2}), which is {}",
                    h.entity_name,
                    h.score,
                    exposure.evidence.join("; ")
                );
                if exposure.listed_share > 0.0 {
                    explanation.push_str(&format!(
                        "; owned {:.1}% in aggregate by listed parties",
                        exposure.listed_share * 100.0
                    ));
                }
                Some(Hit {
                    kind: HitKind::Ownership,
                    explanation,
                    decision: exposure.decision,
                    ..h.clone()
                })
            })
            .collect()
    }

    /// Listed entities registered at the party's address (premises or building level). Shared
    /// addresses are evidence for review, never a block on their own.
    fn address_hits(&self, party: &Party) -> Vec<Hit> {
        let Some(addr) = &party.address else {
            return Vec::new();
        };
        let mut addr = addr.clone();
        if addr.country.is_none() {
            addr.country = party.country.clone();
        }
        let parsed = address::parse(&addr);
        if !parsed.has_building() {
            return Vec::new();
        }
        let mut out: Vec<Hit> = Vec::new();
        for h in self.addresses.lookup(&parsed) {
            if h.matched.level < AddressLevel::Building {
                continue;
            }
            let entity = &self.watchlist.entities[h.entity];
            let listed_addr = entity.addresses[h.address].full();
            let list = self.watchlist.list_of(entity);
            let mut explanation = format!(
                "same {} as {} `{}`: party address `{}`, listed address `{}`; {}",
                h.matched.level.as_str(),
                if entity.status.listed {
                    "listed"
                } else {
                    "watched"
                },
                entity.primary_name(),
                addr.full(),
                listed_addr,
                h.matched.explanation
            );
            if h.mass_registration {
                explanation.push_str(&format!(
                    "; mass-registration address: {} entities share this building",
                    h.occupancy
                ));
            }
            let hit = Hit {
                entity_id: entity.id.clone(),
                entity_name: entity.primary_name().to_string(),
                matched_name: listed_addr,
                score: (h.matched.score * 1000.0).round() / 1000.0,
                kind: HitKind::Address,
                explanation,
                list: list.name.clone(),
                list_version: list.version.clone(),
                listed: entity.status.listed,
                decision: if h.mass_registration {
                    Decision::Clear
                } else {
                    Decision::Review
                },
                entity_index: h.entity,
                applied: None,
            };
            match out.iter_mut().find(|x| x.entity_index == h.entity) {
                Some(x) if x.score >= hit.score => {}
                Some(x) => *x = hit,
                None => out.push(hit),
            }
        }
        out
    }

    /// `prepared`: `raw`'s words as any kind but a person reads them (see [`PreparedName`]);
    /// `query`: them finished as `Unknown`.
    fn name_hits(
        &self,
        raw: &str,
        prepared: &PreparedName,
        query: &NormName,
        party_kind: EntityKind,
        country: Option<&str>,
    ) -> Vec<Hit> {
        let t = &self.policy.thresholds;
        // The query is normalized per kind of listed entity (person names reorder `SURNAME, Given`).
        // By kind as an index: looked up for every candidate, a hash of the kind cost more.
        let mut per_kind: [Option<crate::bound::KindQuery>; 5] = Default::default();
        let mut best: HashMap<u32, (f32, u32, NameMatch, bool)> = HashMap::new();
        let evidence = crate::bound::QueryEvidence::new(&self.index, query, TOKEN_FLOOR, t.report);
        let mut memo = crate::score::distance::SimilarityMemo::default();
        // A person's name is scored in its own order (`SURNAME, Given` given name first), whose
        // joined neighbours the index must look up too.
        let as_kind = |kind: EntityKind| {
            if prepared.serves(kind) {
                prepared.finish(kind)
            } else {
                normalize(raw, kind)
            }
        };
        let person = as_kind(EntityKind::Person);
        let candidates = self
            .index
            .candidates_in_orders(query, &[&person], TOKEN_FLOOR);
        // Two passes: the first bound over every candidate, from its facts; then the full
        // bound and the score over the few it keeps, from their records. On a large list both
        // are scattered, and each pass asks for what it reads next ahead of time.
        let mut kept: Vec<(u32, CandidateFlags, EntityKind)> = Vec::new();
        for (k, &(rid, flags)) in candidates.iter().enumerate() {
            if let Some(&(ahead, _)) = candidates.get(k + 8) {
                crate::prefetch(self.index.record_facts(ahead));
            }
            let facts = self.index.record_facts(rid);
            let kind = if party_kind == EntityKind::Unknown {
                facts.kind()
            } else {
                party_kind
            };
            let kq = per_kind[kind as usize].get_or_insert_with(|| {
                let norm = if kind == EntityKind::Person {
                    person.clone()
                } else {
                    as_kind(kind)
                };
                evidence.for_kind(&self.scorer, norm, kind)
            });
            // What the index saw bounds the score: a candidate that cannot reach the report
            // threshold is not aligned at all (most candidates share only a common word). The
            // first bound reads the record's facts, the full one its tokens.
            let prune = self.prune != Pruning::Off && !flags.embedded;
            if prune && evidence.first_bound(&self.scorer, kq, facts, &flags, kind) < t.report {
                if self.prune == Pruning::Checked {
                    let rec = &self.index.records[rid as usize];
                    let full = evidence.bound(&self.scorer, kq, &rec.norm, &flags, kind, &mut memo);
                    assert!(
                        full < t.report,
                        "the first bound dropped {:?} for {raw:?} as {kind:?}; the full bound is {full}",
                        self.watchlist.entities[rec.entity as usize].names[rec.name as usize].text,
                    );
                }
                continue;
            }
            kept.push((rid, flags, kind));
        }
        let records = &self.index.records;
        for (k, &(rid, flags, kind)) in kept.iter().enumerate() {
            // A record eight ahead, and the tokens of one four ahead (whose record was asked
            // for four candidates ago).
            if let Some(&(ahead, ..)) = kept.get(k + 8) {
                crate::prefetch(&records[ahead as usize]);
            }
            if let Some(&(ahead, ..)) = kept.get(k + 4) {
                crate::prefetch(records[ahead as usize].norm.tokens.as_ptr());
            }
            let kq = per_kind[kind as usize]
                .as_ref()
                .expect("every kept candidate's kind has its query");
            let q = &kq.norm;
            let rec = &records[rid as usize];
            let prune = self.prune != Pruning::Off && !flags.embedded;
            if prune
                && evidence.bound(&self.scorer, kq, &rec.norm, &flags, kind, &mut memo) < t.report
            {
                continue;
            }
            // Score first; the explanation is built only for what will be reported.
            let quick = self.scorer.score_with(q, &rec.norm, kind, &mut memo);
            if quick < t.report && !flags.embedded {
                continue;
            }
            let mut m = self.scorer.compare_with(q, &rec.norm, kind, &mut memo);
            if flags.embedded && m.score < t.review {
                m.score = t.review;
                m.notes
                    .push("the listed name appears whole inside the party's name".into());
            }
            // A homonym in another country (Planar Systems of Oregon vs OJSC Planar of Minsk).
            let entity = &self.watchlist.entities[rec.entity as usize];
            if let Some(cc) = country {
                let theirs = entity_countries(entity);
                if !theirs.is_empty() && !theirs.contains(&cc) {
                    m.score -= COUNTRY_MISMATCH;
                    m.notes.push(format!(
                        "countries differ (party {cc}, listed {})",
                        theirs.join(", ")
                    ));
                }
            }
            // A weak alias (OFAC's "weak a.k.a.", a nickname quoted in the remarks: JULIA, MIKE)
            // is too broad to alert on part of a name: only a party named that, closely, is a
            // hit, and never more than review.
            let weak = entity.names[rec.name as usize].name_type == NameType::Weak;
            if weak && m.score < t.block {
                continue;
            }
            if weak {
                m.notes
                    .push("weak alias of the listed entity: review at most".into());
            }
            if m.score < t.report {
                continue;
            }
            let e = best
                .entry(rec.entity)
                .or_insert((-1.0, 0, NameMatch::default(), false));
            if m.score > e.0 {
                *e = (m.score, rec.name, m, flags.embedded);
            }
        }
        best.into_iter()
            .map(|(ei, (score, ni, m, _))| {
                let entity = &self.watchlist.entities[ei as usize];
                let list = self.watchlist.list_of(entity);
                let weak = entity.names[ni as usize].name_type == NameType::Weak;
                let decision = if entity.status.listed && score >= t.block && !weak {
                    Decision::Block
                } else if score >= t.review {
                    Decision::Review
                } else {
                    Decision::Clear
                };
                Hit {
                    entity_id: entity.id.clone(),
                    entity_name: entity.primary_name().to_string(),
                    matched_name: entity.names[ni as usize].text.clone(),
                    score: (score * 1000.0).round() / 1000.0,
                    kind: HitKind::Name,
                    explanation: m.to_string(),
                    list: list.name.clone(),
                    list_version: list.version.clone(),
                    listed: entity.status.listed,
                    decision,
                    entity_index: ei as usize,
                    applied: None,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Screens a consignee named `name`.
    fn screen_with(s: &Screener, name: &str) -> PartyResult {
        s.screen(&Party {
            role: "consignee".into(),
            name: name.into(),
            ..Default::default()
        })
    }

    fn screen(name: &str) -> PartyResult {
        screen_with(
            &Screener::new(crate::watchlist::seed(), Policy::default()),
            name,
        )
    }

    #[test]
    fn a_persons_surname_joined_in_the_list_is_found_from_surname_first() {
        // Scored given name first, `Javad Bordbar Shir Amin` joins `Bordbar Shir Amin` into the
        // listed `BORDBARSHERAMIN`; the index must look that run up, not only the runs of the
        // name as written.
        let wl = crate::model::Watchlist::from_names(
            EntityKind::Person,
            ["BORDBARSHERAMIN, Javad".to_string()],
        );
        let s = Screener::new(wl, Policy::default());
        let r = screen_with(&s, "SHIR AMIN, Javad Bordbar");
        assert_eq!(r.decision, Decision::Review, "{r:?}");
        assert_eq!(r.hits.len(), 1);
        assert!(r.hits[0].score >= 0.95, "{}", r.hits[0].score);
    }

    /// Screens `query` against `wl` with and without the score bound, expects the same result,
    /// and returns it.
    fn same_with_and_without_bound(wl: Watchlist, query: &str) -> PartyResult {
        let pruned = Screener::new(wl.clone(), Policy::default());
        let whole = Screener::new(wl, Policy::default()).without_pruning();
        let r = screen_with(&pruned, query);
        assert_eq!(r, screen_with(&whole, query));
        r
    }

    /// Screens `query` against persons `listed` with and without the score bound: the same
    /// result, one hit, scoring in `scores`.
    fn bound_keeps_the_hit(listed: &str, query: &str, scores: std::ops::Range<f32>) {
        let wl = Watchlist::from_names(
            EntityKind::Person,
            [listed.to_string(), "Kim Kabi Trading".to_string()],
        );
        let r = same_with_and_without_bound(wl, query);
        assert_eq!(r.hits.len(), 1, "{r:?}");
        assert!(scores.contains(&r.hits[0].score), "{}", r.hits[0].score);
    }

    #[test]
    fn a_word_aligns_only_with_what_its_lookup_finds() {
        // `ARKM` shares no folded trigram with `AKRAM` and is two edits from it: no lookup finds
        // the pair, so the scorer does not align it either (0.74 by the distance alone), and
        // the name is no hit, with or without the bound. `GHADAFFI` / `HADAA` (one folded
        // trigram shared) likewise.
        for (listed, party) in [
            ("AKRAM ABAS AL KABI", "ARKM AL KABI"),
            ("ABDUL IVANOVICH HADAA", "ABDUL GHADAFFI"),
        ] {
            let wl = Watchlist::from_names(EntityKind::Person, [listed.to_string()]);
            let r = same_with_and_without_bound(wl, party);
            assert!(r.hits.is_empty(), "{party}: {r:?}");
        }
        // One edit from the listed word (a letter left out, two swapped) is found and aligned.
        bound_keeps_the_hit("AKRAM ABAS AL KABI", "AKRM AL KABI", 0.80..0.95);
        bound_keeps_the_hit("AKRAM ABAS AL KABI", "AKARM AL KABI", 0.80..0.95);
    }

    #[test]
    fn a_particle_like_a_listed_word_still_counts_in_the_bound() {
        // The index never searches the particle `ABD`, but the scorer pairs it with `ABID`
        // (0.77): the bound must count that pair, or it prunes a hit scoring 0.82.
        bound_keeps_the_hit("ABID BAHA KIM", "ABD KIM", 0.80..0.85);
    }

    #[test]
    fn an_x_and_its_ks_pair_in_the_index() {
        // `Aleksandr` / `Alexander` share no folded trigram unless `ks` folds as `x`: the index
        // left them unpaired and the bound pruned the namesake (0.81).
        bound_keeps_the_hit(
            "MANUYLOV, Alexander",
            "MANUYLOV, Aleksandr Leonidovich",
            0.80..0.85,
        );
    }

    #[test]
    fn a_candidate_is_dropped_only_when_the_words_left_on_both_sides_contradict() {
        // The index pairs `Muhammad` and `Ali`; `Lisawi` and `Kawtharani` are left over on both
        // sides, which the score charges as a contradiction (0.57): no hit, with or without the
        // bound. With a typo the lookup finds (`Enegry` / `Energy`) the hit stays; with one it
        // does not (`Elregy`: one folded trigram of six shared, two edits) there is none.
        let wl = Watchlist::from_names(EntityKind::Person, ["Muhammad Ali Kawtharani"]);
        let r = same_with_and_without_bound(wl, "Muhammad Ali Lisawi");
        assert!(r.hits.is_empty(), "{r:?}");
        let wl = Watchlist::from_names(EntityKind::Organization, ["Energy Rosneft Trading"]);
        let r = same_with_and_without_bound(wl.clone(), "Enegry Rosneft Trading");
        assert_eq!(r.hits.len(), 1, "{r:?}");
        let r = same_with_and_without_bound(wl, "Elregy Rosneft Trading");
        assert!(r.hits.is_empty(), "{r:?}");
    }

    #[test]
    fn a_name_without_letters_is_an_error_never_clear() {
        for name in ["", "   ", "«» — ...", "(-)"] {
            let r = screen(name);
            assert_eq!(r.decision, Decision::Error, "{name:?}");
            assert!(r.error.is_some());
        }
    }

    #[test]
    fn each_alias_of_a_listed_name_joined_by_a_slash_is_found() {
        let mut wl = Watchlist::from_names(EntityKind::Organization, ["Al-Qa'ida/Islamic Army"]);
        wl.entities[0].status.listed = true;
        let s = Screener::new(wl, Policy::default());
        for name in ["Al Qaida", "Islamic Army", "Al-Qa'ida/Islamic Army"] {
            let r = screen_with(&s, name);
            assert_eq!(r.decision, Decision::Block, "{name}");
            assert_eq!(r.hits[0].matched_name, "Al-Qa'ida/Islamic Army");
        }
    }

    #[test]
    fn a_vessels_single_word_name_inside_a_company_name_is_no_hit() {
        let mut wl = Watchlist::from_names(EntityKind::Vessel, ["DANIEL", "FOREST"]);
        let mut orgs = Watchlist::from_names(EntityKind::Organization, ["Tradetools"]);
        orgs.lists[0].name = "orgs".into();
        wl.merge(orgs);
        let s = Screener::new(wl, Policy::default());
        let screen = |name: &str| screen_with(&s, name);
        assert_eq!(
            screen("Daniel Schmidt Maschinenbau GmbH").decision,
            Decision::Clear
        );
        assert_eq!(
            screen("Forest Hill Timber Export AB").decision,
            Decision::Clear
        );
        let r = screen("Tradetools Export LLC");
        assert_eq!(r.decision, Decision::Review);
        assert_eq!(r.hits[0].entity_name, "Tradetools");
    }

    #[test]
    fn names_in_arabic_script_find_their_latin_forms_and_back() {
        // Every token differs in its short vowels: only consonants can find them.
        let mut wl = Watchlist::from_names(EntityKind::Person, ["Mohammed Hassan"]);
        let mut arabic = Watchlist::from_names(EntityKind::Person, ["محمد حسن"]);
        arabic.lists[0].name = "arabic".into();
        wl.merge(arabic);
        let s = Screener::new(wl, Policy::default());
        let screen = |name: &str| screen_with(&s, name);
        let from_arabic = screen("محمد حسن");
        assert!(from_arabic
            .hits
            .iter()
            .any(|h| h.matched_name == "Mohammed Hassan"));
        let from_latin = screen("Mohammed Hassan");
        assert!(from_latin.hits.iter().any(|h| h.matched_name == "محمد حسن"));
        assert!(from_latin.decision >= Decision::Review);
        assert!(screen("Fabrizio Bruni").hits.is_empty());
    }

    #[test]
    fn a_parenthesised_acronym_is_read_on_its_own() {
        let r = screen("Foreign Intelligence Service (SVR)");
        assert_eq!(r.decision, Decision::Review);
        assert_eq!(r.hits[0].entity_id, "svr");
    }

    #[test]
    fn the_same_party_twice_gives_the_same_answer() {
        let s = Screener::new(crate::watchlist::seed(), Policy::default());
        let p = Party {
            role: "consignee".into(),
            name: "ООО «Робин Трейд»".into(),
            ..Default::default()
        };
        let first = s.screen(&p);
        assert_eq!(first.decision, Decision::Block);
        assert_eq!(s.screen(&p), first, "the cached answer is the computed one");
    }
}
