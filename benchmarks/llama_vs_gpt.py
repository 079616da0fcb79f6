"""GPT-2's architecture against Llama's at equal parameter count and equal steps (stage 5).

    .venv/bin/python benchmarks/llama_vs_gpt.py                          # tiny, 5000 steps
    .venv/bin/python benchmarks/llama_vs_gpt.py --preset baby --iters 2000 --batch-size 12
    .venv/bin/python benchmarks/llama_vs_gpt.py --iters 20 --eval-batches 2   # a smoke test

Both models train on tinyshakespeare (characters, the 90/10 split of the stream) with the
recipe of `groundup train gpt`: AdamW (betas 0.9, 0.99; weight decay 0.1 on matrices),
linear warmup then cosine decay to lr/10, gradient clipping at 1.0, the same seed and so the
same batches. The GPT is the preset; the Llama has its layers, heads, width and context,
half as many key/value heads, and the SwiGLU width that brings its parameter count closest
to the GPT's. The table gives the parameters, the validation loss on the whole validation
split, the training wall time and the KV cache's memory per token (float32, batch 1).
Run it with one BLAS thread on a quiet machine (the wall times compare the two only then).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # small matrices: one thread is fastest
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from groundup.app.recipes import transformer_training  # noqa: E402
from groundup.data.text import load_text, split_tokens  # noqa: E402
from groundup.models.gpt import GPT, GPTConfig  # noqa: E402
from groundup.models.llama import Llama, llama_like  # noqa: E402
from groundup.models.transformer import KVCache  # noqa: E402
from groundup.tokenizers import CharTokenizer  # noqa: E402
from groundup.train import TokenBatches, evaluate, train  # noqa: E402


def run(model, batches: TokenBatches, args: argparse.Namespace) -> dict:
    """Train with `groundup train gpt`'s recipe, then measure; no evaluation while training."""
    optimizer, config = transformer_training(
        model, lr=args.lr, max_steps=args.iters, warmup_steps=min(100, args.iters),
        min_lr=args.lr / 10, eval_batches=0, seed=args.seed,
    )  # fmt: skip
    start = time.perf_counter()
    train(model, batches, optimizer, config)
    seconds = time.perf_counter() - start
    val = evaluate(model, batches, "val", num_batches=args.eval_batches or None)
    cache = KVCache(model.config, batch=1, dtype=np.float32)
    return {"params": model.num_parameters(), "val": val, "seconds": seconds,
            "cache": cache.bytes_per_token}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="tiny", choices=["tiny", "baby", "lecture"])
    parser.add_argument("--iters", type=int, default=5000, help="steps for each model (5000)")
    parser.add_argument("--batch-size", type=int, default=16, help="sequences per step (16)")
    parser.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (1e-3)")
    parser.add_argument("--seed", type=int, default=42, help="weights and batches (42)")
    parser.add_argument("--eval-batches", type=int, default=0,
                        help="validation batches (default 0: the whole split)")  # fmt: skip
    args = parser.parse_args()

    text = load_text("shakespeare")
    tokenizer = CharTokenizer.from_text(text)
    train_ids, val_ids = split_tokens(tokenizer.encode(text))
    gpt_config = GPTConfig.preset(args.preset, vocab_size=tokenizer.vocab_size, dropout=0.0)
    llama_config = llama_like(gpt_config)
    rows = {}
    for name, model in (("GPT-2", GPT(gpt_config, seed=args.seed)),
                        ("Llama", Llama(llama_config, seed=args.seed))):  # fmt: skip
        batches = TokenBatches({"train": train_ids, "val": val_ids}, args.batch_size,
                               gpt_config.block_size, seed=args.seed)  # fmt: skip
        rows[name] = run(model, batches, args)
        print(f"{name}: done in {rows[name]['seconds']:.1f} s", flush=True)

    print(f"\n{args.preset}: {args.iters} steps of batch {args.batch_size} x block "
          f"{gpt_config.block_size}, lr {args.lr}, seed {args.seed}; Llama: "
          f"{llama_config.num_key_value_heads} of {llama_config.num_attention_heads} heads "
          f"for keys/values, SwiGLU {llama_config.intermediate_size} wide\n")  # fmt: skip
    print("| model | parameters | val loss | wall time (s) | KV cache per token |")
    print("| --- | --- | --- | --- | --- |")
    for name, r in rows.items():
        print(f"| {name} | {r['params']:,} | {r['val']:.4f} | {r['seconds']:.1f} | "
              f"{r['cache']:,} bytes |")  # fmt: skip


if __name__ == "__main__":
    main()
