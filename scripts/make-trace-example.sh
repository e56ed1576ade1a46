#!/usr/bin/env bash
# Produces workloads/trace/example.log: a real PostgreSQL stderr log of a short
# `simple` mixed run, with every statement logged (log_statement = 'all', bind
# parameters in DETAIL lines) under the prefix '%m [%p] %q%u@%d '.
#
# Usage: scripts/make-trace-example.sh [LINES]   (default 6000)
# Starts a second throwaway cluster (port 55450) and stops it afterwards.
set -euo pipefail

cd "$(dirname "$0")/.."
LINES_WANTED="${1:-6000}"
export STORMBENCH_TEST_PGPORT="${TRACE_EXAMPLE_PGPORT:-55450}"
export STORMBENCH_TEST_PGDATA="${TRACE_EXAMPLE_PGDATA:-${TMPDIR:-/tmp}/stormbench-trace-pg}"
OUT=workloads/trace/example.log

cargo build -q -j 2
BIN="${CARGO_TARGET_DIR:-target}/debug/stormbench"

bash scripts/pg-test-cluster.sh start
trap 'bash scripts/pg-test-cluster.sh stop' EXIT
eval "$(bash scripts/pg-test-cluster.sh env)"

PSQL=(psql -X -q -h 127.0.0.1 -p "$STORMBENCH_TEST_PGPORT" -U stormbench -d stormbench_test)
# Load the schema first, so the captured log only holds the measured run.
"$BIN" -w simple_mixed --host 127.0.0.1 --port "$STORMBENCH_TEST_PGPORT" -u stormbench \
    --dbname stormbench_test --scale 1 --setup -d 1s --no-summary >/dev/null
"${PSQL[@]}" <<'SQL'
ALTER SYSTEM SET log_statement = 'all';
ALTER SYSTEM SET log_line_prefix = '%m [%p] %q%u@%d ';
ALTER SYSTEM SET log_connections = off;
ALTER SYSTEM SET log_disconnections = off;
SELECT pg_reload_conf();
SQL
LOG="$STORMBENCH_TEST_PGDATA/server.log"
START=$(($(wc -l <"$LOG") + 1))
"$BIN" -w simple_mixed --host 127.0.0.1 --port "$STORMBENCH_TEST_PGPORT" -u stormbench \
    --dbname stormbench_test --scale 1 --workers 8 --connections 8 --rate 400 -d 6s \
    --no-summary >/dev/null
"${PSQL[@]}" -c "ALTER SYSTEM RESET ALL" -c "SELECT pg_reload_conf()" >/dev/null
tail -n +"$START" "$LOG" | grep -v 'ALTER SYSTEM\|pg_reload_conf\|received SIGHUP\|parameter ".*" changed' |
    head -n "$LINES_WANTED" >"$OUT"
# the cut may fall between an `execute` line (and its blank continuation lines) and the
# DETAIL line with its parameters: drop such a statement, which could not be replayed
while [[ -s $OUT ]] && tail -n 1 "$OUT" | grep -q '^[[:space:]]*$'; do
    sed -i '$ d' "$OUT"
done
if tail -n 1 "$OUT" | grep -q 'LOG:  execute .*\$1'; then
    sed -i '$ d' "$OUT"
fi
echo "wrote $(wc -l <"$OUT") lines to $OUT"
