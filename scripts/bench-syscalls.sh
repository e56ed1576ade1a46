#!/usr/bin/env bash
# Where a client's cycles go, counted per transaction beside pgbench: system calls (all,
# and the ones that move bytes or wait), context switches (each one a thread that slept
# and was woken) and heap allocations (malloc calls, through a uprobe on libc), for
# pgbench -S -M prepared and stormbench simple_read on one cluster, at several connection
# counts. Counted by `perf stat` over the whole client process, so start-up and shutdown are
# included; runs are long enough (DURATION) for them not to matter.
#
#   scripts/bench-syscalls.sh                    # 16, 64 and 256 connections, 10 s each
#   CLIENTS="64" DURATION=20 scripts/bench-syscalls.sh
#
# Needs perf with the syscalls tracepoints (linux-perf); allocation counts need permission
# to add a uprobe (root), and are left out otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

SCALE=${SCALE:-10}
DURATION=${DURATION:-10}
CLIENTS=${CLIENTS:-"16 64 256"}
THREADS=${THREADS:-2}
PORT=${BENCH_PGPORT:-55439}
DATA=${BENCH_PGDATA:-/tmp/stormbench-bench-pg}

if ! command -v perf >/dev/null 2>&1; then
    echo "perf is not installed: apt-get install linux-perf" >&2
    exit 1
fi
source scripts/bench-pgbench-setup.sh

LIBC=$(ldd "$SB" | awk '/libc\.so/{print $3}')
EVENTS=raw_syscalls:sys_enter,context-switches
for s in sendto recvfrom read write writev epoll_wait epoll_pwait poll ppoll futex; do
    EVENTS+=",syscalls:sys_enter_$s"
done
perf probe -q -d probe_libc:malloc >/dev/null 2>&1 || true
if perf probe -q -x "$LIBC" malloc >/dev/null 2>&1; then
    EVENTS+=",probe_libc:malloc"
    trap 'perf probe -q -d probe_libc:malloc >/dev/null 2>&1 || true; bash scripts/pg-test-cluster.sh stop >/dev/null 2>&1 || true; rm -rf "$BENCH_TMP"' EXIT
else
    echo "(no uprobe on malloc here: allocation counts left out)"
fi

# count TX_COMMAND... -> one line "event count" per event, in $BENCH_TMP/perf.txt
count() {
    perf stat -x, -o "$BENCH_TMP/perf.txt" -e "$EVENTS" -- "$@" >"$BENCH_TMP/out.txt" 2>&1
}
per_tx() { # transactions -> prints "event per-tx" lines
    awk -F, -v t="$1" '$3 ~ /:|context/ {n=$3; sub(/^(syscalls:sys_enter_|raw_syscalls:|probe_libc:)/, "", n); printf "%s %.2f\n", n, $1/t}' "$BENCH_TMP/perf.txt"
}

for c in $CLIENTS; do
    count "$BIN/pgbench" -h $HOST -p "$PORT" -U $USER_ -n -S -M prepared \
        -c "$c" -j "$(( c < THREADS ? c : THREADS ))" -T "$DURATION" $DB
    ptx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$BENCH_TMP/out.txt")
    per_tx "$ptx" >"$BENCH_TMP/pg.txt"
    count "$SB" --host $HOST --port "$PORT" -u $USER_ --dbname $DB -w simple_read --scale "$SCALE" \
        --workers "$c" --connections "$c" --threads "$THREADS" -d "${DURATION}s" --no-summary -q \
        --json "$BENCH_TMP/run.json"
    stx=$(python3 -c "import json; print(json.load(open('$BENCH_TMP/run.json'))['summary']['transactions'])")
    per_tx "$stx" >"$BENCH_TMP/sb.txt"
    printf '\n== %s connections, %s client threads: per transaction (pgbench %s tx, stormbench %s tx in %ss)\n' \
        "$c" "$THREADS" "$ptx" "$stx" "$DURATION"
    printf '%-18s %10s %10s\n' event pgbench stormbench
    awk 'NR==FNR {pg[$1]=$2; next} {printf "%-18s %10s %10s\n", $1, ($1 in pg ? pg[$1] : "-"), $2}' \
        "$BENCH_TMP/pg.txt" "$BENCH_TMP/sb.txt"
done
