#!/usr/bin/env bash
# Static checks of the packaging in scripts/deploy/ (docs/deployment.md), for machines without a Docker engine:
#   1. Dockerfile: the paths it copies exist, the product it builds is in Package.swift, the PATEN_* variables it
#      sets are in the README's configuration table, the health check's route exists, the ignore file keeps .build
#      out, and (when a built `paten` is at hand) every non-Swift shared library the binary loads comes from a
#      Debian package the runtime stage installs. hadolint runs too when it is installed.
#   2. paten.service: `systemd-analyze verify` in a temporary root (the unit as shipped, and with its
#      LoadCredential lines switched on), any warning counting as a failure; `systemd-analyze security --offline`
#      must rate its exposure 2.0 or lower.
#   3. The hardening against the real binary (when strace and a built `paten` are at hand): `paten serve` under
#      strace on a temporary data directory answers /healthz, /readyz, takes a question and exits 0 on SIGTERM,
#      using only system calls in @system-service and socket families RestrictAddressFamilies allows, and never
#      maps memory writable and executable (MemoryDenyWriteExecute).
# It does not build anything; step 1's library check and step 3 use `$(swift build --show-bin-path)/paten` or
# PATEN_BIN when it exists, and are skipped otherwise.
set -euo pipefail
cd "$(dirname "$0")/../.."

. scripts/check.sh
deploy=scripts/deploy
work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then kill -KILL "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

skip() { echo "  skip $1"; }

bin="${PATEN_BIN:-}"
if [ -z "$bin" ] && command -v swift >/dev/null; then
    bin="$(swift build --show-bin-path 2>/dev/null)/paten"
fi
[ -n "$bin" ] && [ -x "$bin" ] || bin=""

echo "== Dockerfile"
dockerfile=$deploy/Dockerfile
# COPY sources from the build context (not --from=stage) must exist in the repository.
copy_missing=""
while read -r source; do
    [ -e "$source" ] || copy_missing="$copy_missing $source"
done < <(grep -E '^COPY ' "$dockerfile" | grep -v -- '--from=' | awk '{for (i = 2; i < NF; i++) if ($i !~ /^--/) print $i}')
check "every COPY source exists in the repository" "" "$copy_missing"
product=$(grep -oE -- '--product [a-z-]+' "$dockerfile" | awk '{print $2}')
check "the built product ($product) is an executable in Package.swift" 1 \
    "$(grep -c "\.executable(name: \"$product\"" Package.swift)"
check "the builder stage is the Swift image" 1 "$(grep -cE '^FROM swift:[0-9.]+-bookworm AS build$' "$dockerfile")"
check "the runtime stage is debian:bookworm-slim" 1 "$(grep -cE '^FROM debian:bookworm-slim$' "$dockerfile")"
unknown_env=""
for name in $(grep -oE 'PATEN_[A-Z_]+' "$dockerfile" | sort -u); do
    grep -q "\`$name\`" README.md || unknown_env="$unknown_env $name"
done
check "every PATEN_* variable in the Dockerfile is in the README's configuration table" "" "$unknown_env"
health=$(grep -oE '/healthz' "$dockerfile" | head -1)
check "the HEALTHCHECK route is served" yes \
    "$(grep -rqF "\"${health#/}\"" Sources/PatenHTTP Sources/PatenApp && echo yes || echo no)"
check "the runtime stage runs as a non-root user" 1 "$(grep -cE '^USER [a-z]+' "$dockerfile")"
check "/data is a volume and the data directory" 2 "$(grep -cE '^VOLUME /data$|PATEN_DATA_DIR=/data' "$dockerfile")"
ignored=$(grep -vE '^\s*(#|$)' "$deploy/Dockerfile.dockerignore" | tr '\n' ' ')
for kept_out in .build .git data; do
    check "the ignore file keeps $kept_out out of the context" yes \
        "$(case " $ignored " in *" $kept_out "*) echo yes ;; *) echo no ;; esac)"
done
if [ -n "$bin" ] && command -v ldd >/dev/null && command -v dpkg >/dev/null; then
    # The runtime stage's package list, against the packages owning the libraries the binary loads (this machine
    # is Debian 12, as the image is). libc6 and libgcc-s1 are part of debian:bookworm-slim itself; the Swift
    # runtime's own libraries (the toolchain's lib/swift/) are linked in by --static-swift-stdlib.
    runtime_packages=" $(sed -n '/^FROM debian/,$p' "$dockerfile" | grep -oE '\b(lib[a-z0-9.+-]+|zlib1g)\b' | sort -u | tr '\n' ' ') libc6 libgcc-s1 "
    unlisted=""
    while read -r library; do
        # dpkg knows a file by the path its package ships, /lib/... or /usr/lib/... (merged /usr): try both.
        real=$(readlink -f "$library")
        package=$( (dpkg -S "$real" || dpkg -S "${real#/usr}") 2>/dev/null | head -1 | cut -d: -f1) || package=""
        [ -n "$package" ] || package="?$library"
        case "$runtime_packages" in *" $package "*) ;; *) unlisted="$unlisted $package" ;; esac
    done < <(ldd "$bin" | awk '$3 ~ /^\// {print $3}' | grep -v '/lib/swift/' || true)
    check "every non-Swift library of $(basename "$bin") comes from a package the runtime stage installs" "" "$unlisted"
else
    skip "library check: no built paten binary (swift build) or no ldd/dpkg"
