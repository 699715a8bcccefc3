//! A local Envato Market API for tests, benchmarks and demos.
//!
//! It serves the endpoints KeyManager uses (shared/docs/envato-api.md) from a generated or
//! loaded data set, with a switch for each documented unknown and injectable faults. A control
//! API under `/__sandbox/` lets a test add or refund a sale, change switches and read request
//! counts while it runs. It binds to loopback only.

pub mod check;
pub mod data;
pub mod receivers;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration as ChronoDuration, NaiveDate, Utc};
use data::{Dataset, ItemRec, Rng, SaleRec, TokenSpec};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One fault to serve instead of a normal reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// 429, with `Retry-After` when the variant says so.
    RateLimit,
    /// 500 with Envato's JSON body.
    ServerError,
    /// 503 with an HTML body.
    Unavailable,
    /// Headers, then the connection drops mid-body.
    Drop,
    /// 200 with half the JSON.
    Truncate,
    /// 200 with a body that is not JSON at all.
    NotJson,
    /// Never answers (the client's timeout fires).
    Hang,
    /// The CDN firewall's plain-text 403.
    Firewall,
    /// 422, seen on purchase-code look-ups with no known cause.
    Unprocessable,
}

/// The documented unknowns: each switch serves one side.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Variants {
    /// Whether `/author/sales` entries carry `code`, `buyer` and `purchase_count` (Unknowns 1).
    pub sales_include_code: bool,
    /// Status for an unknown purchase code: 404, or 200 with the 404 body (as recorded).
    pub unknown_code_status: u16,
    /// Seconds in `Retry-After` on 429; None leaves the header out (Unknowns 5).
    pub retry_after_secs: Option<u64>,
    /// Entries per `/author/sales` page (Unknowns 2).
    pub page_size: usize,
    /// 401 body: JSON `{"message":"Unauthorized"}` (false) or plain text (true).
    pub unauthorized_plain_text: bool,
}

impl Default for Variants {
    fn default() -> Self {
        Variants {
            sales_include_code: false,
            unknown_code_status: 404,
            retry_after_secs: Some(1),
            page_size: 50,
            unauthorized_plain_text: false,
        }
    }
}

/// Faults that strike at a rate, plus a queue of faults for the next requests.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    pub latency_ms: u64,
    /// Every k-th API request answers 429 (0: never).
    pub rate_limit_every: u64,
    pub error_rate: f64,
    pub drop_rate: f64,
    pub truncate_rate: f64,
    /// Delay between 1 KiB chunks of every body.
    pub slow_body_ms: u64,
    /// Pads every JSON answer with this many bytes of leading white space (streamed, no
    /// Content-Length): a runaway or hostile server.
    pub oversize_body_bytes: u64,
    /// Served in order to the next API requests, before any rate-based fault.
    pub fail_next: VecDeque<Fault>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Switches {
    pub variants: Variants,
    pub faults: Faults,
}

/// Request counts, by endpoint name.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Stats {
    pub total: u64,
    pub by_endpoint: BTreeMap<String, u64>,
    /// The most API requests being handled at the same moment.
    pub max_in_flight: u64,
    #[serde(skip)]
    in_flight: u64,
}

/// Counts a request as in flight until dropped (the handler returned or was cancelled).
struct InFlight(Sandbox);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut inner = self.0.lock();
        inner.stats.in_flight = inner.stats.in_flight.saturating_sub(1);
    }
}

struct Inner {
    data: Dataset,
    switches: Switches,
    stats: Stats,
    rng: Rng,
    /// Per author: indexes into `data.sales` of unrefunded sales, newest first.
    by_author: HashMap<String, Vec<usize>>,
    /// (item, buyer) → that buyer's unrefunded purchases of the item.
    purchases: HashMap<(i64, String), u32>,
}

impl Inner {
    fn reindex(&mut self) {
        self.data.sales.sort_by_key(|s| std::cmp::Reverse(s.sold_at));
        let author_of: HashMap<i64, &str> =
            self.data.items.iter().map(|i| (i.id, i.author_username.as_str())).collect();
        let mut by_author: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, s) in self.data.sales.iter().enumerate() {
            if s.refunded {
                continue;
            }
            if let Some(author) = author_of.get(&s.item_id) {
                by_author.entry(author.to_string()).or_default().push(i);
            }
        }
        self.by_author = by_author;
        let mut purchases: HashMap<(i64, String), u32> = HashMap::new();
        for sale in self.data.sales.iter().filter(|s| !s.refunded) {
            if let Some(b) = &sale.buyer {
                *purchases.entry((sale.item_id, b.clone())).or_default() += 1;
            }
        }
        self.purchases = purchases;
    }

    /// This buyer's purchases of this item over all their codes (1 for a guest).
    fn purchase_count(&self, s: &SaleRec) -> u32 {
        s.buyer.as_ref().and_then(|b| self.purchases.get(&(s.item_id, b.clone()))).copied().unwrap_or(1).max(1)
    }
}

