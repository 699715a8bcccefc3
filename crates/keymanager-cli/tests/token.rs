//! `keymanager token …` end to end: the real keychain (scripts/test.sh provides a D-Bus session
//! with GNOME Keyring), the sandbox as Envato, and a search for the token in everything the CLI
//! printed or wrote.

use chrono::{TimeZone, Utc};
use envato_sandbox::data::{self, GenSpec};
use envato_sandbox::{RunningSandbox, Switches};
use std::process::Output;

mod common;
use common::Env;

fn env(sb: &RunningSandbox) -> Env {
    Env::with_sandbox(&sb.base_url()).traced()
}

fn stderr(out: &Output) -> String {
    common::text(&out.stderr)
}

/// The token appears in nothing the CLI printed, nor in the database, its WAL or shm. A marker
/// planted first (a product's name, printed and written) must be found by the same searches,
/// so a search that cannot see into a surface fails instead of proving nothing.
fn assert_no_leak(env: &Env, token: &str) {
    let marker = format!("LEAKMARKER{}", std::process::id());
    assert!(env.run(&["products", "add", "--name", &marker], "").status.success());
    assert!(env.printed_contains(&marker), "positive control: the marker is in the CLI output");
    assert!(!env.printed_contains(token), "token in CLI output");
    let mut marker_found = false;
    for entry in std::fs::read_dir(env.dir.path()).unwrap().flatten() {
        let bytes = std::fs::read(entry.path()).unwrap();
        marker_found |= common::contains(&bytes, marker.as_bytes());
        assert!(!common::contains(&bytes, token.as_bytes()), "token in {:?}", entry.path());
    }
    assert!(marker_found, "positive control: the marker is in the database files");
}

async fn sandbox() -> RunningSandbox {
    let spec =
        GenSpec { seed: 5, items: 6, sales: 10, days: 30, now: Utc.with_ymd_and_hms(2026, 11, 28, 0, 0, 0).unwrap() };
    RunningSandbox::start(spec, Switches::default()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_status_validate_remove() {
    let sb = sandbox().await;
    let env = env(&sb);
    assert_eq!(env.json(&["token", "status", "--json"])["configured"], false);

    let out = env.run(&["token", "set"], &format!("{}\n", data::SELLER_TOKEN));
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("••••0001") && stdout.contains(data::SELLER), "{stdout}");
    let steps = stderr(&out);
    for step in ["✓ Token format", "✓ Connection to Envato", "✓ Permissions", "✓ Items for sale"] {
        assert!(steps.contains(step), "{steps}");
    }

    let status = env.json(&["token", "status", "--json"]);
    assert_eq!(status["configured"], true);
    assert_eq!(status["token_hint"], "••••0001");
    assert_eq!(status["username"], data::SELLER);
    assert_eq!(status["age_days"], 0);
    assert_eq!(status["rotation_due"], false);
    let text = String::from_utf8_lossy(&env.run(&["token", "status"], "").stdout).to_string();
    assert!(text.contains("Account:        demo-author"), "{text}");

    let report = env.json(&["token", "validate", "--json"]);
    assert_eq!(report["ok"], true);
    assert_eq!(report["items_count"], 6);

    let out = env.run(&["token", "remove"], "");
    assert!(out.status.success());
    assert_eq!(env.json(&["token", "status", "--json"])["configured"], false);
    let out = env.run(&["token", "validate"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("error[token.not_configured]"));
    assert_no_leak(&env, data::SELLER_TOKEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_store_nothing_and_say_why() {
    let sb = sandbox().await;
    let env = env(&sb);

    let out = env.run(&["token", "set"], "not-a-token\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("error[envato.token_format]"), "{}", stderr(&out));
    assert!(stderr(&out).contains("Solution: Copy the entire token"));

    let out = env.run(&["token", "set"], data::NO_SALES_SCOPE_TOKEN);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("error[envato.missing_permission]") && err.contains("View your items' sales history"),
        "{err}"
    );

    let out = env.run(&["token", "set", "--json"], data::NO_ITEMS_TOKEN);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["steps"][3]["title"], "No items found");

    let out = env.run(&["token", "set"], data::REVOKED_TOKEN);
    assert!(stderr(&out).contains("error[envato.unauthorized]"));

    assert_eq!(env.json(&["token", "status", "--json"])["configured"], false, "nothing was stored");
    // The token is never accepted as an argument.
    assert_eq!(env.run(&["token", "set", data::SELLER_TOKEN], "").status.code(), Some(2));
    for t in [data::NO_SALES_SCOPE_TOKEN, data::NO_ITEMS_TOKEN, data::REVOKED_TOKEN] {
        assert_no_leak(&env, t);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_fails_validation_and_the_status_says_so() {
    let sb = sandbox().await;
    let env = env(&sb);
    assert!(env.run(&["token", "set"], data::SELLER_TOKEN).status.success());
    sb.revoke_token(data::SELLER_TOKEN);
    let out = env.run(&["token", "validate"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("error[envato.unauthorized]"));
    let status = env.json(&["token", "status", "--json"]);
    assert_eq!(status["last_check_ok"], false);
    assert_eq!(status["last_error"]["code"], "envato.unauthorized");
    assert_no_leak(&env, data::SELLER_TOKEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_data_folders_keep_separate_tokens() {
    let sb = sandbox().await;
    let a = env(&sb);
    let b = env(&sb);
    assert!(a.run(&["token", "set"], data::SELLER_TOKEN).status.success());
    assert_eq!(b.json(&["token", "status", "--json"])["configured"], false);
}

/// A keychain that does not answer (no session bus: a locked-down desktop, a server) is a state
/// the status reports with what to do, not a failure of the status itself.
#[test]
fn a_keychain_that_does_not_answer_is_reported_with_its_fixes() {
    let env = Env::new();
    let out = env
        .cmd(&["token", "status", "--json"])
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/keymanager-test-bus")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["keychain_problem"]["error"]["code"], "keychain.unavailable", "{v}");
    let fixes = v["keychain_problem"]["fixes"].as_array().unwrap();
    assert!(fixes.iter().any(|f| f.as_str().unwrap().contains("Unlock your login keyring")), "{v}");
    assert!(fixes.iter().any(|f| f.as_str().unwrap().contains("KEYMANAGER_ENVATO_TOKEN_FILE")), "{v}");
    assert_eq!(v["configured"], false);
    // Positive control: in the test session's keyring the same command reports no problem.
    let v = env.json(&["token", "status", "--json"]);
    assert!(v["keychain_problem"].is_null(), "{v}");
    let text =
        env.cmd(&["token", "status"]).env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/x").output().unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).starts_with("The keychain did not answer"), "{text:?}");
}
