#!/usr/bin/env bash
# The domain workloads' figures, on one throwaway cluster in one run:
#   - load rate of imdb and ecommerce at each of SCALES (default 1 and 10): rows, seconds
#     of COPY, rows/s, the timed after-load steps, and the client's CPU;
#   - the client's CPU per transaction of `imdb mixed` and `ecommerce shopping` against
#     `simple_read`, at the same fixed rate and workers, interleaved REPEAT times
#     (target: at most 1.5x);
#   - htap: the shop group's throughput against `shopping` alone (the OLTP loss) and the
#     analysts' queries per hour, closed loop;
#   - with JOB_DIR (a folder holding the Join Order Benchmark's 113 queries; stormbench
#     does not ship them): at each scale, the suite's runtime per pass, the median and
#     worst q-error, and how many queries found rows.
#
#   scripts/bench-domain.sh
#   JOB_DIR=~/job SCALES="1 10" RATE=400 SECS=30 REPEAT=3 scripts/bench-domain.sh
#   ONLY_JOB=1 JOB_DIR=~/job JOB_SCALES=10 JOB_LIMIT=60m scripts/bench-domain.sh   # the suite only
#
# Uses its own cluster (BENCH_PGPORT, default 55442). Prints the figures only.
set -euo pipefail
cd "$(dirname "$0")/.."

SCALES=${SCALES:-"1 10"}
RATE=${RATE:-400}
SECS=${SECS:-30}
REPEAT=${REPEAT:-3}
WORKERS=${WORKERS:-8}
JOB_DIR=${JOB_DIR:-}
JOB_PASSES=${JOB_PASSES:-1}
JOB_LIMIT=${JOB_LIMIT:-30m}
PORT=${BENCH_PGPORT:-55442}
DATA=${BENCH_PGDATA:-/tmp/stormbench-bench-domain}
command -v /usr/bin/time >/dev/null || { echo "GNU time (package time) is needed" >&2; exit 1; }
if [[ -n $JOB_DIR && ! -d $JOB_DIR ]]; then
    echo "JOB_DIR=$JOB_DIR is not a folder; point it at the Join Order Benchmark's queries" >&2
    exit 2