#[derive(Clone)]
pub struct Sandbox(Arc<Mutex<Inner>>);

/// A sale to add while the sandbox runs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NewSale {
    pub item_id: i64,
    pub buyer: Option<String>,
    pub license: Option<String>,
    pub amount_cents: Option<i64>,
    pub sold_at: Option<DateTime<Utc>>,
    pub code: Option<String>,
}

impl Sandbox {
    pub fn new(data: Dataset, switches: Switches, seed: u64) -> Sandbox {
        let mut inner = Inner {
            data,
            switches,
            stats: Stats::default(),
            rng: Rng::new(seed ^ 0x5EED),
            by_author: HashMap::new(),
            purchases: HashMap::new(),
        };
        inner.reindex();
        Sandbox(Arc::new(Mutex::new(inner)))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn switches(&self) -> Switches {
        self.lock().switches.clone()
    }

    pub fn set_switches(&self, switches: Switches) {
        self.lock().switches = switches;
    }

    pub fn update_switches(&self, f: impl FnOnce(&mut Switches)) {
        f(&mut self.lock().switches);
    }

    pub fn stats(&self) -> Stats {
        self.lock().stats.clone()
    }

    pub fn reset_stats(&self) {
        let mut inner = self.lock();
        let in_flight = inner.stats.in_flight;
        inner.stats = Stats { in_flight, ..Stats::default() };
    }

    pub fn dataset(&self) -> Dataset {
        self.lock().data.clone()
    }

    /// Adds a sale (now, unless `sold_at` is given) and returns it with its purchase code.
    pub fn add_sale(&self, new: NewSale) -> Result<SaleRec, String> {
        let mut inner = self.lock();
        let item = inner
            .data
            .items
            .iter()
            .find(|i| i.id == new.item_id)
            .cloned()
            .ok_or_else(|| format!("no item {}", new.item_id))?;
        let sold = new.sold_at.unwrap_or_else(Utc::now);
        let code = match new.code {
            Some(c) => c,
            None => inner.rng.purchase_code(),
        };
        let sale = SaleRec {
            code,
            item_id: item.id,
            buyer: new.buyer,
            amount_cents: new.amount_cents.unwrap_or(item.price_cents * 70 / 100),
            sold_at: data::australian(sold),
            license: new.license.unwrap_or_else(|| "Regular License".into()),
            support_amount_cents: item.supported.then_some(0),
            supported_until: item.supported.then(|| data::australian(sold + ChronoDuration::days(182))),
            refunded: false,
        };
        inner.data.sales.push(sale.clone());
        inner.reindex();
        Ok(sale)
    }

    /// Refunds a sale: it leaves the sales list and its code answers 404.
    pub fn refund(&self, code: &str) -> Result<(), String> {
        let mut inner = self.lock();
        let sale = inner.data.sales.iter_mut().find(|s| s.code == code).ok_or_else(|| format!("no sale {code}"))?;
        sale.refunded = true;
        inner.reindex();
        Ok(())
    }

    pub fn add_token(&self, spec: TokenSpec) {
        let mut inner = self.lock();
        inner.data.tokens.retain(|t| t.token != spec.token);
        inner.data.tokens.push(spec);
    }

    pub fn revoke_token(&self, token: &str) {
        for t in self.lock().data.tokens.iter_mut().filter(|t| t.token == token) {
            t.revoked = true;
        }
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/__sandbox/health", get(|| async { "ok" }))
            .route("/__sandbox/config", get(get_config).post(post_config))
            .route("/__sandbox/stats", get(get_stats))
            .route("/__sandbox/stats/reset", post(reset_stats))
            .route("/__sandbox/sales", get(list_sales).post(post_sale))
            .route("/__sandbox/refund", post(post_refund))
            .route("/__sandbox/tokens", post(post_token))
            .route("/__sandbox/tokens/revoke", post(post_revoke))
            .fallback(api)
            .with_state(self.clone())
    }

    /// Serves on `addr` (port 0 picks a free one) until the handle is shut down or dropped.
    pub async fn serve(self, addr: SocketAddr) -> std::io::Result<RunningSandbox> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let router = self.router();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(RunningSandbox { sandbox: self, addr, shutdown: Some(tx), task: Some(task) })
    }
}

