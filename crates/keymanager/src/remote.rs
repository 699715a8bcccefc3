//! Remote workspaces (issue 23): KeyManager servers this computer administers through their
//! admin API. A remote is a name, the server's address, the server key pinned when the device
//! paired, and the device token, which lives only in the OS keychain. Every answer must carry a
//! signature by the pinned key (`remote.key_mismatch` otherwise), and plain HTTP is used only
//! for a server on this machine.

use crate::error::{Error, ErrorCode, Result};
use crate::keychain::Keychain;
use crate::time::Timestamp;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The HTTP method of an admin call.
pub use reqwest::Method;

/// A remote as `remote list` shows it (never its token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Remote {
    pub name: String,
    pub url: String,
    /// The server's signing key, base64, pinned at pairing.
    pub public_key: String,
    #[ts(type = "number")]
    pub device_id: i64,
    pub device_name: String,
    pub scopes: String,
    pub paired_at: String,
}

/// Every remote of this data folder, and the one in use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remotes {
    pub current: Option<String>,
    pub remotes: Vec<Remote>,
}

fn file(data_dir: &Path) -> PathBuf {
    data_dir.join("remotes.json")
}

/// A short, readable fingerprint of a signing key (what `admin pair` prints, to compare).
pub fn fingerprint(public_key_b64: &str) -> String {
    let digest = Sha256::digest(public_key_b64.trim().as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02X}")).collect();
    hex.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).to_string()).collect::<Vec<_>>().join("-")
}

impl Remotes {
    pub fn load(data_dir: &Path) -> Result<Remotes> {
        match std::fs::read(file(data_dir)) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| Error::new(ErrorCode::StoreCorrupt, format!("remotes.json cannot be read: {e}."))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Remotes::default()),
            Err(e) => Err(Error::new(ErrorCode::StoreIo, format!("Cannot read remotes.json: {e}."))),
        }
    }

    pub fn save(&self, data_dir: &Path) -> Result<()> {
        crate::private_files::private_dir(data_dir)?;
        let path = file(data_dir);
        let mut f = crate::private_files::create_private_file(&path.with_extension("json.tmp"))?;
        std::io::Write::write_all(&mut f, &serde_json::to_vec_pretty(self).unwrap_or_default())
            .map_err(|e| Error::new(ErrorCode::StoreIo, format!("Cannot write remotes.json: {e}.")))?;
        std::fs::rename(path.with_extension("json.tmp"), &path)
            .map_err(|e| Error::new(ErrorCode::StoreIo, format!("Cannot write remotes.json: {e}.")))
    }

    pub fn get(&self, name: &str) -> Result<&Remote> {
        self.remotes.iter().find(|r| r.name == name).ok_or_else(|| {
            Error::new(
                ErrorCode::RemoteNotFound,
                format!("There is no remote named “{name}” (see `keymanager remote list`)."),
            )
        })
    }
}

/// The keychain entry of a remote's device token.
pub fn token_entry(data_dir: &Path, name: &str) -> Result<Keychain> {
    Keychain::named_for_data_dir(data_dir, &format!("remote-device-token-{name}"))
}

/// A server address a device may talk to: https, or http on this machine.
pub fn check_url(url: &str) -> Result<reqwest::Url> {
    let parsed = reqwest::Url::parse(url.trim())
        .map_err(|e| Error::invalid_input(format!("“{url}” is not a web address ({e}).")).with_field("url"))?;
    let local = matches!(parsed.host_str(), Some("localhost" | "127.0.0.1" | "[::1]" | "::1"));
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if local => Ok(parsed),
        _ => Err(Error::new(
            ErrorCode::AdminHttpsRequired,
            "A server is reached over https (plain http only on this machine), so its device token never travels in clear.",
        )
        .with_field("url")),
    }
}

/// Talks to one server's admin API.
pub struct RemoteClient {
    base: reqwest::Url,
    http: reqwest::Client,
    /// The pinned key; None only while pairing (the answer brings it).
    public_key: Option<String>,
    token: Option<zeroize::Zeroizing<String>>,
}

impl RemoteClient {
    fn build(
        base: reqwest::Url,
        public_key: Option<String>,
        token: Option<zeroize::Zeroizing<String>>,
    ) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::internal(format!("Cannot build the HTTP client: {e}.")))?;
        Ok(RemoteClient { base, http, public_key, token })
    }

    /// A client for a paired remote (its token read from the keychain).
    pub fn for_remote(data_dir: &Path, remote: &Remote) -> Result<RemoteClient> {
        let token = token_entry(data_dir, &remote.name)?.load_text()?.ok_or_else(|| {
            Error::new(
                ErrorCode::AdminUnauthorized,
                format!("No device token for “{}” in the keychain; pair again.", remote.name),
            )
        })?;
        RemoteClient::build(check_url(&remote.url)?, Some(remote.public_key.clone()), Some(token))
    }

    /// A request to `path` under the server's address, with the device token.
    fn request(&self, method: Method, path: &str) -> Result<reqwest::RequestBuilder> {
        let url = self.base.join(path).map_err(|e| Error::internal(format!("Bad path {path}: {e}.")))?;
        let req = self.http.request(method, url);
        Ok(match &self.token {
            Some(t) => req.bearer_auth(t.as_str()),
            None => req,
        })
    }

    fn unreachable(&self, e: reqwest::Error) -> Error {
        Error::new(ErrorCode::RemoteUnreachable, format!("The server at {} cannot be reached: {e}.", self.base))
    }

    /// Sends `body` (JSON) to `path` and reads the signed answer.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<T> {
        let mut req = self.request(method, path)?;
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.map_err(|e| self.unreachable(e))?;
        let bytes = self.signed_bytes(resp).await?;
        parse_answer(&bytes)
    }
}

