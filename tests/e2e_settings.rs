//! Settings through the real window: a saved value survives a restart; an invalid one is
//! refused inline and nothing is written. Every page is screenshotted into artifacts/e2e/.

use keymanager::Store;
use keymanager_e2e::{fantoccini, launch};

const PAGES: &[&str] = &["dashboard", "products", "licenses", "lookup", "sync-log", "settings"];
const TABS: &[&str] = &["general", "license", "envato", "webhooks"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activation_limit_saved_in_the_ui_persists_across_a_restart() {
    keymanager_e2e::within(240, activation_limit_saved_in_the_ui_persists_across_a_restart_steps()).await;
}

async fn activation_limit_saved_in_the_ui_persists_across_a_restart_steps() {
    let data = tempfile::tempdir().unwrap();
    let app = launch(data.path()).await;

    for page in PAGES {
        app.click(&format!("[data-testid=nav-{page}]")).await;
        app.wait_for(&format!("[data-testid=page-{page}]")).await;
        app.screenshot(&format!("page-{page}")).await;
    }
    for tab in TABS {
        app.click(&format!("[data-testid=tab-{tab}]")).await;
        app.wait_for(&format!("[data-testid=tabpanel-{tab}]")).await;
        app.screenshot(&format!("settings-{tab}")).await;
    }

    app.click("[data-testid=tab-license]").await;
    assert_eq!(app.value_of("[data-testid=setting-default_activation_limit]").await, "1");
    app.type_into("[data-testid=setting-default_activation_limit]", "3").await;
    app.click("[data-testid=save-settings]").await;
    assert_eq!(app.text_of("[data-testid=saved]").await, "Saved");
    app.screenshot("settings-license-saved").await;
    app.close().await;

    // The core sees what the UI wrote.
    assert_eq!(Store::open_in_dir(data.path()).unwrap().settings().unwrap().default_activation_limit, 3);

    let app = launch(data.path()).await;
    app.click("[data-testid=nav-settings]").await;
    app.click("[data-testid=tab-license]").await;
    assert_eq!(app.value_of("[data-testid=setting-default_activation_limit]").await, "3");
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_value_shows_an_inline_error_and_writes_nothing() {
    keymanager_e2e::within(240, an_invalid_value_shows_an_inline_error_and_writes_nothing_steps()).await;
}

async fn an_invalid_value_shows_an_inline_error_and_writes_nothing_steps() {
    let data = tempfile::tempdir().unwrap();
    let app = launch(data.path()).await;
    app.click("[data-testid=nav-settings]").await;
    app.click("[data-testid=tab-general]").await;
    app.type_into("[data-testid=setting-sync_interval_minutes]", "5").await;
    assert_eq!(app.value_of("[data-testid=setting-sync_interval_minutes]").await, "5");
    app.click("[data-testid=save-settings]").await;
    let error = app.text_of("[data-testid=setting-sync_interval_minutes-error]").await;
    assert!(error.contains("15 to 1440") && error.contains("“5”"), "{error}");
    assert!(app.client.find(fantoccini::Locator::Css("[data-testid=saved]")).await.is_err(), "must not claim Saved");
    app.screenshot("settings-general-invalid").await;
    app.close().await;
    assert_eq!(Store::open_in_dir(data.path()).unwrap().settings().unwrap().sync_interval_minutes, 30);
}

/// A second launch hands over to the running instance and exits; the first keeps working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_launch_exits_and_leaves_the_first_running() {
    keymanager_e2e::within(240, a_second_launch_exits_and_leaves_the_first_running_steps()).await;
}

async fn a_second_launch_exits_and_leaves_the_first_running_steps() {
    let data = tempfile::tempdir().unwrap();
    let app = launch(data.path()).await;
    let mut second = std::process::Command::new(keymanager_e2e::app_binary())
        .env("KEYMANAGER_DATA_DIR", data.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(s) = second.try_wait().unwrap() {
            break s;
        }
        if std::time::Instant::now() > deadline {
            let _ = second.kill();
            panic!("the second launch kept running next to the first");
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(status.success(), "{status:?}");
    app.click("[data-testid=nav-products]").await;
    app.wait_for("[data-testid=page-products]").await;
    app.close().await;
}
