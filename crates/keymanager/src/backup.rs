//! Backups: the seller's whole business is one database file on one laptop. A daily automatic
//! backup while the app runs, "Back up now", `keymanager backup [--to FILE]`, and restore
//! (`keymanager restore FILE`, "Restore" in General): the file is checked first (integrity, a
//! newer schema refused), the current data is kept aside as a backup of its own, and the restore
//! replaces the live data in one step. The last `KEEP` automatic backups are kept. Secrets live in
//! the keychain, not the database, and are in no backup: the restore says so.

use crate::error::{Error, ErrorCode, Result};
use crate::time::Timestamp;
use crate::Store;
use serde::Serialize;
use std::path::{Path, PathBuf};
use ts_rs::TS;

/// Automatic backups kept in the folder.
pub const KEEP: usize = 14;
/// An automatic backup is due when the newest is older than this.
pub const EVERY_HOURS: i64 = 24;
const PREFIX: &str = "keymanager-";
const SUFFIX: &str = ".sqlite3";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct BackupFile {
    pub path: String,
    /// When it was taken (from its name), RFC 3339.
    pub at: String,
    #[ts(type = "number")]
    pub size_bytes: u64,
}

/// The backup folder and its automatic backups, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct BackupList {
    pub folder: String,
    pub files: Vec<BackupFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct RestoreReport {
    pub restored_from: String,
    /// The data as it was before the restore, kept as a backup of its own.
    pub kept_aside: String,
    pub schema_version: u32,
    #[ts(type = "number")]
    pub licenses: u64,
    #[ts(type = "number")]
    pub products: u64,
    /// What the restore did not bring back (the keychain's secrets).
    pub note: String,
    /// Release packages the restored data names that neither the data folder nor the backup's
    /// folder holds (their releases cannot be downloaded until they are added again).
    pub packages_missing: u32,
}

/// The backup folder: the setting, else `backups` in the data folder.
pub fn folder(backup_folder_setting: &str, data_dir: &Path) -> PathBuf {
    if backup_folder_setting.trim().is_empty() {
        data_dir.join("backups")
    } else {
        PathBuf::from(backup_folder_setting.trim())
    }
}

pub fn name_for(now: Timestamp) -> String {
    format!("{PREFIX}{}{SUFFIX}", now.format("%Y%m%d-%H%M%S"))
}

fn time_of(name: &str) -> Option<Timestamp> {
    let stamp = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%d-%H%M%S").ok().map(|t| t.and_utc())
}

/// The automatic backups in `dir`, newest first (other files are left alone).
pub fn list(dir: &Path) -> Result<Vec<BackupFile>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::new(ErrorCode::StoreIo, format!("Cannot read {}: {e}.", dir.display()))),
    };
    let mut out: Vec<(Timestamp, BackupFile)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let at = time_of(&name)?;
            let size = e.metadata().ok()?.len();
            Some((
                at,
                BackupFile { path: e.path().display().to_string(), at: crate::time::to_db(at), size_bytes: size },
            ))
        })
        .collect();
    out.sort_by_key(|f| std::cmp::Reverse(f.0));
    Ok(out.into_iter().map(|(_, f)| f).collect())
}

/// Whether an automatic backup is due (none yet, or the newest is a day old).
pub fn due(dir: &Path, now: Timestamp) -> Result<bool> {
    Ok(match list(dir)?.first().and_then(|f| crate::time::parse(&f.at)) {
        Some(at) => now - at >= chrono::Duration::hours(EVERY_HOURS),
        None => true,
    })
}

/// Takes a backup into `dir` now, then keeps the newest `KEEP`.
pub fn backup_now(store: &Store, dir: &Path, now: Timestamp) -> Result<BackupFile> {
    crate::private_files::private_dir(dir)?;
    let mut at = now;
    let mut path = dir.join(name_for(at));
    // Two backups in one second (Back up now twice): the next second's name.
    while path.exists() {
        at += chrono::Duration::seconds(1);
        path = dir.join(name_for(at));
    }
    store.backup_to(&path)?;
    copy_packages(store, dir)?;
    for old in list(dir)?.into_iter().skip(KEEP) {
        let _ = std::fs::remove_file(&old.path);
    }
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    Ok(BackupFile { path: path.display().to_string(), at: crate::time::to_db(at), size_bytes: size })
}

/// Copies the release packages the data names into `dir/packages` (named by SHA-256, so a
/// package already there is the same bytes and is not copied again). Streamed, never read whole.
fn copy_packages(store: &Store, dir: &Path) -> Result<()> {
    let Some(data_dir) = store.path().and_then(|p| p.parent()) else { return Ok(()) };
    let hashes = store.package_hashes()?;
    if hashes.is_empty() {
        return Ok(());
    }
    let to = dir.join("packages");
    crate::private_files::private_dir(&to)?;
    for sha in hashes {
        copy_package(&crate::updates::package::path(data_dir, &sha), &to.join(format!("{sha}.zip")))?;
    }
    Ok(())
}

/// Copies one package unless the target exists (through a temporary name: never half a file).
fn copy_package(from: &Path, to: &Path) -> Result<bool> {
    if to.exists() || !from.exists() {
        return Ok(false);
    }
    let io =
        |e: std::io::Error| Error::new(ErrorCode::StoreIo, format!("Cannot copy the package {}: {e}.", from.display()));
    let temp = to.with_extension("partial");
    let mut src = std::fs::File::open(from).map_err(io)?;
    let mut dst = std::fs::File::create(&temp).map_err(io)?;
    std::io::copy(&mut src, &mut dst).map_err(io)?;
    dst.sync_all().map_err(io)?;
    std::fs::rename(&temp, to).map_err(io)?;
    Ok(true)
}

