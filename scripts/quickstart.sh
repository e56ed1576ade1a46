#!/usr/bin/env bash
# Builds stormbench and runs config/simple.yaml against a throwaway embedded PostgreSQL.
# On a fresh Debian/Ubuntu machine it installs the PostgreSQL server binaries first.
# Extra arguments go to stormbench, e.g.: scripts/quickstart.sh -d 60s --workers 16
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO=sudo; fi

have_server() {
    command -v initdb >/dev/null 2>&1 && return 0
    command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ] && return 0
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}
if ! have_server; then
    echo "== installing PostgreSQL server binaries (Debian package postgresql)"
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-contrib >/dev/null
fi
if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo not found: install a Rust toolchain (1.85 or newer), e.g. from rustup, then rerun" >&2
    exit 1
fi
if ! pkg-config --exists openssl 2>/dev/null; then
    echo "== installing pkg-config and libssl-dev (TLS support)"
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pkg-config libssl-dev >/dev/null
fi
echo "== building stormbench (release)"
cargo build --release --quiet
exec "${CARGO_TARGET_DIR:-target}/release/stormbench" --config config/simple.yaml "$@"
