//! Update answers over one profile's data: what a site asking for updates is told (the product,
//! the eligibility decision, a download link), encoded for plugin-update-checker and EDD's
//! updater, and what a download link leads to. The HTTP server, the CLI (`updates check`,
//! `updates link`) and the app call this; `api::updates` encodes KeyManager's own signed check.

use super::eligibility::{decide, may_download, Asking, Holder};
use super::link::{self, LinkClaims, LinkProblem};
use super::readme::to_html;
use super::{ProductUpdates, Release, ReleaseChannel, ReleaseStatus, UpdateCode, UpdateKind};
use crate::api::{Failure, LicenseRef, LicensingService, Resolved};
use crate::model::License;
use crate::time::Timestamp;
use crate::verify::Asker;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Which product a request asks about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Which {
    /// PUC's metadata path names the slug.
    Slug(String),
    /// EDD: a KeyManager product id or an Envato item id, else the item's name, else the slug.
    Edd { item_id: Option<i64>, item_name: Option<String>, slug: Option<String> },
    /// `/v1/updates/check`: the ids, or (none sent) the license's own product.
    Product { product_id: Option<i64>, item_id: Option<i64> },
}

/// What the site reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ask {
    /// A license key or a purchase code, as sent.
    pub license: Option<String>,
    pub installed: Option<String>,
    pub beta: bool,
    /// The site's URL as sent (or from WordPress's User-Agent).
    pub site_url: Option<String>,
    pub fingerprint: Option<String>,
    pub php: Option<String>,
    pub wordpress: Option<String>,
}

/// The answer, before it is encoded for one client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub product: ProductUpdates,
    pub code: UpdateCode,
    /// The sentence for the site owner.
    pub message: String,
    /// The newest version the site is told about.
    pub shown: Option<Release>,
    /// The release whose package this site may download, and the link to it (None without a
    /// public address).
    pub package: Option<Release>,
    pub download_url: Option<String>,
    pub installed: Option<String>,
    /// `{"description", "changelog"}` as HTML: the shown release's description and the
    /// changelog of the versions visible to the site, newest first.
    /// (JSON text, rendered once per product, release shown and channel).
    pub sections: Arc<str>,
    /// The public address of the server ("" when unset).
    pub public_url: String,
    /// The newest fully rolled-out stable version (EDD's `stable_version`).
    pub stable_version: Option<String>,
}

/// What a download link leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Download {
    File {
        path: PathBuf,
        size: u64,
        sha256: String,
        /// base64 of the MD5 digest (`Content-MD5`).
        md5_base64: String,
        /// base64 Ed25519 signature of the SHA-384 digest (`X-Content-Signature`).
        signature: String,
        filename: String,
    },
    Refused {
        status: u16,
        code: &'static str,
        detail: String,
        retry_after: Option<u64>,
    },
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2).filter_map(|i| u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()).collect()
}

/// The site URL in WordPress's `User-Agent: WordPress/6.1.9; http://site.example`.
pub fn site_from_user_agent(user_agent: &str) -> Option<String> {
    let rest = user_agent.strip_prefix("WordPress/")?;
    let (_, site) = rest.split_once(';')?;
    let site = site.trim();
    (site.starts_with("http://") || site.starts_with("https://")).then(|| site.to_string())
}

/// WordPress's version in its `User-Agent`.
pub fn wordpress_from_user_agent(user_agent: &str) -> Option<String> {
    let rest = user_agent.strip_prefix("WordPress/")?;
    Some(rest.split(';').next()?.trim().to_string()).filter(|v| super::version::valid(v))
}

const UNREACHABLE: &str = "Your purchase code could not be checked with Envato right now; updates resume shortly.";
const NO_PUBLIC_URL: &str =
    "An update exists, but the seller's licensing server has no public address set, so no download link can be given.";

/// The license, and why a looked-up license is not one (Envato could not be asked).
enum Found {
    Holder(Option<Box<License>>, bool),
    Unreachable,
}

/// How long a product's releases are answered from memory before they are read again: a
/// publish, a rollout or a yank reaches metadata answers within a second (downloads check the
/// database itself, so a yanked release is never sent).
const CATALOG_FRESH_FOR: std::time::Duration = std::time::Duration::from_secs(1);
/// At most this many products and unknown slugs are remembered (a flood of made-up slugs
/// empties the map rather than growing it).
const CATALOGS_MAX: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum CatalogKey {
    Slug(String),
    Product(i64),
}

