//! The decision store: analysts' decisions, the hash-chained audit trail of runs, and the parties
//! seen (what `rescreen` screens again), in SQLite (embedded, the default) or PostgreSQL (several
//! server replicas sharing one store).
//!
//! This file holds the [`Store`] trait both back ends implement, the row shapes they exchange, and
//! [`open`], which picks the back end from `--store`. The logic on top is the same for both:
//! `decisions` (party keys, applying decisions to hits, CSV), `audit` (run records, the chain,
//! verification), `rescreen`. `migrations` holds the schema per version and dialect.
//! Not here: screening (`screen`), or anything that depends on which database is used.

pub mod audit;
pub mod decisions;
pub mod migrations;
mod postgres;
pub mod rescreen;
mod sqlite;

use serde::{Deserialize, Serialize};

use crate::decision::Disposition;
use crate::error::Result;
use crate::model::Address;
use crate::policy::Decision;

pub use audit::AuditRecord;
pub use decisions::{DecisionBook, PartyKey};

/// One decision as stored: a screened party (by its key, and as it was written) tied to one
/// listed entity (list and id, and the fingerprint of its record when decided).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRecord {
    /// The store's id; 0 for a decision not stored yet.
    pub id: i64,
    pub key: PartyKey,
    /// The party as written when decided, for people reading the decision.
    pub name: String,
    pub country: Option<String>,
    pub address: Option<String>,
    pub list: String,
    pub entity_id: String,
    pub entity_name: String,
    /// `Entity::fingerprint` of the listed entity when decided: the decision stops applying
    /// when the list changes the entity's record.
    pub fingerprint: String,
    pub disposition: Disposition,
    pub reason: String,
    pub decided_by: String,
    /// RFC 3339, UTC.
    pub decided_at: String,
    /// RFC 3339, UTC: the decision applies before this instant only.
    pub expires_at: Option<String>,
}

/// What the store last answered about one hit of a party (for `rescreen`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenHit {
    pub list: String,
    pub entity_id: String,
    pub fingerprint: String,
    pub decision: Decision,
}

/// A party the store has seen, as last screened, and what it was answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartyState {
    pub key: PartyKey,
    pub name: String,
    pub country: Option<String>,
    pub address: Option<Address>,
    /// The run that last screened it.
    pub last_run: String,
    pub answer: Vec<SeenHit>,
}

/// Whether [`Store::add_decisions`] stored a decision or found the same one already in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    New(i64),
    /// Identical (disposition, reason, analyst, fingerprint, expiry) to the latest decision on
    /// the same party and entity: not stored twice, so importing a file again doubles nothing.
    Unchanged(i64),
}

impl Added {
    pub fn id(self) -> i64 {
        match self {
            Added::New(id) | Added::Unchanged(id) => id,
        }
    }
}

/// A decision store. Every write is one transaction; concurrent writers (a server and CLI runs,
/// several replicas) wait for each other instead of losing or doubling a write.
pub trait Store: Send {
    /// Stores decisions, all or none. See [`Added`] for decisions already in force.
    fn add_decisions(&mut self, decisions: &[DecisionRecord]) -> Result<Vec<Added>>;
    /// Every decision (oldest first), or those on one party.
    fn decisions(&mut self, party: Option<&PartyKey>) -> Result<Vec<DecisionRecord>>;
    /// Appends an audit record after the current last one, chaining it by hash. `run` None
    /// starts a new run whose id is derived from the record's sequence number.
    fn append_audit(&mut self, run: Option<&str>, kind: &str, body: &str) -> Result<AuditRecord>;
    /// The audit records in sequence order, all or one run's.
    fn audit(&mut self, run: Option<&str>) -> Result<Vec<AuditRecord>>;
    /// Stores the per-party results of a run (JSON bodies), numbered from `first`.
    fn add_run_parties(&mut self, run: &str, first: u64, bodies: &[String]) -> Result<()>;
    /// A run's per-party results in order.
    fn run_parties(&mut self, run: &str) -> Result<Vec<String>>;
    /// Records the latest answer for each party (replacing the previous one).
    fn remember(&mut self, parties: &[PartyState]) -> Result<()>;
    /// Every party the store has seen, with its latest answer.
    fn parties(&mut self) -> Result<Vec<PartyState>>;
}

/// The columns of a decision row, in the order both back ends read them.
const DECISION_COLUMNS: &str = "id, key_name, key_country, key_address, name, country, address, \
     list, entity_id, entity_name, fingerprint, disposition, reason, decided_by, decided_at, expires_at";

/// Upserts a party's state (`$1`..`$4`: key name, country, address, state JSON). Both dialects
/// read `$N` as the N-th parameter.
const REMEMBER_SQL: &str = "INSERT INTO parties (key_name, key_country, key_address, state) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (key_name, key_country, key_address) \
     DO UPDATE SET state = excluded.state";

/// Every party's state, in key order.
const PARTIES_SQL: &str = "SELECT state FROM parties ORDER BY key_name, key_country, key_address";

/// A stored party state, read back.
fn party_state(store: &str, json: &str) -> Result<PartyState> {
    serde_json::from_str(json).map_err(|e| crate::Error::StoreCorrupt {
        store: store.to_string(),
        message: format!("a party record is not readable: {e}"),
    })
}

/// Opens the store `--store` names: a `postgres://` or `postgresql://` URL, else a SQLite file
/// (created when missing; an existing file that is not a redflag store is an error).
pub fn open(spec: &str) -> Result<Box<dyn Store>> {
    if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
        Ok(Box::new(postgres::PgStore::connect(spec)?))
    } else {
        Ok(Box::new(sqlite::SqliteStore::open(std::path::Path::new(
            spec,
        ))?))
    }
}

/// A store URL or path for messages: the password of a URL is hidden.
pub fn display_name(spec: &str) -> String {
    match (spec.find("://"), spec.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &spec[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &spec[..scheme + 3], &spec[at..]),
                None => spec.to_string(),
            }
        }
        _ => spec.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_hidden_in_messages() {
        assert_eq!(
            super::display_name("postgres://rf:secret@127.0.0.1:5432/db"),
            "postgres://rf:***@127.0.0.1:5432/db"
        );
        assert_eq!(super::display_name("/tmp/x.db"), "/tmp/x.db");
    }
}
