//! The licensing service: typed questions about a license (`Query`) answered with typed verdicts
//! (`Verdict`, `ActivateVerdict`, `DeactivateVerdict`, `Resolved`). It knows nothing of JSON,
//! nonces or signatures; `wire` alone decodes request bodies and encodes signed answers. The HTTP
//! server (through `wire`), the CLI, the buyer page and update delivery call it directly.

use super::ApiCode;
use crate::envato::PurchaseCode;
use crate::error::{Error, ErrorCode};
use crate::license_key::LicenseKey;
use crate::model::{Activation, License, LicenseStatus};
use crate::plan;
use crate::signing::{self, Certificate, Signer};
use crate::store::Replaced;
use crate::store::SharedStore;
use crate::time::{to_db, Timestamp};
use crate::verify::{Asker, Verified, Verifier};
use std::sync::Arc;

/// How the license is named: exactly one of a license key or an Envato purchase code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LicenseRef {
    Key(String),
    PurchaseCode(String),
}

impl LicenseRef {
    /// A purchase code when the text looks like one, else a key (what a person types).
    pub fn guess(text: &str) -> LicenseRef {
        match PurchaseCode::parse(text) {
            Ok(c) => LicenseRef::PurchaseCode(c.as_str().to_string()),
            Err(_) => LicenseRef::Key(text.to_string()),
        }
    }
}

/// A question about one license: which, from which installation and site, for which product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub license: LicenseRef,
    pub item_id: Option<i64>,
    pub product_id: Option<i64>,
    /// The installation (or `site:` plus the canonical site when only a site was named).
    pub fingerprint: Option<String>,
    pub label: Option<String>,
    /// The canonical site.
    pub site: Option<String>,
    /// The environment the site reports (believed only with `trust_reported_environment`).
    pub environment: Option<crate::site::Environment>,
}

pub const FINGERPRINT_MAX: usize = 128;
pub const LABEL_MAX: usize = 200;
/// Keys and codes are short; anything longer is not one (and is not echoed).
pub const NAME_MAX: usize = 100;

impl Query {
    /// The question within the contract's bounds, or the sentence saying which is not: a key or
    /// code of at most `NAME_MAX` characters, a fingerprint of printable ASCII, a label without
    /// control or text-direction characters (trimmed; empty is none). With a site and no
    /// fingerprint, the site is the installation.
    pub fn checked(mut self) -> Result<Query, String> {
        let name = match &self.license {
            LicenseRef::Key(s) | LicenseRef::PurchaseCode(s) => s.trim(),
        };
        if name.chars().count() > NAME_MAX {
            return Err("The key or purchase code is far too long to be one.".into());
        }
        if let Some(f) = &self.fingerprint {
            if f.is_empty() || f.len() > FINGERPRINT_MAX || !f.bytes().all(|b| (0x20..0x7f).contains(&b)) {
                return Err(format!("“fingerprint” is 1 to {FINGERPRINT_MAX} printable ASCII characters."));
            }
        }
        if self.fingerprint.is_none() {
            self.fingerprint = self.site.as_deref().map(crate::site::fingerprint_of);
        }
        self.label = self.label.map(|l| l.trim().to_string()).filter(|l| !l.is_empty());
        if self.label.as_ref().is_some_and(|l| {
            l.chars().count() > LABEL_MAX || l.chars().any(|c| c.is_control() || crate::text::is_bidi_control(c))
        }) {
            return Err(format!(
                "“label” has at most {LABEL_MAX} characters, and no control or text-direction characters."
            ));
        }
        Ok(self)
    }

    /// A question naming only the license and, when given, the installation.
    pub fn of(license: LicenseRef, fingerprint: Option<&str>) -> Query {
        Query {
            license,
            item_id: None,
            product_id: None,
            fingerprint: fingerprint.map(str::to_string),
            label: None,
            site: None,
            environment: None,
        }
    }
}

const NO_LICENSE: &str = "No license matches this key or purchase code.";
const NOT_ACTIVATED: &str = "The license is not activated on this installation.";
const REVOKED: &str = "This license has been revoked.";
const SUSPENDED: &str = "This license is suspended.";
const MISMATCH: &str = "This license is for another product.";
pub(crate) const PENDING_LATER: &str =
    "A genuine purchase, waiting for the seller to set up its product; try again later.";

/// What `validate` found.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Valid(Box<License>),
    NotFound,
    PendingReview,
    ProductMismatch,
    Revoked(Box<License>),
    Suspended(Box<License>),
    NotActivated(Box<License>),
    /// Activated on this installation for another site than the one named.
    SiteMismatch {
        license: Box<License>,
        activated_site: String,
        sent_site: String,
    },
}

