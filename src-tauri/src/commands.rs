//! IPC commands: each parses its arguments and runs one operation of the core on the
//! workspace in use (`AppState::call`: this computer's runtime, or the server's through its
//! admin API), returning the core's `Error` (serialised as `{code, message, field?}`) on failure.
//! No SQL or rules here, and no command knows which workspace it talks to.

use crate::state::AppState;
use keymanager::account::{EnvatoSaveResult, TokenStatus, ValidationReport, ValidationStep};
use keymanager::backup::{BackupFile, BackupList, RestoreReport};
use keymanager::dashboard::Dashboard;
use keymanager::envato::scopes;
use keymanager::licensing::{BulkResult, LicenseAction, LicenseDetail};
use keymanager::lookup::LookupResult;
use keymanager::model::{AppInfo, License, NewProduct, Product};
use keymanager::refund_watch::RecheckProgress;
use keymanager::server::ServerStatus;
use keymanager::settings::Settings;
use keymanager::store::ReleaseEdit;
use keymanager::store::{
    Channel, Delivery, LicenseFilter, LicensePage, LookupHistoryEntry, OutboxCounts, ReviewItem, SyncRun,
    WebhookEndpoint,
};
use keymanager::sync::worker::SyncStatus;
use keymanager::token::SecretText;
use keymanager::updates::publish::{AddRelease, Added};
use keymanager::updates::snippet::Snippet;
use keymanager::updates::{ProductUpdates, Release, UpdateKind};
use keymanager::webhooks::NewEndpoint;
use keymanager::workspace::ops::*;
use keymanager::workspace::WorkspaceInfo;
use keymanager::{time, Error, ErrorCode};
use secrecy::ExposeSecret;
use std::collections::BTreeMap;
use tauri::{AppHandle, Emitter, Manager, State};

type Reply<T> = Result<T, Error>;

#[tauri::command]
pub async fn app_info(state: State<'_, AppState>) -> Reply<AppInfo> {
    state.call(AppInfoGet {}).await
}

#[tauri::command]
pub async fn settings_get(state: State<'_, AppState>) -> Reply<Settings> {
    state.call(SettingsGet {}).await
}

#[tauri::command]
pub async fn settings_update(state: State<'_, AppState>, changes: BTreeMap<String, String>) -> Reply<Settings> {
    state.call(SettingsUpdate { changes }).await
}

#[tauri::command]
pub async fn products_list(state: State<'_, AppState>) -> Reply<Vec<Product>> {
    state.call(ProductsList {}).await
}

#[tauri::command]
pub async fn product_create(state: State<'_, AppState>, product: NewProduct) -> Reply<Product> {
    state.call(ProductCreate { product }).await
}

/// Each validation step is sent to the window as it starts and completes.
fn emit_step(app: &AppHandle) -> impl FnMut(&ValidationStep) + Send + '_ {
    move |step| {
        let _ = app.emit(VALIDATION_STEP_EVENT, step);
    }
}

pub const VALIDATION_STEP_EVENT: &str = "token-validation-step";

/// The typed token, if any (the IPC copy is a SecretString: wiped when dropped).
fn typed(token: Option<SecretText>) -> Option<String> {
    token.map(|t| t.expose_secret().to_string()).filter(|t| !t.trim().is_empty())
}

#[tauri::command]
pub async fn token_status(state: State<'_, AppState>) -> Reply<TokenStatus> {
    state.call(TokenStatusGet {}).await
}

/// Asks a locked keyring to unlock (the desktop shows its own prompt), then the token status.
#[tauri::command]
pub async fn keychain_unlock(state: State<'_, AppState>) -> Reply<TokenStatus> {
    state.call(KeychainUnlock {}).await
}

/// Validates the typed token (nothing is saved), or, with none, re-checks the stored one.
#[tauri::command]
pub async fn token_validate(
    app: AppHandle,
    state: State<'_, AppState>,
    token: Option<SecretText>,
) -> Reply<ValidationReport> {
    state.ws()?.token_validate(typed(token), &mut emit_step(&app)).await
}

