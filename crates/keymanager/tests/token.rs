//! Token validation against the sandbox for each outcome, saving only after validation, and
//! the token never reaching the database or any reply.

use chrono::{TimeZone, Utc};
use envato_sandbox::data::{self, GenSpec};
use envato_sandbox::{RunningSandbox, Switches};
use keymanager::account::{self, StepKind, StepState, ValidationReport, ValidationStep};
use keymanager::envato::ClientConfig;
use keymanager::keychain::Keychain;
use keymanager::{time, ErrorCode, Store};
use std::time::Duration;

async fn sandbox() -> RunningSandbox {
    let spec =
        GenSpec { seed: 3, items: 9, sales: 20, days: 30, now: Utc.with_ymd_and_hms(2026, 11, 28, 0, 0, 0).unwrap() };
    RunningSandbox::start(spec, Switches::default()).await.unwrap()
}

fn cfg(base: &str) -> ClientConfig {
    let mut c = ClientConfig::new(base);
    c.requests_per_second = 0.0;
    c.backoff_base = Duration::from_millis(5);
    c.backoff_max = Duration::from_millis(20);
    c
}

async fn validate(
    base: &str,
    token: &str,
) -> (ValidationReport, Vec<ValidationStep>, Option<keymanager::token::Token>) {
    let mut seen = Vec::new();
    let (report, token) = account::validate(cfg(base), token, &mut |s| seen.push(s.clone())).await;
    (report, seen, token)
}

fn states(r: &ValidationReport) -> Vec<(StepKind, StepState)> {
    r.steps.iter().map(|s| (s.kind, s.state)).collect()
}

fn assert_no_token_in(text: &str, token: &str) {
    assert!(!text.contains(token), "the token leaked into: {text}");
}

#[tokio::test]
async fn a_valid_token_passes_every_step_and_is_saved_only_to_the_keychain() {
    let sb = sandbox().await;
    let (report, seen, token) = validate(&sb.base_url(), &format!("  {}\n", data::SELLER_TOKEN)).await;
    assert!(report.ok, "{report:?}");
    use StepKind::*;
    use StepState::*;
    assert_eq!(states(&report), [(Format, Passed), (Connection, Passed), (Permissions, Passed), (Items, Passed)]);
    // Each step was reported as it ran, then as it completed.
    let order: Vec<(StepKind, StepState)> = seen.iter().map(|s| (s.kind, s.state)).collect();
    assert_eq!(
        order,
        [
            (Format, Passed),
            (Connection, Running),
            (Connection, Passed),
            (Permissions, Passed),
            (Items, Running),
            (Items, Passed)
        ]
    );
    assert_eq!(report.username.as_deref(), Some(data::SELLER));
    assert_eq!(report.items_count, Some(9));
    assert!(report.steps[3].detail.contains("9 items"), "{}", report.steps[3].detail);

    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_in_dir(dir.path()).unwrap();
    let keychain = Keychain::in_memory();
    let now = time::parse("2026-11-28T10:00:00Z").unwrap();
    let status = account::save(&mut store, &keychain, token.as_ref().unwrap(), &report, now).unwrap();
    assert!(status.configured);
    assert_eq!(status.token_hint.as_deref(), Some("••••0001"));
    assert_eq!(status.username.as_deref(), Some(data::SELLER));
    assert_eq!(status.age_days, Some(0));
    assert_eq!(keychain.load().unwrap().unwrap().expose(), data::SELLER_TOKEN);

    // Nowhere but the keychain: not the replies, not the database file or its WAL.
    assert_no_token_in(&serde_json::to_string(&report).unwrap(), data::SELLER_TOKEN);
    assert_no_token_in(&serde_json::to_string(&status).unwrap(), data::SELLER_TOKEN);
    drop(store);
    let mut seller_found = false;
    for entry in std::fs::read_dir(dir.path()).unwrap().flatten() {
        let bytes = std::fs::read(entry.path()).unwrap();
        seller_found |= bytes.windows(data::SELLER.len()).any(|w| w == data::SELLER.as_bytes());
        assert!(!bytes.windows(32).any(|w| w == data::SELLER_TOKEN.as_bytes()), "{:?}", entry.path());
    }
    assert!(seller_found, "positive control: the saved account (its username) is in the files searched");
}

#[tokio::test]
async fn a_malformed_token_fails_the_format_step_without_a_request() {
    let sb = sandbox().await;
    let (report, _, token) = validate(&sb.base_url(), "abc-123").await;
    assert!(!report.ok && token.is_none());
    assert_eq!(report.steps[0].state, StepState::Failed);
    assert_eq!(report.steps[0].title, "Invalid token format");
    assert_eq!(report.steps[0].solution.as_deref(), Some("Copy the entire token, including all characters"));
    assert!(report.steps[1..].iter().all(|s| s.state == StepState::Skipped));
    assert_eq!(report.error.unwrap().code, ErrorCode::EnvatoTokenFormat);
    assert_eq!(sb.stats().total, 0);
}

#[tokio::test]
async fn an_unauthorized_token_fails_the_connection_step() {
    let sb = sandbox().await;
    let (report, _, _) = validate(&sb.base_url(), data::REVOKED_TOKEN).await;
    assert_eq!(states(&report)[1], (StepKind::Connection, StepState::Failed));
    assert_eq!(report.steps[1].title, "Token expired");
    assert_eq!(report.steps[1].solution.as_deref(), Some("Generate a new token from Envato"));
    assert_eq!(report.error.unwrap().code, ErrorCode::EnvatoUnauthorized);
    assert_eq!(sb.stats().total, 1, "401 is not retried");
}

