#!/usr/bin/env bash
# Benchmarks against release builds on this machine (results go in docs/performance.md by hand, with the date):
#   the baseline (one Hummingbird route inserting one GRDB row), then `paten serve` on a fresh SQLite data dir:
#   queue listing with 10,000 open questions, question intake (varied questions, then every question alike: one
#   surge that opens an incident and grows it), claims under contention (64 connections racing for
#   the same questions; exactly one winner each, checked in the database), replies; then, on a second data dir
#   with LARGE questions (default 1,000,000) and 1 % due, one sweep pass, the metrics export and the console's overview
#   (signed in through its login form; it must answer in under 100 ms). For each: requests per
#   second, p50 and p99 latency, and the server's peak RSS.
#   DURATION=10 (seconds per wrk run), CONNECTIONS=64, LARGE=1000000 (0 skips the large phase)
#   BENCH_POSTGRES_URL=$(scripts/postgres.sh start): the same runs on PostgreSQL, each phase on a fresh database
#   of that server (the baseline stays the SQLite one the ratio is defined against).
#   PATEN_BIN=path/to/paten: benchmark that build of paten instead (for before/after figures of one change).
# Needs wrk (Debian's package; installed here when missing and run as root).
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${DURATION:-10}
connections=${CONNECTIONS:-64}
large=${LARGE:-1000000}
if ! command -v wrk >/dev/null; then
    if [ "$(id -u)" = 0 ]; then apt-get install -y wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }; fi
    command -v wrk >/dev/null || { echo "bench: wrk is missing (apt-get install wrk)" >&2; exit 1; }
