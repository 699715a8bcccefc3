//! One writer, many readers: reads (UI pages, lookups, exports, validations) go through
//! read-only WAL connections and never wait for the writer, however long it is busy.

use keymanager::model::NewProduct;
use keymanager::store::{readers, SharedStore};
use keymanager::{time, Store};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_never_wait_for_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let shared = SharedStore::new(Store::open_in_dir(dir.path()).unwrap());
    shared
        .run(|s| s.create_product(&NewProduct { name: "Plugin".into(), ..Default::default() }, time::now()))
        .await
        .unwrap();
    // The writer is busy (a sync page, an export on the writer): another thread holds it.
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (held, is_held) = std::sync::mpsc::channel::<()>();
    let busy = shared.clone();
    let holder = std::thread::spawn(move || {
        let _writer = busy.lock();
        held.send(()).unwrap();
        released.recv().ok();
    });
    is_held.recv().unwrap();
    let reads: Vec<_> = (0..3 * readers())
        .map(|_| {
            let shared = shared.clone();
            tokio::spawn(async move { shared.read(|s| s.products()).await })
        })
        .collect();
    for r in reads {
        let products = tokio::time::timeout(Duration::from_secs(5), r)
            .await
            .expect("a read waited for the writer")
            .unwrap()
            .unwrap();
        assert_eq!(products.len(), 1, "the readers see committed data");
    }
    release.send(()).unwrap();
    holder.join().unwrap();
    // A write made through the writer is seen by the next read.
    shared
        .run(|s| s.create_product(&NewProduct { name: "Theme".into(), ..Default::default() }, time::now()))
        .await
        .unwrap();
    assert_eq!(shared.read(|s| s.products()).await.unwrap().len(), 2);
}

#[test]
fn a_reader_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open_in_dir(dir.path()).unwrap());
    let mut reader = Store::open_reader(&dir.path().join(keymanager::store::DB_FILE_NAME)).unwrap();
    let err = reader.update_settings(&[("history_days".into(), "30".into())], time::now()).unwrap_err();
    assert_ne!(err.code, keymanager::ErrorCode::SettingsInvalidValue, "refused by SQLite, not by validation");
    assert_eq!(reader.settings().unwrap().history_days, 90);
}
