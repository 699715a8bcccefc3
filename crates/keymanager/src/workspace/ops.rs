//! Every operation of the window and the CLI, as one typed request each (see `Operation`).
//! `ops!` writes the request struct, its `Operation` impl (name, scope, whether it changes
//! data, and its body run on a `Runtime`), and the server's `dispatch` table over all of them.

use super::Operation;
use crate::account::{self, EnvatoSaveResult, TokenStatus, ValidationReport, ValidationStep};
use crate::admin::Scope::{self, Owner, Publish, Support};
use crate::backup::{BackupFile, BackupList, RestoreReport};
use crate::dashboard::Dashboard;
use crate::error::{Error, Result};
use crate::licensing::{self, BulkResult, LicenseAction, LicenseDetail};
use crate::lookup::LookupResult;
use crate::model::{AppInfo, License, NewProduct, Product};
use crate::refund_watch::RecheckProgress;
use crate::runtime::Runtime;
use crate::secrets::SMTP_PASSWORD;
use crate::settings::Settings;
use crate::store::{
    Channel, Delivery, LicenseFilter, LicensePage, LookupHistoryEntry, OutboxCounts, ReleaseEdit, ReviewItem, SyncRun,
    WebhookEndpoint,
};
use crate::sync::worker::SyncStatus;
use crate::updates::publish::{self, AddRelease, Added};
use crate::updates::snippet::Snippet;
use crate::updates::{ProductUpdates, Release, UpdateKind};
use crate::webhooks::NewEndpoint;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

macro_rules! ops {
    ($(
        $(#[$meta:meta])*
        $name:ident = $wire:literal, scope: $scope:expr, changes: $changes:literal $(, secret: $secret:literal)? $(, local_only: $local:literal)?,
        { $($field:ident : $ty:ty),* $(,)? } -> $out:ty,
        |$rt:ident| $body:expr;
    )*) => {
        $(
            $(#[$meta])*
            #[derive(Debug, Clone, Serialize, Deserialize)]
            #[serde(rename_all = "camelCase")]
            pub struct $name { $(pub $field: $ty),* }

            impl Operation for $name {
                const NAME: &'static str = $wire;
                const CHANGES: bool = $changes;
                $(const SECRET: bool = $secret;)?
                $(const LOCAL_ONLY: bool = $local;)?
                type Output = $out;

                #[allow(unused_variables)]
                fn scope(&self) -> &'static [Scope] {
                    let $name { $($field),* } = self;
                    $scope
                }

                #[allow(unused_variables, clippy::redundant_closure_call)]
                async fn run(self, $rt: &Runtime) -> Result<$out> {
                    let $name { $($field),* } = self;
                    $body
                }
            }
        )*

        /// Every operation's wire name.
        pub const NAMES: &[&str] = &[$($wire),*];

        /// The request named `name`, decoded from `body`: its scope, whether it changes data,
        /// and whether it carries a secret; None for an unknown name or one only this computer
        /// may ask (`LOCAL_ONLY`).
        pub fn describe(name: &str, body: &[u8]) -> Option<Result<(&'static [Scope], bool, bool)>> {
            $(
                if name == $wire && !<$name as Operation>::LOCAL_ONLY {
                    return Some(decode::<$name>(body).map(|op| {
                        (op.scope(), <$name as Operation>::CHANGES, <$name as Operation>::SECRET)
                    }));
                }
            )*
            None
        }

        /// Runs the request named `name` on `rt` (the server's side of a remote call): its
        /// answer as JSON. None for an unknown name.
        pub async fn dispatch(name: &str, body: &[u8], rt: &Runtime) -> Option<Result<Vec<u8>>> {
            $(
                if name == $wire && !<$name as Operation>::LOCAL_ONLY {
                    return Some(run_encoded::<$name>(body, rt).await);
                }
            )*
            None
        }
    };
}

fn decode<O: Operation>(body: &[u8]) -> Result<O> {
    let body = if body.iter().all(u8::is_ascii_whitespace) { b"{}".as_slice() } else { body };
    serde_json::from_slice(body)
        .map_err(|e| Error::invalid_input(format!("The body is not what {} takes: {e}.", O::NAME)))
}

async fn run_encoded<O: Operation>(body: &[u8], rt: &Runtime) -> Result<Vec<u8>> {
    let out = decode::<O>(body)?.run(rt).await?;
    serde_json::to_vec(&out).map_err(|e| Error::internal(format!("Cannot encode the answer of {}: {e}.", O::NAME)))
}

/// Reads with the store's read-only connection (on the blocking pool).
macro_rules! read {
    ($rt:ident, |$s:ident, $now:ident| $e:expr) => {{
        let $now = $rt.now();
        $rt.store().read(move |$s| $e).await
    }};
}

/// Writes with the store's one writer (on the blocking pool).
macro_rules! write {
    ($rt:ident, |$s:ident, $now:ident| $e:expr) => {{
        let $now = $rt.now();
        $rt.store().run(move |$s| $e).await
    }};
}

/// Runs a blocking call (the keychain answers over D-Bus) on the blocking pool.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| Error::internal(format!("A background task failed: {e}.")))?
}

