//! The audit trail: every `screen`, `check`, `rescreen` and API call with a store appends a run,
//! and `audit verify` proves nothing was edited or deleted since.
//!
//! A run is two records: `start` (time, redflag version, command, input, each list's source,
//! version, content hash and entry count, the policy) when it begins, and `finish` (status
//! `complete` or `incomplete` with the error, input hash, counts per decision, and the hash of
//! every party's result) when it ends. A run without a `finish` record stopped midway and is
//! shown as incomplete, never as clear. Each party's result (hits, fingerprints of the entities
//! hit, decisions applied) is stored beside the chain and covered by the `finish` record's
//! `parties_hash`. Each record's hash covers its sequence number, run, kind, body and the
//! previous record's hash, so an edit, a deletion or an insertion breaks the chain from there.
//! Not here: storage (`store`), deciding anything.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{PartyKey, PartyState, SeenHit, Store};
use crate::error::{Error, Result};
use crate::screen::{Hit, Party, PartyResult, Screener};

/// One record of the chain, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    /// 1, 2, 3, ... without gaps.
    pub seq: i64,
    pub run_id: String,
    /// `start` or `finish`.
    pub kind: String,
    /// The record's content, JSON.
    pub body: String,
    /// The previous record's hash; empty for the first.
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of a record: SHA-256 over the previous hash, sequence number, run, kind and body.
pub fn record_hash(prev_hash: &str, seq: i64, run_id: &str, kind: &str, body: &str) -> String {
    let seq = seq.to_string();
    crate::watchlist::sha256_hex([
        prev_hash.as_bytes(),
        b"\n",
        seq.as_bytes(),
        b"\n",
        run_id.as_bytes(),
        b"\n",
        kind.as_bytes(),
        b"\n",
        body.as_bytes(),
    ])
}

/// The record that follows `last` (its sequence number and hash), for a back end to insert
/// under its write lock. A new run's id is `R` and the record's sequence number.
pub fn next_record(
    last: Option<(i64, String)>,
    run: Option<&str>,
    kind: &str,
    body: &str,
) -> AuditRecord {
    let (seq, prev_hash) = match last {
        Some((s, h)) => (s + 1, h),
        None => (1, String::new()),
    };
    let run_id = run.map(str::to_string).unwrap_or_else(|| format!("R{seq}"));
    AuditRecord {
        hash: record_hash(&prev_hash, seq, &run_id, kind, body),
        seq,
        run_id,
        kind: kind.to_string(),
        body: body.to_string(),
        prev_hash,
    }
}

