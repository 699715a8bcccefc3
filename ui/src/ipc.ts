// The one place the UI reaches Rust. Nothing else imports @tauri-apps/api.
// Every command's failure arrives as {code, message, field?}; callers branch on `code`.
import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import { getCurrentWebview } from "@tauri-apps/api/webview";
import type { DbChanged } from "./bindings/DbChanged";
import type { AppInfo } from "./bindings/AppInfo";
import type { EnvatoSaveResult } from "./bindings/EnvatoSaveResult";
import type { TokenStatus } from "./bindings/TokenStatus";
import type { SyncStatus } from "./bindings/SyncStatus";
import type { SyncRun } from "./bindings/SyncRun";
import type { ReviewItem } from "./bindings/ReviewItem";
import type { LookupResult } from "./bindings/LookupResult";
import type { LookupHistoryEntry } from "./bindings/LookupHistoryEntry";
import type { LicenseFilter } from "./bindings/LicenseFilter";
import type { LicensePage } from "./bindings/LicensePage";
import type { LicenseDetail } from "./bindings/LicenseDetail";
import type { LicenseAction } from "./bindings/LicenseAction";
import type { Dashboard } from "./bindings/Dashboard";
import type { ValidationReport } from "./bindings/ValidationReport";
import type { ValidationStep } from "./bindings/ValidationStep";
import type { ErrorCode } from "./bindings/ErrorCode";
import type { License } from "./bindings/License";
import type { NewProduct } from "./bindings/NewProduct";
import type { Product } from "./bindings/Product";
import type { Settings } from "./bindings/Settings";
import type { Classification } from "./bindings/Classification";
import type { ServerStatus } from "./bindings/ServerStatus";
import type { WebhookEndpoint } from "./bindings/WebhookEndpoint";
import type { NewEndpoint } from "./bindings/NewEndpoint";
import type { Delivery } from "./bindings/Delivery";
import type { Channel } from "./bindings/Channel";
import type { OutboxCounts } from "./bindings/OutboxCounts";
import type { BackupFile } from "./bindings/BackupFile";
import type { BulkResult } from "./bindings/BulkResult";
import type { RecheckProgress } from "./bindings/RecheckProgress";
import type { BackupList } from "./bindings/BackupList";
import type { RestoreReport } from "./bindings/RestoreReport";
import type { ProductUpdates } from "./bindings/ProductUpdates";
import type { UpdateKind } from "./bindings/UpdateKind";
import type { Release } from "./bindings/Release";
import type { ReleaseEdit } from "./bindings/ReleaseEdit";
import type { AddRelease } from "./bindings/AddRelease";
import type { Added } from "./bindings/Added";
import type { Snippet } from "./bindings/Snippet";
import type { WorkspaceInfo } from "./bindings/WorkspaceInfo";
import type { MoveReport } from "./bindings/MoveReport";

export class IpcError extends Error {
  readonly code: ErrorCode;
  readonly field?: string;

  constructor(code: ErrorCode, message: string, field?: string) {
    super(message);
    this.name = "IpcError";
    this.code = code;
    this.field = field;
  }
}

function isErrorShape(e: unknown): e is { code: ErrorCode; message: string; field?: string } {
  return typeof e === "object" && e !== null && typeof (e as { code?: unknown }).code === "string" &&
    typeof (e as { message?: unknown }).message === "string";
}

export function toIpcError(e: unknown): IpcError {
  if (e instanceof IpcError) return e;
  if (isErrorShape(e)) return new IpcError(e.code, e.message, e.field);
  // Tauri itself rejects with a plain string when a command is missing or its arguments do not parse.
  return new IpcError("internal", typeof e === "string" ? e : String((e as Error)?.message ?? e));
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    throw toIpcError(e);
  }
}

export type SettingKey = keyof Settings;

