# Sourced by the benchmark scripts that run pgbench beside stormbench (bench-vs-pgbench.sh,
# bench-cpu-split.sh, bench-instructions.sh, ...): one throwaway cluster (PORT, DATA) with
# pgbench_accounts and simple_accounts loaded at SCALE, both held in shared buffers and prewarmed, and a
# release build of stormbench. Sets BIN (server binaries), HOST, USER_, DB, SB
# (stormbench), BENCH_TMP (a scratch dir) and SAME_SQL (stormbench's simple_read statement
# on its table as a pgbench script); the cluster and the scratch dir go when the calling
# script exits.

# An older build to compare with (BEFORE, optional) and a build to measure instead of this
# checkout's release build (SB_BIN, optional: target/pgo/stormbench of scripts/build-pgo.sh)
# must be stormbench binaries: checked before anything starts, so a wrong path (a
# directory, a device, another program) ends the script at once instead of after the
# cluster is loaded.
# rotated ROUND NAME... -> the names rotated by the round (1: as given, 2: from the second,
# ...), so no client always runs first or last in interleaved rounds
rotated() {
    local r=$1; shift
    local names=("$@") k=$(( (r - 1) % $# ))
    local out=("${names[@]:k}" "${names[@]:0:k}")
    echo "${out[*]}"
}
is_stormbench() { [[ -f $1 && -x $1 ]] && "$1" --version 2>/dev/null | grep -q '^stormbench '; }
if [[ -n ${BEFORE:-} ]] && ! is_stormbench "$BEFORE"; then
    echo "BEFORE=$BEFORE is not a stormbench binary: give the path of an older build (target/release/stormbench of that commit)" >&2
    exit 2
fi
if [[ -n ${SB_BIN:-} ]] && ! is_stormbench "$SB_BIN"; then
    echo "SB_BIN=$SB_BIN is not a stormbench binary: give the path of a build (target/release/stormbench, target/pgo/stormbench)" >&2
    exit 2
fi

export STORMBENCH_TEST_PGPORT=$PORT STORMBENCH_TEST_PGDATA=$DATA
# Both tables (pgbench_accounts and simple_accounts with their keys, about 150 MB each at
# scale 10) stay in shared buffers, so no client inherits a cache warmed or emptied by the
# run before it.
export STORMBENCH_TEST_PGCONF=${STORMBENCH_TEST_PGCONF:-"shared_buffers = $(( 64 + SCALE * 40 ))MB"}
# Both clients without TLS (the cluster has none): libpq would skip it anyway, while
# building a TLS context costs a fixed slice of CPU that would blur short runs.
export PGSSLMODE=disable STORMBENCH_DB_SSLMODE=disable STORMBENCH_TEST_PGSSL=${STORMBENCH_TEST_PGSSL:-off}
BENCH_TMP=$(mktemp -d)
bash scripts/pg-test-cluster.sh start >/dev/null
trap 'bash scripts/pg-test-cluster.sh stop >/dev/null 2>&1 || true; rm -rf "$BENCH_TMP"' EXIT
eval "$(bash scripts/pg-test-cluster.sh env)"
BIN=$STORMBENCH_TEST_PGBINDIR
HOST=127.0.0.1 USER_=stormbench DB=stormbench_bench
# rows of pgbench_accounts and of simple_accounts at SCALE (100,000 per scale unit in both)
ROWS=$(( SCALE * 100000 ))
# stormbench's simple_read statement on its table (keys 1..rows, uniform) for pgbench -f
SAME_SQL=$BENCH_TMP/same-query.sql
printf '\\set id random(1, %d)\nSELECT balance FROM simple_accounts WHERE id = :id;\n' \
    "$ROWS" > "$SAME_SQL"

if [[ -n ${SB_BIN:-} ]]; then
    SB=$SB_BIN
    echo "== measuring $SB"
else
    echo "== building stormbench (release)"
    cargo build --release --quiet
    SB=${CARGO_TARGET_DIR:-target}/release/stormbench
fi

"$BIN/psql" -h $HOST -p "$PORT" -U $USER_ -d postgres -qAtc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
echo "== loading pgbench scale $SCALE and stormbench simple scale $SCALE (both $ROWS rows)"
"$BIN/pgbench" -h $HOST -p "$PORT" -U $USER_ -i -q -s "$SCALE" $DB >/dev/null 2>&1
"$SB" --host $HOST --port "$PORT" -u $USER_ --dbname $DB -w simple_read --scale "$SCALE" --rebuild --no-run -q >/dev/null
"$BIN/psql" -h $HOST -p "$PORT" -U $USER_ -d $DB -qAtc "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
"$BIN/psql" -h $HOST -p "$PORT" -U $USER_ -d $DB -qAtc "CREATE EXTENSION IF NOT EXISTS pg_prewarm" \
    -c "SELECT pg_prewarm(c) FROM unnest(ARRAY['pgbench_accounts', 'pgbench_accounts_pkey', 'simple_accounts', 'simple_accounts_pkey']::regclass[]) c" >/dev/null
