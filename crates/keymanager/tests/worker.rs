//! The background worker: one sync at a time, Sync now joining a running sync, scheduled runs,
//! pause, no token, and a 401 stopping the periodic runs.

use chrono::Utc;
use envato_sandbox::data::{self, GenSpec};
use envato_sandbox::{RunningSandbox, Switches};
use keymanager::envato::{ClientConfig, EnvatoClient};
use keymanager::store::SharedStore;
use keymanager::store::SyncTrigger;
use keymanager::sync::worker::{ClientSource, SyncStatus, SyncWorker};
use keymanager::token::Token;
use keymanager::{time, Store};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn clients(base: String, has_token: Arc<AtomicBool>) -> ClientSource {
    let present = has_token.clone();
    ClientSource::from_fns(
        move || Ok(present.load(Ordering::SeqCst)),
        move || {
            if !has_token.load(Ordering::SeqCst) {
                return Ok(None);
            }
            EnvatoClient::new(ClientConfig::new(&base), Token::parse(data::SELLER_TOKEN).unwrap()).map(Some)
        },
    )
}

async fn wait_for(worker: &SyncWorker, what: &str, f: impl Fn(&SyncStatus) -> bool) -> SyncStatus {
    wait_within(worker, what, Duration::from_secs(20), f).await
}

async fn wait_within(worker: &SyncWorker, what: &str, limit: Duration, f: impl Fn(&SyncStatus) -> bool) -> SyncStatus {
    let mut rx = worker.subscribe();
    let deadline = tokio::time::Instant::now() + limit;
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
    // Requests are handled in order: once the worker has answered this refresh, any "Sync now"
    // left over from the run would already have started another run.
    let mut rx = w.subscribe();
    rx.borrow_and_update();
    w.poke();
    tokio::time::timeout(Duration::from_secs(20), rx.changed()).await.unwrap().unwrap();
    assert!(!w.status().running, "the extra requests did not start another run");
    assert_eq!(store.lock().sync_runs(10).unwrap().len(), 1, "one run answered all three requests");
}

/// On paused Tokio time: the worker's clock is virtual, so a 15-minute interval passes at once
/// and nothing depends on how fast this machine is. Envato is an address where nothing listens,
/// so each run fails fast with a connection error, and is recorded all the same.
#[tokio::test(start_paused = true)]
async fn scheduled_runs_come_every_interval_and_not_without_a_token_or_while_paused() {
    let store = SharedStore::new(Store::open_in_memory().unwrap());
    store.lock().update_settings(&[("sync_interval_minutes".into(), "15".into())], time::now()).unwrap();
    let token = Arc::new(AtomicBool::new(false));
    let w = SyncWorker::spawn(
        store.clone(),
        clients("http://127.0.0.1:1".into(), token.clone()),
        Arc::new(time::now),
        Duration::from_secs(5),
    );
    let start = tokio::time::Instant::now();
    let hour = Duration::from_secs(3600);
    wait_within(&w, "needs_token", hour, |s| s.needs_token).await;
    // The first tick (after 5 s) and a whole interval pass with no token: no run.
    tokio::time::sleep(Duration::from_secs(16 * 60)).await;
    assert!(store.lock().sync_runs(5).unwrap().is_empty(), "no token, no sync");

    // With a token, the scheduled ticks run: one at the next tick, one an interval later.
    token.store(true, Ordering::SeqCst);
    w.poke();
    let first = wait_within(&w, "a scheduled run", hour, |s| s.last.is_some() && !s.running).await;
    let first_at = start.elapsed();
    assert!(first_at >= Duration::from_secs(30 * 60), "it waited for the tick: {first_at:?}");
    let second = wait_within(&w, "the next scheduled run", hour, |s| {
        s.last.as_ref().is_some_and(|l| Some(l.run_id) != first.last.as_ref().map(|f| f.run_id)) && !s.running
    })
    .await;
    let gap = start.elapsed() - first_at;
    assert!(gap >= Duration::from_secs(14 * 60) && gap <= Duration::from_secs(16 * 60), "an interval apart: {gap:?}");
    assert!(second.next_run_at.is_some());
    let runs = store.lock().sync_runs(5).unwrap();
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().all(|r| r.trigger != SyncTrigger::Manual), "both were scheduled: {runs:?}");

    // Paused: the ticks pass and nothing runs.
    store.lock().set_sync_paused(true, time::now()).unwrap();
    w.poke();
    let s = wait_within(&w, "paused", hour, |s| s.paused).await;
    assert_eq!(s.next_run_at, None, "no next run while paused");
    tokio::time::sleep(Duration::from_secs(40 * 60)).await;
    assert_eq!(store.lock().sync_runs(5).unwrap().len(), 2, "no run while paused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_arriving_lets_sync_now_run() {
    let (sb, store) = setup(30).await;
    let token = Arc::new(AtomicBool::new(false));
    let w = SyncWorker::spawn(
        store.clone(),
        clients(sb.base_url(), token.clone()),
        Arc::new(time::now),
        Duration::from_secs(3600),
    );
    wait_for(&w, "needs_token", |s| s.needs_token).await;
    token.store(true, Ordering::SeqCst);
    w.poke();
    wait_for(&w, "token seen", |s| !s.needs_token).await;
    w.sync_now();
    wait_for(&w, "a finished run", |s| s.last.is_some() && !s.running).await;
    assert_eq!(store.lock().license_counts().unwrap().total, 30);
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
