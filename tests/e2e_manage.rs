//! Managing licenses and products in the real window: a license made by hand (a sale outside
//! Envato) with its buyer e-mail and note, a bulk suspension of a selection with one reason, and
//! the seed's Scenario 3: one plugin sold on two marketplaces, two products merged into one.

use keymanager::model::NewProduct;
use keymanager::Store;
use keymanager_e2e::launch;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_made_license_bulk_suspend_and_merge() {
    keymanager_e2e::within(240, steps()).await;
}

async fn steps() {
    let data = tempfile::tempdir().unwrap();
    let (a, b) = {
        let mut store = Store::open_in_dir(data.path()).unwrap();
        let now = keymanager::time::now();
        store.set_sync_paused(true, now).unwrap();
        let mk = |store: &mut Store, name: &str, item: i64| {
            store
                .create_product(
                    &NewProduct { name: name.into(), envato_item_ids: Some(vec![item]), ..Default::default() },
                    now,
                )
                .unwrap()
        };
        let a = mk(&mut store, "Pixel Slider (CodeCanyon)", 111);
        let b = mk(&mut store, "Pixel Slider (ThemeForest)", 222);
        for i in 0..3 {
            keymanager::licensing::issue(&mut store, a.id, Some(&format!("cc-buyer-{i}")), None, None, now).unwrap();
        }
        keymanager::licensing::issue(&mut store, b.id, Some("tf-buyer"), None, None, now).unwrap();
        (a, b)
    };
    let app = launch(data.path()).await;

    // A license made by hand.
    app.click("[data-testid=nav-licenses]").await;
    app.click("[data-testid=new-license]").await;
    app.wait_for("[data-testid=new-license-form]").await;
    app.screenshot("license-new-form").await;
    app.click(&format!("[data-testid=new-license-product] option[value='{}']", b.id)).await;
    app.type_into("[data-testid=new-license-buyer]", "bank-transfer").await;
    app.type_into("[data-testid=new-license-email]", "pay@bank.example").await;
    app.type_into("[data-testid=new-license-note]", "Paid by bank transfer, invoice 2026-114").await;
    app.click("[data-testid=new-license-create]").await;
    app.wait_text("[data-testid=license-panel] [data-testid=fact-buyer]", "bank-transfer").await;
    assert_eq!(app.value_of("[data-testid=buyer-email]").await, "pay@bank.example");
    assert_eq!(app.value_of("[data-testid=license-note]").await, "Paid by bank transfer, invoice 2026-114");
    app.screenshot("license-made-by-hand").await;

    // Bulk: the three CodeCanyon buyers, suspended with one reason.
    app.type_into("[data-testid=license-search]", "cc-buyer").await;
    app.wait_text("[data-testid=licenses-count]", "3 shown").await;
    app.click("[data-testid=select-all]").await;
    app.wait_text("[data-testid=bulk-count]", "3 selected").await;
    app.type_into("[data-testid=bulk-reason]", "Chargebacks, batch 12").await;
    app.click("[data-testid=bulk-apply]").await;
    app.wait_text("[data-testid=bulk-result]", "3 licenses changed.").await;
    app.screenshot("licenses-bulk-suspended").await;
    {
        let store = Store::open_in_dir(data.path()).unwrap();
        let page = store
            .licenses(&keymanager::store::LicenseQuery { product_id: Some(a.id), limit: 10, ..Default::default() })
            .unwrap();
        assert!(page.iter().all(|l| l.status == keymanager::model::LicenseStatus::Suspended));
        let trail = store.audit_for_license(page[0].id).unwrap();
        assert!(trail.iter().any(|e| e.message == "Chargebacks, batch 12"));
    }

    // Scenario 3: merge the CodeCanyon product into the ThemeForest one.
    app.click("[data-testid=nav-products]").await;
    app.wait_for("[data-testid=products-table]").await;
    app.click("[data-testid=product-row]:first-child [data-testid=edit-product]").await;
    app.click(&format!("[data-testid=merge-into] option[value='{}']", b.id)).await;
    app.click("[data-testid=merge-start]").await;
    app.click("[data-testid=merge-confirm]").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let table = app.text_of("[data-testid=products-table]").await;
        if !table.contains("Pixel Slider (CodeCanyon)") {
            assert!(table.contains("111, 222"), "{table}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the merge did not show: {table}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    app.screenshot("products-merged").await;
    let store = Store::open_in_dir(data.path()).unwrap();
    assert!(store.product(a.id).unwrap().is_none());
    assert_eq!(store.product(b.id).unwrap().unwrap().license_count, 5);
    drop(store);
    app.close().await;
}
