//! Follows the workspace in use and tells the window: for this computer, the runtime's sync
//! status, outbox, commits and refund watch (status.rs); for a server, its signed change feed
//! (`/admin/v1/changes`) as the same `db-changed` events, its sync status after each change, and
//! whether it answers (`workspace-changed`, the banner). A feed that breaks is retried, sooner
//! first, and a server that answers again is read again in full.

use crate::commands::emit_workspace;
use crate::state::AppState;
use crate::status;
use crate::tray::TrayHandles;
use keymanager::store::DbChanged;
use keymanager::workspace::{ops, Link};
use keymanager::{time, Error, ErrorCode};
use std::sync::Arc;
use std::time::Duration;
use tauri::{AppHandle, Emitter, Manager};

/// The tray's handles, shared by whichever follower runs.
#[derive(Default)]
pub struct Tray(pub Option<Arc<TrayHandles>>);

/// Starts the followers of the workspace in use (the previous ones were ended by the switch).
pub fn attach(app: &AppHandle) {
    let state = app.state::<AppState>();
    let tray = app.try_state::<Tray>().and_then(|t| t.0.clone());
    let mut tasks = Vec::new();
    match state.ws() {
        Ok(ws) => match ws.runtime() {
            Some(rt) => {
                tasks.push(status::spawn(app.clone(), rt.sync().subscribe(), tray));
                tasks.push(status::spawn_outbox(app.clone(), rt.outbox().subscribe()));
                tasks.push(status::spawn_db_changed(app.clone(), rt.store().changes()));
                tasks.push(status::spawn_recheck_progress(app.clone(), rt.refund_watch().subscribe()));
            }
            None => tasks.push(tauri::async_runtime::spawn(follow_remote(app.clone(), tray))),
        },
        Err(e) => tracing::warn!(code = %e.code, "no workspace to follow: {}", e.message),
    }
    state.followers.lock().unwrap_or_else(|p| p.into_inner()).extend(tasks);
    emit_workspace(app);
    // Every page reads again from the workspace now in use.
    let _ = app.emit(status::DB_CHANGED_EVENT, DbChanged { tables: Vec::new(), all: true });
}

fn set_link(app: &AppHandle, link: Link) {
    let state = app.state::<AppState>();
    let changed = {
        let mut l = state.link.lock().unwrap_or_else(|p| p.into_inner());
        let changed = l.online != link.online || l.error != link.error;
        if changed {
            *l = link;
        }
        changed
    };
    if changed {
        emit_workspace(app);
    }
}

/// The server's sync status, to the window and the tray.
async fn tell_sync_status(app: &AppHandle, tray: Option<&TrayHandles>) {
    if let Ok(status) = app.state::<AppState>().call(ops::SyncStatusGet {}).await {
        status::show_sync_status(app, tray, &status);
    }
}

/// How long the retries wait: 1 s, then twice as long each time, at most 15 s.
fn next_wait(wait: Duration) -> Duration {
    (wait * 2).min(Duration::from_secs(15))
}

async fn follow_remote(app: AppHandle, tray: Option<Arc<TrayHandles>>) {
    let mut wait = Duration::from_secs(1);
    loop {
        let Ok(ws) = app.state::<AppState>().ws() else { return };
        let Some(remote) = ws.remote() else { return };
        let opened = std::sync::atomic::AtomicBool::new(false);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<DbChanged>();
        let feed = remote.client.follow_changes(
            || {
                opened.store(true, std::sync::atomic::Ordering::Relaxed);
                let _ = tx.send(DbChanged { tables: Vec::new(), all: true });
            },
            |changed| tx.send(changed).is_ok(),
        );
        // The feed's events are told as they come; the feed itself runs until it breaks.
        let teller = async {
            while let Some(changed) = rx.recv().await {
                if changed.all {
                    set_link(&app, Link::up(time::now()));
                    wait = Duration::from_secs(1);
                    pull_if_due(&app).await;
                }
                let _ = app.emit(status::DB_CHANGED_EVENT, &changed);
                tell_sync_status(&app, tray.as_deref()).await;
            }
        };
        let daily = async {
            loop {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                pull_if_due(&app).await;
            }
        };
        let ended = tokio::select! {
            r = feed => r,
            () = teller => Ok(()),
            () = daily => Ok(()),
        };
        let error = ended.err().unwrap_or_else(|| {
            Error::new(
                ErrorCode::RemoteUnreachable,
                format!("The server at {} closed its change feed.", remote.remote.url),
            )
        });
        drop(ws);
        tracing::info!(code = %error.code, "the server's change feed stopped: {}", error.message);
        set_link(&app, Link::down(error, time::now()));
        tokio::time::sleep(wait).await;
        wait = next_wait(wait);
    }
}

/// The daily pull of the server's backup to this computer (the off-site copy): when the newest
/// pulled one is a day old or there is none, once the server answers.
async fn pull_if_due(app: &AppHandle) {
    let state = app.state::<AppState>();
    let (Ok(ws), Ok(dir)) = (state.ws(), state.data_folder()) else { return };
    let Some(remote) = ws.remote() else { return };
    if !keymanager::workspace::pull::pull_due(&dir, &remote.remote.name, time::now()) {
        return;
    }
    match keymanager::workspace::pull::pull_daily(&remote.client, &dir, &remote.remote.name, time::now()).await {
        Ok(f) => tracing::info!(bytes = f.size_bytes, "pulled the server's daily backup"),
        Err(e) => tracing::warn!(code = %e.code, "the server's daily backup was not pulled: {}", e.message),
    }
}
