//! The `licenses` and `activations` tables.

use super::audit::{insert_audit, AuditEntry, AuditLevel};
use super::outbox::emit;
use super::Store;
use crate::error::{Error, ErrorCode, Result};
use crate::events::{self, EventType};
use crate::license_key::LicenseKey;
use crate::model::{License, LicenseStatus};
use crate::money::format_cents;
use crate::plan::SaleRecord;
use crate::time::{to_db, Timestamp};
use rusqlite::{params, OptionalExtension, Transaction};

pub(super) const SELECT: &str =
    "SELECT l.id, l.license_key, l.product_id, p.name, l.status, l.license_type, l.activation_limit,
        (SELECT count(*) FROM activations a WHERE a.license_id = l.id AND a.environment = 'production'),
        l.source, l.purchase_code, l.envato_item_id, l.marketplace, l.buyer, l.purchase_count, l.envato_license,
        l.amount_cents, l.sold_at, l.supported_until, l.created_at, l.envato_checked_at, l.envato_flag, l.item_name,
        l.buyer_email, l.note,
        (SELECT count(*) FROM activations a WHERE a.license_id = l.id AND a.environment <> 'production'),
        l.shared_suspected_at, l.updates_until
     FROM licenses l JOIN products p ON p.id = l.product_id";

/// Columns of `SELECT`; a query that adds one reads it at this index.
pub(super) const SELECT_COLUMNS: usize = 27;

pub(super) fn row_to_license(r: &rusqlite::Row<'_>) -> rusqlite::Result<License> {
    Ok(License {
        id: r.get(0)?,
        license_key: r.get(1)?,
        product_id: r.get(2)?,
        product_name: r.get(3)?,
        status: r.get(4)?,
        license_type: r.get(5)?,
        activation_limit: r.get(6)?,
        activations_used: r.get(7)?,
        source: r.get(8)?,
        purchase_code: r.get(9)?,
        envato_item_id: r.get(10)?,
        marketplace: r.get(11)?,
        buyer: r.get(12)?,
        purchase_count: r.get(13)?,
        envato_license: r.get(14)?,
        amount: r.get::<_, Option<i64>>(15)?.map(format_cents),
        sold_at: r.get(16)?,
        supported_until: r.get(17)?,
        created_at: r.get(18)?,
        envato_checked_at: r.get(19)?,
        envato_flag: r.get(20)?,
        item_name: r.get(21)?,
        buyer_email: r.get(22)?,
        note: r.get(23)?,
        dev_activations_used: r.get(24)?,
        shared_suspected_at: r.get(25)?,
        updates_until: r.get(26)?,
    })
}

/// Where an activation is: its canonical site ("" when it was made without one) and environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationSite {
    pub site: String,
    pub environment: crate::site::Environment,
}

/// A license issued by hand (not from a sale): the product's limit and type apply.
#[derive(Debug, Clone, Default)]
pub struct NewLicense {
    pub product_id: i64,
    pub buyer: Option<String>,
    /// Checked by `licensing::issue` (an address), stored as given here.
    pub buyer_email: Option<String>,
    pub note: Option<String>,
}

/// Which licenses to list: newest first, `after_id` continues from the last row of the
/// previous page (keyset paging: the cost of a page does not grow with its depth).
#[derive(Debug, Clone, Default)]
pub struct LicenseQuery {
    pub status: Option<LicenseStatus>,
    pub product_id: Option<i64>,
    pub limit: u32,
    pub before_id: Option<i64>,
}

/// Licenses by status, for the dashboard and quick checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, ts_rs::TS, serde::Deserialize)]
pub struct LicenseCounts {
    pub total: u32,
    pub active: u32,
    pub suspended: u32,
    pub revoked: u32,
}

/// The license type a sale grants: Envato's Extended License is extended whatever the product's default.
fn license_type_for(envato_license: &str, product_type: &str) -> &'static str {
    if envato_license.to_ascii_lowercase().contains("extended") || product_type == "extended" {
        "extended"
    } else {
        "regular"
    }
}

