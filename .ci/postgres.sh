#!/usr/bin/env bash
# A private, throwaway PostgreSQL cluster for the fleet tests: Debian's server binaries, a data
# directory under a temp dir, a Unix socket there and no TCP port, trust auth for one user.
#   .ci/postgres.sh start      create and start the cluster; prints `export FALLBACKD_TEST_PG_*=...` lines
#   .ci/postgres.sh stop       stop it and remove its directory
#   .ci/postgres.sh kill       stop the server only (immediate mode), keeping its data: the fleet tests' outage
#   .ci/postgres.sh restart    start the kept server again
# The directory is FALLBACKD_TEST_PG_DIR (start creates one when it is unset). initdb refuses to run
# as root, so as root the cluster runs as the `postgres` user the Debian package creates.
set -euo pipefail

bin_dir() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        [ -x "$dir/pg_ctl" ] && { echo "$dir"; return; }
    done
    echo "postgres.sh: no PostgreSQL server binaries (install the postgresql package)" >&2
    exit 1
}

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_ctl_run() {
    as_owner "$(bin_dir)/pg_ctl" -D "$FALLBACKD_TEST_PG_DIR/data" -l "$FALLBACKD_TEST_PG_DIR/server.log" -w -t 30 "$@" >/dev/null
}

command="${1:-}"
case "$command" in
start)
    BIN="$(bin_dir)"
    if [ -z "${FALLBACKD_TEST_PG_DIR:-}" ]; then
        FALLBACKD_TEST_PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/fbd-pg.XXXXXX")"
    fi
    export FALLBACKD_TEST_PG_DIR
    chmod 755 "$FALLBACKD_TEST_PG_DIR"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$FALLBACKD_TEST_PG_DIR"
    as_owner "$BIN/initdb" -D "$FALLBACKD_TEST_PG_DIR/data" -U fallbackd --auth=trust -E UTF8 --no-sync >/dev/null
    cat >> "$FALLBACKD_TEST_PG_DIR/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$FALLBACKD_TEST_PG_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
CONF
    pg_ctl_run start
    echo "export FALLBACKD_TEST_PG_DIR=$FALLBACKD_TEST_PG_DIR"
    echo "export FALLBACKD_TEST_PG_URL='postgres://fallbackd@/postgres?host=$FALLBACKD_TEST_PG_DIR&port=5432'"
    ;;
stop)
    : "${FALLBACKD_TEST_PG_DIR:?set FALLBACKD_TEST_PG_DIR}"
    [ -d "$FALLBACKD_TEST_PG_DIR/data" ] && { pg_ctl_run stop -m fast || pg_ctl_run stop -m immediate || true; }
    rm -rf "$FALLBACKD_TEST_PG_DIR"
    ;;
kill)
    : "${FALLBACKD_TEST_PG_DIR:?set FALLBACKD_TEST_PG_DIR}"
    pg_ctl_run stop -m immediate
    ;;
restart)
    : "${FALLBACKD_TEST_PG_DIR:?set FALLBACKD_TEST_PG_DIR}"
    pg_ctl_run start
    ;;
*)
    echo "usage: $0 start|stop|kill|restart" >&2
    exit 2
    ;;
esac
