//! The background sync worker: one task that syncs every `sync_interval_minutes` and when
//! asked ("Sync now"), one run at a time. A request that arrives while a run is going joins
//! that run. Paused syncing and a rejected token (401) stop the periodic runs, not the manual
//! ones; a failing run is logged and retried at the next tick, never ending the loop.
//! Observers (tray, window) watch `SyncStatus`.

use super::{run_sync, SyncOptions, SyncProgress, SyncSummary, MAX_PAGES};
use crate::envato::{ClientConfig, EnvatoClient};
use crate::error::{Error, Result};
use crate::keychain::Keychain;
use crate::store::SharedStore;
use crate::store::SyncTrigger;
use crate::time::to_db;
use crate::time::Clock;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, TS, serde::Deserialize)]
pub struct SyncStatus {
    pub running: bool,
    pub progress: Option<SyncProgress>,
    pub last: Option<SyncSummary>,
    pub last_success_at: Option<String>,
    pub paused: bool,
    /// No token is stored: nothing to sync with.
    pub needs_token: bool,
    /// Envato rejected the token: periodic syncing waits until a new token is saved.
    pub auth_failed: bool,
    pub next_run_at: Option<String>,
    /// Cancel was asked for the running sync: it stops after the page being applied.
    pub cancelling: bool,
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| Error::internal(format!("A background task failed: {e}.")))?
}

/// Where a process gets its Envato client: one client per credential for the whole process
/// (the sync worker, the licensing server, lookups), so the in-flight limit, the pacing and
/// the circuit hold across all of them. The credential is read at each use (a replaced token
/// takes effect) and the client is built again only when it changed. Both steps may block (the
/// keychain answers over D-Bus, building a client sets up TLS): they run on tokio's blocking pool.
#[derive(Clone)]
pub struct ClientSource {
    /// Whether a token is stored: the keychain's answer, with no HTTP client built.
    has_token: Arc<dyn Fn() -> Result<bool> + Send + Sync>,
    /// A client for the stored token, or None without one.
    client: Arc<dyn Fn() -> Result<Option<EnvatoClient>> + Send + Sync>,
}

/// The stored token (`load`), and the one client built for it, rebuilt when the token changes.
fn cached_client(
    load: impl Fn() -> Result<Option<crate::token::Token>> + Send + Sync + 'static,
    cfg: ClientConfig,
) -> impl Fn() -> Result<Option<EnvatoClient>> + Send + Sync + 'static {
    let cache: std::sync::Mutex<Option<EnvatoClient>> = std::sync::Mutex::new(None);
    move || {
        let Some(token) = load()? else { return Ok(None) };
        let mut cached = cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = cached.as_ref().filter(|c| c.is_for(&token)) {
            return Ok(Some(c.clone()));
        }
        let client = EnvatoClient::new(cfg.clone(), token)?;
        *cached = Some(client.clone());
        Ok(Some(client))
    }
}

impl ClientSource {
    /// The stored token of `keychain` (bound to its Envato origin), sent with `cfg`.
    pub fn keychain(keychain: Arc<Keychain>, cfg: ClientConfig) -> ClientSource {
        let k = keychain.clone();
        ClientSource {
            has_token: Arc::new(move || Ok(k.load()?.is_some())),
            client: Arc::new(cached_client(move || keychain.load(), cfg)),
        }
    }

    /// The token in a credential file (a server without a keychain: `KEYMANAGER_ENVATO_TOKEN_FILE`
    /// or systemd's `$CREDENTIALS_DIRECTORY/envato-token`), read at each use so a replaced file
    /// takes effect; a file others can read is refused.
    pub fn token_file(path: std::path::PathBuf, cfg: ClientConfig) -> ClientSource {
        let p = path.clone();
        ClientSource {
            // An empty file (the server package's placeholder) is no token.
            has_token: Arc::new(move || Ok(std::fs::metadata(&p).is_ok_and(|m| m.len() > 0))),
            client: Arc::new(cached_client(
                move || match crate::private_files::read_secret_file(&path)? {
                    None => Ok(None),
                    Some(text) => crate::token::Token::parse(&text).map(Some),
                },
                cfg,
            )),
        }
    }

    /// Where this profile's token is: a credential file when one is configured, else the keychain
    /// entry of `data_dir` for the Envato address in force.
    pub fn for_profile(data_dir: &std::path::Path, api: &crate::envato::ApiBase) -> Result<ClientSource> {
        let cfg = ClientConfig::new(api.as_str());
        // A server's secrets folder: the token set from the desktop there, else the credential.
        if std::env::var_os(crate::keychain::SECRETS_DIR_ENV).is_some_and(|v| !v.is_empty()) {
            return Ok(ClientSource::keychain(Arc::new(Keychain::for_data_dir(data_dir, api)?), cfg));
        }
        match crate::private_files::credential_file(crate::private_files::TOKEN_FILE_ENV, "envato-token") {
            Some(path) => Ok(ClientSource::token_file(path, cfg)),
            None => Ok(ClientSource::keychain(Arc::new(Keychain::for_data_dir(data_dir, api)?), cfg)),
        }
    }

    /// Any pair of functions (tests).
    pub fn from_fns(
        has_token: impl Fn() -> Result<bool> + Send + Sync + 'static,
        client: impl Fn() -> Result<Option<EnvatoClient>> + Send + Sync + 'static,
    ) -> ClientSource {
        ClientSource { has_token: Arc::new(has_token), client: Arc::new(client) }
    }

    async fn has_token(&self) -> Result<bool> {
        let f = self.has_token.clone();
        blocking(move || f()).await
    }