pub struct RunningSandbox {
    pub sandbox: Sandbox,
    pub addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl RunningSandbox {
    /// Generated data on a free loopback port: the usual start for a test.
    pub async fn start(spec: data::GenSpec, switches: Switches) -> std::io::Result<RunningSandbox> {
        let seed = spec.seed;
        Sandbox::new(data::generate(&spec), switches, seed).serve(([127, 0, 0, 1], 0).into()).await
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets in-flight requests finish (hung ones are cut), and waits.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(2), task).await;
        }
    }
}

impl std::ops::Deref for RunningSandbox {
    type Target = Sandbox;
    fn deref(&self) -> &Sandbox {
        &self.sandbox
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

// ---------------- control API ----------------

async fn get_config(State(sb): State<Sandbox>) -> Json<Switches> {
    Json(sb.switches())
}

/// Merges the posted JSON over the current switches (send only what changes).
async fn post_config(State(sb): State<Sandbox>, Json(patch): Json<Value>) -> Response {
    let mut current = serde_json::to_value(sb.switches()).unwrap_or_default();
    merge(&mut current, patch);
    match serde_json::from_value::<Switches>(current) {
        Ok(s) => {
            sb.set_switches(s.clone());
            Json(s).into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, format!("bad config: {e}")).into_response(),
    }
}

fn merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                merge(t.entry(k).or_insert(Value::Null), v);
            }
        }
        (t, p) => *t = p,
    }
}

async fn get_stats(State(sb): State<Sandbox>) -> Json<Stats> {
    Json(sb.stats())
}

async fn reset_stats(State(sb): State<Sandbox>) -> StatusCode {
    sb.reset_stats();
    StatusCode::NO_CONTENT
}

async fn list_sales(State(sb): State<Sandbox>) -> Json<Vec<SaleRec>> {
    Json(sb.dataset().sales)
}

async fn post_sale(State(sb): State<Sandbox>, Json(new): Json<NewSale>) -> Response {
    match sb.add_sale(new) {
        Ok(s) => (StatusCode::CREATED, Json(s)).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, e).into_response(),
    }
}

#[derive(Deserialize)]
struct CodeBody {
    code: String,
}

async fn post_refund(State(sb): State<Sandbox>, Json(b): Json<CodeBody>) -> Response {
    match sb.refund(&b.code) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => (StatusCode::NOT_FOUND, e).into_response(),
    }
}

async fn post_token(State(sb): State<Sandbox>, Json(spec): Json<TokenSpec>) -> StatusCode {
    sb.add_token(spec);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct TokenBody {
    token: String,
}

async fn post_revoke(State(sb): State<Sandbox>, Json(b): Json<TokenBody>) -> StatusCode {
    sb.revoke_token(&b.token);
    StatusCode::NO_CONTENT
}

// ---------------- the API ----------------

fn endpoint_name(path: &str) -> Option<&'static str> {
    Some(match path {
        "/whoami" => "whoami",
        "/v1/market/private/user/username.json" => "username",
        "/v3/market/author/sale" => "sale",
        "/v3/market/author/sales" => "sales",
        "/v1/discovery/search/search/item" => "search",
        "/v3/market/catalog/item" => "catalog_item",
        "/v3/market/user/statement" => "statement",
        _ => return None,
    })
}

fn json_response(status: StatusCode, v: &Value) -> Response {
    let mut r = (status, v.to_string()).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    r
}