/// Sections rendered per (release shown, beta site), as JSON text.
type SectionsCache = Mutex<HashMap<(Option<i64>, bool), Arc<str>>>;
/// Tokens already signed, and the key that signed them (a rotated key empties the map).
type Links = Mutex<(Option<Arc<crate::signing::Signer>>, HashMap<LinkClaims, Arc<str>>)>;
/// At most this many signed links are remembered (then the map starts again).
const LINKS_MAX: usize = 4096;

/// When each catalog was read, and what (None: no such product).
type Catalogs = Mutex<HashMap<CatalogKey, (std::time::Instant, Option<Arc<Catalog>>)>>;

/// A product and its releases as read, with the HTML sections rendered for each shown release.
struct Catalog {
    product: ProductUpdates,
    releases: Vec<Release>,
    sections: SectionsCache,
}

impl Catalog {
    /// The sections for a site shown `shown` (beta or not): rendered once per catalog.
    fn sections_for(&self, shown: Option<&Release>, beta: bool) -> Arc<str> {
        let key = (shown.map(|r| r.id), beta);
        if let Some(v) = self.sections.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return v.clone();
        }
        let changelog = self
            .releases
            .iter()
            .filter(|r| r.status == ReleaseStatus::Published && (beta || r.channel == ReleaseChannel::Stable))
            .filter(|r| shown.is_none_or(|s| !super::version::newer(&r.version, &s.version)))
            .take(20)
            .map(|r| format!("= {} =\n{}\n", r.version, r.changelog))
            .collect::<Vec<_>>()
            .join("\n");
        let description = shown.map(|r| r.meta.description.as_str()).unwrap_or("");
        let v: Arc<str> =
            json!({ "description": to_html(description), "changelog": to_html(&changelog) }).to_string().into();
        self.sections.lock().unwrap_or_else(|p| p.into_inner()).insert(key, v.clone());
        v
    }
}

#[derive(Clone)]
pub struct UpdateService {
    licensing: LicensingService,
    catalogs: Arc<Catalogs>,
    links: Arc<Links>,
}

