//! Typed errors of the library.
//!
//! Every error that comes from input names where it happened (file, line, field) so the binary
//! can print it verbatim. The binary maps each variant to a sysexits-style exit code through
//! [`Error::exit_code`]; the library itself never exits or prints.

use std::path::PathBuf;

/// Exit codes shared by `screen` and `check` (see DESIGN.md).
pub mod exit {
    pub const CLEAR: i32 = 0;
    pub const REVIEW: i32 = 1;
    pub const BLOCK: i32 = 2;
    /// Command line usage error.
    pub const USAGE: i32 = 64;
    /// Input data was incorrect in some way.
    pub const DATAERR: i32 = 65;
    /// An input file did not exist or was not readable.
    pub const NOINPUT: i32 = 66;
    /// A service (a watchlist, a store) is unavailable: the check could not be made.
    pub const UNAVAILABLE: i32 = 69;
    /// Internal software error.
    pub const SOFTWARE: i32 = 70;
    /// An I/O error.
    pub const IOERR: i32 = 74;
    /// Something was wrong with a configuration file.
    pub const CONFIG: i32 = 78;
}

/// Where in an input a problem sits. Lines are 1-based; `field` is a column or property name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: Option<u64>,
    pub field: Option<String>,
}

impl Location {
    pub fn new(file: impl Into<String>) -> Self {
        Location {
            file: file.into(),
            line: None,
            field: None,
        }
    }
    pub fn line(mut self, line: u64) -> Self {
        self.line = Some(line);
        self
    }
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(field) = &self.field {
            write!(f, " (field `{field}`)")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An input file is malformed: a watchlist, a shipment CSV, a policy, a JSON document.
    #[error("{location}: {message}")]
    Data { location: Location, message: String },
    /// A watchlist could not be loaded at all (missing, unknown format, stale).
    #[error("watchlist unavailable: {0}")]
    WatchlistUnavailable(String),
    /// A configuration file (policy) is wrong.
    #[error("{location}: {message}")]
    Config { location: Location, message: String },
    /// The caller asked for something that does not make sense.
    #[error("{0}")]
    Usage(String),
    /// The decision store cannot be reached or opened (a server down, a locked or missing
    /// directory): the answer cannot be recorded, so it is not given.
    #[error("decision store unavailable: {0}")]
    StoreUnavailable(String),
    /// The store is not a redflag store, or its contents are damaged. Never recreated silently.
    #[error("{store}: not a usable redflag store: {message}")]
    StoreCorrupt { store: String, message: String },
    /// The store was written by a newer redflag (a higher schema version than this one knows).
    #[error("{store}: schema version {found} is newer than this redflag knows ({known}); upgrade redflag")]
    StoreTooNew {
        store: String,
        found: i64,
        known: i64,
    },
    /// `audit verify` found a record that was edited, deleted or inserted out of the chain.
    #[error("audit trail broken at record {seq} (run {run}): {message}")]
    AuditBroken {
        seq: i64,
        run: String,
        message: String,
    },
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub fn data(location: Location, message: impl Into<String>) -> Self {
        Error::Data {
            location,
            message: message.into(),
        }
    }

    /// The sysexits code this error maps to.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                exit::NOINPUT
            }
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::PermissionDenied => {
                exit::NOINPUT
            }
            Error::Io { .. } => exit::IOERR,
            Error::Data { .. } => exit::DATAERR,
            Error::WatchlistUnavailable(_) => exit::UNAVAILABLE,
            Error::Config { .. } => exit::CONFIG,
            Error::Usage(_) => exit::USAGE,
            Error::StoreUnavailable(_) => exit::UNAVAILABLE,
            Error::StoreCorrupt { .. } | Error::AuditBroken { .. } => exit::DATAERR,
            Error::StoreTooNew { .. } => exit::CONFIG,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
