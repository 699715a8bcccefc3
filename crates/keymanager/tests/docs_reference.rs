//! The project's own reference (`docs/`), written for the people who integrate with KeyManager,
//! must name everything the frozen contracts name: every path, result code, header, setting and
//! event type in shared/docs/licensing-api.md, updates-api.md and webhooks-email.md appears in
//! docs/. A contract addition that the reference does not describe fails here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The contracts, at ../shared/docs beside the project (where CI has them too).
fn contracts() -> Vec<(String, String)> {
    let dir = root().join("../shared/docs");
    ["licensing-api.md", "updates-api.md", "webhooks-email.md"]
        .iter()
        .map(|name| {
            let text = std::fs::read_to_string(dir.join(name))
                .unwrap_or_else(|e| panic!("the contract {name} is read from {}: {e}", dir.display()));
            (name.to_string(), text)
        })
        .collect()
}

/// Every `code span` of a Markdown text.
fn spans(text: &str) -> Vec<String> {
    text.split('`').skip(1).step_by(2).map(str::to_string).collect()
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Path,
    Code,
    Header,
    Setting,
    Event,
}

/// What a contract's code span names, if it is one of the kinds the reference must carry.
fn named(span: &str) -> Vec<(Kind, String)> {
    let span = span.trim();
    let mut out = Vec::new();
    // `GET /v1/health`, `POST /edd`, `GET or HEAD /updates/download/{token}`, `/edd/`.
    if let Some(at) = span.find('/') {
        let before = &span[..at];
        let path: String = span[at..].split_whitespace().next().unwrap_or("").to_string();
        let verbs = before.split_whitespace().all(|w| ["GET", "POST", "HEAD", "or"].contains(&w));
        if verbs && (path.starts_with("/v1") || path.starts_with("/updates") || path.starts_with("/edd")) {
            out.push((Kind::Path, path.split('?').next().unwrap_or("").to_string()));
        }
        return out;
    }
    let codes_allowed = |s: &str| s.len() >= 2 && s.chars().all(|c| c.is_ascii_uppercase() || c == '_');
    if codes_allowed(span) && span.chars().next().is_some_and(|c| c.is_ascii_uppercase()) {
        out.push((Kind::Code, span.to_string()));
    }
    // Headers: `KeyManager-Signature: ed25519=<base64>`, `Retry-After`, `webhook-id`.
    let name = span.split(':').next().unwrap_or("");
    let header_like = name.contains('-')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && (name.chars().next().is_some_and(|c| c.is_ascii_uppercase()) || name.starts_with("webhook-"));
    if header_like || ["ETag", "Referer", "Accept", "Allow", "Origin"].contains(&name) {
        out.push((Kind::Header, name.to_string()));
    }
    if keymanager::settings::KEYS.contains(&span) {
        out.push((Kind::Setting, span.to_string()));
    }
    if span.split('.').count() == 2
        && span.split('.').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        && ["sale", "license", "activation", "sync", "webhook", "release"].contains(&span.split('.').next().unwrap())
    {
        out.push((Kind::Event, span.to_string()));
    }
    out
}

#[test]
fn the_reference_names_every_path_code_header_setting_and_event_of_the_contracts() {
    let docs_dir = root().join("docs");
    let mut docs = String::new();
    for entry in std::fs::read_dir(&docs_dir).expect("docs/ holds the project's reference") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            docs.push_str(&std::fs::read_to_string(&path).unwrap());
            docs.push('\n');
        }
    }
    let in_docs: BTreeSet<String> = spans(&docs).into_iter().flat_map(|s| named(&s)).map(|(_, n)| n).collect();
    let mut missing = BTreeSet::new();
    let mut counted = 0;
    for (file, text) in contracts() {
        for span in spans(&text) {
            for (kind, name) in named(&span) {
                counted += 1;
                // Named in a code span of docs/ (the same classification), or at least in its text.
                if !in_docs.contains(&name) && !docs.contains(&name) {
                    missing.insert(format!("{file}: {kind:?} {name}"));
                }
            }
        }
    }
    assert!(counted > 100, "the contracts were read ({counted} names)");
    assert!(missing.is_empty(), "docs/ does not name:\n{}", missing.into_iter().collect::<Vec<_>>().join("\n"));
}

#[test]
fn the_classifier_reads_each_kind() {
    assert_eq!(named("GET or HEAD /updates/download/{token}"), [(Kind::Path, "/updates/download/{token}".into())]);
    assert_eq!(named("POST /v1/licenses/validate"), [(Kind::Path, "/v1/licenses/validate".into())]);
    assert_eq!(named("NOT_FOUND"), [(Kind::Code, "NOT_FOUND".into())]);
    assert_eq!(named("KeyManager-Signature: ed25519=<base64>"), [(Kind::Header, "KeyManager-Signature".into())]);
    assert_eq!(named("webhook-id"), [(Kind::Header, "webhook-id".into())]);
    assert_eq!(named("downloads_per_day"), [(Kind::Setting, "downloads_per_day".into())]);
    assert_eq!(named("release.yanked"), [(Kind::Event, "release.yanked".into())]);
    assert!(named("wp_get_environment_type()").is_empty());
}