#[tokio::test]
async fn a_token_without_sales_history_names_the_missing_permission() {
    let sb = sandbox().await;
    let (report, _, _) = validate(&sb.base_url(), data::NO_SALES_SCOPE_TOKEN).await;
    assert_eq!(states(&report)[2], (StepKind::Permissions, StepState::Failed));
    assert_eq!(report.missing_scopes.len(), 1);
    assert_eq!(report.missing_scopes[0].scope, "sale:history");
    assert_eq!(report.missing_scopes[0].label, "View your items' sales history");
    assert!(report.create_token_url.contains("sale:history=t"));
    assert_eq!(report.steps[2].cause.as_deref(), Some("Missing permissions"));
    assert_eq!(report.steps[3].state, StepState::Skipped);
}

#[tokio::test]
async fn a_seller_with_no_items_fails_the_last_step() {
    let sb = sandbox().await;
    let (report, _, _) = validate(&sb.base_url(), data::NO_ITEMS_TOKEN).await;
    assert_eq!(states(&report)[3], (StepKind::Items, StepState::Failed));
    assert_eq!(report.steps[3].title, "No items found");
    assert_eq!(report.error.unwrap().code, ErrorCode::EnvatoNoItems);
}

#[tokio::test]
async fn envato_unreachable_fails_the_connection_step_quickly() {
    let sb = sandbox().await;
    let base = sb.base_url();
    sb.stop().await;
    let t = std::time::Instant::now();
    let (report, _, _) = validate(&base, data::SELLER_TOKEN).await;
    assert_eq!(report.steps[1].title, "API connection failed");
    assert_eq!(report.steps[1].solution.as_deref(), Some("Wait and retry; check Envato's status page"));
    assert_eq!(report.error.unwrap().code, ErrorCode::EnvatoConnectionFailed);
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_replacement_is_stored_only_after_it_validates() {
    let sb = sandbox().await;
    let mut store = Store::open_in_memory().unwrap();
    let keychain = Keychain::in_memory();
    let now = time::parse("2026-11-28T10:00:00Z").unwrap();
    let (report, _, token) = validate(&sb.base_url(), data::SELLER_TOKEN).await;
    account::save(&mut store, &keychain, &token.unwrap(), &report, now).unwrap();

    let (bad, _, none) = validate(&sb.base_url(), data::NO_ITEMS_TOKEN).await;
    assert!(none.is_none());
    let parsed = keymanager::token::Token::parse(data::NO_ITEMS_TOKEN).unwrap();
    assert_eq!(account::save(&mut store, &keychain, &parsed, &bad, now).unwrap_err().code, ErrorCode::EnvatoNoItems);
    assert_eq!(keychain.load().unwrap().unwrap().expose(), data::SELLER_TOKEN, "the old token stays");
    assert_eq!(account::status(&store, &keychain, now).unwrap().username.as_deref(), Some(data::SELLER));
}

#[tokio::test]
async fn a_token_revoked_after_it_was_saved_shows_on_the_next_check() {
    let sb = sandbox().await;
    let mut store = Store::open_in_memory().unwrap();
    let keychain = Keychain::in_memory();
    let t0 = time::parse("2026-11-28T10:00:00Z").unwrap();
    let (report, _, token) = validate(&sb.base_url(), data::SELLER_TOKEN).await;
    account::save(&mut store, &keychain, &token.unwrap(), &report, t0).unwrap();

    sb.revoke_token(data::SELLER_TOKEN);
    let t1 = time::parse("2026-11-28T11:00:00Z").unwrap();
    let (shared, keychain) = (keymanager::store::SharedStore::new(store), std::sync::Arc::new(keychain));
    let check = account::recheck(&shared, keychain.clone(), cfg(&sb.base_url()), &mut |_| {}, t1).await.unwrap();
    assert!(!check.ok);
    let store = shared.lock();
    let status = account::status(&store, &keychain, t1).unwrap();
    assert_eq!(status.last_check_ok, Some(false));
    assert_eq!(status.last_error.unwrap().code, ErrorCode::EnvatoUnauthorized);
    assert_eq!(status.validated_at.as_deref(), Some("2026-11-28T10:00:00Z"), "last good validation kept");
    assert!(store.audit_recent(5).unwrap().iter().any(|a| a.action == "token.check_failed"));
}

#[tokio::test]
async fn removing_forgets_the_token_and_keeps_licenses() {
    let sb = sandbox().await;
    let mut store = Store::open_in_memory().unwrap();
    let keychain = Keychain::in_memory();
    let now = time::parse("2026-11-28T10:00:00Z").unwrap();
    let p =
        store.create_product(&keymanager::model::NewProduct { name: "P".into(), ..Default::default() }, now).unwrap();
    store
        .issue_license(&keymanager::store::NewLicense { product_id: p.id, buyer: None, ..Default::default() }, now)
        .unwrap();
    let (report, _, token) = validate(&sb.base_url(), data::SELLER_TOKEN).await;
    account::save(&mut store, &keychain, &token.unwrap(), &report, now).unwrap();
    let status = account::remove(&mut store, &keychain, now).unwrap();
    assert!(!status.configured && status.token_hint.is_none());
    assert!(keychain.load().unwrap().is_none());
    assert_eq!(store.licenses(&keymanager::store::LicenseQuery { limit: 10, ..Default::default() }).unwrap().len(), 1);
    let shared = keymanager::store::SharedStore::new(store);
    let err = account::recheck(&shared, std::sync::Arc::new(keychain), cfg(&sb.base_url()), &mut |_| {}, now)
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::TokenNotConfigured);
}
