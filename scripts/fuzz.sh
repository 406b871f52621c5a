#!/usr/bin/env bash
# Schema-driven fuzzing: schemathesis (PyPI, in a virtual environment under .build-fuzz/) against the /openapi.yaml
# that a fresh `paten serve` publishes, with a token of each role: volunteer, integration, staff, then admin (last,
# since it may deactivate accounts). Every run checks all of schemathesis' checks: no 5xx, every status, header and
# body matches the document, schema-valid requests are accepted (or refused by a rule, 409/422; see
# scripts/fuzz/schemathesis.toml), schema-violating ones are refused, a wrong method gets 405 with Allow, and no
# operation ignores its token. scripts/fuzz/paten_hooks.py keeps the runs from deactivating their own accounts or revoking
# their own tokens (the requests still go out, with an id that names nothing).
# On SQLite always, and on a fresh PostgreSQL database too when PATEN_TEST_POSTGRES_URL is set.
#   short form (the test command):  scripts/fuzz.sh                  (FUZZ_EXAMPLES=8 per operation and mode)
#   long form (by hand):            FUZZ_EXAMPLES=300 scripts/fuzz.sh
# A run that tested nothing fails too: scripts/fuzz/coverage.py reads each run's summary and JUnit report and
# requires every selected operation tested and checked cases generated.
# A failure prints schemathesis' report with a curl line that reproduces each case; every run's output and junit
# report stay in .build-fuzz/reports/.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/check.sh
. scripts/lib/venv.sh

examples=${FUZZ_EXAMPLES:-8}
venv=.build-fuzz/venv
python_venv "$venv" schemathesis==4.32.5
schemathesis="$venv/bin/schemathesis"
bin=$(paten_bin)
reports="$PWD/.build-fuzz/reports"
rm -rf "$reports" && mkdir -p "$reports"
work="$(mktemp -d)"
export XDG_CONFIG_HOME="$work/config" PATEN_LOG_LEVEL=warning
unset PATEN_URL PATEN_TOKEN PATEN_DB_URL
server_pid=""
database=""
psql_bin=psql
command -v psql >/dev/null || psql_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)/psql"

stop_server() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    fi
}
drop_database() {
    if [ -n "$database" ]; then
        "$psql_bin" "${PATEN_TEST_POSTGRES_URL%/*}/postgres?sslmode=disable" -Xqc \
            "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
        database=""
    fi
}
cleanup() {
    stop_server
    drop_database
    rm -rf "$work"
}
trap cleanup EXIT


me_status() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" "$base/v1/me"; }

# fuzz NAME TOKEN [schemathesis options...]: one schemathesis run; its report goes to $reports/NAME.xml.
fuzz() {
    local name=$1 token=$2
    shift 2
    local output="$work/$name.out" status=0
    "$schemathesis" --config-file scripts/fuzz/schemathesis.toml run "$base/openapi.yaml" \
        -H "Authorization: Bearer $token" --checks all --max-examples "$examples" --workers 1 --seed "$seed" \
        --no-color --report junit --report-junit-path "$reports/$name.xml" "$@" >"$output" 2>&1 || status=$?
    local summary
    summary=$(grep -E '^  [0-9]+ generated' "$output" | tail -n 1 | sed 's/^ *//')
    cp "$output" "$reports/$name.txt"
    if [ "$status" -ne 0 ]; then
        if grep -q '^=* FAILURES =*$' "$output"; then
            sed -n '/^=* FAILURES =*$/,$p' "$output" | head -n 200
        else
            tail -n 60 "$output"
        fi
    fi
    check "$name: ${summary:-no summary}" 0 "$status"
    # A run that generated nothing, for one operation or at all, passes every check vacuously.
    local untested
    untested=$(python3 scripts/fuzz/coverage.py "$output" "$reports/$name.xml" 2>&1 || true)
    [ -z "$untested" ] || printf '%s\n' "$untested" | sed 's/^/    /'
    check "$name: every selected operation generated checked cases" "" "$untested"
}

# backend NAME: fresh data and accounts, a server, and one run per role against it.
backend() {
    local label=$1
    local data="$work/$label"
    "$bin" dev seed --data-dir "$data" --questions 40 --due-percent 10 >/dev/null
    declare -A tokens
    for role in volunteer integration staff admin; do
        tokens[$role]=$("$bin" helpers add --data-dir "$data" --handle "fuzz-$role" --role "$role" \
            --skills general,roaming,billing --languages en,de)
    done
    local port
    port=$(free_port)
    base="http://127.0.0.1:$port"
    "$bin" serve --port "$port" --data-dir "$data" 2>"$work/$label.log" &
    server_pid=$!
    wait_for "$work/$label.log" "paten listening" "paten serve's start ($label)" || { cat "$work/$label.log"; exit 1; }
    # The runs' own accounts and tokens, by id and handle, for scripts/fuzz/paten_hooks.py to keep.
    FUZZ_PROTECTED=$(curl -s -H "Authorization: Bearer ${tokens[admin]}" "$base/v1/tokens" | python3 -c '
import json, sys
tokens = json.load(sys.stdin)["tokens"]
helpers = {token["helper_id"] for token in tokens}
print(",".join(sorted(helpers | {token["id"] for token in tokens} | {f"fuzz-{role}" for role in sys.argv[1:]})))
' volunteer integration staff admin)
    export FUZZ_PROTECTED SCHEMATHESIS_HOOKS=paten_hooks PYTHONPATH="$PWD/scripts/fuzz"
    echo "$label: schemathesis $("$schemathesis" --version | awk '{print $NF}'), $examples examples per operation and mode, seed $seed"
    for role in volunteer integration staff admin; do
        fuzz "$label-$role" "${tokens[$role]}"
        check "$label-$role: its token still works afterwards" 200 "$(me_status "${tokens[$role]}")"
    done
    check "$label: the server is still up" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$base/healthz")"
    check "$label: no unhandled error was logged" 0 "$(grep -c 'unhandled error' "$work/$label.log" || true)"
    stop_server
}

seed=${FUZZ_SEED:-$((RANDOM * 32768 + RANDOM))}
backend sqlite
if [ -n "${PATEN_TEST_POSTGRES_URL:-}" ]; then
    database="paten_fuzz_$$_$RANDOM"
    "$psql_bin" "${PATEN_TEST_POSTGRES_URL%/*}/postgres?sslmode=disable" -Xqc "CREATE DATABASE $database"
    export PATEN_DB_URL="${PATEN_TEST_POSTGRES_URL%/*}/$database?sslmode=disable" PATEN_DB_MIGRATE=true
    PATEN_SECRETS_KEY=$(head -c 32 /dev/urandom | base64)
    export PATEN_SECRETS_KEY
    backend postgres
    drop_database
elif [ "${CI:-}" = true ]; then
    echo "fuzz: PATEN_TEST_POSTGRES_URL is not set; in CI that fails the run" >&2
    exit 1
fi

echo "fuzz: $passed passed, $failed failed (seed $seed; FUZZ_SEED=$seed repeats the run)"
[ "$failed" -eq 0 ]
