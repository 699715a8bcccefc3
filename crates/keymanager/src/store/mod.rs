//! The SQLite store: the only module that contains SQL.
//!
//! One file per table family (`settings`, `products`, `licenses`, `audit`). `Store::open` sets the
//! connection pragmas and applies the embedded migrations; a database written by a newer
//! KeyManager is refused rather than guessed at. rusqlite is synchronous: async callers go
//! through `spawn_blocking` or a dedicated thread.

mod abuse;
mod account;
mod admin;
mod audit;
mod backup;
mod changes;
mod checkpoint;
mod licenses;
mod licensing;
mod outbox;
mod pending;
mod products;
mod releases;
mod sales;
mod settings;
mod shared;
mod sync;

pub use abuse::{BuyerMail, BuyerMailCap, BuyerMailKind, PendingConfirmation};
pub use account::EnvatoAccountRecord;
pub use admin::{AdminDevice, PairingGrant};
pub use audit::{AuditEntry, AuditLevel};
pub use backup::BackupCheck;
pub use checkpoint::LOG_LIMIT;
pub use licenses::{ActivationSite, LicenseCounts, LicenseQuery, NewLicense};
pub use licensing::{
    Activated, LicenseFilter, LicensePage, LicenseSort, LookupHistoryEntry, Replaced, SeenActivation, SiteRequest,
    SupportFilter,
};
pub use outbox::{
    next_attempt, Channel, Delivery, DeliveryStatus, DueMessage, FailingDestination, NewlyFailing, OutboxCounts,
    Outcome, WebhookEndpoint, RETRY_DELAYS_SECS,
};
pub use pending::{PendingSale, ReviewItem};
pub use releases::{NewRelease, ReleaseEdit, ReleasePackage};
pub use sales::PageCounts;
pub use shared::{next_change, readers, Changed, DbChanged, SharedStore, Writer};
pub use sync::{SyncRun, SyncRunStatus, SyncState, SyncTrigger};

