#!/usr/bin/env bash
# Generates the PatenClient library's code from docs/openapi.yaml with swift-openapi-generator, ahead of time:
#   docs/openapi.yaml + Sources/PatenClient/openapi-generator-config.yaml
#     -> Sources/PatenClient/Generated/{Client,Types*}.swift and Generated/openapi.sha256
# The generated files are committed, so builds and CI never run the generator; GeneratedClientTests fails while
# openapi.sha256 does not match the spec and config, naming this script. Run it after every change to the spec.
# The generator is built once, in a scratch package under .build-openapi/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."

generator_version=1.14.3
scratch=.build-openapi
spec=docs/openapi.yaml
config=Sources/PatenClient/openapi-generator-config.yaml
output=Sources/PatenClient/Generated

mkdir -p "$scratch"
cat >"$scratch/Package.swift" <<SWIFT
// swift-tools-version: 6.2
// A scratch package that builds swift-openapi-generator for scripts/openapi-generate.sh.
import PackageDescription

let package = Package(
    name: "openapi-generate",
    dependencies: [
        .package(url: "https://github.com/apple/swift-openapi-generator", exact: "$generator_version")
    ],
    targets: []
)
SWIFT
swift build --package-path "$scratch" -c release --product swift-openapi-generator >&2
generator="$(swift build --package-path "$scratch" -c release --show-bin-path)/swift-openapi-generator"

staging="$(mktemp -d)"
trap 'rm -rf "$staging"' EXIT
"$generator" generate --config "$config" --output-directory "$staging" "$spec"

mkdir -p "$output"
rm -f "$output"/*.swift
for file in "$staging"/*.swift; do
    # Generated code is not ours to format; swift-format skips a file that starts with this comment.
    { echo "// swift-format-ignore-file"; cat "$file"; } >"$output/$(basename "$file")"
done
sha256sum "$spec" "$config" >"$output/openapi.sha256"
echo "openapi-generate.sh: wrote $(ls "$output" | tr '\n' ' ')in $output" >&2
