//! Files that hold buyers' names, purchase codes and license keys are the seller's alone: the data
//! folder is 0700 and the database, its WAL and SHM, and CSV exports are 0600 on Unix. Existing
//! files with wider modes (written by an earlier version) are narrowed when the store opens.
//! On other platforms the user's profile folder already keeps them private, and these are no-ops.

use crate::error::{Error, ErrorCode, Result};
use std::fs::File;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Where a server keeps the Envato token (or systemd's `$CREDENTIALS_DIRECTORY/envato-token`).
pub const TOKEN_FILE_ENV: &str = "KEYMANAGER_ENVATO_TOKEN_FILE";

#[cfg(unix)]
const DIR_MODE: u32 = 0o700;
#[cfg(unix)]
const FILE_MODE: u32 = 0o600;

fn io_error(path: &Path, what: &str, e: std::io::Error) -> Error {
    Error::new(ErrorCode::StoreIo, format!("Cannot {what} {}: {e}.", path.display()))
}

/// Creates `dir` (and its parents) if needed and makes `dir` itself private. A shared folder is
/// never narrowed: one with the sticky bit (`/tmp`) or owned by another user is left as it is,
/// in case `--data-dir` names one.
pub fn private_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(DIR_MODE)
            .create(dir)
            .map_err(|e| io_error(dir, "create the folder", e))?;
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, "create the folder", e))?;
    if shared_folder(dir) {
        return Ok(());
    }
    set_mode(dir, true)
}

/// A folder others use too: sticky (`/tmp`), or not the current user's.
#[cfg(unix)]
fn shared_folder(dir: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata(dir) {
        // SAFETY: geteuid has no preconditions and cannot fail.
        Ok(m) => m.mode() & 0o1000 != 0 || m.uid() != unsafe { libc::geteuid() },
        Err(_) => true,
    }
}

#[cfg(not(unix))]
fn shared_folder(_dir: &Path) -> bool {
    false
}

/// Narrows an existing file's (or folder's) mode to the owner's; a missing file is fine.
pub fn make_private(path: &Path) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Ok(()),
        Ok(m) => set_mode(path, m.is_dir()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(path, "read the permissions of", e)),
    }
}

#[cfg(unix)]
fn set_mode(path: &Path, dir: bool) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let want = if dir { DIR_MODE } else { FILE_MODE };
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, "read the permissions of", e))?;
    if meta.permissions().mode() & 0o777 != want {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(want))
            .map_err(|e| io_error(path, "restrict the permissions of", e))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _dir: bool) -> Result<()> {
    Ok(())
}

/// Creates (or truncates) a file that only its owner can read, whatever the umask.
pub fn create_private_file(path: &Path) -> Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(FILE_MODE);
    }
    let file = options.open(path).map_err(|e| io_error(path, "create", e))?;
    // An existing file keeps its old mode on open: narrow it too.
    make_private(path)?;
    Ok(file)
}

/// The app's log file, `logs/keymanager.log` in the data folder: private like the rest, opened
/// for appending; past `max_bytes` the old log moves to `keymanager.log.1` (one is kept). A
/// desktop app's stderr goes nowhere a seller can find, so this is what support asks for.
pub fn open_log(data_dir: &Path, max_bytes: u64) -> Result<(File, std::path::PathBuf)> {
    let dir = data_dir.join("logs");
    private_dir(&dir)?;
    let path = dir.join("keymanager.log");
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > max_bytes) {
        let _ = std::fs::rename(&path, dir.join("keymanager.log.1"));
    }
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(FILE_MODE);
    }
    let file = options.open(&path).map_err(|e| io_error(&path, "open the log", e))?;
    make_private(&path)?;
    Ok((file, path))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn folders_and_files_are_created_private_and_existing_ones_narrowed() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        let f = dir.join("x.csv");
        std::fs::write(&f, "old").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        drop(create_private_file(&f).unwrap());
        assert_eq!(mode(&f), 0o600);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        make_private(&dir.join("missing")).unwrap();
        // A sticky folder such as /tmp is never narrowed.
        let shared = tmp.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
        private_dir(&shared).unwrap();
        assert_eq!(std::fs::metadata(&shared).unwrap().permissions().mode() & 0o7777, 0o1777);
        let (mut log, path) = open_log(&dir, 10).unwrap();
        use std::io::Write;
        writeln!(log, "more than ten bytes").unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir.join("logs")), 0o700);
        drop(open_log(&dir, 10).unwrap());
        assert!(dir.join("logs/keymanager.log.1").exists(), "rotated past the limit");
    }
}

/// A credential file named by `env`, or systemd's `$CREDENTIALS_DIRECTORY/<name>` when it exists.
pub fn credential_file(env: &str, name: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let dir = std::env::var_os("CREDENTIALS_DIRECTORY").filter(|p| !p.is_empty())?;
    let path = Path::new(&dir).join(name);
    path.exists().then_some(path)
}

/// Reads a credential file, refusing one that group or others may read, one that is a
/// symbolic link, and one another user owns. The checks are made on the opened file itself, so
/// the file cannot be swapped between the check and the read.
pub fn read_credential(path: &Path) -> Result<Zeroizing<String>> {
    use std::io::Read;
    let unsafe_file = |why: String| Error::new(ErrorCode::CredentialFileUnsafe, why);
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    let mut file = options.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::new(
            ErrorCode::CredentialFileMissing,
            format!("The credential file {} does not exist.", path.display()),
        ),
        _ if e.raw_os_error() == Some(libc::ELOOP) => {
            unsafe_file(format!("The credential file {} is a symbolic link; name the file itself.", path.display()))
        }
        // Anything else (too many open files, say) is not about the file's safety.
        _ => Error::internal(format!("Cannot open the credential file {}: {e}.", path.display())),
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let meta = file
            .metadata()
            .map_err(|e| unsafe_file(format!("Cannot read the credential file {}: {e}.", path.display())))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(unsafe_file(format!(
                "The credential file {} can be read by other users (mode {mode:o}); run `chmod 600` on it first.",
                path.display()
            )));
        }
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            return Err(unsafe_file(format!(
                "The credential file {} belongs to another user (uid {}); it must be this user's own.",
                path.display(),
                meta.uid()
            )));
        }
    }
    let mut text = Zeroizing::new(String::new());
    file.read_to_string(&mut text)
        .map_err(|e| unsafe_file(format!("Cannot read the credential file {}: {e}.", path.display())))?;
    Ok(text)
}

/// A secret kept as a private file (a server's secrets folder): its trimmed text, `None` when
/// the file is missing or empty; a file others can read is refused.
pub fn read_secret_file(path: &Path) -> Result<Option<Zeroizing<String>>> {
    if !path.exists() {
        return Ok(None);
    }
    let text = read_credential(path)?;
    let trimmed = text.trim();
    Ok((!trimmed.is_empty()).then(|| Zeroizing::new(trimmed.to_string())))
}

/// Writes a secret file (0600, in a private folder), replacing the old one in one step.
pub fn write_secret_file(path: &Path, value: &str) -> Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    private_dir(dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.new"));
    let _ = std::fs::remove_file(&tmp);
    let io = |e: std::io::Error| {
        Error::new(ErrorCode::StoreIo, format!("Cannot write the secret file {}: {e}.", path.display()))
    };
    let mut f = create_private_file(&tmp)?;
    f.write_all(value.as_bytes()).and_then(|()| f.sync_all()).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// Removes a secret file; one that is not there is not an error.
pub fn delete_secret_file(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::new(ErrorCode::StoreIo, format!("Cannot remove a secret file: {e}."))),
    }
}
