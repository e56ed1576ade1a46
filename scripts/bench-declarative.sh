#!/usr/bin/env bash
# The cost of the declarative path: example_bank in its read mode (one primary-key
# SELECT per transaction, declared in workloads/example_bank/workload.yaml) against the
# built-in simple_read (the same query shape, hand-written in Rust), on one cluster, in
# one invocation. Both tables hold SCALE x 100,000 accounts. Runs are interleaved
# (declarative, built-in, built-in, declarative, ...) with the same workers, connections,
# threads and duration; the median of each is printed with the client's CPU time per
# transaction (user+sys of the stormbench process / transactions) and the ratios. Both
# run on the tokio-postgres driver (declarative workloads have no wire-driver path yet), so
# the difference is the declarative layer alone.
#
#   scripts/bench-declarative.sh                       # the test cluster (scripts/pg-test-cluster.sh env)
#   PGHOST=db PGPORT=5432 PGUSER=bench scripts/bench-declarative.sh
#   SCALE=10 DURATION=15 REPEAT=3 WORKERS=16 THREADS=2 scripts/bench-declarative.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SCALE=${SCALE:-10}
DURATION=${DURATION:-15}
REPEAT=${REPEAT:-3}
WORKERS=${WORKERS:-16}
THREADS=${THREADS:-2}
HOST=${PGHOST:-${STORMBENCH_TEST_PGHOST:-127.0.0.1}}
PORT=${PGPORT:-${STORMBENCH_TEST_PGPORT:-5432}}
USER_=${PGUSER:-${STORMBENCH_TEST_PGUSER:-$(id -un)}}
DB=${BENCH_DB:-stormbench_decl_bench}
PSQL=psql
if [[ -n "${STORMBENCH_TEST_PGBINDIR:-}" ]]; then PSQL=$STORMBENCH_TEST_PGBINDIR/psql; fi
if [[ -n "${PGPASSWORD:-}" ]]; then export STORMBENCH_DB_PASSWORD=$PGPASSWORD; fi
# no TLS for either run: a TLS context would cost the same fixed CPU in both, blurring short runs
export PGSSLMODE=${PGSSLMODE:-disable} STORMBENCH_DB_SSLMODE=${STORMBENCH_DB_SSLMODE:-disable}

echo "== building stormbench (release)"
cargo build --release --quiet
SB=${CARGO_TARGET_DIR:-target}/release/stormbench
CONN=(--host "$HOST" --port "$PORT" -u "$USER_" --dbname "$DB" --workloads-path workloads)

"$PSQL" -h "$HOST" -p "$PORT" -U "$USER_" -d postgres -qAtc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
echo "== loading example_bank and simple at scale $SCALE ($((SCALE * 100000)) accounts each)"
"$SB" "${CONN[@]}" -w example_bank_read --scale "$SCALE" --rebuild --no-run -q >/dev/null
"$SB" "${CONN[@]}" -w simple_read --scale "$SCALE" --rebuild --no-run -q >/dev/null
"$PSQL" -h "$HOST" -p "$PORT" -U "$USER_" -d "$DB" -qAtc "CHECKPOINT" >/dev/null

TIMEFMT="cpu %U %S"
run() { # workload -> "tps cpu_s transactions"
    local out json=/tmp/stormbench-decl-bench-$$.json
    out=$( { /usr/bin/time -f "$TIMEFMT" "$SB" "${CONN[@]}" -w "$1" --scale "$SCALE" \
        --workers "$WORKERS" --connections "$WORKERS" --threads "$THREADS" \
        -d "${DURATION}s" --no-summary -q --json "$json" --driver tokio-postgres; } 2>&1 )
    local tps tx cpu
    tps=$(python3 -c "import json; print(json.load(open('$json'))['summary']['tps'])")
    tx=$(python3 -c "import json; print(json.load(open('$json'))['summary']['transactions'])")
    cpu=$(awk '/^cpu /{print $2+$3}' <<<"$out")
    rm -f "$json"
    echo "$tps $cpu $tx"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
us_per_tx() { awk -v c="$1" -v t="$2" 'BEGIN{print 1e6*c/t}'; }

printf '\n== example_bank_read vs simple_read: scale %s, %s workers/connections, %s threads, %ss x %s interleaved runs\n' \
    "$SCALE" "$WORKERS" "$THREADS" "$DURATION" "$REPEAT"
printf '%4s | %-18s %10s %12s\n' run workload tps "cpu us/tx"
dt=(); bt=(); dc=(); bc=()
for r in $(seq "$REPEAT"); do
    if (( r % 2 )); then order="example_bank_read simple_read"; else order="simple_read example_bank_read"; fi
    for w in $order; do
        read -r tps cpu tx <<<"$(run "$w")"
        us=$(us_per_tx "$cpu" "$tx")
        printf '%4s | %-18s %10.0f %12.2f\n' "$r" "$w" "$tps" "$us"
        if [[ $w == example_bank_read ]]; then dt+=("$tps"); dc+=("$us"); else bt+=("$tps"); bc+=("$us"); fi
    done
done
D=$(printf '%s\n' "${dt[@]}" | median); B=$(printf '%s\n' "${bt[@]}" | median)
DC=$(printf '%s\n' "${dc[@]}" | median); BC=$(printf '%s\n' "${bc[@]}" | median)
echo
printf '%-20s %10s %12s\n' median tps "cpu us/tx"
printf '%-20s %10.0f %12.2f\n' example_bank_read "$D" "$DC"
printf '%-20s %10.0f %12.2f\n' simple_read "$B" "$BC"
printf '%-20s %9.3fx %11.3fx\n' "declarative/builtin" \
    "$(awk -v a="$D" -v b="$B" 'BEGIN{print a/b}')" "$(awk -v a="$DC" -v b="$BC" 'BEGIN{print a/b}')"
"$PSQL" -h "$HOST" -p "$PORT" -U "$USER_" -d postgres -qAtc "DROP DATABASE IF EXISTS $DB" >/dev/null
