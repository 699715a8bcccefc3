//! The licensing API over HTTP (axum): routing, the 16 KiB body limit, and the signature of every
//! `/v1` answer over its exact bytes. No logic of its own: each route hands the body to
//! `LicensingService`. SQLite work happens inside the service on the blocking pool, never on the
//! async workers.

use super::{Answer, LicensingService};
use crate::sync::SharedStore;
use crate::time::Timestamp;
use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The largest request body read (the contract's 16 KiB).
pub const BODY_LIMIT: usize = 16 * 1024;

/// The header that carries the signature of every `/v1` answer.
pub const SIGNATURE_HEADER: &str = "KeyManager-Signature";

/// How the server meets the network.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Requests one client address may make per minute (the `serve_requests_per_minute` setting).
    pub requests_per_minute: u32,
    /// Peers (a reverse proxy) whose `X-Forwarded-For` names the client; from anyone else the
    /// header is ignored and the peer address counts.
    pub trusted_proxies: Vec<IpAddr>,
}

type Limiter = governor::DefaultKeyedRateLimiter<IpAddr>;

/// What the seller sees of a running server: requests answered, and the last failures.
#[derive(Default)]
pub struct Monitor {
    served: AtomicU64,
    errors: std::sync::Mutex<std::collections::VecDeque<ServedError>>,
}

/// One answer that went wrong on the server's side (5xx) or was refused for load (429).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
pub struct ServedError {
    pub at: String,
    pub path: String,
    pub status: u16,
    pub code: String,
}

/// How many failures the monitor keeps.
pub const RECENT_ERRORS: usize = 20;

impl Monitor {
    pub fn served(&self) -> u64 {
        self.served.load(Ordering::Relaxed)
    }

    /// Newest first.
    pub fn recent_errors(&self) -> Vec<ServedError> {
        self.errors.lock().unwrap_or_else(|p| p.into_inner()).iter().rev().cloned().collect()
    }

    fn record(&self, e: ServedError) {
        let mut errors = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        if errors.len() == RECENT_ERRORS {
            errors.pop_front();
        }
        errors.push_back(e);
    }
}

#[derive(Clone)]
struct Served {
    service: LicensingService,
    store: SharedStore,
    clock: Arc<dyn Fn() -> Timestamp + Send + Sync>,
    limiter: Arc<Limiter>,
    trusted: Arc<Vec<IpAddr>>,
    monitor: Arc<Monitor>,
}

/// The licensing API's routes over `service`; `store` supplies the settings that shape answers
/// (certificate life, deactivations per day). Every request passes the per-address rate limit
/// first. `monitor` counts the requests answered and keeps the last failures (the desktop app
/// shows both live).
pub fn router(
    service: LicensingService,
    store: SharedStore,
    clock: Arc<dyn Fn() -> Timestamp + Send + Sync>,
    options: &ServeOptions,
    monitor: Arc<Monitor>,
) -> Router {
    let per_minute = NonZeroU32::new(options.requests_per_minute).unwrap_or(NonZeroU32::MIN);
    let limiter = Arc::new(governor::RateLimiter::keyed(governor::Quota::per_minute(per_minute)));
    // Forget addresses that have been quiet, so a flood of distinct ones cannot fill the memory.
    let weak = Arc::downgrade(&limiter);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            match weak.upgrade() {
                Some(l) => {
                    l.retain_recent();
                    l.shrink_to_fit();
                }
                None => break,
            }
        }
    });
    let state = Served { service, store, clock, limiter, trusted: Arc::new(options.trusted_proxies.clone()), monitor };
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/public-key", get(public_key))
        .route("/v1/licenses/validate", post(validate))
        .route("/v1/activations", post(activate))
        .route("/v1/activations/deactivate", post(deactivate))
        .route("/v1/retrieve", post(retrieve))
        .route("/", get(buyer_page).post(buyer_lookup))
        .route("/deactivate", post(buyer_deactivate))
        .route("/email", post(buyer_email))
        .route("/buyer.css", get(|| async { asset(super::buyer::CSS, "text/css; charset=utf-8") }))
        .route("/buyer.js", get(|| async { asset(super::buyer::JS, "text/javascript; charset=utf-8") }))
        .fallback(no_such_path)
        .layer(axum::middleware::from_fn_with_state(state.clone(), admit))
        .with_state(state)
}

