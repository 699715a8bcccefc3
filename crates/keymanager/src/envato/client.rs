//! The Envato Market API client: async, polite, and strict about what it retries.
//!
//! Politeness (shared/docs/envato-api.md): at most `max_in_flight` requests at once, request
//! starts spaced to `requests_per_second`, `Retry-After` honoured on 429 (about 60 s when
//! absent), exponential backoff with jitter on 5xx, network errors and garbled bodies, and never
//! an automatic retry of 401, 403 or 404. Every response is judged by `classify`, a pure
//! function of status, headers and body, before anything else reads it.

use super::decode::{self, DecodeError, Item, Sale, SearchPage, StatementPage, WhoAmI};
use super::purchase_code::PurchaseCode;
use super::scopes;
use crate::error::{Error, ErrorCode, Result};
use crate::token::Token;
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, Semaphore};
use tokio::time::Instant;

/// The marketplaces searched for a seller's items.
pub const SITES: &[&str] = &[
    "themeforest.net",
    "codecanyon.net",
    "videohive.net",
    "audiojungle.net",
    "graphicriver.net",
    "photodune.net",
    "3docean.net",
];

#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub base_url: String,
    pub user_agent: String,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub max_in_flight: usize,
    /// Request starts per second; 0 means no pacing (the sandbox in benchmarks).
    pub requests_per_second: f64,
    /// Tries per request, the first included.
    pub max_attempts: u32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// How long to wait on a 429 without `Retry-After`.
    pub retry_after_default: Duration,
    /// A longer `Retry-After` than this is not waited out: the call fails with `envato.rate_limited`.
    pub retry_after_max: Duration,
}

/// Whether the API address is this machine (the sandbox), by the URL parser's reading of it.
fn is_loopback(base_url: &str) -> bool {
    match url::Url::parse(base_url).ok().as_ref().and_then(url::Url::host) {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

impl ClientConfig {
    /// Envato's politeness defaults. Pacing protects Envato's servers, so it is off for an
    /// address on this machine (the sandbox); the other limits stay.
    pub fn new(base_url: &str) -> ClientConfig {
        ClientConfig {
            base_url: base_url.trim_end_matches('/').to_string(),
            user_agent: format!("KeyManager/{} (license manager)", crate::VERSION),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_in_flight: 3,
            requests_per_second: if is_loopback(base_url) { 0.0 } else { 3.0 },
            max_attempts: 5,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            retry_after_default: Duration::from_secs(60),
            retry_after_max: Duration::from_secs(300),
        }
    }
}

/// Which API call a response belongs to: decides which scope a 403 names and whether a 404
/// means "no such sale/item" or "wrong address".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    WhoAmI,
    Username,
    SaleByCode,
    Sales,
    Search,
    CatalogItem,
    Statement,
}

impl Endpoint {
    fn scope(self) -> Option<&'static str> {
        match self {
            Endpoint::Username => Some("user:username"),
            Endpoint::SaleByCode | Endpoint::Sales => Some("sale:history"),
            Endpoint::Statement => Some("user:financial"),
            Endpoint::WhoAmI | Endpoint::Search | Endpoint::CatalogItem => None,
        }
    }

    fn not_found_is_an_answer(self) -> bool {
        matches!(self, Endpoint::SaleByCode | Endpoint::CatalogItem)
    }
}

/// What to do with one response.
#[derive(Debug)]
pub enum Verdict {
    Success(Value),
    /// The sale or item does not exist (404, 422, or an `"error": 404` body on any status).
    NotFound,
    /// Worth another try after `wait` (or the backoff when None).
    Retry {
        error: Error,
        wait: Option<Duration>,
    },
    Fail(Error),
}

fn unauthorized() -> Error {
    Error::new(
        ErrorCode::EnvatoUnauthorized,
        "Unauthorized: Envato rejected the token; it was deleted, revoked or mistyped. Generate a new token \
         at build.envato.com with the needed permissions and paste it again.",
    )
}

fn missing_permission(scope: Option<&str>) -> Error {
    let what = match scope {
        Some(s) => format!("the “{}” permission ({s})", scopes::label(s)),
        None => "a permission this request needs".to_string(),
    };
    Error::new(
        ErrorCode::EnvatoMissingPermission,
        format!(
            "The token lacks {what}. Regenerate the token with the correct permissions: {}",
            scopes::CREATE_TOKEN_URL
        ),
    )
    .with_field(scope.unwrap_or("token"))
}

