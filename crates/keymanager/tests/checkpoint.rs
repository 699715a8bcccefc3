//! The writer's WAL checkpoints run on a thread of their own (store/checkpoint.rs): the log is
//! copied into the database without the writer doing it, and the thread ends with the writer.
//! Alone in its file, one test function: it counts the process's threads.

use keymanager::events::{EventFilter, EventType};
use keymanager::store::SharedStore;
use keymanager::store::LOG_LIMIT;
use keymanager::Store;
use std::time::{Duration, Instant};

fn checkpoint_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim() == "store-checkpt")
        .count()
}

/// One test function: the first part counts the process's checkpoint threads, which a second
/// test running beside it would add to.
#[test]
fn checkpoints_run_on_their_own_thread_and_never_fail_a_commit() {
    a_shared_store_checkpoints_on_its_own_thread_and_the_thread_ends_with_it();
    a_busy_checkpoint_never_fails_a_commit();
}

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
    // 60 MB written; the log stays near 32 MiB (a few commits more when the thread was copying at
    // the moment the writer tried).
    let limit = (LOG_LIMIT as u64 + 1_000) * 4_200;
    assert!(std::fs::metadata(&wal).unwrap().len() < limit, "the log stayed under 32 MiB and a bit");
    drop(shared);
    let started = Instant::now();
    while checkpoint_threads() > 0 {
        assert!(started.elapsed() < Duration::from_secs(5), "the checkpoint thread outlived its store");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// SQLite's checkpoint lock (byte 121 of the -shm file: `UNIX_SHM_BASE` 120 + `WAL_CKPT_LOCK` 1)
/// held by another process, as another KeyManager checkpointing would hold it: every checkpoint
/// here answers BUSY. A commit must still succeed (it has happened; the checkpoint after it is
/// extra), the log grows meanwhile, and once the lock is free the writer's next commit copies it.
fn a_busy_checkpoint_never_fails_a_commit() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let shared = SharedStore::new(Store::open_in_dir(dir.path()).unwrap());
    let now = keymanager::time::now();
    shared.lock().add_webhook_endpoint("https://x.example/h", &EventFilter::All, now).unwrap();
    let shm = dir.path().join("keymanager.sqlite3-shm");
    let mut holder = Command::new("python3")
        .args([
            "-c",
            "import fcntl, sys\n\
             f = open(sys.argv[1], 'r+b')\n\
             fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 121, 0)\n\
             print('locked', flush=True)\n\
             sys.stdin.read()",
        ])
        .arg(&shm)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 (installed by scripts/setup.sh)");
    let mut line = String::new();
    BufReader::new(holder.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "locked");

    // Past the 32 MiB limit with every checkpoint refused.
    let data = serde_json::json!({ "note": "x".repeat(200_000) });
    let wal = dir.path().join("keymanager.sqlite3-wal");
    let mut commits = 0;
    while std::fs::metadata(&wal).unwrap().len() < (LOG_LIMIT as u64 + 500) * 4_096 {
        shared
            .lock()
            .emit_event(EventType::SyncFailed, data.clone(), now)
            .expect("a commit never fails for a checkpoint");
        commits += 1;
        assert!(commits < 1_000);
    }
    assert_eq!(shared.lock().checkpoint_counts(), Some((0, 0)), "nothing could be copied");
    assert_eq!(shared.lock().outbox_counts().unwrap().pending, commits, "every commit is there");

    // The lock freed: the next commit copies the log (the writer steps in at the limit).
    // (The thread may be copying at that moment too: then the commit after tries again.)
    holder.stdin.take().unwrap().write_all(b"").unwrap();
    holder.wait().unwrap();
    let started = Instant::now();
    loop {
        shared.lock().emit_event(EventType::SyncFailed, serde_json::json!({}), now).unwrap();
        if shared.lock().checkpoint_counts().unwrap().1 >= 1 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "the writer never copied the log");
    }
}
