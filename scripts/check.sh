# Shared by the end-to-end scripts (sourced, not run): counts and prints checks, waits for log lines or any condition
# (bounded polls, never a bare sleep), finds a free port and the debug `paten` executable, reads a JSON field and
# calls the API (`status`, with the caller's $work and $base).
passed=0
failed=0

check() { # check NAME EXPECTED ACTUAL
    if [ "$2" = "$3" ]; then
        passed=$((passed + 1))
        echo "  ok   $1"
    else
        failed=$((failed + 1))
        echo "  FAIL $1: expected '$2', got '$3'"
    fi
}

wait_for() { # wait_for FILE PATTERN WHAT: up to 30 s for PATTERN to appear in FILE
    for _ in $(seq 1 300); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "$(basename "$0"): $3 did not happen" >&2
    return 1
}

wait_until() { # wait_until SECONDS CMD [ARG...]: polls CMD every 0.1 s until it succeeds; fails after SECONDS
    local seconds=$1 tries=$(($1 * 10))
    shift
    for _ in $(seq 1 "$tries"); do
        "$@" && return 0
        sleep 0.1
    done
    "$@" && return 0
    echo "$(basename "$0"): gave up after $seconds s waiting for: $*" >&2
    return 1
}

free_port() { # a free TCP port on 127.0.0.1
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

paten_bin() { # the debug `paten` executable, built first if missing
    local bin
    bin="$(swift build --show-bin-path)/paten"
    [ -x "$bin" ] || swift build --product paten >&2
    echo "$bin"
}

json() { # json FIELD.PATH < body
    python3 -c 'import json,sys
value = json.load(sys.stdin)
for part in sys.argv[1].split("."):
    value = value[int(part)] if isinstance(value, list) else value.get(part)
print("" if value is None else value)' "$1"
}

status() { # status METHOD PATH TOKEN [BODY] -> HTTP status; body in $work/body
    local args=(-s -o "$work/body" -w '%{http_code}' -X "$1" "$base$2")
    [ -n "$3" ] && args+=(-H "Authorization: Bearer $3")
    [ $# -ge 4 ] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
    curl "${args[@]}"
}
