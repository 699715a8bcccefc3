//! Lookups against the sandbox, the license lifecycle and its audit trail, activations,
//! paging and search, and the CSV export.

use chrono::{Duration as CDuration, TimeZone, Utc};
use envato_sandbox::data::{self, GenSpec};
use envato_sandbox::{NewSale, RunningSandbox, Switches};
use keymanager::api::{ActivateVerdict, ApiCode, DeactivateVerdict, LicenseRef, LicensingService, Query, Verdict};
use keymanager::envato::{ClientConfig, EnvatoClient};
use keymanager::license_key::LicenseKey;
use keymanager::licensing::{self, LicenseAction};
use keymanager::lookup::{self, LookupVerdict};
use keymanager::model::{LicenseStatus, NewProduct};
use keymanager::signing::{Signer, SignerCell};
use keymanager::store::SharedStore;
use keymanager::store::{LicenseFilter, LicenseSort, SupportFilter, SyncTrigger};
use keymanager::sync::run_sync;
use keymanager::time::Timestamp;
use keymanager::token::Token;
use keymanager::verify::Verifier;
use keymanager::{ErrorCode, Store};
use std::time::Duration;

fn now() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
}

async fn sandbox() -> RunningSandbox {
    RunningSandbox::start(GenSpec { seed: 13, items: 9, sales: 60, days: 60, now: now() }, Switches::default())
        .await
        .unwrap()
}

fn client(sb: &RunningSandbox) -> EnvatoClient {
    let mut c = ClientConfig::new(&sb.base_url());
    c.backoff_base = Duration::from_millis(5);
    EnvatoClient::new(c, Token::parse(data::SELLER_TOKEN).unwrap()).unwrap()
}

fn store(auto_create: bool) -> SharedStore {
    let mut s = Store::open_in_memory().unwrap();
    s.update_settings(&[("auto_create_products".into(), auto_create.to_string())], now()).unwrap();
    SharedStore::new(s)
}

/// A sale of the sandbox with the wanted shape.
fn find_sale(sb: &RunningSandbox, f: impl Fn(&envato_sandbox::data::SaleRec) -> bool) -> envato_sandbox::data::SaleRec {
    sb.dataset().sales.into_iter().find(|s| f(s)).expect("the generated data has such a sale")
}

#[tokio::test]
async fn a_valid_code_creates_its_license_and_then_answers_from_the_database() {
    let sb = sandbox().await;
    let st = store(true);
    let sale = find_sale(&sb, |s| s.buyer.is_some() && s.supported_until.is_some());
    let c = client(&sb);
    let r = lookup::lookup(
        &st,
        Some(&Verifier::for_client(st.clone(), c.clone())),
        &format!("  {}  ", sale.code.to_uppercase()),
        now(),
    )
    .await
    .unwrap();
    assert_eq!(r.verdict, LookupVerdict::Valid);
    assert!(r.from_envato);
    let l = r.license.as_ref().unwrap();
    assert_eq!(l.purchase_code.as_deref(), Some(sale.code.as_str()));
    assert_eq!(l.buyer, sale.buyer);
    assert_eq!(l.envato_item_id, Some(sale.item_id));
    assert!(l.item_name.is_some() && l.marketplace.is_some());
    assert!(l.purchase_count.unwrap() >= 1);
    let support = r.support.unwrap();
    assert_eq!(support.expired, sale.supported_until.unwrap().with_timezone(&Utc) <= now());
    assert!(support.days_left.is_some());

    sb.reset_stats();
    let again =
        lookup::lookup(&st, Some(&Verifier::for_client(st.clone(), c.clone())), &sale.code, now()).await.unwrap();
    assert!(!again.from_envato && !again.stale);
    assert_eq!(again.license.unwrap().id, l.id);
    assert_eq!(sb.stats().total, 0, "a known code answers with no request");
    let history = st.lock().lookup_history(10).unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].verdict, "valid");
}

#[tokio::test]
async fn guest_buyer_and_no_support_are_shown_as_such() {
    let sb = sandbox().await;
    let st = store(true);
    let guest = find_sale(&sb, |s| s.buyer.is_none());
    let r =
        lookup::lookup(&st, Some(&Verifier::for_client(st.clone(), client(&sb))), &guest.code, now()).await.unwrap();
    assert_eq!(r.license.as_ref().unwrap().buyer, None);
    let unsupported = find_sale(&sb, |s| s.supported_until.is_none());
    let r = lookup::lookup(&st, Some(&Verifier::for_client(st.clone(), client(&sb))), &unsupported.code, now())
        .await
        .unwrap();
    let s = r.support.unwrap();
    assert_eq!((s.until, s.days_left, s.expired), (None, None, false));
}

