//! IPC commands: each parses its arguments, calls one core function, and returns the core's
//! `Error` (serialised as `{code, message, field?}`) on failure. No SQL or rules here.

use crate::state::AppState;
use keymanager::account::{self, EnvatoSaveResult, TokenStatus, ValidationReport, ValidationStep};
use keymanager::backup::{BackupFile, BackupList, RestoreReport};
use keymanager::dashboard::Dashboard;
use keymanager::email;
use keymanager::envato::scopes;
use keymanager::events::EventFilter;
use keymanager::licensing::{self, LicenseAction, LicenseDetail};
use keymanager::lookup::LookupResult;
use keymanager::model::{AppInfo, License, NewProduct, Product};
use keymanager::refund_watch::RecheckProgress;
use keymanager::secrets::SMTP_PASSWORD;
use keymanager::server::ServerStatus;
use keymanager::settings::Settings;
use keymanager::store::ReleaseEdit;
use keymanager::store::{
    Channel, Delivery, LicenseFilter, LicensePage, LookupHistoryEntry, OutboxCounts, ReviewItem, SyncRun,
    WebhookEndpoint,
};
use keymanager::sync::worker::SyncStatus;
use keymanager::token::SecretText;
use keymanager::updates::publish::{self, AddRelease, Added};
use keymanager::updates::snippet::Snippet;
use keymanager::updates::{ProductUpdates, Release, UpdateKind};
use keymanager::webhooks::{self, NewEndpoint};
use keymanager::{time, Error, ErrorCode};
use secrecy::ExposeSecret;
use std::collections::BTreeMap;
use std::path::Path;
use tauri::{AppHandle, Emitter, State};

type Reply<T> = Result<T, Error>;

#[tauri::command]
pub async fn app_info(state: State<'_, AppState>) -> Reply<AppInfo> {
    let data_dir = state.data_dir.as_ref().map(|d| d.display().to_string());
    let schema_version = state.with_reader(|s| s.schema_version()).await?;
    let api = state.api()?;
    Ok(AppInfo {
        version: keymanager::VERSION.to_string(),
        data_dir,
        schema_version,
        envato_api_base: api.as_str().to_string(),
        envato_api_developer_override: api.is_override(),
    })
}

#[tauri::command]
pub async fn settings_get(state: State<'_, AppState>) -> Reply<Settings> {
    state.with_reader(|s| s.settings()).await
}

#[tauri::command]
pub async fn settings_update(state: State<'_, AppState>, changes: BTreeMap<String, String>) -> Reply<Settings> {
    state.with_store(move |s| s.update_settings(&changes.into_iter().collect::<Vec<_>>(), time::now())).await
}

#[tauri::command]
pub async fn products_list(state: State<'_, AppState>) -> Reply<Vec<Product>> {
    state.with_reader(|s| s.products()).await
}

#[tauri::command]
pub async fn product_create(state: State<'_, AppState>, product: NewProduct) -> Reply<Product> {
    state.with_store(move |s| s.create_product(&product, time::now())).await
}

/// Each validation step is sent to the window as it starts and completes.
fn emit_step(app: &AppHandle) -> impl FnMut(&ValidationStep) + Send + '_ {
    move |step| {
        let _ = app.emit(VALIDATION_STEP_EVENT, step);
    }
}

pub const VALIDATION_STEP_EVENT: &str = "token-validation-step";

#[tauri::command]
pub async fn token_status(state: State<'_, AppState>) -> Reply<TokenStatus> {
    state.with_reader_and_keychain(|s, k| account::status(s, k, time::now())).await
}

/// Asks a locked keyring to unlock (the desktop shows its own prompt), then the token status.
#[tauri::command]
pub async fn keychain_unlock(state: State<'_, AppState>) -> Reply<TokenStatus> {
    state.with_reader_and_keychain(|s, k| account::unlock_then_status(s, k, time::now())).await
}

/// Validates the typed token (nothing is saved), or, with none, re-checks the stored one.
#[tauri::command]
pub async fn token_validate(
    app: AppHandle,
    state: State<'_, AppState>,
    token: Option<SecretText>,
) -> Reply<ValidationReport> {
    let cfg = state.client_config().await?;
    // The IPC copy of the token is a SecretString: wiped when dropped.
    match token.filter(|t| !t.expose_secret().trim().is_empty()) {
        Some(input) => Ok(account::validate(cfg, input.expose_secret(), &mut emit_step(&app)).await.0),
        None => {
            account::recheck(&state.shared_store()?, state.keychain()?, cfg, &mut emit_step(&app), time::now()).await
        }
    }
}

