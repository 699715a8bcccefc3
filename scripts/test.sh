#!/usr/bin/env bash
# Runs every test: Rust unit and integration tests (core, CLI), UI unit tests (Vitest), and the
# end-to-end tests that drive the real app window through tauri-driver and WebKitWebDriver,
# all under Xvfb with a private D-Bus session and an unlocked throw-away keyring.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh --test

FEATURES=(--workspace --features keymanager-app/custom-protocol)
# The app embeds ui/dist at compile time, and the UI build needs the committed bindings.
(cd ui && npm run --silent build)
cargo build "${FEATURES[@]}"

rm -rf artifacts/e2e
echo "Screenshots of every page will be in artifacts/e2e/."

# A brief run of each fuzz target (make fuzz runs them for longer).
bash scripts/fuzz.sh "${FUZZ_SECONDS:-5}"

xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- bash -c '
  set -euo pipefail
  export XDG_DATA_HOME="$(mktemp -d)" NO_AT_BRIDGE=1
  printf "ci-keyring-pass" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  gnome-keyring-daemon --start --components=secrets >/dev/null
  (cd ui && npx vitest run)
  # Last, so the run ends with cargo test's summary.
  keyctl session - cargo test '"${FEATURES[*]}"'
'
