//! The licensing API (shared/docs/licensing-api.md) as a core service: what the seller's products
//! and buyers ask, answered with one enum of result codes. The HTTP server (`http`), the CLI and
//! the desktop app are front-ends with no logic of their own. Answers are JSON bytes the caller
//! sends as they are, so the signature covers exactly what goes on the wire.

pub mod buyer;
pub mod http;
pub mod request;
pub mod signing;
pub mod updates;

use crate::envato::PurchaseCode;
use crate::error::{Error, ErrorCode};
use crate::license_key::LicenseKey;
use crate::model::{License, LicenseStatus};
use crate::sync::plan;
use crate::sync::SharedStore;
use crate::time::{to_db, Timestamp};
use crate::verify::{Asker, Verified, Verifier};
use request::{ApiRequest, BadRequest, LicenseRef, Needs};
use serde::Serialize;
use serde_json::{json, Map, Value};
use signing::{Certificate, Signer};
use std::sync::Arc;

crate::text_enum! {
    /// Every result code of the API, as the contract names them.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
    pub enum ApiCode {
        Ok = "OK",
        Valid = "VALID",
        NotFound = "NOT_FOUND",
        PendingReview = "PENDING_REVIEW",
        ProductMismatch = "PRODUCT_MISMATCH",
        Revoked = "REVOKED",
        Suspended = "SUSPENDED",
        NotActivated = "NOT_ACTIVATED",
        Activated = "ACTIVATED",
        AlreadyActivated = "ALREADY_ACTIVATED",
        ActivationLimitExceeded = "ACTIVATION_LIMIT_EXCEEDED",
        Deactivated = "DEACTIVATED",
        Found = "FOUND",
        BadRequest = "BAD_REQUEST",
        PayloadTooLarge = "PAYLOAD_TOO_LARGE",
        NotFoundPath = "NOT_FOUND_PATH",
        RateLimited = "RATE_LIMITED",
        TooManyDeactivations = "TOO_MANY_DEACTIVATIONS",
        EnvatoUnavailable = "ENVATO_UNAVAILABLE",
        /// A failure of KeyManager itself (the database); the detail never carries internals (1.1).
        InternalError = "INTERNAL_ERROR",
        /// The license's product is inactive and takes no new activations; existing ones still
        /// validate (1.1).
        ProductInactive = "PRODUCT_INACTIVE",
        /// A known path asked with the wrong method, with `Allow` (1.1).
        MethodNotAllowed = "METHOD_NOT_ALLOWED",
        /// `validate` for an activation made for another site than the `site_url` sent (1.1).
        SiteMismatch = "SITE_MISMATCH",
        /// More non-production activations than `dev_sites_per_license` (1.1).
        DevSiteLimitExceeded = "DEV_SITE_LIMIT_EXCEEDED",
        /// A `POST` under `/v1/` whose body is not declared JSON (1.1).
        UnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE",
    }
}

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
    pub last_errors: Vec<http::ServedError>,
    /// Why it is not running although enabled (the address is taken, say).
    pub problem: Option<crate::Error>,
}

/// One answer: the HTTP status, the exact body bytes, and a `Retry-After` when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub code: ApiCode,
    pub body: Vec<u8>,
    pub retry_after: Option<u64>,
}

/// The license as answers show it: no buyer, no purchase code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LicenseView {
    pub key: String,
    pub status: LicenseStatus,
    pub product: ProductView,
    pub license_type: String,
    pub activation_limit: u32,
    /// Production activations (the ones the limit counts).
    pub activations_used: u32,
    /// Staging, development and local activations (1.1).
    pub dev_activations_used: u32,
    pub supported_until: Option<String>,
    pub sold_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProductView {
    pub id: i64,
    pub name: String,
    pub item_id: Option<i64>,
}

impl LicenseView {
    pub fn of(l: &License) -> LicenseView {
        LicenseView {
            key: l.license_key.clone(),
            status: l.status,
            product: ProductView { id: l.product_id, name: l.product_name.clone(), item_id: l.envato_item_id },
            license_type: l.license_type.as_str().to_string(),
            activation_limit: l.activation_limit,
            activations_used: l.activations_used,
            dev_activations_used: l.dev_activations_used,
            supported_until: l.supported_until.clone(),
            sold_at: l.sold_at.clone(),
        }
    }
}

