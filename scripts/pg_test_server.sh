#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests and benchmarks, from Debian's `postgresql`
# package (any major: the newest /usr/lib/postgresql/*/bin is used, or $PG_BINDIR).
#
#   pg_test_server.sh start [DIR]     make a cluster in DIR (default: a new temporary folder),
#                                     start it and print its URL on stdout (one line); the
#                                     folder is named on stderr. On a DIR that already holds a
#                                     stopped cluster (see halt), start it again on its port.
#   pg_test_server.sh stop [DIR]      stop the server and remove the folder (DIR defaults to
#                                     the folder the last `start` without DIR made).
#   pg_test_server.sh halt DIR [fast|immediate]
#                                     stop the server, keep the folder (immediate = a crash:
#                                     connections are cut without a clean shutdown).
#   pg_test_server.sh restart DIR     stop and start again, same port and data.
#   pg_test_server.sh url DIR         print the URL again.
#   pg_test_server.sh createdb DIR NAME
#                                     make an empty database NAME (from template0) and print
#                                     its URL over the Unix socket (no password: trust), which
#                                     also works from a network namespace without network.
#
# The server listens on a Unix socket in DIR/socket (trust authentication) and on a free
# loopback port, 127.0.0.1 only (scram-sha-256 password authentication). The URL is the
# superuser `postgres` over TCP to the `postgres` database; its random password is in
# DIR/pgpass, libpq's password file, which the URL names (passfile=): nkbrief takes
# passwords only from libpq's files, never from an address. Add a line to DIR/pgpass
# (*:*:*:ROLE:PASSWORD) for each login role a test makes.
# It runs as the `postgres` system user when the caller is root (initdb refuses root), as
# the caller otherwise. Durability is switched off (fsync=off): test data only.
#
#   PG_TEST_SSL=1      also serve TLS with a self-signed certificate made by openssl at start
#                      (DIR/root.crt is the certificate for a client's sslrootcert); without
#                      it the server offers no TLS, so a client with sslmode=require is refused.
#   PG_TEST_SSL=only   TLS only: TCP connections without TLS are refused (hostssl).
#   PG_TEST_TEMPLATE=TPL  copy the cluster from TPL (made there by initdb on first use)
#                      instead of running initdb for each server: the servers of one test
#                      run share the superuser's password, and each starts in well under 1 s.
#
# Exit status: 0 done, 2 usage or environment error, 3 PostgreSQL is not installed.
set -euo pipefail

die() { echo "pg_test_server: $1" >&2; exit "${2:-2}"; }
usage() { die "usage: pg_test_server.sh start [DIR] | stop [DIR] | halt DIR [fast|immediate] | restart DIR | url DIR | createdb DIR NAME"; }

LAST="${TMPDIR:-/tmp}/nkbrief-pg-test-$(id -u).last"

find_bindir() {
    if [[ -n "${PG_BINDIR:-}" ]]; then
        [[ -x "$PG_BINDIR/initdb" && -x "$PG_BINDIR/pg_ctl" ]] \
            || die "PG_BINDIR=$PG_BINDIR holds no initdb/pg_ctl" 3
        echo "$PG_BINDIR"
        return
    fi
    local d best=""
    # newest major first (version sort of the folder names)
    for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k5,5 -V -r); do
        if [[ -x "$d/initdb" && -x "$d/pg_ctl" && -x "$d/postgres" ]]; then best=$d; break; fi
    done
    [[ -n "$best" ]] || die "PostgreSQL server programs not found in /usr/lib/postgresql/*/bin: install Debian's postgresql package (apt-get install postgresql) or set PG_BINDIR" 3
    echo "$best"
}

