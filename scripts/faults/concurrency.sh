#!/usr/bin/env bash
# Concurrency fault test: 64 clients (63 volunteers and a staff member) claim, reply, release, resolve and reopen
# 40 questions at random; afterwards every question's state and holder agree with its event timeline, no
# question was ever claimed while held, no two claims of one question overlap in time, and the database passes
# `PRAGMA integrity_check`. Any 5xx, or any client thread that dies with an exception, fails it.
#   scripts/faults/concurrency.sh                 the short form (10 s; part of the README's test command)
#   SECONDS_OF_CHAOS=60 scripts/faults/concurrency.sh   the long form
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/check.sh

duration=${SECONDS_OF_CHAOS:-10}
bin=$(paten_bin)
work=$(mktemp -d)
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && { kill -KILL "$server_pid" 2>/dev/null || true; }
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

port=$(free_port)
PATEN_LOG_LEVEL=error "$bin" serve --port "$port" --data-dir "$work/data" >"$work/serve.log" 2>&1 &
server_pid=$!
wait_for "$work/serve.log" "paten listening" "the server's start" || { cat "$work/serve.log"; exit 1; }
admin=$(sed -n 's/^admin token: //p' "$work/serve.log")

echo "concurrency: 64 clients for ${duration} s"
chaos=0
python3 scripts/faults/chaos.py "http://127.0.0.1:$port" "$admin" "$duration" >"$work/chaos" 2>&1 || chaos=$?
check "every answer was 2xx or a rule's 4xx, and no client thread died" 0 "$chaos"
[ "$chaos" = 0 ] || cat "$work/chaos"
check "claims were granted" yes "$(grep -q '^claim 200: ' "$work/chaos" && echo yes || echo no)"
check "and refused as already claimed" yes "$(grep -q '^claim 409: ' "$work/chaos" && echo yes || echo no)"
check "questions were resolved and reopened" yes "$(grep -q '^resolve 200: ' "$work/chaos" && grep -q '^reopen 200: ' "$work/chaos" && echo yes || echo no)"
kill -TERM "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=""

python3 scripts/faults/timeline.py "$work/data/paten.sqlite" >"$work/timeline"
value() { grep "^$1=" "$work/timeline" | cut -d= -f2; }
check "every question's state and holder agree with its timeline ($(value events) events, $(value claims) claims)" 0 "$(value disagreeing)"
check "no question was claimed while held" 0 "$(value claimed_while_held)"
check "no two claims of one question overlap in time" 0 "$(value overlapping_claims)"
check "integrity_check" ok "$(value integrity)"
sed -n 's/^/  /p' "$work/chaos" | head -20

echo "concurrency: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
