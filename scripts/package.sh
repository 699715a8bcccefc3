#!/usr/bin/env bash
# Builds the release app and an installable .deb (icons, desktop entry) into target/release/bundle/deb/.
# An AppImage is not built: its tooling downloads a helper at build time, which fails offline.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
(cd ui && npm run --silent build)
export TAURI_APP_PATH=src-tauri TAURI_FRONTEND_PATH=ui
ui/node_modules/.bin/tauri build --bundles deb --config '{"build":{"beforeBuildCommand":""}}'
ls -l target/release/bundle/deb/*.deb
