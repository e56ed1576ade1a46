#!/usr/bin/env bash
# Overhead of a progressive sweep: wall-clock time beyond the sum of its bands, warm-ups and
# cool-downs (target: under 1 s per band), and the analysis time for 50 bands.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${BENCH_PGPORT:-55439}
export STORMBENCH_TEST_PGPORT=$PORT STORMBENCH_TEST_PGDATA=${BENCH_PGDATA:-/tmp/stormbench-bench-pg}
export STORMBENCH_DB_SSLMODE=disable
bash scripts/pg-test-cluster.sh start >/dev/null
trap 'bash scripts/pg-test-cluster.sh stop >/dev/null 2>&1 || true' EXIT
cargo build --release --quiet
SB=${CARGO_TARGET_DIR:-target}/release/stormbench
cfg=$(mktemp --suffix=.yaml)
cat > "$cfg" <<YAML
workload: simple_read
scale: 10
progressive:
  enabled: true
  strategy: exponential
  min_workers: 1
  max_workers: 64
  band_duration: 5s
  warmup: 2s
  cooldown: 1s
YAML
json=$(mktemp --suffix=.json)
"$SB" --host 127.0.0.1 --port "$PORT" -u stormbench --dbname stormbench_test --config "$cfg" --setup --no-run -q >/dev/null
"$SB" --host 127.0.0.1 --port "$PORT" -u stormbench --dbname stormbench_test --config "$cfg" --json "$json" -q >/dev/null
python3 - "$json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
n = len(r["bands"])
print(f"sweep: {n} bands, wall {r['wall_s']:.2f}s, planned {r['planned_s']:.2f}s, "
      f"overhead {(r['wall_s'] - r['planned_s']) / n:.3f}s per band; analysis {r['analysis']['analysis_ms']:.2f} ms")
PY
# a debug build: an upper bound of the release figure
cargo test --quiet --lib fifty_bands -- --nocapture 2>&1 | grep -E "analysis of 50 bands"
rm -f "$cfg" "$json"
