//! The one error type that crosses every boundary (IPC, CLI).
//!
//! It carries a stable machine code (`settings.invalid_value`) and a human message that says
//! what to do. The UI branches on `code`, never on `message`; the CLI prints
//! `error[CODE]: message`. Codes are part of the public contract: add new ones, never rename.

use serde::{Deserialize, Serialize};
use std::fmt;
use ts_rs::TS;

crate::text_enum! {
    /// Stable error codes. The serialised form (`"settings.invalid_value"`) is what the UI and
    /// scripts see; a test pins every one of them.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
    pub enum ErrorCode {
        SettingsUnknownKey = "settings.unknown_key",
        SettingsInvalidValue = "settings.invalid_value",
        StoreNewerSchema = "store.newer_schema",
        StoreBusy = "store.busy",
        StoreIo = "store.io",
        StoreCorrupt = "store.corrupt",
        InputInvalid = "input.invalid",
        ProductNotFound = "product.not_found",
        ProductDuplicateSku = "product.duplicate_sku",
        ProductItemTaken = "product.item_taken",
        ProductInactive = "product.inactive",
        LicenseNotFound = "license.not_found",
        LicenseKeyMalformed = "license.key_malformed",
        EnvatoTokenFormat = "envato.token_format",
        EnvatoUnauthorized = "envato.unauthorized",
        EnvatoMissingPermission = "envato.missing_permission",
        EnvatoFirewallBlocked = "envato.firewall_blocked",
        EnvatoNotFound = "envato.not_found",
        EnvatoRateLimited = "envato.rate_limited",
        EnvatoConnectionFailed = "envato.connection_failed",
        EnvatoBadResponse = "envato.bad_response",
        EnvatoNoItems = "envato.no_items",
        EnvatoTokenHostMismatch = "envato.token_host_mismatch",
        PurchaseCodeMalformed = "purchase_code.malformed",
        KeychainUnavailable = "keychain.unavailable",
        TokenNotConfigured = "token.not_configured",
        LicenseInvalidTransition = "license.invalid_transition",
        LicenseSuspended = "license.suspended",
        LicenseRevoked = "license.revoked",
        LicenseActivationLimit = "license.activation_limit",
        DevSiteLimit = "license.dev_site_limit",
        ActivationNotFound = "activation.not_found",
        LicenseProductMismatch = "license.product_mismatch",
        TooManyDeactivations = "activation.too_many_deactivations",
        SigningKeyUnavailable = "signing_key.unavailable",
        CredentialFileUnsafe = "credential_file.unsafe",
        CredentialFileMissing = "credential_file.missing",
        WebhookNotFound = "webhook.not_found",
        WebhookUrlRefused = "webhook.url_refused",
        WebhookUnknownEvent = "webhook.unknown_event",
        WebhookDeliveryFailed = "webhook.delivery_failed",
        OutboxMessageNotFound = "outbox.message_not_found",
        EmailInvalidAddress = "email.invalid_address",
        EmailNotConfigured = "email.not_configured",
        EmailNoRecipient = "email.no_recipient",
        EmailSendFailed = "email.send_failed",
        /// Update delivery (updates-api.md).
        ReleaseNotFound = "release.not_found",
        /// Not a zip, a damaged one, or one WordPress could not install.
        ReleasePackageInvalid = "release.package_invalid",
        /// The zip's one top-level folder is not the product's update slug.
        ReleaseWrongFolder = "release.wrong_folder",
        /// The plugin header's (or style.css's) version is not the release's.
        ReleaseVersionMismatch = "release.version_mismatch",
        /// Not newer than the newest published release of its channel (or already a release).
        ReleaseNotNewer = "release.not_newer",
        /// Over `release_max_mb`.
        ReleaseTooLarge = "release.too_large",
        /// Publishing a yanked release, yanking a draft, removing a published one, …
        ReleaseInvalidTransition = "release.invalid_transition",
        /// Another product has this update slug.
        ProductSlugTaken = "product.slug_taken",
        /// A download link needs the server's public address (`public_url`).
        PublicUrlMissing = "updates.public_url_missing",
        /// The admin API: no device token, or one that was never issued.
        AdminUnauthorized = "admin.unauthorized",
        /// A device token past its expiry.
        AdminTokenExpired = "admin.token_expired",
        /// A device token the seller revoked.
        AdminTokenRevoked = "admin.token_revoked",
        /// The device's scopes do not cover this operation.
        AdminForbidden = "admin.forbidden",
        /// Too many failed attempts from this address: wait, then try again.
        AdminLockedOut = "admin.locked_out",
        /// The admin API answers plain HTTP only on this machine: use https.
        AdminHttpsRequired = "admin.https_required",
        /// A pairing code that is wrong, used already, or older than 10 minutes.
        AdminPairingCodeInvalid = "admin.pairing_code_invalid",
        /// The server's signing key is not the one pinned when the device paired.
        RemoteKeyMismatch = "remote.key_mismatch",
        /// No remote workspace has this name.
        RemoteNotFound = "remote.not_found",
        /// The server could not be reached or did not answer as a KeyManager server.
        RemoteUnreachable = "remote.unreachable",
        /// The server already holds licenses: moving a database in replaces them only when asked.
        RemoteNotEmpty = "remote.not_empty",
        Internal = "internal",
    }
}