    /// The client for the stored token (built on the blocking pool the first time, and when the
    /// token changed), or None without a token.
    pub async fn client(&self) -> Result<Option<EnvatoClient>> {
        let f = self.client.clone();
        blocking(move || f()).await
    }

    /// The same, for a caller that is not async (the CLI's one-off commands).
    pub fn client_blocking(&self) -> Result<Option<EnvatoClient>> {
        (self.client)()
    }
}

enum Request {
    SyncNow,
    /// Re-read pause and token state into the status; no run.
    Refresh,
}

#[derive(Clone)]
pub struct SyncWorker {
    requests: mpsc::UnboundedSender<Request>,
    status: watch::Receiver<SyncStatus>,
    status_tx: Arc<watch::Sender<SyncStatus>>,
    cancel: Arc<AtomicBool>,
}

impl SyncWorker {
    /// Starts the worker on the current tokio runtime. The first scheduled run comes after
    /// `first_delay` (a few seconds after start-up), later ones every sync interval.
    pub fn spawn(store: SharedStore, clients: ClientSource, clock: Clock, first_delay: Duration) -> SyncWorker {
        let (requests, mut rx) = mpsc::unbounded_channel();
        let (status_tx, status) = watch::channel(SyncStatus::default());
        let status_tx = Arc::new(status_tx);
        let cancel = Arc::new(AtomicBool::new(false));
        let (status_out, cancel_out) = (status_tx.clone(), cancel.clone());
        tokio::spawn(async move {
            let mut next = tokio::time::Instant::now() + first_delay;
            loop {
                refresh(&store, &clients, &status_tx, Some(next), &clock).await;
                let trigger = tokio::select! {
                    _ = tokio::time::sleep_until(next) => SyncTrigger::Scheduled,
                    msg = rx.recv() => match msg {
                        Some(Request::SyncNow) => SyncTrigger::Manual,
                        Some(Request::Refresh) => continue,
                        None => break,
                    },
                };
                let (settings, state) = match store.read(|s| Ok((s.settings()?, s.sync_state()?))).await {
                    Ok(v) => v,
                    Err(e) => {
                        tracing::error!(code = %e.code, "sync worker cannot read the database");
                        next = tokio::time::Instant::now() + Duration::from_secs(60);
                        continue;
                    }
                };
                let interval = Duration::from_secs(settings.sync_interval_minutes as u64 * 60);
                if trigger == SyncTrigger::Scheduled {
                    next = tokio::time::Instant::now() + interval;
                    if state.paused || state.auth_failed {
                        continue;
                    }
                }
                let client = match clients.client().await {
                    Ok(Some(c)) => c,
                    Ok(None) => continue,
                    Err(e) => {
                        tracing::warn!(code = %e.code, "sync skipped: {}", e.message);
                        continue;
                    }
                };
                cancel.store(false, Ordering::SeqCst);
                status_tx.send_modify(|s| {
                    s.running = true;
                    s.cancelling = false;
                    s.progress = None;
                });
                let tx = status_tx.clone();
                let options = SyncOptions { trigger, max_pages: MAX_PAGES, cancel: Some(&cancel) };
                let result = run_sync(&store, &client, options, &*clock, &mut |p| {
                    tx.send_modify(|s| s.progress = Some(p.clone()));
                })
                .await;
                // "Sync now" requests made during the run are answered by it.
                // (Refresh requests need nothing more: the loop refreshes the status next.)
                while rx.try_recv().is_ok() {}
                status_tx.send_modify(|s| {
                    s.running = false;
                    s.cancelling = false;
                    match result {
                        Ok(summary) => s.last = Some(summary),
                        Err(e) => tracing::error!(code = %e.code, "sync could not run: {}", e.message),
                    }
                });
            }
        });
        SyncWorker { requests, status, status_tx: status_out, cancel: cancel_out }
    }

    /// Cancels the running sync: it stops after the page being applied and loses nothing; the
    /// next run completes it. Nothing happens when no sync runs.
    pub fn cancel(&self) -> bool {
        if !self.status.borrow().running {
            return false;
        }
        self.cancel.store(true, Ordering::SeqCst);
        self.status_tx.send_modify(|s| s.cancelling = true);
        true
    }

    /// "Sync now": runs at once, or joins the run in progress.
    pub fn sync_now(&self) {
        let _ = self.requests.send(Request::SyncNow);
    }

    pub fn status(&self) -> SyncStatus {
        self.status.borrow().clone()
    }

    pub fn subscribe(&self) -> watch::Receiver<SyncStatus> {
        self.status.clone()
    }

    /// Re-reads pause/token state into the status (after Pause, or after a token is saved).
    pub fn poke(&self) {
        let _ = self.requests.send(Request::Refresh);
    }
}

async fn refresh(
    store: &SharedStore,
    clients: &ClientSource,
    tx: &watch::Sender<SyncStatus>,
    next: Option<tokio::time::Instant>,
    clock: &Clock,
) {
    let Ok(state) = store.read(|s| s.sync_state()).await else { return };
    let needs_token = matches!(clients.has_token().await, Ok(false));
    let until_next = next.map(|n| n.saturating_duration_since(tokio::time::Instant::now()));
    let next_at = until_next.and_then(|d| chrono::Duration::from_std(d).ok()).map(|d| to_db(clock() + d));
    tx.send_modify(|s| {
        s.paused = state.paused;
        s.auth_failed = state.auth_failed;
        s.needs_token = needs_token;
        s.last_success_at = state.last_success_at.map(to_db);
        s.next_run_at = if state.paused || state.auth_failed || needs_token { None } else { next_at };
    });
}