/// Save Settings on the Envato Integration tab: the new token (only if it validates) and the
/// Auto-Create Products toggle, together. On a server, the token travels there once.
#[tauri::command]
pub async fn envato_settings_save(
    app: AppHandle,
    state: State<'_, AppState>,
    token: Option<SecretText>,
    auto_create_products: bool,
) -> Reply<EnvatoSaveResult> {
    state.ws()?.envato_save(typed(token), auto_create_products, &mut emit_step(&app)).await
}

#[tauri::command]
pub async fn token_remove(state: State<'_, AppState>) -> Reply<TokenStatus> {
    state.call(TokenRemove {}).await
}

/// Opens Envato's create-token page, with KeyManager's permissions ticked, in the browser.
/// The address is fixed here: the webview cannot ask to open anything else.
#[tauri::command]
pub async fn open_create_token_page() -> Reply<()> {
    open::that_detached(scopes::CREATE_TOKEN_URL).map_err(|e| Error::internal(format!("Cannot open the browser: {e}.")))
}

#[tauri::command]
pub async fn sync_now(state: State<'_, AppState>) -> Reply<()> {
    state.call(SyncNow {}).await
}

/// Starts the refund watch (one product's codes, or all) in the background; progress through
/// `recheck_status` and the `recheck-progress` event. One at a time.
#[tauri::command]
pub async fn recheck_start(state: State<'_, AppState>, product_id: Option<i64>) -> Reply<RecheckProgress> {
    state.call(RecheckStart { product_id }).await
}

#[tauri::command]
pub async fn recheck_status(state: State<'_, AppState>) -> Reply<RecheckProgress> {
    state.call(RecheckStatus {}).await
}

/// Stops the refund watch after the code being checked.
#[tauri::command]
pub async fn recheck_cancel(state: State<'_, AppState>) -> Reply<()> {
    state.call(RecheckCancel {}).await
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
    let offered = BTreeMap::from([("autostart_offered".to_string(), "true".to_string())]);
    state.call(SettingsUpdate { changes: offered }).await?;
    launcher.is_enabled().map_err(|e| Error::internal(format!("Cannot read the login items: {e}.")))
}

/// Cancels the running sync (it stops after the current page; the next run completes it).
#[tauri::command]
pub async fn sync_cancel(state: State<'_, AppState>) -> Reply<SyncStatus> {
    state.call(SyncCancel {}).await
}

#[tauri::command]
pub async fn sync_status(state: State<'_, AppState>) -> Reply<SyncStatus> {
    state.call(SyncStatusGet {}).await
}

#[tauri::command]
pub async fn sync_set_paused(state: State<'_, AppState>, paused: bool) -> Reply<SyncStatus> {
    state.call(SyncSetPaused { paused }).await
}

#[tauri::command]
pub async fn sync_runs(state: State<'_, AppState>, limit: Option<u32>) -> Reply<Vec<SyncRun>> {
    state.call(SyncRuns { limit }).await
}

#[tauri::command]
pub async fn review_queue(state: State<'_, AppState>) -> Reply<Vec<ReviewItem>> {
    state.call(ReviewQueue {}).await
}

#[tauri::command]
pub async fn review_create_product(state: State<'_, AppState>, item_id: i64) -> Reply<Product> {
    state.call(ReviewCreateProduct { item_id }).await
}

#[tauri::command]
pub async fn review_map(state: State<'_, AppState>, item_id: i64, product_id: i64) -> Reply<Product> {
    state.call(ReviewMap { item_id, product_id }).await
}

pub const LOOKUP_REFRESHED_EVENT: &str = "lookup-refreshed";

/// Looks a purchase code up. Data older than six hours is answered at once and refreshed in
/// the background; the fresh answer arrives as a `lookup-refreshed` event.
#[tauri::command]
pub async fn lookup(app: AppHandle, state: State<'_, AppState>, code: String) -> Reply<LookupResult> {
    state.ws()?.lookup(code, move |fresh| drop(app.emit(LOOKUP_REFRESHED_EVENT, fresh))).await
}

