#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for the integration tests.
#
# Usage: scripts/pg-test-cluster.sh start|stop|status|env
#   start   install PostgreSQL if missing, create the cluster if needed and
#           start it (idempotent: an already running cluster is left as is)
#   stop    stop the cluster and remove its data dir
#           (STORMBENCH_TEST_PGKEEP=1 keeps the data dir)
#   status  say whether it runs; exit 0 if running, 3 if not
#   env     print export lines for the tests:
#             eval "$(scripts/pg-test-cluster.sh env)"
#
# Environment:
#   STORMBENCH_TEST_PGPORT    port on 127.0.0.1 (default 55432)
#   STORMBENCH_TEST_PGDATA    data dir (default /tmp/stormbench-test-pg)
#   STORMBENCH_TEST_PGBINDIR  server bin dir (default: discovered)
#   STORMBENCH_TEST_PGCONF    extra postgresql.conf lines, applied when the cluster is
#                             created (e.g. "shared_buffers = 512MB" for benchmarks)
#   STORMBENCH_TEST_PGSSL     on (default) or off: off makes a cluster without TLS
#   STORMBENCH_TEST_PGSS      on (default) or off: off makes a cluster without
#                             pg_stat_statements (server builds that lack it)
#
# Roles: superuser `stormbench` (trust), `stormbench_pw` (scram-sha-256,
# password `stormbench-secret-pw`), `stormbench_tls` (scram-sha-256 over TLS
# only, password `stormbench-tls-pw`), `stormbench_cert` (a client certificate over TLS
# only: `cert` authentication); database `stormbench_test` with
# pg_stat_statements. When run as root, the server runs as the postgres
# OS user.
#
# TLS: with STORMBENCH_TEST_PGSSL=on the cluster gets a certificate authority of
# its own (ca.crt in the data dir, printed by `env` as STORMBENCH_TEST_PGSSLROOTCERT)
# and a server certificate it signed for 127.0.0.1 and localhost; ssl = on. It also signs
# a client certificate for `stormbench_cert` (client.crt, client.key; printed by `env` as
# STORMBENCH_TEST_PGSSLCERT and STORMBENCH_TEST_PGSSLKEY), which the server verifies
# against the same authority.
set -euo pipefail

PORT="${STORMBENCH_TEST_PGPORT:-55432}"
DATA_DIR="${STORMBENCH_TEST_PGDATA:-/tmp/stormbench-test-pg}"
SUPERUSER=stormbench
DATABASE=stormbench_test
PW_ROLE=stormbench_pw
PW_ROLE_PASSWORD=stormbench-secret-pw
TLS_ROLE=stormbench_tls
TLS_ROLE_PASSWORD=stormbench-tls-pw
CERT_ROLE=stormbench_cert
SSL="${STORMBENCH_TEST_PGSSL:-on}"
OS_USER=postgres
MARKER=.stormbench-test-cluster
BINDIR=""

