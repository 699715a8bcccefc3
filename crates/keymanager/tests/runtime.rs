//! The one composition root (`Runtime`): the sync worker, the refund watch as a job with
//! progress and cancel, and `shutdown` ending every background loop.

use chrono::{TimeZone, Utc};
use envato_sandbox::data::{self, GenSpec};
use envato_sandbox::{RunningSandbox, Switches};
use keymanager::envato::{ApiBase, ClientConfig, EnvatoClient};
use keymanager::runtime::{Runtime, RuntimeOptions};
use keymanager::sync::worker::ClientSource;
use keymanager::time::Timestamp;
use keymanager::token::Token;
use keymanager::ErrorCode;
use std::sync::Arc;
use std::time::Duration;

fn now() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 28, 0, 0, 0).unwrap()
}

fn client(sb: &RunningSandbox) -> EnvatoClient {
    let mut c = ClientConfig::new(&sb.base_url());
    c.requests_per_second = 0.0;
    c.backoff_base = Duration::from_millis(5);
    EnvatoClient::new(c, Token::parse(data::SELLER_TOKEN).unwrap()).unwrap()
}

fn options(clients: ClientSource) -> RuntimeOptions {
    let mut o = RuntimeOptions::new(ApiBase::resolve(None).unwrap());
    o.clients = Some(clients);
    o.first_sync_after = Duration::from_secs(3600);
    o.daily_backups = false;
    o
}

async fn wait<T: Clone>(rx: &mut tokio::sync::watch::Receiver<T>, f: impl FnMut(&T) -> bool) -> T {
    tokio::time::timeout(Duration::from_secs(20), rx.wait_for(f)).await.expect("in time").expect("open").clone()
}

/// Whether the task behind `rx` ends (its sender is dropped) within seconds.
async fn closes<T>(mut rx: tokio::sync::watch::Receiver<T>) -> bool {
    tokio::time::timeout(Duration::from_secs(10), async { while rx.changed().await.is_ok() {} }).await.is_ok()
}

#[tokio::test]
async fn the_runtime_syncs_runs_the_refund_watch_as_a_job_and_shuts_everything_down() {
    let spec = GenSpec { seed: 5, items: 4, sales: 30, days: 30, now: now() };
    let sb = RunningSandbox::start(spec, Switches::default()).await.unwrap();
    sb.update_switches(|s| s.variants.sales_include_code = true);
    let dir = tempfile::tempdir().unwrap();
    let c = client(&sb);
    let clients = ClientSource::from_fns(|| Ok(true), move || Ok(Some(c.clone())));
    let rt = Runtime::open(dir.path(), options(clients), Arc::new(now)).unwrap();
    rt.store().run(|s| s.update_settings(&[("auto_create_products".into(), "true".into())], now())).await.unwrap();

    // "Sync now" through the runtime's worker, with the runtime's client.
    let mut status = rt.sync().subscribe();
    rt.sync().sync_now();
    let done = wait(&mut status, |s| !s.running && s.last.is_some()).await;
    assert_eq!(done.last.unwrap().licenses_created, 30);

    // The refund watch: one run at a time, its progress published until it ends.
    let mut progress = rt.refund_watch().subscribe();
    sb.refund(&sb.dataset().sales[0].code).unwrap();
    let first = rt.start_refund_watch(None).await.unwrap();
    assert!(first.running, "the answer is the run just started");
    let joined = rt.start_refund_watch(None).await.unwrap();
    assert!(joined.running, "a second start while one runs is that run");
    let end = wait(&mut progress, |p| !p.running).await;
    assert_eq!((end.checked, end.not_recognised, end.cancelled), (30, 1, false));
    assert_eq!(rt.refund_watch().progress(), end);

    // Cancelled at once: stops before the first code, and says so.
    rt.start_refund_watch(None).await.unwrap();
    rt.refund_watch().cancel();
    let end = wait(&mut progress, |p| !p.running).await;
    assert!(end.cancelled && end.checked < 30, "{end:?}");

    // Shutting down and letting go of the runtime (the app's workspace switch) ends the sync
    // worker's and the outbox worker's loops.
    let outbox = rt.outbox().subscribe();
    rt.shutdown();
    drop(rt);
    assert!(closes(status).await, "the sync worker is gone");
    assert!(closes(outbox).await, "the outbox worker is gone");
}

#[tokio::test]
async fn without_a_token_the_refund_watch_says_so_and_starts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let rt =
        Runtime::open(dir.path(), options(ClientSource::from_fns(|| Ok(false), || Ok(None))), Arc::new(now)).unwrap();
    let err = rt.start_refund_watch(None).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::TokenNotConfigured);
    assert!(!rt.refund_watch().progress().running);
    rt.shutdown();
}

/// After a move to a server, this computer's data is an archive: the workspace reads it but
/// refuses changes (except the settings that make it live again).
#[tokio::test]
async fn an_archived_local_workspace_reads_but_refuses_changes() {
    use keymanager::workspace::{ops, Workspace};
    let dir = tempfile::tempdir().unwrap();
    let rt =
        Runtime::open(dir.path(), options(ClientSource::from_fns(|| Ok(false), || Ok(None))), Arc::new(now)).unwrap();
    let store = rt.store().clone();
    keymanager::workspace::pull::archive_local(&store, "vps", now()).await.unwrap();
    let ws = Workspace::Local(Arc::new(rt));
    assert!(ws.call(ops::ProductsList {}).await.unwrap().is_empty(), "reads work");
    let product = keymanager::model::NewProduct { name: "New".into(), ..Default::default() };
    let refused = ws.call(ops::ProductCreate { product: product.clone() }).await.unwrap_err();
    assert_eq!(refused.code, keymanager::ErrorCode::InputInvalid);
    assert!(refused.message.contains("vps"), "{}", refused.message);
    assert!(store.read(|s| s.sync_state()).await.unwrap().paused, "its syncing is paused");
    let live = [("archived_to".to_string(), String::new())].into();
    ws.call(ops::SettingsUpdate { changes: live }).await.unwrap();
    assert_eq!(ws.call(ops::ProductCreate { product }).await.unwrap().name, "New");
    ws.shutdown();
}
