//! The HTTP JSON API (`redflag serve`): routes, the server loop, start-up loading and reloads.
//!
//! One file per concern: `state` (the swappable screener and the loader), `handlers` (routes and
//! bodies), `auth` (API key), `limits` (time limit, panics, versions header), `openapi` (the
//! description, checked against [`routes`] by a test). The route table [`routes`] is the single
//! source of the router and of that check. The server binds first and loads the watchlists in
//! the background, so `/healthz` answers at once and `/readyz` says 503 until the lists are in.
//! Not here: argument parsing and reading `REDFLAG_API_KEY` (the CLI).

mod auth;
mod handlers;
mod limits;
pub mod openapi;
mod state;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::Method;
use axum::middleware::from_fn_with_state;
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;

pub use auth::{check_exposure, resolve_api_key};
pub use handlers::WATCHLISTS_HEADER;
pub use state::{versions, AppState, ListVersion, Loader, ReloadReport, ServerConfig};

use crate::error::{Error, Result};

/// One route: method, path, whether the API key guards it, and its handler.
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub auth: bool,
    handler: MethodRouter<Arc<AppState>>,
}

fn route<H, T>(method: Method, path: &'static str, handler: H) -> Route
where
    H: Handler<T, Arc<AppState>>,
    T: 'static,
{
    // The filter is made from the same method the table states, so the two cannot disagree.
    let filter = MethodFilter::try_from(method.clone()).unwrap_or(MethodFilter::GET);
    Route {
        auth: path.starts_with("/v1/"),
        method,
        path,
        handler: on(filter, handler),
    }
}

/// Every route the server has. `/v1/...` routes require the API key.
pub fn routes() -> Vec<Route> {
    use handlers::*;
    vec![
        route(Method::GET, "/healthz", healthz),
        route(Method::GET, "/readyz", readyz),
        route(Method::GET, "/openapi.json", openapi),
        route(Method::POST, "/v1/screen", screen),
        route(Method::POST, "/v1/check", check),
        route(Method::GET, "/v1/watchlists", watchlists),
        route(Method::POST, "/v1/admin/reload", reload),
    ]
}

/// The router over `state`, with auth, limits and the versions header.
pub fn router(state: Arc<AppState>) -> Router {
    let mut open = Router::new();
    let mut guarded = Router::new();
    for r in routes() {
        if r.auth {
            guarded = guarded.route(r.path, r.handler);
        } else {
            open = open.route(r.path, r.handler);
        }
    }
    let guarded = guarded.route_layer(from_fn_with_state(state.clone(), auth::require_key));
    open.merge(guarded)
        .fallback(handlers::not_found)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .layer(from_fn_with_state(state.clone(), limits::timeout))
        .layer(DefaultBodyLimit::max(state.config.max_body))
        .layer(from_fn_with_state(state.clone(), limits::stamp_versions))
        .layer(CatchPanicLayer::custom(limits::panic_response))
        .with_state(state)
}

/// Serves on `listener` until `shutdown` completes. Loads the watchlists in the background
/// (ready once loaded) and reloads them on SIGHUP. Returns an error when the first load fails:
/// a server that can never screen should not look alive.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let (failed_tx, failed_rx) = tokio::sync::oneshot::channel::<String>();
    let first = state.clone();
    tokio::spawn(async move {
        let report = first.reload().await;
        if let Some(e) = report.error {
            let _ = failed_tx.send(e);
        }
    });
    let addr = listener
        .local_addr()
        .map_err(|e| Error::io("<listener>", e))?;
    let server = axum::serve(listener, router(state)).with_graceful_shutdown(shutdown);
    tokio::select! {
        r = server => r.map_err(|e| Error::io(addr.to_string(), e)),
        Ok(e) = failed_rx => Err(Error::WatchlistUnavailable(format!(
            "the server could not load its watchlists: {e}"
        ))),
    }
}

/// Reloads on every SIGHUP, logging the outcome (a failed reload keeps the old lists).
#[cfg(unix)]
fn reload_on_sighup(state: Arc<AppState>) -> Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hup = signal(SignalKind::hangup()).map_err(|e| Error::io("<SIGHUP handler>", e))?;
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            eprintln!("redflag: SIGHUP: reloading the watchlists");
            state.reload().await;
        }
    });
    Ok(())
}

#[cfg(not(unix))]
fn reload_on_sighup(_: Arc<AppState>) -> Result<()> {
    Ok(())
}

/// Completes on SIGINT or SIGTERM.
async fn termination() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {},
                _ = term.recv() => {},
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Runs a server on `listen` until SIGINT or SIGTERM (the `redflag serve` command). Prints
/// `redflag: listening on ADDR` to stderr once bound (with the real port when `:0` was asked).
pub fn run(
    listen: &str,
    config: ServerConfig,
    loader: Loader,
    store: Option<Box<dyn crate::store::Store>>,
) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("<tokio runtime>", e))?;
    runtime.block_on(async {
        let state = AppState::with_store(config, loader, store);
        // Before anything can send SIGHUP to a listening server: its default action kills.
        reload_on_sighup(state.clone())?;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| Error::io(format!("--listen {listen}"), e))?;
        let addr: SocketAddr = listener
            .local_addr()
            .map_err(|e| Error::io(format!("--listen {listen}"), e))?;
        eprintln!("redflag: listening on {addr}");
        serve(listener, state, termination()).await
    })
}
