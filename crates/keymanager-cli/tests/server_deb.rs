//! The server package (issue 23): `scripts/package-server.sh` builds a .deb that installs with
//! dpkg on this machine; the installed `keymanager serve` runs as the package's own user with
//! its secrets in credential files (as the systemd unit gives them), and a desktop CLI pairs
//! with it. Needs root and dpkg (CI's machine has both); it installs and purges the package.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};

mod common;
use common::Env;

fn sh(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// Runs the installed binary as the package's user, without this session's D-Bus.
fn as_keymanager(args: &[&str]) -> Command {
    let mut c = Command::new("runuser");
    c.args(["-u", "keymanager", "--", "env", "-u", "DBUS_SESSION_BUS_ADDRESS", "-u", "KEYMANAGER_DATA_DIR"]).args(args);
    c
}

#[test]
fn the_server_deb_installs_runs_as_its_user_with_credential_files_and_pairs_a_desktop() {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(unsafe { libc_geteuid() }, 0, "this test installs a package: run it as root (CI does)");
    let data = Path::new("/var/lib/keymanager");
    let installed = Command::new("dpkg").args(["-s", "keymanager-server"]).output().unwrap().status.success();
    assert!(
        installed || !data.join("keymanager.sqlite3").exists(),
        "{} holds data this test did not make",
        data.display()
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = tempfile::tempdir().unwrap();
    let deb = sh(Command::new("bash")
        .arg(root.join("scripts/package-server.sh"))
        .arg(env!("CARGO_BIN_EXE_keymanager"))
        .arg(out.path()))
    .trim()
    .to_string();
    let listing = sh(Command::new("dpkg-deb").args(["--contents", &deb]));
    for f in
        ["./usr/bin/keymanager", "./lib/systemd/system/keymanager.service", "./usr/share/doc/keymanager-server/README"]
    {
        assert!(listing.contains(f), "{f} is in the package: {listing}");
    }
    sh(Command::new("dpkg").args(["-i", &deb]));

    // What the package set up: the user, its private data folder, the signing key made once.
    let passwd = sh(Command::new("getent").args(["passwd", "keymanager"]));
    assert!(passwd.starts_with("keymanager:"), "{passwd}");
    let meta = std::fs::metadata(data).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o700);
    let uid: u32 = passwd.split(':').nth(2).unwrap().parse().unwrap();
    assert_eq!(meta.uid(), uid, "the data folder is the service user's");
    let key = std::fs::metadata("/etc/keymanager/signing-key").unwrap();
    assert_eq!(key.permissions().mode() & 0o777, 0o600);
    let unit = std::fs::read_to_string("/lib/systemd/system/keymanager.service").unwrap();
    assert!(
        unit.contains("User=keymanager") && unit.contains("LoadCredential=signing-key:/etc/keymanager/signing-key")
    );

    // The seller writes the token; systemd would hand both files to the service user.
    std::fs::write("/etc/keymanager/envato-token", "a".repeat(32)).unwrap();
    std::fs::set_permissions("/etc/keymanager/envato-token", std::fs::Permissions::from_mode(0o600)).unwrap();
    let creds = tempfile::tempdir().unwrap();
    for f in ["envato-token", "signing-key"] {
        std::fs::copy(format!("/etc/keymanager/{f}"), creds.path().join(f)).unwrap();
    }
    sh(Command::new("chown").args(["-R", "keymanager:keymanager"]).arg(creds.path()));
    sh(Command::new("chmod").args(["-R", "go-rwx"]).arg(creds.path()));
    let creds_dir = creds.path().to_str().unwrap().to_string();
    let mut server = as_keymanager(&[
        &format!("CREDENTIALS_DIRECTORY={creds_dir}"),
        "KEYMANAGER_SECRETS_DIR=/var/lib/keymanager/secrets",
        "/usr/bin/keymanager",
        "serve",
        "--data-dir",
        "/var/lib/keymanager",
        "--bind",
        "127.0.0.1:0",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut first = String::new();
    BufReader::new(server.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let base = first.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("{first:?}")).to_string();

    // On the server, as its user: a pairing code and the fingerprint to compare.
    let pair = sh(&mut as_keymanager(&[
        "/usr/bin/keymanager",
        "--data-dir",
        "/var/lib/keymanager",
        "admin",
        "pair",
        "--json",
    ]));
    let pair: serde_json::Value = serde_json::from_str(&pair).unwrap();
    let (code, fp) = (pair["code"].as_str().unwrap(), pair["fingerprint"].as_str().unwrap());

    // On the desktop: pair, then work on the server's data.
    let desk = Env::new();
    let (c, o, e) = desk.out(&["remote", "add", "vps", &base, "--code", code, "--fingerprint", fp]);
    assert_eq!(c, 0, "{o}{e}");
    let (c, o, e) = desk.out(&["--remote", "vps", "licenses", "list", "--json"]);
    assert_eq!((c, o.trim()), (0, "[]"), "{e}");
    desk.ok(&["remote", "remove", "vps"]);

    let _ = server.kill();
    let _ = server.wait();
    sh(Command::new("dpkg").args(["--purge", "keymanager-server"]));
    assert!(!Path::new("/usr/bin/keymanager").exists() && !Path::new("/etc/keymanager").exists());
    let _ = std::fs::remove_dir_all(data);
}

extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}
