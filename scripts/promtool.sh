#!/usr/bin/env bash
# The Prometheus exposition checked by Prometheus' own linter: starts `paten serve` on a free port with a temporary
# SQLite data directory, makes it busy over the API (questions in both tiers, a volunteer's claim, replies, resolution,
# a rating through the rating link, 401s and 404s), then pipes GET /metrics to `promtool check metrics` and fails on
# any problem it reports (missing HELP, counters without `_total`, unit suffixes, ...). It also checks that the
# metrics of docs/metrics.md that a busy server must show are there. promtool comes from Debian's `prometheus`
# package, installed with apt-get when missing and running as root.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/check.sh

if ! command -v promtool >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "promtool.sh: installing Debian's prometheus (for promtool)" >&2
        apt-get update -qq >&2
        # Only the package's files: in a container without systemd nothing is started.
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >&2
    fi
    command -v promtool >/dev/null || { echo "promtool.sh: promtool is not installed (apt-get install prometheus)" >&2; exit 1; }
fi

bin=${PATEN_BIN:-$(paten_bin)}
work="$(mktemp -d)"
export XDG_CONFIG_HOME="$work/config"
unset PATEN_URL PATEN_TOKEN PATEN_DB_URL PATEN_METRICS_TOKEN
server_pid=""

cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then kill -KILL "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

port=$(free_port)
base="http://127.0.0.1:$port"
"$bin" serve --port "$port" --data-dir "$work/data" --log-level warning 2>"$work/serve.log" &
server_pid=$!
started() { grep -q "paten listening" "$work/serve.log" 2>/dev/null || ! kill -0 "$server_pid" 2>/dev/null; }
wait_until 30 started || true
grep -q "paten listening" "$work/serve.log" || { cat "$work/serve.log"; echo "promtool: server did not start"; exit 1; }
admin=$(sed -n 's/^admin token: //p' "$work/serve.log")
echo "server on $base (pid $server_pid)"

echo "a busy server"
check "admin creates a volunteer" 201 "$(status POST /v1/helpers "$admin" '{"handle":"vera","role":"volunteer","skills":["roaming"],"languages":["en","de"]}')"
vera_id=$(json id <"$work/body")
check "and gives her a token" 201 "$(status POST "/v1/helpers/$vera_id/tokens" "$admin" '{"label":"laptop"}')"
vera=$(json token <"$work/body")
check "a roaming question" 201 "$(status POST /v1/questions "$admin" '{"subject":"Roaming in Spain does not work","body":"Since Monday no data abroad.","customer":{"id":"c-1","name":"Ann"}}')"
peer=$(json id <"$work/body")
check "goes to the volunteers" volunteer "$(json tier <"$work/body")"
check "a billing question" 201 "$(status POST /v1/questions "$admin" '{"subject":"Invoice","body":"I was charged twice","customer":{"id":"c-2","name":"Bo"}}')"
billing=$(json id <"$work/body")
check "goes to staff" staff "$(json tier <"$work/body")"
check "a third question" 201 "$(status POST /v1/questions "$admin" '{"subject":"eSIM will not activate","body":"The QR code fails","customer":{"id":"c-3","name":"Cy"}}')"
check "the volunteer's queue" 200 "$(status GET /v1/questions "$vera")"
check "the volunteer claims" 200 "$(status POST "/v1/questions/$peer/claim" "$vera")"
check "and replies" 201 "$(status POST "/v1/questions/$peer/replies" "$vera" '{"body":"Switch on data roaming in Settings > Mobile."}')"
check "and resolves" 200 "$(status POST "/v1/questions/$peer/resolve" "$vera")"
check "staff answer the billing question" 201 "$(status POST "/v1/questions/$billing/replies" "$admin" '{"body":"We refund the second charge."}')"
check "and resolve it" 200 "$(status POST "/v1/questions/$billing/resolve" "$admin")"
rating_url=$(status GET "/v1/questions/$peer" "$admin" >/dev/null; json rating_url <"$work/body")
check "the customer rates through the link" 201 "$(curl -s -o "$work/body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary '{"score":5,"comment":"Thanks"}' "$rating_url")"
check "an unknown question is 404" 404 "$(status GET /v1/questions/q_nonexistent "$admin")"
check "an unknown path is 404" 404 "$(status GET /no/such/path "$admin")"
check "no token is 401" 401 "$(status GET /v1/me '')"
check "the summary" 200 "$(status GET /v1/metrics/summary "$admin")"

echo "GET /metrics through promtool"
check "the first scrape" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$base/metrics")"
check "a second scrape" 200 "$(curl -s -o "$work/metrics.txt" -w '%{http_code}' "$base/metrics")"
lint_rc=0
promtool check metrics <"$work/metrics.txt" >"$work/promtool.out" 2>&1 || lint_rc=$?
sed 's/^/    promtool: /' "$work/promtool.out"
check "promtool check metrics reports no problem" 0 "$(grep -c . "$work/promtool.out" || true)"
check "promtool check metrics exits 0" 0 "$lint_rc"
for name in http_server_requests_total http_server_request_duration_seconds http_server_request_errors_total \
    http_server_active_requests paten_first_response_seconds paten_ratings_total paten_queue_depth \
    paten_open_escalations paten_webhook_messages paten_volunteers paten_volunteers_paused; do
    check "$name has HELP" 1 "$(grep -c "^# HELP $name " "$work/metrics.txt" || true)"
done
check "the 404 is counted under http_route=\"NotFound\"" 1 \
    "$(grep -c '^http_server_requests_total{.*http_route="NotFound".*http_response_status_code="404"' "$work/metrics.txt" || true)"
check "the volunteer's first response is counted in the bucket up to 1 h" 1 \
    "$(grep -c '^paten_first_response_seconds_bucket{tier="volunteer",le="3600.0"} 1$' "$work/metrics.txt" || true)"
check "the rating is counted by score" 1 "$(grep -c '^paten_ratings_total{score="5"} 1' "$work/metrics.txt" || true)"

echo "shutdown"
kill -TERM "$server_pid"
exit_code=0
gone() { ! kill -0 "$1" 2>/dev/null; }
wait_until 10 gone "$server_pid" || true
if kill -0 "$server_pid" 2>/dev/null; then exit_code="still running"; else wait "$server_pid" || exit_code=$?; fi
server_pid=""
check "SIGTERM stops the server cleanly" 0 "$exit_code"

echo "promtool: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
