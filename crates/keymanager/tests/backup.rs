//! Backups against a running sync: a backup taken while the sync writes restores to a database
//! that passes `PRAGMA integrity_check` and holds every license committed before it; a damaged
//! file and a newer schema are refused; a restore keeps the current data aside.

use chrono::Utc;
use envato_sandbox::data::{self, GenSpec};
use envato_sandbox::{RunningSandbox, Switches};
use keymanager::envato::{ClientConfig, EnvatoClient};
use keymanager::store::SharedStore;
use keymanager::store::{LicenseQuery, SyncTrigger};
use keymanager::sync::run_sync;
use keymanager::token::Token;
use keymanager::{backup, time, ErrorCode, Store};
use std::collections::HashSet;
use std::time::Duration;

fn keys(store: &Store) -> HashSet<String> {
    store
        .licenses(&LicenseQuery { limit: 1_000_000, ..Default::default() })
        .unwrap()
        .into_iter()
        .map(|l| l.license_key)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_during_a_sync_restores_everything_committed_before_it() {
    let spec = GenSpec { seed: 5, items: 4, sales: 1500, days: 60, now: Utc::now() };
    let sb = RunningSandbox::start(spec, Switches::default()).await.unwrap();
    sb.update_switches(|s| {
        s.faults.latency_ms = 20;
        s.variants.page_size = 25;
    });
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("data");
    let mut store = Store::open_in_dir(&data_dir).unwrap();
    store.update_settings(&[("auto_create_products".into(), "true".into())], time::now()).unwrap();
    let shared = SharedStore::new(store);
    let mut c = ClientConfig::new(&sb.base_url());
    c.requests_per_second = 0.0;
    let client = EnvatoClient::new(c, Token::parse(data::SELLER_TOKEN).unwrap()).unwrap();

    let syncing = {
        let shared = shared.clone();
        tokio::spawn(async move { run_sync(&shared, &client, SyncTrigger::Manual, &time::now, &mut |_| {}).await })
    };
    // Mid-sync: what is committed now must be in the backup taken next.
    let dir = tmp.path().join("backups");
    let (before, file) = loop {
        let n = shared.read(|s| Ok(s.license_counts()?.total)).await.unwrap();
        if n >= 300 {
            let dir = dir.clone();
            break shared
                .read(move |s| {
                    let before = keys(s);
                    Ok((before, backup::backup_now(s, &dir, time::now())?))
                })
                .await
                .unwrap();
        }
        assert!(!syncing.is_finished(), "the sync finished before the backup could run during it");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let summary = syncing.await.unwrap().unwrap();
    assert!(summary.error.is_none());
    let total = shared.lock().license_counts().unwrap().total as usize;
    assert!(before.len() < total, "the backup was taken mid-sync ({} of {total})", before.len());

    let check = Store::check_backup(std::path::Path::new(&file.path)).unwrap();
    assert!(check.licenses as usize >= before.len());
    let copy = Store::open(std::path::Path::new(&file.path)).unwrap();
    let ok: String = copy.integrity_check().unwrap();
    assert_eq!(ok, "ok");
    assert!(before.is_subset(&keys(&copy)), "every license committed before the backup is in it");
    drop(copy);

    // Restore it over the finished sync: the current data is kept aside, the backup's comes back.
    let report = {
        let mut live = shared.lock();
        backup::restore(&mut live, &dir, std::path::Path::new(&file.path), time::now()).unwrap()
    };
    assert!(report.note.contains("keychain"));
    let restored = keys(&shared.lock());
    assert_eq!(restored.len() as u64, report.licenses);
    assert!(before.is_subset(&restored));
    let aside = Store::open(std::path::Path::new(&report.kept_aside)).unwrap();
    assert_eq!(aside.license_counts().unwrap().total as usize, total, "the data before the restore is kept");
    // A reader opened afterwards sees the restored data too.
    let seen = shared.read(|s| Ok(s.license_counts()?.total)).await.unwrap();
    assert_eq!(seen as u64, report.licenses);
}

#[test]
fn damaged_and_newer_files_are_refused_and_nothing_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let mut live = Store::open_in_dir(&tmp.path().join("data")).unwrap();
    let p = live
        .create_product(&keymanager::model::NewProduct { name: "Plugin".into(), ..Default::default() }, time::now())
        .unwrap();
    keymanager::licensing::issue(&mut live, p.id, None, None, None, time::now()).unwrap();
    let dir = tmp.path().join("backups");

    let text = tmp.path().join("notes.txt");
    std::fs::write(&text, b"these are not the droids you are looking for, and not a database either").unwrap();
    assert_eq!(backup::restore(&mut live, &dir, &text, time::now()).unwrap_err().code, ErrorCode::StoreCorrupt);

    let good = backup::backup_now(&live, &dir, time::now()).unwrap();
    let mut bytes = std::fs::read(&good.path).unwrap();
    // Every b-tree page's header after the first page (page type, cell count, content start).
    for page in (4096..bytes.len()).step_by(4096) {
        for b in &mut bytes[page..page + 12] {
            *b ^= 0x5a;
        }
    }
    let damaged = tmp.path().join("damaged.sqlite3");
    std::fs::write(&damaged, &bytes).unwrap();
    let err = backup::restore(&mut live, &dir, &damaged, time::now()).unwrap_err();
    assert_eq!(err.code, ErrorCode::StoreCorrupt, "{}", err.message);

    let newer = tmp.path().join("newer.sqlite3");
    std::fs::copy(&good.path, &newer).unwrap();
    rusqlite::Connection::open(&newer)
        .unwrap()
        .pragma_update(None, "user_version", keymanager::store::SCHEMA_VERSION + 1)
        .unwrap();
    assert_eq!(backup::restore(&mut live, &dir, &newer, time::now()).unwrap_err().code, ErrorCode::StoreNewerSchema);

    assert_eq!(live.license_counts().unwrap().total, 1, "nothing changed");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no data was set aside for a refused restore");
}