/// Builds an answer: `code`, `detail`, `ts`, the nonce when one was sent, then `extra`.
pub(crate) fn answer(
    status: u16,
    code: ApiCode,
    detail: &str,
    nonce: Option<&str>,
    now: Timestamp,
    extra: Value,
) -> Answer {
    answer_coded(status, code, code.as_str(), detail, nonce, now, extra)
}

/// `answer` whose `code` text is another enum's (update answers' `UPDATE_AVAILABLE`, …);
/// `code` is what the server's monitor records.
pub(crate) fn answer_coded(
    status: u16,
    code: ApiCode,
    code_text: &str,
    detail: &str,
    nonce: Option<&str>,
    now: Timestamp,
    extra: Value,
) -> Answer {
    let mut body = Map::new();
    body.insert("code".into(), json!(code_text));
    body.insert("detail".into(), json!(detail));
    body.insert("ts".into(), json!(to_db(now)));
    if let Some(n) = nonce {
        body.insert("nonce".into(), json!(n));
    }
    if let Value::Object(extra) = extra {
        body.extend(extra);
    }
    Answer { status, code, body: serde_json::to_vec(&Value::Object(body)).unwrap_or_default(), retry_after: None }
}

/// 422 `PRODUCT_MISMATCH` (activations and deactivate; validate answers it with 200).
fn product_mismatch(nonce: Option<&str>, now: Timestamp, extra: Value) -> Answer {
    answer(422, ApiCode::ProductMismatch, "This license is for another product.", nonce, now, extra)
}

/// What resolving the license named in a request came to.
pub enum Resolved {
    License(Box<License>),
    /// A genuine purchase whose item no product matches yet (Auto-Create off).
    Pending,
    NotFound,
}

/// Why a request could not be answered from the data.
pub enum Failure {
    /// Envato cannot be asked now (rate limit, outage, no token): retry after this many seconds.
    Envato(u64),
    /// This client's or the server's budget for unseen purchase codes is spent.
    Limited(u64),
    Internal(Error),
}

/// The licensing service over one profile's data.
#[derive(Clone)]
pub struct LicensingService {
    store: SharedStore,
    verifier: Option<Verifier>,
    signer: Arc<crate::api::signing::SignerCell>,
    /// The settings answers depend on, read again at most every few seconds.
    settings: Arc<std::sync::Mutex<Option<CachedSettings>>>,
    /// What validations saw, written in batches (`Store::note_seen`).
    seen: Arc<std::sync::Mutex<SeenBatch>>,
}

/// The settings as read, and when.
type CachedSettings = (std::time::Instant, Arc<crate::settings::Settings>);

/// Sightings of activations by validations, waiting to be written together.
#[derive(Default)]
struct SeenBatch {
    pending: std::collections::HashMap<(i64, String), crate::store::SeenActivation>,
    since: Option<std::time::Instant>,
}

/// How often (at most) the batch of sightings is written, and how large it may grow first.
const SEEN_FLUSH_EVERY: std::time::Duration = std::time::Duration::from_secs(2);
const SEEN_FLUSH_AT: usize = 512;
const SETTINGS_FRESH_FOR: std::time::Duration = std::time::Duration::from_secs(2);

const NO_LICENSE: &str = "No license matches this key or purchase code.";
const PENDING_LATER: &str = "A genuine purchase, waiting for the seller to set up its product; try again later.";

/// How long a client should wait when Envato cannot be asked.
pub const ENVATO_RETRY_AFTER_SECS: u64 = 60;

impl LicensingService {
    /// `verifier` asks Envato about purchase codes not seen yet, within the process's budgets
    /// (None: codes the data does not hold are answered as unavailable). `signer` is the key in
    /// force, replaced in place when the seller rotates it.
    pub fn new(store: SharedStore, verifier: Option<Verifier>, signer: Arc<signing::SignerCell>) -> LicensingService {
        LicensingService { store, verifier, signer, settings: Default::default(), seen: Default::default() }
    }

    /// The profile's data.
    pub(crate) fn store(&self) -> &SharedStore {
        &self.store
    }

