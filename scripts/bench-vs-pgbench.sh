#!/usr/bin/env bash
# stormbench vs pgbench on one throwaway cluster, in one invocation: the same work (one
# primary-key SELECT per transaction on a table of the same size, prepared statements) at
# several connection counts. Runs are interleaved (pgbench, stormbench, pgbench, ...) and
# repeated; the median of each is printed with the ratio and each client's CPU time per
# transaction (user+sys of the client process / transactions). stormbench runs twice per
# round: on its wire driver (the default for simple) and on tokio-postgres. Under each
# count a line gives the spread (lowest-highest) of the rounds' own wire / pgbench ratios
# (the two runs of one round, seconds apart) and in how many rounds each met the bar (TPS
# at least 1.0x, CPU at most 1.0x): when it spans 1.0x, so may the medians' ratio in the
# next invocation.
#
#   scripts/bench-vs-pgbench.sh                 # scale 10, 1/16/64 connections, 10s x 5
#   DURATION=10 REPEAT=5 CLIENTS="16 64" scripts/bench-vs-pgbench.sh
#   BEFORE=path/to/old/stormbench scripts/bench-vs-pgbench.sh   # and an older build
#   SB_BIN=target/pgo/stormbench BEFORE=target/release/stormbench scripts/bench-vs-pgbench.sh
#                                               # the PGO build (scripts/build-pgo.sh) beside the plain one
#
# With BEFORE set, an older stormbench binary runs on its wire driver in every round too,
# interleaved with the others, and a line under each count gives its medians, so a change
# is measured against its own baseline and pgbench in one invocation.
#
# pgbench also runs stormbench's own statement on stormbench's table in every round
# (SAME_QUERY=1, the default; SAME_QUERY=0 leaves it out): `pgbench -S` reads
# pgbench_accounts (int keys), stormbench simple_accounts (bigint keys, its own rows), so a
# line under each count compares the two clients on the very same statement and rows,
# which splits a difference between the client and the table.
#
# With FLOOR=1 the floor client (examples/floor_client.rs: one epoll loop per thread, one
# send and one recv per transaction, nothing recorded) runs stormbench's statement in every
# round too: the least any client can do, so a gap to pgbench can be read against what no
# client could close.
#
# Also measures the resident memory of a 1,000-worker run over 50 connections and the
# cost of the recording path (a no-op transaction kind, transactions per second per core).
set -euo pipefail
cd "$(dirname "$0")/.."

SCALE=${SCALE:-10}
DURATION=${DURATION:-10}
REPEAT=${REPEAT:-5}
[[ $REPEAT =~ ^[1-9][0-9]*$ ]] || { echo "REPEAT must be a whole number of rounds of at least 1, not '$REPEAT'" >&2; exit 2; }
CLIENTS=${CLIENTS:-"1 16 64"}
THREADS=${THREADS:-2}          # pgbench -j and stormbench --threads
BEFORE=${BEFORE:-}             # an older stormbench binary to run beside this one
SB_BIN=${SB_BIN:-}             # the binary to measure (default: a release build of this checkout)
SAME_QUERY=${SAME_QUERY:-1}    # 1: pgbench also runs stormbench's statement on its table
[[ $SAME_QUERY == [01] ]] || { echo "SAME_QUERY must be 0 or 1, not '$SAME_QUERY'" >&2; exit 2; }
FLOOR=${FLOOR:-0}              # 1: the floor client runs in every round too
[[ $FLOOR == [01] ]] || { echo "FLOOR must be 0 or 1, not '$FLOOR'" >&2; exit 2; }
PORT=${BENCH_PGPORT:-55439}
DATA=${BENCH_PGDATA:-/tmp/stormbench-bench-pg}

source scripts/bench-pgbench-setup.sh

