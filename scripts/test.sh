#!/usr/bin/env bash
# The whole test suite: format lint, build, unit and integration tests, the end-to-end smoke test, and webhook
# interoperability against the Python standardwebhooks package.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== swift format lint"
swift format lint --strict -r Sources Tests

echo "== swift build"
swift build

echo "== swift test"
swift test

echo "== smoke test"
scripts/smoke.sh

echo "== webhook interoperability (Python standardwebhooks)"
scripts/interop.sh
