#!/usr/bin/env bash
# Surge detection end to end on the real binary, with a realistic helpdesk mix (scripts/incidents/mix.json, replayed
# by scripts/incidents/replay.py over HTTP):
#   1. SQLite: about 60 unrelated questions in English and German with an outage of mobile data interleaved (8 German
#      and 3 English rewordings): exactly one incident opens, holding every German rewording and no unrelated
#      question; the English ones are linked by hand; an update reaches every linked question and a later rewording
#      at intake; resolving resolves them all, and a new similar question is offered a solved one with its answer.
#   2. PostgreSQL: the burst over two `paten serve` instances on one database, partly concurrent: still one incident
#      with all rewordings; after one instance restarts, a further rewording joins the same incident.
# PostgreSQL comes from PATEN_TEST_POSTGRES_URL (scripts/test.sh starts the cluster), else from scripts/postgres.sh
# (stopped again at exit if this script started it); without it part 2 is skipped, except under CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/check.sh
bin=${PATEN_BIN:-$(paten_bin)}
work="$(mktemp -d)"
export XDG_CONFIG_HOME="$work/config"
unset PATEN_URL PATEN_TOKEN PATEN_DB_URL
pids=()
own_cluster=""
psql_bin=""
database=""

cleanup() {
    for pid in "${pids[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    done
    wait 2>/dev/null || true
    if [ -n "$database" ] && [ -n "$psql_bin" ]; then
        "$psql_bin" "$server/postgres?sslmode=disable" -Xqc "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    if [ -n "$own_cluster" ]; then scripts/postgres.sh stop; fi
    rm -rf "$work"
}
trap cleanup EXIT

replay() { # replay ARGS...: runs the driver; its check lines are counted here, the rest printed
    local rc=0 name expected actual
    python3 scripts/incidents/replay.py "$@" >"$work/replay.out" || rc=$?
    while IFS= read -r line; do
        case "$line" in
        check$'\t'*)
            IFS=$'\t' read -r _ name expected actual <<<"$line"
            check "$name" "$expected" "$actual"
            ;;
        *) echo "  $line" ;;
        esac
    done <"$work/replay.out"
    check "replay.py $1 ran to the end" 0 "$rc"
}

serve() { # serve LOG DATA_DIR PORT [ARGS...]: starts `paten serve` in the background (pid in $last_pid), waits for it
    serve_log="$work/$1.log"
    "$bin" serve --port "$3" --data-dir "$work/$2" "${@:4}" >"$serve_log" 2>&1 &
    last_pid=$!
    pids+=("$last_pid")
    started() { grep -q "paten listening" "$serve_log" 2>/dev/null || ! kill -0 "$last_pid" 2>/dev/null; }
    wait_until 30 started || true
    grep -q "paten listening" "$serve_log" || { cat "$serve_log"; echo "incidents: $1 did not start"; exit 1; }
}

stop_server() { # stop_server PID: SIGTERM, then waits for the exit
    kill -TERM "$1" 2>/dev/null || true
    gone() { ! kill -0 "$1" 2>/dev/null; }
    wait_until 15 gone "$1" || kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

echo "== part 1: SQLite, one instance"
port=$(free_port)
serve sqlite sqlite "$port" --log-level warning
pid_sqlite=$last_pid
admin=$(sed -n 's/^admin token: //p' "$work/sqlite.log")
echo "server on http://127.0.0.1:$port (pid $pid_sqlite)"
INCIDENTS_SQLITE="$work/sqlite/paten.sqlite" replay sqlite "http://127.0.0.1:$port" "$admin"
stop_server "$pid_sqlite"

echo "== part 2: two instances on one PostgreSQL"
url=${PATEN_TEST_POSTGRES_URL:-}
if [ -z "$url" ]; then
    if url=$(scripts/postgres.sh url 2>/dev/null); then
        :
    elif url=$(scripts/postgres.sh start 2>"$work/postgres.log"); then
        own_cluster=yes
    else
        url=""
    fi
fi
if [ -z "$url" ]; then
    if [ "${CI:-}" = true ]; then
        cat "$work/postgres.log" >&2
        echo "incidents: PostgreSQL could not be started; in CI that fails the run" >&2
        exit 1
    fi
    echo "incidents: part 2 skipped (scripts/postgres.sh could not start PostgreSQL)"
else
    psql_bin=psql
    command -v psql >/dev/null || psql_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/psql"
    server="${url%/*}"
    database="paten_incidents_$$_$RANDOM"
    "$psql_bin" "$server/postgres?sslmode=disable" -Xqc "CREATE DATABASE $database"
    export PATEN_DB_URL="$server/$database?sslmode=disable"
    PATEN_SECRETS_KEY=$(head -c 32 /dev/urandom | base64)
    export PATEN_SECRETS_KEY
    export PATEN_LOG_LEVEL=warning
    "$bin" migrate >/dev/null
    port_a=$(free_port)
    port_b=$(free_port)
    # A starts first on the empty database and creates the first admin (its token in A's log); then B.
    serve a a "$port_a"
    pid_a=$last_pid
    admin=$(sed -n 's/^admin token: //p' "$work/a.log")
    serve b b "$port_b"
    pid_b=$last_pid
    a="http://127.0.0.1:$port_a"
    b="http://127.0.0.1:$port_b"
    echo "instances on $a (pid $pid_a) and $b (pid $pid_b), database $database"
    export INCIDENTS_PSQL="$psql_bin" # the grouping report reads the stored signatures with it
    replay pg-burst "$a" "$b" "$admin" "$work/pg-state.json"
    echo "SIGTERM to instance B, then B again on the same database"
    stop_server "$pid_b"
    check "instance B is gone" yes "$(kill -0 "$pid_b" 2>/dev/null && echo no || echo yes)"
    serve b-restarted b "$port_b"
    pid_b2=$last_pid
    replay pg-restart "$b" "$admin" "$work/pg-state.json"
    stop_server "$pid_a"
    stop_server "$pid_b2"
fi

echo "incidents: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
