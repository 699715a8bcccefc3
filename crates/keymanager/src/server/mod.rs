//! The licensing server (`keymanager serve`, the app's server switch): the licensing API, the
//! buyer page and update delivery over HTTP (axum): routing, connection caps, rate limits, the
//! 16 KiB body limit, and the signature of every `/v1` answer over its exact bytes. No logic of
//! its own: each `/v1` route hands the body to the API's wire layer (`api::wire`, `updates::wire`),
//! which asks the typed services. SQLite work happens on the blocking pool or the readers, never
//! on the async workers.

mod admin;
pub mod buyer;

use crate::api::{Answer, LicensingService};
use crate::store::SharedStore;
use crate::time::Timestamp;
use crate::verify::Asker;
use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::Response;
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use serde::Serialize;
use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The licensing server as Settings > Licensing server shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ServerStatus {
    /// The seller switched it on (the app starts it whenever it runs).
    pub enabled: bool,
    pub running: bool,
    /// Where it listens now (the real port), while it runs.
    pub address: Option<String>,
    pub bind: String,
    pub public_url: String,
    /// The key products use to check answers (`keymanager keys public`), base64.
    pub public_key: Option<String>,
    #[ts(type = "number")]
    pub requests_served: u64,
    pub last_errors: Vec<ServedError>,
    /// Why it is not running although enabled (the address is taken, say).
    pub problem: Option<crate::Error>,
}

/// The largest request body read (the contract's 16 KiB).
pub const BODY_LIMIT: usize = 16 * 1024;

/// How much of a package is read from disk at a time while it is sent: large enough that a
/// 20 MB download is a few dozen reads, small enough that 16 at once hold a few megabytes.
const DOWNLOAD_CHUNK: usize = 128 * 1024;

/// The header that carries the signature of every `/v1` answer.
pub use crate::signing::SIGNATURE_HEADER;

/// How the server meets the network.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Requests one client address may make per minute (the `serve_requests_per_minute` setting).
    pub requests_per_minute: u32,
    /// Peers (a reverse proxy) whose `X-Forwarded-For` names the client; from anyone else the
    /// header is ignored and the peer address counts.
    pub trusted_proxies: Vec<IpAddr>,
    /// Connections open at once (`serve_max_connections`); past it new ones are closed at once.
    pub max_connections: usize,
    /// Connections one client address may hold open (trusted proxies are exempt).
    pub connections_per_address: usize,
    /// A request's headers must arrive within this; its body within as long again.
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    /// How long a stop waits for requests in flight before it drops them.
    pub shutdown_grace: Duration,
}

impl ServeOptions {
    /// The contract's limits with the seller's settings.
    pub fn from_settings(s: &crate::settings::Settings, trusted_proxies: Vec<IpAddr>) -> ServeOptions {
        ServeOptions {
            requests_per_minute: s.serve_requests_per_minute,
            trusted_proxies,
            max_connections: s.serve_max_connections as usize,
            ..ServeOptions::default()
        }
    }
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            requests_per_minute: 120,
            trusted_proxies: Vec::new(),
            max_connections: 1024,
            connections_per_address: 32,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            // SIGTERM stops the server within 10 seconds whatever clients do: 8 for requests in
            // flight, the rest for the workers.
            shutdown_grace: Duration::from_secs(8),
        }
    }
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
    updates: crate::updates::service::UpdateService,
    store: SharedStore,
    clock: Arc<dyn Fn() -> Timestamp + Send + Sync>,
    limiter: Arc<Limiter>,
    trusted: Arc<Vec<IpAddr>>,
    monitor: Arc<Monitor>,
    body_timeout: Duration,
    /// Addresses that keep failing the admin API's checks.
    admin_lockout: Arc<Mutex<crate::admin::Lockout>>,
    /// The runtime the admin API's operations run on (`keymanager serve`); None: only the
    /// admin routes that need the store alone.
    runtime: Option<Arc<crate::runtime::Runtime>>,
}

/// The client a request is from (after `X-Forwarded-For` from a trusted proxy), set by `admit`.
#[derive(Debug, Clone, Copy)]
struct Client(IpAddr);

