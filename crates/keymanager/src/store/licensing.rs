//! License lifecycle, activations, searches and lookups: the SQL behind `crate::licensing` and
//! `crate::lookup`.

use super::audit::{insert_audit, AuditEntry, AuditLevel};
use super::licenses::{license_by_key_in, license_in, row_to_license, with_unique_key, SELECT};
use super::outbox::emit;
use super::products::product_inactive;
use super::Store;
use crate::error::{Error, ErrorCode, Result};
use crate::events::{self, EventType};
use crate::license_key::LicenseKey;
use crate::model::{Activation, KeyHistoryEntry, License, LicenseStatus};
use crate::time::{to_db, Timestamp};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, OptionalExtension};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

crate::text_enum! {
    /// The licenses page's sort orders.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
    pub enum LicenseSort {
        #[default]
        Newest = "newest",
        Oldest = "oldest",
        SoldDesc = "sold_desc",
        SoldAsc = "sold_asc",
    }
}

crate::text_enum! {
    /// The licenses page's support filter.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
    pub enum SupportFilter {
        Active = "active",
        Expired = "expired",
        None = "none",
    }
}

/// A filtered, sorted page of licenses. `cursor` is the previous page's `next_cursor`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LicenseFilter {
    #[serde(default)]
    #[ts(optional)]
    pub status: Option<LicenseStatus>,
    #[serde(default)]
    #[ts(optional, type = "number")]
    pub product_id: Option<i64>,
    #[serde(default)]
    #[ts(optional)]
    pub marketplace: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub support: Option<SupportFilter>,
    /// A license key (or its start), a purchase code, or the start of a buyer's username.
    #[serde(default)]
    #[ts(optional)]
    pub search: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub sort: Option<LicenseSort>,
    #[serde(default)]
    #[ts(optional)]
    pub cursor: Option<String>,
    /// Only licenses Envato no longer recognises (the refund watch's list).
    #[serde(default)]
    #[ts(optional)]
    pub flagged: Option<bool>,
    /// Only licenses flagged possibly shared (too many production sites in 30 days).
    #[serde(default)]
    #[ts(optional)]
    pub shared: Option<bool>,
    #[serde(default)]
    #[ts(optional)]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct LicensePage {
    pub licenses: Vec<License>,
    pub next_cursor: Option<String>,
}

/// One purchase-code lookup in the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct LookupHistoryEntry {
    #[ts(type = "number")]
    pub id: i64,
    pub at: String,
    pub code: String,
    pub verdict: String,
    #[ts(type = "number | null")]
    pub license_id: Option<i64>,
    pub summary: String,
}

fn row_to_activation(r: &rusqlite::Row<'_>) -> rusqlite::Result<Activation> {
    Ok(Activation {
        id: r.get(0)?,
        instance_id: r.get(1)?,
        label: r.get(2)?,
        activated_at: r.get(3)?,
        last_seen_at: r.get(4)?,
        site: r.get(5)?,
        environment: r.get(6)?,
    })
}

const ACTIVATION_COLUMNS: &str = "id, instance_id, label, activated_at, last_seen_at, site, environment";

/// Where an activation is asked for: its site and environment, and the seller's rules for them.
#[derive(Debug, Clone)]
pub struct SiteRequest<'a> {
    pub site: Option<&'a str>,
    pub environment: crate::site::Environment,
    /// Non-production activations a license may have.
    pub dev_limit: u32,
    /// A production activation not seen for this long is replaced at the limit (None: never).
    pub stale_after: Option<chrono::Duration>,
    /// Distinct production sites in 30 days above which the license is flagged possibly shared
    /// (None: the license's limit plus 3).
    pub shared_threshold: Option<u32>,
}

impl SiteRequest<'_> {
    /// A product that sends no site: production, no replacement (the behaviour before sites).
    pub fn none() -> SiteRequest<'static> {
        SiteRequest {
            site: None,
            environment: crate::site::Environment::Production,
            dev_limit: 0,
            stale_after: None,
            shared_threshold: None,
        }
    }
}