/// Writes one license for a sale, unless the sale (by key or code) is already there.
/// Returns the new license's id. `new_sale`: the sale is recorded now (`sale.synced` precedes
/// `license.created`); a sale promoted from the review queue was announced when it was queued.
pub(crate) fn insert_sale_license(
    tx: &Transaction<'_>,
    s: &SaleRecord,
    product_id: i64,
    run_id: Option<i64>,
    new_sale: bool,
    now: Timestamp,
) -> Result<Option<i64>> {
    let (limit, ptype, product_name): (u32, String, String) = tx
        .prepare_cached("SELECT activation_limit, license_type, name FROM products WHERE id = ?1")?
        .query_row([product_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?
        .ok_or_else(|| Error::new(ErrorCode::ProductNotFound, format!("There is no product with ID {product_id}.")))?;
    let exists: bool = tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM licenses WHERE sale_key = ?1 OR (?2 IS NOT NULL AND purchase_code = ?2))",
        )?
        .query_row(params![s.key, s.code], |r| r.get(0))?;
    if exists {
        return Ok(None);
    }
    let at = to_db(now);
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO licenses (license_key, product_id, status, license_type, activation_limit, source, purchase_code,
            envato_item_id, marketplace, buyer, purchase_count, envato_license, amount_cents, support_amount_cents, sold_at,
            supported_until, sale_key, sync_run_id, created_at, updated_at, item_name)
         VALUES (?1, ?2, 'active', ?3, ?4, 'envato', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?17, ?18)",
    )?;
    with_unique_key(|key| {
        let n = insert.execute(params![
            key.as_str(),
            product_id,
            license_type_for(&s.license, &ptype),
            limit,
            s.code,
            s.item_id,
            s.marketplace,
            s.buyer,
            s.purchase_count,
            s.license,
            s.amount_cents,
            s.support_amount_cents,
            to_db(s.sold_at),
            s.supported_until.map(to_db),
            s.key,
            run_id,
            at,
            s.item_name,
        ])?;
        if n == 1 {
            let id = tx.last_insert_rowid();
            insert_audit(
                tx,
                &AuditEntry::new(
                    now,
                    AuditLevel::Info,
                    "license.created",
                    format!("License issued for the Envato sale of {} on {}.", s.item_name, to_db(s.sold_at)),
                )
                .run(run_id)
                .license(id)
                .product(product_id),
            )?;
            if new_sale {
                emit(tx, now, EventType::SaleSynced, Some(id), None, |_| Ok(events::sale_data(s)))?;
            }
            // The license as just written, without reading it back or copying it (a sync writes
            // thousands); `license_data` of the stored row gives the same bytes (tested).
            let supported_until = s.supported_until.map(to_db);
            emit(tx, now, EventType::LicenseCreated, Some(id), None, |_| {
                Ok(events::LicenseData {
                    id,
                    key: key.as_str(),
                    status: LicenseStatus::Active.as_str(),
                    product: events::ProductData { id: product_id, name: &product_name },
                    activation_limit: limit,
                    activations_used: 0,
                    license_type: crate::settings::LicenseType::parse(license_type_for(&s.license, &ptype))
                        .unwrap_or(crate::settings::LicenseType::Regular)
                        .as_str(),
                    purchase_code: s.code.as_deref(),
                    item_id: Some(s.item_id),
                    buyer: s.buyer.as_deref(),
                    buyer_email: None,
                    supported_until: supported_until.as_deref(),
                    created_at: &at,
                })
            })?;
            return Ok(Some(Some(id)));
        }
        Ok(None)
    })
}

/// `license.created` for the license `id`, in the transaction that issued it.
pub(crate) fn emit_license_created(tx: &rusqlite::Connection, id: i64, now: Timestamp) -> Result<()> {
    emit(tx, now, EventType::LicenseCreated, Some(id), None, |c| -> Result<Box<serde_json::value::RawValue>> {
        let l = license_in(c, id)?.ok_or_else(|| Error::internal("The new license vanished."))?;
        events::raw(&events::license_data(&l))
    })
}

