#!/usr/bin/env bash
# A statically linked `keymanager` (x86_64 musl) for servers that are not Debian or Ubuntu:
#   target/release/keymanager-<version>-x86_64-linux-musl.tar.gz
# holding the binary, the systemd unit for a copied binary (examples/server/keymanager.service),
# the Caddyfile and a README. Built without the OS keychain (no libdbus to link): every secret is
# a private file in KEYMANAGER_SECRETS_DIR (the unit sets it), or `secrets/` in the data folder.
# Installs what it needs when missing: musl-tools (apt) and the Rust target (rustup).
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=x86_64-unknown-linux-musl
if ! command -v musl-gcc >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends musl-tools >/dev/null
fi
rustup target list --installed | grep -qx "$TARGET" || rustup target add "$TARGET"
CC_x86_64_unknown_linux_musl=musl-gcc cargo build --release -p keymanager-cli --no-default-features --target "$TARGET"
bin="target/$TARGET/release/keymanager"
# Static, or it is not what this tarball promises.
if file "$bin" | grep -q "dynamically linked"; then
  echo "package-server-musl: $bin is not statically linked" >&2
  exit 1
fi
version=$("$bin" --version | awk '{print $2}')
out="target/release/keymanager-$version-x86_64-linux-musl"
rm -rf "$out" && mkdir -p "$out"
install -m 755 "$bin" "$out/keymanager"
install -m 644 examples/server/keymanager.service examples/server/Caddyfile "$out/"
cat > "$out/README" <<'TXT'
KeyManager server, statically linked (any x86_64 Linux with systemd)

  sudo install -m 755 keymanager /usr/local/bin/keymanager
  sudo install -d -m 700 /etc/keymanager
  sudo keymanager keys init --file /etc/keymanager/signing-key && sudo chmod 600 /etc/keymanager/signing-key
  sudo install -m 600 /dev/null /etc/keymanager/envato-token     # or paste the token into it
  sudo install -m 644 keymanager.service /etc/systemd/system/ && sudo systemctl enable --now keymanager

This build has no OS keychain: secrets (the token set from the desktop, webhook secrets, the
SMTP password) are private files in KEYMANAGER_SECRETS_DIR, which the unit sets. Put https in
front of it (Caddyfile), then pair the desktop: keymanager admin pair (on the server).
TXT
tar -C target/release -czf "$out.tar.gz" "$(basename "$out")"
ls -l "$out.tar.gz"
