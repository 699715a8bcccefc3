//! End-to-end harness: launches the real KeyManager app through tauri-driver and
//! WebKitWebDriver, with its own throw-away data folder, and drives its window.
//!
//! Needs (installed by `scripts/setup.sh --test`, run under Xvfb and a D-Bus session by
//! `scripts/test.sh`): `tauri-driver`, `WebKitWebDriver`, and the app built with the
//! `custom-protocol` feature so it serves the embedded UI. Missing pieces fail loudly.

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use fantoccini;

/// Runs an end-to-end test with a deadline: a hung driver fails the test in minutes instead of
/// holding CI until its own limit.
pub async fn within<F: std::future::Future<Output = ()>>(secs: u64, test: F) {
    if tokio::time::timeout(Duration::from_secs(secs), test).await.is_err() {
        panic!("the end-to-end test did not finish within {secs} s (a WebDriver call hung?)");
    }
}

/// The app and the drivers allow one instance at a time, so sessions take turns.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Removes the sandbox token a test saved for `data_dir` from the session's keychain.
pub fn forget_sandbox_token(data_dir: &Path, sandbox_base: &str) {
    let api = keymanager::envato::ApiBase::parse_override(sandbox_base).unwrap();
    keymanager::keychain::Keychain::for_data_dir(data_dir, &api).unwrap().delete().unwrap();
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The app binary under test: `KEYMANAGER_APP_BIN`, else the workspace's debug build.
pub fn app_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("KEYMANAGER_APP_BIN") {
        return PathBuf::from(p);
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target"));
    target.join("debug").join("keymanager-app")
}

/// The `keymanager` CLI built beside the app.
pub fn cli_binary() -> PathBuf {
    app_binary().with_file_name("keymanager")
}

/// Where screenshots go: artifacts/e2e/ at the workspace root.
pub fn artifacts_dir() -> PathBuf {
    let dir = workspace_root().join("artifacts").join("e2e");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Two distinct free ports: both listeners are held until both are known, so the driver and the
/// native driver never get the same one.
fn two_free_ports() -> (u16, u16) {
    let a = TcpListener::bind("127.0.0.1:0").unwrap();
    let b = TcpListener::bind("127.0.0.1:0").unwrap();
    (a.local_addr().unwrap().port(), b.local_addr().unwrap().port())
}

pub struct AppSession {
    pub client: Client,
    driver: Child,
    /// The app's (and drivers') stderr, at debug level, for leak checks.
    log: tempfile::NamedTempFile,
    data_dir: PathBuf,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

/// Starts the app on `data_dir` and connects a WebDriver client to its window.
pub async fn launch(data_dir: &Path) -> AppSession {
    launch_with(data_dir, &[]).await
}

/// Like `launch`, with extra environment for the app (such as the sandbox's address).
pub async fn launch_with(data_dir: &Path, env: &[(&str, &str)]) -> AppSession {
    let turn = ONE_AT_A_TIME.lock().await;
    let app = app_binary();
    assert!(
        app.exists(),
        "{} is missing: build it first with `cargo build --workspace --features keymanager-app/custom-protocol` (make test does)",
        app.display()
    );
    let (port, native_port) = two_free_ports();
    let log = tempfile::NamedTempFile::new().unwrap();
    let driver = Command::new("tauri-driver")
        .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
        .env("KEYMANAGER_DATA_DIR", data_dir)
        .env("KEYMANAGER_LOG", "debug")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(log.reopen().unwrap())
        .stderr(log.reopen().unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start tauri-driver ({e}); run scripts/setup.sh --test"));

    // tauri-driver listens at once but forwards to WebKitWebDriver, which it starts at the same
    // moment; a session asked for before the native driver listens is dropped mid-answer
    // (hyper's IncompleteMessage). Wait for both.
    let deadline = Instant::now() + Duration::from_secs(20);
    for (who, p) in [("tauri-driver", port), ("WebKitWebDriver", native_port)] {
        while std::net::TcpStream::connect(("127.0.0.1", p)).is_err() {
            assert!(
                Instant::now() < deadline,
                "{who} did not listen on {p}; its output:\n{}",
                String::from_utf8_lossy(&std::fs::read(log.path()).unwrap_or_default())
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    let mut caps = serde_json::Map::new();
    caps.insert("tauri:options".into(), serde_json::json!({ "application": app }));
    caps.insert("browserName".into(), "wry".into());
    let client = ClientBuilder::rustls()
        .expect("TLS set-up")
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .unwrap_or_else(|e| {
            panic!(
                "cannot open a WebDriver session on the app: {e:?}; the drivers' output:\n{}",
                String::from_utf8_lossy(&std::fs::read(log.path()).unwrap_or_default())
            )
        });
    let session = AppSession { client, driver, log, data_dir: data_dir.to_path_buf(), _turn: turn };
    // The UI is up once the navigation has rendered.
    session.wait_for("[data-testid=nav-dashboard]").await;
    session
}

impl AppSession {
    pub async fn wait_for(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    pub async fn click(&self, css: &str) {
        self.wait_for(css).await.click().await.unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
    }

    /// Replaces the text of an input the way a person does: select it all and type over it.
    pub async fn type_into(&self, css: &str, text: &str) {
        let input = self.wait_for(css).await;
        input.click().await.unwrap();
        // End, then enough Backspaces to empty any setting's value, then the new text.
        let mut keys = String::from("\u{E010}");
        keys.push_str(&"\u{E003}".repeat(64));
        keys.push_str(text);
        input.send_keys(&keys).await.unwrap();
    }

    /// Everything the app and its drivers wrote to stdout and stderr so far, then the app's own
    /// log file (`logs/keymanager.log` in the data folder), which a seller would send to support.
    pub fn log_text(&self) -> String {
        let mut text = String::from_utf8_lossy(&std::fs::read(self.log.path()).unwrap_or_default()).to_string();
        text.push_str(&self.log_file());
        text
    }

    /// The app's log file alone.
    pub fn log_file(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(self.data_dir.join("logs/keymanager.log")).unwrap_or_default())
            .to_string()
    }

    /// Waits until the element's `attr` equals `want` (or fails after 20 s, naming what it saw).
    pub async fn wait_attr(&self, css: &str, attr: &str, want: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let got = match self.client.find(Locator::Css(css)).await {
                Ok(e) => e.attr(attr).await.ok().flatten(),
                Err(_) => None,
            };
            if got.as_deref() == Some(want) {
                return;
            }
            assert!(Instant::now() < deadline, "{css} [{attr}] is {got:?}, want {want:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the element exists and is not disabled (a re-render between looking it up and
    /// reading it is retried, not a failure).
    pub async fn wait_enabled(&self, css: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let enabled = match self.client.find(Locator::Css(css)).await {
                Ok(e) => matches!(e.attr("disabled").await, Ok(None)),
                Err(_) => false,
            };
            if enabled {
                return;
            }
            assert!(Instant::now() < deadline, "{css} stayed disabled");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the element's text equals `want`.
    pub async fn wait_text(&self, css: &str, want: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let got = match self.client.find(Locator::Css(css)).await {
                Ok(e) => e.text().await.ok(),
                Err(_) => None,
            };
            if got.as_deref() == Some(want) {
                return;
            }
            assert!(Instant::now() < deadline, "{css} reads {got:?}, want {want:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn value_of(&self, css: &str) -> String {
        self.wait_for(css).await.prop("value").await.unwrap().unwrap_or_default()
    }

    pub async fn text_of(&self, css: &str) -> String {
        self.wait_for(css).await.text().await.unwrap()
    }

    /// Saves a PNG of the window.
    pub async fn screenshot(&self, name: &str) {
        // WebKit's snapshot can lag the DOM by a paint: wait for two animation frames first.
        let _ = self
            .client
            .execute_async(
                "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
                vec![],
            )
            .await;
        tokio::time::sleep(Duration::from_millis(150)).await;
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(artifacts_dir().join(format!("{name}.png")), png).unwrap();
    }

    /// Ends the session and waits until the app process has exited, so the next launch is
    /// not taken for a second instance.
    pub async fn close(mut self) -> String {
        let _ = self.client.clone().close().await;
        let deadline = Instant::now() + Duration::from_secs(15);
        while app_running_on(&self.data_dir) {
            if Instant::now() > deadline {
                panic!("the app did not exit after its session closed");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        stop_driver(&mut self.driver);
        self.log_text()
    }
}

impl AppSession {
    /// Ends an app whose WebDriver session is already gone (WebKit ends the automation session
    /// with its network process): SIGTERM to the app, then the drivers. Returns the log.
    pub async fn terminate(mut self) -> String {
        if let Some(pid) = app_pid(&self.data_dir) {
            let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status();
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        while app_running_on(&self.data_dir) {
            assert!(Instant::now() < deadline, "the app did not exit on SIGTERM");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        stop_driver(&mut self.driver);
        self.log_text()
    }

    /// Waits until the app's log holds `n` lines containing `text`; answers those lines.
    pub async fn wait_log_lines(&self, text: &str, n: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let lines: Vec<String> = self.log_file().lines().filter(|l| l.contains(text)).map(str::to_string).collect();
            if lines.len() >= n {
                return lines;
            }
            assert!(Instant::now() < deadline, "{n} log lines with {text:?} expected; the log:\n{}", self.log_file());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A PNG of the whole (virtual) screen, for when no WebDriver session can take one.
pub fn screenshot_screen(name: &str) {
    let path = artifacts_dir().join(format!("{name}.png"));
    let ok = Command::new("import").args(["-window", "root"]).arg(&path).status().map(|s| s.success());
    assert!(matches!(ok, Ok(true)), "ImageMagick's import could not take a screenshot");
}

/// SIGTERM, never SIGKILL: a killed tauri-driver orphans WebKitWebDriver, which keeps CI's
/// output pipe open.
fn stop_driver(driver: &mut Child) {
    let _ = Command::new("kill").args(["-TERM", &driver.id().to_string()]).status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = driver.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = driver.kill();
    let _ = driver.wait();
}

/// Whether an app process started with this data folder is still alive.
fn app_running_on(data_dir: &Path) -> bool {
    app_pid(data_dir).is_some()
}

/// The app process started with this data folder, if one runs.
pub fn app_pid(data_dir: &Path) -> Option<u32> {
    let needle = format!("KEYMANAGER_DATA_DIR={}", data_dir.display());
    let app = app_binary();
    let entries = std::fs::read_dir("/proc").ok()?;
    entries.flatten().find_map(|e| {
        let p = e.path();
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let is_app = std::fs::read_link(p.join("exe")).map(|exe| exe == app).unwrap_or(false);
        let ours = is_app
            && std::fs::read(p.join("environ"))
                .map(|env| env.split(|&b| b == 0).any(|kv| kv == needle.as_bytes()))
                .unwrap_or(false);
        ours.then_some(pid)
    })
}

impl Drop for AppSession {
    fn drop(&mut self) {
        // A failed test still must not leave drivers behind.
        if let Ok(None) = self.driver.try_wait() {
            stop_driver(&mut self.driver);
        }
    }
}
