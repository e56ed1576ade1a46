#!/usr/bin/env bash
# The vector workload's figures on PostgreSQL 18 with pgvector (the binaries
# scripts/pg-extra-versions.sh installs), for two data sets: ITEMS x DIMS clustered vectors
# (default 100,000 x 128, l2) and the wordllama embeddings (31,900 items and 100 queries of
# 256 dimensions, cosine; fetched from PyPI by scripts/wordllama-vectors.sh):
#   - load rate, ground-truth time, HNSW (m 16, ef_construction 64) build time and size;
#   - recall@10 and QPS at ef_search 10/40/100/200 at 1 and 8 workers, with the client's
#     CPU per query and its share of the machine;
#   - filtered recall at 1% selectivity;
#   - recall over time in streaming at 500 inserts/s (clustered set only).
#
#   scripts/bench-vector.sh
#   SECS=10 ITEMS=20000 DATASETS=clustered scripts/bench-vector.sh
#
# Uses its own cluster (BENCH_PGPORT, default 55441). Prints the figures only.
set -euo pipefail
cd "$(dirname "$0")/.."

SECS=${SECS:-20}
ITEMS=${ITEMS:-100000}
DIMS=${DIMS:-128}
DATASETS=${DATASETS:-"clustered wordllama"}
PORT=${BENCH_PGPORT:-55441}
DATA=${BENCH_PGDATA:-/tmp/stormbench-bench-vector}
command -v /usr/bin/time >/dev/null || { echo "GNU time (package time) is needed" >&2; exit 1; }
bash scripts/pg-extra-versions.sh install >/dev/null
eval "$(bash scripts/pg-extra-versions.sh env)"
export STORMBENCH_TEST_PGBINDIR=$STORMBENCH_TEST_PG18_BINDIR STORMBENCH_TEST_PGSS=off
source scripts/bench-cluster.sh
CORES=$(nproc)
WL=$(pwd)/workloads

# writes $WORK/$1.yaml: the data set's vector section plus the rest
config() { # name "vector: {...}" extra-yaml
    printf 'workloads_path: [%s]\nworkload: vector\nhistory: off\nwarmup: 3s\n%s\n%s\n' \
        "$WL" "$2" "${3:-}" >"$WORK/$1.yaml"
}
target=(--host 127.0.0.1 --port "$PORT" -u stormbench --dbname postgres)
sb() { "$SB" "${target[@]}" "$@"; }

# the first number after "key": in a JSON report
field() { python3 - "$1" "$2" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for m in r["workload"]["metrics"]:
    if m["name"] == sys.argv[2]:
        print(f"{m['value']:.4g}"); break
else:
    print("nan")
PY
}

run_timed() { # name config-name extra-args... -> prints "tps cpu_us_per_query machine_cpu_pct"
    local name=$1 cfg=$2
    shift 2
    /usr/bin/time -f '%U %S %e' -o "$WORK/$name.time" \
        "$SB" "${target[@]}" -c "$WORK/$cfg.yaml" -q --json "$WORK/$name.json" "$@" >/dev/null
    python3 - "$WORK/$name.json" "$WORK/$name.time" "$CORES" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
u, s, wall = map(float, open(sys.argv[2]).read().split())
n = r["summary"]["transactions"]
tps = r["summary"]["tps"]
print(f"{tps:.1f} {(u + s) * 1e6 / max(n, 1):.1f} {100 * (u + s) / wall / int(sys.argv[3]):.1f}")
PY
}

bench() { # dataset "vector: {...}"
    local set=$1 section=$2
    echo "== $set: $section"
    config "$set-setup" "$section" "mode: search"
    local out
    out=$(sb -c "$WORK/$set-setup.yaml" --rebuild --no-run 2>&1)
    echo "$out" | grep -E "vec_items:|ground truth:|index build:|index_bytes:|table_bytes:|total:" | sed 's/^ */  /'
    printf '  %-12s %-8s %10s %8s %12s %10s\n' ef_search workers QPS recall "cpu us/query" "client %"
    for w in 1 8; do
        for ef in 10 40 100 200; do
            config "$set-s" "${section%\}}, ef_search: $ef, iterative_scan: off}" \
                "mode: search\nworkers: $w\nduration: ${SECS}s"
            sed -i 's/\\n/\n/g' "$WORK/$set-s.yaml"
            read -r tps cpu pct < <(run_timed "$set-$w-$ef" "$set-s")
            printf '  %-12s %-8s %10s %8s %12s %10s\n' "$ef" "$w" "$tps" \
                "$(field "$WORK/$set-$w-$ef.json" recall)" "$cpu" "$pct"
        done
    done
    config "$set-f" "${section%\}}, selectivity: 0.01}" "mode: filtered\nworkers: 8\nduration: ${SECS}s"
    sed -i 's/\\n/\n/g' "$WORK/$set-f.yaml"
    read -r tps cpu pct < <(run_timed "$set-filtered" "$set-f")
    echo "  filtered at 1%: $tps QPS, filtered recall $(field "$WORK/$set-filtered.json" filtered_recall), selectivity $(field "$WORK/$set-filtered.json" filtered_selectivity), $cpu us/query"
}

for set in $DATASETS; do
    case $set in
        clustered)
            bench clustered "vector: {items: $ITEMS, dimensions: $DIMS, metric: l2, index: hnsw, m: 16, ef_construction: 64}"
            config stream "vector: {items: $ITEMS, dimensions: $DIMS, metric: l2, index: hnsw, m: 16, ef_construction: 64, insert_rate: 500, recall_every: 10s}" \
                "mode: streaming
workers: 4
duration: 60s"
            read -r tps cpu pct < <(run_timed stream stream)
            python3 - "$WORK/stream.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
g = {x["name"]: x for x in r["workload"]["groups"]}
s = {x["name"]: x for x in r["workload"]["measure_series"]}
pts = " ".join(f"{t:.0f}s:{v:.3f}" for t, v in s["recall_now"]["points"])
print(f"  streaming: inserts {g['writers']['tps']:.1f}/s (target {g['writers']['target_tps']:.0f}), searches {g['searchers']['tps']:.1f}/s; recall@10 over time {pts}")
PY
            ;;
        wordllama)
            npy=$WORK/wordllama.npy
            bash scripts/wordllama-vectors.sh "$npy" >/dev/null
            bench wordllama "vector: {source: file, file: $npy, items: 31900, queries: 100, dimensions: 256, metric: cosine, index: hnsw, m: 16, ef_construction: 64}"
            ;;
        *) echo "unknown data set $set (clustered, wordllama)" >&2; exit 2 ;;
    esac
done
