//! The admin API's devices and pairing codes (`admin_devices`, `admin_pairing_codes`). Codes and
//! tokens arrive here already hashed; nothing in this file ever sees one in clear.

use super::audit::{insert_audit, AuditEntry, AuditLevel};
use super::Store;
use crate::error::{Error, ErrorCode, Result};
use crate::time::{to_db, Timestamp};
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A paired device as `admin devices` lists it (never its token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AdminDevice {
    #[ts(type = "number")]
    pub id: i64,
    pub name: String,
    /// Comma-separated scopes (`owner`, `support`, `publish`).
    pub scopes: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub last_address: Option<String>,
    pub revoked_at: Option<String>,
}

const DEVICE_COLUMNS: &str = "id, name, scopes, created_at, expires_at, last_used_at, last_address, revoked_at";

fn device(r: &rusqlite::Row<'_>) -> rusqlite::Result<AdminDevice> {
    Ok(AdminDevice {
        id: r.get(0)?,
        name: r.get(1)?,
        scopes: r.get(2)?,
        created_at: r.get(3)?,
        expires_at: r.get(4)?,
        last_used_at: r.get(5)?,
        last_address: r.get(6)?,
        revoked_at: r.get(7)?,
    })
}

/// A pairing code not redeemed yet: who it is for and what it grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairingGrant {
    pub name: String,
    pub scopes: String,
    pub expires_at: String,
}

impl Store {
    /// Records a one-time pairing code (by its hash) until `expires_at`; audited.
    pub fn admin_add_pairing_code(&mut self, code_hash: &str, grant: &PairingGrant, now: Timestamp) -> Result<()> {
        self.write(|tx| {
            // Codes nobody redeemed in time are forgotten as new ones are made.
            tx.execute("DELETE FROM admin_pairing_codes WHERE expires_at < ?1", [to_db(now)])?;
            tx.execute(
                "INSERT INTO admin_pairing_codes (code_hash, name, scopes, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![code_hash, grant.name, grant.scopes, to_db(now), grant.expires_at],
            )?;
            let message = format!("A pairing code for “{}” ({}) was made.", grant.name, grant.scopes);
            insert_audit(tx, &AuditEntry::new(now, AuditLevel::Info, "admin.pairing_code", message))?;
            Ok(())
        })
    }