/// The hash `finish` records over a run's party results, in order.
fn parties_hash<'a>(bodies: impl IntoIterator<Item = &'a str>) -> String {
    let mut h = Sha256::new();
    for b in bodies {
        h.update(b.as_bytes());
        h.update(b"\n");
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A reader that hashes what passes through it (the input hash of a run), readable afterwards
/// from another thread through [`InputHash`].
pub struct HashingReader<R> {
    inner: R,
    hasher: Arc<Mutex<Sha256>>,
}

/// The handle to a [`HashingReader`]'s hash.
#[derive(Clone)]
pub struct InputHash(Arc<Mutex<Sha256>>);

impl InputHash {
    /// `sha256:` and the hex digest of everything read so far.
    pub fn hex(&self) -> String {
        let h = self
            .0
            .lock()
            .map(|h| h.clone().finalize())
            .unwrap_or_default();
        format!(
            "sha256:{}",
            h.iter().map(|b| format!("{b:02x}")).collect::<String>()
        )
    }
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> (HashingReader<R>, InputHash) {
        let hasher = Arc::new(Mutex::new(Sha256::new()));
        (
            HashingReader {
                inner,
                hasher: hasher.clone(),
            },
            InputHash(hasher),
        )
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Ok(mut h) = self.hasher.lock() {
            h.update(&buf[..n]);
        }
        Ok(n)
    }
}

/// The input hash of a document given as a value (a shipment, an API request).
pub fn value_hash<T: Serialize>(value: &T) -> String {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    format!(
        "sha256:{}",
        crate::watchlist::sha256_hex([bytes.as_slice()])
    )
}

/// A hit as the audit trail keeps it: what was shown, plus the fingerprint of the entity's record.
#[derive(Serialize)]
struct AuditHit<'a> {
    #[serde(flatten)]
    hit: &'a Hit,
    fingerprint: String,
}

/// Party results buffered between flushes.
const FLUSH_PARTIES: usize = 4096;

/// Records one run: start it, hand it each party's result, finish it. Results are written in
/// batches (call [`RunRecorder::flush`] at convenient points; `finish` flushes the rest).
pub struct RunRecorder {
    pub run_id: String,
    ordinal: u64,
    rows: u64,
    by_decision: BTreeMap<&'static str, u64>,
    hasher: Sha256,
    pending: Vec<String>,
    states: HashMap<PartyKey, PartyState>,
}

impl RunRecorder {
    /// Appends the run's `start` record.
    pub fn start(
        store: &mut dyn Store,
        command: &str,
        input: &str,
        screener: &Screener,
    ) -> Result<RunRecorder> {
        let lists: Vec<serde_json::Value> = screener
            .watchlist
            .lists
            .iter()
            .map(|l| {
                json!({
                    "name": l.name, "format": l.format, "source": l.path, "version": l.version,
                    "published": l.published, "content_hash": l.content_hash,
                    "entity_count": l.entity_count,
                })
            })
            .collect();
        let body = json!({
            "time": crate::freshness::rfc3339(std::time::SystemTime::now()),
            "redflag_version": env!("CARGO_PKG_VERSION"),
            "command": command,
            "input": input,
            "watchlists": lists,
            "policy": screener.policy,
        });
        let rec = store.append_audit(None, "start", &body.to_string())?;
        Ok(RunRecorder {
            run_id: rec.run_id,
            ordinal: 0,
            rows: 0,
            by_decision: BTreeMap::new(),
            hasher: Sha256::new(),
            pending: Vec::new(),
            states: HashMap::new(),
        })
    }

    /// Counts a row (an input row, a shipment, a request).
    pub fn row(&mut self) {
        self.rows += 1;
    }

    /// Records one party's result as answered (decisions already applied).
    pub fn party(&mut self, screener: &Screener, row: u64, party: &Party, result: &PartyResult) {
        *self
            .by_decision
            .entry(result.decision.as_str())
            .or_insert(0) += 1;
        let fingerprints: Vec<String> = result
            .hits
            .iter()
            .map(|h| {
                screener
                    .watchlist
                    .entities
                    .get(h.entity_index)
                    .map(|e| e.fingerprint())
                    .unwrap_or_default()
            })
            .collect();
        let hits: Vec<AuditHit> = result
            .hits
            .iter()
            .zip(&fingerprints)
            .map(|(hit, fp)| AuditHit {
                hit,
                fingerprint: fp.clone(),
            })
            .collect();
        let body = json!({
            "row": row, "role": party.role, "name": party.name, "country": party.country,
            "address": party.address, "decision": result.decision, "hits": hits,
            "error": result.error,
        });
        let body = body.to_string();
        self.hasher.update(body.as_bytes());
        self.hasher.update(b"\n");
        self.pending.push(body);
        if result.error.is_none() {
            let key = PartyKey::of(party);
            let answer = result
                .hits
                .iter()
                .zip(fingerprints)
                .map(|(h, fingerprint)| SeenHit {
                    list: h.list.clone(),
                    entity_id: h.entity_id.clone(),
                    fingerprint,
                    decision: h.decision,
                })
                .collect();
            self.states.insert(
                key.clone(),
                PartyState {
                    key,
                    name: party.name.clone(),
                    country: party.country.clone(),
                    address: party.address.clone(),
                    last_run: self.run_id.clone(),
                    answer,
                },
            );
        }
    }

    /// Writes the buffered party results, when enough have gathered (or `force`).
    pub fn flush(&mut self, store: &mut dyn Store, force: bool) -> Result<()> {
        if !force && self.pending.len() < FLUSH_PARTIES {
            return Ok(());
        }
        if !self.pending.is_empty() {
            store.add_run_parties(&self.run_id, self.ordinal, &self.pending)?;
            self.ordinal += self.pending.len() as u64;
            self.pending.clear();
        }
        if !self.states.is_empty() {
            let states: Vec<PartyState> = self.states.drain().map(|(_, s)| s).collect();
            store.remember(&states)?;
        }
        Ok(())
    }

    /// Flushes and appends the `finish` record: complete, or incomplete with the error.
    pub fn finish(
        mut self,
        store: &mut dyn Store,
        outcome: std::result::Result<(), String>,
        input_hash: Option<String>,
    ) -> Result<String> {
        self.flush(store, true)?;
        let (status, error) = match outcome {
            Ok(()) => ("complete", None),
            Err(e) => ("incomplete", Some(e)),
        };
        let hash: String = self
            .hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let body = json!({
            "time": crate::freshness::rfc3339(std::time::SystemTime::now()),
            "status": status,
            "error": error,
            "input_hash": input_hash,
            "rows": self.rows,
            "parties": self.ordinal,
            "parties_by_decision": self.by_decision,
            "parties_hash": hash,
        });
        store.append_audit(Some(&self.run_id), "finish", &body.to_string())?;
        Ok(self.run_id)
    }
}

/// Records a small run at once (a shipment check, an API call): start, each party's result
/// with its row number, finish. Returns the run id.
pub fn record_run(
    store: &mut dyn Store,
    screener: &Screener,
    command: &str,
    input: &str,
    input_hash: String,
    rows: u64,
    parties: &[(u64, &Party, &PartyResult)],
) -> Result<String> {
    let mut recorder = RunRecorder::start(store, command, input, screener)?;
    recorder.rows = rows;
    for (row, party, result) in parties {
        recorder.party(screener, *row, party, result);
    }
    recorder.finish(store, Ok(()), Some(input_hash))
}

/// What `audit verify` found when the chain is whole.
#[derive(Debug, Clone, Serialize)]
pub struct Verified {
    pub records: usize,
    pub runs: usize,
    /// The last record's hash: keep it elsewhere to detect the deletion of the newest records,
    /// which a chain cannot show by itself.
    pub head: String,
}

/// Checks every record: sequence without gaps, each previous hash the one before, each hash
/// recomputed, and each finished run's party results against its `parties_hash`. The first
/// bad record is the error.
pub fn verify(store: &mut dyn Store) -> Result<Verified> {
    let records = store.audit(None)?;
    let mut prev = String::new();
    let mut runs = 0;
    for (i, r) in records.iter().enumerate() {
        let broken = |message: String| Error::AuditBroken {
            seq: r.seq,
            run: r.run_id.clone(),
            message,
        };
        let expected = i as i64 + 1;
        if r.seq != expected {
            return Err(broken(format!(
                "expected record {expected} here: records {expected}..{} were deleted",
                r.seq - 1
            )));
        }
        if r.prev_hash != prev {
            return Err(broken(
                "it does not follow the record before it (previous hash differs)".into(),
            ));
        }
        if record_hash(&r.prev_hash, r.seq, &r.run_id, &r.kind, &r.body) != r.hash {
            return Err(broken("its content was changed (hash differs)".into()));
        }
        if r.kind == "start" {
            runs += 1;
        }
        if r.kind == "finish" {
            let body: serde_json::Value = serde_json::from_str(&r.body)
                .map_err(|e| broken(format!("unreadable body: {e}")))?;
            let parties = store.run_parties(&r.run_id)?;
            let recorded = body["parties_hash"].as_str().unwrap_or("");
            if parties_hash(parties.iter().map(String::as_str)) != recorded
                || body["parties"].as_u64() != Some(parties.len() as u64)
            {
                return Err(broken(format!(
                    "the run's party results were changed, added or deleted ({} stored)",
                    parties.len()
                )));
            }
        }
        prev = r.hash.clone();
    }
    Ok(Verified {
        records: records.len(),
        runs,
        head: prev,
    })
}

/// What `audit show RUN` prints: the run's records and party results, and its status.
pub fn show(store: &mut dyn Store, run: &str) -> Result<serde_json::Value> {
    let records = store.audit(Some(run))?;
    if records.is_empty() {
        return Err(Error::Usage(format!("no run `{run}` in the audit trail")));
    }
    let body = |kind: &str| {
        records
            .iter()
            .find(|r| r.kind == kind)
            .and_then(|r| serde_json::from_str::<serde_json::Value>(&r.body).ok())
    };
    let (start, finish) = (body("start"), body("finish"));
    let status = match &finish {
        Some(f) => f["status"].as_str().unwrap_or("incomplete").to_string(),
        None => "incomplete".to_string(),
    };
    let parties: Vec<serde_json::Value> = store
        .run_parties(run)?
        .iter()
        .filter_map(|b| serde_json::from_str(b).ok())
        .collect();
    Ok(json!({
        "run": run,
        "status": status,
        "note": finish.is_none().then_some("no finish record: the run stopped midway"),
        "start": start,
        "finish": finish,
        "parties": parties,
    }))
}

/// A party result as `RunRecorder::party` stored it.
#[derive(serde::Deserialize)]
struct StoredParty {
    row: u64,
    role: String,
    name: String,
    country: Option<String>,
    address: Option<crate::model::Address>,
    decision: crate::policy::Decision,
    hits: Vec<Hit>,
    error: Option<String>,
}

/// The HTML report of a stored run (`audit report RUN`): the lists, the counts and the flagged
/// parties as the run recorded them, with the decisions it applied. Counts per row and party are
/// taken from the stored party results; name tokens are aligned again from the recorded names
/// (the entities' kinds are not recorded, so names are read as of unknown kind).
pub fn report_run(store: &mut dyn Store, run: &str) -> Result<crate::report::ReportRun> {
    use crate::report::{FlaggedParty, ReportCollector, ReportRun, PARTIES_SHOWN};
    let shown = show(store, run)?;
    let start = &shown["start"];
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let lists = start["watchlists"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|l| crate::model::ListInfo {
                    name: text(&l["name"]),
                    format: text(&l["format"]),
                    path: text(&l["source"]),
                    published: l["published"].as_str().map(str::to_string),
                    version: text(&l["version"]),
                    content_hash: text(&l["content_hash"]),
                    entity_count: l["entity_count"].as_u64().unwrap_or(0) as usize,
                    ..Default::default()
                })
                .collect()
        })
        .unwrap_or_default();
    let mut status = text(&shown["status"]);
    if let Some(e) = shown["finish"]["error"].as_str() {
        status = format!("{status}: {e}");
    } else if let Some(note) = shown["note"].as_str() {
        status = format!("{status}: {note}");
    }
    let mut report = ReportRun {
        run_id: Some(run.to_string()),
        status: Some(status),
        started_at: text(&start["time"]),
        redflag_version: text(&start["redflag_version"]),
        input: format!("{} {}", text(&start["command"]), text(&start["input"])),
        lists,
        ..Default::default()
    };
    let mut collector = ReportCollector::new(PARTIES_SHOWN);
    let mut rows: BTreeMap<u64, crate::policy::Decision> = BTreeMap::new();
    for body in shown["parties"].as_array().into_iter().flatten() {
        let p: StoredParty = serde_json::from_value(body.clone()).map_err(|e| {
            Error::Usage(format!(
                "run `{run}`: a stored party result is unreadable: {e}"
            ))
        })?;
        report.parties += 1;
        *report
            .parties_by_decision
            .entry(p.decision.as_str().to_string())
            .or_insert(0) += 1;
        let worst = rows.entry(p.row).or_insert(p.decision);
        *worst = (*worst).max(p.decision);
        let party = Party {
            role: p.role,
            name: p.name,
            address: p.address,
            country: p.country,
            ..Default::default()
        };
        let result = PartyResult {
            decision: p.decision,
            hits: p.hits,
            error: p.error,
        };
        if let Some(f) = FlaggedParty::from_result(p.row, &party, &result, |_| {
            crate::model::EntityKind::Unknown
        }) {
            collector.add(f);
        }
    }
    report.rows = rows.len() as u64;
    for d in rows.values() {
        *report
            .rows_by_decision
            .entry(d.as_str().to_string())
            .or_insert(0) += 1;
    }
    collector.finish_into(&mut report);
    Ok(report)
}
