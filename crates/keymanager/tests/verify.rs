//! The verifier of purchase codes not seen yet, against the sandbox: its budgets hold for
//! anonymous clients (two in flight, per minute, per client and per IPv6 /64), the seller's own
//! lookups are not charged, and the circuit answers at once while Envato rate-limits.

use chrono::{TimeZone, Utc};
use envato_sandbox::data::{self, GenSpec};
use envato_sandbox::{Fault, RunningSandbox, Switches};
use keymanager::envato::{ClientConfig, EnvatoClient, PurchaseCode};
use keymanager::store::SharedStore;
use keymanager::sync::worker::ClientSource;
use keymanager::time::Timestamp;
use keymanager::token::Token;
use keymanager::verify::{Asker, Budgets, Verified, Verifier};
use keymanager::Store;
use std::net::IpAddr;
use std::time::{Duration, Instant};

fn now() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
}

async fn sandbox() -> RunningSandbox {
    RunningSandbox::start(GenSpec { seed: 5, items: 3, sales: 20, days: 30, now: now() }, Switches::default())
        .await
        .unwrap()
}

fn verifier(sb: &RunningSandbox, budgets: Budgets) -> (Verifier, SharedStore) {
    let store = SharedStore::new(Store::open_in_memory().unwrap());
    let client =
        EnvatoClient::new(ClientConfig::new(&sb.base_url()), Token::parse(data::SELLER_TOKEN).unwrap()).unwrap();
    let clients = ClientSource::from_fns(|| Ok(true), move || Ok(Some(client.clone())));
    (Verifier::with_budgets(store.clone(), clients, budgets), store)
}

fn code(i: usize) -> PurchaseCode {
    PurchaseCode::parse(&format!("0123abcd-0000-4000-8000-{i:012x}")).unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn anonymous_clients_never_have_more_than_two_codes_in_flight() {
    let sb = sandbox().await;
    sb.update_switches(|s| s.faults.latency_ms = 300);
    let (v, _) = verifier(&sb, Budgets::default());
    let asks: Vec<_> = (0..10)
        .map(|i| {
            let v = v.clone();
            tokio::spawn(async move { v.verify(&code(i), Asker::Client(ip(&format!("198.51.100.{i}"))), now()).await })
        })
        .collect();
    for a in asks {
        assert!(matches!(a.await.unwrap(), Verified::Unknown | Verified::RateLimited { .. }));
    }
    let stats = sb.stats();
    assert_eq!(stats.max_in_flight, 2, "two at once, no more (and the test did overlap them): {stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_client_and_each_ipv6_64_has_its_own_hourly_budget() {
    let sb = sandbox().await;
    let budgets = Budgets { per_client_per_hour: 3, ..Budgets::default() };
    let (v, _) = verifier(&sb, budgets);
    for i in 0..3 {
        let a = v.verify(&code(i), Asker::Client(ip("2001:db8:1:2::1")), now()).await;
        assert!(matches!(a, Verified::Unknown), "{a:?}");
    }
    // Another address in the same /64 is the same client.
    let a = v.verify(&code(3), Asker::Client(ip("2001:db8:1:2:ffff::9")), now()).await;
    assert!(matches!(a, Verified::RateLimited { retry_after } if retry_after > 60), "{a:?}");
    // Another /64 is not; nor is the seller, whose lookups are never charged.
    assert!(matches!(v.verify(&code(4), Asker::Client(ip("2001:db8:1:3::1")), now()).await, Verified::Unknown));
    for i in 5..10 {
        assert!(matches!(v.verify(&code(i), Asker::Seller, now()).await, Verified::Unknown));
    }
    assert_eq!(sb.stats().by_endpoint["sale"], 9, "refused questions were not asked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_wide_budget_holds_across_clients() {
    let sb = sandbox().await;
    let (v, _) = verifier(&sb, Budgets { per_minute: 5, ..Budgets::default() });
    for i in 0..5 {
        assert!(matches!(
            v.verify(&code(i), Asker::Client(ip(&format!("192.0.2.{i}"))), now()).await,
            Verified::Unknown
        ));
    }
    let a = v.verify(&code(9), Asker::Client(ip("192.0.2.99")), now()).await;
    assert!(matches!(a, Verified::RateLimited { .. }), "{a:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_negative_cache_is_for_clients_and_a_found_sale_ends_it() {
    let sb = sandbox().await;
    let (v, store) = verifier(&sb, Budgets::default());
    let who = Asker::Client(ip("203.0.113.5"));
    assert!(matches!(v.verify(&code(1), who, now()).await, Verified::Unknown));
    assert!(matches!(v.verify(&code(1), who, now()).await, Verified::Unknown));
    assert_eq!(sb.stats().by_endpoint["sale"], 1, "the second answer came from the cache");
    // A day later Envato is asked again.
    let later = now() + chrono::Duration::hours(25);
    assert!(matches!(v.verify(&code(1), who, later).await, Verified::Unknown));
    assert_eq!(sb.stats().by_endpoint["sale"], 2);
    // The seller's own lookup always asks (and may find what a client could not yet).
    assert!(matches!(v.verify(&code(1), Asker::Seller, later).await, Verified::Unknown));
    assert_eq!(sb.stats().by_endpoint["sale"], 3);
    assert!(store.read(move |s| s.code_known_unknown(code(1).as_str(), later)).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_envato_rate_limits_clients_are_told_at_once() {
    let sb = sandbox().await;
    sb.update_switches(|s| {
        s.variants.retry_after_secs = Some(40);
        s.faults.fail_next.push_back(Fault::RateLimit);
    });
    let (v, _) = verifier(&sb, Budgets::default());
    let started = Instant::now();
    let a = v.verify(&code(1), Asker::Client(ip("198.51.100.1")), now()).await;
    assert!(matches!(a, Verified::Unavailable { retry_after } if (35..=40).contains(&retry_after)), "{a:?}");
    let b = v.verify(&code(2), Asker::Client(ip("198.51.100.2")), now()).await;
    assert!(matches!(b, Verified::Unavailable { .. }), "{b:?}");
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    assert_eq!(sb.stats().total, 1, "the second was not asked");
}
