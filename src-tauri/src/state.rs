//! The values Tauri manages for the commands: the workspace the window works on (this
//! computer's `Runtime`, or a KeyManager server through its admin API), the link to that server,
//! and the licensing server the seller may switch on here. A local runtime that fails to open
//! (say, a database from a newer KeyManager) does not crash the app: every command answers with
//! the open error, and the UI shows it.

use keymanager::envato::ApiBase;
use keymanager::remote::Remotes;
use keymanager::runtime::{Runtime, RuntimeOptions};
use keymanager::server::ServerStatus;
use keymanager::server::{RunningServer, ServeOptions};
use keymanager::workspace::{Link, Operation, RemoteWorkspace, Workspace, WorkspaceInfo};
use keymanager::{paths, time, Error, ErrorCode};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

/// The licensing server the app runs while it is open (Settings > Licensing server).
#[derive(Default)]
pub struct ServerSlot {
    pub running: Option<RunningServer>,
    pub problem: Option<Error>,
    pub public_key: Option<String>,
}

pub struct AppState {
    /// What the window works on (or the error that kept it from opening).
    workspace: RwLock<Result<Arc<Workspace>, Error>>,
    /// Whether the remote workspace's server answers (always up for this computer).
    pub link: Mutex<Link>,
    /// The data folder, known even when the runtime did not open.
    pub data_dir: Option<PathBuf>,
    pub server: tokio::sync::Mutex<ServerSlot>,
    /// The tasks that forward the workspace's events to the window; ended on a switch.
    pub followers: Mutex<Vec<tauri::async_runtime::JoinHandle<()>>>,
}

/// Opens this computer's runtime (store, keychain, sync and outbox workers, daily backups) on
/// Tauri's tokio runtime.
fn open_local(dir: &std::path::Path) -> Result<Workspace, Error> {
    // Envato, or the developer override from `KEYMANAGER_ENVATO_API_BASE` (this machine only).
    let options = RuntimeOptions::new(ApiBase::from_env()?);
    let _guard = tauri::async_runtime::handle().inner().enter();
    Ok(Workspace::Local(Arc::new(Runtime::open(dir, options, Arc::new(time::now))?)))
}

/// The workspace `name` (None: this computer) of the data folder `dir`.
fn open_workspace(dir: &std::path::Path, name: Option<&str>) -> Result<Workspace, Error> {
    match name {
        None => open_local(dir),
        Some(n) => Ok(Workspace::Remote(Box::new(RemoteWorkspace::open(dir, n)?))),
    }
}

impl AppState {
    /// Opens the workspace in use when the app last ran.
    pub fn open() -> AppState {
        let dir = paths::data_dir(std::env::var_os(paths::DATA_DIR_ENV).map(PathBuf::from));
        let workspace = dir.clone().and_then(|d| {
            let current = Remotes::load(&d)?.current;
            open_workspace(&d, current.as_deref()).map(Arc::new)
        });
        if let Err(err) = &workspace {
            tracing::error!(code = %err.code, message = %err.message, "cannot open KeyManager's data");
        }
        AppState {
            workspace: RwLock::new(workspace),
            link: Mutex::new(Link::up(time::now())),
            data_dir: dir.ok(),
            server: Default::default(),
            followers: Default::default(),
        }
    }

