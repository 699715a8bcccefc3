//! `keymanager lookup`, activations and the license lifecycle from the command line.

use chrono::Utc;
use envato_sandbox::data::{self, GenSpec};
use envato_sandbox::{RunningSandbox, Switches};
use std::process::{Command, Output, Stdio};

mod common;
use common::Env;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_activate_suspend_export() {
    let sb = RunningSandbox::start(
        GenSpec { seed: 31, items: 4, sales: 40, days: 60, now: Utc::now() },
        Switches::default(),
    )
    .await
    .unwrap();
    let env = Env::with_sandbox(&sb.base_url());
    assert!(env.run(&["token", "set"], data::SELLER_TOKEN).status.success());
    assert!(env.run(&["settings", "set", "auto_create_products", "on"], "").status.success());
    let sale = sb.dataset().sales.into_iter().find(|s| s.buyer.is_some() && s.supported_until.is_some()).unwrap();

    let (code, out, err) = env.out(&["lookup", &sale.code]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("VALID: "), "{out}");
    assert!(out.contains(&format!("Buyer:          {}", sale.buyer.as_deref().unwrap())), "{out}");
    assert!(out.contains("Support until:") && out.contains("License key:"), "{out}");
    let (code, json, _) = env.out(&["lookup", &sale.code, "--json"]);
    assert_eq!(code, 0);
    let r: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(r["from_envato"], false, "the second look-up answers from the database");
    let key = r["license"]["license_key"].as_str().unwrap().to_string();
    let id = r["license"]["id"].as_i64().unwrap().to_string();

    assert_eq!(env.out(&["lookup", "a67f4582-95d6-4019-81f3-75d1ebe3a071"]).0, 3);
    sb.reset_stats();
    let (code, out, _) = env.out(&["lookup", "not-a-code"]);
    assert_eq!((code, out.starts_with("MALFORMED")), (3, true));
    assert_eq!(sb.stats().total, 0);

    // The licensing API's codes, as a product would get them over HTTP.
    let (code, out, err) = env.out(&["activate", &key, "--instance", "shop.example", "--label", "Live"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("ACTIVATED: ") && out.contains("(1 of 1 activations used)"), "{out}");
    assert!(env.out(&["activate", &key, "--instance", "shop.example"]).1.starts_with("ALREADY_ACTIVATED: "));
    assert_eq!(env.out(&["validate", &key, "--instance", "shop.example"]).0, 0);
    let (code, out, _) = env.out(&["activate", &key, "--instance", "second.example"]);
    assert_eq!(code, 3, "the default limit is 1");
    assert!(out.starts_with("ACTIVATION_LIMIT_EXCEEDED: "), "{out}");
    let (code, v, _) = env.out(&["validate", &key, "--instance", "nowhere.example", "--json"]);
    assert_eq!(code, 3);
    assert!(v.contains("\"NOT_ACTIVATED\"") && !v.contains(&sale.code), "the API's answer, without the code: {v}");

    assert_eq!(env.out(&["licenses", "suspend", &id, "--reason", "Chargeback"]).0, 0);
    let (code, out, _) = env.out(&["validate", &key]);
    assert_eq!((code, out.starts_with("SUSPENDED: ")), (3, true), "{out}");
    let (code, out, _) = env.out(&["activate", &key, "--instance", "x"]);
    assert_eq!((code, out.starts_with("SUSPENDED: ")), (3, true), "{out}");
    assert_eq!(env.out(&["licenses", "reactivate", &id, "--reason", "Resolved"]).0, 0);
    let (_, show, _) = env.out(&["licenses", "show", &id]);
    assert!(
        show.contains("license.suspended") && show.contains("Chargeback") && show.contains("license.reactivated"),
        "{show}"
    );
    assert_eq!(env.out(&["licenses", "suspend", &id, "--reason", ""]).0, 1, "a reason is required");

    let csv = env.dir.path().join("out.csv");
    let (code, out, _) = env.out(&["licenses", "export", "--output", csv.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(out.starts_with("Wrote 1 licenses"), "{out}");
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.contains(&key) && !text.contains(&sale.code) && !text.contains(data::SELLER_TOKEN));
    let (_, stdout_csv, _) = env.out(&["licenses", "export", "--status", "revoked"]);
    assert_eq!(stdout_csv.lines().count(), 1, "header only");
}

/// Fifty `keymanager` processes at once on one database: the limit holds across processes, and
/// a revoke racing activations leaves no activation recorded after it.
#[test]
fn fifty_processes_racing_for_activations_never_pass_the_limit() {
    let env = Env::new();
    let (code, _, err) = env.out(&["products", "add", "--name", "Race", "--activation-limit", "5"]);
    assert_eq!(code, 0, "{err}");
    let (code, key, err) = env.out(&["licenses", "issue", "--product", "1"]);
    assert_eq!(code, 0, "{err}");
    let key = key.trim().to_string();
    let spawn = |args: Vec<String>| {
        Command::new(env!("CARGO_BIN_EXE_keymanager"))
            .args(&args)
            .env("KEYMANAGER_DATA_DIR", env.dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let children: Vec<_> = (0..50)
        .map(|i| spawn(vec!["activate".into(), key.clone(), "--instance".into(), format!("site-{i}")]))
        .collect();
    let outs: Vec<Output> = children.into_iter().map(|c| c.wait_with_output().unwrap()).collect();
    let ok = outs.iter().filter(|o| o.status.success()).count();
    assert_eq!(ok, 5, "exactly the limit's worth of processes activate");
    for o in outs.iter().filter(|o| !o.status.success()) {
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(3));
        assert!(stdout.starts_with("ACTIVATION_LIMIT_EXCEEDED: "), "{stdout}{}", String::from_utf8_lossy(&o.stderr));
    }
    // A revoke racing 49 activations of a fresh license: none may land after the revoke.
    let (_, key2, _) = env.out(&["licenses", "issue", "--product", "1"]);
    let key2 = key2.trim().to_string();
    let mut children =
        vec![spawn(vec!["licenses".into(), "revoke".into(), "2".into(), "--reason".into(), "refund".into()])];
    children
        .extend((0..49).map(|i| spawn(vec!["activate".into(), key2.clone(), "--instance".into(), format!("m-{i}")])));
    for c in children {
        c.wait_with_output().unwrap();
    }
    let (code, detail, err) = env.out(&["licenses", "show", "2", "--json"]);
    assert_eq!(code, 0, "{err}");
    let d: serde_json::Value = serde_json::from_str(&detail).unwrap();
    assert_eq!(d["license"]["status"], "revoked");
    let mut audit: Vec<(i64, String)> = d["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["id"].as_i64().unwrap(), a["action"].as_str().unwrap().to_string()))
        .collect();
    audit.sort();
    let revoked_at = audit.iter().position(|(_, a)| a == "license.revoked").expect("the revoke is audited");
    assert!(
        audit[revoked_at..].iter().all(|(_, a)| a != "activation.created"),
        "an activation was recorded after the revoke: {audit:?}"
    );
    let created = audit.iter().filter(|(_, a)| a == "activation.created").count();
    assert_eq!(d["activations"].as_array().unwrap().len(), created.min(5));
}

/// A genuine purchase whose item has no product yet (Auto-Create off) still shows what was
/// sold; the CSV export is private; a token saved for one Envato address goes to no other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_without_a_license_shows_the_sale_and_the_token_stays_with_its_address() {
    let spec = || GenSpec { seed: 32, items: 3, sales: 20, days: 60, now: Utc::now() };
    let sb = RunningSandbox::start(spec(), Switches::default()).await.unwrap();
    let other = RunningSandbox::start(spec(), Switches::default()).await.unwrap();
    let env = Env::with_sandbox(&sb.base_url());
    assert!(env.run(&["token", "set"], data::SELLER_TOKEN).status.success());
    let sale = sb.dataset().sales.into_iter().find(|s| s.buyer.is_some()).unwrap();
    let (code, out, err) = env.out(&["lookup", &sale.code]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("review queue"), "{out}");
    assert!(out.contains(&format!("Buyer:          {}", sale.buyer.as_deref().unwrap())), "{out}");
    assert!(
        out.contains("License type:   Regular License") || out.contains("License type:   Extended License"),
        "{out}"
    );
    assert!(out.contains(" USD"), "amounts show their currency: {out}");
    assert!(out.contains("Sold at:        20"), "{out}");
    let (_, json, _) = env.out(&["lookup", &sale.code, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["license"], serde_json::Value::Null);
    assert_eq!(v["sale"]["buyer"], sale.buyer.as_deref().unwrap());
    assert_eq!(v["sale"]["currency"], "USD");
    assert_eq!(v["sale"]["item_id"], sale.item_id);

    let csv = env.dir.path().join("out.csv");
    assert_eq!(env.out(&["licenses", "export", "--output", csv.to_str().unwrap()]).0, 0);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&csv).unwrap().permissions().mode() & 0o777, 0o600);

    // Pointed at another address, the stored token is not there, and nothing is sent.
    other.reset_stats();
    let o = Command::new(env!("CARGO_BIN_EXE_keymanager"))
        .args(["sync"])
        .env("KEYMANAGER_DATA_DIR", env.dir.path())
        .env("KEYMANAGER_ENVATO_API_BASE", other.base_url())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).starts_with("error[token.not_configured]"), "{o:?}");
    assert_eq!(other.stats().total, 0, "the token never reached the other address");
    // A non-loopback override is refused before anything is sent.
    let o = Command::new(env!("CARGO_BIN_EXE_keymanager"))
        .args(["--envato-api-base", "https://evil.example", "sync"])
        .env("KEYMANAGER_DATA_DIR", env.dir.path())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).starts_with("error[input.invalid]"), "{o:?}");
}
