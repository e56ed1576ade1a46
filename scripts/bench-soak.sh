#!/usr/bin/env bash
# A soak in one run: stormbench at a fixed rate for LONG (default 60 minutes) against a
# throwaway cluster, beside a SHORT (1 minute) run of the same configuration, and the
# figures a soak must keep: resident memory at 5 minutes and at the end (target: within
# 5%), the report's size, and client CPU per transaction against the short run (target:
# within 5%).
#
#   scripts/bench-soak.sh
#   LONG=10m RATE=2000 scripts/bench-soak.sh
#   LONG=30m WINDOW=2m scripts/bench-soak.sh   # a full-resolution window of 2 minutes
#
# The time series keeps WINDOW (default 1h, stormbench's default) at full resolution and
# up to as much again merged, so memory grows with it for up to twice WINDOW and is flat
# after: FROM (seconds, default 300) should be past that to judge flatness.
#
# Uses its own cluster (BENCH_PGPORT, default 55440). Prints the figures only.
set -euo pipefail
cd "$(dirname "$0")/.."

LONG=${LONG:-60m}
SHORT=${SHORT:-1m}
RATE=${RATE:-2000}
WORKERS=${WORKERS:-8}
WINDOW=${WINDOW:-1h}
FROM=${FROM:-300}
PORT=${BENCH_PGPORT:-55440}
DATA=${BENCH_PGDATA:-/tmp/stormbench-bench-soak}
source scripts/bench-cluster.sh
command -v /usr/bin/time >/dev/null || { echo "GNU time (package time) is needed" >&2; exit 1; }

target=(--host 127.0.0.1 --port "$PORT" -u stormbench --dbname postgres)
"$SB" "${target[@]}" -w simple_read --scale 1 --rebuild --no-run -q >/dev/null

printf 'time_series_full_resolution: %s\n' "$WINDOW" >"$WORK/window.yaml"
run() { # duration name: $WORK/name.time (user_s sys_s), name.rss (seconds rss_kib anon_kib file_kib, every 10 s)
    /usr/bin/time -f '%U %S' -o "$WORK/$2.time" "$SB" -c "$WORK/window.yaml" "${target[@]}" -w simple_read --scale 1 \
        --workers "$WORKERS" --connections "$WORKERS" --rate "$RATE" -d "$1" --warmup 5s \
        --collect-pg-stats --history "$WORK/history.sqlite" --json "$WORK/$2.json" \
        --html "$WORK/$2.html" -q >/dev/null &
    local timer=$! pid="" t=0
    while [[ -z $pid ]] && kill -0 "$timer" 2>/dev/null; do
        sleep 0.2
        pid=$(pgrep -P "$timer" || true)
    done
    # resident memory from outside, so merged time-series points cannot hide it
    while [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; do
        # RSS, and its heap (RssAnon) and program-file (RssFile: code paged in) parts
        echo "$t $(awk '/^(VmRSS|RssAnon|RssFile):/ { printf "%s ", $2 }' "/proc/$pid/status" 2>/dev/null || true)" >>"$WORK/$2.rss"
        sleep 10
        t=$((t + 10))
    done
    wait "$timer"
}

field() { # json path (jq-less): the first number after "key":
    grep -o "\"$2\": *[0-9.e+-]*" "$1" | head -1 | grep -o '[0-9.e+-]*$'
}

echo "== $LONG at $RATE transactions/s ($WORKERS workers), full-resolution window $WINDOW, then $SHORT"
run "$LONG" long
run "$SHORT" short

cpu_per_tx() { # name -> microseconds of client CPU per transaction
    local tx
    tx=$(field "$WORK/$1.json" transactions)
    awk -v t="$(cat "$WORK/$1.time")" -v n="$tx" 'BEGIN { split(t, a, " "); printf "%.2f", (a[1] + a[2]) * 1e6 / n }'
}
# resident memory (MiB; column 2 RSS, 3 heap, 4 program file) sampled at or after
# SECONDS, or the last sample
rss_at() { # name seconds|last column
    awk -v want="$2" -v c="$3" 'NF == 4 { t = $1; r = $c; if (want != "last" && t >= want && !done) { printf "%.1f\n", r / 1024; done = 1 } }
        END { if (want == "last") printf "%.1f\n", r / 1024 }' "$WORK/$1.rss"
}
for part in "2 RSS" "3 heap (RssAnon)" "4 program file (RssFile)"; do
    col=${part%% *}
    R5=$(rss_at long "$FROM" "$col")
    RE=$(rss_at long last "$col")
    printf 'client %s (full-resolution window %s): %s MiB at %s s, %s MiB at the end of %s (%+.1f%%)\n' "${part#* }" "$WINDOW" "$R5" "$FROM" "$RE" "$LONG" \
        "$(awk -v a="$R5" -v b="$RE" 'BEGIN { print (b / a - 1) * 100 }')"
done
printf 'report size after %s: JSON %s KiB, HTML %s KiB (%s time-series points)\n' "$LONG" \
    "$(( $(stat -c %s "$WORK/long.json") / 1024 ))" "$(( $(stat -c %s "$WORK/long.html") / 1024 ))" \
    "$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["time_series"]))' "$WORK/long.json")"
CS=$(cpu_per_tx short)
CL=$(cpu_per_tx long)
printf 'client CPU per transaction: %s us over %s, %s us over %s (%+.1f%%)\n' "$CS" "$SHORT" "$CL" "$LONG" \
    "$(awk -v a="$CS" -v b="$CL" 'BEGIN { print (b / a - 1) * 100 }')"
printf 'throughput: %s tps over %s, %s tps over %s (target %s)\n' "$(field "$WORK/short.json" tps)" "$SHORT" \
    "$(field "$WORK/long.json" tps)" "$LONG" "$RATE"
