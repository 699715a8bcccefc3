//! Where KeyManager keeps its data. The platform's data directory by default
//! (`~/.local/share/keymanager` on Linux); `--data-dir` or `KEYMANAGER_DATA_DIR` overrides it,
//! which is how tests and a second profile stay apart from the seller's real data.

use crate::error::{Error, ErrorCode, Result};
use std::path::PathBuf;

pub const DATA_DIR_ENV: &str = "KEYMANAGER_DATA_DIR";

/// The data directory: the override when given and not empty, else the platform default.
pub fn data_dir(override_dir: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(dir) = override_dir.filter(|d| !d.as_os_str().is_empty()) {
        return Ok(dir);
    }
    directories::ProjectDirs::from("", "", "keymanager").map(|d| d.data_dir().to_path_buf()).ok_or_else(|| {
        Error::new(ErrorCode::StoreIo, format!("Cannot find a home folder for KeyManager's data; set {DATA_DIR_ENV}."))
    })
}
