//! Tables of the sync: `sync_runs`, `sync_state`, `pending_sales` (the review queue), and the
//! licenses a sync writes. `apply_sync_page` commits one page's plan in one transaction.

use super::audit::{insert_audit, AuditEntry, AuditLevel};
use super::Store;
use crate::error::{Error, ErrorCode, Result};
use crate::license_key::LicenseKey;
use crate::model::{truncate_chars, Product, DESCRIPTION_MAX, NAME_MAX};
use crate::sync::plan::{Known, KnownSales, Op, PagePlan, ProductIndex, ProductRef, SaleRecord};
use crate::time::{parse, to_db, Timestamp};
use rusqlite::{params, OptionalExtension, Transaction};
use serde::Serialize;
use std::collections::HashMap;
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SyncTrigger {
    Scheduled,
    Manual,
    First,
}

impl SyncTrigger {
    fn as_str(self) -> &'static str {
        match self {
            SyncTrigger::Scheduled => "scheduled",
            SyncTrigger::Manual => "manual",
            SyncTrigger::First => "first",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SyncRunStatus {
    Running,
    Succeeded,
    Failed,
    Interrupted,
}

/// One row of the Sync log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct SyncRun {
    #[ts(type = "number")]
    pub id: i64,
    pub trigger: SyncTrigger,
    pub status: SyncRunStatus,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub pages_fetched: u32,
    pub sales_seen: u32,
    pub licenses_created: u32,
    pub products_created: u32,
    pub sales_queued: u32,
    pub error: Option<Error>,
    /// Warnings logged during the run (skipped sales, …).
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncState {
    pub watermark: Option<Timestamp>,
    pub last_success_at: Option<Timestamp>,
    pub paused: bool,
    /// The last run failed with 401: periodic syncing waits until the token is fixed.
    pub auth_failed: bool,
}

/// An Envato item with sales waiting for a product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ReviewItem {
    #[ts(type = "number")]
    pub item_id: i64,
    pub item_name: String,
    pub marketplace: Option<String>,
    pub waiting_sales: u32,
    pub oldest_sold_at: String,
    pub newest_sold_at: String,
}

/// What one page changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, TS)]
pub struct PageCounts {
    pub licenses_created: u32,
    pub products_created: u32,
    pub sales_queued: u32,
    pub codes_attached: u32,
}

fn status_from(s: &str) -> SyncRunStatus {
    match s {
        "running" => SyncRunStatus::Running,
        "succeeded" => SyncRunStatus::Succeeded,
        "failed" => SyncRunStatus::Failed,
        _ => SyncRunStatus::Interrupted,
    }
}

fn trigger_from(s: &str) -> SyncTrigger {
    match s {
        "manual" => SyncTrigger::Manual,
        "first" => SyncTrigger::First,
        _ => SyncTrigger::Scheduled,
    }
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
/// Returns the new license's id.
pub(crate) fn insert_sale_license(
    tx: &Transaction<'_>,
    s: &SaleRecord,
    product_id: i64,
    run_id: Option<i64>,
    now: Timestamp,
) -> Result<Option<i64>> {
    let (limit, ptype): (u32, String) = tx
        .prepare_cached("SELECT activation_limit, license_type FROM products WHERE id = ?1")?
        .query_row([product_id], |r| Ok((r.get(0)?, r.get(1)?)))
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
    // A clash of random keys is astronomically unlikely; the UNIQUE constraint decides, and we draw again.
    for _ in 0..5 {
        let key = LicenseKey::generate()?;
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
            return Ok(Some(id));
        }
    }
    Err(Error::internal("Could not draw a unique license key."))
}

fn pending_to_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<SaleRecord> {
    let sold: String = r.get(10)?;
    let until: Option<String> = r.get(11)?;
    Ok(SaleRecord {
        key: r.get(0)?,
        code: r.get(1)?,
        item_id: r.get(2)?,
        item_name: r.get(3)?,
        item_description: r.get(4)?,
        marketplace: r.get(5)?,
        buyer: r.get(6)?,
        purchase_count: r.get(7)?,
        license: r.get(8)?,
        amount_cents: r.get(9)?,
        sold_at: parse(&sold).unwrap_or_default(),
        supported_until: until.as_deref().and_then(parse),
        support_amount_cents: r.get(12)?,
    })
}

/// Turns an item's waiting sales into licenses of `product_id`. Returns how many.
pub(crate) fn promote_pending(tx: &Transaction<'_>, item_id: i64, product_id: i64, now: Timestamp) -> Result<u32> {
    let waiting: Vec<(SaleRecord, Option<i64>)> = tx
        .prepare_cached(
            "SELECT sale_key, purchase_code, envato_item_id, item_name, item_description, marketplace, buyer, purchase_count,
                    envato_license, amount_cents, sold_at, supported_until, support_amount_cents, sync_run_id
             FROM pending_sales WHERE envato_item_id = ?1 ORDER BY sold_at",
        )?
        .query_map([item_id], |r| Ok((pending_to_record(r)?, r.get(13)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut n = 0;
    for (sale, run_id) in &waiting {
        if insert_sale_license(tx, sale, product_id, *run_id, now)?.is_some() {
            n += 1;
        }
    }
    tx.execute("DELETE FROM pending_sales WHERE envato_item_id = ?1", [item_id])?;
    Ok(n)
}

fn insert_product_for_item(
    tx: &Transaction<'_>,
    item_id: i64,
    name: &str,
    description: &str,
    limit: u32,
    ltype: &str,
    now: Timestamp,
) -> Result<i64> {
    if let Some(id) = tx
        .prepare_cached("SELECT product_id FROM product_envato_items WHERE item_id = ?1")?
        .query_row([item_id], |r| r.get(0))
        .optional()?
    {
        return Ok(id);
    }
    let at = to_db(now);
    tx.prepare_cached(
        "INSERT INTO products (name, description, sku, activation_limit, license_type, status, created_at, updated_at)
         VALUES (?1, ?2, NULL, ?3, ?4, 'active', ?5, ?5)",
    )?
    .execute(params![
        truncate_chars(name, NAME_MAX),
        truncate_chars(description, DESCRIPTION_MAX),
        limit,
        ltype,
        at
    ])?;
    let id = tx.last_insert_rowid();
    tx.prepare_cached("INSERT INTO product_envato_items (item_id, product_id) VALUES (?1, ?2)")?
        .execute(params![item_id, id])?;
    insert_audit(
        tx,
        &AuditEntry::new(
            now,
            AuditLevel::Info,
            "product.auto_created",
            format!("Product “{name}” created from Envato item {item_id}."),
        )
        .product(id),
    )?;
    Ok(id)
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
                if insert_sale_license(tx, sale, product_id, run_id, now)?.is_some() {
                    counts.licenses_created += 1;
                }
            }
            Op::Queue { sale } => {
                let n = tx
                    .prepare_cached(
                        "INSERT OR IGNORE INTO pending_sales (sale_key, purchase_code, envato_item_id, item_name, item_description,
                            marketplace, buyer, purchase_count, envato_license, amount_cents, support_amount_cents, sold_at,
                            supported_until, sync_run_id, queued_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                    )?
                    .execute(params![
                        sale.key,
                        sale.code,
                        sale.item_id,
                        sale.item_name,
                        truncate_chars(&sale.item_description, 20_000),
                        sale.marketplace,
                        sale.buyer,
                        sale.purchase_count,
                        sale.license,
                        sale.amount_cents,
                        sale.support_amount_cents,
                        to_db(sale.sold_at),
                        sale.supported_until.map(to_db),
                        run_id,
                        to_db(now),
                    ])?;
                if n == 1 {
                    counts.sales_queued += 1;
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

/// The products as matching needs them, as `conn` (or a transaction) sees them.
pub(crate) fn product_index_in(conn: &rusqlite::Connection) -> Result<ProductIndex> {
    let mut index = ProductIndex::default();
    let mut stmt = conn.prepare_cached("SELECT item_id, product_id FROM product_envato_items")?;
    for row in stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))? {
        let (item, product) = row?;
        index.by_item.insert(item, product);
    }
    // Oldest product wins a name or SKU shared by several.
    let mut stmt =
        conn.prepare_cached("SELECT id, name, sku FROM products WHERE status = 'active' ORDER BY id DESC")?;
    for row in
        stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?)))?
    {
        let (id, name, sku) = row?;
        index.by_name.insert(name.trim().to_lowercase(), id);
        if let Some(sku) = sku {
            index.by_sku.insert(sku.trim().to_lowercase(), id);
        }
    }
    Ok(index)
}

impl Store {
    pub fn sync_state(&self) -> Result<SyncState> {
        Ok(self
            .conn
            .prepare_cached("SELECT watermark, last_success_at, paused, auth_failed FROM sync_state WHERE id = 1")?
            .query_row([], |r| {
                let w: Option<String> = r.get(0)?;
                let s: Option<String> = r.get(1)?;
                Ok(SyncState {
                    watermark: w.as_deref().and_then(parse),
                    last_success_at: s.as_deref().and_then(parse),
                    paused: r.get(2)?,
                    auth_failed: r.get(3)?,
                })
            })
            .optional()?
            .unwrap_or_default())
    }