/// Save Settings on the Envato Integration tab: the new token (only if it validates) and the
/// Auto-Create Products toggle, together.
#[tauri::command]
pub async fn envato_settings_save(
    app: AppHandle,
    state: State<'_, AppState>,
    token: Option<SecretText>,
    auto_create_products: bool,
) -> Reply<EnvatoSaveResult> {
    let validated = match token.filter(|t| !t.expose_secret().trim().is_empty()) {
        None => None,
        Some(input) => {
            match account::validate(state.client_config().await?, input.expose_secret(), &mut emit_step(&app)).await {
                (report, Some(token)) => Some((report, token)),
                (report, None) => return Ok(EnvatoSaveResult::rejected(report)),
            }
        }
    };
    let result = state
        .with_store_and_keychain(move |s, k| {
            account::save_envato_settings(s, k, validated, auto_create_products, time::now())
        })
        .await?;
    // A new token may lift a 401 stop or end "needs a token".
    if let Ok(w) = state.worker() {
        w.poke();
    }
    Ok(result)
}

#[tauri::command]
pub async fn token_remove(state: State<'_, AppState>) -> Reply<TokenStatus> {
    let status = state.with_store_and_keychain(|s, k| account::remove(s, k, time::now())).await?;
    if let Ok(w) = state.worker() {
        w.poke();
    }
    Ok(status)
}

/// Opens Envato's create-token page, with KeyManager's permissions ticked, in the browser.
/// The address is fixed here: the webview cannot ask to open anything else.
#[tauri::command]
pub async fn open_create_token_page() -> Reply<()> {
    open::that_detached(scopes::CREATE_TOKEN_URL).map_err(|e| Error::internal(format!("Cannot open the browser: {e}.")))
}

#[tauri::command]
pub async fn sync_now(state: State<'_, AppState>) -> Reply<()> {
    state.worker()?.sync_now();
    Ok(())
}

/// Starts the refund watch (one product's codes, or all) in the background; progress through
/// `recheck_status` and the `recheck-progress` event. One at a time.
#[tauri::command]
pub async fn recheck_start(state: State<'_, AppState>, product_id: Option<i64>) -> Reply<RecheckProgress> {
    state.runtime()?.start_refund_watch(product_id).await
}

#[tauri::command]
pub async fn recheck_status(state: State<'_, AppState>) -> Reply<RecheckProgress> {
    Ok(state.runtime()?.refund_watch().progress())
}

/// Stops the refund watch after the code being checked.
#[tauri::command]
pub async fn recheck_cancel(state: State<'_, AppState>) -> Reply<()> {
    state.runtime()?.refund_watch().cancel();
    Ok(())
}

/// Whether KeyManager starts at login (the OS's login items are the truth, not a setting).
#[tauri::command]
pub async fn autostart_get(app: AppHandle) -> Reply<bool> {
    use tauri_plugin_autostart::ManagerExt;
    app.autolaunch().is_enabled().map_err(|e| Error::internal(format!("Cannot read the login items: {e}.")))
}

/// Switches starting at login on or off; records that it was offered (asked once).
#[tauri::command]
pub async fn autostart_set(app: AppHandle, state: State<'_, AppState>, enabled: bool) -> Reply<bool> {
    use tauri_plugin_autostart::ManagerExt;
    let launcher = app.autolaunch();
    let done = if enabled { launcher.enable() } else { launcher.disable() };
    done.map_err(|e| Error::internal(format!("Cannot change the login items: {e}.")))?;
    state.with_store(|s| s.update_settings(&[("autostart_offered".into(), "true".into())], time::now())).await?;
    launcher.is_enabled().map_err(|e| Error::internal(format!("Cannot read the login items: {e}.")))
}

/// Cancels the running sync (it stops after the current page; the next run completes it).
#[tauri::command]
pub async fn sync_cancel(state: State<'_, AppState>) -> Reply<SyncStatus> {
    let worker = state.worker()?;
    worker.cancel();
    Ok(worker.status())
}

