//! The seed's Testing section as one test, in the real window: the token saved against the
//! sandbox, Auto-Create on, a purchase, Sync now, the product and license in the window, the
//! licensing server switched on in Settings, the PHP client activating with the license key
//! (Testing Step 7), and the activation seen (fingerprint, label, time) and freed in the license
//! detail. Then a purchase made after the last sync, activated by its purchase code, is seen once
//! (not twice) after the next sync.

use chrono::Utc;
use envato_sandbox::data::{self, GenSpec};
use envato_sandbox::{NewSale, RunningSandbox, Switches};
use keymanager::Store;
use keymanager_e2e::launch_with;
use std::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seeds_testing_steps_with_the_php_client() {
    keymanager_e2e::within(240, steps()).await;
}

/// The PHP client activating, as a product does: (exit ok, printed line).
fn php_activate(server: &str, public_key: &str, key_or_code: &str, site: &str, label: &str) -> (bool, String) {
    let script = keymanager_e2e::workspace_root().join("examples/php/tests/activate.php");
    let out = Command::new("php").arg(script).args([server, public_key, key_or_code, site, label]).output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

async fn steps() {
    let spec = GenSpec { seed: 9, items: 3, sales: 12, days: 30, now: Utc::now() };
    let sb = RunningSandbox::start(spec, Switches::default()).await.unwrap();
    // The sales list carries codes and buyers (one of Envato's documented variants), so the
    // license can be found by its buyer.
    sb.update_switches(|s| s.variants.sales_include_code = true);
    let base = sb.base_url();
    let data = tempfile::tempdir().unwrap();
    {
        // Only Sync now starts a run, so each step sees exactly what it caused.
        let mut store = Store::open_in_dir(data.path()).unwrap();
        store.set_sync_paused(true, keymanager::time::now()).unwrap();
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = launch_with(data.path(), &[("KEYMANAGER_ENVATO_API_BASE", base.as_str())]).await;

    // Step 1-2: the token, validated against the sandbox and saved, with Auto-Create on.
    app.click("[data-testid=nav-settings]").await;
    app.click("[data-testid=tab-envato]").await;
    app.type_into("[data-testid=envato-token]", data::SELLER_TOKEN).await;
    app.click("[data-testid=toggle-auto_create_products]").await;
    app.click("[data-testid=save-settings]").await;
    assert_eq!(app.text_of("[data-testid=saved]").await, "Saved");

    // Step 3-5: a purchase on the marketplace, then Sync now.
    let item = sb.dataset().items[0].clone();
    let sale =
        sb.add_sale(NewSale { item_id: item.id, buyer: Some("e2e-buyer".into()), ..Default::default() }).unwrap();
    app.click("[data-testid=nav-sync-log]").await;
    app.click("[data-testid=sync-now]").await;
    app.wait_attr("[data-testid=sync-run]", "data-status", "succeeded").await;
    app.click("[data-testid=nav-products]").await;
    let products = app.text_of("[data-testid=products-table]").await;
    assert!(products.contains(&item.id.to_string()), "the auto-created product lists item {}: {products}", item.id);

    // Step 6: the license, with its purchase code.
    app.click("[data-testid=nav-licenses]").await;
    app.type_into("[data-testid=license-search]", "e2e-buyer").await;
    app.wait_text("[data-testid=licenses-count]", "1 shown").await;
    app.click("[data-testid=license-row]").await;
    let key = app.text_of("[data-testid=license-panel] [data-testid=fact-key]").await;
    assert_eq!(key.len(), 23, "{key}");

    // The licensing server, switched on in the window on a port of its own.
    app.click("[data-testid=nav-settings]").await;
    app.click("[data-testid=tab-server]").await;
    app.type_into("[data-testid=setting-server_bind]", &format!("127.0.0.1:{port}")).await;
    app.type_into("[data-testid=setting-store_name]", "E2E Themes").await;
    app.click("[data-testid=save-settings]").await;
    app.wait_text("[data-testid=saved]", "Saved").await;
    app.click("[data-testid=server-enabled]").await;
    let server = format!("http://127.0.0.1:{port}");
    app.wait_text("[data-testid=server-state]", &format!("Listening on {server}")).await;
    let public_key = app.text_of("[data-testid=server-public-key]").await;
    app.screenshot("settings-licensing-server").await;

    // Step 7: the product activates with the license key, through the PHP client.
    let (ok, said) = php_activate(&server, &public_key, &key, "https://e2e-shop.example", "E2E shop");
    assert!(ok, "{said}");
    assert!(said.starts_with("ACTIVATED 201"), "{said}");
    let fingerprint = said.split_whitespace().nth(2).unwrap().to_string();
    // The tab polls the server's count: the activation shows up as a request served.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let served: u64 = app.text_of("[data-testid=server-served]").await.parse().unwrap_or(0);
        if served >= 1 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the window never counted the request");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    // The license detail shows the activation, and frees it.
    app.click("[data-testid=nav-licenses]").await;
    app.type_into("[data-testid=license-search]", &key).await;
    app.wait_text("[data-testid=licenses-count]", "1 shown").await;
    app.click("[data-testid=license-row]").await;
    app.wait_text("[data-testid=activation-fingerprint]", &fingerprint).await;
    assert_eq!(app.text_of("[data-testid=activation-label]").await, "(E2E shop)");
    assert!(app.text_of("[data-testid=activation-since]").await.starts_with("since "));
    app.screenshot("license-activation").await;
    app.click("[data-testid=free-slot]").await;
    app.wait_for("[data-testid=license-panel]").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while app.client.find(keymanager_e2e::fantoccini::Locator::Css("[data-testid=activation]")).await.is_ok() {
        assert!(std::time::Instant::now() < deadline, "the activation was not freed");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    // A purchase after the last sync, activated by its purchase code: recorded once, and the
    // next sync does not add it again.
    let later =
        sb.add_sale(NewSale { item_id: item.id, buyer: Some("e2e-later".into()), ..Default::default() }).unwrap();
    let (ok, said) = php_activate(&server, &public_key, &later.code, "https://later-shop.example", "Later shop");
    assert!(ok && said.starts_with("ACTIVATED 201"), "{said}");
    app.click("[data-testid=nav-sync-log]").await;
    app.click("[data-testid=sync-now]").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let runs = Store::open_in_dir(data.path()).unwrap().sync_runs(5).unwrap();
        if runs.len() >= 2 && runs[0].finished_at.is_some() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the second sync did not finish");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    app.click("[data-testid=nav-licenses]").await;
    app.type_into("[data-testid=license-search]", "e2e-later").await;
    app.wait_text("[data-testid=licenses-count]", "1 shown").await;
    let store = Store::open_in_dir(data.path()).unwrap();
    assert!(store.license_by_code(&later.code).unwrap().is_some());
    let sold = sb.dataset().sales.iter().filter(|s| !s.refunded).count() as u32;
    assert_eq!(store.license_counts().unwrap().total, sold, "every sale once: the later one was not added twice");
    let _ = sale;
    let log = app.close().await;
    assert!(!log.contains(data::SELLER_TOKEN));
    keymanager_e2e::forget_sandbox_token(data.path(), &base);
}
