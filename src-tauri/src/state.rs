//! The values Tauri manages for the commands: the store (opened once at setup), the keychain
//! entry of this data folder, the sync worker, and the folder itself. A store that fails to open
//! (say, a database from a newer KeyManager) does not crash the app: every command answers with
//! the open error, and the UI shows it.

use keymanager::envato::{ApiBase, ClientConfig, EnvatoClient};
use keymanager::keychain::Keychain;
use keymanager::sync::worker::{ClientSource, SyncWorker};
use keymanager::sync::SharedStore;
use keymanager::{paths, time, Error, Store};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub struct AppState {
    store: Result<SharedStore, Error>,
    keychain: Result<Arc<Keychain>, Error>,
    pub worker: Option<SyncWorker>,
    pub data_dir: Option<PathBuf>,
    /// Envato, or the developer override from `KEYMANAGER_ENVATO_API_BASE` (this machine only).
    pub api: Result<ApiBase, Error>,
}

impl AppState {
    /// Opens the store and keychain and starts the sync worker (on Tauri's runtime).
    pub fn open() -> AppState {
        let dir = paths::data_dir(std::env::var_os(paths::DATA_DIR_ENV).map(PathBuf::from));
        let store = dir.clone().and_then(|d| Store::open_in_dir(&d)).map(SharedStore::new);
        if let Err(err) = &store {
            tracing::error!(code = %err.code, message = %err.message, "cannot open the database");
        }
        let api = ApiBase::from_env();
        if let Err(err) = &api {
            tracing::error!(code = %err.code, message = %err.message, "refusing the Envato API override");
        }
        let keychain = match (&dir, &api) {
            (Ok(d), Ok(api)) => Keychain::for_data_dir(d, api).map(Arc::new),
            (Err(e), _) | (_, Err(e)) => Err(e.clone()),
        };
        let worker = match (&store, &keychain, &api) {
            (Ok(store), Ok(keychain), Ok(api)) => {
                let clients = ClientSource::keychain(keychain.clone(), ClientConfig::new(api.as_str()));
                let _guard = tauri::async_runtime::handle().inner().enter();
                Some(SyncWorker::spawn(store.clone(), clients, Arc::new(time::now), Duration::from_secs(5)))
            }
            _ => None,
        };
        AppState { store, keychain, worker, data_dir: dir.ok(), api }
    }

    pub fn keychain(&self) -> Result<Arc<Keychain>, Error> {
        self.keychain.clone()
    }

    pub fn worker(&self) -> Result<&SyncWorker, Error> {
        match (&self.worker, &self.store) {
            (Some(w), _) => Ok(w),
            (None, Err(e)) => Err(e.clone()),
            (None, Ok(_)) => {
                Err(self.keychain.clone().err().unwrap_or_else(|| Error::internal("Syncing is not running.")))
            }
        }
    }

    /// Runs `f` with the store on a blocking thread: rusqlite never runs on the async runtime.
    pub async fn with_store<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, Error> + Send + 'static,
    {
        self.store.clone()?.run(f).await
    }

    /// Runs `f` with a read-only connection on a blocking thread: reads never wait for a write.
    pub async fn with_reader<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, Error> + Send + 'static,
    {
        self.store.clone()?.read(f).await
    }

    /// Like `with_reader`, with the keychain too (its calls block on D-Bus).
    pub async fn with_reader_and_keychain<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&Store, &Keychain) -> Result<T, Error> + Send + 'static,
    {
        let keychain = self.keychain()?;
        self.with_reader(move |s| f(s, &keychain)).await
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

    pub fn shared_store(&self) -> Result<SharedStore, Error> {
        self.store.clone()
    }

    /// A client for the stored token (interactive limits: fail in seconds), or None without one.
    pub async fn envato_client(&self) -> Result<Option<EnvatoClient>, Error> {
        let keychain = self.keychain()?;
        let cfg = keymanager::account::interactive(self.client_config().await?);
        // The keychain answers over D-Bus and the client sets up TLS: both off the async workers.
        tauri::async_runtime::spawn_blocking(move || keychain.load()?.map(|t| EnvatoClient::new(cfg, t)).transpose())
            .await
            .map_err(|e| Error::internal(format!("A background task failed: {e}.")))?
    }

    pub async fn client_config(&self) -> Result<ClientConfig, Error> {
        Ok(ClientConfig::new(self.api.clone()?.as_str()))
    }
}
