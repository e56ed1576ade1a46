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
#   CACHE=1 CLIENTS=256 scripts/bench-instructions.sh   # and data cache misses per transaction
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
#
# With CACHE=1 valgrind also simulates a 32 KiB first-level data cache and a 512 KiB
# second level (8-way, 64-byte lines; the machine's own caches are not counted) and prints
# each client's data cache misses per transaction at both levels: how many distinct cache
# lines a transaction touches that the transactions of the other connections pushed out
# since. The server backends share the real caches and are not simulated, so the misses
# are a floor; their growth with connections is what the figure is for.
set -euo pipefail
cd "$(dirname "$0")/.."

SCALE=${SCALE:-10}
CLIENTS=${CLIENTS:-16}
THREADS=${THREADS:-2}
SHORT=${SHORT:-4}
LONG=${LONG:-8}
PORT=${BENCH_PGPORT:-55439}
DATA=${BENCH_PGDATA:-/tmp/stormbench-bench-pg}
CACHE=${CACHE:-0}
[[ $CACHE == [01] ]] || { echo "CACHE must be 0 or 1, not '$CACHE'" >&2; exit 2; }
if [[ $CACHE == 1 ]]; then
    SIM=(--cache-sim=yes --D1=32768,8,64 --LL=524288,8,64)
else
    SIM=(--cache-sim=no)
fi

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

# counted CLIENT SECONDS -> "instructions d1_misses ll_data_misses transactions"
counted() {
    local out=$BENCH_TMP/run-$RANDOM tx
    case $1 in
        pgbench)
            valgrind --tool=cachegrind "${SIM[@]}" --cachegrind-out-file=/dev/null \
                "$BIN/pgbench" -h $HOST -p "$PORT" -U $USER_ -n -S -M prepared -c "$CLIENTS" \
                -j "$(( CLIENTS < THREADS ? CLIENTS : THREADS ))" -T "$2" $DB >"$out" 2>&1
            tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out")
            ;;
        *)
            # stormbench:<binary>:<workload>:<driver>
            local bin wl drv
            IFS=: read -r _ bin wl drv <<<"$1"
            # shellcheck disable=SC2046
            valgrind --tool=cachegrind "${SIM[@]}" --cachegrind-out-file=/dev/null \
                "$bin" --host $HOST --port "$PORT" -u $USER_ --dbname $DB $(workload_args "$wl") \
                --threads "$THREADS" -d "${2}s" --no-summary -q --driver "$drv" \
                --json "$out.json" >"$out" 2>&1
            # a binary without this workload on this driver counts as n/a
            tx=$(per_tx "$wl" "$out.json" 2>/dev/null || echo 0)
            ;;
    esac
    local ir d1 ll
    ir=$(sed -n 's/.*I *refs: *\([0-9,]*\).*/\1/p' "$out" | tr -d ,)
    d1=$(sed -n 's/.*D1 *misses: *\([0-9,]*\).*/\1/p' "$out" | tr -d ,)
    ll=$(sed -n 's/.*LLd misses: *\([0-9,]*\).*/\1/p' "$out" | tr -d ,)
    echo "${ir:-0} ${d1:-0} ${ll:-0} ${tx:-0}"
}

printf '\n== client instructions per transaction, %s connections, %s threads (valgrind, %ss vs %ss runs)\n' \
    "$CLIENTS" "$THREADS" "$SHORT" "$LONG"
printf '(TPC-C: 1 warehouse, 8 terminals, per New-Order)\n'
marginal() { # client -> instructions per transaction (and "/ D1 / LL misses" with CACHE=1)
    local i1 d1 l1 t1 i2 d2 l2 t2
    read -r i1 d1 l1 t1 <<<"$(counted "$1" "$SHORT")"
    read -r i2 d2 l2 t2 <<<"$(counted "$1" "$LONG")"
    awk -v a="$i1" -v b="$i2" -v c="$d1" -v d="$d2" -v e="$l1" -v f="$l2" \
        -v x="$t1" -v y="$t2" -v cache="$CACHE" 'BEGIN{
            if (y <= x) { printf "n/a"; exit }
            printf "%.0f", (b - a) / (y - x)
            if (cache == 1) printf "/%.1f/%.1f", (d - c) / (y - x), (f - e) / (y - x)
        }'
}
[[ $CACHE == 0 ]] || printf '(with CACHE=1: instructions/D1 misses/LL misses per transaction)\n'
printf '%-34s %18s %18s\n' client "instr/tx" "before"
printf '%-34s %18s\n' "pgbench -S -M prepared" "$(marginal pgbench)"
for wl in simple_read example_bank_read tpcc; do
    for drv in wire tokio-postgres; do
        now=$(marginal "stormbench:$SB:$wl:$drv")
        was=-
        [[ -z $BEFORE ]] || was=$(marginal "stormbench:$BEFORE:$wl:$drv")
        printf '%-34s %18s %18s\n' "stormbench $wl ($drv)" "$now" "$was"
    done
done
