//! Hardening from the command line: concurrent writers on one database, hostile input, and the
//! token searched for on every surface (CLI output with trace logs, the database, its live WAL,
//! the CSV export).

use chrono::Utc;
use envato_sandbox::data::{self, GenSpec};
use envato_sandbox::{RunningSandbox, Switches};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

mod common;
use common::Env;

async fn setup(sales: usize) -> (RunningSandbox, Env) {
    let sb =
        RunningSandbox::start(GenSpec { seed: 61, items: 5, sales, days: 60, now: Utc::now() }, Switches::default())
            .await
            .unwrap();
    let env = Env::with_sandbox(&sb.base_url()).traced();
    assert!(env.run(&["token", "set"], data::SELLER_TOKEN).status.success());
    (sb, env)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_never_fail_with_database_locked() {
    let (sb, env) = setup(4000).await;
    sb.update_switches(|s| {
        s.faults.latency_ms = 5;
        s.variants.page_size = 50;
    });
    assert!(env.run(&["settings", "set", "auto_create_products", "true"], "").status.success());
    let p = env.run(&["products", "add", "--name", "Manual", "--json"], "");
    let pid = serde_json::from_slice::<serde_json::Value>(&p.stdout).unwrap()["id"].as_i64().unwrap().to_string();

    // Two syncs at once (as the app's worker and `keymanager sync` would), and writes beside them.
    let syncs: Vec<_> = (0..2).map(|_| env.cmd(&["sync"]).spawn().unwrap()).collect();
    let mut failures = Vec::new();
    for i in 0..40 {
        let out = match i % 4 {
            0 => env.run(&["licenses", "issue", "--product", pid.as_str()], ""),
            1 => env.run(&["settings", "set", "history_days", if i % 8 == 1 { "60" } else { "90" }], ""),
            2 => env.run(&["products", "add", "--name", &format!("Concurrent {i}")], ""),
            _ => env.run(&["licenses", "list", "--limit", "5", "--json"], ""),
        };
        if !out.status.success() {
            failures.push(String::from_utf8_lossy(&out.stderr).to_string());
        }
    }
    for s in syncs {
        let out = s.wait_with_output().unwrap();
        assert!(out.status.success(), "a sync failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    assert!(failures.is_empty(), "{failures:?}");
    let all = env.run(&["licenses", "list", "--json"], "");
    let n = serde_json::from_slice::<serde_json::Value>(&all.stdout).unwrap().as_array().unwrap().len();
    assert_eq!(n, 4000 + 10, "every sale once, plus the 10 issued by hand");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_gets_a_clear_error_and_writes_nothing() {
    let (_sb, env) = setup(5).await;
    let tables = || keymanager::Store::open_in_dir(env.dir.path()).unwrap().dump_tables(&["lookups"]).unwrap();
    let before = tables();
    assert!(before.contains("# settings") && before.contains("# envato_account"), "the dump covers the tables");
    let sql = "'; DROP TABLE licenses; --";
    let long = "x".repeat(100_000);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["settings", "set", "history_days", sql], "error[settings.invalid_value]"),
        (vec!["settings", "set", sql, "1"], "error[settings.unknown_key]"),
        (vec!["settings", "set", "envato_api_base", &long], "error[settings.unknown_key]"),
        // Negative numbers are values, judged by the core (not clap's usage error).
        (vec!["settings", "set", "default_activation_limit", "-5"], "error[settings.invalid_value]"),
        (vec!["settings", "set", "history_days", "-1"], "error[settings.invalid_value]"),
        (vec!["products", "add", "--name", "ok", "--activation-limit", "-3"], "error[input.invalid]"),
        (vec!["licenses", "list", "--limit", "-1"], "error[input.invalid]"),
        (vec!["licenses", "show", "-7"], "error[license.not_found]"),
        (vec!["--envato-api-base", "http://localhost:1@evil.example", "token", "status"], "error[input.invalid]"),
        (vec!["products", "add", "--name", &long], "error[input.invalid]"),
        (vec!["products", "add", "--name", "ok", "--sku", sql], "error[input.invalid]"),
        (vec!["lookup", sql], ""),
        (vec!["lookup", &long], ""),
        (vec!["activate", sql, "--instance", "x"], "NOT_FOUND"),
        (vec!["activate", &long, "--instance", "x"], "error[input.invalid]"),
        (vec!["validate", sql], "NOT_FOUND"),
        (vec!["licenses", "suspend", "1", "--reason", "r"], "error[license.not_found]"),
        (vec!["review", "map", "1", "2"], "error[product.not_found]"),
    ];
    for (args, want) in &cases {
        let out = env.run(args, "");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        if want.is_empty() {
            // A malformed purchase code is an answer (exit 3), not an error.
            assert_eq!(out.status.code(), Some(3), "{args:?}");
            assert!(String::from_utf8_lossy(&out.stdout).starts_with("MALFORMED"));
        } else if want.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
            // The licensing API's "no" (an unknown key): an answer, exit 3.
            assert_eq!(out.status.code(), Some(3), "{args:?}");
            assert!(String::from_utf8_lossy(&out.stdout).starts_with(&format!("{want}: ")), "{args:?}");
        } else {
            assert_eq!(out.status.code(), Some(1), "{args:?}");
            assert!(stderr.lines().any(|l| l.starts_with(want)), "{args:?}: {stderr}");
            assert!(stderr.len() < 2000, "errors stay readable, even for 100,000-character input");
        }
    }
    // Not UTF-8 at all: a usage error from argument parsing, exit 2.
    let bad = OsStr::from_bytes(b"\xff\xfe\xfd");
    for args in [
        vec![OsStr::new("settings"), OsStr::new("set"), OsStr::new("history_days"), bad],
        vec![OsStr::new("lookup"), bad],
    ] {
        let out = env.run(&args, "");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    // The token is not read from arguments, and garbage on stdin is refused.
    let out = env.run(&["token", "set"], "\u{0}\u{1}\u{2}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("error[envato.token_format]"));
    assert_eq!(tables(), before, "no table changed");
    assert_eq!(env.run(&["products", "list", "--json"], "").stdout, b"[]\n");
    // The lookups of malformed codes are kept in the history, so compare business tables only.
    let licenses = env.run(&["licenses", "list", "--json"], "");
    assert_eq!(licenses.stdout, b"[]\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_appears_on_no_surface() {
    let (sb, env) = setup(50).await;
    // Hold a connection open so the database's WAL stays on disk to be searched.
    let keep = keymanager::Store::open_in_dir(env.dir.path()).unwrap();
    let mut printed = Vec::new();
    let csv = env.dir.path().join("export.csv");
    let code = sb.dataset().sales[3].code.clone();
    // A marker planted where the token must not be: each search below first finds the marker,
    // so a search that cannot see into a surface fails instead of passing.
    let marker = format!("PLANTED{}MARKER", std::process::id());
    let runs: Vec<Vec<&str>> = vec![
        vec!["products", "add", "--name", marker.as_str()],
        vec!["licenses", "issue", "--product", "1", "--buyer", marker.as_str()],
        vec!["settings", "set", "auto_create_products", "on"],
        vec!["token", "status", "--json"],
        vec!["token", "validate", "--json"],
        vec!["sync", "--json"],
        vec!["lookup", code.as_str(), "--json"],
        vec!["licenses", "list", "--json"],
        vec!["licenses", "export", "--output", csv.to_str().unwrap()],
        vec!["info", "--json"],
        vec!["settings", "get", "--json"],
    ];
    for args in &runs {
        let out = env.run(args, "");
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        printed.extend(out.stdout);
        printed.extend(out.stderr);
    }
    assert!(printed.len() > 10_000, "trace logs were captured");
    let has = |b: &[u8], needle: &[u8]| b.windows(needle.len()).any(|w| w == needle);
    let (token, marker) = (data::SELLER_TOKEN.as_bytes(), marker.as_bytes());
    assert!(has(&printed, marker), "positive control: the marker is in the CLI output");
    assert!(!has(&printed, token), "the token is in CLI output or logs");
    let mut searched = Vec::new();
    for entry in std::fs::read_dir(env.dir.path()).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let bytes = std::fs::read(entry.path()).unwrap();
        // The SHM file is SQLite's WAL index: page numbers and checksums, never row data, so no
        // marker can be planted in it; it is searched for the token all the same.
        // The main file may not hold the rows yet (they sit in the WAL until a checkpoint); it is
        // checked again with its control after the last connection closes, below.
        if name.ends_with("-wal") || name.ends_with(".csv") {
            assert!(has(&bytes, marker), "positive control: the marker is in {name}");
        }
        assert!(!has(&bytes, token), "the token is in {name}");
        searched.push(name);
    }
    searched.sort();
    assert_eq!(
        searched,
        ["export.csv", "keymanager.sqlite3", "keymanager.sqlite3-shm", "keymanager.sqlite3-wal"],
        "database, WAL, SHM and export were all searched"
    );
    // Closing the last connection checkpoints the WAL into the database file.
    drop(keep);
    let db = std::fs::read(env.dir.path().join("keymanager.sqlite3")).unwrap();
    assert!(has(&db, marker), "positive control: the marker is in the checkpointed database");
    assert!(!has(&db, token), "the token is in the checkpointed database");
}