#[tauri::command]
pub async fn sync_status(state: State<'_, AppState>) -> Reply<SyncStatus> {
    Ok(state.worker()?.status())
}

#[tauri::command]
pub async fn sync_set_paused(state: State<'_, AppState>, paused: bool) -> Reply<SyncStatus> {
    state.with_store(move |s| s.set_sync_paused(paused, time::now())).await?;
    let worker = state.worker()?;
    worker.poke();
    // The worker re-reads the state asynchronously; answer with the change already applied.
    Ok(SyncStatus { paused, ..worker.status() })
}

#[tauri::command]
pub async fn sync_runs(state: State<'_, AppState>, limit: Option<u32>) -> Reply<Vec<SyncRun>> {
    state.with_reader(move |s| s.sync_runs(limit.unwrap_or(50).min(500))).await
}

#[tauri::command]
pub async fn review_queue(state: State<'_, AppState>) -> Reply<Vec<ReviewItem>> {
    state.with_reader(|s| s.review_queue()).await
}

#[tauri::command]
pub async fn review_create_product(state: State<'_, AppState>, item_id: i64) -> Reply<Product> {
    state.with_store(move |s| s.review_create_product(item_id, time::now()).map(|(p, _)| p)).await
}

#[tauri::command]
pub async fn review_map(state: State<'_, AppState>, item_id: i64, product_id: i64) -> Reply<Product> {
    state.with_store(move |s| s.review_map(item_id, product_id, time::now()).map(|(p, _)| p)).await
}

pub const LOOKUP_REFRESHED_EVENT: &str = "lookup-refreshed";

/// Looks a purchase code up. Data older than six hours is answered at once and refreshed in
/// the background; the fresh answer arrives as a `lookup-refreshed` event.
#[tauri::command]
pub async fn lookup(app: AppHandle, state: State<'_, AppState>, code: String) -> Reply<LookupResult> {
    state.runtime()?.lookup(&code, move |fresh| drop(app.emit(LOOKUP_REFRESHED_EVENT, fresh))).await
}

#[tauri::command]
pub async fn lookup_history(state: State<'_, AppState>) -> Reply<Vec<LookupHistoryEntry>> {
    state.with_reader(|s| s.lookup_history(50)).await
}

#[tauri::command]
pub async fn licenses_page(state: State<'_, AppState>, filter: LicenseFilter) -> Reply<LicensePage> {
    state.with_reader(move |s| s.license_page(&filter, time::now())).await
}

#[tauri::command]
pub async fn license_detail(state: State<'_, AppState>, id: i64) -> Reply<LicenseDetail> {
    state.with_reader(move |s| licensing::detail(s, id, time::now())).await
}

#[tauri::command]
pub async fn license_change_status(
    state: State<'_, AppState>,
    id: i64,
    action: LicenseAction,
    reason: String,
) -> Reply<License> {
    state.with_store(move |s| licensing::change_status(s, id, action, &reason, time::now())).await
}

/// Bulk suspend/revoke/reactivate of a selection, with one reason.
#[tauri::command]
pub async fn licenses_change_status(
    state: State<'_, AppState>,
    ids: Vec<i64>,
    action: LicenseAction,
    reason: String,
) -> Reply<licensing::BulkResult> {
    state.with_store(move |s| licensing::change_status_many(s, &ids, action, &reason, time::now())).await
}

#[tauri::command]
pub async fn license_regenerate_key(state: State<'_, AppState>, id: i64, reason: String) -> Reply<License> {
    state.with_store(move |s| licensing::regenerate_key(s, id, &reason, time::now())).await
}

#[tauri::command]
pub async fn license_free_slot(
    state: State<'_, AppState>,
    license_id: i64,
    activation_id: i64,
) -> Reply<LicenseDetail> {
    state.with_store(move |s| licensing::free_slot(s, license_id, activation_id, time::now())).await
}

#[tauri::command]
pub async fn marketplaces(state: State<'_, AppState>) -> Reply<Vec<String>> {
    state.with_reader(|s| s.marketplaces()).await
}

