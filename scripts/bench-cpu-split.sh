#!/usr/bin/env bash
# Where the machine's CPU goes per transaction while a client runs, split between the
# client and the rest (the server's backends and the kernel work they cause), for pgbench
# -S, pgbench running stormbench's statement on stormbench's table, and stormbench
# simple_read on its wire driver, on one throwaway cluster, interleaved and repeated.
#
# Unlike scripts/bench-vs-pgbench.sh (which times each whole client process), the
# figures cover only the middle of each run (from 2 s after the start to 2 s before the
# end): no connection set-up, no report writing, no waiting for the server's statistics.
# Transactions are counted by the server (pg_stat_database), the same way for every
# client; context switches (/proc/stat) and TCP segments sent (/proc/net/snmp) per
# transaction are the whole machine's.
#
#   scripts/bench-cpu-split.sh                        # 64 connections, 10 s x 5
#   CLIENTS="16 64 256" REPEAT=3 scripts/bench-cpu-split.sh
#   SB_BIN=target/pgo/stormbench scripts/bench-cpu-split.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SCALE=${SCALE:-10}
DURATION=${DURATION:-10}
REPEAT=${REPEAT:-5}
CLIENTS=${CLIENTS:-64}
THREADS=${THREADS:-2}          # pgbench -j and stormbench --threads
SB_BIN=${SB_BIN:-}
PORT=${BENCH_PGPORT:-55439}
DATA=${BENCH_PGDATA:-/tmp/stormbench-bench-pg}
[[ $DURATION =~ ^[0-9]+$ ]] && (( DURATION >= 6 )) ||
    { echo "DURATION must be a whole number of seconds, at least 6 (the window leaves out 2 s at each end), not '$DURATION'" >&2; exit 2; }
for v in $CLIENTS $REPEAT $THREADS; do
    [[ $v =~ ^[1-9][0-9]*$ ]] ||
        { echo "CLIENTS, REPEAT and THREADS take positive whole numbers, not '$v'" >&2; exit 2; }
done
[[ -r /proc/stat && -r /proc/net/snmp ]] || { echo "this script reads /proc/stat and /proc/net/snmp: run it on Linux" >&2; exit 2; }

source scripts/bench-pgbench-setup.sh

HZ=$(getconf CLK_TCK)
WINDOW=$(( DURATION - 4 ))

# machine: "busy idle ctxt segs" (jiffies, switches, TCP segments sent); a process: "user sys"
# (its threads, jiffies)
machine() {
    local segs
    segs=$(awk '$1 == "Tcp:" { if (!n) { for (i = 2; i <= NF; i++) if ($i == "OutSegs") n = i } else print $n }' /proc/net/snmp)
    awk -v s="$segs" '/^cpu /{b=$2+$3+$4+$7+$8; i=$5+$6} /^ctxt /{c=$2} END{print b, i, c, s}' /proc/stat
}
proc() { [[ -r /proc/$1/stat ]] && awk '{s=$0; sub(/^.*\) /, "", s); split(s, a, " "); print a[12], a[13]}' "/proc/$1/stat"; }
# every query bounded: a server that stops answering ends the script instead of hanging it
xacts() {
    PGCONNECT_TIMEOUT=10 PGOPTIONS="-c statement_timeout=10s" "$BIN/psql" -h $HOST -p "$PORT" -U $USER_ -d $DB -qAtc \
        "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
}
fail() { echo "$*" >&2; exit 1; }
# the client ends DURATION s after it started; one still running a minute later is stopped
END_GRACE=60
child=
trap 'if [[ -n $child ]]; then kill "$child" 2>/dev/null || true; fi; bash scripts/pg-test-cluster.sh stop >/dev/null 2>&1 || true; rm -rf "$BENCH_TMP"' EXIT
# the clients run in the background, where a non-interactive shell has them ignore Ctrl-C:
# the shell itself ends on it (and the exit trap stops the client and the cluster)
trap 'exit 130' INT
trap 'exit 143' TERM

