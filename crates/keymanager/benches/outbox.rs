//! Outbox benchmark (prints figures; not a timed test). `cargo bench -p keymanager --bench outbox`
//!
//! - Deliveries per second: 10,000 queued `license.created` messages (`OUTBOX_BENCH_MESSAGES`)
//!   delivered to a local receiver that checks every signature with the Standard Webhooks library.
//! - A first sync of N sales (default 100,000; `SYNC_BENCH_SALES`) from the sandbox with one
//!   endpoint subscribed to every event (two messages a sale), beside the same sync with no
//!   endpoint, alternated `OUTBOX_BENCH_RUNS` times (default 3), medians. Target: at most 1.2x
//!   its wall time. Then the applier alone over the same pages with and without the endpoint
//!   (no network), and what the outbox costs per message there.

#[path = "seed/mod.rs"]
mod seed;

use chrono::Utc;
use envato_sandbox::data::{self, GenSpec};
use envato_sandbox::receivers::Receiver;
use envato_sandbox::{RunningSandbox, Switches};
use keymanager::envato::{ClientConfig, EnvatoClient};
use keymanager::outbox::Deliverer;
use keymanager::secrets::Secrets;
use keymanager::store::SharedStore;
use keymanager::store::SyncTrigger;
use keymanager::sync::run_sync;
use keymanager::token::Token;
use keymanager::{time, webhooks, Store};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "sync_common/mod.rs"]
mod common;
use common::{fresh_store, row};

/// A first sync into a fresh database, with or without an endpoint for every event.
async fn timed_sync(sb: &RunningSandbox, endpoint: Option<&Receiver>) -> (Duration, u32) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = fresh_store(dir.path());
    if let Some(r) = endpoint {
        let new = webhooks::add(&mut store, &Secrets::in_memory(), &r.url, "", time::now()).unwrap();
        assert!(new.endpoint.all_events);
    }
    let shared = SharedStore::new(store);
    let c = EnvatoClient::new(ClientConfig::new(&sb.base_url()), Token::parse(data::SELLER_TOKEN).unwrap()).unwrap();
    let t = Instant::now();
    let summary = run_sync(&shared, &c, SyncTrigger::Manual, &time::now, &mut |_| {}).await.unwrap();
    let wall = t.elapsed();
    assert!(summary.error.is_none(), "{:?}", summary.error);
    let queued = shared.lock().outbox_counts().unwrap().pending;
    (wall, queued)
}

/// The applier alone over `pages` into a fresh database, with or without an endpoint.
fn timed_apply(pages: &[Vec<keymanager::envato::Sale>], endpoint: Option<&Receiver>) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let mut store = fresh_store(dir.path());
    if let Some(r) = endpoint {
        webhooks::add(&mut store, &Secrets::in_memory(), &r.url, "", time::now()).unwrap();
    }
    // As a sync writes: through the shared store (its checkpoints on their own thread).
    let shared = SharedStore::new(store);
    let t = Instant::now();
    common::apply_pages(&mut shared.lock(), pages);
    t.elapsed()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // 1. Deliveries per second.
    let n: u64 = std::env::var("OUTBOX_BENCH_MESSAGES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let receiver = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let secrets = Secrets::in_memory();
    let mut store = Store::open_in_dir(dir.path()).unwrap();
    let new = webhooks::add(&mut store, &secrets, &receiver.url, "license.created", time::now()).unwrap();
    receiver.set(|s| s.secret = Some(new.secret.clone()));
    seed::seed(&mut store, n);
    assert_eq!(store.outbox_counts().unwrap().pending as u64, n);
    let shared = SharedStore::new(store);
    let deliverer = Deliverer::new(shared.clone(), secrets, Arc::new(time::now)).unwrap();
    let t = Instant::now();
    let report = deliverer.run_due(None).await.unwrap();
    let took = t.elapsed();
    assert_eq!(report.delivered as u64, n, "{report:?}");
    let got = receiver.got();
    assert_eq!(got.len() as u64, n);
    assert!(got.iter().all(|g| g.verified));
    let rate = n as f64 / took.as_secs_f64();

    // 2. A sync with and without an endpoint.
    let sales: usize = std::env::var("SYNC_BENCH_SALES").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let spec = GenSpec { seed: 3, items: 20, sales, days: 300, now: Utc::now() };
    let sb = RunningSandbox::start(spec, Switches::default()).await.unwrap();
    sb.update_switches(|s| s.variants.page_size = 100);
    // Alternate runs with and without an endpoint, and take the median of each: the same sync
    // varies by seconds from one run to the next on this shared virtual machine.
    let runs: usize = std::env::var("OUTBOX_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
    let mut without = Vec::new();
    let mut with = Vec::new();
    let mut queued = 0;
    for _ in 0..runs {
        without.push(timed_sync(&sb, None).await.0);
        let (w, q) = timed_sync(&sb, Some(&receiver)).await;
        with.push(w);
        queued = q;
    }
    assert_eq!(queued as usize, 2 * sales, "sale.synced and license.created for each sale");
    let (without, with) = (median(without), median(with));
    let ratio = with.as_secs_f64() / without.as_secs_f64();

    // 3. The applier alone (the same pages, fetched once; no network): what the outbox adds to
    // the writing itself.
    let c = EnvatoClient::new(ClientConfig::new(&sb.base_url()), Token::parse(data::SELLER_TOKEN).unwrap()).unwrap();
    let pages = common::fetch_pages(&c).await;
    let mut apply_without = Vec::new();
    let mut apply_with = Vec::new();
    for _ in 0..runs {
        apply_without.push(timed_apply(&pages, None));
        apply_with.push(timed_apply(&pages, Some(&receiver)));
    }
    let (apply_without, apply_with) = (median(apply_without), median(apply_with));
    let per_message = (apply_with.as_secs_f64() - apply_without.as_secs_f64()) / (2 * sales) as f64;

    let secs = |d: Duration| format!("{:.2} s", d.as_secs_f64());
    println!();
    println!("| {:<58} | {:>16} | {:>10} | {:<6} |", "outbox benchmark", "figure", "target", "");
    println!("|{}|{}|{}|{}|", "-".repeat(60), "-".repeat(18), "-".repeat(12), "-".repeat(8));
    row(&format!("webhook deliveries per second ({n} queued, signed)"), format!("{rate:.0}"), "", None);
    row(&format!("sync of {sales} sales, no endpoint: wall time (median of {runs})"), secs(without), "", None);
    row(&format!("same sync, one endpoint for every event ({queued} msgs)"), secs(with), "", None);
    row("ratio with endpoint / without", format!("{ratio:.2}"), "<= 1.2", Some(ratio <= 1.2));
    row("applier alone (same pages, no network), no endpoint", secs(apply_without), "", None);
    row("applier alone, one endpoint for every event", secs(apply_with), "", None);
    row("outbox cost per message in the applier", format!("{:.1} µs", per_message * 1e6), "", None);
    println!();
}