/// Writes the current filter's licenses as CSV into the Downloads folder; returns the path.
#[tauri::command]
pub async fn licenses_export(state: State<'_, AppState>, filter: LicenseFilter) -> Reply<String> {
    let dir = directories::UserDirs::new()
        .and_then(|u| u.download_dir().map(|d| d.to_path_buf()))
        .or_else(|| state.data_dir.clone())
        .ok_or_else(|| {
            Error::new(keymanager::ErrorCode::StoreIo, "There is no Downloads folder to save the export in.")
        })?;
    state.with_reader(move |s| keymanager::export::write_csv_file(s, &filter, time::now(), &dir)).await
}

#[tauri::command]
pub async fn product_update(state: State<'_, AppState>, id: i64, product: NewProduct) -> Reply<Product> {
    state.with_store(move |s| s.update_product(id, &product, time::now())).await
}

/// Merges product `from` into `into` (its Envato items and licenses move; `from` is removed).
#[tauri::command]
pub async fn product_merge(state: State<'_, AppState>, from: i64, into: i64) -> Reply<Product> {
    state.with_store(move |s| s.merge_products(from, into, time::now()).map(|(p, _)| p)).await
}

/// "Mark reviewed" on an auto-created product.
#[tauri::command]
pub async fn product_mark_reviewed(state: State<'_, AppState>, id: i64) -> Reply<Product> {
    state.with_store(move |s| s.mark_product_reviewed(id, time::now())).await
}

#[tauri::command]
pub async fn dashboard(state: State<'_, AppState>) -> Reply<Dashboard> {
    state.with_reader(|s| keymanager::dashboard::dashboard(s, time::now())).await
}

/// The window has painted its first frame: logs the start-up time once (`make bench` reads it).
#[tauri::command]
pub async fn ui_ready(memory: State<'_, crate::window::WindowMemory>, page: String) -> Reply<()> {
    if let Some(waited) = memory.take_open_time() {
        let page = crate::window::page_name(&page).unwrap_or("?");
        tracing::info!(ms = waited.as_millis() as u64, page, "first paint");
    }
    Ok(())
}

/// Closes the window the way its close button does (Ctrl+W); KeyManager stays in the tray.
/// `discard`: the seller chose to drop unsaved edits, so the close no longer asks.
#[tauri::command]
pub async fn window_close(
    window: tauri::WebviewWindow,
    memory: State<'_, crate::window::WindowMemory>,
    discard: bool,
) -> Reply<()> {
    if discard {
        memory.set_unsaved(false);
    }
    window.close().map_err(|e| Error::new(ErrorCode::Internal, format!("cannot close the window: {e}")))
}

/// The UI holds edits that are not saved (or no longer does): closing the window asks first.
#[tauri::command]
pub async fn ui_set_unsaved(memory: State<'_, crate::window::WindowMemory>, unsaved: bool) -> Reply<()> {
    memory.set_unsaved(unsaved);
    Ok(())
}

/// Settings > Licensing server's tester box: how the saved host patterns classify a site.
#[tauri::command]
pub async fn sites_classify(state: State<'_, AppState>, url: String) -> Reply<keymanager::site::Classification> {
    state.with_reader(move |s| s.settings()?.classify_site(&url)).await
}

/// Settings > Licensing server: what runs, where, what it served, its last failures.
#[tauri::command]
pub async fn server_status(state: State<'_, AppState>) -> Reply<ServerStatus> {
    state.server_status().await
}

/// Switches the app's licensing server on or off (saved), or restarts it with new settings.
#[tauri::command]
pub async fn server_set_enabled(state: State<'_, AppState>, enabled: bool) -> Reply<ServerStatus> {
    let value = enabled.to_string();
    state.with_store(move |s| s.update_settings(&[("server_enabled".into(), value)], time::now())).await?;
    state.apply_server_setting().await
}

// ---- Webhooks and e-mail (shared/docs/webhooks-email.md) ------------------------------------

#[tauri::command]
pub async fn webhooks_list(state: State<'_, AppState>) -> Reply<Vec<WebhookEndpoint>> {
    state.with_reader(|s| s.webhook_endpoints()).await
}

/// Adds an endpoint; the answer carries its secret, the only time it is shown in full.
#[tauri::command]
pub async fn webhook_add(state: State<'_, AppState>, url: String, events: String) -> Reply<NewEndpoint> {
    state.with_store_and_secrets(move |s, k| webhooks::add(s, k, &url, &events, time::now())).await
}

