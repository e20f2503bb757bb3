//! The PostgreSQL back end (the sync `postgres` client), for several server replicas sharing one
//! store. Writes that build on what is there (the audit chain's last hash, the latest decision,
//! migrations) take a transaction-scoped advisory lock first, so replicas queue instead of
//! forking the chain or doubling a decision.
//!
//! The client runs its own small tokio runtime and must not be called on an async thread: the
//! server calls the store from its blocking pool only. Not here: what the rows mean.

use postgres::{Client, NoTls, Row};

use super::{
    audit, migrations, Added, AuditRecord, DecisionRecord, PartyKey, PartyState, Store,
    DECISION_COLUMNS,
};
use crate::decision::Disposition;
use crate::error::{Error, Result};

/// The advisory lock key every redflag writer takes (an arbitrary constant: "rflg").
const WRITE_LOCK: i64 = 0x72_66_6c_67;

pub struct PgStore {
    /// Always Some until dropped; taken in `drop` to close the connection on a thread of its own.
    client: Option<Client>,
    name: String,
}

impl Drop for PgStore {
    /// Closing the sync client blocks on its runtime, which panics on an async thread (the
    /// server's state is dropped there at shutdown): close it on a plain thread instead.
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = std::thread::spawn(move || drop(client)).join();
        }
    }
}

fn pg_err(name: &str, e: postgres::Error) -> Error {
    Error::StoreUnavailable(format!("{name}: {e}"))
}

impl PgStore {
    pub fn connect(url: &str) -> Result<PgStore> {
        let name = super::display_name(url);
        let client = Client::connect(url, NoTls).map_err(|e| pg_err(&name, e))?;
        let mut store = PgStore {
            client: Some(client),
            name,
        };
        store.migrate()?;
        Ok(store)
    }

    fn client(&mut self) -> &mut Client {
        self.client
            .as_mut()
            .expect("the client is only taken when dropped")
    }

    fn migrate(&mut self) -> Result<()> {
        let name = self.name.clone();
        let e = |err| pg_err(&name, err);
        let mut tx = self.client().transaction().map_err(e)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])
            .map_err(e)?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
            .map_err(e)?;
        let current: i64 = tx
            .query_one("SELECT coalesce(max(version), 0) FROM schema_version", &[])
            .map_err(e)?
            .get(0);
        if current > migrations::LATEST {
            return Err(Error::StoreTooNew {
                store: name.clone(),
                found: current,
                known: migrations::LATEST,
            });
        }
        if current == migrations::LATEST {
            return tx.commit().map_err(e);
        }
        for v in current..migrations::LATEST {
            let sql = migrations::sql(migrations::Dialect::Postgres, v);
            tx.batch_execute(&sql).map_err(|err| Error::StoreCorrupt {
                store: name.clone(),
                message: format!("migrating from schema version {current}: {err}"),
            })?;
        }
        tx.execute("DELETE FROM schema_version", &[]).map_err(e)?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[&migrations::LATEST],
        )
        .map_err(e)?;
        tx.commit().map_err(e)
    }
}

fn decision_row(name: &str, r: &Row) -> Result<DecisionRecord> {
    let disposition: String = r.get(11);
    Ok(DecisionRecord {
        id: r.get(0),
        key: PartyKey {
            name: r.get(1),
            country: r.get(2),
            address: r.get(3),
        },
        name: r.get(4),
        country: r.get(5),
        address: r.get(6),
        list: r.get(7),
        entity_id: r.get(8),
        entity_name: r.get(9),
        fingerprint: r.get(10),
        disposition: Disposition::parse(&disposition).ok_or_else(|| Error::StoreCorrupt {
            store: name.to_string(),
            message: format!("unknown disposition `{disposition}`"),
        })?,
        reason: r.get(12),
        decided_by: r.get(13),
        decided_at: r.get(14),
        expires_at: r.get(15),
    })
}

fn audit_row(r: &Row) -> AuditRecord {
    AuditRecord {
        seq: r.get(0),
        run_id: r.get(1),
        kind: r.get(2),
        body: r.get(3),
        prev_hash: r.get(4),
        hash: r.get(5),
    }
}