async fn api(
    State(sb): State<Sandbox>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let path = uri.path().to_string();
    let name = endpoint_name(&path).unwrap_or("unknown");
    // Decide everything under the lock, then sleep and stream outside it.
    let (fault, switches) = {
        let mut inner = sb.lock();
        inner.stats.total += 1;
        *inner.stats.by_endpoint.entry(name.to_string()).or_default() += 1;
        inner.stats.in_flight += 1;
        inner.stats.max_in_flight = inner.stats.max_in_flight.max(inner.stats.in_flight);
        let n = inner.stats.total;
        let f = &inner.switches.faults;
        let (err, drop, trunc, every) = (f.error_rate, f.drop_rate, f.truncate_rate, f.rate_limit_every);
        let fault = if let Some(f) = inner.switches.faults.fail_next.pop_front() {
            Some(f)
        } else if every > 0 && n % every == 0 {
            Some(Fault::RateLimit)
        } else if inner.rng.chance(err) {
            Some(if inner.rng.chance(0.5) { Fault::ServerError } else { Fault::Unavailable })
        } else if inner.rng.chance(drop) {
            Some(Fault::Drop)
        } else if inner.rng.chance(trunc) {
            Some(Fault::Truncate)
        } else {
            None
        };
        (fault, inner.switches.clone())
    };
    let _in_flight = InFlight(sb.clone());
    if switches.faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(switches.faults.latency_ms)).await;
    }
    match fault {
        Some(Fault::RateLimit) => {
            let mut r =
                json_response(StatusCode::TOO_MANY_REQUESTS, &json!({"error": 429, "message": "Too many requests"}));
            if let Some(secs) = switches.variants.retry_after_secs {
                r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            return r;
        }
        Some(Fault::ServerError) => {
            return json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                &json!({"error": 500, "message": "Invalid response from backend"}),
            )
        }
        Some(Fault::Unavailable) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "text/html")],
                "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>",
            )
                .into_response()
        }
        Some(Fault::Unprocessable) => {
            return json_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                &json!({"error": 422, "description": "Unprocessable"}),
            )
        }
        Some(Fault::Firewall) => {
            return (StatusCode::FORBIDDEN, [(header::CONTENT_TYPE, "text/plain")], "error code: 1020").into_response()
        }
        Some(Fault::Hang) => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return StatusCode::GATEWAY_TIMEOUT.into_response();
        }
        _ => {}
    }

    let (status, body) = answer(&sb, &method, &path, &headers, &q, &switches.variants);
    let text = body.to_string();
    match fault {
        Some(Fault::Truncate) => {
            let cut = &text.as_bytes()[..text.len() / 2];
            let mut r = (StatusCode::OK, cut.to_vec()).into_response();
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            r
        }
        Some(Fault::NotJson) => {
            (StatusCode::OK, [(header::CONTENT_TYPE, "text/html")], "<html>Envato is down for maintenance</html>")
                .into_response()
        }
        Some(Fault::Drop) => {
            let first = text.as_bytes()[..text.len().min(64)].to_vec();
            let stream = futures_util::stream::iter(vec![
                Ok::<_, std::io::Error>(first),
                Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "sandbox dropped the connection")),
            ]);
            let mut r = Response::new(Body::from_stream(stream));
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            r
        }
        _ if status == StatusCode::UNAUTHORIZED && switches.variants.unauthorized_plain_text => {
            (status, [(header::CONTENT_TYPE, "text/plain")], "Unauthorized").into_response()
        }
        _ if switches.faults.oversize_body_bytes > 0 => {
            // Leading white space keeps the JSON valid, so only its size is at fault.
            let pad = switches.faults.oversize_body_bytes as usize;
            let chunk = vec![b' '; 64 * 1024];
            let mut parts: Vec<Vec<u8>> = std::iter::repeat_n(chunk, pad.div_ceil(64 * 1024)).collect();
            parts.push(text.into_bytes());
            let stream = futures_util::stream::iter(parts.into_iter().map(Ok::<_, std::io::Error>));
            let mut r = Response::new(Body::from_stream(stream));
            *r.status_mut() = status;
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            r
        }
        _ if switches.faults.slow_body_ms > 0 => {
            let delay = Duration::from_millis(switches.faults.slow_body_ms);
            let chunks: Vec<Vec<u8>> = text.as_bytes().chunks(1024).map(<[u8]>::to_vec).collect();
            let stream = futures_util::stream::unfold(chunks.into_iter(), move |mut it| async move {
                let next = it.next()?;
                tokio::time::sleep(delay).await;
                Some((Ok::<_, std::io::Error>(next), it))
            });
            let mut r = Response::new(Body::from_stream(stream));
            *r.status_mut() = status;
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            r
        }
        _ => json_response(status, &body),
    }
}

fn err(status: StatusCode, body: Value) -> (StatusCode, Value) {
    (status, body)
}

