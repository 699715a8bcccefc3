//! The `envato-sandbox` binary as a person or a script uses it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

fn http(addr: &str, method: &str, path: &str, body: &str, token: Option<&str>) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let auth = token.map(|t| format!("authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\n{auth}content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out[9..12].parse().unwrap();
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

#[test]
fn prints_its_address_serves_controls_and_stops_cleanly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_envato-sandbox"))
        .args(["--port", "0", "--sales", "30", "--items", "4"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first.strip_prefix("envato-sandbox listening on ").expect(&first).to_string();
    let addr = url.trim_start_matches("http://").to_string();

    assert_eq!(http(&addr, "GET", "/__sandbox/health", "", None), (200, "ok".into()));
    let (status, body) = http(&addr, "GET", "/whoami", "", Some(envato_sandbox::data::SELLER_TOKEN));
    assert_eq!(status, 200);
    assert!(body.contains("sale:history"));
    assert_eq!(http(&addr, "GET", "/whoami", "", Some(envato_sandbox::data::REVOKED_TOKEN)).0, 401);

    // A malformed code meets the firewall's plain text, as on the real API.
    let (status, body) =
        http(&addr, "GET", "/v3/market/author/sale?code=1234", "", Some(envato_sandbox::data::SELLER_TOKEN));
    assert_eq!((status, body.as_str()), (403, "\"error code: 1020\""));

    // Switch a variant and inject a fault at run time.
    let (status, _) = http(&addr, "POST", "/__sandbox/config", r#"{"faults":{"fail_next":["server_error"]}}"#, None);
    assert_eq!(status, 200);
    assert_eq!(
        http(&addr, "GET", "/v3/market/author/sales?page=1", "", Some(envato_sandbox::data::SELLER_TOKEN)).0,
        500
    );
    assert_eq!(
        http(&addr, "GET", "/v3/market/author/sales?page=1", "", Some(envato_sandbox::data::SELLER_TOKEN)).0,
        200
    );

    let (_, items) = http(
        &addr,
        "GET",
        "/v1/discovery/search/search/item?username=demo-author&page=1&page_size=100",
        "",
        Some(envato_sandbox::data::SELLER_TOKEN),
    );
    let items: serde_json::Value = serde_json::from_str(&items).unwrap();
    let item_id = items["matches"][0]["id"].as_str().unwrap().to_string();
    let (status, sale) =
        http(&addr, "POST", "/__sandbox/sales", &format!(r#"{{"item_id":{item_id},"buyer":"new-buyer"}}"#), None);
    assert_eq!(status, 201);
    let code = serde_json::from_str::<serde_json::Value>(&sale).unwrap()["code"].as_str().unwrap().to_string();
    let (status, body) = http(
        &addr,
        "GET",
        &format!("/v3/market/author/sale?code={code}"),
        "",
        Some(envato_sandbox::data::SELLER_TOKEN),
    );
    assert_eq!(status, 200);
    assert!(body.contains("new-buyer"));
    assert_eq!(http(&addr, "POST", "/__sandbox/refund", &format!(r#"{{"code":"{code}"}}"#), None).0, 204);
    assert_eq!(
        http(
            &addr,
            "GET",
            &format!("/v3/market/author/sale?code={code}"),
            "",
            Some(envato_sandbox::data::SELLER_TOKEN)
        )
        .0,
        404
    );

    let (_, stats) = http(&addr, "GET", "/__sandbox/stats", "", None);
    let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(stats["by_endpoint"]["sales"], 2);

    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l == "envato-sandbox stopping"), "{rest:?}");
}

#[test]
fn the_same_seed_gives_the_same_data_and_seed_files_load() {
    let dir = tempfile::tempdir().unwrap();
    let dump = |name: &str, seed: &str| {
        let path = dir.path().join(name);
        let ok = Command::new(env!("CARGO_BIN_EXE_envato-sandbox"))
            .args(["--seed", seed, "--sales", "50", "--days", "30", "--dump-seed"])
            .arg(&path)
            .status()
            .unwrap();
        assert!(ok.success());
        serde_json::from_slice::<serde_json::Value>(&std::fs::read(path).unwrap()).unwrap()
    };
    let a = dump("a.json", "9");
    let b = dump("b.json", "9");
    // Only the clock-relative dates may differ between two runs a moment apart.
    let codes =
        |v: &serde_json::Value| v["sales"].as_array().unwrap().iter().map(|s| s["code"].clone()).collect::<Vec<_>>();
    assert_eq!(codes(&a), codes(&b));
    assert_ne!(codes(&a), codes(&dump("c.json", "10")));
    let sales = a["sales"].as_array().unwrap();
    assert!(sales.iter().any(|s| s["buyer"].is_null()), "guest checkouts");
    assert!(sales.iter().any(|s| s["license"] == "Extended License") || sales.len() < 40);
    assert!(sales.iter().any(|s| s["supported_until"].is_null()), "items without support");

    let mut child = Command::new(env!("CARGO_BIN_EXE_envato-sandbox"))
        .args(["--port", "0", "--data"])
        .arg(dir.path().join("a.json"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(first.starts_with("envato-sandbox listening on http://127.0.0.1:"), "{first}");
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(child.wait().unwrap().success());
}

#[test]
fn a_bad_seed_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    std::fs::write(&path, "{ not json").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_envato-sandbox")).arg("--data").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}
