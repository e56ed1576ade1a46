#!/usr/bin/env bash
# stormbench (wire driver) vs pgbench over TLS: the same work as scripts/bench-vs-pgbench.sh
# (one primary-key SELECT per transaction, prepared statements) with sslmode require on
# both clients, against a throwaway cluster with TLS on. Runs are interleaved and repeated;
# the medians of TPS and of client CPU per transaction (user+sys / transactions, from
# /usr/bin/time) are printed with their ratios to pgbench.
#
#   scripts/bench-vs-pgbench-tls.sh             # scale 10, 16 connections, 10s x 5
#   CLIENTS="16 64" REPEAT=3 scripts/bench-vs-pgbench-tls.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SCALE=${SCALE:-10}
DURATION=${DURATION:-10}
REPEAT=${REPEAT:-5}
CLIENTS=${CLIENTS:-16}
THREADS=${THREADS:-2}
PORT=${BENCH_PGPORT:-55439}
DATA=${BENCH_PGDATA:-/tmp/stormbench-bench-pg}

export STORMBENCH_TEST_PGSSL=on
source scripts/bench-pgbench-setup.sh
# the set-up loads in the clear; the measured runs encrypt
export PGSSLMODE=require STORMBENCH_DB_SSLMODE=require

TIMEFMT="cpu %U %S"
run_pgbench() { # clients -> "tps cpu_s tx"
    local out tps cpu tx
    out=$( { /usr/bin/time -f "$TIMEFMT" "$BIN/pgbench" -h $HOST -p "$PORT" -U $USER_ -n -S -M prepared \
        -c "$1" -j "$(( $1 < THREADS ? $1 : THREADS ))" -T "$DURATION" $DB; } 2>&1 )
    tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out" | head -1)
    cpu=$(awk '/^cpu /{print $2+$3}' <<<"$out")
    tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
    echo "$tps $cpu $tx"
}
run_stormbench() { # clients -> "tps cpu_s tx"
    local out json=$BENCH_TMP/run.json tps tx cpu
    out=$( { /usr/bin/time -f "$TIMEFMT" "$SB" --host $HOST --port "$PORT" -u $USER_ --dbname $DB \
        -w simple_read --scale "$SCALE" --workers "$1" --connections "$1" --threads "$THREADS" \
        -d "${DURATION}s" --no-summary -q --json "$json" --driver wire; } 2>&1 )
    tps=$(python3 -c "import json; print(json.load(open('$json'))['summary']['tps'])")
    tx=$(python3 -c "import json; print(json.load(open('$json'))['summary']['transactions'])")
    cpu=$(awk '/^cpu /{print $2+$3}' <<<"$out")
    rm -f "$json"
    echo "$tps $cpu $tx"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{print a/b}'; }
per_tx() { awk -v c="$1" -v t="$2" 'BEGIN{print 1e6*c/t}'; }

printf '\n== over TLS (sslmode require): pgbench -S -M prepared vs stormbench simple_read on the wire driver\n'
printf 'scale %s, %ss x %s interleaved runs, %s client threads; medians\n' "$SCALE" "$DURATION" "$REPEAT" "$THREADS"
printf '%7s | %9s %9s %6s | %8s %8s %6s\n' clients pgbench wire ratio "pg us/tx" "wire us" ratio
for c in $CLIENTS; do
    pt=(); wt=(); pc=(); wc=()
    for r in $(seq "$REPEAT"); do
        if (( r % 2 )); then order="pg wire"; else order="wire pg"; fi
        for who in $order; do
            case $who in
                pg) read -r tps cpu tx <<<"$(run_pgbench "$c")"; pt+=("$tps"); pc+=("$(per_tx "$cpu" "$tx")") ;;
                wire) read -r tps cpu tx <<<"$(run_stormbench "$c")"; wt+=("$tps"); wc+=("$(per_tx "$cpu" "$tx")") ;;
            esac
        done
    done
    P=$(printf '%s\n' "${pt[@]}" | median); W=$(printf '%s\n' "${wt[@]}" | median)
    PC=$(printf '%s\n' "${pc[@]}" | median); WC=$(printf '%s\n' "${wc[@]}" | median)
    printf '%7s | %9.0f %9.0f %5.2fx | %8.2f %8.2f %5.2fx\n' "$c" \
        "$P" "$W" "$(ratio "$W" "$P")" "$PC" "$WC" "$(ratio "$WC" "$PC")"
done
