# Sourced by the benchmark scripts that need a throwaway cluster of their own: given PORT
# and DATA, starts it (without TLS), points the libpq and stormbench variables at it, makes
# a scratch folder WORK and a release build SB (unless CLUSTER_ONLY is set); the cluster
# and WORK go when the calling script exits.
export STORMBENCH_TEST_PGPORT=$PORT STORMBENCH_TEST_PGDATA=$DATA STORMBENCH_TEST_PGSSL=off
export PGSSLMODE=disable STORMBENCH_DB_SSLMODE=disable
WORK=$(mktemp -d)
bash scripts/pg-test-cluster.sh start >/dev/null
trap 'bash scripts/pg-test-cluster.sh stop >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
eval "$(bash scripts/pg-test-cluster.sh env)"
# CLUSTER_ONLY=1: the caller builds stormbench itself
if [[ -z ${CLUSTER_ONLY:-} ]]; then
    cargo build --release --quiet
    SB=${CARGO_TARGET_DIR:-target}/release/stormbench
fi