impl UpdateService {
    /// Update answers beside `licensing` (the same store, verifier and signing key); packages are
    /// read from the store's data folder.
    pub fn new(licensing: LicensingService) -> UpdateService {
        UpdateService { licensing, catalogs: Default::default(), links: Default::default() }
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&crate::Store) -> crate::Result<T> + Send + 'static,
    ) -> Result<T, Failure> {
        self.licensing.store().read(f).await.map_err(Failure::Internal)
    }

    /// A product's update data, read again once it is a second old (answers to sites are
    /// many; releases change rarely). Unknown slugs are remembered too, within a bound.
    async fn catalog(&self, key: CatalogKey) -> Result<Option<Arc<Catalog>>, Failure> {
        if let Some((at, c)) = self.catalogs.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            if at.elapsed() < CATALOG_FRESH_FOR {
                return Ok(c.clone());
            }
        }
        let k = key.clone();
        let read = self
            .read(move |s| {
                let product = match &k {
                    CatalogKey::Slug(slug) => s.product_by_update_slug(slug)?,
                    CatalogKey::Product(id) => s.product_updates(*id)?,
                };
                let Some(product) = product else { return Ok(None) };
                let releases = s.releases(Some(product.product_id))?;
                Ok(Some(Arc::new(Catalog { product, releases, sections: Default::default() })))
            })
            .await?;
        let mut map = self.catalogs.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= CATALOGS_MAX {
            map.clear();
        }
        map.insert(key, (std::time::Instant::now(), read.clone()));
        Ok(read)
    }

    /// The signed token for `claims`: a site that asks again within the hour gets the same link
    /// without a new signature (an Ed25519 signature costs more than the rest of an answer).
    fn link_token(&self, claims: LinkClaims) -> Arc<str> {
        let signer = self.licensing.signer();
        let mut links = self.links.lock().unwrap_or_else(|p| p.into_inner());
        if links.0.as_ref().is_none_or(|s| !Arc::ptr_eq(s, &signer)) || links.1.len() >= LINKS_MAX {
            *links = (Some(signer.clone()), HashMap::new());
        }
        if let Some(token) = links.1.get(&claims) {
            return token.clone();
        }
        drop(links);
        let token: Arc<str> = link::token(&signer, &claims).into();
        let mut links = self.links.lock().unwrap_or_else(|p| p.into_inner());
        if links.0.as_ref().is_some_and(|s| Arc::ptr_eq(s, &signer)) {
            links.1.insert(claims, token.clone());
        }
        token
    }

    /// What a site asking about `which` with `ask` is told (None: no such product). The product
    /// is found first: asking about a slug that does not exist costs no license lookup (and no
    /// Envato request for a purchase code).
    pub async fn offer(
        &self,
        which: &Which,
        ask: &Ask,
        asker: Asker,
        now: Timestamp,
    ) -> Result<Option<Offer>, Failure> {
        let settings = self.licensing.settings().await?;
        let site = ask.site_url.as_deref().and_then(|u| crate::site::canonical(u).ok());
        let named = ask.license.as_deref().map(str::trim).filter(|l| !l.is_empty());
        // An EDD item or a product id is looked up (one that matches nothing: no such product);
        // a request naming no product asks about the license's own (below).
        let looked_up = match which {
            Which::Edd { item_id, item_name, slug } => Some((*item_id, item_name.clone(), slug.clone())),
            Which::Product { product_id, item_id } => product_id.or(*item_id).map(|id| (Some(id), None, None)),
            Which::Slug(_) => None,
        };
        let key = match (which, looked_up) {
            (Which::Slug(slug), _) => Some(CatalogKey::Slug(slug.clone())),
            (_, Some((item_id, item_name, slug))) => {
                let id = self
                    .read(move |s| {
                        Ok(s.product_for_edd(item_id, item_name.as_deref(), slug.as_deref())?.map(|p| p.product_id))
                    })
                    .await?;
                let Some(id) = id else { return Ok(None) };
                Some(CatalogKey::Product(id))
            }
            (_, None) => None,
        };
        let mut catalog = match &key {
            Some(k) => match self.catalog(k.clone()).await? {
                Some(c) => Some(c),
                None => return Ok(None),
            },
            None => None,
        };
        let (license, pending, unreachable) = match named {
            None => (None, false, false),
            Some(text) => match self.licensing.resolve(&LicenseRef::guess(text), asker, now).await {
                Ok(Resolved::License(l)) => (Some(l), false, false),
                Ok(Resolved::Pending) => (None, true, false),
                Ok(Resolved::NotFound) => (None, false, false),
                Err(Failure::Envato(_) | Failure::Limited(_)) => (None, false, true),
                Err(f) => return Err(f),
            },
        };
        // `/v1/updates/check` naming no product asks about the license's own.
        if catalog.is_none() {
            match license.as_ref().map(|l| l.product_id) {
                Some(id) => catalog = self.catalog(CatalogKey::Product(id)).await?,
                None => return Ok(None),
            }
        }
        let Some(catalog) = catalog else { return Ok(None) };
        let product = &catalog.product;
        let found = if unreachable { Found::Unreachable } else { Found::Holder(license, pending) };
        let activated = match &found {
            Found::Holder(Some(l), _) if product.require_activation => {
                let (id, site, fp) = (l.id, site.clone(), ask.fingerprint.clone());
                self.read(move |s| s.activated_for(id, site.as_deref(), fp.as_deref())).await?
            }
            _ => false,
        };
        let releases = &catalog.releases;
        let rollout_site = site.clone().or_else(|| ask.fingerprint.clone()).unwrap_or_default();
        let asking = Asking {
            installed: ask.installed.as_deref(),
            beta: ask.beta,
            site: &rollout_site,
            php: ask.php.as_deref(),
            wordpress: ask.wordpress.as_deref(),
        };
        let holder = match &found {
            Found::Unreachable => Holder::NotFound,
            Found::Holder(Some(l), _) => Holder::License { license: l, activated },
            Found::Holder(None, true) => Holder::Pending,
            Found::Holder(None, false) if named.is_some() => Holder::NotFound,
            Found::Holder(None, false) => Holder::Nothing,
        };
        let d = decide(product.product_id, releases, product.require_activation, holder, &asking);
        let mut message =
            if matches!(found, Found::Unreachable) { UNREACHABLE.to_string() } else { d.code.message().to_string() };
        let public_url = settings.public_url.trim_end_matches('/').to_string();
        let download_url = match (d.package, &found) {
            (Some(r), Found::Holder(Some(l), _)) if !public_url.is_empty() => {
                let claims = LinkClaims {
                    v: 1,
                    release_id: r.id,
                    license_id: l.id,
                    site: site.clone().unwrap_or_default(),
                    exp: link::expiry(now, settings.download_link_days),
                };
                Some(link::url(&public_url, &self.link_token(claims)))
            }
            (Some(_), _) => {
                message = NO_PUBLIC_URL.to_string();
                None
            }
            _ => None,
        };
        Ok(Some(Offer {
            code: d.code,
            message,
            sections: catalog.sections_for(d.shown, ask.beta),
            shown: d.shown.cloned(),
            package: if download_url.is_some() { d.package.cloned() } else { None },
            download_url,
            installed: ask.installed.clone(),
            public_url,
            stable_version: stable_version(releases),
            product: product.clone(),
        }))
    }

    /// The package a download link leads to, or why not (`count`: a GET, counted against
    /// `downloads_per_day`; a HEAD is not).
    pub async fn download(&self, token: &str, count: bool, now: Timestamp) -> Result<Download, Failure> {
        let refused = |status: u16, code: &'static str, detail: &str| Download::Refused {
            status,
            code,
            detail: detail.to_string(),
            retry_after: None,
        };
        let signer = self.licensing.signer();
        let claims = match link::read(&signer, token, now.timestamp()) {
            Ok(c) => c,
            Err(LinkProblem::Expired) => {
                return Ok(refused(
                    410,
                    "LINK_EXPIRED",
                    "This download link has expired; check for updates again for a new one.",
                ))
            }
            Err(LinkProblem::Unknown) => return Ok(refused(404, "NOT_FOUND", "There is no such download.")),
        };
        let (rid, lid) = (claims.release_id, claims.license_id);
        let site = claims.site.clone();
        let found = self
            .read(move |s| {
                let Some(pkg) = s.release_package(rid)? else { return Ok(None) };
                let Some(license) = s.license(lid)? else { return Ok(None) };
                let product = s.product_updates(pkg.release.product_id)?;
                // A link given without a site (a support reply, a fingerprint-only check) was
                // issued after the check; one for a site is checked against its activations again.
                let require = product.is_some_and(|p| p.require_activation) && !site.is_empty();
                let activated = require && s.activated_for(lid, Some(&site), None)?;
                Ok(Some((pkg, license, require, activated)))
            })
            .await?;
        let Some((pkg, license, require, activated)) = found else {
            return Ok(refused(404, "NOT_FOUND", "There is no such download."));
        };
        if pkg.release.status != ReleaseStatus::Published {
            return Ok(refused(404, "NOT_FOUND", "This release has been withdrawn; check for updates again."));
        }
        if let Err(code) = may_download(&pkg.release, &license, require, activated) {
            return Ok(refused(403, code.as_str(), code.message()));
        }
        if count {
            let per_day = self.licensing.settings().await?.downloads_per_day;
            let counted = self
                .licensing
                .store()
                .run(move |s| s.record_download(lid, rid, per_day, now))
                .await
                .map_err(Failure::Internal)?;
            if !counted {
                return Ok(Download::Refused {
                    status: 429,
                    code: "TOO_MANY_DOWNLOADS",
                    detail: format!(
                        "This license has downloaded {per_day} packages in the last 24 hours; try again tomorrow."
                    ),
                    retry_after: Some(3600),
                });
            }
        }
        let path = self.licensing.store().data_dir().map(|d| super::package::path(d, &pkg.release.sha256));
        let Some(path) = path.filter(|p| p.exists()) else {
            tracing::error!(release = rid, "a release's package file is missing from the data folder");
            return Ok(refused(404, "NOT_FOUND", "The package is missing on the server; the seller has been told."));
        };
        Ok(Download::File {
            path,
            size: pkg.release.size,
            sha256: pkg.release.sha256.clone(),
            md5_base64: STANDARD.encode(hex_bytes(&pkg.md5)),
            signature: signer.sign(&hex_bytes(&pkg.sha384)),
            filename: format!("{}.zip", pkg.slug),
        })
    }
}

