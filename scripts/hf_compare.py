#!/usr/bin/env python3
"""Compare isoflop's byte-level BPE with Hugging Face `tokenizers` (needs `pip install tokenizers`).

Loads our tokenizer.json with tokenizers.Tokenizer.from_file, encodes the corpus text with it,
and compares the ids with our token files (train + validation, which together cover the text).
Prints the fraction of identical tokens and where the first difference is. With --train it also
trains Hugging Face's own BPE of the same vocab size on the same bytes, for the bytes/token figure.

usage: scripts/hf_compare.py [--data data] [--corpus pydocs] [--vocab 2048] [--train]
"""
import argparse
import json
import os
import sys
import time
from array import array


def read_u16(path):
    a = array("H")
    with open(path, "rb") as f:
        a.frombytes(f.read())
    if sys.byteorder != "little":
        a.byteswap()
    return a


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data")
    ap.add_argument("--corpus", default="pydocs")
    ap.add_argument("--vocab", type=int, default=2048)
    ap.add_argument("--train", action="store_true", help="also train HF's own BPE for comparison")
    args = ap.parse_args()
    from tokenizers import Tokenizer

    name = f"{args.corpus}-v{args.vocab}"
    tok_path = os.path.join(args.data, "tokenizers", name, "tokenizer.json")
    text_path = os.path.join(args.data, "corpora", args.corpus + ".txt")
    ours = []
    for split in ("train", "validation"):
        ours.extend(read_u16(os.path.join(args.data, "tokens", name, split + ".u16")))
    raw = open(text_path, "rb").read()
    text = raw.decode("utf-8")  # the built-in corpora are valid UTF-8
    hf = Tokenizer.from_file(tok_path)
    # Encode pieces in a batch, cut like our parallel chunks: at a lone newline between two ASCII
    # characters that are not whitespace, where pre-tokens split the same with or without the cut.
    lines = text.split("\n")
    ok = lambda c: c != "" and c.isascii() and not c.isspace()
    pieces, buf = [], []
    for k, ln in enumerate(lines):
        if buf and len(buf) >= 2000 and ok(ln[:1]) and ok(buf[-1][-1:]):
            pieces.append("\n".join(buf) + "\n")
            buf = []
        buf.append(ln)
    pieces.append("\n".join(buf))
    assert "".join(pieces) == text
    t0 = time.time()
    enc = hf.encode_batch(pieces, add_special_tokens=False)
    dt = time.time() - t0
    theirs = [i for e in enc for i in e.ids]
    same = sum(1 for a, b in zip(ours, theirs) if a == b)
    first = next((k for k, (a, b) in enumerate(zip(ours, theirs)) if a != b), None)
    print(f"ours {len(ours)} tokens, HF {len(theirs)} tokens (HF encode {len(raw) / dt / 1e6:.2f} MB/s)")
    print(f"identical tokens at the same position: {same}/{max(len(ours), len(theirs))} "
          f"= {same / max(len(ours), len(theirs)):.6f}")
    if first is not None:
        print(f"first difference at token {first}: ours {ours[first:first + 8]} HF {theirs[first:first + 8]}")
    elif len(ours) == len(theirs):
        print("token streams identical")
    if args.train:
        from tokenizers import models, pre_tokenizers, trainers, decoders
        t = Tokenizer(models.BPE())
        t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        t.decoder = decoders.ByteLevel()
        tr = trainers.BpeTrainer(vocab_size=args.vocab, special_tokens=["<|endoftext|>"],
                                 initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
        t0 = time.time()
        t.train([text_path], tr)
        dt = time.time() - t0
        n = sum(len(e.ids) for e in t.encode_batch(pieces, add_special_tokens=False))
        print(f"HF-trained V={args.vocab}: {dt:.2f} s, {len(raw) / n:.3f} bytes/token on the whole text")


if __name__ == "__main__":
    main()
