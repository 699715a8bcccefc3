//! The main window's life: built when the seller opens it, destroyed when they close it.
//!
//! A hidden window would keep WebKit's web process (about 190 MB) alive all day in the tray, so
//! closing the window destroys it; the app keeps running in the tray and syncing. "Open" in the
//! tray, a tray click, a second launch or a notification click builds it again from the window
//! config, on the page the seller left (the UI keeps its page in the URL's fragment, read here
//! just before the close). After the close, WebKit's network process is ended and the memory the
//! window used goes back to the system (`on_destroyed`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tauri::{AppHandle, Emitter, Manager, WebviewUrl, WebviewWindow, WebviewWindowBuilder};

pub const MAIN: &str = "main";

/// What the window remembers between a close and the next open, for this run of the app.
#[derive(Default)]
pub struct WindowMemory {
    /// The UI's page (the URL fragment, such as `licenses`), read when the window closed.
    page: Mutex<Option<String>>,
    /// When the window was last asked for, for the "first paint" figure (see `commands::ui_ready`).
    opened: Mutex<Option<Instant>>,
    /// The UI holds edits that are not saved: a close asks the seller first.
    unsaved: AtomicBool,
}

/// The event that tells the UI a close waits for its answer about unsaved edits.
pub const CLOSE_BLOCKED_EVENT: &str = "close-blocked";

impl WindowMemory {
    pub fn set_unsaved(&self, unsaved: bool) {
        self.unsaved.store(unsaved, Ordering::SeqCst);
    }

    /// How long ago the window was asked for, once: the next paint is the one it waited for.
    pub fn take_open_time(&self) -> Option<Duration> {
        self.opened.lock().unwrap_or_else(|p| p.into_inner()).take().map(|t| t.elapsed())
    }
}

/// A page name as the UI writes it in the fragment: lowercase letters and dashes only, so a
/// fragment never smuggles anything else into the next window's URL (or the log).
pub fn page_name(text: &str) -> Option<&str> {
    let page = text.trim_start_matches('/');
    let ok = !page.is_empty() && page.len() <= 32 && page.bytes().all(|b| b.is_ascii_lowercase() || b == b'-');
    ok.then_some(page)
}

fn page_from_fragment(fragment: Option<&str>) -> Option<String> {
    page_name(fragment?).map(str::to_string)
}

/// Shows the main window: brings back the one that exists, or builds a new one on the page the
/// seller left.
pub fn show(app: &AppHandle) {
    show_asked_at(app, Instant::now())
}

/// Like `show`, timing the first paint from `asked` (the process start, for the first window).
pub fn show_asked_at(app: &AppHandle, asked: Instant) {
    if let Some(window) = app.get_webview_window(MAIN) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
        return;
    }
    if let Err(err) = build(app, asked) {
        tracing::error!(%err, "cannot open the window");
    }
}

fn build(app: &AppHandle, asked: Instant) -> tauri::Result<WebviewWindow> {
    let memory = app.state::<WindowMemory>();
    memory.set_unsaved(false);
    *memory.opened.lock().unwrap_or_else(|p| p.into_inner()) = Some(asked);
    let page = memory.page.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let Some(mut config) = app.config().app.windows.iter().find(|w| w.label == MAIN).cloned() else {
        return Err(tauri::Error::WindowNotFound);
    };
    if let Some(page) = page {
        config.url = WebviewUrl::App(format!("index.html#{page}").into());
    }
    let window = WebviewWindowBuilder::from_config(app, &config)?.build()?;
    let _ = window.set_focus();
    tracing::info!("window opened");
    Ok(window)
}

/// The seller closed the window. With unsaved edits the close waits for the UI's question
/// (Discard and close, or Keep editing); otherwise the page is remembered and the window is
/// destroyed after this.
pub fn on_close_requested(window: &tauri::Window, api: &tauri::CloseRequestApi) {
    if window.state::<WindowMemory>().unsaved.load(Ordering::SeqCst) {
        api.prevent_close();
        let _ = window.emit(CLOSE_BLOCKED_EVENT, ());
        return;
    }
    let Some(webview) = window.app_handle().get_webview_window(window.label()) else { return };
    if let Ok(url) = webview.url() {
        let page = page_from_fragment(url.fragment());
        *window.state::<WindowMemory>().page.lock().unwrap_or_else(|p| p.into_inner()) = page;
    }
}

/// The window is gone. Once WebKit has let go of it: end WebKit's network process (it outlives
/// the last web view; WebKit starts a new one with the next window), hand the freed heap back to
/// the system, and let the kernel drop the resident code the window needed. A window opened again
/// in the meantime is left alone.
pub fn on_destroyed(app: &AppHandle) {
    tracing::info!("window closed; KeyManager keeps running in the tray");
    let app = app.clone();
    std::thread::spawn(move || {
        for (step, wait) in [2, 10].into_iter().enumerate() {
            std::thread::sleep(Duration::from_secs(wait));
            // Checked and done on the main thread, where windows are built, so a window opened
            // meanwhile cannot lose its network process.
            let (tx, rx) = std::sync::mpsc::channel();
            let main = app.clone();
            let asked = app.run_on_main_thread(move || {
                let idle = main.get_webview_window(MAIN).is_none();
                if idle && step == 0 {
                    let ended = keymanager::process::terminate_children_named(NETWORK_PROCESS);
                    tracing::debug!(ended, "WebKit network process ended");
                }
                let _ = tx.send(idle);
            });
            if asked.is_err() || rx.recv() != Ok(true) {
                return;
            }
            let trimmed = keymanager::process::release_freed_memory();
            let paged = keymanager::process::page_out_code();
            tracing::debug!(trimmed, paged_out_mb = paged >> 20, "memory handed back while in the tray");
        }
    });
}

/// WebKit's network process as Linux names it (15 bytes).
const NETWORK_PROCESS: &str = "WebKitNetworkPr";

#[cfg(test)]
mod tests {
    use super::page_from_fragment;

    #[test]
    fn only_a_page_name_is_remembered() {
        assert_eq!(page_from_fragment(Some("licenses")).as_deref(), Some("licenses"));
        assert_eq!(page_from_fragment(Some("/sync-log")).as_deref(), Some("sync-log"));
        assert_eq!(page_from_fragment(None), None);
        assert_eq!(page_from_fragment(Some("")), None);
        assert_eq!(page_from_fragment(Some("x\";alert(1)//")), None);
        assert_eq!(page_from_fragment(Some("Licenses")), None);
        assert_eq!(page_from_fragment(Some(&"a".repeat(33))), None);
    }
}
