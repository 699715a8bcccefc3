// The app's own commands get generated `allow-<command>` permissions; the capability in
// capabilities/default.json grants exactly these (a test keeps the three lists equal).
include!("commands.list");

fn main() {
    let attributes = tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(e) = tauri_build::try_build(attributes) {
        panic!("tauri build step failed: {e:#}");
    }
}