    pub fn set_sync_paused(&mut self, paused: bool, now: Timestamp) -> Result<()> {
        self.write(|tx| {
            tx.execute("UPDATE sync_state SET paused = ?1 WHERE id = 1", [paused])?;
            let msg = if paused { "Syncing paused." } else { "Syncing resumed." };
            insert_audit(tx, &AuditEntry::new(now, AuditLevel::Info, "sync.paused", msg))?;
            Ok(())
        })
    }

    /// Cleared when a token is saved: periodic syncing may go on.
    pub fn clear_sync_auth_failure(&mut self) -> Result<()> {
        self.conn.execute("UPDATE sync_state SET auth_failed = 0 WHERE id = 1", [])?;
        Ok(())
    }

    /// Opens a run. Runs left `running` by a process that died are marked interrupted first.
    pub fn begin_sync_run(&mut self, trigger: SyncTrigger, now: Timestamp) -> Result<i64> {
        self.write(|tx| {
            tx.execute(
                "UPDATE sync_runs SET status = 'interrupted', finished_at = coalesce(finished_at, ?1) WHERE status = 'running'",
                [to_db(now)],
            )?;
            tx.execute(
                "INSERT INTO sync_runs (trigger, status, started_at) VALUES (?1, 'running', ?2)",
                params![trigger.as_str(), to_db(now)],
            )?;
            Ok(tx.last_insert_rowid())
        })
    }

