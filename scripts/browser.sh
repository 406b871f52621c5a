#!/usr/bin/env bash
# The staff console and the customer's rating page in a real browser: headless Chromium (Debian's chromium and
# chromium-driver) driven by Selenium from Python (scripts/browser/drive.py), against `paten serve` on SQLite, then on
# PostgreSQL. Data is set up over the HTTP API with the first admin's token. The walk:
#   - rating page: the form shows the subject and records nothing when opened; sending shows "Thank you" and records
#     one rating; the link opened again says "Already rated"; a German question gets the German page throughout;
#   - headers: CSP without inline script, X-Frame-Options DENY, the session cookie HttpOnly and SameSite=Strict;
#   - console: a volunteer's token is refused (403, #login-error); a staff token opens the overview, whose charts have
#     today's data; an escalation raised while the overview is open appears without a reload; Acknowledge works and
#     the escalations page lists it; a form POST without the CSRF value is refused (403) and changes nothing; sign-out
#     ends the session.
# Installs what it needs: chromium and chromium-driver with apt-get (as root), Selenium in .build-browser/venv.
# Screenshots go to .build-browser/screenshots/<db>-<step>.png.
# PostgreSQL comes from PATEN_TEST_POSTGRES_URL (scripts/test.sh starts the cluster), else from scripts/postgres.sh
# (stopped again at exit if this script started it); without it that part is skipped, except under CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/check.sh
. scripts/lib/venv.sh

started_at=$SECONDS
bin=${PATEN_BIN:-$(paten_bin)}
work="$(mktemp -d)"
export XDG_CONFIG_HOME="$work/config"
for name in $(compgen -e | grep '^PATEN_' || true); do
    case "$name" in
    PATEN_BIN | PATEN_TEST_POSTGRES_URL) ;;
    *) unset "$name" ;;
    esac
done
pids=()
own_cluster=""
psql_bin=""
database=""
server=""

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

echo "== what the browser test needs"
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "browser.sh: installing Debian's ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
        echo "browser.sh: needs /usr/bin/chromium and /usr/bin/chromedriver: as root, apt-get install chromium chromium-driver" >&2
        exit 1
    fi
fi
python_venv .build-browser/venv selenium==4.51.0
shots=.build-browser/screenshots
mkdir -p "$shots"
echo "$(/usr/bin/chromium --version 2>/dev/null | head -n 1), $(/usr/bin/chromedriver --version | cut -d' ' -f1-2), selenium 4.51.0"

serve() { # serve NAME [ARGS...]: `paten serve` on a free port (pid in $last_pid, URL in $base, admin token in $admin)
    local log="$work/$1.log"
    local port
    port=$(free_port)
    "$bin" serve --port "$port" --data-dir "$work/$1" --log-level warning "${@:2}" >"$log" 2>&1 &
    last_pid=$!
    pids+=("$last_pid")
    started() { grep -q "paten listening" "$log" 2>/dev/null || ! kill -0 "$last_pid" 2>/dev/null; }
    wait_until 30 started || true
    grep -q "paten listening" "$log" || { cat "$log"; echo "browser: $1 did not start"; exit 1; }
    base="http://127.0.0.1:$port"
    admin=$(sed -n 's/^admin token: //p' "$log")
    [ -n "$admin" ] || { cat "$log"; echo "browser: $1 printed no admin token"; exit 1; }
    echo "server on $base (pid $last_pid)"
}

stop_server() { # stop_server PID: SIGTERM, then waits for the exit
    kill -TERM "$1" 2>/dev/null || true
    gone() { ! kill -0 "$1" 2>/dev/null; }
    wait_until 15 gone "$1" || kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

drive() { # drive DB: the browser walk against $base; its check lines are counted here, the rest printed
    local rc=0 name expected actual part_start=$SECONDS
    rm -f "$shots/$1"-*.png
    .build-browser/venv/bin/python scripts/browser/drive.py "$1" "$base" "$admin" "$shots" >"$work/$1.out" 2>&1 || rc=$?
    while IFS= read -r line; do
        case "$line" in
        check$'\t'*)
            IFS=$'\t' read -r _ name expected actual <<<"$line"
            check "$name" "$expected" "$actual"
            ;;
        *) echo "  $line" ;;
        esac
    done <"$work/$1.out"
    check "drive.py $1 exited cleanly" 0 "$rc"
    echo "$1 took $((SECONDS - part_start)) s"
}

echo "== part 1: SQLite"
serve sqlite
drive sqlite
stop_server "$last_pid"

echo "== part 2: PostgreSQL"
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
        echo "browser: PostgreSQL could not be started; in CI that fails the run" >&2
        exit 1
    fi
    echo "browser: part 2 skipped (scripts/postgres.sh could not start PostgreSQL)"
else
    psql_bin=psql
    command -v psql >/dev/null || psql_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/psql"
    server="${url%/*}"
    database="paten_browser_$$_$RANDOM"
    "$psql_bin" "$server/postgres?sslmode=disable" -Xqc "CREATE DATABASE $database"
    PATEN_SECRETS_KEY=$(head -c 32 /dev/urandom | base64)
    export PATEN_SECRETS_KEY
    PATEN_DB_URL="$server/$database?sslmode=disable" serve postgres --migrate
    echo "database $database"
    drive postgres
    stop_server "$last_pid"
fi

echo "browser: $passed passed, $failed failed ($((SECONDS - started_at)) s)"
[ "$failed" -eq 0 ]
