//! Workspaces (issue 23): the data the window and the CLI work on is either this computer's
//! (`Workspace::Local`, a `Runtime` over the local database) or a KeyManager server's
//! (`Workspace::Remote`, its admin API). Every operation a page or a command performs is one
//! `Operation` (`ops.rs`): a typed request with its scope, run on a `Runtime`. Locally it runs
//! here; remotely it travels as JSON to `POST /admin/v1/op/{name}`, where the server runs the
//! same `Operation` on its own runtime (`dispatch`) and answers signed. No caller knows which.
//!
//! A change that cannot reach the server is not dropped: it is kept (`unsent.rs`) and offered
//! again, except one that carries a secret, which is refused instead (a secret is never written
//! to disk here).

pub mod ops;
pub mod pull;
pub mod unsent;

use crate::admin::Scope;
use crate::error::{Error, ErrorCode, Result};
use crate::remote::{Remote, RemoteClient};
use crate::runtime::Runtime;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One thing a page or a command does, the same on this computer and on a server.
pub trait Operation: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Its name on the wire (`/admin/v1/op/{NAME}`).
    const NAME: &'static str;
    /// Whether it changes data: audited on a server, kept when the server cannot be reached.
    const CHANGES: bool;
    /// Whether its request carries a secret (a token, a password): never kept on disk.
    const SECRET: bool = false;
    /// Whether it names a file of the machine it runs on, so only this computer may ask it (a
    /// device must not make a server read a path of its choosing).
    const LOCAL_ONLY: bool = false;
    type Output: Serialize + DeserializeOwned + Send + 'static;
    /// The scopes that may make this request (any one of them; the owner may do everything).
    fn scope(&self) -> &'static [Scope];
    /// Runs it on a runtime: this computer's, or the server's for a remote call.
    fn run(self, rt: &Runtime) -> impl Future<Output = Result<Self::Output>> + Send;
}

/// The server a remote workspace talks to, and where its kept edits live.
pub struct RemoteWorkspace {
    pub remote: Remote,
    pub client: RemoteClient,
    pub unsent: unsent::Unsent,
}

impl RemoteWorkspace {
    /// The remote `name` of `data_dir` (its token from the keychain).
    pub fn open(data_dir: &Path, name: &str) -> Result<RemoteWorkspace> {
        let remote = crate::remote::Remotes::load(data_dir)?.get(name)?.clone();
        let client = RemoteClient::for_remote(data_dir, &remote)?;
        let unsent = unsent::Unsent::new(data_dir, name);
        Ok(RemoteWorkspace { remote, client, unsent })
    }

    /// Sends `op` to the server; a change the server could not be reached for is kept.
    pub async fn call<O: Operation>(&self, op: O) -> Result<O::Output> {
        let body =
            serde_json::to_value(&op).map_err(|e| Error::internal(format!("Cannot encode {}: {e}.", O::NAME)))?;
        match self.client.op(O::NAME, &body).await {
            Err(e) if e.code == ErrorCode::RemoteUnreachable && O::CHANGES => {
                if O::SECRET {
                    return Err(Error::new(
                        ErrorCode::RemoteUnreachable,
                        format!(
                            "{} It was not kept (it carries a secret): enter it again once the server answers.",
                            e.message
                        ),
                    ));
                }
                let kept = self.unsent.keep(O::NAME, &body, crate::time::now())?;
                Err(Error::new(
                    ErrorCode::RemoteUnreachable,
                    format!(
                        "{} The change was kept ({}) and will be offered again when the server answers.",
                        e.message, kept.label
                    ),
                ))
            }
            other => other,
        }
    }

    /// Sends a release package on this computer to the server.
    pub async fn upload_release(
        &self,
        path: &Path,
        request: crate::updates::publish::AddRelease,
    ) -> Result<crate::updates::publish::Added> {
        let bytes = tokio::fs::read(path)
            .await
            .map_err(|e| Error::invalid_input(format!("Cannot read {}: {e}.", path.display())).with_field("file"))?;
        use base64::Engine as _;
        let package = base64::engine::general_purpose::STANDARD.encode(bytes);
        self.call(ops::ReleaseUpload { package, request }).await
    }

    /// Sends a kept change again; it is forgotten once the server took it (or refused it: the
    /// refusal is the answer).
    pub async fn retry(&self, id: &str) -> Result<serde_json::Value> {
        let kept = self.unsent.get(id)?;
        let answer = self.client.op::<serde_json::Value>(&kept.op, &kept.body).await;
        match &answer {
            Err(e) if e.code == ErrorCode::RemoteUnreachable => {}
            _ => self.unsent.discard(id)?,
        }
        answer
    }
}

/// The data this process works on.
pub enum Workspace {
    Local(Arc<Runtime>),
    Remote(Box<RemoteWorkspace>),
}