    /// Closes a run. Success moves the watermark (so the next run stops where this one began);
    /// a failure leaves it, so nothing this run missed is skipped next time.
    pub fn finish_sync_run(
        &mut self,
        run_id: i64,
        outcome: std::result::Result<Option<Timestamp>, &Error>,
        now: Timestamp,
    ) -> Result<()> {
        self.write(|tx| {
            match outcome {
                Ok(newest) => {
                    tx.execute(
                        "UPDATE sync_runs SET status = 'succeeded', finished_at = ?2 WHERE id = ?1",
                        params![run_id, to_db(now)],
                    )?;
                    tx.execute(
                        "UPDATE sync_state SET last_success_at = ?1, auth_failed = 0,
                                watermark = CASE WHEN ?2 IS NULL THEN watermark
                                                 WHEN watermark IS NULL OR ?2 > watermark THEN ?2 ELSE watermark END
                         WHERE id = 1",
                        params![to_db(now), newest.map(to_db)],
                    )?;
                }
                Err(e) => {
                    tx.execute(
                        "UPDATE sync_runs SET status = 'failed', finished_at = ?2, error_code = ?3, error_message = ?4 WHERE id = ?1",
                        params![run_id, to_db(now), e.code.as_str(), e.message],
                    )?;
                    if e.code == ErrorCode::EnvatoUnauthorized {
                        tx.execute("UPDATE sync_state SET auth_failed = 1 WHERE id = 1", [])?;
                    }
                    insert_audit(
                        tx,
                        &AuditEntry::new(now, AuditLevel::Error, "sync.failed", format!("[{}] {}", e.code, e.message)).run(Some(run_id)),
                    )?;
                }
            }
            Ok(())
        })
    }

    /// Counts a fetched page on the run (also for pages with nothing new).
    pub fn record_sync_page(&mut self, run_id: i64, seen: u32) -> Result<()> {
        self.conn.execute(
            "UPDATE sync_runs SET pages_fetched = pages_fetched + 1, sales_seen = sales_seen + ?2 WHERE id = ?1",
            params![run_id, seen],
        )?;
        Ok(())
    }

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

    /// The products as matching needs them.
    pub fn product_index(&self) -> Result<ProductIndex> {
        product_index_in(&self.conn)
    }

    /// Commits one page's plan in one transaction, and counts it on the run.
    pub fn apply_sync_page(&mut self, run_id: i64, plan: &PagePlan, now: Timestamp) -> Result<PageCounts> {
        let settings = self.settings()?;
        self.write(|tx| {
            let counts = apply_ops(
                tx,
                Some(run_id),
                plan,
                settings.default_activation_limit,
                settings.default_license_type.as_str(),
                now,
            )?;
            tx.prepare_cached(
                "UPDATE sync_runs SET pages_fetched = pages_fetched + 1, sales_seen = sales_seen + ?2,
                        licenses_created = licenses_created + ?3, products_created = products_created + ?4,
                        sales_skipped = sales_skipped + ?5
                 WHERE id = ?1",
            )?
            .execute(params![
                run_id,
                plan.seen,
                counts.licenses_created,
                counts.products_created,
                counts.sales_queued
            ])?;
            Ok(counts)
        })
    }