fi
STORMBENCH_TEST_PGCONF=${STORMBENCH_TEST_PGCONF:-"shared_buffers = 1GB
max_wal_size = 4GB
work_mem = 32MB"}
export STORMBENCH_TEST_PGCONF
source scripts/bench-cluster.sh
WL=$(pwd)/workloads
target=(--host 127.0.0.1 --port "$PORT" -u stormbench --dbname postgres --workloads-path "$WL")

# load: "rows copy_s steps_s total_s cpu_s"
load() { # workload scale
    local out
    out=$( { /usr/bin/time -f 'cpu %U %S' "$SB" "${target[@]}" -w "$1" --scale "$2" --rebuild --no-run; } 2>&1 )
    awk '
        / rows in [0-9.]+s/ { rows += $2 }
        /^  [^:]+: [0-9.]+s$/ { sub(/s$/, "", $NF); steps += $NF }
        /^  total: / { sub(/s$/, "", $2); total = $2 }
        /^cpu / { cpu = $2 + $3 }
        END { printf "%d %.2f %.2f %.2f %.2f\n", rows, total - steps, steps, total, cpu }' <<<"$out"
}

if [[ -n ${ONLY_JOB:-} ]]; then
    [[ -n $JOB_DIR ]] || { echo "ONLY_JOB needs JOB_DIR" >&2; exit 2; }
else
echo "== load (client CPU is stormbench's user+sys for the whole setup)"
printf '%-10s %5s %10s %8s %12s %10s %9s %12s\n' workload scale rows copy_s rows/s steps_s cpu_s "cpu_us/row"
for scale in $SCALES; do
    for w in imdb_mixed ecommerce_shopping; do
        read -r rows copy steps total cpu < <(load "$w" "$scale")
        printf '%-10s %5s %10s %8s %12.0f %10s %9s %12.2f\n' "${w%%_*}" "$scale" "$rows" "$copy" \
            "$(awk -v r="$rows" -v s="$copy" 'BEGIN { print (s > 0 ? r / s : 0) }')" "$steps" "$cpu" \
            "$(awk -v c="$cpu" -v r="$rows" 'BEGIN { print c * 1e6 / r }')"
    done
done

# client CPU per transaction at a fixed rate, at RUN_SCALE (default the first of SCALES)
SCALE=${RUN_SCALE:-${SCALES%% *}}
"$SB" "${target[@]}" -w simple_read --scale "$SCALE" --rebuild --no-run -q >/dev/null
run() { # workload -> "cpu_us_per_tx tps"
    local json=$WORK/run.json t
    t=$( { /usr/bin/time -f '%U %S' "$SB" "${target[@]}" -w "$1" --scale "$SCALE" --workers "$WORKERS" \
        --connections "$WORKERS" --rate "$RATE" -d "${SECS}s" --warmup 3s --history off -q --json "$json" >/dev/null || true; } 2>&1 | tail -1)
    python3 - "$json" "$t" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["summary"]
u, s = map(float, sys.argv[2].split())
n = r["transactions"]
print(f"{(u + s) * 1e6 / n:.1f} {r['tps']:.0f}")
PY
}
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
declare -A cpu
echo
echo "== client CPU per transaction at $RATE tx/s, $WORKERS workers, ${SECS}s, scale $SCALE, median of $REPEAT interleaved runs"
for ((i = 0; i < REPEAT; i++)); do
    for w in simple_read imdb_mixed ecommerce_shopping; do
        read -r c tps < <(run "$w")
        cpu[$w]+="$c "
        printf '  run %d %-20s %8s us/tx %6s tps\n' "$((i + 1))" "$w" "$c" "$tps"
    done
done
base=$(tr ' ' '\n' <<<"${cpu[simple_read]}" | grep . | median)
for w in simple_read imdb_mixed ecommerce_shopping; do
    m=$(tr ' ' '\n' <<<"${cpu[$w]}" | grep . | median)
    printf '%-20s %8s us/tx  %5.2fx simple_read\n' "$w" "$m" "$(awk -v a="$m" -v b="$base" 'BEGIN { print a / b }')"
done

# htap: the shop's loss against shopping alone, closed loop, the same shop workers
closed() { # workload extra-yaml -> json path
    printf 'workloads_path: [%s]\nworkload: ecommerce\nhistory: off\nwarmup: 3s\n%s\n' "$WL" "$2" >"$WORK/$1.yaml"
    "$SB" -c "$WORK/$1.yaml" "${target[@]}" --scale "$SCALE" --workers "$WORKERS" --connections "$((WORKERS + 2))" \
        -d "${SECS}s" -q --json "$WORK/$1.json" >/dev/null || true
}
"$SB" "${target[@]}" -w ecommerce_shopping --scale "$SCALE" --rebuild --no-run -q >/dev/null
closed alone "mode: shopping"
closed htap "mode: htap"
echo
echo "== htap at scale $SCALE: $WORKERS shop workers and 1 analyst, closed loop, ${SECS}s, against shopping alone"
python3 - "$WORK/alone.json" "$WORK/htap.json" <<'PY'
import json, sys
alone = json.load(open(sys.argv[1]))["summary"]["tps"]
groups = {g["name"]: g for g in json.load(open(sys.argv[2]))["workload"]["groups"]}
shop, analysts = groups["shop"], groups["analysts"]
print(f"shopping alone {alone:.0f} tps; in htap the shop {shop['tps']:.0f} tps "
      f"({(shop['tps'] / alone - 1) * 100:+.1f}%), the analysts {analysts['per_hour']:.0f} queries/h")
PY

fi # ONLY_JOB

if [[ -z $JOB_DIR ]]; then
    echo
    echo "== JOB suite: skipped (set JOB_DIR to a folder of the benchmark's queries)"
    exit 0
fi
echo
echo "== JOB suite ($(ls "$JOB_DIR"/*.sql | wc -l) queries from JOB_DIR), $JOB_PASSES pass(es), at most $JOB_LIMIT per scale"
for scale in ${JOB_SCALES:-$SCALES}; do
    "$SB" "${target[@]}" -w imdb_mixed --scale "$scale" --rebuild --no-run -q >/dev/null
    printf 'workloads_path: [%s]\nworkload: imdb\nmode: job\nworkers: 1\nwarmup: 0s\nduration: %s\nhistory: off\nimdb: {job_dir: %s, passes: %s}\n' \
        "$WL" "$JOB_LIMIT" "$JOB_DIR" "$JOB_PASSES" >"$WORK/job.yaml"
    "$SB" -c "$WORK/job.yaml" "${target[@]}" --scale "$scale" -q --json "$WORK/job.json" >/dev/null || true
    python3 - "$WORK/job.json" "$scale" <<'PY'
import json, statistics, sys
r = json.load(open(sys.argv[1]))
m = {x["name"]: x["value"] for x in r["workload"]["metrics"]}
kinds = [k for k in r["transactions"] if k["transactions"] > 0]
print(f"scale {sys.argv[2]}: {len(kinds)} queries ran, {r['summary']['failed']} failed; "
      f"suite {m.get('suite time per pass', float('nan')):.1f} s per pass; "
      f"q-error median {m.get('q_error median', float('nan')):.1f}, worst {m.get('q_error max', float('nan')):.3g}; "
      f"{m.get('queries with rows', 0):.0f} queries found rows")
slow = sorted(kinds, key=lambda k: -k["max_ms"])[:3]
print("  slowest: " + ", ".join(f"{k['name']} {k['max_ms'] / 1000:.2f} s" for k in slow))
PY
done