fi
swift build -c release --product paten >/dev/null
swift build -c release --product paten-bench-baseline >/dev/null
bin=${PATEN_BIN:-.build/release/paten}
work=$(mktemp -d)
pid=""
pg_server=${BENCH_POSTGRES_URL:+${BENCH_POSTGRES_URL%/*}}
databases=()
psql_bin=psql
command -v psql >/dev/null || psql_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)/psql"
cleanup() {
    [ -n "$pid" ] && { kill -KILL "$pid" 2>/dev/null || true; }
    wait 2>/dev/null || true
    for database in "${databases[@]}"; do
        "$psql_bin" "$pg_server/postgres?sslmode=disable" -Xqc "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
. scripts/check.sh
port=$(free_port)
base="http://127.0.0.1:$port"
export PATEN_LOG_LEVEL=error

peak_rss() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
to_ms() { # 1.23ms | 456.00us | 1.02s -> milliseconds
    awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'
}
bench() { # bench NAME THREADS SCRIPT URL: runs wrk, prints a result line, stores requests/second in $rps
    wrk -t "$2" -c "$connections" -d "${duration}s" --latency -s "$3" "$4" >"$work/wrk.$1"
    rps=$(awk '/^Requests\/sec/ {printf "%.0f", $2}' "$work/wrk.$1")
    local p50 p99 errors
    p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$work/wrk.$1")")
    p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$work/wrk.$1")")
    errors=$(awk '/Non-2xx/ {print $5}' "$work/wrk.$1")
    printf '%-34s %8s req/s   p50 %7s ms   p99 %7s ms   non-2xx %s   server peak RSS %s MB\n' \
        "$1" "$rps" "$p50" "$p99" "${errors:-0}" "$(peak_rss "$pid")"
}
start() { # start DATA_DIR
    "$bin" serve --port "$port" --data-dir "$1" >"$work/serve.log" 2>&1 &
    pid=$!
    wait_for "$work/serve.log" "paten listening" "paten serve's start" || { cat "$work/serve.log"; exit 1; }
}
stop() { kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }
use_data() { # use_data DIR: on PostgreSQL, points PATEN_DB_URL at a new database for the phase that uses DIR
    [ -n "$pg_server" ] || return 0
    local database="paten_bench_$(basename "$1")_$$"
    "$psql_bin" "$pg_server/postgres?sslmode=disable" -Xqc "CREATE DATABASE $database" >/dev/null
    databases+=("$database")
    export PATEN_DB_URL="$pg_server/$database?sslmode=disable" PATEN_DB_MIGRATE=true
}
sql() { # sql DIR STATEMENT: one value from the phase's database
    if [ -n "$pg_server" ]; then "$psql_bin" "$PATEN_DB_URL" -XAtqc "$2"; else sqlite3 "$1/paten.sqlite" "$2"; fi
}
if [ -n "$pg_server" ]; then
    PATEN_SECRETS_KEY=$(head -c 32 /dev/urandom | base64)
    export PATEN_SECRETS_KEY
fi

echo "bench: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), ${duration} s per run, $connections connections, $(date -u +%F), paten on ${pg_server:+PostgreSQL }${pg_server:-SQLite}"

.build/release/paten-bench-baseline "$port" "$work/baseline.sqlite" 2>"$work/baseline.log" &
pid=$!
wait_for "$work/baseline.log" "baseline listening" "the baseline's start"
bench "baseline (1 route, 1 GRDB insert)" 2 scripts/bench/baseline.lua "$base"
baseline_rps=$rps
stop

data="$work/data"
use_data "$data"
"$bin" dev seed --data-dir "$data" --questions 10000 --due-percent 0 >/dev/null
feeder=$("$bin" helpers add --data-dir "$data" --handle feeder --role integration)
volunteer=$("$bin" helpers add --data-dir "$data" --handle vera --role volunteer --languages en)
staff=$("$bin" helpers add --data-dir "$data" --handle sam --role staff)
: >"$work/tokens"
for n in $(seq 1 "$connections"); do
    "$bin" helpers add --data-dir "$data" --handle "racer$n" --role volunteer --languages en --capacity 1000 >>"$work/tokens"
done
sql "$data" "SELECT id FROM questions ORDER BY created_at LIMIT 3000" >"$work/questions"
start "$data"

TOKEN=$volunteer bench "queue (10,000 open)" 2 scripts/bench/queue.lua "$base"
TOKEN=$feeder bench "intake (varied questions)" 2 scripts/bench/intake-varied.lua "$base"
echo "  intake (varied) / baseline: $(awk -v a="$rps" -v b="$baseline_rps" 'BEGIN {printf "%.0f %%", 100 * a / b}')"
TOKEN=$feeder bench "intake (alike: one surge)" 2 scripts/bench/intake.lua "$base"
echo "  intake (alike) / baseline: $(awk -v a="$rps" -v b="$baseline_rps" 'BEGIN {printf "%.0f %%", 100 * a / b}')"
echo "  incidents: $(sql "$data" "SELECT COUNT(*) FROM incidents") ($(sql "$data" "SELECT COUNT(*) FROM incident_questions") questions linked)"
QUESTIONS="$work/questions" TOKENS="$work/tokens" bench "claim (64 racing per question)" 4 scripts/bench/claim.lua "$base"
check "one claim per question that was claimed" yes \
    "$(sql "$data" "SELECT CASE WHEN COUNT(*) = COUNT(DISTINCT question_id) AND COUNT(*) > 0 THEN 'yes' ELSE 'no: ' || COUNT(*) || ' claims, ' || COUNT(DISTINCT question_id) || ' questions' END FROM claims")"
QUESTIONS="$work/questions" TOKEN=$staff bench "reply" 2 scripts/bench/reply.lua "$base"
echo "  server peak RSS over the run: $(peak_rss "$pid") MB"
stop

if [ "$large" -gt 0 ]; then
    large_data="$work/large"
    use_data "$large_data"
    echo "seeding $large open questions (1 % due): $("$bin" dev seed --data-dir "$large_data" --questions "$large" --due-percent 1)"
    # The sweep first, on its own: a running server's sweeper would take the due questions.
    echo "$("$bin" dev sweep --data-dir "$large_data" 2>/dev/null)"
    manager=$("$bin" helpers add --data-dir "$large_data" --handle pm --role staff)
    start "$large_data"
    started=$(date +%s%N)
    curl -sf -H "Authorization: Bearer $manager" -o "$work/export.csv" "$base/v1/metrics/export?from=2000-01-01&to=2100-01-01"
    elapsed=$(( ($(date +%s%N) - started) / 1000000 ))
    echo "export of $(($(wc -l <"$work/export.csv") - 1)) rows: $elapsed ms, $(du -m "$work/export.csv" | cut -f1) MB, server peak RSS $(peak_rss "$pid") MB"
    # The console's overview with the large database behind it, signed in as the manager through the login form.
    curl -sf -c "$work/jar" -o "$work/login.html" "$base/console/login"
    csrf=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$work/login.html" | head -n 1)
    curl -sf -b "$work/jar" -c "$work/jar" -o /dev/null --data-urlencode "csrf=$csrf" \
        --data-urlencode "token=$manager" "$base/console/login"
    session=$(awk '$6 == "paten_session" {print $7}' "$work/jar")
    first=$(curl -sf -b "paten_session=$session" -o "$work/overview.html" -w '%{time_total}' "$base/console")
    echo "console overview, first request (computes the charts' 14 days): $(awk -v t="$first" 'BEGIN {printf "%.0f", t * 1000}') ms"
    check "the overview counts every waiting question" "$large" \
        "$(sed -n 's/.*data-count="waiting">\([0-9]*\)<.*/\1/p' "$work/overview.html")"
    warm=$(for _ in $(seq 1 21); do
        curl -sf -b "paten_session=$session" -o /dev/null -w '%{time_total}\n' "$base/console"
    done | sort -n | awk '{ t[NR] = $1 } END { printf "%.1f", t[11] * 1000 }')
    echo "console overview, one request at a time: median of 21 $warm ms"
    check "the overview answers one request in under 100 ms" yes "$(awk -v t="$warm" 'BEGIN { print (t < 100) ? "yes" : "no: " t " ms" }')"
    # Eight pages refreshing at once (a busy staff room); wrk and the server share this machine's cores.
    SESSION=$session connections=8 bench "console overview ($large questions, 8 at once)" 2 scripts/bench/overview.lua "$base"
    stop
fi

echo "bench: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