impl Workspace {
    /// Runs `op` here or on the server.
    pub async fn call<O: Operation>(&self, op: O) -> Result<O::Output> {
        match self {
            Workspace::Local(rt) => {
                // After a move to a server this computer's data is an archive: read, not changed
                // (its settings stay open, so the seller can make it live again).
                if O::CHANGES && O::NAME != ops::SettingsUpdate::NAME {
                    let archived = rt.store().read(|s| Ok(s.settings()?.archived_to)).await?;
                    if !archived.is_empty() {
                        return Err(Error::new(
                            ErrorCode::InputInvalid,
                            format!("{archived} Make the change on the server, or make this computer's data live again first."),
                        ));
                    }
                }
                op.run(rt).await
            }
            Workspace::Remote(r) => r.call(op).await,
        }
    }

    pub fn is_remote(&self) -> bool {
        matches!(self, Workspace::Remote(_))
    }

    pub fn runtime(&self) -> Option<&Arc<Runtime>> {
        match self {
            Workspace::Local(rt) => Some(rt),
            Workspace::Remote(_) => None,
        }
    }

    pub fn remote(&self) -> Option<&RemoteWorkspace> {
        match self {
            Workspace::Local(_) => None,
            Workspace::Remote(r) => Some(r),
        }
    }

    /// Looks a purchase code up; locally, data older than six hours is answered at once and
    /// `on_fresh` gets the refreshed answer (a server refreshes on its side, and its change feed
    /// tells the window).
    pub async fn lookup(
        &self,
        code: String,
        on_fresh: impl FnOnce(crate::lookup::LookupResult) + Send + 'static,
    ) -> Result<crate::lookup::LookupResult> {
        match self {
            Workspace::Local(rt) => rt.lookup(&code, on_fresh).await,
            Workspace::Remote(r) => r.call(ops::Lookup { code }).await,
        }
    }

    /// Adds a release from a zip on this computer: read here, sent to a server.
    pub async fn release_add(
        &self,
        path: PathBuf,
        request: crate::updates::publish::AddRelease,
    ) -> Result<crate::updates::publish::Added> {
        match self {
            Workspace::Local(rt) => ops::ReleaseAddFile { path: path.display().to_string(), request }.run(rt).await,
            Workspace::Remote(r) => r.upload_release(&path, request).await,
        }
    }

    /// Validates a typed token (nothing saved) or re-checks the stored one, telling each step.
    /// A server validates with its own connection to Envato; its steps arrive with the report.
    pub async fn token_validate(
        &self,
        token: Option<String>,
        on_step: &mut (dyn FnMut(&crate::account::ValidationStep) + Send),
    ) -> Result<crate::account::ValidationReport> {
        match self {
            Workspace::Local(rt) => ops::token_validate_local(rt, token, on_step).await,
            Workspace::Remote(r) => {
                let report = r.call(ops::TokenValidate { token }).await?;
                report.steps.iter().for_each(&mut *on_step);
                Ok(report)
            }
        }
    }

    /// Saves the Envato tab: a typed token only if it validates (on a server, it travels once,
    /// to the server's keychain or secrets folder, and never comes back), and the toggle.
    pub async fn envato_save(
        &self,
        token: Option<String>,
        auto_create_products: bool,
        on_step: &mut (dyn FnMut(&crate::account::ValidationStep) + Send),
    ) -> Result<crate::account::EnvatoSaveResult> {
        match self {
            Workspace::Local(rt) => ops::envato_save_local(rt, token, auto_create_products, on_step).await,
            Workspace::Remote(r) => {
                let result = r.call(ops::EnvatoSave { token, auto_create_products }).await?;
                if let Some(report) = &result.report {
                    report.steps.iter().for_each(&mut *on_step);
                }
                Ok(result)
            }
        }
    }

    /// Ends the local runtime's background tasks (a remote workspace has none here).
    pub fn shutdown(&self) {
        if let Workspace::Local(rt) = self {
            rt.shutdown();
        }
    }
}

/// Whether the workspace's server answers, as the window's banner shows it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ts_rs::TS)]
pub struct Link {
    pub online: bool,
    /// Since when it is so.
    pub since: String,
    /// Why the server cannot be reached (while offline).
    pub error: Option<Error>,
}

impl Link {
    pub fn up(now: crate::time::Timestamp) -> Link {
        Link { online: true, since: crate::time::to_db(now), error: None }
    }

    pub fn down(error: Error, now: crate::time::Timestamp) -> Link {
        Link { online: false, since: crate::time::to_db(now), error: Some(error) }
    }
}

/// The workspaces of this data folder, the one in use (None: this computer), whether its server
/// answers, and the changes kept while it did not.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ts_rs::TS)]
pub struct WorkspaceInfo {
    pub current: Option<String>,
    pub remotes: Vec<Remote>,
    pub link: Link,
    pub unsent: Vec<unsent::UnsentChange>,
}
