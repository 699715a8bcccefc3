//! `keymanager token …` end to end: the real keychain (scripts/test.sh provides a D-Bus session
//! with GNOME Keyring), the sandbox as Envato, and a search for the token in everything the CLI
//! printed or wrote.

use chrono::{TimeZone, Utc};
use envato_sandbox::data::{self, GenSpec};
use envato_sandbox::{RunningSandbox, Switches};
use std::io::Write;
use std::process::{Command, Output, Stdio};

struct Env {
    dir: tempfile::TempDir,
    base: String,
    /// Everything printed so far, for the leak check.
    printed: std::cell::RefCell<Vec<u8>>,
}

impl Env {
    fn new(sb: &RunningSandbox) -> Env {
        Env { dir: tempfile::tempdir().unwrap(), base: sb.base_url(), printed: Default::default() }
    }

    fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_keymanager"))
            .args(args)
            .env("KEYMANAGER_DATA_DIR", self.dir.path())
            .env("KEYMANAGER_ENVATO_API_BASE", &self.base)
            .env("KEYMANAGER_LOG", "trace")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        self.printed.borrow_mut().extend_from_slice(&out.stdout);
        self.printed.borrow_mut().extend_from_slice(&out.stderr);
        out
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.run(args, "");
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn stderr(out: &Output) -> String {
        String::from_utf8_lossy(&out.stderr).to_string()
    }

    /// The token appears in nothing the CLI printed, nor in the database, its WAL or shm.
    fn assert_no_leak(&self, token: &str) {
        let printed = self.printed.borrow();
        assert!(!printed.windows(token.len()).any(|w| w == token.as_bytes()), "token in CLI output");
        for entry in std::fs::read_dir(self.dir.path()).unwrap().flatten() {
            let bytes = std::fs::read(entry.path()).unwrap();
            assert!(!bytes.windows(token.len()).any(|w| w == token.as_bytes()), "token in {:?}", entry.path());
        }
    }

    fn cleanup(&self) {
        self.run(&["token", "remove"], "");
    }
}

async fn sandbox() -> RunningSandbox {
    let spec =
        GenSpec { seed: 5, items: 6, sales: 10, days: 30, now: Utc.with_ymd_and_hms(2026, 11, 28, 0, 0, 0).unwrap() };
    RunningSandbox::start(spec, Switches::default()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_status_validate_remove() {
    let sb = sandbox().await;
    let env = Env::new(&sb);
    assert_eq!(env.json(&["token", "status", "--json"])["configured"], false);

    let out = env.run(&["token", "set"], &format!("{}\n", data::SELLER_TOKEN));
    assert!(out.status.success(), "{}", Env::stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("••••0001") && stdout.contains(data::SELLER), "{stdout}");
    let steps = Env::stderr(&out);
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
    assert!(Env::stderr(&out).contains("error[token.not_configured]"));
    env.assert_no_leak(data::SELLER_TOKEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_store_nothing_and_say_why() {
    let sb = sandbox().await;
    let env = Env::new(&sb);

    let out = env.run(&["token", "set"], "not-a-token\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(Env::stderr(&out).contains("error[envato.token_format]"), "{}", Env::stderr(&out));
    assert!(Env::stderr(&out).contains("Solution: Copy the entire token"));

    let out = env.run(&["token", "set"], data::NO_SALES_SCOPE_TOKEN);
    assert_eq!(out.status.code(), Some(1));
    let err = Env::stderr(&out);
    assert!(
        err.contains("error[envato.missing_permission]") && err.contains("View your items' sales history"),
        "{err}"
    );

    let out = env.run(&["token", "set", "--json"], data::NO_ITEMS_TOKEN);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["steps"][3]["title"], "No items found");

    let out = env.run(&["token", "set"], data::REVOKED_TOKEN);
    assert!(Env::stderr(&out).contains("error[envato.unauthorized]"));

    assert_eq!(env.json(&["token", "status", "--json"])["configured"], false, "nothing was stored");
    // The token is never accepted as an argument.
    assert_eq!(env.run(&["token", "set", data::SELLER_TOKEN], "").status.code(), Some(2));
    for t in [data::NO_SALES_SCOPE_TOKEN, data::NO_ITEMS_TOKEN, data::REVOKED_TOKEN] {
        env.assert_no_leak(t);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_fails_validation_and_the_status_says_so() {
    let sb = sandbox().await;
    let env = Env::new(&sb);
    assert!(env.run(&["token", "set"], data::SELLER_TOKEN).status.success());
    sb.revoke_token(data::SELLER_TOKEN);
    let out = env.run(&["token", "validate"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(Env::stderr(&out).contains("error[envato.unauthorized]"));
    let status = env.json(&["token", "status", "--json"]);
    assert_eq!(status["last_check_ok"], false);
    assert_eq!(status["last_error"]["code"], "envato.unauthorized");
    env.cleanup();
    env.assert_no_leak(data::SELLER_TOKEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_data_folders_keep_separate_tokens() {
    let sb = sandbox().await;
    let a = Env::new(&sb);
    let b = Env::new(&sb);
    assert!(a.run(&["token", "set"], data::SELLER_TOKEN).status.success());
    assert_eq!(b.json(&["token", "status", "--json"])["configured"], false);
    a.cleanup();
}
