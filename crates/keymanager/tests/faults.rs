//! The fault matrix: every fault the sandbox injects, during a sync and during a lookup.
//! Passing faults must leave exactly the right licenses; lasting ones must fail with their
//! stable code, and a sync after they clear must complete the data. Nothing may panic.

use chrono::{TimeZone, Utc};
use envato_sandbox::check::assert_every_sale_once;
use envato_sandbox::data::{self, GenSpec};
use envato_sandbox::{Fault, RunningSandbox, Switches};
use keymanager::envato::{ClientConfig, EnvatoClient};
use keymanager::lookup::{self, LookupVerdict};
use keymanager::store::SharedStore;
use keymanager::store::{SyncRunStatus, SyncTrigger};
use keymanager::sync::run_sync;
use keymanager::sync::SyncOptions;
use keymanager::time::Timestamp;
use keymanager::token::Token;
use keymanager::verify::Verifier;
use keymanager::{ErrorCode, Store};
use std::time::Duration;

fn now() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
}

async fn sandbox() -> RunningSandbox {
    let sb =
        RunningSandbox::start(GenSpec { seed: 99, items: 5, sales: 120, days: 60, now: now() }, Switches::default())
            .await
            .unwrap();
    sb.update_switches(|s| s.variants.page_size = 20);
    sb
}

fn client(sb: &RunningSandbox) -> EnvatoClient {
    let mut c = ClientConfig::new(&sb.base_url());
    c.max_attempts = 3;
    c.backoff_base = Duration::from_millis(5);
    c.backoff_max = Duration::from_millis(20);
    c.retry_after_default = Duration::from_millis(30);
    c.request_timeout = Duration::from_millis(400);
    EnvatoClient::new(c, Token::parse(data::SELLER_TOKEN).unwrap()).unwrap()
}

fn store() -> SharedStore {
    let mut s = Store::open_in_memory().unwrap();
    s.update_settings(&[("auto_create_products".into(), "true".into())], now()).unwrap();
    SharedStore::new(s)
}

/// The licenses are exactly the sandbox's sales: each once.
fn assert_exact(st: &SharedStore, sb: &RunningSandbox) {
    let licenses =
        st.lock().licenses(&keymanager::store::LicenseQuery { limit: 10_000, ..Default::default() }).unwrap();
    let licensed: Vec<_> =
        licenses.into_iter().map(|l| (l.envato_item_id.unwrap(), l.sold_at.unwrap(), l.license_key)).collect();
    assert_every_sale_once(&sb.dataset(), None, &licensed);
}

/// What a fault does when it does not go away: the error code the run or lookup ends with.
fn lasting_code(fault: Fault) -> ErrorCode {
    match fault {
        Fault::RateLimit => ErrorCode::EnvatoRateLimited,
        Fault::Truncate | Fault::NotJson => ErrorCode::EnvatoBadResponse,
        Fault::Firewall => ErrorCode::EnvatoFirewallBlocked,
        Fault::ServerError | Fault::Unavailable | Fault::Drop | Fault::Hang | Fault::Unprocessable => {
            ErrorCode::EnvatoConnectionFailed
        }
    }
}

