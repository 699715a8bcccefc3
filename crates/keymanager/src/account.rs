//! The seller's Envato connection: validating a personal token in the seed's four steps
//! (format, connection, permissions, items for sale), saving it to the keychain only once it
//! validates, and the status the Envato Integration tab shows. The token itself only ever
//! passes through here on its way to the keychain or the Authorization header.

use crate::envato::{scopes, ClientConfig, EnvatoClient};
use crate::error::{Error, ErrorCode, Result};
use crate::keychain::Keychain;
use crate::store::SharedStore;
use crate::store::{EnvatoAccountRecord, Store};
use crate::time::{self, Timestamp};
use crate::token::Token;
use serde::Serialize;
use std::sync::Arc;
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Format,
    Connection,
    Permissions,
    Items,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    Running,
    Passed,
    Failed,
    Skipped,
}

/// One step's result, with the seed's troubleshooting cause and solution when it failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct ValidationStep {
    pub kind: StepKind,
    pub state: StepState,
    pub title: String,
    pub detail: String,
    pub cause: Option<String>,
    pub solution: Option<String>,
    pub code: Option<crate::error::ErrorCode>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct MissingScope {
    pub scope: String,
    /// As Envato's token page words it.
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct ValidationReport {
    pub ok: bool,
    pub steps: Vec<ValidationStep>,
    pub username: Option<String>,
    #[ts(type = "number | null")]
    pub user_id: Option<i64>,
    pub items_count: Option<u32>,
    pub missing_scopes: Vec<MissingScope>,
    /// Envato's create-token page with KeyManager's permissions ticked.
    pub create_token_url: String,
    pub error: Option<Error>,
}

/// What the Envato Integration tab and `token status` show. Never the token: only its last
/// four characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct TokenStatus {
    pub configured: bool,
    /// False when the database remembers a token the keychain no longer has.
    pub in_keychain: bool,
    pub token_hint: Option<String>,
    pub username: Option<String>,
    pub items_count: Option<u32>,
    pub saved_at: Option<String>,
    pub validated_at: Option<String>,
    pub last_check_at: Option<String>,
    pub last_check_ok: Option<bool>,
    pub last_error: Option<Error>,
    pub age_days: Option<u32>,
    /// Older than 365 days: the seed advises rotating yearly.
    pub rotation_due: bool,
    /// Why the keychain could not be asked (locked, not running, no session bus): the token's
    /// presence is unknown until it answers. None when it answered.
    pub keychain_problem: Option<KeychainProblem>,
}

/// The keychain did not answer: what is wrong, in plain words, and how to fix it here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct KeychainProblem {
    pub error: Error,
    /// Steps for this kind of machine, most likely first.
    pub fixes: Vec<String>,
}

impl KeychainProblem {
    pub fn of(error: Error) -> KeychainProblem {
        let mut fixes = Vec::new();
        if cfg!(target_os = "linux") {
            fixes.push(
                "Unlock your login keyring: open “Passwords and Keys” (Seahorse), right-click “Login” and choose Unlock, \
                 or log out and in again with your password (an automatic login leaves it locked)."
                    .to_string(),
            );
            fixes.push(
                "No keyring running? Install and start one: GNOME Keyring (sudo apt install gnome-keyring) or KWallet on \
                 KDE, then log in again."
                    .to_string(),
            );
            fixes.push(
                "On a server without a desktop, give the token in a file instead: KEYMANAGER_ENVATO_TOKEN_FILE (or \
                 systemd's LoadCredential=envato-token:…), readable only by KeyManager's user."
                    .to_string(),
            );
        } else if cfg!(target_os = "macos") {
            fixes.push("Unlock the login keychain in Keychain Access, then try again.".to_string());
        } else {
            fixes.push("Sign in to Windows with your password so the Credential Manager is available.".to_string());
        }
        KeychainProblem { error, fixes }
    }
}

pub const ROTATION_DAYS: i64 = 365;

fn step(kind: StepKind, state: StepState, title: &str, detail: impl Into<String>) -> ValidationStep {
    ValidationStep { kind, state, title: title.into(), detail: detail.into(), cause: None, solution: None, code: None }
}

fn failed(kind: StepKind, title: &str, err: &Error, cause: &str, solution: &str) -> ValidationStep {
    ValidationStep {
        kind,
        state: StepState::Failed,
        title: title.into(),
        detail: err.message.clone(),
        cause: Some(cause.into()),
        solution: Some(solution.into()),
        code: Some(err.code),
    }
}

