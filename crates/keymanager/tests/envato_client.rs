//! The Envato client against the local sandbox: every endpoint, every error class, every switch
//! for the documented unknowns, faults, and politeness (requests counted at the sandbox).

use chrono::{NaiveDate, TimeZone, Utc};
use envato_sandbox::data::{self, GenSpec};
use envato_sandbox::{Fault, RunningSandbox, Switches};
use keymanager::envato::{ClientConfig, EnvatoClient, PurchaseCode};
use keymanager::token::Token;
use keymanager::ErrorCode;
use std::time::{Duration, Instant};

fn spec() -> GenSpec {
    GenSpec { seed: 7, items: 9, sales: 120, days: 90, now: Utc.with_ymd_and_hms(2026, 11, 28, 0, 0, 0).unwrap() }
}

async fn sandbox() -> RunningSandbox {
    sandbox_with(Switches::default()).await
}

async fn sandbox_with(switches: Switches) -> RunningSandbox {
    RunningSandbox::start(spec(), switches).await.unwrap()
}

/// Fast retries for tests; politeness limits stay on unless a test changes them.
fn config(sb: &RunningSandbox) -> ClientConfig {
    let mut c = ClientConfig::new(&sb.base_url());
    c.requests_per_second = 0.0;
    c.backoff_base = Duration::from_millis(5);
    c.backoff_max = Duration::from_millis(40);
    c.retry_after_default = Duration::from_millis(300);
    c.request_timeout = Duration::from_secs(5);
    c.max_attempts = 4;
    c
}

fn client_with(token: &str, cfg: ClientConfig) -> EnvatoClient {
    EnvatoClient::new(cfg, Token::parse(token).unwrap()).unwrap()
}

fn seller(sb: &RunningSandbox) -> EnvatoClient {
    client_with(data::SELLER_TOKEN, config(sb))
}

fn a_real_code(sb: &RunningSandbox) -> (String, i64, Option<String>) {
    let s = &sb.dataset().sales[3];
    (s.code.clone(), s.item_id, s.buyer.clone())
}

fn count(sb: &RunningSandbox, endpoint: &str) -> u64 {
    sb.stats().by_endpoint.get(endpoint).copied().unwrap_or(0)
}

#[tokio::test]
async fn every_endpoint_answers() {
    let sb = sandbox().await;
    let c = seller(&sb);
    let who = c.whoami().await.unwrap();
    assert_eq!(who.user_id, Some(1_908_998));
    assert!(who.scopes.iter().any(|s| s == "sale:history"));
    assert_eq!(c.username().await.unwrap(), data::SELLER);

    let (code, item_id, buyer) = a_real_code(&sb);
    let sale = c.sale_by_code(&PurchaseCode::parse(&code.to_uppercase()).unwrap()).await.unwrap().unwrap();
    assert_eq!(sale.code.as_deref(), Some(code.as_str()));
    assert_eq!(sale.item.id, item_id);
    assert_eq!(sale.buyer, buyer);
    assert!(sale.purchase_count.unwrap() >= 1);

    // Page until the empty page; newest first; nothing lost.
    let mut all = Vec::new();
    for page in 1.. {
        let p = c.sales_page(page).await.unwrap();
        if p.is_empty() {
            break;
        }
        all.extend(p);
    }
    assert_eq!(all.len(), 120);
    assert!(all.windows(2).all(|w| w[0].sold_at >= w[1].sold_at));

    let items = c.seller_items(data::SELLER).await.unwrap();
    assert_eq!(items.len(), 9);
    assert_eq!(count(&sb, "search"), envato_sandbox_sites(), "one search per marketplace");
    let item = c.catalog_item(item_id).await.unwrap().unwrap();
    assert_eq!(item.id, item_id);
    assert!(c.catalog_item(1).await.unwrap().is_none());

    let st = c
        .statement_page(1, NaiveDate::from_ymd_opt(2026, 8, 1).unwrap(), NaiveDate::from_ymd_opt(2026, 11, 28).unwrap())
        .await
        .unwrap();
    assert_eq!(st.count, 120);
    assert!(st.entries.iter().all(|e| e.kind == "Sale"));
}

