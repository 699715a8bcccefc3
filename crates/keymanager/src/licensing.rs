//! License lifecycle and activations. Marketplace policy frowns on kill-switches, so states gate
//! activations, updates and support; nothing here ever changes a license on its own (a refund is
//! the seller's call).

use crate::error::{Error, ErrorCode, Result};
use crate::model::{Activation, KeyHistoryEntry, License, LicenseStatus, SupportWindow};
use crate::store::{AuditEntry, Store};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

crate::text_enum! {
    /// What the seller does to a license (with a reason).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
    pub enum LicenseAction {
        Suspend = "suspend",
        Revoke = "revoke",
        Reactivate = "reactivate",
    }
}

impl LicenseAction {
    fn audit_name(self) -> &'static str {
        match self {
            LicenseAction::Suspend => "license.suspended",
            LicenseAction::Revoke => "license.revoked",
            LicenseAction::Reactivate => "license.reactivated",
        }
    }
}

/// The state machine: active ⇄ suspended, either → revoked, revoked → active (reactivate).
pub fn transition(from: LicenseStatus, action: LicenseAction) -> Result<LicenseStatus> {
    use LicenseAction::*;
    use LicenseStatus::*;
    let to = match (from, action) {
        (Active, Suspend) => Suspended,
        (Active | Suspended, Revoke) => Revoked,
        (Suspended | Revoked, Reactivate) => Active,
        _ => {
            return Err(Error::new(
                ErrorCode::LicenseInvalidTransition,
                format!(
                    "A {} license cannot be {}.",
                    from.as_str(),
                    match action {
                        Suspend => "suspended",
                        Revoke => "revoked",
                        Reactivate => "reactivated",
                    }
                ),
            ))
        }
    };
    Ok(to)
}

fn check_reason(reason: &str) -> Result<String> {
    let r = reason.trim();
    if r.is_empty() {
        return Err(
            Error::invalid_input("Give a reason: it is kept in the license's audit trail.").with_field("reason")
        );
    }
    if r.chars().count() > 500 || r.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Error::invalid_input("A reason has at most 500 characters.").with_field("reason"));
    }
    Ok(r.to_string())
}

fn license(store: &Store, id: i64) -> Result<License> {
    store
        .license(id)?
        .ok_or_else(|| Error::new(ErrorCode::LicenseNotFound, format!("There is no license with ID {id}.")))
}

pub fn change_status(
    store: &mut Store,
    id: i64,
    action: LicenseAction,
    reason: &str,
    now: Timestamp,
) -> Result<License> {
    let reason = check_reason(reason)?;
    // The status is judged inside the write transaction, never from an earlier read.
    store.change_license_status(id, |from| transition(from, action), action.audit_name(), &reason, now)
}

/// A buyer e-mail as typed (empty clears it), checked.
fn check_email(text: &str) -> Result<Option<String>> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    crate::mailbox::parse_address(t).map(Some).map_err(|e| e.with_field("buyer_email"))
}

/// A note as typed (empty clears it).
fn check_note(text: &str) -> Result<Option<String>> {
    let t = text.trim();
    if t.chars().count() > 2000 || t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(Error::invalid_input("A note has at most 2,000 characters.").with_field("note"));
    }
    Ok((!t.is_empty()).then(|| t.to_string()))
}

/// Sets a license's buyer e-mail and note (the seller's typing; empty clears).
pub fn set_details(store: &mut Store, id: i64, buyer_email: &str, note: &str, now: Timestamp) -> Result<License> {
    let email = check_email(buyer_email)?;
    let note = check_note(note)?;
    store.update_license_details(id, email.as_deref(), note.as_deref(), now)
}

/// A license made by hand (a sale outside Envato): product, buyer, e-mail and note checked.
pub fn issue(
    store: &mut Store,
    product_id: i64,
    buyer: Option<&str>,
    buyer_email: Option<&str>,
    note: Option<&str>,
    now: Timestamp,
) -> Result<License> {
    let new = crate::store::NewLicense {
        product_id,
        buyer: buyer.map(str::to_string),
        buyer_email: check_email(buyer_email.unwrap_or(""))?,
        note: check_note(note.unwrap_or(""))?,
    };
    store.issue_license(&new, now)
}

