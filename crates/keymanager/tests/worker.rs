//! The background worker: one sync at a time, Sync now joining a running sync, scheduled runs,
//! pause, no token, and a 401 stopping the periodic runs.

use chrono::Utc;
use envato_sandbox::data::{self, GenSpec};
use envato_sandbox::{RunningSandbox, Switches};
use keymanager::envato::{ClientConfig, EnvatoClient};
use keymanager::secret::Token;
use keymanager::sync::worker::{ClientSource, SyncStatus, SyncWorker};
use keymanager::sync::SharedStore;
use keymanager::{time, Store};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn clients(base: String, has_token: Arc<AtomicBool>) -> ClientSource {
    Arc::new(move |_store: &SharedStore| {
        if !has_token.load(Ordering::SeqCst) {
            return Ok(None);
        }
        EnvatoClient::new(ClientConfig::new(&base), Token::parse(data::SELLER_TOKEN).unwrap()).map(Some)
    })
}

async fn wait_for(worker: &SyncWorker, what: &str, f: impl Fn(&SyncStatus) -> bool) -> SyncStatus {
    let mut rx = worker.subscribe();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let s = rx.borrow_and_update().clone();
        if f(&s) {
            return s;
        }
        tokio::time::timeout_at(deadline, rx.changed())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}: {s:?}"))
            .unwrap();
    }
}

async fn setup(sales: usize) -> (RunningSandbox, SharedStore) {
    let sb =
        RunningSandbox::start(GenSpec { seed: 8, items: 3, sales, days: 30, now: Utc::now() }, Switches::default())
            .await
            .unwrap();
    let store = SharedStore::new(Store::open_in_memory().unwrap());
    store.lock().update_settings(&[("auto_create_products".into(), "true".into())], time::now()).unwrap();
    (sb, store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_now_during_a_run_joins_it() {
    let (sb, store) = setup(200).await;
    sb.update_switches(|s| {
        s.faults.latency_ms = 40;
        s.variants.page_size = 20;
    });
    let w = SyncWorker::spawn(
        store.clone(),
        clients(sb.base_url(), Arc::new(AtomicBool::new(true))),
        Arc::new(time::now),
        Duration::from_secs(3600),
    );
    w.sync_now();
    wait_for(&w, "a running sync", |s| s.running).await;
    w.sync_now();
    w.sync_now();
    let s = wait_for(&w, "the run's end", |s| !s.running && s.last.is_some()).await;
    assert_eq!(s.last.unwrap().licenses_created, 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!w.status().running, "the extra requests did not start another run");
    assert_eq!(store.lock().sync_runs(10).unwrap().len(), 1, "one run answered all three requests");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_runs_happen_unless_paused_or_without_a_token() {
    let (sb, store) = setup(30).await;
    let token = Arc::new(AtomicBool::new(false));
    let w = SyncWorker::spawn(
        store.clone(),
        clients(sb.base_url(), token.clone()),
        Arc::new(time::now),
        Duration::from_millis(100),
    );
    wait_for(&w, "needs_token", |s| s.needs_token).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(store.lock().sync_runs(5).unwrap().is_empty(), "no token, no sync");

    // A token arrives; the next scheduled run would be in 15 minutes, so ask now.
    token.store(true, Ordering::SeqCst);
    w.poke();
    wait_for(&w, "token seen", |s| !s.needs_token).await;
    w.sync_now();
    wait_for(&w, "a finished run", |s| s.last.is_some() && !s.running).await;
    assert_eq!(store.lock().license_counts().unwrap().total, 30);

    store.lock().set_sync_paused(true, time::now()).unwrap();
    w.poke();
    let s = wait_for(&w, "paused", |s| s.paused).await;
    assert_eq!(s.next_run_at, None, "no next run while paused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_stops_periodic_syncing_until_a_token_is_saved() {
    let (sb, store) = setup(10).await;
    sb.revoke_token(data::SELLER_TOKEN);
    let w = SyncWorker::spawn(
        store.clone(),
        clients(sb.base_url(), Arc::new(AtomicBool::new(true))),
        Arc::new(time::now),
        Duration::from_millis(50),
    );
    let s = wait_for(&w, "the failed first run", |s| s.last.is_some() && !s.running).await;
    assert_eq!(s.last.unwrap().error.unwrap().code, keymanager::ErrorCode::EnvatoUnauthorized);
    let s = wait_for(&w, "auth_failed", |s| s.auth_failed).await;
    assert!(s.next_run_at.is_none());
    // A good token saved clears the stop.
    store.lock().clear_sync_auth_failure().unwrap();
    w.poke();
    wait_for(&w, "auth cleared", |s| !s.auth_failed).await;
}