fn envato_sandbox_sites() -> u64 {
    keymanager::envato::SITES.len() as u64
}

#[tokio::test]
async fn requests_carry_bearer_token_accept_and_user_agent() {
    // A plain TCP listener shows exactly what the client sends.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 4096];
        let n = sock.read(&mut buf).await.unwrap();
        let body = r#"{"username":"x"}"#;
        let reply = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        sock.write_all(reply.as_bytes()).await.unwrap();
        String::from_utf8_lossy(&buf[..n]).to_lowercase()
    });
    let c =
        EnvatoClient::new(ClientConfig::new(&base), Token::parse("abcdEFGH1234abcdEFGH1234abcd5678").unwrap()).unwrap();
    c.username().await.unwrap();
    let request = server.await.unwrap();
    assert!(request.starts_with("get /v1/market/private/user/username.json "), "{request}");
    assert!(request.contains("authorization: bearer abcdefgh1234abcdefgh1234abcd5678"));
    assert!(request.contains("accept: application/json"));
    assert!(request.contains(&format!("user-agent: keymanager/{} (license manager)", keymanager::VERSION)));
}

#[tokio::test]
async fn unauthorized_is_not_retried() {
    let sb = sandbox().await;
    let c = client_with(data::REVOKED_TOKEN, config(&sb));
    assert_eq!(c.whoami().await.unwrap_err().code, ErrorCode::EnvatoUnauthorized);
    assert_eq!(sb.stats().total, 1);
    // An unknown token, and the plain-text 401 body variant.
    sb.update_switches(|s| s.variants.unauthorized_plain_text = true);
    let c = client_with("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", config(&sb));
    assert_eq!(c.sales_page(1).await.unwrap_err().code, ErrorCode::EnvatoUnauthorized);
    assert_eq!(sb.stats().total, 2);
}

#[tokio::test]
async fn missing_permission_names_the_scope_and_is_not_retried() {
    let sb = sandbox().await;
    let c = client_with(data::NO_SALES_SCOPE_TOKEN, config(&sb));
    let err = c.sales_page(1).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::EnvatoMissingPermission);
    assert!(err.message.contains("View your items' sales history"), "{}", err.message);
    assert_eq!(err.field.as_deref(), Some("sale:history"));
    assert_eq!(sb.stats().total, 1);
    // Verifying a code works with sale:verify alone.
    let (code, _, _) = a_real_code(&sb);
    let c = client_with(data::VERIFY_ONLY_TOKEN, config(&sb));
    assert!(c.sale_by_code(&PurchaseCode::parse(&code).unwrap()).await.unwrap().is_some());
}

#[tokio::test]
async fn firewall_block_and_422_and_not_found_are_not_retried() {
    let sb = sandbox().await;
    let c = seller(&sb);
    let (code, _, _) = a_real_code(&sb);
    let code = PurchaseCode::parse(&code).unwrap();
    sb.update_switches(|s| s.faults.fail_next.push_back(Fault::Firewall));
    assert_eq!(c.sale_by_code(&code).await.unwrap_err().code, ErrorCode::EnvatoFirewallBlocked);
    assert_eq!(sb.stats().total, 1);

    sb.update_switches(|s| s.faults.fail_next.push_back(Fault::Unprocessable));
    assert!(c.sale_by_code(&code).await.unwrap().is_none(), "422 is treated as not found");
    assert_eq!(sb.stats().total, 2);

    let unknown = PurchaseCode::parse("a67f4582-95d6-4019-81f3-75d1ebe3a071").unwrap();
    assert!(c.sale_by_code(&unknown).await.unwrap().is_none());
    assert_eq!(sb.stats().total, 3);
}

#[tokio::test]
async fn unknown_code_as_200_with_a_404_body_is_not_found() {
    let sb = sandbox().await;
    sb.update_switches(|s| s.variants.unknown_code_status = 200);
    let c = seller(&sb);
    let unknown = PurchaseCode::parse("a67f4582-95d6-4019-81f3-75d1ebe3a071").unwrap();
    assert!(c.sale_by_code(&unknown).await.unwrap().is_none());
    assert_eq!(sb.stats().total, 1);
}