fn steps_ignored() -> impl FnMut(&ValidationStep) + Send {
    |_| {}
}

/// Validates a typed token, or re-checks the stored one (recorded).
pub async fn token_validate_local(
    rt: &Runtime,
    token: Option<String>,
    on_step: &mut (dyn FnMut(&ValidationStep) + Send),
) -> Result<ValidationReport> {
    let cfg = crate::envato::ClientConfig::new(rt.api().as_str());
    let token = token.map(zeroize::Zeroizing::new).filter(|t| !t.trim().is_empty());
    match token {
        Some(input) => Ok(account::validate(cfg, &input, on_step).await.0),
        None => account::recheck(rt.store(), std::sync::Arc::new(rt.keychain()?), cfg, on_step, rt.now()).await,
    }
}

/// Save Settings on the Envato tab: a typed token only if it validates, and the toggle.
pub async fn envato_save_local(
    rt: &Runtime,
    token: Option<String>,
    auto_create_products: bool,
    on_step: &mut (dyn FnMut(&ValidationStep) + Send),
) -> Result<EnvatoSaveResult> {
    let cfg = crate::envato::ClientConfig::new(rt.api().as_str());
    let token = token.map(zeroize::Zeroizing::new).filter(|t| !t.trim().is_empty());
    let validated = match token {
        None => None,
        Some(input) => match account::validate(cfg, &input, on_step).await {
            (report, Some(token)) => Some((report, token)),
            (report, None) => return Ok(EnvatoSaveResult::rejected(report)),
        },
    };
    let keychain = rt.keychain()?;
    let result =
        write!(rt, |s, now| account::save_envato_settings(s, &keychain, validated, auto_create_products, now))?;
    // A new token may lift a 401 stop or end "needs a token".
    rt.sync().poke();
    Ok(result)
}

fn data_folder(rt: &Runtime) -> std::path::PathBuf {
    rt.data_dir().to_path_buf()
}

