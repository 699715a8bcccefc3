//! The values Tauri manages for the commands: the store (opened once at setup), the keychain
//! entry of this data folder, the sync worker, and the folder itself. A store that fails to open
//! (say, a database from a newer KeyManager) does not crash the app: every command answers with
//! the open error, and the UI shows it.

use keymanager::api::http::{RunningServer, ServeOptions};
use keymanager::api::{signing, LicensingService, ServerStatus};
use keymanager::envato::{ApiBase, ClientConfig, EnvatoClient};
use keymanager::keychain::Keychain;
use keymanager::outbox::{Deliverer, OutboxWorker};
use keymanager::secrets::Secrets;
use keymanager::sync::worker::{ClientSource, SyncWorker};
use keymanager::sync::SharedStore;
use keymanager::verify::Verifier;
use keymanager::{paths, time, Error, Store};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The licensing server the app runs while it is open (Settings > Licensing server).
#[derive(Default)]
pub struct ServerSlot {
    pub running: Option<RunningServer>,
    pub problem: Option<Error>,
    pub public_key: Option<String>,
}

pub struct AppState {
    store: Result<SharedStore, Error>,
    keychain: Result<Arc<Keychain>, Error>,
    pub worker: Option<SyncWorker>,
    /// The one way this process asks Envato about purchase codes (the window's lookups and the
    /// licensing server share its client, single flight, caches and budgets).
    pub verifier: Option<Verifier>,
    pub data_dir: Option<PathBuf>,
    /// Envato, or the developer override from `KEYMANAGER_ENVATO_API_BASE` (this machine only).
    pub api: Result<ApiBase, Error>,
    pub server: tokio::sync::Mutex<ServerSlot>,
    /// The seller's webhook secrets and SMTP password (keychain).
    pub secrets: Option<Secrets>,
    /// Webhooks and e-mails: delivered in the background while the app runs.
    pub deliverer: Option<Arc<Deliverer>>,
    pub outbox: Option<OutboxWorker>,
    /// The refund watch in progress (or last run), and its cancel flag.
    pub recheck: Arc<std::sync::Mutex<keymanager::refund_watch::RecheckProgress>>,
    pub recheck_cancel: Arc<std::sync::atomic::AtomicBool>,
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
        // One Envato client for the whole process: the sync, the lookups and the server.
        let clients = match (&keychain, &api) {
            (Ok(keychain), Ok(api)) => Some(ClientSource::keychain(keychain.clone(), ClientConfig::new(api.as_str()))),
            _ => None,
        };
        let worker = match (&store, &clients) {
            (Ok(store), Some(clients)) => {
                let _guard = tauri::async_runtime::handle().inner().enter();
                Some(SyncWorker::spawn(store.clone(), clients.clone(), Arc::new(time::now), Duration::from_secs(5)))
            }
            _ => None,
        };
        let verifier = match (&store, clients) {
            (Ok(store), Some(clients)) => Some(Verifier::new(store.clone(), clients)),
            _ => None,
        };
        let secrets = dir.as_ref().ok().map(|d| Secrets::for_data_dir(d));
        let deliverer = match (&store, &secrets) {
            (Ok(store), Some(secrets)) => {
                Deliverer::new(store.clone(), secrets.clone(), Arc::new(time::now)).ok().map(Arc::new)
            }
            _ => None,
        };
        let outbox = deliverer.clone().map(|d| {
            let _guard = tauri::async_runtime::handle().inner().enter();
            OutboxWorker::spawn(d, Duration::from_secs(5))
        });
        AppState {
            store,
            keychain,
            worker,
            verifier,
            data_dir: dir.ok(),
            api,
            server: Default::default(),
            secrets,
            deliverer,
            outbox,
            recheck: Default::default(),
            recheck_cancel: Default::default(),
        }
    }

    pub fn secrets(&self) -> Result<Secrets, Error> {
        match (&self.secrets, &self.store) {
            (Some(s), _) => Ok(s.clone()),
            (None, Err(e)) => Err(e.clone()),
            (None, Ok(_)) => Err(Error::internal("No data folder.")),
        }
    }

    pub fn deliverer(&self) -> Result<Arc<Deliverer>, Error> {
        match (&self.deliverer, &self.store) {
            (Some(d), _) => Ok(d.clone()),
            (None, Err(e)) => Err(e.clone()),
            (None, Ok(_)) => Err(Error::internal("Delivery is not running.")),
        }
    }

    /// Runs `f` with the store and the secrets on a blocking thread (the keychain blocks on D-Bus).
    pub async fn with_store_and_secrets<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store, &Secrets) -> Result<T, Error> + Send + 'static,
    {
        let secrets = self.secrets()?;
        self.with_store(move |s| f(s, &secrets)).await
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

    /// The process's client for the stored token, with interactive limits (fail in seconds), or
    /// None without one.
    pub async fn envato_client(&self) -> Result<Option<EnvatoClient>, Error> {
        Ok(self.verifier()?.client().await?.map(|c| c.interactive()))
    }

    pub fn verifier(&self) -> Result<&Verifier, Error> {
        match (&self.verifier, &self.store, &self.keychain, &self.api) {
            (Some(v), _, _, _) => Ok(v),
            (None, Err(e), _, _) | (None, _, Err(e), _) | (None, _, _, Err(e)) => Err(e.clone()),
            (None, Ok(_), Ok(_), Ok(_)) => Err(Error::internal("Envato is not set up.")),
        }
    }

    pub async fn client_config(&self) -> Result<ClientConfig, Error> {
        Ok(ClientConfig::new(self.api.clone()?.as_str()))
    }
}

