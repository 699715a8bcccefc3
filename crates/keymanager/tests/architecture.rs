//! Architecture invariants, checked on every test run (see ARCHITECTURE.md).

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn files_under(dir: &Path, ext: &[&str], out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        let name = p.file_name().unwrap().to_string_lossy();
        if p.is_dir() {
            if name != "node_modules" && name != "dist" && name != "target" {
                files_under(&p, ext, out);
            }
        } else if ext.iter().any(|e| name.ends_with(e)) {
            out.push(p);
        }
    }
}

#[test]
fn the_core_never_depends_on_tauri_gtk_or_webkit() {
    let out = Command::new(env!("CARGO"))
        .args(["tree", "-p", "keymanager", "-e", "normal,build", "--prefix", "none", "--offline"])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8(out.stdout).unwrap();
    for line in tree.lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        for banned in ["tauri", "wry", "tao", "webkit", "gtk", "gdk", "javascriptcore", "soup"] {
            assert!(!name.starts_with(banned), "the core depends on {name}: {line}");
        }
    }
}

#[test]
fn sql_lives_only_in_the_store_module() {
    let mut files = Vec::new();
    for dir in ["crates", "src-tauri/src", "tests"] {
        files_under(&root().join(dir), &[".rs"], &mut files);
    }
    let store = root().join("crates/keymanager/src/store");
    for f in files {
        let canonical = f.canonicalize().unwrap();
        if canonical.starts_with(store.canonicalize().unwrap()) || canonical.ends_with("tests/architecture.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        for kw in ["SELECT ", "INSERT INTO", "UPDATE licenses", "DELETE FROM", "CREATE TABLE", "execute_batch("] {
            assert!(
                !text.contains(kw),
                "{} contains SQL ({kw}); SQL belongs in crates/keymanager/src/store/",
                f.display()
            );
        }
    }
}

#[test]
fn only_the_ipc_module_imports_tauri_api() {
    let mut files = Vec::new();
    files_under(&root().join("ui/src"), &[".ts", ".tsx"], &mut files);
    assert!(!files.is_empty());
    for f in files {
        let rel = f.strip_prefix(root().join("ui/src")).unwrap().to_string_lossy().replace('\\', "/");
        // Tests may mock IPC; the app's code reaches Rust only through ipc.ts.
        if rel == "ipc.ts" || rel.starts_with("test/") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(!text.contains("@tauri-apps/"), "ui/src/{rel} imports @tauri-apps directly; go through ui/src/ipc.ts");
    }
}

/// The window may call exactly KeyManager's own commands (and listen to events): the
/// registered handlers, the ACL command list and the capability must be the same set, and no
/// capability file, plugin or CSP source may widen it.
#[test]
fn the_webview_can_reach_only_keymanagers_commands() {
    let root = root();
    let lib = std::fs::read_to_string(root.join("src-tauri/src/lib.rs")).unwrap();
    let handler_block = lib.split("generate_handler![").nth(1).unwrap().split(']').next().unwrap();
    let mut handlers: Vec<String> = handler_block
        .split(',')
        .map(|s| s.trim().trim_start_matches("commands::").to_string())
        .filter(|s| !s.is_empty())
        .collect();
    handlers.sort();

    let list = std::fs::read_to_string(root.join("src-tauri/commands.list")).unwrap();
    let mut listed: Vec<String> = list.split('"').skip(1).step_by(2).map(str::to_string).collect();
    listed.sort();
    assert_eq!(handlers, listed, "src-tauri/commands.list must name every registered command");

    let caps: Vec<_> = std::fs::read_dir(root.join("src-tauri/capabilities")).unwrap().flatten().collect();
    assert_eq!(caps.len(), 1, "one capability file");
    let cap: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(caps[0].path()).unwrap()).unwrap();
    assert_eq!(cap["windows"], serde_json::json!(["main"]));
    assert!(cap.get("remote").is_none(), "no remote origin may use the capability");
    let mut granted: Vec<String> =
        cap["permissions"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_string()).collect();
    granted.sort();
    let mut expected: Vec<String> = listed.iter().map(|c| format!("allow-{}", c.replace('_', "-"))).collect();
    expected.extend(["core:event:allow-listen".to_string(), "core:event:allow-unlisten".to_string()]);
    expected.sort();
    assert_eq!(granted, expected, "the capability grants exactly KeyManager's commands and event listening");

    let conf: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("tauri.conf.json")).unwrap()).unwrap();
    let csp = conf["app"]["security"]["csp"].as_str().unwrap();
    for part in ["default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'"] {
        assert!(csp.contains(part), "CSP lacks {part}: {csp}");
    }
    assert!(
        !csp.contains("unsafe-eval") && !csp.contains("https:") && !csp.contains(" *"),
        "CSP allows remote or eval: {csp}"
    );
    assert_eq!(conf["app"]["withGlobalTauri"], false);
    // No web inspector in any build the README launches (make run builds the debug profile).
    for w in conf["app"]["windows"].as_array().unwrap() {
        assert_eq!(w["devtools"], false, "window {} must have devtools off", w["label"]);
    }
    assert!(
        conf["build"]["frontendDist"].as_str().unwrap().starts_with("../ui/dist"),
        "the UI is embedded, never remote"
    );

    let manifest = std::fs::read_to_string(root.join("src-tauri/Cargo.toml")).unwrap();
    for banned in [
        "tauri-plugin-shell",
        "tauri-plugin-fs",
        "tauri-plugin-http",
        "tauri-plugin-opener",
        "tauri-plugin-sql",
        "tauri-plugin-dialog",
        "\"devtools\"",
    ] {
        assert!(!manifest.contains(banned), "{banned} would widen what the webview can do");
    }
}