#[tauri::command]
pub async fn lookup_history(state: State<'_, AppState>) -> Reply<Vec<LookupHistoryEntry>> {
    state.call(LookupHistory {}).await
}

#[tauri::command]
pub async fn licenses_page(state: State<'_, AppState>, filter: LicenseFilter) -> Reply<LicensePage> {
    state.call(LicensesPage { filter }).await
}

#[tauri::command]
pub async fn license_detail(state: State<'_, AppState>, id: i64) -> Reply<LicenseDetail> {
    state.call(LicenseDetailGet { id }).await
}

#[tauri::command]
pub async fn license_change_status(
    state: State<'_, AppState>,
    id: i64,
    action: LicenseAction,
    reason: String,
) -> Reply<License> {
    state.call(LicenseChangeStatus { id, action, reason }).await
}

/// Bulk suspend/revoke/reactivate of a selection, with one reason.
#[tauri::command]
pub async fn licenses_change_status(
    state: State<'_, AppState>,
    ids: Vec<i64>,
    action: LicenseAction,
    reason: String,
) -> Reply<BulkResult> {
    state.call(LicensesChangeStatus { ids, action, reason }).await
}

#[tauri::command]
pub async fn license_regenerate_key(state: State<'_, AppState>, id: i64, reason: String) -> Reply<License> {
    state.call(LicenseRegenerateKey { id, reason }).await
}

#[tauri::command]
pub async fn license_free_slot(
    state: State<'_, AppState>,
    license_id: i64,
    activation_id: i64,
) -> Reply<LicenseDetail> {
    state.call(LicenseFreeSlot { license_id, activation_id }).await
}

#[tauri::command]
pub async fn marketplaces(state: State<'_, AppState>) -> Reply<Vec<String>> {
    state.call(Marketplaces {}).await
}

/// Writes the current filter's licenses (of the workspace in use) as CSV into this computer's
/// Downloads folder; returns the path.
#[tauri::command]
pub async fn licenses_export(state: State<'_, AppState>, filter: LicenseFilter) -> Reply<String> {
    let dir = directories::UserDirs::new()
        .and_then(|u| u.download_dir().map(|d| d.to_path_buf()))
        .or_else(|| state.data_dir.clone())
        .ok_or_else(|| Error::new(ErrorCode::StoreIo, "There is no Downloads folder to save the export in."))?;
    let csv = state.call(LicensesCsv { filter }).await?;
    keymanager::export::save_csv_text(&dir, &csv, time::now())
}

#[tauri::command]
pub async fn product_update(state: State<'_, AppState>, id: i64, product: NewProduct) -> Reply<Product> {
    state.call(ProductUpdate { id, product }).await
}

/// Merges product `from` into `into` (its Envato items and licenses move; `from` is removed).
#[tauri::command]
pub async fn product_merge(state: State<'_, AppState>, from: i64, into: i64) -> Reply<Product> {
    state.call(ProductMerge { from, into }).await
}

/// "Mark reviewed" on an auto-created product.
#[tauri::command]
pub async fn product_mark_reviewed(state: State<'_, AppState>, id: i64) -> Reply<Product> {
    state.call(ProductMarkReviewed { id }).await
}

#[tauri::command]
pub async fn dashboard(state: State<'_, AppState>) -> Reply<Dashboard> {
    state.call(DashboardGet {}).await
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
    state.call(SitesClassify { url }).await
}

/// Settings > Licensing server: what runs, where, what it served, its last failures.
#[tauri::command]
pub async fn server_status(state: State<'_, AppState>) -> Reply<ServerStatus> {
    state.server_status().await
}

