//! The licensing API over HTTP (axum): routing, the 16 KiB body limit, and the signature of every
//! `/v1` answer over its exact bytes. No logic of its own: each route hands the body to
//! `LicensingService`. SQLite work happens inside the service on the blocking pool, never on the
//! async workers.

use super::{Answer, LicensingService};
use crate::sync::SharedStore;
use crate::time::Timestamp;
use axum::body::{to_bytes, Body};
use axum::extract::State;
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use std::future::Future;
use std::sync::Arc;

/// The largest request body read (the contract's 16 KiB).
pub const BODY_LIMIT: usize = 16 * 1024;

/// The header that carries the signature of every `/v1` answer.
pub const SIGNATURE_HEADER: &str = "KeyManager-Signature";

#[derive(Clone)]
struct Served {
    service: LicensingService,
    store: SharedStore,
    clock: Arc<dyn Fn() -> Timestamp + Send + Sync>,
}

/// The licensing API's routes over `service`; `store` supplies the settings that shape answers
/// (certificate life, deactivations per day).
pub fn router(
    service: LicensingService,
    store: SharedStore,
    clock: Arc<dyn Fn() -> Timestamp + Send + Sync>,
) -> Router {
    let state = Served { service, store, clock };
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/public-key", get(public_key))
        .route("/v1/licenses/validate", post(validate))
        .route("/v1/activations", post(activate))
        .route("/v1/activations/deactivate", post(deactivate))
        .route("/v1/retrieve", post(retrieve))
        .fallback(no_such_path)
        .with_state(state)
}

/// Serves `router` on `listener` until `shutdown` resolves; requests in flight then finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router).with_graceful_shutdown(shutdown).await
}

/// The response for an answer: JSON, signed over the exact bytes sent.
fn respond(service: &LicensingService, a: Answer) -> Response {
    let signature = format!("ed25519={}", service.signer().sign(&a.body));
    let mut r = Response::new(Body::from(a.body));
    *r.status_mut() = StatusCode::from_u16(a.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&signature) {
        h.insert(SIGNATURE_HEADER, v);
    }
    if let Some(secs) = a.retry_after {
        h.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    r
}

/// The body, or the 413 answer when it is over the limit (or the 400 one when it is cut off).
async fn body(s: &Served, req: Request<Body>) -> Result<Vec<u8>, Response> {
    let now = (s.clock)();
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
        return Err(respond(&s.service, s.service.too_large(BODY_LIMIT, now)));
    }
    match to_bytes(req.into_body(), BODY_LIMIT).await {
        Ok(b) => Ok(b.to_vec()),
        Err(_) => Err(respond(&s.service, s.service.too_large(BODY_LIMIT, now))),
    }
}

/// The settings an answer depends on, read for each request (so a change applies at once).
async fn limits(s: &Served) -> (u32, u32) {
    let defaults = crate::settings::Settings::default();
    match s.store.read(|st| st.settings()).await {
        Ok(set) => (set.certificate_days, set.deactivations_per_day),
        Err(_) => (defaults.certificate_days, defaults.deactivations_per_day),
    }
}

async fn health(State(s): State<Served>) -> Response {
    respond(&s.service, s.service.health((s.clock)()))
}

async fn public_key(State(s): State<Served>) -> Response {
    respond(&s.service, s.service.public_key((s.clock)()))
}

async fn validate(State(s): State<Served>, req: Request<Body>) -> Response {
    let body = match body(&s, req).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    respond(&s.service, s.service.validate(&body, (s.clock)()).await)
}

async fn activate(State(s): State<Served>, req: Request<Body>) -> Response {
    let body = match body(&s, req).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let (days, _) = limits(&s).await;
    respond(&s.service, s.service.activate(&body, days, (s.clock)()).await)
}

async fn deactivate(State(s): State<Served>, req: Request<Body>) -> Response {
    let body = match body(&s, req).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let (_, per_day) = limits(&s).await;
    respond(&s.service, s.service.deactivate(&body, per_day, (s.clock)()).await)
}

async fn retrieve(State(s): State<Served>, req: Request<Body>) -> Response {
    let body = match body(&s, req).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    respond(&s.service, s.service.retrieve(&body, (s.clock)()).await)
}

async fn no_such_path(State(s): State<Served>) -> Response {
    respond(&s.service, s.service.no_such_path((s.clock)()))
}
