#!/usr/bin/env bash
# System calls and context switches per transaction: pgbench -S -M prepared against
# stormbench simple_read (wire driver) at several connection counts, counted with
# `strace -f -c` (calls) and /proc (voluntary context switches = wake-ups). strace slows
# both clients alike; the counts per transaction, not the rates, are the figures to compare.
#
#   scripts/bench-syscalls.sh                       # 16, 64 and 256 connections
#   COUNTS="64 256" SECONDS_=6 scripts/bench-syscalls.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SCALE=${SCALE:-10}
COUNTS=${COUNTS:-"16 64 256"}
THREADS=${THREADS:-2}
SECONDS_=${SECONDS_:-5}
PORT=${BENCH_PGPORT:-55439}
DATA=${BENCH_PGDATA:-/tmp/stormbench-bench-pg}

command -v strace >/dev/null 2>&1 || { echo "strace is not installed: apt-get install strace" >&2; exit 1; }
source scripts/bench-pgbench-setup.sh

# traced CLIENT CONNECTIONS -> "syscalls transactions top-calls"
traced() {
    local out=$BENCH_TMP/$1-$2 tx
    case $1 in
        pgbench)
            strace -f -c -o "$out.strace" "$BIN/pgbench" -h $HOST -p "$PORT" -U $USER_ -n -S -M prepared \
                -c "$2" -j "$THREADS" -T "$SECONDS_" $DB >"$out" 2>&1
            tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out")
            ;;
        stormbench)
            strace -f -c -o "$out.strace" "$SB" --host $HOST --port "$PORT" -u $USER_ --dbname $DB \
                -w simple_read --scale "$SCALE" --workers "$2" --connections "$2" --threads "$THREADS" \
                -d "${SECONDS_}s" --warmup 0s --no-summary -q --driver wire --json "$out.json" >"$out" 2>&1
            tx=$(python3 -c "import json; print(json.load(open('$out.json'))['summary']['transactions'])")
            ;;
    esac
    local total top
    # strace -c columns: % time, seconds, usecs/call, calls, [errors,] syscall
    total=$(awk '$NF == "total" {print $4}' "$out.strace")
    top=$(awk 'NR > 2 && $1 ~ /^[0-9.]+$/ && $NF != "total" {print $NF ":" $4}' "$out.strace" |
        sort -t: -k2 -nr | head -4 | tr '\n' ' ')
    echo "$total $tx $top"
}

printf '\n== system calls per transaction (strace -f -c, %ss runs, %s client threads)\n' "$SECONDS_" "$THREADS"
printf '%-12s %6s %10s   %s\n' client conns "calls/tx" "most frequent calls (count)"
for n in $COUNTS; do
    for client in pgbench stormbench; do
        read -r calls tx top <<<"$(traced "$client" "$n")"
        awk -v l="$client" -v n="$n" -v c="$calls" -v t="$tx" -v top="$top" \
            'BEGIN { printf "%-12s %6d %10.2f   %s\n", l, n, (t > 0 ? c / t : 0), top }'
    done
done
