//! Events wake their consumers: a commit that queues a message wakes the outbox worker by itself
//! (the store tells which tables each release of the writer changed), so a webhook goes out at
//! once however the event was written, not at the worker's next poll.

use envato_sandbox::receivers::Receiver;
use keymanager::model::NewProduct;
use keymanager::outbox::{Deliverer, OutboxWorker};
use keymanager::secrets::Secrets;
use keymanager::store::SharedStore;
use keymanager::{time, webhooks, Store};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_that_queues_a_message_wakes_the_worker() {
    let receiver = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let secrets = Secrets::in_memory();
    let mut store = Store::open_in_dir(dir.path()).unwrap();
    let new = webhooks::add(&mut store, &secrets, &receiver.url, "license.created", time::now()).unwrap();
    receiver.set(|s| s.secret = Some(new.secret.clone()));
    let product =
        store.create_product(&NewProduct { name: "Theme".into(), ..Default::default() }, time::now()).unwrap();
    let shared = SharedStore::new(store);
    let mut changes = shared.changes();
    let deliverer = Arc::new(Deliverer::new(shared.clone(), secrets, Arc::new(time::now)).unwrap());
    // Polling once a minute: only the wake-up can deliver within the test's seconds.
    let _worker = OutboxWorker::spawn(deliverer, Duration::from_secs(60));
    tokio::time::sleep(Duration::from_millis(300)).await; // its first pass: nothing due

    // Written straight through the writer, as a sync or an HTTP activation writes: no kick.
    let started = Instant::now();
    keymanager::licensing::issue(&mut shared.lock(), product.id, Some("buyer"), None, None, time::now()).unwrap();
    let told = tokio::time::timeout(Duration::from_secs(2), changes.recv()).await.unwrap().unwrap();
    assert!(told.iter().any(|t| t == "licenses") && told.iter().any(|t| t == "outbox"), "{told:?}");
    while receiver.got().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(5), "the webhook waited for the poll");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let got = receiver.got();
    assert_eq!(got.len(), 1);
    assert!(got[0].verified);
    eprintln!("delivered {:?} after the commit", started.elapsed());

    // The worker's own bookkeeping does not keep waking it: once delivered, the store is quiet.
    tokio::time::sleep(Duration::from_millis(300)).await;
    while changes.try_recv().is_ok() {}
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(changes.try_recv().is_err(), "no writes while nothing is due");
    // A read-only use of the writer tells nothing.
    let _ = shared.lock().settings().unwrap();
    assert!(changes.try_recv().is_err());
}