impl ErrorCode {
    /// The code for stored text (a sync run's error); text from a newer version is `Internal`.
    pub fn from_stored(s: &str) -> ErrorCode {
        ErrorCode::parse(s).unwrap_or(ErrorCode::Internal)
    }
}

/// `{code, message}` plus, for validation errors, the `field` (a settings key or form field)
/// the message belongs to, so the UI can show it inline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub field: Option<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error { code, message: message.into(), field: None }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn invalid_input(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::InputInvalid, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::Internal, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for Error {}

impl From<rusqlite::Error> for Error {
    fn from(err: rusqlite::Error) -> Self {
        use rusqlite::ffi::ErrorCode as Sql;
        match &err {
            rusqlite::Error::SqliteFailure(e, _) => match e.code {
                Sql::DatabaseBusy | Sql::DatabaseLocked => Error::new(
                    ErrorCode::StoreBusy,
                    "The database is busy in another KeyManager process; try again in a moment.",
                ),
                Sql::NotADatabase | Sql::DatabaseCorrupt => {
                    Error::new(ErrorCode::StoreCorrupt, "The database file is damaged or is not a KeyManager database.")
                }
                Sql::CannotOpen | Sql::ReadOnly | Sql::DiskFull | Sql::SystemIoFailure | Sql::PermissionDenied => {
                    Error::new(ErrorCode::StoreIo, format!("Cannot read or write the database: {err}."))
                }
                _ => Error::internal(format!("Database error: {err}.")),
            },
            // A stored value that none of KeyManager's types can read (an unknown status, an
            // unreadable date): the data is damaged, never silently replaced by a default.
            rusqlite::Error::FromSqlConversionFailure(..) | rusqlite::Error::InvalidColumnType(..) => Error::new(
                ErrorCode::StoreCorrupt,
                format!("The database holds a value KeyManager cannot read ({err}); restore a backup or repair it."),
            ),
            _ => Error::internal(format!("Database error: {err}.")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape_is_pinned() {
        let err = Error::new(ErrorCode::SettingsInvalidValue, "Sync interval must be 15 to 1440 minutes.")
            .with_field("sync_interval_minutes");
        assert_eq!(
            serde_json::to_string(&err).unwrap(),
            r#"{"code":"settings.invalid_value","message":"Sync interval must be 15 to 1440 minutes.","field":"sync_interval_minutes"}"#
        );
        let err = Error::new(ErrorCode::StoreNewerSchema, "newer");
        assert_eq!(serde_json::to_string(&err).unwrap(), r#"{"code":"store.newer_schema","message":"newer"}"#);
    }

    #[test]
    fn serialised_codes_match_as_str() {
        for code in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), serde_json::Value::String(code.as_str().into()));
        }
    }
}
