"""Where a groundup GPT training step's time goes: each op's forward and backward, per step.

    .venv/bin/python benchmarks/gpt_step_parts.py                        # baby, 1 thread
    .venv/bin/python benchmarks/gpt_step_parts.py --shape lecture --threads 2 --steps 8

The model, batches and AdamW of benchmarks/gpt_train.py (dropout off, clipping at 1.0).
After a few warm-up steps, every op's forward and backward is timed (``perf_counter``
around each call) and printed as ms per step with its calls per step, beside the step's
phases (forward, backward, clipping, the optimizer) and the NumPy matmul floor of the same
shapes in its two parts: the Linear layers' products and attention's. The timers add a
little to every call, so the step's median is printed with them on. The step runs in one
piece at any thread count, not in the shards of ``groundup.train.shards`` (two threads' op
times would add up in one column). No PyTorch here: this
is a profile of ours, not a comparison (benchmarks/gpt_train.py is that).
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WARMUP = 3


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", default="baby", choices=["tiny", "baby", "lecture"],
                        help="preset of benchmarks/gpt_train.py (default baby)")  # fmt: skip
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads, fixed before NumPy loads (default 1)")  # fmt: skip
    parser.add_argument("--steps", type=int, default=20,
                        help="timed steps, after 3 warm-up steps (default 20)")  # fmt: skip
    args = parser.parse_args()
    for flag, value in (("--threads", args.threads), ("--steps", args.steps)):
        if value < 1:
            parser.error(f"{flag} {value}: expected a whole number >= 1")
    return args


def timed_ops(totals: dict, calls: collections.Counter) -> None:
    """Wrap the forward and backward of every Function subclass so each call adds its
    seconds to totals[(name, "forward" | "backward")]."""
    from groundup.tensor.function import Function

    def subclasses(cls: type) -> list[type]:
        return [c for s in cls.__subclasses__() for c in (s, *subclasses(s))]

    def timed(run, key):
        def call(self, *args, **kwargs):
            t0 = time.perf_counter()
            out = run(self, *args, **kwargs)
            totals[key] += time.perf_counter() - t0
            calls[key] += 1
            return out

        return call

    for cls in set(subclasses(Function)):
        for phase in ("forward", "backward"):
            if phase in vars(cls):
                setattr(cls, phase, timed(vars(cls)[phase], (cls.__name__, phase)))


def main() -> int:
    args = parse()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    sys.path[:0] = [str(REPO / "src"), str(REPO / "benchmarks")]
    import gpt_train as G
    import numpy as np

    from groundup._allocator import keep_freed_memory
    from groundup.models.gpt import GPT, GPTConfig
    from groundup.optim import AdamW, clip_grad_norm_

    keep_freed_memory()  # as the groundup command does
    model = GPT(GPTConfig(**G.SHAPES[args.shape][0], dropout=0.0), seed=G.SEED)
    model.train()
    opt = AdamW(model.optim_groups(G.WEIGHT_DECAY), lr=G.LR, betas=G.BETAS,
                weight_decay=G.WEIGHT_DECAY)  # fmt: skip
    batches = G.make_batches(WARMUP + args.steps, args.shape)
    totals: dict = collections.defaultdict(float)
    calls: collections.Counter = collections.Counter()
    phases: dict = collections.defaultdict(float)
    timed_ops(totals, calls)

    def step(x, y) -> float:
        t0 = time.perf_counter()
        _, loss = model(x, y)
        t1 = time.perf_counter()
        opt.zero_grad()
        loss.backward()
        t2 = time.perf_counter()
        clip_grad_norm_(model.parameters(), G.CLIP)
        t3 = time.perf_counter()
        opt.step()
        t4 = time.perf_counter()
        for name, seconds in (("forward", t1 - t0), ("backward", t2 - t1),
                              ("clip", t3 - t2), ("optimizer", t4 - t3)):  # fmt: skip
            phases[name] += seconds
        return t4 - t0

    for x, y in batches[:WARMUP]:
        step(x, y)
    totals.clear(), calls.clear(), phases.clear()
    steps = [step(x, y) for x, y in batches[WARMUP:]]
    n, ms = args.steps, 1e3 / args.steps
    print(f"{args.shape}, {args.threads} BLAS thread(s), {n} steps: "
          f"{1e3 * float(np.median(steps)):.1f} ms/step (median, timers on)")  # fmt: skip
    print("  " + ", ".join(f"{name} {seconds * ms:.1f}" for name, seconds in phases.items())
          + " ms/step")  # fmt: skip
    floor = G.matmul_floor_parts(args.shape)
    print(f"  NumPy matmul floor: Linear layers {floor['linear']:.1f} ms, "
          f"attention {floor['attention']:.1f} ms")  # fmt: skip
    print(f"\n  {'op':<22} {'pass':<9} {'calls':>5} {'ms/step':>9}")
    for (name, phase), seconds in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<22} {phase:<9} {calls[name, phase] // n:>5} {seconds * ms:>9.3f}")
    print(f"  {'all ops':<22} {'':<9} {'':>5} {sum(totals.values()) * ms:>9.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
