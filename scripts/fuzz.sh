#!/usr/bin/env bash
# Builds one libFuzzer target (Fuzz/TARGET, with address sanitizer) and runs it on one core
# for SECONDS, from its seed inputs in Tests/Fixtures/fuzz/TARGET. New crashing inputs land in
# out/fuzz/TARGET/crashes; copy them into Tests/Fixtures/fuzz/TARGET, where the test suite
# replays every file.
#   scripts/fuzz.sh fuzz-config 600
# Targets: fuzz-config fuzz-tokenizer-json fuzz-safetensors fuzz-sidecar fuzz-fit-csv fuzz-roundtrip
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh TARGET SECONDS}
seconds=${2:?usage: scripts/fuzz.sh TARGET SECONDS}
[ -d "Fuzz/$target" ] || { echo "no fuzz target Fuzz/$target" >&2; exit 2; }
ISOFLOP_FUZZ=1 swift build -c release --build-path .build/fuzz --product "$target" \
    -Xswiftc -sanitize=fuzzer,address >&2
seeds=Tests/Fixtures/fuzz/$target
work=out/fuzz/$target
mkdir -p "$work/corpus" "$work/crashes"
exec .build/fuzz/release/"$target" "$work/corpus" "$seeds" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="$work/crashes/" -print_final_stats=1
