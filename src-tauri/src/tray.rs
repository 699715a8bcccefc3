//! The tray icon and its menu. Menu ids are a typed enum so a renamed item cannot silently
//! stop working. The tray does not poll: `status.rs` pushes each sync status change here.

use crate::state::AppState;
use keymanager::sync::worker::SyncStatus;
use keymanager::workspace::ops;
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Wry};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TrayItem {
    Open,
    SyncNow,
    Status,
    Cancel,
    Pause,
    Quit,
}

impl TrayItem {
    const ALL: [TrayItem; 6] =
        [TrayItem::Open, TrayItem::SyncNow, TrayItem::Status, TrayItem::Cancel, TrayItem::Pause, TrayItem::Quit];

    fn id(self) -> &'static str {
        match self {
            TrayItem::Open => "open",
            TrayItem::SyncNow => "sync_now",
            TrayItem::Status => "status",
            TrayItem::Cancel => "cancel_sync",
            TrayItem::Pause => "pause",
            TrayItem::Quit => "quit",
        }
    }

    fn from_id(id: &str) -> Option<TrayItem> {
        TrayItem::ALL.into_iter().find(|i| i.id() == id)
    }
}

/// The menu items whose text and state follow the sync status.
pub struct TrayHandles {
    status: MenuItem<Wry>,
    pause: CheckMenuItem<Wry>,
    sync_now: MenuItem<Wry>,
    cancel: MenuItem<Wry>,
    /// The icon shown now, so it is replaced only when the state changes.
    icon: std::sync::Mutex<TrayState>,
}

/// What the tray icon says: all is well, a sync is running, or syncing needs the seller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayState {
    Normal,
    Syncing,
    Error,
}

impl TrayState {
    pub fn for_status(s: &SyncStatus) -> TrayState {
        if s.running {
            TrayState::Syncing
        } else if s.auth_failed || s.last.as_ref().is_some_and(|l| l.error.is_some()) {
            TrayState::Error
        } else {
            TrayState::Normal
        }
    }
}

/// The badged icons, as raw 64x64 RGBA (icons/tray-*.png, converted by ImageMagick: no PNG
/// decoder needed at run time).
const SYNCING_RGBA: &[u8] = include_bytes!("../../icons/tray-syncing.rgba");
const ERROR_RGBA: &[u8] = include_bytes!("../../icons/tray-error.rgba");

fn toggle_pause(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let state = app.state::<AppState>();
        let paused = state.call(ops::SyncStatusGet {}).await.map(|s| s.paused).unwrap_or(false);
        if let Err(e) = state.call(ops::SyncSetPaused { paused: !paused }).await {
            tracing::warn!(code = %e.code, "cannot change pause");
        }
    });
}

/// A tray item's operation, on the workspace in use (here, or the server).
fn run_in_background<O: keymanager::workspace::Operation>(app: &AppHandle, op: O) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        if let Err(e) = app.state::<AppState>().call(op).await {
            tracing::warn!(code = %e.code, "tray: {}", e.message);
        }
    });
}

pub fn build(app: &AppHandle) -> tauri::Result<TrayHandles> {
    let open = MenuItem::with_id(app, TrayItem::Open.id(), "Open KeyManager", true, None::<&str>)?;
    let sync_now = MenuItem::with_id(app, TrayItem::SyncNow.id(), "Sync now", true, None::<&str>)?;
    let status = MenuItem::with_id(app, TrayItem::Status.id(), "Not synced yet", false, None::<&str>)?;
    let cancel = MenuItem::with_id(app, TrayItem::Cancel.id(), "Cancel sync", false, None::<&str>)?;
    let pause = CheckMenuItem::with_id(app, TrayItem::Pause.id(), "Pause syncing", true, false, None::<&str>)?;
    let quit = MenuItem::with_id(app, TrayItem::Quit.id(), "Quit", true, None::<&str>)?;
    let sep = || PredefinedMenuItem::separator(app);
    let menu = Menu::with_items(app, &[&open, &sep()?, &status, &sync_now, &cancel, &pause, &sep()?, &quit])?;

    let mut builder = TrayIconBuilder::with_id("main")
        .tooltip("KeyManager")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| match TrayItem::from_id(event.id().as_ref()) {
            Some(TrayItem::Open) => crate::window::show(app),
            Some(TrayItem::SyncNow) => run_in_background(app, ops::SyncNow {}),
            Some(TrayItem::Cancel) => run_in_background(app, ops::SyncCancel {}),
            Some(TrayItem::Pause) => toggle_pause(app),
            Some(TrayItem::Quit) => app.exit(0),
            Some(TrayItem::Status) | None => {}
        })
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click { button: MouseButton::Left, button_state: MouseButtonState::Up, .. } = event {
                crate::window::show(tray.app_handle());
            }
        });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder.build(app)?;
    Ok(TrayHandles { status, pause, sync_now, cancel, icon: std::sync::Mutex::new(TrayState::Normal) })
}

/// Shows a status in the tray: the status line, the tooltip, the pause check and "Sync now".
pub fn show(app: &AppHandle, handles: Option<&TrayHandles>, status: &SyncStatus, line: &str) {
    if let Some(tray) = app.tray_by_id("main") {
        let _ = tray.set_tooltip(Some(format!("KeyManager: {line}")));
    }
    if let Some(h) = handles {
        let want = TrayState::for_status(status);
        let mut shown = h.icon.lock().unwrap_or_else(|p| p.into_inner());
        if *shown != want {
            let image = match want {
                TrayState::Syncing => Some(tauri::image::Image::new(SYNCING_RGBA, 64, 64)),
                TrayState::Error => Some(tauri::image::Image::new(ERROR_RGBA, 64, 64)),
                TrayState::Normal => app.default_window_icon().cloned(),
            };
            if let (Some(tray), Some(image)) = (app.tray_by_id("main"), image) {
                if tray.set_icon(Some(image)).is_ok() {
                    *shown = want;
                }
            }
        }
        drop(shown);
        let _ = h.status.set_text(line);
        let _ = h.pause.set_checked(status.paused);
        let _ = h.sync_now.set_enabled(!status.running && !status.needs_token);
        let _ = h.cancel.set_enabled(status.running && !status.cancelling);
    }
}