/// Every command the UI calls and every event it listens to exists in Rust: a renamed command
/// or event fails here, not in the seller's window.
#[test]
fn the_ui_calls_only_commands_and_events_rust_has() {
    let root = root();
    let ipc = std::fs::read_to_string(root.join("ui/src/ipc.ts")).unwrap();
    let list = std::fs::read_to_string(root.join("src-tauri/commands.list")).unwrap();
    let commands: Vec<&str> = list.split('"').skip(1).step_by(2).collect();
    let quoted_after = |marker: &str| -> Vec<String> {
        ipc.split(marker)
            .skip(1)
            .filter_map(|rest| {
                let rest = rest.split_once('(')?.1.trim_start();
                let rest = rest.strip_prefix('"')?;
                Some(rest.split('"').next()?.to_string())
            })
            .collect()
    };
    let called = quoted_after("call<");
    assert!(called.len() > 50, "the commands ipc.ts calls were read ({})", called.len());
    for c in &called {
        assert!(commands.contains(&c.as_str()), "ipc.ts calls `{c}`, which src-tauri/commands.list does not register");
    }
    let mut rust = String::new();
    let mut files = Vec::new();
    files_under(&root.join("src-tauri/src"), &[".rs"], &mut files);
    for f in files {
        rust.push_str(&std::fs::read_to_string(f).unwrap());
    }
    let events = quoted_after("listen<");
    assert!(events.contains(&"db-changed".to_string()) && events.len() >= 5, "{events:?}");
    for e in &events {
        assert!(
            rust.contains(&format!("_EVENT: &str = \"{e}\"")),
            "ipc.ts listens to `{e}`, which no Rust event constant names"
        );
    }
}

#[test]
fn every_desktop_platform_gets_its_native_keychain_backend() {
    for (target, feature) in [
        ("x86_64-unknown-linux-gnu", "sync-secret-service"),
        ("x86_64-apple-darwin", "apple-native"),
        ("aarch64-apple-darwin", "apple-native"),
        ("x86_64-pc-windows-msvc", "windows-native"),
    ] {
        let out = Command::new(env!("CARGO"))
            .args(["tree", "-p", "keymanager", "--target", target, "-e", "features", "-i", "keyring"])
            .current_dir(root())
            .output()
            .unwrap();
        assert!(out.status.success(), "{target}: {}", String::from_utf8_lossy(&out.stderr));
        let tree = String::from_utf8(out.stdout).unwrap();
        assert!(
            tree.contains(&format!("keyring feature \"{feature}\"")),
            "{target} lacks keyring's {feature}:\n{tree}"
        );
    }
    let src = std::fs::read_to_string(root().join("crates/keymanager/src/keychain.rs")).unwrap();
    assert!(src.contains("compile_error!"), "a platform without a backend must fail to compile");
}

type Graph = std::collections::BTreeMap<String, std::collections::BTreeSet<String>>;