#[tokio::test]
async fn unknown_codes_in_both_variants_and_malformed_codes() {
    let sb = sandbox().await;
    let st = store(true);
    let c = client(&sb);
    let unknown = "a67f4582-95d6-4019-81f3-75d1ebe3a071";
    assert_eq!(
        lookup::lookup(&st, Some(&Verifier::for_client(st.clone(), c.clone())), unknown, now()).await.unwrap().verdict,
        LookupVerdict::NotASale
    );
    sb.update_switches(|s| s.variants.unknown_code_status = 200);
    assert_eq!(
        lookup::lookup(&st, Some(&Verifier::for_client(st.clone(), c.clone())), unknown, now()).await.unwrap().verdict,
        LookupVerdict::NotASale
    );
    sb.reset_stats();
    let r = lookup::lookup(&st, Some(&Verifier::for_client(st.clone(), c.clone())), "1234-5678-90123", now())
        .await
        .unwrap();
    assert_eq!(r.verdict, LookupVerdict::Malformed);
    assert!(r.message.contains("36 characters"));
    assert_eq!(sb.stats().total, 0, "no request for a malformed code");
    assert_eq!(st.lock().license_counts().unwrap().total, 0);
}

#[tokio::test]
async fn a_sale_of_another_item_of_the_sellers_maps_to_that_items_product() {
    let sb = sandbox().await;
    let st = store(false);
    let items = sb.dataset().items;
    let (a, b) = (items[0].id, items[1].id);
    let pa = st
        .lock()
        .create_product(&NewProduct { name: "A".into(), envato_item_ids: Some(vec![a]), ..Default::default() }, now())
        .unwrap();
    let pb = st
        .lock()
        .create_product(&NewProduct { name: "B".into(), envato_item_ids: Some(vec![b]), ..Default::default() }, now())
        .unwrap();
    let sale_b = sb.add_sale(NewSale { item_id: b, buyer: Some("bob".into()), ..Default::default() }).unwrap();
    let r =
        lookup::lookup(&st, Some(&Verifier::for_client(st.clone(), client(&sb))), &sale_b.code, now()).await.unwrap();
    assert_eq!(r.license.unwrap().product_id, pb.id);
    assert_ne!(pa.id, pb.id);
    // An item no product matches, with Auto-Create off: valid, waiting in the review queue.
    let c_item = items[2].id;
    let sale_c = sb.add_sale(NewSale { item_id: c_item, ..Default::default() }).unwrap();
    let r =
        lookup::lookup(&st, Some(&Verifier::for_client(st.clone(), client(&sb))), &sale_c.code, now()).await.unwrap();
    assert_eq!(r.verdict, LookupVerdict::Valid);
    assert!(r.waiting_for_product && r.license.is_none());
    assert_eq!(st.lock().review_queue().unwrap()[0].item_id, c_item);
}

#[tokio::test]
async fn verifying_attaches_the_code_to_the_synced_sale_that_lacked_it() {
    let sb = sandbox().await;
    let st = store(true);
    run_sync(&st, &client(&sb), SyncTrigger::Manual, &now, &mut |_| {}).await.unwrap();
    let before = st.lock().license_counts().unwrap().total;
    let sale = find_sale(&sb, |s| s.buyer.is_some());
    let r = lookup::lookup(&st, Some(&Verifier::for_client(st.clone(), client(&sb))), &sale.code, now()).await.unwrap();
    let l = r.license.unwrap();
    assert_eq!(l.purchase_code.as_deref(), Some(sale.code.as_str()));
    assert_eq!(l.buyer, sale.buyer, "the buyer comes with the verified code");
    assert_eq!(st.lock().license_counts().unwrap().total, before, "no new license: the synced one got the code");
    // And the next sync does not add it again.
    run_sync(&st, &client(&sb), SyncTrigger::Manual, &now, &mut |_| {}).await.unwrap();
    assert_eq!(st.lock().license_counts().unwrap().total, before);
}

