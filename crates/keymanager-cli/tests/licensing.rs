//! `keymanager lookup`, activations and the license lifecycle from the command line.

use chrono::Utc;
use envato_sandbox::data::{self, GenSpec};
use envato_sandbox::{RunningSandbox, Switches};
use std::io::Write;
use std::process::{Command, Output, Stdio};

struct Env {
    dir: tempfile::TempDir,
    base: String,
}

impl Env {
    fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_keymanager"))
            .args(args)
            .env("KEYMANAGER_DATA_DIR", self.dir.path())
            .env("KEYMANAGER_ENVATO_API_BASE", &self.base)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }
    fn out(&self, args: &[&str]) -> (i32, String, String) {
        let o = self.run(args, "");
        (
            o.status.code().unwrap(),
            String::from_utf8_lossy(&o.stdout).to_string(),
            String::from_utf8_lossy(&o.stderr).to_string(),
        )
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = self.run(&["token", "remove"], "");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_activate_suspend_export() {
    let sb = RunningSandbox::start(
        GenSpec { seed: 31, items: 4, sales: 40, days: 60, now: Utc::now() },
        Switches::default(),
    )
    .await
    .unwrap();
    let env = Env { dir: tempfile::tempdir().unwrap(), base: sb.base_url() };
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

    let (code, out, _) = env.out(&["activate", &key, "--instance", "shop.example", "--label", "Live"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("Activated on “shop.example”"), "{out}");
    assert!(env.out(&["activate", &key, "--instance", "shop.example"]).1.starts_with("Already active"));
    assert_eq!(env.out(&["validate", &key, "--instance", "shop.example"]).0, 0);
    let (code, _, err) = env.out(&["activate", &key, "--instance", "second.example"]);
    assert_eq!(code, 1, "the default limit is 1");
    assert!(err.starts_with("error[license.activation_limit]"), "{err}");

    assert_eq!(env.out(&["licenses", "suspend", &id, "--reason", "Chargeback"]).0, 0);
    assert_eq!(env.out(&["validate", &key]).0, 3);
    let (code, _, err) = env.out(&["activate", &key, "--instance", "x"]);
    assert_eq!((code, err.starts_with("error[license.suspended]")), (1, true));
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