    /// The workspace in use.
    pub fn ws(&self) -> Result<Arc<Workspace>, Error> {
        self.workspace.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Runs `op` on the workspace in use: here, or on the server.
    pub async fn call<O: Operation>(&self, op: O) -> Result<O::Output, Error> {
        self.ws()?.call(op).await
    }

    /// This computer's runtime; in a remote workspace, the error that says the app's own
    /// background work is off (the server does it).
    pub fn runtime(&self) -> Result<Arc<Runtime>, Error> {
        self.ws()?.runtime().cloned().ok_or_else(|| {
            Error::new(
                ErrorCode::InputInvalid,
                "The window works on a server: this is done there (switch to “This computer” in Settings > Workspace).",
            )
        })
    }

    pub fn data_folder(&self) -> Result<PathBuf, Error> {
        self.data_dir.clone().ok_or_else(|| Error::internal("No data folder."))
    }

    /// The workspaces of this data folder, the one in use, its link and its kept changes.
    pub fn info(&self) -> Result<WorkspaceInfo, Error> {
        let dir = self.data_folder()?;
        let remotes = Remotes::load(&dir)?;
        let ws = self.ws();
        let unsent = match ws.as_ref().ok().and_then(|w| w.remote()) {
            Some(r) => r.unsent.list()?,
            None => Vec::new(),
        };
        let link = self.link.lock().unwrap_or_else(|p| p.into_inner()).clone();
        Ok(WorkspaceInfo { current: remotes.current, remotes: remotes.remotes, link, unsent })
    }

    /// Switches to the workspace `name` (None: this computer): the old one's background work
    /// ends (and the app's licensing server with a local one), the new one opens and is
    /// remembered for the next start.
    pub async fn switch(&self, name: Option<String>) -> Result<(), Error> {
        let dir = self.data_folder()?;
        // A remote that does not open (no token in the keychain) leaves the current one in use.
        let opened = if name.is_some() { Some(open_workspace(&dir, name.as_deref())?) } else { None };
        keymanager::remote::use_remote(&dir, name.as_deref())?;
        for task in self.followers.lock().unwrap_or_else(|p| p.into_inner()).drain(..) {
            task.abort();
        }
        {
            let mut slot = self.server.lock().await;
            if let Some(running) = slot.running.take() {
                running.stop().await;
            }
        }
        let old = std::mem::replace(
            &mut *self.workspace.write().unwrap_or_else(|p| p.into_inner()),
            Err(Error::internal("The workspace is being switched.")),
        );
        if let Ok(old) = old {
            old.shutdown();
        }
        let new = match opened {
            Some(w) => Ok(w),
            None => open_local(&dir),
        };
        *self.link.lock().unwrap_or_else(|p| p.into_inner()) = Link::up(time::now());
        *self.workspace.write().unwrap_or_else(|p| p.into_inner()) = new.map(Arc::new);
        Ok(())
    }
}

impl AppState {
    /// Starts (or restarts, with the current settings) or stops the licensing server, as the
    /// `server_enabled` setting says; a failure to start is kept as the status's problem. In a
    /// remote workspace the server is `keymanager serve` there, and none runs here.
    pub async fn apply_server_setting(&self) -> Result<ServerStatus, Error> {
        let Ok(runtime) = self.runtime() else {
            return self.server_status().await;
        };
        let settings = runtime.store().read(|s| s.settings()).await?;
        let mut slot = self.server.lock().await;
        if let Some(running) = slot.running.take() {
            running.stop().await;
        }
        slot.problem = None;
        if settings.server_enabled && !settings.archived_to.is_empty() {
            // An archive of a move to a server: the server answers the buyers now.
            slot.problem = Some(Error::new(ErrorCode::InputInvalid, settings.archived_to.clone()));
        } else if settings.server_enabled {
            match Self::start_server(&runtime, &settings).await {
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

    async fn start_server(
        runtime: &Runtime,
        settings: &keymanager::settings::Settings,
    ) -> Result<(RunningServer, String), Error> {
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

    pub async fn server_status(&self) -> Result<ServerStatus, Error> {
        let ws = self.ws()?;
        let settings = ws.call(keymanager::workspace::ops::SettingsGet {}).await?;
        if let Some(remote) = ws.remote() {
            // The workspace's server: what this device knows of it.
            let online = self.link.lock().unwrap_or_else(|p| p.into_inner()).online;
            return Ok(ServerStatus {
                enabled: true,
                running: online,
                address: Some(remote.remote.url.clone()),
                bind: settings.server_bind,
                public_url: settings.public_url,
                public_key: Some(remote.remote.public_key.clone()),
                requests_served: 0,
                last_errors: Vec::new(),
                problem: None,
            });
        }
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
