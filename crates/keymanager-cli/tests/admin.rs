//! The admin API of a live `keymanager serve` (issue 23): off until a device is paired, the
//! auth table (missing scope 403, revoked 401, pairing codes single-use, lock-out), signed
//! answers, and the CLI of another data folder working on the server with `--remote`.

use serde_json::{json, Value};

mod common;
use common::server::Server;
use common::Env;

/// A product with one hand-issued license on the server; returns the license's id.
fn seed(server_env: &Env) -> i64 {
    let p = server_env.json(&["products", "add", "--name", "Remote plugin", "--json"]);
    server_env.ok(&["licenses", "issue", "--product", &p["id"].to_string()]);
    server_env.licenses()[0]["id"].as_i64().unwrap()
}

/// Pairs through the CLI of `server_env` and the API; returns (code, fingerprint).
fn pairing_code(server_env: &Env, scope: &str) -> (String, String) {
    let v = server_env.json(&["admin", "pair", "--name", "Laptop", "--scope", scope, "--json"]);
    (v["code"].as_str().unwrap().to_string(), v["fingerprint"].as_str().unwrap().to_string())
}

async fn admin(
    server: &Server,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = server.http.request(method, format!("{}{path}", server.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let sig = r.headers().get("KeyManager-Signature").map(|v| v.to_str().unwrap().to_string());
    let bytes = r.bytes().await.unwrap();
    let sig = sig.unwrap_or_else(|| panic!("{path}: every admin answer is signed"));
    assert!(
        keymanager::signing::verify(&server.public_key, &bytes, sig.trim_start_matches("ed25519=")),
        "{path}: the signature is the server's"
    );
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_pairs_devices_checks_every_request_and_serves_the_cli() {
    use reqwest::Method;
    let server_env = Env::new();
    let id = seed(&server_env);
    let server = Server::start(&server_env);

    // Off until a device is paired: the paths do not exist.
    let (s, v) = admin(&server, Method::GET, "/admin/v1/whoami", None, None).await;
    assert_eq!((s, v["code"].as_str()), (404, Some("NOT_FOUND_PATH")));

    // A support device pairs once; the code is single-use.
    let (code, fingerprint) = pairing_code(&server_env, "support");
    assert_eq!(fingerprint, keymanager::remote::fingerprint(&server.public_key));
    let (s, paired) =
        admin(&server, Method::POST, "/admin/v1/pair", None, Some(json!({"code": code, "name": "Support laptop"})))
            .await;
    assert_eq!(s, 200, "{paired}");
    let token = paired["token"].as_str().unwrap().to_string();
    assert_eq!(paired["public_key"], server.public_key.as_str());
    assert_eq!(paired["device"]["scopes"], "support");
    let (s, v) = admin(&server, Method::POST, "/admin/v1/pair", None, Some(json!({"code": code}))).await;
    assert_eq!((s, v["code"].as_str()), (401, Some("admin.pairing_code_invalid")), "single use");

    // Behind a trusted proxy (the Caddy set-up), the proxy must say the client used https.
    let proxied = Server::start_with(&server_env, &["--trusted-proxy", "127.0.0.1"]);
    let ask = |proto: Option<&'static str>| {
        let mut r = proxied.http.get(format!("{}/admin/v1/whoami", proxied.base)).bearer_auth(&token);
        r = r.header("x-forwarded-for", "203.0.113.5");
        if let Some(p) = proto {
            r = r.header("x-forwarded-proto", p);
        }
        r.send()
    };
    let plain = ask(None).await.unwrap();
    assert_eq!(plain.status(), 403);
    assert!(plain.text().await.unwrap().contains("admin.https_required"));
    assert_eq!(ask(Some("http")).await.unwrap().status(), 403);
    assert_eq!(ask(Some("https")).await.unwrap().status(), 200);
    drop(proxied);

    // The auth table.
    let (s, v) = admin(&server, Method::GET, "/admin/v1/whoami", None, None).await;
    assert_eq!((s, v["code"].as_str()), (401, Some("admin.unauthorized")));
    let (s, v) = admin(&server, Method::GET, "/admin/v1/whoami", Some(&token), None).await;
    assert_eq!((s, v["name"].as_str()), (200, Some("Support laptop")));
    let (s, v) = admin(&server, Method::GET, "/admin/v1/devices", Some(&token), None).await;
    assert_eq!((s, v["code"].as_str()), (403, Some("admin.forbidden")), "listing devices needs owner");
    let (s, v) = admin(
        &server,
        Method::POST,
        &format!("/admin/v1/licenses/{id}/status"),
        Some(&token),
        Some(json!({"action": "revoke", "reason": "x"})),
    )
    .await;
    assert_eq!((s, v["code"].as_str()), (403, Some("admin.forbidden")), "revoking needs owner");
    let (s, v) =
        admin(&server, Method::POST, "/admin/v1/licenses/page", Some(&token), Some(json!({"limit": 10}))).await;
    assert_eq!((s, v["licenses"].as_array().map(Vec::len)), (200, Some(1)));
    let (s, v) = admin(
        &server,
        Method::POST,
        &format!("/admin/v1/licenses/{id}/status"),
        Some(&token),
        Some(json!({"action": "suspend", "reason": "Chargeback"})),
    )
    .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("suspended")));
    let detail = server_env.ok(&["licenses", "show", &id.to_string()]);
    assert!(detail.contains("Chargeback"), "{detail}");
    let trail = keymanager::Store::open_in_dir(server_env.dir.path()).unwrap().audit_recent(50).unwrap();
    let said = trail.iter().find(|a| a.action == "admin.change").map(|a| a.message.clone()).unwrap_or_default();
    assert!(said.contains("Support laptop"), "changes are audited with the device's name: {said}");

    // The CLI of another data folder, paired as the owner, works on the server with --remote.
    let desk = Env::new();
    let (owner_code, fp) = pairing_code(&server_env, "owner");
    let (c, out, err) = desk.out(&[
        "remote",
        "add",
        "vps",
        &server.base,
        "--code",
        &owner_code,
        "--fingerprint",
        &fp,
        "--device-name",
        "Desk",
    ]);
    assert_eq!(c, 0, "{out}{err}");
    assert!(
        !desk.dir.path().join("remotes.json").exists()
            || !std::fs::read_to_string(desk.dir.path().join("remotes.json")).unwrap().contains("kmdev_"),
        "the token is in the keychain, not the remotes file"
    );
    let (c, out, err) = desk.out(&["--remote", "vps", "licenses", "list"]);
    assert_eq!(c, 0, "{err}");
    assert!(out.contains("suspended") && out.contains("Remote plugin"), "{out}");
    // The change feed: a watcher sees the server's commits as they happen.
    let mut watch = desk
        .cmd(&["remote", "watch", "vps", "--count", "1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once it says it is watching, the server is listening: every commit from then on is told.
    let mut said = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(watch.stderr.take().unwrap()), &mut said).unwrap();
    assert!(said.starts_with("Watching"), "{said}");
    let (c, out, _) = desk.out(&["--remote", "vps", "licenses", "reactivate", &id.to_string(), "--reason", "Resolved"]);
    let watched = {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            if let Some(status) = watch.try_wait().unwrap() {
                assert!(status.success(), "the watcher ended with {status}");
                break;
            }
            assert!(std::time::Instant::now() < deadline, "no change arrived through the feed");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let mut text = String::new();
        std::io::Read::read_to_string(&mut watch.stdout.take().unwrap(), &mut text).unwrap();
        text
    };
    assert!(watched.contains("licenses") && watched.contains("audit_log"), "{watched}");
    assert_eq!((c, out.contains("is active")), (0, true), "{out}");
    let (c, _, err) = desk.out(&["--remote", "vps", "lookup", "not-a-code"]);
    assert_eq!(c, 3, "a malformed code is a no, answered by the server: {err}");
    let (c, _, err) = desk.out(&["--remote", "nowhere", "licenses", "list"]);
    assert!(c == 1 && err.contains("remote.not_found"), "{err}");
    let listed = desk.ok(&["remote", "list"]);
    assert_eq!(desk.out(&["--remote", "vps", "remote", "list"]).1, listed, "remote commands stay local");
    assert!(listed.contains("vps") && listed.contains("Desk"), "{listed}");

    // A wrong fingerprint refuses to pair (another server, or someone in between).
    let (code3, _) = pairing_code(&server_env, "support");
    let (c, _, err) =
        desk.out(&["remote", "add", "other", &server.base, "--code", &code3, "--fingerprint", "0000-0000-0000-0000"]);
    assert!(c == 1 && err.contains("remote.key_mismatch"), "{err}");

    // Revoked: 401 with its own code.
    let devices = server_env.json(&["admin", "devices", "--json"]);
    let support_id =
        devices.as_array().unwrap().iter().find(|d| d["name"] == "Support laptop").unwrap()["id"].to_string();
    server_env.ok(&["admin", "devices", "--revoke", &support_id]);
    let (s, v) = admin(&server, Method::GET, "/admin/v1/whoami", Some(&token), None).await;
    assert_eq!((s, v["code"].as_str()), (401, Some("admin.token_revoked")));

    // An address that keeps guessing is locked out, even with a good token afterwards.
    for _ in 0..keymanager::admin::LOCKOUT_AFTER {
        let (s, _) = admin(&server, Method::GET, "/admin/v1/whoami", Some("kmdev_guess"), None).await;
        assert_eq!(s, 401);
    }
    let (s, v) = admin(&server, Method::GET, "/admin/v1/whoami", Some("kmdev_guess"), None).await;
    assert_eq!((s, v["code"].as_str()), (429, Some("admin.locked_out")));
    let (c, _, err) = desk.out(&["--remote", "vps", "licenses", "list"]);
    assert!(c == 1 && err.contains("admin.locked_out"), "{err}");

    // Forgetting the remote takes its token out of the keychain.
    desk.ok(&["remote", "remove", "vps"]);
    let (c, _, err) = desk.out(&["--remote", "vps", "licenses", "list"]);
    assert!(c == 1 && err.contains("remote.not_found"), "{err}");

    // Nothing printed anywhere carries a device token.
    assert!(!desk.printed_contains("kmdev_") && !server_env.printed_contains(&token));
    assert!(!server.output().contains("kmdev_"));
}
