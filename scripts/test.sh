#!/usr/bin/env bash
# Runs the whole test suite in a release build (the numerical tests and the end-to-end sweep
# need optimised code to finish in minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product isoflop
swift test -c release "$@"