    /// Redeems a pairing code (by its hash) for a new device holding `token_hash`, in one
    /// transaction: a code works once, and only before it expires.
    pub fn admin_redeem(
        &mut self,
        code_hash: &str,
        token_hash: &str,
        device_name: Option<&str>,
        expires_at: Option<&str>,
        address: &str,
        now: Timestamp,
    ) -> Result<AdminDevice> {
        self.write(|tx| {
            let grant: Option<(String, String, String, Option<String>)> = tx
                .query_row(
                    "SELECT name, scopes, expires_at, used_at FROM admin_pairing_codes WHERE code_hash = ?1",
                    [code_hash],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?;
            let invalid = || {
                Error::new(
                    ErrorCode::AdminPairingCodeInvalid,
                    "That pairing code is wrong, used already, or older than 10 minutes. Run `keymanager admin pair` on the server for a new one.",
                )
            };
            let Some((name, scopes, expires, used)) = grant else { return Err(invalid()) };
            if used.is_some() || expires < to_db(now) {
                return Err(invalid());
            }
            tx.execute("UPDATE admin_pairing_codes SET used_at = ?2 WHERE code_hash = ?1", params![code_hash, to_db(now)])?;
            let name = device_name.map(str::trim).filter(|n| !n.is_empty()).unwrap_or(&name).to_string();
            tx.execute(
                "INSERT INTO admin_devices (name, token_hash, scopes, created_at, expires_at, last_used_at, last_address)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?4, ?6)",
                params![name, token_hash, scopes, to_db(now), expires_at, address],
            )?;
            let id = tx.last_insert_rowid();
            let message = format!("The device “{name}” paired from {address} ({scopes}).");
            insert_audit(tx, &AuditEntry::new(now, AuditLevel::Info, "admin.device_paired", message))?;
            Ok(tx.query_row(&format!("SELECT {DEVICE_COLUMNS} FROM admin_devices WHERE id = ?1"), [id], device)?)
        })
    }

    /// The device holding `token_hash`, if any (revoked and expired ones too: the caller says why
    /// they are refused).
    pub fn admin_device_by_token(&self, token_hash: &str) -> Result<Option<AdminDevice>> {
        Ok(self
            .conn
            .prepare_cached(&format!("SELECT {DEVICE_COLUMNS} FROM admin_devices WHERE token_hash = ?1"))?
            .query_row([token_hash], device)
            .optional()?)
    }

    /// Notes a device's use (its last use and address).
    pub fn admin_note_use(&mut self, id: i64, address: &str, now: Timestamp) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE admin_devices SET last_used_at = ?2, last_address = ?3 WHERE id = ?1",
                params![id, to_db(now), address],
            )?;
            Ok(())
        })
    }

    pub fn admin_devices(&self) -> Result<Vec<AdminDevice>> {
        let mut stmt = self.conn.prepare_cached(&format!("SELECT {DEVICE_COLUMNS} FROM admin_devices ORDER BY id"))?;
        let rows = stmt.query_map([], device)?.collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Whether the admin API is on: a device is paired, or a pairing code waits.
    pub fn admin_enabled(&self, now: Timestamp) -> Result<bool> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM admin_devices WHERE revoked_at IS NULL)
                 OR EXISTS (SELECT 1 FROM admin_pairing_codes WHERE used_at IS NULL AND expires_at >= ?1)",
            [to_db(now)],
            |r| r.get(0),
        )?)
    }

    /// Revokes a device: its token stops working at once; audited.
    pub fn admin_revoke(&mut self, id: i64, now: Timestamp) -> Result<AdminDevice> {
        self.write(|tx| {
            let changed = tx.execute(
                "UPDATE admin_devices SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![id, to_db(now)],
            )?;
            let found = tx
                .query_row(&format!("SELECT {DEVICE_COLUMNS} FROM admin_devices WHERE id = ?1"), [id], device)
                .optional()?
                .ok_or_else(|| {
                    Error::new(ErrorCode::InputInvalid, format!("There is no device {id}.")).with_field("id")
                })?;
            if changed > 0 {
                let message = format!("The device “{}” was revoked.", found.name);
                insert_audit(tx, &AuditEntry::new(now, AuditLevel::Info, "admin.device_revoked", message))?;
            }
            Ok(found)
        })
    }
}

/// This server's devices and pairing codes as stored (hashes only), kept across a database
/// moved in from the desktop: the devices that administer a server belong to the server, not
/// to the data.
pub struct AdminRows {
    devices: Vec<Vec<rusqlite::types::Value>>,
    codes: Vec<Vec<rusqlite::types::Value>>,
}

const ADMIN_TABLES: [(&str, &str); 2] = [
    ("admin_devices", "id, name, token_hash, scopes, created_at, expires_at, last_used_at, last_address, revoked_at"),
    ("admin_pairing_codes", "code_hash, name, scopes, created_at, expires_at, used_at"),
];

impl Store {
    pub fn admin_rows(&self) -> Result<AdminRows> {
        let read = |table: &str, cols: &str| -> Result<Vec<Vec<rusqlite::types::Value>>> {
            let n = cols.split(',').count();
            let mut stmt = self.conn.prepare(&format!("SELECT {cols} FROM {table}"))?;
            let rows = stmt
                .query_map([], |r| (0..n).map(|i| r.get::<_, rusqlite::types::Value>(i)).collect())?
                .collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        };
        let [(dt, dc), (ct, cc)] = ADMIN_TABLES;
        Ok(AdminRows { devices: read(dt, dc)?, codes: read(ct, cc)? })
    }

    /// Puts `rows` in place of the devices and codes the data holds, in one transaction.
    pub fn admin_put_rows(&mut self, rows: &AdminRows) -> Result<()> {
        self.write(|tx| {
            for ((table, cols), data) in ADMIN_TABLES.iter().zip([&rows.devices, &rows.codes]) {
                tx.execute(&format!("DELETE FROM {table}"), [])?;
                let marks = vec!["?"; cols.split(',').count()].join(", ");
                let mut stmt = tx.prepare(&format!("INSERT INTO {table} ({cols}) VALUES ({marks})"))?;
                for row in data {
                    stmt.execute(rusqlite::params_from_iter(row.iter()))?;
                }
            }
            Ok(())
        })
    }
}
