//! The events of shared/docs/webhooks-email.md: their types, and the exact body every webhook
//! message carries (`{"type", "timestamp", "data"}`). Pure: the store writes them to the outbox in
//! the same transaction as the change they describe, and `outbox` delivers them.

use crate::model::License;
use crate::money::format_cents;
use crate::plan::SaleRecord;
use crate::time::{to_db, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use ts_rs::TS;

crate::text_enum! {
    /// Every event type of the contract, by its wire name.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
    pub enum EventType {
        SaleSynced = "sale.synced",
        LicenseCreated = "license.created",
        LicenseSuspended = "license.suspended",
        LicenseRevoked = "license.revoked",
        LicenseReactivated = "license.reactivated",
        ActivationCreated = "activation.created",
        ActivationDeleted = "activation.deleted",
        ActivationLimitReached = "activation.limit_reached",
        /// A stale production activation made way for a new one at the limit (1.1).
        ActivationReplaced = "activation.replaced",
        /// More distinct production sites in 30 days than the threshold (1.1).
        LicenseSharedSuspected = "license.shared_suspected",
        SyncFailed = "sync.failed",
        /// A release was published, or its rollout reached 100 (updates-api.md).
        ReleasePublished = "release.published",
        ReleaseYanked = "release.yanked",
        WebhookTest = "webhook.test",
    }
}

impl EventType {
    /// Whether an endpoint may subscribe to it (a test is sent to one endpoint on request).
    pub fn subscribable(self) -> bool {
        self != EventType::WebhookTest
    }

    /// The status changes a buyer is told about when `notify_buyers` is on.
    pub fn is_lifecycle(self) -> bool {
        matches!(self, EventType::LicenseSuspended | EventType::LicenseRevoked | EventType::LicenseReactivated)
    }
}

/// What an e-mail in the outbox is: the license key for the buyer, a lifecycle notice, or the
/// seller's test. Stored as the message's `event_type`.
pub const EMAIL_LICENSE_KEY: &str = "email.license_key";
pub const EMAIL_TEST: &str = "email.test";
/// A buyer-page link that confirms an address before the key is sent to it.
pub const EMAIL_CONFIRM_ADDRESS: &str = "email.confirm_address";
/// To the seller: the buyer page reached the store's daily cap of key mails.
pub const EMAIL_SELLER_NOTICE: &str = "email.seller_notice";

/// The body of one event, byte for byte what a webhook receives.
pub fn body(kind: EventType, at: Timestamp, data: &impl Serialize) -> String {
    body_at(kind, &to_db(at), data)
}

/// `body` with the timestamp already written (the outbox writes it beside the body). In the
/// contract's order, in one buffer: a sync writes two events a sale, so the data is serialised
/// straight from borrowed fields, with no intermediate JSON tree or copy.
pub(crate) fn body_at(kind: EventType, at: &str, data: &impl Serialize) -> String {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(kind.as_str().as_bytes());
    out.extend_from_slice(b"\",\"timestamp\":\"");
    out.extend_from_slice(at.as_bytes());
    out.extend_from_slice(b"\",\"data\":");
    let start = out.len();
    if serde_json::to_writer(&mut out, data).is_err() {
        out.truncate(start);
        out.extend_from_slice(b"{}");
    }
    out.push(b'}');
    // serde_json writes UTF-8, and the rest is ASCII.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Data serialised now, for a caller whose borrowed fields do not outlive it.
pub fn raw(data: &impl Serialize) -> crate::Result<Box<serde_json::value::RawValue>> {
    serde_json::value::to_raw_value(data)
        .map_err(|e| crate::Error::internal(format!("An event could not be written: {e}.")))
}

#[derive(Serialize)]
pub struct ProductData<'a> {
    pub id: i64,
    pub name: &'a str,
}

/// A license as events describe it (no Envato token, no other buyer: this license only).
#[derive(Serialize)]
pub struct LicenseData<'a> {
    pub id: i64,
    pub key: &'a str,
    pub status: &'static str,
    pub product: ProductData<'a>,
    pub activation_limit: u32,
    pub activations_used: u32,
    pub license_type: &'static str,
    pub purchase_code: Option<&'a str>,
    pub item_id: Option<i64>,
    pub buyer: Option<&'a str>,
    pub buyer_email: Option<&'a str>,
    pub supported_until: Option<&'a str>,
    pub created_at: &'a str,
}

pub fn license_data(l: &License) -> LicenseData<'_> {
    LicenseData {
        id: l.id,
        key: &l.license_key,
        status: l.status.as_str(),
        product: ProductData { id: l.product_id, name: &l.product_name },
        activation_limit: l.activation_limit,
        activations_used: l.activations_used,
        license_type: l.license_type.as_str(),
        purchase_code: l.purchase_code.as_deref(),
        item_id: l.envato_item_id,
        buyer: l.buyer.as_deref(),
        buyer_email: l.buyer_email.as_deref(),
        supported_until: l.supported_until.as_deref(),
        created_at: &l.created_at,
    }
}