#[tokio::test]
async fn a_code_looked_up_first_is_not_duplicated_by_a_later_sync() {
    let sb = sandbox().await;
    let st = store(true);
    let sale = find_sale(&sb, |_| true);
    lookup::lookup(&st, Some(&Verifier::for_client(st.clone(), client(&sb))), &sale.code, now()).await.unwrap();
    run_sync(&st, &client(&sb), SyncTrigger::Manual, &now, &mut |_| {}).await.unwrap();
    assert_eq!(st.lock().license_counts().unwrap().total, 60);
}

#[tokio::test]
async fn stale_data_is_refreshed_and_a_refund_is_flagged_never_revoked() {
    let sb = sandbox().await;
    let st = store(true);
    let c = client(&sb);
    let sale = find_sale(&sb, |s| s.buyer.is_some());
    lookup::lookup(&st, Some(&Verifier::for_client(st.clone(), c.clone())), &sale.code, now()).await.unwrap();
    let later = now() + CDuration::hours(7);
    let r = lookup::lookup(&st, Some(&Verifier::for_client(st.clone(), c.clone())), &sale.code, later).await.unwrap();
    assert!(r.stale, "older than six hours");
    let fresh = lookup::refresh(&st, &c, &sale.code, later).await.unwrap();
    assert!(!fresh.stale && fresh.verdict == LookupVerdict::Valid);
    let item = sb.dataset().items.into_iter().find(|i| i.id == sale.item_id).unwrap();
    assert_eq!(fresh.license.as_ref().unwrap().item_name.as_deref(), Some(item.name.as_str()), "item data refreshed");
    assert_eq!(fresh.license.unwrap().envato_checked_at.as_deref(), Some(keymanager::time::to_db(later).as_str()));

    sb.refund(&sale.code).unwrap();
    let flagged = lookup::refresh(&st, &c, &sale.code, later).await.unwrap();
    assert_eq!(flagged.verdict, LookupVerdict::NoLongerRecognised);
    assert!(flagged.message.contains("refund or reversal"));
    let l = flagged.license.unwrap();
    assert_eq!(l.status, LicenseStatus::Active, "never revoked automatically");
    assert_eq!(l.envato_flag.as_deref(), Some("not_recognised"));
    let audit = st.lock().audit_for_license(l.id).unwrap();
    assert!(audit.iter().any(|a| a.action == "license.envato_not_recognised"));
}

#[tokio::test]
async fn without_a_token_known_codes_still_answer() {
    let sb = sandbox().await;
    let st = store(true);
    let sale = find_sale(&sb, |_| true);
    lookup::lookup(&st, Some(&Verifier::for_client(st.clone(), client(&sb))), &sale.code, now()).await.unwrap();
    assert_eq!(lookup::lookup(&st, None, &sale.code, now()).await.unwrap().verdict, LookupVerdict::Valid);
    let err = lookup::lookup(&st, None, "a67f4582-95d6-4019-81f3-75d1ebe3a071", now()).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::TokenNotConfigured);
}

fn seeded(n: usize) -> (Store, i64, Vec<i64>) {
    let mut s = Store::open_in_memory().unwrap();
    let p = s
        .create_product(&NewProduct { name: "Plugin".into(), activation_limit: Some(2), ..Default::default() }, now())
        .unwrap();
    let ids = (0..n)
        .map(|i| {
            s.issue_license(
                &keymanager::store::NewLicense {
                    product_id: p.id,
                    buyer: Some(format!("buyer{i:03}")),
                    ..Default::default()
                },
                now(),
            )
            .unwrap()
            .id
        })
        .collect();
    (s, p.id, ids)
}