impl AppState {
    /// Starts (or restarts, with the current settings) or stops the licensing server, as the
    /// `server_enabled` setting says; a failure to start is kept as the status's problem.
    pub async fn apply_server_setting(&self) -> Result<ServerStatus, Error> {
        let settings = self.with_reader(|s| s.settings()).await?;
        let mut slot = self.server.lock().await;
        if let Some(running) = slot.running.take() {
            running.stop().await;
        }
        slot.problem = None;
        if settings.server_enabled {
            match self.start_server(&settings).await {
                Ok((running, public_key)) => {
                    slot.running = Some(running);
                    slot.public_key = Some(public_key);
                }
                Err(e) => {
                    tracing::warn!(code = %e.code, "the licensing server did not start: {}", e.message);
                    slot.problem = Some(e);
                }
            }
        }
        drop(slot);
        self.server_status().await
    }

    async fn start_server(&self, settings: &keymanager::settings::Settings) -> Result<(RunningServer, String), Error> {
        let dir = self.data_dir.clone().ok_or_else(|| Error::internal("No data folder."))?;
        let signer = tauri::async_runtime::spawn_blocking(move || signing::SignerCell::load(&dir))
            .await
            .map_err(|e| Error::internal(format!("A background task failed: {e}.")))??;
        let public_key = signer.current().public_key();
        let store = self.shared_store()?;
        let service = LicensingService::new(store.clone(), Some(self.verifier()?.clone()), Arc::new(signer));
        // A tunnel or reverse proxy on this machine names the client (Settings > Licensing server).
        let options = ServeOptions::from_settings(settings, settings.trusted_proxy_list());
        let running =
            RunningServer::start(&settings.server_bind, service, store, Arc::new(time::now), &options).await?;
        Ok((running, public_key))
    }

    /// The data folder (release packages live in it).
    pub fn data_folder(&self) -> Result<PathBuf, Error> {
        self.data_dir.clone().ok_or_else(|| Error::internal("No data folder."))
    }

    /// Runs `f` with the writer and the data folder (releases: rows and package files together).
    pub async fn with_store_in_folder<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store, &std::path::Path) -> Result<T, Error> + Send + 'static,
    {
        let dir = self.data_folder()?;
        self.with_store(move |s| f(s, &dir)).await
    }

    /// The update snippet of a product: this server's public address and signing key.
    pub async fn update_snippet(&self, product_id: i64) -> Result<keymanager::updates::snippet::Snippet, Error> {
        let dir = self.data_folder()?;
        let key = tauri::async_runtime::spawn_blocking(move || signing::SignerCell::load(&dir))
            .await
            .map_err(|e| Error::internal(format!("A background task failed: {e}.")))??
            .current()
            .public_key();
        self.with_reader(move |s| keymanager::updates::snippet::for_product(s, product_id, &key)).await
    }

    pub async fn server_status(&self) -> Result<ServerStatus, Error> {
        let settings = self.with_reader(|s| s.settings()).await?;
        let slot = self.server.lock().await;
        Ok(ServerStatus {
            enabled: settings.server_enabled,
            running: slot.running.is_some(),
            address: slot.running.as_ref().map(|r| format!("http://{}", r.address)),
            bind: settings.server_bind,
            public_url: settings.public_url,
            public_key: slot.public_key.clone(),
            requests_served: slot.running.as_ref().map(|r| r.monitor.served()).unwrap_or(0),
            last_errors: slot.running.as_ref().map(|r| r.monitor.recent_errors()).unwrap_or_default(),
            problem: slot.problem.clone(),
        })
    }
}
