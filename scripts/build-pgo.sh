#!/usr/bin/env bash
# Builds stormbench with profile-guided optimisation (PGO): an instrumented build runs a
# training set against a throwaway cluster of its own (simple read/write/mixed on both
# drivers at 1 to 256 connections, transient connections, TPC-C, a declarative workload,
# the no-op workload), and the profile it writes guides the final build's inlining and code
# layout. The client then spends less CPU per transaction (see the README's benchmark
# section for the figures); what it does is the same.
#
#   scripts/build-pgo.sh                   # -> target/pgo/stormbench
#   PGO_PGPORT=55442 scripts/build-pgo.sh  # another port for the training cluster
#
# Needs llvm-profdata of the toolchain's LLVM: `rustup component add llvm-tools` (tried
# here when it is missing). Takes two release builds and about two minutes of training.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PGO_PGPORT:-55441}
DATA=${PGO_PGDATA:-/tmp/stormbench-pgo-pg}
# checked here too (pg-test-cluster.sh checks it as well) to name the variable the user set
[[ $PORT =~ ^[0-9]+$ ]] && (( PORT > 0 && PORT < 65536 )) || {
    echo "PGO_PGPORT=$PORT is not a TCP port: give a free port number (1-65535)" >&2
    exit 2
}

host=$(rustc -vV | sed -n 's/^host: //p')
profdata() { ls "$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata" 2>/dev/null; }
if [[ -z $(profdata) ]]; then
    echo "== llvm-profdata missing: rustup component add llvm-tools"
    rustup component add llvm-tools >/dev/null 2>&1 || true
fi
PROFDATA=$(profdata) || {
    echo "llvm-profdata not found in the toolchain: install it with 'rustup component add llvm-tools'" >&2
    exit 2
}

TARGET_DIR=$(realpath -m "${CARGO_TARGET_DIR:-target}")
PGO=$TARGET_DIR/pgo
BUILD=$PGO/build
RAW=$PGO/raw
rm -rf "$RAW"
mkdir -p "$RAW"

# the training cluster (a data directory holding a cluster the scripts did not create
# ends the script here, before any build)
CLUSTER_ONLY=1
source scripts/bench-cluster.sh

echo "== instrumented build"
CARGO_TARGET_DIR=$BUILD RUSTFLAGS="-Cprofile-generate=$RAW" \
    cargo build --release --quiet --target "$host"
SB=$BUILD/$host/release/stormbench

DB=stormbench_pgo
"$STORMBENCH_TEST_PGBINDIR/psql" -h "$STORMBENCH_TEST_PGHOST" -p "$PORT" -U "$STORMBENCH_TEST_PGUSER" \
    -d postgres -qAtc "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
sb() { "$SB" --host "$STORMBENCH_TEST_PGHOST" --port "$PORT" -u "$STORMBENCH_TEST_PGUSER" --dbname $DB "$@"; }
# train WORKLOAD CONNECTIONS DRIVER SECONDS [more options]; the reports are written too
n=0
train() {
    local w=$1 c=$2 driver=$3 secs=$4
    shift 4
    n=$((n + 1))
    echo "   $w, $c connection(s), $driver, ${secs}s"
    sb -w "$w" --workers "$c" --connections "$c" --threads 2 --driver "$driver" -d "${secs}s" \
        --no-summary -q --json "$WORK/$n.json" --csv "$WORK/$n.csv" --html "$WORK/$n.html" \
        "$@" >/dev/null
}

echo "== training (profile in $RAW)"
for c in 1 16 64 256; do
    train simple_read "$c" wire 5 --scale 10 --setup
done
train simple_read 16 tokio-postgres 5 --scale 10
train simple_write 16 wire 5 --scale 10
train simple_mixed 64 wire 5 --scale 10
train connection_transient 4 wire 3 --setup
train tpcc 8 wire 10 --scale 1 --setup
train tpcc 8 tokio-postgres 5 --scale 1
train example_bank_mixed 16 wire 5 --setup
train noop 2 wire 2

"$PROFDATA" merge -o "$PGO/merged.profdata" "$RAW"

echo "== optimised build"
# functions the training never reached are built as usual (no warning for each)
CARGO_TARGET_DIR=$BUILD RUSTFLAGS="-Cprofile-use=$PGO/merged.profdata -Cllvm-args=-pgo-warn-missing-function=false" \
    cargo build --release --quiet --target "$host"
cp "$BUILD/$host/release/stormbench" "$PGO/stormbench"
echo "== $PGO/stormbench"
