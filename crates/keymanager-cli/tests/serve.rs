//! `keymanager serve` as a seller's product meets it: a live server over HTTP, a real client,
//! every answer's signature checked with the server's public key.

use chrono::Utc;
use envato_sandbox::data::GenSpec;
use envato_sandbox::{RunningSandbox, Switches};
use keymanager::signing;
use serde_json::{json, Value};

mod common;
use common::server::Server;
use common::Env;

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
    // Fifty connections at once from one address: what a reverse proxy (exempt from the
    // per-address connection cap) carries, not one browser.
    let server = std::sync::Arc::new(Server::start_with(&env, &["--trusted-proxy", "127.0.0.1"]));
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

    // The product activates (a label and a fingerprint with markup in them, as a hostile
    // product could send); the page shows them as text; the buyer frees the activation.
    let fp = r#"old-laptop"><i>x</i>"#;
    let (s, _) =
        server.post("/v1/activations", json!({"key": key, "fingerprint": fp, "label": "<b>Old</b> laptop"})).await;
    assert_eq!(s, 201);
    let shown = page(form("/", &[("purchase_code", &sale.code)]).await.unwrap()).await;
    // Positive control: both are on the page, escaped; neither is there as markup.
    assert!(shown.contains("&lt;b&gt;Old&lt;/b&gt; laptop"), "the label, escaped: {shown}");
    assert!(shown.contains("old-laptop&quot;&gt;&lt;i&gt;x&lt;/i&gt;"), "the fingerprint, escaped: {shown}");
    assert!(!shown.contains("<b>Old</b>") && !shown.contains("<i>x</i>"), "no markup from a product");
    assert!(shown.contains("1 of"));
    let shown = page(form("/deactivate", &[("purchase_code", &sale.code), ("fingerprint", fp)]).await.unwrap()).await;
    assert!(shown.contains("activation was freed"), "{shown}");
    assert!(shown.contains("Not activated anywhere yet."));

    // Sites: production and a staging copy are shown apart, with why the copy is not counted.
    for url in ["https://www.shop.example.com/", "https://staging.shop.example.com"] {
        let (s, v) = server.post("/v1/activations", json!({"key": key, "site_url": url})).await;
        assert_eq!(s, 201, "{v}");
    }
    let shown = page(form("/", &[("purchase_code", &sale.code)]).await.unwrap()).await;
    assert!(shown.contains("<h3>Production (1 of 1)</h3>"), "{shown}");
    assert!(shown.contains("<h3>Staging and development (1, not counted)</h3>"), "{shown}");
    assert!(shown.contains(">shop.example.com<") && shown.contains("staging, not counted"), "{shown}");
    assert!(shown.contains("Free for a new site"), "{shown}");
    // Moving: the old site's slot is freed from the page, and the new site activates.
    let shown = page(
        form("/deactivate", &[("purchase_code", &sale.code), ("fingerprint", "site:shop.example.com")]).await.unwrap(),
    )
    .await;
    assert!(shown.contains("<h3>Production (0 of 1)</h3>"), "{shown}");
    let (s, _) = server.post("/v1/activations", json!({"key": key, "site_url": "https://new-shop.example.com"})).await;
    assert_eq!(s, 201);

    // Bad and unknown codes get a plain sentence; input is never echoed unescaped.
    let shown = page(form("/", &[("purchase_code", "\"><script>alert(1)</script>")]).await.unwrap()).await;
    assert!(shown.contains("That is not a purchase code") && !shown.contains("<script>alert"));
    let shown = page(form("/", &[("purchase_code", "0123abcd-0000-4000-8000-00000000beef")]).await.unwrap()).await;
    assert!(shown.contains("No purchase of this seller"));
    let css = server.http.get(format!("{}/buyer.css", server.base)).send().await.unwrap();
    assert_eq!(css.status(), 200);
}

