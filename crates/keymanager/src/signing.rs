//! The licensing server's Ed25519 key pair: every `/v1` answer is signed over its exact body, and
//! activations carry an offline certificate (`KM1.<payload>.<signature>`), so a product can tell
//! KeyManager from a fake server. The private key is made on first use and kept like the Envato
//! token: in the OS keychain on a desktop, or in a credential file on a server
//! (`KEYMANAGER_SIGNING_KEY_FILE`, or systemd's `$CREDENTIALS_DIRECTORY/signing-key`). A credential
//! file readable by group or others is refused.

/// The header that carries an answer's signature (`ed25519=<base64>`).
pub const SIGNATURE_HEADER: &str = "KeyManager-Signature";

use crate::error::{Error, ErrorCode, Result};
use crate::keychain::Keychain;
use crate::private_files::{credential_file, read_credential};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

pub const SIGNING_KEY_FILE_ENV: &str = "KEYMANAGER_SIGNING_KEY_FILE";

pub struct Signer {
    key: SigningKey,
}

fn unavailable(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::SigningKeyUnavailable, message)
}

impl Signer {
    pub fn generate() -> Result<Signer> {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut seed[..]).map_err(|e| unavailable(format!("The system's random source failed: {e}.")))?;
        Ok(Signer { key: SigningKey::from_bytes(&seed) })
    }

    /// The key from its stored text: the 32-byte seed in base64.
    pub fn from_stored(text: &str) -> Result<Signer> {
        let bytes = Zeroizing::new(
            STANDARD.decode(text.trim()).map_err(|_| unavailable("The stored signing key is not base64."))?,
        );
        let seed: [u8; 32] =
            bytes.as_slice().try_into().map_err(|_| unavailable("The stored signing key is not 32 bytes."))?;
        Ok(Signer { key: SigningKey::from_bytes(&seed) })
    }

    /// The text to store (wiped when dropped).
    pub fn to_stored(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(self.key.to_bytes()))
    }

    /// The public key, base64 of its 32 bytes: what `/v1/public-key` and `keys public` show.
    pub fn public_key(&self) -> String {
        STANDARD.encode(self.key.verifying_key().to_bytes())
    }

    /// The signature of `body`, base64: the `KeyManager-Signature: ed25519=…` header's value.
    pub fn sign(&self, body: &[u8]) -> String {
        STANDARD.encode(self.key.sign(body).to_bytes())
    }

    /// The signature of `message`, base64url without padding (`KMD1` download links).
    pub fn sign_url_safe(&self, message: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(self.key.sign(message).to_bytes())
    }

    /// Whether `signature` is this key's signature of `message`.
    pub fn signed(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(sig) = Signature::from_slice(signature) else { return false };
        self.key.verifying_key().verify(message, &sig).is_ok()
    }

    /// `KM1.<payload>.<signature>` over the claims.
    pub fn certificate(&self, claims: &Certificate) -> String {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
        let signed = format!("KM1.{payload}");
        let sig = URL_SAFE_NO_PAD.encode(self.key.sign(signed.as_bytes()).to_bytes());
        format!("{signed}.{sig}")
    }
}

/// What a `KM1` certificate says (the contract's payload, field for field).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    pub v: u32,
    pub key: String,
    pub product_id: i64,
    pub item_id: Option<i64>,
    pub fingerprint: String,
    pub status: String,
    pub issued_at: String,
    pub expires_at: String,
}

fn public(public_b64: &str) -> Result<VerifyingKey> {
    let bytes = STANDARD
        .decode(public_b64.trim())
        .map_err(|_| Error::invalid_input("The public key is not base64.").with_field("public_key"))?;
    let bytes: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| Error::invalid_input("The public key is not 32 bytes.").with_field("public_key"))?;
    VerifyingKey::from_bytes(&bytes)
        .map_err(|_| Error::invalid_input("That is not an Ed25519 public key.").with_field("public_key"))
}

/// Whether `signature_b64` is the server's signature of `body`.
pub fn verify(public_b64: &str, body: &[u8], signature_b64: &str) -> bool {
    let Ok(key) = public(public_b64) else { return false };
    let Ok(sig) = STANDARD.decode(signature_b64.trim()) else { return false };
    let Ok(sig) = Signature::from_slice(&sig) else { return false };
    key.verify(body, &sig).is_ok()
}

/// Checks a `KM1` certificate's signature with `public_b64` and returns what it says. Whether it
/// has expired is the caller's question (`expires_at`).
pub fn verify_certificate(public_b64: &str, certificate: &str) -> Result<Certificate> {
    let bad =
        |why: &str| Error::invalid_input(format!("Not a valid KM1 certificate: {why}.")).with_field("certificate");
    let cert = certificate.trim();
    let (signed, sig) = cert.rsplit_once('.').ok_or_else(|| bad("it has no signature"))?;
    let payload = signed.strip_prefix("KM1.").ok_or_else(|| bad("it does not start with KM1."))?;
    let sig = URL_SAFE_NO_PAD.decode(sig).map_err(|_| bad("the signature is not base64url"))?;
    let sig = Signature::from_slice(&sig).map_err(|_| bad("the signature has the wrong length"))?;
    public(public_b64)?.verify(signed.as_bytes(), &sig).map_err(|_| bad("the signature does not match this key"))?;
    let json = URL_SAFE_NO_PAD.decode(payload).map_err(|_| bad("the payload is not base64url"))?;
    serde_json::from_slice(&json).map_err(|_| bad("the payload is not the KM1 fields"))
}