/// Switches the app's licensing server on or off (saved), or restarts it with new settings.
#[tauri::command]
pub async fn server_set_enabled(state: State<'_, AppState>, enabled: bool) -> Reply<ServerStatus> {
    state.runtime()?;
    let changes = BTreeMap::from([("server_enabled".to_string(), enabled.to_string())]);
    state.call(SettingsUpdate { changes }).await?;
    state.apply_server_setting().await
}

// ---- Webhooks and e-mail (shared/docs/webhooks-email.md) ------------------------------------

#[tauri::command]
pub async fn webhooks_list(state: State<'_, AppState>) -> Reply<Vec<WebhookEndpoint>> {
    state.call(WebhooksList {}).await
}

/// Adds an endpoint; the answer carries its secret, the only time it is shown in full.
#[tauri::command]
pub async fn webhook_add(state: State<'_, AppState>, url: String, events: String) -> Reply<NewEndpoint> {
    state.call(WebhookAdd { url, events }).await
}

#[tauri::command]
pub async fn webhook_update(
    state: State<'_, AppState>,
    id: i64,
    events: Option<String>,
    enabled: Option<bool>,
) -> Reply<WebhookEndpoint> {
    state.call(WebhookUpdate { id, events, enabled }).await
}

#[tauri::command]
pub async fn webhook_remove(state: State<'_, AppState>, id: i64) -> Reply<()> {
    state.call(WebhookRemove { id }).await
}

#[tauri::command]
pub async fn webhook_rotate_secret(state: State<'_, AppState>, id: i64) -> Reply<NewEndpoint> {
    state.call(WebhookRotateSecret { id }).await
}

/// Queues a `webhook.test` and delivers it now; the answer is its row in the log.
#[tauri::command]
pub async fn webhook_test(state: State<'_, AppState>, id: i64) -> Reply<Delivery> {
    state.call(WebhookTest { id }).await
}

#[tauri::command]
pub async fn deliveries(
    state: State<'_, AppState>,
    endpoint_id: Option<i64>,
    channel: Option<Channel>,
    limit: Option<u32>,
) -> Reply<Vec<Delivery>> {
    state.call(Deliveries { endpoint_id, channel, limit }).await
}

#[tauri::command]
pub async fn delivery_replay(state: State<'_, AppState>, message_id: String) -> Reply<Delivery> {
    state.call(DeliveryReplay { message_id }).await
}

/// Stores the SMTP password in the keychain (or the server's secrets folder); never sent back.
#[tauri::command]
pub async fn email_set_password(state: State<'_, AppState>, password: SecretText) -> Reply<bool> {
    state.call(EmailSetPassword { password: password.expose_secret().to_string() }).await
}

/// Whether an SMTP password is stored (it is never shown).
#[tauri::command]
pub async fn email_password_set(state: State<'_, AppState>) -> Reply<bool> {
    state.call(EmailPasswordSet {}).await
}

/// "Send test e-mail": sent now with the saved settings; answers with the address it went to.
#[tauri::command]
pub async fn email_send_test(state: State<'_, AppState>, to: Option<String>) -> Reply<String> {
    state.call(EmailSendTest { to }).await
}

/// "E-mail key to buyer": queued in the outbox, delivered now; the answer is its row.
#[tauri::command]
pub async fn license_send_key(state: State<'_, AppState>, id: i64, to: Option<String>) -> Reply<Delivery> {
    state.call(LicenseSendKey { id, to }).await
}

#[tauri::command]
pub async fn license_update_details(
    state: State<'_, AppState>,
    id: i64,
    buyer_email: String,
    note: String,
) -> Reply<License> {
    state.call(LicenseUpdateDetails { id, buyer_email, note }).await
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
    state.call(LicenseIssue { product_id, buyer, buyer_email, note }).await
}

/// Messages waiting and failed, and the destinations now failing (Sync log, dashboard).
#[tauri::command]
pub async fn outbox_counts(state: State<'_, AppState>) -> Reply<OutboxCounts> {
    state.call(OutboxCountsGet {}).await
}

