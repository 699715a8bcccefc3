//! The only place the Envato token is stored: the operating system's keychain (Secret Service on
//! Linux, Keychain on macOS, Credential Manager on Windows), through the keyring crate.
//!
//! The entry is scoped to the data folder, so two profiles never share a token, and to the Envato
//! origin the token was validated against: a token saved while a developer pointed KeyManager at
//! the sandbox is a different entry from the seller's real one, and a token loaded here is bound
//! to its origin (the client refuses to send it elsewhere). Where no keychain is available the
//! error says so; there is deliberately no silent fallback to a file. A server without a
//! keychain says so explicitly by naming a private secrets folder (`KEYMANAGER_SECRETS_DIR`, set
//! by the server package's unit): there the token is the file `envato-token` in it (0600, a file
//! others can read is refused), written when the seller sets the token from the desktop, and the
//! read-only systemd credential of the same name is the fallback.

use crate::envato::api_base::{ApiBase, OFFICIAL};
use crate::error::Result;
#[cfg(feature = "os-keychain")]
use crate::error::{Error, ErrorCode};
use crate::token::Token;
use std::path::Path;
use std::sync::{Arc, Mutex};
use zeroize::Zeroizing;

#[cfg(all(feature = "os-keychain", not(any(target_os = "linux", target_os = "macos", target_os = "windows"))))]
compile_error!(
    "KeyManager keeps the Envato token only in the OS keychain, and this platform has no keyring backend \
     enabled in crates/keymanager/Cargo.toml (keyring would fall back to an in-memory mock)."
);

#[cfg(feature = "os-keychain")]
const SERVICE: &str = "KeyManager";

/// The folder of a server's secrets (no keychain there): the token, webhook secrets, SMTP password.
pub const SECRETS_DIR_ENV: &str = "KEYMANAGER_SECRETS_DIR";
/// The token's file name in that folder, and its systemd credential's name.
pub const TOKEN_FILE: &str = "envato-token";

enum Backend {
    #[cfg(feature = "os-keychain")]
    Os(keyring::Entry),
    /// A process-local store for tests of the logic around the keychain.
    Memory(Arc<Mutex<Option<String>>>),
    /// A private file in a server's secrets folder, with a read-only credential file behind it.
    File { path: std::path::PathBuf, fallback: Option<std::path::PathBuf> },
}

pub struct Keychain {
    backend: Backend,
    /// The Envato origin whose token this entry holds; None for the unbound test keychain.
    origin: Option<String>,
}

/// FNV-1a: a stable, short name for a data folder (not a secret, just an identifier).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// The profile's keychain id: the hash of its data folder's canonical path.
fn profile_id(data_dir: &Path) -> u64 {
    let canonical = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    fnv1a(canonical.to_string_lossy().as_bytes())
}

#[cfg(feature = "os-keychain")]
fn unavailable(err: keyring::Error) -> Error {
    let detail = match &err {
        keyring::Error::NoStorageAccess(_) => "it is locked or not running".to_string(),
        keyring::Error::PlatformFailure(e) => {
            let text = e.to_string();
            if text.contains("autolaunch") || text.contains("dbus") || text.contains("D-Bus") {
                "no desktop session bus was found".to_string()
            } else {
                text
            }
        }
        other => other.to_string(),
    };
    Error::new(
        ErrorCode::KeychainUnavailable,
        format!(
            "The system keychain is not available ({detail}). KeyManager keeps the Envato token only in the keychain: \
             unlock or start your keyring (GNOME Keyring, KWallet, macOS Keychain) and try again."
        ),
    )
}

/// The OS keychain's entry `user`, or, in a build without one (the static server build), the
/// private file `file` in the secrets folder (`KEYMANAGER_SECRETS_DIR`, else `secrets/` in the
/// data folder).
#[cfg(feature = "os-keychain")]
fn os_entry(_data_dir: &Path, user: &str, _file: &str) -> Result<Backend> {
    keyring::Entry::new(SERVICE, user).map(Backend::Os).map_err(unavailable)
}

#[cfg(not(feature = "os-keychain"))]
fn os_entry(data_dir: &Path, _user: &str, file: &str) -> Result<Backend> {
    let dir = std::env::var_os(SECRETS_DIR_ENV)
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| data_dir.join("secrets"));
    Ok(Backend::File { path: dir.join(file), fallback: None })
}

