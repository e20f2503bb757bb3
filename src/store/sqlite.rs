//! The SQLite back end (rusqlite, SQLite compiled in): one file, WAL so readers never wait for
//! the writer, a busy timeout so concurrent writers (a server and CLI runs) queue instead of
//! failing, and `BEGIN IMMEDIATE` for every write so a transaction takes the write lock before
//! it reads what it builds on (the audit chain's last hash, the latest decision).
//! Not here: what the rows mean (`store::decisions`, `store::audit`).

use std::path::Path;
use std::time::Duration;

use rusqlite::{params, Connection, ErrorCode, OptionalExtension, TransactionBehavior};

use super::{
    audit, migrations, Added, AuditRecord, DecisionRecord, PartyKey, PartyState, Store,
    DECISION_COLUMNS,
};
use crate::decision::Disposition;
use crate::error::{Error, Result};

/// How long a writer waits for another writer's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

pub struct SqliteStore {
    conn: Connection,
    name: String,
}

/// Maps a SQLite error to the store's typed errors: damage is corrupt, contention unavailable.
fn sql_err(name: &str, e: rusqlite::Error) -> Error {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => Error::StoreCorrupt {
            store: name.to_string(),
            message: e.to_string(),
        },
        _ => Error::StoreUnavailable(format!("{name}: {e}")),
    }
}

/// Puts the database in WAL mode (kept in the file, so once is enough). Switching needs the
/// database to itself, and SQLite answers "locked" at once rather than through the busy
/// timeout while another connection is opening it: try again until the timeout has passed.
fn set_wal(conn: &Connection) -> rusqlite::Result<()> {
    let started = std::time::Instant::now();
    loop {
        let mode = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get::<_, String>(0))
            .and_then(|mode| {
                if mode.eq_ignore_ascii_case("wal") {
                    Ok(mode)
                } else {
                    conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
                }
            });
        match mode {
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::DatabaseBusy
                    && started.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            other => return other.map(|_| ()),
        }
    }
}

impl SqliteStore {
    /// Opens (or creates) the store file and brings its schema to the latest version.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        let name = path.display().to_string();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.is_dir() {
                return Err(Error::StoreUnavailable(format!(
                    "{name}: the directory {} does not exist",
                    dir.display()
                )));
            }
        }
        let e = |err| sql_err(&name, err);
        let conn = Connection::open(path).map_err(e)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(e)?;
        // A file that is not a SQLite database fails here, before anything is written to it.
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
            .and_then(|mut s| {
                s.query_map([], |r| r.get::<_, String>(0))?
                    .collect::<rusqlite::Result<Vec<String>>>()
            })
            .map_err(e)?;
        if !tables.is_empty() && !tables.iter().any(|t| t == "schema_version") {
            return Err(Error::StoreCorrupt {
                store: name,
                message: format!(
                    "a SQLite database without a schema_version table (tables: {}); \
                     it was not written by redflag and is left as it is",
                    tables.join(", ")
                ),
            });
        }
        set_wal(&conn).map_err(e)?;
        conn.execute_batch("PRAGMA synchronous = NORMAL")
            .map_err(e)?;
        let mut store = SqliteStore { conn, name };
        store.migrate()?;
        Ok(store)
    }

    fn err(&self, e: rusqlite::Error) -> Error {
        sql_err(&self.name, e)
    }

    fn version(conn: &Connection) -> rusqlite::Result<i64> {
        let exists: bool = conn.query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
            [],
            |r| r.get(0),
        )?;
        if !exists {
            return Ok(0);
        }
        conn.query_row(
            "SELECT coalesce(max(version), 0) FROM schema_version",
            [],
            |r| r.get(0),
        )
    }

    fn migrate(&mut self) -> Result<()> {
        let name = self.name.clone();
        let e = |err| sql_err(&name, err);
        let too_new = |found| Error::StoreTooNew {
            store: name.clone(),
            found,
            known: migrations::LATEST,
        };
        let seen = Self::version(&self.conn).map_err(e)?;
        if seen > migrations::LATEST {
            return Err(too_new(seen));
        }
        if seen == migrations::LATEST {
            return Ok(());
        }
        // Another process may be migrating too: decide again under the write lock.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(e)?;
        let current = Self::version(&tx).map_err(e)?;
        if current > migrations::LATEST {
            return Err(too_new(current));
        }
        tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            .map_err(e)?;
        for v in current..migrations::LATEST {
            tx.execute_batch(&migrations::sql(migrations::Dialect::Sqlite, v))
                .map_err(e)?;
        }
        tx.execute("DELETE FROM schema_version", []).map_err(e)?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            [migrations::LATEST],
        )
        .map_err(e)?;
        tx.commit().map_err(e)
    }
}

fn decision_row(r: &rusqlite::Row) -> rusqlite::Result<DecisionRecord> {
    let disposition: String = r.get(11)?;
    Ok(DecisionRecord {
        id: r.get(0)?,
        key: PartyKey {
            name: r.get(1)?,
            country: r.get(2)?,
            address: r.get(3)?,
        },
        name: r.get(4)?,
        country: r.get(5)?,
        address: r.get(6)?,
        list: r.get(7)?,
        entity_id: r.get(8)?,
        entity_name: r.get(9)?,
        fingerprint: r.get(10)?,
        disposition: Disposition::parse(&disposition).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                11,
                rusqlite::types::Type::Text,
                format!("unknown disposition `{disposition}`").into(),
            )
        })?,
        reason: r.get(12)?,
        decided_by: r.get(13)?,
        decided_at: r.get(14)?,
        expires_at: r.get(15)?,
    })
}