impl Verdict {
    pub fn code(&self) -> ApiCode {
        match self {
            Verdict::Valid(_) => ApiCode::Valid,
            Verdict::NotFound => ApiCode::NotFound,
            Verdict::PendingReview => ApiCode::PendingReview,
            Verdict::ProductMismatch => ApiCode::ProductMismatch,
            Verdict::Revoked(_) => ApiCode::Revoked,
            Verdict::Suspended(_) => ApiCode::Suspended,
            Verdict::NotActivated(_) => ApiCode::NotActivated,
            Verdict::SiteMismatch { .. } => ApiCode::SiteMismatch,
        }
    }

    /// The license the verdict is about, when the answer may show it.
    pub fn license(&self) -> Option<&License> {
        match self {
            Verdict::Valid(l) | Verdict::Revoked(l) | Verdict::Suspended(l) | Verdict::NotActivated(l) => Some(l),
            Verdict::SiteMismatch { license, .. } => Some(license),
            Verdict::NotFound | Verdict::PendingReview | Verdict::ProductMismatch => None,
        }
    }

    pub fn detail(&self) -> String {
        match self {
            Verdict::Valid(_) => "The license is valid.".into(),
            Verdict::NotFound => NO_LICENSE.into(),
            Verdict::PendingReview => "A genuine purchase, waiting for the seller to set up its product.".into(),
            Verdict::ProductMismatch => MISMATCH.into(),
            Verdict::Revoked(_) => REVOKED.into(),
            Verdict::Suspended(_) => SUSPENDED.into(),
            Verdict::NotActivated(_) => NOT_ACTIVATED.into(),
            Verdict::SiteMismatch { activated_site, sent_site, .. } => {
                format!("This license is active on {activated_site}, not on {sent_site}.")
            }
        }
    }
}

/// An activation made (or found already made) for the installation asked about.
#[derive(Debug, Clone, PartialEq)]
pub struct Made {
    pub license: License,
    pub activation: Activation,
    /// False when the installation was already activated.
    pub new: bool,
    /// The activation of the same site's former installation it took over.
    pub replaced: Option<Replaced>,
    /// The signed offline certificate (`signing::Certificate`).
    pub certificate: String,
}

/// What `activate` came to.
#[derive(Debug, Clone, PartialEq)]
pub enum ActivateVerdict {
    Activated(Box<Made>),
    NotFound,
    PendingReview,
    ProductMismatch,
    Revoked,
    Suspended,
    ProductInactive,
    /// The limit's sentence, and the license as it stands.
    DevSiteLimitExceeded {
        detail: String,
        license: Option<Box<License>>,
    },
    ActivationLimitExceeded {
        detail: String,
        license: Option<Box<License>>,
    },
}

impl ActivateVerdict {
    pub fn code(&self) -> ApiCode {
        match self {
            ActivateVerdict::Activated(m) if m.new => ApiCode::Activated,
            ActivateVerdict::Activated(_) => ApiCode::AlreadyActivated,
            ActivateVerdict::NotFound => ApiCode::NotFound,
            ActivateVerdict::PendingReview => ApiCode::PendingReview,
            ActivateVerdict::ProductMismatch => ApiCode::ProductMismatch,
            ActivateVerdict::Revoked => ApiCode::Revoked,
            ActivateVerdict::Suspended => ApiCode::Suspended,
            ActivateVerdict::ProductInactive => ApiCode::ProductInactive,
            ActivateVerdict::DevSiteLimitExceeded { .. } => ApiCode::DevSiteLimitExceeded,
            ActivateVerdict::ActivationLimitExceeded { .. } => ApiCode::ActivationLimitExceeded,
        }
    }

    pub fn license(&self) -> Option<&License> {
        match self {
            ActivateVerdict::Activated(m) => Some(&m.license),
            ActivateVerdict::DevSiteLimitExceeded { license, .. }
            | ActivateVerdict::ActivationLimitExceeded { license, .. } => license.as_deref(),
            _ => None,
        }
    }

    pub fn detail(&self) -> String {
        match self {
            ActivateVerdict::Activated(m) if m.new => "Activated on this installation.".into(),
            ActivateVerdict::Activated(_) => "Already active on this installation.".into(),
            ActivateVerdict::NotFound => NO_LICENSE.into(),
            ActivateVerdict::PendingReview => PENDING_LATER.into(),
            ActivateVerdict::ProductMismatch => MISMATCH.into(),
            ActivateVerdict::Revoked => REVOKED.into(),
            ActivateVerdict::Suspended => SUSPENDED.into(),
            ActivateVerdict::ProductInactive => "This product no longer takes new activations.".into(),
            ActivateVerdict::DevSiteLimitExceeded { detail, .. }
            | ActivateVerdict::ActivationLimitExceeded { detail, .. } => detail.clone(),
        }
    }
}

