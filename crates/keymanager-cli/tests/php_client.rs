//! The PHP client in examples/php against a live `keymanager serve`, with the real PHP
//! interpreter (the test command installs php-cli): activate, validate, the limit, a tampered
//! answer, offline, deactivate, and `updateUrl()` asking for updates as plugin-update-checker does. The server's data is then checked from KeyManager's side.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

mod common;
use common::Env;

#[test]
fn the_php_client_activates_validates_and_rejects_a_tampered_answer() {
    let php = Command::new("php").arg("-v").output();
    assert!(php.is_ok_and(|o| o.status.success()), "php-cli is required (scripts/setup.sh --test installs it)");
    let env = Env::new();
    let p =
        env.json(&["products", "add", "--name", "Theme", "--item-id", "20929979", "--activation-limit", "2", "--json"]);
    let key = env.ok(&["licenses", "issue", "--product", &p["id"].to_string()]).trim().to_string();
    let public_key = env.ok(&["keys", "public"]).trim().to_string();
    // A published release for `updateUrl()` (its slug from the package's folder).
    let zip = env.dir.path().join("km-updates-demo-1.0.0.zip");
    std::fs::write(&zip, common::shop::package("km-updates-demo", "1.0.0")).unwrap();
    env.ok(&["releases", "add", "--product", &p["id"].to_string(), &zip.to_string_lossy(), "--publish"]);
    // Low enough that the script meets the limit at its end.
    assert!(env.run(&["settings", "set", "serve_requests_per_minute", "40"], "").status.success());
    let port = common::shop::free_port();
    env.ok(&["settings", "set", "public_url", &format!("http://127.0.0.1:{port}")]);
    let bind = format!("127.0.0.1:{port}");
    let mut server = env.cmd(&["serve", "--bind", &bind]).stdout(Stdio::piped()).spawn().unwrap();
    let mut first = String::new();
    BufReader::new(server.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let base = first.trim().strip_prefix("listening on ").unwrap().to_string();

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/php/tests/client_test.php");
    let out = Command::new("php").args([script, &base, &public_key, &key, "20929979"]).output().unwrap();
    let _ = Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
    let _ = server.wait();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(text.lines().filter(|l| l.starts_with("ok ")).count(), 30, "{text}");

    // KeyManager's side: the second site's activation remains (the first was freed), with the
    // site-aware ones: shop-six in production, its staging copy not counted.
    let detail = env.json(&["licenses", "show", "1", "--json"]);
    let fps: Vec<&str> =
        detail["activations"].as_array().unwrap().iter().map(|a| a["instance_id"].as_str().unwrap()).collect();
    assert_eq!(fps.len(), 3, "{detail}");
    let sites: Vec<(&str, &str)> = detail["activations"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| Some((a["site"].as_str()?, a["environment"].as_str()?)))
        .collect();
    assert_eq!(sites, [("shop-six.example.com", "production"), ("staging.shop-six.example.com", "staging")]);
    assert_eq!(
        (detail["license"]["activations_used"].as_u64(), detail["license"]["dev_activations_used"].as_u64()),
        (Some(2), Some(1))
    );
    let trail: Vec<&str> = detail["audit"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert_eq!(trail.iter().filter(|a| **a == "activation.created").count(), 4);
    assert_eq!(trail.iter().filter(|a| **a == "activation.removed").count(), 1);
}
