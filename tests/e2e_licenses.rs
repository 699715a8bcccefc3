//! Support's path in the real window: Ctrl+K, look a purchase code up, open its license,
//! suspend and reactivate it with reasons (both in the audit trail), and the dashboard chart.

use chrono::{Duration, Utc};
use envato_sandbox::data::{self, GenSpec};
use envato_sandbox::{RunningSandbox, Switches};
use keymanager::keychain::Keychain;
use keymanager::token::Token;
use keymanager::Store;
use keymanager_e2e::fantoccini::key::Key;
use keymanager_e2e::fantoccini::Locator;
use keymanager_e2e::launch_with;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_suspend_reactivate_and_the_dashboard_chart() {
    keymanager_e2e::within(240, lookup_suspend_reactivate_and_the_dashboard_chart_steps()).await;
}

async fn lookup_suspend_reactivate_and_the_dashboard_chart_steps() {
    let now = Utc::now();
    let sb = RunningSandbox::start(GenSpec { seed: 17, items: 4, sales: 30, days: 20, now }, Switches::default())
        .await
        .unwrap();
    let sale = sb
        .dataset()
        .sales
        .into_iter()
        .find(|s| s.buyer.is_some() && s.sold_at.with_timezone(&Utc) > now - Duration::days(20))
        .unwrap();
    let data = tempfile::tempdir().unwrap();
    {
        let mut store = Store::open_in_dir(data.path()).unwrap();
        let t = keymanager::time::now();
        store.update_settings(&[("auto_create_products".into(), "true".into())], t).unwrap();
        store.set_sync_paused(true, t).unwrap();
    }
    let keychain =
        Keychain::for_data_dir(data.path(), &keymanager::envato::ApiBase::parse_override(&sb.base_url()).unwrap())
            .unwrap();
    keychain.save(&Token::parse(data::SELLER_TOKEN).unwrap()).unwrap();
    let base = sb.base_url();
    let app = launch_with(data.path(), &[("KEYMANAGER_ENVATO_API_BASE", base.as_str())]).await;

    // Ctrl+K from the dashboard focuses the lookup.
    app.wait_for("[data-testid=page-dashboard]").await;
    // The developer override (the sandbox) is announced in the window.
    assert!(app.text_of("[data-testid=api-override-banner]").await.contains(&base));
    app.client.find(Locator::Css("body")).await.unwrap().send_keys(&(Key::Control + "k")).await.unwrap();
    app.wait_for("[data-testid=page-lookup]").await;
    let focused = app.client.active_element().await.unwrap();
    assert_eq!(
        focused.attr("data-testid").await.unwrap().as_deref(),
        Some("lookup-input"),
        "Ctrl+K focuses the code field"
    );
    focused.send_keys(&format!(" {} ", sale.code.to_uppercase())).await.unwrap();
    app.click("[data-testid=lookup-submit]").await;
    app.wait_attr("[data-testid=lookup-result]", "data-verdict", "valid").await;
    assert_eq!(app.text_of("[data-testid=fact-buyer]").await, sale.buyer.clone().unwrap());
    // The support window as Rust computed it from the sale's supported_until.
    let support = app.text_of("[data-testid=fact-support]").await;
    match sale.supported_until.map(|u| u.with_timezone(&Utc)) {
        None => assert_eq!(support, "No support"),
        Some(u) if u <= Utc::now() => assert!(support.starts_with("Expired on "), "{support}"),
        Some(u) => {
            let days = (u - Utc::now()).num_days();
            let shown: i64 = support
                .split('(')
                .nth(1)
                .and_then(|rest| rest.split(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("no day count in {support:?}"));
            assert!(support.starts_with("Until ") && support.ends_with("left)"), "{support}");
            assert!((shown - days).abs() <= 1, "{shown} days shown, {days} expected");
        }
    }
    let key = app.text_of("[data-testid=fact-key]").await;
    app.screenshot("lookup-valid").await;

    app.type_into("[data-testid=lookup-input]", "1234-5678").await;
    app.click("[data-testid=lookup-submit]").await;
    app.wait_attr("[data-testid=lookup-result]", "data-verdict", "malformed").await;

    // From the lookup to its license (found by key, its detail open), then suspend and reactivate.
    app.type_into("[data-testid=lookup-input]", &sale.code).await;
    app.click("[data-testid=lookup-submit]").await;
    app.wait_attr("[data-testid=lookup-result]", "data-verdict", "valid").await;
    app.click("[data-testid=open-license]").await;
    app.wait_text("[data-testid=licenses-count]", "1 shown").await;
    app.wait_text("[data-testid=license-panel] [data-testid=fact-key]", &key).await;
    assert_eq!(app.text_of("[data-testid=license-panel] [data-testid=fact-code]").await, sale.code);
    app.click("[data-testid=action-suspend]").await;
    app.type_into("[data-testid=action-reason]", "Chargeback under review").await;
    app.click("[data-testid=action-confirm]").await;
    app.wait_text("[data-testid=license-panel] [data-testid=fact-status]", "suspended").await;
    app.screenshot("license-suspended").await;
    app.click("[data-testid=action-reactivate]").await;
    app.type_into("[data-testid=action-reason]", "Resolved with the buyer").await;
    app.click("[data-testid=action-confirm]").await;
    app.wait_text("[data-testid=license-panel] [data-testid=fact-status]", "active").await;
    let trail = app.text_of("[data-testid=audit-trail]").await;
    assert!(
        trail.contains("license.suspended Chargeback under review")
            && trail.contains("license.reactivated Resolved with the buyer"),
        "{trail}"
    );
    app.screenshot("license-reactivated").await;

    // The layout at the default width (1200 px) with the detail open: the filters take at most
    // two rows, and no column of the list is cut off (nothing wider than the table).
    let layout = |app: &keymanager_e2e::AppSession| {
        let client = app.client.clone();
        async move {
            client
                .execute(
                    "const t = document.querySelector('.vtable');
                     const cells = [...document.querySelectorAll('.vhead > span')].filter((c) => c.offsetParent !== null);
                     const tr = t.getBoundingClientRect();
                     const p = document.querySelector('[data-testid=license-panel]').getBoundingClientRect();
                     return {
                       width: window.innerWidth,
                       filterRows: [...document.querySelectorAll('.filters > *')]
                         .map((e) => e.getBoundingClientRect()).sort((a, b) => a.top - b.top)
                         .reduce((rows, r) => (rows.length && r.top < rows[rows.length - 1] ? rows : [...rows, r.bottom]), []).length,
                       clipped: cells.filter((c) => c.getBoundingClientRect().right > tr.right + 1).map((c) => c.textContent),
                       tableOverflows: t.scrollWidth > t.clientWidth + 1,
                       panelInside: p.left >= 0 && p.right <= window.innerWidth + 1,
                       panelWhole: p.top >= 0 && p.bottom <= window.innerHeight + 1,
                       panel: [p.left, p.top, p.right, p.bottom, window.innerHeight],
                       columns: cells.map((c) => c.textContent),
                     };",
                    vec![],
                )
                .await
                .unwrap()
        }
    };
    app.screenshot("licenses-1200-detail").await;
    let at_1200 = layout(&app).await;
    assert!(at_1200["width"].as_f64().unwrap() >= 1150.0, "{at_1200}");
    assert!(at_1200["filterRows"].as_u64().unwrap() <= 2, "filters in at most two rows: {at_1200}");
    assert_eq!(at_1200["clipped"], serde_json::json!([]), "{at_1200}");
    assert_eq!(at_1200["tableOverflows"], false, "{at_1200}");
    assert_eq!(at_1200["panelInside"], true, "{at_1200}");
    for column in ["Key", "Status", "Activations"] {
        assert!(at_1200["columns"].as_array().unwrap().iter().any(|c| c == column), "{column}: {at_1200}");
    }
    // The minimum window size (900 x 600): the detail lies over the list, whole and usable.
    app.client.set_window_size(900, 600).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let small = loop {
        let l = layout(&app).await;
        if l["width"].as_f64().unwrap() < 950.0 || std::time::Instant::now() > deadline {
            break l;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    app.screenshot("licenses-min-size-detail").await;
    assert!(small["width"].as_f64().unwrap() < 950.0, "the window was resized: {small}");
    assert_eq!(small["panelInside"], true, "{small}");
    assert_eq!(small["panelWhole"], true, "the drawer is whole on the screen: {small}");
    assert_eq!(small["tableOverflows"], false, "{small}");
    app.client.set_window_size(1200, 800).await.unwrap();

    // The dashboard chart draws the sale.
    app.click("[data-testid=nav-dashboard]").await;
    app.wait_for("[data-testid=sales-chart] [data-testid=chart-bar]").await;
    app.screenshot("dashboard-chart").await;
    let log = app.close().await;
    assert!(!log.contains(data::SELLER_TOKEN));
    keychain.delete().unwrap();
}
