// Generated from each enum's ALL by crates/keymanager/src/bindings.rs (`make bindings`). Do not edit.
import type { EventType } from "./EventType";
import type { LicenseAction } from "./LicenseAction";
import type { LicenseSort } from "./LicenseSort";
import type { LicenseStatus } from "./LicenseStatus";
import type { LicenseType } from "./LicenseType";
import type { ProductStatus } from "./ProductStatus";
import type { ReleaseChannel } from "./ReleaseChannel";
import type { SmtpSecurity } from "./SmtpSecurity";
import type { SupportFilter } from "./SupportFilter";
import type { UpdateKind } from "./UpdateKind";

export const LICENSE_STATUSES: readonly LicenseStatus[] = ["active", "suspended", "revoked"];
export const LICENSE_SORTS: readonly LicenseSort[] = ["newest", "oldest", "sold_desc", "sold_asc"];
export const SUPPORT_FILTERS: readonly SupportFilter[] = ["active", "expired", "none"];
export const LICENSE_ACTIONS: readonly LicenseAction[] = ["suspend", "revoke", "reactivate"];
export const LICENSE_TYPES: readonly LicenseType[] = ["regular", "extended"];
export const PRODUCT_STATUSES: readonly ProductStatus[] = ["active", "inactive"];
export const RELEASE_CHANNELS: readonly ReleaseChannel[] = ["stable", "beta"];
export const UPDATE_KINDS: readonly UpdateKind[] = ["wp-plugin", "wp-theme", "generic"];
export const SMTP_SECURITIES: readonly SmtpSecurity[] = ["tls", "starttls", "none"];
export const WEBHOOK_EVENT_TYPES: readonly EventType[] = ["sale.synced", "license.created", "license.suspended", "license.revoked", "license.reactivated", "activation.created", "activation.deleted", "activation.limit_reached", "activation.replaced", "license.shared_suspected", "sync.failed", "release.published", "release.yanked"];
