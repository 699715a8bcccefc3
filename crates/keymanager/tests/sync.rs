//! Syncs against the sandbox: auto-create on and off, the matching order, several item IDs
//! per product, the review queue, incremental runs, the history window, sales added mid-run,
//! lists without codes, and faults mid-sync.

use chrono::{Duration as CDuration, TimeZone, Utc};
use envato_sandbox::check::assert_every_sale_once;
use envato_sandbox::data::{self, GenSpec};
use envato_sandbox::{Fault, NewSale, RunningSandbox, Switches};
use keymanager::api::{ActivateVerdict, LicenseRef, LicensingService, Query, Verdict};
use keymanager::envato::{ClientConfig, EnvatoClient};
use keymanager::model::NewProduct;
use keymanager::signing::{Signer, SignerCell};
use keymanager::store::SharedStore;
use keymanager::store::{LicenseQuery, SyncRunStatus, SyncTrigger};
use keymanager::sync::{run_sync, SyncSummary};
use keymanager::time::Timestamp;
use keymanager::token::Token;
use keymanager::verify::{Asker, Verifier};
use keymanager::{ErrorCode, Store};
use std::collections::HashSet;
use std::time::Duration;

fn now() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 28, 0, 0, 0).unwrap()
}

async fn sandbox(sales: usize, days: i64) -> RunningSandbox {
    let spec = GenSpec { seed: 21, items: 6, sales, days, now: now() };
    RunningSandbox::start(spec, Switches::default()).await.unwrap()
}

fn client(sb: &RunningSandbox) -> EnvatoClient {
    let mut c = ClientConfig::new(&sb.base_url());
    c.requests_per_second = 0.0;
    c.backoff_base = Duration::from_millis(5);
    c.backoff_max = Duration::from_millis(20);
    c.retry_after_default = Duration::from_millis(50);
    EnvatoClient::new(c, Token::parse(data::SELLER_TOKEN).unwrap()).unwrap()
}

fn store() -> SharedStore {
    SharedStore::new(Store::open_in_memory().unwrap())
}

async fn sync(store: &SharedStore, sb: &RunningSandbox) -> SyncSummary {
    run_sync(store, &client(sb), SyncTrigger::Manual, &now, &mut |_| {}).await.unwrap()
}

fn set(store: &SharedStore, key: &str, value: &str) {
    store.lock().update_settings(&[(key.into(), value.into())], now()).unwrap();
}

fn all_licenses(store: &SharedStore) -> Vec<keymanager::model::License> {
    store.lock().licenses(&LicenseQuery { limit: 1_000_000, ..Default::default() }).unwrap()
}

fn assert_exactly_once(store: &SharedStore, sb: &RunningSandbox, days: i64) {
    let licensed: Vec<_> = all_licenses(store)
        .into_iter()
        .map(|l| (l.envato_item_id.unwrap(), l.sold_at.unwrap(), l.license_key))
        .collect();
    assert_every_sale_once(&sb.dataset(), Some(now() - CDuration::days(days)), &licensed);
}

#[tokio::test]
async fn auto_create_on_makes_products_from_items_and_a_license_per_sale() {
    let sb = sandbox(150, 60).await;
    let st = store();
    set(&st, "auto_create_products", "true");
    set(&st, "default_activation_limit", "3");
    let s = sync(&st, &sb).await;
    assert_eq!(s.status, SyncRunStatus::Succeeded, "{:?}", s.error);
    assert_eq!(s.licenses_created, 150);
    assert_exactly_once(&st, &sb, 60);
    let products = st.lock().products().unwrap();
    let items: HashSet<i64> = sb.dataset().sales.iter().map(|s| s.item_id).collect();
    assert_eq!(products.len(), items.len(), "one product per item sold");
    assert_eq!(s.products_created as usize, items.len());
    for p in &products {
        let item = sb.dataset().items.into_iter().find(|i| i.id == p.envato_item_ids[0]).unwrap();
        assert_eq!(p.name, item.name);
        assert_eq!(p.activation_limit, 3, "default from settings");
        assert_eq!(p.status, keymanager::model::ProductStatus::Active);
        assert!(!p.description.contains('<'), "HTML stripped");
        assert!(p.description.chars().count() <= keymanager::model::DESCRIPTION_MAX);
    }
    let l = &all_licenses(&st)[0];
    assert_eq!(l.source, keymanager::model::LicenseSource::Envato);
    assert!(l.license_key.len() == 23);
}