fi
if command -v hadolint >/dev/null; then
    check "hadolint" 0 "$(hadolint "$dockerfile" >&2; echo $?)"
else
    skip "hadolint is not installed"
fi

echo "== paten.service"
if command -v systemd-analyze >/dev/null; then
    # verify needs ExecStart's binary to exist and the units the service depends on (sysinit.target ...): a
    # temporary root holds a stub /usr/local/bin/paten, this machine's system units and the unit under test.
    root="$work/root"
    mkdir -p "$root/usr/local/bin" "$root/etc/systemd/system" "$root/usr/lib/systemd"
    cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"
    printf '#!/bin/sh\n' >"$root/usr/local/bin/paten"
    chmod 755 "$root/usr/local/bin/paten"
    cp "$deploy/paten.service" "$root/etc/systemd/system/paten.service"
    sed 's/^#\(LoadCredential=\|Environment=PATEN_SECRETS_KEY_FILE=\)/\1/' "$deploy/paten.service" \
        >"$root/etc/systemd/system/paten-credential.service"
    check "the LoadCredential variant switches on two lines" 2 \
        "$(diff "$deploy/paten.service" "$root/etc/systemd/system/paten-credential.service" | grep -c '^>')"
    for unit in paten.service paten-credential.service; do
        # verify exits 0 on unknown keys and bad values (it only warns): any output is a failure.
        output=$(systemd-analyze verify --root="$root" "$unit" 2>&1) && rc=0 || rc=$?
        [ -z "$output" ] || echo "$output" | sed 's/^/       /'
        check "systemd-analyze verify $unit" "0 quiet" "$rc $([ -z "$output" ] && echo quiet || echo warned)"
    done
    exposure=$(systemd-analyze security --offline=true --root="$root" --no-pager paten.service 2>/dev/null |
        grep -oE 'Overall exposure level for paten.service: [0-9.]+' | awk '{print $NF}')
    echo "       exposure level (systemd-analyze security --offline): $exposure"
    check "systemd-analyze security rates the exposure 2.0 or lower" 0 \
        "$(systemd-analyze security --offline=true --threshold=20 --root="$root" paten.service >/dev/null 2>&1; echo $?)"
else
    skip "systemd-analyze is not installed"
fi

echo "== the hardening against the real binary"
if [ -n "$bin" ] && command -v strace >/dev/null && command -v systemd-analyze >/dev/null; then
    # The unit's @system-service, expanded (groups name other groups).
    expand() {
        systemd-analyze syscall-filter "$1" 2>/dev/null | sed -n '2,$p' | grep -vE '^\s*(#|$)' | tr -d ' ' |
            while read -r entry; do case $entry in @*) expand "$entry" ;; *) echo "$entry" ;; esac; done
    }
    expand @system-service | sort -u >"$work/allowed"
    strace -f -qq -o "$work/trace" env -u PATEN_DB_URL -u PATEN_CONFIG PATEN_DATA_DIR="$work/data" PATEN_HOST=127.0.0.1 \
        PATEN_PORT=0 "$bin" serve >"$work/out" 2>"$work/err" &
    server_pid=$!
    wait_for "$work/err" "paten listening on" "paten serve under strace starting"
    base=$(grep -oE 'http://127\.0\.0\.1:[0-9]+' "$work/err" | head -1)
    admin=$(grep -oE 'pat_[A-Za-z0-9_-]+' "$work/err" | head -1)
    check "/healthz under strace" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$base/healthz")"
    check "/readyz under strace" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$base/readyz")"
    check "a question under strace" 201 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$base/v1/questions" \
        -H "Authorization: Bearer $admin" \
        -d '{"subject": "Roaming in Spain", "body": "No data abroad.", "customer": {"id": "c-1", "name": "Ann"}}')"
    # SIGTERM to paten itself (strace's child), as systemd sends it; strace exits with paten's exit code.
    kill -TERM "$(pgrep -P "$server_pid")"
    wait "$server_pid" && rc=0 || rc=$?
    server_pid=""
    check "SIGTERM ends paten serve with exit code 0" 0 "$rc"
    grep -oE '^[0-9]+ +[a-z_0-9]+\(' "$work/trace" | awk '{print $2}' | tr -d '(' | sort -u >"$work/used"
    check "every system call is in @system-service ($(wc -l <"$work/used") used)" "" \
        "$(comm -23 "$work/used" "$work/allowed" | tr '\n' ' ')"
    families=$(grep -oE 'socket\(AF_[A-Z0-9]+' "$work/trace" | cut -d'(' -f2 | sort -u | tr '\n' ' ')
    allowed_families=" $(grep -E '^RestrictAddressFamilies=' "$deploy/paten.service" | cut -d= -f2) "
    denied=""
    for family in $families; do
        case "$allowed_families" in *" $family "*) ;; *) denied="$denied $family" ;; esac
    done
    check "every socket family ($families) is in RestrictAddressFamilies" "" "$denied"
    check "no writable and executable mapping, no mprotect to executable (MemoryDenyWriteExecute)" 0 \
        "$(grep -cE 'mmap\(.*PROT_WRITE\|PROT_EXEC|mmap\(.*PROT_EXEC\|PROT_WRITE|mprotect\(.*PROT_EXEC' "$work/trace" || true)"
else
    skip "no built paten binary (swift build), strace or systemd-analyze"
fi

echo "deploy checks: $passed passed, $failed failed"
[ "$failed" = 0 ]