/// What `deactivate` came to.
#[derive(Debug, Clone, PartialEq)]
pub enum DeactivateVerdict {
    /// Freed; the license as it stands after.
    Deactivated(Box<License>),
    NotFound,
    ProductMismatch,
    NotActivated,
    /// The daily limit's sentence.
    TooManyDeactivations(String),
}

impl DeactivateVerdict {
    pub fn code(&self) -> ApiCode {
        match self {
            DeactivateVerdict::Deactivated(_) => ApiCode::Deactivated,
            DeactivateVerdict::NotFound => ApiCode::NotFound,
            DeactivateVerdict::ProductMismatch => ApiCode::ProductMismatch,
            DeactivateVerdict::NotActivated => ApiCode::NotActivated,
            DeactivateVerdict::TooManyDeactivations(_) => ApiCode::TooManyDeactivations,
        }
    }

    pub fn license(&self) -> Option<&License> {
        match self {
            DeactivateVerdict::Deactivated(l) => Some(l),
            _ => None,
        }
    }

    pub fn detail(&self) -> String {
        match self {
            DeactivateVerdict::Deactivated(_) => "The installation's activation was freed.".into(),
            DeactivateVerdict::NotFound => NO_LICENSE.into(),
            DeactivateVerdict::ProductMismatch => MISMATCH.into(),
            DeactivateVerdict::NotActivated => NOT_ACTIVATED.into(),
            DeactivateVerdict::TooManyDeactivations(d) => d.clone(),
        }
    }
}

/// What resolving the license named in a request came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    License(Box<License>),
    /// A genuine purchase whose item no product matches yet (Auto-Create off).
    Pending,
    NotFound,
}

/// Why a request could not be answered from the data.
#[derive(Debug)]
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
    signer: Arc<crate::signing::SignerCell>,
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

