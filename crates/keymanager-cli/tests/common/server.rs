//! A running `keymanager serve` as a seller's product meets it: a live server on a free port, a
//! real HTTP client, every `/v1` answer's signature checked with the server's public key, and
//! everything the server printed kept for leak checks.

use super::Env;
use keymanager::signing;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};

/// Stopped (SIGTERM) when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub public_key: String,
    pub http: reqwest::Client,
    /// What the server printed on stdout and stderr so far.
    pub printed: Arc<Mutex<Vec<u8>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

fn collect(mut from: impl Read + Send + 'static, into: Arc<Mutex<Vec<u8>>>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            into.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    })
}

impl Server {
    pub fn start(env: &Env) -> Server {
        Server::start_with(env, &[])
    }

    pub fn start_with(env: &Env, extra: &[&str]) -> Server {
        Server::spawn(env, extra, |_| {})
    }

    /// Starts with more arguments, and a last change to the command (environment, limits).
    pub fn spawn(env: &Env, extra: &[&str], adjust: impl FnOnce(&mut std::process::Command)) -> Server {
        Server::spawn_at(env, "127.0.0.1:0", extra, adjust)
    }

    /// Listening on `bind` (`[::]:0` for a dual-stack listener).
    pub fn spawn_at(env: &Env, bind: &str, extra: &[&str], adjust: impl FnOnce(&mut std::process::Command)) -> Server {
        let args = [&["serve", "--bind", bind][..], extra].concat();
        let mut cmd = env.cmd(&args);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        adjust(&mut cmd);
        let mut child = cmd.spawn().unwrap();
        let printed = Arc::new(Mutex::new(Vec::new()));
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        printed.lock().unwrap().extend_from_slice(first.as_bytes());
        let readers = vec![collect(stdout, printed.clone()), collect(child.stderr.take().unwrap(), printed.clone())];
        let base = match first.trim().strip_prefix("listening on ") {
            Some(b) => b.to_string(),
            None => {
                let _ = child.wait();
                std::thread::sleep(std::time::Duration::from_millis(200));
                panic!("first line: {first:?}; printed: {}", String::from_utf8_lossy(&printed.lock().unwrap()))
            }
        };
        let public_key = env.ok(&["keys", "public"]).trim().to_string();
        Server { child, base, public_key, http: reqwest::Client::new(), printed, readers }
    }

    /// The server's address as host:port.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.base.trim_start_matches("http://").parse().unwrap()
    }

    /// Everything the server printed so far, as text.
    pub fn output(&self) -> String {
        String::from_utf8_lossy(&self.printed.lock().unwrap()).to_string()
    }

    /// Submits a buyer-page form, as a browser on the page itself does.
    pub fn form(
        &self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> impl std::future::Future<Output = reqwest::Result<reqwest::Response>> {
        let body: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        self.http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", self.base.clone())
            .header("sec-fetch-site", "same-origin")
            .body(body)
            .send()
    }

    /// POSTs `body` (raw bytes, declared JSON) and checks the answer's signature.
    pub async fn post_raw(&self, path: &str, body: Vec<u8>) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        self.checked(r).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.post_raw(path, serde_json::to_vec(&body).unwrap()).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.http.get(format!("{}{path}", self.base)).send().await.unwrap();
        self.checked(r).await
    }

    /// The answer's status and JSON, after checking that it is signed over its exact bytes.
    pub async fn checked(&self, r: reqwest::Response) -> (u16, Value) {
        let status = r.status().as_u16();
        let sig = r.headers().get("KeyManager-Signature").and_then(|v| v.to_str().ok()).map(str::to_string);
        let bytes = r.bytes().await.unwrap();
        let sig =
            sig.unwrap_or_else(|| panic!("every /v1 answer is signed: {status} {}", String::from_utf8_lossy(&bytes)));
        let sig = sig.strip_prefix("ed25519=").expect("ed25519=<base64>");
        assert!(signing::verify(&self.public_key, &bytes, sig), "the signature matches the exact body");
        // A tampered body no longer matches: what a product checks to spot a fake server.
        let mut tampered = bytes.to_vec();
        tampered.push(b' ');
        assert!(!signing::verify(&self.public_key, &tampered, sig));
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        for field in ["code", "detail", "ts"] {
            assert!(v.get(field).is_some(), "every answer has {field}: {v}");
        }
        (status, v)
    }

    /// Sends SIGTERM and waits for the exit; returns how long it took.
    pub fn terminate(&mut self) -> std::time::Duration {
        let started = std::time::Instant::now();
        let _ = std::process::Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
        started.elapsed()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.terminate();
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        // Positive control first: the server's own output was read (its first line at least).
        let printed = self.printed.lock().unwrap();
        assert!(super::contains(&printed, b"listening on "), "the server's output was captured");
        if !std::thread::panicking() {
            assert!(
                !super::contains(&printed, envato_sandbox::data::SELLER_TOKEN.as_bytes()),
                "the server printed the Envato token"
            );
        }
    }
}