const RETRIED: [Fault; 7] = [
    Fault::RateLimit,
    Fault::ServerError,
    Fault::Unavailable,
    Fault::Drop,
    Fault::Hang,
    Fault::Truncate,
    Fault::NotJson,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passing_faults_mid_sync_leave_exactly_the_right_licenses() {
    for retry_after in [Some(0), None] {
        for fault in RETRIED {
            let sb = sandbox().await;
            sb.update_switches(|s| s.variants.retry_after_secs = retry_after);
            let st = store();
            let inject = sb.sandbox.clone();
            let mut injected = false;
            let summary = run_sync(&st, &client(&sb), SyncTrigger::Manual, &now, &mut |p| {
                if p.pages_fetched == 2 && !injected {
                    // Two in a row: fewer than the client's three attempts.
                    inject.update_switches(|s| s.faults.fail_next.extend([fault, fault]));
                    injected = true;
                }
            })
            .await
            .unwrap();
            // Positive control: the faults were injected and served (the queue is empty).
            assert!(injected, "{fault:?} was injected");
            assert!(sb.switches().faults.fail_next.is_empty(), "{fault:?} was served");
            assert_eq!(
                summary.status,
                SyncRunStatus::Succeeded,
                "{fault:?} (Retry-After {retry_after:?}): {:?}",
                summary.error
            );
            assert_exact(&st, &sb);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lasting_faults_mid_sync_fail_with_their_code_then_recover() {
    for fault in RETRIED.into_iter().chain([Fault::Firewall]) {
        let sb = sandbox().await;
        let st = store();
        let inject = sb.sandbox.clone();
        let summary = run_sync(&st, &client(&sb), SyncTrigger::Manual, &now, &mut |p| {
            if p.pages_fetched == 2 && inject.switches().faults.fail_next.is_empty() {
                inject.update_switches(|s| s.faults.fail_next.extend([fault; 10]));
            }
        })
        .await
        .unwrap();
        // Positive control: some of the faults were served (the rest wait in the queue).
        let left = sb.switches().faults.fail_next.len();
        assert!(left < 10, "{fault:?}: none of the injected faults was served");
        assert_eq!(summary.status, SyncRunStatus::Failed, "{fault:?}");
        assert_eq!(summary.error.as_ref().unwrap().code, lasting_code(fault), "{fault:?}");
        let runs = st.lock().sync_runs(1).unwrap();
        assert_eq!(runs[0].error.as_ref().unwrap().code, lasting_code(fault), "logged with its code");
        sb.update_switches(|s| s.faults.fail_next.clear());
        let again = run_sync(&st, &client(&sb), SyncTrigger::Manual, &now, &mut |_| {}).await.unwrap();
        assert_eq!(again.status, SyncRunStatus::Succeeded, "{fault:?}");
        assert_exact(&st, &sb);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_during_a_lookup() {
    let sb = sandbox().await;
    let code = sb.dataset().sales[7].code.clone();
    for fault in RETRIED {
        let st = store();
        sb.update_switches(|s| s.faults.fail_next.extend([fault, fault]));
        sb.reset_stats();
        let r = lookup::lookup(&st, Some(&Verifier::for_client(st.clone(), client(&sb))), &code, now()).await.unwrap();
        assert_eq!(r.verdict, LookupVerdict::Valid, "{fault:?} passing");
        // Positive control: both faults were served before the answer (three requests).
        assert!(sb.switches().faults.fail_next.is_empty(), "{fault:?} was served");
        assert_eq!(sb.stats().by_endpoint["sale"], 3, "{fault:?}: two faults, then the answer");
        let st = store();
        sb.update_switches(|s| s.faults.fail_next.extend([fault; 5]));
        let err =
            lookup::lookup(&st, Some(&Verifier::for_client(st.clone(), client(&sb))), &code, now()).await.unwrap_err();
        assert_eq!(err.code, lasting_code(fault), "{fault:?} lasting");
        sb.update_switches(|s| s.faults.fail_next.clear());
    }
    // The firewall's plain-text 403 is not retried and says what it is.
    let st = store();
    sb.update_switches(|s| s.faults.fail_next.push_back(Fault::Firewall));
    assert_eq!(
        lookup::lookup(&st, Some(&Verifier::for_client(st.clone(), client(&sb))), &code, now()).await.unwrap_err().code,
        ErrorCode::EnvatoFirewallBlocked
    );
    // 422 and the 200-with-404-body reply both mean "not a sale of yours".
    sb.update_switches(|s| s.faults.fail_next.push_back(Fault::Unprocessable));
    assert_eq!(
        lookup::lookup(&st, Some(&Verifier::for_client(st.clone(), client(&sb))), &code, now()).await.unwrap().verdict,
        LookupVerdict::NotASale
    );
    sb.update_switches(|s| s.variants.unknown_code_status = 200);
    let unknown = "0123abcd-0000-4000-8000-00000000beef";
    assert_eq!(
        lookup::lookup(&st, Some(&Verifier::for_client(st.clone(), client(&sb))), unknown, now())
            .await
            .unwrap()
            .verdict,
        LookupVerdict::NotASale
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_reply_is_refused_without_reading_it_all() {
    let sb = sandbox().await;
    let code = sb.dataset().sales[3].code.clone();
    // Just under the cap the same answer is accepted (the padding is an extra field).
    sb.update_switches(|s| s.faults.oversize_body_bytes = 3 * 1024 * 1024);
    let st = store();
    assert_eq!(
        lookup::lookup(&st, Some(&Verifier::for_client(st.clone(), client(&sb))), &code, now()).await.unwrap().verdict,
        LookupVerdict::Valid
    );
    // Past it: a clear bad-response error, not retried, nothing written.
    sb.update_switches(|s| s.faults.oversize_body_bytes = 64 * 1024 * 1024);
    sb.reset_stats();
    let st = store();
    let err =
        lookup::lookup(&st, Some(&Verifier::for_client(st.clone(), client(&sb))), &code, now()).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::EnvatoBadResponse);
    assert!(err.message.contains("larger than 4 MB"), "{}", err.message);
    assert_eq!(sb.stats().total, 1, "an oversized reply is not asked for again");
    let summary = run_sync(&st, &client(&sb), SyncTrigger::Manual, &now, &mut |_| {}).await.unwrap();
    assert_eq!(summary.error.unwrap().code, ErrorCode::EnvatoBadResponse);
    assert_eq!(st.lock().license_counts().unwrap().total, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sales_list_that_does_not_end_stops_at_the_page_limit() {
    let sb = sandbox().await; // 120 sales, 20 a page: 6 pages
    let st = store();
    let mut logged = 0;
    let summary = keymanager::sync::run_sync(
        &st,
        &client(&sb),
        SyncOptions { max_pages: 3, ..SyncTrigger::Manual.into() },
        &now,
        &mut |_| {},
    )
    .await
    .unwrap();
    let err = summary.error.expect("the run stops at the limit");
    assert_eq!(err.code, ErrorCode::EnvatoBadResponse);
    assert!(err.message.contains("3 pages"), "{}", err.message);
    assert_eq!(summary.pages_fetched, 3);
    for run in st.lock().sync_runs(5).unwrap() {
        if run.error.is_some() {
            logged += 1;
        }
    }
    assert_eq!(logged, 1, "the stop is in the Sync log");
    // Nothing is lost: a run with the normal limit completes the data.
    let again = run_sync(&st, &client(&sb), SyncTrigger::Manual, &now, &mut |_| {}).await.unwrap();
    assert_eq!(again.status, SyncRunStatus::Succeeded);
    assert_exact(&st, &sb);
    const { assert!(keymanager::sync::MAX_PAGES >= 1000, "the real limit is far above any history") };
}
