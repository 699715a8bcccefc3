//! The licensing API (docs/licensing-api.md): what the seller's products and buyers ask.
//! `service` answers typed questions with typed verdicts; `wire` alone decodes request bodies
//! and encodes the contract's signed JSON answers; `crate::server` serves them (with the buyer
//! page and update delivery) to the internet. The CLI and the app call `service` directly.

pub mod request;
pub mod service;
pub mod wire;

use crate::model::{License, LicenseStatus};
use serde::Serialize;

pub use service::{
    ActivateVerdict, DeactivateVerdict, Failure, LicenseRef, LicensingService, Made, Query, Resolved, Verdict,
    ENVATO_RETRY_AFTER_SECS,
};
pub(crate) use wire::{answer, answer_coded};

crate::text_enum! {
    /// Every result code of the API, as the contract names them.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
    pub enum ApiCode {
        Ok = "OK",
        Valid = "VALID",
        NotFound = "NOT_FOUND",
        PendingReview = "PENDING_REVIEW",
        ProductMismatch = "PRODUCT_MISMATCH",
        Revoked = "REVOKED",
        Suspended = "SUSPENDED",
        NotActivated = "NOT_ACTIVATED",
        Activated = "ACTIVATED",
        AlreadyActivated = "ALREADY_ACTIVATED",
        ActivationLimitExceeded = "ACTIVATION_LIMIT_EXCEEDED",
        Deactivated = "DEACTIVATED",
        Found = "FOUND",
        BadRequest = "BAD_REQUEST",
        PayloadTooLarge = "PAYLOAD_TOO_LARGE",
        NotFoundPath = "NOT_FOUND_PATH",
        RateLimited = "RATE_LIMITED",
        TooManyDeactivations = "TOO_MANY_DEACTIVATIONS",
        EnvatoUnavailable = "ENVATO_UNAVAILABLE",
        /// A failure of KeyManager itself (the database); the detail never carries internals (1.1).
        InternalError = "INTERNAL_ERROR",
        /// The license's product is inactive and takes no new activations; existing ones still
        /// validate (1.1).
        ProductInactive = "PRODUCT_INACTIVE",
        /// A known path asked with the wrong method, with `Allow` (1.1).
        MethodNotAllowed = "METHOD_NOT_ALLOWED",
        /// `validate` for an activation made for another site than the `site_url` sent (1.1).
        SiteMismatch = "SITE_MISMATCH",
        /// More non-production activations than `dev_sites_per_license` (1.1).
        DevSiteLimitExceeded = "DEV_SITE_LIMIT_EXCEEDED",
        /// A `POST` under `/v1/` whose body is not declared JSON (1.1).
        UnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE",
    }
}

/// One answer: the HTTP status, the exact body bytes, and a `Retry-After` when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub code: ApiCode,
    pub body: Vec<u8>,
    pub retry_after: Option<u64>,
}

/// The license as answers show it: no buyer, no purchase code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LicenseView {
    pub key: String,
    pub status: LicenseStatus,
    pub product: ProductView,
    pub license_type: String,
    pub activation_limit: u32,
    /// Production activations (the ones the limit counts).
    pub activations_used: u32,
    /// Staging, development and local activations (1.1).
    pub dev_activations_used: u32,
    pub supported_until: Option<String>,
    pub sold_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProductView {
    pub id: i64,
    pub name: String,
    pub item_id: Option<i64>,
}

impl LicenseView {
    pub fn of(l: &License) -> LicenseView {
        LicenseView {
            key: l.license_key.clone(),
            status: l.status,
            product: ProductView { id: l.product_id, name: l.product_name.clone(), item_id: l.envato_item_id },
            license_type: l.license_type.as_str().to_string(),
            activation_limit: l.activation_limit,
            activations_used: l.activations_used,
            dev_activations_used: l.dev_activations_used,
            supported_until: l.supported_until.clone(),
            sold_at: l.sold_at.clone(),
        }
    }
}