# measure WHO CLIENTS sets M to "tps user_us sys_us rest_us idle_us ctxt segs" (per transaction);
# run in this shell (not a subshell), so the exit trap knows the client to stop
measure() {
    local j=$(( $2 < THREADS ? $2 : THREADS ))
    case $1 in
        pg) "$BIN/pgbench" -h $HOST -p "$PORT" -U $USER_ -n -S -M prepared -c "$2" -j "$j" -T "$DURATION" $DB >/dev/null 2>&1 & ;;
        pgq) "$BIN/pgbench" -h $HOST -p "$PORT" -U $USER_ -n -f "$SAME_SQL" -M prepared -c "$2" -j "$j" -T "$DURATION" $DB >/dev/null 2>&1 & ;;
        sb) "$SB" --host $HOST --port "$PORT" -u $USER_ --dbname $DB -w simple_read --scale "$SCALE" \
                --workers "$2" --connections "$2" --threads "$THREADS" -d "${DURATION}s" -q --driver wire >/dev/null 2>&1 & ;;
    esac
    child=$!
    sleep 2
    local m0 p0 x0 m1 p1 x1
    m0=$(machine); p0=$(proc $child) || fail "$1 ended early at $2 connections (run it by hand to see why)"
    x0=$(xacts) || fail "the server did not answer within 10 s"
    sleep "$WINDOW"
    m1=$(machine); p1=$(proc $child) || fail "$1 ended early at $2 connections (run it by hand to see why)"
    x1=$(xacts) || fail "the server did not answer within 10 s"
    local until=$(( SECONDS + 2 + END_GRACE ))
    while kill -0 "$child" 2>/dev/null && (( SECONDS < until )); do sleep 0.2; done
    kill -0 "$child" 2>/dev/null && fail "$1 still running ${END_GRACE}s after its end at $2 connections (a server that stopped answering?)"
    wait "$child" || fail "$1 failed at $2 connections"
    child=
    (( x1 > x0 )) || fail "the server counted no transaction of $1 at $2 connections"
    M=$(awk -v m0="$m0" -v m1="$m1" -v p0="$p0" -v p1="$p1" -v t=$(( x1 - x0 )) -v hz="$HZ" -v w="$WINDOW" 'BEGIN {
        split(m0, a, " "); split(m1, b, " "); split(p0, c, " "); split(p1, d, " ")
        us = 1e6 / hz / t; user = (d[1] - c[1]) * us; sys = (d[2] - c[2]) * us
        printf "%.0f %.3f %.3f %.3f %.3f %.3f %.3f\n", t / w, user, sys, (b[1] - a[1]) * us - user - sys, (b[2] - a[2]) * us, (b[3] - a[3]) / t, (b[4] - a[4]) / t
    }')
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

printf '\n== CPU per transaction in the middle %ss of %ss runs, scale %s, %s interleaved rounds (medians), %s client threads\n' \
    "$WINDOW" "$DURATION" "$SCALE" "$REPEAT" "$THREADS"
printf 'µs of CPU per transaction: the client (user, sys), the rest of the machine (server backends and\n'
printf 'their kernel work), idle; context switches and TCP segments sent per transaction (whole machine)\n'
printf '%7s %-34s | %9s | %7s %7s %7s %7s | %6s %6s\n' clients client TPS user sys rest idle ctxsw segs
for c in $CLIENTS; do
    declare -A col=()
    for r in $(seq "$REPEAT"); do
        order=$(rotated "$r" pg pgq sb)
        for who in $order; do
            measure "$who" "$c"
            read -r tps u s rest idle cs segs <<<"$M"
            for k in tps u s rest idle cs segs; do col[$who.$k]+="${!k} "; done
        done
    done
    for who in pg pgq sb; do
        case $who in
            pg) name="pgbench -S (pgbench_accounts)" ;;
            pgq) name="pgbench, stormbench's statement" ;;
            sb) name="stormbench simple_read, wire" ;;
        esac
        printf '%7s %-34s | %9.0f | %7.2f %7.2f %7.2f %7.2f | %6.2f %6.2f\n' "$c" "$name" \
            $(for k in tps u s rest idle cs segs; do printf '%s\n' ${col[$who.$k]} | median; done)
    done
    unset col
done