/// A download link for a support reply: release `release_id`, else the newest stable release
/// the license may have. Needs the server's public address.
pub fn support_link(
    store: &crate::Store,
    signer: &crate::signing::Signer,
    license_id: i64,
    release_id: Option<i64>,
    now: Timestamp,
) -> crate::Result<(Release, String)> {
    use crate::error::{Error, ErrorCode};
    let settings = store.settings()?;
    let public_url = settings.public_url.trim_end_matches('/').to_string();
    if public_url.is_empty() {
        return Err(Error::new(
            ErrorCode::PublicUrlMissing,
            "Set the licensing server's public address (public_url) first: links point there.",
        )
        .with_field("public_url"));
    }
    let license = store
        .license(license_id)?
        .ok_or_else(|| Error::new(ErrorCode::LicenseNotFound, format!("There is no license with ID {license_id}.")))?;
    let releases = store.releases(Some(license.product_id))?;
    let release = match release_id {
        Some(id) => releases.iter().find(|r| r.id == id).ok_or_else(|| {
            Error::new(ErrorCode::ReleaseNotFound, format!("{} has no release with ID {id}.", license.product_name))
        })?,
        None => {
            let holder = Holder::License { license: &license, activated: true };
            let d = decide(license.product_id, &releases, false, holder, &Asking::default());
            d.package.or(d.shown).ok_or_else(|| {
                Error::new(ErrorCode::ReleaseNotFound, format!("{} has no published release.", license.product_name))
            })?
        }
    };
    if release.status != ReleaseStatus::Published {
        return Err(Error::new(
            ErrorCode::ReleaseInvalidTransition,
            format!("Release {} is {}; only published releases are downloaded.", release.version, release.status),
        ));
    }
    if let Err(code) = may_download(release, &license, false, true) {
        return Err(Error::new(ErrorCode::InputInvalid, format!("{} ({code})", code.message())));
    }
    let claims = LinkClaims {
        v: 1,
        release_id: release.id,
        license_id,
        site: String::new(),
        exp: link::expiry(now, settings.download_link_days),
    };
    Ok((release.clone(), link::url(&public_url, &link::token(signer, &claims))))
}

