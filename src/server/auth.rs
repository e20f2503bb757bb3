//! Access to the API: where the key comes from, when a server may run without one, and the
//! bearer-token check on `/v1` routes. Not here: limits (`limits`), what the routes do.

use std::path::Path;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::handlers::ApiError;
use super::state::AppState;
use crate::error::{Error, Result};

/// The API key: from `--api-key-file` when given (trimmed; it wins over the environment), else
/// from `REDFLAG_API_KEY` (`env`). An empty key is an error, never "no auth".
pub fn resolve_api_key(env: Option<String>, file: Option<&Path>) -> Result<Option<String>> {
    let (key, origin) = match file {
        Some(p) => (
            std::fs::read_to_string(p).map_err(|e| Error::io(p, e))?,
            p.display().to_string(),
        ),
        None => match env {
            Some(k) => (k, "REDFLAG_API_KEY".to_string()),
            None => return Ok(None),
        },
    };
    let key = key.trim().to_string();
    if key.is_empty() {
        return Err(Error::Usage(format!("{origin}: the API key is empty")));
    }
    Ok(Some(key))
}

/// A server without a key is allowed only with `--no-auth` and only on a loopback address, so an
/// open API cannot end up on the network by accident.
pub fn check_exposure(listen: &str, key: Option<&str>, no_auth: bool) -> Result<()> {
    match (key, no_auth) {
        (Some(_), true) => Err(Error::Usage(
            "--no-auth given but an API key is configured (REDFLAG_API_KEY or --api-key-file): \
             choose one"
                .into(),
        )),
        (Some(_), false) => Ok(()),
        (None, false) => Err(Error::Usage(
            "no API key: set REDFLAG_API_KEY or --api-key-file FILE \
             (or --no-auth on a loopback address, for local use only)"
                .into(),
        )),
        (None, true) => {
            let addrs: Vec<std::net::SocketAddr> = std::net::ToSocketAddrs::to_socket_addrs(listen)
                .map_err(|e| Error::Usage(format!("--listen {listen}: {e}")))?
                .collect();
            if addrs.is_empty() || addrs.iter().any(|a| !a.ip().is_loopback()) {
                return Err(Error::Usage(format!(
                    "--no-auth is allowed only on a loopback address (127.0.0.1, ::1), not {listen}"
                )));
            }
            Ok(())
        }
    }
}

/// Equal without an early exit, so response time tells nothing about how much of a key matched.
fn same_key(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Middleware on `/v1` routes: `Authorization: Bearer <key>` or 401.
pub(super) async fn require_key(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let Some(key) = &state.config.api_key else {
        return next.run(req).await;
    };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or(v.strip_prefix("bearer ")))
        .map(str::trim);
    match given {
        Some(g) if same_key(g.as_bytes(), key.as_bytes()) => next.run(req).await,
        Some(_) => unauthorized("wrong API key"),
        None => unauthorized("missing API key: send `Authorization: Bearer <key>`"),
    }
}

fn unauthorized(message: &str) -> Response {
    let mut r = ApiError::new(StatusCode::UNAUTHORIZED, message).into_response();
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposure_rules() {
        assert!(check_exposure("127.0.0.1:8080", Some("k"), false).is_ok());
        assert!(check_exposure("0.0.0.0:8080", Some("k"), false).is_ok());
        assert!(check_exposure("127.0.0.1:8080", None, true).is_ok());
        assert!(check_exposure("[::1]:8080", None, true).is_ok());
        assert!(check_exposure("0.0.0.0:8080", None, true).is_err());
        assert!(check_exposure("127.0.0.1:8080", None, false).is_err());
        assert!(check_exposure("127.0.0.1:8080", Some("k"), true).is_err());
    }

    #[test]
    fn keys() {
        assert_eq!(
            resolve_api_key(Some(" s3cret\n".into()), None).unwrap(),
            Some("s3cret".into())
        );
        assert!(resolve_api_key(Some("  ".into()), None).is_err());
        assert_eq!(resolve_api_key(None, None).unwrap(), None);
        assert!(same_key(b"abc", b"abc") && !same_key(b"abc", b"abd") && !same_key(b"ab", b"abc"));
    }
}
