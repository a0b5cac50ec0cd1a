#!/usr/bin/env bash
# The checks behind "why not closer to 0.5" (docs/laptop-findings.md), after `isoflop reproduce` has run the
# laptop sweep: the smallest budgets trained again at half and twice the peak-LR rule, and with
# seeds 2 and 3; prints each shape's losses side by side and the exponents refitted from the best
# LR per shape and from the median over seeds. About 10 minutes on two cores.
# Usage: scripts/laptop-checks.sh [STORE]   (default runs/laptop/sweep.sqlite)
set -euo pipefail
cd "$(dirname "$0")/.."
store=${1:-runs/laptop/sweep.sqlite}
bin=.build/release/isoflop
[ -x "$bin" ] || { echo "laptop-checks: build first (swift build -c release --product isoflop)" >&2; exit 1; }
[ -f "$store" ] || { echo "laptop-checks: no laptop sweep at $store (run isoflop reproduce first)" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "laptop-checks: needs the sqlite3 command (apt-get install sqlite3)" >&2; exit 1; }
mkdir -p runs/checks

# variant NAME BUDGETS SEED LR_FACTOR: configs/laptop.toml, matched only, at other budgets, seed or LR,
# on the config's fixed grid of nine shapes (the shapes the main job's adaptive grid shares with it are compared).
variant() {
    local name=$1 budgets=$2 seed=$3 factor=$4
    local intercept
    intercept=$(python3 -c "import math; print(-5.944 + math.log($factor))")
    sed -e "s/^name = \"laptop\"/name = \"$name\"/" \
        -e "s/^budgets = .*/budgets = $budgets/" \
        -e 's/^schedules = .*/schedules = ["matched"]/' \
        -e 's/^sizes = \[[0-9, ]*\]/sizes = 9/' \
        -e 's/^adaptive = true /adaptive = false/' \
        -e "s/^seed = 1 /seed = $seed /" \
        -e "s/^intercept = -5.944/intercept = $intercept/" configs/laptop.toml > "runs/checks/$name.toml"
    # Each store in a folder of its own: checkpoints live beside the store, named by run id.
    mkdir -p "runs/checks/$name"
    "$bin" sweep run "runs/checks/$name.toml" --store "runs/checks/$name/sweep.sqlite" > "runs/checks/$name.log" 2>&1
    echo "laptop-checks: $name done"
}
variant lr-half "[3e11, 6e11, 1.2e12]" 1 0.5
variant lr-twice "[3e11, 6e11, 1.2e12]" 1 2
variant seed2 "[3e11, 6e11, 1.2e12, 2.5e12]" 2 1
variant seed3 "[3e11, 6e11, 1.2e12, 2.5e12]" 3 1

rows() {  # label store: one CSV row per finished matched run
    sqlite3 -csv "$2" "select '$1', budget, d, layers, head_size, n, n_nonemb, tokens, flops, steps, final_eval_loss
                       from runs where schedule = 'matched' and status = 'done'"
}
{ rows base "$store"; for v in lr-half lr-twice seed2 seed3; do rows "$v" "runs/checks/$v/sweep.sqlite"; done; } > runs/checks/all.csv

python3 - <<'EOF'
import csv, statistics
runs = {}
for label, budget, d, L, h, n, ne, tokens, flops, steps, loss in csv.reader(open("runs/checks/all.csv")):
    key = (float(budget), int(n))
    runs.setdefault(key, {"shape": f"{d}/{L}", "steps": int(steps), "row": (n, ne, tokens, flops, budget)})[label] = float(loss)
labels = ["base", "lr-half", "lr-twice", "seed2", "seed3"]
print(f"{'budget':>7} {'d/L':>6} {'N':>8} {'steps':>6} " + " ".join(f"{l:>8}" for l in labels))
for (b, n), v in sorted(runs.items()):
    if len(v) > 4:
        print(f"{b:7.1e} {v['shape']:>6} {n:8d} {v['steps']:6d} " + " ".join(f"{v.get(l, float('nan')):8.4f}" for l in labels))
def write(path, pick):
    with open(path, "w") as f:
        f.write("N,N_nonemb,D,C,loss,budget\n")
        for v in runs.values():
            if "base" in v:
                f.write(",".join(v["row"][:4]) + f",{pick(v)},{v['row'][4]}\n")
write("runs/checks/best-lr.csv", lambda v: min(v[l] for l in ("base", "lr-half", "lr-twice") if l in v))
write("runs/checks/median-seed.csv", lambda v: statistics.median([v[l] for l in ("base", "seed2", "seed3") if l in v]))
EOF
for f in best-lr median-seed; do
    echo "== exponents with the $f losses (all parameters, residual bootstrap, 1,000 resamples)"
    "$bin" fit "runs/checks/$f.csv" --params total --bootstrap 1000 | grep -E "^[23] |optima per"
done
