#!/usr/bin/env bash
# Tokenizer speed benchmark: trains byte-level BPE on a corpus (default pydocs) at the given
# vocab sizes, encodes the corpus with it, and prints times, MB/s, bytes per token and peak
# memory, one process per thread count. Compare with Hugging Face `tokenizers` on the same
# machine via scripts/hf_compare.py --train.
# usage: scripts/bench-tokenizer.sh [corpus] [vocabs, e.g. 512,2048] [threads, e.g. 1,2]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product isoflop >/dev/null
corpus="${1:-pydocs}"
vocabs="${2:-512,2048}"
threads="${3:-1,2}"
IFS=, read -ra ts <<< "$threads"
for t in "${ts[@]}"; do
    .build/release/isoflop tokenizer bench --corpus "$corpus" --vocab "$vocabs" --threads "$t"
done
