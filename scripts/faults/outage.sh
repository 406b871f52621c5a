#!/usr/bin/env bash
# Receiver outage: outbound webhooks to a receiver that is down for a while (with a compressed retry schedule) all
# arrive once it is back, each message id once or more and none missing; with the receiver gone for good they
# end as dead letters.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/check.sh

bin=$(paten_bin)
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
sql() { python3 -c 'import sqlite3, sys; print(sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True).execute(sys.argv[2]).fetchone()[0])' "$work/data/paten.sqlite" "$1"; }
api() { # api METHOD PATH BODY: prints the body, fails on a non-2xx answer
    curl -sf -X "$1" -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' --data-binary "$3" "$base$2"
}
sql_is() { [ "$(sql "$1")" = "$2" ]; }   # sql_is SQL VALUE
sql_at_least() { [ "$(sql "$1")" -ge "$2" ]; }   # sql_at_least SQL NUMBER

port=$(free_port)
hook_port=$(free_port)
base="http://127.0.0.1:$port"
# The 20 questions below are one complaint from 20 customers: a surge (docs/incidents.md), whose incident and
# escalation would add messages to the 40 counted here. This test is about delivery, so detection is off.
python3 -c 'import json, sys; p = json.load(open(sys.argv[1])); p["surge"]["enabled"] = False; json.dump(p, open(sys.argv[2], "w"))' \
    Config/policy.json "$work/policy.json"
PATEN_LOG_LEVEL=error PATEN_WEBHOOK_ALLOW_LOOPBACK=true PATEN_DELIVERY_INTERVAL_MS=100 \
    PATEN_WEBHOOK_RETRY_SCHEDULE=1s,1s,1s,1s PATEN_POLICY="$work/policy.json" \
    "$bin" serve --port "$port" --data-dir "$work/data" >"$work/serve.log" 2>&1 &
pids+=($!)
wait_for "$work/serve.log" "paten listening" "the server's start" || { cat "$work/serve.log"; exit 1; }
admin=$(sed -n 's/^admin token: //p' "$work/serve.log")
integration=$(api POST /v1/integrations "{\"name\":\"relay\",\"kind\":\"standard\",\"outbound_url\":\"http://127.0.0.1:$hook_port/hook\",\"all_channels\":true}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["integration"]["id"])')
staff=$("$bin" helpers add --data-dir "$work/data" --handle desk --role staff)
submit() { # submit N
    for i in $(seq 1 "$1"); do
        curl -sf -o /dev/null -X POST -H "Authorization: Bearer $staff" -H 'Content-Type: application/json' \
            --data-binary "{\"subject\":\"Roaming abroad fails ($i)\",\"body\":\"No network.\",\"customer\":{\"id\":\"c-$i\",\"name\":\"C\"}}" \
            "$base/v1/questions"
    done
}

echo "the receiver is down"
submit 20
messages=$(sql "SELECT COUNT(*) FROM outbox_messages")
check "20 questions wrote 40 messages (created, routed)" 40 "$messages"
wait_until 10 sql_at_least "SELECT COUNT(*) FROM delivery_attempts WHERE outcome <> 'delivered'" 2 || true
# A down endpoint gets one request at a time: the oldest message is retried, the others wait behind it.
check "attempts were made while it was down, and failed" yes \
    "$([ "$(sql "SELECT COUNT(*) FROM delivery_attempts WHERE outcome <> 'delivered'")" -ge 2 ] && echo yes || echo no)"
check "nothing delivered or dead-lettered meanwhile" 40 "$(sql "SELECT COUNT(*) FROM outbox_messages WHERE state = 'pending'")"

echo "the receiver comes back"
python3 scripts/multi/counter.py "$work/hook.port" "$work/received" "$hook_port" &
pids+=($!)
wait_until 20 sql_is "SELECT COUNT(*) FROM outbox_messages WHERE state = 'delivered'" 40 || true
check "all 40 delivered" 40 "$(sql "SELECT COUNT(*) FROM outbox_messages WHERE state = 'delivered'")"
check "each message id arrived (none missing)" 40 "$(sort -u "$work/received" | wc -l | tr -d ' ')"
check "and every id that arrived is one of them" 0 \
    "$(sort -u "$work/received" | while read -r id; do [ "$(sql "SELECT COUNT(*) FROM outbox_messages WHERE id = '$id'")" = 1 ] || echo "$id"; done | wc -l | tr -d ' ')"
check "none was dead-lettered" 0 "$(sql "SELECT COUNT(*) FROM outbox_messages WHERE state = 'dead'")"

echo "the receiver is gone for good"
kill -KILL "${pids[1]}"
wait "${pids[1]}" 2>/dev/null || true
submit 1
wait_until 40 sql_is "SELECT COUNT(*) FROM outbox_messages WHERE state = 'dead'" 2 || true
check "the 2 new messages end as dead letters after 5 attempts each" "2 10" \
    "$(sql "SELECT COUNT(*) FROM outbox_messages WHERE state = 'dead'") $(sql "SELECT COUNT(*) FROM delivery_attempts a JOIN outbox_messages m ON m.id = a.message_id WHERE m.state = 'dead'")"
check "the delivered ones stay delivered" 40 "$(sql "SELECT COUNT(*) FROM outbox_messages WHERE state = 'delivered'")"
check "the dead letters are listed for the integration" 2 \
    "$(api GET "/v1/integrations/$integration/deliveries?state=dead&limit=100" '' | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["deliveries"]))' 2>/dev/null || echo error)"

echo "outage: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