/// Draws license keys until `write` takes one: keys come from a CSPRNG, so a clash is
/// astronomically unlikely, but the UNIQUE constraint has the last word (`write` does an
/// `INSERT OR IGNORE` / `UPDATE OR IGNORE` and returns how many rows it changed), and a clash just
/// draws again. The one place keys are drawn for the database.
pub(crate) fn with_unique_key<T>(mut write: impl FnMut(&LicenseKey) -> Result<Option<T>>) -> Result<T> {
    for _ in 0..5 {
        let key = LicenseKey::generate()?;
        if let Some(done) = write(&key)? {
            return Ok(done);
        }
    }
    Err(Error::internal("Could not draw a unique license key."))
}

/// The license with `key`, as `conn` (or a transaction) sees it.
pub(crate) fn license_by_key_in(conn: &rusqlite::Connection, key: &LicenseKey) -> Result<Option<License>> {
    Ok(conn
        .prepare_cached(&format!("{SELECT} WHERE l.license_key = ?1"))?
        .query_row([key.as_str()], row_to_license)
        .optional()?)
}

/// One license as `conn` (or a transaction) sees it.
pub(crate) fn license_in(conn: &rusqlite::Connection, id: i64) -> Result<Option<License>> {
    Ok(conn.prepare_cached(&format!("{SELECT} WHERE l.id = ?1"))?.query_row([id], row_to_license).optional()?)
}