/// A license and the reason of its status change.
#[derive(Serialize)]
pub struct StatusData<'a> {
    pub license: LicenseData<'a>,
    pub reason: &'a str,
}

pub fn status_data<'a>(l: &'a License, reason: &'a str) -> StatusData<'a> {
    StatusData { license: license_data(l), reason }
}

/// A sale recorded from Envato. The amount is a string of dollars ("19.84").
#[derive(Serialize)]
pub struct SaleData<'a> {
    pub item_id: i64,
    pub item_name: &'a str,
    pub marketplace: Option<&'a str>,
    pub amount: String,
    pub sold_at: String,
    pub license_type: &'a str,
    pub buyer: Option<&'a str>,
    pub purchase_code: Option<&'a str>,
    pub supported_until: Option<String>,
}

pub fn sale_data(s: &SaleRecord) -> SaleData<'_> {
    SaleData {
        item_id: s.item_id,
        item_name: &s.item_name,
        marketplace: s.marketplace.as_deref(),
        amount: format_cents(s.amount_cents),
        sold_at: to_db(s.sold_at),
        license_type: &s.license,
        buyer: s.buyer.as_deref(),
        purchase_code: s.code.as_deref(),
        supported_until: s.supported_until.map(to_db),
    }
}

pub fn activation_data(license_key: &str, fingerprint: &str, label: Option<&str>) -> Value {
    json!({"license_key": license_key, "fingerprint": fingerprint, "label": label})
}

pub fn limit_data(license_key: &str, fingerprint: &str, limit: u32) -> Value {
    json!({"license_key": license_key, "fingerprint": fingerprint, "activation_limit": limit})
}

pub fn sync_failed_data(code: &str, message: &str) -> Value {
    json!({"code": code, "message": message})
}

/// Which events an endpoint receives: every one (`*`), or a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventFilter {
    All,
    Only(Vec<EventType>),
}

impl EventFilter {
    /// Reads `--events a,b` or the stored text: empty or `*` is every event; an unknown type is
    /// an error naming it. `webhook.test` is always delivered and need not be listed.
    pub fn parse(text: &str) -> crate::Result<EventFilter> {
        let text = text.trim();
        if text.is_empty() || text == "*" {
            return Ok(EventFilter::All);
        }
        let mut types = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let t = EventType::parse(part).ok_or_else(|| {
                crate::Error::new(
                    crate::ErrorCode::WebhookUnknownEvent,
                    format!(
                        "“{}” is not an event type. Types are: {}.",
                        part.chars().take(40).collect::<String>(),
                        EventType::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                )
                .with_field("events")
            })?;
            if !types.contains(&t) {
                types.push(t);
            }
        }
        Ok(if types.is_empty() { EventFilter::All } else { EventFilter::Only(types) })
    }

    pub fn to_stored(&self) -> String {
        match self {
            EventFilter::All => "*".into(),
            EventFilter::Only(t) => t.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(","),
        }
    }

    pub fn wants(&self, kind: EventType) -> bool {
        kind == EventType::WebhookTest
            || match self {
                EventFilter::All => true,
                EventFilter::Only(t) => t.contains(&kind),
            }
    }

    /// The listed types (every type for `All`), for the UI and `--json`.
    pub fn types(&self) -> Vec<EventType> {
        match self {
            EventFilter::All => EventType::ALL.to_vec(),
            EventFilter::Only(t) => t.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_store_and_match() {
        assert_eq!(EventFilter::parse("").unwrap(), EventFilter::All);
        assert_eq!(EventFilter::parse(" * ").unwrap(), EventFilter::All);
        let f = EventFilter::parse("license.created, sale.synced,license.created").unwrap();
        assert_eq!(f.to_stored(), "license.created,sale.synced");
        assert!(f.wants(EventType::LicenseCreated));
        assert!(!f.wants(EventType::LicenseRevoked));
        assert!(f.wants(EventType::WebhookTest), "Test reaches every endpoint");
        let err = EventFilter::parse("license.created,license.deleted").unwrap_err();
        assert_eq!(err.code, crate::ErrorCode::WebhookUnknownEvent);
        assert!(err.message.contains("license.deleted"));
    }

    #[test]
    fn a_body_is_type_timestamp_and_data() {
        let at = crate::time::parse("2026-12-01T10:00:00Z").unwrap();
        let b = body(EventType::WebhookTest, at, &json!({}));
        assert_eq!(b, r#"{"type":"webhook.test","timestamp":"2026-12-01T10:00:00Z","data":{}}"#);
    }
}
