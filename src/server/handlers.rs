//! The route handlers and their request and response bodies, and the JSON error every failure
//! becomes. Scoring runs on the blocking pool, never on the async threads. Not here: routing,
//! auth and limits (`mod`, `auth`, `limits`).

use std::sync::Arc;

use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::state::{versions, versions_header, AppState, ListVersion};
use crate::model::{Address, EntityKind, ListInfo};
use crate::output::JsonParty;
use crate::policy::Decision;
use crate::screen::{Party, PartyResult, Screener};

/// The response header naming the lists (and versions) a response was made against.
pub const WATCHLISTS_HEADER: &str = "x-redflag-watchlists";

/// Any failure, as `{"error": "..."}` with its status.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    fn not_ready() -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: the watchlists are still loading",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

/// `Json<T>` whose rejections (malformed JSON, wrong content type, body too large) are JSON
/// errors naming the problem, instead of axum's plain text.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(ApiError::new(rejection.status(), rejection.body_text())),
        }
    }
}

/// A body with the lists it was made against as a `watchlists` field (after the body's own).
#[derive(Serialize)]
struct Stamped<'a, T: Serialize> {
    #[serde(flatten)]
    body: T,
    #[serde(skip_serializing_if = "Option::is_none")]
    watchlists: Option<&'a [ListVersion]>,
}

/// A JSON response stamped with the lists it was made against: the `X-Redflag-Watchlists` header
/// and, when `field` is set (the body does not describe them itself), a `watchlists` field.
fn stamped<T: Serialize>(
    status: StatusCode,
    lists: &[ListVersion],
    body: T,
    field: bool,
) -> Response {
    let body = Stamped {
        body,
        watchlists: field.then_some(lists),
    };
    let mut r = (status, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&versions_header(lists)) {
        r.headers_mut().insert(WATCHLISTS_HEADER, v);
    }
    r
}

pub(super) async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

pub(super) async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    match state.screener() {
        Some(s) => stamped(
            StatusCode::OK,
            &versions(&s),
            json!({ "status": "ready" }),
            true,
        ),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "loading", "error": "the watchlists are still loading" })),
        )
            .into_response(),
    }
}

/// An address as one line, or in parts (`text`, `city`, `postal_code`, `region`, `country`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum AddressIn {
    Line(String),
    Parts(Address),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyIn {
    pub name: String,
    #[serde(default)]
    pub address: Option<AddressIn>,
    #[serde(default)]
    pub country: Option<String>,
    /// The party's role (`consignee`, `end_user`...); `party` when not given.
    #[serde(default)]
    pub role: Option<String>,
    /// Person, organization, vessel or aircraft, when the caller knows.
    #[serde(default)]
    pub kind: Option<String>,
    /// Echoed back unchanged (any JSON value), so the caller can match results to its records.
    #[serde(default)]
    pub reference: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreenRequest {
    pub parties: Vec<PartyIn>,
}

/// Longest name or address accepted, in characters. Real names are far shorter; a huge one made
/// of listed words costs the scorer seconds, so one request could keep a core busy past its time
/// limit (the blocking task cannot be cancelled).
pub const MAX_FIELD_CHARS: usize = 1000;

impl PartyIn {
    fn into_party(self, i: usize) -> Result<(Party, Option<serde_json::Value>), ApiError> {
        let address_len = match &self.address {
            Some(AddressIn::Line(t)) => t.chars().count(),
            Some(AddressIn::Parts(a)) => a.full().chars().count(),
            None => 0,
        };
        for (field, len) in [
            ("name", self.name.chars().count()),
            ("address", address_len),
        ] {
            if len > MAX_FIELD_CHARS {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("parties[{i}].{field}: {len} characters; at most {MAX_FIELD_CHARS} are screened"),
                ));
            }
        }
        let kind = match &self.kind {
            None => EntityKind::Unknown,
            Some(k) => EntityKind::parse(k).ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!(
                        "parties[{i}].kind: unknown kind `{k}` (person, organization, vessel, aircraft)"
                    ),
                )
            })?,
        };
        let address = match self.address {
            None => None,
            Some(AddressIn::Line(text)) => Some(Address {
                text,
                ..Default::default()
            }),
            Some(AddressIn::Parts(a)) => Some(a),
        }
        .filter(|a| !a.is_empty());
        let party = Party {
            role: self.role.unwrap_or_else(|| "party".into()),
            name: self.name,
            country: self
                .country
                .or_else(|| address.as_ref().and_then(|a| a.country.clone())),
            address,
            kind,
        };
        Ok((party, self.reference))
    }
}

#[derive(Serialize)]
struct PartyOut<'a> {
    #[serde(flatten)]
    result: JsonParty<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reference: Option<&'a serde_json::Value>,
}

/// The store could not apply decisions or record the call: no answer without its record.
fn store_failed(e: crate::Error) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("{e}; nothing was answered"),
    )
}

fn screener_or_503(state: &AppState) -> Result<Arc<Screener>, ApiError> {
    state.screener().ok_or_else(ApiError::not_ready)
}

