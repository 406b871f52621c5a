#!/usr/bin/env bash
# Times contact masking on adversarial 60 KB messages (shapes that make a backtracking pattern quadratic or worse)
# and on an ordinary one, with the release build: the in-process time per call (`paten dev mask --repeat N`, process
# start excluded) and the wall time of one whole process.
# Usage: scripts/bench-mask.sh [REPEAT]   (default 20; PATEN_BIN=... to time another `paten` build;
#        TIMEOUT=seconds per process, default 120)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${PATEN_BIN:-}" ]; then
    swift build -c release --product paten >/dev/null
    PATEN_BIN="$(swift build -c release --show-bin-path)/paten"
fi
repeat="${1:-20}"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT

python3 - "$dir" <<'EOF'
import sys
size = 60 * 1024
shapes = {
    "a@ repeated": "a@",
    "a. repeated, then @": None,
    "x@ then a. repeated": None,
    "letters, no @, then @": None,
    "digits with spaces": "1 ",
    "digits with dashes": "1-",
    "digits with U+2009": "1\u2009",
    "digits with zero-width spaces": "1\u200b",
    "plus signs": "+",
    "+49 repeated": "+49 ",
    "date-like 1.1.": "1.1.",
    "IBAN-like DE89": "DE89 ",
    "full-width m@": "\uff4d\uff20",
    "long digit run": "1",
    "ordinary German text": "Hallo, mein Handy (Tarif 3 GB) geht seit 15.01.2024 nicht. Ruf an: 0176 1234 5678. ",
}
for name, unit in shapes.items():
    if name == "a. repeated, then @":
        text = "a." * (size // 2 - 1) + "@"
    elif name == "x@ then a. repeated":
        text = "x@" + "a." * (size // 2 - 1)
    elif name == "letters, no @, then @":
        text = "a" * (size - 1) + "@"
    else:
        text = (unit * (size // len(unit.encode()) + 1))
        while len(text.encode()) > size:
            text = text[:-1]
    with open(f"{sys.argv[1]}/{name}.txt", "w", encoding="utf-8") as f:
        f.write(text)
EOF

printf '%-32s %16s %12s\n' "input (60 KB)" "per call" "process"
for file in "$dir"/*.txt; do
    name="$(basename "$file" .txt)"
    if per_call=$(timeout "${TIMEOUT:-120}" "$PATEN_BIN" dev mask --repeat "$repeat" <"$file" 2>&1 >/dev/null); then
        per_call="${per_call%% per call*}"
        # One whole process masking once: what one view costs plus start-up.
        start=$(date +%s%N)
        "$PATEN_BIN" dev mask <"$file" >/dev/null 2>&1
        process="$(awk -v ns=$(($(date +%s%N) - start)) 'BEGIN { printf "%.3f s", ns / 1e9 }')"
    else
        per_call="timeout"
        process="> ${TIMEOUT:-120} s"
    fi
    printf '%-32s %16s %12s\n' "$name" "$per_call" "$process"
done
