#!/usr/bin/env bash
# Sets up a fresh machine: installs the Debian packages, builds isoflop in release, and builds
# the default corpus (pydocs) with its tokenizers and token files at V=512 (the laptop sweep)
# and V=2048.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product isoflop
for v in 512 2048; do .build/release/isoflop corpus build pydocs --vocab "$v"; done
