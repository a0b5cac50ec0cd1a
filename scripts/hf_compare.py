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
    hf = Tokenizer.from_file(tok_path)
    # Byte length of each of our ids, to walk our stream over pieces HF cannot take: a vocab
    # string has one character per byte (GPT-2's byte-to-unicode map), a special token is text.
    spec = json.load(open(tok_path, encoding="utf-8"))
    specials = {t["id"] for t in spec["added_tokens"]}
    length = {}
    for tok, i in spec["model"]["vocab"].items():
        length[i] = len(tok.encode("utf-8")) if i in specials else len(tok)
    # Cut the text like our parallel chunks: at a lone newline between two ASCII characters that
    # are not whitespace, where pre-tokens split the same with or without the cut. HF gets the
    # pieces that are valid UTF-8 (a Python str cannot hold other bytes); the rest are skipped.
    ok = lambda c: len(c) == 1 and c[0] < 0x80 and not c.isspace()
    lines = raw.split(b"\n")
    pieces, buf = [], []
    for ln in lines:
        if buf and len(buf) >= 2000 and ok(ln[:1]) and ok(buf[-1][-1:]):
            pieces.append(b"\n".join(buf) + b"\n")
            buf = []
        buf.append(ln)
    pieces.append(b"\n".join(buf))
    assert b"".join(pieces) == raw
    texts, valid = [], []
    for piece in pieces:
        try:
            texts.append(piece.decode("utf-8"))
            valid.append(True)
        except UnicodeDecodeError:
            valid.append(False)
    t0 = time.time()
    enc = iter(hf.encode_batch(texts, add_special_tokens=False))
    dt = time.time() - t0
    pos = same = compared = skipped_bytes = 0
    first = None
    for piece, is_valid in zip(pieces, valid):
        if not is_valid:
            n = 0
            while n < len(piece):
                n += length[ours[pos]]
                pos += 1
            skipped_bytes += len(piece)
            continue
        ids = next(enc).ids
        mine = list(ours[pos:pos + len(ids)])
        if first is None and mine != ids:
            k = next((k for k, (a, b) in enumerate(zip(mine, ids)) if a != b), min(len(mine), len(ids)))
            first = (pos + k, mine[k:k + 8], ids[k:k + 8])
        same += sum(1 for a, b in zip(mine, ids) if a == b)
        compared += len(ids)
        pos += len(ids)
    hf_bytes = len(raw) - skipped_bytes
    print(f"ours {len(ours)} tokens; HF encoded {hf_bytes} bytes ({hf_bytes / dt / 1e6:.2f} MB/s)"
          + (f", skipped {skipped_bytes} bytes in pieces that are not valid UTF-8" if skipped_bytes else ""))
    print(f"identical tokens: {same}/{compared} = {same / max(compared, 1):.6f}")
    if first is not None:
        print(f"first difference at token {first[0]}: ours {first[1]} HF {first[2]}")
    elif pos == len(ours):
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
        n = sum(len(e.ids) for e in t.encode_batch(texts, add_special_tokens=False))
        print(f"HF-trained V={args.vocab}: {dt:.2f} s, {hf_bytes / n:.3f} bytes/token on the text it encoded")


if __name__ == "__main__":
    main()
