#!/usr/bin/env bash
# Replay lag: a trace learned from workloads/trace/example.log and generated with many
# concurrent sessions is replayed against one throwaway cluster at several speeds; for each
# speed the statements/s the trace asks for and achieved, and the start lag (replay lag)
# p50/p99/max. At speed 1.0 the lag is what the replay adds to the trace's own timing.
#
# Then the same trace flat out (speed 0) with each protocol: statements/s and the client's
# CPU time per statement, simple (statements as recorded) against prepared (templates
# prepared once per connection, literals bound).
#
#   scripts/bench-replay.sh                        # 40,000 statements, 50 sessions, speeds 1 2 4
#   STATEMENTS=100000 SESSIONS=100 SPEEDS="1" scripts/bench-replay.sh
set -euo pipefail
cd "$(dirname "$0")/.."

STATEMENTS=${STATEMENTS:-40000}
SESSIONS=${SESSIONS:-50}
SPEEDS=${SPEEDS:-1 2 4}
PORT=${BENCH_PGPORT:-55439}
export STORMBENCH_TEST_PGPORT=$PORT STORMBENCH_TEST_PGDATA=${BENCH_PGDATA:-/tmp/stormbench-bench-pg}
export STORMBENCH_DB_SSLMODE=disable
bash scripts/pg-test-cluster.sh start >/dev/null
WORK=$(mktemp -d)
trap 'bash scripts/pg-test-cluster.sh stop >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
eval "$(bash scripts/pg-test-cluster.sh env)"

cargo build --release --quiet
SB=${CARGO_TARGET_DIR:-target}/release/stormbench
"$SB" trace learn --input workloads/trace/example.log --out "$WORK/model.json" >/dev/null
"$SB" trace generate --model "$WORK/model.json" -n "$STATEMENTS" --sessions "$SESSIONS" \
    --seed 1 --out "$WORK/trace.jsonl" >/dev/null
cat >"$WORK/replay.yaml" <<EOF
workload: trace_replay
duration: 30m
summary_interval: 0s
trace:
  file: $WORK/trace.jsonl
  schema_from: simple
EOF
ARGS=(--host 127.0.0.1 --port "$PORT" -u stormbench --dbname stormbench_test -q)
"$SB" "${ARGS[@]}" --config "$WORK/replay.yaml" --setup --no-run >/dev/null 2>&1

# workers = the trace's peak of concurrent sessions, so no session waits for another
peak=$(python3 - "$WORK/trace.jsonl" <<'PY'
import json, sys
span = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    a, b = span.get(r['session'], (r['ts_ms'], r['ts_ms']))
    span[r['session']] = (min(a, r['ts_ms']), max(b, r['ts_ms']))
events = sorted([(a, 1) for a, _ in span.values()] + [(b, -1) for _, b in span.values()],
                key=lambda e: (e[0], -e[1]))
open_, peak = 0, 0
for _, d in events:
    open_ += d
    peak = max(peak, open_)
print(peak)
PY
)
printf '%s statements in %s generated sessions (from %s)\n' "$STATEMENTS" "$SESSIONS" \
    workloads/trace/example.log
printf '%-6s %-8s %10s %10s %10s %9s %9s %9s %7s\n' speed workers "trace st/s" "done st/s" \
    "measured" "lag p50" "lag p99" "lag max" errors
for speed in $SPEEDS; do
    json="$WORK/r-$speed.json"
    cat >"$WORK/speed.yaml" <<EOF
$(cat "$WORK/replay.yaml")
  replay:
    speed: $speed
EOF
    "$SB" "${ARGS[@]}" --config "$WORK/speed.yaml" --workers "$peak" --connections "$peak" \
        --json "$json" >/dev/null
    python3 - "$json" "$speed" "$peak" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
m = {x['name']: x['value'] for x in r['workload']['metrics']}
lag = r['pacing']['lag']
span = m['trace span'] / float(sys.argv[2])
done = r['summary']['transactions'] + r['summary']['failed']
print(f"{sys.argv[2]:<6} {sys.argv[3]:<8} {m['trace statements'] / span:10.0f} "
      f"{done / r['measured_s']:10.0f} {r['measured_s']:9.1f}s {lag['p50_ms']:7.3f}ms "
      f"{lag['p99_ms']:7.3f}ms {lag['max_ms']:7.1f}ms {r['errors']['total']:7d}")
PY
done

printf '\n%-9s %10s %14s %7s\n' protocol "st/s" "client us/st" errors
for protocol in simple prepared simple prepared; do
    json="$WORK/p-$protocol.json"
    cat >"$WORK/flat.yaml" <<EOF
$(cat "$WORK/replay.yaml")
  replay:
    speed: 0
    protocol: $protocol
EOF
    /usr/bin/time -f "%U %S" -o "$WORK/time" "$SB" "${ARGS[@]}" --config "$WORK/flat.yaml" \
        --workers "$peak" --connections "$peak" --json "$json" >/dev/null
    python3 - "$json" "$protocol" "$WORK/time" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
user, sys_ = map(float, open(sys.argv[3]).read().split())
done = r['summary']['transactions'] + r['summary']['failed']
print(f"{sys.argv[2]:<9} {done / r['measured_s']:10.0f} {(user + sys_) * 1e6 / done:14.2f} "
      f"{r['errors']['total']:7d}")
PY
done
