#!/usr/bin/env python3
"""Check an `isoflop export-hf` folder against isoflop itself (needs `pip install torch transformers`).

Loads DIR with transformers' AutoModelForCausalLM and AutoTokenizer (no custom code), then reads
DIR/isoflop-check.json (written by `isoflop export-hf CKPT DIR --check-tokens FILE`) and compares:
  - the mean cross-entropy on the same windows (inputs and targets shifted by one), |delta| <= 1e-4;
  - greedy generation from the same prompt, token for token, against isoflop's greedy tokens
    (the same as `isoflop sample CKPT --ids PROMPT --temperature 0`); with --isoflop and
    --checkpoint the script also runs that command and compares its output;
  - the tokenizer: AutoTokenizer encodes a text and decodes it back unchanged.
Exits non-zero when a check fails.

usage: scripts/hf_export_check.py DIR [--isoflop .build/release/isoflop --checkpoint CKPT]
"""
import argparse
import json
import os
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--isoflop", help="isoflop binary, to run `isoflop sample` on --checkpoint")
    ap.add_argument("--checkpoint", help="the checkpoint the folder was exported from")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    args = ap.parse_args()

    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(1)
    model = AutoModelForCausalLM.from_pretrained(args.dir)
    model.eval()
    tok = AutoTokenizer.from_pretrained(args.dir)
    cfg = model.config
    print(f"transformers {transformers.__version__}, torch {torch.__version__}: {type(model).__name__} "
          f"n_embd={cfg.n_embd} n_layer={cfg.n_layer} n_head={cfg.n_head} n_positions={cfg.n_positions} "
          f"vocab={cfg.vocab_size}; {type(tok).__name__} with {len(tok)} tokens, eos {tok.eos_token!r}={tok.eos_token_id}")

    with open(os.path.join(args.dir, "isoflop-check.json")) as f:
        check = json.load(f)
    inputs = torch.tensor(check["inputs"], dtype=torch.long)
    targets = torch.tensor(check["targets"], dtype=torch.long)
    failures = []

    # Loss: our definition is the mean over every position of every window, the target being the
    # next token of the file (one past the window at the last position), so compute it from the
    # logits rather than with labels= (which would shift within the window and drop a position).
    with torch.no_grad():
        logits = model(input_ids=inputs).logits
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]).double(),
                                                 targets.reshape(-1)).item()
    delta = abs(loss - check["loss"])
    ok = delta <= args.tolerance
    print(f"loss on {inputs.shape[0]}x{inputs.shape[1]} tokens: transformers {loss:.7f}, isoflop {check['loss']:.7f}, "
          f"|delta| {delta:.2e} ({'ok' if ok else 'FAIL'}, tolerance {args.tolerance:g})")
    if not ok:
        failures.append("loss")

    prompt = check["prompt"]
    ours = check["greedy"]
    with torch.no_grad():
        out = model.generate(torch.tensor([prompt]), max_new_tokens=len(ours) - len(prompt), do_sample=False,
                             num_beams=1, pad_token_id=tok.eos_token_id, eos_token_id=None)
    theirs = out[0].tolist()
    same = theirs == ours
    first = next((i for i, (a, b) in enumerate(zip(theirs, ours)) if a != b), None)
    print(f"greedy: {len(ours) - len(prompt)} tokens after a {len(prompt)}-token prompt: "
          + ("identical" if same else f"FAIL, first difference at {first}: {theirs[first:first + 5]} vs {ours[first:first + 5]}"))
    if not same:
        failures.append("greedy")

    if args.isoflop and args.checkpoint:
        cmd = [args.isoflop, "sample", args.checkpoint, "--ids", ",".join(map(str, prompt)),
               "--count", str(len(ours) - len(prompt)), "--temperature", "0"]
        printed = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()
        sampled = [int(t) for t in printed.split(",")]
        agree = sampled == theirs
        print(f"`isoflop sample --temperature 0`: {'identical to transformers' if agree else 'FAIL, differs from transformers'}")
        if not agree:
            failures.append("sample")

    text = "def f(x):\n    return x + 1  # <|endoftext|> é"
    ids = tok(text)["input_ids"]
    back = tok.decode(ids)
    rt = back == text
    print(f"tokenizer: {len(ids)} tokens for {len(text)} characters, decode(encode(text)) == text: {rt}")
    if not rt:
        failures.append("tokenizer")

    print("all checks passed" if not failures else "FAILED: " + ", ".join(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
