//! Limits that keep one request from hurting the server: the per-request time limit, the
//! response for a panic (the process keeps serving), and the versions header on every response.
//! The body-size limit is axum's `DefaultBodyLimit`, reported by `ApiJson` as a JSON 413; the
//! party count is checked by the screen handler. Not here: auth.

use std::any::Any;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::handlers::{ApiError, WATCHLISTS_HEADER};
use super::state::{versions, versions_header, AppState};

/// Answers 503 when a request takes longer than `--timeout-ms`.
pub(super) async fn timeout(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let limit = state.config.timeout;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(r) => r,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the request took longer than {} ms (--timeout-ms); nothing was decided",
                limit.as_millis()
            ),
        )
        .into_response(),
    }
}

/// Stamps responses that were not made against a particular screener (errors, health) with the
/// lists currently loaded, so every response names them.
pub(super) async fn stamp_versions(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let mut r = next.run(req).await;
    if !r.headers().contains_key(WATCHLISTS_HEADER) {
        if let Some(s) = state.screener() {
            if let Ok(v) = HeaderValue::from_str(&versions_header(&versions(&s))) {
                r.headers_mut().insert(WATCHLISTS_HEADER, v);
            }
        }
    }
    r
}

/// A panic in a handler becomes a JSON 500 for that request only.
pub(super) fn panic_response(_: Box<dyn Any + Send + 'static>) -> Response {
    eprintln!("redflag: a request handler panicked; the request got a 500");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal error: the request could not be processed; nothing was decided",
    )
    .into_response()
}
