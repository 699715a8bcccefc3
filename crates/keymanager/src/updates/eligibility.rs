//! The one rule of who receives a package (updates-api.md, "Who receives a package"), pure: the
//! product's releases, the license as resolved, and what the request says go in; the code, the
//! release the site is told about and the release whose package it may have come out. Every way
//! of asking (PUC, EDD, `/v1/updates/check`, the CLI) and the download itself use it.

use super::{version, Release, ReleaseChannel, ReleaseStatus, UpdateCode};
use crate::model::{License, LicenseSource, LicenseStatus};
use crate::time::Timestamp;

/// The license a request named, as far as it resolved.
#[derive(Debug, Clone, Copy)]
pub enum Holder<'a> {
    /// No key or purchase code was sent.
    Nothing,
    NotFound,
    /// A genuine purchase waiting in the review queue.
    Pending,
    License {
        license: &'a License,
        /// Whether the asking site or machine is one of the license's activations.
        activated: bool,
    },
}

/// What the request reports about the site.
#[derive(Debug, Clone, Default)]
pub struct Asking<'a> {
    pub installed: Option<&'a str>,
    pub beta: bool,
    /// The site, canonical (`site::canonical`), for rollout buckets; empty when unknown.
    pub site: &'a str,
    pub php: Option<&'a str>,
    pub wordpress: Option<&'a str>,
}

/// The outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision<'r> {
    pub code: UpdateCode,
    /// The newest version the site is told about (it may get no package for it).
    pub shown: Option<&'r Release>,
    /// The release whose package the site may download.
    pub package: Option<&'r Release>,
}

/// Whether a release is offered at all to this request: published, in a channel asked for, and
/// inside its rollout for this license and site.
fn visible(r: &Release, license_key: Option<&str>, asking: &Asking) -> bool {
    if r.status != ReleaseStatus::Published {
        return false;
    }
    if r.channel == ReleaseChannel::Beta && !asking.beta {
        return false;
    }
    r.rollout >= 100 || license_key.is_some_and(|k| super::rollout_bucket(k, asking.site) < r.rollout)
}

/// Whether `releases` are newest first (`decide`'s input, the order `Store::releases` gives).
fn newest_first(releases: &[Release]) -> bool {
    releases.windows(2).all(|w| !version::newer(&w[1].version, &w[0].version))
}

/// Whether the site meets what the release requires (an unreported value is not held against it).
fn meets(r: &Release, asking: &Asking) -> bool {
    let above = |needed: &Option<String>, has: Option<&str>| match (needed.as_deref(), has) {
        (Some(n), Some(h)) if !n.trim().is_empty() && !h.trim().is_empty() => version::newer(n.trim(), h.trim()),
        _ => false,
    };
    !above(&r.requires_php, asking.php) && !above(&r.requires, asking.wordpress)
}

/// Whether a release was published on or before `until`.
fn published_by(r: &Release, until: Timestamp) -> bool {
    r.released_at.as_deref().and_then(crate::time::parse).is_some_and(|at| at <= until)
}

/// Decides for `releases` (all of product `product_id`, any status, newest first as the store
/// gives them: the newest visible is the first visible, with no version compared per request)
/// and `require_activation` (the product's `updates_require_activation`).
pub fn decide<'r>(
    product_id: i64,
    releases: &'r [Release],
    require_activation: bool,
    holder: Holder,
    asking: &Asking,
) -> Decision<'r> {
    let key = match holder {
        Holder::License { license, .. } => Some(license.license_key.as_str()),
        _ => None,
    };
    debug_assert!(newest_first(releases), "decide takes releases newest first");
    // Newest first: the newest visible release is the first one.
    let shown = releases.iter().find(|r| visible(r, key, asking));
    let refuse = |code| Decision { code, shown, package: None };
    let (license, activated) = match holder {
        Holder::Nothing => return refuse(UpdateCode::NoLicense),
        Holder::NotFound => return refuse(UpdateCode::NotFound),
        Holder::Pending => return refuse(UpdateCode::PendingReview),
        Holder::License { license, activated } => (license, activated),
    };
    if license.product_id != product_id {
        return refuse(UpdateCode::ProductMismatch);
    }
    match license.status {
        LicenseStatus::Revoked => return refuse(UpdateCode::Revoked),
        LicenseStatus::Suspended => return refuse(UpdateCode::Suspended),
        LicenseStatus::Active => {}
    }
    if require_activation && !activated {
        return refuse(UpdateCode::NotActivated);
    }
    // Rule 2: support expiry never withholds updates from an Envato sale; a hand-made license's
    // `updates_until` does, for releases published after it.
    let until = match license.source {
        LicenseSource::Envato => None,
        LicenseSource::Manual => license.updates_until.as_deref().and_then(crate::time::parse),
    };
    let Some(newest_shown) = shown else {
        return Decision { code: UpdateCode::UpToDate, shown: None, package: None };
    };
    let offered = match until {
        Some(until) if !published_by(newest_shown, until) => {
            match releases.iter().find(|r| visible(r, key, asking) && published_by(r, until)) {
                Some(r) if asking.installed.is_none_or(|i| version::newer(&r.version, i)) => r,
                _ => return refuse(UpdateCode::UpdatesExpired),
            }
        }
        _ => newest_shown,
    };
    if !meets(offered, asking) {
        return Decision { code: UpdateCode::RequirementsNotMet, shown: Some(offered), package: None };
    }
    let code = match asking.installed {
        Some(i) if !version::newer(&offered.version, i) => UpdateCode::UpToDate,
        _ => UpdateCode::UpdateAvailable,
    };
    Decision { code, shown: Some(offered), package: Some(offered) }
}

