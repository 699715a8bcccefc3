//! `keymanager serve` as a seller's product meets it: a live server over HTTP, a real client,
//! every answer's signature checked with the server's public key.

use chrono::Utc;
use envato_sandbox::data::GenSpec;
use envato_sandbox::{RunningSandbox, Switches};
use keymanager::api::signing;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

mod common;
use common::Env;

/// A running `keymanager serve` on a free port; stopped (SIGTERM) when dropped.
struct Server {
    child: Child,
    base: String,
    public_key: String,
    http: reqwest::Client,
}

impl Server {
    /// Submits a buyer-page form, as a browser does.
    fn form(
        &self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> impl std::future::Future<Output = reqwest::Result<reqwest::Response>> {
        let body: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        self.http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    }

    fn start(env: &Env) -> Server {
        Server::start_with(env, &[])
    }

    fn start_with(env: &Env, extra: &[&str]) -> Server {
        let args = [&["serve", "--bind", "127.0.0.1:0"][..], extra].concat();
        let mut child = env.cmd(&args).stdout(Stdio::piped()).spawn().unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
        let base =
            first.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("first line: {first:?}")).to_string();
        let public_key = env.ok(&["keys", "public"]).trim().to_string();
        Server { child, base, public_key, http: reqwest::Client::new() }
    }

    /// POSTs `body` (raw bytes) and checks the signature of the answer before returning it.
    async fn post_raw(&self, path: &str, body: Vec<u8>) -> (u16, Value) {
        let r = self.http.post(format!("{}{path}", self.base)).body(body).send().await.unwrap();
        self.checked(r).await
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.post_raw(path, serde_json::to_vec(&body).unwrap()).await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.http.get(format!("{}{path}", self.base)).send().await.unwrap();
        self.checked(r).await
    }

