//! The server's shared state: the current screener (swapped atomically on reload), the loader
//! that builds a new one, and the limits. Not here: HTTP (handlers, middleware).
//!
//! A request takes its own `Arc` of the screener when it starts, so a reload never changes the
//! list under a request in flight: it finishes on the old screener, which is freed after it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::screen::{Party, PartyResult, Screener};
use crate::store::Store;

/// Builds a screener from the configured watchlists and policy (called at start and on reload).
pub type Loader = Arc<dyn Fn() -> Result<Screener> + Send + Sync>;

/// Limits and access of a server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The bearer token `/v1` routes require; None only with `--no-auth` on loopback.
    pub api_key: Option<String>,
    /// Largest request body in bytes.
    pub max_body: usize,
    /// Most parties in one `/v1/screen` request.
    pub max_parties: usize,
    /// Time limit of one request.
    pub timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            api_key: None,
            max_body: 1 << 20,
            max_parties: 1000,
            timeout: Duration::from_secs(10),
        }
    }
}

/// A list and the version a response was screened against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListVersion {
    pub name: String,
    pub version: String,
}

/// The versions of a screener's lists, in load order.
pub fn versions(s: &Screener) -> Vec<ListVersion> {
    s.watchlist
        .lists
        .iter()
        .map(|l| ListVersion {
            name: l.name.clone(),
            version: l.version.clone(),
        })
        .collect()
}

/// The `X-Redflag-Watchlists` header value: `name=version` pairs, comma-separated.
pub fn versions_header(versions: &[ListVersion]) -> String {
    versions
        .iter()
        .map(|v| format!("{}={}", v.name, v.version))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a reload did.
#[derive(Debug, Clone, Serialize)]
pub struct ReloadReport {
    pub reloaded: bool,
    /// The lists in use after the attempt (the old ones when it failed).
    pub watchlists: Vec<ListVersion>,
    pub previous: Vec<ListVersion>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub elapsed_ms: u64,
}

pub struct AppState {
    current: ArcSwapOption<Screener>,
    loader: Loader,
    /// One load at a time: two concurrent reloads would both build a screener for nothing.
    reload_lock: tokio::sync::Mutex<()>,
    pub config: ServerConfig,
    /// The decision store, one connection shared by requests (SQLite serializes writes anyway;
    /// replicas sharing PostgreSQL each have their own).
    store: Option<std::sync::Mutex<Box<dyn Store>>>,
}

impl AppState {
    /// A state with no screener yet (not ready until [`AppState::reload`] succeeds).
    pub fn new(config: ServerConfig, loader: Loader) -> Arc<AppState> {
        AppState::with_store(config, loader, None)
    }

    /// A state whose requests apply the decisions of `store` and are recorded in its audit trail.
    pub fn with_store(
        config: ServerConfig,
        loader: Loader,
        store: Option<Box<dyn Store>>,
    ) -> Arc<AppState> {
        Arc::new(AppState {
            current: ArcSwapOption::empty(),
            loader,
            reload_lock: tokio::sync::Mutex::new(()),
            config,
            store: store.map(std::sync::Mutex::new),
        })
    }

    /// With a store: applies the decisions in force to the answered parties and records the
    /// call as a run. Blocking (a database round trip): call it from the blocking pool only.
    pub fn decide_and_record(
        &self,
        screener: &Screener,
        command: &str,
        input_hash: String,
        answered: &mut [(&Party, &mut PartyResult)],
    ) -> Result<()> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        let mut store = store
            .lock()
            .map_err(|_| Error::StoreUnavailable("the store connection was poisoned".into()))?;
        let parties: Vec<&Party> = answered.iter().map(|(p, _)| *p).collect();
        let book = crate::store::decisions::book_for(store.as_mut(), &parties)?;
        for (p, r) in answered.iter_mut() {
            book.apply(screener, p, r);
        }
        let rows: Vec<(u64, &Party, &PartyResult)> = answered
            .iter()
            .enumerate()
            .map(|(i, (p, r))| (i as u64 + 1, *p, &**r))
            .collect();
        crate::store::audit::record_run(
            store.as_mut(),
            screener,
            command,
            "<request>",
            input_hash,
            1,
            &rows,
        )?;
        Ok(())
    }

    /// The screener in use, or None before the first load.
    pub fn screener(&self) -> Option<Arc<Screener>> {
        self.current.load_full()
    }

    /// Loads the watchlists anew (off the async threads) and swaps the new screener in; on
    /// failure the current one stays and the report says why. Logs either way.
    pub async fn reload(&self) -> ReloadReport {
        let _guard = self.reload_lock.lock().await;
        let started = Instant::now();
        let previous = self.screener().map(|s| versions(&s)).unwrap_or_default();
        let loader = self.loader.clone();
        let loaded = tokio::task::spawn_blocking(move || loader())
            .await
            .unwrap_or_else(|e| Err(Error::WatchlistUnavailable(format!("loader failed: {e}"))));
        let elapsed_ms = started.elapsed().as_millis() as u64;
        match loaded {
            Ok(screener) => {
                let now = versions(&screener);
                let summary = screener.watchlist.summary();
                self.current.store(Some(Arc::new(screener)));
                eprintln!("redflag: loaded watchlists {summary} in {elapsed_ms} ms");
                ReloadReport {
                    reloaded: true,
                    watchlists: now,
                    previous,
                    error: None,
                    elapsed_ms,
                }
            }
            Err(e) => {
                eprintln!("redflag: loading the watchlists failed, keeping the current ones: {e}");
                ReloadReport {
                    reloaded: false,
                    watchlists: previous.clone(),
                    previous,
                    error: Some(e.to_string()),
                    elapsed_ms,
                }
            }
        }
    }
}