/// Where this profile's signing key lives.
enum KeyHome {
    File(PathBuf),
    Keychain(Keychain),
}

fn home(data_dir: &Path) -> Result<KeyHome> {
    match credential_file(SIGNING_KEY_FILE_ENV, "signing-key") {
        Some(path) => Ok(KeyHome::File(path)),
        None => Ok(KeyHome::Keychain(Keychain::signing_key_for_data_dir(data_dir)?)),
    }
}

fn store(home: &KeyHome, signer: &Signer) -> Result<()> {
    match home {
        KeyHome::Keychain(k) => k.save_text(&signer.to_stored()),
        KeyHome::File(path) => {
            use std::io::Write;
            let mut f = crate::private_files::create_private_file(path)?;
            f.write_all(signer.to_stored().as_bytes()).map_err(|e| {
                Error::new(ErrorCode::StoreIo, format!("Cannot write the signing key to {}: {e}.", path.display()))
            })
        }
    }
}

/// The profile's signing key, made (and kept) on first use in the keychain. A credential file
/// that is named but missing is an error (`credential_file.missing`), never a new key: a new key
/// would break every product that pinned the old one. `keys init --file` makes one.
pub fn load_or_create(data_dir: &Path) -> Result<Signer> {
    let home = home(data_dir)?;
    let stored = match &home {
        KeyHome::Keychain(k) => k.load_text()?,
        KeyHome::File(path) => Some(read_credential(path).map_err(|e| match e.code {
            ErrorCode::CredentialFileMissing => Error::new(
                ErrorCode::CredentialFileMissing,
                format!(
                    "The signing key file {} does not exist. Make one with `keymanager keys init --file {}` (or fix \
                     {SIGNING_KEY_FILE_ENV}); KeyManager never makes a new key in its place, which would break every \
                     product that pinned the current one.",
                    path.display(),
                    path.display()
                ),
            ),
            _ => e,
        })?),
    };
    match stored {
        Some(text) => Signer::from_stored(&text),
        None => {
            let signer = Signer::generate()?;
            store(&home, &signer)?;
            tracing::info!(public_key = %signer.public_key(), "made the licensing server's signing key");
            Ok(signer)
        }
    }
}

/// Makes a new signing key in the file `path` (0600); an existing file is never overwritten.
pub fn init_file(path: &Path) -> Result<Signer> {
    if path.symlink_metadata().is_ok() {
        return Err(Error::invalid_input(format!(
            "{} already exists; KeyManager never overwrites a signing key (use `keys rotate` to replace it).",
            path.display()
        ))
        .with_field("file"));
    }
    let signer = Signer::generate()?;
    store(&KeyHome::File(path.to_path_buf()), &signer)?;
    Ok(signer)
}

/// A new key pair replaces the old one: products that pinned the old public key must be updated.
/// A named key file must exist (rotate replaces a key; `keys init` makes the first).
pub fn rotate(data_dir: &Path) -> Result<Signer> {
    let home = home(data_dir)?;
    if let KeyHome::File(path) = &home {
        read_credential(path)?;
    }
    let signer = Signer::generate()?;
    store(&home, &signer)?;
    Ok(signer)
}

/// How often a running server looks for a rotated key (the contract: within 5 seconds).
pub const RELOAD_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// The signing key in force, replaced in place when the seller rotates it: every answer and
/// certificate is signed by the key `current` returns at that moment.
pub struct SignerCell {
    current: std::sync::RwLock<std::sync::Arc<Signer>>,
    data_dir: Option<PathBuf>,
}

impl SignerCell {
    /// The profile's key, re-read by `reload` from where it lives.
    pub fn load(data_dir: &Path) -> Result<SignerCell> {
        let signer = load_or_create(data_dir)?;
        Ok(SignerCell { current: std::sync::RwLock::new(std::sync::Arc::new(signer)), data_dir: Some(data_dir.into()) })
    }

    /// A fixed key (tests, benchmarks).
    pub fn fixed(signer: Signer) -> SignerCell {
        SignerCell { current: std::sync::RwLock::new(std::sync::Arc::new(signer)), data_dir: None }
    }