# cpu_of PID -> user+sys seconds of a finished child, read by /usr/bin/time's format.
TIMEFMT="cpu %U %S maxrss_kb %M"
run_pgbench() { # clients [script] -> "tps cpu_s tx" (the built-in -S without a script)
    local out what=(-S)
    [[ -n ${2:-} ]] && what=(-f "$2")
    # bounded: pgbench waits for an answer without limit (--foreground keeps Ctrl-C reaching it)
    out=$( { /usr/bin/time -f "$TIMEFMT" timeout --foreground -k 5 $(( DURATION + 60 )) \
        "$BIN/pgbench" -h $HOST -p "$PORT" -U $USER_ -n "${what[@]}" -M prepared \
        -c "$1" -j "$(( $1 < THREADS ? $1 : THREADS ))" -T "$DURATION" $DB; } 2>&1 )
    local tps cpu
    tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out" | head -1)
    cpu=$(awk '/^cpu /{print $2+$3}' <<<"$out")
    local tx; tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
    echo "$tps $cpu $tx"
}
run_stormbench() { # clients driver [binary] -> "tps cpu_s tx"
    local out json=$BENCH_TMP/run.json
    out=$( { /usr/bin/time -f "$TIMEFMT" "${3:-$SB}" --host $HOST --port "$PORT" -u $USER_ --dbname $DB \
        -w simple_read --scale "$SCALE" --workers "$1" --connections "$1" --threads "$THREADS" \
        -d "${DURATION}s" --no-summary -q --json "$json" --driver "$2"; } 2>&1 )
    local used tps tx cpu
    read -r used tps tx < <(python3 -c "import json; r = json.load(open('$json')); print(r['connections']['driver'], r['summary']['tps'], r['summary']['transactions'])")
    [[ $used == "$2" ]] || echo "warning: stormbench ran on the $used driver, not $2" >&2
    cpu=$(awk '/^cpu /{print $2+$3}' <<<"$out")
    rm -f "$json"
    echo "$tps $cpu $tx"
}
run_floor() { # clients -> "tps cpu_s tx"
    local out
    out=$( { /usr/bin/time -f "$TIMEFMT" timeout -k 5 $(( DURATION + 60 )) "$FLOOR_BIN" $HOST "$PORT" $USER_ $DB \
        "$1" "$THREADS" "$ROWS" "$DURATION"; } 2>&1 )
    local tps tx cpu
    read -r tps tx < <(grep -E '^[0-9.]+ [0-9]+$' <<<"$out")
    cpu=$(awk '/^cpu /{print $2+$3}' <<<"$out")
    echo "$tps $cpu $tx"
}
us_per_tx() { awk -v c="$1" -v t="$2" 'BEGIN{print 1e6*c/t}'; } # cpu_s tx -> µs per transaction
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

if (( FLOOR )); then
    echo "== building the floor client"
    cargo build --release --quiet --example floor_client
    FLOOR_BIN=${CARGO_TARGET_DIR:-target}/release/examples/floor_client
fi
printf '\n== pgbench -S -M prepared vs stormbench simple_read, scale %s, %ss x %s interleaved runs, %s client threads\n' \
    "$SCALE" "$DURATION" "$REPEAT" "$THREADS"