/// The seed's troubleshooting table, keyed by what went wrong.
fn troubleshoot(err: &Error) -> (&'static str, &'static str, &'static str) {
    match err.code {
        ErrorCode::EnvatoTokenFormat => {
            ("Invalid token format", "Token copied incorrectly", "Copy the entire token, including all characters")
        }
        ErrorCode::EnvatoUnauthorized => {
            ("Token expired", "The token was revoked, deleted or mistyped", "Generate a new token from Envato")
        }
        ErrorCode::EnvatoMissingPermission => {
            ("Unauthorized", "Missing permissions", "Regenerate the token with the correct permissions")
        }
        ErrorCode::EnvatoNoItems => (
            "No items found",
            "The account has no products",
            "Verify you're using your seller account, not a buyer account",
        ),
        _ => ("API connection failed", "Network or Envato outage", "Wait and retry; check Envato's status page"),
    }
}

const TITLES: [(StepKind, &str); 4] = [
    (StepKind::Format, "Token format"),
    (StepKind::Connection, "Connection to Envato"),
    (StepKind::Permissions, "Permissions"),
    (StepKind::Items, "Items for sale"),
];

fn title(kind: StepKind) -> &'static str {
    TITLES.iter().find(|(k, _)| *k == kind).map(|(_, t)| *t).unwrap_or("")
}

/// A client config for interactive checks: fail within seconds, not minutes.
pub fn interactive(mut cfg: ClientConfig) -> ClientConfig {
    cfg.max_attempts = cfg.max_attempts.min(2);
    cfg.retry_after_max = cfg.retry_after_max.min(std::time::Duration::from_secs(5));
    cfg
}

/// The report being built, and the listener told of each step as it happens.
struct Progress<'a> {
    report: ValidationReport,
    on_step: &'a mut (dyn FnMut(&ValidationStep) + Send),
}

impl Progress<'_> {
    fn running(&mut self, kind: StepKind, detail: &str) {
        (self.on_step)(&step(kind, StepState::Running, title(kind), detail));
    }

    fn passed(&mut self, kind: StepKind, detail: impl Into<String>) {
        self.push(step(kind, StepState::Passed, title(kind), detail));
    }

    fn push(&mut self, s: ValidationStep) {
        (self.on_step)(&s);
        self.report.steps.push(s);
    }

    /// Records the failure with the seed's cause and solution, and skips the later steps.
    fn fail(mut self, kind: StepKind, err: Error) -> (ValidationReport, Option<Token>) {
        let (t, cause, solution) = troubleshoot(&err);
        self.push(failed(kind, t, &err, cause, solution));
        for (k, _) in TITLES.iter().filter(|(k, _)| (*k as u8) > (kind as u8)) {
            self.push(step(*k, StepState::Skipped, title(*k), "Not checked: an earlier step failed."));
        }
        self.report.error = Some(err);
        (self.report, None)
    }
}

/// Runs the four steps, reporting each as it starts and completes. Returns the report and,
/// when every step passed, the parsed token (ready for the keychain).
pub async fn validate(
    cfg: ClientConfig,
    input: &str,
    on_step: &mut (dyn FnMut(&ValidationStep) + Send),
) -> (ValidationReport, Option<Token>) {
    let mut p = Progress {
        report: ValidationReport {
            ok: false,
            steps: Vec::new(),
            username: None,
            user_id: None,
            items_count: None,
            missing_scopes: Vec::new(),
            create_token_url: scopes::CREATE_TOKEN_URL.to_string(),
            error: None,
        },
        on_step,
    };

    // 1. Format, locally.
    let token = match Token::parse(input) {
        Ok(t) => t,
        Err(e) => return p.fail(StepKind::Format, e),
    };
    p.passed(StepKind::Format, "32 letters and digits.");

    let client = match EnvatoClient::new(interactive(cfg), token.clone()) {
        Ok(c) => c,
        Err(e) => return p.fail(StepKind::Connection, e),
    };

    // 2. Connection: /whoami answers for any valid token.
    p.running(StepKind::Connection, "Asking Envato who this token belongs to…");
    let who = match client.whoami().await {
        Ok(w) => w,
        Err(e) => return p.fail(StepKind::Connection, e),
    };
    p.report.user_id = who.user_id;
    p.passed(StepKind::Connection, "Envato accepted the token.");

    // 3. Permissions, from the token's scopes.
    let missing = scopes::missing(&who.scopes);
    if !missing.is_empty() {
        p.report.missing_scopes = missing
            .iter()
            .map(|s| MissingScope { scope: s.to_string(), label: scopes::label(s).to_string() })
            .collect();
        let names: Vec<String> = missing.iter().map(|s| format!("“{}” ({s})", scopes::label(s))).collect();
        let err = Error::new(
            ErrorCode::EnvatoMissingPermission,
            format!("The token lacks {}. Create a new token with these permissions ticked.", names.join(" and ")),
        )
        .with_field(missing[0]);
        return p.fail(StepKind::Permissions, err);
    }
    p.passed(StepKind::Permissions, "View your items' sales history, and your username.");

    // 4. Items for sale: the account's username, then a search on each marketplace.
    p.running(StepKind::Items, "Looking for your items on each marketplace…");
    let user = match client.username().await {
        Ok(u) => u,
        Err(e) => return p.fail(StepKind::Items, e),
    };
    p.report.username = Some(user.clone());
    let items = match client.seller_items(&user).await {
        Ok(items) => items,
        Err(e) => return p.fail(StepKind::Items, e),
    };
    p.report.items_count = Some(items.len() as u32);
    let mut sites: Vec<&str> = items.iter().filter_map(|i| i.site.as_deref()).collect();
    sites.sort_unstable();
    sites.dedup();
    let plural = if items.len() == 1 { "" } else { "s" };
    p.passed(StepKind::Items, format!("{user} sells {} item{plural} on {}.", items.len(), sites.join(", ")));
    p.report.ok = true;
    (p.report, Some(token))
}