export const ipc = {
  appInfo: () => call<AppInfo>("app_info"),
  settingsGet: () => call<Settings>("settings_get"),
  settingsUpdate: (changes: Partial<Record<SettingKey, string>>) => call<Settings>("settings_update", { changes }),
  productsList: () => call<Product[]>("products_list"),
  productCreate: (product: NewProduct) => call<Product>("product_create", { product }),
  tokenStatus: () => call<TokenStatus>("token_status"),
  /** Validates the typed token (saves nothing), or with null re-checks the stored one. */
  tokenValidate: (token: string | null) => call<ValidationReport>("token_validate", { token }),
  /** Saves a new token (only if it validates) and the Auto-Create toggle together. */
  envatoSettingsSave: (token: string | null, autoCreateProducts: boolean) =>
    call<EnvatoSaveResult>("envato_settings_save", { token, autoCreateProducts }),
  tokenRemove: () => call<TokenStatus>("token_remove"),
  openCreateTokenPage: () => call<void>("open_create_token_page"),
  syncNow: () => call<void>("sync_now"),
  syncStatus: () => call<SyncStatus>("sync_status"),
  /** Whether KeyManager starts at login (the OS's login items). */
  autostartGet: () => call<boolean>("autostart_get"),
  /** Switches starting at login; answers the state after (and records that it was offered). */
  autostartSet: (enabled: boolean) => call<boolean>("autostart_set", { enabled }),
  /** Starts the refund watch (a product's codes, or all); progress via recheckStatus. */
  recheckStart: (productId: number | null) => call<RecheckProgress>("recheck_start", { productId }),
  recheckStatus: () => call<RecheckProgress>("recheck_status"),
  recheckCancel: () => call<void>("recheck_cancel"),
  /** Cancels the running sync: it stops after the current page; the next sync completes it. */
  syncCancel: () => call<SyncStatus>("sync_cancel"),
  syncSetPaused: (paused: boolean) => call<SyncStatus>("sync_set_paused", { paused }),
  syncRuns: (limit = 50) => call<SyncRun[]>("sync_runs", { limit }),
  reviewQueue: () => call<ReviewItem[]>("review_queue"),
  reviewCreateProduct: (itemId: number) => call<Product>("review_create_product", { itemId }),
  reviewMap: (itemId: number, productId: number) => call<Product>("review_map", { itemId, productId }),
  lookup: (code: string) => call<LookupResult>("lookup", { code }),
  lookupHistory: () => call<LookupHistoryEntry[]>("lookup_history"),
  /** A refreshed answer for a lookup whose Envato data was older than six hours. */
  onLookupRefreshed: (cb: (r: LookupResult) => void) => listen<LookupResult>("lookup-refreshed", (e) => cb(e.payload)),
  licensesPage: (filter: LicenseFilter) => call<LicensePage>("licenses_page", { filter }),
  licenseDetail: (id: number) => call<LicenseDetail>("license_detail", { id }),
  licenseChangeStatus: (id: number, action: LicenseAction, reason: string) => call<License>("license_change_status", { id, action, reason }),
  /** Bulk suspend/revoke/reactivate with one reason; those that cannot change are reported. */
  licensesChangeStatus: (ids: number[], action: LicenseAction, reason: string) =>
    call<BulkResult>("licenses_change_status", { ids, action, reason }),
  licenseRegenerateKey: (id: number, reason: string) => call<License>("license_regenerate_key", { id, reason }),
  licenseFreeSlot: (licenseId: number, activationId: number) => call<LicenseDetail>("license_free_slot", { licenseId, activationId }),
  marketplaces: () => call<string[]>("marketplaces"),
  licensesExport: (filter: LicenseFilter) => call<string>("licenses_export", { filter }),
  productUpdate: (id: number, product: NewProduct) => call<Product>("product_update", { id, product }),
  dashboard: () => call<Dashboard>("dashboard"),
  serverStatus: () => call<ServerStatus>("server_status"),
  /** How the saved host patterns classify a site (production, staging, development, local) and why. */
  sitesClassify: (url: string) => call<Classification>("sites_classify", { url }),
  /** Asks a locked keyring to unlock (the desktop's own prompt), then the token status. */
  keychainUnlock: () => call<TokenStatus>("keychain_unlock"),
  /** Switches the licensing server on or off (saved); on again restarts it with the current settings. */
  serverSetEnabled: (enabled: boolean) => call<ServerStatus>("server_set_enabled", { enabled }),
  /** Merges `from` into `into`: its Envato items and licenses move, `from` is removed. */
  productMerge: (from: number, into: number) => call<Product>("product_merge", { from, into }),
  productMarkReviewed: (id: number) => call<Product>("product_mark_reviewed", { id }),
  backupsList: () => call<BackupList>("backups_list"),
  backupNow: () => call<BackupFile>("backup_now"),
  /** Replaces the data with a backup (checked first; the current data is kept aside). */
  backupRestore: (path: string) => call<RestoreReport>("backup_restore", { path }),
  outboxCounts: () => call<OutboxCounts>("outbox_counts"),
  webhooksList: () => call<WebhookEndpoint[]>("webhooks_list"),
  /** Adds an endpoint; the answer carries its secret, shown this once. `events`: "" for all, else "a,b". */
  webhookAdd: (url: string, events: string) => call<NewEndpoint>("webhook_add", { url, events }),
  webhookUpdate: (id: number, change: { events?: string; enabled?: boolean }) =>
    call<WebhookEndpoint>("webhook_update", { id, events: change.events ?? null, enabled: change.enabled ?? null }),
  webhookRemove: (id: number) => call<void>("webhook_remove", { id }),
  webhookRotateSecret: (id: number) => call<NewEndpoint>("webhook_rotate_secret", { id }),
  /** Sends `webhook.test` now; answers with its row in the delivery log. */
  webhookTest: (id: number) => call<Delivery>("webhook_test", { id }),
  deliveries: (endpointId: number | null, channel: Channel | null, limit = 100) =>
    call<Delivery[]>("deliveries", { endpointId, channel, limit }),
  deliveryReplay: (messageId: string) => call<Delivery>("delivery_replay", { messageId }),
  /** Stores the SMTP password in the keychain (empty removes it); answers whether one is stored. */
  emailSetPassword: (password: string) => call<boolean>("email_set_password", { password }),
  emailPasswordSet: () => call<boolean>("email_password_set"),
  /** Sends a test e-mail now; answers with the address it went to. */
  emailSendTest: (to: string | null) => call<string>("email_send_test", { to }),
  /** "E-mail key to buyer" (to the license's buyer e-mail, or `to`). */
  licenseSendKey: (id: number, to: string | null) => call<Delivery>("license_send_key", { id, to }),
  licenseUpdateDetails: (id: number, buyerEmail: string, note: string) =>
    call<License>("license_update_details", { id, buyerEmail, note }),
  licenseIssue: (productId: number, buyer: string | null, buyerEmail: string | null, note: string | null) =>
    call<License>("license_issue", { productId, buyer, buyerEmail, note }),
  productUpdatesGet: (productId: number) => call<ProductUpdates | null>("product_updates_get", { productId }),
  /** Slug ("" clears it), kind and activation rule; null leaves one as it is. */
  productUpdatesSet: (productId: number, change: { slug?: string; kind?: UpdateKind; requireActivation?: boolean }) =>
    call<ProductUpdates>("product_updates_set", { productId, slug: change.slug ?? null, kind: change.kind ?? null, requireActivation: change.requireActivation ?? null }),
  releasesList: (productId: number) => call<Release[]>("releases_list", { productId }),
  /** Reads and records the zip at `path` as a release (a draft unless `request.publish`). */
  releaseAdd: (path: string, request: AddRelease) => call<Added>("release_add", { path, request }),
  releasePublish: (id: number, rollout: number | null) => call<Release>("release_publish", { id, rollout }),
  releaseRollout: (id: number, percent: number) => call<Release>("release_rollout", { id, percent }),
  releaseYank: (id: number, reason: string) => call<Release>("release_yank", { id, reason }),
  releaseRemove: (id: number) => call<Release>("release_remove", { id }),
  /** The release's package as a newer version (the rollback that reaches sites already updated). */
  releaseRerelease: (id: number, version: string, publish: boolean) => call<Added>("release_rerelease", { id, version, publish }),
  releaseEdit: (id: number, edit: ReleaseEdit) => call<Release>("release_edit", { id, edit }),
  updateSnippet: (productId: number) => call<Snippet>("update_snippet", { productId }),
  /** Files dropped on the window (their paths), and whether something is being dragged over it. */
  onFileDrop: async (cb: (event: { kind: "over" | "drop" | "leave"; paths: string[] }) => void) =>
    getCurrentWebview().onDragDropEvent((e) => {
      const p = e.payload;
      if (p.type === "drop") cb({ kind: "drop", paths: p.paths });
      else if (p.type === "leave") cb({ kind: "leave", paths: [] });
      else cb({ kind: "over", paths: [] });
    }),
  /** Tells Rust the first frame is on screen (the time since the window was asked for is logged). */
  uiReady: (page: string) => call<void>("ui_ready", { page }),
  /** Closes the window as its close button does (Ctrl+W); KeyManager keeps running in the tray.
   * `discard`: drop unsaved edits instead of asking. */
  windowClose: (discard = false) => call<void>("window_close", { discard }),
  /** Whether the window holds unsaved edits: closing it then asks first (onCloseBlocked). */
  uiSetUnsaved: (unsaved: boolean) => call<void>("ui_set_unsaved", { unsaved }),
  /** The seller closed the window while edits were unsaved; the window stays until they choose. */
  onCloseBlocked: (cb: (payload: null) => void) => listen<null>("close-blocked", (e) => cb(e.payload)),
  /** Every change of the background sync's status (progress, last run, paused…). */
  onSyncStatus: (cb: (status: SyncStatus) => void) => listen<SyncStatus>("sync-status", (e) => cb(e.payload)),
  /** Which tables commits changed (gathered over 150 ms), so the window refetches what reads them. */
  /** The refund watch's progress, as it changes. */
  onRecheckProgress: (cb: (p: RecheckProgress) => void) =>
    listen<RecheckProgress>("recheck-progress", (e) => cb(e.payload)),
  onDbChanged: (cb: (changed: DbChanged) => void) => listen<DbChanged>("db-changed", (e) => cb(e.payload)),
  /** The workspace in use, whether its server answers, and the changes kept meanwhile. */
  workspaceInfo: () => call<WorkspaceInfo>("workspace_info"),
  /** Works on the server `name` from now on (null: this computer). */
  workspaceUse: (name: string | null) => call<WorkspaceInfo>("workspace_use", { name }),
  /** Pairs with a server (the code from `keymanager admin pair`) and works on it. */
  workspaceConnect: (name: string, url: string, code: string, fingerprint: string | null) =>
    call<WorkspaceInfo>("workspace_connect", { name, url, code, fingerprint }),
  workspaceForget: (name: string) => call<WorkspaceInfo>("workspace_forget", { name }),
  /** Sends a change kept while the server could not be reached. */
  unsentRetry: (id: string) => call<WorkspaceInfo>("unsent_retry", { id }),
  unsentDiscard: (id: string) => call<WorkspaceInfo>("unsent_discard", { id }),
  /** Sends this computer's data to the server `name` and works there (replace: the server's licenses go aside). */
  workspaceMove: (name: string, replace: boolean) => call<MoveReport>("workspace_move", { name, replace }),
  /** Pulls a consistent backup of the server's database to this computer. */
  workspacePullBackup: () => call<BackupFile>("workspace_pull_backup"),
  onWorkspaceChanged: (cb: (info: WorkspaceInfo) => void) => listen<WorkspaceInfo>("workspace-changed", (e) => cb(e.payload)),
  /** Each validation step as it starts and completes. Resolves to an unsubscribe function. */
  onValidationStep: (cb: (step: ValidationStep) => void) => listen<ValidationStep>("token-validation-step", (e) => cb(e.payload)),
};
