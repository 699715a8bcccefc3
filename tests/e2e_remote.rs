//! Issue 23 in the real window: the desktop app works on a KeyManager server (`keymanager serve`
//! in another data folder) instead of its own data. It pairs through Settings > Workspace with
//! the code `keymanager admin pair` printed, shows the server's dashboard, looks a code up and
//! suspends its license there; then the server goes away (the banner says so, the last data
//! stays, an edit is kept) and comes back (the banner clears, the kept edit is sent).

use keymanager::Store;
use keymanager_e2e::{cli_binary, launch};
use std::io::BufRead;
use std::process::{Child, Command, Stdio};

#[path = "../crates/keymanager/benches/seed/mod.rs"]
#[allow(dead_code)]
mod seed;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_administers_a_server_and_survives_it_going_away() {
    keymanager_e2e::within(240, steps()).await;
}

/// A `keymanager serve` that is stopped when dropped (also when the test fails midway).
struct Serve(Option<Child>);

impl Drop for Serve {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
            let _ = child.wait();
        }
    }
}

/// `keymanager serve` on `port` for `dir`, once it listens.
fn serve(dir: &std::path::Path, port: u16) -> Serve {
    let mut child = Command::new(cli_binary())
        .args(["--data-dir", dir.to_str().unwrap(), "serve", "--bind", &format!("127.0.0.1:{port}")])
        .env_remove("KEYMANAGER_ENVATO_API_BASE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(line.starts_with("listening on"), "{line}");
    Serve(Some(child))
}

fn stop(server: Serve) {
    drop(server);
}

fn status_on_server(dir: &std::path::Path, code: &str) -> String {
    let store = Store::open_in_dir(dir).unwrap();
    let page = store
        .license_page(
            &keymanager::store::LicenseFilter { search: Some(code.to_string()), ..Default::default() },
            keymanager::time::now(),
        )
        .unwrap();
    page.licenses[0].status.as_str().to_string()
}

async fn steps() {
    let server_dir = tempfile::tempdir().unwrap();
    {
        let mut store = Store::open_in_dir(server_dir.path()).unwrap();
        seed::seed(&mut store, 40);
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let server = serve(server_dir.path(), port);
    let paired = Command::new(cli_binary())
        .args(["--data-dir", server_dir.path().to_str().unwrap(), "admin", "pair", "--name", "Window", "--json"])
        .output()
        .unwrap();
    let paired: serde_json::Value = serde_json::from_slice(&paired.stdout).unwrap();
    let code = paired["code"].as_str().unwrap();
    let fingerprint = paired["fingerprint"].as_str().unwrap();

    let data = tempfile::tempdir().unwrap();
    let app = launch(data.path()).await;
    let url = format!("http://127.0.0.1:{port}");

    // Connect to a server: Settings > Workspace, the address and the pairing code.
    app.click("[data-testid=nav-settings]").await;
    app.click("[data-testid=tab-workspace]").await;
    app.type_into("[data-testid=connect-name]", "vps").await;
    app.type_into("[data-testid=connect-url]", &url).await;
    app.type_into("[data-testid=connect-code]", code).await;
    app.type_into("[data-testid=connect-fingerprint]", fingerprint).await;
    app.click("[data-testid=connect-submit]").await;
    app.wait_attr("[data-testid=workspace-banner]", "data-online", "yes").await;
    assert!(app.text_of("[data-testid=workspace-banner]").await.contains("vps"));
    let remotes = std::fs::read_to_string(data.path().join("remotes.json")).unwrap();
    assert!(!remotes.contains("kmdev_"), "the device token is in the keychain only");

    // The server's dashboard, not this computer's (which has no licenses).
    app.click("[data-testid=nav-dashboard]").await;
    app.wait_text("[data-testid=stat-active]", "40Active licenses").await;
    app.screenshot("remote-dashboard").await;

    // A lookup and a suspension, made on the server.
    let sale = seed::code(3);
    app.click("[data-testid=nav-lookup]").await;
    app.type_into("[data-testid=lookup-input]", &sale).await;
    app.click("[data-testid=lookup-submit]").await;
    app.wait_attr("[data-testid=lookup-result]", "data-verdict", "valid").await;
    app.click("[data-testid=open-license]").await;
    app.wait_text("[data-testid=license-panel] [data-testid=fact-code]", &sale).await;
    app.click("[data-testid=action-suspend]").await;
    app.type_into("[data-testid=action-reason]", "Chargeback (remote)").await;
    app.click("[data-testid=action-confirm]").await;
    app.wait_text("[data-testid=license-panel] [data-testid=fact-status]", "suspended").await;
    assert_eq!(status_on_server(server_dir.path(), &sale), "suspended");

    // The server goes away: the banner says so, the page keeps its data, an edit is kept.
    stop(server);
    app.wait_attr("[data-testid=workspace-banner]", "data-online", "no").await;
    assert_eq!(app.text_of("[data-testid=license-panel] [data-testid=fact-code]").await, sale);
    app.click("[data-testid=action-reactivate]").await;
    app.type_into("[data-testid=action-reason]", "Resolved while offline").await;
    app.click("[data-testid=action-confirm]").await;
    app.wait_for("[data-testid=unsent-item]").await;
    assert!(app.text_of("[data-testid=unsent-item]").await.contains("Resolved while offline"));
    // The banner at the top of the page, in view for the picture.
    app.client
        .execute("document.querySelector('[data-testid=workspace-banner]').scrollIntoView()", vec![])
        .await
        .unwrap();
    app.screenshot("remote-offline-banner").await;
    keymanager_e2e::screenshot_screen("remote-offline-screen");

    // It comes back: the banner clears by itself, and the kept edit is sent when asked.
    let server = serve(server_dir.path(), port);
    app.wait_attr("[data-testid=workspace-banner]", "data-online", "yes").await;
    app.click("[data-testid=unsent-retry]").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while status_on_server(server_dir.path(), &sale) != "active" {
        assert!(std::time::Instant::now() < deadline, "the kept reactivation did not reach the server");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    app.screenshot("remote-back-online").await;

    // Back to this computer: its own (empty) data again.
    app.click("[data-testid=nav-settings]").await;
    app.click("[data-testid=tab-workspace]").await;
    app.click("[data-testid=workspace-local]").await;
    app.click("[data-testid=nav-dashboard]").await;
    // This computer has no token yet: its own guided setup, not the server's dashboard.
    app.wait_for("[data-testid=first-run]").await;
    app.terminate().await;
    stop(server);
}
