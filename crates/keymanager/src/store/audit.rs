//! The `audit_log` table: the trail of what changed and the log of warnings and errors.

use super::Store;
use crate::error::Result;
use crate::time::{to_db, Timestamp};
use rusqlite::{params, Transaction};
use serde::Serialize;
use ts_rs::TS;

crate::text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
    pub enum AuditLevel {
        Info = "info",
        Warning = "warning",
        Error = "error",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct AuditEntry {
    #[ts(type = "number")]
    pub id: i64,
    pub at: String,
    pub level: AuditLevel,
    /// A stable dotted name such as `license.created` or `settings.changed`.
    pub action: String,
    #[ts(type = "number | null")]
    pub license_id: Option<i64>,
    #[ts(type = "number | null")]
    pub product_id: Option<i64>,
    #[ts(type = "number | null")]
    pub sync_run_id: Option<i64>,
    pub message: String,
}

impl AuditEntry {
    pub fn new(at: Timestamp, level: AuditLevel, action: &str, message: impl Into<String>) -> AuditEntry {
        AuditEntry {
            id: 0,
            at: to_db(at),
            level,
            action: action.to_string(),
            license_id: None,
            product_id: None,
            sync_run_id: None,
            message: message.into(),
        }
    }
    pub fn license(mut self, id: i64) -> Self {
        self.license_id = Some(id);
        self
    }
    pub fn product(mut self, id: i64) -> Self {
        self.product_id = Some(id);
        self
    }
    /// The sync run the entry belongs to (shown in the Sync log).
    pub fn run(mut self, id: Option<i64>) -> Self {
        self.sync_run_id = id;
        self
    }
}

pub(crate) fn insert_audit(tx: &Transaction<'_>, e: &AuditEntry) -> Result<i64> {
    tx.prepare_cached(
        "INSERT INTO audit_log (at, level, action, license_id, product_id, sync_run_id, message)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![e.at, e.level.as_str(), e.action, e.license_id, e.product_id, e.sync_run_id, e.message])?;
    Ok(tx.last_insert_rowid())
}

fn row_to_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        id: r.get(0)?,
        at: r.get(1)?,
        level: r.get(2)?,
        action: r.get(3)?,
        license_id: r.get(4)?,
        product_id: r.get(5)?,
        sync_run_id: r.get(6)?,
        message: r.get(7)?,
    })
}

const COLUMNS: &str = "id, at, level, action, license_id, product_id, sync_run_id, message";

impl Store {
    /// The newest `limit` entries, newest first.
    /// Writes one entry on its own (an action that changes nothing else, such as a buyer-page
    /// request refused).
    pub fn record_audit(&mut self, e: &AuditEntry) -> Result<i64> {
        self.write(|tx| insert_audit(tx, e))
    }

    pub fn audit_recent(&self, limit: u32) -> Result<Vec<AuditEntry>> {
        let mut stmt =
            self.conn.prepare_cached(&format!("SELECT {COLUMNS} FROM audit_log ORDER BY id DESC LIMIT ?1"))?;
        let rows = stmt.query_map([limit], row_to_entry)?.collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// One license's trail, oldest first.
    pub fn audit_for_license(&self, license_id: i64) -> Result<Vec<AuditEntry>> {
        let mut stmt =
            self.conn.prepare_cached(&format!("SELECT {COLUMNS} FROM audit_log WHERE license_id = ?1 ORDER BY id"))?;
        let rows = stmt.query_map([license_id], row_to_entry)?.collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}
