//! Update delivery proven with the real thing: WordPress from Debian's `wordpress` package on a
//! MariaDB server this test starts on loopback, the test plugin and theme of tests/wordpress
//! asking `keymanager serve` for updates the way plugin-update-checker does (the
//! `update_plugins_{host}` / `update_themes_{host}` hooks of their `Update URI`), and WordPress's
//! own update check, `Plugin_Upgrader` and `Theme_Upgrader` doing the rest. The files on disk
//! are what is asserted.
//!
//! What the WordPress side needs beyond the packages is in tests/wordpress/km-e2e-offline.php:
//! wordpress.org answered empty (unreachable here), loopback and the test port allowed for
//! downloads, and, when asked, a package altered on its way in.

use serde_json::Value;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::shop::{fixtures, free_port, package, Shop};

const WORDPRESS: &str = "/usr/share/wordpress";

/// A MariaDB server of this test's own (data folder in a temporary directory), stopped on drop.
struct Mariadb {
    child: Child,
    port: u16,
}

impl Mariadb {
    fn start(dir: &Path) -> Mariadb {
        let data = dir.join("mysql");
        let install = Command::new("mariadb-install-db")
            .args(["--no-defaults", "--auth-root-authentication-method=normal", "--skip-test-db", "--user=root"])
            .arg(format!("--datadir={}", data.display()))
            .output()
            .expect("mariadb-server is installed by scripts/setup.sh --test");
        assert!(install.status.success(), "{}", String::from_utf8_lossy(&install.stderr));
        let port = free_port();
        let child = Command::new("mariadbd")
            .args([
                "--no-defaults",
                "--user=root",
                "--bind-address=127.0.0.1",
                "--skip-name-resolve",
                "--innodb-buffer-pool-size=32M",
            ])
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--port={port}"))
            .arg(format!("--socket={}", dir.join("mysql.sock").display()))
            .arg(format!("--pid-file={}", dir.join("mysql.pid").display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(60), "MariaDB did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let db = Command::new("mariadb")
            .args(["--no-defaults", "-uroot", "-h127.0.0.1", &format!("-P{port}"), "-e", "CREATE DATABASE wordpress"])
            .output()
            .unwrap();
        assert!(db.status.success(), "{}", String::from_utf8_lossy(&db.stderr));
        Mariadb { child, port }
    }
}

impl Drop for Mariadb {
    fn drop(&mut self) {
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let _ = self.child.wait();
    }
}

/// A WordPress site in `dir/wp`: Debian's WordPress copied, our wp-config.php and wp-content.
struct Site {
    root: PathBuf,
}

impl Site {
    fn install(dir: &Path, db_port: u16, server: &str) -> Site {
        let root = dir.join("wp");
        let cp = Command::new("cp").args(["-rL", WORDPRESS]).arg(&root).status().unwrap();
        assert!(cp.success());
        let content = root.join("wp-content");
        for sub in ["plugins", "themes", "mu-plugins", "upgrade", "uploads"] {
            std::fs::create_dir_all(content.join(sub)).unwrap();
        }
        std::fs::copy(fixtures().join("km-e2e-offline.php"), content.join("mu-plugins/km-e2e-offline.php")).unwrap();
        let trust = dir.join("trust-key");
        std::fs::write(
            root.join("wp-config.php"),
            format!(
                r#"<?php
define( 'DB_NAME', 'wordpress' );
define( 'DB_USER', 'root' );
define( 'DB_PASSWORD', '' );
define( 'DB_HOST', '127.0.0.1:{db_port}' );
define( 'DB_CHARSET', 'utf8mb4' );
define( 'DB_COLLATE', '' );
$table_prefix = 'wp_';
define( 'WP_HOME', 'http://site.example' );
define( 'WP_SITEURL', 'http://site.example' );
define( 'FS_METHOD', 'direct' );
define( 'DISABLE_WP_CRON', true );
define( 'AUTOMATIC_UPDATER_DISABLED', true );
define( 'WP_DEBUG', false );
define( 'KM_UPDATES_SERVER', '{server}' );
// The seller's public key, once the test decides the plugin ships it.
if ( file_exists( '{trust}' ) ) {{
	define( 'KM_UPDATES_PUBLIC_KEY', trim( file_get_contents( '{trust}' ) ) );
}}
if ( ! defined( 'ABSPATH' ) ) {{
	define( 'ABSPATH', __DIR__ . '/' );
}}
require_once ABSPATH . 'wp-settings.php';
"#,
                trust = trust.display()
            ),
        )
        .unwrap();
        let site = Site { root };
        site.unpack("km-updates-demo", "1.0.0", &content.join("plugins"));
        site.unpack("km-updates-theme", "1.0.0", &content.join("themes"));
        let v = site.drive(&["install"]);
        assert_eq!(
            (v["installed"].as_bool(), v["plugin"].as_str(), v["theme"].as_str()),
            (Some(true), Some("active"), Some("km-updates-theme")),
            "{v}"
        );
        site
    }

    fn unpack(&self, name: &str, version: &str, into: &Path) {
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(package(name, version))).unwrap();
        zip.extract(into).unwrap();
    }

    /// Runs tests/wordpress/drive.php with WordPress loaded; its one JSON line.
    fn drive(&self, args: &[&str]) -> Value {
        let out = Command::new("php").arg(fixtures().join("drive.php")).arg(&self.root).args(args).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "drive.php {args:?}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        let line = stdout
            .lines()
            .rev()
            .find(|l| l.starts_with('{'))
            .unwrap_or_else(|| panic!("no JSON from drive.php {args:?}: {stdout}"));
        serde_json::from_str(line).unwrap()
    }

    fn header_version(&self, file: &str) -> String {
        let text = std::fs::read_to_string(self.root.join("wp-content").join(file)).unwrap();
        let line = text.lines().find(|l| l.contains("Version:")).unwrap();
        line.rsplit(' ').next().unwrap().to_string()
    }

    fn plugin_version(&self) -> String {
        self.header_version("plugins/km-updates-demo/km-updates-demo.php")
    }

    fn has(&self, file: &str) -> bool {
        self.root.join("wp-content").join(file).exists()
    }
}

#[test]
fn wordpress_updates_a_licensed_plugin_and_theme_and_refuses_what_it_must() {
    assert!(
        Path::new(WORDPRESS).join("wp-load.php").exists(),
        "Debian's wordpress package is installed by scripts/setup.sh --test"
    );
    let tmp = tempfile::tempdir().unwrap();
    let shop = Shop::new();
    let server_url = format!("http://127.0.0.1:{}", shop.port);
    let db = Mariadb::start(tmp.path());
    let site = Site::install(tmp.path(), db.port, &server_url);
    let theme_key = shop.env.ok(&["licenses", "issue", "--product", &shop.theme.to_string()]).trim().to_string();
    let _server = shop.serve();
    // The products' first releases name their slugs; the sites run 1.0.0.
    shop.release(shop.plugin, "km-updates-demo", "1.0.0", &["--publish"]);
    shop.release(shop.theme, "km-updates-theme", "1.0.0", &["--publish"]);
    site.drive(&["option", "km_updates_demo_license", &shop.key]);
    site.drive(&["option", "km_updates_theme_license", &theme_key]);

    // Nothing newer: WordPress sees no update.
    let v = site.drive(&["check"]);
    assert!(v["plugin"].is_null(), "{v}");
    assert_eq!(v["plugin_no_update"]["new_version"], "1.0.0");
    assert_eq!(v["user_agent"], "WordPress/6.1.9; http://site.example");

    // A newer release of each: WordPress's own check finds them, its upgraders install them.
    shop.release(shop.plugin, "km-updates-demo", "1.1.0", &["--publish"]);
    shop.release(shop.theme, "km-updates-theme", "1.1.0", &["--publish"]);
    shop.settle();
    let v = site.drive(&["check"]);
    assert_eq!(v["plugin"]["new_version"], "1.1.0", "{v}");
    assert!(v["plugin"]["package"].as_str().unwrap().starts_with(&format!("{server_url}/updates/download/KMD1.")));
    assert_eq!(v["plugin_license_status"], "UPDATE_AVAILABLE");
    assert_eq!(v["theme"]["new_version"], "1.1.0", "{v}");
    let r = site.drive(&["upgrade-plugin"]);
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(site.plugin_version(), "1.1.0", "the plugin's files on disk are the new version");
    let r = site.drive(&["upgrade-theme"]);
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(site.header_version("themes/km-updates-theme/style.css"), "1.1.0");

    // Suspended after the check: the link WordPress holds is checked again, and WordPress fails
    // the download with its own message. Checked while suspended: the update shows, no package.
    shop.release(shop.plugin, "km-updates-demo", "1.2.0", &["--publish"]);
    shop.settle();
    let v = site.drive(&["check"]);
    assert_eq!(v["plugin"]["new_version"], "1.2.0");
    shop.env.ok(&["licenses", "suspend", &shop.license_id.to_string(), "--reason", "chargeback"]);
    let r = site.drive(&["upgrade-plugin"]);
    assert_eq!(r["ok"], false, "{r}");
    let errors = r["errors"].to_string();
    assert!(errors.contains("Download failed") && errors.contains("Forbidden"), "WordPress's own message: {errors}");
    assert_eq!(site.plugin_version(), "1.1.0", "nothing was installed");
    let v = site.drive(&["check"]);
    assert_eq!(
        (v["plugin"]["new_version"].as_str(), v["plugin"]["package"].as_str()),
        (Some("1.2.0"), Some("")),
        "after suspension: {v}"
    );
    assert_eq!(v["plugin_license_status"], "SUSPENDED");
    let r = site.drive(&["upgrade-plugin"]);
    assert_eq!(r["ok"], false);
    assert!(r["errors"].to_string().contains("Update package not available"), "{r}");
    shop.env.ok(&["licenses", "reactivate", &shop.license_id.to_string(), "--reason", "resolved"]);

    // A package altered on its way in, its Content-MD5 dropped. WordPress checks signatures only
    // for hosts a plugin names: by default it installs the altered package (what WordPress does,
    // shown, not wished for).
    site.drive(&["check"]);
    site.drive(&["option", "km_e2e_tamper", "1"]);
    let r = site.drive(&["upgrade-plugin"]);
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(site.plugin_version(), "1.2.0");
    assert!(site.has("plugins/km-updates-demo/injected.php"), "without the seller's key WordPress does not check");
    // Once the plugin ships the seller's key (wp_trusted_keys, wp_signature_hosts, and
    // wp_signature_softfail false for the server's host, as the snippet KeyManager gives sets
    // them), the altered package is refused.
    std::fs::write(tmp.path().join("trust-key"), shop.env.ok(&["keys", "public"]).trim()).unwrap();
    shop.release(shop.plugin, "km-updates-demo", "1.3.0", &["--publish"]);
    shop.settle();
    site.drive(&["check"]);
    let r = site.drive(&["upgrade-plugin"]);
    assert_eq!(r["ok"], false, "{r}");
    let errors = r["errors"].to_string();
    assert!(errors.contains("signature") || errors.contains("verif"), "WordPress refuses the signature: {errors}");
    assert_eq!(site.plugin_version(), "1.2.0", "the altered 1.3.0 was not installed");
    // The genuine package passes WordPress's signature check and replaces the altered files.
    site.drive(&["option", "km_e2e_tamper", "0"]);
    site.drive(&["check"]);
    let r = site.drive(&["upgrade-plugin"]);
    assert_eq!(r["ok"], true, "{r}");
    assert!(r["warnings"].as_array().unwrap().is_empty(), "no signature warning: {r}");
    assert_eq!(site.plugin_version(), "1.3.0");
    assert!(!site.has("plugins/km-updates-demo/injected.php"));

    // A beta reaches only a site that asks for beta.
    let beta = shop.release(shop.plugin, "km-updates-demo", "1.4.0-beta1", &["--publish", "--channel", "beta"]);
    shop.settle();
    let v = site.drive(&["check"]);
    assert!(v["plugin"].is_null(), "a stable site is not offered the beta: {v}");
    site.drive(&["option", "km_updates_demo_channel", "beta"]);
    let v = site.drive(&["check"]);
    assert_eq!(v["plugin"]["new_version"], "1.4.0-beta1", "{v}");
    // A yanked release is not offered.
    shop.env.ok(&["releases", "yank", &beta.to_string(), "--reason", "data loss on upgrade"]);
    shop.settle();
    let v = site.drive(&["check"]);
    assert!(v["plugin"].is_null(), "the yanked beta is not offered: {v}");
    assert_eq!(v["plugin_no_update"]["new_version"], "1.3.0");
}
