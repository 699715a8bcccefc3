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
# The static server build (scripts/package-server-musl.sh) has no OS keychain: it must compile.
cargo check -q -p keymanager-cli --no-default-features

# Formatting and lints first: a warning fails the run (make check runs the same).
cargo fmt --all --check
cargo clippy "${FEATURES[@]}" --all-targets -- -D warnings
# The UI's linter: TypeScript's recommended rules and every rule of React's hooks plugin.
(cd ui && npm run --silent lint)

rm -rf artifacts/e2e
echo "Screenshots of every page will be in artifacts/e2e/."

# A brief run of each fuzz target (make fuzz runs them for longer).
bash scripts/fuzz.sh "${FUZZ_SECONDS:-5}"

# Under Xvfb, in a private D-Bus session with an unlocked throw-away keyring.
xvfb-run -a -s "-screen 0 1280x800x24" bash scripts/in-session.sh bash -c '
  set -euo pipefail
  (cd ui && npx vitest run)
  # Unit and integration tests (the crates have no doc tests; benches run with make bench).
  log=$(mktemp)
  cargo test '"${FEATURES[*]}"' --lib --bins --tests 2>&1 | tee "$log"
  # One closing line with the totals of every test binary.
  awk "/^test result:/ { p += \$4; f += \$6 } END { printf \"tests: %d passed, %d failed\\n\", p, f }" "$log"
'
