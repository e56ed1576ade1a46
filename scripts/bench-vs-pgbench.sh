#!/usr/bin/env bash
# stormbench vs pgbench on one throwaway cluster, in one invocation: the same work (one
# primary-key SELECT per transaction on a table of the same size, prepared statements) at
# several connection counts. Runs are interleaved (pgbench, stormbench, pgbench, ...) and
# repeated; the median of each is printed with the ratio and each client's CPU time per
# transaction (user+sys of the client process / transactions).
#
#   scripts/bench-vs-pgbench.sh                 # scale 10, 1/16/64 connections, 15s x 3
#   DURATION=10 REPEAT=5 CLIENTS="16 64" scripts/bench-vs-pgbench.sh
#
# Also measures the resident memory of a 1,000-worker run over 50 connections and the
# cost of the recording path (a no-op transaction kind, transactions per second per core).
set -euo pipefail
cd "$(dirname "$0")/.."

SCALE=${SCALE:-10}
DURATION=${DURATION:-15}
REPEAT=${REPEAT:-3}
CLIENTS=${CLIENTS:-"1 16 64"}
THREADS=${THREADS:-2}          # pgbench -j and stormbench --threads
PORT=${BENCH_PGPORT:-55439}
DATA=${BENCH_PGDATA:-/tmp/stormbench-bench-pg}

export STORMBENCH_TEST_PGPORT=$PORT STORMBENCH_TEST_PGDATA=$DATA
# Both clients without TLS (the cluster has none): libpq would skip it anyway, while
# building a TLS context costs a fixed slice of CPU that would blur short runs.
export PGSSLMODE=disable STORMBENCH_DB_SSLMODE=disable
bash scripts/pg-test-cluster.sh start >/dev/null
trap 'bash scripts/pg-test-cluster.sh stop >/dev/null 2>&1 || true' EXIT
eval "$(bash scripts/pg-test-cluster.sh env)"
BIN=$STORMBENCH_TEST_PGBINDIR
HOST=127.0.0.1 USER_=stormbench DB=stormbench_bench

echo "== building stormbench (release)"
cargo build --release --quiet
SB=${CARGO_TARGET_DIR:-target}/release/stormbench

"$BIN/psql" -h $HOST -p "$PORT" -U $USER_ -d postgres -qAtc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
echo "== loading pgbench scale $SCALE and stormbench simple scale $SCALE (both $((SCALE * 100000)) rows)"
"$BIN/pgbench" -h $HOST -p "$PORT" -U $USER_ -i -q -s "$SCALE" $DB >/dev/null 2>&1
"$SB" --host $HOST --port "$PORT" -u $USER_ --dbname $DB -w simple_read --scale "$SCALE" --rebuild --no-run -q >/dev/null
"$BIN/psql" -h $HOST -p "$PORT" -U $USER_ -d $DB -qAtc "CHECKPOINT" >/dev/null

# cpu_of PID -> user+sys seconds of a finished child, read by /usr/bin/time's format.
TIMEFMT="cpu %U %S maxrss_kb %M"
run_pgbench() { # clients -> "tps cpu_s"
    local out
    out=$( { /usr/bin/time -f "$TIMEFMT" "$BIN/pgbench" -h $HOST -p "$PORT" -U $USER_ -n -S -M prepared \
        -c "$1" -j "$(( $1 < THREADS ? $1 : THREADS ))" -T "$DURATION" $DB; } 2>&1 )
    local tps cpu
    tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out" | head -1)
    cpu=$(awk '/^cpu /{print $2+$3}' <<<"$out")
    local tx; tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
    echo "$tps $cpu $tx"
}
run_stormbench() { # clients -> "tps cpu_s tx"
    local out json=/tmp/stormbench-bench-$$.json
    out=$( { /usr/bin/time -f "$TIMEFMT" "$SB" --host $HOST --port "$PORT" -u $USER_ --dbname $DB \
        -w simple_read --scale "$SCALE" --workers "$1" --connections "$1" --threads "$THREADS" \
        -d "${DURATION}s" --no-summary -q --json "$json"; } 2>&1 )
    local tps tx cpu
    tps=$(python3 -c "import json,sys; print(json.load(open('$json'))['summary']['tps'])")
    tx=$(python3 -c "import json,sys; print(json.load(open('$json'))['summary']['transactions'])")
    cpu=$(awk '/^cpu /{print $2+$3}' <<<"$out")
    rm -f "$json"
    echo "$tps $cpu $tx"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

printf '\n== pgbench -S -M prepared vs stormbench simple_read, scale %s, %ss x %s interleaved runs, %s client threads\n' \
    "$SCALE" "$DURATION" "$REPEAT" "$THREADS"
printf '%8s | %12s %12s %7s | %14s %14s %7s\n' clients "pgbench tps" "storm tps" ratio "pgbench us/tx" "storm us/tx" ratio
for c in $CLIENTS; do
    pt=(); st=(); pc=(); sc=()
    for r in $(seq "$REPEAT"); do
        if (( r % 2 )); then a=$(run_pgbench "$c"); b=$(run_stormbench "$c"); else b=$(run_stormbench "$c"); a=$(run_pgbench "$c"); fi
        read -r tps cpu tx <<<"$a"; pt+=("$tps"); pc+=("$(awk -v c="$cpu" -v t="$tx" 'BEGIN{print 1e6*c/t}')")
        read -r tps cpu tx <<<"$b"; st+=("$tps"); sc+=("$(awk -v c="$cpu" -v t="$tx" 'BEGIN{print 1e6*c/t}')")
    done
    P=$(printf '%s\n' "${pt[@]}" | median); S=$(printf '%s\n' "${st[@]}" | median)
    PC=$(printf '%s\n' "${pc[@]}" | median); SC=$(printf '%s\n' "${sc[@]}" | median)
    printf '%8s | %12.0f %12.0f %6.2fx | %14.2f %14.2f %6.2fx\n' "$c" "$P" "$S" \
        "$(awk -v a="$S" -v b="$P" 'BEGIN{print a/b}')" "$PC" "$SC" "$(awk -v a="$SC" -v b="$PC" 'BEGIN{print a/b}')"
done

echo
echo "== resident memory: 1000 workers over 50 connections, ${DURATION}s"
out=$( { /usr/bin/time -f "$TIMEFMT" "$SB" --host $HOST --port "$PORT" -u $USER_ --dbname $DB -w simple_read \
    --scale "$SCALE" --workers 1000 --connections 50 --threads "$THREADS" -d "${DURATION}s" --no-summary -q; } 2>&1 )
awk '/^cpu /{printf "max RSS %.1f MB\n", $5/1024}' <<<"$out"
grep -E "Throughput" <<<"$out" || true

echo
echo "== recording path: no-op transactions (no database round trip), 1 thread"
out=$( { /usr/bin/time -f "$TIMEFMT" "$SB" --host $HOST --port "$PORT" -u $USER_ --dbname $DB -w noop \
    --workers 4 --connections 4 --threads 1 -d 5s --no-summary -q --json /tmp/stormbench-noop-$$.json; } 2>&1 )
tx=$(python3 -c "import json; print(json.load(open('/tmp/stormbench-noop-$$.json'))['summary']['transactions'])")
cpu=$(awk '/^cpu /{print $2+$3}' <<<"$out")
awk -v t="$tx" -v c="$cpu" 'BEGIN{printf "%d no-op transactions, %.0f per CPU-second (%.3f us each, recording included)\n", t, t/c, 1e6*c/t}'
rm -f /tmp/stormbench-noop-$$.json
