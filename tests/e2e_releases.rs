//! Publishing an update in the real window: a product's Releases, a zip of the test plugin
//! (tests/wordpress) added by its path, what was read from it, the changelog edited and a 50%
//! rollout published, a yank with its reason, the snippet for plugin-update-checker, and a
//! refused zip's coded message. Screenshots: releases-read-from-zip, releases-published,
//! releases-refused.

use keymanager::model::NewProduct;
use keymanager::Store;
use keymanager_e2e::launch;
use std::io::Write;

fn plugin_zip(dir: &std::path::Path, version: &str, folder: &str) -> std::path::PathBuf {
    let src = keymanager_e2e::workspace_root().join("tests/wordpress/km-updates-demo");
    let path = dir.join(format!("{folder}-{version}.zip"));
    let mut z = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for name in ["km-updates-demo.php", "readme.txt"] {
        let text = std::fs::read_to_string(src.join(name)).unwrap().replace("1.0.0", version);
        z.start_file(format!("{folder}/{name}"), options).unwrap();
        z.write_all(text.as_bytes()).unwrap();
    }
    z.finish().unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_is_added_published_at_a_rollout_and_yanked_in_the_window() {
    keymanager_e2e::within(240, steps()).await;
}

async fn steps() {
    let data = tempfile::tempdir().unwrap();
    let zips = tempfile::tempdir().unwrap();
    let product = {
        let mut store = Store::open_in_dir(data.path()).unwrap();
        let now = keymanager::time::now();
        store.set_sync_paused(true, now).unwrap();
        store.update_settings(&[("public_url".into(), "https://licenses.example.com".into())], now).unwrap();
        store.create_product(&NewProduct { name: "KM Updates Demo".into(), ..Default::default() }, now).unwrap()
    };
    let good = plugin_zip(zips.path(), "1.2.0", "km-updates-demo");
    let wrong = plugin_zip(zips.path(), "1.3.0", "another-plugin");
    let app = launch(data.path()).await;

    app.click("[data-testid=nav-products]").await;
    app.wait_for("[data-testid=products-table]").await;
    app.click("[data-testid=product-row]:first-child [data-testid=product-releases]").await;
    app.wait_for("[data-testid=releases]").await;
    app.wait_for("[data-testid=snippet-problem]").await; // no slug yet
    app.type_into("[data-testid=release-path]", &good.to_string_lossy()).await;
    app.click("[data-testid=release-add]").await;
    app.wait_text("[data-testid=read-version-from]", "km-updates-demo/km-updates-demo.php").await;
    app.screenshot("releases-read-from-zip").await;

    // The changelog edited, a 50% rollout, published.
    app.type_into("[data-testid=release-changelog]", "\n* Edited in the window.").await;
    // A range input is set the way a drag sets it: its value, then an input event (React's).
    app.client
        .execute(
            "const s = document.querySelector('[data-testid=release-rollout]'); \
             const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set; \
             set.call(s, '50'); s.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![],
        )
        .await
        .unwrap();
    app.click("[data-testid=release-publish]").await;
    app.wait_text("[data-testid=release-row][data-version='1.2.0'] [data-testid=release-status]", "published").await;
    let code = app.text_of("[data-testid=snippet-code]").await;
    assert!(code.contains("'https://licenses.example.com/updates/km-updates-demo/info.json'"), "{code}");
    assert!(code.contains("wp_signature_softfail"), "{code}");
    app.screenshot("releases-published").await;
    {
        let store = Store::open_in_dir(data.path()).unwrap();
        let r = &store.releases(Some(product.id)).unwrap()[0];
        assert_eq!((r.version.as_str(), r.rollout), ("1.2.0", 50));
        assert!(r.changelog.contains("Edited in the window."), "{}", r.changelog);
        assert_eq!(store.product_updates(product.id).unwrap().unwrap().slug.as_deref(), Some("km-updates-demo"));
    }

    // Another plugin's zip: refused with its code, nothing added.
    app.type_into("[data-testid=release-path]", &wrong.to_string_lossy()).await;
    app.click("[data-testid=release-add]").await;
    app.wait_attr("[data-testid=release-error]", "data-code", "release.wrong_folder").await;
    app.screenshot("releases-refused").await;

    // Yank with a reason.
    app.click("[data-testid=release-row][data-version='1.2.0'] [data-testid=row-yank]").await;
    app.type_into("[data-testid=yank-reason]", "breaks checkout").await;
    app.click("[data-testid=row-confirm]").await;
    app.wait_text("[data-testid=release-row][data-version='1.2.0'] [data-testid=release-status]", "yanked").await;
    let store = Store::open_in_dir(data.path()).unwrap();
    let all = store.releases(Some(product.id)).unwrap();
    assert_eq!(all.len(), 1, "the refused zip added nothing");
    assert_eq!(all[0].yank_reason.as_deref(), Some("breaks checkout"));
    app.close().await;
}
