/** The choices the UI offers for Rust's enums: each list is generated from the enum's `ALL`
 *  (bindings/options.ts), in Rust's order, and paired here with its labels. A label table is a
 *  `Record` over the enum, so a value Rust adds without a label here fails `tsc`. */
import {
  LICENSE_ACTIONS, LICENSE_SORTS, LICENSE_STATUSES, LICENSE_TYPES, PRODUCT_STATUSES, RELEASE_CHANNELS,
  SMTP_SECURITIES, SUPPORT_FILTERS, UPDATE_KINDS, WEBHOOK_EVENT_TYPES,
} from "./bindings/options";
import type { EventType } from "./bindings/EventType";
import type { UpdateKind } from "./bindings/UpdateKind";

export type Choice<T extends string> = { value: T; label: string };

function choices<T extends string>(all: readonly T[], labels: Record<T, string>): Choice<T>[] {
  return all.map((value) => ({ value, label: labels[value] }));
}

export const LICENSE_STATUS_CHOICES = choices(LICENSE_STATUSES, { active: "Active", suspended: "Suspended", revoked: "Revoked" });
export const SUPPORT_CHOICES = choices(SUPPORT_FILTERS, { active: "Support active", expired: "Support expired", none: "No support" });
export const SORT_CHOICES = choices(LICENSE_SORTS, {
  newest: "Newest first", oldest: "Oldest first", sold_desc: "Sold: latest", sold_asc: "Sold: earliest",
});
export const LICENSE_ACTION_CHOICES = choices(LICENSE_ACTIONS, { suspend: "Suspend", revoke: "Revoke", reactivate: "Reactivate" });
export const LICENSE_TYPE_CHOICES = choices(LICENSE_TYPES, { regular: "Regular", extended: "Extended" });
export const PRODUCT_STATUS_CHOICES = choices(PRODUCT_STATUSES, { active: "Active", inactive: "Inactive" });
export const RELEASE_CHANNEL_CHOICES = choices(RELEASE_CHANNELS, { stable: "Stable", beta: "Beta (only sites that ask for beta)" });
export const UPDATE_KIND_LABELS: Record<UpdateKind, string> = {
  "wp-plugin": "WordPress plugin", "wp-theme": "WordPress theme", generic: "Other (a zip)",
};
export const UPDATE_KIND_CHOICES = choices(UPDATE_KINDS, UPDATE_KIND_LABELS);
export const SMTP_SECURITY_CHOICES = choices(SMTP_SECURITIES, {
  tls: "TLS (port 465)", starttls: "STARTTLS (port 587)", none: "None (a server on this computer only)",
});
const EVENT_LABELS: Record<EventType, string> = {
  "sale.synced": "A sale is recorded",
  "license.created": "A license is issued",
  "license.suspended": "A license is suspended",
  "license.revoked": "A license is revoked",
  "license.reactivated": "A license is reactivated",
  "activation.created": "An activation is added",
  "activation.deleted": "An activation is freed",
  "activation.limit_reached": "An activation is refused at the limit",
  "activation.replaced": "A stale activation makes way for a new site",
  "license.shared_suspected": "A license looks shared",
  "sync.failed": "A sync fails",
  "release.published": "A release is published",
  "release.yanked": "A release is yanked",
  "webhook.test": "A test (the Test button)",
};
export const WEBHOOK_EVENT_CHOICES = choices(WEBHOOK_EVENT_TYPES, EVENT_LABELS);
