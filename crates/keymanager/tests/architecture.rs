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
