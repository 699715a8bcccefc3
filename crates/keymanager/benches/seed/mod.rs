//! The benchmarks' data set: N licenses of 20 products in a database file, written through the
//! sync applier 5,000 sales a transaction, as a real sync writes them. Shared by the license and
//! server benchmarks (`#[path]`-included).

use chrono::Duration as CDuration;
use keymanager::plan::{MatchedBy, Op, PagePlan, ProductRef, SaleRecord};
use keymanager::store::SyncTrigger;
use keymanager::{model::NewProduct, time, Store};

/// The marketplaces the sales are spread over.
pub const SITES: [&str; 4] = ["themeforest.net", "codecanyon.net", "videohive.net", "audiojungle.net"];

/// The purchase code of sale `i`.
pub fn code(i: u64) -> String {
    let h = format!("{:032x}", (i as u128).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835));
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// Writes `n` licenses into `store`.
pub fn seed(store: &mut Store, n: u64) {
    let now = time::now();
    let products: Vec<i64> = (0..20)
        .map(|i| {
            store
                .create_product(
                    &NewProduct {
                        name: format!("Product {i}"),
                        envato_item_ids: Some(vec![1000 + i]),
                        ..Default::default()
                    },
                    now,
                )
                .unwrap()
                .id
        })
        .collect();

    // Seed through the sync applier, 5,000 sales a transaction, as a real sync writes them.
    let run = store.begin_sync_run(SyncTrigger::Manual, now).unwrap();
    let sites = SITES;
    let mut i = 0u64;
    while i < n {
        let ops = (i..(i + 5000).min(n))
            .map(|k| {
                let item = 1000 + (k % 20) as i64;
                let sold = now - CDuration::seconds((k * 7) as i64);
                Op::IssueLicense {
                    sale: SaleRecord {
                        key: format!("{item}|{}|1984|Regular License#0", time::to_db(sold)),
                        code: Some(code(k)),
                        item_id: item,
                        item_name: format!("Item {item}"),
                        item_description: String::new(),
                        marketplace: Some(sites[(k % 4) as usize].into()),
                        buyer: if k % 7 == 0 { None } else { Some(format!("buyer{:07}", k % 300_000)) },
                        purchase_count: Some(1),
                        license: "Regular License".into(),
                        amount_cents: 1984,
                        support_amount_cents: Some(0),
                        sold_at: sold,
                        supported_until: Some(sold + CDuration::days(182)),
                    },
                    product: ProductRef::Existing(products[(k % 20) as usize]),
                    matched_by: MatchedBy::ItemId,
                }
            })
            .collect();
        store.apply_sync_page(run, &PagePlan { ops, stop: None, seen: 0 }, now).unwrap();
        i += 5000;
    }
}