/// The connection's own end, and whether a trusted proxy named another client (the admin API's
/// https rule), set by `admit`.
#[derive(Debug, Clone, Copy)]
struct Peer {
    ip: IpAddr,
    via_proxy: bool,
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
    runtime: Option<Arc<crate::runtime::Runtime>>,
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
    let state = Served {
        updates: crate::updates::service::UpdateService::new(service.clone()),
        service,
        store,
        clock,
        limiter,
        trusted: Arc::new(options.trusted_proxies.clone()),
        monitor,
        body_timeout: options.body_timeout,
        admin_lockout: Default::default(),
        runtime,
    };
    // Every /v1 path answers a wrong method with a signed 405 naming the right one.
    let v1 = |route: MethodRouter<Served>, allow: &'static str| {
        route.fallback(move |State(s): State<Served>| async move {
            let mut r = respond(&s.service, s.service.method_not_allowed(allow, (s.clock)()));
            r.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
            r
        })
    };
    Router::new()
        .route("/v1/health", v1(get(health), "GET, HEAD"))
        .route("/v1/public-key", v1(get(public_key), "GET, HEAD"))
        .route("/v1/licenses/validate", v1(post(validate), "POST"))
        .route("/v1/activations", v1(post(activate), "POST"))
        .route("/v1/activations/deactivate", v1(post(deactivate), "POST"))
        .route("/v1/retrieve", v1(post(retrieve), "POST"))
        .route("/v1/updates/check", v1(post(updates_check), "POST"))
        .route("/updates/{slug}/info.json", get(puc_info))
        .route("/updates/download/{token}", get(download))
        .route("/edd", get(edd).post(edd))
        .route("/edd/", get(edd).post(edd))
        .route("/", get(buyer_page).post(buyer_lookup))
        .route("/deactivate", post(buyer_deactivate))
        .route("/email", post(buyer_email))
        .route("/email/confirm", get(buyer_confirm_page).post(buyer_confirm))
        .route("/buyer.css", get(|| async { asset(buyer::CSS, "text/css; charset=utf-8") }))
        .route("/buyer.js", get(|| async { asset(buyer::JS, "text/javascript; charset=utf-8") }))
        .route("/admin/v1/pair", post(admin::pair))
        .route("/admin/v1/whoami", get(admin::whoami))
        .route("/admin/v1/dashboard", get(admin::dashboard))
        .route("/admin/v1/licenses/page", post(admin::licenses_page))
        .route("/admin/v1/licenses/{id}", get(admin::license))
        .route("/admin/v1/licenses/{id}/status", post(admin::license_status))
        .route("/admin/v1/lookup", post(admin::lookup))
        .route("/admin/v1/devices", get(admin::devices))
        .route("/admin/v1/changes", get(admin::changes))
        .route("/admin/v1/devices/{id}", axum::routing::delete(admin::revoke))
        .route("/admin/v1/op/{name}", post(admin::op))
        .route("/admin/v1/backup", get(admin::backup))
        .route("/admin/v1/packages/{sha}", get(admin::package))
        .route("/admin/v1/database", axum::routing::put(admin::database))
        .fallback(no_such_path)
        .layer(axum::middleware::from_fn_with_state(state.clone(), admit))
        .with_state(state)
}

/// The client's address: see `net::client_address` (kept here for callers of the old name).
pub fn client_address(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpAddr]) -> IpAddr {
    crate::net::client_address(peer, forwarded_for.into_iter(), trusted)
}