/// "E-mail me my key" on the buyer page: off unless the seller turns it on; then the key goes
/// only to the address the seller has for the license, or to one the buyer confirms by a mailed
/// link first (`serve`'s own outbox delivers both to a real SMTP server). A buyer never
/// replaces the seller's address; each action is audited with the client's address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_buyer_page_mails_a_key_only_to_a_confirmed_or_the_sellers_address() {
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
    let mut sales = sb.dataset().sales.into_iter().filter(|s| s.buyer.is_some());
    let (sale, other) = (sales.next().unwrap(), sales.next().unwrap());
    let server = Server::start(&env);
    let text = |r: reqwest::Response| async move { r.text().await.unwrap() };
    let form = |path: &str, fields: &[(&str, &str)]| server.form(path, fields);

    // Off by default: no form, and a post is refused without sending anything.
    let shown = text(form("/", &[("purchase_code", &sale.code)]).await.unwrap()).await;
    assert!(shown.contains("Not activated anywhere yet."), "positive control: the license is shown: {shown}");
    assert!(!shown.contains("action=\"/email\""), "no e-mail form while it is off");
    let shown = text(
        form("/email", &[("purchase_code", &sale.code), ("email", "a@x.example"), ("consent", "yes")]).await.unwrap(),
    )
    .await;
    assert!(shown.contains("does not send keys by e-mail"), "{shown}");

    // On, with a public address for the confirmation links.
    let public = server.base.clone();
    assert!(env.run(&["settings", "set", "buyer_email_form", "on"], "").status.success());
    assert!(env.run(&["settings", "set", "public_url", &public], "").status.success());
    let shown = text(form("/", &[("purchase_code", &sale.code)]).await.unwrap()).await;
    assert!(shown.contains("E-mail me this key") && shown.contains("Acme Themes may keep this address"), "{shown}");
    let shown =
        text(form("/email", &[("purchase_code", &sale.code), ("email", "buyer@shop.example")]).await.unwrap()).await;
    assert!(shown.contains("Tick the box"), "{shown}");

    // No address yet: a confirmation link goes to the typed address, not the key.
    let shown = text(
        form("/email", &[("purchase_code", &sale.code), ("email", "buyer@shop.example"), ("consent", "yes")])
            .await
            .unwrap(),
    )
    .await;
    assert!(shown.contains("We sent a link to buyer@shop.example"), "{shown}");
    let licenses = env.licenses();
    let mine = licenses.iter().find(|l| l["purchase_code"] == sale.code.as_str()).unwrap().clone();
    let key = mine["license_key"].as_str().unwrap().to_string();
    assert!(mine["buyer_email"].is_null(), "nothing is kept before the buyer confirms");
    let confirm = wait_for_mail(&sink, 1).await.remove(0);
    let body = envato_sandbox::receivers::decoded(&confirm);
    assert!(confirm.contains("X-Rcpt: buyer@shop.example"));
    assert!(!body.contains(&key), "the key is not in the confirmation mail");
    let link = body.split_whitespace().find(|w| w.starts_with(&format!("{public}/email/confirm?token="))).unwrap();
    let token = link.rsplit_once("token=").unwrap().1.trim_end_matches(['"', '>', '.']).to_string();
    // Opening the link changes nothing (mail scanners open links); its button sends the key.
    let page = text(server.http.get(link).send().await.unwrap()).await;
    assert!(page.contains("Send my license key"), "{page}");
    assert_eq!(sink.messages().len(), 1);
    let shown = text(form("/email/confirm", &[("token", &token)]).await.unwrap()).await;
    assert!(shown.contains("is on its way to b•••@shop.example"), "{shown}");
    let keyed = wait_for_mail(&sink, 2).await.remove(1);
    assert!(keyed.contains("X-Rcpt: buyer@shop.example"));
    assert!(envato_sandbox::receivers::decoded(&keyed).contains(&key));
    let shown = text(form("/email/confirm", &[("token", &token)]).await.unwrap()).await;
    assert!(shown.contains("expired or was already used"), "a link works once: {shown}");

    // The address is now the license's: an attacker's address is ignored, never stored.
    let shown = text(
        form("/email", &[("purchase_code", &sale.code), ("email", "attacker@evil.example"), ("consent", "yes")])
            .await
            .unwrap(),
    )
    .await;
    assert!(shown.contains("the address the seller has for you (b•••@shop.example)"), "{shown}");
    let mine = env.licenses().into_iter().find(|l| l["purchase_code"] == sale.code.as_str()).unwrap();
    assert_eq!(mine["buyer_email"], "buyer@shop.example");
    let third = wait_for_mail(&sink, 3).await.remove(2);
    assert!(third.contains("X-Rcpt: buyer@shop.example") && !third.contains("evil.example"));

    // The seller's own address wins too: a buyer cannot replace it.
    let id =
        env.licenses().into_iter().find(|l| l["purchase_code"] == other.code.as_str()).map(|l| l["id"].to_string());
    let shown = text(form("/", &[("purchase_code", &other.code)]).await.unwrap()).await;
    assert!(shown.contains("Send me a confirmation link"), "{shown}");
    let id = id.unwrap_or_else(|| {
        env.licenses().into_iter().find(|l| l["purchase_code"] == other.code.as_str()).unwrap()["id"].to_string()
    });
    assert!(env.run(&["licenses", "edit", &id, "--buyer-email", "seller-typed@shop.example"], "").status.success());
    let shown = text(
        form("/email", &[("purchase_code", &other.code), ("email", "attacker@evil.example"), ("consent", "yes")])
            .await
            .unwrap(),
    )
    .await;
    assert!(shown.contains("(s•••@shop.example)"), "{shown}");
    let fourth = wait_for_mail(&sink, 4).await.remove(3);
    assert!(fourth.contains("X-Rcpt: seller-typed@shop.example"), "{fourth}");

    // At most 3 mails a license a day (the first license has had 3: link, key, key).
    let shown = text(form("/email", &[("purchase_code", &sale.code)]).await.unwrap()).await;
    assert!(shown.contains("Enough e-mails were sent for this license today"), "{shown}");
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    assert_eq!(sink.messages().len(), 4, "the refused mail was not sent");
    // Audited with the client's address, and the seller is told of the cap.
    let detail = env.json(&["licenses", "show", &mine["id"].to_string(), "--json"]);
    let audit = detail["audit"].to_string();
    assert!(audit.contains("buyer_page.email") && audit.contains("from 127.0.0.1"), "{audit}");
    assert!(audit.contains("buyer_page.email_cap_license"), "{audit}");
}

