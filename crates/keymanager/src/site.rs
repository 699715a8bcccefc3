//! Sites (licensing-api.md, "Site-aware activations"): the canonical form of a site's address,
//! so `https://WWW.Example.com:443/shop/` and `http://example.com/shop` are one site, and its
//! environment (production, staging, development, local), so a staging copy does not take a
//! production slot. Pure: the seller's host patterns come in as text.

use crate::error::{Error, ErrorCode, Result};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use ts_rs::TS;

/// The longest `site_url` read (the contract's bound).
pub const SITE_URL_MAX: usize = 2048;

crate::text_enum! {
    /// Where a site runs, as WordPress's `wp_get_environment_type()` names it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
    pub enum Environment {
        Production = "production",
        Staging = "staging",
        Development = "development",
        Local = "local",
    }
}

impl Environment {
    pub fn counts_toward_limit(self) -> bool {
        self == Environment::Production
    }
}

fn invalid(why: &str) -> Error {
    Error::new(ErrorCode::InputInvalid, format!("“site_url” {why}")).with_field("site_url")
}

/// The canonical site of an absolute http(s) URL: the host in lower case (international names
/// in their ASCII form), a leading `www.` dropped, the port unless it is 80 or 443, and the path
/// without its trailing `/`; scheme, user, query and fragment dropped. A subfolder install is its
/// own site.
pub fn canonical(site_url: &str) -> Result<String> {
    let text = site_url.trim();
    if text.chars().count() > SITE_URL_MAX {
        return Err(invalid(&format!("has at most {SITE_URL_MAX} characters.")));
    }
    let url = url::Url::parse(text).map_err(|_| invalid("must be an absolute http or https address."))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("must be an http or https address."));
    }
    // The URL parser already lowers the case and turns an international name into punycode.
    let host = match url.host() {
        Some(url::Host::Domain(d)) => {
            let mut d = d.trim_end_matches('.');
            while let Some(rest) = d.strip_prefix("www.").filter(|rest| !rest.is_empty()) {
                d = rest;
            }
            if d.is_empty() {
                return Err(invalid("has no host."));
            }
            // Without its trailing dots a name may read as an address (`00..` is 0.0.0.0): the
            // canonical form is what the name reads as now, so it is canonical again when read.
            match url::Host::parse(d) {
                Ok(url::Host::Ipv4(ip)) => ip.to_string(),
                _ => d.to_string(),
            }
        }
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
        None => return Err(invalid("has no host.")),
    };
    let port = match url.port() {
        Some(80) | Some(443) | None => String::new(),
        Some(p) => format!(":{p}"),
    };
    let path = url.path().trim_end_matches('/');
    Ok(format!("{host}{port}{path}"))
}

/// The host part of a canonical site (`example.com` of `example.com:8080/shop`).
pub fn host_of(site: &str) -> &str {
    let end = site.find('/').unwrap_or(site.len());
    let host_port = &site[..end];
    if host_port.starts_with('[') {
        return host_port.split(']').next().map(|h| h.trim_start_matches('[')).unwrap_or(host_port);
    }
    host_port.split(':').next().unwrap_or(host_port)
}

/// The fingerprint of an activation made with a `site_url` and no fingerprint.
pub fn fingerprint_of(site: &str) -> String {
    format!("site:{site}")
}

/// Names that are never a public site (RFC 2606 and 6761 reserved names, mDNS).
const LOCAL_SUFFIXES: &[&str] = &["localhost", "test", "local", "invalid", "example", "internal", "lan", "home.arpa"];

fn is_local_host(host: &str) -> bool {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return match crate::net::canonical(ip) {
            IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local() || v4.is_unspecified(),
            IpAddr::V6(v6) => {
                let first = v6.segments()[0];
                v6.is_loopback() || v6.is_unspecified() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
            }
        };
    }
    !host.contains('.') || LOCAL_SUFFIXES.iter().any(|s| host == *s || host.ends_with(&format!(".{s}")))
}

/// One host pattern: labels separated by dots, where a label may hold `*` (any text within that
/// label), and a whole first or last label `*` stands for one or more labels. Patterns match
/// whole labels, never substrings of the host: `dev.*` matches `dev.example.com`, not
/// `mydev.com`.
fn pattern_matches(pattern: &str, host: &str) -> bool {
    let p: Vec<&str> = pattern.split('.').collect();
    let h: Vec<&str> = host.split('.').collect();
    match (p.first(), p.last()) {
        (Some(&"*"), _) if p.len() > 1 => {
            // `*.wpengine.com`: at least one label, then the rest exactly.
            let rest = &p[1..];
            h.len() > rest.len() && labels_match(rest, &h[h.len() - rest.len()..])
        }
        (_, Some(&"*")) if p.len() > 1 => {
            // `staging.*`: the leading labels exactly, then at least one more.
            let lead = &p[..p.len() - 1];
            h.len() > lead.len() && labels_match(lead, &h[..lead.len()])
        }
        _ => p.len() == h.len() && labels_match(&p, &h),
    }
}

