//! The dashboard's figures: licenses by status, products, sales of the last 30 days, a series
//! of sales per day by product, and the last sync.

use crate::error::Result;
use crate::money::format_cents;
use crate::store::{LicenseCounts, OutboxCounts, Store, SyncRun};
use crate::time::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct ProductSeries {
    #[ts(type = "number")]
    pub product_id: i64,
    pub product_name: String,
    /// Sales per day, one value per entry of `Dashboard::days`.
    pub counts: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct Dashboard {
    pub licenses: LicenseCounts,
    pub products: u32,
    pub sales_last_30_days: u32,
    /// Exact decimal text.
    pub revenue_last_30_days: String,
    /// The 30 days of the chart, oldest first (`YYYY-MM-DD`, UTC).
    pub days: Vec<String>,
    pub series: Vec<ProductSeries>,
    pub last_sync: Option<SyncRun>,
    /// Webhooks and e-mails waiting or failed, and destinations now failing.
    pub outbox: OutboxCounts,
}

pub fn dashboard(store: &Store, now: Timestamp) -> Result<Dashboard> {
    let first_day = (now - chrono::Duration::days(29)).date_naive();
    let days: Vec<String> =
        (0..30).map(|i| (first_day + chrono::Duration::days(i)).format("%Y-%m-%d").to_string()).collect();
    let index: BTreeMap<&str, usize> = days.iter().enumerate().map(|(i, d)| (d.as_str(), i)).collect();
    let from = first_day.and_hms_opt(0, 0, 0).map(|t| t.and_utc()).unwrap_or(now);
    let products = store.products()?;
    let names: BTreeMap<i64, String> = products.iter().map(|p| (p.id, p.name.clone())).collect();
    let mut series: BTreeMap<i64, Vec<u32>> = BTreeMap::new();
    let (mut total, mut revenue) = (0u32, 0i64);
    for (day, product, count, cents) in store.sales_per_day(from)? {
        if let Some(&i) = index.get(day.as_str()) {
            series.entry(product).or_insert_with(|| vec![0; days.len()])[i] += count;
            total += count;
            revenue += cents;
        }
    }
    let mut series: Vec<ProductSeries> = series
        .into_iter()
        .map(|(id, counts)| ProductSeries {
            product_id: id,
            product_name: names.get(&id).cloned().unwrap_or_default(),
            counts,
        })
        .collect();
    series.sort_by_key(|s| std::cmp::Reverse(s.counts.iter().sum::<u32>()));
    Ok(Dashboard {
        licenses: store.license_counts()?,
        products: products.len() as u32,
        sales_last_30_days: total,
        revenue_last_30_days: format_cents(revenue),
        days,
        series,
        last_sync: store.sync_runs(1)?.into_iter().next(),
        outbox: store.outbox_counts()?,
    })
}