#[test]
fn lifecycle_transitions_are_audited_with_their_reasons() {
    let (mut s, _, ids) = seeded(1);
    let id = ids[0];
    let l = licensing::change_status(&mut s, id, LicenseAction::Suspend, "Chargeback under review", now()).unwrap();
    assert_eq!(l.status, LicenseStatus::Suspended);
    let l = licensing::change_status(&mut s, id, LicenseAction::Reactivate, "Resolved", now()).unwrap();
    assert_eq!(l.status, LicenseStatus::Active);
    let l = licensing::change_status(&mut s, id, LicenseAction::Revoke, "Refunded on Envato", now()).unwrap();
    assert_eq!(l.status, LicenseStatus::Revoked);
    let err = licensing::change_status(&mut s, id, LicenseAction::Suspend, "x", now()).unwrap_err();
    assert_eq!(err.code, ErrorCode::LicenseInvalidTransition);
    let err = licensing::change_status(&mut s, id, LicenseAction::Reactivate, "   ", now()).unwrap_err();
    assert_eq!(err.code, ErrorCode::InputInvalid, "a reason is required");
    let trail: Vec<(String, String)> =
        s.audit_for_license(id).unwrap().into_iter().map(|a| (a.action, a.message)).skip(1).collect();
    assert_eq!(
        trail,
        [
            ("license.suspended".to_string(), "Chargeback under review".to_string()),
            ("license.reactivated".to_string(), "Resolved".to_string()),
            ("license.revoked".to_string(), "Refunded on Envato".to_string()),
        ]
    );

    let old = s.license(id).unwrap().unwrap().license_key;
    let l = licensing::regenerate_key(&mut s, id, "Key leaked on a forum", now()).unwrap();
    assert_ne!(l.license_key, old);
    let d = licensing::detail(&s, id, now()).unwrap();
    assert_eq!(d.key_history[0].license_key, old);
    assert!(d.audit.iter().any(|a| a.action == "license.key_regenerated"));
}

#[test]
fn a_validation_reads_the_license_and_its_activation_in_one_statement() {
    let (mut s, _, ids) = seeded(2);
    let key = LicenseKey::parse(&s.license(ids[0]).unwrap().unwrap().license_key).unwrap();
    let other = LicenseKey::parse(&s.license(ids[1]).unwrap().unwrap().license_key).unwrap();
    s.activate(&key, "site-a.example", None, licensing::refuse_if_not_active, now()).unwrap();
    s.activate(&other, "site-b.example", None, licensing::refuse_if_not_active, now()).unwrap();
    let (l, activated) = s.license_by_key_checking(&key, None).unwrap().unwrap();
    assert_eq!((l.id, l.activations_used, activated), (ids[0], 1, None));
    assert_eq!(l, s.license(ids[0]).unwrap().unwrap(), "the same license as every other read gives");
    // Activated there, without a site ("" is "no site recorded").
    let at = keymanager::store::ActivationSite {
        site: String::new(),
        environment: keymanager::site::Environment::Production,
    };
    assert_eq!(s.license_by_key_checking(&key, Some("site-a.example")).unwrap().unwrap().1, Some(Some(at)));
    // Another license's activation is not this one's.
    assert_eq!(s.license_by_key_checking(&key, Some("site-b.example")).unwrap().unwrap().1, Some(None));
    let unknown = LicenseKey::generate().unwrap();
    assert!(s.license_by_key_checking(&unknown, Some("site-a.example")).unwrap().is_none());
}

/// The licensing service (what HTTP, the CLI and the buyer page call), asked in types.
fn service(s: Store) -> (SharedStore, LicensingService) {
    let shared = SharedStore::new(s);
    let signer = std::sync::Arc::new(SignerCell::fixed(Signer::generate().unwrap()));
    (shared.clone(), LicensingService::new(shared, None, signer))
}

fn asked(key: &str, fingerprint: Option<&str>) -> Query {
    Query::of(LicenseRef::Key(key.to_string()), fingerprint)
}