pub use crate::verify::ENVATO_RETRY_AFTER_SECS;

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
    fn environment_of(settings: &crate::settings::Settings, req: &Query) -> crate::site::Environment {
        let rules = settings.site_rules();
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

    /// How this process asks Envato about purchase codes (None: it does not).
    pub(crate) fn verifier(&self) -> Option<&Verifier> {
        self.verifier.as_ref()
    }

    /// The key that signs answers now.
    pub fn signer(&self) -> Arc<Signer> {
        self.signer.current()
    }

    /// The cell holding the signing key (the server re-reads it after `keys rotate`).
    pub fn signer_cell(&self) -> &Arc<signing::SignerCell> {
        &self.signer
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

    /// Whether the question names another product than the license's.
    async fn mismatch(&self, q: &Query, l: &License) -> Result<bool, Failure> {
        if q.product_id.is_some_and(|p| p != l.product_id) {
            return Ok(true);
        }
        let Some(item) = q.item_id else { return Ok(false) };
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

    /// Whether the license is good for this installation and site (`validate`).
    pub async fn validate(&self, q: &Query, asker: Asker, now: Timestamp) -> Result<Verdict, Failure> {
        // A key (what products send daily) is answered with one read: the license, and whether
        // the fingerprint is among its activations.
        let (resolved, activated) = match &q.license {
            LicenseRef::Key(text) => match LicenseKey::parse(text) {
                Err(_) => (Resolved::NotFound, None),
                Ok(key) => {
                    let fp = q.fingerprint.clone();
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
            LicenseRef::PurchaseCode(_) => (self.resolve(&q.license, asker, now).await?, None),
        };
        let l = match resolved {
            Resolved::NotFound => return Ok(Verdict::NotFound),
            Resolved::Pending => return Ok(Verdict::PendingReview),
            Resolved::License(l) => l,
        };
        if self.mismatch(q, &l).await? {
            return Ok(Verdict::ProductMismatch);
        }
        match l.status {
            LicenseStatus::Revoked => return Ok(Verdict::Revoked(l)),
            LicenseStatus::Suspended => return Ok(Verdict::Suspended(l)),
            LicenseStatus::Active => {}
        }
        if let Some(fp) = q.fingerprint.clone() {
            let activated = match activated {
                Some(a) => a,
                None => {
                    let (id, fp) = (l.id, fp.clone());
                    self.store.read(move |s| s.activation_site(id, &fp)).await.map_err(Failure::Internal)?
                }
            };
            let Some(activation) = activated else { return Ok(Verdict::NotActivated(l)) };
            // Activated here for another site: a copied site (a clone, a move) is asked about.
            if let Some(sent) = q.site.as_deref().filter(|s| !activation.site.is_empty() && *s != activation.site) {
                let sent_site = sent.to_string();
                return Ok(Verdict::SiteMismatch { license: l, activated_site: activation.site, sent_site });
            }
            // A production site validated is a site seen (the shared-code window is 30 days).
            let production_site = (activation.environment == crate::site::Environment::Production
                && !activation.site.is_empty())
            .then(|| activation.site.clone());
            self.note_seen(l.id, &fp, production_site, now);
        }
        Ok(Verdict::Valid(l))
    }

    /// Activates the license on the installation: idempotent per fingerprint; the limit and the
    /// status are checked in the same transaction as the insert. An activation carries an
    /// offline certificate valid `certificate_days`.
    pub async fn activate(
        &self,
        q: &Query,
        certificate_days: u32,
        asker: Asker,
        now: Timestamp,
    ) -> Result<ActivateVerdict, Failure> {
        let l = match self.resolve(&q.license, asker, now).await? {
            Resolved::NotFound => return Ok(ActivateVerdict::NotFound),
            Resolved::Pending => return Ok(ActivateVerdict::PendingReview),
            Resolved::License(l) => l,
        };
        if self.mismatch(q, &l).await? {
            return Ok(ActivateVerdict::ProductMismatch);
        }
        let fingerprint = q.fingerprint.clone().unwrap_or_default();
        let settings = self.settings().await?;
        let environment = Self::environment_of(&settings, q);
        let key = LicenseKey::parse(&l.license_key).map_err(Failure::Internal)?;
        let (fp, label, site) = (fingerprint.clone(), q.label.clone(), q.site.clone());
        let (dev_limit, stale_days, threshold) =
            (settings.dev_sites_per_license, settings.stale_activation_days, Self::threshold(&settings));
        let k = key.clone();
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
                s.activate_on_site(&k, &fp, label.as_deref(), &on, crate::licensing::refuse_if_not_active, now)
            })
            .await;
        let license_now = || async {
            let key = key.clone();
            self.store.read(move |s| s.license_by_key(&key)).await.map(|l| l.map(Box::new)).map_err(Failure::Internal)
        };
        Ok(match result {
            Ok(crate::store::Activated { license, activation, new, replaced }) => {
                let expires = now + chrono::Duration::days(certificate_days as i64);
                let certificate = self.signer().certificate(&Certificate {
                    v: 1,
                    key: license.license_key.clone(),
                    product_id: license.product_id,
                    item_id: license.envato_item_id,
                    fingerprint,
                    status: license.status.as_str().to_string(),
                    issued_at: to_db(now),
                    expires_at: to_db(expires),
                });
                ActivateVerdict::Activated(Box::new(Made { license, activation, new, replaced, certificate }))
            }
            Err(e) => match e.code {
                ErrorCode::LicenseRevoked => ActivateVerdict::Revoked,
                ErrorCode::LicenseSuspended => ActivateVerdict::Suspended,
                ErrorCode::LicenseNotFound => ActivateVerdict::NotFound,
                ErrorCode::ProductInactive => ActivateVerdict::ProductInactive,
                ErrorCode::DevSiteLimit => {
                    ActivateVerdict::DevSiteLimitExceeded { detail: e.message, license: license_now().await? }
                }
                ErrorCode::LicenseActivationLimit => {
                    ActivateVerdict::ActivationLimitExceeded { detail: e.message, license: license_now().await? }
                }
                _ => return Err(Failure::Internal(e)),
            },
        })
    }

    /// Frees the installation's activation: at most `per_day` a license in 24 hours.
    pub async fn deactivate(
        &self,
        q: &Query,
        per_day: u32,
        asker: Asker,
        now: Timestamp,
    ) -> Result<DeactivateVerdict, Failure> {
        let l = match self.resolve(&q.license, asker, now).await? {
            Resolved::License(l) => l,
            Resolved::NotFound | Resolved::Pending => return Ok(DeactivateVerdict::NotFound),
        };
        if self.mismatch(q, &l).await? {
            return Ok(DeactivateVerdict::ProductMismatch);
        }
        let key = LicenseKey::parse(&l.license_key).map_err(Failure::Internal)?;
        let fp = q.fingerprint.clone().unwrap_or_default();
        match self.store.run(move |s| s.deactivate_by_key(&key, &fp, Some(per_day), now)).await {
            Ok(after) => Ok(DeactivateVerdict::Deactivated(Box::new(after))),
            Err(e) if e.code == ErrorCode::ActivationNotFound => Ok(DeactivateVerdict::NotActivated),
            Err(e) if e.code == ErrorCode::TooManyDeactivations => {
                Ok(DeactivateVerdict::TooManyDeactivations(e.message))
            }
            Err(e) => Err(Failure::Internal(e)),
        }
    }

    /// A buyer's license, by purchase code (the proof of purchase).
    pub async fn retrieve(&self, code: &str, asker: Asker, now: Timestamp) -> Result<Resolved, Failure> {
        self.resolve(&LicenseRef::PurchaseCode(code.to_string()), asker, now).await
    }
}