/// `fields` (an object) with the offer's sections, as the Value the CLI prints.
fn with_sections(mut fields: Value, offer: &Offer) -> Value {
    fields["sections"] = serde_json::from_str(&offer.sections).unwrap_or_else(|_| json!({}));
    fields
}

/// `fields` (an object without `sections`) with the offer's sections, as the bytes of the
/// answer: the sections' JSON text goes in as rendered, not escaped again per request.
fn body_with_sections(fields: &Value, offer: &Offer) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024 + offer.sections.len());
    if serde_json::to_writer(&mut out, fields).is_err() || out.last() != Some(&b'}') {
        return serde_json::to_vec(&with_sections(fields.clone(), offer)).unwrap_or_default();
    }
    out.pop();
    if out.len() > 1 {
        out.push(b',');
    }
    out.extend_from_slice(br#""sections":"#);
    out.extend_from_slice(offer.sections.as_bytes());
    out.push(b'}');
    out
}

/// plugin-update-checker's metadata as the bytes `GET /updates/{slug}/info.json` sends.
pub fn puc_body(offer: &Offer) -> Vec<u8> {
    let fields = puc_fields(offer);
    if offer.product.kind != Some(UpdateKind::WpTheme) {
        body_with_sections(&fields, offer)
    } else {
        serde_json::to_vec(&fields).unwrap_or_default()
    }
}

/// EDD's `get_version` answer as the bytes `/edd` sends.
pub fn edd_body(offer: &Offer) -> Vec<u8> {
    body_with_sections(&edd_fields(offer), offer)
}

/// plugin-update-checker's metadata (plugin or theme shape by the product's kind).
pub fn puc_json(offer: &Offer) -> Value {
    let fields = puc_fields(offer);
    if offer.product.kind != Some(UpdateKind::WpTheme) {
        with_sections(fields, offer)
    } else {
        fields
    }
}

/// EDD's `get_version` answer.
pub fn edd_json(offer: &Offer) -> Value {
    with_sections(edd_fields(offer), offer)
}

