//! Webhooks per Standard Webhooks v1: endpoints (`https://`, or `http://` to this machine), their
//! `whsec_` secrets (32 bytes from the OS CSPRNG, kept in `Secrets`, shown once), and the
//! signature `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.

use crate::error::{Error, ErrorCode, Result};
use crate::events::EventFilter;
use crate::secrets::{webhook_secret_name, Secrets};
use crate::store::WebhookEndpoint;
use crate::time::Timestamp;
use crate::Store;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use ts_rs::TS;
use zeroize::Zeroizing;

const PREFIX: &str = "whsec_";

/// A new secret: `whsec_` and the base64 of 32 random bytes.
pub fn generate_secret() -> Result<Zeroizing<String>> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    getrandom::fill(&mut bytes[..]).map_err(|e| Error::internal(format!("The system's random source failed: {e}.")))?;
    Ok(Zeroizing::new(format!("{PREFIX}{}", STANDARD.encode(&bytes[..]))))
}

/// The `webhook-signature` header's value for one attempt.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &str) -> Result<String> {
    let key = Zeroizing::new(
        STANDARD
            .decode(secret.trim().strip_prefix(PREFIX).unwrap_or(secret.trim()))
            .map_err(|_| Error::internal("A stored webhook secret is not base64."))?,
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| Error::internal("Bad webhook secret length."))?;
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    Ok(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}

/// Checks an endpoint's address: `https://` anywhere, `http://` only to this machine; no user
/// name or password in it (they would sit in the database). Parsed, never matched as text.
pub fn check_url(text: &str) -> Result<String> {
    let v = text.trim();
    let shown: String = v.chars().take(60).collect();
    let refuse = |why: &str| Error::new(ErrorCode::WebhookUrlRefused, format!("“{shown}”: {why}")).with_field("url");
    let url =
        url::Url::parse(v).map_err(|_| refuse("not a web address such as https://example.com/hooks/keymanager."))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse("put no user name or password in the address; the signature proves the sender."));
    }
    let local = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => return Err(refuse("the address has no host.")),
    };
    match url.scheme() {
        "https" => {}
        "http" if local => {}
        "http" => return Err(refuse("only https:// addresses, or http:// to this machine, receive webhooks.")),
        _ => return Err(refuse("only https:// addresses, or http:// to this machine, receive webhooks.")),
    }
    if url.fragment().is_some() {
        return Err(refuse("an address with a #fragment cannot receive webhooks."));
    }
    Ok(url.to_string())
}

/// A new endpoint and its secret, the only time the secret is shown in full.
#[derive(Serialize, TS)]
pub struct NewEndpoint {
    pub endpoint: WebhookEndpoint,
    pub secret: String,
}

impl Drop for NewEndpoint {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.secret);
    }
}

/// Adds an endpoint: the row, then its secret; if the secret cannot be stored the row goes too.
pub fn add(store: &mut Store, secrets: &Secrets, url: &str, events: &str, now: Timestamp) -> Result<NewEndpoint> {
    let url = check_url(url)?;
    let filter = EventFilter::parse(events)?;
    let secret = generate_secret()?;
    let endpoint = store.add_webhook_endpoint(&url, &filter, now)?;
    if let Err(e) = secrets.save(&webhook_secret_name(endpoint.id), &secret) {
        let _ = store.remove_webhook_endpoint(endpoint.id, now);
        return Err(e);
    }
    Ok(NewEndpoint { endpoint, secret: secret.to_string() })
}

/// A new secret for the endpoint (shown once); messages not yet sent are signed with it.
pub fn rotate(store: &mut Store, secrets: &Secrets, id: i64, now: Timestamp) -> Result<NewEndpoint> {
    let endpoint = store.webhook_endpoint(id)?;
    let secret = generate_secret()?;
    secrets.save(&webhook_secret_name(id), &secret)?;
    store.bump_webhook_secret(id, now)?;
    Ok(NewEndpoint { endpoint: store.webhook_endpoint(endpoint.id)?, secret: secret.to_string() })
}

/// Removes the endpoint, its messages and its secret.
pub fn remove(store: &mut Store, secrets: &Secrets, id: i64, now: Timestamp) -> Result<()> {
    store.remove_webhook_endpoint(id, now)?;
    secrets.delete(&webhook_secret_name(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_test_vector() {
        let sig = sign(
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1649367553,
            r#"{"email":"test@example.com","username":"test_user"}"#,
        )
        .unwrap();
        assert_eq!(sig, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
    }

    #[test]
    fn the_spec_library_verifies_our_signatures() {
        let secret = generate_secret().unwrap();
        assert!(secret.starts_with("whsec_"));
        assert_eq!(STANDARD.decode(&secret[6..]).unwrap().len(), 32);
        let body = r#"{"type":"webhook.test","timestamp":"2026-12-01T10:00:00Z","data":{}}"#;
        let ts = chrono::Utc::now().timestamp();
        let sig = sign(&secret, "msg_abc", ts, body).unwrap();
        let wh = standardwebhooks::Webhook::new(&secret).unwrap();
        let mut headers = http::HeaderMap::new();
        headers.insert("webhook-id", "msg_abc".parse().unwrap());
        headers.insert("webhook-timestamp", ts.to_string().parse().unwrap());
        headers.insert("webhook-signature", sig.parse().unwrap());
        wh.verify(body.as_bytes(), &headers).expect("the standardwebhooks crate accepts it");
        // A changed body is refused by it.
        assert!(wh.verify(body.replace("test", "tset").as_bytes(), &headers).is_err());
    }

    #[test]
    fn only_https_or_this_machine() {
        assert!(check_url("https://hooks.example.com/km").is_ok());
        assert!(check_url("http://127.0.0.1:9000/hook").is_ok());
        assert!(check_url("http://localhost:9000/hook").is_ok());
        assert!(check_url("http://[::1]:9000/").is_ok());
        for bad in [
            "http://hooks.example.com/",
            "ftp://x.example/",
            "https://u:p@x.example/",
            "not a url",
            "file:///etc/passwd",
        ] {
            assert_eq!(check_url(bad).unwrap_err().code, ErrorCode::WebhookUrlRefused, "{bad}");
        }
    }
}
