//! Where Envato requests go. Sellers cannot choose: KeyManager talks to Envato's API, and the
//! personal token goes nowhere else. Developers (tests, benchmarks, demos) point a run at the
//! local Envato sandbox with `--envato-api-base` or `KEYMANAGER_ENVATO_API_BASE`; that override is
//! never stored, accepts only this machine (or Envato's own address), and the window shows a
//! warning banner while it is active.
//!
//! The token is bound to the origin it was validated against: the keychain keeps one entry per
//! origin, and a client refuses a token loaded for another origin (`Token::bound_to`).
//! Addresses are parsed with a URL parser, never by string tests: `http://localhost:1@evil.example`
//! is a request to evil.example, and it is refused.

use crate::error::{Error, ErrorCode, Result};
use serde::Serialize;
use std::net::IpAddr;
use ts_rs::TS;
use url::{Host, Url};

/// Envato's API: the only address a seller's KeyManager talks to.
pub const OFFICIAL: &str = "https://api.envato.com";

/// The environment variable of the developer override (the CLI's `--envato-api-base` reads it too).
pub const OVERRIDE_ENV: &str = "KEYMANAGER_ENVATO_API_BASE";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiBase {
    url: String,
    origin: String,
    overridden: bool,
}

/// What the window shows about the Envato address in force (a banner when overridden).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ApiBaseInfo {
    pub base: String,
    /// A developer override (the sandbox) is in force: show the warning banner.
    pub developer_override: bool,
}

fn refused(message: String) -> Error {
    Error::new(ErrorCode::InputInvalid, message).with_field("envato_api_base")
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
}

impl ApiBase {
    pub fn official() -> ApiBase {
        ApiBase { url: OFFICIAL.to_string(), origin: OFFICIAL.to_string(), overridden: false }
    }

    /// The address for this run: the developer override when given (and not empty), else Envato.
    pub fn resolve(developer_override: Option<&str>) -> Result<ApiBase> {
        match developer_override.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(ApiBase::official()),
            Some(s) => ApiBase::parse_override(s),
        }
    }

    /// Reads the override from `KEYMANAGER_ENVATO_API_BASE` (the app's way; the CLI uses clap).
    pub fn from_env() -> Result<ApiBase> {
        ApiBase::resolve(std::env::var(OVERRIDE_ENV).ok().as_deref())
    }

    /// A developer override: https or http on this machine (the sandbox), or Envato's own
    /// https address. No user name or password in the address, no query or fragment.
    pub fn parse_override(input: &str) -> Result<ApiBase> {
        let shown: String = input.chars().take(60).collect();
        let url = Url::parse(input.trim())
            .map_err(|e| refused(format!("“{shown}” is not a web address ({e}); use e.g. http://127.0.0.1:8099.")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(refused(format!("“{shown}” is not an http:// or https:// address.")));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(refused("The Envato API address may not contain a user name or password.".into()));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(refused("The Envato API address may not contain a query or fragment.".into()));
        }
        let host = url.host().ok_or_else(|| refused(format!("“{shown}” names no host.")))?;
        let official = url.scheme() == "https" && host == Host::Domain("api.envato.com") && url.port().is_none();
        if !official && !is_loopback(&host) {
            return Err(refused(format!(
                "KeyManager sends the Envato token only to Envato ({OFFICIAL}); a developer override may point only \
                 at this machine (the sandbox), not at {host}."
            )));
        }
        let origin = url.origin().ascii_serialization();
        let path = url.path().trim_end_matches('/');
        let url_text = format!("{origin}{path}");
        Ok(ApiBase { overridden: url_text != OFFICIAL, url: url_text, origin })
    }

    /// The base URL requests are built on (no trailing slash).
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// `scheme://host[:port]`: what a stored token is bound to.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn is_override(&self) -> bool {
        self.overridden
    }

    pub fn info(&self) -> ApiBaseInfo {
        ApiBaseInfo { base: self.url.clone(), developer_override: self.overridden }
    }
}

/// The origin of a base URL as the client uses it; None when it does not parse.
pub fn origin_of(base_url: &str) -> Option<String> {
    Url::parse(base_url).ok().map(|u| u.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_envato_or_this_machine_is_accepted() {
        let ok = [
            ("http://127.0.0.1:8099", "http://127.0.0.1:8099", true),
            ("http://127.0.0.1:8099/", "http://127.0.0.1:8099", true),
            ("http://localhost:1", "http://localhost:1", true),
            ("http://[::1]:9", "http://[::1]:9", true),
            ("https://127.0.0.2:443", "https://127.0.0.2", true),
            ("https://api.envato.com/", OFFICIAL, false),
        ];
        for (input, want, overridden) in ok {
            let b = ApiBase::parse_override(input).unwrap_or_else(|e| panic!("{input}: {}", e.message));
            assert_eq!(b.as_str(), want, "{input}");
            assert_eq!(b.is_override(), overridden, "{input}");
        }
        let refused = [
            "http://localhost:1@evil.example",
            "http://localhost:1@evil.example/",
            "https://user:pw@127.0.0.1:8099",
            "http://evil.example",
            "https://evil.example",
            "http://api.envato.com",
            "https://api.envato.com:8443",
            "https://api.envato.com.evil.example",
            "http://127.0.0.1.evil.example",
            "ftp://127.0.0.1",
            "file:///etc/passwd",
            "http://127.0.0.1:8099/?x=1",
            "127.0.0.1:8099",
            "",
            "http://",
        ];
        for input in refused {
            let e = ApiBase::parse_override(input).err().unwrap_or_else(|| panic!("{input} was accepted"));
            assert_eq!(e.code, ErrorCode::InputInvalid, "{input}");
            assert_eq!(e.field.as_deref(), Some("envato_api_base"));
        }
    }

    #[test]
    fn no_override_is_envato() {
        assert_eq!(ApiBase::resolve(None).unwrap(), ApiBase::official());
        assert_eq!(ApiBase::resolve(Some("  ")).unwrap(), ApiBase::official());
        assert!(!ApiBase::official().is_override());
        assert_eq!(ApiBase::official().origin(), OFFICIAL);
    }
}
