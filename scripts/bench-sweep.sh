#!/usr/bin/env bash
# Times one escalation sweep pass over N open questions with 1 % due, on a fresh SQLite database (release build).
# Usage: scripts/bench-sweep.sh [N ...]   (default: 100000 1000000)
# With SUBSCRIBER=1, an integration subscribed to every event about every question is connected first, so each
# event the sweep writes also writes its outbox message (what a staff tool's subscription costs).
# The due questions are the oldest, as in a running system; with SPREAD=1 every hundredth question is due instead (the
# worst case: each due question's rows on pages of their own).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product paten >/dev/null
bin="$(swift build -c release --show-bin-path)/paten"
for count in "${@:-100000 1000000}"; do
    for n in $count; do
        dir="$(mktemp -d)"
        echo "== $n open questions, 1 % due${SPREAD:+ (spread)}"
        "$bin" dev seed --data-dir "$dir" --questions "$n" --due-percent 1 --log-level warning \
            ${SPREAD:+--spread-due}
        if [ "${SUBSCRIBER:-0}" = 1 ]; then
            PATEN_WEBHOOK_ALLOW_LOOPBACK=true "$bin" integrations add --data-dir "$dir" --name tools --kind standard \
                --outbound-url http://127.0.0.1:9/hook --all-channels --no-inbound --log-level warning >/dev/null
            echo "(with an all-channels subscriber to every event)"
        fi
        # One process: the pass over everything due, then the next pass (nothing due), as a server's next tick.
        "$bin" dev sweep --data-dir "$dir" --log-level warning
        echo -n "in a new process (nothing due, connections cold): "
        "$bin" dev sweep --data-dir "$dir" --log-level warning
        rm -rf "$dir"
    done
done