/// Stores a validated token: keychain first (if that fails, nothing is recorded), then the
/// metadata. The previous token is replaced only here, after the new one validated.
pub fn save(
    store: &mut Store,
    keychain: &Keychain,
    token: &Token,
    report: &ValidationReport,
    now: Timestamp,
) -> Result<TokenStatus> {
    if !report.ok {
        return Err(report.error.clone().unwrap_or_else(|| Error::internal("Only a validated token can be saved.")));
    }
    keychain.save(token)?;
    tracing::info!(hint = %token.masked(), "Envato token saved in the system keychain");
    // A new good token lifts the stop that a rejected one put on periodic syncing.
    store.clear_sync_auth_failure()?;
    store.save_envato_account(
        &EnvatoAccountRecord {
            token_hint: token.masked(),
            username: report.username.clone(),
            user_id: report.user_id,
            items_count: report.items_count,
            saved_at: time::to_db(now),
            validated_at: Some(time::to_db(now)),
            last_check_at: Some(time::to_db(now)),
            last_check_ok: Some(true),
            last_error: None,
        },
        now,
    )?;
    status(store, keychain, now)
}

/// What Save Settings on the Envato Integration tab did.
#[derive(Debug, Clone, PartialEq, Serialize, TS, serde::Deserialize)]
pub struct EnvatoSaveResult {
    /// False when a new token failed validation: then nothing was saved, the toggle neither.
    pub saved: bool,
    pub report: Option<ValidationReport>,
    pub status: Option<TokenStatus>,
    pub settings: Option<crate::settings::Settings>,
}

impl EnvatoSaveResult {
    pub fn rejected(report: ValidationReport) -> EnvatoSaveResult {
        EnvatoSaveResult { saved: false, report: Some(report), status: None, settings: None }
    }
}

/// Saves the tab's two settings together: a new token (already validated by `validate`) when
/// one was entered, and the Auto-Create Products toggle.
pub fn save_envato_settings(
    store: &mut Store,
    keychain: &Keychain,
    validated: Option<(ValidationReport, Token)>,
    auto_create_products: bool,
    now: Timestamp,
) -> Result<EnvatoSaveResult> {
    let report = match validated {
        Some((report, token)) => {
            save(store, keychain, &token, &report, now)?;
            Some(report)
        }
        None => None,
    };
    let settings =
        store.update_settings(&[("auto_create_products".to_string(), auto_create_products.to_string())], now)?;
    Ok(EnvatoSaveResult { saved: true, report, status: Some(status(store, keychain, now)?), settings: Some(settings) })
}

/// Re-checks the stored token against Envato and records the outcome (a revoked token shows up
/// here): the one path the app's Validate button and `keymanager token validate` take. The
/// keychain is read on the blocking pool.
pub async fn recheck(
    store: &SharedStore,
    keychain: Arc<Keychain>,
    cfg: ClientConfig,
    on_step: &mut (dyn FnMut(&ValidationStep) + Send),
    now: Timestamp,
) -> Result<ValidationReport> {
    let token = tokio::task::spawn_blocking(move || keychain.load())
        .await
        .map_err(|e| Error::internal(format!("A background task failed: {e}.")))??
        .ok_or_else(not_configured)?;
    let report = validate(cfg, token.expose(), on_step).await.0;
    let recorded = report.clone();
    store.run(move |s| record_check(s, &recorded, now)).await?;
    Ok(report)
}