fn audit_row(r: &rusqlite::Row) -> rusqlite::Result<AuditRecord> {
    Ok(AuditRecord {
        seq: r.get(0)?,
        run_id: r.get(1)?,
        kind: r.get(2)?,
        body: r.get(3)?,
        prev_hash: r.get(4)?,
        hash: r.get(5)?,
    })
}

impl SqliteStore {
    /// Runs `f` in a `BEGIN IMMEDIATE` transaction (the write lock taken before anything is
    /// read, so the busy timeout applies) and commits.
    fn write<T>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction) -> rusqlite::Result<T>,
    ) -> Result<T> {
        let name = &self.name;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sql_err(name, e))?;
        let out = f(&tx).map_err(|e| sql_err(name, e))?;
        tx.commit().map_err(|e| sql_err(name, e))?;
        Ok(out)
    }

    /// The rows of a query, mapped.
    fn rows<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        map: impl FnMut(&rusqlite::Row) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>> {
        self.conn
            .prepare(sql)
            .and_then(|mut s| s.query_map(params, map)?.collect())
            .map_err(|e| self.err(e))
    }
}

impl Store for SqliteStore {
    fn add_decisions(&mut self, decisions: &[DecisionRecord]) -> Result<Vec<Added>> {
        self.write(|tx| {
            let mut out = Vec::with_capacity(decisions.len());
            for d in decisions {
                let latest = tx
                    .query_row(
                        &format!(
                            "SELECT {DECISION_COLUMNS} FROM decisions WHERE key_name = ?1 AND \
                             key_country = ?2 AND key_address = ?3 AND list = ?4 AND \
                             entity_id = ?5 ORDER BY id DESC LIMIT 1"
                        ),
                        params![
                            d.key.name,
                            d.key.country,
                            d.key.address,
                            d.list,
                            d.entity_id
                        ],
                        decision_row,
                    )
                    .optional()?;
                if let Some(l) = latest.filter(|l| super::decisions::same_decision(l, d)) {
                    out.push(Added::Unchanged(l.id));
                    continue;
                }
                tx.execute(
                    "INSERT INTO decisions (key_name, key_country, key_address, name, country, \
                     address, list, entity_id, entity_name, fingerprint, disposition, reason, \
                     decided_by, decided_at, expires_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                    params![
                        d.key.name,
                        d.key.country,
                        d.key.address,
                        d.name,
                        d.country,
                        d.address,
                        d.list,
                        d.entity_id,
                        d.entity_name,
                        d.fingerprint,
                        d.disposition.as_str(),
                        d.reason,
                        d.decided_by,
                        d.decided_at,
                        d.expires_at
                    ],
                )?;
                out.push(Added::New(tx.last_insert_rowid()));
            }
            Ok(out)
        })
    }

    fn decisions(&mut self, party: Option<&PartyKey>) -> Result<Vec<DecisionRecord>> {
        match party {
            None => self.rows(
                &format!("SELECT {DECISION_COLUMNS} FROM decisions ORDER BY id"),
                [],
                decision_row,
            ),
            Some(k) => self.rows(
                &format!(
                    "SELECT {DECISION_COLUMNS} FROM decisions WHERE key_name = ?1 AND \
                     key_country = ?2 AND key_address = ?3 ORDER BY id"
                ),
                params![k.name, k.country, k.address],
                decision_row,
            ),
        }
    }

    fn append_audit(&mut self, run: Option<&str>, kind: &str, body: &str) -> Result<AuditRecord> {
        self.write(|tx| {
            let last: Option<(i64, String)> = tx
                .query_row(
                    "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let r = audit::next_record(last, run, kind, body);
            tx.execute(
                "INSERT INTO audit (seq, run_id, kind, body, prev_hash, hash) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![r.seq, r.run_id, r.kind, r.body, r.prev_hash, r.hash],
            )?;
            Ok(r)
        })
    }

    fn audit(&mut self, run: Option<&str>) -> Result<Vec<AuditRecord>> {
        let cols = "seq, run_id, kind, body, prev_hash, hash";
        match run {
            None => self.rows(
                &format!("SELECT {cols} FROM audit ORDER BY seq"),
                [],
                audit_row,
            ),
            Some(run) => self.rows(
                &format!("SELECT {cols} FROM audit WHERE run_id = ?1 ORDER BY seq"),
                [run],
                audit_row,
            ),
        }
    }

    fn add_run_parties(&mut self, run: &str, first: u64, bodies: &[String]) -> Result<()> {
        self.write(|tx| {
            let mut stmt =
                tx.prepare("INSERT INTO run_parties (run_id, ordinal, body) VALUES (?1, ?2, ?3)")?;
            for (i, b) in bodies.iter().enumerate() {
                stmt.execute(params![run, (first + i as u64) as i64, b])?;
            }
            Ok(())
        })
    }

    fn run_parties(&mut self, run: &str) -> Result<Vec<String>> {
        self.rows(
            "SELECT body FROM run_parties WHERE run_id = ?1 ORDER BY ordinal",
            [run],
            |r| r.get(0),
        )
    }

    fn remember(&mut self, parties: &[PartyState]) -> Result<()> {
        self.write(|tx| {
            let mut stmt = tx.prepare(super::REMEMBER_SQL)?;
            for p in parties {
                let state = serde_json::to_string(p).unwrap_or_default();
                stmt.execute(params![p.key.name, p.key.country, p.key.address, state])?;
            }
            Ok(())
        })
    }

    fn parties(&mut self) -> Result<Vec<PartyState>> {
        let states: Vec<String> = self.rows(super::PARTIES_SQL, [], |r| r.get(0))?;
        states
            .iter()
            .map(|s| super::party_state(&self.name, s))
            .collect()
    }
}
