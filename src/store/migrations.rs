//! The store's schema, one migration per version. Version N is reached by running migrations
//! 1..=N in order; the version reached is kept in the `schema_version` table. A store at a
//! higher version than [`LATEST`] was written by a newer redflag and is refused, never
//! downgraded. Append a migration to change the schema; never edit one that has shipped.
//! Not here: running them (each back end does, in one transaction).

/// The SQL dialects the store speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// One migration: SQL for both dialects (`{id}` is an auto-increment key, `{int}` a 64-bit
/// integer), then what only SQLite or only PostgreSQL needs.
struct Migration {
    shared: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[Migration {
    shared: r#"
CREATE TABLE decisions (
    id {id},
    key_name TEXT NOT NULL,
    key_country TEXT NOT NULL,
    key_address TEXT NOT NULL,
    name TEXT NOT NULL,
    country TEXT,
    address TEXT,
    list TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    entity_name TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    disposition TEXT NOT NULL,
    reason TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    expires_at TEXT
);
CREATE INDEX decisions_party ON decisions (key_name, key_country, key_address, list, entity_id);
CREATE TABLE audit (
    seq {int} PRIMARY KEY,
    run_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_run ON audit (run_id);
CREATE TABLE run_parties (
    run_id TEXT NOT NULL,
    ordinal {int} NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (run_id, ordinal)
);
CREATE TABLE parties (
    key_name TEXT NOT NULL,
    key_country TEXT NOT NULL,
    key_address TEXT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (key_name, key_country, key_address)
);
"#,
    // The audit trail is append-only: the database itself refuses edits and deletions.
    sqlite: r#"
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
"#,
    postgres: r#"
CREATE FUNCTION redflag_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END $$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION redflag_audit_append_only();
"#,
}];

/// The schema version this redflag writes and understands.
pub const LATEST: i64 = MIGRATIONS.len() as i64;

/// The SQL that takes a store of `dialect` from version `from` to `from + 1`.
pub fn sql(dialect: Dialect, from: i64) -> String {
    let m = &MIGRATIONS[from as usize];
    let (id, int, extra) = match dialect {
        Dialect::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER", m.sqlite),
        Dialect::Postgres => ("BIGSERIAL PRIMARY KEY", "BIGINT", m.postgres),
    };
    m.shared.replace("{id}", id).replace("{int}", int) + extra
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_version_has_sql_for_both_dialects() {
        for v in 0..LATEST {
            assert!(sql(Dialect::Sqlite, v).contains("AUTOINCREMENT"));
            assert!(!sql(Dialect::Postgres, v).contains('{'));
        }
    }
}