printf 'TPS (medians) and client CPU per transaction (user+sys / transactions); ratios to pgbench\n'
printf '%7s | %9s %9s %6s %9s %6s | %8s %8s %6s %8s %6s\n' clients pgbench wire ratio tokio-pg ratio \
    "pg us" "wire us" ratio "t-pg us" ratio
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{print a/b}'; }
# spread ge|le NUMS... DENS... -> "min-max" of the per-round ratios NUMS[i]/DENS[i] (same
# rounds), and in how many rounds the ratio met the bar (ge: at least 1.0x, le: at most)
spread() {
    local bar=$1; shift
    local n=$(( $# / 2 ))
    awk -v n="$n" -v bar="$bar" 'BEGIN {
        for (i = 1; i <= n; i++) {
            r = ARGV[i] / ARGV[i + n]; if (i == 1 || r < lo) lo = r; if (i == 1 || r > hi) hi = r
            if ((bar == "ge" && r >= 1) || (bar == "le" && r <= 1)) met++
        }
        printf "%.2fx-%.2fx (%s 1.0x in %d of %d)", lo, hi, (bar == "ge" ? ">=" : "<="), met, n; exit }' "$@"
}
for c in $CLIENTS; do
    pt=(); wt=(); tt=(); pc=(); wc=(); tc=(); bt=(); bc=(); qt=(); qc=(); ft=(); fc=()
    for r in $(seq "$REPEAT"); do
        names=(pg wire tp); if (( FLOOR )); then names+=(floor); fi
        order=$(rotated "$r" "${names[@]}")
        if [[ -n $BEFORE ]]; then
            # the older build next to the current one, before it in odd rounds, after it in even
            if (( r % 2 )); then order=${order/wire/old wire}; else order=${order/wire/wire old}; fi
        fi
        # pgbench on stormbench's statement right after pgbench -S, in every order
        if (( SAME_QUERY )); then order=${order/pg/pg pgq}; fi
        for who in $order; do
            case $who in
                pg) read -r tps cpu tx <<<"$(run_pgbench "$c")"; pt+=("$tps"); pc+=("$(us_per_tx "$cpu" "$tx")") ;;
                pgq) read -r tps cpu tx <<<"$(run_pgbench "$c" "$SAME_SQL")"; qt+=("$tps"); qc+=("$(us_per_tx "$cpu" "$tx")") ;;
                wire) read -r tps cpu tx <<<"$(run_stormbench "$c" wire)"; wt+=("$tps"); wc+=("$(us_per_tx "$cpu" "$tx")") ;;
                tp) read -r tps cpu tx <<<"$(run_stormbench "$c" tokio-postgres)"; tt+=("$tps"); tc+=("$(us_per_tx "$cpu" "$tx")") ;;
                old) read -r tps cpu tx <<<"$(run_stormbench "$c" wire "$BEFORE")"; bt+=("$tps"); bc+=("$(us_per_tx "$cpu" "$tx")") ;;
                floor) read -r tps cpu tx <<<"$(run_floor "$c")"; ft+=("$tps"); fc+=("$(us_per_tx "$cpu" "$tx")") ;;
            esac
            [[ ${tx:-0} =~ ^[1-9][0-9]*$ ]] || { echo "$who ran no transaction at $c connections (failed or timed out)" >&2; exit 1; }
        done
    done
    P=$(printf '%s\n' "${pt[@]}" | median); W=$(printf '%s\n' "${wt[@]}" | median); T=$(printf '%s\n' "${tt[@]}" | median)
    PC=$(printf '%s\n' "${pc[@]}" | median); WC=$(printf '%s\n' "${wc[@]}" | median); TC=$(printf '%s\n' "${tc[@]}" | median)
    printf '%7s | %9.0f %9.0f %5.2fx %9.0f %5.2fx | %8.2f %8.2f %5.2fx %8.2f %5.2fx\n' "$c" \
        "$P" "$W" "$(ratio "$W" "$P")" "$T" "$(ratio "$T" "$P")" \
        "$PC" "$WC" "$(ratio "$WC" "$PC")" "$TC" "$(ratio "$TC" "$PC")"
    # the rounds' own ratios (a round runs both clients, seconds apart): how far one
    # invocation's rounds disagree, to read the medians' ratios against
    printf '%7s | per round, wire / pgbench: TPS %s, client CPU %s\n' "" \
        "$(spread ge "${wt[@]}" "${pt[@]}")" "$(spread le "${wc[@]}" "${pc[@]}")"
    if (( SAME_QUERY )); then
        # ratios of stormbench (wire) to pgbench running the same statement on the same table
        Q=$(printf '%s\n' "${qt[@]}" | median); QC=$(printf '%s\n' "${qc[@]}" | median)
        printf '%7s | %9.0f %9s %5.2fx %16s | %8.2f %8s %5.2fx   (pgbench on simple_accounts; wire / it)\n' "" \
            "$Q" "" "$(ratio "$W" "$Q")" "" "$QC" "" "$(ratio "$WC" "$QC")"
    fi
    if [[ -n $BEFORE ]]; then
        B=$(printf '%s\n' "${bt[@]}" | median); BC=$(printf '%s\n' "${bc[@]}" | median)
        printf '%7s | %9s %9.0f %5.2fx %16s | %8s %8.2f %5.2fx   (BEFORE, wire)\n' "" "" \
            "$B" "$(ratio "$B" "$P")" "" "" "$BC" "$(ratio "$BC" "$PC")"
    fi
    if (( FLOOR )); then
        F=$(printf '%s\n' "${ft[@]}" | median); FC=$(printf '%s\n' "${fc[@]}" | median)
        printf '%7s | %9s %9.0f %5.2fx %16s | %8s %8.2f %5.2fx   (floor client; ratios to pgbench -S)\n' "" "" \
            "$F" "$(ratio "$F" "$P")" "" "" "$FC" "$(ratio "$FC" "$PC")"
    fi
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
    --workers 4 --connections 4 --threads 1 -d 5s --no-summary -q --json $BENCH_TMP/noop.json; } 2>&1 )
tx=$(python3 -c "import json; print(json.load(open('$BENCH_TMP/noop.json'))['summary']['transactions'])")
cpu=$(awk '/^cpu /{print $2+$3}' <<<"$out")
awk -v t="$tx" -v c="$cpu" 'BEGIN{printf "%d no-op transactions, %.0f per CPU-second (%.3f us each, recording included)\n", t, t/c, 1e6*c/t}'
rm -f $BENCH_TMP/noop.json