fn labels_match(pattern: &[&str], host: &[&str]) -> bool {
    pattern.iter().zip(host).all(|(p, h)| label_matches(p, h))
}

/// A glob within one label: `*` matches any run of characters (never a dot).
fn label_matches(p: &str, h: &str) -> bool {
    match p.split_once('*') {
        None => p == h,
        Some((before, after)) => {
            h.len() >= before.len() + after.len()
                && h.starts_with(before)
                && label_matches_suffix(after, &h[before.len()..])
        }
    }
}

fn label_matches_suffix(p: &str, h: &str) -> bool {
    if !p.contains('*') {
        return h.ends_with(p);
    }
    // More than one `*`: try every split.
    (0..=h.len()).filter(|i| h.is_char_boundary(*i)).any(|i| label_matches(p, &h[i..]))
}

/// The host patterns a seller's settings hold (commas or spaces between them).
pub fn parse_patterns(text: &str) -> Vec<String> {
    text.split([',', ' ', '\n']).map(|p| p.trim().to_ascii_lowercase()).filter(|p| !p.is_empty()).collect()
}

/// Checks a settings value of host patterns; returns it in its stored form.
pub fn validate_patterns(text: &str) -> std::result::Result<String, String> {
    let patterns = parse_patterns(text);
    for p in &patterns {
        let ok = p.len() <= 253
            && p.split('.')
                .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '*'));
        if !ok {
            return Err(format!("“{p}” is not a host pattern such as staging.* or *.wpengine.com."));
        }
    }
    if patterns.len() > 200 {
        return Err("At most 200 patterns.".into());
    }
    Ok(patterns.join(", "))
}

/// The staging hosts WordPress hosts give (seed of the `staging_hosts` setting).
pub const DEFAULT_STAGING: &str = "staging.*, stage.*, stg.*, *.wpengine.com, *.wpenginepowered.com, \
    staging-*.kinsta.cloud, *.staging.kinsta.cloud, *.flywheelstaging.com, test-*.pantheonsite.io, \
    *.cloudwaysapps.com, *.myftpupload.com, *.instawp.xyz, *.instawp.co, *.wpcomstaging.com, \
    *.stage.site, *.sg-host.com, *.tempurl.host";

/// Development hosts (seed of the `development_hosts` setting).
pub const DEFAULT_DEVELOPMENT: &str =
    "dev.*, develop.*, development.*, dev-*.pantheonsite.io, *.lndo.site, *.ddev.site, *.ngrok.io, *.ngrok-free.app";

/// How a site was classified, and why (the settings tester box says which pattern matched).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct Classification {
    pub site: String,
    pub environment: Environment,
    /// The seller's pattern that matched, or what else decided.
    pub reason: String,
    pub counts_toward_limit: bool,
}

/// The rules a seller set: host patterns, and whether a reported environment is believed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SiteRules {
    pub staging: Vec<String>,
    pub development: Vec<String>,
    pub trust_reported: bool,
}

impl SiteRules {
    /// The rules from the settings' stored pattern lists (`staging_hosts`, `development_hosts`).
    pub fn new(staging_hosts: &str, development_hosts: &str, trust_reported: bool) -> SiteRules {
        SiteRules {
            staging: parse_patterns(staging_hosts),
            development: parse_patterns(development_hosts),
            trust_reported,
        }
    }

    /// The environment of canonical site `site`, given what the client reported.
    pub fn classify(&self, site: &str, reported: Option<Environment>) -> Classification {
        let host = host_of(site);
        let done = |environment: Environment, reason: String| Classification {
            site: site.to_string(),
            environment,
            reason,
            counts_toward_limit: environment.counts_toward_limit(),
        };
        if is_local_host(host) {
            return done(Environment::Local, "a local address or reserved name".into());
        }
        for (patterns, env) in [(&self.staging, Environment::Staging), (&self.development, Environment::Development)] {
            if let Some(p) = patterns.iter().find(|p| pattern_matches(p, host)) {
                return done(env, format!("matches the {} pattern {p}", env.as_str()));
            }
        }
        match reported {
            Some(env) if self.trust_reported && env != Environment::Production => {
                done(env, format!("the site reports itself as {} (trusted)", env.as_str()))
            }
            _ => done(Environment::Production, "no pattern matches".into()),
        }
    }
}

