//! Sync benchmark (prints figures; not a timed test). `cargo bench -p keymanager --bench sync`
//!
//! - A first sync of N sales (default 100,000; `SYNC_BENCH_SALES`) from the sandbox at zero
//!   latency: sales per second, and the ratio of its wall time to the time to fetch the same
//!   pages plus the time to insert the same rows, each measured alone. Target: at most 1.5.
//! - The requests an incremental sync makes when nothing is new. Target: 1.

use chrono::Utc;
use envato_sandbox::data::{self, GenSpec};
use envato_sandbox::{RunningSandbox, Switches};
use keymanager::envato::{ClientConfig, EnvatoClient};
use keymanager::store::SharedStore;
use keymanager::store::SyncTrigger;
use keymanager::sync::run_sync;
use keymanager::time;
use keymanager::token::Token;
use std::time::{Duration, Instant};

fn client(sb: &RunningSandbox) -> EnvatoClient {
    EnvatoClient::new(ClientConfig::new(&sb.base_url()), Token::parse(data::SELLER_TOKEN).unwrap()).unwrap()
}

#[path = "sync_common/mod.rs"]
mod common;
use common::row;

fn fresh_store(dir: &std::path::Path) -> SharedStore {
    SharedStore::new(common::fresh_store(dir))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::var("SYNC_BENCH_SALES").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let spec = GenSpec { seed: 1, items: 20, sales: n, days: 300, now: Utc::now() };
    let sb = RunningSandbox::start(spec, Switches::default()).await.unwrap();
    sb.update_switches(|s| s.variants.page_size = 100);
    eprintln!("sandbox at {} with {n} sales, 100 per page", sb.base_url());

    // 1. Fetch alone: every page, decoded, nothing stored.
    let c = client(&sb);
    let t = Instant::now();
    let pages = common::fetch_pages(&c).await;
    let fetch = t.elapsed();
    assert_eq!(pages.iter().map(Vec::len).sum::<usize>(), n);

    // 2. Insert alone: the same pages planned and applied, one transaction per page.
    let dir = tempfile::tempdir().unwrap();
    let store = fresh_store(dir.path());
    let t = Instant::now();
    common::apply_pages(&mut store.lock(), &pages);
    let insert = t.elapsed();
    assert_eq!(store.lock().license_counts().unwrap().total as usize, n);
    drop(pages);

    // 3. The real thing: a first sync into a fresh database.
    let dir = tempfile::tempdir().unwrap();
    let store = fresh_store(dir.path());
    let t = Instant::now();
    let summary = run_sync(&store, &c, SyncTrigger::Manual, &time::now, &mut |_| {}).await.unwrap();
    let wall = t.elapsed();
    assert_eq!(summary.licenses_created as usize, n, "{:?}", summary.error);

    // 4. Incremental with nothing new.
    sb.reset_stats();
    let again = run_sync(&store, &c, SyncTrigger::Scheduled, &time::now, &mut |_| {}).await.unwrap();
    let requests = sb.stats().total;
    assert_eq!(again.licenses_created, 0);

    let secs = |d: Duration| format!("{:.2} s", d.as_secs_f64());
    let ratio = wall.as_secs_f64() / (fetch + insert).as_secs_f64();
    println!();
    println!("| {:<58} | {:>16} | {:>10} | {:<6} |", "sync benchmark", "figure", "target", "");
    println!("|{}|{}|{}|{}|", "-".repeat(60), "-".repeat(18), "-".repeat(12), "-".repeat(8));
    row(&format!("first sync of {n} sales: wall time"), secs(wall), "", None);
    row("first sync: sales per second", format!("{:.0}", n as f64 / wall.as_secs_f64()), "", None);
    row("fetch alone (same pages)", secs(fetch), "", None);
    row("insert alone (same rows)", secs(insert), "", None);
    row("ratio wall / (fetch + insert)", format!("{ratio:.2}"), "<= 1.5", Some(ratio <= 1.5));
    row("requests of an incremental sync with nothing new", requests.to_string(), "1", Some(requests == 1));
    println!();
}