fn firewall() -> Error {
    Error::new(
        ErrorCode::EnvatoFirewallBlocked,
        "Envato's firewall blocked the request (HTTP 403, “error code: 1020”). This happens when a request looks \
         malformed; wait a few minutes and try again.",
    )
}

pub fn connection_failed(detail: &str) -> Error {
    Error::new(
        ErrorCode::EnvatoConnectionFailed,
        format!("API connection failed: {detail}. This is a network problem or an Envato outage; wait and retry, and check Envato's status page."),
    )
}

fn bad_response(detail: &str) -> Error {
    Error::new(
        ErrorCode::EnvatoBadResponse,
        format!("Envato sent a reply KeyManager cannot read ({detail}). Try again later."),
    )
}

fn rate_limited(wait: Duration) -> Error {
    Error::new(
        ErrorCode::EnvatoRateLimited,
        format!(
            "Envato is rate-limiting requests and asked to wait {} s. KeyManager will try again later.",
            wait.as_secs()
        ),
    )
}

/// Judges one response. Pure: a table of statuses and bodies pins it down in tests.
pub fn classify(
    endpoint: Endpoint,
    status: u16,
    retry_after: Option<&str>,
    body: &[u8],
    cfg: &ClientConfig,
) -> Verdict {
    let json = serde_json::from_slice::<Value>(body).ok();
    // Seen in a recording: status 200 carrying the 404 body. Trust the body.
    if json.as_ref().is_some_and(decode::is_not_found_body) {
        return if endpoint.not_found_is_an_answer() {
            Verdict::NotFound
        } else {
            Verdict::Fail(connection_failed(&format!(
                "Envato answered “not found” for {endpoint:?}; check the Envato API address in Settings"
            )))
        };
    }
    match status {
        200..=299 => match json {
            Some(v) => Verdict::Success(v),
            // Usually a body cut short on the way: worth another try.
            None => Verdict::Retry {
                error: bad_response(&format!("HTTP {status} with a body that is not complete JSON")),
                wait: None,
            },
        },
        401 => Verdict::Fail(unauthorized()),
        403 => {
            let text = String::from_utf8_lossy(body);
            if json.is_some() && !text.contains("1020") {
                Verdict::Fail(missing_permission(endpoint.scope()))
            } else {
                Verdict::Fail(firewall())
            }
        }
        404 | 422 if endpoint.not_found_is_an_answer() => Verdict::NotFound,
        404 => Verdict::Fail(connection_failed(&format!(
            "the Envato API address does not serve {endpoint:?} (HTTP 404); check the Envato API address in Settings"
        ))),
        429 => {
            let wait = retry_after
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs)
                .unwrap_or(cfg.retry_after_default);
            if wait > cfg.retry_after_max {
                Verdict::Fail(rate_limited(wait))
            } else {
                Verdict::Retry { error: rate_limited(wait), wait: Some(wait) }
            }
        }
        500..=599 => {
            let detail = decode::error_text(body).map(|t| format!(": {t}")).unwrap_or_default();
            Verdict::Retry {
                error: connection_failed(&format!("Envato's servers answered HTTP {status}{detail}")),
                wait: None,
            }
        }
        _ => {
            let detail = decode::error_text(body).map(|t| format!(": {t}")).unwrap_or_default();
            Verdict::Fail(bad_response(&format!("HTTP {status}{detail}")))
        }
    }
}

struct Inner {
    http: reqwest::Client,
    cfg: ClientConfig,
    token: Token,
    in_flight: Semaphore,
    next_start: Mutex<Instant>,
    jitter: AtomicU64,
    /// While Envato rate-limits (its `Retry-After`) or fails (a short pause), callers that must
    /// not wait (the licensing server) are told at once instead of asking: a circuit, shared by
    /// every handle of this client.
    blocked_until: std::sync::Mutex<Option<Instant>>,
    /// Requests sent to Envato by this client (every attempt), for tests and the server's status.
    sent: AtomicU64,
}

/// How long the circuit stays open after a 5xx or a network failure.
pub const FAILURE_PAUSE: Duration = Duration::from_secs(30);

