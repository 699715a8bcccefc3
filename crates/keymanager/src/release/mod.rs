//! The vocabulary of releases, below the store that keeps them and the update delivery that
//! serves them: kinds, channels and states, a release and its package's facts, a product's update
//! settings, slugs, the rollout bucket, and PHP's `version_compare` order (`version`).

pub mod version;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

crate::text_enum! {
    /// What a product's package is: WordPress reads plugins and themes differently.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
    pub enum UpdateKind {
        WpPlugin = "wp-plugin",
        WpTheme = "wp-theme",
        Generic = "generic",
    }
}

crate::text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
    pub enum ReleaseChannel {
        Stable = "stable",
        Beta = "beta",
    }
}

crate::text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
    pub enum ReleaseStatus {
        Draft = "draft",
        Published = "published",
        Yanked = "yanked",
    }
}

crate::text_enum! {
    /// Every `license_status` / `code` of update answers, as the contract names them.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
    pub enum UpdateCode {
        UpdateAvailable = "UPDATE_AVAILABLE",
        UpToDate = "UP_TO_DATE",
        NoLicense = "NO_LICENSE",
        NotFound = "NOT_FOUND",
        PendingReview = "PENDING_REVIEW",
        ProductMismatch = "PRODUCT_MISMATCH",
        Revoked = "REVOKED",
        Suspended = "SUSPENDED",
        NotActivated = "NOT_ACTIVATED",
        UpdatesExpired = "UPDATES_EXPIRED",
        RequirementsNotMet = "REQUIREMENTS_NOT_MET",
    }
}

impl UpdateCode {
    /// A sentence for the site owner.
    pub fn message(self) -> &'static str {
        match self {
            UpdateCode::UpdateAvailable => "An update is available for this license.",
            UpdateCode::UpToDate => "You have the latest version.",
            UpdateCode::NoLicense => "Enter your license key (or purchase code) to receive automatic updates.",
            UpdateCode::NotFound => "No license matches this key or purchase code.",
            UpdateCode::PendingReview => {
                "Your purchase is genuine and waits for the seller to set it up; updates will follow."
            }
            UpdateCode::ProductMismatch => "This license is for another product.",
            UpdateCode::Revoked => "This license has been revoked; automatic updates are off.",
            UpdateCode::Suspended => "This license is suspended; automatic updates are paused.",
            UpdateCode::NotActivated => "Activate your license on this site to receive automatic updates.",
            UpdateCode::UpdatesExpired => "Your license's update period has ended; newer versions are not included.",
            UpdateCode::RequirementsNotMet => "The newest version needs a newer WordPress or PHP than this site runs.",
        }
    }

    /// Whether a package is given with this answer.
    pub fn eligible(self) -> bool {
        matches!(self, UpdateCode::UpdateAvailable | UpdateCode::UpToDate)
    }
}

/// One release of a product (a row of `releases`), as the window and `--json` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct Release {
    #[ts(type = "number")]
    pub id: i64,
    #[ts(type = "number")]
    pub product_id: i64,
    pub product_name: String,
    pub version: String,
    pub channel: ReleaseChannel,
    pub status: ReleaseStatus,
    /// 0 to 100: the share of licenses offered it (deterministic buckets).
    pub rollout: u32,
    /// The changelog of this version (readme.txt's markup: `= 1.2.0 =`, `* item`).
    pub changelog: String,
    pub upgrade_notice: String,
    /// WordPress's fields, read from the package and editable.
    pub requires: Option<String>,
    pub tested: Option<String>,
    pub requires_php: Option<String>,
    pub sha256: String,
    #[ts(type = "number")]
    pub size: u64,
    pub created_at: String,
    pub released_at: Option<String>,
    pub yanked_at: Option<String>,
    pub yank_reason: Option<String>,
    /// What the package's headers said (name, author, homepage, description), for the metadata.
    pub meta: PackageMeta,
}

/// What a package's headers and readme.txt say beside the version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PackageMeta {
    pub name: String,
    pub homepage: String,
    pub author: String,
    pub author_homepage: String,
    /// readme.txt's `== Description ==` (readme markup).
    pub description: String,
    /// The whole `== Changelog ==` section of readme.txt (readme markup).
    pub changelog_all: String,
}

/// A product's update settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct ProductUpdates {
    #[ts(type = "number")]
    pub product_id: i64,
    pub product_name: String,
    pub slug: Option<String>,
    pub kind: Option<UpdateKind>,
    pub require_activation: bool,
}

/// The digests of a package, hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    pub sha256: String,
    pub sha384: String,
    pub md5: String,
    pub size: u64,
}

/// The largest a slug may be, and what it may hold (WordPress's folder names).
pub fn valid_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'-' | b'_' | b'.'))
        && !s.starts_with('.')
}

/// Where a deterministic rollout puts a license on a site: 0 to 99 (the contract's rule 5).
pub fn rollout_bucket(license_key: &str, site: &str) -> u32 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new().chain_update(license_key.as_bytes()).chain_update(b"|").chain_update(site).finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) % 100
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_stable_and_spread() {
        assert_eq!(rollout_bucket("KM-A", "example.com"), rollout_bucket("KM-A", "example.com"));
        let mut counts = [0u32; 10];
        for i in 0..10_000 {
            counts[(rollout_bucket(&format!("KM-{i}"), "site.example") / 10) as usize] += 1;
        }
        assert!(counts.iter().all(|&c| (800..1200).contains(&c)), "{counts:?}");
        // The contract's formula, by hand.
        use sha2::{Digest, Sha256};
        let d = Sha256::digest(b"k|s");
        assert_eq!(rollout_bucket("k", "s"), u32::from_be_bytes([d[0], d[1], d[2], d[3]]) % 100);
    }

    #[test]
    fn slugs() {
        assert!(valid_slug("my-plugin"));
        assert!(valid_slug("theme_2.0"));
        assert!(!valid_slug("My Plugin"));
        assert!(!valid_slug("../x"));
        assert!(!valid_slug(""));
    }
}