fn is_purchase_code(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The normal reply: auth, scopes, then the endpoint.
fn answer(
    sb: &Sandbox,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
    v: &Variants,
) -> (StatusCode, Value) {
    if method != Method::GET {
        return err(StatusCode::METHOD_NOT_ALLOWED, json!({"error": 405}));
    }
    let Some(name) = endpoint_name(path) else {
        return err(StatusCode::NOT_FOUND, json!({"error": 404}));
    };
    let inner = sb.lock();
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or("");
    if bearer.is_empty() {
        return err(
            StatusCode::FORBIDDEN,
            json!({"error": "access_denied", "error_description": "Wrong authorization header"}),
        );
    }
    let Some(token) = inner.data.tokens.iter().find(|t| t.token == bearer && !t.revoked) else {
        return err(StatusCode::UNAUTHORIZED, json!({"message": "Unauthorized"}));
    };
    let has = |s: &str| token.scopes.iter().any(|g| g == s);
    let need = |scopes: &[&str]| -> Option<(StatusCode, Value)> {
        (!scopes.iter().any(|s| has(s))).then(|| {
            err(
                StatusCode::FORBIDDEN,
                json!({"error": "forbidden", "description": format!("Missing scope: {}", scopes.join(" or "))}),
            )
        })
    };
    let account = inner.data.accounts.iter().find(|a| a.username == token.username);
    let username = token.username.clone();
    let items_by_id: HashMap<i64, &ItemRec> = inner.data.items.iter().map(|i| (i.id, i)).collect();

    match name {
        "whoami" => (
            StatusCode::OK,
            json!({"clientId": null, "userId": account.map(|a| a.user_id), "scopes": token.scopes, "ttl": 315360000}),
        ),
        "username" => need(&["user:username"]).unwrap_or_else(|| (StatusCode::OK, json!({"username": username}))),
        "sale" => {
            if let Some(denied) = need(&["sale:history", "sale:verify"]) {
                return denied;
            }
            let code = q.get("code").map(String::as_str).unwrap_or("");
            if !is_purchase_code(code) {
                // What Envato's CDN answers for a malformed code: not JSON at all.
                return err(StatusCode::FORBIDDEN, Value::String("error code: 1020".into()));
            }
            let not_found =
                json!({"error": 404, "description": "No sale belonging to the current user found with that code"});
            let found = inner.data.sales.iter().find(|s| s.code.eq_ignore_ascii_case(code) && !s.refunded);
            match found
                .and_then(|s| items_by_id.get(&s.item_id).filter(|i| i.author_username == username).map(|i| (s, *i)))
            {
                Some((s, item)) => {
                    // As recorded: buyer and purchase_count, but the code is not repeated.
                    let mut v = sale_json(s, item, true, inner.purchase_count(s), false);
                    if let Some(o) = v.as_object_mut() {
                        o.remove("code");
                    }
                    (StatusCode::OK, v)
                }
                None => (StatusCode::from_u16(v.unknown_code_status).unwrap_or(StatusCode::NOT_FOUND), not_found),
            }
        }
        "sales" => {
            if let Some(denied) = need(&["sale:history"]) {
                return denied;
            }
            let page: usize = q.get("page").and_then(|p| p.parse().ok()).filter(|&p| p >= 1).unwrap_or(1);
            let size = v.page_size.max(1);
            let empty = Vec::new();
            let idx = inner.by_author.get(&username).unwrap_or(&empty);
            let list: Vec<Value> = idx
                .iter()
                .skip((page - 1) * size)
                .take(size)
                .filter_map(|&i| {
                    let s = &inner.data.sales[i];
                    let item = items_by_id.get(&s.item_id)?;
                    Some(sale_json(s, item, v.sales_include_code, inner.purchase_count(s), true))
                })
                .collect();
            (StatusCode::OK, Value::Array(list))
        }
        "search" => {
            let user = q.get("username").cloned().unwrap_or_default();
            let site = q.get("site").cloned();
            let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
            let size: usize = q.get("page_size").and_then(|p| p.parse().ok()).unwrap_or(30);
            if page == 0 || page > 60 || size == 0 || size > 100 {
                return err(
                    StatusCode::BAD_REQUEST,
                    json!({"error": 400, "description": "page must be 1 to 60 and page_size 1 to 100"}),
                );
            }
            let hits: Vec<&ItemRec> = inner
                .data
                .items
                .iter()
                .filter(|i| i.author_username == user && site.as_deref().is_none_or(|s| s == i.site))
                .collect();
            let matches: Vec<Value> =
                hits.iter().skip((page - 1) * size).take(size).map(|i| search_item_json(i)).collect();
            (
                StatusCode::OK,
                json!({
                    "took": 3, "matches": matches, "total_hits": hits.len(), "timed_out": false,
                    // Envato's real links name an internal host; clients must never follow them.
                    "links": {"next_page_url": format!("http://search.internal.envato.example/item?page={}", page + 1)},
                }),
            )
        }
        "catalog_item" => {
            let id: i64 = q.get("id").and_then(|i| i.parse().ok()).unwrap_or(-1);
            match items_by_id.get(&id) {
                Some(item) => (StatusCode::OK, item_json(item, false)),
                None => err(StatusCode::NOT_FOUND, json!({"error": 404, "description": "No item found"})),
            }
        }
        "statement" => {
            if let Some(denied) = need(&["user:financial"]) {
                return denied;
            }
            let from = q.get("from_date").and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
            let to = q.get("to_date").and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
            let page: usize = q.get("page").and_then(|p| p.parse().ok()).filter(|&p| p >= 1).unwrap_or(1);
            let mut rows = Vec::new();
            for s in inner.data.sales.iter() {
                let Some(item) = items_by_id.get(&s.item_id).filter(|i| i.author_username == username) else {
                    continue;
                };
                let day = s.sold_at.date_naive();
                if from.is_some_and(|f| day < f) || to.is_some_and(|t| day > t) {
                    continue;
                }
                let order = format!("{}", 100_000_000 + (s.sold_at.timestamp() % 90_000_000));
                rows.push(json!({"unique_id": format!("S-{}", s.code), "date": s.sold_at.to_rfc3339(), "order_id": order, "type": "Sale",
                    "detail": item.name, "item_id": item.id.to_string(), "amount": cents(s.amount_cents), "document": null, "other_party_country": "AU"}));
                if s.refunded {
                    rows.push(json!({"unique_id": format!("R-{}", s.code), "date": s.sold_at.to_rfc3339(), "order_id": order, "type": "Refund",
                        "detail": item.name, "item_id": item.id.to_string(), "amount": cents(-s.amount_cents)}));
                }
            }
            let count = rows.len();
            let results: Vec<Value> = rows.into_iter().skip((page - 1) * 100).take(100).collect();
            (StatusCode::OK, json!({"count": count, "results": results}))
        }
        _ => err(StatusCode::NOT_FOUND, json!({"error": 404})),
    }
}

fn cents(c: i64) -> String {
    let sign = if c < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", c.unsigned_abs() / 100, c.unsigned_abs() % 100)
}

fn item_json(i: &ItemRec, _in_list: bool) -> Value {
    json!({
        "id": i.id, "name": i.name, "description": i.description, "site": i.site,
        "classification": i.classification, "classification_url": format!("https://{}/category/{}", i.site, i.classification),
        "price_cents": i.price_cents, "number_of_sales": 100 + i.id % 900, "author_username": i.author_username,
        "author_url": format!("https://{}/user/{}", i.site, i.author_username),
        "author_image": "https://0.s3.envato.com/files/1/avatar.png",
        "url": format!("https://{}/item/{}/{}", i.site, slug(&i.name), i.id),
        "summary": "Compatible Browsers: Firefox, Safari, Chrome, Edge", "rating": i.rating, "rating_count": i.rating_count,
        "updated_at": i.updated_at.to_rfc3339(), "published_at": i.published_at.to_rfc3339(), "trending": false,
        "attributes": [{"name": "compatible-browsers", "value": ["Firefox", "Safari", "Chrome", "Edge"]}, {"name": "columns", "value": null}],
        "tags": ["responsive", "clean"],
        "previews": {"landscape_preview": {"landscape_url": "https://0.s3.envato.com/files/1/preview.jpg"}},
    })
}

/// The discovery search's item shape: a v1 endpoint, so the ID is a string, and `rating` is an object.
fn search_item_json(i: &ItemRec) -> Value {
    let mut v = item_json(i, false);
    v["id"] = Value::String(i.id.to_string());
    v["rating"] = json!({"rating": i.rating, "count": i.rating_count});
    if let Some(o) = v.as_object_mut() {
        o.remove("rating_count");
    }
    v
}

fn sale_json(s: &SaleRec, item: &ItemRec, with_code: bool, purchase_count: u32, in_list: bool) -> Value {
    let mut v = json!({
        "amount": cents(s.amount_cents),
        "sold_at": s.sold_at.to_rfc3339(),
        "item": item_json(item, in_list),
        "license": s.license,
        "support_amount": s.support_amount_cents.map(cents).unwrap_or_default(),
        "supported_until": s.supported_until.map(|t| t.to_rfc3339()),
    });
    if with_code {
        v["code"] = Value::String(s.code.clone());
        v["buyer"] = s.buyer.clone().map(Value::String).unwrap_or(Value::Null);
        v["purchase_count"] = json!(purchase_count);
    }
    v
}

fn slug(name: &str) -> String {
    name.to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}