/// The per-address rate limit, and the count of requests served.
async fn admit(
    State(s): State<Served>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut req: Request<Body>,
    next: axum::middleware::Next,
) -> Response {
    s.monitor.served.fetch_add(1, Ordering::Relaxed);
    let path = req.uri().path().chars().take(100).collect::<String>();
    let forwarded = req.headers().get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
    let forwarded: Vec<&str> = forwarded.collect();
    let client = crate::net::client_address(peer.ip(), forwarded.into_iter(), &s.trusted);
    req.extensions_mut().insert(Client(client));
    // A request from a trusted proxy is the proxy's to describe (even without X-Forwarded-For).
    req.extensions_mut().insert(Peer { ip: peer.ip(), via_proxy: s.trusted.contains(&peer.ip()) });
    if let Err(not_until) = s.limiter.check_key(&crate::net::bucket(client)) {
        let wait = not_until.wait_time_from(governor::clock::Clock::now(&governor::clock::DefaultClock::default()));
        let r = respond(&s.service, crate::api::wire::rate_limited(wait.as_secs_f64().ceil() as u64, (s.clock)()));
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
        let code = r.extensions().get::<crate::api::ApiCode>().map(|c| c.as_str()).unwrap_or("").to_string();
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
        RunningServer::start_with_runtime(bind, service, store, clock, options, None).await
    }

    /// `start`, with the runtime the admin API's operations run on (as `keymanager serve` has).
    pub async fn start_with_runtime(
        bind: &str,
        service: LicensingService,
        store: SharedStore,
        clock: Arc<dyn Fn() -> Timestamp + Send + Sync>,
        options: &ServeOptions,
        runtime: Option<Arc<crate::runtime::Runtime>>,
    ) -> crate::Result<RunningServer> {
        let listener = tokio::net::TcpListener::bind(bind).await.map_err(|e| {
            crate::Error::new(crate::ErrorCode::InputInvalid, format!("Cannot listen on {bind}: {e}."))
                .with_field("server_bind")
        })?;
        let address = listener.local_addr().map_err(|e| crate::Error::internal(format!("No local address: {e}.")))?;
        let monitor = Arc::new(Monitor::default());
        let watch = crate::signing::SignerCell::watch(service.signer_cell());
        let app = router(service, store, clock, options, monitor.clone(), runtime);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let options = options.clone();
        let task = tokio::spawn(async move {
            if let Err(e) = serve(listener, app, &options, async move {
                let _ = stopped.await;
            })
            .await
            {
                tracing::error!("the licensing server stopped: {e}");
            }
            watch.abort();
        });
        tracing::info!(%address, "licensing server listening");
        Ok(RunningServer { address, monitor, stop: Some(stop), task })
    }

    /// Stops accepting, lets requests in flight finish (within the shutdown grace), and waits
    /// for the server to end.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// The open connections, counted globally and per client address.
struct Connections {
    open: Mutex<(usize, HashMap<IpAddr, usize>)>,
    max: usize,
    per_address: usize,
    trusted: Vec<IpAddr>,
}

/// One admitted connection; dropping it frees its place.
struct Place {
    conns: Arc<Connections>,
    key: Option<IpAddr>,
}

impl Connections {
    fn admit(self: &Arc<Self>, peer: IpAddr) -> Option<Place> {
        let peer = crate::net::canonical(peer);
        let exempt = self.trusted.iter().any(|t| crate::net::canonical(*t) == peer);
        let key = (!exempt).then(|| crate::net::bucket(peer));
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if open.0 >= self.max {
            return None;
        }
        if let Some(k) = key {
            let n = open.1.entry(k).or_insert(0);
            if *n >= self.per_address {
                return None;
            }
            *n += 1;
        }
        open.0 += 1;
        Some(Place { conns: self.clone(), key })
    }

    /// How many connections are open now.
    fn count(&self) -> usize {
        self.open.lock().unwrap_or_else(|p| p.into_inner()).0
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut open = self.conns.open.lock().unwrap_or_else(|p| p.into_inner());
        open.0 = open.0.saturating_sub(1);
        if let Some(k) = self.key {
            if let Some(n) = open.1.get_mut(&k) {
                *n -= 1;
                if *n == 0 {
                    open.1.remove(&k);
                }
            }
        }
    }
}

/// Descriptors kept for everything but client connections: the database and its readers,
/// Envato and webhook connections, the keychain, logs.
pub const RESERVED_DESCRIPTORS: u64 = 64;

/// The connection cap in force: the setting, but never more than the open-files limit allows
/// beside the reserve, so clients can never take the descriptors the sync and the database need.
pub fn connection_cap(setting: usize, open_files: Option<u64>) -> usize {
    let by_files = open_files.map_or(usize::MAX, |n| n.saturating_sub(RESERVED_DESCRIPTORS).max(16) as usize);
    setting.min(by_files).max(1)
}

/// Serves `router` on `listener` until `shutdown` resolves. Each connection must send its
/// headers within `header_timeout` (hyper closes it otherwise); at most `max_connections` are
/// open, `connections_per_address` per client address (a trusted proxy is exempt); a refused
/// connection is closed at once. After `shutdown`, requests in flight get `shutdown_grace` to
/// finish and are then dropped, so a slow client cannot hold the stop.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    options: &ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt;
    let conns = Arc::new(Connections {
        open: Mutex::new((0, HashMap::new())),
        max: connection_cap(options.max_connections, crate::process::open_files_limit()),
        per_address: options.connections_per_address.max(1),
        trusted: options.trusted_proxies.clone(),
    });
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut tasks = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors (EMFILE) or a connection reset before accept: wait a
                    // moment rather than spin, and go on.
                    tracing::warn!("accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        while tasks.try_join_next().is_some() {}
        let Some(place) = conns.admit(peer.ip()) else {
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(req.map(Body::new))
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(options.header_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tasks.spawn(async move {
            let _ = conn.await;
            drop(place);
        });
    }
    drop(listener);
    tracing::info!(open = conns.count(), "the licensing server is stopping");
    if tokio::time::timeout(options.shutdown_grace, graceful.shutdown()).await.is_err() {
        tracing::warn!(open = conns.count(), "clients still connected at the stop were dropped");
    }
    tasks.abort_all();
    Ok(())
}

/// JSON `body` with `status`, signed over the exact bytes sent (`/v1` and `/admin/v1` alike).
fn signed_json(service: &LicensingService, status: StatusCode, body: Vec<u8>) -> Response {
    let signature = format!("ed25519={}", service.signer().sign(&body));
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&signature) {
        h.insert(SIGNATURE_HEADER, v);
    }
    r
}

/// The response for an answer: its status and `Retry-After`, signed.
fn respond(service: &LicensingService, a: Answer) -> Response {
    let status = StatusCode::from_u16(a.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = signed_json(service, status, a.body);
    if let Some(secs) = a.retry_after {
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    r.extensions_mut().insert(a.code);
    r
}

/// Whether a `Content-Type` is JSON (`application/json`, parameters such as a charset allowed).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

/// Reads a body of at most `BODY_LIMIT` within `timeout`.
async fn read_limited(body: Body, limit: usize, timeout: Duration) -> Result<axum::body::Bytes, BodyProblem> {
    match tokio::time::timeout(timeout, to_bytes(body, limit)).await {
        Ok(Ok(b)) => Ok(b),
        Ok(Err(_)) => Err(BodyProblem::TooLarge),
        Err(_) => Err(BodyProblem::TooSlow),
    }
}

enum BodyProblem {
    TooLarge,
    TooSlow,
}

/// A body that did not arrive in time: the connection is closed after this answer.
fn too_slow(mut r: Response) -> Response {
    *r.status_mut() = StatusCode::REQUEST_TIMEOUT;
    r.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

/// The JSON body, or the answer that refuses it: 415 when it is not JSON (before reading it),
/// 413 when it is over the limit, a closed connection when it is too slow.
async fn body(s: &Served, req: Request<Body>) -> Result<Vec<u8>, Response> {
    body_up_to(s, req, BODY_LIMIT, s.body_timeout).await
}

/// `body` with another size limit and time (the admin API's authenticated uploads).
async fn body_up_to(s: &Served, req: Request<Body>, limit: usize, timeout: Duration) -> Result<Vec<u8>, Response> {
    let now = (s.clock)();
    if !is_json(req.headers()) {
        return Err(respond(&s.service, s.service.unsupported_media_type(now)));
    }
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(respond(&s.service, crate::api::wire::too_large(limit, now)));
    }
    match read_limited(req.into_body(), limit, timeout).await {
        Ok(b) => Ok(b.to_vec()),
        Err(BodyProblem::TooLarge) => Err(respond(&s.service, crate::api::wire::too_large(limit, now))),
        Err(BodyProblem::TooSlow) => Err(too_slow(respond(&s.service, s.service.too_slow(now)))),
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

fn asker(req: &Request<Body>) -> Asker {
    match req.extensions().get::<Client>() {
        Some(Client(ip)) => Asker::Client(*ip),
        // `admit` runs before every route; without it the request is nobody's to trust.
        None => Asker::Client(IpAddr::from([0, 0, 0, 0])),
    }
}

async fn health(State(s): State<Served>) -> Response {
    respond(&s.service, crate::api::wire::health((s.clock)()))
}

async fn public_key(State(s): State<Served>) -> Response {
    respond(&s.service, crate::api::wire::public_key(&s.service, (s.clock)()))
}

async fn validate(State(s): State<Served>, req: Request<Body>) -> Response {
    let who = asker(&req);
    let body = match body(&s, req).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    respond(&s.service, crate::api::wire::validate(&s.service, &body, who, (s.clock)()).await)
}

async fn activate(State(s): State<Served>, req: Request<Body>) -> Response {
    let who = asker(&req);
    let body = match body(&s, req).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let (days, _) = limits(&s).await;
    respond(&s.service, crate::api::wire::activate(&s.service, &body, days, who, (s.clock)()).await)
}

async fn deactivate(State(s): State<Served>, req: Request<Body>) -> Response {
    let who = asker(&req);
    let body = match body(&s, req).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let (_, per_day) = limits(&s).await;
    respond(&s.service, crate::api::wire::deactivate(&s.service, &body, per_day, who, (s.clock)()).await)
}

async fn retrieve(State(s): State<Served>, req: Request<Body>) -> Response {
    let who = asker(&req);
    let body = match body(&s, req).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    respond(&s.service, crate::api::wire::retrieve(&s.service, &body, who, (s.clock)()).await)
}

async fn updates_check(State(s): State<Served>, req: Request<Body>) -> Response {
    let who = asker(&req);
    let body = match body(&s, req).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    respond(&s.service, crate::updates::wire::check(&s.updates, &body, who, (s.clock)()).await)
}

/// A JSON answer of the update paths (unsigned: PUC and EDD read plain JSON).
fn plain_json(status: u16, value: &serde_json::Value) -> Response {
    let mut body = Vec::with_capacity(512);
    let _ = serde_json::to_writer(&mut body, value);
    json_bytes(status, body)
}

/// A JSON answer already serialized.
fn json_bytes(status: u16, body: Vec<u8>) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    r
}

fn coded(status: u16, code: &str, detail: &str) -> Response {
    plain_json(status, &serde_json::json!({ "code": code, "detail": detail }))
}

/// One field of a query or form: trimmed, empty as absent, and refused (absent) past `max`.
fn field(fields: &HashMap<String, String>, names: &[&str], max: usize) -> Option<String> {
    names
        .iter()
        .find_map(|n| fields.get(*n))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty() && v.chars().count() <= max)
}

fn truthy(v: Option<String>) -> bool {
    v.is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on" | "beta"))
}

fn user_agent(headers: &HeaderMap) -> &str {
    headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// What an update answer that failed inside KeyManager looks like (the database).
fn update_failure(f: crate::api::Failure) -> Response {
    if let crate::api::Failure::Internal(e) = &f {
        tracing::error!(code = %e.code, "update answer: {}", e.message);
    }
    coded(500, "INTERNAL_ERROR", "KeyManager could not answer; try again later.")
}

/// `GET /updates/{slug}/info.json`: plugin-update-checker's metadata, 200 whatever the license.
/// The query carries the license key: it is never logged.
async fn puc_info(
    State(s): State<Served>,
    axum::extract::Path(slug): axum::extract::Path<String>,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
    req: Request<Body>,
) -> Response {
    let who = asker(&req);
    let ua = user_agent(req.headers());
    let ask = crate::updates::service::Ask {
        license: field(&q, &["license_key", "key", "purchase_code"], crate::api::request::NAME_MAX),
        installed: field(&q, &["installed_version"], 64),
        beta: field(&q, &["channel"], 16).as_deref() == Some("beta"),
        site_url: field(&q, &["site"], 2048).or_else(|| crate::updates::service::site_from_user_agent(ua)),
        fingerprint: None,
        php: field(&q, &["php"], 64),
        wordpress: crate::updates::service::wordpress_from_user_agent(ua),
    };
    let which = crate::updates::service::Which::Slug(slug);
    match s.updates.offer(&which, &ask, who, (s.clock)()).await {
        Ok(Some(offer)) => json_bytes(200, crate::updates::service::puc_body(&offer)),
        Ok(None) => coded(404, "NOT_FOUND", "No product has this update slug."),
        Err(f) => update_failure(f),
    }
}

/// `POST /edd` (and `/edd/`, and a GET with a query): EDD Software Licensing's `get_version`.
async fn edd(State(s): State<Served>, req: Request<Body>) -> Response {
    let who = asker(&req);
    let query: HashMap<String, String> = form(req.uri().query().unwrap_or("").as_bytes());
    let fields = if req.method() == axum::http::Method::POST {
        match read_limited(req.into_body(), BODY_LIMIT, s.body_timeout).await {
            Ok(bytes) => {
                let mut f = form(&bytes);
                for (k, v) in query {
                    f.entry(k).or_insert(v);
                }
                f
            }
            Err(BodyProblem::TooLarge) => return coded(413, "PAYLOAD_TOO_LARGE", "The form is larger than 16 KiB."),
            Err(BodyProblem::TooSlow) => {
                let mut r = coded(408, "BAD_REQUEST", "The request body did not arrive in time.");
                r.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
                return r;
            }
        }
    } else {
        query
    };
    if field(&fields, &["edd_action"], 64).as_deref() != Some("get_version") {
        return coded(400, "BAD_REQUEST", "This server answers edd_action=get_version.");
    }
    let item_id = field(&fields, &["item_id"], 20).and_then(|v| v.parse::<i64>().ok()).filter(|v| *v > 0);
    let which = crate::updates::service::Which::Edd {
        item_id,
        item_name: field(&fields, &["item_name"], 200),
        slug: field(&fields, &["slug"], 100),
    };
    let ask = crate::updates::service::Ask {
        license: field(&fields, &["license"], crate::api::request::NAME_MAX),
        installed: field(&fields, &["version"], 64),
        beta: truthy(field(&fields, &["beta"], 8)),
        site_url: field(&fields, &["url"], 2048),
        fingerprint: None,
        php: field(&fields, &["php_version"], 64),
        wordpress: field(&fields, &["wp_version"], 64),
    };
    match s.updates.offer(&which, &ask, who, (s.clock)()).await {
        Ok(Some(offer)) => json_bytes(200, crate::updates::service::edd_body(&offer)),
        Ok(None) => coded(404, "NOT_FOUND", "No product matches this item."),
        Err(f) => update_failure(f),
    }
}

/// `GET`/`HEAD /updates/download/{token}`: the package, streamed from disk (no database
/// connection or reader thread is held while it is sent). A HEAD is not counted.
async fn download(
    State(s): State<Served>,
    axum::extract::Path(token): axum::extract::Path<String>,
    req: Request<Body>,
) -> Response {
    use crate::updates::service::Download;
    let head = req.method() == axum::http::Method::HEAD;
    let found = match s.updates.download(&token, !head, (s.clock)()).await {
        Ok(d) => d,
        Err(f) => return update_failure(f),
    };
    match found {
        Download::Refused { status, code, detail, retry_after } => {
            let mut r = coded(status, code, &detail);
            if let Some(secs) = retry_after {
                r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            r
        }
        Download::File { path, size, sha256, md5_base64, signature, filename } => {
            let body = if head {
                Body::empty()
            } else {
                match std::fs::File::open(&path) {
                    Ok(f) => Body::from_stream(package_stream(f)),
                    Err(e) => {
                        tracing::error!("cannot open a release package: {e}");
                        return coded(500, "INTERNAL_ERROR", "KeyManager could not answer; try again later.");
                    }
                }
            };
            let mut r = Response::new(body);
            let h = r.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/zip"));
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
            if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            if let Ok(v) = HeaderValue::from_str(&md5_base64) {
                h.insert("content-md5", v);
            }
            if let Ok(v) = HeaderValue::from_str(&format!("\"{sha256}\"")) {
                h.insert(header::ETAG, v);
            }
            if let Ok(v) = HeaderValue::from_str(&signature) {
                h.insert("x-content-signature", v);
            }
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
            h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            r
        }
    }
}

/// A package file as a body: one `DOWNLOAD_CHUNK` read at a time on the blocking pool, each
/// read into the buffer that is sent (no second copy), the next read only when the connection
/// has taken the last chunk. A slow reader holds its file and one chunk, never a thread.
fn package_stream(file: std::fs::File) -> impl futures_util::Stream<Item = std::io::Result<axum::body::Bytes>> {
    futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let read = tokio::task::spawn_blocking(move || {
            use std::io::Read;
            let mut buf = vec![0u8; DOWNLOAD_CHUNK];
            let mut filled = 0;
            while filled < buf.len() {
                match file.read(&mut buf[filled..]) {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            buf.truncate(filled);
            Ok((file, buf))
        })
        .await;
        match read {
            Ok(Ok((_, buf))) if buf.is_empty() => None,
            Ok(Ok((file, buf))) => Some((Ok(axum::body::Bytes::from(buf)), Some(file))),
            Ok(Err(e)) => Some((Err(e), None)),
            Err(e) => Some((Err(std::io::Error::other(e)), None)),
        }
    })
}

/// Unknown paths: a signed JSON `NOT_FOUND_PATH` under `/v1/`, a plain page elsewhere.
async fn no_such_path(State(s): State<Served>, req: Request<Body>) -> Response {
    if req.uri().path().starts_with("/v1/") || req.uri().path() == "/v1" {
        return respond(&s.service, crate::api::wire::no_such_path((s.clock)()));
    }
    let mut r = html(buyer::not_found_page(&store_name(&s).await));
    *r.status_mut() = StatusCode::NOT_FOUND;
    r
}

/// An HTML page with the buyer page's security headers.
fn html(body: String) -> Response {
    let mut r = Response::new(Body::from(body));
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(buyer::CSP));
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
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(buyer::CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    r
}

async fn store_name(s: &Served) -> String {
    s.store.read(|st| st.settings()).await.map(|set| set.store_name).unwrap_or_default()
}

/// The fields of a submitted form (`application/x-www-form-urlencoded`).
fn form(body: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

async fn buyer_page(State(s): State<Served>) -> Response {
    html(buyer::page(&store_name(&s).await, "", &buyer::Shown::Nothing))
}

/// Whether a form post comes from this site's own page: `Sec-Fetch-Site` (sent by every
/// current browser) must say same-origin (or none: typed by the user), and an `Origin` must
/// be this server's (by the `Host` it was asked under, or the seller's public URL). A post
/// without either header (an old browser, a script) is not a cross-site post by a browser.
pub fn same_origin(headers: &HeaderMap, public_url: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        if !matches!(site.to_str().unwrap_or(""), "same-origin" | "none") {
            return false;
        }
    }
    let Some(origin) = headers.get(header::ORIGIN) else { return true };
    let Ok(origin) = origin.to_str() else { return false };
    let Ok(url) = url::Url::parse(origin) else { return false };
    let Some(host) = url.host_str() else { return false };
    let authority = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    };
    let own_host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    if own_host.is_some_and(|h| h.eq_ignore_ascii_case(&authority)) {
        return true;
    }
    !public_url.is_empty() && url::Url::parse(public_url).is_ok_and(|p| p.origin() == url.origin())
}

/// A submitted buyer form's fields and the client, or the page that refuses the post (from
/// another site, far too large, too slow).
async fn read_form(s: &Served, req: Request<Body>) -> Result<(HashMap<String, String>, Asker, String), Response> {
    let name = store_name(s).await;
    let who = asker(&req);
    let public_url = s.store.read(|st| st.settings()).await.map(|set| set.public_url).unwrap_or_default();
    if !same_origin(req.headers(), &public_url) {
        let shown = buyer::Shown::Message {
            text: "This form can only be sent from this page. Open the page and try again.".into(),
            good: false,
        };
        let mut r = html(buyer::page(&name, "", &shown));
        *r.status_mut() = StatusCode::FORBIDDEN;
        return Err(r);
    }
    match read_limited(req.into_body(), BODY_LIMIT, s.body_timeout).await {
        Ok(bytes) => Ok((form(&bytes), who, name)),
        Err(problem) => {
            let shown = buyer::Shown::Message { text: "That form was far too large.".into(), good: false };
            let r = html(buyer::page(&name, "", &shown));
            Err(match problem {
                BodyProblem::TooLarge => r,
                BodyProblem::TooSlow => too_slow(r),
            })
        }
    }
}

async fn buyer_lookup(State(s): State<Served>, req: Request<Body>) -> Response {
    let (fields, who, name) = match read_form(&s, req).await {
        Ok(f) => f,
        Err(page) => return page,
    };
    let code = fields.get("purchase_code").map(String::as_str).unwrap_or("").trim().to_string();
    let shown = s.service.buyer_lookup(&code, None, who, (s.clock)()).await;
    let shown_code: String = code.chars().take(100).collect();
    html(buyer::page(&name, &shown_code, &shown))
}

async fn buyer_email(State(s): State<Served>, req: Request<Body>) -> Response {
    let (fields, who, name) = match read_form(&s, req).await {
        Ok(f) => f,
        Err(page) => return page,
    };
    let code = fields.get("purchase_code").cloned().unwrap_or_default();
    let address = fields.get("email").cloned().unwrap_or_default();
    let consent = fields.get("consent").is_some_and(|v| v == "yes");
    let shown = s.service.buyer_email(&code, &address, consent, who, (s.clock)()).await;
    html(buyer::page(&name, &code.chars().take(100).collect::<String>(), &shown))
}

async fn buyer_deactivate(State(s): State<Served>, req: Request<Body>) -> Response {
    let (fields, who, name) = match read_form(&s, req).await {
        Ok(f) => f,
        Err(page) => return page,
    };
    let code = fields.get("purchase_code").cloned().unwrap_or_default();
    let fingerprint = fields.get("fingerprint").cloned().unwrap_or_default();
    let (_, per_day) = limits(&s).await;
    let shown = s.service.buyer_deactivate(&code, &fingerprint, per_day, who, (s.clock)()).await;
    html(buyer::page(&name, &code.chars().take(100).collect::<String>(), &shown))
}

/// The link in a confirmation mail opens a page with one button: a GET changes nothing (mail
/// scanners open links), the button's POST sends the key.
async fn buyer_confirm_page(
    State(s): State<Served>,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> Response {
    let token = q.get("token").map(String::as_str).unwrap_or("");
    html(buyer::confirm_page(&store_name(&s).await, token))
}

async fn buyer_confirm(State(s): State<Served>, req: Request<Body>) -> Response {
    let (fields, who, name) = match read_form(&s, req).await {
        Ok(f) => f,
        Err(page) => return page,
    };
    let token = fields.get("token").cloned().unwrap_or_default();
    let shown = s.service.buyer_confirm(&token, who, (s.clock)()).await;
    html(buyer::page(&name, "", &shown))
}

impl LicensingService {
    /// A known path asked with the wrong method (`allow` names the right ones).
    pub fn method_not_allowed(&self, allow: &str, now: Timestamp) -> Answer {
        let detail = format!("This path answers {allow} only.");
        crate::api::answer(405, crate::api::ApiCode::MethodNotAllowed, &detail, None, now, serde_json::json!({}))
    }

    /// A `POST` whose body is not declared JSON (what a cross-site form or `text/plain` fetch sends).
    pub fn unsupported_media_type(&self, now: Timestamp) -> Answer {
        let detail = "Send the body as JSON, with Content-Type: application/json.";
        crate::api::answer(415, crate::api::ApiCode::UnsupportedMediaType, detail, None, now, serde_json::json!({}))
    }

    /// A body that did not arrive within the body timeout.
    pub fn too_slow(&self, now: Timestamp) -> Answer {
        let detail = "The request body did not arrive in time.";
        crate::api::answer(408, crate::api::ApiCode::BadRequest, detail, None, now, serde_json::json!({}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn buyer_forms_accept_only_their_own_origin() {
        let own = [("host", "licenses.example.com")];
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, bool);
        let cases: &[Case] = &[
            (&[], "", true),
            (&own, "", true),
            (&[("host", "licenses.example.com"), ("origin", "https://licenses.example.com")], "", true),
            (&[("host", "127.0.0.1:8787"), ("origin", "http://127.0.0.1:8787")], "", true),
            // Behind a proxy the Host may be the proxy's upstream; the public URL names the site.
            (
                &[("host", "127.0.0.1:8787"), ("origin", "https://licenses.example.com")],
                "https://licenses.example.com",
                true,
            ),
            (&[("host", "licenses.example.com"), ("origin", "https://evil.example")], "", false),
            (&[("host", "licenses.example.com"), ("origin", "null")], "", false),
            (&[("host", "licenses.example.com"), ("sec-fetch-site", "cross-site")], "", false),
            (&[("host", "licenses.example.com"), ("sec-fetch-site", "same-site")], "", false),
            (&[("host", "licenses.example.com"), ("sec-fetch-site", "same-origin")], "", true),
            (&[("host", "licenses.example.com"), ("origin", "https://licenses.example.com.evil.example")], "", false),
        ];
        for (h, public_url, want) in cases {
            assert_eq!(same_origin(&headers(h), public_url), *want, "{h:?} with public URL {public_url:?}");
        }
    }

    #[test]
    fn connections_leave_descriptors_for_the_rest() {
        assert_eq!(connection_cap(1024, Some(1_048_576)), 1024);
        assert_eq!(connection_cap(1024, Some(128)), 64);
        assert_eq!(connection_cap(1024, Some(40)), 16);
        assert_eq!(connection_cap(1024, None), 1024);
    }

    #[test]
    fn only_json_is_json() {
        assert!(is_json(&headers(&[("content-type", "application/json")])));
        assert!(is_json(&headers(&[("content-type", "Application/JSON; charset=utf-8")])));
        assert!(!is_json(&headers(&[("content-type", "text/plain")])));
        assert!(!is_json(&headers(&[("content-type", "application/x-www-form-urlencoded")])));
        assert!(!is_json(&headers(&[("content-type", "application/jsonp")])));
        assert!(!is_json(&headers(&[])));
    }
}