/// Restores `from` into the live store: checked first, the current data kept aside in `dir`
/// (`before-restore-…`), then replaced in one step.
pub fn restore(store: &mut Store, dir: &Path, from: &Path, now: Timestamp) -> Result<RestoreReport> {
    Store::check_backup(from)?;
    crate::private_files::private_dir(dir)?;
    let aside = dir.join(format!("before-restore-{}", name_for(now)));
    store.backup_to(&aside)?;
    let check = store.restore_from(from)?;
    // Packages the restored data names come back from the backup's folder when the data folder
    // lacks them.
    let mut packages_missing = 0;
    if let Some(data_dir) = store.path().and_then(|p| p.parent()).map(Path::to_path_buf) {
        let beside = from.parent().map(|p| p.join("packages"));
        for sha in store.package_hashes()? {
            let here = crate::updates::package::path(&data_dir, &sha);
            if here.exists() {
                continue;
            }
            crate::private_files::private_dir(&crate::updates::package::dir(&data_dir))?;
            let copied = match &beside {
                Some(b) => copy_package(&b.join(format!("{sha}.zip")), &here)?,
                None => false,
            };
            if !copied {
                packages_missing += 1;
            }
        }
    }
    Ok(RestoreReport {
        restored_from: from.display().to_string(),
        kept_aside: aside.display().to_string(),
        schema_version: check.schema_version,
        licenses: check.licenses,
        products: check.products,
        note: "Secrets are not in backups: the Envato token, the licensing server's signing key, webhook secrets and \
               the SMTP password stay in this computer's keychain. On another computer, enter them again."
            .to_string(),
        packages_missing,
    })
}

/// The daily automatic backup while a KeyManager process runs (the app, `serve`): checks every
/// hour whether one is due, and takes it on a read-only connection (a sync goes on meanwhile).
pub fn spawn_daily(
    store: crate::store::SharedStore,
    data_dir: PathBuf,
    clock: crate::time::Clock,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        // A little after start-up, not in the middle of it.
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        loop {
            let data_dir = data_dir.clone();
            let now = clock();
            let done = store
                .read(move |s| {
                    let dir = folder(&s.settings()?.backup_folder, &data_dir);
                    if due(&dir, now)? {
                        backup_now(s, &dir, now).map(Some)
                    } else {
                        Ok(None)
                    }
                })
                .await;
            match done {
                Ok(Some(f)) => tracing::info!(path = %f.path, "daily backup taken"),
                Ok(None) => {}
                Err(e) => tracing::warn!(code = %e.code, "the daily backup failed: {}", e.message),
            }
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse;

    #[test]
    fn names_rotation_and_due() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open_in_dir(&tmp.path().join("data")).unwrap();
        let dir = tmp.path().join("backups");
        let t0 = parse("2026-12-01T10:00:00Z").unwrap();
        assert!(due(&dir, t0).unwrap(), "no backup yet");
        for day in 0..16 {
            backup_now(&store, &dir, t0 + chrono::Duration::days(day)).unwrap();
        }
        let files = list(&dir).unwrap();
        assert_eq!(files.len(), KEEP, "the last 14 are kept");
        assert_eq!(files[0].at, "2026-12-16T10:00:00Z", "newest first");
        assert!(!due(&dir, parse("2026-12-16T20:00:00Z").unwrap()).unwrap());
        assert!(due(&dir, parse("2026-12-17T10:00:00Z").unwrap()).unwrap());
        // Twice in one second: both kept, under distinct names.
        let a = backup_now(&store, &dir, t0 + chrono::Duration::days(20)).unwrap();
        let b = backup_now(&store, &dir, t0 + chrono::Duration::days(20)).unwrap();
        assert_ne!(a.path, b.path);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&a.path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn backups_carry_release_packages_and_restores_bring_them_back() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let mut store = Store::open_in_dir(&data).unwrap();
        let t0 = parse("2026-12-01T10:00:00Z").unwrap();
        let p = store
            .create_product(&crate::model::NewProduct { name: "KM Demo".into(), ..Default::default() }, t0)
            .unwrap();
        let zip = crate::updates::package::tests::zip_of(&[(
            "km-demo/km-demo.php",
            "<?php\n/*\nPlugin Name: KM Demo\nVersion: 1.0.0\n*/",
        )]);
        let req = crate::updates::publish::AddRelease { product_id: p.id, publish: true, ..Default::default() };
        let added = crate::updates::publish::add_release(&mut store, &data, &mut &zip[..], &req, t0).unwrap();
        let sha = added.release.sha256.clone();
        let dir = tmp.path().join("backups");
        let f = backup_now(&store, &dir, t0).unwrap();
        let copy = dir.join("packages").join(format!("{sha}.zip"));
        assert_eq!(std::fs::read(&copy).unwrap(), zip, "the package is in the backup folder");
        // The data folder loses its package (a new computer); the restore brings it back.
        std::fs::remove_file(crate::updates::package::path(&data, &sha)).unwrap();
        let report = restore(&mut store, &dir, Path::new(&f.path), t0).unwrap();
        assert_eq!(report.packages_missing, 0);
        assert_eq!(std::fs::read(crate::updates::package::path(&data, &sha)).unwrap(), zip);
        // Without the backup's packages, the restore says how many are missing.
        std::fs::remove_file(crate::updates::package::path(&data, &sha)).unwrap();
        std::fs::remove_dir_all(dir.join("packages")).unwrap();
        let report = restore(&mut store, &dir, Path::new(&f.path), t0 + chrono::Duration::seconds(1)).unwrap();
        assert_eq!(report.packages_missing, 1);
    }
}
