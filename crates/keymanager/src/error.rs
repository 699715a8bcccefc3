//! The one error type that crosses every boundary (IPC, CLI).
//!
//! It carries a stable machine code (`settings.invalid_value`) and a human message that says
//! what to do. The UI branches on `code`, never on `message`; the CLI prints
//! `error[CODE]: message`. Codes are part of the public contract: add new ones, never rename.

use serde::Serialize;
use std::fmt;
use ts_rs::TS;

/// Stable error codes. The serialised form (`"settings.invalid_value"`) is what the UI and
/// scripts see; a test pins every one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, TS)]
pub enum ErrorCode {
    #[serde(rename = "settings.unknown_key")]
    SettingsUnknownKey,
    #[serde(rename = "settings.invalid_value")]
    SettingsInvalidValue,
    #[serde(rename = "store.newer_schema")]
    StoreNewerSchema,
    #[serde(rename = "store.busy")]
    StoreBusy,
    #[serde(rename = "store.io")]
    StoreIo,
    #[serde(rename = "store.corrupt")]
    StoreCorrupt,
    #[serde(rename = "input.invalid")]
    InputInvalid,
    #[serde(rename = "product.not_found")]
    ProductNotFound,
    #[serde(rename = "product.duplicate_sku")]
    ProductDuplicateSku,
    #[serde(rename = "product.item_taken")]
    ProductItemTaken,
    #[serde(rename = "license.not_found")]
    LicenseNotFound,
    #[serde(rename = "license.key_malformed")]
    LicenseKeyMalformed,
    #[serde(rename = "envato.token_format")]
    EnvatoTokenFormat,
    #[serde(rename = "envato.unauthorized")]
    EnvatoUnauthorized,
    #[serde(rename = "envato.missing_permission")]
    EnvatoMissingPermission,
    #[serde(rename = "envato.firewall_blocked")]
    EnvatoFirewallBlocked,
    #[serde(rename = "envato.not_found")]
    EnvatoNotFound,
    #[serde(rename = "envato.rate_limited")]
    EnvatoRateLimited,
    #[serde(rename = "envato.connection_failed")]
    EnvatoConnectionFailed,
    #[serde(rename = "envato.bad_response")]
    EnvatoBadResponse,
    #[serde(rename = "envato.no_items")]
    EnvatoNoItems,
    #[serde(rename = "envato.token_host_mismatch")]
    EnvatoTokenHostMismatch,
    #[serde(rename = "purchase_code.malformed")]
    PurchaseCodeMalformed,
    #[serde(rename = "keychain.unavailable")]
    KeychainUnavailable,
    #[serde(rename = "token.not_configured")]
    TokenNotConfigured,
    #[serde(rename = "license.invalid_transition")]
    LicenseInvalidTransition,
    #[serde(rename = "license.suspended")]
    LicenseSuspended,
    #[serde(rename = "license.revoked")]
    LicenseRevoked,
    #[serde(rename = "license.activation_limit")]
    LicenseActivationLimit,
    #[serde(rename = "activation.not_found")]
    ActivationNotFound,
    #[serde(rename = "internal")]
    Internal,
}

impl ErrorCode {
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::SettingsUnknownKey,
        ErrorCode::SettingsInvalidValue,
        ErrorCode::StoreNewerSchema,
        ErrorCode::StoreBusy,
        ErrorCode::StoreIo,
        ErrorCode::StoreCorrupt,
        ErrorCode::InputInvalid,
        ErrorCode::ProductNotFound,
        ErrorCode::ProductDuplicateSku,
        ErrorCode::ProductItemTaken,
        ErrorCode::LicenseNotFound,
        ErrorCode::LicenseKeyMalformed,
        ErrorCode::EnvatoTokenFormat,
        ErrorCode::EnvatoUnauthorized,
        ErrorCode::EnvatoMissingPermission,
        ErrorCode::EnvatoFirewallBlocked,
        ErrorCode::EnvatoNotFound,
        ErrorCode::EnvatoRateLimited,
        ErrorCode::EnvatoConnectionFailed,
        ErrorCode::EnvatoBadResponse,
        ErrorCode::EnvatoNoItems,
        ErrorCode::EnvatoTokenHostMismatch,
        ErrorCode::PurchaseCodeMalformed,
        ErrorCode::KeychainUnavailable,
        ErrorCode::TokenNotConfigured,
        ErrorCode::LicenseInvalidTransition,
        ErrorCode::LicenseSuspended,
        ErrorCode::LicenseRevoked,
        ErrorCode::LicenseActivationLimit,
        ErrorCode::ActivationNotFound,
        ErrorCode::Internal,
    ];

    /// The code for its serialised text (as stored in the database); unknown text is `Internal`.
    pub fn parse(s: &str) -> ErrorCode {
        ErrorCode::ALL.iter().copied().find(|c| c.as_str() == s).unwrap_or(ErrorCode::Internal)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::SettingsUnknownKey => "settings.unknown_key",
            ErrorCode::SettingsInvalidValue => "settings.invalid_value",
            ErrorCode::StoreNewerSchema => "store.newer_schema",
            ErrorCode::StoreBusy => "store.busy",
            ErrorCode::StoreIo => "store.io",
            ErrorCode::StoreCorrupt => "store.corrupt",
            ErrorCode::InputInvalid => "input.invalid",
            ErrorCode::ProductNotFound => "product.not_found",
            ErrorCode::ProductDuplicateSku => "product.duplicate_sku",
            ErrorCode::ProductItemTaken => "product.item_taken",
            ErrorCode::LicenseNotFound => "license.not_found",
            ErrorCode::LicenseKeyMalformed => "license.key_malformed",
            ErrorCode::EnvatoTokenFormat => "envato.token_format",
            ErrorCode::EnvatoUnauthorized => "envato.unauthorized",
            ErrorCode::EnvatoMissingPermission => "envato.missing_permission",
            ErrorCode::EnvatoFirewallBlocked => "envato.firewall_blocked",
            ErrorCode::EnvatoNotFound => "envato.not_found",
            ErrorCode::EnvatoRateLimited => "envato.rate_limited",
            ErrorCode::EnvatoConnectionFailed => "envato.connection_failed",
            ErrorCode::EnvatoBadResponse => "envato.bad_response",
            ErrorCode::EnvatoNoItems => "envato.no_items",
            ErrorCode::EnvatoTokenHostMismatch => "envato.token_host_mismatch",
            ErrorCode::PurchaseCodeMalformed => "purchase_code.malformed",
            ErrorCode::KeychainUnavailable => "keychain.unavailable",
            ErrorCode::TokenNotConfigured => "token.not_configured",
            ErrorCode::LicenseInvalidTransition => "license.invalid_transition",
            ErrorCode::LicenseSuspended => "license.suspended",
            ErrorCode::LicenseRevoked => "license.revoked",
            ErrorCode::LicenseActivationLimit => "license.activation_limit",
            ErrorCode::ActivationNotFound => "activation.not_found",
            ErrorCode::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `{code, message}` plus, for validation errors, the `field` (a settings key or form field)
/// the message belongs to, so the UI can show it inline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
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
