//! Outbox benchmark (prints figures; not a timed test). `cargo bench -p keymanager --bench outbox`
//!
//! - Deliveries per second: 10,000 queued `license.created` messages (`OUTBOX_BENCH_MESSAGES`)
//!   delivered to a local receiver that checks every signature with the Standard Webhooks library.
//! - A first sync of N sales (default 100,000; `SYNC_BENCH_SALES`) from the sandbox with one
//!   endpoint subscribed to every event (two messages a sale), beside the same sync with no
//!   endpoint. Target: at most 1.2x its wall time.

#[path = "seed/mod.rs"]
mod seed;

use chrono::Utc;
use envato_sandbox::data::{self, GenSpec};
use envato_sandbox::receivers::Receiver;
use envato_sandbox::{RunningSandbox, Switches};
use keymanager::envato::{ClientConfig, EnvatoClient};
use keymanager::outbox::Deliverer;
use keymanager::secret::Token;
use keymanager::secrets::Secrets;
use keymanager::store::SyncTrigger;
use keymanager::sync::{run_sync, SharedStore};
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
    // Alternate, best of two each: the two runs share the machine with nothing else.
    let mut without = Duration::MAX;
    let mut with = Duration::MAX;
    let mut queued = 0;
    for _ in 0..2 {
        without = without.min(timed_sync(&sb, None).await.0);
        let (w, q) = timed_sync(&sb, Some(&receiver)).await;
        with = with.min(w);
        queued = q;
    }
    assert_eq!(queued as usize, 2 * sales, "sale.synced and license.created for each sale");
    let ratio = with.as_secs_f64() / without.as_secs_f64();

    let secs = |d: Duration| format!("{:.2} s", d.as_secs_f64());
    println!();
    println!("| {:<58} | {:>16} | {:>10} | {:<6} |", "outbox benchmark", "figure", "target", "");
    println!("|{}|{}|{}|{}|", "-".repeat(60), "-".repeat(18), "-".repeat(12), "-".repeat(8));
    row(&format!("webhook deliveries per second ({n} queued, signed)"), format!("{rate:.0}"), "", None);
    row(&format!("sync of {sales} sales, no endpoint: wall time"), secs(without), "", None);
    row(&format!("same sync, one endpoint for every event ({queued} msgs)"), secs(with), "", None);
    row("ratio with endpoint / without", format!("{ratio:.2}"), "<= 1.2", Some(ratio <= 1.2));
    println!();
}