async fn wait_for_mail(sink: &envato_sandbox::receivers::SmtpSink, n: usize) -> Vec<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let m = sink.messages();
        if m.len() >= n {
            return m;
        }
        assert!(std::time::Instant::now() < deadline, "{} of {n} e-mails arrived", m.len());
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
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
    // A named key file that does not exist is an error, never a new key.
    let out = run(&env, &["keys", "public"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error[credential_file.missing]"), "{out:?}");
    assert!(!key_file.exists());
    let out = run(&env, &["serve", "--bind", "127.0.0.1:0"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("error[credential_file.missing]"), "{out:?}");
    // `keys init --file` makes it, private; never twice.
    let init = env.run(&["keys", "init", "--file", key_file.to_str().unwrap()], "");
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    assert_eq!(env.run(&["keys", "init", "--file", key_file.to_str().unwrap()], "").status.code(), Some(1));
    let public = run(&env, &["keys", "public"]);
    assert!(public.status.success(), "{}", String::from_utf8_lossy(&public.stderr));
    assert_eq!(
        String::from_utf8_lossy(&public.stdout).lines().next(),
        String::from_utf8_lossy(&init.stdout).lines().next()
    );
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
    // `serve` refuses to start with a token file others can read (not at the first request).
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = run(&env, &["serve", "--bind", "127.0.0.1:0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error[credential_file.unsafe]"), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("envato-token"), "{out:?}");
    // `lookup` and `sync` read the token file too (a VPS has no keychain to unlock).
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let second = sb.dataset().sales.into_iter().nth(1).unwrap();
    let out = run(&env, &["lookup", &second.code]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = run(&env, &["sync"]);
    assert!(out.status.success(), "{out:?}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("keychain"), "{out:?}");
}
