//! Command-line interface: argument definitions shared by the subcommands, watchlist loading
//! from arguments, and the mapping of errors to exit codes. One file per subcommand.

pub mod audit;
pub mod check;
pub mod compare;
pub mod decide;
pub mod decisions;
pub mod rescreen;
pub mod screen;
pub mod serve;
pub mod watchlist_cmd;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};

use redflag::error::exit;
use redflag::model::Watchlist;
use redflag::policy::Policy;
use redflag::prebuilt::Prebuilt;
use redflag::screen::Screener;
use redflag::watchlist::{self, Format};

#[derive(Parser, Debug)]
#[command(
    name = "redflag",
    version,
    about = "Entity screening for export compliance: clear, review or block, with the evidence"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Screen every counterparty of a shipment CSV (or `-` for stdin).
    Screen(screen::ScreenArgs),
    /// Pre-shipment check of one shipment: exit 0 clear, 1 review, 2 block.
    Check(Box<check::CheckArgs>),
    /// Score two names against each other, or every pair of a CSV (`--pairs`).
    Compare(compare::CompareArgs),
    /// Inspect, validate and convert watchlists.
    Watchlist(watchlist_cmd::WatchlistArgs),
    /// Serve the HTTP JSON API (screening per request, OpenAPI at /openapi.json).
    Serve(serve::ServeArgs),
    /// Record an analyst's decision on one hit (a party against one listed entity).
    Decide(decide::DecideArgs),
    /// List, export or import decisions as CSV.
    Decisions(decisions::DecisionsArgs),
    /// Verify the audit trail, or show what one run saw and answered.
    Audit(audit::AuditArgs),
    /// Screen the parties the store has seen again; report only new or changed alerts.
    Rescreen(rescreen::RescreenArgs),
}

/// The decision store: `--store`, else the REDFLAG_STORE environment variable.
#[derive(Args, Debug, Clone, Default)]
pub struct StoreArgs {
    /// Decision store: a SQLite file (created when missing) or a postgres:// URL. Decisions are
    /// applied and every run is recorded in its audit trail. Default: $REDFLAG_STORE.
    #[arg(long, value_name = "PATH|URL")]
    pub store: Option<String>,
}

impl StoreArgs {
    /// The store named, if any.
    pub fn spec(&self) -> Option<String> {
        self.store
            .clone()
            .or_else(|| std::env::var("REDFLAG_STORE").ok())
            .filter(|s| !s.trim().is_empty())
    }

    /// Opens the store named, if any.
    pub fn open(&self) -> Result<Option<Box<dyn redflag::store::Store>>> {
        Ok(match self.spec() {
            Some(s) => Some(redflag::store::open(&s)?),
            None => None,
        })
    }

    /// Opens the store, which this command cannot do without.
    pub fn require(&self) -> Result<Box<dyn redflag::store::Store>> {
        self.open()?.ok_or_else(|| {
            redflag::Error::Usage(
                "no decision store: give --store PATH|URL or set REDFLAG_STORE".into(),
            )
            .into()
        })
    }
}

/// Where the watchlists and the policy come from; shared by every command that screens.
#[derive(Args, Debug, Clone, Default)]
pub struct ListArgs {
    /// A watchlist file or OFAC directory (repeatable). `seed` names the built-in seed list.
    /// Without this option the built-in seed list is used.
    #[arg(long = "watchlist", value_name = "PATH")]
    pub watchlists: Vec<PathBuf>,
    /// Force the watchlist format instead of detecting it: native, ofac, csl, un, ftm, os-simple, eu, uk.
    #[arg(long, value_name = "FORMAT")]
    pub watchlist_format: Option<String>,
    /// A prebuilt index file (`redflag watchlist build`) instead of --watchlist: the lists and
    /// their indexes as built, loaded in a fraction of the time.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["watchlists", "watchlist_format"])]
    pub index: Option<PathBuf>,
    /// Policy file (TOML) with thresholds and rules.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

/// The format `--watchlist-format` names, if given; an unknown name is a usage error.
pub fn forced_format(name: &Option<String>) -> Result<Option<Format>> {
    match name {
        Some(f) => Ok(Some(Format::parse(f).ok_or_else(|| {
            redflag::Error::Usage(format!("unknown --watchlist-format `{f}`"))
        })?)),
        None => Ok(None),
    }
}

impl ListArgs {
    pub fn load_watchlist(&self) -> Result<Watchlist> {
        let forced = forced_format(&self.watchlist_format)?;
        if self.watchlists.is_empty() {
            return Ok(watchlist::seed());
        }
        let mut merged = Watchlist::default();
        for p in &self.watchlists {
            let s = p.to_string_lossy();
            if (s == "seed" && !p.exists()) || s == "builtin:seed" {
                merged.merge(watchlist::seed());
            } else {
                merged.merge(watchlist::load(p, forced).map_err(unavailable_if_unreadable)?);
            }
        }
        Ok(merged)
    }

    pub fn load_policy(&self) -> Result<Policy> {
        Ok(match &self.policy {
            Some(p) => Policy::load(p)?,
            None => Policy::default(),
        })
    }

    /// The entities these arguments name, without building the indexes (from the index file
    /// when one is given).
    pub fn entities(&self) -> Result<Watchlist> {
        match &self.index {
            Some(path) => Ok(Prebuilt::read(path)?.watchlist),
            None => self.load_watchlist(),
        }
    }

    /// The screener these arguments describe: from the index file, else from the lists.
    pub fn screener(&self) -> Result<Screener> {
        let policy = self.load_policy()?;
        Ok(match &self.index {
            Some(path) => Screener::from_prebuilt(Prebuilt::read(path)?, policy),
            None => Screener::new(self.load_watchlist()?, policy),
        })
    }
}

/// A watchlist file that cannot be read means the check cannot be made (69), not bad input.
fn unavailable_if_unreadable(e: redflag::Error) -> redflag::Error {
    match e {
        redflag::Error::Io { path, source } => {
            redflag::Error::WatchlistUnavailable(format!("{}: {source}", path.display()))
        }
        other => other,
    }
}

pub fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Screen(a) => screen::run(a),
        Command::Compare(a) => compare::run(a),
        Command::Watchlist(a) => watchlist_cmd::run(a),
        Command::Check(a) => check::run(*a),
        Command::Serve(a) => serve::run(a),
        Command::Decide(a) => decide::run(a),
        Command::Decisions(a) => decisions::run(a),
        Command::Audit(a) => audit::run(a),
        Command::Rescreen(a) => rescreen::run(a),
    }
}

/// The exit code that answers a decision: 0 clear, 1 review, 2 block, 65 error.
pub fn decision_exit(d: redflag::policy::Decision) -> i32 {
    use redflag::policy::Decision;
    match d {
        Decision::Clear => exit::CLEAR,
        Decision::Review => exit::REVIEW,
        Decision::Block => exit::BLOCK,
        Decision::Error => exit::DATAERR,
    }
}

/// Prints an error and returns its exit code. A broken pipe (`| head`) is success.
pub fn report_error(e: &anyhow::Error) -> i32 {
    for cause in e.chain() {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::BrokenPipe {
                return 0;
            }
        }
        if let Some(redflag::Error::Io { source, .. }) = cause.downcast_ref::<redflag::Error>() {
            if source.kind() == std::io::ErrorKind::BrokenPipe {
                return 0;
            }
        }
    }
    eprintln!("redflag: {e:#}");
    e.chain()
        .find_map(|c| {
            c.downcast_ref::<redflag::Error>()
                .map(redflag::Error::exit_code)
        })
        .unwrap_or(exit::SOFTWARE)
}