#[tokio::test]
async fn activations_respect_the_limit_are_idempotent_and_refused_when_not_active() {
    let (s, _, ids) = seeded(1);
    let (key, id) = (s.license(ids[0]).unwrap().unwrap().license_key, ids[0]);
    let (shared, svc) = service(s);
    let seller = keymanager::verify::Asker::Seller;
    let activate = async |k: &str, fp: &str, label: Option<&str>| {
        let mut q = asked(k, Some(fp));
        q.label = label.map(str::to_string);
        svc.activate(&q.checked().unwrap(), 7, seller, now()).await.unwrap()
    };
    let ActivateVerdict::Activated(a) = activate(&key, "site-a.example", Some("  Production ")).await else {
        panic!("the first activation is made")
    };
    assert!(a.new && a.license.activations_used == 1);
    let claims = keymanager::signing::verify_certificate(&svc.signer().public_key(), &a.certificate).unwrap();
    assert_eq!((claims.key.as_str(), claims.fingerprint.as_str()), (key.as_str(), "site-a.example"));
    let again = activate(&key.to_lowercase(), "site-a.example", None).await;
    assert_eq!(again.code(), ApiCode::AlreadyActivated);
    let ActivateVerdict::Activated(again) = again else { unreachable!() };
    assert!(!again.new && again.activation.id == a.activation.id, "same installation: no new slot");
    assert_eq!(again.activation.label.as_deref(), Some("Production"), "the label is trimmed");
    assert_eq!(activate(&key, "site-b.example", None).await.code(), ApiCode::Activated);
    let full = activate(&key, "site-c.example", None).await;
    assert_eq!(full.code(), ApiCode::ActivationLimitExceeded);
    assert_eq!(full.license().map(|l| l.activations_used), Some(2), "the license as it stands");

    let v = svc.validate(&asked(&key, Some("site-a.example")), seller, now()).await.unwrap();
    assert!(matches!(v, Verdict::Valid(_)), "{v:?}");
    let v = svc.validate(&asked(&key, Some("site-z.example")), seller, now()).await.unwrap();
    assert_eq!(v.code(), ApiCode::NotActivated);
    let v = svc.validate(&asked(LicenseKey::generate().unwrap().as_str(), None), seller, now()).await.unwrap();
    assert_eq!(v, Verdict::NotFound);
    let mut other = asked(&key, None);
    other.product_id = Some(9_999);
    assert_eq!(svc.validate(&other, seller, now()).await.unwrap(), Verdict::ProductMismatch);

    let freed = svc.deactivate(&asked(&key, Some("site-b.example")), 5, seller, now()).await.unwrap();
    assert_eq!(freed.license().map(|l| l.activations_used), Some(1));
    assert_eq!(activate(&key, "site-c.example", None).await.code(), ApiCode::Activated);
    let none = svc.deactivate(&asked(&key, Some("nowhere")), 5, seller, now()).await.unwrap();
    assert_eq!(none, DeactivateVerdict::NotActivated);
    // The seller frees a slot from the UI.
    let d = shared
        .run(move |s| {
            let act = s.activations(id)?[0].id;
            licensing::free_slot(s, id, act, now())
        })
        .await
        .unwrap();
    assert_eq!(d.activations.len(), 1);

    shared.run(move |s| licensing::change_status(s, id, LicenseAction::Suspend, "Review", now())).await.unwrap();
    assert_eq!(activate(&key, "site-d", None).await, ActivateVerdict::Suspended);
    assert_eq!(svc.validate(&asked(&key, None), seller, now()).await.unwrap().code(), ApiCode::Suspended);
    shared.run(move |s| licensing::change_status(s, id, LicenseAction::Revoke, "Refund", now())).await.unwrap();
    assert_eq!(activate(&key, "site-d", None).await, ActivateVerdict::Revoked);

    // A mistyped key names no license; an overlong one is refused before anything is asked.
    let mut typo = key.clone().into_bytes();
    typo[0] = if typo[0] == b'A' { b'B' } else { b'A' };
    assert_eq!(activate(std::str::from_utf8(&typo).unwrap(), "x", None).await, ActivateVerdict::NotFound);
    assert!(asked(&"K".repeat(101), None).checked().is_err());
    assert!(asked(&key, Some("tab\there")).checked().is_err());
}

