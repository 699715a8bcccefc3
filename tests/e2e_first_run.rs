//! The first run in the real window, by keyboard: with no token the window opens on the guided
//! setup; create (the Envato page is offered), paste the sandbox token and watch the four checks,
//! choose Auto-Create, the history, save; the first sync starts at once and its licenses appear.

use chrono::Utc;
use envato_sandbox::data::{self, GenSpec};
use envato_sandbox::{RunningSandbox, Switches};
use keymanager::Store;
use keymanager_e2e::fantoccini::key::Key;
use keymanager_e2e::fantoccini::Locator;
use keymanager_e2e::launch_with;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guided_setup_ends_in_a_first_sync() {
    keymanager_e2e::within(240, steps()).await;
}

async fn steps() {
    let sb = RunningSandbox::start(
        GenSpec { seed: 31, items: 3, sales: 25, days: 20, now: Utc::now() },
        Switches::default(),
    )
    .await
    .unwrap();
    let base = sb.base_url();
    let data = tempfile::tempdir().unwrap();
    let app = launch_with(data.path(), &[("KEYMANAGER_ENVATO_API_BASE", base.as_str())]).await;
    let session = &app;
    let keys = |text: String| async move {
        let focused = session.client.active_element().await.unwrap();
        focused.send_keys(&text).await.unwrap();
    };

    app.wait_for("[data-testid=first-run]").await;
    app.screenshot("first-run").await;
    // Step 1: the focused button goes on.
    app.wait_for("[data-testid=first-run-next]").await;
    keys(Key::Enter.to_string()).await;
    // Step 2: the token field has the focus; Enter checks, the four checks pass, Enter goes on.
    app.wait_for("[data-testid=first-run-token]").await;
    keys(format!("{}{}", data::SELLER_TOKEN, Key::Enter)).await;
    app.wait_attr("[data-testid=first-run-check-items]", "data-state", "passed").await;
    for kind in ["format", "connection", "permissions"] {
        app.wait_attr(&format!("[data-testid=first-run-check-{kind}]"), "data-state", "passed").await;
    }
    app.wait_text("[data-testid=first-run-check]", "Next").await;
    app.screenshot("first-run-checked").await;
    app.client
        .find(Locator::Css("[data-testid=first-run-token]"))
        .await
        .unwrap()
        .send_keys(&Key::Enter.to_string())
        .await
        .unwrap();
    // Step 3: Space picks the focused choice (On), Enter goes on.
    app.wait_for("[data-testid=first-run-auto-on]").await;
    keys(" ".to_string()).await;
    keys(Key::Enter.to_string()).await;
    // Step 4: the history, typed over the default.
    app.wait_for("[data-testid=first-run-days]").await;
    app.type_into("[data-testid=first-run-days]", &format!("30{}", Key::Enter)).await;
    // Step 5: save; the Sync log opens on the first sync.
    app.wait_for("[data-testid=first-run-save]").await;
    keys(Key::Enter.to_string()).await;
    app.wait_for("[data-testid=page-sync-log]").await;
    app.wait_attr("[data-testid=sync-run]", "data-status", "succeeded").await;
    app.screenshot("first-run-synced").await;

    let store = Store::open_in_dir(data.path()).unwrap();
    let settings = store.settings().unwrap();
    assert!(settings.auto_create_products);
    assert_eq!(settings.history_days, 30);
    assert!(store.license_counts().unwrap().total > 0, "the first sync made licenses");
    drop(store);
    let log = app.close().await;
    assert!(!log.contains(data::SELLER_TOKEN));
    keymanager_e2e::forget_sandbox_token(data.path(), &base);
}
