//! The `settings` table.

use super::audit::{insert_audit, AuditEntry, AuditLevel};
use super::Store;
use crate::error::Result;
use crate::settings::{validate, Settings};
use crate::time::{to_db, Timestamp};
use rusqlite::params;

/// The settings as `conn` (or a transaction) sees them.
pub(crate) fn settings_in(conn: &rusqlite::Connection) -> Result<Settings> {
    let mut stmt = conn.prepare_cached("SELECT key, value FROM settings")?;
    let rows: Vec<(String, String)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
    Ok(Settings::from_rows(rows.iter().map(|(k, v)| (k.as_str(), v.as_str()))))
}

impl Store {
    pub fn settings(&self) -> Result<Settings> {
        settings_in(&self.conn)
    }

    /// Validates every pair first, then writes them all in one transaction: a single invalid
    /// value means nothing is written.
    pub fn update_settings(&mut self, pairs: &[(String, String)], now: Timestamp) -> Result<Settings> {
        let changes = pairs.iter().map(|(k, v)| validate(k, v)).collect::<Result<Vec<_>>>()?;
        let before = self.settings()?;
        self.write(|tx| {
            for c in &changes {
                let old = before.get(c.key)?;
                tx.execute(
                    "INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                    params![c.key, c.value, to_db(now)],
                )?;
                if old != c.value {
                    insert_audit(
                        tx,
                        &AuditEntry::new(
                            now,
                            AuditLevel::Info,
                            "settings.changed",
                            format!("{}: {} → {}", c.key, old, c.value),
                        ),
                    )?;
                }
            }
            Ok(())
        })?;
        self.settings()
    }
}

#[cfg(test)]
mod tests {
    use crate::error::ErrorCode;
    use crate::store::Store;
    use crate::time::parse;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_then_update_then_reject_without_writing() {
        let now = parse("2026-11-28T10:00:00Z").unwrap();
        let mut store = Store::open_in_memory().unwrap();
        let s = store.settings().unwrap();
        assert_eq!(
            (s.auto_create_products, s.default_activation_limit, s.sync_interval_minutes, s.history_days),
            (false, 1, 30, 90)
        );

        let s = store
            .update_settings(&pairs(&[("default_activation_limit", "3"), ("auto_create_products", "on")]), now)
            .unwrap();
        assert_eq!(s.default_activation_limit, 3);
        assert!(s.auto_create_products);

        // One bad value in the batch: nothing of the batch is written.
        let err =
            store.update_settings(&pairs(&[("history_days", "30"), ("sync_interval_minutes", "5")]), now).unwrap_err();
        assert_eq!(err.code, ErrorCode::SettingsInvalidValue);
        assert_eq!(err.field.as_deref(), Some("sync_interval_minutes"));
        assert_eq!(store.settings().unwrap().history_days, 90);

        let audit = store.audit_recent(10).unwrap();
        assert_eq!(audit.len(), 2, "one entry per changed setting");
        assert!(audit.iter().any(|a| a.message == "default_activation_limit: 1 → 3"));
    }
}
