#!/usr/bin/env bash
# What splitting a run over shard processes costs, on one throwaway cluster in one run:
#   - one process against 2 and 4 shard processes (started together through a barrier)
#     at the same total workers, rate and client threads (THREADS, default 4, split over
#     the processes): total throughput, and client CPU per transaction (user+sys of every
#     process over the transactions of the merged report; target: sharding costs under
#     3%), each configuration REPEAT times interleaved;
#   - beside each shard count, as many independent processes (no --shard, no barrier),
#     each given its share of the workers, rate and threads by hand: what running more,
#     less busy processes costs on its own, so the shards' figure splits into that and
#     what the shard machinery (striping, barrier, merge) adds;
#   - the time `stormbench merge` takes for MERGE_SHARDS (16) shard reports of a run of
#     MERGE_LONG (1h; a light open-loop run, so the reports have an hour of series).
#
#   scripts/bench-shards.sh
#   WORKERS=16 RATE=4000 SECS=30 REPEAT=3 MERGE_LONG=10m scripts/bench-shards.sh
#   MERGE_LONG=0 scripts/bench-shards.sh      # skip the merge timing
#   REPEAT=0 scripts/bench-shards.sh          # only the merge timing
#
# Uses its own cluster (BENCH_PGPORT, default 55444). Prints the figures only.
set -euo pipefail
cd "$(dirname "$0")/.."

WORKERS=${WORKERS:-16}
RATE=${RATE:-4000}
SECS=${SECS:-30}
REPEAT=${REPEAT:-3}
SHARDS=${SHARDS:-"1 2 4"}
MERGE_SHARDS=${MERGE_SHARDS:-16}
MERGE_LONG=${MERGE_LONG:-1h}
MERGE_RATE=${MERGE_RATE:-320}
THREADS=${THREADS:-4}
PORT=${BENCH_PGPORT:-55444}
DATA=${BENCH_PGDATA:-/tmp/stormbench-bench-shards}
command -v /usr/bin/time >/dev/null || { echo "GNU time (package time) is needed" >&2; exit 1; }
source scripts/bench-cluster.sh

target=(--host 127.0.0.1 --port "$PORT" -u stormbench --dbname postgres)
"$SB" "${target[@]}" -w simple_read --scale 10 --rebuild --no-run -q >/dev/null

# one configuration: n processes, as shards (a barrier when n > 1) or, with "solo", as n
# independent processes each given its share by hand
run() { # n run-name duration rate workers [solo]
    local n=$1 name=$2 dur=$3 rate=$4 workers=$5 solo=${6:-} i
    local dir="$WORK/$name"
    mkdir -p "$dir"
    local pids=()
    for ((i = 0; i < n; i++)); do
        local part=()
        if [[ -n $solo ]]; then
            part=(--workers "$((workers / n))" --rate "$(awk -v r="$rate" -v n="$n" 'BEGIN { print r / n }')" --seed "$((i + 1))")
        else
            part=(--workers "$workers" --rate "$rate")
            ((n > 1)) && part+=(--shard "$i/$n" --barrier "$name")
        fi
        local threads=$((THREADS / n))
        ((threads < 1)) && threads=1
        /usr/bin/time -f '%U %S %w %c' -o "$dir/$i.time" "$SB" "${target[@]}" -w simple_read --scale 10 \
            -d "$dur" --warmup 2s --history off --no-summary -q --threads "$threads" \
            "${part[@]}" --json "$dir/$i.json" >/dev/null &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p"; done
}