    /// The seller's settings, read again once they are a few seconds old.
    pub(crate) async fn settings(&self) -> Result<Arc<crate::settings::Settings>, Failure> {
        if let Some((at, s)) = self.settings.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            if at.elapsed() < SETTINGS_FRESH_FOR {
                return Ok(s.clone());
            }
        }
        let fresh = Arc::new(self.store.read(|s| s.settings()).await.map_err(Failure::Internal)?);
        *self.settings.lock().unwrap_or_else(|p| p.into_inner()) = Some((std::time::Instant::now(), fresh.clone()));
        Ok(fresh)
    }

    /// The environment of the site a request names (production without one, unless the seller
    /// trusts what sites report).
    fn environment_of(settings: &crate::settings::Settings, req: &ApiRequest) -> crate::site::Environment {
        let rules = crate::site::SiteRules::from_settings(settings);
        match &req.site {
            Some(site) => rules.classify(site, req.environment).environment,
            None if rules.trust_reported => req.environment.unwrap_or(crate::site::Environment::Production),
            None => crate::site::Environment::Production,
        }
    }

    fn threshold(settings: &crate::settings::Settings) -> Option<u32> {
        (settings.shared_sites_threshold > 0).then_some(settings.shared_sites_threshold)
    }

    /// Notes a validation's sighting; writes the batch when it is due (in the background).
    fn note_seen(&self, license_id: i64, fingerprint: &str, production_site: Option<String>, now: Timestamp) {
        let due = {
            let mut b = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            let seen = crate::store::SeenActivation {
                license_id,
                fingerprint: fingerprint.to_string(),
                production_site,
                at: now,
            };
            b.pending.insert((license_id, fingerprint.to_string()), seen);
            let since = *b.since.get_or_insert_with(std::time::Instant::now);
            if b.pending.len() >= SEEN_FLUSH_AT || since.elapsed() >= SEEN_FLUSH_EVERY {
                b.since = None;
                Some(std::mem::take(&mut b.pending).into_values().collect::<Vec<_>>())
            } else {
                None
            }
        };
        if let Some(batch) = due {
            let store = self.store.clone();
            tokio::spawn(async move {
                let written = store
                    .run(move |s| {
                        let settings = s.settings()?;
                        s.note_seen(&batch, Self::threshold(&settings))
                    })
                    .await;
                if let Err(e) = written {
                    tracing::warn!(code = %e.code, "cannot record validations' sightings: {}", e.message);
                }
            });
        }
    }

    /// Writes the sightings waiting in the batch now (a server stopping, tests).
    pub async fn flush_seen(&self) -> crate::Result<()> {
        let batch: Vec<_> = {
            let mut b = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            b.since = None;
            std::mem::take(&mut b.pending).into_values().collect()
        };
        if batch.is_empty() {
            return Ok(());
        }
        let threshold = self.store.read(|s| s.settings()).await.map(|s| Self::threshold(&s))?;
        self.store.run(move |s| s.note_seen(&batch, threshold)).await
    }

    /// The key that signs answers now.
    pub fn signer(&self) -> Arc<Signer> {
        self.signer.current()
    }

    /// The cell holding the signing key (the server re-reads it after `keys rotate`).
    pub fn signer_cell(&self) -> &Arc<signing::SignerCell> {
        &self.signer
    }

    pub fn health(&self, now: Timestamp) -> Answer {
        answer(200, ApiCode::Ok, "KeyManager is answering.", None, now, json!({}))
    }

    pub fn public_key(&self, now: Timestamp) -> Answer {
        let extra = json!({ "algorithm": "ed25519", "public_key": self.signer().public_key() });
        answer(200, ApiCode::Ok, "The key that signs every answer of this server.", None, now, extra)
    }

    pub fn bad_request(&self, bad: &BadRequest, now: Timestamp) -> Answer {
        answer(400, ApiCode::BadRequest, &bad.detail, bad.nonce.as_deref(), now, json!({}))
    }

    pub fn too_large(&self, limit: usize, now: Timestamp) -> Answer {
        let detail = format!("The body is larger than {} KiB.", limit / 1024);
        answer(413, ApiCode::PayloadTooLarge, &detail, None, now, json!({}))
    }

    pub fn rate_limited(&self, retry_after_secs: u64, now: Timestamp) -> Answer {
        let detail = "Too many requests from this address; slow down.";
        let mut a = answer(429, ApiCode::RateLimited, detail, None, now, json!({}));
        a.retry_after = Some(retry_after_secs.max(1));
        a
    }

    pub fn no_such_path(&self, now: Timestamp) -> Answer {
        answer(404, ApiCode::NotFoundPath, "There is no such path; see /v1/health.", None, now, json!({}))
    }

    fn failed(&self, f: Failure, nonce: Option<&str>, now: Timestamp) -> Answer {
        match f {
            Failure::Envato(secs) => {
                let mut a = answer(
                    503,
                    ApiCode::EnvatoUnavailable,
                    "Envato could not be asked to verify this purchase code; try again shortly.",
                    nonce,
                    now,
                    json!({}),
                );
                a.retry_after = Some(secs.max(1));
                a
            }
            Failure::Limited(secs) => {
                let detail = "Too many purchase codes checked from this address; try again later.";
                let mut a = answer(429, ApiCode::RateLimited, detail, nonce, now, json!({}));
                a.retry_after = Some(secs.max(1));
                a
            }
            Failure::Internal(e) => {
                tracing::error!(code = %e.code, "licensing API: {}", e.message);
                answer(
                    500,
                    ApiCode::InternalError,
                    "KeyManager could not answer; try again later.",
                    nonce,
                    now,
                    json!({}),
                )
            }
        }
    }

    /// The license a request names. A purchase code not seen yet is verified at Envato with the
    /// seller's token, within the verifier's budgets for `asker`, and recorded by the sync's
    /// rules in one transaction.
    pub(crate) async fn resolve(&self, named: &LicenseRef, asker: Asker, now: Timestamp) -> Result<Resolved, Failure> {
        match named {
            LicenseRef::Key(text) => {
                let Ok(key) = LicenseKey::parse(text) else { return Ok(Resolved::NotFound) };
                let found = self.store.read_row(move |s| s.license_by_key(&key)).await.map_err(Failure::Internal)?;
                Ok(found.map_or(Resolved::NotFound, |l| Resolved::License(Box::new(l))))
            }
            LicenseRef::PurchaseCode(text) => {
                let Ok(code) = PurchaseCode::parse(text) else { return Ok(Resolved::NotFound) };
                let c = code.as_str().to_string();
                let known = self
                    .store
                    .read_row(move |s| match s.license_by_code(&c)? {
                        Some(l) => Ok((Some(l), false)),
                        None => Ok((None, s.pending_by_code(&c)?)),
                    })
                    .await
                    .map_err(Failure::Internal)?;
                match known {
                    (Some(l), _) => return Ok(Resolved::License(Box::new(l))),
                    (None, true) => return Ok(Resolved::Pending),
                    (None, false) => {}
                }
                let Some(verifier) = &self.verifier else { return Err(Failure::Envato(ENVATO_RETRY_AFTER_SECS)) };
                let sale = match verifier.verify(&code, asker, now).await {
                    Verified::Sale(sale) => sale,
                    Verified::Unknown => return Ok(Resolved::NotFound),
                    Verified::Unavailable { retry_after } => return Err(Failure::Envato(retry_after)),
                    Verified::RateLimited { retry_after } => return Err(Failure::Limited(retry_after)),
                    Verified::Failed(e) if e.code == ErrorCode::Internal || e.code.as_str().starts_with("store.") => {
                        return Err(Failure::Internal(e))
                    }
                    Verified::Failed(e) => {
                        tracing::warn!(code = %e.code, "licensing API: Envato did not verify a purchase code");
                        return Err(Failure::Envato(ENVATO_RETRY_AFTER_SECS));
                    }
                };
                let mut record = plan::keyed_alone(std::slice::from_ref(&*sale)).remove(0);
                record.code = Some(code.as_str().to_string());
                let license = self
                    .store
                    .run(move |s| {
                        s.record_verified_sale(&record, now, |l| match l {
                            Some(_) => ("valid", "Verified by the licensing API".to_string()),
                            None => ("valid", "Verified by the licensing API; waiting for a product".to_string()),
                        })
                    })
                    .await
                    .map_err(Failure::Internal)?;
                Ok(license.map_or(Resolved::Pending, |l| Resolved::License(Box::new(l))))
            }
        }
    }

    /// Whether the request names another product than the license's.
    async fn mismatch(&self, req: &ApiRequest, l: &License) -> Result<bool, Failure> {
        if req.product_id.is_some_and(|p| p != l.product_id) {
            return Ok(true);
        }
        let Some(item) = req.item_id else { return Ok(false) };
        if l.envato_item_id == Some(item) {
            return Ok(false);
        }
        let product = l.product_id;
        let items = self
            .store
            .read(move |s| Ok(s.product(product)?.map(|p| p.envato_item_ids).unwrap_or_default()))
            .await
            .map_err(Failure::Internal)?;
        Ok(!items.contains(&item))
    }

    /// `POST /v1/licenses/validate`: always 200 for a well-formed request.
    pub async fn validate(&self, body: &[u8], asker: Asker, now: Timestamp) -> Answer {
        let req = match request::decode(body, Needs::OptionalFingerprint) {
            Ok(r) => r,
            Err(bad) => return self.bad_request(&bad, now),
        };
        match self.validate_req(&req, asker, now).await {
            Ok(a) => a,
            Err(f) => self.failed(f, req.nonce.as_deref(), now),
        }
    }

    async fn validate_req(&self, req: &ApiRequest, asker: Asker, now: Timestamp) -> Result<Answer, Failure> {
        let nonce = req.nonce.as_deref();
        let no = |code: ApiCode, detail: &str, license: Option<&License>| {
            let extra = json!({ "valid": false, "license": license.map(LicenseView::of), "request": req.echo() });
            answer(200, code, detail, nonce, now, extra)
        };
        // A key (what products send daily) is answered with one read: the license, and whether
        // the fingerprint is among its activations.
        let (resolved, activated) = match &req.license {
            LicenseRef::Key(text) => match LicenseKey::parse(text) {
                Err(_) => (Resolved::NotFound, None),
                Ok(key) => {
                    let fp = req.fingerprint.clone();
                    let found = self
                        .store
                        .read(move |s| s.license_by_key_checking(&key, fp.as_deref()))
                        .await
                        .map_err(Failure::Internal)?;
                    match found {
                        Some((l, activated)) => (Resolved::License(Box::new(l)), activated),
                        None => (Resolved::NotFound, None),
                    }
                }
            },
            LicenseRef::PurchaseCode(_) => (self.resolve(&req.license, asker, now).await?, None),
        };
        let l = match resolved {
            Resolved::NotFound => return Ok(no(ApiCode::NotFound, NO_LICENSE, None)),
            Resolved::Pending => {
                let detail = "A genuine purchase, waiting for the seller to set up its product.";
                return Ok(no(ApiCode::PendingReview, detail, None));
            }
            Resolved::License(l) => l,
        };
        if self.mismatch(req, &l).await? {
            return Ok(no(ApiCode::ProductMismatch, "This license is for another product.", None));
        }
        match l.status {
            LicenseStatus::Revoked => return Ok(no(ApiCode::Revoked, "This license has been revoked.", Some(&l))),
            LicenseStatus::Suspended => return Ok(no(ApiCode::Suspended, "This license is suspended.", Some(&l))),
            LicenseStatus::Active => {}
        }
        if let Some(fp) = req.fingerprint.clone() {
            let activated = match activated {
                Some(a) => a,
                None => {
                    let (id, fp) = (l.id, fp.clone());
                    self.store.read(move |s| s.activation_site(id, &fp)).await.map_err(Failure::Internal)?
                }
            };
            let Some(activation) = activated else {
                return Ok(no(ApiCode::NotActivated, "The license is not activated on this installation.", Some(&l)));
            };
            let activated_site = activation.site.as_str();
            // Activated here for another site: a copied site (a clone, a move) is asked about.
            if let Some(sent) = req.site.as_deref().filter(|s| !activated_site.is_empty() && *s != activated_site) {
                let detail = format!("This license is active on {activated_site}, not on {sent}.");
                let extra = json!({
                    "valid": false,
                    "license": LicenseView::of(&l),
                    "activation": { "site": activated_site },
                    "request": req.echo(),
                });
                return Ok(answer(200, ApiCode::SiteMismatch, &detail, nonce, now, extra));
            }
            // A production site validated is a site seen (the shared-code window is 30 days).
            let production_site = (activation.environment == crate::site::Environment::Production
                && !activation.site.is_empty())
            .then(|| activation.site.clone());
            self.note_seen(l.id, &fp, production_site, now);
        }
        let extra = json!({ "valid": true, "license": LicenseView::of(&l), "request": req.echo() });
        Ok(answer(200, ApiCode::Valid, "The license is valid.", nonce, now, extra))
    }

    /// `POST /v1/activations`: idempotent per fingerprint; the limit and the status are checked
    /// in the same transaction as the insert.
    pub async fn activate(&self, body: &[u8], certificate_days: u32, asker: Asker, now: Timestamp) -> Answer {
        let req = match request::decode(body, Needs::Fingerprint) {
            Ok(r) => r,
            Err(bad) => return self.bad_request(&bad, now),
        };
        match self.activate_req(&req, certificate_days, asker, now).await {
            Ok(a) => a,
            Err(f) => self.failed(f, req.nonce.as_deref(), now),
        }
    }

    async fn activate_req(
        &self,
        req: &ApiRequest,
        certificate_days: u32,
        asker: Asker,
        now: Timestamp,
    ) -> Result<Answer, Failure> {
        let nonce = req.nonce.as_deref();
        let echo = || json!({ "request": req.echo() });
        let l = match self.resolve(&req.license, asker, now).await? {
            Resolved::NotFound => return Ok(answer(404, ApiCode::NotFound, NO_LICENSE, nonce, now, echo())),
            Resolved::Pending => {
                let detail = PENDING_LATER;
                return Ok(answer(202, ApiCode::PendingReview, detail, nonce, now, echo()));
            }
            Resolved::License(l) => l,
        };
        if self.mismatch(req, &l).await? {
            return Ok(product_mismatch(nonce, now, echo()));
        }
        let fingerprint = req.fingerprint.clone().unwrap_or_default();
        let settings = self.settings().await?;
        let environment = Self::environment_of(&settings, req);
        let (key, fp, label, site) = (
            LicenseKey::parse(&l.license_key).map_err(Failure::Internal)?,
            fingerprint.clone(),
            req.label.clone(),
            req.site.clone(),
        );
        let (dev_limit, stale_days, threshold) =
            (settings.dev_sites_per_license, settings.stale_activation_days, Self::threshold(&settings));
        let result = self
            .store
            .run(move |s| {
                let on = crate::store::SiteRequest {
                    site: site.as_deref(),
                    environment,
                    dev_limit,
                    stale_after: (stale_days > 0).then(|| chrono::Duration::days(stale_days as i64)),
                    shared_threshold: threshold,
                };
                s.activate_on_site(&key, &fp, label.as_deref(), &on, crate::licensing::refuse_if_not_active, now)
            })
            .await;
        match result {
            Ok(crate::store::Activated { license, activation, new, replaced }) => {
                let issued = now;
                let expires = now + chrono::Duration::days(certificate_days as i64);
                let certificate = self.signer().certificate(&Certificate {
                    v: 1,
                    key: license.license_key.clone(),
                    product_id: license.product_id,
                    item_id: license.envato_item_id,
                    fingerprint: fingerprint.clone(),
                    status: license.status.as_str().to_string(),
                    issued_at: to_db(issued),
                    expires_at: to_db(expires),
                });
                let mut extra = json!({
                    "license": LicenseView::of(&license),
                    "activation": {
                        "fingerprint": activation.instance_id,
                        "label": activation.label,
                        "created_at": activation.activated_at,
                        "site": activation.site,
                        "environment": activation.environment,
                    },
                    "certificate": certificate,
                    "request": req.echo(),
                });
                if let Some(r) = replaced {
                    extra["replaced"] = json!(r);
                }
                Ok(if new {
                    answer(201, ApiCode::Activated, "Activated on this installation.", nonce, now, extra)
                } else {
                    answer(200, ApiCode::AlreadyActivated, "Already active on this installation.", nonce, now, extra)
                })
            }
            Err(e) => Ok(match e.code {
                ErrorCode::LicenseRevoked => {
                    answer(403, ApiCode::Revoked, "This license has been revoked.", nonce, now, echo())
                }
                ErrorCode::LicenseSuspended => {
                    answer(403, ApiCode::Suspended, "This license is suspended.", nonce, now, echo())
                }
                ErrorCode::LicenseNotFound => answer(404, ApiCode::NotFound, NO_LICENSE, nonce, now, echo()),
                ErrorCode::ProductInactive => answer(
                    403,
                    ApiCode::ProductInactive,
                    "This product no longer takes new activations.",
                    nonce,
                    now,
                    echo(),
                ),
                ErrorCode::DevSiteLimit => {
                    let key = LicenseKey::parse(&l.license_key).map_err(Failure::Internal)?;
                    let now_license =
                        self.store.read(move |s| s.license_by_key(&key)).await.map_err(Failure::Internal)?;
                    let extra = json!({ "license": now_license.as_ref().map(LicenseView::of), "request": req.echo() });
                    answer(422, ApiCode::DevSiteLimitExceeded, &e.message, nonce, now, extra)
                }
                ErrorCode::LicenseActivationLimit => {
                    let key = LicenseKey::parse(&l.license_key).map_err(Failure::Internal)?;
                    let now_license =
                        self.store.read(move |s| s.license_by_key(&key)).await.map_err(Failure::Internal)?;
                    let extra = json!({ "license": now_license.as_ref().map(LicenseView::of), "request": req.echo() });
                    answer(422, ApiCode::ActivationLimitExceeded, &e.message, nonce, now, extra)
                }
                _ => return Err(Failure::Internal(e)),
            }),
        }
    }

    /// `POST /v1/activations/deactivate`: at most `per_day` a license in 24 hours.
    pub async fn deactivate(&self, body: &[u8], per_day: u32, asker: Asker, now: Timestamp) -> Answer {
        let req = match request::decode(body, Needs::Fingerprint) {
            Ok(r) => r,
            Err(bad) => return self.bad_request(&bad, now),
        };
        let nonce = req.nonce.clone();
        let echo = || json!({ "request": req.echo() });
        let result: Result<Answer, Failure> = async {
            let nonce = nonce.as_deref();
            let l = match self.resolve(&req.license, asker, now).await? {
                Resolved::License(l) => l,
                Resolved::NotFound | Resolved::Pending => {
                    return Ok(answer(404, ApiCode::NotFound, NO_LICENSE, nonce, now, echo()))
                }
            };
            if self.mismatch(&req, &l).await? {
                return Ok(product_mismatch(nonce, now, echo()));
            }
            let key = LicenseKey::parse(&l.license_key).map_err(Failure::Internal)?;
            let fp = req.fingerprint.clone().unwrap_or_default();
            match self.store.run(move |s| s.deactivate_by_key(&key, &fp, Some(per_day), now)).await {
                Ok(after) => {
                    let extra = json!({ "license": LicenseView::of(&after), "request": req.echo() });
                    Ok(answer(200, ApiCode::Deactivated, "The installation's activation was freed.", nonce, now, extra))
                }
                Err(e) if e.code == ErrorCode::ActivationNotFound => Ok(answer(
                    404,
                    ApiCode::NotActivated,
                    "The license is not activated on this installation.",
                    nonce,
                    now,
                    echo(),
                )),
                Err(e) if e.code == ErrorCode::TooManyDeactivations => {
                    let mut a = answer(429, ApiCode::TooManyDeactivations, &e.message, nonce, now, echo());
                    a.retry_after = Some(24 * 3600);
                    Ok(a)
                }
                Err(e) => Err(Failure::Internal(e)),
            }
        }
        .await;
        result.unwrap_or_else(|f| self.failed(f, req.nonce.as_deref(), now))
    }

    /// `POST /v1/retrieve`: a buyer's keys, by purchase code (the proof of purchase).
    pub async fn retrieve(&self, body: &[u8], asker: Asker, now: Timestamp) -> Answer {
        let req = match request::decode(body, Needs::PurchaseCodeOnly) {
            Ok(r) => r,
            Err(bad) => return self.bad_request(&bad, now),
        };
        let nonce = req.nonce.as_deref();
        match self.resolve(&req.license, asker, now).await {
            Ok(Resolved::License(l)) => {
                let extra = json!({ "licenses": [LicenseView::of(&l)] });
                answer(200, ApiCode::Found, "The licenses of this purchase.", nonce, now, extra)
            }
            Ok(Resolved::Pending) => answer(202, ApiCode::PendingReview, PENDING_LATER, nonce, now, json!({})),
            Ok(Resolved::NotFound) => answer(
                404,
                ApiCode::NotFound,
                "No purchase of the seller's items has this code.",
                nonce,
                now,
                json!({}),
            ),
            Err(f) => self.failed(f, nonce, now),
        }
    }
}