ops! {
    /// The version, data folder and schema of the workspace's KeyManager.
    AppInfoGet = "app_info", scope: &[Support, Publish], changes: false, {} -> AppInfo, |rt| {
        let schema_version = read!(rt, |s, now| s.schema_version())?;
        Ok(AppInfo {
            version: crate::VERSION.to_string(),
            data_dir: Some(rt.data_dir().display().to_string()),
            schema_version,
            envato_api_base: rt.api().as_str().to_string(),
            envato_api_developer_override: rt.api().is_override(),
        })
    };
    SettingsGet = "settings_get", scope: &[Support], changes: false, {} -> Settings,
        |rt| read!(rt, |s, now| s.settings());
    SettingsUpdate = "settings_update", scope: &[Owner], changes: true, { changes: BTreeMap<String, String> } -> Settings,
        |rt| write!(rt, |s, now| s.update_settings(&changes.into_iter().collect::<Vec<_>>(), now));
    ProductsList = "products_list", scope: &[Support, Publish], changes: false, {} -> Vec<Product>,
        |rt| read!(rt, |s, now| s.products());
    ProductCreate = "product_create", scope: &[Owner], changes: true, { product: NewProduct } -> Product,
        |rt| write!(rt, |s, now| s.create_product(&product, now));
    ProductUpdate = "product_update", scope: &[Owner], changes: true, { id: i64, product: NewProduct } -> Product,
        |rt| write!(rt, |s, now| s.update_product(id, &product, now));
    ProductMerge = "product_merge", scope: &[Owner], changes: true, { from: i64, into: i64 } -> Product,
        |rt| write!(rt, |s, now| s.merge_products(from, into, now).map(|(p, _)| p));
    ProductMarkReviewed = "product_mark_reviewed", scope: &[Owner], changes: true, { id: i64 } -> Product,
        |rt| write!(rt, |s, now| s.mark_product_reviewed(id, now));
    TokenStatusGet = "token_status", scope: &[Support], changes: false, {} -> TokenStatus, |rt| {
        let keychain = rt.keychain()?;
        read!(rt, |s, now| account::status(s, &keychain, now))
    };
    KeychainUnlock = "keychain_unlock", scope: &[Owner], changes: false, {} -> TokenStatus, |rt| {
        let keychain = rt.keychain()?;
        read!(rt, |s, now| account::unlock_then_status(s, &keychain, now))
    };
    /// Validates a typed token (nothing saved), or re-checks the stored one.
    TokenValidate = "token_validate", scope: &[Owner], changes: true, secret: true, { token: Option<String> } -> ValidationReport,
        |rt| token_validate_local(rt, token, &mut steps_ignored()).await;
    /// Saves a validated token and the Auto-create toggle (the token is never sent back).
    EnvatoSave = "envato_settings_save", scope: &[Owner], changes: true, secret: true,
        { token: Option<String>, auto_create_products: bool } -> EnvatoSaveResult,
        |rt| envato_save_local(rt, token, auto_create_products, &mut steps_ignored()).await;
    TokenRemove = "token_remove", scope: &[Owner], changes: true, {} -> TokenStatus, |rt| {
        let keychain = rt.keychain()?;
        let status = write!(rt, |s, now| account::remove(s, &keychain, now))?;
        rt.sync().poke();
        Ok(status)
    };
    SyncNow = "sync_now", scope: &[Owner], changes: true, {} -> (), |rt| {
        rt.sync().sync_now();
        Ok(())
    };
    SyncCancel = "sync_cancel", scope: &[Owner], changes: true, {} -> SyncStatus, |rt| {
        rt.sync().cancel();
        Ok(rt.sync().status())
    };
    SyncStatusGet = "sync_status", scope: &[Support], changes: false, {} -> SyncStatus, |rt| Ok(rt.sync().status());
    SyncSetPaused = "sync_set_paused", scope: &[Owner], changes: true, { paused: bool } -> SyncStatus, |rt| {
        write!(rt, |s, now| s.set_sync_paused(paused, now))?;
        rt.sync().poke();
        // The worker re-reads the state asynchronously; answer with the change already applied.
        Ok(SyncStatus { paused, ..rt.sync().status() })
    };
    SyncRuns = "sync_runs", scope: &[Support], changes: false, { limit: Option<u32> } -> Vec<SyncRun>,
        |rt| read!(rt, |s, now| s.sync_runs(limit.unwrap_or(50).min(500)));
    RecheckStart = "recheck_start", scope: &[Owner], changes: true, { product_id: Option<i64> } -> RecheckProgress,
        |rt| rt.start_refund_watch(product_id).await;
    RecheckStatus = "recheck_status", scope: &[Support], changes: false, {} -> RecheckProgress,
        |rt| Ok(rt.refund_watch().progress());
    RecheckCancel = "recheck_cancel", scope: &[Owner], changes: true, {} -> (), |rt| {
        rt.refund_watch().cancel();
        Ok(())
    };
    ReviewQueue = "review_queue", scope: &[Support], changes: false, {} -> Vec<ReviewItem>,
        |rt| read!(rt, |s, now| s.review_queue());
    ReviewCreateProduct = "review_create_product", scope: &[Owner], changes: true, { item_id: i64 } -> Product,
        |rt| write!(rt, |s, now| s.review_create_product(item_id, now).map(|(p, _)| p));
    ReviewMap = "review_map", scope: &[Owner], changes: true, { item_id: i64, product_id: i64 } -> Product,
        |rt| write!(rt, |s, now| s.review_map(item_id, product_id, now).map(|(p, _)| p));
    /// A purchase code looked up (Envato asked only for codes the data does not hold).
    Lookup = "lookup", scope: &[Support], changes: false, { code: String } -> LookupResult,
        |rt| rt.lookup(&code, |_| {}).await;
    LookupHistory = "lookup_history", scope: &[Support], changes: false, {} -> Vec<LookupHistoryEntry>,
        |rt| read!(rt, |s, now| s.lookup_history(50));
    LicensesPage = "licenses_page", scope: &[Support], changes: false, { filter: LicenseFilter } -> LicensePage,
        |rt| read!(rt, |s, now| s.license_page(&filter, now));
    /// The licenses of a filter as CSV text (the caller writes the file where it runs).
    LicensesCsv = "licenses_csv", scope: &[Support], changes: false, { filter: LicenseFilter } -> String, |rt| {
        read!(rt, |s, now| {
            let mut out = Vec::new();
            crate::export::write_csv(s, &filter, now, &mut out)?;
            Ok(String::from_utf8_lossy(&out).into_owned())
        })
    };
    LicenseDetailGet = "license_detail", scope: &[Support], changes: false, { id: i64 } -> LicenseDetail,
        |rt| read!(rt, |s, now| licensing::detail(s, id, now));
    /// Suspend or reactivate (support), revoke (owner), with a reason.
    LicenseChangeStatus = "license_change_status",
        scope: if *action == LicenseAction::Revoke { &[Owner] } else { &[Support] }, changes: true,
        { id: i64, action: LicenseAction, reason: String } -> License,
        |rt| write!(rt, |s, now| licensing::change_status(s, id, action, &reason, now));
    LicensesChangeStatus = "licenses_change_status",
        scope: if *action == LicenseAction::Revoke { &[Owner] } else { &[Support] }, changes: true,
        { ids: Vec<i64>, action: LicenseAction, reason: String } -> BulkResult,
        |rt| write!(rt, |s, now| licensing::change_status_many(s, &ids, action, &reason, now));
    LicenseRegenerateKey = "license_regenerate_key", scope: &[Owner], changes: true, { id: i64, reason: String } -> License,
        |rt| write!(rt, |s, now| licensing::regenerate_key(s, id, &reason, now));
    LicenseFreeSlot = "license_free_slot", scope: &[Support], changes: true,
        { license_id: i64, activation_id: i64 } -> LicenseDetail,
        |rt| write!(rt, |s, now| licensing::free_slot(s, license_id, activation_id, now));
    LicenseUpdateDetails = "license_update_details", scope: &[Support], changes: true,
        { id: i64, buyer_email: String, note: String } -> License,
        |rt| write!(rt, |s, now| licensing::set_details(s, id, &buyer_email, &note, now));
    /// Until when a license gets updates (an RFC 3339 time or a day; None: no end date).
    LicenseSetUpdatesUntil = "license_set_updates_until", scope: &[Owner], changes: true,
        { id: i64, until: Option<String> } -> License, |rt| {
        let at = match until.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            None => None,
            Some(t) => Some(crate::time::parse_day_or_time(t).ok_or_else(|| {
                Error::invalid_input(format!("“{t}” is not a date (YYYY-MM-DD or RFC 3339).")).with_field("updates_until")
            })?),
        };
        write!(rt, |s, now| s.set_updates_until(id, at, now))
    };
    /// A license made by hand (a sale outside Envato).
    LicenseIssue = "license_issue", scope: &[Owner], changes: true,
        { product_id: i64, buyer: Option<String>, buyer_email: Option<String>, note: Option<String> } -> License,
        |rt| write!(rt, |s, now| licensing::issue(s, product_id, buyer.as_deref(), buyer_email.as_deref(), note.as_deref(), now));
    /// "E-mail key to buyer": queued in the outbox, delivered now.
    LicenseSendKey = "license_send_key", scope: &[Support], changes: true, { id: i64, to: Option<String> } -> Delivery, |rt| {
        let message = write!(rt, |s, now| crate::email::queue_key(s, id, to.as_deref(), now))?;
        rt.deliverer().deliver_now(&message).await
    };
    Marketplaces = "marketplaces", scope: &[Support], changes: false, {} -> Vec<String>,
        |rt| read!(rt, |s, now| s.marketplaces());
    DashboardGet = "dashboard", scope: &[Support], changes: false, {} -> Dashboard,
        |rt| read!(rt, |s, now| crate::dashboard::dashboard(s, now));
    SitesClassify = "sites_classify", scope: &[Support], changes: false, { url: String } -> crate::site::Classification,
        |rt| read!(rt, |s, now| s.settings()?.classify_site(&url));
    WebhooksList = "webhooks_list", scope: &[Owner], changes: false, {} -> Vec<WebhookEndpoint>,
        |rt| read!(rt, |s, now| s.webhook_endpoints());
    /// Adds an endpoint; the answer carries its secret, the only time it is shown in full.
    WebhookAdd = "webhook_add", scope: &[Owner], changes: true, { url: String, events: String } -> NewEndpoint, |rt| {
        let secrets = rt.secrets().clone();
        write!(rt, |s, now| crate::webhooks::add(s, &secrets, &url, &events, now))
    };
    WebhookUpdate = "webhook_update", scope: &[Owner], changes: true,
        { id: i64, events: Option<String>, enabled: Option<bool> } -> WebhookEndpoint, |rt| {
        let filter = events.as_deref().map(crate::events::EventFilter::parse).transpose()?;
        write!(rt, |s, now| s.update_webhook_endpoint(id, filter.as_ref(), enabled, now))
    };
    WebhookRemove = "webhook_remove", scope: &[Owner], changes: true, { id: i64 } -> (), |rt| {
        let secrets = rt.secrets().clone();
        write!(rt, |s, now| crate::webhooks::remove(s, &secrets, id, now))
    };
    WebhookRotateSecret = "webhook_rotate_secret", scope: &[Owner], changes: true, { id: i64 } -> NewEndpoint, |rt| {
        let secrets = rt.secrets().clone();
        write!(rt, |s, now| crate::webhooks::rotate(s, &secrets, id, now))
    };
    /// Queues a `webhook.test` and delivers it now.
    WebhookTest = "webhook_test", scope: &[Owner], changes: true, { id: i64 } -> Delivery, |rt| {
        let message = write!(rt, |s, now| s.queue_webhook_test(id, now))?;
        rt.deliverer().deliver_now(&message).await
    };
    Deliveries = "deliveries", scope: &[Support], changes: false,
        { endpoint_id: Option<i64>, channel: Option<Channel>, limit: Option<u32> } -> Vec<Delivery>,
        |rt| read!(rt, |s, now| s.deliveries(endpoint_id, channel, limit.unwrap_or(100)));
    DeliveryReplay = "delivery_replay", scope: &[Owner], changes: true, { message_id: String } -> Delivery, |rt| {
        let d = write!(rt, |s, now| s.replay_message(&message_id, now))?;
        rt.deliverer().deliver_now(&d.message_id).await
    };
    /// Stores the SMTP password (keychain or secrets folder; never sent back). Empty: removed.
    EmailSetPassword = "email_set_password", scope: &[Owner], changes: true, secret: true, { password: String } -> bool, |rt| {
        let secrets = rt.secrets().clone();
        let password = zeroize::Zeroizing::new(password);
        blocking(move || {
            if password.is_empty() {
                secrets.delete(SMTP_PASSWORD)?;
                return Ok(false);
            }
            secrets.save(SMTP_PASSWORD, &password).map(|()| true)
        })
        .await
    };
    EmailPasswordSet = "email_password_set", scope: &[Owner], changes: false, {} -> bool, |rt| {
        let secrets = rt.secrets().clone();
        blocking(move || Ok(secrets.load(SMTP_PASSWORD)?.is_some())).await
    };
    /// Sends a test e-mail with the saved settings; answers with the address it went to.
    EmailSendTest = "email_send_test", scope: &[Owner], changes: true, { to: Option<String> } -> String, |rt| {
        let settings = read!(rt, |s, now| s.settings())?;
        let secrets = rt.secrets().clone();
        let password = blocking(move || secrets.load(SMTP_PASSWORD)).await?;
        crate::email::send_test(&settings, password.as_deref().map(|p| p.as_str()), to.as_deref()).await
    };
    OutboxCountsGet = "outbox_counts", scope: &[Support], changes: false, {} -> OutboxCounts,
        |rt| read!(rt, |s, now| s.outbox_counts());
    BackupsList = "backups_list", scope: &[Owner], changes: false, {} -> BackupList, |rt| rt.backups().await;
    BackupNow = "backup_now", scope: &[Owner], changes: true, {} -> BackupFile, |rt| rt.backup_now().await;
    /// Restores a backup file of the workspace's own backup folder (`backups_list` names them).
    BackupRestore = "backup_restore", scope: &[Owner], changes: true, { path: String } -> RestoreReport, |rt| {
        let listed = rt.backups().await?;
        if !listed.files.iter().any(|f| f.path == path) {
            return Err(Error::invalid_input(format!("{path} is not one of the backups in {}.", listed.folder)).with_field("path"));
        }
        rt.restore(path.into()).await
    };
    ProductUpdatesGet = "product_updates_get", scope: &[Support, Publish], changes: false, { product_id: i64 } -> Option<ProductUpdates>,
        |rt| read!(rt, |s, now| s.product_updates(product_id));
    ProductUpdatesSet = "product_updates_set", scope: &[Owner], changes: true,
        { product_id: i64, slug: Option<String>, kind: Option<UpdateKind>, require_activation: Option<bool> } -> ProductUpdates,
        |rt| write!(rt, |s, now| s.set_product_updates(product_id, slug.as_deref(), kind, require_activation, now));
    ReleasesList = "releases_list", scope: &[Support, Publish], changes: false, { product_id: i64 } -> Vec<Release>,
        |rt| read!(rt, |s, now| s.releases(Some(product_id)));
    /// Adds a release from a zip already on the workspace's machine.
    ReleaseAddFile = "release_add_file", scope: &[Publish], changes: true, local_only: true,
        { path: String, request: AddRelease } -> Added, |rt| {
        let dir = data_folder(rt);
        write!(rt, |s, now| publish::add_release_file(s, &dir, std::path::Path::new(&path), &request, now))
    };
    /// Adds a release from a zip sent with the request (base64), as a CI job or the desktop does.
    ReleaseUpload = "release_upload", scope: &[Publish], changes: true, { package: String, request: AddRelease } -> Added, |rt| {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(package.as_bytes())
            .map_err(|e| Error::invalid_input(format!("The package is not base64: {e}.")).with_field("file"))?;
        let dir = data_folder(rt);
        write!(rt, |s, now| publish::add_release(s, &dir, &mut bytes.as_slice(), &request, now))
    };
    ReleasePublish = "release_publish", scope: &[Publish], changes: true, { id: i64, rollout: Option<u32> } -> Release,
        |rt| write!(rt, |s, now| s.publish_release(id, rollout, now));
    ReleaseRollout = "release_rollout", scope: &[Publish], changes: true, { id: i64, percent: u32 } -> Release,
        |rt| write!(rt, |s, now| s.set_rollout(id, percent, now));
    ReleaseYank = "release_yank", scope: &[Publish], changes: true, { id: i64, reason: String } -> Release,
        |rt| write!(rt, |s, now| s.yank_release(id, &reason, now));
    ReleaseRemove = "release_remove", scope: &[Publish], changes: true, { id: i64 } -> Release, |rt| {
        let dir = data_folder(rt);
        write!(rt, |s, now| publish::remove_release(s, &dir, id, now))
    };
    /// "Re-release as x.y.z": the package under a newer version.
    ReleaseRerelease = "release_rerelease", scope: &[Publish], changes: true,
        { id: i64, version: String, publish: bool } -> Added, |rt| {
        let dir = data_folder(rt);
        write!(rt, |s, now| publish::rerelease(s, &dir, id, &version, publish, now))
    };
    ReleaseGet = "release_get", scope: &[Support, Publish], changes: false, { id: i64 } -> Release, |rt| {
        read!(rt, |s, now| s.release(id)?.ok_or_else(|| Error::new(
            crate::ErrorCode::ReleaseNotFound,
            format!("There is no release with ID {id}.")
        )))
    };
    ReleaseEditOp = "release_edit", scope: &[Publish], changes: true, { id: i64, edit: ReleaseEdit } -> Release,
        |rt| write!(rt, |s, now| s.edit_release(id, &edit, now));
    /// The code to paste into the product, with the workspace's public address and signing key.
    UpdateSnippet = "update_snippet", scope: &[Support, Publish], changes: false, { product_id: i64 } -> Snippet, |rt| {
        let key = rt.signer().await?.current().public_key();
        read!(rt, |s, now| crate::updates::snippet::for_product(s, product_id, &key))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_has_its_own_name() {
        let mut names = NAMES.to_vec();
        names.sort();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "two operations share a wire name");
        assert!(NAMES.len() >= 60, "{}", NAMES.len());
    }

    #[test]
    fn scopes_follow_the_request() {
        let revoke = LicenseChangeStatus { id: 1, action: LicenseAction::Revoke, reason: "refund".into() };
        let suspend = LicenseChangeStatus { id: 1, action: LicenseAction::Suspend, reason: "x".into() };
        assert_eq!(revoke.scope(), &[Owner]);
        assert_eq!(suspend.scope(), &[Support]);
        let (scope, changes, secret) = describe("release_publish", br#"{"id":3,"rollout":null}"#).unwrap().unwrap();
        assert_eq!((scope, changes, secret), (&[Publish][..], true, false));
        assert_eq!(
            describe("envato_settings_save", br#"{"token":null,"autoCreateProducts":true}"#).unwrap().unwrap(),
            (&[Owner][..], true, true)
        );
        assert!(describe("nope", b"{}").is_none());
        // A path of the server's disk is never a device's to name.
        assert!(describe("release_add_file", br#"{"path":"/etc/keymanager/signing-key","request":{"productId":1}}"#)
            .is_none());

        assert_eq!(
            describe("license_detail", b"{\"id\":\"x\"}").unwrap().unwrap_err().code,
            crate::ErrorCode::InputInvalid
        );
        // An operation without fields takes an empty body.
        assert_eq!(describe("dashboard", b"").unwrap().unwrap(), (&[Support][..], false, false));
    }
}
