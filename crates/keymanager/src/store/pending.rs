//! The review queue (`pending_sales`): sales no product matches while Auto-Create Products is
//! off. They wait here until a product is created for their item or the item is linked to one;
//! then `promote_pending` turns them into licenses.

use super::licenses::insert_sale_license;
use super::Store;
use crate::error::{Error, ErrorCode, Result};
use crate::plan::SaleRecord;
use crate::text::truncate_chars;
use crate::time::{to_db, Timestamp};
use rusqlite::{params, OptionalExtension, Transaction};
use serde::Serialize;
use ts_rs::TS;

/// An Envato item with sales waiting for a product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct ReviewItem {
    #[ts(type = "number")]
    pub item_id: i64,
    pub item_name: String,
    pub marketplace: Option<String>,
    pub waiting_sales: u32,
    pub oldest_sold_at: String,
    pub newest_sold_at: String,
}

fn pending_to_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<SaleRecord> {
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
        sold_at: super::stored_time(r, 10)?,
        supported_until: super::stored_time_opt(r, 11)?,
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
        if insert_sale_license(tx, sale, product_id, *run_id, false, now)?.is_some() {
            n += 1;
        }
    }
    tx.execute("DELETE FROM pending_sales WHERE envato_item_id = ?1", [item_id])?;
    Ok(n)
}

/// Puts a sale no product matches into the review queue; false when it waits there already.
pub(crate) fn queue_sale(tx: &Transaction<'_>, sale: &SaleRecord, run_id: Option<i64>, now: Timestamp) -> Result<bool> {
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
    Ok(n == 1)
}

pub(crate) fn pending_has_code(conn: &rusqlite::Connection, code: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM pending_sales WHERE purchase_code = ?1)")?
        .query_row([code], |r| r.get(0))?)
}

pub(crate) fn no_review_item(item_id: i64) -> Error {
    Error::new(ErrorCode::InputInvalid, format!("No sales of Envato item {item_id} are waiting in the review queue."))
}

impl Store {
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

    pub(crate) fn review_item_exists(&self, item_id: i64) -> Result<Option<(String, String)>> {
        Ok(self
            .conn
            .prepare_cached("SELECT item_name, item_description FROM pending_sales WHERE envato_item_id = ?1 LIMIT 1")?
            .query_row([item_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    /// Whether a sale with this code waits in the review queue.
    pub fn pending_by_code(&self, code: &str) -> Result<bool> {
        pending_has_code(&self.conn, code)
    }

    /// The sale with this purchase code waiting in the review queue, as it was recorded.
    pub fn pending_sale_by_code(&self, code: &str) -> Result<Option<PendingSale>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT envato_item_id, item_name, marketplace, buyer, envato_license, sold_at, amount_cents,
                        purchase_count, supported_until
                 FROM pending_sales WHERE purchase_code = ?1",
            )?
            .query_row([code], |r| {
                Ok(PendingSale {
                    item_id: r.get(0)?,
                    item_name: r.get(1)?,
                    marketplace: r.get(2)?,
                    buyer: r.get(3)?,
                    envato_license: r.get(4)?,
                    sold_at: r.get(5)?,
                    amount_cents: r.get(6)?,
                    purchase_count: r.get(7)?,
                    supported_until: r.get(8)?,
                })
            })
            .optional()?)
    }
}

/// A sale waiting in the review queue, as a lookup shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSale {
    pub item_id: i64,
    pub item_name: String,
    pub marketplace: Option<String>,
    pub buyer: Option<String>,
    pub envato_license: String,
    pub sold_at: String,
    pub amount_cents: i64,
    pub purchase_count: Option<u32>,
    pub supported_until: Option<String>,
}
