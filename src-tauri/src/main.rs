// Hides the console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // KeyManager is forms and tables: WebKitGTK's GPU compositing buys nothing here and costs
    // about 85 MB in the web process (measured by `make bench`). Respect a user's own choice.
    #[cfg(target_os = "linux")]
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none() {
        // Set before any thread or GTK starts.
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
    keymanager_app_lib::run();
}
