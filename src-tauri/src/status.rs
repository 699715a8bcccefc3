//! Follows the sync worker's status: forwards each change to the window (`sync-status`
//! event), the tray (status line and tooltip, refreshed each minute so "5 min ago" stays
//! true), and native notifications for new sales and for failures.

use crate::tray::{self, TrayHandles};
use keymanager::sync::worker::SyncStatus;
use keymanager::time;
use std::sync::Arc;
use std::time::Duration;
use tauri::{AppHandle, Emitter};

pub const SYNC_STATUS_EVENT: &str = "sync-status";

/// "Last sync 5 min ago: 3 new licenses", or what stops syncing.
pub fn status_line(s: &SyncStatus, now: keymanager::time::Timestamp) -> String {
    if s.running && s.cancelling {
        return "Cancelling the sync after this page…".to_string();
    }
    if s.running {
        return match &s.progress {
            Some(p) => format!("Syncing… page {}, {} new licenses", p.pages_fetched, p.licenses_created),
            None => "Syncing…".to_string(),
        };
    }
    if s.needs_token {
        return "Not syncing: no Envato token".to_string();
    }
    if s.auth_failed {
        return "Not syncing: Envato rejected the token".to_string();
    }
    let last = match &s.last {
        Some(last) => {
            let ago = time::parse(&last.finished_at).map(|t| (now - t).num_minutes().max(0)).unwrap_or(0);
            let when = if ago == 0 {
                "just now".to_string()
            } else if ago < 120 {
                format!("{ago} min ago")
            } else {
                format!("{} h ago", ago / 60)
            };
            match &last.error {
                Some(_) => format!("Last sync {when} failed"),
                None => format!(
                    "Last sync {when}: {} new license{}",
                    last.licenses_created,
                    if last.licenses_created == 1 { "" } else { "s" }
                ),
            }
        }
        None => "Not synced yet".to_string(),
    };
    if s.paused {
        format!("Syncing paused. {last}")
    } else {
        last
    }
}

/// Tells the window and the tray a sync status (this computer's, or the server's).
pub fn show_sync_status(app: &AppHandle, tray: Option<&TrayHandles>, status: &SyncStatus) {
    tray::show(app, tray, status, &status_line(status, time::now()));
    let _ = app.emit(SYNC_STATUS_EVENT, status);
}

type Task = tauri::async_runtime::JoinHandle<()>;

pub fn spawn(app: AppHandle, mut rx: tokio::sync::watch::Receiver<SyncStatus>, tray: Option<Arc<TrayHandles>>) -> Task {
    tauri::async_runtime::spawn(async move {
        let mut notified_run = None;
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            let status = rx.borrow_and_update().clone();
            show_sync_status(&app, tray.as_deref(), &status);
            if let Some(last) = status.last.as_ref().filter(|l| Some(l.run_id) != notified_run && !status.running) {
                notified_run = Some(last.run_id);
                let body = match &last.error {
                    Some(e) => Some(("Envato sync failed".to_string(), e.message.clone())),
                    None if last.licenses_created > 0 => Some((
                        format!(
                            "{} new Envato sale{}",
                            last.licenses_created,
                            if last.licenses_created == 1 { "" } else { "s" }
                        ),
                        format!(
                            "{} license{} issued.",
                            last.licenses_created,
                            if last.licenses_created == 1 { "" } else { "s" }
                        ),
                    )),
                    None => None,
                };
                if let Some((title, text)) = body {
                    notify(&app, &title, &text);
                }
            }
            tokio::select! {
                changed = rx.changed() => if changed.is_err() { break },
                _ = tick.tick() => {}
            }
        }
    })
}

/// A destination that starts failing (or an endpoint disabled by 410) gets one native
/// notification; the store tells each once, not per message. (The window follows the outbox
/// through `db-changed`.)
pub fn spawn_outbox(app: AppHandle, mut rx: tokio::sync::watch::Receiver<keymanager::outbox::OutboxStatus>) -> Task {
    tauri::async_runtime::spawn(async move {
        while rx.changed().await.is_ok() {
            let status = rx.borrow_and_update().clone();
            for f in &status.newly_failing {
                let title = if f.disabled { "Webhook endpoint turned off" } else { "Delivery failing" };
                notify(&app, title, &format!("{}: {}", f.label, f.error));
            }
        }
    })
}

pub const RECHECK_PROGRESS_EVENT: &str = "recheck-progress";

