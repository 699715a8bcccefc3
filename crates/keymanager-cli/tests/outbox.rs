//! Webhooks and e-mail against real servers: a local HTTP receiver that checks every signature
//! with the Standard Webhooks library (and can answer 500, 410 or hang), and a real SMTP server
//! (Python's aiosmtpd) whose received messages the tests read. The `keymanager` binary is run as
//! a seller would run it, including kill -9 between commit and delivery.

use envato_sandbox::data::GenSpec;
use envato_sandbox::receivers::{decoded, Receiver, SmtpSink};
use envato_sandbox::{RunningSandbox, Switches};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{text, Env};

/// Adds the receiver as an endpoint; returns its id (the secret goes to the receiver).
fn add_endpoint(env: &Env, r: &Receiver, events: Option<&str>) -> i64 {
    let mut args = vec!["webhooks", "add", r.url.as_str(), "--json"];
    if let Some(e) = events {
        args.extend(["--events", e]);
    }
    let v = env.json(&args);
    let secret = v["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    r.set(|s| s.secret = Some(secret));
    v["endpoint"]["id"].as_i64().unwrap()
}

fn deliveries(env: &Env) -> Vec<Value> {
    env.json(&["webhooks", "deliveries", "--json", "--limit", "1000"]).as_array().unwrap().clone()
}

async fn sandbox(sales: usize) -> RunningSandbox {
    let spec = GenSpec { seed: 91, items: 5, sales, days: 60, now: chrono::Utc::now() };
    RunningSandbox::start(spec, Switches::default()).await.unwrap()
}

/// Webhook secrets in a private folder (a server without a keychain), checked below.
fn env_with_secrets(base: Option<&str>) -> Env {
    let env = match base {
        Some(b) => Env::with_sandbox(b),
        None => Env::new(),
    };
    let dir = env.dir.path().join("secrets");
    env.with_var("KEYMANAGER_SECRETS_DIR", dir.to_string_lossy().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_delivers_one_signed_license_created_per_license() {
    let sb = sandbox(40).await;
    let r = Receiver::start().await;
    let env = env_with_secrets(Some(&sb.base_url()));
    env.set_token();
    env.ok(&["settings", "set", "auto_create_products", "true"]);
    add_endpoint(&env, &r, Some("license.created"));
    env.ok(&["sync"]);

    let licenses = env.licenses();
    assert!(licenses.len() >= 30, "{} licenses", licenses.len());
    let got = r.got();
    assert_eq!(got.len(), licenses.len(), "one message per license, delivered before `sync` exited");
    assert!(got.iter().all(|g| g.verified), "every signature checks out with the standardwebhooks library");
    assert!(got.iter().all(|g| g.body["type"] == "license.created"), "only the chosen event type");
    let ids: HashSet<_> = got.iter().map(|g| g.id.clone()).collect();
    assert_eq!(ids.len(), got.len(), "a webhook-id per message");
    let sent: HashSet<String> = got.iter().map(|g| g.body["data"]["key"].as_str().unwrap().to_string()).collect();
    let keys: HashSet<String> = licenses.iter().map(|l| l["license_key"].as_str().unwrap().to_string()).collect();
    assert_eq!(sent, keys);
    // The secret is in the private folder, not the database; the token nowhere in a body.
    let secret = r.state.lock().unwrap().secret.clone().unwrap();
    let dump = keymanager::Store::open(&env.dir.path().join("keymanager.sqlite3")).unwrap().dump_tables(&[]).unwrap();
    assert!(!dump.contains(&secret) && !dump.contains(&secret[6..]), "the secret is not in the database");
    assert!(!dump.contains(envato_sandbox::data::SELLER_TOKEN));
    for g in &got {
        assert!(!g.body.to_string().contains(envato_sandbox::data::SELLER_TOKEN));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let secrets = env.dir.path().join("secrets");
        for f in std::fs::read_dir(&secrets).unwrap() {
            let mode = f.unwrap().metadata().unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_down_gets_the_same_webhook_id_later_and_410_disables() {
    let r = Receiver::start().await;
    let env = env_with_secrets(None);
    let id = add_endpoint(&env, &r, None);
    r.set(|s| s.script = vec![500, 503]);

    let (code, _, err) = env.out(&["webhooks", "test", &id.to_string()]);
    assert_eq!(code, 1, "not delivered: {err}");
    assert!(err.contains("error[webhook.delivery_failed]"), "{err}");
    let d = deliveries(&env);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0]["status"], "pending");
    assert_eq!(d[0]["attempts"], 1);
    assert_eq!(d[0]["last_status"], 500);
    assert!(d[0]["next_attempt_at"].is_string(), "retried in 5 s");
    let list = env.json(&["webhooks", "list", "--json"]);
    assert!(list[0]["failing_since"].is_string(), "the endpoint shows as failing");

    // Nothing is due before the schedule says so; then the second try fails, the third succeeds.
    let before = r.got().len();
    env.ok(&["outbox", "run"]);
    assert_eq!(r.got().len(), before, "not retried before its time");
    for _ in 0..2 {
        let started = Instant::now();
        loop {
            env.ok(&["outbox", "run"]);
            if r.got().len() > before || started.elapsed() > Duration::from_secs(20) {
                break;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        if deliveries(&env)[0]["status"] == "delivered" {
            break;
        }
        // The 503 attempt was the second; the next waits 5 minutes: replay brings it forward.
        let mid = &deliveries(&env)[0];
        assert_eq!(mid["attempts"], 2);
        env.ok(&["webhooks", "replay", mid["message_id"].as_str().unwrap()]);
    }
    let got = r.got();
    assert!(got.len() >= 3, "{} attempts", got.len());
    assert!(got.iter().all(|g| g.id == got[0].id), "the same webhook-id on every attempt");
    assert!(got.iter().all(|g| g.verified));
    assert_eq!(deliveries(&env)[0]["status"], "delivered");
    let list = env.json(&["webhooks", "list", "--json"]);
    assert!(list[0]["failing_since"].is_null(), "healthy again");

    // A redirect is not followed: it is a failed attempt like any other non-2xx.
    r.set(|s| s.script = vec![302]);
    let (code, _, _) = env.out(&["webhooks", "test", &id.to_string()]);
    assert_eq!(code, 1);
    let d = &deliveries(&env)[0];
    assert_eq!(d["last_status"], 302);
    assert!(d["last_error"].as_str().unwrap().contains("redirects are not followed"), "{d}");

    // 410 Gone disables the endpoint; new events are not queued for it.
    r.set(|s| s.script = vec![410]);
    let (code, _, _) = env.out(&["webhooks", "test", &id.to_string()]);
    assert_eq!(code, 1);
    let list = env.json(&["webhooks", "list", "--json"]);
    assert_eq!(list[0]["enabled"], false);
    assert!(list[0]["disabled_reason"].as_str().unwrap().contains("410"));
    let p = env.json(&["products", "add", "--name", "Plugin", "--json"]);
    env.ok(&["licenses", "issue", "--product", &p["id"].to_string()]);
    assert_eq!(deliveries(&env).len(), 3, "no message for a disabled endpoint");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_receiver_times_out_without_blocking_the_change() {
    let r = Receiver::start().await;
    let env = env_with_secrets(None);
    add_endpoint(&env, &r, Some("license.created"));
    r.set(|s| s.hang = true);
    let p = env.json(&["products", "add", "--name", "Plugin", "--json"]);
    let started = Instant::now();
    let key = env.ok(&["licenses", "issue", "--product", &p["id"].to_string()]);
    let took = started.elapsed();
    assert!(!key.trim().is_empty(), "the license was issued");
    assert!(took < Duration::from_secs(25), "the 15 s timeout bounds the wait: {took:?}");
    let d = deliveries(&env);
    assert_eq!(d[0]["status"], "pending");
    assert!(d[0]["last_error"].as_str().unwrap().contains("15 seconds"), "{}", d[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_between_commit_and_delivery_then_each_message_is_delivered_once() {
    let sb = sandbox(300).await;
    sb.update_switches(|s| {
        s.faults.latency_ms = 40;
        s.variants.page_size = 20;
    });
    let r = Receiver::start().await;
    let env = env_with_secrets(Some(&sb.base_url()));
    env.set_token();
    env.ok(&["settings", "set", "auto_create_products", "true"]);
    add_endpoint(&env, &r, Some("license.created"));
    let db = env.dir.path().join("keymanager.sqlite3");

    // Killed mid-sync: pages committed with their events, nothing delivered yet.
    let mut child = env.cmd(&["sync"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let started = Instant::now();
    loop {
        let n = keymanager::Store::open(&db).map(|s| s.license_counts().map(|c| c.total).unwrap_or(0)).unwrap_or(0);
        if n >= 40 || started.elapsed() > Duration::from_secs(120) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Command::new("kill").args(["-9", &child.id().to_string()]).status().unwrap();
    assert!(!child.wait().unwrap().success(), "killed before it finished");
    assert!(r.got().is_empty(), "killed before any delivery");

    // The next process delivers what was committed; the next sync completes the rest.
    env.ok(&["outbox", "run"]);
    let committed = env.licenses().len();
    assert_eq!(r.got().len(), committed, "every committed license's message, once");
    env.ok(&["sync"]);
    env.ok(&["outbox", "run"]);
    let licenses = env.licenses();
    let got = r.got();
    let mut per_key: HashMap<String, usize> = HashMap::new();
    for g in &got {
        *per_key.entry(g.body["data"]["key"].as_str().unwrap().to_string()).or_default() += 1;
    }
    assert_eq!(per_key.len(), licenses.len(), "no message lost");
    assert!(per_key.values().all(|n| *n == 1), "none sent twice");
    assert!(got.iter().all(|g| g.verified));
}

// ---- e-mail ----------------------------------------------------------------------------------

#[test]
fn keys_and_notices_reach_a_real_smtp_server_and_the_password_leaks_nowhere() {
    const PASSWORD: &str = "smtp-Pa55word-do-not-leak";
    let mail = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(mail.path(), "seller", PASSWORD);
    let env = Env::new().traced();
    for (k, v) in [
        ("smtp_host", "127.0.0.1".to_string()),
        ("smtp_port", sink.port.to_string()),
        ("smtp_security", "none".into()),
        ("smtp_username", "seller".into()),
        ("smtp_from", "Acme Themes <store@acme.example>".into()),
        ("store_name", "Acme Themes".into()),
        ("public_url", "https://licenses.acme.example".into()),
    ] {
        env.ok(&["settings", "set", k, &v]);
    }
    // No password yet: the server refuses the login, the error says so without secrets.
    let (code, _, err) = env.out(&["email", "test", "--to", "me@acme.example"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("email.send_failed"), "{err}");

    let o = env.run(&["email", "password"], &format!("{PASSWORD}\n"));
    assert!(o.status.success(), "{}", text(&o.stderr));
    env.ok(&["email", "test", "--to", "me@acme.example"]);
    assert_eq!(sink.messages().len(), 1);
    assert!(sink.messages()[0].contains("X-Rcpt: me@acme.example"));

    let p = env.json(&["products", "add", "--name", "Pixel Theme", "--json"]);
    let l = env.json(&[
        "licenses",
        "issue",
        "--product",
        &p["id"].to_string(),
        "--buyer",
        "jane",
        "--buyer-email",
        "jane@buyer.example",
        "--json",
    ]);
    let id = l["id"].to_string();
    let key = l["license_key"].as_str().unwrap().to_string();
    // A malformed address is refused with its code, and nothing is queued.
    let (code, _, err) = env.out(&["email", "send-key", &id, "--to", "jane at buyer"]);
    assert_eq!(code, 1);
    assert!(err.contains("email.invalid_address"), "{err}");
    env.ok(&["email", "send-key", &id]);
    let msgs = sink.messages();
    assert_eq!(msgs.len(), 2);
    let mail = &msgs[1];
    assert!(mail.contains("X-Rcpt: jane@buyer.example"));
    assert!(mail.contains("Subject: Your license key for Pixel Theme"), "{mail}");
    assert!(mail.contains("text/plain") && mail.contains("text/html"), "both parts");
    let body = decoded(mail);
    assert!(body.contains(&key), "the key is in the message");
    assert!(body.contains("Acme Themes") && body.contains("https://licenses.acme.example/"));
    assert!(!body.contains("<img"), "no tracking pixel");

    // Lifecycle notices follow notify_buyers.
    env.ok(&["licenses", "suspend", &id, "--reason", "Chargeback opened"]);
    assert_eq!(sink.messages().len(), 2, "notify_buyers is off by default");
    env.ok(&["settings", "set", "notify_buyers", "true"]);
    env.ok(&["licenses", "reactivate", &id, "--reason", "Chargeback closed"]);
    let msgs = sink.messages();
    assert_eq!(msgs.len(), 3);
    assert!(msgs[2].contains("Subject: Your license for Pixel Theme was reactivated"), "{}", msgs[2]);
    assert!(decoded(&msgs[2]).contains("Chargeback closed"));

    // The password is in no message, no output, no log line, no database row.
    for m in sink.messages() {
        assert!(!decoded(&m).contains(PASSWORD));
    }
    assert!(!env.printed_contains(PASSWORD));
    let dump = keymanager::Store::open(&env.dir.path().join("keymanager.sqlite3")).unwrap().dump_tables(&[]).unwrap();
    assert!(!dump.contains(PASSWORD));
    if let Ok(log) = std::fs::read_to_string(env.dir.path().join("logs/keymanager.log")) {
        assert!(!log.contains(PASSWORD));
    }
    // Positive control: the search would have found it.
    assert!(common::contains(format!("x{PASSWORD}x").as_bytes(), PASSWORD.as_bytes()));
}