#[tokio::test]
async fn auto_create_off_queues_unmatched_sales_for_review() {
    let sb = sandbox(80, 60).await;
    let st = store();
    let s = sync(&st, &sb).await;
    assert_eq!((s.licenses_created, s.sales_queued), (0, 80));
    let queue = st.lock().review_queue().unwrap();
    assert_eq!(queue.iter().map(|q| q.waiting_sales).sum::<u32>(), 80);
    let run = &st.lock().sync_runs(1).unwrap()[0];
    assert_eq!(run.sales_queued, 80);
    assert!(run.warnings.iter().all(|w| w.contains("review queue")), "{:?}", run.warnings);
    for q in &queue {
        assert!(
            run.warnings.iter().any(|w| w.contains(&format!("item {}", q.item_id))),
            "a warning names item {}",
            q.item_id
        );
    }

    // Create a product from one item, map another to an existing product.
    let (p, n) = st.lock().review_create_product(queue[0].item_id, now()).unwrap();
    assert_eq!(n, queue[0].waiting_sales);
    assert_eq!(p.envato_item_ids, vec![queue[0].item_id]);
    let target =
        st.lock().create_product(&NewProduct { name: "My bundle".into(), ..Default::default() }, now()).unwrap();
    let (p2, n2) = st.lock().review_map(queue[1].item_id, target.id, now()).unwrap();
    assert_eq!((p2.id, n2), (target.id, queue[1].waiting_sales));
    // A product created by hand with the item ID also takes its waiting sales.
    let by_hand = st
        .lock()
        .create_product(
            &NewProduct { name: "By hand".into(), envato_item_ids: Some(vec![queue[2].item_id]), ..Default::default() },
            now(),
        )
        .unwrap();
    assert_eq!(by_hand.license_count, queue[2].waiting_sales as i64);
    assert_eq!(st.lock().review_queue().unwrap().len(), queue.len() - 3);
    assert_eq!(st.lock().review_create_product(queue[0].item_id, now()).unwrap_err().code, ErrorCode::InputInvalid);

    // Nothing is queued twice, and later syncs do not re-queue or duplicate.
    let s = sync(&st, &sb).await;
    assert_eq!((s.licenses_created, s.sales_queued), (0, 0));
    let queued_left: u32 = st.lock().review_queue().unwrap().iter().map(|q| q.waiting_sales).sum();
    assert_eq!(all_licenses(&st).len() as u32 + queued_left, 80);
}