/// A file's code as the build sees it outside tests: from the first `#[cfg(test)]` on is left
/// out, and so are comments.
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// The names `text` uses after `prefix` (`crate::x`, `super::x`, and each of `prefix{a, b::c}`)
/// that are in `names`.
fn names_after(text: &str, prefix: &str, names: &std::collections::BTreeSet<String>) -> Vec<String> {
    let word = |s: &str| s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>();
    let mut found = Vec::new();
    for (i, _) in text.match_indices(prefix) {
        let rest = &text[i + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            found.extend(inner.split(',').map(|item| word(item.trim())));
        } else {
            found.push(word(rest));
        }
    }
    found.retain(|w| names.contains(w));
    found
}

/// Panics with the path of the first cycle in `deps`, naming `what`.
fn assert_acyclic(deps: &Graph, what: &str) {
    fn visit(n: &str, deps: &Graph, path: &mut Vec<String>, done: &mut std::collections::BTreeSet<String>, what: &str) {
        if done.contains(n) {
            return;
        }
        if let Some(at) = path.iter().position(|p| p == n) {
            panic!("{what} depend on each other in a cycle: {} -> {n}", path[at..].join(" -> "));
        }
        path.push(n.to_string());
        for d in deps.get(n).into_iter().flatten() {
            visit(d, deps, path, done, what);
        }
        path.pop();
        done.insert(n.to_string());
    }
    let mut done = std::collections::BTreeSet::new();
    for n in deps.keys() {
        visit(n, deps, &mut Vec::new(), &mut done, what);
    }
}

/// The core's top-level modules form layers: no chain of `crate::x` uses leads from a module
/// back to itself (error, time and text at the bottom; the store in the middle; the runtime,
/// the server and update delivery on top).
#[test]
fn the_cores_modules_do_not_depend_on_each_other_in_a_cycle() {
    use std::collections::BTreeSet;
    let src = root().join("crates/keymanager/src");
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(&src).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        match name.strip_suffix(".rs") {
            Some("lib") => {}
            Some(stem) => drop(names.insert(stem.to_string())),
            None if entry.path().is_dir() => drop(names.insert(name)),
            None => {}
        }
    }
    assert!(names.len() >= 30, "the core's modules were found: {names:?}");
    let mut deps = Graph::new();
    let mut files = Vec::new();
    files_under(&src, &[".rs"], &mut files);
    for file in files {
        let rel = file.strip_prefix(&src).unwrap();
        let module = rel.iter().next().unwrap().to_string_lossy().trim_end_matches(".rs").to_string();
        if module == "lib" {
            continue;
        }
        let used: Vec<String> =
            names_after(&code_of(&file), "crate::", &names).into_iter().filter(|u| *u != module).collect();
        deps.entry(module).or_default().extend(used);
    }
    assert_acyclic(&deps, "the core's modules");
    // The layering this checks today, so a change to it is a conscious one.
    for (low, high) in
        [("store", "sync"), ("store", "updates"), ("api", "updates"), ("api", "server"), ("model", "settings")]
    {
        assert!(!deps[low].contains(high), "{low} uses {high}, which is above it");
    }
    assert!(deps["server"].contains("api") && deps["runtime"].contains("sync"));
}

/// Within each folder of the core, the files form layers too: each names the sibling modules
/// it uses (`super::x`), and no chain of those leads back to where it started.
#[test]
fn sibling_files_do_not_depend_on_each_other_in_a_cycle() {
    use std::collections::BTreeSet;
    let src = root().join("crates/keymanager/src");
    let mut folders = 0;
    for entry in std::fs::read_dir(&src).unwrap().flatten() {
        let dir = entry.path();
        if !dir.is_dir() {
            continue;
        }
        folders += 1;
        let names: BTreeSet<String> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .filter_map(|e| e.file_name().to_string_lossy().strip_suffix(".rs").map(str::to_string))
            .filter(|stem| stem != "mod")
            .collect();
        let mut deps = Graph::new();
        for name in &names {
            let text = code_of(&dir.join(format!("{name}.rs")));
            let used = names_after(&text, "super::", &names).into_iter().filter(|w| w != name);
            deps.insert(name.clone(), used.collect());
        }
        assert_acyclic(&deps, &format!("the files of {}", dir.display()));
        if dir.ends_with("store") {
            assert!(names.len() >= 8, "the store's files were found: {names:?}");
            // The store's layering this checks today, so a change to it is a conscious one.
            assert!(deps["sales"].contains("products") && !deps["products"].contains("sales"));
            assert!(deps["sync"].contains("sales") && !deps["products"].contains("sync"));
        }
    }
    assert!(folders >= 6, "the core's folders were found");
}
