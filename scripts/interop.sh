#!/usr/bin/env bash
# Interoperability with webhook code we did not write. Installs the `standardwebhooks` package from PyPI into a
# virtual environment under .build-interop/, starts `paten serve` on a free port, and checks both directions:
#   inbound:  requests signed by standardwebhooks are accepted; tampered, stale and wrong-secret ones get 401;
#   outbound: a volunteer's CLI reply reaches a small Python receiver as a delivery that `Webhook.verify` accepts.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.build-interop/venv
. scripts/lib/venv.sh
python_venv "$venv" standardwebhooks==1.1.0
python="$venv/bin/python"

. scripts/check.sh
bin=$(paten_bin)
work="$(mktemp -d)"
export XDG_CONFIG_HOME="$work/config" PATEN_WEBHOOK_ALLOW_LOOPBACK=true PATEN_DELIVERY_INTERVAL_MS=100
unset PATEN_URL PATEN_TOKEN
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# The receiver first: the integration's outbound URL needs its port.
touch "$work/secret" "$work/received.jsonl"
"$python" scripts/interop/receiver.py "$work/receiver.port" "$work/secret" "$work/received.jsonl" &
pids+=($!)
disown "$!"
wait_for "$work/receiver.port" . "the Python receiver's start"
receiver="http://127.0.0.1:$(cat "$work/receiver.port")/hook"

data="$work/data"
"$bin" integrations add --data-dir "$data" --name pychat --kind standard --outbound-url "$receiver" \
    --events question.replied,question.resolved --json >"$work/integration.json"
integration=$("$python" -c 'import json,sys; print(json.load(sys.stdin)["integration"]["id"])' <"$work/integration.json")
"$python" -c 'import json,sys; print(json.load(sys.stdin)["secret"])' <"$work/integration.json" >"$work/secret"
vera=$("$bin" helpers add --data-dir "$data" --handle vera --role volunteer)

port=$(free_port)
base="http://127.0.0.1:$port"
"$bin" serve --port "$port" --data-dir "$data" --log-level warning 2>"$work/serve.log" &
pids+=($!)
disown "$!"
wait_for "$work/serve.log" "paten listening" "paten serve's start" || { cat "$work/serve.log"; exit 1; }

echo "inbound: requests signed by standardwebhooks $("$python" -c 'import importlib.metadata as m; print(m.version("standardwebhooks"))')"
if "$python" scripts/interop/sender.py "$base" "$integration" "$(cat "$work/secret")" >"$work/sender.out"; then
    sender_ok=yes
else
    sender_ok=no
fi
sed '$d' "$work/sender.out"
check "every inbound check" yes "$sender_ok"
question=$(tail -n 1 "$work/sender.out")

echo "outbound: a volunteer's CLI reply, verified by standardwebhooks' Webhook.verify"
export PATEN_URL="$base" PATEN_TOKEN="$vera"
"$bin" claim "$question" >/dev/null
"$bin" reply "$question" "Restart the phone, then scan the QR code again." >/dev/null
"$bin" resolve "$question" >/dev/null
wait_for "$work/received.jsonl" '"question.resolved"' "the resolved event's delivery" || cat "$work/received.jsonl"
summary=$("$python" - "$work/received.jsonl" <<'PY'
import json, sys
lines = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
replied = [line for line in lines if line.get("type") == "question.replied"]
resolved = [line for line in lines if line.get("type") == "question.resolved"]
print(all(line["verified"] for line in lines) and len(lines) > 0)
print(replied[0]["data"]["message"]["text"] if replied else "")
print(replied[0]["data"]["conversation_id"] if replied else "")
print(bool(resolved and resolved[0]["data"].get("rating_url")))
print(len({line["id"] for line in lines}) == len(lines))
PY
)
check "every delivery verifies" True "$(sed -n 1p <<<"$summary")"
check "question.replied carries the reply text" "Restart the phone, then scan the QR code again." "$(sed -n 2p <<<"$summary")"
check "question.replied carries the conversation id" "py-conv-1" "$(sed -n 3p <<<"$summary")"
check "question.resolved carries the rating link" True "$(sed -n 4p <<<"$summary")"
check "one webhook-id per event" True "$(sed -n 5p <<<"$summary")"

echo "interop: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