use crate::error::{Error, ErrorCode, Result};
use crate::private_files;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Forward-only migrations, applied in order. `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_init.sql"),
    include_str!("migrations/0002_envato_account.sql"),
    include_str!("migrations/0003_sync.sql"),
    include_str!("migrations/0004_licensing.sql"),
    include_str!("migrations/0005_license_sort_indexes.sql"),
    include_str!("migrations/0006_no_api_base_setting.sql"),
    include_str!("migrations/0007_outbox.sql"),
    include_str!("migrations/0008_product_review.sql"),
    include_str!("migrations/0009_server_safety.sql"),
    include_str!("migrations/0010_sites.sql"),
    include_str!("migrations/0011_releases.sql"),
    include_str!("migrations/0012_admin.sql"),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

pub const DB_FILE_NAME: &str = "keymanager.sqlite3";

pub struct Store {
    conn: Connection,
    path: Option<PathBuf>,
    /// Set once checkpoints moved to their own thread.
    checkpoints: Option<std::sync::Arc<checkpoint::Progress>>,
    /// The tables written since last taken, once `track_changes` was called.
    changes: Option<changes::Pending>,
}

impl Store {
    /// Opens (creating if needed) the database file at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    Error::new(ErrorCode::StoreIo, format!("Cannot create the data folder {}: {e}.", dir.display()))
                })?;
            }
        }
        // The database holds buyers' names, purchase codes and license keys: owner-only. SQLite
        // gives the WAL and SHM files the database's mode, and an older version's 0644 files are
        // narrowed here.
        if !path.exists() {
            drop(private_files::create_private_file(path)?);
        }
        for file in Store::files(path) {
            private_files::make_private(&file)?;
        }
        let conn = Connection::open(path).map_err(|e| {
            let err = Error::from(e);
            Error::new(err.code, format!("Cannot open the database {}: {}", path.display(), err.message))
        })?;
        let store = Store::init(conn, Some(path.to_path_buf()))?;
        // Opening in WAL mode may just have created the WAL and SHM files.
        for file in Store::files(path) {
            private_files::make_private(&file)?;
        }
        Ok(store)
    }

    /// The database file with its WAL and shared-memory files.
    pub fn files(path: &Path) -> [PathBuf; 3] {
        let with = |suffix: &str| {
            let mut s = path.as_os_str().to_owned();
            s.push(suffix);
            PathBuf::from(s)
        };
        [path.to_path_buf(), with("-wal"), with("-shm")]
    }

    /// Opens the database in the data directory `dir`, which is made private (0700).
    pub fn open_in_dir(dir: &Path) -> Result<Store> {
        private_files::private_dir(dir)?;
        Store::open(&dir.join(DB_FILE_NAME))
    }

    /// A read-only connection to an existing, up-to-date database (the readers beside the one
    /// writer). WAL lets it read while the writer writes.
    /// A reader that never waits for a lock (`SharedStore::read_row`): a busy database is an
    /// immediate `store.busy`, not a blocked async worker.
    pub fn open_row_reader(path: &Path) -> Result<Store> {
        let store = Store::open_reader(path)?;
        store.conn.busy_timeout(Duration::ZERO)?;
        Ok(store)
    }

    pub fn open_reader(path: &Path) -> Result<Store> {
        use rusqlite::OpenFlags;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| {
            let err = Error::from(e);
            Error::new(err.code, format!("Cannot open the database {} to read: {}", path.display(), err.message))
        })?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "query_only", "ON")?;
        // Readers serve the licensing server's look-ups: pages straight from the OS page cache
        // through a memory map (no read() call and copy per page), and a larger page cache each.
        conn.pragma_update(None, "mmap_size", 256 * 1024 * 1024)?;
        conn.pragma_update(None, "cache_size", -16 * 1024)?;
        stable_plans(&conn)?;
        let version: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(newer_schema(version));
        }
        if version < SCHEMA_VERSION {
            return Err(Error::internal("The database is not up to date; open it for writing first."));
        }
        Ok(Store { conn, path: Some(path.to_path_buf()), checkpoints: None, changes: None })
    }

    /// A private in-memory database, for tests.
    pub fn open_in_memory() -> Result<Store> {
        Store::init(Connection::open_in_memory()?, None)
    }

    fn init(mut conn: Connection, path: Option<PathBuf>) -> Result<Store> {
        configure(&conn)?;
        migrate(&mut conn)?;
        Ok(Store { conn, path, checkpoints: None, changes: None })
    }

    /// Moves this writer's WAL checkpoints to a thread of their own (`checkpoint`): for a
    /// long-lived writer such as the app's or `serve`'s. Nothing to do for an in-memory store.
    pub fn checkpoint_in_background(&mut self) -> Result<()> {
        if let (Some(path), None) = (self.path.clone(), &self.checkpoints) {
            self.checkpoints = Some(checkpoint::in_background(&mut self.conn, &path)?);
        }
        Ok(())
    }

    /// Checkpoints run so far by the background thread and by the writer itself (at the log's
    /// limit, or when the thread could not start); None while the writer checkpoints as SQLite
    /// does by default.
    pub fn checkpoint_counts(&self) -> Option<(u64, u64)> {
        self.checkpoints.as_ref().map(|p| p.counts())
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub fn schema_version(&self) -> Result<u32> {
        Ok(self.conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// Every row of every table but `except`, as text in a stable order: what tests compare to
    /// prove that something "wrote nothing" (file sizes prove nothing under WAL).
    pub fn dump_tables(&self, except: &[&str]) -> Result<String> {
        let mut out = String::new();
        let tables: Vec<String> = self
            .conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for table in tables.iter().filter(|t| !except.contains(&t.as_str())) {
            out.push_str(&format!("# {table}\n"));
            let mut stmt = self.conn.prepare(&format!("SELECT * FROM \"{table}\" ORDER BY rowid"))?;
            let n = stmt.column_count();
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let cells: Vec<String> =
                    (0..n).map(|i| row.get_ref(i).map(|v| format!("{v:?}"))).collect::<rusqlite::Result<_>>()?;
                out.push_str(&cells.join(" | "));
                out.push('\n');
            }
        }
        Ok(out)
    }

    /// Runs `f` in one IMMEDIATE transaction: all of it is written, or none of it.
    pub(crate) fn write<T>(&mut self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>) -> Result<T> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }
}

/// A stored UTC timestamp; text that is not one is damage (`store.corrupt`), never 1970.
pub(crate) fn stored_time(r: &rusqlite::Row<'_>, idx: usize) -> rusqlite::Result<crate::time::Timestamp> {
    let text: String = r.get(idx)?;
    crate::time::parse(&text).ok_or_else(|| not_a_time(idx, &text))
}

/// Like `stored_time`, for a column that may be NULL.
pub(crate) fn stored_time_opt(r: &rusqlite::Row<'_>, idx: usize) -> rusqlite::Result<Option<crate::time::Timestamp>> {
    let text: Option<String> = r.get(idx)?;
    text.map(|t| crate::time::parse(&t).ok_or_else(|| not_a_time(idx, &t))).transpose()
}

fn not_a_time(idx: usize, text: &str) -> rusqlite::Error {
    let shown: String = text.chars().take(40).collect();
    rusqlite::Error::FromSqlConversionFailure(
        idx,
        rusqlite::types::Type::Text,
        format!("“{shown}” is not a timestamp").into(),
    )
}

/// Every connection's pragmas, in one place. WAL lets the app and the CLI read while the other
/// writes; the busy timeout makes a writer wait for the other rather than fail with "locked".
fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    // journal_mode answers with the mode in force (in-memory databases stay "memory").
    let _mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    stable_plans(conn)
}

/// Plans that do not depend on bound values (SQLite's query planner stability guarantee). Without
/// it, a cached statement whose plan could depend on a bound value (a text compared with an
/// indexed column, an expression index) is compiled again at each new binding: a licensing
/// server's key look-up spent most of its time in SQLite's parser.
fn stable_plans(conn: &Connection) -> Result<()> {
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(())
}

fn newer_schema(current: u32) -> Error {
    Error::new(
        ErrorCode::StoreNewerSchema,
        format!(
            "This database was written by a newer KeyManager (schema {current}; this version knows up to {SCHEMA_VERSION}). \
             Install the newer KeyManager, or open another data folder."
        ),
    )
}

fn migrate(conn: &mut Connection) -> Result<()> {
    // Opening an up-to-date database only reads: no write lock, so a process that merely opens
    // the store (the CLI, a second window) never stalls one that is writing.
    let current: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current == SCHEMA_VERSION {
        return Ok(());
    }
    if current > SCHEMA_VERSION {
        return Err(newer_schema(current));
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    // Re-read under the lock: another process may have migrated meanwhile.
    let current: u32 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current > SCHEMA_VERSION {
        return Err(newer_schema(current));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        tx.execute_batch(sql)
            .map_err(|e| Error::new(ErrorCode::StoreCorrupt, format!("Migration {} failed: {e}.", i + 1)))?;
        tx.pragma_update(None, "user_version", (i + 1) as u32)?;
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_statements_are_not_compiled_again_for_each_binding() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in_dir(dir.path()).unwrap();
        for conn in [&store.conn, &Store::open_reader(&dir.path().join(DB_FILE_NAME)).unwrap().conn] {
            // The licensing server's key look-up.
            let sql = format!("{} WHERE l.license_key = ?1", licenses::SELECT);
            for key in ["KM-A", "KM-B", "KM-C"] {
                let mut stmt = conn.prepare_cached(&sql).unwrap();
                let _ = stmt.query_row([key], licenses::row_to_license);
                assert_eq!(stmt.get_status(rusqlite::StatementStatus::RePrepare), 0, "compiled again for {key}");
            }
        }
        // The buyer search still walks its index.
        let plan: Vec<String> = store
            .conn
            .prepare("EXPLAIN QUERY PLAN SELECT id FROM licenses WHERE buyer >= ?1 COLLATE NOCASE AND buyer < ?2 COLLATE NOCASE")
            .unwrap()
            .query_map(["jo", "jo\u{10FFFF}"], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(plan.iter().any(|p| p.contains("licenses_buyer")), "{plan:?}");
    }

    #[test]
    fn builds_the_schema_from_empty() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in_dir(dir.path()).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        let mut tables: Vec<String> = store
            .conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        tables.sort();
        assert_eq!(
            tables,
            [
                "activations",
                "admin_devices",
                "admin_pairing_codes",
                "audit_log",
                "buyer_email_confirmations",
                "buyer_mails",
                "delivery_health",
                "envato_account",
                "license_key_history",
                "license_sites",
                "licenses",
                "limit_refusals",
                "lookups",
                "outbox",
                "pending_sales",
                "product_envato_items",
                "products",
                "release_downloads",
                "releases",
                "settings",
                "sync_runs",
                "sync_state",
                "unknown_codes",
                "webhook_endpoints"
            ]
        );
        let mode: String = store.conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = store.conn.pragma_query_value(None, "foreign_keys", |r| r.get(0)).unwrap();
        assert_eq!(fk, 1);
        drop(store);
        // Opening again applies nothing and keeps the version.
        let again = Store::open_in_dir(dir.path()).unwrap();
        assert_eq!(again.schema_version().unwrap(), SCHEMA_VERSION);
    }

    #[test]
    fn opening_an_up_to_date_database_does_not_wait_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = Store::open_in_dir(dir.path()).unwrap();
        let tx = writer.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).unwrap();
        let t = std::time::Instant::now();
        let reader = Store::open_in_dir(dir.path()).unwrap();
        assert!(
            t.elapsed() < std::time::Duration::from_secs(1),
            "opening waited {:?} for the writer's lock",
            t.elapsed()
        );
        assert_eq!(reader.settings().unwrap().history_days, 90, "and it can read meanwhile");
        tx.rollback().unwrap();
    }

    #[test]
    fn text_enums_round_trip_through_sqlite_and_unknown_text_is_corrupt() {
        use crate::model::LicenseStatus;
        let conn = Connection::open_in_memory().unwrap();
        for s in LicenseStatus::ALL {
            let back: LicenseStatus = conn.query_row("SELECT ?1", [s], |r| r.get(0)).unwrap();
            assert_eq!(back, *s);
            assert_eq!(serde_json::to_string(s).unwrap(), format!("\"{}\"", s.as_str()));
        }
        assert_eq!(LicenseStatus::parse(" Suspended "), Some(LicenseStatus::Suspended));
        let bad = conn.query_row("SELECT 'paused'", [], |r| r.get::<_, LicenseStatus>(0)).unwrap_err();
        assert_eq!(Error::from(bad).code, ErrorCode::StoreCorrupt);
        let when = conn.query_row("SELECT 'yesterday'", [], |r| stored_time(r, 0)).unwrap_err();
        assert_eq!(Error::from(when).code, ErrorCode::StoreCorrupt, "an unreadable date is damage, not 1970");
    }

    #[cfg(unix)]
    #[test]
    fn the_data_folder_and_database_files_are_private_and_old_ones_are_narrowed() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        let store = Store::open_in_dir(&dir).unwrap();
        store.settings().unwrap();
        let files = Store::files(&dir.join(DB_FILE_NAME));
        assert_eq!(mode(&dir), 0o700);
        for f in &files {
            assert!(f.exists(), "{} should exist while the store is open", f.display());
            assert_eq!(mode(f), 0o600, "{}", f.display());
        }
        // A folder and files left world-readable by an earlier version are narrowed on open.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        for f in &files {
            std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        let again = Store::open_in_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        for f in &files {
            assert_eq!(mode(f), 0o600, "{}", f.display());
        }
        drop((store, again));
    }

    #[test]
    fn refuses_a_database_from_a_newer_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE_NAME);
        {
            let conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
        }
        let err = Store::open(&path).err().expect("a newer schema must be refused");
        assert_eq!(err.code, ErrorCode::StoreNewerSchema);
        // And it was left untouched.
        let conn = Connection::open(&path).unwrap();
        let v: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(v, SCHEMA_VERSION + 1);
    }

    #[test]
    fn a_file_that_is_not_a_database_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE_NAME);
        std::fs::write(&path, b"this is a text file, not SQLite, and it is long enough to have a header").unwrap();
        let err = Store::open(&path).err().unwrap();
        assert_eq!(err.code, ErrorCode::StoreCorrupt);
    }
}
