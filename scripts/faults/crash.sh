#!/usr/bin/env bash
# Crash test: a load generator submits questions and follow-up messages and logs every write acknowledged with
# 201; the server is killed with SIGKILL at random moments and restarted on the same data. After each restart
# every acknowledged question is present with its messages and events, and the database passes
# `PRAGMA integrity_check`.
#   scripts/faults/crash.sh          the short form (5 kills; part of the README's test command)
#   KILLS=50 scripts/faults/crash.sh the long form
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/check.sh

kills=${KILLS:-5}
bin=$(paten_bin)
work=$(mktemp -d)
server_pid=""
load_pid=""
cleanup() {
    [ -n "$load_pid" ] && touch "$work/stop" && { kill "$load_pid" 2>/dev/null || true; }
    [ -n "$server_pid" ] && { kill -KILL "$server_pid" 2>/dev/null || true; }
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
export PATEN_LOG_LEVEL=error

port=$(free_port)
start_server() { # start_server N: starts the server with its own log, waits until it listens
    "$bin" serve --port "$port" --data-dir "$work/data" >"$work/serve.$1.log" 2>&1 &
    server_pid=$!
    wait_for "$work/serve.$1.log" "paten listening" "the server's start #$1" || { cat "$work/serve.$1.log"; exit 1; }
}

verify() { # verify LABEL
    python3 scripts/faults/verify.py "$work/data/paten.sqlite" "$work/acks" >"$work/verify"
    value() { grep "^$1=" "$work/verify" | cut -d= -f2; }
    check "$1: integrity_check" ok "$(value integrity)"
    check "$1: all $(value acknowledged_questions) acknowledged questions present with message and events" 0 "$(value missing_questions)"
    check "$1: all $(value acknowledged_messages) acknowledged follow-ups present" 0 "$(value missing_messages)"
}

mkdir -p "$work/data"
token=$("$bin" helpers add --data-dir "$work/data" --handle feeder --role integration)
touch "$work/acks"
start_server 0
python3 scripts/faults/load.py "http://127.0.0.1:$port" "$token" "$work/acks" "$work/stop" 8 &
load_pid=$!

echo "crash test: $kills kills with SIGKILL under load"
for round in $(seq 1 "$kills"); do
    sleep "$(python3 -c 'import random; print(round(random.uniform(0.3, 1.5), 2))')"
    kill -KILL "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    start_server "$round"
    verify "after kill $round"
done

touch "$work/stop"
load_status=0
wait "$load_pid" || load_status=$?
load_pid=""
check "the load generator saw only 201s and connection failures" 0 "$load_status"
kill -TERM "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=""
verify "after a clean stop"
acknowledged=$(grep -c '^q ' "$work/acks")
check "questions were acknowledged throughout (at least 10 per kill)" yes "$([ "$acknowledged" -ge $((kills * 10)) ] && echo yes || echo "no: $acknowledged")"

echo "crash: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
