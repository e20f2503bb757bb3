//! Delta screening (`redflag rescreen`): screens every party the store has seen against the
//! current lists, with the decisions in force, and reports only what is new or changed against
//! what the store last answered for that party, so a daily list update does not raise again the
//! alerts already cleared.
//!
//! A hit is reported when its decision (after decisions) is review or block and: the party had
//! no hit on that entity before (`new`), or the entity's record changed since (`entity-changed`:
//! its fingerprint differs, e.g. a new alias), or its decision rose (`decision-rose`: e.g. from
//! review to block, or from clear once a decision expired). A rescreen is a run of its own in
//! the audit trail, and its answers become the ones the next rescreen compares with.
//! Not here: screening (`screen`), applying decisions (`decisions`).

use rayon::prelude::*;
use serde::Serialize;

use super::audit::RunRecorder;
use super::{DecisionBook, PartyState, Store};
use crate::error::Result;
use crate::policy::Decision;
use crate::screen::{Hit, Party, PartyResult, Screener};

/// Why a hit is reported again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    New,
    EntityChanged,
    DecisionRose,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChangedHit {
    pub change: Change,
    /// The decision the store answered before, for `decision-rose` and `entity-changed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<Decision>,
    #[serde(flatten)]
    pub hit: Hit,
}

/// A party with new or changed alerts.
#[derive(Debug, Clone, Serialize)]
pub struct Alert {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The party's decision now.
    pub decision: Decision,
    pub hits: Vec<ChangedHit>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub run: String,
    pub parties: usize,
    pub alerts: Vec<Alert>,
}

impl Outcome {
    /// The worst decision among the reported hits (clear when nothing is new).
    pub fn worst(&self) -> Decision {
        self.alerts
            .iter()
            .flat_map(|a| a.hits.iter().map(|h| h.hit.decision))
            .max()
            .unwrap_or(Decision::Clear)
    }
}

/// The hits of `now` that are new or changed against `before`.
pub fn changes(screener: &Screener, before: &PartyState, now: &PartyResult) -> Vec<ChangedHit> {
    now.hits
        .iter()
        .filter(|h| h.decision >= Decision::Review)
        .filter_map(|h| {
            let prev = before
                .answer
                .iter()
                .find(|s| s.list == h.list && s.entity_id == h.entity_id);
            let fingerprint = || screener.watchlist.entities[h.entity_index].fingerprint();
            let change = match prev {
                None => Change::New,
                Some(p) if p.fingerprint != fingerprint() => Change::EntityChanged,
                Some(p) if h.decision > p.decision => Change::DecisionRose,
                Some(_) => return None,
            };
            Some(ChangedHit {
                change,
                previous: prev.map(|p| p.decision),
                hit: h.clone(),
            })
        })
        .collect()
}

/// Screens every party the store has seen and records the run; returns what changed.
pub fn rescreen(
    store: &mut dyn Store,
    screener: &Screener,
    book: &DecisionBook,
) -> Result<Outcome> {
    let seen = store.parties()?;
    let mut recorder = RunRecorder::start(store, "rescreen", "<parties in the store>", screener)?;
    let screened: Vec<(Party, PartyResult)> = seen
        .par_iter()
        .map(|s| {
            let party = Party {
                role: "party".into(),
                name: s.name.clone(),
                address: s.address.clone(),
                country: s.country.clone(),
                kind: Default::default(),
            };
            let mut result = screener.screen(&party);
            book.apply(screener, &party, &mut result);
            (party, result)
        })
        .collect();
    let mut alerts = Vec::new();
    for (i, (s, (party, result))) in seen.iter().zip(&screened).enumerate() {
        let hits = changes(screener, s, result);
        if !hits.is_empty() {
            alerts.push(Alert {
                name: party.name.clone(),
                country: party.country.clone(),
                address: party.address.as_ref().map(|a| a.full()),
                decision: result.decision,
                hits,
            });
        }
        recorder.row();
        recorder.party(screener, i as u64 + 1, party, result);
        recorder.flush(store, false)?;
    }
    let run = recorder.finish(store, Ok(()), None)?;
    Ok(Outcome {
        run,
        parties: seen.len(),
        alerts,
    })
}