impl Store for PgStore {
    fn add_decisions(&mut self, decisions: &[DecisionRecord]) -> Result<Vec<Added>> {
        let name = self.name.clone();
        let e = |err| pg_err(&name, err);
        let mut tx = self.client().transaction().map_err(e)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])
            .map_err(e)?;
        let mut out = Vec::with_capacity(decisions.len());
        for d in decisions {
            let latest = tx
                .query_opt(
                    &format!(
                        "SELECT {DECISION_COLUMNS} FROM decisions WHERE key_name = $1 AND \
                         key_country = $2 AND key_address = $3 AND list = $4 AND entity_id = $5 \
                         ORDER BY id DESC LIMIT 1"
                    ),
                    &[
                        &d.key.name,
                        &d.key.country,
                        &d.key.address,
                        &d.list,
                        &d.entity_id,
                    ],
                )
                .map_err(e)?
                .map(|r| decision_row(&name, &r))
                .transpose()?;
            if let Some(l) = latest.filter(|l| super::decisions::same_decision(l, d)) {
                out.push(Added::Unchanged(l.id));
                continue;
            }
            let row = tx
                .query_one(
                    "INSERT INTO decisions (key_name, key_country, key_address, name, country, \
                     address, list, entity_id, entity_name, fingerprint, disposition, reason, \
                     decided_by, decided_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
                     RETURNING id",
                    &[
                        &d.key.name,
                        &d.key.country,
                        &d.key.address,
                        &d.name,
                        &d.country,
                        &d.address,
                        &d.list,
                        &d.entity_id,
                        &d.entity_name,
                        &d.fingerprint,
                        &d.disposition.as_str(),
                        &d.reason,
                        &d.decided_by,
                        &d.decided_at,
                        &d.expires_at,
                    ],
                )
                .map_err(e)?;
            out.push(Added::New(row.get(0)));
        }
        tx.commit().map_err(e)?;
        Ok(out)
    }

    fn decisions(&mut self, party: Option<&PartyKey>) -> Result<Vec<DecisionRecord>> {
        let name = self.name.clone();
        let rows = match party {
            None => self.client().query(
                &format!("SELECT {DECISION_COLUMNS} FROM decisions ORDER BY id"),
                &[],
            ),
            Some(k) => self.client().query(
                &format!(
                    "SELECT {DECISION_COLUMNS} FROM decisions WHERE key_name = $1 AND \
                     key_country = $2 AND key_address = $3 ORDER BY id"
                ),
                &[&k.name, &k.country, &k.address],
            ),
        }
        .map_err(|e| pg_err(&name, e))?;
        rows.iter().map(|r| decision_row(&name, r)).collect()
    }

    fn append_audit(&mut self, run: Option<&str>, kind: &str, body: &str) -> Result<AuditRecord> {
        let name = self.name.clone();
        let e = |err| pg_err(&name, err);
        let mut tx = self.client().transaction().map_err(e)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])
            .map_err(e)?;
        let last = tx
            .query_opt("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", &[])
            .map_err(e)?
            .map(|r| (r.get::<_, i64>(0), r.get::<_, String>(1)));
        let record = audit::next_record(last, run, kind, body);
        tx.execute(
            "INSERT INTO audit (seq, run_id, kind, body, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &record.seq,
                &record.run_id,
                &record.kind,
                &record.body,
                &record.prev_hash,
                &record.hash,
            ],
        )
        .map_err(e)?;
        tx.commit().map_err(e)?;
        Ok(record)
    }

    fn audit(&mut self, run: Option<&str>) -> Result<Vec<AuditRecord>> {
        let cols = "seq, run_id, kind, body, prev_hash, hash";
        let rows = match run {
            None => self
                .client()
                .query(&format!("SELECT {cols} FROM audit ORDER BY seq"), &[]),
            Some(run) => self.client().query(
                &format!("SELECT {cols} FROM audit WHERE run_id = $1 ORDER BY seq"),
                &[&run],
            ),
        }
        .map_err(|e| pg_err(&self.name, e))?;
        Ok(rows.iter().map(audit_row).collect())
    }

    fn add_run_parties(&mut self, run: &str, first: u64, bodies: &[String]) -> Result<()> {
        let name = self.name.clone();
        let e = |err| pg_err(&name, err);
        let mut tx = self.client().transaction().map_err(e)?;
        let stmt = tx
            .prepare("INSERT INTO run_parties (run_id, ordinal, body) VALUES ($1, $2, $3)")
            .map_err(e)?;
        for (i, b) in bodies.iter().enumerate() {
            let ordinal = (first + i as u64) as i64;
            tx.execute(&stmt, &[&run, &ordinal, b]).map_err(e)?;
        }
        tx.commit().map_err(e)
    }

    fn run_parties(&mut self, run: &str) -> Result<Vec<String>> {
        let rows = self
            .client()
            .query(
                "SELECT body FROM run_parties WHERE run_id = $1 ORDER BY ordinal",
                &[&run],
            )
            .map_err(|e| pg_err(&self.name, e))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn remember(&mut self, parties: &[PartyState]) -> Result<()> {
        let name = self.name.clone();
        let e = |err| pg_err(&name, err);
        let mut tx = self.client().transaction().map_err(e)?;
        let stmt = tx.prepare(super::REMEMBER_SQL).map_err(e)?;
        for p in parties {
            let state = serde_json::to_string(p).unwrap_or_default();
            tx.execute(
                &stmt,
                &[&p.key.name, &p.key.country, &p.key.address, &state],
            )
            .map_err(e)?;
        }
        tx.commit().map_err(e)
    }

    fn parties(&mut self) -> Result<Vec<PartyState>> {
        let rows = self
            .client()
            .query(super::PARTIES_SQL, &[])
            .map_err(|e| pg_err(&self.name, e))?;
        rows.iter()
            .map(|r| super::party_state(&self.name, r.get::<_, &str>(0)))
            .collect()
    }
}