impl Keychain {
    /// The entry of the profile whose data lives in `data_dir`, for tokens of the Envato origin
    /// of `api`. Envato's own origin keeps the entry name earlier versions used.
    pub fn for_data_dir(data_dir: &Path, api: &ApiBase) -> Result<Keychain> {
        if let Some(dir) = std::env::var_os(SECRETS_DIR_ENV).filter(|v| !v.is_empty()) {
            let fallback = crate::private_files::credential_file(crate::private_files::TOKEN_FILE_ENV, TOKEN_FILE);
            let path = Path::new(&dir).join(TOKEN_FILE);
            return Ok(Keychain { backend: Backend::File { path, fallback }, origin: Some(api.origin().to_string()) });
        }
        let mut user = format!("envato-personal-token-{:016x}", profile_id(data_dir));
        if api.origin() != OFFICIAL {
            user.push_str(&format!("-{:016x}", fnv1a(api.origin().as_bytes())));
        }
        Ok(Keychain { backend: os_entry(data_dir, &user, TOKEN_FILE)?, origin: Some(api.origin().to_string()) })
    }

    /// The entry of the licensing server's signing key for the profile in `data_dir` (the
    /// seed of its Ed25519 key pair, base64). Read and written through `load_text`/`save_text`.
    pub fn signing_key_for_data_dir(data_dir: &Path) -> Result<Keychain> {
        let user = format!("licensing-signing-key-{:016x}", profile_id(data_dir));
        Ok(Keychain { backend: os_entry(data_dir, &user, "signing-key")?, origin: None })
    }

    /// The entry `name` of the profile in `data_dir`: the seller's other secrets (webhook
    /// secrets, the SMTP password), through `load_text`/`save_text`/`delete`.
    pub fn named_for_data_dir(data_dir: &Path, name: &str) -> Result<Keychain> {
        let user = format!("{name}-{:016x}", profile_id(data_dir));
        Ok(Keychain { backend: os_entry(data_dir, &user, name)?, origin: None })
    }

    /// The entry's text as stored (wiped when dropped); `Ok(None)` when there is none.
    pub fn load_text(&self) -> Result<Option<Zeroizing<String>>> {
        Ok(match &self.backend {
            #[cfg(feature = "os-keychain")]
            Backend::Os(entry) => match entry.get_password() {
                Ok(t) => Some(Zeroizing::new(t)),
                Err(keyring::Error::NoEntry) => None,
                Err(e) => return Err(unavailable(e)),
            },
            Backend::Memory(m) => m.lock().unwrap_or_else(|p| p.into_inner()).clone().map(Zeroizing::new),
            Backend::File { path, fallback } => match crate::private_files::read_secret_file(path)? {
                Some(t) => Some(t),
                None => match fallback {
                    Some(f) => crate::private_files::read_secret_file(f)?,
                    None => None,
                },
            },
        })
    }

    /// Stores `text` in the entry, replacing what was there.
    pub fn save_text(&self, text: &str) -> Result<()> {
        match &self.backend {
            #[cfg(feature = "os-keychain")]
            Backend::Os(entry) => entry.set_password(text).map_err(unavailable),
            Backend::Memory(m) => {
                *m.lock().unwrap_or_else(|p| p.into_inner()) = Some(text.to_string());
                Ok(())
            }
            Backend::File { path, .. } => crate::private_files::write_secret_file(path, text),
        }
    }

    /// A keychain that lives only in this process, its tokens unbound (tests of other logic).
    pub fn in_memory() -> Keychain {
        Keychain { backend: Backend::Memory(Arc::new(Mutex::new(None))), origin: None }
    }

    /// A process-local keychain whose tokens are bound to `api`'s origin (tests of the binding).
    pub fn in_memory_for(api: &ApiBase) -> Keychain {
        Keychain { origin: Some(api.origin().to_string()), ..Keychain::in_memory() }
    }

