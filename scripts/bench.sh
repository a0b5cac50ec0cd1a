#!/usr/bin/env bash
# Training throughput of the gpt-mini shapes on one BLAS thread, against the sgemm rate
# measured in the same run; then two single-thread processes side by side (how a sweep uses
# two cores). Extra arguments go to `isoflop bench` (e.g. --vocab 512 --batch 8
# --shapes 32x1,64x1,96x2 for the laptop sweep shapes).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product isoflop >/dev/null
exec .build/release/isoflop bench --side-by-side "$@"
