//! Closing the window to the tray and opening it again, in the real app: the close destroys the
//! window and its WebKit web process, the app ends WebKit's network process, and it keeps running
//! (syncing, serving); a second launch (what the tray's Open does too) builds the window again on
//! the page the seller left. The close is pressed with Ctrl+W (the app's own command) and as a
//! window manager presses the close button (WM_DELETE_WINDOW, scripts/close-window.py).
//!
//! WebKit ends the WebDriver session with its network process, so after the first close the
//! window is checked through what it reports itself (its first paint and the page it shows, in
//! the app's log), its processes, and a screenshot of the screen.

use keymanager::process::children_named;
use keymanager_e2e::{app_binary, app_pid, launch, screenshot_screen, workspace_root};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_keeps_the_app_in_the_tray_and_open_brings_the_page_back() {
    keymanager_e2e::within(240, steps()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_click_opens_the_closed_window() {
    keymanager_e2e::within(240, notification_steps()).await;
}

const WEB: &str = "WebKitWebProces";
const NETWORK: &str = "WebKitNetworkPr";

/// Waits until the app has no WebKit process left: the web process goes with the window, the
/// network process is ended by the app once no window is open.
async fn webkit_gone(pid: u32) {
    let deadline = Instant::now() + Duration::from_secs(20);
    for name in [WEB, NETWORK] {
        while !children_named(pid, name).is_empty() {
            assert!(Instant::now() < deadline, "{name} outlived the closed window");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A second launch, as a seller double-clicks the icon: it hands over to the running app and exits.
fn launch_again(data: &Path) {
    let mut second = Command::new(app_binary()).env("KEYMANAGER_DATA_DIR", data).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = second.try_wait().unwrap() {
            assert!(status.success(), "the second launch failed: {status}");
            return;
        }
        if Instant::now() > deadline {
            let _ = second.kill();
            panic!("the second launch did not hand over to the running app");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn steps() {
    let data = tempfile::tempdir().unwrap();
    keymanager::Store::open_in_dir(data.path()).unwrap().set_sync_paused(true, keymanager::time::now()).unwrap();
    let app = launch(data.path()).await;
    app.click("[data-testid=nav-sync-log]").await;
    app.wait_for("[data-testid=page-sync-log]").await;
    let pid = app_pid(data.path()).expect("the app runs");
    assert_eq!(children_named(pid, WEB).len(), 1, "one web process while the window is open");
    assert_eq!(children_named(pid, NETWORK).len(), 1, "one network process while the window is open");

    // Ctrl+W, once the window has reported its first paint. The window may be gone before the
    // driver answers the key press (NoSuchWindow): that is the close working; what counts is
    // checked below.
    app.wait_log_lines("first paint", 1).await;
    let _ = app.wait_for("body").await.send_keys("\u{E009}w").await;
    webkit_gone(pid).await;
    assert_eq!(app_pid(data.path()), Some(pid), "the app keeps running in the tray");
    app.wait_log_lines("window closed; KeyManager keeps running in the tray", 1).await;

    // Opened again: a new window, web and network process, on the page the seller left.
    launch_again(data.path());
    let painted = app.wait_log_lines("first paint", 2).await;
    assert!(painted[1].contains(r#"page="sync-log""#), "{painted:?}");
    assert_eq!(children_named(pid, WEB).len(), 1);
    assert_eq!(children_named(pid, NETWORK).len(), 1, "WebKit started a new network process");
    screenshot_screen("window-reopened-on-sync-log");

    // The close button, pressed the way a window manager does; then opened once more.
    let closed = Command::new("/usr/bin/python3")
        .arg(workspace_root().join("scripts/close-window.py"))
        .arg("KeyManager")
        .status()
        .unwrap();
    assert!(closed.success(), "no KeyManager window to close");
    webkit_gone(pid).await;
    assert_eq!(app_pid(data.path()), Some(pid));
    app.wait_log_lines("window closed; KeyManager keeps running in the tray", 2).await;
    launch_again(data.path());
    let painted = app.wait_log_lines("first paint", 3).await;
    assert!(painted[2].contains(r#"page="sync-log""#), "{painted:?}");
    assert_eq!(app.wait_log_lines("window opened", 3).await.len(), 3);
    app.terminate().await;
}

/// The stand-in notification server (tests/notification_daemon.py) on this test's session bus.
struct NotificationDaemon {
    child: std::process::Child,
    log: tempfile::NamedTempFile,
}

impl NotificationDaemon {
    fn start() -> NotificationDaemon {
        use std::io::BufRead;
        let log = tempfile::NamedTempFile::new().unwrap();
        let mut child = Command::new("/usr/bin/python3")
            .arg(workspace_root().join("tests/notification_daemon.py"))
            .arg(log.path())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 with dbus and gi (scripts/setup.sh --test installs them)");
        let mut ready = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut ready).unwrap();
        assert_eq!(ready.trim(), "ready", "the notification server did not start");
        NotificationDaemon { child, log }
    }

    /// The notifications shown so far, as the server's JSON lines.
    fn shown(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.log.path())
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Clicks every notification shown so far.
    fn click_all(&self) {
        let _ = Command::new("kill").args(["-USR1", &self.child.id().to_string()]).status();
    }
}

impl Drop for NotificationDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A webhook endpoint nobody answers, with a license's event waiting for it: the app's first
/// delivery fails, and the failing destination gets one notification. The window is closed; a
/// click on the notification builds it again.
async fn notification_steps() {
    let daemon = NotificationDaemon::start();
    let data = tempfile::tempdir().unwrap();
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    {
        let now = keymanager::time::now();
        let mut store = keymanager::Store::open_in_dir(data.path()).unwrap();
        store.set_sync_paused(true, now).unwrap();
        let secrets = keymanager::secrets::Secrets::for_data_dir(data.path());
        let url = format!("http://127.0.0.1:{closed_port}/hooks");
        keymanager::webhooks::add(&mut store, &secrets, &url, "", now).unwrap();
        let product = store
            .create_product(&keymanager::model::NewProduct { name: "Pixel Theme".into(), ..Default::default() }, now)
            .unwrap();
        keymanager::licensing::issue(&mut store, product.id, Some("notified-buyer"), None, None, now).unwrap();
    }
    let app = launch(data.path()).await;
    let pid = app_pid(data.path()).expect("the app runs");

    // The failing delivery's notification, with the action that opens the window.
    let deadline = Instant::now() + Duration::from_secs(30);
    let note = loop {
        if let Some(n) = daemon.shown().into_iter().find(|n| n["summary"] == "Delivery failing") {
            break n;
        }
        assert!(Instant::now() < deadline, "no notification; shown: {:?}\n{}", daemon.shown(), app.log_file());
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(note["app"], "KeyManager");
    assert_eq!(note["actions"][0], "default", "{note}");

    // Closed with Ctrl+W once painted, then the notification is clicked.
    app.wait_log_lines("first paint", 1).await;
    let _ = app.wait_for("body").await.send_keys("\u{E009}w").await;
    webkit_gone(pid).await;
    daemon.click_all();
    app.wait_log_lines("notification clicked: opening the window", 1).await;
    let painted = app.wait_log_lines("first paint", 2).await;
    assert_eq!(painted.len(), 2, "{painted:?}");
    assert_eq!(children_named(pid, WEB).len(), 1, "the window is back");
    screenshot_screen("window-opened-by-notification");
    app.terminate().await;
    forget_webhook_secrets(data.path());
}

/// Removes the endpoint's secret this test stored in the session's keychain.
fn forget_webhook_secrets(data: &Path) {
    let mut store = keymanager::Store::open_in_dir(data).unwrap();
    let secrets = keymanager::secrets::Secrets::for_data_dir(data);
    for e in store.webhook_endpoints().unwrap() {
        keymanager::webhooks::remove(&mut store, &secrets, e.id, keymanager::time::now()).unwrap();
    }
}
