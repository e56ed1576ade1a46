#!/usr/bin/env bash
# Runs the whole test suite on a Debian/Ubuntu machine with a Rust toolchain:
# installs missing system packages, checks formatting and lints, starts the
# throwaway PostgreSQL test cluster, runs all tests, and stops the cluster.
#
# Usage: scripts/test.sh
# Honours CARGO_TARGET_DIR and the STORMBENCH_TEST_* settings of
# scripts/pg-test-cluster.sh.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

CLUSTER=scripts/pg-test-cluster.sh
CLUSTER_STARTED=0

section() { printf '\n==== %s ====\n' "$*"; }
die() {
    printf 'test.sh: error: %s\n' "$*" >&2
    exit 1
}
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"



install_system_packages() {
    local missing=()
    # `env` succeeds only when the server binaries are found.
    "$CLUSTER" env >/dev/null 2>&1 || missing+=(postgresql postgresql-contrib)
    command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
    if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists openssl; then
        missing+=(libssl-dev)
    fi
    command -v cc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    command -v python3 >/dev/null 2>&1 || missing+=(python3 python3-venv)
    command -v openssl >/dev/null 2>&1 || missing+=(openssl)
    if ((${#missing[@]})); then
        apt_install "${missing[@]}"
    else
        echo "all system packages present"
    fi
}

require_rust_tools() {
    if ! command -v cargo >/dev/null 2>&1 && [[ -x "$HOME/.cargo/bin/cargo" ]]; then
        PATH="$HOME/.cargo/bin:$PATH"
    fi
    command -v cargo >/dev/null 2>&1 || die "cargo not found; install a Rust toolchain (rustup)"
    local component
    for component in rustfmt clippy; do
        if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
            rustup component add "$component" || die "could not install the $component component"
        fi
    done
    cargo --version
    echo "target dir: ${CARGO_TARGET_DIR:-target}"
}

stop_cluster() {
    if ((CLUSTER_STARTED)); then
        section "stopping the test cluster"
        "$CLUSTER" stop || true
    fi
}

start_cluster() {
    if "$CLUSTER" status >/dev/null 2>&1; then
        echo "test cluster already running; it stays running afterwards"
    else
        CLUSTER_STARTED=1
    fi
    trap stop_cluster EXIT
    "$CLUSTER" start
    local env_lines
    env_lines="$("$CLUSTER" env)"
    eval "$env_lines"
    printf '%s\n' "$env_lines"
}

main() {
    section "system packages"
    install_system_packages
    section "rust toolchain"
    require_rust_tools
    section "cargo fmt --check"
    cargo fmt --all -- --check
    section "cargo clippy"
    cargo clippy --all-targets -- -D warnings
    cargo clippy --test soak_ten_minutes --test job_suite -- -D warnings
    section "PostgreSQL test cluster"
    start_cluster
    section "PostgreSQL 16 and 18 binaries"
    scripts/pg-extra-versions.sh install
    eval "$(scripts/pg-extra-versions.sh env)"
    scripts/pg-extra-versions.sh env
    local status=0
    section "deployment files (Kubernetes manifests, compose file, dashboard)"
    bash scripts/validate-deploy.sh || status=$?
    section "cargo test"
    cargo test --all-targets --no-run
    cargo test --test soak_ten_minutes --no-run
    # the ten-minute soak runs beside the other targets, so it adds little to the wall time
    local soak_log soak_pid soak_status=0
    soak_log=$(mktemp)
    cargo test --test soak_ten_minutes -- --nocapture >"$soak_log" 2>&1 &
    soak_pid=$!
    cargo test --all-targets || status=$?
    section "cargo test --test soak_ten_minutes (ten minutes at a high rate)"
    wait "$soak_pid" || soak_status=$?
    cat "$soak_log"
    rm -f "$soak_log"
    ((soak_status == 0)) || status=$soak_status
    section "result"
    if ((status == 0)); then
        echo "all tests passed"
    else
        echo "tests failed (exit status $status)"
    fi
    return "$status"
}

main "$@"