/// What a bulk status change did: the licenses changed, and those left as they were (a
/// transition that does not apply, say reactivating an active license) with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct BulkResult {
    #[ts(type = "Array<number>")]
    pub changed: Vec<i64>,
    pub skipped: Vec<BulkSkip>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct BulkSkip {
    #[ts(type = "number")]
    pub id: i64,
    pub message: String,
}

/// Bulk suspend/revoke/reactivate of a selection with one reason. Each license changes in its own
/// transaction, judged there like a single change; one that cannot change is skipped, not fatal.
pub fn change_status_many(
    store: &mut Store,
    ids: &[i64],
    action: LicenseAction,
    reason: &str,
    now: Timestamp,
) -> Result<BulkResult> {
    let reason = check_reason(reason)?;
    if ids.is_empty() {
        return Err(Error::invalid_input("Select at least one license.").with_field("ids"));
    }
    if ids.len() > 10_000 {
        return Err(Error::invalid_input("At most 10,000 licenses at once.").with_field("ids"));
    }
    let mut out = BulkResult { changed: Vec::new(), skipped: Vec::new() };
    let mut seen = std::collections::HashSet::new();
    for &id in ids.iter().filter(|id| seen.insert(**id)) {
        match store.change_license_status(id, |from| transition(from, action), action.audit_name(), &reason, now) {
            Ok(_) => out.changed.push(id),
            Err(e) if matches!(e.code, ErrorCode::LicenseInvalidTransition | ErrorCode::LicenseNotFound) => {
                out.skipped.push(BulkSkip { id, message: e.message })
            }
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

pub fn regenerate_key(store: &mut Store, id: i64, reason: &str, now: Timestamp) -> Result<License> {
    let reason = check_reason(reason)?;
    license(store, id)?;
    store.replace_license_key(id, &reason, now)?;
    license(store, id)
}

/// Everything the Licenses page's detail panel shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct LicenseDetail {
    pub license: License,
    /// The support window as of the request.
    pub support: SupportWindow,
    pub activations: Vec<Activation>,
    pub audit: Vec<AuditEntry>,
    pub key_history: Vec<KeyHistoryEntry>,
}

pub fn detail(store: &Store, id: i64, now: Timestamp) -> Result<LicenseDetail> {
    let license = license(store, id)?;
    Ok(LicenseDetail {
        support: SupportWindow::at(license.supported_until.as_deref(), now),
        license,
        activations: store.activations(id)?,
        audit: store.audit_for_license(id)?,
        key_history: store.key_history(id)?,
    })
}

/// Activations are for active licenses only (suspended and revoked ones answer with their code).
pub fn refuse_if_not_active(l: &License) -> Result<()> {
    match l.status {
        LicenseStatus::Active => Ok(()),
        LicenseStatus::Suspended => {
            Err(Error::new(ErrorCode::LicenseSuspended, "This license is suspended; contact the seller."))
        }
        LicenseStatus::Revoked => Err(Error::new(ErrorCode::LicenseRevoked, "This license has been revoked.")),
    }
}

/// The seller frees a slot from the UI.
pub fn free_slot(store: &mut Store, license_id: i64, activation_id: i64, now: Timestamp) -> Result<LicenseDetail> {
    store.deactivate(license_id, None, Some(activation_id), now)?;
    detail(store, license_id, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use LicenseAction::*;
    use LicenseStatus::*;

    #[test]
    fn transitions_table() {
        let table = [
            (Active, Suspend, Ok(Suspended)),
            (Active, Revoke, Ok(Revoked)),
            (Active, Reactivate, Err(())),
            (Suspended, Suspend, Err(())),
            (Suspended, Revoke, Ok(Revoked)),
            (Suspended, Reactivate, Ok(Active)),
            (Revoked, Suspend, Err(())),
            (Revoked, Revoke, Err(())),
            (Revoked, Reactivate, Ok(Active)),
        ];
        for (from, action, want) in table {
            let got = transition(from, action);
            match want {
                Ok(to) => assert_eq!(got.unwrap(), to, "{from:?} {action:?}"),
                Err(()) => {
                    assert_eq!(got.unwrap_err().code, ErrorCode::LicenseInvalidTransition, "{from:?} {action:?}")
                }
            }
        }
    }
}