#[tokio::test]
async fn matching_by_item_id_then_name_then_sku_and_several_ids_per_product() {
    let sb = sandbox(120, 60).await;
    let items = sb.dataset().items;
    let st = store();
    {
        let mut s = st.lock();
        // Items 0 and 1 sell as one product (several IDs); item 2 by name; item 3 by SKU = ID;
        // item 4 by SKU = slug; item 5 is named by one product and ID'd by another: the ID wins.
        s.create_product(
            &NewProduct {
                name: "Both".into(),
                envato_item_ids: Some(vec![items[0].id, items[1].id]),
                ..Default::default()
            },
            now(),
        )
        .unwrap();
        s.create_product(
            &NewProduct { name: format!("  {}  ", items[2].name.to_uppercase()), ..Default::default() },
            now(),
        )
        .unwrap();
        s.create_product(
            &NewProduct { name: "Sku id".into(), sku: Some(items[3].id.to_string()), ..Default::default() },
            now(),
        )
        .unwrap();
        s.create_product(
            &NewProduct {
                name: "Sku slug".into(),
                sku: Some(keymanager::plan::slug(&items[4].name)),
                ..Default::default()
            },
            now(),
        )
        .unwrap();
        s.create_product(&NewProduct { name: items[5].name.clone(), ..Default::default() }, now()).unwrap();
        s.create_product(
            &NewProduct { name: "By id".into(), envato_item_ids: Some(vec![items[5].id]), ..Default::default() },
            now(),
        )
        .unwrap();
    }
    let s = sync(&st, &sb).await;
    assert_eq!((s.licenses_created, s.sales_queued), (120, 0));
    let product_of = |item: i64| -> HashSet<String> {
        all_licenses(&st).into_iter().filter(|l| l.envato_item_id == Some(item)).map(|l| l.product_name).collect()
    };
    let sold: HashSet<i64> = sb.dataset().sales.iter().map(|s| s.item_id).collect();
    let expect = [("Both", 0), ("Both", 1), ("", 2), ("Sku id", 3), ("Sku slug", 4), ("By id", 5)];
    for (name, i) in expect {
        if !sold.contains(&items[i].id) {
            continue;
        }
        let want = if i == 2 { items[2].name.to_uppercase() } else { name.to_string() };
        assert_eq!(product_of(items[i].id), HashSet::from([want]), "item {i}");
    }
}

#[tokio::test]
async fn incremental_syncs_fetch_one_page_when_nothing_is_new() {
    let sb = sandbox(200, 60).await;
    let st = store();
    set(&st, "auto_create_products", "true");
    sync(&st, &sb).await;
    sb.reset_stats();
    let s = sync(&st, &sb).await;
    assert_eq!((s.licenses_created + s.sales_queued, s.pages_fetched), (0, 1));
    assert_eq!(sb.stats().total, 1, "one request when nothing is new");

    let item = sb.dataset().items[0].id;
    for i in 0..3 {
        sb.add_sale(NewSale {
            item_id: item,
            buyer: Some(format!("late{i}")),
            sold_at: Some(now() + CDuration::minutes(i)),
            ..Default::default()
        })
        .unwrap();
    }
    sb.reset_stats();
    let s = sync(&st, &sb).await;
    assert_eq!(s.licenses_created, 3);
    assert_eq!(sb.stats().total, 1);
}

