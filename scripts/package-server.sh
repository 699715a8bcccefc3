#!/usr/bin/env bash
# Builds the server package: target/release/keymanager-server_<version>_amd64.deb with the
# `keymanager` binary, the systemd unit (the dedicated user `keymanager`, /var/lib/keymanager,
# credentials in /etc/keymanager) and the three commands from a fresh VPS to a running server.
#   scripts/package-server.sh [BINARY] [OUTDIR]   (default: a release build, target/release)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-}"
out="${2:-target/release}"
if [ -z "$bin" ]; then
    cargo build --release -p keymanager-cli
    bin=target/release/keymanager
fi
version=$(sed -n 's/^version = "\(.*\)"/\1/p' crates/keymanager-cli/Cargo.toml | head -1)
version=${version:-$(grep -m1 '^version' Cargo.toml | sed 's/.*"\(.*\)".*/\1/')}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
install -D -m 0755 "$bin" "$stage/usr/bin/keymanager"
install -D -m 0644 packaging/server/keymanager.service "$stage/lib/systemd/system/keymanager.service"
install -D -m 0644 packaging/server/README "$stage/usr/share/doc/keymanager-server/README"
install -d "$stage/DEBIAN"
for f in postinst prerm postrm; do install -m 0755 "packaging/server/$f" "$stage/DEBIAN/$f"; done
size=$(du -sk "$stage/usr" "$stage/lib" | awk '{s+=$1} END {print s}')
cat > "$stage/DEBIAN/control" <<CONTROL
Package: keymanager-server
Version: $version
Architecture: amd64
Maintainer: KeyManager <keymanager@localhost>
Installed-Size: $size
Depends: libc6, libdbus-1-3, adduser
Conflicts: key-manager
Section: net
Priority: optional
Homepage: https://github.com/keymanager
Description: KeyManager licensing server for Envato Market sellers
 keymanager serve: the signed licensing API, the buyer page, update delivery, webhooks and
 e-mail, and the admin API the desktop app administers it through; as a systemd service
 under its own user.
CONTROL
mkdir -p "$out"
deb="$out/keymanager-server_${version}_amd64.deb"
dpkg-deb --root-owner-group --build "$stage" "$deb" >/dev/null
echo "$deb"