#[tokio::test]
async fn a_refunded_sale_is_not_found_and_leaves_the_list() {
    let sb = sandbox().await;
    let c = seller(&sb);
    let (code, _, _) = a_real_code(&sb);
    sb.refund(&code).unwrap();
    assert!(c.sale_by_code(&PurchaseCode::parse(&code).unwrap()).await.unwrap().is_none());
    let mut n = 0;
    for page in 1.. {
        let p = c.sales_page(page).await.unwrap();
        if p.is_empty() {
            break;
        }
        n += p.len();
    }
    assert_eq!(n, 119);
}

#[tokio::test]
async fn malformed_codes_never_reach_the_network() {
    let sb = sandbox().await;
    for bad in ["1234-5678-90123", "not a code", ""] {
        assert_eq!(PurchaseCode::parse(bad).unwrap_err().code, ErrorCode::PurchaseCodeMalformed);
    }
    assert_eq!(sb.stats().total, 0);
}

#[tokio::test]
async fn sales_list_with_and_without_codes() {
    let sb = sandbox().await;
    let c = seller(&sb);
    let page = c.sales_page(1).await.unwrap();
    assert!(page.iter().all(|s| s.code.is_none() && s.buyer.is_none() && s.purchase_count.is_none()));
    sb.update_switches(|s| s.variants.sales_include_code = true);
    let page = c.sales_page(1).await.unwrap();
    assert!(page.iter().all(|s| s.code.is_some() && s.purchase_count.is_some()));
    assert!(page.iter().any(|s| s.buyer.is_none()), "guest checkouts in the data");
    assert!(page.iter().any(|s| s.buyer.is_some()));
}

#[tokio::test]
async fn the_page_size_is_not_assumed() {
    for size in [1usize, 7, 100] {
        let sb = sandbox().await;
        sb.update_switches(|s| s.variants.page_size = size);
        let c = seller(&sb);
        let mut n = 0;
        for page in 1.. {
            let p = c.sales_page(page).await.unwrap();
            if p.is_empty() {
                break;
            }
            assert!(p.len() <= size);
            n += p.len();
        }
        assert_eq!(n, 120, "page size {size}");
    }
}

#[tokio::test]
async fn retry_after_is_waited_out_and_counted() {
    let sb = sandbox().await;
    sb.update_switches(|s| {
        s.variants.retry_after_secs = Some(1);
        s.faults.fail_next.push_back(Fault::RateLimit);
    });
    let c = seller(&sb);
    let t = Instant::now();
    assert_eq!(c.sales_page(1).await.unwrap().len(), 50);
    assert!(t.elapsed() >= Duration::from_millis(950), "waited {:?}", t.elapsed());
    assert_eq!(count(&sb, "sales"), 2, "one 429, one retry");
}

#[tokio::test]
async fn without_retry_after_the_default_wait_applies() {
    let sb = sandbox().await;
    sb.update_switches(|s| {
        s.variants.retry_after_secs = None;
        s.faults.fail_next.push_back(Fault::RateLimit);
    });
    let c = seller(&sb);
    let t = Instant::now();
    c.sales_page(1).await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(290), "waited {:?}", t.elapsed());
    assert_eq!(count(&sb, "sales"), 2);
}

#[tokio::test]
async fn persistent_rate_limiting_gives_up_with_its_code() {
    let sb = sandbox().await;
    sb.update_switches(|s| {
        s.variants.retry_after_secs = Some(0);
        s.faults.rate_limit_every = 1;
    });
    let c = seller(&sb);
    assert_eq!(c.sales_page(1).await.unwrap_err().code, ErrorCode::EnvatoRateLimited);
    assert_eq!(sb.stats().total, 4, "max_attempts");
}

#[tokio::test]
async fn server_errors_drops_and_truncation_are_retried_then_succeed() {
    let sb = sandbox().await;
    let c = seller(&sb);
    for fault in [Fault::ServerError, Fault::Unavailable, Fault::Drop, Fault::Truncate, Fault::NotJson] {
        sb.reset_stats();
        sb.update_switches(|s| s.faults.fail_next.extend([fault, fault]));
        assert_eq!(c.sales_page(1).await.unwrap().len(), 50, "{fault:?}");
        assert_eq!(sb.stats().total, 3, "{fault:?}: two failures, then success");
    }
}