# as_owner CMD...: run as the cluster's owner (postgres when we are root).
as_owner() {
    if [[ "$(id -u)" -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 - <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

url_of() {
    local dir=$1
    echo "postgresql://postgres@127.0.0.1:$(cat "$dir/port")/postgres?passfile=$dir/pgpass"
}

wait_ready() {
    local dir=$1 bindir=$2 port i
    port=$(cat "$dir/port")
    for i in $(seq 1 100); do
        if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -d postgres -t 1; then return 0; fi
        sleep 0.1
    done
    tail -20 "$dir/log" >&2 || true
    die "the server in $dir did not become ready on port $port within 10 s (log above)"
}

start_cluster() {
    # start_cluster DIR BINDIR: start an initialised cluster; on a port taken meanwhile, move.
    local dir=$1 bindir=$2 try
    for try in 1 2 3; do
        if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 15 -s \
                -o "-p $(cat "$dir/port")" start >/dev/null 2>&1; then
            wait_ready "$dir" "$bindir"
            return 0
        fi
        if grep -q "could not bind\|Address already in use" "$dir/log" 2>/dev/null; then
            free_port >"$dir/port"
            continue
        fi
        break
    done
    tail -20 "$dir/log" >&2 || true
    die "the server in $dir did not start (log above)"
}

make_cert() {
    local dir=$1
    command -v openssl >/dev/null 2>&1 || die "PG_TEST_SSL needs openssl"
    openssl req -new -x509 -days 2 -nodes -newkey rsa:2048 -subj "/CN=127.0.0.1" \
        -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
        -keyout "$dir/data/server.key" -out "$dir/data/server.crt" >/dev/null 2>&1 \
        || die "openssl could not make the test certificate"
    chmod 600 "$dir/data/server.key"
    cp "$dir/data/server.crt" "$dir/root.crt"
    chmod 644 "$dir/root.crt"
}

own_folder() {
    # own_folder DIR: make DIR the cluster owner's (postgres when we are root)
    local dir=$1
    if [[ "$(id -u)" -eq 0 ]]; then
        id postgres >/dev/null 2>&1 || die "no 'postgres' system user (it comes with Debian's postgresql package)" 3
        chown postgres: "$dir"
        runuser -u postgres -- test -w "$dir" \
            || die "the postgres user cannot reach $dir (a parent folder is closed to it): choose a folder under /tmp"
    fi
    chmod 755 "$dir"
}

init_data() {
    # init_data DIR BINDIR: a new cluster in DIR/data whose superuser postgres has the random
    # password in DIR/password
    local dir=$1 bindir=$2
    od -An -tx1 -N12 /dev/urandom | tr -d ' \n' >"$dir/password"
    chmod 600 "$dir/password"
    local pwfile="$dir/.pw"
    cp "$dir/password" "$pwfile"
    [[ "$(id -u)" -eq 0 ]] && chown postgres: "$pwfile"
    if ! as_owner "$bindir/initdb" -D "$dir/data" -U postgres --pwfile="$pwfile" -E UTF8 \
            --locale=C --no-sync --auth-local=trust --auth-host=scram-sha-256 \
            >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        rm -f "$pwfile"
        die "initdb failed in $dir (output above)"
    fi
    rm -f "$pwfile"
}

cmd_start() {
    local bindir dir
    if [[ $# -ge 1 ]]; then
        dir=$1
        if [[ -f "$dir/data/PG_VERSION" ]]; then
            # a halted cluster: start it again, same data and port
            dir=$(cd "$dir" && pwd)
            start_cluster "$dir" "$(find_bindir)"
            url_of "$dir"
            return 0
        fi
        [[ ! -e "$dir" || -z "$(ls -A "$dir")" ]] || die "$dir is not empty and holds no test cluster"
        bindir=$(find_bindir)
        mkdir -p "$dir"
        dir=$(cd "$dir" && pwd)
    else
        bindir=$(find_bindir)
        dir=$(mktemp -d "${TMPDIR:-/tmp}/nkbrief-pg.XXXXXX")
        echo "$dir" >"$LAST"
    fi
    own_folder "$dir"
    local tpl=${PG_TEST_TEMPLATE:-}
    if [[ -n "$tpl" ]]; then
        # a copy of a cluster initdb made once (about 0.1 s instead of 1-2 s)
        if [[ ! -f "$tpl/data/PG_VERSION" || "$(cat "$tpl/bindir" 2>/dev/null)" != "$bindir" ]]; then
            rm -rf "$tpl"
            mkdir -p "$tpl"
            own_folder "$tpl"
            init_data "$tpl" "$bindir"
            echo "$bindir" >"$tpl/bindir"
        fi
        as_owner cp -a "$tpl/data" "$dir/data" || die "could not copy the template cluster $tpl"
        cp "$tpl/password" "$dir/password"
    else
        init_data "$dir" "$bindir"
    fi
    # libpq's password file (format host:port:database:user:password, mode 600): the URL
    # names it, so the URL itself holds no password (nkbrief refuses one in an address)
    (umask 077 && echo "*:*:*:postgres:$(cat "$dir/password")" >"$dir/pgpass")
    free_port >"$dir/port"
    as_owner mkdir -m 755 "$dir/socket"
    as_owner touch "$dir/log"
    local ssl=${PG_TEST_SSL:-0}
    {
        echo "# pg_test_server.sh: a throwaway test server"
        echo "listen_addresses = '127.0.0.1'"
        echo "unix_socket_directories = '$dir/socket'"
        echo "fsync = off"
        echo "synchronous_commit = off"
        echo "full_page_writes = off"
        echo "shared_buffers = 64MB"
        echo "max_connections = 60"
        echo "log_min_messages = warning"
    } | as_owner tee -a "$dir/data/postgresql.conf" >/dev/null
    if [[ "$ssl" != 0 ]]; then
        as_owner bash -c "$(declare -f make_cert die); make_cert '$dir'"
        echo "ssl = on" | as_owner tee -a "$dir/data/postgresql.conf" >/dev/null
        if [[ "$ssl" == only ]]; then
            # TCP without TLS refused: replace the `host` lines by `hostssl` ones
            as_owner sed -i 's/^host\(\s\)/hostssl\1/' "$dir/data/pg_hba.conf"
        fi
    fi
    start_cluster "$dir" "$bindir"
    echo "pg_test_server: PostgreSQL $(cat "$dir/data/PG_VERSION") running in $dir (stop with: $0 stop $dir)" >&2
    url_of "$dir"
}

cmd_halt() {
    local dir=$1 mode=${2:-fast} bindir
    [[ "$mode" == fast || "$mode" == immediate ]] || usage
    bindir=$(find_bindir)
    [[ -f "$dir/data/PG_VERSION" ]] || die "$dir holds no test cluster"
    if [[ -f "$dir/data/postmaster.pid" ]]; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -m "$mode" -w -t 30 -s stop >/dev/null 2>&1 || true
    fi
}

cmd_stop() {
    local dir
    if [[ $# -ge 1 ]]; then
        dir=$1
    else
        [[ -f "$LAST" ]] || die "no DIR given and no server started without one"
        dir=$(cat "$LAST")
    fi
    [[ -d "$dir" ]] || die "$dir does not exist"
    dir=$(cd "$dir" && pwd)
    if [[ -f "$dir/data/PG_VERSION" ]]; then
        cmd_halt "$dir" immediate
    elif [[ -n "$(ls -A "$dir")" && ! -f "$dir/pgpass" ]]; then
        die "$dir is not a test server's folder: not removing it"
    fi
    rm -rf "$dir"
    if [[ -f "$LAST" && "$(cat "$LAST")" == "$dir" ]]; then rm -f "$LAST"; fi
}

[[ $# -ge 1 ]] || usage
cmd=$1
shift
case "$cmd" in
    start) [[ $# -le 1 ]] || usage; cmd_start "$@" ;;
    stop) [[ $# -le 1 ]] || usage; cmd_stop "$@" ;;
    halt) [[ $# -ge 1 && $# -le 2 ]] || usage; cmd_halt "$@" ;;
    restart)
        [[ $# -eq 1 ]] || usage
        cmd_halt "$1" fast
        start_cluster "$(cd "$1" && pwd)" "$(find_bindir)"
        ;;
    url) [[ $# -eq 1 ]] || usage; [[ -f "$1/port" ]] || die "$1 holds no test server"; url_of "$1" ;;
    createdb)
        [[ $# -eq 2 ]] || usage
        [[ -f "$1/port" ]] || die "$1 holds no test server"
        [[ "$2" =~ ^[a-z_][a-z0-9_]*$ ]] || die "database name '$2': use lower-case letters, digits and _"
        dir=$(cd "$1" && pwd)
        "$(find_bindir)/createdb" -h "$dir/socket" -p "$(cat "$dir/port")" -U postgres -T template0 \
            -E UTF8 "$2" || die "could not create the database $2 in $dir"
        echo "postgresql://postgres@/$2?host=$dir/socket&port=$(cat "$dir/port")"
        ;;
    *) usage ;;
esac
