//! Batch screening: rows in, screened rows out, in input order, in parallel, in bounded memory.
//!
//! A reader thread parses rows into a bounded queue; the screening loop takes them in chunks,
//! screens each chunk's parties on all cores (rayon) and writes and flushes the chunk before taking
//! the next, so memory does not grow with the input (at most two chunks of rows are held). A chunk
//! is whatever arrived within [`CHUNK_WAIT`] of its first row, up to [`CHUNK_ROWS`]: a fast file
//! fills whole chunks, while a slow pipe (an ERP writing rows as it goes) sees each row's result
//! shortly after writing it, without closing its end. Not here: the CLI's progress bar and summary printing (the caller gets a
//! [`Summary`] and a per-chunk callback).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::mpsc::{sync_channel, RecvTimeoutError};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::Serialize;

use crate::address::{self, ParsedAddress};
use crate::error::Result;
use crate::input::{ShipmentReader, ShipmentRow};
use crate::output::{ResultWriter, ScreenedRow};
use crate::policy::Decision;
use crate::screen::{PartyResult, Screener};
use crate::store::audit::RunRecorder;
use crate::store::{DecisionBook, Store};

/// Rows screened per parallel chunk.
pub const CHUNK_ROWS: usize = 2048;

/// How long a chunk waits for more rows after its first before it is screened anyway.
pub const CHUNK_WAIT: Duration = Duration::from_millis(50);

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub rows: u64,
    pub parties: u64,
    /// Rows by decision.
    pub rows_by_decision: BTreeMap<&'static str, u64>,
    /// Parties by decision.
    pub parties_by_decision: BTreeMap<&'static str, u64>,
    /// Hit counts per listed entity (`list:id name`), for the summary.
    pub entities_hit: BTreeMap<String, u64>,
    /// Parties of this file with different names registered in one building.
    pub clusters: Vec<Cluster>,
}

/// Counterparties of one batch that share a building: unknown consignees at one address are a
/// red flag by themselves, listed or not.
#[derive(Debug, Clone, Serialize)]
pub struct Cluster {
    /// One of the addresses as written.
    pub address: String,
    /// How many different party names share the building.
    pub distinct_names: usize,
    /// Up to [`CLUSTER_MEMBERS_SHOWN`] rows per name.
    pub members: Vec<ClusterMember>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClusterMember {
    pub row: u64,
    pub party: String,
    pub name: String,
    pub address: String,
}

/// Rows listed per party name in a cluster.
pub const CLUSTER_MEMBERS_SHOWN: usize = 3;
/// Distinct (name, address) pairs tracked for clusters; beyond it a batch reports what it saw.
pub const CLUSTER_TRACK_LIMIT: usize = 500_000;

/// Collects the batch's party addresses and groups those that share a building.
#[derive(Default)]
struct ClusterTracker {
    index: std::collections::HashMap<(String, String), usize>,
    addresses: Vec<ParsedAddress>,
    names: Vec<String>,
    members: Vec<Vec<ClusterMember>>,
}

impl ClusterTracker {
    fn add(&mut self, name_key: String, parsed: ParsedAddress, member: ClusterMember) {
        let key = (name_key.clone(), member.address.clone());
        if let Some(&i) = self.index.get(&key) {
            if self.members[i].len() < CLUSTER_MEMBERS_SHOWN {
                self.members[i].push(member);
            }
            return;
        }
        if self.addresses.len() >= CLUSTER_TRACK_LIMIT {
            return;
        }
        self.index.insert(key, self.addresses.len());
        self.addresses.push(parsed);
        self.names.push(name_key);
        self.members.push(vec![member]);
    }

    fn finish(self) -> Vec<Cluster> {
        let mut out: Vec<Cluster> = address::clusters(&self.addresses)
            .into_iter()
            .filter_map(|group| {
                let mut names: Vec<&str> = group.iter().map(|&i| self.names[i].as_str()).collect();
                names.sort_unstable();
                names.dedup();
                if names.len() < 2 {
                    return None;
                }
                let mut members: Vec<ClusterMember> = group
                    .iter()
                    .flat_map(|&i| self.members[i].iter().cloned())
                    .collect();
                members.sort_by_key(|m| m.row);
                Some(Cluster {
                    address: self.addresses[group[0]].raw.clone(),
                    distinct_names: names.len(),
                    members,
                })
            })
            .collect();
        out.sort_by(|a, b| {
            b.distinct_names
                .cmp(&a.distinct_names)
                .then(a.address.cmp(&b.address))
        });
        out
    }
}

impl Summary {
    /// The worst row decision seen.
    pub fn worst(&self) -> Decision {
        [
            Decision::Error,
            Decision::Block,
            Decision::Review,
            Decision::Clear,
        ]
        .into_iter()
        .find(|d| self.rows_by_decision.get(d.as_str()).copied().unwrap_or(0) > 0)
        .unwrap_or(Decision::Clear)
    }

    fn add(&mut self, s: &ScreenedRow) {
        self.rows += 1;
        *self
            .rows_by_decision
            .entry(s.decision().as_str())
            .or_insert(0) += 1;
        for r in &s.results {
            self.parties += 1;
            *self
                .parties_by_decision
                .entry(r.decision.as_str())
                .or_insert(0) += 1;
            for h in r.hits.iter().filter(|h| h.decision != Decision::Clear) {
                *self
                    .entities_hit
                    .entry(format!("{}:{} {}", h.list, h.entity_id, h.entity_name))
                    .or_insert(0) += 1;
            }
        }
    }
}

/// What a batch with a decision store adds: the decisions in force applied to every party, and
/// every screened row recorded in the run's audit trail (written chunk by chunk).
pub struct Recording<'a> {
    pub book: &'a DecisionBook,
    pub store: &'a mut dyn Store,
    pub recorder: &'a mut RunRecorder,
}

