#!/usr/bin/env bash
# Client instructions per transaction: pgbench -S -M prepared against stormbench
# simple_read on each driver, counted by valgrind (cachegrind, user space only). Unlike
# CPU time, instruction counts barely move with the noise of a shared machine, so this is
# the figure to compare client-side changes with.
#
#   scripts/bench-instructions.sh             # 16 connections, 2 client threads
#   CLIENTS=64 scripts/bench-instructions.sh
#
# Each client runs twice under valgrind (SHORT and LONG seconds); the difference in
# instructions divided by the difference in transactions is the marginal cost of one
# transaction, free of start-up and shutdown. Valgrind serializes a client's threads and
# slows it down about 10-50x, so the rates are not the ones of a normal run; only the
# per-transaction counts are meant to be compared.
set -euo pipefail
cd "$(dirname "$0")/.."

SCALE=${SCALE:-10}
CLIENTS=${CLIENTS:-16}
THREADS=${THREADS:-2}
SHORT=${SHORT:-4}
LONG=${LONG:-8}
PORT=${BENCH_PGPORT:-55439}
DATA=${BENCH_PGDATA:-/tmp/stormbench-bench-pg}

if ! command -v valgrind >/dev/null 2>&1; then
    echo "valgrind is not installed: apt-get install valgrind" >&2
    exit 1
fi
source scripts/bench-pgbench-setup.sh

# counted CLIENT SECONDS -> "instructions transactions"
counted() {
    local out=$BENCH_TMP/$1-$2 tx
    case $1 in
        pgbench)
            valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
                "$BIN/pgbench" -h $HOST -p "$PORT" -U $USER_ -n -S -M prepared -c "$CLIENTS" \
                -j "$(( CLIENTS < THREADS ? CLIENTS : THREADS ))" -T "$2" $DB >"$out" 2>&1
            tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out")
            ;;
        *)
            valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
                "$SB" --host $HOST --port "$PORT" -u $USER_ --dbname $DB -w simple_read \
                --scale "$SCALE" --workers "$CLIENTS" --connections "$CLIENTS" --threads "$THREADS" \
                -d "${2}s" --no-summary -q --driver "$1" --json "$out.json" >"$out" 2>&1
            tx=$(python3 -c "import json; print(json.load(open('$out.json'))['summary']['transactions'])")
            ;;
    esac
    local ir
    ir=$(sed -n 's/.*I *refs: *\([0-9,]*\).*/\1/p' "$out" | tr -d ,)
    echo "$ir $tx"
}

printf '\n== client instructions per transaction, %s connections, %s threads (valgrind, %ss vs %ss runs)\n' \
    "$CLIENTS" "$THREADS" "$SHORT" "$LONG"
printf '%-26s %8s\n' client "instr/tx"
for client in pgbench wire tokio-postgres; do
    read -r i1 t1 <<<"$(counted "$client" "$SHORT")"
    read -r i2 t2 <<<"$(counted "$client" "$LONG")"
    label=$client
    [[ $client == pgbench ]] || label="stormbench $client"
    awk -v l="$label" -v a="$i1" -v b="$i2" -v x="$t1" -v y="$t2" \
        'BEGIN{ if (y > x) printf "%-26s %8.0f\n", l, (b - a) / (y - x); else printf "%-26s %8s\n", l, "n/a" }'
done
