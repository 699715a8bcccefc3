//! The `envato_account` table: metadata about the stored token (never the token).

use super::audit::{insert_audit, AuditEntry, AuditLevel};
use super::Store;
use crate::error::{Error, ErrorCode, Result};
use crate::time::{to_db, Timestamp};
use rusqlite::{params, OptionalExtension};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvatoAccountRecord {
    /// "••••abcd": the last four characters, all the UI ever shows.
    pub token_hint: String,
    pub username: Option<String>,
    pub user_id: Option<i64>,
    pub items_count: Option<u32>,
    pub saved_at: String,
    pub validated_at: Option<String>,
    pub last_check_at: Option<String>,
    pub last_check_ok: Option<bool>,
    pub last_error: Option<Error>,
}

impl Store {
    pub fn envato_account(&self) -> Result<Option<EnvatoAccountRecord>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT token_hint, username, user_id, items_count, saved_at, validated_at, last_check_at, last_check_ok,
                        last_error_code, last_error_message
                 FROM envato_account WHERE id = 1",
            )?
            .query_row([], |r| {
                let code: Option<String> = r.get(8)?;
                let message: Option<String> = r.get(9)?;
                Ok(EnvatoAccountRecord {
                    token_hint: r.get(0)?,
                    username: r.get(1)?,
                    user_id: r.get(2)?,
                    items_count: r.get(3)?,
                    saved_at: r.get(4)?,
                    validated_at: r.get(5)?,
                    last_check_at: r.get(6)?,
                    last_check_ok: r.get(7)?,
                    last_error: code.map(|c| Error::new(ErrorCode::from_stored(&c), message.unwrap_or_default())),
                })
            })
            .optional()?)
    }

    pub fn save_envato_account(&mut self, a: &EnvatoAccountRecord, now: Timestamp) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO envato_account (id, token_hint, username, user_id, items_count, saved_at, validated_at,
                                             last_check_at, last_check_ok, last_error_code, last_error_message)
                 VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT (id) DO UPDATE SET token_hint = excluded.token_hint, username = excluded.username,
                    user_id = excluded.user_id, items_count = excluded.items_count, saved_at = excluded.saved_at,
                    validated_at = excluded.validated_at, last_check_at = excluded.last_check_at,
                    last_check_ok = excluded.last_check_ok, last_error_code = excluded.last_error_code,
                    last_error_message = excluded.last_error_message",
                params![
                    a.token_hint,
                    a.username,
                    a.user_id,
                    a.items_count,
                    a.saved_at,
                    a.validated_at,
                    a.last_check_at,
                    a.last_check_ok,
                    a.last_error.as_ref().map(|e| e.code.as_str()),
                    a.last_error.as_ref().map(|e| e.message.as_str()),
                ],
            )?;
            insert_audit(
                tx,
                &AuditEntry::new(
                    now,
                    AuditLevel::Info,
                    "token.saved",
                    format!(
                        "Envato token {} saved for {}.",
                        a.token_hint,
                        a.username.as_deref().unwrap_or("an unknown account")
                    ),
                ),
            )?;
            Ok(())
        })
    }

    pub fn record_envato_check(
        &mut self,
        ok: bool,
        error: Option<&Error>,
        username: Option<&str>,
        items: Option<u32>,
        now: Timestamp,
    ) -> Result<()> {
        self.write(|tx| {
            let at = to_db(now);
            tx.execute(
                "UPDATE envato_account SET last_check_at = ?1, last_check_ok = ?2, last_error_code = ?3, last_error_message = ?4,
                        validated_at = CASE WHEN ?2 THEN ?1 ELSE validated_at END,
                        username = coalesce(?5, username), items_count = coalesce(?6, items_count)
                 WHERE id = 1",
                params![at, ok, error.map(|e| e.code.as_str()), error.map(|e| e.message.as_str()), username, items],
            )?;
            if let Some(e) = error {
                insert_audit(tx, &AuditEntry::new(now, AuditLevel::Error, "token.check_failed", format!("[{}] {}", e.code, e.message)))?;
            }
            Ok(())
        })
    }

    pub fn delete_envato_account(&mut self, now: Timestamp) -> Result<()> {
        self.write(|tx| {
            let n = tx.execute("DELETE FROM envato_account", [])?;
            if n > 0 {
                insert_audit(
                    tx,
                    &AuditEntry::new(now, AuditLevel::Info, "token.removed", "Envato token removed; licenses kept."),
                )?;
            }
            Ok(())
        })
    }
}
