#!/usr/bin/env bash
# The cost of collecting server statistics: the same stormbench run with collection off
# and on (pg_stat_* sampled every second, pg_stat_statements diffed), on one throwaway
# cluster, in one invocation. Runs are interleaved (off, on, on, off, ...) and the medians
# compared. Target: under 2% TPS difference.
#
#   scripts/bench-collector.sh            # simple_read, scale 10, 16 workers, 15 s x 3
#   DURATION=20 REPEAT=5 scripts/bench-collector.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SCALE=${SCALE:-10}
DURATION=${DURATION:-15}
REPEAT=${REPEAT:-3}
WORKERS=${WORKERS:-16}
PORT=${BENCH_PGPORT:-55439}
export STORMBENCH_TEST_PGPORT=$PORT STORMBENCH_TEST_PGDATA=${BENCH_PGDATA:-/tmp/stormbench-bench-pg}
export STORMBENCH_DB_SSLMODE=disable
bash scripts/pg-test-cluster.sh start >/dev/null
trap 'bash scripts/pg-test-cluster.sh stop >/dev/null 2>&1 || true' EXIT
eval "$(bash scripts/pg-test-cluster.sh env)"

cargo build --release --quiet
SB=${CARGO_TARGET_DIR:-target}/release/stormbench
ARGS=(--host 127.0.0.1 --port "$PORT" -u stormbench --dbname stormbench_test -w simple_read
      --scale "$SCALE" --workers "$WORKERS" -d "${DURATION}s" --warmup 2s --no-summary -q)
"$SB" "${ARGS[@]}" --setup --no-run >/dev/null

run() { # extra args -> tps
    local json=/tmp/stormbench-collector-$$.json
    "$SB" "${ARGS[@]}" "$@" --json "$json" >/dev/null
    python3 -c "import json; print(json.load(open('$json'))['summary']['tps'])"
    rm -f "$json"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

off=(); on=()
for r in $(seq "$REPEAT"); do
    if (( r % 2 )); then
        off+=("$(run)"); on+=("$(run --collect-pg-stats --pg-stat-statements)")
    else
        on+=("$(run --collect-pg-stats --pg-stat-statements)"); off+=("$(run)")
    fi
done
OFF=$(printf '%s\n' "${off[@]}" | median); ON=$(printf '%s\n' "${on[@]}" | median)
printf 'collection off: %s tps (runs: %s)\n' "$OFF" "${off[*]}"
printf 'collection on:  %s tps (runs: %s), stats_interval 1s, pg_stat_statements on\n' "$ON" "${on[*]}"
awk -v a="$OFF" -v b="$ON" 'BEGIN{printf "difference: %+.2f%%\n", 100*(b-a)/a}'
