#!/usr/bin/env bash
# Client instructions per transaction: pgbench -S -M prepared against stormbench
# simple_read on each driver, counted by valgrind (cachegrind, user space only). Unlike
# CPU time, instruction counts barely move with the noise of a shared machine, so this is
# the figure to compare client-side changes with.
#
#   scripts/bench-instructions.sh             # 16 connections, 2 client threads
#   CLIENTS=64 scripts/bench-instructions.sh
#   BEFORE=path/to/old/stormbench scripts/bench-instructions.sh   # and an older build
#   SB_BIN=target/pgo/stormbench scripts/bench-instructions.sh   # measure another build (PGO)
#
# Besides simple_read (beside pgbench -S), it counts example_bank_read (the declarative
# twin of simple_read) and TPC-C (1 warehouse, 8 terminals, client mode; instructions per
# New-Order, the other four transactions included, as tpmC counts them). With BEFORE set,
# every stormbench figure is measured for that binary too and printed beside it.
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
BEFORE=${BEFORE:-}
echo "== loading example_bank and tpcc (1 warehouse)"
for w in example_bank_read tpcc; do
    "$SB" --host $HOST --port "$PORT" -u $USER_ --dbname $DB -w "$w" --scale 1 --setup --no-run -q >/dev/null
done

# workload arguments and the JSON figure a "transaction" is counted by
workload_args() {
    case $1 in
        tpcc) echo "-w tpcc --scale 1 --workers 8 --connections 8" ;;
        example_bank_read) echo "-w $1 --scale 1 --workers $CLIENTS --connections $CLIENTS" ;;
        *) echo "-w $1 --scale $SCALE --workers $CLIENTS --connections $CLIENTS" ;;
    esac
}
per_tx() { # workload json -> transactions counted
    python3 - "$1" "$2" <<'PY'
import json, sys
w, r = sys.argv[1], json.load(open(sys.argv[2]))
if w == "tpcc":
    print(next(k["committed"] for k in r["transactions"] if k["name"] == "new_order"))
else:
    print(r["summary"]["transactions"])
PY
}

# counted CLIENT SECONDS -> "instructions transactions"
counted() {
    local out=$BENCH_TMP/run-$RANDOM tx
    case $1 in
        pgbench)
            valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
                "$BIN/pgbench" -h $HOST -p "$PORT" -U $USER_ -n -S -M prepared -c "$CLIENTS" \
                -j "$(( CLIENTS < THREADS ? CLIENTS : THREADS ))" -T "$2" $DB >"$out" 2>&1
            tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out")
            ;;
        *)
            # stormbench:<binary>:<workload>:<driver>
            local bin wl drv
            IFS=: read -r _ bin wl drv <<<"$1"
            # shellcheck disable=SC2046
            valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
                "$bin" --host $HOST --port "$PORT" -u $USER_ --dbname $DB $(workload_args "$wl") \
                --threads "$THREADS" -d "${2}s" --no-summary -q --driver "$drv" \
                --json "$out.json" >"$out" 2>&1
            # a binary without this workload on this driver counts as n/a
            tx=$(per_tx "$wl" "$out.json" 2>/dev/null || echo 0)
            ;;
    esac
    local ir
    ir=$(sed -n 's/.*I *refs: *\([0-9,]*\).*/\1/p' "$out" | tr -d ,)
    echo "${ir:-0} ${tx:-0}"
}

printf '\n== client instructions per transaction, %s connections, %s threads (valgrind, %ss vs %ss runs)\n' \
    "$CLIENTS" "$THREADS" "$SHORT" "$LONG"
printf '(TPC-C: 1 warehouse, 8 terminals, per New-Order)\n'
marginal() { # client -> instructions per transaction
    local i1 t1 i2 t2
    read -r i1 t1 <<<"$(counted "$1" "$SHORT")"
    read -r i2 t2 <<<"$(counted "$1" "$LONG")"
    awk -v a="$i1" -v b="$i2" -v x="$t1" -v y="$t2" \
        'BEGIN{ if (y > x) printf "%.0f", (b - a) / (y - x); else printf "n/a" }'
}
printf '%-34s %10s %10s\n' client "instr/tx" "before"
printf '%-34s %10s\n' "pgbench -S -M prepared" "$(marginal pgbench)"
for wl in simple_read example_bank_read tpcc; do
    for drv in wire tokio-postgres; do
        now=$(marginal "stormbench:$SB:$wl:$drv")
        was=-
        [[ -z $BEFORE ]] || was=$(marginal "stormbench:$BEFORE:$wl:$drv")
        printf '%-34s %10s %10s\n' "stormbench $wl ($drv)" "$now" "$was"
    done
done
