#!/usr/bin/env bash
# Training throughput of the laptop sweep's shapes (V = 512, batch 8 × 128) and the three bench
# shapes (V = 2048, batch 32 × 128) on one BLAS thread, against the machine's sgemm rate
# measured in the same run; then, for the laptop shapes, the rate of each of two bench processes
# side by side (what sharing the machine's caches and memory costs), the rate of each worker
# inside a real two-worker sweep of that shape (eval and checkpoints as configs/laptop.toml has
# them), and PyTorch's rate where torch is installed. Rates per CPU second are what one
# uncontended core gives; on a shared machine compare those. Needs the pydocs V = 512 token
# files (setup.sh).
#
#   bash scripts/bench.sh                 # everything (about 15 minutes on 2 idle cores)
#   SHAPES="64x1 80x2x16" bash scripts/bench.sh   # some laptop shapes only; NO_BIG=1 skips the bench shapes
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product isoflop >/dev/null
bin=$PWD/.build/release/isoflop
shapes=${SHAPES:-"16x1x16 32x1 48x1x48 64x1 64x2 80x2x16 96x2 128x2 128x3 160x3"}
seconds=${RUN_SECONDS:-20}      # length of each executor run
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
torch=0
python3 -c "import torch" 2>/dev/null && torch=1

grep -m1 'model name' /proc/cpuinfo | sed 's/.*: /CPU: /'
"$bin" bench --shapes 64x1 --steps 1 --vocab 512 --batch 8 | head -1
echo
printf '%-22s %9s %8s %7s | %10s %7s | %10s %7s | %12s %7s | %10s %6s\n' shape tokens/s GFLOP/s "of sgemm" \
    "tok/CPU-s" "of sgemm" "pair tok/s" "of bench" "worker tok/s" "of bench" "torch/CPU-s" ratio

# One shape: bench line, then the executor and torch figures.
row() {    # row SHAPE VOCAB BATCH EXECUTOR(0/1)
    local s=$1 V=$2 B=$3 exec=$4
    local out line pair="-" ofpair="-"
    # Laptop shapes: 100 steps (0.5–15 s), so that the pair's two processes overlap for most of theirs.
    out=$("$bin" bench --shapes "$s" --vocab "$V" --batch "$B" --steps $([ "$exec" = 1 ] && echo "100 --side-by-side" || echo 30))
    line=$(echo "$out" | grep '^d=')
    # Fields: name..., sgemm | tokens/s GFLOP/s share | tokens/CPU-s share  loss
    local f; read -r -a f <<<"$(echo "$line" | tr '|' ' ')"
    local n=${#f[@]}
    local tps=${f[n-6]} gf=${f[n-5]} share=${f[n-4]} cps=${f[n-3]} cshare=${f[n-2]}
    local worker="-" ofbench="-" tcps="-" ratio="-"
    if [ "$exec" = 1 ]; then
        # Two bench processes at once: each one's rate, as a share of the single process's.
        pair=$(echo "$out" | sed -n 's/.*side by side: \([0-9]*\) tokens.*/\1/p')
        pair=$(python3 -c "print(f'{$pair / 2:.0f}')")
        ofpair=$(python3 -c "print(f'{100 * $pair / $tps:.0f}%')")
        local d L H=32
        IFS=x read -r d L h <<<"$s"; [ -n "${h:-}" ] && H=$h
        local budget; budget=$(python3 -c "print(f'{$gf * 1e9 * $seconds:.3e}')")
        cat >"$tmp/$s.toml" <<TOML
name = "bench"
corpus = "pydocs"
train_tokens = "$PWD/data/tokens/pydocs-v512/train.u16"
eval_tokens = "$PWD/data/tokens/pydocs-v512/validation.u16"
tokenizer = "$PWD/data/tokenizers/pydocs-v512/tokenizer.json"
vocab = 512
budgets = []
batch = 8
schedules = ["matched", "fixed"]
eval_every = 500
eval_batches = 24
checkpoint_every = 1000
workers = 2
[family]
widths = [32]
[[budget_grid]]
flops = $budget
shapes = [{ d = $d, L = $L, head = $H }]
TOML
        mkdir -p "$tmp/$s"     # a store and its checkpoints per shape (run ids restart in every store)
        "$bin" sweep run "$tmp/$s.toml" --store "$tmp/$s/sweep.sqlite" >/dev/null 2>&1
        worker=$(sqlite3 "$tmp/$s/sweep.sqlite" "select printf('%.0f', avg(tokens_per_second)) from runs where status = 'done'")
        ofbench=$(python3 -c "print(f'{100 * $worker / $tps:.0f}%')")
    fi
    if [ "$torch" = 1 ]; then
        "$bin" bench --dump-parity "$tmp/p-$s" --shapes "$s" --vocab "$V" --batch "$B" >/dev/null
        tcps=$(python3 scripts/bench_torch.py "$tmp/p-$s" 20 | awk '{print $4}')
        ratio=$(python3 -c "print(f'{$cps / $tcps:.2f}')")
    fi
    printf '%-22s %9s %8s %7s | %10s %7s | %10s %7s | %12s %7s | %10s %6s\n' "$s V=$V B=$B" "$tps" "$gf" "$share" \
        "$cps" "$cshare" "$pair" "$ofpair" "$worker" "$ofbench" "$tcps" "$ratio"
}

for s in $shapes; do row "$s" 512 8 1; done
if [ -z "${NO_BIG:-}" ]; then
    for s in 64x2 128x3 256x6; do row "$s" 2048 32 0; done
fi
uptime | sed 's/.*load/load/'
