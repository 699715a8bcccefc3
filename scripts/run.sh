#!/usr/bin/env bash
# Installs what is missing, builds the UI and the app (with the UI embedded), and launches it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
(cd ui && npm run --silent build)
cargo build --workspace --features keymanager-app/custom-protocol
exec target/debug/keymanager-app "$@"
