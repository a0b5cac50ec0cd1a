#!/usr/bin/env python3
"""PyTorch's training rate on the model of a parity dump, for comparison with `isoflop bench`
(optional tooling; scripts/bench.sh uses it when torch is installed).

    isoflop bench --dump-parity DIR --shapes 64x1 --vocab 512 --batch 8
    python3 scripts/bench_torch.py DIR [STEPS]

One thread, each step forward + backward + p -= lr·g as `isoflop bench` does. Prints tokens
per wall second and per CPU second of the calling thread (robust to other processes).
"""
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from parity_torch import forward, load_dump  # noqa: E402


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    torch.set_num_threads(1)
    d = Path(sys.argv[1])
    steps = int(sys.argv[2]) if len(sys.argv) == 3 else 30
    params, dims, inputs, targets = load_dump(d)

    def step():
        for t in params.values():
            t.grad = None
        forward(params, inputs, targets, *dims).backward()
        with torch.no_grad():
            for t in params.values():
                t -= 1e-2 * t.grad

    for _ in range(3):
        step()
    w0, c0 = time.perf_counter(), time.thread_time()
    for _ in range(steps):
        step()
    wall, cpu = time.perf_counter() - w0, time.thread_time() - c0
    tokens = steps * inputs.numel()
    print(f"tokens/s {tokens / wall:.0f} per-cpu-s {tokens / cpu:.0f}")


if __name__ == "__main__":
    main()