    /// The stored token; `Ok(None)` when there is none.
    /// Whether the keychain can be read and written now. On Linux that is a Secret Service with
    /// an unlocked default keyring: a locked one answers "no entry" to a search, so without this
    /// check a locked keyring would pass for "no token yet". With `ask_to_unlock`, a locked
    /// keyring is asked to unlock, which shows the desktop's own prompt (answered within a
    /// minute). Other platforms ask the user by themselves when a secret is read.
    pub fn check_available(&self, ask_to_unlock: bool) -> Result<()> {
        if matches!(self.backend, Backend::Memory(_) | Backend::File { .. }) {
            return Ok(());
        }
        #[cfg(all(target_os = "linux", feature = "os-keychain"))]
        {
            use dbus_secret_service::{EncryptionType, SecretService};
            let locked = |detail: String| {
                Error::new(
                    ErrorCode::KeychainUnavailable,
                    format!(
                        "The system keychain is not available ({detail}). KeyManager keeps the Envato token only in the \
                         keychain: unlock or start your keyring (GNOME Keyring, KWallet) and try again."
                    ),
                )
            };
            let ss = SecretService::connect_with_max_prompt_timeout(EncryptionType::Plain, 60)
                .map_err(|_| locked("no Secret Service answered on the session bus".into()))?;
            let collection =
                ss.get_default_collection().map_err(|_| locked("there is no default keyring yet".into()))?;
            let is_locked = || collection.is_locked().map_err(|e| locked(format!("the keyring did not answer: {e}")));
            if is_locked()? {
                if ask_to_unlock {
                    // The desktop shows its unlock prompt; a dismissed prompt leaves it locked.
                    let _ = collection.unlock();
                    if !is_locked()? {
                        return Ok(());
                    }
                }
                return Err(locked("the login keyring is locked".into()));
            }
        }
        #[cfg(not(all(target_os = "linux", feature = "os-keychain")))]
        let _ = ask_to_unlock;
        Ok(())
    }

    pub fn load(&self) -> Result<Option<Token>> {
        // The keychain's answer is a plain String: wiped once the token is parsed from it.
        let text = self.load_text()?;
        // A value that is not a token (edited by hand in a keyring manager) is treated as none.
        let token = text.and_then(|t| Token::parse(&t).ok());
        Ok(match &self.origin {
            Some(origin) => token.map(|t| t.bound(origin)),
            None => token,
        })
    }

    pub fn save(&self, token: &Token) -> Result<()> {
        self.save_text(token.expose())
    }

    /// Removes the token; removing a token that is not there is not an error.
    pub fn delete(&self) -> Result<()> {
        match &self.backend {
            #[cfg(feature = "os-keychain")]
            Backend::Os(entry) => match entry.delete_credential() {
                Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                Err(e) => Err(unavailable(e)),
            },
            Backend::Memory(m) => {
                *m.lock().unwrap_or_else(|p| p.into_inner()) = None;
                Ok(())
            }
            // The read-only credential behind it stays (it is the server administrator's file).
            Backend::File { path, .. } => crate::private_files::delete_secret_file(path),
        }
    }
}

#[cfg(test)]
mod file_backend_tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_secrets_file_holds_the_token_and_falls_back_to_the_credential() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let credential = dir.path().join("credential");
        let api = ApiBase::official();
        let k = Keychain {
            backend: Backend::File {
                path: dir.path().join("secrets/envato-token"),
                fallback: Some(credential.clone()),
            },
            origin: Some(api.origin().to_string()),
        };
        k.check_available(false).unwrap();
        assert!(k.load().unwrap().is_none(), "nothing yet");
        // An empty credential (the server package's placeholder) is no token.
        std::fs::write(&credential, "").unwrap();
        std::fs::set_permissions(&credential, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(k.load().unwrap().is_none());
        std::fs::write(&credential, "b".repeat(32)).unwrap();
        assert_eq!(k.load().unwrap().unwrap().expose(), "b".repeat(32), "the credential behind it");
        // Set from the desktop: it wins, private, and removing it leaves the credential.
        k.save(&Token::parse(&"a".repeat(32)).unwrap()).unwrap();
        assert_eq!(k.load().unwrap().unwrap().expose(), "a".repeat(32));
        let mode = std::fs::metadata(dir.path().join("secrets/envato-token")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        k.delete().unwrap();
        assert_eq!(k.load().unwrap().unwrap().expose(), "b".repeat(32));
        // A file others can read is refused, not used.
        std::fs::set_permissions(&credential, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(k.load().err().map(|e| e.code), Some(crate::ErrorCode::CredentialFileUnsafe));
    }
}
