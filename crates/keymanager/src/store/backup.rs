//! Backups of the one database file, through SQLite's online backup API: consistent while a sync
//! writes (the copy is a snapshot of committed transactions), and restored the same way, into the
//! live database in one step, after the current data is kept aside. The keychain's secrets (the
//! Envato token, the signing key, webhook secrets, the SMTP password) are not in the database,
//! so they are in no backup.

use super::{newer_schema, Store, SCHEMA_VERSION};
use crate::error::{Error, ErrorCode, Result};
use crate::private_files;
use rusqlite::backup::Backup;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

fn io(path: &Path, what: &str, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorCode::StoreIo, format!("Cannot {what} {}: {e}.", path.display()))
}

/// Copies `from` into `to` in steps, letting writers in between (a sync is not held up).
fn copy(from: &Connection, to: &mut Connection) -> rusqlite::Result<()> {
    let b = Backup::new(from, to)?;
    b.run_to_completion(256, Duration::from_millis(5), None)
}

/// What a backup file holds, checked before anything is restored from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupCheck {
    pub schema_version: u32,
    pub licenses: u64,
    pub products: u64,
}

impl Store {
    /// Writes a consistent copy of the database to `to` (a new file, 0600; an existing file is
    /// refused rather than replaced).
    pub fn backup_to(&self, to: &Path) -> Result<()> {
        if to.exists() {
            return Err(Error::invalid_input(format!("{} already exists; choose a new file name.", to.display()))
                .with_field("to"));
        }
        if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| io(dir, "create the folder", e))?;
        }
        // Made private before SQLite writes a byte into it.
        drop(private_files::create_private_file(to)?);
        let mut dest = Connection::open(to).map_err(|e| io(to, "write", e))?;
        let done = copy(&self.conn, &mut dest).and_then(|()| dest.pragma_update(None, "journal_mode", "DELETE"));
        drop(dest);
        if let Err(e) = done {
            let _ = std::fs::remove_file(to);
            return Err(io(to, "write the backup", e));
        }
        Ok(())
    }

    /// SQLite's `PRAGMA integrity_check` of this database: "ok", or what is damaged.
    pub fn integrity_check(&self) -> Result<String> {
        Ok(self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }

    /// Checks a file before a restore: a SQLite database that passes `PRAGMA integrity_check`,
    /// written by this KeyManager or an older one (a newer schema is refused), with its tables.
    pub fn check_backup(path: &Path) -> Result<BackupCheck> {
        let bad =
            |why: String| Error::new(ErrorCode::StoreCorrupt, format!("{} cannot be restored: {why}", path.display()));
        if !path.is_file() {
            return Err(Error::invalid_input(format!("There is no file {}.", path.display())).with_field("file"));
        }
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .map_err(|e| bad(e.to_string()))?;
        let version: u32 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|_| bad("it is not a database.".into()))?;
        if version > SCHEMA_VERSION {
            return Err(newer_schema(version));
        }
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|_| bad("it is not a database.".into()))?;
        if check != "ok" {
            return Err(bad(format!("SQLite's integrity check failed ({check}).")));
        }
        let count = |table: &str| -> Result<u64> {
            conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
                .map_err(|_| bad("it is not a KeyManager database.".into()))
        };
        if version == 0 {
            return Err(bad("it is not a KeyManager database.".into()));
        }
        Ok(BackupCheck { schema_version: version, licenses: count("licenses")?, products: count("products")? })
    }

    /// The release packages (SHA-256) a backup file names, read without changing it.
    pub fn package_hashes_in(path: &Path) -> Result<Vec<String>> {
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .map_err(|e| io(path, "read", e))?;
        let mut stmt = conn.prepare("SELECT DISTINCT sha256 FROM releases").map_err(|e| io(path, "read", e))?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(|e| io(path, "read", e))?;
        rows.collect::<rusqlite::Result<_>>().map_err(|e| io(path, "read", e))
    }

    /// Replaces the live data with the backup at `from` (checked first), in one step: other
    /// connections see the old data or the new, never a mix. The caller keeps the current data
    /// aside first (`backup_to`). An older backup is brought up to this version's schema.
    pub fn restore_from(&mut self, from: &Path) -> Result<BackupCheck> {
        let check = Store::check_backup(from)?;
        let src = Connection::open_with_flags(from, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(|e| io(from, "read", e))?;
        copy(&src, &mut self.conn).map_err(|e| io(from, "restore from", e))?;
        // The copy carries the backup's journal mode and version: this connection's settings
        // and the migrations apply again.
        super::configure(&self.conn)?;
        super::migrate(&mut self.conn)?;
        Ok(check)
    }
}
