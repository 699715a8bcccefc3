//! The domain records that cross the boundaries (IPC and the CLI's `--json`). ts-rs exports
//! each into ui/src/bindings; the UI never declares these shapes by hand.

use crate::error::{Error, Result};
use crate::text::truncate_chars;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

crate::text_enum! {
    /// The license types a product grants. Envato's own license names ("Regular License",
    /// "Extended License") are kept verbatim on each sale; this is KeyManager's own: a product
    /// grants one, and the settings hold the default.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
    pub enum LicenseType {
        Regular = "regular",
        Extended = "extended",
    }
}

/// The most activations a license may have.
pub const ACTIVATION_LIMIT_MAX: u32 = 1000;

crate::text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
    pub enum ProductStatus {
        Active = "active",
        Inactive = "inactive",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct Product {
    #[ts(type = "number")]
    pub id: i64,
    pub name: String,
    pub description: String,
    pub sku: Option<String>,
    #[ts(type = "Array<number>")]
    pub envato_item_ids: Vec<i64>,
    pub activation_limit: u32,
    pub license_type: LicenseType,
    pub status: ProductStatus,
    #[ts(type = "number")]
    pub license_count: i64,
    pub created_at: String,
    pub updated_at: String,
    /// Created by Auto-Create from an Envato item.
    pub auto_created: bool,
    /// An auto-created product the seller has not reviewed yet.
    pub needs_review: bool,
}

/// What a seller fills in to create a product. Absent limit and type take the settings' defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, TS, serde::Serialize)]
pub struct NewProduct {
    pub name: String,
    #[serde(default)]
    #[ts(optional)]
    pub description: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub sku: Option<String>,
    #[serde(default)]
    #[ts(optional, type = "Array<number>")]
    pub envato_item_ids: Option<Vec<i64>>,
    #[serde(default)]
    #[ts(optional)]
    pub activation_limit: Option<u32>,
    #[serde(default)]
    #[ts(optional)]
    pub license_type: Option<LicenseType>,
    #[serde(default)]
    #[ts(optional)]
    pub status: Option<ProductStatus>,
}

pub const NAME_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 2000;
pub const SKU_MAX: usize = 64;

/// A product's fields after validation and trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidProduct {
    pub name: String,
    pub description: String,
    pub sku: Option<String>,
    pub envato_item_ids: Vec<i64>,
    pub activation_limit: u32,
    pub license_type: LicenseType,
    pub status: ProductStatus,
}

impl NewProduct {
    pub fn validate(&self, default_limit: u32, default_type: LicenseType) -> Result<ValidProduct> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(Error::invalid_input("A product needs a name.").with_field("name"));
        }
        if name.chars().count() > NAME_MAX {
            return Err(
                Error::invalid_input(format!("A product name has at most {NAME_MAX} characters.")).with_field("name")
            );
        }
        if name.chars().any(char::is_control) {
            return Err(Error::invalid_input("A product name cannot contain control characters.").with_field("name"));
        }
        let description = truncate_chars(self.description.as_deref().unwrap_or("").trim(), DESCRIPTION_MAX);
        let sku = match self.sku.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) if s.chars().count() > SKU_MAX || s.chars().any(|c| c.is_control() || c.is_whitespace()) => {
                return Err(Error::invalid_input(format!("A SKU has at most {SKU_MAX} characters and no spaces."))
                    .with_field("sku"))
            }
            Some(s) => Some(s.to_string()),
        };
        let mut ids = self.envato_item_ids.clone().unwrap_or_default();
        if let Some(bad) = ids.iter().find(|&&id| id <= 0) {
            return Err(Error::invalid_input(format!("“{bad}” is not an Envato item ID (a positive number)."))
                .with_field("envato_item_ids"));
        }
        ids.sort_unstable();
        ids.dedup();
        let activation_limit = self.activation_limit.unwrap_or(default_limit);
        if !(1..=ACTIVATION_LIMIT_MAX).contains(&activation_limit) {
            return Err(Error::invalid_input(format!(
                "The activation limit must be from 1 to {ACTIVATION_LIMIT_MAX}."
            ))
            .with_field("activation_limit"));
        }
        Ok(ValidProduct {
            name: name.to_string(),
            description,
            sku,
            envato_item_ids: ids,
            activation_limit,
            license_type: self.license_type.unwrap_or(default_type),
            status: self.status.unwrap_or(ProductStatus::Active),
        })
    }
}

/// What the app's footer and About show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct AppInfo {
    pub version: String,
    pub data_dir: Option<String>,
    pub schema_version: u32,
    /// The Envato API address in force.
    pub envato_api_base: String,
    /// A developer override (the sandbox) is in force: the window shows a warning banner.
    pub envato_api_developer_override: bool,
}

crate::text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
    pub enum LicenseStatus {
        Active = "active",
        Suspended = "suspended",
        Revoked = "revoked",
    }
}

