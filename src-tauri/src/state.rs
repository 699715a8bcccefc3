//! The values Tauri manages for the commands: the store (opened once at setup), the keychain
//! entry of this data folder, and the folder itself. A store that fails to open (say, a database
//! from a newer KeyManager) does not crash the app: every command answers with the open error,
//! and the UI shows it.

use keymanager::envato::ClientConfig;
use keymanager::keychain::Keychain;
use keymanager::{paths, Error, Store};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pub struct AppState {
    store: Result<Arc<Mutex<Store>>, Error>,
    keychain: Result<Arc<Keychain>, Error>,
    pub data_dir: Option<PathBuf>,
}

pub const API_BASE_ENV: &str = "KEYMANAGER_ENVATO_API_BASE";

impl AppState {
    pub fn open() -> AppState {
        let dir = paths::data_dir(std::env::var_os(paths::DATA_DIR_ENV).map(PathBuf::from));
        let store = dir.clone().and_then(|d| Store::open_in_dir(&d)).map(|s| Arc::new(Mutex::new(s)));
        if let Err(err) = &store {
            tracing::error!(code = %err.code, message = %err.message, "cannot open the database");
        }
        let keychain = dir.clone().and_then(|d| Keychain::for_data_dir(&d)).map(Arc::new);
        AppState { store, keychain, data_dir: dir.ok() }
    }

    pub fn keychain(&self) -> Result<Arc<Keychain>, Error> {
        self.keychain.clone()
    }

    /// Runs `f` with the store on a blocking thread: rusqlite never runs on the async runtime.
    pub async fn with_store<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, Error> + Send + 'static,
    {
        let store = self.store.clone()?;
        tauri::async_runtime::spawn_blocking(move || {
            let mut guard = store.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| Error::internal(format!("A background task failed: {e}.")))?
    }

    /// Like `with_store`, with the keychain too (its calls block on D-Bus).
    pub async fn with_store_and_keychain<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store, &Keychain) -> Result<T, Error> + Send + 'static,
    {
        let keychain = self.keychain()?;
        self.with_store(move |s| f(s, &keychain)).await
    }

    /// The Envato client settings: the environment override (the sandbox in tests), else the setting.
    pub async fn client_config(&self) -> Result<ClientConfig, Error> {
        let base = match std::env::var(API_BASE_ENV) {
            Ok(b) if !b.is_empty() => keymanager::settings::validate_api_base("envato_api_base", &b)?,
            _ => self.with_store(|s| Ok(s.settings()?.envato_api_base)).await?,
        };
        Ok(ClientConfig::new(&base))
    }
}