/// Screens every row of `reader` into `writer`. `on_chunk` is called with the rows done so far.
pub fn run<R: Read + Send + 'static, W: Write>(
    reader: ShipmentReader<R>,
    screener: &Screener,
    writer: &mut ResultWriter<W>,
    on_chunk: impl FnMut(u64),
) -> Result<Summary> {
    run_observed(reader, screener, writer, None, on_chunk, |_| {})
}

/// As [`run`], with a decision store's `recording` when given, and `on_row` seeing each screened
/// row after it is written (for the HTML report, which keeps what it needs of it; the row itself
/// is dropped with its chunk).
pub fn run_observed<R: Read + Send + 'static, W: Write>(
    reader: ShipmentReader<R>,
    screener: &Screener,
    writer: &mut ResultWriter<W>,
    mut recording: Option<Recording>,
    mut on_chunk: impl FnMut(u64),
    mut on_row: impl FnMut(&ScreenedRow),
) -> Result<Summary> {
    let book = recording.as_ref().map(|r| r.book);
    let (tx, rx) = sync_channel::<Result<ShipmentRow>>(CHUNK_ROWS);
    // Detached on purpose: when writing fails, the caller returns at once; the reader thread ends
    // at its next send (the queue is gone) instead of holding the caller up on a stalled input.
    let feeder = std::thread::Builder::new()
        .name("redflag-reader".into())
        .spawn(move || {
            let mut reader = reader;
            while let Some(item) = reader.next_row().transpose() {
                let failed = item.is_err();
                if tx.send(item).is_err() || failed {
                    break;
                }
            }
        })
        .map_err(|e| crate::Error::io("<reader thread>", e))?;
    let mut summary = Summary::default();
    let mut tracker = ClusterTracker::default();
    let mut chunk = Vec::with_capacity(CHUNK_ROWS);
    let mut more = true;
    while more {
        chunk.clear();
        match rx.recv() {
            Ok(item) => chunk.push(item?),
            Err(_) => break,
        }
        let deadline = Instant::now() + CHUNK_WAIT;
        while chunk.len() < CHUNK_ROWS {
            // Rows already queued are taken even once the deadline has passed.
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(item) => chunk.push(item?),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => {
                    more = false;
                    break;
                }
            }
        }
        let screened: Vec<(ScreenedRow, Vec<Option<PartyBuilding>>)> = chunk
            .par_drain(..)
            .map(|row| {
                let results: Vec<PartyResult> = if row.error.is_some() {
                    Vec::new()
                } else {
                    row.parties
                        .iter()
                        .map(|p| {
                            let mut r = screener.screen(p);
                            if let Some(book) = book {
                                book.apply(screener, p, &mut r);
                            }
                            r
                        })
                        .collect()
                };
                let addresses = row.parties.iter().map(party_building).collect();
                (ScreenedRow { row, results }, addresses)
            })
            .collect();
        for (s, addresses) in screened {
            writer.write(&s)?;
            summary.add(&s);
            if let Some(rec) = recording.as_mut() {
                record_row(rec.recorder, screener, &s);
            }
            on_row(&s);
            for (p, a) in s.row.parties.iter().zip(addresses) {
                if let Some((name_key, parsed)) = a {
                    let member = ClusterMember {
                        row: s.row.row,
                        party: p.role.clone(),
                        name: p.name.clone(),
                        address: parsed.raw.clone(),
                    };
                    tracker.add(name_key, parsed, member);
                }
            }
        }
        writer.flush()?;
        if let Some(rec) = recording.as_mut() {
            rec.recorder.flush(rec.store, false)?;
        }
        on_chunk(summary.rows);
    }
    summary.clusters = tracker.finish();
    for c in &summary.clusters {
        writer.write_cluster(c)?;
    }
    writer.flush()?;
    let _ = feeder.join();
    Ok(summary)
}

/// Hands a screened row to the run's recorder; a row that could not be read is recorded as
/// an error result, so the trail shows it was not screened.
fn record_row(recorder: &mut RunRecorder, screener: &Screener, s: &ScreenedRow) {
    recorder.row();
    match &s.row.error {
        Some(e) => recorder.party(
            screener,
            s.row.row,
            &crate::screen::Party::default(),
            &PartyResult::error(e.clone()),
        ),
        None => {
            for (p, r) in s.row.parties.iter().zip(&s.results) {
                recorder.party(screener, s.row.row, p, r);
            }
        }
    }
}

/// A party's normalized name and its parsed address.
type PartyBuilding = (String, ParsedAddress);

/// A party's normalized name and parsed address, when the address names a building.
fn party_building(p: &crate::screen::Party) -> Option<PartyBuilding> {
    let mut a = p.address.clone()?;
    if a.country.is_none() {
        a.country = p.country.clone();
    }
    let parsed = address::parse(&a);
    if !parsed.has_building() {
        return None;
    }
    let key = crate::text::normalize(&p.name, crate::model::EntityKind::Unknown).key();
    Some((key, parsed))
}
