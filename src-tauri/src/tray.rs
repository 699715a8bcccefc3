//! The tray icon and its menu. Menu ids are a typed enum so a renamed item cannot silently
//! stop working.

use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TrayItem {
    Open,
    SyncNow,
    Quit,
}

impl TrayItem {
    const ALL: [TrayItem; 3] = [TrayItem::Open, TrayItem::SyncNow, TrayItem::Quit];

    fn id(self) -> &'static str {
        match self {
            TrayItem::Open => "open",
            TrayItem::SyncNow => "sync_now",
            TrayItem::Quit => "quit",
        }
    }

    fn from_id(id: &str) -> Option<TrayItem> {
        TrayItem::ALL.into_iter().find(|i| i.id() == id)
    }
}

pub fn show_main_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

pub fn build(app: &AppHandle) -> tauri::Result<()> {
    let open = MenuItem::with_id(app, TrayItem::Open.id(), "Open KeyManager", true, None::<&str>)?;
    // Disabled until the sync engine exists.
    let sync_now = MenuItem::with_id(app, TrayItem::SyncNow.id(), "Sync now", false, None::<&str>)?;
    let quit = MenuItem::with_id(app, TrayItem::Quit.id(), "Quit", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&open, &sync_now, &PredefinedMenuItem::separator(app)?, &quit])?;

    let mut builder = TrayIconBuilder::with_id("main")
        .tooltip("KeyManager")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| match TrayItem::from_id(event.id().as_ref()) {
            Some(TrayItem::Open) => show_main_window(app),
            Some(TrayItem::SyncNow) => {}
            Some(TrayItem::Quit) => app.exit(0),
            None => {}
        })
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click { button: MouseButton::Left, button_state: MouseButtonState::Up, .. } = event {
                show_main_window(tray.app_handle());
            }
        });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder.build(app)?;
    Ok(())
}
