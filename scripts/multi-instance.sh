#!/usr/bin/env bash
# Two `paten serve` processes on one PostgreSQL database behave as one: no double claim, escalation or delivery.
#   1. 20,000 open questions are seeded with 2,000 of them past their peer window, then both instances start and
#      sweep at once: each due question is moved to staff and escalated exactly once.
#   2. 200 volunteers claim 50 questions at the same moment (4 per question, 2 through each instance): exactly
#      one claim per question is granted, and the database holds exactly one claim and one claimed event for each.
#   3. Every winner replies through the other instance. Both instances deliver the outbox to one counting receiver:
#      every message arrives, each once per recorded attempt.
# Needs PATEN_TEST_POSTGRES_URL (scripts/test.sh starts the cluster); run after `swift build`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/check.sh

if [ -z "${PATEN_TEST_POSTGRES_URL:-}" ]; then
    if [ "${CI:-}" = true ]; then echo "multi-instance: PATEN_TEST_POSTGRES_URL is not set" >&2; exit 1; fi
    echo "multi-instance: skipped (no PostgreSQL; run scripts/test.sh)"
    exit 0
fi

bin=$(paten_bin)
psql_bin=psql
command -v psql >/dev/null || psql_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/psql"
server="${PATEN_TEST_POSTGRES_URL%/*}"
database="paten_multi_$$_$RANDOM"
work=$(mktemp -d)
pids=()

sql() { "$psql_bin" "$server/$database?sslmode=disable" -XAtqc "$1"; }

cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    "$psql_bin" "$server/postgres?sslmode=disable" -Xqc "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT


"$psql_bin" "$server/postgres?sslmode=disable" -Xqc "CREATE DATABASE $database"
export PATEN_DB_URL="$server/$database?sslmode=disable"
PATEN_SECRETS_KEY=$(head -c 32 /dev/urandom | base64)
export PATEN_SECRETS_KEY
export PATEN_WEBHOOK_ALLOW_LOOPBACK=true PATEN_DELIVERY_INTERVAL_MS=50 PATEN_SWEEP_INTERVAL_MS=100 PATEN_LOG_LEVEL=error
# The sweep counts below are read from text log lines (key=value).
export PATEN_LOG_FORMAT=text

echo "setup"
if "$bin" serve --port 0 --data-dir "$work/a" >"$work/refused.log" 2>&1; then refused=0; else refused=$?; fi
check "serve refuses a database with pending migrations (exit 6: the database is not ready)" 6 "$refused"
check "and names them" 1 "$(grep -c '0001_foundation' "$work/refused.log")"
"$bin" migrate >/dev/null
"$bin" dev seed --questions 20000 --due-percent 10 >/dev/null
admin=$("$bin" tokens issue admin --label multi-instance)

python3 scripts/multi/counter.py "$work/receiver.port" "$work/received.log" &
pids+=($!)
wait_for "$work/receiver.port" . "the receiver's start"
hook_url="http://127.0.0.1:$(cat "$work/receiver.port")/hook"

port_a=$(free_port)
port_b=$(free_port)
# At info level each instance logs every sweep pass with the number of clocks it examined.
PATEN_LOG_LEVEL=info "$bin" serve --port "$port_a" --data-dir "$work/a" >"$work/a.log" 2>&1 &
pids+=($!)
PATEN_LOG_LEVEL=info "$bin" serve --port "$port_b" --data-dir "$work/b" >"$work/b.log" 2>&1 &
pids+=($!)
wait_for "$work/a.log" "paten listening" "instance A's start" || { cat "$work/a.log"; exit 1; }
wait_for "$work/b.log" "paten listening" "instance B's start" || { cat "$work/b.log"; exit 1; }
a="http://127.0.0.1:$port_a"
b="http://127.0.0.1:$port_b"

echo "both sweep the same 2,000 due questions"
swept() { { grep 'escalation sweep' "$1" || true; } | sed -n 's/.*examined=\([0-9]*\).*/\1/p' | awk '{n += $1} END {print n + 0}'; }
all_swept() { [ $(($(swept "$work/a.log") + $(swept "$work/b.log"))) -ge 2000 ]; }
wait_until 60 all_swept || true
# A real duration, not a barrier: a clock examined twice would show only as a later pass's log line, so the
# absence of one is checked after ten more sweep intervals (100 ms each) have passed.
sleep 1
swept_a=$(swept "$work/a.log")
swept_b=$(swept "$work/b.log")
check "both instances swept" yes "$([ "$swept_a" -gt 0 ] && [ "$swept_b" -gt 0 ] && echo yes || echo "no: A $swept_a, B $swept_b")"
check "and between them examined each due clock once" 2000 "$((swept_a + swept_b))"
check "each due question moved to staff once (one routed-to-staff event each)" "2000 2000" \
    "$(sql "SELECT COUNT(*), COUNT(DISTINCT question_id) FROM question_events WHERE type = 'question.routed' AND data LIKE '%\"reason\":\"moved\"%'" | tr '|' ' ')"
check "each escalated (the unique index allows no second one)" 2000 "$(sql "SELECT COUNT(*) FROM escalations WHERE reason = 'peer_window_expired'")"

echo "200 concurrent claims over 50 questions, two per question through each instance"
python3 scripts/multi/race.py setup "$a" "$admin" "$hook_url" >"$work/state.json"
python3 scripts/multi/race.py claims "$a" "$b" "$work/state.json" >"$work/granted"
check "each question granted exactly one claim over HTTP" "50 x 1" "$(sort "$work/granted" | uniq -c | awk '{print $2 " x " $1}' | sed 's/^\(.*\) x \(.*\)$/\2 x \1/')"
check "the database holds one claim per question" "50 50" "$(sql "SELECT COUNT(*), COUNT(DISTINCT question_id) FROM claims" | tr "|" " ")"
check "and one claimed event per question" "50 50" "$(sql "SELECT COUNT(*), COUNT(DISTINCT question_id) FROM question_events WHERE type = 'question.claimed'" | tr '|' ' ')"
check "each claimed question has the claim's holder" 0 \
    "$(sql "SELECT COUNT(*) FROM claims c JOIN questions q ON q.id = c.question_id WHERE q.holder_id IS DISTINCT FROM c.helper_id OR q.state <> 'claimed'")"

echo "both deliver the outbox"
check "every winner replies through the other instance" 50 "$(python3 scripts/multi/race.py replies "$a" "$b" "$work/state.json")"
all_delivered() { [ "$(sql "SELECT COUNT(*) FROM outbox_messages WHERE state <> 'delivered'")" = 0 ]; }
wait_until 60 all_delivered || true
messages=$(sql "SELECT COUNT(*) FROM outbox_messages")
check "messages were written (question, claim and reply events)" yes "$([ "$messages" -ge 200 ] && echo yes || echo "no: $messages")"
check "all of them delivered" 0 "$(sql "SELECT COUNT(*) FROM outbox_messages WHERE state <> 'delivered'")"
check "each with one recorded attempt" "$messages" "$(sql "SELECT COUNT(*) FROM delivery_attempts")"
check "the receiver got every message" "$messages" "$(sort -u "$work/received.log" | wc -l | tr -d ' ')"
check "and none twice" "$messages" "$(wc -l <"$work/received.log" | tr -d ' ')"

echo "multi-instance: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
