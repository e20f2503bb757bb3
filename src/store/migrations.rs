//! The store's schema, one migration per version and dialect. Version N is reached by running
//! migrations 1..=N in order; the version reached is kept in the `schema_version` table. A store
//! at a higher version than [`LATEST`] was written by a newer redflag and is refused, never
//! downgraded. Append a migration to change the schema; never edit one that has shipped.
//! Not here: running them (each back end does, in one transaction).

/// The schema version this redflag writes and understands.
pub const LATEST: i64 = SQLITE.len() as i64;

/// SQLite migrations; `SQLITE[i]` takes the schema from version `i` to `i + 1`.
pub const SQLITE: &[&str] = &[r#"
CREATE TABLE decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
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
    seq INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_run ON audit (run_id);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TABLE run_parties (
    run_id TEXT NOT NULL,
    ordinal INTEGER NOT NULL,
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
"#];

/// PostgreSQL migrations, the same schema as [`SQLITE`] version for version.
pub const POSTGRES: &[&str] = &[r#"
CREATE TABLE decisions (
    id BIGSERIAL PRIMARY KEY,
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
    seq BIGINT PRIMARY KEY,
    run_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_run ON audit (run_id);
CREATE FUNCTION redflag_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END $$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION redflag_audit_append_only();
CREATE TABLE run_parties (
    run_id TEXT NOT NULL,
    ordinal BIGINT NOT NULL,
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
"#];

#[cfg(test)]
mod tests {
    #[test]
    fn both_dialects_have_every_version() {
        assert_eq!(super::SQLITE.len(), super::POSTGRES.len());
    }
}
