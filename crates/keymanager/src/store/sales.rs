//! Sales becoming licenses: the applier of the sync planner's operations (`apply_ops`, one
//! transaction per page), what the database already holds of a page (`known_sales`), and a sale
//! Envato just verified for a lookup (`record_verified_sale`, one planner pass and one
//! transaction).

use super::audit::{insert_audit, AuditEntry, AuditLevel};
use super::licenses::{insert_sale_license, license_in};
use super::licensing::insert_lookup;
use super::outbox::emit;
use super::pending::{pending_has_code, promote_pending, queue_sale};
use super::products::{insert_product_for_item, product_inactive, product_index_in};
use super::settings::settings_in;
use super::Store;
use crate::error::{Error, Result};
use crate::events::{self, EventType};
use crate::model::License;
use crate::plan::{plan_page, Known, KnownSales, Op, PagePlan, PlanContext, ProductRef, SaleRecord};
use crate::time::{to_db, Timestamp};
use rusqlite::{params, OptionalExtension, Transaction};
use serde::Serialize;
use std::collections::HashMap;
use ts_rs::TS;

/// What one page changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, TS)]
pub struct PageCounts {
    pub licenses_created: u32,
    pub products_created: u32,
    pub sales_queued: u32,
    pub codes_attached: u32,
}

/// Applies a plan's operations inside `tx`. `run_id` is the sync run (None for a lookup).
pub(crate) fn apply_ops(
    tx: &Transaction<'_>,
    run_id: Option<i64>,
    plan: &PagePlan,
    default_limit: u32,
    default_type: &str,
    now: Timestamp,
) -> Result<PageCounts> {
    let mut counts = PageCounts::default();
    let mut created: HashMap<i64, i64> = HashMap::new();
    let mut queued_items: HashMap<i64, (String, u32)> = HashMap::new();
    for op in &plan.ops {
        match op {
            Op::CreateProduct { item_id, name, description } => {
                let before: i64 = tx.query_row("SELECT count(*) FROM products", [], |r| r.get(0))?;
                let id = insert_product_for_item(tx, *item_id, name, description, default_limit, default_type, now)?;
                let after: i64 = tx.query_row("SELECT count(*) FROM products", [], |r| r.get(0))?;
                counts.products_created += (after - before) as u32;
                counts.licenses_created += promote_pending(tx, *item_id, id, now)?;
                created.insert(*item_id, id);
            }
            Op::IssueLicense { sale, product, .. } => {
                let product_id = match product {
                    ProductRef::Existing(id) => *id,
                    ProductRef::NewForItem(item) => *created
                        .get(item)
                        .ok_or_else(|| Error::internal("A plan issued a license for a product it did not create."))?,
                };
                // An inactive product issues no new licenses: its sales wait in the review queue.
                if product_inactive(tx, product_id)? {
                    if queue_sale(tx, sale, run_id, now)? {
                        counts.sales_queued += 1;
                        emit(tx, now, EventType::SaleSynced, None, None, |_| Ok(events::sale_data(sale)))?;
                        queued_items.entry(sale.item_id).or_insert_with(|| (sale.item_name.clone(), 0)).1 += 1;
                    }
                } else if insert_sale_license(tx, sale, product_id, run_id, true, now)?.is_some() {
                    counts.licenses_created += 1;
                }
            }
            Op::Queue { sale } => {
                if queue_sale(tx, sale, run_id, now)? {
                    counts.sales_queued += 1;
                    emit(tx, now, EventType::SaleSynced, None, None, |_| Ok(events::sale_data(sale)))?;
                    queued_items.entry(sale.item_id).or_insert_with(|| (sale.item_name.clone(), 0)).1 += 1;
                }
            }
            Op::AttachCode { key, code, buyer, purchase_count } => {
                let n = tx.prepare_cached(
                    "UPDATE licenses SET purchase_code = ?2, buyer = coalesce(buyer, ?3), purchase_count = coalesce(?4, purchase_count),
                            updated_at = ?5
                     WHERE sale_key = ?1 AND purchase_code IS NULL
                       AND NOT EXISTS (SELECT 1 FROM licenses WHERE purchase_code = ?2)",
                )?
                .execute(params![key, code, buyer, purchase_count, to_db(now)])?;
                tx.prepare_cached(
                    "UPDATE pending_sales SET purchase_code = ?2, buyer = coalesce(buyer, ?3), purchase_count = coalesce(?4, purchase_count)
                     WHERE sale_key = ?1 AND purchase_code IS NULL
                       AND NOT EXISTS (SELECT 1 FROM pending_sales WHERE purchase_code = ?2)",
                )?
                .execute(params![key, code, buyer, purchase_count])?;
                counts.codes_attached += n as u32;
            }
        }
    }
    for (item, (name, n)) in queued_items {
        insert_audit(
            tx,
            &AuditEntry::new(
                    now,
                    AuditLevel::Warning,
                    "sync.sale_skipped",
                    format!(
                        "{n} sale{} of “{name}” (Envato item {item}) skipped: no product matches it and Auto-Create Products is off. \
                         {} in the review queue.",
                        if n == 1 { "" } else { "s" },
                        if n == 1 { "It waits" } else { "They wait" }
                    ),
                ).run(run_id),
        )?;
    }
    Ok(counts)
}

fn license_id_by_code(conn: &rusqlite::Connection, code: &str) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT id FROM licenses WHERE purchase_code = ?1")?
        .query_row([code], |r| r.get(0))
        .optional()?)
}