log() { printf 'pg-test-cluster: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"


has_server_binaries() {
    [[ -x "$1/initdb" && -x "$1/pg_ctl" && -x "$1/postgres" ]]
}

# Prints the server bin dir: explicit, PATH, pg_config, newest versioned dir.
find_bindir() {
    local dir candidate
    if [[ -n ${STORMBENCH_TEST_PGBINDIR:-} ]]; then
        printf '%s\n' "$STORMBENCH_TEST_PGBINDIR"
        return 0
    fi
    if candidate="$(command -v initdb 2>/dev/null)"; then
        dir="$(dirname "$(readlink -f "$candidate")")"
        if has_server_binaries "$dir"; then
            printf '%s\n' "$dir"
            return 0
        fi
    fi
    if command -v pg_config >/dev/null 2>&1; then
        dir="$(pg_config --bindir 2>/dev/null || true)"
        if [[ -n $dir ]] && has_server_binaries "$dir"; then
            printf '%s\n' "$dir"
            return 0
        fi
    fi
    while IFS= read -r dir; do
        if has_server_binaries "$dir"; then
            printf '%s\n' "$dir"
            return 0
        fi
    done < <(compgen -G '/usr/lib/postgresql/*/bin' | sort -rV)
    return 1
}


# Sets BINDIR, installing Debian's PostgreSQL packages when none is found.
require_bindir() {
    if BINDIR="$(find_bindir)"; then
        return 0
    fi
    apt_install postgresql postgresql-contrib
    BINDIR="$(find_bindir)" ||
        die "no PostgreSQL server binaries (initdb, pg_ctl, postgres) after installing postgresql"
}

pkglibdir() {
    if [[ -x "$BINDIR/pg_config" ]]; then
        "$BINDIR/pg_config" --pkglibdir
    else
        printf '%s\n' "$BINDIR/../lib"
    fi
}

require_pg_stat_statements() {
    [[ -f "$(pkglibdir)/pg_stat_statements.so" || -f "$BINDIR/../lib/pg_stat_statements.so" ]] &&
        return 0
    apt_install postgresql-contrib
    [[ -f "$(pkglibdir)/pg_stat_statements.so" || -f "$BINDIR/../lib/pg_stat_statements.so" ]] ||
        die "pg_stat_statements.so not found for $BINDIR; install the PostgreSQL contrib modules"
}

require_os_user() {
    is_root || return 0
    id -u "$OS_USER" >/dev/null 2>&1 ||
        die "running as root, but there is no '$OS_USER' OS user to run the server; install the postgresql package or run as a regular user"
    command -v runuser >/dev/null 2>&1 ||
        die "running as root, but runuser is missing; install util-linux or run as a regular user"
}

# Runs a server program, as the postgres OS user when root. Runs from / so
# that the postgres user can always resolve its working directory.
as_pg() {
    if is_root; then
        (cd / && runuser -u "$OS_USER" -- "$@")
    else
        (cd / && "$@")
    fi
}

psql_super() {
    local psql="$BINDIR/psql"
    [[ -x $psql ]] || psql="$(command -v psql)" || die "psql not found; install postgresql-client"
    PGOPTIONS="-c client_min_messages=warning" \
        "$psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U "$SUPERUSER" "$@"
}

is_running() {
    [[ -f "$DATA_DIR/PG_VERSION" ]] &&
        as_pg "$BINDIR/pg_ctl" -D "$DATA_DIR" status >/dev/null 2>&1
}

write_server_conf() {
    cat >>"$DATA_DIR/postgresql.conf" <<EOF

# stormbench test cluster
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DATA_DIR'
max_connections = 300
fsync = on
password_encryption = 'scram-sha-256'
EOF
    if [[ ${STORMBENCH_TEST_PGSS:-on} != off ]]; then
        printf '%s\n' "shared_preload_libraries = 'pg_stat_statements'" \
            "pg_stat_statements.track = all" >>"$DATA_DIR/postgresql.conf"
    fi
    if [[ -n ${STORMBENCH_TEST_PGCONF:-} ]]; then
        printf '%s\n' "$STORMBENCH_TEST_PGCONF" >>"$DATA_DIR/postgresql.conf"
    fi
    write_hba
}

write_hba() {
    # a cluster without TLS (some server builds have none) cannot name hostssl lines
    local tls_lines
    if [[ $SSL == on ]]; then
        tls_lines="hostssl    all       $CERT_ROLE     127.0.0.1/32   cert
hostnossl  all       $CERT_ROLE     127.0.0.1/32   reject
local      all       $CERT_ROLE                    reject
hostssl    all       $TLS_ROLE      127.0.0.1/32   scram-sha-256
hostnossl  all       $TLS_ROLE      127.0.0.1/32   reject
local      all       $TLS_ROLE                     reject"
    else
        tls_lines="host       all       $CERT_ROLE     127.0.0.1/32   reject
local      all       $CERT_ROLE                    reject
host       all       $TLS_ROLE      127.0.0.1/32   reject
local      all       $TLS_ROLE                     reject"
    fi
    cat >"$DATA_DIR/pg_hba.conf" <<EOF
# stormbench test cluster: $PW_ROLE needs its password, $TLS_ROLE its password and
# TLS, everyone else is trusted.
# TYPE     DATABASE  USER           ADDRESS        METHOD
$tls_lines
local      all       $PW_ROLE                      scram-sha-256
host       all       $PW_ROLE       127.0.0.1/32   scram-sha-256
local      all       all                           trust
host       all       all            127.0.0.1/32   trust
EOF
}

# Makes a certificate authority and a server certificate it signs (127.0.0.1,
# localhost) in the data dir, and turns ssl on; once per cluster.
setup_tls() {
    [[ $SSL == on && ! -f "$DATA_DIR/server.crt" ]] || return 0
    command -v openssl >/dev/null 2>&1 || apt_install openssl
    log "creating a test certificate authority and server certificate"
    local tmp
    tmp="$(mktemp -d)"
    openssl req -x509 -new -nodes -newkey rsa:2048 -days 3650 -sha256 \
        -subj "/CN=stormbench test CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout "$tmp/ca.key" -out "$tmp/ca.crt" 2>/dev/null
    openssl req -new -nodes -newkey rsa:2048 -subj "/CN=127.0.0.1" \
        -keyout "$tmp/server.key" -out "$tmp/server.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' >"$tmp/ext"
    openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" \
        -CAcreateserial -days 3650 -sha256 -extfile "$tmp/ext" \
        -out "$tmp/server.crt" 2>/dev/null
    # the client certificate of $CERT_ROLE (its CN is the role), a PKCS#8 key
    openssl req -new -nodes -newkey rsa:2048 -subj "/CN=$CERT_ROLE" \
        -keyout "$tmp/client.key" -out "$tmp/client.csr" 2>/dev/null
    printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n' >"$tmp/client.ext"
    openssl x509 -req -in "$tmp/client.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" \
        -CAcreateserial -days 3650 -sha256 -extfile "$tmp/client.ext" \
        -out "$tmp/client.crt" 2>/dev/null
    cp "$tmp/ca.crt" "$tmp/server.crt" "$tmp/server.key" "$tmp/client.crt" "$tmp/client.key" "$DATA_DIR/"
    rm -rf -- "$tmp"
    chmod 600 "$DATA_DIR/server.key" "$DATA_DIR/client.key"
    chmod 644 "$DATA_DIR/ca.crt" "$DATA_DIR/server.crt"
    if is_root; then
        chown "$OS_USER:" "$DATA_DIR/ca.crt" "$DATA_DIR/server.crt" "$DATA_DIR/server.key"
    fi
    cat >>"$DATA_DIR/postgresql.conf" <<EOF
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
ssl_ca_file = 'ca.crt'
EOF
    write_hba
}

init_cluster() {
    if [[ -e $DATA_DIR && ! -d $DATA_DIR ]]; then
        die "$DATA_DIR exists and is not a directory; give a new or empty directory (STORMBENCH_TEST_PGDATA)"
    fi
    if [[ -d $DATA_DIR && -n "$(ls -A "$DATA_DIR")" ]]; then
        die "$DATA_DIR exists and is not a cluster; remove it or set STORMBENCH_TEST_PGDATA"
    fi
    log "creating cluster in $DATA_DIR"
    mkdir -p "$DATA_DIR"
    chmod 700 "$DATA_DIR"
    if is_root; then
        chown "$OS_USER:" "$DATA_DIR"
    fi
    local out
    if ! out="$(as_pg "$BINDIR/initdb" -D "$DATA_DIR" -U "$SUPERUSER" --auth=trust \
        -E UTF8 --locale=C --no-sync 2>&1)"; then
        printf '%s\n' "$out" >&2
        die "initdb failed"
    fi
    write_server_conf
    setup_tls
    touch "$DATA_DIR/$MARKER"
}

start_server() {
    local logfile="$DATA_DIR/server.log"
    if ! as_pg "$BINDIR/pg_ctl" -D "$DATA_DIR" -w -t 60 -l "$logfile" \
        -o "-p $PORT" start >/dev/null; then
        log "last server log lines:"
        tail -n 20 "$logfile" >&2 || true
        die "the server did not start (see above)"
    fi
}

setup_roles() {
    psql_super -d postgres <<SQL
SELECT format('CREATE ROLE %I LOGIN', '$PW_ROLE')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$PW_ROLE') \gexec
ALTER ROLE $PW_ROLE LOGIN PASSWORD '$PW_ROLE_PASSWORD';
SELECT format('CREATE ROLE %I LOGIN', '$TLS_ROLE')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$TLS_ROLE') \gexec
ALTER ROLE $TLS_ROLE LOGIN PASSWORD '$TLS_ROLE_PASSWORD';
SELECT format('CREATE ROLE %I LOGIN', '$CERT_ROLE')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$CERT_ROLE') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', '$DATABASE', '$SUPERUSER')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$DATABASE') \gexec
GRANT ALL PRIVILEGES ON DATABASE $DATABASE TO $PW_ROLE;
GRANT ALL PRIVILEGES ON DATABASE $DATABASE TO $TLS_ROLE;
GRANT ALL PRIVILEGES ON DATABASE $DATABASE TO $CERT_ROLE;
SQL
    if [[ ${STORMBENCH_TEST_PGSS:-on} != off ]]; then
        psql_super -d "$DATABASE" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"
    fi
    psql_super -d "$DATABASE" <<SQL
GRANT ALL ON SCHEMA public TO $PW_ROLE;
GRANT ALL ON SCHEMA public TO $TLS_ROLE;
SQL
}

