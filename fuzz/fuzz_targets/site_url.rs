//! Site canonicalisation and classification: never panics on any string, and whatever it accepts
//! is a canonical site (lower case ASCII host, no query, fragment or trailing slash, no leading
//! `www.`) that canonicalises to itself again when read back as a URL, and classifies.
#![no_main]
use keymanager::site::{canonical, parse_patterns, SiteRules, DEFAULT_DEVELOPMENT, DEFAULT_STAGING};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(site) = canonical(text) else { return };
    assert!(!site.is_empty() && site.is_ascii(), "{site:?}");
    assert!(!site.contains('?') && !site.contains('#') && !site.ends_with('/'), "{site:?}");
    assert!(!keymanager::site::host_of(&site).contains('/'), "{site:?}");
    assert!(!site.starts_with("www."), "{site:?}");
    let host = keymanager::site::host_of(&site);
    assert_eq!(host, host.to_ascii_lowercase(), "{site:?}");
    if let Ok(again) = canonical(&format!("https://{site}")) {
        assert_eq!(again, site, "canonical twice is canonical");
    }
    let rules = SiteRules {
        staging: parse_patterns(DEFAULT_STAGING),
        development: parse_patterns(DEFAULT_DEVELOPMENT),
        trust_reported: false,
    };
    let _ = rules.classify(&site, None);
});
