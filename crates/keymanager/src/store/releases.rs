//! The `releases` and `release_downloads` tables, and the update columns of `products` and
//! `licenses` (updates-api.md). Packages themselves are files (`updates::package`); a row names
//! its package by SHA-256.

use super::audit::{insert_audit, AuditEntry, AuditLevel};
use super::outbox::emit;
use super::Store;
use crate::error::{Error, ErrorCode, Result};
use crate::events::EventType;
use crate::release::{
    version, Digests, PackageMeta, ProductUpdates, Release, ReleaseChannel, ReleaseStatus, UpdateKind,
};
use crate::time::{to_db, Timestamp};
use rusqlite::{params, OptionalExtension, Transaction};

const SELECT: &str = "SELECT r.id, r.product_id, p.name, r.version, r.channel, r.status, r.rollout, r.changelog,
        r.upgrade_notice, r.requires, r.tested, r.requires_php, r.sha256, r.size, r.created_at, r.released_at,
        r.yanked_at, r.yank_reason, r.meta
     FROM releases r JOIN products p ON p.id = r.product_id";

fn row_to_release(r: &rusqlite::Row<'_>) -> rusqlite::Result<Release> {
    let meta: String = r.get(18)?;
    Ok(Release {
        id: r.get(0)?,
        product_id: r.get(1)?,
        product_name: r.get(2)?,
        version: r.get(3)?,
        channel: r.get(4)?,
        status: r.get(5)?,
        rollout: r.get(6)?,
        changelog: r.get(7)?,
        upgrade_notice: r.get(8)?,
        requires: r.get(9)?,
        tested: r.get(10)?,
        requires_php: r.get(11)?,
        sha256: r.get(12)?,
        size: r.get::<_, i64>(13)? as u64,
        created_at: r.get(14)?,
        released_at: r.get(15)?,
        yanked_at: r.get(16)?,
        yank_reason: r.get(17)?,
        meta: serde_json::from_str(&meta).unwrap_or_default(),
    })
}

/// A release to record: its package already staged and read.
#[derive(Debug, Clone)]
pub struct NewRelease {
    pub product_id: i64,
    pub version: String,
    pub channel: ReleaseChannel,
    pub changelog: String,
    pub upgrade_notice: String,
    pub requires: Option<String>,
    pub tested: Option<String>,
    pub requires_php: Option<String>,
    pub digests: Digests,
    pub meta: PackageMeta,
    /// The slug and kind the package showed, set on the product if it has none yet.
    pub slug: Option<String>,
    pub kind: Option<UpdateKind>,
}

/// The edits a seller makes to a release's text and requirements (None: unchanged).
#[derive(Debug, Clone, Default, serde::Deserialize, ts_rs::TS, serde::Serialize)]
pub struct ReleaseEdit {
    #[ts(optional)]
    pub changelog: Option<String>,
    #[ts(optional)]
    pub upgrade_notice: Option<String>,
    #[ts(optional)]
    pub requires: Option<String>,
    #[ts(optional)]
    pub tested: Option<String>,
    #[ts(optional)]
    pub requires_php: Option<String>,
}

/// The package and hashes a download answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleasePackage {
    pub release: Release,
    pub sha384: String,
    pub md5: String,
    pub slug: String,
}

const CHANGELOG_MAX: usize = 20_000;

fn not_found(id: i64) -> Error {
    Error::new(ErrorCode::ReleaseNotFound, format!("There is no release with ID {id}."))
}

fn release_in(conn: &rusqlite::Connection, id: i64) -> Result<Option<Release>> {
    Ok(conn.prepare_cached(&format!("{SELECT} WHERE r.id = ?1"))?.query_row([id], row_to_release).optional()?)
}

fn product_updates_in(conn: &rusqlite::Connection, product_id: i64) -> Result<Option<ProductUpdates>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, name, update_slug, update_kind, updates_require_activation FROM products WHERE id = ?1",
        )?
        .query_row([product_id], row_to_updates)
        .optional()?)
}