check_explicit_bindir() {
    [[ -z ${STORMBENCH_TEST_PGBINDIR:-} ]] || has_server_binaries "$STORMBENCH_TEST_PGBINDIR" ||
        die "STORMBENCH_TEST_PGBINDIR=$STORMBENCH_TEST_PGBINDIR has no initdb, pg_ctl, postgres; fix or unset it"
}

check_port() {
    if ! [[ $PORT =~ ^[0-9]{1,5}$ ]] || ((10#$PORT == 0 || 10#$PORT > 65535)); then
        die "STORMBENCH_TEST_PGPORT=$PORT is not a port number (1-65535)"
    fi
    PORT=$((10#$PORT))
}

# A data directory holding a cluster these scripts did not create (no marker) is someone
# else's: never started, stopped, written to or removed.
foreign_cluster() {
    [[ -f "$DATA_DIR/PG_VERSION" && ! -f "$DATA_DIR/$MARKER" ]]
}

cmd_start() {
    if foreign_cluster; then
        die "$DATA_DIR holds a cluster these scripts did not create; give a new or empty directory (STORMBENCH_TEST_PGDATA)"
    fi
    require_bindir
    [[ ${STORMBENCH_TEST_PGSS:-on} == off ]] || require_pg_stat_statements
    require_os_user
    if is_running; then
        log "already running on 127.0.0.1:$PORT (data dir $DATA_DIR)"
        if [[ $SSL == on && ! -f "$DATA_DIR/server.crt" ]]; then
            setup_tls
            as_pg "$BINDIR/pg_ctl" -D "$DATA_DIR" reload >/dev/null
            sleep 1
        fi
    else
        [[ ! -f "$DATA_DIR/PG_VERSION" ]] || setup_tls
        [[ -f "$DATA_DIR/PG_VERSION" ]] || init_cluster
        start_server
        log "started on 127.0.0.1:$PORT (data dir $DATA_DIR)"
    fi
    setup_roles
}

cmd_stop() {
    if foreign_cluster; then
        log "$DATA_DIR holds a cluster these scripts did not create: left alone"
        return
    fi
    if BINDIR="$(find_bindir)" && is_running; then
        as_pg "$BINDIR/pg_ctl" -D "$DATA_DIR" -m fast -w -t 60 stop >/dev/null
        log "stopped"
    else
        log "not running"
    fi
    if [[ ${STORMBENCH_TEST_PGKEEP:-0} != 1 && -f "$DATA_DIR/$MARKER" ]]; then
        rm -rf -- "$DATA_DIR"
        log "removed $DATA_DIR"
    fi
}

cmd_status() {
    if BINDIR="$(find_bindir)" && is_running; then
        log "running on 127.0.0.1:$PORT (data dir $DATA_DIR, bin dir $BINDIR)"
        return 0
    fi
    log "not running (data dir $DATA_DIR)"
    return 3
}

cmd_env() {
    BINDIR="$(find_bindir)" ||
        die "no PostgreSQL server binaries found; run '$0 start' first"
    printf 'export STORMBENCH_TEST_PGHOST=127.0.0.1 STORMBENCH_TEST_PGPORT=%q STORMBENCH_TEST_PGUSER=%q STORMBENCH_TEST_PGDATABASE=%q STORMBENCH_TEST_PGBINDIR=%q\n' \
        "$PORT" "$SUPERUSER" "$DATABASE" "$BINDIR"
    if [[ -f "$DATA_DIR/ca.crt" ]] && grep -q '^ssl = on' "$DATA_DIR/postgresql.conf" 2>/dev/null; then
        printf 'export STORMBENCH_TEST_PGSSLROOTCERT=%q STORMBENCH_TEST_PGSSLCERT=%q STORMBENCH_TEST_PGSSLKEY=%q\n' \
            "$DATA_DIR/ca.crt" "$DATA_DIR/client.crt" "$DATA_DIR/client.key"
    else
        printf 'unset STORMBENCH_TEST_PGSSLROOTCERT STORMBENCH_TEST_PGSSLCERT STORMBENCH_TEST_PGSSLKEY\n'
    fi
}

main() {
    check_port
    check_explicit_bindir
    case "$DATA_DIR" in
    /*) ;;
    *) DATA_DIR="$PWD/$DATA_DIR" ;;
    esac
    case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    env) cmd_env ;;
    *)
        printf 'usage: %s start|stop|status|env\n' "$0" >&2
        exit 2
        ;;
    esac
}

main "$@"
