"""Generation speed of groundup's GPT with and without the KV cache, at block 256.

    .venv/bin/python benchmarks/gpt_generate.py                  # baby widths, block 256
    .venv/bin/python benchmarks/gpt_generate.py --preset lecture  # 6/6/384 (10.8M parameters)

Without the cache every new token reruns the model over the whole context (up to 256
tokens); with it, each step runs the model on one token and attends to the stored keys and
values. 500 new tokens from a one-token prompt outgrow block 256, so the cached run also
pays for its restarts (the cache is rebuilt from the last 128 tokens when full). Prints
tokens/s for both (median of repeats, same process, same threads) and the speed-up.
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="baby", help="GPT preset for the widths (baby)")
    parser.add_argument("--block-size", type=int, default=256, help="context length (256)")
    parser.add_argument("--tokens", type=int, default=500, help="new tokens per run (500)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each (3)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (1)")
    args = parser.parse_args()
    if os.environ.get("OMP_NUM_THREADS") != str(args.threads):  # fix threads before NumPy
        env = {
            **os.environ,
            **{
                v: str(args.threads)
                for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
            },
        }
        os.execve(sys.executable, [sys.executable, *sys.argv], env)

    import numpy as np

    from groundup.models.gpt import GPT, GPTConfig

    config = GPTConfig.preset(args.preset, block_size=args.block_size, dropout=0.0)
    model = GPT(config, seed=0)
    prompt = np.zeros((1, 1), dtype=np.int64)
    print(
        f"GPT {args.preset} widths ({config.n_layer}/{config.n_head}/{config.n_embd}), "
        f"block {config.block_size}, {model.num_parameters():,} parameters, "
        f"{args.tokens} new tokens, {args.threads} thread(s)"
    )
    model.generate(prompt, 8, seed=0)  # warm-up

    def tokens_per_sec(use_cache: bool) -> tuple[float, np.ndarray]:
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            out = model.generate(prompt, args.tokens, seed=1, use_cache=use_cache)
            times.append(time.perf_counter() - t0)
        return args.tokens / float(np.median(times)), out

    cached, out_cached = tokens_per_sec(True)
    full, out_full = tokens_per_sec(False)
    same = int((out_cached == out_full).all(axis=0).argmin()) or out_full.shape[1]
    print(f"  with KV cache     {cached:8.1f} tokens/s")
    print(f"  without (recompute){full:8.1f} tokens/s")
    print(f"  speed-up cache/recompute {cached / full:.1f}x (target >= 5x)")
    print(
        f"  the two samples agree on their first {same} tokens (the cache restarts at "
        f"{config.block_size}; before that the logits are the same)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
