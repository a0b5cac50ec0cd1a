#!/usr/bin/env bash
# Runs the whole test suite in a release build (the numerical tests and the end-to-end sweep
# need optimised code to finish in minutes). One build serves both: the tool the CLI tests
# spawn and the test bundle, compiled once with testability on (a plain `swift build` and
# `swift test` would compile the package twice, with different flags).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --build-tests -Xswiftc -enable-testing
swift test -c release --skip-build "$@"
