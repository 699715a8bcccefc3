//! Site-aware activations through a live `keymanager serve` and the CLI: `www` is the same site,
//! staging does not count (up to its own limit), a validation from a copied site is asked about
//! (`SITE_MISMATCH`), and the seller sees the grouping.

use serde_json::json;

mod common;
use common::server::Server;
use common::Env;

fn license(env: &Env, limit: u32) -> String {
    let p = env.json(&["products", "add", "--name", "Theme", "--activation-limit", &limit.to_string(), "--json"]);
    env.ok(&["licenses", "issue", "--product", &p["id"].to_string()]).trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sites_staging_www_and_a_copied_site_over_http() {
    let env = Env::new();
    let key = license(&env, 1);
    let server = Server::start(&env);

    // A production site, by its URL alone: the fingerprint is the canonical site.
    let (s, v) = server.post("/v1/activations", json!({"key": key, "site_url": "https://WWW.Shop.example.com/"})).await;
    assert_eq!((s, v["code"].as_str()), (201, Some("ACTIVATED")), "{v}");
    assert_eq!(v["activation"]["site"], "shop.example.com");
    assert_eq!(v["activation"]["environment"], "production");
    assert_eq!(v["activation"]["fingerprint"], "site:shop.example.com");
    assert_eq!(v["request"]["site"], "shop.example.com");
    // Without www, over http: the same site, the same activation.
    let (s, v) = server.post("/v1/activations", json!({"key": key, "site_url": "http://shop.example.com"})).await;
    assert_eq!((s, v["code"].as_str()), (200, Some("ALREADY_ACTIVATED")), "{v}");
    // Five staging sites do not count; the sixth is over their own limit.
    for i in 0..5 {
        let url = format!("https://staging-shop{i}.kinsta.cloud");
        let (s, v) = server.post("/v1/activations", json!({"key": key, "site_url": url})).await;
        assert_eq!((s, v["code"].as_str()), (201, Some("ACTIVATED")), "{v}");
        assert_eq!(v["activation"]["environment"], "staging");
        assert_eq!(
            (v["license"]["activations_used"].as_u64(), v["license"]["dev_activations_used"].as_u64()),
            (Some(1), Some(i + 1))
        );
    }
    let (s, v) =
        server.post("/v1/activations", json!({"key": key, "site_url": "https://staging.shop.example.com"})).await;
    assert_eq!((s, v["code"].as_str()), (422, Some("DEV_SITE_LIMIT_EXCEEDED")), "{v}");
    // A second production site is over the limit (the first was seen just now).
    let (s, v) = server.post("/v1/activations", json!({"key": key, "site_url": "https://other.example.org"})).await;
    assert_eq!((s, v["code"].as_str()), (422, Some("ACTIVATION_LIMIT_EXCEEDED")), "{v}");
    // A reported environment counts only when the seller trusts it.
    let (s, v) = server
        .post(
            "/v1/activations",
            json!({"key": key, "site_url": "https://preview.example.org", "environment": "staging"}),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (422, Some("ACTIVATION_LIMIT_EXCEEDED")), "not trusted: production: {v}");

    // Validate: the same site (any spelling) is VALID; a copy of it elsewhere is asked about.
    let fp = "site:shop.example.com";
    let (_, v) = server
        .post(
            "/v1/licenses/validate",
            json!({"key": key, "fingerprint": fp, "site_url": "https://www.shop.example.com/"}),
        )
        .await;
    assert_eq!(v["code"], "VALID", "{v}");
    let (_, v) = server
        .post("/v1/licenses/validate", json!({"key": key, "fingerprint": fp, "site_url": "https://clone.example.net"}))
        .await;
    assert_eq!((v["code"].as_str(), v["valid"].as_bool()), (Some("SITE_MISMATCH"), Some(false)), "{v}");
    assert_eq!(v["activation"]["site"], "shop.example.com");
    assert_eq!(v["request"]["site"], "clone.example.net");
    // Not activated is said before a mismatch.
    let (_, v) = server
        .post(
            "/v1/licenses/validate",
            json!({"key": key, "fingerprint": "nope", "site_url": "https://clone.example.net"}),
        )
        .await;
    assert_eq!(v["code"], "NOT_ACTIVATED");
    // A bad site is a bad request.
    let (s, v) = server.post("/v1/activations", json!({"key": key, "site_url": "shop.example.com"})).await;
    assert_eq!((s, v["code"].as_str()), (400, Some("BAD_REQUEST")));
    // Deactivate by site: the slot is free for the moved site.
    let (s, v) =
        server.post("/v1/activations/deactivate", json!({"key": key, "site_url": "https://shop.example.com"})).await;
    assert_eq!((s, v["code"].as_str()), (200, Some("DEACTIVATED")), "{v}");
    let (s, _) = server.post("/v1/activations", json!({"key": key, "site_url": "https://other.example.org"})).await;
    assert_eq!(s, 201);

    // The seller trusts reported environments: the preview site reports staging and is one.
    assert!(env.run(&["settings", "set", "trust_reported_environment", "on"], "").status.success());
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert!(env.run(&["settings", "set", "dev_sites_per_license", "6"], "").status.success());
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let (s, v) = server
        .post(
            "/v1/activations",
            json!({"key": key, "site_url": "https://preview.example.org", "environment": "staging"}),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (201, Some("ACTIVATED")), "{v}");
    assert_eq!(v["activation"]["environment"], "staging");

    // Validations note when an activation was last seen, in batches (no write per validation):
    // the second validation, past the batch's 2 seconds, writes both.
    let id = env.licenses()[0]["id"].to_string();
    let seen = || {
        let d = env.json(&["licenses", "show", &id, "--json"]);
        let a = d["activations"].as_array().unwrap().iter().find(|a| a["site"] == "other.example.org").unwrap().clone();
        (a["activated_at"].as_str().unwrap().to_string(), a["last_seen_at"].as_str().unwrap().to_string())
    };
    let (activated_at, before) = seen();
    assert_eq!(activated_at, before, "positive control: not seen since activating");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let v = json!({"key": key, "fingerprint": "site:other.example.org", "site_url": "https://other.example.org"});
    assert_eq!(server.post("/v1/licenses/validate", v.clone()).await.1["code"], "VALID");
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(server.post("/v1/licenses/validate", v).await.1["code"], "VALID");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while seen().1 == before {
        assert!(std::time::Instant::now() < deadline, "last_seen_at was never written");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(seen().1 > activated_at);

    // What the seller sees.
    let (_, shown, _) = env.out(&["licenses", "show", &id]);
    assert!(shown.contains("Production (1 of 1):") && shown.contains("other.example.org"), "{shown}");
    assert!(shown.contains("Staging and development (6, not counted):"), "{shown}");
    assert!(shown.contains("staging-shop0.kinsta.cloud") && shown.contains("staging, not counted"), "{shown}");
}

#[test]
fn sites_classify_says_which_rule_decided() {
    let env = Env::new();
    let (rc, out, _) = env.out(&["sites", "classify", "https://staging-abc.kinsta.cloud/shop/"]);
    assert_eq!(rc, 0);
    assert!(
        out.starts_with("staging-abc.kinsta.cloud/shop: staging (matches the staging pattern staging-*.kinsta.cloud)"),
        "{out}"
    );
    assert!(out.contains("Does not count"), "{out}");
    let (_, out, _) = env.out(&["sites", "classify", "https://mydev.com"]);
    assert!(out.starts_with("mydev.com: production"), "{out}");
    let (_, out, _) = env.out(&["sites", "classify", "https://bücher.de"]);
    assert!(out.starts_with("xn--bcher-kva.de: production"), "{out}");
    let (_, out, _) = env.out(&["sites", "classify", "http://shop.test"]);
    assert!(out.starts_with("shop.test: local"), "{out}");
    // The seller's own patterns.
    assert!(env.run(&["settings", "set", "staging_hosts", "*.preview.example.com"], "").status.success());
    let (_, out, _) = env.out(&["sites", "classify", "https://a.preview.example.com"]);
    assert!(out.contains("staging (matches the staging pattern *.preview.example.com)"), "{out}");
    let j = env.json(&["sites", "classify", "https://shop.example.com", "--json"]);
    assert_eq!(j["environment"], "production");
    assert_eq!(j["counts_toward_limit"], true);
    let (rc, _, err) = env.out(&["sites", "classify", "not a url"]);
    assert_eq!(rc, 1);
    assert!(err.starts_with("error[input.invalid]"), "{err}");
}

/// A validation's sighting still in the batch when `serve` stops is written at the stop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sightings_waiting_in_the_batch_are_written_when_serve_stops() {
    let env = Env::new();
    let key = license(&env, 1);
    let mut server = Server::start(&env);
    let (s, _) = server.post("/v1/activations", json!({"key": key, "site_url": "https://shop.example.com"})).await;
    assert_eq!(s, 201);
    let id = env.licenses()[0]["id"].to_string();
    let seen = || {
        let d = env.json(&["licenses", "show", &id, "--json"]);
        let a = d["activations"][0].clone();
        (a["activated_at"].as_str().unwrap().to_string(), a["last_seen_at"].as_str().unwrap().to_string())
    };
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let v = json!({"key": key, "fingerprint": "site:shop.example.com", "site_url": "https://shop.example.com"});
    assert_eq!(server.post("/v1/licenses/validate", v).await.1["code"], "VALID");
    let (activated_at, before) = seen();
    assert_eq!(activated_at, before, "positive control: the sighting waits in the batch");
    server.terminate();
    assert!(seen().1 > activated_at, "written at the stop");
}
