#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian 12 / Ubuntu machine: installs only what is missing.
#   scripts/setup.sh          system packages to build and run the app, and the UI's npm packages
#   scripts/setup.sh --test   also what the tests need (Xvfb, keyring daemon, WebKitWebDriver, tauri-driver)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

build_pkgs=(libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev libssl-dev
  libxdo-dev libdbus-1-dev build-essential pkg-config file curl)
test_pkgs=(xvfb xauth webkit2gtk-driver gnome-keyring libsecret-tools keyutils dbus fonts-dejavu-core imagemagick psmisc php-cli python3-aiosmtpd python3-xlib python3-dbus python3-gi
  # Update delivery against a real WordPress (its MariaDB started by the test) and nginx beside
  # the server in `make bench`.
  wordpress mariadb-server php-mysql php-zip php-curl nginx-light
  # The server package's test installs it with dpkg (its postinst adds a system user).
  adduser)

pkgs=("${build_pkgs[@]}")
[ "$want_test" = 1 ] && pkgs+=("${test_pkgs[@]}")
# run-time needs of `make run` too: a display server is not installed, the desktop has one.
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: Rust is required (https://rustup.rs)"; exit 1
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "setup: Node.js 20+ with npm is required"; exit 1
fi

if [ "$want_test" = 1 ] && ! command -v tauri-driver >/dev/null 2>&1; then
  echo "setup: installing tauri-driver"
  cargo install tauri-driver --locked --version 2.1.0 -q
fi
if [ "$want_test" = 1 ] && ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "setup: installing cargo-fuzz"
  cargo install cargo-fuzz --locked --version 0.13.2 -q
fi

# UI packages: reinstall only when the lock file changed since the last install.
if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
  (cd ui && npm ci --no-audit --no-fund --loglevel=error)
fi