#[tokio::test]
async fn persistent_server_errors_end_as_connection_failed() {
    let sb = sandbox().await;
    sb.update_switches(|s| s.faults.error_rate = 1.0);
    let err = seller(&sb).sales_page(1).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::EnvatoConnectionFailed);
    assert!(err.message.contains("wait and retry"), "{}", err.message);
    assert_eq!(sb.stats().total, 4);
}

#[tokio::test]
async fn truncated_bodies_that_never_heal_are_a_bad_response() {
    let sb = sandbox().await;
    sb.update_switches(|s| s.faults.truncate_rate = 1.0);
    assert_eq!(seller(&sb).sales_page(1).await.unwrap_err().code, ErrorCode::EnvatoBadResponse);
}

#[tokio::test]
async fn a_hung_request_times_out_and_is_retried() {
    let sb = sandbox().await;
    sb.update_switches(|s| s.faults.fail_next.push_back(Fault::Hang));
    let mut cfg = config(&sb);
    cfg.request_timeout = Duration::from_millis(300);
    let c = client_with(data::SELLER_TOKEN, cfg);
    assert_eq!(c.sales_page(1).await.unwrap().len(), 50);
    assert_eq!(sb.stats().total, 2);
}

#[tokio::test]
async fn slow_bodies_and_latency_still_decode() {
    let sb = sandbox().await;
    sb.update_switches(|s| {
        s.faults.latency_ms = 50;
        s.faults.slow_body_ms = 1;
    });
    assert_eq!(seller(&sb).sales_page(1).await.unwrap().len(), 50);
}

#[tokio::test]
async fn sandbox_down_is_connection_failed() {
    let sb = sandbox().await;
    let cfg = config(&sb);
    sb.stop().await;
    let c = EnvatoClient::new(cfg, Token::parse(data::SELLER_TOKEN).unwrap()).unwrap();
    let err = c.whoami().await.unwrap_err();
    assert_eq!(err.code, ErrorCode::EnvatoConnectionFailed);
}

#[tokio::test]
async fn a_seller_with_no_items_is_reported() {
    let sb = sandbox().await;
    let c = client_with(data::NO_ITEMS_TOKEN, config(&sb));
    let user = c.username().await.unwrap();
    let err = c.seller_items(&user).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::EnvatoNoItems);
    assert!(err.message.contains("seller account"), "{}", err.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn at_most_three_requests_in_flight() {
    let sb = sandbox().await;
    sb.update_switches(|s| s.faults.latency_ms = 100);
    let c = seller(&sb);
    let calls: Vec<_> = (1..=10)
        .map(|p| {
            let c = c.clone();
            tokio::spawn(async move { c.sales_page(p).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(sb.stats().max_in_flight, 3);
}

#[tokio::test]
async fn requests_are_paced_to_the_budget() {
    let sb = sandbox().await;
    let mut cfg = config(&sb);
    cfg.requests_per_second = 10.0;
    let c = client_with(data::SELLER_TOKEN, cfg);
    let t = Instant::now();
    for p in 1..=6 {
        c.sales_page(p).await.unwrap();
    }
    // Six starts at 10 per second: the last starts 0.5 s after the first.
    assert!(t.elapsed() >= Duration::from_millis(480), "{:?}", t.elapsed());
}

#[tokio::test]
async fn a_sale_added_while_running_appears_first() {
    let sb = sandbox().await;
    let item = sb.dataset().items[0].id;
    let added = sb
        .add_sale(envato_sandbox::NewSale { item_id: item, buyer: Some("late-buyer".into()), ..Default::default() })
        .unwrap();
    sb.update_switches(|s| s.variants.sales_include_code = true);
    let first = seller(&sb).sales_page(1).await.unwrap().remove(0);
    assert_eq!(first.code.as_deref(), Some(added.code.as_str()));
    assert_eq!(first.buyer.as_deref(), Some("late-buyer"));
}
