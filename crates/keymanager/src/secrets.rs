//! The seller's other secrets (webhook signing secrets, the SMTP password), kept where the
//! Envato token is: the OS keychain, one entry per secret and data folder. A server without a
//! keychain names a private folder instead (`KEYMANAGER_SECRETS_DIR`, e.g. the systemd unit's
//! state directory): one file per secret, 0600, and a file others can read is refused. Never the
//! database, never a log.

use crate::error::Result;
use crate::keychain::Keychain;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use zeroize::Zeroizing;

pub use crate::keychain::SECRETS_DIR_ENV;

/// The SMTP password's name.
pub const SMTP_PASSWORD: &str = "smtp-password";

/// The signing secret of webhook endpoint `id`.
pub fn webhook_secret_name(id: i64) -> String {
    format!("webhook-secret-{id}")
}

#[derive(Clone)]
enum Home {
    Keychain(PathBuf),
    Dir(PathBuf),
    Memory(Arc<Mutex<HashMap<String, String>>>),
}

#[derive(Clone)]
pub struct Secrets {
    home: Home,
}

impl Secrets {
    /// The secrets of the profile in `data_dir`: the folder of `KEYMANAGER_SECRETS_DIR` when set,
    /// else the keychain.
    pub fn for_data_dir(data_dir: &Path) -> Secrets {
        match std::env::var_os(SECRETS_DIR_ENV).filter(|v| !v.is_empty()) {
            Some(dir) => Secrets { home: Home::Dir(PathBuf::from(dir)) },
            None => Secrets { home: Home::Keychain(data_dir.to_path_buf()) },
        }
    }

    /// Secrets that live only in this process (tests).
    pub fn in_memory() -> Secrets {
        Secrets { home: Home::Memory(Arc::default()) }
    }

    pub fn load(&self, name: &str) -> Result<Option<Zeroizing<String>>> {
        match &self.home {
            Home::Keychain(dir) => Keychain::named_for_data_dir(dir, name)?.load_text(),
            Home::Dir(dir) => crate::private_files::read_secret_file(&dir.join(name)),
            Home::Memory(m) => Ok(m.lock().unwrap_or_else(|p| p.into_inner()).get(name).cloned().map(Zeroizing::new)),
        }
    }

    pub fn save(&self, name: &str, value: &str) -> Result<()> {
        match &self.home {
            Home::Keychain(dir) => Keychain::named_for_data_dir(dir, name)?.save_text(value),
            Home::Dir(dir) => crate::private_files::write_secret_file(&dir.join(name), value),
            Home::Memory(m) => {
                m.lock().unwrap_or_else(|p| p.into_inner()).insert(name.to_string(), value.to_string());
                Ok(())
            }
        }
    }

    /// Removes a secret; one that is not there is not an error.
    pub fn delete(&self, name: &str) -> Result<()> {
        match &self.home {
            Home::Keychain(dir) => Keychain::named_for_data_dir(dir, name)?.delete(),
            Home::Dir(dir) => crate::private_files::delete_secret_file(&dir.join(name)),
            Home::Memory(m) => {
                m.lock().unwrap_or_else(|p| p.into_inner()).remove(name);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_secrets_folder_keeps_private_files_and_refuses_readable_ones() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let s = Secrets { home: Home::Dir(tmp.path().join("secrets")) };
        assert!(s.load("a").unwrap().is_none());
        s.save("a", "whsec_abc").unwrap();
        assert_eq!(s.load("a").unwrap().unwrap().as_str(), "whsec_abc");
        let path = tmp.path().join("secrets/a");
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(s.load("a").unwrap_err().code, crate::ErrorCode::CredentialFileUnsafe);
        s.delete("a").unwrap();
        s.delete("a").unwrap();
        assert!(s.load("a").unwrap().is_none());
    }
}