/// The first free ordinal for a sale's key (`item|sold_at|amount|license#n`), so a sale recorded
/// by a lookup gets the key a later sync will compute for it.
fn free_sale_key(conn: &rusqlite::Connection, key: &str) -> Result<String> {
    let base = key.rsplit_once('#').map(|(b, _)| b).unwrap_or(key);
    let mut taken = conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM licenses WHERE sale_key = ?1) OR EXISTS (SELECT 1 FROM pending_sales WHERE sale_key = ?1)",
    )?;
    for n in 0..1000 {
        let key = format!("{base}#{n}");
        if !taken.query_row([&key], |r| r.get::<_, bool>(0))? {
            return Ok(key);
        }
    }
    Err(Error::internal("Too many identical sales."))
}

impl Store {
    /// What the database already holds of these sales, by key and by code.
    pub fn known_sales(&self, sales: &[SaleRecord]) -> Result<KnownSales> {
        let mut known = KnownSales::default();
        let mut by_key = self.conn.prepare_cached(
            "SELECT sale_key, sync_run_id, purchase_code IS NOT NULL FROM licenses WHERE sale_key = ?1
             UNION ALL SELECT sale_key, sync_run_id, purchase_code IS NOT NULL FROM pending_sales WHERE sale_key = ?1",
        )?;
        let mut by_code = self.conn.prepare_cached(
            "SELECT coalesce(sale_key, 'code:' || purchase_code), sync_run_id FROM licenses WHERE purchase_code = ?1
             UNION ALL SELECT sale_key, sync_run_id FROM pending_sales WHERE purchase_code = ?1",
        )?;
        for s in sales {
            if let Some((key, run_id, has_code)) =
                by_key.query_row([&s.key], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?))).optional()?
            {
                known.by_key.insert(key.clone(), Known { key, run_id, has_code });
            }
            if let Some(code) = &s.code {
                if let Some((key, run_id)) =
                    by_code.query_row([code], |r| Ok((r.get::<_, String>(0)?, r.get(1)?))).optional()?
                {
                    known.by_code.insert(code.clone(), key.clone());
                    known.by_key.entry(key.clone()).or_insert(Known { key, run_id, has_code: true });
                }
            }
        }
        Ok(known)
    }

    /// Records a sale Envato just verified for a lookup (or a licensing request), in one
    /// IMMEDIATE transaction: the code recorded meanwhile by a sync or another lookup is left as
    /// it is; a code-less synced license of the same sale (item, sold_at, amount) gets the code;
    /// otherwise one planner pass (`plan_page`, the sync's own matching: item ID, name, SKU,
    /// auto-create or the review queue) decides, and its operations are applied. The lookup is
    /// recorded in the history in the same transaction: `history` gives its verdict and summary.
    /// Returns the license the code maps to, if any (None: waiting in the review queue).
    pub fn record_verified_sale(
        &mut self,
        sale: &SaleRecord,
        now: Timestamp,
        history: impl FnOnce(Option<&License>) -> (&'static str, String),
    ) -> Result<Option<License>> {
        let code = sale.code.clone().ok_or_else(|| Error::internal("A verified sale always has its code."))?;
        self.write(|tx| {
            // Envato knows it now: whatever "unknown" was remembered for it is over.
            tx.prepare_cached("DELETE FROM unknown_codes WHERE code = ?1")?.execute([&code])?;
            let recorded = license_id_by_code(tx, &code)?.is_some() || pending_has_code(tx, &code)?;
            if !recorded {
                let codeless: Option<(i64, String)> = tx
                    .prepare_cached(
                        "SELECT id, sale_key FROM licenses WHERE envato_item_id = ?1 AND sold_at = ?2 AND purchase_code IS NULL
                           AND sale_key IS NOT NULL
                         ORDER BY (amount_cents = ?3) DESC, id LIMIT 1",
                    )?
                    .query_row(params![sale.item_id, to_db(sale.sold_at), sale.amount_cents], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                let settings = settings_in(tx)?;
                let attaching = codeless.is_some();
                let plan = match codeless {
                    Some((_, key)) => PagePlan {
                        ops: vec![Op::AttachCode {
                            key,
                            code: code.clone(),
                            buyer: sale.buyer.clone(),
                            purchase_count: sale.purchase_count,
                        }],
                        stop: None,
                        seen: 1,
                    },
                    None => {
                        let mut record = sale.clone();
                        record.key = free_sale_key(tx, &sale.key)?;
                        let ctx = PlanContext {
                            run_id: 0,
                            auto_create: settings.auto_create_products,
                            history_cutoff: chrono::DateTime::<chrono::Utc>::MIN_UTC,
                            watermark: None,
                        };
                        plan_page(&[record], &KnownSales::default(), &product_index_in(tx)?, &ctx)
                    }
                };
                apply_ops(
                    tx,
                    None,
                    &plan,
                    settings.default_activation_limit,
                    settings.default_license_type.as_str(),
                    now,
                )?;
                if let Some(id) = license_id_by_code(tx, &code)? {
                    let action = if attaching { "license.code_attached" } else { "license.verified_sale" };
                    let message = if attaching {
                        "Purchase code verified with Envato and attached."
                    } else {
                        "Purchase code verified with Envato; the sale was recorded."
                    };
                    insert_audit(tx, &AuditEntry::new(now, AuditLevel::Info, action, message).license(id))?;
                }
            }
            let license = match license_id_by_code(tx, &code)? {
                Some(id) => {
                    tx.execute("UPDATE licenses SET envato_checked_at = ?2 WHERE id = ?1", params![id, to_db(now)])?;
                    license_in(tx, id)?
                }
                None => None,
            };
            let (verdict, summary) = history(license.as_ref());
            insert_lookup(tx, &code, verdict, license.as_ref().map(|l| l.id), &summary, now)?;
            Ok(license)
        })
    }
}