fn row_to_updates(r: &rusqlite::Row<'_>) -> rusqlite::Result<ProductUpdates> {
    Ok(ProductUpdates {
        product_id: r.get(0)?,
        product_name: r.get(1)?,
        slug: r.get(2)?,
        kind: r.get(3)?,
        require_activation: r.get(4)?,
    })
}

/// The newest published (not yanked) release of a product in a channel, other than `except`.
fn newest_published(
    tx: &rusqlite::Connection,
    product_id: i64,
    channel: ReleaseChannel,
    except: i64,
) -> Result<Option<String>> {
    let mut stmt = tx.prepare_cached(
        "SELECT version FROM releases WHERE product_id = ?1 AND channel = ?2 AND status = 'published' AND id <> ?3",
    )?;
    let versions: Vec<String> =
        stmt.query_map(params![product_id, channel, except], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    Ok(versions.into_iter().reduce(|a, b| if version::newer(&b, &a) { b } else { a }))
}

fn check_newer(
    tx: &rusqlite::Connection,
    product_id: i64,
    channel: ReleaseChannel,
    v: &str,
    except: i64,
) -> Result<()> {
    if let Some(latest) = newest_published(tx, product_id, channel, except)? {
        if !version::newer(v, &latest) {
            return Err(Error::new(
                ErrorCode::ReleaseNotNewer,
                format!("{v} is not newer than {latest}, the latest published {channel} release; WordPress never installs an older version."),
            )
            .with_field("version"));
        }
    }
    Ok(())
}

fn release_event(
    tx: &Transaction<'_>,
    kind: EventType,
    r: &Release,
    reason: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    emit(tx, now, kind, None, None, |_| {
        Ok(serde_json::json!({
            "product": { "id": r.product_id, "name": r.product_name },
            "version": r.version,
            "channel": r.channel,
            "reason": reason,
        }))
    })
}

fn text_field(v: Option<&str>, max: usize, field: &str) -> Result<Option<String>> {
    match v {
        None => Ok(None),
        Some(t) if t.chars().count() > max => {
            Err(Error::invalid_input(format!("This text has at most {max} characters.")).with_field(field))
        }
        Some(t) => Ok(Some(t.trim().to_string())),
    }
}

fn requirement(v: Option<&str>, field: &str) -> Result<Option<Option<String>>> {
    match v.map(str::trim) {
        None => Ok(None),
        Some("") => Ok(Some(None)),
        Some(t) if version::valid(t) => Ok(Some(Some(t.to_string()))),
        Some(t) => Err(Error::invalid_input(format!("“{t}” is not a version (such as 6.4 or 8.1).")).with_field(field)),
    }
}

impl Store {
    pub fn product_updates(&self, product_id: i64) -> Result<Option<ProductUpdates>> {
        product_updates_in(&self.conn, product_id)
    }

    /// The product WordPress knows by this slug.
    pub fn product_by_update_slug(&self, slug: &str) -> Result<Option<ProductUpdates>> {
        Ok(self
            .conn
            .prepare_cached("SELECT id, name, update_slug, update_kind, updates_require_activation FROM products WHERE update_slug = ?1")?
            .query_row([slug], row_to_updates)
            .optional()?)
    }

    /// The product an EDD request names: a KeyManager product id or an Envato item id, else the
    /// product's name (case-insensitive), else the slug.
    pub fn product_for_edd(
        &self,
        item_id: Option<i64>,
        item_name: Option<&str>,
        slug: Option<&str>,
    ) -> Result<Option<ProductUpdates>> {
        if let Some(id) = item_id {
            let by_item: Option<i64> = self
                .conn
                .prepare_cached("SELECT product_id FROM product_envato_items WHERE item_id = ?1")?
                .query_row([id], |r| r.get(0))
                .optional()?;
            if let Some(p) = product_updates_in(&self.conn, by_item.unwrap_or(id))? {
                return Ok(Some(p));
            }
        }
        if let Some(name) = item_name.map(str::trim).filter(|n| !n.is_empty()) {
            let id: Option<i64> = self
                .conn
                .prepare_cached("SELECT id FROM products WHERE lower(name) = lower(?1) ORDER BY id LIMIT 1")?
                .query_row([name], |r| r.get(0))
                .optional()?;
            if let Some(id) = id {
                return product_updates_in(&self.conn, id);
            }
        }
        match slug {
            Some(s) => self.product_by_update_slug(s),
            None => Ok(None),
        }
    }

    /// Sets a product's update slug, kind and activation rule (None leaves one as it is; a slug
    /// of "" clears it).
    pub fn set_product_updates(
        &mut self,
        product_id: i64,
        slug: Option<&str>,
        kind: Option<UpdateKind>,
        require_activation: Option<bool>,
        now: Timestamp,
    ) -> Result<ProductUpdates> {
        let slug = slug.map(str::trim);
        if let Some(s) = slug.filter(|s| !s.is_empty()) {
            if !crate::release::valid_slug(s) {
                return Err(Error::invalid_input(format!(
                    "“{s}” is not a slug: lower-case letters, digits, dashes, dots and underscores (the plugin's or theme's folder name)."
                ))
                .with_field("update_slug"));
            }
        }
        self.write(|tx| {
            let Some(before) = product_updates_in(tx, product_id)? else {
                return Err(Error::new(
                    ErrorCode::ProductNotFound,
                    format!("There is no product with ID {product_id}."),
                ));
            };
            if let Some(s) = slug {
                let s = (!s.is_empty()).then_some(s);
                if let Some(s) = s {
                    let other: Option<String> = tx
                        .prepare_cached("SELECT name FROM products WHERE update_slug = ?1 AND id <> ?2")?
                        .query_row(params![s, product_id], |r| r.get(0))
                        .optional()?;
                    if let Some(other) = other {
                        return Err(Error::new(
                            ErrorCode::ProductSlugTaken,
                            format!("“{other}” already has the update slug “{s}”."),
                        )
                        .with_field("update_slug"));
                    }
                }
                tx.execute("UPDATE products SET update_slug = ?2 WHERE id = ?1", params![product_id, s])?;
            }
            if let Some(k) = kind {
                tx.execute("UPDATE products SET update_kind = ?2 WHERE id = ?1", params![product_id, k])?;
            }
            if let Some(r) = require_activation {
                tx.execute(
                    "UPDATE products SET updates_require_activation = ?2 WHERE id = ?1",
                    params![product_id, r],
                )?;
            }
            let after = product_updates_in(tx, product_id)?.ok_or_else(|| Error::internal("The product vanished."))?;
            if after != before {
                let message = format!(
                    "Updates: slug {}, kind {}, activation {}.",
                    after.slug.as_deref().unwrap_or("none"),
                    after.kind.map_or("unset", |k| k.as_str()),
                    if after.require_activation { "required" } else { "not required" }
                );
                insert_audit(
                    tx,
                    &AuditEntry::new(now, AuditLevel::Info, "product.updates_changed", message).product(product_id),
                )?;
            }
            Ok(after)
        })
    }

    /// Releases, newest version first (of one product, or of all).
    pub fn releases(&self, product_id: Option<i64>) -> Result<Vec<Release>> {
        let mut out: Vec<Release> = match product_id {
            Some(p) => self
                .conn
                .prepare_cached(&format!("{SELECT} WHERE r.product_id = ?1"))?
                .query_map([p], row_to_release)?
                .collect::<rusqlite::Result<_>>()?,
            None => {
                self.conn.prepare_cached(SELECT)?.query_map([], row_to_release)?.collect::<rusqlite::Result<_>>()?
            }
        };
        out.sort_by(|a, b| a.product_id.cmp(&b.product_id).then(version::compare(&b.version, &a.version)));
        Ok(out)
    }

    pub fn release(&self, id: i64) -> Result<Option<Release>> {
        release_in(&self.conn, id)
    }

    /// A release with what a download needs: its hashes and the product's slug.
    pub fn release_package(&self, id: i64) -> Result<Option<ReleasePackage>> {
        let Some(release) = self.release(id)? else { return Ok(None) };
        let (sha384, md5, slug): (String, String, Option<String>) = self.conn.prepare_cached(
            "SELECT r.sha384, r.md5, p.update_slug FROM releases r JOIN products p ON p.id = r.product_id WHERE r.id = ?1",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(Some(ReleasePackage { release, sha384, md5, slug: slug.unwrap_or_else(|| "package".into()) }))
    }

    /// Whether any release names this package (a package no release names can be deleted).
    pub fn package_in_use(&self, sha256: &str) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM releases WHERE sha256 = ?1 LIMIT 1")?
            .query_row([sha256], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// The packages every release names (backups copy them).
    pub fn package_hashes(&self) -> Result<Vec<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT DISTINCT sha256 FROM releases")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// Records a draft release, and the product's slug and kind if it had none. Refused when
    /// the version is already a release of the product or is not newer than the newest published
    /// release of its channel.
    pub fn insert_release(&mut self, new: &NewRelease, now: Timestamp) -> Result<Release> {
        if !version::valid(&new.version) {
            return Err(Error::invalid_input(format!(
                "“{}” is not a version: it starts with a digit and holds letters, digits, dots, dashes and pluses.",
                new.version
            ))
            .with_field("version"));
        }
        let changelog = text_field(Some(&new.changelog), CHANGELOG_MAX, "changelog")?.unwrap_or_default();
        let notice = text_field(Some(&new.upgrade_notice), 2000, "upgrade_notice")?.unwrap_or_default();
        self.write(|tx| {
            let Some(product) = product_updates_in(tx, new.product_id)? else {
                return Err(Error::new(ErrorCode::ProductNotFound, format!("There is no product with ID {}.", new.product_id)));
            };
            let same: Option<String> = tx
                .prepare_cached("SELECT status FROM releases WHERE product_id = ?1 AND version = ?2")?
                .query_row(params![new.product_id, new.version], |r| r.get(0))
                .optional()?;
            if let Some(status) = same {
                return Err(Error::new(
                    ErrorCode::ReleaseNotNewer,
                    format!("{} already has a release {} ({status}); give this one a newer version.", product.product_name, new.version),
                )
                .with_field("version"));
            }
            check_newer(tx, new.product_id, new.channel, &new.version, 0)?;
            if product.slug.is_none() {
                if let Some(s) = &new.slug {
                    let taken: Option<String> = tx
                        .prepare_cached("SELECT name FROM products WHERE update_slug = ?1 AND id <> ?2")?
                        .query_row(params![s, new.product_id], |r| r.get(0))
                        .optional()?;
                    if let Some(other) = taken {
                        return Err(Error::new(ErrorCode::ProductSlugTaken, format!("“{other}” already has the update slug “{s}”.")));
                    }
                    tx.execute("UPDATE products SET update_slug = ?2 WHERE id = ?1", params![new.product_id, s])?;
                }
            }
            if product.kind.is_none() {
                if let Some(k) = new.kind {
                    tx.execute("UPDATE products SET update_kind = ?2 WHERE id = ?1", params![new.product_id, k])?;
                }
            }
            tx.prepare_cached(
                "INSERT INTO releases (product_id, version, channel, status, rollout, changelog, upgrade_notice, requires, tested,
                    requires_php, sha256, sha384, md5, size, meta, created_at)
                 VALUES (?1, ?2, ?3, 'draft', 100, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )?
            .execute(params![
                new.product_id,
                new.version,
                new.channel,
                changelog,
                notice,
                new.requires,
                new.tested,
                new.requires_php,
                new.digests.sha256,
                new.digests.sha384,
                new.digests.md5,
                new.digests.size as i64,
                serde_json::to_string(&new.meta).unwrap_or_else(|_| "{}".into()),
                to_db(now)
            ])?;
            let id = tx.last_insert_rowid();
            insert_audit(
                tx,
                &AuditEntry::new(now, AuditLevel::Info, "release.added", format!("Release {} ({}) added as a draft.", new.version, new.channel))
                    .product(new.product_id),
            )?;
            release_in(tx, id)?.ok_or_else(|| Error::internal("The new release vanished."))
        })
    }

    /// Publishes a draft (its version checked again against what was published meanwhile).
    pub fn publish_release(&mut self, id: i64, rollout: Option<u32>, now: Timestamp) -> Result<Release> {
        let rollout = rollout.unwrap_or(100);
        if rollout > 100 {
            return Err(Error::invalid_input("A rollout is a percentage from 0 to 100.").with_field("rollout"));
        }
        self.write(|tx| {
            let r = release_in(tx, id)?.ok_or_else(|| not_found(id))?;
            if r.status != ReleaseStatus::Draft {
                return Err(Error::new(
                    ErrorCode::ReleaseInvalidTransition,
                    format!("Release {} is {}; only a draft can be published.", r.version, r.status),
                ));
            }
            check_newer(tx, r.product_id, r.channel, &r.version, id)?;
            let slug: Option<String> = tx
                .prepare_cached("SELECT update_slug FROM products WHERE id = ?1")?
                .query_row([r.product_id], |row| row.get(0))?;
            if slug.is_none() {
                return Err(Error::new(
                    ErrorCode::InputInvalid,
                    format!(
                        "{} has no update slug yet; set one (products edit --update-slug) before publishing.",
                        r.product_name
                    ),
                )
                .with_field("update_slug"));
            }
            tx.execute(
                "UPDATE releases SET status = 'published', rollout = ?2, released_at = ?3 WHERE id = ?1",
                params![id, rollout, to_db(now)],
            )?;
            let after = release_in(tx, id)?.ok_or_else(|| not_found(id))?;
            insert_audit(
                tx,
                &AuditEntry::new(
                    now,
                    AuditLevel::Info,
                    "release.published",
                    format!("Release {} published to {} at {}% rollout.", r.version, r.channel, rollout),
                )
                .product(r.product_id),
            )?;
            release_event(tx, EventType::ReleasePublished, &after, None, now)?;
            Ok(after)
        })
    }

    /// Changes a published release's rollout; reaching 100 is announced as `release.published`.
    pub fn set_rollout(&mut self, id: i64, percent: u32, now: Timestamp) -> Result<Release> {
        if percent > 100 {
            return Err(Error::invalid_input("A rollout is a percentage from 0 to 100.").with_field("rollout"));
        }
        self.write(|tx| {
            let r = release_in(tx, id)?.ok_or_else(|| not_found(id))?;
            if r.status != ReleaseStatus::Published {
                return Err(Error::new(
                    ErrorCode::ReleaseInvalidTransition,
                    format!("Release {} is {}; a rollout applies to a published release.", r.version, r.status),
                ));
            }
            tx.execute("UPDATE releases SET rollout = ?2 WHERE id = ?1", params![id, percent])?;
            let after = release_in(tx, id)?.ok_or_else(|| not_found(id))?;
            if percent != r.rollout {
                insert_audit(
                    tx,
                    &AuditEntry::new(
                        now,
                        AuditLevel::Info,
                        "release.rollout",
                        format!("Release {}: rollout {}% → {}%.", r.version, r.rollout, percent),
                    )
                    .product(r.product_id),
                )?;
            }
            if percent == 100 && r.rollout < 100 {
                release_event(tx, EventType::ReleasePublished, &after, None, now)?;
            }
            Ok(after)
        })
    }

    /// Withdraws a published release: never offered or downloaded again.
    pub fn yank_release(&mut self, id: i64, reason: &str, now: Timestamp) -> Result<Release> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(
                Error::invalid_input("Say why the release is yanked (at most 500 characters).").with_field("reason")
            );
        }
        self.write(|tx| {
            let r = release_in(tx, id)?.ok_or_else(|| not_found(id))?;
            if r.status != ReleaseStatus::Published {
                return Err(Error::new(
                    ErrorCode::ReleaseInvalidTransition,
                    format!(
                        "Release {} is {}; only a published release can be yanked (remove a draft instead).",
                        r.version, r.status
                    ),
                ));
            }
            tx.execute(
                "UPDATE releases SET status = 'yanked', yanked_at = ?2, yank_reason = ?3 WHERE id = ?1",
                params![id, to_db(now), reason],
            )?;
            let after = release_in(tx, id)?.ok_or_else(|| not_found(id))?;
            insert_audit(
                tx,
                &AuditEntry::new(
                    now,
                    AuditLevel::Warning,
                    "release.yanked",
                    format!("Release {} yanked: {reason}", r.version),
                )
                .product(r.product_id),
            )?;
            release_event(tx, EventType::ReleaseYanked, &after, Some(reason), now)?;
            Ok(after)
        })
    }

    /// Removes a draft; returns it (its package file may go if no other release names it).
    pub fn remove_release(&mut self, id: i64, now: Timestamp) -> Result<Release> {
        self.write(|tx| {
            let r = release_in(tx, id)?.ok_or_else(|| not_found(id))?;
            if r.status != ReleaseStatus::Draft {
                return Err(Error::new(
                    ErrorCode::ReleaseInvalidTransition,
                    format!(
                        "Release {} is {}; only drafts can be removed (yank a published release).",
                        r.version, r.status
                    ),
                ));
            }
            tx.execute("DELETE FROM releases WHERE id = ?1", [id])?;
            insert_audit(
                tx,
                &AuditEntry::new(
                    now,
                    AuditLevel::Info,
                    "release.removed",
                    format!("Draft release {} removed.", r.version),
                )
                .product(r.product_id),
            )?;
            Ok(r)
        })
    }

    /// Edits a release's changelog, upgrade notice and requirements (any status but yanked).
    pub fn edit_release(&mut self, id: i64, edit: &ReleaseEdit, now: Timestamp) -> Result<Release> {
        let changelog = text_field(edit.changelog.as_deref(), CHANGELOG_MAX, "changelog")?;
        let notice = text_field(edit.upgrade_notice.as_deref(), 2000, "upgrade_notice")?;
        let requires = requirement(edit.requires.as_deref(), "requires")?;
        let tested = requirement(edit.tested.as_deref(), "tested")?;
        let requires_php = requirement(edit.requires_php.as_deref(), "requires_php")?;
        self.write(|tx| {
            let r = release_in(tx, id)?.ok_or_else(|| not_found(id))?;
            if r.status == ReleaseStatus::Yanked {
                return Err(Error::new(ErrorCode::ReleaseInvalidTransition, format!("Release {} is yanked.", r.version)));
            }
            tx.execute(
                "UPDATE releases SET changelog = ?2, upgrade_notice = ?3, requires = ?4, tested = ?5, requires_php = ?6 WHERE id = ?1",
                params![
                    id,
                    changelog.unwrap_or(r.changelog.clone()),
                    notice.unwrap_or(r.upgrade_notice.clone()),
                    requires.unwrap_or(r.requires.clone()),
                    tested.unwrap_or(r.tested.clone()),
                    requires_php.unwrap_or(r.requires_php.clone()),
                ],
            )?;
            insert_audit(
                tx,
                &AuditEntry::new(now, AuditLevel::Info, "release.edited", format!("Release {} edited.", r.version)).product(r.product_id),
            )?;
            release_in(tx, id)?.ok_or_else(|| not_found(id))
        })
    }

    /// Counts a download of `release_id` by `license_id` unless the license has made `per_day`
    /// in the last 24 hours (then false, nothing written).
    pub fn record_download(&mut self, license_id: i64, release_id: i64, per_day: u32, now: Timestamp) -> Result<bool> {
        let since = to_db(now - chrono::Duration::hours(24));
        self.write(|tx| {
            tx.prepare_cached("DELETE FROM release_downloads WHERE license_id = ?1 AND at < ?2")?
                .execute(params![license_id, since])?;
            let n: u32 = tx
                .prepare_cached("SELECT count(*) FROM release_downloads WHERE license_id = ?1 AND at >= ?2")?
                .query_row(params![license_id, since], |r| r.get(0))?;
            if n >= per_day {
                return Ok(false);
            }
            tx.prepare_cached("INSERT INTO release_downloads (license_id, release_id, at) VALUES (?1, ?2, ?3)")?
                .execute(params![license_id, release_id, to_db(now)])?;
            Ok(true)
        })
    }

    /// Sets (or clears) a hand-made license's end of updates.
    pub fn set_updates_until(
        &mut self,
        license_id: i64,
        until: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<crate::model::License> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE licenses SET updates_until = ?2, updated_at = ?3 WHERE id = ?1",
                params![license_id, until.map(to_db), to_db(now)],
            )?;
            if n == 0 {
                return Err(Error::new(
                    ErrorCode::LicenseNotFound,
                    format!("There is no license with ID {license_id}."),
                ));
            }
            let message = match until {
                Some(u) => format!("Updates until {}.", to_db(u)),
                None => "Updates without an end date.".to_string(),
            };
            insert_audit(
                tx,
                &AuditEntry::new(now, AuditLevel::Info, "license.updates_until", message).license(license_id),
            )?;
            super::licenses::license_in(tx, license_id)?.ok_or_else(|| Error::internal("The license vanished."))
        })
    }

    /// Whether the license is activated for this site (canonical) or this fingerprint.
    pub fn activated_for(&self, license_id: i64, site: Option<&str>, fingerprint: Option<&str>) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT 1 FROM activations WHERE license_id = ?1 AND ((?2 IS NOT NULL AND site = ?2) OR (?3 IS NOT NULL AND instance_id = ?3)) LIMIT 1",
            )?
            .query_row(params![license_id, site.filter(|s| !s.is_empty()), fingerprint.filter(|f| !f.is_empty())], |_| Ok(()))
            .optional()?
            .is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventFilter;
    use crate::model::NewProduct;

    fn now() -> Timestamp {
        crate::time::parse("2026-12-01T10:00:00Z").unwrap()
    }

    fn new(product_id: i64, version: &str, channel: ReleaseChannel) -> NewRelease {
        NewRelease {
            product_id,
            version: version.into(),
            channel,
            changelog: format!("* {version}"),
            upgrade_notice: String::new(),
            requires: None,
            tested: None,
            requires_php: None,
            digests: Digests {
                sha256: format!("{:0>64}", version.replace('.', "")),
                sha384: "00".repeat(48),
                md5: "00".repeat(16),
                size: 10,
            },
            meta: PackageMeta::default(),
            slug: Some("km-demo".into()),
            kind: Some(UpdateKind::WpPlugin),
        }
    }

    #[test]
    fn a_release_goes_draft_published_yanked_and_tells_webhooks() {
        let mut s = Store::open_in_memory().unwrap();
        let p = s.create_product(&NewProduct { name: "KM Demo".into(), ..Default::default() }, now()).unwrap();
        s.add_webhook_endpoint(
            "https://hooks.example/km",
            &EventFilter::parse("release.published,release.yanked").unwrap(),
            now(),
        )
        .unwrap();
        let r = s.insert_release(&new(p.id, "1.0.0", ReleaseChannel::Stable), now()).unwrap();
        assert_eq!(r.status, ReleaseStatus::Draft);
        let u = s.product_updates(p.id).unwrap().unwrap();
        assert_eq!(
            (u.slug.as_deref(), u.kind),
            (Some("km-demo"), Some(UpdateKind::WpPlugin)),
            "the first zip sets slug and kind"
        );
        assert!(s.deliveries(None, None, 10).unwrap().is_empty(), "a draft tells no one");
        let r = s.publish_release(r.id, Some(50), now()).unwrap();
        assert_eq!(
            (r.status, r.rollout, r.released_at.as_deref()),
            (ReleaseStatus::Published, 50, Some("2026-12-01T10:00:00Z"))
        );
        s.set_rollout(r.id, 80, now()).unwrap();
        s.set_rollout(r.id, 100, now()).unwrap();
        let r = s.yank_release(r.id, "broken", now()).unwrap();
        assert_eq!((r.status, r.yank_reason.as_deref()), (ReleaseStatus::Yanked, Some("broken")));
        let types: Vec<String> =
            s.deliveries(None, None, 10).unwrap().into_iter().rev().map(|d| d.event_type).collect();
        assert_eq!(
            types,
            ["release.published", "release.published", "release.yanked"],
            "publish, rollout reaching 100, yank"
        );
        // Transitions that make no sense are refused with a code.
        for err in [
            s.publish_release(r.id, None, now()).unwrap_err(),
            s.yank_release(r.id, "again", now()).unwrap_err(),
            s.remove_release(r.id, now()).unwrap_err(),
            s.set_rollout(r.id, 10, now()).unwrap_err(),
        ] {
            assert_eq!(err.code, ErrorCode::ReleaseInvalidTransition);
        }
        assert_eq!(s.yank_release(999, "x", now()).unwrap_err().code, ErrorCode::ReleaseNotFound);
    }

    #[test]
    fn versions_only_go_up_per_channel_and_publishing_checks_again() {
        let mut s = Store::open_in_memory().unwrap();
        let p = s.create_product(&NewProduct { name: "KM Demo".into(), ..Default::default() }, now()).unwrap();
        let a = s.insert_release(&new(p.id, "1.10.0", ReleaseChannel::Stable), now()).unwrap();
        s.publish_release(a.id, None, now()).unwrap();
        assert_eq!(
            s.insert_release(&new(p.id, "1.9.0", ReleaseChannel::Stable), now()).unwrap_err().code,
            ErrorCode::ReleaseNotNewer
        );
        assert_eq!(
            s.insert_release(&new(p.id, "1.10.0", ReleaseChannel::Beta), now()).unwrap_err().code,
            ErrorCode::ReleaseNotNewer
        );
        // A beta is judged against the betas; two drafts race, the second to publish loses.
        let b = s.insert_release(&new(p.id, "1.11.0", ReleaseChannel::Stable), now()).unwrap();
        let c = s.insert_release(&new(p.id, "1.10.5", ReleaseChannel::Stable), now()).unwrap();
        s.publish_release(b.id, None, now()).unwrap();
        assert_eq!(s.publish_release(c.id, None, now()).unwrap_err().code, ErrorCode::ReleaseNotNewer);
        assert_eq!(
            s.releases(Some(p.id)).unwrap().iter().map(|r| r.version.as_str()).collect::<Vec<_>>(),
            ["1.11.0", "1.10.5", "1.10.0"]
        );
        // Downloads per day.
        for _ in 0..2 {
            assert!(s.record_download(1, b.id, 2, now()).unwrap());
        }
        assert!(!s.record_download(1, b.id, 2, now()).unwrap());
        assert!(s.record_download(1, b.id, 2, now() + chrono::Duration::hours(25)).unwrap(), "a day later");
        assert!(s.record_download(2, b.id, 2, now()).unwrap(), "per license");
    }
}