/// Classifies a site URL with the seller's rules (`keymanager sites classify`, the tester box).
pub fn classify_url(rules: &SiteRules, site_url: &str, reported: Option<Environment>) -> Result<Classification> {
    Ok(rules.classify(&canonical(site_url)?, reported))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_sites() {
        let same = "example.com/shop";
        for (input, want) in [
            ("https://WWW.Example.com:443/shop/", same),
            ("http://example.com/shop", same),
            ("http://example.com:80/shop?x=1#top", same),
            ("https://user:pw@www.example.com/shop", same),
            ("https://example.com", "example.com"),
            ("https://example.com/", "example.com"),
            ("https://example.com:8443/", "example.com:8443"),
            ("https://bücher.de/", "xn--bcher-kva.de"),
            ("https://BÜCHER.de", "xn--bcher-kva.de"),
            ("https://www.bücher.de/laden/", "xn--bcher-kva.de/laden"),
            ("https://example.com./", "example.com"),
            ("https://www/", "www"),
            ("http://192.168.1.20:8080/wp", "192.168.1.20:8080/wp"),
            ("http://[::1]/", "[::1]"),
            ("  https://example.com/a/b/  ", "example.com/a/b"),
        ] {
            assert_eq!(canonical(input).unwrap(), want, "{input}");
        }
        for bad in ["example.com", "ftp://example.com", "https://", "not a url", "javascript:alert(1)", ""] {
            assert!(canonical(bad).is_err(), "{bad}");
        }
        assert!(canonical(&format!("https://example.com/{}", "a".repeat(2100))).is_err());
    }

    #[test]
    fn classification_table() {
        let rules = SiteRules {
            staging: parse_patterns(DEFAULT_STAGING),
            development: parse_patterns(DEFAULT_DEVELOPMENT),
            trust_reported: false,
        };
        for (url, want) in [
            ("https://example.com", Environment::Production),
            ("https://mydev.com", Environment::Production),
            ("https://shop.dev-tools.io", Environment::Production),
            ("https://staging-tools.com", Environment::Production),
            ("https://dev.example.com", Environment::Development),
            ("https://staging.example.com", Environment::Staging),
            ("https://www.staging.example.com", Environment::Staging),
            ("https://staging-abc.kinsta.cloud", Environment::Staging),
            ("https://abc.kinsta.cloud", Environment::Production),
            ("https://mysite.wpengine.com", Environment::Staging),
            ("https://wpengine.com", Environment::Production),
            ("http://localhost:8080", Environment::Local),
            ("http://127.0.0.1/wp", Environment::Local),
            ("http://10.0.0.7", Environment::Local),
            ("http://192.168.1.20", Environment::Local),
            ("http://[::1]", Environment::Local),
            ("http://shop.test", Environment::Local),
            ("http://shop.local", Environment::Local),
            ("http://shop.localhost", Environment::Local),
            ("http://example.invalid", Environment::Local),
            ("http://site.example", Environment::Local),
            ("http://intranet", Environment::Local),
            ("https://8.8.8.8", Environment::Production),
        ] {
            assert_eq!(classify_url(&rules, url, None).unwrap().environment, want, "{url}");
        }
        let c = classify_url(&rules, "https://staging-abc.kinsta.cloud", None).unwrap();
        assert!(c.reason.contains("staging-*.kinsta.cloud"), "{}", c.reason);
        assert!(!c.counts_toward_limit);
    }

    #[test]
    fn a_reported_environment_counts_only_when_trusted() {
        let mut rules = SiteRules::default();
        let reported = Some(Environment::Staging);
        assert_eq!(rules.classify("example.com", reported).environment, Environment::Production);
        rules.trust_reported = true;
        assert_eq!(rules.classify("example.com", reported).environment, Environment::Staging);
        assert_eq!(rules.classify("example.com", Some(Environment::Production)).environment, Environment::Production);
        assert_eq!(rules.classify("shop.test", Some(Environment::Production)).environment, Environment::Local);
    }

    #[test]
    fn patterns_match_whole_labels() {
        for (p, host, want) in [
            ("dev.*", "dev.example.com", true),
            ("dev.*", "dev", false),
            ("dev.*", "mydev.com", false),
            ("dev.*", "shop.dev-tools.io", false),
            ("*.wpengine.com", "a.b.wpengine.com", true),
            ("*.wpengine.com", "wpengine.com", false),
            ("*.wpengine.com", "notwpengine.com", false),
            ("staging-*.kinsta.cloud", "staging-abc.kinsta.cloud", true),
            ("staging-*.kinsta.cloud", "staging-.kinsta.cloud", true),
            ("staging-*.kinsta.cloud", "x.staging-abc.kinsta.cloud", false),
            ("test-*.pantheonsite.io", "test-site.pantheonsite.io", true),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("exact.example", "exact.example", true),
        ] {
            assert_eq!(pattern_matches(p, host), want, "{p} ~ {host}");
        }
        assert!(validate_patterns("staging.*, *.wpengine.com").is_ok());
        assert!(validate_patterns("bad pattern!").is_err());
        assert!(validate_patterns("a..b").is_err());
    }
}