#[tokio::test]
async fn the_first_sync_reaches_back_history_days_only() {
    let sb = sandbox(300, 120).await;
    let st = store();
    set(&st, "history_days", "30");
    set(&st, "auto_create_products", "true");
    let s = sync(&st, &sb).await;
    assert_exactly_once(&st, &sb, 30);
    assert!(s.licenses_created < 300 && s.licenses_created > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sale_added_while_a_sync_runs_is_neither_lost_nor_duplicated() {
    let sb = sandbox(400, 60).await;
    sb.update_switches(|s| s.variants.page_size = 20);
    let st = store();
    set(&st, "auto_create_products", "true");
    let item = sb.dataset().items[1].id;
    // New sales arrive between the pages of the first run (the list shifts under it).
    let sandbox = sb.sandbox.clone();
    let mut added_at_pages = Vec::new();
    let first = run_sync(&st, &client(&sb), SyncTrigger::Manual, &now, &mut |p| {
        if p.phase == keymanager::sync::SyncPhase::Fetching
            && [2, 4, 6].contains(&p.pages_fetched)
            && !added_at_pages.contains(&p.pages_fetched)
        {
            let i = added_at_pages.len() as i64;
            sandbox
                .add_sale(NewSale {
                    item_id: item,
                    buyer: Some(format!("mid{i}")),
                    sold_at: Some(now() + CDuration::seconds(i)),
                    ..Default::default()
                })
                .unwrap();
            added_at_pages.push(p.pages_fetched);
        }
    })
    .await
    .unwrap();
    // Positive control: the sales did arrive while the run was under way, after its first page.
    assert_eq!(added_at_pages, vec![2, 4, 6], "three sales were added mid-run");
    assert!(first.pages_fetched > 6, "the run went on past the last addition: {first:?}");
    assert_eq!(first.status, SyncRunStatus::Succeeded);
    // The next run completes what the shift hid; every sale, the three new ones included, is
    // licensed exactly once.
    sync(&st, &sb).await;
    assert_exactly_once(&st, &sb, 60);
    assert_eq!(sb.dataset().sales.len(), 403);
}

#[tokio::test]
async fn lists_without_codes_then_with_codes_attach_codes_without_duplicates() {
    let sb = sandbox(60, 60).await;
    let st = store();
    set(&st, "auto_create_products", "true");
    sync(&st, &sb).await;
    assert!(all_licenses(&st).iter().all(|l| l.purchase_code.is_none() && l.buyer.is_none()));
    // The list starts carrying codes (Unknowns 1), and new sales come in: the same store's next
    // sync licenses the new ones with their codes and duplicates nothing.
    sb.update_switches(|s| s.variants.sales_include_code = true);
    let item = sb.dataset().items[0].id;
    for h in 1..=3 {
        let at = now() - CDuration::hours(h);
        sb.add_sale(NewSale { item_id: item, sold_at: Some(at), ..Default::default() }).unwrap();
    }
    let s = sync(&st, &sb).await;
    assert_eq!(s.licenses_created, 3);
    assert_eq!(all_licenses(&st).iter().filter(|l| l.purchase_code.is_some()).count(), 3);
    assert_exactly_once(&st, &sb, 60);
    // An older sale verified by its code gets the code attached to its code-less license, in
    // the same store, and the next sync still has every sale exactly once.
    let old = sb
        .dataset()
        .sales
        .into_iter()
        .find(|x| {
            let at = keymanager::time::to_db(x.sold_at.with_timezone(&Utc));
            all_licenses(&st).iter().any(|l| l.sold_at.as_deref() == Some(at.as_str()) && l.purchase_code.is_none())
        })
        .expect("a code-less synced sale");
    let before = all_licenses(&st).len();
    let r = keymanager::lookup::lookup(&st, Some(&Verifier::for_client(st.clone(), client(&sb))), &old.code, now())
        .await
        .unwrap();
    assert_eq!(r.license.as_ref().and_then(|l| l.purchase_code.clone()).as_deref(), Some(old.code.as_str()));
    assert_eq!(all_licenses(&st).len(), before, "the code was attached, no license added");
    sync(&st, &sb).await;
    assert_exactly_once(&st, &sb, 60);
}

#[tokio::test]
async fn the_recorded_identical_sales_become_two_licenses() {
    let sb = sandbox(0, 60).await;
    let item = sb.dataset().items[0].id;
    let at = now() - CDuration::days(1);
    for _ in 0..2 {
        sb.add_sale(NewSale { item_id: item, sold_at: Some(at), amount_cents: Some(2000), ..Default::default() })
            .unwrap();
    }
    let st = store();
    set(&st, "auto_create_products", "true");
    assert_eq!(sync(&st, &sb).await.licenses_created, 2);
    assert_eq!(sync(&st, &sb).await.licenses_created, 0);
}

#[tokio::test]
async fn rate_limits_and_server_errors_mid_sync_are_ridden_out() {
    let sb = sandbox(300, 60).await;
    sb.update_switches(|s| {
        s.variants.page_size = 25;
        s.variants.retry_after_secs = Some(0);
        s.faults.rate_limit_every = 4;
    });
    let st = store();
    set(&st, "auto_create_products", "true");
    let s = sync(&st, &sb).await;
    assert_eq!(s.status, SyncRunStatus::Succeeded);
    sb.update_switches(|s| {
        s.faults.rate_limit_every = 0;
        s.faults.fail_next.extend([Fault::ServerError, Fault::Drop, Fault::Truncate]);
    });
    sync(&st, &sb).await;
    assert_exactly_once(&st, &sb, 60);
}

#[tokio::test]
async fn a_sync_that_fails_half_way_is_completed_by_the_next() {
    let sb = sandbox(300, 60).await;
    sb.update_switches(|s| s.variants.page_size = 25);
    let st = store();
    set(&st, "auto_create_products", "true");
    // Page 1 and 2 succeed, then Envato keeps failing.
    sb.update_switches(|s| s.faults.fail_next.extend([Fault::Unavailable; 0]));
    let c = client(&sb);
    let sandbox = sb.sandbox.clone();
    let mut pages = 0;
    let s = run_sync(&st, &c, SyncTrigger::Manual, &now, &mut |p| {
        pages = p.pages_fetched;
        if p.pages_fetched == 2 {
            sandbox.update_switches(|s| s.faults.error_rate = 1.0);
        }
    })
    .await
    .unwrap();
    assert_eq!(s.status, SyncRunStatus::Failed);
    assert_eq!(s.error.as_ref().unwrap().code, ErrorCode::EnvatoConnectionFailed);
    assert_eq!(s.licenses_created, 50);
    assert!(pages >= 2);
    assert_eq!(st.lock().sync_state().unwrap().watermark, None, "a failed run does not move the watermark");
    let log = st.lock().sync_runs(5).unwrap();
    assert_eq!(log[0].status, SyncRunStatus::Failed);
    assert_eq!(log[0].error.as_ref().unwrap().code, ErrorCode::EnvatoConnectionFailed);

    sb.update_switches(|s| s.faults.error_rate = 0.0);
    let s = sync(&st, &sb).await;
    assert_eq!(s.status, SyncRunStatus::Succeeded);
    assert_exactly_once(&st, &sb, 60);
}

#[tokio::test]
async fn a_revoked_token_fails_the_run_and_pauses_periodic_syncing() {
    let sb = sandbox(20, 60).await;
    let st = store();
    sb.revoke_token(data::SELLER_TOKEN);
    let s = sync(&st, &sb).await;
    assert_eq!(s.error.unwrap().code, ErrorCode::EnvatoUnauthorized);
    assert!(st.lock().sync_state().unwrap().auth_failed);
    let audit = st.lock().audit_recent(5).unwrap();
    assert!(audit.iter().any(|a| a.action == "sync.failed" && a.message.contains("envato.unauthorized")));
}

#[tokio::test]
async fn runs_left_running_by_a_dead_process_are_marked_interrupted() {
    let st = store();
    let id = st.lock().begin_sync_run(SyncTrigger::Scheduled, now()).unwrap();
    st.lock().begin_sync_run(SyncTrigger::Manual, now()).unwrap();
    let runs = st.lock().sync_runs(5).unwrap();
    assert_eq!(runs.iter().find(|r| r.id == id).unwrap().status, SyncRunStatus::Interrupted);
}

#[tokio::test]
async fn auto_created_products_wait_for_review_and_an_inactive_product_issues_nothing_new() {
    let sb = sandbox(60, 60).await;
    let st = store();
    set(&st, "auto_create_products", "true");
    sync(&st, &sb).await;
    let products = st.lock().products().unwrap();
    assert!(!products.is_empty());
    assert!(products.iter().all(|p| p.auto_created && p.needs_review), "auto-created products wait for review");
    let p = st.lock().mark_product_reviewed(products[0].id, now()).unwrap();
    assert!(p.auto_created && !p.needs_review);
    assert_eq!(st.lock().products().unwrap().iter().filter(|p| p.needs_review).count(), products.len() - 1);

    // Made inactive: no new licenses (a new sale waits for review), no activations, but its
    // licenses still validate.
    let item = p.envato_item_ids[0];
    let new = NewProduct {
        name: p.name.clone(),
        envato_item_ids: Some(p.envato_item_ids.clone()),
        status: Some(keymanager::model::ProductStatus::Inactive),
        ..Default::default()
    };
    st.lock().update_product(p.id, &new, now()).unwrap();
    let before = st.lock().license_counts().unwrap().total;
    sb.add_sale(NewSale {
        item_id: item,
        buyer: Some("after-inactive".into()),
        sold_at: Some(now()),
        ..Default::default()
    })
    .unwrap();
    let s = sync(&st, &sb).await;
    assert_eq!((s.licenses_created, s.sales_queued), (0, 1));
    assert_eq!(st.lock().license_counts().unwrap().total, before);
    assert!(st.lock().review_queue().unwrap().iter().any(|r| r.item_id == item));

    let err = st.lock().issue_license(&keymanager::store::NewLicense { product_id: p.id, ..Default::default() }, now());
    assert_eq!(err.unwrap_err().code, ErrorCode::ProductInactive);
    let existing =
        st.lock().licenses(&LicenseQuery { product_id: Some(p.id), limit: 1, ..Default::default() }).unwrap().remove(0);
    let signer = std::sync::Arc::new(SignerCell::fixed(Signer::generate().unwrap()));
    let svc = LicensingService::new(st.clone(), None, signer);
    let asked = Query::of(LicenseRef::Key(existing.license_key.clone()), Some("new-site.example"));
    let refused = svc.activate(&asked, 7, Asker::Seller, now()).await.unwrap();
    assert_eq!(refused, ActivateVerdict::ProductInactive);
    let asked = Query::of(LicenseRef::Key(existing.license_key.clone()), None);
    let v = svc.validate(&asked, Asker::Seller, now()).await.unwrap();
    assert!(matches!(v, Verdict::Valid(_)), "licenses already sold keep working: {v:?}");
}

#[tokio::test]
async fn merging_two_products_moves_their_items_and_licenses() {
    // The seed's Scenario 3: one plugin sold on two marketplaces became two products.
    let sb = sandbox(80, 60).await;
    let st = store();
    set(&st, "auto_create_products", "true");
    sync(&st, &sb).await;
    let products = st.lock().products().unwrap();
    assert!(products.len() >= 2);
    let (a, b) = (&products[0], &products[1]);
    let a_licenses =
        st.lock().licenses(&LicenseQuery { product_id: Some(a.id), limit: 10_000, ..Default::default() }).unwrap();
    let some = &a_licenses[0];
    let key = keymanager::license_key::LicenseKey::parse(&some.license_key).unwrap();
    st.lock().activate(&key, "site.example", None, keymanager::licensing::refuse_if_not_active, now()).unwrap();

    let err = st.lock().merge_products(a.id, a.id, now()).unwrap_err();
    assert_eq!(err.code, ErrorCode::InputInvalid);
    let (merged, moved) = st.lock().merge_products(a.id, b.id, now()).unwrap();
    assert_eq!(moved as usize, a_licenses.len());
    assert_eq!(merged.license_count as usize, a_licenses.len() + b.license_count as usize);
    let mut items = a.envato_item_ids.clone();
    items.extend(&b.envato_item_ids);
    items.sort();
    assert_eq!(merged.envato_item_ids, items);
    assert!(st.lock().product(a.id).unwrap().is_none(), "the merged product is gone");
    let after = st.lock().license(some.id).unwrap().unwrap();
    assert_eq!(
        (after.product_id, after.license_key.as_str(), after.activations_used),
        (b.id, some.license_key.as_str(), 1)
    );

    // The next sale of the merged product's item is licensed to the product it went into.
    sb.add_sale(NewSale {
        item_id: a.envato_item_ids[0],
        buyer: Some("after-merge".into()),
        sold_at: Some(now()),
        ..Default::default()
    })
    .unwrap();
    let s = sync(&st, &sb).await;
    assert_eq!(s.licenses_created, 1);
    let newest = st.lock().licenses(&LicenseQuery { limit: 1, ..Default::default() }).unwrap().remove(0);
    assert_eq!(newest.product_id, b.id);
}

#[tokio::test]
async fn a_cancelled_sync_stops_after_the_current_page_and_the_next_one_completes_it() {
    let sb = sandbox(400, 60).await;
    sb.update_switches(|s| s.variants.page_size = 50);
    let st = store();
    set(&st, "auto_create_products", "true");
    let cancel = std::sync::atomic::AtomicBool::new(false);
    let options = keymanager::sync::SyncOptions {
        trigger: SyncTrigger::Manual,
        max_pages: keymanager::sync::MAX_PAGES,
        cancel: Some(&cancel),
    };
    let s = run_sync(&st, &client(&sb), options, &now, &mut |p| {
        if p.pages_fetched == 2 {
            cancel.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    })
    .await
    .unwrap();
    assert_eq!(s.status, SyncRunStatus::Interrupted);
    assert!(s.error.is_none(), "a cancel is not a failure");
    assert_eq!(s.pages_fetched, 2, "it stopped after the page it was applying");
    let kept = st.lock().license_counts().unwrap().total;
    assert_eq!(kept, s.licenses_created, "what the finished pages committed stays");
    assert!(kept > 0 && kept < 400);
    let run = &st.lock().sync_runs(1).unwrap()[0];
    assert_eq!(run.status, SyncRunStatus::Interrupted);
    assert!(st.lock().sync_state().unwrap().watermark.is_none(), "the watermark did not move");

    let next = sync(&st, &sb).await;
    assert_eq!(next.status, SyncRunStatus::Succeeded);
    assert_exactly_once(&st, &sb, 60);
}

#[tokio::test]
async fn the_refund_watch_flags_codes_envato_no_longer_recognises_and_changes_nothing_else() {
    let sb = sandbox(40, 60).await;
    sb.update_switches(|s| s.variants.sales_include_code = true);
    let st = store();
    set(&st, "auto_create_products", "true");
    sync(&st, &sb).await;
    let licenses = all_licenses(&st);
    let coded: Vec<_> = licenses.iter().filter(|l| l.purchase_code.is_some()).collect();
    assert!(coded.len() >= 10);
    let refunded: Vec<&str> = coded.iter().take(3).map(|l| l.purchase_code.as_deref().unwrap()).collect();
    for c in &refunded {
        sb.refund(c).unwrap();
    }
    let cancel = std::sync::atomic::AtomicBool::new(false);
    let mut seen = Vec::new();
    let p = keymanager::refund_watch::recheck(&st, &client(&sb), None, &now, &cancel, &mut |p| seen.push(p.checked))
        .await
        .unwrap();
    assert_eq!(p.checked as usize, coded.len());
    assert_eq!(p.not_recognised, 3);
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "progress only goes up");
    let page = st
        .lock()
        .license_page(&keymanager::store::LicenseFilter { flagged: Some(true), ..Default::default() }, now())
        .unwrap();
    let mut flagged: Vec<_> = page.licenses.iter().map(|l| l.purchase_code.clone().unwrap()).collect();
    flagged.sort();
    let mut want: Vec<String> = refunded.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(flagged, want, "the flagged list is exactly the refunded codes");
    assert!(page.licenses.iter().all(|l| l.status == keymanager::model::LicenseStatus::Active), "never suspended");

    // Cancelled before the first code: nothing checked.
    cancel.store(true, std::sync::atomic::Ordering::SeqCst);
    let p = keymanager::refund_watch::recheck(&st, &client(&sb), None, &now, &cancel, &mut |_| {}).await.unwrap();
    assert!(p.cancelled && p.checked == 0);
}
