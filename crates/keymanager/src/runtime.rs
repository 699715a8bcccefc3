//! The one composition root of every long-running KeyManager process: the desktop app and
//! `keymanager serve` open the same `Runtime` over a data folder. It owns the store, where the
//! Envato token is (keychain or credential file), the secrets, the one Envato verifier, and every
//! background task (the sync worker, the outbox worker, the daily backup, the refund watch);
//! `shutdown` ends them all. What differs between the two processes stays in their shells: the
//! app adds its window, tray and server switch; `serve` adds the HTTP listener.

use crate::api::LicensingService;
use crate::envato::ApiBase;
use crate::error::{Error, Result};
use crate::keychain::Keychain;
use crate::outbox::{Deliverer, OutboxWorker};
use crate::refund_watch::{RecheckProgress, RefundWatch};
use crate::secrets::Secrets;
use crate::signing;
use crate::store::SharedStore;
use crate::store::Store;
use crate::sync::worker::{ClientSource, SyncWorker};
use crate::time::Clock;
use crate::verify::Verifier;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How a runtime is opened.
#[derive(Clone)]
pub struct RuntimeOptions {
    /// Envato, or the developer override (checked by `ApiBase`).
    pub api: ApiBase,
    /// Where the token is read; None: the profile's (a credential file when one is named, else
    /// the keychain entry of this data folder and Envato address).
    pub clients: Option<ClientSource>,
    /// The first scheduled sync and the outbox's fallback poll wait this long.
    pub first_sync_after: Duration,
    pub outbox_poll: Duration,
    /// Take the daily automatic backup while the process runs.
    pub daily_backups: bool,
}

impl RuntimeOptions {
    pub fn new(api: ApiBase) -> RuntimeOptions {
        RuntimeOptions {
            api,
            clients: None,
            first_sync_after: Duration::from_secs(5),
            outbox_poll: Duration::from_secs(5),
            daily_backups: true,
        }
    }
}

/// Everything a running KeyManager process holds. Open it inside a tokio runtime.
pub struct Runtime {
    data_dir: PathBuf,
    api: ApiBase,
    store: SharedStore,
    secrets: Secrets,
    clients: ClientSource,
    verifier: Verifier,
    sync: SyncWorker,
    deliverer: Arc<Deliverer>,
    outbox: OutboxWorker,
    refund_watch: RefundWatch,
    backups: Option<tokio::task::JoinHandle<()>>,
    clock: Clock,
}

impl Runtime {
    /// Opens the database in `data_dir` (migrating it) and starts the background tasks.
    pub fn open(data_dir: &Path, options: RuntimeOptions, clock: Clock) -> Result<Runtime> {
        let store = SharedStore::new(Store::open_in_dir(data_dir)?);
        Runtime::with_store(store, data_dir, options, clock)
    }