/// The client's address: the peer, or for a trusted proxy the nearest untrusted address of
/// `X-Forwarded-For` (read from the right, the end the proxy appended).
pub fn client_address(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let Some(chain) = forwarded_for else { return peer };
    let mut nearest = peer;
    for hop in chain.rsplit(',') {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => nearest = ip,
            Ok(ip) => return ip,
            Err(_) => return nearest,
        }
    }
    nearest
}

/// The per-address rate limit, and the count of requests served.
async fn admit(
    State(s): State<Served>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request<Body>,
    next: axum::middleware::Next,
) -> Response {
    s.monitor.served.fetch_add(1, Ordering::Relaxed);
    let path = req.uri().path().chars().take(100).collect::<String>();
    let forwarded = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
    let client = client_address(peer.ip(), forwarded, &s.trusted);
    if let Err(not_until) = s.limiter.check_key(&client) {
        let wait = not_until.wait_time_from(governor::clock::Clock::now(&governor::clock::DefaultClock::default()));
        let r = respond(&s.service, s.service.rate_limited(wait.as_secs_f64().ceil() as u64, (s.clock)()));
        note_failure(&s, &path, &r);
        return r;
    }
    let r = next.run(req).await;
    note_failure(&s, &path, &r);
    r
}

fn note_failure(s: &Served, path: &str, r: &Response) {
    let status = r.status().as_u16();
    if status >= 500 || status == 429 {
        let code = r.extensions().get::<super::ApiCode>().map(|c| c.as_str()).unwrap_or("").to_string();
        s.monitor.record(ServedError { at: crate::time::to_db((s.clock)()), path: path.to_string(), status, code });
    }
}

/// A licensing server running on the current tokio runtime (the desktop app's), until stopped.
pub struct RunningServer {
    pub address: SocketAddr,
    pub monitor: Arc<Monitor>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningServer {
    /// Binds `bind` and serves `service` there in the background.
    pub async fn start(
        bind: &str,
        service: LicensingService,
        store: SharedStore,
        clock: Arc<dyn Fn() -> Timestamp + Send + Sync>,
        options: &ServeOptions,
    ) -> crate::Result<RunningServer> {
        let listener = tokio::net::TcpListener::bind(bind).await.map_err(|e| {
            crate::Error::new(crate::ErrorCode::InputInvalid, format!("Cannot listen on {bind}: {e}."))
                .with_field("server_bind")
        })?;
        let address = listener.local_addr().map_err(|e| crate::Error::internal(format!("No local address: {e}.")))?;
        let monitor = Arc::new(Monitor::default());
        let app = router(service, store, clock, options, monitor.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            if let Err(e) = serve(listener, app, async move {
                let _ = stopped.await;
            })
            .await
            {
                tracing::error!("the licensing server stopped: {e}");
            }
        });
        tracing::info!(%address, "licensing server listening");
        Ok(RunningServer { address, monitor, stop: Some(stop), task })
    }

    /// Stops accepting, lets requests in flight finish, and waits for the server to end.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// Serves `router` on `listener` until `shutdown` resolves; requests in flight then finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
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
    r.extensions_mut().insert(a.code);
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

/// An HTML page with the buyer page's security headers.
fn html(body: String) -> Response {
    let mut r = Response::new(Body::from(body));
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(super::buyer::CSP));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    r
}

