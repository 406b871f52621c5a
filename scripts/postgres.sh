#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and local work, on 127.0.0.1 only.
#   scripts/postgres.sh start   installs Debian's postgresql if missing (as root), creates a cluster in a temporary
#                               directory owned by the postgres user, starts it on a free port, prints its URL
#   scripts/postgres.sh url     prints the URL of the running cluster
#   scripts/postgres.sh stop    stops the cluster and removes its directory
# State is kept in .build-postgres/cluster, so start and stop can run from different shells.
set -euo pipefail
cd "$(dirname "$0")/.."
state=.build-postgres/cluster

bin_dir() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

as_owner() { # Runs a command as the cluster's owner: the postgres user when we are root (initdb refuses root).
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

start() {
    if [ -f "$state" ]; then
        # shellcheck disable=SC1090
        . "$state"
        if as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
            echo "$url"
            return
        fi
        rm -rf "$dir" "$state"
    fi
    bin=$(bin_dir)
    if [ -z "$bin" ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            echo "postgres.sh: installing Debian's postgresql" >&2
            # Only the binaries: no system-wide cluster started on port 5432 and left running.
            mkdir -p /etc/postgresql-common/createcluster.d
            echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/paten-no-main-cluster.conf
            apt-get update -qq >&2
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
            bin=$(bin_dir)
        fi
        [ -n "$bin" ] || { echo "postgres.sh: PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
    fi
    dir=$(mktemp -d /tmp/paten-postgres.XXXXXX)
    url=""
    mkdir -p "$(dirname "$state")"
    printf 'bin=%q\ndir=%q\nurl=%q\n' "$bin" "$dir" "$url" >"$state"
    # From here on, a failure stops and removes what was made.
    trap 'stop' ERR
    chmod 755 "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
    as_owner "$bin/initdb" -D "$dir/data" -U paten --auth=trust -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; false; }
    # Tests need speed, not durability: fsync off; listen on loopback only, socket in the cluster's directory.
    # A free port is picked, then bound by the server; if another process took it meanwhile, try another.
    for _ in 1 2 3; do
        port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
        if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
            -o "-h 127.0.0.1 -p $port -k $dir -F -c max_connections=200" start >/dev/null; then
            url="postgres://paten@127.0.0.1:$port/paten"
            break
        fi
    done
    [ -n "$url" ] || { cat "$dir/server.log" >&2; false; }
    printf 'bin=%q\ndir=%q\nurl=%q\n' "$bin" "$dir" "$url" >"$state"
    as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U paten paten
    trap - ERR
    echo "$url"
}

stop() {
    [ -f "$state" ] || return 0
    # shellcheck disable=SC1090
    . "$state"
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir" "$state"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
url) [ -f "$state" ] && { . "$state"; echo "$url"; } || { echo "postgres.sh: no cluster running" >&2; exit 1; } ;;
*) echo "usage: scripts/postgres.sh start|url|stop" >&2; exit 2 ;;
esac