/// The refund watch's progress, as it changes (the Licenses page follows it without asking).
pub fn spawn_recheck_progress(
    app: AppHandle,
    mut rx: tokio::sync::watch::Receiver<keymanager::refund_watch::RecheckProgress>,
) -> Task {
    tauri::async_runtime::spawn(async move {
        while rx.changed().await.is_ok() {
            let progress = rx.borrow_and_update().clone();
            let _ = app.emit(RECHECK_PROGRESS_EVENT, progress);
        }
    })
}

pub const DB_CHANGED_EVENT: &str = "db-changed";

/// Tells the window which tables commits changed (`db-changed`), gathered over 150 ms so a
/// sync's thousand commits are a few events; the window refetches what reads those tables.
pub fn spawn_db_changed(app: AppHandle, mut rx: tokio::sync::broadcast::Receiver<keymanager::store::Changed>) -> Task {
    tauri::async_runtime::spawn(async move {
        while let Some(changed) = keymanager::store::next_change(&mut rx, GATHER).await {
            let _ = app.emit(DB_CHANGED_EVENT, &changed);
        }
    })
}

/// How long changes are gathered into one `db-changed` (the window's refetches).
const GATHER: std::time::Duration = std::time::Duration::from_millis(150);

/// Shows a native notification; a click on it opens the window (on Linux, through the
/// notification's default action). No notification daemon (a bare X server) is not an error
/// worth more than a log line.
#[cfg(target_os = "linux")]
pub fn notify(app: &AppHandle, title: &str, body: &str) {
    // Notification servers read markup in the body: text from elsewhere is shown as text.
    let (app, title, body) = (app.clone(), title.to_string(), keymanager::text::notification_body(body));
    // The answer (a click, or the notification closing) is awaited on a thread of its own.
    let spawned = std::thread::Builder::new().name("notification".into()).spawn(move || {
        let shown = notify_rust::Notification::new()
            .appname("KeyManager")
            .summary(&title)
            .body(&body)
            .action("default", "Open KeyManager")
            .show();
        match shown {
            Ok(handle) => handle.wait_for_action(|action| {
                if action == "default" {
                    tracing::info!("notification clicked: opening the window");
                    let main = app.clone();
                    let _ = app.run_on_main_thread(move || crate::window::show(&main));
                }
            }),
            Err(e) => tracing::debug!(%e, "no notification shown"),
        }
    });
    if let Err(e) = spawned {
        tracing::debug!(%e, "no notification shown");
    }
}

#[cfg(not(target_os = "linux"))]
pub fn notify(app: &AppHandle, title: &str, body: &str) {
    use tauri_plugin_notification::NotificationExt;
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        tracing::debug!(%e, "no notification shown");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keymanager::store::SyncRunStatus;
    use keymanager::sync::SyncSummary;

    fn summary(finished_at: &str, licenses: u32) -> SyncSummary {
        SyncSummary {
            run_id: 1,
            status: SyncRunStatus::Succeeded,
            pages_fetched: 1,
            sales_seen: licenses,
            licenses_created: licenses,
            products_created: 0,
            sales_queued: 0,
            codes_attached: 0,
            finished_at: finished_at.into(),
            error: None,
            fetch_time: Duration::ZERO,
            apply_time: Duration::ZERO,
        }
    }

    #[test]
    fn status_lines() {
        let now = time::parse("2026-11-28T10:05:00Z").unwrap();
        let mut s = SyncStatus { last: Some(summary("2026-11-28T10:00:00Z", 3)), ..Default::default() };
        assert_eq!(status_line(&s, now), "Last sync 5 min ago: 3 new licenses");
        s.last = Some(summary("2026-11-28T10:05:00Z", 1));
        assert_eq!(status_line(&s, now), "Last sync just now: 1 new license");
        s.paused = true;
        assert_eq!(status_line(&s, now), "Syncing paused. Last sync just now: 1 new license");
        s.needs_token = true;
        assert_eq!(status_line(&s, now), "Not syncing: no Envato token");
        assert_eq!(status_line(&SyncStatus::default(), now), "Not synced yet");
        use crate::tray::TrayState;
        assert_eq!(TrayState::for_status(&SyncStatus::default()), TrayState::Normal);
        assert_eq!(TrayState::for_status(&SyncStatus { running: true, ..Default::default() }), TrayState::Syncing);
        assert_eq!(TrayState::for_status(&SyncStatus { auth_failed: true, ..Default::default() }), TrayState::Error);
        let cancelling = SyncStatus { running: true, cancelling: true, ..Default::default() };
        assert_eq!(status_line(&cancelling, now), "Cancelling the sync after this page…");
    }
}