impl RemoteClient {
    /// Runs the operation `name` on the server (`POST /admin/v1/op/{name}`).
    pub async fn op<T: DeserializeOwned>(&self, name: &str, body: &serde_json::Value) -> Result<T> {
        self.call(Method::POST, &format!("admin/v1/op/{name}"), Some(body)).await
    }

    /// Downloads `path` (a file the server signs whole, like a backup) into memory.
    pub async fn download(&self, path: &str) -> Result<Vec<u8>> {
        let resp = self.request(Method::GET, path)?.timeout(Duration::from_secs(600)).send().await;
        self.signed_bytes(resp.map_err(|e| self.unreachable(e))?).await
    }

    /// Streams `path` into the file `to`, kept only when its SHA-256 is `sha256` (a release
    /// package, named by the hash a signed backup holds: the hash is its proof).
    pub async fn download_checked(&self, path: &str, to: &Path, sha256: &str) -> Result<u64> {
        use std::io::Write;
        let mut resp = self
            .request(Method::GET, path)?
            .timeout(Duration::from_secs(3600))
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        if !resp.status().is_success() {
            let bytes = resp.bytes().await.map_err(|e| self.unreachable(e))?;
            return Err(serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                Error::new(ErrorCode::RemoteUnreachable, format!("The server did not send {path}."))
            }));
        }
        let partial = to.with_extension("partial");
        let io =
            |e: std::io::Error| Error::new(ErrorCode::StoreIo, format!("Cannot write {}: {e}.", partial.display()));
        let mut file = crate::private_files::create_private_file(&partial)?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.unreachable(e))? {
            hasher.update(&chunk);
            size += chunk.len() as u64;
            file.write_all(&chunk).map_err(io)?;
        }
        file.sync_all().map_err(io)?;
        if crate::text::hex(&hasher.finalize()) != sha256 {
            let _ = std::fs::remove_file(&partial);
            return Err(Error::new(
                ErrorCode::RemoteKeyMismatch,
                format!("{path} is not the package the server's signed backup names (its SHA-256 differs)."),
            ));
        }
        std::fs::rename(&partial, to).map_err(io)?;
        Ok(size)
    }

    /// Sends a file (`body`) to `path` and reads the signed JSON answer.
    pub async fn upload<T: DeserializeOwned>(&self, path: &str, body: Vec<u8>) -> Result<T> {
        let resp = self
            .request(Method::PUT, path)?
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .timeout(Duration::from_secs(600))
            .body(body)
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        let bytes = self.signed_bytes(resp).await?;
        parse_answer(&bytes)
    }

    /// A response's body, once its signature by the pinned key is checked (while pairing, by the
    /// key the answer names, which the caller then pins); a KeyManager error for an unsuccessful
    /// status.
    async fn signed_bytes(&self, resp: reqwest::Response) -> Result<Vec<u8>> {
        let status = resp.status();
        let signature = resp
            .headers()
            .get(crate::signing::SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("ed25519="))
            .map(str::to_string);
        let bytes = resp.bytes().await.map_err(|e| self.unreachable(e))?;
        let key = match &self.public_key {
            Some(k) => k.clone(),
            None => serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v["public_key"].as_str().map(str::to_string))
                .unwrap_or_default(),
        };
        if !signature.is_some_and(|s| crate::signing::verify(&key, &bytes, &s)) {
            return Err(Error::new(
                ErrorCode::RemoteKeyMismatch,
                format!("The answer from {} is not signed by the server key pinned when this device paired. If the seller rotated the key, pair again; otherwise something is in between.", self.base),
            ));
        }
        if !status.is_success() {
            return Err(serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                Error::new(
                    ErrorCode::RemoteUnreachable,
                    format!("The server answered HTTP {status} without a KeyManager error."),
                )
            }));
        }
        Ok(bytes.to_vec())
    }

    /// The server this client talks to.
    pub fn url(&self) -> &reqwest::Url {
        &self.base
    }
}