# CPU per transaction of a finished configuration: all processes' CPU over the merged
# count (over the summed counts for independent processes); prints "tps cpu_us_per_tx"
figures() { # n run-name [solo]
    local n=$1 dir="$WORK/$2" merged
    if [[ -n ${3:-} ]]; then
        python3 - "$dir" <<'PY'
import glob, json, sys
cpu = cs = tx = tps = 0.0
for f in glob.glob(sys.argv[1] + "/*.time"):
    u, s, w, c = open(f).read().split()[-4:]
    cpu += float(u) + float(s)
    cs += float(w) + float(c)
for f in glob.glob(sys.argv[1] + "/*.json"):
    r = json.load(open(f))
    tx += r["summary"]["transactions"] + r["summary"]["failed"]
    tps += r["summary"]["tps"]
print(f"{tps:.1f} {cpu * 1e6 / tx:.2f} {cs / tx:.2f}")
PY
        return
    fi
    if ((n > 1)); then
        "$SB" merge "$dir"/[0-9]*.json --json "$dir/merged.json" >/dev/null
        merged="$dir/merged.json"
    else
        merged="$dir/0.json"
    fi
    python3 - "$merged" "$dir" <<'PY'
import glob, json, sys
r = json.load(open(sys.argv[1]))
cpu = cs = 0.0
for f in glob.glob(sys.argv[2] + "/*.time"):
    u, s, w, c = open(f).read().split()[-4:]
    cpu += float(u) + float(s)
    cs += float(w) + float(c)
tx = r["summary"]["transactions"] + r["summary"]["failed"]
print(f"{r['summary']['tps']:.1f} {cpu * 1e6 / tx:.2f} {cs / tx:.2f}")
PY
}

declare -A results
((REPEAT > 0)) &&
    echo "== $WORKERS workers at $RATE tx/s over $SECS s (simple_read, scale 10), $THREADS client threads in all, as 1 process and as shards; $REPEAT rounds"
label() { if (($1 == 1)); then echo "1 process"; else echo "$1 shard processes"; fi; }
for ((k = 1; k <= REPEAT; k++)); do
    for n in $SHARDS; do
        run "$n" "r${k}n$n" "${SECS}s" "$RATE" "$WORKERS"
        f=$(figures "$n" "r${k}n$n")
        results[$n]+="$f;"
        printf '  round %d, %s: %s tps, %s us of client CPU and %s context switches per transaction\n' "$k" "$(label "$n")" ${f}
        ((n > 1)) || continue
        run "$n" "r${k}s$n" "${SECS}s" "$RATE" "$WORKERS" solo
        f=$(figures "$n" "r${k}s$n" solo)
        results[s$n]+="$f;"
        printf '  round %d, %d independent processes: %s tps, %s us of client CPU and %s context switches per transaction\n' "$k" "$n" ${f}
    done
done
median() { # key: prints "tps cpu" of the round with the median CPU
    printf '%s' "${results[$1]}" | tr ';' '\n' | sort -k2 -n | awk 'NF { a[NR] = $0 } END { print a[int((NR + 1) / 2)] }'
}
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.1f", (b / a - 1) * 100 }'; }
base=""
((REPEAT > 0)) && for n in $SHARDS; do
    read -r tps cpu cs < <(median "$n")
    [[ -z $base ]] && base=$cpu
    printf '%s: %8.1f tps  %7.2f us/tx  %s%% CPU per transaction against one process, %s context switches/tx' \
        "$(label "$n")" "$tps" "$cpu" "$(pct "$base" "$cpu")" "$cs"
    if ((n > 1)); then
        read -r stps scpu scs < <(median "s$n")
        printf ' (%d independent processes: %.2f us/tx, %s%%, %s context switches/tx; the shard machinery: %s%%)' \
            "$n" "$scpu" "$(pct "$base" "$scpu")" "$scs" "$(pct "$scpu" "$cpu")"
    fi
    printf ' (median of %d)\n' "$REPEAT"
done

if [[ $MERGE_LONG == 0 ]]; then
    exit 0
fi
echo
echo "== merge: $MERGE_SHARDS shard reports of a $MERGE_LONG run ($MERGE_RATE tx/s in all)"
run "$MERGE_SHARDS" merge "$MERGE_LONG" "$MERGE_RATE" "$MERGE_SHARDS"
bytes=$(cat "$WORK"/merge/[0-9]*.json | wc -c)
/usr/bin/time -f '%e %M' -o "$WORK/merge.time" "$SB" merge "$WORK"/merge/[0-9]*.json \
    --json "$WORK/merge/merged.json" --html "$WORK/merge/merged.html" >/dev/null
read -r secs kib <"$WORK/merge.time"
printf 'merged %d reports (%.1f MiB of JSON, %s time-series points each) in %s s, %.0f MiB resident at most\n' \
    "$MERGE_SHARDS" "$(awk -v b="$bytes" 'BEGIN { print b / 1048576 }')" \
    "$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["time_series"]))' "$WORK/merge/0.json")" \
    "$secs" "$(awk -v k="$kib" 'BEGIN { print k / 1024 }')"
