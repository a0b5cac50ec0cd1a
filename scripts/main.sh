#!/usr/bin/env bash
# The main job in one command: set up, run (or resume) the laptop IsoFLOP sweep on pydocs with
# both the matched and the fixed cosine schedule, then fit the scaling laws of each schedule.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bin=.build/release/isoflop
$bin reproduce --config configs/laptop.toml
