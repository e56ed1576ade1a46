#!/usr/bin/env bash
# How honest `stormbench compare` is on this machine, in one run:
#  1. A/A: PAIRS pairs of identical SECS-second runs, all recorded in one history. Each
#     pair is judged three ways: a plain t-test on the per-interval rates, the test with
#     each run's autocorrelation (within-run variation only), and the test stormbench
#     uses with a history (plus the run-to-run noise learned from the other runs of the
#     configuration). At the 5% level about 1 pair in 20 should be called significant.
#  2. Detection: runs slowed on purpose (each transaction made dearer on the server by a
#     calibrated amount: 2%, 5% and 10% fewer transactions per second) compared with the
#     A/A runs, DETECT runs per level: how often the slowdown is called significant.
#
#   scripts/bench-compare-honesty.sh
#   PAIRS=20 SECS=30 DETECT=5 CLIENTS=4 scripts/bench-compare-honesty.sh
#
# Uses its own throwaway cluster (BENCH_PGPORT, default 55439). Prints the figures only.
set -euo pipefail
cd "$(dirname "$0")/.."

PAIRS=${PAIRS:-20}
SECS=${SECS:-30}
DETECT=${DETECT:-5}
CLIENTS=${CLIENTS:-4}
PORT=${BENCH_PGPORT:-55439}
DATA=${BENCH_PGDATA:-/tmp/stormbench-bench-honesty}
export STORMBENCH_HISTORY=off
source scripts/bench-cluster.sh
HISTORY=$WORK/history.sqlite

# one workload, "costly", whose single transaction does N units of work on the server;
# the same name and configuration at every N, so only the cost changes
workload() { # N -> a workloads folder
    local dir=$WORK/wl-$1/costly
    mkdir -p "$dir"
    cat >"$dir/workload.yaml" <<YAML
description: a transaction costing $1 units of server work
transactions:
  - name: work
    statements:
      - sql: SELECT count(*) FROM generate_series(1, $1)
YAML
    echo "$WORK/wl-$1"
}

run() { # N json seconds [history]
    "$SB" --host 127.0.0.1 --port "$PORT" -u stormbench --dbname postgres \
        --workloads-path "$(workload "$1")" -w costly --workers "$CLIENTS" --connections "$CLIENTS" \
        -d "${3}s" --warmup 2s --json "$2" --history "${4:-off}" -q >/dev/null
}

tps() { grep -o '"tps": *[0-9.e+-]*' "$1" | head -1 | grep -o '[0-9.e+-]*$'; }

N0=2000
echo "== calibrating the cost (10 s at N=$N0 and N=$((2 * N0)))"
run $N0 "$WORK/c0.json" 10
run $((2 * N0)) "$WORK/c1.json" 10
T0=$(tps "$WORK/c0.json")
T1=$(tps "$WORK/c1.json")
# time per transaction a + b*N: a/b from the two points, then the N that costs x more
AB=$(awk -v t0="$T0" -v t1="$T1" -v n="$N0" 'BEGIN { a = 1/t0; b = 1/t1; print n * (2*a - b) / (b - a) }')
level() { awk -v x="$1" -v n="$N0" -v ab="$AB" 'BEGIN { printf "%d", n + (ab + n) * (x/100) / (1 - x/100) + 0.5 }'; }
echo "   TPS $T0 at N=$N0, $T1 at N=$((2 * N0)); N for 2/5/10% slower: $(level 2) $(level 5) $(level 10)"

echo "== A/A: $PAIRS pairs of identical ${SECS} s runs ($CLIENTS clients)"
for i in $(seq 1 "$PAIRS"); do
    run $N0 "$WORK/a$i.json" "$SECS" "$HISTORY"
    run $N0 "$WORK/b$i.json" "$SECS" "$HISTORY"
    printf '.'
done
echo

# column of the compare CSV by name
col() { awk -F, -v name="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next } { print $c; exit }' "$1"; }

judge() { # base new store label -> one line: change p_plain p_within p_history
    "$SB" compare --store "$3" "$1" "$2" --csv "$WORK/cmp.csv" >/dev/null
    printf '%s %s %s %s\n' "$(col "$WORK/cmp.csv" tps_change_pct)" "$(col "$WORK/cmp.csv" tps_p_value_plain)" \
        "$(col "$WORK/cmp.csv" tps_p_value_within)" "$(col "$WORK/cmp.csv" tps_p_value)"
    rm -f "$WORK/cmp.csv"
}

: >"$WORK/aa.txt"
for i in $(seq 1 "$PAIRS"); do
    judge "$WORK/a$i.json" "$WORK/b$i.json" "$HISTORY" >>"$WORK/aa.txt"
done
echo "   pair   change   p plain   p within   p with history noise"
awk '{ printf "   %4d  %+6.2f%%  %8.4f  %9.4f  %9.4f\n", NR, $1, $2, $3, $4 }' "$WORK/aa.txt"
awk -v n="$PAIRS" '{ p += ($2 < 0.05); w += ($3 < 0.05); h += ($4 < 0.05); s += $1 * $1 }
    END { printf "A/A pairs called significant at 5%%: plain t-test %d/%d, within-run test %d/%d, with history noise %d/%d (change rms %.2f%%)\n", p, n, w, n, h, n, sqrt(s / n) }' "$WORK/aa.txt"

echo "== detection: $DETECT runs per injected slowdown, each against an A/A run, noise from the history"
for x in 2 5 10; do
    n=$(level $x)
    : >"$WORK/d$x.txt"
    for i in $(seq 1 "$DETECT"); do
        run "$n" "$WORK/s$x-$i.json" "$SECS"
        judge "$WORK/a$i.json" "$WORK/s$x-$i.json" "$HISTORY" >>"$WORK/d$x.txt"
    done
    awk -v x="$x" -v n="$DETECT" '{ c += $1; d += ($4 < 0.05 && $1 < 0) }
        END { printf "slowdown %2d%% (measured mean change %+.2f%%): called significant %d/%d\n", x, c / n, d, n }' "$WORK/d$x.txt"
done