/// The backup folder and its automatic backups, newest first.
#[tauri::command]
pub async fn backups_list(state: State<'_, AppState>) -> Reply<BackupList> {
    state.call(BackupsList {}).await
}

/// "Back up now": a consistent copy into the backup folder (a sync may run meanwhile).
#[tauri::command]
pub async fn backup_now(state: State<'_, AppState>) -> Reply<BackupFile> {
    state.call(BackupNow {}).await
}

/// "Restore": the file checked, the current data kept aside, then replaced in one step.
#[tauri::command]
pub async fn backup_restore(state: State<'_, AppState>, path: String) -> Reply<RestoreReport> {
    state.call(BackupRestore { path }).await
}

// ---- Update delivery (shared/docs/updates-api.md) --------------------------------------------

#[tauri::command]
pub async fn product_updates_get(state: State<'_, AppState>, product_id: i64) -> Reply<Option<ProductUpdates>> {
    state.call(ProductUpdatesGet { product_id }).await
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
    state.call(ProductUpdatesSet { product_id, slug, kind, require_activation }).await
}

#[tauri::command]
pub async fn releases_list(state: State<'_, AppState>, product_id: i64) -> Reply<Vec<Release>> {
    state.call(ReleasesList { product_id }).await
}

/// Adds a release from the zip at `path` (dropped on the window or chosen); a server receives
/// the file.
#[tauri::command]
pub async fn release_add(state: State<'_, AppState>, path: String, request: AddRelease) -> Reply<Added> {
    state.ws()?.release_add(path.into(), request).await
}

#[tauri::command]
pub async fn release_publish(state: State<'_, AppState>, id: i64, rollout: Option<u32>) -> Reply<Release> {
    state.call(ReleasePublish { id, rollout }).await
}

#[tauri::command]
pub async fn release_rollout(state: State<'_, AppState>, id: i64, percent: u32) -> Reply<Release> {
    state.call(ReleaseRollout { id, percent }).await
}

#[tauri::command]
pub async fn release_yank(state: State<'_, AppState>, id: i64, reason: String) -> Reply<Release> {
    state.call(ReleaseYank { id, reason }).await
}

#[tauri::command]
pub async fn release_remove(state: State<'_, AppState>, id: i64) -> Reply<Release> {
    state.call(ReleaseRemove { id }).await
}

/// "Re-release as x.y.z": the release's package under a newer version (the rollback that reaches
/// sites already updated).
#[tauri::command]
pub async fn release_rerelease(state: State<'_, AppState>, id: i64, version: String, publish: bool) -> Reply<Added> {
    state.call(ReleaseRerelease { id, version, publish }).await
}

#[tauri::command]
pub async fn release_edit(state: State<'_, AppState>, id: i64, edit: ReleaseEdit) -> Reply<Release> {
    state.call(ReleaseEditOp { id, edit }).await
}

/// The code to paste into the product (PUC and EDD), with the server's address and key.
#[tauri::command]
pub async fn update_snippet(state: State<'_, AppState>, product_id: i64) -> Reply<Snippet> {
    state.call(UpdateSnippet { product_id }).await
}

// ---- Workspaces (issue 23) -------------------------------------------------------------------

pub const WORKSPACE_EVENT: &str = "workspace-changed";

/// Tells the window the workspace, its link and its kept changes (the banner follows it).
pub fn emit_workspace(app: &AppHandle) {
    if let Ok(info) = app.state::<AppState>().info() {
        let _ = app.emit(WORKSPACE_EVENT, info);
    }
}

/// The workspaces, the one in use, whether its server answers, and the changes kept meanwhile.
#[tauri::command]
pub async fn workspace_info(state: State<'_, AppState>) -> Reply<WorkspaceInfo> {
    state.info()
}

/// Switches the window to a workspace (None: this computer) and follows its events.
#[tauri::command]
pub async fn workspace_use(app: AppHandle, state: State<'_, AppState>, name: Option<String>) -> Reply<WorkspaceInfo> {
    state.switch(name).await?;
    crate::follow::attach(&app);
    state.info()
}

