#!/usr/bin/env python3
"""Parity check against PyTorch (optional tooling; the Swift side never needs Python).

    isoflop bench --dump-parity DIR --shapes 64x2     # writes the files below
    python3 scripts/parity_torch.py DIR

DIR holds model.safetensors (gpt-mini parameters under their checkpoint names, F32, with
d/layers/head_size/vocab/context in __metadata__), inputs.bin and targets.bin (int32
little-endian, batch x context) and loss.txt (the Swift loss). The script builds the same
model in PyTorch (pre-LN, tied embeddings, fused qkv without bias, GELU tanh, LayerNorm
eps 1e-5), prints both losses and their difference, and the gradient norm PyTorch gets.
"""
import json
import math
import struct
import sys
from pathlib import Path

import torch
import torch.nn.functional as F


def read_safetensors(path):
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    tensors = {}
    for name, e in header.items():
        assert e["dtype"] == "F32", f"{name}: dtype {e['dtype']}"
        lo, hi = e["data_offsets"]
        t = torch.frombuffer(bytearray(raw[base + lo:base + hi]), dtype=torch.float32)
        tensors[name] = t.reshape(e["shape"]).clone()
    return tensors, meta


def forward(p, inputs, targets, d, layers, head_size):
    B, T = inputs.shape
    H = d // head_size
    x = p["wte.weight"][inputs] + p["wpe.weight"][:T]
    for i in range(layers):
        b = f"blocks.{i}."
        a = F.layer_norm(x, (d,), p[b + "ln1.weight"], p[b + "ln1.bias"], eps=1e-5)
        q, k, v = (a @ p[b + "qkv.weight"].T).split(d, dim=-1)
        q, k, v = (t.view(B, T, H, head_size).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(head_size)
        mask = torch.ones(T, T, dtype=torch.bool).tril()
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, d)
        x = x + y @ p[b + "proj.weight"].T
        m = F.layer_norm(x, (d,), p[b + "ln2.weight"], p[b + "ln2.bias"], eps=1e-5)
        x = x + F.gelu(m @ p[b + "fc.weight"].T, approximate="tanh") @ p[b + "out.weight"].T
    x = F.layer_norm(x, (d,), p["lnf.weight"], p["lnf.bias"], eps=1e-5)
    logits = x @ p["wte.weight"].T
    return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def load_dump(d):
    """The parameters, (d, layers, head_size) and the batch of a parity dump folder."""
    params, meta = read_safetensors(d / "model.safetensors")
    dims = int(meta["d"]), int(meta["layers"]), int(meta["head_size"])
    context = int(meta["context"])
    inputs = torch.frombuffer(bytearray((d / "inputs.bin").read_bytes()), dtype=torch.int32).long().view(-1, context)
    targets = torch.frombuffer(bytearray((d / "targets.bin").read_bytes()), dtype=torch.int32).long().view(-1, context)
    for t in params.values():
        t.requires_grad_(True)
    return params, dims, inputs, targets


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    d = Path(sys.argv[1])
    params, dims, inputs, targets = load_dump(d)
    loss = forward(params, inputs, targets, *dims)
    loss.backward()
    grad_norm = math.sqrt(sum(float((t.grad ** 2).sum()) for t in params.values()))
    swift = float((d / "loss.txt").read_text())
    print(f"swift loss   {swift:.6f}")
    print(f"pytorch loss {loss.item():.6f}")
    print(f"difference   {abs(swift - loss.item()):.2e}")
    print(f"pytorch gradient norm {grad_norm:.6f}")


if __name__ == "__main__":
    main()
