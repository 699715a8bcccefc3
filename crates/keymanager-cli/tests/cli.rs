//! The CLI as a script sees it: exit codes, stdout, stderr, `--json`.

mod common;
use common::Env;

#[test]
fn settings_get_and_set_round_trip() {
    let env = Env::new();
    let all = env.json(&["settings", "get", "--json"]);
    assert_eq!(all["auto_create_products"], false);
    assert_eq!(all["default_activation_limit"], 1);
    assert_eq!(all["default_license_type"], "regular");
    assert_eq!(all["sync_interval_minutes"], 30);
    assert_eq!(all["history_days"], 90);

    assert_eq!(env.ok(&["settings", "set", "history_days", "30"]).trim(), "history_days = 30");
    assert_eq!(env.ok(&["settings", "get", "history_days"]).trim(), "30");
    assert_eq!(env.json(&["settings", "get", "history_days", "--json"])["history_days"], 30);
    let text = env.ok(&["settings", "get"]);
    assert!(text.contains("history_days = 30\n") && text.contains("auto_create_products = false\n"), "{text}");
}

#[test]
fn invalid_values_fail_with_a_code_and_write_nothing() {
    let env = Env::new();
    let out = env.run(&["settings", "set", "sync_interval_minutes", "5"], "");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.starts_with("error[settings.invalid_value]: "), "{err}");
    assert!(err.contains("15 to 1440"), "{err}");
    assert!(out.stdout.is_empty());
    assert_eq!(env.ok(&["settings", "get", "sync_interval_minutes"]).trim(), "30");

    let out = env.run(&["settings", "set", "nope", "1"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error[settings.unknown_key]: "));
}

#[test]
fn usage_errors_exit_2() {
    let env = Env::new();
    for args in [&["settings"][..], &["frobnicate"], &["licenses", "list", "--limit", "many"], &["products", "add"]] {
        let out = env.run(args, "");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn products_and_licenses() {
    let env = Env::new();
    assert!(env.ok(&["products", "list"]).contains("No products yet"));
    let p = env.json(&[
        "products",
        "add",
        "--name",
        "Modern Portfolio Pro",
        "--sku",
        "MPP",
        "--item-id",
        "20929979",
        "--item-id",
        "123",
        "--activation-limit",
        "3",
        "--json",
    ]);
    assert_eq!(p["envato_item_ids"], serde_json::json!([123, 20929979]));
    assert_eq!(p["activation_limit"], 3);
    let id = p["id"].as_i64().unwrap().to_string();

    let out = env.run(&["products", "add", "--name", "Dup", "--sku", "MPP"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error[product.duplicate_sku]: "));

    for i in 0..12 {
        env.ok(&["licenses", "issue", "--product", &id, "--buyer", &format!("buyer{i}")]);
    }
    let all = env.json(&["licenses", "list", "--json"]);
    assert_eq!(all.as_array().unwrap().len(), 12);
    let limited = env.json(&["licenses", "list", "--limit", "5", "--json"]);
    assert_eq!(limited.as_array().unwrap().len(), 5);
    assert_eq!(limited[0]["buyer"], "buyer11", "newest first");
    let text = env.ok(&["licenses", "list", "--status", "active"]);
    assert_eq!(text.lines().count(), 13, "header + 12 rows:\n{text}");
    assert_eq!(env.json(&["licenses", "list", "--status", "revoked", "--json"]), serde_json::json!([]));

    let out = env.run(&["licenses", "issue", "--product", "999"], "");
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error[product.not_found]: "));
}

#[test]
fn a_newer_database_is_refused_with_its_code() {
    let env = Env::new();
    env.ok(&["settings", "get"]);
    // Simulate a newer KeyManager having written the file.
    let db = env.dir.path().join("keymanager.sqlite3");
    bump_user_version(&db);
    let out = env.run(&["settings", "get"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error[store.newer_schema]: "));
}

fn bump_user_version(db: &std::path::Path) {
    // The user_version lives at byte offset 60 of the SQLite header (big-endian u32).
    let mut bytes = std::fs::read(db).unwrap();
    let v = u32::from_be_bytes(bytes[60..64].try_into().unwrap());
    bytes[60..64].copy_from_slice(&(v + 1).to_be_bytes());
    std::fs::write(db, bytes).unwrap();
}

#[test]
fn licenses_list_without_limit_prints_every_match_across_pages() {
    // More than the CLI's internal page of 1000, seeded through the core for speed.
    let env = Env::new();
    let now = keymanager::time::now();
    {
        let mut store = keymanager::Store::open_in_dir(env.dir.path()).unwrap();
        let p = store
            .create_product(&keymanager::model::NewProduct { name: "Theme".into(), ..Default::default() }, now)
            .unwrap();
        for _ in 0..1205 {
            store
                .issue_license(
                    &keymanager::store::NewLicense { product_id: p.id, buyer: None, ..Default::default() },
                    now,
                )
                .unwrap();
        }
    }
    let all = env.json(&["licenses", "list", "--json"]);
    let ids: Vec<i64> = all.as_array().unwrap().iter().map(|l| l["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len(), 1205);
    assert!(ids.windows(2).all(|w| w[0] > w[1]));
    assert_eq!(env.ok(&["licenses", "list", "--limit", "1001"]).lines().count(), 1002);
}

#[test]
fn backup_and_restore_keep_the_current_data_aside_and_refuse_a_bad_file() {
    let env = Env::new();
    let p = env.json(&["products", "add", "--name", "Plugin", "--json"]);
    let id = p["id"].to_string();
    env.ok(&["licenses", "issue", "--product", &id]);
    let b = env.json(&["backup", "--json"]);
    let path = b["path"].as_str().unwrap().to_string();
    assert!(path.contains("/backups/keymanager-"), "{path}");
    env.ok(&["licenses", "issue", "--product", &id]);
    assert_eq!(env.licenses().len(), 2);

    let r = env.json(&["restore", &path, "--json"]);
    assert_eq!(r["licenses"], 1);
    assert!(r["note"].as_str().unwrap().contains("keychain"));
    assert_eq!(env.licenses().len(), 1, "the backup's data is back");
    let aside = r["kept_aside"].as_str().unwrap();
    assert_eq!(keymanager::Store::open(std::path::Path::new(aside)).unwrap().license_counts().unwrap().total, 2);

    let to = env.dir.path().join("copy.sqlite3");
    env.ok(&["backup", "--to", to.to_str().unwrap()]);
    let (code, _, err) = env.out(&["backup", "--to", to.to_str().unwrap()]);
    assert_eq!(code, 1, "an existing file is not replaced: {err}");
    let junk = env.dir.path().join("junk.sqlite3");
    std::fs::write(&junk, "not a database, just some text that is long enough to have a header").unwrap();
    let (code, _, err) = env.out(&["restore", junk.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("error[store.corrupt]"), "{err}");
    assert_eq!(env.licenses().len(), 1, "nothing changed");
}

#[test]
fn bulk_changes_a_selection_with_one_reason_and_lists_what_it_skipped() {
    let env = Env::new();
    let p = env.json(&["products", "add", "--name", "Plugin", "--json"]);
    let id = p["id"].to_string();
    let ids: Vec<String> =
        (0..3).map(|_| env.json(&["licenses", "issue", "--product", &id, "--json"])["id"].to_string()).collect();
    env.ok(&["licenses", "suspend", &ids[0], "--reason", "first"]);
    let r =
        env.json(&["licenses", "bulk", "suspend", &ids[0], &ids[1], &ids[2], "--reason", "Chargeback batch", "--json"]);
    assert_eq!(r["changed"].as_array().unwrap().len(), 2);
    assert_eq!(r["skipped"][0]["id"].to_string(), ids[0]);
    assert!(env.licenses().iter().all(|l| l["status"] == "suspended"));
    let shown = env.json(&["licenses", "show", &ids[1], "--json"]);
    assert!(shown["audit"].as_array().unwrap().iter().any(|a| a["message"] == "Chargeback batch"));
    let (code, _, err) = env.out(&["licenses", "bulk", "revoke", &ids[1], "--reason", " "]);
    assert_eq!(code, 1);
    assert!(err.contains("input.invalid"), "{err}");
}
