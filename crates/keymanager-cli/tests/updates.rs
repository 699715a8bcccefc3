//! Update delivery as the update clients meet it (updates-api.md): plugin-update-checker's and
//! EDD's exact requests against a live `keymanager serve`, every field of their answers, the
//! download path's headers checked the way WordPress checks them (Content-MD5, the Ed25519
//! signature of the SHA-384), and every refusal: suspended, yanked, expired, tampered, over the
//! daily limit. Packages are the test plugin and theme in tests/wordpress.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use keymanager::signing;
use serde_json::{json, Value};
use sha2::Digest;
use std::io::Write;
use std::path::{Path, PathBuf};

mod common;
use common::server::Server;
use common::shop::{package, Shop, WP_UA};

async fn puc(server: &Server, slug: &str, query: &str) -> (u16, Value) {
    let r = server
        .http
        .get(format!("{}/updates/{slug}/info.json?{query}", server.base))
        .header("user-agent", WP_UA)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

async fn edd(server: &Server, path: &str, fields: &[(&str, &str)]) -> (u16, Value) {
    let body: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
    let r = server
        .http
        .post(format!("{}{path}", server.base))
        .header("user-agent", WP_UA)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

fn puc_query(key: &str, installed: &str) -> String {
    format!("installed_version={installed}&php=8.2.36&locale=en_US&checking_for_updates=1&license_key={key}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn puc_and_edd_requests_get_every_field_of_the_contract() {
    let shop = Shop::new();
    shop.release(shop.plugin, "km-updates-demo", "1.0.0", &["--publish"]);
    shop.release(shop.plugin, "km-updates-demo", "1.1.0", &["--publish"]);
    shop.release(shop.plugin, "km-updates-demo", "1.2.0-beta1", &["--publish", "--channel", "beta"]);
    shop.release(shop.theme, "km-updates-theme", "2.0.0", &["--publish"]);
    let theme_key = shop.env.ok(&["licenses", "issue", "--product", &shop.theme.to_string()]).trim().to_string();
    let server = shop.serve();
    let public = format!("http://127.0.0.1:{}", shop.port);

    // PUC's plugin check, exactly as WordPress 6.1 sends it.
    let (s, v) = puc(&server, "km-updates-demo", &puc_query(&shop.key, "1.0.0")).await;
    assert_eq!(s, 200);
    assert_eq!(v["name"], "KM Updates Demo");
    assert_eq!(v["slug"], "km-updates-demo");
    assert_eq!(v["version"], "1.1.0");
    assert_eq!(v["homepage"], "https://keymanager.example/km-updates-demo");
    assert_eq!(v["author"], "KeyManager Test Seller");
    assert_eq!(v["author_homepage"], "https://keymanager.example");
    assert_eq!(
        (v["requires"].as_str(), v["tested"].as_str(), v["requires_php"].as_str()),
        (Some("6.0"), Some("6.1"), Some("7.4"))
    );
    assert!(v["last_updated"].as_str().is_some_and(|t| t.starts_with("20")), "{v}");
    assert!(v["upgrade_notice"].is_string());
    assert!(v["sections"]["description"].as_str().unwrap().contains("asks a KeyManager licensing server"), "{v}");
    let changelog = v["sections"]["changelog"].as_str().unwrap();
    assert!(changelog.contains("<h4>1.1.0</h4>") && changelog.contains("Changes in 1.1.0."), "{changelog}");
    assert!(!changelog.contains("1.2.0-beta1"), "the beta is not in a stable site's changelog");
    let url = v["download_url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{public}/updates/download/KMD1.")), "{url}");
    assert!(!url.contains(&shop.key), "the license key never appears in a link");
    assert_eq!(v["license_status"], "UPDATE_AVAILABLE");
    assert!(v["license_message"].as_str().is_some_and(|m| !m.is_empty()));
    // The link's payload is the contract's, and names the site from WordPress's User-Agent.
    let payload = url.rsplit('/').next().unwrap().split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(claims["v"], 1);
    assert_eq!(claims["license_id"], shop.license_id);
    assert_eq!(claims["site"], "site.example");
    let days = (claims["exp"].as_i64().unwrap() - chrono::Utc::now().timestamp()) as f64 / 86400.0;
    assert!((7.0..=7.05).contains(&days), "links live download_link_days (7), rounded up to the hour: {days}");
    assert_eq!(claims["exp"].as_i64().unwrap() % 3600, 0);
    // Asked again within the hour: the same link (one signature), not a new one per request.
    let (_, again) = puc(&server, "km-updates-demo", &puc_query(&shop.key, "1.0.0")).await;
    assert_eq!(again["download_url"].as_str(), Some(url));

    // Up to date: still eligible, still 200.
    let (s, v) = puc(&server, "km-updates-demo", &puc_query(&shop.key, "1.1.0")).await;
    assert_eq!((s, v["license_status"].as_str(), v["version"].as_str()), (200, Some("UP_TO_DATE"), Some("1.1.0")));
    // No key, an unknown key: the newest version is shown, never a package.
    for (query, code) in [
        ("installed_version=1.0.0&php=8.2.36&locale=en_US&checking_for_updates=1".to_string(), "NO_LICENSE"),
        (puc_query("7KQ2M-XH4TP-9RWC3-NB8FZ", "1.0.0"), "NOT_FOUND"),
    ] {
        let (s, v) = puc(&server, "km-updates-demo", &query).await;
        assert_eq!((s, v["license_status"].as_str(), v["version"].as_str()), (200, Some(code), Some("1.1.0")), "{v}");
        assert!(v.get("download_url").is_none(), "{v}");
    }
    // `key` and `purchase_code` are accepted names; `site` overrides the User-Agent's.
    let (_, v) = puc(
        &server,
        "km-updates-demo",
        &format!("installed_version=1.0.0&key={}&site=https://www.other.example", shop.key),
    )
    .await;
    assert_eq!(v["license_status"], "UPDATE_AVAILABLE");
    let token = v["download_url"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').nth(1).unwrap()).unwrap()).unwrap();
    assert_eq!(claims["site"], "other.example", "www. is the same site");
    // The beta channel: only when asked.
    let (_, v) = puc(&server, "km-updates-demo", &format!("{}&channel=beta", puc_query(&shop.key, "1.1.0"))).await;
    assert_eq!((v["version"].as_str(), v["license_status"].as_str()), (Some("1.2.0-beta1"), Some("UPDATE_AVAILABLE")));
    // Another product's license.
    let (_, v) = puc(&server, "km-updates-demo", &puc_query(&theme_key, "1.0.0")).await;
    assert_eq!(v["license_status"], "PRODUCT_MISMATCH");
    assert!(v.get("download_url").is_none());
    // An unknown slug is the only non-200 metadata answer.
    let (s, _) = puc(&server, "no-such-plugin", &puc_query(&shop.key, "1.0.0")).await;
    assert_eq!(s, 404);

    // A theme: PUC's theme shape.
    let (s, v) = puc(
        &server,
        "km-updates-theme",
        &format!("installed_version=1.0.0&php=8.2.36&locale=en_US&license_key={theme_key}"),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["version"], "2.0.0");
    assert_eq!(v["details_url"], "https://keymanager.example/km-updates-theme");
    assert!(v["download_url"].as_str().unwrap().starts_with(&format!("{public}/updates/download/KMD1.")));
    assert_eq!(v["license_status"], "UPDATE_AVAILABLE");
    assert!(v["license_message"].is_string());

    // EDD's updater: form fields to /edd/ (its trailing slash), by product id.
    let pid = shop.plugin.to_string();
    let fields = [
        ("edd_action", "get_version"),
        ("license", shop.key.as_str()),
        ("item_id", pid.as_str()),
        ("version", "1.0.0"),
        ("slug", "km-updates-demo"),
        ("author", "KeyManager Test Seller"),
        ("url", "http://site.example"),
        ("beta", ""),
        ("php_version", "8.2.36"),
        ("wp_version", "6.1.9"),
    ];
    let (s, v) = edd(&server, "/edd/", &fields).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["new_version"], "1.1.0");
    assert_eq!(v["stable_version"], "1.1.0");
    assert_eq!(v["name"], "KM Updates Demo");
    assert_eq!(v["slug"], "km-updates-demo");
    assert_eq!(v["url"], "https://keymanager.example/km-updates-demo");
    assert_eq!(v["homepage"], "https://keymanager.example/km-updates-demo");
    assert!(v["last_updated"].as_str().is_some_and(|t| !t.is_empty()));
    let package = v["package"].as_str().unwrap();
    assert!(package.starts_with(&format!("{public}/updates/download/KMD1.")));
    assert_eq!(v["download_link"], package);
    assert!(v["sections"]["description"].is_string() && v["sections"]["changelog"].is_string());
    assert!(v["banners"].is_object() && v["icons"].is_object());
    assert_eq!(
        (v["requires"].as_str(), v["tested"].as_str(), v["requires_php"].as_str()),
        (Some("6.0"), Some("6.1"), Some("7.4"))
    );
    assert_eq!(v["msg"], "");
    assert_eq!(v["license_status"], "UPDATE_AVAILABLE");
    // By Envato item name, to /edd without the slash, and as a GET.
    let by_name = [
        ("edd_action", "get_version"),
        ("license", shop.key.as_str()),
        ("item_name", "KM Updates Demo"),
        ("version", "1.0.0"),
    ];
    let (s, v) = edd(&server, "/edd", &by_name).await;
    assert_eq!((s, v["new_version"].as_str()), (200, Some("1.1.0")));
    let query: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(by_name).finish();
    let v: Value = server.http.get(format!("{}/edd?{query}", server.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["license_status"], "UPDATE_AVAILABLE");
    // Beta through EDD's `beta=1`.
    let mut beta = fields.to_vec();
    beta[7] = ("beta", "1");
    let (_, v) = edd(&server, "/edd/", &beta).await;
    assert_eq!(v["new_version"], "1.2.0-beta1");
    assert_eq!(v["stable_version"], "1.1.0");
    // Requirements not met: the site's own version back, no package, and why.
    let mut old_php = fields.to_vec();
    old_php[8] = ("php_version", "7.2.0");
    let (s, v) = edd(&server, "/edd/", &old_php).await;
    assert_eq!(
        (s, v["license_status"].as_str(), v["new_version"].as_str()),
        (200, Some("REQUIREMENTS_NOT_MET"), Some("1.0.0"))
    );
    assert_eq!((v["package"].as_str(), v["download_link"].as_str()), (Some(""), Some("")));
    assert!(v["msg"].as_str().is_some_and(|m| m.contains("PHP")), "{v}");
    assert!(v["sections"].is_object(), "EDD drops answers without sections");
    // No license: the newest version, no package, a message.
    let (_, v) =
        edd(&server, "/edd/", &[("edd_action", "get_version"), ("item_id", pid.as_str()), ("version", "1.0.0")]).await;
    assert_eq!(
        (v["license_status"].as_str(), v["new_version"].as_str(), v["package"].as_str()),
        (Some("NO_LICENSE"), Some("1.1.0"), Some(""))
    );
    assert!(!v["msg"].as_str().unwrap().is_empty());
    // Other EDD actions are not this server's.
    let (s, _) = edd(&server, "/edd/", &[("edd_action", "activate_license"), ("license", shop.key.as_str())]).await;
    assert_eq!(s, 400);

    // KeyManager's own check, signed like every /v1 answer.
    let (s, v) = server
        .post(
            "/v1/updates/check",
            json!({"key": shop.key, "product_id": shop.plugin, "installed_version": "1.0.0", "nonce": "n-9"}),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str(), v["update_available"].as_bool()),
        (200, Some("UPDATE_AVAILABLE"), Some(true)),
        "{v}"
    );
    assert_eq!(v["nonce"], "n-9");
    assert_eq!(v["release"]["version"], "1.1.0");
    assert_eq!(v["release"]["channel"], "stable");
    assert!(v["release"]["changelog"].as_str().unwrap().contains("Changes in 1.1.0."));
    assert!(v["release"]["package"]["url"].as_str().unwrap().contains("/updates/download/KMD1."));
    assert_eq!(v["release"]["package"]["sha256"].as_str().unwrap().len(), 64);
    assert!(v["release"]["package"]["size"].as_u64().unwrap() > 500);
    // The license's own product when none is named; a bad request is 400.
    let (_, v) = server.post("/v1/updates/check", json!({"key": shop.key, "installed_version": "1.1.0"})).await;
    assert_eq!((v["code"].as_str(), v["update_available"].as_bool()), (Some("UP_TO_DATE"), Some(false)));
    let (s, v) = server.post("/v1/updates/check", json!({"key": shop.key})).await;
    assert_eq!((s, v["code"].as_str()), (400, Some("BAD_REQUEST")));

    // The key was in query strings and forms: it is in nothing the server printed.
    assert!(!server.output().contains(&shop.key), "{}", server.output());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_are_checked_like_wordpress_checks_them_and_refused_when_they_must_be() {
    let shop = Shop::new();
    shop.env.ok(&["settings", "set", "downloads_per_day", "3"]);
    shop.release(shop.plugin, "km-updates-demo", "1.0.0", &["--publish"]);
    let r11 = shop.release(shop.plugin, "km-updates-demo", "1.1.0", &["--publish"]);
    let server = shop.serve();
    let (_, v) = puc(&server, "km-updates-demo", &puc_query(&shop.key, "1.0.0")).await;
    let url = v["download_url"].as_str().unwrap().to_string();

    // HEAD: the headers, no body, not counted.
    let head = server.http.head(&url).send().await.unwrap();
    assert_eq!(head.status(), 200);
    let h = head.headers().clone();
    for _ in 0..3 {
        assert_eq!(server.http.head(&url).send().await.unwrap().status(), 200);
    }
    // GET: the package, and every header WordPress checks.
    let r = server.http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let g = r.headers().clone();
    let body = r.bytes().await.unwrap();
    assert_eq!(g["content-type"], "application/zip");
    assert_eq!(g["content-disposition"], "attachment; filename=\"km-updates-demo.zip\"");
    assert_eq!(g["content-length"], body.len().to_string().as_str());
    assert_eq!(g["content-md5"], STANDARD.encode(md5::Md5::digest(&body)).as_str(), "WordPress's verify_file_md5");
    let sha256: String = sha2::Sha256::digest(&body).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(g["etag"], format!("\"{sha256}\"").as_str());
    let signature = g["x-content-signature"].to_str().unwrap();
    let sha384 = sha2::Sha384::digest(&body);
    assert!(
        signing::verify(&server.public_key, &sha384, signature),
        "Ed25519 over the SHA-384, as verify_file_signature checks"
    );
    let mut tampered = body.to_vec();
    tampered[10] ^= 1;
    assert!(!signing::verify(&server.public_key, &sha2::Sha384::digest(&tampered), signature));
    for name in ["content-md5", "etag", "x-content-signature", "content-length"] {
        assert_eq!(h[name], g[name], "HEAD and GET agree on {name}");
    }
    // The zip is the release: the plugin's header says 1.1.0.
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(body.to_vec())).unwrap();
    let mut main = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("km-updates-demo/km-updates-demo.php").unwrap(), &mut main).unwrap();
    assert!(main.contains("Version:           1.1.0"), "{main}");

    // downloads_per_day (3): two more GETs, then 429 with a Retry-After.
    for _ in 0..2 {
        assert_eq!(server.http.get(&url).send().await.unwrap().status(), 200);
    }
    let r = server.http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "TOO_MANY_DOWNLOADS");
    shop.env.ok(&["settings", "set", "downloads_per_day", "100"]);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await; // the server's settings cache
    assert_eq!(server.http.get(&url).send().await.unwrap().status(), 200);

    // A link given before the license was suspended: checked again, 403 with the code.
    shop.env.ok(&["licenses", "suspend", &shop.license_id.to_string(), "--reason", "chargeback"]);
    let r = server.http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "SUSPENDED");
    // Suspended: the update is shown, no package.
    let (s, v) = puc(&server, "km-updates-demo", &puc_query(&shop.key, "1.0.0")).await;
    assert_eq!((s, v["license_status"].as_str(), v["version"].as_str()), (200, Some("SUSPENDED"), Some("1.1.0")));
    assert!(v.get("download_url").is_none());
    shop.env.ok(&["licenses", "reactivate", &shop.license_id.to_string(), "--reason", "resolved"]);
    assert_eq!(server.http.get(&url).send().await.unwrap().status(), 200);

    // Expired and forged links.
    let signer = shop.signer();
    let expired = keymanager::updates::link::token(
        &signer,
        &keymanager::updates::link::LinkClaims {
            v: 1,
            release_id: r11,
            license_id: shop.license_id,
            site: String::new(),
            exp: 1_000,
        },
    );
    let r = server.http.get(format!("{}/updates/download/{expired}", server.base)).send().await.unwrap();
    assert_eq!(r.status(), 410);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "LINK_EXPIRED");
    let other = keymanager::updates::link::token(
        &signing::Signer::generate().unwrap(),
        &keymanager::updates::link::LinkClaims {
            v: 1,
            release_id: r11,
            license_id: shop.license_id,
            site: String::new(),
            exp: i64::MAX,
        },
    );
    let token = url.rsplit('/').next().unwrap();
    let (head_part, sig) = token.rsplit_once('.').unwrap();
    let mut flipped = sig.to_string();
    flipped.replace_range(0..1, if sig.starts_with('A') { "B" } else { "A" });
    for bad in [other, format!("{head_part}.{flipped}"), "KMD1.e30.AAAA".to_string(), "x".repeat(3000)] {
        let r = server.http.get(format!("{}/updates/download/{bad}", server.base)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{bad:.40}");
    }

    // Yanked: never downloaded, never offered; the site on 1.0.0 is up to date again.
    shop.env.ok(&["releases", "yank", &r11.to_string(), "--reason", "breaks checkout"]);
    assert_eq!(server.http.get(&url).send().await.unwrap().status(), 404);
    shop.settle();
    let (_, v) = puc(&server, "km-updates-demo", &puc_query(&shop.key, "1.0.0")).await;
    assert_eq!((v["license_status"].as_str(), v["version"].as_str()), (Some("UP_TO_DATE"), Some("1.0.0")));

    // A support link (`updates link`) downloads too, without a site.
    let link = shop.env.json(&["updates", "link", "--license", &shop.license_id.to_string(), "--json"]);
    assert_eq!(link["version"], "1.0.0");
    assert_eq!(server.http.get(link["url"].as_str().unwrap()).send().await.unwrap().status(), 200);
    // `updates snippet`: the code to paste, with this server's address, the slug and the key.
    let public_key = shop.env.ok(&["keys", "public"]).trim().to_string();
    let puc_code = shop.env.ok(&["updates", "snippet", "--product", &shop.plugin.to_string()]);
    assert!(puc_code.contains(&format!("'{}/updates/km-updates-demo/info.json'", server.base)), "{puc_code}");
    assert!(puc_code.contains(&public_key) && puc_code.contains("wp_signature_softfail"), "{puc_code}");
    let edd_code = shop.env.ok(&["updates", "snippet", "--product", &shop.plugin.to_string(), "--edd"]);
    assert!(edd_code.contains("EDD_SL_Plugin_Updater") && edd_code.contains(&format!("'{}/edd'", server.base)));
    shop.env.ok(&["products", "edit", &shop.theme.to_string(), "--update-kind", "wp-theme"]);
    let (code, _, err) = shop.env.out(&["updates", "snippet", "--product", &shop.theme.to_string(), "--edd"]);
    assert!(code != 0 && err.contains("theme"), "{err}");
    let (code, _, err) = shop.env.out(&["updates", "snippet", "--product", "999"]);
    assert!(code != 0 && err.contains("product.not_found"), "{err}");
    // `updates check` answers as the site is answered (exit 0 with a package).
    let (code, out, _) =
        shop.env.out(&["updates", "check", "--slug", "km-updates-demo", "--key", &shop.key, "--installed", "0.9.0"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("UPDATE_AVAILABLE"), "{out}");
    let (code, out, _) = shop.env.out(&["updates", "check", "--slug", "km-updates-demo", "--installed", "0.9.0"]);
    assert_eq!(code, 3, "{out}");
    assert!(out.starts_with("NO_LICENSE"));
}

/// Clients that start downloads of a large package and never read hold nothing the other
/// requests need: a new download (its checks read the database, its count is a write), a
/// metadata check and a validation are answered at once beside them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_downloads_hold_no_connection_or_thread_others_need() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let shop = Shop::new();
    let zip = shop.env.dir.path().join("large.zip");
    std::fs::write(&zip, common::shop::large_package("km-updates-demo", "1.0.0", 16)).unwrap();
    let plugin = shop.plugin.to_string();
    shop.env.ok(&["releases", "add", "--product", &plugin, &zip.to_string_lossy(), "--publish"]);
    shop.env.ok(&["settings", "set", "downloads_per_day", "100"]);
    let server = shop.serve();
    let (_, v) = puc(&server, "km-updates-demo", &puc_query(&shop.key, "0.9.0")).await;
    let url = v["download_url"].as_str().unwrap().to_string();
    let path = url.strip_prefix(&server.base).unwrap().to_string();

    // 24 downloads started (within the 32 connections an address may hold), none read past the
    // first bytes: each is stuck with the socket's buffers full.
    let addr = server.base.strip_prefix("http://").unwrap().to_string();
    let mut stalled = Vec::new();
    for _ in 0..24 {
        let mut c = tokio::net::TcpStream::connect(&addr).await.unwrap();
        c.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes()).await.unwrap();
        let mut first = [0u8; 12];
        c.read_exact(&mut first).await.unwrap();
        assert_eq!(&first, b"HTTP/1.1 200");
        stalled.push(c);
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let quick = std::time::Duration::from_secs(5);
    let started = std::time::Instant::now();
    // A whole download, checked as WordPress checks it.
    let r = tokio::time::timeout(quick, server.http.get(&url).send()).await.expect("a download beside them").unwrap();
    assert_eq!(r.status(), 200);
    let md5 = r.headers()["content-md5"].to_str().unwrap().to_string();
    let body = tokio::time::timeout(quick, r.bytes()).await.expect("its body").unwrap();
    assert!(body.len() > 16 << 20);
    assert_eq!(STANDARD.encode(md5::Md5::digest(&body)), md5);
    // A metadata check and a signed validation.
    let (s, v) = tokio::time::timeout(quick, puc(&server, "km-updates-demo", &puc_query(&shop.key, "1.0.0")))
        .await
        .expect("a metadata check beside them");
    assert_eq!((s, v["license_status"].as_str()), (200, Some("UP_TO_DATE")));
    let r = tokio::time::timeout(
        quick,
        server.http.post(format!("{}/v1/licenses/validate", server.base)).json(&json!({ "key": shop.key })).send(),
    )
    .await
    .expect("a validation beside them")
    .unwrap();
    assert_eq!(r.status(), 200);
    assert!(started.elapsed() < quick, "answered beside 24 stalled downloads in {:?}", started.elapsed());
    drop(stalled);
}

