//! What the sync and outbox benchmarks share (`#[path]`-included): a fresh database set up for a
//! first sync of the whole sandbox history, and one table row.

use keymanager::envato::{EnvatoClient, Sale};
use keymanager::plan::{self, PlanContext};
use keymanager::store::SyncTrigger;
use keymanager::{time, Store};

/// A new database in `dir` with Auto-Create on and a year of history.
pub fn fresh_store(dir: &std::path::Path) -> Store {
    let mut s = Store::open_in_dir(dir).unwrap();
    s.update_settings(
        &[("auto_create_products".into(), "true".into()), ("history_days".into(), "365".into())],
        time::now(),
    )
    .unwrap();
    s
}

/// One row of the printed table: `ok` None for a figure without a target.
pub fn row(what: &str, value: String, target: &str, ok: Option<bool>) {
    let verdict = match ok {
        Some(true) => "met",
        Some(false) => "MISSED",
        None => "",
    };
    println!("| {what:<58} | {value:>16} | {target:>10} | {verdict:<6} |");
}

/// Every sales page of the sandbox behind `c`, decoded (what a first sync fetches).
pub async fn fetch_pages(c: &EnvatoClient) -> Vec<Vec<Sale>> {
    let mut pages = Vec::new();
    for p in 1u32.. {
        let page = c.sales_page(p).await.unwrap();
        if page.is_empty() {
            break;
        }
        pages.push(page);
    }
    pages
}

/// The sync's planner and applier over `pages`, one transaction per page, as a first sync with
/// Auto-Create on writes them; no network.
pub fn apply_pages(s: &mut Store, pages: &[Vec<Sale>]) {
    let run_id = s.begin_sync_run(SyncTrigger::Manual, time::now()).unwrap();
    let ctx = PlanContext {
        run_id,
        auto_create: true,
        history_cutoff: time::now() - chrono::Duration::days(365),
        watermark: None,
    };
    let mut memory = plan::RunMemory::default();
    for page in pages {
        let records = match plan::keyed(page, &mut memory) {
            plan::Keyed::Records(r) => r,
            // The pages were fetched once, unchanged: nothing shifted.
            plan::Keyed::CheckPreviousPage => {
                memory.measure_shift(&[]);
                match plan::keyed(page, &mut memory) {
                    plan::Keyed::Records(r) => r,
                    plan::Keyed::CheckPreviousPage => unreachable!(),
                }
            }
        };
        let known = s.known_sales(&records).unwrap();
        let products = s.product_index().unwrap();
        let p = plan::plan_page(&records, &known, &products, &ctx);
        s.apply_sync_page(run_id, &p, time::now()).unwrap();
    }
}
