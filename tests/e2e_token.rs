//! The Envato token in the real window: paste, validate (each step's result shown), save,
//! restart, and find the masked token and the Auto-Create toggle as saved. The token appears
//! nowhere in the window afterwards, nor in the app's log.

use chrono::{TimeZone, Utc};
use envato_sandbox::data::{self, GenSpec};
use envato_sandbox::{RunningSandbox, Switches};
use keymanager::keychain::Keychain;
use keymanager::Store;
use keymanager_e2e::launch_with;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paste_validate_save_restart() {
    keymanager_e2e::within(240, paste_validate_save_restart_steps()).await;
}

async fn paste_validate_save_restart_steps() {
    let spec =
        GenSpec { seed: 11, items: 5, sales: 10, days: 30, now: Utc.with_ymd_and_hms(2026, 11, 28, 0, 0, 0).unwrap() };
    let sb = RunningSandbox::start(spec, Switches::default()).await.unwrap();
    let base = sb.base_url();
    let env = [("KEYMANAGER_ENVATO_API_BASE", base.as_str())];
    let data = tempfile::tempdir().unwrap();

    let app = launch_with(data.path(), &env).await;
    app.click("[data-testid=nav-settings]").await;
    app.click("[data-testid=tab-envato]").await;
    app.type_into("[data-testid=envato-token]", data::SELLER_TOKEN).await;
    app.click("[data-testid=validate-token]").await;
    for step in ["format", "connection", "permissions", "items"] {
        app.wait_attr(&format!("[data-testid=step-{step}]"), "data-state", "passed").await;
    }
    assert!(app.text_of("[data-testid=step-items]").await.contains("5 items"));
    app.screenshot("envato-validated").await;

    app.click("[data-testid=toggle-auto_create_products]").await;
    app.click("[data-testid=save-settings]").await;
    assert_eq!(app.text_of("[data-testid=saved]").await, "Saved");
    assert_eq!(app.text_of("[data-testid=token-hint]").await, "••••0001");
    assert_eq!(app.value_of("[data-testid=envato-token]").await, "", "the field is cleared after saving");
    app.screenshot("envato-saved").await;
    let source = app.client.source().await.unwrap();
    assert!(source.contains("••••0001"), "positive control: the page source holds what the window shows");
    assert!(!source.contains(data::SELLER_TOKEN), "the token is not in the window after saving");
    let file = app.log_file();
    assert!(
        file.contains("KeyManager started") && file.contains("Envato token saved") && file.contains("••••0001"),
        "positive control: the app's log file records the save:\n{file}"
    );
    let log = app.close().await;
    assert!(!log.contains(data::SELLER_TOKEN), "the token is not in the app's log or its output");

    let app = launch_with(data.path(), &env).await;
    app.click("[data-testid=nav-settings]").await;
    app.click("[data-testid=tab-envato]").await;
    assert_eq!(app.text_of("[data-testid=token-hint]").await, "••••0001");
    assert_eq!(app.text_of("[data-testid=token-account]").await, data::SELLER);
    let toggle = app.wait_for("[data-testid=setting-auto_create_products]").await;
    assert_eq!(toggle.prop("checked").await.unwrap().as_deref(), Some("true"));
    app.screenshot("envato-after-restart").await;

    // A token missing a permission: the step says which, and nothing replaces the saved one.
    app.type_into("[data-testid=envato-token]", data::NO_SALES_SCOPE_TOKEN).await;
    app.click("[data-testid=save-settings]").await;
    app.wait_attr("[data-testid=step-permissions]", "data-state", "failed").await;
    assert!(app.text_of("[data-testid=missing-scopes]").await.contains("View your items' sales history"));
    assert!(app.text_of("[data-testid=form-error]").await.contains("Nothing was saved"));
    app.screenshot("envato-missing-permission").await;
    let log = app.close().await;
    assert!(!log.contains(data::SELLER_TOKEN) && !log.contains(data::NO_SALES_SCOPE_TOKEN));

    let keychain =
        Keychain::for_data_dir(data.path(), &keymanager::envato::ApiBase::parse_override(&sb.base_url()).unwrap())
            .unwrap();
    assert_eq!(keychain.load().unwrap().unwrap().expose(), data::SELLER_TOKEN, "the saved token was kept");
    keychain.delete().unwrap();
    // The database, its WAL and SHM (the app may exit before a checkpoint, leaving the rows in
    // the WAL): the positive control must be found in what is searched.
    let mut all = Vec::new();
    for f in Store::files(&data.path().join("keymanager.sqlite3")) {
        let bytes = std::fs::read(&f).unwrap_or_default();
        assert!(!bytes.windows(32).any(|w| w == data::SELLER_TOKEN.as_bytes()), "the token is in {}", f.display());
        all.extend(bytes);
    }
    assert!(
        all.windows(data::SELLER.len()).any(|w| w == data::SELLER.as_bytes()),
        "positive control: the account is in the files"
    );
}
