//! Syncing in the real window: Sync now shows progress, the new licenses appear, and the Sync
//! log shows the run. Syncing is paused beforehand so only the click starts a run.

use chrono::Utc;
use envato_sandbox::data::{self, GenSpec};
use envato_sandbox::{RunningSandbox, Switches};
use keymanager::keychain::Keychain;
use keymanager::token::Token;
use keymanager::Store;
use keymanager_e2e::launch_with;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_now_shows_progress_licenses_and_the_run() {
    keymanager_e2e::within(240, sync_now_shows_progress_licenses_and_the_run_steps()).await;
}

async fn sync_now_shows_progress_licenses_and_the_run_steps() {
    let spec = GenSpec { seed: 5, items: 4, sales: 150, days: 60, now: Utc::now() };
    let sb = RunningSandbox::start(spec, Switches::default()).await.unwrap();
    sb.update_switches(|s| {
        s.variants.page_size = 10;
        s.faults.latency_ms = 120;
    });
    let base = sb.base_url();
    let data = tempfile::tempdir().unwrap();
    {
        let mut store = Store::open_in_dir(data.path()).unwrap();
        let now = keymanager::time::now();
        store.update_settings(&[("auto_create_products".into(), "true".into())], now).unwrap();
        store.set_sync_paused(true, now).unwrap();
    }
    let keychain =
        Keychain::for_data_dir(data.path(), &keymanager::envato::ApiBase::parse_override(&sb.base_url()).unwrap())
            .unwrap();
    keychain.save(&Token::parse(data::SELLER_TOKEN).unwrap()).unwrap();

    let app = launch_with(data.path(), &[("KEYMANAGER_ENVATO_API_BASE", base.as_str())]).await;
    app.click("[data-testid=nav-sync-log]").await;
    app.wait_text("[data-testid=pause-sync]", "Resume syncing").await;
    app.click("[data-testid=sync-now]").await;
    let progress = app.text_of("[data-testid=sync-progress]").await;
    assert!(progress.starts_with("Syncing…"), "{progress}");
    app.screenshot("sync-progress").await;

    // The CLI writes to the same database while the app syncs: neither sees "database is locked".
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(keymanager_e2e::cli_binary())
            .args(args)
            .env("KEYMANAGER_DATA_DIR", data.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let product: serde_json::Value =
        serde_json::from_str(&cli(&["products", "add", "--name", "Sold by hand", "--json"])).unwrap();
    let id = product["id"].as_i64().unwrap().to_string();
    for _ in 0..3 {
        cli(&["licenses", "issue", "--product", &id]);
    }
    cli(&["settings", "set", "history_days", "60"]);

    app.wait_attr("[data-testid=sync-run]", "data-status", "succeeded").await;
    assert_eq!(app.text_of("[data-testid=run-licenses]").await, "150");
    app.screenshot("sync-log").await;

    app.click("[data-testid=nav-licenses]").await;
    // The list is virtualised: every license is loaded, only the visible rows are drawn.
    app.wait_text("[data-testid=licenses-count]", "153 shown").await;
    let drawn =
        app.client.find_all(keymanager_e2e::fantoccini::Locator::Css("[data-testid=license-row]")).await.unwrap();
    assert!(!drawn.is_empty() && drawn.len() < 153, "{} rows drawn", drawn.len());
    app.screenshot("licenses-after-sync").await;

    app.click("[data-testid=nav-dashboard]").await;
    // The dashboard shows what it had, then what it refetches on opening: wait for the latter.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let last = app.text_of("[data-testid=last-sync]").await;
        if last.contains("150 new licenses") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{last}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(app.text_of("[data-testid=stat-active] .stat-value").await, "153", "150 synced + 3 issued by the CLI");
    app.screenshot("dashboard-after-sync").await;

    app.click("[data-testid=nav-sync-log]").await;
    app.click("[data-testid=pause-sync]").await;
    app.wait_text("[data-testid=pause-sync]", "Pause syncing").await;
    assert!(!Store::open_in_dir(data.path()).unwrap().sync_state().unwrap().paused);
    let log = app.close().await;
    assert!(!log.contains(data::SELLER_TOKEN));
    keychain.delete().unwrap();
}
