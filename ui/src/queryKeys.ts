// Every TanStack Query key of the UI, in one place: a page that reads data and the code that
// refreshes it after a change name the same key, and a key nothing reads is not invalidated.
import type { LicenseFilter } from "./bindings/LicenseFilter";
import type { DbChanged } from "./bindings/DbChanged";

export const keys = {
  appInfo: ["app_info"],
  workspace: ["workspace"],
  settings: ["settings"],
  tokenStatus: ["token_status"],
  syncStatus: ["sync_status"],
  syncRuns: ["sync_runs"],
  reviewQueue: ["review_queue"],
  products: ["products"],
  marketplaces: ["marketplaces"],
  dashboard: ["dashboard"],
  lookupHistory: ["lookup_history"],
  serverStatus: ["server_status"],
  webhooks: ["webhooks"],
  outboxCounts: ["outbox_counts"],
  backups: ["backups"],
  autostart: ["autostart"],
  recheck: ["recheck"],
  /** Every delivery log, whatever its filter. */
  deliveries: ["deliveries"],
  deliveriesOf: (endpointId: number | null, channel: string | null) => ["deliveries", endpointId, channel] as const,
  emailPasswordSet: ["email_password_set"],
  /** Every page of the licenses list, whatever its filter. */
  licenses: ["licenses"],
  licensesFiltered: (filter: LicenseFilter) => ["licenses", filter] as const,
  license: (id: number) => ["license", id] as const,
  releases: (productId: number) => ["releases", productId] as const,
  productUpdates: (productId: number) => ["product_updates", productId] as const,
  snippet: (productId: number) => ["update_snippet", productId] as const,
} as const;

/** What a finished sync may have changed. */
export const CHANGED_BY_SYNC = [keys.syncRuns, keys.reviewQueue, keys.licenses, keys.products, keys.dashboard, keys.marketplaces];

/** What creating or linking a product may have changed (waiting sales become licenses). */
export const CHANGED_BY_PRODUCTS = [keys.products, keys.reviewQueue, keys.licenses, keys.dashboard];

/** The queries that read each table: what a `db-changed` naming it makes the window refetch. A
 * table missing here is read by no query of the window. */
const READ_FROM: Record<string, readonly (readonly unknown[])[]> = {
  licenses: [keys.licenses, ["license"], keys.dashboard, keys.lookupHistory, keys.marketplaces],
  activations: [keys.licenses, ["license"], keys.dashboard],
  license_sites: [keys.licenses, ["license"]],
  license_key_history: [["license"]],
  audit_log: [["license"]],
  products: [keys.products, keys.licenses, keys.dashboard, ["releases"], ["product_updates"], ["update_snippet"]],
  product_envato_items: [keys.products, keys.dashboard],
  pending_sales: [keys.reviewQueue, keys.dashboard],
  sync_runs: [keys.syncRuns, keys.dashboard],
  lookups: [keys.lookupHistory],
  settings: [keys.settings, ["update_snippet"]],
  webhook_endpoints: [keys.webhooks, keys.deliveries],
  outbox: [keys.outboxCounts, keys.deliveries, keys.webhooks],
  delivery_health: [keys.webhooks, keys.outboxCounts],
  releases: [["releases"], ["update_snippet"]],
  envato_account: [keys.tokenStatus, keys.appInfo],
};

/** The query keys to refetch after `changed` (every query when the window fell behind). */
export function keysToRefetch(changed: DbChanged): (readonly unknown[])[] | "all" {
  if (changed.all) return "all";
  const out = new Map<string, readonly unknown[]>();
  for (const table of changed.tables) {
    for (const key of READ_FROM[table] ?? []) out.set(JSON.stringify(key), key);
  }
  return [...out.values()];
}
