#!/usr/bin/env bash
# Approach 3's two solvers on the same data in one process, one thread: the L-BFGS grid
# (Hoffmann et al.'s 4,500 starts) against variable projection, their point fits and 1,000
# bootstrap refits each; VarPro's fit and refits on every thread, as `fit` runs them; and VarPro
# on 100,000 points. Usage: scripts/bench-fit.sh [CSV] [resamples]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product isoflop >/dev/null
grep -m1 'model name' /proc/cpuinfo || true
if [ $# -ge 1 ]; then
    .build/release/isoflop fit --benchmark "$1" --bootstrap "${2:-1000}"
else
    .build/release/isoflop fit --benchmark --bootstrap 1000
fi