fn asset(text: &'static str, kind: &'static str) -> Response {
    let mut r = Response::new(Body::from(text));
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(super::buyer::CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    r
}

async fn store_name(s: &Served) -> String {
    s.store.read(|st| st.settings()).await.map(|set| set.store_name).unwrap_or_default()
}

/// The fields of a submitted form (`application/x-www-form-urlencoded`).
fn form(body: &[u8]) -> std::collections::HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

async fn buyer_page(State(s): State<Served>) -> Response {
    html(super::buyer::page(&store_name(&s).await, "", &super::buyer::Shown::Nothing))
}

/// A submitted buyer form's fields, or the page that says it was too large.
async fn read_form(req: Request<Body>, name: &str) -> Result<std::collections::HashMap<String, String>, Response> {
    match to_bytes(req.into_body(), BODY_LIMIT).await {
        Ok(bytes) => Ok(form(&bytes)),
        Err(_) => {
            let shown = super::buyer::Shown::Message { text: "That form was far too large.".into(), good: false };
            Err(html(super::buyer::page(name, "", &shown)))
        }
    }
}

async fn buyer_lookup(State(s): State<Served>, req: Request<Body>) -> Response {
    let name = store_name(&s).await;
    let fields = match read_form(req, &name).await {
        Ok(f) => f,
        Err(page) => return page,
    };
    let code = fields.get("purchase_code").map(String::as_str).unwrap_or("").trim().to_string();
    let shown = s.service.buyer_lookup(&code, None, (s.clock)()).await;
    let shown_code: String = code.chars().take(100).collect();
    html(super::buyer::page(&name, &shown_code, &shown))
}

async fn buyer_email(State(s): State<Served>, req: Request<Body>) -> Response {
    let name = store_name(&s).await;
    let fields = match read_form(req, &name).await {
        Ok(f) => f,
        Err(page) => return page,
    };
    let code = fields.get("purchase_code").cloned().unwrap_or_default();
    let address = fields.get("email").cloned().unwrap_or_default();
    let consent = fields.get("consent").is_some_and(|v| v == "yes");
    let now = (s.clock)();
    let said = s.service.buyer_email(&code, &address, consent, now).await;
    page_with_notice(&s, &name, &code, said, now).await
}

/// The buyer page for `code` again after an action, with the sentence the action said.
async fn page_with_notice(s: &Served, name: &str, code: &str, said: String, now: Timestamp) -> Response {
    let shown = s.service.buyer_lookup(code, Some(said), now).await;
    let shown_code: String = code.chars().take(100).collect();
    html(super::buyer::page(name, &shown_code, &shown))
}

async fn buyer_deactivate(State(s): State<Served>, req: Request<Body>) -> Response {
    let name = store_name(&s).await;
    let fields = match read_form(req, &name).await {
        Ok(f) => f,
        Err(page) => return page,
    };
    let code = fields.get("purchase_code").cloned().unwrap_or_default();
    let fingerprint = fields.get("fingerprint").cloned().unwrap_or_default();
    let (_, per_day) = limits(&s).await;
    let now = (s.clock)();
    let said = s.service.buyer_deactivate(&code, &fingerprint, per_day, now).await;
    page_with_notice(&s, &name, &code, said, now).await
}

#[cfg(test)]
mod tests {
    use super::client_address;
    use std::net::IpAddr;

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let proxy = ip("127.0.0.1");
        let trusted = [proxy];
        // Anyone else's header is ignored: spoofing it buys no fresh quota.
        assert_eq!(client_address(ip("203.0.113.9"), Some("198.51.100.1"), &trusted), ip("203.0.113.9"));
        assert_eq!(client_address(proxy, Some("198.51.100.1"), &trusted), ip("198.51.100.1"));
        // The client's own (forged) entries stand left of the real one the proxy appended.
        assert_eq!(client_address(proxy, Some("1.2.3.4, 198.51.100.1"), &trusted), ip("198.51.100.1"));
        assert_eq!(client_address(proxy, Some("garbage"), &trusted), proxy);
        assert_eq!(client_address(proxy, None, &trusted), proxy);
        assert_eq!(client_address(proxy, Some("198.51.100.1"), &[]), proxy);
    }
}
