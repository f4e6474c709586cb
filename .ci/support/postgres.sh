# Start a throwaway PostgreSQL server for the test suite and export SMALLRETAIL_TEST_PG_URL.
# Source it (bash):  source .ci/support/postgres.sh && make test
#
# Installs the Debian `postgresql` package if no server binaries are found (needs root), makes a
# cluster in a fresh temp dir owned by a non-root user (the server refuses to run as root: under
# root it runs as `postgres`), listens only on a Unix socket in that dir (no TCP port to collide
# on), and stops and deletes it when the sourcing shell exits (an EXIT trap). Durability is off:
# the data is thrown away.

smallretail_pg_bin() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

smallretail_pg_as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

smallretail_pg_stop() {
    if [ -n "${SMALLRETAIL_PG_DIR:-}" ] && [ -d "$SMALLRETAIL_PG_DIR" ]; then
        smallretail_pg_as_owner "$SMALLRETAIL_PG_BIN/pg_ctl" -D "$SMALLRETAIL_PG_DIR/data" \
            -m immediate stop >/dev/null 2>&1 || true
        rm -rf "$SMALLRETAIL_PG_DIR"
    fi
}

smallretail_pg_start() {
    SMALLRETAIL_PG_BIN="$(smallretail_pg_bin)"
    if [ -z "$SMALLRETAIL_PG_BIN" ]; then
        echo "postgres.sh: installing the Debian postgresql package" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2
        SMALLRETAIL_PG_BIN="$(smallretail_pg_bin)"
    fi
    if [ -z "$SMALLRETAIL_PG_BIN" ]; then
        echo "postgres.sh: no PostgreSQL server binaries after install" >&2
        return 1
    fi
    SMALLRETAIL_PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/smallretail-pg.XXXXXX")"
    export SMALLRETAIL_PG_BIN SMALLRETAIL_PG_DIR
    trap smallretail_pg_stop EXIT
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$SMALLRETAIL_PG_DIR"
    fi
    (
        cd "$SMALLRETAIL_PG_DIR"
        smallretail_pg_as_owner "$SMALLRETAIL_PG_BIN/initdb" -D data -U postgres -A trust \
            -E UTF8 --locale=C --no-sync >initdb.log 2>&1 || { cat initdb.log >&2; exit 1; }
        cat >>data/postgresql.conf <<EOF
listen_addresses = ''
unix_socket_directories = '$SMALLRETAIL_PG_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
        smallretail_pg_as_owner "$SMALLRETAIL_PG_BIN/pg_ctl" -D data -l server.log -w -t 60 \
            start >/dev/null || { cat server.log >&2; exit 1; }
        "$SMALLRETAIL_PG_BIN/createdb" -h "$SMALLRETAIL_PG_DIR" -U postgres smallretail_test
    ) || return 1
    export SMALLRETAIL_TEST_PG_URL="postgresql+psycopg://postgres@/smallretail_test?host=$SMALLRETAIL_PG_DIR"
    echo "postgres.sh: PostgreSQL $("$SMALLRETAIL_PG_BIN/postgres" -V | awk '{print $3}') at" \
        "$SMALLRETAIL_TEST_PG_URL" >&2
}

smallretail_pg_start
