#!/usr/bin/env bash
# The whole test suite: format lint, build, unit and integration tests (PostgreSQL ones on a throwaway cluster),
# the end-to-end smoke test, the volunteer programme end to end, surge detection end to end (a replayed helpdesk
# mix, then a burst over two instances), two `paten serve` instances on one PostgreSQL, the
# short fault tests (SIGKILL under load, a receiver outage, 64 racing clients), webhook interoperability against the
# Python standardwebhooks package, and schemathesis fuzzing against the served OpenAPI document.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== swift format lint"
swift format lint --strict -r Sources Tests

echo "== swift build"
swift build

echo "== PostgreSQL (a throwaway cluster from scripts/postgres.sh)"
if PATEN_TEST_POSTGRES_URL=$(scripts/postgres.sh start); then
    export PATEN_TEST_POSTGRES_URL
    trap 'scripts/postgres.sh stop' EXIT
    echo "$PATEN_TEST_POSTGRES_URL"
elif [ "${CI:-}" = true ]; then
    echo "test.sh: PostgreSQL could not be started; in CI that fails the run" >&2
    exit 1
else
    echo "test.sh: warning: PostgreSQL could not be started; its tests are skipped" >&2
fi

echo "== swift test"
swift test

echo "== smoke test"
scripts/smoke.sh

echo "== Prometheus metrics checked by promtool"
scripts/promtool.sh

echo "== the volunteer programme end to end"
scripts/programme.sh

echo "== surge detection end to end: a realistic replay, then two instances on one PostgreSQL"
scripts/incidents.sh

echo "== the console and the rating page in a real browser (headless Chromium)"
scripts/browser.sh

echo "== two instances on one PostgreSQL"
scripts/multi-instance.sh

echo "== fault tests, short forms (scripts/faults/)"
scripts/faults/crash.sh
scripts/faults/outage.sh
scripts/faults/concurrency.sh

echo "== packaging checks (scripts/deploy/: Dockerfile paths and libraries, systemd-analyze verify, the unit's hardening)"
scripts/deploy/check.sh

echo "== webhook interoperability (Python standardwebhooks)"
scripts/interop.sh

echo "== schema fuzzing, short form (schemathesis against /openapi.yaml, every role, both databases)"
scripts/fuzz.sh