    async fn checked(&self, r: reqwest::Response) -> (u16, Value) {
        let status = r.status().as_u16();
        let sig = r.headers().get("KeyManager-Signature").and_then(|v| v.to_str().ok()).map(str::to_string);
        let bytes = r.bytes().await.unwrap();
        let sig = sig.expect("every /v1 answer is signed");
        let sig = sig.strip_prefix("ed25519=").expect("ed25519=<base64>");
        assert!(signing::verify(&self.public_key, &bytes, sig), "the signature matches the exact body");
        // A tampered body no longer matches: what a product checks to spot a fake server.
        let mut tampered = bytes.to_vec();
        tampered.push(b' ');
        assert!(!signing::verify(&self.public_key, &tampered, sig));
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        for field in ["code", "detail", "ts"] {
            assert!(v.get(field).is_some(), "every answer has {field}: {v}");
        }
        (status, v)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}

async fn sandbox() -> RunningSandbox {
    RunningSandbox::start(GenSpec { seed: 77, items: 3, sales: 30, days: 60, now: Utc::now() }, Switches::default())
        .await
        .unwrap()
}

/// A hand-issued license of a product with `limit` activations; returns its key.
fn license(env: &Env, limit: u32, item: Option<i64>) -> String {
    let mut args = vec![
        "products".to_string(),
        "add".into(),
        "--name".into(),
        format!("Product {limit}"),
        "--activation-limit".into(),
        limit.to_string(),
    ];
    if let Some(i) = item {
        args.extend(["--item-id".into(), i.to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let p = env.json(&[&args[..], &["--json"]].concat());
    env.ok(&["licenses", "issue", "--product", &p["id"].to_string()]).trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activate_validate_deactivate_with_signed_answers_and_certificates() {
    let sb = sandbox().await;
    let env = Env::with_sandbox(&sb.base_url());
    let key = license(&env, 2, Some(555));
    let server = Server::start(&env);

    let (s, v) = server.get("/v1/health").await;
    assert_eq!((s, v["code"].as_str()), (200, Some("OK")));
    let (_, v) = server.get("/v1/public-key").await;
    assert_eq!(v["public_key"], server.public_key.as_str());
    assert_eq!(v["algorithm"], "ed25519");

    // Validate: case, spaces and dashes of the key are forgiven; the nonce is echoed.
    let sloppy = key.to_lowercase().replace('-', " ");
    let (s, v) = server.post("/v1/licenses/validate", json!({"key": sloppy, "item_id": 555, "nonce": "n-1"})).await;
    assert_eq!((s, v["code"].as_str(), v["valid"].as_bool()), (200, Some("VALID"), Some(true)), "{v}");
    assert_eq!(v["nonce"], "n-1");
    assert_eq!(v["license"]["key"], key.as_str());
    assert_eq!(v["license"]["product"]["item_id"], Value::Null, "a hand-issued license sold no Envato item");
    let (_, v) = server.post("/v1/licenses/validate", json!({"key": key, "item_id": 999})).await;
    assert_eq!(v["code"], "PRODUCT_MISMATCH");
    let (_, v) = server.post("/v1/licenses/validate", json!({"key": "7KQ2M-XH4TP-9RWC3-NB8FZ"})).await;
    assert_eq!((v["code"].as_str(), v["valid"].as_bool()), (Some("NOT_FOUND"), Some(false)));
    let (_, v) = server.post("/v1/licenses/validate", json!({"key": key, "fingerprint": "site-a"})).await;
    assert_eq!(v["code"], "NOT_ACTIVATED");

    // Activate: 201 with a certificate, then idempotent, then the limit.
    let (s, v) = server.post("/v1/activations", json!({"key": key, "fingerprint": "site-a", "label": "Site A"})).await;
    assert_eq!((s, v["code"].as_str()), (201, Some("ACTIVATED")), "{v}");
    assert_eq!(v["activation"]["fingerprint"], "site-a");
    assert_eq!(v["license"]["activations_used"], 1);
    let cert = v["certificate"].as_str().unwrap().to_string();
    let claims = signing::verify_certificate(&server.public_key, &cert).unwrap();
    assert_eq!((claims.key.as_str(), claims.fingerprint.as_str(), claims.v), (key.as_str(), "site-a", 1));
    assert_eq!(env.out(&["keys", "verify", &cert]).0, 0, "keymanager keys verify accepts it");
    let (s, v) = server.post("/v1/activations", json!({"key": key, "fingerprint": "site-a"})).await;
    assert_eq!((s, v["code"].as_str()), (200, Some("ALREADY_ACTIVATED")));
    assert_eq!(v["license"]["activations_used"], 1, "nothing counted twice");
    assert!(v["certificate"].as_str().unwrap().starts_with("KM1."));
    server.post("/v1/activations", json!({"key": key, "fingerprint": "site-b"})).await;
    let (s, v) = server.post("/v1/activations", json!({"key": key, "fingerprint": "site-c"})).await;
    assert_eq!((s, v["code"].as_str()), (422, Some("ACTIVATION_LIMIT_EXCEEDED")));
    assert_eq!(
        (v["license"]["activations_used"].as_u64(), v["license"]["activation_limit"].as_u64()),
        (Some(2), Some(2))
    );
    let (_, v) = server.post("/v1/licenses/validate", json!({"key": key, "fingerprint": "site-a"})).await;
    assert_eq!(v["code"], "VALID");

    // Deactivate, and the per-license daily limit (setting, 1 here).
    assert!(env.run(&["settings", "set", "deactivations_per_day", "1"], "").status.success());
    let (s, v) = server.post("/v1/activations/deactivate", json!({"key": key, "fingerprint": "site-b"})).await;
    assert_eq!((s, v["code"].as_str()), (200, Some("DEACTIVATED")), "{v}");
    let (s, v) = server.post("/v1/activations/deactivate", json!({"key": key, "fingerprint": "nope"})).await;
    assert_eq!((s, v["code"].as_str()), (404, Some("NOT_ACTIVATED")));
    let (s, v) = server.post("/v1/activations/deactivate", json!({"key": key, "fingerprint": "site-a"})).await;
    assert_eq!((s, v["code"].as_str()), (429, Some("TOO_MANY_DEACTIVATIONS")), "{v}");

    // The seller revokes: validation and activation say so. The CLI's own codes agree.
    let detail = env.json(&["licenses", "list", "--json"]);
    let id = detail[0]["id"].to_string();
    assert!(env.run(&["licenses", "revoke", &id, "--reason", "refund"], "").status.success());
    let (_, v) = server.post("/v1/licenses/validate", json!({"key": key})).await;
    assert_eq!((v["code"].as_str(), v["valid"].as_bool()), (Some("REVOKED"), Some(false)));
    let (s, v) = server.post("/v1/activations", json!({"key": key, "fingerprint": "site-z"})).await;
    assert_eq!((s, v["code"].as_str()), (403, Some("REVOKED")));
    assert_eq!(env.out(&["validate", &key]).0, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purchase_code_not_seen_yet_is_verified_licensed_and_not_duplicated_by_the_next_sync() {
    let sb = sandbox().await;
    let env = Env::with_sandbox(&sb.base_url());
    env.set_token();
    let sale = sb.dataset().sales.into_iter().find(|s| s.buyer.is_some()).unwrap();
    let server = Server::start(&env);

    // Auto-Create off: a genuine purchase waits for review.
    let (s, v) = server.post("/v1/activations", json!({"purchase_code": sale.code, "fingerprint": "m1"})).await;
    assert_eq!((s, v["code"].as_str()), (202, Some("PENDING_REVIEW")), "{v}");
    let (s, v) = server.post("/v1/licenses/validate", json!({"purchase_code": sale.code})).await;
    assert_eq!((s, v["code"].as_str()), (200, Some("PENDING_REVIEW")));

    // With Auto-Create on, another code activates at once; its license is the sale's.
    assert!(env.run(&["settings", "set", "auto_create_products", "on"], "").status.success());
    let other = sb.dataset().sales.into_iter().find(|s| s.item_id != sale.item_id && s.buyer.is_some()).unwrap();
    let (s, v) = server
        .post(
            "/v1/activations",
            json!({"purchase_code": other.code.to_uppercase(), "fingerprint": "m2", "item_id": other.item_id}),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (201, Some("ACTIVATED")), "{v}");
    let text = v.to_string();
    assert!(!text.contains(&other.code) && !text.contains(other.buyer.as_deref().unwrap()), "no code or buyer: {text}");
    let (s, v) = server.post("/v1/retrieve", json!({"purchase_code": other.code})).await;
    assert_eq!((s, v["code"].as_str()), (200, Some("FOUND")));
    assert_eq!(v["licenses"].as_array().unwrap().len(), 1);
    let (s, v) = server.post("/v1/retrieve", json!({"purchase_code": "0123abcd-0000-4000-8000-00000000beef"})).await;
    assert_eq!((s, v["code"].as_str()), (404, Some("NOT_FOUND")));

    // The next sync meets the same sale and adds no second license for it.
    drop(server);
    assert!(env.run(&["sync"], "").status.success());
    let same: Vec<Value> =
        env.licenses().into_iter().filter(|l| l["purchase_code"].as_str() == Some(other.code.as_str())).collect();
    assert_eq!(same.len(), 1, "one license for the sale");
    assert_eq!(same[0]["activations_used"], 1);
    assert!(!env.printed_contains(envato_sandbox::data::SELLER_TOKEN));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_racing_activations_never_pass_the_limit() {
    let env = Env::new();
    let key = license(&env, 5, None);
    let server = std::sync::Arc::new(Server::start(&env));
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let (server, key) = (server.clone(), key.clone());
            tokio::spawn(async move {
                server.post("/v1/activations", json!({"key": key, "fingerprint": format!("fp-{i}")})).await
            })
        })
        .collect();
    let mut created = 0;
    for t in tasks {
        let (s, v) = t.await.unwrap();
        match s {
            201 => created += 1,
            422 => assert_eq!(v["code"], "ACTIVATION_LIMIT_EXCEEDED"),
            other => panic!("unexpected {other}: {v}"),
        }
    }
    assert_eq!(created, 5);
    let (_, v) = server.post("/v1/licenses/validate", json!({"key": key})).await;
    assert_eq!(v["license"]["activations_used"], 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_the_contract_error_shape_and_changes_nothing() {
    let env = Env::new();
    let key = license(&env, 1, None);
    let tables = || keymanager::Store::open_in_dir(env.dir.path()).unwrap().dump_tables(&["lookups"]).unwrap();
    let server = Server::start(&env);
    let before = tables();
    let long = "x".repeat(10_000);
    let bodies: Vec<Vec<u8>> = vec![
        b"{not json".to_vec(),
        b"\xff\xfe\x00garbage".to_vec(),
        b"[1,2,3]".to_vec(),
        json!({"key": 12345}).to_string().into_bytes(),
        json!({"key": key, "purchase_code": "x"}).to_string().into_bytes(),
        json!({"key": key, "fingerprint": long}).to_string().into_bytes(),
        json!({"key": key, "fingerprint": "ok", "label": long}).to_string().into_bytes(),
        json!({"key": long, "fingerprint": "ok"}).to_string().into_bytes(),
        format!(r#"{{"key":"{key}","fingerprint":"ok","item_id":1e400}}"#).into_bytes(),
        format!(r#"{{"key":"{key}","fingerprint":"ok","item_id":123456789012345678901234567890}}"#).into_bytes(),
        json!({"key": key, "fingerprint": "ok", "nonce": long}).to_string().into_bytes(),
    ];
    for body in bodies {
        let (s, v) = server.post_raw("/v1/activations", body.clone()).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (400, Some("BAD_REQUEST")),
            "{}",
            String::from_utf8_lossy(&body[..body.len().min(80)])
        );
        let text = v.to_string();
        assert!(text.len() < 600 && !text.contains("panicked") && !text.contains(".rs:"), "no internals: {text}");
    }
    let (s, v) = server.post_raw("/v1/activations", vec![b' '; 17 * 1024]).await;
    assert_eq!((s, v["code"].as_str()), (413, Some("PAYLOAD_TOO_LARGE")));
    let (s, v) = server.get("/v1/nothing-here").await;
    assert_eq!((s, v["code"].as_str()), (404, Some("NOT_FOUND_PATH")));
    assert_eq!(tables(), before, "nothing changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_address_gets_its_quota_and_only_a_trusted_proxy_may_name_the_client() {
    let env = Env::new();
    assert!(env.run(&["settings", "set", "serve_requests_per_minute", "5"], "").status.success());
    let server = Server::start_with(&env, &["--trusted-proxy", "127.0.0.1"]);
    let get_as = |client: &'static str| {
        let r = server.http.get(format!("{}/v1/health", server.base)).header("X-Forwarded-For", client);
        async move { r.send().await.unwrap() }
    };
    for _ in 0..5 {
        assert_eq!(get_as("198.51.100.1").await.status(), 200);
    }
    let over = get_as("198.51.100.1").await;
    assert_eq!(over.status(), 429);
    let retry: u64 = over.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    let (s, v) = server.checked(over).await;
    assert_eq!((s, v["code"].as_str()), (429, Some("RATE_LIMITED")));
    // Another client behind the same proxy has its own quota.
    assert_eq!(get_as("198.51.100.2").await.status(), 200);
    drop(server);

    // Without --trusted-proxy the header is ignored: the peer (127.0.0.1) is the client.
    let server = Server::start(&env);
    for i in 0..5 {
        let ip = format!("203.0.113.{i}");
        let r =
            server.http.get(format!("{}/v1/health", server.base)).header("X-Forwarded-For", ip).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    let r = server
        .http
        .get(format!("{}/v1/health", server.base))
        .header("X-Forwarded-For", "203.0.113.99")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429, "a forged header buys no fresh quota");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_buyer_page_shows_the_keys_of_a_purchase_code_and_frees_an_activation() {
    let sb = sandbox().await;
    let env = Env::with_sandbox(&sb.base_url());
    env.set_token();
    assert!(env.run(&["settings", "set", "auto_create_products", "on"], "").status.success());
    assert!(env.run(&["settings", "set", "store_name", "Acme <Themes>"], "").status.success());
    let sale = sb.dataset().sales.into_iter().find(|s| s.buyer.is_some()).unwrap();
    let server = Server::start(&env);
    let page = |r: reqwest::Response| async move {
        let csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
        assert!(csp.contains("default-src 'none'") && csp.contains("form-action 'self'"), "{csp}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        r.text().await.unwrap()
    };
    let form = |path: &str, fields: &[(&str, &str)]| server.form(path, fields);

    let home = page(server.http.get(format!("{}/", server.base)).send().await.unwrap()).await;
    assert!(home.contains("Acme &lt;Themes&gt;: your license keys"), "the store name, escaped");
    assert!(home.contains("name=\"purchase_code\""));
    assert!(!home.contains("https://") && !home.contains("http://"), "nothing from elsewhere");

    // A code not seen yet: verified at Envato, licensed, shown with its key.
    let shown = page(form("/", &[("purchase_code", &sale.code.to_uppercase())]).await.unwrap()).await;
    let key = env.licenses()[0]["license_key"].as_str().unwrap().to_string();
    assert!(shown.contains(&key), "the buyer sees the key");
    assert!(!shown.contains(sale.buyer.as_deref().unwrap()), "no buyer name on the page");
    assert!(shown.contains("Not activated anywhere yet."));

    // The product activates; the buyer frees the activation from the page.
    let (s, _) =
        server.post("/v1/activations", json!({"key": key, "fingerprint": "old-laptop", "label": "Old laptop"})).await;
    assert_eq!(s, 201);
    let shown = page(form("/", &[("purchase_code", &sale.code)]).await.unwrap()).await;
    assert!(shown.contains("old-laptop") && shown.contains("Old laptop") && shown.contains("1 of"));
    let shown =
        page(form("/deactivate", &[("purchase_code", &sale.code), ("fingerprint", "old-laptop")]).await.unwrap()).await;
    assert!(shown.contains("activation was freed"), "{shown}");
    assert!(shown.contains("Not activated anywhere yet."));

    // Bad and unknown codes get a plain sentence; input is never echoed unescaped.
    let shown = page(form("/", &[("purchase_code", "\"><script>alert(1)</script>")]).await.unwrap()).await;
    assert!(shown.contains("That is not a purchase code") && !shown.contains("<script>alert"));
    let shown = page(form("/", &[("purchase_code", "0123abcd-0000-4000-8000-00000000beef")]).await.unwrap()).await;
    assert!(shown.contains("No purchase of this seller"));
    let css = server.http.get(format!("{}/buyer.css", server.base)).send().await.unwrap();
    assert_eq!(css.status(), 200);
}

/// The buyer leaves an e-mail on the buyer page (only with the consent box ticked); `serve`'s own
/// outbox delivers the key to a real SMTP server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_buyer_page_mails_the_key_to_an_address_left_with_consent() {
    let sb = sandbox().await;
    let mail = tempfile::tempdir().unwrap();
    let sink = envato_sandbox::receivers::SmtpSink::start(mail.path(), "seller", "pw-buyer-page");
    let env = Env::with_sandbox(&sb.base_url())
        .with_var("KEYMANAGER_SECRETS_DIR", mail.path().join("secrets").to_string_lossy().to_string());
    env.set_token();
    for (k, v) in [
        ("auto_create_products", "on".to_string()),
        ("store_name", "Acme Themes".into()),
        ("smtp_host", "127.0.0.1".into()),
        ("smtp_port", sink.port.to_string()),
        ("smtp_security", "none".into()),
        ("smtp_username", "seller".into()),
        ("smtp_from", "Acme Themes <store@acme.example>".into()),
    ] {
        assert!(env.run(&["settings", "set", k, &v], "").status.success());
    }
    assert!(env.run(&["email", "password"], "pw-buyer-page\n").status.success());
    let sale = sb.dataset().sales.into_iter().find(|s| s.buyer.is_some()).unwrap();
    let server = Server::start(&env);
    let form = |path: &str, fields: &[(&str, &str)]| server.form(path, fields);
    let shown = form("/", &[("purchase_code", &sale.code)]).await.unwrap().text().await.unwrap();
    assert!(shown.contains("E-mail me this key") && shown.contains("Acme Themes may keep this address"), "{shown}");

    // Without the box ticked nothing is kept.
    let shown = form("/email", &[("purchase_code", &sale.code), ("email", "buyer@shop.example")])
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(shown.contains("Tick the box"), "{shown}");
    assert!(env.licenses()[0]["buyer_email"].is_null());

    let shown = form("/email", &[("purchase_code", &sale.code), ("email", "buyer@shop.example"), ("consent", "yes")])
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(shown.contains("on its way to buyer@shop.example"), "{shown}");
    let key = env.licenses()[0]["license_key"].as_str().unwrap().to_string();
    assert_eq!(env.licenses()[0]["buyer_email"], "buyer@shop.example");
    // Delivered by the server's background outbox within seconds.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while sink.messages().is_empty() {
        assert!(std::time::Instant::now() < deadline, "no e-mail arrived");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let m = &sink.messages()[0];
    assert!(m.contains("X-Rcpt: buyer@shop.example"));
    assert!(envato_sandbox::receivers::decoded(m).contains(&key));
}

/// A server with no keychain: the signing key and the Envato token come from credential files
/// (as systemd's LoadCredential provides them), and a file others can read is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_secrets_come_from_private_credential_files() {
    use std::os::unix::fs::PermissionsExt;
    let sb = sandbox().await;
    let creds = tempfile::tempdir().unwrap();
    let key_file = creds.path().join("signing-key");
    let token_file = creds.path().join("envato-token");
    std::fs::write(&token_file, envato_sandbox::data::SELLER_TOKEN).unwrap();
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let run = |env: &Env, args: &[&str]| {
        env.cmd(args)
            .env("KEYMANAGER_SIGNING_KEY_FILE", &key_file)
            .env("KEYMANAGER_ENVATO_TOKEN_FILE", &token_file)
            .output()
            .unwrap()
    };
    let env = Env::with_sandbox(&sb.base_url());
    assert!(env.run(&["settings", "set", "auto_create_products", "on"], "").status.success());
    // Made on first use, in the file, private.
    let public = run(&env, &["keys", "public"]);
    assert!(public.status.success(), "{}", String::from_utf8_lossy(&public.stderr));
    assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    let stored = signing::Signer::from_stored(&std::fs::read_to_string(&key_file).unwrap()).unwrap();
    assert_eq!(String::from_utf8_lossy(&public.stdout).trim(), stored.public_key());
    // The token file verifies a purchase code with no token in the keychain.
    let sale = sb.dataset().sales.into_iter().next().unwrap();
    let out = run(&env, &["activate", &sale.code, "--instance", "vps-site"]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ACTIVATED: "), "{out:?}");
    // Readable by others: refused, and nothing is served with it.
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = run(&env, &["keys", "public"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error[credential_file.unsafe]"), "{out:?}");
}