impl RemoteClient {
    /// Follows the server's change feed (`/admin/v1/changes`): `on_open` once the server
    /// listens (every commit from then on is told), then `on_change` gets each batch of changed
    /// tables, signature checked against the pinned key, until the stream ends (the server
    /// stopped) or `on_change` returns false.
    pub async fn follow_changes(
        &self,
        on_open: impl FnOnce(),
        mut on_change: impl FnMut(crate::store::DbChanged) -> bool,
    ) -> Result<()> {
        let req = self.request(Method::GET, "admin/v1/changes")?.timeout(Duration::from_secs(24 * 3600));
        let unreachable = |e| self.unreachable(e);
        let mut resp = req.send().await.map_err(unreachable)?;
        if !resp.status().is_success() {
            let bytes = resp.bytes().await.map_err(unreachable)?;
            return Err(serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                Error::new(ErrorCode::RemoteUnreachable, "The server did not open its change feed.")
            }));
        }
        on_open();
        let key = self.public_key.clone().unwrap_or_default();
        let mut pending = String::new();
        // The server says something at least every 15 s (a keep-alive comment): silence for
        // three of those is a connection that died without closing.
        let silent =
            || Error::new(ErrorCode::RemoteUnreachable, format!("The server at {} stopped answering.", self.base));
        while let Some(chunk) = tokio::time::timeout(Duration::from_secs(45), resp.chunk())
            .await
            .map_err(|_| silent())?
            .map_err(unreachable)?
        {
            pending.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = pending.find("\n\n") {
                let event: String = pending.drain(..end + 2).collect();
                let data: Vec<&str> = event.lines().filter_map(|l| l.strip_prefix("data: ")).collect();
                let [json, signature] = data[..] else { continue };
                let genuine = signature
                    .strip_prefix("ed25519=")
                    .is_some_and(|s| crate::signing::verify(&key, json.as_bytes(), s));
                if !genuine {
                    return Err(Error::new(
                        ErrorCode::RemoteKeyMismatch,
                        "A change event is not signed by the pinned server key.",
                    ));
                }
                let changed: crate::store::DbChanged = serde_json::from_str(json).map_err(|e| {
                    Error::new(ErrorCode::RemoteUnreachable, format!("A change event cannot be read: {e}."))
                })?;
                if !on_change(changed) {
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

/// A signed answer read as the operation's type.
fn parse_answer<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        Error::new(ErrorCode::RemoteUnreachable, format!("The server's answer is not what was asked: {e}."))
    })
}

/// What pairing returns (the token goes straight to the keychain).
#[derive(Deserialize)]
struct PairAnswer {
    device: crate::store::AdminDevice,
    token: String,
    public_key: String,
}

/// Pairs this computer with the server at `url` using a code from `keymanager admin pair`, under
/// the name `name`: the token goes to the keychain, the server's key is pinned. With
/// `fingerprint`, the key must be the one `admin pair` printed.
pub async fn add(
    data_dir: &Path,
    name: &str,
    url: &str,
    code: &str,
    device_name: &str,
    fingerprint_shown: Option<&str>,
    now: Timestamp,
) -> Result<Remote> {
    let name = name.trim();
    if name.is_empty() || name.len() > 40 || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(Error::invalid_input("A remote's name is 1 to 40 letters, digits, - or _.").with_field("name"));
    }
    let mut remotes = Remotes::load(data_dir)?;
    if remotes.remotes.iter().any(|r| r.name == name) {
        return Err(Error::invalid_input(format!("There is a remote named “{name}” already; remove it first."))
            .with_field("name"));
    }
    let client = RemoteClient::build(check_url(url)?, None, None)?;
    let body = serde_json::json!({ "code": code, "name": device_name });
    let answer: PairAnswer = client.call(reqwest::Method::POST, "admin/v1/pair", Some(&body)).await?;
    if let Some(shown) = fingerprint_shown {
        let norm = |s: &str| s.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_uppercase();
        if norm(shown) != norm(&fingerprint(&answer.public_key)) {
            return Err(Error::new(
                ErrorCode::RemoteKeyMismatch,
                "The server's key is not the one whose fingerprint you gave: this is not the server you paired with.",
            ));
        }
    }
    token_entry(data_dir, name)?.save_text(&answer.token)?;
    let remote = Remote {
        name: name.to_string(),
        url: url.trim().trim_end_matches('/').to_string() + "/",
        public_key: answer.public_key,
        device_id: answer.device.id,
        device_name: answer.device.name,
        scopes: answer.device.scopes,
        paired_at: crate::time::to_db(now),
    };
    remotes.remotes.push(remote.clone());
    if remotes.current.is_none() {
        remotes.current = Some(remote.name.clone());
    }
    remotes.save(data_dir)?;
    Ok(remote)
}

/// Forgets a remote here: its entry and its token (the server keeps the device until revoked).
pub fn remove(data_dir: &Path, name: &str) -> Result<()> {
    let mut remotes = Remotes::load(data_dir)?;
    remotes.get(name)?;
    remotes.remotes.retain(|r| r.name != name);
    if remotes.current.as_deref() == Some(name) {
        remotes.current = None;
    }
    remotes.save(data_dir)?;
    token_entry(data_dir, name)?.delete()
}

/// Makes `name` the remote in use (None: this computer).
pub fn use_remote(data_dir: &Path, name: Option<&str>) -> Result<Remotes> {
    let mut remotes = Remotes::load(data_dir)?;
    if let Some(n) = name {
        remotes.get(n)?;
    }
    remotes.current = name.map(str::to_string);
    remotes.save(data_dir)?;
    Ok(remotes)
}