    /// The newest `limit` runs, newest first, with their warnings.
    pub fn sync_runs(&self, limit: u32) -> Result<Vec<SyncRun>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, trigger, status, started_at, finished_at, pages_fetched, sales_seen, licenses_created, products_created,
                    sales_skipped, error_code, error_message
             FROM sync_runs ORDER BY id DESC LIMIT ?1",
        )?;
        let mut runs: Vec<SyncRun> = stmt
            .query_map([limit], |r| {
                let code: Option<String> = r.get(10)?;
                let message: Option<String> = r.get(11)?;
                Ok(SyncRun {
                    id: r.get(0)?,
                    trigger: trigger_from(&r.get::<_, String>(1)?),
                    status: status_from(&r.get::<_, String>(2)?),
                    started_at: r.get(3)?,
                    finished_at: r.get(4)?,
                    pages_fetched: r.get(5)?,
                    sales_seen: r.get(6)?,
                    licenses_created: r.get(7)?,
                    products_created: r.get(8)?,
                    sales_queued: r.get(9)?,
                    error: code.map(|c| Error::new(ErrorCode::parse(&c), message.unwrap_or_default())),
                    warnings: Vec::new(),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut warnings = self.conn.prepare_cached(
            "SELECT message FROM audit_log WHERE sync_run_id = ?1 AND level = 'warning' ORDER BY id LIMIT 50",
        )?;
        for run in &mut runs {
            run.warnings = warnings.query_map([run.id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        }
        Ok(runs)
    }

    /// The review queue: Envato items with sales waiting for a product.
    pub fn review_queue(&self) -> Result<Vec<ReviewItem>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT envato_item_id, max(item_name), max(marketplace), count(*), min(sold_at), max(sold_at)
             FROM pending_sales GROUP BY envato_item_id ORDER BY count(*) DESC, envato_item_id",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(ReviewItem {
                    item_id: r.get(0)?,
                    item_name: r.get(1)?,
                    marketplace: r.get(2)?,
                    waiting_sales: r.get(3)?,
                    oldest_sold_at: r.get(4)?,
                    newest_sold_at: r.get(5)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    fn review_item_exists(&self, item_id: i64) -> Result<Option<(String, String)>> {
        Ok(self
            .conn
            .prepare_cached("SELECT item_name, item_description FROM pending_sales WHERE envato_item_id = ?1 LIMIT 1")?
            .query_row([item_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    /// The product linked to an Envato item, created from the item (as auto-create does) when none is.
    pub fn product_for_item_or_create(&mut self, item_id: i64, name: &str, html: &str, now: Timestamp) -> Result<i64> {
        let settings = self.settings()?;
        let description = crate::sync::plan::text_from_html(html);
        self.write(|tx| {
            insert_product_for_item(
                tx,
                item_id,
                name,
                &description,
                settings.default_activation_limit,
                settings.default_license_type.as_str(),
                now,
            )
        })
    }

    /// Review action: create the product from the Envato item (as auto-create would) and turn
    /// its waiting sales into licenses.
    pub fn review_create_product(&mut self, item_id: i64, now: Timestamp) -> Result<(Product, u32)> {
        let (name, html) = self.review_item_exists(item_id)?.ok_or_else(|| no_review_item(item_id))?;
        let settings = self.settings()?;
        let description = crate::sync::plan::text_from_html(&html);
        let (product_id, n) = self.write(|tx| {
            let id = insert_product_for_item(
                tx,
                item_id,
                &name,
                &description,
                settings.default_activation_limit,
                settings.default_license_type.as_str(),
                now,
            )?;
            let n = promote_pending(tx, item_id, id, now)?;
            Ok((id, n))
        })?;
        Ok((self.product(product_id)?.ok_or_else(|| Error::internal("The new product vanished."))?, n))
    }

    /// Review action: link the item to an existing product and turn its waiting sales into licenses.
    pub fn review_map(&mut self, item_id: i64, product_id: i64, now: Timestamp) -> Result<(Product, u32)> {
        let product = self.product(product_id)?.ok_or_else(|| {
            Error::new(ErrorCode::ProductNotFound, format!("There is no product with ID {product_id}."))
        })?;
        self.review_item_exists(item_id)?.ok_or_else(|| no_review_item(item_id))?;
        let n = self.write(|tx| {
            super::products::link_item(tx, item_id, product_id)?;
            insert_audit(
                tx,
                &AuditEntry::new(
                    now,
                    AuditLevel::Info,
                    "product.item_linked",
                    format!("Envato item {item_id} linked to “{}”.", product.name),
                )
                .product(product_id),
            )?;
            promote_pending(tx, item_id, product_id, now)
        })?;
        Ok((self.product(product_id)?.ok_or_else(|| Error::internal("The product vanished."))?, n))
    }
}

fn no_review_item(item_id: i64) -> Error {
    Error::new(ErrorCode::InputInvalid, format!("No sales of Envato item {item_id} are waiting in the review queue."))
}
