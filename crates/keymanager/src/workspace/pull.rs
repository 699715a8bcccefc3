//! The seller's data between this computer and a server: "Move this computer's data to a
//! server" uploads a consistent online backup of the local database (integrity-checked on
//! arrival; refused when the server already holds licenses unless a replacement is confirmed),
//! and the reverse pulls a consistent backup of the server's database here, on demand and
//! daily, so the laptop is the off-site backup.

use crate::backup::BackupFile;
use crate::error::{Error, ErrorCode, Result};
use crate::remote::RemoteClient;
use crate::store::Store;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// What the server did with a database moved in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct MoveReport {
    #[ts(type = "number")]
    pub licenses: u64,
    #[ts(type = "number")]
    pub products: u64,
    pub schema_version: u32,
    /// Where the server kept the data it replaced.
    pub kept_aside: String,
}

/// Pulls a consistent backup of the server's database into the file `to` (which must not
/// exist), checked (`PRAGMA integrity_check`, schema) before it is kept.
pub async fn pull_backup(client: &RemoteClient, to: &Path) -> Result<BackupFile> {
    if to.exists() {
        return Err(
            Error::invalid_input(format!("{} already exists; choose a new file name.", to.display())).with_field("to")
        );
    }
    let bytes = client.download("admin/v1/backup").await?;
    let partial = to.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    {
        use std::io::Write;
        if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::private_files::private_dir(dir)?;
        }
        let mut f = crate::private_files::create_private_file(&partial)?;
        f.write_all(&bytes)
            .and_then(|()| f.sync_all())
            .map_err(|e| Error::new(ErrorCode::StoreIo, format!("Cannot write {}: {e}.", partial.display())))?;
    }
    if let Err(e) = Store::check_backup(&partial) {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    std::fs::rename(&partial, to)
        .map_err(|e| Error::new(ErrorCode::StoreIo, format!("Cannot write {}: {e}.", to.display())))?;
    Ok(BackupFile {
        path: to.display().to_string(),
        at: crate::time::to_db(crate::time::now()),
        size_bytes: bytes.len() as u64,
    })
}

/// Pulls the server's backup into the daily folder of this computer (`<data>/server-backups/NAME`),
/// keeping the newest 14.
/// Whether the daily pull of `remote` is due (none yet, or the newest is a day old).
pub fn pull_due(data_dir: &Path, remote: &str, now: crate::time::Timestamp) -> bool {
    crate::backup::due(&data_dir.join("server-backups").join(remote), now).unwrap_or(true)
}

pub async fn pull_daily(
    client: &RemoteClient,
    data_dir: &Path,
    remote: &str,
    now: crate::time::Timestamp,
) -> Result<BackupFile> {
    let dir = data_dir.join("server-backups").join(remote);
    crate::private_files::private_dir(&dir)?;
    let file = dir.join(crate::backup::name_for(now));
    let got = pull_backup(client, &file).await?;
    pull_packages(client, &file, &dir.join("packages")).await?;
    // Newest first.
    for old in crate::backup::list(&dir)?.into_iter().skip(14) {
        let _ = std::fs::remove_file(&old.path);
    }
    Ok(got)
}

/// Fetches the release packages a pulled backup names into `to` (`{sha256}.zip`, as local
/// backups keep them), each checked against the hash the signed backup holds; one already there
/// is not fetched again. Returns how many were fetched.
pub async fn pull_packages(client: &RemoteClient, backup: &Path, to: &Path) -> Result<usize> {
    let hashes = Store::package_hashes_in(backup)?;
    if hashes.is_empty() {
        return Ok(0);
    }
    crate::private_files::private_dir(to)?;
    let mut fetched = 0;
    for sha in hashes {
        let file = to.join(format!("{sha}.zip"));
        if file.exists() {
            continue;
        }
        client.download_checked(&format!("admin/v1/packages/{sha}"), &file, &sha).await?;
        fetched += 1;
    }
    Ok(fetched)
}

/// Sends this computer's database to the server (a consistent backup taken now, while the
/// data may change). `replace`: the seller confirmed replacing licenses the server holds.
pub async fn move_to_server(
    client: &RemoteClient,
    store: &crate::store::SharedStore,
    replace: bool,
) -> Result<MoveReport> {
    let bytes = backup_bytes(store).await?;
    client.upload(&format!("admin/v1/database?replace={replace}"), bytes).await
}

/// A consistent backup of `store`, taken now on a read-only connection (writes go on), as bytes:
/// what a move sends and what the server's backup route answers.
pub async fn backup_bytes(store: &crate::store::SharedStore) -> Result<Vec<u8>> {
    let dir = tempfile::tempdir()
        .map_err(|e| Error::new(ErrorCode::StoreIo, format!("Cannot make a temporary folder: {e}.")))?;
    let file = dir.path().join("backup.db");
    let f = file.clone();
    store.read(move |s| s.backup_to(&f)).await?;
    tokio::fs::read(&file).await.map_err(|e| Error::new(ErrorCode::StoreIo, format!("Cannot read the backup: {e}.")))
}

/// The server's side of a move: `file` (the upload) checked, then put in place of the data
/// (which is kept aside in the backup folder). Refused when the data holds licenses and the
/// seller did not confirm a replacement.
pub fn receive(
    store: &mut Store,
    backup_dir: &Path,
    file: &Path,
    replace: bool,
    now: crate::time::Timestamp,
) -> Result<MoveReport> {
    Store::check_backup(file)?;
    let held = store.license_counts()?.total;
    if held > 0 && !replace {
        return Err(Error::new(
            ErrorCode::RemoteNotEmpty,
            format!("The server holds {held} licenses already. Confirm replacing them (they are kept aside in its backup folder) or move nothing."),
        ));
    }
    // The devices that administer this server stay (the desktop's data has none of them).
    let devices = store.admin_rows()?;
    let report = crate::backup::restore(store, backup_dir, file, now)?;
    store.admin_put_rows(&devices)?;
    Ok(MoveReport {
        licenses: report.licenses,
        products: report.products,
        schema_version: report.schema_version,
        kept_aside: report.kept_aside,
    })
}

/// After a move: this computer stops syncing (the server does it now, and two databases must
/// not issue two keys for one sale), and its data is marked as an archive of the move.
pub async fn archive_local(store: &crate::store::SharedStore, remote: &str, now: crate::time::Timestamp) -> Result<()> {
    let note = format!("This computer's data was moved to the server “{remote}”; it is kept here as an archive.");
    store
        .run(move |s| {
            s.set_sync_paused(true, now)?;
            s.update_settings(&[("archived_to".to_string(), note)], now).map(drop)
        })
        .await
}
