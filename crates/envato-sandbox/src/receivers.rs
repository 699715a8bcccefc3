//! The other ends of KeyManager's outgoing traffic, for tests and demos: a webhook receiver that
//! checks every signature with the Standard Webhooks library (and can answer 500, 410 or hang),
//! and a real SMTP server (Python's aiosmtpd, from `scripts/setup.sh --test`) that writes what it
//! receives to a folder.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Received {
    pub id: String,
    pub body: Value,
    pub verified: bool,
}

#[derive(Default)]
pub struct ReceiverState {
    pub secret: Option<String>,
    /// Answers to give, in order; then 200.
    pub script: Vec<u16>,
    pub hang: bool,
    pub got: Vec<Received>,
}

#[derive(Clone)]
pub struct Receiver {
    pub state: Arc<Mutex<ReceiverState>>,
    pub url: String,
}

async fn receive(State(s): State<Arc<Mutex<ReceiverState>>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let (hang, status) = {
        let mut st = s.lock().unwrap();
        let verified = st
            .secret
            .as_deref()
            .map(|secret| standardwebhooks::Webhook::new(secret).unwrap().verify(&body, &headers).is_ok())
            .unwrap_or(false);
        let id = headers.get("webhook-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        st.got.push(Received { id, body: serde_json::from_slice(&body).unwrap_or(Value::Null), verified });
        let status = if st.script.is_empty() { 200 } else { st.script.remove(0) };
        (st.hang, status)
    };
    if hang {
        tokio::time::sleep(Duration::from_secs(120)).await;
    }
    StatusCode::from_u16(status).unwrap()
}

impl Receiver {
    pub async fn start() -> Receiver {
        let state = Arc::new(Mutex::new(ReceiverState::default()));
        let app = axum::Router::new().route("/hook", axum::routing::post(receive)).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { state, url }
    }

    pub fn set(&self, f: impl FnOnce(&mut ReceiverState)) {
        f(&mut self.state.lock().unwrap());
    }

    pub fn got(&self) -> Vec<Received> {
        self.state.lock().unwrap().got.clone()
    }
}

pub struct SmtpSink {
    child: std::process::Child,
    pub port: u16,
    pub folder: std::path::PathBuf,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SmtpSink {
    pub fn start(folder: &std::path::Path, user: &str, password: &str) -> SmtpSink {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        std::fs::create_dir_all(folder).unwrap();
        let folder = folder.to_path_buf();
        // Debian's interpreter, which has python3-aiosmtpd (scripts/setup.sh --test installs it).
        let python = if std::path::Path::new("/usr/bin/python3").exists() { "/usr/bin/python3" } else { "python3" };
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/smtp_sink.py");
        let mut child = Command::new(python)
            .args([script, &port.to_string(), &folder.to_string_lossy(), user, password])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 with aiosmtpd");
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
        assert!(line.starts_with("listening"), "the SMTP server did not start: {line:?}");
        SmtpSink { child, port, folder }
    }

    /// The messages received so far, as raw text.
    pub fn messages(&self) -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(&self.folder)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        names.sort();
        names.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect()
    }
}

/// The decoded text of a MIME message's parts (quoted-printable or base64 as lettre writes them).
pub fn decoded(raw: &str) -> String {
    use base64::Engine;
    let mut out = String::new();
    let unfolded = raw.replace("=\r\n", "").replace("=\n", "");
    // Quoted-printable soft breaks are gone; decode =XX escapes.
    let bytes = unfolded.as_bytes();
    let mut i = 0;
    let mut buf = Vec::new();
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&unfolded[i + 1..i + 3], 16) {
                buf.push(b);
                i += 3;
                continue;
            }
        }
        buf.push(bytes[i]);
        i += 1;
    }
    out.push_str(&String::from_utf8_lossy(&buf));
    // Base64 bodies: decode every long base64-looking line block too.
    for block in raw.split("\r\n\r\n").chain(raw.split("\n\n")) {
        let joined: String = block.lines().map(str::trim).collect();
        if joined.len() > 40 && joined.chars().all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c)) {
            if let Ok(b) = base64::engine::general_purpose::STANDARD.decode(&joined) {
                out.push_str(&String::from_utf8_lossy(&b));
            }
        }
    }
    out
}