pub fn record_check(store: &mut Store, report: &ValidationReport, now: Timestamp) -> Result<()> {
    store.record_envato_check(report.ok, report.error.as_ref(), report.username.as_deref(), report.items_count, now)
}

pub fn not_configured() -> Error {
    Error::new(
        ErrorCode::TokenNotConfigured,
        "No Envato personal token is set. Paste one in Settings > Envato Integration, or run `keymanager token set`.",
    )
}

pub fn status(store: &Store, keychain: &Keychain, now: Timestamp) -> Result<TokenStatus> {
    let record = store.envato_account()?;
    // A keychain that does not answer is a state to show (the first run's first check), not a
    // failure of the status itself.
    match keychain.check_available(false).and_then(|()| keychain.load()) {
        Ok(token) => Ok(status_from(record, token.is_some(), now)),
        Err(e) if e.code == ErrorCode::KeychainUnavailable => {
            let mut s = status_from(record, false, now);
            s.keychain_problem = Some(KeychainProblem::of(e));
            Ok(s)
        }
        Err(e) => Err(e),
    }
}

/// "Unlock…": asks a locked keyring to unlock (the desktop's prompt), then the status, which
/// still says what is wrong if the prompt was dismissed.
pub fn unlock_then_status(store: &Store, keychain: &Keychain, now: Timestamp) -> Result<TokenStatus> {
    if let Err(e) = keychain.check_available(true) {
        tracing::info!(code = %e.code, "the keyring stayed locked: {}", e.message);
    }
    status(store, keychain, now)
}

/// Pure: the status shown for a stored record at `now`.
pub fn status_from(record: Option<EnvatoAccountRecord>, in_keychain: bool, now: Timestamp) -> TokenStatus {
    let Some(r) = record else {
        return TokenStatus {
            configured: false,
            in_keychain,
            token_hint: None,
            username: None,
            items_count: None,
            saved_at: None,
            validated_at: None,
            last_check_at: None,
            last_check_ok: None,
            last_error: None,
            age_days: None,
            rotation_due: false,
            keychain_problem: None,
        };
    };
    let age = time::parse(&r.saved_at).map(|saved| (now - saved).num_days().max(0));
    TokenStatus {
        configured: in_keychain,
        in_keychain,
        token_hint: Some(r.token_hint),
        username: r.username,
        items_count: r.items_count,
        saved_at: Some(r.saved_at),
        validated_at: r.validated_at,
        last_check_at: r.last_check_at,
        last_check_ok: r.last_check_ok,
        last_error: r.last_error,
        age_days: age.map(|d| d as u32),
        rotation_due: age.is_some_and(|d| d > ROTATION_DAYS),
        keychain_problem: None,
    }
}

/// Removes the token from the keychain and forgets the account. Licenses stay.
pub fn remove(store: &mut Store, keychain: &Keychain, now: Timestamp) -> Result<TokenStatus> {
    keychain.delete()?;
    store.delete_envato_account(now)?;
    status(store, keychain, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(saved_at: &str) -> EnvatoAccountRecord {
        EnvatoAccountRecord {
            token_hint: "••••abcd".into(),
            username: Some("demo-author".into()),
            user_id: Some(1),
            items_count: Some(3),
            saved_at: saved_at.into(),
            validated_at: Some(saved_at.into()),
            last_check_at: None,
            last_check_ok: None,
            last_error: None,
        }
    }

    #[test]
    fn age_and_rotation_reminder() {
        let now = time::parse("2026-11-28T00:00:00Z").unwrap();
        let s = status_from(Some(record("2026-11-01T00:00:00Z")), true, now);
        assert_eq!((s.configured, s.age_days, s.rotation_due), (true, Some(27), false));
        let s = status_from(Some(record("2025-11-28T00:00:00Z")), true, now);
        assert_eq!((s.age_days, s.rotation_due), (Some(365), false));
        let s = status_from(Some(record("2025-11-27T00:00:00Z")), true, now);
        assert_eq!((s.age_days, s.rotation_due), (Some(366), true));
        let s = status_from(Some(record("2026-11-01T00:00:00Z")), false, now);
        assert!(!s.configured && !s.in_keychain, "metadata without a keychain entry is not configured");
        assert!(!status_from(None, false, now).configured);
    }
}