/// The largest reply body read: a page of 100 sales is about 100 KB, so this is generous, and a
/// runaway or hostile server cannot fill the memory.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Reads the body chunk by chunk; `Ok(None)` once it grows past `cap` (the rest is not read).
async fn read_capped(mut response: reqwest::Response, cap: usize) -> reqwest::Result<Option<Vec<u8>>> {
    if response.content_length().is_some_and(|n| n > cap as u64) {
        return Ok(None);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > cap {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// Cheap to clone; clones share the in-flight limit, the pacing and the circuit. A process
/// keeps one client per credential (`ClientSource` caches it); `interactive` and
/// `single_attempt` are handles on the same client that give up sooner.
#[derive(Clone)]
pub struct EnvatoClient {
    inner: Arc<Inner>,
    max_attempts: u32,
    retry_after_max: Duration,
}

impl EnvatoClient {
    pub fn new(cfg: ClientConfig, token: Token) -> Result<EnvatoClient> {
        // A stored token goes only to the origin it was validated against.
        if let Some(bound) = token.bound_to() {
            if super::api_base::origin_of(&cfg.base_url).as_deref() != Some(bound) {
                return Err(Error::new(
                    ErrorCode::EnvatoTokenHostMismatch,
                    format!(
                        "The stored Envato token was validated against {bound}; KeyManager will not send it to another \
                         address. Save a token again while this address is in force."
                    ),
                ));
            }
        }
        let http = reqwest::Client::builder()
            .user_agent(cfg.user_agent.clone())
            .connect_timeout(cfg.connect_timeout)
            .timeout(cfg.request_timeout)
            // Never follow a redirect with the token to somewhere else.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::internal(format!("Cannot set up the HTTP client: {e}.")))?;
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        let (max_attempts, retry_after_max) = (cfg.max_attempts, cfg.retry_after_max);
        Ok(EnvatoClient {
            inner: Arc::new(Inner {
                http,
                in_flight: Semaphore::new(cfg.max_in_flight.max(1)),
                next_start: Mutex::new(Instant::now()),
                jitter: AtomicU64::new(seed | 1),
                blocked_until: std::sync::Mutex::new(None),
                sent: AtomicU64::new(0),
                cfg,
                token,
            }),
            max_attempts,
            retry_after_max,
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.inner.cfg
    }

    /// The same client for a person waiting at a screen: two tries, and a `Retry-After` over
    /// 5 s is not waited out.
    pub fn interactive(&self) -> EnvatoClient {
        EnvatoClient {
            inner: self.inner.clone(),
            max_attempts: self.max_attempts.min(2),
            retry_after_max: self.retry_after_max.min(Duration::from_secs(5)),
        }
    }

    /// The same client asking once, never waiting: what the licensing server uses, so a request
    /// never waits for Envato to recover.
    pub fn single_attempt(&self) -> EnvatoClient {
        EnvatoClient { inner: self.inner.clone(), max_attempts: 1, retry_after_max: Duration::ZERO }
    }

    /// How long Envato asked to be left alone (a 429's `Retry-After`, or a pause after a
    /// failure); None when it may be asked now.
    pub fn blocked_for(&self) -> Option<Duration> {
        let until = (*self.inner.blocked_until.lock().unwrap_or_else(|p| p.into_inner()))?;
        let now = Instant::now();
        (until > now).then(|| until - now)
    }

    /// Whether this client is for `token` (the same text, bound to the same origin).
    pub fn is_for(&self, token: &Token) -> bool {
        self.inner.token.expose() == token.expose() && self.inner.token.bound_to() == token.bound_to()
    }

    /// Requests sent so far (every attempt).
    pub fn requests_sent(&self) -> u64 {
        self.inner.sent.load(Ordering::Relaxed)
    }

    fn open_circuit(&self, until: Instant) {
        let mut b = self.inner.blocked_until.lock().unwrap_or_else(|p| p.into_inner());
        *b = Some(b.map_or(until, |old| old.max(until)));
    }

    /// Waits for this request's start slot, so starts are spaced by 1/rps.
    async fn pace(&self) {
        let rps = self.inner.cfg.requests_per_second;
        if rps <= 0.0 {
            return;
        }
        let interval = Duration::from_secs_f64(1.0 / rps);
        let start = {
            let mut next = self.inner.next_start.lock().await;
            let start = (*next).max(Instant::now());
            *next = start + interval;
            start
        };
        tokio::time::sleep_until(start).await;
    }

    /// Exponential backoff with "equal jitter": between half and all of base * 2^(attempt-1).
    fn backoff(&self, attempt: u32) -> Duration {
        let cfg = &self.inner.cfg;
        let exp = cfg.backoff_base.saturating_mul(1u32 << (attempt - 1).min(16)).min(cfg.backoff_max);
        // xorshift64: jitter only, no need for a CSPRNG.
        let mut x = self.inner.jitter.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.inner.jitter.store(x, Ordering::Relaxed);
        let frac = (x % 1000) as f64 / 1000.0;
        exp.mul_f64(0.5 + frac / 2.0)
    }

    /// One GET with retries. `Ok(None)` is "not found" for endpoints where that is an answer.
    async fn get(&self, endpoint: Endpoint, path_and_query: &str) -> Result<Option<Value>> {
        let url = format!("{}{}", self.inner.cfg.base_url, path_and_query);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let verdict = {
                let _permit = self
                    .inner
                    .in_flight
                    .acquire()
                    .await
                    .map_err(|_| Error::internal("The HTTP client was shut down."))?;
                self.pace().await;
                self.send_once(endpoint, &url).await
            };
            let (error, wait) = match verdict {
                Verdict::Success(v) => return Ok(Some(v)),
                Verdict::NotFound => return Ok(None),
                Verdict::Fail(e) => return Err(e),
                Verdict::Retry { error, wait } => (error, wait),
            };
            if attempt >= self.max_attempts || wait.is_some_and(|w| w > self.retry_after_max) {
                return Err(error);
            }
            let wait = wait.unwrap_or_else(|| self.backoff(attempt));
            tracing::debug!(?endpoint, attempt, wait_ms = wait.as_millis() as u64, code = %error.code, "retrying Envato request");
            tokio::time::sleep(wait).await;
        }
    }

    async fn send_once(&self, endpoint: Endpoint, url: &str) -> Verdict {
        // The formatted header text is wiped after use; the header value itself is marked
        // sensitive, so reqwest and hyper never print it.
        let bearer = zeroize::Zeroizing::new(format!("Bearer {}", self.inner.token.expose()));
        let mut auth = match reqwest::header::HeaderValue::from_str(&bearer) {
            Ok(v) => v,
            Err(_) => return Verdict::Fail(Error::new(ErrorCode::EnvatoTokenFormat, "Invalid token format.")),
        };
        auth.set_sensitive(true);
        let response = self
            .inner
            .http
            .get(url)
            .header(reqwest::header::AUTHORIZATION, auth)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await;
        self.inner.sent.fetch_add(1, Ordering::Relaxed);
        let response = match response {
            Ok(r) => r,
            Err(e) => {
                self.open_circuit(Instant::now() + FAILURE_PAUSE);
                return Verdict::Retry { error: connection_failed(&describe(&e)), wait: None };
            }
        };
        let status = response.status().as_u16();
        let retry_after =
            response.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_string);
        match status {
            429 => {
                let wait = retry_after
                    .as_deref()
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs)
                    .unwrap_or(self.inner.cfg.retry_after_default);
                self.open_circuit(Instant::now() + wait);
            }
            500..=599 => self.open_circuit(Instant::now() + FAILURE_PAUSE),
            // Any other answer means Envato is answering: the circuit closes.
            _ => *self.inner.blocked_until.lock().unwrap_or_else(|p| p.into_inner()) = None,
        }
        match read_capped(response, MAX_BODY_BYTES).await {
            Ok(Some(body)) => classify(endpoint, status, retry_after.as_deref(), &body, &self.inner.cfg),
            Ok(None) => Verdict::Fail(bad_response(&format!(
                "the reply is larger than {} MB, far more than any Envato answer",
                MAX_BODY_BYTES / (1024 * 1024)
            ))),
            Err(e) => Verdict::Retry {
                error: connection_failed(&format!("the reply was cut off ({})", describe(&e))),
                wait: None,
            },
        }
    }

    fn decode<T>(v: Value, f: impl FnOnce(&Value) -> Result<T, DecodeError>) -> Result<T> {
        f(&v).map_err(|e| bad_response(&e.0))
    }

    /// The token's scopes: `GET /whoami`.
    pub async fn whoami(&self) -> Result<WhoAmI> {
        let v = self.get(Endpoint::WhoAmI, "/whoami").await?.ok_or_else(|| bad_response("no whoami"))?;
        Self::decode(v, decode::whoami)
    }

    pub async fn username(&self) -> Result<String> {
        let v = self
            .get(Endpoint::Username, "/v1/market/private/user/username.json")
            .await?
            .ok_or_else(|| bad_response("no username"))?;
        Self::decode(v, decode::username)
    }

    /// Verifies one purchase code. `Ok(None)`: not a sale of this seller's (unknown, another
    /// author's, refunded or reversed).
    pub async fn sale_by_code(&self, code: &PurchaseCode) -> Result<Option<Sale>> {
        let Some(v) = self.get(Endpoint::SaleByCode, &format!("/v3/market/author/sale?code={}", code.as_str())).await?
        else {
            return Ok(None);
        };
        let mut sale = Self::decode(v, decode::sale)?;
        // The code is the one we asked about, whether or not the reply repeats it.
        sale.code = Some(code.as_str().to_string());
        Ok(Some(sale))
    }

    /// One page of the seller's sales, newest first; empty past the end.
    pub async fn sales_page(&self, page: u32) -> Result<Vec<Sale>> {
        let v = self
            .get(Endpoint::Sales, &format!("/v3/market/author/sales?page={}", page.max(1)))
            .await?
            .ok_or_else(|| bad_response("no sales list"))?;
        Self::decode(v, decode::sales_page)
    }

    /// One page (1..=60) of a user's items on one marketplace.
    pub async fn search_items(&self, username: &str, site: &str, page: u32) -> Result<SearchPage> {
        let q = format!(
            "/v1/discovery/search/search/item?username={}&site={}&page={}&page_size=100",
            encode(username),
            encode(site),
            page.clamp(1, 60)
        );
        let v = self.get(Endpoint::Search, &q).await?.ok_or_else(|| bad_response("no search results"))?;
        Self::decode(v, decode::search_page)
    }

    /// Every item `username` sells, over all marketplaces (a search per site; at most 60 pages of
    /// 100 each). `envato.no_items` when there are none.
    pub async fn seller_items(&self, username: &str) -> Result<Vec<Item>> {
        let mut all = Vec::new();
        for site in SITES {
            for page in 1..=60u32 {
                let p = self.search_items(username, site, page).await?;
                let got = p.items.len();
                all.extend(p.items);
                let seen_on_site = all.iter().filter(|i| i.site.as_deref() == Some(*site)).count() as i64;
                if got < 100 || seen_on_site >= p.total_hits {
                    break;
                }
            }
        }
        if all.is_empty() {
            return Err(Error::new(
                ErrorCode::EnvatoNoItems,
                format!(
                    "No items found: the account “{username}” has no items for sale on Envato Market. Verify you are \
                     using your seller account's token, not a buyer account's."
                ),
            ));
        }
        Ok(all)
    }

    /// `Ok(None)` when Envato does not know the item.
    pub async fn catalog_item(&self, id: i64) -> Result<Option<Item>> {
        match self.get(Endpoint::CatalogItem, &format!("/v3/market/catalog/item?id={id}")).await? {
            None => Ok(None),
            Some(v) => Self::decode(v, decode::item).map(Some),
        }
    }

    /// One page of the statement between two dates (`YYYY-MM-DD`), for refunds and reversals.
    pub async fn statement_page(
        &self,
        page: u32,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<StatementPage> {
        let q = format!("/v3/market/user/statement?page={}&from_date={from}&to_date={to}", page.max(1));
        let v = self.get(Endpoint::Statement, &q).await?.ok_or_else(|| bad_response("no statement"))?;
        Self::decode(v, decode::statement_page)
    }
}

/// A reqwest error without its URL (which is harmless) and never with headers.
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "the request timed out".into()
    } else if e.is_connect() {
        "cannot connect to the Envato API".into()
    } else if e.is_body() || e.is_decode() {
        "the connection dropped during the reply".into()
    } else {
        "the connection failed".into()
    }
}

/// Percent-encodes a query value (usernames and site names are plain, but be safe).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> ClientConfig {
        ClientConfig::new("http://127.0.0.1:1")
    }

    enum Want {
        Ok,
        NotFound,
        Retry(ErrorCode, Option<u64>),
        Fail(ErrorCode),
    }

    fn check(ep: Endpoint, status: u16, retry_after: Option<&str>, body: &str, want: Want) {
        let got = classify(ep, status, retry_after, body.as_bytes(), &cfg());
        let ok = match (&got, &want) {
            (Verdict::Success(_), Want::Ok) | (Verdict::NotFound, Want::NotFound) => true,
            (Verdict::Retry { error, wait }, Want::Retry(code, secs)) => {
                error.code == *code && wait.map(|w| w.as_secs()) == *secs
            }
            (Verdict::Fail(e), Want::Fail(code)) => e.code == *code,
            _ => false,
        };
        assert!(ok, "{ep:?} {status} {body:?}: got {got:?}");
    }

    #[test]
    fn classification_table() {
        use Endpoint::*;
        use ErrorCode::*;
        let nf = r#"{"error":404,"description":"No sale belonging to the current user found with that code"}"#;
        check(SaleByCode, 200, None, r#"{"amount":"1.00"}"#, Want::Ok);
        check(SaleByCode, 404, None, nf, Want::NotFound);
        check(SaleByCode, 200, None, nf, Want::NotFound);
        check(SaleByCode, 422, None, "", Want::NotFound);
        check(CatalogItem, 404, None, r#"{"error":404}"#, Want::NotFound);
        check(Sales, 404, None, "<html>", Want::Fail(EnvatoConnectionFailed));
        check(WhoAmI, 401, None, r#"{"message":"Unauthorized"}"#, Want::Fail(EnvatoUnauthorized));
        check(WhoAmI, 401, None, "Unauthorized", Want::Fail(EnvatoUnauthorized));
        check(
            Sales,
            403,
            None,
            r#"{"error":"access_denied","error_description":"Wrong authorization header"}"#,
            Want::Fail(EnvatoMissingPermission),
        );
        check(SaleByCode, 403, None, "error code: 1020", Want::Fail(EnvatoFirewallBlocked));
        check(Sales, 429, Some("7"), "", Want::Retry(EnvatoRateLimited, Some(7)));
        check(Sales, 429, None, "", Want::Retry(EnvatoRateLimited, Some(60)));
        check(Sales, 429, Some("3600"), "", Want::Fail(EnvatoRateLimited));
        check(
            Sales,
            500,
            None,
            r#"{"error":500,"message":"Invalid response from backend"}"#,
            Want::Retry(EnvatoConnectionFailed, None),
        );
        check(Sales, 503, None, "<html>Service Unavailable</html>", Want::Retry(EnvatoConnectionFailed, None));
        check(Sales, 200, None, r#"[{"amount":"1.00","sold_at""#, Want::Retry(EnvatoBadResponse, None));
        check(Sales, 418, None, "teapot", Want::Fail(EnvatoBadResponse));
    }

    #[test]
    fn missing_permission_names_the_scope_in_envatos_words() {
        let Verdict::Fail(e) = classify(Endpoint::Sales, 403, None, b"{}", &cfg()) else { panic!() };
        assert!(e.message.contains("View your items' sales history"), "{}", e.message);
        assert!(e.message.contains("sale:history"));
    }

    #[test]
    fn pacing_is_on_for_envato_and_off_for_the_local_sandbox() {
        assert_eq!(ClientConfig::new("https://api.envato.com").requests_per_second, 3.0);
        assert_eq!(ClientConfig::new("http://127.0.0.1:8099").requests_per_second, 0.0);
        assert_eq!(ClientConfig::new("http://localhost:8099/").requests_per_second, 0.0);
        assert_eq!(ClientConfig::new("http://[::1]:8099").requests_per_second, 0.0);
        assert_eq!(ClientConfig::new("https://127.0.0.1.example.com").requests_per_second, 3.0);
        assert_eq!(ClientConfig::new("http://localhost:1@evil.example").requests_per_second, 3.0);
        assert_eq!(ClientConfig::new("https://api.envato.com").max_in_flight, 3);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let mut c = cfg();
        c.backoff_base = Duration::from_millis(100);
        c.backoff_max = Duration::from_millis(1000);
        let client = EnvatoClient::new(c, Token::parse(&"a".repeat(32)).unwrap()).unwrap();
        for attempt in 1..=10 {
            let d = client.backoff(attempt);
            let full = Duration::from_millis(100 * (1u64 << (attempt - 1))).min(Duration::from_millis(1000));
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?} vs {full:?}");
        }
    }
}