crate::text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
    pub enum LicenseSource {
        Envato = "envato",
        Manual = "manual",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct License {
    #[ts(type = "number")]
    pub id: i64,
    pub license_key: String,
    #[ts(type = "number")]
    pub product_id: i64,
    pub product_name: String,
    pub status: LicenseStatus,
    pub license_type: LicenseType,
    pub activation_limit: u32,
    pub activations_used: u32,
    pub source: LicenseSource,
    pub purchase_code: Option<String>,
    #[ts(type = "number | null")]
    pub envato_item_id: Option<i64>,
    pub marketplace: Option<String>,
    pub buyer: Option<String>,
    pub purchase_count: Option<u32>,
    pub envato_license: Option<String>,
    /// Exact decimal text, e.g. "19.84".
    pub amount: Option<String>,
    pub sold_at: Option<String>,
    pub supported_until: Option<String>,
    pub created_at: String,
    /// When Envato last confirmed this sale (lookups and re-verification).
    pub envato_checked_at: Option<String>,
    /// `not_recognised`: Envato no longer finds the purchase code (refund or reversal?).
    pub envato_flag: Option<String>,
    /// The Envato item's name when it sold.
    pub item_name: Option<String>,
    /// The buyer's e-mail (Envato gives none): typed by the seller or left on the buyer page.
    pub buyer_email: Option<String>,
    /// The seller's note.
    pub note: Option<String>,
    /// Activations on staging, development and local sites (not counted in `activations_used`).
    pub dev_activations_used: u32,
    /// When KeyManager saw more production sites in 30 days than the shared-code threshold
    /// ("possibly shared"); it never suspends for it.
    pub shared_suspected_at: Option<String>,
    /// A hand-made license's end of updates: releases published after it are not offered
    /// (updates-api.md rule 2; never applied to a license from an Envato sale).
    pub updates_until: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct Activation {
    #[ts(type = "number")]
    pub id: i64,
    pub instance_id: String,
    pub label: Option<String>,
    pub activated_at: String,
    pub last_seen_at: String,
    /// The canonical site it was made for (None: the product sent only a fingerprint).
    pub site: Option<String>,
    pub environment: crate::site::Environment,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct KeyHistoryEntry {
    pub license_key: String,
    pub replaced_at: String,
    pub reason: String,
}

/// A sale's support window as every surface shows it: until when, whole days left (negative
/// once expired), expired or not. Computed here, from `now`, so the UI does no date arithmetic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct SupportWindow {
    pub until: Option<String>,
    /// Whole days left (negative once expired); None without support.
    #[ts(type = "number | null")]
    pub days_left: Option<i64>,
    pub expired: bool,
}

impl SupportWindow {
    pub fn at(until: Option<&str>, now: crate::time::Timestamp) -> SupportWindow {
        let t = until.and_then(crate::time::parse);
        SupportWindow {
            until: t.map(crate::time::to_db),
            days_left: t.map(|u| (u - now).num_days()),
            expired: t.is_some_and(|u| u <= now),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_product_validation() {
        let ok = NewProduct {
            name: "  Modern Portfolio Pro ".into(),
            envato_item_ids: Some(vec![3, 1, 3]),
            ..Default::default()
        }
        .validate(3, LicenseType::Regular)
        .unwrap();
        assert_eq!(ok.name, "Modern Portfolio Pro");
        assert_eq!(ok.envato_item_ids, vec![1, 3]);
        assert_eq!(ok.activation_limit, 3);
        assert_eq!(ok.status, ProductStatus::Active);

        for (p, field) in [
            (NewProduct { name: " ".into(), ..Default::default() }, "name"),
            (NewProduct { name: "x".repeat(201), ..Default::default() }, "name"),
            (NewProduct { name: "a".into(), sku: Some("has space".into()), ..Default::default() }, "sku"),
            (NewProduct { name: "a".into(), envato_item_ids: Some(vec![0]), ..Default::default() }, "envato_item_ids"),
            (NewProduct { name: "a".into(), activation_limit: Some(0), ..Default::default() }, "activation_limit"),
        ] {
            let err = p.validate(1, LicenseType::Regular).unwrap_err();
            assert_eq!(err.field.as_deref(), Some(field));
        }
    }

    #[test]
    fn support_windows_count_whole_days_from_now() {
        let now = crate::time::parse("2026-11-29T12:00:00Z").unwrap();
        let w = SupportWindow::at(Some("2027-05-29T11:00:00Z"), now);
        assert_eq!((w.days_left, w.expired), (Some(180), false));
        let w = SupportWindow::at(Some("2026-11-20T12:00:00+02:00"), now);
        assert_eq!((w.days_left, w.expired, w.until.as_deref()), (Some(-9), true, Some("2026-11-20T10:00:00Z")));
        assert_eq!(SupportWindow::at(None, now), SupportWindow { until: None, days_left: None, expired: false });
    }

    #[test]
    fn long_descriptions_are_truncated_on_a_character_boundary() {
        let p = NewProduct { name: "a".into(), description: Some("é".repeat(3000)), ..Default::default() }
            .validate(1, LicenseType::Regular)
            .unwrap();
        assert_eq!(p.description.chars().count(), DESCRIPTION_MAX);
        assert!(p.description.ends_with('…'));
    }
}