    /// `open` over a store already opened (the CLI's context, tests).
    pub fn with_store(store: SharedStore, data_dir: &Path, options: RuntimeOptions, clock: Clock) -> Result<Runtime> {
        let clients = match options.clients {
            Some(c) => c,
            None => ClientSource::for_profile(data_dir, &options.api)?,
        };
        let secrets = Secrets::for_data_dir(data_dir);
        let verifier = Verifier::new(store.clone(), clients.clone());
        let sync = SyncWorker::spawn(store.clone(), clients.clone(), clock.clone(), options.first_sync_after);
        let deliverer = Arc::new(Deliverer::new(store.clone(), secrets.clone(), clock.clone())?);
        let outbox = OutboxWorker::spawn(deliverer.clone(), options.outbox_poll);
        let backups = options
            .daily_backups
            .then(|| crate::backup::spawn_daily(store.clone(), data_dir.to_path_buf(), clock.clone()));
        let refund_watch = RefundWatch::new(store.clone(), clock.clone());
        Ok(Runtime {
            data_dir: data_dir.to_path_buf(),
            api: options.api,
            store,
            secrets,
            clients,
            verifier,
            sync,
            deliverer,
            outbox,
            refund_watch,
            backups,
            clock,
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Envato, or the developer override this process was opened with.
    pub fn api(&self) -> &ApiBase {
        &self.api
    }

    pub fn store(&self) -> &SharedStore {
        &self.store
    }

    /// The keychain entry of the Envato token for this data folder and Envato address.
    pub fn keychain(&self) -> Result<Keychain> {
        Keychain::for_data_dir(&self.data_dir, &self.api)
    }

    /// Webhook secrets and the SMTP password.
    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    pub fn clients(&self) -> &ClientSource {
        &self.clients
    }

    /// The one way this process asks Envato about purchase codes (lookups and the licensing
    /// server share its client, single flight, caches and budgets).
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    pub fn sync(&self) -> &SyncWorker {
        &self.sync
    }

    pub fn deliverer(&self) -> &Arc<Deliverer> {
        &self.deliverer
    }

    pub fn outbox(&self) -> &OutboxWorker {
        &self.outbox
    }

    pub fn refund_watch(&self) -> &RefundWatch {
        &self.refund_watch
    }

    pub fn clock(&self) -> Clock {
        self.clock.clone()
    }

    /// The time by this runtime's clock.
    pub fn now(&self) -> crate::time::Timestamp {
        (self.clock)()
    }

    /// Starts the refund watch (one product's codes, or all) with the stored token's client
    /// (interactive limits); `account.not_configured` without a token.
    pub async fn start_refund_watch(&self, product_id: Option<i64>) -> Result<RecheckProgress> {
        let client = self.verifier.client().await?.ok_or_else(crate::account::not_configured)?;
        Ok(self.refund_watch.start(client.interactive(), product_id))
    }

    /// Looks a purchase code up (Envato is asked only for codes the data does not hold, with
    /// interactive limits). Data older than six hours is answered at once and refreshed in the
    /// background; `on_fresh` gets the fresh answer.
    pub async fn lookup(
        &self,
        code: &str,
        on_fresh: impl FnOnce(crate::lookup::LookupResult) + Send + 'static,
    ) -> Result<crate::lookup::LookupResult> {
        let client = self.verifier.client().await?.map(|c| c.interactive());
        let verifier = client.as_ref().map(|_| &self.verifier);
        let result = crate::lookup::lookup(&self.store, verifier, code, (self.clock)()).await?;
        if let (true, Some(client)) = (result.stale, client) {
            let (store, stale, now) = (self.store.clone(), result.clone(), (self.clock)());
            tokio::spawn(async move {
                match crate::lookup::refresh_if_stale(&store, Some(&client), stale, now).await {
                    (fresh, None) => on_fresh(fresh),
                    (_, Some(e)) => tracing::warn!(code = %e.code, "background refresh failed"),
                }
            });
        }
        Ok(result)
    }

    /// The backup folder and its automatic backups, newest first.
    pub async fn backups(&self) -> Result<crate::backup::BackupList> {
        let data_dir = self.data_dir.clone();
        self.store
            .read(move |s| {
                let dir = crate::backup::folder(&s.settings()?.backup_folder, &data_dir);
                Ok(crate::backup::BackupList { folder: dir.display().to_string(), files: crate::backup::list(&dir)? })
            })
            .await
    }

    /// "Back up now": a consistent copy into the backup folder (a sync may run meanwhile).
    pub async fn backup_now(&self) -> Result<crate::backup::BackupFile> {
        let (data_dir, now) = (self.data_dir.clone(), (self.clock)());
        self.store
            .read(move |s| {
                let dir = crate::backup::folder(&s.settings()?.backup_folder, &data_dir);
                crate::backup::backup_now(s, &dir, now)
            })
            .await
    }

    /// "Restore": the file checked, the current data kept aside, then replaced in one step.
    pub async fn restore(&self, from: PathBuf) -> Result<crate::backup::RestoreReport> {
        let (data_dir, now) = (self.data_dir.clone(), (self.clock)());
        self.store
            .run(move |s| {
                let dir = crate::backup::folder(&s.settings()?.backup_folder, &data_dir);
                crate::backup::restore(s, &dir, &from, now)
            })
            .await
    }

    /// The signing key in force (keychain, or a credential file on a server), read on the
    /// blocking pool.
    pub async fn signer(&self) -> Result<signing::SignerCell> {
        let dir = self.data_dir.clone();
        tokio::task::spawn_blocking(move || signing::SignerCell::load(&dir))
            .await
            .map_err(|e| Error::internal(format!("A background task failed: {e}.")))?
    }

    /// The licensing service over this runtime's data, signing with `signer`.
    pub fn licensing(&self, signer: Arc<signing::SignerCell>) -> LicensingService {
        LicensingService::new(self.store.clone(), Some(self.verifier.clone()), signer)
    }

    /// Ends every background task: a running sync and refund watch are cancelled (they lose
    /// nothing) and the daily backup stops waiting; the workers' loops end once the runtime is dropped.
    pub fn shutdown(&self) {
        self.sync.cancel();
        self.refund_watch.cancel();
        if let Some(b) = &self.backups {
            b.abort();
        }
    }
}
