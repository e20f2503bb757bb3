//! `redflag serve`: the HTTP JSON API. Reads the options and `REDFLAG_API_KEY`, checks that an
//! open server stays on loopback, and hands over to `redflag::server`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use clap::Args;

use redflag::server::{self, Loader, ServerConfig};

use super::{ListArgs, StoreArgs};

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on (`127.0.0.1:0` picks a free port; the real one is printed).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: String,
    /// File holding the API key (else the REDFLAG_API_KEY environment variable).
    #[arg(long, value_name = "FILE")]
    pub api_key_file: Option<PathBuf>,
    /// Run without an API key; only allowed on a loopback address.
    #[arg(long)]
    pub no_auth: bool,
    /// Largest request body in bytes.
    #[arg(long, default_value_t = 1 << 20, value_name = "BYTES")]
    pub max_body: usize,
    /// Most parties in one /v1/screen request.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub max_parties: usize,
    /// Time limit of one request, in milliseconds.
    #[arg(long, default_value_t = 10_000, value_name = "MS")]
    pub timeout_ms: u64,
    #[command(flatten)]
    pub lists: ListArgs,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub fn run(args: ServeArgs) -> Result<i32> {
    let api_key = server::resolve_api_key(
        std::env::var("REDFLAG_API_KEY").ok(),
        args.api_key_file.as_deref(),
    )?;
    server::check_exposure(&args.listen, api_key.as_deref(), args.no_auth)?;
    let config = ServerConfig {
        api_key,
        max_body: args.max_body,
        max_parties: args.max_parties,
        timeout: Duration::from_millis(args.timeout_ms),
    };
    let lists = args.lists.clone();
    let loader: Loader = Arc::new(move || {
        lists
            .screener()
            .map_err(|e| match e.downcast::<redflag::Error>() {
                Ok(e) => e,
                Err(other) => redflag::Error::WatchlistUnavailable(format!("{other:#}")),
            })
    });
    // Opened before serving: a bad store stops the server at start, not on the first request.
    let store = args.store.open()?;
    server::run(&args.listen, config, loader, store)?;
    Ok(0)
}