#[test]
fn publishing_refuses_bad_packages_with_codes_and_keeps_nothing() {
    let shop = Shop::new();
    let dir = shop._dir.path();
    let packages = shop.env.ok(&["info", "--json"]);
    let data_dir = PathBuf::from(serde_json::from_str::<Value>(&packages).unwrap()["data_dir"].as_str().unwrap());
    let stored = || std::fs::read_dir(data_dir.join("packages")).map(|d| d.count()).unwrap_or(0);
    let first = shop.release(shop.plugin, "km-updates-demo", "1.1.0", &["--publish"]);
    assert_eq!(stored(), 1);
    let product = shop.plugin.to_string();
    let add = |file: &Path, extra: &[&str]| {
        let file = file.to_string_lossy().to_string();
        let args = [&["releases", "add", "--product", product.as_str(), &file, "--json"][..], extra].concat();
        let (code, out, err) = shop.env.out(&args);
        assert_eq!(code, 1, "{out}");
        // `error[CODE]: message` on standard error.
        let coded = err.trim().strip_prefix("error[").and_then(|e| e.split_once("]: ")).unwrap_or(("", ""));
        json!({ "code": coded.0, "message": coded.1 })
    };
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    // Not newer than the published 1.1.0 (and the same version twice).
    for v in ["1.0.0", "1.1.0", "1.1.0-beta"] {
        let e = add(&write(&format!("old-{v}.zip"), &package("km-updates-demo", v)), &[]);
        assert_eq!(e["code"], "release.not_newer", "{v}: {e}");
    }
    // The theme's zip for the plugin's product: another folder.
    let e = add(&write("theme.zip", &package("km-updates-theme", "3.0.0")), &[]);
    assert_eq!(e["code"], "release.wrong_folder", "{e}");
    // --version that the header contradicts.
    let e = add(&write("v.zip", &package("km-updates-demo", "1.2.0")), &["--version", "1.3.0"]);
    assert_eq!(e["code"], "release.version_mismatch", "{e}");
    // Not a zip; a damaged one.
    let e = add(&write("junk.zip", b"PK\x03\x04 this is not really a zip"), &[]);
    assert_eq!(e["code"], "release.package_invalid", "{e}");
    let mut damaged = package("km-updates-demo", "1.2.0");
    let mid = damaged.len() / 3;
    for b in &mut damaged[mid..mid + 40] {
        *b ^= 0x55;
    }
    let e = add(&write("damaged.zip", &damaged), &[]);
    assert_eq!(e["code"], "release.package_invalid", "{e}");
    // Over release_max_mb.
    shop.env.ok(&["settings", "set", "release_max_mb", "1"]);
    let mut big = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut big);
        let stored_only = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        z.start_file("km-updates-demo/km-updates-demo.php", stored_only).unwrap();
        z.write_all(package_header("1.2.0").as_bytes()).unwrap();
        z.start_file("km-updates-demo/blob.bin", stored_only).unwrap();
        let mut noise = vec![0u8; 1_200_000];
        for (i, b) in noise.iter_mut().enumerate() {
            *b = (i * 7919 % 251) as u8;
        }
        z.write_all(&noise).unwrap();
        z.finish().unwrap();
    }
    let e = add(&write("big.zip", &big.into_inner()), &[]);
    assert_eq!(e["code"], "release.too_large", "{e}");
    // None of them left a row or a file.
    assert_eq!(shop.env.json(&["releases", "list", "--json"]).as_array().unwrap().len(), 1);
    assert_eq!(stored(), 1, "no package file was kept");

    // Remove refuses a published release; a draft goes with its package.
    shop.env.ok(&["settings", "set", "release_max_mb", "200"]);
    let (code, _, err) = shop.env.out(&["releases", "remove", &first.to_string()]);
    assert_ne!(code, 0);
    assert!(err.contains("only drafts"), "{err}");
    let draft = shop.release(shop.plugin, "km-updates-demo", "1.2.0", &[]);
    assert_eq!(stored(), 2);
    shop.env.ok(&["releases", "remove", &draft.to_string()]);
    assert_eq!(stored(), 1);

    // Re-release 1.1.0 as 1.1.1: the header says 1.1.1, the rest is the same.
    let again = shop.env.json(&["releases", "rerelease", &first.to_string(), "--as", "1.1.1", "--publish", "--json"]);
    assert_eq!(again["release"]["version"], "1.1.1");
    assert_eq!(again["release"]["status"], "published");
    assert_eq!(again["version_from"], "km-updates-demo/km-updates-demo.php");
    let sha = again["release"]["sha256"].as_str().unwrap();
    let mut zip =
        zip::ZipArchive::new(std::fs::File::open(data_dir.join("packages").join(format!("{sha}.zip"))).unwrap())
            .unwrap();
    let mut main = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("km-updates-demo/km-updates-demo.php").unwrap(), &mut main).unwrap();
    assert!(main.contains("Version:           1.1.1") && main.contains("Plugin Name:       KM Updates Demo"), "{main}");
    // Rollout and yank through the CLI; list and show.
    let id = again["release"]["id"].to_string();
    let r = shop.env.json(&["releases", "rollout", &id, "--percent", "25", "--json"]);
    assert_eq!(r["rollout"], 25);
    let r = shop.env.json(&["releases", "yank", &id, "--reason", "wrong build", "--json"]);
    assert_eq!((r["status"].as_str(), r["yank_reason"].as_str()), (Some("yanked"), Some("wrong build")));
    let (code, _, err) = shop.env.out(&["releases", "publish", &id]);
    assert_ne!(code, 0);
    assert!(err.contains("only a draft"), "{err}");
    let show = shop.env.ok(&["releases", "show", &id]);
    assert!(show.contains("Yanked") && show.contains("wrong build"), "{show}");
    // The product got its slug and kind from the first zip.
    let (code, out, _) = shop.env.out(&["products", "edit", &product, "--update-kind", "nonsense"]);
    assert_ne!(code, 0, "{out}");
    let p = shop.env.json(&["products", "edit", &product, "--updates-require-activation", "true", "--json"]);
    assert_eq!(
        (p["slug"].as_str(), p["kind"].as_str(), p["require_activation"].as_bool()),
        (Some("km-updates-demo"), Some("wp-plugin"), Some(true))
    );
    let taken = shop.env.out(&["products", "edit", &shop.theme.to_string(), "--update-slug", "km-updates-demo"]);
    assert!(taken.2.contains("already has the update slug"), "{taken:?}");
}

fn package_header(version: &str) -> String {
    format!("<?php\n/*\n * Plugin Name: KM Updates Demo\n * Version: {version}\n */\n")
}
