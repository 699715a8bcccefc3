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
use std::net::IpAddr;
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

/// Whether a webhook may go to `ip`: never to a private, link-local (cloud metadata at
/// 169.254.169.254), shared, multicast or unspecified address, whatever name led there; to
/// this machine only when the endpoint's URL names it (`loopback_named`: the seller's own tests).
pub fn deliverable(ip: IpAddr, loopback_named: bool) -> bool {
    match crate::net::canonical(ip) {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_loopback() {
                return loopback_named;
            }
            !(v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && v4.octets()[2] == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if v6.is_loopback() {
                return loopback_named;
            }
            let first = v6.segments()[0];
            !(v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

/// Whether a URL's host names this machine itself (`localhost`, 127.0.0.0/8, ::1).
fn names_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// Checks an endpoint's address: `https://` anywhere public, `http://` only to this machine; no
/// user name or password in it (they would sit in the database); never an address on a private
/// network, link-local (cloud metadata) or this machine by another name, whether written as an
/// address or reached through a DNS name (resolved now; delivery resolves again and refuses the
/// same, so a name that changes later cannot lead there either). Parsed, never matched as text.
pub fn check_url(text: &str) -> Result<String> {
    check_url_with(text, |host, port| {
        use std::net::ToSocketAddrs;
        (host, port).to_socket_addrs().map(|a| a.map(|s| s.ip()).collect()).unwrap_or_default()
    })
}

/// `check_url` with the name resolution given (tests).
pub fn check_url_with(text: &str, resolve: impl Fn(&str, u16) -> Vec<IpAddr>) -> Result<String> {
    let v = text.trim();
    let shown: String = v.chars().take(60).collect();
    let refuse = |why: &str| Error::new(ErrorCode::WebhookUrlRefused, format!("“{shown}”: {why}")).with_field("url");
    let url =
        url::Url::parse(v).map_err(|_| refuse("not a web address such as https://example.com/hooks/keymanager."))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse("put no user name or password in the address; the signature proves the sender."));
    }
    let Some(host) = url.host() else { return Err(refuse("the address has no host.")) };
    let local = names_loopback(&host);
    match url.scheme() {
        "https" => {}
        "http" if local => {}
        _ => return Err(refuse("only https:// addresses, or http:// to this machine, receive webhooks.")),
    }
    if url.fragment().is_some() {
        return Err(refuse("an address with a #fragment cannot receive webhooks."));
    }
    let private = "a private network, link-local or reserved address cannot receive webhooks (it could reach \
                   services behind your firewall).";
    match host {
        url::Host::Ipv4(ip) if !deliverable(IpAddr::V4(ip), local) => return Err(refuse(private)),
        url::Host::Ipv6(ip) if !deliverable(IpAddr::V6(ip), local) => return Err(refuse(private)),
        url::Host::Domain(d) if !local => {
            let port = url.port_or_known_default().unwrap_or(443);
            if let Some(ip) = resolve(d, port).into_iter().find(|ip| !deliverable(*ip, false)) {
                return Err(refuse(&format!(
                    "the name resolves to {ip}, an address on this machine or a private network; webhooks go to public \
                     addresses only (use http://localhost:PORT for a receiver on this machine)."
                )));
            }
        }
        _ => {}
    }
    Ok(url.to_string())
}

/// The webhook client's name resolution: a name's addresses that `deliverable` refuses are
/// dropped, so a DNS answer that changed since the endpoint was added (rebinding) cannot send a
/// delivery into a private network. A name left with no address fails the attempt.
pub struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let loopback_named = host.eq_ignore_ascii_case("localhost");
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let allowed: Vec<std::net::SocketAddr> = found.filter(|a| deliverable(a.ip(), loopback_named)).collect();
            if allowed.is_empty() {
                let e: Box<dyn std::error::Error + Send + Sync> =
                    format!("{host} resolves only to private or reserved addresses; not delivered").into();
                return Err(e);
            }
            let addrs: reqwest::dns::Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// A new endpoint and its secret, the only time the secret is shown in full.
#[derive(Serialize, TS, serde::Deserialize)]
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
    fn private_and_metadata_addresses_are_refused_by_address_or_by_name() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let resolve = |host: &str, _port: u16| match host {
            "metadata.example" => vec![ip("169.254.169.254")],
            "intranet.example" => vec![ip("93.184.216.34"), ip("10.0.0.5")],
            "self.example" => vec![ip("127.0.0.1")],
            "v6.example" => vec![ip("fd00::1")],
            "mapped.example" => vec![ip("::ffff:192.168.1.1")],
            "public.example" => vec![ip("93.184.216.34")],
            _ => vec![],
        };
        for (url, ok) in [
            ("https://public.example/hook", true),
            ("https://unresolved.example/hook", true),
            ("http://localhost:9000/hook", true),
            ("http://127.0.0.1:9000/hook", true),
            ("https://metadata.example/latest", false),
            ("https://intranet.example/hook", false),
            ("https://self.example/hook", false),
            ("https://v6.example/hook", false),
            ("https://mapped.example/hook", false),
            ("https://169.254.169.254/latest/meta-data", false),
            ("https://10.1.2.3/hook", false),
            ("https://192.168.0.10/hook", false),
            ("https://172.16.5.4/hook", false),
            ("https://100.64.0.1/hook", false),
            ("https://[fe80::1]/hook", false),
            ("https://[::ffff:10.0.0.1]/hook", false),
            ("https://0.0.0.0/hook", false),
            ("https://93.184.216.34/hook", true),
        ] {
            assert_eq!(check_url_with(url, resolve).is_ok(), ok, "{url}");
        }
        assert!(deliverable(ip("127.0.0.1"), true) && !deliverable(ip("127.0.0.1"), false));
        assert!(!deliverable(ip("::1"), false) && deliverable(ip("2606:4700::1"), false));
    }

    /// With the system's own resolver: this machine's host name (in /etc/hosts, on loopback on
    /// Debian) is this machine by another name, and refused.
    #[test]
    fn a_name_resolving_to_this_machine_is_refused_by_the_real_resolver() {
        use std::net::ToSocketAddrs;
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default().trim().to_string();
        let on_loopback = (host.as_str(), 443).to_socket_addrs().is_ok_and(|mut a| a.any(|a| a.ip().is_loopback()));
        if host.is_empty() || host == "localhost" || !on_loopback {
            eprintln!("skipped: the host name {host:?} does not resolve to loopback here");
            return;
        }
        let e = check_url(&format!("https://{host}/hook")).unwrap_err();
        assert_eq!(e.code, ErrorCode::WebhookUrlRefused);
        assert!(e.message.contains("resolves to 127."), "{}", e.message);
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
