#!/usr/bin/env bash
# Times one erasure (docs/privacy.md): seeds COUNT questions (default 2000) of one customer through the API of a
# `paten serve` on a fresh SQLite data directory, then erases the customer with DELETE /v1/customers/api/cust-many
# and prints the audit fact and the seconds it took. PATEN_BIN picks the binary (default .build/release/paten).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${PATEN_BIN:-.build/release/paten}
COUNT=${COUNT:-2000}
PORT=${PORT:-18181}
WORK=$(mktemp -d)
trap 'kill "${PID:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
export PATEN_POLICY="$PWD/Config/policy.json" PATEN_LOG_LEVEL=warning
TOKEN=$("$BIN" helpers add --handle root --role admin --data-dir "$WORK/data")
"$BIN" serve --port "$PORT" --data-dir "$WORK/data" >"$WORK/serve.log" 2>&1 &
PID=$!
for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
python3 - "$TOKEN" "$PORT" "$COUNT" <<'PY'
import concurrent.futures, json, sys, time, urllib.request
token, port, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
base = f"http://127.0.0.1:{port}"
def post(i):
    body = json.dumps({"subject": f"Roaming issue {i}", "body": f"Message {i}, call +44 7700 90{i % 10000:04d}",
                       "customer": {"id": "cust-many", "name": "Mona Many"}}).encode()
    request = urllib.request.Request(base + "/v1/questions", data=body,
                                     headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    urllib.request.urlopen(request).read()
started = time.time()
with concurrent.futures.ThreadPoolExecutor(16) as pool:
    list(pool.map(post, range(count)))
print(f"seeded {count} questions in {time.time() - started:.1f} s")
started = time.time()
request = urllib.request.Request(base + "/v1/customers/api/cust-many", method="DELETE",
                                 headers={"Authorization": "Bearer " + token})
fact = urllib.request.urlopen(request).read().decode()
print(f"erased in {time.time() - started:.2f} s: {fact}")
PY