/// The wire layer encodes the service's verdict: same code, detail and license, plus the
/// request's echo and nonce, signed as sent.
#[tokio::test]
async fn the_wire_answer_is_the_services_verdict_encoded() {
    let (s, _, ids) = seeded(1);
    let key = s.license(ids[0]).unwrap().unwrap().license_key;
    let (_, svc) = service(s);
    let seller = keymanager::verify::Asker::Seller;
    for fp in [None, Some("site-a.example")] {
        let verdict = svc.validate(&asked(&key, fp), seller, now()).await.unwrap();
        let body = serde_json::json!({ "key": key, "fingerprint": fp, "nonce": "n-1" }).to_string();
        let a = keymanager::api::wire::validate(&svc, body.as_bytes(), seller, now()).await;
        let v: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
        assert_eq!((a.status, a.code), (200, verdict.code()));
        assert_eq!(v["detail"], verdict.detail());
        assert_eq!(v["nonce"], "n-1");
        assert_eq!(v["license"]["key"], key);
        assert_eq!(v["request"]["fingerprint"], serde_json::json!(fp));
        assert_eq!(v["valid"], matches!(verdict, Verdict::Valid(_)));
    }
    let a = keymanager::api::wire::activate(&svc, br#"{"key":"x","nonce":"n-2"}"#, 7, seller, now()).await;
    let v: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
    assert_eq!((a.status, a.code, v["nonce"].as_str()), (400, ApiCode::BadRequest, Some("n-2")));
}

#[test]
fn paging_filters_sorts_and_search() {
    let (mut s, pid, ids) = seeded(250);
    licensing::change_status(&mut s, ids[10], LicenseAction::Suspend, "r", now()).unwrap();
    let mut seen = Vec::new();
    let mut f = LicenseFilter { limit: Some(100), ..Default::default() };
    loop {
        let page = s.license_page(&f, now()).unwrap();
        seen.extend(page.licenses.iter().map(|l| l.id));
        match page.next_cursor {
            Some(c) => f.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen.len(), 250);
    assert!(seen.windows(2).all(|w| w[0] > w[1]));
    let oldest = s
        .license_page(&LicenseFilter { sort: Some(LicenseSort::Oldest), limit: Some(3), ..Default::default() }, now())
        .unwrap();
    assert_eq!(oldest.licenses.iter().map(|l| l.id).collect::<Vec<_>>(), ids[..3]);
    let suspended =
        s.license_page(&LicenseFilter { status: Some(LicenseStatus::Suspended), ..Default::default() }, now()).unwrap();
    assert_eq!(suspended.licenses.len(), 1);
    let by_product = s
        .license_page(&LicenseFilter { product_id: Some(pid), limit: Some(1000), ..Default::default() }, now())
        .unwrap();
    assert_eq!(by_product.licenses.len(), 250);
    let none = s
        .license_page(
            &LicenseFilter { support: Some(SupportFilter::None), limit: Some(1000), ..Default::default() },
            now(),
        )
        .unwrap();
    assert_eq!(none.licenses.len(), 250, "manual licenses have no support window");

    let key = s.license(ids[42]).unwrap().unwrap().license_key;
    let by_key =
        s.license_page(&LicenseFilter { search: Some(key.to_lowercase()), ..Default::default() }, now()).unwrap();
    assert_eq!(by_key.licenses[0].id, ids[42]);
    let by_prefix =
        s.license_page(&LicenseFilter { search: Some(key[..7].to_string()), ..Default::default() }, now()).unwrap();
    assert!(by_prefix.licenses.iter().any(|l| l.id == ids[42]));
    let by_buyer = s
        .license_page(&LicenseFilter { search: Some("BUYER04".into()), limit: Some(100), ..Default::default() }, now())
        .unwrap();
    assert_eq!(by_buyer.licenses.len(), 10, "buyer040..buyer049, case-insensitive prefix");
    let literal =
        s.license_page(&LicenseFilter { search: Some("buyer0_%".into()), ..Default::default() }, now()).unwrap();
    assert!(literal.licenses.is_empty(), "% and _ are literal");
    let err =
        s.license_page(&LicenseFilter { cursor: Some("garbage".into()), ..Default::default() }, now()).unwrap_err();
    assert_eq!(err.code, ErrorCode::InputInvalid);
}

#[tokio::test]
async fn csv_export_has_the_filtered_rows_and_no_secret() {
    let sb = sandbox().await;
    let st = store(true);
    run_sync(&st, &client(&sb), SyncTrigger::Manual, &now, &mut |_| {}).await.unwrap();
    let sale = find_sale(&sb, |s| s.buyer.is_some());
    lookup::lookup(&st, Some(&Verifier::for_client(st.clone(), client(&sb))), &sale.code, now()).await.unwrap();
    let mut out = Vec::new();
    let n = keymanager::export::write_csv(&st.lock(), &LicenseFilter::default(), now(), &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next().unwrap(), keymanager::export::COLUMNS.join(","));
    assert_eq!(n, 60);
    assert_eq!(lines.count(), 60);
    assert!(!text.contains(data::SELLER_TOKEN));
    assert!(!text.contains(&sale.code), "purchase codes stay out of exports");
    let first = st.lock().license_page(&LicenseFilter::default(), now()).unwrap().licenses[0].clone();
    assert!(text.contains(&first.license_key));
    let mut only = Vec::new();
    let filter = LicenseFilter { search: Some(sale.buyer.clone().unwrap()), ..Default::default() };
    let n = keymanager::export::write_csv(&st.lock(), &filter, now(), &mut only).unwrap();
    assert!((1..60).contains(&n));
}

/// Every IPC command is a one-line adapter onto one of these core calls: each answers hostile
/// input (SQL-looking, very long, control characters) with a coded error and writes nothing.
#[tokio::test]
async fn hostile_input_at_every_ipc_entry_point() {
    let (mut s, pid, ids) = seeded(3);
    let sql = "'; DROP TABLE licenses; --".to_string();
    let long = "é".repeat(50_000);
    let ctrl = "a\u{0}b\u{7}c".to_string();
    let settings_before = s.settings().unwrap();
    let counts_before = s.license_counts().unwrap();
    let audit_before = s.audit_recent(1000).unwrap().len();
    let coded = |r: Result<(), keymanager::Error>, what: &str| {
        let e = r.expect_err(what);
        assert!(!e.message.is_empty() && e.message.chars().count() < 1000, "{what}: readable message");
        e.code
    };

    for (k, v) in [
        (sql.clone(), "1".to_string()),
        ("history_days".into(), sql.clone()),
        ("envato_api_base".into(), long.clone()),
        ("sync_interval_minutes".into(), ctrl.clone()),
    ] {
        coded(s.update_settings(&[(k, v)], now()).map(|_| ()), "settings_update");
    }
    for bad in [
        NewProduct { name: long.clone(), ..Default::default() },
        NewProduct { name: ctrl.clone(), ..Default::default() },
        NewProduct { name: "ok".into(), sku: Some(sql.clone()), ..Default::default() },
        NewProduct { name: "ok".into(), envato_item_ids: Some(vec![-1]), ..Default::default() },
        NewProduct { name: "ok".into(), activation_limit: Some(u32::MAX), ..Default::default() },
    ] {
        coded(s.create_product(&bad, now()).map(|_| ()), "product_create");
        coded(s.update_product(pid, &bad, now()).map(|_| ()), "product_update");
    }
    for search in [sql.clone(), long.clone(), ctrl.clone(), "%".into(), "_".into()] {
        let page = s.license_page(&LicenseFilter { search: Some(search), ..Default::default() }, now()).unwrap();
        assert!(page.licenses.is_empty(), "search text is data, never SQL");
    }
    assert_eq!(
        coded(
            s.license_page(&LicenseFilter { cursor: Some(sql.clone()), ..Default::default() }, now()).map(|_| ()),
            "cursor"
        ),
        ErrorCode::InputInvalid
    );
    assert_eq!(coded(licensing::detail(&s, i64::MAX, now()).map(|_| ()), "license_detail"), ErrorCode::LicenseNotFound);
    for reason in [long.clone(), ctrl.clone(), "".into()] {
        coded(
            licensing::change_status(&mut s, ids[0], LicenseAction::Suspend, &reason, now()).map(|_| ()),
            "license_change_status",
        );
        coded(licensing::regenerate_key(&mut s, ids[0], &reason, now()).map(|_| ()), "license_regenerate_key");
    }
    coded(licensing::free_slot(&mut s, ids[0], -5, now()).map(|_| ()), "license_free_slot");
    coded(s.review_create_product(i64::MIN, now()).map(|_| ()), "review_create_product");
    coded(s.review_map(1, i64::MAX, now()).map(|_| ()), "review_map");
    for key in [sql.as_str(), long.as_str(), ctrl.as_str()] {
        assert_eq!(coded(LicenseKey::parse(key).map(|_| ()), "activate"), ErrorCode::LicenseKeyMalformed);
    }
    let key = s.license(ids[1]).unwrap().unwrap().license_key;
    for instance in [long.as_str(), ctrl.as_str()] {
        assert!(asked(&key, Some(instance)).checked().is_err(), "the service's bounds refuse {instance:?}");
    }

    // Lookups and token checks of garbage never reach the network (the address is unroutable).
    let shared = SharedStore::new(Store::open_in_memory().unwrap());
    for code in [sql.as_str(), long.as_str(), ctrl.as_str()] {
        let r = lookup::lookup(&shared, None, code, now()).await.unwrap();
        assert_eq!(r.verdict, LookupVerdict::Malformed);
        assert!(r.code.chars().count() <= 60, "the echo of a long input is cut");
    }
    for token in [sql.as_str(), long.as_str(), ctrl.as_str()] {
        let (report, t) =
            keymanager::account::validate(ClientConfig::new("http://127.0.0.1:1"), token, &mut |_| {}).await;
        assert!(t.is_none());
        assert_eq!(report.error.unwrap().code, ErrorCode::EnvatoTokenFormat);
    }

    assert_eq!(s.settings().unwrap(), settings_before, "no setting changed");
    assert_eq!(s.license_counts().unwrap(), counts_before);
    assert_eq!(s.products().unwrap().len(), 1);
    assert_eq!(s.audit_recent(1000).unwrap().len(), audit_before, "nothing was written, not even to the audit trail");
}

/// A license of limit `limit` in a database file that racing threads open for themselves.
fn racing_license(limit: u32) -> (tempfile::TempDir, String, i64) {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open_in_dir(dir.path()).unwrap();
    let p = s
        .create_product(&NewProduct { name: "Race".into(), activation_limit: Some(limit), ..Default::default() }, now())
        .unwrap();
    let l = s
        .issue_license(&keymanager::store::NewLicense { product_id: p.id, buyer: None, ..Default::default() }, now())
        .unwrap();
    (dir, l.license_key, l.id)
}

/// The store's activation, as the licensing service makes it (status and limit in its transaction).
fn activate_in(s: &mut Store, key: &str, instance: &str) -> keymanager::Result<()> {
    s.activate(&LicenseKey::parse(key)?, instance, None, licensing::refuse_if_not_active, now()).map(|_| ())
}

/// Runs `f(i, store, key, license id)` on 50 threads at once, each with its own connection to the
/// database in `dir`, released together by a barrier; returns their results in order.
fn race<T: Send + 'static>(
    dir: &std::path::Path,
    key: &str,
    id: i64,
    f: impl Fn(usize, &mut Store, &str, i64) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(50));
    let f = std::sync::Arc::new(f);
    let handles: Vec<_> = (0..50)
        .map(|i| {
            let (path, key, barrier, f) = (dir.to_path_buf(), key.to_string(), barrier.clone(), f.clone());
            std::thread::spawn(move || {
                let mut s = Store::open_in_dir(&path).unwrap();
                barrier.wait();
                f(i, &mut s, &key, id)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

#[test]
fn fifty_threads_racing_for_activations_never_pass_the_limit() {
    let (dir, key, id) = racing_license(5);
    let results = race(dir.path(), &key, id, |i, s, key, _| activate_in(s, key, &format!("site-{i}.example")));
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 5, "exactly the limit's worth of activations succeed");
    for r in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(r.code, ErrorCode::LicenseActivationLimit, "{}", r.message);
    }
    let s = Store::open_in_dir(dir.path()).unwrap();
    assert_eq!(s.activations(id).unwrap().len(), 5);
}

#[test]
fn fifty_threads_racing_revoke_suspend_and_activate_leave_a_consistent_history() {
    let (dir, key, id) = racing_license(1000);
    race(dir.path(), &key, id, |i, s, key, id| {
        let r = match i % 5 {
            0 => licensing::change_status(s, id, LicenseAction::Revoke, "refund", now()).map(|_| ()),
            1 => licensing::change_status(s, id, LicenseAction::Suspend, "abuse", now()).map(|_| ()),
            2 => licensing::change_status(s, id, LicenseAction::Reactivate, "ok again", now()).map(|_| ()),
            _ => activate_in(s, key, &format!("i{i}")),
        };
        if let Err(e) = &r {
            assert!(
                matches!(
                    e.code,
                    ErrorCode::LicenseInvalidTransition | ErrorCode::LicenseRevoked | ErrorCode::LicenseSuspended
                ),
                "{:?}: {}",
                e.code,
                e.message
            );
        }
    });
    // Replaying the audit trail in commit order must reach the stored status through legal
    // transitions only, and every activation must have happened while the license was active.
    let s = Store::open_in_dir(dir.path()).unwrap();
    let mut audit = s.audit_for_license(id).unwrap();
    audit.sort_by_key(|a| a.id);
    let mut status = LicenseStatus::Active;
    let mut activations = 0;
    for a in &audit {
        status = match a.action.as_str() {
            "license.revoked" => keymanager::licensing::transition(status, LicenseAction::Revoke).unwrap(),
            "license.suspended" => keymanager::licensing::transition(status, LicenseAction::Suspend).unwrap(),
            "license.reactivated" => keymanager::licensing::transition(status, LicenseAction::Reactivate).unwrap(),
            "activation.created" => {
                assert_eq!(status, LicenseStatus::Active, "an activation was recorded while {status:?}");
                activations += 1;
                status
            }
            _ => status,
        };
    }
    assert_eq!(s.license(id).unwrap().unwrap().status, status, "the stored status is the replayed one");
    assert_eq!(s.activations(id).unwrap().len(), activations);
}