#[tauri::command]
pub async fn webhook_update(
    state: State<'_, AppState>,
    id: i64,
    events: Option<String>,
    enabled: Option<bool>,
) -> Reply<WebhookEndpoint> {
    let filter = events.as_deref().map(EventFilter::parse).transpose()?;
    state.with_store(move |s| s.update_webhook_endpoint(id, filter.as_ref(), enabled, time::now())).await
}

#[tauri::command]
pub async fn webhook_remove(state: State<'_, AppState>, id: i64) -> Reply<()> {
    state.with_store_and_secrets(move |s, k| webhooks::remove(s, k, id, time::now())).await
}

#[tauri::command]
pub async fn webhook_rotate_secret(state: State<'_, AppState>, id: i64) -> Reply<NewEndpoint> {
    state.with_store_and_secrets(move |s, k| webhooks::rotate(s, k, id, time::now())).await
}

/// Queues a `webhook.test` and delivers it now; the answer is its row in the log.
#[tauri::command]
pub async fn webhook_test(state: State<'_, AppState>, id: i64) -> Reply<Delivery> {
    let message = state.with_store(move |s| s.queue_webhook_test(id, time::now())).await?;
    state.deliverer()?.deliver_now(&message).await
}

#[tauri::command]
pub async fn deliveries(
    state: State<'_, AppState>,
    endpoint_id: Option<i64>,
    channel: Option<Channel>,
    limit: Option<u32>,
) -> Reply<Vec<Delivery>> {
    state.with_reader(move |s| s.deliveries(endpoint_id, channel, limit.unwrap_or(100))).await
}

#[tauri::command]
pub async fn delivery_replay(state: State<'_, AppState>, message_id: String) -> Reply<Delivery> {
    let d = state.with_store(move |s| s.replay_message(&message_id, time::now())).await?;
    state.deliverer()?.deliver_now(&d.message_id).await
}

/// Stores the SMTP password in the keychain (never sent back).
#[tauri::command]
pub async fn email_set_password(state: State<'_, AppState>, password: SecretText) -> Reply<bool> {
    let secrets = state.secrets()?;
    let password = password.expose_secret().to_string();
    let password = zeroize::Zeroizing::new(password);
    blocking(move || {
        if password.is_empty() {
            secrets.delete(SMTP_PASSWORD)?;
            return Ok(false);
        }
        secrets.save(SMTP_PASSWORD, &password).map(|()| true)
    })
    .await
}

/// Whether an SMTP password is stored (it is never shown).
#[tauri::command]
pub async fn email_password_set(state: State<'_, AppState>) -> Reply<bool> {
    let secrets = state.secrets()?;
    blocking(move || Ok(secrets.load(SMTP_PASSWORD)?.is_some())).await
}

/// "Send test e-mail": sent now with the saved settings; answers with the address it went to.
#[tauri::command]
pub async fn email_send_test(state: State<'_, AppState>, to: Option<String>) -> Reply<String> {
    let settings = state.with_reader(|s| s.settings()).await?;
    let secrets = state.secrets()?;
    let password = blocking(move || secrets.load(SMTP_PASSWORD)).await?;
    email::send_test(&settings, password.as_deref().map(|p| p.as_str()), to.as_deref()).await
}

/// "E-mail key to buyer": queued in the outbox, delivered now; the answer is its row.
#[tauri::command]
pub async fn license_send_key(state: State<'_, AppState>, id: i64, to: Option<String>) -> Reply<Delivery> {
    let message = state.with_store(move |s| email::queue_key(s, id, to.as_deref(), time::now())).await?;
    state.deliverer()?.deliver_now(&message).await
}

#[tauri::command]
pub async fn license_update_details(
    state: State<'_, AppState>,
    id: i64,
    buyer_email: String,
    note: String,
) -> Reply<License> {
    state.with_store(move |s| licensing::set_details(s, id, &buyer_email, &note, time::now())).await
}

/// A license made by hand (a sale outside Envato).
#[tauri::command]
pub async fn license_issue(
    state: State<'_, AppState>,
    product_id: i64,
    buyer: Option<String>,
    buyer_email: Option<String>,
    note: Option<String>,
) -> Reply<License> {
    let l = state
        .with_store(move |s| {
            licensing::issue(s, product_id, buyer.as_deref(), buyer_email.as_deref(), note.as_deref(), time::now())
        })
        .await?;
    Ok(l)
}