/// The checks a download makes again (the link named the release and the license): whether the
/// license may still have this release's package, and the code when it may not.
pub fn may_download(
    release: &Release,
    license: &License,
    require_activation: bool,
    activated: bool,
) -> Result<(), UpdateCode> {
    if release.product_id != license.product_id {
        return Err(UpdateCode::ProductMismatch);
    }
    match license.status {
        LicenseStatus::Revoked => return Err(UpdateCode::Revoked),
        LicenseStatus::Suspended => return Err(UpdateCode::Suspended),
        LicenseStatus::Active => {}
    }
    if require_activation && !activated {
        return Err(UpdateCode::NotActivated);
    }
    if license.source == LicenseSource::Manual {
        if let Some(until) = license.updates_until.as_deref().and_then(crate::time::parse) {
            if !published_by(release, until) {
                return Err(UpdateCode::UpdatesExpired);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::LicenseType;
    use crate::updates::PackageMeta;

    fn release(
        id: i64,
        version: &str,
        channel: ReleaseChannel,
        status: ReleaseStatus,
        rollout: u32,
        at: &str,
    ) -> Release {
        Release {
            id,
            product_id: 1,
            product_name: "Plugin".into(),
            version: version.into(),
            channel,
            status,
            rollout,
            changelog: String::new(),
            upgrade_notice: String::new(),
            requires: None,
            tested: None,
            requires_php: None,
            sha256: format!("{id:064}"),
            size: 1,
            created_at: at.into(),
            released_at: (status != ReleaseStatus::Draft).then(|| at.to_string()),
            yanked_at: None,
            yank_reason: None,
            meta: PackageMeta::default(),
        }
    }

    fn license(status: LicenseStatus, source: LicenseSource, until: Option<&str>) -> License {
        License {
            id: 7,
            license_key: "KM-TEST-KEY".into(),
            product_id: 1,
            product_name: "Plugin".into(),
            status,
            license_type: LicenseType::Regular,
            activation_limit: 1,
            activations_used: 0,
            source,
            purchase_code: None,
            envato_item_id: None,
            marketplace: None,
            buyer: None,
            purchase_count: None,
            envato_license: None,
            amount: None,
            sold_at: None,
            supported_until: Some("2020-01-01T00:00:00Z".into()),
            created_at: "2020-01-01T00:00:00Z".into(),
            envato_checked_at: None,
            envato_flag: None,
            item_name: None,
            buyer_email: None,
            note: None,
            dev_activations_used: 0,
            shared_suspected_at: None,
            updates_until: until.map(str::to_string),
        }
    }

    use ReleaseChannel::*;
    use ReleaseStatus::*;

    /// `decide`'s input order.
    fn sort_newest_first(releases: &mut [Release]) {
        releases.sort_by(|a, b| version::compare(&b.version, &a.version));
    }

    /// A site that a rollout of `percent` reaches (and one it does not), for the key above.
    fn sites_for(percent: u32) -> (String, String) {
        let mut inside = None;
        let mut outside = None;
        for i in 0..1000 {
            let site = format!("site{i}.example");
            if crate::updates::rollout_bucket("KM-TEST-KEY", &site) < percent {
                inside.get_or_insert(site);
            } else {
                outside.get_or_insert(site);
            }
        }
        (inside.unwrap(), outside.unwrap())
    }

    #[test]
    fn every_rule_in_a_table() {
        let mut php8 = release(4, "1.3.0", Stable, Published, 100, "2026-06-01T00:00:00Z");
        php8.requires_php = Some("8.1".into());
        let releases = vec![
            release(1, "1.0.0", Stable, Published, 100, "2026-01-01T00:00:00Z"),
            release(2, "1.1.0", Stable, Published, 100, "2026-03-01T00:00:00Z"),
            release(3, "1.2.0-beta1", Beta, Published, 100, "2026-04-01T00:00:00Z"),
            release(5, "1.1.1", Stable, Yanked, 100, "2026-03-15T00:00:00Z"),
            release(6, "2.0.0", Stable, Draft, 100, "2026-07-01T00:00:00Z"),
        ];
        let mut releases = releases;
        sort_newest_first(&mut releases);
        let mut with_php8: Vec<Release> = releases.iter().cloned().chain([php8]).collect();
        sort_newest_first(&mut with_php8);
        let active = license(LicenseStatus::Active, LicenseSource::Envato, None);
        let suspended = license(LicenseStatus::Suspended, LicenseSource::Envato, None);
        let revoked = license(LicenseStatus::Revoked, LicenseSource::Envato, None);
        let manual_until = license(LicenseStatus::Active, LicenseSource::Manual, Some("2026-02-01T00:00:00Z"));
        let manual_early = license(LicenseStatus::Active, LicenseSource::Manual, Some("2025-12-01T00:00:00Z"));
        let envato_until = license(LicenseStatus::Active, LicenseSource::Envato, Some("2025-12-01T00:00:00Z"));
        let mut other = license(LicenseStatus::Active, LicenseSource::Envato, None);
        other.product_id = 2;
        let lic = |l| Holder::License { license: l, activated: true };
        let at = |installed| Asking { installed: Some(installed), site: "shop.example", ..Default::default() };
        let beta = |installed| Asking { beta: true, ..at(installed) };
        let php = |installed, php| Asking { php: Some(php), ..at(installed) };
        type Case<'a> = (&'a str, &'a [Release], bool, Holder<'a>, Asking<'a>, UpdateCode, Option<&'a str>, bool);
        let cases: Vec<Case> = vec![
            // (name, releases, require activation, holder, asking, code, shown, package)
            (
                "eligible, older installed",
                &releases,
                false,
                lic(&active),
                at("1.0.0"),
                UpdateCode::UpdateAvailable,
                Some("1.1.0"),
                true,
            ),
            (
                "eligible, up to date",
                &releases,
                false,
                lic(&active),
                at("1.1.0"),
                UpdateCode::UpToDate,
                Some("1.1.0"),
                true,
            ),
            (
                "no key sent",
                &releases,
                false,
                Holder::Nothing,
                at("1.0.0"),
                UpdateCode::NoLicense,
                Some("1.1.0"),
                false,
            ),
            (
                "unknown key",
                &releases,
                false,
                Holder::NotFound,
                at("1.0.0"),
                UpdateCode::NotFound,
                Some("1.1.0"),
                false,
            ),
            (
                "pending sale",
                &releases,
                false,
                Holder::Pending,
                at("1.0.0"),
                UpdateCode::PendingReview,
                Some("1.1.0"),
                false,
            ),
            (
                "another product's license",
                &releases,
                false,
                lic(&other),
                at("1.0.0"),
                UpdateCode::ProductMismatch,
                Some("1.1.0"),
                false,
            ),
            (
                "suspended sees, gets nothing",
                &releases,
                false,
                lic(&suspended),
                at("1.0.0"),
                UpdateCode::Suspended,
                Some("1.1.0"),
                false,
            ),
            ("revoked", &releases, false, lic(&revoked), at("1.0.0"), UpdateCode::Revoked, Some("1.1.0"), false),
            // Rule 2: an expired support window never matters for an Envato sale, even with a date.
            (
                "envato ignores updates_until",
                &releases,
                false,
                lic(&envato_until),
                at("1.0.0"),
                UpdateCode::UpdateAvailable,
                Some("1.1.0"),
                true,
            ),
            (
                "manual: newest allowed by updates_until",
                &releases,
                false,
                lic(&manual_until),
                at("0.9.0"),
                UpdateCode::UpdateAvailable,
                Some("1.0.0"),
                true,
            ),
            (
                "manual: nothing newer allowed",
                &releases,
                false,
                lic(&manual_until),
                at("1.0.0"),
                UpdateCode::UpdatesExpired,
                Some("1.1.0"),
                false,
            ),
            (
                "manual: nothing allowed",
                &releases,
                false,
                lic(&manual_early),
                at("0.9.0"),
                UpdateCode::UpdatesExpired,
                Some("1.1.0"),
                false,
            ),
            // Rule 3.
            (
                "activation required, not activated",
                &releases,
                true,
                Holder::License { license: &active, activated: false },
                at("1.0.0"),
                UpdateCode::NotActivated,
                Some("1.1.0"),
                false,
            ),
            (
                "activation required, activated",
                &releases,
                true,
                lic(&active),
                at("1.0.0"),
                UpdateCode::UpdateAvailable,
                Some("1.1.0"),
                true,
            ),
            // Rule 4.
            (
                "beta asked: newer beta",
                &releases,
                false,
                lic(&active),
                beta("1.0.0"),
                UpdateCode::UpdateAvailable,
                Some("1.2.0-beta1"),
                true,
            ),
            (
                "beta never without asking",
                &releases,
                false,
                lic(&active),
                at("1.1.0"),
                UpdateCode::UpToDate,
                Some("1.1.0"),
                true,
            ),
            // Rule 6 (and the newest stable needs PHP 8.1).
            (
                "php too old",
                &with_php8,
                false,
                lic(&active),
                php("1.1.0", "7.4.33"),
                UpdateCode::RequirementsNotMet,
                Some("1.3.0"),
                false,
            ),
            (
                "php new enough",
                &with_php8,
                false,
                lic(&active),
                php("1.1.0", "8.2.1"),
                UpdateCode::UpdateAvailable,
                Some("1.3.0"),
                true,
            ),
            (
                "php not reported",
                &with_php8,
                false,
                lic(&active),
                at("1.1.0"),
                UpdateCode::UpdateAvailable,
                Some("1.3.0"),
                true,
            ),
            // Rule 7: 1.1.1 is yanked, drafts never show.
            ("no releases at all", &[], false, lic(&active), at("1.0.0"), UpdateCode::UpToDate, None, false),
        ];
        for (name, releases, require, holder, asking, code, shown, package) in cases {
            let d = decide(1, releases, require, holder, &asking);
            assert_eq!(d.code, code, "{name}");
            assert_eq!(d.shown.map(|r| r.version.as_str()), shown, "{name}: shown");
            assert_eq!(d.package.is_some(), package, "{name}: package");
            if let Some(p) = d.package {
                assert_eq!(Some(p.version.as_str()), shown, "{name}: the package is the release shown");
            }
        }
    }

    #[test]
    fn rollout_buckets_pick_the_release() {
        let releases = vec![
            release(2, "1.1.0", Stable, Published, 30, "2026-03-01T00:00:00Z"),
            release(1, "1.0.0", Stable, Published, 100, "2026-01-01T00:00:00Z"),
        ];
        let active = license(LicenseStatus::Active, LicenseSource::Envato, None);
        let (inside, outside) = sites_for(30);
        let holder = Holder::License { license: &active, activated: true };
        let d = decide(
            1,
            &releases,
            false,
            holder,
            &Asking { installed: Some("1.0.0"), site: &inside, ..Default::default() },
        );
        assert_eq!((d.code, d.package.map(|r| r.id)), (UpdateCode::UpdateAvailable, Some(2)));
        let d = decide(
            1,
            &releases,
            false,
            holder,
            &Asking { installed: Some("0.9"), site: &outside, ..Default::default() },
        );
        assert_eq!((d.code, d.package.map(|r| r.id)), (UpdateCode::UpdateAvailable, Some(1)));
        // Without a license nobody is inside a partial rollout.
        let d = decide(1, &releases, false, Holder::Nothing, &Asking { site: &inside, ..Default::default() });
        assert_eq!(d.shown.map(|r| r.id), Some(1));
        // 0 reaches no one, 100 everyone.
        let mut none = releases.clone();
        none[0].rollout = 0;
        let d =
            decide(1, &none, false, holder, &Asking { installed: Some("1.0.0"), site: &inside, ..Default::default() });
        assert_eq!(d.code, UpdateCode::UpToDate);
    }

    #[test]
    fn a_download_checks_again() {
        let r = release(2, "1.1.0", Stable, Published, 100, "2026-03-01T00:00:00Z");
        let ok = license(LicenseStatus::Active, LicenseSource::Envato, None);
        assert_eq!(may_download(&r, &ok, false, false), Ok(()));
        assert_eq!(may_download(&r, &ok, true, false), Err(UpdateCode::NotActivated));
        let s = license(LicenseStatus::Suspended, LicenseSource::Envato, None);
        assert_eq!(may_download(&r, &s, false, true), Err(UpdateCode::Suspended));
        let m = license(LicenseStatus::Active, LicenseSource::Manual, Some("2026-02-01T00:00:00Z"));
        assert_eq!(may_download(&r, &m, false, true), Err(UpdateCode::UpdatesExpired));
        let mut other = ok.clone();
        other.product_id = 9;
        assert_eq!(may_download(&r, &other, false, true), Err(UpdateCode::ProductMismatch));
    }
}
