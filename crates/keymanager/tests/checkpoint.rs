//! The writer's WAL checkpoints run on a thread of their own (store/checkpoint.rs): the log is
//! copied into the database without the writer doing it, and the thread ends with the writer.
//! Alone in its file: it counts the process's threads.

use keymanager::events::{EventFilter, EventType};
use keymanager::store::LOG_LIMIT;
use keymanager::sync::SharedStore;
use keymanager::Store;
use std::time::{Duration, Instant};

fn checkpoint_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim() == "store-checkpt")
        .count()
}

#[test]
fn a_shared_store_checkpoints_on_its_own_thread_and_the_thread_ends_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("keymanager.sqlite3");
    let store = Store::open_in_dir(dir.path()).unwrap();
    let before = std::fs::metadata(&db).unwrap().len();
    let shared = SharedStore::new(store);
    // (A new thread names itself once it runs.)
    let started = Instant::now();
    while checkpoint_threads() != 1 {
        assert!(started.elapsed() < Duration::from_secs(5), "one checkpoint thread");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(shared.lock().checkpoint_counts(), Some((0, 0)));

    // About 1,500 pages of outbox messages, 200 KB a transaction, as a sync's pages come.
    let now = keymanager::time::now();
    shared.lock().add_webhook_endpoint("https://x.example/h", &EventFilter::All, now).unwrap();
    let data = serde_json::json!({ "note": "x".repeat(200_000) });
    for _ in 0..30 {
        shared.lock().emit_event(EventType::SyncFailed, data.clone(), now).unwrap();
    }
    // Copied into the database file by the checkpoint thread, without another commit.
    let started = Instant::now();
    while std::fs::metadata(&db).unwrap().len() < before + 4_000_000 {
        assert!(started.elapsed() < Duration::from_secs(20), "the log was never copied into the database");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (by_thread, by_writer) = shared.lock().checkpoint_counts().unwrap();
    assert!(by_thread >= 1, "the thread checkpointed");
    assert_eq!(by_writer, 0, "the writer never waited for one");

    // Written without a pause, the log is not started over behind a copying thread; at 32 MiB
    // the writer copies the rest itself and the log starts over, so it stays bounded.
    let wal = dir.path().join("keymanager.sqlite3-wal");
    for _ in 0..300 {
        shared.lock().emit_event(EventType::SyncFailed, data.clone(), now).unwrap();
    }
    let (_, by_writer) = shared.lock().checkpoint_counts().unwrap();
    assert!(by_writer >= 1, "the writer stepped in at the limit");
    let limit = (LOG_LIMIT as u64 + 100) * 4_200;
    assert!(std::fs::metadata(&wal).unwrap().len() < limit, "the log stayed under 32 MiB and a bit");
    drop(shared);
    let started = Instant::now();
    while checkpoint_threads() > 0 {
        assert!(started.elapsed() < Duration::from_secs(5), "the checkpoint thread outlived its store");
        std::thread::sleep(Duration::from_millis(20));
    }
}
