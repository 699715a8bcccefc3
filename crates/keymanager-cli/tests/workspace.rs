//! The remote workspace end to end (issue 23): every operation of the window travels to a live
//! `keymanager serve` through `POST /admin/v1/op/{name}` with its own scope; the CLI works on the
//! server with `--remote` beyond licenses; a server backup is pulled back and passes
//! `PRAGMA integrity_check`; a local database of 100,000 licenses moves to the server; a change
//! made while the server is down is kept, not dropped.

use serde_json::{json, Value};

mod common;
use common::server::Server;
use common::Env;

#[path = "../../keymanager/benches/seed/mod.rs"]
#[allow(dead_code)]
mod seed;

async fn op(server: &Server, name: &str, token: &str, body: Value) -> (u16, Value) {
    let r = server
        .http
        .post(format!("{}/admin/v1/op/{name}", server.base))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let sig = r.headers().get("KeyManager-Signature").map(|v| v.to_str().unwrap().to_string()).expect("signed");
    let bytes = r.bytes().await.unwrap();
    assert!(keymanager::signing::verify(&server.public_key, &bytes, sig.trim_start_matches("ed25519=")));
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn pair(server_env: &Env, server: &Server, scope: &str) -> String {
    let v = server_env.json(&["admin", "pair", "--name", scope, "--scope", scope, "--json"]);
    let r = server
        .http
        .post(format!("{}/admin/v1/pair", server.base))
        .json(&json!({"code": v["code"], "name": format!("{scope} device")}))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    v["token"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_runs_on_the_server_with_its_scope_and_the_cli_follows() {
    let server_env = Env::new();
    let p = server_env.json(&["products", "add", "--name", "Served plugin", "--json"]);
    let pid = p["id"].as_i64().unwrap();
    server_env.ok(&["licenses", "issue", "--product", &pid.to_string(), "--buyer", "ann"]);
    let id = server_env.licenses()[0]["id"].as_i64().unwrap();
    let mut server = Server::start(&server_env);
    let owner = pair(&server_env, &server, "owner").await;
    let support = pair(&server_env, &server, "support").await;
    let publish = pair(&server_env, &server, "publish").await;

    // Reads and changes of every page, as the window sends them.
    let (s, v) = op(&server, "dashboard", &support, json!({})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["licenses"]["total"], 1, "{v}");
    let (s, v) = op(&server, "products_list", &support, json!({})).await;
    assert_eq!((s, v[0]["name"].as_str()), (200, Some("Served plugin")));
    let (s, v) = op(&server, "settings_update", &support, json!({"changes": {"history_days": "45"}})).await;
    assert_eq!((s, v["code"].as_str()), (403, Some("admin.forbidden")), "settings need the owner");
    let (s, v) = op(&server, "settings_update", &owner, json!({"changes": {"history_days": "45"}})).await;
    assert_eq!((s, v["history_days"].as_u64()), (200, Some(45)));
    let (s, v) = op(&server, "license_detail", &support, json!({"id": id})).await;
    assert_eq!((s, v["license"]["buyer"].as_str()), (200, Some("ann")));
    let (s, v) =
        op(&server, "license_change_status", &support, json!({"id": id, "action": "revoke", "reason": "x"})).await;
    assert_eq!((s, v["code"].as_str()), (403, Some("admin.forbidden")), "revoking needs the owner");
    let (s, v) =
        op(&server, "license_change_status", &publish, json!({"id": id, "action": "suspend", "reason": "x"})).await;
    assert_eq!((s, v["code"].as_str()), (403, Some("admin.forbidden")), "a CI job's device touches releases only");
    let (s, v) = op(&server, "releases_list", &publish, json!({"productId": pid})).await;
    assert_eq!((s, v.as_array().map(Vec::len)), (200, Some(0)), "{v}");
    let (s, v) = op(&server, "token_status", &owner, json!({})).await;
    assert_eq!((s, v["configured"].as_bool()), (200, Some(false)), "{v}");
    assert!(!v.to_string().contains("kmdev_"));
    let (s, v) = op(&server, "license_detail", &support, json!({"id": "seven"})).await;
    assert_eq!((s, v["code"].as_str()), (422, Some("input.invalid")), "a bad body is a clear error: {v}");
    let (s, v) = op(&server, "no_such_operation", &owner, json!({})).await;
    assert_eq!((s, v["code"].as_str()), (404, Some("NOT_FOUND_PATH")));
    // A device never names a file of the server's disk.
    let (s, v) =
        op(&server, "release_add_file", &owner, json!({"path": "/etc/passwd", "request": {"productId": pid}})).await;
    assert_eq!((s, v["code"].as_str()), (404, Some("NOT_FOUND_PATH")));
    let (s, v) = op(&server, "backup_restore", &owner, json!({"path": "/etc/passwd"})).await;
    assert_eq!((s, v["field"].as_str()), (422, Some("path")), "only a listed backup: {v}");
    let (s, _) = op(&server, "dashboard", "kmdev_wrong", json!({})).await;
    assert_eq!(s, 401);
    // Changes are audited with the device's name.
    let trail = keymanager::Store::open_in_dir(server_env.dir.path()).unwrap().audit_recent(20).unwrap();
    assert!(
        trail.iter().any(|a| a.action == "admin.change"
            && a.message.contains("owner device")
            && a.message.contains("history_days")),
        "{trail:?}"
    );

    // The CLI of another data folder: the other commands go there too.
    let desk = Env::new();
    let code = server_env.json(&["admin", "pair", "--scope", "owner", "--json"])["code"].as_str().unwrap().to_string();
    desk.ok(&["remote", "add", "vps", &server.base, "--code", &code]);
    let products = desk.ok(&["--remote", "vps", "products", "list"]);
    assert!(products.contains("Served plugin"), "{products}");
    assert_eq!(desk.ok(&["--remote", "vps", "settings", "get", "history_days"]).trim(), "45");
    desk.ok(&["--remote", "vps", "settings", "set", "history_days", "60"]);
    assert_eq!(server_env.ok(&["settings", "get", "history_days"]).trim(), "60");
    let info = desk.json(&["--remote", "vps", "info", "--json"]);
    assert_eq!(info["data_dir"].as_str(), Some(server_env.dir.path().to_str().unwrap()));
    let csv = desk.ok(&["--remote", "vps", "licenses", "export"]);
    assert!(csv.lines().count() == 2 && csv.contains("ann"), "{csv}");
    let saved = desk.dir.path().join("server-licenses.csv");
    let said = desk.ok(&["--remote", "vps", "licenses", "export", "--output", saved.to_str().unwrap()]);
    assert!(said.contains("Wrote 1 licenses"), "{said}");
    assert_eq!(std::fs::read_to_string(&saved).unwrap(), csv, "the same CSV, in the file");
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&saved).unwrap().permissions().mode() & 0o777, 0o600, "it names buyers");
    }
    let made = desk.json(&["--remote", "vps", "products", "add", "--name", "Made remotely", "--json"]);
    assert_eq!(made["name"], "Made remotely");
    desk.ok(&["--remote", "vps", "licenses", "edit", &id.to_string(), "--note", "VIP buyer"]);
    let shown = server_env.json(&["licenses", "show", &id.to_string(), "--json"]);
    assert_eq!(shown["license"]["note"], "VIP buyer", "{shown}");
    let (c, _, err) = desk.out(&["--remote", "vps", "serve"]);
    assert!(c != 0 && err.contains("run it on the server"), "{err}");

    // A release uploaded from here (the zip travels in the request, as from a CI job).
    let zip = desk.dir.path().join("km-updates-demo-1.0.0.zip");
    std::fs::write(&zip, common::shop::package("km-updates-demo", "1.0.0")).unwrap();
    let pid_text = pid.to_string();
    desk.ok(&[
        "--remote",
        "vps",
        "products",
        "edit",
        &pid_text,
        "--update-slug",
        "km-updates-demo",
        "--update-kind",
        "wp-plugin",
    ]);
    let added =
        desk.json(&["--remote", "vps", "releases", "add", "--product", &pid_text, zip.to_str().unwrap(), "--json"]);
    let sha = added["release"]["sha256"].as_str().unwrap_or_else(|| panic!("{added}")).to_string();
    assert!(desk.ok(&["--remote", "vps", "releases", "list", "--product", &pid_text]).contains("1.0.0"));

    // A backup of the server, pulled here, checked, with its release packages beside it.
    let pulled = desk.dir.path().join("pulled/server.db");
    let (c, out, err) = desk.out(&["--remote", "vps", "backup", "--to", pulled.to_str().unwrap()]);
    assert_eq!(c, 0, "{out}{err}");
    let package = std::fs::read(desk.dir.path().join(format!("pulled/packages/{sha}.zip"))).unwrap();
    assert_eq!(package, std::fs::read(&zip).unwrap(), "the package came back byte for byte");
    let check = keymanager::Store::check_backup(&pulled).unwrap();
    assert_eq!((check.licenses, check.products), (1, 2), "the license and both products");

    // A local database of 100,000 licenses moves in: refused while the server holds licenses,
    // then replaced when confirmed; the server keeps its old data aside.
    {
        let mut local = keymanager::Store::open_in_dir(desk.dir.path()).unwrap();
        seed::seed(&mut local, 100_000);
    }
    let (c, _, err) = desk.out(&["remote", "move", "vps"]);
    assert!(c != 0 && err.contains("remote.not_empty"), "{err}");
    let started = std::time::Instant::now();
    let (c, out, err) = desk.out(&["remote", "move", "vps", "--replace"]);
    assert_eq!(c, 0, "{out}{err}");
    eprintln!("moved 100,000 licenses in {:?}", started.elapsed());
    let counts = desk.json(&["--remote", "vps", "licenses", "list", "--limit", "5", "--json"]);
    assert_eq!(counts.as_array().map(Vec::len), Some(5));
    let (s, v) = op(&server, "dashboard", &owner, json!({})).await;
    assert_eq!((s, v["licenses"]["total"].as_u64()), (200, Some(100_000)), "{v}");
    // This computer stops syncing and says where its data went.
    let local = keymanager::Store::open_in_dir(desk.dir.path()).unwrap();
    assert!(local.settings().unwrap().archived_to.contains("vps"));
    assert!(local.sync_state().unwrap().paused);
    drop(local);
    // Its local data is read-only for the CLI too (reads work; changes say where to go).
    let (c, _, err) = desk.out(&["products", "add", "--name", "Too late"]);
    assert!(c != 0 && err.contains("input.invalid") && err.contains("vps"), "{err}");
    let (c, _, err) = desk.out(&["sync"]);
    assert!(c != 0 && err.contains("archive"), "{err}");
    assert!(!desk.ok(&["licenses", "list", "--limit", "1"]).is_empty());
    let back = desk.dir.path().join("pulled/after-move.db");
    desk.ok(&["--remote", "vps", "backup", "--to", back.to_str().unwrap()]);
    assert_eq!(keymanager::Store::check_backup(&back).unwrap().licenses, 100_000, "integrity_check passed");

    // The server goes away: a change is kept, not dropped, and nothing secret is kept.
    let addr = server.addr().to_string();
    server.terminate();
    let (c, _, err) = desk.out(&["--remote", "vps", "licenses", "suspend", "7", "--reason", "chargeback"]);
    assert!(c != 0 && err.contains("remote.unreachable") && err.contains("kept"), "{err}");
    let kept = keymanager::workspace::unsent::Unsent::new(desk.dir.path(), "vps").list().unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!((kept[0].op.as_str(), kept[0].body["reason"].as_str()), ("license_change_status", Some("chargeback")));
    let refused = desk.run(&["--remote", "vps", "email", "password"], "hunter2-password\n");
    assert_ne!(refused.status.code(), Some(0));
    assert_eq!(
        keymanager::workspace::unsent::Unsent::new(desk.dir.path(), "vps").list().unwrap().len(),
        1,
        "a secret is never kept"
    );
    assert!(!std::fs::read_to_string(desk.dir.path().join("unsent-vps.json")).unwrap().contains("hunter2"));

    // Back on the same address: the kept change is listed and sent when asked.
    let _server = Server::spawn_at(&server_env, &addr, &[], |_| {});
    let listed = desk.ok(&["remote", "unsent", "vps"]);
    assert!(listed.contains(&kept[0].id) && listed.contains("chargeback"), "{listed}");
    desk.ok(&["remote", "unsent", "vps", "--retry", &kept[0].id]);
    assert!(desk.ok(&["remote", "unsent", "vps"]).contains("No change is waiting"));
    let seven = desk.json(&["--remote", "vps", "licenses", "show", "7", "--json"]);
    assert_eq!(seven["license"]["status"], "suspended");
}
