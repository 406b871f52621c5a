#!/usr/bin/env bash
# Times one escalation sweep pass over N open questions with 1 % due, on a fresh SQLite database (release build).
# Usage: scripts/bench-sweep.sh [N ...]   (default: 100000 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product paten >/dev/null
bin="$(swift build -c release --show-bin-path)/paten"
for count in "${@:-100000 1000000}"; do
    for n in $count; do
        dir="$(mktemp -d)"
        echo "== $n open questions, 1 % due"
        "$bin" dev seed --data-dir "$dir" --questions "$n" --due-percent 1 --log-level warning
        echo -n "first pass (all due work):  "; "$bin" dev sweep --data-dir "$dir" --log-level warning
        echo -n "second pass (nothing due): "; "$bin" dev sweep --data-dir "$dir" --log-level warning
        rm -rf "$dir"
    done
done
