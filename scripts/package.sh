#!/usr/bin/env bash
# Builds the release app and an installable .deb (icons, desktop entry, and the `keymanager` CLI in
# /usr/bin) into target/release/bundle/deb/, then the server package (scripts/package-server.sh)
# into target/release/.
# An AppImage is not built: its tooling downloads a helper at build time, which fails offline.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
(cd ui && npm run --silent build)
# The CLI goes into the desktop package too (tauri.conf.json: bundle.linux.deb.files).
cargo build --release -p keymanager-cli
export TAURI_APP_PATH=src-tauri TAURI_FRONTEND_PATH=ui
ui/node_modules/.bin/tauri build --bundles deb --config '{"build":{"beforeBuildCommand":""}}'
ls -l target/release/bundle/deb/*.deb
bash scripts/package-server.sh target/release/keymanager target/release
bash scripts/package-server-musl.sh