    pub fn current(&self) -> std::sync::Arc<Signer> {
        self.current.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Reads the stored key again (it blocks: keychain or file); returns the new public key when
    /// it changed. A key that cannot be read keeps the one in force.
    pub fn reload(&self) -> Result<Option<String>> {
        let Some(dir) = &self.data_dir else { return Ok(None) };
        let home = home(dir)?;
        let stored = match &home {
            KeyHome::Keychain(k) => k.load_text()?,
            KeyHome::File(path) => Some(read_credential(path)?),
        };
        let Some(text) = stored else { return Ok(None) };
        let signer = Signer::from_stored(&text)?;
        if signer.public_key() == self.current().public_key() {
            return Ok(None);
        }
        let key = signer.public_key();
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = std::sync::Arc::new(signer);
        Ok(Some(key))
    }

    /// Reloads every `RELOAD_EVERY` until the returned task is aborted or the cell is dropped.
    pub fn watch(cell: &std::sync::Arc<SignerCell>) -> tokio::task::JoinHandle<()> {
        let weak = std::sync::Arc::downgrade(cell);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(RELOAD_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(cell) = weak.upgrade() else { break };
                match tokio::task::spawn_blocking(move || cell.reload()).await {
                    Ok(Ok(Some(key))) => {
                        tracing::warn!(public_key = %key, "the signing key was rotated; answers are now signed with the new key")
                    }
                    Ok(Ok(None)) => {}
                    Ok(Err(e)) => tracing::warn!(code = %e.code, "cannot re-read the signing key: {}", e.message),
                    Err(_) => break,
                }
            }
        })
    }
}

/// The file in the data folder where a running server leaves its public key (not a secret), so
/// that `admin pair`, run as the server's user without access to the private key, can print the
/// fingerprint a device pins.
pub const PUBLIC_KEY_FILE: &str = "server-public-key";

/// Leaves `public_key` in the data folder (see `PUBLIC_KEY_FILE`).
pub fn publish_public_key(data_dir: &Path, public_key: &str) -> Result<()> {
    // A server's first start: the data folder may not exist yet (the store makes it next).
    crate::private_files::private_dir(data_dir)?;
    std::fs::write(data_dir.join(PUBLIC_KEY_FILE), format!("{public_key}\n"))
        .map_err(|e| Error::new(ErrorCode::StoreIo, format!("Cannot write {PUBLIC_KEY_FILE}: {e}.")))
}

/// This profile's public key: from the key itself when this user can read it, else from the
/// file a running server left.
pub fn public_key_of(data_dir: &Path) -> Result<String> {
    match load_or_create(data_dir) {
        Ok(s) => Ok(s.public_key()),
        Err(e) => match std::fs::read_to_string(data_dir.join(PUBLIC_KEY_FILE)) {
            Ok(text) if !text.trim().is_empty() => Ok(text.trim().to_string()),
            _ => Err(e),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_and_certificates_verify_and_tampering_is_caught() {
        let s = Signer::generate().unwrap();
        let again = Signer::from_stored(&s.to_stored()).unwrap();
        assert_eq!(again.public_key(), s.public_key());
        let body = br#"{"code":"VALID"}"#;
        let sig = s.sign(body);
        assert!(verify(&s.public_key(), body, &sig));
        assert!(!verify(&s.public_key(), br#"{"code":"VALID "}"#, &sig));
        assert!(!verify(&Signer::generate().unwrap().public_key(), body, &sig));
        let claims = Certificate {
            v: 1,
            key: "K".into(),
            product_id: 1,
            item_id: Some(2),
            fingerprint: "f".into(),
            status: "active".into(),
            issued_at: "2026-11-29T00:00:00Z".into(),
            expires_at: "2026-12-29T00:00:00Z".into(),
        };
        let cert = s.certificate(&claims);
        assert!(cert.starts_with("KM1."));
        assert_eq!(verify_certificate(&s.public_key(), &cert).unwrap(), claims);
        let (head, _) = cert.rsplit_once('.').unwrap();
        let forged = format!("{head}.{}", URL_SAFE_NO_PAD.encode([0u8; 64]));
        assert!(verify_certificate(&s.public_key(), &forged).is_err());
        assert!(verify_certificate(&Signer::generate().unwrap().public_key(), &cert).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_credential_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("signing-key");
        std::fs::write(&path, Signer::generate().unwrap().to_stored().as_bytes()).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(read_credential(&path).unwrap_err().code, ErrorCode::CredentialFileUnsafe);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(Signer::from_stored(&read_credential(&path).unwrap()).is_ok());
        // A symbolic link to a private file is refused too: the file named must be the file.
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert_eq!(read_credential(&link).unwrap_err().code, ErrorCode::CredentialFileUnsafe);
        assert_eq!(read_credential(&dir.path().join("nope")).unwrap_err().code, ErrorCode::CredentialFileMissing);
    }

    #[test]
    fn init_makes_a_key_file_once_and_a_cell_follows_a_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("signing-key");
        let first = init_file(&path).unwrap();
        assert!(init_file(&path).is_err(), "an existing key is never overwritten");
        let text = read_credential(&path).unwrap();
        assert_eq!(Signer::from_stored(&text).unwrap().public_key(), first.public_key());
        let cell = SignerCell::fixed(Signer::from_stored(&text).unwrap());
        assert_eq!(cell.current().public_key(), first.public_key());
        assert_eq!(cell.reload().unwrap(), None, "a fixed cell has nowhere to reload from");
    }
}
