//! KeyManager's desktop shell: Tauri setup, managed state, tray and window behaviour.
//! Everything with logic lives in the `keymanager` core crate; the commands in `commands.rs`
//! are one-line adapters onto it.

mod commands;
mod follow;
mod state;
mod status;
mod tray;
mod window;

use state::AppState;
use tauri::{Manager, WindowEvent};

/// The argument the login item starts the app with: straight into the tray, no window.
const MINIMIZED_ARG: &str = "--minimized";

/// Logs go to stderr and to `logs/keymanager.log` in the data folder (0600, rotated at 5 MB),
/// at the level KEYMANAGER_LOG asks for (default: info).
fn init_logging() {
    use tracing_subscriber::fmt::writer::MakeWriterExt;
    let filter = || tracing_subscriber::EnvFilter::try_from_env("KEYMANAGER_LOG").unwrap_or_else(|_| "info".into());
    let dir = keymanager::paths::data_dir(std::env::var_os(keymanager::paths::DATA_DIR_ENV).map(Into::into));
    match dir.and_then(|d| keymanager::private_files::open_log(&d, 5 * 1024 * 1024)) {
        Ok((file, path)) => {
            tracing_subscriber::fmt()
                .with_env_filter(filter())
                .with_writer(std::io::stderr.and(std::sync::Mutex::new(file)))
                .with_ansi(false)
                .init();
            tracing::info!(version = keymanager::VERSION, log = %path.display(), "KeyManager started");
        }
        Err(err) => {
            tracing_subscriber::fmt().with_env_filter(filter()).with_writer(std::io::stderr).init();
            tracing::warn!(code = %err.code, "no log file: {}", err.message);
        }
    }
}

pub fn run() {
    // No core dumps: a crash must not write secrets or buyers' data to disk.
    keymanager::process::harden();
    // The licensing server the app may run holds a descriptor per connection.
    keymanager::process::raise_open_files_limit();
    let started = std::time::Instant::now();
    init_logging();

    let app = tauri::Builder::default()
        // A second launch focuses the running instance instead of opening another window.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            window::show(app);
        }))
        .plugin(tauri_plugin_notification::init())
        // Starts at login when the seller switches it on (General), straight into the tray.
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec![MINIMIZED_ARG]),
        ))
        // The window's size and position, remembered between runs.
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .setup(move |app| {
            app.manage(window::WindowMemory::default());
            app.manage(AppState::open());
            // The licensing server runs while the app is open, when the seller switched it on.
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                let state = handle.state::<AppState>();
                if let Err(e) = state.apply_server_setting().await {
                    tracing::warn!(code = %e.code, "licensing server: {}", e.message);
                }
            });
            let handles = match tray::build(app.handle()) {
                Ok(h) => Some(std::sync::Arc::new(h)),
                Err(err) => {
                    // No tray host (a bare X server, some desktops): the window still works.
                    tracing::warn!(%err, "no tray icon");
                    None
                }
            };
            app.manage(follow::Tray(handles));
            // The window follows the workspace in use: its sync, outbox and commits, or the
            // server's change feed.
            follow::attach(app.handle());
            // Started at login: stay in the tray until the seller opens the window.
            if !std::env::args().any(|a| a == MINIMIZED_ARG) {
                window::show_asked_at(app.handle(), started);
            }
            Ok(())
        })
        .on_window_event(|window, event| {
            // Closing the window destroys it (and WebKit's processes with it); KeyManager keeps
            // running in the tray, and Quit is in the tray menu.
            if window.label() == window::MAIN {
                match event {
                    WindowEvent::CloseRequested { api, .. } => window::on_close_requested(window, api),
                    WindowEvent::Destroyed => window::on_destroyed(window.app_handle()),
                    _ => {}
                }
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::settings_get,
            commands::settings_update,
            commands::products_list,
            commands::product_create,
            commands::token_status,
            commands::token_validate,
            commands::envato_settings_save,
            commands::token_remove,
            commands::open_create_token_page,
            commands::sync_now,
            commands::sync_status,
            commands::sync_set_paused,
            commands::sync_runs,
            commands::review_queue,
            commands::review_create_product,
            commands::review_map,
            commands::lookup,
            commands::lookup_history,
            commands::licenses_page,
            commands::license_detail,
            commands::license_change_status,
            commands::license_regenerate_key,
            commands::license_free_slot,
            commands::marketplaces,
            commands::licenses_export,
            commands::product_update,
            commands::dashboard,
            commands::sites_classify,
            commands::product_updates_get,
            commands::product_updates_set,
            commands::releases_list,
            commands::release_add,
            commands::release_publish,
            commands::release_rollout,
            commands::release_yank,
            commands::release_remove,
            commands::release_rerelease,
            commands::release_edit,
            commands::update_snippet,
            commands::keychain_unlock,
            commands::server_status,
            commands::server_set_enabled,
            commands::ui_ready,
            commands::webhooks_list,
            commands::webhook_add,
            commands::webhook_update,
            commands::webhook_remove,
            commands::webhook_rotate_secret,
            commands::webhook_test,
            commands::deliveries,
            commands::delivery_replay,
            commands::email_set_password,
            commands::email_password_set,
            commands::email_send_test,
            commands::license_send_key,
            commands::license_update_details,
            commands::license_issue,
            commands::outbox_counts,
            commands::backups_list,
            commands::backup_now,
            commands::backup_restore,
            commands::product_mark_reviewed,
            commands::product_merge,
            commands::licenses_change_status,
            commands::sync_cancel,
            commands::autostart_get,
            commands::autostart_set,
            commands::recheck_start,
            commands::recheck_status,
            commands::recheck_cancel,
            commands::window_close,
            commands::ui_set_unsaved,
            commands::workspace_info,
            commands::workspace_use,
            commands::workspace_connect,
            commands::workspace_forget,
            commands::unsent_retry,
            commands::unsent_discard,
            commands::workspace_move,
            commands::workspace_pull_backup,
        ])
        .build(tauri::generate_context!());

    match app {
        Ok(app) => app.run(|_, event| {
            // The last window closing asks to exit (with no code); the tray keeps the app. An
            // exit with a code (Quit in the tray) goes ahead.
            if let tauri::RunEvent::ExitRequested { code: None, api, .. } = event {
                api.prevent_exit();
            }
        }),
        Err(err) => {
            eprintln!("KeyManager could not start: {err}");
            std::process::exit(1);
        }
    }
}