impl Store {
    pub fn license_counts(&self) -> Result<LicenseCounts> {
        let mut c = LicenseCounts::default();
        let mut stmt = self.conn.prepare_cached("SELECT status, count(*) FROM licenses GROUP BY status")?;
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?)))? {
            let (status, n) = row?;
            c.total += n;
            match status.as_str() {
                "active" => c.active = n,
                "suspended" => c.suspended = n,
                _ => c.revoked += n,
            }
        }
        Ok(c)
    }

    pub fn issue_license(&mut self, new: &NewLicense, now: Timestamp) -> Result<License> {
        let product = self.product(new.product_id)?.ok_or_else(|| {
            Error::new(ErrorCode::ProductNotFound, format!("There is no product with ID {}.", new.product_id))
        })?;
        if product.status == crate::model::ProductStatus::Inactive {
            return Err(Error::new(
                ErrorCode::ProductInactive,
                format!("“{}” is inactive: it issues no new licenses. Make it active first.", product.name),
            )
            .with_field("product_id"));
        }
        let buyer = new.buyer.as_deref().map(str::trim).filter(|b| !b.is_empty()).map(str::to_string);
        if buyer.as_ref().is_some_and(|b| b.chars().count() > 100 || b.chars().any(char::is_control)) {
            return Err(Error::invalid_input("A buyer name has at most 100 characters.").with_field("buyer"));
        }
        let id = self.write(|tx| {
            with_unique_key(|key| {
                let inserted = tx.execute(
                    "INSERT OR IGNORE INTO licenses (license_key, product_id, status, license_type, activation_limit, source, buyer, created_at, updated_at,
                        buyer_email, note)
                     VALUES (?1, ?2, 'active', ?3, ?4, 'manual', ?5, ?6, ?6, ?7, ?8)",
                    params![key.as_str(), product.id, product.license_type.as_str(), product.activation_limit, buyer, to_db(now),
                        new.buyer_email, new.note],
                )?;
                if inserted == 1 {
                    let id = tx.last_insert_rowid();
                    insert_audit(
                        tx,
                        &AuditEntry::new(now, AuditLevel::Info, "license.created", format!("License issued by hand for “{}”.", product.name))
                            .license(id)
                            .product(product.id),
                    )?;
                    emit_license_created(tx, id, now)?;
                    return Ok(Some(id));
                }
                Ok(None)
            })
        })?;
        self.license(id)?.ok_or_else(|| Error::internal("The new license vanished."))
    }

    /// Sets the buyer's e-mail and the seller's note (None clears), values already checked.
    pub fn update_license_details(
        &mut self,
        id: i64,
        buyer_email: Option<&str>,
        note: Option<&str>,
        now: Timestamp,
    ) -> Result<License> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE licenses SET buyer_email = ?2, note = ?3, updated_at = ?4 WHERE id = ?1",
                params![id, buyer_email, note, to_db(now)],
            )?;
            if n == 0 {
                return Err(Error::new(ErrorCode::LicenseNotFound, format!("There is no license with ID {id}.")));
            }
            insert_audit(
                tx,
                &AuditEntry::new(now, AuditLevel::Info, "license.details_changed", "Buyer e-mail or note changed.")
                    .license(id),
            )?;
            license_in(tx, id)?.ok_or_else(|| Error::internal("The license vanished."))
        })
    }

    pub fn license(&self, id: i64) -> Result<Option<License>> {
        license_in(&self.conn, id)
    }

    pub fn license_by_key(&self, key: &LicenseKey) -> Result<Option<License>> {
        license_by_key_in(&self.conn, key)
    }

    /// The license with this key and, when `instance` is given, whether it is among the
    /// license's activations: what a validation needs, in one statement.
    pub fn license_by_key_checking(
        &self,
        key: &LicenseKey,
        instance: Option<&str>,
    ) -> Result<Option<(License, Option<Option<ActivationSite>>)>> {
        static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let sql = SQL.get_or_init(|| {
            // The activation of fingerprint ?2, when one was asked for: its id (NULL: none), its
            // site ('' without one) and environment.
            let activated = ", a2.id, coalesce(a2.site, ''), a2.environment FROM licenses l JOIN";
            format!(
                "{} LEFT JOIN activations a2 ON ?2 IS NOT NULL AND a2.license_id = l.id AND a2.instance_id = ?2 \
                 WHERE l.license_key = ?1",
                SELECT.replacen(" FROM licenses l JOIN", activated, 1)
            )
        });
        Ok(self
            .conn
            .prepare_cached(sql)?
            .query_row(params![key.as_str(), instance], |r| {
                let id: Option<i64> = r.get(SELECT_COLUMNS)?;
                let site = match id {
                    Some(_) => Some(ActivationSite {
                        site: r.get(SELECT_COLUMNS + 1)?,
                        environment: r.get(SELECT_COLUMNS + 2)?,
                    }),
                    None => None,
                };
                Ok((row_to_license(r)?, instance.map(|_| site)))
            })
            .optional()?)
    }

    /// One page of licenses, newest first.
    pub fn licenses(&self, q: &LicenseQuery) -> Result<Vec<License>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{SELECT} WHERE (?1 IS NULL OR l.status = ?1) AND (?2 IS NULL OR l.product_id = ?2) AND (?3 IS NULL OR l.id < ?3)
             ORDER BY l.id DESC LIMIT ?4"
        ))?;
        let rows = stmt
            .query_map(
                params![q.status.map(LicenseStatus::as_str), q.product_id, q.before_id, q.limit.max(1)],
                row_to_license,
            )?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NewProduct;
    use crate::time::parse;

    #[test]
    fn issue_and_page_through() {
        let now = parse("2026-11-28T10:00:00Z").unwrap();
        let mut store = Store::open_in_memory().unwrap();
        let p = store
            .create_product(&NewProduct { name: "Plugin".into(), activation_limit: Some(3), ..Default::default() }, now)
            .unwrap();
        let mut keys = std::collections::HashSet::new();
        for i in 0..25 {
            let l = store
                .issue_license(
                    &NewLicense { product_id: p.id, buyer: Some(format!("buyer{i}")), ..Default::default() },
                    now,
                )
                .unwrap();
            assert_eq!(l.activation_limit, 3);
            assert_eq!(l.status, LicenseStatus::Active);
            assert!(keys.insert(l.license_key.clone()));
            assert_eq!(store.license_by_key(&LicenseKey::parse(&l.license_key).unwrap()).unwrap().unwrap().id, l.id);
        }
        let mut seen = Vec::new();
        let mut before = None;
        loop {
            let page = store.licenses(&LicenseQuery { limit: 10, before_id: before, ..Default::default() }).unwrap();
            if page.is_empty() {
                break;
            }
            before = page.last().map(|l| l.id);
            seen.extend(page.into_iter().map(|l| l.id));
        }
        assert_eq!(seen.len(), 25);
        assert!(seen.windows(2).all(|w| w[0] > w[1]), "newest first, no repeats");
        let audit = store.audit_for_license(seen[0]).unwrap();
        assert_eq!(audit[0].action, "license.created");

        let err =
            store.issue_license(&NewLicense { product_id: 999, buyer: None, ..Default::default() }, now).unwrap_err();
        assert_eq!(err.code, ErrorCode::ProductNotFound);
    }

    /// A sync writes `license.created` from the fields it just inserted, without reading the
    /// license back: the body must be the one the stored license gives, byte for byte.
    #[test]
    fn a_synced_license_created_event_is_the_stored_license() {
        use crate::envato::{Item, Sale};
        use crate::events::EventFilter;
        use crate::plan;
        use crate::store::SyncTrigger;
        let now = parse("2026-11-28T10:00:00Z").unwrap();
        let mut store = Store::open_in_memory().unwrap();
        store.update_settings(&[("auto_create_products".into(), "true".into())], now).unwrap();
        store.add_webhook_endpoint("https://x.example/h", &EventFilter::All, now).unwrap();
        let sale = |code: Option<&str>, buyer: Option<&str>, license: &str, support: Option<&str>| Sale {
            code: code.map(str::to_string),
            amount_cents: 2450,
            sold_at: parse("2026-11-27T09:30:00Z").unwrap(),
            license: license.into(),
            support_amount_cents: Some(0),
            supported_until: support.map(|t| parse(t).unwrap()),
            item: Item {
                id: 4242,
                name: "Quote \"Pro\" — ünïcode".into(),
                site: Some("codecanyon.net".into()),
                ..Default::default()
            },
            buyer: buyer.map(str::to_string),
            purchase_count: Some(1),
        };
        let page = [
            sale(
                Some("c0ffee00-1111-2222-3333-444455556666"),
                Some("ana"),
                "Regular License",
                Some("2027-05-27T09:30:00Z"),
            ),
            sale(None, None, "Extended License", None),
        ];
        let run_id = store.begin_sync_run(SyncTrigger::Manual, now).unwrap();
        let ctx = plan::PlanContext {
            run_id,
            auto_create: true,
            history_cutoff: now - chrono::Duration::days(365),
            watermark: None,
        };
        let plan::Keyed::Records(records) = plan::keyed(&page, &mut plan::RunMemory::default()) else {
            panic!("one page, no shift");
        };
        let known = store.known_sales(&records).unwrap();
        let products = store.product_index().unwrap();
        let p = plan::plan_page(&records, &known, &products, &ctx);
        assert_eq!(store.apply_sync_page(run_id, &p, now).unwrap().licenses_created, 2);

        let due = store.claim_due(now, 100, chrono::Duration::seconds(60)).unwrap();
        let created: Vec<_> = due.iter().filter(|m| m.event_type == "license.created").collect();
        assert_eq!(created.len(), 2);
        for m in created {
            let body: serde_json::Value = serde_json::from_str(&m.body).unwrap();
            let id = body["data"]["id"].as_i64().unwrap();
            let stored = store.license(id).unwrap().unwrap();
            assert_eq!(m.body, events::body(EventType::LicenseCreated, now, &events::license_data(&stored)));
        }
        let synced: Vec<_> = due.iter().filter(|m| m.event_type == "sale.synced").collect();
        assert_eq!(synced.len(), 2);
        for (m, r) in synced.iter().zip(&records) {
            assert_eq!(m.body, events::body(EventType::SaleSynced, now, &events::sale_data(r)));
        }
    }
}