/// "Connect to a server": pairs with the code from `keymanager admin pair` (the device token goes
/// to the keychain, the server key is pinned), then works on that server.
#[tauri::command]
pub async fn workspace_connect(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
    url: String,
    code: String,
    fingerprint: Option<String>,
) -> Reply<WorkspaceInfo> {
    let dir = state.data_folder()?;
    let device = hostname_or_default();
    let fingerprint = fingerprint.filter(|f| !f.trim().is_empty());
    let remote =
        keymanager::remote::add(&dir, &name, &url, code.trim(), &device, fingerprint.as_deref(), time::now()).await?;
    state.switch(Some(remote.name)).await?;
    crate::follow::attach(&app);
    state.info()
}

/// Forgets a server here (its entry and device token); the window goes back to this computer
/// if it was in use.
#[tauri::command]
pub async fn workspace_forget(app: AppHandle, state: State<'_, AppState>, name: String) -> Reply<WorkspaceInfo> {
    let dir = state.data_folder()?;
    let current = keymanager::remote::Remotes::load(&dir)?.current;
    if current.as_deref() == Some(name.as_str()) {
        state.switch(None).await?;
        crate::follow::attach(&app);
    }
    keymanager::remote::remove(&dir, &name)?;
    state.info()
}

/// Sends a change kept while the server could not be reached; answers the workspace's state.
#[tauri::command]
pub async fn unsent_retry(app: AppHandle, state: State<'_, AppState>, id: String) -> Reply<WorkspaceInfo> {
    let ws = state.ws()?;
    let remote = ws.remote().ok_or_else(|| Error::invalid_input("This computer keeps no unsent changes."))?;
    let sent = remote.retry(&id).await;
    emit_workspace(&app);
    sent?;
    state.info()
}

/// Drops a kept change (the seller chose to).
#[tauri::command]
pub async fn unsent_discard(app: AppHandle, state: State<'_, AppState>, id: String) -> Reply<WorkspaceInfo> {
    let ws = state.ws()?;
    let remote = ws.remote().ok_or_else(|| Error::invalid_input("This computer keeps no unsent changes."))?;
    remote.unsent.discard(&id)?;
    emit_workspace(&app);
    state.info()
}

/// "Move this computer's data to a server": sends a consistent backup of the local database to
/// the paired server `name` (refused when it holds licenses, unless `replace`), pauses this
/// computer's syncing, keeps the local data as an archive, and works on the server from now on.
#[tauri::command]
pub async fn workspace_move(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
    replace: bool,
) -> Reply<keymanager::workspace::pull::MoveReport> {
    let dir = state.data_folder()?;
    let rt = state.runtime()?;
    let remote = keymanager::remote::Remotes::load(&dir)?.get(&name)?.clone();
    let client = keymanager::remote::RemoteClient::for_remote(&dir, &remote)?;
    let report = keymanager::workspace::pull::move_to_server(&client, rt.store(), replace).await?;
    keymanager::workspace::pull::archive_local(rt.store(), &name, time::now()).await?;
    drop(rt);
    state.switch(Some(name)).await?;
    crate::follow::attach(&app);
    Ok(report)
}

/// Pulls a consistent backup of the server's database into this computer's
/// `server-backups/NAME` folder (done daily by itself too).
#[tauri::command]
pub async fn workspace_pull_backup(state: State<'_, AppState>) -> Reply<BackupFile> {
    let ws = state.ws()?;
    let remote = ws
        .remote()
        .ok_or_else(|| Error::invalid_input("The window works on this computer: there is no server to pull from."))?;
    keymanager::workspace::pull::pull_daily(&remote.client, &state.data_folder()?, &remote.remote.name, time::now())
        .await
}

/// This computer's name, for the server's device list.
fn hostname_or_default() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .map(|h| format!("KeyManager on {h}"))
        .unwrap_or_else(|| "KeyManager desktop".to_string())
}