/// A production activation that made way for a new one (`replaced` in the answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Replaced {
    pub site: Option<String>,
    pub fingerprint: String,
    pub last_seen_at: String,
}

/// What an activation came to.
#[derive(Debug, Clone)]
pub struct Activated {
    pub license: License,
    pub activation: Activation,
    pub new: bool,
    pub replaced: Option<Replaced>,
}

/// Notes that `license_id` was seen on production `site` (in `tx`); flags the license as
/// possibly shared, once, when its distinct production sites in 30 days pass the threshold.
pub(crate) fn note_production_site(
    tx: &rusqlite::Transaction<'_>,
    license_id: i64,
    site: &str,
    threshold: Option<u32>,
    now: Timestamp,
) -> Result<()> {
    let at = to_db(now);
    tx.prepare_cached(
        "INSERT INTO license_sites (license_id, site, last_seen_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (license_id, site) DO UPDATE SET last_seen_at = max(last_seen_at, excluded.last_seen_at)",
    )?
    .execute(params![license_id, site, at])?;
    let since = to_db(now - chrono::Duration::days(30));
    let (sites, limit, flagged): (u32, u32, Option<String>) = tx
        .prepare_cached(
            "SELECT (SELECT count(*) FROM license_sites WHERE license_id = ?1 AND last_seen_at > ?2),
                    activation_limit, shared_suspected_at FROM licenses WHERE id = ?1",
        )?
        .query_row(params![license_id, since], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let threshold = threshold.unwrap_or(limit + 3);
    if sites <= threshold || flagged.is_some() {
        return Ok(());
    }
    tx.execute("UPDATE licenses SET shared_suspected_at = ?2 WHERE id = ?1", params![license_id, at])?;
    insert_audit(
        tx,
        &AuditEntry::new(
            now,
            AuditLevel::Warning,
            "license.shared_suspected",
            format!(
                "Possibly shared: {sites} production sites in 30 days (threshold {threshold}). Nothing was suspended."
            ),
        )
        .license(license_id),
    )?;
    let recent: Vec<String> = tx
        .prepare_cached(
            "SELECT site FROM license_sites WHERE license_id = ?1 AND last_seen_at > ?2 ORDER BY last_seen_at DESC",
        )?
        .query_map(params![license_id, since], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    emit(tx, now, EventType::LicenseSharedSuspected, Some(license_id), None, |c| {
        let key: String = c.query_row("SELECT license_key FROM licenses WHERE id = ?1", [license_id], |r| r.get(0))?;
        Ok(serde_json::json!({ "license_key": key, "sites_count": sites, "sites": recent }))
    })
}

/// How the search box's text is read.
enum Search {
    Key(String),
    KeyPrefix(String),
    Code(String),
    Buyer(String),
}

fn read_search(q: &str) -> Option<Search> {
    let q = q.trim();
    if q.is_empty() {
        return None;
    }
    if let Ok(key) = LicenseKey::parse(q) {
        return Some(Search::Key(key.into_string()));
    }
    if let Ok(code) = crate::envato::PurchaseCode::parse(q) {
        return Some(Search::Code(code.as_str().to_string()));
    }
    let upper = q.to_ascii_uppercase();
    if upper.len() >= 5
        && upper.bytes().all(|b| b == b'-' || crate::license_key::ALPHABET.contains(&b))
        && upper.contains('-')
    {
        return Some(Search::KeyPrefix(upper));
    }
    Some(Search::Buyer(q.to_string()))
}

/// The next string after every string starting with `prefix` (for an index range scan).
fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

pub(crate) fn insert_lookup(
    tx: &rusqlite::Transaction<'_>,
    code: &str,
    verdict: &str,
    license_id: Option<i64>,
    summary: &str,
    now: Timestamp,
) -> Result<()> {
    tx.prepare_cached("INSERT INTO lookups (at, code, verdict, license_id, summary) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute(params![to_db(now), code, verdict, license_id, summary])?;
    // Keep the history bounded.
    tx.prepare_cached("DELETE FROM lookups WHERE id <= (SELECT max(id) - 1000 FROM lookups)")?.execute([])?;
    Ok(())
}

fn not_found(id: i64) -> Error {
    Error::new(ErrorCode::LicenseNotFound, format!("There is no license with ID {id}."))
}

/// The license with `key`, or `license.not_found`.
fn license_with_key(conn: &rusqlite::Connection, key: &LicenseKey) -> Result<License> {
    license_by_key_in(conn, key)?.ok_or_else(|| Error::new(ErrorCode::LicenseNotFound, "No license has this key."))
}

/// Whether the license is activated on `instance`.
fn activation_exists(conn: &rusqlite::Connection, license_id: i64, instance: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM activations WHERE license_id = ?1 AND instance_id = ?2)")?
        .query_row(params![license_id, instance], |r| r.get(0))?)
}

fn remove_activation(
    tx: &rusqlite::Transaction<'_>,
    license_id: i64,
    instance: Option<&str>,
    activation_id: Option<i64>,
    now: Timestamp,
) -> Result<()> {
    let found: Option<(i64, String)> = tx
        .prepare_cached(
            "SELECT id, instance_id FROM activations WHERE license_id = ?1 AND (instance_id = ?2 OR id = ?3)",
        )?
        .query_row(params![license_id, instance, activation_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (id, inst) = found.ok_or_else(|| {
        Error::new(ErrorCode::ActivationNotFound, "This license has no such activation; nothing was changed.")
    })?;
    let label: Option<String> = tx.query_row("SELECT label FROM activations WHERE id = ?1", [id], |r| r.get(0))?;
    tx.execute("DELETE FROM activations WHERE id = ?1", [id])?;
    insert_audit(
        tx,
        &AuditEntry::new(now, AuditLevel::Info, "activation.removed", format!("Deactivated “{inst}”."))
            .license(license_id),
    )?;
    emit(tx, now, EventType::ActivationDeleted, Some(license_id), None, |c| {
        let key: String = c.query_row("SELECT license_key FROM licenses WHERE id = ?1", [license_id], |r| r.get(0))?;
        Ok(events::activation_data(&key, &inst, label.as_deref()))
    })
}

/// One validation's sighting of an activation, written later in a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenActivation {
    pub license_id: i64,
    pub fingerprint: String,
    /// The canonical site, when the activation is a production one and a site was sent.
    pub production_site: Option<String>,
    pub at: Timestamp,
}

impl Store {
    pub fn license_by_code(&self, code: &str) -> Result<Option<License>> {
        Ok(self
            .conn
            .prepare_cached(&format!("{SELECT} WHERE l.purchase_code = ?1"))?
            .query_row([code], row_to_license)
            .optional()?)
    }

    /// One page of licenses by filter, sort and keyset cursor: the cost of a page does not grow
    /// with how deep it is.
    pub fn license_page(&self, f: &LicenseFilter, now: Timestamp) -> Result<LicensePage> {
        let limit = f.limit.unwrap_or(100).clamp(1, 1000);
        let sort = f.sort.unwrap_or_default();
        let mut wheres: Vec<String> = Vec::new();
        let mut args: Vec<Value> = Vec::new();
        let arg = |v: Value, args: &mut Vec<Value>| {
            args.push(v);
            format!("?{}", args.len())
        };
        if let Some(s) = f.status {
            let p = arg(Value::Text(s.as_str().into()), &mut args);
            wheres.push(format!("l.status = {p}"));
        }
        if let Some(p) = f.product_id {
            let p = arg(Value::Integer(p), &mut args);
            wheres.push(format!("l.product_id = {p}"));
        }
        if let Some(m) = f.marketplace.as_ref().filter(|m| !m.is_empty()) {
            let p = arg(Value::Text(m.clone()), &mut args);
            wheres.push(format!("l.marketplace = {p}"));
        }
        if let Some(support) = f.support {
            match support {
                SupportFilter::None => wheres.push("l.supported_until IS NULL".into()),
                SupportFilter::Active => {
                    let p = arg(Value::Text(to_db(now)), &mut args);
                    wheres.push(format!("l.supported_until > {p}"));
                }
                SupportFilter::Expired => {
                    let p = arg(Value::Text(to_db(now)), &mut args);
                    wheres.push(format!("l.supported_until <= {p}"));
                }
            }
        }
        if f.flagged == Some(true) {
            wheres.push("l.envato_flag IS NOT NULL".into());
        }
        if f.shared == Some(true) {
            wheres.push("l.shared_suspected_at IS NOT NULL".into());
        }
        match f.search.as_deref().and_then(read_search) {
            Some(Search::Key(k)) => {
                let p = arg(Value::Text(k), &mut args);
                wheres.push(format!("l.license_key = {p}"));
            }
            Some(Search::KeyPrefix(k)) => {
                let a = arg(Value::Text(prefix_end(&k)), &mut args);
                let b = arg(Value::Text(k), &mut args);
                wheres.push(format!("l.license_key >= {b} AND l.license_key < {a}"));
            }
            Some(Search::Code(c)) => {
                let p = arg(Value::Text(c), &mut args);
                wheres.push(format!("l.purchase_code = {p}"));
            }
            Some(Search::Buyer(b)) => {
                // A prefix range on the NOCASE index: what LIKE 'b%' means (ASCII letters in any
                // case), with % and _ typed by the user literal. Not LIKE itself: with stable plans
                // (see store::stable_plans) SQLite cannot use an index for a bound LIKE pattern.
                let hi = arg(Value::Text(prefix_end(&b)), &mut args);
                let lo = arg(Value::Text(b), &mut args);
                wheres.push(format!("l.buyer >= {lo} COLLATE NOCASE AND l.buyer < {hi} COLLATE NOCASE"));
            }
            None => {}
        }
        let (order, sold) = match sort {
            LicenseSort::Newest => ("l.id DESC", false),
            LicenseSort::Oldest => ("l.id ASC", false),
            LicenseSort::SoldDesc => ("coalesce(l.sold_at, '') DESC, l.id DESC", true),
            LicenseSort::SoldAsc => ("coalesce(l.sold_at, '') ASC, l.id ASC", true),
        };
        let desc = matches!(sort, LicenseSort::Newest | LicenseSort::SoldDesc);
        let cmp = if desc { "<" } else { ">" };
        if let Some(c) = f.cursor.as_deref().filter(|c| !c.is_empty()) {
            let bad = || Error::invalid_input("That page cursor is not valid; start from the first page.");
            if sold {
                let (s, id) = c.rsplit_once('|').ok_or_else(bad)?;
                let id: i64 = id.parse().map_err(|_| bad())?;
                let a = arg(Value::Text(s.to_string()), &mut args);
                let b = arg(Value::Integer(id), &mut args);
                wheres.push(format!("(coalesce(l.sold_at, ''), l.id) {cmp} ({a}, {b})"));
            } else {
                let id: i64 = c.parse().map_err(|_| bad())?;
                let a = arg(Value::Integer(id), &mut args);
                wheres.push(format!("l.id {cmp} {a}"));
            }
        }
        let where_sql = if wheres.is_empty() { String::new() } else { format!(" WHERE {}", wheres.join(" AND ")) };
        let lim = arg(Value::Integer(limit as i64 + 1), &mut args);
        let sql = format!("{SELECT}{where_sql} ORDER BY {order} LIMIT {lim}");
        let mut licenses: Vec<License> = self
            .conn
            .prepare_cached(&sql)?
            .query_map(params_from_iter(args.iter()), row_to_license)?
            .collect::<rusqlite::Result<_>>()?;
        let next_cursor = if licenses.len() > limit as usize {
            licenses.truncate(limit as usize);
            licenses.last().map(|l| {
                if sold {
                    format!("{}|{}", l.sold_at.clone().unwrap_or_default(), l.id)
                } else {
                    l.id.to_string()
                }
            })
        } else {
            None
        };
        Ok(LicensePage { licenses, next_cursor })
    }

    /// Every marketplace that has licenses (for the filter menu).
    pub fn marketplaces(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT DISTINCT marketplace FROM licenses WHERE marketplace IS NOT NULL ORDER BY 1")?;
        let rows = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Changes a license's status: the current status is read, `transition` judges it, and the
    /// update is conditional on that status, all in one IMMEDIATE transaction, so a suspend
    /// racing a revoke can never overwrite it.
    pub fn change_license_status(
        &mut self,
        id: i64,
        transition: impl FnOnce(LicenseStatus) -> Result<LicenseStatus>,
        action: &str,
        reason: &str,
        now: Timestamp,
    ) -> Result<License> {
        self.write(|tx| {
            let current = license_in(tx, id)?.ok_or_else(|| not_found(id))?;
            let to = transition(current.status)?;
            let n = tx.execute(
                "UPDATE licenses SET status = ?3, updated_at = ?4 WHERE id = ?1 AND status = ?2",
                params![id, current.status.as_str(), to.as_str(), to_db(now)],
            )?;
            if n != 1 {
                return Err(Error::internal("The license changed during the update; nothing was written."));
            }
            insert_audit(tx, &AuditEntry::new(now, AuditLevel::Info, action, reason.to_string()).license(id))?;
            let after = license_in(tx, id)?.ok_or_else(|| not_found(id))?;
            if let Some(kind) = EventType::parse(action).filter(|k| k.is_lifecycle()) {
                emit(tx, now, kind, Some(id), after.buyer_email.as_deref(), |_| {
                    Ok(events::status_data(&after, reason))
                })?;
            }
            Ok(after)
        })
    }

    /// Gives the license a new key; the old one goes to its key history.
    pub fn replace_license_key(&mut self, id: i64, reason: &str, now: Timestamp) -> Result<String> {
        self.write(|tx| {
            let old: String = tx
                .query_row("SELECT license_key FROM licenses WHERE id = ?1", [id], |r| r.get(0))
                .optional()?
                .ok_or_else(|| Error::new(ErrorCode::LicenseNotFound, format!("There is no license with ID {id}.")))?;
            with_unique_key(|key| {
                let n = tx.execute(
                    "UPDATE OR IGNORE licenses SET license_key = ?2, updated_at = ?3 WHERE id = ?1",
                    params![id, key.as_str(), to_db(now)],
                )?;
                if n == 1 {
                    tx.execute(
                        "INSERT INTO license_key_history (license_id, license_key, replaced_at, reason) VALUES (?1, ?2, ?3, ?4)",
                        params![id, old, to_db(now), reason],
                    )?;
                    insert_audit(tx, &AuditEntry::new(now, AuditLevel::Info, "license.key_regenerated", reason.to_string()).license(id))?;
                    return Ok(Some(key.as_str().to_string()));
                }
                Ok(None)
            })
        })
    }

    /// Whether the license is activated on `instance`.
    pub fn is_activated(&self, license_id: i64, instance: &str) -> Result<bool> {
        activation_exists(&self.conn, license_id, instance)
    }

    /// Where an activation is (None: there is no such activation).
    pub fn activation_site(&self, license_id: i64, instance: &str) -> Result<Option<super::ActivationSite>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT coalesce(site, ''), environment FROM activations WHERE license_id = ?1 AND instance_id = ?2",
            )?
            .query_row(params![license_id, instance], |r| {
                Ok(super::ActivationSite { site: r.get(0)?, environment: r.get(1)? })
            })
            .optional()?)
    }

    pub fn key_history(&self, license_id: i64) -> Result<Vec<KeyHistoryEntry>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT license_key, replaced_at, reason FROM license_key_history WHERE license_id = ?1 ORDER BY id DESC",
        )?;
        let rows = stmt
            .query_map([license_id], |r| {
                Ok(KeyHistoryEntry { license_key: r.get(0)?, replaced_at: r.get(1)?, reason: r.get(2)? })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    pub fn activations(&self, license_id: i64) -> Result<Vec<Activation>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {ACTIVATION_COLUMNS} FROM activations WHERE license_id = ?1 ORDER BY id"
        ))?;
        let rows = stmt.query_map([license_id], row_to_activation)?.collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Records an activation of the license with `key`, or refreshes it when the instance is
    /// already active (idempotent). The license's status (judged by `admit`) and its limit are
    /// read inside the same IMMEDIATE transaction as the insert, so racing activations cannot
    /// take more slots than the limit, nor activate a license revoked a moment before.
    /// Returns the license after the change, the activation, and whether it is new.
    pub fn activate(
        &mut self,
        key: &LicenseKey,
        instance: &str,
        label: Option<&str>,
        admit: impl FnOnce(&License) -> Result<()>,
        now: Timestamp,
    ) -> Result<(License, Activation, bool)> {
        let a = self.activate_on_site(key, instance, label, &SiteRequest::none(), admit, now)?;
        Ok((a.license, a.activation, a.new))
    }

    /// `activate` for a site: production activations count toward the limit (a stale one is
    /// replaced at the limit), other environments up to `dev_limit`, and production sites feed
    /// the shared-code detection.
    pub fn activate_on_site(
        &mut self,
        key: &LicenseKey,
        instance: &str,
        label: Option<&str>,
        on: &SiteRequest<'_>,
        admit: impl FnOnce(&License) -> Result<()>,
        now: Timestamp,
    ) -> Result<Activated> {
        let production = on.environment.counts_toward_limit();
        // A refusal at the limit is itself an event (`activation.limit_reached`): it is committed,
        // and the refusal returned after.
        self.write(|tx| {
            let license = license_with_key(tx, key)?;
            admit(&license)?;
            if product_inactive(tx, license.product_id)? {
                return Err(Error::new(
                    ErrorCode::ProductInactive,
                    "This product no longer takes new activations (it is inactive).",
                ));
            }
            let (license_id, limit) = (license.id, license.activation_limit);
            let at = to_db(now);
            let existing = tx
                .prepare_cached("SELECT id FROM activations WHERE license_id = ?1 AND instance_id = ?2")?
                .query_row(params![license_id, instance], |r| r.get::<_, i64>(0))
                .optional()?;
            let mut replaced = None;
            let (id, new) = match existing {
                Some(id) => {
                    tx.execute("UPDATE activations SET last_seen_at = ?2, label = coalesce(?3, label) WHERE id = ?1", params![id, at, label])?;
                    (id, false)
                }
                None => {
                    let used: u32 = tx.query_row(
                        "SELECT count(*) FROM activations WHERE license_id = ?1 AND (environment = 'production') = ?2",
                        params![license_id, production],
                        |r| r.get(0),
                    )?;
                    if !production && used >= on.dev_limit {
                        return Ok(Err(Error::new(
                            ErrorCode::DevSiteLimit,
                            format!("This license is already active on {used} staging or development sites (at most {}). Deactivate one first.", on.dev_limit),
                        )));
                    }
                    if production && used >= limit {
                        // At the limit, a production activation not seen for long makes way.
                        let stale = match on.stale_after {
                            Some(after) => tx
                                .prepare_cached(
                                    "SELECT id, site, instance_id, last_seen_at FROM activations
                                     WHERE license_id = ?1 AND environment = 'production' AND last_seen_at < ?2
                                     ORDER BY last_seen_at, id LIMIT 1",
                                )?
                                .query_row(params![license_id, to_db(now - after)], |r| {
                                    Ok((r.get::<_, i64>(0)?, Replaced { site: r.get(1)?, fingerprint: r.get(2)?, last_seen_at: r.get(3)? }))
                                })
                                .optional()?,
                            None => None,
                        };
                        match stale {
                            Some((old_id, old)) => {
                                tx.execute("DELETE FROM activations WHERE id = ?1", [old_id])?;
                                insert_audit(tx, &AuditEntry::new(now, AuditLevel::Info, "activation.replaced",
                                    format!("“{}” (not seen since {}) made way for “{instance}”.", old.site.as_deref().unwrap_or(&old.fingerprint), old.last_seen_at)).license(license_id))?;
                                replaced = Some(old);
                            }
                            None => {
                                // At most one event per license and fingerprint an hour, so
                                // refusals cannot fill the outbox.
                                if Store::limit_refusal_is_news(tx, license_id, instance, now)? {
                                    emit(tx, now, EventType::ActivationLimitReached, Some(license_id), None, |_| {
                                        Ok(events::limit_data(&license.license_key, instance, limit))
                                    })?;
                                }
                                return Ok(Err(Error::new(
                                    ErrorCode::LicenseActivationLimit,
                                    format!("This license is already active on {used} of {limit} allowed installations. Deactivate one first."),
                                )));
                            }
                        }
                    }
                    tx.execute(
                        "INSERT INTO activations (license_id, instance_id, label, activated_at, last_seen_at, site, environment) VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6)",
                        params![license_id, instance, label, at, on.site, on.environment],
                    )?;
                    let id = tx.last_insert_rowid();
                    insert_audit(tx, &AuditEntry::new(now, AuditLevel::Info, "activation.created", format!("Activated on “{instance}”.")).license(license_id))?;
                    emit(tx, now, EventType::ActivationCreated, Some(license_id), None, |_| {
                        Ok(events::activation_data(&license.license_key, instance, label))
                    })?;
                    if let Some(old) = &replaced {
                        emit(tx, now, EventType::ActivationReplaced, Some(license_id), None, |_| {
                            Ok(serde_json::json!({
                                "license_key": license.license_key,
                                "activation": { "fingerprint": instance, "site": on.site, "last_seen_at": at },
                                "replaced": old,
                            }))
                        })?;
                    }
                    (id, true)
                }
            };
            if let (true, Some(site)) = (production, on.site) {
                note_production_site(tx, license_id, site, on.shared_threshold, now)?;
            }
            let a = tx
                .prepare_cached(&format!("SELECT {ACTIVATION_COLUMNS} FROM activations WHERE id = ?1"))?
                .query_row([id], row_to_activation)?;
            let after = license_in(tx, license_id)?.ok_or_else(|| not_found(license_id))?;
            Ok(Ok(Activated { license: after, activation: a, new, replaced }))
        })?
    }

    /// Writes what validations saw, in one transaction for many of them: each activation's
    /// `last_seen_at`, and the production sites (shared-code detection). Batched by the caller
    /// so a validation is not a write transaction of its own.
    pub fn note_seen(&mut self, seen: &[SeenActivation], shared_threshold: Option<u32>) -> Result<()> {
        self.write(|tx| {
            for s in seen {
                tx.prepare_cached(
                    "UPDATE activations SET last_seen_at = max(last_seen_at, ?3) WHERE license_id = ?1 AND instance_id = ?2",
                )?
                .execute(params![s.license_id, s.fingerprint, to_db(s.at)])?;
                if let Some(site) = &s.production_site {
                    note_production_site(tx, s.license_id, site, shared_threshold, s.at)?;
                }
            }
            Ok(())
        })
    }

    /// Frees the activation of `instance` on the license with `key`; returns the license after.
    /// With `per_day`, a license that already freed that many activations in the last 24 hours
    /// is refused (`activation.too_many_deactivations`), counted in the same transaction.
    pub fn deactivate_by_key(
        &mut self,
        key: &LicenseKey,
        instance: &str,
        per_day: Option<u32>,
        now: Timestamp,
    ) -> Result<License> {
        self.write(|tx| {
            let license = license_with_key(tx, key)?;
            // Nothing to free is said as such, before any limit.
            if !activation_exists(tx, license.id, instance)? {
                return Err(Error::new(
                    ErrorCode::ActivationNotFound,
                    "This license has no such activation; nothing was changed.",
                ));
            }
            if let Some(max) = per_day {
                let since = to_db(now - chrono::Duration::hours(24));
                let done: u32 = tx
                    .prepare_cached(
                        "SELECT count(*) FROM audit_log WHERE license_id = ?1 AND action = 'activation.removed' AND at > ?2",
                    )?
                    .query_row(params![license.id, since], |r| r.get(0))?;
                if done >= max {
                    return Err(Error::new(
                        ErrorCode::TooManyDeactivations,
                        format!("This license freed {done} activations in the last 24 hours (at most {max}); try again tomorrow."),
                    ));
                }
            }
            remove_activation(tx, license.id, Some(instance), None, now)?;
            license_in(tx, license.id)?.ok_or_else(|| not_found(license.id))
        })
    }

    /// Frees an activation slot, by instance or by activation id.
    pub fn deactivate(
        &mut self,
        license_id: i64,
        instance: Option<&str>,
        activation_id: Option<i64>,
        now: Timestamp,
    ) -> Result<()> {
        self.write(|tx| remove_activation(tx, license_id, instance, activation_id, now))
    }

    pub fn record_lookup(
        &mut self,
        code: &str,
        verdict: &str,
        license_id: Option<i64>,
        summary: &str,
        now: Timestamp,
    ) -> Result<()> {
        self.write(|tx| insert_lookup(tx, code, verdict, license_id, summary, now))
    }

    pub fn lookup_history(&self, limit: u32) -> Result<Vec<LookupHistoryEntry>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, at, code, verdict, license_id, summary FROM lookups ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt
            .query_map([limit], |r| {
                Ok(LookupHistoryEntry {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    code: r.get(2)?,
                    verdict: r.get(3)?,
                    license_id: r.get(4)?,
                    summary: r.get(5)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Envato confirmed the sale: refresh what may change (item name, buyer name, purchase
    /// count, support), so nothing shown is more than six hours older than Envato's.
    pub fn confirm_envato_sale(
        &mut self,
        id: i64,
        item_name: Option<&str>,
        buyer: Option<&str>,
        purchase_count: Option<u32>,
        supported_until: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<()> {
        self.write(|tx| {
            let was_flagged: bool = tx.query_row("SELECT envato_flag IS NOT NULL FROM licenses WHERE id = ?1", [id], |r| r.get(0))?;
            tx.execute(
                "UPDATE licenses SET buyer = coalesce(?2, buyer), purchase_count = coalesce(?3, purchase_count),
                        supported_until = coalesce(?4, supported_until), envato_checked_at = ?5, envato_flag = NULL, updated_at = ?5,
                        item_name = coalesce(?6, item_name)
                 WHERE id = ?1",
                params![id, buyer, purchase_count, supported_until.map(to_db), to_db(now), item_name],
            )?;
            if was_flagged {
                insert_audit(tx, &AuditEntry::new(now, AuditLevel::Info, "license.envato_recognised", "Envato recognises this purchase again.").license(id))?;
            }
            Ok(())
        })
    }

    /// Licenses with a purchase code (of one product, or all), after `after_id`, in id order: the
    /// refund watch's pages. Also how many there are in all.
    pub fn codes_to_recheck(
        &self,
        product_id: Option<i64>,
        after_id: i64,
        limit: u32,
    ) -> Result<(Vec<(i64, String)>, u64)> {
        let rows = self
            .conn
            .prepare_cached(
                "SELECT id, purchase_code FROM licenses
                 WHERE purchase_code IS NOT NULL AND (?1 IS NULL OR product_id = ?1) AND id > ?2 ORDER BY id LIMIT ?3",
            )?
            .query_map(params![product_id, after_id, limit], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let total: i64 = self.conn.query_row(
            "SELECT count(*) FROM licenses WHERE purchase_code IS NOT NULL AND (?1 IS NULL OR product_id = ?1)",
            [product_id],
            |r| r.get(0),
        )?;
        Ok((rows, total as u64))
    }

    /// Envato no longer finds the code: flag it for the seller. Never revoked automatically.
    pub fn flag_not_recognised(&mut self, id: i64, now: Timestamp) -> Result<()> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE licenses SET envato_flag = 'not_recognised', envato_checked_at = ?2, updated_at = ?2
                 WHERE id = ?1 AND envato_flag IS NULL",
                params![id, to_db(now)],
            )?;
            if n == 1 {
                insert_audit(
                    tx,
                    &AuditEntry::new(now, AuditLevel::Warning, "license.envato_not_recognised", "Envato no longer recognises this purchase (refund or reversal?). The license was left as it is; suspend or revoke it if you decide to.")
                        .license(id),
                )?;
            } else {
                tx.execute("UPDATE licenses SET envato_checked_at = ?2 WHERE id = ?1", params![id, to_db(now)])?;
            }
            Ok(())
        })
    }
}