/// plugin-update-checker's metadata without `sections` (a plugin's answer has them, a theme's
/// does not).
fn puc_fields(offer: &Offer) -> Value {
    let slug = offer.product.slug.clone().unwrap_or_default();
    let version =
        offer.shown.as_ref().map(|r| r.version.clone()).or_else(|| offer.installed.clone()).unwrap_or_default();
    let r = offer.shown.as_ref();
    let mut v = if offer.product.kind == Some(UpdateKind::WpTheme) {
        let details = r.map(|r| r.meta.homepage.clone()).filter(|h| !h.is_empty()).unwrap_or_else(|| {
            if offer.public_url.is_empty() {
                String::new()
            } else {
                format!("{}/updates/{slug}/info.json", offer.public_url)
            }
        });
        json!({
            "name": r.map(|r| r.meta.name.clone()).filter(|n| !n.is_empty()).unwrap_or_else(|| offer.product.product_name.clone()),
            "slug": slug,
            "version": version,
            "details_url": details,
            "requires": r.and_then(|r| r.requires.clone()),
            "tested": r.and_then(|r| r.tested.clone()),
            "requires_php": r.and_then(|r| r.requires_php.clone()),
            "last_updated": r.and_then(|r| r.released_at.clone()),
        })
    } else {
        json!({
            "name": r.map(|r| r.meta.name.clone()).filter(|n| !n.is_empty()).unwrap_or_else(|| offer.product.product_name.clone()),
            "slug": slug,
            "version": version,
            "homepage": r.map(|r| r.meta.homepage.clone()).unwrap_or_default(),
            "author": r.map(|r| r.meta.author.clone()).unwrap_or_default(),
            "author_homepage": r.map(|r| r.meta.author_homepage.clone()).unwrap_or_default(),
            "requires": r.and_then(|r| r.requires.clone()),
            "tested": r.and_then(|r| r.tested.clone()),
            "requires_php": r.and_then(|r| r.requires_php.clone()),
            "last_updated": r.and_then(|r| r.released_at.clone()),
            "upgrade_notice": r.map(|r| r.upgrade_notice.clone()).unwrap_or_default(),
        })
    };
    if let Some(url) = &offer.download_url {
        v["download_url"] = json!(url);
    }
    v["license_status"] = json!(offer.code.as_str());
    v["license_message"] = json!(offer.message);
    v
}

/// EDD's `get_version` answer without `sections`.
fn edd_fields(offer: &Offer) -> Value {
    let r = offer.shown.as_ref();
    let installed = offer.installed.clone().unwrap_or_default();
    let new_version = match (offer.code, r) {
        (UpdateCode::RequirementsNotMet, _) | (_, None) => installed,
        (_, Some(r)) => r.version.clone(),
    };
    let url = offer.download_url.clone().unwrap_or_default();
    let homepage = r.map(|r| r.meta.homepage.clone()).unwrap_or_default();
    json!({
        "new_version": new_version,
        "stable_version": offer.stable_version.clone().unwrap_or_default(),
        "name": r.map(|r| r.meta.name.clone()).filter(|n| !n.is_empty()).unwrap_or_else(|| offer.product.product_name.clone()),
        "slug": offer.product.slug.clone().unwrap_or_default(),
        "url": homepage,
        "last_updated": r.and_then(|r| r.released_at.clone()).unwrap_or_default(),
        "homepage": homepage,
        "package": url,
        "download_link": url,
        "banners": {},
        "icons": {},
        "requires": r.and_then(|r| r.requires.clone()).unwrap_or_default(),
        "tested": r.and_then(|r| r.tested.clone()).unwrap_or_default(),
        "requires_php": r.and_then(|r| r.requires_php.clone()).unwrap_or_default(),
        "msg": if offer.code == UpdateCode::UpdateAvailable && !url.is_empty() { String::new() } else { offer.message.clone() },
        "license_status": offer.code.as_str(),
    })
}

/// EDD's `stable_version`: the newest stable release everyone receives, of `releases` given newest first.
pub fn stable_version(releases: &[Release]) -> Option<String> {
    releases
        .iter()
        .find(|r| r.status == ReleaseStatus::Published && r.channel == ReleaseChannel::Stable && r.rollout >= 100)
        .map(|r| r.version.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wordpress_user_agents() {
        let ua = "WordPress/6.1.9; http://site.example";
        assert_eq!(site_from_user_agent(ua).as_deref(), Some("http://site.example"));
        assert_eq!(wordpress_from_user_agent(ua).as_deref(), Some("6.1.9"));
        assert_eq!(site_from_user_agent("curl/8.0"), None);
        assert_eq!(site_from_user_agent("WordPress/6.1; javascript:alert(1)"), None);
    }

    #[test]
    fn hex_to_bytes() {
        assert_eq!(hex_bytes("00ff10"), vec![0, 255, 16]);
    }
}
