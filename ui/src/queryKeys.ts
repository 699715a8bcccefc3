// Every TanStack Query key of the UI, in one place: a page that reads data and the code that
// refreshes it after a change name the same key, and a key nothing reads is not invalidated.
import type { LicenseFilter } from "./bindings/LicenseFilter";

export const keys = {
  appInfo: ["app_info"],
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
