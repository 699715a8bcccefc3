//! The values Tauri manages for the commands: the core's `Runtime` (store, keychain, secrets,
//! sync and outbox workers, daily backups, refund watch), opened once at setup, and the licensing
//! server the seller switches on. A runtime that fails to open (say, a database from a newer
//! KeyManager) does not crash the app: every command answers with the open error, and the UI
//! shows it.

use keymanager::envato::{ApiBase, ClientConfig};
use keymanager::keychain::Keychain;
use keymanager::outbox::Deliverer;
use keymanager::runtime::{Runtime, RuntimeOptions};
use keymanager::secrets::Secrets;
use keymanager::server::ServerStatus;
use keymanager::server::{RunningServer, ServeOptions};
use keymanager::store::SharedStore;
use keymanager::sync::worker::SyncWorker;
use keymanager::{paths, time, Error, Store};
use std::path::PathBuf;
use std::sync::Arc;

/// The licensing server the app runs while it is open (Settings > Licensing server).
#[derive(Default)]
pub struct ServerSlot {
    pub running: Option<RunningServer>,
    pub problem: Option<Error>,
    pub public_key: Option<String>,
}

pub struct AppState {
    /// Everything the app runs in the background, from the core's one composition root (or
    /// the error that kept it from opening: every command answers with it, and the UI shows it).
    runtime: Result<Runtime, Error>,
    /// The data folder, known even when the runtime did not open.
    pub data_dir: Option<PathBuf>,
    pub server: tokio::sync::Mutex<ServerSlot>,
}

impl AppState {
    /// Opens the runtime (store, keychain, sync and outbox workers, daily backups) on Tauri's
    /// tokio runtime.
    pub fn open() -> AppState {
        let dir = paths::data_dir(std::env::var_os(paths::DATA_DIR_ENV).map(PathBuf::from));
        let runtime = dir.clone().and_then(|d| {
            // Envato, or the developer override from `KEYMANAGER_ENVATO_API_BASE` (this machine only).
            let options = RuntimeOptions::new(ApiBase::from_env()?);
            let _guard = tauri::async_runtime::handle().inner().enter();
            Runtime::open(&d, options, Arc::new(time::now))
        });
        if let Err(err) = &runtime {
            tracing::error!(code = %err.code, message = %err.message, "cannot open KeyManager's data");
        }
        AppState { runtime, data_dir: dir.ok(), server: Default::default() }
    }

    pub fn runtime(&self) -> Result<&Runtime, Error> {
        self.runtime.as_ref().map_err(Clone::clone)
    }

    pub fn secrets(&self) -> Result<Secrets, Error> {
        Ok(self.runtime()?.secrets().clone())
    }

    pub fn deliverer(&self) -> Result<Arc<Deliverer>, Error> {
        Ok(self.runtime()?.deliverer().clone())
    }

    /// Envato, or the developer override.
    pub fn api(&self) -> Result<ApiBase, Error> {
        Ok(self.runtime()?.api().clone())
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
        self.runtime()?.keychain().map(Arc::new)
    }

    pub fn worker(&self) -> Result<&SyncWorker, Error> {
        Ok(self.runtime()?.sync())
    }

    /// Runs `f` with the store on a blocking thread: rusqlite never runs on the async runtime.
    pub async fn with_store<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, Error> + Send + 'static,
    {
        self.runtime()?.store().run(f).await
    }

    /// Runs `f` with a read-only connection on a blocking thread: reads never wait for a write.
    pub async fn with_reader<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, Error> + Send + 'static,
    {
        self.runtime()?.store().read(f).await
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
        Ok(self.runtime()?.store().clone())
    }

    pub async fn client_config(&self) -> Result<ClientConfig, Error> {
        Ok(ClientConfig::new(self.api()?.as_str()))
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
        let runtime = self.runtime()?;
        let signer = runtime.signer().await?;
        let public_key = signer.current().public_key();
        let store = runtime.store().clone();
        let service = runtime.licensing(Arc::new(signer));
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
        let key = self.runtime()?.signer().await?.current().public_key();
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