pub(super) async fn screen(
    State(state): State<Arc<AppState>>,
    ApiJson(req): ApiJson<ScreenRequest>,
) -> Result<Response, ApiError> {
    let n = req.parties.len();
    let max = state.config.max_parties;
    if n == 0 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "`parties` is empty: nothing to screen",
        ));
    }
    if n > max {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{n} parties in one request; at most {max} are allowed (--max-parties)"),
        ));
    }
    let parties = req
        .parties
        .into_iter()
        .enumerate()
        .map(|(i, p)| p.into_party(i))
        .collect::<Result<Vec<_>, _>>()?;
    // The screener is taken once: the whole request is answered against one set of lists.
    let screener = screener_or_503(&state)?;
    let worker = screener.clone();
    // Past the time limit the response is already a 503; the parties not yet screened are then
    // skipped instead of keeping a core busy for an answer nobody reads.
    let deadline = std::time::Instant::now() + state.config.timeout;
    let recorder = state.clone();
    let (parties, results) = tokio::task::spawn_blocking(move || {
        let one = |(p, _): &(Party, Option<serde_json::Value>)| {
            if std::time::Instant::now() > deadline {
                PartyResult::error("not screened: the request ran out of time")
            } else {
                worker.screen(p)
            }
        };
        let mut results: Vec<PartyResult> = if parties.len() > 1 {
            parties.par_iter().map(one).collect()
        } else {
            parties.iter().map(one).collect()
        };
        let input: Vec<&Party> = parties.iter().map(|(p, _)| p).collect();
        let hash = crate::store::audit::value_hash(&input);
        let mut answered: Vec<(&Party, &mut PartyResult)> = parties
            .iter()
            .map(|(p, _)| p)
            .zip(results.iter_mut())
            .collect();
        recorder.decide_and_record(&worker, "api-screen", hash, &mut answered)?;
        Ok::<_, crate::Error>((parties, results))
    })
    .await
    .map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "screening failed unexpectedly; nothing was decided",
        )
    })?
    .map_err(store_failed)?;
    let decision = results
        .iter()
        .map(|r| r.decision)
        .max()
        .unwrap_or(Decision::Error);
    let out: Vec<PartyOut> = parties
        .iter()
        .zip(&results)
        .enumerate()
        .map(|(i, ((p, reference), r))| PartyOut {
            result: JsonParty {
                row: i as u64 + 1,
                party: &p.role,
                name: &p.name,
                decision: r.decision,
                hits: &r.hits,
                error: r.error.as_deref(),
            },
            reference: reference.as_ref(),
        })
        .collect();
    #[derive(Serialize)]
    struct ScreenResponse<'a> {
        decision: Decision,
        results: Vec<PartyOut<'a>>,
    }
    Ok(stamped(
        StatusCode::OK,
        &versions(&screener),
        ScreenResponse {
            decision,
            results: out,
        },
        true,
    ))
}

/// One shipment, one answer: the body is the document `redflag check` reads; the response is
/// its `--format json` output, with the decision of the worst party or rule.
pub(super) async fn check(
    State(state): State<Arc<AppState>>,
    ApiJson(input): ApiJson<crate::shipment::ShipmentInput>,
) -> Result<Response, ApiError> {
    let shipment = input
        .validate("request body")
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    let max = state.config.max_parties;
    if shipment.parties.len() > max {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "{} parties in one shipment; at most {max} are allowed (--max-parties)",
                shipment.parties.len()
            ),
        ));
    }
    let screener = screener_or_503(&state)?;
    let worker = screener.clone();
    let recorder = state.clone();
    let result = tokio::task::spawn_blocking(move || {
        let mut result = crate::shipment::check(&worker, &shipment);
        let hash = crate::store::audit::value_hash(&shipment);
        let mut answered: Vec<(&Party, &mut PartyResult)> = result
            .parties
            .iter_mut()
            .map(|p| (&p.party, &mut p.result))
            .collect();
        recorder.decide_and_record(&worker, "api-check", hash, &mut answered)?;
        // Decisions changed party results: the shipment's decision follows them.
        result.recompute_decision();
        Ok::<_, crate::Error>(result)
    })
    .await
    .map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the check failed unexpectedly; nothing was decided",
        )
    })?
    .map_err(store_failed)?;
    Ok(stamped(StatusCode::OK, &versions(&screener), result, true))
}

/// What `/v1/watchlists` tells about a list (not its path on the server).
#[derive(Serialize)]
struct ListOut<'a> {
    name: &'a str,
    format: &'a str,
    version: &'a str,
    published: Option<&'a str>,
    content_hash: &'a str,
    entity_count: usize,
}

impl<'a> From<&'a ListInfo> for ListOut<'a> {
    fn from(l: &'a ListInfo) -> Self {
        ListOut {
            name: &l.name,
            format: &l.format,
            version: &l.version,
            published: l.published.as_deref(),
            content_hash: &l.content_hash,
            entity_count: l.entity_count,
        }
    }
}

pub(super) async fn watchlists(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let s = screener_or_503(&state)?;
    let lists: Vec<ListOut> = s.watchlist.lists.iter().map(ListOut::from).collect();
    #[derive(Serialize)]
    struct WatchlistsOut<'a> {
        watchlists: Vec<ListOut<'a>>,
    }
    Ok(stamped(
        StatusCode::OK,
        &versions(&s),
        WatchlistsOut { watchlists: lists },
        false,
    ))
}

pub(super) async fn reload(State(state): State<Arc<AppState>>) -> Response {
    let report = state.reload().await;
    let status = if report.reloaded {
        StatusCode::OK
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    stamped(status, &report.watchlists, &report, false)
}

pub(super) async fn openapi() -> Json<serde_json::Value> {
    Json(super::openapi::document())
}

pub(super) async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such route; see /openapi.json")
}

pub(super) async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed on this route; see /openapi.json",
    )
}