/// Messages waiting and failed, and the destinations now failing (Sync log, dashboard).
#[tauri::command]
pub async fn outbox_counts(state: State<'_, AppState>) -> Reply<OutboxCounts> {
    state.with_reader(|s| s.outbox_counts()).await
}

/// The backup folder and its automatic backups, newest first.
#[tauri::command]
pub async fn backups_list(state: State<'_, AppState>) -> Reply<BackupList> {
    state.runtime()?.backups().await
}

/// "Back up now": a consistent copy into the backup folder (a sync may run meanwhile).
#[tauri::command]
pub async fn backup_now(state: State<'_, AppState>) -> Reply<BackupFile> {
    state.runtime()?.backup_now().await
}

/// "Restore": the file checked, the current data kept aside, then replaced in one step.
#[tauri::command]
pub async fn backup_restore(state: State<'_, AppState>, path: String) -> Reply<RestoreReport> {
    state.runtime()?.restore(path.into()).await
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Reply<T> + Send + 'static) -> Reply<T> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|e| Error::internal(format!("A background task failed: {e}.")))?
}

// ---- Update delivery (shared/docs/updates-api.md) --------------------------------------------

#[tauri::command]
pub async fn product_updates_get(state: State<'_, AppState>, product_id: i64) -> Reply<Option<ProductUpdates>> {
    state.with_reader(move |s| s.product_updates(product_id)).await
}

/// Sets a product's update slug ("" clears it), kind and activation rule (null: unchanged).
#[tauri::command]
pub async fn product_updates_set(
    state: State<'_, AppState>,
    product_id: i64,
    slug: Option<String>,
    kind: Option<UpdateKind>,
    require_activation: Option<bool>,
) -> Reply<ProductUpdates> {
    state
        .with_store(move |s| s.set_product_updates(product_id, slug.as_deref(), kind, require_activation, time::now()))
        .await
}

#[tauri::command]
pub async fn releases_list(state: State<'_, AppState>, product_id: i64) -> Reply<Vec<Release>> {
    state.with_reader(move |s| s.releases(Some(product_id))).await
}

/// Adds a release from the zip at `path` (dropped on the window or chosen).
#[tauri::command]
pub async fn release_add(state: State<'_, AppState>, path: String, request: AddRelease) -> Reply<Added> {
    state
        .with_store_in_folder(move |s, dir| publish::add_release_file(s, dir, Path::new(&path), &request, time::now()))
        .await
}

#[tauri::command]
pub async fn release_publish(state: State<'_, AppState>, id: i64, rollout: Option<u32>) -> Reply<Release> {
    state.with_store(move |s| s.publish_release(id, rollout, time::now())).await
}

#[tauri::command]
pub async fn release_rollout(state: State<'_, AppState>, id: i64, percent: u32) -> Reply<Release> {
    state.with_store(move |s| s.set_rollout(id, percent, time::now())).await
}

#[tauri::command]
pub async fn release_yank(state: State<'_, AppState>, id: i64, reason: String) -> Reply<Release> {
    state.with_store(move |s| s.yank_release(id, &reason, time::now())).await
}

#[tauri::command]
pub async fn release_remove(state: State<'_, AppState>, id: i64) -> Reply<Release> {
    state.with_store_in_folder(move |s, dir| publish::remove_release(s, dir, id, time::now())).await
}

/// "Re-release as x.y.z": the release's package under a newer version (the rollback that reaches
/// sites already updated).
#[tauri::command]
pub async fn release_rerelease(state: State<'_, AppState>, id: i64, version: String, publish: bool) -> Reply<Added> {
    state.with_store_in_folder(move |s, dir| publish::rerelease(s, dir, id, &version, publish, time::now())).await
}

#[tauri::command]
pub async fn release_edit(state: State<'_, AppState>, id: i64, edit: ReleaseEdit) -> Reply<Release> {
    state.with_store(move |s| s.edit_release(id, &edit, time::now())).await
}

/// The code to paste into the product (PUC and EDD), with this server's address and key.
#[tauri::command]
pub async fn update_snippet(state: State<'_, AppState>, product_id: i64) -> Reply<Snippet> {
    state.update_snippet(product_id).await
}
